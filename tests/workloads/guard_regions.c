/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guard regions (madvise MADV_GUARD_INSTALL, Linux 6.13): pages that fault
 * on any access although their VMA is readable and writable.  Here: lone
 * guard pages in private anonymous memory, a run of them, one region that
 * spans two VMAs, guards in a private mapping of a file, and one in a
 * MADV_WIPEONFORK VMA (a fork() drops those guards).
 *
 * After restore each guard page must still be a guard (pagemap's guard
 * bit, and a fault on access) and every other page must keep its bytes
 * without faulting; the VMAs must be those there were; a child forked
 * after restore must see the same guards, less the wipe-on-fork one.
 * (The test runs it only where `criu check` says guard regions work.)
 */
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "wl.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define PG	     4096ul
#define PM_GUARD     (1ull << 58)
#define N_PAGES	     24
#define FILE_AT	     12 /* pages FILE_AT.. map the file */
#define WIPE_AT	     20 /* pages WIPE_AT.. are MADV_WIPEONFORK */
#define COW_PAGE     14 /* the one file page written through the mapping */
#define MAPS_MAX     (64 * 1024)
#define SEED(page)   (1000 + (page))
#define IS_GUARD(pg) (guarded[(pg)] != 0)
#define WIPED(pg)    ((pg) >= WIPE_AT)

/* Which pages are guards: alone, a run, one across the VMA break at 6,
 * in the file mapping, in the wipe-on-fork VMA. */
static const uint8_t guarded[N_PAGES] = {
	[1] = 1, [3] = 1, [4] = 1, [5] = 1, [6] = 1, [7] = 1, [10] = 1, [13] = 1, [15] = 1, [16] = 1, [21] = 1,
};

static uint8_t *base;
static sigjmp_buf segv_jmp;
static char maps_before[MAPS_MAX], maps_after[MAPS_MAX];

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(segv_jmp, 1);
}

/* Whether reading page @pg faults. */
static bool read_faults(int pg)
{
	volatile uint8_t *p = base + pg * PG;
	struct sigaction sa = { .sa_handler = on_segv }, old;
	bool faulted = false;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(segv_jmp, 1) == 0) {
		(void)*p;
	} else {
		faulted = true;
	}
	sigaction(SIGSEGV, &old, NULL);
	return faulted;
}

static bool pagemap_guard(int pg)
{
	uint64_t word = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	WL_SETUP(fd >= 0, "open /proc/self/pagemap");
	WL_SETUP(pread(fd, &word, 8, (uintptr_t)(base + pg * PG) / PG * 8) == 8, "read pagemap");
	close(fd);
	return word & PM_GUARD;
}

/* The lines of /proc/self/maps that cover our pages. */
static void our_maps(char *out, size_t len)
{
	static char all[MAPS_MAX];
	size_t o = 0;

	WL_SETUP(wl_read_file("/proc/self/maps", all, sizeof(all)) > 0, "read /proc/self/maps");
	out[0] = '\0';
	for (char *line = all; *line;) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo < (uintptr_t)base + N_PAGES * PG &&
		    hi > (uintptr_t)base && o + n < len) {
			memcpy(out + o, line, n);
			o += n;
			out[o] = '\0';
		}
		line += n;
	}
}

/* Every page as it must be: @child for a fork's view. */
static void check_pages(bool child, const char *when)
{
	for (int pg = 0; pg < N_PAGES; pg++) {
		bool guard = IS_GUARD(pg) && !(child && WIPED(pg));
		WL_CHECK(pagemap_guard(pg) == guard, "%s: page %d %s a guard in pagemap", when, pg,
			 guard ? "is no longer" : "became");
		WL_CHECK(read_faults(pg) == guard, "%s: page %d %s", when, pg,
			 guard ? "can be read: its guard is gone" : "faults");
		if (guard || (child && WIPED(pg)))
			continue;
		ssize_t bad = wl_mismatch(base + pg * PG, PG, SEED(pg));
		WL_CHECK(bad < 0, "%s: page %d differs at byte %zd", when, pg, bad);
	}
}

static void check_in_child(void)
{
	pid_t pid = fork();
	int st;

	WL_SETUP(pid >= 0, "fork");
	if (pid == 0) {
		check_pages(true, "in a child forked after restore");
		_exit(0);
	}
	WL_CHECK(waitpid(pid, &st, 0) == pid, "waitpid: %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		char res[1024];
		WL_CHECK(wl_read_file(wl_result_path, res, sizeof(res)) > 0, "the forked child failed (%d)", st);
		wl_fail("%s", res + strlen("FAIL: "));
	}
}

int main(int argc, char **argv)
{
	char path[PATH_MAX];

	wl_init(argc, argv);
	/* In a PROT_NONE reservation: no neighbour merges with our VMAs. */
	uint8_t *reserve = mmap(NULL, (N_PAGES + 2) * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WL_SETUP(reserve != MAP_FAILED, "reserve");
	base = mmap(reserve + PG, N_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	WL_SETUP(base == reserve + PG, "mmap");
	/* Split in VMAs: one at 6 (flags differ), the file, wipe-on-fork. */
	WL_SETUP(madvise(base + 6 * PG, (FILE_AT - 6) * PG, MADV_RANDOM) == 0, "MADV_RANDOM");
	wl_path(path, sizeof(path), "guarded-file");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	WL_SETUP(fd >= 0, "create the file");
	static uint8_t page[PG];
	for (int pg = FILE_AT; pg < WIPE_AT; pg++) {
		wl_fill(page, PG, SEED(pg));
		WL_SETUP(pwrite(fd, page, PG, (pg - FILE_AT) * PG) == PG, "write the file");
	}
	WL_SETUP(mmap(base + FILE_AT * PG, (WIPE_AT - FILE_AT) * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
		      fd, 0) == base + FILE_AT * PG,
		 "map the file");
	close(fd);
	WL_SETUP(madvise(base + WIPE_AT * PG, (N_PAGES - WIPE_AT) * PG, MADV_WIPEONFORK) == 0, "MADV_WIPEONFORK");

	/* The file's pages stay the file's, but for one copy-on-write page. */
	for (int pg = 0; pg < N_PAGES; pg++)
		if (pg < FILE_AT || pg >= WIPE_AT || pg == COW_PAGE)
			wl_fill(base + pg * PG, PG, SEED(pg));
	for (int pg = 0; pg < N_PAGES; pg++) {
		if (!IS_GUARD(pg))
			continue;
		/* A region at a time where guards are adjacent, across VMAs too. */
		int end = pg;
		while (end < N_PAGES && IS_GUARD(end))
			end++;
		WL_SETUP(madvise(base + pg * PG, (end - pg) * PG, MADV_GUARD_INSTALL) == 0, "MADV_GUARD_INSTALL");
		pg = end - 1;
	}
	check_pages(false, "before");
	our_maps(maps_before, sizeof(maps_before));
	int lines = 0;
	for (const char *p = maps_before; (p = strchr(p, '\n')); p++)
		lines++;
	WL_SETUP(lines == 4, "four VMAs");

	wl_ready();
	wl_wait();

	our_maps(maps_after, sizeof(maps_after));
	WL_CHECK(!strcmp(maps_before, maps_after), "the VMAs changed:\n%s-- became --\n%s", maps_before, maps_after);
	check_pages(false, "after restore");
	check_in_child();
	wl_pass();
}
