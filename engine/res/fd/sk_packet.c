// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * AF_PACKET sockets (packet_sock_entry): the interface and protocol they
 * are bound to, their PACKET_* options, multicast and promiscuous
 * memberships, rings and fanout group, as packet_diag shows them; also
 * the old SOCK_PACKET kind, bound by interface name.  Packets queued on
 * them are not kept (CRIU drops them too), nor the contents of a ring: a
 * ring mapped into a task's memory (a VMA_AREA_SOCKET VMA naming the
 * socket's file) is mapped again, empty, from the restored socket, the
 * kernel's position in it back at its first frame, as CRIU does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <linux/packet_diag.h>
#include <net/if.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "res/fd/sk_inet.h"
#include "res/fd/sk_opts.h"
#include "res/net/sk_diag.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "packet-sock.pb-c.h"
#include "vma.pb-c.h"
#include "img/vma.h"

/* The image's "no fanout group" (packet_sock_entry.fanout's default). */
#define NO_FANOUT 0xffffffffu

/* PACKET_ADD_MEMBERSHIP's argument with room for any address (the
 * kernel's packet_mreq_max; struct packet_mreq has 8 bytes). */
struct mreq_max {
	int mr_ifindex;
	unsigned short mr_type, mr_alen;
	unsigned char mr_address[32];
};

static bool packet_match(const struct oc_dump_fd *fd)
{
	return S_ISSOCK(fd->st.st_mode) && oc_sk_domain(fd->local) == AF_PACKET;
}

static int dump_mclist(struct oc_arena *a, const struct packet_diag_mclist *ml, size_t n, PacketSockEntry *pe)
{
	pe->mclist = oc_arena_alloc(a, (n ? n : 1) * sizeof(*pe->mclist));
	if (!pe->mclist)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		PacketMclist *m = OC_ARENA_MSG(a, PacketMclist, PACKET_MCLIST__INIT);
		size_t alen = ml[i].pdmc_alen < sizeof(ml[i].pdmc_addr) ? ml[i].pdmc_alen : sizeof(ml[i].pdmc_addr);
		if (!m)
			return -ENOMEM;
		/* The kernel counts a membership added twice once. */
		if (ml[i].pdmc_count != 1)
			return oc_error(-EOPNOTSUPP, "a membership (type %u, interface %u) added %u times",
					ml[i].pdmc_type, ml[i].pdmc_index, ml[i].pdmc_count);
		m->index = ml[i].pdmc_index;
		m->type = ml[i].pdmc_type;
		if (m->type == PACKET_MR_MULTICAST || m->type == PACKET_MR_UNICAST) {
			m->addr.len = alen;
			m->addr.data = oc_arena_memdup(a, ml[i].pdmc_addr, alen ? alen : 1);
			if (!m->addr.data)
				return -ENOMEM;
		}
		pe->mclist[pe->n_mclist++] = m;
	}
	return 0;
}

static PacketRing *dump_ring(struct oc_arena *a, const struct nlmsghdr *m, int attr)
{
	const struct packet_diag_ring *dr;
	PacketRing *ring;
	size_t n = 0;

	dr = oc_sk_diag_attr(m, sizeof(struct packet_diag_msg), attr, &n);
	if (!dr || n < sizeof(*dr))
		return NULL;
	ring = OC_ARENA_MSG(a, PacketRing, PACKET_RING__INIT);
	if (!ring)
		return NULL;
	*ring = (PacketRing){ .base = ring->base,
			      .block_size = dr->pdr_block_size,
			      .block_nr = dr->pdr_block_nr,
			      .frame_size = dr->pdr_frame_size,
			      .frame_nr = dr->pdr_frame_nr,
			      .retire_tmo = dr->pdr_retire_tmo,
			      .sizeof_priv = dr->pdr_sizeof_priv,
			      .features = dr->pdr_features };
	return ring;
}

/* The fanout group: its id and type from packet_diag, which says whether
 * there is one; its flags from getsockopt (less UNIQUEID: the id it chose
 * is in the image, and a restore asks for that one). */
static void dump_fanout(int sk, const struct nlmsghdr *m, PacketSockEntry *pe)
{
	const uint32_t *diag;
	uint32_t val = 0;
	socklen_t len = sizeof(val);
	size_t n = 0;

	diag = oc_sk_diag_attr(m, sizeof(struct packet_diag_msg), PACKET_DIAG_FANOUT, &n);
	if (!diag || n < sizeof(*diag))
		return;
	if (getsockopt(sk, SOL_PACKET, PACKET_FANOUT, &val, &len) < 0)
		val = 0;
	pe->has_fanout = true;
	pe->fanout = (*diag & 0xffffff) | (val & 0xff000000 & ~((uint32_t)PACKET_FANOUT_FLAG_UNIQUEID << 16));
}

