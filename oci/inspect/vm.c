// SPDX-License-Identifier: GPL-2.0-or-later
/* A dumped process's memory through its pagemap (see vm.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/inspect/limits.h"
#include "oci/inspect/vm.h"
#include "core/cleanup.h"
#include "core/error.h"

static uint64_t entry_pages(const PagemapEntry *pe)
{
	return pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
}

int oci_pagemap_build(PagemapEntry *const *entries, size_t n, const char *what, struct oci_pm_run **ret_runs,
		      size_t *ret_n, uint64_t *ret_present)
{
	_cleanup_free_ struct oci_pm_run *runs = NULL;
	uint64_t off = 0, prev_end = 0;

	if (n) {
		runs = calloc(n, sizeof(*runs));
		if (!runs)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const PagemapEntry *pe = entries[i];
		uint64_t pages = entry_pages(pe);
		uint32_t flags = pe->has_flags ? pe->flags : OCI_PE_PRESENT;

		/* The pre-4.0 flag for pages in the parent image. */
		if (pe->has_in_parent && pe->in_parent)
			flags = (flags & ~OCI_PE_PRESENT) | OCI_PE_PARENT;
		if (pe->vaddr % OCI_PAGE_SIZE)
			return oc_error(-EINVAL, "%s: entry %zu: address 0x%" PRIx64 " is not page aligned", what, i,
					pe->vaddr);
		if (pages > (UINT64_MAX - pe->vaddr) / OCI_PAGE_SIZE)
			return oc_error(-EINVAL, "%s: entry %zu: %" PRIu64 " pages at 0x%" PRIx64 " wrap around", what,
					i, pages, pe->vaddr);
		if (i && pe->vaddr < prev_end)
			return oc_error(-EINVAL,
					"%s: entry %zu: 0x%" PRIx64 " overlaps the entry before or is out of "
					"order",
					what, i, pe->vaddr);
		runs[i] = (struct oci_pm_run){ .vaddr = pe->vaddr, .nr_pages = pages, .flags = flags, .off = off };
		if (flags & OCI_PE_PRESENT) {
			if (pages > (UINT64_MAX - off) / OCI_PAGE_SIZE)
				return oc_error(-EINVAL, "%s: entry %zu: the pages file would be too large", what, i);
			off += pages * OCI_PAGE_SIZE;
		}
		prev_end = pe->vaddr + pages * OCI_PAGE_SIZE;
	}
	*ret_runs = TAKE_PTR(runs);
	*ret_n = n;
	*ret_present = off / OCI_PAGE_SIZE;
	return 0;
}

const struct oci_pm_run *oci_pagemap_find(const struct oci_pm_run *runs, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct oci_pm_run *r = &runs[mid];

		if (addr < r->vaddr)
			hi = mid;
		else if (addr - r->vaddr >= r->nr_pages * OCI_PAGE_SIZE)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

int oci_pagemap_locate(const struct oci_pm_run *runs, size_t n, uint64_t addr, uint64_t *ret_off, uint64_t *ret_avail)
{
	const struct oci_pm_run *r = oci_pagemap_find(runs, n, addr);

	if (!r || !(r->flags & OCI_PE_PRESENT))
		return -ENOENT;
	*ret_off = r->off + (addr - r->vaddr);
	*ret_avail = r->nr_pages * OCI_PAGE_SIZE - (addr - r->vaddr);
	return 0;
}

static int pread_all(int fd, uint64_t off, void *buf, size_t len)
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

ssize_t oci_vm_read(const struct oci_pagemap *pm, int pages_fd, uint64_t addr, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		uint64_t off, avail;
		if (addr + done < addr)
			break;
		if (oci_pagemap_locate(pm->runs, pm->n_runs, addr + done, &off, &avail) < 0)
			break;
		size_t n = MIN((uint64_t)(len - done), avail);
		int r = pread_all(pages_fd, off, (char *)buf + done, n);
		if (r < 0)
			return r;
		done += n;
	}
	return done;
}

void oci_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

int oci_split_nul(const char *buf, size_t len, char ***ret_v, size_t *ret_n)
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
			oci_strv_free(v);
			return -ENOMEM;
		}
		k++;
		i += l + 1;
	}
	*ret_v = v;
	*ret_n = k;
	return 0;
}

