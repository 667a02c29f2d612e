#!/usr/bin/env bats
# Namespaces of a tree's own: uts (host and domain name), ipc (System V
# shared memory with its contents, attached or not, semaphores, message
# queues, the ipc sysctls) and pid (the root is pid 1 of its namespace),
# made by unshare as a container runtime makes them
# (tests/workloads/container.c checks everything after restore).

load helpers

setup() {
	requires root unshare
}

teardown() {
	wl_cleanup
}

@test "namespaces: uts and ipc namespaces with SysV objects survive dump and restore" {
	WL_WRAP="unshare --uts --ipc" wl_start container
	wl_dump
	for img in utsns ipcns-var ipcns-shm ipcns-sem ipcns-msg; do
		compgen -G "$WL_DIR/img/$img-*.img" >/dev/null || fail "no $img image"
	done
	# The namespaces are made anew: the inventory names ocicr's own.
	run "$OCICR" image decode -i "$WL_DIR/img/inventory.img"
	inv_uts=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"][0]["root_ids"]["uts_ns_id"])' <<<"$output")
	run "$OCICR" image decode -i "$WL_DIR/img/ids-$WL_PID.img"
	ids_uts=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"][0]["uts_ns_id"])' <<<"$output")
	[ "$inv_uts" != "$ids_uts" ] || fail "the root's uts namespace id $ids_uts is the inventory's"
	[ -e "$WL_DIR/img/utsns-$ids_uts.img" ] || fail "no utsns-$ids_uts.img"
	wait_tree_gone
	hostname_before=$(hostname)
	wl_restore
	[ "$(hostname)" = "$hostname_before" ] || fail "the host's name changed"
	wl_expect_pass
}

# A container as runtimes make them: pid 1 of its own pid namespace, with
# its own uts and ipc namespaces.
@test "namespaces: a pid namespace's init with children keeps every pid inside, its names and SysV objects" {
	WL_WRAP="unshare --pid --uts --ipc --fork setsid" WL_WRAP_FORKS=1 wl_start container
	outer=$WL_PID
	wl_dump
	# The images speak of the namespace's pids: the root is 1.
	[ -e "$WL_DIR/img/core-1.img" ] || fail "no core-1.img: $(ls "$WL_DIR/img")"
	run "$OCICR" image decode -i "$WL_DIR/img/pstree.img"
	assert_success
	python3 -c 'import json,sys; e=json.load(sys.stdin)["entries"]; assert e[0]["pid"]==1 and e[0]["sid"]==1, e[0]; assert all(x["ppid"] in (0,1) or x["ppid"] in [y["pid"] for y in e] for x in e), e; assert len(e)==3, e' <<<"$output" ||
		fail "pstree.img: $output"
	wait_gone "$outer"
	run ocicr restore --plan-only -D "$WL_DIR/img"
	assert_success
	assert_line "new namespaces for the root: pid ipc uts"
	wl_restore_root
	[ "$(sed -n 's/^NSpid:[[:space:]]*[0-9]*[[:space:]]*//p' "/proc/$WL_PID/status")" = 1 ] ||
		fail "restored root $WL_PID: $(grep NSpid "/proc/$WL_PID/status")"
	wl_expect_pass
}

@test "namespaces: a time namespace's clocks go on from where they were, in a new one made with its offsets" {
	export TIMENS_OFFSET=100000
	WL_WRAP="unshare --time --monotonic $TIMENS_OFFSET --boottime $TIMENS_OFFSET --fork setsid" WL_WRAP_FORKS=1 \
		wl_start timens
	outer=$(cat "$WL_DIR/pid")
	wl_dump
	id=$(crit_get "$WL_DIR/img/ids-$WL_PID.img" 'img["entries"][0]["time_ns_id"]')
	# As CRIU: the clocks as the tree saw them, in its namespace's image.
	run crit_get "$WL_DIR/img/timens-$id.img" 'img["entries"][0]["monotonic"]["tv_sec"] >= '"$TIMENS_OFFSET"
	assert_output True
	[ ! -e "$WL_DIR/img/timens-0.img" ] || fail "timens-0.img beside timens-$id.img"
	wait_gone "$outer"
	wl_restore_root
	[ "$(readlink "/proc/$WL_PID/ns/time")" != "$(readlink /proc/self/ns/time)" ] || fail "restored in our time namespace"
	wl_expect_pass
}

