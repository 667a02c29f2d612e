// SPDX-License-Identifier: LGPL-2.1-or-later
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "res/dump.h"
#include "res/kind.h"
#include "core/notify.h"
#include "mem/pages.h"
#include "res/cgroup/cgroup.h"
#include "res/fd/sk_tcp.h"
#include "res/net/netlock.h"
#include "res/ns/ns.h"
#include "res/task/lsm.h"
#include "res/task/seccomp.h"
#include "core/cleanup.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/log.h"

#include "fdinfo.pb-c.h"
#include "inventory.pb-c.h"
#include "memfd.pb-c.h"
#include "pipe-data.pb-c.h"
#include "remap-file-path.pb-c.h"
#include "stats.pb-c.h"
#include "timens.pb-c.h"
#include "tty.pb-c.h"

uint32_t oc_dump_new_file_id(struct oc_dump_ctx *ctx)
{
	return ++ctx->next_file_id;
}

int oc_dump_add_file(struct oc_dump_ctx *ctx, FileEntry *fe)
{
	if (ctx->n_files == ctx->cap_files) {
		size_t cap = ctx->cap_files ? ctx->cap_files * 2 : 64;
		FileEntry **n = realloc(ctx->files, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		ctx->files = n;
		ctx->cap_files = cap;
	}
	ctx->files[ctx->n_files++] = fe;
	return 0;
}

int oc_dump_queue(struct oc_dump_ctx *ctx, enum oc_img_kind kind, ProtobufCMessage *msg, const void *payload)
{
	struct oc_dump_queue *q = &ctx->queues[kind];
	uint64_t len = 0;
	int r;

	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		ProtobufCMessage **m = realloc(q->msgs, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		q->msgs = m;
		uint8_t **p = realloc(q->payloads, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		q->payloads = p;
		q->cap = cap;
	}
	q->payloads[q->n] = NULL;
	if (payload) {
		r = oc_img_payload_size(&oc_img_descs[kind], msg, &len);
		if (r < 0)
			return r;
		q->payloads[q->n] = oc_arena_memdup(ctx->arena, payload, len ? len : 1);
		if (!q->payloads[q->n])
			return -ENOMEM;
	}
	q->msgs[q->n++] = msg;
	return 0;
}

/* ---- collecting ------------------------------------------------------- */

static bool same_vma(const struct oc_proc_vma *a, const struct oc_proc_vma *b)
{
	return a->start == b->start && a->end == b->end && a->pgoff == b->pgoff && a->prot == b->prot &&
	       a->shared == b->shared && a->deleted == b->deleted && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && a->inode == b->inode && a->kind == b->kind && !strcmp(a->path, b->path);
}

/*
 * smaps counts every page of every VMA: ~10 ms per GiB here, all of it
 * frozen time.  A snapshot dump reads the root's smaps before the freeze;
 * frozen, it reads maps (no page walk) and takes the VmFlags from the
 * early read where the layout is unchanged.  What it cannot see is a
 * madvise() or mlock() of a whole VMA in between: a new MADV_DONTFORK
 * makes the twin lack that VMA, and the dump fails rather than guess.
 */
static int read_vmas_early(struct oc_dump_task *t)
{
	struct oc_dump_ctx *ctx = t->ctx;
	struct oc_proc_vma *vmas = NULL;
	size_t n = 0;

	if (oc_proc_read_maps(t->pid, &vmas, &n) < 0)
		return -EAGAIN;
	bool same = n == ctx->n_early_vmas;
	for (size_t i = 0; same && i < n; i++)
		same = same_vma(&vmas[i], &ctx->early_vmas[i]);
	if (!same) {
		oc_proc_vmas_free(vmas, n);
		pr_debug("task %d: its layout changed since the early smaps read", t->pid);
		return -EAGAIN;
	}
	oc_proc_vmas_free(vmas, n);
	t->vmas = ctx->early_vmas;
	t->n_vmas = ctx->n_early_vmas;
	ctx->early_vmas = NULL;
	ctx->n_early_vmas = 0;
	pr_debug("task %d: VMA flags from the smaps read before the freeze", t->pid);
	return 0;
}

/* Best effort: without it, smaps is read while frozen. */
static void read_smaps_early(struct oc_dump_ctx *ctx)
{
	_cleanup_free_ char *smaps = NULL;

	if (oc_proc_read(ctx->opts->pid, "smaps", &smaps, NULL) < 0 ||
	    oc_proc_parse_maps(smaps, &ctx->early_vmas, &ctx->n_early_vmas) < 0) {
		ctx->early_vmas = NULL;
		ctx->n_early_vmas = 0;
	}
}

static int task_read_proc(struct oc_dump_task *t)
{
	_cleanup_free_ char *stat = NULL, *status = NULL, *smaps = NULL;
	int r;

	r = oc_proc_read(t->pid, "stat", &stat, NULL);
	if (r < 0)
		return r;
	r = oc_proc_parse_stat(stat, &t->stat);
	if (r < 0)
		return r;
	r = oc_proc_read(t->pid, "status", &status, NULL);
	if (r < 0)
		return r;
	r = oc_proc_parse_status(status, &t->status);
	if (r < 0)
		return r;
	if (t->seized->state == OC_TASK_DEAD)
		return 0;
	if (t->ctx->early_vmas && t->pid == t->ctx->opts->pid && read_vmas_early(t) == 0)
		return 0;
	r = oc_proc_read(t->pid, "smaps", &smaps, NULL);
	if (r < 0)
		return r;
	return oc_proc_parse_maps(smaps, &t->vmas, &t->n_vmas);
}

static int task_begin_remote(struct oc_dump_task *t)
{
	int r = -ENOENT;

	for (size_t i = 0; i < t->n_vmas && r == -ENOENT; i++)
		if (t->vmas[i].kind == OC_VMA_VDSO)
			r = oc_remote_find_syscall_ip_in(t->pid, t->vmas[i].start, t->vmas[i].end, &t->syscall_ip);
	if (r == -ENOENT)
		r = oc_remote_find_syscall_ip(t->pid, &t->syscall_ip);
	/* A task that unmapped its vDSO: the instruction in its own code. */
	for (size_t i = 0; i < t->n_vmas && r == -ENOENT; i++)
		if ((t->vmas[i].prot & PROT_EXEC) && t->vmas[i].kind != OC_VMA_VSYSCALL &&
		    oc_remote_find_syscall_ip_code(t->pid, t->vmas[i].start, t->vmas[i].end, &t->syscall_ip) == 0) {
			pr_debug("task %d: no vDSO; system calls run from 0x%lx", t->pid, t->syscall_ip);
			r = 0;
		}
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->n_threads; i++) {
		r = oc_remote_begin(t->threads[i].seized->tid, t->syscall_ip, OC_REMOTE_SCRATCH_MAX, &t->threads[i].rs);
		if (r < 0)
			return oc_error_wrap(r, "task %d", t->pid);
	}
	return 0;
}

static int task_end_remote(struct oc_dump_task *t)
{
	int ret = 0;

	for (size_t i = 0; i < t->n_threads; i++) {
		int r = oc_remote_end(&t->threads[i].rs);

		t->threads[i].seized->stops_held += t->threads[i].rs.stops_held;
		if (r < 0 && !ret)
			ret = r;
	}
	return ret;
}

/*
 * unshare(CLONE_NEWTIME) gives only the children to come a new time
 * namespace: until one is made, the task's own and its children's differ,
 * and neither CRIU's images nor a restore can hold that pair.
 */
static int check_timens_for_children(pid_t pid)
{
	_cleanup_free_ char *own = NULL, *kids = NULL;

	if (oc_proc_readlink(pid, "ns/time", &own) < 0 || oc_proc_readlink(pid, "ns/time_for_children", &kids) < 0)
		return 0; /* a kernel without time namespaces */
	if (strcmp(own, kids))
		return oc_error(-EOPNOTSUPP,
				"task %d made a time namespace for its children (%s) but lives in %s: not supported",
				pid, kids, own);
	return 0;
}

static int collect_task(struct oc_dump_task *t)
{
	bool zombie = t->seized->state == OC_TASK_DEAD;
	int r;

	r = task_read_proc(t);
	if (r < 0)
		return r;
	if (!zombie) {
		r = check_timens_for_children(t->pid);
		if (r < 0)
			return r;
		t->pidfd = syscall(SYS_pidfd_open, t->pid, 0);
		if (t->pidfd < 0)
			return oc_error_errno(-errno, "pidfd_open(%d)", t->pid);
		r = oc_seccomp_suspend(t);
		if (r >= 0)
			r = task_begin_remote(t);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < oc_n_task_kinds; i++) {
		const struct oc_task_kind *kind = oc_task_kinds[i];
		if (zombie && !kind->zombie)
			continue;
		pr_debug("task %d: dumping %s", t->pid, kind->name);
		r = kind->dump(t);
		if (r < 0) {
			r = oc_error_wrap(r, "dumping %s of task %d", kind->name, t->pid);
			goto out;
		}
	}
out:
	if (!zombie) {
		pr_debug("task %d: collected; ending its remote session", t->pid);
		int e = task_end_remote(t);
		if (e < 0 && r >= 0)
			r = e;
	}
	return r;
}

static int collect_all(struct oc_dump_ctx *ctx)
{
	ctx->n_tasks = ctx->tree.n_tasks;
	ctx->tasks = OC_ARENA_ARRAY(ctx->arena, struct oc_dump_task, ctx->n_tasks);
	if (!ctx->tasks)
		return -ENOMEM;
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct oc_dump_task *t = &ctx->tasks[i];
		t->ctx = ctx;
		t->seized = &ctx->tree.tasks[i];
		t->pid = t->seized->pid;
		t->pidfd = -1;
		t->frozen_fd = -1;
		t->twin_adopter = -1;
		t->n_threads = t->seized->n_threads;
		t->threads = OC_ARENA_ARRAY(ctx->arena, struct oc_dump_thread, t->n_threads);
		if (!t->threads)
			return -ENOMEM;
		for (size_t j = 0; j < t->n_threads; j++)
			t->threads[j].seized = &t->seized->threads[j];
	}
	int r = oc_ns_pid_prepare(ctx);
	if (r >= 0)
		r = oc_userns_dump_prepare(ctx);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		r = oc_interrupt_check();
		if (r >= 0)
			r = collect_task(&ctx->tasks[i]);
		if (r < 0)
			return r;
	}
	return oc_ns_dump(ctx);
}

