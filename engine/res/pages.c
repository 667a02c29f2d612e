// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Memory contents of private mappings: which pages to save (pagemap), and
 * their bytes (pages-N.img).  Anonymous memory is saved where present or
 * swapped; file-backed private memory only where the task wrote to it (the
 * page is no longer the file's); the vDSO always, [vvar] never.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dump.h"
#include "res/mm.h"
#include "res/pages.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/log.h"

#include "pagemap.pb-c.h"
#include "vma.pb-c.h"

#define PM_PRESENT (1ull << 63)
#define PM_SWAP (1ull << 62)
#define PM_FILE (1ull << 61)

#define PAGEMAP_BATCH 65536               /* pagemap words per read */
#define COPY_BATCH (4u << 20)             /* bytes per copy into the image */

int oc_pages_writer_open(struct oc_dump_ctx *ctx, enum oc_img_kind kind, uint64_t id, struct oc_pages_writer *w)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	int r;

	memset(w, 0, sizeof(*w));
	w->mem_fd = -1;
	w->pages_id = ++ctx->next_pages_id;
	r = oc_img_create(ctx->dir, kind, id, &w->pagemap);
	if (r < 0)
		return r;
	r = oc_img_create(ctx->dir, OC_IMG_PAGES, w->pages_id, &w->pages);
	if (r < 0)
		return r;
	head.pages_id = w->pages_id;
	r = oc_img_write_entry(w->pagemap, &head.base);
	if (r < 0)
		return r;
	w->buf = malloc(COPY_BATCH);
	return w->buf ? 0 : -ENOMEM;
}

static int copy_run(struct oc_pages_writer *w, uint64_t src_off, uint64_t len)
{
	while (len) {
		size_t chunk = MIN(len, (uint64_t)COPY_BATCH);
		ssize_t n = pread(w->mem_fd, w->buf, chunk, src_off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return oc_error_errno(-errno, "cannot read memory at 0x%" PRIx64, src_off);
		}
		if (n == 0 && w->zero_past_eof) {
			/* A file's size need not be a page multiple: pad the last page. */
			n = chunk;
			memset(w->buf, 0, n);
		}
		if (n == 0)
			return oc_error(-EIO, "memory at 0x%" PRIx64 " vanished while being read", src_off);
		int r = oc_img_write_raw(w->pages, w->buf, n);
		if (r < 0)
			return r;
		src_off += n;
		len -= n;
	}
	return 0;
}

static int flush_run(struct oc_pages_writer *w)
{
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;
	int r;

	if (!w->run_pages)
		return 0;
	pe.vaddr = w->run_start;
	/* Both the 4.2 count field and the old one, so every CRIU 4.x reads it. */
	pe.compat_nr_pages = w->run_pages <= UINT32_MAX ? w->run_pages : 0;
	pe.has_nr_pages = true;
	pe.nr_pages = w->run_pages;
	pe.has_flags = true;
	pe.flags = PE_PRESENT;
	r = oc_img_write_entry(w->pagemap, &pe.base);
	if (r < 0)
		return r;
	r = copy_run(w, w->run_src, w->run_pages * OC_PAGE_SIZE);
	if (r < 0)
		return r;
	w->pages_written += w->run_pages;
	w->run_pages = 0;
	return 0;
}

int oc_pages_writer_add(struct oc_pages_writer *w, uint64_t vaddr, uint64_t src_off, uint64_t n_pages)
{
	int r;

	if (w->run_pages && w->run_start + w->run_pages * OC_PAGE_SIZE == vaddr &&
	    w->run_src + w->run_pages * OC_PAGE_SIZE == src_off) {
		w->run_pages += n_pages;
		return 0;
	}
	r = flush_run(w);
	if (r < 0)
		return r;
	w->run_start = vaddr;
	w->run_src = src_off;
	w->run_pages = n_pages;
	return 0;
}

int oc_pages_writer_commit(struct oc_pages_writer *w)
{
	int r = flush_run(w);

	if (r < 0)
		return r;
	r = oc_img_commit(w->pages);
	if (r < 0)
		return r;
	return oc_img_commit(w->pagemap);
}

void oc_pages_writer_close(struct oc_pages_writer *w)
{
	oc_img_close(w->pagemap);
	oc_img_close(w->pages);
	if (w->mem_fd >= 0)
		close(w->mem_fd);
	free(w->buf);
	memset(w, 0, sizeof(*w));
	w->mem_fd = -1;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

/* Walk one VMA's pagemap and queue the pages worth saving. */
static int scan_vma(struct oc_pages_writer *w, int pagemap_fd, const VmaEntry *ve, uint64_t *words,
		    uint64_t *ret_scanned)
{
	bool all = ve->status & VMA_AREA_VDSO;
	bool file = ve->status & VMA_FILE_PRIVATE;
	uint64_t n_pages = (ve->end - ve->start) / OC_PAGE_SIZE;

	for (uint64_t done = 0; done < n_pages;) {
		size_t batch = MIN(n_pages - done, (uint64_t)PAGEMAP_BATCH);
		uint64_t vaddr = ve->start + done * OC_PAGE_SIZE;
		ssize_t n = pread(pagemap_fd, words, batch * 8, vaddr / OC_PAGE_SIZE * 8);
		if (n < 0)
			return oc_error_errno(-errno, "cannot read pagemap at 0x%" PRIx64, vaddr);
		if ((size_t)n != batch * 8)
			return oc_error(-EIO, "short pagemap read at 0x%" PRIx64, vaddr);
		for (size_t i = 0; i < batch; i++) {
			uint64_t pm = words[i];
			bool save = all || (pm & PM_SWAP) || ((pm & PM_PRESENT) && !(file && (pm & PM_FILE)));
			if (!save)
				continue;
			uint64_t a = vaddr + i * OC_PAGE_SIZE;
			int r = oc_pages_writer_add(w, a, a, 1);
			if (r < 0)
				return r;
		}
		done += batch;
	}
	*ret_scanned += n_pages;
	return 0;
}

int oc_dump_pages(struct oc_dump_task *t)
{
	struct oc_dump_ctx *ctx = t->ctx;
	_cleanup_free_ uint64_t *words = NULL;
	_cleanup_close_ int pagemap_fd = -1;
	struct oc_pages_writer w;
	char path[64];
	uint64_t t0 = now_us();
	int r;

	words = malloc(PAGEMAP_BATCH * sizeof(*words));
	if (!words)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", t->pid);
	pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pagemap_fd < 0)
		return oc_error_errno(-errno, "cannot open %s", path);

	r = oc_pages_writer_open(ctx, OC_IMG_PAGEMAP, t->pid, &w);
	if (r < 0)
		goto out;
	snprintf(path, sizeof(path), "/proc/%d/mem", t->pid);
	w.mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (w.mem_fd < 0) {
		r = oc_error_errno(-errno, "cannot open %s", path);
		goto out;
	}
	t->pages_id = w.pages_id;

	for (size_t i = 0; i < t->mm->n_vmas; i++) {
		const VmaEntry *ve = t->mm->vmas[i];
		if (!oc_vma_private(ve->status, ve->end) || (ve->status & VMA_AREA_VVAR))
			continue;
		r = scan_vma(&w, pagemap_fd, ve, words, &ctx->pages_scanned);
		if (r < 0)
			goto out;
	}
	r = oc_pages_writer_commit(&w);
	ctx->pages_written += w.pages_written;
	pr_debug("task %d: %" PRIu64 " pages saved as pages-%u.img", t->pid, w.pages_written, w.pages_id);
out:
	oc_pages_writer_close(&w);
	ctx->memdump_us += now_us() - t0;
	return r;
}
