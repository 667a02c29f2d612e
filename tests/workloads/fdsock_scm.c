// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Files in flight: descriptors passed with SCM_RIGHTS and not yet
 * received, on every kind of unix socket, across a checkpoint.
 *
 *   a datagram pair: a pipe's read end alone (the pipe holds bytes), then
 *     its write end with a file in one message, the sender's copies closed,
 *     then an epoll watching a socket the task holds (added at restore by
 *     the task holding the socket the epoll is queued on);
 *   a seqpacket pair: an eventfd with a count, sent twice in two messages,
 *     then one end of a stream pair with bytes queued on it, whose other
 *     end the task keeps;
 *   a stream pair: a byte with a file the task still holds at fd 20 (the
 *     received one must share its offset), then more bytes (bytes written
 *     before the files would come with them: a peek cannot tell them apart);
 *   a datagram pair whose sender is closed: a pipe's write end.
 *
 * On SIGUSR1 it receives everything and checks data, order and files.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "fdsock_wl.h"

#define KEPT_FD 20

static void send_fds(int sk, const char *data, size_t len, const int *fds, int n)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cbuf;
	struct iovec iov = { (void *)data, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &cbuf };

	memset(&cbuf, 0, sizeof(cbuf));
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	WL_SETUP(sendmsg(sk, &msg, 0) == (ssize_t)len, "sendmsg with SCM_RIGHTS");
}

