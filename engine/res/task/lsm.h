/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * LSM labels (res/task/lsm.c): the AppArmor profile or SELinux context of
 * each thread, in its creds (lsm_profile, lsm_sockcreate), and the host's
 * LSM in the inventory (lsmtype), as CRIU saves them.
 */
#ifndef OCICR_RES_LSM_H
#define OCICR_RES_LSM_H

#include <sys/types.h>

#include "creds.pb-c.h"
#include "inventory.pb-c.h"

struct oc_arena;
struct oc_rst_ctx;
struct oc_rst_task;

/* The LSM of this host whose labels ocicr saves: AppArmor, SELinux, or
 * none (as this project's test machine: lockdown, capability, landlock,
 * bpf).  Found once. */
Lsmtype oc_lsm_host(void);
/* The name of @type ("AppArmor", "SELinux", "no LSM"). */
const char *oc_lsm_name(Lsmtype type);
/* The label in @text, what /proc/TID/attr/current shows under @type, in a
 * new string *@ret; NULL where the thread has none (AppArmor's
 * "unconfined").  AppArmor's mode, " (enforce)", is not part of it. */
int oc_lsm_parse_label(Lsmtype type, const char *text, char **ret);
/* Dump: the labels of thread @tid into @c, under the host's LSM. */
int oc_lsm_dump_thread(struct oc_arena *a, pid_t tid, CredsEntry *c);
/* Restore: a thread of @t carrying a label is refused, before anything is
 * made, naming it and saying whether this host has that LSM: ocicr cannot
 * put a label back yet, and a tree brought back unconfined is not the one
 * dumped. */
int oc_rst_lsm_check(const struct oc_rst_ctx *ctx, const struct oc_rst_task *t);

#endif
