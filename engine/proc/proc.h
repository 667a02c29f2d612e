/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proc: pure parsers of /proc text.
 *
 * Every parser takes a NUL-terminated text buffer, never a pid, so the unit
 * tests feed them captured text; oc_proc_read() is the one place that reads
 * a /proc file into such a buffer.
 *
 * Conventions (util/error.h): 0 on success, a negative errno on failure,
 * described once with oc_error().  Malformed text gives -EINVAL and a
 * message naming the file kind, the line number and the line ("status: line
 * 9: bad Uid: ..."); out of memory gives -ENOMEM.  Output parameters are
 * written only on success; what a parser allocates is released with the
 * matching *_free() / *_clear() function.  Unknown lines and keys are
 * ignored, so newer kernels that add lines keep working.
 *
 * The formats were checked against Linux 6.18 (samples captured on it are in
 * tests/unit/data/proc/) and the kernel sources that print them (fs/proc/,
 * fs/locks.c, fs/notify/fdinfo.c, fs/eventpoll.c, fs/eventfd.c,
 * fs/signalfd.c, fs/timerfd.c, kernel/pid.c).
 */
#ifndef OCICR_PROC_PROC_H
#define OCICR_PROC_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- reading ---------------------------------------------------------- */

/* The largest /proc file oc_proc_read() accepts (-EFBIG beyond). */
#define OC_PROC_READ_MAX (512u << 20)

/*
 * Read /proc/PID/NAME (/proc/self/NAME when @pid is 0) whole into a new
 * NUL-terminated buffer; @name is relative, e.g. "status", "task/123/stat",
 * "fdinfo/5".  @ret_len (may be NULL) gets the length without the NUL.
 */
int oc_proc_read(pid_t pid, const char *name, char **ret_buf, size_t *ret_len);

/* readlink() of /proc/PID/NAME (pid 0 = self) into a new string. */
int oc_proc_readlink(pid_t pid, const char *name, char **ret);

/* ---- /proc/PID/maps and /proc/PID/smaps ------------------------------- */

/*
 * The two-letter VmFlags codes of smaps as bits.  The bit values are ours,
 * not the kernel's VM_* values; historic codes (dw, nl, mp) are kept so old
 * captures parse.  Codes not listed here are ignored.
 */
enum oc_vmflag {
	OC_VMF_RD = 1ULL << 0,	/* readable */
	OC_VMF_WR = 1ULL << 1,	/* writable */
	OC_VMF_EX = 1ULL << 2,	/* executable */
	OC_VMF_SH = 1ULL << 3,	/* shared */
	OC_VMF_MR = 1ULL << 4,	/* may read */
	OC_VMF_MW = 1ULL << 5,	/* may write */
	OC_VMF_ME = 1ULL << 6,	/* may execute */
	OC_VMF_MS = 1ULL << 7,	/* may share */
	OC_VMF_GD = 1ULL << 8,	/* stack segment grows down */
	OC_VMF_PF = 1ULL << 9,	/* pure PFN range */
	OC_VMF_DW = 1ULL << 10, /* disabled write to the mapped file (old) */
	OC_VMF_LO = 1ULL << 11, /* pages are locked in memory */
	OC_VMF_IO = 1ULL << 12, /* memory mapped I/O area */
	OC_VMF_SR = 1ULL << 13, /* sequential read advise provided */
	OC_VMF_RR = 1ULL << 14, /* random read advise provided */
	OC_VMF_DC = 1ULL << 15, /* do not copy area on fork */
	OC_VMF_DE = 1ULL << 16, /* do not expand area on remapping */
	OC_VMF_AC = 1ULL << 17, /* area is accountable */
	OC_VMF_NR = 1ULL << 18, /* swap space is not reserved for the area */
	OC_VMF_HT = 1ULL << 19, /* area uses huge tlb pages */
	OC_VMF_SF = 1ULL << 20, /* perform synchronous page faults */
	OC_VMF_NL = 1ULL << 21, /* non-linear mapping (old) */
	OC_VMF_AR = 1ULL << 22, /* architecture specific flag */
	OC_VMF_WF = 1ULL << 23, /* wipe on fork */
	OC_VMF_DD = 1ULL << 24, /* do not include area into core dump */
	OC_VMF_SD = 1ULL << 25, /* soft dirty */
	OC_VMF_MM = 1ULL << 26, /* mixed map area */
	OC_VMF_HG = 1ULL << 27, /* huge page advise flag */
	OC_VMF_NH = 1ULL << 28, /* no huge page advise flag */
	OC_VMF_MG = 1ULL << 29, /* mergeable advise flag (KSM) */
	OC_VMF_UM = 1ULL << 30, /* userfaultfd missing tracking */
	OC_VMF_UW = 1ULL << 31, /* userfaultfd wr-protect tracking */
	OC_VMF_UI = 1ULL << 32, /* userfaultfd minor fault */
	OC_VMF_SS = 1ULL << 33, /* shadow stack page */
	OC_VMF_SL = 1ULL << 34, /* sealed */
	OC_VMF_LF = 1ULL << 35, /* lock on fault pages */
	OC_VMF_DP = 1ULL << 36, /* always lazily freeable mapping */
	OC_VMF_GU = 1ULL << 37, /* maybe contains guard regions */
	OC_VMF_BT = 1ULL << 38, /* arm64 BTI guarded page */
	OC_VMF_MT = 1ULL << 39, /* arm64 MTE allocation tags enabled */
	OC_VMF_MP = 1ULL << 40, /* MPX bounds table (old) */
};

/* The bit of a two-letter code ("gd"), or 0 if it is not known. */
uint64_t oc_vmflag_from_code(const char *code, size_t len);

/* The two-letter code of one bit, or NULL. */
const char *oc_vmflag_code(uint64_t flag);

/* What the name column of a VMA is. */
enum oc_vma_kind {
	OC_VMA_ANON = 0,	 /* no name */
	OC_VMA_FILE,		 /* an absolute path ("/memfd:x", "/dev/zero", "/SYSV..." too) */
	OC_VMA_HEAP,		 /* [heap] */
	OC_VMA_STACK,		 /* [stack] */
	OC_VMA_VDSO,		 /* [vdso] */
	OC_VMA_VVAR,		 /* [vvar] */
	OC_VMA_VVAR_VCLOCK,	 /* [vvar_vclock] (6.13+) */
	OC_VMA_VSYSCALL,	 /* [vsyscall] */
	OC_VMA_UPROBES,		 /* [uprobes] */
	OC_VMA_ANON_NAMED,	 /* [anon:NAME] (PR_SET_VMA_ANON_NAME) */
	OC_VMA_ANON_SHMEM_NAMED, /* [anon_shmem:NAME] */
	OC_VMA_SPECIAL,		 /* another "[...]" name */
	OC_VMA_OTHER,		 /* a name that is not a path ("anon_inode:[...]") */
	OC_VMA_KIND_MAX,
};

struct oc_proc_vma {
	uint64_t start;	   /* first byte */
	uint64_t end;	   /* one past the last byte */
	uint64_t pgoff;	   /* file offset in bytes, as printed */
	unsigned int prot; /* PROT_READ | PROT_WRITE | PROT_EXEC */
	bool shared;	   /* 's' rather than 'p' */
	bool deleted;	   /* " (deleted)" was stripped from the path */
	unsigned int dev_major;
	unsigned int dev_minor;
	uint64_t inode;
	enum oc_vma_kind kind;
	/*
	 * Never NULL; "" for anonymous memory.  Exactly as printed otherwise
	 * (the kernel escapes only '\n', as "\012"), less " (deleted)".  A file
	 * whose name really ends in " (deleted)" cannot be told apart: check
	 * with map_files/ or stat when it matters.
	 */
	char *path;

	/* smaps only; all zero when parsing maps. */
	bool has_smaps;	  /* at least one smaps field line was seen */
	bool has_vmflags; /* a VmFlags line was seen */
	uint64_t vmflags; /* enum oc_vmflag bits */
	uint64_t size_kb;
	uint64_t kernel_page_size_kb;
	uint64_t mmu_page_size_kb;
	uint64_t rss_kb;
	uint64_t anonymous_kb;
	uint64_t anon_huge_pages_kb;
	uint64_t swap_kb;
	uint64_t locked_kb;
};

/*
 * Parse /proc/PID/maps or /proc/PID/smaps text.  Empty text is valid (a
 * zombie or a kernel thread has no VMAs): *ret_n is then 0 and *ret_vmas
 * NULL.  VMAs must come in increasing, non-overlapping order.
 */
int oc_proc_parse_maps(const char *text, struct oc_proc_vma **ret_vmas, size_t *ret_n);

/* Read and parse /proc/PID/maps (0: our own). */
int oc_proc_read_maps(pid_t pid, struct oc_proc_vma **ret_vmas, size_t *ret_n);

void oc_proc_vmas_free(struct oc_proc_vma *vmas, size_t n);

/* ---- /proc/PID/status ------------------------------------------------- */

/* MAX_PID_NS_LEVEL: one NSpid value per level. */
#define OC_PROC_NS_LEVELS_MAX 32
/* The kernel prints at most 63 bytes of task name (proc_task_name()). */
#define OC_PROC_COMM_MAX 64

/*
 * Name, State, Tgid, Pid, PPid, Uid and Gid are required; every other field
 * has a has_ flag that is false when its line is missing.
 */
struct oc_proc_status {
	char name[OC_PROC_COMM_MAX]; /* unescaped ("\n" and "\\" decoded) */
	char state;		     /* 'R', 'S', 'D', 'T', 't', 'Z', 'X', 'I', ... */
	pid_t tgid;
	pid_t pid;
	pid_t ppid;
	uid_t uid[4]; /* real, effective, saved, filesystem */
	gid_t gid[4];

	bool has_tracer_pid;
	pid_t tracer_pid;

	bool has_umask;
	mode_t umask;

	bool has_groups; /* a Groups line, maybe empty */
	gid_t *groups;	 /* malloc'd; NULL when n_groups is 0 */
	size_t n_groups;

	/* Outermost pid namespace first; the last value is the innermost. */
	bool has_nstgid;
	pid_t nstgid[OC_PROC_NS_LEVELS_MAX];
	size_t n_nstgid;
	bool has_nspid;
	pid_t nspid[OC_PROC_NS_LEVELS_MAX];
	size_t n_nspid;
	bool has_nspgid;
	pid_t nspgid[OC_PROC_NS_LEVELS_MAX];
	size_t n_nspgid;
	bool has_nssid;
	pid_t nssid[OC_PROC_NS_LEVELS_MAX];
	size_t n_nssid;

	bool has_threads;
	unsigned int threads;

	bool has_sigq; /* "SigQ: queued/limit" */
	uint64_t sigq_queued;
	uint64_t sigq_limit;

	/* Signal masks: bit (N - 1) is signal N. */
	bool has_sigpnd;
	uint64_t sigpnd;
	bool has_shdpnd;
	uint64_t shdpnd;
	bool has_sigblk;
	uint64_t sigblk;
	bool has_sigign;
	uint64_t sigign;
	bool has_sigcgt;
	uint64_t sigcgt;

	bool has_cap_inh;
	uint64_t cap_inh;
	bool has_cap_prm;
	uint64_t cap_prm;
	bool has_cap_eff;
	uint64_t cap_eff;
	bool has_cap_bnd;
	uint64_t cap_bnd;
	bool has_cap_amb;
	uint64_t cap_amb;

	bool has_no_new_privs;
	bool no_new_privs;
	bool has_seccomp;
	unsigned int seccomp; /* SECCOMP_MODE_* */
	bool has_seccomp_filters;
	unsigned int seccomp_filters;
};

int oc_proc_parse_status(const char *text, struct oc_proc_status *ret);

/* Read and parse /proc/PID/task/TID/status; oc_proc_status_clear() it. */
int oc_proc_read_thread_status(pid_t pid, pid_t tid, struct oc_proc_status *ret);

/* Free what parse_status allocated and zero @st; NULL is fine. */
void oc_proc_status_clear(struct oc_proc_status *st);

/* ---- /proc/PID/stat, /proc/PID/task/TID/stat -------------------------- */

/* Field numbers (1-based) as in proc(5); 52 fields since Linux 3.5. */
struct oc_proc_stat {
	pid_t pid;			/* 1 */
	char comm[OC_PROC_COMM_MAX];	/* 2, raw (not escaped by the kernel) */
	char state;			/* 3 */
	pid_t ppid;			/* 4 */
	pid_t pgrp;			/* 5 */
	pid_t session;			/* 6 */
	int tty_nr;			/* 7 */
	pid_t tpgid;			/* 8 */
	unsigned int flags;		/* 9, PF_* */
	uint64_t minflt;		/* 10 */
	uint64_t cminflt;		/* 11 */
	uint64_t majflt;		/* 12 */
	uint64_t cmajflt;		/* 13 */
	uint64_t utime;			/* 14, clock ticks */
	uint64_t stime;			/* 15 */
	int64_t cutime;			/* 16 */
	int64_t cstime;			/* 17 */
	int64_t priority;		/* 18 */
	int64_t nice;			/* 19 */
	int64_t num_threads;		/* 20 */
	uint64_t starttime;		/* 22, clock ticks since boot */
	uint64_t vsize;			/* 23, bytes */
	int64_t rss;			/* 24, pages */
	uint64_t rsslim;		/* 25 */
	uint64_t start_code;		/* 26 */
	uint64_t end_code;		/* 27 */
	uint64_t start_stack;		/* 28 */
	uint64_t kstkesp;		/* 29 */
	uint64_t kstkeip;		/* 30 */
	uint64_t wchan;			/* 35 */
	int exit_signal;		/* 38 */
	int processor;			/* 39 */
	unsigned int rt_priority;	/* 40 */
	unsigned int policy;		/* 41, SCHED_* */
	uint64_t delayacct_blkio_ticks; /* 42 */
	uint64_t guest_time;		/* 43 */
	int64_t cguest_time;		/* 44 */

	/* Fields 45-51 (Linux 3.3+); zero when the task has no mm. */
	bool has_mm_layout;
	uint64_t start_data; /* 45 */
	uint64_t end_data;   /* 46 */
	uint64_t start_brk;  /* 47 */
	uint64_t arg_start;  /* 48 */
	uint64_t arg_end;    /* 49 */
	uint64_t env_start;  /* 50 */
	uint64_t env_end;    /* 51 */

	bool has_exit_code; /* field 52 (Linux 3.5+) */
	int exit_code;	    /* 52, as waitpid() would report it */
};

/*
 * The comm is taken between the first '(' and the last ')', so it may hold
 * spaces, parentheses and even newlines.  Fields 1-44 are required.
 */
int oc_proc_parse_stat(const char *text, struct oc_proc_stat *ret);

/* ---- /proc/PID/fdinfo/FD ---------------------------------------------- */

/* "tfd: N events: HEX data: HEX pos:N ino:HEX sdev:HEX" */
struct oc_proc_epoll_tfd {
	int tfd;
	uint32_t events;
	uint64_t data;
	int64_t pos; /* the target file's f_pos */
	uint64_t ino;
	uint32_t sdev; /* the kernel's dev_t: major << 20 | minor */
};

/* MAX_HANDLE_SZ */
#define OC_PROC_FHANDLE_MAX 128

/* "fhandle-bytes:HEX fhandle-type:HEX f_handle:HEX", when the fs has one */
struct oc_proc_fhandle {
	bool present;
	uint32_t bytes;
	int32_t type;
	uint8_t handle[OC_PROC_FHANDLE_MAX];
};

/* "inotify wd:HEX ino:HEX sdev:HEX mask:HEX ignored_mask:HEX [fhandle]" */
struct oc_proc_inotify_wd {
	int wd;
	uint64_t ino;
	uint32_t sdev;
	uint32_t mask;
	uint32_t ignored_mask;
	struct oc_proc_fhandle fhandle;
};

enum oc_fanotify_mark_kind {
	OC_FANOTIFY_MARK_INODE = 0, /* fanotify ino:.. sdev:.. mflags:.. ... */
	OC_FANOTIFY_MARK_MOUNT,	    /* fanotify mnt_id:.. mflags:.. ... */
	OC_FANOTIFY_MARK_SB,	    /* fanotify sdev:.. mflags:.. ... */
	OC_FANOTIFY_MARK_MNTNS,	    /* fanotify mnt_ns:.. mflags:.. ... (6.14+) */
	OC_FANOTIFY_MARK_KIND_MAX,
};

struct oc_proc_fanotify_mark {
	enum oc_fanotify_mark_kind kind;
	uint64_t ino;	    /* inode */
	uint32_t sdev;	    /* inode, sb */
	uint32_t mnt_id;    /* mount */
	uint64_t mnt_ns;    /* mntns: the namespace's inode number ("mnt_ns:") */
	uint64_t mnt_ns_id; /* mntns: its 64-bit id, on kernels that print "mnt_ns_id:" */
	uint32_t mflags;    /* FAN_MARK_* user flags */
	uint32_t mask;
	uint32_t ignored_mask;
	struct oc_proc_fhandle fhandle; /* inode */
};

struct oc_proc_fdinfo {
	int64_t pos;	    /* loff_t */
	unsigned int flags; /* O_* (octal in the text) */
	bool has_mnt_id;
	int mnt_id;
	bool has_ino;
	uint64_t ino;

	/* eventfd */
	bool has_eventfd; /* an eventfd-count line */
	uint64_t eventfd_count;
	bool has_eventfd_id;
	unsigned int eventfd_id;
	bool has_eventfd_semaphore;
	bool eventfd_semaphore;

	/* epoll: one entry per watched target */
	struct oc_proc_epoll_tfd *epoll_tfds;
	size_t n_epoll_tfds;

	/* signalfd */
	bool has_signalfd;
	uint64_t signalfd_sigmask; /* bit (N - 1) is signal N */

	/* inotify: one entry per watch */
	struct oc_proc_inotify_wd *inotify_wds;
	size_t n_inotify_wds;

	/* fanotify: the group line, then one entry per mark */
	bool has_fanotify;
	uint32_t fanotify_flags;       /* FAN_* init flags */
	uint32_t fanotify_event_flags; /* O_* flags of event files */
	struct oc_proc_fanotify_mark *fanotify_marks;
	size_t n_fanotify_marks;

	/* timerfd: all five lines */
	bool has_timerfd;
	int timerfd_clockid;
	uint64_t timerfd_ticks;
	unsigned int timerfd_settime_flags; /* TFD_TIMER_* (octal) */
	uint64_t timerfd_value_sec, timerfd_value_nsec;
	uint64_t timerfd_interval_sec, timerfd_interval_nsec;

	/* pidfd: pid in the reader's namespace (0 not visible, -1 exited) */
	bool has_pidfd;
	pid_t pidfd_pid;
	bool has_pidfd_nspid;
	pid_t pidfd_nspid[OC_PROC_NS_LEVELS_MAX];
	size_t n_pidfd_nspid;

	/*
	 * "lock:" lines, raw text after "lock:\t"; each is a /proc/locks line
	 * that oc_proc_parse_locks() reads.
	 */
	char **locks;
	size_t n_locks;
};

/* pos and flags are required. */
int oc_proc_parse_fdinfo(const char *text, struct oc_proc_fdinfo *ret);

/* Free what parse_fdinfo allocated and zero @fi; NULL is fine. */
void oc_proc_fdinfo_clear(struct oc_proc_fdinfo *fi);

/* ---- /proc/PID/timers ------------------------------------------------- */

enum oc_timer_notify {
	OC_TIMER_NOTIFY_SIGNAL = 0, /* SIGEV_SIGNAL (+ SIGEV_THREAD_ID) */
	OC_TIMER_NOTIFY_NONE,	    /* SIGEV_NONE */
	OC_TIMER_NOTIFY_THREAD,	    /* SIGEV_THREAD (old kernels only) */
	OC_TIMER_NOTIFY_MAX,
};

/*
 * One block:
 *	ID: 1
 *	signal: 35/0000000000000055
 *	notify: signal/tid.7518
 *	ClockID: 0
 */
struct oc_proc_posix_timer {
	int id;
	int signo;
	uint64_t sigval; /* sigev_value, printed as a pointer */
	enum oc_timer_notify notify;
	bool thread_id; /* "tid.N": SIGEV_THREAD_ID, else "pid.N" */
	pid_t notify_pid;
	int clock_id; /* negative for CPU clocks */
};

/* Empty text is valid: no timers. */
int oc_proc_parse_timers(const char *text, struct oc_proc_posix_timer **ret, size_t *ret_n);

/* ---- /proc/locks ------------------------------------------------------ */

enum oc_lock_kind {
	OC_LOCK_POSIX = 0,
	OC_LOCK_FLOCK,
	OC_LOCK_OFD, /* OFDLCK */
	OC_LOCK_LEASE,
	OC_LOCK_DELEG,
	OC_LOCK_ACCESS,
	OC_LOCK_UNKNOWN,
	OC_LOCK_KIND_MAX,
};

enum oc_lock_mode {
	OC_LOCK_ADVISORY = 0,
	OC_LOCK_MANDATORY, /* before Linux 5.15 */
	OC_LOCK_NOINODE,   /* "*NOINODE*" */
	OC_LOCK_ACTIVE,	   /* leases */
	OC_LOCK_BREAKING,
	OC_LOCK_BREAKER,
	OC_LOCK_MODE_UNKNOWN,
	OC_LOCK_MODE_MAX,
};

enum oc_lock_type {
	OC_LOCK_READ = 0,
	OC_LOCK_WRITE,
	OC_LOCK_UNLCK,
	OC_LOCK_TYPE_MAX,
};

/* "1: POSIX  ADVISORY  WRITE 1234 08:01:1234 0 EOF" */
struct oc_proc_lock {
	uint64_t id;
	enum oc_lock_kind kind;
	enum oc_lock_mode mode;
	enum oc_lock_type type;
	pid_t pid;	/* -1 for OFD locks, 0 when not visible */
	bool has_inode; /* false for "<none>:0" */
	unsigned int dev_major;
	unsigned int dev_minor;
	uint64_t inode;
	int64_t start;
	int64_t end; /* inclusive; -1 for "EOF" */
};

/*
 * Parse /proc/locks text (or one raw fdinfo "lock:" line).  Blocked waiters
 * ("1: -> FLOCK ...") are skipped.  Empty text is valid: no locks.
 */
int oc_proc_parse_locks(const char *text, struct oc_proc_lock **ret, size_t *ret_n);

/* ---- /proc/PID/ns/KIND ------------------------------------------------ */

/*
 * The inode number in a namespace link, "net:[4026531840]".  @kind ("net",
 * "pid_for_children", ...) must match, or is not checked when NULL.
 */
int oc_proc_parse_ns_link(const char *link, const char *kind, uint64_t *ret_ino);

/*
 * The @n numbers of a /proc/sys file's text (@name, for errors): unsigned,
 * or -N (stored as its two's complement: kernel.shm_next_id is -1 unset).
 */
int oc_proc_parse_sysctl(const char *text, const char *name, uint64_t *vals, size_t n);

#endif
