#!/usr/bin/env bats
# The OCI layer: `ocicr checkpoint BUNDLE|ID` (containers found in runc's
# state, archives in podman's, CRI-O's and containerd's layouts) and
# `ocicr restore --import` (bundles prepared from any layout, hostile
# archives refused leaving nothing behind).  Real runc containers, and a
# process in the host's root presented as a runc container (fast, every
# layout), go through the engine end to end.

load helpers

PODMAN_FIXTURE=$SHARED/fixtures/podman/busybox-loop.tar.zst

setup() {
	requires root python3
	requires_ocicr
	T=$BATS_TEST_TMPDIR
	WL_PID=
	RUNC_ROOT=$T/runc-root
	CTR= CTR2= RPID= NS1= NS2= CGPARENT=
}

teardown() {
	mountpoint -q "$T/small" && umount "$T/small"
	ocictr_teardown
	[ -n "$WL_PID" ] && kill -KILL "$WL_PID" 2>/dev/null
	if [ -n "$CTR" ]; then
		runc --root "$RUNC_ROOT" kill "$CTR" KILL 2>/dev/null
		runc --root "$RUNC_ROOT" delete --force "$CTR" 2>/dev/null
	fi
	true
}

# A runc state root holding "container" wl1: the workload, running in the
# host's root, recorded as runc records a container (bundle label, start time).
fake_runc_container() {
	local start
	start=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$WL_PID/stat")
	mkdir -p "$RUNC_ROOT/wl1" "$T/bundle"
	cat >"$T/bundle/config.json" <<-EOF
		{"ociVersion": "1.0.2", "root": {"path": "/"}, "process": {"terminal": false, "args": ["files"]},
		 "annotations": {"org.opencontainers.image.ref.name": "localhost/files:1"}}
	EOF
	cat >"$RUNC_ROOT/wl1/state.json" <<-EOF
		{"id": "wl1", "init_process_pid": $WL_PID, "init_process_start": $start,
		 "created": "2026-01-01T00:00:00Z", "config": {"rootfs": "/", "labels": ["bundle=$T/bundle"]}}
	EOF
}

members() {
	tar -tf "$1" | sort
}

# A busybox bundle run by runc (a real container, every namespace runc spec makes).
runc_container() {
	requires runc busybox
	mkdir -p "$T/rb/rootfs/bin"
	cp "$(command -v busybox)" "$T/rb/rootfs/bin/busybox"
	(cd "$T/rb" && runc spec)
	python3 - "$T/rb/config.json" <<-'EOF'
		import json, sys
		p = sys.argv[1]; c = json.load(open(p))
		c["process"]["terminal"] = False
		c["process"]["args"] = ["/bin/busybox", "sleep", "1000"]
		json.dump(c, open(p, "w"))
	EOF
	CTR=ocicr-oci-$$
	runc --root "$RUNC_ROOT" run -d --bundle "$T/rb" "$CTR" </dev/null >/dev/null 2>&1 ||
		skip "runc cannot run a container here"
}

