// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The fd table's steps of the restore plan: the coordinator opens every
 * file entry once (OPEN), after the stages of the fd kinds that make their
 * files together (STAGE); each task installs its fds (INSTALL), and the
 * owner of a file of a kind with a setup finishes it (SETUP).
 */
#include <stdio.h>
#include <stdlib.h>

#include "res/fd/files.h"
#include "res/kind.h"
#include "core/cleanup.h"
#include "core/error.h"

/*
 * A file of a task of the tree: under /proc/PID/ (a task reading its
 * child's stat, say), or a pidfd.  No such task exists while the
 * coordinator opens files, so the task holding it opens it as it installs
 * its fds, once PID exists.
 */
struct oc_rst_task *oc_rst_proc_file_task(struct oc_rst_ctx *ctx, uint32_t id)
{
	FileEntry *fe = oc_rst_find_file(ctx, id);
	int pid, end = 0;

	if (fe && fe->type == FD_TYPES__PIDFD && fe->pidfd)
		return oc_rst_task_by_pid(ctx, fe->pidfd->nspid);
	if (!fe || fe->type != FD_TYPES__REG || !fe->reg || !fe->reg->name)
		return NULL;
	if (sscanf(fe->reg->name, "/proc/%d/%n", &pid, &end) != 1 || !end)
		return NULL;
	return oc_rst_task_by_pid(ctx, pid);
}

/*
 * The stages of an fd kind that makes its files together, once, chained;
 * *ret_last is the last one, which each open of the kind waits for.
 */
static int plan_stages(struct oc_plan *plan, const struct oc_fd_kind *kind, size_t *ret_last)
{
	for (size_t st = 0; st < kind->n_stages; st++) {
		size_t s;
		OC_PLAN_TRY(oc_plan_add_step(plan, OC_STEP_STAGE, 0, 0, kind->type, &s));
		plan->steps[s].stage = st;
		if (st)
			OC_PLAN_TRY(oc_plan_add_dep(plan, s, *ret_last));
		*ret_last = s;
	}
	return 0;
}

/* Every file entry an fd uses is opened once, up front, by the coordinator,
 * after the stages its kind declares (but for oc_rst_proc_file_task()'s). */
static int plan_opens(struct oc_plan_build *b)
{
	struct oc_rst_ctx *ctx = b->ctx;
	struct {
		const struct oc_fd_kind *kind;
		size_t last;
	} staged[8];
	size_t n_staged = 0;

	for (size_t f = 0; f < ctx->n_files; f++) {
		uint32_t id = ctx->files[f]->id;
		if (!oc_rst_file_owner(ctx, id))
			continue; /* only mapped, or cwd/root: opened by path */
		if (oc_rst_proc_file_task(ctx, id))
			continue;
		const struct oc_fd_kind *kind = oc_fd_kind_of(ctx->files[f]->type);
		bool stages = kind && kind->n_stages;
		size_t k = 0, open;
		while (stages && k < n_staged && staged[k].kind != kind)
			k++;
		if (stages && k == n_staged) {
			if (n_staged == ARRAY_SIZE(staged))
				return oc_error(-E2BIG, "too many fd kinds with stages");
			staged[n_staged].kind = kind;
			OC_PLAN_TRY(plan_stages(&b->plan, kind, &staged[n_staged].last));
			n_staged++;
		}
		OC_PLAN_TRY(oc_plan_add_step(&b->plan, OC_STEP_OPEN, 0, 0, id, &open));
		if (stages)
			OC_PLAN_TRY(oc_plan_add_dep(&b->plan, open, staged[k].last));
	}
	return 0;
}

/* INSTALL: a task sharing its parent's fd table is made with CLONE_FILES
 * once the parent's table is set, and has no install of its own. */
int oc_files_plan(struct oc_plan_build *b, size_t i, enum oc_step_kind step)
{
	struct oc_rst_task *t = &b->ctx->tasks[i];
	size_t *ts = b->tasks[i].step;
	size_t s;

	if (step != OC_STEP_INSTALL)
		return 0;
	if (oc_rst_shares_files(b->ctx, t)) {
		size_t parent_install = b->tasks[b->tasks[i].parent].step[OC_STEP_INSTALL];
		OC_PLAN_TRY(oc_plan_add_dep(&b->plan, ts[OC_STEP_CREATE], parent_install));
		ts[OC_STEP_INSTALL] = parent_install;
		return 0;
	}
	OC_PLAN_TRY(oc_plan_task_step(b, OC_STEP_INSTALL, t->pid, i, &s));
	return oc_plan_add_dep(&b->plan, s, ts[OC_STEP_SESSION]);
}

