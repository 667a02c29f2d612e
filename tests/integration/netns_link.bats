#!/usr/bin/env bats
# A tree that owns its network namespace with a veth whose peer is in a
# "host" (a test namespace with a bridge): the veth (index, MTU, address,
# flags), its addresses (IPv4 and IPv6) and routes are saved in CRIU's
# images (netdev-ID.img; ifaddr, route, route6 and rule as `ip ... save`
# writes them) and made anew at restore, the peer back in the host's bridge as
# --external veth[NAME]:OUTSIDE@BRIDGE says; the tree's listener answers
# through the veth again.

load helpers

setup() {
	requires root ip nsenter timeout
	[ -x "$WORKLOADS/netns_link" ] || skip "build the workloads first (make check)"
	NL=ocicr-nl-$$-$BATS_TEST_NUMBER
	HOST=$NL-h
	TREE=$NL-t
	ip netns add "$HOST"
	ip -n "$HOST" link set lo up
	ip -n "$HOST" link add br0 type bridge
	ip -n "$HOST" addr add 10.84.0.1/24 dev br0
	ip -n "$HOST" addr add fd84::1/64 dev br0 nodad
	ip -n "$HOST" link set br0 up
	ip netns add "$TREE"
	ip -n "$TREE" link set lo up
	ip link add v0 netns "$TREE" mtu 1400 address 02:00:00:84:00:02 type veth peer name h0 netns "$HOST"
	ip -n "$HOST" link set h0 master br0 up
	ip -n "$TREE" addr add 10.84.0.2/24 dev v0
	ip -n "$TREE" addr add fd84::2/64 dev v0 nodad
	ip -n "$TREE" link set v0 up
	ip -n "$TREE" route add 10.99.0.0/16 via 10.84.0.1
	ip -n "$TREE" -6 route add fd99::/64 via fd84::1
	ip -n "$TREE" rule add from 10.84.0.2 lookup 100 pref 1000
	settled "$TREE"
}

# The link-local addresses of namespace $1 are past their duplicate
# address detection (a passing state: their local routes come after it).
settled() {
	wait_for 20 no_tentative "$@" || fail "addresses still tentative: $(ip -n "$1" addr show tentative)"
}

# (ip lists a device without any address too, with no address line)
no_tentative() {
	! ip -n "$1" addr show tentative | grep -q ' inet'
}

teardown() {
	wl_cleanup
	ip netns del "$TREE" 2>/dev/null
	ip netns del "$HOST" 2>/dev/null
	return 0
}

# hello ADDR: what the tree's listener answers, seen from the host (in
# HELLO_WAIT seconds, default 10; a timeout exits 124).
hello() {
	nsenter --net="/run/netns/$HOST" timeout "${HELLO_WAIT:-10}" bash -c 'exec 3<>"/dev/tcp/$1/7117" && cat <&3' _ "$1"
}

in_host() {
	nsenter --net="/run/netns/$HOST" "$@"
}

@test "netns: a veth with its peer outside, its addresses and routes are made anew; the peer goes back into its bridge" {
	WL_WRAP="nsenter --net=/run/netns/$TREE" wl_start netns_link
	run hello 10.84.0.2
	assert_output ocicr-netns
	rules=$(ip -n "$TREE" rule show)
	wl_dump
	id=$(crit_get "$WL_DIR/img/ids-$WL_PID.img" 'img["entries"][0]["net_ns_id"]')
	run crit_get "$WL_DIR/img/netdev-$id.img" \
		'" ".join("%s:%s:%d" % (e["name"], e["type"], e["mtu"]) for e in img["entries"])'
	assert_output "lo:LOOPBACK:65536 v0:VETH:1400"
	# the raw images are iproute2's own dumps
	run ip addr showdump <"$WL_DIR/img/ifaddr-$id.img"
	assert_output --partial "inet 10.84.0.2/24"
	assert_output --partial "inet6 fd84::2/64"
	run ip route showdump <"$WL_DIR/img/route-$id.img"
	assert_output --partial "10.99.0.0/16 via 10.84.0.1"
	run ip -6 route showdump <"$WL_DIR/img/route6-$id.img"
	assert_output --partial "fd99::/64 via fd84::1"
	[ -s "$WL_DIR/img/rule-$id.img" ] || fail "no rules saved"
	wait_tree_gone
	# the namespace goes, and the pair with it
	ip netns del "$TREE"
	wait_for 20 bash -c "! ip -n $HOST link show h0 >/dev/null 2>&1" || fail "h0 is still in the host"

	# without being told where the peer goes, nothing is made
	run in_host "$OCICR" restore -D "$WL_DIR/img" -d
	assert_failure
	assert_output --partial "veth v0 had its peer outside the tree: give it with --external veth[v0]:OUTSIDE_NAME[@BRIDGE]"
	run ip -n "$HOST" link show h0
	assert_failure

	run in_host "$OCICR" restore -D "$WL_DIR/img" -d -o restore.log -v4 --external "veth[v0]:h0@br0"
	[ "$status" = 0 ] || { show_log "$WL_DIR/img/restore.log"; fail "restore: $output"; }
	run ip -n "$HOST" -o link show h0
	assert_output --regexp "master br0 state UP"
	run hello 10.84.0.2
	assert_output ocicr-netns
	run hello fd84::2
	assert_output ocicr-netns
	run nsenter -t "$WL_PID" -n ip rule show
	assert_output "$rules"
	wl_expect_pass
}

