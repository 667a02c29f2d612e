/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A process whose main thread has exited (pthread_exit) while a second
 * thread runs on.  The main thread is then a zombie, but the process is
 * not: a dump must refuse it as such, not as a zombie process, and leave
 * the thread running.  The thread reports ready once the main thread is
 * gone and passes when SIGUSR1 comes.
 */
#include <pthread.h>

#include "wl.h"

static void *survivor(void *arg)
{
	pid_t pid = getpid();

	(void)arg;
	while (wl_proc_state(pid, NULL) != 'Z')
		wl_sleep_us(1000);
	wl_ready();
	wl_wait_tick(NULL);
	WL_CHECK(wl_proc_state(pid, NULL) == 'Z', "the main thread is back");
	wl_pass();
}

int main(int argc, char **argv)
{
	pthread_t th;

	wl_init(argc, argv);
	WL_SETUP(pthread_create(&th, NULL, survivor, NULL) == 0, "pthread_create");
	pthread_exit(NULL);
}
