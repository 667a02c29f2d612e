#!/usr/bin/env bats
# Anonymous-inode fds: eventfd, epoll, signalfd, timerfd, inotify and
# fanotify.  Each workload (tests/workloads/fdanon_*.c) checks after restore
# that its objects behave as before; the images must decode with crit.

load helpers
load helpers_fdanon

setup() {
	requires root crit python3
}

teardown() {
	wl_cleanup
}

@test "eventfd: counters, EFD_SEMAPHORE, flags, one eventfd shared with a child" {
	wl_start fdanon_eventfd
	fa_dump
	fa_crit_decode
	# EFD_SEMAPHORE in bit 0 of flags, O_RDWR always; 64-bit counters.
	fa_files_check '
e = sorted(kind("EVENTFD"), key=lambda e: e["id"])
assert len(e) == 5, e
assert e[0]["counter"] == 0x100000005 and e[0]["flags"] & 3 == 2, e[0]
assert e[1]["counter"] == 3 and e[1]["flags"] & 3 == 3, e[1]
'
	wl_restore
	wl_expect_pass
}

@test "epoll: watched set, events and data, one-shot, nested epoll, every fd kind as target" {
	wl_start fdanon_epoll
	fa_dump
	fa_crit_decode
	# The watch added as fd 15, now at 16 only, is recorded at 16.
	fa_files_check '
tfds = [t for e in kind("EVENTPOLL") for t in e.get("tfd", [])]
nums = sorted(t["tfd"] for t in tfds)
assert nums == [10, 12, 13, 14, 16, 20, 30, 31, 32], nums
assert [t["data"] for t in tfds if t["tfd"] == 10] == [0xdeadbeefcafe]
'
	# The watches are added once every fd of the task is in.
	run ocicr restore --plan-only -D "$WL_DIR/img"
	assert_success
	assert_line --regexp "task $WL_PID: fd 20 \(epoll, owner\): add its watches"
	# the watches are added after the task's fds are installed
	[ "$(echo "$output" | grep -n 'fd 20 (epoll' | cut -d: -f1)" -gt "$(echo "$output" | grep -n "task $WL_PID: install" | cut -d: -f1)" ]
	wl_restore
	wl_expect_pass
}

@test "signalfd: masks, flags, a signal pending at dump, signals sent after restore" {
	wl_start fdanon_signalfd
	fa_dump
	fa_crit_decode
	wl_restore
	wl_expect_pass
}

@test "timerfd: clocks, time left, intervals, unread ticks, settime flags" {
	wl_start fdanon_timerfd
	fa_dump
	fa_crit_decode
	# The 20 ms timer missed at least 11 periods before the dump: its
	# ticks count them all, and it is still armed.
	fa_files_check '
t = [t for t in kind("TIMERFD") if t["insec"] == 20000000]
assert len(t) == 1 and t[0]["ticks"] >= 11 and t[0]["vsec"] * 10**9 + t[0]["vnsec"] > 0, t
'
	# Time away must not count: restore a while later.
	sleep 1
	wl_restore
	wl_expect_pass
}

@test "inotify: watches by path, masks, one-shot, wd numbers with a gap" {
	wl_start fdanon_inotify
	fa_dump
	fa_crit_decode
	fa_files_check '
i = sorted(kind("INOTIFY"), key=lambda i: len(i["wd"]))
assert [w["wd"] for w in sorted(i[1]["wd"], key=lambda w: w["wd"])] == [1, 3, 4, 5], i
for w in i[1]["wd"]:
    assert w["f_handle"]["path"].startswith("/") and len(w["f_handle"]["handle"]) >= 16, w
'
	wl_restore
	wl_expect_pass
}

@test "an epoll watching a file its task closed (only a child has it) fails the dump, tree left running" {
	wl_start fdanon_unsup_epoll
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/img"
	assert_failure 1
	assert_output --partial "task $WL_PID: fd 20 (epoll"
	assert_output --partial "added as fd 10"
	run find "$WL_DIR/img" -name '*.img'
	assert_output ""
	wl_expect_pass
}

@test "fanotify: init flags, inode marks by path, ignored mask, a mount mark, a permission mark" {
	wl_start fdanon_fanotify
	fa_dump
	fa_crit_decode
	fa_files_check '
g = {len(g["mark"]) * 10 + (g["faflags"] & 0xc): g for g in kind("FANOTIFY")}
assert sorted(g) == [10, 14, 30], g
assert g[10]["mark"][0]["type"] == "MOUNT" and g[10]["mark"][0]["me"]["path"].startswith("/"), g[10]
assert g[14]["mark"][0]["mask"] == 0x10000, g[14]
assert sorted(m["type"] for m in g[30]["mark"]) == ["INODE"] * 3, g[30]
assert [m["ignored_mask"] for m in g[30]["mark"] if m["mflags"] & 0x40] == [8], g[30]
'
	wl_restore
	wl_expect_pass
}

@test "a fanotify mark on a whole filesystem fails the dump, task left running" {
	wl_start fdanon_unsup_fanotify
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/img"
	assert_failure 1
	assert_output --partial "task $WL_PID: fd 10 (fanotify"
	assert_output --partial "FAN_MARK_FILESYSTEM"
	run find "$WL_DIR/img" -name '*.img'
	assert_output ""
	wl_expect_pass
}

@test "pidfds of the tree's tasks (a child, ourselves, a grandchild) name the same tasks after restore" {
	wl_start pidfds
	wl_dump
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

@test "pidfds of a process that has exited (two in one task, one in a child) still name one dead process" {
	wl_start pidfd_dead
	fa_dump
	# As CRIU: nspid -1, the pidfs inode, one for all three (Debian's
	# crit is older than pidfd entries: our decoder reads them).
	ocicr image decode -i "$WL_DIR/img/files.img" >"$WL_DIR/files.json"
	python3 - "$WL_DIR/files.json" <<'PY' || fail "files.img check failed"
import json, sys
p = [f["pidfd"] for f in json.load(open(sys.argv[1]))["entries"] if f["type"] == "PIDFD"]
assert len(p) == 3 and all(e["nspid"] == -1 for e in p), p
assert len(set(e["ino"] for e in p)) == 1, p
# no access mode: CRIU's restore gives the flags to pidfd_open()
assert sorted(e["flags"] for e in p) == [0, 0, 0o4000], p
PY
	wl_restore
	wl_expect_pass
}

@test "nsfs: fds of our own namespaces (net, uts, pid_for_children, mnt) are on the namespaces we are in after restore" {
	wl_start nsfs
	fa_dump
	fa_crit_decode
	# CRIU's ns_file_entry: the namespace by the tasks' id for it, and its kind.
	ocicr image decode -i "$WL_DIR/img/files.img" >"$WL_DIR/files.json"
	ocicr image decode -i "$WL_DIR/img/ids-$WL_PID.img" >"$WL_DIR/ids.json"
	python3 - "$WL_DIR/files.json" "$WL_DIR/ids.json" <<'PY' || fail "files.img check failed"
import json, sys
ns = [f["nsf"] for f in json.load(open(sys.argv[1]))["entries"] if f["type"] == "NS"]
ids = json.load(open(sys.argv[2]))["entries"][0]
want = {0x40000000: ids["net_ns_id"], 0x04000000: ids["uts_ns_id"], 0x20000000: ids["pid_ns_id"],
        0x00020000: ids["mnt_ns_id"]}
assert sorted(e["ns_cflag"] for e in ns) == sorted(want), ns
assert all(e["ns_id"] == want[e["ns_cflag"]] for e in ns), (ns, ids)
PY
	wl_restore
	wl_expect_pass
}
