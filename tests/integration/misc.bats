#!/usr/bin/env bats
# Process attributes: umask, cwd, rlimits, name, personality, no_new_privs,
# parent-death signal, child-subreaper, dumpable, credentials, session
# (tests/workloads/misc.c).

load helpers

setup() {
	requires root
}

teardown() {
	wl_cleanup
}

@test "misc: umask, cwd, rlimits, name, personality, prctl flags, scheduling policy and nice survive" {
	wl_roundtrip misc
}
