// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Owners of files, who get SIGIO when they become ready (F_SETOWN,
 * F_SETSIG, O_ASYNC): pipe A is owned by us with signal SIGRTMIN+2 and
 * O_ASYNC; pipe B by our process group with plain SIGIO; pipe C has a
 * signal set (SIGUSR2) but no owner.  After restore each has what it had,
 * and writing into A and B sends their signals to us.
 */
#include <sys/wait.h>

#include "wl.h"

static volatile sig_atomic_t rt_seen, io_seen;

static void on_rt(int sig)
{
	(void)sig;
	rt_seen++;
}

static void on_io(int sig)
{
	(void)sig;
	io_seen++;
}

static void own(int fd, int type, pid_t pid, int sig)
{
	struct f_owner_ex o = { .type = type, .pid = pid };

	WL_SETUP(fcntl(fd, F_SETOWN_EX, &o) == 0, "F_SETOWN_EX");
	WL_SETUP(fcntl(fd, F_SETSIG, sig) == 0, "F_SETSIG");
	WL_SETUP(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC) == 0, "O_ASYNC");
}

static void check_owner(const char *what, int fd, int type, pid_t pid, int sig)
{
	struct f_owner_ex o = {};

	/* (no owner: no type to compare) */
	WL_CHECK(fcntl(fd, F_GETOWN_EX, &o) == 0 && (!pid || o.type == type) && o.pid == pid,
		 "%s: owner %d of type %d, not %d of type %d", what, o.pid, o.type, pid, type);
	WL_CHECK(fcntl(fd, F_GETSIG) == sig, "%s: signal %d, not %d", what, fcntl(fd, F_GETSIG), sig);
}

int main(int argc, char **argv)
{
	int a[2], b[2], c[2];

	wl_init(argc, argv);
	signal(SIGRTMIN + 2, on_rt);
	signal(SIGIO, on_io);
	WL_SETUP(pipe(a) == 0 && pipe(b) == 0 && pipe(c) == 0, "pipes");
	own(a[0], F_OWNER_PID, getpid(), SIGRTMIN + 2);
	own(b[0], F_OWNER_PGRP, getpgrp(), 0);
	WL_SETUP(fcntl(c[0], F_SETSIG, SIGUSR2) == 0, "F_SETSIG");

	wl_ready();
	wl_wait();

	check_owner("pipe A", a[0], F_OWNER_PID, getpid(), SIGRTMIN + 2);
	WL_CHECK(fcntl(a[0], F_GETFL) & O_ASYNC, "pipe A lost O_ASYNC");
	check_owner("pipe B", b[0], F_OWNER_PGRP, getpgrp(), 0);
	WL_CHECK(fcntl(b[0], F_GETFL) & O_ASYNC, "pipe B lost O_ASYNC");
	check_owner("pipe C", c[0], F_OWNER_PID, 0, SIGUSR2);
	WL_CHECK(write(a[1], "x", 1) == 1 && write(b[1], "y", 1) == 1, "write: %s", strerror(errno));
	WL_CHECK(WL_WAIT_FOR(rt_seen && io_seen, 5000), "signals after writing: SIGRTMIN+2 %d, SIGIO %d", (int)rt_seen,
		 (int)io_seen);
	wl_pass();
}
