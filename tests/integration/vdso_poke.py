#!/usr/bin/env python3
"""vdso_poke.py OCICR IMGDIR PID (--byte OFFSET VALUE | --rename OLD NEW)

Change the saved vDSO of task PID in an images directory, as if the image
came from another kernel build: --byte sets one byte at OFFSET from the
vDSO's start; --rename overwrites a symbol name (same length) in it.
"""
import json
import subprocess
import sys


def decode(ocicr, path):
    out = subprocess.run([ocicr, "image", "decode", "-i", path], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def num(v):
    return int(v, 16) if isinstance(v, str) else v


def vdso_file_range(ocicr, imgdir, pid):
    mm = decode(ocicr, f"{imgdir}/mm-{pid}.img")["entries"][0]
    vdso = [v for v in mm["vmas"] if num(v["status"]) & 0x8]
    if not vdso:
        sys.exit("no vDSO in the image")
    start, end = num(vdso[0]["start"]), num(vdso[0]["end"])
    entries = decode(ocicr, f"{imgdir}/pagemap-{pid}.img")["entries"]
    pages_id, off = entries[0]["pages_id"], 0
    for pe in entries[1:]:
        flags = pe.get("flags", 0)
        n = pe.get("nr_pages", 0) or pe.get("compat_nr_pages", 0)
        vaddr = num(pe["vaddr"])
        if flags and not flags & 0x4:  # not PE_PRESENT: no pages in the file
            continue
        if vaddr <= start < vaddr + n * 4096:
            return f"{imgdir}/pages-{pages_id}.img", off + start - vaddr, end - start
        off += n * 4096
    sys.exit("the vDSO's pages are not in the image")


def main():
    ocicr, imgdir, pid, mode = sys.argv[1:5]
    path, at, size = vdso_file_range(ocicr, imgdir, pid)
    with open(path, "r+b") as f:
        f.seek(at)
        blob = bytearray(f.read(size))
        if mode == "--byte":
            blob[int(sys.argv[5], 0)] = int(sys.argv[6], 0)
        elif mode == "--rename":
            old, new = sys.argv[5].encode() + b"\0", sys.argv[6].encode() + b"\0"
            assert len(old) == len(new)
            i = blob.find(old)
            if i < 0:
                sys.exit(f"no symbol {sys.argv[5]} in the saved vDSO")
            blob[i:i + len(old)] = new
        else:
            sys.exit(__doc__)
        f.seek(at)
        f.write(blob)


if __name__ == "__main__":
    main()
