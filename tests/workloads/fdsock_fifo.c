// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * FIFOs with bytes waiting in them at checkpoint time: one open
 * read-write, one with a reader and a (non-blocking) writer, one whose
 * only end left is a writer, and a large one grown past the default
 * size.  The FIFOs live beside the READY file.
 */
#include <libgen.h>
#include <limits.h>

#include "fdsock_wl.h"

#define BIG (100 * 1024)

static char path_rw[PATH_MAX], path_pair[PATH_MAX], path_wo[PATH_MAX], path_big[PATH_MAX];
static int rw, rd, wr, wo, big_rd, big_wr;
static unsigned char big[BIG];

static void make_fifo(char *path, const char *dir, const char *name)
{
	snprintf(path, PATH_MAX, "%s/%s-%d", dir, name, getpid());
	unlink(path);
	WL_SETUP(mkfifo(path, 0600) == 0, path);
}

static void check_read(int fd, const char *want, const char *what)
{
	size_t len = strlen(want);
	char buf[256] = "";

	WL_CHECK(wl_read_all(fd, buf, len) && !memcmp(buf, want, len), "%s: read '%.*s', want '%s'", what, (int)len,
		 buf, want);
}

static void check_same(int fd, const char *path, const char *what)
{
	struct stat a, b;

	WL_CHECK(fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && S_ISFIFO(a.st_mode),
		 "%s: the fd is not the FIFO at %s", what, path);
}

int main(int argc, char **argv)
{
	char dir[PATH_MAX], buf[BIG];
	int tmp;

	wl_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	char ready[PATH_MAX];
	snprintf(ready, sizeof(ready), "%s", argv[1]);
	snprintf(dir, sizeof(dir), "%s", dirname(ready));

	make_fifo(path_rw, dir, "fifo-rw");
	rw = open(path_rw, O_RDWR);
	WL_SETUP(rw >= 0, "open read-write");
	WL_SETUP(write(rw, "read-write bytes", 16) == 16, "write read-write");

	make_fifo(path_pair, dir, "fifo-pair");
	rd = open(path_pair, O_RDONLY | O_NONBLOCK);
	WL_SETUP(rd >= 0, "open reader");
	wr = open(path_pair, O_WRONLY | O_NONBLOCK);
	WL_SETUP(wr >= 0, "open writer");
	WL_SETUP(write(wr, "first ", 6) == 6 && write(wr, "second", 6) == 6, "write pair");

	/* A writer alone: its reader came and went. */
	make_fifo(path_wo, dir, "fifo-wo");
	tmp = open(path_wo, O_RDONLY | O_NONBLOCK);
	WL_SETUP(tmp >= 0, "open passing reader");
	wo = open(path_wo, O_WRONLY);
	WL_SETUP(wo >= 0, "open lone writer");
	WL_SETUP(write(wo, "left behind", 11) == 11, "write lone writer");
	close(tmp);

	make_fifo(path_big, dir, "fifo-big");
	big_rd = open(path_big, O_RDONLY | O_NONBLOCK);
	big_wr = open(path_big, O_WRONLY);
	WL_SETUP(big_rd >= 0 && big_wr >= 0, "open big");
	WL_SETUP(fcntl(big_wr, F_SETPIPE_SZ, 256 * 1024) >= 256 * 1024, "F_SETPIPE_SZ");
	for (size_t i = 0; i < BIG; i++)
		big[i] = (i * 13 + i / 509) & 0xff;
	WL_SETUP(wl_write_all(big_wr, big, BIG), "write big");

	wl_ready(argv);
	wl_wait_usr1();

	check_same(rw, path_rw, "read-write");
	check_read(rw, "read-write bytes", "read-write");
	WL_CHECK((fcntl(rw, F_GETFL) & O_ACCMODE) == O_RDWR, "read-write: not open read-write");
	WL_CHECK(write(rw, "again", 5) == 5, "read-write: cannot write after restore");
	check_read(rw, "again", "read-write after restore");

	check_same(rd, path_pair, "reader");
	check_same(wr, path_pair, "writer");
	check_read(rd, "first second", "pair");
	WL_CHECK(read(rd, buf, 1) < 0 && errno == EAGAIN, "pair: more bytes than written, or a blocking reader");
	WL_CHECK((fcntl(wr, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == (O_WRONLY | O_NONBLOCK),
		 "writer: flags 0x%x, want write-only and non-blocking", fcntl(wr, F_GETFL));
	WL_CHECK((fcntl(rd, F_GETFL) & O_ACCMODE) == O_RDONLY, "reader: not read-only");
	WL_CHECK(write(wr, "more", 4) == 4, "pair: cannot write after restore");
	check_read(rd, "more", "pair after restore");

	check_same(wo, path_wo, "lone writer");
	WL_CHECK(!(fcntl(wo, F_GETFL) & O_NONBLOCK), "lone writer: became non-blocking");
	tmp = open(path_wo, O_RDONLY | O_NONBLOCK);
	WL_CHECK(tmp >= 0, "lone writer: cannot open a reader");
	if (tmp >= 0)
		check_read(tmp, "left behind", "lone writer");

	WL_CHECK(fcntl(big_wr, F_GETPIPE_SZ) >= 256 * 1024, "big: the FIFO shrank to %d", fcntl(big_wr, F_GETPIPE_SZ));
	WL_CHECK(wl_read_all(big_rd, buf, BIG) && !memcmp(buf, big, BIG), "big: the bytes differ");

	unlink(path_rw);
	unlink(path_pair);
	unlink(path_wo);
	unlink(path_big);
	return wl_finish();
}
