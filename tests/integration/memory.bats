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
	# Put vm.nr_hugepages back if reserve_hugepages raised it.
	[ -z "${HUGEPAGES_WAS:-}" ] || echo "$HUGEPAGES_WAS" >/proc/sys/vm/nr_hugepages
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

# Dump the workload into img.$1 with OCICR_PAGE_CACHE_MAX=$2; the log
# must show a pages image written the way $3 (a regex) says, and none the
# way $4 says.  The twin sends its pages down a pipe unless
# OCICR_NO_TWIN_PUMP is set.
dump_with_cache_max() {
	local logged
	mkdir -p "$WL_DIR/img"
	OCICR_PAGE_CACHE_MAX=$2 wl_dump -R
	logged=$(grep -E "pages-[0-9]+.img: .* direct$" "$WL_DIR/img/dump.log")
	echo "$logged" | grep -Eq "$3" && ! echo "$logged" | grep -Eq "${4:-^$}" ||
		fail "OCICR_PAGE_CACHE_MAX=$2: pages not written as expected: $logged"
	if [ -z "${OCICR_NO_TWIN_PUMP:-}" ]; then
		grep -q "twin [0-9]* sends [0-9]* runs of pages down a pipe" "$WL_DIR/img/dump.log" ||
			fail "$1: the twin did not send its pages down a pipe"
	else
		! grep -q "down a pipe" "$WL_DIR/img/dump.log" || fail "$1: OCICR_NO_TWIN_PUMP was not heeded"
	fi
	mv "$WL_DIR/img" "$WL_DIR/img.$1"
}

@test "memory: direct, page-cache and mixed writes, from the twin's pipe or read, save the same bytes" {
	local some="[1-9][0-9]* bytes written through the page cache" none="0 bytes written through the page cache"
	wl_start memory
	# On one CPU: the kernel writes the CPU a thread runs on into its rseq
	# area (here in the heap), which would otherwise differ between dumps.
	taskset -pc 0 "$WL_PID" >/dev/null
	# (This one fails where $BATS_TEST_TMPDIR refuses O_DIRECT.)
	dump_with_cache_max direct 0 "$none, [1-9][0-9]* direct" "$some"
	dump_with_cache_max cache 1G "$some, 0 direct" ", [1-9][0-9]* direct"
	# 6 MiB: the shared memory's pages and a 4 MiB batch of the task's
	# through the cache, its next batch direct.
	dump_with_cache_max mixed 6M "$some, [1-9][0-9]* direct"
	OCICR_NO_TWIN_PUMP=1 dump_with_cache_max read 6M "$some, [1-9][0-9]* direct"
	n=0
	for f in "$WL_DIR"/img.direct/pages-*.img "$WL_DIR"/img.direct/pagemap-*.img; do
		for way in cache mixed read; do
			cmp "$f" "$WL_DIR/img.$way/${f##*/}" || fail "${f##*/}: direct and $way writes differ"
		done
		n=$((n + 1))
	done
	[ "$n" -ge 2 ] || fail "no pages images to compare"
	kill -KILL "$WL_PID"
	wait_gone "$WL_PID"
	mv "$WL_DIR/img.mixed" "$WL_DIR/img"
	wl_restore
	wl_expect_pass
}

# ocicr's remote calls borrow the stack below the red zone (their scratch
# and a signal frame holding the task's registers) and put it back after;
# the snapshot twin, forked meanwhile, must not keep them.  The bytes below
# the stack pointer in the images are the task's own, as it has them now.
@test "memory: a snapshot (-R) saves the stack below the stack pointer as the task has it, not ocicr's scratch" {
	wl_start memory
	wl_dump -R
	python3 - "$OCICR" "$WL_PID" "$WL_DIR/img" <<-'PY' || fail "the stack below sp differs"
		import json, subprocess, sys
		ocicr, pid, img = sys.argv[1], int(sys.argv[2]), sys.argv[3]
		def decode(name):
		    return json.loads(subprocess.check_output([ocicr, "image", "decode", "-i", "%s/%s" % (img, name)]))
		sp = decode("core-%d.img" % pid)["entries"][0]["thread_info"]["gpregs"]["sp"]
		pagemap = decode("pagemap-%d.img" % pid)["entries"]
		pages = open("%s/pages-%d.img" % (img, pagemap[0]["pages_id"]), "rb").read()
		lo, hi = sp - 8192, sp - 256  # past the red zone: nothing of the task's runs there
		off = 0
		for e in pagemap[1:]:
		    if e["vaddr"] <= lo and hi <= e["vaddr"] + e["nr_pages"] * 4096:
		        saved = pages[off + lo - e["vaddr"]:off + hi - e["vaddr"]]
		        break
		    off += e["nr_pages"] * 4096
		else:
		    sys.exit("no saved pages hold 0x%x-0x%x" % (lo, hi))
		with open("/proc/%d/mem" % pid, "rb") as f:
		    f.seek(lo)
		    live = f.read(hi - lo)
		diff = [i for i in range(len(live)) if live[i] != saved[i]]
		if diff:
		    sys.exit("%d bytes differ, 0x%x-0x%x (sp 0x%x)" % (len(diff), lo + diff[0], lo + diff[-1], sp))
	PY
	wl_expect_pass
}

