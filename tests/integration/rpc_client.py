#!/usr/bin/python3
"""A small CRIU RPC client for the swrk tests: it starts `OCICR swrk FD` on
a SOCK_SEQPACKET socketpair, as runc and go-criu do, and prints what comes
back, one line per message:

    notify SCRIPT [pid=N] [fd]      a NOTIFY, acknowledged as --ack says
    reply TYPE success=B [errno=N] [msg=...] [field=value ...]
    root PID parent=client|other exited=N   (--wait-root, after RESTORE)
    swrk exit=N                     (also the client's exit status)

usage:
  rpc_client.py OCICR send 'TEXT' [--images DIR] [--work DIR]
                [--nack SCRIPT] [--wait-root RESULT] [--then 'TEXT']...
                [--pty-talk]
      TEXT is a criu_req in protobuf text format; --images/--work open the
      directories here and put the fd numbers into opts (images_dir_fd,
      work_dir_fd), as clients do.  --then sends further requests on the
      same connection (after keep_open).  --pty-talk keeps the master that
      orphan-pts-master hands over and, with --wait-root, talks through it
      once the root is woken: waits for its "hello", answers "ping"
      (prints "pty greeted" or "pty silent").
  rpc_client.py OCICR raw FILE        send FILE's bytes as the one request
  rpc_client.py OCICR term-idle       SIGTERM a service that waits for a request
  rpc_client.py OCICR replay PATH...  replay captured exchanges (decoded
      .txt files or raw-* directories) and check each reply's type and shape
"""
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_pb2():
    """rpc_pb2 from the repository's proto/rpc.proto, generated once."""
    out = os.path.join(tempfile.gettempdir(), "ocicr-rpc-pb2-%d" % os.getuid())
    os.makedirs(out, exist_ok=True)
    proto = os.path.join(REPO, "proto", "rpc.proto")
    target = os.path.join(out, "rpc_pb2.py")
    if not os.path.exists(target) or os.path.getmtime(target) < os.path.getmtime(proto):
        subprocess.check_call(["protoc", "--proto_path=" + os.path.dirname(proto),
                               "--python_out=" + out, proto])
    sys.path.insert(0, out)
    import rpc_pb2
    return rpc_pb2


pb = load_pb2()
from google.protobuf import text_format  # noqa: E402

MAX_REPLY = 8192  # go-criu's read buffer


