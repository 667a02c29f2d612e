// SPDX-License-Identifier: LGPL-2.1-or-later
/* The restore planner: the plan the kinds declare for a small tree, and the
 * sort (order, phases, cycles named). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ocicr.h"
#include "res/plan.h"
#include "res/restore.h"
#include "core/cleanup.h"

static size_t add(struct oc_plan *p, enum oc_step_kind kind, pid_t task)
{
	size_t i;
	assert_int_equal(oc_plan_add_step(p, kind, task, task, 0, &i), 0);
	return i;
}

static size_t position(const struct oc_plan *p, size_t step)
{
	for (size_t k = 0; k < p->n_steps; k++)
		if (p->order[k] == step)
			return k;
	fail_msg("step %zu not in the order", step);
	return 0;
}

static void test_order_respects_dependencies(void **state)
{
	struct oc_plan p = {};
	size_t create = add(&p, OC_STEP_CREATE, 10);
	size_t install = add(&p, OC_STEP_INSTALL, 10);
	size_t child = add(&p, OC_STEP_CREATE, 11);
	size_t session = add(&p, OC_STEP_SESSION, 10);

	/* declared out of order on purpose */
	assert_int_equal(oc_plan_add_dep(&p, install, child), 0);
	assert_int_equal(oc_plan_add_dep(&p, child, session), 0);
	assert_int_equal(oc_plan_add_dep(&p, session, create), 0);
	assert_int_equal(oc_plan_sort(&p), 0);

	assert_true(position(&p, create) < position(&p, session));
	assert_true(position(&p, session) < position(&p, child));
	assert_true(position(&p, child) < position(&p, install));
	assert_int_equal(p.steps[create].phase, 0);
	assert_int_equal(p.steps[install].phase, 3);
	assert_int_equal(p.n_phases, 4);
	/* executed in phase order, whatever order steps were released in */
	for (size_t k = 1; k < p.n_steps; k++)
		assert_true(p.steps[p.order[k - 1]].phase <= p.steps[p.order[k]].phase);
	oc_plan_free(&p);
}

static void test_cycle_is_named(void **state)
{
	struct oc_plan p = {};
	size_t a = add(&p, OC_STEP_INSTALL, 20);
	size_t b = add(&p, OC_STEP_FS, 21);
	size_t c = add(&p, OC_STEP_MEMORY, 22);
	size_t free_step = add(&p, OC_STEP_CREATE, 23);

	assert_int_equal(oc_plan_add_dep(&p, a, b), 0);
	assert_int_equal(oc_plan_add_dep(&p, b, c), 0);
	assert_int_equal(oc_plan_add_dep(&p, c, a), 0);
	(void)free_step;
	assert_int_equal(oc_plan_sort(&p), -ELOOP);

	const char *msg = oc_error_message();
	assert_non_null(strstr(msg, "dependency cycle"));
	assert_non_null(strstr(msg, "task 20: install fds"));
	assert_non_null(strstr(msg, "task 21: fs"));
	assert_non_null(strstr(msg, "task 22: memory"));
	assert_null(strstr(msg, "task 23"));
	oc_plan_free(&p);
}

static void test_duplicate_dependency_once(void **state)
{
	struct oc_plan p = {};
	size_t a = add(&p, OC_STEP_CREATE, 1);
	size_t b = add(&p, OC_STEP_SESSION, 1);

	assert_int_equal(oc_plan_add_dep(&p, b, a), 0);
	assert_int_equal(oc_plan_add_dep(&p, b, a), 0);
	assert_int_equal(p.steps[b].n_deps, 1);
	assert_int_equal(oc_plan_sort(&p), 0);
	oc_plan_free(&p);
}

/* A task of a fake tree: no files, no memory to share. */
struct fake_task {
	PstreeEntry ps;
	TaskKobjIdsEntry ids;
	MmEntry mm;
};

static void fake_task(struct oc_rst_task *t, struct fake_task *f, pid_t pid, pid_t ppid, uint32_t files_id)
{
	memset(t, 0, sizeof(*t));
	memset(f, 0, sizeof(*f));
	f->ps = (PstreeEntry)PSTREE_ENTRY__INIT;
	f->ps.pid = pid;
	f->ps.ppid = ppid;
	f->ps.pgid = f->ps.sid = ppid ? ppid : pid;
	f->ids.files_id = files_id;
	t->pid = pid;
	t->pstree = &f->ps;
	t->ids = &f->ids;
	t->mm = &f->mm;
}

