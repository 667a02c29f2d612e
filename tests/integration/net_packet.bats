#!/usr/bin/env bats
# Packet and netlink sockets across a checkpoint, in a network namespace
# the test makes (lo up, interface 1), so that their traffic, fanout
# groups and port ids meet no one else's.  The workload, ocicr dump and
# ocicr restore all run inside it.

load helpers
load helpers_fdsock

# The exchanges with CRIU 4.2 run with CRIU_REF set to a CRIU built outside
# the repo: CRIU_REF=/path/to/criu bats tests/integration/net_packet.bats
CRIU_REF=${CRIU_REF:-}

setup() {
	fdsock_netns_setup ocicr-pkt fdsock_packet
}

teardown() {
	fdsock_netns_teardown
}

@test "packet sockets keep bindings, options, memberships, fanout and rings, and capture again" {
	fdsock_start fdsock_packet
	fdsock_dump
	local psk
	psk=$(fdsock_img_entries PACKETSK psk)
	echo "$psk"
	[ "$(wc -l <<<"$psk")" -eq 5 ] || fail "expected 5 packet sockets"
	# CRIU keeps the protocol in network order: ETH_P_IP is 0x0008 there.
	python3 - "$psk" <<'PY' || fail "packet_sock_entry fields"
import json, sys
all = list(map(json.loads, sys.argv[1].splitlines()))
e = {(p["type"], p["protocol"]): p for p in all}
ring, ipdg = e[(3, 0)], e[(2, 8)]
assert ring["version"] == 1 and ring["aux_data"] and ring["rx_ring"]["block_size"] == 4096, ring
assert ring["mclist"][0]["type"] == 1 and ring["mclist"][0]["index"] == 1, ring
assert ipdg["ifindex"] == 1 and ipdg["reserve"] == 24 and ipdg["orig_dev"], ipdg
assert ipdg["fanout"] == 77 | (2 << 16) | (0x1000 << 16), ipdg
assert ipdg["tx_ring"]["frame_nr"] == 2 and "rx_ring" not in ipdg, ipdg
assert sorted(p["ifindex"] for p in all if p["type"] == 10) == [0, 1], all
PY
	fdsock_restore
	fdsock_expect_pass
}

@test "netlink sockets keep port ids, groups and peers, and carry messages again" {
	fdsock_start fdsock_netlink
	fdsock_dump
	local nl
	nl=$(fdsock_img_entries NETLINKSK nlsk)
	echo "$nl"
	python3 - "$nl" <<'PY' || fail "netlink_sk_entry fields"
import json, sys
e = list(map(json.loads, sys.argv[1].splitlines()))
hub = [n for n in e if n["portid"] == 0x6f630001][0]
assert hub["protocol"] == 2 and hub["groups"] == [4] and hub["opts"]["so_passcred"], hub
assert [n for n in e if n.get("dst_portid") == 0x6f630001 and n["state"] == 1], e
assert [n for n in e if n.get("dst_group") == 3], e
assert [n for n in e if n["protocol"] == 0 and n["portid"] == 0], e
PY
	fdsock_restore
	fdsock_expect_pass
}

# dump_refused MESSAGE: a dump of the workload fails saying MESSAGE, and
# leaves it running, not stopped.
dump_refused() {
	run ocicr dump -t "$WL_PID" -D "$DIR/img" -o -
	assert_failure
	assert_output --partial "$1"
	run ps -o stat= -p "$WL_PID"
	assert_success
	[[ $output != *T* ]] || fail "the workload is left stopped: $output"
}

@test "a netlink socket with a message waiting to be read is refused at dump, and the tree goes on" {
	fdsock_start fdsock_netlink
	# Queue a message on the hub from outside: its port id is fixed.
	nsenter --net="/run/netns/$FDSOCK_NETNS" python3 -c '
import socket, struct
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 2)
s.sendto(struct.pack("=IHHII", 16, 0x2001, 0, 0, 0), (0x6f630001, 0))'
	# Left running, not stopped (its checks would now read the stray message).
	dump_refused "has messages waiting to be read"
}

