/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Threads: four workers, each with its own thread-local values, its own
 * blocked mask, its own name, and a counter it keeps bumping along with a
 * floating-point sum.  The main thread has a name of its own too.
 *
 * After restore every counter must advance; then each worker checks its
 * own state (tid, TLS, mask, name, sum) and reports, and the main thread
 * checks every name through /proc/self/task/TID/comm.
 */
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "wl.h"

#define N 4

struct slot {
	volatile uint64_t count;
	volatile pid_t tid;
	volatile int ready;
	volatile int verdict; /* 0: not yet, 1: good, 2: bad */
	char why[200];
};

static struct slot slots[N];
static volatile int check_now;
static __thread uint64_t tls_value;
static __thread char tls_text[32];

static void mask_of(int i, sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGRTMIN + 1 + i);
	sigaddset(set, SIGRTMIN + 10);
	if (i % 2)
		sigaddset(set, SIGHUP);
}

static void name_of(int i, char *buf, size_t len)
{
	snprintf(buf, len, "wl-worker-%c", (char)('0' + i));
}

static bool thread_state_ok(int i, double sum, uint64_t n, char *why, size_t len)
{
	sigset_t want, cur;
	char name[16], got[16] = "";

	if (syscall(SYS_gettid) != slots[i].tid)
		return snprintf(why, len, "worker %d runs as tid %ld, was %d", i, syscall(SYS_gettid), slots[i].tid),
		       false;
	if (tls_value != 0x7100 + i)
		return snprintf(why, len, "worker %d: TLS value 0x%lx", i, (unsigned long)tls_value), false;
	snprintf(name, sizeof(name), "tls-text-%c", (char)('0' + i));
	if (strcmp(tls_text, name))
		return snprintf(why, len, "worker %d: TLS text '%s'", i, tls_text), false;
	mask_of(i, &want);
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	for (int sig = 1; sig < 65; sig++)
		if (sigismember(&want, sig) != sigismember(&cur, sig))
			return snprintf(why, len, "worker %d: signal %d %s blocked", i, sig,
					sigismember(&cur, sig) ? "is" : "is not"),
			       false;
	name_of(i, name, sizeof(name));
	prctl(PR_GET_NAME, got);
	if (strcmp(got, name))
		return snprintf(why, len, "worker %d is named '%s', was '%s'", i, got, name), false;
	if (sum != (double)n * (0.25 * (i + 1)))
		return snprintf(why, len, "worker %d: floating-point sum %f after %lu steps", i, sum, (unsigned long)n),
		       false;
	return true;
}

static void *worker(void *arg)
{
	int i = (int)(intptr_t)arg;
	sigset_t mask;
	char name[16];
	double sum = 0;
	uint64_t n = 0;

	tls_value = 0x7100 + i;
	snprintf(tls_text, sizeof(tls_text), "tls-text-%c", (char)('0' + i));
	mask_of(i, &mask);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	name_of(i, name, sizeof(name));
	pthread_setname_np(pthread_self(), name);
	slots[i].tid = syscall(SYS_gettid);
	slots[i].ready = 1;
	for (;;) {
		if (check_now && !slots[i].verdict) {
			bool ok = thread_state_ok(i, sum, n, slots[i].why, sizeof(slots[i].why));
			slots[i].verdict = ok ? 1 : 2;
		}
		sum += 0.25 * (i + 1);
		n++;
		slots[i].count = n;
		wl_sleep_us(1000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[N];
	uint64_t before[N];

	wl_init(argc, argv);
	WL_SETUP(prctl(PR_SET_NAME, "wl-threads-main") == 0, "PR_SET_NAME");
	for (int i = 0; i < N; i++)
		WL_SETUP(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) == 0, "pthread_create");
	for (int i = 0; i < N; i++)
		WL_SETUP(WL_WAIT_FOR(slots[i].ready && slots[i].count > 10, 10000), "worker start");
	wl_ready();
	wl_wait();

	for (int i = 0; i < N; i++)
		before[i] = slots[i].count;
	for (int i = 0; i < N; i++)
		WL_CHECK(WL_WAIT_FOR(slots[i].count > before[i] + 10, 10000), "worker %d stopped counting at %lu", i,
			 (unsigned long)slots[i].count);

	check_now = 1;
	for (int i = 0; i < N; i++) {
		WL_CHECK(WL_WAIT_FOR(slots[i].verdict != 0, 10000), "worker %d never checked itself", i);
		WL_CHECK(slots[i].verdict == 1, "%s", slots[i].why);
	}

	char path[64], comm[32], name[16];
	WL_CHECK(wl_read_file("/proc/self/comm", comm, sizeof(comm)) > 0, "cannot read /proc/self/comm");
	WL_CHECK(!strcmp(comm, "wl-threads-main\n"), "main thread is named '%.*s', was 'wl-threads-main'",
		 (int)strcspn(comm, "\n"), comm);
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", slots[i].tid);
		WL_CHECK(wl_read_file(path, comm, sizeof(comm)) > 0, "thread %d is gone", slots[i].tid);
		comm[strcspn(comm, "\n")] = '\0';
		name_of(i, name, sizeof(name));
		WL_CHECK(!strcmp(comm, name), "%s reads '%s', was '%s'", path, comm, name);
	}
	wl_pass();
}
