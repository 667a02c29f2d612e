// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The restorer blob: freestanding code that turns the agent's address
 * space into the target's and restores the state that must come last.
 * Built with -ffreestanding -nostdlib -fPIE and no relocations, copied to
 * the restorer area and entered through rst_entry (entry.S).  The order of
 * work is the list in restorer.h.
 */
#include <stddef.h>
#include <stdint.h>

#include <asm/prctl.h>
#include <linux/aio_abi.h>
#include <asm/unistd.h>
#include <linux/capability.h>
#include <linux/fcntl.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/sched.h>
#include <linux/securebits.h>
#include <linux/uio.h>

#include "arch/x86_64/restorer/restorer.h"
#include "arch/x86_64/restorer/syscall.h"

#define PAGE_SIZE 4096ul
#define IOV_BATCH 64
#define SIGKILL	  9
#define SIGSTOP	  19

#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS    77
#define PR_TIMER_CREATE_RESTORE_IDS_ON 1
#endif
#ifndef PR_SET_MM_MAP
#define PR_SET_MM_MAP 14
#endif

/* gcc may emit calls to these for struct copies. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;
	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	while (n--)
		*dp++ = *sp++;
	return d;
}

static __attribute__((noreturn)) void rst_fail(struct oc_rst_args *args, int step, long err, int index)
{
	struct oc_rst_report rep = { OC_BLOB_FAILED, step, (int32_t)-err, (int32_t)sys0(__NR_gettid), index };

	args->failed_step = step;
	args->failed_errno = (int32_t)-err;
	if (args->status_fd >= 0)
		sys3(__NR_write, args->status_fd, &rep, sizeof(rep));
	sys1(__NR_exit_group, 100 + step);
	__builtin_unreachable();
}

#define CHECK(expr, step, index)                         \
	do {                                             \
		long _r = (expr);                        \
		if (_r < 0 && _r > -4096)                \
			rst_fail(args, step, _r, index); \
	} while (0)

struct rst_itimerval {
	long isec, iusec, vsec, vusec;
};

struct rst_itimerspec {
	long isec, insec, vsec, vnsec;
};

struct rst_sigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};

struct rst_stack {
	uint64_t sp;
	int32_t flags;
	int32_t pad;
	uint64_t size;
};

struct rst_prctl_mm_map {
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t auxv;
	uint32_t auxv_size;
	uint32_t exe_fd;
};

/* The header of an AIO ring (the kernel's struct aio_ring). */
struct rst_aio_head {
	uint32_t id, nr, head, tail;
	uint32_t magic, compat_features, incompat_features, header_length;
};

#define AIO_SUBMIT_BATCH 64

/*
 * Bring the kernel's tail of the new ring @ctx to @tail, with @head where
 * the task had it.  Each write to /dev/null completes as it is submitted;
 * the head follows the completions up to the saved head, freeing their
 * slots.  A tail behind the head (the ring wrapped) takes a full turn
 * first, so that the kernel counts the events between them as completed.
 */
static void aio_move_tail(struct oc_rst_args *args, uint64_t ctx, uint32_t nr, uint32_t head, uint32_t tail, int index)
{
	volatile struct rst_aio_head *ring = (void *)ctx;
	uint32_t want = tail >= head ? tail : nr + tail;
	char byte = 0;
	struct iocb cb = {
		.aio_lio_opcode = IOCB_CMD_PWRITE,
		.aio_fildes = (uint32_t)args->aio_null_fd,
		.aio_buf = (uint64_t)&byte,
		.aio_nbytes = 1,
	};
	struct iocb *cbs[AIO_SUBMIT_BATCH];

	for (int i = 0; i < AIO_SUBMIT_BATCH; i++)
		cbs[i] = &cb;
	for (uint32_t done = 0; done < want;) {
		uint32_t n = want - done < AIO_SUBMIT_BATCH ? want - done : AIO_SUBMIT_BATCH;
		long r = sys3(__NR_io_submit, ctx, n, cbs);
		if (r <= 0)
			rst_fail(args, OC_RST_STEP_AIO, r ? r : -11 /* EAGAIN */, index);
		done += r;
		ring->head = done < head ? done : head;
	}
}

