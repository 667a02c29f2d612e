// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Children that live for no time at all: this task forks children that
 * exit at once with status 7 and reaps them, without a pause; a child of
 * ours does the same with SIGCHLD ignored, so that its children vanish
 * as they exit.  A freeze keeps finding tasks that exited (zombies of a
 * frozen parent, or gone) between being listed and being seized.  After
 * restore every reaped child must have exited with 7 and both must still
 * be forking.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include "wl.h"

struct counts {
	volatile long forked, reaped, bad_status, autoreaped;
};

static struct counts *c;

/* Reap what has exited; count statuses other than exit 7. */
static void reap(void)
{
	int status;
	pid_t w;

	while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
		c->reaped++;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
			c->bad_status++;
	}
}

static void fork_one(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(7);
	if (pid > 0)
		c->forked++;
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);
	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	WL_SETUP(c != MAP_FAILED, "mmap");

	pid_t ignorer = fork();
	WL_SETUP(ignorer >= 0, "fork");
	if (ignorer == 0) {
		signal(SIGCHLD, SIG_IGN);
		for (;;)
			if (fork() == 0)
				_exit(7);
			else
				c->autoreaped++;
	}
	WL_SETUP(WL_WAIT_FOR(c->autoreaped > 100, 5000), "the ignoring child forks");

	wl_ready();
	while (!wl_usr1_seen) {
		fork_one();
		reap();
	}

	long forked = c->forked, autoreaped = c->autoreaped;
	for (int i = 0; i < 100; i++) {
		fork_one();
		reap();
	}
	WL_CHECK(WL_WAIT_FOR((reap(), c->reaped == c->forked), 5000), "%ld children forked, %ld reaped",
		 (long)c->forked, (long)c->reaped);
	WL_CHECK(c->forked >= forked + 100, "forked %ld, not 100 more than %ld", (long)c->forked, forked);
	WL_CHECK(c->bad_status == 0, "%ld children did not exit with status 7", (long)c->bad_status);
	WL_CHECK(WL_WAIT_FOR(c->autoreaped > autoreaped + 100, 5000), "the ignoring child no longer forks");
	kill(ignorer, SIGKILL);
	waitpid(ignorer, NULL, 0);
	wl_pass();
}