/* ---- writing ----------------------------------------------------------- */

static int write_task(struct oc_dump_ctx *ctx, struct oc_dump_task *t)
{
	int r;

	for (size_t i = 0; i < t->n_threads; i++) {
		r = oc_img_write_one(ctx->dir, OC_IMG_CORE, t->threads[i].vtid, &t->threads[i].core->base);
		if (r < 0)
			return r;
	}
	if (t->seized->state == OC_TASK_DEAD) {
		/* A zombie is only its core and its pstree entry. */
		if (!t->n_threads) {
			r = oc_img_write_one(ctx->dir, OC_IMG_CORE, t->vpid, &t->threads[0].core->base);
			if (r < 0)
				return r;
		}
		return 0;
	}
	r = oc_img_write_one(ctx->dir, OC_IMG_IDS, t->vpid, &t->ids->base);
	if (r < 0)
		return r;
	r = oc_img_write_one(ctx->dir, OC_IMG_MM, t->vpid, &t->mm->base);
	if (r < 0)
		return r;
	r = oc_img_write_one(ctx->dir, OC_IMG_FS, t->vpid, &t->fs->base);
	if (r < 0)
		return r;

	/* One fdinfo image per fd table; a shared table is written once. */
	for (struct oc_dump_task *o = ctx->tasks; o < t; o++)
		if (o->ids && o->ids->files_id == t->ids->files_id)
			return 0;
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	r = oc_img_create(ctx->dir, OC_IMG_FDINFO, t->ids->files_id, &img);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->n_fds; i++) {
		r = oc_img_write_entry(img, &t->fds[i]->base);
		if (r < 0)
			return r;
	}
	return oc_img_commit(img);
}

