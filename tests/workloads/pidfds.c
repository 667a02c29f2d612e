// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pidfds of tasks of the tree: fd 10 names our child, fd 11 (O_NONBLOCK)
 * ourselves, fd 12 our grandchild (a task the restore makes after us, and
 * not our child).  After restore fd 10 still names the child (a signal
 * sent through it kills it, and waitid on it reaps it), fd 11 still names
 * us and is still non-blocking, fd 12 names the grandchild and kills it.
 */
#include <sys/syscall.h>
#include <sys/wait.h>

#include "wl.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int pidfd_open(pid_t pid, unsigned flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

/* The Pid line of fd @fd's fdinfo. */
static long fdinfo_pid(int fd)
{
	char path[64], buf[1024] = "";

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (wl_read_file(path, buf, sizeof(buf) - 1) <= 0)
		return -2;
	const char *p = strstr(buf, "\nPid:");
	return p ? strtol(p + 5, NULL, 10) : -2;
}

int main(int argc, char **argv)
{
	int p[2];
	pid_t gchild;

	wl_init(argc, argv);
	WL_SETUP(pipe(p) == 0, "pipe");
	pid_t child = fork();
	if (child == 0) {
		gchild = fork();
		if (gchild == 0)
			for (;;)
				pause();
		if (write(p[1], &gchild, sizeof(gchild)) != sizeof(gchild))
			_exit(1);
		for (;;)
			pause();
	}
	WL_SETUP(read(p[0], &gchild, sizeof(gchild)) == sizeof(gchild), "the grandchild's pid");
	close(p[0]);
	close(p[1]);
	int fd = pidfd_open(child, 0);
	WL_SETUP(fd >= 0 && dup2(fd, 10) == 10, "pidfd of the child");
	close(fd);
	fd = pidfd_open(getpid(), O_NONBLOCK);
	WL_SETUP(fd >= 0 && dup2(fd, 11) == 11, "pidfd of ourselves");
	close(fd);
	WL_SETUP(fcntl(11, F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK");
	fd = pidfd_open(gchild, 0);
	WL_SETUP(fd >= 0 && dup2(fd, 12) == 12, "pidfd of the grandchild");
	close(fd);

	wl_ready();
	wl_wait();

	WL_CHECK(fdinfo_pid(10) == child, "fd 10 names %ld, not the child %d", fdinfo_pid(10), child);
	WL_CHECK(fdinfo_pid(11) == getpid(), "fd 11 names %ld, not us (%d)", fdinfo_pid(11), getpid());
	WL_CHECK(fcntl(11, F_GETFL) & O_NONBLOCK, "fd 11 lost O_NONBLOCK");
	WL_CHECK(fdinfo_pid(12) == gchild, "fd 12 names %ld, not the grandchild %d", fdinfo_pid(12), gchild);
	WL_CHECK(syscall(SYS_pidfd_send_signal, 12, SIGKILL, NULL, 0) == 0, "pidfd_send_signal to the grandchild: %s",
		 strerror(errno));
	WL_CHECK(syscall(SYS_pidfd_send_signal, 10, SIGKILL, NULL, 0) == 0, "pidfd_send_signal: %s", strerror(errno));
	siginfo_t si = {};
	WL_CHECK(waitid((idtype_t)P_PIDFD, 10, &si, WEXITED) == 0 && si.si_pid == child && si.si_status == SIGKILL,
		 "waitid on fd 10: pid %d status %d", si.si_pid, si.si_status);
	wl_pass();
}
