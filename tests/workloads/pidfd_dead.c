// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pidfds of a process that has exited and been reaped: fd 10 (opened
 * before our child was forked, so the child shares it), fd 12 (a second
 * open of it, O_NONBLOCK) and, in the child, fd 11 (the child's own
 * open).  After restore all three still name one dead process: the same
 * pidfs inode, "Pid: -1" in their fdinfo, no signal can be sent through
 * them, and fd 12 is still non-blocking.
 */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "wl.h"

static int pidfd_open(pid_t pid, unsigned flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

/* The Pid line of @path (an fdinfo file). */
static long fdinfo_pid(const char *path)
{
	char buf[1024] = "";

	if (wl_read_file(path, buf, sizeof(buf)) <= 0)
		return -2;
	const char *p = strstr(buf, "\nPid:");
	return p ? strtol(p + 5, NULL, 10) : -2;
}

static void check_dead(int fd, ino_t ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	WL_CHECK(fdinfo_pid(path) == -1, "fd %d names pid %ld, not a dead process", fd, fdinfo_pid(path));
	WL_CHECK(fstat(fd, &st) == 0 && st.st_ino == ino, "fd %d is inode %lu, not %lu as fd 10", fd,
		 (unsigned long)st.st_ino, (unsigned long)ino);
	WL_CHECK(syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) < 0 && errno == ESRCH,
		 "a signal through fd %d: %s, not ESRCH", fd, strerror(errno));
}

int main(int argc, char **argv)
{
	int sync[2];
	char byte;

	wl_init(argc, argv);
	pid_t dead = fork();
	if (dead == 0)
		for (;;)
			pause();
	WL_SETUP(dead > 0, "fork");
	int fd = pidfd_open(dead, 0);
	WL_SETUP(fd >= 0 && dup2(fd, 10) == 10, "pidfd of the child to die");
	close(fd);
	WL_SETUP(pipe(sync) == 0, "pipe");
	pid_t child = fork();
	if (child == 0) {
		fd = pidfd_open(dead, 0);
		if (fd < 0 || dup2(fd, 11) != 11 || write(sync[1], "k", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	WL_SETUP(child > 0 && read(sync[0], &byte, 1) == 1, "the child's own pidfd");
	close(sync[0]);
	close(sync[1]);
	fd = pidfd_open(dead, O_NONBLOCK);
	WL_SETUP(fd >= 0 && dup2(fd, 12) == 12, "a second pidfd");
	close(fd);
	WL_SETUP(fcntl(12, F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK");
	WL_SETUP(syscall(SYS_pidfd_send_signal, 10, SIGKILL, NULL, 0) == 0, "kill");
	WL_SETUP(waitpid(dead, NULL, 0) == dead, "reap");

	wl_ready();
	wl_wait();

	struct stat st;
	WL_CHECK(fstat(10, &st) == 0, "fstat fd 10: %s", strerror(errno));
	check_dead(10, st.st_ino);
	check_dead(12, st.st_ino);
	WL_CHECK(fcntl(12, F_GETFL) & O_NONBLOCK, "fd 12 lost O_NONBLOCK");
	char path[64];
	struct stat cst;
	snprintf(path, sizeof(path), "/proc/%d/fd/11", child);
	WL_CHECK(stat(path, &cst) == 0 && cst.st_ino == st.st_ino, "the child's fd 11 is inode %lu, not %lu",
		 (unsigned long)cst.st_ino, (unsigned long)st.st_ino);
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/11", child);
	WL_CHECK(fdinfo_pid(path) == -1, "the child's fd 11 names pid %ld", fdinfo_pid(path));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	wl_pass();
}
