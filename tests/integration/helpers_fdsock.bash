# Helpers for fd_sock.bats: run a self-checking fdsock_* workload (the
# protocol is in tests/workloads/fdsock_wl.h), checkpoint it, restore it and
# read its verdict.  Load after helpers.

# fdsock_start NAME [VAR=VALUE...]: start workload NAME in a session of its
# own, in $DIR, and wait until it is ready.  Sets WL_PID (the root) and
# WL_PIDS (every process of its session).  With FDSOCK_NETNS set, it runs
# in that network namespace (and ocicr must run there: nsenter --net).
fdsock_start() {
	local name=$1
	shift
	DIR=${DIR:-$BATS_TEST_TMPDIR}
	rm -f "$DIR/ready" "$DIR/result" "$DIR/wl.pid"
	# The shell writes its pid, then becomes the workload.
	# nsenter, not ip netns exec: that makes a mount namespace of its own,
	# which the dump would have to save.
	${FDSOCK_NETNS:+nsenter --net=/run/netns/$FDSOCK_NETNS} env "$@" setsid bash -c 'echo $$ >"$1/wl.pid"; exec "$2" "$1/ready" "$1/result"' _ \
		"$DIR" "$WORKLOADS/$name" </dev/null >"$DIR/wl.out" 2>&1 3>&- &
	WL_BG=$!
	local i
	for i in $(seq 200); do
		[ -s "$DIR/ready" ] && break
		if [ -s "$DIR/result" ]; then
			kill -9 "$WL_BG" 2>/dev/null || true
			fail "$name did not start: $(cat "$DIR/result")"
		fi
		sleep 0.05
	done
	if ! [ -s "$DIR/ready" ]; then
		# Killed here: the teardown's wait would wait for it forever.
		kill -9 "$WL_BG" 2>/dev/null || true
		fail "$name did not get ready in 10 s: $(cat "$DIR/wl.out")"
	fi
	WL_PID=$(cat "$DIR/wl.pid")
	WL_PIDS=$(fdsock_session_pids "$WL_PID")
}

# Every process of session SID.
fdsock_session_pids() {
	ps -e -o pid=,sid= | awk -v sid="$1" '$2 == sid { print $1 }'
}

# fdsock_dump [OPTION...]: checkpoint the workload into $DIR/img (killing
# it), then wait until every process of it is gone.
fdsock_dump() {
	run ocicr dump -t "$WL_PID" -D "$DIR/img" -o - "$@"
	assert_success
	fdsock_wait_gone
}

# Wait (up to 10 s) for every pid of the tree to vanish: its root is our
# child, the others are reaped by init, about once a second.  So must
# every process of its session (a snapshot dump's killed twins, zombies
# until init reaps them): they keep the root's pid taken as their session
# and group id, and a restore could not have it back.
fdsock_wait_gone() {
	local i p alive
	wait "$WL_BG" 2>/dev/null || true
	for i in $(seq 200); do
		alive=
		for p in $WL_PIDS; do
			[ -d "/proc/$p" ] && alive="$alive $p"
		done
		[ -n "${WL_PID:-}" ] && alive="$alive $(fdsock_session_pids "$WL_PID" | tr '\n' ' ')"
		[ -z "${alive// /}" ] && return 0
		sleep 0.05
	done
	fail "processes$alive are still there 10 s after the dump"
}

fdsock_restore() {
	run ocicr restore -D "$DIR/img" -d -o -
	assert_success
}

# Signal the workload and expect its verdict: PASS.
fdsock_expect_pass() {
	local i
	kill -USR1 "$WL_PID"
	for i in $(seq 200); do
		[ -s "$DIR/result" ] && break
		sleep 0.05
	done
	[ -s "$DIR/result" ] || fail "no verdict 10 s after SIGUSR1 ($(cat "$DIR/wl.out" 2>/dev/null))"
	run cat "$DIR/result"
	assert_output "PASS"
}

# The whole round: start, dump, restore, check.
fdsock_round() {
	local name=$1
	shift
	fdsock_start "$name"
	fdsock_dump "$@"
	fdsock_restore
	fdsock_expect_pass
}

