#!/usr/bin/env bats
# Process trees: sessions, groups, zombies, a stopped child, an orphan,
# threads in children (tests/workloads/tree.c), children sharing their
# parent's fd table and fs struct (tests/workloads/shared_tables.c), and
# private memory shared copy-on-write down the tree (tests/workloads/cow.c).

load helpers

setup() {
	requires root
}

teardown() {
	pkill -9 -f "$WORKLOADS/tree " 2>/dev/null || true
	pkill -9 -f "$WORKLOADS/shared_tables " 2>/dev/null || true
	pkill -9 -f "$WORKLOADS/forker " 2>/dev/null || true
	pkill -9 -f "$WORKLOADS/cow " 2>/dev/null || true
	wl_cleanup
}

@test "tree: pids, parents, groups, sessions, zombies, a stopped child and an orphan come back" {
	wl_start tree
	wl_dump
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

@test "tree: a zombie killed by its own fault, and a zombie and a task in a group whose leader is gone, come back" {
	wl_start zombie_groups
	wl_dump
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

@test "tree: the plan shows each task's creator, session and group, and the zombies" {
	wl_start tree
	wl_dump -R
	run ocicr restore --plan-only -D "$WL_DIR/img"
	assert_success
	assert_output --partial "create task $WL_PID"
	assert_output --regexp "by its parent $WL_PID"
	assert_output --regexp "exit as a zombie \(status 0x700\)"
	assert_output --regexp "exit as a zombie \(status 0xf\)"
	assert_output --regexp "session [0-9]+, process group [0-9]+"
}

@test "tree: a child sharing its parent's fd table and fs struct still shares them" {
	wl_start shared_tables
	wl_dump
	wait_tree_gone
	run ocicr restore --plan-only -D "$WL_DIR/img"
	# made by its parent once the parent's fds are in, and given none itself
	assert_output --regexp "create task [0-9]+ .*by its parent $WL_PID"
	wl_restore
	wl_expect_pass
}

@test "tree: siblings sharing their parent's fd table (one with its own between them), a sharer's children, an O_TMPFILE file" {
	wl_start shared_fdt_siblings
	wl_dump
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

@test "tree: children that appear while the tree is being frozen are caught; a shared memfd stays shared" {
	wl_start forker
	wl_dump
	wait_tree_gone
	# more than the reader and a child or two: it was forking all along
	n=$(ls "$WL_DIR"/img/core-*.img | wc -l)
	[ "$n" -gt 3 ] || fail "only $n tasks dumped"
	wl_restore
	wl_expect_pass
}

@test "tree: private pages shared copy-on-write by parent, child and grandchild stay shared" {
	wl_start cow
	wl_dump
	wait_tree_gone
	run ocicr restore --plan-only -D "$WL_DIR/img"
	assert_output --regexp "task $WL_PID: premap private memory shared copy-on-write: [0-9]+ VMA\(s\) filled for its children"
	assert_output --partial "from its parent's copy, changed pages only"
	wl_restore
	# each checks its pages and that the 16 MiB are still shared (smaps)
	wl_expect_pass
	grep -q "kept from its parent's copy" "$WL_DIR/img/restore.log" || fail "restore.log says nothing of sharing"
}

@test "tree: copy-on-write sharing also survives a dump with --leave-running" {
	wl_start cow
	wl_dump -R
	pkill -9 -f "$WORKLOADS/cow " || true
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

@test "tree: the sharing check notices a restore that copies every page (OCICR_NO_COW_SHARING)" {
	wl_start cow
	wl_dump
	wait_tree_gone
	OCICR_NO_COW_SHARING=1 wl_restore
	kill -USR1 "$WL_PID"
	wait_for 30 test -s "$WL_DIR/result" || fail "no verdict"
	run cat "$WL_DIR/result"
	assert_output --regexp "FAIL: task [0-9]+ after restore: only [0-9]+ KiB of the 16 MiB region are shared"
}

@test "tree: children that exit while the tree is being frozen are dumped as zombies or left out" {
	wl_start churn
	# Each freeze races with children exiting between being listed and
	# being seized: every dump must work all the same.
	for i in 1 2 3 4 5 6 7 8; do
		run ocicr dump -t "$WL_PID" -D "$WL_DIR/img" -R -o dump.log -v4
		[ "$status" -eq 0 ] || fail "dump $i with --leave-running failed: $output"
	done
	wl_dump
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

@test "tree: a task chrooted below its working directory keeps its root, its cwd outside it, and its file" {
	wl_roundtrip chroot_cwd
}
