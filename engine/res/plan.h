/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The restore plan: every piece of restore work as a step with the steps it
 * depends on, sorted into phases.  Building and sorting it is pure (images
 * in, plan out); the coordinator and each task's agent then carry out their
 * own steps in plan order.  A dependency cycle is reported by naming its
 * members.
 *
 * The steps and their edges come from the resource kinds (res/kind.h:
 * plan_steps, plan_task, plan_tree): oc_plan_build() only asks each kind,
 * in a fixed order, and adds the coordinator's closing RESUME.
 */
#ifndef OCICR_PLAN_H
#define OCICR_PLAN_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct oc_rst_ctx;

enum oc_step_kind {
	OC_STEP_OPEN,	 /* coordinator: open a file entry, once for the tree */
	OC_STEP_CREATE,	 /* the parent (coordinator for the root): make the task with its pid */
	OC_STEP_SESSION, /* the task: its session and process group */
	OC_STEP_ZOMBIE,	 /* the task: exit with its saved status */
	OC_STEP_PREMAP,	 /* the task: private memory shared copy-on-write with its parent or children */
	OC_STEP_INSTALL, /* the task: install its fds from the opened files */
	OC_STEP_SETUP,	 /* the owner task: per-file work needing its fd numbers */
	OC_STEP_FS,	 /* the task: cwd, root, umask, personality, comm */
	OC_STEP_MEMORY,	 /* the task's restorer: address space, mm, handlers, timers */
	OC_STEP_THREADS, /* the task's restorer: threads, signals, credentials */
	OC_STEP_RESUME,	 /* coordinator: registers and release, all tasks at once */
	OC_STEP_STAGE,	 /* coordinator: a stage of an fd kind that makes its files together */
	_OC_STEP_KIND_MAX,
};

struct oc_plan_step {
	enum oc_step_kind kind;
	pid_t actor;	 /* who carries it out: a task's pid, 0 for the coordinator */
	pid_t task;	 /* the task it is about */
	uint32_t object; /* file id, for OPEN and SETUP; FdTypes for STAGE */
	uint32_t stage;	 /* which stage of the kind, for STAGE */
	size_t *deps;	 /* indexes of steps that must be done first */
	size_t n_deps;
	unsigned phase; /* from the sort: one more than its latest dependency */
};

struct oc_plan {
	struct oc_plan_step *steps;
	size_t n_steps;
	size_t *order; /* step indexes, dependencies first */
	unsigned n_phases;
};

/* No step (of a kind for a task, in struct oc_plan_task). */
#define OC_PLAN_NONE	  ((size_t)-1)
#define OC_STEP_BIT(kind) (1u << (kind))

/* What the plan holds for one task while it is built. */
struct oc_plan_task {
	/* Its step of each kind, OC_PLAN_NONE if it has none; INSTALL is its
	 * parent's when it shares its parent's fd table. */
	size_t step[_OC_STEP_KIND_MAX];
	size_t parent; /* index of its parent in ctx->tasks, OC_PLAN_NONE for the root */
	size_t end;    /* its last step: RESUME waits for it */
};

/*
 * A plan being built.  The kinds get it in this order: every kind's
 * plan_tree(OC_PLAN_BEFORE_TASKS) (the coordinator's OPEN and STAGE
 * steps); then task by task, parents first, for each step kind in the
 * order of enum oc_step_kind, plan_task of each kind that declares it (a
 * zombie: of the kinds marked zombie only), so a step may wait for any
 * step made before it; then every kind's plan_tree(OC_PLAN_AFTER_TASKS),
 * for edges to steps of later tasks.
 */
struct oc_plan_build {
	struct oc_rst_ctx *ctx;
	struct oc_plan plan;
	struct oc_plan_task *tasks; /* by index in ctx->tasks */
};

enum oc_plan_pass {
	OC_PLAN_BEFORE_TASKS,
	OC_PLAN_AFTER_TASKS,
};

/* Return a failed plan call's error at once (the kinds' plan functions). */
#define OC_PLAN_TRY(call)          \
	do {                       \
		int r_ = (call);   \
		if (r_ < 0)        \
			return r_; \
	} while (0)

/* Add step @kind of task @i, carried out by @actor (0: the coordinator),
 * and note it in the task's steps. */
int oc_plan_task_step(struct oc_plan_build *b, enum oc_step_kind kind, pid_t actor, size_t i, size_t *ret_index);

/* Build and sort the plan of a loaded image set. */
int oc_plan_build(struct oc_rst_ctx *ctx, struct oc_plan *ret_plan);

/* Sort @plan (Kahn's algorithm); a cycle is an error naming its steps. */
int oc_plan_sort(struct oc_plan *plan);

void oc_plan_print(const struct oc_plan *plan, struct oc_rst_ctx *ctx, FILE *out);
void oc_plan_free(struct oc_plan *plan);

/* Add a step / a dependency (exposed for the unit tests). */
int oc_plan_add_step(struct oc_plan *plan, enum oc_step_kind kind, pid_t actor, pid_t task, uint32_t object,
		     size_t *ret_index);
int oc_plan_add_dep(struct oc_plan *plan, size_t step, size_t dep);

/*
 * The task of the tree a file names, when it is a /proc/PID/ file or a
 * pidfd: the task holding it opens it at install, once that task exists.
 */
struct oc_rst_task *oc_rst_proc_file_task(struct oc_rst_ctx *ctx, uint32_t id);

/* One line describing step @i (for messages). */
void oc_plan_describe(const struct oc_plan *plan, size_t i, char *buf, size_t len);

#endif
