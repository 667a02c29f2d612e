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

ocicr() {
	nsenter --net="/run/netns/$FDSOCK_NETNS" "$OCICR" "$@"
}

# isk_lines EXPR: for each inet socket of $DIR/img/files.img, a line: the
# Python expression EXPR of its entry k (ip: its ip_opts, json: the module).
isk_lines() {
	run "$OCICR" image decode --pretty -i "$DIR/img/files.img"
	assert_success
	echo "$output" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["entries"]:
    if e["type"] == "INETSK":
        k = e["isk"]
        ip = k.get("ip_opts", {})
        print(*eval(sys.argv[1]))' "$1"
}

@test "TCP listeners (IPv4, dual-stack, IPv6-only), a bound idle TCP socket and UDP sockets keep addresses, options, flags and work" {
	fdsock_start fdsock_inet
	[ "$(echo "$WL_PIDS" | wc -w)" -eq 2 ] || fail "expected 2 processes (one sharing the listener), got: $WL_PIDS"
	fdsock_dump
	fdsock_restore
	fdsock_expect_pass
}

@test "inet socket images decode as CRIU 4.2 writes them: addresses, backlog, v6only, ip and tcp options" {
	fdsock_start fdsock_inet
	fdsock_dump
	local isk
	isk=$(isk_lines '(k["family"], k["proto"], k["state"], k["src_addr"][0], k["src_port"], k["dst_port"], k["backlog"], k.get("v6only"), k.get("ip_opts", {}).get("ttl"), k.get("tcp_opts", {}).get("keepidle"), k["opts"].get("so_keepalive"))')
	echo "$isk"
	grep -qx "INET TCP LISTEN 127.0.0.1 47301 0 7 None 33 123 True" <<<"$isk" || fail "IPv4 listener"
	grep -qx "INET6 TCP LISTEN :: 47302 0 3 False None 7200 False" <<<"$isk" || fail "dual-stack listener"
	grep -qx "INET6 TCP LISTEN ::1 47303 0 2 True None 7200 False" <<<"$isk" || fail "IPv6-only listener"
	grep -qx "INET TCP CLOSE 127.0.0.1 47304 0 0 None 64 7200 False" <<<"$isk" || fail "idle TCP socket"
	grep -qx "INET UDP ESTABLISHED 127.0.0.1 47306 47305 0 None 64 None False" <<<"$isk" || fail "connected UDP"
	# The kernel makes a socket bound to a plain IPv6 address IPv6-only.
	grep -qx "INET6 UDP CLOSE ::1 47307 0 0 True None None False" <<<"$isk" || fail "IPv6 UDP"
	fdsock_restore
	fdsock_expect_pass
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
	fdsock_start fdsock_dgram
	fdsock_dump
	local isk
	isk=$(isk_lines '(k["family"], k["type"], k["proto"], k["src_port"], k["dst_port"], k.get("shutdown"))')
	echo "$isk"
	# CRIU's image names for the shutdowns of the UDP pair.
	grep -qx "INET DGRAM UDP 47401 47402 WRITE" <<<"$isk" || fail "write-shut UDP socket"
	grep -qx "INET DGRAM UDP 47402 47401 READ" <<<"$isk" || fail "read-shut UDP socket"
	grep -qx "INET DGRAM UDPLITE 47403 47404 None" <<<"$isk" || fail "UDP-lite socket"
	grep -qx "INET DGRAM 1 4242 0 None" <<<"$isk" || fail "IPv4 ping socket"
	grep -qx "INET6 DGRAM 58 4243 0 None" <<<"$isk" || fail "IPv6 ping socket"
	grep -qx "INET6 DGRAM UDP 47411 0 None" <<<"$isk" || fail "IPv6 socket bound to an absent address"
	fdsock_restore
	fdsock_expect_pass
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
	fdsock_start fdsock_raw
	fdsock_dump
	local isk
	isk=$(isk_lines '(k["family"], k["type"], k["proto"], k["state"], ip.get("pktinfo"), json.dumps(ip.get("raw"), sort_keys=True))')
	echo "$isk"
	grep -qx 'INET RAW UDP CLOSE True {}' <<<"$isk" || fail "raw UDP socket"
	grep -qx 'INET RAW 255 CLOSE None {"hdrincl": true, "nodefrag": true}' <<<"$isk" || fail "header-included socket"
	grep -qx 'INET RAW 1 CLOSE None {"icmpv_filter": \[65527\]}' <<<"$isk" || fail "ICMP socket"
	grep -qx 'INET RAW TCP CLOSE None {}' <<<"$isk" || fail "raw TCP-protocol socket"
	fdsock_restore
	fdsock_expect_pass
}

@test "TCP connections that have ended come back closed both ways, though a TIME_WAIT holds the client's port" {
	fdsock_start fdsock_tcp_closed
	fdsock_dump
	fdsock_restore
	fdsock_expect_pass
}
