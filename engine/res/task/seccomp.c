// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Seccomp: each thread's mode (none, strict, filter) and filter chain.
 *
 * Dump: a thread under seccomp is traced with PTRACE_O_SUSPEND_SECCOMP
 * before the first remote call, so its filter can neither refuse nor kill
 * the dumper's calls (nor the snapshot twin's reaping).  Its chain is read
 * oldest first with PTRACE_SECCOMP_GET_FILTER and entered into one table
 * for the tree: a filter is the same as one already there
 * when its program, flags and predecessor are, so a chain threads or a
 * parent and its children share is written once (the kernel offers no
 * kcmp() for filters; equal programs stacked on equal chains behave
 * alike).  seccomp.img holds the table; thread_core the mode and the
 * index of the thread's newest filter.
 *
 * Restore: the filters all threads of a task have in common (the oldest
 * ones) are installed by the main thread before it creates the others, so
 * they inherit one shared filter as they had it (TSYNC needs that later).
 * Each thread installs the rest of its chain, oldest first, after its
 * credentials, the very last thing before the final trap.  The
 * coordinator traces the tree with PTRACE_O_SUSPEND_SECCOMP, so neither
 * the blob nor its own remote calls are held to the filters.  A thread
 * that ends without no_new_privs and without CAP_SYS_ADMIN could not
 * install a filter then: it installs it before its credentials change.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "res/dump.h"
#include "res/restore.h"
#include "res/task/seccomp.h"
#include "res/kind.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "seccomp.pb-c.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#ifndef PTRACE_SECCOMP_GET_METADATA
#define PTRACE_SECCOMP_GET_METADATA 0x420d
#endif

struct oc_seccomp_metadata {
	uint64_t filter_off;
	uint64_t flags;
};

/* Longest chain the kernel allows: MAX_INSNS_PER_PATH (32768) over the
 * smallest filter plus its 4-instruction overhead. */
#define MAX_CHAIN 6554

/* ---- dump --------------------------------------------------------------- */

static int thread_seccomp_mode(pid_t pid, pid_t tid, unsigned int *ret_mode)
{
	struct oc_proc_status st = {};
	int r = oc_proc_read_thread_status(pid, tid, &st);

	if (r < 0)
		return r;
	*ret_mode = st.has_seccomp ? st.seccomp : 0;
	oc_proc_status_clear(&st);
	return 0;
}

long oc_seccomp_ptrace_opts(const struct oc_dump_task *t)
{
	return PTRACE_O_TRACESYSGOOD | (t->seccomp_suspended ? PTRACE_O_SUSPEND_SECCOMP : 0);
}

int oc_seccomp_suspend(struct oc_dump_task *t)
{
	for (size_t i = 0; i < t->n_threads; i++) {
		struct oc_dump_thread *th = &t->threads[i];
		pid_t tid = th->seized->tid;
		int r = thread_seccomp_mode(t->pid, tid, &th->seccomp_mode);
		if (r < 0)
			return r;
		if (th->seccomp_mode != SECCOMP_MODE_DISABLED)
			t->seccomp_suspended = true;
	}
	if (!t->seccomp_suspended)
		return 0;
	for (size_t i = 0; i < t->n_threads; i++) {
		pid_t tid = t->threads[i].seized->tid;
		if (ptrace(PTRACE_SETOPTIONS, tid, 0, oc_seccomp_ptrace_opts(t)) < 0)
			return oc_error_errno(-errno,
					      "thread %d runs under seccomp, and its filter cannot be "
					      "suspended for the dump (needs CAP_SYS_ADMIN, and ocicr itself "
					      "without seccomp)",
					      tid);
	}
	pr_debug("task %d: seccomp suspended while it is dumped", t->pid);
	return 0;
}

/* The table index of (@prog, @flags) stacked on @prev (-1: none), added if new. */
static int intern_filter(struct oc_dump_ctx *ctx, const void *prog, size_t len, uint32_t flags, int64_t prev,
			 uint32_t *ret_index)
{
	struct oc_seccomp_table *tab = &ctx->seccomp;

	for (size_t i = 0; i < tab->n; i++) {
		SeccompFilter *f = tab->filters[i];
		bool same_prev = prev < 0 ? !f->has_prev : f->has_prev && f->prev == (uint32_t)prev;
		if (same_prev && f->flags == flags && f->filter.len == len && !memcmp(f->filter.data, prog, len)) {
			*ret_index = i;
			return 0;
		}
	}
	if (tab->n == tab->cap) {
		size_t cap = tab->cap ? tab->cap * 2 : 8;
		SeccompFilter **n = reallocarray(tab->filters, cap, sizeof(*n));
		if (!n)
			return -ENOMEM;
		tab->filters = n;
		tab->cap = cap;
	}
	SeccompFilter *f = OC_ARENA_MSG(ctx->arena, SeccompFilter, SECCOMP_FILTER__INIT);
	if (!f)
		return -ENOMEM;
	f->filter.data = oc_arena_memdup(ctx->arena, prog, len);
	if (!f->filter.data)
		return -ENOMEM;
	f->filter.len = len;
	f->has_prev = prev >= 0;
	f->prev = prev >= 0 ? prev : 0;
	f->has_flags = true;
	f->flags = flags;
	*ret_index = tab->n;
	tab->filters[tab->n++] = f;
	return 0;
}

