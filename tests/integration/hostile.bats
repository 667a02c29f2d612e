#!/usr/bin/env bats
# Hostile or damaged image sets, and files planted where ocicr writes:
# each is refused at load with one message, the same from restore,
# --plan-only and inspect; nothing hangs, crashes or writes through a
# symlink.

load helpers

setup() {
	requires root python3
}

teardown() {
	wl_cleanup
}

# img_edit IMAGE PYTHON: decode IMAGE, run PYTHON with its entries as `e`
# (and the whole JSON as `img`), encode it back in place.
img_edit() {
	local f=$1
	ocicr image decode -i "$f" -o "$f.json" || return 1
	python3 - "$f.json" "$2" <<'PY' || return 1
import json, sys
path, code = sys.argv[1], sys.argv[2]
img = json.load(open(path))
e = img["entries"]
exec(code)
json.dump(img, open(path, "w"))
PY
	ocicr image encode -i "$f.json" -o "$f" && rm -f "$f.json"
}

# Dump a workload (default: tree, several tasks, zombies, threads) and
# keep the images in $IMG; the workload is gone after the dump.
dump_wl() {
	wl_start "${1:-tree}"
	wl_dump
	wait_tree_gone
	IMG=$WL_DIR/img
}

# expect_refused TEXT: restore, --plan-only and inspect of $IMG all fail
# (exit 1, not a crash) saying TEXT, within 30 s each.
expect_refused() {
	local what
	for what in "restore --plan-only -D $IMG" "restore -d -D $IMG" "inspect $IMG"; do
		# shellcheck disable=SC2086
		run timeout -s KILL 30 "$OCICR" $what
		[ "$status" -eq 1 ] || fail "ocicr $what: exit $status, 1 expected: $output"
		assert_output --partial "$1"
	done
}

pstree_pid() {
	python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"][int(sys.argv[1])]["pid"])' "$1" \
		< <(ocicr image decode -i "$IMG/pstree.img")
}

@test "hostile: two tasks that are each other's parent are refused at load (no plan, no hang)" {
	dump_wl
	img_edit "$IMG/pstree.img" 'e[1]["ppid"], e[2]["ppid"] = e[2]["pid"], e[1]["pid"]'
	expect_refused "the parent links make a cycle"
}

@test "hostile: a pid twice, a thread id twice, a second root, a missing parent" {
	dump_wl
	cp -a "$IMG" "$WL_DIR/good"
	img_edit "$IMG/pstree.img" 'e[2]["pid"] = e[1]["pid"]'
	expect_refused "pstree.img: pid $(pstree_pid 1) appears twice"

	rm -rf "$IMG" && cp -a "$WL_DIR/good" "$IMG"
	img_edit "$IMG/pstree.img" 'e[1]["threads"].append(e[0]["pid"])'
	expect_refused "pstree.img: thread id $(pstree_pid 0) appears twice"

	rm -rf "$IMG" && cp -a "$WL_DIR/good" "$IMG"
	img_edit "$IMG/pstree.img" 'e[1]["ppid"] = 0'
	expect_refused "both have no parent; a tree has one root"

	rm -rf "$IMG" && cp -a "$WL_DIR/good" "$IMG"
	img_edit "$IMG/pstree.img" 'e[1]["ppid"] = 999999'
	expect_refused "the parent 999999 of task $(pstree_pid 1) is not in the tree"
}

@test "hostile: a pstree entry with an empty threads list is refused, not a crash" {
	dump_wl
	img_edit "$IMG/pstree.img" 'e[1]["threads"] = []'
	expect_refused "pstree.img: task $(pstree_pid 1) has an empty threads list"
}

