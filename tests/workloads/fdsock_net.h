/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the fdsock_* workloads that use inet and packet sockets:
 * addresses, integer options, and a datagram sent over lo that a socket
 * must see.  Include after fdsock_wl.h.
 */
#ifndef FDSOCK_NET_H
#define FDSOCK_NET_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

static inline struct sockaddr_in wl_sin4(const char *a, int port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static inline struct sockaddr_in6 wl_sin6(const char *a, int port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	inet_pton(AF_INET6, a, &s.sin6_addr);
	return s;
}

/* Set an integer option during setup (a failure ends the workload). */
static inline void wl_setopt(int sk, int level, int opt, int v, const char *what)
{
	WL_SETUP(setsockopt(sk, level, opt, &v, sizeof(v)) == 0, what);
}

/* An integer option after restore (-1 and a failed check if unreadable). */
static inline int wl_getopt(int sk, int level, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(sk, level, opt, &v, &len) < 0)
		wl_fail("getsockopt %d/%d: %s", level, opt, strerror(errno));
	return v;
}

/* A connection over 127.0.0.1:@port, its client end in *@cli and the
 * accepted server end in *@srv, the listener closed; SIGPIPE ignored. */
static inline void wl_tcp_lo_pair(int port, int *cli, int *srv)
{
	struct sockaddr_in a = wl_sin4("127.0.0.1", port);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	signal(SIGPIPE, SIG_IGN);
	WL_SETUP(l >= 0 && bind(l, (void *)&a, sizeof(a)) == 0 && listen(l, 1) == 0, "listener");
	*cli = socket(AF_INET, SOCK_STREAM, 0);
	WL_SETUP(connect(*cli, (void *)&a, sizeof(a)) == 0, "connect");
	*srv = accept(l, NULL, NULL);
	WL_SETUP(*srv >= 0, "accept");
	close(l);
}

/* The TCP state of @sk (TCP_ESTABLISHED, TCP_CLOSE, ...), -1 if unknown. */
static inline int wl_tcp_state(int sk)
{
	struct tcp_info ti = {};
	socklen_t len = sizeof(ti);

	return getsockopt(sk, SOL_TCP, TCP_INFO, &ti, &len) < 0 ? -1 : ti.tcpi_state;
}

/* Send @mark in a UDP datagram to 127.0.0.1:@port; does @sk, which
 * captures such traffic, see it go by within two seconds? */
static inline bool wl_sees_datagram(int sk, const char *mark, int port)
{
	struct sockaddr_in to = wl_sin4("127.0.0.1", port);
	struct pollfd p = { .fd = sk, .events = POLLIN };
	unsigned char buf[2048];
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	bool seen = false;

	if (sendto(u, mark, strlen(mark) + 1, 0, (void *)&to, sizeof(to)) <= 0)
		wl_fail("send over lo: %s", strerror(errno));
	for (int i = 0; i < 20 && !seen; i++) {
		ssize_t n;
		if (poll(&p, 1, 100) != 1)
			continue;
		n = recv(sk, buf, sizeof(buf), 0);
		seen = n > 0 && memmem(buf, n, mark, strlen(mark) + 1);
	}
	close(u);
	return seen;
}

#endif