/* Enter the chain of @tid; the kernel counts its filters from the oldest. */
static int dump_chain(struct oc_dump_ctx *ctx, pid_t tid, uint32_t *ret_newest)
{
	int64_t prev = -1;

	for (size_t k = 0;; k++) {
		struct oc_seccomp_metadata md = { .filter_off = k };
		uint32_t index;

		if (k == MAX_CHAIN)
			return oc_error(-E2BIG, "thread %d: more than %d seccomp filters", tid, MAX_CHAIN);
		long count = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, k, NULL);
		if (count < 0 && errno == ENOENT)
			break;
		if (count <= 0)
			return oc_error_errno(count < 0 ? -errno : -EINVAL, "thread %d: PTRACE_SECCOMP_GET_FILTER(%zu)",
					      tid, k);
		size_t len = count * sizeof(struct sock_filter);
		_cleanup_free_ struct sock_filter *prog = malloc(len);
		if (!prog)
			return -ENOMEM;
		if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, k, prog) != count)
			return oc_error_errno(-errno, "thread %d: cannot read seccomp filter %zu", tid, k);
		if (ptrace(PTRACE_SECCOMP_GET_METADATA, tid, sizeof(md), &md) < 0)
			return oc_error_errno(-errno, "thread %d: PTRACE_SECCOMP_GET_METADATA(%zu)", tid, k);
		int r = intern_filter(ctx, prog, len, (uint32_t)md.flags, prev, &index);
		if (r < 0)
			return r;
		prev = index;
	}
	if (prev < 0)
		return oc_error(-EINVAL, "thread %d: seccomp mode is filter, but it has no filter", tid);
	*ret_newest = (uint32_t)prev;
	return 0;
}

int oc_dump_seccomp(struct oc_dump_task *t)
{
	for (size_t i = 0; i < t->n_threads; i++) {
		struct oc_dump_thread *th = &t->threads[i];
		ThreadCoreEntry *tcore = th->core->thread_core;
		pid_t tid = th->seized->tid;

		tcore->has_seccomp_mode = true;
		switch (th->seccomp_mode) {
		case SECCOMP_MODE_DISABLED:
			tcore->seccomp_mode = SECCOMP_MODE__disabled;
			break;
		case SECCOMP_MODE_STRICT:
			tcore->seccomp_mode = SECCOMP_MODE__strict;
			break;
		case SECCOMP_MODE_FILTER: {
			tcore->seccomp_mode = SECCOMP_MODE__filter;
			int r = dump_chain(t->ctx, tid, &tcore->seccomp_filter);
			if (r < 0)
				return r;
			tcore->has_seccomp_filter = true;
			pr_debug("thread %d: seccomp filter chain ends at %u", tid, tcore->seccomp_filter);
			break;
		}
		default:
			return oc_error(-EOPNOTSUPP, "thread %d: unknown seccomp mode %u", tid, th->seccomp_mode);
		}
	}
	return 0;
}

int oc_dump_seccomp_image(struct oc_dump_ctx *ctx)
{
	SeccompEntry e = SECCOMP_ENTRY__INIT;

	e.seccomp_filters = ctx->seccomp.filters;
	e.n_seccomp_filters = ctx->seccomp.n;
	return oc_img_write_one(ctx->dir, OC_IMG_SECCOMP, 0, &e.base);
}

void oc_seccomp_table_free(struct oc_seccomp_table *tab)
{
	free(tab->filters);
	*tab = (struct oc_seccomp_table){};
}

/* ---- restore ------------------------------------------------------------ */

static SeccompFilter *filter_at(const SeccompEntry *tab, uint32_t index)
{
	return tab && index < tab->n_seccomp_filters ? tab->seccomp_filters[index] : NULL;
}

