// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A pid namespace nested below the tree's: the root's child C unshares a
 * pid namespace and forks G into it (its init, pid 1 there), which forks
 * H (pid 2), whose second thread T is tid 3 there and the target of one of
 * H's timers.  Each notes its pids at every level from the root's down
 * (NSpid); all of them wait for the word to go on.
 *
 * After restore each checks its pids again (T its tids, and that its
 * timer's signal comes to it); H leaves an orphan J behind, which the
 * namespace's init G must reap along with H (init semantics); C still
 * makes its children in the namespace it unshared (a new child is one
 * level below it), and waits for G.  Each reports over a pipe.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "wl.h"

#define MAX_LEVELS 32

struct report {
	char who;
	char ok;
	char msg[200];
};

static int go[2], up[2], results[2];
static size_t root_levels; /* entries of the root's NSpid */

/* The NSpid line of this thread: its tid in every namespace from the
 * top down; returns how many. */
static size_t nspid(pid_t *pids)
{
	char buf[4096];
	size_t n = 0;

	if (wl_read_file("/proc/thread-self/status", buf, sizeof(buf)) <= 0)
		return 0;
	char *p = strstr(buf, "\nNSpid:");
	if (!p)
		return 0;
	p += 7;
	while (*p && *p != '\n' && n < MAX_LEVELS) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		pids[n++] = v;
		p = end;
	}
	return n;
}

static void report(char who, bool ok, const char *fmt, ...)
{
	struct report r = { .who = who, .ok = ok };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r.msg, sizeof(r.msg), fmt, ap);
	va_end(ap);
	if (write(results[1], &r, sizeof(r)) != sizeof(r))
		_exit(3);
}

static void wait_go(void)
{
	char c;

	while (read(go[0], &c, 1) < 0 && errno == EINTR)
		;
}

/* Are this task's pids from the root's level down still @before? */
static bool same_pids(const pid_t *before, size_t n_before, char *why, size_t len)
{
	pid_t now[MAX_LEVELS];
	size_t n = nspid(now);

	if (n != n_before) {
		snprintf(why, len, "%zu levels of pids, were %zu", n, n_before);
		return false;
	}
	for (size_t i = root_levels - 1; i < n; i++)
		if (now[i] != before[i]) {
			snprintf(why, len, "pid %d at level %zu, was %d", now[i], i, before[i]);
			return false;
		}
	return true;
}

static void announce_up(void)
{
	if (write(up[1], "u", 1) != 1)
		_exit(3);
}

/* T: H's second thread, tid 3 of G's namespace, the target of a POSIX
 * timer of H's (SIGEV_THREAD_ID, as T sees itself: 3), fired after restore. */
static void *run_t(void *unused)
{
	pid_t tids[MAX_LEVELS];
	size_t n = nspid(tids);
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGRTMIN };
	struct itimerspec soon = { .it_value.tv_nsec = 10 * 1000 * 1000 };
	struct timespec wait = { 5, 0 };
	sigset_t rt;
	siginfo_t si;
	timer_t timer;
	char why[128];

	(void)unused;
	sev._sigev_un._tid = syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) < 0)
		_exit(3);
	announce_up();
	wait_go();
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	if (!same_pids(tids, n, why, sizeof(why)))
		report('T', false, "T: %s", why);
	else if (syscall(SYS_gettid) != 3)
		report('T', false, "T: tid %ld inside, not 3", syscall(SYS_gettid));
	else if (timer_settime(timer, 0, &soon, NULL) < 0)
		report('T', false, "T: timer_settime: %s", strerror(errno));
	else if (sigtimedwait(&rt, &si, &wait) != SIGRTMIN || si.si_code != SI_TIMER)
		report('T', false, "T: its timer's signal did not come to it (%s)", strerror(errno));
	else
		report('T', true, "T");
	return NULL;
}

/* H: pid 2 of G's namespace, with a thread T; leaves an orphan J for G to
 * reap. */
