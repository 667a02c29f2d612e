/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Seccomp modes and filter chains of every thread (res/task/seccomp.c): dump
 * side (suspension while dumping, the chains, seccomp.img) and restore
 * side (load, checks, the blob's per-thread filters).
 */
#ifndef OCICR_RES_SECCOMP_H
#define OCICR_RES_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct oc_dump_task;
struct oc_dump_ctx;
struct oc_rst_ctx;
struct oc_rst_task;
struct oc_rst_thread;
struct oc_seccomp_table;

/* Dump: before the first remote call into @t, read each thread's mode and
 * have the kernel suspend the filters of those under seccomp. */
int oc_seccomp_suspend(struct oc_dump_task *t);
/* The ptrace options @t is traced with (keep them when changing options). */
long oc_seccomp_ptrace_opts(const struct oc_dump_task *t);
/* Dump step: each thread's mode and chain (after the threads step). */
int oc_dump_seccomp(struct oc_dump_task *t);
/* seccomp.img: the table of every filter of the tree. */
int oc_dump_seccomp_image(struct oc_dump_ctx *ctx);
void oc_seccomp_table_free(struct oc_seccomp_table *tab);

/* Restore: load seccomp.img (absent: no filters). */
int oc_rst_seccomp_load(struct oc_rst_ctx *ctx);
/* Every mode known and every chain of @t complete and acyclic; @t gets
 * the table. */
int oc_rst_seccomp_check(const struct oc_rst_ctx *ctx, struct oc_rst_task *t);
/* Does any thread of the tree run under seccomp? */
bool oc_rst_seccomp_used(const struct oc_rst_ctx *ctx);

#endif