@test "checkpoint: a runc container the engine cannot dump runs on, and no archive is left" {
	runc_container
	requires ip nsenter
	# a device the engine refuses to dump in the container's own network namespace
	local pid
	pid=$(runc --root "$RUNC_ROOT" state "$CTR" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	nsenter -t "$pid" -n ip tuntap add mode tun ocicr-d0 || skip "cannot add a tun device"
	mkdir "$T/out"
	run ocicr checkpoint --runtime-root "$RUNC_ROOT" -e "$T/out/ck.tar.zst" "$CTR"
	assert_failure 1
	assert_output --partial "ocicr-d0"
	run ls -A "$T/out"
	assert_output ""
	run runc --root "$RUNC_ROOT" state "$CTR"
	assert_output --partial '"status": "running"'
}

@test "checkpoint: a runc container by its bundle, -R: it runs on, the archive holds its images" {
	runc_container
	mkdir "$T/out"
	run ocicr checkpoint --runtime-root "$RUNC_ROOT" -R --image-path "$T/out/img" -e "$T/out/ck.tar" --format crio "$T/rb/"
	assert_success
	assert_line "$T/out/ck.tar"
	[ -f "$T/out/img/inventory.img" ] && [ -f "$T/out/img/descriptors.json" ]
	run members "$T/out/ck.tar"
	assert_line "checkpoint/inventory.img"
	assert_line "bind.mounts"
	run runc --root "$RUNC_ROOT" state "$CTR"
	assert_output --partial '"status": "running"'
}

@test "checkpoint: unknown containers and bundles are named, bad options refused" {
	mkdir -p "$RUNC_ROOT" "$T/nobundle"
	run ocicr checkpoint --runtime-root "$RUNC_ROOT" nosuch
	assert_failure 1
	assert_output --partial "no container 'nosuch'"
	run ocicr checkpoint --runtime-root "$RUNC_ROOT" "$T/nobundle"
	assert_failure 1
	assert_output --partial "no running container has bundle $T/nobundle"
	run ocicr checkpoint --format docker x
	assert_failure 2
	run ocicr checkpoint --compress lz4 x
	assert_failure 2
	run ocicr checkpoint
	assert_failure 2
}

@test "checkpoint: podman archive end to end (0600, zstd, layout), read by inspect, restored from its images" {
	wl_start files
	fake_runc_container
	run ocicr checkpoint --runtime-root "$RUNC_ROOT" -e "$T/ck.tar.zst" --print-stats wl1
	assert_success
	assert_line "$T/ck.tar.zst"
	assert_output --partial "Memory pages written"
	wait_gone "$WL_PID"
	[ "$(stat -c %a "$T/ck.tar.zst")" = 600 ]
	[ "$(head -c4 "$T/ck.tar.zst" | od -An -tx1 | tr -d ' ')" = 28b52ffd ]
	run members "$T/ck.tar.zst"
	assert_line "checkpoint/inventory.img"
	assert_line "checkpoint/descriptors.json"
	assert_line "config.dump"
	assert_line "spec.dump"
	assert_line "network.status"
	assert_line "dump.log"
	refute_line "checkpoint/dump.log"
	# nothing half-written or temporary beside it
	run ls -A "$T"
	refute_output --partial ".ocicr"
	run ocicr inspect "$T/ck.tar.zst"
	assert_success
	assert_output --partial "wl1"
	tar -xOf "$T/ck.tar.zst" config.dump | python3 -c '
import hashlib, json, sys
c = json.load(sys.stdin)
# podman takes 64 hex digits as an id: a runc id that is not one stands as its SHA-256
assert c["id"] == hashlib.sha256(b"wl1").hexdigest() and c["name"] == "wl1" and c["runtime"] == "runc", c
assert c["rootfsImageName"] == "localhost/files:1" and c["checkpointedTime"], c'

	mkdir "$T/base"
	run ocicr restore --import "$T/ck.tar.zst" --bundle "$T/restored" --rootfs-base "$T/base" --prepare-only
	assert_success
	assert_line "podman archive, compression zstd"
	[ -f "$T/restored/checkpoint/inventory.img" ]
	[ ! -e "$T/restored/.import" ]
	run ocicr restore -D "$T/restored/checkpoint" -d
	assert_success
	wl_expect_pass
}

@test "checkpoint: CRI-O and containerd layouts (plain tar, their members), detected on import; --image-path alone" {
	wl_start files
	fake_runc_container
	run ocicr checkpoint --runtime-root "$RUNC_ROOT" -R --format crio -e "$T/crio.tar" wl1
	assert_success
	run members "$T/crio.tar"
	assert_line "bind.mounts"
	assert_line "dump.log"
	assert_line "checkpoint/inventory.img"
	refute_line "status.dump"
	[ "$(tar -xOf "$T/crio.tar" bind.mounts | tr -d ' \n')" = "[]" ]
	# CRI-O's restore needs the original annotations as a JSON string,
	# checkpointctl the container's metadata: a runc config has neither
	tar -xOf "$T/crio.tar" spec.dump | python3 -c '
import json, sys
s = json.load(sys.stdin)
a = s["annotations"]
assert a["io.container.manager"] == "cri-o", a
assert json.loads(a["io.kubernetes.cri-o.Annotations"])["org.opencontainers.image.ref.name"] == "localhost/files:1", a
assert json.loads(a["io.kubernetes.cri-o.Metadata"])["name"] == "wl1", a
assert s["process"]["args"] == ["files"], s'
	run ocicr inspect "$T/crio.tar"
	assert_success
	assert_output --partial "wl1"
	run ocicr checkpoint --runtime-root "$RUNC_ROOT" -R --format containerd -e "$T/ctrd.tar" wl1
	assert_success
	run members "$T/ctrd.tar"
	assert_line "status"
	assert_line "status.dump"
	assert_line "config.dump"
	assert_line "spec.dump"
	refute_line "deleted.files"
	# plain tar: ustar magic at 257
	[ "$(dd if="$T/ctrd.tar" bs=1 skip=257 count=5 2>/dev/null)" = ustar ]
	mkdir "$T/base"
	for l in crio ctrd; do
		run ocicr restore --import "$T/$l.tar" --bundle "$T/b-$l" --rootfs-base "$T/base" --prepare-only
		assert_success
		assert_line "$([ $l = crio ] && echo crio || echo containerd) archive, compression none"
	done
	run ocicr checkpoint --runtime-root "$RUNC_ROOT" -R --image-path "$T/imgs" wl1
	assert_success
	[ -f "$T/imgs/inventory.img" ] && [ -f "$T/imgs/descriptors.json" ]
	run ls "$T"
	refute_output --partial "checkpoint-wl1"
	# still running and intact after three dumps
	wl_expect_pass
}

@test "checkpoint --create-image: an OCI image layout with the checkpoint annotations, imported by restore --import oci:DIR:TAG" {
	wl_start files
	fake_runc_container
	run ocicr checkpoint --runtime-root "$RUNC_ROOT" -R --create-image "oci:$T/layout:ck1" wl1
	assert_success
	[ -f "$T/layout/oci-layout" ] && [ -f "$T/layout/index.json" ]
	# every blob is named by its digest
	for b in "$T"/layout/blobs/sha256/*; do
		[ "$(sha256sum "$b" | cut -d' ' -f1)" = "${b##*/}" ] || fail "blob $b does not match its name"
	done
	python3 - "$T/layout" <<-'EOF'
		import json, sys
		d = sys.argv[1]
		i = json.load(open(d + "/index.json"))
		m = i["manifests"][0]
		assert m["annotations"]["org.opencontainers.image.ref.name"] == "ck1"
		man = json.load(open(d + "/blobs/sha256/" + m["digest"][7:]))
		a = man["annotations"]
		for k in ("io.podman.annotations.checkpoint.name", "io.kubernetes.cri-o.annotations.checkpoint.name",
		          "org.criu.checkpoint.container.name"):
		    assert a[k] == "wl1", (k, a)
		assert len(man["layers"]) == 1
	EOF
	run ls -A "$T"
	refute_output --partial ".ocicr"
	mkdir "$T/base"
	run ocicr restore --import "oci:$T/layout:ck1" --bundle "$T/b" --rootfs-base "$T/base" --prepare-only
	assert_success
	assert_line "podman archive, compression none"
	[ -f "$T/b/checkpoint/inventory.img" ]
	run ocicr restore --import "oci:$T/layout:nosuch" --bundle "$T/b2" --rootfs-base "$T/base"
	assert_failure 1
	assert_output --partial "has no image nosuch"
	[ ! -e "$T/b2" ]
	wl_expect_pass
}

