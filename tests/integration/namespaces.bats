#!/usr/bin/env bats
# Namespaces of a tree's own: uts (host and domain name), ipc (System V
# shared memory with its contents, attached or not, semaphores, message
# queues, the ipc sysctls) and pid (the root is pid 1 of its namespace),
# made by unshare as a container runtime makes them
# (tests/workloads/container.c checks everything after restore).

load helpers

setup() {
	requires root unshare
}

teardown() {
	wl_cleanup
}

@test "namespaces: uts and ipc namespaces with SysV objects survive dump and restore" {
	WL_WRAP="unshare --uts --ipc" wl_start container
	wl_dump
	for img in utsns ipcns-var ipcns-shm ipcns-sem ipcns-msg; do
		compgen -G "$WL_DIR/img/$img-*.img" >/dev/null || fail "no $img image"
	done
	# The namespaces are made anew: the inventory names ocicr's own.
	run "$OCICR" image decode -i "$WL_DIR/img/inventory.img"
	inv_uts=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"][0]["root_ids"]["uts_ns_id"])' <<<"$output")
	run "$OCICR" image decode -i "$WL_DIR/img/ids-$WL_PID.img"
	ids_uts=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"][0]["uts_ns_id"])' <<<"$output")
	[ "$inv_uts" != "$ids_uts" ] || fail "the root's uts namespace id $ids_uts is the inventory's"
	[ -e "$WL_DIR/img/utsns-$ids_uts.img" ] || fail "no utsns-$ids_uts.img"
	wait_tree_gone
	hostname_before=$(hostname)
	wl_restore
	[ "$(hostname)" = "$hostname_before" ] || fail "the host's name changed"
	wl_expect_pass
}
