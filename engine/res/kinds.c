// SPDX-License-Identifier: LGPL-2.1-or-later
#include "res/kind.h"
#include "core/cleanup.h"
#include "core/error.h"

/*
 * The order matters only where a kind reads what an earlier one made: the
 * memory contents follow the memory map (the dump reads its VMAs).
 */
const struct oc_task_kind
	*const
		oc_task_kinds
			[] = {
				&oc_task_kind_task,    &oc_task_kind_threads,
				&oc_task_kind_seccomp, /* after threads: their credentials decide when */
				&oc_task_kind_cgroup,  /* after threads: each thread's set */
				&oc_task_kind_sigact,  &oc_task_kind_timers,
				&oc_task_kind_rlimits, &oc_task_kind_signals,
				&oc_task_kind_mm,      &oc_task_kind_pages,
				&oc_task_kind_fs,      &oc_task_kind_files,
			};

const size_t oc_n_task_kinds = ARRAY_SIZE(oc_task_kinds);

/* ---- the plan steps of the kinds the agent restores in steps of its own -- */

/*
 * CREATE: by the parent (the coordinator for the root, once every file is
 * open); a child inherits its parent's session and group.  Joining another
 * group needs the group there first: a session leader makes it in its
 * session step, other groups are made by the leader's parent when it
 * creates the leader.
 */
static int plan_create(struct oc_plan_build *b, size_t i)
{
	struct oc_rst_ctx *ctx = b->ctx;
	struct oc_rst_task *t = &ctx->tasks[i];
	struct oc_plan_task *ts = b->tasks;
	size_t p = ts[i].parent, create;
	struct oc_rst_task *parent = p == OC_PLAN_NONE ? NULL : &ctx->tasks[p];

	/* An fd table shared with any task but the parent cannot be made
	 * with clone(); siblings that share their parent's are all made by
	 * it with CLONE_FILES. */
	bool with_parent = oc_rst_shares_files(ctx, t);
	for (size_t k = 0; !t->zombie && !with_parent && k < i; k++)
		if (!ctx->tasks[k].zombie && ctx->tasks[k].ids->files_id == t->ids->files_id &&
		    &ctx->tasks[k] != parent)
			return oc_error(-EOPNOTSUPP,
					"task %d shares its fd table with task %d, which is not its "
					"parent: not supported",
					t->pid, ctx->tasks[k].pid);
	OC_PLAN_TRY(oc_plan_task_step(b, OC_STEP_CREATE, parent ? parent->pid : 0, i, &create));
	if (parent)
		OC_PLAN_TRY(oc_plan_add_dep(&b->plan, create, ts[p].step[OC_STEP_SESSION]));
	else
		for (size_t s = 0; s < create; s++)
			if (b->plan.steps[s].kind == OC_STEP_OPEN)
				OC_PLAN_TRY(oc_plan_add_dep(&b->plan, create, s));

	PstreeEntry *pe = t->pstree;
	struct oc_rst_task *leader = oc_rst_task_by_pid(ctx, pe->pgid);
	if (leader && leader != t && leader != parent && pe->sid != pe->pid) {
		size_t l = leader - ctx->tasks;
		if (l > i)
			return oc_error(-EINVAL,
					"pstree.img: task %d joins group %u, whose leader comes later "
					"in the tree",
					t->pid, pe->pgid);
		bool leads_session = leader->pstree->sid == leader->pstree->pid;
		OC_PLAN_TRY(oc_plan_add_dep(&b->plan, create,
					    ts[l].step[leads_session ? OC_STEP_SESSION : OC_STEP_CREATE]));
	}
	return 0;
}

