/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Timers: ITIMER_REAL and ITIMER_VIRTUAL armed far ahead, and POSIX timers
 * of every notification kind the dump supports, armed and disarmed, on
 * three clocks, with a hole in their ids (timer 2 was deleted):
 *
 *   id 0  CLOCK_MONOTONIC  SIGEV_SIGNAL     SIGRTMIN+1  armed, 7 s interval
 *   id 1  CLOCK_REALTIME   SIGEV_NONE                   armed
 *   id 3  CLOCK_MONOTONIC  SIGEV_THREAD_ID  SIGRTMIN+2  armed, to the worker
 *   id 4  CLOCK_BOOTTIME   SIGEV_SIGNAL     SIGUSR2     disarmed
 *   id 5  CLOCK_REALTIME   SIGEV_SIGNAL     SIGRTMIN+5  armed
 *
 * After restore: the same ids with the same clocks, signals, values and
 * targets (/proc/self/timers), intervals exact, times left no longer than
 * before and not much shorter, disarmed ones still disarmed; re-armed
 * short, timers 0 and 3 fire with their si_value, 3 on the worker thread.
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "wl.h"

#define NT	 6
#define SLACK_MS 10

struct tdef {
	int clock, notify, signo;
	uint64_t value;
	long arm_s, interval_s; /* arm_s 0: disarmed */
};

static const struct tdef defs[NT] = {
	{ CLOCK_MONOTONIC, SIGEV_SIGNAL, 0 /* SIGRTMIN+1 */, 0xdead0000, 1000, 7 },
	{ CLOCK_REALTIME, SIGEV_NONE, 0, 0xdead0001, 2000, 0 },
	{ CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR2, 0xdead0002, 0, 0 }, /* deleted */
	{ CLOCK_MONOTONIC, SIGEV_THREAD_ID, 0 /* SIGRTMIN+2 */, 0xdead0003, 3000, 0 },
	{ CLOCK_BOOTTIME, SIGEV_SIGNAL, SIGUSR2, 0xdead0004, 0, 0 },
	{ CLOCK_REALTIME, SIGEV_SIGNAL, 0 /* SIGRTMIN+5 */, 0xdead0005, 500, 0 },
};

static int ids[NT];
static struct itimerspec before[NT];
static struct itimerval real_before, virt_before;
static volatile pid_t worker_tid;
static char timers_before[8192], timers_after[8192];

struct fired {
	volatile int count, code, timerid, tid;
	volatile uint64_t value;
};
static struct fired fired[65];

static int signo_of(int i)
{
	switch (i) {
	case 0:
		return SIGRTMIN + 1;
	case 3:
		return SIGRTMIN + 2;
	case 5:
		return SIGRTMIN + 5;
	default:
		return defs[i].signo;
	}
}

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	struct fired *f = &fired[sig];

	f->code = si->si_code;
	f->timerid = si->si_timerid;
	f->value = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
	f->tid = syscall(SYS_gettid);
	f->count++;
}

