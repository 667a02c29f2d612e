// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The guard of a remote call: should the dumper die inside the call (the
 * OOM killer, a SIGKILL of its cgroup), the kernel lets the thread go on
 * the registers we lent it.  So before the first call, a signal frame that
 * holds the thread's own registers, signal mask and FPU state is written
 * below its stack, and each call is made from a `syscall` whose code then
 * returns (`ret`, after clearing a few scratch registers) to an
 * `rt_sigreturn` already in the task (its C library's signal return).  A
 * thread let go anywhere in the call finishes the system call and returns
 * through rt_sigreturn onto its own state; while we live, we put its
 * registers back at the exit stop and it never runs that code.
 */
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "arch/x86_64/regs.h"
#include "arch/x86_64/remote.h"
#include "core/cleanup.h"
#include "core/log.h"

/* Kernel syscall-restart codes (include/linux/errno.h, not exported). */
#define ERESTARTSYS	      512
#define ERESTARTNOINTR	      513
#define ERESTARTNOHAND	      514
#define ERESTART_RESTARTBLOCK 516

#define UC_FP_XSTATE	     0x1
#define UC_SIGCONTEXT_SS     0x2
#define UC_STRICT_RESTORE_SS 0x4
/* Not a valid sigaltstack mode: rt_sigreturn leaves the thread's own. */
#define SS_KEEP_OWN 3

#define FXSAVE_SIZE	 512
#define XSAVE_MIN_SIZE	 576
#define XSAVE_SW_OFFSET	 464
#define XSAVE_HDR_OFFSET 512
#define STACK_RED_ZONE	 128
#define SIGRETURN_SEARCH (64ul << 20)
#define SIGRETURN_CHUNK	 (256ul << 10)
#define SYSCALL_RET_SCAN 24

/* What rt_sigreturn reads: the frame a signal handler returns through. */
struct guard_frame {
	uint64_t pretcode;
	uint64_t uc_flags;
	uint64_t uc_link;
	stack_t uc_stack;
	struct sigcontext mc;
	uint64_t uc_sigmask;
	uint8_t siginfo[128];
};

int oc_arch_syscall_return(const uint8_t *code, size_t len, bool *ret_leave)
{
	bool leave = false;
	size_t i = 2; /* past the syscall instruction */

	if (len < 3 || code[0] != 0x0f || code[1] != 0x05)
		return -1;
	while (i < len) {
		uint8_t rex = (code[i] & 0xf0) == 0x40 ? code[i] : 0;
		size_t op = i + (rex ? 1 : 0);

		if (code[i] == 0xc3) {
			*ret_leave = leave;
			return 0;
		}
		if (code[i] == 0xc9 && !leave && i == 2) {
			leave = true;
			i++;
			continue;
		}
		/* xor r, r: clears a register, never the stack pointer */
		if (op + 1 >= len || code[op] != 0x31 || code[op + 1] < 0xc0)
			return -1;
		if ((code[op + 1] & 7) == 4 && !(rex & 1))
			return -1;
		i = op + 2;
	}
	return -1;
}

/* The thread uses a shadow stack: a `ret` into code it did not call faults. */
static bool has_shadow_stack(pid_t tid)
{
	char path[64], line[256];
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "x86_Thread_features:", 20) == 0)
			return strstr(line, "shstk") != NULL;
	return false;
}

static bool is_sigreturn(const uint8_t *p, size_t avail, size_t *ret_len)
{
	static const uint8_t movq[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
	static const uint8_t movl[] = { 0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };

	if (avail >= sizeof(movq) && memcmp(p, movq, sizeof(movq)) == 0)
		*ret_len = sizeof(movq);
	else if (avail >= sizeof(movl) && memcmp(p, movl, sizeof(movl)) == 0)
		*ret_len = sizeof(movl);
	else
		return false;
	return true;
}

static bool sigreturn_at(pid_t tid, unsigned long ip)
{
	uint8_t code[16];
	size_t len;
	struct iovec local = { code, sizeof(code) }, remote = { (void *)ip, sizeof(code) };
	ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);

	return n > 0 && is_sigreturn(code, n, &len);
}

