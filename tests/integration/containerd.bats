#!/usr/bin/env bats
# containerd 1.6's `ctr` checkpoint and restore of a task with ocicr as the
# criu that runc finds first on PATH (containerd -> containerd-shim-runc-v2
# -> runc -> `criu swrk 3`).  Each test starts a containerd of its own (root,
# state, sockets under the test's folder), imports an OCI archive made here
# from a busybox root with our ocictr workload as its init, and runs it as a
# task; the workload checks after restore that it is pid 1 with its child,
# memory, open file and root filesystem changes.

load helpers
load helpers_runc

setup() {
	# Before any skip: teardown unmounts what is left under $T.
	T=$BATS_TEST_TMPDIR/ctd
	NS=ocicr-ctd-$$
	CTD_PID=
	requires root containerd ctr runc containerd-shim-runc-v2 python3
	requires_ocicr
	ID=ct
	ID2=ct2
	REF=ocicr.test/checkpoint:$ID
	IMAGE=ocicr.test/ocictr:latest
	mkdir -p "$T/bin" "$T/wl"
	# criu for runc, logging each start: proof that ours ran.
	printf '#!/bin/sh\necho "$*" >>%s\nexec %s "$@"\n' "$T/criu.calls" "$OCICR" >"$T/bin/criu"
	chmod +x "$T/bin/criu"
}

