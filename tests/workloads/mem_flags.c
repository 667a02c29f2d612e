/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The flags of a mapping that are not its protection: locked pages
 * (MAP_LOCKED, also of memory made PROT_NONE since, and mlock() in a
 * child that then drops to another uid), a droppable mapping
 * (MAP_DROPPABLE), MAP_NORESERVE, and each madvise() hint the kernel
 * remembers (sequential, random, don't fork, don't dump,
 * mergeable, huge pages or none, wipe on fork).
 *
 * Each region sits in its own slot of a PROT_NONE reservation, so none
 * merges with another.  After restore each region's flags in
 * /proc/self/smaps must be those it had, and its bytes too; but a
 * droppable region's pages are the kernel's to drop at any time, and a
 * checkpoint does not keep them (as CRIU): restored, they read as zeros
 * (the test creates a file "restored" in the workload's folder to say it
 * restored the workload rather than let it run on).
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include "wl.h"

#define PG	  4096ul
#define SLOT	  (4 * PG)
#define REG_LEN	  (2 * PG)
#define CHILD_UID 65534

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif

struct region {
	const char *what;
	int map_flags;	/* beside MAP_ANONYMOUS */
	int advice;	/* -1: none */
	bool no_access; /* PROT_NONE once written */
	uint8_t *at;
	bool skip; /* the kernel does not know the hint */
	char flags_before[64];
};

static struct region regions[] = {
	{ "MAP_LOCKED", MAP_PRIVATE | MAP_LOCKED, -1 },
	{ "MAP_LOCKED, then PROT_NONE", MAP_PRIVATE | MAP_LOCKED, -1, true },
	{ "MAP_DROPPABLE", MAP_DROPPABLE, -1 },
	{ "MAP_NORESERVE", MAP_PRIVATE | MAP_NORESERVE, -1 },
	{ "MADV_SEQUENTIAL", MAP_PRIVATE, MADV_SEQUENTIAL },
	{ "MADV_RANDOM", MAP_PRIVATE, MADV_RANDOM },
	{ "MADV_DONTFORK", MAP_PRIVATE, MADV_DONTFORK },
	{ "MADV_DONTDUMP", MAP_PRIVATE, MADV_DONTDUMP },
	{ "MADV_MERGEABLE", MAP_PRIVATE, MADV_MERGEABLE },
	{ "MADV_HUGEPAGE", MAP_PRIVATE, MADV_HUGEPAGE },
	{ "MADV_NOHUGEPAGE", MAP_PRIVATE, MADV_NOHUGEPAGE },
	{ "MADV_WIPEONFORK", MAP_PRIVATE, MADV_WIPEONFORK },
};

#define N_REGIONS (sizeof(regions) / sizeof(regions[0]))

/* The VmFlags that this workload sets, as smaps names them. */
static const char *const watched[] = { "lo", "dp", "nr", "sr", "rr", "dc", "dd", "mg", "hg", "nh", "wf" };

static char smaps[1024 * 1024];

/*
 * The watched VmFlags of the mapping at @at, space-separated in smaps
 * order, into @out; false if no mapping starts there.
 */
static bool vm_flags_of(const void *at, char *out, size_t len)
{
	char head[32];
	int n = snprintf(head, sizeof(head), "%lx-", (unsigned long)at);

	WL_SETUP(wl_read_file("/proc/self/smaps", smaps, sizeof(smaps)) > 0, "read /proc/self/smaps");
	char *p = smaps;
	while (p && strncmp(p, head, n)) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	if (!p || !(p = strstr(p, "\nVmFlags:")))
		return false;
	p += strlen("\nVmFlags:");
	size_t o = 0;
	out[0] = '\0';
	while (*p && *p != '\n') {
		while (*p == ' ')
			p++;
		for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
			if (!strncmp(p, watched[i], 2) && (p[2] == ' ' || p[2] == '\n') && o + 4 < len) {
				memcpy(out + o, p, 2);
				out[o + 2] = ' ';
				o += 3;
				out[o] = '\0';
			}
		while (*p && *p != ' ' && *p != '\n')
			p++;
	}
	return true;
}

/* A child that locks its pages, then gives up root: its lock must be
 * restored although its new uid could not take it again. */
