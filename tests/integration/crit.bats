#!/usr/bin/env bats
# Every image ocicr writes decodes with crit (Debian's criu 3.17), so CRIU's
# tools read what we write.  pages-*.img are raw pages, not protobuf.

load helpers

setup() {
	requires root crit
}

teardown() {
	wl_cleanup
}

# Dump workload $1 and decode each of its images.
decode_all() {
	local n=0
	wl_start "$1"
	wl_dump
	for img in "$WL_DIR"/img/*; do
		case ${img##*/} in
		pages-*.img | *.log) continue ;;
		esac
		run crit decode -i "$img"
		[ "$status" -eq 0 ] || fail "crit cannot decode ${img##*/}: $output"
		n=$((n + 1))
	done
	[ "$n" -ge 10 ] || fail "only $n images decoded"
}

@test "crit decodes every image of the files workload" {
	decode_all files
	# Spot checks: what crit reads is what the task had.
	run crit_get "$WL_DIR/img/pstree.img" 'img["entries"][0]["pid"]'
	assert_output "$WL_PID"
	run crit_get "$WL_DIR/img/files.img" 'sorted({e["type"] for e in img["entries"]})'
	assert_output "['MEMFD', 'PIPE', 'REG']"
	run crit_get "$WL_DIR/img/pipes-data.img" 'sorted(e["bytes"] for e in img["entries"])'
	assert_output "[7, 102400]"
}

@test "crit decodes every image of the memory workload" {
	decode_all memory
	run crit_get "$WL_DIR/img/mm-$WL_PID.img" 'len(img["entries"][0]["vmas"]) > 20'
	assert_output True
}

@test "crit decodes every image of the signals, timers, threads, misc and creds workloads" {
	for w in signals timers threads misc creds; do
		decode_all "$w"
		core=$WL_DIR/img/core-$WL_PID.img
		case $w in
		timers)
			run crit_get "$core" '[t["it_id"] for t in img["entries"][0]["tc"]["timers"]["posix"]]'
			assert_output "[0, 1, 3, 4, 5]"
			;;
		misc)
			run crit_get "$core" 'img["entries"][0]["tc"]["comm"]'
			assert_output wl-misc-comm
			;;
		creds)
			run crit_get "$core" 'img["entries"][0]["thread_core"]["creds"]["groups"]'
			assert_output "[100, 200]"
			;;
		esac
	done
}

@test "crit decodes the stats a restore writes" {
	wl_start files
	wl_dump
	wait_gone "$WL_PID"
	wl_restore
	run crit decode -i "$WL_DIR/img/stats-restore"
	assert_success
	assert_output --partial '"restore_time"'
	wl_expect_pass
}
