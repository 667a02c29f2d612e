// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /proc files of a process that is gone: our working directory is
 * /proc/CHILD of a child killed and reaped since, fd 10 is its status file
 * opened before, fd 11 an O_PATH fd of its directory.  After restore the
 * working directory is still that unhashed /proc directory (getcwd says
 * ENOENT, the cwd link reads as before), fd 10 reads ESRCH as it did, and
 * fd 11 is still on a directory.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include "wl.h"

int main(int argc, char **argv)
{
	char dir[64], path[80], cwd[PATH_MAX], before[PATH_MAX], buf[256];

	wl_init(argc, argv);
	pid_t child = fork();
	if (child == 0)
		for (;;)
			pause();
	WL_SETUP(child > 0, "fork");
	snprintf(dir, sizeof(dir), "/proc/%d", child);
	snprintf(path, sizeof(path), "/proc/%d/status", child);
	int fd = open(path, O_RDONLY);
	WL_SETUP(fd >= 0 && dup2(fd, 10) == 10, "open the child's status");
	close(fd);
	fd = open(dir, O_PATH | O_DIRECTORY);
	WL_SETUP(fd >= 0 && dup2(fd, 11) == 11, "O_PATH fd of the child's /proc directory");
	close(fd);
	WL_SETUP(chdir(dir) == 0, "chdir to the child's /proc directory");
	kill(child, SIGKILL);
	WL_SETUP(waitpid(child, NULL, 0) == child, "reap");
	ssize_t n = readlink("/proc/self/cwd", before, sizeof(before) - 1);
	WL_SETUP(n > 0, "readlink cwd");
	before[n] = '\0';
	WL_SETUP(!getcwd(cwd, sizeof(cwd)) && errno == ENOENT, "getcwd of a gone /proc directory");
	WL_SETUP(read(10, buf, sizeof(buf)) < 0 && errno == ESRCH, "read of a gone task's status");

	wl_ready();
	wl_wait();

	WL_CHECK(!getcwd(cwd, sizeof(cwd)) && errno == ENOENT, "getcwd: %s (%s), not ENOENT", cwd, strerror(errno));
	n = readlink("/proc/self/cwd", cwd, sizeof(cwd) - 1);
	WL_CHECK(n > 0, "readlink cwd: %s", strerror(errno));
	cwd[n] = '\0';
	WL_CHECK(!strcmp(cwd, before), "the cwd link reads '%s', not '%s'", cwd, before);
	WL_CHECK(read(10, buf, sizeof(buf)) < 0 && errno == ESRCH, "read of fd 10: %s, not ESRCH", strerror(errno));
	struct stat st;
	WL_CHECK(fstat(11, &st) == 0 && S_ISDIR(st.st_mode), "fd 11 is not on a directory");
	WL_CHECK(kill(child, 0) < 0 && errno == ESRCH, "pid %d is taken after restore", child);
	wl_pass();
}
