/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Seccomp filters shared by every thread, then synchronized after restore.
 * The task sets no_new_privs and starts thread T1; the main thread installs
 * filter A for both at once (SECCOMP_FILTER_FLAG_TSYNC): getpriority()
 * fails with ENOMSG.  Thread T2, started after, inherits A.
 *
 * After restore the main thread installs filter C with TSYNC (getcpu()
 * fails with ERANGE).  The kernel allows that only where every thread's
 * filters are an ancestor of the caller's: A must still be one filter the
 * three threads share, not three equal copies.  Then every thread must be
 * held to both A and C, and its status count two filters.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "wl.h"

#define N_THREADS 2

struct worker {
	pthread_t th;
	volatile pid_t tid;
	volatile int go, done;
	volatile int prio_errno, getcpu_errno;
};

static struct worker workers[N_THREADS];

#define RULE_ERRNO(nr, err) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err))

static struct sock_filter filter_a[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	RULE_ERRNO(__NR_getpriority, ENOMSG),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

static struct sock_filter filter_c[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	RULE_ERRNO(__NR_getcpu, ERANGE),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

/* seccomp(2)'s result: 0, -1, or with TSYNC the tid of a thread it could
 * not synchronize. */
static long install(struct sock_filter *f, size_t n, unsigned int flags)
{
	struct sock_fprog prog = { (unsigned short)n, f };

	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

static int errno_of(long r)
{
	return r < 0 ? errno : 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->tid = syscall(SYS_gettid);
	for (;;) {
		while (!w->go)
			wl_sleep_us(1000);
		w->prio_errno = errno_of(syscall(SYS_getpriority, PRIO_PROCESS, 0));
		w->getcpu_errno = errno_of(syscall(SYS_getcpu, NULL, NULL, NULL));
		w->go = 0;
		w->done = 1;
	}
	return NULL;
}

static void start_worker(struct worker *w)
{
	WL_SETUP(pthread_create(&w->th, NULL, worker_main, w) == 0, "thread");
	while (!w->tid)
		wl_sleep_us(1000);
}

/* The Seccomp_filters count of thread @tid. */
static int filter_count(pid_t tid)
{
	static char buf[4096];
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	if (wl_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	char *p = strstr(buf, "Seccomp_filters:");
	return p ? atoi(p + strlen("Seccomp_filters:")) : -1;
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);
	WL_SETUP(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "no_new_privs");
	start_worker(&workers[0]);
	WL_SETUP(install(filter_a, sizeof(filter_a) / sizeof(filter_a[0]), SECCOMP_FILTER_FLAG_TSYNC) == 0,
		 "filter A with TSYNC");
	start_worker(&workers[1]);
	WL_SETUP(filter_count(syscall(SYS_gettid)) == 1, "main thread has one filter");

	wl_ready();
	wl_wait();

	long r = install(filter_c, sizeof(filter_c) / sizeof(filter_c[0]), SECCOMP_FILTER_FLAG_TSYNC);
	WL_CHECK(r == 0, "TSYNC of filter C: %ld (%s): a thread's filters are no longer the main thread's", r,
		 r < 0 ? strerror(errno) : "the tid of the thread that differs");
	WL_CHECK(syscall(SYS_getpriority, PRIO_PROCESS, 0) == -1 && errno == ENOMSG, "main thread: A no longer holds");
	WL_CHECK(syscall(SYS_getcpu, NULL, NULL, NULL) == -1 && errno == ERANGE, "main thread: C does not hold");
	WL_CHECK(filter_count(syscall(SYS_gettid)) == 2, "main thread: %d filters, not 2",
		 filter_count(syscall(SYS_gettid)));
	for (int i = 0; i < N_THREADS; i++) {
		struct worker *w = &workers[i];
		w->done = 0;
		w->go = 1;
		WL_CHECK(WL_WAIT_FOR(w->done, 10000), "thread %d does not answer", w->tid);
		WL_CHECK(w->prio_errno == ENOMSG, "thread %d: getpriority gave errno %d, not ENOMSG (A)", w->tid,
			 w->prio_errno);
		WL_CHECK(w->getcpu_errno == ERANGE, "thread %d: getcpu gave errno %d, not ERANGE (C, synchronized)",
			 w->tid, w->getcpu_errno);
		WL_CHECK(filter_count(w->tid) == 2, "thread %d: %d filters, not 2", w->tid, filter_count(w->tid));
	}
	wl_pass();
}