/* A thread's mode and newest filter; CRIU's older images kept them per task. */
static void thread_mode(const CoreEntry *core, const CoreEntry *leader, uint32_t *ret_mode, int64_t *ret_newest)
{
	const ThreadCoreEntry *tc = core->thread_core;
	const TaskCoreEntry *task = leader->tc;

	*ret_mode = 0;
	*ret_newest = -1;
	if (tc->has_seccomp_mode) {
		*ret_mode = tc->seccomp_mode;
		if (tc->has_seccomp_filter)
			*ret_newest = tc->seccomp_filter;
	} else if (task && task->has_old_seccomp_mode) {
		*ret_mode = task->old_seccomp_mode;
		if (task->has_old_seccomp_filter)
			*ret_newest = task->old_seccomp_filter;
	}
}

/* The length of the chain ending at @newest, and its instructions. */
static int chain_size(const SeccompEntry *tab, int64_t newest, size_t *ret_n, size_t *ret_bytes)
{
	size_t n = 0, bytes = 0;

	for (int64_t i = newest; i >= 0; n++) {
		SeccompFilter *f = filter_at(tab, i);
		if (!f)
			return oc_error(-EINVAL, "seccomp.img: no filter %" PRId64, i);
		if (n > tab->n_seccomp_filters)
			return oc_error(-EINVAL, "seccomp.img: filter %" PRId64 " is part of a loop", newest);
		if (!f->filter.len || f->filter.len % sizeof(struct sock_filter) ||
		    f->filter.len / sizeof(struct sock_filter) > BPF_MAXINSNS)
			return oc_error(-EINVAL, "seccomp.img: filter %" PRId64 " has %zu bytes, not a program", i,
					f->filter.len);
		bytes += f->filter.len;
		i = f->has_prev ? (int64_t)f->prev : -1;
	}
	*ret_n = n;
	*ret_bytes = bytes;
	return 0;
}

int oc_rst_seccomp_load(struct oc_rst_ctx *ctx)
{
	ProtobufCMessage *m;
	int r = oc_img_read_one(ctx->dir, OC_IMG_SECCOMP, 0, &m);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	ctx->seccomp = (SeccompEntry *)m;
	return 0;
}

int oc_rst_seccomp_check(const struct oc_rst_ctx *ctx, struct oc_rst_task *t)
{
	t->seccomp = ctx->seccomp;
	for (size_t i = 0; i < t->n_cores; i++) {
		uint32_t mode;
		int64_t newest;
		size_t n, bytes;

		thread_mode(t->cores[i], t->cores[0], &mode, &newest);
		if (mode > SECCOMP_MODE_FILTER)
			return oc_error(-EINVAL, "core-%u.img: unknown seccomp mode %u", t->pstree->threads[i], mode);
		if (mode == SECCOMP_MODE_FILTER && newest < 0)
			return oc_error(-EINVAL, "core-%u.img: seccomp mode filter without a filter",
					t->pstree->threads[i]);
		if (mode != SECCOMP_MODE_FILTER)
			continue;
		int r = chain_size(t->seccomp, newest, &n, &bytes);
		if (r < 0)
			return oc_error_wrap(r, "thread %u", t->pstree->threads[i]);
	}
	return 0;
}

bool oc_rst_seccomp_used(const struct oc_rst_ctx *ctx)
{
	for (size_t k = 0; k < ctx->n_tasks; k++) {
		const struct oc_rst_task *t = &ctx->tasks[k];
		for (size_t i = 0; !t->zombie && i < t->n_cores; i++) {
			uint32_t mode;
			int64_t newest;
			thread_mode(t->cores[i], t->cores[0], &mode, &newest);
			if (mode)
				return true;
		}
	}
	return false;
}

static void seccomp_reserve(const struct oc_rst_task *t, struct oc_rst_area_counts *c)
{
	for (size_t i = 0; i < t->n_cores; i++) {
		uint32_t mode;
		int64_t newest;
		size_t n = 0, bytes = 0;
		thread_mode(t->cores[i], t->cores[0], &mode, &newest);
		if (mode == SECCOMP_MODE_FILTER && chain_size(t->seccomp, newest, &n, &bytes) == 0)
			c->seccomp_bytes += n * sizeof(struct oc_rst_seccomp_filter) + bytes;
	}
}

/* Thread @i's mode and filters, placed at *@cursor (an address in the
 * area, the same in the agent and the task), which moves past them. */
