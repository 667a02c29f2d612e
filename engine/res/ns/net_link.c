// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The links of a network namespace over rtnetlink: listed at dump
 * (RTM_GETLINK), made at restore (RTM_NEWLINK): a veth pair with its peer
 * in another namespace, as CRIU's external veth[IFNAME]:OUTSIDE@BRIDGE,
 * or both ends here; a bridge; a macvlan over a device outside, as
 * CRIU's external macvlan[IFNAME]:OUTSIDE.  Its permanent neighbours
 * (RTM_GETNEIGH, RTM_NEWNEIGH), kept as the kernel's own messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "img/image.h"
#include "res/ns/net.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

int oc_net_nl_open(void)
{
	int sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (sk < 0)
		return oc_error_errno(-errno, "cannot open an rtnetlink socket");
	return sk;
}

/* A request being built: the message and room for its attributes. */
struct nl_req {
	struct nlmsghdr h;
	struct ifinfomsg ifi;
	char attrs[1024];
};

static struct rtattr *nl_tail(struct nl_req *req)
{
	return (struct rtattr *)((char *)req + NLMSG_ALIGN(req->h.nlmsg_len));
}

static void nl_put(struct nl_req *req, int type, const void *data, size_t len)
{
	struct rtattr *a = nl_tail(req);

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	req->h.nlmsg_len = NLMSG_ALIGN(req->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static struct rtattr *nl_nest(struct nl_req *req, int type)
{
	struct rtattr *a = nl_tail(req);

	nl_put(req, type, NULL, 0);
	return a;
}

static void nl_nest_end(struct nl_req *req, struct rtattr *a)
{
	a->rta_len = (char *)nl_tail(req) - (char *)a;
}

/* Send @req on @sk and wait for its acknowledgement. */
static int nl_ack(int sk, struct nl_req *req, const char *what)
{
	char buf[4096];
	ssize_t n;

	req->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	req->h.nlmsg_seq = 1;
	if (send(sk, req, req->h.nlmsg_len, 0) < 0)
		return oc_error_errno(-errno, "%s: netlink send", what);
	n = recv(sk, buf, sizeof(buf), 0);
	if (n < 0)
		return oc_error_errno(-errno, "%s: netlink recv", what);
	for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type != NLMSG_ERROR)
			continue;
		struct nlmsgerr *e = NLMSG_DATA(h);
		return e->error ? oc_error_errno(e->error, "%s", what) : 0;
	}
	return oc_error(-EIO, "%s: no answer from the kernel", what);
}

/* @req sent on a socket of its own, acknowledged; what failed named by
 * @fmt. */
static int __attribute__((format(printf, 2, 3))) nl_once(struct nl_req *req, const char *fmt, ...)
{
	_cleanup_close_ int sk = oc_net_nl_open();
	char what[128];
	va_list ap;

	if (sk < 0)
		return sk;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return nl_ack(sk, req, what);
}

static uint32_t rta_u32(const struct rtattr *a)
{
	uint32_t v = 0;

	memcpy(&v, RTA_DATA(a), RTA_PAYLOAD(a) < sizeof(v) ? RTA_PAYLOAD(a) : sizeof(v));
	return v;
}

/* The settings of a bridge ocicr gives back (IFLA_BR_*), copied as the
 * kernel gives them into @l->info; CRIU 4.2 keeps none of them. */
static void bridge_parse(struct rtattr *data, struct oc_net_link *l)
{
	static const unsigned short kept[] = { IFLA_BR_FORWARD_DELAY, IFLA_BR_HELLO_TIME, IFLA_BR_MAX_AGE,
					       IFLA_BR_AGEING_TIME,   IFLA_BR_PRIORITY,	  IFLA_BR_STP_STATE };
	int len = RTA_PAYLOAD(data);

	for (struct rtattr *a = RTA_DATA(data); RTA_OK(a, len); a = RTA_NEXT(a, len))
		for (size_t k = 0; k < ARRAY_SIZE(kept); k++)
			if (a->rta_type == kept[k] && l->info_len + RTA_ALIGN(a->rta_len) <= sizeof(l->info)) {
				memcpy(l->info + l->info_len, a, a->rta_len);
				l->info_len += RTA_ALIGN(a->rta_len);
			}
}

