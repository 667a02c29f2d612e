/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The network lock: while a tree with TCP connections is frozen, and until
 * its restore lets it run, no packet of those connections may pass (the
 * peer would get a reset, or data the frozen socket never saw).  Each
 * connection is locked by its addresses and ports, in CRIU's layout: an
 * nftables table "inet CRIU-<dump run id>" with the sets conns4/conns6, or
 * iptables DROP rules in INPUT and OUTPUT; packets marked 0xC114 pass.
 *
 * A lock in use carries its owner (an nftables chain "ocicr-owner-PID-START"
 * or the rules' comment), so a later run that finds one whose ocicr is
 * gone removes it, naming it.  A dump that killed its tree hands its lock
 * over (the owner mark goes; iptables rules then are exactly CRIU's): it
 * stays until the restore, ocicr's or CRIU's, removes it.
 */
#ifndef OCICR_RES_NET_NETLOCK_H
#define OCICR_RES_NET_NETLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "ocicr.h"

struct oc_netlock;

/*
 * A lock of @method named after @run_id (the dump's), empty until the
 * first connection; stale locks of dead ocicr runs are removed first.
 * It lives in network namespace @netns (an fd, kept; -1: ocicr's own), as
 * CRIU's lock of a container lives in the container's.
 * OC_NET_LOCK_SKIP gives a lock that does nothing.
 */
int oc_netlock_new(enum oc_net_lock method, const char *run_id, int netns, struct oc_netlock **ret);

/* Lock one connection (addresses as the image's words: 1 or 4). */
int oc_netlock_add(struct oc_netlock *nl, uint32_t family, const uint32_t *src, uint32_t sport, const uint32_t *dst,
		   uint32_t dport);

/* In the tree's own namespace: lock all its traffic but the packets
 * marked 0xC114, as CRIU locks a namespace the tree has of its own
 * (nftables: chains input and output with policy drop; iptables: a chain
 * CRIU that accepts the marked and drops the rest, jumped to from INPUT
 * and OUTPUT); connections added then need nothing more. */
int oc_netlock_whole_ns(struct oc_netlock *nl);

/* Take over the dump's lock, if it is there: it goes with ours (a
 * restore, whatever its end). */
int oc_netlock_adopt(struct oc_netlock *nl);

/* Keep the lock after this run (a dump whose tree is gone). */
int oc_netlock_keep(struct oc_netlock *nl);

/* Remove the lock (unless kept) and free @nl; NULL is fine. */
void oc_netlock_free(struct oc_netlock *nl);

/* Remove the locks of ocicr runs that are gone from network namespace
 * @netns (-1: ocicr's); the count, or -errno. */
int oc_netlock_clean_stale(enum oc_net_lock method, int netns);

/* The inventory's network_lock_method for @method, and back. */
uint32_t oc_netlock_to_image(enum oc_net_lock method);
enum oc_net_lock oc_netlock_from_image(bool has, uint32_t v);

#endif
