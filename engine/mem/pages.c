// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Memory contents of private mappings: which pages to save (pagemap), and
 * their bytes (pages-N.img).  Anonymous memory is saved where present or
 * swapped; file-backed private memory only where the task wrote to it (the
 * page is no longer the file's); the vDSO and AIO rings always, [vvar] and
 * guard regions never.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/ptrace.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "res/kind.h"
#include "mem/guard.h"
#include "mem/mm.h"
#include "mem/pages.h"
#include "res/ns/ns.h"
#include "res/task/seccomp.h"
#include "core/cleanup.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "core/testpoint.h"

#include "pagemap.pb-c.h"
#include "vma.pb-c.h"

#define PM_PRESENT (1ull << 63)
#define PM_SWAP	   (1ull << 62)
#define PM_FILE	   (1ull << 61)

#define PAGEMAP_BATCH 65536 /* pagemap words per read */
#define SCAN_REGIONS  4096  /* PAGEMAP_SCAN regions per call */

#define PAGE_IS_FILE	(1ull << 2)
#define PAGE_IS_PRESENT (1ull << 3)
#define PAGE_IS_SWAPPED (1ull << 4)
#define PAGE_IS_PFNZERO (1ull << 5)
#define COPY_BATCH	(4u << 20) /* bytes per copy into the image */
#define PUMP_BATCH	(1u << 20) /* bytes per splice from a twin's pipe */
#define PUMP_MIN	(1u << 20) /* fewer bytes than this: read them, no pump */
#define PUMP_POLL_MS	200u	   /* how often a silent twin is looked at */
#define PUMP_STALL_MS	10000u	   /* and how long it may stay silent */

/*
 * Page bytes are read with pread() on /proc/PID/mem (or the source file)
 * into aligned buffers; one buffer is written in the background while the
 * next is read.  Not process_vm_readv(): it pins pages, and pinning a page
 * shared copy-on-write (with a snapshot twin, a parent or a child) makes
 * the kernel copy it first -- a fresh page per page read.
 *
 * Writes go through the page cache while the dump's budget lasts, spliced
 * from the buffer (vmsplice, then splice into the image), and with O_DIRECT
 * after that.  Spliced, the page cache is filled by a kernel-side copy; a
 * plain write() copies from user memory instead, which measured two to
 * three times slower into fresh page cache on a PVM guest.  The budget
 * keeps a large dump from filling memory with dirty pages that the kernel
 * would then throttle to disk speed anyway.
 */
static int read_sysctl_u64(const char *path, uint64_t *ret)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	unsigned long long v;

	if (!f || fscanf(f, "%llu", &v) != 1)
		return -ENOENT;
	*ret = v;
	return 0;
}

/* A byte count with an optional K, M or G; -1 for anything else. */
static int64_t parse_bytes(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);

	if (errno || end == s || v < 0)
		return -1;
	switch (*end) {
	case 'G':
		v <<= 10; /* fall through */
	case 'M':
		v <<= 10; /* fall through */
	case 'K':
		v <<= 10;
		end++;
		break;
	}
	return *end ? -1 : v;
}

int64_t oc_pages_cache_budget(void)
{
	const char *env = getenv("OCICR_PAGE_CACHE_MAX");
	uint64_t bg_bytes = 0, bg_ratio = 10, free_kb = 0, file_kb = 0, dirty_kb = 0;
	char line[128];

	if (env && *env) {
		int64_t v = parse_bytes(env);
		if (v >= 0)
			return v;
		pr_warn("OCICR_PAGE_CACHE_MAX=%s is not a byte count; ignored", env);
	}
	/* The kernel's background threshold, from the memory it counts as
	 * dirtyable: free pages and the file LRU. */
	read_sysctl_u64("/proc/sys/vm/dirty_background_bytes", &bg_bytes);
	read_sysctl_u64("/proc/sys/vm/dirty_background_ratio", &bg_ratio);
	_cleanup_fclose_ FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kb;
		char key[32];
		if (sscanf(line, "%31[^:]: %llu", key, &kb) != 2)
			continue;
		if (!strcmp(key, "MemFree"))
			free_kb = kb;
		else if (!strcmp(key, "Active(file)") || !strcmp(key, "Inactive(file)"))
			file_kb += kb;
		else if (!strcmp(key, "Dirty") || !strcmp(key, "Writeback"))
			dirty_kb += kb;
	}
	uint64_t threshold = bg_bytes ? bg_bytes : (free_kb + file_kb) / 100 * bg_ratio * 1024;
	int64_t budget = (int64_t)threshold - (int64_t)(dirty_kb * 1024);
	return MAX(budget, 0);
}

/* Empty, every fd closed (-1): what open starts from and close leaves. */
static void writer_reset(struct oc_pages_writer *w)
{
	memset(w, 0, sizeof(*w));
	w->mem_fd = -1;
	w->direct_fd = -1;
	w->pipe[0] = w->pipe[1] = w->wb.pipe[0] = w->wb.pipe[1] = -1;
}

