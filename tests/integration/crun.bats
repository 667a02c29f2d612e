#!/usr/bin/env bats
# crun checkpoint and crun restore with ocicr as the `criu` that libcriu
# (crun's library) starts from PATH as `criu swrk N`.  The container is made
# here (helpers_runc.bash): a busybox root, our ocictr workload as its init,
# which checks after restore that it is pid 1 with its child, memory, open
# file and root filesystem changes.
#
# Two things of crun's own stand in the way on a host like Debian 12's:
# - Debian's crun 1.8.1 is built without libcriu: it has no checkpoint or
#   restore command at all ("unknown command checkpoint", no +CRIU in
#   `crun --version`).  These tests need a crun built with it, named by
#   $CRUN (default: crun on PATH), and are skipped otherwise.  crun 1.8.1's
#   own source (with its libocispec) builds one here: autoconf, automake
#   and libtool, then ./autogen.sh, ./configure --disable-systemd (it finds
#   libcriu through criu.pc of Debian's criu package), make crun.
# - crun refuses to start any container on a hybrid cgroup host whose v2
#   hierarchy holds a controller ("cgroups in hybrid mode not supported,
#   drop all controllers from cgroupv2"); a controller no v1 hierarchy took
#   (hugetlb, here) lands there.  crun then runs in a private mount
#   namespace whose /sys/fs/cgroup holds the v1 hierarchies alone: a cgroup
#   v1 host for crun, with the host's cgroups unchanged.

load helpers
load helpers_runc

setup() {
	T=$BATS_TEST_TMPDIR
	runtime_test_setup crun
	CRUN=${CRUN:-crun}
	command -v "$CRUN" >/dev/null || skip "needs crun"
	"$CRUN" --version | grep -q '+CRIU' ||
		skip "$CRUN is built without CRIU support (Debian's crun 1.8.1 is): no crun checkpoint; set CRUN to a crun built with libcriu"
	ID_FIRST=
	mkdir -p "$T/bin"
	ln -s "$OCICR" "$T/bin/criu"
	crun_wrapper_make "$T/bin/crun-cr"
}

teardown() {
	local id

	[ -x "$T/bin/crun-cr" ] || return 0
	for id in "$ID" "$ID_FIRST"; do
		[ -n "$id" ] && "$T/bin/crun-cr" --root "$RT_ROOT" delete -f "$id" >/dev/null 2>&1
	done
	[ -n "$NETNS" ] && ip netns del "$NETNS" 2>/dev/null
	return 0
}

# crun_wrapper_make PATH: a command that runs $CRUN with our criu first on
# PATH; on a hybrid host with controllers in v2, in a mount namespace of its
# own whose /sys/fs/cgroup has the v1 hierarchies only.
crun_wrapper_make() {
	local v1_view=0

	if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
		[ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers)" ]; then
		v1_view=1
	fi
	cat >"$1" <<-EOF
		#!/bin/sh
		export PATH="$T/bin:\$PATH"
		[ $v1_view = 1 ] || exec "$CRUN" "\$@"
		exec unshare -m --propagation private sh -c '
		set -e
		all=\$(mktemp -d)
		mount --rbind /sys/fs/cgroup "\$all"
		mount -t tmpfs -o mode=755 cgroup-v1-view /sys/fs/cgroup
		for h in "\$all"/*; do
			[ "\$(stat -f -c %T "\$h")" = cgroupfs ] || continue
			mkdir "/sys/fs/cgroup/\${h##*/}"
			mount --bind "\$h" "/sys/fs/cgroup/\${h##*/}"
		done
		umount -l "\$all"
		rmdir "\$all"
		exec "\$@"' crun-v1-view "$CRUN" "\$@"
	EOF
	chmod +x "$1"
}

# The container's cgroup of the pids controller.
pids_cgroup() {
	grep -E '^[0-9]+:pids:' "/proc/$1/cgroup" | cut -d: -f3
}

# crun_run: run the bundle detached, stdio /dev/null, wait until its
# workload is ready; sets CRUN_PID.
crun_run() {
	alone /dev/null "$T/bin/crun-cr" --root "$RT_ROOT" run -d --bundle "$CT" "$ID" ||
		fail "crun run failed"
	CRUN_PID=$(crun_state pid)
	wait_for 30 test -s "$CT/wl/ready" || fail "the container's workload is not ready: $(cat "$CT/wl/result" 2>/dev/null)"
}

