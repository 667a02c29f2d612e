// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The restored task's vDSO.  When the image's vDSO is this kernel's (same
 * size, same layout beside [vvar], same bytes), the blob maps this
 * kernel's vDSO at the old address and nothing else is needed.  Otherwise
 * (a checkpoint from another kernel build) the old vDSO is restored as
 * ordinary memory from its saved pages, this kernel's vDSO is mapped at an
 * address free in both layouts, and every old function jumps to its new
 * twin (mem/vdso.c): the task's pointers into the old vDSO keep working.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"
#include "mem/mm.h"
#include "mem/vdso.h"
#include "proc/proc.h"
#include "core/cleanup.h"
#include "core/error.h"

/* Where this process's [vdso] is, and the [vvar] pages right below it. */
static int read_own_vdso(struct oc_rst_vdso *vd)
{
	struct oc_proc_vma *vmas = NULL;
	size_t n = 0;
	int r;

	r = oc_proc_read_maps(0, &vmas, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (vmas[i].kind != OC_VMA_VDSO)
			continue;
		uint64_t vvar = vmas[i].start;
		for (size_t j = i;
		     j > 0 && (vmas[j - 1].kind == OC_VMA_VVAR || vmas[j - 1].kind == OC_VMA_VVAR_VCLOCK) &&
		     vmas[j - 1].end == vvar;
		     j--)
			vvar = vmas[j - 1].start;
		vd->own_vdso = vmas[i].start;
		vd->own_len = vmas[i].end - vmas[i].start;
		vd->own_vvar_len = vmas[i].start - vvar;
	}
	oc_proc_vmas_free(vmas, n);
	return 0;
}

/* The image's vDSO bytes from the pages image; returns how many were saved. */
static int read_image_vdso(struct oc_rst_task *t, struct oc_rst_vdso *vd, uint64_t *ret_saved)
{
	uint64_t len = vd->img_vdso_end - vd->img_vdso, off = 0, saved = 0;

	vd->img_copy = calloc(1, len);
	if (!vd->img_copy)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_pagemap; i++) {
		const PagemapEntry *pe = t->pagemap[i];
		if (pe->has_flags && !(pe->flags & PE_PRESENT))
			continue;
		uint64_t np = pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		uint64_t start = MAX(pe->vaddr, vd->img_vdso);
		uint64_t end = MIN(pe->vaddr + np * OC_PAGE_SIZE, vd->img_vdso_end);
		if (start < end) {
			if (t->pages_fd < 0)
				return oc_error(-ENOENT, "pages-%u.img: missing", t->pages_id);
			ssize_t got = pread(t->pages_fd, vd->img_copy + (start - vd->img_vdso), end - start,
					    off + (start - pe->vaddr));
			if (got != (ssize_t)(end - start))
				return oc_error_errno(got < 0 ? -errno : -EIO,
						      "pages-%u.img: cannot read the saved vDSO", t->pages_id);
			saved += end - start;
		}
		off += np * OC_PAGE_SIZE;
	}
	*ret_saved = saved;
	return 0;
}

int oc_rst_vdso_prepare(struct oc_rst_agent *ag, struct oc_rst_vdso *vd)
{
	struct oc_rst_task *t = ag->task;
	const MmEntry *mm = t->mm;
	uint64_t saved = 0;
	int r;

	memset(vd, 0, sizeof(*vd));
	for (size_t i = 0; i < mm->n_vmas; i++) {
		if (mm->vmas[i]->status & VMA_AREA_VDSO) {
			vd->img_vdso = mm->vmas[i]->start;
			vd->img_vdso_end = mm->vmas[i]->end;
		}
		if (mm->vmas[i]->status & VMA_AREA_VVAR)
			vd->img_vvar = mm->vmas[i]->start;
	}
	if (!vd->img_vdso)
		return 0;
	r = read_own_vdso(vd);
	if (r < 0)
		return r;
	if (!vd->own_vdso)
		return oc_error(-EOPNOTSUPP, "the image has a vDSO, but this kernel gives none");
	r = read_image_vdso(t, vd, &saved);
	if (r < 0)
		return r;

	const char *why = NULL;
	if (vd->img_vdso_end - vd->img_vdso != vd->own_len)
		why = "its size differs";
	else if (vd->img_vvar && vd->img_vvar + vd->own_vvar_len != vd->img_vdso)
		why = "its [vvar] is laid out differently";
	else if (saved && memcmp(vd->img_copy, (void *)vd->own_vdso, vd->own_len))
		why = "its code differs";
	if (!why)
		return 0;
	if (saved != vd->img_vdso_end - vd->img_vdso)
		return oc_error(-EOPNOTSUPP,
				"the image's vDSO is not this kernel's (%s) and the image does not "
				"hold all of its pages",
				why);
	vd->proxy = true;
	oc_agent_info(ag,
		      "task %d: the image's vDSO is not this kernel's (%s): restored as memory, its functions "
		      "redirected to this kernel's",
		      t->pid, why);
	return 0;
}

void oc_rst_vdso_done(struct oc_rst_vdso *vd)
{
	free(vd->img_copy);
	vd->img_copy = NULL;
}

bool oc_rst_vdso_is_kernels(const struct oc_rst_vdso *vd, const VmaEntry *v)
{
	return !vd->proxy && (v->status & (VMA_AREA_VDSO | VMA_AREA_VVAR));
}

bool oc_rst_vdso_has_page(const struct oc_rst_vdso *vd, uint64_t addr)
{
	return !vd->proxy && addr >= vd->img_vdso && addr < vd->img_vdso_end;
}

/* A jump is "movabs $target, %rax; jmp *%rax": 12 bytes (the blob writes it). */
#define VDSO_PATCH_LEN 12

int oc_rst_vdso_place(struct oc_rst_agent *ag, const struct oc_rst_vdso *vd, struct oc_rst_args *a)
{
	struct oc_rst_task *t = ag->task;
	struct oc_vdso_patch patches[OC_RST_MAX_VDSO_PATCHES];
	uint64_t at;
	int n, r;

	if (!vd->img_vdso)
		return 0;
	if (!vd->proxy) {
		a->vdso_start = vd->img_vdso;
		a->vvar_start = vd->img_vvar ? vd->img_vvar : vd->img_vdso - vd->own_vvar_len;
		return 0;
	}
	r = oc_agent_find_area(t, vd->own_vvar_len + vd->own_len, &at);
	if (r < 0)
		return oc_error_wrap(r, "placing this kernel's vDSO");
	a->vvar_start = at;
	a->vdso_start = at + vd->own_vvar_len;
	n = oc_vdso_proxy_patches(vd->img_copy, vd->img_vdso_end - vd->img_vdso, vd->img_vdso,
				  (const uint8_t *)vd->own_vdso, vd->own_len, a->vdso_start, VDSO_PATCH_LEN, patches,
				  OC_RST_MAX_VDSO_PATCHES);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		a->vdso_patches[i] = (struct oc_rst_vdso_patch){ patches[i].addr, patches[i].target };
	a->n_vdso_patches = n;
	oc_agent_info(ag,
		      "task %d: this kernel's vDSO at 0x%" PRIx64 ", %d function(s) of the old one at 0x%" PRIx64
		      " redirected to it",
		      t->pid, a->vdso_start, n, vd->img_vdso);
	return 0;
}
