// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Files of /proc held open across a checkpoint: a child's stat (fd 10),
 * our own fdinfo of fd 10 (fd 11) and our maps (fd 12), as a program
 * watching its children or itself holds them.  After restore each fd
 * still names its file, and reading it gives the restored task's data.
 */
#include <sys/wait.h>

#include "wl.h"

static void check_link(int fd, const char *want)
{
	char path[64], got[PATH_MAX] = "";

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, got, sizeof(got) - 1);
	WL_CHECK(n > 0 && !strcmp(got, want), "fd %d is '%s', not '%s'", fd, n > 0 ? got : "?", want);
}

int main(int argc, char **argv)
{
	char child_stat[64], own_fdinfo[64], own_maps[64], buf[4096];

	wl_init(argc, argv);
	pid_t child = fork();
	if (child == 0)
		for (;;)
			pause();
	snprintf(child_stat, sizeof(child_stat), "/proc/%d/stat", child);
	snprintf(own_fdinfo, sizeof(own_fdinfo), "/proc/%d/fdinfo/10", getpid());
	snprintf(own_maps, sizeof(own_maps), "/proc/%d/maps", getpid());
	int fd = open(child_stat, O_RDONLY);
	WL_SETUP(fd >= 0 && dup2(fd, 10) == 10, "open the child's stat");
	close(fd);
	fd = open(own_fdinfo, O_RDONLY);
	WL_SETUP(fd >= 0 && dup2(fd, 11) == 11, "open our fdinfo");
	close(fd);
	fd = open(own_maps, O_RDONLY);
	WL_SETUP(fd >= 0 && dup2(fd, 12) == 12, "open our maps");
	close(fd);

	wl_ready();
	wl_wait();

	check_link(10, child_stat);
	check_link(11, own_fdinfo);
	check_link(12, own_maps);
	ssize_t n = pread(10, buf, sizeof(buf) - 1, 0);
	WL_CHECK(n > 0, "read the child's stat: %s", strerror(errno));
	buf[n] = '\0';
	WL_CHECK(atoi(buf) == child, "the child's stat is of %d, not %d", atoi(buf), child);
	n = pread(11, buf, sizeof(buf) - 1, 0);
	WL_CHECK(n > 0 && (buf[n] = '\0', strstr(buf, "flags:")), "read our fdinfo of fd 10");
	n = pread(12, buf, sizeof(buf) - 1, 0);
	WL_CHECK(n > 0, "read our maps: %s", strerror(errno));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	wl_pass();
}
