// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch/x86_64/pump.h"
#include "core/error.h"
#include "core/log.h"

#define STR_(x) #x
#define STR(x)	STR_(x)

/*
 * The loop the twin runs.  In: r12 the pipe's write end, r13 an array of
 * struct iovec, r14 its length.  Each run goes with vmsplice() until
 * nothing is left of it (the kernel advances base and len in the array);
 * then the pipe is closed, so that the reader sees its end, and int3 stops
 * the twin for us.  Out: r15 0 or the failing vmsplice's -errno, r14 the
 * runs not moved.  Position-independent; kept in .rodata, never run here.
 */
/* clang-format off */
__asm__(".pushsection .rodata\n"
	".globl oc_twin_pump_code\n"
	".globl oc_twin_pump_code_end\n"
	"oc_twin_pump_code:\n"
	"	xor %eax, %eax\n"
	"	test %r14, %r14\n"
	"	jz 3f\n"
	"1:	mov $" STR(SYS_vmsplice) ", %eax\n"
	"	mov %r12d, %edi\n"
	"	mov %r13, %rsi\n"
	"	mov $1, %edx\n"
	"	xor %r10d, %r10d\n"
	"	syscall\n"
	"	cmp $-" STR(EINTR) ", %rax\n"
	"	je 1b\n"
	"	test %rax, %rax\n"
	"	jle 3f\n"
	"	add %rax, (%r13)\n"
	"	sub %rax, 8(%r13)\n"
	"	jnz 1b\n"
	"	add $16, %r13\n"
	"	dec %r14\n"
	"	jnz 1b\n"
	"	xor %eax, %eax\n"
	"3:	mov %rax, %r15\n"
	"	mov $" STR(SYS_close) ", %eax\n"
	"	mov %r12d, %edi\n"
	"	syscall\n"
	"	int3\n"
	"oc_twin_pump_code_end:\n"
	".popsection\n");
/* clang-format on */

extern const uint8_t oc_twin_pump_code[], oc_twin_pump_code_end[];

#define PUMP_DATA 4096		   /* scratch: code in the first page, then */
#define PUMP_FDS  PUMP_DATA	   /* the pipe's two fds */
#define PUMP_RUNS (PUMP_DATA + 64) /* and the runs */

int oc_twin_pump_start(pid_t twin, unsigned long syscall_ip, const struct iovec *runs, size_t n_runs,
		       struct oc_twin_pump *p)
{
	size_t code_len = oc_twin_pump_code_end - oc_twin_pump_code;
	struct user_regs_struct regs;
	int fds[2], r;

	*p = (struct oc_twin_pump){ .twin = twin, .pipe_fd = -1 };
	r = oc_remote_begin(twin, syscall_ip, 0, &p->rs);
	if (r < 0)
		return r;
	/* The twin is ours to change: its scratch is a mapping of its own. */
	size_t scratch_len = (PUMP_RUNS + n_runs * sizeof(*runs) + 4095) & ~4095ul;
	long scratch;
	r = oc_remote_syscall(&p->rs, SYS_mmap, &scratch, 0, scratch_len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r < 0)
		return r;
	if ((unsigned long)scratch > -4096ul)
		return oc_error(scratch, "twin %d: mmap failed: %s", twin, strerror(-scratch));
	p->rs.scratch = scratch;
	p->rs.scratch_len = scratch_len;
	r = oc_remote_poke(&p->rs, 0, oc_twin_pump_code, code_len);
	if (r >= 0)
		r = oc_remote_poke(&p->rs, PUMP_RUNS, runs, n_runs * sizeof(*runs));
	if (r >= 0)
		r = oc_remote_call(&p->rs, "mprotect", SYS_mprotect, scratch, PUMP_DATA, PROT_READ | PROT_EXEC, 0);
	if (r >= 0)
		r = oc_remote_call(&p->rs, "pipe2", SYS_pipe2, scratch + PUMP_FDS, O_CLOEXEC, 0, 0);
	if (r >= 0)
		r = oc_remote_peek(&p->rs, PUMP_FDS, fds, sizeof(fds));
	if (r < 0)
		return r;

