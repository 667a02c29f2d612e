// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Namespace ids and the table of namespace kinds (see ns.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "res/dump.h"
#include "res/restore.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

/* In CRIU's order: its own namespaces are numbered 1-8 in this order. */
#define KIND(k, n, flag, field, o) \
	[k] = { n, flag, offsetof(TaskKobjIdsEntry, field), offsetof(TaskKobjIdsEntry, has_##field), o }
static const struct oc_ns_kind_desc {
	const char *name; /* as in /proc/PID/ns/ */
	int clone_flag;
	size_t id_off, has_off;
	const struct oc_ns_ops *ops;
} ns_kinds[_OC_NS_KIND_MAX] = {
	KIND(OC_NS_PID, "pid", CLONE_NEWPID, pid_ns_id, &oc_ns_pid_ops),
	KIND(OC_NS_NET, "net", CLONE_NEWNET, net_ns_id, &oc_ns_net_ops),
	KIND(OC_NS_IPC, "ipc", CLONE_NEWIPC, ipc_ns_id, &oc_ns_ipc_ops),
	KIND(OC_NS_UTS, "uts", CLONE_NEWUTS, uts_ns_id, &oc_ns_uts_ops),
	KIND(OC_NS_TIME, "time", CLONE_NEWTIME, time_ns_id, &oc_ns_time_ops),
	KIND(OC_NS_MNT, "mnt", CLONE_NEWNS, mnt_ns_id, &oc_ns_mnt_ops),
	KIND(OC_NS_USER, "user", CLONE_NEWUSER, user_ns_id, &oc_ns_user_ops),
	KIND(OC_NS_CGROUP, "cgroup", CLONE_NEWCGROUP, cgroup_ns_id, &oc_ns_cgroup_ops),
};
#undef KIND

/* Dumped and filled in this order: the user namespace first, as its maps
 * translate the ids the others hold (and must exist before they are
 * filled). */
static const enum oc_ns_kind ns_order[_OC_NS_KIND_MAX] = {
	OC_NS_USER, OC_NS_PID, OC_NS_NET, OC_NS_IPC, OC_NS_UTS, OC_NS_TIME, OC_NS_MNT, OC_NS_CGROUP,
};

static uint32_t get_id(const TaskKobjIdsEntry *ids, enum oc_ns_kind k, bool *ret_has)
{
	*ret_has = *(const protobuf_c_boolean *)((const char *)ids + ns_kinds[k].has_off);
	return *(const uint32_t *)((const char *)ids + ns_kinds[k].id_off);
}

int oc_ns_kind_by_name(const char *name)
{
	for (int k = 0; k < _OC_NS_KIND_MAX; k++)
		if (!strcmp(ns_kinds[k].name, name))
			return k;
	return -ENOENT;
}

int oc_ns_kind_by_flag(uint32_t clone_flag)
{
	for (int k = 0; k < _OC_NS_KIND_MAX; k++)
		if ((uint32_t)ns_kinds[k].clone_flag == clone_flag)
			return k;
	return -ENOENT;
}

const char *oc_ns_kind_name(enum oc_ns_kind k)
{
	return ns_kinds[k].name;
}

int oc_ns_kind_flag(enum oc_ns_kind k)
{
	return ns_kinds[k].clone_flag;
}

uint32_t oc_ns_id(const TaskKobjIdsEntry *ids, enum oc_ns_kind k)
{
	bool has;
	uint32_t id = get_id(ids, k, &has);

	return has ? id : 0;
}

static void set_id(TaskKobjIdsEntry *ids, enum oc_ns_kind k, uint32_t id)
{
	*(uint32_t *)((char *)ids + ns_kinds[k].id_off) = id;
	*(protobuf_c_boolean *)((char *)ids + ns_kinds[k].has_off) = true;
}

/* The id of @pid's namespace of kind @k (/proc/PID/ns/@file), numbered on
 * first sight; 0 if the kernel lacks the kind. */
static int ns_id_of(struct oc_dump_ctx *ctx, pid_t pid, enum oc_ns_kind k, const char *file, uint32_t *ret_id)
{
	_cleanup_free_ char *link = NULL;
	char name[48];
	uint64_t ino;
	uint32_t max = 0;
	int r;

	*ret_id = 0;
	snprintf(name, sizeof(name), "ns/%s", file);
	r = oc_proc_readlink(pid, name, &link);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = oc_proc_parse_ns_link(link, ns_kinds[k].name, &ino);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->n_ns_seen; i++) {
		if (ctx->ns_seen[i].ino == ino) {
			*ret_id = ctx->ns_seen[i].id;
			return 0;
		}
		max = MAX(max, ctx->ns_seen[i].id);
	}
	if (ctx->n_ns_seen == ARRAY_SIZE(ctx->ns_seen))
		return oc_error(-E2BIG, "too many namespaces in the tree");
	ctx->ns_seen[ctx->n_ns_seen].ino = ino;
	ctx->ns_seen[ctx->n_ns_seen++].id = max + 1;
	*ret_id = max + 1;
	return 0;
}

/* ocicr's own namespaces come first, as CRIU's do. */
static int number_own_namespaces(struct oc_dump_ctx *ctx)
{
	for (int k = 0; k < _OC_NS_KIND_MAX; k++) {
		int r = ns_id_of(ctx, 0, k, ns_kinds[k].name, &ctx->own_ns_ids[k]);
		if (r < 0)
			return oc_error_wrap(r, "ocicr's own %s namespace", ns_kinds[k].name);
	}
	ctx->own_ns_numbered = true;
	return 0;
}

int oc_ns_dump_ids(struct oc_dump_task *t, TaskKobjIdsEntry *ids)
{
	int r;

	if (!t->ctx->own_ns_numbered && (r = number_own_namespaces(t->ctx)) < 0)
		return r;
	for (int k = 0; k < _OC_NS_KIND_MAX; k++) {
		uint32_t id;
		r = ns_id_of(t->ctx, t->pid, k, ns_kinds[k].name, &id);
		if (r < 0)
			return r;
		if (id)
			set_id(ids, k, id);
	}
	/* After unshare(CLONE_NEWPID) its children go to another; until
	 * the first, its init, the kernel shows none (ENOENT). */
	uint32_t id;
	r = ns_id_of(t->ctx, t->pid, OC_NS_PID, "pid_for_children", &id);
	if (r < 0)
		return r;
	if (!id && ids->has_pid_ns_id)
		return oc_error(-EOPNOTSUPP,
				"task %d made a pid namespace for its children (unshare) but no init in it yet: "
				"its next child would be that init, which no image can say",
				t->pid);
	if (id && ids->has_pid_ns_id && id != ids->pid_ns_id) {
		ids->has_pid_for_children_ns_id = true;
		ids->pid_for_children_ns_id = id;
	}
	return 0;
}

bool oc_ns_not_ours(pid_t pid, enum oc_ns_kind kind)
{
	_cleanup_free_ char *theirs = NULL, *ours = NULL;
	char name[32];

	snprintf(name, sizeof(name), "ns/%s", ns_kinds[kind].name);
	return oc_proc_readlink(pid, name, &theirs) >= 0 && oc_proc_readlink(0, name, &ours) >= 0 &&
	       strcmp(theirs, ours);
}

bool oc_ns_rst_not_ours(const struct oc_rst_ctx *ctx, enum oc_ns_kind kind)
{
	const TaskKobjIdsEntry *root = ctx->n_tasks ? ctx->tasks[0].ids : NULL, *inv = ctx->inventory->root_ids;
	bool has_root, has_inv;

	return root && inv && get_id(root, kind, &has_root) != get_id(inv, kind, &has_inv) && has_root && has_inv;
}

bool oc_ns_rst_other_pidns(const struct oc_rst_ctx *ctx)
{
	return ctx->ns->clone_flags & CLONE_NEWPID || ctx->ns->join_fd[OC_NS_PID] >= 0;
}

bool oc_ns_dumped(const struct oc_dump_ctx *ctx, enum oc_ns_kind kind)
{
	return ctx->ns_dumped & (1u << kind);
}

void oc_ns_inventory_ids(const struct oc_dump_ctx *ctx, TaskKobjIdsEntry *root_ids)
{
	for (int k = 0; k < _OC_NS_KIND_MAX; k++)
		if (oc_ns_dumped(ctx, k))
			set_id(root_ids, k, ctx->own_ns_ids[k]);
}

int oc_ns_enter(pid_t pid, const char *name, int *ret_own_fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	_cleanup_close_ int own = open(path, O_RDONLY | O_CLOEXEC);
	if (own < 0)
		return oc_error_errno(-errno, "cannot open %s", path);
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, name);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot open %s", path);
	if (setns(fd, 0) < 0)
		return oc_error_errno(-errno, "cannot enter the %s namespace of task %d", name, pid);
	*ret_own_fd = own;
	own = -1;
	return 0;
}

