#!/usr/bin/env bats
# ocicr inspect and ocicr diff: podman exports, CRI-O archives, image
# directories, memory dumps and searches, damaged inputs.

load helpers

PODMAN_FIXTURE=$SHARED/fixtures/podman/busybox-loop.tar.zst

setup() {
	T=$BATS_TEST_TMPDIR
	# Every temporary directory inspect makes goes here, so the tests can
	# see that none is left behind.
	export TMPDIR=$T/tmp
	mkdir -p "$TMPDIR"
	WL_PID=
}

teardown() {
	if [ -n "$WL_PID" ]; then
		# the shell first, so that it cannot start the next child
		local children
		children=$(pgrep -P "$WL_PID" || true)
		kill -KILL "$WL_PID" 2>/dev/null || true
		for p in $children $(pgrep -P "$WL_PID" || true); do kill "$p" 2>/dev/null || true; done
	fi
}

# Nothing may remain in TMPDIR after an inspection, good or bad.
assert_tmp_clean() {
	run ls -A "$TMPDIR"
	assert_output ""
}

needs_fixture() {
	requires shared
	[ -f "$PODMAN_FIXTURE" ] || skip "needs $PODMAN_FIXTURE"
}

# A small workload: a shell with a file open and a sleeping child.  Killing
# the child makes it open a second file and start another child.
start_workload() {
	cat >"$T/wl.sh" <<-'EOF'
		echo $$ >"$1/pid"
		exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
		exec 3>"$1/out1"
		echo first >&3
		sleep 1000 &
		wait
		exec 4>"$1/out2"
		echo second-line >&3
		sleep 1001 &
		wait
	EOF
	# (bats's own descriptors are closed, so the workload's are its own)
	env -i PATH=/usr/bin:/bin INSPECT_TAG=bats-inspect-workload \
		setsid sh "$T/wl.sh" "$T" </dev/null >/dev/null 2>&1 3>&- 4>&- &
	for _ in $(seq 100); do
		[ -s "$T/pid" ] && pgrep -P "$(cat "$T/pid")" >/dev/null && break
		sleep 0.05
	done
	WL_PID=$(cat "$T/pid")
	[ -n "$(pgrep -P "$WL_PID")" ]
}

dump_workload() {
	run ocicr dump -t "$WL_PID" -D "$1" -R
	assert_success
}

