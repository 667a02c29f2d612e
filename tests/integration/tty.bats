#!/usr/bin/env bats
# Terminals and inherited descriptors: a tree whose stdio was a pipe or a
# pty slave whose other end is outside it (a container's stdio and
# console), restored on a pipe or pty the caller gives (--inherit-fd) or,
# over RPC, on a new pty whose master goes to the client
# (orphan-pts-master); ptys with both ends in the tree.

load helpers

setup() {
	requires root
	requires_ocicr
}

teardown() {
	wl_cleanup
	[ -z "${HOLD_PID:-}" ] || kill "$HOLD_PID" 2>/dev/null || true
}

# Start workload $1 with its stdout on a pipe that cat drains into
# $WL_DIR/old-out (the pipe's other end is outside the tree).
wl_start_piped() {
	WL_NAME=$1
	WL_DIR=$BATS_TEST_TMPDIR/$1
	mkdir -p "$WL_DIR/img"
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
		done
		cd "$WL_DIR" || exit 1
		exec > >(cat >"$WL_DIR/old-out")
		setsid "$WORKLOADS/$1" "$WL_DIR/ready" "$WL_DIR/result" </dev/null 2>/dev/null &
		echo $! >"$WL_DIR/pid"
	)
	WL_PID=$(cat "$WL_DIR/pid")
	echo "$WL_PID" >>"$BATS_TEST_TMPDIR/wl-pids"
	wait_for 30 wl_settled || fail "$1 did not become ready"
	[ -s "$WL_DIR/ready" ] || fail "$1 did not start: $(cat "$WL_DIR/result" 2>/dev/null)"
}

# Start tty_pty on a pty whose master ptyhold keeps (outside the tree).
wl_start_on_pty() {
	WL_NAME=tty_pty
	WL_DIR=$BATS_TEST_TMPDIR/tty_pty
	mkdir -p "$WL_DIR/img"
	rm -f "$WL_DIR/pid" "$WL_DIR/ready" "$WL_DIR/result"
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null
		done
		cd "$WL_DIR" || exit 1
		setsid "$WORKLOADS/ptyhold" run "$WL_DIR" "$WORKLOADS/tty_pty" "$WL_DIR/ready" "$WL_DIR/result" \
			</dev/null >/dev/null 2>&1 &
		echo $! >"$WL_DIR/hold"
	)
	HOLD_PID=$(cat "$WL_DIR/hold")
	wait_for 30 test -s "$WL_DIR/pid" || fail "ptyhold did not start"
	WL_PID=$(cat "$WL_DIR/pid")
	echo "$WL_PID" >>"$BATS_TEST_TMPDIR/wl-pids"
	wait_for 30 wl_settled || fail "tty_pty did not become ready"
	[ -s "$WL_DIR/ready" ] || fail "tty_pty did not start: $(cat "$WL_DIR/result" 2>/dev/null)"
	TTY_KEY=$(cat "$WL_DIR/ttykey")
}

@test "inherit-fd: a tree whose stdout was a pipe comes back on the caller's new pipe" {
	wl_start_piped stdio_pipe
	ino=$(stat -L -c %i "/proc/$WL_PID/fd/1")
	wl_dump
	wait_tree_gone
	wl_restore --inherit-fd "fd[5]:pipe:[$ino]" 5> >(cat >"$WL_DIR/new-out")
	wl_expect_pass
	wait_for 20 grep -q 'stdout after restore' "$WL_DIR/new-out" || fail "new-out: $(cat "$WL_DIR/new-out")"
	run cat "$WL_DIR/old-out"
	assert_output ''
}

@test "inherit-fd: a key nothing in the images is fails the restore, naming it; nothing is left" {
	wl_start_piped stdio_pipe
	wl_dump
	wait_tree_gone
	run ocicr restore -D "$WL_DIR/img" -d --inherit-fd "fd[5]:pipe:[1]" 5>/dev/null
	assert_failure
	assert_output --partial 'fd[5]:pipe:[1]: nothing in the images is pipe:[1]'
	pid_gone "$WL_PID"
	# A closed fd and a bad form are named too.
	run ocicr restore -D "$WL_DIR/img" -d --inherit-fd "fd[77]:pipe:[1]"
	assert_failure
	assert_output --partial 'inherited fd 77 (pipe:[1]) is not open'
	run ocicr restore -D "$WL_DIR/img" -d --inherit-fd "pipe:[1]"
	assert_failure
	assert_output --partial 'invalid argument for --inherit-fd: pipe:[1] (fd[N]:KEY)'
	run ocicr dump -t 1 -D "$WL_DIR/img2" --inherit-fd "fd[0]:x"
	assert_failure
	assert_output --partial '--inherit-fd is for a restore only'
}

@test "tty: without --external or --shell-job a pty whose master is outside is refused, naming the key; the tree runs on" {
	wl_start_on_pty
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/img"
	assert_failure
	assert_output --partial "a pty whose master is outside the tree: dump with --external $TTY_KEY"
	[ "$(task_state "$WL_PID")" != t ]
	kill -0 "$WL_PID"
}

