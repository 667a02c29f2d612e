#!/usr/bin/env bats
# TCP and UDP sockets across a checkpoint, in a network namespace the test
# makes (loopback up) so the workload's fixed ports meet no one else's.
# The workload, ocicr dump and ocicr restore all run inside it.

load helpers
load helpers_fdsock

setup() {
	fdsock_netns_setup ocicr-net fdsock_inet
}

teardown() {
	fdsock_netns_teardown
}

# isk_roundtrip WORKLOAD EXPR [LINE WHAT]...: dump WORKLOAD and expect each
# LINE (a grep -x pattern) among the EXPR lines of its inet sockets
# (fdsock_img_entries), failing with WHAT where one is missing; then
# restore it and expect its PASS.
isk_roundtrip() {
	local wl=$1 expr=$2 isk
	shift 2
	fdsock_start "$wl"
	fdsock_dump
	isk=$(fdsock_img_entries INETSK isk "$expr")
	echo "$isk"
	while [ $# -gt 0 ]; do
		grep -qx -- "$1" <<<"$isk" || fail "$2"
		shift 2
	done
	fdsock_restore
	fdsock_expect_pass
}

@test "TCP listeners (IPv4, dual-stack, IPv6-only), a bound idle TCP socket and UDP sockets keep addresses, options, flags and work" {
	fdsock_start fdsock_inet
	[ "$(echo "$WL_PIDS" | wc -w)" -eq 2 ] || fail "expected 2 processes (one sharing the listener), got: $WL_PIDS"
	fdsock_dump
	fdsock_restore
	fdsock_expect_pass
}

@test "inet socket images decode as CRIU 4.2 writes them: addresses, backlog, v6only, ip and tcp options" {
	# The kernel makes a socket bound to a plain IPv6 address IPv6-only.
	isk_roundtrip fdsock_inet '(k["family"], k["proto"], k["state"], k["src_addr"][0], k["src_port"], k["dst_port"], k["backlog"], k.get("v6only"), k.get("ip_opts", {}).get("ttl"), k.get("tcp_opts", {}).get("keepidle"), k["opts"].get("so_keepalive"))' \
		"INET TCP LISTEN 127.0.0.1 47301 0 7 None 33 123 True" "IPv4 listener" \
		"INET6 TCP LISTEN :: 47302 0 3 False None 7200 False" "dual-stack listener" \
		"INET6 TCP LISTEN ::1 47303 0 2 True None 7200 False" "IPv6-only listener" \
		"INET TCP CLOSE 127.0.0.1 47304 0 0 None 64 7200 False" "idle TCP socket" \
		"INET UDP ESTABLISHED 127.0.0.1 47306 47305 0 None 64 None False" "connected UDP" \
		"INET6 UDP CLOSE ::1 47307 0 0 True None None False" "IPv6 UDP"
}

@test "a restore whose port is taken fails naming the socket, and leaves nothing behind" {
	fdsock_start fdsock_inet
	fdsock_dump
	# Someone else now listens on the workload's first port.
	nsenter --net="/run/netns/$FDSOCK_NETNS" python3 -c '
import socket, time, sys
s = socket.socket(); s.bind(("127.0.0.1", 47301)); s.listen(1)
open(sys.argv[1], "w").write("up"); time.sleep(60)' "$DIR/squat.up" &
	echo $! >"$DIR/helper.pid"
	local i
	for i in $(seq 100); do [ -s "$DIR/squat.up" ] && break; sleep 0.05; done
	run ocicr restore -D "$DIR/img" -d -o -
	assert_failure
	assert_output --partial "cannot bind TCP socket 127.0.0.1:47301"
	local p
	for p in $WL_PIDS; do
		[ ! -d "/proc/$p" ] || fail "a failed restore left pid $p behind"
	done
}

# Ping sockets need the gid that makes them inside ping_group_range, which
# is per network namespace and lets no one in by default.
allow_ping() {
	nsenter --net="/run/netns/$FDSOCK_NETNS" sh -c 'echo 0 0 >/proc/sys/net/ipv4/ping_group_range'
}

@test "UDP shutdowns, a UDP-lite pair, IPv4 and IPv6 ping sockets and an IPv6 bind to an absent address come back and work" {
	allow_ping
	# WRITE and READ: CRIU's image names for the shutdowns of the UDP pair.
	isk_roundtrip fdsock_dgram '(k["family"], k["type"], k["proto"], k["src_port"], k["dst_port"], k.get("shutdown"))' \
		"INET DGRAM UDP 47401 47402 WRITE" "write-shut UDP socket" \
		"INET DGRAM UDP 47402 47401 READ" "read-shut UDP socket" \
		"INET DGRAM UDPLITE 47403 47404 None" "UDP-lite socket" \
		"INET DGRAM 1 4242 0 None" "IPv4 ping socket" \
		"INET6 DGRAM 58 4243 0 None" "IPv6 ping socket" \
		"INET6 DGRAM UDP 47411 0 None" "IPv6 socket bound to an absent address"
}

@test "a UDP socket corked with data held back is refused at dump, naming it, and the tree goes on" {
	allow_ping
	fdsock_start fdsock_dgram CORK=1
	run ocicr dump -t "$WL_PID" -D "$DIR/img" -o -
	assert_failure
	assert_output --partial "UDP socket 127.0.0.1:47421 is corked (UDP_CORK) with data held back"
	fdsock_expect_pass
}

@test "raw sockets (UDP, header-included, ICMP and ICMPv6 with type filters, TCP protocol) and IP packet-info options come back and work" {
	isk_roundtrip fdsock_raw '(k["family"], k["type"], k["proto"], k["state"], ip.get("pktinfo"), json.dumps(ip.get("raw"), sort_keys=True))' \
		'INET RAW UDP CLOSE True {}' "raw UDP socket" \
		'INET RAW 255 CLOSE None {"hdrincl": true, "nodefrag": true}' "header-included socket" \
		'INET RAW 1 CLOSE None {"icmpv_filter": \[65527\]}' "ICMP socket" \
		'INET RAW TCP CLOSE None {}' "raw TCP-protocol socket"
}

@test "TCP connections that have ended come back closed both ways, though a TIME_WAIT holds the client's port" {
	fdsock_start fdsock_tcp_closed
	fdsock_dump
	fdsock_restore
	fdsock_expect_pass
}
