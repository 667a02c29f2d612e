// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Children stopped by SIGSTOP while blocked in a read() whose data arrived
 * only after the stop: one stopped once, one with a second SIGSTOP queued
 * for its process while stopped, one with a second SIGSTOP queued for its
 * thread (tkill).  A dumper that runs system calls in them must cope with
 * the group stop and with the queued stop signals; after restore each
 * must still be stopped, report its stop to our waitpid(WUNTRACED), and
 * on SIGCONT finish its read and exit 0.
 */
#include <sys/syscall.h>
#include <sys/wait.h>

#include "wl.h"

enum { ONCE, TWICE_KILL, TWICE_TKILL, N_KIDS };
static const char *const names[N_KIDS] = { "stopped once", "stopped, SIGSTOP queued", "stopped, tkill queued" };

static pid_t start_reader(int *ret_wfd)
{
	int p[2];

	WL_SETUP(pipe(p) == 0, "pipe");
	pid_t pid = fork();
	WL_SETUP(pid >= 0, "fork");
	if (pid == 0) {
		char c;

		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 && c == 'x' ? 0 : 5);
	}
	close(p[0]);
	*ret_wfd = p[1];
	return pid;
}

int main(int argc, char **argv)
{
	pid_t kid[N_KIDS];
	int wfd[N_KIDS];
	siginfo_t si;

	wl_init(argc, argv);
	for (int i = 0; i < N_KIDS; i++) {
		kid[i] = start_reader(&wfd[i]);
		/* Let it block in read() first: the stop then interrupts it. */
		WL_SETUP(WL_WAIT_FOR(wl_proc_state(kid[i], NULL) == 'S', 5000), "reader blocks");
		WL_SETUP(kill(kid[i], SIGSTOP) == 0, "SIGSTOP");
		WL_SETUP(waitid(P_PID, kid[i], &si, WSTOPPED | WNOWAIT) == 0, "waitid");
		if (i == TWICE_KILL)
			WL_SETUP(kill(kid[i], SIGSTOP) == 0, "second SIGSTOP");
		if (i == TWICE_TKILL)
			WL_SETUP(syscall(SYS_tkill, kid[i], SIGSTOP) == 0, "tkill SIGSTOP");
		/* Its data is there now; only the stop holds it. */
		WL_SETUP(write(wfd[i], "x", 1) == 1, "write");
		close(wfd[i]);
	}

	wl_ready();
	wl_wait();

	for (int i = 0; i < N_KIDS; i++) {
		int status;
		char st = wl_proc_state(kid[i], NULL);

		WL_CHECK(st == 'T', "%s child %d is '%c', not stopped", names[i], kid[i], st);
		WL_CHECK(waitpid(kid[i], &status, WUNTRACED | WNOHANG) == kid[i], "%s child: no stop to report",
			 names[i]);
		WL_CHECK(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP, "%s child: status 0x%x, not stopped",
			 names[i], status);
		WL_CHECK(kill(kid[i], SIGCONT) == 0, "%s child: SIGCONT", names[i]);
		WL_CHECK(waitpid(kid[i], &status, 0) == kid[i], "%s child: cannot wait", names[i]);
		WL_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s child: status 0x%x, not exit 0", names[i],
			 status);
	}
	wl_pass();
}
