#!/usr/bin/env bats
# ocicr swrk: CRIU's RPC service, spoken to by rpc_client.py the way runc,
# go-criu and libcriu do (a SOCK_SEQPACKET socketpair, one request per
# datagram, the client's own fds for the directories).

load helpers

setup() {
	requires root protoc
	requires_ocicr
	RPC_PY=
	for py in python3 /usr/bin/python3; do
		if "$py" -c 'import google.protobuf' 2>/dev/null; then
			RPC_PY=$py
			break
		fi
	done
	[ -n "$RPC_PY" ] || skip "needs python3 with google.protobuf (Debian python3-protobuf)"
}

teardown() {
	wl_cleanup
}

rpc() {
	"$RPC_PY" "$BATS_TEST_DIRNAME/rpc_client.py" "$OCICR" "$@"
}

# rpc_dump [OPTS_TEXT [CLIENT_ARGS...]]: DUMP the workload into $WL_DIR/img,
# logs in $WL_DIR/work.
rpc_dump() {
	mkdir -p "$WL_DIR/work"
	run rpc send "type: DUMP opts { images_dir_fd: -1 pid: $WL_PID log_file: \"dump.log\" log_level: 4 $1 }" \
		--images "$WL_DIR/img" --work "$WL_DIR/work" "${@:2}"
}

# rpc_restore [OPTS_TEXT [CLIENT_ARGS...]]: RESTORE $WL_DIR/img as the
# client's child, which the client wakes and waits for.
rpc_restore() {
	run rpc send "type: RESTORE opts { images_dir_fd: -1 log_file: \"restore.log\" log_level: 4 rst_sibling: true $1 }" \
		--images "$WL_DIR/img" --work "$WL_DIR/work" --wait-root "$WL_DIR/result" "${@:2}"
}

# The notifications in $output, on one line.
notifications() {
	grep '^notify ' <<<"$output" | sed 's/^notify //' | paste -sd' '
}

# runc's DUMP options for a tree that is not a container: every boolean
# sent, false ones too, as runc writes them.
RUNC_FALSES='leave_running: false ext_unix_sk: false tcp_established: false shell_job: false
	file_locks: false auto_dedup: false lazy_pages: false notify_scripts: true
	config_file: "/etc/criu/does-not-exist.conf"'

@test "swrk VERSION: CRIU 4.2's interface with ocicr's name, no gitid (which clients count as 4.3)" {
	run rpc send 'type: VERSION'
	assert_success
	assert_line --partial 'reply VERSION success=true'
	assert_line --partial "version={major_number: 4 minor_number: 2 name: \"ocicr $("$OCICR" --version | awk '{print $3}')\"}"
	refute_output --partial gitid
	assert_line 'swrk exit=0'
}

@test "swrk FEATURE_CHECK: all three answers set, false for what ocicr cannot do yet" {
	run rpc send 'type: FEATURE_CHECK features { mem_track: true lazy_pages: true pidfd_store: true }'
	assert_success
	assert_line --partial 'reply FEATURE_CHECK success=true size=12 features={mem_track: false lazy_pages: false pidfd_store: false}'
	assert_line 'swrk exit=0'
	# runc attaches its whole dump options: they are not a DUMP's to check.
	run rpc send 'type: FEATURE_CHECK opts { images_dir_fd: 7 root: "/x" manage_cgroups: true } features { mem_track: true }'
	assert_line --partial 'reply FEATURE_CHECK success=true'
}

@test "swrk CHECK: succeeds exactly when ocicr check does, its lines in the log" {
	mkdir -p "$BATS_TEST_TMPDIR/work"
	"$OCICR" check >/dev/null && want=true || want=false
	run rpc send 'type: CHECK opts { images_dir_fd: -1 log_file: "check.log" log_level: 4 }' --work "$BATS_TEST_TMPDIR/work"
	assert_line --partial "reply CHECK success=$want"
	grep -q 'ptrace' "$BATS_TEST_TMPDIR/work/check.log" || fail "no probe lines in check.log: $(cat "$BATS_TEST_TMPDIR/work/check.log")"
}

