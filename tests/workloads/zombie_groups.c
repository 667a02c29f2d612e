// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Zombies that are hard to make again: one killed by a fault of its own
 * (SIGSEGV), and a zombie and a live task in a process group whose leader
 * exited and was reaped before the checkpoint (both are our children,
 * made by the leader with CLONE_PARENT).  After restore the root checks
 * their groups, then reaps the zombies and checks how each one ended.
 */
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "wl.h"

static void sleep_forever(void)
{
	for (;;)
		pause();
}

/* A child of our parent's (clone with CLONE_PARENT), as a fork would be. */
static pid_t fork_sibling(void)
{
	return (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
}

int main(int argc, char **argv)
{
	int sync[2];

	wl_init(argc, argv);
	WL_SETUP(pipe(sync) == 0, "pipe");

	pid_t crashed = fork();
	if (crashed == 0) {
		signal(SIGSEGV, SIG_DFL);
		*(volatile int *)8 = 1;
		_exit(1);
	}

	/* The leader makes its group, two siblings of its own in it, and exits. */
	pid_t leader = fork();
	if (leader == 0) {
		pid_t kids[2];
		WL_SETUP(setpgid(0, 0) == 0, "setpgid");
		kids[0] = fork_sibling();
		if (kids[0] == 0)
			_exit(5);
		kids[1] = fork_sibling();
		if (kids[1] == 0)
			sleep_forever();
		if (write(sync[1], kids, sizeof(kids)) != sizeof(kids))
			_exit(3);
		_exit(0);
	}
	pid_t kids[2];
	WL_SETUP(read(sync[0], kids, sizeof(kids)) == sizeof(kids), "the leader's children");
	WL_SETUP(waitpid(leader, NULL, 0) == leader, "reap the group's leader");
	close(sync[0]);
	close(sync[1]);
	pid_t zombie = kids[0], member = kids[1];

	WL_SETUP(WL_WAIT_FOR(wl_proc_state(crashed, NULL) == 'Z' && wl_proc_state(zombie, NULL) == 'Z', 5000),
		 "zombies");
	WL_SETUP(getpgid(zombie) == leader && getpgid(member) == leader, "the leader's group");

	wl_ready();
	wl_wait();

	WL_CHECK(wl_proc_state(leader, NULL) == '?', "the group's leader %d exists again", leader);
	WL_CHECK(getpgid(member) == leader, "live member %d is in group %d, not %d", member, getpgid(member), leader);
	WL_CHECK(getpgid(zombie) == leader, "zombie %d is in group %d, not %d", zombie, getpgid(zombie), leader);
	WL_CHECK(wl_proc_state(crashed, NULL) == 'Z' && wl_proc_state(zombie, NULL) == 'Z',
		 "zombies are no longer zombies");
	/* Nothing else to reap: no helper left behind. */
	siginfo_t si = {};
	WL_CHECK(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0, "waitid");
	WL_CHECK(si.si_pid == crashed || si.si_pid == zombie, "an unknown child %d waits to be reaped", si.si_pid);

	int status;
	WL_CHECK(waitpid(crashed, &status, WNOHANG) == crashed, "cannot reap the crashed zombie");
	WL_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "crashed zombie: status 0x%x, not SIGSEGV",
		 status);
	WL_CHECK(waitpid(zombie, &status, WNOHANG) == zombie, "cannot reap the group's zombie");
	WL_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 5, "group's zombie: status 0x%x, not exit 5", status);
	WL_CHECK(waitpid(-1, &status, WNOHANG) == 0, "another child had exited");

	kill(member, SIGKILL);
	wl_pass();
}
