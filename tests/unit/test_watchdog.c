// SPDX-License-Identifier: LGPL-2.1-or-later
/* The watchdog: quiet while fed, its rescue once when starved, which
 * unblocks a call that no timeout of its own would end. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/watchdog.h"

static void sleep_ms(unsigned ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static void count_rescue(void *arg)
{
	__atomic_fetch_add((int *)arg, 1, __ATOMIC_SEQ_CST);
}

static void test_fed_watchdog_stays_quiet(void **state)
{
	struct oc_watchdog *w = NULL;
	int rescues = 0;

	(void)state;
	assert_int_equal(oc_watchdog_start(1000, count_rescue, &rescues, &w), 0);
	for (int i = 0; i < 30; i++) {
		sleep_ms(50);
		oc_watchdog_feed(w);
	}
	assert_false(oc_watchdog_stop(w));
	assert_int_equal(rescues, 0);
	assert_false(oc_watchdog_stop(NULL));
}

static void write_byte(void *arg)
{
	int fd = *(int *)arg;

	if (write(fd, "x", 1) != 1)
		return;
}

static void test_starved_watchdog_rescues_a_blocked_call_once(void **state)
{
	struct oc_watchdog *w = NULL;
	int fds[2];
	char c;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(oc_watchdog_start(50, write_byte, &fds[1], &w), 0);
	/* Blocks until the rescue writes: nothing else ever will. */
	assert_int_equal(read(fds[0], &c, 1), 1);
	sleep_ms(200); /* once only: no second byte */
	assert_true(oc_watchdog_stop(w));
	assert_int_equal(close(fds[1]), 0);
	assert_int_equal(read(fds[0], &c, 1), 0);
	close(fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fed_watchdog_stays_quiet),
		cmocka_unit_test(test_starved_watchdog_rescues_a_blocked_call_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
