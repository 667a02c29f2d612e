/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Audit login uids across a tree.  The root unsets its own loginuid (it
 * is root: CAP_AUDIT_CONTROL), forks child U, which keeps it unset, sets
 * its own to 4242 and forks child C, which inherits 4242 and changes it to
 * 4343.  After restore each checks its /proc/self/loginuid: 4242, unset,
 * 4343.  (Needs a kernel with audit: the test checks /proc/self/loginuid.)
 */
#include <sys/wait.h>

#include "wl.h"

#define UNSET 4294967295u

static uint32_t own_loginuid(void)
{
	char buf[32];

	if (wl_read_file("/proc/self/loginuid", buf, sizeof(buf)) <= 0)
		return 0;
	return (uint32_t)strtoul(buf, NULL, 10);
}

/* A child: wait for the check, exit 0 when its loginuid is @want. */
static __attribute__((noreturn)) void child(uint32_t want)
{
	while (!wl_usr1_seen)
		wl_sleep_us(10000);
	_exit(own_loginuid() == want ? 0 : 1);
}

static void check_child(pid_t pid, const char *name, uint32_t want)
{
	int st;

	WL_CHECK(kill(pid, SIGUSR1) == 0 && waitpid(pid, &st, 0) == pid, "child %s is gone", name);
	WL_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %s: its loginuid is not %u (status 0x%x)", name, want,
		 st);
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);
	WL_SETUP(wl_write_u32_file("/proc/self/loginuid", UNSET) == 0, "unsetting the loginuid");
	pid_t u = fork();
	WL_SETUP(u >= 0, "fork U");
	if (u == 0)
		child(UNSET);
	WL_SETUP(wl_write_u32_file("/proc/self/loginuid", 4242) == 0 && own_loginuid() == 4242, "loginuid 4242");
	int set[2];
	char byte;
	WL_SETUP(pipe(set) == 0, "pipe");
	pid_t c = fork();
	WL_SETUP(c >= 0, "fork C");
	if (c == 0) {
		WL_SETUP(wl_write_u32_file("/proc/self/loginuid", 4343) == 0 && write(set[1], "", 1) == 1,
			 "loginuid 4343");
		child(4343);
	}
	WL_SETUP(read(set[0], &byte, 1) == 1, "C's loginuid");
	close(set[0]);
	close(set[1]);

	wl_ready();
	wl_wait();

	WL_CHECK(own_loginuid() == 4242, "root: loginuid %u, not 4242", own_loginuid());
	check_child(u, "U", UNSET);
	check_child(c, "C", 4343);
	wl_pass();
}
