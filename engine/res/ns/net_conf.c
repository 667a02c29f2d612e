// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The sysctls of a network namespace's devices (net.ipv4.conf.DEV.*,
 * net.ipv6.conf.DEV.*) and of "all" and "default", as CRIU's images keep
 * them: one SysctlEntry per name, in the order of the tables below (the
 * images carry no names).  A name this kernel lacks is kept without a
 * value; a value is written back only where it differs from what the
 * new namespace has.  ocicr is inside the namespace (/proc/sys/net is
 * the reader's).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "res/ns/net.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

/* clang-format off */
static const char *const conf4_names[OC_NET_CONF4] = {
	"accept_local", "accept_redirects", "accept_source_route", "arp_accept",
	"arp_announce", "arp_filter", "arp_ignore", "arp_notify", "bootp_relay",
	"disable_policy", "disable_xfrm", "force_igmp_version", "forwarding",
	"igmpv2_unsolicited_report_interval", "igmpv3_unsolicited_report_interval",
	"log_martians", "medium_id", "promote_secondaries", "proxy_arp",
	"proxy_arp_pvlan", "route_localnet", "rp_filter", "secure_redirects",
	"send_redirects", "shared_media", "src_valid_mark", "tag",
	"ignore_routes_with_linkdown", "drop_gratuitous_arp",
	"drop_unicast_in_l2_multicast",
};

static const char *const conf6_names[OC_NET_CONF6] = {
	"accept_dad", "accept_ra", "accept_ra_defrtr", "accept_ra_from_local",
	"accept_ra_min_hop_limit", "accept_ra_mtu", "accept_ra_pinfo",
	"accept_ra_rt_info_max_plen", "accept_ra_rtr_pref", "accept_redirects",
	"accept_source_route", "autoconf", "dad_transmits", "disable_ipv6",
	"drop_unicast_in_l2_multicast", "drop_unsolicited_na", "force_mld_version",
	"force_tllao", "forwarding", "hop_limit", "ignore_routes_with_linkdown",
	"keep_addr_on_down", "max_addresses", "max_desync_factor",
	"mldv1_unsolicited_report_interval", "mldv2_unsolicited_report_interval",
	"mtu", "ndisc_notify", "optimistic_dad", "proxy_ndp", "regen_max_retry",
	"router_probe_interval", "router_solicitation_delay",
	"router_solicitation_interval", "router_solicitations", "stable_secret",
	"suppress_frag_ndisc", "temp_prefered_lft", "temp_valid_lft",
	"use_oif_addrs_only", "use_optimistic", "use_tempaddr",
};
/* clang-format on */

#define SECRET "stable_secret"

/* /proc/sys/net/PROTO/conf/TGT/NAME into @buf; -ENOENT: no such sysctl. */
static int conf_get(const char *proto, const char *tgt, const char *name, char *buf, size_t size)
{
	char path[128];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", proto, tgt, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int conf_set(const char *proto, const char *tgt, const char *name, const char *val)
{
	char path[128];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", proto, tgt, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		return oc_error_errno(-errno, "cannot set %s to %s", path, val);
	return 0;
}

static void conf_read(const char *proto, const char *tgt, const char *const *names, size_t n, SysctlEntry *e,
		      SysctlEntry **p, char *secret, size_t secret_size)
{
	char buf[128];

	for (size_t i = 0; i < n; i++) {
		bool str = !strcmp(names[i], SECRET);
		sysctl_entry__init(&e[i]);
		p[i] = &e[i];
		e[i].type = str ? SYSCTL_TYPE__CTL_STR : SYSCTL_TYPE__CTL_32;
		/* missing here, or (a secret never set) unreadable: no value */
		if (conf_get(proto, tgt, names[i], buf, sizeof(buf)) < 0)
			continue;
		if (str) {
			snprintf(secret, secret_size, "%s", buf);
			e[i].sarg = secret;
		} else {
			e[i].has_iarg = true;
			e[i].iarg = (int32_t)strtol(buf, NULL, 10);
		}
	}
}

void oc_net_conf_read(const char *tgt, struct oc_net_conf *c)
{
	conf_read("ipv4", tgt, conf4_names, OC_NET_CONF4, c->e4, c->p4, NULL, 0);
	conf_read("ipv6", tgt, conf6_names, OC_NET_CONF6, c->e6, c->p6, c->secret, sizeof(c->secret));
	/* no IPv6 in this kernel (or for this device): none kept */
	c->n6 = OC_NET_CONF6;
	if (access("/proc/sys/net/ipv6/conf/all", F_OK) < 0)
		c->n6 = 0;
}

/* Sysctl @name of @tgt set to @e's value unless it has it already. */
static int conf_write_one(const char *proto, const char *tgt, const char *name, const SysctlEntry *e)
{
	char val[128], now[128];

	if (e->type == SYSCTL_TYPE__CTL_STR && e->sarg)
		snprintf(val, sizeof(val), "%s", e->sarg);
	else if (e->type == SYSCTL_TYPE__CTL_32 && e->has_iarg)
		snprintf(val, sizeof(val), "%d", e->iarg);
	else
		return 0;
	if (conf_get(proto, tgt, name, now, sizeof(now)) == -ENOENT) {
		pr_warn("net.%s.conf.%s.%s is not in this kernel: not restored", proto, tgt, name);
		return 0;
	}
	return strcmp(now, val) ? conf_set(proto, tgt, name, val) : 0;
}

static int conf_write(const char *proto, const char *tgt, const char *const *names, size_t size, SysctlEntry *const *e,
		      size_t n)
{
	int r, redirects = -1;

	if (n > size)
		pr_warn("net.%s.conf.%s: %zu sysctls in the image, %zu known: the others are not restored", proto, tgt,
			n, size);
	for (size_t i = 0; i < n && i < size; i++) {
		/* forwarding resets accept_redirects: that one goes last */
		if (!strcmp(names[i], "accept_redirects")) {
			redirects = (int)i;
			continue;
		}
		r = conf_write_one(proto, tgt, names[i], e[i]);
		if (r < 0)
			return r;
	}
	return redirects < 0 ? 0 : conf_write_one(proto, tgt, names[redirects], e[redirects]);
}

int oc_net_conf_write(const char *tgt, SysctlEntry *const *c4, size_t n4, SysctlEntry *const *c6, size_t n6)
{
	int r = conf_write("ipv4", tgt, conf4_names, OC_NET_CONF4, c4, n4);

	if (r >= 0 && n6 && access("/proc/sys/net/ipv6/conf/all", F_OK) == 0)
		r = conf_write("ipv6", tgt, conf6_names, OC_NET_CONF6, c6, n6);
	return r;
}