int oc_pages_writer_open(struct oc_dump_ctx *ctx, enum oc_img_kind kind, uint64_t id, struct oc_pages_writer *w)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	char path[64];
	int r;

	writer_reset(w);
	w->cache_budget = &ctx->page_cache_budget;
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
	/* A second, direct, description of the same (still nameless) file;
	 * tmpfs and friends refuse O_DIRECT and get page-cache writes only. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", oc_img_fd(w->pages));
	w->direct_fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	_Static_assert(OC_PAGES_BUFS == ARRAY_SIZE(ctx->page_bufs), "one set of buffers per dump");
	for (unsigned i = 0; i < OC_PAGES_BUFS; i++) {
		if (!ctx->page_bufs[i] && posix_memalign((void **)&ctx->page_bufs[i], OC_PAGE_SIZE, COPY_BATCH))
			return -ENOMEM;
		w->bufs[i] = ctx->page_bufs[i];
	}
	return 0;
}

void oc_pages_free_buffers(struct oc_dump_ctx *ctx)
{
	for (unsigned i = 0; i < OC_PAGES_BUFS; i++) {
		free(ctx->page_bufs[i]);
		ctx->page_bufs[i] = NULL;
	}
	free(ctx->scan_words);
	ctx->scan_words = NULL;
}

/* The dump's pagemap buffer (PAGEMAP_BATCH words), or NULL. */
static uint64_t *scan_words(struct oc_dump_ctx *ctx)
{
	if (!ctx->scan_words)
		ctx->scan_words = malloc(PAGEMAP_BATCH * sizeof(*ctx->scan_words));
	return ctx->scan_words;
}

static int read_fully(int fd, uint8_t *buf, size_t len, uint64_t src_off, bool zero_past_eof)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(fd, buf + done, len - done, src_off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return oc_error_errno(-errno, "cannot read memory at 0x%" PRIx64, src_off + done);
		if (n == 0 && !zero_past_eof)
			return oc_error(-EIO, "memory at 0x%" PRIx64 " vanished while being read", src_off + done);
		if (n == 0) {
			/* A file's size need not be a page multiple: pad its last page. */
			memset(buf + done, 0, len - done);
			break;
		}
		done += n;
	}
	return 0;
}

/* All of @len bytes at @off, or -errno; safe in the writer thread (no logging). */
static int pwrite_all(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = pwrite(fd, buf + done, len - done, off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += n;
	}
	return 0;
}

