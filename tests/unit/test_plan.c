// SPDX-License-Identifier: LGPL-2.1-or-later
/* The restore planner's sort: order, phases, and cycles named. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ocicr.h"
#include "res/plan.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_respects_dependencies),
		cmocka_unit_test(test_cycle_is_named),
		cmocka_unit_test(test_duplicate_dependency_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
