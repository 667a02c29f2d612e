#!/bin/sh
# Seed the image fuzzer's corpus: usage: seed-corpus.sh DIR
#
# Copies the CRIU 4.2 fixture images when shared/ is there (OCICR_SHARED,
# default ../shared next to the checkout) and always adds a few small
# images of the kinds with payloads, built here, so a fresh clone fuzzes
# something meaningful too.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
out=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
shared=${OCICR_SHARED:-$root/../shared}
mkdir -p "$out"

if [ -d "$shared/fixtures/criu-4.2" ]; then
	for f in "$shared"/fixtures/criu-4.2/*/*; do
		case $(basename "$f") in
		pages-*|PID) continue ;; # raw pages only cost time
		esac
		cp "$f" "$out/$(basename "$(dirname "$f")")-$(basename "$f")"
	done
else
	echo "seed-corpus: no fixtures under $shared; using generated seeds only" >&2
fi

# head magic, image magic, then entries: u32 length + protobuf
common() { printf '\031\103\126\124'; }
le32() { printf "\\$(printf %03o $(($1 & 255)))\\$(printf %03o $(($1 >> 8 & 255)))\\$(printf %03o $(($1 >> 16 & 255)))\\$(printf %03o $(($1 >> 24 & 255)))"; }

# fs-1.img: fs_entry{cwd_id 12, root_id 13, umask 18}
{ common; le32 0x51403912; le32 6; printf '\010\014\020\015\030\022'; } >"$out/gen-fs"
# pipes-data.img: pipe_data_entry{pipe_id 7, bytes 3} + "abc"
{ common; le32 0x56453709; le32 4; printf '\010\007\020\003abc'; } >"$out/gen-pipes-data"
# pagemap: head{pages_id 1}, entry{vaddr 0x1000, compat 0, flags 4, nr_pages 2}
{ common; le32 0x56084025; le32 2; printf '\010\001'; le32 9; printf '\010\200\040\020\000\040\004\050\002'; } >"$out/gen-pagemap"

# richer images through the encoder, if it is built
ocicr=$root/build/ocicr
if [ -x "$ocicr" ]; then
	desc='"desc": {"key": 1, "uid": 0, "gid": 0, "cuid": 0, "cgid": 0, "mode": 384, "id": 3}'
	while read -r name json; do
		printf '%s\n' "$json" | "$ocicr" image encode -o "$out/gen-$name" || true
	done <<JSON
ghost-chunks {"magic": "GHOST_FILE", "entries": [{"uid": 0, "gid": 0, "mode": 33188, "chunks": true, "size": 8192}, {"len": 2, "off": 0, "extra": "aGk=\n"}]}
ghost {"magic": "GHOST_FILE", "entries": [{"uid": 0, "gid": 0, "mode": 33188, "dev": 2049, "rdev": 34821, "extra": "aGk=\n"}]}
ipcns-msg {"magic": "IPCNS_MSG", "entries": [{$desc, "qbytes": 16384, "qnum": 2, "extra": [{"mtype": 1, "msize": 3}, "YWJj\n", {"mtype": 2, "msize": 0}, ""]}]}
ipcns-sem {"magic": "IPCNS_SEM", "entries": [{$desc, "nsems": 3, "extra": [1, 2, 3]}]}
ipcns-shm {"magic": "IPCNS_SHM", "entries": [{$desc, "size": 5, "extra": "aGVsbG8=\n"}]}
tcp-stream {"magic": "TCP_STREAM", "entries": [{"inq_len": 1, "inq_seq": 2, "outq_len": 2, "outq_seq": 3, "opt_mask": 4, "snd_wscale": 5, "mss_clamp": 6, "extra": {"inq": "YQ==\n", "outq": "YmM=\n"}}]}
sk-queues {"magic": "SK_QUEUES", "entries": [{"id_for": 5, "length": 2, "extra": "aGk=\n"}]}
bpfmap-data {"magic": "BPFMAP_DATA", "entries": [{"map_id": 1, "keys_bytes": 1, "values_bytes": 2, "count": 1, "extra": "AQID\n"}]}
inetsk {"magic": "INETSK", "entries": [{"id": 7, "ino": 1, "family": 10, "type": 1, "proto": 6, "state": 10, "src_port": 80, "dst_port": 0, "flags": 2, "backlog": 0, "src_addr": [0, 0, 0, 16777216], "dst_addr": [16777226], "fown": {"uid": 0, "euid": 0, "signum": 0, "pid_type": 0, "pid": 0}, "opts": {"so_sndbuf": 1, "so_rcvbuf": 2, "so_snd_tmo_sec": 0, "so_snd_tmo_usec": 0, "so_rcv_tmo_sec": 0, "so_rcv_tmo_usec": 0}}]}
unixsk {"magic": "UNIXSK", "entries": [{"id": 3, "ino": 777, "type": 1, "state": 10, "flags": 2, "uflags": 0, "backlog": 5, "peer": 0, "fown": {"uid": 0, "euid": 0, "signum": 0, "pid_type": 0, "pid": 0}, "opts": {"so_sndbuf": 1, "so_rcvbuf": 2, "so_snd_tmo_sec": 0, "so_snd_tmo_usec": 0, "so_rcv_tmo_sec": 0, "so_rcv_tmo_usec": 0}, "name": "=00abc"}]}
JSON
fi
echo "seed-corpus: $(ls "$out" | wc -l) seeds in $out"