static void pipe_close(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

/*
 * The same through a pipe: the buffer's pages are lent to the pipe and
 * the kernel copies them into the page cache.  The pipe is empty again
 * when this returns, so the buffer may be reused at once.
 */
static int splice_all(int p[2], int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	if (p[0] < 0) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		(void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20); /* a smaller pipe only costs calls */
	}
	for (size_t done = 0; done < len;) {
		struct iovec iov = { (void *)(buf + done), len - done };
		ssize_t n = vmsplice(p[1], &iov, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		for (ssize_t moved = 0; moved < n;) {
			loff_t at = off + done + moved;
			ssize_t k = splice(p[0], NULL, fd, &at, n - moved, 0);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				goto fail;
			moved += k;
		}
		done += n;
	}
	return 0;
fail:;
	int err = errno ? -errno : -EIO;
	pipe_close(p); /* it may still hold what was not written */
	return err;
}

/* One batch into the image; safe in the writer thread. */
static int write_batch(int p[2], int fd, bool direct, const uint8_t *buf, size_t len, uint64_t off)
{
	if (direct)
		return pwrite_all(fd, buf, len, off);
	int r = splice_all(p, fd, buf, len, off);
	/* A filesystem that cannot splice still takes plain writes. */
	return r == -EINVAL ? pwrite_all(fd, buf, len, off) : r;
}

static void *write_behind_main(void *arg)
{
	struct oc_write_behind *wb = arg;

	pthread_mutex_lock(&wb->lock);
	for (;;) {
		while (!wb->busy && !wb->quit)
			pthread_cond_wait(&wb->cond, &wb->lock);
		if (!wb->busy)
			break;
		pthread_mutex_unlock(&wb->lock);
		int err = write_batch(wb->pipe, wb->fd, wb->direct, wb->buf, wb->len, wb->off);
		pthread_mutex_lock(&wb->lock);
		if (err && !wb->err)
			wb->err = err;
		wb->busy = false;
		pthread_cond_broadcast(&wb->cond);
	}
	pthread_mutex_unlock(&wb->lock);
	return NULL;
}

/* Wait until nothing is being written; the first error seen, if any. */
static int write_behind_wait(struct oc_pages_writer *w)
{
	struct oc_write_behind *wb = &w->wb;
	int err;

	if (!wb->started)
		return 0;
	pthread_mutex_lock(&wb->lock);
	while (wb->busy)
		pthread_cond_wait(&wb->cond, &wb->lock);
	err = wb->err;
	pthread_mutex_unlock(&wb->lock);
	return err ? oc_error(err, "%s: write failed: %s", oc_img_name(w->pages), strerror(-err)) : 0;
}

static int write_behind(struct oc_pages_writer *w, const uint8_t *buf, size_t len, uint64_t off, bool direct)
{
	struct oc_write_behind *wb = &w->wb;
	int r;

	if (!wb->started) {
		pthread_mutex_init(&wb->lock, NULL);
		pthread_cond_init(&wb->cond, NULL);
		r = -pthread_create(&wb->thread, NULL, write_behind_main, wb);
		if (r < 0) {
			pthread_cond_destroy(&wb->cond);
			pthread_mutex_destroy(&wb->lock);
			return oc_error(r, "cannot start the image writer thread");
		}
		wb->started = true;
	}
	r = write_behind_wait(w);
	if (r < 0)
		return r;
	pthread_mutex_lock(&wb->lock);
	wb->fd = direct ? w->direct_fd : oc_img_fd(w->pages);
	wb->direct = direct;
	wb->buf = buf;
	wb->len = len;
	wb->off = off;
	wb->busy = true;
	pthread_cond_broadcast(&wb->cond);
	pthread_mutex_unlock(&wb->lock);
	return 0;
}

static void write_behind_stop(struct oc_pages_writer *w)
{
	struct oc_write_behind *wb = &w->wb;

	if (wb->started) {
		pthread_mutex_lock(&wb->lock);
		wb->quit = true;
		pthread_cond_broadcast(&wb->cond);
		pthread_mutex_unlock(&wb->lock);
		pthread_join(wb->thread, NULL); /* it finishes the write in hand first */
		pthread_cond_destroy(&wb->cond);
		pthread_mutex_destroy(&wb->lock);
		wb->started = false;
	}
	pipe_close(wb->pipe);
}

/* Whether the next @len bytes may go through the page cache. */
static bool take_cache_budget(struct oc_pages_writer *w, bool direct_ok, size_t len)
{
	if (!direct_ok)
		return true; /* the only way there is */
	if (*w->cache_budget < (int64_t)len)
		return false;
	*w->cache_budget -= len;
	return true;
}

/*
 * The next @len bytes from the twin's pipe into the image at @off: the
 * pipe's pages go to the page cache, or straight to the disk with
 * O_DIRECT, without a copy of ours.
 */
static int splice_from_pump(struct oc_pages_writer *w, uint64_t off, uint64_t len, bool direct_ok)
{
	struct oc_twin_pump *pump = w->pump;
	unsigned idle_polls = 0;

	while (len) {
		int r = oc_interrupt_check();
		if (r < 0)
			return r;
		size_t want = MIN(len, (uint64_t)PUMP_BATCH);
		bool direct = !take_cache_budget(w, direct_ok, want);
		loff_t at = off;
		ssize_t n = splice(pump->pipe_fd, NULL, direct ? w->direct_fd : oc_img_fd(w->pages), &at, want,
				   SPLICE_F_NONBLOCK);
		if (!direct)
			*w->cache_budget += want - MAX(n, 0); /* what did not go back */
		if (n > 0) {
			oc_testpoint("pump");
			idle_polls = 0;
			*(direct ? &w->direct_bytes : &w->cached_bytes) += n;
			off += n;
			len -= n;
			continue;
		}
		if (n == 0)
			return oc_error(-EIO, "snapshot twin %d stopped sending its pages", pump->twin);
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			/* Nothing yet: wait, and make sure the twin is still at it. */
			struct pollfd pfd = { .fd = pump->pipe_fd, .events = POLLIN };
			r = poll(&pfd, 1, PUMP_POLL_MS);
			if (r < 0 && errno != EINTR)
				return oc_error_errno(-errno, "poll on twin %d's pipe", pump->twin);
			if (r == 0) {
				if (++idle_polls * PUMP_POLL_MS >= PUMP_STALL_MS)
					return oc_error(
						-ETIMEDOUT,
						"snapshot twin %d sent nothing for %u s (is its cgroup frozen?)",
						pump->twin, PUMP_STALL_MS / 1000);
				r = oc_twin_pump_check(pump);
				if (r < 0)
					return r;
			}
			continue;
		}
		if (direct && errno == EINVAL) {
			direct_ok = false; /* no direct splices on this filesystem */
			continue;
		}
		return oc_error_errno(-errno, "%s: cannot splice pages from twin %d", oc_img_name(w->pages),
				      pump->twin);
	}
	return 0;
}

/*
 * Copy @len bytes at @src_off of @fd into the pages image.  A run of
 * several batches is written by a second thread while the next batch is
 * read; the file is extended first, since ext4 serialises direct writes
 * that extend the file.
 */
