/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Remote system calls: run one system call inside a ptrace-stopped thread.
 *
 * Used only for what no kernel interface shows from outside (signal
 * handlers, itimers, sigaltstack, a few prctl values).  Nothing is written
 * into the task's code: the thread is pointed at a `syscall` instruction
 * that already exists in its vDSO and single-stepped through the system call
 * with PTRACE_SYSCALL, then its own registers and signal mask are put back
 * at once.  All signals are blocked meanwhile so none is delivered by our
 * doing.  Between calls the thread holds nothing of ours: were the dumper
 * killed, it would run on unharmed.  Were it killed inside a call, the
 * guard (remote_guard.c) returns the thread onto its own registers.
 */
#ifndef OCICR_ARCH_REMOTE_H
#define OCICR_ARCH_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

/* Scratch for what a call writes through a pointer: a few structures. */
#define OC_REMOTE_SCRATCH_MAX 512
/* The guard's signal frame with the thread's FPU state (AVX-512 fits). */
#define OC_REMOTE_GUARD_MAX 4096

struct oc_remote {
	pid_t tid;
	struct user_regs_struct saved; /* the thread's own registers */
	uint64_t saved_sigmask;
	unsigned long syscall_ip; /* a `syscall` instruction in the task */
	unsigned long scratch;	  /* scratch below the thread's stack, or 0 */
	size_t scratch_len;
	uint8_t scratch_was[OC_REMOTE_SCRATCH_MAX]; /* what the scratch held */
	bool active;
	/* SIGSTOPs that arrived during our calls and were held back. */
	unsigned stops_held;
	/* The frame below the scratch that rt_sigreturn restores the thread
	 * from if we die inside a call, or 0 (the calls go unguarded). */
	unsigned long guard;
	bool guard_leave; /* the call site's return path starts with `leave` */
	unsigned long guard_lo;
	size_t guard_len;
	uint8_t guard_was[OC_REMOTE_GUARD_MAX]; /* what the guard's place held */
};

/*
 * Find a `syscall` instruction in the [vdso] of @pid (from its maps); falls
 * back to -ENOENT when the task has no vDSO.
 */
int oc_remote_find_syscall_ip(pid_t pid, unsigned long *ret_ip);

/* The same, given where its vDSO is (from a maps read of the caller's). */
int oc_remote_find_syscall_ip_in(pid_t pid, unsigned long vdso_start, unsigned long vdso_end, unsigned long *ret_ip);

/*
 * For a task without a vDSO: the bytes of a `syscall` instruction in its
 * executable mapping [@start, @end), wherever they are (the CPU decodes
 * from where it is pointed; nothing after the call runs).  -ENOENT if
 * none, a negative errno, without a message, if unreadable.
 */
int oc_remote_find_syscall_ip_code(pid_t pid, unsigned long start, unsigned long end, unsigned long *ret_ip);

/*
 * Prepare thread @tid (in a ptrace stop) for remote calls: note its
 * registers and signal mask, and, for @scratch_len (0: none, at most
 * OC_REMOTE_SCRATCH_MAX) bytes of scratch, use the stack below its red
 * zone, which no code may count on keeping.  Nothing is mapped in the task.
 */
int oc_remote_begin(pid_t tid, unsigned long syscall_ip, size_t scratch_len, struct oc_remote *ret_rs);

/*
 * Run a system call; *ret_result is its raw return value (-errno on error).
 * The thread's registers and mask are its own again when this returns.
 */
int oc_remote_syscall(struct oc_remote *rs, long nr, long *ret_result, unsigned long a1, unsigned long a2,
		      unsigned long a3, unsigned long a4, unsigned long a5, unsigned long a6);

/*
 * The same, for calls whose failure is the caller's failure: the result,
 * or an error that names @what and the thread.
 */
long oc_remote_call(struct oc_remote *rs, const char *what, long nr, unsigned long a1, unsigned long a2,
		    unsigned long a3, unsigned long a4);

/* Copy to / from the scratch area at @offset. */
int oc_remote_poke(struct oc_remote *rs, size_t offset, const void *buf, size_t len);
int oc_remote_peek(struct oc_remote *rs, size_t offset, void *buf, size_t len);

/* Put back what the scratch held. */
int oc_remote_end(struct oc_remote *rs);

/*
 * Put back, in @tid, a fork of the thread made during its calls, what the
 * scratch and the guard's frame of @rs took of the stack: the fork's copy
 * of memory is then the thread's own.
 */
int oc_remote_undo_in(const struct oc_remote *rs, pid_t tid);

/*
 * Write the guard's frame below @below on the thread's stack; a thread
 * where it cannot be (no stack, a shadow stack, no rt_sigreturn in its
 * code, a call site that does not return) goes unguarded, which the log
 * says.  Fails only for want of memory.
 */
int oc_remote_guard_begin(struct oc_remote *rs, unsigned long below);

/* Put back what the frame's place held. */
int oc_remote_guard_end(struct oc_remote *rs);

/*
 * 0 if @code (a `syscall` instruction and what follows it) returns at once
 * (clearing a few registers, after a `leave`: *ret_leave), -1 if not.
 */
int oc_arch_syscall_return(const uint8_t *code, size_t len, bool *ret_leave);

/* Offset of the first `syscall` instruction in @code, or -1 if none. */
static inline long oc_arch_syscall_offset(const uint8_t *code, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (code[i] == 0x0f && code[i + 1] == 0x05)
			return (long)i;
	return -1;
}

#endif
