// SPDX-License-Identifier: LGPL-2.1-or-later
/* The interruption hook: asked only while set, its answer named. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/error.h"
#include "core/interrupt.h"

static int answer_with(void *data)
{
	int *answer = data;

	answer[1]++; /* times asked */
	return answer[0];
}

static void test_no_hook_never_interrupts(void **state)
{
	(void)state;
	oc_interrupt_set(NULL, NULL);
	assert_int_equal(oc_interrupt_check(), 0);
}

static void test_hook_answer_is_named(void **state)
{
	int answer[2] = { 0, 0 };

	(void)state;
	oc_interrupt_set(answer_with, answer);
	assert_int_equal(oc_interrupt_check(), 0);
	answer[0] = SIGINT;
	assert_int_equal(oc_interrupt_check(), -EINTR);
	assert_string_equal(oc_error_message(), "interrupted by SIGINT");
	answer[0] = 1000; /* not a signal */
	assert_int_equal(oc_interrupt_check(), -EINTR);
	assert_string_equal(oc_error_message(), "interrupted (1000)");
	assert_int_equal(answer[1], 3);

	/* Cleared at the end of a call: no longer asked. */
	oc_interrupt_set(NULL, NULL);
	assert_int_equal(oc_interrupt_check(), 0);
	assert_int_equal(answer[1], 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_hook_never_interrupts),
		cmocka_unit_test(test_hook_answer_is_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