/* Receive one message: its bytes into @data (NUL-ended), its fds. */
static int recv_fds(int sk, char *data, size_t cap, int *fds, int max)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 8)];
	} cbuf;
	struct iovec iov = { data, cap - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t len = recvmsg(sk, &msg, MSG_DONTWAIT);
	int n = 0;

	if (len < 0)
		return -1;
	data[len] = '\0';
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (int i = 0; i < k && n < max; i++)
			memcpy(&fds[n++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	return n;
}

int main(int argc, char **argv)
{
	int dg[2], sq[2], st[2], orphan[2], p[2], q[2], u[2], two[2], one[1], efd;
	char path[4096], data[256];
	int got[8], n;

	wl_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	snprintf(path, sizeof(path), "%s", argv[1]);
	strcpy(strrchr(path, '/') + 1, "scm-file");

	WL_SETUP(socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) == 0 && socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sq) == 0 &&
			 socketpair(AF_UNIX, SOCK_STREAM, 0, st) == 0 &&
			 socketpair(AF_UNIX, SOCK_DGRAM, 0, orphan) == 0 &&
			 socketpair(AF_UNIX, SOCK_STREAM, 0, u) == 0 && pipe(p) == 0 && pipe(q) == 0,
		 "sockets and pipes");

	/* Datagram: the read end of a pipe with bytes in it, then the
	 * write end with a file, in one message. */
	int file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	WL_SETUP(file >= 0 && write(file, "0123456789", 10) == 10 && lseek(file, 3, SEEK_SET) == 3, "file");
	WL_SETUP(write(p[1], "in the pipe", 11) == 11, "pipe write");
	one[0] = p[0];
	send_fds(dg[0], "first", 5, one, 1);
	two[0] = p[1];
	two[1] = file;
	send_fds(dg[0], "second", 6, two, 2);
	close(p[0]);
	close(p[1]);
	close(file);

	/* Datagram: an epoll watching the orphan's receiving end. */
	int ep = epoll_create1(0);
	struct epoll_event watch = { .events = EPOLLIN, .data.u64 = 0x1234 };
	WL_SETUP(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, orphan[1], &watch) == 0, "epoll");
	one[0] = ep;
	send_fds(dg[0], "ep", 2, one, 1);
	close(ep);

	/* Seqpacket: one eventfd, twice. */
	efd = eventfd(7, 0);
	WL_SETUP(efd >= 0, "eventfd");
	one[0] = efd;
	send_fds(sq[1], "ev-a", 4, one, 1);
	send_fds(sq[1], "ev-b", 4, one, 1);
	close(efd);
	WL_SETUP(write(u[0], "inside", 6) == 6, "write to the socket to send");
	one[0] = u[1];
	send_fds(sq[1], "sock", 4, one, 1);
	close(u[1]);

	/* Stream: a file still held at KEPT_FD, between bytes. */
	int kept = open(path, O_RDONLY);
	WL_SETUP(kept >= 0 && dup2(kept, KEPT_FD) == KEPT_FD, "kept file");
	close(kept);
	one[0] = KEPT_FD;
	send_fds(st[0], "X", 1, one, 1);
	WL_SETUP(write(st[0], "tail", 4) == 4, "stream write");

	/* Datagram, sender closed: the write end of a pipe. */
	one[0] = q[1];
	send_fds(orphan[0], "orphan", 6, one, 1);
	close(q[1]);
	close(orphan[0]);

	wl_ready(argv);
	wl_wait_usr1();

	/* Datagram pair. */
	n = recv_fds(dg[1], data, sizeof(data), got, 8);
	WL_CHECK(n == 1 && !strcmp(data, "first"), "datagram: first message: %d files, '%s'", n, data);
	int rd = n == 1 ? got[0] : -1;
	n = recv_fds(dg[1], data, sizeof(data), got, 8);
	WL_CHECK(n == 2 && !strcmp(data, "second"), "datagram: second message: %d files, '%s'", n, data);
	if (n == 2 && rd >= 0) {
		char buf[64] = "";
		WL_CHECK(read(rd, buf, 11) == 11 && !memcmp(buf, "in the pipe", 11),
			 "the pipe in flight lost its bytes ('%s')", buf);
		WL_CHECK(write(got[0], "more", 4) == 4 && read(rd, buf, 4) == 4 && !memcmp(buf, "more", 4),
			 "the two pipe ends in flight are not one pipe");
		WL_CHECK(lseek(got[1], 0, SEEK_CUR) == 3, "the file in flight lost its offset (%ld)",
			 (long)lseek(got[1], 0, SEEK_CUR));
		WL_CHECK((fcntl(got[1], F_GETFL) & O_ACCMODE) == O_RDWR, "the file in flight is not read-write");
	}
	n = recv_fds(dg[1], data, sizeof(data), got, 8);
	WL_CHECK(n == 1 && !strcmp(data, "ep"), "datagram: the epoll's message: %d files, '%s'", n, data);
	if (n == 1) {
		struct epoll_event got_ev = { 0 };
		WL_CHECK(epoll_wait(got[0], &got_ev, 1, 0) == 1 && got_ev.data.u64 == 0x1234,
			 "the epoll in flight lost its watch on the orphan socket");
	}
	WL_CHECK(recv_fds(dg[1], data, sizeof(data), got, 8) < 0, "datagram: a fourth message");

	/* Seqpacket pair. */
	int ev[2] = { -1, -1 };
	for (int i = 0; i < 2; i++) {
		n = recv_fds(sq[0], data, sizeof(data), got, 8);
		WL_CHECK(n == 1 && !strcmp(data, i ? "ev-b" : "ev-a"), "seqpacket: message %d: %d files, '%s'", i, n,
			 data);
		ev[i] = n == 1 ? got[0] : -1;
	}
	if (ev[0] >= 0 && ev[1] >= 0) {
		uint64_t v = 0;
		WL_CHECK(read(ev[0], &v, sizeof(v)) == sizeof(v) && v == 7, "the eventfd in flight counts %llu",
			 (unsigned long long)v);
		v = 5;
		WL_CHECK(write(ev[1], &v, sizeof(v)) == sizeof(v) && read(ev[0], &v, sizeof(v)) == sizeof(v) && v == 5,
			 "the eventfd sent twice came back as two");
	}

	n = recv_fds(sq[0], data, sizeof(data), got, 8);
	WL_CHECK(n == 1 && !strcmp(data, "sock"), "seqpacket: the socket's message: %d files, '%s'", n, data);
	if (n == 1) {
		char buf[16] = "";
		WL_CHECK(recv(got[0], buf, sizeof(buf), MSG_DONTWAIT) == 6 && !memcmp(buf, "inside", 6),
			 "the socket in flight lost its queue ('%s')", buf);
		WL_CHECK(write(got[0], "back", 4) == 4 && recv(u[0], buf, sizeof(buf), MSG_DONTWAIT) == 4 &&
				 !memcmp(buf, "back", 4),
			 "the socket in flight is no longer connected to the one kept");
	}

	/* Stream pair: the file with its byte, then the bytes after. */
	n = recv_fds(st[1], data, 2, got, 8);
	WL_CHECK(n == 1 && !strcmp(data, "X"), "stream: %d files with '%s'", n, data);
	if (n == 1) {
		WL_CHECK(lseek(KEPT_FD, 6, SEEK_SET) == 6 && lseek(got[0], 0, SEEK_CUR) == 6,
			 "the file in flight and fd %d are no longer one open file", KEPT_FD);
	}
	WL_CHECK(recv_fds(st[1], data, sizeof(data), got, 8) == 0 && !strcmp(data, "tail"),
		 "stream: '%s' after the file", data);

	/* The orphan: its pipe's read end is ours, its write end in flight. */
	n = recv_fds(orphan[1], data, sizeof(data), got, 8);
	WL_CHECK(n == 1 && !strcmp(data, "orphan"), "orphan: %d files, '%s'", n, data);
	if (n == 1) {
		char buf[8] = "";
		WL_CHECK(write(got[0], "q", 1) == 1 && read(q[0], buf, 1) == 1 && buf[0] == 'q',
			 "the pipe end in flight on a socket whose sender closed is not the pipe's");
	}
	unlink(path);
	return wl_finish();
}