/* A macvlan's mode and flags into @m. */
static void macvlan_parse(struct rtattr *data, MacvlanLinkEntry *m, bool *has_mode)
{
	int len = RTA_PAYLOAD(data);

	macvlan_link_entry__init(m);
	for (struct rtattr *a = RTA_DATA(data); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_MACVLAN_MODE) {
			m->mode = rta_u32(a);
			*has_mode = true;
		} else if (a->rta_type == IFLA_MACVLAN_FLAGS) {
			m->has_flags = true;
			m->flags = rta_u32(a); /* a u16 */
		}
	}
}

/* IFLA_LINKINFO: the kind, and what a bridge or a macvlan keeps. */
static void linkinfo_parse(struct rtattr *info, struct oc_net_link *l)
{
	struct rtattr *data = NULL;
	int len = RTA_PAYLOAD(info);
	bool has_mode = false;

	for (struct rtattr *i = RTA_DATA(info); RTA_OK(i, len); i = RTA_NEXT(i, len)) {
		if (i->rta_type == IFLA_INFO_KIND)
			snprintf(l->kind, sizeof(l->kind), "%.*s", (int)RTA_PAYLOAD(i), (char *)RTA_DATA(i));
		else if (i->rta_type == IFLA_INFO_DATA)
			data = i;
	}
	if (!data)
		return;
	if (!strcmp(l->kind, "bridge")) {
		bridge_parse(data, l);
	} else if (!strcmp(l->kind, "macvlan")) {
		macvlan_parse(data, &l->macvlan, &has_mode);
		l->nde.macvlan = has_mode ? &l->macvlan : NULL;
	}
}

/* The attributes of an RTM_NEWLINK answer into @l. */
static void link_parse(struct nlmsghdr *h, struct oc_net_link *l)
{
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct rtattr *linkinfo = NULL;
	int len = IFLA_PAYLOAD(h);

	net_device_entry__init(&l->nde);
	l->nde.ifindex = ifi->ifi_index;
	l->nde.flags = ifi->ifi_flags;
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t n = RTA_PAYLOAD(a);
		switch (a->rta_type) {
		case IFLA_IFNAME:
			snprintf(l->name, sizeof(l->name), "%.*s", (int)n, (char *)RTA_DATA(a));
			break;
		case IFLA_MTU:
			l->nde.mtu = *(uint32_t *)RTA_DATA(a);
			break;
		case IFLA_ADDRESS:
			if (n <= sizeof(l->addr)) {
				memcpy(l->addr, RTA_DATA(a), n);
				l->nde.has_address = true;
				l->nde.address.len = n;
			}
			break;
		case IFLA_LINK:
			l->nde.has_peer_ifindex = true;
			l->nde.peer_ifindex = *(uint32_t *)RTA_DATA(a);
			break;
		case IFLA_MASTER:
			l->nde.has_master = true;
			l->nde.master = *(uint32_t *)RTA_DATA(a);
			break;
		case IFLA_LINK_NETNSID:
			l->link_elsewhere = true;
			break;
		case IFLA_LINKINFO:
			linkinfo = a;
			break;
		}
	}
	if (linkinfo)
		linkinfo_parse(linkinfo, l);
	oc_net_link_fix(l);
}

void oc_net_link_fix(struct oc_net_link *l)
{
	l->nde.name = l->name;
	l->nde.address.data = l->addr;
	l->nde.macvlan = l->nde.macvlan ? &l->macvlan : NULL;
}

/*
 * Dump request @type (RTM_GETLINK, RTM_GETNEIGH, with a zeroed header of
 * @hdr_len bytes: every family) on a socket of its own; each message of
 * the answer given to @fn until the kernel is done.
 */
static int nl_dump(int type, size_t hdr_len, int (*fn)(struct nlmsghdr *h, void *arg), void *arg)
{
	struct {
		struct nlmsghdr h;
		char hdr[32];
	} req = { .h = { .nlmsg_len = NLMSG_LENGTH(hdr_len),
			 .nlmsg_type = type,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			 .nlmsg_seq = 1 } };
	_cleanup_close_ int sk = oc_net_nl_open();
	static char buf[32768];
	int r;

	if (sk < 0)
		return sk;
	if (send(sk, &req, req.h.nlmsg_len, 0) < 0)
		return oc_error_errno(-errno, "netlink dump %d: send", type);
	for (;;) {
		ssize_t len = recv(sk, buf, sizeof(buf), 0);
		if (len < 0)
			return oc_error_errno(-errno, "netlink dump %d: recv", type);
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return oc_error_errno(((struct nlmsgerr *)NLMSG_DATA(h))->error, "netlink dump %d",
						      type);
			r = fn(h, arg);
			if (r < 0)
				return r;
		}
	}
}