# A CRI-O/kubelet style archive from an images directory: uncompressed tar,
# CRIU images under checkpoint/, CRI-O's small config.dump, spec.dump with
# cri-o annotations, stats-dump and dump.log at the top, the log under its
# literal annotation name, bind.mounts, rootfs-diff.tar and deleted.files.
make_crio_archive() {
	local images=$1 out=$2 c=$T/crio
	rm -rf "$c" && mkdir -p "$c/checkpoint" "$c/rootfs/etc"
	cp "$images"/*.img "$c/checkpoint/"
	echo '["/dev/null"]' >"$c/checkpoint/descriptors.json"
	[ -f "$images/stats-dump" ] && cp "$images/stats-dump" "$c/"
	echo "(00.000001) Info: dump log" >"$c/dump.log"
	cat >"$c/config.dump" <<-'EOF'
		{"id":"7a3f0c1d2e4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff",
		 "name":"k8s_web_webpod_shop_1c2d3e4f_0",
		 "rootfsImage":"registry.example/web:1.0",
		 "rootfsImageRef":"sha256:5b2c0f3e9d8a7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b",
		 "rootfsImageName":"registry.example/web:1.0",
		 "runtime":"runc",
		 "createdTime":"2026-03-01T10:00:00Z",
		 "checkpointedTime":"2026-03-01T10:05:00Z",
		 "restoredTime":"0001-01-01T00:00:00Z",
		 "restored":false}
	EOF
	cat >"$c/spec.dump" <<-'EOF'
		{"ociVersion":"1.0.2-dev",
		 "process":{"args":["sh","/wl.sh"],"cwd":"/"},
		 "root":{"path":"/var/lib/containers/storage/overlay/x/merged"},
		 "hostname":"webpod",
		 "mounts":[{"destination":"/proc","type":"proc","source":"proc","options":["nosuid","noexec","nodev"]},
		           {"destination":"/data","type":"bind","source":"/srv/data","options":["rbind","rw"]}],
		 "annotations":{"io.container.manager":"cri-o",
		   "io.kubernetes.cri-o.Metadata":"{\"name\":\"web\",\"attempt\":0}",
		   "io.kubernetes.pod.name":"webpod",
		   "io.kubernetes.pod.namespace":"shop",
		   "io.kubernetes.cri-o.IP.0":"10.85.0.17",
		   "io.kubernetes.cri-o.Created":"2026-03-01T10:00:00Z",
		   "io.kubernetes.cri-o.Annotations":"{}",
		   "io.kubernetes.cri-o.LogPath":"/var/log/pods/shop_webpod/web/0.log"}}
	EOF
	echo '[{"source":"/srv/data","destination":"/data","file_type":"directory","permissions":493}]' >"$c/bind.mounts"
	echo "2026-03-01T10:00:01.000000000Z stdout F hello" >"$c/io.kubernetes.cri-o.LogPath"
	echo "changed" >"$c/rootfs/etc/motd"
	tar -C "$c/rootfs" -cf "$c/rootfs-diff.tar" etc
	echo '["/etc/issue"]' >"$c/deleted.files"
	tar -C "$c" -cf "$out" stats-dump dump.log checkpoint config.dump spec.dump bind.mounts \
		rootfs-diff.tar deleted.files io.kubernetes.cri-o.LogPath
}

# ---- the podman export ---------------------------------------------------------

@test "inspect podman export: identity and process tree by default" {
	needs_fixture
	run ocicr inspect "$PODMAN_FIXTURE"
	assert_success
	assert_line "Container fx1"
	assert_output --partial "Name: fx1"
	assert_output --partial "Image: localhost/bb:latest"
	assert_output --partial "Engine: Podman"
	assert_output --partial "Runtime: runc"
	assert_output --partial "ID: a5b5911b2fcc0b1f27180bc2ad613fad463fb333ca0477105f561e5f1056df33"
	assert_output --partial "Created: 2026-11-23T00:39:29.587531007Z"
	assert_output --partial "IP: 10.88.0.10/16 on eth0"
	assert_output --partial "MAC: 76:3b:3c:cc:eb:23"
	assert_output --partial "[1] sh"
	assert_output --partial "[11] sleep"
	assert_tmp_clean
}

@test "inspect --cmdline: the sh command line, read from memory" {
	needs_fixture
	run ocicr inspect --cmdline "$PODMAN_FIXTURE"
	assert_success
	assert_output --partial "Command line: /bin/sh -c 'mkdir -p /data; echo hello > /data/note.txt;"
	assert_output --partial "Command line: sleep 1"
	refute_output --partial "Environment"
	assert_tmp_clean
}

@test "inspect --env: APP_MODE=forensic-demo from the saved memory" {
	needs_fixture
	run ocicr inspect --env "$PODMAN_FIXTURE"
	assert_success
	assert_output --partial "APP_MODE=forensic-demo"
	assert_output --partial "HOSTNAME=a5b5911b2fcc"
	refute_output --partial "Command line"
	assert_tmp_clean
}

@test "inspect --files: open files with paths, flags and offsets; cwd and root" {
	needs_fixture
	run ocicr inspect --files "$PODMAN_FIXTURE"
	assert_success
	assert_output --partial "0: /dev/null (REG, O_RDWR|O_LARGEFILE, offset 0)"
	assert_output --partial "1: pipe:[75459] (PIPE, O_WRONLY)"
	assert_output --partial "2: pipe:[75460] (PIPE, O_WRONLY)"
	assert_output --partial "Executable: /bin/busybox"
	assert_output --partial "Working directory: /"
	assert_output --partial "Root: /"
}

@test "inspect --sockets: the busybox loop has none" {
	needs_fixture
	run ocicr inspect --sockets "$PODMAN_FIXTURE"
	assert_success
	assert_output --partial "Sockets: none"
}

@test "inspect --sockets: kinds, addresses and states (sockets added to the export with crit)" {
	needs_fixture
	requires crit python3
	mkdir "$T/x"
	tar --zstd -C "$T/x" -xf "$PODMAN_FIXTURE"
	crit decode -i "$T/x/checkpoint/files.img" >"$T/files.json"
	crit decode -i "$T/x/checkpoint/fdinfo-2.img" >"$T/fdinfo.json"
	python3 - "$T" <<-'EOF'
		import json, sys
		t = sys.argv[1]
		f = json.load(open(t + "/files.json"))
		fown = {"uid": 0, "euid": 0, "signum": 0, "pid_type": 0, "pid": 0}
		opts = {"so_sndbuf": 212992, "so_rcvbuf": 212992, "so_snd_tmo_sec": 0, "so_snd_tmo_usec": 0,
		        "so_rcv_tmo_sec": 0, "so_rcv_tmo_usec": 0}
		def isk(id, ino, fam, typ, proto, state, sport, src, dport=0, dst=None):
		    e = {"id": id, "ino": ino, "family": fam, "type": typ, "proto": proto, "state": state,
		         "src_port": sport, "dst_port": dport, "flags": 2, "backlog": 128, "src_addr": src,
		         "fown": fown, "opts": opts}
		    if dst:
		        e["dst_addr"] = dst
		    return {"type": "INETSK", "id": id, "isk": e}
		def usk(id, ino, typ, state, peer, name):
		    return {"type": "UNIXSK", "id": id, "usk": {"id": id, "ino": ino, "type": typ, "state": state,
		            "flags": 2, "uflags": 0, "backlog": 0, "peer": peer, "fown": fown, "opts": opts,
		            "name": name}}
		f["entries"] += [
		    isk(20, 91001, "INET", "STREAM", "TCP", "LISTEN", 8080, ["0.0.0.0"]),
		    isk(21, 91002, "INET", "STREAM", "TCP", "ESTABLISHED", 8080, ["10.88.0.10"], 41234, ["10.88.0.1"]),
		    isk(22, 91003, "INET6", "DGRAM", "UDP", "CLOSE", 53, ["::1"], 0, ["::"]),
		    usk(23, 91004, "STREAM", "ESTABLISHED", 91009, ""),
		    usk(24, 91005, "DGRAM", "CLOSE", 0, "\u0000bats-abstract"),
		    usk(25, 91006, "STREAM", "LISTEN", 0, "/run/app.sock"),
		]
		json.dump(f, open(t + "/files.json", "w"))
		d = json.load(open(t + "/fdinfo.json"))
		d["entries"] += [{"id": 20 + i, "flags": 1, "type": "INETSK" if i < 3 else "UNIXSK", "fd": 5 + i}
		                 for i in range(6)]
		json.dump(d, open(t + "/fdinfo.json", "w"))
	EOF
	crit encode -i "$T/files.json" -o "$T/x/checkpoint/files.img"
	crit encode -i "$T/fdinfo.json" -o "$T/x/checkpoint/fdinfo-2.img"
	tar -C "$T/x" -czf "$T/sockets.tgz" .
	run ocicr inspect --sockets "$T/sockets.tgz"
	assert_success
	assert_output --partial "5: tcp stream LISTEN 0.0.0.0:8080"
	assert_output --partial "6: tcp stream ESTABLISHED 10.88.0.10:8080 -> 10.88.0.1:41234"
	assert_output --partial "7: udp6 dgram CLOSE [::1]:53"
	refute_output --partial "[::1]:53 ->"
	assert_output --partial "8: unix stream ESTABLISHED (unnamed), peer socket:[91009]"
	assert_output --partial "9: unix dgram CLOSE @bats-abstract"
	assert_output --partial "10: unix stream LISTEN /run/app.sock"
	run ocicr inspect --files "$T/sockets.tgz"
	assert_output --partial "5: socket:[91001] (INETSK, O_RDWR, close-on-exec)"
	run ocicr inspect --sockets --format json "$T/sockets.tgz"
	assert_success
	echo "$output" | python3 -c '
import json, sys
s = json.load(sys.stdin)["processes"][0]["sockets"]
assert s[1] == {"fd": 6, "kind": "tcp", "type": "stream", "state": "ESTABLISHED", "local": "10.88.0.10:8080",
                "remote": "10.88.0.1:41234", "inode": 91002, "peer_inode": None}, s[1]
assert s[3]["peer_inode"] == 91009 and s[4]["local"] == "@bats-abstract"
'
	assert_tmp_clean
}

@test "inspect --mounts: the mounts of spec.dump" {
	needs_fixture
	run ocicr inspect --mounts "$PODMAN_FIXTURE"
	assert_success
	assert_output --partial "Mounts (spec.dump)"
	assert_output --partial "/proc (proc, source proc, nosuid,noexec,nodev)"
	assert_output --regexp "/etc/hostname \(bind, source /run/containers/storage/overlay-containers/[0-9a-f]+/userdata/hostname"
	refute_output --partial "[1] sh"
}

@test "inspect --stats: the dump statistics and memory sizes" {
	needs_fixture
	run ocicr inspect --stats "$PODMAN_FIXTURE"
	assert_success
	assert_output --partial "Freezing time: 104035 us"
	assert_output --partial "Frozen time: 115657 us"
	assert_output --partial "Pages written: 35"
	assert_output --partial "Memory: 2.2 MiB in 11 mappings, 76.0 KiB dumped (19 pages)"
}

@test "inspect --metadata: annotations, container command, rootfs changes" {
	needs_fixture
	run ocicr inspect --metadata "$PODMAN_FIXTURE"
	assert_success
	assert_output --partial "io.container.manager=libpod"
	assert_output --partial "Archive: 39 members, compression zstd"
	assert_output --partial "Root filesystem changes (rootfs-diff.tar): 8"
	assert_output --partial "data/note.txt (6 bytes)"
	assert_output --partial "Credentials: uid 0, gid 0"
}

@test "inspect --all shows every section" {
	needs_fixture
	run ocicr inspect --all "$PODMAN_FIXTURE"
	assert_success
	for s in "Command line:" "APP_MODE=forensic-demo" "Open files" "Sockets: none" "Mounts (spec.dump)" \
		"Dump statistics" "Metadata" "Image: localhost/bb:latest"; do
		assert_output --partial "$s"
	done
	assert_tmp_clean
}

@test "inspect a decompressed copy (plain tar) and a gzip copy: the same report" {
	needs_fixture
	requires zstd gzip
	zstd -q -dc "$PODMAN_FIXTURE" >"$T/plain.tar"
	gzip -c "$T/plain.tar" >"$T/export.gz.tar"
	# a misleading name: the content decides
	cp "$T/plain.tar" "$T/export.tar.zst"
	run ocicr inspect --all "$PODMAN_FIXTURE"
	assert_success
	local want=$(echo "$output" | grep -v -e '^├── Source:' -e 'Archive:')
	for f in plain.tar export.gz.tar export.tar.zst; do
		run ocicr inspect --all "$T/$f"
		assert_success
		assert_output --partial "APP_MODE=forensic-demo"
		assert_output --partial "Command line: /bin/sh -c 'mkdir -p /data"
		assert_output --partial "Image: localhost/bb:latest"
		[ "$(echo "$output" | grep -v -e '^├── Source:' -e 'Archive:')" = "$want" ]
	done
	run ocicr inspect --metadata "$T/export.gz.tar"
	assert_output --partial "compression gzip"
	run ocicr inspect --metadata "$T/plain.tar"
	assert_output --partial "compression none"
	assert_tmp_clean
}

@test "inspect an archive from standard input or a pipe" {
	needs_fixture
	requires zstd
	run sh -c "'$OCICR' inspect --env - <'$PODMAN_FIXTURE'"
	assert_success
	assert_output --partial "Source: standard input (Podman container checkpoint archive (tar, zstd))"
	assert_output --partial "APP_MODE=forensic-demo"
	run sh -c "zstd -q -dc '$PODMAN_FIXTURE' | '$OCICR' inspect --cmdline -"
	assert_success
	assert_output --partial "Command line: sleep 1"
	mkfifo "$T/fifo"
	(zstd -q -dc "$PODMAN_FIXTURE" >"$T/fifo" &)
	run ocicr inspect --files "$T/fifo"
	assert_success
	assert_output --partial "0: /dev/null (REG, O_RDWR|O_LARGEFILE, offset 0)"
	assert_tmp_clean
}

@test "an inspection killed by a signal leaves no extracted files behind" {
	needs_fixture
	requires zstd
	mkfifo "$T/fifo"
	# half an archive, then the writer stalls: inspect waits in the middle
	(zstd -q -dc "$PODMAN_FIXTURE" | head -c 60000; exec sleep 30) >"$T/fifo" 3>&- &
	local writer=$!
	"$OCICR" inspect --all "$T/fifo" >/dev/null 2>&1 3>&- &
	local ipid=$!
	for _ in $(seq 100); do
		[ -n "$(ls -A "$TMPDIR")" ] && [ -n "$(ls -A "$TMPDIR"/*)" ] && break
		sleep 0.05
	done
	run ls -A "$TMPDIR"/ocicr-inspect-*
	assert_output --partial "config.dump"
	kill -TERM "$ipid"
	local status=0
	wait "$ipid" || status=$?
	kill "$writer" 2>/dev/null || true
	[ "$status" -eq 143 ]
	assert_tmp_clean
}

@test "inspect an unpacked podman export (a checkpoint directory)" {
	needs_fixture
	mkdir "$T/unpacked"
	tar --zstd -C "$T/unpacked" -xf "$PODMAN_FIXTURE"
	run ocicr inspect --cmdline --env "$T/unpacked"
	assert_success
	assert_output --partial "Podman checkpoint directory"
	assert_output --partial "APP_MODE=forensic-demo"
	# its checkpoint/ alone is an images directory: mounts from the images
	run ocicr inspect --mounts "$T/unpacked/checkpoint"
	assert_success
	assert_output --partial "Mounts (mountpoints image)"
	assert_output --partial "/sys/firmware (tmpfs, source tmpfs, ro)"
	assert_output --regexp "/ \(overlayfs, source overlay, lowerdir="
	assert_tmp_clean
}

@test "inspect --format json: stable keys, parsed by python3" {
	needs_fixture
	requires python3
	run ocicr inspect --all --format json "$PODMAN_FIXTURE"
	assert_success
	echo "$output" >"$T/out.json"
	run python3 - "$T/out.json" <<-'EOF'
		import json, sys
		d = json.load(open(sys.argv[1]))
		assert d["schema_version"] == 1
		for k in ("target", "container", "checkpoint", "processes", "mounts", "mounts_from", "stats", "metadata"):
		    assert k in d, k
		assert set(d["target"]) == {"path", "kind", "compression", "container"}
		assert d["target"]["kind"] == "archive" and d["target"]["compression"] == "zstd"
		c = d["container"]
		assert c["name"] == "fx1" and c["image"] == "localhost/bb:latest" and c["engine"] == "Podman"
		assert c["ips"][0]["address"] == "10.88.0.10/16" and c["ips"][0]["mac"] == "76:3b:3c:cc:eb:23"
		for k in ("checkpointed", "checkpointed_from", "img_version", "images", "images_size", "pages_size",
		          "rootfs_diff_size", "processes"):
		    assert k in d["checkpoint"], k
		p = {x["pid"]: x for x in d["processes"]}
		sh = p[1]
		for k in ("pid", "ppid", "pgid", "sid", "comm", "state", "exit_code", "threads", "creds", "argv",
		          "argv_error", "env", "env_error", "exe", "cwd", "root", "files", "sockets", "memory"):
		    assert k in sh, k
		assert sh["comm"] == "sh" and sh["argv"][0] == "/bin/sh" and sh["argv"][1] == "-c"
		assert "APP_MODE=forensic-demo" in sh["env"]
		assert p[11]["ppid"] == 1 and p[11]["argv"] == ["sleep", "1"]
		f0 = [f for f in sh["files"] if f["fd"] == 0][0]
		assert f0 == {"fd": 0, "type": "REG", "path": "/dev/null", "flags": "O_RDWR|O_LARGEFILE",
		              "pos": 0, "size": None, "cloexec": False}, f0
		assert set(sh["memory"]) == {"mappings", "mapped_size", "dumped_pages", "dumped_size",
		                             "parent_pages", "lazy_pages"}
		assert sh["memory"]["dumped_pages"] == 19
		assert d["stats"]["pages_written"] == 35
		assert d["mounts_from"] == "spec.dump" and d["mounts"][0]["destination"] == "/proc"
		m = d["metadata"]
		assert m["annotations"]["io.container.manager"] == "libpod"
		assert {"path": "data/note.txt", "type": "f", "size": 6} in m["rootfs_changes"]
		print("ok")
	EOF
	assert_success
	assert_output "ok"
}

@test "inspect --format json without options: identity and processes only" {
	needs_fixture
	requires python3
	run ocicr inspect --format json "$PODMAN_FIXTURE"
	assert_success
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert "processes" in d and "mounts" not in d and "stats" not in d and "metadata" not in d
assert "argv" not in d["processes"][0] and "files" not in d["processes"][0]
'
}

# ---- memory --------------------------------------------------------------------

@test "inspect --memory --search finds the environment in memory, with context" {
	needs_fixture
	run ocicr inspect --memory 1 --search APP_MODE= --context 8 "$PODMAN_FIXTURE"
	assert_success
	assert_output --regexp "^0x[0-9a-f]{16}  .*APP_MODE=forensic"
	assert_output --partial "1 match in the memory of process 1 (sh)"
	assert_tmp_clean
}

@test "inspect --memory --search-regex, as JSON" {
	needs_fixture
	requires python3
	run ocicr inspect --memory 11 --search-regex 'APP_MODE=[a-z-]+' --context 0 --format json "$PODMAN_FIXTURE"
	assert_success
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["pid"] == 11 and d["comm"] == "sleep" and d["count"] == 1
m = d["matches"][0]
assert m["match"] == "APP_MODE=forensic-demo" and m["before"] == "" and m["after"] == ""
assert m["address"] > 0x7f0000000000
'
}

@test "inspect --memory: a hexdump listing, or raw bytes with an address map" {
	needs_fixture
	run ocicr inspect --memory 1 "$PODMAN_FIXTURE"
	assert_success
	assert_line --index 0 "# memory of process 1 (sh) as dumped; addresses on the left"
	assert_output --regexp "0000000000401000  [0-9a-f]{2} "
	assert_output --partial "# 76.0 KiB in total"
	assert_output --partial "|"

	run ocicr inspect --memory 1 -o "$T/mem.txt" "$PODMAN_FIXTURE"
	assert_success
	assert_output ""
	grep -q "^# 76.0 KiB in total" "$T/mem.txt"
	[ "$(stat -c %a "$T/mem.txt")" = 600 ]

	run ocicr inspect --memory 1 -o "$T/mem.raw" --raw "$PODMAN_FIXTURE"
	assert_success
	assert_output --partial "0000000000401000-0000000000402000"
	assert_output --partial "at offset 0"
	[ "$(stat -c %s "$T/mem.raw")" = 77824 ]
	grep -q "APP_MODE=forensic-demo" "$T/mem.raw"
	assert_tmp_clean
}

@test "inspect --memory: an unknown pid, and options that do not go together" {
	needs_fixture
	run ocicr inspect --memory 5 "$PODMAN_FIXTURE"
	assert_failure 1
	assert_output --partial "no process 5 in the checkpoint (its processes: 1, 11)"
	run ocicr inspect --memory 1 --search a --search-regex b "$PODMAN_FIXTURE"
	assert_failure 2
	run ocicr inspect --search a "$PODMAN_FIXTURE"
	assert_failure 2
	run ocicr inspect --memory 1 --search-regex '(' "$PODMAN_FIXTURE"
	assert_failure 2
	assert_output --partial "bad regular expression"
	run ocicr inspect --memory 1 --raw "$PODMAN_FIXTURE"
	assert_failure 2
	run ocicr inspect --memory 1 --env "$PODMAN_FIXTURE"
	assert_failure 2
	run ocicr inspect --memory abc "$PODMAN_FIXTURE"
	assert_failure 2
	run ocicr inspect --memory 1 --search x --context -1 "$PODMAN_FIXTURE"
	assert_failure 2
	assert_tmp_clean
}

# ---- image directories written by CRIU ---------------------------------------------

@test "inspect the CRIU 4.2 image directories" {
	requires shared
	for d in "$SHARED"/fixtures/criu-4.2/*/; do
		name=$(basename "$d")
		pid=$(cat "$d/PID")
		run ocicr inspect --all "$d"
		assert_success
		assert_output --partial "images directory"
		assert_output --partial "[$pid] $name"
		assert_output --regexp "Command line: /tmp/ocicr-fixtures/$name (/tmp/ocicr-fixtures/)?$name\\.d/ready"
		assert_output --partial "PATH=/usr/bin:/bin"
		assert_output --partial "Working directory: /tmp/ocicr-fixtures"
		assert_output --partial "Dump statistics"
	done
	run ocicr inspect --files "$SHARED/fixtures/criu-4.2/counter"
	assert_output --partial "3: /tmp/ocicr-fixtures/counter.d/result.data (REG, O_RDWR|O_LARGEFILE, offset 10)"
	run ocicr inspect "$SHARED/fixtures/criu-4.2/threads"
	assert_output --partial "threads (5 threads)"
	run ocicr inspect "$SHARED/fixtures/criu-4.2/pipetree"
	assert_output --partial "Process tree (3 processes)"
}

