// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The memory map: every VMA as /proc/PID/smaps shows it, encoded as CRIU
 * 4.2 does, plus the mm fields (code/data/brk/stack/arg/env bounds, auxv,
 * exe file, dumpable, THP).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>

#include "res/kind.h"
#include "mem/aio.h"
#include "mem/guard.h"
#include "mem/mm.h"
#include "mem/pages.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "vma.pb-c.h"

#define AUXV_WORDS_MAX 44

/* madvise() bits CRIU keeps in vma_entry.madv, from smaps VmFlags. */
static const struct {
	uint64_t vmflag;
	int madv;
} madv_flags[] = {
	{ OC_VMF_RR, MADV_RANDOM },    { OC_VMF_SR, MADV_SEQUENTIAL }, { OC_VMF_DC, MADV_DONTFORK },
	{ OC_VMF_MG, MADV_MERGEABLE }, { OC_VMF_HG, MADV_HUGEPAGE },   { OC_VMF_NH, MADV_NOHUGEPAGE },
	{ OC_VMF_DD, MADV_DONTDUMP },  { OC_VMF_WF, MADV_WIPEONFORK },
};

static void vma_set_madv(VmaEntry *ve, uint64_t vmflags)
{
	uint64_t madv = 0;

	for (size_t i = 0; i < ARRAY_SIZE(madv_flags); i++)
		if (vmflags & madv_flags[i].vmflag)
			madv |= 1ull << madv_flags[i].madv;
	if (madv) {
		ve->has_madv = true;
		ve->madv = madv;
	}
}

static int dump_file_vma(struct oc_dump_task *t, const struct oc_proc_vma *v, VmaEntry *ve)
{
	char name[96];
	uint32_t id;
	int r;

	/* The mapped file itself, even if its path changed or is gone. */
	snprintf(name, sizeof(name), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, t->pid, v->start, v->end);
	r = oc_dump_path_file(t, name, -1, &id);
	if (r < 0)
		return oc_error_wrap(r, "mapping %" PRIx64 "-%" PRIx64 " of %s", v->start, v->end, v->path);
	ve->shmid = id;
	ve->pgoff = v->pgoff;
	ve->has_fdflags = true;
	if (v->shared) {
		ve->status |= VMA_FILE_SHARED;
		ve->flags = MAP_SHARED;
		ve->fdflags = (v->prot & PROT_WRITE) || (v->vmflags & OC_VMF_MW) ? O_RDWR : O_RDONLY;
	} else {
		ve->status |= VMA_FILE_PRIVATE;
		ve->flags = MAP_PRIVATE;
		ve->fdflags = O_RDONLY;
	}
	return 0;
}

static bool is_shmem_anon(const struct oc_proc_vma *v)
{
	return v->kind == OC_VMA_FILE && v->deleted &&
	       (!strcmp(v->path, "/dev/zero") || !strncmp(v->path, "/memfd:", 7));
}

/*
 * A SysV shared memory attachment: the segment (its inode number is its
 * id) and its contents belong to the ipc namespace, which is dumped with
 * the root's; the blob attaches it again.
 */
static int dump_sysv_vma(struct oc_dump_task *t, const struct oc_proc_vma *v, VmaEntry *ve)
{
	if (!t->ids || t->ids->ipc_ns_id == t->ctx->own_ns_ids[OC_NS_IPC])
		return oc_error(-EOPNOTSUPP,
				"VMA %" PRIx64 "-%" PRIx64 " is a SysV shared memory segment of "
				"ocicr's own ipc namespace: only a tree with an ipc namespace of its own can be "
				"dumped with one",
				v->start, v->end);
	if (v->pgoff)
		return oc_error(-EOPNOTSUPP,
				"VMA %" PRIx64 "-%" PRIx64 " maps SysV shared memory %" PRIu64 " from offset %" PRIu64
				": only whole attachments are supported",
				v->start, v->end, (uint64_t)v->inode, v->pgoff);
	/* As CRIU marks it: anonymous shared memory that is a SysV one (CRIU
	 * attaches it again only so). */
	ve->status |= VMA_ANON_SHARED | VMA_AREA_SYSVIPC;
	ve->shmid = v->inode;
	ve->flags = MAP_SHARED | MAP_ANONYMOUS;
	ve->has_fdflags = true;
	ve->fdflags = (v->prot & PROT_WRITE) || (v->vmflags & OC_VMF_MW) ? O_RDWR : O_RDONLY;
	return 0;
}

