#!/usr/bin/env bats
# Credentials, per thread: uids, gids, groups, capabilities (with bounding
# set and ambient), securebits (tests/workloads/creds.c).

load helpers

setup() {
	requires root
}

teardown() {
	wl_cleanup
}

@test "creds: each thread's uids, gids, groups, capabilities and securebits survive" {
	wl_roundtrip creds
}
