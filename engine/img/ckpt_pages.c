// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A dumped process's memory through its pagemap.
 *
 * pagemap-PID.img lists runs of pages { vaddr, nr_pages, flags } in address
 * order; the runs with PE_PRESENT have their bytes in pages-N.img, one after
 * the other in the same order.  A run's offset in the pages file is the sum
 * of the present runs before it, so finding an address is a binary search
 * over the runs and reading it a pread() of just those bytes: nothing loads
 * a process's whole memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "img/ckpt.h"
#include "img/vma.h"
#include "core/cleanup.h"
#include "core/error.h"

static uint64_t entry_pages(const PagemapEntry *pe)
{
	return pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
}

int oc_pagemap_build(PagemapEntry *const *entries, size_t n, const char *what, struct oc_pm_run **ret_runs,
		     size_t *ret_n, uint64_t *ret_present)
{
	_cleanup_free_ struct oc_pm_run *runs = NULL;
	uint64_t off = 0, prev_end = 0;

	if (n) {
		runs = calloc(n, sizeof(*runs));
		if (!runs)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const PagemapEntry *pe = entries[i];
		uint64_t pages = entry_pages(pe);
		uint32_t flags = pe->has_flags ? pe->flags : OC_PM_PRESENT;

		/* The pre-4.0 flag for pages in the parent image. */
		if (pe->has_in_parent && pe->in_parent)
			flags = (flags & ~OC_PM_PRESENT) | OC_PM_PARENT;
		if (pe->vaddr % OC_PAGE_SIZE)
			return oc_error(-EINVAL, "%s: entry %zu: address 0x%" PRIx64 " is not page aligned", what, i,
					pe->vaddr);
		if (pages > (UINT64_MAX - pe->vaddr) / OC_PAGE_SIZE)
			return oc_error(-EINVAL, "%s: entry %zu: %" PRIu64 " pages at 0x%" PRIx64 " wrap around", what,
					i, pages, pe->vaddr);
		if (i && pe->vaddr < prev_end)
			return oc_error(-EINVAL,
					"%s: entry %zu: 0x%" PRIx64 " overlaps the entry before or is out of "
					"order",
					what, i, pe->vaddr);
		runs[i] = (struct oc_pm_run){ .vaddr = pe->vaddr, .nr_pages = pages, .flags = flags, .off = off };
		if (flags & OC_PM_PRESENT) {
			if (pages > (UINT64_MAX - off) / OC_PAGE_SIZE)
				return oc_error(-EINVAL, "%s: entry %zu: the pages file would be too large", what, i);
			off += pages * OC_PAGE_SIZE;
		}
		prev_end = pe->vaddr + pages * OC_PAGE_SIZE;
	}
	*ret_runs = TAKE_PTR(runs);
	*ret_n = n;
	*ret_present = off / OC_PAGE_SIZE;
	return 0;
}

const struct oc_pm_run *oc_pagemap_find(const struct oc_pm_run *runs, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct oc_pm_run *r = &runs[mid];

		if (addr < r->vaddr)
			hi = mid;
		else if (addr - r->vaddr >= r->nr_pages * OC_PAGE_SIZE)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

int oc_pagemap_locate(const struct oc_pm_run *runs, size_t n, uint64_t addr, uint64_t *ret_off, uint64_t *ret_avail)
{
	const struct oc_pm_run *r = oc_pagemap_find(runs, n, addr);

	if (!r || !(r->flags & OC_PM_PRESENT))
		return -ENOENT;
	*ret_off = r->off + (addr - r->vaddr);
	*ret_avail = r->nr_pages * OC_PAGE_SIZE - (addr - r->vaddr);
	return 0;
}

int oc_pages_pread(int fd, uint64_t off, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, off + got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return oc_error_errno(-errno, "cannot read the pages file at offset %" PRIu64, off + got);
		if (n == 0)
			return oc_error(-EIO,
					"the pages file ends at offset %" PRIu64 ", before the pages the pagemap "
					"lists: truncated",
					off + got);
		got += n;
	}
	return 0;
}

ssize_t oc_pagemap_read(const struct oc_pagemap *pm, int pages_fd, uint64_t addr, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		uint64_t off, avail;
		if (addr + done < addr)
			break;
		if (oc_pagemap_locate(pm->runs, pm->n_runs, addr + done, &off, &avail) < 0)
			break;
		size_t n = MIN((uint64_t)(len - done), avail);
		int r = oc_pages_pread(pages_fd, off, (char *)buf + done, n);
		if (r < 0)
			return r;
		done += n;
	}
	return done;
}

void oc_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

int oc_split_nul(const char *buf, size_t len, char ***ret_v, size_t *ret_n)
{
	size_t n = 0, i = 0, k = 0;
	char **v;

	for (size_t j = 0; j < len; j++)
		if (buf[j] == '\0')
			n++;
	if (len && buf[len - 1] != '\0')
		n++;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	while (i < len) {
		const char *end = memchr(buf + i, '\0', len - i);
		size_t l = end ? (size_t)(end - (buf + i)) : len - i;
		v[k] = strndup(buf + i, l);
		if (!v[k]) {
			oc_strv_free(v);
			return -ENOMEM;
		}
		k++;
		i += l + 1;
	}
	*ret_v = v;
	*ret_n = k;
	return 0;
}
