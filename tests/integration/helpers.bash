# Shared helpers for the integration tests.  Each .bats file does
#   load helpers
# and gates itself with `requires ...` in setup.

load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
OCICR=${OCICR:-$REPO/build/ocicr}
WORKLOADS=${WORKLOADS:-$REPO/build/workloads}
SHARED=${OCICR_SHARED:-$REPO/../shared}

# requires root | shared | crit | cmd NAME
requires() {
	for req in "$@"; do
		case $req in
		root) [ "$(id -u)" -eq 0 ] || skip "needs root" ;;
		shared) [ -d "$SHARED/fixtures" ] || skip "needs ../shared/fixtures (not in a plain clone)" ;;
		crit) command -v crit >/dev/null || skip "needs crit (Debian package criu)" ;;
		*) command -v "$req" >/dev/null || skip "needs $req" ;;
		esac
	done
}

ocicr() {
	"$OCICR" "$@"
}
