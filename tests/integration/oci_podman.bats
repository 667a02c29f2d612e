#!/usr/bin/env bats
# podman restores what `ocicr checkpoint` writes: the podman-layout archive
# (`podman container restore --import`) and the checkpoint image
# (`podman container restore IMAGE`), of a container runc ran from a bundle
# and of one podman ran.  The image is imported here from a busybox root
# with the ocictr workload as its init, which checks after the restore its
# pid, child, memory, open file and the root filesystem's three changes
# (added, changed, deleted).  podman runs runc with ocicr first on PATH as
# its criu, and needs the two --ulimit options without CAP_SYS_RESOURCE.

load helpers
load helpers_runc

setup() {
	requires root podman runc python3
	requires_ocicr
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/bin"
	ln -s "$OCICR" "$T/bin/criu"
	IMAGE=localhost/ocicr-ocipm-$$:base
	CKIMAGE=localhost/ocicr-ocipm-$$:ck
	NAME=ocicr-ocipm-$$
	RUNC_ROOT=$T/runc-root
	CTR= LAYOUT= NS= RPID=
}

teardown() {
	podman rm -f -t 0 "$NAME" "$NAME-r" >/dev/null 2>&1
	podman rmi -f "$CKIMAGE" "$NAME-layout:ck" "$IMAGE" >/dev/null 2>&1
	# pulled from a layout, the image is also named after its path
	[ -s "$T/pulled" ] && podman rmi -f "$(cat "$T/pulled")" >/dev/null 2>&1
	[ -n "$LAYOUT" ] && rm -rf "$LAYOUT"
	if [ -n "$RPID" ]; then
		kill -KILL "$RPID" 2>/dev/null
		wait_gone "$RPID"
		# the cgroups ocicr's restore made (podman's own go with its containers)
		wait_for 10 rm_cgroups "libpod-$NAME-o"
	fi
	[ -n "$NS" ] && ip netns delete "$NS" 2>/dev/null
	[ -n "$CTR" ] && runc --root "$RUNC_ROOT" delete --force "$CTR" >/dev/null 2>&1
	return 0
}

# rm_cgroups NAME: remove the cgroup NAME in every hierarchy (its tasks
# may take a moment to be reaped).
rm_cgroups() {
	find /sys/fs/cgroup -depth -type d -name "$1" -exec rmdir {} + 2>/dev/null
	[ -z "$(find /sys/fs/cgroup -type d -name "$1")" ]
}

# pm ARGS...: podman ARGS with runc as its runtime and ocicr as criu, alone;
# its output in $output.
pm() {
	PATH=$T/bin:$PATH alone "$T/pm.out" podman --runtime runc "$@" && status=0 || status=$?
	output=$(cat "$T/pm.out")
}

# base_image: $T/base, a busybox root with ocictr as /init, as $IMAGE.
base_image() {
	ct_rootfs_make "$T/base" ocictr
	tar -C "$T/base" -cf "$T/base.tar" . || fail "cannot tar the root"
	podman import "$T/base.tar" "$IMAGE" >/dev/null || fail "podman import failed"
}

# runc_ctr: a bundle in $T/b whose root is a copy of the image's, run by
# runc; its workload's files in $T/b/wl.
runc_ctr() {
	base_image
	runc_bundle_make "$T/b" ocictr
	rm -rf "$T/b/rootfs" && cp -a "$T/base" "$T/b/rootfs"
	CTR=ocicr-ocipm-$$
	runc_run "$RUNC_ROOT" "$T/b" "$CTR"
}

# restored_passes NAME RESULT: podman runs NAME and its workload passes.
restored_passes() {
	assert_equal "$(podman inspect "$1" --format '{{.State.Status}}')" running
	wl_verdict_in "$2" "$(podman inspect "$1" --format '{{.State.Pid}}')"
}

@test "a runc container from a bundle: ocicr's podman archive restores with podman restore --import" {
	runc_ctr
	run ocicr checkpoint --runtime-root "$RUNC_ROOT" --rootfs-base "$T/base" --rootfs-image "$IMAGE" \
		-e "$T/ck.tar.zst" "$T/b"
	assert_success
	refute_output --partial "note:"
	# podman's import needs the image by name and ID, and ids of 64 hex digits
	tar -xOf "$T/ck.tar.zst" config.dump | python3 -c '
import json, re, sys
c = json.load(sys.stdin)
assert re.fullmatch("[0-9a-f]{64}", c["id"]), c["id"]
assert c["name"] == sys.argv[1] and c["rootfsImageName"] == sys.argv[2], c
assert c["rootfsImageID"] == sys.argv[3], c' "$CTR" "$IMAGE" "$(podman image inspect "$IMAGE" --format '{{.Id}}')"
	pm container restore --import "$T/ck.tar.zst" --name "$NAME"
	assert_success
	restored_passes "$NAME" "$T/b/wl/result"
}

