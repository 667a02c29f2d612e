#!/usr/bin/env python3
"""Send a signal to a command at a known point of its work.

  signal_at.py pending SIG -- CMD...
      run CMD with SIG already pending (and blocked, as CMD will block it):
      CMD sees it at its first look.
  signal_at.py line TEXT SIG FIFO -- CMD...
      CMD logs to the FIFO FIFO (made here); at the first log line holding
      TEXT, send SIG to CMD.  The log is copied to FIFO.txt.  TEXT#N: at
      the Nth such line; TEXT@MS: MS milliseconds after it.

Prints CMD's end last: "exit N" or "signal NAME".
"""
import os
import select
import signal
import sys
import time


def report(status):
    if os.WIFSIGNALED(status):
        print("signal " + signal.Signals(os.WTERMSIG(status)).name)
    else:
        print("exit %d" % os.WEXITSTATUS(status))


def main():
    args = sys.argv[1:]
    cut = args.index("--")
    how, cmd = args[:cut], args[cut + 1:]
    sig = signal.Signals["SIG" + how[2] if how[0] == "line" else "SIG" + how[1]]

    if how[0] == "pending":
        pid = os.fork()
        if pid == 0:
            # Whatever our own caller ignores (a job started with & ignores
            # SIGINT), CMD starts with the signal's default action.
            signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_BLOCK, [sig])
            os.kill(os.getpid(), sig)
            os.execvp(cmd[0], cmd)
        report(os.waitpid(pid, 0)[1])
        return

    text, fifo = how[1], how[3]
    delay = 0.0
    if "@" in text:
        text, ms = text.rsplit("@", 1)
        delay = int(ms) / 1000.0
    nth = 1
    if "#" in text:
        text, n = text.rsplit("#", 1)
        nth = int(n)
    os.mkfifo(fifo)
    pid = os.fork()
    if pid == 0:
        signal.signal(sig, signal.SIG_DFL)
        os.execvp(cmd[0], cmd)
    # Non-blocking, so that a CMD which never opens its log cannot hang us.
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    sent, pending, status, seen, fire_at = False, b"", None, 0, None
    with open(fifo + ".txt", "wb") as copy:
        while True:
            if fire_at is not None and not sent and time.monotonic() >= fire_at:
                os.kill(pid, sig)
                sent = True
            wait = 0.05
            if fire_at is not None and not sent:
                wait = max(0.0, min(wait, fire_at - time.monotonic()))
            select.select([fd], [], [], wait)
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                chunk = None
            if chunk:
                copy.write(chunk)
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if text.encode() in line:
                        seen += 1
                        if seen == nth and fire_at is None:
                            fire_at = time.monotonic() + delay
                if fire_at is not None and not sent and delay == 0:
                    os.kill(pid, sig)
                    sent = True
                continue
            if chunk == b"":
                time.sleep(0.005)  # no writer (yet, or any more): no wait in select
            if status is None:
                done, status = os.waitpid(pid, os.WNOHANG)
                if not done:
                    status = None
            elif not chunk:
                break  # exited, and its log is drained
    os.close(fd)
    report(status)
    if not sent:
        sys.exit("signal_at.py: no log line held %r (%d times)" % (text, nth))

main()