struct link_list {
	struct oc_net_link *links;
	size_t n;
};

static int link_add(struct nlmsghdr *h, void *arg)
{
	struct link_list *l = arg;

	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	struct oc_net_link *more = realloc(l->links, (l->n + 1) * sizeof(*l->links));
	if (!more)
		return -ENOMEM;
	l->links = more;
	memset(&l->links[l->n], 0, sizeof(l->links[l->n]));
	link_parse(h, &l->links[l->n++]);
	return 0;
}

int oc_net_links_list(struct oc_net_link **ret, size_t *ret_n)
{
	struct link_list l = { 0 };
	int r = nl_dump(RTM_GETLINK, sizeof(struct ifinfomsg), link_add, &l);

	if (r < 0) {
		free(l.links);
		return r;
	}
	*ret = l.links;
	*ret_n = l.n;
	return 0;
}

/* An empty RTM_NEWLINK request for link @ifindex (0: by name). */
static void link_change_req(struct nl_req *req, int ifindex)
{
	memset(req, 0, sizeof(*req));
	req->h.nlmsg_len = NLMSG_LENGTH(sizeof(req->ifi));
	req->h.nlmsg_type = RTM_NEWLINK;
	req->ifi.ifi_family = AF_UNSPEC;
	req->ifi.ifi_index = ifindex;
}

/* The link-level settings of @nde (name, MTU, address) as attributes. */
static void link_attrs(struct nl_req *req, const NetDeviceEntry *nde)
{
	nl_put(req, IFLA_IFNAME, nde->name, strlen(nde->name) + 1);
	nl_put(req, IFLA_MTU, &nde->mtu, sizeof(nde->mtu));
	if (nde->has_address && nde->address.len)
		nl_put(req, IFLA_ADDRESS, nde->address.data, nde->address.len);
}

/* Message header of a new link request for @nde (its name, MTU, address). */
static void link_req(struct nl_req *req, const NetDeviceEntry *nde)
{
	link_change_req(req, (int)nde->ifindex);
	req->h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	link_attrs(req, nde);
}

/* The request making veth @nde with its peer: @peer here (its index,
 * name, MTU and address), or, without it, @peer_name in namespace
 * @peer_ns. */
static void veth_req(struct nl_req *req, const NetDeviceEntry *nde, const NetDeviceEntry *peer, const char *peer_name,
		     int peer_ns)
{
	struct ifinfomsg pi = { .ifi_family = AF_UNSPEC, .ifi_index = peer ? (int)peer->ifindex : 0 };

	link_req(req, nde);
	struct rtattr *info = nl_nest(req, IFLA_LINKINFO);
	nl_put(req, IFLA_INFO_KIND, "veth", 4);
	struct rtattr *data = nl_nest(req, IFLA_INFO_DATA);
	struct rtattr *pa = nl_tail(req);
	nl_put(req, VETH_INFO_PEER, &pi, sizeof(pi));
	if (peer) {
		link_attrs(req, peer);
	} else {
		nl_put(req, IFLA_IFNAME, peer_name, strlen(peer_name) + 1);
		nl_put(req, IFLA_NET_NS_FD, &peer_ns, sizeof(peer_ns));
	}
	nl_nest_end(req, pa);
	nl_nest_end(req, data);
	nl_nest_end(req, info);
}

int oc_net_veth_create(const NetDeviceEntry *nde, const char *peer_name, int peer_ns, int peer_nl, int peer_master)
{
	struct nl_req req;
	char what[96];
	int r;

	veth_req(&req, nde, NULL, peer_name, peer_ns);
	r = nl_once(&req, "cannot make the veth pair %s / %s", nde->name, peer_name);
	if (r < 0)
		return r;

	/* the peer, outside: into its bridge, up */
	link_change_req(&req, 0);
	req.ifi.ifi_flags = IFF_UP;
	req.ifi.ifi_change = IFF_UP;
	nl_put(&req, IFLA_IFNAME, peer_name, strlen(peer_name) + 1);
	if (peer_master)
		nl_put(&req, IFLA_MASTER, &peer_master, sizeof(peer_master));
	snprintf(what, sizeof(what), "cannot put the veth peer %s up%s", peer_name,
		 peer_master ? " in its bridge" : "");
	return nl_ack(peer_nl, &req, what);
}