# Every image of $1 (but page contents) decodes with crit.
fdsock_crit_decode() {
	local img bad=() n=0
	for img in "$1"/*.img; do
		case $(basename "$img") in pages-*) continue ;; esac
		n=$((n + 1))
		crit decode -i "$img" >/dev/null 2>"$BATS_TEST_TMPDIR/crit.err" || bad+=("$(basename "$img")")
	done
	[ "$n" -gt 5 ] || fail "only $n images in $1"
	[ ${#bad[@]} -eq 0 ] || fail "crit cannot decode: ${bad[*]} ($(tail -1 "$BATS_TEST_TMPDIR/crit.err"))"
}

# Kill whatever a test left running: the workload's session, and a helper
# it started outside its tree.  Only what was killed is waited for: a
# plain wait would also wait for a peer that runs until the test's end.
fdsock_cleanup() {
	local p killed=
	if [ -n "${WL_PID:-}" ]; then
		for p in $(fdsock_session_pids "$WL_PID"); do
			kill -9 "$p" 2>/dev/null || true
		done
	fi
	if [ -s "${DIR:-/nonexistent}/helper.pid" ]; then
		killed=$(cat "$DIR/helper.pid")
		kill -9 "$killed" 2>/dev/null || true
	fi
	# The last one started, whether it got ready (and a WL_PID) or not.
	if [ -n "${WL_BG:-}" ]; then
		kill -9 "$WL_BG" 2>/dev/null || true
		killed="$killed $WL_BG"
	fi
	for p in $killed; do
		wait "$p" 2>/dev/null || true
	done
}

# fdsock_netns_prereqs WORKLOAD [COMMAND...]: skip unless root, ip, the
# COMMANDs, ocicr and WORKLOAD are there; DIR is the test's, no WL_PID yet.
fdsock_netns_prereqs() {
	local wl=$1
	shift
	requires root ip "$@"
	[ -x "$OCICR" ] || skip "build ocicr first (make)"
	[ -x "$WORKLOADS/$wl" ] || skip "build the workloads first (make check)"
	DIR=$BATS_TEST_TMPDIR
	WL_PID=
}

# For files whose tests each run in a network namespace of their own:
# fdsock_netns_setup PREFIX WORKLOAD makes one (lo up) named PREFIX-..., in
# FDSOCK_NETNS, skipping the test unless WORKLOAD is built;
# fdsock_netns_teardown removes it and what ran there.  ocicr then must
# run there too (nsenter --net, not ip netns exec: that also makes a
# mount namespace of its own for each command, which a dump would save).
fdsock_netns_setup() {
	fdsock_netns_prereqs "$2"
	FDSOCK_NETNS=$1-$$-$BATS_TEST_NUMBER
	ip netns add "$FDSOCK_NETNS"
	ip -n "$FDSOCK_NETNS" link set lo up
}

fdsock_netns_teardown() {
	fdsock_cleanup
	ip netns del "$FDSOCK_NETNS" 2>/dev/null || true
}

# ocicr in the test's network namespace where it has one (FDSOCK_NETNS);
# $OCICR may be CRIU 4.2 (net_packet.bats runs them crosswise).
ocicr() {
	${FDSOCK_NETNS:+nsenter --net=/run/netns/$FDSOCK_NETNS} "$OCICR" "$@"
}

# fdsock_img_entries TYPE FIELD [EXPR]: for each entry of $DIR/img/files.img
# of TYPE (INETSK, PACKETSK, NETLINKSK...), a line: its FIELD (k) as JSON,
# or the values of the Python expression EXPR (ip: k's ip_opts, json: the
# module).
fdsock_img_entries() {
	run "$OCICR" image decode --pretty -i "$DIR/img/files.img"
	assert_success
	echo "$output" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["entries"]:
    if e["type"] == sys.argv[1]:
        k = e[sys.argv[2]]
        ip = k.get("ip_opts", {})
        if len(sys.argv) > 3:
            print(*eval(sys.argv[3]))
        else:
            print(json.dumps(k, sort_keys=True))' "$@"
}