static int write_multi(struct oc_dump_ctx *ctx, enum oc_img_kind kind, ProtobufCMessage **msgs, size_t n,
		       uint8_t **payloads)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	int r;

	r = oc_img_create(ctx->dir, kind, 0, &img);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = oc_img_write_entry(img, msgs[i]);
		if (r < 0)
			return r;
		if (payloads && payloads[i]) {
			uint64_t len;
			r = oc_img_payload_size(&oc_img_descs[kind], msgs[i], &len);
			if (r < 0)
				return r;
			r = oc_img_write_raw(img, payloads[i], len);
			if (r < 0)
				return r;
		}
	}
	return oc_img_commit(img);
}

static int write_inventory(struct oc_dump_ctx *ctx)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	TaskKobjIdsEntry root_ids = TASK_KOBJ_IDS_ENTRY__INIT;
	PluginsEntry plugins = PLUGINS_ENTRY__INIT;
	const TaskKobjIdsEntry *task_ids = ctx->tasks[0].ids;

	/* The ids of "the restorer": namespaces equal to the tree's own, so
	 * a restore stays in the current namespaces; kernel-object ids 1,
	 * which no task has (tasks count from 2). */
	root_ids = *task_ids;
	root_ids.vm_id = root_ids.files_id = root_ids.fs_id = root_ids.sighand_id = 1;
	/* But ocicr's own where the root's were dumped: they are made anew. */
	oc_ns_inventory_ids(ctx, &root_ids);

	inv.img_version = OC_IMG_VERSION;
	inv.has_fdinfo_per_id = true;
	inv.fdinfo_per_id = true;
	inv.root_ids = &root_ids;
	inv.has_ns_per_id = true;
	inv.ns_per_id = true;
	inv.has_lsmtype = true;
	inv.lsmtype = oc_lsm_host();
	/* Written as CRIU 4.2 does: an empty plugin list means "needs no
	 * plugin" (absent, CRIU would enable every plugin it has). */
	inv.plugins_entry = &plugins;
	inv.has_root_cg_set = true;
	inv.root_cg_set = 1;
	inv.has_network_lock_method = true;
	inv.network_lock_method = oc_netlock_to_image(ctx->opts->network_lock);
	inv.has_tcp_close = ctx->opts->tcp_close;
	inv.tcp_close = ctx->opts->tcp_close;
	if (ctx->run_id[0])
		inv.dump_criu_run_id = ctx->run_id;
	return oc_img_write_one(ctx->dir, OC_IMG_INVENTORY, 0, &inv.base);
}

