#!/usr/bin/env bats
# Established TCP connections across a checkpoint (--tcp-established),
# with a checked stream flowing both ways (tests/workloads/tcp_stream.c),
# and the network lock around them.  Every "host" is a network namespace
# the test makes (ocicr-tcp-$$-N-*), joined by veth pairs where two are
# needed; teardown removes them, and with them any lock left in them.

load helpers
load helpers_fdsock
load helpers_net

# The exchanges with CRIU 4.2 run with CRIU_REF set to a CRIU built outside
# the repo: CRIU_REF=/path/to/criu bats tests/integration/net_tcp.bats
CRIU_REF=${CRIU_REF:-}

setup() {
	tcp_hosts_setup ocicr-tcp
}

teardown() {
	peers_kill
	fdsock_cleanup
	for p in a b c; do
		ip netns del "$NS-$p" 2>/dev/null || true
	done
}

ocicr() {
	# In the tree's mount namespace (ip netns exec would make another).
	nsenter --net="/run/netns/${OCICR_NETNS:-$FDSOCK_NETNS}" "$OCICR" "$@"
}

@test "an IPv4 pair with data queued both ways is dumped while it flows, killed, restored, and goes on with every byte in order" {
	fdsock_start tcp_stream TCP_CONNS=2
	fdsock_dump --tcp-established
	ls "$DIR"/img/tcp-stream-*.img >/dev/null || fail "no tcp-stream image"
	fdsock_restore_tcp
	tcp_expect_pass
	no_lock_in "$FDSOCK_NETNS"
}

fdsock_restore_tcp() {
	run ocicr restore -D "$DIR/img" -d -o - --tcp-established
	assert_success
}

@test "the check can fail: a byte changed in a saved queue is named by the workload" {
	fdsock_start tcp_stream
	fdsock_dump --tcp-established
	# The last byte of the image with most data: the end of a queue.
	local f
	f=$(ls -S "$DIR"/img/tcp-stream-*.img | head -1)
	python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 0xff
open(sys.argv[1], "wb").write(b)' "$f"
	fdsock_restore_tcp
	kill -USR1 "$WL_PID"
	local i
	for i in $(seq 700); do [ -s "$DIR/result" ] && break; sleep 0.05; done
	run cat "$DIR/result"
	assert_output --regexp "FAIL: connection [0-9]: byte [0-9]+ is 0x[0-9a-f]+, expected 0x[0-9a-f]+"
}

@test "an IPv6 pair: the same, over ::1" {
	fdsock_start tcp_stream TCP_ADDR=::1
	fdsock_dump --tcp-established
	fdsock_restore_tcp
	tcp_expect_pass
	no_lock_in "$FDSOCK_NETNS"
}

# A half-closed pair (fdsock_tcp_half, MODE=$1, more env after it): after
# restore the same states, every byte and the end of each stream.
half_closed() {
	fdsock_start fdsock_tcp_half MODE="$@"
	fdsock_dump --tcp-established
	fdsock_restore_tcp
	fdsock_expect_pass
	no_lock_in "$FDSOCK_NETNS"
}

@test "half-closed: FIN-WAIT-1 (our FIN behind data the peer has not read) with its established peer" {
	half_closed fin-wait1
}

@test "half-closed: FIN-WAIT-2 and CLOSE-WAIT: the peer's FIN, made up at restore, is read as the end of the stream" {
	half_closed fin-wait2
}

@test "half-closed: LAST-ACK (after CLOSE-WAIT, its FIN behind data) and FIN-WAIT-2" {
	half_closed last-ack
}

@test "half-closed: CLOSING (its FIN unacknowledged, the peer's read) and FIN-WAIT-2" {
	half_closed closing
}

@test "half-closed over IPv6: CLOSING and FIN-WAIT-2" {
	half_closed closing V6=1
}