# crun_state KEY: a field of crun state $ID, or nothing.
crun_state() {
	"$CRUN" --root "$RT_ROOT" state "$ID" 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# ck ARGS...: crun checkpoint; the output in $output.
ck() {
	alone "$T/ck.out" "$T/bin/crun-cr" --root "$RT_ROOT" checkpoint --image-path "$IMG" "$@" "$ID" &&
		status=0 || status=$?
	output=$(cat "$T/ck.out")
	[ "$status" -eq 0 ] || show_log "$IMG/dump.log"
	return 0
}

# ck_killed PATTERN: crun checkpoint works, dump.log has PATTERN, and the
# container's init is gone.
ck_killed() {
	ck
	assert_success
	grep -q "$1" "$IMG/dump.log" || fail "dump.log has no '$1': $(tail -n 5 "$IMG/dump.log")"
	wait_gone "$CRUN_PID"
}

# rs ARGS...: crun restore -d of $ID from $IMG.
rs() {
	alone "$T/rs.out" "$T/bin/crun-cr" --root "$RT_ROOT" restore -d --bundle "$CT" --image-path "$IMG" "$@" "$ID" &&
		status=0 || status=$?
	output=$(cat "$T/rs.out")
	[ "$status" -eq 0 ] || show_log "$IMG/restore.log"
	return 0
}

# The restored container runs in cgroup $1 and its workload passes.
expect_restored() {
	local pid

	assert_equal "$(crun_state status)" running
	pid=$(crun_state pid)
	[ "$(pids_cgroup "$pid")" = "$1" ] ||
		fail "the restored init is in $(pids_cgroup "$pid"), not the container's $1"
	wl_verdict_in "$CT/wl/result" "$pid"
}

@test "crun checkpoint (the container is killed), then crun restore of the same id: it runs on in its cgroup" {
	runc_bundle_make "$CT" ocictr
	crun_run
	cgroup=$(pids_cgroup "$CRUN_PID")
	# ocicr's dump, through crun's v1 freezer cgroup.
	ck_killed "Froze cgroup /sys/fs/cgroup/freezer$cgroup"
	[ -e "$IMG/inventory.img" ] && [ -e "$IMG/descriptors.json" ] || fail "no images: $(ls "$IMG")"
	[ -z "$(crun_state status)" ] || fail "crun still has $ID: $(crun_state status)"
	rs
	assert_success
	expect_restored "$cgroup"
}

@test "crun checkpoint --leave-running: the container runs on; after it ends, restored from the images" {
	runc_bundle_make "$CT" ocictr
	crun_run
	cgroup=$(pids_cgroup "$CRUN_PID")
	ck --leave-running
	assert_success
	assert_equal "$(crun_state status)" running
	assert_equal "$(tracer_of "$CRUN_PID")" 0
	wl_verdict_in "$CT/wl/result" "$CRUN_PID"
	rm "$CT/wl/result"
	"$T/bin/crun-cr" --root "$RT_ROOT" delete -f "$ID"
	rs
	assert_success
	expect_restored "$cgroup"
}

@test "crun restore under another id while the checkpointed container runs on: both pass, the restored one in its id's cgroup" {
	runc_bundle_make "$CT" ocictr
	crun_run
	cgroup=$(pids_cgroup "$CRUN_PID")
	ck --leave-running
	assert_success
	ID_FIRST=$ID
	ID=$ID-2
	rs
	assert_success
	expect_restored "${cgroup%/"$ID_FIRST"}/$ID"
	rm "$CT/wl/result"
	wl_verdict_in "$CT/wl/result" "$CRUN_PID"
}

@test "crun: a container in a network namespace by path (external net, inherit_fd extRootNetNS) comes back into it" {
	requires ip
	NETNS=ocicr-crun-$$
	ip netns add "$NETNS"
	runc_bundle_make "$CT" ocictr "/run/netns/$NETNS"
	crun_run
	cgroup=$(pids_cgroup "$CRUN_PID")
	ck_killed "net namespace .* is external: extRootNetNS"
	rs
	assert_success
	pid=$(crun_state pid)
	[ "$(stat -L -c %i "/proc/$pid/ns/net")" = "$(stat -L -c %i "/run/netns/$NETNS")" ] ||
		fail "the restored container is not in $NETNS"
	expect_restored "$cgroup"
}

@test "crun checkpoint of a container ocicr cannot dump: crun fails, dump.log's last line says why, the container runs on" {
	runc_bundle_make "$CT" unsupported
	crun_run
	ck
	assert_failure
	assert_output --partial 'CRIU checkpointing failed'
	run tail -n 1 "$IMG/dump.log"
	assert_output --regexp 'dump of [0-9]+ failed: .*netlink'
	assert_equal "$(crun_state status)" running
	assert_equal "$(tracer_of "$CRUN_PID")" 0
	wl_verdict_in "$CT/wl/result" "$CRUN_PID"
}