static int write_timens(struct oc_dump_ctx *ctx)
{
	TimensEntry e = TIMENS_ENTRY__INIT;
	Timespec mono = TIMESPEC__INIT, boot = TIMESPEC__INIT;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	mono.tv_sec = ts.tv_sec;
	mono.tv_nsec = ts.tv_nsec;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	boot.tv_sec = ts.tv_sec;
	boot.tv_nsec = ts.tv_nsec;
	e.monotonic = &mono;
	e.boottime = &boot;
	return oc_img_write_one(ctx->dir, OC_IMG_TIMENS, 0, &e.base);
}

static int write_stats(struct oc_dump_ctx *ctx)
{
	StatsEntry st = STATS_ENTRY__INIT;
	DumpStatsEntry d = DUMP_STATS_ENTRY__INIT;

	d.freezing_time = ctx->freezing_us;
	d.frozen_time = ctx->frozen_us;
	d.memdump_time = ctx->memdump_us;
	d.memwrite_time = ctx->memwrite_us;
	d.pages_scanned = ctx->pages_scanned;
	d.pages_written = ctx->pages_written;
	d.has_shpages_written = ctx->shpages_written > 0;
	d.shpages_written = ctx->shpages_written;
	st.dump = &d;
	return oc_img_write_one(ctx->dir, OC_IMG_STATS_DUMP, 0, &st.base);
}

