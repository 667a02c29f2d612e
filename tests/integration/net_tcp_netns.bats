#!/usr/bin/env bats
# A tree with a network namespace of its own, as a container has: ocicr
# runs in the host's, the tree's namespace is external at dump (as runc
# names it) and given back at restore.  Its connections' lock lives in the
# tree's namespace, as CRIU's lock of a container does, and is always
# removed from there.

load helpers
load helpers_fdsock
load helpers_net

setup() {
	tcp_hosts_setup ocicr-tcpns nsenter
	host_add "$NS-c"
	link_hosts "$FDSOCK_NETNS" "$NS-c" "10.83.0.1" "10.83.0.2"
	EXT="net[$(stat -Lc %i "/run/netns/$FDSOCK_NETNS")]:extnet"
}

teardown() {
	peers_kill
	fdsock_cleanup
	for p in a c; do
		ip netns del "$NS-$p" 2>/dev/null || true
	done
}

# ocicr runs in the host's namespaces, not the tree's.
ocicr() {
	"$OCICR" "$@"
}

# A server in A with two connections from a client in C.
start_pair() {
	peer_start peer "$NS-c" TCP_ROLE=client TCP_ADDR=10.83.0.1 TCP_CONNS=2 "$@"
	fdsock_start tcp_stream TCP_ROLE=server TCP_ADDR=10.83.0.1 TCP_CONNS=2 "$@"
	peer_wait_ready peer
}

# The lock is in A, none in ours.
lock_in_tree_ns() {
	run ip netns exec "$FDSOCK_NETNS" nft list tables
	assert_output --partial "CRIU-"
	run nft list tables
	refute_output --partial "CRIU-"
}

@test "a tree in a namespace of its own: the lock is in that namespace, the sockets come back there (--join-ns and --inherit-fd), the connections go on" {
	start_pair
	fdsock_dump --tcp-established --external "$EXT"
	lock_in_tree_ns
	run ocicr restore -D "$DIR/img" -d -o - --tcp-established --join-ns "net:/run/netns/$FDSOCK_NETNS"
	assert_success
	no_lock_in "$FDSOCK_NETNS"
	[ "$(readlink "/proc/$WL_PID/ns/net")" = "$(nsenter --net="/run/netns/$FDSOCK_NETNS" readlink /proc/self/ns/net)" ] ||
		fail "the restored tree is not in its namespace"

	# Again, with the namespace handed over as runc does.
	fdsock_dump --tcp-established --external "$EXT"
	lock_in_tree_ns
	run ocicr restore -D "$DIR/img" -d -o - --tcp-established --inherit-fd "fd[7]:extnet" \
		7<"/run/netns/$FDSOCK_NETNS"
	assert_success
	no_lock_in "$FDSOCK_NETNS"
	tcp_expect_pass
	peer_expect_pass peer
}

@test "in the tree's namespace: a failed dump and a failed restore leave no lock; a killed dump's lock is removed by the next run, naming it" {
	start_pair
	# Failed: the namespace, not named external, holds a vxlan device.
	ip -n "$FDSOCK_NETNS" link add ocicr-vx0 type vxlan id 42 dstport 4789
	run ocicr dump -t "$WL_PID" -D "$DIR/bad" -o - --tcp-established
	ip -n "$FDSOCK_NETNS" link del ocicr-vx0
	assert_failure
	assert_output --partial "holds device ocicr-vx0 (vxlan)"
	assert_output --partial "--external net["
	no_lock_in "$FDSOCK_NETNS"
	run nft list tables
	refute_output --partial "CRIU-"

	# Killed once its images are written: its lock stays, and holds every
	# packet of A (as CRIU's does), so no new pair could connect there.
	printf '#!/bin/sh\n[ "$CRTOOLS_SCRIPT_ACTION" = post-dump ] && kill -9 $PPID\nexit 0\n' >"$DIR/kill.sh"
	chmod +x "$DIR/kill.sh"
	run ocicr dump -t "$WL_PID" -D "$DIR/img" -o - --tcp-established --external "$EXT" --action-script "$DIR/kill.sh"
	assert_failure
	lock_in_tree_ns
	# The tree goes on with its connections in repair mode: killed, it
	# tells its peer nothing.  The next run, a restore of its images,
	# removes the stale lock, naming it, and brings the tree back.
	fdsock_cleanup
	fdsock_wait_gone
	run ocicr restore -D "$DIR/img" -d -o - --tcp-established --join-ns "net:/run/netns/$FDSOCK_NETNS"
	assert_success
	assert_output --regexp "removed a stale network lock: nftables table inet CRIU-[0-9a-f-]+, left by ocicr [0-9]+"
	no_lock_in "$FDSOCK_NETNS"
	fdsock_dump --tcp-established --external "$EXT"

	printf '#!/bin/sh\n[ "$CRTOOLS_SCRIPT_ACTION" = post-restore ] && exit 1\nexit 0\n' >"$DIR/fail.sh"
	chmod +x "$DIR/fail.sh"
	run ocicr restore -D "$DIR/img" -d -o - --tcp-established --join-ns "net:/run/netns/$FDSOCK_NETNS" \
		--action-script "$DIR/fail.sh"
	assert_failure
	no_lock_in "$FDSOCK_NETNS"
	run nft list tables
	refute_output --partial "CRIU-"
	# Nothing of the tree is left (its peer's connections are lost: with
	# the lock gone, A answers them with resets).
	fdsock_wait_gone
}

