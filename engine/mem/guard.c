// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Guard regions: pages that madvise(MADV_GUARD_INSTALL) (Linux 6.13) made
 * fault on any access, inside a VMA and without one of their own.
 * PAGEMAP_SCAN reports them (PAGE_IS_GUARD, Linux 6.14).  As CRIU 4.2
 * keeps them: one VMA entry of status VMA_AREA_GUARD per region, after
 * every real VMA.  Their pages are never read (reading one fails: see
 * mem/pages.c), and the restorer installs them again once the memory is
 * in.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "res/kind.h"
#include "mem/guard.h"
#include "mem/mm.h"
#include "mem/pages.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "mm.pb-c.h"
#include "vma.pb-c.h"

#define GUARD_REGIONS 256 /* regions per PAGEMAP_SCAN call */

/* Each region as a VMA entry, appended to @mm's. */
static int add_guards(struct oc_dump_task *t, MmEntry *mm, const struct oc_page_region *regs, size_t n)
{
	struct oc_arena *a = t->ctx->arena;
	VmaEntry **vmas = OC_ARENA_ARRAY(a, VmaEntry *, mm->n_vmas + n);

	if (!vmas)
		return -ENOMEM;
	memcpy(vmas, mm->vmas, mm->n_vmas * sizeof(*vmas));
	for (size_t i = 0; i < n; i++) {
		VmaEntry *ve = OC_ARENA_MSG(a, VmaEntry, VMA_ENTRY__INIT);
		if (!ve)
			return -ENOMEM;
		ve->start = regs[i].start;
		ve->end = regs[i].end;
		ve->status = VMA_AREA_GUARD;
		ve->fd = -1;
		vmas[mm->n_vmas + i] = ve;
	}
	mm->vmas = vmas;
	mm->n_vmas += n;
	return 0;
}

int oc_dump_guards(struct oc_dump_task *t, MmEntry *mm)
{
	struct oc_page_region regs[GUARD_REGIONS];
	struct oc_pm_scan_arg arg = {
		.size = sizeof(arg),
		.end = OC_TASK_SIZE,
		.vec = (uintptr_t)regs,
		.vec_len = GUARD_REGIONS,
		.category_mask = OC_PAGE_IS_GUARD,
		.return_mask = OC_PAGE_IS_GUARD,
	};
	char path[64];
	size_t found = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", t->pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot open %s", path);
	while (arg.start < OC_TASK_SIZE) {
		long n = ioctl(fd, OC_PAGEMAP_SCAN, &arg);
		if (n < 0 && (errno == EINVAL || errno == ENOTTY)) {
			/* An older kernel: one without guard regions, or whose
			 * guards cannot be found (their pages then fail to read). */
			pr_debug("task %d: PAGEMAP_SCAN cannot report guard regions here", t->pid);
			return 0;
		}
		if (n < 0)
			return oc_error_errno(-errno, "task %d: PAGEMAP_SCAN for guard regions", t->pid);
		int r = add_guards(t, mm, regs, n);
		if (r < 0)
			return r;
		found += n;
		if (arg.walk_end <= arg.start)
			break;
		arg.start = arg.walk_end;
	}
	if (found)
		pr_debug("task %d: %zu guard regions", t->pid, found);
	return 0;
}

size_t oc_mm_first_guard(const MmEntry *mm)
{
	size_t i = mm->n_vmas;

	while (i && (mm->vmas[i - 1]->status & VMA_AREA_GUARD))
		i--;
	return i;
}

/* ---- restore ------------------------------------------------------------- */

void oc_rst_guards_reserve(const struct oc_rst_task *t, struct oc_rst_area_counts *c)
{
	c->guards += t->mm->n_vmas - oc_mm_first_guard(t->mm);
}

void oc_rst_guards_fill(const struct oc_rst_task *t, struct oc_rst_args *a)
{
	for (size_t i = oc_mm_first_guard(t->mm); i < t->mm->n_vmas; i++)
		a->guards[a->n_guards++] = (struct oc_rst_range){ t->mm->vmas[i]->start, t->mm->vmas[i]->end };
}
