#!/usr/bin/env bats
# A pid namespace given from outside (a runc config naming a pid namespace
# path, a pod sharing one): the tree is not its init.  Named external at
# dump (--external pid[INODE]:KEY), it is joined at restore through the
# fd given for the key (--inherit-fd fd[N]:KEY, as runc passes it), the
# tree keeping its pids inside.  The namespace here is held by a shell of
# ours as its init (unshare --pid --fork), which reaps what is orphaned
# there (a zombie would keep its session's and group's pids taken); the
# workload enters it with nsenter.

load helpers

setup() {
	requires root unshare nsenter
	PIDNS_DIR=$BATS_TEST_TMPDIR/pidns
	mkdir -p "$PIDNS_DIR"
	hold_pidns
}

teardown() {
	wl_cleanup
	# The namespace's init takes every task left in it along.
	[ -n "${HOLDER:-}" ] && kill -9 "$HOLDER" 2>/dev/null
	return 0
}

# hold_pidns: a new pid namespace whose init is a reaping shell; sets
# HOLDER (that shell, in our pid namespace) and PIDNS_INO.
hold_pidns() {
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
		done
		setsid unshare --pid --fork bash -c 'while :; do sleep 1; done' </dev/null >/dev/null 2>&1 &
		echo $! >"$PIDNS_DIR/unshare"
	)
	local unshare
	unshare=$(cat "$PIDNS_DIR/unshare")
	wait_for 20 pgrep -P "$unshare" || fail "unshare made no init"
	HOLDER=$(pgrep -P "$unshare" | head -1)
	wait_for 20 test "$(readlink "/proc/$HOLDER/exe")" = "$(readlink -f /bin/bash)" || fail "no shell as init"
	PIDNS_INO=$(stat -L -c %i "/proc/$HOLDER/ns/pid")
}

# inner_pid PID: the pid of PID in its own pid namespace.
inner_pid() {
	awk '/^NSpid:/ { print $NF }' "/proc/$1/status"
}

start_in_pidns() {
	WL_WRAP="nsenter -t $HOLDER --pid setsid" WL_WRAP_FORKS=1 wl_start "$1"
	[ "$(stat -L -c %i "/proc/$WL_PID/ns/pid")" = "$PIDNS_INO" ] || fail "$1 is not in the held namespace"
}

@test "pidns: a tree in a pid namespace given from outside is restored into it by fd, with its pids there" {
	start_in_pidns pidns_member
	outer=$WL_PID
	inner=$(inner_pid "$WL_PID")
	[ "$inner" != 1 ] && [ "$inner" != "$WL_PID" ] || fail "pid $WL_PID is $inner inside"
	wl_dump --external "pid[$PIDNS_INO]:extRootPidNS"
	# The images speak of the namespace's pids; pidns-ID.img has the key.
	[ -e "$WL_DIR/img/core-$inner.img" ] || fail "no core-$inner.img: $(ls "$WL_DIR/img")"
	id=$(crit_get "$WL_DIR/img/ids-$inner.img" 'img["entries"][0]["pid_ns_id"]')
	run crit_get "$WL_DIR/img/pidns-$id.img" 'img["entries"][0]["ext_key"]'
	assert_output extRootPidNS
	wait_gone "$outer"
	# Not given: refused by name, nothing made.
	run ocicr restore -D "$WL_DIR/img" -d
	assert_failure
	assert_output --partial "the pid namespace was external (extRootPidNS) and is not given"
	wl_restore_root --inherit-fd fd[4]:extRootPidNS 4<"/proc/$HOLDER/ns/pid"
	[ "$(stat -L -c %i "/proc/$WL_PID/ns/pid")" = "$PIDNS_INO" ] || fail "restored outside the held namespace"
	[ "$(inner_pid "$WL_PID")" = "$inner" ] || fail "restored as $(inner_pid "$WL_PID") inside, not $inner"
	wl_expect_pass
}

@test "pidns: a tree that is not its pid namespace's init is refused unless the namespace is external, and runs on" {
	start_in_pidns pidns_member
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/img"
	assert_failure
	assert_output --partial "not its init"
	assert_output --partial "--external pid[INODE]:KEY"
	[ "$(task_state "$WL_PID")" != t ] || fail "task $WL_PID is still traced"
	wl_expect_pass
}

@test "pidns: a restore into the joined namespace whose pid is taken there fails and leaves nothing behind" {
	start_in_pidns pidns_member
	outer=$WL_PID
	inner=$(inner_pid "$WL_PID")
	wl_dump --external "pid[$PIDNS_INO]:extRootPidNS" --leave-running
	before=$(pgrep -c -x pidns_member || true)
	run ocicr restore -D "$WL_DIR/img" -d --inherit-fd fd[4]:extRootPidNS 4<"/proc/$HOLDER/ns/pid"
	assert_failure
	assert_output --partial "$inner"
	[ "$(pgrep -c -x pidns_member || true)" = "$before" ] || fail "tasks left behind: $(pgrep -a -x pidns_member)"
	[ "$(task_state "$outer")" != t ] || fail "task $outer is traced"
	wl_expect_pass
}

# The same images both ways with CRIU 4.2: it writes pidns-ID.img with the
# key only for an external namespace, as ocicr does, and joins it with
# set_tid as ocicr does.
@test "pidns: CRIU 4.2's images of a tree in an external pid namespace restore with ocicr into it, and ocicr's with CRIU" {
	[ -x "${CRIU_REF:-}" ] || skip "a comparison with CRIU 4.2: set CRIU_REF to a CRIU built outside the repo"
	start_in_pidns pidns_member
	inner=$(inner_pid "$WL_PID")
	run "$CRIU_REF" dump -t "$WL_PID" -D "$WL_DIR/img" -o dump.log --external "pid[$PIDNS_INO]:extRootPidNS"
	[ "$status" = 0 ] || fail "CRIU's dump: $(tail -5 "$WL_DIR/img/dump.log")"
	wait_gone "$WL_PID"
	wl_restore_root --inherit-fd fd[4]:extRootPidNS 4<"/proc/$HOLDER/ns/pid"
	[ "$(stat -L -c %i "/proc/$WL_PID/ns/pid")" = "$PIDNS_INO" ] && [ "$(inner_pid "$WL_PID")" = "$inner" ] ||
		fail "ocicr restored $WL_PID as $(inner_pid "$WL_PID") in $(readlink "/proc/$WL_PID/ns/pid")"
	mkdir "$WL_DIR/img2"
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/img2" --external "pid[$PIDNS_INO]:extRootPidNS"
	assert_success
	wait_gone "$WL_PID"
	run "$CRIU_REF" restore -D "$WL_DIR/img2" -d -o restore.log --pidfile "$WL_DIR/criu.pid" \
		--inherit-fd fd[4]:extRootPidNS 4<"/proc/$HOLDER/ns/pid"
	[ "$status" = 0 ] || fail "CRIU's restore: $(tail -5 "$WL_DIR/img2/restore.log")"
	WL_PID=$(cat "$WL_DIR/criu.pid")
	echo "$WL_PID" >>"$BATS_TEST_TMPDIR/wl-pids"
	[ "$(stat -L -c %i "/proc/$WL_PID/ns/pid")" = "$PIDNS_INO" ] && [ "$(inner_pid "$WL_PID")" = "$inner" ] ||
		fail "CRIU restored $WL_PID as $(inner_pid "$WL_PID") in $(readlink "/proc/$WL_PID/ns/pid")"
	wl_expect_pass
}
