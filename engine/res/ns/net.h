/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Network namespace helpers (engine/res/ns/net*.c): its links over
 * rtnetlink (net_link.c), its addresses and routes through iproute2
 * (net_ip.c), its nftables ruleset (net_nft.c).  ocicr is inside the namespace for all of them.
 */
#ifndef OCICR_RES_NS_NET_H
#define OCICR_RES_NS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "img/image.h"

#include "netdev.pb-c.h"
#include "sysctl.pb-c.h"

/* Raw image @kind of namespace @id with @len bytes of @data (net_ip.c). */
int oc_net_raw_save(struct oc_imgdir *dir, enum oc_img_kind kind, uint32_t id, const void *data, size_t len);
/* Raw image NAME-@id.img open in *@ret_fd, its size in *@ret_size;
 * a missing or empty one leaves *@ret_fd at -1. */
int oc_net_raw_open(struct oc_imgdir *dir, const char *name, uint32_t id, int *ret_fd, size_t *ret_size);

/* ifaddr-@id.img, route-@id.img, route6-@id.img and rule-@id.img of
 * this namespace. */
int oc_net_ip_dump(struct oc_imgdir *dir, uint32_t id);
/* Give them back: the addresses once the links exist (before they are
 * up, so the kernel's own link-local ones do not come first), the routes
 * once they are up.  Missing images are none. */
int oc_net_ip_restore_addrs(struct oc_imgdir *dir, uint32_t id);
int oc_net_ip_restore_routes(struct oc_imgdir *dir, uint32_t id);

/* iptables-@id.img and ip6tables-@id.img: the namespace's legacy
 * iptables rules (net_ipt.c), and back; missing or empty ones are none. */
int oc_net_ipt_dump(struct oc_imgdir *dir, uint32_t id);
int oc_net_ipt_restore(struct oc_imgdir *dir, uint32_t id);

/* nftables-@id.img: the namespace's nftables ruleset, but the network
 * lock's tables and iptables-nft's; given back whole (a missing or empty
 * image is none). */
int oc_net_nft_dump(struct oc_imgdir *dir, uint32_t id);
int oc_net_nft_restore(struct oc_imgdir *dir, uint32_t id);

/* The sysctls of device @tgt ("all", "default" or a link's name),
 * read into @c (which owns them) in CRIU's order (net_conf.c). */
#define OC_NET_CONF4 30
#define OC_NET_CONF6 42
struct oc_net_conf {
	SysctlEntry e4[OC_NET_CONF4], e6[OC_NET_CONF6];
	SysctlEntry *p4[OC_NET_CONF4], *p6[OC_NET_CONF6];
	size_t n6; /* 0 without IPv6 */
	char secret[128];
};
void oc_net_conf_read(const char *tgt, struct oc_net_conf *c);
/* Written back where the namespace differs (missing values skipped). */
int oc_net_conf_write(const char *tgt, SysctlEntry *const *c4, size_t n4, SysctlEntry *const *c6, size_t n6);

/* One link of the namespace as netdev-ID.img keeps it, its kind
 * (IFLA_INFO_KIND, "" for none) beside. */
struct oc_net_link {
	NetDeviceEntry nde;
	char name[16];
	char kind[16];
	uint8_t addr[32];
	MacvlanLinkEntry macvlan;
	char info[128]; /* IFLA_INFO_DATA ocicr keeps beside (a bridge's) */
	size_t info_len;
	bool link_elsewhere; /* IFLA_LINK (peer, lower) in another namespace */
};

/* Point @l's entry at its own fields again (after a copy). */
void oc_net_link_fix(struct oc_net_link *l);

/* The links of this namespace, in *@ret (malloc'ed), their count in *@n. */
int oc_net_links_list(struct oc_net_link **ret, size_t *n);

/*
 * A veth pair: @nde's end here, its peer @peer_name in the namespace of
 * @peer_ns (an fd), added to @peer_master (an ifindex there, 0: none) and
 * up there through @peer_nl (an rtnetlink socket in that namespace).
 */
int oc_net_veth_create(const NetDeviceEntry *nde, const char *peer_name, int peer_ns, int peer_nl, int peer_master);

/* A veth pair with both ends (@a and @b) here. */
int oc_net_veth_pair_create(const NetDeviceEntry *a, const NetDeviceEntry *b);

/* A bridge, as CRIU makes it (its settings come with the linkinfo image). */
int oc_net_bridge_create(const NetDeviceEntry *nde);

/* ocicr-linkinfo-@id.img: what netdev-ID.img has no room for (a
 * bridge's STP state, timers and priority), ocicr's own image; set again
 * on the links made. */
int oc_net_linkinfo_dump(struct oc_imgdir *dir, uint32_t id, const struct oc_net_link *links, size_t n);
int oc_net_linkinfo_restore(struct oc_imgdir *dir, uint32_t id);

/* A macvlan here over @lower, an ifindex in the namespace of @outer_nl
 * (an rtnetlink socket there), as CRIU's external macvlan[NAME]:OUTSIDE. */
int oc_net_macvlan_create(const NetDeviceEntry *nde, int lower, int outer_nl);

/* Put link @nde into its master (nde->master, a bridge made before). */
int oc_net_link_set_master(const NetDeviceEntry *nde);

/* ocicr-neigh-@id.img: the namespace's permanent neighbours (ocicr's own
 * image: CRIU 4.2 keeps none), and back once the links are up. */
int oc_net_neigh_dump(struct oc_imgdir *dir, uint32_t id);
int oc_net_neigh_restore(struct oc_imgdir *dir, uint32_t id);

/* Set the flags (up, ...) of link @nde, made with its name. */
int oc_net_link_set_flags(const NetDeviceEntry *nde);

/* An rtnetlink socket in the current namespace. */
int oc_net_nl_open(void);

#endif