int oc_net_veth_pair_create(const NetDeviceEntry *a, const NetDeviceEntry *b)
{
	struct nl_req req;

	veth_req(&req, a, b, NULL, -1);
	return nl_once(&req, "cannot make the veth pair %s / %s", a->name, b->name);
}

int oc_net_bridge_create(const NetDeviceEntry *nde)
{
	struct nl_req req;

	link_req(&req, nde);
	struct rtattr *info = nl_nest(&req, IFLA_LINKINFO);
	nl_put(&req, IFLA_INFO_KIND, "bridge", 6);
	nl_nest_end(&req, info);
	return nl_once(&req, "cannot make the bridge %s", nde->name);
}

/* One RTM_NEWLINK message per link with settings of its kind that
 * netdev-ID.img has no room for (a bridge's STP state and timers): the
 * link's index, its kind and those attributes, as the kernel gave them. */
int oc_net_linkinfo_dump(struct oc_imgdir *dir, uint32_t id, const struct oc_net_link *links, size_t n)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!links[i].info_len)
			continue;
		struct nl_req req;
		link_change_req(&req, (int)links[i].nde.ifindex);
		struct rtattr *info = nl_nest(&req, IFLA_LINKINFO);
		nl_put(&req, IFLA_INFO_KIND, links[i].kind, strlen(links[i].kind));
		nl_put(&req, IFLA_INFO_DATA, links[i].info, links[i].info_len);
		nl_nest_end(&req, info);
		fwrite(&req, 1, req.h.nlmsg_len, out);
	}
	if (fclose(out))
		return -ENOMEM;
	return len ? oc_net_raw_save(dir, OC_IMG_LINKINFO, id, buf, len) : 0;
}

/* The messages of raw image @name of namespace @id, each checked to be
 * of @type and at least @min long, given to @fn. */
static int nl_image_each(struct oc_imgdir *dir, const char *name, uint32_t id, int type, size_t min,
			 int (*fn)(int sk, struct nlmsghdr *h))
{
	_cleanup_close_ int fd = -1, sk = -1;
	_cleanup_free_ char *buf = NULL;
	size_t size;
	int r;

	r = oc_net_raw_open(dir, name, id, &fd, &size);
	if (r < 0 || fd < 0)
		return r;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	if (pread(fd, buf, size, 0) != (ssize_t)size)
		return oc_error_errno(errno ? -errno : -EIO, "%s-%u.img", name, id);
	sk = oc_net_nl_open();
	if (sk < 0)
		return sk;
	size_t left = size;
	for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		if (h->nlmsg_type != type || h->nlmsg_len < NLMSG_LENGTH(min))
			return oc_error(-EINVAL, "%s-%u.img: a message of type %u, not %d", name, id, h->nlmsg_type,
					type);
		r = fn(sk, h);
		if (r < 0)
			return oc_error_wrap(r, "%s-%u.img", name, id);
	}
	return 0;
}

static int linkinfo_set(int sk, struct nlmsghdr *h)
{
	h->nlmsg_flags = 0;
	return nl_ack(sk, (struct nl_req *)h, "cannot set a link's saved settings");
}

int oc_net_linkinfo_restore(struct oc_imgdir *dir, uint32_t id)
{
	return nl_image_each(dir, "ocicr-linkinfo", id, RTM_NEWLINK, sizeof(struct ifinfomsg), linkinfo_set);
}

int oc_net_macvlan_create(const NetDeviceEntry *nde, int lower, int outer_nl)
{
	_cleanup_close_ int here = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	struct nl_req req;
	char what[80];

	if (here < 0)
		return oc_error_errno(-errno, "/proc/thread-self/ns/net");
	if (!nde->macvlan)
		return oc_error(-EINVAL, "macvlan %s: no mode saved", nde->name);
	/* made where its lower device is, into this namespace */
	link_req(&req, nde);
	nl_put(&req, IFLA_LINK, &lower, sizeof(lower));
	nl_put(&req, IFLA_NET_NS_FD, &here, sizeof(here));
	struct rtattr *info = nl_nest(&req, IFLA_LINKINFO);
	nl_put(&req, IFLA_INFO_KIND, "macvlan", 7);
	struct rtattr *data = nl_nest(&req, IFLA_INFO_DATA);
	nl_put(&req, IFLA_MACVLAN_MODE, &nde->macvlan->mode, sizeof(uint32_t));
	if (nde->macvlan->has_flags) {
		uint16_t flags = (uint16_t)nde->macvlan->flags;
		nl_put(&req, IFLA_MACVLAN_FLAGS, &flags, sizeof(flags));
	}
	nl_nest_end(&req, data);
	nl_nest_end(&req, info);
	snprintf(what, sizeof(what), "cannot make the macvlan %s", nde->name);
	return nl_ack(outer_nl, &req, what);
}