@test "checkpoint --create-image NAME: the image in podman's store, annotated" {
	requires podman
	wl_start files
	fake_runc_container
	local ref=localhost/ocicr-bats-ck-$$:1
	run ocicr checkpoint --runtime-root "$RUNC_ROOT" -R --create-image "$ref" wl1
	assert_success
	run podman image inspect "$ref" --format '{{index .Annotations "io.podman.annotations.checkpoint.name"}}'
	podman rmi -f "$ref" >/dev/null 2>&1
	assert_output "wl1"
	run ls -A "${TMPDIR:-/var/tmp}"
	refute_output --partial "ocicr-image-"
	wl_expect_pass
}

# ---- a real container, through the engine ----
#
# Checkpointed by the engine; restored by the engine (--runtime none) or by
# runc, which drives ocicr's RPC service as its criu.

# A runc container running the ocictr workload in its own root (a copy of
# $T/base), /wl bound from $T/wl1, its network namespace by path.
ocictr_container() {
	requires runc ip
	[ -x "$WORKLOADS/ocictr" ] || fail "$WORKLOADS/ocictr is not built (make check builds it)"
	mkdir -p "$T/base/etc" "$T/base/proc" "$T/base/dev" "$T/base/sys" "$T/base/tmp" "$T/base/wl" "$T/wl1" "$T/b1"
	cp "$WORKLOADS/ocictr" "$T/base/init"
	echo old >"$T/base/etc/changed"
	echo x >"$T/base/etc/deleted"
	echo 0123456789 >"$T/base/etc/held"
	cp -a "$T/base" "$T/b1/rootfs"
	NS1=ocicr-oci-a-$$
	NS2=ocicr-oci-b-$$
	ip netns add "$NS1"
	"$REPO/scripts/runc-bundle-config" "$T/b1" --args "/init /wl/ready /wl/result" --writable-root \
		--hostname ocictr --bind "/wl=$T/wl1" --netns "/run/netns/$NS1"
	CTR=ocicr-ctr-$$
	runc --root "$RUNC_ROOT" run -d --bundle "$T/b1" "$CTR" </dev/null >/dev/null 2>&1 ||
		fail "runc cannot run the container"
	wait_for 30 test -s "$T/wl1/ready" || fail "the container did not become ready: $(cat "$T/wl1/result" 2>/dev/null)"
}