static void *worker(void *arg)
{
	worker_tid = syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

static long ms_of(const struct timespec *ts)
{
	return ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

static long ms_of_tv(const struct timeval *tv)
{
	return tv->tv_sec * 1000 + tv->tv_usec / 1000;
}

/*
 * The pids in "notify: KIND/pid.N" and "tid.N" are those of the pid
 * namespace /proc belongs to, which a restore keeps only in the tree's
 * own: the process's becomes "self", a thread's "thread" (that timer 3
 * fires on the worker is checked apart).
 */
static void unname_targets(char *text)
{
	char self[32], *p = text;
	ssize_t n = readlink("/proc/self", self, sizeof(self) - 1);

	WL_SETUP(n > 0, "readlink /proc/self");
	self[n] = '\0';
	while ((p = strstr(p, "notify: "))) {
		char *dot = strchr(p, '.'), *nl = strchr(p, '\n');
		if (!dot || !nl || dot > nl)
			break;
		const char *name = !strncmp(dot + 1, self, n) && dot + 1 + n == nl ? "self" : "thread";
		size_t rest = strlen(nl);
		memmove(dot + 1 + strlen(name), nl, rest + 1);
		memcpy(dot + 1, name, strlen(name));
		p = dot + 1 + strlen(name);
	}
}

/* /proc/self/timers, blocks sorted by id so the order does not matter. */
static void read_timers(char *out, size_t len)
{
	static char raw[8192];
	const char *blocks[NT * 2];
	int n = 0;
	size_t o = 0;

	WL_SETUP(wl_read_file("/proc/self/timers", raw, sizeof(raw)) >= 0, "read /proc/self/timers");
	for (char *p = strstr(raw, "ID: "); p && n < NT * 2; p = strstr(p + 1, "ID: "))
		blocks[n++] = p;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (atoi(blocks[j] + 4) < atoi(blocks[i] + 4)) {
				const char *t = blocks[i];
				blocks[i] = blocks[j];
				blocks[j] = t;
			}
	for (int i = 0; i < n; i++) {
		const char *end = strstr(blocks[i] + 1, "ID: ");
		size_t blen = end ? (size_t)(end - blocks[i]) : strlen(blocks[i]);
		o += snprintf(out + o, len - o, "%.*s", (int)blen, blocks[i]);
	}
	unname_targets(out);
}

static void check_left(const char *what, long before_ms, long after_ms, long elapsed_ms)
{
	WL_CHECK(after_ms > 0, "%s: disarmed after restore (was %ld ms)", what, before_ms);
	WL_CHECK(after_ms <= before_ms + SLACK_MS, "%s: %ld ms left, more than the %ld before", what, after_ms,
		 before_ms);
	WL_CHECK(after_ms >= before_ms - elapsed_ms - 1000, "%s: %ld ms left, was %ld ms %ld ms ago", what, after_ms,
		 before_ms, elapsed_ms);
}

int main(int argc, char **argv)
{
	pthread_t th;
	uint64_t t_ready;

	wl_init(argc, argv);
	struct sigaction sa = { .sa_sigaction = on_timer, .sa_flags = SA_SIGINFO | SA_RESTART };
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < NT; i++)
		if (signo_of(i))
			WL_SETUP(sigaction(signo_of(i), &sa, NULL) == 0, "sigaction");
	WL_SETUP(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
	WL_SETUP(sigaction(SIGVTALRM, &sa, NULL) == 0, "sigaction");
	WL_SETUP(pthread_create(&th, NULL, worker, NULL) == 0, "pthread_create");
	WL_SETUP(WL_WAIT_FOR(worker_tid != 0, 10000), "worker start");

	for (int i = 0; i < NT; i++) {
		struct sigevent sev = { .sigev_notify = defs[i].notify, .sigev_signo = signo_of(i) };
		sev.sigev_value.sival_ptr = (void *)(uintptr_t)defs[i].value;
		if (defs[i].notify == SIGEV_THREAD_ID)
			sev._sigev_un._tid = worker_tid;
		WL_SETUP(syscall(SYS_timer_create, defs[i].clock, &sev, &ids[i]) == 0, "timer_create");
		WL_SETUP(ids[i] == i, "timer ids count from 0");
		struct itimerspec its = { { defs[i].interval_s, 0 }, { defs[i].arm_s, 0 } };
		WL_SETUP(syscall(SYS_timer_settime, ids[i], 0, &its, NULL) == 0, "timer_settime");
	}
	WL_SETUP(syscall(SYS_timer_delete, ids[2]) == 0, "timer_delete");

	struct itimerval real = { { 500, 0 }, { 1000, 0 } }, virt = { { 50, 0 }, { 100, 0 } };
	WL_SETUP(setitimer(ITIMER_REAL, &real, NULL) == 0, "setitimer real");
	WL_SETUP(setitimer(ITIMER_VIRTUAL, &virt, NULL) == 0, "setitimer virtual");

	read_timers(timers_before, sizeof(timers_before));
	for (int i = 0; i < NT; i++)
		if (i != 2)
			WL_SETUP(syscall(SYS_timer_gettime, ids[i], &before[i]) == 0, "timer_gettime");
	getitimer(ITIMER_REAL, &real_before);
	getitimer(ITIMER_VIRTUAL, &virt_before);
	t_ready = wl_now_ms();
	wl_ready();
	wl_wait();

	long elapsed = wl_now_ms() - t_ready;
	read_timers(timers_after, sizeof(timers_after));
	WL_CHECK(!strcmp(timers_before, timers_after), "/proc/self/timers changed: was '%s', now '%s'", timers_before,
		 timers_after);

	struct itimerspec its;
	errno = 0;
	WL_CHECK(syscall(SYS_timer_gettime, 2, &its) < 0 && errno == EINVAL, "deleted timer 2 exists again");
	for (int i = 0; i < NT; i++) {
		char what[32];
		if (i == 2)
			continue;
		snprintf(what, sizeof(what), "POSIX timer %d", i);
		WL_CHECK(syscall(SYS_timer_gettime, ids[i], &its) == 0, "%s is gone: %s", what, strerror(errno));
		WL_CHECK(its.it_interval.tv_sec == before[i].it_interval.tv_sec &&
				 its.it_interval.tv_nsec == before[i].it_interval.tv_nsec,
			 "%s: interval %ld.%09ld, was %ld.%09ld", what, its.it_interval.tv_sec, its.it_interval.tv_nsec,
			 before[i].it_interval.tv_sec, before[i].it_interval.tv_nsec);
		if (!defs[i].arm_s)
			WL_CHECK(!its.it_value.tv_sec && !its.it_value.tv_nsec, "%s: armed after restore", what);
		else
			check_left(what, ms_of(&before[i].it_value), ms_of(&its.it_value), elapsed);
	}

	struct itimerval it;
	getitimer(ITIMER_REAL, &it);
	WL_CHECK(ms_of_tv(&it.it_interval) == 500000, "ITIMER_REAL interval %ld ms", ms_of_tv(&it.it_interval));
	check_left("ITIMER_REAL", ms_of_tv(&real_before.it_value), ms_of_tv(&it.it_value), elapsed);
	getitimer(ITIMER_VIRTUAL, &it);
	WL_CHECK(ms_of_tv(&it.it_interval) == 50000, "ITIMER_VIRTUAL interval %ld ms", ms_of_tv(&it.it_interval));
	/* CPU time: barely any passes. */
	check_left("ITIMER_VIRTUAL", ms_of_tv(&virt_before.it_value), ms_of_tv(&it.it_value), 0);
	for (int sig = 1; sig < 65; sig++)
		WL_CHECK(fired[sig].count == 0, "signal %d fired before it was due", sig);

	/* Fire timers 0 and 3 now: same sigevent as before. */
	struct itimerspec soon = { { 0, 0 }, { 0, 20 * 1000 * 1000 } };
	WL_CHECK(syscall(SYS_timer_settime, ids[0], 0, &soon, NULL) == 0, "re-arming timer 0");
	WL_CHECK(syscall(SYS_timer_settime, ids[3], 0, &soon, NULL) == 0, "re-arming timer 3");
	struct fired *f0 = &fired[SIGRTMIN + 1], *f3 = &fired[SIGRTMIN + 2];
	WL_CHECK(WL_WAIT_FOR(f0->count && f3->count, 10000), "re-armed timers did not fire (%d, %d)", f0->count,
		 f3->count);
	WL_CHECK(f0->code == SI_TIMER && f0->timerid == ids[0] && f0->value == defs[0].value,
		 "timer 0 fired with code %d timer %d value 0x%lx", f0->code, f0->timerid, (unsigned long)f0->value);
	WL_CHECK(f3->code == SI_TIMER && f3->timerid == ids[3] && f3->value == defs[3].value,
		 "timer 3 fired with code %d timer %d value 0x%lx", f3->code, f3->timerid, (unsigned long)f3->value);
	WL_CHECK(f3->tid == worker_tid, "timer 3 (SIGEV_THREAD_ID) fired on thread %d, not %d", f3->tid, worker_tid);
	wl_pass();
}
