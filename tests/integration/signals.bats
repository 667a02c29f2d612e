#!/usr/bin/env bats
# Signal state: handlers with their flags and masks, SIG_IGN, alternate
# stacks, per-thread masks, and pending signals with their siginfo
# (tests/workloads/signals.c).

load helpers

setup() {
	requires root
}

teardown() {
	wl_cleanup
}

@test "signals: dispositions, masks, altstacks and pending signals survive" {
	wl_roundtrip signals
}

@test "signals: pending signals are in the core images" {
	requires crit
	wl_start signals
	wl_dump
	wait_gone "$WL_PID"
	# The shared queue holds SIGUSR2 and SIGRTMIN+3 twice, each thread's
	# queue its own SIGHUP / SIGWINCH.
	run crit_get "$WL_DIR/img/core-$WL_PID.img" 'len(img["entries"][0]["tc"]["signals_s"]["signals"])'
	assert_success
	assert_output 3
	for core in "$WL_DIR"/img/core-*.img; do
		run crit_get "$core" 'len(img["entries"][0]["thread_core"]["signals_p"]["signals"])'
		assert_success
		assert_output 1
	done
	wl_restore
	wl_expect_pass
}

@test "signals: children stopped in a read, with a second SIGSTOP queued or not, come back stopped" {
	wl_roundtrip stopped
}

@test "signals: a caught, queued or ignored SIGTRAP keeps its disposition across restore" {
	wl_roundtrip sigtrap
}