@test "SYN-SENT: a connection whose SYN was dropped connects again after restore, with the listener it aimed at" {
	local nft="nsenter --net=/run/netns/$FDSOCK_NETNS nft"
	$nft add table inet synblock
	$nft add chain inet synblock out '{ type filter hook output priority 0; }'
	$nft add rule inet synblock out tcp dport 47530 'tcp flags & (syn | ack) == syn' drop
	fdsock_start fdsock_tcp_half MODE=syn-sent
	fdsock_dump --tcp-established
	fdsock_restore_tcp
	$nft delete table inet synblock
	fdsock_expect_pass
	no_lock_in "$FDSOCK_NETNS"
}

@test "SYN-SENT under --network-lock iptables: locked by its rules between dump and restore, it connects after, no rule left" {
	command -v iptables >/dev/null || skip "needs iptables"
	local nft="nsenter --net=/run/netns/$FDSOCK_NETNS nft"
	$nft add table inet synblock
	$nft add chain inet synblock out '{ type filter hook output priority 0; }'
	$nft add rule inet synblock out tcp dport 47530 'tcp flags & (syn | ack) == syn' drop
	fdsock_start fdsock_tcp_half MODE=syn-sent
	fdsock_dump --tcp-established --network-lock iptables
	# CRIU's two rules, one each way, unless marked.
	run ip netns exec "$FDSOCK_NETNS" iptables-save
	assert_output --regexp "-A INPUT -s 127.0.0.1/32 -d 127.0.0.1/32 -p tcp -m mark ! --mark 0xc114 -m tcp --sport 47530 --dport [0-9]+ -j DROP"
	assert_output --regexp "-A OUTPUT -s 127.0.0.1/32 -d 127.0.0.1/32 -p tcp -m mark ! --mark 0xc114 -m tcp --sport [0-9]+ --dport 47530 -j DROP"
	refute_output --partial "ocicr-"
	fdsock_restore_tcp
	$nft delete table inet synblock
	fdsock_expect_pass
	no_lock_in "$FDSOCK_NETNS"
}

@test "a connection reset with bytes still to read comes back with them, then ended (CRIU's closed connection); without --tcp-established the dump names it" {
	fdsock_start fdsock_tcp_reset
	run ocicr dump -t "$WL_PID" -D "$DIR/bad" -o -
	assert_failure
	assert_output --regexp "closed TCP connection 127.0.0.1:[0-9]+->127.0.0.1:47491 has bytes to read: dumping them needs --tcp-established"
	fdsock_dump --tcp-established --network-lock iptables
	run crit decode -i "$DIR/img/files.img" --pretty
	assert_output --partial '"state": "CLOSE"'
	ls "$DIR"/img/tcp-stream-*.img >/dev/null
	fdsock_restore_tcp
	fdsock_expect_pass
	no_lock_in "$FDSOCK_NETNS"
}

@test "the images hold the queues: bytes to read and to send, sequence numbers, options, as CRIU 4.2 writes them" {
	fdsock_start tcp_stream
	fdsock_dump --tcp-established
	local f inq=0 outq=0
	for f in "$DIR"/img/tcp-stream-*.img; do
		run "$OCICR" image decode -i "$f"
		assert_success
		run python3 -c '
import json, sys
e = json.load(sys.stdin)["entries"][0]
assert e["opt_mask"] & 7 == 7, "timestamps, SACK, window scaling: %d" % e["opt_mask"]
for k in ("mss_clamp", "timestamp", "snd_wnd", "rcv_wnd", "snd_wl1", "rcv_wup", "max_window", "unsq_len", "rcv_wscale"):
    assert k in e, k
print(e["inq_len"], e["outq_len"])' <<<"$output"
		assert_success
		[ "${lines[0]%% *}" -gt 0 ] && inq=1
		[ "${lines[0]##* }" -gt 0 ] && outq=1
		# Debian's crit (3.17) decodes them too.
		crit decode -i "$f" >/dev/null || fail "crit cannot decode $f"
	done
	[ $inq = 1 ] && [ $outq = 1 ] || fail "no queue held data: the dump did not catch the stream flowing"
	run "$OCICR" image decode -i "$DIR/img/inventory.img"
	assert_output --partial '"network_lock_method": 1'
	assert_output --partial '"dump_criu_run_id"'
}

