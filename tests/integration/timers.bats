#!/usr/bin/env bats
# Timers: itimers and POSIX timers with their ids, clocks, signals,
# targets and times (tests/workloads/timers.c).

load helpers

setup() {
	requires root
}

teardown() {
	wl_cleanup
}

@test "timers: itimers and POSIX timers keep ids, clocks, signals and times" {
	wl_roundtrip timers
}