/*
 * An AIO ring: its saved bytes are at r->addr, in anonymous memory.  A new
 * context of the same size gets the saved head, tail and events, and its
 * ring is moved over the saved copy: the kernel then takes r->addr as the
 * context's id.
 */
static void restore_aio_ring(struct oc_rst_args *args, const struct oc_rst_aio_ring *r, int index)
{
	const struct rst_aio_head *saved = (void *)r->addr;
	uint32_t nr = (r->len - sizeof(*saved)) / sizeof(struct io_event);
	uint64_t ctx = 0;

	CHECK(sys2(__NR_io_setup, r->nr_req, &ctx), OC_RST_STEP_AIO, index);
	const struct rst_aio_head *ring = (void *)ctx;
	if (saved->nr != nr || ring->nr != nr || saved->head >= nr || saved->tail >= nr)
		rst_fail(args, OC_RST_STEP_AIO, -22 /* EINVAL */, index);
	aio_move_tail(args, ctx, nr, saved->head, saved->tail, index);
	memcpy((char *)ctx + sizeof(*saved), (const char *)saved + sizeof(*saved), r->len - sizeof(*saved));
	long at = sys5(__NR_mremap, ctx, r->len, r->len, MREMAP_MAYMOVE | MREMAP_FIXED, r->addr);
	if (at < 0 && at > -4096)
		rst_fail(args, OC_RST_STEP_AIO, at, index);
	if ((uint64_t)at != r->addr)
		rst_fail(args, OC_RST_STEP_AIO, -14, index);
}

