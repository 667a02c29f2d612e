/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A child made with CLONE_FILES | CLONE_FS shares its parent's fd table
 * and fs struct.  After restore they must still be shared: an fd the
 * parent opens appears in the child, a chdir and a umask of the parent are
 * the child's too.
 */
#include <sched.h>
#include <sys/stat.h>

#include "wl.h"

static char child_stack[64 * 1024];

static int child_main(void *arg)
{
	for (;;)
		pause();
	return 0;
}

static bool link_is(pid_t pid, const char *what, const char *want)
{
	char path[64], got[PATH_MAX] = "";
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	ssize_t n = readlink(path, got, sizeof(got) - 1);
	return n > 0 && !strcmp(got, want);
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);
	pid_t child = clone(child_main, child_stack + sizeof(child_stack), CLONE_FILES | CLONE_FS | SIGCHLD, NULL);
	WL_SETUP(child > 0, "clone");
	WL_SETUP(chdir(wl_dir) == 0, "chdir");
	umask(027);

	wl_ready();
	wl_wait();

	int fd = open("/dev/null", O_RDONLY);
	char what[32];
	snprintf(what, sizeof(what), "fd/%d", fd);
	WL_CHECK(fd >= 0 && link_is(child, what, "/dev/null"), "fd table no longer shared with the child");
	WL_CHECK(chdir("/") == 0 && link_is(child, "cwd", "/"), "fs struct no longer shared with the child");
	char status[2048] = "";
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", child);
	wl_read_file(path, status, sizeof(status) - 1);
	WL_CHECK(strstr(status, "Umask:\t0027"), "the child's umask is not the shared 027");
	kill(child, SIGKILL);
	wl_pass();
}
