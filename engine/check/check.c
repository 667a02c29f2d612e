// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * `ocicr check`: probe the kernel interfaces ocicr relies on, each with a
 * harmless call, and say whether checkpoint/restore can work here.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/aio_abi.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ocicr.h"
#include "core/cleanup.h"
#include "proc/proc.h"
#include "res/net/xtables.h"

enum probe_need {
	NEED_REQUIRED, /* without it nothing works */
	NEED_FEATURE,  /* a feature is missing without it */
};

struct probe {
	const char *name;
	enum probe_need need;
	const char *why;
	bool (*run)(void);
};

static bool has_cap(cap_value_t cap)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;

	if (caps) {
		cap_get_flag(caps, cap, CAP_EFFECTIVE, &v);
		cap_free(caps);
	}
	return v == CAP_SET;
}

static bool probe_admin(void)
{
	return has_cap(CAP_SYS_ADMIN) || has_cap(CAP_CHECKPOINT_RESTORE);
}

static bool probe_ptrace(void)
{
	return has_cap(CAP_SYS_PTRACE);
}

static bool probe_sys_resource(void)
{
	return has_cap(CAP_SYS_RESOURCE);
}

/* A child that waits to be looked at. */
static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static bool probe_seize(void)
{
	pid_t pid = spawn_sleeper();
	int st;
	bool ok = false;

	if (pid < 0)
		return false;
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) == 0 && ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0 &&
	    waitpid(pid, &st, __WALL) == pid && WIFSTOPPED(st)) {
		uint64_t mask;
		ok = ptrace(PTRACE_GETSIGMASK, pid, sizeof(mask), &mask) == 0;
	}
	reap(pid);
	return ok;
}

/* A child under a filter that allows everything, seized and stopped; the
 * pipe makes sure the filter is in place before it is looked at. */
static pid_t spawn_filtered_tracee(void)
{
	static const struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	int p[2];
	char c;
	int st;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		struct sock_fprog prog = { .len = ARRAY_SIZE(allow), .filter = (struct sock_filter *)allow };
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
			_exit(1);
		if (write(p[1], "", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	bool ready = pid > 0 && read(p[0], &c, 1) == 1;
	close(p[0]);
	if (pid > 0 && (!ready || ptrace(PTRACE_SEIZE, pid, 0, 0) < 0 || ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0 ||
			waitpid(pid, &st, __WALL) != pid)) {
		reap(pid);
		return -1;
	}
	return pid;
}

/* What a dump does with a task under seccomp: suspend its filters while
 * ocicr works in it, and (@read) read them. */
static bool seccomp_dumpable(bool read)
{
	pid_t pid = spawn_filtered_tracee();
	bool ok;

	if (pid < 0)
		return false;
	ok = ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_SUSPEND_SECCOMP) == 0 &&
	     (!read || ptrace(0x420c /* PTRACE_SECCOMP_GET_FILTER */, pid, 0, NULL) == 1);
	reap(pid);
	return ok;
}

static bool probe_seccomp_suspend(void)
{
	return seccomp_dumpable(false);
}

static bool probe_seccomp_filters(void)
{
	return seccomp_dumpable(true);
}

/* What a restore does with a task's audit loginuid: unset it where it is
 * set (CAP_AUDIT_CONTROL, a kernel that lets it change), then set it once.
 * In a child, which dies with whatever it made of its own. */
static bool probe_loginuid(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		static const char *const values[] = { "4294967295", "0" };
		for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
			int fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, values[i], strlen(values[i])) < 0)
				_exit(1);
			close(fd);
		}
		_exit(0);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static bool probe_rseq_config(void)
{
	pid_t pid = spawn_sleeper();
	uint64_t conf[3];
	int st;
	bool ok = false;

	if (pid < 0)
		return false;
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) == 0 && ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0 &&
	    waitpid(pid, &st, __WALL) == pid)
		ok = ptrace(0x420f /* PTRACE_GET_RSEQ_CONFIGURATION */, pid, sizeof(conf), conf) > 0;
	reap(pid);
	return ok;
}

static bool probe_pidfd(void)
{
	int pfd = syscall(SYS_pidfd_open, getpid(), 0);
	if (pfd < 0)
		return false;
	int fd = syscall(SYS_pidfd_getfd, pfd, 0, 0);
	close(pfd);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool probe_vm_readv(void)
{
	char src[8] = "ocicr", dst[8] = "";
	struct iovec l = { dst, sizeof(dst) }, r = { src, sizeof(src) };
	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == sizeof(src) && !strcmp(dst, "ocicr");
}

static bool probe_kcmp(void)
{
	return syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, 0, 0) == 0;
}

