// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Network namespace, as far as containers need it now:
 *  - one given from outside (runc passes --external net[INODE]:KEY when the
 *    config names a netns path) is not dumped: netns-ID.img carries only
 *    its key, and the restore joins the namespace it is given for that key
 *    (--inherit-fd fd[N]:KEY, as runc passes it, or --join-ns net:PATH);
 *  - a namespace of the tree's own holding only the loopback device is
 *    saved (its flags, in netdev-ID.img) and made anew with lo as it was.
 * Any other device (and so addresses and routes) is refused at dump.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "res/dump.h"
#include "res/restore.h"
#include "res/ns/mnt.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "netdev.pb-c.h"

static int lo_flags(int sk, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "lo");
	if (ioctl(sk, SIOCGIFFLAGS, ifr) < 0)
		return oc_error_errno(-errno, "cannot read the flags of lo");
	return 0;
}

/* A socket to ask about lo, and its flags in *@ifr. */
static int lo_open(struct ifreq *ifr, int *ret_sk)
{
	*ret_sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*ret_sk < 0)
		return oc_error_errno(-errno, "socket");
	return lo_flags(*ret_sk, ifr);
}

/* ocicr is inside the namespace. */
static int net_dump(struct oc_dump_ctx *ctx, uint32_t id)
{
	NetnsEntry ns = NETNS_ENTRY__INIT;
	NetDeviceEntry lo = NET_DEVICE_ENTRY__INIT;
	struct if_nameindex *ifs = NULL;
	_cleanup_free_ char *link = NULL;
	_cleanup_close_ int sk = -1;
	const char *key;
	struct ifreq ifr;
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
	ifs = if_nameindex();
	if (!ifs)
		return oc_error_errno(-errno, "cannot list the network devices");
	for (struct if_nameindex *i = ifs; i->if_index; i++) {
		if (strcmp(i->if_name, "lo")) {
			r = oc_error(-EOPNOTSUPP,
				     "the net namespace (net:[%s]) holds device %s: only one with loopback alone "
				     "is saved; name it external with --external net[%s]:KEY",
				     ino, i->if_name, ino);
			if_freenameindex(ifs);
			return r;
		}
		lo.ifindex = i->if_index;
	}
	if_freenameindex(ifs);
	r = lo_open(&ifr, &sk);
	if (r < 0)
		return r;
	lo.type = ND_TYPE__LOOPBACK;
	lo.flags = (uint16_t)ifr.ifr_flags;
	lo.name = "lo";
	if (ioctl(sk, SIOCGIFMTU, &ifr) < 0)
		return oc_error_errno(-errno, "cannot read the MTU of lo");
	lo.mtu = (uint32_t)ifr.ifr_mtu;
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	r = oc_img_create(ctx->dir, OC_IMG_NETDEV, id, &img);
	if (r >= 0)
		r = oc_img_write_entry(img, &lo.base);
	if (r >= 0)
		r = oc_img_commit(img);
	if (r >= 0)
		r = oc_img_write_one(ctx->dir, OC_IMG_NETNS, id, &ns.base);
	return r;
}

struct rst_net_state {
	NetnsEntry *ns;
	NetDeviceEntry *lo;
};

static void net_free(void *state)
{
	free(state);
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

static int net_load(struct oc_rst_ctx *ctx, uint32_t id, void **ret_state)
{
	struct rst_net_state *s = calloc(1, sizeof(*s));
	_cleanup_free_ NetDeviceEntry **devs = NULL;
	size_t n;
	int r;

	if (!s)
		return -ENOMEM;
	*ret_state = s;
	r = oc_imgset_read_one(&ctx->set, OC_IMG_NETNS, id, false, &s->ns);
	if (r < 0)
		return r;
	r = oc_imgset_read_all(&ctx->set, OC_IMG_NETDEV, id, true, &devs, &n, NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (devs[i]->type != ND_TYPE__LOOPBACK)
			return oc_error(-EOPNOTSUPP, "netdev-%u.img: device %s is not loopback: not supported yet", id,
					devs[i]->name);
		s->lo = devs[i];
	}
	return 0;
}

/* ocicr is inside the new namespace: lo as it was. */
static int net_fill(struct oc_rst_ctx *ctx, void *state)
{
	struct rst_net_state *s = state;
	_cleanup_close_ int sk = -1;
	struct ifreq ifr;
	int r;

	(void)ctx;
	if (!s->lo)
		return 0;
	r = lo_open(&ifr, &sk);
	if (r < 0)
		return r;
	ifr.ifr_mtu = (int)s->lo->mtu;
	if (ioctl(sk, SIOCSIFMTU, &ifr) < 0)
		return oc_error_errno(-errno, "cannot set the MTU of lo to %u", s->lo->mtu);
	r = lo_flags(sk, &ifr);
	if (r < 0)
		return r;
	ifr.ifr_flags = (short)(s->lo->flags & (IFF_UP | IFF_DEBUG | IFF_NOARP | IFF_PROMISC | IFF_ALLMULTI));
	if (ioctl(sk, SIOCSIFFLAGS, &ifr) < 0)
		return oc_error_errno(-errno, "cannot set the flags of lo");
	return 0;
}

const struct oc_ns_ops oc_ns_net_ops = {
	.dump = net_dump,
	.external = net_external,
	.load = net_load,
	.fill = net_fill,
	.free_state = net_free,
};
