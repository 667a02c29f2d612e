/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * timerfds, at fixed numbers:
 *
 *   10  MONOTONIC, one-shot in 30 s
 *   11  MONOTONIC, every 100 ms, O_NONBLOCK
 *   12  MONOTONIC, one-shot that expired before the dump: 1 tick unread
 *   13  REALTIME, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, at now + 60 s
 *   14  BOOTTIME, every hour, first in an hour, close-on-exec
 *   15  MONOTONIC, every 20 ms, not read for 250 ms before the dump
 *   16  MONOTONIC, disarmed
 *
 * After restore: each has its clock, flags and settime flags; 10 has no
 * more than 30 s left and no less than what real time would leave (the
 * time the task was away does not count); 11 keeps firing every 100 ms;
 * 12 reads its one tick, then nothing; 13 is due within 60 s; 14 in an
 * hour; 15 reads at least the 11 periods it missed before the dump.
 */
#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <sys/timerfd.h>

#include "fdanon_wl.h"

static void arm(int fd, int flags, long long value_ms, long long interval_ms)
{
	struct itimerspec its = {
		.it_value = { value_ms / 1000, (value_ms % 1000) * 1000000 },
		.it_interval = { interval_ms / 1000, (interval_ms % 1000) * 1000000 },
	};

	if (timerfd_settime(fd, flags, &its, NULL) < 0)
		wl_fail("timerfd_settime: %s", strerror(errno));
}

static long long left_ms(int fd, long long *interval_ms)
{
	struct itimerspec its;

	if (timerfd_gettime(fd, &its) < 0)
		wl_fail("timerfd_gettime %d: %s", fd, strerror(errno));
	if (interval_ms)
		*interval_ms = its.it_interval.tv_sec * 1000LL + its.it_interval.tv_nsec / 1000000;
	return its.it_value.tv_sec * 1000LL + its.it_value.tv_nsec / 1000000;
}

static uint64_t ticks(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static void expect_fdinfo(int fd, const char *key, const char *want)
{
	char buf[64];

	wl_fdinfo(fd, key, buf, sizeof(buf));
	WL_CHECK(!strcmp(buf, want), "fd %d: %s is \"%s\", not \"%s\"", fd, key, buf, want);
}

int main(int argc, char **argv)
{
	long long iv;

	wl_init(argc, argv);
	long long t0 = wl_now_ms(CLOCK_MONOTONIC);
	arm(wl_at(WL_SYS(timerfd_create(CLOCK_MONOTONIC, 0)), 10), 0, 30000, 0);
	arm(wl_at(WL_SYS(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)), 11), 0, 100, 100);
	arm(wl_at(WL_SYS(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)), 12), 0, 10, 0);
	arm(wl_at(WL_SYS(timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK)), 13),
	    TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, wl_now_ms(CLOCK_REALTIME) + 60000, 0);
	arm(wl_at(WL_SYS(timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC)), 14), 0, 3600000, 3600000);
	arm(wl_at(WL_SYS(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)), 15), 0, 20, 20);
	wl_at(WL_SYS(timerfd_create(CLOCK_MONOTONIC, 0)), 16);
	usleep(250000);

	wl_ready(argv[1]);
	wl_wait();
	long long away = wl_now_ms(CLOCK_MONOTONIC) - t0;

	/* 15 first, before more periods pass */
	uint64_t n = ticks(15);
	WL_CHECK(n >= 11, "fd 15 read %" PRIu64 " expirations, not at least the 11 before the dump", n);

	expect_fdinfo(10, "clockid", "1");
	long long left = left_ms(10, &iv);
	WL_CHECK(left > 0 && left <= 30000, "fd 10 has %lld ms left", left);
	WL_CHECK(left >= 30000 - away - 100, "fd 10 has %lld ms left after %lld ms: the time away counted", left, away);
	WL_CHECK(iv == 0, "fd 10 got an interval");
	WL_CHECK(!(fcntl(10, F_GETFL) & O_NONBLOCK), "fd 10 became O_NONBLOCK");

	/* 11: ticks since restore, then on schedule */
	WL_CHECK(fcntl(11, F_GETFL) & O_NONBLOCK, "fd 11 lost O_NONBLOCK");
	left_ms(11, &iv);
	WL_CHECK(iv == 100, "fd 11 interval %lld ms, not 100", iv);
	ticks(11);
	struct pollfd p = { .fd = 11, .events = POLLIN };
	WL_CHECK(poll(&p, 1, 1000) == 1, "fd 11 did not fire within 1 s");
	long long a = wl_now_ms(CLOCK_MONOTONIC);
	ticks(11);
	WL_CHECK(poll(&p, 1, 1000) == 1, "fd 11 did not fire again within 1 s");
	long long gap = wl_now_ms(CLOCK_MONOTONIC) - a;
	WL_CHECK(gap >= 50 && gap <= 250, "fd 11 fired %lld ms after the previous time, not ~100", gap);

	/* 12: the tick it had, and disarmed */
	n = ticks(12);
	WL_CHECK(n == 1, "fd 12 read %" PRIu64 " ticks, not 1", n);
	WL_CHECK(ticks(12) == 0 && errno == EAGAIN, "fd 12 has more ticks");
	WL_CHECK(left_ms(12, &iv) == 0 && iv == 0, "fd 12 is armed");

	expect_fdinfo(13, "clockid", "0");
	expect_fdinfo(13, "settime flags", "03");
	left = left_ms(13, NULL);
	WL_CHECK(left > 0 && left <= 60000, "fd 13 is due in %lld ms", left);

	expect_fdinfo(14, "clockid", "7");
	WL_CHECK(fcntl(14, F_GETFD) & FD_CLOEXEC, "fd 14 lost close-on-exec");
	left = left_ms(14, &iv);
	WL_CHECK(left > 3500000 && left <= 3600000 && iv == 3600000, "fd 14: %lld ms left, interval %lld", left, iv);

	WL_CHECK(left_ms(16, &iv) == 0 && iv == 0, "fd 16 is armed");
	wl_pass();
}
