/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The architecture interface: the one header through which the engine
 * reaches machine-specific code (arch/ARCH/).  It provides
 *
 *  - oc_arch_*: thread registers and FPU state to and from images, the
 *    jump into the restorer;
 *  - oc_remote_*: system calls made inside a seized task;
 *  - oc_pump_*: a snapshot twin handing over its own pages;
 *  - the restorer blob and its arguments (struct oc_rst_args).
 *
 * arch/ itself uses nothing of the engine but core/ (errors, log, arena).
 */
#ifndef OCICR_ARCH_H
#define OCICR_ARCH_H

#include <stdint.h>

#if defined(__x86_64__)
#include "arch/x86_64/pump.h"
#include "arch/x86_64/regs.h"
#include "arch/x86_64/remote.h"
#include "arch/x86_64/restorer/restorer.h"
#else
#error "ocicr runs on x86_64 only so far"
#endif

/* The restorer blob, position independent, linked into the library. */
extern const uint8_t oc_restorer_blob[], oc_restorer_blob_end[];

/* Enter the blob at @entry with @args, on the stack at @stack_top. */
void oc_arch_jump(uint64_t entry, void *args, uint64_t stack_top) __attribute__((noreturn));

#endif
