// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Loading an image set into messages, with the checks that make a bad image
 * fail here, before anything on the system changes.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "restore/restore.h"
#include "mem/mm.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

static int keep_msg(struct oc_rst_ctx *ctx, ProtobufCMessage *m)
{
	if (ctx->n_msgs == ctx->cap_msgs) {
		size_t cap = ctx->cap_msgs ? ctx->cap_msgs * 2 : 256;
		ProtobufCMessage **n = realloc(ctx->msgs, cap * sizeof(*n));
		if (!n) {
			protobuf_c_message_free_unpacked(m, NULL);
			return -ENOMEM;
		}
		ctx->msgs = n;
		ctx->cap_msgs = cap;
	}
	ctx->msgs[ctx->n_msgs++] = m;
	return 0;
}

static int read_one(struct oc_rst_ctx *ctx, enum oc_img_kind kind, uint64_t id, void *ret)
{
	ProtobufCMessage *m;
	int r = oc_img_read_one(ctx->dir, kind, id, &m);

	if (r < 0)
		return r;
	r = keep_msg(ctx, m);
	if (r < 0)
		return r;
	*(ProtobufCMessage **)ret = m;
	return 0;
}

/*
 * Read every entry of a multi-entry image into a growing array.  A missing
 * image is an empty one when @optional.  With @payloads, each entry's raw
 * payload is read too.
 */
static int read_all(struct oc_rst_ctx *ctx, enum oc_img_kind kind, uint64_t id, bool optional, void *ret_array,
		    size_t *ret_n, uint8_t ***ret_payloads)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	ProtobufCMessage **arr = NULL;
	uint8_t **payloads = NULL;
	size_t n = 0;
	int r;

	r = oc_img_open(ctx->dir, kind, id, &img);
	if (r == -ENOENT && optional) {
		*(void **)ret_array = NULL;
		*ret_n = 0;
		return 0;
	}
	if (r < 0)
		return r;
	for (;;) {
		ProtobufCMessage *m;
		r = oc_img_read_entry(img, NULL, &m);
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		r = keep_msg(ctx, m);
		if (r < 0)
			goto fail;
		ProtobufCMessage **na = realloc(arr, (n + 1) * sizeof(*na));
		if (!na) {
			r = -ENOMEM;
			goto fail;
		}
		arr = na;
		arr[n] = m;
		if (ret_payloads) {
			uint64_t len;
			r = oc_img_payload_size(oc_img_get_desc(img), m, &len);
			if (r < 0)
				goto fail;
			uint8_t **np = realloc(payloads, (n + 1) * sizeof(*np));
			if (!np) {
				r = -ENOMEM;
				goto fail;
			}
			payloads = np;
			payloads[n] = malloc(len ? len : 1);
			if (!payloads[n]) {
				r = -ENOMEM;
				goto fail;
			}
			r = oc_img_read_raw(img, payloads[n], len);
			if (r < 0) {
				n++;
				goto fail;
			}
		}
		n++;
	}
	*(void **)ret_array = arr;
	*ret_n = n;
	if (ret_payloads)
		*ret_payloads = payloads;
	return 0;
fail:
	if (payloads)
		for (size_t i = 0; i < n; i++)
			free(payloads[i]);
	free(payloads);
	free(arr);
	return r;
}

static int load_pagemap(struct oc_rst_ctx *ctx, enum oc_img_kind kind, uint64_t id, PagemapEntry ***ret_entries,
			size_t *ret_n, uint32_t *ret_pages_id)
{
	ProtobufCMessage **all;
	size_t n;
	int r;

	r = read_all(ctx, kind, id, false, &all, &n, NULL);
	if (r < 0)
		return r;
	if (n == 0) {
		free(all);
		return oc_error(-EINVAL, "%s/%s: empty pagemap, a pagemap_head was expected", oc_imgdir_path(ctx->dir),
				oc_img_descs[kind].file_fmt);
	}
	*ret_pages_id = ((PagemapHead *)all[0])->pages_id;
	memmove(all, all + 1, (n - 1) * sizeof(*all));
	*ret_entries = (PagemapEntry **)all;
	*ret_n = n - 1;
	return 0;
}

