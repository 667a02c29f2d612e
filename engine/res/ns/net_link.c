// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The links of a network namespace over rtnetlink: listed at dump
 * (RTM_GETLINK), a veth pair made at restore (RTM_NEWLINK) with its peer
 * in another namespace, as CRIU's external veth[IFNAME]:OUTSIDE@BRIDGE.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* The attributes of an RTM_NEWLINK answer into @l. */
static void link_parse(struct nlmsghdr *h, struct oc_net_link *l)
{
	struct ifinfomsg *ifi = NLMSG_DATA(h);
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
		case IFLA_LINKINFO: {
			int ilen = n;
			for (struct rtattr *i = RTA_DATA(a); RTA_OK(i, ilen); i = RTA_NEXT(i, ilen))
				if (i->rta_type == IFLA_INFO_KIND)
					snprintf(l->kind, sizeof(l->kind), "%.*s", (int)RTA_PAYLOAD(i),
						 (char *)RTA_DATA(i));
			break;
		}
		}
	}
	l->nde.name = l->name;
	l->nde.address.data = l->addr;
}

int oc_net_links_list(struct oc_net_link **ret, size_t *ret_n)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg ifi;
	} req = { .h = { .nlmsg_len = sizeof(req),
			 .nlmsg_type = RTM_GETLINK,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			 .nlmsg_seq = 1 },
		  .ifi = { .ifi_family = AF_UNSPEC } };
	_cleanup_close_ int sk = oc_net_nl_open();
	_cleanup_free_ struct oc_net_link *links = NULL;
	static char buf[32768];
	size_t n = 0;

	if (sk < 0)
		return sk;
	if (send(sk, &req, sizeof(req), 0) < 0)
		return oc_error_errno(-errno, "RTM_GETLINK: netlink send");
	for (;;) {
		ssize_t len = recv(sk, buf, sizeof(buf), 0);
		if (len < 0)
			return oc_error_errno(-errno, "RTM_GETLINK: netlink recv");
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				*ret = links;
				*ret_n = n;
				links = NULL;
				return 0;
			}
			if (h->nlmsg_type == NLMSG_ERROR)
				return oc_error_errno(((struct nlmsgerr *)NLMSG_DATA(h))->error, "RTM_GETLINK");
			if (h->nlmsg_type != RTM_NEWLINK)
				continue;
			struct oc_net_link *more = realloc(links, (n + 1) * sizeof(*links));
			if (!more)
				return -ENOMEM;
			links = more;
			memset(&links[n], 0, sizeof(links[n]));
			link_parse(h, &links[n++]);
		}
	}
}

/* Message header of a new link request for @nde (its name, MTU, address). */
static void link_req(struct nl_req *req, const NetDeviceEntry *nde)
{
	memset(req, 0, sizeof(*req));
	req->h.nlmsg_len = NLMSG_LENGTH(sizeof(req->ifi));
	req->h.nlmsg_type = RTM_NEWLINK;
	req->h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	req->ifi.ifi_family = AF_UNSPEC;
	req->ifi.ifi_index = (int)nde->ifindex;
	nl_put(req, IFLA_IFNAME, nde->name, strlen(nde->name) + 1);
	nl_put(req, IFLA_MTU, &nde->mtu, sizeof(nde->mtu));
	if (nde->has_address && nde->address.len)
		nl_put(req, IFLA_ADDRESS, nde->address.data, nde->address.len);
}

int oc_net_veth_create(const NetDeviceEntry *nde, const char *peer_name, int peer_ns, int peer_nl, int peer_master)
{
	_cleanup_close_ int sk = oc_net_nl_open();
	struct nl_req req;
	struct ifinfomsg peer = { .ifi_family = AF_UNSPEC };
	char what[96];
	int r;

	if (sk < 0)
		return sk;
	link_req(&req, nde);
	struct rtattr *info = nl_nest(&req, IFLA_LINKINFO);
	nl_put(&req, IFLA_INFO_KIND, "veth", 4);
	struct rtattr *data = nl_nest(&req, IFLA_INFO_DATA);
	struct rtattr *pa = nl_tail(&req);
	nl_put(&req, VETH_INFO_PEER, &peer, sizeof(peer));
	nl_put(&req, IFLA_IFNAME, peer_name, strlen(peer_name) + 1);
	nl_put(&req, IFLA_NET_NS_FD, &peer_ns, sizeof(peer_ns));
	nl_nest_end(&req, pa);
	nl_nest_end(&req, data);
	nl_nest_end(&req, info);
	snprintf(what, sizeof(what), "cannot make the veth pair %s / %s", nde->name, peer_name);
	r = nl_ack(sk, &req, what);
	if (r < 0)
		return r;

	/* the peer, outside: into its bridge, up */
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	req.h.nlmsg_type = RTM_NEWLINK;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_flags = IFF_UP;
	req.ifi.ifi_change = IFF_UP;
	nl_put(&req, IFLA_IFNAME, peer_name, strlen(peer_name) + 1);
	if (peer_master)
		nl_put(&req, IFLA_MASTER, &peer_master, sizeof(peer_master));
	snprintf(what, sizeof(what), "cannot put the veth peer %s up%s", peer_name,
		 peer_master ? " in its bridge" : "");
	return nl_ack(peer_nl, &req, what);
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