static int copy_run(struct oc_pages_writer *w, int fd, uint64_t src_off, uint64_t len)
{
	uint64_t off;
	int r = oc_img_reserve(w->pages, len, &off);

	if (r < 0)
		return r;
	bool direct_ok = w->direct_fd >= 0 && off % OC_PAGE_SIZE == 0 && len % OC_PAGE_SIZE == 0;
	bool behind = len > COPY_BATCH;
	if (behind && off + len > w->file_end) {
		if (ftruncate(oc_img_fd(w->pages), off + len) < 0)
			return oc_error_errno(-errno, "%s: cannot extend", oc_img_name(w->pages));
		w->file_end = off + len;
	}
	if (w->pump && fd == w->mem_fd)
		return splice_from_pump(w, off, len, direct_ok);
	while (len) {
		size_t chunk = MIN(len, (uint64_t)COPY_BATCH);
		uint8_t *buf = w->bufs[w->next_buf];
		w->next_buf = (w->next_buf + 1) % OC_PAGES_BUFS;
		r = oc_interrupt_check();
		if (r < 0)
			return r;
		/* Not the buffer the writer still has (the last one handed). */
		if (w->wb.buf == buf) {
			r = write_behind_wait(w);
			if (r < 0)
				return r;
		}
		r = read_fully(fd, buf, chunk, src_off, w->zero_past_eof);
		if (r < 0)
			return r;
		bool direct = !take_cache_budget(w, direct_ok, chunk);
		*(direct ? &w->direct_bytes : &w->cached_bytes) += chunk;
		if (behind) {
			r = write_behind(w, buf, chunk, off, direct);
		} else {
			int fd_out = direct ? w->direct_fd : oc_img_fd(w->pages);
			r = write_batch(w->pipe, fd_out, direct, buf, chunk, off);
			if (r < 0)
				r = oc_error(r, "%s: write failed: %s", oc_img_name(w->pages), strerror(-r));
		}
		if (r < 0)
			return r;
		src_off += chunk;
		off += chunk;
		len -= chunk;
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
	r = copy_run(w, w->run_fd, w->run_src, w->run_pages * OC_PAGE_SIZE);
	if (r < 0)
		return r;
	w->pages_written += w->run_pages;
	w->run_pages = 0;
	return 0;
}

int oc_pages_writer_add(struct oc_pages_writer *w, uint64_t vaddr, uint64_t src_off, uint64_t n_pages)
{
	return oc_pages_writer_add_from(w, w->mem_fd, vaddr, src_off, n_pages);
}

int oc_pages_writer_add_from(struct oc_pages_writer *w, int fd, uint64_t vaddr, uint64_t src_off, uint64_t n_pages)
{
	int r;

	if (w->run_pages && w->run_fd == fd && w->run_start + w->run_pages * OC_PAGE_SIZE == vaddr &&
	    w->run_src + w->run_pages * OC_PAGE_SIZE == src_off) {
		w->run_pages += n_pages;
		return 0;
	}
	r = flush_run(w);
	if (r < 0)
		return r;
	w->run_start = vaddr;
	w->run_fd = fd;
	w->run_src = src_off;
	w->run_pages = n_pages;
	return 0;
}

int oc_pages_writer_flush(struct oc_pages_writer *w)
{
	int r = flush_run(w);
	int e = write_behind_wait(w);

	return r < 0 ? r : e;
}

int oc_pages_writer_commit(struct oc_pages_writer *w)
{
	int r = oc_pages_writer_flush(w);

	if (r < 0)
		return r;
	pr_debug("%s: %" PRIu64 " bytes written through the page cache, %" PRIu64 " direct", oc_img_name(w->pages),
		 w->cached_bytes, w->direct_bytes);
	r = oc_img_commit(w->pages);
	if (r < 0)
		return r;
	return oc_img_commit(w->pagemap);
}

void oc_pages_writer_close(struct oc_pages_writer *w)
{
	write_behind_stop(w); /* before its buffer goes */
	pipe_close(w->pipe);
	oc_img_close(w->pagemap);
	oc_img_close(w->pages);
	if (w->mem_fd >= 0)
		close(w->mem_fd);
	if (w->direct_fd >= 0)
		close(w->direct_fd);
	writer_reset(w);
}

/* Where scanned runs go: a pages writer, or the frozen-copy buffer. */
struct page_sink {
	int (*emit)(struct page_sink *s, uint64_t vaddr, uint64_t n_pages);
	struct oc_pages_writer *w;
	int src_fd; /* the memory the runs are read from */
	struct oc_dump_task *t;
	struct iovec *runs; /* sink_to_list: the runs, contiguous ones merged */
	size_t n_runs, cap_runs;
	VmaEntry *const *guards; /* the task's guard regions, by address */
	size_t n_guards, next_guard;
};

/* The guard regions of @mm for @s to leave out. */
static void sink_set_guards(struct page_sink *s, const MmEntry *mm)
{
	size_t first = oc_mm_first_guard(mm);

	s->guards = mm->vmas + first;
	s->n_guards = mm->n_vmas - first;
	s->next_guard = 0;
}

/* Emit a run less the guard regions in it: reading one of their pages
 * fails.  Runs come in ascending order within a VMA. */
static int emit_unguarded(struct page_sink *s, uint64_t vaddr, uint64_t n_pages)
{
	uint64_t end = vaddr + n_pages * OC_PAGE_SIZE;

	if (s->next_guard && s->guards[s->next_guard - 1]->end > vaddr)
		s->next_guard = 0; /* a lower address than the last: look from the start */
	for (; s->next_guard < s->n_guards && vaddr < end; s->next_guard++) {
		const VmaEntry *g = s->guards[s->next_guard];
		if (g->end <= vaddr)
			continue;
		if (g->start >= end)
			break;
		if (g->start > vaddr) {
			int r = s->emit(s, vaddr, (g->start - vaddr) / OC_PAGE_SIZE);
			if (r < 0)
				return r;
		}
		vaddr = g->end;
		if (vaddr >= end)
			break;
	}
	return vaddr < end ? s->emit(s, vaddr, (end - vaddr) / OC_PAGE_SIZE) : 0;
}

static int sink_to_list(struct page_sink *s, uint64_t vaddr, uint64_t n_pages)
{
	struct iovec *last = s->n_runs ? &s->runs[s->n_runs - 1] : NULL;

	if (last && (uint64_t)last->iov_base + last->iov_len == vaddr) {
		last->iov_len += n_pages * OC_PAGE_SIZE;
		return 0;
	}
	if (s->n_runs == s->cap_runs) {
		size_t cap = s->cap_runs ? 2 * s->cap_runs : 64;
		struct iovec *runs = reallocarray(s->runs, cap, sizeof(*runs));
		if (!runs)
			return -ENOMEM;
		s->runs = runs;
		s->cap_runs = cap;
	}
	s->runs[s->n_runs++] = (struct iovec){ (void *)vaddr, n_pages * OC_PAGE_SIZE };
	return 0;
}

static int sink_to_writer(struct page_sink *s, uint64_t vaddr, uint64_t n_pages)
{
	return oc_pages_writer_add_from(s->w, s->src_fd, vaddr, vaddr, n_pages);
}

/*
 * PAGEMAP_SCAN: the kernel hands back only the runs worth saving, already
 * merged.  Anonymous memory: present or swapped, but not the shared zero
 * page (it reads back as zeros anyway).  File-backed private memory: only
 * pages that are no longer the file's.  Returns -ENOTTY on kernels without it.
 */
static int scan_vma_ioctl(struct page_sink *sink, int pagemap_fd, const VmaEntry *ve, struct oc_page_region *regions)
{
	bool file = ve->status & VMA_FILE_PRIVATE;
	struct oc_pm_scan_arg arg = {
		.size = sizeof(arg),
		.start = ve->start,
		.end = ve->end,
		.vec = (uintptr_t)regions,
		.vec_len = SCAN_REGIONS,
		.category_inverted = file ? PAGE_IS_FILE : 0,
		.category_mask = file ? PAGE_IS_FILE : 0,
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		.return_mask = PAGE_IS_PFNZERO,
	};

	/* The kernel may report regions past the walk_end it returns; what
	 * was reported once is never emitted twice. */
	uint64_t done_until = ve->start;
	while (arg.start < ve->end) {
		long n = ioctl(pagemap_fd, OC_PAGEMAP_SCAN, &arg);
		if (n < 0)
			return errno == ENOTTY || errno == EINVAL
				       ? -ENOTTY
				       : oc_error_errno(-errno, "PAGEMAP_SCAN at 0x%" PRIx64, (uint64_t)arg.start);
		for (long i = 0; i < n; i++) {
			uint64_t start = MAX(regions[i].start, done_until);
			if (start >= regions[i].end)
				continue;
			done_until = regions[i].end;
			if (regions[i].categories & PAGE_IS_PFNZERO)
				continue;
			int r = emit_unguarded(sink, start, (regions[i].end - start) / OC_PAGE_SIZE);
			if (r < 0)
				return r;
		}
		uint64_t next = MAX((uint64_t)arg.walk_end, done_until);
		if (next <= arg.start)
			break;
		arg.start = next;
	}
	return 0;
}

/* Walk one VMA's pagemap and queue the pages worth saving. */
static int scan_vma(struct page_sink *sink, int pagemap_fd, const VmaEntry *ve, uint64_t *words, uint64_t *ret_scanned)
{
	static bool no_scan_ioctl;
	bool all = ve->status & VMA_AREA_VDSO;
	bool file = ve->status & VMA_FILE_PRIVATE;
	uint64_t n_pages = (ve->end - ve->start) / OC_PAGE_SIZE;

	if (!all && !no_scan_ioctl) {
		struct oc_page_region *regions = (void *)words; /* reuse the buffer */
		int r = scan_vma_ioctl(sink, pagemap_fd, ve, regions);
		if (r != -ENOTTY) {
			*ret_scanned += n_pages;
			return r;
		}
		no_scan_ioctl = true;
	}

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
			int r = emit_unguarded(sink, vaddr + i * OC_PAGE_SIZE, 1);
			if (r < 0)
				return r;
		}
		done += batch;
	}
	*ret_scanned += n_pages;
	return 0;
}

