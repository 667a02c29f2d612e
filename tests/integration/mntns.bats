#!/usr/bin/env bats
# Mount namespaces: a container's mount tree (tests/workloads/mntns.c makes
# it under its rootfs and pivots into it, as pid 1 of `unshare --pid
# --mount --uts --ipc`) is dumped into CRIU's mountpoints image with the
# tmpfs contents, and restored under --root with its external mounts
# given by key; the workload checks its mount table, files, masked paths,
# propagation, host name and child after restore.

load helpers

# A CRIU 4.2 built outside the repo, for the comparisons below (they skip
# without one): CRIU_REF=/path/to/criu bats tests/integration/mntns.bats
CRIU_REF=${CRIU_REF:-}

setup() {
	requires root unshare
	[ -x "$WORKLOADS/mntns" ] || fail "$WORKLOADS/mntns is not built (make check builds it)"
	WL_DIR=$BATS_TEST_TMPDIR/mnt
	ROOTFS=$WL_DIR/rootfs
}

teardown() {
	local p
	[ -f "$BATS_TEST_TMPDIR/mnt-pids" ] || return 0
	while read -r p; do
		kill -9 "$p" 2>/dev/null
	done <"$BATS_TEST_TMPDIR/mnt-pids"
	while read -r p; do
		wait_for 20 pid_gone "$p"
	done <"$BATS_TEST_TMPDIR/mnt-pids"
	rm -f "$BATS_TEST_TMPDIR/mnt-pids"
}

# The container: a rootfs with the workload, started as pid 1 of its
# namespaces; WL_PID is that pid 1 (seen from here).
mnt_start() {
	mkdir -p "$WL_DIR/img" "$ROOTFS"/{tmp,proc,sys,dev,wl,etc,sha,shb}
	cp "$WORKLOADS/mntns" "$ROOTFS/mntns"
	: >"$ROOTFS/etc/hosts"
	: >"$ROOTFS/etc/hostname"
	echo "127.0.0.1 ocicr-host" >"$WL_DIR/hosts"
	rm -f "$WL_DIR/ready" "$WL_DIR/result"
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
		done
		cd "$WL_DIR" || exit 1
		setsid unshare --pid --mount --uts --ipc --fork setsid "$ROOTFS/mntns" "$WL_DIR/ready" "$WL_DIR/result" \
			</dev/null >/dev/null 2>&1 &
		echo $! >"$WL_DIR/outer"
	)
	echo "$(cat "$WL_DIR/outer")" >>"$BATS_TEST_TMPDIR/mnt-pids"
	wait_for 30 mnt_settled || fail "mntns did not become ready in 30 s"
	[ -s "$WL_DIR/ready" ] || fail "mntns did not start: $(cat "$WL_DIR/result" 2>/dev/null || echo exited)"
	WL_PID=$(pgrep -P "$(cat "$WL_DIR/outer")" | head -1)
	[ -n "$WL_PID" ] || fail "no pid 1 under $(cat "$WL_DIR/outer")"
	echo "$WL_PID" >>"$BATS_TEST_TMPDIR/mnt-pids"
}

mnt_settled() {
	[ -s "$WL_DIR/ready" ] || [ -s "$WL_DIR/result" ]
}

DUMP_EXT=(--external "mnt[/wl]:wl" --external "mnt[/etc/hosts]:hosts")

mnt_dump() {
	wl_dump --root "$ROOTFS" "${DUMP_EXT[@]}" "$@"
}

restore_ext() {
	echo --external "mnt[wl]:$WL_DIR" --ext-mount-map "hosts:$WL_DIR/hosts"
}

# Mounts of ours the host can see (there must be none).
host_mounts() {
	grep -c " $ROOTFS" /proc/self/mountinfo || true
}

# mnt_restore DIR: restore the images in DIR with the tree's root and
# externals; WL_PID is the restored pid 1.
mnt_restore() {
	# shellcheck disable=SC2046
	must_cr ocicr restore "$1" -d --root "$ROOTFS" $(restore_ext) --pidfile "$WL_DIR/restored.pid"
	WL_PID=$(cat "$WL_DIR/restored.pid")
	echo "$WL_PID" >>"$BATS_TEST_TMPDIR/mnt-pids"
}

no_restored_task() {
	! pgrep -f "$ROOTFS/mntns" >/dev/null && ! pgrep -x mntns >/dev/null
}

