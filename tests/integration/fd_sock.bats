#!/usr/bin/env bats
# Unix sockets, FIFOs and file locks across a checkpoint: each workload
# sets its state up, is dumped (and killed), restored, and checks itself.
# What ocicr cannot dump fails the dump cleanly, and the task runs on.

load helpers
load helpers_fdsock

setup() {
	requires root
	[ -x "$OCICR" ] || skip "build ocicr first (make)"
	[ -x "$WORKLOADS/fdsock_pair" ] || skip "build the workloads first (make check)"
	DIR=$BATS_TEST_TMPDIR
	WL_PID=
}

teardown() {
	fdsock_cleanup
	[ -z "${UNIX_NETNS:-}" ] || ip netns del "$UNIX_NETNS" 2>/dev/null || true
}

# ---- round trips -----------------------------------------------------------

# As zdtm's ns flavour runs them: the tree in a network namespace that is
# not ocicr's.  The kernel lists a namespace's unix sockets only to a
# netlink socket made in it (ocicr's own saw none, and the dump crashed).
@test "socket pairs of a tree in a network namespace not ocicr's come back" {
	requires ip
	UNIX_NETNS=ocicr-unix-$$-$BATS_TEST_NUMBER
	ip netns add "$UNIX_NETNS"
	FDSOCK_NETNS=$UNIX_NETNS fdsock_start fdsock_pair
	fdsock_dump
	fdsock_restore
	[ "$(readlink "/proc/$WL_PID/ns/net")" != "$(readlink /proc/self/ns/net)" ] ||
		fail "restored into ocicr's network namespace"
	fdsock_expect_pass
}

@test "socket pairs of every type keep queues both ways, boundaries, shutdowns, flags, names" {
	fdsock_round fdsock_pair
}

@test "seqpacket pairs shut for reading, shut both ways, with a closed peer or empty messages: the dump ends, all come back" {
	fdsock_start fdsock_seqpacket
	# A dump that peeks a shut seqpacket socket forever must fail the test,
	# not hang it: the worker that traces the tree outlives a killed ocicr
	# until its next safe point, so it goes too.
	if ! timeout -s KILL 60 "$OCICR" dump -t "$WL_PID" -D "$DIR/img" -o - >"$DIR/dump.out" 2>&1; then
		local tracer
		tracer=$(awk '/^TracerPid:/ { print $2 }' "/proc/$WL_PID/status" 2>/dev/null)
		[ "${tracer:-0}" = 0 ] || kill -9 "$tracer"
		fail "the dump failed or did not end in 60 s: $(cat "$DIR/dump.out")"
	fi
	fdsock_wait_gone
	fdsock_restore
	fdsock_expect_pass
}

@test "listeners on a path and an abstract name: accepted and waiting connections, names, new clients" {
	fdsock_start fdsock_listen
	fdsock_dump
	# The dumped tree left its socket files behind: restore replaces them.
	[ -S "$DIR/srv-$WL_PID" ] || fail "no stale socket file at $DIR/srv-$WL_PID"
	[ ! -e "$DIR/gone-$WL_PID" ] || fail "the unlinked listener's path came back at dump"
	fdsock_restore
	[ ! -e "$DIR/gone-$WL_PID" ] || fail "restore left the unlinked listener's path behind"
	[ ! -e "$DIR/gone-$WL_PID.ocicr-parked" ] || fail "restore left a parked path behind"
	fdsock_expect_pass
}

@test "a parent and a child keep their socket pairs, FIFOs and connections, queued both ways" {
	fdsock_start fdsock_tree
	[ "$(echo "$WL_PIDS" | wc -w)" -eq 2 ] || fail "expected 2 processes, got: $WL_PIDS"
	fdsock_dump
	fdsock_restore
	fdsock_expect_pass
}

@test "FIFOs keep their bytes: read-write, reader and writer, a lone writer, a grown one" {
	fdsock_round fdsock_fifo
}

@test "FIFOs whose names were removed come back nameless, with their bytes, modes and ends" {
	fdsock_start fdsock_fifo_gone
	fdsock_dump
	fdsock_restore
	run ls "$DIR"
	refute_output --partial "gone-"
	fdsock_expect_pass
}

