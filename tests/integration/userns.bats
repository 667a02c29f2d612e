#!/usr/bin/env bats
# A tree in a user namespace of its own (one level below ocicr's), with
# its pid, uts and ipc namespaces owned by it, as container runtimes make
# them: userns-ID.img holds the maps, the creds and SysV owners are saved
# as seen inside (as CRIU saves them), and a restore makes the user
# namespace first, writes its maps from outside and the others under it
# (tests/workloads/userns.c checks everything inside after restore).

load helpers

# A CRIU 4.2 built outside the repo, for the comparisons below (they skip
# without one): CRIU_REF=/path/to/criu bats tests/integration/userns.bats
CRIU_REF=${CRIU_REF:-}

setup() {
	requires root
}

# Root of the tree's namespace is uid 100000 here: let it reach its folder.
open_tmpdir() {
	local d=$BATS_TEST_TMPDIR
	while [ "$d" != / ]; do
		chmod a+x "$d"
		d=$(dirname "$d")
	done
}

teardown() {
	wl_cleanup
}

# The uid (or gid) of task PID as seen from here.
status_id() {
	sed -n "s/^$2:[[:space:]]*\([0-9]*\).*/\1/p" "/proc/$1/status"
}

@test "userns: a tree in a user namespace comes back in a new one with its maps, ids and owners" {
	open_tmpdir
	WL_WRAP_FORKS=1 wl_start userns
	outer=$(cat "$WL_DIR/pid")
	[ "$(status_id "$WL_PID" Uid)" = 100000 ] || fail "the root runs as $(status_id "$WL_PID" Uid) outside"
	wl_dump
	uid_ns=$(crit_get "$WL_DIR/img/ids-1.img" 'img["entries"][0]["user_ns_id"]')
	inv_ns=$(crit_get "$WL_DIR/img/inventory.img" 'img["entries"][0]["root_ids"]["user_ns_id"]')
	[ "$uid_ns" != "$inv_ns" ] || fail "the root's user namespace $uid_ns is the inventory's"
	# As CRIU writes them: the maps, and the creds as seen inside.
	run crit_get "$WL_DIR/img/userns-$uid_ns.img" \
		'[(m["first"], m["lower_first"], m["count"]) for k in ("uid_map", "gid_map") for m in img["entries"][0][k]]'
	assert_output "[(0, 100000, 65536), (0, 100000, 65536)]"
	run crit_get "$WL_DIR/img/core-1.img" \
		'[img["entries"][0]["thread_core"]["creds"][k] for k in ("uid", "euid", "gid", "egid")]'
	assert_output "[0, 0, 0, 0]"
	run crit_get "$WL_DIR/img/core-2.img" \
		'(img["entries"][0]["thread_core"]["creds"]["uid"], img["entries"][0]["thread_core"]["creds"]["groups"])'
	assert_output "(1000, [5, 1000])"
	wait_gone "$outer"
	wait_gone "$WL_PID"
	wl_restore --pidfile "$WL_DIR/restored.pid"
	WL_PID=$(cat "$WL_DIR/restored.pid")
	echo "$WL_PID" >>"$BATS_TEST_TMPDIR/wl-pids"
	[ "$(readlink "/proc/$WL_PID/ns/user")" != "$(readlink /proc/self/ns/user)" ] || fail "restored in our user namespace"
	[ "$(status_id "$WL_PID" Uid)" = 100000 ] || fail "the restored root runs as $(status_id "$WL_PID" Uid) outside"
	[ "$(status_id "$WL_PID" Gid)" = 100000 ] || fail "the restored root's gid is $(status_id "$WL_PID" Gid) outside"
	child=$(pgrep -P "$WL_PID")
	[ "$(status_id "$child" Uid)" = 101000 ] || fail "the restored child runs as $(status_id "$child" Uid) outside"
	[ "$(stat -c %u:%g "$WL_DIR/owned")" = 101000:101000 ] || fail "the file is $(stat -c %u:%g "$WL_DIR/owned")"
	# Its other namespaces belong to the new user namespace.
	for ns in pid uts ipc; do
		python3 - "$WL_PID" "$ns" <<'PY' || fail "the $ns namespace is not owned by the tree's user namespace"
import fcntl, os, sys
NS_GET_USERNS = 0xb701
fd = os.open(f"/proc/{sys.argv[1]}/ns/{sys.argv[2]}", os.O_RDONLY)
owner = fcntl.ioctl(fd, NS_GET_USERNS)
sys.exit(os.fstat(owner).st_ino != os.stat(f"/proc/{sys.argv[1]}/ns/user").st_ino)
PY
	done
	wl_expect_pass
	[ "$(stat -c %u:%g "$WL_DIR/owned")" = 102000:102000 ] || fail "the file is $(stat -c %u:%g "$WL_DIR/owned") after its chown"
}

@test "userns: a map the kernel refuses fails the restore clearly and leaves no task behind" {
	open_tmpdir
	WL_WRAP_FORKS=1 wl_start userns
	outer=$(cat "$WL_DIR/pid")
	wl_dump
	wait_gone "$outer"
	wait_gone "$WL_PID"
	uid_ns=$(crit_get "$WL_DIR/img/ids-1.img" 'img["entries"][0]["user_ns_id"]')
	img=$WL_DIR/img/userns-$uid_ns.img
	# Two lines over the same inside ids: no kernel takes that map.
	crit decode -i "$img" | python3 -c '
import json, sys
img = json.load(sys.stdin)
img["entries"][0]["uid_map"].append({"first": 1000, "lower_first": 300000, "count": 10})
json.dump(img, sys.stdout)' >"$BATS_TEST_TMPDIR/userns.json"
	crit encode -i "$BATS_TEST_TMPDIR/userns.json" -o "$img"
	run ocicr restore -D "$WL_DIR/img" -d -o restore.log -v4 --pidfile "$WL_DIR/restored.pid"
	assert_failure
	assert_output --partial "cannot give the tree's uid_map"
	[ ! -e "$WL_DIR/restored.pid" ] || fail "a pid file was written"
	run pgrep -f "$WORKLOADS/userns"
	assert_failure
}