# dump_refused PID TEXT: a dump of PID fails saying TEXT, and the
# workload runs on untraced and passes.
dump_refused() {
	run ocicr dump -t "$1" -D "$WL_DIR/img"
	assert_failure
	assert_output --partial "$2"
	[ "$(task_state "$1")" != t ] || fail "task $1 is still traced"
	wl_expect_pass
}

@test "namespaces: a task that is not the init of its pid namespace is refused by name, and runs on" {
	WL_WRAP="unshare --pid --uts --ipc --fork setsid" WL_WRAP_FORKS=1 wl_start container
	child=$(pgrep -P "$WL_PID" | head -1)
	[ -n "$child" ] || fail "no child of $WL_PID"
	dump_refused "$child" "not its init"
}

@test "namespaces: a tree of several tasks in a user namespace of its own but ocicr's pid namespace is refused at dump by name, and runs on" {
	WL_WRAP="unshare --user --map-root-user --fork setsid" WL_WRAP_FORKS=1 wl_start tree
	dump_refused "$WL_PID" "needs a pid namespace of its own too"
}

@test "namespaces: a task whose children's time namespace is not its own is refused at dump by name, and runs on" {
	wl_start timens_kids
	dump_refused "$WL_PID" "made a time namespace for its children"
}

@test "namespaces: images whose tree had a user namespace of its own but no userns image are refused at restore, nothing made" {
	wl_start tree
	wl_dump
	wait_tree_gone
	# As CRIU writes them: the inventory names its own, every task another.
	"$OCICR" image decode -i "$WL_DIR/img/inventory.img" >"$WL_DIR/inventory.json"
	for f in "$WL_DIR"/img/ids-*.img; do
		"$OCICR" image decode -i "$f" >"${f%.img}.json"
	done
	python3 - "$WL_DIR/inventory.json" "$WL_DIR"/img/ids-*.json <<-'PY'
		import json, sys
		inv = json.load(open(sys.argv[1]))
		for p in sys.argv[2:]:
		    ids = json.load(open(p))
		    inv["entries"][0]["root_ids"]["user_ns_id"] = ids["entries"][0]["user_ns_id"]
		    ids["entries"][0]["user_ns_id"] = 99
		    json.dump(ids, open(p, "w"))
		json.dump(inv, open(sys.argv[1], "w"))
	PY
	"$OCICR" image encode -i "$WL_DIR/inventory.json" -o "$WL_DIR/img/inventory.img"
	for f in "$WL_DIR"/img/ids-*.json; do
		"$OCICR" image encode -i "$f" -o "${f%.json}.img"
		rm "$f"
	done
	run ocicr restore -D "$WL_DIR/img" -d
	assert_failure
	assert_output --partial "userns-99.img"
	no_task_left
}

# No task of the dumped tree may be left: the workload's folder names it.
no_task_left() {
	! pgrep -f "$WL_DIR/ready" >/dev/null || fail "tasks left: $(pgrep -af "$WL_DIR/ready")"
}

@test "namespaces: a restore missing a namespace's image fails naming it, before anything is made" {
	WL_WRAP="unshare --pid --uts --ipc --fork setsid" WL_WRAP_FORKS=1 wl_start container
	outer=$WL_PID
	wl_dump
	wait_gone "$outer"
	rm "$WL_DIR"/img/utsns-*.img
	run ocicr restore -D "$WL_DIR/img" -d
	assert_failure
	assert_output --partial "utsns-"
	assert_output --partial "missing"
	no_task_left
}

@test "namespaces: a namespace that cannot be filled fails the restore and leaves no task behind" {
	WL_WRAP="unshare --pid --uts --ipc --fork setsid" WL_WRAP_FORKS=1 wl_start container
	outer=$WL_PID
	wl_dump
	wait_gone "$outer"
	# A queue limit below what its messages take: queueing them fails
	# once the root exists, inside its new namespaces.
	img=$(ls "$WL_DIR"/img/ipcns-msg-*.img)
	"$OCICR" image decode -i "$img" >"$WL_DIR/msg.json"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["entries"][0]["qbytes"]=4; json.dump(d, open(sys.argv[1],"w"))' "$WL_DIR/msg.json"
	"$OCICR" image encode -i "$WL_DIR/msg.json" -o "$img"
	run ocicr restore -D "$WL_DIR/img" -d
	assert_failure
	assert_output --partial "cannot queue message"
	no_task_left
}