@test "without --tcp-established the dump fails naming the connection and the tree runs on, unlocked" {
	fdsock_start tcp_stream
	run ocicr dump -t "$WL_PID" -D "$DIR/img" -o -
	assert_failure
	assert_output --regexp "TCP connection 127\.0\.0\.1:[0-9]+->127\.0\.0\.1:[0-9]+ \(established\): dumping it needs --tcp-established"
	[ ! -e "$DIR/img/inventory.img" ] || fail "a failed dump left images"
	no_lock_in "$FDSOCK_NETNS"
	tcp_expect_pass
}

@test "a restore without --tcp-established is refused naming the connection; with --tcp-close the sockets come back closed" {
	fdsock_start tcp_stream
	fdsock_dump --tcp-established
	run ocicr restore -D "$DIR/img" -d -o -
	assert_failure
	assert_output --partial "restoring it needs --tcp-established"
	no_lock_in "$FDSOCK_NETNS"
	run ocicr restore -D "$DIR/img" -d -o - --tcp-close
	assert_success
	# Both ends now read end of file or an error: the workload says so.
	kill -USR1 "$WL_PID"
	for i in $(seq 200); do [ -s "$DIR/result" ] && break; sleep 0.05; done
	run cat "$DIR/result"
	assert_output --partial "FAIL: connection 0:"
}

@test "the server alone is dumped and restored; its peer in another namespace (veth) keeps its connections, IPv4 and IPv6" {
	host_add "$NS-c"
	link_hosts "$FDSOCK_NETNS" "$NS-c" "10.77.0.1 fd77::1" "10.77.0.2 fd77::2"
	# One family per run.
	local addr
	for addr in 10.77.0.1 fd77::1; do
		rm -rf "$DIR/img" "$DIR/peer.d" "$DIR/result" "$DIR/ready"
		peer_start peer "$NS-c" TCP_ROLE=client TCP_ADDR=$addr TCP_CONNS=2
		fdsock_start tcp_stream TCP_ROLE=server TCP_ADDR=$addr TCP_CONNS=2
		peer_wait_ready peer
		fdsock_dump --tcp-established
		# Frozen, then gone: the peer's packets were dropped, not refused.
		sleep 1
		fdsock_restore_tcp
		tcp_expect_pass
		peer_expect_pass peer
		no_lock_in "$FDSOCK_NETNS"
		peers_kill
		fdsock_cleanup
	done
}

@test "live migration: a server in namespace A with clients in C is dumped, its address moves to B, it is restored there and the clients go on" {
	host_add "$NS-b"
	host_add "$NS-c"
	link_hosts "$FDSOCK_NETNS" "$NS-c" "10.78.0.1" "10.78.0.2"
	peer_start peer1 "$NS-c" TCP_ROLE=client TCP_ADDR=10.78.0.1 TCP_CONNS=2
	peer_start peer2 "$NS-c" TCP_ROLE=client TCP_ADDR=10.78.0.1 TCP_CONNS=1
	fdsock_start tcp_stream TCP_ROLE=server TCP_ADDR=10.78.0.1 TCP_CONNS=3
	peer_wait_ready peer1
	peer_wait_ready peer2
	fdsock_dump --tcp-established
	# B gets the address (on a link of its own) and the server; the link to
	# the clients follows once the sockets are there, or B's kernel
	# would answer them with RSTs.  A keeps the dump's lock.
	local v=v$BATS_TEST_NUMBER-$$
	ip -n "$NS-b" link add d0 type veth peer name d1
	ip -n "$NS-b" addr add 10.78.0.1/24 dev d0
	ip -n "$NS-b" link set d0 up
	ip -n "$NS-b" link set d1 up
	OCICR_NETNS=$NS-b run ocicr restore -D "$DIR/img" -d -o - --tcp-established
	assert_success
	ip -n "$NS-b" link del d0
	ip -n "$FDSOCK_NETNS" link set "$v" netns "$NS-b"
	ip -n "$NS-b" addr add 10.78.0.1/24 dev "$v"
	ip -n "$NS-b" link set "$v" up
	tcp_expect_pass
	peer_expect_pass peer1
	peer_expect_pass peer2
	no_lock_in "$NS-b"
	run ls -l "/proc/$WL_PID/ns/net"
	[ "$(readlink "/proc/$WL_PID/ns/net")" = "$(ip netns exec "$NS-b" readlink /proc/self/ns/net)" ] ||
		fail "the server does not run in B"
}