@test "hostile: task_state must agree with pstree.img and be a task's" {
	dump_wl
	cp -a "$IMG" "$WL_DIR/good"
	pid=$(pstree_pid 1)
	img_edit "$IMG/core-$pid.img" 'e[0]["tc"]["task_state"] = 2'
	expect_refused "core-$pid.img: task_state 2 (zombie) but pstree.img lists threads for it"

	rm -rf "$IMG" && cp -a "$WL_DIR/good" "$IMG"
	img_edit "$IMG/core-$pid.img" 'e[0]["tc"]["task_state"] = 7'
	expect_refused "core-$pid.img: task_state 7 is not a task's"
}

@test "hostile: a reversed VMA and a pagemap entry without pages get one message from restore and inspect" {
	dump_wl files
	cp -a "$IMG" "$WL_DIR/good"
	img_edit "$IMG/mm-$WL_PID.img" 'v = e[0]["vmas"][2]; v["start"], v["end"] = v["end"], v["start"]'
	expect_refused "mm-$WL_PID.img: VMA 2 ("
	assert_output --partial "is empty, reversed or misaligned"

	rm -rf "$IMG" && cp -a "$WL_DIR/good" "$IMG"
	img_edit "$IMG/pagemap-$WL_PID.img" 'z = dict(e[1]); z["nr_pages"] = 0; e.insert(1, z)'
	expect_refused "pagemap-$WL_PID.img: entry 0 ("
	assert_output --partial "has no pages"
}

@test "hostile: an AIO ring entry that fits no ring, and a VMA listed after a guard region, are refused" {
	[ -e /proc/sys/fs/aio-max-nr ] || skip "no AIO in this kernel"
	dump_wl aio_rings
	cp -a "$IMG" "$WL_DIR/good"
	img_edit "$IMG/mm-$WL_PID.img" 'e[0]["aios"][1]["ring_len"] += 4096'
	expect_refused "mm-$WL_PID.img: aio entry 1 ("
	assert_output --partial "matches no AIO ring VMA"

	rm -rf "$IMG" && cp -a "$WL_DIR/good" "$IMG"
	img_edit "$IMG/mm-$WL_PID.img" 'v = e[0]["vmas"]; v.insert(1, dict(v[0], status=1 << 16, prot=0, flags=0))'
	expect_refused "mm-$WL_PID.img: VMA 2 comes after a guard region"
}

@test "hostile: a duplicate fd number and a relative file path are refused by restore and inspect" {
	dump_wl files
	cp -a "$IMG" "$WL_DIR/good"
	fdinfo=$(cd "$IMG" && ls fdinfo-*.img | head -1)
	img_edit "$IMG/$fdinfo" 'e.append(dict(e[0]))'
	expect_refused "$fdinfo: fd "
	assert_output --partial "appears twice"

	rm -rf "$IMG" && cp -a "$WL_DIR/good" "$IMG"
	img_edit "$IMG/files.img" '
r = [f for f in e if "reg" in f and f["reg"]["name"].endswith("files-reg.dat")][0]
r["reg"]["name"] = "files-reg.dat"'
	expect_refused "has the relative path 'files-reg.dat'"
}

