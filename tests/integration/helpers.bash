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

# Gates and paths of the image tests (image.bats).
OCICR_ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
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

# ---- workloads ----------------------------------------------------------
#
# A workload (tests/workloads/*.c, built into $WORKLOADS) runs as
# `PROG READY RESULT`: it writes "ready" to READY once its state is set up,
# waits for SIGUSR1, checks that state and writes "PASS" or "FAIL: why" to
# RESULT.  The helpers below keep one workload per test in WL_NAME, WL_PID
# and WL_DIR (which holds READY, RESULT, the workload's own files and the
# images in img/).  Waits poll with generous limits: a loaded two-core CI
# machine is slow, and PID 1 here reaps orphans only about once a second.

# wait_for SECONDS CMD...: poll until CMD succeeds; fails after SECONDS.
wait_for() {
	local limit=$1 end
	shift
	end=$((SECONDS + limit))
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}

pid_gone() {
	[ ! -e "/proc/$1" ]
}

# wait_gone PID: until the pid is free again (the task exited and was reaped).
wait_gone() {
	wait_for 20 pid_gone "$1" || fail "pid $1 still exists 20 s later: $(cat /proc/"$1"/status 2>/dev/null | head -3)"
}

# Start PROG detached, as a checkpointed task usually is: a session of its
# own, /dev/null on fds 0-2, no other fd of ours (bats talks on fd 3), and
# not our child (the subshell exits at once, so init adopts it).
# With WL_WRAP set (e.g. "unshare --uts --ipc"), PROG runs under that
# command; with WL_WRAP_FORKS=1 as its child (unshare --fork), which is
# then WL_PID.
# usage: wl_launch PROG DIR; sets WL_PID, WL_DIR.
wl_launch() {
	local prog=$1
	WL_DIR=$2
	mkdir -p "$WL_DIR/img"
	rm -f "$WL_DIR/ready" "$WL_DIR/result" "$WL_DIR/pid"
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
		done
		cd "$WL_DIR" || exit 1
		# shellcheck disable=SC2086
		setsid ${WL_WRAP:-} "$prog" "$WL_DIR/ready" "$WL_DIR/result" </dev/null >/dev/null 2>&1 &
		echo $! >"$WL_DIR/pid"
	)
	WL_PID=$(cat "$WL_DIR/pid")
	echo "$WL_PID" >>"$BATS_TEST_TMPDIR/wl-pids"
	wait_for 30 wl_settled || fail "$prog did not become ready in 30 s"
	if [ ! -s "$WL_DIR/ready" ]; then
		fail "$prog did not start: $(cat "$WL_DIR/result" 2>/dev/null || echo "exited")"
	fi
	if [ "${WL_WRAP_FORKS:-0}" = 1 ]; then
		WL_PID=$(pgrep -P "$WL_PID" | head -1)
	fi
	# setsid(1) forks when it leads a process group: then $! is not PROG.
	# (A main thread that exited has no exe link: ask its other threads.)
	local exe t
	exe=$(readlink "/proc/$WL_PID/exe") || true
	for t in /proc/"$WL_PID"/task/*; do
		[ -n "$exe" ] && break
		exe=$(readlink "$t/exe") || true
	done
	[ "$exe" = "$(readlink -f "$prog")" ] ||
		fail "pid $WL_PID is not $prog (is setsid forking?)"
}

wl_settled() {
	[ -s "$WL_DIR/ready" ] || [ -s "$WL_DIR/result" ] || pid_gone "$WL_PID"
}

# wl_start NAME: start one of our workloads.
wl_start() {
	WL_NAME=$1
	[ -x "$WORKLOADS/$1" ] || fail "$WORKLOADS/$1 is not built (make check builds it)"
	wl_launch "$WORKLOADS/$1" "$BATS_TEST_TMPDIR/$1"
}

# Show the tail of a log when a step failed.
show_log() {
	echo "---- $1 (tail) ----"
	tail -n 40 "$1" 2>/dev/null || echo "(none)"
}

# must_cr TOOL ACTION DIR [ARGS...]: TOOL (ocicr, or a CRIU 4.2) runs
# ACTION (dump, restore) with the images in DIR, logging to ACTION.log
# there at -v4; must work: a failure shows the log.
must_cr() {
	local tool=$1 action=$2 dir=$3
	shift 3
	run "$tool" "$action" -D "$dir" -o "$action.log" -v4 "$@"
	if [ "$status" -ne 0 ]; then
		show_log "$dir/$action.log"
		fail "$tool $action -D $dir failed ($status): $output"
	fi
}

# wl_dump [ARGS...]: checkpoint the workload into $WL_DIR/img; must work.
wl_dump() {
	must_cr ocicr dump "$WL_DIR/img" -t "$WL_PID" "$@"
}

# wl_restore [ARGS...]: restore $WL_DIR/img detached; must work.
wl_restore() {
	must_cr ocicr restore "$WL_DIR/img" -d "$@"
}

# wl_restore_refused WHY [ARGS...]: restoring $WL_DIR/img fails, saying
# WHY; no pid file is written and no task of the workload is left.
wl_restore_refused() {
	local why=$1
	shift
	run ocicr restore -D "$WL_DIR/img" -d -o restore.log -v4 --pidfile "$WL_DIR/restored.pid" "$@"
	assert_failure
	assert_output --partial "$why"
	[ ! -e "$WL_DIR/restored.pid" ] || fail "a pid file was written"
	run pgrep -f "$WL_DIR/ready"
	assert_failure
}

# wl_restore_root [ARGS...]: wl_restore, for a root that gets another pid
# here (pid 1 of a new pid namespace): WL_PID becomes that one, which the
# teardown kills too.
wl_restore_root() {
	wl_restore --pidfile "$WL_DIR/restored.pid" "$@"
	WL_PID=$(cat "$WL_DIR/restored.pid")
	echo "$WL_PID" >>"$BATS_TEST_TMPDIR/wl-pids"
}

# wl_verdict_in FILE PID: wake PID and expect PASS in FILE.
wl_verdict_in() {
	local result=$1 pid=$2
	kill -USR1 "$pid" 2>/dev/null || fail "task $pid is not running"
	wait_for 30 verdict_written "$result" "$pid" || fail "task $pid wrote no verdict in 30 s"
	[ -s "$result" ] || fail "task $pid died without a verdict"
	run cat "$result"
	assert_output "PASS"
}

verdict_written() {
	[ -s "$1" ] && return 0
	# Gone without a verdict: look once more, the rename may have raced.
	pid_gone "$2" && return 0
	return 1
}

wl_expect_pass() {
	wl_verdict_in "$WL_DIR/result" "$WL_PID"
}

# Every task of the tree dumped in DIR (default $WL_DIR/img) must be gone
# before its pid can be reused.
wait_tree_gone() {
	local core p
	for core in "${1:-$WL_DIR/img}"/core-*.img; do
		p=${core##*/core-}
		wait_gone "${p%.img}"
	done
}

