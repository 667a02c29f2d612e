#!/usr/bin/env bats
# A runc container, run from a bundle made here (`runc spec`, a busybox
# rootfs with the mntns workload as its process; every namespace runc makes,
# cgroup included, but the network namespace, given by path; a seccomp
# filter, a pids limit, a host folder bound at /wl), checkpointed with
# `ocicr dump` and restored with `ocicr restore` on the command line with
# the options runc sends CRIU (see ../shared/docs/runtime-integration.md
# §5).  The runc container is deleted in between, its cgroups with it: the
# restore makes them again with their limits (--manage-cgroups soft).  The
# workload checks its mount table, /dev and /dev/shm files, masked paths,
# /proc, host name, SysV objects, seccomp rule, capabilities, cgroups and
# pids limit seen from inside, child and pid 1 after restore.

load helpers

# A CRIU 4.2 built outside the repo, for the comparisons below (they skip
# without one): CRIU_REF=/path/to/criu bats tests/integration/container_runc.bats
CRIU_REF=${CRIU_REF:-}

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
	PIDS_MAX=64
}

teardown() {
	[ -f "$CT_DIR/pids" ] && while read -r p; do kill -9 "$p" 2>/dev/null; done <"$CT_DIR/pids"
	runc --root "$RUNC_ROOT" delete -f "$CT_ID" >/dev/null 2>&1
	ip netns del "$NETNS" 2>/dev/null
	# The cgroups the restore made (runc's are gone with the container).
	[ -f "$CT_DIR/pids" ] && while read -r p; do wait_for 10 pid_gone "$p"; done <"$CT_DIR/pids"
	find /sys/fs/cgroup -depth -type d -name "$CT_ID" -exec rmdir {} + 2>/dev/null
	return 0
}

make_bundle() {
	mkdir -p "$ROOTFS"/{bin,proc,sys,dev,tmp,wl,etc} "$WL_DIR" "$CT_DIR/img"
	cp /bin/busybox "$ROOTFS/bin/busybox"
	for c in sh ls cat mount ps; do ln -sf busybox "$ROOTFS/bin/$c"; done
	cp "$WORKLOADS/mntns" "$ROOTFS/mntns"
	ip netns add "$NETNS"
	ip -n "$NETNS" link set lo up
	# In a user namespace, runc's own network namespace: sysfs needs one
	# that the user namespace owns.
	local netns_args=(--netns "/run/netns/$NETNS")
	[ -z "${CT_USERNS:-}" ] || netns_args=()
	# The filter fails getpriority with ENOMSG (42), as the workload expects.
	"$REPO/scripts/runc-bundle-config" "$BUNDLE" --args "/mntns /wl/ready /wl/result" \
		--env MNTNS_MODE=runc --env "MNTNS_PIDS_MAX=$PIDS_MAX" --hostname "$HOSTNAME" \
		--bind "/wl=$WL_DIR" "${netns_args[@]}" --cgroupns --pids-limit "$PIDS_MAX" \
		--seccomp-errno getpriority=42 ${CT_USERNS:+--userns "$CT_USERNS" --env MNTNS_USERNS=1}
}

# What runc sends CRIU at dump (one argument a line): the root, every bind
# mount (key = path), masked files (key /dev/null), the devices, and the
# network namespace given by path.  With a cgroup namespace, the cgroup
# mounts are the container's own and not named.
runc_dump_args() {
	local pid=$1 mp
	printf '%s\n' --root "$ROOTFS"
	printf '%s\n' --ext-mount-map /wl:/wl
	for mp in /proc/acpi /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list /proc/timer_stats \
		/proc/sched_debug /proc/scsi; do
		[ -e "/proc/$pid/root$mp" ] && [ ! -d "/proc/$pid/root$mp" ] && printf '%s\n' --ext-mount-map "$mp:/dev/null"
	done
	for mp in /dev/null /dev/random /dev/full /dev/tty /dev/zero /dev/urandom; do
		printf '%s\n' --ext-mount-map "$mp:$mp"
	done
	[ -n "${CT_USERNS:-}" ] || printf '%s\n' --external "net[$(stat -L -c %i "/run/netns/$NETNS")]:extRootNetNS"
}