# crosswise WORKLOAD DUMPER RESTORER [VAR=VALUE...]: dumped by one, restored
# by the other (ocicr or CRIU 4.2), the workload's checks pass.
crosswise() {
	local wl=$1 dumper=$2 restorer=$3 img=$DIR/img-$1-$RANDOM
	shift 3
	mkdir -p "$img"
	fdsock_start "$wl" "$@"
	OCICR=$dumper run ocicr dump -t "$WL_PID" -D "$img" -o dump.log -v4
	[ "$status" -eq 0 ] || fail "$dumper: dump of $wl failed: $(grep -m3 Error "$img/dump.log")"
	fdsock_wait_gone
	OCICR=$restorer run ocicr restore -D "$img" -d -o restore.log -v4
	[ "$status" -eq 0 ] || fail "$restorer: restore of $wl failed: $(grep -m3 Error "$img/restore.log")"
	fdsock_expect_pass
	fdsock_cleanup
}

@test "with CRIU 4.2: ocicr's images of packet, netlink, ping, UDP-lite and raw sockets restore with CRIU and CRIU's with ocicr" {
	[ -x "$CRIU_REF" ] || skip "a comparison with CRIU 4.2: set CRIU_REF to a CRIU built outside the repo"
	nsenter --net="/run/netns/$FDSOCK_NETNS" sh -c 'echo 0 0 >/proc/sys/net/ipv4/ping_group_range'
	crosswise fdsock_packet "$OCICR" "$CRIU_REF"
	# packet_diag, which CRIU reads, shows no fanout flags: its image has none.
	crosswise fdsock_packet "$CRIU_REF" "$OCICR" FANOUT_NO_FLAGS=1
	crosswise fdsock_netlink "$OCICR" "$CRIU_REF"
	crosswise fdsock_netlink "$CRIU_REF" "$OCICR"
	crosswise fdsock_raw "$OCICR" "$CRIU_REF"
	crosswise fdsock_raw "$CRIU_REF" "$OCICR"
	# CRIU binds no ping socket at restore: their echo ids are new.
	crosswise fdsock_dgram "$OCICR" "$CRIU_REF" PING_ID_LOST=1
	crosswise fdsock_dgram "$CRIU_REF" "$OCICR"
}

# The VMA entries of the workload's memory map that map a packet socket
# (VMA_AREA_SOCKET), as JSON lines.
ring_vmas() {
	run "$OCICR" image decode --pretty -i "$DIR/img/mm-$WL_PID.img"
	assert_success
	echo "$output" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["entries"]:
    for v in e["vmas"]:
        print(json.dumps(v, sort_keys=True))' | grep VMA_AREA_SOCKET
}

@test "packet rings mapped into memory come back at their address with their protection, and receive and send again" {
	fdsock_start fdsock_packet_ring
	fdsock_dump
	local vmas psk
	vmas=$(ring_vmas)
	psk=$(fdsock_img_entries PACKETSK psk)
	echo "$vmas"
	echo "$psk"
	python3 - "$vmas" "$psk" <<'PY' || fail "the ring VMAs and their sockets"
import json, sys
vmas = list(map(json.loads, sys.argv[1].splitlines()))
psk = {p["id"]: p for p in map(json.loads, sys.argv[2].splitlines())}
assert len(vmas) == 2, vmas
for v in vmas:
    p = psk[v["shmid"]]
    size = int(v["end"], 16) - int(v["start"], 16)
    rings = [p[r] for r in ("rx_ring", "tx_ring") if r in p]
    assert size == sum(r["block_size"] * r["block_nr"] for r in rings), (v, p)
    assert v["pgoff"] == 0 and "ANON" not in v["flags"], v
    if p["version"] == 1:
        assert v["flags"] == "MAP_SHARED" and v["prot"] == "PROT_READ | PROT_WRITE", v
        assert p["rx_ring"]["frame_size"] == 2048 and p["tx_ring"]["block_nr"] == 1, p
    else:
        assert p["version"] == 2 and v["flags"] == "MAP_PRIVATE" and v["prot"] == "PROT_READ", (v, p)
        assert p["rx_ring"]["retire_tmo"] == 10 and "tx_ring" not in p, p
PY
	run "$OCICR" image show "$DIR/img"
	assert_output --regexp "rw-s  packet +file [0-9]+"
	assert_output --regexp "r--p  packet +file [0-9]+"
	fdsock_restore
	fdsock_expect_pass
}

