// SPDX-License-Identifier: LGPL-2.1-or-later
/* Pid namespaces nested below the tree's, at restore: the set_tid arrays a
 * parent (or the restorer, for threads) clones with, pids as a nested task
 * sees them, and the check of the images' nesting. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ocicr.h"
#include "res/restore.h"
#include "res/ns/ns.h"
#include "proc/proc.h"
#include "core/error.h"

/* The tree of tests/workloads/pidns_nested.c: R and C in the tree's
 * namespace (id 1), C unshared namespace 2, whose init is G and pid 2 H. */
struct tree {
	PstreeEntry pe[4];
	TaskKobjIdsEntry ids[4];
	uint32_t threads[4];
	uint32_t ns_pids[4][2];
	struct oc_rst_task tasks[4];
	struct oc_rst_ctx ctx;
};

static void build(struct tree *t)
{
	static const pid_t pids[4] = { 100, 101, 102, 103 };
	static const size_t parents[4] = { SIZE_MAX, 0, 1, 2 };
	static const uint32_t ns_ids[4] = { 1, 1, 2, 2 };

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < 4; i++) {
		t->pe[i] = (PstreeEntry)PSTREE_ENTRY__INIT;
		t->pe[i].pid = pids[i];
		t->pe[i].ppid = i ? pids[parents[i]] : 0;
		t->pe[i].pgid = t->pe[i].sid = 100;
		t->threads[i] = pids[i];
		t->pe[i].n_threads = 1;
		t->pe[i].threads = &t->threads[i];
		t->ids[i] = (TaskKobjIdsEntry)TASK_KOBJ_IDS_ENTRY__INIT;
		t->ids[i].has_pid_ns_id = true;
		t->ids[i].pid_ns_id = ns_ids[i];
		t->tasks[i].pstree = &t->pe[i];
		t->tasks[i].pid = pids[i];
		t->tasks[i].parent = parents[i];
		t->tasks[i].ids = &t->ids[i];
	}
	t->ids[1].has_pid_for_children_ns_id = true;
	t->ids[1].pid_for_children_ns_id = 2;
	for (size_t i = 2; i < 4; i++) {
		t->ns_pids[i][0] = i - 1; /* G 1, H 2 */
		t->pe[i].n_ns_pids = 1;
		t->pe[i].ns_pids = t->ns_pids[i];
	}
	t->ctx.tasks = t->tasks;
	t->ctx.n_tasks = 4;
}

static void test_set_tid_innermost_first(void **state)
{
	struct tree t;
	pid_t set_tid[OC_PROC_NS_LEVELS_MAX];

	build(&t);
	assert_int_equal(oc_rst_set_tid(&t.tasks[1], set_tid), 1);
	assert_int_equal(set_tid[0], 101);
	assert_int_equal(oc_rst_set_tid(&t.tasks[3], set_tid), 2);
	assert_int_equal(set_tid[0], 2);
	assert_int_equal(set_tid[1], 103);
	assert_int_equal(oc_rst_own_pid(&t.tasks[2]), 1);
	assert_int_equal(oc_rst_own_pid(&t.tasks[0]), 100);
}

static void test_pids_as_a_nested_task_sees_them(void **state)
{
	struct tree t;

	build(&t);
	/* In the tree's namespace: the images' pids. */
	assert_int_equal(oc_rst_pid_seen_by(&t.ctx, &t.tasks[1], 103), 103);
	assert_int_equal(oc_rst_pid_seen_by(&t.ctx, NULL, 102), 102);
	/* Inside: its own namespace's pids; one above is not seen. */
	assert_int_equal(oc_rst_pid_seen_by(&t.ctx, &t.tasks[3], 102), 1);
	assert_int_equal(oc_rst_pid_seen_by(&t.ctx, &t.tasks[3], 103), 2);
	assert_int_equal(oc_rst_pid_seen_by(&t.ctx, &t.tasks[3], 101), -1);
}

static void test_nesting_checked(void **state)
{
	struct tree t;

	build(&t);
	assert_int_equal(oc_ns_pid_rst_check(&t.ctx), 0);

	/* A task one level below its parent that is not pid 1 there. */
	build(&t);
	t.ns_pids[2][0] = 5;
	assert_int_equal(oc_ns_pid_rst_check(&t.ctx), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "task 102 is 1 pid namespaces below"));

	/* Another pid namespace than its parent's, with no pids there. */
	build(&t);
	t.ids[1].pid_ns_id = 3;
	assert_int_equal(oc_ns_pid_rst_check(&t.ctx), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "task 101"));

	/* Two levels below its parent. */
	build(&t);
	uint32_t deep[2] = { 1, 1 };
	t.pe[2].n_ns_pids = 2;
	t.pe[2].ns_pids = deep;
	assert_int_equal(oc_ns_pid_rst_check(&t.ctx), -EINVAL);

	/* Threads below the tree's namespace, without their tids there. */
	build(&t);
	uint32_t two[2] = { 103, 104 };
	t.pe[3].n_threads = 2;
	t.pe[3].threads = two;
	assert_int_equal(oc_ns_pid_rst_check(&t.ctx), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "and 0 of their tids there (ns_tids), not 1"));
	/* With them. */
	uint32_t tid_below = 3;
	t.pe[3].n_ns_tids = 1;
	t.pe[3].ns_tids = &tid_below;
	assert_int_equal(oc_ns_pid_rst_check(&t.ctx), 0);
}

/* H's second thread T (104 in the tree's namespace, 3 in G's). */
static void test_threads_below(void **state)
{
	struct tree t;
	uint32_t two[2] = { 103, 104 }, tid_below = 3;
	pid_t set_tid[OC_PROC_NS_LEVELS_MAX];

	build(&t);
	t.pe[3].n_threads = 2;
	t.pe[3].threads = two;
	t.pe[3].n_ns_tids = 1;
	t.pe[3].ns_tids = &tid_below;
	assert_int_equal(oc_rst_thread_set_tid(&t.tasks[3], 1, set_tid), 2);
	assert_int_equal(set_tid[0], 3);
	assert_int_equal(set_tid[1], 104);
	assert_int_equal(oc_rst_own_tid(&t.tasks[3], 1), 3);
	assert_int_equal(oc_rst_own_tid(&t.tasks[3], 0), 2);
	/* A timer of H's aimed at T, as H sees it; from above, T's own. */
	assert_int_equal(oc_rst_pid_seen_by(&t.ctx, &t.tasks[3], 104), 3);
	assert_int_equal(oc_rst_pid_seen_by(&t.ctx, &t.tasks[1], 104), 104);
	assert_int_equal(oc_rst_pid_seen_by(&t.ctx, &t.tasks[2], 104), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_tid_innermost_first),
		cmocka_unit_test(test_pids_as_a_nested_task_sees_them),
		cmocka_unit_test(test_nesting_checked),
		cmocka_unit_test(test_threads_below),
	};
	return cmocka_run_group_tests_name("pidns", tests, NULL, NULL);
}