@test "netns: --veth-pair NAME=OUTSIDE@BRIDGE is CRIU's other name for the external veth" {
	WL_WRAP="nsenter --net=/run/netns/$TREE" wl_start netns_link
	wl_dump
	wait_tree_gone
	ip netns del "$TREE"
	wait_for 20 bash -c "! ip -n $HOST link show h0 >/dev/null 2>&1" || fail "h0 is still in the host"
	run in_host "$OCICR" restore -D "$WL_DIR/img" -d -o restore.log -v4 --veth-pair "v0=h0@br0"
	[ "$status" = 0 ] || { show_log "$WL_DIR/img/restore.log"; fail "restore: $output"; }
	run hello 10.84.0.2
	assert_output ocicr-netns
	wl_expect_pass
}

@test "netns: a namespace not ocicr's is locked whole (nftables, CRIU's layout) from the freeze until the restored tree runs" {
	requires nft
	WL_WRAP="nsenter --net=/run/netns/$TREE" wl_start netns_link
	# a tree that runs on leaves no lock
	wl_dump --leave-running
	run ip netns exec "$TREE" nft list tables
	refute_output --partial "CRIU-"
	wl_dump
	wait_tree_gone
	# the namespace outlives the tree (ip netns holds it), and its lock
	run ip netns exec "$TREE" nft list ruleset
	assert_output --regexp "table inet CRIU-"
	assert_output --regexp "hook input priority filter; policy drop;"
	assert_output --regexp "hook output priority filter; policy drop;"
	assert_output --partial "meta mark 0x0000c114 accept"
	# dropped, not refused (nothing listens: the kernel would answer RST)
	HELLO_WAIT=3 run hello 10.84.0.2
	[ "$status" = 124 ] || fail "not held by the lock: $status $output"
	wl_restore --join-ns "net:/run/netns/$TREE"
	run ip netns exec "$TREE" nft list tables
	refute_output --partial "CRIU-"
	run hello 10.84.0.2
	assert_output ocicr-netns
	wl_expect_pass
}

# port_status PORT: nothing listens on PORT of the tree, so a connection is
# refused at once unless a rule drops it (a timeout exits 124).
port_status() {
	nsenter --net="/run/netns/$HOST" timeout 3 bash -c 'exec 3<>"/dev/tcp/10.84.0.2/$1"' _ "$1" 2>/dev/null
}

