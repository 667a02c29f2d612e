// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * An unlinked file holding 2 MiB of data (fd 10), over CRIU's default
 * ghost limit (1 MiB) but under ocicr's own.  After restore it is still
 * unlinked, with its bytes and its offset.
 */
#include <sys/stat.h>

#include "wl.h"

#define LEN (2u << 20)

static char buf[LEN], got[LEN];

int main(int argc, char **argv)
{
	char path[PATH_MAX];
	struct stat st;

	wl_init(argc, argv);
	wl_path(path, sizeof(path), "big.dat");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	WL_SETUP(fd >= 0 && dup2(fd, 10) == 10, "create the file");
	close(fd);
	for (size_t i = 0; i < LEN; i++)
		buf[i] = (char)(i * 7 + i / 4096);
	WL_SETUP(write(10, buf, LEN) == LEN && unlink(path) == 0, "write and unlink");

	wl_ready();
	wl_wait();

	WL_CHECK(fstat(10, &st) == 0 && st.st_nlink == 0 && st.st_size == LEN, "fd 10: %lu links, %lld bytes",
		 (unsigned long)st.st_nlink, (long long)st.st_size);
	WL_CHECK(lseek(10, 0, SEEK_CUR) == LEN, "offset %lld", (long long)lseek(10, 0, SEEK_CUR));
	WL_CHECK(pread(10, got, LEN, 0) == LEN && !memcmp(got, buf, LEN), "the bytes differ");
	wl_pass();
}