static bool memfd_with(unsigned int flags)
{
	int fd = memfd_create("ocicr-check", MFD_CLOEXEC | flags);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool probe_memfd(void)
{
	return memfd_with(MFD_ALLOW_SEALING);
}

/* Made without a huge page reserved: pages are taken at fault. */
static bool probe_memfd_hugetlb(void)
{
	return memfd_with(MFD_HUGETLB);
}

static bool probe_clone3_set_tid(void)
{
	/* Asking for our own pid must fail with EEXIST, not EPERM/ENOSYS. */
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
			set_tid_size, cgroup;
	} ca = { .exit_signal = SIGCHLD };
	pid_t self = getpid();
	ca.set_tid = (uintptr_t)&self;
	ca.set_tid_size = 1;
	long r = syscall(SYS_clone3, &ca, sizeof(ca));
	if (r == 0)
		_exit(0);
	if (r > 0) {
		waitpid(r, NULL, 0);
		return true;
	}
	return errno == EEXIST;
}

static bool probe_pagemap_scan(void)
{
	/* PAGEMAP_SCAN = _IOWR('f', 16, struct pm_scan_arg); a zero-sized
	 * argument is refused with EINVAL, an unknown ioctl with ENOTTY. */
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	int r = ioctl(fd, _IOWR('f', 16, char[96]), NULL);
	int e = errno;
	close(fd);
	return r == 0 || e != ENOTTY;
}

/* PAGE_IS_GUARD (Linux 6.14): an unknown category is refused with EINVAL. */
static bool probe_pagemap_scan_guard(void)
{
	_cleanup_close_ int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t page = (uintptr_t)&fd & ~4095ull;
	struct {
		uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
		uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
	} arg = {
		.size = sizeof(arg), .start = page, .end = page + 4096, .category_mask = 1 << 8, .return_mask = 1 << 8
	};

	return fd >= 0 && ioctl(fd, _IOWR('f', 16, arg), &arg) >= 0;
}

/* An AIO ring moved with mremap() stays its context, under its new
 * address: the restorer puts each ring back where it was so. */
