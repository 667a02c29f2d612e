// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * FIFOs whose names were removed while open: one read-write with bytes
 * waiting, one with a reader and a writer (bytes waiting too), and one
 * whose only end is a writer.  After restore each fd is a FIFO still
 * without a name (no link, nothing at the old path), with its mode, its
 * bytes and its ends joined as before.
 */
#include <limits.h>
#include <libgen.h>

#include "fdsock_wl.h"

static char path_rw[PATH_MAX], path_pair[PATH_MAX], path_wo[PATH_MAX];
static int rw, rd, wr, wo;

static void make_fifo(char *path, const char *dir, const char *name, mode_t mode)
{
	snprintf(path, PATH_MAX, "%s/%s-%d", dir, name, getpid());
	unlink(path);
	WL_SETUP(mkfifo(path, mode) == 0 && chmod(path, mode) == 0, path);
}

static void check_gone(int fd, const char *path, mode_t mode, const char *what)
{
	struct stat st;

	WL_CHECK(fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode), "%s: not a FIFO", what);
	WL_CHECK((st.st_mode & 07777) == mode, "%s: mode %o, was %o", what, st.st_mode & 07777, mode);
	WL_CHECK(st.st_nlink == 0, "%s: has %lu link(s), had none", what, (unsigned long)st.st_nlink);
	WL_CHECK(access(path, F_OK) < 0 && errno == ENOENT, "%s: %s exists again", what, path);
}

static void check_read(int fd, const char *want, const char *what)
{
	size_t len = strlen(want);
	char buf[64] = "";

	WL_CHECK(wl_read_all(fd, buf, len) && !memcmp(buf, want, len), "%s: read '%.*s', want '%s'", what, (int)len,
		 buf, want);
}

int main(int argc, char **argv)
{
	char dir_buf[PATH_MAX];

	wl_init(argc, argv);
	snprintf(dir_buf, sizeof(dir_buf), "%s", argv[1]);
	const char *dir = dirname(dir_buf);
	make_fifo(path_rw, dir, "gone-rw", 0640);
	make_fifo(path_pair, dir, "gone-pair", 0604);
	make_fifo(path_wo, dir, "gone-wo", 0600);

	rw = open(path_rw, O_RDWR);
	WL_SETUP(rw >= 0 && write(rw, "kept", 4) == 4, "read-write FIFO");
	rd = open(path_pair, O_RDONLY | O_NONBLOCK);
	wr = open(path_pair, O_WRONLY);
	WL_SETUP(rd >= 0 && wr >= 0 && write(wr, "pair", 4) == 4, "FIFO pair");
	int tmp = open(path_wo, O_RDONLY | O_NONBLOCK);
	wo = open(path_wo, O_WRONLY);
	WL_SETUP(tmp >= 0 && wo >= 0, "writer-only FIFO");
	close(tmp);
	WL_SETUP(unlink(path_rw) == 0 && unlink(path_pair) == 0 && unlink(path_wo) == 0, "unlink");

	wl_ready(argv);
	wl_wait_usr1();

	check_gone(rw, path_rw, 0640, "read-write");
	check_gone(rd, path_pair, 0604, "reader");
	check_gone(wr, path_pair, 0604, "writer");
	check_gone(wo, path_wo, 0600, "lone writer");
	check_read(rw, "kept", "read-write");
	check_read(rd, "pair", "reader");
	WL_CHECK(write(wr, "more", 4) == 4, "writer: cannot write after restore");
	check_read(rd, "more", "reader after restore");
	struct stat a, b;
	WL_CHECK(fstat(rd, &a) == 0 && fstat(wr, &b) == 0 && a.st_ino == b.st_ino, "reader and writer: two FIFOs");
	return wl_finish();
}