@test "a failed restore leaves no lock and no process; a killed one's lock is found and removed by the next run, which works" {
	fdsock_start tcp_stream
	fdsock_dump --tcp-established
	run ip netns exec "$FDSOCK_NETNS" nft list tables
	assert_output --partial "CRIU-" # the dump's lock waits for the restore
	printf '#!/bin/sh\n[ "$CRTOOLS_SCRIPT_ACTION" = post-restore ] && exit 1\nexit 0\n' >"$DIR/fail.sh"
	printf '#!/bin/sh\n[ "$CRTOOLS_SCRIPT_ACTION" = post-restore ] && kill -9 $PPID\nexit 0\n' >"$DIR/kill.sh"
	chmod +x "$DIR/fail.sh" "$DIR/kill.sh"
	run ocicr restore -D "$DIR/img" -d -o - --tcp-established --action-script "$DIR/fail.sh"
	assert_failure
	no_lock_in "$FDSOCK_NETNS"
	fdsock_wait_gone

	run ocicr restore -D "$DIR/img" -d -o - --tcp-established --action-script "$DIR/kill.sh"
	assert_failure
	fdsock_wait_gone
	run ip netns exec "$FDSOCK_NETNS" nft list tables
	assert_output --partial "CRIU-" # the killed run's
	run ocicr restore -D "$DIR/img" -d -o - --tcp-established
	assert_success
	assert_output --regexp "removed a stale network lock: nftables table inet CRIU-[0-9a-f-]+, left by ocicr [0-9]+"
	no_lock_in "$FDSOCK_NETNS"
	# The connections lost nothing through all that.
	tcp_expect_pass
}

@test "a dump killed while it holds the lock leaves it to the next run, which removes it naming it" {
	fdsock_start tcp_stream
	printf '#!/bin/sh\n[ "$CRTOOLS_SCRIPT_ACTION" = post-dump ] && kill -9 $PPID\nexit 0\n' >"$DIR/kill.sh"
	chmod +x "$DIR/kill.sh"
	run ocicr dump -t "$WL_PID" -D "$DIR/img" -o - --tcp-established --action-script "$DIR/kill.sh"
	assert_failure
	run ip netns exec "$FDSOCK_NETNS" nft list tables
	assert_output --partial "CRIU-"
	fdsock_cleanup
	fdsock_start tcp_stream TCP_PORT=47401
	run ocicr dump -t "$WL_PID" -D "$DIR/img2" -o - --tcp-established -R
	assert_success
	assert_output --regexp "removed a stale network lock: nftables table inet CRIU-[0-9a-f-]+, left by ocicr [0-9]+"
	no_lock_in "$FDSOCK_NETNS"
	tcp_expect_pass
}

@test "--network-lock iptables: the rules are there between dump and restore and gone after; skip takes none" {
	command -v iptables >/dev/null || skip "needs iptables"
	fdsock_start tcp_stream
	fdsock_dump --tcp-established --network-lock iptables
	ipt_lock_is_criu "$FDSOCK_NETNS" 47400
	run "$OCICR" image decode -i "$DIR/img/inventory.img"
	assert_output --partial '"network_lock_method": 0'
	fdsock_restore_tcp
	no_lock_in "$FDSOCK_NETNS"
	tcp_expect_pass
	fdsock_cleanup
	fdsock_start tcp_stream TCP_PORT=47402
	run ocicr dump -t "$WL_PID" -D "$DIR/img3" -o - --tcp-established --network-lock skip -R
	assert_success
	no_lock_in "$FDSOCK_NETNS"
	tcp_expect_pass
}

