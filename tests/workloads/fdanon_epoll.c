/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * epoll, at fixed numbers:
 *
 *   10/11  pipe A (read/write)      12/13  pipe B      14  eventfd (0)
 *   16/17  pipe C, watched as 15 (dup'ed to 16, 15 closed)
 *   20  epoll "inner", close-on-exec:
 *         10  EPOLLIN                   data 0xdeadbeefcafe
 *         12  EPOLLIN | EPOLLET         data 42
 *         14  EPOLLIN                   data 7
 *         13  EPOLLOUT | EPOLLONESHOT   data 99, fired once already
 *         15  EPOLLIN                   data 0x1515 (the file now at 16)
 *   21  epoll "outer", O_NONBLOCK: 20 EPOLLIN data 0x55
 *   22  epoll of the other kinds, each EPOLLIN, data its fd number:
 *         30 a disarmed timerfd, 31 a signalfd of SIGUSR2 (blocked),
 *         32 an inotify watching ./ep for IN_CREATE
 *
 * After restore: nothing is ready (the one-shot watch stays disarmed);
 * data written to A, B, C or the eventfd is reported with the right data
 * and events, once each; the outer epoll reports the inner one; arming
 * the timer, sending SIGUSR2 and creating a file are reported by 22.
 */
#include <inttypes.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>

#include "fdanon_wl.h"

static void add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		wl_fail("epoll_ctl ADD %d: %s", fd, strerror(errno));
}

static void mkpipe(int rd, int wr)
{
	int p[2];

	WL_SYS(pipe2(p, O_NONBLOCK));
	/* p[] may already be at rd/wr's numbers in the other order. */
	int r = WL_SYS(fcntl(p[0], F_DUPFD, 100)), w = WL_SYS(fcntl(p[1], F_DUPFD, 100));
	close(p[0]);
	close(p[1]);
	wl_at(r, rd);
	wl_at(w, wr);
}

/* Exactly one event, with @data and @events among its bits. */
static void expect_one(int ep, uint64_t data, uint32_t events, const char *what)
{
	struct epoll_event ev[8];
	int n = epoll_wait(ep, ev, 8, 1000);

	WL_CHECK(n == 1, "%s: epoll_wait gave %d events, not 1", what, n);
	WL_CHECK(ev[0].data.u64 == data, "%s: data 0x%" PRIx64 ", not 0x%" PRIx64, what, (uint64_t)ev[0].data.u64,
		 data);
	WL_CHECK((ev[0].events & events) == events, "%s: events 0x%x", what, ev[0].events);
}

static void expect_none(int ep, const char *what)
{
	struct epoll_event ev[8];
	int n = epoll_wait(ep, ev, 8, 0);

	WL_CHECK(n == 0, "%s: %d events ready (first data 0x%" PRIx64 ")", what, n,
		 n > 0 ? (uint64_t)ev[0].data.u64 : 0);
}

static void drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int main(int argc, char **argv)
{
	struct epoll_event ev[8];
	uint64_t one = 1;

	wl_init(argc, argv);
	mkpipe(10, 11);
	mkpipe(12, 13);
	wl_at(WL_SYS(eventfd(0, EFD_NONBLOCK)), 14);
	mkpipe(15, 17);
	int in = wl_at(WL_SYS(epoll_create1(EPOLL_CLOEXEC)), 20);
	int out = wl_at(WL_SYS(epoll_create1(0)), 21);
	WL_SYS(fcntl(out, F_SETFL, O_NONBLOCK));

	add(in, 10, EPOLLIN, 0xdeadbeefcafeull);
	add(in, 12, EPOLLIN | EPOLLET, 42);
	add(in, 14, EPOLLIN, 7);
	add(in, 13, EPOLLOUT | EPOLLONESHOT, 99);
	add(in, 15, EPOLLIN, 0x1515);
	WL_SYS(dup2(15, 16));
	close(15);
	add(out, in, EPOLLIN, 0x55);
	int kinds = wl_at(WL_SYS(epoll_create1(0)), 22);
	wl_at(WL_SYS(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)), 30);
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	WL_SYS(sigprocmask(SIG_BLOCK, &usr2, NULL));
	wl_at(WL_SYS(signalfd(-1, &usr2, SFD_NONBLOCK)), 31);
	wl_at(WL_SYS(inotify_init1(IN_NONBLOCK)), 32);
	if (mkdir("ep", 0755) < 0 && errno != EEXIST)
		wl_fail("mkdir ep: %s", strerror(errno));
	WL_SYS(inotify_add_watch(32, "ep", IN_CREATE));
	for (int fd = 30; fd <= 32; fd++)
		add(kinds, fd, EPOLLIN, fd);
	/* Fire the one-shot watch: it stays registered but disarmed. */
	WL_CHECK(epoll_wait(in, ev, 8, 1000) == 1 && ev[0].data.u64 == 99, "setup: the one-shot watch did not fire");

	wl_ready(argv[1]);
	wl_wait();

	WL_CHECK(fcntl(20, F_GETFD) & FD_CLOEXEC, "inner epoll lost close-on-exec");
	WL_CHECK(fcntl(21, F_GETFL) & O_NONBLOCK, "outer epoll lost O_NONBLOCK");
	expect_none(in, "after restore");
	expect_none(out, "outer, after restore");

	WL_SYS(write(11, "a", 1));
	expect_one(out, 0x55, EPOLLIN, "outer, pipe A written");
	expect_one(in, 0xdeadbeefcafeull, EPOLLIN, "pipe A written");
	drain(10);
	expect_none(in, "pipe A drained");

	WL_SYS(write(13, "b", 1));
	expect_one(in, 42, EPOLLIN, "pipe B written (edge)");
	expect_none(in, "pipe B, edge reported once");
	drain(12);

	WL_SYS(write(14, &one, sizeof(one)));
	expect_one(in, 7, EPOLLIN, "eventfd written");
	WL_SYS(read(14, &one, sizeof(one)));

	WL_SYS(write(17, "c", 1));
	expect_one(in, 0x1515, EPOLLIN, "pipe C written (watched as closed fd 15)");
	drain(16);
	expect_none(in, "all drained");

	/* The one-shot watch is there, disarmed: MOD re-arms it. */
	struct epoll_event mod = { .events = EPOLLOUT | EPOLLONESHOT, .data.u64 = 100 };
	WL_CHECK(epoll_ctl(in, EPOLL_CTL_MOD, 13, &mod) == 0, "one-shot watch on 13 is gone: %s", strerror(errno));
	expect_one(in, 100, EPOLLOUT, "one-shot re-armed");

	expect_none(kinds, "other kinds, after restore");
	struct itimerspec its = { .it_value = { 0, 50000000 } };
	WL_SYS(timerfd_settime(30, 0, &its, NULL));
	expect_one(kinds, 30, EPOLLIN, "timerfd armed");
	WL_SYS(read(30, &one, sizeof(one)));
	kill(getpid(), SIGUSR2);
	expect_one(kinds, 31, EPOLLIN, "SIGUSR2 sent");
	struct signalfd_siginfo si;
	WL_SYS(read(31, &si, sizeof(si)));
	int fd = WL_SYS(open("ep/created", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	close(fd);
	expect_one(kinds, 32, EPOLLIN, "file created");
	wl_pass();
}