/* The step of @kind about task @pid; fails the test if there is none. */
static size_t step_of(const struct oc_plan *p, enum oc_step_kind kind, pid_t pid)
{
	for (size_t i = 0; i < p->n_steps; i++)
		if (p->steps[i].kind == kind && p->steps[i].task == pid)
			return i;
	fail_msg("no step %d for task %d", kind, pid);
	return 0;
}

static bool waits_for(const struct oc_plan *p, size_t step, size_t dep)
{
	for (size_t d = 0; d < p->steps[step].n_deps; d++)
		if (p->steps[step].deps[d] == dep)
			return true;
	return false;
}

/*
 * The plan the task-level kinds declare: a root (10), a child with its own
 * fd table (11), a child sharing the root's (12) and a zombie (13).  Each
 * task's steps come in step-kind order, and the edges between kinds hold.
 */
static void test_plan_from_kinds(void **state)
{
	struct oc_rst_task tasks[4];
	struct fake_task f[4];
	struct oc_rst_ctx ctx = { .tasks = tasks, .n_tasks = 4 };
	struct oc_plan p = {};
	static const enum oc_step_kind live[] = { OC_STEP_CREATE, OC_STEP_SESSION, OC_STEP_INSTALL,
						  OC_STEP_FS,	  OC_STEP_MEMORY,  OC_STEP_THREADS };

	fake_task(&tasks[0], &f[0], 10, 0, 1);
	fake_task(&tasks[1], &f[1], 11, 10, 2);
	fake_task(&tasks[2], &f[2], 12, 10, 1);
	fake_task(&tasks[3], &f[3], 13, 10, 3);
	tasks[3].zombie = true;
	assert_int_equal(oc_plan_build(&ctx, &p), 0);

	for (size_t k = 0; k < ARRAY_SIZE(live); k++)
		assert_int_equal(p.steps[k].kind, live[k]);
	size_t s = ARRAY_SIZE(live);
	for (size_t k = 0; k < ARRAY_SIZE(live); k++)
		assert_int_equal(p.steps[s + k].kind, live[k]);
	assert_int_equal(p.steps[0].actor, 0); /* the coordinator makes the root */
	assert_int_equal(p.steps[s].actor, 10);

	/* Sharing the root's table: made after the root's install, no
	 * install of its own, cwd and root after its session. */
	size_t install10 = step_of(&p, OC_STEP_INSTALL, 10);
	for (size_t i = 0; i < p.n_steps; i++)
		assert_false(p.steps[i].kind == OC_STEP_INSTALL && p.steps[i].task == 12);
	assert_true(waits_for(&p, step_of(&p, OC_STEP_CREATE, 12), install10));
	assert_true(waits_for(&p, step_of(&p, OC_STEP_FS, 12), step_of(&p, OC_STEP_SESSION, 12)));

	/* The root installs its fds once the children it does not share its
	 * table with are made. */
	assert_true(waits_for(&p, install10, step_of(&p, OC_STEP_CREATE, 11)));
	assert_true(waits_for(&p, install10, step_of(&p, OC_STEP_CREATE, 13)));
	assert_false(waits_for(&p, install10, step_of(&p, OC_STEP_CREATE, 12)));

	/* A zombie gets only the task kind's steps. */
	for (size_t i = 0; i < p.n_steps; i++)
		if (p.steps[i].task == 13 && p.steps[i].kind != OC_STEP_RESUME)
			assert_true(p.steps[i].kind == OC_STEP_CREATE || p.steps[i].kind == OC_STEP_SESSION ||
				    p.steps[i].kind == OC_STEP_ZOMBIE);

	/* Everyone resumes together, last. */
	size_t resume = p.n_steps - 1;
	assert_int_equal(p.steps[resume].kind, OC_STEP_RESUME);
	assert_true(waits_for(&p, resume, step_of(&p, OC_STEP_THREADS, 11)));
	assert_true(waits_for(&p, resume, step_of(&p, OC_STEP_ZOMBIE, 13)));
	assert_int_equal(p.order[p.n_steps - 1], resume);
	oc_plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_respects_dependencies),
		cmocka_unit_test(test_cycle_is_named),
		cmocka_unit_test(test_duplicate_dependency_once),
		cmocka_unit_test(test_plan_from_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
