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

@test "creds: each task's audit loginuid survives (set, changed, unset), restored by a shell whose own is set" {
	[ -e /proc/self/loginuid ] || skip "no audit loginuid in this kernel"
	wl_start loginuid
	wl_dump
	run crit_get "$WL_DIR/img/core-$WL_PID.img" 'img["entries"][0]["tc"]["loginuid"]'
	assert_output 4242
	wait_tree_gone
	# The restore inherits this shell's loginuid; each task must get its own.
	echo 77 >/proc/self/loginuid
	wl_restore
	wl_expect_pass
}

@test "creds: a loginuid the restore cannot set (a set one, no CAP_AUDIT_CONTROL) fails it by name, no task left" {
	[ -e /proc/self/loginuid ] || skip "no audit loginuid in this kernel"
	requires setpriv
	wl_start loginuid
	wl_dump
	wait_tree_gone
	echo 77 >/proc/self/loginuid
	run setpriv --bounding-set=-audit_control "$OCICR" restore -D "$WL_DIR/img" -d
	assert_failure
	assert_output --partial "cannot set its loginuid to 4242 (it has 77"
	[ ! -e "/proc/$WL_PID" ] || fail "task $WL_PID exists after a failed restore"
}
