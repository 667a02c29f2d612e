// SPDX-License-Identifier: LGPL-2.1-or-later
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "arch/x86_64/remote.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"
#include "core/testpoint.h"

#define SYSCALL_STOP   (SIGTRAP | 0x80)
#define STACK_RED_ZONE 128

int oc_remote_find_syscall_ip(pid_t pid, unsigned long *ret_ip)
{
	char path[64], line[512];
	unsigned long start = 0, end = 0;
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return oc_error_errno(-errno, "cannot read %s", path);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "[vdso]")) {
			if (sscanf(line, "%lx-%lx", &start, &end) != 2)
				return oc_error(-EINVAL, "%s: cannot parse '%s'", path, line);
			break;
		}
	}
	if (!start)
		return oc_error(-ENOENT, "task %d has no vDSO to run system calls from", pid);
	return oc_remote_find_syscall_ip_in(pid, start, end, ret_ip);
}

/*
 * The offset of a `syscall` instruction in @buf: one that returns at once
 * if there is one (it lets the calls be guarded, remote_guard.c), else
 * the first; -1 for none.
 */
static long find_syscall_in(const uint8_t *buf, size_t len)
{
	long first = -1;
	bool leave;

	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != 0x0f || buf[i + 1] != 0x05)
			continue;
		if (first < 0)
			first = i;
		if (oc_arch_syscall_return(buf + i, len - i, &leave) == 0)
			return i;
	}
	return first;
}

static int read_remote(pid_t pid, unsigned long start, size_t len, uint8_t **ret_buf)
{
	uint8_t *buf = malloc(len);
	struct iovec local = { buf, len }, remote = { (void *)start, len };

	if (!buf)
		return -ENOMEM;
	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)len) {
		int r = errno ? -errno : -EIO;
		free(buf);
		return r;
	}
	*ret_buf = buf;
	return 0;
}

int oc_remote_find_syscall_ip_in(pid_t pid, unsigned long start, unsigned long end, unsigned long *ret_ip)
{
	/* Every task has the kernel's one vDSO image: where the instruction
	 * was in the last one is checked first, with a read of two bytes. */
	static size_t cached_len, cached_off;
	size_t len = end - start;
	uint8_t insn[2];

	if (cached_len == len) {
		struct iovec local = { insn, 2 }, remote = { (void *)(start + cached_off), 2 };
		if (process_vm_readv(pid, &local, 1, &remote, 1, 0) == 2 && insn[0] == 0x0f && insn[1] == 0x05) {
			*ret_ip = start + cached_off;
			return 0;
		}
	}
	_cleanup_free_ uint8_t *buf = NULL;
	int r = read_remote(pid, start, len, &buf);
	if (r < 0)
		return oc_error_errno(r, "cannot read the vDSO of task %d", pid);
	long first = find_syscall_in(buf, len);
	if (first < 0)
		return oc_error(-ENOENT, "no syscall instruction in the vDSO of task %d", pid);
	cached_len = len;
	cached_off = first;
	*ret_ip = start + first;
	return 0;
}

int oc_remote_find_syscall_ip_code(pid_t pid, unsigned long start, unsigned long end, unsigned long *ret_ip)
{
	_cleanup_free_ uint8_t *buf = NULL;
	int r = read_remote(pid, start, end - start, &buf);

	if (r < 0)
		return r;
	long at = find_syscall_in(buf, end - start);
	if (at < 0)
		return -ENOENT;
	*ret_ip = start + at;
	return 0;
}

static int wait_syscall_stop(struct oc_remote *rs)
{
	pid_t tid = rs->tid;
	int status;

	for (;;) {
		pid_t w = waitpid(tid, &status, __WALL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return oc_error_errno(-errno, "waiting for thread %d", tid);
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return oc_error(-ESRCH, "thread %d died during a remote system call", tid);
		if (WIFSTOPPED(status) && WSTOPSIG(status) == SYSCALL_STOP)
			return 0;
		if (WIFSTOPPED(status) && (status >> 16)) {
			/* A stopped task reporting its group stop again, or a
			 * fork event of a remote fork: go on to the exit stop. */
			if (ptrace(PTRACE_SYSCALL, tid, 0, 0) < 0)
				return oc_error_errno(-errno, "thread %d: PTRACE_SYSCALL", tid);
			continue;
		}
		/* Only SIGKILL/SIGSTOP can get past the blocked mask.  A
		 * SIGSTOP queued for a task that is stopped already (or stops
		 * now) is kept back, not delivered: the dumper counts it and
		 * raises it again when it lets the thread go. */
		if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP) {
			rs->stops_held++;
			if (ptrace(PTRACE_SYSCALL, tid, 0, 0) < 0)
				return oc_error_errno(-errno, "thread %d: PTRACE_SYSCALL", tid);
			continue;
		}
		return oc_error(-EINTR, "thread %d stopped with signal %d during a remote system call", tid,
				WSTOPSIG(status));
	}
}

