#!/usr/bin/env bats
# cgroups: a tree in v1 (pids, memory, cpu) and v2 cgroups of its own,
# dumped into cgroup.img and restored with each --manage-cgroups mode, under
# another root (--cgroup-root), in a cgroup namespace of its own, frozen
# through the freezer cgroup (--freeze-cgroup); failed restores remove the
# cgroups they made, failed dumps leave the freezer thawed.  The workload
# (tests/workloads/cgroups.c) checks from inside that parent and child see
# their cgroups and limits as before, through their own view of the
# hierarchies (as a container does).

load helpers

V1=/sys/fs/cgroup

setup() {
	requires root
	for h in pids memory cpu unified; do
		[ -e "$V1/$h/cgroup.procs" ] || skip "no cgroup hierarchy at $V1/$h"
	done
	CG=ocicr-cgt-$$-${BATS_TEST_NUMBER}
	# Runs the workload in the cgroups CG_JOIN names (their cgroup.procs).
	cat >"$BATS_TEST_TMPDIR/cgjoin" <<'EOF'
#!/bin/sh
for f in $CG_JOIN; do echo $$ >"$f" || exit 1; done
exec "$@"
EOF
	chmod +x "$BATS_TEST_TMPDIR/cgjoin"
}

# Remove cgroup directory $1 (of any hierarchy) and everything below it.
rm_cgroup() {
	[ -d "$1" ] || return 0
	find "$1" -depth -type d -exec rmdir {} \; 2>/dev/null || true
}