teardown() {
	local mnt id

	if [ -n "$CTD_PID" ]; then
		for id in "$ID" "$ID2"; do
			ctd task kill -s SIGKILL "$id" >/dev/null 2>&1
			wait_for 10 task_stopped "$id"
			ctd task delete -f "$id" >/dev/null 2>&1
			ctd container delete "$id" >/dev/null 2>&1
		done
		kill "$CTD_PID" 2>/dev/null
		wait_gone "$CTD_PID"
	fi
	# runc's cgroup parent for the namespace, left empty.
	rmdir /sys/fs/cgroup/*/"$NS" 2>/dev/null
	# Mounts a killed shim left in the test's folder, never beyond it.
	case $T in
	"$BATS_TEST_TMPDIR"/?*)
		for mnt in $(awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
			umount -l "$mnt"
		done
		;;
	esac
	return 0
}

# ctd ARGS...: ctr against this test's containerd, in its namespace.
ctd() {
	ctr --address "$T/sock" --namespace "$NS" "$@"
}

task_stopped() {
	! ctd task ls 2>/dev/null | grep -q "^$1 .*RUNNING"
}

# ctd_start: containerd with its own root, state and sockets, the CRI plugin
# off, and our criu first on the PATH it hands its shims.
ctd_start() {
	cat >"$T/config.toml" <<-EOF
		version = 2
		root = "$T/root"
		state = "$T/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$T/sock"
		[ttrpc]
		  address = "$T/sock.ttrpc"
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$T/opt"
	EOF
	# As alone() does, but $! is containerd itself (the subshell execs it).
	(
		close_fds_above_stdio
		exec env PATH="$T/bin:$PATH" containerd --config "$T/config.toml" </dev/null >"$T/containerd.log" 2>&1
	) &
	CTD_PID=$!
	wait_for 30 ctd version >/dev/null 2>&1 ||
		fail "containerd did not come up: $(tail -n 5 "$T/containerd.log")"
}

# oci_archive_make ROOTFS OUT NAME: an OCI image archive of ROOTFS (one
# uncompressed layer) that `ctr images import` names NAME.
oci_archive_make() {
	python3 - "$@" <<-'PY'
		import hashlib, io, json, sys, tarfile
		rootfs, out, name = sys.argv[1:]
		def blob(tar, data, media):
		    digest = "sha256:" + hashlib.sha256(data).hexdigest()
		    info = tarfile.TarInfo("blobs/sha256/" + digest[7:])
		    info.size = len(data)
		    tar.addfile(info, io.BytesIO(data))
		    return {"mediaType": media, "digest": digest, "size": len(data)}
		def member(tar, path, doc):
		    data = json.dumps(doc).encode()
		    info = tarfile.TarInfo(path)
		    info.size = len(data)
		    tar.addfile(info, io.BytesIO(data))
		buf = io.BytesIO()
		with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as layer:
		    layer.add(rootfs, arcname=".")
		layer = buf.getvalue()
		config = {"architecture": "amd64", "os": "linux",
		          "config": {"Cmd": ["/init", "/wl/ready", "/wl/result"]},
		          "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}
		with tarfile.open(out, "w") as tar:
		    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		                "config": blob(tar, json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json"),
		                "layers": [blob(tar, layer, "application/vnd.oci.image.layer.v1.tar")]}
		    desc = blob(tar, json.dumps(manifest).encode(), manifest["mediaType"])
		    desc["annotations"] = {"io.containerd.image.name": name}
		    member(tar, "oci-layout", {"imageLayoutVersion": "1.0.0"})
		    member(tar, "index.json", {"schemaVersion": 2, "manifests": [desc]})
	PY
}

# ctd_run WORKLOAD: import an image whose init is WORKLOAD, run it as task
# $ID with /wl bound from $T/wl, wait until it is ready; sets TASK_PID.
ctd_run() {
	ct_rootfs_make "$T/rootfs" "$1"
	oci_archive_make "$T/rootfs" "$T/image.tar" "$IMAGE" || fail "cannot make the image archive"
	ctd_start
	ctd images import "$T/image.tar" >/dev/null || fail "ctr images import failed"
	ctd run -d --null-io --mount "type=bind,src=$T/wl,dst=/wl,options=rbind:rw" "$IMAGE" "$ID" ||
		fail "ctr run failed: $(tail -n 5 "$T/containerd.log")"
	wait_for 30 test -s "$T/wl/ready" || fail "the task's workload is not ready: $(cat "$T/wl/result" 2>/dev/null)"
	TASK_PID=$(task_pid)
}

# task_pid [ID]: the pid of task ID (default $ID), if it runs.
task_pid() {
	ctd task ls | awk -v id="${1:-$ID}" '$1 == id && $3 == "RUNNING" { print $2 }'
}

# The task's cgroup of the pids controller (v1), or of v2.
pids_cgroup() {
	grep -E '^[0-9]+:(pids)?:' "/proc/$1/cgroup" | head -n1 | cut -d: -f3
}

# The freezer cgroup of $1 is not frozen (containerd paused the task for
# the checkpoint and must have resumed it).
expect_thawed() {
	local cg state
	cg=$(grep -E '^[0-9]+:freezer:' "/proc/$1/cgroup" | cut -d: -f3)
	if [ -n "$cg" ]; then
		state=$(cat "/sys/fs/cgroup/freezer$cg/freezer.state")
	else
		cg=$(grep '^0::' "/proc/$1/cgroup" | cut -d: -f3)
		state=$(grep frozen "/sys/fs/cgroup/unified$cg/cgroup.events")
	fi
	[ "$state" = THAWED ] || [ "$state" = "frozen 0" ] || fail "task $1 is left frozen: $state"
}

@test "ctr containers checkpoint --task --rw --image, the task killed and the container removed; ctr containers restore --live --rw: it runs on in its cgroup" {
	ctd_run ocictr
	cgroup=$(pids_cgroup "$TASK_PID")
	run ctd containers checkpoint --task --rw --image "$ID" "$REF"
	assert_success
	grep -qx 'swrk [0-9]*' "$T/criu.calls" || fail "runc did not run our criu: $(cat "$T/criu.calls" 2>/dev/null)"
	# containerd paused the task for the dump and resumed it after.
	assert_equal "$(task_pid)" "$TASK_PID"
	assert_equal "$(tracer_of "$TASK_PID")" 0
	expect_thawed "$TASK_PID"
	ctd task kill -s SIGKILL "$ID"
	wait_gone "$TASK_PID"
	ctd task delete "$ID"
	ctd container delete "$ID"
	: >"$T/criu.calls"
	run ctd containers restore --live --rw "$ID" "$REF" </dev/null
	assert_success
	grep -qx 'swrk [0-9]*' "$T/criu.calls" || fail "runc did not run our criu to restore"
	pid=$(task_pid)
	[ -n "$pid" ] || fail "no running task after the restore: $(ctd task ls)"
	# The shim's runc moved our criu into the task's cgroups (cg_root).
	log=$T/root/io.containerd.runtime.v2.task/$NS/$ID/restore.log
	grep -q "cgroups of 'pids': .* goes to $cgroup" "$log" ||
		fail "restore.log names no cgroup root for pids: $(grep -i cgroup "$log")"
	[ "$(pids_cgroup "$pid")" = "$cgroup" ] ||
		fail "the restored task is in $(pids_cgroup "$pid"), not the container's $cgroup"
	# Pid 1 with its child, memory, open file and the rw layer's changes.
	wl_verdict_in "$T/wl/result" "$pid"
}

@test "ctr containers restore --live --rw under another id while the checkpointed task runs on: both pass" {
	ctd_run ocictr
	cgroup=$(pids_cgroup "$TASK_PID")
	run ctd containers checkpoint --task --rw --image "$ID" "$REF"
	assert_success
	run ctd containers restore --live --rw "$ID2" "$REF" </dev/null
	assert_success
	pid=$(task_pid "$ID2")
	[ -n "$pid" ] || fail "no running task $ID2 after the restore: $(ctd task ls)"
	# In the cgroup of the restored spec (ctr keeps the checkpointed one's
	# cgroupsPath, so it is $ID's), sent as cg_root.
	spec_cgroup=$(ctd containers info "$ID2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Spec"]["linux"]["cgroupsPath"])')
	assert_equal "$spec_cgroup" "$cgroup"
	[ "$(pids_cgroup "$pid")" = "$spec_cgroup" ] ||
		fail "the restored task is in $(pids_cgroup "$pid"), not $spec_cgroup"
	wl_verdict_in "$T/wl/result" "$pid"
	rm "$T/wl/result"
	wl_verdict_in "$T/wl/result" "$TASK_PID"
}

@test "ctr tasks checkpoint --image-path: the paused task is dumped and runs on; --exit stops it" {
	ctd_run ocictr
	run ctd tasks checkpoint --image-path "$T/img" --work-path "$T/work" "$ID"
	assert_success
	[ -e "$T/img/inventory.img" ] && [ -e "$T/img/pstree.img" ] || fail "no images: $(ls "$T/img")"
	# ocicr's log: the freezer cgroup containerd had frozen already.
	grep -q 'Froze cgroup .* (it was frozen already)' "$T/work/dump.log" ||
		fail "dump.log: $(grep -i froze "$T/work/dump.log")"
	assert_equal "$(task_pid)" "$TASK_PID"
	assert_equal "$(tracer_of "$TASK_PID")" 0
	expect_thawed "$TASK_PID"
	rm -rf "$T/img" "$T/work"
	run ctd tasks checkpoint --exit --image-path "$T/img" --work-path "$T/work" "$ID"
	assert_success
	[ -e "$T/img/inventory.img" ] || fail "no images: $(ls "$T/img")"
	wait_gone "$TASK_PID"
	[ -z "$(task_pid)" ] || fail "the task runs on after --exit: $(ctd task ls)"
}

@test "ctr tasks checkpoint of a task ocicr cannot dump: ctr fails, dump.log's last line says why, the task runs on" {
	ctd_run unsupported
	run ctd tasks checkpoint --image-path "$T/img" --work-path "$T/work" "$ID"
	assert_failure
	assert_output --partial 'criu failed'
	run tail -n 1 "$T/work/dump.log"
	assert_output --regexp 'dump of [0-9]+ failed: .*netlink'
	assert_equal "$(task_pid)" "$TASK_PID"
	assert_equal "$(tracer_of "$TASK_PID")" 0
	expect_thawed "$TASK_PID"
	wl_verdict_in "$T/wl/result" "$TASK_PID"
}
