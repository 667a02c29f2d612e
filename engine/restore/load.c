// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Loading an image set into messages, with the checks that make a bad image
 * fail here, before anything on the system changes.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "img/imgset.h"
#include "restore/restore.h"
#include "mem/mm.h"
#include "res/fd/files.h"
#include "res/kind.h"
#include "res/ns/ns.h"
#include "res/task/lsm.h"
#include "res/task/seccomp.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

int oc_rst_read_shmem_pagemap(struct oc_rst_ctx *ctx, uint64_t shmid, PagemapEntry ***ret_entries, size_t *ret_n,
			      uint32_t *ret_pages_id)
{
	return oc_imgset_read_pagemap(&ctx->set, OC_IMG_SHMEM_PAGEMAP, shmid, ret_entries, ret_n, ret_pages_id);
}

/* What restore cannot do with pages the loader accepted: parent images,
 * and a pages file that does not hold what the pagemap lists. */
static int check_pages(struct oc_rst_ctx *ctx, struct oc_rst_task *t)
{
	uint64_t total = 0;

	for (size_t i = 0; i < t->n_pagemap; i++) {
		const PagemapEntry *pe = t->pagemap[i];
		uint32_t flags = pe->has_flags ? pe->flags : PE_PRESENT;

		if (flags & PE_PARENT || (pe->has_in_parent && pe->in_parent))
			return oc_error(-EOPNOTSUPP,
					"pagemap-%d.img: pages in a parent image (incremental dump) "
					"are not supported yet",
					t->pid);
		if (flags & PE_PRESENT)
			total += oc_pagemap_entry_pages(pe);
	}

	_cleanup_(oc_img_closep) struct oc_img *pages = NULL;
	int r = oc_img_open(ctx->dir, OC_IMG_PAGES, t->pages_id, &pages);
	if (r == -ENOENT && total == 0) {
		oc_error_clear();
		return 0;
	}
	if (r < 0)
		return r;
	if (oc_img_size(pages) != total * OC_PAGE_SIZE)
		return oc_error(-EINVAL,
				"%s: holds %" PRIu64 " bytes but pagemap-%d.img lists %" PRIu64 " pages (%" PRIu64
				" bytes): truncated or corrupt pages",
				oc_img_name(pages), oc_img_size(pages), t->pid, total, total * OC_PAGE_SIZE);
	return 0;
}

/* Take task @it of the loaded set, and refuse what restore cannot do. */
static int load_task(struct oc_rst_ctx *ctx, struct oc_rst_task *t, const struct oc_imgset_task *it)
{
	_Static_assert(offsetof(struct oc_rst_task, pstree) == offsetof(struct oc_imgset_task, pstree),
		       "the loaded task is the restore task's first member");
	*(struct oc_imgset_task *)t = *it;

	for (size_t i = 0; i < t->n_cores; i++) {
		pid_t tid = t->zombie ? t->pid : (pid_t)t->pstree->threads[i];
		const CoreEntry *c = t->cores[i];
		if (c->mtype != CORE_ENTRY__MARCH__X86_64)
			return oc_error(-EINVAL, "core-%d.img: made on another architecture (%d)", tid, c->mtype);
		if (i > 0 && (c->tc || c->ids))
			return oc_error(-EINVAL, "core-%d.img: a thread core has task-wide fields", tid);
		if (!t->zombie &&
		    (!c->thread_info || !c->thread_core || !c->thread_info->gpregs || !c->thread_info->fpregs))
			return oc_error(-EINVAL, "core-%d.img: registers or thread state missing", tid);
	}
	if (t->zombie)
		return 0;
	TaskCoreEntry *tc = t->cores[0]->tc;
	if (!tc->timers || !tc->rlimits)
		return oc_error(-EOPNOTSUPP, "core-%d.img: legacy image without timers or rlimits", t->pid);
	if (tc->n_sigactions != 62)
		return oc_error(-EINVAL, "core-%d.img: %zu signal handlers, 62 expected", t->pid, tc->n_sigactions);
	if (t->mm->n_vmas == 0)
		return oc_error(-EOPNOTSUPP, "mm-%d.img: legacy image with VMAs in vmas-%d.img", t->pid, t->pid);
	return check_pages(ctx, t);
}

FileEntry *oc_rst_find_file(struct oc_rst_ctx *ctx, uint32_t id)
{
	return oc_imgset_file(&ctx->set, id);
}

struct oc_rst_task *oc_rst_parent_of(struct oc_rst_ctx *ctx, const struct oc_rst_task *t)
{
	for (size_t i = 0; i < ctx->n_tasks; i++)
		if (ctx->tasks[i].pid == (pid_t)t->pstree->ppid && t != ctx->tasks)
			return &ctx->tasks[i];
	return NULL;
}

bool oc_rst_shares_files(struct oc_rst_ctx *ctx, const struct oc_rst_task *t)
{
	const struct oc_rst_task *p = oc_rst_parent_of(ctx, t);
	return p && !p->zombie && !t->zombie && p->ids->files_id == t->ids->files_id;
}

bool oc_rst_shares_fs(struct oc_rst_ctx *ctx, const struct oc_rst_task *t)
{
	const struct oc_rst_task *p = oc_rst_parent_of(ctx, t);
	return p && !p->zombie && !t->zombie && p->ids->fs_id == t->ids->fs_id;
}