teardown() {
	# Thawed first: a frozen task dies of SIGKILL only once thawed.
	if [ -n "${FREEZER:-}" ] && [ -e "$FREEZER/freezer.state" ]; then
		echo THAWED >"$FREEZER/freezer.state"
	elif [ -n "${FREEZER:-}" ] && [ -e "$FREEZER/cgroup.freeze" ]; then
		echo 0 >"$FREEZER/cgroup.freeze"
	fi
	# The tree workload's session leader child is in a session of its own.
	if [ "${WL_NAME:-}" = tree ] && [ -n "${FREEZER:-}" ] && [ -e "$FREEZER/cgroup.procs" ]; then
		for t in $(cat "$FREEZER/cgroup.procs"); do kill -9 "$t" 2>/dev/null; done
	fi
	wl_cleanup
	[ -z "${YARD_NS:-}" ] || kill "$YARD_NS" 2>/dev/null || true
	if [ -n "${FREEZER:-}" ] && [ -e "$FREEZER/freezer.state" ]; then
		for t in $(cat "$FREEZER/tasks"); do echo "$t" >"$V1/freezer/tasks"; done
	fi
	# Every hierarchy: a full restore makes the cgroups in all of them.
	for h in "$V1"/*/; do
		for d in "$h$CG" "$h$CG-new" "$h$CG-other"; do
			rm_cgroup "$d"
		done
	done
}

# The cgroups of the test: limits in the parent's, a pids child cgroup of
# its own for the workload's child.
make_cgroups() {
	mkdir -p "$V1/pids/$CG/child" "$V1/memory/$CG" "$V1/cpu/$CG" "$V1/unified/$CG"
	echo 64 >"$V1/pids/$CG/pids.max"
	echo 7 >"$V1/pids/$CG/child/pids.max"
	echo 268435456 >"$V1/memory/$CG/memory.limit_in_bytes"
	echo 256 >"$V1/cpu/$CG/cpu.shares"
	echo 9 >"$V1/unified/$CG/cgroup.max.descendants"
}

# Start the workload in them; its child enters the child cgroup.
start_in_cgroups() {
	make_cgroups
	mkdir -p "$BATS_TEST_TMPDIR/cgroups"
	echo "$V1/pids/$CG/child/cgroup.procs" >"$BATS_TEST_TMPDIR/cgroups/CHILD_CG"
	export CG_JOIN="$V1/pids/$CG/cgroup.procs $V1/memory/$CG/cgroup.procs $V1/cpu/$CG/cgroup.procs $V1/unified/$CG/cgroup.procs"
	WL_WRAP="$BATS_TEST_TMPDIR/cgjoin ${1:-}" wl_start cgroups
	unset CG_JOIN
	CHILD=$(pgrep -P "$WL_PID" | head -1)
	[ -n "$CHILD" ] || fail "the workload has no child"
}

# cgroup_of PID HIERARCHY ("pids", "" for v2): its path there.
cgroup_of() {
	sed -n "s/^[0-9]*:$2:\\(.*\\)/\\1/p" "/proc/$1/cgroup"
}

# The workload's tree is where it was, seen from outside.
check_membership() {
	local root=${1:-/$CG}
	assert_equal "$(cgroup_of "$WL_PID" pids)" "$root"
	assert_equal "$(cgroup_of "$WL_PID" memory)" "$root"
	assert_equal "$(cgroup_of "$WL_PID" cpu)" "$root"
	assert_equal "$(cgroup_of "$WL_PID" "")" "$root"
	assert_equal "$(cgroup_of "$CHILD" pids)" "$root/child"
	assert_equal "$(cgroup_of "$CHILD" memory)" "$root"
}

# Every cgroup of the test gone (the tree must be gone first).
remove_cgroups() {
	for h in pids memory cpu unified; do
		rm_cgroup "$V1/$h/$CG"
		[ ! -d "$V1/$h/$CG" ] || fail "cannot remove $V1/$h/$CG"
	done
}

# cgroup.img as JSON: python expression $1 on it as `cg`.
cgroup_img() {
	"$OCICR" image decode -i "$WL_DIR/img/cgroup.img" |
		python3 -c 'import json, sys; cg = json.load(sys.stdin)["entries"][0]; print(eval(sys.argv[1]))' "$1"
}

@test "cgroups: the sets and the properties of the tree's cgroups go to cgroup.img as CRIU writes them" {
	start_in_cgroups
	wl_dump
	# The parent's and the child's sets, each naming every hierarchy.
	assert_equal "$(cgroup_img 'len(cg["sets"])')" 2
	assert_equal "$(cgroup_img '[c["path"] for s in cg["sets"] for c in s["ctls"] if c["name"] == "pids"]')" \
		"['/$CG', '/$CG/child']"
	names=$(cgroup_img '[c["name"] for c in cg["sets"][0]["ctls"]]')
	[[ $names == "['', "* ]] || fail "the set is not sorted by name as CRIU sorts it: $names"
	# pids: the parent's cgroup with its child below, their limits.
	assert_equal "$(cgroup_img '[(d["dir_name"], [p["value"] for p in d["properties"] if p["name"] == "pids.max"], [c["dir_name"] for c in d.get("children", [])]) for c in cg["controllers"] if c["cnames"] == ["pids"] for d in c["dirs"]]')" \
		"[('$CG', ['64'], ['child'])]"
	assert_equal "$(cgroup_img '[p["value"] for c in cg["controllers"] if c["cnames"] == ["cpu"] for d in c["dirs"] for p in d["properties"] if p["name"] == "cpu.shares"]')" "['256']"
	assert_equal "$(cgroup_img '[p["value"] for c in cg["controllers"] if c["cnames"] == [""] for d in c["dirs"] for p in d["properties"] if p["name"] == "cgroup.max.descendants"]')" "['9']"
	assert_equal "$(cgroup_img 'sorted((c["cnames"][0], c.get("is_threaded")) for c in cg["controllers"] if c["cnames"] in (["pids"], [""]))')" \
		"[('', False), ('pids', True)]"
	# Each thread names its set; the inventory names ocicr's own as 1.
	run "$OCICR" image decode -i "$WL_DIR/img/core-$WL_PID.img"
	assert_output --partial '"cg_set": 2'
	run "$OCICR" image decode -i "$WL_DIR/img/core-$CHILD.img"
	assert_output --partial '"cg_set": 3'
	wait_tree_gone
	# Default mode (soft): the cgroups exist, the tasks go back into them.
	wl_restore
	check_membership
	wl_expect_pass
}

@test "cgroups: with the cgroups gone, soft, full and strict make them again with their limits" {
	start_in_cgroups
	wl_dump
	wait_tree_gone
	for mode in soft full strict; do
		remove_cgroups
		wl_restore --manage-cgroups="$mode"
		check_membership
		assert_equal "$(cat "$V1/pids/$CG/pids.max")" 64
		assert_equal "$(cat "$V1/pids/$CG/child/pids.max")" 7
		assert_equal "$(cat "$V1/memory/$CG/memory.limit_in_bytes")" 268435456
		assert_equal "$(cat "$V1/cpu/$CG/cpu.shares")" 256
		assert_equal "$(cat "$V1/unified/$CG/cgroup.max.descendants")" 9
		if [ "$mode" = strict ]; then
			wl_expect_pass
			break
		fi
		kill -9 "$WL_PID" "$CHILD"
		wait_tree_gone
	done
}

@test "cgroups: soft leaves an existing cgroup's limits alone, full and props set them, none sets none" {
	start_in_cgroups
	wl_dump
	wait_tree_gone
	for mode in soft none full props; do
		echo 99 >"$V1/pids/$CG/pids.max"
		wl_restore --manage-cgroups="$mode"
		check_membership
		case $mode in
		soft | none) assert_equal "$(cat "$V1/pids/$CG/pids.max")" 99 ;;
		*) assert_equal "$(cat "$V1/pids/$CG/pids.max")" 64 ;;
		esac
		[ "$mode" = props ] && break
		kill -9 "$WL_PID" "$CHILD"
		wait_tree_gone
	done
	wl_expect_pass
}

@test "cgroups: none and props need the cgroups, strict needs them gone; a refusal names the cgroup and leaves nothing" {
	start_in_cgroups
	wl_dump
	wait_tree_gone
	run ocicr restore -D "$WL_DIR/img" -d --manage-cgroups=strict
	assert_failure
	assert_output --partial "cgroup /$CG"
	assert_output --partial "exists (--manage-cgroups strict)"
	remove_cgroups
	for mode in none props; do
		run ocicr restore -D "$WL_DIR/img" -d --manage-cgroups=$mode
		assert_failure
		assert_output --partial "cgroup /$CG"
		assert_output --partial "does not exist (--manage-cgroups $mode creates none)"
		for h in pids memory cpu unified; do
			[ ! -d "$V1/$h/$CG" ] || fail "$mode left $V1/$h/$CG"
		done
		[ ! -e "/proc/$WL_PID" ] || fail "$mode left task $WL_PID"
	done
	run ocicr restore -D "$WL_DIR/img" -d --manage-cgroups=hard
	assert_failure
	assert_output --partial "invalid argument for --manage-cgroups: hard"
}

@test "cgroups: ignore leaves the tasks in the restorer's cgroups and writes no cgroup; a dump with ignore saves sets only" {
	start_in_cgroups
	wl_dump
	wait_tree_gone
	remove_cgroups
	wl_restore --manage-cgroups=ignore
	assert_equal "$(cgroup_of "$WL_PID" pids)" "$(cgroup_of $$ pids)"
	assert_equal "$(cgroup_of "$CHILD" pids)" "$(cgroup_of $$ pids)"
	[ ! -d "$V1/pids/$CG" ] || fail "ignore made $V1/pids/$CG"
	kill -9 "$WL_PID" "$CHILD"
	wait_tree_gone
	start_in_cgroups
	wl_dump --manage-cgroups=ignore
	assert_equal "$(cgroup_img 'len(cg["sets"])')" 2
	assert_equal "$(cgroup_img 'sum(len(c.get("dirs", [])) for c in cg["controllers"])')" 0
}

@test "cgroups: --cgroup-root moves the tree under another cgroup, one controller's root given apart" {
	start_in_cgroups
	wl_dump
	wait_tree_gone
	remove_cgroups
	echo "/$CG /$CG-new" >"$WL_DIR/CG_ROOT"
	wl_restore --cgroup-root "/$CG-new"
	check_membership "/$CG-new"
	assert_equal "$(cat "$V1/pids/$CG-new/pids.max")" 64
	assert_equal "$(cat "$V1/pids/$CG-new/child/pids.max")" 7
	[ ! -d "$V1/pids/$CG" ] || fail "the old cgroup was made"
	kill -9 "$WL_PID" "$CHILD"
	wait_tree_gone
	# pids alone under another root; the rest under the global one.
	wl_restore --cgroup-root "/$CG-new" --cgroup-root "pids:/$CG-other/deeper"
	assert_equal "$(cgroup_of "$WL_PID" pids)" "/$CG-other/deeper"
	assert_equal "$(cgroup_of "$CHILD" pids)" "/$CG-other/deeper/child"
	assert_equal "$(cgroup_of "$WL_PID" memory)" "/$CG-new"
	assert_equal "$(cat "$V1/pids/$CG-other/deeper/pids.max")" 64
	run ocicr restore -D "$WL_DIR/img" -d --cgroup-root pids:relative
	assert_failure
	assert_output --partial "invalid argument for --cgroup-root: pids:relative"
}

# CRIU's --cgroup-root at dump: the cgroup named and all below it are saved
# (as zdtm's cgroup02 wants), so an empty sibling and the root's own mode
# come back.
@test "cgroups: a --cgroup-root at dump saves that cgroup whole: its mode and an empty cgroup in it are made again" {
	mkdir -p "$V1/pids/$CG/inner" "$V1/pids/$CG/spare"
	chmod 0700 "$V1/pids/$CG"
	echo 3 >"$V1/pids/$CG/spare/pids.max"
	CG_JOIN="$V1/pids/$CG/inner/cgroup.procs" WL_WRAP="$BATS_TEST_TMPDIR/cgjoin" wl_start tree
	wl_dump --cgroup-root "pids:/$CG"
	wait_tree_gone
	rm_cgroup "$V1/pids/$CG"
	wl_restore --cgroup-root "pids:/$CG"
	assert_equal "$(cgroup_of "$WL_PID" pids)" "/$CG/inner"
	assert_equal "$(stat -c %a "$V1/pids/$CG")" 700
	assert_equal "$(cat "$V1/pids/$CG/spare/pids.max")" 3
	wl_expect_pass
}

@test "cgroups: a restore that fails removes every cgroup it made, before and after its tasks entered them" {
	start_in_cgroups
	wl_dump
	wait_tree_gone
	remove_cgroups
	# After the tasks are in: the post-restore script fails the restore.
	cat >"$BATS_TEST_TMPDIR/fail-post-restore" <<'EOF'
#!/bin/sh
[ "$CRTOOLS_SCRIPT_ACTION" = post-restore ] && exit 3
exit 0
EOF
	chmod +x "$BATS_TEST_TMPDIR/fail-post-restore"
	run ocicr restore -D "$WL_DIR/img" -d --action-script "$BATS_TEST_TMPDIR/fail-post-restore"
	assert_failure
	for h in pids memory cpu unified; do
		[ ! -d "$V1/$h/$CG" ] || fail "the failed restore left $V1/$h/$CG"
	done
	# The child, an orphan now, is init's to reap.
	wait_tree_gone
	# Before any task exists: a cpuset the kernel refuses, after the
	# other hierarchies' cgroups were made.
	"$OCICR" image decode -i "$WL_DIR/img/cgroup.img" -o "$BATS_TEST_TMPDIR/cg.json"
	python3 - "$BATS_TEST_TMPDIR/cg.json" "$CG" <<'EOF'
import json, sys
img = json.load(open(sys.argv[1]))
e = img["entries"][0]
for s in e["sets"]:
    for c in s["ctls"]:
        if c["name"] == "cpuset":
            c["path"] = "/" + sys.argv[2]
e["controllers"] = [c for c in e["controllers"] if c["cnames"] != ["cpuset"]]
e["controllers"].append({"cnames": ["cpuset"], "dirs": [{"dir_name": sys.argv[2], "dir_perms": {"mode": 0o40755, "uid": 0, "gid": 0},
    "properties": [{"name": "cpuset.cpus", "value": "4095", "perms": {"mode": 0o100644, "uid": 0, "gid": 0}}]}]})
json.dump(img, open(sys.argv[1], "w"))
EOF
	"$OCICR" image encode -i "$BATS_TEST_TMPDIR/cg.json" -o "$WL_DIR/img/cgroup.img"
	run ocicr restore -D "$WL_DIR/img" -d
	assert_failure
	assert_output --partial "cpuset.cpus"
	for h in pids memory cpu unified cpuset; do
		[ ! -d "$V1/$h/$CG" ] || fail "the failed restore left $V1/$h/$CG"
	done
}

@test "cgroups: a thread in other v1 cgroups than its leader is dumped with its own set and restored there" {
	mkdir -p "$V1/pids/$CG/thread" "$V1/cpu/$CG/thread"
	echo 5 >"$V1/pids/$CG/thread/pids.max"
	echo 128 >"$V1/cpu/$CG/thread/cpu.shares"
	mkdir -p "$BATS_TEST_TMPDIR/cgroups"
	printf '%s\n' "$V1/pids/$CG/thread/tasks" "$V1/cpu/$CG/thread/tasks" >"$BATS_TEST_TMPDIR/cgroups/THREAD_CG"
	start_in_cgroups
	tid=$(ls "/proc/$WL_PID/task" | grep -vx "$WL_PID" | head -1)
	[ -n "$tid" ] || fail "the workload has no thread"
	wl_dump
	run "$OCICR" image decode -i "$WL_DIR/img/core-$tid.img"
	assert_output --partial '"cg_set": 3'
	assert_equal "$(cgroup_img '[c["path"] for s in cg["sets"] if s["id"] == 3 for c in s["ctls"] if c["name"] == "pids"]')" "['/$CG/thread']"
	wait_tree_gone
	remove_cgroups
	wl_restore
	check_membership
	assert_equal "$(sed -n 's/^[0-9]*:pids://p' "/proc/$WL_PID/task/$tid/cgroup")" "/$CG/thread"
	assert_equal "$(sed -n 's/^[0-9]*:cpu://p' "/proc/$WL_PID/task/$tid/cgroup")" "/$CG/thread"
	assert_equal "$(cat "$V1/cpu/$CG/thread/cpu.shares")" 128
	wl_expect_pass
}

@test "cgroups: a tree in a cgroup namespace of its own keeps its namespace's root and sees its own limits" {
	requires unshare
	start_in_cgroups "unshare --cgroup"
	[ "$(readlink /proc/$WL_PID/ns/cgroup)" != "$(readlink /proc/self/ns/cgroup)" ] || fail "no cgroup namespace"
	wl_dump
	# The namespace's root is the tree's cgroup: the whole path is the prefix.
	assert_equal "$(cgroup_img '[c.get("cgns_prefix") for c in cg["sets"][0]["ctls"] if c["name"] == "pids"]')" "[$((${#CG} + 1))]"
	wait_tree_gone
	remove_cgroups
	wl_restore
	[ "$(readlink /proc/$WL_PID/ns/cgroup)" != "$(readlink /proc/self/ns/cgroup)" ] || fail "restored without its cgroup namespace"
	check_membership
	# Seen from inside, the tree's cgroup is the root.
	assert_equal "$(nsenter -t "$WL_PID" -C cat /proc/"$CHILD"/cgroup | sed -n 's/^[0-9]*:pids://p')" "/child"
	wl_expect_pass
}

@test "cgroups: a cgroup namespace rooted at ocicr's own cgroups is made anew there" {
	requires unshare
	WL_WRAP="unshare --cgroup" wl_start cgroups
	CHILD=$(pgrep -P "$WL_PID" | head -1)
	wl_dump
	# Same cgroups as ocicr's, but a namespace root to keep: a set of its own.
	own=$(sed -n 's/^[0-9]*:pids://p' /proc/self/cgroup)
	prefix=$((${#own} > 1 ? ${#own} : 0))
	assert_equal "$(cgroup_img '[c.get("cgns_prefix", 0) for c in cg["sets"][0]["ctls"] if c["name"] == "pids"]')" "[$prefix]"
	wait_tree_gone
	wl_restore
	[ "$(readlink /proc/$WL_PID/ns/cgroup)" != "$(readlink /proc/self/ns/cgroup)" ] || fail "restored without its cgroup namespace"
	assert_equal "$(readlink /proc/$CHILD/ns/cgroup)" "$(readlink /proc/$WL_PID/ns/cgroup)"
	assert_equal "$(nsenter -t "$WL_PID" -C cat /proc/"$WL_PID"/cgroup | sed -n 's/^[0-9]*:pids://p')" "/"
	wl_expect_pass
}

# ---- --freeze-cgroup -----------------------------------------------------------

# The forking workload in a freezer cgroup of its own (v1, or v2 with "unified").
start_frozen_forker() {
	local h=${1:-freezer}
	FREEZER=$V1/$h/$CG
	mkdir -p "$FREEZER"
	export CG_JOIN="$FREEZER/cgroup.procs"
	WL_WRAP="$BATS_TEST_TMPDIR/cgjoin" wl_start forker
	unset CG_JOIN
}

freezer_thawed() {
	if [ -e "$FREEZER/freezer.state" ]; then
		assert_equal "$(cat "$FREEZER/freezer.state")" THAWED
	else
		assert_equal "$(cat "$FREEZER/cgroup.freeze")" 0
	fi
}

@test "--freeze-cgroup: a forking tree is frozen through the v1 freezer, dumped and restored" {
	[ -e "$V1/freezer/freezer.state" ] || [ -d "$V1/freezer" ] || skip "no v1 freezer"
	start_frozen_forker freezer
	wl_dump --freeze-cgroup "$FREEZER"
	grep -q "Froze cgroup $FREEZER" "$WL_DIR/img/dump.log" || fail "the freezer was not used"
	freezer_thawed
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

@test "--freeze-cgroup: through v2's cgroup.freeze too" {
	start_frozen_forker unified
	wl_dump --freeze-cgroup "$FREEZER"
	freezer_thawed
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

# The tree workload (a stopped child, zombies, a thread...) in a freezer
# cgroup of its own (v1, or v2 with "unified").
start_frozen_tree() {
	FREEZER=$V1/${1:-freezer}/$CG
	mkdir -p "$FREEZER"
	export CG_JOIN="$FREEZER/cgroup.procs"
	WL_WRAP="$BATS_TEST_TMPDIR/cgjoin" wl_start tree
	unset CG_JOIN
}

# dump_bounded ARGS...: ocicr dump -t $WL_PID ARGS..., $status and
# $output as `run` sets them.  A frozen stopped task once made the seize
# wait forever in the kernel: a hang fails the test instead of blocking it
# (killed after 60 s; the output goes to a file, as the dump's worker,
# which a kill of ocicr does not end, would hold a pipe open).
dump_bounded() {
	timeout -s KILL 60 "$OCICR" dump -t "$WL_PID" -D "$WL_DIR/img" "$@" >"$BATS_TEST_TMPDIR/dump.out" 2>&1 &&
		status=0 || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/dump.out")
	[ "$status" -ne 137 ] || fail "ocicr dump hung (killed after 60 s): $(tail -3 "$WL_DIR/img/dump.log" 2>/dev/null)"
}

dump_frozen_tree() {
	dump_bounded -o dump.log -v4 --freeze-cgroup "$FREEZER" "$@"
	[ "$status" -eq 0 ] || { show_log "$WL_DIR/img/dump.log"; fail "ocicr dump failed ($status): $output"; }
	freezer_thawed
	stopped_seized_after_thaw
}

# The stopped child was seized once the cgroup was thawed, not by the
# watchdog's early thaw.
stopped_seized_after_thaw() {
	grep -q "is stopped: seized once the cgroup is thawed" "$WL_DIR/img/dump.log" || fail "the stopped child was not put off"
	! grep -q "thawed it early" "$WL_DIR/img/dump.log" || fail "the watchdog had to thaw the cgroup"
}

@test "--freeze-cgroup: a tree with a stopped child in a v1 freezer is dumped without a hang; restored, the child is still stopped" {
	[ -d "$V1/freezer" ] || skip "no v1 freezer"
	start_frozen_tree freezer
	dump_frozen_tree
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

@test "--freeze-cgroup: a tree with a stopped child in a v1 freezer frozen before the dump is dumped (--leave-running: frozen again after); restored, it passes" {
	[ -d "$V1/freezer" ] || skip "no v1 freezer"
	start_frozen_tree freezer
	echo FROZEN >"$FREEZER/freezer.state"
	wait_for 10 grep -qx FROZEN "$FREEZER/freezer.state" || fail "the freezer did not freeze"
	dump_bounded -o dump.log -v4 --freeze-cgroup "$FREEZER" --leave-running
	[ "$status" -eq 0 ] || { show_log "$WL_DIR/img/dump.log"; fail "ocicr dump failed ($status): $output"; }
	assert_equal "$(cat "$FREEZER/freezer.state")" FROZEN
	stopped_seized_after_thaw
	echo THAWED >"$FREEZER/freezer.state"
	wait_for 10 test -n "$(pgrep -r T -P "$WL_PID")" || fail "the stopped child did not stay stopped"
	for t in $(cat "$FREEZER/cgroup.procs"); do kill -9 "$t"; done
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

@test "--freeze-cgroup: a tree with a stopped child in a v2 cgroup (cgroup.freeze) is dumped; restored, the child is still stopped" {
	start_frozen_tree unified
	dump_frozen_tree
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

@test "a stopped task in a cgroup frozen by someone else, dumped without --freeze-cgroup: refused at once with why; thawed, the tree runs on" {
	[ -d "$V1/freezer" ] || skip "no v1 freezer"
	start_frozen_tree freezer
	kill -STOP "$WL_PID"
	wait_for 10 test "$(task_state "$WL_PID")" = T || fail "the root did not stop"
	echo FROZEN >"$FREEZER/freezer.state"
	wait_for 10 grep -qx FROZEN "$FREEZER/freezer.state" || fail "the freezer did not freeze"
	dump_bounded
	assert_failure
	assert_output --partial "thread $WL_PID of task $WL_PID is stopped in a frozen cgroup (freezer cgroup /$CG)"
	assert_output --partial "--freeze-cgroup"
	assert_equal "$(cat "$FREEZER/freezer.state")" FROZEN
	echo THAWED >"$FREEZER/freezer.state"
	assert_equal "$(tracer_of "$WL_PID")" 0
	assert_equal "$(task_state "$WL_PID")" T
	kill -CONT "$WL_PID"
	wl_expect_pass
}

@test "--freeze-cgroup: a failed dump, or one killed, leaves the cgroup thawed and the tree running" {
	start_frozen_forker freezer
	cat >"$BATS_TEST_TMPDIR/fail-post-dump" <<'EOF'
#!/bin/sh
[ "$CRTOOLS_SCRIPT_ACTION" = post-dump ] && exit 3
exit 0
EOF
	chmod +x "$BATS_TEST_TMPDIR/fail-post-dump"
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/img" --freeze-cgroup "$FREEZER" --action-script "$BATS_TEST_TMPDIR/fail-post-dump"
	assert_failure
	freezer_thawed
	assert_equal "$(tracer_of "$WL_PID")" 0
	[ ! -e "$WL_DIR/img/inventory.img" ] || fail "the failed dump left inventory.img"
	# Killed while it collects (the freezer is thawed once every task is
	# seized): the kernel detaches the tasks, which run on.
	"$OCICR" dump -t "$WL_PID" -D "$WL_DIR/img" --freeze-cgroup "$FREEZER" -o dump.log -v4 &
	dumper=$!
	wait_for 20 grep -q "Froze cgroup" "$WL_DIR/img/dump.log" || fail "the dump did not freeze"
	kill -9 "$dumper"
	wait "$dumper" || true
	freezer_thawed
	wait_for 10 test "$(tracer_of "$WL_PID")" = 0 || fail "still traced"
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/img" --freeze-cgroup /nonexistent/cg
	assert_failure
	assert_output --partial "--freeze-cgroup /nonexistent/cg"
	wl_expect_pass
}

# ---- RPC, as runc sends it --------------------------------------------------

rpc() {
	"$RPC_PY" "$BATS_TEST_DIRNAME/rpc_client.py" "$OCICR" "$@"
}

# find_rpc_py: RPC_PY, a python3 with google.protobuf; false without one.
find_rpc_py() {
	RPC_PY=
	for py in python3 /usr/bin/python3; do
		"$py" -c 'import google.protobuf' 2>/dev/null && RPC_PY=$py && return 0
	done
	return 1
}

# rpc_can_send: RPC requests can be written here (find_rpc_py, protoc).
rpc_can_send() {
	find_rpc_py && command -v protoc >/dev/null
}

# rpc_dump_running OPTS: an RPC DUMP of the workload, left running, into a
# fresh $WL_DIR/img with OPTS among its options; it must succeed.
rpc_dump_running() {
	rm -rf "$WL_DIR/img" && mkdir -p "$WL_DIR/img" "$WL_DIR/work"
	run rpc send "type: DUMP opts { images_dir_fd: -1 pid: $WL_PID leave_running: true $1 }" \
		--images "$WL_DIR/img" --work "$WL_DIR/work"
	assert_line --partial 'reply DUMP success=true'
}

@test "cgroups over RPC as runc sends them: freeze_cgroup at DUMP, cg_root per hierarchy and manage_cgroups_mode at RESTORE" {
	requires protoc
	find_rpc_py || skip "needs python3 with google.protobuf (Debian python3-protobuf)"
	[ -d "$V1/freezer" ] || skip "no v1 freezer"
	mkdir -p "$V1/freezer/$CG"
	FREEZER=$V1/freezer/$CG
	make_cgroups
	mkdir -p "$BATS_TEST_TMPDIR/cgroups"
	echo "$V1/pids/$CG/child/cgroup.procs" >"$BATS_TEST_TMPDIR/cgroups/CHILD_CG"
	export CG_JOIN="$V1/pids/$CG/cgroup.procs $V1/memory/$CG/cgroup.procs $V1/cpu/$CG/cgroup.procs $V1/unified/$CG/cgroup.procs $FREEZER/cgroup.procs"
	WL_WRAP="$BATS_TEST_TMPDIR/cgjoin" wl_start cgroups
	unset CG_JOIN
	mkdir -p "$WL_DIR/work"
	run rpc send "type: DUMP opts { images_dir_fd: -1 pid: $WL_PID log_file: \"dump.log\" log_level: 4
		manage_cgroups: true freeze_cgroup: \"$FREEZER\" }" --images "$WL_DIR/img" --work "$WL_DIR/work"
	assert_line --partial 'reply DUMP success=true'
	grep -q "Froze cgroup $FREEZER" "$WL_DIR/work/dump.log" || fail "the freezer was not used"
	freezer_thawed
	wait_tree_gone
	remove_cgroups
	echo "/$CG /$CG-new" >"$WL_DIR/CG_ROOT"
	roots=
	for h in pids memory cpu ""; do
		roots="$roots cg_root { ctrl: \"$h\" path: \"/$CG-new\" }"
	done
	run rpc send "type: RESTORE opts { images_dir_fd: -1 log_file: \"restore.log\" log_level: 4 rst_sibling: true
		manage_cgroups: true manage_cgroups_mode: FULL $roots }" \
		--images "$WL_DIR/img" --work "$WL_DIR/work" --wait-root "$WL_DIR/result"
	[ "$status" -eq 0 ] || show_log "$WL_DIR/work/restore.log"
	assert_line --partial 'reply RESTORE success=true'
	assert_line "root $WL_PID parent=client exited=0"
	assert_equal "$(cat "$V1/pids/$CG-new/pids.max")" 64
	assert_equal "$(cat "$V1/pids/$CG-new/child/pids.max")" 7
	[ ! -d "$V1/pids/$CG" ] || fail "the old cgroup was made"
	run cat "$WL_DIR/result"
	assert_output PASS
}

@test "--freeze-cgroup: a cgroup frozen before the dump (a paused container) is frozen again after it" {
	start_frozen_forker freezer
	echo FROZEN >"$FREEZER/freezer.state"
	wait_for 10 grep -qx FROZEN "$FREEZER/freezer.state" || fail "the cgroup did not freeze"
	wl_dump -R --freeze-cgroup "$FREEZER"
	grep -q "it was frozen already" "$WL_DIR/img/dump.log" || fail "the dump did not see the frozen cgroup"
	assert_equal "$(cat "$FREEZER/freezer.state")" FROZEN
	assert_equal "$(tracer_of "$WL_PID")" 0
	echo THAWED >"$FREEZER/freezer.state"
	wl_expect_pass
}

@test "--freeze-cgroup: a cgroup frozen before a dump that kills the tree is left thawed: its restore, whose tasks go back into it, does not freeze itself" {
	start_frozen_forker freezer
	echo FROZEN >"$FREEZER/freezer.state"
	wait_for 10 grep -qx FROZEN "$FREEZER/freezer.state" || fail "the cgroup did not freeze"
	dump_bounded -o dump.log -v4 --freeze-cgroup "$FREEZER"
	assert_success
	freezer_thawed
	wait_tree_gone
	timeout -s KILL 60 "$OCICR" restore -D "$WL_DIR/img" -d -o restore.log >"$BATS_TEST_TMPDIR/restore.out" 2>&1 &&
		status=0 || status=$?
	[ "$status" -ne 137 ] || fail "ocicr restore hung (killed after 60 s)"
	[ "$status" -eq 0 ] || { show_log "$WL_DIR/img/restore.log"; fail "ocicr restore failed ($status)"; }
	wl_expect_pass
}

@test "a restore into a freezer cgroup that is frozen is refused at once with why, and leaves nothing; thawed, it restores" {
	start_frozen_forker freezer
	wl_dump
	wait_tree_gone
	echo FROZEN >"$FREEZER/freezer.state"
	timeout -s KILL 60 "$OCICR" restore -D "$WL_DIR/img" -d >"$BATS_TEST_TMPDIR/restore.out" 2>&1 && status=0 || status=$?
	[ "$status" -ne 137 ] || fail "ocicr restore hung in the frozen cgroup (killed after 60 s)"
	output=$(cat "$BATS_TEST_TMPDIR/restore.out")
	assert_failure
	assert_output --partial "cgroup /$CG of hierarchy 'freezer' is frozen"
	assert_equal "$(cat "$FREEZER/cgroup.procs")" ""
	pid_gone "$WL_PID" || fail "the failed restore left task $WL_PID"
	echo THAWED >"$FREEZER/freezer.state"
	wl_restore
	wl_expect_pass
}

@test "--cgroup-dump-controller: only the hierarchies named are saved (CLI and RPC)" {
	start_in_cgroups
	wl_dump -R --cgroup-dump-controller pids --cgroup-dump-controller ""
	assert_equal "$(cgroup_img 'sorted(set(c["name"] for s in cg["sets"] for c in s["ctls"]))')" "['', 'pids']"
	assert_equal "$(cgroup_img 'sorted(c["cnames"][0] for c in cg["controllers"])')" "['', 'pids']"
	if rpc_can_send; then
		rpc_dump_running 'cgroup_dump_controller: "memory"'
		assert_equal "$(cgroup_img 'sorted(c["cnames"][0] for c in cg["controllers"])')" "['memory']"
	fi
	wl_expect_pass
}

# yard_ns YARD: a mount namespace of its own (YARD_NS, the pid holding it)
# in which each cgroup hierarchy of ours is mounted under YARD as CRIU's
# --cgroup-yard names them ("unified" for v2, X for name=X, else the
# controllers), and all but pids under YARD-nopids.
yard_ns() {
	mkdir -p "$1" "$1-nopids"
	unshare -m --propagation private sh -c '
		for yard in "$1" "$1-nopids"; do
			mount -t tmpfs yard "$yard" || exit 1
			while IFS=: read -r _ ctl _; do
				[ "$yard/$ctl" = "$1-nopids/pids" ] && continue
				case $ctl in
				"") dir=unified; opts= ;;
				name=*) dir=${ctl#name=}; opts=none,$ctl ;;
				*) dir=$ctl; opts=$ctl ;;
				esac
				mkdir "$yard/$dir" || exit 1
				if [ -z "$ctl" ]; then
					mount -t cgroup2 none "$yard/$dir" || exit 1
				else
					mount -t cgroup -o "$opts" none "$yard/$dir" || exit 1
				fi
			done </proc/self/cgroup
		done
		touch "$1.ready"
		exec sleep 600' sh "$1" </dev/null >/dev/null 2>&1 &
	YARD_NS=$!
	wait_for 10 test -e "$1.ready" || fail "the yard's mount namespace is not ready"
}

@test "--cgroup-yard: the hierarchies mounted there are used at dump and restore; one missing is named" {
	yard=$BATS_TEST_TMPDIR/yard
	yard_ns "$yard"
	in_ns="nsenter -t $YARD_NS -m"
	start_in_cgroups "$in_ns"
	run $in_ns "$OCICR" dump -t "$WL_PID" -D "$WL_DIR/img" --manage-cgroups --cgroup-yard "$yard-nopids"
	assert_failure
	assert_output --partial "cgroup yard $yard-nopids: no hierarchy 'pids'"
	run $in_ns "$OCICR" dump -t "$WL_PID" -D "$WL_DIR/img" -o dump.log --manage-cgroups --cgroup-yard "$yard"
	assert_success
	assert_equal "$(cgroup_img '[p["value"] for c in cg["controllers"] if c["cnames"] == ["pids"] for d in c["dirs"] for p in d["properties"] if p["name"] == "pids.max"]')" "['64']"
	wait_tree_gone
	remove_cgroups
	run $in_ns "$OCICR" restore -D "$WL_DIR/img" -d -o restore.log --manage-cgroups=full --cgroup-yard "$yard"
	assert_success
	check_membership
	assert_equal "$(cat "$V1/pids/$CG/pids.max")" 64
	wl_expect_pass
}

# props_of CTRL: the names of the properties saved for CTRL's hierarchy,
# one controller's own (CTRL.*) only, of its first cgroup.
props_of() {
	cgroup_img '",".join(p["name"] for c in cg["controllers"] if c["cnames"] == ["'"$1"'"] for p in c["dirs"][0]["properties"] if p["name"].startswith("'"$1"'."))'
}

@test "--cgroup-props, --cgroup-props-file: CRIU's lists of the properties saved, replaced or merged (CLI and RPC); a bad one fails first" {
	start_in_cgroups
	wl_dump -R --cgroup-props '"pids":
 - "strategy": "replace"
 - "properties": []
"cpu":
 - "strategy": "replace"
 - "properties": ["cpu.cfs_quota_us", "cpu.shares"]'
	assert_equal "$(props_of pids)" ""
	assert_equal "$(props_of cpu)" "cpu.cfs_quota_us,cpu.shares"
	assert_equal "$(props_of memory | cut -d, -f1)" memory.limit_in_bytes
	# The file after the text: memory gains one, cpu is replaced again.
	printf '"memory":\n - "strategy": "merge"\n - "properties": ["memory.max_usage_in_bytes"]\n"cpu":\n - "strategy": "replace"\n - "properties": ["cpu.shares"]\n' \
		>"$BATS_TEST_TMPDIR/props"
	rm -rf "$WL_DIR/img"
	wl_dump -R --cgroup-props '"cpu": - "strategy": "replace" - "properties": []' \
		--cgroup-props-file "$BATS_TEST_TMPDIR/props"
	assert_equal "$(props_of cpu)" "cpu.shares"
	run props_of memory
	assert_output --regexp '^memory.limit_in_bytes,.*,memory.max_usage_in_bytes$'
	assert_equal "$(props_of pids)" pids.max
	# Refused before the tree is touched, naming the line.
	rm -rf "$WL_DIR/img"
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/img" -R --cgroup-props '"cpu":
 - "strategy": "sideways"'
	assert_failure
	assert_output --partial '--cgroup-props: line 2: controller "cpu": unknown strategy "sideways"'
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/img" -R --cgroup-props-file "$BATS_TEST_TMPDIR/none"
	assert_failure
	assert_output --partial "--cgroup-props-file: cannot read $BATS_TEST_TMPDIR/none"
	[ ! -e "$WL_DIR/img/inventory.img" ] || fail "a refused dump wrote images"
	if rpc_can_send; then
		rpc_dump_running "cgroup_props_file: \"$BATS_TEST_TMPDIR/props\""
		assert_equal "$(props_of cpu)" "cpu.shares"
	fi
	wl_expect_pass
}