static int fill_from_diag(struct oc_arena *a, int sk, const struct nlmsghdr *m, PacketSockEntry *pe)
{
	const struct packet_diag_msg *pm = NLMSG_DATA(m);
	const struct packet_diag_info *pi;
	const void *ml;
	size_t n = 0;
	int r;

	pi = oc_sk_diag_attr(m, sizeof(*pm), PACKET_DIAG_INFO, &n);
	if (!pi || n < sizeof(*pi))
		return oc_error(-EIO, "packet_diag gave no PACKET_DIAG_INFO");
	pe->type = pm->pdiag_type;
	pe->protocol = htons(pm->pdiag_num); /* as socket() takes it */
	pe->ifindex = pi->pdi_index;
	pe->version = pi->pdi_version;
	pe->reserve = pi->pdi_reserve;
	pe->timestamp = pi->pdi_tstamp;
	pe->copy_thresh = pi->pdi_copy_thresh;
	pe->aux_data = pi->pdi_flags & PDI_AUXDATA;
	pe->orig_dev = pi->pdi_flags & PDI_ORIGDEV;
	pe->vnet_hdr = pi->pdi_flags & PDI_VNETHDR;
	pe->loss = pi->pdi_flags & PDI_LOSS;
	ml = oc_sk_diag_attr(m, sizeof(*pm), PACKET_DIAG_MCLIST, &n);
	r = dump_mclist(a, ml, ml ? n / sizeof(struct packet_diag_mclist) : 0, pe);
	if (r < 0)
		return r;
	dump_fanout(sk, m, pe);
	pe->rx_ring = dump_ring(a, m, PACKET_DIAG_RX_RING);
	pe->tx_ring = dump_ring(a, m, PACKET_DIAG_TX_RING);
	return 0;
}

static int packet_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	struct oc_arena *a = t->ctx->arena;
	PacketSockEntry *pe = OC_ARENA_MSG(a, PacketSockEntry, PACKET_SOCK_ENTRY__INIT);
	struct {
		struct nlmsghdr h;
		struct packet_diag_req r;
	} req = { .r = { .sdiag_family = AF_PACKET,
			 .pdiag_show =
				 PACKET_SHOW_INFO | PACKET_SHOW_MCLIST | PACKET_SHOW_RING_CFG | PACKET_SHOW_FANOUT } };
	_cleanup_free_ struct nlmsghdr *m = NULL;
	FileEntry *fe;
	int r;

	if (!pe)
		return -ENOMEM;
	r = oc_sk_diag_find(fd->local, &req, sizeof(req), offsetof(struct packet_diag_msg, pdiag_ino), fd->st.st_ino,
			    &m);
	if (r < 0)
		return oc_error_wrap(r, "packet socket (is packet_diag loaded?)");
	if (!m)
		return oc_error(-ENOENT, "packet_diag does not list packet socket %lu", (unsigned long)fd->st.st_ino);
	r = fill_from_diag(a, fd->local, m, pe);
	if (r == 0)
		r = oc_dump_file_begin(t, fd, FD_TYPES__PACKETSK, &pe->id, &pe->flags, &pe->fown, &fe);
	if (r == 0)
		r = oc_sk_dump_opts(a, fd->local, false, &pe->opts);
	if (r < 0)
		return r;
	if (t->ids && t->ids->has_net_ns_id) {
		pe->has_ns_id = true;
		pe->ns_id = t->ids->net_ns_id;
	}
	fe->psk = pe;
	return oc_dump_file_end(t, fe, ret_id);
}

/* The bytes a mapping of all of @pe's rings spans (what mmap() takes, from
 * offset 0: the receive ring, then the send ring). */
static uint64_t rings_size(const PacketSockEntry *pe)
{
	uint64_t n = 0;

	if (pe->rx_ring)
		n += (uint64_t)pe->rx_ring->block_size * pe->rx_ring->block_nr;
	if (pe->tx_ring)
		n += (uint64_t)pe->tx_ring->block_size * pe->tx_ring->block_nr;
	return n;
}

/* The kernel maps a packet socket's rings whole or not at all: a VMA that
 * is a part of one (split by munmap or mprotect) cannot be made again. */