static bool vma_has_pages(const VmaEntry *ve)
{
	return oc_vma_private(ve->status, ve->end) && !(ve->status & VMA_AREA_VVAR) && !(ve->flags & OC_MAP_DROPPABLE);
}

/*
 * Memory a forked twin does not share: it must be read while frozen.  And
 * huge TLB pages: a write by the running task would need a free huge page
 * for its copy, and without one the kernel takes the page from the twin.
 */
static bool vma_not_in_twin(const VmaEntry *ve)
{
	return (ve->status & VMA_AREA_AIORING) ||
	       (ve->has_madv && (ve->madv & ((1ull << MADV_DONTFORK) | (1ull << MADV_WIPEONFORK)))) ||
	       (ve->flags & MAP_HUGETLB);
}

static int open_proc(pid_t pid, const char *name)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? oc_error_errno(-errno, "cannot open %s", path) : fd;
}

/* Let the twin move its own pages, when there are enough to be worth it. */
static void start_pump(struct oc_dump_task *t, struct page_sink *list, struct oc_twin_pump *pump,
		       struct oc_pages_writer *w)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < list->n_runs; i++)
		bytes += list->runs[i].iov_len;
	if (bytes < PUMP_MIN || getenv("OCICR_NO_TWIN_PUMP"))
		return;
	/* Its seccomp filter, inherited from the task, might kill it for
	 * a system call the task never makes: read it from outside. */
	if (t->seccomp_suspended)
		return;
	if (oc_twin_pump_start(t->twin, t->syscall_ip, list->runs, list->n_runs, pump) < 0) {
		pr_debug("task %d: twin %d cannot send its pages (%s); reading them", t->pid, t->twin,
			 oc_error_message());
		oc_twin_pump_close(pump);
		return;
	}
	pr_debug("task %d: twin %d sends %zu runs of pages down a pipe", t->pid, t->twin, list->n_runs);
	w->pump = pump;
}

