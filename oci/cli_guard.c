// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A dump in a worker, guarded by the process that was started.
 *
 * The dump ptraces the tree: it borrows a thread's registers for each
 * remote call and makes snapshot twins.  Were the tracer killed, the kernel
 * would let every task go as it is at that instant, one inside a remote
 * call on registers that are not its own.  So the tracer is a worker in a
 * process group of its own, and the process a user or a supervisor knows
 * (and SIGKILLs) only waits for it: its death, SIGKILL included, comes to
 * the worker as SIGTERM (PR_SET_PDEATHSIG), which the worker holds like
 * Ctrl-C: it stops at its next safe point, after the call in flight, and
 * undoes its work as for any failure.  See docs/error-handling.md.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/cli.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define N_FORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))
static volatile pid_t worker;

static void forward(int sig)
{
	if (worker > 0)
		kill(worker, sig);
}

/* The worker's side: run @work and end with its result. */
static void __attribute__((noreturn)) run_worker(pid_t guardian, int (*work)(void *), void *arg)
{
	int r;

	/* Out of the guardian's process group, so that a kill of the group
	 * (timeout(1), a shell's kill %1) reaches only the guardian; writes
	 * to a terminal from there must not stop it. */
	setpgid(0, 0);
	signal(SIGTTOU, SIG_IGN);
	/* A log pipe whose reader went with the guardian: the write fails,
	 * the worker goes on to its safe point. */
	signal(SIGPIPE, SIG_IGN);
	/* SIGTERM must be held, not ignored, to stop the work. */
	signal(SIGTERM, SIG_DFL);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != guardian)
		_exit(EXIT_FAIL); /* nothing started yet */
	r = work(arg);
	/* A held signal that stopped the work ends the worker now. */
	cli_release_signals(r == EXIT_OK);
	fflush(NULL);
	_exit(r);
}

static void restore_handlers(const struct sigaction *old)
{
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaction(forwarded[i], &old[i], NULL);
}

int cli_guarded(const char *what, int (*work)(void *arg), void *arg)
{
	struct sigaction sa = { .sa_handler = forward }, old[N_FORWARDED];
	sigset_t set, old_mask;
	pid_t guardian = getpid();
	int st;

	/* Blocked until the worker is there; one pending already (sent
	 * before we ran) is forwarded then. */
	sigemptyset(&set);
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, &old_mask);
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_FORWARDED; i++) {
		/* One ignored (nohup) stays so, here and in the worker. */
		sigaction(forwarded[i], NULL, &old[i]);
		if (old[i].sa_handler != SIG_IGN)
			sigaction(forwarded[i], &sa, NULL);
	}
	fflush(NULL);
	worker = fork();
	if (worker == 0) {
		restore_handlers(old);
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
		run_worker(guardian, work, arg);
	}
	st = worker < 0 ? -errno : 0;
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	while (worker > 0 && waitpid(worker, &st, 0) < 0)
		if (errno != EINTR) {
			st = -errno;
			break;
		}
	restore_handlers(old);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	if (worker < 0)
		return cli_fail(st, "cannot start the %s's worker", what);
	worker = 0;
	if (st < 0)
		return cli_fail(st, "waiting for the %s's worker", what);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	for (size_t i = 0; i < N_FORWARDED; i++)
		if (WTERMSIG(st) == forwarded[i]) {
			/* It stopped the work: it ends us as it would have. */
			sigset_t one;
			sigemptyset(&one);
			sigaddset(&one, forwarded[i]);
			signal(forwarded[i], SIG_DFL);
			sigprocmask(SIG_UNBLOCK, &one, NULL);
			raise(forwarded[i]);
		}
	fprintf(stderr, "ocicr: the %s's worker was killed by SIG%s\n", what, sigabbrev_np(WTERMSIG(st)));
	return 128 + WTERMSIG(st);
}
