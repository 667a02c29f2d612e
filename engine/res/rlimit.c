// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Resource limits, read from outside with prlimit(); reading needs no
 * CAP_SYS_RESOURCE.
 */
#include <sys/resource.h>

#include "dump.h"
#include "util/error.h"

#include "rlimit.pb-c.h"

#define OC_RLIM_NLIMITS 16

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
		if (prlimit(t->pid, res, NULL, &lim) < 0)
			return oc_error_errno(-errno, "prlimit(%d, %d)", t->pid, res);
		e->cur = lim.rlim_cur;
		e->max = lim.rlim_max;
		rl->rlimits[rl->n_rlimits++] = e;
	}
	tc->rlimits = rl;
	return 0;
}