/*
 * Write the pagemap and pages images of @t, scanning and reading the
 * memory of @src (the task itself, or its twin).  VMAs the twin lacks take
 * their pages from the frozen copy in t->frozen_fd.  A twin's runs are
 * listed first, so that it can be handed them all.
 */
static int write_task_pages(struct oc_dump_task *t, pid_t src)
{
	struct oc_dump_ctx *ctx = t->ctx;
	uint64_t *words = scan_words(ctx);
	_cleanup_close_ int pagemap_fd = -1;
	struct oc_twin_pump pump = { .pipe_fd = -1 };
	struct page_sink list = { .emit = sink_to_list };
	sink_set_guards(&list, t->mm);
	bool twin = src != t->pid;
	struct oc_pages_writer w;
	size_t next_run = 0;
	int r;

	if (!words)
		return -ENOMEM;
	pagemap_fd = open_proc(src, "pagemap");
	if (pagemap_fd < 0)
		return pagemap_fd;
	r = oc_pages_writer_open(ctx, OC_IMG_PAGEMAP, t->vpid, &w);
	if (r < 0)
		goto out;
	w.mem_fd = open_proc(src, "mem");
	if (w.mem_fd < 0) {
		r = w.mem_fd;
		goto out;
	}
	t->pages_id = w.pages_id;

	for (size_t i = 0; twin && i < t->mm->n_vmas; i++) {
		const VmaEntry *ve = t->mm->vmas[i];
		if (vma_has_pages(ve) && !vma_not_in_twin(ve)) {
			r = scan_vma(&list, pagemap_fd, ve, words, &ctx->pages_scanned);
			if (r < 0)
				goto out;
		}
	}
	if (twin)
		start_pump(t, &list, &pump, &w);

	struct page_sink sink = { .emit = sink_to_writer, .w = &w, .src_fd = w.mem_fd, .t = t };
	sink_set_guards(&sink, t->mm);
	for (size_t i = 0; i < t->mm->n_vmas; i++) {
		const VmaEntry *ve = t->mm->vmas[i];
		if (!vma_has_pages(ve))
			continue;
		if (twin && vma_not_in_twin(ve)) {
			for (size_t k = 0; k < t->n_frozen_runs; k++)
				if (t->frozen_runs[k].vaddr >= ve->start && t->frozen_runs[k].vaddr < ve->end) {
					r = oc_pages_writer_add_from(&w, t->frozen_fd, t->frozen_runs[k].vaddr,
								     t->frozen_runs[k].vaddr,
								     t->frozen_runs[k].n_pages);
					if (r < 0)
						goto out;
				}
			continue;
		}
		if (!twin) {
			r = scan_vma(&sink, pagemap_fd, ve, words, &ctx->pages_scanned);
			if (r < 0)
				goto out;
			continue;
		}
		for (; next_run < list.n_runs && (uint64_t)list.runs[next_run].iov_base < ve->end; next_run++) {
			uint64_t at = (uint64_t)list.runs[next_run].iov_base;
			r = oc_pages_writer_add(&w, at, at, list.runs[next_run].iov_len / OC_PAGE_SIZE);
			if (r < 0)
				goto out;
		}
	}
	/* Every byte of the twin's is in: it must have sent them all. */
	r = oc_pages_writer_flush(&w);
	if (r >= 0 && w.pump)
		r = oc_twin_pump_finish(w.pump);
	if (r >= 0)
		r = oc_pages_writer_commit(&w);
	ctx->pages_written += w.pages_written;
	pr_debug("task %d: %" PRIu64 " pages saved as pages-%u.img", t->pid, w.pages_written, w.pages_id);
out:
	oc_twin_pump_close(&pump);
	oc_pages_writer_close(&w);
	free(list.runs);
	return r;
}

/* Copy a run the twin will not have into the frozen copy, by address. */
static int sink_to_frozen(struct page_sink *s, uint64_t vaddr, uint64_t n_pages)
{
	struct oc_dump_task *t = s->t;
	uint8_t buf[64 * 1024];

	for (uint64_t off = 0; off < n_pages * OC_PAGE_SIZE; off += sizeof(buf)) {
		size_t len = MIN(sizeof(buf), n_pages * OC_PAGE_SIZE - off);
		if (pread(s->src_fd, buf, len, vaddr + off) != (ssize_t)len ||
		    pwrite(t->frozen_fd, buf, len, vaddr + off) != (ssize_t)len)
			return oc_error_errno(-errno, "cannot copy memory at 0x%" PRIx64, vaddr + off);
	}
	void *n = realloc(t->frozen_runs, (t->n_frozen_runs + 1) * sizeof(*t->frozen_runs));
	if (!n)
		return -ENOMEM;
	t->frozen_runs = n;
	t->frozen_runs[t->n_frozen_runs].vaddr = vaddr;
	t->frozen_runs[t->n_frozen_runs++].n_pages = n_pages;
	return 0;
}

