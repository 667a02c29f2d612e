// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pid namespace: a tree whose root is pid 1 (init) of a pid namespace of
 * its own.  The images carry every pid as the tree sees it, inside that
 * namespace (the last NSpid value); ocicr reads /proc and traces with the
 * pids of its own namespace.  At restore the root is cloned into a new pid
 * namespace with pid 1 and every other task and thread with its inner pid
 * (clone3 set_tid, innermost level); the pids outside are whatever the
 * kernel gives, and the coordinator learns them as the tasks appear.  As
 * init, the root reaps the orphans of its namespace, as it did.
 *
 * Nothing of the namespace itself needs an image: ids-PID.img's pid_ns_id
 * differing from the inventory's says "make a new one".
 *
 * A pid namespace given from outside (runc passes --external
 * pid[INODE]:KEY when the config names a pid namespace path, as for a pod
 * sharing one) is joined, not made: its init is not ours, so the root may
 * be any pid of it.  pidns-ID.img then carries the key (and is written
 * only then, as CRIU does); the restore takes the namespace's fd for that
 * key (--inherit-fd fd[N]:KEY) and clones the root into it with its pid
 * there, which must be free.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "res/dump.h"
#include "res/restore.h"
#include "res/ns/mnt.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "pidns.pb-c.h"

/* The pids of @tid in every pid namespace from ocicr's down. */
static int read_nspid(pid_t pid, pid_t tid, pid_t *ret_pids, size_t *ret_n)
{
	struct oc_proc_status st = {};
	int r = oc_proc_read_thread_status(pid, tid, &st);

	if (r < 0)
		return r;
	if (!st.has_nspid) {
		oc_proc_status_clear(&st);
		return oc_error(-EOPNOTSUPP, "/proc/%d/task/%d/status: no NSpid line", pid, tid);
	}
	memcpy(ret_pids, st.nspid, st.n_nspid * sizeof(pid_t));
	*ret_n = st.n_nspid;
	oc_proc_status_clear(&st);
	return 0;
}

/* Is the root's pid namespace named external (--external pid[INODE]:KEY)? */
static int pidns_external(struct oc_dump_ctx *ctx)
{
	_cleanup_free_ char *link = NULL;
	uint64_t ino;
	char name[32];
	int r = oc_proc_readlink(ctx->tasks[0].pid, "ns/pid", &link);

	if (r >= 0)
		r = oc_proc_parse_ns_link(link, "pid", &ino);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%llu", (unsigned long long)ino);
	ctx->pidns_ext_key = oc_mnt_external(ctx->opts->externals, ctx->opts->n_externals, "pid", name);
	return 0;
}

