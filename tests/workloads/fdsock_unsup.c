// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Something a dump must refuse, chosen by FDSOCK_MODE, kept on fd 10:
 *
 *   outside  a unix stream socket whose peer is held by a process outside
 *            the tree (its pid goes to helper.pid beside READY);
 *   inet     an established TCP connection on loopback (both ends here);
 *   corked   a UDP socket corked (UDP_CORK) with a datagram held back;
 *   pending  a TCP listener with a connection not yet accepted (the client
 *            end is closed: only the listener is in the tree);
 *   scm      a unix socket with a file of a kind ocicr cannot dump (a
 *            userfaultfd) queued on it (SCM_RIGHTS);
 *   lock     a flock()ed file (refused without --file-locks).
 *
 * The refused dump must leave the workload running as it was: on SIGUSR1
 * it checks that the socket still works, or that the lock is still held.
 */
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "fdsock_wl.h"

#define KEPT_FD 10

static void put(int fd)
{
	WL_SETUP(dup2(fd, KEPT_FD) == KEPT_FD, "dup2");
	close(fd);
}

/* A TCP listener on a loopback port of the kernel's choice, and a client
 * connected to it (not accepted yet). */
static void loopback_connect(int *l, int *c)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);

	*l = socket(AF_INET, SOCK_STREAM, 0);
	*c = socket(AF_INET, SOCK_STREAM, 0);
	WL_SETUP(*l >= 0 && *c >= 0 && bind(*l, (struct sockaddr *)&sin, sizeof(sin)) == 0 && listen(*l, 4) == 0 &&
			 getsockname(*l, (struct sockaddr *)&sin, &len) == 0 &&
			 connect(*c, (struct sockaddr *)&sin, sizeof(sin)) == 0,
		 "TCP connection on loopback");
}

int main(int argc, char **argv)
{
	const char *mode = getenv("FDSOCK_MODE") ? getenv("FDSOCK_MODE") : "";
	char dir[PATH_MAX], ready[PATH_MAX], path[PATH_MAX + 32];
	int sv[2], other = -1;

	wl_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	snprintf(ready, sizeof(ready), "%s", argv[1]);
	snprintf(dir, sizeof(dir), "%s", dirname(ready));

	if (!strcmp(mode, "outside")) {
		WL_SETUP(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
		pid_t pid = fork();
		WL_SETUP(pid >= 0, "fork");
		if (pid == 0) {
			/* The grandchild is orphaned: reparented out of the tree. */
			if (fork() != 0)
				_exit(0);
			setsid();
			close(sv[0]);
			snprintf(path, sizeof(path), "%s/helper.pid", dir);
			char buf[32];
			snprintf(buf, sizeof(buf), "%d\n", getpid());
			wl_write_file(path, buf);
			for (;;) {
				char c;
				if (read(sv[1], &c, 1) != 1)
					_exit(0);
				if (write(sv[1], &c, 1) != 1)
					_exit(0);
			}
		}
		waitpid(pid, NULL, 0);
		close(sv[1]);
		put(sv[0]);
	} else if (!strcmp(mode, "inet")) {
		int l, c;
		loopback_connect(&l, &c);
		int acc = accept(l, NULL, NULL);
		/* Above fd 10, so the dump meets the client end first. */
		WL_SETUP(acc >= 0 && (other = dup2(acc, KEPT_FD + 1)) == KEPT_FD + 1, "accept");
		close(acc);
		close(l);
		put(c);
	} else if (!strcmp(mode, "pending")) {
		int l, c;
		loopback_connect(&l, &c);
		close(c);
		put(l);
	} else if (!strcmp(mode, "corked")) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int fd = socket(AF_INET, SOCK_DGRAM, 0), on = 1;
		socklen_t alen = sizeof(a);
		WL_SETUP(fd >= 0 && bind(fd, (void *)&a, sizeof(a)) == 0 && getsockname(fd, (void *)&a, &alen) == 0,
			 "UDP socket"); /* sent to itself */
		WL_SETUP(setsockopt(fd, SOL_UDP, UDP_CORK, &on, sizeof(on)) == 0, "UDP_CORK");
		WL_SETUP(sendto(fd, "held", 4, 0, (void *)&a, sizeof(a)) == 4, "send corked");
		put(fd);
	} else if (!strcmp(mode, "scm")) {
		WL_SETUP(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair");
		int passed = syscall(SYS_userfaultfd, O_CLOEXEC);
		WL_SETUP(passed >= 0, "userfaultfd");
		char cbuf[CMSG_SPACE(sizeof(int))] = {};
		struct iovec iov = { "x", 1 };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)
		};
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &passed, sizeof(int));
		WL_SETUP(sendmsg(sv[1], &msg, 0) == 1, "sendmsg SCM_RIGHTS");
		close(passed);
		put(sv[0]);
		other = sv[1];
	} else if (!strcmp(mode, "lock")) {
		snprintf(path, sizeof(path), "%s/unsup-lock-%d", dir, getpid());
		int fd = open(path, O_RDWR | O_CREAT, 0600);
		WL_SETUP(fd >= 0 && flock(fd, LOCK_EX) == 0, "flock");
		put(fd);
	} else {
		errno = EINVAL;
		WL_SETUP(false, "FDSOCK_MODE is outside, inet, scm or lock");
	}

	wl_ready(argv);
	wl_wait_usr1();

	if (!strcmp(mode, "outside")) {
		char c = 0;
		WL_CHECK(write(KEPT_FD, "e", 1) == 1 && read(KEPT_FD, &c, 1) == 1 && c == 'e',
			 "the outside peer does not echo any more");
	} else if (!strcmp(mode, "inet")) {
		char c = 0;
		WL_CHECK(write(KEPT_FD, "t", 1) == 1 && read(other, &c, 1) == 1 && c == 't',
			 "the TCP connection no longer carries data");
	} else if (!strcmp(mode, "pending")) {
		int acc = accept(KEPT_FD, NULL, NULL);
		WL_CHECK(acc >= 0, "the waiting connection is gone: %s", strerror(errno));
	} else if (!strcmp(mode, "corked")) {
		int v = 0;
		socklen_t len = sizeof(v);
		WL_CHECK(getsockopt(KEPT_FD, SOL_UDP, UDP_CORK, &v, &len) == 0 && v == 1,
			 "the socket is no longer corked");
	} else if (!strcmp(mode, "scm")) {
		char buf[4];
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)
		};
		WL_CHECK(recvmsg(KEPT_FD, &msg, MSG_DONTWAIT) == 1, "the queued message is gone");
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		WL_CHECK(c && c->cmsg_type == SCM_RIGHTS, "the queued file descriptor is gone");
		WL_CHECK(recv(KEPT_FD, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN,
			 "the queue has more than was sent (the dump's peek left copies?)");
		WL_CHECK(send(other, "y", 1, 0) == 1 && recv(KEPT_FD, buf, 1, MSG_DONTWAIT) == 1 && buf[0] == 'y',
			 "the socket pair no longer works (peek offset left changed?)");
	} else {
		int fd = open(path, O_RDWR);
		WL_CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK,
			 "the flock is no longer held");
		unlink(path);
	}
	return wl_finish();
}