@test "netns: the namespace's nftables ruleset is saved (nftables-ID.img, but the lock's table) and holds again after the restore" {
	requires nft
	ip netns exec "$TREE" nft -f - <<'NFT'
table inet ocicr_fw {
	chain in {
		type filter hook input priority 0; policy accept;
		tcp dport 7118 counter drop
	}
}
NFT
	run port_status 7118
	[ "$status" = 124 ] || fail "the rule does not drop: $status"
	run port_status 7119
	[ "$status" = 1 ] || fail "not refused: $status"
	WL_WRAP="nsenter --net=/run/netns/$TREE" wl_start netns_link
	wl_dump
	wait_tree_gone
	id=$(crit_get "$WL_DIR/img/ids-$WL_PID.img" 'img["entries"][0]["net_ns_id"]')
	run cat "$WL_DIR/img/nftables-$id.img"
	assert_output --partial "table inet ocicr_fw {"
	assert_output --partial "tcp dport 7118 counter packets"
	refute_output --partial "CRIU-"
	ip netns del "$TREE"
	wait_for 20 bash -c "! ip -n $HOST link show h0 >/dev/null 2>&1" || fail "h0 is still in the host"
	run in_host "$OCICR" restore -D "$WL_DIR/img" -d -o restore.log -v4 --external "veth[v0]:h0@br0"
	[ "$status" = 0 ] || { show_log "$WL_DIR/img/restore.log"; fail "restore: $output"; }
	run nsenter -t "$WL_PID" -n nft list ruleset
	assert_output --partial "tcp dport 7118 counter packets"
	refute_output --partial "CRIU-"
	# the rule holds in the new namespace: dropped, not refused
	run port_status 7118
	[ "$status" = 124 ] || fail "the restored rule does not drop: $status"
	run port_status 7119
	[ "$status" = 1 ] || fail "not refused: $status"
	run hello 10.84.0.2
	assert_output ocicr-netns
	wl_expect_pass
}

@test "netns: the namespace's sysctls (all, default) and its devices' (net.ipv4/ipv6.conf.DEV) come back" {
	set_conf() {
		ip netns exec "$TREE" sysctl -q -w net.ipv4.conf.all.forwarding=1 net.ipv6.conf.default.hop_limit=44 \
			net.ipv4.conf.v0.arp_ignore=1 net.ipv6.conf.v0.hop_limit=33 net.ipv4.conf.lo.accept_local=1 \
			net.ipv6.conf.lo.mtu=1280 net.ipv6.conf.v0.mtu=1300
	}
	get_conf() {
		"$@" sysctl -n net.ipv4.conf.all.forwarding net.ipv6.conf.default.hop_limit net.ipv4.conf.v0.arp_ignore \
			net.ipv6.conf.v0.hop_limit net.ipv4.conf.lo.accept_local net.ipv4.conf.v0.forwarding \
			net.ipv6.conf.lo.mtu net.ipv6.conf.v0.mtu | tr '\n' ' '
	}
	set_conf
	want=$(get_conf ip netns exec "$TREE")
	# (a link going up resets its IPv6 MTU: written again after)
	[ "$want" = "1 44 1 33 1 1 1280 1300 " ] || fail "not set: $want"
	WL_WRAP="nsenter --net=/run/netns/$TREE" wl_start netns_link
	wl_dump
	wait_tree_gone
	# CRIU's layout: one entry per name of its lists (30 IPv4, 42 IPv6)
	id=$(crit_get "$WL_DIR/img/ids-$WL_PID.img" 'img["entries"][0]["net_ns_id"]')
	run crit_get "$WL_DIR/img/netns-$id.img" \
		'"%d %d %d" % (len(img["entries"][0]["all_conf4"]), len(img["entries"][0]["def_conf6"]), img["entries"][0]["def_conf6"][19]["iarg"])'
	assert_output "30 42 44"
	run crit_get "$WL_DIR/img/netdev-$id.img" \
		'" ".join("%s:%d" % (e["name"], e["conf4"][6]["iarg"]) for e in img["entries"])'
	assert_output "lo:0 v0:1"
	ip netns del "$TREE"
	wait_for 20 bash -c "! ip -n $HOST link show h0 >/dev/null 2>&1" || fail "h0 is still in the host"
	run in_host "$OCICR" restore -D "$WL_DIR/img" -d -o restore.log -v4 --external "veth[v0]:h0@br0"
	[ "$status" = 0 ] || { show_log "$WL_DIR/img/restore.log"; fail "restore: $output"; }
	run get_conf nsenter -t "$WL_PID" -n
	assert_output "$want"
	run hello 10.84.0.2
	assert_output ocicr-netns
	wl_expect_pass
}

# The tree's devices as `ip` shows them, without what the restore may
# number otherwise outside (the outside peer's index, the host's nsid).
tree_links() {
	"$@" ip -o link show 2>/dev/null | sed -e 's/@if[0-9]*/@if/' -e 's/ link-netns[a-z]* [^ ]*//' -e 's/ qlen [0-9]*//'
}