@test "hostile: a FIFO as pstree.img or pages-N.img is refused at once by restore, image decode and inspect" {
	dump_wl files
	cp -a "$IMG" "$WL_DIR/good"
	rm "$IMG/pstree.img" && mkfifo "$IMG/pstree.img"
	expect_refused "pstree.img: is a FIFO"
	run timeout -s KILL 30 "$OCICR" image decode -i "$IMG/pstree.img"
	assert_failure 1
	assert_output --partial "is a FIFO"

	rm -rf "$IMG" && cp -a "$WL_DIR/good" "$IMG"
	# the task's own pages image (others belong to shared memory)
	pages=pages-$(ocicr image decode -i "$IMG/pagemap-$WL_PID.img" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"][0]["pages_id"])').img
	rm "$IMG/$pages" && mkfifo "$IMG/$pages"
	run timeout -s KILL 30 "$OCICR" restore -d -D "$IMG"
	assert_failure 1
	assert_output --partial "$pages: is a FIFO"
	run timeout -s KILL 30 "$OCICR" inspect --cmdline "$IMG"
	assert_failure 1
	assert_output --partial "$pages of process $WL_PID: is a FIFO"
	run timeout -s KILL 30 "$OCICR" image decode -i "$IMG/$pages"
	assert_failure 1
	assert_output --partial "is a FIFO"
}

@test "hostile: a ghost image with fewer bytes than its size fails the restore and leaves no file behind" {
	dump_wl files
	ghost=$(cd "$IMG" && ls ghost-file-*.img | head -1)
	img_edit "$IMG/$ghost" 'e[0]["size"] = e[0]["size"] + 65536'
	run ocicr restore -d -D "$IMG" -o restore.log
	assert_failure 1
	assert_output --partial "$ghost"
	pid_gone "$WL_PID" || fail "a failed restore left task $WL_PID behind"
	run find "$WL_DIR" -maxdepth 1 -name 'files-ghost.dat*'
	assert_output ""
}

@test "hostile: a file name with a newline and escape sequences cannot forge log lines or reach the terminal" {
	dump_wl files
	img_edit "$IMG/files.img" '
r = [f for f in e if "reg" in f and f["reg"]["name"].endswith("files-reg.dat")][0]
r["reg"]["name"] = r["reg"]["name"] + "\n(00.000001) Error: forged line \x1b[31mred\x1b]0;title\x07"'
	run ocicr restore -d -D "$IMG" -o restore.log -v4
	assert_failure 1
	assert_output --partial 'files-reg.dat\n(00.000001) Error: forged line \x1b[31mred'
	! grep -q $'\x1b' <<<"$output" || fail "an escape character reached the terminal: $output"
	! grep -q '^(00.000001) Error: forged' "$IMG/restore.log" || fail "a forged line is in restore.log"
	! grep -q $'\x1b' "$IMG/restore.log" || fail "an escape character is in restore.log"
	assert_output --partial 'files-reg.dat\n(00.000001)'
}

@test "hostile: logs are never written through a planted symlink, are 0600 under umask 000, and a shared directory is warned about" {
	dump_wl files
	victim=$WL_DIR/victim
	echo secret >"$victim" && chmod 0400 "$victim"
	ln -s "$victim" "$IMG/restore.log"
	chmod 0777 "$IMG"
	run bash -c "umask 000; '$OCICR' restore --plan-only -D '$IMG' -o restore.log -v4 >/dev/null"
	run bash -c "umask 000; '$OCICR' restore -d -D '$IMG' -o restore.log -v4"
	assert_success
	assert_output --partial "is writable by everyone"
	run cat "$victim"
	assert_output "secret"
	[ ! -L "$IMG/restore.log" ] || fail "restore.log is still the planted symlink"
	[ "$(stat -c %a "$IMG/restore.log")" = 600 ] || fail "restore.log has mode $(stat -c %a "$IMG/restore.log")"
	grep -q "writable by everyone" "$IMG/restore.log" || fail "no warning in restore.log"
	wl_expect_pass

	# dump.log the same
	wait_gone "$WL_PID"
	rm -rf "$IMG"
	wl_start files
	ln -s "$victim" "$WL_DIR/img/dump.log"
	run bash -c "umask 000; '$OCICR' dump -t $WL_PID -D '$WL_DIR/img' -o dump.log"
	assert_success
	run cat "$victim"
	assert_output "secret"
	[ "$(stat -c %a "$WL_DIR/img/dump.log")" = 600 ] || fail "dump.log has mode $(stat -c %a "$WL_DIR/img/dump.log")"
	for f in "$WL_DIR"/img/*.img; do
		[ "$(stat -c %a "$f")" = 600 ] || fail "$f has mode $(stat -c %a "$f")"
	done
}

@test "hostile: inspect --memory -o and image decode -o never write through a symlink and make a fresh 0600 file" {
	dump_wl files
	victim=$WL_DIR/victim
	echo secret >"$victim"
	ln -s "$victim" "$WL_DIR/mem.txt"
	run ocicr inspect --memory "$WL_PID" -o "$WL_DIR/mem.txt" "$IMG"
	assert_success
	run cat "$victim"
	assert_output "secret"
	[ ! -L "$WL_DIR/mem.txt" ] && [ -s "$WL_DIR/mem.txt" ] || fail "no memory listing in mem.txt"

	echo old >"$WL_DIR/mem.bin" && chmod 0644 "$WL_DIR/mem.bin"
	run ocicr inspect --memory "$WL_PID" -o "$WL_DIR/mem.bin" --raw "$IMG"
	assert_success
	[ "$(stat -c %a "$WL_DIR/mem.bin")" = 600 ] || fail "mem.bin kept mode $(stat -c %a "$WL_DIR/mem.bin")"

	ln -s "$victim" "$WL_DIR/pstree.json"
	run ocicr image decode -i "$IMG/pstree.img" -o "$WL_DIR/pstree.json"
	assert_success
	run cat "$victim"
	assert_output "secret"
	[ "$(stat -c %a "$WL_DIR/pstree.json")" = 600 ] || fail "decode output has mode $(stat -c %a "$WL_DIR/pstree.json")"
}

@test "hostile: restore gives up after --timeout, says which task it waited for, and leaves nothing behind" {
	export BULK_MIB=256
	dump_wl bulk
	# 256 MiB of pages cannot be loaded in 10 ms
	run ocicr restore -d -D "$IMG" -o restore.log --timeout 0.01
	assert_failure 1
	assert_output --partial "restore timed out after 0.010 s: task $WL_PID has not reached its restorer"
	wait_gone "$WL_PID"
	run ocicr restore -d -D "$IMG" --timeout nonsense
	assert_failure 2
	wl_restore --timeout 120
	wl_expect_pass
}

# hostile_archive KIND OUT [N]: a hostile archive around $IMG (see the script).
hostile_archive() {
	OCICR=$OCICR python3 "$BATS_TEST_DIRNAME/hostile_archive.py" "$1" "$IMG" "$2" "${3:-}" ||
		fail "cannot build the $1 archive"
}

@test "hostile archives: inspect bounds what it extracts, JSON depth and size, names listed and time, and says so" {
	requires zstd tar
	dump_wl files
	cd "$WL_DIR"
	# a zstd bomb: 100 MiB of zeros in a few kilobytes
	hostile_archive bomb bomb.tar.zst 100
	run ocicr inspect --max-extract 64M bomb.tar.zst
	assert_failure 1
	assert_output --partial "extracting checkpoint/fdinfo-999.img would write more than 64 MiB to disk"
	run ocicr inspect --max-extract 200M bomb.tar.zst
	assert_success

	# a 1 MiB config.dump of '[': refused before a tree is built
	hostile_archive deep deep.tar 1
	run ocicr inspect deep.tar
	assert_failure 1
	assert_output --partial "config.dump: JSON nested deeper than 64 levels"
	run ocicr inspect --max-json 512K deep.tar
	assert_failure 1
	assert_output --partial "member config.dump is 1048576 bytes, more than the 524288 it may have"

	# 20000 names in rootfs-diff.tar: listed up to the cap, and said so
	hostile_archive names names.tar 20000
	run ocicr inspect --metadata --max-names 500 names.tar
	assert_success
	assert_output --partial "more than 500 entries; the rest are not listed (raise the limit with --max-names N)"

	# a sparse 1 TiB pages image behind a 2^28-page pagemap: the views
	# stay quick, a full memory listing stops at the time limit
	hostile_archive sparse sparse.tar
	run timeout -s KILL 60 "$OCICR" inspect -a sparse.tar
	assert_success
	run timeout -s KILL 60 "$OCICR" inspect --time-limit 2 --memory "$WL_PID" -o mem.txt sparse.tar
	assert_failure 1
	assert_output --partial "the inspection took more than 2 s and was stopped (raise the limit with --time-limit"
}
