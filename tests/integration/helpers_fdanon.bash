# Helpers of fd_anon.bats, on top of helpers.bash (wl_start, wl_restore,
# wl_expect_pass...).  Names start with fa_ so they cannot clash with it.
#
# A workload (tests/workloads/fdanon_*.c) runs as `PROG READY RESULT` in
# its own directory WL_DIR, which also holds the images (WL_DIR/img).

# fa_dump: dump the workload (which kills it) and wait until every pid of
# its tree is free again (a child is an orphan once its parent dies, and
# init reaps orphans only about once a second).
fa_dump() {
	wl_dump
	wait_tree_gone
}

# fa_crit_decode: every image of the dump (but the raw pages) decodes
# as `crit decode [--pretty]` does (pycriu's loader, then JSON), in one Python
# process for speed (one crit run per image costs seconds).
fa_crit_decode() {
	# crit's own interpreter, which has pycriu (another python3 may not).
	local py
	py=$(sed -n '1s/^#! *//p' "$(command -v crit)")
	$py - "$WL_DIR"/img/*.img <<'PY' || fail "crit cannot decode the images (above)"
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

# fa_files_check PYTHON: run PYTHON with `files`, the entries of files.img
# as crit decodes them, and `kind(T)`, the sub-messages of type T; it
# fails the test by raising (an assert).
fa_files_check() {
	crit decode -i "$WL_DIR/img/files.img" >"$WL_DIR/files.json" || fail "crit cannot decode files.img"
	python3 - "$WL_DIR/files.json" <<PY || fail "files.img check failed"
import json, sys
files = json.load(open(sys.argv[1]))["entries"]
sub = {"EVENTFD": "efd", "EVENTPOLL": "epfd", "SIGNALFD": "sgfd", "TIMERFD": "tfd", "INOTIFY": "ify",
       "FANOTIFY": "ffy"}
def kind(t):
    return [f[sub[t]] for f in files if f["type"] == t]
$1
PY
}