/* Borrow the thread's registers and signal mask for one call. */
static int run_call(struct oc_remote *rs, struct user_regs_struct *regs)
{
	uint64_t all = ~0ull;
	int r;

	/* All signals blocked, so that none is delivered by our doing; the
	 * registers first: let go between the two, the thread runs the call
	 * and its guard on its own mask. */
	if (ptrace(PTRACE_SETREGS, rs->tid, 0, regs) < 0)
		return oc_error_errno(-errno, "thread %d: cannot set registers", rs->tid);
	if (ptrace(PTRACE_SETSIGMASK, rs->tid, sizeof(all), &all) < 0)
		return oc_error_errno(-errno, "thread %d: cannot block signals", rs->tid);
	/* Entry stop, then exit stop: nothing past the syscall instruction runs. */
	for (int i = 0; i < 2; i++) {
		if (ptrace(PTRACE_SYSCALL, rs->tid, 0, 0) < 0)
			return oc_error_errno(-errno, "thread %d: PTRACE_SYSCALL", rs->tid);
		r = wait_syscall_stop(rs);
		if (r < 0)
			return r;
		if (i == 0)
			oc_testpoint("remote"); /* inside the call */
	}
	if (ptrace(PTRACE_GETREGS, rs->tid, 0, regs) < 0)
		return oc_error_errno(-errno, "thread %d: cannot read registers", rs->tid);
	return 0;
}

int oc_remote_syscall(struct oc_remote *rs, long nr, long *ret_result, unsigned long a1, unsigned long a2,
		      unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6)
{
	struct user_regs_struct regs = rs->saved;
	int r, put_back = 0;

	regs.rip = rs->syscall_ip;
	regs.rax = nr;
	regs.orig_rax = -1; /* not inside a syscall: no restart fixups */
	regs.rdi = a1;
	regs.rsi = a2;
	regs.rdx = a3;
	regs.r10 = a4;
	regs.r8 = a5;
	regs.r9 = a6;
	if (rs->guard) {
		/* the call site returns through the guard's frame */
		regs.rsp = rs->guard;
		if (rs->guard_leave)
			regs.rbp = rs->guard - 8;
	}
	r = run_call(rs, &regs);
	/* The thread's own mask and registers go back before anything else:
	 * should we die now, it runs on as if never stopped (between the
	 * two, the guard gives it its registers). */
	if (ptrace(PTRACE_SETSIGMASK, rs->tid, sizeof(rs->saved_sigmask), &rs->saved_sigmask) < 0)
		put_back = oc_error_errno(-errno, "thread %d: cannot restore the signal mask", rs->tid);
	if (ptrace(PTRACE_SETREGS, rs->tid, 0, &rs->saved) < 0 && !put_back)
		put_back = oc_error_errno(-errno, "thread %d: cannot restore registers", rs->tid);
	if (r < 0)
		return r;
	if (put_back < 0)
		return put_back;
	*ret_result = regs.rax;
	return 0;
}

