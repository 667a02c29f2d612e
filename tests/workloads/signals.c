/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Signal state: custom handlers (SA_SIGINFO, SA_RESTART, SA_ONSTACK, SA_RESETHAND,
 * SA_NODEFER, handler masks), SIG_IGN dispositions, an alternate signal
 * stack per thread, a blocked mask that differs between the two threads,
 * and signals left pending while blocked:
 *
 *   - SIGUSR2 sent with kill() to the process (shared queue),
 *   - SIGHUP sent with tgkill() to the main thread (its own queue),
 *   - SIGWINCH sent with tgkill() to the second thread (its own queue),
 *   - SIGRTMIN+3 queued twice with sigqueue() and two values (shared).
 *
 * After restore all 64 dispositions, the masks, the altstacks and the
 * pending sets must be as before; unblocking must deliver every signal to
 * the right thread, with its siginfo (code, sender, value) and in order.
 */
#include <pthread.h>
#include <sys/syscall.h>

#include "wl.h"

#define ALT_SIZE (64 * 1024)
#define RT_SIG	 (SIGRTMIN + 3)

struct kernel_sigaction {
	uint64_t handler, flags, restorer, mask;
};

struct seen {
	volatile int count;
	volatile int code, pid, tid;
	volatile int on_altstack;
	volatile uint64_t value;
};

static uint8_t main_alt[ALT_SIZE], worker_alt[ALT_SIZE];
static struct kernel_sigaction disp_before[65];
static struct seen usr2, hup, winch, alrm;
static volatile uint64_t rt_values[4];
static volatile int rt_count, rt_bad_code;
static volatile pid_t worker_tid;
static volatile int worker_step; /* 1: set up, 2: told to unblock, 3: done */
static sigset_t blocked_main, blocked_worker, pending_main_before;

static bool on(const uint8_t *alt, const void *p)
{
	return (const uint8_t *)p >= alt && (const uint8_t *)p < alt + ALT_SIZE;
}

static void record(struct seen *s, const siginfo_t *si, const uint8_t *alt)
{
	int local;

	s->code = si->si_code;
	s->pid = si->si_pid;
	s->tid = syscall(SYS_gettid);
	s->value = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
	s->on_altstack = on(alt, &local);
	/* Last: another thread waits for the count, then reads the rest. */
	s->count++;
}

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
	record(&usr2, si, main_alt);
}

static void on_hup(int sig, siginfo_t *si, void *uc)
{
	record(&hup, si, main_alt);
}

static void on_winch(int sig, siginfo_t *si, void *uc)
{
	record(&winch, si, worker_alt);
}

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	if (rt_count < 4)
		rt_values[rt_count] = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
	if (si->si_code != SI_QUEUE)
		rt_bad_code = si->si_code;
	rt_count++;
}

static void on_alrm(int sig)
{
	alrm.count++;
}

static void set_handler(int sig, void *fn, int flags, int mask1, int mask2)
{
	struct sigaction sa = { .sa_flags = flags };

	if (flags & SA_SIGINFO)
		sa.sa_sigaction = fn;
	else
		sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	if (mask1)
		sigaddset(&sa.sa_mask, mask1);
	if (mask2)
		sigaddset(&sa.sa_mask, mask2);
	WL_SETUP(sigaction(sig, &sa, NULL) == 0, "sigaction");
}

static void set_altstack(uint8_t *alt)
{
	stack_t ss = { .ss_sp = alt, .ss_size = ALT_SIZE };

	WL_SETUP(sigaltstack(&ss, NULL) == 0, "sigaltstack");
}

static void check_altstack(const uint8_t *alt, const char *who)
{
	stack_t ss;

	WL_SETUP(sigaltstack(NULL, &ss) == 0, "sigaltstack");
	WL_CHECK(ss.ss_sp == alt && ss.ss_size == ALT_SIZE && ss.ss_flags == 0,
		 "%s: sigaltstack is %p/%zu/%d, was %p/%d/0", who, ss.ss_sp, ss.ss_size, ss.ss_flags, alt, ALT_SIZE);
}