static void restore_memory(struct oc_rst_args *args)
{
	/* The vDSO first, while nothing can be in its way. */
	if (args->vdso_start)
		CHECK(sys2(__NR_arch_prctl, ARCH_MAP_VDSO_64, args->vvar_start), OC_RST_STEP_VDSO, 0);

	for (uint32_t i = 0; i < args->n_vmas; i++) {
		const struct oc_rst_vma *v = &args->vmas[i];
		long prot = v->prot | (v->has_pages ? PROT_READ | PROT_WRITE : 0);
		if (v->premap_at) {
			uint64_t len = v->end - v->start;
			long to = sys5(__NR_mremap, v->premap_at, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, v->start);
			if (to < 0 && to > -4096)
				rst_fail(args, OC_RST_STEP_MMAP, to, i);
			continue;
		}
		long addr;
		if (v->is_sysv)
			addr = sys3(__NR_shmat, v->sysv_shmid, v->start,
				    (v->prot & PROT_WRITE ? 0 : 010000 /* SHM_RDONLY */) |
					    (v->prot & PROT_EXEC ? 0100000 /* SHM_EXEC */ : 0));
		else
			addr = sys6(__NR_mmap, v->start, v->end - v->start, prot, (v->flags & ~MAP_LOCKED) | MAP_FIXED,
				    v->fd, v->pgoff);
		if (addr < 0 && addr > -4096)
			rst_fail(args, OC_RST_STEP_MMAP, addr, i);
		if ((uint64_t)addr != v->start)
			rst_fail(args, OC_RST_STEP_MMAP, -14, i);
	}

	/* Fault the pages in bulk first: one call per run is much cheaper
	 * than a fault per page while preadv copies. */
	if (args->populate)
		for (uint32_t i = 0; i < args->n_runs; i++)
			sys3(__NR_madvise, args->runs[i].vaddr, args->runs[i].nr_pages * PAGE_SIZE,
			     23 /* MADV_POPULATE_WRITE */);

	/* Pages: consecutive runs are consecutive in the pages file. */
	struct iovec iov[IOV_BATCH];
	for (uint32_t i = 0; i < args->n_runs;) {
		uint64_t off = args->runs[i].offset, expect = off;
		uint32_t n = 0;
		while (i < args->n_runs && n < IOV_BATCH && args->runs[i].offset == expect) {
			iov[n].iov_base = (void *)args->runs[i].vaddr;
			iov[n].iov_len = args->runs[i].nr_pages * PAGE_SIZE;
			expect += iov[n].iov_len;
			n++;
			i++;
		}
		uint64_t want = expect - off, done = 0;
		while (done < want) {
			long r = sys5(__NR_preadv, args->pages_fd, iov, n, off + done, 0);
			if (r <= 0)
				rst_fail(args, OC_RST_STEP_PAGES, r ? r : -5, i);
			done += r;
			/* Advance the iovecs past what was read. */
			uint64_t skip = r;
			uint32_t k = 0;
			while (k < n && skip >= iov[k].iov_len)
				skip -= iov[k++].iov_len;
			for (uint32_t j = k; j < n; j++)
				iov[j - k] = iov[j];
			n -= k;
			if (n) {
				iov[0].iov_base = (char *)iov[0].iov_base + skip;
				iov[0].iov_len -= skip;
			}
		}
	}

	/* movabs $target, %rax; jmp *%rax -- rax is free at a call's entry. */
	for (uint32_t i = 0; i < args->n_vdso_patches; i++) {
		volatile uint8_t *p = (uint8_t *)args->vdso_patches[i].addr;
		uint64_t to = args->vdso_patches[i].target;
		p[0] = 0x48;
		p[1] = 0xb8;
		for (int b = 0; b < 8; b++)
			p[2 + b] = (uint8_t)(to >> (8 * b));
		p[10] = 0xff;
		p[11] = 0xe0;
	}

	/* F_SEAL_FUTURE_WRITE spares writable mappings made before it. */
	for (uint32_t i = 0; i < args->n_late_seals; i++)
		CHECK(sys3(__NR_fcntl, args->late_seals[i].fd, F_ADD_SEALS, args->late_seals[i].seals),
		      OC_RST_STEP_SEALS, i);

	for (uint32_t i = 0; i < args->n_vmas; i++) {
		const struct oc_rst_vma *v = &args->vmas[i];
		if (v->has_pages && v->prot != (PROT_READ | PROT_WRITE))
			CHECK(sys3(__NR_mprotect, v->start, v->end - v->start, v->prot), OC_RST_STEP_MPROTECT, i);
		for (int bit = 0; bit < 64; bit++)
			if (v->madv & (1ull << bit))
				CHECK(sys3(__NR_madvise, v->start, v->end - v->start, bit), OC_RST_STEP_MPROTECT, i);
	}

	for (uint32_t i = 0; i < args->n_aio_rings; i++)
		restore_aio_ring(args, &args->aio_rings[i], i);
	/* Installing a guard drops the page under it; a locked VMA refuses. */
	for (uint32_t i = 0; i < args->n_guards; i++)
		CHECK(sys3(__NR_madvise, args->guards[i].start, args->guards[i].end - args->guards[i].start,
			   102 /* MADV_GUARD_INSTALL */),
		      OC_RST_STEP_GUARD, i);

	/* Locked last, with the pages in, and before the creds change: the
	 * task's own uid may lack the right or the RLIMIT_MEMLOCK.  mlock()
	 * refuses memory it cannot fault in: a PROT_NONE VMA is locked
	 * readable, then closed again. */
	for (uint32_t i = 0; i < args->n_vmas; i++) {
		const struct oc_rst_vma *v = &args->vmas[i];
		if (!(v->flags & MAP_LOCKED))
			continue;
		if (!v->prot)
			CHECK(sys3(__NR_mprotect, v->start, v->end - v->start, PROT_READ), OC_RST_STEP_MPROTECT, i);
		CHECK(sys2(__NR_mlock, v->start, v->end - v->start), OC_RST_STEP_MPROTECT, i);
		if (!v->prot)
			CHECK(sys3(__NR_mprotect, v->start, v->end - v->start, PROT_NONE), OC_RST_STEP_MPROTECT, i);
	}
}

static void restore_mm(struct oc_rst_args *args)
{
	const struct oc_rst_mm *m = &args->mm;
	struct rst_prctl_mm_map map = {
		.start_code = m->start_code,
		.end_code = m->end_code,
		.start_data = m->start_data,
		.end_data = m->end_data,
		.start_brk = m->start_brk,
		.brk = m->brk,
		.start_stack = m->start_stack,
		.arg_start = m->arg_start,
		.arg_end = m->arg_end,
		.env_start = m->env_start,
		.env_end = m->env_end,
		.auxv = (uint64_t)m->auxv,
		.auxv_size = m->auxv_words * 8,
		.exe_fd = (uint32_t)m->exe_fd,
	};

	CHECK(sys5(__NR_prctl, PR_SET_MM, PR_SET_MM_MAP, &map, sizeof(map), 0), OC_RST_STEP_MM, 0);
	CHECK(sys5(__NR_prctl, PR_SET_DUMPABLE, m->dumpable, 0, 0, 0), OC_RST_STEP_MM, 1);
	if (m->thp_disabled)
		CHECK(sys5(__NR_prctl, PR_SET_THP_DISABLE, 1, 0, 0, 0), OC_RST_STEP_MM, 2);
	/* Each bit is a REGISTER_ command; registering twice is harmless. */
	for (int bit = 0; bit < 32; bit++)
		if (m->membarrier_mask & (1u << bit))
			CHECK(sys3(__NR_membarrier, 1u << bit, 0, 0), OC_RST_STEP_MM, 3);
}

