// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Network namespace, as far as containers need it now:
 *  - one given from outside (runc passes --external net[INODE]:KEY when the
 *    config names a netns path) is not dumped: netns-ID.img carries only
 *    its key, and the restore joins the namespace it is given for that key
 *    (--inherit-fd fd[N]:KEY, as runc passes it, or --join-ns net:PATH);
 *  - a namespace of the tree's own is saved and made anew, as CRIU 4.2
 *    keeps it in netdev-ID.img: its loopback (flags, MTU), veth pairs with
 *    both ends in it (made once), veths whose peer is outside (made again
 *    with the peer where --external veth[NAME]:OUTSIDE_NAME[@BRIDGE] says,
 *    in ocicr's own namespace), bridges (their STP state and timers in
 *    ocicr's own ocicr-linkinfo-ID.img) and their ports, macvlans over a device outside
 *    (--external macvlan[NAME]:OUTSIDE_NAME); then its addresses and
 *    routes (net_ip.c), permanent neighbours, and its iptables and
 *    nftables rulesets, all before any task runs (so before the tree's
 *    sockets).
 * Any other device is refused at dump, by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "res/dump.h"
#include "res/restore.h"
#include "res/ns/mnt.h"
#include "res/ns/net.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "netdev.pb-c.h"

/* A link of the tree's namespace (image id @id) as netdev-ID.img keeps
 * it, as CRIU 4.2 does; one of a kind not saved yet is refused by name. */
static int link_classify(struct oc_net_link *l, uint32_t id, const char *ino)
{
	if (!strcmp(l->name, "lo") && !l->kind[0]) {
		l->nde.type = ND_TYPE__LOOPBACK;
		l->nde.has_address = false;
		return 0;
	}
	if (!strcmp(l->kind, "veth")) {
		l->nde.type = ND_TYPE__VETH;
		/* a peer here is saved too and the pair made once; one
		 * elsewhere is outside, given back at restore (--external) */
		if (!l->link_elsewhere) {
			l->nde.has_peer_nsid = true;
			l->nde.peer_nsid = id;
		}
		return 0;
	}
	if (!strcmp(l->kind, "bridge")) {
		l->nde.type = ND_TYPE__BRIDGE;
		return 0;
	}
	if (!strcmp(l->kind, "macvlan") && l->link_elsewhere && l->nde.macvlan) {
		l->nde.type = ND_TYPE__MACVLAN;
		return 0;
	}
	if (!strcmp(l->kind, "macvlan"))
		return oc_error(
			-EOPNOTSUPP,
			"the net namespace (net:[%s]) holds macvlan %s over a device of its own: only a macvlan "
			"over a device outside is saved (given back with --external macvlan[%s]:OUTSIDE)",
			ino, l->name, l->name);
	return oc_error(-EOPNOTSUPP,
			"the net namespace (net:[%s]) holds device %s (%s): only loopback, veth, bridge and macvlan "
			"are saved; name the namespace external with --external net[%s]:KEY",
			ino, l->name, l->kind[0] ? l->kind : "no kind", ino);
}

/* A tunnel's fallback device, which every new namespace gets by itself
 * while its module is loaded: not saved. */
static bool link_fallback(const struct oc_net_link *l)
{
	static const char *const fallbacks[][2] = {
		{ "tunl0", "ipip" },	 { "sit0", "sit" },	  { "gre0", "gre" },
		{ "gretap0", "gretap" }, { "erspan0", "erspan" }, { "ip_vti0", "vti" },
		{ "ip6_vti0", "vti6" },	 { "ip6tnl0", "ip6tnl" }, { "ip6gre0", "ip6gre" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(fallbacks); i++)
		if (!strcmp(l->name, fallbacks[i][0]) && !strcmp(l->kind, fallbacks[i][1]))
			return true;
	return false;
}

/* The links, addresses and routes of the namespace. */
static int net_dump_own(struct oc_dump_ctx *ctx, uint32_t id, const char *ino)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	_cleanup_free_ struct oc_net_link *links = NULL;
	size_t n = 0;
	int r;

	r = oc_net_links_list(&links, &n);
	if (r < 0)
		return r;
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (link_fallback(&links[i])) {
			pr_info("%s: a fallback device every namespace has, not saved", links[i].name);
			continue;
		}
		r = link_classify(&links[i], id, ino);
		if (r < 0)
			return r;
		links[kept++] = links[i];
		oc_net_link_fix(&links[kept - 1]);
	}
	n = kept;
	r = oc_img_create(ctx->dir, OC_IMG_NETDEV, id, &img);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct oc_net_conf conf;
		oc_net_conf_read(links[i].name, &conf);
		links[i].nde.n_conf4 = OC_NET_CONF4;
		links[i].nde.conf4 = conf.p4;
		links[i].nde.n_conf6 = conf.n6;
		links[i].nde.conf6 = conf.p6;
		r = oc_img_write_entry(img, &links[i].nde.base);
	}
	if (r >= 0)
		r = oc_img_commit(img);
	/* lo alone may have addresses and routes of its own too */
	if (r >= 0)
		r = oc_net_ip_dump(ctx->dir, id);
	if (r >= 0 && n > 1)
		r = oc_net_neigh_dump(ctx->dir, id);
	if (r >= 0)
		r = oc_net_linkinfo_dump(ctx->dir, id, links, n);
	if (r >= 0)
		r = oc_net_ipt_dump(ctx->dir, id);
	if (r >= 0)
		r = oc_net_nft_dump(ctx->dir, id);
	return r;
}

