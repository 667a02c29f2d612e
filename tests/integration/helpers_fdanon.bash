# Helpers of fd_anon.bats: one self-checking workload per test, driven
# through dump and restore.  Names start with fa_ so they cannot clash
# with helpers.bash.
#
# A workload (tests/workloads/fdanon_*.c) runs as `PROG READY RESULT` in
# its own directory FA_DIR, which also holds the images (FA_DIR/img).

# fa_poll SECONDS CMD...: until CMD succeeds; fails after SECONDS.
fa_poll() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}

fa_settled() {
	[ -s "$FA_DIR/ready" ] || [ -s "$FA_DIR/result" ] || pid_gone "$FA_PID"
}

# fa_start NAME: start workload NAME detached (its own session, /dev/null
# on 0-2, no other fd of ours, not our child) and wait until it is ready.
fa_start() {
	local prog=$WORKLOADS/$1
	[ -x "$prog" ] || fail "$prog is not built (make check builds it)"
	FA_DIR=$BATS_TEST_TMPDIR/$1
	mkdir -p "$FA_DIR/img"
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
		done
		cd "$FA_DIR" || exit 1
		setsid "$prog" "$FA_DIR/ready" "$FA_DIR/result" </dev/null >/dev/null 2>&1 &
		echo $! >"$FA_DIR/pid"
	)
	FA_PID=$(cat "$FA_DIR/pid")
	echo "$FA_PID" >>"$BATS_TEST_TMPDIR/fa-pids"
	fa_poll 30 fa_settled || fail "$1 did not become ready in 30 s"
	[ -s "$FA_DIR/ready" ] || fail "$1 did not start: $(cat "$FA_DIR/result" 2>/dev/null || echo exited)"
}

# Show a log's tail when a step failed.
fa_log_tail() {
	echo "--- $1" >&2
	tail -n 30 "$1" >&2 2>/dev/null || true
}

# fa_dump: dump the workload (which kills it) and wait until every pid of
# its tree is free again (a child is an orphan once its parent dies, and
# init reaps orphans only about once a second).
fa_dump() {
	if ! ocicr dump -t "$FA_PID" -D "$FA_DIR/img" -v4; then
		fa_log_tail "$FA_DIR/img/dump.log"
		fail "dump of $FA_PID failed"
	fi
	wait_tree_gone "$FA_DIR/img"
}

fa_restore() {
	if ! ocicr restore -D "$FA_DIR/img" -d -v4; then
		fa_log_tail "$FA_DIR/img/restore.log"
		fail "restore from $FA_DIR/img failed"
	fi
}

# fa_verdict: tell the workload to check itself; expect PASS.
fa_verdict() {
	kill -USR1 "$FA_PID" || fail "task $FA_PID is not there"
	fa_poll 30 test -s "$FA_DIR/result" || fail "no verdict from $FA_PID in 30 s"
	run cat "$FA_DIR/result"
	assert_output "PASS"
}

# fa_roundtrip NAME: start, dump, restore, check.
fa_roundtrip() {
	fa_start "$1"
	fa_dump
	fa_restore
	fa_verdict
}

# fa_crit_decode: every image of the dump (but the raw pages) decodes
# as `crit decode [--pretty]` does (pycriu's loader, then JSON), in one Python
# process for speed (one crit run per image costs seconds).
fa_crit_decode() {
	# crit's own interpreter, which has pycriu (another python3 may not).
	local py
	py=$(sed -n '1s/^#! *//p' "$(command -v crit)")
	$py - "$FA_DIR"/img/*.img <<'PY' || fail "crit cannot decode the images (above)"
import json, os, sys
import pycriu
n = 0
for path in sys.argv[1:]:
    if os.path.basename(path).startswith("pages-"):
        continue
    try:
        for pretty in (False, True):
            with open(path, "rb") as f:
                json.dumps(pycriu.images.load(f, pretty))
    except Exception as e:
        sys.exit("%s: %r" % (path, e))
    n += 1
if not n:
    sys.exit("no images")
PY
}


# Kill what the tests started and left behind.
fa_teardown() {
	local pid
	[ -f "$BATS_TEST_TMPDIR/fa-pids" ] || return 0
	while read -r pid; do
		kill -9 "$pid" 2>/dev/null || true
	done <"$BATS_TEST_TMPDIR/fa-pids"
}

# fa_files_check PYTHON: run PYTHON with `files`, the entries of files.img
# as crit decodes them, and `kind(T)`, the sub-messages of type T; it
# fails the test by raising (an assert).
fa_files_check() {
	crit decode -i "$FA_DIR/img/files.img" >"$FA_DIR/files.json" || fail "crit cannot decode files.img"
	python3 - "$FA_DIR/files.json" <<PY || fail "files.img check failed"
import json, sys
files = json.load(open(sys.argv[1]))["entries"]
sub = {"EVENTFD": "efd", "EVENTPOLL": "epfd", "SIGNALFD": "sgfd", "TIMERFD": "tfd", "INOTIFY": "ify",
       "FANOTIFY": "ffy"}
def kind(t):
    return [f[sub[t]] for f in files if f["type"] == t]
$1
PY
}
