// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A TCP connection half-closed across a checkpoint (--tcp-established;
 * run it in a network namespace of its own).  Both ends are ours: the
 * client A and the accepted server end B, over 127.0.0.1 or ::1 (V6=1),
 * port PORT (47530 if unset), with small buffers so that a filled queue
 * holds a FIN back.  MODE says
 * which states the pair is left in:
 *
 *   fin-wait1  A wrote until B's window shut, then shut down: A FIN-WAIT-1
 *              (its FIN behind the data), B established
 *   fin-wait2  A shut down: A FIN-WAIT-2, B CLOSE-WAIT
 *   last-ack   B wrote until A's window shut, A shut down, then B: A
 *              FIN-WAIT-2, B LAST-ACK
 *   closing    both wrote until the other's window shut and shut down, A
 *              read all of B's: A CLOSING, B FIN-WAIT-2
 *   syn-sent   A connects without waiting, its SYN dropped by the test's
 *              nft rule until after the restore: A SYN-SENT, the listener
 *              open; after SIGUSR1 the connection completes and works
 *
 * After SIGUSR1 the states are as they were, every queued byte arrives in
 * order followed by the end of the stream, and what is still open works.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include "fdsock_wl.h"
#include "fdsock_net.h"

static int port = 47530;      /* PORT in the environment */
static int a, b, l = -1;      /* l: the listener, kept open for syn-sent */
static size_t a_sent, b_sent; /* bytes queued by fill() */

static bool wait_states(int sa, int sb)
{
	for (int i = 0; i < 300; i++) {
		if (wl_tcp_state(a) == sa && wl_tcp_state(b) == sb)
			return true;
		usleep(10000);
	}
	return false;
}

static uint8_t pattern(size_t i, int who)
{
	return (uint8_t)(i * 7 + who * 13 + i / 251);
}

/* Write the pattern into @sk until the peer's window and our buffer are
 * full (the peer reads nothing meanwhile). */
static size_t fill(int sk, int who)
{
	uint8_t buf[4096];
	size_t sent = 0;
	int idle = 0;

	while (idle < 10) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = pattern(sent + i, who);
		ssize_t n = send(sk, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0) {
			sent += n;
			idle = 0;
			continue;
		}
		WL_SETUP(errno == EAGAIN, "filling a send queue");
		idle++;
		usleep(20000);
	}
	return sent;
}

