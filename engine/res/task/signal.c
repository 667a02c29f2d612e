// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Pending signals: the process-wide queue and each thread's own, read with
 * PTRACE_PEEKSIGINFO (which leaves them queued).
 */
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>

#include "dump/dump.h"
#include "core/error.h"

#include "siginfo.pb-c.h"

#define SIGINFO_SIZE 128
#define PEEK_BATCH 32

static int peek_queue(struct oc_arena *a, pid_t tid, bool shared, SignalQueueEntry **ret)
{
	SignalQueueEntry *q = OC_ARENA_MSG(a, SignalQueueEntry, SIGNAL_QUEUE_ENTRY__INIT);
	uint8_t buf[PEEK_BATCH][SIGINFO_SIZE];
	size_t cap = 0;

	if (!q)
		return -ENOMEM;
	for (;;) {
		struct __ptrace_peeksiginfo_args args = {
			.off = q->n_signals,
			.flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0,
			.nr = PEEK_BATCH,
		};
		long n = ptrace(PTRACE_PEEKSIGINFO, tid, &args, buf);
		if (n < 0)
			return oc_error_errno(-errno, "thread %d: PTRACE_PEEKSIGINFO", tid);
		if (n == 0)
			break;
		if (q->n_signals + n > cap) {
			size_t ncap = cap ? cap * 2 : PEEK_BATCH;
			while (ncap < q->n_signals + n)
				ncap *= 2;
			SiginfoEntry **ns = OC_ARENA_ARRAY(a, SiginfoEntry *, ncap);
			if (!ns)
				return -ENOMEM;
			if (q->n_signals)
				memcpy(ns, q->signals, q->n_signals * sizeof(*ns));
			q->signals = ns;
			cap = ncap;
		}
		for (long i = 0; i < n; i++) {
			SiginfoEntry *si = OC_ARENA_MSG(a, SiginfoEntry, SIGINFO_ENTRY__INIT);
			if (!si)
				return -ENOMEM;
			si->siginfo.len = SIGINFO_SIZE;
			si->siginfo.data = oc_arena_memdup(a, buf[i], SIGINFO_SIZE);
			if (!si->siginfo.data)
				return -ENOMEM;
			q->signals[q->n_signals++] = si;
		}
	}
	*ret = q;
	return 0;
}

int oc_dump_signals(struct oc_dump_task *t)
{
	struct oc_arena *a = t->ctx->arena;
	int r;

	r = peek_queue(a, t->pid, true, &t->threads[0].core->tc->signals_s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->n_threads; i++) {
		r = peek_queue(a, t->threads[i].seized->tid, false, &t->threads[i].core->thread_core->signals_p);
		if (r < 0)
			return r;
	}
	return 0;
}
