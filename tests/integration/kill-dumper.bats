#!/usr/bin/env bats
# A dumper killed at any moment never harms what it dumps: ocicr is
# SIGKILLed at points spread over a plain and a -R dump of a tree with
# children, threads, pipes and hundreds of MiB (the killtree workload),
# and each time the tree then checks itself: memory, memory map, signal
# masks, pipe data, and exactly the children it made (no snapshot twin).
# ocicr ptraces from a worker that the started process guards (see
# docs/error-handling.md): a kill of ocicr lets the worker stop at its next
# safe point and undo its work.  The short tests kill at test points of
# ocicr's own progress (OCICR_KILL_AT: inside the Nth remote call, a twin
# half made, a twin pumping its pages, an image put in place), the same on
# any machine; tests/kill-dumper.sh runs more of them and points at log
# lines, bigger.

load helpers

setup() {
	requires root python3
	export KT_MIB=${KT_MIB:-64}
}

teardown() {
	wl_cleanup
}

# The long run's points at a log line (TEXT#N: its Nth time, TEXT@MS: MS
# ms after it).  In a plain dump every point is before the tree is let go
# (killed).
PLAIN_LONG=("Froze@2" "dumping threads" "dumping signal handlers#2" "dumping timers#3" "dumping memory map#4"
	"dumping memory contents#1@5" "dumping memory contents#3@15" "dumping file descriptors#2"
	"collected; ending its remote session#3")
SNAP_LONG=("dumping resource limits#2" "dumping memory contents#1@1" "dumping memory contents#3@1"
	"dumping memory contents#4@3" "The tree runs again" "sends#1@5" "sends#3@20" "pages saved as#2")
