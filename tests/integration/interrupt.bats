#!/usr/bin/env bats
# Stopping a dump or a restore with a signal (Ctrl-C, a runtime's SIGTERM):
# ocicr holds the signal while it works, stops at its next safe point,
# undoes what it did as for any failure, and then dies of the signal.
# tests/integration/signal_at.py sends the signal at a known point: when
# the log shows a step begin, or before ocicr even starts.

load helpers

setup() {
	requires root python3
}

teardown() {
	wl_cleanup
}

signal_at() {
	"$BATS_TEST_DIRNAME/signal_at.py" "$@"
}

# The task is as it was: no image of it, and it checks itself (memory,
# memory map, no child left).
expect_untouched() {
	run image_files "$WL_DIR/img"
	assert_output ""
	wl_expect_pass
}

@test "dump: SIGTERM while the frozen tree's pages are copied stops it; the task runs on unchanged and ocicr dies of it" {
	wl_start bulk
	run signal_at line "dumping memory contents" TERM "$WL_DIR/log" -- \
		"$OCICR" dump -t "$WL_PID" -D "$WL_DIR/img" -o "$WL_DIR/log" -v4
	assert_output --partial "dump of $WL_PID failed: dumping memory contents of task $WL_PID: interrupted by SIGTERM"
	assert_line "signal SIGTERM"
	expect_untouched
}

@test "dump -R: SIGINT while the snapshot twin's pages are copied stops it; the twin is reaped, the task is unchanged" {
	# Enough pages that the copy is still going when the signal comes.
	export BULK_MIB=768
	wl_start bulk
	run signal_at line "sends" INT "$WL_DIR/log" -- \
		"$OCICR" dump -R -t "$WL_PID" -D "$WL_DIR/img" -o "$WL_DIR/log" -v4
	assert_output --partial "dump of $WL_PID failed: copying the memory snapshot of task $WL_PID: interrupted by SIGINT"
	assert_line "signal SIGINT"
	expect_untouched
}

@test "dump: a signal already pending when ocicr starts stops it at its first look; nothing is dumped" {
	wl_start bulk
	# The caller had the signal blocked: ocicr leaves it so, and exits 1.
	run signal_at pending HUP -- "$OCICR" dump -t "$WL_PID" -D "$WL_DIR/img"
	assert_output --partial "dump of $WL_PID failed: interrupted by SIGHUP"
	assert_line "exit 1"
	expect_untouched
}

@test "dump: a signal ocicr was started ignoring (nohup) does not stop it" {
	wl_start bulk
	run signal_at line "dumping memory contents" HUP "$WL_DIR/log" -- \
		bash -c 'trap "" HUP; exec "$@"' _ "$OCICR" dump -t "$WL_PID" -D "$WL_DIR/img" -o "$WL_DIR/log" -v4
	assert_line "exit 0"
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

@test "restore: a pending SIGTERM stops it before any task exists; a later restore works" {
	wl_start bulk
	wl_dump
	wait_tree_gone
	run signal_at pending TERM -- "$OCICR" restore -D "$WL_DIR/img" -d
	assert_output --partial "restore from $WL_DIR/img failed: interrupted by SIGTERM"
	assert_line "exit 1"
	pid_gone "$WL_PID" || fail "an interrupted restore left task $WL_PID"
	wl_restore
	wl_expect_pass
}

@test "restore without -d waits for the root and exits with its status; SIGTERM while it waits ends ocicr alone" {
	wl_start bulk
	wl_dump
	wait_tree_gone
	"$OCICR" restore -D "$WL_DIR/img" &
	local waiter=$!
	wait_for 30 grep -q "Restored task $WL_PID" "$WL_DIR/img/restore.log" || fail "no restore in 30 s"
	kill -0 "$waiter" || fail "ocicr restore did not wait for the root"
	wl_expect_pass # the root exits 0 once it passed
	local st=0
	wait "$waiter" || st=$?
	[ "$st" -eq 0 ] || fail "ocicr restore exited $st, the root 0"

	# The root was ocicr's child, reaped by it: its pid is free at once.
	# A log of its own, so that the first one's last line cannot be
	# taken for this restore's.
	rm -f "$WL_DIR/result"
	"$OCICR" restore -D "$WL_DIR/img" -o again.log &
	waiter=$!
	wait_for 30 grep -q "Restored task $WL_PID" "$WL_DIR/img/again.log" || fail "no second restore in 30 s"
	kill -TERM "$waiter"
	st=0
	wait "$waiter" || st=$?
	[ "$st" -eq 143 ] || fail "ocicr exited $st after SIGTERM, not 143"
	wl_expect_pass # the tree runs on without it
}

@test "restore: SIGTERM while the tasks load their memory stops it then, not once loading ends; nothing is left" {
	export BULK_MIB=768
	wl_start bulk
	wl_dump
	wait_tree_gone
	run signal_at line "Restoring 1 task(s)@300" TERM "$WL_DIR/log" -- \
		"$OCICR" restore -D "$WL_DIR/img" -d -o "$WL_DIR/log" -v4
	assert_output --partial "restore from $WL_DIR/img failed: restoring the tree: interrupted by SIGTERM"
	assert_line "signal SIGTERM"
	pid_gone "$WL_PID" || fail "an interrupted restore left task $WL_PID"
	run grep "Restored task" "$WL_DIR/log.txt"
	assert_failure
	wl_restore
	wl_expect_pass
}
