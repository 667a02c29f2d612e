#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Print the container-relevant content of a CRIU images directory, one
"image: value" line each, with what legitimately differs between two
dumpers of the same state taken out, so that `diff` of two outputs (ocicr's
and CRIU 4.2's images of one container) shows only real differences.

Left out, by design (container_runc.bats names them):
  * file ids: each fd, cwd, root and exe is shown by its file entry
    (id-less), per task; CRIU gives each task's cwd and root entries of
    their own, ocicr shares equal ones;
  * seccomp.img's table: each thread's chain is shown as its programs and
    flags less TSYNC (CRIU sets it on every single-threaded task's chain;
    ocicr shares a chain between a parent and a child);
  * cgroup sets by number: each task's set is shown by its content; the
    controllers by name, sorted; a controller whose dumped tree is the
    host's root (the container is in no cgroup of its own there: runc
    leaves net_prio and named hierarchies alone) by that name only, as its
    children and files are the host's, which other tests change between
    the two dumps;
  * SysV shared memory contents: CRIU 4.2 keeps them in pagemap-shmem
    images, ocicr in ipcns-shm's entries (both read both), so only the
    segments' descriptions;
  * pagemaps and pages (the memory's layout, checked by the workload);
  * a thread's ax after a system call (orig_ax set): its return value,
    which depends on when the dump caught the task in its sleep loop (a
    sleep done, 0, or cut short, -EINTR);
  * inventory.img's network lock method (CRIU's default is iptables,
    ocicr's nftables) and its run id.

Usage: ctr_images.py OCICR DIR (images are decoded by `OCICR image decode`:
Debian's crit misreads CRIU 4.2's ipcns-shm)
"""
import json
import os
import subprocess
import sys
import tarfile

SECCOMP_FILTER_FLAG_TSYNC = 1
NO_SYSCALL = (1 << 64) - 1  # orig_ax of a thread stopped outside a system call
VMA_FILE = (1 << 6) | (1 << 7) | (1 << 14)  # private, shared, memfd: shmid is a file id


def load(d, name):
    path = os.path.join(d, name)
    if not os.path.exists(path):
        return None
    out = subprocess.run([OCICR, "image", "decode", "-i", path], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["entries"]


def line(what, value):
    print("%s: %s" % (what, json.dumps(value, sort_keys=True)))


def main(d):
    files = {}
    for f in load(d, "files.img") or []:
        body = {k: v for k, v in f.items() if k != "id"}
        for kind in body.values():
            if isinstance(kind, dict):
                kind.pop("id", None)
        files[f["id"]] = body
    filters = (load(d, "seccomp.img") or [{}])[0].get("seccomp_filters", [])

    def chain(index):
        out = []
        while index is not None and index >= 0:
            f = filters[index]
            out.append([f["filter"], int(f.get("flags", 0)) & ~SECCOMP_FILTER_FLAG_TSYNC])
            index = f.get("prev")
        return out

    cg = (load(d, "cgroup.img") or [{}])[0]
    sets = {s["id"]: sorted(json.dumps(c, sort_keys=True) for c in s["ctls"]) for s in cg.get("sets", [])}
    ctls = cg.get("controllers", [])
    for c in ctls:
        c["dirs"] = [d if d["dir_name"] else "the host's root" for d in c.get("dirs", [])]
    line("cgroup controllers", sorted(json.dumps(c, sort_keys=True) for c in ctls))

    inv = load(d, "inventory.img")[0]
    for k in ("network_lock_method", "dump_criu_run_id", "root_cg_set", "root_ids"):
        inv.pop(k, None)
    line("inventory", inv)
    tree = load(d, "pstree.img")
    line("pstree", tree)
    for task in tree:
        pid = task["pid"]
        core = load(d, "core-%d.img" % pid)[0]
        gp = core.get("thread_info", {}).get("gpregs", {})
        if gp.get("orig_ax", NO_SYSCALL) != NO_SYSCALL:
            gp["ax"] = "a system call's return value"
        for th in [core["thread_core"]] + [c["thread_core"] for c in core.get("threads", []) if "thread_core" in c]:
            th["seccomp_filter"] = chain(th.get("seccomp_filter")) if th.get("seccomp_mode") == "filter" else None
            th["cg_set"] = sets.get(th.get("cg_set"))
        core["tc"]["cg_set"] = sets.get(core["tc"].get("cg_set"))
        line("core-%d" % pid, core)
        mm = load(d, "mm-%d.img" % pid)[0]
        mm["exe_file_id"] = files.get(mm.get("exe_file_id"))
        for v in mm.get("vmas", []):
            if v["status"] & VMA_FILE:
                v["shmid"] = files.get(v["shmid"])
        line("mm-%d" % pid, mm)
        fs = load(d, "fs-%d.img" % pid)[0]
        line("fs-%d" % pid, [files.get(fs["cwd_id"]), files.get(fs["root_id"]), fs.get("umask")])
        ids = load(d, "ids-%d.img" % pid)[0]
        fdt = load(d, "fdinfo-%d.img" % ids["files_id"]) or []
        line("fds-%d" % pid, [[fd["fd"], fd["flags"], fd["type"], files.get(fd["id"])] for fd in fdt])
        line("ids-%d" % pid, {k: v for k, v in ids.items() if k.endswith("_ns_id")})
        for ns, image in (("uts", "utsns"), ("ipc", "ipcns-var"), ("net", "netns")):
            if ns + "_ns_id" in ids:
                line("%s-%d" % (image, pid), load(d, "%s-%d.img" % (image, ids[ns + "_ns_id"])))
        if "ipc_ns_id" in ids:
            n = ids["ipc_ns_id"]
            shm = load(d, "ipcns-shm-%d.img" % n) or []
            line("ipcns-shm-%d" % pid, [[s["desc"], s["size"]] for s in shm])
            line("ipcns-sem-%d" % pid, load(d, "ipcns-sem-%d.img" % n))
            line("ipcns-msg-%d" % pid, load(d, "ipcns-msg-%d.img" % n))
        if "mnt_ns_id" in ids:
            mnts = load(d, "mountpoints-%d.img" % ids["mnt_ns_id"])
            line("mountpoints-%d" % pid, sorted(mnts, key=lambda m: m["mnt_id"]))
    for name in sorted(os.listdir(d)):
        if name.startswith("tmpfs-dev-"):
            with tarfile.open(os.path.join(d, name)) as tar:
                members = [[m.name, m.mode, m.uid, m.gid, m.size, m.type.decode()] for m in tar.getmembers()]
            line(name, sorted(members))


if __name__ == "__main__":
    OCICR = sys.argv[1]
    main(sys.argv[2])