pid_t oc_rst_file_owner(struct oc_rst_ctx *ctx, uint32_t id)
{
	pid_t owner = 0;

	for (size_t i = 0; i < ctx->n_tasks; i++)
		for (size_t j = 0; j < ctx->tasks[i].n_fds; j++)
			if (ctx->tasks[i].fds[j]->id == id && (!owner || ctx->tasks[i].pid < owner))
				owner = ctx->tasks[i].pid;
	return owner;
}

static const struct oc_rst_image empty_image = { .loaded = true };

static int load_image(struct oc_rst_ctx *ctx, enum oc_img_kind kind)
{
	struct oc_rst_image *im = &ctx->images[kind];
	bool payloads = oc_img_descs[kind].payload != OC_PAYLOAD_NONE;
	int r;

	if (im->loaded)
		return 0;
	r = oc_imgset_read_all(&ctx->set, kind, 0, true, &im->msgs, &im->n, payloads ? &im->payloads : NULL);
	if (r < 0)
		return r;
	im->loaded = true;
	return 0;
}

const struct oc_rst_image *oc_rst_image(struct oc_rst_ctx *ctx, enum oc_img_kind kind)
{
	/* Loaded by oc_restore_load() for the kinds that declare them; one no
	 * kind declares is a bug of ocicr, said loudly, and reads as empty. */
	if (!ctx->images[kind].loaded) {
		oc_log(OC_LOG_ERROR, "internal error: %s is read at restore, but no resource kind declares it",
		       oc_img_descs[kind].name);
		return &empty_image;
	}
	return &ctx->images[kind];
}

MemfdInodeEntry *oc_rst_find_memfd(struct oc_rst_ctx *ctx, uint64_t inode_id)
{
	const struct oc_rst_image *im = oc_rst_image(ctx, OC_IMG_MEMFD_INODE);

	for (size_t i = 0; i < im->n; i++)
		if (((MemfdInodeEntry *)im->msgs[i])->inode_id == inode_id)
			return (MemfdInodeEntry *)im->msgs[i];
	return NULL;
}

RemapFilePathEntry *oc_rst_find_remap(struct oc_rst_ctx *ctx, uint32_t orig_id)
{
	const struct oc_rst_image *im = oc_rst_image(ctx, OC_IMG_REMAP_FPATH);

	for (size_t i = 0; i < im->n; i++)
		if (((RemapFilePathEntry *)im->msgs[i])->orig_id == orig_id)
			return (RemapFilePathEntry *)im->msgs[i];
	return NULL;
}

int oc_restore_load(struct oc_rst_ctx *ctx)
{
	int r;

	r = oc_imgset_load(ctx->dir, &ctx->set);
	if (r < 0)
		return r;
	ctx->inventory = ctx->set.inventory;
	if (ctx->inventory->img_version != OC_IMG_VERSION)
		return oc_error(-EINVAL, "inventory.img: image version %u, only %u is supported",
				ctx->inventory->img_version, OC_IMG_VERSION);
	if (!ctx->inventory->has_fdinfo_per_id || !ctx->inventory->fdinfo_per_id)
		return oc_error(-EINVAL, "inventory.img: too old an image (no per-id fdinfo)");
	ctx->files = ctx->set.files;
	ctx->n_files = ctx->set.n_files;

	r = oc_rst_seccomp_load(ctx);
	if (r < 0)
		return r;
	/* Every image of the whole tree a kind reads, now, so a bad one fails
	 * before anything is made. */
	for (size_t i = 0; i < oc_n_task_kinds; i++)
		for (size_t j = 0; j < oc_task_kinds[i]->n_images; j++)
			if ((r = load_image(ctx, oc_task_kinds[i]->images[j])) < 0)
				return r;
	for (size_t i = 0; i < oc_n_fd_kinds; i++)
		for (size_t j = 0; j < oc_fd_kinds[i]->n_images; j++)
			if ((r = load_image(ctx, oc_fd_kinds[i]->images[j])) < 0)
				return r;

	ctx->tasks = calloc(ctx->set.n_tasks, sizeof(*ctx->tasks));
	if (!ctx->tasks)
		return -ENOMEM;
	ctx->n_tasks = ctx->set.n_tasks;
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		r = load_task(ctx, &ctx->tasks[i], &ctx->set.tasks[i]);
		if (r < 0)
			return r;
		if (!ctx->tasks[i].zombie) {
			r = oc_rst_seccomp_check(ctx, &ctx->tasks[i]);
			if (r >= 0)
				r = oc_rst_lsm_check(ctx, &ctx->tasks[i]);
			if (r < 0)
				return r;
		}
	}
	r = oc_ns_load(ctx);
	if (r < 0)
		return r;
	return oc_rst_cow_match(ctx);
}

void oc_restore_ctx_fini(struct oc_rst_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		free(ctx->tasks[i].vma_cow);
		free(ctx->tasks[i].premap_at);
	}
	free(ctx->tasks);
	oc_ns_free(ctx);
	oc_plan_free(&ctx->plan);
	for (int k = 0; k < _OC_IMG_KIND_MAX; k++) {
		struct oc_rst_image *im = &ctx->images[k];
		if (im->payloads)
			for (size_t i = 0; i < im->n; i++)
				free(im->payloads[i]);
		free(im->payloads);
		free(im->msgs);
	}
	oc_imgset_fini(&ctx->set);
	oc_imgdir_close(ctx->dir);
	free(ctx->inherit_used);
	if (ctx->orphan_pts_master >= 0)
		close(ctx->orphan_pts_master);
	for (size_t i = 0; i < ctx->n_premade_ptys; i++)
		if (ctx->premade_ptys[i].master >= 0)
			close(ctx->premade_ptys[i].master);
	free(ctx->premade_ptys);
}
