#!/usr/bin/env bats
# A tree in a user namespace of its own (one level below ocicr's), with
# its pid, uts and ipc namespaces owned by it, as container runtimes make
# them: userns-ID.img holds the maps, the creds and SysV owners are saved
# as seen inside (as CRIU saves them), and a restore makes the user
# namespace first, writes its maps from outside and the others under it
# (tests/workloads/userns.c checks everything inside after restore).

load helpers

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
	# A sleep a test started is not a workload: wl_cleanup leaves it.
	[ ! -f "$BATS_TEST_TMPDIR/sleep-pid" ] || kill -9 "$(cat "$BATS_TEST_TMPDIR/sleep-pid")" 2>/dev/null || true
	wl_cleanup
}

# The uid (or gid) of task PID as seen from here.
status_id() {
	sed -n "s/^$2:[[:space:]]*\([0-9]*\).*/\1/p" "/proc/$1/status"
}

@test "userns: a tree in a user namespace comes back in a new one with its maps, ids and owners" {
	open_tmpdir
	# Its root sets its login uid once, from inside: none to inherit.
	[ ! -e /proc/self/loginuid ] || echo 4294967295 >/proc/self/loginuid
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
	# So are the owners of its files: an unlinked file, a memfd, a bound
	# socket's name (1000:1000 inside), a pty pair (the slave is the root's,
	# 0:0; the master ocicr's root's, which the namespace cannot see: -1).
	ghost=$(cd "$WL_DIR/img" && ls ghost-file-*.img)
	run crit_get "$WL_DIR/img/$ghost" '(img["entries"][0]["uid"], img["entries"][0]["gid"])'
	assert_output "(1000, 1000)"
	run crit_get "$WL_DIR/img/memfd.img" '[(e["uid"], e["gid"]) for e in img["entries"]]'
	assert_output "[(1000, 1000)]"
	run crit_get "$WL_DIR/img/files.img" \
		'[(f["usk"]["file_perms"]["uid"], f["usk"]["file_perms"]["gid"]) for f in img["entries"] if "usk" in f and "file_perms" in f["usk"]]'
	assert_output "[(1000, 1000)]"
	run crit_get "$WL_DIR/img/tty-info.img" 'sorted(set((e["uid"], e["gid"]) for e in img["entries"]))'
	assert_output "[(0, 0), (4294967295, 4294967295)]"
	if [ -e /proc/self/loginuid ]; then
		[ "$(crit_get "$WL_DIR/img/core-1.img" 'img["entries"][0]["tc"]["loginuid"]')" = 1000 ] ||
			fail "the root's loginuid is not saved as seen inside"
		# A login uid of ours inherited inside could not be changed there.
		echo 77 >/proc/self/loginuid
	fi
	wait_gone "$outer"
	wait_gone "$WL_PID"
	wl_restore_root
	[ "$(readlink "/proc/$WL_PID/ns/user")" != "$(readlink /proc/self/ns/user)" ] || fail "restored in our user namespace"
	[ "$(status_id "$WL_PID" Uid)" = 100000 ] || fail "the restored root runs as $(status_id "$WL_PID" Uid) outside"
	[ "$(status_id "$WL_PID" Gid)" = 100000 ] || fail "the restored root's gid is $(status_id "$WL_PID" Gid) outside"
	[ ! -e /proc/self/loginuid ] || [ "$(cat "/proc/$WL_PID/loginuid")" = 101000 ] ||
		fail "the restored root's loginuid is $(cat "/proc/$WL_PID/loginuid") outside"
	child=$(pgrep -P "$WL_PID")
	[ "$(status_id "$child" Uid)" = 101000 ] || fail "the restored child runs as $(status_id "$child" Uid) outside"
	[ "$(stat -c %u:%g "$WL_DIR/owned")" = 101000:101000 ] || fail "the file is $(stat -c %u:%g "$WL_DIR/owned")"
	[ "$(stat -c %u:%g "$WL_DIR/sock")" = 101000:101000 ] || fail "the socket's name is $(stat -c %u:%g "$WL_DIR/sock")"
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
	wl_restore_refused "cannot give the tree's uid_map"
}

runs_sleep() {
	[ "$(readlink "/proc/$1/exe")" = "$(readlink -f "$(command -v sleep)")" ]
}

@test "userns: a tree in a user namespace nested two levels below ocicr's is refused at dump and runs on" {
	requires unshare
	# fd 3 closed: bats waits for whoever holds it.
	setsid unshare --user --map-root-user unshare --user --map-root-user sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
	pid=$!
	echo "$pid" >"$BATS_TEST_TMPDIR/sleep-pid"
	wait_for 10 runs_sleep "$pid" || fail "sleep did not start"
	run ocicr dump -t "$pid" -D "$BATS_TEST_TMPDIR" -o dump.log
	assert_failure
	assert_output --partial "nested more than one level below ocicr's"
	[ -d "/proc/$pid" ] && grep -q '^State:[[:space:]]*S' "/proc/$pid/status" || fail "the tree did not run on"
	[ ! -e "$BATS_TEST_TMPDIR/inventory.img" ] || fail "an inventory was written"
}

# CRIU 4.2 cannot dump this tree (a pid namespace without a mount
# namespace with its own proc: its parasite refuses a /proc that is not
# the task's); the interop checks are a runc container's with a user
# namespace, in container_runc.bats.