int oc_ns_leave(const char *name, int own_fd)
{
	int r = setns(own_fd, 0) < 0 ? -errno : 0;

	close(own_fd);
	/* Staying in the tree's namespace would be worse than failing. */
	if (r < 0)
		abort();
	return 0;
}

/* Every task must be in the root's namespace of kind @k. */
static int check_one_namespace(struct oc_dump_ctx *ctx, enum oc_ns_kind k, uint32_t root_id)
{
	for (size_t i = 1; i < ctx->n_tasks; i++) {
		const TaskKobjIdsEntry *ids = ctx->tasks[i].ids;
		bool has;
		if (!ids)
			continue; /* a zombie */
		if (get_id(ids, k, &has) != root_id)
			return oc_error(-EOPNOTSUPP,
					"task %d is in another %s namespace than the root %d: nested %s "
					"namespaces are not supported",
					ctx->tasks[i].pid, ns_kinds[k].name, ctx->tasks[0].pid, ns_kinds[k].name);
	}
	return 0;
}

int oc_ns_dump(struct oc_dump_ctx *ctx)
{
	const TaskKobjIdsEntry *root = ctx->tasks[0].ids;

	if (!root)
		return oc_error(-EINVAL, "the root task %d is a zombie", ctx->tasks[0].pid);
	for (int i = 0; i < _OC_NS_KIND_MAX; i++) {
		enum oc_ns_kind k = ns_order[i];
		const struct oc_ns_ops *ops = ns_kinds[k].ops;
		bool has;
		uint32_t id = get_id(root, k, &has);
		int own_fd, r;

		/* A kind without a module, restored into ocicr's, would be
		 * another tree's. */
		if (!ops && has && id != ctx->own_ns_ids[k])
			return oc_error(-EOPNOTSUPP,
					"task %d is in a %s namespace of its own, which ocicr cannot save yet",
					ctx->tasks[0].pid, ns_kinds[k].name);
		if (!ops || !has)
			continue;
		/* Every task must share the root's namespace, ocicr's own
		 * included: a child in one nested below it would come back in
		 * the root's without a word.  But pid namespaces, restored
		 * nested (res/ns/pid.c checks them). */
		r = k == OC_NS_PID ? oc_ns_pid_check_children(ctx) : check_one_namespace(ctx, k, id);
		if (r < 0)
			return r;
		if (id == ctx->own_ns_ids[k])
			continue;
		pr_info("Dumping the %s namespace of task %d (id %u)", ns_kinds[k].name, ctx->tasks[0].pid, id);
		ctx->ns_dumped |= 1u << k;
		if (!ops->dump)
			continue;
		if (ops->dump_outside) {
			r = ops->dump(ctx, id);
			if (r < 0)
				return oc_error_wrap(r, "%s namespace of task %d", ns_kinds[k].name, ctx->tasks[0].pid);
			continue;
		}
		r = oc_ns_enter(ctx->tasks[0].pid, ns_kinds[k].name, &own_fd);
		if (r < 0)
			return r;
		r = ops->dump(ctx, id);
		oc_ns_leave(ns_kinds[k].name, own_fd);
		if (r < 0)
			return oc_error_wrap(r, "%s namespace of task %d", ns_kinds[k].name, ctx->tasks[0].pid);
	}
	return 0;
}

