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
	# A storage of the test's own (pm_private_store), or podman's.
	STORE=()
}

teardown() {
	local c
	# Ours only: other tests may run podman containers beside these.
	for c in $(pod_ps ps -a --format '{{.Names}}' | grep "^$NAME"); do
		pod_ps rm -f -v -t 0 "$c" >/dev/null 2>&1
	done
	for c in $(pod_ps pod ps --format '{{.Name}}' | grep "^$NAME"); do
		pod_ps pod rm -f -t 0 "$c" >/dev/null 2>&1
	done
	# shellcheck disable=SC2046
	[ -s "$BATS_TEST_TMPDIR/volumes" ] && pod_ps volume rm -f $(cat "$BATS_TEST_TMPDIR/volumes") >/dev/null 2>&1
	for c in $(pod_ps volume ls --format '{{.Name}}' | grep "^$NAME"); do
		pod_ps volume rm -f "$c" >/dev/null 2>&1
	done
	pod_ps rmi -f "$IMAGE" >/dev/null 2>&1
	[ "${#STORE[@]}" -gt 0 ] && pod_ps system reset -f >/dev/null 2>&1
	return 0
}

# pod_ps ARGS...: podman ARGS in the test's storage.
pod_ps() {
	podman "${STORE[@]}" "$@"
}

# pm_private_store: from now on, podman keeps this test's images and
# containers apart (for -a, which takes every container it sees).
pm_private_store() {
	STORE=(--root "$BATS_TEST_TMPDIR/store/root" --runroot "$BATS_TEST_TMPDIR/store/run")
}

# pm OUT ARGS...: podman ARGS with runc and ocicr as criu, alone.
pm() {
	local out=$1
	shift
	PATH=$BIN:$PATH alone "$out" podman "${STORE[@]}" --runtime runc "$@"
}

# image_with WORKLOAD [CHANGED]: $IMAGE, a busybox root with WORKLOAD as
# /init (and /etc/changed as ocictr leaves it, with CHANGED=changed), and
# /reap, a shell loop that reaps its children (a pod's infra command when
# the pod shares its pid namespace).
image_with() {
	ct_rootfs_make "$BATS_TEST_TMPDIR/rootfs" "$1"
	printf 'while :; do /bin/busybox sleep 1; done\n' >"$BATS_TEST_TMPDIR/rootfs/reap"
	[ "${2:-}" = changed ] && echo "new contents" >"$BATS_TEST_TMPDIR/rootfs/etc/changed"
	echo "as in the image" >"$BATS_TEST_TMPDIR/rootfs/etc/os-release"
	tar -C "$BATS_TEST_TMPDIR/rootfs" -cf "$BATS_TEST_TMPDIR/rootfs.tar" . || fail "cannot tar the root"
	pod_ps import "$BATS_TEST_TMPDIR/rootfs.tar" "$IMAGE" >/dev/null || fail "podman import failed"
}

# run_ct NAME DIR [RUN_OPTIONS...]: run $IMAGE's /init as container NAME
# with DIR as its /wl and wait until its workload is ready.
run_ct() {
	local name=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	pm "$BATS_TEST_TMPDIR/run.out" run -d --name "$name" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
		-v "$dir:/wl" "$@" "$IMAGE" /init /wl/ready /wl/result ||
		fail "podman run failed: $(cat "$BATS_TEST_TMPDIR/run.out")"
	wait_for 30 test -s "$dir/ready" || fail "the workload of $name is not ready: $(cat "$dir/result" 2>/dev/null)"
}

# start WORKLOAD [CHANGED [RUN_OPTIONS...]]: run it as the container $NAME
# and wait until it is ready.
start() {
	image_with "$1" "${2:-}"
	run_ct "$NAME" "$WL" "${@:3}"
}

