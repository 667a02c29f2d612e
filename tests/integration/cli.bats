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
