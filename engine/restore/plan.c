// SPDX-License-Identifier: LGPL-2.1-or-later
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "res/plan.h"
#include "restore/restore.h"
#include "res/fd/files.h"
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

struct task_steps {
	size_t create, session, premap, install, fs, memory, threads, end;
	bool has_premap;
};

/* The plan being built, and the steps each task got so far. */
struct plan_build {
	struct oc_rst_ctx *ctx;
	struct oc_plan plan;
	struct task_steps *ts;
	size_t *opens; /* the OPEN steps */
	size_t n_opens;
};

/*
 * The stages of an fd kind that makes its files together, once, chained;
 * *ret_last is the last one, which each open of the kind waits for.
 */
static int plan_stages(struct plan_build *b, const struct oc_fd_kind *kind, size_t *ret_last)
{
	for (size_t st = 0; st < kind->n_stages; st++) {
		size_t s;
		int r = oc_plan_add_step(&b->plan, OC_STEP_STAGE, 0, 0, kind->type, &s);
		if (r < 0)
			return r;
		b->plan.steps[s].stage = st;
		if (st && (r = oc_plan_add_dep(&b->plan, s, *ret_last)) < 0)
			return r;
		*ret_last = s;
	}
	return 0;
}

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

/* Every file entry an fd uses is opened once, up front, by the coordinator,
 * after the stages its kind declares (but for oc_rst_proc_file_task()'s). */
static int plan_opens(struct plan_build *b)
{
	struct oc_rst_ctx *ctx = b->ctx;
	struct {
		const struct oc_fd_kind *kind;
		size_t last;
	} staged[8];
	size_t n_staged = 0;
	int r;

	b->opens = calloc(ctx->n_files ? ctx->n_files : 1, sizeof(*b->opens));
	if (!b->opens)
		return -ENOMEM;
	for (size_t f = 0; f < ctx->n_files; f++) {
		uint32_t id = ctx->files[f]->id;
		if (!oc_rst_file_owner(ctx, id))
			continue; /* only mapped, or cwd/root: opened by path */
		if (oc_rst_proc_file_task(ctx, id))
			continue;
		const struct oc_fd_kind *kind = oc_fd_kind_of(ctx->files[f]->type);
		size_t k = 0;
		while (kind && kind->n_stages && k < n_staged && staged[k].kind != kind)
			k++;
		if (kind && kind->n_stages && k == n_staged) {
			if (n_staged == ARRAY_SIZE(staged))
				return oc_error(-E2BIG, "too many fd kinds with stages");
			staged[n_staged].kind = kind;
			if ((r = plan_stages(b, kind, &staged[n_staged].last)) < 0)
				return r;
			n_staged++;
		}
		size_t *open = &b->opens[b->n_opens];
		r = oc_plan_add_step(&b->plan, OC_STEP_OPEN, 0, 0, id, open);
		if (r < 0)
			return r;
		if (kind && kind->n_stages && (r = oc_plan_add_dep(&b->plan, *open, staged[k].last)) < 0)
			return r;
		b->n_opens++;
	}
	return 0;
}

/* Task @i's creation by its parent (the coordinator for the root), and its
 * session and group. */
static int plan_create(struct plan_build *b, size_t i, struct oc_rst_task *parent)
{
	struct oc_rst_ctx *ctx = b->ctx;
	struct oc_rst_task *t = &ctx->tasks[i];
	PstreeEntry *pe = t->pstree;
	struct task_steps *ts = b->ts;
	int r;

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
	if ((r = oc_plan_add_step(&b->plan, OC_STEP_CREATE, parent ? parent->pid : 0, t->pid, 0, &ts[i].create)) < 0 ||
	    (r = oc_plan_add_step(&b->plan, OC_STEP_SESSION, t->pid, t->pid, 0, &ts[i].session)) < 0 ||
	    (r = oc_plan_add_dep(&b->plan, ts[i].session, ts[i].create)) < 0)
		return r;
	if (parent) {
		/* A child inherits its parent's session and group. */
		r = oc_plan_add_dep(&b->plan, ts[i].create, ts[parent - ctx->tasks].session);
		if (r < 0)
			return r;
	} else {
		for (size_t o = 0; o < b->n_opens; o++)
			if ((r = oc_plan_add_dep(&b->plan, ts[i].create, b->opens[o])) < 0)
				return r;
	}
	/* Joining another group needs the group there first: a session
	 * leader makes it in its session step, other groups are made by the
	 * leader's parent when it creates the leader. */
	struct oc_rst_task *leader = oc_rst_task_by_pid(ctx, pe->pgid);
	if (leader && leader != t && leader != parent && pe->sid != pe->pid) {
		size_t l = leader - ctx->tasks;
		if (l > i)
			return oc_error(-EINVAL,
					"pstree.img: task %d joins group %u, whose leader comes later "
					"in the tree",
					t->pid, pe->pgid);
		r = oc_plan_add_dep(&b->plan, ts[i].create,
				    leader->pstree->sid == leader->pstree->pid ? ts[l].session : ts[l].create);
		if (r < 0)
			return r;
	}
	return 0;
}

