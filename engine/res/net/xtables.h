/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iptables' tools: running them, and finding the ones that speak the
 * legacy (x_tables) API.  The network lock uses plain iptables/ip6tables,
 * whatever their backend, as CRIU does (a lock one of them made, the other
 * removes); the legacy tools save and restore the legacy rules of a
 * namespace (the nftables backend's are in the nftables ruleset).
 */
#ifndef OCICR_RES_NET_XTABLES_H
#define OCICR_RES_NET_XTABLES_H

#include <stdbool.h>

/* Run @argv (searched in PATH) with @in_fd on its stdin (-1: none) and its
 * stdout and stderr in *@out (malloc'ed; NULL: dropped); a failure is an
 * error naming the tool unless @quiet. */
int oc_xtables_run(char *const argv[], int in_fd, char **out, bool quiet);

/* "iptables-save" where iptables is the legacy one, else
 * "iptables-legacy-save" if that is there, else NULL (ip6tables with @v6,
 * -restore with @restore). */
const char *oc_xtables_legacy(bool v6, bool restore);

/* Does the current network namespace do IPv6 (else ip6tables has nothing
 * to do there)? */
bool oc_xtables_ipv6(void);

/* Can the legacy rules be saved here: iptables, and ip6tables where IPv6
 * works (CRIU's has_ipt_legacy)? */
bool oc_xtables_has_legacy(void);

#endif
