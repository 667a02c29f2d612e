// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Packet sockets across a checkpoint (run it in a network namespace of its
 * own with lo up: lo is interface 1 there).  Before:
 *  - ring: SOCK_RAW, not bound, TPACKET_V2, PACKET_AUXDATA, a receive ring
 *    and a promiscuous membership on lo;
 *  - ipdg: SOCK_DGRAM for IPv4 bound to lo, PACKET_RESERVE, PACKET_ORIGDEV,
 *    a fanout group (CPU, with rollover), a unicast membership and a send
 *    ring;
 *  - sniff: SOCK_RAW for every protocol bound to lo, PACKET_LOSS;
 *  - spkt, spkt_free: SOCK_PACKET, one bound to "lo", one not.
 * After SIGUSR1: the same bindings, options, memberships (dropping them
 * works), fanout and rings (the version cannot change under a ring, which
 * can be mapped), and sniff sees a UDP datagram sent over lo.
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "fdsock_wl.h"
#include "fdsock_net.h"

#define LO	  1
#define FANOUT_ID 77
#define FANOUT	  ((unsigned)FANOUT_ID | (PACKET_FANOUT_CPU << 16) | (PACKET_FANOUT_FLAG_ROLLOVER << 16))
#define RESERVE	  24
#define MARK	  "ocicr-packet-mark"

static int ring, ipdg, sniff, spkt, spkt_free;
static const unsigned char ucast[6] = { 0x02, 0, 0, 0x0c, 0x1c, 0x12 };

/* struct packet_mreq with room for the address, as the kernel reads it. */
struct mreq {
	int ifindex;
	unsigned short type, alen;
	unsigned char addr[8];
};

static void set(int sk, int opt, int v, const char *what)
{
	WL_SETUP(setsockopt(sk, SOL_PACKET, opt, &v, sizeof(v)) == 0, what);
}

static int get(int sk, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (getsockopt(sk, SOL_PACKET, opt, &v, &len) < 0)
		wl_fail("getsockopt SOL_PACKET %d: %s", opt, strerror(errno));
	return v;
}

static struct tpacket_req one_block(void)
{
	return (struct tpacket_req){ .tp_block_size = 4096, .tp_block_nr = 1, .tp_frame_size = 2048, .tp_frame_nr = 2 };
}

static void setup(void)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_ifindex = LO };
	struct sockaddr sa = { .sa_family = AF_PACKET };
	struct tpacket_req req = one_block();
	struct mreq promisc = { .ifindex = LO, .type = PACKET_MR_PROMISC };
	struct mreq uni = { .ifindex = LO, .type = PACKET_MR_UNICAST, .alen = 6 };

	ring = socket(AF_PACKET, SOCK_RAW, 0);
	WL_SETUP(ring >= 0, "packet socket");
	set(ring, PACKET_VERSION, TPACKET_V2, "PACKET_VERSION");
	set(ring, PACKET_AUXDATA, 1, "PACKET_AUXDATA");
	WL_SETUP(setsockopt(ring, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) == 0, "PACKET_RX_RING");
	WL_SETUP(setsockopt(ring, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &promisc, sizeof(promisc)) == 0, "promisc");

	ipdg = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	WL_SETUP(ipdg >= 0 && bind(ipdg, (void *)&ll, sizeof(ll)) == 0, "bound IPv4 packet socket");
	set(ipdg, PACKET_RESERVE, RESERVE, "PACKET_RESERVE");
	set(ipdg, PACKET_ORIGDEV, 1, "PACKET_ORIGDEV");
	set(ipdg, PACKET_FANOUT, FANOUT, "PACKET_FANOUT");
	memcpy(uni.addr, ucast, sizeof(ucast));
	WL_SETUP(setsockopt(ipdg, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &uni, sizeof(uni)) == 0, "unicast");
	WL_SETUP(setsockopt(ipdg, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) == 0, "PACKET_TX_RING");

	sniff = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	ll.sll_protocol = htons(ETH_P_ALL);
	WL_SETUP(sniff >= 0 && bind(sniff, (void *)&ll, sizeof(ll)) == 0, "sniffer");
	set(sniff, PACKET_LOSS, 1, "PACKET_LOSS");

	spkt = socket(AF_PACKET, SOCK_PACKET, htons(ETH_P_ALL));
	spkt_free = socket(AF_PACKET, SOCK_PACKET, htons(ETH_P_ALL));
	strcpy(sa.sa_data, "lo");
	WL_SETUP(spkt >= 0 && spkt_free >= 0 && bind(spkt, &sa, sizeof(sa)) == 0, "SOCK_PACKET");
}

