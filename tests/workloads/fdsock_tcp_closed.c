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
#include "fdsock_net.h"

#define PORT 47490

static int cli, srv;

static void setup(void)
{
	wl_tcp_lo_pair(PORT, &cli, &srv);
	WL_SETUP(shutdown(cli, SHUT_WR) == 0 && shutdown(srv, SHUT_WR) == 0, "shutdown");
	for (int i = 0; i < 100; i++) {
		if (wl_tcp_state(cli) == TCP_CLOSE && wl_tcp_state(srv) == TCP_CLOSE)
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
