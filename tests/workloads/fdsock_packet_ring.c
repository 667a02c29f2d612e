// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Packet rings mapped into memory across a checkpoint (run it in a network
 * namespace of its own with lo up: lo is interface 1 there).  Before:
 *  - v2: SOCK_RAW for every protocol bound to lo, TPACKET_V2, a receive
 *    ring of 2 blocks of 4 KiB in 2 KiB frames and a send ring of 1 block,
 *    both mapped shared and writable; one datagram was caught in it and
 *    handed back to the kernel;
 *  - v3: SOCK_DGRAM for IPv4 bound to lo, TPACKET_V3, a receive ring of 2
 *    blocks (10 ms block timeout), mapped private and read-only.
 * After SIGUSR1: each mapping is where it was, as large, with the same
 * protection and sharing, and of its socket (/proc/self/maps); the
 * versions hold (a ring is there), the rings span what they did (mmap of
 * another size fails); a frame put in the send ring goes out and comes
 * back into the receive ring, and a UDP datagram over lo shows up in both
 * receive rings, read through the old mappings.  The rings come back empty,
 * as CRIU restores them: a frame is looked for anywhere in them.
 * RING_PARTIAL=1 leaves only a part of v2's mapping, RING_CLOSED=1 v3's
 * mapping without its fd, for a dump to refuse.
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>

#include "fdsock_wl.h"
#include "fdsock_net.h"

#define LO	  1
#define BLOCK	  4096u
#define FRAME	  2048u
#define RX_BLOCKS 2u
#define TX_BLOCKS 1u
#define V2_LEN	  ((RX_BLOCKS + TX_BLOCKS) * BLOCK)
#define V3_LEN	  (RX_BLOCKS * BLOCK)
#define ETH_TEST  0x88b5 /* IEEE's local experimental ethertype */
#define PORT	  47461

static int v2, v3;
static unsigned char *v2_map, *v3_map;

static struct tpacket_req3 ring_req(unsigned blocks, unsigned tmo)
{
	return (struct tpacket_req3){ .tp_block_size = BLOCK,
				      .tp_block_nr = blocks,
				      .tp_frame_size = FRAME,
				      .tp_frame_nr = blocks * (BLOCK / FRAME),
				      .tp_retire_blk_tov = tmo };
}

static struct tpacket2_hdr *v2_rx_frame(unsigned i)
{
	return (struct tpacket2_hdr *)(v2_map + i * FRAME);
}

/* The receive frame of v2 that holds @mark, or NULL; with @release, the
 * frames looked at go back to the kernel. */
static struct tpacket2_hdr *v2_find(const char *mark, bool release)
{
	struct tpacket2_hdr *found = NULL;

	for (unsigned i = 0; i < RX_BLOCKS * (BLOCK / FRAME); i++) {
		struct tpacket2_hdr *h = v2_rx_frame(i);
		if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			continue;
		if (h->tp_mac + h->tp_snaplen <= FRAME &&
		    memmem((char *)h + h->tp_mac, h->tp_snaplen, mark, strlen(mark) + 1))
			found = h;
		if (release)
			__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	}
	return found;
}