ocictr_teardown() {
	[ -n "${CTR2:-}" ] && runc --root "$T/runc-root2" delete --force "$CTR2" 2>/dev/null
	[ -n "${RPID:-}" ] && kill -KILL "$RPID" 2>/dev/null && wait_gone "$RPID"
	# the cgroups the engine made under the new parent (runc removes its own)
	[ -n "${CGPARENT:-}" ] && find /sys/fs/cgroup -depth -type d -path "*$CGPARENT*" -exec rmdir {} + 2>/dev/null
	[ -n "${NS1:-}" ] && ip netns delete "$NS1" 2>/dev/null
	[ -n "${NS2:-}" ] && ip netns delete "$NS2" 2>/dev/null
	true
}

# ocictr_checkpoint FORMAT FILE [ARGS...]: checkpoint the container.
ocictr_checkpoint() {
	local format=$1 file=$2
	shift 2
	run ocicr checkpoint --runtime-root "$RUNC_ROOT" --format "$format" --rootfs-base "$T/base" -e "$file" "$@" "$CTR"
	assert_success
}

# ocictr_restore FILE RUNTIME: restore "on another host" (another runtime
# root, bundle path, id, network namespace, cgroup parent, /wl source) and
# check the workload.
ocictr_restore() {
	local file=$1 runtime=$2
	mkdir -p "$T/wl2" "$T/elsewhere"
	ip netns add "$NS2"
	CTR2=ocicr-ctr2-$$
	CGPARENT=/ocicr-elsewhere-$$
	run ocicr restore --import "$file" --bundle "$T/elsewhere/b2" --name "$CTR2" --rootfs-base "$T/base" \
		--volume "$T/wl2:/wl" --netns "/run/netns/$NS2" --runtime "$runtime" --runtime-root "$T/runc-root2" \
		--cgroup-parent "$CGPARENT" -d --pid-file "$T/pid2"
	assert_success
	RPID=$(cat "$T/pid2")
	[ "$(readlink "/proc/$RPID/ns/net")" = "$(ip netns exec "$NS2" readlink /proc/self/ns/net)" ] ||
		fail "the restored container is not in the new network namespace"
	! grep -q "$CTR\b" "/proc/$RPID/cgroup" || fail "the restored container is in the old container's cgroup"
	grep -q ":$CGPARENT/$CTR2\$" "/proc/$RPID/cgroup" ||
		fail "the restored container is not under the new cgroup parent: $(cat "/proc/$RPID/cgroup")"
	# nothing ties it to the checkpoint's host: no path, namespace or cgroup
	# of the old container (annotations may tell where it came from)
	python3 - "$T/elsewhere/b2/config.json" "$T/b1" "$RUNC_ROOT/" "/run/netns/$NS1" "$CTR" <<-'EOF'
		import json, re, sys
		c = json.load(open(sys.argv[1]))
		c.pop("annotations", None)
		text = json.dumps(c)
		old = [s for s in sys.argv[2:5] if s in text] + re.findall(re.escape(sys.argv[5]) + r"\b", text)
		assert not old, "the new config.json names the old container: %s" % old
	EOF
	wl_verdict_in "$T/wl2/result" "$RPID"
}

@test "a runc container: podman layout, restored by runc on another host with its rootfs changes" {
	ocictr_container
	ocictr_checkpoint podman "$T/ck.tar.zst"
	ocictr_restore "$T/ck.tar.zst" runc
	ocictr_teardown
}

