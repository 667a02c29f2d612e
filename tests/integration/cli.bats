#!/usr/bin/env bats
# The command line itself: help, version, usage errors and exit codes.

load helpers

@test "ocicr --help lists the commands and exits 0" {
	run ocicr --help
	assert_success
	assert_output --partial "Usage: ocicr COMMAND"
	assert_output --partial "version"
}

@test "ocicr without a command is a usage error (exit 2)" {
	run ocicr
	assert_failure 2
	assert_output --partial "Usage:"
}

@test "an unknown command is a usage error naming it" {
	run ocicr frobnicate
	assert_failure 2
	assert_output --partial "unknown command 'frobnicate'"
}

@test "ocicr --version prints the version" {
	run ocicr --version
	assert_success
	assert_output --regexp '^ocicr version [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "dump and restore name a bad pid or log level as usage errors (exit 2) and write nothing" {
	local dir=$BATS_TEST_TMPDIR/img
	for t in abc 0 -5 12x 99999999999; do
		run ocicr dump -t "$t" -D "$dir"
		assert_failure 2
		assert_output --partial "-t: '$t' is not a pid"
	done
	run ocicr dump -t 1 -D "$dir" -vq
	assert_failure 2
	assert_output --partial "-v: 'q' is not a level"
	run ocicr restore -D "$dir" -v9
	assert_failure 2
	assert_output --partial "-v: '9' is not a level"
	[ ! -e "$dir" ] || fail "a usage error created $dir"
}

@test "-v takes a digit, or raises the level by one a letter as CRIU's -v, -vv do" {
	local dir=$BATS_TEST_TMPDIR/img
	# The dump of a missing pid logs its error line at any level but 0.
	run ocicr dump -t 999999999 -D "$dir" -v
	assert_failure 1
	grep -q "Debug: " "$dir/dump.log" || fail "-v (3 + 1) did not log at debug level"
	run ocicr dump -t 999999999 -D "$dir" -v1
	assert_failure 1
	! grep -q "Debug: \|Info: " "$dir/dump.log" || fail "-v1 logged more than errors"
	grep -q "Error: " "$dir/dump.log" || fail "-v1 did not log the error"
	run ocicr dump -t 999999999 -D "$dir" -v1 -vv
	assert_failure 1
	grep -q "Info: " "$dir/dump.log" || fail "-v1 -vv (1 + 2) did not log progress"
	! grep -q "Debug: " "$dir/dump.log" || fail "-v1 -vv (1 + 2) logged debug lines"
}

@test "restore from a missing or non-directory images path names it (exit 1)" {
	run ocicr restore -D "$BATS_TEST_TMPDIR/none" -d
	assert_failure 1
	assert_output "ocicr: images directory $BATS_TEST_TMPDIR/none: No such file or directory"
	touch "$BATS_TEST_TMPDIR/file"
	run ocicr restore -D "$BATS_TEST_TMPDIR/file" --plan-only
	assert_failure 1
	assert_output "ocicr: images directory $BATS_TEST_TMPDIR/file: Not a directory"
}
