/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A parent that never stops creating children (one every millisecond, each
 * sleeping), so some appear while the tree is being frozen.  Every child it
 * made before the checkpoint is in its memory; after restore each must
 * still be there, its child.  It also shares a memfd mapping with its first
 * child, which must stay shared.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include "wl.h"

#define MAX_KIDS 4096

static pid_t kids[MAX_KIDS];
static volatile int n_kids;

static pid_t parent_of(pid_t pid)
{
	pid_t ppid = -1;
	return wl_proc_state(pid, &ppid) == '?' ? -1 : ppid;
}

static void spawn(void)
{
	if (n_kids == MAX_KIDS)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	if (pid > 0)
		kids[n_kids++] = pid;
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);

	int mfd = memfd_create("wl-shared", MFD_CLOEXEC);
	WL_SETUP(mfd >= 0 && ftruncate(mfd, 4096) == 0, "memfd");
	volatile uint32_t *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	WL_SETUP(shared != MAP_FAILED, "mmap memfd");
	pid_t reader = fork();
	if (reader == 0) {
		/* Echo what the parent writes in word 0 into word 1. */
		for (;;) {
			shared[1] = shared[0];
			wl_sleep_us(1000);
		}
	}

	wl_ready();
	/* Keep making children until the checkpoint and the signal. */
	wl_wait_tick(spawn);

	int here = n_kids;
	for (int i = 0; i < here; i++) {
		pid_t ppid = parent_of(kids[i]);
		WL_CHECK(ppid == getpid(), "child %d of %d (pid %d) has parent %d", i, here, kids[i], ppid);
	}
	shared[0] = 0xC0FFEE;
	WL_CHECK(WL_WAIT_FOR(shared[1] == 0xC0FFEE, 5000), "the memfd mapping is no longer shared with pid %d", reader);
	for (int i = 0; i < here; i++)
		kill(kids[i], SIGKILL);
	kill(reader, SIGKILL);
	wl_pass();
}