int oci_mem_segments(const struct oci_pm_run *runs, size_t n,
		     int (*fn)(uint64_t start, uint64_t end, uint64_t off, void *userdata), void *userdata)
{
	for (size_t i = 0; i < n;) {
		if (!(runs[i].flags & OCI_PE_PRESENT)) {
			i++;
			continue;
		}
		uint64_t start = runs[i].vaddr, off = runs[i].off;
		uint64_t end = start + runs[i].nr_pages * OCI_PAGE_SIZE;
		size_t j = i + 1;
		while (j < n && runs[j].flags & OCI_PE_PRESENT && runs[j].vaddr == end) {
			end += runs[j].nr_pages * OCI_PAGE_SIZE;
			j++;
		}
		if (end > start) {
			int r = fn(start, end, off, userdata);
			if (r < 0)
				return r;
		}
		i = j;
	}
	return 0;
}

struct search_state {
	const struct oci_memsrc *src;
	const struct oci_search *q;
	oci_match_fn fn;
	void *userdata;
	uint8_t *buf;
	size_t step, ovl;
	uint64_t next_addr; /* matches do not overlap: none may start before this */
	long count;
};

/* Read the context around a match, clamped to its segment, and report it. */
static int report(struct search_state *s, uint64_t seg_start, uint64_t seg_end, uint64_t seg_off, uint64_t addr,
		  size_t len)
{
	size_t before = MIN((uint64_t)s->q->context, addr - seg_start);
	size_t after = MIN((uint64_t)s->q->context, seg_end - (addr + len));
	_cleanup_free_ uint8_t *ctx = malloc(before + len + after + 1);
	int r;

	if (!ctx)
		return -ENOMEM;
	r = s->src->read(s->src->userdata, seg_off + (addr - before - seg_start), ctx, before + len + after);
	if (r < 0)
		return r;
	struct oci_match m = {
		.addr = addr,
		.bytes = ctx + before,
		.len = len,
		.before = ctx,
		.before_len = before,
		.after = ctx + before + len,
		.after_len = after,
	};
	s->count++;
	return s->fn(&m, s->userdata);
}

static int search_segment(uint64_t start, uint64_t end, uint64_t off, void *userdata)
{
	struct search_state *s = userdata;
	const struct oci_search *q = s->q;
	uint64_t seglen = end - start;

	for (uint64_t pos = 0; pos < seglen; pos += s->step) {
		size_t wlen = MIN((uint64_t)(s->step + s->ovl), seglen - pos);
		/* Matches must start in this window's own part; the overlap is
		 * the next window's. */
		size_t limit = pos + s->step >= seglen ? wlen : s->step;
		int r = oci_time_check();

		if (r < 0)
			return r;
		r = s->src->read(s->src->userdata, off + pos, s->buf, wlen);

		if (r < 0)
			return r;
		s->buf[wlen] = 0;
		for (size_t at = 0; at < limit;) {
			size_t mstart, mlen;
			if (q->re) {
				regmatch_t pm[1] = { { .rm_so = at, .rm_eo = wlen } };
				int eflags = REG_STARTEND | (pos + at > 0 ? REG_NOTBOL : 0);
				if (regexec(q->re, (const char *)s->buf, 1, pm, eflags) != 0)
					break;
				mstart = pm[0].rm_so;
				mlen = pm[0].rm_eo - pm[0].rm_so;
				if (mlen == 0) {
					at = mstart + 1;
					continue;
				}
			} else {
				const uint8_t *hit = memmem(s->buf + at, wlen - at, q->needle, q->needle_len);
				if (!hit)
					break;
				mstart = hit - s->buf;
				mlen = q->needle_len;
			}
			if (mstart >= limit)
				break;
			at = mstart + mlen;
			/* A match the window before already covered. */
			if (start + pos + mstart < s->next_addr)
				continue;
			r = report(s, start, end, off, start + pos + mstart, mlen);
			if (r < 0)
				return r;
			s->next_addr = start + pos + mstart + mlen;
		}
	}
	return 0;
}

long oci_mem_search(const struct oci_memsrc *src, const struct oci_search *q, oci_match_fn fn, void *userdata)
{
	struct search_state s = { .src = src, .q = q, .fn = fn, .userdata = userdata };
	_cleanup_free_ uint8_t *buf = NULL;
	int r;

	if (!q->re && (!q->needle || !q->needle_len))
		return oc_error(-EINVAL, "nothing to search for");
	s.step = q->chunk ? q->chunk : 1u << 20;
	s.ovl = q->re ? (q->max_match ? q->max_match : 4096) : q->needle_len - 1;
	buf = malloc(s.step + s.ovl + 1);
	if (!buf)
		return -ENOMEM;
	s.buf = buf;
	r = oci_mem_segments(src->runs, src->n_runs, search_segment, &s);
	if (r < 0)
		return r;
	return s.count;
}