@test "a runc container: CRI-O layout, restored by ocicr itself (--runtime none)" {
	ocictr_container
	ocictr_checkpoint crio "$T/ck.tar"
	ocictr_restore "$T/ck.tar" none
	ocictr_teardown
}

@test "a runc container: containerd layout (-R, the container runs on), restored by runc" {
	ocictr_container
	ocictr_checkpoint containerd "$T/ck.tar" -R
	run runc --root "$RUNC_ROOT" state "$CTR"
	assert_output --partial '"status": "running"'
	ocictr_restore "$T/ck.tar" runc
	ocictr_teardown
}

# ---- restore --import ----

needs_fixture() {
	requires shared
	[ -f "$PODMAN_FIXTURE" ] || skip "needs $PODMAN_FIXTURE"
}

busybox_base() {
	mkdir -p "$T/base/bin" "$T/base/etc" "$T/base/proc" "$T/base/dev" "$T/base/sys"
	echo "base" >"$T/base/etc/motd"
}

@test "restore --import: a bundle for this host from the podman fixture (rootfs, config, managed mounts)" {
	needs_fixture
	busybox_base
	NS2=ocicr-oci-fx-$$
	ip netns add "$NS2"
	# its network namespace was the checkpoint host's: one must be given
	run ocicr restore --import "$PODMAN_FIXTURE" --bundle "$T/b" --rootfs-base "$T/base" --name moved --prepare-only
	assert_failure 1
	assert_output --partial "network namespace /run/netns/netns-76d9dbe6-8895-4e9d-e08f-65d83f22373b does not exist here: give one with --netns PATH"
	[ ! -e "$T/b" ]
	run ocicr restore --import "$PODMAN_FIXTURE" --bundle "$T/b" --rootfs-base "$T/base" --name moved --prepare-only \
		--netns "/run/netns/$NS2"
	assert_success
	assert_line "podman archive, compression zstd"
	[ "$(cat "$T/b/rootfs/data/note.txt")" = hello ]
	[ "$(cat "$T/b/rootfs/etc/motd")" = base ]
	[ "$(readlink "$T/b/rootfs/etc/mtab")" = /proc/mounts ]
	[ -f "$T/b/checkpoint/inventory.img" ] && [ -f "$T/b/checkpoint/descriptors.json" ]
	[ ! -e "$T/b/.import" ]
	python3 - "$T/b" "/run/netns/$NS2" <<-'EOF'
		import json, os, sys
		b, ns_path = sys.argv[1:3]
		c = json.load(open(b + "/config.json"))
		assert c["root"]["path"] == "rootfs", c["root"]
		binds = [m for m in c["mounts"] if m.get("type") == "bind"]
		assert len(binds) == 5, binds
		for m in binds:
		    assert m["source"].startswith(b + "/ocicr-managed/"), m
		    assert os.path.exists(m["source"]), m
		ns = {n["type"]: n for n in c["linux"]["namespaces"]}
		assert ns["network"]["path"] == ns_path, ns
		assert c["linux"]["cgroupsPath"] == "/libpod_parent/libpod-moved", c["linux"]["cgroupsPath"]
		assert c["process"]["env"], "the rest of the spec is kept"
	EOF
	[ "$(cat "$T/b/ocicr-managed/hostname")" = "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hostname"])' "$T/b/config.json")" ]
}

count_moved() {
	[ "$(cat "$T/b/rootfs/data/count")" != "$BEFORE" ]
}

# fixture_runs RUNTIME: the podman fixture restored under a new id and
# network namespace, through RUNTIME; its loop must count on.
fixture_runs() {
	needs_fixture
	busybox_base
	cp "$(command -v busybox)" "$T/base/bin/busybox"
	for t in sh mkdir echo sleep cat; do ln -s busybox "$T/base/bin/$t"; done
	NS2=ocicr-oci-fx-$$
	ip netns add "$NS2"
	CTR2=moved
	# not `run`: runc gives the container the restore's stdio (podman's
	# conmon wants its pipes there), which would hold bats' pipe open
	ocicr restore --import "$PODMAN_FIXTURE" --bundle "$T/b" --rootfs-base "$T/base" --name moved \
		--netns "/run/netns/$NS2" --runtime "$1" --runtime-root "$T/runc-root2" -d --pid-file "$T/pid" \
		</dev/null >"$T/restore.out" 2>&1 || fail "restore with --runtime $1: $(cat "$T/restore.out")"
	RPID=$(cat "$T/pid")
	[ "$(readlink "/proc/$RPID/ns/net")" = "$(ip netns exec "$NS2" readlink /proc/self/ns/net)" ]
	grep -q "libpod-moved" "/proc/$RPID/cgroup"
	# its loop counts on in /data/count, in the new bundle's root
	BEFORE=$(cat "$T/b/rootfs/data/count")
	wait_for 10 count_moved || fail "the restored loop does not run (count stays $BEFORE)"
	[ "$(cat "$T/b/rootfs/data/note.txt")" = hello ]
}