/* Search [start, end) of @tid for `mov $15, %eax; syscall`. */
static unsigned long search_sigreturn(pid_t tid, unsigned long start, unsigned long end, size_t *budget)
{
	_cleanup_free_ uint8_t *buf = malloc(SIGRETURN_CHUNK);

	for (unsigned long at = start; buf && at < end && *budget;) {
		size_t want = end - at < SIGRETURN_CHUNK ? end - at : SIGRETURN_CHUNK, len;
		struct iovec local = { buf, want }, remote = { (void *)at, want };
		ssize_t n = process_vm_readv(tid, &local, 1, &remote, 1, 0);

		if (n <= 0)
			return 0;
		*budget = *budget > (size_t)n ? *budget - n : 0;
		/* both forms end in "0f 00 00 00 0f 05" (15, then syscall) */
		for (uint8_t *p = buf, *q; (q = memmem(p, buf + n - p, "\x0f\x00\x00\x00\x0f\x05", 6)); p = q + 1) {
			if (q - buf >= 3 && is_sigreturn(q - 3, buf + n - (q - 3), &len))
				return at + (q - 3 - buf);
			if (q - buf >= 1 && is_sigreturn(q - 1, buf + n - (q - 1), &len))
				return at + (q - 1 - buf);
		}
		/* a match across chunks is found in the next, which overlaps */
		at += (size_t)n > 16 ? (size_t)n - 16 : (size_t)n;
		if ((size_t)n < want)
			break;
	}
	return 0;
}

/* An rt_sigreturn in @tid's executable mappings (its C library's), or 0. */
static unsigned long find_sigreturn(pid_t tid)
{
	static unsigned long cached;
	char path[64], line[512], perms[8];
	unsigned long start, end, found = 0;
	size_t budget = SIGRETURN_SEARCH;
	_cleanup_fclose_ FILE *f = NULL;

	if (cached && sigreturn_at(tid, cached))
		return cached;
	snprintf(path, sizeof(path), "/proc/%d/maps", tid);
	f = fopen(path, "re");
	while (f && !found && budget && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) != 3 || perms[2] != 'x' ||
		    strstr(line, "[vdso]") || strstr(line, "[vsyscall]"))
			continue;
		found = search_sigreturn(tid, start, end, &budget);
	}
	if (found)
		cached = found;
	return found;
}

/* The registers the thread resumes with: those of its stop, with an
 * interrupted system call set to run again, as the kernel would have. */
static void resume_regs(const struct user_regs_struct *saved, struct sigcontext *mc)
{
	struct user_regs_struct r = *saved;

	if ((long)r.orig_rax >= 0) {
		switch ((long)r.rax) {
		case -ERESTARTSYS:
		case -ERESTARTNOINTR:
		case -ERESTARTNOHAND:
			r.rax = r.orig_rax;
			r.rip -= 2;
			break;
		case -ERESTART_RESTARTBLOCK:
			r.rax = SYS_restart_syscall;
			r.rip -= 2;
			break;
		}
	}
	*mc = (struct sigcontext){
		.r8 = r.r8,
		.r9 = r.r9,
		.r10 = r.r10,
		.r11 = r.r11,
		.r12 = r.r12,
		.r13 = r.r13,
		.r14 = r.r14,
		.r15 = r.r15,
		.rdi = r.rdi,
		.rsi = r.rsi,
		.rbp = r.rbp,
		.rbx = r.rbx,
		.rdx = r.rdx,
		.rax = r.rax,
		.rcx = r.rcx,
		.rsp = r.rsp,
		.rip = r.rip,
		.eflags = r.eflags,
		.cs = r.cs,
		.__pad0 = r.ss,
	};
}

/* The xsave size the frame needs: what the components in use reach. */
static size_t xstate_used(const uint8_t *xs)
{
	uint64_t bv;
	size_t end = XSAVE_MIN_SIZE;
	unsigned a, b, c, d;

	memcpy(&bv, xs + XSAVE_HDR_OFFSET, sizeof(bv));
	for (unsigned i = 2; i < 64; i++) {
		if (!(bv >> i & 1))
			continue;
		__cpuid_count(0xd, i, a, b, c, d);
		if (b + a > end)
			end = b + a;
	}
	return end;
}