static int write_all(struct oc_dump_ctx *ctx)
{
	PstreeEntry **pstree;
	int r;

	pstree = OC_ARENA_ARRAY(ctx->arena, PstreeEntry *, ctx->n_tasks);
	if (!pstree)
		return -ENOMEM;
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		pstree[i] = ctx->tasks[i].pstree;
		r = oc_interrupt_check();
		if (r >= 0)
			r = write_task(ctx, &ctx->tasks[i]);
		if (r < 0)
			return r;
	}
	r = write_multi(ctx, OC_IMG_PSTREE, (ProtobufCMessage **)pstree, ctx->n_tasks, NULL);
	if (r < 0)
		return r;
	r = write_multi(ctx, OC_IMG_FILES, (ProtobufCMessage **)ctx->files, ctx->n_files, NULL);
	if (r < 0)
		return r;
	for (int k = 0; k < _OC_IMG_KIND_MAX; k++) {
		struct oc_dump_queue *q = &ctx->queues[k];
		bool payloads = oc_img_descs[k].payload != OC_PAYLOAD_NONE;
		if (!q->n)
			continue;
		r = write_multi(ctx, k, q->msgs, q->n, payloads ? q->payloads : NULL);
		if (r < 0)
			return r;
	}
	r = oc_dump_seccomp_image(ctx);
	if (r < 0)
		return r;
	/* As CRIU: the clocks go to timens-0 unless the tree's own time
	 * namespace holds them (res/ns/time.c). */
	return oc_ns_dumped(ctx, OC_NS_TIME) ? 0 : write_timens(ctx);
}

/*
 * Last: the inventory marks a complete image set, of ours alone; then
 * post-dump, whose failure fails the dump (CRIU's migration hook: "do not
 * kill the tree").
 */
static int finish_images(struct oc_dump_ctx *ctx)
{
	int r = oc_imgdir_prune(ctx->dir);

	if (r >= 0)
		r = write_inventory(ctx);
	if (r < 0)
		return r;
	return oc_notify_point(ctx->opts->notify, ctx->opts->notify_data, "post-dump", ctx->opts->pid);
}

/* Every image of a tree still frozen, and the post-dump point. */
static int write_complete(struct oc_dump_ctx *ctx)
{
	int r = write_all(ctx);

	return r < 0 ? r : finish_images(ctx);
}

/*
 * Reap from inside @adopter, stopped (frozen still, or stopped again for
 * this and then let go: @detach), the killed twins it adopted
 * (find_twin_adopter()).
 */