int oc_remote_begin(pid_t tid, unsigned long syscall_ip, size_t scratch_len, struct oc_remote *ret_rs)
{
	struct oc_remote rs = { .tid = tid, .syscall_ip = syscall_ip };
	int r;

	if (scratch_len > OC_REMOTE_SCRATCH_MAX)
		return oc_error(-EINVAL, "thread %d: %zu bytes of scratch asked, at most %d", tid, scratch_len,
				OC_REMOTE_SCRATCH_MAX);
	if (ptrace(PTRACE_GETREGS, tid, 0, &rs.saved) < 0)
		return oc_error_errno(-errno, "thread %d: cannot read registers", tid);
	if (ptrace(PTRACE_GETSIGMASK, tid, sizeof(rs.saved_sigmask), &rs.saved_sigmask) < 0)
		return oc_error_errno(-errno, "thread %d: cannot read the signal mask", tid);

	if (scratch_len) {
		/* Below the stack's red zone: memory the ABI lets a signal
		 * frame overwrite at any time, so nothing lives there.  What
		 * was there is put back at the end all the same. */
		rs.scratch_len = (scratch_len + 15) & ~15ul;
		rs.scratch = ((rs.saved.rsp - STACK_RED_ZONE) & ~15ul) - rs.scratch_len;
		struct iovec local = { rs.scratch_was, rs.scratch_len },
			     remote = { (void *)rs.scratch, rs.scratch_len };
		if (process_vm_readv(tid, &local, 1, &remote, 1, 0) != (ssize_t)rs.scratch_len)
			return oc_error_errno(-errno, "thread %d: no stack below 0x%llx to work in", tid, rs.saved.rsp);
	}
	rs.active = true;
	*ret_rs = rs;
	r = oc_remote_guard_begin(ret_rs, rs.scratch_len ? rs.scratch : (rs.saved.rsp - STACK_RED_ZONE) & ~15ul);
	if (r < 0)
		return oc_error(r, "thread %d: no memory for the guard of remote calls", tid);
	return 0;
}

static int remote_rw(struct oc_remote *rs, size_t offset, void *buf, size_t len, bool write)
{
	if (offset > rs->scratch_len || len > rs->scratch_len - offset)
		return oc_error(-EINVAL, "remote scratch access %zu+%zu beyond %zu", offset, len, rs->scratch_len);
	struct iovec local = { buf, len }, remote = { (void *)(rs->scratch + offset), len };
	ssize_t n = write ? process_vm_writev(rs->tid, &local, 1, &remote, 1, 0)
			  : process_vm_readv(rs->tid, &local, 1, &remote, 1, 0);
	if (n != (ssize_t)len)
		return oc_error_errno(-errno, "thread %d: cannot access scratch memory", rs->tid);
	return 0;
}

int oc_remote_poke(struct oc_remote *rs, size_t offset, const void *buf, size_t len)
{
	return remote_rw(rs, offset, (void *)buf, len, true);
}

int oc_remote_peek(struct oc_remote *rs, size_t offset, void *buf, size_t len)
{
	return remote_rw(rs, offset, buf, len, false);
}

long oc_remote_call(struct oc_remote *rs, const char *what, long nr, unsigned long a1, unsigned long a2,
		    unsigned long a3, unsigned long a4)
{
	long res;
	int r = oc_remote_syscall(rs, nr, &res, a1, a2, a3, a4, 0, 0);

	if (r < 0)
		return r;
	return res < 0 ? oc_error(res, "thread %d: %s failed: %s", rs->tid, what, strerror(-res)) : res;
}

static int put_back_in(pid_t tid, unsigned long at, const void *was, size_t len)
{
	struct iovec local = { (void *)was, len }, remote = { (void *)at, len };

	if (len && process_vm_writev(tid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return oc_error_errno(-errno, "task %d: cannot put back its stack at 0x%lx", tid, at);
	return 0;
}

int oc_remote_undo_in(const struct oc_remote *rs, pid_t tid)
{
	int r = 0;

	if (!rs->active)
		return 0;
	if (rs->scratch_len)
		r = put_back_in(tid, rs->scratch, rs->scratch_was, rs->scratch_len);
	if (r >= 0 && rs->guard)
		r = put_back_in(tid, rs->guard_lo, rs->guard_was, rs->guard_len);
	return r;
}

int oc_remote_end(struct oc_remote *rs)
{
	int r = 0;

	if (!rs->active)
		return 0;
	if (rs->scratch_len)
		r = oc_remote_poke(rs, 0, rs->scratch_was, rs->scratch_len);
	if (oc_remote_guard_end(rs) < 0 && !r)
		r = oc_error_errno(-errno, "thread %d: cannot put back the stack below its scratch", rs->tid);
	rs->active = false;
	return r;
}