static int fill_thread_seccomp(const struct oc_rst_task *t, size_t i, struct oc_rst_thread *rt, uint64_t *cursor)
{
	uint32_t mode;
	int64_t newest;
	size_t n, bytes;
	int r;

	thread_mode(t->cores[i], t->cores[0], &mode, &newest);
	rt->seccomp_mode = mode;
	if (mode != SECCOMP_MODE_FILTER)
		return 0;
	r = chain_size(t->seccomp, newest, &n, &bytes);
	if (r < 0)
		return r;
	struct oc_rst_seccomp_filter *fs = (void *)*cursor;
	rt->seccomp_filters = *cursor;
	rt->n_seccomp_filters = n;
	*cursor += n * sizeof(*fs);
	/* The chain runs newest to oldest; the blob installs oldest first. */
	for (int64_t k = newest, j = n; k >= 0;) {
		SeccompFilter *f = filter_at(t->seccomp, k);
		j--;
		memcpy((void *)*cursor, f->filter.data, f->filter.len);
		fs[j] = (struct oc_rst_seccomp_filter){
			.insns = *cursor,
			.n_insns = f->filter.len / sizeof(struct sock_filter),
			.flags = f->has_flags ? f->flags : 0,
		};
		*cursor += f->filter.len;
		k = f->has_prev ? (int64_t)f->prev : -1;
	}
	/* Installing a filter needs no_new_privs or CAP_SYS_ADMIN. */
	rt->seccomp_before_creds =
		!rt->creds.skip && !rt->creds.no_new_privs && !(rt->creds.cap_eff & (1ull << 21 /* CAP_SYS_ADMIN */));
	return 0;
}

/* The filter @up steps above @index towards the oldest (@up <= its depth). */
static int64_t ancestor(const SeccompEntry *tab, int64_t index, size_t up)
{
	for (; up; up--) {
		const SeccompFilter *f = filter_at(tab, index);
		index = f->has_prev ? (int64_t)f->prev : -1;
	}
	return index;
}

/* How many of the oldest filters every thread of @t has in common (the
 * table holds one entry for equal chains, so equal means the same index),
 * 0 where a thread has none or only one thread exists. */
static int shared_filters(const struct oc_rst_task *t, size_t *ret_n)
{
	int64_t common = -1;
	size_t depth = 0;

	*ret_n = 0;
	for (size_t i = 0; i < t->n_cores; i++) {
		uint32_t mode;
		int64_t newest;
		size_t n, bytes;

		thread_mode(t->cores[i], t->cores[0], &mode, &newest);
		if (t->n_cores < 2 || mode != SECCOMP_MODE_FILTER)
			return 0;
		int r = chain_size(t->seccomp, newest, &n, &bytes);
		if (r < 0)
			return r;
		if (i == 0) {
			common = newest;
			depth = n;
			continue;
		}
		/* Both chains end in the oldest filters: meet at equal depth. */
		if (n > depth) {
			newest = ancestor(t->seccomp, newest, n - depth);
		} else {
			common = ancestor(t->seccomp, common, depth - n);
			depth = n;
		}
		while (common != newest) {
			common = ancestor(t->seccomp, common, 1);
			newest = ancestor(t->seccomp, newest, 1);
			depth--;
		}
	}
	*ret_n = depth;
	return 0;
}

/*
 * Filters the threads share are installed once, by the main thread before
 * it creates the others, which inherit them: the kernel then sees them
 * shared, as SECCOMP_FILTER_FLAG_TSYNC later requires of every thread.
 * Each thread installs the rest of its chain itself.
 */
static int seccomp_fill(struct oc_rst_agent *ag, struct oc_rst_area *area)
{
	uint64_t cursor = area->seccomp;
	struct oc_rst_args *args = area->args;
	size_t shared;
	int r = shared_filters(ag->task, &shared);

	if (r < 0)
		return r;
	for (size_t i = 0; i < ag->task->n_cores; i++) {
		struct oc_rst_thread *rt = &args->threads[i];
		r = fill_thread_seccomp(ag->task, i, rt, &cursor);
		if (r < 0)
			return r;
		if (i == 0) {
			args->seccomp_shared = rt->seccomp_filters;
			args->n_seccomp_shared = shared;
		}
		rt->seccomp_filters += shared * sizeof(struct oc_rst_seccomp_filter);
		rt->n_seccomp_filters -= shared;
	}
	if (shared)
		pr_debug("task %d: %zu seccomp filters shared by its threads", ag->task->pid, shared);
	return 0;
}

const struct oc_task_kind oc_task_kind_seccomp = {
	.name = "seccomp",
	.dump = oc_dump_seccomp,
	.reserve = seccomp_reserve,
	.fill = seccomp_fill,
};