static void check_mask(const sigset_t *want, const char *who)
{
	sigset_t cur;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	for (int sig = 1; sig < 65; sig++)
		WL_CHECK(sigismember(&cur, sig) == sigismember(want, sig), "%s: signal %d is %s blocked now", who, sig,
			 sigismember(&cur, sig) ? "" : "not");
}

static void *worker(void *arg)
{
	sigset_t pend;

	worker_tid = syscall(SYS_gettid);
	set_altstack(worker_alt);
	pthread_sigmask(SIG_SETMASK, &blocked_worker, NULL);
	worker_step = 1;
	while (worker_step < 2)
		wl_sleep_us(1000);

	/* After restore: own state first, then take SIGWINCH. */
	check_altstack(worker_alt, "second thread");
	check_mask(&blocked_worker, "second thread");
	sigpending(&pend);
	WL_CHECK(sigismember(&pend, SIGWINCH), "second thread: its SIGWINCH is no longer pending");
	sigset_t winch_set;
	sigemptyset(&winch_set);
	sigaddset(&winch_set, SIGWINCH);
	pthread_sigmask(SIG_UNBLOCK, &winch_set, NULL);
	worker_step = 3;
	for (;;)
		pause();
	return NULL;
}

static void read_dispositions(struct kernel_sigaction *out)
{
	for (int sig = 1; sig < 65; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		WL_SETUP(syscall(SYS_rt_sigaction, sig, NULL, &out[sig], 8) == 0, "rt_sigaction");
	}
}