@test "mntns: a container's mount tree, tmpfs files, masked paths and peers survive dump and restore under --root" {
	mnt_start
	mnt_dump
	mnt_id=$(crit_get "$WL_DIR/img/ids-1.img" 'img["entries"][0]["mnt_ns_id"]')
	[ -e "$WL_DIR/img/mountpoints-$mnt_id.img" ] || fail "no mountpoints-$mnt_id.img: $(ls "$WL_DIR/img")"
	# /tmp, /dev, /dev/shm, /sys/firmware, /sha: five tmpfs, five tars.
	[ "$(compgen -G "$WL_DIR/img/tmpfs-dev-*.tar.gz.img" | wc -l)" = 5 ] ||
		fail "tmpfs images: $(ls "$WL_DIR/img")"
	# Externals keep their keys, not host paths of the restore.
	run crit_get "$WL_DIR/img/mountpoints-$mnt_id.img" \
		'sorted((e["mountpoint"], e.get("ext_key", "")) for e in img["entries"] if e.get("ext_key"))'
	assert_output "[('/etc/hosts', 'hosts'), ('/wl', 'wl')]"
	wait_gone "$WL_PID"
	[ "$(host_mounts)" = 0 ] || fail "mounts of the dumped tree left: $(grep " $ROOTFS" /proc/self/mountinfo)"
	mnt_restore "$WL_DIR/img"
	# Built in the tree's own namespace: nothing shows out here.
	[ "$(host_mounts)" = 0 ] || fail "restored mounts seen by the host: $(grep " $ROOTFS" /proc/self/mountinfo)"
	[ "$(readlink "/proc/$WL_PID/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] || fail "no mount namespace of its own"
	wl_verdict_in "$WL_DIR/result" "$WL_PID"
}

@test "mntns: the mountpoints image is CRIU 4.2's, entry for entry, for the same tree; the tmpfs tars hold the same files; CRIU's images restore with ocicr" {
	[ -x "$CRIU_REF" ] || skip "a comparison with CRIU 4.2: set CRIU_REF to a CRIU built outside the repo"
	requires crit
	mnt_start
	mkdir -p "$WL_DIR/criu"
	run "$CRIU_REF" dump -t "$WL_PID" -D "$WL_DIR/criu" -R -o dump.log -v4 --root "$ROOTFS" "${DUMP_EXT[@]}"
	[ "$status" -eq 0 ] || {
		show_log "$WL_DIR/criu/dump.log"
		fail "CRIU dump failed"
	}
	mnt_dump
	for dir in criu img; do
		id=$(crit_get "$WL_DIR/$dir/ids-1.img" 'img["entries"][0]["mnt_ns_id"]')
		crit_get "$WL_DIR/$dir/mountpoints-$id.img" \
			'"\n".join(json.dumps(e, sort_keys=True) for e in img["entries"])' >"$WL_DIR/$dir.mnts"
		(cd "$WL_DIR/$dir" && for t in tmpfs-dev-*.tar.gz.img; do
			echo "$t"
			tar tzvf "$t" | sort
		done) >"$WL_DIR/$dir.tars"
	done
	run diff "$WL_DIR/criu.mnts" "$WL_DIR/img.mnts"
	assert_success
	[ "$(wc -l <"$WL_DIR/img.mnts")" -ge 15 ] || fail "only $(wc -l <"$WL_DIR/img.mnts") mounts"
	run diff "$WL_DIR/criu.tars" "$WL_DIR/img.tars"
	assert_success
	wait_gone "$WL_PID"
	mnt_restore "$WL_DIR/criu"
	wl_verdict_in "$WL_DIR/result" "$WL_PID"
}

@test "mntns: ocicr's images of the tree restore with CRIU 4.2" {
	[ -x "$CRIU_REF" ] || skip "a comparison with CRIU 4.2: set CRIU_REF to a CRIU built outside the repo"
	mnt_start
	mnt_dump
	wait_gone "$WL_PID"
	run "$CRIU_REF" restore -D "$WL_DIR/img" -d -o criu-restore.log -v4 --root "$ROOTFS" \
		--external "mnt[wl]:$WL_DIR" --external "mnt[hosts]:$WL_DIR/hosts" --pidfile "$WL_DIR/restored.pid"
	[ "$status" -eq 0 ] || {
		show_log "$WL_DIR/img/criu-restore.log"
		fail "CRIU's restore failed"
	}
	WL_PID=$(cat "$WL_DIR/restored.pid")
	echo "$WL_PID" >>"$BATS_TEST_TMPDIR/mnt-pids"
	wl_verdict_in "$WL_DIR/result" "$WL_PID"
}

