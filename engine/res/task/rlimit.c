// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Resource limits, read from outside with prlimit().  That needs no
 * CAP_SYS_RESOURCE for a task with our uids, but does for any other (even
 * to read); then the task reads its own, in a remote system call.
 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "res/kind.h"
#include "core/cleanup.h"
#include "core/error.h"

#include "rlimit.pb-c.h"

#define OC_RLIM_NLIMITS 16

static int remote_getrlimit(struct oc_dump_task *t, int res, struct rlimit *ret)
{
	struct oc_remote *rs = &t->threads[0].rs;
	char what[32];

	snprintf(what, sizeof(what), "prlimit64(%d)", res);
	long r = oc_remote_call(rs, what, SYS_prlimit64, 0, res, 0, rs->scratch);
	if (r < 0)
		return r;
	return oc_remote_peek(rs, 0, ret, sizeof(*ret));
}

int oc_dump_rlimits(struct oc_dump_task *t)
{
	struct oc_arena *a = t->ctx->arena;
	TaskCoreEntry *tc = t->threads[0].core->tc;
	TaskRlimitsEntry *rl = OC_ARENA_MSG(a, TaskRlimitsEntry, TASK_RLIMITS_ENTRY__INIT);

	if (!rl)
		return -ENOMEM;
	rl->rlimits = OC_ARENA_ARRAY(a, RlimitEntry *, OC_RLIM_NLIMITS);
	if (!rl->rlimits)
		return -ENOMEM;
	for (int res = 0; res < OC_RLIM_NLIMITS; res++) {
		struct rlimit lim;
		RlimitEntry *e = OC_ARENA_MSG(a, RlimitEntry, RLIMIT_ENTRY__INIT);

		if (!e)
			return -ENOMEM;
		if (prlimit(t->pid, res, NULL, &lim) < 0) {
			if (errno != EPERM)
				return oc_error_errno(-errno, "prlimit(%d, %d)", t->pid, res);
			int r = remote_getrlimit(t, res, &lim);
			if (r < 0)
				return r;
		}
		e->cur = lim.rlim_cur;
		e->max = lim.rlim_max;
		rl->rlimits[rl->n_rlimits++] = e;
	}
	tc->rlimits = rl;
	return 0;
}

static int rlimits_fill(struct oc_rst_agent *ag, struct oc_rst_area *area)
{
	struct oc_rst_task *t = ag->task;
	TaskCoreEntry *tc = t->cores[0]->tc;
	struct oc_rst_args *a = area->args;

	a->n_rlimits = MIN(tc->rlimits->n_rlimits, ARRAY_SIZE(a->rlimits));
	for (uint32_t i = 0; i < a->n_rlimits; i++) {
		struct rlimit cur;
		RlimitEntry *e = tc->rlimits->rlimits[i];
		a->rlimits[i] = (struct oc_rst_rlimit){ e->cur, e->max };
		/* Without CAP_SYS_RESOURCE a hard limit cannot be raised. */
		if (getrlimit(i, &cur) == 0 && e->max > cur.rlim_max) {
			struct rlimit want = { e->cur, e->max };
			if (prlimit(0, i, &want, NULL) < 0) {
				a->rlimits[i].max = cur.rlim_max;
				a->rlimits[i].cur = MIN(e->cur, cur.rlim_max);
				oc_agent_warn(ag,
					      "task %d: resource limit %u (%" PRIu64 "/%" PRIu64 ") clamped to %" PRIu64
					      "/%" PRIu64 ": raising a hard limit needs CAP_SYS_RESOURCE",
					      t->pid, i, e->cur, e->max, a->rlimits[i].cur, a->rlimits[i].max);
			}
		}
	}
	return 0;
}

const struct oc_task_kind oc_task_kind_rlimits = {
	.name = "resource limits",
	.dump = oc_dump_rlimits,
	.fill = rlimits_fill,
};
