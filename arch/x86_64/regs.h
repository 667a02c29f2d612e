/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * x86_64 thread state: general registers, FPU/SSE/AVX (xsave) and TLS,
 * converted between ptrace's regsets and CRIU's thread_info_x86 message.
 */
#ifndef OCICR_ARCH_REGS_H
#define OCICR_ARCH_REGS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "core-x86.pb-c.h"
#include "core/arena.h"

/*
 * Read the registers, FPU state and TLS of stopped thread @tid into a new
 * ThreadInfoX86 (clear_tid_addr left 0).  @regs are the registers taken at
 * the stop; the syscall-restart fixup CRIU applies is applied here, so the
 * image is ready to resume.
 */
int oc_arch_dump_thread_info(struct oc_arena *a, pid_t tid, const struct user_regs_struct *regs,
			     ThreadInfoX86 **ret_ti);

/* General registers from an image, as PTRACE_SETREGS wants them. */
int oc_arch_regs_from_image(const UserX86RegsEntry *g, struct user_regs_struct *ret_regs);

/* Size of the xsave buffer PTRACE_{GET,SET}REGSET NT_X86_XSTATE uses here. */
size_t oc_arch_xstate_size(void);

/*
 * Build an NT_X86_XSTATE buffer (standard xsave format, @len bytes from
 * oc_arch_xstate_size()) from an image's FPU state.  Fails with a clear
 * message if the image uses state components this CPU lacks.
 */
int oc_arch_xstate_from_image(const UserX86FpregsEntry *fp, void *buf, size_t len);

#endif