@test "flock, POSIX and OFD locks are held again after restore (--file-locks)" {
	fdsock_round fdsock_locks --file-locks
}

@test "a listener's path taken by another kind of file fails the restore; once freed, restore works" {
	fdsock_start fdsock_listen
	fdsock_dump
	rm -f "$DIR/srv-$WL_PID"
	echo precious >"$DIR/srv-$WL_PID"
	run ocicr restore -D "$DIR/img" -d -o -
	assert_failure
	assert_output --partial "$DIR/srv-$WL_PID: it exists and is not a socket"
	run cat "$DIR/srv-$WL_PID"
	assert_output precious
	[ ! -d "/proc/$WL_PID" ] || fail "the failed restore left task $WL_PID"
	rm "$DIR/srv-$WL_PID"
	fdsock_restore
	fdsock_expect_pass
}

@test "a listener's path held by a live socket outside the image fails the restore and is left alone" {
	requires python3
	fdsock_start fdsock_listen
	fdsock_dump
	rm -f "$DIR/srv-$WL_PID"
	python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
open(sys.argv[2], "w").write("up")
time.sleep(30)' "$DIR/srv-$WL_PID" "$DIR/outsider.up" 3>&- &
	local outsider=$!
	for i in $(seq 100); do [ -s "$DIR/outsider.up" ] && break; sleep 0.05; done
	run ocicr restore -D "$DIR/img" -d -o -
	local still=no
	[ -S "$DIR/srv-$WL_PID" ] && still=yes
	kill "$outsider"
	wait "$outsider" 2>/dev/null || true
	[ "$still" = yes ] || fail "the outsider's socket file was removed"
	assert_failure
	assert_output --partial "cannot bind to $DIR/srv-$WL_PID: a live socket outside the image holds it"
}

@test "files passed with SCM_RIGHTS and not yet received come back in flight: pipes, a file, an epoll, an eventfd, a unix socket, on datagram, seqpacket and stream sockets" {
	fdsock_round fdsock_scm
}

@test "unix socket names removed with their directory, one datagram name bound twice, a socket connected to itself" {
	fdsock_start fdsock_gone_names
	fdsock_dump
	fdsock_restore
	[ ! -e "$DIR/gn-dg" ] || fail "restore left the directory made to bind in"
	[ ! -e "$DIR/gn-st" ] || fail "restore left the directory made to listen in"
	fdsock_expect_pass
}

# ---- images ----------------------------------------------------------------

@test "images with unix sockets, queues, FIFOs and locks decode with crit" {
	requires crit
	fdsock_start fdsock_tree
	fdsock_dump
	fdsock_crit_decode "$DIR/img"
	for img in files.img sk-queues.img fifo-data.img; do
		[ -s "$DIR/img/$img" ] || fail "no $img"
	done
	run crit decode -i "$DIR/img/files.img"
	assert_output --partial '"UNIXSK"'
	assert_output --partial '"FIFO"'
	fdsock_restore
	fdsock_expect_pass
	fdsock_cleanup

	DIR=$BATS_TEST_TMPDIR/locks
	mkdir -p "$DIR"
	fdsock_start fdsock_locks
	fdsock_dump --file-locks
	fdsock_crit_decode "$DIR/img"
	run crit decode -i "$DIR/img/filelocks.img"
	assert_success
	assert_output --partial '"FILE_LOCKS"'
	fdsock_restore
	fdsock_expect_pass
}