# Test points of ocicr's own progress (OCICR_KILL_AT), the same on any
# machine: inside the Nth remote call, a twin half made, a twin pumping.
INSIDE_PLAIN_SHORT=(remote#1 remote#9 remote#30)
INSIDE_PLAIN_LONG=(remote#1 remote#2 remote#5 remote#9 remote#14 remote#22 remote#30 remote#45 remote#60)
INSIDE_SNAP_SHORT=(remote#5 twin#1 twin#3 pump#1 pump#4)
INSIDE_SNAP_LONG=(remote#3 remote#17 remote#40 twin#1 twin#2 twin#3 twin#4 pump#1 pump#2 pump#4 pump#7)
# The worker itself killed inside the Nth remote call (no guardian can
# help: the thread is let go at once and must find its own registers).
WORKER_PLAIN_SHORT=(remote#1 remote#9 remote#30)
WORKER_PLAIN_LONG=(remote#1 remote#2 remote#5 remote#9 remote#14 remote#22 remote#30 remote#45 remote#60)
WORKER_SNAP_SHORT=(remote#3 remote#17)
WORKER_SNAP_LONG=(remote#3 remote#8 remote#17 remote#25 remote#40)

# kill_at SIG POINT [DUMP ARGS...]: start the tree, signal the dumper at
# POINT, and have the tree check itself; 1 (with why in $KILL_FAILED) if
# it failed.
kill_at() {
	local sig=$1 point=$2 why=
	shift 2
	wl_start killtree
	rm -rf "$WL_DIR/img" "$WL_DIR/log" "$WL_DIR/log.txt"
	mkdir "$WL_DIR/img"
	run signal_at line "$point" "$sig" "$WL_DIR/log" -- \
		"$OCICR" dump -t "$WL_PID" -D "$WL_DIR/img" -o "$WL_DIR/log" -v4 "$@"
	# The worker's own message may come after signal_at's last line.
	if [ "$status" -ne 0 ] || ! printf '%s\n' "${lines[@]}" | grep -qx "signal SIG$sig"; then
		why="ocicr was not stopped by SIG$sig at '$point': $output"
	fi
	tree_verdict "$why" "SIG$sig at '$point'" "$@"
}

# tree_verdict WHY WHAT [DUMP ARGS...]: unless the kill went wrong already
# (WHY), have the tree check itself; report, note a failure in
# $KILL_FAILED, and clean up.
tree_verdict() {
	local why=$1 what=$2 verdict
	shift 2
	if [ -z "$why" ]; then
		kill -USR1 "$WL_PID" 2>/dev/null || why="the tree is gone after $what"
		[ -n "$why" ] || wait_for 30 verdict_written "$WL_DIR/result" "$WL_PID" ||
			why="the tree wrote no verdict after $what"
		verdict=$(cat "$WL_DIR/result" 2>/dev/null || echo "no verdict: the root is gone")
		[ -n "$why" ] || [ "$verdict" = PASS ] || why="after $what: $verdict"
	fi
	wl_cleanup
	rm -f "$BATS_TEST_TMPDIR/wl-pids"
	echo "# ${why:-ok: $what} ($*)" >&3
	[ -z "$why" ] || KILL_FAILED="$KILL_FAILED$why"$'\n'
}

# kill_all SIG LIST [DUMP ARGS...]: every point of LIST (PLAIN or SNAP).
kill_all() {
	local sig=$1 list=$2 point
	shift 2
	KILL_FAILED=
	while read -r point; do
		kill_at "$sig" "$point" "$@"
	done < <(points "$list")
	[ -z "$KILL_FAILED" ] || fail "$KILL_FAILED"
}

# kill_inside POINT [DUMP ARGS...]: start the tree, have ocicr SIGKILLed
# at test point POINT (NAME#N), and have the tree check itself.
kill_inside() {
	local point=$1 why= children
	shift
	wl_start "${KILL_WL:-killtree}"
	rm -rf "$WL_DIR/img" && mkdir "$WL_DIR/img"
	children=$(tree_children)
	if [ "${KILL_VIA:-}" = swrk ]; then
		# the service's worker is its child, as the CLI's is
		OCICR_KILL_AT=$point OCICR_KILL_PID=parent run rpc_send \
			"type: DUMP opts { images_dir_fd: -1 pid: $WL_PID log_file: \"log\" log_level: 4 $* }"
		[[ "$output" == *"swrk exit=-9"* ]] || why="ocicr swrk was not killed at $point: $output"
	elif [ "${KILL_WHO:-}" = worker ]; then
		# the worker that holds ptrace itself (the OOM killer's choice)
		OCICR_KILL_AT=$point run "$OCICR" dump -t "$WL_PID" -D "$WL_DIR/img" -o log -v4 "$@"
		[ "$status" -eq 137 ] && [[ "$output" == *"worker was killed by SIGKILL"* ]] ||
			why="ocicr's worker was not killed at $point (exit $status): $output"
	else
		OCICR_KILL_AT=$point OCICR_KILL_PID=parent run "$OCICR" dump -t "$WL_PID" -D "$WL_DIR/img" -o log -v4 "$@"
		[ "$status" -eq 137 ] || why="ocicr was not killed at $point (exit $status): $output"
	fi
	# The worker stops and undoes its work on its own (or is gone).
	[ -n "$why" ] || wait_for 60 worker_gone || why="the worker still runs 60 s after the kill at $point"
	[ -n "$why" ] || grep -q "test point $point: SIGKILL" "$WL_DIR/img/log" ||
		why="the log has no test point $point"
	[ -n "$why" ] || [ "${KILL_WHO:-}" = worker ] || grep -q "interrupted by SIGTERM" "$WL_DIR/img/log" ||
		why="the worker did not stop at $point: $(tail -3 "$WL_DIR/img/log")"
	[ -n "$why" ] || [ ! -e "$WL_DIR/img/inventory.img" ] || why="an inventory.img after the kill at $point"
	[ -n "$why" ] || [ "$(tree_children)" = "$children" ] ||
		why="after the kill at $point, children: $(echo $children) became $(tree_children | paste -sd' ')"
	tree_verdict "$why" "SIGKILL at $point" "$@"
}

worker_gone() {
	! pgrep -f -- "-D $WL_DIR/img" >/dev/null && ! tracer_of_tree
}

# A task of the tree that is still traced (the swrk worker has no
# images directory on its command line).
tracer_of_tree() {
	local p t
	for p in $WL_PID $(pgrep -s "$(ps -o sid= "$WL_PID" | tr -d " ")"); do
		t=$(tracer_of "$p" 2>/dev/null)
		[ -z "$t" ] || [ "$t" = 0 ] || return 0
	done
	return 1
}

# rpc_send TEXT: one request to ocicr swrk, the images in $WL_DIR/img.
rpc_send() {
	local py
	for py in python3 /usr/bin/python3; do
		if "$py" -c 'import google.protobuf' 2>/dev/null; then
			"$py" "$BATS_TEST_DIRNAME/rpc_client.py" "$OCICR" send "$1" --images "$WL_DIR/img" --work "$WL_DIR/img"
			return
		fi
	done
	echo "no python3 with google.protobuf"
	return 1
}

signal_at() {
	"$BATS_TEST_DIRNAME/signal_at.py" "$@"
}

points() {
	if [ -n "${KILL_DUMPER_LONG:-}" ]; then
		eval "printf '%s\n' \"\${$1_LONG[@]}\""
	else
		eval "printf '%s\n' \"\${$1_SHORT[@]}\""
	fi
}

# A log line is seen a moment after it is written, and a quiet machine may
# finish the dump first: these points are for the long run only.
@test "dump: SIGKILL of ocicr while it collects a tree leaves every task running unharmed" {
	[ -n "${KILL_DUMPER_LONG:-}" ] || skip "log-line points depend on timing: tests/kill-dumper.sh runs them"
	kill_all KILL PLAIN
}

@test "dump -R: SIGKILL of ocicr before or after the tree runs again leaves no twin and harms no task" {
	[ -n "${KILL_DUMPER_LONG:-}" ] || skip "log-line points depend on timing: tests/kill-dumper.sh runs them"
	kill_all KILL SNAP -R
}

@test "dump: SIGKILL of ocicr inside a remote call: the worker puts the registers back and stops" {
	KILL_FAILED=
	while read -r point; do
		kill_inside "$point"
	done < <(points INSIDE_PLAIN)
	[ -z "$KILL_FAILED" ] || fail "$KILL_FAILED"
}

@test "dump -R: SIGKILL of ocicr inside a remote call, while a twin is made or pumps its pages harms no task" {
	KILL_FAILED=
	while read -r point; do
		kill_inside "$point" -R
	done < <(points INSIDE_SNAP)
	[ -z "$KILL_FAILED" ] || fail "$KILL_FAILED"
}

@test "dump: SIGKILL of the worker itself inside a remote call: the thread returns onto its own registers" {
	KILL_FAILED=
	while read -r point; do
		KILL_WHO=worker kill_inside "$point"
	done < <(points WORKER_PLAIN)
	[ -z "$KILL_FAILED" ] || fail "$KILL_FAILED"
}

@test "dump -R: SIGKILL of the worker itself inside a remote call harms no task" {
	KILL_FAILED=
	while read -r point; do
		KILL_WHO=worker kill_inside "$point" -R
	done < <(points WORKER_SNAP)
	[ -z "$KILL_FAILED" ] || fail "$KILL_FAILED"
}

@test "swrk DUMP: SIGKILL of the service inside a remote call or while a twin is made harms no task" {
	requires protoc
	KILL_FAILED=
	KILL_VIA=swrk kill_inside remote#9
	KILL_VIA=swrk kill_inside twin#2 "leave_running: true"
	[ -z "$KILL_FAILED" ] || fail "$KILL_FAILED"
}

@test "dump -R: SIGKILL of ocicr once a subreaper adopted twins: they are reaped from inside it while frozen" {
	KILL_FAILED=
	KILL_WL=tree kill_inside twin#4 -R
	[ -z "$KILL_FAILED" ] || fail "$KILL_FAILED"
}

@test "dump -R: SIGTERM while the tree is collected leaves no snapshot twin behind as a child" {
	KILL_FAILED=
	kill_at TERM "dumping memory contents#3@1" -R
	[ -z "$KILL_FAILED" ] || fail "$KILL_FAILED"
}

@test "a dump killed midway leaves no complete-looking mix: restore, inspect and image show say so; a new dump replaces it" {
	wl_start killtree
	# A complete image set, an image an older tree left, then a dump
	# into the directory that is killed once some of its images are in.
	wl_dump -R
	cp "$WL_DIR/img/core-$WL_PID.img" "$WL_DIR/img/core-4194000.img"
	# the worker itself killed (as by the OOM killer) after a few images
	OCICR_KILL_AT="image#6" run "$OCICR" dump -t "$WL_PID" -D "$WL_DIR/img" -o "$WL_DIR/log" -v4
	assert_failure 137
	assert_output --partial "the dump's worker was killed by SIGKILL"
	[ ! -e "$WL_DIR/img/inventory.img" ] || fail "the earlier dump's inventory.img is still there"
	for cmd in "restore -D $WL_DIR/img -d" "inspect $WL_DIR/img" "image show $WL_DIR/img"; do
		run ocicr $cmd
		assert_failure
		assert_output --partial "$WL_DIR/img holds an interrupted dump: images but no inventory.img"
	done
	# The tree ran on unharmed; a dump into the directory replaces it all.
	wl_dump
	[ ! -e "$WL_DIR/img/core-4194000.img" ] || fail "an image of an older tree was left"
	run find "$WL_DIR/img" -name '.*.part'
	assert_output ""
	wait_tree_gone
	wl_restore
	wl_expect_pass
}