class Swrk:
    def __init__(self, ocicr, fds=()):
        self.sk, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen([ocicr, "swrk", str(theirs.fileno())],
                                     pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        theirs.close()

    def send(self, data):
        self.sk.send(data if isinstance(data, bytes) else data.SerializeToString())

    def recv(self):
        """One reply, or None at EOF; (resp, size, fd)."""
        fds = []
        data, anc, flags, _ = self.sk.recvmsg(1 << 16, socket.CMSG_SPACE(4))
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.append(int.from_bytes(payload[:4], sys.byteorder))
        if not data:
            return None
        resp = pb.criu_resp()
        resp.ParseFromString(data)
        return resp, len(data), fds[0] if fds else -1

    def ack(self, ok):
        req = pb.criu_req(type=pb.NOTIFY, notify_success=ok)
        self.send(req)

    def close(self):
        self.sk.close()
        return self.proc.wait(timeout=120)


def describe(resp, size):
    name = pb.criu_req_type.Name(resp.type)
    words = ["reply", name, "success=%s" % str(resp.success).lower(), "size=%d" % size]
    if resp.HasField("cr_errno"):
        words.append("errno=%d" % resp.cr_errno)
    for sub in ("version", "features", "dump", "restore"):
        if resp.HasField(sub):
            body = text_format.MessageToString(getattr(resp, sub), as_one_line=True)
            words.append("%s={%s}" % (sub, body))
    if resp.HasField("status"):
        words.append("status=%d" % resp.status)
    if resp.HasField("cr_errmsg"):
        words.append("msg=" + resp.cr_errmsg.replace("\n", "\\n"))
    return " ".join(words)


PTY_MASTER = []  # the orphan-pts-master fd kept with --pty-talk


def converse(sw, nack=None, keep_pty=False):
    """Answer NOTIFYs until the final reply; returns it (or None at EOF)."""
    while True:
        got = sw.recv()
        if got is None:
            print("eof")
            return None
        resp, size, fd = got
        if resp.type == pb.NOTIFY:
            n = resp.notify
            line = "notify " + n.script
            if n.HasField("pid"):
                line += " pid=%d" % n.pid
            if fd >= 0:
                line += " fd"
                if keep_pty and n.script == "orphan-pts-master":
                    PTY_MASTER.append(fd)
                else:
                    os.close(fd)
            print(line, flush=True)
            sw.ack(n.script != nack)
            continue
        print(describe(resp, size), flush=True)
        if size >= MAX_REPLY:
            print("reply too big for go-criu: %d bytes" % size)
        return resp


def wait_root(pid, result):
    """After a rst_sibling RESTORE: the root is our child; wake it, reap it."""
    parent = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[1]
    who = "client" if int(parent) == os.getpid() else "other(%s)" % parent
    os.kill(pid, signal.SIGUSR1)
    if PTY_MASTER:
        print("pty " + ("greeted" if pty_talk(PTY_MASTER[0]) else "silent"), flush=True)
    _, st = os.waitpid(pid, 0)
    print("root %d parent=%s exited=%d" % (pid, who, os.waitstatus_to_exitcode(st)), flush=True)


def pty_talk(master, timeout=30):
    """Wait for the restored tree's greeting on @master, answer "ping"."""
    seen = b""
    while b"hello" not in seen:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(master, 4096)
        except OSError:
            return False
        if not chunk:
            return False
        seen += chunk
    os.write(master, b"ping\n")
    return True


def cmd_send(ocicr, args):
    text, opts = args[0], args[1:]
    keep = []
    images = work = nack = result = None
    keep_pty = False
    then = []
    while opts:
        if opts[0] == "--pty-talk":
            keep_pty = True
            opts = opts[1:]
            continue
        o, v = opts[0], opts[1]
        opts = opts[2:]
        if o == "--images":
            images = os.open(v, os.O_RDONLY | os.O_DIRECTORY)
            keep.append(images)
        elif o == "--work":
            work = os.open(v, os.O_RDONLY | os.O_DIRECTORY)
            keep.append(work)
        elif o == "--nack":
            nack = v
        elif o == "--wait-root":
            result = v
        elif o == "--then":
            then.append(v)
        else:
            sys.exit("unknown option " + o)
    sw = Swrk(ocicr)
    for t in [text] + then:
        req = text_format.Parse(t, pb.criu_req())
        if images is not None:
            req.opts.images_dir_fd = images
        if work is not None:
            req.opts.work_dir_fd = work
        sw.send(req)
        resp = converse(sw, nack, keep_pty)
        if resp is None:
            break
    if result and resp is not None and resp.type == pb.RESTORE and resp.success:
        wait_root(resp.restore.pid, result)
    status = sw.close()
    print("swrk exit=%d" % status)
    sys.exit(status)


def cmd_raw(ocicr, path):
    sw = Swrk(ocicr)
    sw.send(open(path, "rb").read())
    converse(sw)
    status = sw.close()
    print("swrk exit=%d" % status)
    sys.exit(status)


def cmd_term_idle(ocicr):
    """SIGTERM to a service waiting for its first request: it must end."""
    sw = Swrk(ocicr)
    # A request it answers first shows it is up and reading.
    sw.send(pb.criu_req(type=pb.VERSION, keep_open=True))
    converse(sw)
    sw.proc.send_signal(signal.SIGTERM)
    try:
        status = sw.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        sw.proc.kill()
        status = "still running 20 s after SIGTERM"
    print("swrk exit=%s" % status)


# ---- replay of captured exchanges ---------------------------------------

def parse_decoded(path):
    """[(first request, its type, final reply or None, CRIU's notifications
    as [(script, has pid)])] from a decoded capture."""
    exchanges = []
    cur = None
    block = None
    for line in open(path).read().splitlines() + ["### end"]:
        if line.startswith("# rpc fds:") or line.startswith("### "):
            if block is not None:
                direction, lines = block
                msg = (pb.criu_req() if direction == "req" else pb.criu_resp())
                text_format.Parse("\n".join(lines), msg)
                if direction == "req":
                    cur["reqs"].append(msg)
                elif msg.type != pb.NOTIFY:
                    cur["final"] = msg
                else:
                    cur["notes"].append((msg.notify.script, msg.notify.HasField("pid")))
                block = None
            if line.startswith("# rpc fds:"):
                cur = {"reqs": [], "final": None, "notes": []}
                exchanges.append(cur)
            elif "CLIENT->CRIU" in line:
                block = ("req", [])
            elif "CRIU->CLIENT" in line:
                block = ("resp", [])
        elif block is not None and not line.startswith("==="):
            block[1].append(line)
    return [(e["reqs"][0].SerializeToString(), e["reqs"][0].type, e["final"], e["notes"]) for e in exchanges
            if e["reqs"]]


def parse_raw(path):
    req = open(os.path.join(path, "01-req.bin"), "rb").read()
    first = pb.criu_req()
    first.ParseFromString(req)
    notes = []
    for name in sorted(f for f in os.listdir(path) if f.endswith("-resp.bin")):
        final = pb.criu_resp()
        final.ParseFromString(open(os.path.join(path, name), "rb").read())
        if final.type == pb.NOTIFY:
            notes.append((final.notify.script, final.notify.HasField("pid")))
    return [(req, first.type, final, notes)]


def check_notes(ours, captured, success):
    """ours must come in CRIU's order, each with a pid where CRIU gave one;
    a failed dump may end with network-unlock, as CRIU's does."""
    if not success and ours and ours[-1][0] == "network-unlock":
        ours = ours[:-1]
    at = 0
    for script, has_pid in ours:
        while at < len(captured) and captured[at][0] != script:
            at += 1
        if at == len(captured):
            return ["notification %s is not in CRIU's sequence %s, or out of its order" %
                    (script, " ".join(c[0] for c in captured))]
        if captured[at][1] != has_pid:
            return ["notification %s %s a pid, CRIU's %s" % (script, "has" if has_pid else "lacks",
                                                              "has" if captured[at][1] else "lacks")]
        at += 1
    return []


# What a reply of each type must carry.
SHAPE = {
    pb.VERSION: ["version"],
    pb.FEATURE_CHECK: ["features"],
    pb.DUMP: ["dump"],
    pb.RESTORE: ["restore"],
}


def check_shape(req_type, resp, size, captured):
    bad = []
    want = captured.type if captured is not None else req_type
    if resp.type != want:
        bad.append("type %s, CRIU answered %s" % (pb.criu_req_type.Name(resp.type), pb.criu_req_type.Name(want)))
    if resp.success:
        for field in SHAPE.get(resp.type, []):
            if not resp.HasField(field):
                bad.append("no %s" % field)
    else:
        if not resp.HasField("cr_errmsg") or not resp.cr_errmsg:
            bad.append("a failure without cr_errmsg")
        if not resp.HasField("cr_errno"):
            bad.append("a failure without cr_errno")
    if resp.type == pb.FEATURE_CHECK and resp.HasField("features"):
        f = resp.features
        if not (f.HasField("mem_track") and f.HasField("lazy_pages") and f.HasField("pidfd_store")):
            bad.append("features not all set")
    if resp.type == pb.VERSION and resp.success:
        v = resp.version
        num = v.major_number * 10000 + v.minor_number * 100 + v.sublevel
        if v.HasField("gitid"):
            num = num - num % 100 + 100
        if num < 31600:
            bad.append("version %d is below what podman/CRI-O need" % num)
    if size >= MAX_REPLY:
        bad.append("%d bytes, more than go-criu reads" % size)
    return bad


def replay_one(ocicr, label, req, req_type, captured, captured_notes, dirfd):
    # The captures name the client's fds 7..12 for the images and work
    # directories: give them a directory here so the request gets past them.
    for fd in range(5, 16):
        try:
            os.fstat(fd)
        except OSError:
            os.dup2(dirfd, fd)
    sw = Swrk(ocicr)
    sw.send(req)
    resp = None
    notes = []
    while True:
        got = sw.recv()
        if got is None:
            break
        resp, size, fd = got
        if fd >= 0:
            os.close(fd)
        if resp.type != pb.NOTIFY:
            break
        notes.append((resp.notify.script, resp.notify.HasField("pid")))
        sw.ack(True)
    status = sw.close()
    if resp is None:
        print("FAIL %s: no reply" % label)
        return False
    bad = check_shape(req_type, resp, size, captured) + check_notes(notes, captured_notes, resp.success)
    if (resp.success and status != 0) or (not resp.success and status == 0):
        bad.append("exit status %d after success=%s" % (status, resp.success))
    verdict = "ok  " if not bad else "FAIL"
    print("%s %s: %s -> %s%s%s" % (verdict, label, pb.criu_req_type.Name(req_type), describe(resp, size),
                                    " notify=" + ",".join(n[0] for n in notes) if notes else "",
                                    "" if not bad else " [" + "; ".join(bad) + "]"), flush=True)
    return not bad


def cmd_replay(ocicr, paths):
    ok = True
    count = 0
    with tempfile.TemporaryDirectory() as scratch:
        dirfd = os.open(scratch, os.O_RDONLY | os.O_DIRECTORY)
        for path in paths:
            ex = parse_raw(path) if os.path.isdir(path) else parse_decoded(path)
            for i, (req, req_type, captured, notes) in enumerate(ex):
                count += 1
                ok &= replay_one(ocicr, "%s#%d" % (os.path.basename(path), i + 1), req, req_type, captured, notes,
                                 dirfd)
    print("replayed %d exchanges" % count)
    sys.exit(0 if ok and count else 1)


def main():
    ocicr, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if cmd == "send":
        cmd_send(ocicr, args)
    elif cmd == "raw":
        cmd_raw(ocicr, args[0])
    elif cmd == "term-idle":
        cmd_term_idle(ocicr)
    elif cmd == "replay":
        cmd_replay(ocicr, args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