static bool probe_aio_remap(void)
{
	aio_context_t ctx = 0;
	struct io_event ev;

	if (syscall(SYS_io_setup, 1, &ctx) < 0)
		return false;
	uint32_t nr = ((const uint32_t *)ctx)[1];
	size_t len = (32 + (size_t)nr * sizeof(struct io_event) + 4095) & ~4095ul;
	void *to = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (to == MAP_FAILED) {
		syscall(SYS_io_destroy, ctx);
		return false;
	}
	if (mremap((void *)ctx, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED) {
		munmap(to, len);
		syscall(SYS_io_destroy, ctx);
		return false;
	}
	struct timespec now = { 0, 0 };
	bool ok = syscall(SYS_io_getevents, (aio_context_t)to, 0, 1, &ev, &now) == 0;
	syscall(SYS_io_destroy, (aio_context_t)to);
	return ok;
}

static bool probe_userfaultfd(void)
{
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool probe_kcmp_epoll(void)
{
	_cleanup_close_ int ep = epoll_create1(EPOLL_CLOEXEC), ev = eventfd(0, EFD_CLOEXEC);
	struct epoll_event e = { .events = EPOLLIN };
	struct {
		uint32_t efd, tfd, toff;
	} slot = { ep, ev, 0 };

	if (ep < 0 || ev < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) < 0)
		return false;
	return syscall(SYS_kcmp, getpid(), getpid(), KCMP_EPOLL_TFD, ev, &slot) == 0;
}

static bool probe_timerfd_ticks(void)
{
	_cleanup_close_ int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	/* TFD_IOC_SET_TICKS: a NULL argument faults only where it exists. */
	return fd >= 0 && ioctl(fd, _IOW('T', 0, uint64_t), NULL) < 0 && errno == EFAULT;
}

static bool probe_inotify_nextwd(void)
{
	_cleanup_close_ int fd = inotify_init1(IN_CLOEXEC);

	/* INOTIFY_IOC_SETNEXTWD */
	return fd >= 0 && ioctl(fd, _IOW('I', 0, int32_t), 1) == 0;
}

/* How ocicr learns a thread's pid inside a pid namespace (res/ns/pid.c). */
static bool probe_nspid(void)
{
	struct oc_proc_status st = {};
	bool has = oc_proc_read_thread_status(getpid(), getpid(), &st) == 0 && st.has_nspid;

	oc_proc_status_clear(&st);
	return has;
}

static bool probe_timens(void)
{
	return access("/proc/self/ns/time", F_OK) == 0;
}

static bool probe_cgroupns(void)
{
	return access("/proc/self/ns/cgroup", F_OK) == 0;
}

static bool probe_timer_ids(void)
{
	int r = prctl(77 /* PR_TIMER_CREATE_RESTORE_IDS */, 2 /* _GET */, 0, 0, 0);
	return r >= 0;
}

static bool probe_vdso(void)
{
	/* ARCH_MAP_VDSO_64 exists with CONFIG_CHECKPOINT_RESTORE; with a vDSO
	 * mapped it answers EEXIST. */
	long r = syscall(SYS_arch_prctl, 0x2003, 0x10000);
	return r == 0 || errno == EEXIST;
}

/* CRIU saves and restores a namespace's legacy iptables rules with them. */
static bool probe_ipt_legacy(void)
{
	return oc_xtables_has_legacy();
}

static const struct probe probes[] = {
	{ "root capabilities (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE)", NEED_REQUIRED,
	  "creating tasks with chosen pids and setting mm fields", probe_admin },
	{ "CAP_SYS_PTRACE", NEED_REQUIRED, "freezing tasks", probe_ptrace },
	{ "ptrace seize, interrupt and signal masks", NEED_REQUIRED, "freezing tasks", probe_seize },
	{ "pidfd_open and pidfd_getfd", NEED_REQUIRED, "reading file descriptors", probe_pidfd },
	{ "process_vm_readv", NEED_REQUIRED, "reading memory", probe_vm_readv },
	{ "kcmp", NEED_REQUIRED, "finding shared files and tables", probe_kcmp },
	{ "clone3 with set_tid", NEED_REQUIRED, "restoring pids", probe_clone3_set_tid },
	{ "ARCH_MAP_VDSO_64 (CONFIG_CHECKPOINT_RESTORE)", NEED_REQUIRED, "placing the vDSO", probe_vdso },
	{ "memfd_create", NEED_FEATURE, "shared memory", probe_memfd },
	{ "memfd_create with MFD_HUGETLB", NEED_FEATURE, "shared memory of huge TLB pages", probe_memfd_hugetlb },
	{ "PTRACE_O_SUSPEND_SECCOMP", NEED_FEATURE, "tasks under seccomp (strict mode or filters)",
	  probe_seccomp_suspend },
	{ "PTRACE_SECCOMP_GET_FILTER", NEED_FEATURE, "seccomp filters", probe_seccomp_filters },
	{ "audit loginuid (/proc/PID/loginuid)", NEED_FEATURE, "tasks' login uids", probe_loginuid },
	{ "PTRACE_GET_RSEQ_CONFIGURATION", NEED_FEATURE, "rseq registrations", probe_rseq_config },
	{ "PR_TIMER_CREATE_RESTORE_IDS", NEED_FEATURE, "POSIX timers with their ids", probe_timer_ids },
	{ "NSpid in /proc/PID/status", NEED_FEATURE, "pid namespaces (a thread's pid there, as timers name it)",
	  probe_nspid },
	{ "time namespaces", NEED_FEATURE, "monotonic clocks across restore", probe_timens },
	{ "cgroup namespaces", NEED_FEATURE, "containers' own view of their cgroups", probe_cgroupns },
	{ "PAGEMAP_SCAN", NEED_FEATURE, "fast present-page scans", probe_pagemap_scan },
	{ "PAGEMAP_SCAN with PAGE_IS_GUARD", NEED_FEATURE, "guard regions (MADV_GUARD_INSTALL)",
	  probe_pagemap_scan_guard },
	{ "AIO rings moved with mremap", NEED_FEATURE, "AIO rings (io_setup)", probe_aio_remap },
	{ "userfaultfd", NEED_FEATURE, "lazy restore and dirty tracking", probe_userfaultfd },
	{ "kcmp KCMP_EPOLL_TFD", NEED_FEATURE, "dumping epoll watches", probe_kcmp_epoll },
	{ "TFD_IOC_SET_TICKS", NEED_FEATURE, "timerfd expirations not read yet", probe_timerfd_ticks },
	{ "INOTIFY_IOC_SETNEXTWD", NEED_FEATURE, "inotify wd numbers without adding and removing watches",
	  probe_inotify_nextwd },
	{ "legacy iptables (iptables-legacy-save)", NEED_FEATURE, "the legacy iptables rules of a network namespace",
	  probe_ipt_legacy },
	{ "CAP_SYS_RESOURCE", NEED_FEATURE, "raising hard rlimits on restore (clamped with a warning)",
	  probe_sys_resource },
};

int oc_check_probe(const char *name, bool *ret_has)
{
	for (size_t i = 0; i < ARRAY_SIZE(probes); i++)
		if (!strcmp(probes[i].name, name)) {
			*ret_has = probes[i].run();
			return 0;
		}
	return -ENOENT;
}

int oc_check(FILE *out, bool *ret_ok)
{
	bool ok = true;
	size_t missing = 0;

	for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
		bool has = probes[i].run();
		fprintf(out, "  %-8s %s%s%s\n", has ? "ok" : (probes[i].need == NEED_REQUIRED ? "MISSING" : "absent"),
			probes[i].name, has ? "" : " -- needed for ", has ? "" : probes[i].why);
		if (!has && probes[i].need == NEED_REQUIRED)
			ok = false;
		if (!has)
			missing++;
	}
	if (ok)
		fprintf(out, "Looks good: ocicr can checkpoint and restore here%s.\n",
			missing ? " (some features are limited, see above)" : "");
	else
		fprintf(out, "ocicr cannot checkpoint and restore here: a required interface is missing.\n");
	*ret_ok = ok;
	return 0;
}
