#!/usr/bin/env python3
# Build small hostile checkpoint archives around a real images directory,
# for hostile.bats (nothing big is committed: each is made at test time).
#
#   hostile_archive.py KIND IMGDIR OUT [N]
#
#   bomb    .tar.zst whose checkpoint/fdinfo-999.img expands to N MiB of zeros
#   sparse  tar whose pages image is a sparse 1 TiB file, listed by a
#           pagemap of 2^28 pages in a 1 TiB VMA (GNU tar --sparse)
#   deep    config.dump of N MiB of '['
#   names   rootfs-diff.tar with N members of 200-character names
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

kind, imgdir, out = sys.argv[1:4]
n = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else 0
ocicr = os.environ.get("OCICR", "ocicr")


def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def add_images(tar, skip=()):
    for f in sorted(os.listdir(imgdir)):
        if f.endswith(".img") and f not in skip:
            tar.add(os.path.join(imgdir, f), "checkpoint/" + f)


def podman_meta(tar, config=b"{}"):
    add_bytes(tar, "config.dump", config)
    add_bytes(tar, "spec.dump", b'{"ociVersion": "1.0.0"}')


class Zeros(io.RawIOBase):
    def __init__(self, size):
        self.left = size

    def readinto(self, b):
        k = min(len(b), self.left)
        b[:k] = bytes(k)
        self.left -= k
        return k


def edit(path, code):
    """Decode an image, run code on its entries `e`, encode it back."""
    text = subprocess.run([ocicr, "image", "decode", "-i", path], check=True, capture_output=True).stdout
    img = json.loads(text)
    e = img["entries"]
    exec(code, {"e": e})
    subprocess.run([ocicr, "image", "encode", "-o", path], input=json.dumps(img).encode(), check=True)


if kind == "bomb":
    zst = subprocess.Popen(["zstd", "-q", "-3", "-o", out], stdin=subprocess.PIPE)
    with tarfile.open(fileobj=zst.stdin, mode="w|") as tar:
        podman_meta(tar)
        add_images(tar)
        info = tarfile.TarInfo("checkpoint/fdinfo-999.img")
        info.size = n << 20
        tar.addfile(info, Zeros(info.size))
    zst.stdin.close()
    sys.exit(zst.wait())

if kind == "sparse":
    with tempfile.TemporaryDirectory() as tmp:
        top = os.path.join(tmp, "checkpoint")
        os.mkdir(top)
        for f in os.listdir(imgdir):
            if f.endswith(".img") and not f.startswith("pages-"):
                with open(os.path.join(imgdir, f), "rb") as src, open(os.path.join(top, f), "wb") as dst:
                    dst.write(src.read())
        pid = int(json.loads(subprocess.run([ocicr, "image", "decode", "-i", os.path.join(top, "pstree.img")],
                                            check=True, capture_output=True).stdout)["entries"][0]["pid"])
        base, pages = 0x100000000000, 1 << 28
        # one private anonymous VMA of 1 TiB, and every page of it dumped
        edit(os.path.join(top, "mm-%d.img" % pid),
             'vs = e[0]["vmas"]; v = dict(vs[0]); v.update(start=%d, end=%d, shmid=0, pgoff=0, '
             'status=(1 | 1 << 9), flags=0x22, prot=3, fd=-1); '
             'vs.insert(next(k for k, x in enumerate(vs) if x["start"] > v["start"]), v)'
             % (base, base + (pages << 12)))
        edit(os.path.join(top, "pagemap-%d.img" % pid),
             'p = {"vaddr": %d, "compat_nr_pages": 0, "nr_pages": %d, "flags": 4}; '
             'e.insert(next((k for k, x in enumerate(e) if k and x["vaddr"] > p["vaddr"]), len(e)), p)'
             % (base, pages))
        pid_pages = json.loads(subprocess.run([ocicr, "image", "decode", "-i", os.path.join(top, "pagemap-%d.img" % pid)],
                                              check=True, capture_output=True).stdout)["entries"]
        pages_id = pid_pages[0]["pages_id"]
        path = os.path.join(top, "pages-%d.img" % pages_id)
        old = os.path.getsize(os.path.join(imgdir, "pages-%d.img" % pages_id))
        with open(os.path.join(imgdir, "pages-%d.img" % pages_id), "rb") as src, open(path, "wb") as dst:
            dst.write(src.read())
            dst.truncate(old + (pages << 12))
        with open(os.path.join(tmp, "config.dump"), "w") as f:
            f.write("{}")
        with open(os.path.join(tmp, "spec.dump"), "w") as f:
            f.write('{"ociVersion": "1.0.0"}')
        sys.exit(subprocess.run(["tar", "-C", tmp, "--sparse", "-cf", out, "config.dump", "spec.dump",
                                 "checkpoint"]).returncode)

if kind == "deep":
    with tarfile.open(out, "w") as tar:
        podman_meta(tar, b"[" * (n << 20))
        add_images(tar)
    sys.exit(0)

if kind == "names":
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w", format=tarfile.PAX_FORMAT) as rt:
        for i in range(n):
            add_bytes(rt, "d/" + ("%08d" % i) * 24 + ".txt", b"")
    with tarfile.open(out, "w") as tar:
        podman_meta(tar)
        add_images(tar)
        add_bytes(tar, "rootfs-diff.tar", inner.getvalue())
    sys.exit(0)

sys.exit("unknown kind " + kind)