/* ---- restore ------------------------------------------------------------ */

/* --join-ns NS:PATH: the namespace at PATH is joined instead of made. */
static int open_joins(struct oc_rst_ctx *ctx)
{
	static const int joinable =
		1 << OC_NS_NET | 1 << OC_NS_PID | 1 << OC_NS_IPC | 1 << OC_NS_UTS | 1 << OC_NS_CGROUP | 1 << OC_NS_TIME;

	for (size_t i = 0; i < ctx->opts->n_join_ns; i++) {
		const char *j = ctx->opts->join_ns[i], *colon = strchr(j, ':');
		int k;

		for (k = 0; k < _OC_NS_KIND_MAX; k++)
			if (colon && strlen(ns_kinds[k].name) == (size_t)(colon - j) &&
			    !strncmp(j, ns_kinds[k].name, colon - j))
				break;
		if (k == _OC_NS_KIND_MAX || !(joinable & (1 << k)))
			return oc_error(-EOPNOTSUPP,
					"--join-ns %s: only net, pid, ipc, uts, cgroup and time namespaces "
					"can be joined (as NS:PATH)",
					j);
		if (ctx->ns->join_fd[k] >= 0)
			close(ctx->ns->join_fd[k]);
		ctx->ns->join_fd[k] = open(colon + 1, O_RDONLY | O_CLOEXEC);
		if (ctx->ns->join_fd[k] < 0)
			return oc_error_errno(-errno, "--join-ns %s", j);
	}
	return 0;
}

