/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scheduling policies per thread: the main thread SCHED_RR priority 3
 * with the reset-on-fork flag, a second thread SCHED_FIFO priority 5 (its
 * nice value 4 kept aside by the kernel), a third SCHED_IDLE.  Each keeps
 * its policy, flag, priority and nice value across a checkpoint.  Nothing
 * here spins: real-time threads that never sleep could starve the machine.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "wl.h"

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

static volatile pid_t tids[2];

static void *fifo_thread(void *arg)
{
	struct sched_param sp = { .sched_priority = 5 };

	(void)arg;
	if (setpriority(PRIO_PROCESS, 0, 4) == 0 && sched_setscheduler(0, SCHED_FIFO, &sp) == 0)
		tids[0] = (pid_t)syscall(SYS_gettid);
	else
		tids[0] = -1;
	for (;;)
		pause();
	return NULL;
}

static void *idle_thread(void *arg)
{
	struct sched_param sp = { .sched_priority = 0 };

	(void)arg;
	tids[1] = sched_setscheduler(0, SCHED_IDLE, &sp) == 0 ? (pid_t)syscall(SYS_gettid) : -1;
	for (;;)
		pause();
	return NULL;
}

static void check_thread(pid_t tid, int policy, int prio, int nice, const char *what)
{
	struct sched_param sp = {};

	int got = sched_getscheduler(tid);
	WL_CHECK(got == policy, "%s (thread %d): policy 0x%x, was 0x%x", what, tid, got, policy);
	WL_CHECK(sched_getparam(tid, &sp) == 0 && sp.sched_priority == prio, "%s: priority %d, was %d", what,
		 sp.sched_priority, prio);
	errno = 0;
	int n = getpriority(PRIO_PROCESS, tid);
	WL_CHECK(!errno && n == nice, "%s: nice %d, was %d", what, n, nice);
}

int main(int argc, char **argv)
{
	struct sched_param sp = { .sched_priority = 3 };
	pthread_t th;

	wl_init(argc, argv);
	WL_SETUP(pthread_create(&th, NULL, fifo_thread, NULL) == 0, "the SCHED_FIFO thread");
	WL_SETUP(pthread_create(&th, NULL, idle_thread, NULL) == 0, "the SCHED_IDLE thread");
	while (!tids[0] || !tids[1])
		wl_sleep_us(1000);
	errno = EPERM;
	WL_SETUP(tids[0] > 0 && tids[1] > 0, "real-time and idle policies in the threads");
	WL_SETUP(sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &sp) == 0, "SCHED_RR with reset-on-fork");

	wl_ready();
	wl_wait();

	check_thread(getpid(), SCHED_RR | SCHED_RESET_ON_FORK, 3, 0, "main thread");
	check_thread(tids[0], SCHED_FIFO, 5, 4, "FIFO thread");
	check_thread(tids[1], SCHED_IDLE, 0, 0, "idle thread");
	wl_pass();
}
