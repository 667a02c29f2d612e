/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signalfds, at fixed numbers, with their signals blocked:
 *
 *   10  {SIGUSR2, SIGRTMIN+2}, O_NONBLOCK, close-on-exec; SIGRTMIN+2 is
 *       pending (queued with value 77) when the task is dumped
 *   11  {SIGHUP}, blocking
 *   12  dup of 10
 *
 * After restore: the flags and masks are the same; 10 first reads the
 * pending SIGRTMIN+2 with its value, then a SIGUSR2 sent after restore;
 * 11 reads a SIGHUP sent after restore and ignores SIGUSR2.
 */
#include <linux/kcmp.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>

#include "fdanon_wl.h"

static int read_sig(int fd, struct signalfd_siginfo *si)
{
	ssize_t n = read(fd, si, sizeof(*si));

	if (n == sizeof(*si))
		return si->ssi_signo;
	return n < 0 ? -errno : -EIO;
}

int main(int argc, char **argv)
{
	struct signalfd_siginfo si;
	sigset_t a, b, all;
	char buf[64];
	int s;

	wl_init(argc, argv);
	sigemptyset(&a);
	sigaddset(&a, SIGUSR2);
	sigaddset(&a, SIGRTMIN + 2);
	sigemptyset(&b);
	sigaddset(&b, SIGHUP);
	all = a;
	sigaddset(&all, SIGHUP);
	WL_SYS(sigprocmask(SIG_BLOCK, &all, NULL));
	wl_at(WL_SYS(signalfd(-1, &a, SFD_NONBLOCK | SFD_CLOEXEC)), 10);
	wl_at(WL_SYS(signalfd(-1, &b, 0)), 11);
	WL_SYS(dup2(10, 12));
	WL_SYS(sigqueue(getpid(), SIGRTMIN + 2, (union sigval){ .sival_int = 77 }));

	/* The masks as fdinfo shows them, to compare after restore. */
	char mask10[64], mask11[64];
	wl_fdinfo(10, "sigmask", mask10, sizeof(mask10));
	wl_fdinfo(11, "sigmask", mask11, sizeof(mask11));
	WL_CHECK(mask10[0] && mask11[0], "setup: no sigmask in fdinfo");

	wl_ready(argv[1]);
	wl_wait();

	WL_CHECK(fcntl(10, F_GETFL) & O_NONBLOCK, "fd 10 lost O_NONBLOCK");
	WL_CHECK(fcntl(10, F_GETFD) & FD_CLOEXEC, "fd 10 lost close-on-exec");
	WL_CHECK(!(fcntl(11, F_GETFL) & O_NONBLOCK), "fd 11 became O_NONBLOCK");
	WL_CHECK(syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, 10, 12) == 0, "fds 10 and 12 are not one file");
	WL_CHECK(!strcmp(wl_fdinfo(10, "sigmask", buf, sizeof(buf)), mask10), "fd 10 mask %s, was %s", buf, mask10);
	WL_CHECK(!strcmp(wl_fdinfo(11, "sigmask", buf, sizeof(buf)), mask11), "fd 11 mask %s, was %s", buf, mask11);

	s = read_sig(12, &si);
	WL_CHECK(s == SIGRTMIN + 2, "fd 12 read %d, not the pending SIGRTMIN+2", s);
	WL_CHECK(si.ssi_int == 77, "SIGRTMIN+2 came with value %d, not 77", si.ssi_int);
	s = read_sig(10, &si);
	WL_CHECK(s == -EAGAIN, "fd 10 read %d with nothing pending", s);

	kill(getpid(), SIGUSR2);
	struct pollfd p[2] = { { .fd = 10, .events = POLLIN }, { .fd = 11, .events = POLLIN } };
	WL_CHECK(poll(p, 2, 1000) == 1 && (p[0].revents & POLLIN), "SIGUSR2 did not make fd 10 (only) readable");
	s = read_sig(10, &si);
	WL_CHECK(s == SIGUSR2 && si.ssi_pid == (uint32_t)getpid(), "fd 10 read %d, not SIGUSR2 from us", s);

	kill(getpid(), SIGHUP);
	WL_CHECK(poll(&p[1], 1, 1000) == 1, "SIGHUP did not make fd 11 readable");
	s = read_sig(11, &si);
	WL_CHECK(s == SIGHUP, "fd 11 read %d, not SIGHUP", s);
	wl_pass();
}