@test "namespaces: a snapshot (-R) of a pid namespace leaves it running as it was, and restores" {
	WL_WRAP="unshare --pid --uts --ipc --fork setsid" WL_WRAP_FORKS=1 wl_start container
	outer=$WL_PID
	wl_dump -R
	[ "$(tracer_of "$outer")" = 0 ] || fail "task $outer is still traced"
	[ "$(pgrep -P "$outer" | wc -l)" = 1 ] || fail "children of $outer after the snapshot: $(pgrep -aP "$outer")"
	wl_expect_pass
	wait_gone "$outer"
	rm -f "$WL_DIR/result"
	wl_restore_root
	wl_expect_pass
}

@test "namespaces: CRIU 4.2's images of a runc container load: its pid, ipc, uts and mount namespaces are to be made" {
	requires shared
	ext=()
	for k in /wl /dev/null /sys/fs/cgroup/{systemd,pids,blkio,freezer,devices,memory,cpuset,cpuacct,cpu}; do
		ext+=(--external "mnt[$k]:$k")
	done
	run ocicr restore --plan-only -D "$SHARED/fixtures/criu-4.2-ctr/images" --root "$BATS_TEST_TMPDIR" "${ext[@]}" \
		--join-ns net:/proc/self/ns/net
	assert_success
	assert_line "new namespaces for the root: pid ipc uts mnt"
	refute_output --partial "mnt namespace of its own; it is restored into ocicr's"
	# Its mount tree needs the root file system and every external mount.
	run ocicr restore --plan-only -D "$SHARED/fixtures/criu-4.2-ctr/images" "${ext[@]}" --join-ns net:/proc/self/ns/net
	assert_failure
	assert_output --partial "give its root file system with --root DIR"
	run ocicr restore --plan-only -D "$SHARED/fixtures/criu-4.2-ctr/images" --root "$BATS_TEST_TMPDIR" "${ext[@]:2}" \
		--join-ns net:/proc/self/ns/net
	assert_failure
	assert_output --partial "external mount /wl (at /wl) is not given"
	# Its network namespace came from outside: it must be given again.
	run ocicr restore --plan-only -D "$SHARED/fixtures/criu-4.2-ctr/images" --root "$BATS_TEST_TMPDIR" "${ext[@]}"
	assert_failure
	assert_output --partial "the net namespace was external (extRootNetNS) and is not given: --inherit-fd fd[N]:extRootNetNS"
}

@test "namespaces: a child in a uts namespace of its own (nested) is refused by name, and the tree runs on" {
	mkdir -p "$BATS_TEST_TMPDIR/nested"
	(
		cd "$BATS_TEST_TMPDIR/nested" || exit 1
		setsid unshare --uts --ipc sh -c 'unshare --uts sleep 1000 & wait' </dev/null >/dev/null 2>&1 &
		echo $! >pid
	)
	root=$(cat "$BATS_TEST_TMPDIR/nested/pid")
	wait_for 20 pgrep -s "$root" -x sleep || fail "no nested sleep in session $root"
	run ocicr dump -t "$root" -D "$BATS_TEST_TMPDIR/nested"
	kill_nested() { pkill -9 -s "$root" 2>/dev/null || true; }
	if [ "$status" -eq 0 ]; then
		kill_nested
		fail "the dump of a nested uts namespace succeeded"
	fi
	assert_output --partial "nested uts namespaces are not supported"
	[ -e "/proc/$root" ] && [ "$(task_state "$root")" != t ] || { kill_nested; fail "task $root did not run on"; }
	[ ! -e "$BATS_TEST_TMPDIR/nested/inventory.img" ] || { kill_nested; fail "an image set was left"; }
	kill_nested
}

@test "namespaces: a child in a time namespace of its own below ocicr's (nested) is refused by name, and the tree runs on" {
	requires unshare
	mkdir -p "$BATS_TEST_TMPDIR/nested"
	(
		cd "$BATS_TEST_TMPDIR/nested" || exit 1
		# The root stays in ocicr's time namespace; its child's exec
		# enters the one unshare made.
		setsid sh -c 'unshare --time sleep 1000 & wait' </dev/null >/dev/null 2>&1 3>&- &
		echo $! >pid
	)
	root=$(cat "$BATS_TEST_TMPDIR/nested/pid")
	kill_nested() { pkill -9 -s "$root" 2>/dev/null || true; }
	wait_for 20 pgrep -s "$root" -x sleep || { kill_nested; fail "no nested sleep in session $root"; }
	run ocicr dump -t "$root" -D "$BATS_TEST_TMPDIR/nested"
	if [ "$status" -eq 0 ]; then
		kill_nested
		fail "the dump of a nested time namespace succeeded"
	fi
	assert_output --partial "nested time namespaces are not supported"
	[ -e "/proc/$root" ] && [ "$(task_state "$root")" != t ] || { kill_nested; fail "task $root did not run on"; }
	kill_nested
}

