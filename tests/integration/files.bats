#!/usr/bin/env bats
# File descriptors: /dev/null, regular files with offsets and flags,
# O_APPEND, dup'd fds, close-on-exec, pipes with unread data, an unlinked
# file, a directory, a memfd (tests/workloads/files.c); /proc files of the
# tree (tests/workloads/proc_files.c).

load helpers

setup() {
	requires root
}

teardown() {
	wl_cleanup
}

@test "files: every fd comes back with its flags, offset, sharing and contents" {
	wl_roundtrip files
}

@test "files: the unlinked file's contents are in a ghost image, not on disk" {
	wl_start files
	wl_dump
	wait_gone "$WL_PID"
	run find "$WL_DIR/img" -name 'ghost-file-*.img'
	assert_success
	[ -n "$output" ] || fail "no ghost-file image"
	[ ! -e "$WL_DIR/files-ghost.dat" ] || fail "the dump recreated the unlinked file"
	wl_restore
	# Recreated for the restore, and unlinked again once open.
	[ ! -e "$WL_DIR/files-ghost.dat" ] || fail "the restore left the unlinked file on disk"
	wl_expect_pass
}

@test "files: /proc files of the tree's own tasks (a child's stat, our fdinfo and maps) are opened again" {
	wl_roundtrip proc_files
}

@test "files: an unlinked sparse file keeps its holes, and only its data counts for the ghost limit" {
	wl_start ghost_holes
	wl_dump
	wait_gone "$WL_PID"
	size=$(du -sk "$WL_DIR/img" | cut -f1)
	[ "$size" -lt 1024 ] || fail "the images take $size KiB: the holes were saved"
	wl_restore
	wl_expect_pass
}

@test "files: a dump that leaves the tree running leaves an unlinked sparse file's offset as it was" {
	wl_start ghost_holes
	wl_dump -R
	wl_expect_pass
}

@test "files: a removed working directory and removed directories held open (one in a removed one) come back removed, with their modes" {
	wl_start gone_dirs
	wl_dump
	wait_gone "$WL_PID"
	wl_restore
	[ ! -e "$WL_DIR/cwd-gone" ] && [ ! -e "$WL_DIR/dir-gone" ] && [ ! -e "$WL_DIR/outer-gone" ] ||
		fail "restore left a removed directory behind"
	wl_expect_pass
}

@test "files: an unlinked file open for writing only keeps its bytes; two removed names of one file stay one file; a removed device node stays one" {
	wl_start gone_links
	wl_dump
	wait_gone "$WL_PID"
	run find "$WL_DIR/img" -name 'ghost-file-*.img'
	[ "${#lines[@]}" -eq 3 ] || fail "expected 3 ghost images (one per inode), got: $output"
	wl_restore
	wl_expect_pass
}

@test "files: owners of files (a task, a process group), their signals and O_ASYNC come back, and the signals are sent" {
	wl_roundtrip fown
}

@test "files: O_PATH fds of symbolic links, one of them removed, are on the same links after restore" {
	wl_start symlinks
	wl_dump
	wait_gone "$WL_PID"
	# The removed link is a ghost with its target, as CRIU writes it.
	crit decode -i "$WL_DIR"/img/ghost-file-*.img | grep -q '"symlnk_target": "/nonexistent/ocicr-symlink-target"' ||
		fail "no ghost image with the link's target"
	wl_restore
	wl_expect_pass
}

@test "files: a working directory and fds in /proc/PID of a process that is gone stay there (a stand-in takes PID while they open)" {
	wl_start proc_gone
	wl_dump
	wait_gone "$WL_PID"
	# As CRIU: a PROCFS remap naming the gone pid.
	crit decode -i "$WL_DIR/img/remap-fpath.img" | grep -q '"remap_type": "PROCFS"' || fail "no PROCFS remap"
	wl_restore
	wl_expect_pass
}

@test "files: leases (read, write, none, two being broken, one only a child's) come back with --file-locks, without a second break signal" {
	wl_start leases
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/img"
	assert_failure
	assert_output --partial "lease lock: dump file locks with --file-locks"
	wl_dump --file-locks
	wait_gone "$WL_PID"
	# As CRIU: FL_LEASE (8), the type, and LEASE_BREAKING (4) added to the
	# type a lease is being broken to.
	crit decode -i "$WL_DIR/img/filelocks.img" >"$WL_DIR/locks.json"
	python3 - "$WL_DIR/locks.json" <<'PY' || fail "filelocks.img check failed"
import json, sys
locks = {e["fd"]: e for e in json.load(open(sys.argv[1]))["entries"]}
assert sorted(locks) == [10, 11, 13, 14], locks
assert all(e["flag"] == 8 for e in locks.values()), locks
types = [locks[fd]["type"] for fd in (10, 11, 13, 14)]
assert types == [0, 1, 0 | 4, 2 | 4], locks
PY
	wl_restore
	wl_expect_pass
}

@test "files: with --link-remap a file open by a removed name that has another name is the same inode after restore" {
	wl_start link_remap
	wl_dump --link-remap
	wait_gone "$WL_PID"
	# As CRIU: a link_remap.ID name beside it, its file entry, a LINKED remap.
	ls "$WL_DIR"/link_remap.* >/dev/null || fail "no link_remap name after the dump"
	crit decode -i "$WL_DIR/img/remap-fpath.img" | grep -q '"remap_type": "LINKED"' || fail "no LINKED remap"
	run find "$WL_DIR/img" -name 'ghost-file-*.img'
	assert_output ""
	wl_restore
	wl_expect_pass
}

@test "files: a dump with --link-remap that fails removes the link_remap name it made" {
	LR_FLOCK=1 wl_start link_remap
	run ocicr dump -t "$WL_PID" -D "$WL_DIR/img" --link-remap
	assert_failure
	assert_output --partial "flock lock: dump file locks with --file-locks"
	run ls "$WL_DIR"
	refute_output --partial link_remap
	wl_expect_pass
}
