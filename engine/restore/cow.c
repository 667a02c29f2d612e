// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Private memory shared copy-on-write between a restored parent and its
 * children.
 *
 * A forked child shares its parent's private pages until one of them
 * writes.  A restore that gives every task its own copy of every page
 * multiplies the memory of a tree of forked workers, so instead:
 *
 *  - the coordinator matches each child's private anonymous VMAs with its
 *    parent's (same range, same flags, pages in both);
 *  - the parent "premaps" each matched VMA before it forks the child: maps
 *    it at an address free in both its current and its target layout and
 *    fills it with its own pages;
 *  - the child inherits that copy, writes only the pages whose contents
 *    differ from its parent's and drops the pages it did not have; pages
 *    equal in both stay shared;
 *  - each blob moves its premapped VMAs into place with mremap(), which
 *    keeps the sharing.
 *
 * A child that premaps for its own children passes the sharing on, so a
 * page written by the root before any fork stays one page in the tree.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "restore/restore.h"
#include "mem/mm.h"
#include "core/cleanup.h"
#include "core/error.h"

#define CMP_CHUNK (1ul << 20)

static uint64_t pe_pages(const PagemapEntry *pe)
{
	return pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
}

static bool pe_present(const PagemapEntry *pe)
{
	return !pe->has_flags || (pe->flags & PE_PRESENT);
}

int oc_rst_for_each_run(const struct oc_rst_task *t, uint64_t start, uint64_t end, oc_rst_run_fn fn, void *data)
{
	uint64_t off = 0;

	for (size_t i = 0; i < t->n_pagemap; i++) {
		const PagemapEntry *pe = t->pagemap[i];
		uint64_t len = pe_pages(pe) * OC_PAGE_SIZE;
		if (!pe_present(pe))
			continue;
		uint64_t lo = MAX(pe->vaddr, start), hi = MIN(pe->vaddr + len, end);
		if (lo < hi) {
			int r = fn(data, lo, (hi - lo) / OC_PAGE_SIZE, off + (lo - pe->vaddr));
			if (r < 0)
				return r;
		}
		off += len;
	}
	return 0;
}

static int count_run(void *data, uint64_t vaddr, uint64_t n_pages, uint64_t off)
{
	*(uint64_t *)data += n_pages;
	return 0;
}

static uint64_t pages_in(const struct oc_rst_task *t, const VmaEntry *v)
{
	uint64_t n = 0;

	oc_rst_for_each_run(t, v->start, v->end, count_run, &n);
	return n;
}

/*
 * Private memory that fork() shares and mremap() moves: anonymous, or a
 * private mapping of a regular file (whose written pages are anonymous
 * copies; the others stay the file's).
 */
static bool cow_candidate(const VmaEntry *v)
{
	const unsigned other = VMA_FILE_SHARED | VMA_ANON_SHARED | VMA_AREA_VDSO | VMA_AREA_VVAR | VMA_AREA_SYSVIPC |
			       VMA_AREA_SOCKET | VMA_AREA_AIORING | VMA_AREA_MEMFD | VMA_AREA_SHSTK | VMA_AREA_GUARD |
			       VMA_AREA_UPROBES | VMA_UNSUPP;

	return (v->status & VMA_AREA_REGULAR) && (v->status & (VMA_ANON_PRIVATE | VMA_FILE_PRIVATE)) &&
	       !(v->status & other) && !(v->flags & (MAP_GROWSDOWN | MAP_HUGETLB | MAP_SHARED)) &&
	       v->end <= OC_TASK_SIZE;
}

/* The child's VMA is the parent's, inherited: same kind, flags, file. */
static bool same_vma(const VmaEntry *v, const VmaEntry *pv)
{
	if (pv->flags != v->flags || (pv->status & VMA_FILE_PRIVATE) != (v->status & VMA_FILE_PRIVATE))
		return false;
	return !(v->status & VMA_FILE_PRIVATE) || (pv->shmid == v->shmid && pv->pgoff == v->pgoff);
}

static ssize_t find_vma(const struct oc_rst_task *t, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < t->mm->n_vmas; i++)
		if (t->mm->vmas[i]->start == start && t->mm->vmas[i]->end == end)
			return i;
	return -1;
}