static int check_ring_vma(const PacketSockEntry *pe, const VmaEntry *ve, const char *what)
{
	uint64_t want = rings_size(pe);

	if (ve->pgoff || ve->end - ve->start != want)
		return oc_error(-EOPNOTSUPP,
				"VMA %" PRIx64 "-%" PRIx64 " maps %" PRIu64 " bytes at offset %" PRIu64
				" of %s, whose rings span %" PRIu64 ": only a mapping of all of them can be restored",
				ve->start, ve->end, ve->end - ve->start, ve->pgoff, what, want);
	return 0;
}

/* The packet socket of inode @ino that an fd of @t holds: its entry, and
 * its file id in *@ret_id. */
static const PacketSockEntry *held_packet_sk(const struct oc_dump_task *t, uint64_t ino, uint32_t *ret_id)
{
	const struct oc_dump_ctx *ctx = t->ctx;
	uint32_t id = 0;

	for (size_t k = 0; !id && k < ctx->n_known_files; k++)
		if (ctx->known_files[k].type == FD_TYPES__PACKETSK && ctx->known_files[k].ino == ino)
			id = ctx->known_files[k].id;
	for (size_t i = 0; id && i < t->n_fds; i++)
		if (t->fds[i]->id == id)
			for (size_t f = 0; f < ctx->n_files; f++)
				if (ctx->files[f]->id == id) {
					*ret_id = id;
					return ctx->files[f]->psk;
				}
	return NULL;
}

/* As CRIU 4.2, which maps the ring from the task's own fd of it. */
int oc_packet_dump_maps(struct oc_dump_task *t)
{
	for (size_t i = 0; t->mm && i < t->mm->n_vmas; i++) {
		VmaEntry *ve = t->mm->vmas[i];
		const PacketSockEntry *pe;
		uint32_t id = 0;
		char what[64];
		int r;

		if (!(ve->status & VMA_AREA_SOCKET))
			continue;
		snprintf(what, sizeof(what), "socket:[%" PRIu64 "]", ve->shmid);
		pe = held_packet_sk(t, ve->shmid, &id);
		if (!pe)
			return oc_error(-EOPNOTSUPP,
					"VMA %" PRIx64 "-%" PRIx64 " maps %s, which is not a packet socket the task "
					"holds an fd of: not supported",
					ve->start, ve->end, what);
		r = check_ring_vma(pe, ve, what);
		if (r < 0)
			return r;
		ve->shmid = id;
	}
	return 0;
}

/* ---- restore ------------------------------------------------------------ */

