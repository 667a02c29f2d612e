/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * membarrier() registrations belong to the address space: a task that
 * registered for private expedited barriers may issue them, one that did
 * not gets EPERM.  The parent registers for every private expedited kind
 * this kernel offers (and global expedited); its child, forked before,
 * for none.  After restore both must find the registrations they had
 * (MEMBARRIER_CMD_GET_REGISTRATIONS) and the barriers they may issue.
 */
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "wl.h"

#define CMD_GET_REGISTRATIONS (1 << 9)

static int membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);

	int supported = membarrier(MEMBARRIER_CMD_QUERY);
	WL_SETUP(supported >= 0, "membarrier(QUERY)");
	WL_SETUP(supported & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, "no private expedited membarrier here");

	int p[2];
	WL_SETUP(pipe(p) == 0, "pipe");
	pid_t child = fork();
	WL_SETUP(child >= 0, "fork");
	if (!child) {
		/* Unregistered: its barriers are refused, before and after. */
		if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != -1 || errno != EPERM)
			_exit(10);
		if (write(p[1], "r", 1) != 1)
			_exit(11);
		wl_wait();
		if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != -1 || errno != EPERM)
			_exit(20);
		int got = membarrier(CMD_GET_REGISTRATIONS);
		_exit(got == 0 || (got < 0 && errno == EINVAL) ? 0 : 21);
	}
	char c;
	WL_SETUP(read(p[0], &c, 1) == 1, "the child did not start");

	const int kinds[] = { MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
			      MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
			      MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ };
	int registered = 0;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!(supported & kinds[i]))
			continue;
		WL_SETUP(membarrier(kinds[i]) == 0, "register a membarrier kind");
		registered |= kinds[i];
	}
	int before = membarrier(CMD_GET_REGISTRATIONS);

	wl_ready();
	wl_wait();

	/* An issuing command is its REGISTER_ command shifted down by one. */
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (registered & kinds[i])
			WL_CHECK(membarrier(kinds[i] >> 1) == 0, "membarrier(0x%x) after restore: %s", kinds[i] >> 1,
				 strerror(errno));
	int after = membarrier(CMD_GET_REGISTRATIONS);
	WL_CHECK(after == before, "registrations 0x%x became 0x%x", before, after);

	int st;
	kill(child, SIGUSR1);
	WL_CHECK(waitpid(child, &st, 0) == child, "waitpid: %s", strerror(errno));
	WL_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the unregistered child: exit %d (2x: wrong after restore)",
		 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	wl_pass();
}
