/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writing a pagemap image with its pages image: runs of pages are queued in
 * ascending address order, merged when contiguous, and copied from a source
 * fd (/proc/PID/mem for a task, the shmem file for shared memory).
 */
#ifndef OCICR_RES_PAGES_H
#define OCICR_RES_PAGES_H

#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "img/image.h"
#include "arch/arch.h"

struct oc_dump_ctx;

/* PAGEMAP_SCAN (Linux 6.7+), not in this libc's headers yet. */
struct oc_page_region {
	uint64_t start, end, categories;
};

struct oc_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define OC_PAGEMAP_SCAN	 _IOWR('f', 16, struct oc_pm_scan_arg)
#define OC_PAGE_IS_GUARD (1ull << 8) /* Linux 6.14 */

/* One buffer is filled while the other is written behind. */
#define OC_PAGES_BUFS 2

/* A thread that writes one buffer into the pages image at a time. */
struct oc_write_behind {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool started, busy, quit;
	int fd, err;
	bool direct; /* fd is the O_DIRECT one */
	int pipe[2]; /* its own, for page-cache writes */
	const uint8_t *buf;
	size_t len;
	uint64_t off;
};

struct oc_pages_writer {
	struct oc_img *pagemap;
	struct oc_img *pages;
	uint32_t pages_id;
	int mem_fd;		   /* where the page bytes are read from: /proc/PID/mem */
	struct oc_twin_pump *pump; /* or they come down its pipe, in order */
	int direct_fd;		   /* the pages image opened with O_DIRECT, or -1 */
	int pipe[2];		   /* page-cache writes: buffer -> pipe -> image */
	int64_t *cache_budget;	   /* bytes the dump may still leave in the page cache */
	uint64_t cached_bytes, direct_bytes;
	bool zero_past_eof;	      /* mem_fd is a file: its last page may be partial */
	uint8_t *bufs[OC_PAGES_BUFS]; /* the dump's, page-aligned, COPY_BATCH bytes each */
	unsigned next_buf;
	struct oc_write_behind wb; /* writes of runs of several batches */
	uint64_t file_end;	   /* how far the pages image is extended */
	uint64_t run_start;	   /* address (or offset) the run has in the image */
	int run_fd;		   /* where the run's bytes are */
	uint64_t run_src;	   /* offset of the run in run_fd */
	uint64_t run_pages;
	uint64_t pages_written;
};

/*
 * How many bytes of pages a dump writes through the page cache before it
 * turns to O_DIRECT: what may still be dirty before the kernel starts
 * writing back, or OCICR_PAGE_CACHE_MAX.
 */
int64_t oc_pages_cache_budget(void);

int oc_pages_writer_open(struct oc_dump_ctx *ctx, enum oc_img_kind kind, uint64_t id, struct oc_pages_writer *w);

/* Queue @n_pages pages at image address @vaddr, read from mem_fd at @src_off. */
int oc_pages_writer_add(struct oc_pages_writer *w, uint64_t vaddr, uint64_t src_off, uint64_t n_pages);

/* The same, read from @fd. */
int oc_pages_writer_add_from(struct oc_pages_writer *w, int fd, uint64_t vaddr, uint64_t src_off, uint64_t n_pages);

/* Write out what is queued; commit does this too, then names the images. */
int oc_pages_writer_flush(struct oc_pages_writer *w);
int oc_pages_writer_commit(struct oc_pages_writer *w);
void oc_pages_writer_close(struct oc_pages_writer *w);

/* Free the buffers the dump's writers and scans shared. */
void oc_pages_free_buffers(struct oc_dump_ctx *ctx);

struct oc_rst_task;
struct oc_rst_vdso;
struct oc_rst_args;
/* Restore: the runs of @t's saved pages the blob reads in, skipping the
 * vDSO's and those of premapped VMAs. */
int oc_rst_fill_runs(struct oc_rst_task *t, const struct oc_rst_vdso *vd, struct oc_rst_args *a);

#endif
