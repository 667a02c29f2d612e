#!/bin/bash
# Run unit test binaries (cmocka, TAP output) and bats files, stream their
# output, and end with one summary line: "N passed, N failed, N skipped".
# usage: run-tests.sh all UNIT_BIN... -- BATS_FILE...
#        run-tests.sh unit UNIT_BIN...
#        run-tests.sh integration BATS_FILE...
set -u
mode=$1; shift
units=(); bats_files=()
case $mode in
unit) units=("$@") ;;
integration) bats_files=("$@") ;;
all)
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do units+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	bats_files=("$@")
	;;
*) echo "usage: $0 all|unit|integration ..." >&2; exit 2 ;;
esac

passed=0 failed=0 skipped=0
log=$(mktemp); trap 'rm -f "$log"' EXIT

# Count TAP lines from one run.  A runner that dies without a plan or with
# fewer results than planned counts as one failure.
count_tap() {
	local name=$1 rc=$2 plan ok notok skip
	plan=$(grep -m1 -E '^1\.\.[0-9]+' "$log" | sed 's/^1\.\.//')
	# cmocka reports a skip as "not ok N # SKIP"; bats as "ok N # skip".
	skip=$(grep -cE '^(not )?ok .*# (skip|SKIP)' "$log")
	ok=$(grep -E '^ok ' "$log" | grep -cvE '# (skip|SKIP)')
	notok=$(grep -E '^not ok ' "$log" | grep -cvE '# (skip|SKIP)')
	passed=$((passed + ok)); skipped=$((skipped + skip)); failed=$((failed + notok))
	local seen=$((ok + notok + skip))
	if [ -z "$plan" ] || [ "$seen" -lt "$plan" ] || { [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; }; then
		echo "not ok - $name: runner exited $rc after $seen of ${plan:-?} results"
		failed=$((failed + 1))
	fi
}

for t in "${units[@]}"; do
	echo "# unit: $t"
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1 | tee "$log"
	count_tap "$t" "${PIPESTATUS[0]}"
done

if [ ${#bats_files[@]} -gt 0 ]; then
	echo "# integration: ${bats_files[*]}"
	bats --tap "${bats_files[@]}" 2>&1 | tee "$log"
	count_tap bats "${PIPESTATUS[0]}"
fi

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