static void restore_process(struct oc_rst_args *args)
{
	/* Before the threads exist: they inherit it. */
	sys1(__NR_personality, args->personality);

	for (int sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		CHECK(sys4(__NR_rt_sigaction, sig, &args->sigactions[sig - 1], 0, 8), OC_RST_STEP_SIGACTION, sig);
	}

	for (int which = 0; which < 3; which++) {
		const struct oc_rst_itimer *it = &args->itimers[which];
		struct rst_itimerval v = { it->isec, it->iusec, it->vsec, it->vusec };
		if (it->vsec || it->vusec)
			CHECK(sys3(__NR_setitimer, which, &v, 0), OC_RST_STEP_ITIMER, which);
	}

	for (uint32_t i = 0; i < args->n_rlimits; i++)
		CHECK(sys4(__NR_prlimit64, 0, i, &args->rlimits[i], 0), OC_RST_STEP_RLIMIT, i);
}

/*
 * POSIX timers, once every thread exists: a SIGEV_THREAD_ID timer names
 * its thread, and timer_create() refuses a tid not (yet) in the group.
 */
static void restore_posix_timers(struct oc_rst_args *args)
{
	if (args->n_timers)
		sys5(__NR_prctl, PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0);
	for (uint32_t i = 0; i < args->n_timers; i++) {
		const struct oc_rst_posix_timer *t = &args->timers[i];
		struct rst_sigevent ev = {
			.value = t->sival, .signo = t->signo, .notify = t->notify, .tid = t->notify_tid
		};
		int32_t id = t->id;
		CHECK(sys3(__NR_timer_create, t->clock_id, &ev, &id), OC_RST_STEP_TIMER, i);
		if (id != t->id)
			rst_fail(args, OC_RST_STEP_TIMER, -17, i);
		struct rst_itimerspec v = { t->isec, t->insec, t->vsec, t->vnsec };
		if (t->vsec || t->vnsec)
			CHECK(sys4(__NR_timer_settime, id, 0, &v, 0), OC_RST_STEP_TIMER, i);
	}
	if (args->n_timers)
		sys5(__NR_prctl, PR_TIMER_CREATE_RESTORE_IDS, 0, 0, 0, 0);
}

static void restore_creds(struct oc_rst_args *args, const struct oc_rst_creds *c, int index)
{
	if (c->skip)
		return;
	CHECK(sys2(__NR_setgroups, c->n_groups, c->groups), OC_RST_STEP_CREDS, index);
	/* Keep capabilities across the uid change; set the real bits later. */
	CHECK(sys5(__NR_prctl, PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP, 0, 0, 0), OC_RST_STEP_CREDS, index);
	CHECK(sys3(__NR_setresgid, c->gid, c->egid, c->sgid), OC_RST_STEP_CREDS, index);
	sys1(__NR_setfsgid, c->fsgid);
	CHECK(sys3(__NR_setresuid, c->uid, c->euid, c->suid), OC_RST_STEP_CREDS, index);
	sys1(__NR_setfsuid, c->fsuid);
	for (uint32_t cap = 0; cap <= c->last_cap; cap++)
		if (!(c->cap_bnd & (1ull << cap)))
			CHECK(sys5(__NR_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0), OC_RST_STEP_CREDS, index);
	CHECK(sys5(__NR_prctl, PR_SET_SECUREBITS, c->secbits, 0, 0, 0), OC_RST_STEP_CREDS, index);

	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {
		{ (uint32_t)c->cap_eff, (uint32_t)c->cap_prm, (uint32_t)c->cap_inh },
		{ (uint32_t)(c->cap_eff >> 32), (uint32_t)(c->cap_prm >> 32), (uint32_t)(c->cap_inh >> 32) },
	};
	CHECK(sys2(__NR_capset, &hdr, data), OC_RST_STEP_CREDS, index);
	for (uint32_t cap = 0; cap <= c->last_cap; cap++)
		if (c->cap_amb & (1ull << cap))
			CHECK(sys5(__NR_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0), OC_RST_STEP_CREDS,
			      index);
	if (c->no_new_privs)
		CHECK(sys5(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), OC_RST_STEP_CREDS, index);
}