# The whole cycle: start, dump (the task is killed), wait until the pids
# of its tree are free, restore, check.
wl_roundtrip() {
	wl_start "$1"
	wl_dump
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

# The task's state as ps shows it: R, S, D, t (traced), T (stopped), Z...
task_state() {
	sed -n 's/^State:[[:space:]]*\([A-Za-z]\).*/\1/p' "/proc/$1/status"
}

tracer_of() {
	sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$1/status"
}

# The image files of a directory (anything but logs).
image_files() {
	find "$1" -maxdepth 1 -type f ! -name '*.log' -printf '%f\n' | sort
}

# Kill what a test started and left running: every process of each
# workload's session (a workload leads one; its children and its restored
# tree are in it), but only processes still ours (a workload binary or a
# fixture): a pid may have been reused.
wl_cleanup() {
	local sid pid exe killed
	[ -f "$BATS_TEST_TMPDIR/wl-pids" ] || return 0
	while read -r sid; do
		killed=
		for pid in $sid $(pgrep -s "$sid"); do
			exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
			case $exe in
			"$WORKLOADS"/* | */ocicr-fixtures/* | "$SHARED"/fixtures/bin/*)
				kill -9 "$pid" 2>/dev/null && killed="$killed $pid"
				;;
			esac
		done
		for pid in $killed; do
			wait_for 20 pid_gone "$pid"
		done
	done <"$BATS_TEST_TMPDIR/wl-pids"
	rm -f "$BATS_TEST_TMPDIR/wl-pids"
}

# crit_get IMAGE EXPR: decode IMAGE with crit and print the Python
# expression EXPR evaluated on its JSON as `img` (e.g. len(img["entries"])).
crit_get() {
	crit decode -i "$1" | python3 -c 'import json, sys; img = json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
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

# The children of every task in the workload's session, one "PARENT CHILD"
# a line: a dump must leave none it did not find (snapshot twins).
tree_children() {
	local p
	for p in $(pgrep -s "$(ps -o sid= "$WL_PID" | tr -d " ")"); do
		cat /proc/"$p"/task/*/children 2>/dev/null | tr ' ' '\n' | sed "/^$/d; s/^/$p /"
	done | sort
}

# kernel_at_least MAJOR MINOR: this kernel is that version or newer.
kernel_at_least() {
	local maj min
	IFS=. read -r maj min _ < <(uname -r)
	[ "$maj" -gt "$1" ] || { [ "$maj" -eq "$1" ] && [ "${min%%[^0-9]*}" -ge "$2" ]; }
}