static void check_bound(int sk, const char *name, int proto, int ifindex)
{
	struct sockaddr_ll ll = {};
	socklen_t len = sizeof(ll);

	WL_CHECK(getsockname(sk, (void *)&ll, &len) == 0 && ll.sll_family == AF_PACKET &&
			 ntohs(ll.sll_protocol) == proto && ll.sll_ifindex == ifindex,
		 "%s: bound to protocol 0x%x interface %d", name, ntohs(ll.sll_protocol), ll.sll_ifindex);
}

static void check_ring(int sk, const char *name)
{
	void *m;

	errno = 0;
	WL_CHECK(setsockopt(sk, SOL_PACKET, PACKET_VERSION, &(int){ TPACKET_V1 }, sizeof(int)) < 0 && errno == EBUSY,
		 "%s: no ring holds the version (errno %d)", name, errno);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, sk, 0);
	WL_CHECK(m != MAP_FAILED, "%s: the ring cannot be mapped: %s", name, strerror(errno));
	if (m != MAP_FAILED)
		munmap(m, 4096);
}

static void check_drop(int sk, struct mreq *mr, const char *name)
{
	WL_CHECK(setsockopt(sk, SOL_PACKET, PACKET_DROP_MEMBERSHIP, mr, sizeof(*mr)) == 0, "%s membership not kept: %s",
		 name, strerror(errno));
}

/* A UDP datagram over lo; sniff must see it go by. */
static void check_spkt(int sk, const char *name, const char *dev)
{
	struct sockaddr sa = {};
	socklen_t len = sizeof(sa);

	WL_CHECK(getsockname(sk, &sa, &len) == 0 && sa.sa_family == AF_PACKET && !strcmp(sa.sa_data, dev),
		 "%s: bound to \"%s\"", name, sa.sa_data);
}

int main(int argc, char **argv)
{
	struct mreq promisc = { .ifindex = LO, .type = PACKET_MR_PROMISC };
	struct mreq uni = { .ifindex = LO, .type = PACKET_MR_UNICAST, .alen = 6 };
	unsigned want;

	wl_init(argc, argv);
	setup();
	wl_ready(argv);
	wl_wait_usr1();
	check_bound(ring, "ring", 0, 0);
	WL_CHECK(get(ring, PACKET_VERSION) == TPACKET_V2, "ring: version %d", get(ring, PACKET_VERSION));
	WL_CHECK(get(ring, PACKET_AUXDATA) == 1, "ring: PACKET_AUXDATA off");
	WL_CHECK(get(ring, PACKET_FANOUT) == 0, "ring: fanout 0x%x", get(ring, PACKET_FANOUT));
	check_ring(ring, "ring");
	check_drop(ring, &promisc, "promiscuous");

	check_bound(ipdg, "ipdg", ETH_P_IP, LO);
	WL_CHECK(get(ipdg, PACKET_RESERVE) == RESERVE, "ipdg: reserve %d", get(ipdg, PACKET_RESERVE));
	WL_CHECK(get(ipdg, PACKET_ORIGDEV) == 1, "ipdg: PACKET_ORIGDEV off");
	/* FANOUT_NO_FLAGS=1: from CRIU's images, which keep id and type only. */
	want = getenv("FANOUT_NO_FLAGS") ? FANOUT & 0xffffff : FANOUT;
	WL_CHECK((unsigned)get(ipdg, PACKET_FANOUT) == want, "ipdg: fanout 0x%x, not 0x%x", get(ipdg, PACKET_FANOUT),
		 want);
	check_ring(ipdg, "ipdg");
	memcpy(uni.addr, ucast, sizeof(ucast));
	check_drop(ipdg, &uni, "unicast");

	check_bound(sniff, "sniff", ETH_P_ALL, LO);
	WL_CHECK(get(sniff, PACKET_LOSS) == 1, "sniff: PACKET_LOSS off");
	WL_CHECK(wl_sees_datagram(sniff, MARK, 47460), "the sniffer saw no datagram over lo");

	check_spkt(spkt, "bound SOCK_PACKET", "lo");
	check_spkt(spkt_free, "unbound SOCK_PACKET", "");
	return wl_finish();
}
