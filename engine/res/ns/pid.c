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

/*
 * Task @t's pids from the tree's pid namespace (NSpid index @top) down:
 * vpid and vtids there, ns_pids in the namespaces below it.
 */
static int task_levels(struct oc_dump_task *t, size_t top)
{
	bool dead = t->seized->state == OC_TASK_DEAD;
	size_t n_ids = dead ? 1 : t->n_threads;
	pid_t pids[OC_PROC_NS_LEVELS_MAX];
	size_t n;

	for (size_t j = 0; j < n_ids; j++) {
		int r = read_nspid(t->pid, dead ? t->pid : t->threads[j].seized->tid, pids, &n);
		if (r < 0)
			return r;
		if (n <= top)
			return oc_error(-EOPNOTSUPP, "task %d is outside the pid namespace of the root %d", t->pid,
					t->ctx->tasks[0].pid);
		if (j == 0) {
			t->vpid = pids[top];
			t->n_ns_pids = n - top - 1;
			memcpy(t->ns_pids, pids + top + 1, t->n_ns_pids * sizeof(pid_t));
		}
		if (n - top - 1 != t->n_ns_pids)
			return oc_error(-EIO,
					"task %d: thread %d is %zu pid namespaces below the tree's, its leader %zu",
					t->pid, t->threads[j].seized->tid, n - top - 1, t->n_ns_pids);
		if (!dead) {
			t->threads[j].vtid = pids[top];
			memcpy(t->threads[j].ns_tids, pids + top + 1, t->n_ns_pids * sizeof(pid_t));
		}
	}
	return 0;
}

/*
 * A pid namespace below the tree's must come whole, from its init: a task
 * is in its parent's namespace, or is pid 1 of one made right below it.
 */
static int check_nesting(const struct oc_dump_ctx *ctx)
{
	for (size_t i = 1; i < ctx->n_tasks; i++) {
		const struct oc_dump_task *t = &ctx->tasks[i], *p = &ctx->tasks[t->seized->parent];
		if (t->n_ns_pids == p->n_ns_pids)
			continue;
		if (t->n_ns_pids == p->n_ns_pids + 1 && t->ns_pids[t->n_ns_pids - 1] == 1)
			continue;
		return oc_error(-EOPNOTSUPP,
				"task %d is pid %d of a pid namespace %zu levels below the tree's, its parent "
				"%d %zu: only a whole nested pid namespace (its init a child of a task of the "
				"namespace right above) can be dumped",
				t->pid, t->n_ns_pids ? t->ns_pids[t->n_ns_pids - 1] : t->vpid, t->n_ns_pids, p->pid,
				p->n_ns_pids);
	}
	return 0;
}

/* The tree in ocicr's pid namespace: its pids are ocicr's, but for tasks
 * in namespaces below it (one readlink each tells). */
static int levels_in_ours(struct oc_dump_ctx *ctx, const char *own_link)
{
	pid_t own[OC_PROC_NS_LEVELS_MAX];
	size_t n_own = 0;
	int r;

	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct oc_dump_task *t = &ctx->tasks[i];
		_cleanup_free_ char *link = NULL;
		r = oc_proc_readlink(t->pid, "ns/pid", &link);
		if (r < 0)
			return r;
		if (strcmp(link, own_link)) {
			if (!n_own && (r = read_nspid(0, getpid(), own, &n_own)) < 0)
				return r;
			r = task_levels(t, n_own - 1);
			if (r < 0)
				return r;
			continue;
		}
		t->vpid = t->pid;
		for (size_t j = 0; j < t->n_threads; j++)
			t->threads[j].vtid = t->threads[j].seized->tid;
	}
	return check_nesting(ctx);
}