# state FIELD [NAME]: the container's .State.FIELD.
state() {
	pod_ps inspect "${2:-$NAME}" --format "{{.State.$1}}"
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

# ---- issue 17: the rest of podman's checkpoint/restore ------------------

# in_ct NAME CMD...: CMD run in container NAME (podman exec); its output in
# $output.
in_ct() {
	local name=$1
	shift
	run pod_ps exec "$name" /bin/busybox "$@"
}

@test "podman run -t: a terminal container comes back on a new pty, /dev/console still its terminal, and what it writes reaches podman logs" {
	start ctr_tty '' -t
	wait_for 10 sh -c "podman logs '$NAME' | grep -q 'tty ready'" || fail "no 'tty ready' in the log: $(podman logs "$NAME")"
	podman_do checkpoint
	assert_success
	podman_do restore
	assert_success
	assert_equal "$(state Status)" running
	# The workload checks its terminal, its settings and /dev/console.
	wl_verdict_in "$WL/result" "$(state Pid)"
	# conmon got the new master: what the restored tree wrote is logged.
	wait_for 10 sh -c "podman logs '$NAME' | grep -q 'restored tty greets'" ||
		fail "the restored terminal's output did not reach conmon: $(podman logs "$NAME")"
}

@test "podman checkpoint --keep, restore --keep: inspect gives Checkpointed, CheckpointPath, CheckpointLog and RestoreLog, ocicr's" {
	start ocictr
	podman_do checkpoint --keep
	assert_success
	assert_equal "$(state Checkpointed)" true
	refute [ "$(state CheckpointedAt)" = "$(state RestoredAt)" ]
	path=$(state CheckpointPath)
	log=$(state CheckpointLog)
	[ -e "$path/inventory.img" ] && [ -e "$path/descriptors.json" ] || fail "CheckpointPath $path: $(ls "$path")"
	grep -q 'Dumping process tree' "$log" || fail "CheckpointLog $log is not ocicr's: $(tail -n 3 "$log")"
	podman_do restore --keep
	assert_success
	assert_equal "$(state Status)" running
	assert_equal "$(state Restored)" true
	# Kept: the images and the dump's log, beside the restore's.
	[ -e "$path/inventory.img" ] || fail "the checkpoint was not kept"
	assert_equal "$(state CheckpointLog)" "$log"
	grep -q 'Dumping process tree' "$log" || fail "the checkpoint log was not kept"
	grep -q 'Restoring [0-9]* task(s)' "$(state RestoreLog)" ||
		fail "RestoreLog $(state RestoreLog) is not ocicr's: $(tail -n 3 "$(state RestoreLog)")"
	wl_verdict_in "$WL/result" "$(state Pid)"
}

@test "podman checkpoint of one of two containers leaves the other running; then checkpoint -a and restore -a take both" {
	pm_private_store
	image_with ocictr
	run_ct "$NAME" "$WL" --network none
	run_ct "$NAME-b" "$BATS_TEST_TMPDIR/wl-b" --network none
	pid_b=$(state Pid "$NAME-b")
	podman_do checkpoint
	assert_success
	assert_equal "$(state Status)" exited
	assert_equal "$(state Status "$NAME-b")" running
	assert_equal "$(state Pid "$NAME-b")" "$pid_b"
	podman_do restore
	assert_success
	assert_equal "$(state Status)" running
	pm "$BATS_TEST_TMPDIR/out" container checkpoint -a || fail "checkpoint -a: $(cat "$BATS_TEST_TMPDIR/out")"
	for c in "$NAME" "$NAME-b"; do
		assert_equal "$(state Checkpointed "$c")" true
		assert_equal "$(state Status "$c")" exited
	done
	pm "$BATS_TEST_TMPDIR/out" container restore -a || fail "restore -a: $(cat "$BATS_TEST_TMPDIR/out")"
	wl_verdict_in "$WL/result" "$(state Pid)"
	wl_verdict_in "$BATS_TEST_TMPDIR/wl-b/result" "$(state Pid "$NAME-b")"
}

@test "podman exec into a restored container: in its namespaces and root, beside its init" {
	start ocictr
	podman_do checkpoint
	assert_success
	podman_do restore
	assert_success
	pid=$(state Pid)
	for ns in pid mnt ipc uts net cgroup; do
		in_ct "$NAME" readlink /proc/self/ns/$ns
		assert_success
		assert_output "$(readlink "/proc/$pid/ns/$ns")"
	done
	in_ct "$NAME" cat /added
	assert_output added
	in_ct "$NAME" cat /proc/1/cmdline
	assert_output --partial /init
	wl_verdict_in "$WL/result" "$pid"
}

# pod_create POD: a pod whose infra container is $IMAGE's busybox sleeping
# (podman's own pause image needs catatonit), with the ulimits its runc
# can set here.
pod_create() {
	local name=$1
	shift
	printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n' >"$BATS_TEST_TMPDIR/containers.conf"
	export CONTAINERS_CONF=$BATS_TEST_TMPDIR/containers.conf
	pm "$BATS_TEST_TMPDIR/pod.out" pod create --name "$name" --infra-image "$IMAGE" \
		--infra-command '/bin/busybox sleep 1000000' "$@" || fail "pod create: $(cat "$BATS_TEST_TMPDIR/pod.out")"
	pm "$BATS_TEST_TMPDIR/pod.out" pod start "$name" || fail "pod start: $(cat "$BATS_TEST_TMPDIR/pod.out")"
}

# in_pod_ns POD PID: PID shares the ipc, net and uts namespaces of POD's
# infra container, and has a pid namespace of its own.
in_pod_ns() {
	local infra
	infra=$(state Pid "$(podman pod inspect "$1" --format '{{.InfraContainerID}}')")
	for ns in ipc net uts; do
		[ "$(readlink "/proc/$2/ns/$ns")" = "$(readlink "/proc/$infra/ns/$ns")" ] ||
			fail "$ns: $(readlink "/proc/$2/ns/$ns"), not pod $1's $(readlink "/proc/$infra/ns/$ns")"
	done
	[ "$(readlink "/proc/$2/ns/pid")" != "$(readlink "/proc/$infra/ns/pid")" ] || fail "pid namespace shared"
}

@test "podman: a container in a pod is restored in place into its pod, and from its archive into another pod (--pod), sharing that pod's namespaces" {
	image_with ocictr changed
	pod_create "$NAME-pod1"
	run_ct "$NAME" "$WL" --pod "$NAME-pod1"
	in_pod_ns "$NAME-pod1" "$(state Pid)"
	podman_do checkpoint --export "$BATS_TEST_TMPDIR/ck.tar"
	assert_success
	podman_do restore
	assert_success
	assert_equal "$(state Status)" running
	in_pod_ns "$NAME-pod1" "$(state Pid)"
	podman rm -f -t 0 "$NAME" >/dev/null
	pod_create "$NAME-pod2"
	# podman 4.3.1 finds the pod of --pod by its ID only.
	pm "$BATS_TEST_TMPDIR/out" container restore --import "$BATS_TEST_TMPDIR/ck.tar" --name "$NAME-2" \
		--pod "$(podman pod inspect "$NAME-pod2" --format '{{.ID}}')" ||
		fail "restore --import --pod: $(cat "$BATS_TEST_TMPDIR/out")"
	assert_equal "$(state Status "$NAME-2")" running
	in_pod_ns "$NAME-pod2" "$(state Pid "$NAME-2")"
	rm -f "$WL/result"
	wl_verdict_in "$WL/result" "$(state Pid "$NAME-2")"
}

# A pod sharing its pid namespace (--share pid): podman names the infra
# container's namespace by path, runc sends it external (extRootPidNS) and
# passes it again at restore.  The infra command reaps what is orphaned in
# the namespace (a zombie would keep the tree's pids taken); pidns_member
# checks its and its child's pids inside.
@test "podman: a container in a pod sharing its pid namespace is restored in place into that namespace with its pids" {
	image_with pidns_member
	pod_create "$NAME-pod" --share pid,ipc,net,uts --infra-command '/bin/sh /reap'
	run_ct "$NAME" "$WL" --pod "$NAME-pod"
	pid=$(state Pid)
	infra=$(state Pid "$(podman pod inspect "$NAME-pod" --format '{{.InfraContainerID}}')")
	[ "$(readlink "/proc/$pid/ns/pid")" = "$(readlink "/proc/$infra/ns/pid")" ] || fail "pid namespace not shared"
	inner=$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")
	[ "$inner" != 1 ] || fail "the container is the pod's pid 1"
	podman_do checkpoint --keep
	assert_success
	wait_gone "$pid"
	podman_do restore --keep
	assert_success
	assert_equal "$(state Status)" running
	pid=$(state Pid)
	[ "$(readlink "/proc/$pid/ns/pid")" = "$(readlink "/proc/$infra/ns/pid")" ] || fail "restored outside the pod's pid namespace"
	[ "$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")" = "$inner" ] || fail "restored as another pid inside"
	wl_verdict_in "$WL/result" "$pid"
}

@test "podman restore --import twice from one archive: renamed without its IP and MAC, then as it was with them; rootfs and /dev/shm changes survive" {
	requires_host_os_release
	start ocictr changed
	ip=$(podman inspect "$NAME" --format '{{.NetworkSettings.IPAddress}}')
	mac=$(podman inspect "$NAME" --format '{{.NetworkSettings.MacAddress}}')
	id=$(podman inspect "$NAME" --format '{{.Id}}')
	in_ct "$NAME" sh -c 'echo changed in the container >/etc/os-release; echo kept in shm >/dev/shm/kept'
	assert_success
	podman_do checkpoint --export "$BATS_TEST_TMPDIR/ck.tar"
	assert_success
	podman rm -f -t 0 "$NAME" >/dev/null
	for as in renamed as-it-was; do
		name=$NAME
		opts=()
		[ "$as" = renamed ] && name=$NAME-new opts=(--name "$name" --ignore-static-ip --ignore-static-mac)
		rm -f "$WL/result"
		pm "$BATS_TEST_TMPDIR/out" container restore --import "$BATS_TEST_TMPDIR/ck.tar" "${opts[@]}" ||
			fail "restore --import ($as): $(cat "$BATS_TEST_TMPDIR/out")"
		assert_equal "$(state Status "$name")" running
		# Added and deleted files: the workload checks them.  A changed
		# one: podman 4.3.1 exports it only when the host has a file at
		# that path too (it looks on the host), so /etc/os-release.
		in_ct "$name" cat /etc/os-release
		assert_output "changed in the container"
		in_ct "$name" cat /dev/shm/kept
		assert_output "kept in shm"
		if [ "$as" = as-it-was ]; then
			assert_equal "$(podman inspect "$name" --format '{{.Id}}')" "$id"
			assert_equal "$(podman inspect "$name" --format '{{.NetworkSettings.IPAddress}}')" "$ip"
			assert_equal "$(podman inspect "$name" --format '{{.NetworkSettings.MacAddress}}')" "$mac"
		fi
		wl_verdict_in "$WL/result" "$(state Pid "$name")"
		podman rm -f -t 0 "$name" >/dev/null
	done
}

requires_host_os_release() {
	[ -f /etc/os-release ] || skip "needs a file at /etc/os-release on the host"
}

@test "podman checkpoint --export --ignore-rootfs: no rootfs changes in the archive; restored, the container runs without them" {
	start ocictr changed
	podman_do checkpoint --export "$BATS_TEST_TMPDIR/ck.tar" --compress none --ignore-rootfs
	assert_success
	run tar -tf "$BATS_TEST_TMPDIR/ck.tar"
	assert_line checkpoint/inventory.img
	refute_line rootfs-diff.tar
	refute_line deleted.files
	podman rm -f -t 0 "$NAME" >/dev/null
	pm "$BATS_TEST_TMPDIR/out" container restore --import "$BATS_TEST_TMPDIR/ck.tar" ||
		fail "restore --import: $(cat "$BATS_TEST_TMPDIR/out")"
	assert_equal "$(state Status)" running
	in_ct "$NAME" cat /etc/deleted
	assert_output x
	# The workload's memory, child and open file came back; then it
	# misses /added.
	kill -USR1 "$(state Pid)"
	wait_for 30 test -s "$WL/result" || fail "no verdict"
	run cat "$WL/result"
	assert_output --regexp "^FAIL: /added"
}

@test "podman: anonymous and named volumes go into the archive and come back; --ignore-volumes leaves them out" {
	start ocictr changed -v /anon -v "$NAME-vol:/named"
	in_ct "$NAME" sh -c 'echo anonymous >/anon/f; echo named >/named/f'
	assert_success
	podman_do checkpoint --leave-running --export "$BATS_TEST_TMPDIR/ck.tar" --compress none
	assert_success
	podman_do checkpoint --export "$BATS_TEST_TMPDIR/ck-novol.tar" --compress none --ignore-volumes
	assert_success
	run tar -tf "$BATS_TEST_TMPDIR/ck.tar"
	assert_line "volumes/$NAME-vol.tar"
	[ "$(grep -c '^volumes/.*\.tar$' <<<"$output")" -eq 2 ] || fail "not two volumes archived: $output"
	run tar -tf "$BATS_TEST_TMPDIR/ck-novol.tar"
	refute_output --partial volumes/
	# The anonymous one has a name of podman's: removed by the teardown too.
	podman inspect "$NAME" --format '{{range .Mounts}}{{.Name}} {{end}}' >"$BATS_TEST_TMPDIR/volumes"
	for archive in ck ck-novol; do
		# The volumes must not exist for an import (one that restores them).
		podman rm -f -t 0 "$NAME" >/dev/null
		# shellcheck disable=SC2046
		podman volume rm -f $(cat "$BATS_TEST_TMPDIR/volumes") >/dev/null
		rm -f "$WL/result"
		opts=()
		[ "$archive" = ck-novol ] && opts=(--ignore-volumes)
		pm "$BATS_TEST_TMPDIR/out" container restore --import "$BATS_TEST_TMPDIR/$archive.tar" "${opts[@]}" ||
			fail "restore --import $archive: $(cat "$BATS_TEST_TMPDIR/out")"
		in_ct "$NAME" cat /anon/f /named/f
		if [ "$archive" = ck ]; then
			assert_output "anonymous
named"
		else
			assert_line "cat: can't open '/anon/f': No such file or directory"
			assert_line "cat: can't open '/named/f': No such file or directory"
		fi
		wl_verdict_in "$WL/result" "$(state Pid)"
	done
}

# refused_by_dump REGEXP: the checkpoint failed, podman named the log,
# whose last line matches REGEXP; the container runs on, untouched.
refused_by_dump() {
	local pid=$(state Pid)
	podman_do checkpoint
	assert_failure
	assert_output --partial 'dump.log'
	run tail -n 1 "$(grep -o '/[^ "]*/dump.log' <<<"$output" | head -n1)"
	assert_output --regexp "$1"
	assert_equal "$(state Status)" running
	assert_equal "$(state Pid)" "$pid"
	assert_equal "$(tracer_of "$pid")" 0
}

@test "podman checkpoint of a container holding a flock, without --file-locks: refused naming --file-locks, it runs on; with --file-locks both ways, its locks come back" {
	start fdsock_locks
	refused_by_dump 'dump of [0-9]+ failed: .*holds a flock lock: dump file locks with --file-locks'
	podman_do checkpoint --file-locks
	assert_success
	podman_do restore --file-locks
	assert_success
	wl_verdict_in "$WL/result" "$(state Pid)"
}

@test "podman checkpoint of a container with an established TCP connection, without --tcp-established: refused naming it, it runs on; with it both ways, the stream goes on" {
	start tcp_stream
	refused_by_dump 'dump of [0-9]+ failed: .*TCP connection .*\(established\): dumping it needs --tcp-established'
	podman_do checkpoint --tcp-established
	assert_success
	podman_do restore --tcp-established
	assert_success
	wl_verdict_in "$WL/result" "$(state Pid)"
}