int oc_ns_pid_prepare(struct oc_dump_ctx *ctx)
{
	pid_t own[OC_PROC_NS_LEVELS_MAX], pids[OC_PROC_NS_LEVELS_MAX];
	size_t n_own, n, levels = 0;
	int r;

	/* The common case, the tree in ocicr's pid namespace, costs one
	 * readlink; nested namespaces in it are found by oc_ns_dump(). */
	_cleanup_free_ char *own_link = NULL, *root_link = NULL;
	r = oc_proc_readlink(0, "ns/pid", &own_link);
	if (r >= 0)
		r = oc_proc_readlink(ctx->tasks[0].pid, "ns/pid", &root_link);
	if (r < 0)
		return r;
	if (!strcmp(own_link, root_link)) {
		for (size_t i = 0; i < ctx->n_tasks; i++) {
			struct oc_dump_task *t = &ctx->tasks[i];
			t->vpid = t->pid;
			for (size_t j = 0; j < t->n_threads; j++)
				t->threads[j].vtid = t->threads[j].seized->tid;
		}
		return 0;
	}

	r = read_nspid(0, getpid(), own, &n_own);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct oc_dump_task *t = &ctx->tasks[i];
		size_t n_ids = t->seized->state == OC_TASK_DEAD ? 1 : t->n_threads;
		for (size_t j = 0; j < n_ids; j++) {
			pid_t tid = t->seized->state == OC_TASK_DEAD ? t->pid : t->threads[j].seized->tid;
			r = read_nspid(t->pid, tid, pids, &n);
			if (r < 0)
				return r;
			if (i == 0 && j == 0)
				levels = n;
			if (n != levels)
				return oc_error(-EOPNOTSUPP,
						"task %d is in another pid namespace than the root %d: "
						"nested pid namespaces are not supported",
						t->pid, ctx->tasks[0].pid);
			if (t->seized->state == OC_TASK_DEAD)
				t->vpid = pids[n - 1];
			else
				t->threads[j].vtid = pids[n - 1];
		}
		if (t->seized->state != OC_TASK_DEAD)
			t->vpid = t->threads[0].vtid;
	}
	r = pidns_external(ctx);
	if (r < 0)
		return r;
	if (levels != n_own + 1)
		return oc_error(-EOPNOTSUPP,
				"task %d is %zu pid namespaces below ocicr's: only a child namespace "
				"of ocicr's can be dumped",
				ctx->tasks[0].pid, levels - n_own);
	if (ctx->tasks[0].vpid != 1 && !ctx->pidns_ext_key)
		return oc_error(-EOPNOTSUPP,
				"task %d is pid %d of its pid namespace, not its init: only a whole "
				"pid namespace (from its pid 1) can be dumped, or one named external "
				"with --external pid[INODE]:KEY",
				ctx->tasks[0].pid, ctx->tasks[0].vpid);
	ctx->own_pidns = true;
	if (ctx->pidns_ext_key)
		pr_info("The tree is in the external pid namespace %s; task %d is its pid %d", ctx->pidns_ext_key,
			ctx->tasks[0].pid, ctx->tasks[0].vpid);
	else
		pr_info("The tree is pid namespace of its own; task %d is its init", ctx->tasks[0].pid);
	return 0;
}

/* Dump: only an external namespace has an image, its key. */
static int pid_dump(struct oc_dump_ctx *ctx, uint32_t id)
{
	PidnsEntry e = PIDNS_ENTRY__INIT;

	if (!ctx->pidns_ext_key)
		return 0;
	e.ext_key = (char *)ctx->pidns_ext_key;
	return oc_img_write_one(ctx->dir, OC_IMG_PIDNS, id, &e.base);
}

/* Restore: an external namespace is the inherited fd of its key. */
static int pid_external(struct oc_rst_ctx *ctx, uint32_t id, int *ret_fd)
{
	PidnsEntry *e = NULL;
	int r = oc_imgset_read_one(&ctx->set, OC_IMG_PIDNS, id, true, &e);

	if (r < 0)
		return r;
	if (!e || !e->ext_key)
		return 0;
	return oc_ns_external_fd(ctx, OC_NS_PID, e->ext_key, ret_fd);
}

const struct oc_ns_ops oc_ns_pid_ops = {
	.dump = pid_dump,
	.dump_outside = true,
	.external = pid_external,
};

pid_t oc_dump_vpid(const struct oc_dump_ctx *ctx, pid_t pid)
{
	if (!ctx->own_pidns)
		return pid;
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		const struct oc_dump_task *t = &ctx->tasks[i];
		if (t->pid == pid)
			return t->vpid;
		for (size_t j = 0; t->seized->state != OC_TASK_DEAD && j < t->n_threads; j++)
			if (t->threads[j].seized->tid == pid)
				return t->threads[j].vtid;
	}
	return 0;
}

int oc_ns_outer_child(pid_t parent, pid_t inner, pid_t *ret)
{
	_cleanup_free_ char *text = NULL;
	pid_t pids[OC_PROC_NS_LEVELS_MAX];
	char name[48];
	size_t n;
	int r;

	snprintf(name, sizeof(name), "task/%d/children", parent);
	r = oc_proc_read(parent, name, &text, NULL);
	if (r < 0)
		return r;
	for (char *p = text, *end; *p; p = end) {
		long child = strtol(p, &end, 10);
		if (end == p)
			break;
		if (read_nspid(child, child, pids, &n) == 0 && pids[n - 1] == inner) {
			*ret = child;
			return 0;
		}
	}
	return oc_error(-ESRCH, "thread %d has no child %d in its pid namespace", parent, inner);
}