int oc_packet_rst_map_fd(struct oc_rst_files *files, const VmaEntry *ve, int *ret_fd)
{
	FileEntry *fe = oc_rst_find_file(files->ctx, ve->shmid);
	char what[64];
	int sk, fd, r;

	snprintf(what, sizeof(what), "packet socket (file %" PRIu64 ")", ve->shmid);
	if (!fe || fe->type != FD_TYPES__PACKETSK || !fe->psk)
		return oc_error(-EINVAL,
				"VMA %" PRIx64 " maps file %" PRIu64 " as a packet ring: it is no packet socket",
				ve->start, ve->shmid);
	r = check_ring_vma(fe->psk, ve, what);
	if (r == 0)
		r = oc_rst_open_file(files, fe->id, &sk);
	if (r < 0)
		return r;
	/* A copy of its own, which the restorer closes once mapped. */
	fd = fcntl(sk, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot copy the fd of %s", what);
	fd = oc_rst_high_fd(files, fd);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

static int set_int(int sk, int opt, int v, const char *what)
{
	if (setsockopt(sk, SOL_PACKET, opt, &v, sizeof(v)) < 0)
		return oc_error_errno(-errno, "%s: packet option %d = %d", what, opt, v);
	return 0;
}

static int restore_ring(int sk, int opt, const PacketRing *ring, const char *what)
{
	struct tpacket_req3 req;

	if (!ring)
		return 0;
	req = (struct tpacket_req3){ .tp_block_size = ring->block_size,
				     .tp_block_nr = ring->block_nr,
				     .tp_frame_size = ring->frame_size,
				     .tp_frame_nr = ring->frame_nr,
				     .tp_retire_blk_tov = ring->retire_tmo,
				     .tp_sizeof_priv = ring->sizeof_priv,
				     .tp_feature_req_word = ring->features };
	if (setsockopt(sk, SOL_PACKET, opt, &req, sizeof(req)) < 0)
		return oc_error_errno(-errno, "%s: %s ring of %u blocks of %u bytes", what,
				      opt == PACKET_RX_RING ? "receive" : "send", ring->block_nr, ring->block_size);
	return 0;
}

static int restore_mclist(int sk, const PacketSockEntry *pe, const char *what)
{
	for (size_t i = 0; i < pe->n_mclist; i++) {
		const PacketMclist *m = pe->mclist[i];
		struct mreq_max mr = { .mr_ifindex = m->index, .mr_type = m->type, .mr_alen = m->addr.len };
		if (m->addr.len > sizeof(mr.mr_address))
			return oc_error(-EINVAL, "%s: a membership address of %zu bytes", what, m->addr.len);
		if (m->addr.len)
			memcpy(mr.mr_address, m->addr.data, m->addr.len);
		if (setsockopt(sk, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
			return oc_error_errno(-errno, "%s: membership type %u on interface %u", what, m->type,
					      m->index);
	}
	return 0;
}

/* In the order the kernel allows: the version before the rings, the
 * reserve before them too, the fanout group last. */
static int restore_packet_opts(int sk, const PacketSockEntry *pe, const char *what)
{
	const struct {
		bool set;
		int opt, val;
	} opts[] = {
		{ true, PACKET_VERSION, (int)pe->version },
		{ pe->reserve != 0, PACKET_RESERVE, (int)pe->reserve },
		{ pe->timestamp != 0, PACKET_TIMESTAMP, (int)pe->timestamp },
		{ pe->copy_thresh != 0, PACKET_COPY_THRESH, (int)pe->copy_thresh },
		{ pe->aux_data, PACKET_AUXDATA, 1 },
		{ pe->orig_dev, PACKET_ORIGDEV, 1 },
		{ pe->vnet_hdr, PACKET_VNET_HDR, 1 },
		{ pe->loss, PACKET_LOSS, 1 },
	};
	int r = 0;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(opts); i++)
		if (opts[i].set)
			r = set_int(sk, opts[i].opt, opts[i].val, what);
	if (r == 0)
		r = restore_mclist(sk, pe, what);
	if (r == 0)
		r = restore_ring(sk, PACKET_RX_RING, pe->rx_ring, what);
	if (r == 0)
		r = restore_ring(sk, PACKET_TX_RING, pe->tx_ring, what);
	if (r == 0 && pe->has_fanout && pe->fanout != NO_FANOUT)
		r = set_int(sk, PACKET_FANOUT, (int)pe->fanout, what);
	return r;
}

/* SOCK_PACKET binds by interface name. */
static int bind_spkt(int sk, const PacketSockEntry *pe, const char *what)
{
	struct sockaddr sa = { .sa_family = AF_PACKET };
	struct ifreq ifr = { .ifr_ifindex = (int)pe->ifindex };

	if (!pe->ifindex)
		return 0;
	/* The name in the socket's own namespace, which ours may not be. */
	if (ioctl(sk, SIOCGIFNAME, &ifr) < 0)
		return oc_error_errno(-errno, "%s: no interface %u", what, pe->ifindex);
	/* sa_data holds 13 characters and the NUL, as the kernel reads it. */
	memcpy(sa.sa_data, ifr.ifr_name, sizeof(sa.sa_data) - 1);
	if (bind(sk, &sa, sizeof(sa)) < 0)
		return oc_error_errno(-errno, "%s: cannot bind to %s", what, ifr.ifr_name);
	return 0;
}

static int packet_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	const PacketSockEntry *pe = fe->psk;
	_cleanup_close_ int sk = -1;
	char what[96];
	int r;

	if (!pe || !pe->opts)
		return oc_error(-EINVAL, "files.img: file %u has no packet socket entry", fe->id);
	snprintf(what, sizeof(what), "packet socket (file %u, interface %u)", fe->id, pe->ifindex);
	r = oc_sk_rst_socket(files->ctx, AF_PACKET, pe->type, pe->protocol, what, &sk);
	if (r < 0)
		return r;
	if (pe->type == SOCK_PACKET) {
		r = bind_spkt(sk, pe, what);
	} else {
		struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_ifindex = (int)pe->ifindex };
		r = bind(sk, (struct sockaddr *)&ll, sizeof(ll)) < 0 ? oc_error_errno(-errno, "%s: cannot bind", what)
								     : restore_packet_opts(sk, pe, what);
	}
	if (r == 0)
		r = oc_sk_restore_opts(sk, pe->opts, what);
	if (r == 0)
		r = oc_rst_set_status_flags(sk, pe->flags);
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(sk);
	return 0;
}

const struct oc_fd_kind oc_fd_kind_packet = {
	.name = "packet socket",
	.type = FD_TYPES__PACKETSK,
	.match = packet_match,
	.dump = packet_dump,
	.open = packet_open,
};
