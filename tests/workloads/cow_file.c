/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A private mapping of a file, written before a fork: the written pages
 * are anonymous copies that parent and child share copy-on-write; the
 * others are still the file's.  The parent maps a 256-page file private,
 * writes its first 128 pages and forks.  The child then writes page 0
 * and drops page 1 (MADV_DONTNEED: it reads the file again), the parent
 * writes page 2.
 *
 * After restore each checks every page (its own writes, the shared ones,
 * the file's), and the parent that the 125 pages written before the fork
 * and left alone since are still shared with its child (smaps
 * Shared_Dirty of the mapping), not copied twice.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include "wl.h"

#define PG	  4096ul
#define N_PAGES	  256
#define N_WRITTEN 128

enum { SEED_FILE = 11, SEED_BEFORE, SEED_CHILD, SEED_PARENT };

static uint8_t *map;
static char smaps[1 << 20];

/* What page @i should hold in the task that wrote @own (-1: none). */
static uint64_t expected_seed(size_t i, int own_page, uint64_t own_seed, bool child)
{
	if ((int)i == own_page)
		return own_seed;
	if (child && i == 1)
		return SEED_FILE; /* dropped: the file's again */
	return i < N_WRITTEN ? SEED_BEFORE : SEED_FILE;
}

/* Returns the first wrong page, or -1. */
static int check_pages(int own_page, uint64_t own_seed, bool child)
{
	for (size_t i = 0; i < N_PAGES; i++) {
		uint64_t seed = expected_seed(i, own_page, own_seed, child);
		if (wl_mismatch(map + i * PG, PG, seed * 1000 + i) >= 0)
			return i;
	}
	return -1;
}

/* Shared_Dirty of the mapping, in KiB. */
static long shared_dirty_kb(void)
{
	char head[32];

	snprintf(head, sizeof(head), "%lx-", (unsigned long)map);
	WL_SETUP(wl_read_file("/proc/self/smaps", smaps, sizeof(smaps)) > 0, "read /proc/self/smaps");
	char *at = strstr(smaps, head);
	WL_SETUP(at, "the mapping is not in smaps");
	char *line = strstr(at, "\nShared_Dirty:");
	long kb = -1;
	WL_SETUP(line && sscanf(line, "\nShared_Dirty: %ld kB", &kb) == 1, "parse smaps");
	return kb;
}

int main(int argc, char **argv)
{
	char path[PATH_MAX];
	static uint8_t page[PG];

	wl_init(argc, argv);
	wl_path(path, sizeof(path), "cow_file.data");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	WL_SETUP(fd >= 0, "create the file");
	for (size_t i = 0; i < N_PAGES; i++) {
		wl_fill(page, PG, SEED_FILE * 1000 + i);
		WL_SETUP(write(fd, page, PG) == (ssize_t)PG, "write the file");
	}
	map = mmap(NULL, N_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	WL_SETUP(map != MAP_FAILED, "map the file");
	close(fd);
	for (size_t i = 0; i < N_WRITTEN; i++)
		wl_fill(map + i * PG, PG, SEED_BEFORE * 1000 + i);
	for (size_t i = N_WRITTEN; i < N_PAGES; i++)
		WL_SETUP(wl_mismatch(map + i * PG, PG, SEED_FILE * 1000 + i) < 0, "the file reads back wrong");

	int p[2];
	WL_SETUP(pipe(p) == 0, "pipe");
	pid_t child = fork();
	WL_SETUP(child >= 0, "fork");
	if (!child) {
		wl_fill(map, PG, SEED_CHILD * 1000 + 0);
		if (madvise(map + PG, PG, MADV_DONTNEED) < 0 || write(p[1], "r", 1) != 1)
			_exit(10);
		wl_wait();
		_exit(check_pages(0, SEED_CHILD, true) < 0 ? 0 : 20);
	}
	char c;
	WL_SETUP(read(p[0], &c, 1) == 1, "the child did not start");
	wl_fill(map + 2 * PG, PG, SEED_PARENT * 1000 + 2);
	long shared_before = shared_dirty_kb();

	wl_ready();
	wl_wait();

	int bad = check_pages(2, SEED_PARENT, false);
	WL_CHECK(bad < 0, "parent: page %d of the private file mapping is wrong", bad);
	long shared_after = shared_dirty_kb();
	WL_CHECK(shared_after >= (long)((N_WRITTEN - 3) * PG / 1024),
		 "only %ld KiB of the mapping are shared with the child after restore (%ld before)", shared_after,
		 shared_before);
	int st;
	kill(child, SIGUSR1);
	WL_CHECK(waitpid(child, &st, 0) == child, "waitpid: %s", strerror(errno));
	WL_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: exit %d (20: a page is wrong)",
		 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	wl_pass();
}