@test "swrk DUMP then RESTORE with rst_sibling: the restored root is the client's child and passes" {
	wl_start tree
	rpc_dump "$RUNC_FALSES"
	assert_line --partial 'reply DUMP success=true'
	assert_line --partial 'dump={restored: false}'
	assert_line 'swrk exit=0'
	# The log is in the work directory, the images in the images directory.
	[ -s "$WL_DIR/work/dump.log" ] || fail "no dump.log in the work directory"
	[ -e "$WL_DIR/img/inventory.img" ] || fail "no inventory.img in the images directory"
	wait_tree_gone

	run rpc send 'type: RESTORE opts { images_dir_fd: -1 log_file: "restore.log" log_level: 4 rst_sibling: true
		notify_scripts: true shell_job: false file_locks: false }' \
		--images "$WL_DIR/img" --work "$WL_DIR/work" --wait-root "$WL_DIR/result"
	[ "$status" -eq 0 ] || show_log "$WL_DIR/work/restore.log"
	assert_success
	assert_line --regexp "^reply RESTORE success=true size=[0-9]+ restore=\\{pid: $WL_PID\\}\$"
	# The client woke the root (its child) and reaped it: the workload's verdict.
	assert_line "root $WL_PID parent=client exited=0"
	assert_line 'swrk exit=0'
	run cat "$WL_DIR/result"
	assert_output PASS
}

@test "swrk notify_scripts: CRIU's notifications in CRIU's order, each acknowledged, the root's pid where CRIU gives it" {
	wl_start tree
	rpc_dump 'notify_scripts: true'
	assert_success
	assert_equal "$(notifications)" "pre-dump post-dump"
	wait_tree_gone
	rpc_restore 'notify_scripts: true'
	assert_success
	assert_equal "$(notifications)" \
		"pre-restore setup-namespaces pid=$WL_PID post-setup-namespaces post-restore pid=$WL_PID pre-resume post-resume"
	assert_line "root $WL_PID parent=client exited=0"
	run cat "$WL_DIR/result"
	assert_output PASS
}

@test "swrk notify_scripts: a tree in a net namespace of its own gets network-lock and network-unlock where CRIU sends them" {
	requires unshare
	WL_WRAP="unshare --net" wl_start tree
	# Run on: unlocked at the end; killed: its network stays locked.
	rpc_dump 'notify_scripts: true leave_running: true'
	[ "$status" -eq 0 ] || show_log "$WL_DIR/work/dump.log"
	assert_success
	assert_equal "$(notifications)" "pre-dump network-lock post-dump network-unlock"
	rpc_dump 'notify_scripts: true'
	assert_success
	assert_equal "$(notifications)" "pre-dump network-lock post-dump"
	wait_tree_gone
	rpc_restore 'notify_scripts: true'
	[ "$status" -eq 0 ] || show_log "$WL_DIR/work/restore.log"
	assert_success
	assert_equal "$(notifications)" \
		"pre-restore setup-namespaces pid=$WL_PID post-setup-namespaces post-restore pid=$WL_PID network-unlock pre-resume post-resume"
	run cat "$WL_DIR/result"
	assert_output PASS
}

@test "swrk notify: a failed dump of a tree in its own net namespace unlocks its network; the tree runs on" {
	requires unshare
	WL_WRAP="unshare --net" wl_start files
	rpc_dump 'notify_scripts: true' --nack post-dump
	assert_failure
	assert_equal "$(notifications)" "pre-dump network-lock post-dump network-unlock"
	# The unlock after it keeps the failure's reason.
	assert_line --regexp "msg=dump of $WL_PID failed: post-dump notification: .*the client refused notification post-dump$"
	assert_equal "$(tracer_of "$WL_PID")" 0
	wl_expect_pass
}

@test "swrk notify: a client that refuses post-dump fails the dump, which leaves no image; the tree runs on" {
	wl_start files
	rpc_dump 'notify_scripts: true' --nack post-dump
	assert_failure
	assert_equal "$(notifications)" "pre-dump post-dump"
	assert_line --partial 'the client refused notification post-dump'
	[ ! -e "$WL_DIR/img/inventory.img" ] || fail "a failed dump left inventory.img"
	assert_equal "$(tracer_of "$WL_PID")" 0
	wl_expect_pass
}