@test "in the tree's namespace: a killed restore's lock is removed there by the next restore, naming it, and the connections go on" {
	start_pair
	fdsock_dump --tcp-established --external "$EXT"
	printf '#!/bin/sh\n[ "$CRTOOLS_SCRIPT_ACTION" = post-restore ] && kill -9 $PPID\nexit 0\n' >"$DIR/kill.sh"
	chmod +x "$DIR/kill.sh"
	run ocicr restore -D "$DIR/img" -d -o - --tcp-established --join-ns "net:/run/netns/$FDSOCK_NETNS" \
		--action-script "$DIR/kill.sh"
	assert_failure
	fdsock_wait_gone
	lock_in_tree_ns
	run ocicr restore -D "$DIR/img" -d -o - --tcp-established --join-ns "net:/run/netns/$FDSOCK_NETNS"
	assert_success
	assert_output --regexp "removed a stale network lock: nftables table inet CRIU-[0-9a-f-]+, left by ocicr [0-9]+"
	no_lock_in "$FDSOCK_NETNS"
	run nft list tables
	refute_output --partial "CRIU-"
	tcp_expect_pass
	peer_expect_pass peer
}

@test "--network-lock iptables in the tree's namespace: locked whole as CRIU does (chain CRIU) between dump and restore, nothing in ours, nothing after" {
	command -v iptables >/dev/null || skip "needs iptables"
	start_pair
	# A dump that fails after the lock is made removes it, the tree runs on.
	printf '#!/bin/sh\n[ "$CRTOOLS_SCRIPT_ACTION" = post-dump ] && exit 1\nexit 0\n' >"$DIR/fail.sh"
	chmod +x "$DIR/fail.sh"
	run ocicr dump -t "$WL_PID" -D "$DIR/bad" -o - -v4 --tcp-established --external "$EXT" --network-lock iptables \
		--action-script "$DIR/fail.sh"
	assert_failure
	assert_output --partial "network lock: the whole namespace, iptables chain CRIU"
	no_lock_in "$FDSOCK_NETNS"
	fdsock_dump --tcp-established --external "$EXT" --network-lock iptables
	ipt_whole_lock_is_criu "$FDSOCK_NETNS"
	run iptables-save
	refute_output --partial "ocicr-"
	refute_output --partial "CRIU"
	# Only marked packets pass: a connection to A's address times out.
	run ip netns exec "$NS-c" timeout 3 bash -c 'exec 3<>/dev/tcp/10.83.0.1/22'
	[ "$status" = 124 ] || fail "a connection into the locked namespace was answered: $output"
	run ocicr restore -D "$DIR/img" -d -o - --tcp-established --join-ns "net:/run/netns/$FDSOCK_NETNS"
	assert_success
	no_lock_in "$FDSOCK_NETNS"
	tcp_expect_pass
	peer_expect_pass peer
}

