#!/usr/bin/env bats
# The shared fixtures (../shared/fixtures, absent in a plain clone): their
# workloads through ocicr dump/restore, and the images CRIU 4.2 made of them
# restored by ocicr.  See ../shared/fixtures/README.md for the set-up the
# CRIU images need.

load helpers

FIX_RUN=/tmp/ocicr-fixtures

setup() {
	requires root shared
	FIX=$SHARED/fixtures
}

teardown() {
	pkill -9 -f "$FIX/bin/pipetree " 2>/dev/null || true
	pkill -9 -f "$FIX_RUN/pipetree " 2>/dev/null || true
	wl_cleanup
}

@test "fixtures: counter through ocicr dump and restore" {
	wl_launch "$FIX/bin/counter" "$BATS_TEST_TMPDIR/counter"
	wl_dump
	wait_gone "$WL_PID"
	wl_restore
	wl_expect_pass
}

@test "fixtures: threads through ocicr dump and restore" {
	wl_launch "$FIX/bin/threads" "$BATS_TEST_TMPDIR/threads"
	wl_dump
	wait_gone "$WL_PID"
	wl_restore
	wl_expect_pass
}

@test "fixtures: pipetree (a session, groups, pipes, shared memory) through ocicr dump and restore" {
	wl_launch "$FIX/bin/pipetree" "$BATS_TEST_TMPDIR/pipetree"
	wl_dump
	n=$(ls "$WL_DIR"/img/core-*.img | wc -l)
	[ "$n" -eq 3 ] || fail "$n tasks dumped, 3 expected"
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

# Lay out what CRIU's images of NAME refer to, copy the images (restore
# writes its log and stats there) and skip if one of their pids is taken.
criu_setup() {
	local name=$1 tid
	IMG=$BATS_TEST_TMPDIR/criu-$name
	cp -r "$FIX/criu-4.2/$name" "$IMG"
	PID=$(cat "$IMG/PID")
	# The plan lists every thread id the images carry.
	run ocicr restore --plan-only -D "$IMG"
	assert_success
	tids=$(sed -n 's/.*thread(s): \([0-9 ]*\);.*/\1/p' <<<"$output")
	[ -n "$tids" ] || fail "no thread list in the plan: $output"
	for tid in $PID $tids; do
		[ -e "/proc/$tid" ] && skip "pid $tid, which the CRIU images of $name carry, is taken"
	done
	mkdir -p "$FIX_RUN/$name.d"
	install -m 0755 "$FIX/bin/$name" "$FIX_RUN/$name"
	rm -f "$FIX_RUN/$name.d/ready" "$FIX_RUN/$name.d/result"
	echo "$PID" >>"$BATS_TEST_TMPDIR/wl-pids"
}

# Restore the copied CRIU images; must work.
criu_restore() {
	run ocicr restore -D "$IMG" -d -o restore.log -v4
	[ "$status" -eq 0 ] || { show_log "$IMG/restore.log"; fail "restore failed: $output"; }
}

@test "fixtures: CRIU 4.2 images of counter restore with ocicr" {
	criu_setup counter
	printf '0123456789abcdef' >"$FIX_RUN/counter.d/result.data"
	chmod 0600 "$FIX_RUN/counter.d/result.data"
	criu_restore
	wl_verdict_in "$FIX_RUN/counter.d/result" "$PID"
	wait_gone "$PID"
}

@test "fixtures: CRIU 4.2 images of threads restore with ocicr" {
	criu_setup threads
	criu_restore
	for tid in $tids; do
		[ -e "/proc/$PID/task/$tid" ] || fail "thread $tid was not restored"
	done
	wl_verdict_in "$FIX_RUN/threads.d/result" "$PID"
	wait_gone "$PID"
}

@test "fixtures: CRIU 4.2 images of pipetree restore with ocicr" {
	criu_setup pipetree
	criu_restore
	for tid in $tids; do
		[ -e "/proc/$tid" ] || fail "task $tid was not restored"
	done
	wl_verdict_in "$FIX_RUN/pipetree.d/result" "$PID"
}