@test "swrk notify: a client that refuses setup-namespaces fails the restore, which leaves no task" {
	wl_start files
	rpc_dump ''
	assert_success
	wait_tree_gone
	rpc_restore 'notify_scripts: true' --nack setup-namespaces
	assert_failure
	assert_line --partial 'reply RESTORE success=false'
	assert_line --partial 'the client refused notification setup-namespaces'
	wait_gone "$WL_PID"
}

@test "swrk config_file: its settings apply; one ocicr lacks is refused by name" {
	wl_start files
	printf '# runc.conf\nleave-running\n' >"$BATS_TEST_TMPDIR/runc.conf"
	rpc_dump "config_file: \"$BATS_TEST_TMPDIR/runc.conf\""
	assert_success
	[ -e "/proc/$WL_PID" ] || fail "leave-running from config_file was not applied: task $WL_PID is gone"
	printf 'track-mem\n' >"$BATS_TEST_TMPDIR/runc.conf"
	rpc_dump "config_file: \"$BATS_TEST_TMPDIR/runc.conf\""
	assert_failure
	assert_line --partial 'msg=options not supported by ocicr yet: --track-mem from config_file'
	wl_expect_pass
}

@test "swrk DUMP leave_running=true: the tree runs on untraced and passes" {
	wl_start files
	rpc_dump 'leave_running: true'
	assert_line --partial 'reply DUMP success=true'
	[ -e "/proc/$WL_PID" ] || fail "task $WL_PID is gone after a leave_running dump"
	assert_equal "$(tracer_of "$WL_PID")" 0
	wl_expect_pass
}

@test "swrk DUMP: options ocicr does not implement fail the request by name; the tree runs on" {
	wl_start files
	rpc_dump 'track_mem: true ext_unix_sk: false manage_cgroups: true ext_mnt { key: "/a" val: "/a" } root: "/srv"'
	assert_failure
	assert_line --partial 'reply DUMP success=false'
	assert_line --partial 'errno=95'
	assert_line --partial 'msg=options not supported by ocicr yet: track_mem'
	# root, ext_mnt and manage_cgroups are taken (as --root, --ext-mount-map
	# and --manage-cgroups).
	refute_output --partial ext_unix_sk
	refute_output --partial 'root ('
	refute_output --partial ext_mnt
	refute_output --partial manage_cgroups
	assert_line 'swrk exit=1'
	# The reason is the log's last line too (runc shows the log, not cr_errmsg).
	run tail -n1 "$WL_DIR/work/dump.log"
	assert_output --partial 'options not supported by ocicr yet: track_mem'
	assert_equal "$(tracer_of "$WL_PID")" 0
	wl_expect_pass
}

@test "swrk empty_ns: CLONE_NEWNET is taken (runc always sends it), any other namespace is refused by name; evasive_devices is taken" {
	wl_start tree
	# CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
	rpc_dump "$RUNC_FALSES empty_ns: $((0x40000000 | 0x08000000 | 0x04000000))"
	assert_failure
	assert_line --partial 'msg=options not supported by ocicr yet: empty_ns uts, ipc (only net can be made empty)'
	assert_equal "$(tracer_of "$WL_PID")" 0
	rpc_dump "$RUNC_FALSES empty_ns: $((0x40000000))"
	[ "$status" -eq 0 ] || show_log "$WL_DIR/work/dump.log"
	assert_line --partial 'reply DUMP success=true'
	wait_tree_gone
	rpc_restore "evasive_devices: true empty_ns: $((0x40000000))"
	[ "$status" -eq 0 ] || show_log "$WL_DIR/work/restore.log"
	assert_line --regexp "^reply RESTORE success=true size=[0-9]+ restore=\\{pid: $WL_PID\\}\$"
	run cat "$WL_DIR/result"
	assert_output PASS
}

