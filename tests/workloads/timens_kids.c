// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A task that unshared its time namespace and made no child since: its
 * children's time namespace is not its own.  The dump must refuse it and
 * leave it running as it was: still in its own namespace, a child made
 * now still going into the new one.
 */
#include <sched.h>
#include <sys/wait.h>

#include "wl.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static bool ns_link(const char *which, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", which);
	n = readlink(path, buf, len - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

int main(int argc, char **argv)
{
	char own[64], kids[64], now[64], later[64];

	wl_init(argc, argv);
	WL_SETUP(unshare(CLONE_NEWTIME) == 0, "unshare(CLONE_NEWTIME)");
	WL_SETUP(ns_link("time", own, sizeof(own)) && ns_link("time_for_children", kids, sizeof(kids)), "ns links");
	WL_SETUP(strcmp(own, kids) || (errno = EINVAL, 0), "a time namespace for the children");

	wl_ready();
	wl_wait();

	WL_CHECK(ns_link("time", now, sizeof(now)) && !strcmp(now, own), "the task's time namespace changed");
	WL_CHECK(ns_link("time_for_children", later, sizeof(later)) && !strcmp(later, kids),
		 "the children's time namespace changed");
	pid_t pid = fork();
	if (pid == 0) {
		char mine[64];
		_exit(ns_link("time", mine, sizeof(mine)) && !strcmp(mine, kids) ? 0 : 1);
	}
	int status;
	WL_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork");
	WL_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child is not in the children's time namespace");
	wl_pass();
}
