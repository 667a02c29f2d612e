#!/usr/bin/env python3
"""Rewrite an ipcns-shm image as CRIU 4.x writes it: each segment's
contents in pagemap-shmem-<id>.img + pages-<1000+id>.img (in_pagemaps =
true, no payload).  usage: ipc_to_pagemaps.py OCICR IMAGES_DIR"""
import glob, json, os, struct, subprocess, sys

ocicr, d = sys.argv[1], sys.argv[2]
path = glob.glob(os.path.join(d, "ipcns-shm-*.img"))[0]
raw = open(path, "rb").read()
out, pos = bytearray(raw[:8]), 8


def varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if not c & 0x80:
            return v, i


while pos < len(raw):
    (n,) = struct.unpack_from("<I", raw, pos)
    msg = bytearray(raw[pos + 4 : pos + 4 + n])
    pos += 4 + n
    fields, i = {}, 0
    while i < len(msg):
        key, i = varint(msg, i)
        if key & 7 == 2:
            ln, i = varint(msg, i)
            fields[key >> 3] = msg[i : i + ln]
            i += ln
        else:
            start = i
            val, i = varint(msg, i)
            fields[key >> 3] = (val, start)
    size = fields[2][0]
    desc, j = fields[1], 0
    while j < len(desc):  # ipc_desc_entry: every field a varint; id is 7
        key, j = varint(desc, j)
        val, j = varint(desc, j)
        if key >> 3 == 7:
            shmid = val
    assert msg[fields[3][1]] == 0, "in_pagemaps already set"
    msg[fields[3][1]] = 1
    data = raw[pos : pos + size]
    pos += (size + 3) // 4 * 4
    out += struct.pack("<I", len(msg)) + msg
    pages = (size + 4095) // 4096
    open(os.path.join(d, "pages-%d.img" % (1000 + shmid)), "wb").write(data + b"\0" * (pages * 4096 - size))
    pm = {"magic": "PAGEMAP", "entries": [{"pages_id": 1000 + shmid},
          {"vaddr": 0, "compat_nr_pages": 0, "flags": 4, "nr_pages": pages}]}
    subprocess.run([ocicr, "image", "encode", "-o", os.path.join(d, "pagemap-shmem-%d.img" % shmid)],
                   input=json.dumps(pm).encode(), check=True)
open(path, "wb").write(out)