@test "files in flight are file entries without fds, named in order by the message's scm entry (crit)" {
	requires crit python3
	fdsock_start fdsock_scm
	fdsock_dump
	fdsock_crit_decode "$DIR/img"
	crit decode -i "$DIR/img/sk-queues.img" >"$DIR/q.json"
	crit decode -i "$DIR/img/files.img" >"$DIR/f.json"
	run python3 - "$DIR" <<'PY'
import json, subprocess, sys, glob
d = sys.argv[1]
q = json.load(open(d + "/q.json"))["entries"]
files = {e["id"]: e["type"] for e in json.load(open(d + "/f.json"))["entries"]}
used = set()
for img in glob.glob(d + "/img/fdinfo-*.img"):
    out = subprocess.run(["crit", "decode", "-i", img], capture_output=True, check=True).stdout
    used |= {e["id"] for e in json.loads(out)["entries"]}
rights = [(m["scm"][0]["type"], [files.get(i) for i in m["scm"][0]["rights"]])
          for m in q if m.get("scm")]
want = [(1, ["PIPE"]), (1, ["PIPE", "REG"]), (1, ["EVENTPOLL"]), (1, ["EVENTFD"]), (1, ["EVENTFD"]), (1, ["UNIXSK"]), (1, ["REG"]),
        (1, ["PIPE"])]
if sorted(map(str, rights)) != sorted(map(str, want)):
    sys.exit("rights: %s" % rights)
ids = [i for m in q for s in m.get("scm", []) for i in s["rights"]]
if sum(i not in used for i in ids) != 8:
    sys.exit("files only in flight should have no fd: %s of %s" % ([i for i in ids if i in used], ids))
PY
	assert_success
}

# ---- refusals --------------------------------------------------------------

# fdsock_refused MODE MESSAGE [OPTION...]: the dump of fdsock_unsup in MODE
# fails with MESSAGE naming the task and fd 10, writes no image set, and the
# workload runs on, intact.
fdsock_refused() {
	local mode=$1 msg=$2
	shift 2
	fdsock_start fdsock_unsup FDSOCK_MODE="$mode"
	run ocicr dump -t "$WL_PID" -D "$DIR/img" -o - "$@"
	assert_failure
	assert_output --partial "task $WL_PID"
	assert_output --partial "fd 10"
	assert_output --partial "$msg"
	[ ! -e "$DIR/img/inventory.img" ] || fail "a failed dump left an image set"
	kill -0 "$WL_PID" || fail "the workload died"
	fdsock_expect_pass
}

@test "a unix socket connected outside the tree fails the dump, naming task and fd; the task runs on" {
	fdsock_refused outside "connected to one outside the dumped tree"
}

@test "an established TCP connection without --tcp-established fails the dump, naming it; the connection still works" {
	fdsock_refused inet "(established): dumping it needs --tcp-established"
}

@test "a TCP listener with a connection waiting to be accepted fails the dump; the connection still waits" {
	fdsock_refused pending "has 1 connection(s) waiting to be accepted"
}

@test "a corked UDP socket fails the dump, naming it; the task runs on" {
	fdsock_refused corked "is corked (UDP_CORK) with data held back: cannot dump it"
}

@test "a file in flight on a unix socket that ocicr cannot dump fails the dump; the queue is left as it was" {
	fdsock_refused scm "a file in flight is anon_inode:[userfaultfd], a kind of file ocicr cannot dump yet"
}

@test "a held lock without --file-locks fails the dump; the lock stays held" {
	fdsock_refused lock "holds a flock lock: dump file locks with --file-locks"
}

@test "--plan-only lists unix sockets' stages, each after the one before, every socket opened after the last" {
	fdsock_start fdsock_listen
	fdsock_dump
	run ocicr restore -D "$DIR/img" --plan-only
	assert_success
	local stage prev=0 at
	for stage in "listeners" "sockets and pairs" "datagram peers" "waiting connections" \
		"queued data" "options and shutdowns"; do
		at=$(echo "$output" | grep -n "unix sockets: $stage\( \|\$\)" | cut -d: -f1)
		[ -n "$at" ] || fail "no stage '$stage' in the plan"
		[ "$at" -gt "$prev" ] || fail "stage '$stage' comes before the one it follows"
		prev=$at
	done
	local first_open
	first_open=$(echo "$output" | grep -n "open file .*UNIXSK" | head -1 | cut -d: -f1)
	[ -n "$first_open" ] || fail "no unix socket is opened in the plan"
	[ "$first_open" -gt "$prev" ] || fail "a unix socket is opened before the last stage"
	fdsock_restore
	fdsock_expect_pass
}
