/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stopping a dump or restore on request (the CLI's Ctrl-C, a runtime's
 * SIGTERM).  The caller's hook comes in the options; the engine asks it only
 * at points where failing is undone like any failure: never in the middle
 * of a remote call, while a task's registers are borrowed.
 */
#ifndef OCICR_UTIL_INTERRUPT_H
#define OCICR_UTIL_INTERRUPT_H

/* Ask @hook(@data) for the rest of this thread's call; NULL: never. */
void oc_interrupt_set(int (*hook)(void *data), void *data);

/*
 * 0, or -EINTR with the error recorded ("interrupted by SIGINT") once the
 * hook answers nonzero: a signal number, or any other positive value.
 */
int oc_interrupt_check(void);

#endif
