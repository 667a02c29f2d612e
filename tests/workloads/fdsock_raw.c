// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Raw inet sockets and IP-level options across a checkpoint (run it in a
 * network namespace of its own).  Before:
 *  - udpraw: IPv4 raw, protocol UDP, bound to 127.0.0.1, IP_PKTINFO on;
 *  - hdr: IPv4 raw, protocol RAW (header included), IP_NODEFRAG on;
 *  - icmp4, icmp6: raw ICMP and ICMPv6 with a type filter each;
 *  - tcpraw: IPv4 raw carrying protocol TCP (not a TCP socket);
 *  - v6info: IPv6 UDP with IPV6_RECVPKTINFO and IPV6_FREEBIND on.
 * After SIGUSR1: the same types, protocols, addresses, options and
 * filters, and udpraw sees a UDP datagram sent over lo.
 */
#include <arpa/inet.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "fdsock_wl.h"
#include "fdsock_net.h"

#define MARK	     "ocicr-raw-mark"
#define ICMP4_FILTER 0x0000fff7u /* all but echo replies (type 0) and 3 */

static int udpraw, hdr, icmp4, icmp6, tcpraw, v6info;

static int sock(int family, int type, int proto)
{
	int sk = socket(family, type, proto);

	WL_SETUP(sk >= 0, "socket");
	return sk;
}

static struct icmp6_filter filter6(void)
{
	struct icmp6_filter f;

	ICMP6_FILTER_SETBLOCKALL(&f);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
	ICMP6_FILTER_SETPASS(ND_NEIGHBOR_ADVERT, &f);
	return f;
}

static void setup(void)
{
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct icmp6_filter f6 = filter6();
	uint32_t f4 = ICMP4_FILTER;

	udpraw = sock(AF_INET, SOCK_RAW, IPPROTO_UDP);
	WL_SETUP(bind(udpraw, (void *)&lo, sizeof(lo)) == 0, "bind raw");
	wl_setopt(udpraw, SOL_IP, IP_PKTINFO, 1, "IP_PKTINFO");
	hdr = sock(AF_INET, SOCK_RAW, IPPROTO_RAW);
	wl_setopt(hdr, SOL_IP, IP_NODEFRAG, 1, "IP_NODEFRAG");
	icmp4 = sock(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	WL_SETUP(setsockopt(icmp4, SOL_RAW, ICMP_FILTER, &f4, sizeof(f4)) == 0, "ICMP_FILTER");
	icmp6 = sock(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	WL_SETUP(setsockopt(icmp6, SOL_ICMPV6, ICMP6_FILTER, &f6, sizeof(f6)) == 0, "ICMP6_FILTER");
	tcpraw = sock(AF_INET, SOCK_RAW, IPPROTO_TCP);
	v6info = sock(AF_INET6, SOCK_DGRAM, 0);
	wl_setopt(v6info, SOL_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
	wl_setopt(v6info, SOL_IPV6, IPV6_FREEBIND, 1, "IPV6_FREEBIND");
}

static void check_kind(int sk, const char *name, int type, int proto)
{
	int t = wl_getopt(sk, SOL_SOCKET, SO_TYPE), p = wl_getopt(sk, SOL_SOCKET, SO_PROTOCOL);

	WL_CHECK(t == type && p == proto, "%s: type %d protocol %d, not %d %d", name, t, p, type, proto);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {};
	struct icmp6_filter f6 = {}, want6 = filter6();
	socklen_t len = sizeof(a);
	uint32_t f4 = 0;

	wl_init(argc, argv);
	setup();
	wl_ready(argv);
	wl_wait_usr1();
	check_kind(udpraw, "udpraw", SOCK_RAW, IPPROTO_UDP);
	WL_CHECK(getsockname(udpraw, (void *)&a, &len) == 0 && a.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
		 "udpraw: not bound to 127.0.0.1");
	WL_CHECK(wl_getopt(udpraw, SOL_IP, IP_PKTINFO) == 1, "udpraw: IP_PKTINFO off");
	check_kind(hdr, "hdr", SOCK_RAW, IPPROTO_RAW);
	WL_CHECK(wl_getopt(hdr, SOL_IP, IP_HDRINCL) == 1, "hdr: IP_HDRINCL off");
	WL_CHECK(wl_getopt(hdr, SOL_IP, IP_NODEFRAG) == 1, "hdr: IP_NODEFRAG off");
	check_kind(icmp4, "icmp4", SOCK_RAW, IPPROTO_ICMP);
	len = sizeof(f4);
	WL_CHECK(getsockopt(icmp4, SOL_RAW, ICMP_FILTER, &f4, &len) == 0 && f4 == ICMP4_FILTER, "icmp4: filter 0x%x",
		 f4);
	check_kind(icmp6, "icmp6", SOCK_RAW, IPPROTO_ICMPV6);
	len = sizeof(f6);
	WL_CHECK(getsockopt(icmp6, SOL_ICMPV6, ICMP6_FILTER, &f6, &len) == 0 && !memcmp(&f6, &want6, sizeof(f6)),
		 "icmp6: filter changed");
	check_kind(tcpraw, "tcpraw", SOCK_RAW, IPPROTO_TCP);
	WL_CHECK(wl_getopt(v6info, SOL_IPV6, IPV6_RECVPKTINFO) == 1, "v6info: IPV6_RECVPKTINFO off");
	WL_CHECK(wl_getopt(v6info, SOL_IPV6, IPV6_FREEBIND) == 1, "v6info: IPV6_FREEBIND off");
	WL_CHECK(wl_sees_datagram(udpraw, MARK, 47480), "the raw UDP socket saw no datagram over lo");
	return wl_finish();
}
