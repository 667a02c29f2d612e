#!/bin/bash
# Run CRIU's test suite (zdtm) against ocicr's `criu` front end, one test at a
# time under a time limit, and summarize the verdicts by first error.
#
# usage: ZDTM_DIR=CRIU_SOURCE_TREE tests/zdtm/run.sh [options] [TEST...] [-- ZDTM_ARGS...]
# See docs/zdtm.md for building CRIU's tests and for the known-failures format.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {
	cat <<USAGE
usage: ZDTM_DIR=DIR $0 [options] [TEST...] [-- ZDTM_ARGS...]
  ZDTM_DIR        a CRIU source tree with test/zdtm built (see docs/zdtm.md)
  TEST            zdtm/static/NAME, zdtm/transition/NAME, or a bare static NAME
  --all           every test zdtm's own -a would run in the flavour
  --from FILE     the tests named in FILE (one a line, # comments)
  --criu BIN      the criu to test (default: $repo/build/criu)
  --flavor F      zdtm flavour (default: h)
  --timeout S     seconds one test may take before it counts as a hang (default: 300)
  --known FILE    known failures (default: $here/known-failures; "none" for none)
  --out DIR       where logs and the summary go (default: $repo/build/zdtm)
  --zdtm-py NAME  the zdtm script in ZDTM_DIR/test (default: zdtm.py)
  ZDTM_ARGS       passed to "zdtm.py run" unchanged (e.g. --sibling, --keep-img always)
Exit status: 0 when every failure is a known one, 1 otherwise, 2 on a usage error.
USAGE
}

die() { echo "zdtm/run.sh: $*" >&2; exit 2; }

criu=$repo/build/criu flavor=h limit=300 known=$here/known-failures
out=$repo/build/zdtm zdtm_py=zdtm.py all=0
tests=() zdtm_args=()
while [ $# -gt 0 ]; do
	case $1 in
	--all) all=1 ;;
	--from)
		[ -r "${2:-}" ] || die "--from: cannot read '${2:-}'"
		while read -r t _; do tests+=("$t"); done < <(sed 's/#.*//' "$2" | grep -v '^[[:space:]]*$')
		shift ;;
	--criu) criu=${2:?--criu needs a path}; shift ;;
	--flavor) flavor=${2:?--flavor needs a name}; shift ;;
	--timeout) limit=${2:?--timeout needs seconds}; shift ;;
	--known) known=${2:?--known needs a file}; shift ;;
	--out) out=${2:?--out needs a directory}; shift ;;
	--zdtm-py) zdtm_py=${2:?--zdtm-py needs a name}; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; zdtm_args=("$@"); break ;;
	-*) usage >&2; die "unknown option $1" ;;
	*) tests+=("$1") ;;
	esac
	shift
done

[ -n "${ZDTM_DIR:-}" ] || die "set ZDTM_DIR to a CRIU source tree with its tests built (docs/zdtm.md)"
tdir=$ZDTM_DIR/test
[ -f "$tdir/$zdtm_py" ] || die "no $zdtm_py in $tdir: ZDTM_DIR is not a CRIU source tree"
[ -x "$tdir/zdtm/static/env00" ] || die "zdtm's tests are not built in $ZDTM_DIR (make -C test/zdtm)"
[ -f "$tdir/pycriu/rpc_pb2.py" ] || die "pycriu is not generated in $ZDTM_DIR (make lib)"
[[ $limit =~ ^[0-9]+$ ]] && [ "$limit" -gt 0 ] || die "--timeout: '$limit' is not a number of seconds"
[ "$known" = none ] || [ -r "$known" ] || die "--known: cannot read '$known'"
case $criu in /*) ;; *) criu=$PWD/$criu ;; esac
[ -x "$criu" ] || die "no executable criu at $criu (build ocicr, or give --criu)"

# zdtm.py and the copy of itself it starts in its namespaces run as
# "python3" from PATH; it needs the protobuf and yaml modules.
pymods='import google.protobuf, yaml'
if ! python3 -c "$pymods" 2>/dev/null; then
	/usr/bin/python3 -c "$pymods" 2>/dev/null ||
		die "python3 lacks the protobuf or yaml module (Debian: python3-protobuf python3-yaml)"
	export PATH=/usr/bin:$PATH
fi

if [ "$all" = 1 ]; then
	# zdtm's -a: every test but the manual ones whose flavours include ours;
	# zdtm itself then skips those lacking a feature or a checkskip.
	mapfile -t -O "${#tests[@]}" tests < <(cd "$tdir" && python3 "./$zdtm_py" list -i |
		awk -v f="$flavor" 'NR > 1 {
			flav = 0; ok = 0; manual = 0
			for (i = 2; i <= NF; i++)
				if ($i ~ /^(h|ns|uns)$/) { flav = 1; if ($i == f) ok = 1 }
				else if ($i == "noauto") manual = 1
			if (!manual && (ok || !flav)) print $1 }')
fi
[ ${#tests[@]} -gt 0 ] || { usage >&2; die "no tests: name some, or give --all or --from"; }

mkdir -p "$out/logs" || die "cannot create $out/logs"
exec 9> "$tdir/.ocicr-zdtm.lock" && flock -n 9 ||
	die "another run is using $tdir (zdtm's tests write next to their binaries)"

results=$out/results.tsv
: > "$results"
n=0
for t in "${tests[@]}"; do
	case $t in */*) ;; *) t=zdtm/static/$t ;; esac
	n=$((n + 1))
	log=$out/logs/${t//\//_}.log
	start=$SECONDS
	echo "+ $zdtm_py run -t $t -f $flavor --criu-bin $criu ${zdtm_args[*]}" > "$log"
	# timeout signals its whole process group: zdtm, its namespace's init
	# and so every task in there, the criu under test included. The lock's
	# fd stays here, out of the criu's sight.
	(cd "$tdir" && exec timeout -k 10 "$limit" python3 "./$zdtm_py" run -t "$t" -f "$flavor" \
		--criu-bin "$criu" "${zdtm_args[@]}") >> "$log" 2>&1 < /dev/null 9>&-
	rc=$?
	echo "+ exit $rc after $((SECONDS - start))s" >> "$log"
	line=$(python3 "$here/summarize.py" verdict "$t" "$rc" "$log")
	printf '%s\t%s\n' "$t" "$line" >> "$results"
	printf '[%d/%d] %s %s (%ds)\n' "$n" "${#tests[@]}" "$t" "${line%%$'\t'*}" $((SECONDS - start))
done

python3 "$here/summarize.py" summary "$results" "$known" | tee "$out/summary.txt"
exit "${PIPESTATUS[0]}"
