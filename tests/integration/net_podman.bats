#!/usr/bin/env bats
# podman container checkpoint/restore --tcp-established of a container
# whose connections go to a peer outside it, with ocicr first on PATH as
# `criu` and runc as podman's runtime (see podman.bats).  The container's
# init is tcp_stream, a client of a tcp_stream server on the host at the
# podman bridge's address; both ends check every byte of both streams.

load helpers
load helpers_runc

setup() {
	requires root podman runc nsenter nft ip
	requires_ocicr
	[ -x "$WORKLOADS/tcp_stream" ] || skip "build the workloads first (make check)"
	BIN=$BATS_TEST_TMPDIR/bin
	mkdir -p "$BIN"
	ln -s "$OCICR" "$BIN/criu"
	IMAGE=localhost/ocicr-net-bats-$$:test
	NAME=ocicr-net-bats-$$
	WL=$BATS_TEST_TMPDIR/wl
	PEER=$BATS_TEST_TMPDIR/peer
	mkdir -p "$WL" "$PEER"
	GW=$(podman network inspect podman --format '{{range .Subnets}}{{.Gateway}}{{end}}' 2>/dev/null)
	[ -n "$GW" ] || skip "podman's default network has no gateway address"
	PORT=$((47500 + BATS_TEST_NUMBER))
	HOLD=ocicr-bats-hold-$$
}

teardown() {
	podman rm -f -t 0 "$NAME" >/dev/null 2>&1
	podman rmi -f "$IMAGE" >/dev/null 2>&1
	[ -s "$PEER/pid" ] && kill -9 "$(cat "$PEER/pid")" 2>/dev/null
	nft delete table inet "$HOLD" 2>/dev/null
	return 0
}

pm() {
	local out=$1
	shift
	PATH=$BIN:$PATH alone "$out" podman --runtime runc "$@"
}

podman_do() {
	pm "$BATS_TEST_TMPDIR/out" container "$@" "$NAME" && status=0 || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/out")
	return 0
}

state() {
	podman inspect "$NAME" --format "{{.State.$1}}"
}

# The container, a client that retries for 20 s, then the host's server
# (one connection) once the bridge holds the gateway's address (podman
# makes the bridge for the first container on its network).
start() {
	ct_rootfs_make "$BATS_TEST_TMPDIR/rootfs" tcp_stream
	tar -C "$BATS_TEST_TMPDIR/rootfs" -cf "$BATS_TEST_TMPDIR/rootfs.tar" . || fail "cannot tar the root"
	podman import "$BATS_TEST_TMPDIR/rootfs.tar" "$IMAGE" >/dev/null || fail "podman import failed"
	pm "$BATS_TEST_TMPDIR/run.out" run -d --name "$NAME" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
		-e TCP_ROLE=client -e TCP_ADDR="$GW" -e TCP_PORT="$PORT" -e TCP_CONNS=1 \
		-v "$WL:/wl" "$IMAGE" /init /wl/ready /wl/result ||
		fail "podman run failed: $(cat "$BATS_TEST_TMPDIR/run.out")"
	wait_for 10 gateway_here || fail "no link of the host has podman's gateway address $GW"
	setsid bash -c 'echo $$ >"$1/pid"; exec env TCP_ROLE=server TCP_ADDR="$2" TCP_PORT="$3" "$4" "$1/ready" "$1/result"' \
		_ "$PEER" "$GW" "$PORT" "$WORKLOADS/tcp_stream" </dev/null >"$PEER/out" 2>&1 3>&- &
	wait_for 10 test -s "$PEER/pid" || fail "the peer did not start"
	wait_for 30 test -s "$WL/ready" || fail "the container did not connect: $(cat "$WL/result" 2>/dev/null)"
	wait_for 10 test -s "$PEER/ready" || fail "the peer saw no connection: $(cat "$PEER/out")"
}

gateway_here() {
	[ -n "$(ip -o addr show to "$GW")" ]
}

# podman makes the restored container's namespace, with its address, before
# the runtime and ocicr run: until ocicr's lock is there, a retransmission
# of the peer would meet a namespace without the socket and be answered
# with a reset.  The host holds its peer's packets to the container from
# the checkpoint until the restore is done, as whoever moves a container
# must (CRIU's lock leaves the same gap).
hold_peer() {
	local ip
	ip=$(podman inspect "$NAME" --format '{{.NetworkSettings.IPAddress}}')
	[ -n "$ip" ] || fail "the container has no address"
	nft -f - <<-EOF || fail "cannot hold the peer's packets"
		table inet $HOLD {
			chain output {
				type filter hook output priority 0;
				ip daddr $ip tcp sport $PORT drop
			}
		}
	EOF
}

# Both ends' verdicts: the container's and the host peer's.
both_pass() {
	wl_verdict_in "$WL/result" "$(state Pid)"
	wl_verdict_in "$PEER/result" "$(cat "$PEER/pid")"
}

@test "podman checkpoint/restore --tcp-established: the container's connection to the host goes on, no byte lost, no lock left" {
	start
	pid=$(state Pid)
	hold_peer
	podman_do checkpoint --tcp-established
	[ "$status" -eq 0 ] || fail "checkpoint failed: $output"
	wait_gone "$pid"
	assert_equal "$(state Status)" exited
	# Gone: the peer retransmits into the hold; it waits.
	sleep 1
	podman_do restore --tcp-established
	[ "$status" -eq 0 ] || fail "restore failed: $output"
	assert_equal "$(state Status)" running
	run nsenter --net="/proc/$(state Pid)/ns/net" nft list tables
	refute_output --partial "CRIU-"
	run nft list tables
	refute_output --partial "CRIU-"
	nft delete table inet "$HOLD"
	both_pass
}

@test "podman checkpoint without --tcp-established fails naming the connection; the container runs on, unlocked" {
	start
	pid=$(state Pid)
	podman_do checkpoint
	assert_failure
	log=$(grep -o '/[^ "]*/dump.log' <<<"$output" | head -n1)
	[ -n "$log" ] || fail "podman names no log: $output"
	run cat "$log"
	assert_output --regexp "TCP connection [0-9.]+:[0-9]+->$GW:$PORT \(established\): dumping it needs --tcp-established"
	assert_equal "$(state Status)" running
	assert_equal "$(state Pid)" "$pid"
	run nsenter --net="/proc/$pid/ns/net" nft list tables
	refute_output --partial "CRIU-"
	both_pass
}