int oc_ns_pid_prepare(struct oc_dump_ctx *ctx)
{
	pid_t own[OC_PROC_NS_LEVELS_MAX], pids[OC_PROC_NS_LEVELS_MAX];
	size_t n_own, levels;
	int r;

	_cleanup_free_ char *own_link = NULL, *root_link = NULL;
	r = oc_proc_readlink(0, "ns/pid", &own_link);
	if (r >= 0)
		r = oc_proc_readlink(ctx->tasks[0].pid, "ns/pid", &root_link);
	if (r < 0)
		return r;
	if (!strcmp(own_link, root_link))
		return levels_in_ours(ctx, own_link);

	r = read_nspid(0, getpid(), own, &n_own);
	if (r >= 0)
		r = read_nspid(ctx->tasks[0].pid, ctx->tasks[0].pid, pids, &levels);
	if (r < 0)
		return r;
	if (levels != n_own + 1)
		return oc_error(-EOPNOTSUPP,
				"task %d is %zu pid namespaces below ocicr's: only a child namespace "
				"of ocicr's can be dumped",
				ctx->tasks[0].pid, levels - n_own);
	for (size_t i = 0; i < ctx->n_tasks; i++)
		if ((r = task_levels(&ctx->tasks[i], n_own)) < 0)
			return r;
	r = check_nesting(ctx);
	if (r >= 0)
		r = pidns_external(ctx);
	if (r < 0)
		return r;
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

int oc_ns_pid_check_children(const struct oc_dump_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		const struct oc_dump_task *t = &ctx->tasks[i];
		bool found = false;
		if (!t->ids || !t->ids->has_pid_for_children_ns_id)
			continue;
		for (size_t j = i + 1; j < ctx->n_tasks && !found; j++) {
			const struct oc_dump_task *c = &ctx->tasks[j];
			found = c->seized->parent == i && c->ids &&
				c->ids->pid_ns_id == t->ids->pid_for_children_ns_id && c->n_ns_pids == t->n_ns_pids + 1;
		}
		if (!found)
			return oc_error(-EOPNOTSUPP,
					"task %d made a pid namespace for its children (unshare) whose init is not "
					"its child in the tree",
					t->pid);
	}
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

/* ---- restore: pid namespaces nested below the tree's ---------------------- */

int oc_ns_pid_rst_check(const struct oc_rst_ctx *ctx)
{
	if (ctx->n_tasks && ctx->tasks[0].pstree->n_ns_pids)
		return oc_error(-EINVAL, "pstree.img: the root %d has pids below the tree's pid namespace",
				ctx->tasks[0].pid);
	for (size_t i = 1; i < ctx->n_tasks; i++) {
		const struct oc_rst_task *t = &ctx->tasks[i], *p = &ctx->tasks[t->parent];
		const PstreeEntry *pe = t->pstree, *pp = p->pstree;
		bool other = t->ids && p->ids && t->ids->pid_ns_id != p->ids->pid_ns_id;
		if (pe->n_ns_pids >= OC_PROC_NS_LEVELS_MAX)
			return oc_error(-EINVAL, "pstree.img: task %d has pids in %zu pid namespaces below the tree's",
					t->pid, pe->n_ns_pids);
		if (pe->n_ns_pids && pe->n_threads > 1 && pe->n_ns_tids != (pe->n_threads - 1) * pe->n_ns_pids)
			return oc_error(-EINVAL,
					"pstree.img: task %d has %zu threads in a pid namespace %zu levels below the "
					"tree's, and %zu of their tids there (ns_tids), not %zu",
					t->pid, pe->n_threads, pe->n_ns_pids, pe->n_ns_tids,
					(pe->n_threads - 1) * pe->n_ns_pids);
		if (pe->n_ns_pids == pp->n_ns_pids && !other)
			continue;
		if (pe->n_ns_pids == pp->n_ns_pids + 1 && pe->ns_pids[pe->n_ns_pids - 1] == 1 && (other || !t->ids))
			continue;
		return oc_error(-EINVAL,
				"pstree.img, ids-%d.img: task %d is %zu pid namespaces below the tree's (in pid "
				"namespace %u), its parent %d %zu (%u): it must be in its parent's, or pid 1 of "
				"one right below it",
				t->pid, t->pid, pe->n_ns_pids, t->ids ? t->ids->pid_ns_id : 0, p->pid, pp->n_ns_pids,
				p->ids ? p->ids->pid_ns_id : 0);
	}
	return 0;
}

int oc_ns_rst_top_level(struct oc_rst_ctx *ctx, pid_t root_pid)
{
	pid_t pids[OC_PROC_NS_LEVELS_MAX];
	size_t n;
	int r = read_nspid(root_pid, root_pid, pids, &n);

	if (r < 0)
		return r;
	ctx->ns->top_level = n - 1;
	return 0;
}

/* Thread @j's pids below the tree's namespace, outermost first. */
static const uint32_t *thread_ns_tids(const PstreeEntry *pe, size_t j)
{
	return j ? pe->ns_tids + (j - 1) * pe->n_ns_pids : pe->ns_pids;
}

size_t oc_rst_thread_set_tid(const struct oc_rst_task *t, size_t j, pid_t *set_tid)
{
	const PstreeEntry *pe = t->pstree;
	const uint32_t *below = thread_ns_tids(pe, j);
	size_t n = pe->n_ns_pids;

	for (size_t i = 0; i < n; i++)
		set_tid[i] = below[n - 1 - i];
	set_tid[n] = j ? (pid_t)pe->threads[j] : t->pid;
	return n + 1;
}

size_t oc_rst_set_tid(const struct oc_rst_task *t, pid_t *set_tid)
{
	return oc_rst_thread_set_tid(t, 0, set_tid);
}

pid_t oc_rst_own_tid(const struct oc_rst_task *t, size_t j)
{
	const PstreeEntry *pe = t->pstree;

	if (pe->n_ns_pids)
		return thread_ns_tids(pe, j)[pe->n_ns_pids - 1];
	return j ? (pid_t)pe->threads[j] : t->pid;
}

pid_t oc_rst_own_pid(const struct oc_rst_task *t)
{
	return oc_rst_own_tid(t, 0);
}

pid_t oc_rst_pid_seen_by(const struct oc_rst_ctx *ctx, const struct oc_rst_task *viewer, pid_t top_pid)
{
	if (!viewer || !viewer->pstree->n_ns_pids)
		return top_pid;
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		const struct oc_rst_task *x = &ctx->tasks[i];
		bool same_ns = x->ids && viewer->ids && x->ids->pid_ns_id == viewer->ids->pid_ns_id;
		if (x->pid == top_pid)
			return same_ns ? oc_rst_own_pid(x) : -1;
		for (size_t j = 1; j < x->pstree->n_threads; j++)
			if (x->pstree->threads[j] == (uint32_t)top_pid)
				return same_ns ? oc_rst_own_tid(x, j) : -1;
	}
	return -1;
}