# ... and at restore: key -> host path; the network namespace comes as fd
# 4 (the caller opens it), as runc passes it.
runc_restore_args() {
	printf '%s\n' --root "$ROOTFS"
	printf '%s\n' --ext-mount-map "/wl:$WL_DIR"
	printf '%s\n' --ext-mount-map /dev/null:/dev/null
	[ -n "${CT_USERNS:-}" ] || printf '%s\n' --inherit-fd "fd[4]:extRootNetNS"
	# In a user namespace runc binds the devices in instead of making them.
	local dev
	for dev in /dev/random /dev/full /dev/tty /dev/zero /dev/urandom; do
		[ -z "${CT_USERNS:-}" ] || printf '%s\n' --ext-mount-map "$dev:$dev"
	done
}

# ct_run: make the bundle and run it; CT_PID is the container's init.
ct_run() {
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
	CT_PID=$(runc --root "$RUNC_ROOT" state "$CT_ID" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	echo "$CT_PID" >>"$CT_DIR/pids"
	wait_for 30 test -s "$WL_DIR/ready" || fail "the container's workload is not ready: $(cat "$WL_DIR/result" 2>/dev/null)"
	[ "$(readlink "/proc/$CT_PID/ns/cgroup")" != "$(readlink /proc/self/ns/cgroup)" ] || fail "runc made no cgroup namespace"
}

# ct_dump CRIU DIR [ARGS...]: checkpoint the container into DIR with CRIU
# (ocicr, or a CRIU 4.2) and the options runc sends.
ct_dump() {
	local criu=$1 dir=$2 dump_args
	shift 2
	mapfile -t dump_args < <(runc_dump_args "$CT_PID")
	mkdir -p "$dir"
	must_cr "$criu" dump "$dir" -t "$CT_PID" --manage-cgroups "${dump_args[@]}" "$@"
}

# ct_delete: the dumped container gone, runc deletes it, its cgroups too.
ct_delete() {
	wait_gone "$CT_PID"
	runc --root "$RUNC_ROOT" delete -f "$CT_ID"
	[ ! -e "/sys/fs/cgroup/pids/$CT_ID" ] || fail "runc left the container's pids cgroup"
}

# ct_restore CRIU DIR: restore DIR with CRIU; CT_PID is the new init.
ct_restore() {
	local criu=$1 dir=$2 restore_args
	mapfile -t restore_args < <(runc_restore_args)
	must_cr "$criu" restore "$dir" -d --pidfile "$CT_DIR/restored.pid" --manage-cgroups "${restore_args[@]}" \
		4<"/run/netns/$NETNS"
	CT_PID=$(cat "$CT_DIR/restored.pid")
	echo "$CT_PID" >>"$CT_DIR/pids"
}

# The restored container, seen from here, then its workload's verdict.
ct_check() {
	local pid=$CT_PID
	[ -n "${CT_USERNS:-}" ] || [ "$(stat -L -c %i "/proc/$pid/ns/net")" = "$(stat -L -c %i "/run/netns/$NETNS")" ] ||
		fail "the restored container is not in $NETNS"
	for ns in pid mnt uts ipc cgroup ${CT_USERNS:+net user}; do
		[ "$(readlink "/proc/$pid/ns/$ns")" != "$(readlink "/proc/self/ns/$ns")" ] || fail "restored in our $ns namespace"
	done
	[ "$(grep -c " $ROOTFS" /proc/self/mountinfo)" = 0 ] || fail "container mounts seen by the host"
	# Its cgroups were made again, with the limit runc had set.
	[ "$(sed -n 's/^[0-9]*:pids://p' "/proc/$pid/cgroup")" = "/$CT_ID" ] ||
		fail "the restored init is in pids cgroup $(sed -n 's/^[0-9]*:pids://p' "/proc/$pid/cgroup")"
	assert_equal "$(cat "/sys/fs/cgroup/pids/$CT_ID/pids.max")" "$PIDS_MAX"
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$pid/status" || fail "no seccomp filter: $(grep Seccomp "/proc/$pid/status")"
	wl_verdict_in "$WL_DIR/result" "$pid"
}

@test "container: a runc container (every namespace, netns by path, seccomp, a pids limit, a bound host folder, SysV objects, a child) is checkpointed and restored by ocicr" {
	ct_run
	# runc's device rules (v1): made again with the cgroup.
	local devices=/sys/fs/cgroup/devices/$CT_ID
	grep -q "1:3 rwm" "$devices/devices.list" || fail "runc set no device rules in $devices"
	sort "$devices/devices.list" >"$CT_DIR/devices.before"
	ct_dump ocicr "$CT_DIR/img"
	ct_delete
	MNT_ID=$(crit_get "$CT_DIR/img/ids-1.img" 'img["entries"][0]["mnt_ns_id"]')
	# The root file system is --root's; binds are external; the cgroup
	# mounts are the namespace's own, rooted at its root.
	run crit_get "$CT_DIR/img/mountpoints-$MNT_ID.img" 'sorted(e["ext_key"] for e in img["entries"] if e.get("ext_key"))'
	assert_output --regexp "^\['/dev/null', ('/dev/null', )*'/wl'\]$"
	run crit_get "$CT_DIR/img/mountpoints-$MNT_ID.img" \
		'sorted(set(e["root"] for e in img["entries"] if e["mountpoint"].startswith("/sys/fs/cgroup/")))'
	assert_output "['/']"
	# Files name their mounts, as CRIU's do: the exe, /dev/null, the root.
	ids=$(crit_get "$CT_DIR/img/mountpoints-$MNT_ID.img" '" ".join(str(e["mnt_id"]) for e in img["entries"])')
	run crit_get "$CT_DIR/img/files.img" \
		'sorted(set((f["reg"]["name"], str(f["reg"].get("mnt_id")) in "'"$ids"'".split()) for f in img["entries"] if "reg" in f))'
	assert_output "[('/', True), ('/dev/null', True), ('/mntns', True)]"
	ct_restore ocicr "$CT_DIR/img"
	ct_check
	run diff "$CT_DIR/devices.before" <(sort "$devices/devices.list")
	assert_success
}

# A dump that fails after the container was frozen through its freezer
# cgroup and seized (its bind mount /wl not named external) leaves it
# running: thawed, untraced, and a good checkpoint of it passes after.
@test "container: a failed dump leaves the container running, its freezer cgroup thawed and its tasks untraced" {
	ct_run
	local freezer=/sys/fs/cgroup/freezer/$CT_ID dump_args i args=()
	[ -d "$freezer" ] || skip "runc made no v1 freezer cgroup"
	mapfile -t dump_args < <(runc_dump_args "$CT_PID")
	for ((i = 0; i < ${#dump_args[@]}; i++)); do
		if [ "${dump_args[i]}" = --ext-mount-map ] && [ "${dump_args[i + 1]}" = /wl:/wl ]; then
			i=$((i + 1))
			continue
		fi
		args+=("${dump_args[i]}")
	done
	run ocicr dump -t "$CT_PID" -D "$CT_DIR/img" -o dump.log -v4 --manage-cgroups --freeze-cgroup "$freezer" "${args[@]}"
	assert_failure
	assert_output --partial "/wl"
	grep -q "Froze cgroup $freezer" "$CT_DIR/img/dump.log" || fail "the dump did not freeze $freezer"
	assert_equal "$(cat "$freezer/freezer.state")" THAWED
	[ ! -e "$CT_DIR/img/inventory.img" ] || fail "the failed dump left an image set"
	for p in $(cat "$freezer/tasks"); do
		assert_equal "$(sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$p/status")" 0
		grep -q '^State:[[:space:]]*[RS]' "/proc/$p/status" || fail "task $p: $(grep State "/proc/$p/status")"
	done
	assert_equal "$(runc --root "$RUNC_ROOT" state "$CT_ID" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" running
	rm -rf "$CT_DIR/img"
	ct_dump ocicr "$CT_DIR/img"
	ct_delete
	ct_restore ocicr "$CT_DIR/img"
	ct_check
}

# A restore that fails once every task is in (its post-restore action
# fails) leaves nothing: no task, no mount, no cgroup it made.
@test "container: a restore that fails late leaves no task, no mount and no cgroup behind" {
	local restore_args
	ct_run
	ct_dump ocicr "$CT_DIR/img"
	ct_delete
	printf '#!/bin/sh\n[ "$CRTOOLS_SCRIPT_ACTION" = post-restore ] && exit 3\nexit 0\n' >"$CT_DIR/fail-post-restore"
	chmod +x "$CT_DIR/fail-post-restore"
	mapfile -t restore_args < <(runc_restore_args)
	run ocicr restore -D "$CT_DIR/img" -d -o restore.log -v4 --pidfile "$CT_DIR/restored.pid" \
		--manage-cgroups --action-script "$CT_DIR/fail-post-restore" "${restore_args[@]}" 4<"/run/netns/$NETNS"
	assert_failure
	grep -q "post-restore" "$CT_DIR/img/restore.log" || fail "the restore did not get to post-restore"
	[ ! -e "$CT_DIR/restored.pid" ] || fail "a pid file was written"
	# Its tasks were in the cgroups the restore made: with those gone,
	# so are they.
	run find /sys/fs/cgroup -maxdepth 2 -type d -name "$CT_ID"
	assert_output ""
	[ "$(grep -c " $ROOTFS" /proc/self/mountinfo)" = 0 ] || fail "mounts left: $(grep " $ROOTFS" /proc/self/mountinfo)"
	# The same images restore.
	ct_restore ocicr "$CT_DIR/img"
	ct_check
}

# The same container checkpointed by CRIU 4.2 (leaving it running) and
# then by ocicr: the images hold the same state, as ctr_images.py shows it
# (what it leaves out differs by design), and CRIU's restore with ocicr.
@test "container: CRIU 4.2's images of the runc container are ocicr's, and restore with ocicr" {
	[ -x "$CRIU_REF" ] || skip "a comparison with CRIU 4.2: set CRIU_REF to a CRIU built outside the repo"
	ct_run
	ct_dump "$CRIU_REF" "$CT_DIR/criu" -R
	ct_dump ocicr "$CT_DIR/img"
	ct_delete
	python3 "$BATS_TEST_DIRNAME/ctr_images.py" "$OCICR" "$CT_DIR/criu" >"$CT_DIR/criu.txt"
	python3 "$BATS_TEST_DIRNAME/ctr_images.py" "$OCICR" "$CT_DIR/img" >"$CT_DIR/img.txt"
	[ "$(grep -c '^mountpoints-' "$CT_DIR/img.txt")" = 2 ] || fail "no mount tree compared"
	run diff "$CT_DIR/criu.txt" "$CT_DIR/img.txt"
	assert_success
	ct_restore ocicr "$CT_DIR/criu"
	ct_check
}

@test "container: ocicr's images of the runc container restore with CRIU 4.2" {
	[ -x "$CRIU_REF" ] || skip "a comparison with CRIU 4.2: set CRIU_REF to a CRIU built outside the repo"
	ct_run
	ct_dump ocicr "$CT_DIR/img"
	ct_delete
	ct_restore "$CRIU_REF" "$CT_DIR/img"
	ct_check
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

# ct_userns: the next container in a user namespace (uids and gids 0-65535
# are 100000-165535 outside); its root, uid 100000 here, writes in /wl.
ct_userns() {
	CT_USERNS=100000:65536
	mkdir -p "$WL_DIR"
	chown 100000:100000 "$WL_DIR"
	local d=$BATS_TEST_TMPDIR
	while [ "$d" != / ]; do
		chmod a+x "$d"
		d=$(dirname "$d")
	done
}

# The same container in a user namespace (uids and gids 0-65535 are
# 100000-165535 outside): ocicr saves its maps and makes it again first,
# the others under it; inside, the workload finds everything as it was.
@test "container: a runc container with a user namespace is checkpointed and restored by ocicr in a new one with its maps" {
	ct_userns
	ct_run
	[ "$(readlink "/proc/$CT_PID/ns/user")" != "$(readlink /proc/self/ns/user)" ] || fail "runc made no user namespace"
	ct_dump ocicr "$CT_DIR/img"
	ct_delete
	USER_ID=$(crit_get "$CT_DIR/img/ids-1.img" 'img["entries"][0]["user_ns_id"]')
	run crit_get "$CT_DIR/img/userns-$USER_ID.img" \
		'[(m["first"], m["lower_first"], m["count"]) for k in ("uid_map", "gid_map") for m in img["entries"][0][k]]'
	assert_output "[(0, 100000, 65536), (0, 100000, 65536)]"
	ct_restore ocicr "$CT_DIR/img"
	[ "$(readlink "/proc/$CT_PID/ns/user")" != "$(readlink /proc/self/ns/user)" ] || fail "restored in our user namespace"
	assert_equal "$(cat "/proc/$CT_PID/uid_map" | tr -s ' ')" " 0 100000 65536"
	assert_equal "$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$CT_PID/status")" 100000
	ct_check
}

@test "container: CRIU 4.2's images of the runc container with a user namespace are ocicr's, and restore with ocicr" {
	[ -x "$CRIU_REF" ] || skip "a comparison with CRIU 4.2: set CRIU_REF to a CRIU built outside the repo"
	ct_userns
	ct_run
	ct_dump "$CRIU_REF" "$CT_DIR/criu" -R
	ct_dump ocicr "$CT_DIR/img"
	ct_delete
	for dir in criu img; do
		id=$(crit_get "$CT_DIR/$dir/ids-1.img" 'img["entries"][0]["user_ns_id"]')
		crit_get "$CT_DIR/$dir/userns-$id.img" 'img["entries"][0]' >"$CT_DIR/$dir-userns.txt"
		# (Its own network namespace: CRIU saves its sysctls, ocicr not
		# yet (issue 19); the rest must be the same.)
		python3 "$BATS_TEST_DIRNAME/ctr_images.py" "$OCICR" "$CT_DIR/$dir" | grep -v '^netns-' >"$CT_DIR/$dir.txt"
	done
	run diff "$CT_DIR/criu-userns.txt" "$CT_DIR/img-userns.txt"
	assert_success
	run diff "$CT_DIR/criu.txt" "$CT_DIR/img.txt"
	assert_success
	ct_restore ocicr "$CT_DIR/criu"
	[ "$(readlink "/proc/$CT_PID/ns/user")" != "$(readlink /proc/self/ns/user)" ] || fail "restored in our user namespace"
	ct_check
}

@test "container: ocicr's images of the runc container with a user namespace restore with CRIU 4.2" {
	[ -x "$CRIU_REF" ] || skip "a comparison with CRIU 4.2: set CRIU_REF to a CRIU built outside the repo"
	ct_userns
	ct_run
	ct_dump ocicr "$CT_DIR/img"
	ct_delete
	# CRIU reads some images as the container's root, inside: its own are
	# 0644, ocicr's 0600 (they hold the tree's memory).
	chmod a+r "$CT_DIR"/img/*.img
	ct_restore "$CRIU_REF" "$CT_DIR/img"
	[ "$(readlink "/proc/$CT_PID/ns/user")" != "$(readlink /proc/self/ns/user)" ] || fail "restored in our user namespace"
	ct_check
}
