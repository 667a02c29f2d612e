// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A sparse file, unlinked while open (fd 10): 4 KiB of data at its start
 * and 4 KiB at 64 MiB, holes elsewhere, so it is larger than the default
 * ghost limit but holds little; its offset is 777.  After restore (or a
 * dump that left it running) it is still unlinked, of the same size and
 * offset, with its data in place and its holes still holes.
 */
#include <sys/stat.h>

#include "wl.h"

#define FAR	 (64ul << 20)
#define DATA_LEN 4096

int main(int argc, char **argv)
{
	char path[PATH_MAX], buf[DATA_LEN], zero[DATA_LEN] = { 0 };
	struct stat st;

	wl_init(argc, argv);
	wl_path(path, sizeof(path), "holes.dat");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	WL_SETUP(fd >= 0 && dup2(fd, 10) == 10, "create the file");
	close(fd);
	wl_fill(buf, DATA_LEN, 1);
	WL_SETUP(pwrite(10, buf, DATA_LEN, 0) == DATA_LEN, "write at 0");
	wl_fill(buf, DATA_LEN, 2);
	WL_SETUP(pwrite(10, buf, DATA_LEN, FAR) == DATA_LEN, "write far");
	WL_SETUP(unlink(path) == 0, "unlink");
	WL_SETUP(lseek(10, 777, SEEK_SET) == 777, "lseek");
	WL_SETUP(fstat(10, &st) == 0 && st.st_blocks * 512 < (1 << 20), "the file is sparse here");

	wl_ready();
	wl_wait();

	WL_CHECK(fstat(10, &st) == 0 && st.st_nlink == 0, "the file has %lu links", (unsigned long)st.st_nlink);
	WL_CHECK(st.st_size == (off_t)(FAR + DATA_LEN), "the file has %lld bytes, not %lu", (long long)st.st_size,
		 FAR + DATA_LEN);
	WL_CHECK(st.st_blocks * 512 < (1 << 20), "its holes were filled: %lld bytes allocated",
		 (long long)st.st_blocks * 512);
	WL_CHECK(pread(10, buf, DATA_LEN, 0) == DATA_LEN && wl_mismatch(buf, DATA_LEN, 1) < 0, "the data at 0 differs");
	WL_CHECK(pread(10, buf, DATA_LEN, FAR) == DATA_LEN && wl_mismatch(buf, DATA_LEN, 2) < 0,
		 "the data at 64 MiB differs");
	WL_CHECK(pread(10, buf, DATA_LEN, FAR / 2) == DATA_LEN && !memcmp(buf, zero, DATA_LEN),
		 "the hole at 32 MiB holds data");
	WL_CHECK(access(path, F_OK) < 0, "%s exists again", path);
	WL_CHECK(lseek(10, 0, SEEK_CUR) == 777, "the offset is %lld, not 777", (long long)lseek(10, 0, SEEK_CUR));
	wl_pass();
}
