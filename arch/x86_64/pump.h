/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A snapshot twin that hands over its own pages.
 *
 * The twin (a copy-on-write fork of a frozen task, stopped under our
 * ptrace) runs a loop of a few instructions that vmsplice()s a list of its
 * memory runs, in order, into a pipe; the dumper splices the pipe into the
 * pages image.  The pipe holds references to the twin's pages, so nothing
 * is copied until the page cache (or the disk, with O_DIRECT) takes them,
 * and the dumper does no page-sized reads of /proc/PID/mem.
 *
 * The code runs in the twin only, never in the task: the twin is a
 * throwaway copy that is killed once its pages are saved.
 */
#ifndef OCICR_ARCH_PUMP_H
#define OCICR_ARCH_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "arch/x86_64/remote.h"

struct oc_twin_pump {
	pid_t twin;
	int pipe_fd;  /* our read end of the pipe, or -1 */
	bool running; /* the twin runs the loop (until its final stop) */
	struct oc_remote rs;
};

/*
 * Start @twin moving @n_runs runs of its memory into a pipe (@runs is
 * copied; the twin may change its own copy as it goes).  @syscall_ip is a
 * `syscall` instruction in it.  On failure the twin is as usable for
 * reading through /proc/PID/mem as before.
 */
int oc_twin_pump_start(pid_t twin, unsigned long syscall_ip, const struct iovec *runs, size_t n_runs,
		       struct oc_twin_pump *p);

/*
 * No data came for a while: 0 if the twin is still at it (a stop for a
 * signal is resumed, the signal dropped), -errno if it died or stopped early.
 */
int oc_twin_pump_check(struct oc_twin_pump *p);

/* After all the bytes were read: wait for its final stop; 0 if every run went. */
int oc_twin_pump_finish(struct oc_twin_pump *p);

/* Close our end; the twin, if still running, fails its next vmsplice and stops. */
void oc_twin_pump_close(struct oc_twin_pump *p);

#endif