int oc_ns_join_enter(struct oc_rst_ctx *ctx, int saved[_OC_NS_KIND_MAX])
{
	char path[64];

	for (int k = 0; k < _OC_NS_KIND_MAX; k++)
		saved[k] = -1;
	for (int k = 0; k < _OC_NS_KIND_MAX; k++) {
		if (ctx->ns->join_fd[k] < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_kinds[k].name);
		saved[k] = open(path, O_RDONLY | O_CLOEXEC);
		if (saved[k] < 0)
			return oc_error_errno(-errno, "cannot open %s", path);
		if (setns(ctx->ns->join_fd[k], ns_kinds[k].clone_flag) < 0)
			return oc_error_errno(-errno, "cannot join the given %s namespace", ns_kinds[k].name);
	}
	return 0;
}

void oc_ns_join_leave(struct oc_rst_ctx *ctx, int saved[_OC_NS_KIND_MAX])
{
	(void)ctx;
	for (int k = 0; k < _OC_NS_KIND_MAX; k++)
		if (saved[k] >= 0) {
			oc_ns_leave(ns_kinds[k].name, saved[k]);
			saved[k] = -1;
		}
}

int oc_ns_external_fd(struct oc_rst_ctx *ctx, enum oc_ns_kind kind, const char *key, int *ret_fd)
{
	const char *name = ns_kinds[kind].name;
	int r = oc_rst_inherited_fd(ctx, key);

	if (r == -ENOENT)
		return oc_error(-ENOENT,
				"the %s namespace was external (%s) and is not given: --inherit-fd fd[N]:%s or "
				"--join-ns %s:PATH",
				name, key, key, name);
	if (r < 0)
		return r;
	*ret_fd = fcntl(r, F_DUPFD_CLOEXEC, 3);
	if (*ret_fd < 0)
		return oc_error_errno(-errno, "inherited fd %d (%s)", r, key);
	pr_info("the %s namespace %s is the inherited fd %d: joined", name, key, r);
	return 1;
}

int oc_ns_load(struct oc_rst_ctx *ctx)
{
	const TaskKobjIdsEntry *root = ctx->tasks[0].ids, *inv = ctx->inventory->root_ids;

	ctx->ns = calloc(1, sizeof(*ctx->ns));
	if (!ctx->ns)
		return -ENOMEM;
	for (int k = 0; k < _OC_NS_KIND_MAX; k++)
		ctx->ns->join_fd[k] = -1;
	int r = open_joins(ctx);
	if (r >= 0)
		r = oc_ns_pid_rst_check(ctx);
	if (r < 0)
		return r;
	if (!root || !inv)
		return 0;
	for (int k = 0; k < _OC_NS_KIND_MAX; k++) {
		const struct oc_ns_ops *ops = ns_kinds[k].ops;
		bool has_root, has_inv;
		uint32_t id = get_id(root, k, &has_root), inv_id = get_id(inv, k, &has_inv);

		if (ctx->ns->join_fd[k] >= 0) {
			pr_info("the %s namespace is joined (--join-ns), not made", ns_kinds[k].name);
			continue;
		}
		if (!has_root || !has_inv || id == inv_id)
			continue;
		if (ops && ops->external) {
			r = ops->external(ctx, id, &ctx->ns->join_fd[k]);
			if (r < 0)
				return oc_error_wrap(r, "%s namespace %u", ns_kinds[k].name, id);
			if (r > 0)
				continue;
		}
		if (!ops)
			return oc_error(-EOPNOTSUPP,
					"the tree had a %s namespace of its own (id %u), which ocicr cannot restore "
					"yet (restored into ocicr's, the tree would run with ocicr's ids)",
					ns_kinds[k].name, id);
		for (size_t i = 1; i < ctx->n_tasks; i++) {
			bool has;
			/* Pid namespaces nest (res/ns/pid.c checks them). */
			if (k == OC_NS_PID && ctx->tasks[i].pstree->n_ns_pids)
				continue;
			if (ctx->tasks[i].ids && get_id(ctx->tasks[i].ids, k, &has) != id)
				return oc_error(-EOPNOTSUPP,
						"ids-%d.img: task %d is in another %s namespace than "
						"the root: nested %s namespaces are not supported",
						ctx->tasks[i].pid, ctx->tasks[i].pid, ns_kinds[k].name,
						ns_kinds[k].name);
		}
		if (k == OC_NS_PID && ctx->tasks[0].pid != 1)
			return oc_error(-EINVAL, "pstree.img: the root %d of a new pid namespace must be its pid 1",
					ctx->tasks[0].pid);
		if (!ops->task_made)
			ctx->ns->clone_flags |= ns_kinds[k].clone_flag;
		if (ops->load) {
			r = ops->load(ctx, id, &ctx->ns->state[k]);
			if (r < 0)
				return oc_error_wrap(r, "%s namespace %u", ns_kinds[k].name, id);
		}
		/* A module that made its namespace already: the root joins it. */
		if (ctx->ns->join_fd[k] >= 0)
			ctx->ns->clone_flags &= ~(uint64_t)ns_kinds[k].clone_flag;
	}
	return 0;
}