@test "namespaces: SysV segments whose contents are in pagemaps, as CRIU 4.x writes them, restore" {
	WL_WRAP="unshare --uts --ipc" wl_start container
	wl_dump
	wait_tree_gone
	python3 "$BATS_TEST_DIRNAME/ipc_to_pagemaps.py" "$OCICR" "$WL_DIR/img"
	ls "$WL_DIR"/img/pagemap-shmem-*.img >/dev/null || fail "no pagemap-shmem image made"
	wl_restore
	wl_expect_pass
}

# check_nested_images DIR: C (the root's child) made a pid namespace by
# unshare; G is its init, H its pid 2 (its thread T tid 3): their pids below the tree's, their
# namespace, and C's for its children, as ocicr writes them.
check_nested_images() {
	"$OCICR" image decode -i "$1/pstree.img" >"$1/pstree.json"
	for f in "$1"/ids-*.img; do
		"$OCICR" image decode -i "$f" >"${f%.img}.json"
	done
	python3 - "$1" <<-'PY' || fail "nested pid namespace images: $(cat "$1/pstree.json")"
		import json, sys
		d = sys.argv[1]
		tasks = json.load(open(d + "/pstree.json"))["entries"]
		assert len(tasks) == 4, tasks
		ids = {t["pid"]: json.load(open("%s/ids-%d.json" % (d, t["pid"])))["entries"][0] for t in tasks}
		root, c, g, h = tasks
		assert [t.get("ns_pids", []) for t in tasks] == [[], [], [1], [2]], tasks
		# H's thread T: tid 3 in G's namespace
		assert len(h["threads"]) == 2 and h.get("ns_tids") == [3], h
		assert all("ns_tids" not in t for t in (root, c, g)), tasks
		assert g["ppid"] == c["pid"] and h["ppid"] == g["pid"], tasks
		assert ids[c["pid"]]["pid_ns_id"] == ids[root["pid"]]["pid_ns_id"], ids
		assert ids[g["pid"]]["pid_ns_id"] == ids[h["pid"]]["pid_ns_id"] != ids[c["pid"]]["pid_ns_id"], ids
		assert ids[c["pid"]]["pid_for_children_ns_id"] == ids[g["pid"]]["pid_ns_id"], ids
		assert all("pid_for_children_ns_id" not in ids[t["pid"]] for t in (root, g, h)), ids
	PY
}

# A pid namespace nested below the tree's (tests/workloads/pidns_nested.c):
# each task comes back with its pids at every level, the nested init still
# reaps an orphan, and the task that unshared it still forks into it.
@test "namespaces: a pid namespace nested below ocicr's keeps every task's pids at every level and its init's reaping" {
	wl_start pidns_nested
	wl_dump
	check_nested_images "$WL_DIR/img"
	wait_tree_gone
	# CRIU 4.2 cannot restore nested pid namespaces: it says so and
	# makes nothing (the pids below the tree's are ocicr's own field).
	if [ -x "${CRIU_REF:-}" ]; then
		run "$CRIU_REF" restore -D "$WL_DIR/img" -d -o criu-restore.log
		[ "$status" -ne 0 ] || fail "CRIU restored ocicr's nested pid namespace"
		grep -q "Can't restore sub-task in NS" "$WL_DIR/img/criu-restore.log" ||
			fail "CRIU: $(tail -3 "$WL_DIR/img/criu-restore.log")"
		wait_tree_gone
	fi
	wl_restore
	wl_expect_pass
}

@test "namespaces: a pid namespace nested below a tree's own is restored inside the new one with every pid" {
	WL_WRAP="unshare --pid --fork setsid" WL_WRAP_FORKS=1 wl_start pidns_nested
	outer=$WL_PID
	wl_dump
	[ -e "$WL_DIR/img/core-1.img" ] || fail "no core-1.img: $(ls "$WL_DIR/img")"
	check_nested_images "$WL_DIR/img"
	wait_gone "$outer"
	wl_restore_root
	wl_expect_pass
}

