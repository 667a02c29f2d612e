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

# This host has neither AppArmor nor SELinux (its LSMs: lockdown,
# capability, landlock, bpf).  Images whose threads carry a label, as CRIU
# writes them on an AppArmor host, are refused before anything is made
# rather than restored unconfined.
@test "creds: an AppArmor label in the images is refused at restore on a host without AppArmor, nothing made" {
	if [ -e /sys/fs/selinux/enforce ] || cat /proc/self/attr/apparmor/current >/dev/null 2>&1; then
		skip "this host has an LSM with labels"
	fi
	wl_start creds
	wl_dump
	wait_tree_gone
	run crit_get "$WL_DIR/img/inventory.img" 'img["entries"][0]["lsmtype"]'
	assert_output NO_LSM
	run crit_get "$WL_DIR/img/core-$WL_PID.img" 'img["entries"][0]["thread_core"]["creds"].get("lsm_profile")'
	assert_output None
	for f in inventory core-$WL_PID; do
		crit decode -i "$WL_DIR/img/$f.img" | python3 -c '
import json, sys
img = json.load(sys.stdin)
e = img["entries"][0]
if "lsmtype" in e:
    e["lsmtype"] = "APPARMOR"
else:
    e["thread_core"]["creds"]["lsm_profile"] = "containers-default-0.50.1"
json.dump(img, sys.stdout)' >"$BATS_TEST_TMPDIR/$f.json"
		crit encode -i "$BATS_TEST_TMPDIR/$f.json" -o "$WL_DIR/img/$f.img"
	done
	wl_restore_refused "AppArmor label 'containers-default-0.50.1', but this host has no AppArmor and no SELinux"
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
	# Whichever task gets there first fails (4242, unset or 4343).
	assert_output --regexp "cannot set its loginuid to (4242|4294967295|4343) \(it has 77;"
	[ ! -e "/proc/$WL_PID" ] || fail "task $WL_PID exists after a failed restore"
}