/* The task kind: CREATE, SESSION, and a zombie's exit. */
int oc_task_plan(struct oc_plan_build *b, size_t i, enum oc_step_kind step)
{
	struct oc_rst_task *t = &b->ctx->tasks[i];
	const size_t *ts = b->tasks[i].step;
	size_t s;

	switch (step) {
	case OC_STEP_CREATE:
		return plan_create(b, i);
	case OC_STEP_SESSION:
		OC_PLAN_TRY(oc_plan_task_step(b, OC_STEP_SESSION, t->pid, i, &s));
		return oc_plan_add_dep(&b->plan, s, ts[OC_STEP_CREATE]);
	case OC_STEP_ZOMBIE:
		if (!t->zombie)
			return 0;
		OC_PLAN_TRY(oc_plan_task_step(b, OC_STEP_ZOMBIE, t->pid, i, &s));
		return oc_plan_add_dep(&b->plan, s, ts[OC_STEP_SESSION]);
	default:
		return 0;
	}
}

/* Memory shared copy-on-write (restore/cow.c): the parent's copy must be
 * there when it forks the child. */
int oc_cow_plan(struct oc_plan_build *b, size_t i, enum oc_step_kind step)
{
	struct oc_rst_task *t = &b->ctx->tasks[i];
	const struct oc_plan_task *ts = &b->tasks[i];
	size_t s;

	if (step != OC_STEP_PREMAP || !oc_rst_cow_premaps(t))
		return 0;
	OC_PLAN_TRY(oc_plan_task_step(b, OC_STEP_PREMAP, t->pid, i, &s));
	OC_PLAN_TRY(oc_plan_add_dep(&b->plan, s, ts->step[OC_STEP_SESSION]));
	if (oc_rst_cow_inherits(t) && ts->parent != OC_PLAN_NONE &&
	    b->tasks[ts->parent].step[OC_STEP_PREMAP] != OC_PLAN_NONE)
		OC_PLAN_TRY(
			oc_plan_add_dep(&b->plan, ts->step[OC_STEP_CREATE], b->tasks[ts->parent].step[OC_STEP_PREMAP]));
	return 0;
}

/* cwd and root, once the fds are in (the parent's, for a task sharing its
 * fd table). */
int oc_fs_plan(struct oc_plan_build *b, size_t i, enum oc_step_kind step)
{
	struct oc_rst_task *t = &b->ctx->tasks[i];
	const size_t *ts = b->tasks[i].step;
	size_t s;

	if (step != OC_STEP_FS)
		return 0;
	OC_PLAN_TRY(oc_plan_task_step(b, OC_STEP_FS, t->pid, i, &s));
	return oc_plan_add_dep(&b->plan, s, ts[oc_rst_shares_files(b->ctx, t) ? OC_STEP_SESSION : OC_STEP_INSTALL]);
}

/* The memory step: the agent builds the restorer's area from every kind's
 * fill and jumps; it never returns, so it comes after the agent's other
 * steps. */
int oc_mm_plan(struct oc_plan_build *b, size_t i, enum oc_step_kind step)
{
	const size_t *ts = b->tasks[i].step;
	size_t s;

	if (step != OC_STEP_MEMORY)
		return 0;
	OC_PLAN_TRY(oc_plan_task_step(b, OC_STEP_MEMORY, b->ctx->tasks[i].pid, i, &s));
	OC_PLAN_TRY(oc_plan_add_dep(&b->plan, s, ts[OC_STEP_FS]));
	if (ts[OC_STEP_PREMAP] != OC_PLAN_NONE)
		OC_PLAN_TRY(oc_plan_add_dep(&b->plan, s, ts[OC_STEP_PREMAP]));
	return 0;
}

/* The threads, made by the restorer after the memory. */
int oc_threads_plan(struct oc_plan_build *b, size_t i, enum oc_step_kind step)
{
	size_t s;

	if (step != OC_STEP_THREADS)
		return 0;
	OC_PLAN_TRY(oc_plan_task_step(b, OC_STEP_THREADS, b->ctx->tasks[i].pid, i, &s));
	return oc_plan_add_dep(&b->plan, s, b->tasks[i].step[OC_STEP_MEMORY]);
}
