/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The contract between the restore agent and the restorer blob.
 *
 * The agent (ocicr code, running as the task being restored) prepares
 * everything that needs libc or the images: open files, memfds, the pages
 * fd.  It then maps one "restorer area" at an address free in both its own
 * and the target layout, holding [blob code | struct oc_rst_args and the
 * arrays it points to | stacks], and jumps to the blob.  Every pointer in
 * the arguments points into that area.
 *
 * The blob, freestanding and without libc, switches the address space to
 * the target layout and restores what must come last, in this order:
 *
 *   1. block all signals; unmap everything but the area and the VMAs the
 *      agent premapped (filled already, shared copy-on-write with the
 *      parent or the children: engine/restore_cow.c)
 *   2. map the vDSO; move premapped VMAs in place with mremap and map
 *      every other VMA; read private pages with preadv; seal memfds
 *      against future writes; set final protections and madvise flags;
 *      make AIO rings again over their saved bytes; install guard
 *      regions; lock locked VMAs
 *   3. PR_SET_MM_MAP (mm bounds, auxv, exe file), membarrier registrations
 *   4. personality, signal handlers, itimers, rlimits
 *   5. install the seccomp filters all threads share (traced with
 *      PTRACE_O_SUSPEND_SECCOMP, the blob is not held to them) and create
 *      the other threads, which inherit them (clone3 with their tids);
 *      then POSIX timers (a SIGEV_THREAD_ID one needs its thread); each
 *      thread and then the main one restore per-thread state (robust
 *      list, rseq, sigaltstack, clear_tid address, name, credentials, and
 *      last the seccomp mode or the rest of its filters)
 *   6. queue pending signals (each thread its own, the main thread the
 *      process-wide ones)
 *   7. every thread stops on int3: the coordinator, which traces them,
 *      unmaps the area, closes the helper fds, loads each thread's
 *      registers, FPU state and blocked mask with ptrace, and detaches.
 *
 * A failure anywhere ends the thread with a non-zero exit code and the
 * failing step in oc_rst_args.failed_step, which the coordinator reads.
 */
#ifndef OCICR_ARCH_RESTORER_H
#define OCICR_ARCH_RESTORER_H

#include <stdint.h>

#define OC_RST_MAGIC 0x6f637273746f7265ull /* "ocrstore" */

struct oc_rst_vma {
	uint64_t start, end;
	uint64_t pgoff;
	uint32_t prot;	    /* final protection */
	uint32_t flags;	    /* mmap flags, without MAP_FIXED */
	int32_t fd;	    /* file or memfd to map, -1 for anonymous */
	uint32_t has_pages; /* map writable first, pages follow */
	uint64_t madv;	    /* 1 << MADV_x bits to apply */
	uint64_t premap_at; /* filled by the agent here: move it in place */
	uint32_t is_sysv;   /* a SysV shared memory attachment: shmat() */
	uint32_t sysv_shmid;
};

/* A guard region (MADV_GUARD_INSTALL) to install again. */
struct oc_rst_range {
	uint64_t start, end;
};

/*
 * An AIO ring to make again at @addr, where its saved bytes have been read
 * into an anonymous VMA of @len bytes: io_setup(@nr_req) makes a ring of
 * the same length.
 */
struct oc_rst_aio_ring {
	uint64_t addr, len;
	uint32_t nr_req;
	uint32_t pad;
};

/* A run of pages: at @vaddr, @nr_pages from the pages fd at @offset. */
struct oc_rst_run {
	uint64_t vaddr;
	uint64_t nr_pages;
	uint64_t offset;
};

struct oc_rst_sigaction {
	uint64_t handler, flags, restorer, mask;
};

struct oc_rst_itimer {
	uint64_t isec, iusec, vsec, vusec;
};

struct oc_rst_posix_timer {
	int32_t id;
	int32_t clock_id;
	int32_t signo;
	int32_t notify; /* SIGEV_* */
	int32_t notify_tid;
	int32_t pad;
	uint64_t sival;
	uint64_t isec, insec, vsec, vnsec;
};

/* Seals a memfd may get only once the task's mappings of it exist. */
struct oc_rst_seal {
	int32_t fd;
	uint32_t seals;
};

#define OC_RST_MAX_LATE_SEALS 32

struct oc_rst_rlimit {
	uint64_t cur, max;
};

struct oc_rst_siginfo {
	int32_t tid; /* 0: process-wide queue */
	int32_t signo;
	uint8_t info[128];
};

struct oc_rst_creds {
	uint32_t uid, euid, suid, fsuid;
	uint32_t gid, egid, sgid, fsgid;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	uint32_t secbits;
	uint32_t no_new_privs;
	uint32_t n_groups;
	uint32_t groups[64];
	uint32_t last_cap; /* highest capability this kernel knows */
	uint32_t skip;	   /* same as the agent's: nothing to change */
};

/* One seccomp filter program (struct sock_filter[n_insns]). */
struct oc_rst_seccomp_filter {
	uint64_t insns;
	uint32_t n_insns;
	uint32_t flags; /* SECCOMP_FILTER_FLAG_* */
};

/* Pid namespace levels a thread's tid is set in (the kernel's 32 at most). */
#define OC_RST_NS_LEVELS 32