/* Does v3's ring hold a retired block with @mark in it? */
static bool v3_find(const char *mark)
{
	for (unsigned b = 0; b < RX_BLOCKS; b++) {
		const struct tpacket_block_desc *d = (const void *)(v3_map + b * BLOCK);
		if (!(__atomic_load_n(&d->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			continue;
		if (d->hdr.bh1.num_pkts && memmem(d, BLOCK, mark, strlen(mark) + 1))
			return true;
	}
	return false;
}

static void send_datagram(const char *mark)
{
	struct sockaddr_in to = wl_sin4("127.0.0.1", PORT);
	int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (u < 0 || sendto(u, mark, strlen(mark) + 1, 0, (void *)&to, sizeof(to)) <= 0)
		wl_fail("send over lo: %s", strerror(errno));
	if (u >= 0)
		close(u);
}

/* Wait up to 2 s for @found(@mark). */
static bool wait_for(bool (*found)(const char *), const char *mark)
{
	for (int i = 0; i < 200; i++) {
		if (found(mark))
			return true;
		usleep(10000);
	}
	return false;
}

static bool v2_has(const char *mark)
{
	return v2_find(mark, false) != NULL;
}

static void setup(void)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_ifindex = LO, .sll_protocol = htons(ETH_P_ALL) };
	struct tpacket_req3 rx = ring_req(RX_BLOCKS, 0), tx = ring_req(TX_BLOCKS, 0);

	v2 = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	WL_SETUP(v2 >= 0 && bind(v2, (void *)&ll, sizeof(ll)) == 0, "packet socket on lo");
	wl_setopt(v2, SOL_PACKET, PACKET_VERSION, TPACKET_V2, "PACKET_VERSION 2");
	/* tpacket_req is the head of tpacket_req3. */
	WL_SETUP(setsockopt(v2, SOL_PACKET, PACKET_RX_RING, &rx, sizeof(struct tpacket_req)) == 0, "PACKET_RX_RING");
	WL_SETUP(setsockopt(v2, SOL_PACKET, PACKET_TX_RING, &tx, sizeof(struct tpacket_req)) == 0, "PACKET_TX_RING");
	v2_map = mmap(NULL, V2_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, v2, 0);
	WL_SETUP(v2_map != MAP_FAILED, "mmap of the v2 rings");
	/* The ring in use before the checkpoint: a frame in, and back. */
	send_datagram("ocicr-ring-before");
	WL_SETUP(wait_for(v2_has, "ocicr-ring-before"), "a datagram in the v2 ring");
	v2_find("ocicr-ring-before", true);

	ll.sll_protocol = htons(ETH_P_IP);
	rx = ring_req(RX_BLOCKS, 10);
	v3 = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	WL_SETUP(v3 >= 0 && bind(v3, (void *)&ll, sizeof(ll)) == 0, "IPv4 packet socket on lo");
	wl_setopt(v3, SOL_PACKET, PACKET_VERSION, TPACKET_V3, "PACKET_VERSION 3");
	WL_SETUP(setsockopt(v3, SOL_PACKET, PACKET_RX_RING, &rx, sizeof(rx)) == 0, "PACKET_RX_RING v3");
	v3_map = mmap(NULL, V3_LEN, PROT_READ, MAP_PRIVATE, v3, 0);
	WL_SETUP(v3_map != MAP_FAILED, "mmap of the v3 ring");
	/* RING_PARTIAL=1: the send ring unmapped, a part of the mapping left
	 * (which cannot be mapped so again: the dump must refuse it). */
	if (getenv("RING_PARTIAL"))
		WL_SETUP(munmap(v2_map + RX_BLOCKS * BLOCK, TX_BLOCKS * BLOCK) == 0, "munmap of the send ring");
	/* RING_CLOSED=1: v3's ring stays mapped, its fd is closed (the dump
	 * must refuse it: neither CRIU nor ocicr can open that socket again). */
	if (getenv("RING_CLOSED"))
		close(v3);
}

/* /proc/self/maps has @len bytes at @map with @perms, of socket @sk. */
static void check_mapping(const char *name, const void *map, size_t len, const char *perms, int sk)
{
	static char buf[65536];
	unsigned long start = (unsigned long)map, end = start + len;
	struct stat st;
	ssize_t n = 0, got;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	WL_SETUP(fd >= 0 && fstat(sk, &st) == 0, "/proc/self/maps");
	while (n < (ssize_t)sizeof(buf) - 1 && (got = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += got;
	close(fd);
	buf[n] = '\0';
	for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		unsigned long s, e, off;
		unsigned maj, min;
		unsigned long long ino;
		char p[8];
		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %llu", &s, &e, p, &off, &maj, &min, &ino) != 7 || s != start)
			continue;
		WL_CHECK(e == end, "%s: the mapping at %lx ends at %lx, not %lx", name, s, e, end);
		WL_CHECK(!strcmp(p, perms), "%s: the mapping at %lx is %s, not %s", name, s, p, perms);
		WL_CHECK(off == 0, "%s: the mapping at %lx is at offset %lx", name, s, off);
		WL_CHECK(ino == st.st_ino && makedev(maj, min) == st.st_dev,
			 "%s: the mapping at %lx is of inode %llu, not of the socket's %llu", name, s, ino,
			 (unsigned long long)st.st_ino);
		return;
	}
	wl_fail("%s: nothing is mapped at %lx", name, start);
}

/* The version cannot change under a ring; a mapping must span the rings. */
static void check_ring_settings(const char *name, int sk, int version, size_t len, int prot)
{
	void *m;

	WL_CHECK(wl_getopt(sk, SOL_PACKET, PACKET_VERSION) == version, "%s: version %d", name,
		 wl_getopt(sk, SOL_PACKET, PACKET_VERSION));
	errno = 0;
	WL_CHECK(setsockopt(sk, SOL_PACKET, PACKET_VERSION, &(int){ TPACKET_V1 }, sizeof(int)) < 0 && errno == EBUSY,
		 "%s: no ring holds the version (errno %d)", name, errno);
	m = mmap(NULL, len - BLOCK, prot, MAP_SHARED, sk, 0);
	WL_CHECK(m == MAP_FAILED, "%s: the rings are smaller than %zu bytes", name, len);
	if (m != MAP_FAILED)
		munmap(m, len - BLOCK);
	m = mmap(NULL, len, prot, MAP_SHARED, sk, 0);
	WL_CHECK(m != MAP_FAILED, "%s: the rings are not %zu bytes: %s", name, len, strerror(errno));
	if (m != MAP_FAILED)
		munmap(m, len);
}

/* A frame written into v2's send ring goes out on lo and comes back. */
static void check_tx(void)
{
	static const char mark[] = "ocicr-ring-tx";
	struct tpacket2_hdr *h = (struct tpacket2_hdr *)(v2_map + RX_BLOCKS * BLOCK);
	unsigned char *data = (unsigned char *)h + TPACKET_ALIGN(sizeof(*h));
	struct ethhdr eth = { .h_proto = htons(ETH_TEST) };

	WL_CHECK(h->tp_status == TP_STATUS_AVAILABLE, "tx: the first send frame is not free (0x%x)", h->tp_status);
	memset(eth.h_dest, 0xff, ETH_ALEN);
	memcpy(data, &eth, sizeof(eth));
	memcpy(data + sizeof(eth), mark, sizeof(mark));
	h->tp_len = sizeof(eth) + sizeof(mark);
	__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
	WL_CHECK(send(v2, NULL, 0, 0) == (ssize_t)h->tp_len, "tx: send of the ring's frame: %s", strerror(errno));
	WL_CHECK(h->tp_status == TP_STATUS_AVAILABLE, "tx: the frame sent is not free again (0x%x)", h->tp_status);
	WL_CHECK(wait_for(v2_has, mark), "tx: the frame sent never came back into the receive ring");
	v2_find(mark, true);
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);
	setup();
	wl_ready(argv);
	wl_wait_usr1();

	check_mapping("v2", v2_map, V2_LEN, "rw-s", v2);
	check_mapping("v3", v3_map, V3_LEN, "r--p", v3);
	check_ring_settings("v2", v2, TPACKET_V2, V2_LEN, PROT_READ | PROT_WRITE);
	check_ring_settings("v3", v3, TPACKET_V3, V3_LEN, PROT_READ);
	check_tx();
	send_datagram("ocicr-ring-after");
	WL_CHECK(wait_for(v2_has, "ocicr-ring-after"), "v2: the datagram sent after never came into the ring");
	WL_CHECK(wait_for(v3_find, "ocicr-ring-after"), "v3: the datagram sent after never came into the ring");
	return wl_finish();
}