@test "a snapshot dump (-R) leaves the rings working in the tree, and its images restore them" {
	fdsock_start fdsock_packet_ring
	run ocicr dump -R -t "$WL_PID" -D "$DIR/img" -o -
	assert_success
	[ "$(ring_vmas | wc -l)" -eq 2 ] || fail "expected 2 ring VMAs"
	# The tree ran on, its rings untouched: its own checks pass.
	fdsock_expect_pass
	fdsock_wait_gone
	rm -f "$DIR/result"
	fdsock_restore
	fdsock_expect_pass
}

@test "a mapping of a part of a packet socket's rings is refused at dump, and the tree goes on" {
	fdsock_start fdsock_packet_ring RING_PARTIAL=1
	dump_refused "only a mapping of all of them can be restored"
}

@test "a packet ring mapped after its fd was closed is refused at dump, and the tree goes on" {
	fdsock_start fdsock_packet_ring RING_CLOSED=1
	dump_refused "which is not a packet socket the task holds an fd of"
}

@test "with CRIU 4.2: ocicr's images of mapped packet rings restore with CRIU and CRIU's with ocicr" {
	[ -x "$CRIU_REF" ] || skip "a comparison with CRIU 4.2: set CRIU_REF to a CRIU built outside the repo"
	crosswise fdsock_packet_ring "$OCICR" "$CRIU_REF"
	crosswise fdsock_packet_ring "$CRIU_REF" "$OCICR"
}

# edit_ring_vma PYTHON: run PYTHON on the shared ring VMA (v) of the
# workload's mm image and the files (f, by id), writing the image back.
edit_ring_vma() {
	local mm=$DIR/img/mm-$WL_PID.img
	"$OCICR" image decode --pretty -i "$DIR/img/files.img" >"$DIR/files.json"
	"$OCICR" image decode --pretty -i "$mm" | python3 -c '
import json, sys
m = json.load(sys.stdin)
f = {e["id"]: e for e in json.load(open(sys.argv[2]))["entries"]}
v = [v for v in m["entries"][0]["vmas"] if "VMA_AREA_SOCKET" in v["status"] and "SHARED" in v["flags"]][0]
exec(sys.argv[1])
json.dump(m, sys.stdout)' "$1" "$DIR/files.json" >"$DIR/mm.json"
	"$OCICR" image encode -i "$DIR/mm.json" -o "$mm"
}

# The restore fails saying MESSAGE and leaves no task behind.
restore_refused() {
	run ocicr restore -D "$DIR/img" -d -o -
	assert_failure
	assert_output --partial "$1"
	[ ! -d "/proc/$WL_PID" ] || fail "task $WL_PID is left behind"
}

@test "a ring VMA that maps no packet socket, or a part of its rings, is refused at restore, leaving nothing" {
	fdsock_start fdsock_packet_ring
	fdsock_dump
	cp -a "$DIR/img" "$DIR/img.orig"
	edit_ring_vma 'v["shmid"] = [i for i, e in f.items() if e["type"] == "REG"][0]'
	restore_refused "as a packet ring: it is no packet socket"
	rm -rf "$DIR/img" && cp -a "$DIR/img.orig" "$DIR/img"
	edit_ring_vma 'v["shmid"] = max(f) + 1'
	restore_refused "maps file $(($(jq '[.entries[].id] | max' "$DIR/files.json") + 1)), not in files.img"
	rm -rf "$DIR/img" && cp -a "$DIR/img.orig" "$DIR/img"
	edit_ring_vma 'v["end"] = hex(int(v["start"], 16) + 4096)'
	restore_refused "only a mapping of all of them can be restored"
	# The images as dumped still restore.
	rm -rf "$DIR/img" && cp -a "$DIR/img.orig" "$DIR/img"
	fdsock_restore
	fdsock_expect_pass
}