@test "a podman container: ocicr checkpoint by its id, podman restore --import under a new name" {
	base_image
	mkdir -p "$T/wl"
	pm run -d --name "$NAME" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -v "$T/wl:/wl" "$IMAGE" \
		/init /wl/ready /wl/result
	assert_success
	wait_for 30 test -s "$T/wl/ready" || fail "the workload is not ready: $(cat "$T/wl/result" 2>/dev/null)"
	local id pid
	id=$(podman inspect "$NAME" --format '{{.Id}}')
	pid=$(podman inspect "$NAME" --format '{{.State.Pid}}')
	# podman keeps runc's state in runc's default root
	run ocicr checkpoint -e "$T/ck.tar.zst" "$id"
	assert_success
	wait_gone "$pid"
	# name and image from containers/storage's record of the container
	tar -xOf "$T/ck.tar.zst" config.dump | python3 -c '
import json, sys
c = json.load(sys.stdin)
assert c["id"] == sys.argv[1] and c["name"] == sys.argv[2] and c["rootfsImageName"] == sys.argv[3], c
assert c["createNetNS"] and c["newNetworks"], c' "$id" "$NAME" "$IMAGE"
	# the changes from the overlay's upper layer, without overlayfs's own attributes
	tar -xOf "$T/ck.tar.zst" rootfs-diff.tar >"$T/diff.tar"
	tar -xOf "$T/ck.tar.zst" deleted.files >"$T/deleted"
	python3 - "$T/diff.tar" "$T/deleted" <<-'EOF'
		import json, sys, tarfile
		t = tarfile.open(sys.argv[1])
		names = t.getnames()
		assert "added" in names and "etc/changed" in names, names
		for m in t.getmembers():
		    assert not [k for k in m.pax_headers if "overlay" in k], (m.name, m.pax_headers)
		assert json.load(open(sys.argv[2])) == ["/etc/deleted"]
	EOF
	rm -f "$T/wl/result"
	pm container restore --import "$T/ck.tar.zst" --name "$NAME-r"
	assert_success
	restored_passes "$NAME-r" "$T/wl/result"
	# and ocicr restores the same archive itself, beside podman's
	mkdir -p "$T/wl2"
	NS=ocicr-ocipm-$$
	ip netns add "$NS"
	run ocicr restore --import "$T/ck.tar.zst" --bundle "$T/b2" --name "$NAME-o" --rootfs-base "$T/base" \
		--volume "$T/wl2:/wl" --netns "/run/netns/$NS" -d --pid-file "$T/pid2"
	assert_success
	RPID=$(cat "$T/pid2")
	wl_verdict_in "$T/wl2/result" "$RPID"
}

@test "checkpoint --create-image: the image (a layout pulled into podman's store, or put there by ocicr) restores with podman restore IMAGE" {
	runc_ctr
	# podman names what it pulls after the path, which must be lower case
	LAYOUT=/var/tmp/ocicr-ocipm-$$
	run ocicr checkpoint --runtime-root "$RUNC_ROOT" --rootfs-base "$T/base" --rootfs-image "$IMAGE" \
		--create-image "oci:$LAYOUT:ck" -R "$CTR"
	assert_success
	podman pull -q "oci:$LAYOUT:ck" >"$T/pulled" || fail "podman cannot pull the layout"
	podman tag "$(cat "$T/pulled")" "$NAME-layout:ck"
	run podman image inspect "$NAME-layout:ck" --format '{{index .Annotations "io.podman.annotations.checkpoint.name"}}'
	assert_output "$CTR"
	pm container restore --name "$NAME" "$NAME-layout:ck"
	assert_success
	restored_passes "$NAME" "$T/b/wl/result"
	# the same, straight into podman's store
	run ocicr checkpoint --runtime-root "$RUNC_ROOT" --rootfs-base "$T/base" --rootfs-image "$IMAGE" \
		--create-image "$CKIMAGE" "$CTR"
	assert_success
	rm -f "$T/b/wl/result"
	pm container restore --name "$NAME-r" "$CKIMAGE"
	assert_success
	restored_passes "$NAME-r" "$T/b/wl/result"
}

@test "an archive naming an image podman's store lacks: the checkpoint says so, podman's import fails and makes nothing" {
	runc_ctr
	run ocicr checkpoint --runtime-root "$RUNC_ROOT" --rootfs-base "$T/base" --rootfs-image localhost/ocicr-no-such:1 \
		-e "$T/ck.tar" -c none "$CTR"
	assert_success
	assert_output --partial "note: the image localhost/ocicr-no-such:1 is not in containers/storage here"
	pm container restore --import "$T/ck.tar" --name "$NAME"
	assert_failure
	run podman container exists "$NAME"
	assert_failure
}