uint32_t oc_hugetlb_size_bits(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != HUGETLBFS_MAGIC || sfs.f_bsize <= 0 ||
	    (sfs.f_bsize & (sfs.f_bsize - 1)))
		return 0;
	return (uint32_t)__builtin_ctzl(sfs.f_bsize) << MAP_HUGE_SHIFT;
}

static int hugetlb_size_flag(struct oc_dump_task *t, const struct oc_proc_vma *v, uint32_t *ret_flag)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, t->pid, v->start, v->end);
	_cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "VMA %" PRIx64 "-%" PRIx64 " of huge pages: cannot open it", v->start,
				      v->end);
	uint32_t bits = oc_hugetlb_size_bits(fd);
	if (!bits)
		return oc_error(-EINVAL, "VMA %" PRIx64 "-%" PRIx64 " uses huge TLB pages but is not on hugetlbfs",
				v->start, v->end);
	*ret_flag = MAP_HUGETLB | bits;
	return 0;
}

/*
 * A mapping of huge TLB pages, as CRIU saves it: private anonymous
 * memory with its pages in the task's pages image, or shared anonymous
 * memory or a memfd (mapped shared or private) saved as a memfd of huge
 * pages (res/fd/shmem.c);
 * the page size rides in the mmap flags.  Files of a hugetlbfs mount are
 * not supported.
 */
static int dump_hugetlb_vma(struct oc_dump_task *t, const struct oc_proc_vma *v, VmaEntry *ve)
{
	bool anon = v->kind == OC_VMA_FILE && v->deleted && !strcmp(v->path, "/anon_hugepage");
	uint32_t flag = 0;
	int r = hugetlb_size_flag(t, v, &flag);

	if (r < 0)
		return r;
	if (anon && !v->shared) {
		ve->status |= VMA_ANON_PRIVATE;
		ve->flags |= flag;
		return 0;
	}
	if (!anon && strncmp(v->path, "/memfd:", 7))
		return oc_error(-EOPNOTSUPP,
				"VMA %" PRIx64 "-%" PRIx64
				" (%s) maps huge TLB pages of a hugetlbfs file, which is not "
				"supported yet",
				v->start, v->end, v->path);
	r = oc_dump_shmem_vma(t, v, ve);
	ve->flags |= flag;
	return r;
}