static pid_t start_locked_child(int ready_fd)
{
	pid_t pid = fork();

	WL_SETUP(pid >= 0, "fork");
	if (pid)
		return pid;
	uint8_t *m = mmap(NULL, 17 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mlock(m, 17 * PG) < 0)
		_exit(10);
	wl_fill(m, 17 * PG, 77);
	if (setresgid(CHILD_UID, CHILD_UID, CHILD_UID) < 0 || setresuid(CHILD_UID, CHILD_UID, CHILD_UID) < 0)
		_exit(11);
	char flags[64];
	if (!vm_flags_of(m, flags, sizeof(flags)) || !strstr(flags, "lo "))
		_exit(12);
	if (write(ready_fd, "r", 1) != 1)
		_exit(13);
	wl_wait();
	if (!vm_flags_of(m, flags, sizeof(flags)))
		_exit(20);
	if (!strstr(flags, "lo "))
		_exit(21);
	if (wl_mismatch(m, 17 * PG, 77) >= 0)
		_exit(22);
	_exit(0);
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);

	uint8_t *base = mmap(NULL, N_REGIONS * SLOT, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WL_SETUP(base != MAP_FAILED, "reserve");
	for (size_t i = 0; i < N_REGIONS; i++) {
		struct region *r = &regions[i];
		r->at = base + i * SLOT + PG;
		uint8_t *m =
			mmap(r->at, REG_LEN, PROT_READ | PROT_WRITE, r->map_flags | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (m == MAP_FAILED && errno == EINVAL) {
			r->skip = true; /* a kernel before MAP_DROPPABLE */
			continue;
		}
		WL_SETUP(m == r->at, r->what);
		if (r->advice >= 0 && madvise(m, REG_LEN, r->advice) < 0) {
			WL_SETUP(errno == EINVAL, r->what);
			r->skip = true;
		}
		wl_fill(m, REG_LEN, i + 1);
		WL_SETUP(!r->no_access || mprotect(m, REG_LEN, PROT_NONE) == 0, r->what);
		WL_SETUP(vm_flags_of(m, r->flags_before, sizeof(r->flags_before)), "find the region in smaps");
	}

	int p[2];
	WL_SETUP(pipe(p) == 0, "pipe");
	pid_t child = start_locked_child(p[1]);
	char c;
	WL_SETUP(read(p[0], &c, 1) == 1, "the locked child did not start");

	wl_ready();
	wl_wait();

	for (size_t i = 0; i < N_REGIONS; i++) {
		struct region *r = &regions[i];
		char after[64];
		if (r->skip)
			continue;
		WL_CHECK(vm_flags_of(r->at, after, sizeof(after)), "%s: no mapping at %p after restore", r->what,
			 (void *)r->at);
		WL_CHECK(!strcmp(after, r->flags_before), "%s: VmFlags [%s] became [%s]", r->what, r->flags_before,
			 after);
		if (r->no_access) {
			WL_CHECK(mprotect(r->at, REG_LEN, PROT_READ) == 0, "%s: mprotect: %s", r->what,
				 strerror(errno));
			WL_CHECK(wl_mismatch(r->at, REG_LEN, i + 1) < 0, "%s: contents differ", r->what);
			continue;
		}
		if (!(r->map_flags & MAP_DROPPABLE)) {
			WL_CHECK(wl_mismatch(r->at, REG_LEN, i + 1) < 0, "%s: contents differ", r->what);
			continue;
		}
		/* Droppable pages are not saved: restored, they are zeros.
		 * (The test says it restored us with a file "restored".) */
		char marker[PATH_MAX];
		wl_path(marker, sizeof(marker), "restored");
		for (size_t k = 0; k < REG_LEN && access(marker, F_OK) == 0; k++)
			WL_CHECK(!r->at[k], "%s: byte %zu was restored (%u), not dropped", r->what, k, r->at[k]);
	}

	int st;
	kill(child, SIGUSR1);
	WL_CHECK(waitpid(child, &st, 0) == child, "waitpid: %s", strerror(errno));
	WL_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		 "the child that locked its pages and dropped root: exit %d (21: no longer locked)",
		 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	wl_pass();
}
