# Containers made in the test, for runc.bats and podman.bats: a
# busybox-static root with a static workload of ours as its init, and /wl
# bound from a host folder for the workload's ready and result files.
#
# ct_rootfs_make DIR WORKLOAD: a container's root filesystem in DIR:
# busybox, WORKLOAD (a name in $WORKLOADS) as /init, /wl for its files.
ct_rootfs_make() {
	local dir=$1 workload=$2

	[ -x /bin/busybox ] || skip "needs /bin/busybox (Debian package busybox-static)"
	[ -x "$WORKLOADS/$workload" ] || fail "$WORKLOADS/$workload is not built (make check builds it)"
	mkdir -p "$dir"/{bin,proc,sys,dev,tmp,wl,etc}
	cp /bin/busybox "$dir/bin/busybox"
	ln -sf busybox "$dir/bin/sh"
	cp "$WORKLOADS/$workload" "$dir/init"
	# What the ocictr workload changes and holds.
	echo old >"$dir/etc/changed"
	echo x >"$dir/etc/deleted"
	echo 0123456789 >"$dir/etc/held"
}

# runc_bundle_make DIR WORKLOAD [NETNS_PATH [PIDNS_PATH]]: the bundle in
# DIR (rootfs in DIR/rootfs, /wl from DIR/wl), the init WORKLOAD (a name
# in $WORKLOADS) run as "/init /wl/ready /wl/result"; with NETNS_PATH
# (PIDNS_PATH) the container's network (pid) namespace is that one instead
# of a new one of runc's.
runc_bundle_make() {
	local dir=$1 workload=$2 netns=${3:-} pidns=${4:-}

	ct_rootfs_make "$dir/rootfs" "$workload"
	mkdir -p "$dir/wl"
	"$REPO/scripts/runc-bundle-config" "$dir" --args "/init /wl/ready /wl/result" --writable-root \
		--hostname ocicr-runc --bind "/wl=$dir/wl" ${netns:+--netns "$netns"} \
		${pidns:+--pidns "$pidns"} || fail "cannot make config.json"
}

# alone OUT CMD ARGS...: CMD with no fd of ours but its stdio (/dev/null
# in, OUT out): what it leaves running (criu, conmon, the container) keeps
# none of bats' descriptors.
alone() {
	alone_bg "$@"
	wait "$ALONE_PID"
}

# alone_bg OUT CMD ARGS...: CMD alone in the background; its pid (CMD's,
# not a shell's) in ALONE_PID.
alone_bg() {
	local out=$1
	shift
	(
		close_fds_above_stdio
		exec "$@" </dev/null >"$out" 2>&1
	) &
	ALONE_PID=$!
}

# close_fds_above_stdio: in a subshell, close every fd but 0-2.
close_fds_above_stdio() {
	local fd
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
	done
}

# runc_alone OUT ARGS...: runc ARGS, alone.
runc_alone() {
	local out=$1
	shift
	alone "$out" runc "$@"
}

# runc_run ROOT DIR ID: run the bundle detached and wait until its workload
# is ready; sets RUNC_PID.  Its stdio are runc's, /dev/null, which the
# restore finds again in the container's /dev.
runc_run() {
	local root=$1 dir=$2 id=$3

	runc_alone /dev/null --root "$root" run -d --bundle "$dir" "$id" ||
		fail "runc run failed (runc --root $root run -d --bundle $dir $id)"
	RUNC_PID=$(runc_pid "$root" "$id")
	wait_for 30 test -s "$dir/wl/ready" || fail "the container's workload is not ready: $(cat "$dir/wl/result" 2>/dev/null)"
}

# runc_pid ROOT ID: the host pid of the container's init.
runc_pid() {
	runc --root "$1" state "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])'
}

# runc_status ROOT ID: created, running, stopped... or nothing.
runc_status() {
	runc --root "$1" state "$2" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'
}