static int dump_one_vma(struct oc_dump_task *t, const struct oc_proc_vma *v, VmaEntry *ve, MmEntry *mm)
{
	ve->start = v->start;
	ve->end = v->end;
	ve->prot = v->prot;
	ve->fd = -1;
	ve->status = VMA_AREA_REGULAR;
	ve->flags = MAP_PRIVATE | MAP_ANONYMOUS;

	if (v->vmflags & OC_VMF_GD)
		ve->flags |= MAP_GROWSDOWN;
	if (v->vmflags & OC_VMF_LO)
		ve->flags |= MAP_LOCKED;
	if (v->vmflags & OC_VMF_NR)
		ve->flags |= MAP_NORESERVE;
	/* Private in maps, but a mapping type of its own; its pages are
	 * the kernel's to drop, so none are saved (mem/pages.c). */
	if ((v->vmflags & OC_VMF_DP) && (v->kind == OC_VMA_ANON || v->kind == OC_VMA_ANON_NAMED) && !v->shared)
		ve->flags = (ve->flags & ~MAP_PRIVATE) | OC_MAP_DROPPABLE;
	vma_set_madv(ve, v->vmflags);
	if (v->vmflags & OC_VMF_HT)
		return dump_hugetlb_vma(t, v, ve);

	switch (v->kind) {
	case OC_VMA_VSYSCALL:
		ve->status = VMA_AREA_VSYSCALL | VMA_ANON_PRIVATE;
		return 0;
	case OC_VMA_VDSO:
		ve->status |= VMA_AREA_VDSO | VMA_ANON_PRIVATE;
		return 0;
	case OC_VMA_VVAR:
	case OC_VMA_VVAR_VCLOCK:
		ve->status |= VMA_ANON_PRIVATE | VMA_AREA_VVAR;
		return 0;
	case OC_VMA_HEAP:
		ve->status |= VMA_AREA_HEAP | VMA_ANON_PRIVATE;
		return 0;
	case OC_VMA_ANON:
	case OC_VMA_STACK:
	case OC_VMA_ANON_NAMED:
		if (v->shared)
			break; /* shared anonymous memory shows up with a path */
		ve->status |= VMA_ANON_PRIVATE;
		return 0;
	case OC_VMA_FILE:
		if (oc_vma_is_aio_ring(t->pid, v))
			return oc_dump_aio_ring(t, v, ve, mm);
		if (is_shmem_anon(v)) {
			ve->flags = MAP_SHARED;
			return oc_dump_shmem_vma(t, v, ve);
		}
		if (!strncmp(v->path, "/SYSV", 5))
			return dump_sysv_vma(t, v, ve);
		return dump_file_vma(t, v, ve);
	case OC_VMA_ANON_SHMEM_NAMED:
		ve->flags = MAP_SHARED;
		return oc_dump_shmem_vma(t, v, ve);
	case OC_VMA_OTHER:
		if (strncmp(v->path, "socket:[", 8))
			break;
		/* A packet socket's rings, mapped again from the socket at
		 * restore; no pages are saved.  shmid holds the socket's inode
		 * until its file is dumped (oc_packet_dump_maps()). */
		ve->status |= VMA_AREA_SOCKET;
		ve->flags = v->shared ? MAP_SHARED : MAP_PRIVATE;
		ve->shmid = v->inode;
		ve->pgoff = v->pgoff;
		return 0;
	default:
		break;
	}
	return oc_error(-EOPNOTSUPP, "VMA %" PRIx64 "-%" PRIx64 " (%s) is of a kind ocicr cannot dump", v->start,
			v->end, v->path[0] ? v->path : "anonymous shared");
}

static int dump_auxv(struct oc_dump_task *t, MmEntry *mm)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = oc_proc_read(t->pid, "auxv", &buf, &len);
	if (r < 0)
		return r;
	size_t words = MIN(len / sizeof(uint64_t), (size_t)AUXV_WORDS_MAX);
	mm->mm_saved_auxv = oc_arena_memdup(t->ctx->arena, buf, words * sizeof(uint64_t));
	if (!mm->mm_saved_auxv)
		return -ENOMEM;
	mm->n_mm_saved_auxv = words;
	return 0;
}

static int remote_prctl(struct oc_dump_task *t, int option, long *ret)
{
	char what[32];

	snprintf(what, sizeof(what), "prctl(%d)", option);
	*ret = oc_remote_call(&t->threads[0].rs, what, SYS_prctl, option, 0, 0, 0);
	return *ret < 0 ? *ret : 0;
}

#define MEMBARRIER_GET_REGISTRATIONS (1 << 9)

/*
 * The membarrier() commands the mm is registered for (the REGISTER_*
 * bits, as CRIU keeps them in the task core).  A kernel without
 * GET_REGISTRATIONS (before 6.3) tells by whether each private expedited
 * barrier may be issued: its REGISTER_ bit is the next one up.
 */
static int dump_membarrier(struct oc_dump_task *t, TaskCoreEntry *tc)
{
	static const int private_cmds[] = { 1 << 3, 1 << 5, 1 << 7 }; /* PRIVATE_EXPEDITED{,_SYNC_CORE,_RSEQ} */
	long mask = 0, res;
	int r;

	r = oc_remote_syscall(&t->threads[0].rs, SYS_membarrier, &mask, MEMBARRIER_GET_REGISTRATIONS, 0, 0, 0, 0, 0);
	if (r < 0)
		return r;
	if (mask == -EINVAL) {
		mask = 0;
		for (size_t i = 0; i < ARRAY_SIZE(private_cmds); i++) {
			r = oc_remote_syscall(&t->threads[0].rs, SYS_membarrier, &res, private_cmds[i], 0, 0, 0, 0, 0);
			if (r < 0)
				return r;
			if (!res)
				mask |= private_cmds[i] << 1;
		}
	} else if (mask < 0) {
		return oc_error((int)mask, "membarrier(GET_REGISTRATIONS) in task %d failed", t->pid);
	}
	if (mask) {
		tc->has_membarrier_registration_mask = true;
		tc->membarrier_registration_mask = mask;
	}
	return 0;
}