#define SECCOMP_SET_MODE_STRICT 0
#define SECCOMP_SET_MODE_FILTER 1

struct rst_sock_fprog {
	uint16_t len;
	uint64_t filter __attribute__((aligned(8)));
};

/* Filters @fs[0..n), oldest first.  Traced with PTRACE_O_SUSPEND_SECCOMP,
 * the thread is not held to them until the coordinator lets it go. */
static void install_filters(struct oc_rst_args *args, uint64_t fs_addr, uint32_t n, int index)
{
	const struct oc_rst_seccomp_filter *fs = (const void *)fs_addr;

	for (uint32_t i = 0; i < n; i++) {
		struct rst_sock_fprog prog = { (uint16_t)fs[i].n_insns, fs[i].insns };
		CHECK(sys3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, fs[i].flags, &prog), OC_RST_STEP_SECCOMP, index);
	}
}

/* Strict mode, or the rest of the filter chain (past the shared ones). */
static void restore_seccomp(struct oc_rst_args *args, const struct oc_rst_thread *t, int index)
{
	if (t->seccomp_mode == 1)
		CHECK(sys3(__NR_seccomp, SECCOMP_SET_MODE_STRICT, 0, 0), OC_RST_STEP_SECCOMP, index);
	if (t->seccomp_mode == 2)
		install_filters(args, t->seccomp_filters, t->n_seccomp_filters, index);
}

/* Per-thread state; every thread, the main one last, runs this. */
static __attribute__((noreturn)) void restore_thread(struct oc_rst_args *args, uint32_t index)
{
	const struct oc_rst_thread *t = &args->threads[index];

	if (t->robust_list)
		CHECK(sys2(__NR_set_robust_list, t->robust_list, t->robust_list_len), OC_RST_STEP_THREAD, index);
	if (t->rseq_addr)
		CHECK(sys4(__NR_rseq, t->rseq_addr, t->rseq_len, 0, t->rseq_sig), OC_RST_STEP_THREAD, index);
	struct rst_stack ss = { t->sas_sp, t->sas_flags, 0, t->sas_size };
	CHECK(sys2(__NR_sigaltstack, &ss, 0), OC_RST_STEP_THREAD, index);
	sys1(__NR_set_tid_address, t->clear_tid_addr);
	if (t->comm[0])
		CHECK(sys5(__NR_prctl, PR_SET_NAME, t->comm, 0, 0, 0), OC_RST_STEP_THREAD, index);
	/* Else every thread would be named after ocicr, whose clone it is. */
	if (t->comm[0])
		CHECK(sys5(__NR_prctl, PR_SET_NAME, (long)t->comm, 0, 0, 0), OC_RST_STEP_THREAD, index);

	/*
	 * A siginfo that claims to come from the kernel, kill() or tgkill()
	 * (si_code >= 0 or SI_TKILL) may only be queued by the thread it is
	 * queued to: rt_tgsigqueueinfo() to another thread fails with EPERM.
	 * So each thread queues its own signals, and the main thread, whose
	 * tid is the tgid, the process-wide ones.
	 */
	for (uint32_t i = 0; i < args->n_siginfos; i++) {
		const struct oc_rst_siginfo *s = &args->siginfos[i];
		if (s->tid && s->tid == t->tid)
			CHECK(sys4(__NR_rt_tgsigqueueinfo, args->pid, s->tid, s->signo, s->info), OC_RST_STEP_SIGQUEUE,
			      i);
		else if (!s->tid && index == 0)
			CHECK(sys3(__NR_rt_sigqueueinfo, args->pid, s->signo, s->info), OC_RST_STEP_SIGQUEUE, i);
	}
	if (t->seccomp_before_creds)
		restore_seccomp(args, t, index);
	restore_creds(args, &t->creds, index);
	/* A change of uid or gid resets the mm's dumpable flag (a task of
	 * another uid could no longer be read in /proc by its peers): each
	 * thread sets it after its own creds, so the last word is the flag. */
	if (!t->creds.skip)
		CHECK(sys5(__NR_prctl, PR_SET_DUMPABLE, args->mm.dumpable, 0, 0, 0), OC_RST_STEP_MM, 1);
	/* Always (the agent ran with SIGKILL as its parent-death signal), and
	 * after the creds, whose change of uid clears it too. */
	CHECK(sys5(__NR_prctl, PR_SET_PDEATHSIG, t->pdeath_sig, 0, 0, 0), OC_RST_STEP_THREAD, index);
	if (!t->seccomp_before_creds)
		restore_seccomp(args, t, index);

	/* Done: the coordinator takes over from this trap. */
	for (;;)
		__asm__ volatile("int3");
}

