/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Established and half-closed TCP connections, for res/fd/sk_inet.c: their state through
 * TCP_REPAIR into tcp-stream-<ino>.img (sequence numbers, both queues,
 * MSS, window, timestamp, negotiated options), and back.  A connection is
 * locked (res/net/netlock.h) and in repair mode from the moment it is
 * dumped until its tree runs again; a killed tree closes it in repair
 * mode, which sends the peer nothing.
 */
#ifndef OCICR_RES_FD_SK_TCP_H
#define OCICR_RES_FD_SK_TCP_H

#include <stdbool.h>

#include "res/dump.h"
#include "res/restore.h"

#include "sk-inet.pb-c.h"

/* Is a TCP socket in @state a connection (its state needs TCP_REPAIR)? */
bool oc_tcp_is_connection(uint32_t state);

/* Can a connection in @state be dumped and restored (established, or
 * half-closed as CRIU restores it)? */
bool oc_tcp_can_restore(uint32_t state);

/* TCP state names for messages ("established", "FIN-WAIT-1", ...). */
const char *oc_tcp_state_name(uint32_t state);

/* Dump connection @sk (our copy of it; @ie has its addresses): lock it,
 * turn repair on, write its tcp-stream image. */
int oc_tcp_dump_conn(struct oc_dump_ctx *ctx, int sk, const InetSkEntry *ie);

/* Right after the freeze: a tree in a network namespace not ours has all
 * of it locked (nftables), as CRIU does, connections or not. */
int oc_tcp_dump_lock_netns(struct oc_dump_ctx *ctx);

/*
 * The dump lets the tree go: its connections leave repair mode and the
 * lock goes if the tree runs on or the dump failed; if the tree is gone
 * after a good dump the lock stays for the restore.
 */
void oc_tcp_dump_release(struct oc_dump_ctx *ctx, bool tree_gone);

/*
 * Restore connection @ie into @sk (a fresh socket with its options set,
 * not bound): lock it, repair mode, bind, sequence numbers, connect,
 * options, window, queues.  It stays in repair mode until
 * oc_tcp_restore_resume().
 */
int oc_tcp_restore_conn(struct oc_rst_files *files, int sk, const InetSkEntry *ie, const char *what);

/* A restore meets a connection: from now on the dump's lock is this
 * restore's, removed at its end whatever happens. */
int oc_tcp_restore_adopt_lock(struct oc_rst_ctx *ctx);

/* Has the closed connection @ino bytes to read in its tcp-stream image
 * (then it is restored as a connection; else as a closed socket)? */
bool oc_tcp_closed_has_data(struct oc_rst_ctx *ctx, uint32_t ino);

/* Before the tree's files: a tree whose network namespace is not ours
 * (joined, or made by ocicr) has it locked until it runs, the dump's lock
 * taken over if it is still there. */
int oc_tcp_restore_lock_netns(struct oc_rst_ctx *ctx);

/* Every restored connection leaves repair mode and the lock goes: the
 * last step before the tree runs. */
int oc_tcp_restore_resume(struct oc_rst_ctx *ctx);

/* A restore ends (well or not): what is left is dropped, the lock too. */
void oc_tcp_restore_fini(struct oc_rst_ctx *ctx);

#endif
