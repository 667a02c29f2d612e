#!/usr/bin/env bats
# runc checkpoint and runc restore with ocicr as runc's criu (`runc --criu
# build/criu`, a link to ocicr): runc speaks CRIU's RPC to `criu swrk 3`
# (../shared/docs/runtime-integration.md).  The container is made here
# (helpers_runc.bash): a busybox root, our ocictr workload as its init,
# which checks after restore that it is pid 1 with its child, memory, open
# file and root filesystem changes.

load helpers
load helpers_runc

setup() {
	requires runc
	runtime_test_setup runc
	CRIU=${OCICR%/*}/criu
	[ -x "$CRIU" ] || fail "no $CRIU (make builds the criu link)"
	CONSOLE_PID=
	PIDNS_HOLDER=
	CT_FREEZER=
}

teardown() {
	# A hung dump holds the container frozen: thawed, it ends and runc can kill it.
	[ -n "$CT_FREEZER" ] && [ -e "$CT_FREEZER/freezer.state" ] && echo THAWED >"$CT_FREEZER/freezer.state"
	runc --root "$RT_ROOT" delete -f "$ID" >/dev/null 2>&1
	[ -n "$NETNS" ] && ip netns del "$NETNS" 2>/dev/null
	[ -n "$CONSOLE_PID" ] && kill "$CONSOLE_PID" 2>/dev/null
	[ -n "$PIDNS_HOLDER" ] && kill -9 "$PIDNS_HOLDER" 2>/dev/null
	return 0
}

# The container's cgroup of the pids controller (v1), or of v2.
pids_cgroup() {
	grep -E '^[0-9]+:(pids)?:' "/proc/$1/cgroup" | head -n1 | cut -d: -f3
}

# ck ARGS...: runc checkpoint with ocicr as criu; the output in $output.
# A hang fails the test: runc is killed after 120 s.
ck() {
	alone "$BATS_TEST_TMPDIR/ck.out" timeout -s KILL 120 runc --root "$RT_ROOT" --criu "$CRIU" checkpoint \
		--image-path "$IMG" "$@" "$ID" && status=0 || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/ck.out")
	[ "$status" -ne 137 ] || fail "runc checkpoint hung (killed after 120 s): $(tail -n 3 "$IMG/dump.log")"
	[ "$status" -eq 0 ] || show_log "$IMG/dump.log"
	return 0
}

# rs ARGS...: runc restore -d of $ID from $IMG with ocicr as criu.
rs() {
	runc_alone "$BATS_TEST_TMPDIR/rs.out" --root "$RT_ROOT" --criu "$CRIU" restore -d --bundle "$CT" \
		--image-path "$IMG" "$@" "$ID" && status=0 || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/rs.out")
	[ "$status" -eq 0 ] || show_log "$IMG/restore.log"
	return 0
}

# ck_rs_external NS SAID: checkpoint, whose log must say SAID (the NS
# namespace is external), then restore; pid is the restored init.
ck_rs_external() {
	ck
	assert_success
	grep -q "$2" "$IMG/dump.log" ||
		fail "the $1 namespace was not external: $(grep -i "$1 namespace" "$IMG/dump.log")"
	wait_gone "$RUNC_PID"
	rs
	assert_success
	pid=$(runc_pid "$RT_ROOT" "$ID")
}

# The restored container runs in $1's cgroup and its workload passes.
expect_restored() {
	local cgroup=$1 pid

	assert_equal "$(runc_status "$RT_ROOT" "$ID")" running
	pid=$(runc_pid "$RT_ROOT" "$ID")
	[ "$(pids_cgroup "$pid")" = "$cgroup" ] ||
		fail "the restored init is in $(pids_cgroup "$pid"), not the container's $cgroup"
	wl_verdict_in "$CT/wl/result" "$pid"
}

@test "runc checkpoint (the container is killed), then runc restore of the same id: it runs on in its cgroup" {
	runc_bundle_make "$CT" ocictr
	runc_run "$RT_ROOT" "$CT" "$ID"
	cgroup=$(pids_cgroup "$RUNC_PID")
	ck
	assert_success
	wait_gone "$RUNC_PID"
	[ -e "$IMG/inventory.img" ] && [ -e "$IMG/descriptors.json" ] || fail "no images: $(ls "$IMG")"
	# runc deleted the container once criu had dumped it.
	[ -z "$(runc_status "$RT_ROOT" "$ID")" ] || fail "runc still has $ID: $(runc_status "$RT_ROOT" "$ID")"
	rs
	assert_success
	# runc moved its criu into the container's cgroups and sent cg_root.
	grep -q "cgroups of 'pids': .* goes to $cgroup" "$IMG/restore.log" ||
		fail "restore.log names no cgroup root for pids: $(grep -i cgroup "$IMG/restore.log")"
	expect_restored "$cgroup"
}

@test "runc checkpoint --leave-running: the container runs on; after it ends, restored from the images" {
	runc_bundle_make "$CT" ocictr
	runc_run "$RT_ROOT" "$CT" "$ID"
	cgroup=$(pids_cgroup "$RUNC_PID")
	ck --leave-running
	assert_success
	assert_equal "$(runc_status "$RT_ROOT" "$ID")" running
	assert_equal "$(tracer_of "$RUNC_PID")" 0
	wl_verdict_in "$CT/wl/result" "$RUNC_PID"
	rm "$CT/wl/result"
	runc --root "$RT_ROOT" delete -f "$ID"
	rs
	assert_success
	expect_restored "$cgroup"
}

# The tree workload as the container's init: its stopped child, frozen
# with the rest through the v1 freezer cgroup, once hung the dump for ever
# (attaching to a frozen stopped task waits in the kernel until it is thawed).
stopped_child_ct() {
	[ -e /sys/fs/cgroup/freezer/cgroup.procs ] || skip "no v1 freezer"
	runc_bundle_make "$CT" tree
	runc_run "$RT_ROOT" "$CT" "$ID"
	CT_FREEZER=/sys/fs/cgroup/freezer$(sed -n 's/^[0-9]*:freezer://p' "/proc/$RUNC_PID/cgroup")
	[ -e "$CT_FREEZER/freezer.state" ] || fail "the container has no freezer cgroup of its own ($CT_FREEZER)"
	[ -n "$(pgrep -r T -P "$RUNC_PID")" ] || fail "the container's init has no stopped child"
}

# Checkpointed and restored with its stopped child still stopped.
stopped_child_roundtrip() {
	local cgroup pid
	cgroup=$(pids_cgroup "$RUNC_PID")
	ck
	assert_success
	grep -q "Froze cgroup $CT_FREEZER" "$IMG/dump.log" || fail "the dump did not freeze through $CT_FREEZER"
	grep -q "is stopped: seized once the cgroup is thawed" "$IMG/dump.log" || fail "the stopped child was not put off"
	wait_gone "$RUNC_PID"
	rs
	assert_success
	pid=$(runc_pid "$RT_ROOT" "$ID")
	wait_for 10 test -n "$(pgrep -r T -P "$pid")" || fail "the restored init has no stopped child"
	expect_restored "$cgroup"
}

@test "runc checkpoint of a container with a stopped child (frozen through its freezer cgroup) does not hang; restored, the child is still stopped" {
	stopped_child_ct
	stopped_child_roundtrip
}

@test "runc checkpoint of a paused container with a stopped child does not hang; restored, it runs with the child still stopped" {
	stopped_child_ct
	runc --root "$RT_ROOT" pause "$ID"
	assert_equal "$(runc_status "$RT_ROOT" "$ID")" paused
	stopped_child_roundtrip
}

@test "runc: a container in a network namespace by path (external net, inherit_fd extRootNetNS) comes back into it" {
	requires ip
	NETNS=ocicr-runc-$$
	ip netns add "$NETNS"
	runc_bundle_make "$CT" ocictr "/run/netns/$NETNS"
	runc_run "$RT_ROOT" "$CT" "$ID"
	cgroup=$(pids_cgroup "$RUNC_PID")
	ck_rs_external net "net namespace .* is external: extRootNetNS"
	[ "$(stat -L -c %i "/proc/$pid/ns/net")" = "$(stat -L -c %i "/run/netns/$NETNS")" ] ||
		fail "the restored container is not in $NETNS"
	expect_restored "$cgroup"
}

# A pid namespace given by path, as a pod's infra container holds one: its
# init is a reaping shell of ours (unshare --pid --fork); the container's
# init (pidns_member, which checks its pids inside) is not it.
@test "runc: a container in a pid namespace by path (external pid, inherit_fd extRootPidNS) comes back into it with its pids" {
	requires unshare
	alone_bg /dev/null setsid unshare --pid --fork bash -c 'while :; do sleep 1; done'
	wait_for 20 pgrep -P "$ALONE_PID" || fail "unshare made no init"
	PIDNS_HOLDER=$(pgrep -P "$ALONE_PID" | head -1)
	wait_for 20 test "$(readlink "/proc/$PIDNS_HOLDER/exe")" = "$(readlink -f /bin/bash)" || fail "no shell as init"
	ino=$(stat -L -c %i "/proc/$PIDNS_HOLDER/ns/pid")
	runc_bundle_make "$CT" pidns_member "" "/proc/$PIDNS_HOLDER/ns/pid"
	runc_run "$RT_ROOT" "$CT" "$ID"
	[ "$(stat -L -c %i "/proc/$RUNC_PID/ns/pid")" = "$ino" ] || fail "runc did not join the namespace"
	inner=$(awk '/^NSpid:/ { print $NF }' "/proc/$RUNC_PID/status")
	cgroup=$(pids_cgroup "$RUNC_PID")
	ck_rs_external pid "external pid namespace extRootPidNS"
	[ "$(stat -L -c %i "/proc/$pid/ns/pid")" = "$ino" ] || fail "the restored container is not in the namespace"
	[ "$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")" = "$inner" ] || fail "restored as another pid inside"
	expect_restored "$cgroup"
}

@test "runc checkpoint of a container ocicr cannot dump: runc fails, dump.log's last line says why, the container runs on" {
	runc_bundle_make "$CT" unsupported
	runc_run "$RT_ROOT" "$CT" "$ID"
	ck
	assert_failure
	assert_output --partial 'criu failed'
	run tail -n 1 "$IMG/dump.log"
	assert_output --regexp 'dump of [0-9]+ failed: .*netlink'
	assert_equal "$(runc_status "$RT_ROOT" "$ID")" running
	assert_equal "$(tracer_of "$RUNC_PID")" 0
	wl_verdict_in "$CT/wl/result" "$RUNC_PID"
}

@test "runc with a terminal (process.terminal, --console-socket): /dev/console binds a pty of the container's devpts; restored, the new master reaches the console socket" {
	runc_bundle_make "$CT" ctr_tty
	python3 - "$CT/config.json" <<-'PY'
		import json, sys
		c = json.load(open(sys.argv[1]))
		c["process"]["terminal"] = True
		json.dump(c, open(sys.argv[1], "w"), indent=1)
	PY
	# The console socket's holder, as conmon: what each master reads.
	SOCK=$BATS_TEST_TMPDIR/console.sock
	alone_bg /dev/null "$WORKLOADS/ptyhold" console "$SOCK" "$BATS_TEST_TMPDIR/console.out"
	CONSOLE_PID=$ALONE_PID
	wait_for 10 test -S "$SOCK" || fail "no console socket"
	runc_alone "$BATS_TEST_TMPDIR/run.out" --root "$RT_ROOT" run -d --console-socket "$SOCK" --bundle "$CT" "$ID" ||
		fail "runc run failed: $(cat "$BATS_TEST_TMPDIR/run.out")"
	wait_for 30 test -s "$CT/wl/ready" || fail "the container's workload is not ready: $(cat "$CT/wl/result" 2>/dev/null)"
	wait_for 10 grep -q 'tty ready' "$BATS_TEST_TMPDIR/console.out" || fail "nothing on the console: $(cat "$BATS_TEST_TMPDIR/console.out")"
	pid=$(runc_pid "$RT_ROOT" "$ID")
	cgroup=$(pids_cgroup "$pid")
	ck
	assert_success
	wait_gone "$pid"
	rs --console-socket "$SOCK"
	assert_success
	# As CRIU, the restore made pty 0 in the new devpts before binding it.
	grep -q 'made pty 0 at .*/dev/pts/0 for a bind mount of it' "$IMG/restore.log" ||
		fail "no pty made for /dev/console: $(grep -i pty "$IMG/restore.log")"
	expect_restored "$cgroup"
	wait_for 10 grep -q 'restored tty greets' "$BATS_TEST_TMPDIR/console.out" ||
		fail "the restored console did not reach the socket's holder: $(cat "$BATS_TEST_TMPDIR/console.out")"
}
