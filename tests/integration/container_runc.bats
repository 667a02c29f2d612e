#!/usr/bin/env bats
# A runc container, run from a bundle made here (`runc spec`, a busybox
# rootfs with the mntns workload as its process, a network namespace given
# by path, a host folder bound at /wl), checkpointed with `ocicr dump` and
# restored with `ocicr restore` on the command line with the options runc
# sends CRIU (see ../shared/docs/runtime-integration.md §5).  The workload
# checks its mount table, /dev and /dev/shm files, masked paths, /proc, host
# name, child and pid 1 after restore.
#
# Not yet here: cgroups are not managed (the restored tree stays in the
# restorer's cgroups).

load helpers

setup() {
	requires root runc ip python3
	[ -x /bin/busybox ] || skip "needs /bin/busybox (Debian package busybox-static)"
	[ -x "$WORKLOADS/mntns" ] || fail "$WORKLOADS/mntns is not built (make check builds it)"
	CT_DIR=$BATS_TEST_TMPDIR/ct
	BUNDLE=$CT_DIR/bundle
	ROOTFS=$BUNDLE/rootfs
	WL_DIR=$CT_DIR/wl
	RUNC_ROOT=$CT_DIR/runc
	CT_ID=ocicr-bats-$$
	NETNS=ocicr-bats-$$
	HOSTNAME=ocicr-mnt
}

teardown() {
	[ -f "$CT_DIR/pids" ] && while read -r p; do kill -9 "$p" 2>/dev/null; done <"$CT_DIR/pids"
	runc --root "$RUNC_ROOT" delete -f "$CT_ID" >/dev/null 2>&1
	ip netns del "$NETNS" 2>/dev/null
	return 0
}

make_bundle() {
	mkdir -p "$ROOTFS"/{bin,proc,sys,dev,tmp,wl,etc} "$WL_DIR" "$CT_DIR/img"
	cp /bin/busybox "$ROOTFS/bin/busybox"
	for c in sh ls cat mount ps; do ln -sf busybox "$ROOTFS/bin/$c"; done
	cp "$WORKLOADS/mntns" "$ROOTFS/mntns"
	ip netns add "$NETNS"
	ip -n "$NETNS" link set lo up
	"$REPO/scripts/runc-bundle-config" "$BUNDLE" --args "/mntns /wl/ready /wl/result" \
		--env MNTNS_MODE=runc --hostname "$HOSTNAME" --bind "/wl=$WL_DIR" --netns "/run/netns/$NETNS"
}

# What runc sends CRIU at dump (one argument a line): the root, every bind mount and cgroup v1
# hierarchy bound in (key = path), masked files (key /dev/null), the
# devices, and the network namespace given by path.
runc_dump_args() {
	local pid=$1 mp type
	printf '%s\n' --root "$ROOTFS"
	printf '%s\n' --ext-mount-map /wl:/wl
	while read -r mp type; do
		printf '%s\n' --ext-mount-map "$mp:$mp"
	done < <(awk '{ for (i = 7; $i != "-"; i++); if ($(i+1) == "cgroup") print $5, $(i+1) }' "/proc/$pid/mountinfo")
	for mp in /proc/acpi /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list /proc/timer_stats \
		/proc/sched_debug /proc/scsi; do
		[ -e "/proc/$pid/root$mp" ] && [ ! -d "/proc/$pid/root$mp" ] && printf '%s\n' --ext-mount-map "$mp:/dev/null"
	done
	for mp in /dev/null /dev/random /dev/full /dev/tty /dev/zero /dev/urandom; do
		printf '%s\n' --ext-mount-map "$mp:$mp"
	done
	printf '%s\n' --external "net[$(stat -L -c %i "/run/netns/$NETNS")]:extRootNetNS"
}

# ... and at restore: key -> host path (cgroups not managed: each
# hierarchy's root); the network namespace comes as fd 4 (the caller opens
# it), as runc passes it.
runc_restore_args() {
	local mp
	printf '%s\n' --root "$ROOTFS"
	printf '%s\n' --ext-mount-map "/wl:$WL_DIR"
	printf '%s\n' --ext-mount-map /dev/null:/dev/null
	for mp in $(crit_get "$CT_DIR/img/mountpoints-$MNT_ID.img" \
		'" ".join(e["ext_key"] for e in img["entries"] if e.get("ext_key", "").startswith("/sys/fs/cgroup/"))'); do
		printf '%s\n' --ext-mount-map "$mp:$mp"
	done
	printf '%s\n' --inherit-fd "fd[4]:extRootNetNS"
}

