// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the mount namespace's pure helpers (engine/res/ns/mnt.c):
 * finding an external by kind and name among CRIU's --external strings,
 * and the kernel's device encoding of root_dev and the tmpfs image names.
 * The mount tree itself is tested live by tests/integration/mntns.bats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "res/ns/mnt.h"

static void test_external_by_kind_and_name(void **state)
{
	const char *ext[] = { "mnt[/data]:data", "net[4026532248]:extRootNetNS", "mnt[data]:/srv/d:x",
			      "mnt[/dat]:short", "tty[88:3]" };
	size_t n = sizeof(ext) / sizeof(ext[0]);

	(void)state;
	assert_string_equal(oc_mnt_external(ext, n, "mnt", "/data"), "data");
	/* The value is everything after "]:", colons included. */
	assert_string_equal(oc_mnt_external(ext, n, "mnt", "data"), "/srv/d:x");
	assert_string_equal(oc_mnt_external(ext, n, "net", "4026532248"), "extRootNetNS");
	assert_string_equal(oc_mnt_external(ext, n, "mnt", "/dat"), "short");
	/* A name must match whole; kinds are not mixed up. */
	assert_null(oc_mnt_external(ext, n, "mnt", "/da"));
	assert_null(oc_mnt_external(ext, n, "net", "/data"));
	assert_null(oc_mnt_external(ext, n, "tty", "88:3"));
	assert_null(oc_mnt_external(NULL, 0, "mnt", "/data"));
}

static void test_kernel_dev_encoding(void **state)
{
	(void)state;
	/* As CRIU writes root_dev: 254:0 is 0xfe00000, 0:41 is 41. */
	assert_int_equal(OC_MNT_KDEV(254, 0), 0xfe00000);
	assert_int_equal(OC_MNT_KDEV(0, 41), 41);
	assert_int_equal(OC_MNT_KDEV(8, 17), (8u << 20) | 17);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_external_by_kind_and_name),
		cmocka_unit_test(test_kernel_dev_encoding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