/* Read to the end of the stream: @len bytes of @who's pattern. */
static void drain(int sk, size_t len, int who, const char *name)
{
	uint8_t buf[4096];
	size_t got = 0;
	ssize_t n;

	while ((n = read(sk, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(got + i, who)) {
				wl_fail("%s: byte %zu is 0x%02x, not 0x%02x", name, got + i, buf[i],
					pattern(got + i, who));
				return;
			}
		got += n;
	}
	WL_CHECK(n == 0, "%s: read: %s", name, strerror(errno));
	WL_CHECK(got == len, "%s: %zu bytes before the end of the stream, not %zu", name, got, len);
}

static void connect_pair(bool v6, bool wait)
{
	struct sockaddr_in s4 = wl_sin4("127.0.0.1", port);
	struct sockaddr_in6 s6 = wl_sin6("::1", port);
	struct sockaddr *sa = v6 ? (struct sockaddr *)&s6 : (struct sockaddr *)&s4;
	socklen_t len = v6 ? sizeof(s6) : sizeof(s4);
	l = socket(sa->sa_family, SOCK_STREAM, 0);
	a = socket(sa->sa_family, SOCK_STREAM, 0);
	WL_SETUP(l >= 0 && a >= 0, "socket");
	/* Small queues fill fast (the accepted end inherits the listener's). */
	wl_setopt(l, SOL_SOCKET, SO_RCVBUF, 8192, "SO_RCVBUF");
	wl_setopt(l, SOL_SOCKET, SO_SNDBUF, 8192, "SO_SNDBUF");
	wl_setopt(a, SOL_SOCKET, SO_RCVBUF, 8192, "SO_RCVBUF");
	wl_setopt(a, SOL_SOCKET, SO_SNDBUF, 8192, "SO_SNDBUF");
	WL_SETUP(bind(l, sa, len) == 0 && listen(l, 1) == 0, "listener");
	if (!wait) { /* its SYN is dropped: it stays SYN-SENT */
		int fl = fcntl(a, F_GETFL);
		WL_SETUP(fcntl(a, F_SETFL, fl | O_NONBLOCK) == 0, "O_NONBLOCK");
		WL_SETUP(connect(a, sa, len) < 0 && errno == EINPROGRESS, "connect without waiting");
		WL_SETUP(fcntl(a, F_SETFL, fl) == 0, "fcntl");
		return;
	}
	WL_SETUP(connect(a, sa, len) == 0, "connect");
	b = accept(l, NULL, NULL);
	WL_SETUP(b >= 0, "accept");
	close(l);
}

static void setup(const char *mode)
{
	if (!strcmp(mode, "fin-wait1")) {
		a_sent = fill(a, 1);
		WL_SETUP(shutdown(a, SHUT_WR) == 0, "shutdown");
		WL_SETUP(wait_states(TCP_FIN_WAIT1, TCP_ESTABLISHED), "A FIN-WAIT-1, B established");
	} else if (!strcmp(mode, "fin-wait2")) {
		WL_SETUP(shutdown(a, SHUT_WR) == 0, "shutdown");
		WL_SETUP(wait_states(TCP_FIN_WAIT2, TCP_CLOSE_WAIT), "A FIN-WAIT-2, B CLOSE-WAIT");
	} else if (!strcmp(mode, "last-ack")) {
		b_sent = fill(b, 2);
		WL_SETUP(shutdown(a, SHUT_WR) == 0, "shutdown");
		WL_SETUP(wait_states(TCP_FIN_WAIT2, TCP_CLOSE_WAIT), "A FIN-WAIT-2, B CLOSE-WAIT");
		WL_SETUP(shutdown(b, SHUT_WR) == 0, "shutdown");
		WL_SETUP(wait_states(TCP_FIN_WAIT2, TCP_LAST_ACK), "A FIN-WAIT-2, B LAST-ACK");
	} else if (!strcmp(mode, "closing")) {
		a_sent = fill(a, 1);
		b_sent = fill(b, 2);
		WL_SETUP(shutdown(a, SHUT_WR) == 0 && shutdown(b, SHUT_WR) == 0, "shutdown");
		drain(a, b_sent, 2, "A, before the dump");
		WL_SETUP(wait_states(TCP_CLOSING, TCP_FIN_WAIT2), "A CLOSING, B FIN-WAIT-2");
	} else if (!strcmp(mode, "syn-sent")) {
		WL_SETUP(wl_tcp_state(a) == TCP_SYN_SENT, "A SYN-SENT");
	} else {
		errno = EINVAL;
		WL_SETUP(false, "MODE is fin-wait1, fin-wait2, last-ack, closing or syn-sent");
	}
}

static void check_states(int sa, int sb)
{
	WL_CHECK(wl_tcp_state(a) == sa && wl_tcp_state(b) == sb, "states are A %d, B %d, not %d, %d", wl_tcp_state(a),
		 wl_tcp_state(b), sa, sb);
}

/* @from writes a byte that @to reads. */
static void check_talks(int from, int to, const char *name)
{
	char c = 0;

	WL_CHECK(write(from, "z", 1) == 1, "%s: write: %s", name, strerror(errno));
	WL_CHECK(read(to, &c, 1) == 1 && c == 'z', "%s: the byte did not arrive (%s)", name, strerror(errno));
}

static void check(const char *mode)
{
	if (!strcmp(mode, "fin-wait1")) {
		check_states(TCP_FIN_WAIT1, TCP_ESTABLISHED);
		drain(b, a_sent, 1, "B");
		check_talks(b, a, "B to A");
		close(b);
		drain(a, 0, 0, "A");
	} else if (!strcmp(mode, "fin-wait2")) {
		check_states(TCP_FIN_WAIT2, TCP_CLOSE_WAIT);
		drain(b, 0, 0, "B");
		check_talks(b, a, "B to A");
		errno = 0;
		WL_CHECK(write(a, "x", 1) < 0 && errno == EPIPE, "A writes after its shutdown (errno %d)", errno);
		close(b);
		drain(a, 0, 0, "A");
	} else if (!strcmp(mode, "last-ack")) {
		check_states(TCP_FIN_WAIT2, TCP_LAST_ACK);
		drain(a, b_sent, 2, "A");
		drain(b, 0, 0, "B");
	} else if (!strcmp(mode, "syn-sent")) {
		struct pollfd p = { .fd = a, .events = POLLOUT };
		int err = -1;
		socklen_t len = sizeof(err);
		WL_CHECK(wl_tcp_state(a) == TCP_SYN_SENT, "A is %d, not SYN-SENT", wl_tcp_state(a));
		WL_CHECK(poll(&p, 1, 8000) == 1, "A did not connect in 8 s (state %d)", wl_tcp_state(a));
		WL_CHECK(getsockopt(a, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0, "A's connect: error %d",
			 err);
		b = accept(l, NULL, NULL);
		WL_CHECK(b >= 0, "accept: %s", strerror(errno));
		check_talks(a, b, "A to B");
		check_talks(b, a, "B to A");
	} else {
		check_states(TCP_CLOSING, TCP_FIN_WAIT2);
		drain(b, a_sent, 1, "B");
		drain(a, 0, 0, "A, after");
	}
}

int main(int argc, char **argv)
{
	const char *mode = getenv("MODE") ? getenv("MODE") : "";
	const char *v6 = getenv("V6");

	wl_init(argc, argv);
	if (getenv("PORT"))
		port = atoi(getenv("PORT"));
	signal(SIGPIPE, SIG_IGN);
	connect_pair(v6 && !strcmp(v6, "1"), strcmp(mode, "syn-sent") != 0);
	setup(mode);
	wl_ready(argv);
	wl_wait_usr1();
	check(mode);
	return wl_finish();
}
