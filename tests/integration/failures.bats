#!/usr/bin/env bats
# Failure behaviour: a dump that fails leaves the task as it was and no
# images; a restore that fails says which pid or file is wrong and leaves
# no restored process behind.

load helpers

setup() {
	requires root
}

teardown() {
	wl_cleanup
}

@test "dump of a pid that does not exist fails clearly and leaves no images" {
	true &
	pid=$!
	wait "$pid" || true
	pid_gone "$pid" || skip "pid $pid was reused at once"
	run ocicr dump -t "$pid" -D "$BATS_TEST_TMPDIR/img"
	assert_failure 1
	assert_output --partial "no process with pid $pid"
	run image_files "$BATS_TEST_TMPDIR/img"
	assert_output ""
}

@test "a dump that fails midway leaves the task running unchanged and no images" {
	wl_start unsupported
	cat "/proc/$WL_PID/maps" >"$WL_DIR/maps.before"
	ls -l "/proc/$WL_PID/fd" | awk '{print $9, $10, $11}' >"$WL_DIR/fds.before"
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/img" -o dump.log -v4
	assert_failure 1
	assert_output --regexp "netlink socket [0-9]+ has messages waiting to be read"
	# The memory images were written before the fds failed: all gone.
	grep -q "pages saved as pages-" "$WL_DIR/img/dump.log" || fail "the dump failed before it wrote pages"
	run image_files "$WL_DIR/img"
	assert_output ""
	# The task runs on, untraced, with its memory map and fds as they were.
	state=$(task_state "$WL_PID")
	[ "$state" = S ] || [ "$state" = R ] || fail "task $WL_PID is in state $state"
	assert_equal "$(tracer_of "$WL_PID")" 0
	run diff "$WL_DIR/maps.before" "/proc/$WL_PID/maps"
	assert_success
	ls -l "/proc/$WL_PID/fd" | awk '{print $9, $10, $11}' >"$WL_DIR/fds.after"
	run diff "$WL_DIR/fds.before" "$WL_DIR/fds.after"
	assert_success
	wl_expect_pass
}

@test "restore refuses a pid that is taken and names it" {
	wl_start files
	wl_dump -R
	run ocicr restore -D "$WL_DIR/img" -d
	assert_failure 1
	assert_output --partial "pid $WL_PID is taken"
	# The task holding the pid is untouched.
	wl_expect_pass
}

# No task has the pid, but a process outside the tree is still in the
# session it names (a session leader's orphan): clone3 says EEXIST, and
# the error says who holds it.
@test "restore names the process whose session keeps a free pid in use" {
	mkdir -p "$BATS_TEST_TMPDIR/sess/img"
	(
		cd "$BATS_TEST_TMPDIR/sess" || exit 1
		setsid sh -c '(exec sleep 1000 &); exec sleep 2000' </dev/null >/dev/null 2>&1 3>&- &
		echo $! >pid
	)
	leader=$(cat "$BATS_TEST_TMPDIR/sess/pid")
	echo "$leader" >>"$BATS_TEST_TMPDIR/wl-pids"
	wait_for 20 sh -c '[ "$(readlink "/proc/$1/exe")" = "$2" ] && [ -z "$(pgrep -P "$1")" ]' _ "$leader" \
		"$(readlink -f /bin/sleep)" || fail "no sleep $leader"
	orphan=$(ps -eo pid=,sid=,args= | awk -v s="$leader" '$2 == s && $1 != s && /sleep 1000/ {print $1}')
	echo "$orphan" >>"$BATS_TEST_TMPDIR/wl-pids"
	[ -n "$orphan" ] || fail "no orphan in session $leader"
	must_cr ocicr dump "$BATS_TEST_TMPDIR/sess/img" -t "$leader"
	wait_gone "$leader"
	run ocicr restore -D "$BATS_TEST_TMPDIR/sess/img" -d
	assert_failure 1
	assert_output --partial "pid $leader is taken: it is still the session id of process $orphan ('sleep', state S)"
	kill "$orphan"
}

# Dump the files workload (it has regular files, pipes, a ghost file and a
# memfd) and keep a pristine copy of its images in $WL_DIR/good.
dump_files_workload() {
	wl_start files
	wl_dump
	wait_gone "$WL_PID"
	cp -a "$WL_DIR/img" "$WL_DIR/good"
}

