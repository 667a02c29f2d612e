# Shared helpers for ocicr's integration tests: load with `load helpers`.
#
# Run from the repository root after `make`: bats tests/integration/X.bats
# OCICR        the binary under test (default: build/ocicr)
# OCICR_SHARED the shared test data (default: ../shared next to the checkout)

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

OCICR_ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
OCICR="${OCICR:-$OCICR_ROOT/build/ocicr}"
OCICR_SHARED="${OCICR_SHARED:-$BATS_TEST_DIRNAME/../../../shared}"
FIXTURES="$OCICR_SHARED/fixtures/criu-4.2"
FIXTURES_JSON="$OCICR_SHARED/fixtures/criu-4.2-json"

# Gates, for setup() or a single test.
requires_ocicr() {
	[ -x "$OCICR" ] || skip "no $OCICR: run 'make' first"
}

requires_fixtures() {
	[ -d "$FIXTURES" ] && [ -d "$FIXTURES_JSON" ] ||
		skip "no CRIU 4.2 fixtures at $OCICR_SHARED/fixtures (shared/ is absent in a fresh clone)"
}

requires_crit() {
	command -v crit >/dev/null || skip "crit is not installed (Debian package criu)"
	crit decode --help >/dev/null 2>&1 || skip "crit does not run here"
}

requires_python() {
	command -v python3 >/dev/null || skip "python3 is needed to compare JSON documents"
}

ocicr() {
	"$OCICR" "$@"
}

# json_equal A B: the two files hold equal JSON values (key order and
# layout aside); on a difference, show it.
json_equal() {
	printf '%s\t%s\n' "$1" "$2" | json_equal_pairs
}

# json_equal_pairs: like json_equal for each "A<tab>B" line of standard
# input, in one python run; fails if any pair differs.
json_equal_pairs() {
	python3 -c '
import json, sys, difflib
bad = 0
for line in sys.stdin:
    pa, pb = line.rstrip("\n").split("\t")
    try:
        a, b = (json.load(open(p)) for p in (pa, pb))
    except Exception as e:
        print("%s: %s" % (pa, e), file=sys.stderr)
        bad += 1
        continue
    if a != b:
        bad += 1
        da = json.dumps(a, indent=1, sort_keys=True).splitlines()
        db = json.dumps(b, indent=1, sort_keys=True).splitlines()
        print("\n".join(difflib.unified_diff(da, db, pa, pb, lineterm="", n=2)), file=sys.stderr)
sys.exit(1 if bad else 0)
'
}

# The image files of a fixture directory that crit can decode (those with
# a JSON twin), one per line.
fixture_images() {
	local set=$1 f
	for f in "$FIXTURES/$set"/*; do
		[ -f "$FIXTURES_JSON/$set/$(basename "$f").json" ] && echo "$f"
	done
	return 0
}

fixture_sets() {
	local d
	for d in "$FIXTURES"/*/; do
		basename "$d"
	done
}
