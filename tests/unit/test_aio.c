// SPDX-License-Identifier: LGPL-2.1-or-later
/* AIO rings: the io_setup() size that makes a ring of a saved length again,
 * checked against the kernel's sizing, and against this kernel itself. */
#include <linux/aio_abi.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "mem/aio.h"

#define PG 4096u

/* The pages of the ring io_setup(@nr) makes on a machine of @cpus CPUs
 * (fs/aio.c: raised to 4 per CPU, doubled, 2 more, whole pages). */
static uint32_t kernel_ring_pages(uint32_t nr, uint32_t cpus)
{
	uint32_t events = (nr > 4 * cpus ? nr : 4 * cpus) * 2 + 2;

	return (32 + events * sizeof(struct io_event) + PG - 1) / PG;
}

static void test_nr_req_makes_the_same_ring(void **state)
{
	(void)state;
	for (uint32_t pages = 1; pages <= 256; pages++) {
		uint32_t nr = oc_aio_nr_req(pages * PG);
		assert_int_equal(oc_aio_ring_events(pages * PG), (pages * PG - 32) / sizeof(struct io_event));
		assert_true(nr > 0);
		/* On a machine with too few CPUs to raise it. */
		assert_int_equal(kernel_ring_pages(nr, 1), pages);
	}
	assert_int_equal(oc_aio_nr_req(0), 0);
	assert_int_equal(oc_aio_nr_req(32), 0);
}

/* This kernel agrees, for rings of the sizes io_setup() makes here. */
static void test_this_kernel_agrees(void **state)
{
	(void)state;
	for (uint32_t want = 1; want <= 2048; want *= 4) {
		aio_context_t ctx = 0;
		if (syscall(SYS_io_setup, want, &ctx) < 0)
			skip();
		uint32_t events = ((const uint32_t *)ctx)[1];
		uint64_t len = (32 + (uint64_t)events * sizeof(struct io_event) + PG - 1) / PG * PG;
		aio_context_t again = 0;
		assert_int_equal(oc_aio_ring_events(len), events);
		assert_int_equal(syscall(SYS_io_setup, oc_aio_nr_req(len), &again), 0);
		assert_int_equal(((const uint32_t *)again)[1], events);
		syscall(SYS_io_destroy, again);
		syscall(SYS_io_destroy, ctx);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nr_req_makes_the_same_ring),
		cmocka_unit_test(test_this_kernel_agrees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
