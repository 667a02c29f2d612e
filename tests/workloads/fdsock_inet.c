// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TCP and UDP sockets across a checkpoint (run it in a network namespace of
 * its own: the ports are fixed).  Before: an IPv4 TCP listener with options
 * set, a dual-stack IPv6 listener, an IPv6-only listener, a TCP socket
 * bound but idle, UDP sockets bound and connected (IPv4 and IPv6).  After
 * SIGUSR1: the same addresses, options and flags, and each one works:
 * listeners accept new clients, the idle one can listen, datagrams go
 * both ways.  A child shares the IPv4 listener (one file, two tasks) and
 * accepts a client of its own on it.  The bound UDP socket has a socket
 * filter (classic BPF, one that passes everything), kept instruction for
 * instruction.  Two listeners share a port, both bound and listening with
 * SO_REUSEPORT, which the first has turned off since.
 */
#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include "fdsock_wl.h"
#include "fdsock_net.h"

#define PORT 47301

static int l4, l6dual, l6only, idle, u1, u2, u6, rp1, rp2;

/* Whole datagrams pass: the length of the packet is what is kept. */
static struct sock_filter pass_all[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	BPF_STMT(BPF_RET | BPF_A, 0),
};

static int port_of(int sk)
{
	struct sockaddr_storage ss = {};
	socklen_t len = sizeof(ss);

	if (getsockname(sk, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);
}

static int new_bound(int family, int type, const void *sa, socklen_t len)
{
	int sk = socket(family, type, 0);

	WL_SETUP(sk >= 0, "socket");
	wl_setopt(sk, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	WL_SETUP(bind(sk, sa, len) == 0, "bind");
	return sk;
}

static void setup(void)
{
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;

	a4 = wl_sin4("127.0.0.1", PORT);
	l4 = new_bound(AF_INET, SOCK_STREAM, &a4, sizeof(a4));
	wl_setopt(l4, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
	wl_setopt(l4, SOL_SOCKET, SO_SNDBUF, 100000, "SO_SNDBUF");
	wl_setopt(l4, SOL_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
	wl_setopt(l4, SOL_TCP, TCP_KEEPIDLE, 123, "TCP_KEEPIDLE");
	wl_setopt(l4, SOL_IP, IP_TTL, 33, "IP_TTL");
	WL_SETUP(listen(l4, 7) == 0, "listen");
	WL_SETUP(fcntl(l4, F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK");

	a6 = wl_sin6("::", PORT + 1);
	l6dual = socket(AF_INET6, SOCK_STREAM, 0);
	wl_setopt(l6dual, SOL_IPV6, IPV6_V6ONLY, 0, "V6ONLY 0");
	WL_SETUP(bind(l6dual, (void *)&a6, sizeof(a6)) == 0 && listen(l6dual, 3) == 0, "dual-stack listener");

	a6 = wl_sin6("::1", PORT + 2);
	l6only = socket(AF_INET6, SOCK_STREAM, 0);
	wl_setopt(l6only, SOL_IPV6, IPV6_V6ONLY, 1, "V6ONLY 1");
	WL_SETUP(bind(l6only, (void *)&a6, sizeof(a6)) == 0 && listen(l6only, 2) == 0, "IPv6-only listener");

	a4 = wl_sin4("127.0.0.1", PORT + 3);
	idle = socket(AF_INET, SOCK_STREAM, 0);
	wl_setopt(idle, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
	WL_SETUP(bind(idle, (void *)&a4, sizeof(a4)) == 0, "bound idle socket");

	a4 = wl_sin4("127.0.0.1", PORT + 8);
	rp1 = socket(AF_INET, SOCK_STREAM, 0);
	rp2 = socket(AF_INET, SOCK_STREAM, 0);
	wl_setopt(rp1, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
	wl_setopt(rp2, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
	WL_SETUP(bind(rp1, (void *)&a4, sizeof(a4)) == 0 && listen(rp1, 1) == 0, "first SO_REUSEPORT listener");
	WL_SETUP(bind(rp2, (void *)&a4, sizeof(a4)) == 0 && listen(rp2, 1) == 0, "second SO_REUSEPORT listener");
	wl_setopt(rp1, SOL_SOCKET, SO_REUSEPORT, 0, "SO_REUSEPORT off");

	a4 = wl_sin4("127.0.0.1", PORT + 4);
	u1 = new_bound(AF_INET, SOCK_DGRAM, &a4, sizeof(a4));
	wl_setopt(u1, SOL_SOCKET, SO_RCVBUF, 50000, "SO_RCVBUF");
	wl_setopt(u1, SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST");
	struct sock_fprog prog = { .len = 2, .filter = pass_all };
	WL_SETUP(setsockopt(u1, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) == 0, "SO_ATTACH_FILTER");
	a4 = wl_sin4("127.0.0.1", PORT + 5);
	u2 = new_bound(AF_INET, SOCK_DGRAM, &a4, sizeof(a4));
	a4 = wl_sin4("127.0.0.1", PORT + 4);
	WL_SETUP(connect(u2, (void *)&a4, sizeof(a4)) == 0, "connect UDP");

	a6 = wl_sin6("::1", PORT + 6);
	u6 = new_bound(AF_INET6, SOCK_DGRAM, &a6, sizeof(a6));
}

/* A new client of a listener: connect, accept, one message each way. */
static void check_accept(int l, int family, const char *addr, int port, const char *name)
{
	struct sockaddr_in a4 = wl_sin4(addr, port);
	struct sockaddr_in6 a6 = wl_sin6(addr, port);
	struct pollfd p = { .fd = l, .events = POLLIN };
	char buf[8] = "";
	int c = socket(family, SOCK_STREAM, 0), s;

	if (connect(c, family == AF_INET ? (void *)&a4 : (void *)&a6, family == AF_INET ? sizeof(a4) : sizeof(a6))) {
		wl_fail("%s: connect: %s", name, strerror(errno));
		return;
	}
	if (poll(&p, 1, 5000) != 1 || (s = accept(l, NULL, NULL)) < 0) {
		wl_fail("%s: nothing to accept: %s", name, strerror(errno));
		return;
	}
	if (!wl_write_all(c, "ping", 4) || !wl_read_all(s, buf, 4) || memcmp(buf, "ping", 4) ||
	    !wl_write_all(s, "pong", 4) || !wl_read_all(c, buf, 4) || memcmp(buf, "pong", 4))
		wl_fail("%s: the accepted connection does not carry data", name);
	close(c);
	close(s);
}

static void check_tcp(void)
{
	struct tcp_info ti = {};
	socklen_t len = sizeof(ti);

	WL_CHECK(port_of(l4) == PORT, "IPv4 listener on port %d", port_of(l4));
	WL_CHECK(wl_getopt(l4, SOL_SOCKET, SO_ACCEPTCONN) == 1, "IPv4 listener does not listen");
	WL_CHECK(wl_getopt(l4, SOL_SOCKET, SO_KEEPALIVE) == 1, "SO_KEEPALIVE lost");
	WL_CHECK(wl_getopt(l4, SOL_SOCKET, SO_REUSEADDR) == 1, "SO_REUSEADDR lost");
	WL_CHECK(wl_getopt(l4, SOL_SOCKET, SO_SNDBUF) == 200000, "SO_SNDBUF %d", wl_getopt(l4, SOL_SOCKET, SO_SNDBUF));
	WL_CHECK(wl_getopt(l4, SOL_TCP, TCP_NODELAY) == 1, "TCP_NODELAY lost");
	WL_CHECK(wl_getopt(l4, SOL_TCP, TCP_KEEPIDLE) == 123, "TCP_KEEPIDLE %d", wl_getopt(l4, SOL_TCP, TCP_KEEPIDLE));
	WL_CHECK(wl_getopt(l4, SOL_IP, IP_TTL) == 33, "IP_TTL %d", wl_getopt(l4, SOL_IP, IP_TTL));
	WL_CHECK(fcntl(l4, F_GETFL) & O_NONBLOCK, "IPv4 listener lost O_NONBLOCK");
	WL_CHECK(getsockopt(l4, SOL_TCP, TCP_INFO, &ti, &len) == 0 && ti.tcpi_sacked == 7, "backlog %u, not 7",
		 ti.tcpi_sacked);
	WL_CHECK(wl_getopt(l6dual, SOL_IPV6, IPV6_V6ONLY) == 0, "dual-stack listener is IPv6-only");
	WL_CHECK(wl_getopt(l6only, SOL_IPV6, IPV6_V6ONLY) == 1, "IPv6-only listener lost IPV6_V6ONLY");
	WL_CHECK(!(fcntl(l6dual, F_GETFL) & O_NONBLOCK), "dual-stack listener became non-blocking");
	WL_CHECK(port_of(idle) == PORT + 3, "idle socket on port %d", port_of(idle));
	WL_CHECK(wl_getopt(idle, SOL_SOCKET, SO_ACCEPTCONN) == 0, "the idle socket listens");
	WL_CHECK(wl_getopt(idle, SOL_SOCKET, SO_REUSEPORT) == 1, "SO_REUSEPORT lost");
	WL_CHECK(port_of(rp1) == PORT + 8 && port_of(rp2) == PORT + 8, "the SO_REUSEPORT listeners are on ports %d, %d",
		 port_of(rp1), port_of(rp2));
	WL_CHECK(wl_getopt(rp1, SOL_SOCKET, SO_ACCEPTCONN) == 1 && wl_getopt(rp2, SOL_SOCKET, SO_ACCEPTCONN) == 1,
		 "a SO_REUSEPORT listener does not listen");
	WL_CHECK(wl_getopt(rp1, SOL_SOCKET, SO_REUSEPORT) == 0, "SO_REUSEPORT came back on");
	WL_CHECK(wl_getopt(rp2, SOL_SOCKET, SO_REUSEPORT) == 1, "SO_REUSEPORT lost on the second listener");
	check_accept(l4, AF_INET, "127.0.0.1", PORT, "IPv4 listener");
	check_accept(l6dual, AF_INET6, "::1", PORT + 1, "dual-stack listener over IPv6");
	check_accept(l6dual, AF_INET, "127.0.0.1", PORT + 1, "dual-stack listener over IPv4");
	check_accept(l6only, AF_INET6, "::1", PORT + 2, "IPv6-only listener");
	WL_CHECK(listen(idle, 1) == 0, "the idle socket cannot listen: %s", strerror(errno));
	check_accept(idle, AF_INET, "127.0.0.1", PORT + 3, "the once idle socket");
}

static void check_udp(void)
{
	struct sockaddr_in from = {}, to = wl_sin4("127.0.0.1", PORT + 5);
	struct sockaddr_in6 to6 = wl_sin6("::1", PORT + 6);
	socklen_t len = sizeof(from);
	char buf[16] = "";
	int c6;

	WL_CHECK(wl_getopt(u1, SOL_SOCKET, SO_RCVBUF) == 100000, "SO_RCVBUF %d", wl_getopt(u1, SOL_SOCKET, SO_RCVBUF));
	WL_CHECK(wl_getopt(u1, SOL_SOCKET, SO_BROADCAST) == 1, "SO_BROADCAST lost");
	struct sock_filter got[4] = {};
	socklen_t n = 4;
	WL_CHECK(getsockopt(u1, SOL_SOCKET, SO_GET_FILTER, got, &n) == 0 && n == 2 &&
			 !memcmp(got, pass_all, sizeof(pass_all)),
		 "the socket filter is lost or changed (%u instructions)", n);
	WL_CHECK(send(u2, "dgram-1", 7, 0) == 7, "connected UDP send: %s", strerror(errno));
	WL_CHECK(recvfrom(u1, buf, sizeof(buf), 0, (void *)&from, &len) == 7 && !memcmp(buf, "dgram-1", 7) &&
			 ntohs(from.sin_port) == PORT + 5,
		 "bound UDP socket got no datagram from the connected one");
	WL_CHECK(sendto(u1, "dgram-2", 7, 0, (void *)&to, sizeof(to)) == 7, "UDP sendto: %s", strerror(errno));
	WL_CHECK(recv(u2, buf, sizeof(buf), 0) == 7 && !memcmp(buf, "dgram-2", 7), "connected UDP socket got no reply");
	c6 = socket(AF_INET6, SOCK_DGRAM, 0);
	WL_CHECK(sendto(c6, "dgram-6", 7, 0, (void *)&to6, sizeof(to6)) == 7, "IPv6 UDP sendto: %s", strerror(errno));
	WL_CHECK(recv(u6, buf, sizeof(buf), 0) == 7 && !memcmp(buf, "dgram-6", 7), "IPv6 UDP socket got nothing");
	close(c6);
}

/* The child's half: accept one client on the shared listener, greet it. */
static void child_accepts(void)
{
	struct pollfd p = { .fd = l4, .events = POLLIN };
	int s;

	wl_wait_usr1();
	if (poll(&p, 1, 5000) != 1 || (s = accept(l4, NULL, NULL)) < 0 || !wl_write_all(s, "child", 5))
		wl_fail("child: no client on the shared listener: %s", strerror(errno));
	wl_child_exit();
}

static void check_shared(pid_t child)
{
	struct sockaddr_in a4 = wl_sin4("127.0.0.1", PORT);
	char buf[5] = "";
	int c = socket(AF_INET, SOCK_STREAM, 0), st;

	kill(child, SIGUSR1);
	WL_CHECK(connect(c, (void *)&a4, sizeof(a4)) == 0 && wl_read_all(c, buf, 5) && !memcmp(buf, "child", 5),
		 "the child did not answer on the shared listener");
	close(c);
	WL_CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && !WEXITSTATUS(st),
		 "the child found its state wrong (status 0x%x)", st);
}

int main(int argc, char **argv)
{
	pid_t child;

	wl_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	setup();
	child = fork();
	WL_SETUP(child >= 0, "fork");
	if (child == 0)
		child_accepts();
	wl_ready(argv);
	wl_wait_usr1();
	check_shared(child);
	check_tcp();
	check_udp();
	return wl_finish();
}
