/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Not a workload: the test's terminal emulator, holding a pty master
 * outside the checkpointed tree (as conmon holds a container's console).
 *
 *   ptyhold run DIR PROG ARGS...
 *	PROG runs on a new pty's slave (its stdio and controlling terminal,
 *	a session of its own); its pid goes to DIR/pid.  ptyhold keeps the
 *	master, drains it, and exits once no slave is left open.
 *   ptyhold restore PID FD CMD ARGS...
 *	CMD runs with a new pty's slave as its fd FD (ocicr restore
 *	--inherit-fd fd[FD]:tty[...]); once it succeeded, ptyhold wakes
 *	PID (SIGUSR1), waits for its greeting on the master, answers "ping"
 *	and drains the master until PID is gone.  Prints what the master
 *	read; fails when no greeting came.
 *   ptyhold console SOCKET OUT
 *	A runtime's console socket (runc --console-socket): listens on
 *	SOCKET, takes each master a runtime sends (runc run, then runc
 *	restore) and appends what every master reads to OUT, until killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int new_master(char *slave, size_t size)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || !ptsname(m)) {
		perror("ptyhold: posix_openpt");
		exit(2);
	}
	snprintf(slave, size, "%s", ptsname(m));
	return m;
}

static bool gone(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", pid);
	return access(path, F_OK) < 0;
}

/* Read what the master gets for up to @ms; true once @want was seen. */
static bool drain(int m, const char *want, int ms, pid_t pid, char *seen, size_t *len, size_t cap)
{
	for (int waited = 0; waited < ms; waited += 100) {
		struct pollfd p = { .fd = m, .events = POLLIN };
		if (poll(&p, 1, 100) > 0) {
			ssize_t n = read(m, seen + *len, cap - 1 - *len);
			if (n <= 0)
				return false; /* EIO: no slave open any more */
			*len += n;
			seen[*len] = 0;
			if (want && strstr(seen, want))
				return true;
		} else if (pid > 0 && gone(pid)) {
			break;
		}
	}
	return false;
}

static int run(int argc, char **argv)
{
	char slave[64], path[4096], pid_text[32], out[65536];
	int m = new_master(slave, sizeof(slave));
	pid_t pid = fork();

	if (pid == 0) {
		setsid();
		int s = open(slave, O_RDWR);
		if (s < 0 || ioctl(s, TIOCSCTTY, 0) < 0)
			_exit(2);
		dup2(s, 0), dup2(s, 1), dup2(s, 2);
		if (s > 2)
			close(s);
		execv(argv[3], argv + 3);
		_exit(127);
	}
	snprintf(path, sizeof(path), "%s/pid", argv[2]);
	snprintf(pid_text, sizeof(pid_text), "%d\n", pid);
	FILE *f = fopen(path, "w");
	if (!f || fputs(pid_text, f) < 0 || fclose(f) != 0)
		return 2;
	/* Until the tree is gone (killed by the dump): EIO on the master. */
	while (true) {
		struct pollfd p = { .fd = m, .events = POLLIN };
		if (poll(&p, 1, 1000) > 0 && read(m, out, sizeof(out)) <= 0)
			break;
		waitpid(-1, NULL, WNOHANG);
	}
	waitpid(pid, NULL, 0);
	return 0;
}

static int restore(int argc, char **argv)
{
	char slave[64], seen[65536] = "";
	size_t len = 0;
	pid_t tree = atoi(argv[2]);
	int target = atoi(argv[3]), m = new_master(slave, sizeof(slave)), st;
	int s = open(slave, O_RDWR | O_NOCTTY);
	pid_t pid;

	if (s < 0)
		return 2;
	pid = fork();
	if (pid == 0) {
		dup2(s, target);
		execvp(argv[4], argv + 4);
		_exit(127);
	}
	close(s);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "ptyhold: %s failed (status 0x%x)\n", argv[4], st);
		return 1;
	}
	kill(tree, SIGUSR1);
	bool greeted = drain(m, "hello", 30000, tree, seen, &len, sizeof(seen));
	if (greeted && write(m, "ping\n", 5) != 5)
		greeted = false;
	drain(m, NULL, 30000, tree, seen, &len, sizeof(seen));
	printf("master read: %s\n", seen);
	return greeted ? 0 : 1;
}

/* The fd a runtime sent on @conn (SCM_RIGHTS, the pty's name as data). */
static int recv_master(int conn)
{
	char name[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { name, sizeof(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd = -1;

	if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

static int console(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd p[2] = { { .fd = -1, .events = POLLIN }, { .fd = -1, .events = POLLIN } };
	char buf[4096];
	int out = open(argv[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[2]);
	p[0].fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (out < 0 || p[0].fd < 0 || bind(p[0].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(p[0].fd, 4) < 0) {
		perror("ptyhold: console socket");
		return 2;
	}
	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return 2;
		if (p[0].revents & POLLIN) {
			int conn = accept4(p[0].fd, NULL, NULL, SOCK_CLOEXEC), m = conn < 0 ? -1 : recv_master(conn);
			if (conn >= 0)
				close(conn);
			if (m >= 0) {
				/* A new master replaces one whose slaves are gone. */
				if (p[1].fd >= 0)
					close(p[1].fd);
				p[1].fd = m;
			}
		}
		if (p[1].fd >= 0 && p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(p[1].fd, buf, sizeof(buf));
			if (n > 0 && write(out, buf, n) != n)
				return 2;
			if (n <= 0) {
				close(p[1].fd);
				p[1].fd = -1;
			}
		}
	}
}

int main(int argc, char **argv)
{
	signal(SIGHUP, SIG_IGN);
	if (argc > 3 && !strcmp(argv[1], "run"))
		return run(argc, argv);
	if (argc > 4 && !strcmp(argv[1], "restore"))
		return restore(argc, argv);
	if (argc == 4 && !strcmp(argv[1], "console"))
		return console(argc, argv);
	fprintf(stderr, "usage: ptyhold run DIR PROG ARGS... | ptyhold restore PID FD CMD ARGS... | "
			"ptyhold console SOCKET OUT\n");
	return 2;
}
