// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Ctrl-C and friends during dump and restore.  Killing ocicr in the middle
 * of a remote call would leave a task running on borrowed registers, so
 * these signals are held (blocked) while the engine works; the engine asks
 * at safe points whether one came, then fails and undoes its work as for
 * any failure.  When the command is over, a held signal is delivered as
 * it would have been: the process dies of it.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "oci/cli.h"

static const int held_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static sigset_t held_set, saved_mask;
static bool holding;

void cli_hold_signals(void)
{
	sigemptyset(&held_set);
	for (size_t i = 0; i < sizeof(held_signals) / sizeof(held_signals[0]); i++) {
		struct sigaction sa;

		/* One ignored (nohup, a background job) stays so: a blocked
		 * signal is queued even when ignored. */
		if (sigaction(held_signals[i], NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			continue;
		sigaddset(&held_set, held_signals[i]);
	}
	sigprocmask(SIG_BLOCK, &held_set, &saved_mask);
	holding = true;
}

int cli_held_signal(void *unused)
{
	sigset_t pending;

	(void)unused;
	if (sigpending(&pending) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(held_signals) / sizeof(held_signals[0]); i++)
		if (sigismember(&held_set, held_signals[i]) && sigismember(&pending, held_signals[i]))
			return held_signals[i];
	return 0;
}

void cli_release_signals(bool completed)
{
	int sig;

	if (!holding)
		return;
	holding = false;
	sig = cli_held_signal(NULL);
	if (sig && completed) {
		/* It came after the point of no return: the work is done, and
		 * said to be done rather than lost to the signal. */
		struct timespec none = { 0, 0 };
		sigtimedwait(&held_set, NULL, &none);
		fprintf(stderr, "ocicr: SIG%s came too late to stop the command; it completed\n", sigabbrev_np(sig));
	}
	/* Anything still pending is delivered here, as if never held. */
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
}