int main(int argc, char **argv)
{
	static struct kernel_sigaction disp_after[65];
	pthread_t th;
	sigset_t pend;

	wl_init(argc, argv);

	set_handler(SIGUSR2, on_usr2, SA_SIGINFO | SA_RESTART | SA_ONSTACK, SIGINT, SIGQUIT);
	set_handler(SIGHUP, on_hup, SA_SIGINFO | SA_ONSTACK, SIGTERM, 0);
	set_handler(SIGWINCH, on_winch, SA_SIGINFO | SA_ONSTACK | SA_RESTART, 0, 0);
	set_handler(RT_SIG, on_rt, SA_SIGINFO, SIGUSR2, 0);
	set_handler(SIGALRM, on_alrm, SA_RESETHAND | SA_NODEFER, SIGCHLD, 0);
	set_handler(SIGTERM, SIG_IGN, 0, 0, 0);
	set_handler(SIGPIPE, SIG_IGN, 0, 0, 0);
	set_handler(SIGTTOU, SIG_IGN, SA_RESTART, 0, 0);
	set_altstack(main_alt);

	sigemptyset(&blocked_main);
	sigaddset(&blocked_main, SIGUSR2);
	sigaddset(&blocked_main, SIGHUP);
	sigaddset(&blocked_main, SIGWINCH);
	sigaddset(&blocked_main, RT_SIG);
	sigaddset(&blocked_main, SIGINT);
	blocked_worker = blocked_main;
	sigaddset(&blocked_worker, SIGQUIT);
	sigaddset(&blocked_worker, SIGRTMAX);
	WL_SETUP(pthread_sigmask(SIG_SETMASK, &blocked_main, NULL) == 0, "block");
	WL_SETUP(pthread_create(&th, NULL, worker, NULL) == 0, "pthread_create");
	WL_SETUP(WL_WAIT_FOR(worker_step == 1, 10000), "second thread start");

	/* Pending while blocked everywhere. */
	WL_SETUP(kill(getpid(), SIGUSR2) == 0, "kill");
	WL_SETUP(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGHUP) == 0, "tgkill main");
	WL_SETUP(syscall(SYS_tgkill, getpid(), worker_tid, SIGWINCH) == 0, "tgkill worker");
	WL_SETUP(sigqueue(getpid(), RT_SIG, (union sigval){ .sival_ptr = (void *)0x1234abcdul }) == 0, "sigqueue");
	WL_SETUP(sigqueue(getpid(), RT_SIG, (union sigval){ .sival_ptr = (void *)0x5678ef01ul }) == 0, "sigqueue");

	sigpending(&pending_main_before);
	WL_SETUP(sigismember(&pending_main_before, SIGUSR2) && sigismember(&pending_main_before, SIGHUP) &&
			 sigismember(&pending_main_before, RT_SIG) && !sigismember(&pending_main_before, SIGWINCH),
		 "pending set before the dump");
	read_dispositions(disp_before);

	wl_ready();
	wl_wait();

	read_dispositions(disp_after);
	for (int sig = 1; sig < 65; sig++) {
		const struct kernel_sigaction *b = &disp_before[sig], *a = &disp_after[sig];
		WL_CHECK(a->handler == b->handler, "signal %d: handler 0x%lx, was 0x%lx", sig, a->handler, b->handler);
		WL_CHECK(a->flags == b->flags, "signal %d: flags 0x%lx, were 0x%lx", sig, a->flags, b->flags);
		WL_CHECK(a->restorer == b->restorer, "signal %d: restorer changed", sig);
		WL_CHECK(a->mask == b->mask, "signal %d: handler mask 0x%lx, was 0x%lx", sig, a->mask, b->mask);
	}
	check_mask(&blocked_main, "main thread");
	check_altstack(main_alt, "main thread");
	sigpending(&pend);
	for (int sig = 1; sig < 65; sig++)
		WL_CHECK(sigismember(&pend, sig) == sigismember(&pending_main_before, sig),
			 "signal %d is %s pending now", sig, sigismember(&pend, sig) ? "" : "no longer");
	WL_CHECK(usr2.count == 0 && hup.count == 0 && rt_count == 0 && winch.count == 0,
		 "a blocked signal was delivered");

	/* Unblock: everything arrives, on the alternate stack where asked. */
	sigset_t go;
	sigemptyset(&go);
	sigaddset(&go, SIGUSR2);
	sigaddset(&go, SIGHUP);
	sigaddset(&go, RT_SIG);
	pthread_sigmask(SIG_UNBLOCK, &go, NULL);
	pid_t me = getpid();
	WL_CHECK(usr2.count == 1, "SIGUSR2 delivered %d times", usr2.count);
	WL_CHECK(usr2.code == SI_USER && usr2.pid == me, "SIGUSR2 siginfo: code %d pid %d", usr2.code, usr2.pid);
	WL_CHECK(usr2.on_altstack, "SIGUSR2 handler did not run on the alternate stack");
	WL_CHECK(hup.count == 1, "SIGHUP delivered %d times", hup.count);
	WL_CHECK(hup.code == SI_TKILL && hup.pid == me && hup.tid == me, "SIGHUP siginfo: code %d pid %d tid %d",
		 hup.code, hup.pid, hup.tid);
	WL_CHECK(rt_count == 2, "SIGRTMIN+3 delivered %d times, queued twice", rt_count);
	WL_CHECK(!rt_bad_code, "SIGRTMIN+3 si_code %d, expected SI_QUEUE", rt_bad_code);
	WL_CHECK(rt_values[0] == 0x1234abcd && rt_values[1] == 0x5678ef01,
		 "SIGRTMIN+3 values 0x%lx, 0x%lx (want 0x1234abcd, 0x5678ef01)", (unsigned long)rt_values[0],
		 (unsigned long)rt_values[1]);

	worker_step = 2;
	WL_CHECK(WL_WAIT_FOR(winch.count > 0, 10000), "the second thread never got its SIGWINCH");
	WL_CHECK(winch.tid == worker_tid, "SIGWINCH went to thread %d, not %d", winch.tid, worker_tid);
	WL_CHECK(winch.code == SI_TKILL && winch.pid == me, "SIGWINCH siginfo: code %d pid %d", winch.code, winch.pid);
	WL_CHECK(winch.on_altstack, "SIGWINCH handler did not run on the second thread's alternate stack");

	/* Ignored stays ignored. */
	raise(SIGPIPE);
	raise(SIGTERM);
	WL_CHECK(alrm.count == 0, "SIGALRM handler ran");
	wl_pass();
}