int oc_rst_read_shmem_pagemap(struct oc_rst_ctx *ctx, uint64_t shmid, PagemapEntry ***ret_entries, size_t *ret_n,
			      uint32_t *ret_pages_id)
{
	return load_pagemap(ctx, OC_IMG_SHMEM_PAGEMAP, shmid, ret_entries, ret_n, ret_pages_id);
}

static uint64_t pe_pages(const PagemapEntry *pe)
{
	return pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
}

/* Pages must be sorted, inside private VMAs, and match the pages file. */
static int check_pagemap(struct oc_rst_ctx *ctx, struct oc_rst_task *t)
{
	uint64_t prev_end = 0, total = 0;
	size_t v = 0;

	for (size_t i = 0; i < t->n_pagemap; i++) {
		const PagemapEntry *pe = t->pagemap[i];
		uint64_t end = pe->vaddr + pe_pages(pe) * OC_PAGE_SIZE;
		uint32_t flags = pe->has_flags ? pe->flags : PE_PRESENT;

		if (pe->vaddr % OC_PAGE_SIZE || pe->vaddr < prev_end || end < pe->vaddr)
			return oc_error(-EINVAL, "pagemap-%d.img: entry %zu (0x%" PRIx64 ") is out of order or "
					"misaligned", t->pid, i, pe->vaddr);
		if (flags & PE_PARENT || (pe->has_in_parent && pe->in_parent))
			return oc_error(-EOPNOTSUPP, "pagemap-%d.img: pages in a parent image (incremental dump) "
					"are not supported yet", t->pid);
		/* Each page inside some private VMA (runs may span VMAs). */
		for (uint64_t a = pe->vaddr; a < end;) {
			while (v < t->mm->n_vmas && t->mm->vmas[v]->end <= a)
				v++;
			if (v == t->mm->n_vmas || t->mm->vmas[v]->start > a ||
			    !oc_vma_private(t->mm->vmas[v]->status, t->mm->vmas[v]->end))
				return oc_error(-EINVAL, "pagemap-%d.img: page 0x%" PRIx64 " is outside any private "
						"VMA", t->pid, a);
			a = MIN(end, t->mm->vmas[v]->end);
		}
		if (flags & PE_PRESENT)
			total += pe_pages(pe);
		prev_end = end;
	}

	_cleanup_(oc_img_closep) struct oc_img *pages = NULL;
	int r = oc_img_open(ctx->dir, OC_IMG_PAGES, t->pages_id, &pages);
	if (r == -ENOENT && total == 0)
		return 0;
	if (r < 0)
		return r;
	if (oc_img_size(pages) != total * OC_PAGE_SIZE)
		return oc_error(-EINVAL, "%s: holds %" PRIu64 " bytes but pagemap-%d.img lists %" PRIu64
				" pages (%" PRIu64 " bytes): truncated or corrupt pages", oc_img_name(pages),
				oc_img_size(pages), t->pid, total, total * OC_PAGE_SIZE);
	return 0;
}

