// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Interval timers and POSIX timers.  /proc/PID/timers names each POSIX
 * timer; the times left and overruns only the task itself can read.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "res/kind.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"

#include "timer.pb-c.h"

#define OC_SIGEV_SIGNAL	   0
#define OC_SIGEV_NONE	   1
#define OC_SIGEV_THREAD_ID 4

static int dump_itimer(struct oc_dump_task *t, int which, ItimerEntry **ret)
{
	struct oc_remote *rs = &t->threads[0].rs;
	struct itimerval v;
	char what[32];
	int r;

	snprintf(what, sizeof(what), "getitimer(%d)", which);
	r = oc_remote_call(rs, what, SYS_getitimer, which, rs->scratch, 0, 0);
	if (r < 0)
		return r;
	r = oc_remote_peek(rs, 0, &v, sizeof(v));
	if (r < 0)
		return r;
	ItimerEntry *e = OC_ARENA_MSG(t->ctx->arena, ItimerEntry, ITIMER_ENTRY__INIT);
	if (!e)
		return -ENOMEM;
	e->isec = v.it_interval.tv_sec;
	e->iusec = v.it_interval.tv_usec;
	e->vsec = v.it_value.tv_sec;
	e->vusec = v.it_value.tv_usec;
	*ret = e;
	return 0;
}

static int dump_posix_timer(struct oc_dump_task *t, const struct oc_proc_posix_timer *pt, PosixTimerEntry **ret)
{
	struct oc_remote *rs = &t->threads[0].rs;
	struct itimerspec v;
	char what[48];
	long overrun;
	int r;

	snprintf(what, sizeof(what), "timer_gettime(%d)", pt->id);
	r = oc_remote_call(rs, what, SYS_timer_gettime, pt->id, rs->scratch, 0, 0);
	if (r < 0)
		return r;
	r = oc_remote_peek(rs, 0, &v, sizeof(v));
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "timer_getoverrun(%d)", pt->id);
	overrun = oc_remote_call(rs, what, SYS_timer_getoverrun, pt->id, 0, 0, 0);
	if (overrun < 0)
		return overrun;

	PosixTimerEntry *e = OC_ARENA_MSG(t->ctx->arena, PosixTimerEntry, POSIX_TIMER_ENTRY__INIT);
	if (!e)
		return -ENOMEM;
	e->it_id = pt->id;
	e->clock_id = pt->clock_id;
	e->si_signo = pt->signo;
	e->sival_ptr = pt->sigval;
	e->overrun = overrun;
	e->isec = v.it_interval.tv_sec;
	e->insec = v.it_interval.tv_nsec;
	e->vsec = v.it_value.tv_sec;
	e->vnsec = v.it_value.tv_nsec;
	switch (pt->notify) {
	case OC_TIMER_NOTIFY_NONE:
		e->it_sigev_notify = OC_SIGEV_NONE;
		break;
	case OC_TIMER_NOTIFY_SIGNAL:
		e->it_sigev_notify = pt->thread_id ? OC_SIGEV_THREAD_ID : OC_SIGEV_SIGNAL;
		if (pt->thread_id) {
			e->has_notify_thread_id = true;
			e->notify_thread_id = oc_dump_vpid(t->ctx, pt->notify_pid);
		}
		break;
	default:
		return oc_error(-EOPNOTSUPP, "POSIX timer %d of task %d uses SIGEV_THREAD notification", pt->id,
				t->pid);
	}
	*ret = e;
	return 0;
}

int oc_dump_timers(struct oc_dump_task *t)
{
	struct oc_arena *a = t->ctx->arena;
	TaskTimersEntry *tt = OC_ARENA_MSG(a, TaskTimersEntry, TASK_TIMERS_ENTRY__INIT);
	_cleanup_free_ char *text = NULL;
	struct oc_proc_posix_timer *pts = NULL;
	size_t n = 0;
	int r;

	if (!tt)
		return -ENOMEM;
	r = dump_itimer(t, ITIMER_REAL, &tt->real);
	if (r >= 0)
		r = dump_itimer(t, ITIMER_VIRTUAL, &tt->virt);
	if (r >= 0)
		r = dump_itimer(t, ITIMER_PROF, &tt->prof);
	if (r < 0)
		return r;

	r = oc_proc_read(t->pid, "timers", &text, NULL);
	if (r < 0)
		return r;
	r = oc_proc_parse_timers(text, &pts, &n);
	if (r < 0)
		return r;
	tt->posix = OC_ARENA_ARRAY(a, PosixTimerEntry *, n);
	if (!tt->posix)
		r = -ENOMEM;
	/* Ascending ids: restore recreates them in this order. */
	for (size_t i = 0; r >= 0 && i < n; i++) {
		size_t min = i;
		for (size_t j = i + 1; j < n; j++)
			if (pts[j].id < pts[min].id)
				min = j;
		struct oc_proc_posix_timer tmp = pts[i];
		pts[i] = pts[min];
		pts[min] = tmp;
		r = dump_posix_timer(t, &pts[i], &tt->posix[tt->n_posix]);
		if (r >= 0)
			tt->n_posix++;
	}
	free(pts);
	if (r < 0)
		return r;
	t->threads[0].core->tc->timers = tt;
	return 0;
}

static void timers_reserve(const struct oc_rst_task *t, struct oc_rst_area_counts *c)
{
	c->timers += t->cores[0]->tc->timers->n_posix;
}

static int timers_fill(struct oc_rst_agent *ag, struct oc_rst_area *area)
{
	TaskCoreEntry *tc = ag->task->cores[0]->tc;
	struct oc_rst_args *a = area->args;
	ItimerEntry *its[3] = { tc->timers->real, tc->timers->virt, tc->timers->prof };

	for (int i = 0; i < 3; i++) {
		if (!its[i])
			continue;
		ItimerEntry *e = its[i];
		/* Dumped as it expired (CRIU writes that: no time left, the
		 * interval set): armed for one interval, as CRIU restores it. */
		bool expiring = !e->vsec && !e->vusec;
		a->itimers[i] = (struct oc_rst_itimer){ e->isec, e->iusec, expiring ? e->isec : e->vsec,
							expiring ? e->iusec : e->vusec };
	}
	for (size_t i = 0; i < tc->timers->n_posix; i++) {
		PosixTimerEntry *p = tc->timers->posix[i];
		a->timers[a->n_timers++] = (struct oc_rst_posix_timer){
			.id = p->it_id,
			.clock_id = p->clock_id,
			.signo = p->si_signo,
			.notify = p->it_sigev_notify,
			.notify_tid = p->has_notify_thread_id
					      ? oc_rst_pid_seen_by(ag->ctx, ag->task, p->notify_thread_id)
					      : 0,
			.sival = p->sival_ptr,
			.isec = p->isec,
			.insec = p->insec,
			.vsec = p->vsec,
			.vnsec = p->vnsec,
		};
	}
	return 0;
}

const struct oc_task_kind oc_task_kind_timers = {
	.name = "timers",
	.dump = oc_dump_timers,
	.reserve = timers_reserve,
	.fill = timers_fill,
};
