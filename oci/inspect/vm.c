// SPDX-License-Identifier: GPL-2.0-or-later
/* Searching a dumped process's memory through its pagemap runs (see vm.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocicr.h"
#include "oci/inspect/limits.h"
#include "oci/inspect/vm.h"
#include "ocicr/cleanup.h"

int oci_mem_segments(const struct oc_pm_run *runs, size_t n,
		     int (*fn)(uint64_t start, uint64_t end, uint64_t off, void *userdata), void *userdata)
{
	for (size_t i = 0; i < n;) {
		if (!(runs[i].flags & OC_PM_PRESENT)) {
			i++;
			continue;
		}
		uint64_t start = runs[i].vaddr, off = runs[i].off;
		uint64_t end = start + runs[i].nr_pages * OCI_PAGE_SIZE;
		size_t j = i + 1;
		while (j < n && runs[j].flags & OC_PM_PRESENT && runs[j].vaddr == end) {
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
