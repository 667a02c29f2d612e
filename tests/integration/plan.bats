#!/usr/bin/env bats
# ocicr restore --plan-only: the plan, and nothing restored.

load helpers

setup() {
	requires root
}

teardown() {
	wl_cleanup
}

@test "restore --plan-only names the task, its fds and threads, and restores nothing" {
	wl_start files
	wl_dump
	wait_gone "$WL_PID"
	run ocicr restore --plan-only -D "$WL_DIR/img"
	assert_success
	assert_output --partial "create task $WL_PID"
	assert_output --partial "fd 10 <- /dev/null"
	assert_output --partial "fd 11 <- $WL_DIR/files-reg.dat @37"
	assert_output --partial "fd 12 <- $WL_DIR/files-append.log"
	assert_output --partial "fd 16 <- pipe"
	assert_output --partial "fd 17 <- pipe"
	assert_output --partial "fd 20 <- $WL_DIR/files-ghost.dat (unlinked, from ghost image)"
	assert_output --partial "fd 21 <- $WL_DIR/files-dir"
	assert_output --partial "fd 22 <- memfd wl-memfd"
	assert_output --partial "fd 100 <- /dev/null"
	assert_output --partial "cwd $WL_DIR"
	assert_output --partial "1 thread(s): $WL_PID"
	pid_gone "$WL_PID" || fail "--plan-only created task $WL_PID"
	# The images are still good for a real restore.
	wl_restore
	wl_expect_pass
}

@test "restore --plan-only works while the pid is still taken" {
	wl_start threads
	wl_dump -R
	run ocicr restore --plan-only -D "$WL_DIR/img"
	assert_success
	assert_output --partial "create task $WL_PID"
	assert_output --partial "5 thread(s): $WL_PID "
	wl_expect_pass
}