@test "container: a runc container (mount, pid, uts, ipc namespaces, netns by path, a bound host folder) is checkpointed and restored by ocicr" {
	make_bundle
	# Its stdio (runc's) are /dev/null, which it finds again in its /dev;
	# none of our other fds goes with it.
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
		done
		exec runc --root "$RUNC_ROOT" run -d --bundle "$BUNDLE" "$CT_ID" </dev/null >/dev/null 2>&1
	) || fail "runc run failed (runc --root $RUNC_ROOT run -d --bundle $BUNDLE $CT_ID)"
	pid=$(runc --root "$RUNC_ROOT" state "$CT_ID" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	echo "$pid" >>"$CT_DIR/pids"
	wait_for 30 test -s "$WL_DIR/ready" || fail "the container's workload is not ready: $(cat "$WL_DIR/result" 2>/dev/null)"

	mapfile -t dump_args < <(runc_dump_args "$pid")
	run ocicr dump -t "$pid" -D "$CT_DIR/img" -o dump.log -v4 "${dump_args[@]}"
	[ "$status" -eq 0 ] || {
		show_log "$CT_DIR/img/dump.log"
		fail "ocicr dump failed: $output"
	}
	wait_gone "$pid"
	runc --root "$RUNC_ROOT" delete -f "$CT_ID"
	MNT_ID=$(crit_get "$CT_DIR/img/ids-1.img" 'img["entries"][0]["mnt_ns_id"]')
	# The root file system is --root's; binds and cgroups are external.
	run crit_get "$CT_DIR/img/mountpoints-$MNT_ID.img" \
		'sorted(e["ext_key"] for e in img["entries"] if e.get("ext_key") and not e["ext_key"].startswith("/sys/fs/cgroup/"))'
	assert_output --regexp "^\['/dev/null', ('/dev/null', )*'/wl'\]$"

	mapfile -t restore_args < <(runc_restore_args)
	run ocicr restore -D "$CT_DIR/img" -d -o restore.log -v4 --pidfile "$CT_DIR/restored.pid" "${restore_args[@]}" \
		4<"/run/netns/$NETNS"
	[ "$status" -eq 0 ] || {
		show_log "$CT_DIR/img/restore.log"
		fail "ocicr restore failed: $output"
	}
	pid=$(cat "$CT_DIR/restored.pid")
	echo "$pid" >>"$CT_DIR/pids"
	[ "$(stat -L -c %i "/proc/$pid/ns/net")" = "$(stat -L -c %i "/run/netns/$NETNS")" ] ||
		fail "the restored container is not in $NETNS"
	[ "$(grep -c " $ROOTFS" /proc/self/mountinfo)" = 0 ] || fail "container mounts seen by the host"
	wl_verdict_in "$WL_DIR/result" "$pid"
}

# CRIU 4.2's checkpoint of a runc container (../shared/fixtures/criu-4.2-ctr,
# made by runc 1.1.5 with CRIU 4.2), restored by ocicr under other paths
# with what runc would send: its bundle's rootfs, the externals by key, the
# network namespace and the stdio pipes as inherited fds.
@test "container: CRIU 4.2's checkpoint of a runc container restores with ocicr under new paths and passes" {
	requires shared
	local fx=$SHARED/fixtures
	mkdir -p "$ROOTFS"/{proc,dev,sys,tmp,wl} "$WL_DIR"
	install -m 0755 "$fx/bin/ctrinit" "$ROOTFS/init"
	ip netns add "$NETNS"
	ip -n "$NETNS" link set lo up
	cp -r "$fx/criu-4.2-ctr/images" "$CT_DIR/img"
	args=(--root "$ROOTFS" --ext-mount-map "/wl:$WL_DIR" --ext-mount-map /dev/null:/dev/null)
	for c in systemd pids blkio freezer devices memory cpuset cpuacct cpu; do
		args+=(--ext-mount-map "/sys/fs/cgroup/$c:/sys/fs/cgroup/$c")
	done
	# descriptors.json: fd 0 was pipe:[937131], fds 1 and 2 pipe:[938047].
	run ocicr restore -D "$CT_DIR/img" -d -o restore.log -v4 --pidfile "$CT_DIR/restored.pid" "${args[@]}" \
		--inherit-fd 'fd[4]:extRootNetNS' --inherit-fd 'fd[5]:pipe:[937131]' --inherit-fd 'fd[6]:pipe:[938047]' \
		4<"/run/netns/$NETNS" 5</dev/null 6>"$CT_DIR/stdout"
	[ "$status" -eq 0 ] || {
		show_log "$CT_DIR/img/restore.log"
		fail "ocicr restore failed: $output"
	}
	pid=$(cat "$CT_DIR/restored.pid")
	echo "$pid" >>"$CT_DIR/pids"
	[ "$(stat -L -c %i "/proc/$pid/ns/net")" = "$(stat -L -c %i "/run/netns/$NETNS")" ] || fail "not in $NETNS"
	[ "$(nsenter -t "$pid" -u hostname)" = fixture-ctr ] || fail "host name: $(nsenter -t "$pid" -u hostname)"
	wl_verdict_in "$WL_DIR/result" "$pid"
}
