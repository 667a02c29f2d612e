#!/usr/bin/env bats
# Threads: tids, TLS, per-thread masks, names, FPU state
# (tests/workloads/threads.c).

load helpers

setup() {
	requires root
}

teardown() {
	wl_cleanup
}

@test "threads: every thread comes back with its tid, TLS, mask and name, and runs" {
	wl_roundtrip threads
}

@test "threads: each thread has its own core image" {
	wl_start threads
	wl_dump
	wait_gone "$WL_PID"
	run find "$WL_DIR/img" -name 'core-*.img'
	assert_success
	[ "${#lines[@]}" -eq 5 ] || fail "expected 5 core images (main + 4 workers), got: $output"
	wl_restore
	wl_expect_pass
}

@test "threads: a process whose main thread exited fails the dump, saying so; the other thread runs on" {
	wl_start leader_exit
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/img"
	assert_failure 1
	assert_output --partial "the main thread of process $WL_PID has exited while 1 other thread(s) run on"
	refute_output --partial "is a zombie"
	assert_equal "$(tracer_of "$WL_PID")" 0
	wl_expect_pass
}

@test "threads: real-time policies with their priorities, the reset-on-fork flag, an idle policy and nice values survive" {
	wl_roundtrip sched_rt
}

@test "threads: a thread frozen inside an rseq critical section resumes at its abort handler, still registered" {
	wl_roundtrip rseq_cs
}