static void reap_adopted(struct oc_dump_ctx *ctx, struct oc_dump_task *adopter, bool detach)
{
	pid_t tid = adopter->pid;
	struct oc_remote rs;

	if (!adopter->syscall_ip || oc_remote_begin(tid, adopter->syscall_ip, 0, &rs) < 0) {
		pr_warn("task %d: snapshot twins are left for it to reap: %s", tid,
			adopter->syscall_ip ? oc_error_message() : "no system call site known");
	} else {
		for (size_t i = 0; i < ctx->n_tasks; i++) {
			struct oc_dump_task *t = &ctx->tasks[i];
			long res;
			if (t->twin_adopter < 0 || &ctx->tasks[t->twin_adopter] != adopter)
				continue;
			if (oc_remote_syscall(&rs, SYS_waitid, &res, P_PID, t->twin_vpid, 0, WEXITED | WNOHANG | __WALL,
					      0, 0) < 0 ||
			    res < 0)
				pr_warn("task %d: cannot reap the snapshot twin %d it adopted", tid, t->twin_vpid);
		}
		oc_remote_end(&rs);
	}
	for (size_t i = 0; i < ctx->n_tasks; i++)
		if (ctx->tasks[i].twin_adopter >= 0 && &ctx->tasks[ctx->tasks[i].twin_adopter] == adopter)
			ctx->tasks[i].twin_adopter = -1;
	if (detach)
		ptrace(PTRACE_DETACH, tid, 0, 0);
}

/*
 * Kill the snapshot twins.  Their adopter (the nearest subreaper or init)
 * reaps them, unless it is a task of the tree (a subreaper, or the root
 * as the init of its own pid namespace): a program must not find a child
 * it did not make, so that task, frozen still (@frozen), or stopped again
 * for just these calls before the twins die, reaps them itself.  A tree
 * left stopped keeps them for its adopters to reap.
 */
static void drop_twins(struct oc_dump_ctx *ctx, bool frozen)
{
	bool reap = !ctx->opts->leave_stopped || frozen;
	_cleanup_free_ bool *stopped = NULL;

	if (reap && !frozen)
		stopped = calloc(ctx->n_tasks, sizeof(*stopped));
	for (size_t i = 0; stopped && i < ctx->n_tasks; i++) {
		/* a running adopter must not wait() for a twin before we do */
		int a = ctx->tasks[i].twin_adopter, st;
		if (ctx->tasks[i].twin <= 0 || a < 0 || stopped[a])
			continue;
		pid_t tid = ctx->tasks[a].pid;
		stopped[a] = ptrace(PTRACE_SEIZE, tid, 0, oc_seccomp_ptrace_opts(&ctx->tasks[a])) == 0 &&
			     ptrace(PTRACE_INTERRUPT, tid, 0, 0) == 0 && waitpid(tid, &st, __WALL) == tid;
		if (!stopped[a])
			ptrace(PTRACE_DETACH, tid, 0, 0);
	}
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct oc_dump_task *t = &ctx->tasks[i];
		if (t->twin <= 0)
			continue;
		kill(t->twin, SIGKILL);
		while (waitpid(t->twin, NULL, __WALL) < 0 && errno == EINTR)
			;
		t->twin = 0;
	}
	for (size_t i = 0; reap && i < ctx->n_tasks; i++) {
		int a = ctx->tasks[i].twin_adopter;
		if (a < 0)
			continue;
		if (frozen || (stopped && stopped[a]))
			reap_adopted(ctx, &ctx->tasks[a], !frozen);
		else
			pr_warn("task %d: snapshot twins are left for it to reap: cannot stop it", ctx->tasks[a].pid);
	}
}

/*
 * Freeze the tree: task by task, or through the freezer cgroup, whose
 * tasks are all seized at once; those not in the tree are let go.
 */
static int seize_tree(struct oc_dump_ctx *ctx)
{
	_cleanup_free_ pid_t *tids = NULL;
	size_t n = 0;
	int r;

	if (ctx->opts->freeze_cgroup) {
		r = oc_cgroup_freeze_and_seize(ctx->opts->freeze_cgroup, ctx->opts->freeze_timeout, &tids, &n,
					       &ctx->freezer_was_frozen);
		if (r < 0)
			return r;
		oc_seize_set_preseized(tids, n);
	}
	r = oc_seize_tree(ctx->opts->pid, true, &ctx->tree);
	oc_seize_set_preseized(NULL, 0);
	for (size_t i = 0; i < n; i++)
		if (r < 0 || !oc_seized_find_thread(&ctx->tree, tids[i]))
			ptrace(PTRACE_DETACH, tids[i], 0, 0);
	return r;
}

