// SPDX-License-Identifier: LGPL-2.1-or-later
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "res/plan.h"
#include "restore/restore.h"
#include "res/fd/files.h"
#include "res/kind.h"
#include "mem/mm.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"

static const char *const step_names[_OC_STEP_KIND_MAX] = {
	[OC_STEP_OPEN] = "open",     [OC_STEP_CREATE] = "create",	[OC_STEP_SESSION] = "session",
	[OC_STEP_ZOMBIE] = "zombie", [OC_STEP_INSTALL] = "install fds", [OC_STEP_SETUP] = "set up",
	[OC_STEP_FS] = "fs",	     [OC_STEP_MEMORY] = "memory",	[OC_STEP_THREADS] = "threads",
	[OC_STEP_RESUME] = "resume", [OC_STEP_PREMAP] = "premap",	[OC_STEP_STAGE] = "stage",
};

int oc_plan_add_step(struct oc_plan *plan, enum oc_step_kind kind, pid_t actor, pid_t task, uint32_t object,
		     size_t *ret_index)
{
	struct oc_plan_step *n = realloc(plan->steps, (plan->n_steps + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	plan->steps = n;
	n[plan->n_steps] = (struct oc_plan_step){ .kind = kind, .actor = actor, .task = task, .object = object };
	if (ret_index)
		*ret_index = plan->n_steps;
	plan->n_steps++;
	return 0;
}

int oc_plan_add_dep(struct oc_plan *plan, size_t step, size_t dep)
{
	if (step >= plan->n_steps || dep >= plan->n_steps)
		return oc_error(-EINVAL, "the restore plan: a dependency of step %zu on step %zu, which does not exist",
				step, dep);
	struct oc_plan_step *s = &plan->steps[step];

	for (size_t i = 0; i < s->n_deps; i++)
		if (s->deps[i] == dep)
			return 0;
	size_t *d = realloc(s->deps, (s->n_deps + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	s->deps = d;
	s->deps[s->n_deps++] = dep;
	return 0;
}

void oc_plan_describe(const struct oc_plan *plan, size_t i, char *buf, size_t len)
{
	const struct oc_plan_step *s = &plan->steps[i];

	if (s->kind == OC_STEP_OPEN)
		snprintf(buf, len, "open file %u", s->object);
	else if (s->kind == OC_STEP_STAGE)
		snprintf(buf, len, "%ss: %s", oc_fd_kind_of(s->object)->name,
			 oc_fd_kind_of(s->object)->stages[s->stage]);
	else if (s->kind == OC_STEP_SETUP)
		snprintf(buf, len, "task %d: set up file %u", s->task, s->object);
	else
		snprintf(buf, len, "task %d: %s", s->task, step_names[s->kind]);
}

int oc_plan_sort(struct oc_plan *plan)
{
	_cleanup_free_ size_t *pending = calloc(plan->n_steps ? plan->n_steps : 1, sizeof(size_t));
	size_t n_done = 0;

	free(plan->order);
	plan->order = calloc(plan->n_steps ? plan->n_steps : 1, sizeof(size_t));
	if (!pending || !plan->order)
		return -ENOMEM;
	for (size_t i = 0; i < plan->n_steps; i++) {
		pending[i] = plan->steps[i].n_deps;
		plan->steps[i].phase = 0;
	}
	/* Kahn: repeatedly take the steps whose dependencies are all done,
	 * in their order of creation so the plan reads naturally. */
	plan->n_phases = 0;
	while (n_done < plan->n_steps) {
		size_t before = n_done;
		for (size_t i = 0; i < plan->n_steps; i++) {
			if (pending[i] != 0)
				continue;
			struct oc_plan_step *s = &plan->steps[i];
			unsigned phase = 0;
			for (size_t d = 0; d < s->n_deps; d++)
				phase = MAX(phase, plan->steps[s->deps[d]].phase + 1);
			s->phase = phase;
			plan->n_phases = MAX(plan->n_phases, phase + 1);
			plan->order[n_done++] = i;
			pending[i] = (size_t)-1;
			/* Release the steps that waited on this one. */
			for (size_t j = 0; j < plan->n_steps; j++)
				for (size_t d = 0; d < plan->steps[j].n_deps; d++)
					if (plan->steps[j].deps[d] == i && pending[j] != (size_t)-1)
						pending[j]--;
		}
		if (n_done == before)
			break;
	}
	if (n_done == plan->n_steps) {
		/* Execution order is phase order: a step released early in a
		 * pass must not run before an earlier-phase step of its actor
		 * (a parent's memory step never returns). */
		size_t k = 0;
		for (unsigned ph = 0; ph < plan->n_phases; ph++)
			for (size_t i = 0; i < plan->n_steps; i++)
				if (plan->steps[i].phase == ph)
					plan->order[k++] = i;
		return 0;
	}

	/* The steps left form (or wait on) a cycle: walk it from one of them. */
	size_t start = 0;
	while (pending[start] == (size_t)-1)
		start++;
	_cleanup_free_ uint8_t *seen = calloc(plan->n_steps, 1);
	if (!seen)
		return -ENOMEM;
	size_t cur = start;
	while (!seen[cur]) {
		seen[cur] = 1;
		const struct oc_plan_step *s = &plan->steps[cur];
		for (size_t d = 0; d < s->n_deps; d++)
			if (pending[s->deps[d]] != (size_t)-1) {
				cur = s->deps[d];
				break;
			}
	}
	char msg[2048] = "", one[128];
	size_t at = cur;
	do {
		oc_plan_describe(plan, at, one, sizeof(one));
		strncat(msg, one, sizeof(msg) - strlen(msg) - 1);
		strncat(msg, " <- ", sizeof(msg) - strlen(msg) - 1);
		const struct oc_plan_step *s = &plan->steps[at];
		for (size_t d = 0; d < s->n_deps; d++)
			if (pending[s->deps[d]] != (size_t)-1) {
				at = s->deps[d];
				break;
			}
	} while (at != cur && strlen(msg) < sizeof(msg) - 200);
	oc_plan_describe(plan, cur, one, sizeof(one));
	strncat(msg, one, sizeof(msg) - strlen(msg) - 1);
	return oc_error(-ELOOP, "the restore plan has a dependency cycle: %s", msg);
}

int oc_plan_task_step(struct oc_plan_build *b, enum oc_step_kind kind, pid_t actor, size_t i, size_t *ret_index)
{
	int r = oc_plan_add_step(&b->plan, kind, actor, b->ctx->tasks[i].pid, 0, ret_index);

	if (r >= 0)
		b->tasks[i].step[kind] = *ret_index;
	return r;
}

static int plan_tree(struct oc_plan_build *b, enum oc_plan_pass pass)
{
	for (size_t k = 0; k < oc_n_task_kinds; k++) {
		const struct oc_task_kind *kind = oc_task_kinds[k];
		int r = kind->plan_tree ? kind->plan_tree(b, pass) : 0;
		if (r < 0)
			return r;
	}
	return 0;
}

/* Task @i's steps, from the kinds that declare them, in step-kind order. */
static int plan_task(struct oc_plan_build *b, size_t i)
{
	struct oc_rst_ctx *ctx = b->ctx;
	struct oc_rst_task *t = &ctx->tasks[i];
	struct oc_plan_task *ts = &b->tasks[i];

	for (size_t k = 0; k < ARRAY_SIZE(ts->step); k++)
		ts->step[k] = OC_PLAN_NONE;
	ts->parent = OC_PLAN_NONE;
	if (i) {
		struct oc_rst_task *parent = oc_rst_task_by_pid(ctx, t->pstree->ppid);
		if (!parent || parent >= t)
			return oc_error(-EINVAL,
					"pstree.img: task %d has parent %u, which is not in the tree "
					"(or comes after it)",
					t->pid, t->pstree->ppid);
		ts->parent = parent - ctx->tasks;
	}
	for (enum oc_step_kind step = 0; step < _OC_STEP_KIND_MAX; step++)
		for (size_t k = 0; k < oc_n_task_kinds; k++) {
			const struct oc_task_kind *kind = oc_task_kinds[k];
			if (!(kind->plan_steps & OC_STEP_BIT(step)) || (t->zombie && !kind->zombie))
				continue;
			int r = kind->plan_task(b, i, step);
			if (r < 0)
				return r;
		}
	ts->end = b->plan.n_steps - 1;
	return 0;
}

/* Everyone resumes together, once every task is ready: the coordinator's
 * closing step. */
static int plan_resume(struct oc_plan_build *b)
{
	size_t resume;
	int r = oc_plan_add_step(&b->plan, OC_STEP_RESUME, 0, b->ctx->tasks[0].pid, 0, &resume);

	for (size_t i = 0; r >= 0 && i < b->ctx->n_tasks; i++)
		r = oc_plan_add_dep(&b->plan, resume, b->tasks[i].end);
	return r;
}

int oc_plan_build(struct oc_rst_ctx *ctx, struct oc_plan *ret_plan)
{
	struct oc_plan_build b = { .ctx = ctx };
	int r = -ENOMEM;

	b.tasks = calloc(ctx->n_tasks ? ctx->n_tasks : 1, sizeof(*b.tasks));
	if (b.tasks)
		r = plan_tree(&b, OC_PLAN_BEFORE_TASKS);
	for (size_t i = 0; r >= 0 && i < ctx->n_tasks; i++)
		r = plan_task(&b, i);
	if (r >= 0)
		r = plan_tree(&b, OC_PLAN_AFTER_TASKS);
	if (r >= 0)
		r = plan_resume(&b);
	if (r >= 0)
		r = oc_plan_sort(&b.plan);
	free(b.tasks);
	if (r < 0) {
		oc_plan_free(&b.plan);
		return r;
	}
	*ret_plan = b.plan;
	return 0;
}

void oc_plan_free(struct oc_plan *plan)
{
	for (size_t i = 0; i < plan->n_steps; i++)
		free(plan->steps[i].deps);
	free(plan->steps);
	free(plan->order);
	memset(plan, 0, sizeof(*plan));
}

/* ---- printing ------------------------------------------------------------ */

static const char *fd_type_name(FdTypes t)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&fd_types__descriptor, t);
	return v ? v->name : "?";
}

static void describe_file(struct oc_rst_ctx *ctx, uint32_t id, FILE *out)
{
	FileEntry *fe = oc_rst_find_file(ctx, id);

	if (!fe) {
		fprintf(out, "missing file %u", id);
		return;
	}
	switch (fe->type) {
	case FD_TYPES__REG:
		fprintf(out, "%s", fe->reg->name);
		if (oc_rst_find_remap(ctx, id))
			fprintf(out, " (unlinked, from ghost image)");
		if (fe->reg->pos)
			fprintf(out, " @%" PRIu64, fe->reg->pos);
		break;
	case FD_TYPES__PIPE:
		fprintf(out, "pipe %u, %s end", fe->pipe->pipe_id, (fe->pipe->flags & 3) == 1 ? "write" : "read");
		break;
	case FD_TYPES__MEMFD: {
		MemfdInodeEntry *ie = oc_rst_find_memfd(ctx, fe->memfd->inode_id);
		fprintf(out, "memfd %s", ie ? ie->name : "?");
		break;
	}
	default:
		fprintf(out, "%s", fd_type_name(fe->type));
	}
}

static void print_step(const struct oc_plan *plan, size_t i, struct oc_rst_ctx *ctx, FILE *out)
{
	const struct oc_plan_step *s = &plan->steps[i];
	struct oc_rst_task *t = oc_rst_task_by_pid(ctx, s->task);

	switch (s->kind) {
	case OC_STEP_OPEN: {
		fprintf(out, "open file %u: ", s->object);
		describe_file(ctx, s->object, out);
		pid_t owner = oc_rst_file_owner(ctx, s->object);
		size_t users = 0;
		for (size_t k = 0; k < ctx->n_tasks; k++)
			for (size_t j = 0; j < ctx->tasks[k].n_fds; j++)
				if (ctx->tasks[k].fds[j]->id == s->object) {
					users++;
					break;
				}
		fprintf(out, " (owner %d", owner);
		if (users > 1)
			fprintf(out, ", shared by %zu tasks", users);
		fprintf(out, ")");
		break;
	}
	case OC_STEP_CREATE:
		fprintf(out, "create task %d", s->task);
		if (t) {
			fprintf(out, " (threads");
			for (size_t j = 0; j < t->pstree->n_threads; j++)
				fprintf(out, " %u", t->pstree->threads[j]);
			fprintf(out, ")");
		}
		fprintf(out, " by %s", s->actor ? "its parent" : "the coordinator");
		if (s->actor)
			fprintf(out, " %d", s->actor);
		break;
	case OC_STEP_SESSION:
		fprintf(out, "task %d: session %u, process group %u", s->task, t->pstree->sid, t->pstree->pgid);
		break;
	case OC_STEP_ZOMBIE:
		fprintf(out, "task %d: exit as a zombie (status 0x%x)", s->task, t->cores[0]->tc->exit_code);
		break;
	case OC_STEP_INSTALL:
		fprintf(out, "task %d: install %zu fd(s)", s->task, t->n_fds);
		for (size_t j = 0; j < t->n_fds; j++) {
			fprintf(out, "\n              fd %u <- ", t->fds[j]->fd);
			describe_file(ctx, t->fds[j]->id, out);
		}
		break;
	case OC_STEP_SETUP: {
		/* The per-file work the owner does once its fds are in. */
		FileEntry *fe = oc_rst_find_file(ctx, s->object);
		const struct oc_fd_kind *kind = fe ? oc_fd_kind_of(fe->type) : NULL;
		uint32_t fd = 0;
		for (size_t j = 0; j < t->n_fds; j++)
			if (t->fds[j]->id == s->object) {
				fd = t->fds[j]->fd;
				break;
			}
		fprintf(out, "task %d: fd %u (%s, owner): %s", s->task, fd, kind ? kind->name : "?",
			kind && kind->setup_what ? kind->setup_what : "set up");
		break;
	}
	case OC_STEP_FS: {
		fprintf(out, "task %d: cwd ", s->task);
		describe_file(ctx, t->fs->cwd_id, out);
		fprintf(out, ", root ");
		describe_file(ctx, t->fs->root_id, out);
		break;
	}
	case OC_STEP_PREMAP: {
		size_t own = 0, inherited = 0;
		for (size_t j = 0; j < t->mm->n_vmas; j++)
			if (t->vma_cow[j] & OC_COW_INHERIT)
				inherited++;
			else if (t->vma_cow[j])
				own++;
		fprintf(out, "task %d: premap private memory shared copy-on-write:", s->task);
		if (inherited)
			fprintf(out, " %zu VMA(s) from its parent's copy, changed pages only", inherited);
		if (inherited && own)
			fprintf(out, ";");
		if (own)
			fprintf(out, " %zu VMA(s) filled for its children", own);
		break;
	}
	case OC_STEP_MEMORY: {
		uint64_t pages = 0;
		for (size_t j = 0; j < t->n_pagemap; j++)
			pages += t->pagemap[j]->has_nr_pages ? t->pagemap[j]->nr_pages : t->pagemap[j]->compat_nr_pages;
		fprintf(out,
			"task %d: %zu VMAs, %" PRIu64 " pages from pages-%u.img, signal handlers, %zu POSIX "
			"timer(s), rlimits",
			s->task, t->mm->n_vmas, pages, t->pages_id, t->cores[0]->tc->timers->n_posix);
		break;
	}
	case OC_STEP_THREADS:
		fprintf(out, "task %d: %zu thread(s):", s->task, t->n_cores);
		for (size_t j = 0; j < t->pstree->n_threads; j++)
			fprintf(out, " %u", t->pstree->threads[j]);
		fprintf(out, "; pending signals, credentials last");
		break;
	case OC_STEP_RESUME:
		fprintf(out, "load registers of every thread and let the tree go");
		break;
	case OC_STEP_STAGE: {
		char what[128];
		oc_plan_describe(plan, i, what, sizeof(what));
		fprintf(out, "%s", what);
		break;
	}
	default:
		break;
	}
}

void oc_plan_print(const struct oc_plan *plan, struct oc_rst_ctx *ctx, FILE *out)
{
	char ns[64];

	fprintf(out, "Restore plan: %zu task(s), %zu step(s) in %u phase(s)\n", ctx->n_tasks, plan->n_steps,
		plan->n_phases);
	oc_ns_describe(ctx, ns, sizeof(ns));
	if (ns[0])
		fprintf(out, "new namespaces for the root: %s\n", ns);
	for (unsigned ph = 0; ph < plan->n_phases; ph++) {
		fprintf(out, "phase %u:\n", ph);
		for (size_t k = 0; k < plan->n_steps; k++) {
			size_t i = plan->order[k];
			if (plan->steps[i].phase != ph)
				continue;
			fprintf(out, "  %4zu. ", i + 1);
			print_step(plan, i, ctx, out);
			if (plan->steps[i].n_deps) {
				fprintf(out, "  [after");
				for (size_t d = 0; d < plan->steps[i].n_deps; d++)
					fprintf(out, " %zu", plan->steps[i].deps[d] + 1);
				fprintf(out, "]");
			}
			fputc('\n', out);
		}
	}
}