@test "memory: locked pages, droppable mappings and madvise hints keep their flags" {
	wl_start mem_flags
	wl_dump
	wait_tree_gone
	touch "$WL_DIR/restored" # droppable pages must then read as zeros
	wl_restore
	wl_expect_pass
}

@test "memory: a memfd can still be executed with execveat after restore (its own fd is no writer)" {
	wl_roundtrip memfd_exec
}

@test "memory: membarrier() registrations come back, and only where they were" {
	wl_roundtrip membarrier
	ocicr image decode -i "$WL_DIR"/img/core-"$WL_PID".img | grep -q "membarrier_registration_mask" ||
		fail "the task's core image has no membarrier_registration_mask"
}

@test "memory: pages of a private file mapping written before a fork stay shared copy-on-write" {
	wl_roundtrip cow_file
}

# Make sure $1 huge pages of the default size are free, raising
# vm.nr_hugepages for this test only (teardown puts it back).
reserve_hugepages() {
	local free was
	free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
	[ -n "$free" ] || skip "no huge TLB pages on this kernel"
	if [ "$free" -lt "$1" ]; then
		was=$(cat /proc/sys/vm/nr_hugepages)
		HUGEPAGES_WAS=$was
		echo $((was + $1 - free)) >/proc/sys/vm/nr_hugepages
		free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
		[ "$free" -ge "$1" ] || fail "cannot reserve $1 huge pages (only $free free)"
	fi
}

@test "memory: private and shared mappings of huge TLB pages keep their pages, their kind and their sharing" {
	reserve_hugepages 16
	wl_roundtrip hugetlb
	ocicr image decode -i "$WL_DIR"/img/memfd.img | grep -q '"hugetlb_flag"' ||
		fail "memfd.img does not say the shared memory is of huge pages"
}

# Dump $1 with --leave-running: it must run on and pass, and its images
# must restore and pass again.
snapshot_roundtrip() {
	wl_start "$1"
	wl_dump -R
	wl_expect_pass
	wait_tree_gone
	rm -f "$WL_DIR/result"
	touch "$WL_DIR/restored"
	wl_restore
	wl_expect_pass
}

@test "memory: a dump with --leave-running keeps flags, huge pages and memfds as a plain dump does" {
	reserve_hugepages 16
	snapshot_roundtrip mem_flags
	wl_cleanup
	snapshot_roundtrip hugetlb
	wl_cleanup
	snapshot_roundtrip memfd_exec
}

# The kernel makes guard regions from 6.13 and reports them in
# PAGEMAP_SCAN from 6.14.
requires_guard_regions() {
	kernel_at_least 6 14 || skip "this kernel's PAGEMAP_SCAN does not report guard regions"
}

# Start workload $1 and dump it: its mm image must hold $3 matches of
# the pattern $2.
dump_with_mm_matches() {
	local n
	wl_start "$1"
	wl_dump
	wait_tree_gone
	n=$(ocicr image decode -i "$WL_DIR"/img/mm-"$WL_PID".img | grep -o "$2" | wc -l)
	[ "$n" -eq "$3" ] || fail "mm.img holds $n of $2, not $3"
}

@test "memory: guard regions (MADV_GUARD_INSTALL) are guards again after restore, and their pages are not read" {
	requires_guard_regions
	# Six regions (one spans two VMAs), each one VMA entry after the rest.
	dump_with_mm_matches guard_regions '"status": 65536,' 6
	wl_restore
	wl_expect_pass
}

@test "memory: AIO rings come back at their addresses, with head, tail and waiting events, and dump again" {
	[ -e /proc/sys/fs/aio-max-nr ] || skip "no AIO in this kernel"
	dump_with_mm_matches aio_rings '"nr_req"' 3
	wl_restore
	# A restored ring is a context again: a second checkpoint takes it.
	mv "$WL_DIR/img" "$WL_DIR/img1"
	wl_dump
	wait_tree_gone
	wl_restore
	wl_expect_pass
}

@test "memory: a dump with --leave-running keeps guard regions and AIO rings" {
	requires_guard_regions
	snapshot_roundtrip guard_regions
	wl_cleanup
	snapshot_roundtrip aio_rings
}
