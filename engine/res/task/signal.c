// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Pending signals: the process-wide queue and each thread's own, read with
 * PTRACE_PEEKSIGINFO (which leaves them queued).
 */
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>

#include "res/kind.h"
#include "res/ns/ns.h"
#include "core/error.h"

#include "siginfo.pb-c.h"

#define SIGINFO_SIZE 128
#define PEEK_BATCH   32

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

static void signals_reserve(const struct oc_rst_task *t, struct oc_rst_area_counts *c)
{
	TaskCoreEntry *tc = t->cores[0]->tc;

	if (tc->signals_s)
		c->siginfos += tc->signals_s->n_signals;
	for (size_t i = 0; i < t->n_cores; i++)
		if (t->cores[i]->thread_core->signals_p)
			c->siginfos += t->cores[i]->thread_core->signals_p->n_signals;
}

/* Pending signals: the process's queue, then each thread's. */
static int signals_fill(struct oc_rst_agent *ag, struct oc_rst_area *area)
{
	struct oc_rst_task *t = ag->task;
	struct oc_rst_args *a = area->args;
	SignalQueueEntry *queues[1 + t->n_cores];

	queues[0] = t->cores[0]->tc->signals_s;
	for (size_t i = 0; i < t->n_cores; i++)
		queues[1 + i] = t->cores[i]->thread_core->signals_p;
	for (size_t q = 0; q <= t->n_cores; q++) {
		if (!queues[q])
			continue;
		for (size_t i = 0; i < queues[q]->n_signals; i++) {
			SiginfoEntry *se = queues[q]->signals[i];
			struct oc_rst_siginfo *si = &a->siginfos[a->n_siginfos++];
			if (se->siginfo.len != sizeof(si->info))
				return oc_error(-EINVAL, "core-%d.img: siginfo of %zu bytes", t->pid, se->siginfo.len);
			memcpy(si->info, se->siginfo.data, sizeof(si->info));
			memcpy(&si->signo, si->info, sizeof(int32_t));
			si->tid = q ? oc_rst_own_tid(t, q - 1) : 0;
		}
	}
	return 0;
}

const struct oc_task_kind oc_task_kind_signals = {
	.name = "pending signals",
	.dump = oc_dump_signals,
	.reserve = signals_reserve,
	.fill = signals_fill,
};
