/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pure parts of res/fd/sk_inet.c: addresses between sockaddrs and the
 * image's words, and the check of an inet_sk_entry before restore.
 */
#ifndef OCICR_RES_FD_SK_INET_H
#define OCICR_RES_FD_SK_INET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sk-inet.pb-c.h"

/*
 * The address of @ss as the image holds it: its bytes, in network order,
 * in 1 (IPv4) or 4 (IPv6) words; returns the word count, *@port in host
 * order.
 */
size_t oc_inet_addr_words(const struct sockaddr_storage *ss, uint32_t words[4], uint32_t *port);

/* The reverse, for a socket of @family; @n words (0: the any address). */
socklen_t oc_inet_sockaddr(uint32_t family, const uint32_t *words, size_t n, uint32_t port,
			   struct sockaddr_storage *ss);

/* "127.0.0.1:80" or "[::1]:80", for messages. */
const char *oc_inet_endpoint(const uint32_t *words, size_t n, uint32_t port, char *buf, size_t size);

struct oc_rst_ctx;

/* Restore: the network namespace the tree's sockets are made in (an fd:
 * the joined or external one), or -1: ocicr's. */
int oc_inet_rst_netns(const struct oc_rst_ctx *ctx);

/*
 * Restore: a socket(@family, @type, @proto), close-on-exec, made in the
 * tree's network namespace (a socket stays in the one it was made in);
 * @what names it in errors.
 */
int oc_sk_rst_socket(const struct oc_rst_ctx *ctx, int family, int type, int proto, const char *what, int *ret);

/* Can restore make this socket (file @id)?  0, or an error naming why. */
int oc_inet_check_entry(const InetSkEntry *ie, uint32_t id);

#endif