@test "inspect --memory on a 4 MiB heap: search across pages, a tar of the images directory" {
	requires shared
	local d=$SHARED/fixtures/criu-4.2/counter
	run ocicr inspect --memory "$(cat "$d/PID")" --search /tmp/ocicr-fixtures/counter.d/result.data "$d"
	assert_success
	assert_output --regexp "[1-9][0-9]* match(es)? in the memory of process"
	tar -C "$d" -czf "$T/counter.tgz" .
	run ocicr inspect --cmdline "$T/counter.tgz"
	assert_success
	assert_output --partial "Checkpoint $T/counter.tgz"
	assert_output --partial "Command line: /tmp/ocicr-fixtures/counter"
	assert_tmp_clean
}

# ---- a workload of our own: CRI-O archive, diff --------------------------------------

@test "inspect a CRI-O style archive built from an ocicr dump" {
	requires root
	start_workload
	dump_workload "$T/d1"
	make_crio_archive "$T/d1" "$T/checkpoint-webpod_shop-web-2026-03-01T10:05:00Z.tar"
	local a="$T/checkpoint-webpod_shop-web-2026-03-01T10:05:00Z.tar"
	run ocicr inspect --all "$a"
	assert_success
	assert_line "Container web"
	assert_output --partial "CRI-O container checkpoint archive (tar)"
	assert_output --partial "Name: web (k8s_web_webpod_shop_1c2d3e4f_0)"
	assert_output --partial "Pod: webpod in namespace shop"
	assert_output --partial "Image: registry.example/web:1.0"
	assert_output --partial "Checkpointed: 2026-03-01T10:05:00Z"
	assert_output --partial "IP: 10.85.0.17"
	assert_output --partial "[$WL_PID] sh"
	assert_output --partial "Command line: sh $T/wl.sh $T"
	assert_output --partial "INSPECT_TAG=bats-inspect-workload"
	assert_output --partial "3: $T/out1 (REG, O_WRONLY|O_LARGEFILE, offset 6)"
	assert_output --regexp "\] sleep"
	assert_output --partial "Command line: sleep 1000"
	assert_output --partial "/data (bind, source /srv/data, rbind,rw)"
	assert_output --partial "etc/motd (8 bytes)"
	assert_output --partial "Deleted files: 1"
	run ocicr inspect --format json "$a"
	assert_success
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = d["container"]
assert c["engine"] == "CRI-O" and c["name"] == "web" and c["pod_name"] == "webpod"
assert c["pod_namespace"] == "shop" and c["ips"][0]["address"] == "10.85.0.17"
assert d["checkpoint"]["checkpointed_from"] == "config.dump"
'
	# and the images directory itself
	run ocicr inspect --env "$T/d1"
	assert_success
	assert_output --partial "INSPECT_TAG=bats-inspect-workload"
	assert_tmp_clean
}