#define TRY(call)                  \
	do {                       \
		int r_ = (call);   \
		if (r_ < 0)        \
			return r_; \
	} while (0)

/* What a live task does itself: premap, fds, fs, memory, threads. */
static int plan_live_task(struct plan_build *b, size_t i, struct oc_rst_task *parent)
{
	struct oc_rst_ctx *ctx = b->ctx;
	struct oc_rst_task *t = &ctx->tasks[i];
	struct oc_plan *plan = &b->plan;
	struct task_steps *ts = b->ts;

	/* Memory shared copy-on-write: the parent's copy must be there
	 * when it forks the child. */
	if (oc_rst_cow_premaps(t)) {
		TRY(oc_plan_add_step(plan, OC_STEP_PREMAP, t->pid, t->pid, 0, &ts[i].premap));
		TRY(oc_plan_add_dep(plan, ts[i].premap, ts[i].session));
		ts[i].has_premap = true;
		if (oc_rst_cow_inherits(t))
			TRY(oc_plan_add_dep(plan, ts[i].create, ts[parent - ctx->tasks].premap));
	}
	if (oc_rst_shares_files(ctx, t)) {
		/* Made with CLONE_FILES once the parent's table is set. */
		size_t p = parent - ctx->tasks;
		TRY(oc_plan_add_dep(plan, ts[i].create, ts[p].install));
		ts[i].install = ts[p].install;
		TRY(oc_plan_add_step(plan, OC_STEP_FS, t->pid, t->pid, 0, &ts[i].fs));
		TRY(oc_plan_add_dep(plan, ts[i].fs, ts[i].session));
	} else {
		TRY(oc_plan_add_step(plan, OC_STEP_INSTALL, t->pid, t->pid, 0, &ts[i].install));
		TRY(oc_plan_add_dep(plan, ts[i].install, ts[i].session));
		TRY(oc_plan_add_step(plan, OC_STEP_FS, t->pid, t->pid, 0, &ts[i].fs));
		TRY(oc_plan_add_dep(plan, ts[i].fs, ts[i].install));
	}
	TRY(oc_plan_add_step(plan, OC_STEP_MEMORY, t->pid, t->pid, 0, &ts[i].memory));
	TRY(oc_plan_add_dep(plan, ts[i].memory, ts[i].fs));
	if (ts[i].has_premap)
		TRY(oc_plan_add_dep(plan, ts[i].memory, ts[i].premap));
	TRY(oc_plan_add_step(plan, OC_STEP_THREADS, t->pid, t->pid, 0, &ts[i].threads));
	TRY(oc_plan_add_dep(plan, ts[i].threads, ts[i].memory));
	ts[i].end = ts[i].threads;
	return 0;
}

