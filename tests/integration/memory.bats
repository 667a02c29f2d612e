#!/usr/bin/env bats
# Memory: private, sparse, moved, DONTFORK and guard regions, shared
# anonymous memory, private and shared file mappings, heap and stack
# (tests/workloads/memory.c checks itself after restore).

load helpers

setup() {
	requires root
}

teardown() {
	wl_cleanup
}

@test "memory: every kind of mapping comes back byte for byte, in the same layout" {
	wl_roundtrip memory
}

@test "memory: only the pages the task had are saved" {
	wl_start memory
	wl_dump
	wait_gone "$WL_PID"
	# 8 MiB patterned + 2 MiB moved + 1 MiB DONTFORK + 1 MiB stack, the
	# heap, half of the 1 MiB shared region and a seventh of the 16 MiB
	# sparse region: far less than the 29 MiB mapped.
	size=$(cat "$WL_DIR"/img/pages-*.img | wc -c)
	[ "$size" -gt $((14 << 20)) ] || fail "the pages images hold only $size bytes"
	[ "$size" -lt $((18 << 20)) ] || fail "the pages images hold $size bytes: untouched pages were saved"
	wl_restore
	wl_expect_pass
}

@test "memory: a restored task can be checkpointed and restored again" {
	wl_start memory
	wl_dump
	wait_gone "$WL_PID"
	wl_restore
	rm -rf "$WL_DIR/img1"
	mv "$WL_DIR/img" "$WL_DIR/img1"
	mkdir "$WL_DIR/img"
	wl_dump
	wait_gone "$WL_PID"
	wl_restore
	wl_expect_pass
}

@test "memory: queued direct writes and page-cache writes save the same bytes" {
	wl_start memory
	# On one CPU: the kernel writes the CPU a thread runs on into its rseq
	# area (here in the heap), which would otherwise differ between dumps.
	taskset -pc 0 "$WL_PID" >/dev/null
	wl_dump -R
	grep -q "pages-1.img: direct writes" "$WL_DIR/img/dump.log" ||
		fail "the first dump did not write directly: does $BATS_TEST_TMPDIR refuse O_DIRECT?"
	mv "$WL_DIR/img" "$WL_DIR/img.direct"
	mkdir "$WL_DIR/img"
	export OCICR_NO_DIRECT_IO=1
	wl_dump -R
	unset OCICR_NO_DIRECT_IO
	grep -q "pages-1.img: page-cache writes" "$WL_DIR/img/dump.log" ||
		fail "OCICR_NO_DIRECT_IO=1 did not make the dump write through the page cache"
	n=0
	for f in "$WL_DIR"/img.direct/pages-*.img "$WL_DIR"/img.direct/pagemap-*.img; do
		cmp "$f" "$WL_DIR/img/${f##*/}" || fail "${f##*/} differs between the two write paths"
		n=$((n + 1))
	done
	[ "$n" -ge 2 ] || fail "no pages images to compare"
	kill -KILL "$WL_PID"
	wait_gone "$WL_PID"
	rm -rf "$WL_DIR/img"
	mv "$WL_DIR/img.direct" "$WL_DIR/img"
	wl_restore
	wl_expect_pass
}