/* ocicr is inside the namespace. */
static int net_dump(struct oc_dump_ctx *ctx, uint32_t id)
{
	NetnsEntry ns = NETNS_ENTRY__INIT;
	struct oc_net_conf all, def;
	_cleanup_free_ char *link = NULL;
	const char *key;
	char ino[32];
	int r;

	r = oc_proc_readlink(0, "ns/net", &link);
	if (r < 0)
		return r;
	if (sscanf(link, "net:[%31[0-9]]", ino) != 1)
		return oc_error(-EINVAL, "/proc/self/ns/net: '%s'", link);
	key = oc_mnt_external(ctx->opts->externals, ctx->opts->n_externals, "net", ino);
	if (key) {
		pr_info("net namespace %s is external: %s", ino, key);
		ns.ext_key = (char *)key;
		return oc_img_write_one(ctx->dir, OC_IMG_NETNS, id, &ns.base);
	}
	r = net_dump_own(ctx, id, ino);
	if (r < 0)
		return r;
	oc_net_conf_read("all", &all);
	oc_net_conf_read("default", &def);
	ns.n_all_conf4 = ns.n_def_conf4 = OC_NET_CONF4;
	ns.all_conf4 = all.p4;
	ns.def_conf4 = def.p4;
	ns.n_all_conf6 = all.n6;
	ns.all_conf6 = all.p6;
	ns.n_def_conf6 = def.n6;
	ns.def_conf6 = def.p6;
	return oc_img_write_one(ctx->dir, OC_IMG_NETNS, id, &ns.base);
}

/* A link of the namespace to make, with what it needs. */
struct rst_link {
	NetDeviceEntry *nde;
	NetDeviceEntry *peer;	  /* a veth's other end, here too; NULL: outside */
	bool second;		  /* that other end, made with the first */
	char peer_name[IFNAMSIZ]; /* a veth's peer outside: its name there */
	int master;		  /* its bridge's ifindex in ocicr's namespace, 0: none */
	int lower;		  /* a macvlan's lower device in ocicr's namespace */
};

struct rst_net_state {
	uint32_t id;
	NetnsEntry *ns;
	NetDeviceEntry *lo;
	NetDeviceEntry **devs;
	size_t n_devs;
	struct rst_link *links;
	size_t n_links;
	int own_ns; /* ocicr's network namespace, for the veth peers */
	int own_nl; /* an rtnetlink socket there */
};

static void net_free(void *state)
{
	struct rst_net_state *s = state;

	if (s->own_ns >= 0)
		close(s->own_ns);
	if (s->own_nl >= 0)
		close(s->own_nl);
	free(s->links);
	free(s->devs);
	free(s);
}

