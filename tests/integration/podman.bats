#!/usr/bin/env bats
# podman container checkpoint and restore in place, with ocicr first on
# PATH as `criu` (podman's own version check and runc's `criu swrk` both run
# it) and runc as podman's runtime.  The image is imported here from a
# busybox root with our ocictr workload as its init, which checks after
# restore that it is pid 1 with its child, memory, open file and root
# filesystem changes.  podman needs the two --ulimit options on a machine
# without CAP_SYS_RESOURCE.

load helpers
load helpers_runc

setup() {
	requires root podman runc python3
	requires_ocicr
	BIN=$BATS_TEST_TMPDIR/bin
	mkdir -p "$BIN"
	ln -s "$OCICR" "$BIN/criu"
	IMAGE=localhost/ocicr-bats-$$:test
	NAME=ocicr-bats-$$
	WL=$BATS_TEST_TMPDIR/wl
	mkdir -p "$WL"
}

teardown() {
	podman rm -f -t 0 "$NAME" "$NAME-zstd" "$NAME-gzip" >/dev/null 2>&1
	podman rmi -f "$IMAGE" >/dev/null 2>&1
	return 0
}

# pm OUT ARGS...: podman ARGS with runc and ocicr as criu, alone.
pm() {
	local out=$1
	shift
	PATH=$BIN:$PATH alone "$out" podman --runtime runc "$@"
}

# image_with WORKLOAD [CHANGED]: $IMAGE, a busybox root with WORKLOAD as
# /init (and /etc/changed as ocictr leaves it, with CHANGED=changed).
image_with() {
	ct_rootfs_make "$BATS_TEST_TMPDIR/rootfs" "$1"
	[ "${2:-}" = changed ] && echo "new contents" >"$BATS_TEST_TMPDIR/rootfs/etc/changed"
	tar -C "$BATS_TEST_TMPDIR/rootfs" -cf "$BATS_TEST_TMPDIR/rootfs.tar" . || fail "cannot tar the root"
	podman import "$BATS_TEST_TMPDIR/rootfs.tar" "$IMAGE" >/dev/null || fail "podman import failed"
}

# start WORKLOAD [CHANGED]: run it as the container $NAME and wait until it
# is ready.
start() {
	image_with "$@"
	pm "$BATS_TEST_TMPDIR/run.out" run -d --name "$NAME" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
		-v "$WL:/wl" "$IMAGE" /init /wl/ready /wl/result ||
		fail "podman run failed: $(cat "$BATS_TEST_TMPDIR/run.out")"
	wait_for 30 test -s "$WL/ready" || fail "the container's workload is not ready: $(cat "$WL/result" 2>/dev/null)"
}

# state FIELD: the container's .State.FIELD.
state() {
	podman inspect "$NAME" --format "{{.State.$1}}"
}

# podman_do ACTION ARGS...: podman container ACTION ARGS $NAME, its output in
# $output.
podman_do() {
	pm "$BATS_TEST_TMPDIR/out" container "$@" "$NAME" && status=0 || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/out")
	return 0
}

@test "podman container checkpoint, then restore in place: the workload passes" {
	start ocictr
	pid=$(state Pid)
	podman_do checkpoint
	assert_success
	wait_gone "$pid"
	assert_equal "$(state Checkpointed)" true
	assert_equal "$(state Status)" exited
	podman_do restore
	assert_success
	assert_equal "$(state Status)" running
	assert_equal "$(state Restored)" true
	wl_verdict_in "$WL/result" "$(state Pid)"
}

# criu_stats_positive KEY...: each KEY of the first container's criu_statistics in
# podman's --print-stats JSON ($output), which must be a positive number.
criu_stats_positive() {
	python3 -c '
import json, sys
st = json.loads(sys.stdin.read())["container_statistics"][0]["criu_statistics"]
bad = [k for k in sys.argv[1:] if not st.get(k, 0) > 0]
sys.exit("not positive: %s in %s" % (bad, st) if bad else 0)' "$@" <<<"$output"
}

@test "podman checkpoint and restore --print-stats: ocicr's times as CRIU's stats-dump and stats-restore give them" {
	start ocictr
	podman_do checkpoint --print-stats
	assert_success
	criu_stats_positive freezing_time frozen_time memdump_time pages_written
	podman_do restore --print-stats
	assert_success
	criu_stats_positive restore_time
	wl_verdict_in "$WL/result" "$(state Pid)"
}

@test "podman checkpoint --leave-running --keep: it runs on, the logs are kept; killed, then restored" {
	start ocictr
	pid=$(state Pid)
	podman_do checkpoint --leave-running --keep
	assert_success
	assert_equal "$(state Status)" running
	assert_equal "$(state Pid)" "$pid"
	log=$(state CheckpointLog)
	[ -s "$log" ] || fail "no checkpoint log kept ($log)"
	podman kill "$NAME" >/dev/null
	wait_gone "$pid"
	rm -f "$WL/result"
	podman_do restore --keep
	assert_success
	assert_equal "$(state Status)" running
	[ -s "$(state RestoreLog)" ] || fail "no restore log kept ($(state RestoreLog))"
	wl_verdict_in "$WL/result" "$(state Pid)"
}

@test "podman checkpoint --export (zstd, gzip, none), restore --import under new names and as it was: added and deleted files survive" {
	# podman 4.3.1 puts added files in rootfs-diff.tar and deleted ones in
	# deleted.files, but not changed ones (seen here: /etc/changed was left
	# out whatever the criu): the image has /etc/changed as ocictr makes it.
	start ocictr changed
	for c in zstd gzip none; do
		podman_do checkpoint --leave-running --export "$BATS_TEST_TMPDIR/ck-$c.tar" --compress "$c"
		assert_success
	done
	podman rm -f -t 0 "$NAME" >/dev/null
	for c in zstd gzip none; do
		name=$NAME-$c
		[ "$c" = none ] && name=$NAME
		rm -f "$WL/result"
		pm "$BATS_TEST_TMPDIR/out" container restore --import "$BATS_TEST_TMPDIR/ck-$c.tar" --name "$name" ||
			fail "restore --import of the $c archive: $(cat "$BATS_TEST_TMPDIR/out")"
		assert_equal "$(podman inspect "$name" --format '{{.State.Status}}')" running
		# The workload checks /added and that /etc/deleted is gone.
		wl_verdict_in "$WL/result" "$(podman inspect "$name" --format '{{.State.Pid}}')"
	done
}

@test "podman checkpoint of a container ocicr cannot dump: podman fails naming the log, the container runs on" {
	start unsupported
	pid=$(state Pid)
	podman_do checkpoint
	assert_failure
	# podman shows the log's path, whose last line says why.
	assert_output --partial 'dump.log'
	log=$(grep -o '/[^ "]*/dump.log' <<<"$output" | head -n1)
	run tail -n 1 "$log"
	assert_output --regexp 'dump of [0-9]+ failed: .*netlink'
	assert_equal "$(state Status)" running
	assert_equal "$(state Pid)" "$pid"
	wl_verdict_in "$WL/result" "$pid"
}
