/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * eventfds, at fixed numbers:
 *
 *   10  counter 0x100000005 (over 32 bits), O_NONBLOCK     11  dup of 10
 *   12  EFD_SEMAPHORE, counter 3, O_NONBLOCK, close-on-exec
 *   13  counter 0, blocking
 *   14  counter 40, shared with a child (which has it at 14 too)
 *   15  "go" eventfd for the child, shared
 *
 * After restore: the counters read back, the semaphore hands out ones, the
 * flags are the same, 10 and 11 are one file, and the child's eventfd is
 * still the parent's: the child adds 2 when told to, the parent reads 42.
 */
#include <linux/kcmp.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "fdanon_wl.h"

static void child(void)
{
	uint64_t v;

	/* Until the parent says go (after restore), then add 2 to fd 14. */
	for (;;) {
		if (read(15, &v, sizeof(v)) == sizeof(v))
			break;
		usleep(10000);
	}
	v = 2;
	_exit(write(14, &v, sizeof(v)) == sizeof(v) ? 0 : 1);
}

static uint64_t must_read(int fd, const char *what)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		wl_fail("%s: read: %s", what, strerror(errno));
	return v;
}

static bool would_block(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

int main(int argc, char **argv)
{
	uint64_t v;
	int st;

	wl_init(argc, argv);
	int a = wl_at(WL_SYS(eventfd(0, EFD_NONBLOCK)), 10);
	v = 0x100000005ull;
	WL_SYS(write(a, &v, sizeof(v)));
	WL_SYS(dup2(a, 11));
	wl_at(WL_SYS(eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC)), 12);
	wl_at(WL_SYS(eventfd(0, 0)), 13);
	wl_at(WL_SYS(eventfd(40, EFD_NONBLOCK)), 14);
	wl_at(WL_SYS(eventfd(0, EFD_NONBLOCK)), 15);
	pid_t pid = WL_SYS(fork());
	if (pid == 0)
		child();

	wl_ready(argv[1]);
	wl_wait();

	/* flags */
	WL_CHECK(fcntl(10, F_GETFL) & O_NONBLOCK, "fd 10 lost O_NONBLOCK");
	WL_CHECK((fcntl(10, F_GETFL) & O_ACCMODE) == O_RDWR, "fd 10 is not O_RDWR");
	WL_CHECK(!(fcntl(10, F_GETFD) & FD_CLOEXEC), "fd 10 became close-on-exec");
	WL_CHECK(fcntl(12, F_GETFD) & FD_CLOEXEC, "fd 12 lost close-on-exec");
	WL_CHECK(!(fcntl(13, F_GETFL) & O_NONBLOCK), "fd 13 became O_NONBLOCK");
	WL_CHECK(syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, 10, 11) == 0, "fds 10 and 11 are not one file");

	/* counters */
	v = must_read(11, "fd 11");
	WL_CHECK(v == 0x100000005ull, "fd 10 counter is 0x%llx, not 0x100000005", (unsigned long long)v);
	WL_CHECK(read(10, &v, sizeof(v)) < 0 && errno == EAGAIN, "fd 10 still readable after its counter was read");
	for (int i = 0; i < 3; i++) {
		v = must_read(12, "semaphore fd 12");
		WL_CHECK(v == 1, "semaphore read %d gave %llu, not 1 (EFD_SEMAPHORE lost?)", i, (unsigned long long)v);
	}
	WL_CHECK(read(12, &v, sizeof(v)) < 0 && errno == EAGAIN, "semaphore fd 12 gave more than 3");
	WL_CHECK(would_block(13), "fd 13 (counter 0) is readable");
	v = 9;
	WL_SYS(write(13, &v, sizeof(v)));
	WL_CHECK(must_read(13, "fd 13") == 9, "fd 13 does not count");

	/* shared with the child */
	v = 1;
	WL_SYS(write(15, &v, sizeof(v)));
	WL_SYS(waitpid(pid, &st, 0));
	WL_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child failed (status 0x%x)", st);
	v = must_read(14, "fd 14");
	WL_CHECK(v == 42, "shared fd 14 reads %llu, not 40 + the child's 2", (unsigned long long)v);
	wl_pass();
}