/* An external namespace comes back through the inherited fd of its key. */
static int net_external(struct oc_rst_ctx *ctx, uint32_t id, int *ret_fd)
{
	NetnsEntry *ns;
	int r = oc_imgset_read_one(&ctx->set, OC_IMG_NETNS, id, false, &ns);

	if (r < 0)
		return r;
	if (!ns->ext_key)
		return 0;
	return oc_ns_external_fd(ctx, OC_NS_NET, ns->ext_key, ret_fd);
}

/* Where the peer of veth @nde goes: --external veth[NAME]:OUTSIDE[@BRIDGE]. */
static int veth_peer(struct oc_rst_ctx *ctx, uint32_t id, NetDeviceEntry *nde, struct rst_link *v)
{
	const char *val = oc_mnt_external(ctx->opts->externals, ctx->opts->n_externals, "veth", nde->name);
	const char *at;

	if (!val)
		return oc_error(-ENOENT,
				"netdev-%u.img: veth %s had its peer outside the tree: give it with --external "
				"veth[%s]:OUTSIDE_NAME[@BRIDGE]",
				id, nde->name, nde->name);
	at = strchrnul(val, '@');
	if (at == val || at - val >= IFNAMSIZ)
		return oc_error(-EINVAL, "--external veth[%s]:%s: a peer name of 1 to %d characters", nde->name, val,
				IFNAMSIZ - 1);
	snprintf(v->peer_name, sizeof(v->peer_name), "%.*s", (int)(at - val), val);
	if (*at) {
		v->master = (int)if_nametoindex(at + 1);
		if (!v->master)
			return oc_error(-ENOENT, "--external veth[%s]:%s: no bridge %s here", nde->name, val, at + 1);
	}
	return 0;
}

/* The device of index @ifindex in the image, or NULL. */
static NetDeviceEntry *dev_by_index(struct rst_net_state *s, uint32_t ifindex, size_t *at)
{
	for (size_t i = 0; i < s->n_devs; i++)
		if (s->devs[i]->ifindex == ifindex) {
			if (at)
				*at = i;
			return s->devs[i];
		}
	return NULL;
}

/* A veth: both ends here (made once, by the first in the image), or its
 * peer outside where --external says. */
static int veth_plan(struct oc_rst_ctx *ctx, struct rst_net_state *s, size_t i, struct rst_link *l)
{
	NetDeviceEntry *d = s->devs[i];
	size_t at;

	if (!d->has_peer_nsid)
		return veth_peer(ctx, s->id, d, l);
	if (d->peer_nsid != s->id)
		return oc_error(-EOPNOTSUPP,
				"netdev-%u.img: veth %s has its peer in another namespace of the tree (%u): not "
				"supported yet",
				s->id, d->name, d->peer_nsid);
	l->peer = d->has_peer_ifindex ? dev_by_index(s, d->peer_ifindex, &at) : NULL;
	if (!l->peer || l->peer->type != ND_TYPE__VETH || l->peer == d)
		return oc_error(-EINVAL, "netdev-%u.img: veth %s: its peer (index %u) is not in the image", s->id,
				d->name, d->peer_ifindex);
	l->second = at < i;
	return 0;
}

/* A macvlan's lower device: --external macvlan[NAME]:OUTSIDE. */
static int macvlan_plan(struct oc_rst_ctx *ctx, struct rst_net_state *s, NetDeviceEntry *d, struct rst_link *l)
{
	const char *val = oc_mnt_external(ctx->opts->externals, ctx->opts->n_externals, "macvlan", d->name);

	if (!d->macvlan)
		return oc_error(-EINVAL, "netdev-%u.img: macvlan %s has no mode", s->id, d->name);
	if (!val)
		return oc_error(-ENOENT,
				"netdev-%u.img: macvlan %s is over a device outside the tree: give it with "
				"--external macvlan[%s]:OUTSIDE_NAME",
				s->id, d->name, d->name);
	l->lower = (int)if_nametoindex(val);
	if (!l->lower)
		return oc_error(-ENOENT, "--external macvlan[%s]:%s: no device %s here", d->name, val, val);
	return 0;
}

