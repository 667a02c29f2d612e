/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Socket options every family shares (sk_opts_entry), for the socket kind
 * modules (sk_unix.c, sk_inet.c).
 */
#ifndef OCICR_RES_FD_SK_OPTS_H
#define OCICR_RES_FD_SK_OPTS_H

#include <stdbool.h>

#include "core/arena.h"

#include "sk-opts.pb-c.h"

/* The SOL_SOCKET level of a socket's options (SO_PASSCRED and SO_PASSSEC
 * only when @passcred: CRIU writes them for unix sockets alone). */
int oc_sk_dump_opts(struct oc_arena *a, int sk, bool passcred, SkOptsEntry **ret);

/* Put them back; call before bind() (SO_REUSEADDR, SO_REUSEPORT and
 * SO_BINDTODEVICE matter there).  @what names the socket in errors. */
int oc_sk_restore_opts(int sk, const SkOptsEntry *o, const char *what);

/* The socket's SO_DOMAIN, or -1. */
int oc_sk_domain(int fd);

#endif