int oc_rst_cow_match(struct oc_rst_ctx *ctx)
{
	if (getenv("OCICR_NO_COW_SHARING"))
		return 0;
	for (size_t k = 0; k < ctx->n_tasks; k++) {
		struct oc_rst_task *t = &ctx->tasks[k];
		if (t->zombie)
			continue;
		t->vma_cow = calloc(t->mm->n_vmas ? t->mm->n_vmas : 1, sizeof(*t->vma_cow));
		t->premap_at = calloc(t->mm->n_vmas ? t->mm->n_vmas : 1, sizeof(*t->premap_at));
		if (!t->vma_cow || !t->premap_at)
			return -ENOMEM;
	}
	/* Parents come first in the tree, so theirs are allocated. */
	for (size_t k = 1; k < ctx->n_tasks; k++) {
		struct oc_rst_task *t = &ctx->tasks[k], *p = oc_rst_parent_of(ctx, t);
		if (t->zombie || !p || p->zombie)
			continue;
		for (size_t i = 0; i < t->mm->n_vmas; i++) {
			const VmaEntry *v = t->mm->vmas[i];
			if (!cow_candidate(v))
				continue;
			ssize_t j = find_vma(p, v->start, v->end);
			if (j < 0)
				continue;
			const VmaEntry *pv = p->mm->vmas[j];
			if (!cow_candidate(pv) || !same_vma(v, pv) || !pages_in(t, v) || !pages_in(p, pv))
				continue;
			p->vma_cow[j] |= OC_COW_PREMAP;
			t->vma_cow[i] |= OC_COW_PREMAP | OC_COW_INHERIT;
		}
	}
	return 0;
}

bool oc_rst_cow_premaps(const struct oc_rst_task *t)
{
	for (size_t i = 0; t->vma_cow && i < t->mm->n_vmas; i++)
		if (t->vma_cow[i])
			return true;
	return false;
}

bool oc_rst_cow_inherits(const struct oc_rst_task *t)
{
	for (size_t i = 0; t->vma_cow && i < t->mm->n_vmas; i++)
		if (t->vma_cow[i] & OC_COW_INHERIT)
			return true;
	return false;
}

uint64_t oc_rst_cow_piece(const struct oc_rst_task *t, uint64_t addr, uint64_t end, bool *ret_premapped)
{
	*ret_premapped = false;
	for (size_t i = 0; t->vma_cow && i < t->mm->n_vmas; i++) {
		const VmaEntry *v = t->mm->vmas[i];
		if (!t->vma_cow[i] || v->end <= addr)
			continue;
		if (v->start <= addr) {
			*ret_premapped = true;
			return MIN(end, v->end);
		}
		if (v->start < end)
			end = v->start;
	}
	return end;
}

/* ---- the agent's side ---------------------------------------------------- */

/* Does [start, start + len) come near anything of the target layout? */
static bool in_target_way(const struct oc_rst_task *t, uint64_t start, uint64_t len)
{
	for (size_t i = 0; i < t->mm->n_vmas; i++) {
		const VmaEntry *v = t->mm->vmas[i];
		if (v->start < start + len + OC_PAGE_SIZE && v->end + OC_PAGE_SIZE > start)
			return true;
	}
	return false;
}

static uint64_t vma_len(const VmaEntry *v)
{
	return v->end - v->start;
}

struct fill {
	struct oc_rst_task *t;
	uint64_t base; /* where the VMA's first page is now */
	uint64_t vma_start;
	uint64_t next; /* inherited copies: first page not yet handled */
	uint8_t *buf;
	uint64_t pages_written;
};

static int read_pages(struct fill *f, void *to, uint64_t len, uint64_t off)
{
	for (uint64_t done = 0; done < len;) {
		ssize_t n = pread(f->t->pages_fd, (uint8_t *)to + done, len - done, off + done);
		if (n <= 0)
			return oc_error_errno(n < 0 ? -errno : -EIO,
					      "pages-%u.img: cannot read %" PRIu64 " bytes at offset %" PRIu64,
					      f->t->pages_id, len - done, off + done);
		done += n;
	}
	return 0;
}

/* A fresh copy: the pages go straight into place. */
static int fill_own(void *data, uint64_t vaddr, uint64_t n_pages, uint64_t off)
{
	struct fill *f = data;
	uint64_t len = n_pages * OC_PAGE_SIZE;
	void *to = (void *)(f->base + (vaddr - f->vma_start));

	(void)madvise(to, len, MADV_POPULATE_WRITE); /* faults in bulk; an old kernel just faults */
	f->pages_written += n_pages;
	return read_pages(f, to, len, off);
}

/* Pages this task did not have are gone, as they were. */
static void drop_range(struct fill *f, uint64_t from, uint64_t to)
{
	if (to > from)
		(void)madvise((void *)(f->base + (from - f->vma_start)), to - from, MADV_DONTNEED);
}

/* The parent's copy: write only the pages that differ from it. */
static int fill_inherited(void *data, uint64_t vaddr, uint64_t n_pages, uint64_t off)
{
	struct fill *f = data;
	uint64_t len = n_pages * OC_PAGE_SIZE;

	drop_range(f, f->next, vaddr);
	for (uint64_t done = 0; done < len; done += CMP_CHUNK) {
		uint64_t chunk = MIN(CMP_CHUNK, len - done);
		int r = read_pages(f, f->buf, chunk, off + done);
		if (r < 0)
			return r;
		uint8_t *at = (uint8_t *)(f->base + (vaddr + done - f->vma_start));
		for (uint64_t p = 0; p < chunk; p += OC_PAGE_SIZE)
			if (memcmp(at + p, f->buf + p, OC_PAGE_SIZE)) {
				memcpy(at + p, f->buf + p, OC_PAGE_SIZE);
				f->pages_written++;
			}
	}
	f->next = vaddr + len;
	return 0;
}

