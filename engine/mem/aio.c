// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * AIO rings (io_setup): each context is a shared mapping of the kernel's
 * "/[aio]" file whose address is the context id.  As CRIU 4.2 saves one: a
 * VMA of status VMA_AREA_AIORING whose pages are in the pages image like
 * private memory, and an aio_ring_entry in the mm (its address, length and
 * the io_setup() size that makes a ring of that length).
 *
 * The restorer reads the saved ring into anonymous memory at its address,
 * makes a new context of the same size, completes requests on it until the
 * kernel's own tail is the saved one, copies the events and the head in,
 * and moves the new ring over the saved copy with mremap(), which makes
 * the old address the context's id again.  Requests still in flight at the
 * dump are not seen (the kernel shows them nowhere); completed events are
 * kept.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/aio_abi.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "res/kind.h"
#include "mem/aio.h"
#include "mem/mm.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "mm.pb-c.h"
#include "vma.pb-c.h"

#define AIO_RING_MAGIC 0xa10a10a1u

/* The ring's header as the kernel lays it out (fs/aio.c). */
struct aio_ring_head {
	uint32_t id, nr, head, tail;
	uint32_t magic, compat_features, incompat_features, header_length;
};

bool oc_vma_is_aio_ring(pid_t pid, const struct oc_proc_vma *v)
{
	char path[96];
	struct stat st;

	if (v->kind != OC_VMA_FILE || !v->deleted || !v->shared || strcmp(v->path, "/[aio]"))
		return false;
	/* The kernel's ring file has no file type; a real file so named has. */
	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, v->start, v->end);
	return stat(path, &st) < 0 || !(st.st_mode & S_IFMT);
}

uint32_t oc_aio_ring_events(uint64_t len)
{
	return len < sizeof(struct aio_ring_head) ? 0 : (len - sizeof(struct aio_ring_head)) / sizeof(struct io_event);
}

uint32_t oc_aio_nr_req(uint64_t len)
{
	/*
	 * io_setup(n) doubles n (raised to 4 per CPU first), adds 2, and
	 * rounds the ring up to whole pages, all of which hold events: the
	 * ring's length tells its event count, and half of that less two
	 * makes a ring of the same length again.
	 */
	uint32_t events = oc_aio_ring_events(len);

	return events > 2 ? (events - 2) / 2 : 0;
}

static int read_ring_head(pid_t pid, uint64_t addr, struct aio_ring_head *h)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot open %s", path);
	if (pread(fd, h, sizeof(*h), addr) != sizeof(*h))
		return oc_error_errno(errno ? -errno : -EIO, "task %d: cannot read the AIO ring at 0x%" PRIx64, pid,
				      addr);
	return 0;
}

static int add_ring_entry(struct oc_dump_task *t, MmEntry *mm, const struct oc_proc_vma *v, uint32_t nr_req)
{
	struct oc_arena *a = t->ctx->arena;
	AioRingEntry *re = OC_ARENA_MSG(a, AioRingEntry, AIO_RING_ENTRY__INIT);
	AioRingEntry **aios = OC_ARENA_ARRAY(a, AioRingEntry *, mm->n_aios + 1);

	if (!re || !aios)
		return -ENOMEM;
	re->id = v->start;
	re->ring_len = v->end - v->start;
	re->nr_req = nr_req;
	if (mm->n_aios)
		memcpy(aios, mm->aios, mm->n_aios * sizeof(*aios));
	aios[mm->n_aios] = re;
	mm->aios = aios;
	mm->n_aios++;
	return 0;
}

int oc_dump_aio_ring(struct oc_dump_task *t, const struct oc_proc_vma *v, VmaEntry *ve, MmEntry *mm)
{
	uint64_t len = v->end - v->start;
	uint32_t events = oc_aio_ring_events(len), nr_req = oc_aio_nr_req(len);
	struct aio_ring_head h;
	long res = 0;
	int r;

	r = read_ring_head(t->pid, v->start, &h);
	if (r < 0)
		return r;
	if (h.magic != AIO_RING_MAGIC || h.header_length != sizeof(h) || h.incompat_features || h.nr != events ||
	    h.head >= h.nr || h.tail >= h.nr || !nr_req)
		return oc_error(-EINVAL,
				"task %d: AIO ring at 0x%" PRIx64 " (%" PRIu64 " bytes) has a header the kernel "
				"did not write (magic 0x%x, %u events, head %u, tail %u)",
				t->pid, v->start, len, h.magic, h.nr, h.head, h.tail);
	/* Reaping nothing tells whether the ring is this task's context or
	 * a mapping it inherited over fork() without one. */
	r = oc_remote_syscall(&t->threads[0].rs, SYS_io_getevents, &res, v->start, 0, 0, 0, 0, 0);
	if (r < 0)
		return r;
	if (res < 0)
		pr_warn("task %d: the AIO ring at 0x%" PRIx64 " is not a context of its own (inherited over "
			"fork?); it is restored as one",
			t->pid, v->start);
	ve->status = VMA_AREA_AIORING;
	ve->flags = MAP_SHARED;
	ve->has_fdflags = true;
	ve->fdflags = O_RDWR;
	pr_debug("task %d: AIO ring at 0x%" PRIx64 ", %u events, head %u, tail %u", t->pid, v->start, h.nr, h.head,
		 h.tail);
	return add_ring_entry(t, mm, v, nr_req);
}

/* ---- restore ------------------------------------------------------------- */

void oc_rst_aio_reserve(const struct oc_rst_task *t, struct oc_rst_area_counts *c)
{
	c->aio_rings += t->mm->n_aios;
}

int oc_rst_aio_fill(const struct oc_rst_task *t, const VmaEntry *v, struct oc_rst_args *a, struct oc_rst_vma *rv)
{
	const MmEntry *mm = t->mm;

	for (size_t i = 0; i < mm->n_aios; i++) {
		const AioRingEntry *re = mm->aios[i];
		if (re->id != v->start)
			continue;
		if (t->aio_null_fd < 0)
			return oc_error(-EBADF, "task %d: no /dev/null for its AIO rings", t->pid);
		/* The saved ring is read into anonymous memory first. */
		*rv = (struct oc_rst_vma){
			.start = v->start,
			.end = v->end,
			.prot = PROT_READ | PROT_WRITE,
			.flags = MAP_PRIVATE | MAP_ANONYMOUS,
			.fd = -1,
			.has_pages = 1,
		};
		a->aio_rings[a->n_aio_rings++] = (struct oc_rst_aio_ring){
			.addr = re->id,
			.len = re->ring_len,
			.nr_req = re->nr_req,
		};
		a->aio_null_fd = t->aio_null_fd;
		return 0;
	}
	return oc_error(-EINVAL, "mm-%d.img: AIO ring VMA 0x%" PRIx64 " has no aio entry", t->pid, v->start);
}