	/* Our copy of the read end; the twin keeps the write end alone, so
	 * that its exit, or its close at the end, is the pipe's end for us. */
	int pidfd = syscall(SYS_pidfd_open, twin, 0);
	if (pidfd >= 0) {
		p->pipe_fd = syscall(SYS_pidfd_getfd, pidfd, fds[0], 0);
		close(pidfd);
	}
	if (p->pipe_fd < 0)
		return oc_error_errno(-errno, "twin %d: cannot take its pipe", twin);
	r = oc_remote_call(&p->rs, "close", SYS_close, fds[0], 0, 0, 0);
	if (r < 0)
		return r;
	/* Bigger pipe, fewer calls; refused past the limit, which is fine. */
	(void)fcntl(p->pipe_fd, F_SETPIPE_SZ, 1 << 20);

	regs = p->rs.saved;
	regs.rip = scratch;
	regs.r12 = fds[1];
	regs.r13 = scratch + PUMP_RUNS;
	regs.r14 = n_runs;
	regs.rax = 0;
	regs.orig_rax = -1; /* no syscall restart on the way out of this stop */
	if (ptrace(PTRACE_SETREGS, twin, 0, &regs) < 0 || ptrace(PTRACE_CONT, twin, 0, 0) < 0)
		return oc_error_errno(-errno, "twin %d: cannot start it", twin);
	p->rs.active = false; /* its registers and scratch go with it */
	p->running = true;
	return 0;
}

/* A stop of the twin: the final one (1), or another, resumed (0). */
static int pump_stopped(struct oc_twin_pump *p, int status)
{
	struct user_regs_struct regs;

	if (!WIFSTOPPED(status)) {
		p->running = false;
		return oc_error(-ESRCH, "snapshot twin %d died while saving its pages", p->twin);
	}
	if (WSTOPSIG(status) != SIGTRAP || (status >> 16)) {
		if (ptrace(PTRACE_CONT, p->twin, 0, 0) < 0)
			return oc_error_errno(-errno, "twin %d: cannot resume it", p->twin);
		return 0;
	}
	p->running = false;
	if (ptrace(PTRACE_GETREGS, p->twin, 0, &regs) < 0)
		return oc_error_errno(-errno, "twin %d: cannot read its registers", p->twin);
	if ((long)regs.r15 < 0)
		return oc_error((long)regs.r15, "snapshot twin %d: vmsplice failed: %s", p->twin,
				strerror(-(long)regs.r15));
	if (regs.r14)
		return oc_error(-EIO, "snapshot twin %d stopped with %llu runs of pages left", p->twin, regs.r14);
	return 1;
}

int oc_twin_pump_check(struct oc_twin_pump *p)
{
	int status;

	if (!p->running)
		return oc_error(-EIO, "snapshot twin %d is no longer sending pages", p->twin);
	pid_t w = waitpid(p->twin, &status, WNOHANG | __WALL);
	if (w < 0)
		return oc_error_errno(-errno, "waitpid(%d)", p->twin);
	if (w == 0)
		return 0;
	int r = pump_stopped(p, status);
	return r == 1 ? oc_error(-EIO, "snapshot twin %d stopped before all its pages were read", p->twin) : r;
}

int oc_twin_pump_finish(struct oc_twin_pump *p)
{
	int status, r = 0;

	oc_twin_pump_close(p);
	while (p->running) {
		if (waitpid(p->twin, &status, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return oc_error_errno(-errno, "waitpid(%d)", p->twin);
		}
		r = pump_stopped(p, status);
		if (r < 0)
			return r;
	}
	return r == 1 ? 0 : oc_error(-EIO, "snapshot twin %d: no final stop", p->twin);
}

void oc_twin_pump_close(struct oc_twin_pump *p)
{
	if (p->pipe_fd >= 0) {
		close(p->pipe_fd);
		p->pipe_fd = -1;
	}
}
