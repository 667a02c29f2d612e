// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Task identity: the pstree entry, the task-wide core (state, comm, flags,
 * loginuid, oom score, subreaper) and the kernel-object / namespace ids.
 */
#include <inttypes.h>
#include <linux/kcmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dump.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/log.h"

static int kcmp(pid_t a, pid_t b, int type)
{
	return syscall(SYS_kcmp, a, b, type, 0, 0);
}

/*
 * Kernel-object ids: CRIU numbers each kind from 1 with the dumper itself
 * first, so tasks start at 2.  Two tasks share an id when kcmp() says they
 * share the object.
 */
static uint32_t kobj_id(struct oc_dump_task *t, int kcmp_type, size_t field_off)
{
	struct oc_dump_ctx *ctx = t->ctx;
	uint32_t max = 1;

	for (struct oc_dump_task *o = ctx->tasks; o < t; o++) {
		if (!o->ids)
			continue;
		uint32_t id = *(uint32_t *)((char *)o->ids + field_off);
		if (kcmp(o->pid, t->pid, kcmp_type) == 0)
			return id;
		if (id > max)
			max = id;
	}
	return max + 1;
}

/* Namespace ids share one counter, in CRIU's order of kinds. */
#define NS(kind, field) \
	{ kind, offsetof(TaskKobjIdsEntry, field), offsetof(TaskKobjIdsEntry, has_##field) }
static const struct {
	const char *link;
	size_t off, has_off;
} ns_kinds[] = {
	NS("pid", pid_ns_id),	NS("net", net_ns_id),	NS("ipc", ipc_ns_id),	NS("uts", uts_ns_id),
	NS("time", time_ns_id), NS("mnt", mnt_ns_id),	NS("user", user_ns_id), NS("cgroup", cgroup_ns_id),
};
#undef NS

static int dump_ns_ids(struct oc_dump_task *t, TaskKobjIdsEntry *ids)
{
	struct oc_dump_ctx *ctx = t->ctx;
	uint32_t max = 0;

	for (size_t i = 0; i < ctx->n_ns_seen; i++)
		max = MAX(max, ctx->ns_seen[i].id);

	for (size_t k = 0; k < ARRAY_SIZE(ns_kinds); k++) {
		_cleanup_free_ char *link = NULL;
		char name[32];
		uint64_t ino;
		uint32_t id = 0;
		int r;

		snprintf(name, sizeof(name), "ns/%s", ns_kinds[k].link);
		r = oc_proc_readlink(t->pid, name, &link);
		if (r == -ENOENT)
			continue; /* kernel without this namespace kind */
		if (r < 0)
			return r;
		r = oc_proc_parse_ns_link(link, ns_kinds[k].link, &ino);
		if (r < 0)
			return r;
		for (size_t i = 0; i < ctx->n_ns_seen; i++)
			if (ctx->ns_seen[i].ino == ino)
				id = ctx->ns_seen[i].id;
		if (!id) {
			if (ctx->n_ns_seen == ARRAY_SIZE(ctx->ns_seen))
				return oc_error(-E2BIG, "too many namespaces in the tree");
			id = ++max;
			ctx->ns_seen[ctx->n_ns_seen].ino = ino;
			ctx->ns_seen[ctx->n_ns_seen++].id = id;
		}
		*(uint32_t *)((char *)ids + ns_kinds[k].off) = id;
		*(protobuf_c_boolean *)((char *)ids + ns_kinds[k].has_off) = true;
	}
	return 0;
}

static int read_proc_u32(pid_t pid, const char *name, int base, uint32_t *ret, bool *ret_has)
{
	_cleanup_free_ char *text = NULL;
	int r = oc_proc_read(pid, name, &text, NULL);

	*ret_has = false;
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, base);
	if (errno || end == text)
		return oc_error(-EINVAL, "/proc/%d/%s: cannot parse '%s'", pid, name, text);
	*ret = (uint32_t)v;
	*ret_has = true;
	return 0;
}

static int dump_pstree(struct oc_dump_task *t)
{
	struct oc_arena *a = t->ctx->arena;
	PstreeEntry *pe = OC_ARENA_MSG(a, PstreeEntry, PSTREE_ENTRY__INIT);

	if (!pe)
		return -ENOMEM;
	pe->pid = t->pid;
	pe->ppid = t == t->ctx->tasks ? 0 : t->stat.ppid;
	pe->pgid = t->stat.pgrp;
	pe->sid = t->stat.session;
	if (t->seized->state == OC_TASK_DEAD) {
		pe->n_threads = 1;
		pe->threads = OC_ARENA_ARRAY(a, uint32_t, 1); /* [0] */
	} else {
		pe->n_threads = t->n_threads;
		pe->threads = OC_ARENA_ARRAY(a, uint32_t, t->n_threads);
		if (pe->threads)
			for (size_t i = 0; i < t->n_threads; i++)
				pe->threads[i] = t->threads[i].seized->tid;
	}
	if (!pe->threads)
		return -ENOMEM;
	t->pstree = pe;
	return 0;
}

int oc_dump_task_core(struct oc_dump_task *t)
{
	struct oc_arena *a = t->ctx->arena;
	TaskCoreEntry *tc = OC_ARENA_MSG(a, TaskCoreEntry, TASK_CORE_ENTRY__INIT);
	bool zombie = t->seized->state == OC_TASK_DEAD;
	int r;

	if (!tc)
		return -ENOMEM;
	r = dump_pstree(t);
	if (r < 0)
		return r;

	/* Cores: one per thread, the leader's carrying the task-wide part. */
	size_t n_cores = zombie ? 1 : t->n_threads;
	if (zombie) {
		t->threads = OC_ARENA_ARRAY(a, struct oc_dump_thread, 1);
		if (!t->threads)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n_cores; i++) {
		CoreEntry *core = OC_ARENA_MSG(a, CoreEntry, CORE_ENTRY__INIT);
		if (!core)
			return -ENOMEM;
		core->mtype = CORE_ENTRY__MARCH__X86_64;
		t->threads[i].core = core;
	}
	t->threads[0].core->tc = tc;

	tc->task_state = t->seized->state;
	tc->exit_code = zombie ? t->seized->exit_status : 0;
	tc->flags = t->stat.flags;
	tc->comm = oc_arena_strdup(a, t->stat.comm);
	if (!tc->comm)
		return -ENOMEM;
	if (zombie)
		return 0;

	if (t->seized->state == OC_TASK_STOPPED) {
		tc->has_stop_signo = true;
		tc->stop_signo = t->seized->stop_signo;
	}
	tc->blk_sigset = t->threads[0].rs.saved_sigmask;

	uint32_t v;
	bool has;
	/* /proc prints it in hex ("%08x"). */
	r = read_proc_u32(t->pid, "personality", 16, &v, &has);
	if (r < 0)
		return r;
	tc->personality = v;
	r = read_proc_u32(t->pid, "loginuid", 10, &tc->loginuid, &has);
	if (r < 0)
		return r;
	tc->has_loginuid = has;
	r = read_proc_u32(t->pid, "oom_score_adj", 10, &v, &has);
	if (r < 0)
		return r;
	tc->has_oom_score_adj = has;
	tc->oom_score_adj = (int32_t)v;

	long res;
	r = oc_remote_syscall(&t->threads[0].rs, SYS_prctl, &res, PR_GET_CHILD_SUBREAPER,
			      t->threads[0].rs.scratch, 0, 0, 0, 0);
	if (r < 0)
		return r;
	int subreaper = 0;
	if (res == 0) {
		r = oc_remote_peek(&t->threads[0].rs, 0, &subreaper, sizeof(subreaper));
		if (r < 0)
			return r;
	}
	tc->has_child_subreaper = true;
	tc->child_subreaper = subreaper != 0;

	/* ids */
	TaskKobjIdsEntry *ids = OC_ARENA_MSG(a, TaskKobjIdsEntry, TASK_KOBJ_IDS_ENTRY__INIT);
	if (!ids)
		return -ENOMEM;
	ids->vm_id = kobj_id(t, KCMP_VM, offsetof(TaskKobjIdsEntry, vm_id));
	ids->files_id = kobj_id(t, KCMP_FILES, offsetof(TaskKobjIdsEntry, files_id));
	ids->fs_id = kobj_id(t, KCMP_FS, offsetof(TaskKobjIdsEntry, fs_id));
	ids->sighand_id = kobj_id(t, KCMP_SIGHAND, offsetof(TaskKobjIdsEntry, sighand_id));
	r = dump_ns_ids(t, ids);
	if (r < 0)
		return r;
	t->ids = ids;
	return 0;
}