# itimer_out_of_range CORE: the task of core image CORE gets an interval
# timer of 2,000,000 microseconds, which setitimer() refuses: its restore
# fails late, in the restorer, once every task exists.
itimer_out_of_range() {
	"$OCICR" image decode -i "$1" >"$1.json"
	python3 - "$1.json" <<-'PY'
		import json, sys
		d = json.load(open(sys.argv[1]))
		d["entries"][0]["tc"]["timers"]["real"] = {"isec": 1, "iusec": 2000000, "vsec": 1, "vusec": 0}
		json.dump(d, open(sys.argv[1], "w"))
	PY
	"$OCICR" image encode -i "$1.json" -o "$1"
	rm "$1.json"
}

# A nested pid namespace's init (G, pid 3 of the tree's namespace) fails
# late, after every task exists; its death kills H.
# The error names G's failure, not H's death, and nothing is left.
@test "namespaces: a restore that fails in a nested pid namespace's init names that task's failure and leaves no task behind" {
	WL_WRAP="unshare --pid --fork setsid" WL_WRAP_FORKS=1 wl_start pidns_nested
	outer=$WL_PID
	wl_dump
	wait_gone "$outer"
	itimer_out_of_range "$WL_DIR/img/core-3.img"
	run ocicr restore -D "$WL_DIR/img" -d
	assert_failure
	assert_output --partial "restoring task 3: the restorer failed while interval timers"
	no_task_left
}

# The same below ocicr's pid namespace, failing in H: C and G die with it,
# reaped by ocicr before it returns (no zombie waits for init, holding a
# pid of the tree).
@test "namespaces: a restore that fails below a nested pid namespace leaves not even a zombie of the tree" {
	wl_start pidns_nested
	wl_dump
	wait_tree_gone
	local pids h
	pids=$(ls "$WL_DIR"/img/core-*.img | sed 's|.*/core-\([0-9]*\)\.img|\1|')
	h=$(crit_get "$WL_DIR/img/pstree.img" 'img["entries"][-1]["pid"]')
	itimer_out_of_range "$WL_DIR/img/core-$h.img"
	run ocicr restore -D "$WL_DIR/img" -d
	assert_failure
	assert_output --partial "the restorer failed while interval timers"
	for p in $pids; do
		[ ! -e "/proc/$p" ] || fail "task $p is left: $(cat "/proc/$p/stat")"
	done
}

# The snapshot's twin of C is forked into the namespace C unshared (its
# namespace for children), not C's own: it is found there, and reaped.
@test "namespaces: a snapshot (-R) of a tree with a nested pid namespace leaves it running as it was, and restores" {
	wl_start pidns_nested
	wl_dump -R
	check_nested_images "$WL_DIR/img"
	g=$(crit_get "$WL_DIR/img/pstree.img" 'img["entries"][2]["pid"]')
	[ "$(pgrep -P "$g" | wc -l)" = 1 ] || fail "children of G ($g) after the snapshot: $(pgrep -aP "$g")"
	[ "$(tracer_of "$g")" = 0 ] || fail "task $g is still traced"
	wl_expect_pass
	wait_tree_gone
	rm -f "$WL_DIR/result"
	wl_restore
	wl_expect_pass
}

# unshare --pid without --fork: the task's children would go to a pid
# namespace that has no init yet, which no image can say.
@test "namespaces: a task that unshared a pid namespace it made no init for is refused by name, and runs on" {
	mkdir -p "$BATS_TEST_TMPDIR/unshared/img"
	(
		cd "$BATS_TEST_TMPDIR/unshared" || exit 1
		setsid unshare --pid sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
		echo $! >pid
	)
	pid=$(cat "$BATS_TEST_TMPDIR/unshared/pid")
	refused() {
		kill -9 "$pid" 2>/dev/null || true
		fail "$@"
	}
	wait_for 20 sh -c '[ "$(readlink "/proc/$1/exe")" = "$2" ]' _ "$pid" "$(readlink -f /bin/sleep)" ||
		refused "no sleep $pid"
	# (No link at all until that namespace has its init.)
	[ ! -e "/proc/$pid/ns/pid_for_children" ] || refused "task $pid has a pid namespace for its children"
	run ocicr dump -t "$pid" -D "$BATS_TEST_TMPDIR/unshared/img"
	[ "$status" -ne 0 ] || refused "the dump succeeded"
	[[ "$output" == *"made a pid namespace for its children (unshare) but no init in it yet"* ]] ||
		refused "unexpected output: $output"
	[ "$(task_state "$pid")" != t ] || refused "task $pid is still traced"
	[ ! -e "$BATS_TEST_TMPDIR/unshared/img/inventory.img" ] || refused "an image set was left"
	kill -9 "$pid"
}