@test "restore --import: the podman fixture (CRIU 4.2 images) runs again with --runtime none, under a new id and network namespace" {
	fixture_runs none
}

@test "restore --import: the podman fixture runs again with --runtime runc (runc restore, ocicr as its criu)" {
	requires runc
	fixture_runs runc
	[ "$(runc_status_of moved)" = running ] || fail "runc does not own the restored container"
}

runc_status_of() {
	runc --root "$T/runc-root2" state "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'
}

@test "restore --import: a failed restore leaves no bundle (ocicr, and runc as the runtime)" {
	needs_fixture
	busybox_base
	NS2=ocicr-oci-fx-$$
	ip netns add "$NS2"
	# the pid file cannot be written: the restore fails after the bundle was made
	run ocicr restore --import "$PODMAN_FIXTURE" --bundle "$T/b" --rootfs-base "$T/base" --name moved -d \
		--netns "/run/netns/$NS2" --pid-file "$T/no-such-dir/pid"
	assert_failure 1
	assert_output --partial "no-such-dir"
	[ ! -e "$T/b" ]
	requires runc
	# a runtime root runc cannot make
	run ocicr restore --import "$PODMAN_FIXTURE" --bundle "$T/b" --rootfs-base "$T/base" --name moved -d \
		--netns "/run/netns/$NS2" --runtime runc --runtime-root /proc/ocicr-no-such-root
	assert_failure 1
	assert_output --partial "runc restore failed"
	[ ! -e "$T/b" ]
	# the engine fails inside runc's restore (the base lacks the
	# workload's busybox): no bundle, no container left in runc's root
	ocicr restore --import "$PODMAN_FIXTURE" --bundle "$T/b" --rootfs-base "$T/base" --name moved -d \
		--netns "/run/netns/$NS2" --runtime runc --runtime-root "$T/runc-root2" </dev/null >"$T/out" 2>&1 &&
		fail "the restore of a root without busybox succeeded"
	grep -q "cannot open /bin/busybox" "$T/out" || fail "no reason given: $(cat "$T/out")"
	[ ! -e "$T/b" ]
	[ -z "$(runc --root "$T/runc-root2" list -q)" ] || fail "runc keeps $(runc --root "$T/runc-root2" list -q)"
}

# make_archive OUT [ROOTFS-DIFF-SPEC]: a podman-layout archive (from the
# fixture's images and spec) whose spec.dump and rootfs-diff.tar the test
# chooses.  SPEC_EDIT: python code run on the spec `s`.
make_archive() {
	python3 - "$PODMAN_FIXTURE" "$1" "${2:-}" "${SPEC_EDIT:-}" <<-'EOF'
		import io, json, subprocess, sys, tarfile
		src, out, diff, edit = sys.argv[1:5]
		raw = subprocess.run(["zstd", "-dc", src], capture_output=True, check=True).stdout
		with tarfile.open(fileobj=io.BytesIO(raw)) as t, tarfile.open(out, "w") as o:
		    for m in t.getmembers():
		        if m.name == "rootfs-diff.tar" and diff:
		            continue
		        data = t.extractfile(m).read() if m.isfile() else None
		        if m.name == "spec.dump" and edit:
		            s = json.loads(data); exec(edit); data = json.dumps(s).encode(); m.size = len(data)
		        o.addfile(m, io.BytesIO(data) if data is not None else None)
		    if diff:
		        buf = io.BytesIO()
		        with tarfile.open(fileobj=buf, mode="w") as d:
		            for kind, name, arg in json.loads(diff):
		                i = tarfile.TarInfo(name)
		                if kind == "sym":
		                    i.type, i.linkname = tarfile.SYMTYPE, arg
		                    d.addfile(i)
		                else:
		                    i.size = len(arg); d.addfile(i, io.BytesIO(arg.encode()))
		        i = tarfile.TarInfo("rootfs-diff.tar"); i.size = len(buf.getvalue())
		        o.addfile(i, io.BytesIO(buf.getvalue()))
	EOF
}