/* What each device of the image needs, checked before anything is made. */
static int links_plan(struct oc_rst_ctx *ctx, struct rst_net_state *s)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < s->n_devs; i++) {
		NetDeviceEntry *d = s->devs[i];
		struct rst_link *l = &s->links[s->n_links];

		if (d->type == ND_TYPE__LOOPBACK) {
			s->lo = d;
			continue;
		}
		l->nde = d;
		if (d->type == ND_TYPE__VETH)
			r = veth_plan(ctx, s, i, l);
		else if (d->type == ND_TYPE__MACVLAN)
			r = macvlan_plan(ctx, s, d, l);
		else if (d->type != ND_TYPE__BRIDGE)
			r = oc_error(-EOPNOTSUPP, "netdev-%u.img: device %s is of type %d: not supported yet", s->id,
				     d->name, d->type);
		NetDeviceEntry *m = d->has_master ? dev_by_index(s, d->master, NULL) : NULL;
		if (r >= 0 && d->has_master && (!m || m->type != ND_TYPE__BRIDGE))
			r = oc_error(-EOPNOTSUPP,
				     "netdev-%u.img: %s: its master (index %u) is not a bridge in the image", s->id,
				     d->name, d->master);
		s->n_links++;
	}
	return r;
}

static int net_fill(struct oc_rst_ctx *ctx, void *state);

/*
 * Made and filled now, before the tree's files are opened, so that its
 * sockets are made in it; the root joins it (as one given with
 * --join-ns), as a time namespace is made.
 */
static int net_premake(struct oc_rst_ctx *ctx, struct rst_net_state *s)
{
	int fd, r;

	if (unshare(CLONE_NEWNET) < 0)
		return oc_error_errno(-errno, "cannot make a network namespace");
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	r = fd < 0 ? oc_error_errno(-errno, "cannot open the new network namespace") : net_fill(ctx, s);
	/* Staying in the tree's namespace would be worse than failing. */
	if (setns(s->own_ns, CLONE_NEWNET) < 0)
		abort();
	if (r < 0) {
		if (fd >= 0)
			close(fd); /* the namespace goes, and its veth pairs */
		return r;
	}
	ctx->ns->join_fd[OC_NS_NET] = fd;
	pr_info("net namespace %u made and filled; the root joins it", s->id);
	return 0;
}

static int net_load(struct oc_rst_ctx *ctx, uint32_t id, void **ret_state)
{
	struct rst_net_state *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->own_ns = s->own_nl = -1;
	s->id = id;
	*ret_state = s;
	r = oc_imgset_read_one(&ctx->set, OC_IMG_NETNS, id, false, &s->ns);
	if (r < 0)
		return r;
	r = oc_imgset_read_all(&ctx->set, OC_IMG_NETDEV, id, true, &s->devs, &s->n_devs, NULL);
	if (r < 0)
		return r;
	s->links = calloc(s->n_devs ? s->n_devs : 1, sizeof(*s->links));
	if (!s->links)
		return -ENOMEM;
	r = links_plan(ctx, s);
	if (r < 0)
		return r;
	s->own_ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (s->own_ns < 0)
		return oc_error_errno(-errno, "/proc/thread-self/ns/net");
	if (s->n_links) {
		s->own_nl = oc_net_nl_open();
		if (s->own_nl < 0)
			return s->own_nl;
	}
	/* Owned by a user namespace of the tree's, it can only be its root's
	 * (a clone flag; net_fill then), and holds no socket yet.  A plan
	 * makes nothing. */
	if (oc_ns_rst_not_ours(ctx, OC_NS_USER) || ctx->opts->plan_only)
		return 0;
	return net_premake(ctx, s);
}

/* The MTU of link @nde set as a user sets it: a bridge keeps it then,
 * whatever its ports' (one made with IFLA_MTU follows them). */
static int link_set_mtu(const NetDeviceEntry *nde)
{
	_cleanup_close_ int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { .ifr_mtu = (int)nde->mtu };

	if (sk < 0)
		return oc_error_errno(-errno, "socket");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", nde->name);
	if (ioctl(sk, SIOCSIFMTU, &ifr) < 0)
		return oc_error_errno(-errno, "cannot set the MTU of %s to %u", nde->name, nde->mtu);
	return 0;
}

static int conf_write(const NetDeviceEntry *d)
{
	return oc_net_conf_write(d->name, d->conf4, d->n_conf4, d->conf6, d->n_conf6);
}

