// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Signal dispositions: all 62 catchable signals with handler, flags,
 * restorer and mask.  Nothing outside the task shows handler addresses, so
 * the dump asks the task itself with rt_sigaction().
 */
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "res/kind.h"
#include "core/error.h"

#include "sa.pb-c.h"

#define OC_NSIG 64

/* The kernel's struct sigaction on x86_64. */
struct kernel_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

int oc_dump_sigactions(struct oc_dump_task *t)
{
	struct oc_arena *a = t->ctx->arena;
	struct oc_remote *rs = &t->threads[0].rs;
	TaskCoreEntry *tc = t->threads[0].core->tc;

	/* Each remote call costs a round trip with the frozen task; ask only
	 * for the signals /proc says are caught or ignored, and SIGCHLD,
	 * whose flags matter even at SIG_DFL.  The others are SIG_DFL with no
	 * flags the kernel would act on. */
	uint64_t asked = (t->status.has_sigcgt ? t->status.sigcgt : ~0ull) |
			 (t->status.has_sigign ? t->status.sigign : ~0ull) | (1ull << (SIGCHLD - 1));

	tc->sigactions = OC_ARENA_ARRAY(a, SaEntry *, OC_NSIG - 2);
	if (!tc->sigactions)
		return -ENOMEM;
	for (int sig = 1; sig <= OC_NSIG; sig++) {
		struct kernel_sigaction ka = {};
		int r;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (!(asked & (1ull << (sig - 1))))
			goto store;
		char what[32];
		snprintf(what, sizeof(what), "rt_sigaction(%d)", sig);
		r = oc_remote_call(rs, what, SYS_rt_sigaction, sig, 0, rs->scratch, sizeof(uint64_t));
		if (r < 0)
			return r;
		r = oc_remote_peek(rs, 0, &ka, sizeof(ka));
		if (r < 0)
			return r;
	store:;
		SaEntry *sa = OC_ARENA_MSG(a, SaEntry, SA_ENTRY__INIT);
		if (!sa)
			return -ENOMEM;
		sa->sigaction = ka.handler;
		sa->flags = ka.flags;
		sa->restorer = ka.restorer;
		sa->mask = ka.mask;
		sa->has_compat_sigaction = true;
		sa->compat_sigaction = false;
		tc->sigactions[tc->n_sigactions++] = sa;
	}
	return 0;
}

static int sigact_fill(struct oc_rst_agent *ag, struct oc_rst_area *area)
{
	TaskCoreEntry *tc = ag->task->cores[0]->tc;

	/* The image has no entries for SIGKILL and SIGSTOP. */
	for (size_t i = 0, sig = 1; i < tc->n_sigactions; i++, sig++) {
		if (sig == 9 || sig == 19)
			sig++;
		SaEntry *sa = tc->sigactions[i];
		area->args->sigactions[sig - 1] =
			(struct oc_rst_sigaction){ sa->sigaction, sa->flags, sa->restorer, sa->mask };
	}
	return 0;
}

const struct oc_task_kind oc_task_kind_sigact = {
	.name = "signal handlers",
	.dump = oc_dump_sigactions,
	.fill = sigact_fill,
};