static int load_task(struct oc_rst_ctx *ctx, struct oc_rst_task *t)
{
	PstreeEntry *pe = t->pstree;
	int r;

	t->pid = pe->pid;
	t->zombie = pe->n_threads == 1 && pe->threads[0] == 0;
	t->n_cores = t->zombie ? 1 : pe->n_threads;
	t->cores = calloc(t->n_cores, sizeof(*t->cores));
	if (!t->cores)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_cores; i++) {
		pid_t tid = t->zombie ? t->pid : (pid_t)pe->threads[i];
		r = read_one(ctx, OC_IMG_CORE, tid, &t->cores[i]);
		if (r < 0)
			return r;
		CoreEntry *c = t->cores[i];
		if (c->mtype != CORE_ENTRY__MARCH__X86_64)
			return oc_error(-EINVAL, "core-%d.img: made on another architecture (%d)", tid, c->mtype);
		if (i == 0 && !c->tc)
			return oc_error(-EINVAL, "core-%d.img: the task's core lacks its task part (tc)", tid);
		if (i > 0 && (c->tc || c->ids))
			return oc_error(-EINVAL, "core-%d.img: a thread core has task-wide fields", tid);
		if (!t->zombie && (!c->thread_info || !c->thread_core || !c->thread_info->gpregs ||
				   !c->thread_info->fpregs))
			return oc_error(-EINVAL, "core-%d.img: registers or thread state missing", tid);
	}
	TaskCoreEntry *tc = t->cores[0]->tc;
	if (t->zombie)
		return 0;
	if (!tc->timers || !tc->rlimits)
		return oc_error(-EOPNOTSUPP, "core-%d.img: legacy image without timers or rlimits", t->pid);
	if (tc->n_sigactions != 62)
		return oc_error(-EINVAL, "core-%d.img: %zu signal handlers, 62 expected", t->pid, tc->n_sigactions);

	r = read_one(ctx, OC_IMG_IDS, t->pid, &t->ids);
	if (r < 0)
		return r;
	r = read_one(ctx, OC_IMG_MM, t->pid, &t->mm);
	if (r < 0)
		return r;
	if (t->mm->n_vmas == 0)
		return oc_error(-EOPNOTSUPP, "mm-%d.img: legacy image with VMAs in vmas-%d.img", t->pid, t->pid);
	for (size_t i = 1; i < t->mm->n_vmas; i++)
		if (t->mm->vmas[i]->start < t->mm->vmas[i - 1]->end &&
		    !(t->mm->vmas[i]->status & VMA_AREA_GUARD))
			return oc_error(-EINVAL, "mm-%d.img: VMAs %zu and %zu overlap or are out of order", t->pid,
					i - 1, i);
	r = read_one(ctx, OC_IMG_FS, t->pid, &t->fs);
	if (r < 0)
		return r;
	r = read_all(ctx, OC_IMG_FDINFO, t->ids->files_id, true, &t->fds, &t->n_fds, NULL);
	if (r < 0)
		return r;
	r = load_pagemap(ctx, OC_IMG_PAGEMAP, t->pid, &t->pagemap, &t->n_pagemap, &t->pages_id);
	if (r < 0)
		return r;
	return check_pagemap(ctx, t);
}

FileEntry *oc_rst_find_file(struct oc_rst_ctx *ctx, uint32_t id)
{
	for (size_t i = 0; i < ctx->n_files; i++)
		if (ctx->files[i]->id == id)
			return ctx->files[i];
	return NULL;
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
	r = read_all(ctx, kind, 0, true, &im->msgs, &im->n, payloads ? &im->payloads : NULL);
	if (r < 0)
		return r;
	im->loaded = true;
	return 0;
}

const struct oc_rst_image *oc_rst_image(struct oc_rst_ctx *ctx, enum oc_img_kind kind)
{
	/* Loaded by oc_restore_load(); a failure here was reported there. */
	if (load_image(ctx, kind) < 0)
		return &empty_image;
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

/* Every id an fd, a VMA, the exe or fs refers to must resolve. */
static int check_refs(struct oc_rst_ctx *ctx, struct oc_rst_task *t)
{
	for (size_t i = 0; i < t->n_fds; i++) {
		FileEntry *fe = oc_rst_find_file(ctx, t->fds[i]->id);
		if (!fe)
			return oc_error(-EINVAL, "fdinfo-%u.img: fd %u refers to file %u, which files.img lacks",
					t->ids->files_id, t->fds[i]->fd, t->fds[i]->id);
		if (fe->type != t->fds[i]->type)
			return oc_error(-EINVAL, "fdinfo-%u.img: fd %u has type %d but file %u is of type %d",
					t->ids->files_id, t->fds[i]->fd, t->fds[i]->type, fe->id, fe->type);
	}
	if (!oc_rst_find_file(ctx, t->mm->exe_file_id))
		return oc_error(-EINVAL, "mm-%d.img: executable file %u not in files.img", t->pid, t->mm->exe_file_id);
	if (!oc_rst_find_file(ctx, t->fs->cwd_id) || !oc_rst_find_file(ctx, t->fs->root_id))
		return oc_error(-EINVAL, "fs-%d.img: cwd or root not in files.img", t->pid);
	for (size_t i = 0; i < t->mm->n_vmas; i++) {
		const VmaEntry *v = t->mm->vmas[i];
		if ((v->status & VMA_AREA_REGULAR) && (v->status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)) &&
		    !oc_rst_find_file(ctx, v->shmid))
			return oc_error(-EINVAL, "mm-%d.img: VMA %zu maps file %" PRIu64 ", not in files.img", t->pid,
					i, v->shmid);
	}
	return 0;
}