struct oc_rst_thread {
	int32_t tid;			   /* in its own pid namespace */
	uint32_t n_set_tid;		   /* its tids from there up to the tree's: */
	int32_t set_tid[OC_RST_NS_LEVELS]; /* clone3's set_tid, [0] = tid */
	uint64_t stack_top;		   /* blob stack for this thread */
	uint64_t clear_tid_addr;
	uint64_t robust_list, robust_list_len;
	uint64_t rseq_addr;
	uint32_t rseq_len, rseq_sig;
	uint64_t sas_sp, sas_size;
	int32_t sas_flags;
	int32_t pdeath_sig;
	char comm[16]; /* thread name (PR_SET_NAME), "" to keep */
	struct oc_rst_creds creds;
	uint32_t seccomp_mode;	       /* SECCOMP_MODE_*: strict or filter to enter */
	uint32_t seccomp_before_creds; /* the new creds could not install filters */
	uint32_t n_seccomp_filters;
	uint32_t pad3;
	uint64_t seccomp_filters; /* struct oc_rst_seccomp_filter[], oldest first */
};

struct oc_rst_mm {
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t auxv[64];
	uint32_t auxv_words;
	int32_t exe_fd;
	uint32_t dumpable;
	uint32_t thp_disabled;
	uint32_t membarrier_mask; /* MEMBARRIER_CMD_REGISTER_* bits to register */
	uint32_t pad;
};

#define OC_RST_MAX_VDSO_PATCHES 32

struct oc_rst_vdso_patch {
	uint64_t addr;	 /* entry of the old function */
	uint64_t target; /* entry of this kernel's */
};

struct oc_rst_args {
	uint64_t magic;
	uint64_t area_start, area_end;
	uint64_t task_size;

	int32_t pid;
	int32_t pages_fd;
	int32_t status_fd; /* failures are reported here */
	int32_t populate;  /* pre-fault page runs with MADV_POPULATE_WRITE */
	/* fds from first_helper_fd up are the coordinator's: it closes them
	 * once every task of the tree is done (tasks may share a table). */
	int32_t first_helper_fd, last_helper_fd;

	uint64_t vdso_start; /* where this kernel's [vdso] goes, 0 for none */
	uint64_t vvar_start; /* where its [vvar] begins (vdso_start - vvar size) */
	/* An old kernel's vDSO restored as memory: each of its functions is
	 * made to jump to this kernel's, once the pages are in. */
	uint32_t n_vdso_patches;
	uint32_t pad3;
	struct oc_rst_vdso_patch vdso_patches[OC_RST_MAX_VDSO_PATCHES];

	struct oc_rst_vma *vmas;
	uint32_t n_vmas;
	uint32_t n_runs;
	struct oc_rst_run *runs;

	struct oc_rst_range *guards;
	uint32_t n_guards;
	uint32_t n_aio_rings;
	struct oc_rst_aio_ring *aio_rings;
	int32_t aio_null_fd; /* /dev/null, whose writes complete at once */
	int32_t pad4;

	uint32_t n_late_seals;
	uint32_t pad2;
	struct oc_rst_seal late_seals[OC_RST_MAX_LATE_SEALS];

	struct oc_rst_mm mm;

	uint32_t personality;
	uint32_t pad1;

	struct oc_rst_sigaction sigactions[64]; /* index sig - 1; 9, 19 unused */
	struct oc_rst_itimer itimers[3];
	struct oc_rst_posix_timer *timers;
	uint32_t n_timers;
	uint32_t n_rlimits;
	struct oc_rst_rlimit rlimits[16];

	struct oc_rst_siginfo *siginfos;
	uint32_t n_siginfos;

	uint32_t n_threads; /* [0] is the main thread */
	struct oc_rst_thread *threads;
	/* The oldest filters all threads share: the main thread's first
	 * n_seccomp_shared, installed before it creates the others. */
	uint32_t n_seccomp_shared;
	uint32_t pad5;
	uint64_t seccomp_shared; /* struct oc_rst_seccomp_filter[], oldest first */

	/* Written by the blob. */
	volatile int32_t failed_step;
	volatile int32_t failed_errno;
	volatile int32_t threads_started;
};

/*
 * Messages a task being restored sends the coordinator on its socket
 * (SOCK_SEQPACKET, one message a packet), each starting with its type:
 * the agent's are struct oc_agent_msg (restore/restore.h), the blob's
 * struct oc_rst_report.
 */
enum oc_rst_msg_type {
	OC_AGENT_FAILED = 1, /* text says why */
	OC_AGENT_JUMPING,    /* entering the blob; area_start/area_len set */
	OC_AGENT_WARNING,    /* text is a warning for the user's log */
	OC_AGENT_INFO,	     /* text is a line for the log */
	OC_BLOB_FAILED,	     /* struct oc_rst_report: a step of the blob failed */
};

/* What the blob writes to status_fd when a step fails. */
struct oc_rst_report {
	int32_t type; /* OC_BLOB_FAILED */
	int32_t step;
	int32_t err; /* positive errno */
	int32_t tid;
	int32_t index; /* which VMA, signal, timer, thread... */
};

/* Step numbers reported in failed_step. */
enum oc_rst_step {
	OC_RST_STEP_NONE = 0,
	OC_RST_STEP_UNMAP,
	OC_RST_STEP_VDSO,
	OC_RST_STEP_MMAP,
	OC_RST_STEP_PAGES,
	OC_RST_STEP_MPROTECT,
	OC_RST_STEP_MM,
	OC_RST_STEP_SIGACTION,
	OC_RST_STEP_ITIMER,
	OC_RST_STEP_TIMER,
	OC_RST_STEP_RLIMIT,
	OC_RST_STEP_CLONE,
	OC_RST_STEP_THREAD,
	OC_RST_STEP_CREDS,
	OC_RST_STEP_SIGQUEUE,
	OC_RST_STEP_SEALS,
	OC_RST_STEP_SECCOMP,
	OC_RST_STEP_AIO,
	OC_RST_STEP_GUARD,
	_OC_RST_STEP_MAX,
};

#endif