@test "tty: --external tty[...] at dump, --inherit-fd fd[N]:tty[...] at restore: a new pty, controlling, same settings" {
	wl_start_on_pty
	wl_dump --external "$TTY_KEY"
	run crit_get "$WL_DIR/img/tty-info.img" '[e["type"] for e in img["entries"]]'
	assert_output "['EXT_TTY', 'PTY', 'PTY']"
	wait_tree_gone
	# Without the terminal the restore says what to give.
	run ocicr restore -D "$WL_DIR/img" -d
	assert_failure
	assert_output --partial "the images hold external terminal $TTY_KEY: give it with --inherit-fd fd[N]:$TTY_KEY"
	pid_gone "$WL_PID"
	run "$WORKLOADS/ptyhold" restore "$WL_PID" 5 "$OCICR" restore -D "$WL_DIR/img" -d -o restore.log -v4 \
		--inherit-fd "fd[5]:$TTY_KEY"
	[ "$status" -eq 0 ] || { show_log "$WL_DIR/img/restore.log"; fail "$output"; }
	assert_output --partial 'hello from the restored tree'
	wait_for 20 test -s "$WL_DIR/result"
	run cat "$WL_DIR/result"
	assert_output PASS
}

@test "tty: --shell-job at dump (CRIU's way), the terminal given back with --inherit-fd" {
	wl_start_on_pty
	wl_dump --shell-job
	run crit_get "$WL_DIR/img/tty-info.img" '[e["type"] for e in img["entries"]]'
	assert_output "['PTY', 'PTY', 'PTY']"
	wait_tree_gone
	run "$WORKLOADS/ptyhold" restore "$WL_PID" 5 "$OCICR" restore -D "$WL_DIR/img" -d -o restore.log -v4 \
		--inherit-fd "fd[5]:$TTY_KEY"
	[ "$status" -eq 0 ] || { show_log "$WL_DIR/img/restore.log"; fail "$output"; }
	wait_for 20 test -s "$WL_DIR/result"
	run cat "$WL_DIR/result"
	assert_output PASS
}

rpc_py() {
	local py
	for py in python3 /usr/bin/python3; do
		if "$py" -c 'import google.protobuf' 2>/dev/null; then
			"$py" "$BATS_TEST_DIRNAME/rpc_client.py" "$OCICR" "$@"
			return
		fi
	done
	skip "needs python3 with google.protobuf (Debian python3-protobuf)"
}

@test "tty over RPC: orphan_pts_master at dump and restore; the new master reaches the client over SCM_RIGHTS, in CRIU's order" {
	requires protoc
	wl_start_on_pty
	mkdir -p "$WL_DIR/work"
	run rpc_py send "type: DUMP opts { images_dir_fd: -1 pid: $WL_PID log_file: \"dump.log\" log_level: 4
		shell_job: false orphan_pts_master: true notify_scripts: true }" \
		--images "$WL_DIR/img" --work "$WL_DIR/work"
	[ "$status" -eq 0 ] || { show_log "$WL_DIR/work/dump.log"; fail "$output"; }
	assert_line --partial 'reply DUMP success=true'
	wait_tree_gone
	run rpc_py send "type: RESTORE opts { images_dir_fd: -1 log_file: \"restore.log\" log_level: 4
		rst_sibling: true orphan_pts_master: true notify_scripts: true }" \
		--images "$WL_DIR/img" --work "$WL_DIR/work" --wait-root "$WL_DIR/result" --pty-talk
	[ "$status" -eq 0 ] || { show_log "$WL_DIR/work/restore.log"; fail "$output"; }
	# runc forwards this fd to its --console-socket: it comes before post-restore.
	assert_equal "$(grep '^notify ' <<<"$output" | sed 's/^notify //' | paste -sd' ')" \
		"pre-restore setup-namespaces pid=$WL_PID post-setup-namespaces orphan-pts-master fd post-restore pid=$WL_PID pre-resume post-resume"
	assert_line 'pty greeted'
	assert_line "root $WL_PID parent=client exited=0"
	run cat "$WL_DIR/result"
	assert_output PASS
}

@test "tty over RPC: without orphan_pts_master the restore names what is missing and leaves nothing" {
	requires protoc
	wl_start_on_pty
	mkdir -p "$WL_DIR/work"
	run rpc_py send "type: DUMP opts { images_dir_fd: -1 pid: $WL_PID orphan_pts_master: true }" \
		--images "$WL_DIR/img" --work "$WL_DIR/work"
	assert_line --partial 'reply DUMP success=true'
	wait_tree_gone
	run rpc_py send "type: RESTORE opts { images_dir_fd: -1 rst_sibling: true }" --images "$WL_DIR/img" \
		--work "$WL_DIR/work"
	assert_line --partial 'reply RESTORE success=false'
	assert_line --partial 'give one with --inherit-fd fd[N]:tty['
	pid_gone "$WL_PID"
}

@test "tty: a session whose terminal only a master holds, a hung-up slave, a slave of another owner" {
	wl_roundtrip tty_tree
}

@test "tty: /dev/tty held open by a session leader whose terminal only its master holds: same session, queued line, SIGHUP on hangup" {
	wl_roundtrip tty_ctty
	run crit show "$WL_DIR/img/tty-info.img"
	assert_success
	assert_output --partial '"type": "CTTY"'
	# As CRIU's: queued bytes only for terminals the images have (CRIU
	# refuses the images otherwise); the unheld slave's line is not there.
	info_ids=$(crit show "$WL_DIR/img/tty-info.img" | jq -c '[.entries[].id] | sort')
	data_ids=$(crit show "$WL_DIR/img/tty-data.img" | jq -c '[.entries[].tty_id] | unique')
	run jq -n --argjson i "$info_ids" --argjson d "$data_ids" '($d - $i) | length'
	assert_output 0
	[ "$(jq -n --argjson d "$data_ids" '$d | length')" -ge 2 ] || fail "tty-data.img: $data_ids"
}

@test "tty: a console and a virtual console opened through nodes the tree made come back through the same nodes" {
	wl_roundtrip tty_devnode
	run crit show "$WL_DIR/img/tty-info.img"
	assert_success
	assert_output --partial '"type": "CONSOLE"'
	assert_output --partial '"type": "VT"'
}