# `$@ ip` shows the tree's devices as $links has them.
same_links() {
	[ "$(tree_links "$@")" = "$links" ]
}

# bridge_setup ARGS...: the tree's address moves from v0 onto vb, one end of
# a veth pair (va, vb) inside; v0 and va are ports of bridge br1 (made with
# ARGS), so the host reaches the tree through v0, br1, va and vb.
bridge_setup() {
	# the ports need no IPv6 of their own (a sysctl the restore gives back)
	ip netns exec "$TREE" sysctl -q -w net.ipv6.conf.v0.disable_ipv6=1
	ip -n "$TREE" addr flush dev v0
	ip -n "$TREE" link add br1 address 02:00:00:84:00:10 type bridge "$@"
	ip -n "$TREE" link add va mtu 1400 address 02:00:00:84:00:0a type veth peer name vb mtu 1400 \
		address 02:00:00:84:00:0b
	ip netns exec "$TREE" sysctl -q -w net.ipv6.conf.va.disable_ipv6=1
	ip -n "$TREE" link set v0 master br1
	ip -n "$TREE" link set va master br1
	ip -n "$TREE" link set br1 mtu 1300 up
	ip -n "$TREE" link set va up
	ip -n "$TREE" addr add 10.84.0.2/24 dev vb
	ip -n "$TREE" addr add fd84::2/64 dev vb nodad
	ip -n "$TREE" link set vb up
	ip -n "$TREE" route add 10.99.0.0/16 via 10.84.0.1
	ip -n "$TREE" neigh add 10.84.0.77 lladdr 02:00:00:84:00:77 dev vb nud permanent
	ip -n "$TREE" neigh add fd84::77 lladdr 02:00:00:84:00:77 dev vb nud permanent
	# with STP, br1 has its carrier (and its IPv6 link-local address) once
	# its ports forward
	wait_for 30 br1_forwarding ip netns exec "$TREE" || fail "br1's ports do not forward"
	settled "$TREE"
}

# The STP settings of br1 in the namespace of `$@ ip`.
br1_stp() {
	"$@" ip -d link show br1 | grep -o 'forward_delay [0-9]*\|stp_state [0-9]*\|priority [0-9]*' | tr '\n' ' '
}

# The ports of br1 in the namespace of `$@ bridge` are forwarding.
br1_forwarding() {
	[ "$("$@" bridge link show | grep -c 'master br1 state forwarding')" = 2 ]
}

# bridge_roundtrip: dump, the namespace gone, restore; the devices, their
# state, ports, STP settings and permanent neighbours are as they were.
bridge_roundtrip() {
	WL_WRAP="nsenter --net=/run/netns/$TREE" wl_start netns_link
	HELLO_WAIT=20 run hello 10.84.0.2
	assert_output ocicr-netns
	links=$(tree_links ip netns exec "$TREE")
	stp=$(br1_stp ip netns exec "$TREE")
	neigh=$(ip -n "$TREE" neigh show nud permanent)
	[ "$(echo "$neigh" | wc -l)" = 2 ] || fail "neighbours: $neigh"
	wl_dump
	id=$(crit_get "$WL_DIR/img/ids-$WL_PID.img" 'img["entries"][0]["net_ns_id"]')
	run crit_get "$WL_DIR/img/netdev-$id.img" \
		'" ".join(sorted("%s:%s:%d" % (e["name"], e["type"], e["mtu"]) for e in img["entries"]))'
	assert_output "br1:BRIDGE:1300 lo:LOOPBACK:65536 v0:VETH:1400 va:VETH:1400 vb:VETH:1400"
	wait_tree_gone
	ip netns del "$TREE"
	wait_for 20 bash -c "! ip -n $HOST link show h0 >/dev/null 2>&1" || fail "h0 is still in the host"
	run in_host "$OCICR" restore -D "$WL_DIR/img" -d -o restore.log -v4 --external "veth[v0]:h0@br0"
	[ "$status" = 0 ] || { show_log "$WL_DIR/img/restore.log"; fail "restore: $output"; }
	wait_for 30 br1_forwarding nsenter -t "$WL_PID" -n || fail "br1's ports do not forward after restore"
	# the operational states follow the carriers a moment later
	wait_for 10 same_links nsenter -t "$WL_PID" -n
	run tree_links nsenter -t "$WL_PID" -n
	assert_output "$links"
	run br1_stp nsenter -t "$WL_PID" -n
	assert_output "$stp"
	run nsenter -t "$WL_PID" -n ip neigh show nud permanent
	assert_output "$neigh"
	HELLO_WAIT=20 run hello 10.84.0.2
	assert_output ocicr-netns
	run hello fd84::2
	assert_output ocicr-netns
	wl_expect_pass
}

