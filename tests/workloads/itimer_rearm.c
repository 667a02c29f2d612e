/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ITIMER_REAL armed far ahead with a 2 s interval, and SIGALRM counted.
 * The test zeroes the timer's remaining value in the image, as CRIU writes
 * a timer dumped at the instant it expires: restored, the timer must run
 * on with its interval (armed for at most one interval), not be disarmed.
 */
#include <sys/time.h>

#include "wl.h"

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

int main(int argc, char **argv)
{
	struct itimerval v = { .it_interval = { 2, 0 }, .it_value = { 1000, 0 } };
	struct sigaction sa = { .sa_handler = on_alarm };

	wl_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	WL_SETUP(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
	WL_SETUP(setitimer(ITIMER_REAL, &v, NULL) == 0, "setitimer");
	wl_ready();
	wl_wait();

	WL_CHECK(getitimer(ITIMER_REAL, &v) == 0, "getitimer: %s", strerror(errno));
	WL_CHECK(v.it_interval.tv_sec == 2 && v.it_interval.tv_usec == 0, "interval %ld.%06ld s, was 2 s",
		 (long)v.it_interval.tv_sec, (long)v.it_interval.tv_usec);
	WL_CHECK(v.it_value.tv_sec || v.it_value.tv_usec, "the timer is disarmed");
	WL_CHECK(v.it_value.tv_sec < 2 || (v.it_value.tv_sec == 2 && !v.it_value.tv_usec),
		 "%ld.%06ld s left, more than one interval", (long)v.it_value.tv_sec, (long)v.it_value.tv_usec);
	uint64_t end = wl_now_ms() + 10000;
	while (alarms < 2 && wl_now_ms() < end)
		wl_sleep_us(10000);
	WL_CHECK(alarms >= 2, "%d SIGALRM in 10 s, want 2 or more", (int)alarms);
	wl_pass();
}
