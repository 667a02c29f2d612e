// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Leases (F_SETLEASE): fd 10 holds a read lease on lease-r (opened
 * read-only), fd 11 a write lease on lease-w (read-write), fd 12 none on
 * lease-n; fd 13 holds a write lease on lease-b that an open for reading
 * is breaking (to a read lease), its break signal SIGRTMIN+3 handled
 * before the dump.  After restore each has the lease it had (fd 13's is
 * still being broken to a read lease), and no break signal came again.
 */
#include "wl.h"

static volatile sig_atomic_t breaks, bad_fd;

static void on_break(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	breaks++;
	if (si->si_fd != 13)
		bad_fd = si->si_fd;
}

static void open_at(const char *name, int flags, int fd)
{
	char path[PATH_MAX];

	wl_path(path, sizeof(path), name);
	int f = open(path, flags | O_CREAT, 0600);
	WL_SETUP(f >= 0 && dup2(f, fd) == fd, name);
	close(f);
}

static void check_lease(int fd, int type)
{
	int got = fcntl(fd, F_GETLEASE);

	WL_CHECK(got == type, "fd %d: lease %d, not %d", fd, got, type);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_break, .sa_flags = SA_SIGINFO };
	char path[PATH_MAX];

	wl_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	WL_SETUP(sigaction(SIGRTMIN + 3, &sa, NULL) == 0, "sigaction");
	open_at("lease-r", O_RDONLY, 10);
	open_at("lease-w", O_RDWR, 11);
	open_at("lease-n", O_RDONLY, 12);
	open_at("lease-b", O_RDWR, 13);
	WL_SETUP(fcntl(10, F_SETLEASE, F_RDLCK) == 0, "read lease");
	WL_SETUP(fcntl(11, F_SETLEASE, F_WRLCK) == 0, "write lease");
	WL_SETUP(fcntl(13, F_SETSIG, SIGRTMIN + 3) == 0 && fcntl(13, F_SETLEASE, F_WRLCK) == 0, "lease to break");
	wl_path(path, sizeof(path), "lease-b");
	WL_SETUP(open(path, O_RDONLY | O_NONBLOCK) < 0 && errno == EWOULDBLOCK, "breaking open");
	WL_SETUP(WL_WAIT_FOR(breaks == 1, 5000), "the break signal");

	wl_ready();
	wl_wait();

	check_lease(10, F_RDLCK);
	check_lease(11, F_WRLCK);
	check_lease(12, F_UNLCK);
	check_lease(13, F_RDLCK);
	wl_sleep_us(100 * 1000);
	WL_CHECK(breaks == 1 && !bad_fd, "%d break signals in all (fd %d): one came again", (int)breaks, (int)bad_fd);
	wl_pass();
}
