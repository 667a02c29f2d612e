#!/usr/bin/env bats
# The vDSO: this kernel's mapped where the task had it when the image is from
# this kernel; otherwise the image's restored as memory, its functions
# redirected to this kernel's (tests/workloads/vdso.c calls the clocks
# through it and compares each answer with the system call's).

load helpers

setup() {
	requires root
}

teardown() {
	wl_cleanup
}

vdso_start_in_maps() {
	awk '/\[vdso\]/ { split($1, a, "-"); print a[1] }' "/proc/$1/maps"
}

image_vdso_start() {
	ocicr image decode -i "$WL_DIR/img/mm-$WL_PID.img" |
		python3 -c 'import json,sys
for v in json.load(sys.stdin)["entries"][0]["vmas"]:
    s = v["status"]; s = int(s, 16) if isinstance(s, str) else s
    if s & 8:
        st = v["start"]; print("%x" % (int(st, 16) if isinstance(st, str) else st))'
}

@test "vdso: on its own kernel the task gets this kernel's vDSO at its old address" {
	wl_start vdso
	local before
	before=$(vdso_start_in_maps "$WL_PID")
	wl_dump
	wait_tree_gone
	wl_restore
	[ "$(vdso_start_in_maps "$WL_PID")" = "$before" ] || fail "the vDSO moved"
	run grep -c "vDSO is not this kernel's" "$WL_DIR/img/restore.log"
	assert_output 0
	wl_expect_pass
}

@test "vdso: another kernel's vDSO is restored as memory and its functions reach this kernel's" {
	wl_start vdso
	wl_dump
	# Byte 10 of the ELF identification is padding: the code stays
	# runnable, but the image is no longer this kernel's vDSO.
	"$REPO/tests/integration/vdso_poke.py" "$OCICR" "$WL_DIR/img" "$WL_PID" --byte 10 0x5a
	local old
	old=$(image_vdso_start)
	wait_tree_gone
	wl_restore
	run grep "vDSO is not this kernel's (its code differs)" "$WL_DIR/img/restore.log"
	assert_success
	run grep -E "function\(s\) of the old one at 0x$old redirected" "$WL_DIR/img/restore.log"
	assert_success
	[ "$(vdso_start_in_maps "$WL_PID")" != "$old" ] || fail "this kernel's vDSO is at the old address"
	# The old vDSO is ordinary memory now, with the changed byte.
	run dd if="/proc/$WL_PID/mem" bs=1 skip=$((0x$old + 10)) count=1 status=none
	[ "$output" = "Z" ] || fail "the old vDSO's bytes are not the image's"
	wl_expect_pass
}

@test "vdso: an old vDSO function this kernel lacks fails the restore by name; nothing is left" {
	wl_start vdso
	wl_dump
	"$REPO/tests/integration/vdso_poke.py" "$OCICR" "$WL_DIR/img" "$WL_PID" --rename __vdso_time __vdso_tXme
	wait_tree_gone
	run ocicr restore -D "$WL_DIR/img" -d -o restore.log
	assert_failure
	assert_output --partial "the image's vDSO has __vdso_tXme, which this kernel's lacks"
	pid_gone "$WL_PID" || fail "task $WL_PID was left behind"
}

@test "vdso: a task that unmapped its vDSO is dumped (system calls run from its own code) and comes back without one" {
	wl_roundtrip no_vdso
	grep -q "no vDSO; system calls run from" "$WL_DIR/img/dump.log" || fail "dump.log does not say where the calls ran"
}