static void run_h(void)
{
	pid_t pids[MAX_LEVELS];
	size_t n = nspid(pids);
	char why[128];
	pthread_t t;
	sigset_t rt;

	/* SIGRTMIN waits for T alone: blocked in every thread */
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	if (sigprocmask(SIG_BLOCK, &rt, NULL) < 0 || pthread_create(&t, NULL, run_t, NULL))
		_exit(3);
	announce_up();
	wait_go();
	if (!same_pids(pids, n, why, sizeof(why)))
		report('H', false, "H: %s", why);
	else if (getpid() != 2 || getppid() != 1)
		report('H', false, "H: pid %d ppid %d inside, not 2 and 1", getpid(), getppid());
	else
		report('H', true, "H");
	pthread_join(t, NULL);
	pid_t j = fork();
	if (j == 0) {
		wl_sleep_us(100 * 1000); /* H is gone by now: G adopted it */
		_exit(getppid() == 1 ? 7 : 8);
	}
	_exit(j > 0 ? 0 : 1);
}

/* G: init of the nested namespace: reaps H and the orphan J. */
static void run_g(void)
{
	pid_t pids[MAX_LEVELS];
	size_t n = nspid(pids);
	char why[128];

	pid_t h = fork();
	if (h == 0)
		run_h();
	if (h != 2)
		_exit(3);
	announce_up();
	wait_go();
	if (!same_pids(pids, n, why, sizeof(why))) {
		report('G', false, "G: %s", why);
		_exit(1);
	}
	if (getpid() != 1) {
		report('G', false, "G: pid %d inside, not 1", getpid());
		_exit(1);
	}
	/* H exits 0, the orphan J 7 (it saw G as its parent). */
	int seen_h = 0, seen_j = 0, status = 0;
	for (int k = 0; k < 2; k++) {
		pid_t w = waitpid(-1, &status, 0);
		if (w == 2 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
			seen_h++;
		else if (w > 2 && WIFEXITED(status) && WEXITSTATUS(status) == 7)
			seen_j++;
		else {
			report('G', false, "G: reaped %d with status 0x%x", w, w > 0 ? status : errno);
			_exit(1);
		}
	}
	report('G', seen_h == 1 && seen_j == 1, "G: reaped H %d times, the orphan %d times", seen_h, seen_j);
	_exit(0);
}

/* C: made the namespace by unshare; its children go there. */
static void run_c(void)
{
	pid_t pids[MAX_LEVELS];
	size_t n = nspid(pids);
	char why[128];
	int status = 0;

	if (unshare(CLONE_NEWPID) < 0)
		_exit(3);
	pid_t g = fork();
	if (g == 0)
		run_g();
	if (g < 0)
		_exit(3);
	announce_up();
	wait_go();
	if (!same_pids(pids, n, why, sizeof(why))) {
		report('C', false, "C: %s", why);
		_exit(1);
	}
	/* A child made now is in G's namespace: one level more than C. */
	pid_t x = fork();
	if (x == 0) {
		pid_t mine[MAX_LEVELS];
		_exit(nspid(mine) == n + 1 && getpid() > 2 ? 0 : 1);
	}
	if (x < 0 || waitpid(x, &status, 0) != x || !WIFEXITED(status) || WEXITSTATUS(status)) {
		report('C', false, "C: a new child is not in the namespace C made (status 0x%x)", status);
		_exit(1);
	}
	report('C', true, "C");
	_exit(waitpid(g, &status, 0) == g && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1);
}

int main(int argc, char **argv)
{
	pid_t mine[MAX_LEVELS];
	int status = 0;

	wl_init(argc, argv);
	root_levels = nspid(mine);
	WL_SETUP(root_levels > 0, "NSpid of /proc/self/status");
	WL_SETUP(pipe(go) == 0 && pipe(up) == 0 && pipe(results) == 0, "pipe");
	pid_t c = fork();
	WL_SETUP(c >= 0, "fork");
	if (c == 0)
		run_c();
	for (int k = 0; k < 4; k++) {
		char b;
		WL_SETUP(read(up[0], &b, 1) == 1, "C, G, H and T up");
	}

	wl_ready();
	wl_wait();

	WL_CHECK(write(go[1], "gggg", 4) == 4, "the word to go on");
	for (int k = 0; k < 4; k++) {
		struct report r;
		WL_CHECK(read(results[0], &r, sizeof(r)) == sizeof(r), "the reports of C, G, H and T");
		r.msg[sizeof(r.msg) - 1] = '\0';
		WL_CHECK(r.ok, "%s", r.msg);
	}
	WL_CHECK(waitpid(c, &status, 0) == c && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "C ended with status 0x%x", status);
	wl_pass();
}