int oc_net_link_set_master(const NetDeviceEntry *nde)
{
	struct nl_req req;

	link_change_req(&req, (int)nde->ifindex);
	nl_put(&req, IFLA_MASTER, &nde->master, sizeof(nde->master));
	return nl_once(&req, "cannot put %s into its master (index %u)", nde->name, nde->master);
}

/* A permanent neighbour entry (IPv4, IPv6; not a proxy) into @out. */
static int neigh_keep(struct nlmsghdr *h, void *out)
{
	struct ndmsg *nd = NLMSG_DATA(h);

	if (h->nlmsg_type == RTM_NEWNEIGH && (nd->ndm_state & NUD_PERMANENT) &&
	    (nd->ndm_family == AF_INET || nd->ndm_family == AF_INET6))
		fwrite(h, 1, NLMSG_ALIGN(h->nlmsg_len), out);
	return 0;
}

int oc_net_neigh_dump(struct oc_imgdir *dir, uint32_t id)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int r;

	if (!out)
		return -ENOMEM;
	r = nl_dump(RTM_GETNEIGH, sizeof(struct ndmsg), neigh_keep, out);
	if (fclose(out) && r >= 0)
		r = -ENOMEM;
	if (r < 0 || !len)
		return r;
	return oc_net_raw_save(dir, OC_IMG_NEIGH, id, buf, len);
}

/* One saved entry made again: its address, link-layer address, device. */
static int neigh_add(int sk, struct nlmsghdr *saved)
{
	const struct ndmsg *nd = NLMSG_DATA(saved);
	int len = saved->nlmsg_len - NLMSG_LENGTH(sizeof(*nd));
	struct {
		struct nlmsghdr h;
		struct ndmsg nd;
		char attrs[128];
	} req = { .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
			 .nlmsg_type = RTM_NEWNEIGH,
			 .nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE },
		  .nd = { .ndm_family = nd->ndm_family,
			  .ndm_ifindex = nd->ndm_ifindex,
			  .ndm_state = NUD_PERMANENT,
			  .ndm_flags = nd->ndm_flags & NTF_ROUTER,
			  .ndm_type = nd->ndm_type } };

	for (const struct rtattr *a = (const void *)((const char *)nd + NLMSG_ALIGN(sizeof(*nd))); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		if ((a->rta_type != NDA_DST && a->rta_type != NDA_LLADDR) ||
		    NLMSG_ALIGN(req.h.nlmsg_len) + RTA_SPACE(RTA_PAYLOAD(a)) > sizeof(req))
			continue;
		nl_put((struct nl_req *)&req, a->rta_type, RTA_DATA(a), RTA_PAYLOAD(a));
	}
	return nl_ack(sk, (struct nl_req *)&req, "cannot add a permanent neighbour");
}

int oc_net_neigh_restore(struct oc_imgdir *dir, uint32_t id)
{
	return nl_image_each(dir, "ocicr-neigh", id, RTM_NEWNEIGH, sizeof(struct ndmsg), neigh_add);
}

int oc_net_link_set_flags(const NetDeviceEntry *nde)
{
	_cleanup_close_ int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };

	if (sk < 0)
		return oc_error_errno(-errno, "socket");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", nde->name);
	if (ioctl(sk, SIOCGIFFLAGS, &ifr) < 0)
		return oc_error_errno(-errno, "cannot read the flags of %s", nde->name);
	ifr.ifr_flags = (short)((ifr.ifr_flags & ~(IFF_UP | IFF_DEBUG | IFF_NOARP | IFF_PROMISC | IFF_ALLMULTI)) |
				(nde->flags & (IFF_UP | IFF_DEBUG | IFF_NOARP | IFF_PROMISC | IFF_ALLMULTI)));
	if (ioctl(sk, SIOCSIFFLAGS, &ifr) < 0)
		return oc_error_errno(-errno, "cannot set the flags of %s", nde->name);
	return 0;
}