@test "userns: a tree in a user namespace nested two levels below ocicr's is refused at dump and runs on" {
	requires unshare
	setsid unshare --user --map-root-user unshare --user --map-root-user sleep 1000 </dev/null >/dev/null 2>&1 &
	pid=$!
	echo "$pid" >>"$BATS_TEST_TMPDIR/wl-pids"
	wait_for 10 test "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$(command -v sleep)")" || fail "sleep did not start"
	run ocicr dump -t "$pid" -D "$BATS_TEST_TMPDIR" -o dump.log
	assert_failure
	assert_output --partial "nested more than one level below ocicr's"
	[ -d "/proc/$pid" ] && grep -q '^State:[[:space:]]*S' "/proc/$pid/status" || fail "the tree did not run on"
	[ ! -e "$BATS_TEST_TMPDIR/inventory.img" ] || fail "an inventory was written"
}

# The maps and the creds of every task, as crit shows them.
userns_state() {
	local dir=$1 core
	crit_get "$dir/userns-$(crit_get "$dir/ids-1.img" 'img["entries"][0]["user_ns_id"]').img" 'img["entries"][0]'
	for core in "$dir"/core-*.img; do
		crit_get "$core" '{k: v for k, v in img["entries"][0]["thread_core"]["creds"].items() if k not in ("cap_bnd", "secbits", "lsm_profile")}'
	done
}

@test "userns: CRIU 4.2's images of the tree hold the maps and creds ocicr's hold, and restore with ocicr" {
	[ -x "$CRIU_REF" ] || skip "a comparison with CRIU 4.2: set CRIU_REF to a CRIU built outside the repo"
	open_tmpdir
	WL_WRAP_FORKS=1 wl_start userns
	run "$CRIU_REF" dump -t "$WL_PID" -D "$WL_DIR/img" -R -o criu-dump.log -v4
	[ "$status" -eq 0 ] || {
		show_log "$WL_DIR/img/criu-dump.log"
		fail "CRIU's dump failed: $output"
	}
	mkdir -p "$WL_DIR/ours"
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/ours" -o dump.log -v4
	[ "$status" -eq 0 ] || fail "ocicr's dump failed: $output"
	userns_state "$WL_DIR/img" >"$WL_DIR/criu.txt"
	userns_state "$WL_DIR/ours" >"$WL_DIR/ocicr.txt"
	diff -u "$WL_DIR/criu.txt" "$WL_DIR/ocicr.txt" || fail "the maps or creds differ"
	grep -q "'uid_map': \[{'first': 0, 'lower_first': 100000, 'count': 65536}\]" "$WL_DIR/criu.txt" || fail "$(cat "$WL_DIR/criu.txt")"
	# The SysV segment's owner, as seen inside in both.
	run crit_get "$WL_DIR/img/ipcns-shm-$(crit_get "$WL_DIR/img/ids-1.img" 'img["entries"][0]["ipc_ns_id"]').img" \
		'(img["entries"][0]["desc"]["uid"], img["entries"][0]["desc"]["cuid"])'
	assert_output "(1000, 0)"
	run crit_get "$WL_DIR/ours/ipcns-shm-$(crit_get "$WL_DIR/ours/ids-1.img" 'img["entries"][0]["ipc_ns_id"]').img" \
		'(img["entries"][0]["desc"]["uid"], img["entries"][0]["desc"]["cuid"])'
	assert_output "(1000, 0)"
	wait_gone "$(cat "$WL_DIR/pid")"
	wait_gone "$WL_PID"
	wl_restore --pidfile "$WL_DIR/restored.pid"
	WL_PID=$(cat "$WL_DIR/restored.pid")
	echo "$WL_PID" >>"$BATS_TEST_TMPDIR/wl-pids"
	[ "$(status_id "$WL_PID" Uid)" = 100000 ] || fail "the restored root runs as $(status_id "$WL_PID" Uid) outside"
	wl_expect_pass
}

@test "userns: ocicr's images of the tree restore with CRIU 4.2" {
	[ -x "$CRIU_REF" ] || skip "a comparison with CRIU 4.2: set CRIU_REF to a CRIU built outside the repo"
	open_tmpdir
	WL_WRAP_FORKS=1 wl_start userns
	wl_dump
	wait_gone "$(cat "$WL_DIR/pid")"
	wait_gone "$WL_PID"
	run "$CRIU_REF" restore -D "$WL_DIR/img" -d -o criu-restore.log -v4 --pidfile "$WL_DIR/restored.pid"
	[ "$status" -eq 0 ] || {
		show_log "$WL_DIR/img/criu-restore.log"
		fail "CRIU's restore failed: $output"
	}
	WL_PID=$(cat "$WL_DIR/restored.pid")
	echo "$WL_PID" >>"$BATS_TEST_TMPDIR/wl-pids"
	[ "$(status_id "$WL_PID" Uid)" = 100000 ] || fail "the restored root runs as $(status_id "$WL_PID" Uid) outside"
	wl_expect_pass
}