# expect_restore_error TEXT...: restoring $WL_DIR/img fails, saying each
# TEXT, and leaves no task with the workload's pid and no pid file.
expect_restore_error() {
	run ocicr restore -D "$WL_DIR/img" -d -o restore.log -v4 --pidfile "$WL_DIR/restored.pid"
	assert_failure 1
	for text in "$@"; do
		assert_output --partial "$text"
	done
	pid_gone "$WL_PID" || fail "a failed restore left task $WL_PID behind"
	[ ! -e "$WL_DIR/restored.pid" ] || fail "a failed restore left its pid file"
}

# The pristine images still restore: the failure was the damage's doing,
# and the failed attempt left nothing in the way.
restore_good_images() {
	rm -rf "$WL_DIR/img"
	cp -a "$WL_DIR/good" "$WL_DIR/img"
	wl_restore
	wl_expect_pass
}

@test "restore from images with a missing image names it" {
	dump_files_workload
	rm "$WL_DIR/img/mm-$WL_PID.img"
	expect_restore_error "mm-$WL_PID.img" "missing"
	restore_good_images
}

@test "restore from an image with a corrupted magic names it" {
	dump_files_workload
	printf 'XXXXXXXX' | dd of="$WL_DIR/img/core-$WL_PID.img" bs=1 seek=0 conv=notrunc status=none
	expect_restore_error "core-$WL_PID.img" "magic"
	restore_good_images
}

@test "restore from a truncated pages image names it" {
	dump_files_workload
	run ocicr restore --plan-only -D "$WL_DIR/img"
	assert_success
	pages=$(sed -n 's/.*pages from \(pages-[0-9]*\.img\).*/\1/p' <<<"$output")
	[ -n "$pages" ] || fail "no pages image in the plan: $output"
	size=$(stat -c %s "$WL_DIR/img/$pages")
	truncate -s $((size - 4096)) "$WL_DIR/img/$pages"
	expect_restore_error "$pages" "truncated"
	restore_good_images
}

@test "restore after a regular file changed size names the file" {
	dump_files_workload
	cp -a "$WL_DIR/files-reg.dat" "$WL_DIR/files-reg.dat.orig"
	echo "more" >>"$WL_DIR/files-reg.dat"
	expect_restore_error "$WL_DIR/files-reg.dat" "changed"
	mv "$WL_DIR/files-reg.dat.orig" "$WL_DIR/files-reg.dat"
	restore_good_images
}

@test "a restore that fails after recreating an unlinked file leaves no trace of it" {
	dump_files_workload
	# fd 20 (the unlinked file) is recreated before fd 21 (this folder) fails.
	mv "$WL_DIR/files-dir" "$WL_DIR/files-dir.away"
	expect_restore_error "$WL_DIR/files-dir"
	run find "$WL_DIR" -maxdepth 1 -name '*ghost*'
	assert_output ""
	mv "$WL_DIR/files-dir.away" "$WL_DIR/files-dir"
	restore_good_images
}

@test "--pidfile: the restored root's pid is written; a path that cannot be written fails before any task exists" {
	dump_files_workload
	run ocicr restore -D "$WL_DIR/img" -d --pidfile "$WL_DIR/no-such-dir/root.pid"
	assert_failure 1
	assert_output --partial "cannot open pid file $WL_DIR/no-such-dir/root.pid"
	pid_gone "$WL_PID" || fail "restore went on without its pid file"
	[ ! -e "$WL_DIR/img/restore.log" ] || fail "restore began (it wrote restore.log)"
	# An existing pid file is rewritten, not appended to.
	echo 999999999999 >"$WL_DIR/root.pid"
	run ocicr restore -D "$WL_DIR/img" -d --pidfile "$WL_DIR/root.pid"
	assert_success
	[ "$(cat "$WL_DIR/root.pid")" = "$WL_PID" ] || fail "pid file holds '$(cat "$WL_DIR/root.pid")', not $WL_PID"
	wl_expect_pass
}

@test "a dump of a tree that holds ocicr itself is refused, naming it, and the tree runs on" {
	local dir=$BATS_TEST_TMPDIR/img
	# The shell is ocicr's parent: its tree holds the dumper.
	run bash -c '"$1" dump -t $$ -D "$2"; echo "shell still here, ocicr exited $?"' _ "$OCICR" "$dir"
	assert_success
	assert_output --regexp "task [0-9]+ is ocicr itself"
	assert_line "shell still here, ocicr exited 1"
	run image_files "$dir"
	assert_output ""
}