/*
 * A task's stack pointer for the copies fork_twin() makes: page 0, never
 * mapped.  Were one let go before it is set to die with us, its first
 * instruction that touches the stack would kill it (all its signals are
 * blocked, as they were for the remote call that made it).
 */
#define TWIN_NO_STACK 16ul

/* The first stop of a task that our ptrace took on at its birth. */
static int take_new_child(pid_t pid, int options)
{
	int st;

	while (waitpid(pid, &st, __WALL) < 0)
		if (errno != EINTR)
			return oc_error_errno(-errno, "waiting for new task %d", pid);
	if (!WIFSTOPPED(st))
		return oc_error(-ECHILD, "new task %d did not stop", pid);
	if (ptrace(PTRACE_SETOPTIONS, pid, 0, options) < 0)
		return oc_error_errno(-errno, "task %d: PTRACE_SETOPTIONS", pid);
	return 0;
}

/* Kill @mid (@mid_inner in @t's pid namespace), a child of @t's, and reap
 * it from inside @t. */
static void drop_middle(struct oc_dump_task *t, pid_t mid, pid_t mid_inner)
{
	long res = 0;

	kill(mid, SIGKILL);
	for (;;) {
		int st;
		pid_t w = waitpid(mid, &st, __WALL);
		if ((w < 0 && errno != EINTR) || (w == mid && (WIFEXITED(st) || WIFSIGNALED(st))))
			break;
	}
	if (oc_remote_syscall(&t->threads[0].rs, SYS_wait4, &res, mid_inner, 0, WNOHANG | __WALL, 0, 0, 0) < 0 ||
	    res != mid_inner)
		pr_warn("task %d: cannot reap %d, the snapshot twin's parent (%ld)", t->pid, mid, res);
}

/*
 * With its parent gone, a twin is adopted by the nearest subreaper above
 * it, or the init of its pid namespace.  Note which task of the tree that
 * is, if one is (a subreaper, or the root as the init of the tree's own
 * namespace), and the twin's pid as that task sees it: the twin is reaped
 * from inside it (dump.c), which must not find a child it did not make.
 */
static int find_twin_adopter(struct oc_dump_task *t)
{
	struct oc_dump_ctx *ctx = t->ctx;
	struct oc_proc_status st = {}, as = {};
	int r = oc_proc_read_thread_status(t->twin, t->twin, &st);

	t->twin_adopter = -1;
	for (size_t i = 0; r >= 0 && i < ctx->n_tasks; i++) {
		if (ctx->tasks[i].pid != st.ppid)
			continue;
		r = oc_proc_read_thread_status(st.ppid, st.ppid, &as);
		if (r >= 0 && (!as.n_nspid || as.n_nspid > st.n_nspid))
			r = oc_error(-EINVAL, "task %d: cannot tell the pid of its twin %d in task %d", t->pid, t->twin,
				     st.ppid);
		if (r < 0)
			break;
		t->twin_adopter = i;
		t->twin_vpid = st.nspid[as.n_nspid - 1];
		pr_debug("task %d: twin %d adopted by task %d, which sees it as %d", t->pid, t->twin, st.ppid,
			 t->twin_vpid);
		break;
	}
	oc_proc_status_clear(&as);
	oc_proc_status_clear(&st);
	return r;
}

/*
 * The copy-on-write twin: a fork of the frozen task that shares every
 * private page with it, copy on write, and stays stopped under our ptrace
 * until its pages are read.  It must not be the task's child: a twin that
 * died with us would stay its zombie, and a child the task did not make.
 * So the task clones a middle process that shares its memory (CLONE_VM: a
 * short call, the task lends its registers for no longer), the middle
 * forks the twin (the page-table copy, on the middle's registers) and is
 * killed and reaped by the task at once; the orphaned twin goes to the
 * nearest subreaper or init (find_twin_adopter()).  Both die with us
 * (PTRACE_O_EXITKILL).
 */
static int fork_twin(struct oc_dump_task *t)
{
	const int opts = oc_seccomp_ptrace_opts(t) | PTRACE_O_EXITKILL;
	pid_t leader = t->threads[0].seized->tid;
	struct oc_remote rs;
	int r;

	if (ptrace(PTRACE_SETOPTIONS, leader, 0, oc_seccomp_ptrace_opts(t) | PTRACE_O_TRACECLONE) < 0)
		return oc_error_errno(-errno, "task %d: PTRACE_SETOPTIONS", t->pid);
	/* Exit signal 0: the task's own wait() never sees it.  A clone
	 * answers with a pid in the task's pid namespace; ours may differ. */
	long mid = oc_remote_call(&t->threads[0].rs, "clone of the snapshot twin's parent", SYS_clone, CLONE_VM,
				  TWIN_NO_STACK, 0, 0);
	ptrace(PTRACE_SETOPTIONS, leader, 0, oc_seccomp_ptrace_opts(t));
	if (mid < 0)
		return mid;
	pid_t mid_outer = mid;
	r = t->ctx->own_pidns || t->n_ns_pids ? oc_ns_outer_child(leader, mid, &mid_outer) : 0;
	if (r >= 0)
		r = take_new_child(mid_outer, opts | PTRACE_O_TRACECLONE);
	oc_testpoint("twin");
	if (r >= 0)
		r = oc_remote_begin(mid_outer, t->syscall_ip, 0, &rs);
	long twin = r < 0 ? r : oc_remote_call(&rs, "fork of the snapshot twin", SYS_clone, 0, TWIN_NO_STACK, 0, 0);
	if (twin > 0) {
		/* The middle is in the task's namespace for children, which
		 * is not its own after an unshare(CLONE_NEWPID): ask always. */
		pid_t twin_outer = twin;
		r = oc_ns_outer_child(mid_outer, twin, &twin_outer);
		if (r >= 0) {
			t->twin = twin_outer;
			r = take_new_child(twin_outer, opts);
		}
		/* Its stack holds the task's remote-call frame and scratch,
		 * which vary from dump to dump: the task's own bytes go back. */
		if (r >= 0)
			r = oc_remote_undo_in(&t->threads[0].rs, twin_outer);
	} else if (r >= 0) {
		r = twin;
	}
	drop_middle(t, mid_outer, mid);
	if (t->twin > 0) {
		int a = find_twin_adopter(t);
		r = r < 0 ? r : a;
	}
	return r;
}

