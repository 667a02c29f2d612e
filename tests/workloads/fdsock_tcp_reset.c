// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A TCP connection reset while bytes wait to be read, still open in the
 * task, across a checkpoint (run it in a network namespace of its own).
 * Before: a client gets "hello" from its server end, which then closes
 * with SO_LINGER 0 (the client gets a reset); the client has not read.
 * After SIGUSR1: the client reads "hello", then no more, and cannot write.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "fdsock_wl.h"
#include "fdsock_net.h"

#define PORT 47491

static int cli;

static void setup(void)
{
	struct linger now = { .l_onoff = 1, .l_linger = 0 };
	int srv, queued = 0;

	wl_tcp_lo_pair(PORT, &cli, &srv);
	WL_SETUP(write(srv, "hello", 5) == 5, "write");
	for (int i = 0; i < 100 && queued < 5; i++) {
		ioctl(cli, SIOCINQ, &queued);
		usleep(10000);
	}
	WL_SETUP(queued == 5, "the client did not receive");
	WL_SETUP(setsockopt(srv, SOL_SOCKET, SO_LINGER, &now, sizeof(now)) == 0 && close(srv) == 0, "reset");
	for (int i = 0; i < 100 && wl_tcp_state(cli) != TCP_CLOSE; i++)
		usleep(10000);
	errno = 0;
	WL_SETUP(wl_tcp_state(cli) == TCP_CLOSE, "the client was not reset");
}

static void check(void)
{
	char buf[16] = "";
	ssize_t n = read(cli, buf, sizeof(buf));

	WL_CHECK(n == 5 && !memcmp(buf, "hello", 5), "read %zd bytes (%s), not hello", n,
		 n < 0 ? strerror(errno) : buf);
	n = read(cli, buf, sizeof(buf));
	WL_CHECK(n == 0 || (n < 0 && errno == ECONNRESET), "read %zd more bytes (%s)", n, strerror(errno));
	errno = 0;
	WL_CHECK(write(cli, "x", 1) < 0 && (errno == EPIPE || errno == ECONNRESET), "writes again (errno %d)", errno);
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);
	setup();
	wl_ready(argv);
	wl_wait_usr1();
	check();
	return wl_finish();
}