@test "--network-lock iptables in the tree's namespace: a killed dump's and a killed restore's lock are removed by the next run, naming them; a failed restore leaves none" {
	command -v iptables >/dev/null || skip "needs iptables"
	start_pair
	printf '#!/bin/sh\n[ "$CRTOOLS_SCRIPT_ACTION" = "$KILL_AT" ] && kill -9 $PPID\nexit 0\n' >"$DIR/kill.sh"
	printf '#!/bin/sh\n[ "$CRTOOLS_SCRIPT_ACTION" = post-restore ] && exit 1\nexit 0\n' >"$DIR/fail.sh"
	chmod +x "$DIR/kill.sh" "$DIR/fail.sh"
	KILL_AT=post-dump run ocicr dump -t "$WL_PID" -D "$DIR/bad" -o - --tcp-established --external "$EXT" \
		--network-lock iptables --action-script "$DIR/kill.sh"
	assert_failure
	ipt_whole_lock_is_criu "$FDSOCK_NETNS" owned
	# The namespace stays shut until the next run: a tree without
	# connections there now.
	peers_kill
	fdsock_cleanup
	fdsock_start fdsock_inet
	fdsock_dump --external "$EXT" --network-lock iptables
	assert_output --regexp "removed a stale network lock: iptables rule -A INPUT -m comment --comment ocicr-owner-[0-9-]+ -j CRIU"
	assert_output --regexp "removed a stale network lock: ip6tables rule -A OUTPUT -m comment --comment ocicr-owner-[0-9-]+ -j CRIU"
	ipt_whole_lock_is_criu "$FDSOCK_NETNS"

	KILL_AT=post-restore run ocicr restore -D "$DIR/img" -d -o - --join-ns "net:/run/netns/$FDSOCK_NETNS" \
		--action-script "$DIR/kill.sh"
	assert_failure
	fdsock_wait_gone
	ipt_whole_lock_is_criu "$FDSOCK_NETNS" owned
	run ocicr restore -D "$DIR/img" -d -o - --join-ns "net:/run/netns/$FDSOCK_NETNS" --action-script "$DIR/fail.sh"
	assert_failure
	assert_output --regexp "removed a stale network lock: iptables rule -A OUTPUT -m comment --comment ocicr-owner-[0-9-]+ -j CRIU"
	no_lock_in "$FDSOCK_NETNS"
	fdsock_wait_gone
	run ocicr restore -D "$DIR/img" -d -o - --join-ns "net:/run/netns/$FDSOCK_NETNS"
	assert_success
	no_lock_in "$FDSOCK_NETNS"
	fdsock_expect_pass
}

# criu_round DUMPER RESTORER PORT: the pair's server dumped by one with the
# iptables lock, restored by the other, the lock checked in between.
criu_round() {
	start_pair "TCP_PORT=$3"
	mkdir -p "$DIR/img-$3"
	run "$1" dump -t "$WL_PID" -D "$DIR/img-$3" -o dump.log -v4 --tcp-established --external "$EXT" \
		--network-lock iptables
	[ "$status" -eq 0 ] || fail "$1 dump failed: $(tail -5 "$DIR/img-$3/dump.log")"
	fdsock_wait_gone
	ipt_whole_lock_is_criu "$FDSOCK_NETNS"
	run "$2" restore -D "$DIR/img-$3" -d -o restore.log -v4 --tcp-established --inherit-fd "fd[7]:extnet" \
		7<"/run/netns/$FDSOCK_NETNS"
	[ "$status" -eq 0 ] || fail "$2 restore failed: $(tail -5 "$DIR/img-$3/restore.log")"
	no_lock_in "$FDSOCK_NETNS"
	tcp_expect_pass
	peer_expect_pass peer
	peers_kill
	fdsock_cleanup
}

@test "with CRIU 4.2: the whole-namespace iptables lock of ocicr's dump is removed by CRIU's restore, and CRIU's by ocicr's" {
	[ -x "${CRIU_REF:-}" ] || skip "a comparison with CRIU 4.2: set CRIU_REF to a CRIU built outside the repo"
	command -v iptables >/dev/null || skip "needs iptables"
	criu_round "$OCICR" "$CRIU_REF" 47406
	criu_round "$CRIU_REF" "$OCICR" 47407
}