/* A UUID names the dump (its network lock, the inventory's run id). */
static void make_run_id(struct oc_dump_ctx *ctx)
{
	FILE *f = fopen("/proc/sys/kernel/random/uuid", "re");

	if (f) {
		if (fgets(ctx->run_id, sizeof(ctx->run_id), f))
			ctx->run_id[strcspn(ctx->run_id, "\n")] = '\0';
		fclose(f);
	}
}

static void dump_ctx_fini(struct oc_dump_ctx *ctx)
{
	oc_tcp_dump_release(ctx, false);
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct oc_dump_task *t = &ctx->tasks[i];
		if (t->pidfd >= 0)
			close(t->pidfd);
		oc_proc_status_clear(&t->status);
		oc_proc_vmas_free(t->vmas, t->n_vmas);
		if (t->frozen_fd >= 0)
			close(t->frozen_fd);
		free(t->frozen_runs);
	}
	oc_proc_vmas_free(ctx->early_vmas, ctx->n_early_vmas);
	oc_pages_free_buffers(ctx);
	for (size_t k = 0; k < ARRAY_SIZE(ctx->kobjs); k++)
		free(ctx->kobjs[k].reps);
	free(ctx->files);
	oc_dump_inflight_release(ctx);
	free(ctx->known_files);
	oc_seccomp_table_free(&ctx->seccomp);
	for (int k = 0; k < _OC_IMG_KIND_MAX; k++) {
		free(ctx->queues[k].msgs);
		free(ctx->queues[k].payloads);
	}
	oc_cgroup_dump_free(ctx);
	oc_seized_tree_free(&ctx->tree);
	oc_imgdir_close(ctx->dir);
	oc_arena_free(ctx->arena);
}

/*
 * CRIU's network-lock point, right after the freeze, and network-unlock for
 * a tree that runs on (or a dump that failed): only for a tree in a net
 * namespace of its own, a container's, whose runtime locks its network.
 * A failed unlock is only logged, as CRIU does.
 */
static int network_lock(const struct oc_dump_opts *opts, bool *locked)
{
	if (!oc_ns_not_ours(opts->pid, OC_NS_NET))
		return 0;
	*locked = true;
	return oc_notify_point(opts->notify, opts->notify_data, "network-lock", opts->pid);
}

static void network_unlock(const struct oc_dump_opts *opts, bool *locked)
{
	if (*locked)
		oc_notify_point_logged(opts->notify, opts->notify_data, "network-unlock", opts->pid);
	*locked = false;
}