# The import failed and left nothing: no bundle, nothing outside it.
assert_nothing_left() {
	[ ! -e "$T/b" ] || fail "the bundle $T/b was left behind: $(ls -A "$T/b")"
	[ ! -e "$T/escaped" ] || fail "a file was written outside the bundle"
	[ ! -e /tmp/ocicr-escaped-$$ ] || fail "a file was written through a symlink"
}

@test "restore --import: hostile archives fail clearly and leave nothing behind" {
	needs_fixture
	requires zstd
	busybox_base
	# truncated
	head -c 20000 "$PODMAN_FIXTURE" >"$T/trunc.tar.zst"
	run ocicr restore --import "$T/trunc.tar.zst" --bundle "$T/b" --rootfs-base "$T/base"
	assert_failure 1
	assert_output --partial "truncated"
	assert_nothing_left
	# wrong layout: a tar, but no checkpoint
	tar -cf "$T/wrong.tar" -C "$T/base" etc
	run ocicr restore --import "$T/wrong.tar" --bundle "$T/b" --rootfs-base "$T/base"
	assert_failure 1
	assert_output --partial "wrong layout"
	assert_nothing_left
	# not an archive at all
	echo "hello" >"$T/text"
	run ocicr restore --import "$T/text" --bundle "$T/b" --rootfs-base "$T/base"
	assert_failure 1
	assert_nothing_left
	# a rootfs diff reaching out with "..", an absolute name, through a symlink
	make_archive "$T/dotdot.tar" '[["file", "../../escaped", "x"]]'
	make_archive "$T/abs.tar" '[["file", "/tmp/ocicr-escaped-'$$'", "x"]]'
	make_archive "$T/sym.tar" '[["sym", "evil", "/tmp"], ["file", "evil/ocicr-escaped-'$$'", "x"]]'
	for a in dotdot abs sym; do
		run ocicr restore --import "$T/$a.tar" --bundle "$T/b" --rootfs-base "$T/base"
		assert_failure 1
		assert_output --partial "rootfs-diff.tar"
		assert_nothing_left
	done
	# a symlink pointing out is fine as a link (resolved inside the container)
	make_archive "$T/link.tar" '[["sym", "etc/passwd-link", "/etc/passwd"]]'
	NS2=ocicr-oci-fx-$$
	ip netns add "$NS2"
	run ocicr restore --import "$T/link.tar" --bundle "$T/b" --rootfs-base "$T/base" --prepare-only \
		--netns "/run/netns/$NS2"
	assert_success
	[ "$(readlink "$T/b/rootfs/etc/passwd-link")" = /etc/passwd ]
	rm -rf "$T/b"
	# a missing base
	run ocicr restore --import "$PODMAN_FIXTURE" --bundle "$T/b" --rootfs-base "$T/no-such-base"
	assert_failure 1
	assert_output --partial "$T/no-such-base is missing"
	assert_nothing_left
	run ocicr restore --import "$PODMAN_FIXTURE" --bundle "$T/b"
	assert_failure 1
	assert_output --partial "--rootfs-base"
	assert_nothing_left
	# a bundle directory that is not empty is refused and left as it was
	mkdir "$T/full" && echo mine >"$T/full/file"
	run ocicr restore --import "$PODMAN_FIXTURE" --bundle "$T/full" --rootfs-base "$T/base"
	assert_failure 1
	assert_output --partial "not empty"
	[ "$(ls -A "$T/full")" = file ]
}

# big_member ARCHIVE NAME MIB [zstd]: NAME in the plain tar ARCHIVE becomes
# MIB MiB of zeros (with zstd: a zstd-compressed tar holding "big", as many).
big_member() {
	python3 - "$@" <<-'EOF'
		import io, subprocess, sys, tarfile
		archive, name, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
		data = bytes(mib << 20)
		if len(sys.argv) > 4:
		    buf = io.BytesIO()
		    with tarfile.open(fileobj=buf, mode="w") as t:
		        i = tarfile.TarInfo("big"); i.size = len(data); t.addfile(i, io.BytesIO(data))
		    data = subprocess.run(["zstd", "-c"], input=buf.getvalue(), capture_output=True, check=True).stdout
		with tarfile.open(archive) as t:
		    keep = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers() if m.name != name]
		with tarfile.open(archive, "w") as t:
		    for m, d in keep:
		        t.addfile(m, io.BytesIO(d) if d is not None else None)
		    i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
	EOF
}