# A removed file the tree holds open is made again (a ghost) in its mount
# tree and removed there once the tree has it: never at the same path in
# ocicr's own mount namespace, where the host may have a file of its own.
@test "mntns: a removed file held open in the tree comes back, and the host's file of the same path stays" {
	local probe=/tmp/ocicr-ghost-probe-$$-$BATS_TEST_NUMBER
	MNTNS_GHOST=$probe mnt_start
	mnt_dump
	wait_gone "$WL_PID"
	echo "the host's own" >"$probe"
	mnt_restore "$WL_DIR/img"
	[ -e "$probe" ] || fail "the restore removed the host's $probe"
	rm -f "$probe"
	wl_verdict_in "$WL_DIR/result" "$WL_PID"
}

@test "mntns: an overlay mount in the tree is refused by name, and the tree runs on" {
	requires python3
	mnt_start
	# Made from inside the tree's namespace, where its paths are.
	python3 - "$WL_PID" <<-'EOF'
		import ctypes, os, sys
		libc = ctypes.CDLL(None, use_errno=True)
		pid = sys.argv[1]
		fd = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY)
		[os.makedirs(f"/proc/{pid}/root/tmp/{d}", exist_ok=True) for d in ("lo", "up", "wk", "ovl")]
		opts = b"lowerdir=/tmp/lo,upperdir=/tmp/up,workdir=/tmp/wk"
		if libc.setns(fd, 0x00020000) or libc.mount(b"overlay", b"/tmp/ovl", b"overlay", 0, opts):
		    sys.exit(os.strerror(ctypes.get_errno()))
	EOF
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/img" --root "$ROOTFS" "${DUMP_EXT[@]}"
	assert_failure
	assert_output --regexp "mount [0-9]+ at /tmp/ovl: a overlay file system \(source overlay\) cannot be made again"
	assert_output --partial "--external mnt[/tmp/ovl]:KEY"
	[ ! -e "$WL_DIR/img/inventory.img" ] || fail "an inventory was written"
	[ "$(task_state "$WL_PID")" != t ] || fail "$WL_PID is still traced"
	# Named external, it is not saved and the dump goes through.
	mnt_dump --external "mnt[/tmp/ovl]:ovl"
	run crit_get "$WL_DIR/img/mountpoints-$(crit_get "$WL_DIR/img/ids-1.img" 'img["entries"][0]["mnt_ns_id"]').img" \
		'[(e["fstype"], e["ext_key"]) for e in img["entries"] if e["mountpoint"] == "/tmp/ovl"]'
	assert_output "[(17, 'ovl')]"
}

@test "mntns: a restore without its root or an external mount fails naming it, and leaves no task and no mount" {
	mnt_start
	mnt_dump
	wait_gone "$WL_PID"
	# shellcheck disable=SC2046
	run ocicr restore -D "$WL_DIR/img" -d $(restore_ext)
	assert_failure
	assert_output --partial "give its root file system with --root DIR"
	# shellcheck disable=SC2046
	run ocicr restore -D "$WL_DIR/img" -d --root "$WL_DIR/nonexistent" $(restore_ext)
	assert_failure
	assert_output --partial "--root $WL_DIR/nonexistent: No such file or directory"
	run ocicr restore -D "$WL_DIR/img" -d --root "$ROOTFS" --external "mnt[wl]:$WL_DIR"
	assert_failure
	assert_output --partial "external mount hosts (at /etc/hosts) is not given: --external mnt[hosts]:PATH"
	no_restored_task || fail "tasks left: $(pgrep -af mntns)"
	# A host path that is not there fails midway through the tree: what
	# was mounted dies with the namespace.
	run ocicr restore -D "$WL_DIR/img" -d --root "$ROOTFS" --external "mnt[wl]:$WL_DIR" \
		--external "mnt[hosts]:$WL_DIR/no-such-file"
	assert_failure
	assert_output --partial "/etc/hosts"
	[ "$(host_mounts)" = 0 ] || fail "mounts left: $(grep " $ROOTFS" /proc/self/mountinfo)"
	no_restored_task || fail "tasks left: $(pgrep -af mntns)"
}

@test "mntns: a restore that fails on a file of the built tree leaves no task and no mount" {
	mnt_start
	mnt_dump
	wait_gone "$WL_PID"
	# The workload's binary changed: its mapping cannot be opened again.
	cp "$ROOTFS/mntns" "$ROOTFS/mntns.orig"
	printf 'x' >>"$ROOTFS/mntns"
	# shellcheck disable=SC2046
	run ocicr restore -D "$WL_DIR/img" -d --root "$ROOTFS" $(restore_ext)
	assert_failure
	assert_output --partial "mntns changed since the dump"
	[ "$(host_mounts)" = 0 ] || fail "mounts left: $(grep " $ROOTFS" /proc/self/mountinfo)"
	no_restored_task || fail "tasks left: $(pgrep -af mntns)"
}
