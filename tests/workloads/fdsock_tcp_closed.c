// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TCP connections that have ended, still open in the task, across a
 * checkpoint (run it in a network namespace of its own).  Before: a client
 * and its accepted server end each shut down for writing, so both ends
 * have closed (the client's port now held by a TIME_WAIT), the listener
 * closed.  After SIGUSR1: both read the end of the stream and fail to
 * write (EPIPE).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "fdsock_wl.h"

#define PORT 47490

static int cli, srv;

static void setup(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr.s_addr = htonl(0x7f000001) };
	struct tcp_info ti;
	socklen_t len;
	int l = socket(AF_INET, SOCK_STREAM, 0);

	signal(SIGPIPE, SIG_IGN);
	WL_SETUP(l >= 0 && bind(l, (void *)&a, sizeof(a)) == 0 && listen(l, 1) == 0, "listener");
	cli = socket(AF_INET, SOCK_STREAM, 0);
	WL_SETUP(connect(cli, (void *)&a, sizeof(a)) == 0, "connect");
	srv = accept(l, NULL, NULL);
	WL_SETUP(srv >= 0, "accept");
	close(l);
	WL_SETUP(shutdown(cli, SHUT_WR) == 0 && shutdown(srv, SHUT_WR) == 0, "shutdown");
	for (int i = 0; i < 100; i++) {
		int c, s;
		len = sizeof(ti);
		getsockopt(cli, SOL_TCP, TCP_INFO, &ti, &len);
		c = ti.tcpi_state;
		len = sizeof(ti);
		getsockopt(srv, SOL_TCP, TCP_INFO, &ti, &len);
		s = ti.tcpi_state;
		if (c == TCP_CLOSE && s == TCP_CLOSE)
			return;
		usleep(10000);
	}
	errno = 0;
	WL_SETUP(false, "both ends did not reach TCP_CLOSE");
}

static void check(int sk, const char *name)
{
	char c;

	WL_CHECK(read(sk, &c, 1) == 0, "%s: no end of stream (%s)", name, strerror(errno));
	errno = 0;
	WL_CHECK(write(sk, "x", 1) < 0 && errno == EPIPE, "%s: writes again (errno %d)", name, errno);
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);
	setup();
	wl_ready(argv);
	wl_wait_usr1();
	check(cli, "client");
	check(srv, "server end");
	return wl_finish();
}
