// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Leases (F_SETLEASE): fd 10 holds a read lease on lease-r (opened
 * read-only), fd 11 a write lease on lease-w (read-write), fd 12 none on
 * lease-n; fd 13 holds a write lease on lease-b that an open for reading
 * is breaking (to a read lease), its break signal SIGRTMIN+3 handled
 * before the dump.  Fd 14, on lease-c, is only our child's: we took a
 * write lease through it (with signal SIGRTMIN+4, so we own it), forked,
 * closed ours, and an open for writing is breaking it (to none).  After
 * restore each has the lease it had (fd 13's still being broken to a read
 * lease, the child's fd 14 to none), and no break signal came again.
 */
#include <sys/wait.h>

#include "wl.h"

static volatile sig_atomic_t breaks, bad_fd, child_checks;

static void on_break(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	breaks++;
	if (si->si_fd != (sig == SIGRTMIN + 3 ? 13 : 14))
		bad_fd = si->si_fd;
}

static void on_usr2(int sig)
{
	(void)sig;
	child_checks = 1;
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
	WL_SETUP(sigaction(SIGRTMIN + 4, &sa, NULL) == 0, "sigaction");
	open_at("lease-c", O_RDWR, 14);
	WL_SETUP(fcntl(14, F_SETSIG, SIGRTMIN + 4) == 0 && fcntl(14, F_SETLEASE, F_WRLCK) == 0, "child's lease");
	signal(SIGUSR2, on_usr2);
	pid_t child = fork();
	if (child == 0) {
		while (!child_checks)
			pause();
		_exit(fcntl(14, F_GETLEASE) == F_UNLCK ? 0 : 1);
	}
	WL_SETUP(child > 0, "fork");
	close(14);
	wl_path(path, sizeof(path), "lease-c");
	WL_SETUP(open(path, O_WRONLY | O_NONBLOCK) < 0 && errno == EWOULDBLOCK, "breaking open of lease-c");
	WL_SETUP(WL_WAIT_FOR(breaks == 2, 5000), "the break signal of lease-c");

	wl_ready();
	wl_wait();

	check_lease(10, F_RDLCK);
	check_lease(11, F_WRLCK);
	check_lease(12, F_UNLCK);
	check_lease(13, F_RDLCK);
	int st;
	WL_CHECK(kill(child, SIGUSR2) == 0 && waitpid(child, &st, 0) == child, "the child: %s", strerror(errno));
	WL_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child's fd 14 is not being broken to no lease");
	wl_sleep_us(100 * 1000);
	WL_CHECK(breaks == 2 && !bad_fd, "%d break signals in all (fd %d): one came again", (int)breaks, (int)bad_fd);
	wl_pass();
}