/* Run hook @off of every namespace made, inside it. */
static int each_new_ns(struct oc_rst_ctx *ctx, pid_t root_pid, size_t off, const char *what)
{
	for (int i = 0; i < _OC_NS_KIND_MAX; i++) {
		enum oc_ns_kind k = ns_order[i];
		const struct oc_ns_ops *ops = ns_kinds[k].ops;
		int (*hook)(struct oc_rst_ctx *, void *);
		int own_fd, r;

		if (!(ctx->ns->clone_flags & ns_kinds[k].clone_flag) || !ops)
			continue;
		hook = *(int (*const *)(struct oc_rst_ctx *, void *))((const char *)ops + off);
		if (!hook)
			continue;
		ctx->ns->root_pid = root_pid;
		if (ops->fill_outside && off == offsetof(struct oc_ns_ops, fill)) {
			r = hook(ctx, ctx->ns->state[k]);
			if (r < 0)
				return oc_error_wrap(r, "%s the new %s namespace", what, ns_kinds[k].name);
			continue;
		}
		/* Entering a mount namespace moves the working directory. */
		_cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (cwd < 0)
			return oc_error_errno(-errno, "cannot open the working directory");
		r = oc_ns_enter(root_pid, ns_kinds[k].name, &own_fd);
		if (r < 0)
			return r;
		ctx->ns->root_pid = root_pid;
		r = hook(ctx, ctx->ns->state[k]);
		oc_ns_leave(ns_kinds[k].name, own_fd);
		if (fchdir(cwd) < 0)
			abort();
		if (r < 0)
			return oc_error_wrap(r, "%s the new %s namespace", what, ns_kinds[k].name);
	}
	return 0;
}

int oc_ns_fill(struct oc_rst_ctx *ctx, pid_t root_pid)
{
	return each_new_ns(ctx, root_pid, offsetof(struct oc_ns_ops, fill), "filling");
}

int oc_ns_finish(struct oc_rst_ctx *ctx, pid_t root_pid)
{
	return each_new_ns(ctx, root_pid, offsetof(struct oc_ns_ops, finish), "finishing");
}

void oc_ns_describe(const struct oc_rst_ctx *ctx, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int k = 0; ctx->ns && k < _OC_NS_KIND_MAX; k++)
		if (ctx->ns->clone_flags & ns_kinds[k].clone_flag && o < len)
			o += snprintf(buf + o, len - o, "%s%s", o ? " " : "", ns_kinds[k].name);
}

void oc_ns_free(struct oc_rst_ctx *ctx)
{
	if (!ctx->ns)
		return;
	for (int k = 0; k < _OC_NS_KIND_MAX; k++) {
		if (ctx->ns->state[k] && ns_kinds[k].ops && ns_kinds[k].ops->free_state)
			ns_kinds[k].ops->free_state(ctx->ns->state[k]);
		if (ctx->ns->join_fd[k] >= 0)
			close(ctx->ns->join_fd[k]);
	}
	free(ctx->ns);
	ctx->ns = NULL;
}