int oc_restore_load(struct oc_rst_ctx *ctx)
{
	PstreeEntry **pstree;
	size_t n;
	int r;

	r = read_one(ctx, OC_IMG_INVENTORY, 0, &ctx->inventory);
	if (r < 0)
		return r;
	if (ctx->inventory->img_version != OC_IMG_VERSION)
		return oc_error(-EINVAL, "inventory.img: image version %u, only %u is supported",
				ctx->inventory->img_version, OC_IMG_VERSION);
	if (!ctx->inventory->has_fdinfo_per_id || !ctx->inventory->fdinfo_per_id)
		return oc_error(-EINVAL, "inventory.img: too old an image (no per-id fdinfo)");

	r = read_all(ctx, OC_IMG_PSTREE, 0, false, &pstree, &n, NULL);
	if (r < 0)
		return r;
	if (n == 0) {
		free(pstree);
		return oc_error(-EINVAL, "pstree.img: no tasks");
	}
	ctx->tasks = calloc(n, sizeof(*ctx->tasks));
	if (!ctx->tasks) {
		free(pstree);
		return -ENOMEM;
	}
	ctx->n_tasks = n;
	for (size_t i = 0; i < n; i++)
		ctx->tasks[i].pstree = pstree[i];
	free(pstree);
	if (ctx->tasks[0].pstree->ppid != 0)
		return oc_error(-EINVAL, "pstree.img: the first task (%u) has a parent", ctx->tasks[0].pstree->pid);

	r = read_all(ctx, OC_IMG_FILES, 0, true, &ctx->files, &ctx->n_files, NULL);
	if (r < 0)
		return r;
	/* Every shared image now, so a bad one fails before anything is made. */
	static const enum oc_img_kind shared_images[] = {
		OC_IMG_PIPES_DATA, OC_IMG_FIFO_DATA, OC_IMG_MEMFD_INODE, OC_IMG_REMAP_FPATH, OC_IMG_TTY_INFO,
		OC_IMG_TTY_DATA, OC_IMG_SK_QUEUES, OC_IMG_FILE_LOCKS,
	};
	for (size_t i = 0; i < ARRAY_SIZE(shared_images); i++) {
		r = load_image(ctx, shared_images[i]);
		if (r < 0)
			return r;
	}

	for (size_t i = 0; i < n; i++) {
		r = load_task(ctx, &ctx->tasks[i]);
		if (r < 0)
			return r;
		if (!ctx->tasks[i].zombie) {
			r = check_refs(ctx, &ctx->tasks[i]);
			if (r < 0)
				return r;
		}
	}
	return oc_rst_cow_match(ctx);
}

void oc_restore_ctx_fini(struct oc_rst_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		free(ctx->tasks[i].cores);
		free(ctx->tasks[i].fds);
		free(ctx->tasks[i].pagemap);
		free(ctx->tasks[i].vma_cow);
		free(ctx->tasks[i].premap_at);
	}
	free(ctx->tasks);
	oc_plan_free(&ctx->plan);
	free(ctx->files);
	for (int k = 0; k < _OC_IMG_KIND_MAX; k++) {
		struct oc_rst_image *im = &ctx->images[k];
		if (im->payloads)
			for (size_t i = 0; i < im->n; i++)
				free(im->payloads[i]);
		free(im->payloads);
		free(im->msgs);
	}
	for (size_t i = 0; i < ctx->n_msgs; i++)
		protobuf_c_message_free_unpacked(ctx->msgs[i], NULL);
	free(ctx->msgs);
	oc_imgdir_close(ctx->dir);
}
