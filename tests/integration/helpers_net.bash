# shellcheck shell=bash
# The "hosts" of the net_*.bats tests: network namespaces joined by veth
# pairs, tcp_stream peers outside the dumped tree, and the lock checks.
# Tests set DIR and, for the workload, WL_PID.

# Peers run until killed (their end feeds the tree's check).
peers_kill() {
	local p
	for p in "$DIR"/peer*.pid; do
		[ -s "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null
		rm -f "$p"
	done
	return 0
}

host_add() {
	ip netns add "$1"
	ip -n "$1" link set lo up
}

# tcp_hosts_setup PREFIX [COMMAND...]: setup() of the net_tcp*.bats files:
# skip unless nft, the COMMANDs and tcp_stream are there; NS
# (PREFIX-$$-N) names the test's hosts, $NS-a is made and is FDSOCK_NETNS,
# where the tree runs.
tcp_hosts_setup() {
	local prefix=$1
	shift
	fdsock_netns_prereqs tcp_stream nft "$@"
	NS=$prefix-$$-$BATS_TEST_NUMBER
	FDSOCK_NETNS=$NS-a
	host_add "$FDSOCK_NETNS"
}

# Join namespaces $1 and $2 by a veth pair, addresses $3 and $4 (IPv4
# /24 and IPv6 /64 alike: "10.77.0.1 fd77::1").
link_hosts() {
	ip link add "v$BATS_TEST_NUMBER-$$" netns "$1" type veth peer name "w$BATS_TEST_NUMBER-$$" netns "$2"
	local a
	for a in $3; do ip -n "$1" addr add "$a/$(mask "$a")" dev "v$BATS_TEST_NUMBER-$$" $(nodad "$a"); done
	for a in $4; do ip -n "$2" addr add "$a/$(mask "$a")" dev "w$BATS_TEST_NUMBER-$$" $(nodad "$a"); done
	ip -n "$1" link set "v$BATS_TEST_NUMBER-$$" up
	ip -n "$2" link set "w$BATS_TEST_NUMBER-$$" up
}

mask() {
	case $1 in *:*) echo 64 ;; *) echo 24 ;; esac
}

nodad() {
	case $1 in *:*) echo nodad ;; esac
}


# peer_start NAME NETNS VAR=VALUE...: a tcp_stream outside the tree, in
# $DIR/NAME.d, running until the end of the test; waits until connected.
peer_start() {
	local name=$1 ns=$2
	shift 2
	mkdir -p "$DIR/$name.d"
	# An earlier peer's "ready" would pass peer_wait_ready at once.
	rm -f "$DIR/$name.d/ready" "$DIR/$name.d/result"
	ip netns exec "$ns" env "$@" setsid bash -c 'echo $$ >"$1"; exec "$2" "$3/ready" "$3/result"' _ \
		"$DIR/$name.pid" "$WORKLOADS/tcp_stream" "$DIR/$name.d" </dev/null >"$DIR/$name.out" 2>&1 3>&- &
}

peer_wait_ready() {
	local i
	for i in $(seq 400); do
		[ -s "$DIR/$1.d/ready" ] && return 0
		[ -s "$DIR/$1.d/result" ] && fail "peer $1: $(cat "$DIR/$1.d/result")"
		sleep 0.05
	done
	fail "peer $1 did not connect in 20 s"
}

# expect_pass_of PID DIR: signal PID and expect PASS in DIR/result
# within 35 s (a peer that backed off takes its time).
expect_pass_of() {
	kill -USR1 "$1"
	wait_for 35 test -s "$2/result" || true
	run cat "$2/result"
	assert_output "PASS"
}

peer_expect_pass() {
	expect_pass_of "$(cat "$DIR/$1.pid")" "$DIR/$1.d"
}

tcp_expect_pass() {
	expect_pass_of "$WL_PID" "$DIR"
}

# No table of a lock in namespace $1, nor an iptables rule.
no_lock_in() {
	run ip netns exec "$1" nft list tables
	assert_success
	refute_output --partial "CRIU-"
	run ip netns exec "$1" iptables-save
	refute_output --partial "ocicr-"
	refute_output --partial "0xc114"
	refute_output --partial "-j CRIU"
	refute_output --partial ":CRIU "
	run ip netns exec "$1" ip6tables-save
	refute_output --partial "0xc114"
	refute_output --partial ":CRIU "
}

# ipt_whole_lock_is_criu NS [OWNED]: NS is locked whole as CRIU locks it
# with iptables (IPv4 and IPv6): chain CRIU lets the marked packets pass
# and drops the rest, INPUT and OUTPUT jump to it first; the jumps carry
# ocicr's owner comment while a run holds the lock (OWNED), none once it
# is handed over to the restore.
ipt_whole_lock_is_criu() {
	local tool jump='-j CRIU'
	[ -n "${2:-}" ] && jump='-m comment --comment ocicr-owner-[0-9]+-[0-9]+ -j CRIU'
	for tool in iptables-save ip6tables-save; do
		run ip netns exec "$1" "$tool"
		assert_output --partial ":CRIU - "
		assert_output --regexp "-A INPUT $jump"
		assert_output --regexp "-A OUTPUT $jump"
		assert_output --partial "-A CRIU -m mark --mark 0xc114 -j ACCEPT"
		assert_output --partial "-A CRIU -j DROP"
		[ -n "${2:-}" ] || refute_output --partial "ocicr-"
	done
}

# ipt_lock_is_criu NS PORT: the iptables lock in NS is CRIU's, rule for
# rule (CRIU's restore deletes exactly those): each way of the connection
# on PORT dropped in INPUT and OUTPUT unless marked, with nothing more.
ipt_lock_is_criu() {
	run ip netns exec "$1" iptables-save
	local n
	n=$(grep -c -E -- "^-A (INPUT|OUTPUT) -s [0-9.]+/32 -d [0-9.]+/32 -p tcp -m mark ! --mark 0xc114 -m tcp --sport [0-9]+ --dport [0-9]+ -j DROP\$" <<<"$output")
	[ "$(grep -c -- "--mark 0xc114" <<<"$output")" = "$n" ] || fail "lock rules not in CRIU's layout: $output"
	[ "$n" -ge 4 ] || fail "no lock rules in CRIU's layout: $output"
	assert_output --regexp "--sport $2 --dport [0-9]+ -j DROP"
}