@test "CRI-O style archives built from the CRIU 4.2 image directories" {
	requires shared
	for d in "$SHARED"/fixtures/criu-4.2/*/; do
		name=$(basename "$d")
		make_crio_archive "$d" "$T/crio-$name.tar"
		run ocicr inspect --all "$T/crio-$name.tar"
		assert_success
		assert_line "Container web"
		assert_output --partial "CRI-O container checkpoint archive (tar)"
		assert_output --partial "[$(cat "$d/PID")] $name"
		assert_output --regexp "Command line: /tmp/ocicr-fixtures/$name (/tmp/ocicr-fixtures/)?$name\\.d/ready"
		assert_output --partial "LANG=C"
		assert_output --partial "Dump statistics"
	done
	run ocicr diff "$SHARED/fixtures/criu-4.2/counter" "$T/crio-counter.tar"
	assert_success
	assert_output --partial "Name: - -> web"
	assert_output --partial "= [$(cat "$SHARED/fixtures/criu-4.2/counter/PID")] counter (unchanged)"
	assert_tmp_clean
}

@test "diff two dumps of a running workload" {
	requires root
	start_workload
	dump_workload "$T/d1"
	local child1
	child1=$(pgrep -P "$WL_PID")
	kill "$child1"
	for _ in $(seq 100); do
		c=$(pgrep -P "$WL_PID" || true)
		[ -n "$c" ] && [ "$c" != "$child1" ] && [ -s "$T/out2" -o -e "$T/out2" ] && break
		sleep 0.05
	done
	sleep 0.2
	dump_workload "$T/d2"
	local child2
	child2=$(pgrep -P "$WL_PID")
	run ocicr diff "$T/d1" "$T/d2"
	assert_success
	assert_output --partial "Processes: 2 -> 2"
	assert_output --partial "- removed [$child1] sleep: sleep 1000"
	assert_output --partial "+ added [$child2] sleep: sleep 1001"
	assert_output --partial "~ [$WL_PID] sh"
	assert_output --partial "+ opened fd 4: $T/out2"
	assert_output --partial "fd 3: $T/out1 offset 6 -> 18"

	run ocicr diff --format json "$T/d1" "$T/d2"
	assert_success
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["identical"] is False
p = d["processes"]
assert [x["comm"] for x in p["added"]] == ["sleep"] and [x["comm"] for x in p["removed"]] == ["sleep"]
ch = p["changed"][0]
assert ch["comm"] == "sh"
assert [f["fd"] for f in ch["files"]["opened"]] == [4], ch["files"]
pos = [(f["a"]["pos"], f["b"]["pos"]) for f in ch["files"]["changed"] if f["fd"] == 3]
assert pos == [(6, 18)], pos
assert set(ch["memory"]) == {"a", "b"}
'
	# a checkpoint against itself: nothing changed
	run ocicr diff "$T/d1" "$T/d1"
	assert_success
	assert_output --partial "No changes"
	assert_output --partial "= [$WL_PID] sh (unchanged)"
	assert_tmp_clean
}

@test "diff: usage errors and a bad side named" {
	run ocicr diff only-one
	assert_failure 2
	run ocicr diff --format xml a b
	assert_failure 2
	echo garbage >"$T/garbage"
	run ocicr diff "$T/garbage" "$T/garbage"
	assert_failure 1
	assert_output --partial "ocicr: diff: $T/garbage: not a checkpoint"
	assert_tmp_clean
}

# ---- damaged and hostile inputs ---------------------------------------------------

@test "a truncated archive: a clear error, exit 1, nothing left behind" {
	needs_fixture
	requires zstd
	head -c 15000 "$PODMAN_FIXTURE" >"$T/trunc.tar.zst"
	run ocicr inspect "$T/trunc.tar.zst"
	assert_failure 1
	assert_output --partial "damaged or truncated archive"
	zstd -q -dc "$PODMAN_FIXTURE" | head -c 100000 >"$T/trunc.tar"
	run ocicr inspect --all "$T/trunc.tar"
	assert_failure 1
	assert_output --partial "damaged or truncated archive"
	assert_tmp_clean
}

@test "a garbage file, an empty file, a missing path, a plain directory: not a checkpoint" {
	head -c 4096 /dev/urandom >"$T/garbage"
	: >"$T/empty"
	mkdir "$T/dir"
	for f in garbage empty; do
		run ocicr inspect "$T/$f"
		assert_failure 1
		assert_output --partial "ocicr: inspect $T/$f: not a checkpoint"
	done
	run ocicr inspect "$T/missing"
	assert_failure 1
	assert_output --partial "No such file or directory"
	run ocicr inspect "$T/dir"
	assert_failure 1
	assert_output --partial "a directory, but not a checkpoint"
	assert_tmp_clean
}

@test "an archive with a ../x or absolute member is refused; nothing is written outside" {
	requires python3
	mkdir -p "$T/work/cwd"
	python3 - "$T" <<-'EOF'
		import io, sys, tarfile
		t = sys.argv[1]
		for name, member in (("dotdot.tar", "../x"), ("deep.tar", "checkpoint/../../x"),
		                     ("abs.tar", t + "/abs-x")):
		    with tarfile.open(t + "/" + name, "w") as tf:
		        data = b"pwned\n"
		        ok = tarfile.TarInfo("config.dump"); ok.size = 2
		        tf.addfile(ok, io.BytesIO(b"{}"))
		        ti = tarfile.TarInfo(member); ti.size = len(data)
		        tf.addfile(ti, io.BytesIO(data))
	EOF
	cd "$T/work/cwd"
	for f in dotdot deep abs; do
		run ocicr inspect "$T/$f.tar"
		assert_failure 1
		assert_output --partial "unsafe archive member"
	done
	[ ! -e "$T/work/x" ] && [ ! -e "$T/x" ] && [ ! -e "$T/abs-x" ] && [ ! -e "$TMPDIR/x" ]
	run ls -A "$T/work/cwd"
	assert_output ""
	assert_tmp_clean
}

@test "an archive missing spec.dump or config.dump names the missing file" {
	needs_fixture
	mkdir "$T/x"
	tar --zstd -C "$T/x" -xf "$PODMAN_FIXTURE"
	tar -C "$T/x" -cf "$T/nospec.tar" --exclude=./spec.dump .
	tar -C "$T/x" -cf "$T/noconfig.tar" --exclude=./config.dump .
	tar -C "$T/x" -cf "$T/noimages.tar" config.dump spec.dump
	run ocicr inspect "$T/nospec.tar"
	assert_failure 1
	assert_output --partial "the checkpoint has no spec.dump"
	run ocicr inspect "$T/noconfig.tar"
	assert_failure 1
	assert_output --partial "the checkpoint has no config.dump"
	run ocicr inspect "$T/noimages.tar"
	assert_failure 1
	assert_output --partial "not a checkpoint"
	assert_tmp_clean
}

@test "corrupt images and bad JSON: clear errors naming the file" {
	needs_fixture
	requires python3
	mkdir "$T/x"
	tar --zstd -C "$T/x" -xf "$PODMAN_FIXTURE"
	cp -a "$T/x" "$T/y"
	python3 -c '
import sys
p = sys.argv[1] + "/checkpoint/core-1.img"
d = bytearray(open(p, "rb").read()); d[20:40] = b"\xff" * 20; open(p, "wb").write(d)
' "$T/x"
	tar -C "$T/x" -cf "$T/badcore.tar" .
	echo '{"id": ' >"$T/y/config.dump"
	truncate -s 4096 "$T/y/checkpoint/pages-1.img"
	tar -C "$T/y" -cf "$T/badjson.tar" .
	run ocicr inspect "$T/badcore.tar"
	assert_failure 1
	assert_output --partial "process 1: checkpoint/core-1.img:"
	refute_output --partial "$TMPDIR"
	run ocicr inspect "$T/badjson.tar"
	assert_failure 1
	assert_output --partial "config.dump: not valid JSON"
	echo '{}' >"$T/y/config.dump"
	tar -C "$T/y" -cf "$T/badpages.tar" .
	run ocicr inspect --cmdline "$T/badpages.tar"
	assert_failure 1
	assert_output --partial "pages-1.img: 4096 bytes, but pagemap-1.img lists 19 pages"
	# without memory the pages are not read, and the report works
	run ocicr inspect --files "$T/badpages.tar"
	assert_success
	assert_tmp_clean
}

@test "inspect: usage errors exit 2" {
	run ocicr inspect
	assert_failure 2
	run ocicr inspect --format yaml x
	assert_failure 2
	run ocicr inspect a b
	assert_failure 2
	run ocicr inspect --bogus x
	assert_failure 2
	run ocicr inspect --help
	assert_success
	assert_output --partial "Usage: ocicr inspect"
	run ocicr diff --help
	assert_success
	assert_output --partial "Usage: ocicr diff"
}