static int plan_tasks(struct plan_build *b)
{
	struct oc_rst_ctx *ctx = b->ctx;
	struct task_steps *ts = b->ts;

	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct oc_rst_task *t = &ctx->tasks[i];
		struct oc_rst_task *parent = i ? oc_rst_task_by_pid(ctx, t->pstree->ppid) : NULL;

		if (i && !parent)
			return oc_error(-EINVAL,
					"pstree.img: task %d has parent %u, which is not in the tree "
					"(or comes after it)",
					t->pid, t->pstree->ppid);
		TRY(plan_create(b, i, parent));
		if (t->zombie) {
			TRY(oc_plan_add_step(&b->plan, OC_STEP_ZOMBIE, t->pid, t->pid, 0, &ts[i].end));
			TRY(oc_plan_add_dep(&b->plan, ts[i].end, ts[i].session));
			continue;
		}
		TRY(plan_live_task(b, i, parent));
	}
	/* A /proc/PID file is opened at install, once PID exists. */
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct oc_rst_task *t = &ctx->tasks[i];
		for (size_t k = 0; !t->zombie && k < t->n_fds; k++) {
			struct oc_rst_task *of = oc_rst_proc_file_task(ctx, t->fds[k]->id);
			if (of && of != t)
				TRY(oc_plan_add_dep(&b->plan, ts[i].install, ts[of - ctx->tasks].create));
		}
	}
	/* A task closes what it does not own before installing: its children
	 * must have been made by then (but for those sharing its table).  A
	 * parent that shares its own parent's table is made after that one's
	 * install: its children come before its fs step (before its memory
	 * step, which never returns). */
	for (size_t i = 1; i < ctx->n_tasks; i++) {
		struct oc_rst_task *parent = oc_rst_task_by_pid(ctx, ctx->tasks[i].pstree->ppid);
		size_t p = parent - ctx->tasks;
		if (oc_rst_shares_files(ctx, &ctx->tasks[i]))
			continue;
		size_t before = parent->zombie			   ? ts[p].end
				: oc_rst_shares_files(ctx, parent) ? ts[p].fs
								   : ts[p].install;
		TRY(oc_plan_add_dep(&b->plan, before, ts[i].create));
	}
	return 0;
}

/* Per-file setup in the owner, after its fds are in, for the fd kinds
 * that declare one. */
static int plan_setups(struct plan_build *b)
{
	struct oc_rst_ctx *ctx = b->ctx;

	for (size_t o = 0; o < b->n_opens; o++) {
		uint32_t id = b->plan.steps[b->opens[o]].object;
		FileEntry *fe = oc_rst_find_file(ctx, id);
		const struct oc_fd_kind *kind = fe ? oc_fd_kind_of(fe->type) : NULL;
		struct oc_rst_task *owner = oc_rst_task_by_pid(ctx, oc_rst_file_owner(ctx, id));
		if (!kind || !kind->setup || !owner)
			continue;
		size_t s, oi = owner - ctx->tasks;
		TRY(oc_plan_add_step(&b->plan, OC_STEP_SETUP, owner->pid, owner->pid, id, &s));
		TRY(oc_plan_add_dep(&b->plan, s, b->ts[oi].install));
		TRY(oc_plan_add_dep(&b->plan, b->ts[oi].fs, s));
	}
	/* A file only in flight on a unix socket: by the socket's owner. */
	for (size_t f = 0; f < ctx->n_files; f++) {
		uint32_t id = ctx->files[f]->id, holder;
		const struct oc_fd_kind *kind = oc_fd_kind_of(ctx->files[f]->type);
		if (!kind || !kind->setup || oc_rst_file_owner(ctx, id) ||
		    !(holder = oc_rst_unix_in_flight_holder(ctx, id)))
			continue;
		struct oc_rst_task *owner = oc_rst_task_by_pid(ctx, oc_rst_file_owner(ctx, holder));
		if (!owner)
			continue;
		size_t s, oi = owner - ctx->tasks;
		TRY(oc_plan_add_step(&b->plan, OC_STEP_SETUP, owner->pid, owner->pid, id, &s));
		TRY(oc_plan_add_dep(&b->plan, s, b->ts[oi].install));
		TRY(oc_plan_add_dep(&b->plan, b->ts[oi].fs, s));
	}
	return 0;
}

/* Everyone resumes together, once every task is ready. */
static int plan_resume(struct plan_build *b)
{
	size_t resume;

	TRY(oc_plan_add_step(&b->plan, OC_STEP_RESUME, 0, b->ctx->tasks[0].pid, 0, &resume));
	for (size_t i = 0; i < b->ctx->n_tasks; i++)
		TRY(oc_plan_add_dep(&b->plan, resume, b->ts[i].end));
	return 0;
}

#undef TRY

int oc_plan_build(struct oc_rst_ctx *ctx, struct oc_plan *ret_plan)
{
	struct plan_build b = { .ctx = ctx };
	int r = -ENOMEM;

	b.ts = calloc(ctx->n_tasks ? ctx->n_tasks : 1, sizeof(*b.ts));
	if (b.ts)
		r = plan_opens(&b);
	if (r >= 0)
		r = plan_tasks(&b);
	if (r >= 0)
		r = plan_setups(&b);
	if (r >= 0)
		r = plan_resume(&b);
	if (r >= 0)
		r = oc_plan_sort(&b.plan);
	free(b.ts);
	free(b.opens);
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
