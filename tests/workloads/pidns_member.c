// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A task and its child in a pid namespace they did not make (not its
 * init): pidns.bats joins one held by a shell of its own.  Nothing here
 * reads /proc, whose pids would be another namespace's.  Each notes its
 * pid, parent, group and session as it sees them inside.
 *
 * After restore: the same pids and relations inside, on both sides (the
 * child answers over a pipe), and a child forked now is still in the
 * namespace with a pid of its own there.
 */
#include <sys/wait.h>

#include "wl.h"

struct ids {
	pid_t pid, ppid, pgid, sid;
};

static struct ids ids_now(void)
{
	return (struct ids){ getpid(), getppid(), getpgid(0), getsid(0) };
}

static bool ids_equal(const struct ids *a, const struct ids *b)
{
	return a->pid == b->pid && a->ppid == b->ppid && a->pgid == b->pgid && a->sid == b->sid;
}

int main(int argc, char **argv)
{
	int ask[2], answer[2];

	wl_init(argc, argv);
	WL_SETUP(getpid() != 1, "pid 1: not a member of a namespace made elsewhere");
	WL_SETUP(pipe(ask) == 0 && pipe(answer) == 0, "pipe");
	struct ids parent = ids_now(), child;
	pid_t kid = fork();
	WL_SETUP(kid >= 0, "fork");
	if (kid == 0) {
		struct ids mine = ids_now(), again;
		char c;
		if (write(answer[1], &mine, sizeof(mine)) != sizeof(mine))
			_exit(1);
		if (read(ask[0], &c, 1) != 1)
			_exit(1);
		again = ids_now();
		_exit(write(answer[1], &again, sizeof(again)) == sizeof(again) ? 0 : 1);
	}
	WL_SETUP(read(answer[0], &child, sizeof(child)) == sizeof(child), "the child's ids");
	WL_SETUP(child.pid == kid && child.ppid == parent.pid, "the child's ids");

	wl_ready();
	wl_wait();

	struct ids now = ids_now(), child_now;
	WL_CHECK(ids_equal(&now, &parent), "pid %d ppid %d pgid %d sid %d, were %d %d %d %d", now.pid, now.ppid,
		 now.pgid, now.sid, parent.pid, parent.ppid, parent.pgid, parent.sid);
	WL_CHECK(write(ask[1], "?", 1) == 1, "ask the child");
	WL_CHECK(read(answer[0], &child_now, sizeof(child_now)) == sizeof(child_now), "the child's answer");
	WL_CHECK(ids_equal(&child_now, &child), "child: pid %d ppid %d pgid %d sid %d, were %d %d %d %d", child_now.pid,
		 child_now.ppid, child_now.pgid, child_now.sid, child.pid, child.ppid, child.pgid, child.sid);
	int status;
	WL_CHECK(waitpid(kid, &status, 0) == kid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's end");
	pid_t late = fork();
	if (late == 0)
		_exit(getppid() == parent.pid ? 0 : 1);
	WL_CHECK(late > 1 && late != kid && waitpid(late, &status, 0) == late, "a new child");
	WL_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a new child sees another parent");
	wl_pass();
}