int oc_dump(const struct oc_dump_opts *opts)
{
	bool net_locked = false;
	struct oc_dump_ctx ctx = { .opts = opts };
	uint64_t t0, t_frozen;
	int r;

	if (!opts || opts->sz < sizeof(*opts))
		return oc_error(-EINVAL, "dump options: bad size");
	if (!opts->images_dir)
		return oc_error(-EINVAL, "no images directory given");

	/* A snapshot helps only a tree that runs on; a killed one need not
	 * wait for nothing. */
	ctx.cow = opts->leave_running && !opts->leave_stopped && !opts->no_snapshot;
	ctx.arena = oc_arena_new();
	if (!ctx.arena)
		return -ENOMEM;
	oc_interrupt_set(opts->interrupted, opts->interrupted_data);
	make_run_id(&ctx);
	r = oc_imgdir_open(opts->images_dir, true, &ctx.dir);
	if (r >= 0)
		r = oc_cgroup_dump_props(&ctx);
	if (r < 0)
		goto out;

	pr_info("Dumping process tree %d into %s", opts->pid, opts->images_dir);
	r = oc_notify_point(opts->notify, opts->notify_data, "pre-dump", opts->pid);
	if (r < 0)
		goto out;
	ctx.page_cache_budget = oc_pages_cache_budget();
	pr_debug("up to %" PRId64 " MiB of pages through the page cache, the rest direct", ctx.page_cache_budget >> 20);
	if (ctx.cow)
		read_smaps_early(&ctx);
	t0 = oc_now_us();
	oc_seize_set_timeout(opts->freeze_timeout);
	r = seize_tree(&ctx);
	oc_seize_set_timeout(0);
	if (r < 0)
		goto out;
	t_frozen = oc_now_us();
	ctx.freezing_us = t_frozen - t0;
	pr_info("Froze %zu task(s) in %" PRIu64 " us", ctx.tree.n_tasks, ctx.freezing_us);

	r = network_lock(opts, &net_locked);
	if (r >= 0)
		r = oc_tcp_dump_lock_netns(&ctx);
	if (r >= 0)
		r = collect_all(&ctx);
	/* A tree that runs on may go before its images are written: all of
	 * it is in memory or in the twins by now.  One that is killed after
	 * the dump waits until they are all safely written. */
	if (r >= 0 && !ctx.cow)
		r = write_complete(&ctx);
	/* The last chance to stop before a tree that goes is killed. */
	if (r >= 0)
		r = oc_interrupt_check();
	if (r < 0) {
		oc_imgdir_rollback(ctx.dir);
		oc_dump_link_remaps_undo(&ctx);
		drop_twins(&ctx, true);
		oc_tcp_dump_release(&ctx, false);
		network_unlock(opts, &net_locked);
		oc_release_tree(&ctx.tree, OC_RELEASE_RESUME);
		goto out;
	}
	if (opts->leave_running && !ctx.cow)
		network_unlock(opts, &net_locked);

	pr_debug("releasing the tree");
	/* Connections of a tree that goes die in repair mode, silently, and
	 * stay locked until the restore; others run on. */
	oc_tcp_dump_release(&ctx, !opts->leave_stopped && !opts->leave_running);
	oc_release_tree(&ctx.tree, opts->leave_stopped	 ? OC_RELEASE_STOP
				   : opts->leave_running ? OC_RELEASE_RESUME
							 : OC_RELEASE_KILL);
	ctx.frozen_us = oc_now_us() - t_frozen;
	pr_info("The tree runs again after %" PRIu64 " us frozen", ctx.frozen_us);
	if (ctx.cow)
		r = write_all(&ctx);

	/* A snapshot's pages come from the twins, while the tree runs. */
	for (size_t i = 0; r >= 0 && ctx.cow && i < ctx.n_tasks; i++)
		if (ctx.tasks[i].twin > 0 && (r = oc_dump_pages_from_twin(&ctx.tasks[i])) < 0)
			r = oc_error_wrap(r, "copying the memory snapshot of task %d", ctx.tasks[i].pid);
	drop_twins(&ctx, false);
	if (r >= 0 && ctx.cow)
		r = finish_images(&ctx);
	/* A killed tree's network stays locked for its restore. */
	if (r < 0 || ctx.cow)
		network_unlock(opts, &net_locked);
	if (r < 0) {
		oc_imgdir_rollback(ctx.dir);
		oc_dump_link_remaps_undo(&ctx);
		goto out;
	}
	r = write_stats(&ctx);
	if (r < 0)
		goto out;
	pr_info("Dump done: %" PRIu64 " pages written, frozen for %" PRIu64 " us", ctx.pages_written, ctx.frozen_us);
out:
	/* A paused container that runs on stays paused; one whose tree was
	 * killed is left thawed: frozen, it would freeze its own restore,
	 * whose tasks go back into it. */
	if (ctx.freezer_was_frozen && (r < 0 || opts->leave_running || opts->leave_stopped))
		oc_cgroup_refreeze(opts->freeze_cgroup);
	oc_interrupt_set(NULL, NULL);
	dump_ctx_fini(&ctx);
	return r;
}
