// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Datagram inet sockets beyond plain UDP across a checkpoint (run it in a
 * network namespace of its own whose ping_group_range lets gid 0 in).
 * Before: a UDP pair on 127.0.0.1, connected both ways, one side shut for
 * writing and the other for reading; a UDP-lite pair; ICMP echo ("ping")
 * sockets for IPv4 and IPv6, each bound to an echo id of its own; an IPv6
 * UDP socket bound to an address this host does not have (IP_FREEBIND on
 * for the bind, off since).  After SIGUSR1: the shutdowns hold (sending
 * on the write-shut side fails, the read-shut side polls RDHUP, datagrams
 * still go the open way), the UDP-lite pair carries a datagram, each ping
 * socket kept its id and gets an echo reply, the IPv6 socket kept its
 * address with IP_FREEBIND off.
 *
 * With CORK=1 it also holds a UDP socket corked with data held back: the
 * dump of it must fail.
 */
#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "fdsock_wl.h"
#include "fdsock_net.h"

#define PORT	 47401
#define ECHO_ID4 4242
#define ECHO_ID6 4243
#define GONE6	 "2001:db8::4:77"

static int shut_wr, shut_rd, lite1, lite2, ping4, ping6, freebound, corked;

static int udp_pair(int proto, int port, int *second)
{
	struct sockaddr_in a = wl_sin4("127.0.0.1", port), b = wl_sin4("127.0.0.1", port + 1);
	int x = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, proto);
	int y = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, proto);

	WL_SETUP(x >= 0 && y >= 0, "datagram socket");
	WL_SETUP(bind(x, (void *)&a, sizeof(a)) == 0 && bind(y, (void *)&b, sizeof(b)) == 0, "bind pair");
	WL_SETUP(connect(x, (void *)&b, sizeof(b)) == 0 && connect(y, (void *)&a, sizeof(a)) == 0, "connect pair");
	*second = y;
	return x;
}

static int ping_socket(int family, int id)
{
	struct sockaddr_in a4 = wl_sin4("127.0.0.1", id);
	struct sockaddr_in6 a6 = wl_sin6("::1", id);
	struct timeval tv = { .tv_sec = 2 };
	int sk = socket(family, SOCK_DGRAM, family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);

	WL_SETUP(sk >= 0, "ping socket (is ping_group_range set?)");
	WL_SETUP(setsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0, "SO_RCVTIMEO");
	WL_SETUP(bind(sk, family == AF_INET ? (void *)&a4 : (void *)&a6, family == AF_INET ? sizeof(a4) : sizeof(a6)) ==
			 0,
		 "bind ping socket");
	return sk;
}

static void setup(void)
{
	struct sockaddr_in6 g = wl_sin6(GONE6, PORT + 10);

	shut_wr = udp_pair(IPPROTO_UDP, PORT, &shut_rd);
	WL_SETUP(shutdown(shut_wr, SHUT_WR) == 0 && shutdown(shut_rd, SHUT_RD) == 0, "shutdown");
	lite1 = udp_pair(IPPROTO_UDPLITE, PORT + 2, &lite2);
	ping4 = ping_socket(AF_INET, ECHO_ID4);
	ping6 = ping_socket(AF_INET6, ECHO_ID6);

	freebound = socket(AF_INET6, SOCK_DGRAM, 0);
	wl_setopt(freebound, SOL_IP, IP_FREEBIND, 1, "IP_FREEBIND on");
	WL_SETUP(bind(freebound, (void *)&g, sizeof(g)) == 0, "bind to an address not here");
	wl_setopt(freebound, SOL_IP, IP_FREEBIND, 0, "IP_FREEBIND off");

	if (getenv("CORK") && !strcmp(getenv("CORK"), "1")) {
		int other;
		corked = udp_pair(IPPROTO_UDP, PORT + 20, &other);
		wl_setopt(corked, SOL_UDP, UDP_CORK, 1, "UDP_CORK");
		WL_SETUP(write(corked, "held back", 9) == 9, "write to the corked socket");
	}
}

