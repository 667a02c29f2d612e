/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private memory shared copy-on-write by a parent, its child and its
 * grandchild.  The parent fills 16 MiB and forks; the child changes one
 * page, drops ten and makes a grandchild, which changes another; the
 * parent then changes a page of its own.  A second region is split by the
 * child's mprotect(), so it cannot be inherited as a whole.
 *
 * On SIGUSR1 each task checks every page of both regions and that the
 * 16 MiB are still mostly shared with the others (smaps Shared_*), then
 * wakes its child and waits for its verdict.
 */
#include <inttypes.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "wl.h"

#define BIG_PAGES   4096 /* 16 MiB */
#define SPLIT_PAGES 1024 /* 4 MiB */
#define PAGE	    4096ul

enum role { ROOT, CHILD, GRANDCHILD };

static uint8_t *big, *split;
static char smaps[4 << 20];

static uint64_t pattern(uint64_t page, uint64_t salt)
{
	return (page + 1) * 0x9E3779B97F4A7C15ull ^ salt;
}

static void fill_page(uint8_t *p, uint64_t page, uint64_t salt)
{
	uint64_t v = pattern(page, salt);
	for (size_t i = 0; i < PAGE / 8; i++)
		((uint64_t *)p)[i] = v + i;
}

static bool page_is(const uint8_t *p, uint64_t page, uint64_t salt)
{
	uint64_t v = pattern(page, salt);
	for (size_t i = 0; i < PAGE / 8; i++)
		if (((const uint64_t *)p)[i] != v + i)
			return false;
	return true;
}

static bool page_is_zero(const uint8_t *p)
{
	for (size_t i = 0; i < PAGE / 8; i++)
		if (((const uint64_t *)p)[i])
			return false;
	return true;
}

/* What page @i of the big region holds in the task of @role. */
static void check_big(enum role role)
{
	for (uint64_t i = 0; i < BIG_PAGES; i++) {
		const uint8_t *p = big + i * PAGE;
		if (role == ROOT && i == 7)
			WL_CHECK(page_is(p, i, 0xB0B), "root: page 7 lost the write made after the fork");
		else if (role != ROOT && i == 3)
			WL_CHECK(page_is(p, i, 0xC1D), "task %d: page 3 lost the child's write", getpid());
		else if (role == GRANDCHILD && i == 5)
			WL_CHECK(page_is(p, i, 0x6C), "grandchild: page 5 lost its write");
		else if (role != ROOT && i >= 10 && i < 20)
			WL_CHECK(page_is_zero(p), "task %d: page %" PRIu64 " was dropped but holds data", getpid(), i);
		else
			WL_CHECK(page_is(p, i, 0), "task %d (role %d): page %" PRIu64 " of the shared region is wrong",
				 getpid(), role, i);
	}
	for (uint64_t i = 0; i < SPLIT_PAGES; i++)
		WL_CHECK(page_is(split + i * PAGE, i, 0x5EED),
			 "task %d: page %" PRIu64 " of the split region is "
			 "wrong",
			 getpid(), i);
}

/* Shared_Clean + Shared_Dirty of the VMA at @addr, in KiB. */
static long shared_kb(const void *addr)
{
	char head[32];
	ssize_t n = wl_read_file("/proc/self/smaps", smaps, sizeof(smaps));
	WL_SETUP(n > 0, "read /proc/self/smaps");
	snprintf(head, sizeof(head), "\n%lx-", (unsigned long)addr);
	char *at = strstr(smaps, head);
	if (!at)
		return -1;
	char *end = strstr(at + 1, "\nVmFlags:");
	long total = 0, kb;
	for (char *line = at + 1; line && (!end || line < end); line = strchr(line + 1, '\n')) {
		if (sscanf(line, "\nShared_Clean: %ld kB", &kb) == 1 ||
		    sscanf(line, "\nShared_Dirty: %ld kB", &kb) == 1)
			total += kb;
	}
	return total;
}

static void check_sharing(const char *when)
{
	long kb = shared_kb(big);
	WL_CHECK(kb >= 15 * 1024, "task %d %s: only %ld KiB of the 16 MiB region are shared with the tree", getpid(),
		 when, kb);
}

/* Tell the parent this task is set up; after the signal, check it. */
static void ready_then_check(int ready[2], enum role role)
{
	WL_SETUP(write(ready[1], "r", 1) == 1, "write");
	close(ready[0]);
	close(ready[1]);
	wl_wait();
	check_big(role);
	check_sharing("after restore");
}

/* Wake @child and take its verdict (it wrote why it failed in @result). */
static void child_verdict(pid_t child, const char *result)
{
	int status;
	char why[1024] = "";

	kill(child, SIGUSR1);
	WL_CHECK(waitpid(child, &status, 0) == child, "waitpid(%d): %s", child, strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		wl_read_file(result, why, sizeof(why));
		wl_fail("child %d: %s", child, why[0] ? why : "died without a verdict");
	}
}

int main(int argc, char **argv)
{
	char child_result[PATH_MAX], grandchild_result[PATH_MAX];
	int ready[2];
	char byte;

	wl_init(argc, argv);
	wl_path(child_result, sizeof(child_result), "cow-child.result");
	wl_path(grandchild_result, sizeof(grandchild_result), "cow-grandchild.result");

	/* Two regions with a guard page between, lest they merge into one VMA. */
	uint8_t *all = mmap(NULL, (BIG_PAGES + 1 + SPLIT_PAGES) * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WL_SETUP(all != MAP_FAILED, "mmap");
	big = mmap(all, BIG_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	split = mmap(all + (BIG_PAGES + 1) * PAGE, SPLIT_PAGES * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	WL_SETUP(big != MAP_FAILED && split != MAP_FAILED, "mmap");
	for (uint64_t i = 0; i < BIG_PAGES; i++)
		fill_page(big + i * PAGE, i, 0);
	for (uint64_t i = 0; i < SPLIT_PAGES; i++)
		fill_page(split + i * PAGE, i, 0x5EED);
	WL_SETUP(pipe(ready) == 0, "pipe");

	pid_t child = fork();
	WL_SETUP(child >= 0, "fork");
	if (child == 0) {
		wl_result_path = child_result;
		fill_page(big + 3 * PAGE, 3, 0xC1D);
		WL_SETUP(madvise(big + 10 * PAGE, 10 * PAGE, MADV_DONTNEED) == 0, "madvise");
		WL_SETUP(mprotect(split, SPLIT_PAGES / 2 * PAGE, PROT_READ) == 0, "mprotect");
		pid_t grandchild = fork();
		WL_SETUP(grandchild >= 0, "fork");
		if (grandchild == 0) {
			wl_result_path = grandchild_result;
			fill_page(big + 5 * PAGE, 5, 0x6C);
			ready_then_check(ready, GRANDCHILD);
			wl_pass();
		}
		ready_then_check(ready, CHILD);
		child_verdict(grandchild, grandchild_result);
		wl_pass();
	}
	fill_page(big + 7 * PAGE, 7, 0xB0B);
	close(ready[1]);
	WL_SETUP(read(ready[0], &byte, 1) == 1 && read(ready[0], &byte, 1) == 1, "children ready");
	close(ready[0]);
	check_big(ROOT);
	/* Sanity: the original tree shares, or the test proves nothing. */
	WL_SETUP(shared_kb(big) >= 15 * 1024, "the original tree does not share its memory");

	wl_ready();
	wl_wait();
	check_big(ROOT);
	check_sharing("after restore");
	child_verdict(child, child_result);
	wl_pass();
}