int oc_dump_pages(struct oc_dump_task *t)
{
	struct oc_dump_ctx *ctx = t->ctx;
	uint64_t t0 = oc_now_us();
	int r;

	if (!ctx->cow) {
		r = write_task_pages(t, t->pid);
		ctx->memdump_us += oc_now_us() - t0;
		return r;
	}

	/* Snapshot: what a twin cannot hold is read now, the rest later. */
	t->frozen_fd = -1;
	for (size_t i = 0; i < t->mm->n_vmas; i++) {
		const VmaEntry *ve = t->mm->vmas[i];
		if (!vma_has_pages(ve) || !vma_not_in_twin(ve))
			continue;
		if (t->frozen_fd < 0) {
			t->frozen_fd = memfd_create("ocicr-frozen", MFD_CLOEXEC);
			if (t->frozen_fd < 0)
				return oc_error_errno(-errno, "memfd_create");
		}
		uint64_t *words = scan_words(ctx);
		_cleanup_close_ int pagemap_fd = open_proc(t->pid, "pagemap");
		_cleanup_close_ int mem_fd = open_proc(t->pid, "mem");
		if (!words)
			return -ENOMEM;
		if (pagemap_fd < 0 || mem_fd < 0)
			return pagemap_fd < 0 ? pagemap_fd : mem_fd;
		struct page_sink sink = { .emit = sink_to_frozen, .src_fd = mem_fd, .t = t };
		sink_set_guards(&sink, t->mm);
		r = scan_vma(&sink, pagemap_fd, ve, words, &ctx->pages_scanned);
		if (r < 0)
			return r;
	}
	r = fork_twin(t);
	ctx->memdump_us += oc_now_us() - t0;
	return r;
}

int oc_dump_pages_from_twin(struct oc_dump_task *t)
{
	uint64_t t0 = oc_now_us();
	int r = write_task_pages(t, t->twin);

	t->ctx->memwrite_us += oc_now_us() - t0;
	return r;
}

/* ---- restore ------------------------------------------------------------- */

/* A run may be cut in pieces by premapped VMAs: at most one more piece per
 * premapped VMA. */
static void pages_reserve(const struct oc_rst_task *t, struct oc_rst_area_counts *c)
{
	for (size_t i = 0; i < t->n_pagemap; i++)
		if (!t->pagemap[i]->has_flags || (t->pagemap[i]->flags & PE_PRESENT))
			c->runs++;
	for (size_t i = 0; t->vma_cow && i < t->mm->n_vmas; i++)
		c->runs += t->vma_cow[i] ? 1 : 0;
}

int oc_rst_fill_runs(struct oc_rst_task *t, const struct oc_rst_vdso *vd, struct oc_rst_args *a)
{
	struct oc_rst_area_counts c = {};

	pages_reserve(t, &c);
	/* Runs in pagemap order are consecutive in the pages file. */
	if (c.runs && t->pages_fd < 0)
		return oc_error(-ENOENT, "pages-%u.img: missing", t->pages_id);
	a->pages_fd = t->pages_fd;
	uint64_t off = 0;
	for (size_t i = 0; i < t->n_pagemap; i++) {
		PagemapEntry *pe = t->pagemap[i];
		if (pe->has_flags && !(pe->flags & PE_PRESENT))
			continue;
		uint64_t np = pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		if (!oc_rst_vdso_has_page(vd, pe->vaddr)) {
			/* Pages of premapped VMAs are in place already. */
			uint64_t end = pe->vaddr + np * OC_PAGE_SIZE;
			for (uint64_t at = pe->vaddr, next; at < end; at = next) {
				bool premapped;
				next = oc_rst_cow_piece(t, at, end, &premapped);
				if (!premapped)
					a->runs[a->n_runs++] = (struct oc_rst_run){ at, (next - at) / OC_PAGE_SIZE,
										    off + (at - pe->vaddr) };
			}
		}
		off += np * OC_PAGE_SIZE;
	}
	return 0;
}

/* Restored with the memory map (mem/mm.c), whose VMAs say where. */
const struct oc_task_kind oc_task_kind_pages = {
	.name = "memory contents",
	.dump = oc_dump_pages,
	.reserve = pages_reserve,
	.plan_steps = OC_STEP_BIT(OC_STEP_PREMAP), /* shared copy-on-write */
	.plan_task = oc_cow_plan,
};
