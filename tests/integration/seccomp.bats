#!/usr/bin/env bats
# Seccomp: strict mode, filter chains shared by threads (TSYNC) and by a
# child, a filter of one thread only, no_new_privs; the errno and kill
# rules still hold after restore (tests/workloads/seccomp.c).

load helpers

setup() {
	requires root
}

teardown() {
	wl_cleanup
}

@test "seccomp: strict mode and filter chains survive dump and restore" {
	wl_start seccomp
	wl_dump
	# One table for the tree: filter A once (main, worker and F share
	# it), B stacked on A for the worker.
	run "$OCICR" image decode -i "$WL_DIR/img/seccomp.img"
	assert_success
	run python3 -c 'import json,sys; e=json.load(sys.stdin)["entries"][0]["seccomp_filters"]; print(len(e), [f.get("prev") for f in e])' <<<"$output"
	assert_output "2 [None, 0]"
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

@test "seccomp: a snapshot (-R) of a filtered tree leaves it running and its rules intact, and restores" {
	wl_start seccomp
	wl_dump -R
	[ "$(tracer_of "$WL_PID")" = 0 ] || fail "task $WL_PID is still traced"
	wl_expect_pass
	wait_tree_gone
	rm -f "$WL_DIR/result"
	wl_restore
	wl_expect_pass
}

@test "seccomp: a filter chain that loops is refused at restore, nothing left behind" {
	wl_start seccomp
	wl_dump
	wait_tree_gone
	# Make filter 0's predecessor itself.
	"$OCICR" image decode -i "$WL_DIR/img/seccomp.img" >"$WL_DIR/seccomp.json"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["entries"][0]["seccomp_filters"][0]["prev"]=0; json.dump(d, open(sys.argv[1],"w"))' "$WL_DIR/seccomp.json"
	"$OCICR" image encode -i "$WL_DIR/seccomp.json" -o "$WL_DIR/img/seccomp.img"
	run ocicr restore -D "$WL_DIR/img" -d
	assert_failure
	assert_output --partial "part of a loop"
	[ ! -e "/proc/$WL_PID" ] || fail "task $WL_PID exists after a failed restore"
}

@test "seccomp: a filter all threads share stays shared, so a TSYNC filter after restore reaches every thread" {
	wl_start seccomp_tsync
	wl_dump
	wait_tree_gone
	wl_restore
	wl_expect_pass
}
