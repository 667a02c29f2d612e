#!/usr/bin/env bats
# Network namespaces as containers have them: one of the tree's own with
# loopback alone is saved and made anew; one given from outside is named
# external at dump (--external net[INODE]:KEY) and joined at restore
# (--join-ns net:PATH); a device besides loopback and veth is refused by
# name (veth: netns_link.bats).

load helpers

setup() {
	requires root unshare ip
	NS_DIR=$BATS_TEST_TMPDIR/net
	mkdir -p "$NS_DIR"
}

teardown() {
	[ -f "$NS_DIR/pids" ] && while read -r p; do kill -9 "$p" 2>/dev/null; done <"$NS_DIR/pids"
	[ -n "${NETNS:-}" ] && ip netns del "$NETNS" 2>/dev/null
	return 0
}

# ns_start SCRIPT: a shell running SCRIPT then sleeping, in the
# namespaces unshare makes with the rest of the arguments; sets PID.
ns_start() {
	local script=$1
	shift
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
		done
		setsid "$@" sh -c "$script; touch $NS_DIR/ready; exec sleep 3600" </dev/null >/dev/null 2>&1 &
		echo $! >"$NS_DIR/pid"
	)
	PID=$(cat "$NS_DIR/pid")
	echo "$PID" >>"$NS_DIR/pids"
	wait_for 20 test -e "$NS_DIR/ready" || fail "the shell did not start"
	wait_for 20 test "$(readlink "/proc/$PID/exe")" = "$(readlink -f /bin/sleep)" || fail "no sleep"
}

@test "netns: a namespace of the tree's own with loopback alone is made anew, lo up as it was" {
	ns_start "ip link set lo up" unshare --net
	run ocicr dump -t "$PID" -D "$NS_DIR/img"
	assert_success
	[ -e "$NS_DIR/img/netns-$(crit_get "$NS_DIR/img/ids-$PID.img" 'img["entries"][0]["net_ns_id"]').img" ] ||
		fail "no netns image: $(ls "$NS_DIR/img")"
	wait_gone "$PID"
	run ocicr restore -D "$NS_DIR/img" -d
	assert_success
	[ "$(readlink "/proc/$PID/ns/net")" != "$(readlink /proc/self/ns/net)" ] || fail "restored into our own namespace"
	run nsenter -t "$PID" -n ip -o link show
	assert_success
	assert_output --regexp "^1: lo: <LOOPBACK,UP"
	[ "${#lines[@]}" = 1 ] || fail "devices: $output"
}

# zdtm's netns test (ns flavour): addresses and routes on lo alone.
@test "netns: loopback alone keeps the addresses and routes it had beside 127.0.0.1 and ::1" {
	ns_start "ip link set lo up; ip addr add 1.2.3.4 dev lo; ip -6 addr add fd00::4 dev lo;
		ip route add 1.2.3.5 dev lo; ip route add 1.2.3.6 via 1.2.3.5" unshare --net
	nsenter -t "$PID" -n sh -c 'ip addr; ip route; ip -6 route' >"$NS_DIR/before"
	run ocicr dump -t "$PID" -D "$NS_DIR/img"
	assert_success
	wait_gone "$PID"
	run ocicr restore -D "$NS_DIR/img" -d
	assert_success
	nsenter -t "$PID" -n sh -c 'ip addr; ip route; ip -6 route' >"$NS_DIR/after"
	diff -u "$NS_DIR/before" "$NS_DIR/after" || fail "the network differs after restore"
	grep -q "inet 1.2.3.4/32" "$NS_DIR/after" || fail "no 1.2.3.4 on lo: $(cat "$NS_DIR/after")"
	grep -q "^1.2.3.6 via 1.2.3.5 dev lo" "$NS_DIR/after" || fail "no route to 1.2.3.6: $(cat "$NS_DIR/after")"
}

@test "netns: the legacy iptables rules of a namespace of the tree's own come back (iptables-ID.img, ip6tables-ID.img, as CRIU keeps them)" {
	command -v iptables-legacy >/dev/null || skip "needs iptables-legacy"
	ns_start "ip link set lo up; iptables-legacy -w -A INPUT -p tcp --dport 47999 -j DROP; ip6tables-legacy -w -A OUTPUT -p udp --dport 47998 -j REJECT" unshare --net
	run ocicr dump -t "$PID" -D "$NS_DIR/img"
	assert_success
	local id
	id=$(crit_get "$NS_DIR/img/ids-$PID.img" 'img["entries"][0]["net_ns_id"]')
	grep -q -- "--dport 47999 -j DROP" "$NS_DIR/img/iptables-$id.img" || fail "iptables-$id.img: $(cat "$NS_DIR/img/iptables-$id.img")"
	grep -q -- "--dport 47998 -j REJECT" "$NS_DIR/img/ip6tables-$id.img" || fail "no ip6tables rule saved"
	wait_gone "$PID"
	run ocicr restore -D "$NS_DIR/img" -d
	assert_success
	run nsenter -t "$PID" -n iptables-legacy-save
	assert_output --partial "-A INPUT -p tcp -m tcp --dport 47999 -j DROP"
	run nsenter -t "$PID" -n ip6tables-legacy-save
	assert_output --partial "-A OUTPUT -p udp -m udp --dport 47998 -j REJECT"
	# The host's rules are not touched.
	run iptables-legacy-save
	refute_output --partial "47999"
}

@test "netns: a device besides loopback is refused by name, and the tree runs on" {
	ns_start "ip link add ocicr0 type vxlan id 42 dstport 4789" unshare --net
	run ocicr dump -t "$PID" -D "$NS_DIR/img"
	assert_failure
	assert_output --partial "holds device ocicr0 (vxlan): only loopback, veth, bridge and macvlan are saved"
	assert_output --regexp "--external net\[[0-9]+\]:KEY"
	[ "$(task_state "$PID")" = S ] || fail "task $PID: $(task_state "$PID")"
}

@test "netns: a namespace given from outside is external at dump and joined at restore (--join-ns, or --inherit-fd as runc gives it)" {
	NETNS=ocicr-bats-$$
	ip netns add "$NETNS"
	ip -n "$NETNS" link add ocicr0 type bridge
	ns_start true nsenter --net="/run/netns/$NETNS"
	ino=$(stat -L -c %i "/run/netns/$NETNS")
	run ocicr dump -t "$PID" -D "$NS_DIR/img" --external "net[$ino]:extRootNetNS"
	assert_success
	id=$(crit_get "$NS_DIR/img/ids-$PID.img" 'img["entries"][0]["net_ns_id"]')
	run crit_get "$NS_DIR/img/netns-$id.img" 'img["entries"][0]["ext_key"]'
	assert_output extRootNetNS
	wait_gone "$PID"
	run ocicr restore -D "$NS_DIR/img" -d
	assert_failure
	assert_output --partial "the net namespace was external (extRootNetNS) and is not given"
	run ocicr restore -D "$NS_DIR/img" -d --join-ns "net:/run/netns/$NETNS"
	assert_success
	[ "$(stat -L -c %i "/proc/$PID/ns/net")" = "$ino" ] || fail "not in $NETNS"
	kill -9 "$PID"
	wait_gone "$PID"
	# runc opens the namespace and passes it as an inherited fd.
	run ocicr restore -D "$NS_DIR/img" -d --inherit-fd fd[4]:extRootNetNS 4<"/run/netns/$NETNS"
	assert_success
	[ "$(stat -L -c %i "/proc/$PID/ns/net")" = "$ino" ] || fail "not in $NETNS"
}