/* Fill @img (the guard region's new bytes, @lo its address) for @rs. */
static void fill_guard(struct oc_remote *rs, uint8_t *img, unsigned long lo, unsigned long frame_at,
		       unsigned long fp_at, const uint8_t *xs, size_t xs_len, unsigned long sigreturn_ip)
{
	struct guard_frame fr = {
		.pretcode = sigreturn_ip,
		.uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS,
		.uc_stack = { .ss_flags = SS_KEEP_OWN },
		.uc_sigmask = rs->saved_sigmask,
	};
	struct _fpx_sw_bytes sw = {
		.magic1 = FP_XSTATE_MAGIC1,
		.extended_size = xs_len + FP_XSTATE_MAGIC2_SIZE,
		.xstate_size = xs_len,
	};
	uint32_t magic2 = FP_XSTATE_MAGIC2;
	uint8_t *fp = img + (fp_at - lo);

	resume_regs(&rs->saved, &fr.mc);
	fr.mc.fpstate = (struct _fpstate *)fp_at;
	memcpy(img + (frame_at - lo), &fr, sizeof(fr));
	memcpy(fp, xs, xs_len);
	memcpy(&sw.xstate_bv, xs + XSAVE_HDR_OFFSET, sizeof(sw.xstate_bv));
	sw.xstate_bv |= 0x3; /* x87 and SSE: from the legacy area */
	memcpy(fp + XSAVE_SW_OFFSET, &sw, sizeof(sw));
	memcpy(fp + xs_len, &magic2, sizeof(magic2));
}

/* Why the calls of @rs go unguarded, in the log; always 0. */
static int unguarded(struct oc_remote *rs, const char *why)
{
	pr_debug("thread %d: remote calls unguarded: %s", rs->tid, why);
	rs->guard = 0;
	return 0;
}

int oc_remote_guard_begin(struct oc_remote *rs, unsigned long below)
{
	size_t xs_size = oc_arch_xstate_size();
	_cleanup_free_ uint8_t *xs = calloc(1, xs_size), *img = NULL;
	struct iovec iov = { xs, xs_size };
	uint8_t code[SYSCALL_RET_SCAN];
	struct iovec local = { code, sizeof(code) }, remote = { (void *)rs->syscall_ip, sizeof(code) };
	unsigned long sigreturn_ip, fp_at, frame_at;
	size_t xs_len;

	rs->guard = 0;
	if (!xs)
		return -ENOMEM;
	if (rs->saved.rsp < (64ul << 10) || rs->saved.cs != 0x33)
		return unguarded(rs, "not on a 64-bit stack of its own");
	if (process_vm_readv(rs->tid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof(code) ||
	    oc_arch_syscall_return(code, sizeof(code), &rs->guard_leave) < 0)
		return unguarded(rs, "its system call site does not return");
	if (has_shadow_stack(rs->tid))
		return unguarded(rs, "it has a shadow stack");
	sigreturn_ip = find_sigreturn(rs->tid);
	if (!sigreturn_ip)
		return unguarded(rs, "no rt_sigreturn in its code");
	if (ptrace(PTRACE_GETREGSET, rs->tid, NT_X86_XSTATE, &iov) < 0 || iov.iov_len < XSAVE_MIN_SIZE)
		return unguarded(rs, "no xsave state");
	xs_len = xstate_used(xs);
	if (xs_len > iov.iov_len)
		return unguarded(rs, "xsave state larger than its buffer");

	fp_at = (below - xs_len - FP_XSTATE_MAGIC2_SIZE) & ~63ul;
	frame_at = (fp_at - sizeof(struct guard_frame)) & ~15ul;
	rs->guard_lo = frame_at - 16; /* `leave` reads the word below */
	rs->guard_len = below - rs->guard_lo;
	if (rs->guard_len > OC_REMOTE_GUARD_MAX)
		return unguarded(rs, "its FPU state is too large for the frame");
	struct iovec was = { rs->guard_was, rs->guard_len }, at = { (void *)rs->guard_lo, rs->guard_len };
	if (process_vm_readv(rs->tid, &was, 1, &at, 1, 0) != (ssize_t)rs->guard_len)
		return unguarded(rs, "no stack below its scratch");
	img = malloc(rs->guard_len);
	if (!img)
		return -ENOMEM;
	memcpy(img, rs->guard_was, rs->guard_len);
	fill_guard(rs, img, rs->guard_lo, frame_at, fp_at, xs, xs_len, sigreturn_ip);
	struct iovec put = { img, rs->guard_len };
	if (process_vm_writev(rs->tid, &put, 1, &at, 1, 0) != (ssize_t)rs->guard_len)
		return unguarded(rs, "its stack cannot be written");
	rs->guard = frame_at;
	return 0;
}

int oc_remote_guard_end(struct oc_remote *rs)
{
	struct iovec was = { rs->guard_was, rs->guard_len }, at = { (void *)rs->guard_lo, rs->guard_len };

	if (!rs->guard)
		return 0;
	rs->guard = 0;
	if (process_vm_writev(rs->tid, &was, 1, &at, 1, 0) != (ssize_t)rs->guard_len)
		return -errno;
	return 0;
}
