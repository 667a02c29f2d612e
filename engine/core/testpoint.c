// SPDX-License-Identifier: LGPL-2.1-or-later
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/testpoint.h"

static struct {
	bool read;
	char name[32];
	long nth, seen;
	pid_t pid;
} kill_at;

static void read_env(void)
{
	const char *at = getenv("OCICR_KILL_AT"), *pid = getenv("OCICR_KILL_PID");
	const char *hash = at ? strchr(at, '#') : NULL;

	kill_at.read = true;
	if (!hash || (size_t)(hash - at) >= sizeof(kill_at.name))
		return;
	memcpy(kill_at.name, at, hash - at);
	kill_at.nth = atol(hash + 1);
	kill_at.pid = !pid || !*pid ? getpid() : strcmp(pid, "parent") ? atoi(pid) : getppid();
	if (kill_at.pid <= 0)
		kill_at.nth = 0; /* never a process group */
}

void oc_testpoint(const char *name)
{
	if (!kill_at.read)
		read_env();
	if (kill_at.nth <= 0 || strcmp(name, kill_at.name) || ++kill_at.seen != kill_at.nth)
		return;
	pr_info("test point %s#%ld: SIGKILL to %d", name, kill_at.nth, kill_at.pid);
	kill(kill_at.pid, SIGKILL);
}