@test "restore --import: bounded extraction: an archive, or a compressed rootfs diff, larger than the bundle's filesystem holds is refused" {
	needs_fixture
	requires zstd
	busybox_base
	NS2=ocicr-oci-fx-$$
	ip netns add "$NS2"
	mkdir "$T/small"
	mount -t tmpfs -o size=32m ocicr-small "$T/small"
	# 30 MiB of images would fit in 32, but leave less than a tenth free
	make_archive "$T/big.tar"
	big_member "$T/big.tar" checkpoint/pages-99.img 30
	run ocicr restore --import "$T/big.tar" --bundle "$T/small/b" --rootfs-base "$T/base" --prepare-only \
		--netns "/run/netns/$NS2"
	assert_failure 1
	assert_output --partial "pages-99.img (31457280 bytes) does not fit"
	[ -z "$(ls -A "$T/small")" ] || fail "the import left $(ls -A "$T/small")"
	# a rootfs diff that is small in the archive, 30 MiB unpacked
	make_archive "$T/bomb.tar"
	big_member "$T/bomb.tar" rootfs-diff.tar 30 zstd
	[ "$(stat -c %s "$T/bomb.tar")" -lt $((1 << 20)) ] || fail "the bomb is not small"
	run ocicr restore --import "$T/bomb.tar" --bundle "$T/small/b" --rootfs-base "$T/base" --prepare-only \
		--netns "/run/netns/$NS2"
	assert_failure 1
	assert_output --partial "rootfs-diff.tar: member big (31457280 bytes) does not fit"
	[ -z "$(ls -A "$T/small")" ] || fail "the import left $(ls -A "$T/small")"
}

@test "restore --import: the cgroup path takes the new id where the old name stands alone, or --cgroup-parent's" {
	needs_fixture
	requires zstd
	busybox_base
	NS2=ocicr-oci-fx-$$
	ip netns add "$NS2"
	SPEC_EDIT='s["linux"]["cgroupsPath"] = "/fx1s/fx1"' make_archive "$T/cg.tar"
	cgroups_path() {
		python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["linux"]["cgroupsPath"])' "$T/b/config.json"
	}
	run ocicr restore --import "$T/cg.tar" --bundle "$T/b" --rootfs-base "$T/base" --name moved --prepare-only \
		--netns "/run/netns/$NS2"
	assert_success
	assert_equal "$(cgroups_path)" /fx1s/moved
	rm -rf "$T/b"
	run ocicr restore --import "$T/cg.tar" --bundle "$T/b" --rootfs-base "$T/base" --name moved --prepare-only \
		--netns "/run/netns/$NS2" --cgroup-parent /elsewhere/
	assert_success
	assert_equal "$(cgroups_path)" /elsewhere/moved
	run ocicr restore --import "$T/cg.tar" --bundle "$T/b2" --rootfs-base "$T/base" --cgroup-parent elsewhere
	assert_failure 2
	assert_output --partial "an absolute cgroup path"
}

@test "restore --import: a bind mount source missing here is named; --volume maps it" {
	needs_fixture
	requires zstd
	busybox_base
	SPEC_EDIT='s["mounts"].append({"destination": "/data/in", "type": "bind", "source": "/nonexistent/ocicr-vol", "options": ["rbind"]})' \
		make_archive "$T/vol.tar"
	run ocicr restore --import "$T/vol.tar" --bundle "$T/b" --rootfs-base "$T/base" --prepare-only
	assert_failure 1
	assert_output --partial "/nonexistent/ocicr-vol (at /data/in)"
	assert_output --partial "--volume"
	assert_nothing_left
	mkdir "$T/vol"
	NS2=ocicr-oci-fx-$$
	ip netns add "$NS2"
	run ocicr restore --import "$T/vol.tar" --bundle "$T/b" --rootfs-base "$T/base" --prepare-only \
		--volume "$T/vol:/data/in" --netns "/run/netns/$NS2"
	assert_success
	grep -q "\"source\": \"$T/vol\"" "$T/b/config.json"
	rm -rf "$T/b"
	run ocicr restore --import "$T/vol.tar" --bundle "$T/b" --rootfs-base "$T/base" --prepare-only \
		--external "mnt[/data/in]:$T/vol" --netns "/run/netns/$NS2"
	assert_success
}