@test "swrk: an option for another request, or a log_file path, is refused by name" {
	mkdir -p "$BATS_TEST_TMPDIR/img"
	run rpc send 'type: RESTORE opts { images_dir_fd: -1 pid: 5 leave_running: true }' --images "$BATS_TEST_TMPDIR/img"
	assert_line --partial 'reply RESTORE success=false'
	assert_line --partial 'restore={pid: -1}'
	assert_line --partial 'msg=options that do not apply to RESTORE: pid, leave_running'
	run rpc send 'type: DUMP opts { images_dir_fd: -1 pid: 5 log_file: "../x.log" }' --images "$BATS_TEST_TMPDIR/img"
	assert_line --partial 'msg=log_file ../x.log: a bare file name is needed'
}

@test "swrk DUMP: the engine's reason reaches cr_errmsg and the log's last line" {
	wl_start files
	kill -9 "$WL_PID"
	wait_gone "$WL_PID"
	rpc_dump ''
	assert_failure
	assert_line --partial "reply DUMP success=false"
	assert_line --regexp "msg=dump of $WL_PID failed: .+"
	msg=$(echo "$output" | sed -n 's/.* msg=//p')
	run tail -n1 "$WL_DIR/work/dump.log"
	assert_output --partial "$msg"
}

@test "swrk: directories name the client's fds; a closed one is named" {
	run rpc send 'type: DUMP opts { images_dir_fd: 987 pid: 1 }'
	assert_failure
	assert_line --partial "msg=images_dir_fd 987: cannot open the client's fd"
	run rpc send 'type: RESTORE opts { images_dir_fd: -1 }'
	assert_line --partial 'msg=no images directory: neither images_dir_fd nor images_dir'
	mkdir -p "$BATS_TEST_TMPDIR/img"
	run rpc send 'type: DUMP opts { images_dir_fd: -1 pid: 1 status_fd: 987 }' --images "$BATS_TEST_TMPDIR/img"
	assert_failure
	assert_line --partial "msg=status_fd 987: cannot open the client's fd"
}

@test "swrk status_fd: a writable fd of the client is taken (CRIU writes to it only for lazy pages)" {
	wl_start files
	# The client's stdout: writable, as CRIU requires.
	rpc_dump 'status_fd: 1'
	assert_success
	assert_line --partial 'reply DUMP success=true'
	wait_tree_gone
}

@test "swrk: a malformed datagram and an unknown type get EMPTY with the reason" {
	printf '\xff\xff\x01' >"$BATS_TEST_TMPDIR/bad.bin"
	run rpc raw "$BATS_TEST_TMPDIR/bad.bin"
	assert_failure
	assert_line 'reply EMPTY success=false size=58 errno=74 msg=malformed request: 3 bytes that are not a criu_req'
	assert_line 'swrk exit=1'
	printf '\x08\x63' >"$BATS_TEST_TMPDIR/t99.bin"
	run rpc raw "$BATS_TEST_TMPDIR/t99.bin"
	assert_line --partial 'reply EMPTY success=false'
	assert_line --partial 'msg=request type 99 is not one ocicr knows'
	run rpc send 'type: EMPTY'
	assert_line --partial 'reply EMPTY success=false'
}

@test "swrk keep_open: further requests on one connection where CRIU allows it, refused elsewhere" {
	run rpc send 'type: VERSION keep_open: true' --then 'type: FEATURE_CHECK keep_open: true' --then 'type: VERSION'
	assert_success
	assert_line --partial 'reply VERSION success=true'
	assert_line --partial 'reply FEATURE_CHECK success=true'
	[ "$(grep -c '^reply VERSION success=true' <<<"$output")" -eq 2 ] || fail "not two VERSION replies: $output"
	assert_line 'swrk exit=0'
	run rpc send 'type: DUMP keep_open: true opts { images_dir_fd: -1 }'
	assert_line 'reply DUMP success=false size=42 errno=22 msg=keep_open is not allowed with DUMP'
	assert_line 'swrk exit=1'
}

@test "swrk: pre-dump, page server and cpuinfo requests are refused cleanly with their own type" {
	for type in PRE_DUMP SINGLE_PRE_DUMP PAGE_SERVER PAGE_SERVER_CHLD CPUINFO_DUMP CPUINFO_CHECK; do
		run rpc send "type: $type opts { images_dir_fd: -1 }"
		assert_line --partial "reply $type success=false"
		assert_line --partial "errno=95 msg=$type is not supported by ocicr yet"
		assert_line 'swrk exit=1'
	done
}