static int port_of(int sk)
{
	struct sockaddr_in6 ss = {};
	socklen_t len = sizeof(ss);

	if (getsockname(sk, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	return ntohs(ss.sin6_port); /* sin_port sits at the same offset */
}

static void check_shutdown(void)
{
	struct pollfd p = { .fd = shut_rd, .events = POLLRDHUP };
	char buf[16];

	errno = 0;
	WL_CHECK(send(shut_wr, "x", 1, 0) < 0 && errno == EPIPE, "the write-shut UDP socket sends again (errno %d)",
		 errno);
	WL_CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLRDHUP), "the read-shut UDP socket lost its shutdown");
	WL_CHECK(send(shut_rd, "open", 4, 0) == 4, "the read-shut UDP socket cannot send: %s", strerror(errno));
	p = (struct pollfd){ .fd = shut_wr, .events = POLLIN };
	WL_CHECK(poll(&p, 1, 2000) == 1 && recv(shut_wr, buf, sizeof(buf), 0) == 4 && !memcmp(buf, "open", 4),
		 "no datagram the open way");
}

static void check_lite(void)
{
	struct pollfd p = { .fd = lite2, .events = POLLIN };
	socklen_t len = sizeof(int);
	char buf[16];
	int proto = 0;

	WL_CHECK(getsockopt(lite1, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 && proto == IPPROTO_UDPLITE,
		 "the UDP-lite socket came back as protocol %d", proto);
	WL_CHECK(port_of(lite1) == PORT + 2 && port_of(lite2) == PORT + 3, "UDP-lite ports %d, %d", port_of(lite1),
		 port_of(lite2));
	WL_CHECK(send(lite1, "lite", 4, 0) == 4 && poll(&p, 1, 2000) == 1 && recv(lite2, buf, sizeof(buf), 0) == 4 &&
			 !memcmp(buf, "lite", 4),
		 "no datagram over UDP-lite");
}

static void check_ping(int sk, int family, int id)
{
	struct sockaddr_in a4 = wl_sin4("127.0.0.1", 0);
	struct sockaddr_in6 a6 = wl_sin6("::1", 0);
	struct icmphdr req4 = { .type = ICMP_ECHO, .un.echo.sequence = htons(7) };
	struct icmp6_hdr req6 = { .icmp6_type = ICMP6_ECHO_REQUEST, .icmp6_seq = htons(7) };
	unsigned char reply[64];
	ssize_t n;

	/* PING_ID_LOST=1: restored by CRIU, which does not bind ping sockets. */
	WL_CHECK(port_of(sk) == id || getenv("PING_ID_LOST"), "ping socket (family %d) has echo id %d, not %d", family,
		 port_of(sk), id);
	if (family == AF_INET)
		n = sendto(sk, &req4, sizeof(req4), 0, (void *)&a4, sizeof(a4));
	else
		n = sendto(sk, &req6, sizeof(req6), 0, (void *)&a6, sizeof(a6));
	WL_CHECK(n > 0, "ping (family %d): send: %s", family, strerror(errno));
	n = recv(sk, reply, sizeof(reply), 0);
	WL_CHECK(n >= 8 && reply[0] == (family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY),
		 "ping (family %d): no echo reply (%zd: %s)", family, n, strerror(errno));
}

static void check_freebind(void)
{
	struct sockaddr_in6 ss = {};
	socklen_t len = sizeof(ss);
	char a[INET6_ADDRSTRLEN] = "";
	int v = -1;

	WL_CHECK(getsockname(freebound, (void *)&ss, &len) == 0 && inet_ntop(AF_INET6, &ss.sin6_addr, a, sizeof(a)) &&
			 !strcmp(a, GONE6) && ntohs(ss.sin6_port) == PORT + 10,
		 "the IPv6 socket is bound to [%s]:%d", a, ntohs(ss.sin6_port));
	len = sizeof(v);
	WL_CHECK(getsockopt(freebound, SOL_IP, IP_FREEBIND, &v, &len) == 0 && v == 0, "IP_FREEBIND reads %d", v);
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);
	setup();
	wl_ready(argv);
	wl_wait_usr1();
	check_shutdown();
	check_lite();
	check_ping(ping4, AF_INET, ECHO_ID4);
	check_ping(ping6, AF_INET6, ECHO_ID6);
	check_freebind();
	return wl_finish();
}