/*
 * Edges to later tasks' steps: a /proc/PID file is opened at install, once
 * PID exists.  A task closes what it does not own before installing: its
 * children must have been made by then (but for those sharing its table).
 * A parent that shares its own parent's table is made after that one's
 * install: its children come before its fs step (before its memory step,
 * which never returns).
 */
static int plan_task_edges(struct oc_plan_build *b)
{
	struct oc_rst_ctx *ctx = b->ctx;
	struct oc_plan_task *ts = b->tasks;

	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct oc_rst_task *t = &ctx->tasks[i];
		for (size_t k = 0; !t->zombie && k < t->n_fds; k++) {
			struct oc_rst_task *of = oc_rst_proc_file_task(ctx, t->fds[k]->id);
			if (of && of != t)
				OC_PLAN_TRY(oc_plan_add_dep(&b->plan, ts[i].step[OC_STEP_INSTALL],
							    ts[of - ctx->tasks].step[OC_STEP_CREATE]));
		}
	}
	for (size_t i = 1; i < ctx->n_tasks; i++) {
		size_t p = ts[i].parent;
		struct oc_rst_task *parent = &ctx->tasks[p];
		if (oc_rst_shares_files(ctx, &ctx->tasks[i]))
			continue;
		size_t before = parent->zombie			   ? ts[p].end
				: oc_rst_shares_files(ctx, parent) ? ts[p].step[OC_STEP_FS]
								   : ts[p].step[OC_STEP_INSTALL];
		OC_PLAN_TRY(oc_plan_add_dep(&b->plan, before, ts[i].step[OC_STEP_CREATE]));
	}
	return 0;
}

/* A SETUP step for file ID in OWNER, after its fds are in and before its
 * fs step. */
static int plan_setup_in(struct oc_plan_build *b, struct oc_rst_task *owner, uint32_t id)
{
	size_t s, oi = owner - b->ctx->tasks;

	OC_PLAN_TRY(oc_plan_add_step(&b->plan, OC_STEP_SETUP, owner->pid, owner->pid, id, &s));
	OC_PLAN_TRY(oc_plan_add_dep(&b->plan, s, b->tasks[oi].step[OC_STEP_INSTALL]));
	return oc_plan_add_dep(&b->plan, b->tasks[oi].step[OC_STEP_FS], s);
}

/* Per-file setup in the owner, after its fds are in, for the fd kinds
 * that declare one. */
static int plan_setups(struct oc_plan_build *b)
{
	struct oc_rst_ctx *ctx = b->ctx;
	size_t n_steps = b->plan.n_steps;

	for (size_t o = 0; o < n_steps; o++) {
		if (b->plan.steps[o].kind != OC_STEP_OPEN)
			continue;
		uint32_t id = b->plan.steps[o].object;
		FileEntry *fe = oc_rst_find_file(ctx, id);
		const struct oc_fd_kind *kind = fe ? oc_fd_kind_of(fe->type) : NULL;
		struct oc_rst_task *owner = oc_rst_task_by_pid(ctx, oc_rst_file_owner(ctx, id));
		if (kind && kind->setup && owner)
			OC_PLAN_TRY(plan_setup_in(b, owner, id));
	}
	/* A file only in flight on a unix socket: by the socket's owner. */
	for (size_t f = 0; f < ctx->n_files; f++) {
		uint32_t id = ctx->files[f]->id, holder;
		const struct oc_fd_kind *kind = oc_fd_kind_of(ctx->files[f]->type);
		if (!kind || !kind->setup || oc_rst_file_owner(ctx, id) ||
		    !(holder = oc_rst_unix_in_flight_holder(ctx, id)))
			continue;
		struct oc_rst_task *owner = oc_rst_task_by_pid(ctx, oc_rst_file_owner(ctx, holder));
		if (owner)
			OC_PLAN_TRY(plan_setup_in(b, owner, id));
	}
	return 0;
}

int oc_files_plan_tree(struct oc_plan_build *b, enum oc_plan_pass pass)
{
	if (pass == OC_PLAN_BEFORE_TASKS)
		return plan_opens(b);
	OC_PLAN_TRY(plan_task_edges(b));
	return plan_setups(b);
}
