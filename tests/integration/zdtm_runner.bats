#!/usr/bin/env bats
# tests/zdtm/run.sh and summarize.py against a stand-in zdtm tree: a fake
# zdtm.py that prints what zdtm prints for a pass, a failed dump, a wrong
# restored state, a skip, a criu that leaves no log, and a hang.

load helpers

setup() {
	python3 -c 'import google.protobuf, yaml' 2>/dev/null ||
		/usr/bin/python3 -c 'import google.protobuf, yaml' 2>/dev/null ||
		skip "needs python3 with the protobuf and yaml modules (python3-protobuf python3-yaml)"
	command -v flock >/dev/null || skip "needs flock"
	FAKE=$BATS_TEST_TMPDIR/criu-tree
	mkdir -p "$FAKE/test/zdtm/static" "$FAKE/test/pycriu"
	touch "$FAKE/test/pycriu/rpc_pb2.py"
	printf '#!/bin/sh\n' > "$FAKE/test/zdtm/static/env00"
	chmod +x "$FAKE/test/zdtm/static/env00"
	cp "$BATS_TEST_DIRNAME/zdtm_fake.py" "$FAKE/test/zdtm.py"
	OUT=$BATS_TEST_TMPDIR/out
	KNOWN=$BATS_TEST_TMPDIR/known
	: > "$KNOWN"
}

runner() {
	ZDTM_DIR=$FAKE run "$REPO/tests/zdtm/run.sh" --criu /bin/true --out "$OUT" --known "$KNOWN" "$@"
}

field() { # field TEST N: column N of TEST's line in results.tsv
	awk -F '\t' -v t="$1" -v n="$2" '$1 == t { print $n }' "$OUT/results.tsv"
}

@test "zdtm runner: a passing test passes the run, with zdtm given the criu and extra arguments" {
	runner good -- --iters 2
	assert_success
	assert_output --partial "1 tests: 1 passed, 0 failed"
	[ "$(field zdtm/static/good 2)" = PASS ]
	run cat "$FAKE/test/args"
	assert_output "run -t zdtm/static/good -f h --criu-bin /bin/true --iters 2"
	# the run's lock (fd 9) is not handed on to zdtm and the criu
	fds=" $(cat "$FAKE/test/fds") "
	[[ $fds != *" 9 "* ]] || fail "zdtm got fd 9:$fds"
}

@test "zdtm runner: a failed dump names the first error of criu's log, noise and pids left out of the group" {
	echo "zdtm/static/other some reason" > "$KNOWN"
	ZDTM_NOISE='harmless noise' runner dumpfail
	assert_failure 1
	[ "$(field zdtm/static/dumpfail 2)" = FAIL ]
	[ "$(field zdtm/static/dumpfail 3)" = "CRIU dump" ]
	[ "$(field zdtm/static/dumpfail 4)" = "Error (criu/cr-dump.c:42): cannot dump task 4242: no vDSO" ]
	assert_output --partial "FAIL at CRIU dump: Error: cannot dump task N: no vDSO"
	assert_output --partial "Unexpected failures"
}

@test "zdtm runner: a wrong restored state names the program's own complaint" {
	runner wrongstate
	assert_failure 1
	[ "$(field zdtm/static/wrongstate 3)" = "result check" ]
	[ "$(field zdtm/static/wrongstate 4)" = "ERR: wrongstate.c:12: value lost (errno = 2 (No such file or directory))" ]
}

@test "zdtm runner: a criu that leaves no log file is reported with what it printed" {
	runner nolog
	assert_failure 1
	[ "$(field zdtm/static/nolog 2)" = ERROR ]
	[ "$(field zdtm/static/nolog 3)" = "criu dump" ]
	[[ "$(field zdtm/static/nolog 4)" == "ocicr: dump: not supported by ocicr yet: --bogus (zdtm: FileNotFoundError"* ]]
}

@test "zdtm runner: a hang is killed at the time limit, named by the criu action, and never a known failure" {
	echo "stuck known to fail" > "$KNOWN"
	SECONDS=0
	runner --timeout 2 stuck good
	assert_failure 1
	[ "$SECONDS" -lt 20 ]
	[ "$(field zdtm/static/stuck 2)" = HANG ]
	[ "$(field zdtm/static/stuck 3)" = "criu restore" ]
	[ "$(field zdtm/static/good 2)" = PASS ]
	run pgrep -f "zdtm_fake_sleeper"
	assert_failure
}

@test "zdtm runner: a criu that zdtm itself gave up waiting for is a hang" {
	runner slowcriu
	assert_failure 1
	[ "$(field zdtm/static/slowcriu 2)" = HANG ]
	[ "$(field zdtm/static/slowcriu 3)" = "criu dump" ]
}

@test "zdtm runner: known failures, patterns included, pass the run; a listed test that passes is reported" {
	printf '%s\n' '# comment' 'dump* criu cannot yet' 'zdtm/static/wrong* a reason  # trailing' 'good fixed by now' > "$KNOWN"
	runner dumpfail wrongstate good absent
	assert_success
	assert_output --partial "4 tests: 1 passed, 2 failed, 0 hung, 1 skipped"
	assert_output --partial "zdtm/static/absent (no frobnicate feature)"
	assert_output --partial "Listed as known failures but passed (take them off the list):"
	assert_output --partial "No unexpected failures."
	[ -s "$OUT/summary.txt" ]
	[ -s "$OUT/logs/zdtm_static_dumpfail.log" ]
}

@test "zdtm runner: a run's failures make a known-failures list that passes the same run" {
	runner --timeout 2 good dumpfail wrongstate stuck
	assert_failure 1
	python3 "$REPO/tests/zdtm/summarize.py" known "$OUT/results.tsv" > "$KNOWN"
	run cat "$KNOWN"
	assert_line --index 0 --partial "dumpfail"
	assert_line --index 1 --partial "wrongstate"
	[ "${#lines[@]}" -eq 2 ]
	runner --timeout 60 good dumpfail wrongstate
	assert_success
}

@test "zdtm runner: --all takes zdtm's list for the flavour, manual tests and other flavours left out" {
	runner --all
	run cut -f1 "$OUT/results.tsv"
	assert_output "$(printf '%s\n' zdtm/static/good zdtm/static/hostonly)"
}

@test "zdtm runner: usage errors name the problem" {
	run env -u ZDTM_DIR "$REPO/tests/zdtm/run.sh" good
	assert_failure 2
	assert_output --partial "set ZDTM_DIR"
	ZDTM_DIR=$BATS_TEST_TMPDIR run "$REPO/tests/zdtm/run.sh" good
	assert_failure 2
	assert_output --partial "not a CRIU source tree"
	runner --timeout soon good
	assert_failure 2
	assert_output --partial "--timeout: 'soon' is not a number"
	ZDTM_DIR=$FAKE run "$REPO/tests/zdtm/run.sh" --criu /nonexistent/criu good
	assert_failure 2
	assert_output --partial "no executable criu at /nonexistent/criu"
	runner
	assert_failure 2
	assert_output --partial "no tests"
}

@test "zdtm runner: a second run on the same tree is refused" {
	exec 8> "$FAKE/test/.ocicr-zdtm.lock"
	flock -n 8
	runner good
	exec 8>&-
	assert_failure 2
	assert_output --partial "another run is using"
}
