// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Files of our own namespaces (nsfs): fd 10 on /proc/self/ns/net, fd 11
 * on ns/uts, fd 12 on ns/pid_for_children, fd 13 on ns/mnt (O_CLOEXEC).
 * After restore each is still a file of the namespace of that kind we are
 * in now (same inode as /proc/self/ns/NAME), setns() takes it as one of
 * that kind, and fd 13 is still close-on-exec.
 */
#include <sched.h>
#include <sys/stat.h>

#include "wl.h"

static const struct {
	int fd;
	const char *name;
	int flag;
} ns[] = {
	{ 10, "net", CLONE_NEWNET },
	{ 11, "uts", CLONE_NEWUTS },
	{ 12, "pid_for_children", CLONE_NEWPID },
	{ 13, "mnt", CLONE_NEWNS },
};

int main(int argc, char **argv)
{
	char path[64];

	wl_init(argc, argv);
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i].name);
		int fd = open(path, O_RDONLY | (ns[i].fd == 13 ? O_CLOEXEC : 0));
		WL_SETUP(fd >= 0 && dup3(fd, ns[i].fd, ns[i].fd == 13 ? O_CLOEXEC : 0) == ns[i].fd, path);
		close(fd);
	}

	wl_ready();
	wl_wait();

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		struct stat now, held;
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i].name);
		WL_CHECK(stat(path, &now) == 0 && fstat(ns[i].fd, &held) == 0, "stat %s: %s", path, strerror(errno));
		WL_CHECK(now.st_ino == held.st_ino && now.st_dev == held.st_dev,
			 "fd %d is namespace %lu, not our %s namespace %lu", ns[i].fd, (unsigned long)held.st_ino,
			 ns[i].name, (unsigned long)now.st_ino);
		/* (pid_for_children: setns only for a task alone in its thread group) */
		WL_CHECK(setns(ns[i].fd, ns[i].flag) == 0, "setns fd %d as a %s namespace: %s", ns[i].fd, ns[i].name,
			 strerror(errno));
	}
	WL_CHECK(fcntl(13, F_GETFD) & FD_CLOEXEC, "fd 13 lost FD_CLOEXEC");
	wl_pass();
}
