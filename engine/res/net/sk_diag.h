/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the kernel's socket diagnostics (NETLINK_SOCK_DIAG) say of one
 * socket, for the socket kinds whose state no getsockopt() shows: a UDP
 * socket's shutdown, a packet socket's rings and memberships, a netlink
 * socket's groups.
 */
#ifndef OCICR_RES_NET_SK_DIAG_H
#define OCICR_RES_NET_SK_DIAG_H

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

/* A NETLINK_SOCK_DIAG socket made in the network namespace of socket @sk
 * (the kernel answers for that one), whichever ocicr is in. */
int oc_sk_diag_socket(int sk);

/*
 * Send the dump request @req (@len bytes, a family's *_diag_req after the
 * nlmsghdr, which this fills in) in the network namespace of socket @sk,
 * and find the answer for inode @ino: the 32-bit inode number is at
 * @ino_off in each answer's payload.  *@ret: a malloc'ed copy of that
 * message, or NULL when the kernel does not list the socket (an unbound
 * one, for most families).  Negative errno with a message on failure.
 */
int oc_sk_diag_find(int sk, void *req, size_t len, size_t ino_off, uint32_t ino, struct nlmsghdr **ret);

/* The payload of attribute @type of message @h (after @hdr_len bytes of
 * the family's message), its length in *@n; NULL if absent. */
const void *oc_sk_diag_attr(const struct nlmsghdr *h, size_t hdr_len, int type, size_t *n);

#endif