@test "netns: a bridge (STP off) with its ports, a veth pair inside, permanent neighbours: made as they were, traffic crosses them" {
	bridge_setup
	bridge_roundtrip
	[[ "$stp" == *"stp_state 0"* ]] || fail "stp: $stp"
}

@test "netns: a bridge with STP on keeps its STP state, forward delay and priority" {
	bridge_setup stp_state 1 forward_delay 200 priority 4096
	bridge_roundtrip
	[[ "$stp" == *"stp_state 1"* && "$stp" == *"forward_delay 200"* && "$stp" == *"priority 4096"* ]] ||
		fail "stp: $stp"
}

@test "netns: a macvlan over a device outside comes back over the one --external macvlan[NAME]:OUTSIDE names; one over a device inside is refused by name" {
	ip -n "$HOST" link add hx0 type veth peer name hx1
	ip -n "$HOST" addr add 10.85.0.1/24 dev hx1
	ip -n "$HOST" link set hx1 up
	ip -n "$HOST" link set hx0 up
	ip -n "$HOST" link add mv0 link hx0 mtu 1450 address 02:00:00:85:00:02 type macvlan mode bridge
	ip -n "$HOST" link set mv0 netns "$TREE"
	ip -n "$TREE" addr add 10.85.0.2/24 dev mv0
	ip -n "$TREE" link set mv0 up
	ip -n "$TREE" link add mvin link v0 type macvlan mode private
	WL_WRAP="nsenter --net=/run/netns/$TREE" wl_launch "$WORKLOADS/netns_link" "$BATS_TEST_TMPDIR/refused"
	mkdir -p "$WL_DIR/bad"
	run "$OCICR" dump -t "$WL_PID" -D "$WL_DIR/bad"
	assert_failure
	assert_output --partial "holds macvlan mvin over a device of its own"
	[ "$(task_state "$WL_PID")" = S ] || fail "task $WL_PID: $(task_state "$WL_PID")"
	wl_cleanup
	ip -n "$TREE" link del mvin
	WL_WRAP="nsenter --net=/run/netns/$TREE" wl_start netns_link
	run hello 10.85.0.2
	assert_output ocicr-netns
	links=$(tree_links ip netns exec "$TREE")
	wl_dump
	id=$(crit_get "$WL_DIR/img/ids-$WL_PID.img" 'img["entries"][0]["net_ns_id"]')
	run crit_get "$WL_DIR/img/netdev-$id.img" \
		'" ".join("%s:%s:%d" % (e["name"], e["type"], e["macvlan"]["mode"]) for e in img["entries"] if "macvlan" in e)'
	assert_output "mv0:MACVLAN:4"
	wait_tree_gone
	ip netns del "$TREE"
	wait_for 20 bash -c "! ip -n $HOST link show h0 >/dev/null 2>&1" || fail "h0 is still in the host"
	run in_host "$OCICR" restore -D "$WL_DIR/img" -d --external "veth[v0]:h0@br0"
	assert_failure
	assert_output --partial "macvlan mv0 is over a device outside the tree: give it with --external macvlan[mv0]:OUTSIDE_NAME"
	run ip -n "$HOST" link show h0
	assert_failure
	run in_host "$OCICR" restore -D "$WL_DIR/img" -d -o restore.log -v4 --external "veth[v0]:h0@br0" \
		--external "macvlan[mv0]:hx0"
	[ "$status" = 0 ] || { show_log "$WL_DIR/img/restore.log"; fail "restore: $output"; }
	# its operational state follows its lower device's a moment later
	wait_for 10 same_links nsenter -t "$WL_PID" -n
	run tree_links nsenter -t "$WL_PID" -n
	assert_output "$links"
	run nsenter -t "$WL_PID" -n ip -d link show mv0
	assert_output --partial "macvlan mode bridge"
	run hello 10.85.0.2
	assert_output ocicr-netns
	wl_expect_pass
}
