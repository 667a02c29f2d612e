#!/usr/bin/env bats
# ocicr image decode/encode/show: crit's job, against crit itself.
#
# - every image CRIU 4.2 wrote in shared/fixtures decodes to what crit 4.2
#   printed (plain and --pretty), and encodes back byte for byte;
# - images that Debian's crit 3.17 builds from small documents decode and
#   re-encode identically with ocicr, and crit 3.17 reads ours the same;
# - the command line's errors.

load helpers

setup() {
	requires_ocicr
	TMP="$BATS_TEST_TMPDIR"
}

# ---- CRIU 4.2 fixtures -----------------------------------------------------------

# check_fixtures MODE: decode every fixture image with MODE ("" or --pretty)
# and compare with crit 4.2's JSON as values.
check_fixtures() {
	local mode=$1 sub set img name n=0 bad=()
	for set in $(fixture_sets); do
		sub=$set
		[ -n "$mode" ] && sub=$set/pretty
		for img in $(fixture_images "$set"); do
			name=$(basename "$img")
			n=$((n + 1))
			if ocicr image decode $mode -i "$img" -o "$TMP/$set-$name.json"; then
				printf '%s\t%s\n' "$TMP/$set-$name.json" "$FIXTURES_JSON/$sub/$name.json" >>"$TMP/pairs"
			else
				bad+=("$set/$name")
			fi
		done
	done
	echo "$n images checked"
	[ "$n" -gt 40 ]
	[ ${#bad[@]} -eq 0 ] || fail "cannot decode ($mode): ${bad[*]}"
	json_equal_pairs <"$TMP/pairs" || fail "some images differ from crit 4.2's JSON ($mode), see above"
}

@test "decode: every CRIU 4.2 fixture image equals crit 4.2's JSON" {
	requires_fixtures
	requires_python
	check_fixtures ""
}

@test "decode --pretty: every CRIU 4.2 fixture image equals crit 4.2's pretty JSON" {
	requires_fixtures
	requires_python
	check_fixtures --pretty
}

@test "decode: the text is byte-identical to crit 4.2's standard output" {
	requires_fixtures
	local set img name bad=()
	for set in $(fixture_sets); do
		for img in $(fixture_images "$set"); do
			name=$(basename "$img")
			ocicr image decode -i "$img" >"$TMP/p.json"
			ocicr image decode --pretty -i "$img" >"$TMP/q.json"
			cmp -s "$TMP/p.json" "$FIXTURES_JSON/$set/$name.json" || bad+=("$set/$name")
			cmp -s "$TMP/q.json" "$FIXTURES_JSON/$set/pretty/$name.json" || bad+=("$set/pretty/$name")
		done
	done
	[ ${#bad[@]} -eq 0 ] || fail "not byte-identical: ${bad[*]}"
}

# check_reencode MODE: encode(decode(img)) and encode(crit's JSON) must
# both give back the original image, byte for byte.
check_reencode() {
	local mode=$1 sub set img name bad=()
	for set in $(fixture_sets); do
		sub=$set
		[ -n "$mode" ] && sub=$set/pretty
		for img in $(fixture_images "$set"); do
			name=$(basename "$img")
			mkdir -p "$TMP/$set/ours" "$TMP/$set/crit"
			ocicr image decode $mode -i "$img" -o "$TMP/$set/$name.json"
			ocicr image encode -i "$TMP/$set/$name.json" -o "$TMP/$set/ours/$name" &&
				cmp -s "$img" "$TMP/$set/ours/$name" || bad+=("$set/$name")
			ocicr image encode -i "$FIXTURES_JSON/$sub/$name.json" -o "$TMP/$set/crit/$name" &&
				cmp -s "$img" "$TMP/$set/crit/$name" || bad+=("$set/$name (crit's JSON)")
		done
	done
	[ ${#bad[@]} -eq 0 ] || fail "not re-encoded identically ($mode): ${bad[*]}"
}

@test "encode: plain JSON gives back every fixture image byte for byte" {
	requires_fixtures
	check_reencode ""
}

@test "encode: pretty JSON gives back every fixture image byte for byte" {
	requires_fixtures
	check_reencode --pretty
}

@test "decode and encode through standard input and output" {
	requires_fixtures
	local img="$FIXTURES/counter/pipes-data.img"
	run bash -c "'$OCICR' image decode < '$img'"
	assert_success
	assert_output '{"magic": "PIPES_DATA", "entries": [{"pipe_id": 156486, "bytes": 9, "size": 65536, "extra": "aW4tZmxpZ2h0\n"}]}'

	cat "$img" | ocicr image decode -i - --pretty -o "$TMP/p.json"
	cmp "$TMP/p.json" "$FIXTURES_JSON/counter/pretty/pipes-data.img.json"

	ocicr image encode -i "$TMP/p.json" >"$TMP/out.img"
	cmp "$TMP/out.img" "$img"
	ocicr image encode -o - <"$TMP/p.json" | cmp - "$img"
}

@test "decode --nopl summarises payloads as crit show --nopl does" {
	requires_fixtures
	run ocicr image decode --nopl -i "$FIXTURES/counter/pipes-data.img"
	assert_success
	assert_output '{"magic": "PIPES_DATA", "entries": [{"pipe_id": 156486, "bytes": 9, "size": 65536, "extra": "... <9B>"}]}'

	ocicr image decode --nopl -i "$FIXTURES/counter/pipes-data.img" -o "$TMP/nopl.json"
	run ocicr image encode -i "$TMP/nopl.json" -o "$TMP/pipes-data.img"
	assert_failure 1
	assert_output --partial "left out (decoded with --nopl)"
	[ ! -e "$TMP/pipes-data.img" ]
}

@test "decode: a pagemap-shmem image keeps its own kind" {
	requires_fixtures
	local img="$FIXTURES/pipetree/pagemap-shmem-399.img"
	ocicr image decode -i "$img" -o "$TMP/shmem.json"
	run ocicr image encode -i "$TMP/shmem.json" -o "$TMP/pagemap-shmem-399.img"
	assert_success
	cmp "$img" "$TMP/pagemap-shmem-399.img"
}

@test "show: summarises each fixture directory" {
	requires_fixtures
	local set pid
	for set in $(fixture_sets); do
		run ocicr image show "$FIXTURES/$set"
		assert_success
		pid=$(cat "$FIXTURES/$set/PID")
		assert_output --partial "process tree:"
		assert_output --regexp "  $pid +0 +$pid +$pid  alive .* $set"
		assert_output --partial "task $pid ($set)"
		assert_output --partial "cwd  REG      /tmp/ocicr-fixtures"
		assert_output --partial "exe: REG      /tmp/ocicr-fixtures/$set"
		assert_output --regexp "r-xp  file     /tmp/ocicr-fixtures/$set"
		assert_output --partial "inventory.img"
	done
	run ocicr image show "$FIXTURES/counter"
	assert_output --partial "4  PIPE     pipe:[156486] read end"
	assert_output --partial "3  REG      /tmp/ocicr-fixtures/counter.d/result.data (pos 10)"
	assert_output --partial "total: 1 processes, 1 threads, 1040 pages (4.1 MiB), 1040 stored"
	run ocicr image show "$FIXTURES/threads"
	assert_output --partial "threads 13210 13211 13212 13213 13214"
	run ocicr image show "$FIXTURES/pipetree"
	assert_output --partial "total: 3 processes, 3 threads, 49 pages"
	assert_output --regexp "13235 +13234 +13235 +13234  alive +1 +pipetree"
}

@test "show: damaged or missing task images are reported in place" {
	requires_fixtures
	cp -r "$FIXTURES/pipetree" "$TMP/dir"
	chmod -R u+w "$TMP/dir"
	head -c 50 "$FIXTURES/pipetree/mm-13235.img" >"$TMP/dir/mm-13235.img"
	rm "$TMP/dir/fdinfo-4.img" "$TMP/dir/core-13236.img"
	run ocicr image show "$TMP/dir"
	assert_success
	assert_output --partial "memory: $TMP/dir/mm-13235.img: truncated"
	assert_output --partial "files: none (no fdinfo-4.img)"
	assert_output --regexp "13236 +13234 +13236 +13234  \\? +1 +\\?"
	assert_output --partial "task 13236 (?)"
}

# ---- crit 3.17 ----------------------------------------------------------------------

# Small documents for image kinds whose schema crit 3.17 shares with 4.2.
# The file name picks the kind when encoding.
write_docs() {
	local d=$1 fown='"fown": {"uid": 0, "euid": 0, "signum": 0, "pid_type": 0, "pid": 0}'
	local opts='"opts": {"so_sndbuf": 212992, "so_rcvbuf": 212992, "so_snd_tmo_sec": 0, "so_snd_tmo_usec": 0, "so_rcv_tmo_sec": 0, "so_rcv_tmo_usec": 0}'
	local desc='"desc": {"key": 4660, "uid": 0, "gid": 0, "cuid": 0, "cgid": 0, "mode": 438, "id": 32769}'
	mkdir -p "$d"
	cat >"$d/fs-1.img" <<EOF
{"magic": "FS", "entries": [{"cwd_id": 12, "root_id": 13, "umask": 18}]}
EOF
	cat >"$d/inventory.img" <<EOF
{"magic": "INVENTORY", "entries": [{"img_version": 2, "fdinfo_per_id": true, "root_ids": {"vm_id": 1, "files_id": 1, "fs_id": 1, "sighand_id": 1, "pid_ns_id": 1, "net_ns_id": 2}, "ns_per_id": true, "root_cg_set": 1, "lsmtype": "NO_LSM"}]}
EOF
	cat >"$d/pstree.img" <<EOF
{"magic": "PSTREE", "entries": [{"pid": 100, "ppid": 0, "pgid": 100, "sid": 100, "threads": [100, 101]}, {"pid": 102, "ppid": 100, "pgid": 102, "sid": 100, "threads": [102]}]}
EOF
	cat >"$d/core-100.img" <<EOF
{"magic": "CORE", "entries": [{"mtype": "X86_64", "tc": {"task_state": 1, "exit_code": 0, "personality": 0, "flags": 4194560, "blk_sigset": 65536, "comm": "caf\u00e9 \"x\"", "timers": {"real": {"isec": 0, "iusec": 0, "vsec": 0, "vusec": 0}, "virt": {"isec": 0, "iusec": 0, "vsec": 0, "vusec": 0}, "prof": {"isec": 1, "iusec": 2, "vsec": 3, "vusec": 4}}, "oom_score_adj": -1000}}]}
EOF
	cat >"$d/fdinfo-2.img" <<EOF
{"magic": "FDINFO", "entries": [{"id": 1, "flags": 0, "type": "REG", "fd": 0}, {"id": 2, "flags": 1, "type": "PIPE", "fd": 3}, {"id": 3, "flags": 0, "type": "UNIXSK", "fd": 4}]}
EOF
	cat >"$d/files.img" <<EOF
{"magic": "FILES", "entries": [{"type": "REG", "id": 1, "reg": {"id": 1, "flags": 32770, "pos": 10, $fown, "name": "/tmp/f", "size": 16, "mode": 33188}}, {"type": "PIPE", "id": 2, "pipe": {"id": 2, "pipe_id": 4242, "flags": 1, $fown}}, {"type": "UNIXSK", "id": 3, "usk": {"id": 3, "ino": 777, "type": 1, "state": 10, "flags": 2, "uflags": 0, "backlog": 5, "peer": 0, $fown, $opts, "name": "=00abstract=3Dname"}}]}
EOF
	cat >"$d/tty-data.img" <<EOF
{"magic": "TTY_DATA", "entries": [{"tty_id": 5, "data": "AAECAwRoZWxsbyB3b3JsZCwgdGhpcyBpcyBsb25nIGVub3VnaCB0byB3cmFwIHRoZSBiYXNlNjQg\nbGluZQ==\n"}]}
EOF
	cat >"$d/pipes-data.img" <<EOF
{"magic": "PIPES_DATA", "entries": [{"pipe_id": 4242, "bytes": 5, "size": 65536, "extra": "aGVsbG8=\n"}, {"pipe_id": 4243, "bytes": 0, "extra": ""}]}
EOF
	cat >"$d/sk-queues.img" <<EOF
{"magic": "SK_QUEUES", "entries": [{"id_for": 3, "length": 3, "extra": "eHl6\n"}]}
EOF
	cat >"$d/tcp-stream-30a.img" <<EOF
{"magic": "TCP_STREAM", "entries": [{"inq_len": 2, "inq_seq": 1000, "outq_len": 3, "outq_seq": 2000, "opt_mask": 7, "snd_wscale": 7, "mss_clamp": 1460, "rcv_wscale": 7, "timestamp": 12345, "extra": {"inq": "aGk=\n", "outq": "Ynll\n"}}]}
EOF
	cat >"$d/ipcns-sem-1.img" <<EOF
{"magic": "IPCNS_SEM", "entries": [{$desc, "nsems": 3, "extra": [1, 2, 65535]}]}
EOF
	cat >"$d/ipcns-msg-1.img" <<EOF
{"magic": "IPCNS_MSG", "entries": [{$desc, "qbytes": 16384, "qnum": 2, "extra": [{"mtype": 1, "msize": 5}, "aGVsbG8=\n", {"mtype": 2, "msize": 0}, ""]}]}
EOF
	cat >"$d/ghost-file-1.img" <<EOF
{"magic": "GHOST_FILE", "entries": [{"uid": 0, "gid": 0, "mode": 33188, "dev": 2049, "ino": 1234, "size": 5, "extra": "Z2hvc3Q=\n"}]}
EOF
	cat >"$d/ghost-file-2.img" <<EOF
{"magic": "GHOST_FILE", "entries": [{"uid": 0, "gid": 0, "mode": 33188, "chunks": true, "size": 8192}, {"len": 2, "off": 0, "extra": "aGk=\n"}, {"len": 3, "off": 4096, "extra": "Ynll\n"}]}
EOF
	# pretty forms: hex, flags, dev, dict, ipadd, read back by both tools
	cat >"$d/mm-100.img" <<EOF
{"magic": "MM", "entries": [{"mm_start_code": "0x400000", "mm_end_code": "0x401000", "mm_start_data": "0x600000", "mm_end_data": "0x601000", "mm_start_stack": "0x7ffc00000000", "mm_start_brk": "0x1000000", "mm_brk": "0x1021000", "mm_arg_start": "0x7ffc00001000", "mm_arg_end": "0x7ffc00001010", "mm_env_start": "0x7ffc00001010", "mm_env_end": "0x7ffc00001020", "exe_file_id": 1, "mm_saved_auxv": [33, 140737354125312, 0, 0], "vmas": [{"start": "0x400000", "end": "0x401000", "pgoff": 0, "shmid": 1, "prot": "PROT_READ | PROT_EXEC", "flags": "MAP_PRIVATE", "status": "VMA_AREA_REGULAR | VMA_FILE_PRIVATE", "fd": -1, "fdflags": "0x0"}, {"start": "0x7ffc00000000", "end": "0x7ffc00021000", "pgoff": 0, "shmid": 0, "prot": "PROT_READ | PROT_WRITE", "flags": "MAP_PRIVATE | MAP_ANON | MAP_GROWSDOWN | 0x1000", "status": "VMA_AREA_REGULAR | VMA_AREA_STACK | VMA_ANON_PRIVATE", "fd": -1, "madv": "0x10000"}], "dumpable": 1, "thp_disabled": false}]}
EOF
	cat >"$d/inetsk.img" <<EOF
{"magic": "INETSK", "entries": [{"id": 7, "ino": 31337, "family": "INET", "type": "STREAM", "proto": "TCP", "state": "ESTABLISHED", "src_port": 80, "dst_port": 51234, "flags": "0x802", "backlog": 0, "src_addr": ["10.0.0.1"], "dst_addr": ["192.168.1.200"], $fown, $opts}, {"id": 8, "ino": 31338, "family": "INET6", "type": "DGRAM", "proto": "UDP", "state": "CLOSE", "src_port": 53, "dst_port": 0, "flags": "0x0", "backlog": 0, "src_addr": ["fe80::1:2"], "dst_addr": ["::"], $fown, $opts, "v6only": true}]}
EOF
	cat >"$d/sigacts-100.img" <<EOF
{"magic": "SIGACT", "entries": [{"sigaction": "0x401a2b", "flags": "0x4000000", "restorer": "0x401000", "mask": "0x0"}, {"sigaction": "0x0", "flags": "0x0", "restorer": "0x0", "mask": "0xffffffffffffffff", "compat_sigaction": false}]}
EOF
	cat >"$d/mountpoints-5.img" <<EOF
{"magic": "MNTS", "entries": [{"fstype": 1, "mnt_id": 22, "root_dev": "8:1", "parent_mnt_id": 1, "flags": "0x200000", "root": "/", "mountpoint": "/", "source": "/dev/sda1", "options": "errors=remount-ro", "shared_id": 1, "master_id": 0, "sb_flags": "0x0"}]}
EOF
}

PRETTY_DOCS="mm-100.img inetsk.img sigacts-100.img mountpoints-5.img"

is_pretty_doc() {
	case " $PRETTY_DOCS " in *" $1 "*) return 0 ;; esac
	return 1
}

@test "crit 3.17's images decode and re-encode identically with ocicr" {
	requires_crit
	requires_python
	local doc name mode bad=()
	write_docs "$TMP/docs"
	mkdir -p "$TMP/crit" "$TMP/ours"
	for doc in "$TMP"/docs/*; do
		name=$(basename "$doc")
		mode=
		is_pretty_doc "$name" && mode=--pretty
		crit encode -i "$doc" -o "$TMP/crit/$name" || { bad+=("$name (crit encode)"); continue; }
		# crit's image decodes to the document...
		ocicr image decode $mode -i "$TMP/crit/$name" -o "$TMP/$name.json" &&
			json_equal "$TMP/$name.json" "$doc" || bad+=("$name (decode)")
		# ...and the document encodes to crit's bytes
		ocicr image encode -i "$doc" -o "$TMP/ours/$name" &&
			cmp "$TMP/crit/$name" "$TMP/ours/$name" || bad+=("$name (encode)")
		# our JSON re-encodes to the same bytes too
		ocicr image encode -i "$TMP/$name.json" -o "$TMP/ours/$name.2" &&
			cmp "$TMP/crit/$name" "$TMP/ours/$name.2" || bad+=("$name (re-encode)")
	done
	[ ${#bad[@]} -eq 0 ] || fail "${bad[*]}"
}

@test "crit 3.17 decodes ocicr's images identically" {
	requires_crit
	requires_python
	local doc name bad=()
	write_docs "$TMP/docs"
	mkdir -p "$TMP/ours"
	for doc in "$TMP"/docs/*; do
		name=$(basename "$doc")
		ocicr image encode -i "$doc" -o "$TMP/ours/$name" || { bad+=("$name (encode)"); continue; }
		if is_pretty_doc "$name"; then
			crit decode --pretty -i "$TMP/ours/$name" -o "$TMP/$name.crit.json"
		else
			crit decode -i "$TMP/ours/$name" -o "$TMP/$name.crit.json"
		fi && json_equal "$TMP/$name.crit.json" "$doc" || bad+=("$name")
		# and both tools print the same text
		ocicr image decode -i "$TMP/ours/$name" >"$TMP/$name.ours.txt"
		crit decode -i "$TMP/ours/$name" >"$TMP/$name.crit.txt"
		cmp -s "$TMP/$name.ours.txt" "$TMP/$name.crit.txt" || bad+=("$name (text)")
	done
	[ ${#bad[@]} -eq 0 ] || fail "${bad[*]}"
}

# ---- the command line ----------------------------------------------------------------

@test "image --help and each command's --help" {
	run ocicr image --help
	assert_success
	assert_output --partial "Usage: ocicr image COMMAND"
	for cmd in decode encode show; do
		run ocicr image $cmd --help
		assert_success
		assert_output --partial "Usage: ocicr image $cmd"
	done
}

@test "usage errors exit 2" {
	run ocicr image
	assert_failure 2
	run ocicr image frobnicate
	assert_failure 2
	assert_output --partial "unknown command 'frobnicate'"
	run ocicr image decode --bogus
	assert_failure 2
	assert_output --partial "unknown option '--bogus'"
	run ocicr image decode -i
	assert_failure 2
	assert_output --partial "option '-i' needs an argument"
	run ocicr image decode -i x extra
	assert_failure 2
	assert_output --partial "unexpected argument 'extra'"
	run ocicr image show
	assert_failure 2
	assert_output --partial "missing the image directory"
	run ocicr image show a b
	assert_failure 2
}

@test "decode: a missing file fails naming it" {
	run ocicr image decode -i "$TMP/nope.img"
	assert_failure 1
	assert_output "ocicr: image decode: $TMP/nope.img: no such image file"
}

@test "decode: a wrong magic fails naming the file" {
	printf '\x19\x43\x56\x54\x78\x56\x34\x12' >"$TMP/core-1.img"
	run ocicr image decode -i "$TMP/core-1.img"
	assert_failure 1
	assert_output --partial "$TMP/core-1.img: bad magic 0x12345678 at offset 4"
	# an MM image under a core image's name
	printf '\x19\x43\x56\x54\x20\x28\x49\x57' >"$TMP/core-2.img"
	run ocicr image decode -i "$TMP/core-2.img"
	assert_failure 1
	assert_output --partial "$TMP/core-2.img: holds a MM image"
}

@test "decode: a truncated image fails naming the file and offset" {
	requires_fixtures
	head -c 100 "$FIXTURES/counter/core-13190.img" >"$TMP/core-13190.img"
	run ocicr image decode -i "$TMP/core-13190.img"
	assert_failure 1
	assert_output --partial "$TMP/core-13190.img: truncated: entry 0 at offset 8 claims"
	: >"$TMP/empty.img"
	run ocicr image decode -i "$TMP/empty.img"
	assert_failure 1
	assert_output --partial "$TMP/empty.img: file is empty"
	# nothing is written on failure
	run ocicr image decode -i "$TMP/core-13190.img" -o "$TMP/out.json"
	assert_failure 1
	[ ! -e "$TMP/out.json" ]
}

@test "decode: raw images are refused clearly" {
	requires_fixtures
	run ocicr image decode -i "$FIXTURES/counter/pages-1.img"
	assert_failure 1
	assert_output --partial "pages-1.img: a PAGES image is raw data without entries"
}

@test "encode: bad input fails naming the place" {
	echo '{"magic": "FS", "entries": [{"cwd_id": 1}]}' >"$TMP/fs.json"
	run ocicr image encode -i "$TMP/fs.json" -o "$TMP/fs-1.img"
	assert_failure 1
	assert_output --partial "$TMP/fs-1.img: entries[0]: fs_entry: missing required field 'root_id'"
	[ ! -e "$TMP/fs-1.img" ]

	printf '{"magic": "FS",\n "entries": [\n' >"$TMP/cut.json"
	run ocicr image encode -i "$TMP/cut.json" -o "$TMP/fs-1.img"
	assert_failure 1
	assert_output --partial "JSON input: line 3"

	run ocicr image encode -i "$TMP/none.json" -o "$TMP/fs-1.img"
	assert_failure 1
	assert_output --partial "$TMP/none.json"

	# an existing image is left alone when encoding fails
	echo '{"magic": "FS", "entries": [{"cwd_id": 1, "root_id": 2}]}' >"$TMP/ok.json"
	ocicr image encode -i "$TMP/ok.json" -o "$TMP/fs-1.img"
	cp "$TMP/fs-1.img" "$TMP/before.img"
	run ocicr image encode -i "$TMP/fs.json" -o "$TMP/fs-1.img"
	assert_failure 1
	cmp "$TMP/fs-1.img" "$TMP/before.img"
}

@test "show: a directory without images fails clearly" {
	run ocicr image show "$TMP"
	assert_failure 1
	assert_output "ocicr: image show: $TMP: no inventory.img: not a CRIU image directory"
	run ocicr image show "$TMP/missing"
	assert_failure 1
	assert_output --partial "$TMP/missing"
}