/* Thread start for clone3: new stack, then restore_thread(). */
static long clone3_thread(struct clone_args *ca, struct oc_rst_args *args, uint32_t index)
{
	long ret;

	register long r12 __asm__("r12") = (long)args;
	register long r13 __asm__("r13") = index;
	register long r14 __asm__("r14") = (long)restore_thread;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "mov %%r12, %%rdi\n\t"
			 "mov %%r13, %%rsi\n\t"
			 "call *%%r14\n\t"
			 "ud2\n"
			 "1:\n\t"
			 : "=a"(ret)
			 : "a"(__NR_clone3), "D"(ca), "S"(sizeof(*ca)), "r"(r12), "r"(r13), "r"(r14)
			 : "rcx", "r11", "memory");
	return ret;
}

/*
 * Everything of the agent's layout goes but the area and the premapped
 * VMAs: unmap the gaps between them, lowest first.  (Few premapped VMAs:
 * a quadratic walk needs no sorting.)
 */
static void unmap_agent_layout(struct oc_rst_args *args)
{
	uint64_t cursor = 0;

	for (;;) {
		uint64_t lo = ~0ull, hi = 0;
		if (args->area_start >= cursor) {
			lo = args->area_start;
			hi = args->area_end;
		}
		for (uint32_t i = 0; i < args->n_vmas; i++) {
			const struct oc_rst_vma *v = &args->vmas[i];
			if (v->premap_at && v->premap_at >= cursor && v->premap_at < lo) {
				lo = v->premap_at;
				hi = v->premap_at + (v->end - v->start);
			}
		}
		if (lo == ~0ull) {
			CHECK(sys2(__NR_munmap, cursor, args->task_size - cursor), OC_RST_STEP_UNMAP, 1);
			return;
		}
		if (lo > cursor)
			CHECK(sys2(__NR_munmap, cursor, lo - cursor), OC_RST_STEP_UNMAP, 0);
		cursor = hi;
	}
}

__attribute__((noreturn, used, section(".text.entry"))) void rst_main(struct oc_rst_args *args);

void rst_main(struct oc_rst_args *args)
{
	uint64_t all = ~0ull;

	if (args->magic != OC_RST_MAGIC)
		sys1(__NR_exit_group, 99);
	sys4(__NR_rt_sigprocmask, 2 /* SIG_SETMASK */, &all, 0, 8);

	unmap_agent_layout(args);

	restore_memory(args);
	restore_mm(args);
	restore_process(args);
	/* Inherited by the threads created next: one filter, shared. */
	install_filters(args, args->seccomp_shared, args->n_seccomp_shared, 0);

	for (uint32_t i = 1; i < args->n_threads; i++) {
		const struct oc_rst_thread *t = &args->threads[i];
		struct clone_args ca = {
			.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM,
			.stack = t->stack_top - 65536,
			.stack_size = 65536,
			.set_tid = (uint64_t)t->set_tid,
			.set_tid_size = t->n_set_tid,
		};
		long r = clone3_thread(&ca, args, i);
		if (r < 0)
			rst_fail(args, OC_RST_STEP_CLONE, r, i);
		if (r != t->tid)
			rst_fail(args, OC_RST_STEP_CLONE, -17, i);
		__atomic_add_fetch(&args->threads_started, 1, __ATOMIC_SEQ_CST);
	}
	restore_posix_timers(args);
	restore_thread(args, 0);
}