/* lo as it was: its MTU, flags and sysctls. */
static int lo_fill(const NetDeviceEntry *lo)
{
	int r = link_set_mtu(lo);

	if (r >= 0)
		r = oc_net_link_set_flags(lo);
	/* once up: going up resets net.ipv6.conf.DEV.mtu to the link's MTU */
	return r < 0 ? r : conf_write(lo);
}

static int link_make(struct rst_net_state *s, const struct rst_link *l)
{
	switch (l->nde->type) {
	case ND_TYPE__BRIDGE:
		return oc_net_bridge_create(l->nde);
	case ND_TYPE__MACVLAN:
		return oc_net_macvlan_create(l->nde, l->lower, s->own_nl);
	default:
		if (l->peer)
			return oc_net_veth_pair_create(l->nde, l->peer);
		return oc_net_veth_create(l->nde, l->peer_name, s->own_ns, s->own_nl, l->master);
	}
}

/* The links with their saved indexes, bridges first; their sysctls; the
 * ports into their bridges. */
static int links_make(struct rst_net_state *s)
{
	int r;

	for (int bridges = 1; bridges >= 0; bridges--)
		for (size_t i = 0; i < s->n_links; i++) {
			const struct rst_link *l = &s->links[i];
			if ((l->nde->type == ND_TYPE__BRIDGE) != bridges || l->second)
				continue;
			r = link_make(s, l);
			if (r < 0)
				return r;
			const char *peer = l->peer ? l->peer->name : l->peer_name;
			pr_info("%s made (type %d)%s%s", l->nde->name, l->nde->type, peer[0] ? ", its peer " : "",
				peer);
		}
	for (size_t i = 0; i < s->n_links; i++) {
		const NetDeviceEntry *d = s->links[i].nde;
		r = conf_write(d);
		if (r >= 0 && d->has_master)
			r = oc_net_link_set_master(d);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < s->n_links; i++)
		if (s->links[i].nde->type == ND_TYPE__BRIDGE) {
			r = link_set_mtu(s->links[i].nde);
			if (r < 0)
				return r;
		}
	return 0;
}

/* ocicr is inside the new namespace: links, then addresses and routes,
 * the nftables ruleset last (its rules may name the links). */
static int net_fill(struct oc_rst_ctx *ctx, void *state)
{
	struct rst_net_state *s = state;
	NetnsEntry *ns = s->ns;
	int r;

	/* "all" and "default" first: the devices made next start from them */
	r = oc_net_conf_write("all", ns->all_conf4, ns->n_all_conf4, ns->all_conf6, ns->n_all_conf6);
	if (r >= 0)
		r = oc_net_conf_write("default", ns->def_conf4, ns->n_def_conf4, ns->def_conf6, ns->n_def_conf6);
	if (r >= 0 && s->lo)
		r = lo_fill(s->lo);
	if (r < 0)
		return r;
	if (s->n_links) {
		r = links_make(s);
		if (r >= 0)
			r = oc_net_linkinfo_restore(ctx->dir, s->id);
	}
	/* lo's too: those it had beside 127.0.0.1 and ::1, which ip
	 * restore passes over as there already */
	if (r >= 0)
		r = oc_net_ip_restore_addrs(ctx->dir, s->id);
	for (size_t i = 0; r >= 0 && i < s->n_links; i++)
		r = oc_net_link_set_flags(s->links[i].nde);
	/* again once up (what going up reset: the IPv6 MTU) */
	for (size_t i = 0; r >= 0 && i < s->n_links; i++)
		r = conf_write(s->links[i].nde);
	if (r >= 0)
		r = oc_net_ip_restore_routes(ctx->dir, s->id);
	/* once the links are up: going down drops them */
	if (r >= 0 && s->n_links)
		r = oc_net_neigh_restore(ctx->dir, s->id);
	if (r < 0)
		return r;
	/* CRIU's order: iptables, then nftables. */
	r = oc_net_ipt_restore(ctx->dir, s->id);
	return r < 0 ? r : oc_net_nft_restore(ctx->dir, s->id);
}

const struct oc_ns_ops oc_ns_net_ops = {
	.dump = net_dump,
	.external = net_external,
	.load = net_load,
	.fill = net_fill,
	.free_state = net_free,
};