int oc_dump_mm(struct oc_dump_task *t)
{
	struct oc_arena *a = t->ctx->arena;
	MmEntry *mm = OC_ARENA_MSG(a, MmEntry, MM_ENTRY__INIT);
	const struct oc_proc_stat *st = &t->stat;
	long res;
	int r;

	if (!mm)
		return -ENOMEM;
	mm->mm_start_code = st->start_code;
	mm->mm_end_code = st->end_code;
	mm->mm_start_data = st->start_data;
	mm->mm_end_data = st->end_data;
	mm->mm_start_stack = st->start_stack;
	mm->mm_start_brk = st->start_brk;
	mm->mm_arg_start = st->arg_start;
	mm->mm_arg_end = st->arg_end;
	mm->mm_env_start = st->env_start;
	mm->mm_env_end = st->env_end;

	r = oc_remote_syscall(&t->threads[0].rs, SYS_brk, &res, 0, 0, 0, 0, 0, 0);
	if (r < 0)
		return r;
	mm->mm_brk = res;
	r = remote_prctl(t, PR_GET_DUMPABLE, &res);
	if (r < 0)
		return r;
	mm->has_dumpable = true;
	mm->dumpable = res;
	r = remote_prctl(t, PR_GET_THP_DISABLE, &res);
	if (r < 0)
		return r;
	mm->has_thp_disabled = true;
	mm->thp_disabled = res != 0;
	r = dump_membarrier(t, t->threads[0].core->tc);
	if (r < 0)
		return r;

	r = dump_auxv(t, mm);
	if (r < 0)
		return r;
	char exe[64];
	snprintf(exe, sizeof(exe), "/proc/%d/exe", t->pid);
	r = oc_dump_path_file(t, exe, -1, &mm->exe_file_id);
	if (r < 0)
		return oc_error_wrap(r, "executable");

	mm->vmas = OC_ARENA_ARRAY(a, VmaEntry *, t->n_vmas);
	if (!mm->vmas)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_vmas; i++) {
		const struct oc_proc_vma *v = &t->vmas[i];
		VmaEntry *ve;

		/* [vvar] and [vvar_vclock] are one entry, as in CRIU 4.2. */
		if (v->kind == OC_VMA_VVAR_VCLOCK && mm->n_vmas && (mm->vmas[mm->n_vmas - 1]->status & VMA_AREA_VVAR) &&
		    mm->vmas[mm->n_vmas - 1]->end == v->start) {
			mm->vmas[mm->n_vmas - 1]->end = v->end;
			continue;
		}
		ve = OC_ARENA_MSG(a, VmaEntry, VMA_ENTRY__INIT);
		if (!ve)
			return -ENOMEM;
		r = dump_one_vma(t, v, ve, mm);
		if (r < 0)
			return r;
		mm->vmas[mm->n_vmas++] = ve;
	}
	r = oc_dump_guards(t, mm);
	if (r < 0)
		return r;
	t->mm = mm;
	return 0;
}

/* ---- restore ------------------------------------------------------------- */

static bool runs_touch(const struct oc_rst_run *runs, size_t n, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < n; i++)
		if (runs[i].vaddr < end && runs[i].vaddr + runs[i].nr_pages * OC_PAGE_SIZE > start)
			return true;
	return false;
}

static void prepare_vma(const VmaEntry *v, int fd, struct oc_rst_vma *rv)
{
	rv->start = v->start;
	rv->end = v->end;
	rv->pgoff = v->pgoff;
	rv->prot = v->prot;
	rv->flags = v->flags; /* the blob locks once the pages are in */
	rv->fd = fd;
	if (fd >= 0)
		rv->flags &= ~MAP_ANONYMOUS;
	rv->madv = v->has_madv ? v->madv : 0;
}

