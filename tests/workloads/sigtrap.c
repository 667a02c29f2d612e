// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SIGTRAP's disposition, which a restorer that ends on a breakpoint with
 * all signals blocked would see reset to SIG_DFL by the kernel: a caught
 * SIGTRAP (with flags and a mask) and one queued while blocked, in this
 * task; an ignored SIGTRAP in a child.  After restore the handler, its
 * flags and mask, the pending SIGTRAP and the child's SIG_IGN must be as
 * they were, and a SIGTRAP must reach the handler.
 */
#include <sys/wait.h>

#include "wl.h"

static volatile sig_atomic_t traps;

static void on_trap(int sig)
{
	(void)sig;
	traps++;
}

/* SigIgn of @pid from /proc, or ~0 when it cannot be read. */
static uint64_t ignored_of(pid_t pid)
{
	char path[64], buf[4096];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (wl_read_file(path, buf, sizeof(buf)) < 0)
		return ~0ull;
	const char *p = strstr(buf, "SigIgn:");
	return p ? strtoull(p + 7, NULL, 16) : ~0ull;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_trap, .sa_flags = SA_RESTART | SA_NODEFER }, got;
	sigset_t trap, pending;
	const uint64_t trap_bit = 1ull << (SIGTRAP - 1);

	wl_init(argc, argv);
	pid_t child = fork();
	WL_SETUP(child >= 0, "fork");
	if (child == 0) {
		signal(SIGTRAP, SIG_IGN);
		for (;;)
			pause();
	}
	WL_SETUP(WL_WAIT_FOR(ignored_of(child) & trap_bit, 5000), "child ignores SIGTRAP");

	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	WL_SETUP(sigaction(SIGTRAP, &sa, NULL) == 0, "sigaction");
	sigemptyset(&trap);
	sigaddset(&trap, SIGTRAP);
	WL_SETUP(sigprocmask(SIG_BLOCK, &trap, NULL) == 0, "block SIGTRAP");
	WL_SETUP(kill(getpid(), SIGTRAP) == 0, "queue SIGTRAP");

	wl_ready();
	wl_wait();

	WL_CHECK(sigaction(SIGTRAP, NULL, &got) == 0, "sigaction: %s", strerror(errno));
	WL_CHECK(got.sa_handler == on_trap, "SIGTRAP handler is %p, not %p", (void *)got.sa_handler, (void *)on_trap);
	WL_CHECK((got.sa_flags & (SA_RESTART | SA_NODEFER)) == (SA_RESTART | SA_NODEFER),
		 "SIGTRAP flags 0x%x lack SA_RESTART|SA_NODEFER", got.sa_flags);
	WL_CHECK(sigismember(&got.sa_mask, SIGUSR2) == 1, "SIGTRAP handler mask lost SIGUSR2");
	WL_CHECK(ignored_of(child) != ~0ull && (ignored_of(child) & trap_bit), "the child no longer ignores SIGTRAP");
	WL_CHECK(sigpending(&pending) == 0 && sigismember(&pending, SIGTRAP) == 1, "the queued SIGTRAP is gone");
	WL_CHECK(traps == 0, "the handler ran %d time(s) while SIGTRAP was blocked", (int)traps);
	WL_CHECK(sigprocmask(SIG_UNBLOCK, &trap, NULL) == 0, "unblock: %s", strerror(errno));
	WL_CHECK(traps == 1, "the queued SIGTRAP reached the handler %d time(s), not once", (int)traps);
	raise(SIGTRAP);
	WL_CHECK(traps == 2, "a new SIGTRAP reached the handler %d time(s) in all, not twice", (int)traps);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	wl_pass();
}
