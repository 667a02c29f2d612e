/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restore runs load -> plan -> execute.
 *
 *  - load: read every image into messages (struct oc_rst_ctx); nothing on
 *    the system changes.
 *  - plan: order the work (restore/plan.c); --plan-only prints it.
 *  - execute: the coordinator (this process) creates each task with its
 *    pid; the task runs the agent (ocicr code) which opens files, installs
 *    fds, sets cwd/root, prepares memory sources and enters the restorer
 *    blob; the coordinator, tracing the task, finishes each thread's
 *    registers and lets it go.  The agent reports a failure over a socket
 *    with a message; the coordinator then kills what it created.
 *
 * This header is the restore driver's own; resource modules see the
 * restore state through res/restore.h only.
 */
#ifndef OCICR_RESTORE_RESTORE_H
#define OCICR_RESTORE_RESTORE_H

#include "res/restore.h"

int oc_restore_load(struct oc_rst_ctx *ctx);
void oc_restore_ctx_fini(struct oc_rst_ctx *ctx);

/* The inherited descriptors (restore/inherit.c): check them before the
 * restore starts; fail for one nothing took, before the tree runs. */
int oc_rst_inherit_begin(struct oc_rst_ctx *ctx);
int oc_rst_inherit_check_used(struct oc_rst_ctx *ctx);

/*
 * Copy-on-write sharing of private anonymous memory between a parent and
 * the children it forks (restore_cow.c).
 */
/* Mark the VMAs to premap and to inherit; pure, after the images load. */
int oc_rst_cow_match(struct oc_rst_ctx *ctx);

/* Visit @t's saved pages inside [start, end): runs with their offset in
 * the pages file.  A negative return stops the walk and is returned. */
typedef int (*oc_rst_run_fn)(void *data, uint64_t vaddr, uint64_t n_pages, uint64_t off);
int oc_rst_for_each_run(const struct oc_rst_task *t, uint64_t start, uint64_t end, oc_rst_run_fn fn, void *data);

/* A message from an agent to the coordinator; its types are with the
 * blob's (enum oc_rst_msg_type, restorer.h), on the same socket. */
struct oc_agent_msg {
	int32_t type; /* OC_AGENT_* */
	int32_t err;
	uint64_t area_start;
	uint64_t area_len;
	uint64_t syscall_ip; /* a syscall instruction inside the area */
	char text[3072];
};

/*
 * The coordinator's files, in three parts: set the helper fd base (above
 * every fd of every task) and the shell job's terminal; open the file
 * entry of an OPEN step; open what is not an fd before the root is made
 * (mapped files, exe, pages).
 */
int oc_rst_files_begin(struct oc_rst_files *files);
int oc_rst_open_fd_file(struct oc_rst_files *files, uint32_t id);
int oc_rst_open_sources(struct oc_rst_files *files);

/* Close every helper fd; unlink recreated ghost files. */
void oc_rst_files_fini(struct oc_rst_files *files);

/* Find @len bytes free both in the agent's layout and in the target's. */
int oc_agent_find_area(struct oc_rst_task *t, size_t len, uint64_t *ret);

/*
 * The agent's steps (plan.h), run in the task being restored, in plan
 * order.  oc_agent_memory() enters the restorer blob and returns only on
 * failure; every step returns a negative errno with a message set.
 */
int oc_agent_premap(struct oc_rst_agent *ag);		       /* OC_STEP_PREMAP */
int oc_agent_install(struct oc_rst_agent *ag);		       /* OC_STEP_INSTALL */
int oc_agent_setup_file(struct oc_rst_agent *ag, uint32_t id); /* OC_STEP_SETUP */
int oc_agent_fs(struct oc_rst_agent *ag);		       /* OC_STEP_FS */
int oc_agent_memory(struct oc_rst_agent *ag);		       /* OC_STEP_MEMORY, THREADS */

#endif