@test "swrk: SIGTERM ends a service that waits for its client" {
	run rpc term-idle
	assert_line --partial 'reply VERSION success=true'
	assert_line 'swrk exit=-15'
}

@test "swrk WAIT_PID: a pid that is not the service's child fails with ECHILD" {
	run rpc send 'type: WAIT_PID pid: 1'
	assert_line 'reply WAIT_PID success=false size=55 errno=10 msg=WAIT_PID: cannot wait for 1: No child processes'
}

# The libcriu client, built against Debian's libcriu (package criu).
build_libcriu_client() {
	[ -e /usr/include/criu/criu.h ] || skip "needs libcriu's criu/criu.h (Debian package criu)"
	LIBCRIU_CLIENT=$BATS_TEST_TMPDIR/libcriu_client
	cc -O1 -Wall -o "$LIBCRIU_CLIENT" "$BATS_TEST_DIRNAME/libcriu_client.c" -lcriu ||
		fail "cannot build libcriu_client"
}

@test "swrk through libcriu (crun's library): version check, dump, restore as the client's child" {
	build_libcriu_client
	run "$LIBCRIU_CLIENT" "$OCICR" version
	assert_success
	assert_line 'version 40200'
	assert_line 'at least 31500 (crun): 1'

	wl_start tree
	run "$LIBCRIU_CLIENT" "$OCICR" dump "$WL_PID" "$WL_DIR/img"
	[ "$status" -eq 0 ] || show_log "$WL_DIR/img/dump.log"
	assert_success
	assert_line 'dump 0'
	wait_tree_gone
	run "$LIBCRIU_CLIENT" "$OCICR" restore "$WL_DIR/img"
	[ "$status" -eq 0 ] || show_log "$WL_DIR/img/restore.log"
	assert_success
	assert_line "restore $WL_PID"
	assert_line "root $WL_PID exited=0"
	run cat "$WL_DIR/result"
	assert_output PASS
}

@test "swrk: every captured podman/runc exchange gets a reply of CRIU's type and shape" {
	requires shared
	local caps=("$SHARED"/fixtures/rpc/*.txt "$SHARED"/fixtures/rpc/raw-*)
	[ -e "${caps[0]}" ] || skip "no captures in $SHARED/fixtures/rpc"
	run rpc replay "${caps[@]}"
	echo "$output"
	assert_success
	refute_line --partial FAIL
	# Every option runc and podman send is taken: the container requests
	# fail only on this host lacking the captured container and images.
	refute_output --partial 'not supported by ocicr yet'
	assert_line --regexp '^ok   03-runc-checkpoint-DUMP.txt#1: DUMP -> reply DUMP success=false .*msg=dump of 18283 failed: --freeze-cgroup /sys/fs/cgroup/freezer/libpod_parent/libpod-a1ab.*: No such file or directory'
	assert_line --regexp '^ok   raw-restore#1: RESTORE -> reply RESTORE success=false .*restore=\{pid: -1\}.*msg=restore failed: .*no inventory.img'
}

@test "swrk: stats-dump and stats-restore land in the work directory, where podman's --print-stats reads them" {
	wl_start tree
	rpc_dump ''
	assert_success
	run "$OCICR" image decode -i "$WL_DIR/work/stats-dump"
	assert_success
	assert_output --partial '"freezing_time"'
	assert_output --partial '"memwrite_time"'
	wait_tree_gone
	rpc_restore ''
	[ "$status" -eq 0 ] || show_log "$WL_DIR/work/restore.log"
	assert_success
	run "$OCICR" image decode -i "$WL_DIR/work/stats-restore"
	assert_success
	assert_output --partial '"restore_time"'
	# Nothing half-written is left beside them.
	run ls -A "$WL_DIR/work"
	refute_output --partial '.stats-'
	run cat "$WL_DIR/result"
	assert_output PASS
}