@test "--skip-in-flight: a connection not yet accepted fails the dump naming the listener, unless it is left out" {
	host_add "$NS-c"
	link_hosts "$FDSOCK_NETNS" "$NS-c" "10.79.0.1" "10.79.0.2"
	peer_start peer1 "$NS-c" TCP_ROLE=client TCP_ADDR=10.79.0.1 TCP_CONNS=1
	fdsock_start tcp_stream TCP_ROLE=server TCP_ADDR=10.79.0.1 TCP_CONNS=1
	peer_wait_ready peer1
	# A second client: connected, but the server never accepts it.
	peer_start peer2 "$NS-c" TCP_ROLE=client TCP_ADDR=10.79.0.1 TCP_CONNS=1
	local i
	for i in $(seq 200); do
		[ "$(ip netns exec "$NS-c" ss -Htn state established dst 10.79.0.1 | wc -l)" -ge 2 ] && break
		sleep 0.05
	done
	run ocicr dump -t "$WL_PID" -D "$DIR/img" -o - --tcp-established
	assert_failure
	assert_output --partial "TCP listener 10.79.0.1:47400 has 1 connection(s) waiting to be accepted: --skip-in-flight leaves them out"
	no_lock_in "$FDSOCK_NETNS"
	fdsock_dump --tcp-established --skip-in-flight
	assert_output --partial "connection(s) not yet accepted are left out"
	fdsock_restore_tcp
	tcp_expect_pass
	peer_expect_pass peer1
}

# crosswise DUMPER RESTORER LOCK KEY EXPECT WORKLOAD [ENV...]: WORKLOAD
# (its images in img-KEY) dumped by one, restored by the other (ocicr or
# CRIU 4.2) with LOCK; no lock left, and EXPECT sees its verdict.
crosswise() {
	local dumper=$1 restorer=$2 lock=$3 port=$4 expect=$5 img=$DIR/img-$4
	shift 5
	mkdir -p "$img"
	fdsock_start "$@"
	OCICR=$dumper run ocicr dump -t "$WL_PID" -D "$img" -o dump.log -v4 --tcp-established --network-lock "$lock"
	[ "$status" -eq 0 ] || fail "$dumper dump failed ($*): $(tail -5 "$img/dump.log")"
	fdsock_wait_gone
	OCICR=$restorer run ocicr restore -D "$img" -d -o restore.log -v4 --tcp-established
	[ "$status" -eq 0 ] || fail "$restorer restore failed ($*): $(tail -5 "$img/restore.log")"
	no_lock_in "$FDSOCK_NETNS"
	"$expect"
	fdsock_cleanup
}

@test "with CRIU 4.2: half-closed and reset connections dumped by ocicr restore with CRIU and CRIU's with ocicr" {
	[ -x "$CRIU_REF" ] || skip "a comparison with CRIU 4.2: set CRIU_REF to a CRIU built outside the repo"
	local mode port=47540
	for mode in fin-wait1 fin-wait2 last-ack closing; do
		crosswise "$OCICR" "$CRIU_REF" nftables $port fdsock_expect_pass fdsock_tcp_half MODE="$mode" PORT=$((port++))
		crosswise "$CRIU_REF" "$OCICR" nftables $port fdsock_expect_pass fdsock_tcp_half MODE="$mode" PORT=$((port++))
	done
	# The reset one, under CRIU's default lock.
	crosswise "$OCICR" "$CRIU_REF" iptables 0 fdsock_expect_pass fdsock_tcp_reset
	crosswise "$CRIU_REF" "$OCICR" iptables 1 fdsock_expect_pass fdsock_tcp_reset
}

@test "with CRIU 4.2: ocicr's images of connections restore with CRIU and CRIU's with ocicr, either lock, nothing lost, no lock left" {
	[ -x "$CRIU_REF" ] || skip "a comparison with CRIU 4.2: set CRIU_REF to a CRIU built outside the repo"
	crosswise "$OCICR" "$CRIU_REF" nftables 47410 tcp_expect_pass tcp_stream TCP_PORT=47410
	crosswise "$CRIU_REF" "$OCICR" nftables 47411 tcp_expect_pass tcp_stream TCP_PORT=47411
	crosswise "$OCICR" "$CRIU_REF" iptables 47412 tcp_expect_pass tcp_stream TCP_PORT=47412
	crosswise "$CRIU_REF" "$OCICR" iptables 47413 tcp_expect_pass tcp_stream TCP_PORT=47413
}