static void mm_reserve(const struct oc_rst_task *t, struct oc_rst_area_counts *c)
{
	c->vmas += t->mm->n_vmas;
	oc_rst_aio_reserve(t, c);
	oc_rst_guards_reserve(t, c);
}

static void fill_mm(struct oc_rst_task *t, struct oc_rst_args *a)
{
	MmEntry *mm = t->mm;

	a->mm = (struct oc_rst_mm){
		.start_code = mm->mm_start_code,
		.end_code = mm->mm_end_code,
		.start_data = mm->mm_start_data,
		.end_data = mm->mm_end_data,
		.start_brk = mm->mm_start_brk,
		.brk = mm->mm_brk,
		.start_stack = mm->mm_start_stack,
		.arg_start = mm->mm_arg_start,
		.arg_end = mm->mm_arg_end,
		.env_start = mm->mm_env_start,
		.env_end = mm->mm_env_end,
		.exe_fd = t->exe_fd,
		.dumpable = mm->has_dumpable ? mm->dumpable : 1,
		.thp_disabled = mm->has_thp_disabled && mm->thp_disabled,
	};
	const TaskCoreEntry *tc = t->cores[0]->tc;
	if (tc && tc->has_membarrier_registration_mask)
		a->mm.membarrier_mask = tc->membarrier_registration_mask;
	a->mm.auxv_words = MIN(mm->n_mm_saved_auxv, ARRAY_SIZE(a->mm.auxv));
	memcpy(a->mm.auxv, mm->mm_saved_auxv, a->mm.auxv_words * sizeof(uint64_t));
}

/*
 * The address space: the runs of saved pages (mem/pages.c), then the VMAs
 * (which need the runs to know whether they have pages), the vDSO, the mm.
 */
static int mm_fill(struct oc_rst_agent *ag, struct oc_rst_area *area)
{
	struct oc_rst_task *t = ag->task;
	struct oc_rst_args *a = area->args;
	MmEntry *mm = t->mm;
	int r;

	_cleanup_(oc_rst_vdso_done) struct oc_rst_vdso vd = {};
	r = oc_rst_vdso_prepare(ag, &vd);
	if (r < 0)
		return r;
	r = oc_rst_fill_runs(t, &vd, a);
	if (r < 0)
		return r;

	/* VMAs; the vDSO and [vvar] come from this kernel where they are its own. */
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];
		if (oc_rst_vdso_is_kernels(&vd, v))
			continue;
		if (v->status & VMA_AREA_AIORING) {
			r = oc_rst_aio_fill(t, v, a, &a->vmas[a->n_vmas]);
			if (r < 0)
				return r;
			a->n_vmas++;
			continue;
		}
		if (!(v->status & VMA_AREA_REGULAR) || v->end > OC_TASK_SIZE)
			continue; /* vsyscall, guards and friends: the kernel's */
		if (v->status & VMA_AREA_UPROBES)
			return oc_error(-EOPNOTSUPP,
					"VMA 0x%" PRIx64 " is of a kind (status 0x%x) not supported "
					"yet",
					v->start, v->status);
		struct oc_rst_vma *rv = &a->vmas[a->n_vmas];
		prepare_vma(v, t->vma_fds[i], rv);
		if (v->status & VMA_AREA_SYSVIPC) {
			rv->is_sysv = 1;
			rv->sysv_shmid = v->shmid;
		}
		rv->premap_at = t->premap_at ? t->premap_at[i] : 0;
		rv->has_pages = rv->premap_at || runs_touch(a->runs, a->n_runs, v->start, v->end);
		a->n_vmas++;
	}
	oc_rst_guards_fill(t, a);
	r = oc_rst_vdso_place(ag, &vd, a);
	if (r < 0)
		return r;
	fill_mm(t, a);
	return 0;
}

const struct oc_task_kind oc_task_kind_mm = {
	.name = "memory map",
	.dump = oc_dump_mm,
	.reserve = mm_reserve,
	.fill = mm_fill,
	.plan_steps = OC_STEP_BIT(OC_STEP_MEMORY),
	.plan_task = oc_mm_plan,
};
