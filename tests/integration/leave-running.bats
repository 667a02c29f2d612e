#!/usr/bin/env bats
# ocicr dump --leave-running (-R): the task runs on as if nothing happened,
# and the images it left restore as well as any.

load helpers

setup() {
	requires root
}

teardown() {
	wl_cleanup
}

# Dump with -R and check the task is untouched; then wake it.
leave_running() {
	wl_start "$1"
	cat "/proc/$WL_PID/maps" >"$WL_DIR/maps.before"
	ls -l "/proc/$WL_PID/fd" | awk '{print $9, $10, $11}' >"$WL_DIR/fds.before"
	wl_dump -R
	# The files as the images know them, for restore_again.
	mkdir -p "$WL_DIR/files.saved"
	find "$WL_DIR" -maxdepth 1 -type f \( -name '*.dat' -o -name '*.log' \) -exec cp -a {} "$WL_DIR/files.saved/" \;
	[ -e "$WL_DIR/img/inventory.img" ] || fail "no inventory.img: the image set is incomplete"
	[ -e "/proc/$WL_PID" ] || fail "task $WL_PID is gone after dump -R"
	state=$(task_state "$WL_PID")
	case $state in
	R | S) ;;
	*) fail "task $WL_PID is in state $state after dump -R" ;;
	esac
	assert_equal "$(tracer_of "$WL_PID")" 0
	cat "/proc/$WL_PID/maps" >"$WL_DIR/maps.after"
	run diff "$WL_DIR/maps.before" "$WL_DIR/maps.after"
	assert_success
	refute_output --partial ocicr
	ls -l "/proc/$WL_PID/fd" | awk '{print $9, $10, $11}' >"$WL_DIR/fds.after"
	run diff "$WL_DIR/fds.before" "$WL_DIR/fds.after"
	assert_success
	wl_expect_pass
}

# The images of a task that ran on (and has since exited) restore too,
# once its files are back as they were at the dump.
restore_again() {
	wait_gone "$WL_PID"
	rm -f "$WL_DIR/result"
	cp -a "$WL_DIR/files.saved/." "$WL_DIR/"
	wl_restore
	wl_expect_pass
}

@test "dump -R: the files workload runs on unchanged, and its images restore" {
	leave_running files
	restore_again
}

@test "dump -R: the signals workload keeps its pending signals, and its images restore" {
	leave_running signals
	restore_again
}

@test "dump -R: the threads workload keeps running, and its images restore" {
	leave_running threads
	restore_again
}

@test "dump -R twice into one directory: the second image set replaces the first, and restores" {
	wl_start memory
	wl_dump -R
	local first
	first=$(stat -c %i "$WL_DIR/img/core-$WL_PID.img")
	wl_dump -R
	# Every image of the second dump is a new file under the old name,
	# and no temporary name is left behind.
	[ "$(stat -c %i "$WL_DIR/img/core-$WL_PID.img")" != "$first" ] || fail "core-$WL_PID.img was not replaced"
	run find "$WL_DIR/img" -name '.*.part'
	assert_output ""
	kill -KILL "$WL_PID"
	wait_gone "$WL_PID"
	wl_restore
	wl_expect_pass
}

@test "dump -R of a tree whose root is a subreaper: the twins it adopts are reaped from inside it, no child it did not make" {
	# the tree workload's root is a subreaper: each orphaned twin goes to it
	wl_start tree
	before=$(tree_children)
	wl_dump -R
	grep -q "adopted by task $WL_PID" "$WL_DIR/img/dump.log" || fail "no twin was adopted by the root: $(grep -c twin "$WL_DIR/img/dump.log") twin lines"
	assert_equal "$(tree_children)" "$before"
	wl_expect_pass
}
