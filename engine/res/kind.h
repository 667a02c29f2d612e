/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A task-level resource kind: everything ocicr does with one kind of state
 * of a task (its signal handlers, its timers, its memory map...), named in
 * one table entry whose functions live side by side in the kind's module.
 *
 *  - dump: fill the kind's part of the task's messages (res/dump.h);
 *  - reserve: how many entries of the restorer area's arrays it needs;
 *  - fill: in the agent, its part of the restorer's arguments, which the
 *    blob then applies as the task itself;
 *  - plan_steps, plan_task, plan_tree: its steps of the restore plan and
 *    their edges (res/plan.h says in which order the plan asks).
 *
 * The dump runs the kinds in table order for every task, parents first;
 * the agent reserves, then fills in the same order.  File descriptors have
 * their own table, per kind of file (res/fd/files.h).
 */
#ifndef OCICR_RES_KIND_H
#define OCICR_RES_KIND_H

#include <stdbool.h>
#include <stddef.h>

#include "res/dump.h"
#include "res/restore.h"

/* Each thread's stack in the restorer area, and the blob's own. */
#define OC_RST_STACK_SIZE (64u << 10)

/* Entries of the restorer area's arrays (struct oc_rst_args). */
struct oc_rst_area_counts {
	size_t vmas, runs, timers, siginfos, threads, guards, aio_rings;
	size_t seccomp_bytes; /* filter programs (res/task/seccomp.c) */
};

/* The restorer area being built for one task (restore/agent.c). */
struct oc_rst_area {
	struct oc_rst_args *args; /* arrays sized by the kinds' reserve */
	uint64_t start;		  /* the same address in the agent and in the task */
	uint64_t stacks;	  /* first thread stack (one per thread, and the blob's) */
	uint64_t seccomp;	  /* room for the filter programs */
};

struct oc_task_kind {
	const char *name; /* "signal handlers": for logs and errors */
	bool zombie;	  /* dumped for a zombie too */
	int (*dump)(struct oc_dump_task *t);
	void (*reserve)(const struct oc_rst_task *t, struct oc_rst_area_counts *c);
	int (*fill)(struct oc_rst_agent *ag, struct oc_rst_area *area);
	/* The step kinds it makes for each task (OC_STEP_BIT each), added by
	 * plan_task; plan_tree adds its steps and edges for the whole tree,
	 * before or after every task's steps. */
	uint32_t plan_steps;
	int (*plan_task)(struct oc_plan_build *b, size_t i, enum oc_step_kind step);
	int (*plan_tree)(struct oc_plan_build *b, enum oc_plan_pass pass);
	/* The images of the whole tree it reads at restore, as an fd kind's. */
	enum oc_img_kind images[OC_KIND_MAX_IMAGES];
	size_t n_images;
};

extern const struct oc_task_kind oc_task_kind_task;
extern const struct oc_task_kind oc_task_kind_threads;
extern const struct oc_task_kind oc_task_kind_seccomp;
extern const struct oc_task_kind oc_task_kind_cgroup; /* res/cgroup/cgroup.c */
extern const struct oc_task_kind oc_task_kind_sigact;
extern const struct oc_task_kind oc_task_kind_timers;
extern const struct oc_task_kind oc_task_kind_rlimits;
extern const struct oc_task_kind oc_task_kind_signals;
extern const struct oc_task_kind oc_task_kind_mm;
extern const struct oc_task_kind oc_task_kind_pages;
extern const struct oc_task_kind oc_task_kind_fs;
extern const struct oc_task_kind oc_task_kind_files;

/*
 * The plan steps of the kinds whose restore the agent runs as steps of its
 * own (res/kinds.c): the task's creation, session and group, or its exit as
 * a zombie; memory premapped copy-on-write; cwd and root; the memory step
 * (the restorer); the threads.  The fd table's (OPEN, STAGE, INSTALL,
 * SETUP) are in res/fd/files_plan.c.
 */
int oc_task_plan(struct oc_plan_build *b, size_t i, enum oc_step_kind step);
int oc_cow_plan(struct oc_plan_build *b, size_t i, enum oc_step_kind step);
int oc_fs_plan(struct oc_plan_build *b, size_t i, enum oc_step_kind step);
int oc_mm_plan(struct oc_plan_build *b, size_t i, enum oc_step_kind step);
int oc_threads_plan(struct oc_plan_build *b, size_t i, enum oc_step_kind step);
int oc_files_plan(struct oc_plan_build *b, size_t i, enum oc_step_kind step);
int oc_files_plan_tree(struct oc_plan_build *b, enum oc_plan_pass pass);

/* Every task-level kind, in the order they run (res/kinds.c). */
extern const struct oc_task_kind *const oc_task_kinds[];
extern const size_t oc_n_task_kinds;

#endif