/* Map @len bytes free in both layouts, as one reservation. */
static int reserve_block(struct oc_rst_task *t, uint64_t len, uint64_t *ret)
{
	uint64_t at;
	int r = oc_agent_find_area(t, len, &at);

	if (r < 0)
		return r;
	if (mmap((void *)at, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED)
		return oc_error_errno(-errno, "cannot reserve %" PRIu64 " bytes at 0x%" PRIx64 " for premapped memory",
				      len, at);
	*ret = at;
	return 0;
}

int oc_agent_premap(struct oc_rst_agent *ag)
{
	struct oc_rst_task *t = ag->task, *p = oc_rst_parent_of(ag->ctx, t);
	const MmEntry *mm = t->mm;
	uint64_t own_len = 0, move_len = 0;
	int r;

	/* Take the parent's copies this task shares; drop the rest. */
	for (size_t j = 0; p && p->premap_at && j < p->mm->n_vmas; j++) {
		const VmaEntry *pv = p->mm->vmas[j];
		if (!p->premap_at[j])
			continue;
		ssize_t i = find_vma(t, pv->start, pv->end);
		if (i >= 0 && (t->vma_cow[i] & OC_COW_INHERIT)) {
			t->premap_at[i] = p->premap_at[j];
			if (in_target_way(t, t->premap_at[i], vma_len(pv)))
				move_len += vma_len(pv);
		} else if (munmap((void *)p->premap_at[j], vma_len(pv)) < 0) {
			return oc_error_errno(-errno, "cannot drop the parent's premapped 0x%" PRIx64, pv->start);
		}
	}
	for (size_t i = 0; i < mm->n_vmas; i++) {
		if ((t->vma_cow[i] & OC_COW_INHERIT) && !t->premap_at[i])
			return oc_error(-EINVAL,
					"task %d: VMA 0x%" PRIx64 " was to come from its parent, which has "
					"no copy of it",
					t->pid, mm->vmas[i]->start);
		if (t->vma_cow[i] && !(t->vma_cow[i] & OC_COW_INHERIT))
			own_len += vma_len(mm->vmas[i]);
	}

	/* Inherited copies in the way of this task's layout move aside. */
	uint64_t at = 0;
	if (move_len && (r = reserve_block(t, move_len, &at)) < 0)
		return r;
	for (size_t i = 0; move_len && i < mm->n_vmas; i++) {
		uint64_t len = vma_len(mm->vmas[i]);
		if (!(t->vma_cow[i] & OC_COW_INHERIT) || !in_target_way(t, t->premap_at[i], len))
			continue;
		if (mremap((void *)t->premap_at[i], len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)at) == MAP_FAILED)
			return oc_error_errno(-errno, "cannot move the inherited copy of 0x%" PRIx64,
					      mm->vmas[i]->start);
		t->premap_at[i] = at;
		at += len;
	}

	/* Fresh copies, in one block. */
	if (own_len && (r = reserve_block(t, own_len, &at)) < 0)
		return r;
	for (size_t i = 0; own_len && i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];
		if (!t->vma_cow[i] || (t->vma_cow[i] & OC_COW_INHERIT))
			continue;
		bool file = v->status & VMA_FILE_PRIVATE;
		int flags = (v->flags & ~(MAP_LOCKED | MAP_POPULATE | MAP_ANONYMOUS)) | MAP_PRIVATE | MAP_FIXED |
			    (file ? 0 : MAP_ANONYMOUS);
		if (mmap((void *)at, vma_len(v), PROT_READ | PROT_WRITE, flags, file ? t->vma_fds[i] : -1,
			 file ? v->pgoff : 0) == MAP_FAILED)
			return oc_error_errno(-errno, "cannot premap 0x%" PRIx64, v->start);
		t->premap_at[i] = at;
		at += vma_len(v);
	}

	/* Contents. */
	_cleanup_free_ uint8_t *buf = oc_rst_cow_inherits(t) ? malloc(CMP_CHUNK) : NULL;
	if (oc_rst_cow_inherits(t) && !buf)
		return -ENOMEM;
	uint64_t written = 0, total = 0;
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];
		if (!t->vma_cow[i])
			continue;
		struct fill f = {
			.t = t, .base = t->premap_at[i], .vma_start = v->start, .next = v->start, .buf = buf
		};
		bool inherited = t->vma_cow[i] & OC_COW_INHERIT;
		r = oc_rst_for_each_run(t, v->start, v->end, inherited ? fill_inherited : fill_own, &f);
		if (r < 0)
			return r;
		if (inherited)
			drop_range(&f, f.next, v->end);
		written += f.pages_written;
		total += pages_in(t, v);
	}
	if (total)
		oc_agent_info(ag,
			      "task %d: %" PRIu64 " pages premapped to share copy-on-write, %" PRIu64
			      " of them kept from its parent's copy",
			      t->pid, total, total - written);
	return 0;
}
