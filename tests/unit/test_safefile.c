// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Hostile input at the edges: messages escape what images carry, data
 * files must be regular (a FIFO does not block), created files never go
 * through a symlink and are 0600 whatever the umask, inspect's size
 * options parse.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/error.h"
#include "core/safefile.h"
#include "oci/inspect/limits.h"

static char dir[64];

static int make_dir(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/ocicr-safefile.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_messages_escape_controls(void **state)
{
	char out[128];

	oc_error(-EINVAL, "cannot open %s", "/tmp/a\nError: forged\x1b[31m\x7f");
	assert_string_equal(oc_error_message(), "cannot open /tmp/a\\nError: forged\\x1b[31m\\x7f");
	/* UTF-8 stays, C1 controls and broken sequences do not */
	oc_escape_ctl(out, sizeof(out), "caf\xc3\xa9 \xc2\x9b \xff\ttab");
	assert_string_equal(out, "caf\xc3\xa9 \\u009b \\xff\\ttab");
	/* a wrapped message stays escaped, once */
	oc_error(-EINVAL, "x\ry");
	oc_error_wrap(-EINVAL, "in %s", "a\nb");
	assert_string_equal(oc_error_message(), "in a\\nb: x\\ry");
	/* never past the buffer, never half an escape */
	oc_escape_ctl(out, 6, "ab\n\n\n");
	assert_string_equal(out, "ab\\n");
}

static void test_fifo_is_refused_without_blocking(void **state)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/pstree.img", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(oc_open_regular(AT_FDCWD, path, "pstree.img", false), -EINVAL);
	assert_string_equal(oc_error_message(), "pstree.img: is a FIFO, only regular files are read");
	assert_int_equal(oc_open_regular(AT_FDCWD, dir, "dir", false), -EINVAL);
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(oc_open_regular(AT_FDCWD, path, "none", false), -ENOENT);
}

static void test_create_never_follows_and_is_private(void **state)
{
	char victim[128], link[128], buf[16] = "";
	mode_t old = umask(0);
	int fd;

	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(link, sizeof(link), "%s/dump.log", dir);
	fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "secret", 6), 6);
	close(fd);
	assert_int_equal(symlink(victim, link), 0);

	/* without replace: the planted name is an error, nothing followed */
	assert_int_equal(oc_create_private_path(link, false), -EEXIST);
	/* with replace: the link goes, a new file takes its name */
	fd = oc_create_private_path(link, true);
	umask(old);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "log", 3), 3);
	close(fd);

	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	fd = open(victim, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 6);
	close(fd);
	assert_string_equal(buf, "secret");
}

static void test_sizes_parse(void **state)
{
	uint64_t v;

	assert_int_equal(oci_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(oci_parse_size("512M", &v), 0);
	assert_int_equal(v, 512ull << 20);
	assert_int_equal(oci_parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(oci_parse_size("1T", &v), 0);
	assert_int_equal(v, 1ull << 40);
	assert_int_equal(oci_parse_size("", &v), -EINVAL);
	assert_int_equal(oci_parse_size("12Q", &v), -EINVAL);
	assert_int_equal(oci_parse_size("99999999999999T", &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages_escape_controls),
		cmocka_unit_test(test_fifo_is_refused_without_blocking),
		cmocka_unit_test(test_create_never_follows_and_is_private),
		cmocka_unit_test(test_sizes_parse),
	};
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
