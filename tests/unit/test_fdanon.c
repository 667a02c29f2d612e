// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the pure helpers under the anonymous-inode fd kinds
 * (engine/res/files.c, engine/res/fhandle.c): the link match, mountinfo
 * unescaping and the kernel's dev_t.  The kinds themselves are tested live
 * by tests/integration/fd_anon.bats.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>
#include <sys/sysmacros.h>

#include "res/fd/fhandle.h"
#include "res/fd/files.h"

static void test_fd_is_anon(void **state)
{
	struct oc_dump_fd fd = { .num = 3 };

	fd.link = "anon_inode:[eventfd]";
	assert_true(oc_fd_is_anon(&fd, "[eventfd]"));
	assert_false(oc_fd_is_anon(&fd, "[eventpoll]"));
	assert_false(oc_fd_is_anon(&fd, "[eventf"));
	fd.link = "anon_inode:inotify";
	assert_true(oc_fd_is_anon(&fd, "inotify"));
	assert_false(oc_fd_is_anon(&fd, "[inotify]"));
	fd.link = "/tmp/anon_inode:[eventfd]";
	assert_false(oc_fd_is_anon(&fd, "[eventfd]"));
	fd.link = "anon_inode:[eventfd]x";
	assert_false(oc_fd_is_anon(&fd, "[eventfd]"));
	fd.link = "anon_inode:";
	assert_false(oc_fd_is_anon(&fd, "[timerfd]"));
}

static void test_mountinfo_unescape(void **state)
{
	char a[] = "/mnt/with\\040space", b[] = "/tab\\011and\\134backslash", c[] = "/not\\08escape\\", d[] = "/plain";

	oc_mountinfo_unescape(a);
	assert_string_equal(a, "/mnt/with space");
	oc_mountinfo_unescape(b);
	assert_string_equal(b, "/tab\tand\\backslash");
	oc_mountinfo_unescape(c);
	assert_string_equal(c, "/not\\08escape\\");
	oc_mountinfo_unescape(d);
	assert_string_equal(d, "/plain");
}

static void test_kdev_to_dev(void **state)
{
	/* fdinfo's sdev:fe00000 is 254:0; minor numbers take 20 bits. */
	assert_true(oc_kdev_to_dev(0xfe00000) == makedev(254, 0));
	assert_true(oc_kdev_to_dev(0x0000010) == makedev(0, 16));
	assert_true(oc_kdev_to_dev(0x0812345) == makedev(8, 0x12345));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_is_anon),
		cmocka_unit_test(test_mountinfo_unescape),
		cmocka_unit_test(test_kdev_to_dev),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
