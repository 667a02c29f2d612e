// SPDX-License-Identifier: LGPL-2.1-or-later
#include <dirent.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seize/seize.h"
#include "proc/proc.h"
#include "core/cleanup.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"

#define SEIZE_OPTIONS (PTRACE_O_TRACESYSGOOD)
/* How long a release that kills the tree waits for its tasks to end. */
#define KILLED_WAIT_US (10 * 1000 * 1000)

static __thread struct timespec wait_deadline; /* zero: wait as long as it takes */
static __thread unsigned wait_timeout_s;
static __thread const pid_t *preseized;
static __thread size_t n_preseized;

void oc_seize_set_preseized(const pid_t *tids, size_t n)
{
	preseized = tids;
	n_preseized = n;
}

static bool is_preseized(pid_t tid)
{
	for (size_t i = 0; i < n_preseized; i++)
		if (preseized[i] == tid)
			return true;
	return false;
}

void oc_seize_set_timeout(unsigned seconds)
{
	wait_timeout_s = seconds;
	wait_deadline = (struct timespec){};
	if (seconds) {
		clock_gettime(CLOCK_MONOTONIC, &wait_deadline);
		wait_deadline.tv_sec += seconds;
	}
}

/*
 * waitpid() that gives up at the deadline: a thread that cannot stop (in a
 * frozen cgroup, say) fails the freeze instead of hanging it.  A stop
 * usually comes within microseconds: the wait first yields the CPU to the
 * stopping thread, then polls with a growing pause.
 */
static pid_t wait_bounded(pid_t tid, int *status)
{
	struct timespec now, pause = { 0, 1000 };

	if (!wait_timeout_s)
		return waitpid(tid, status, __WALL);
	for (int tries = 0;; tries++) {
		pid_t r = waitpid(tid, status, __WALL | WNOHANG);
		if (r != 0)
			return r;
		if (tries < 64) {
			sched_yield();
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > wait_deadline.tv_sec ||
		    (now.tv_sec == wait_deadline.tv_sec && now.tv_nsec >= wait_deadline.tv_nsec)) {
			errno = ETIMEDOUT;
			return -1;
		}
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < 1000000)
			pause.tv_nsec *= 2;
	}
}

int oc_wait_stop(pid_t tid, int *ret_status)
{
	for (;;) {
		int status;
		pid_t r = wait_bounded(tid, &status);
		if (r < 0 && errno == ETIMEDOUT)
			return oc_error(-ETIMEDOUT, "thread %d did not stop within the %u s timeout", tid,
					wait_timeout_s);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return oc_error_errno(-errno, "waiting for thread %d", tid);
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return oc_error(-ESRCH, "thread %d exited while being frozen", tid);
		*ret_status = status;
		return 0;
	}
}

/*
 * Bring a freshly seized thread to a ptrace stop.  A signal that arrives
 * first is delivered (as it would have been a moment earlier) and the
 * interrupt, which stays pending, traps right after.
 */
static int interrupt_thread(pid_t tid, int *ret_group_stop_sig)
{
	int status, r;

	/* A preseized thread has its interrupt pending already. */
	if (!is_preseized(tid) && ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
		return oc_error_errno(-errno, "PTRACE_INTERRUPT of thread %d", tid);
	for (;;) {
		r = oc_wait_stop(tid, &status);
		if (r < 0)
			return r;
		if (!WIFSTOPPED(status))
			continue;
		int event = status >> 16;
		int sig = WSTOPSIG(status);
		if (event == PTRACE_EVENT_STOP) {
			/* Group-stop: the task was stopped by a signal. */
			*ret_group_stop_sig =
				(sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) ? sig : 0;
			return 0;
		}
		if (event) {
			/* Some other event; let it go on and trap again. */
			ptrace(PTRACE_CONT, tid, 0, 0);
			continue;
		}
		pr_debug("thread %d: delivering signal %d while freezing", tid, sig);
		if (ptrace(PTRACE_CONT, tid, 0, sig) < 0)
			return oc_error_errno(-errno, "resuming thread %d with signal %d", tid, sig);
	}
}

static int list_tids(pid_t pid, pid_t **ret_tids, size_t *ret_n)
{
	char path[64];
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ pid_t *tids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d && errno == ENOENT)
		return -ENOENT; /* the caller says whether that is an error */
	if (!d)
		return oc_error_errno(-errno, "cannot list threads of %d", pid);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			pid_t *t = realloc(tids, cap * sizeof(*t));
			if (!t)
				return -ENOMEM;
			tids = t;
		}
		tids[n++] = atoi(de->d_name);
	}
	*ret_tids = TAKE_PTR(tids);
	*ret_n = n;
	return 0;
}

static bool task_has_thread(const struct oc_seized_task *t, pid_t tid)
{
	for (size_t i = 0; i < t->n_threads; i++)
		if (t->threads[i].tid == tid)
			return true;
	return false;
}

static int add_thread(struct oc_seized_task *t, pid_t tid)
{
	struct oc_seized_thread *n = realloc(t->threads, (t->n_threads + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	t->threads = n;
	memset(&n[t->n_threads], 0, sizeof(n[0]));
	n[t->n_threads].tid = tid;
	t->n_threads++;
	return 0;
}

/* A thread that exited is refused with EPERM by PTRACE_SEIZE (a zombie). */
static bool thread_has_exited(pid_t pid, pid_t tid)
{
	_cleanup_free_ char *text = NULL;
	struct oc_proc_stat st;
	char name[64];

	snprintf(name, sizeof(name), "task/%d/stat", tid);
	if (oc_proc_read(pid, name, &text, NULL) < 0)
		return true; /* gone */
	return oc_proc_parse_stat(text, &st) == 0 && (st.state == 'Z' || st.state == 'X');
}

enum oc_seize_wait oc_seize_wait_of(pid_t tid)
{
	_cleanup_free_ char *text = NULL, *wchan = NULL;
	struct oc_proc_stat st;

	if (oc_proc_read(tid, "stat", &text, NULL) < 0 || oc_proc_parse_stat(text, &st) < 0)
		return OC_SEIZE_AT_ONCE; /* gone: the attach fails at once */
	if (st.state == 'T')
		return OC_SEIZE_STOPPED;
	if (st.state != 'D')
		return OC_SEIZE_AT_ONCE;
	/* A frozen task shows as 'D' whatever it was; where it sleeps says
	 * whether that was a group stop (get_signal where the stop is
	 * inlined into it). */
	if (oc_proc_read(tid, "wchan", &wchan, NULL) < 0)
		return OC_SEIZE_AT_ONCE;
	wchan[strcspn(wchan, "\n")] = '\0';
	if (!strcmp(wchan, "do_signal_stop") || !strcmp(wchan, "get_signal"))
		return OC_SEIZE_STOPPED_FROZEN;
	return OC_SEIZE_AT_ONCE;
}

/*
 * A stopped thread frozen by someone else: seizing it would hang until the
 * cgroup is thawed, so it is refused (--freeze-cgroup handles its own).
 */
static int refuse_frozen_stop(pid_t pid, pid_t tid)
{
	_cleanup_free_ char *cgroups = NULL;
	char *freezer = NULL;

	if (oc_proc_read(tid, "cgroup", &cgroups, NULL) >= 0 && (freezer = strstr(cgroups, ":freezer:"))) {
		freezer += strlen(":freezer:");
		freezer[strcspn(freezer, "\n")] = '\0';
	}
	return oc_error(-EBUSY,
			"thread %d of task %d is stopped in a frozen cgroup%s%s%s: seizing it would wait until the "
			"cgroup is thawed; thaw it, or name it with --freeze-cgroup",
			tid, pid, freezer ? " (freezer cgroup " : "", freezer ? freezer : "", freezer ? ")" : "");
}

/* Seize every thread of @t not yet seized; *ret_new says whether any was. */
static int seize_threads(struct oc_seized_task *t, bool *ret_new)
{
	_cleanup_free_ pid_t *tids = NULL;
	size_t n;
	int r;

	r = list_tids(t->pid, &tids, &n);
	if (r == -ENOENT && !t->n_threads)
		return 0; /* gone before we got to it */
	if (r == -ENOENT)
		return oc_error(r, "cannot list threads of %d: it is gone", t->pid);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		int stop_sig = 0;

		if (task_has_thread(t, tids[i]))
			continue;
		if (!is_preseized(tids[i]) && oc_seize_wait_of(tids[i]) == OC_SEIZE_STOPPED_FROZEN)
			return refuse_frozen_stop(t->pid, tids[i]);
		if (!is_preseized(tids[i]) && ptrace(PTRACE_SEIZE, tids[i], 0, SEIZE_OPTIONS) < 0) {
			if (errno == ESRCH || (errno == EPERM && thread_has_exited(t->pid, tids[i])))
				continue; /* exited meanwhile */
			return oc_error_errno(-errno, "cannot seize thread %d of task %d", tids[i], t->pid);
		}
		r = add_thread(t, tids[i]);
		if (r < 0)
			return r;
		t->threads[t->n_threads - 1].seized = true;
		r = interrupt_thread(tids[i], &stop_sig);
		if (r == -ESRCH) {
			t->n_threads--;
			continue;
		}
		if (r < 0)
			return r;
		if (stop_sig && t->state == OC_TASK_ALIVE) {
			t->state = OC_TASK_STOPPED;
			t->stop_signo = stop_sig;
		}
		*ret_new = true;
	}
	/* The leader first, as pstree.img and core images expect. */
	for (size_t i = 1; i < t->n_threads; i++)
		if (t->threads[i].tid == t->pid) {
			struct oc_seized_thread tmp = t->threads[0];
			t->threads[0] = t->threads[i];
			t->threads[i] = tmp;
		}
	return 0;
}

static int task_index(const struct oc_seized_tree *tree, pid_t pid)
{
	for (size_t i = 0; i < tree->n_tasks; i++)
		if (tree->tasks[i].pid == pid)
			return i;
	return -1;
}

static int add_task(struct oc_seized_tree *tree, pid_t pid, size_t parent)
{
	_cleanup_free_ char *stat_text = NULL;
	struct oc_proc_stat st;
	int r;

	/* ptrace cannot seize its own caller: say so rather than EPERM. */
	if (pid == getpid())
		return oc_error(-EINVAL, "task %d is ocicr itself: dump a tree from outside it", pid);
	r = oc_proc_read(pid, "stat", &stat_text, NULL);
	if (r < 0)
		return r;
	r = oc_proc_parse_stat(stat_text, &st);
	if (r < 0)
		return r;

	struct oc_seized_task *n = realloc(tree->tasks, (tree->n_tasks + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	tree->tasks = n;
	struct oc_seized_task *t = &tree->tasks[tree->n_tasks];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->ppid = st.ppid;
	t->parent = tree->n_tasks ? parent : 0;
	t->state = OC_TASK_ALIVE;
	/* A leader thread that exited before its group is a zombie too, but
	 * the process lives on: neither ptrace nor CRIU's images can hold it. */
	if (st.state == 'Z' && st.num_threads > 1)
		return oc_error(-EOPNOTSUPP,
				"the main thread of process %d has exited while %" PRId64
				" other thread(s) run on: not supported",
				pid, st.num_threads - 1);
	if (st.state == 'Z') {
		t->state = OC_TASK_DEAD;
		t->exit_status = st.exit_code;
	}
	tree->n_tasks++;
	return 0;
}

/* Add children of every thread of task @idx that are not in the tree yet. */
static int add_children(struct oc_seized_tree *tree, size_t idx, bool *ret_new)
{
	pid_t pid = tree->tasks[idx].pid;
	_cleanup_free_ pid_t *tids = NULL;
	size_t n;
	int r;

	r = list_tids(pid, &tids, &n);
	if (r == -ENOENT)
		return oc_error(r, "cannot list threads of %d: it is gone", pid);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *text = NULL;
		char name[64];

		snprintf(name, sizeof(name), "task/%d/children", tids[i]);
		r = oc_proc_read(pid, name, &text, NULL);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		for (char *p = text, *end; *p; p = end) {
			long child = strtol(p, &end, 10);
			if (end == p)
				break;
			if (task_index(tree, child) >= 0)
				continue;
			r = add_task(tree, child, idx);
			if (r == -ENOENT || r == -ESRCH)
				continue;
			if (r < 0)
				return r;
			*ret_new = true;
		}
	}
	return 0;
}

/* PTRACE_GET_RSEQ_CONFIGURATION's answer (Linux 5.13+). */
#define SEIZE_PTRACE_GET_RSEQ_CONFIGURATION 0x420f
struct seize_rseq_conf {
	uint64_t abi_pointer;
	uint32_t abi_size, signature, flags, pad;
};

/* The kernel's struct rseq_cs, which struct rseq's rseq_cs points at. */
struct seize_rseq_cs {
	uint32_t version, flags;
	uint64_t start_ip, post_commit_offset, abort_ip;
};

static int read_task(pid_t tid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

	return process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

/*
 * A thread frozen inside an rseq critical section is sent to its abort
 * handler now, as the kernel does on any preemption or signal: our remote
 * calls, run outside the section, make the kernel clear the thread's
 * rseq_cs, so neither the dump nor the thread let go could resume the
 * section safely.  Anything odd (no section, a bad one) is left to the
 * kernel, which checks it again when the thread next runs.
 */
static int abort_rseq_cs(struct oc_seized_thread *th)
{
	struct seize_rseq_conf conf = {};
	struct seize_rseq_cs cs;
	uint64_t cs_ptr;
	uint32_t sig;
	unsigned long ip = th->regs.rip;

	if (ptrace(SEIZE_PTRACE_GET_RSEQ_CONFIGURATION, th->tid, sizeof(conf), &conf) < 0 || !conf.abi_pointer)
		return 0;
	if (read_task(th->tid, conf.abi_pointer + 8, &cs_ptr, sizeof(cs_ptr)) < 0 || !cs_ptr)
		return 0;
	if (read_task(th->tid, cs_ptr, &cs, sizeof(cs)) < 0 || cs.version != 0)
		return 0;
	if (ip < cs.start_ip || ip - cs.start_ip >= cs.post_commit_offset)
		return 0;
	if (cs.abort_ip - cs.start_ip < cs.post_commit_offset)
		return 0;
	if (read_task(th->tid, cs.abort_ip - sizeof(sig), &sig, sizeof(sig)) < 0 || sig != conf.signature)
		return 0;
	pr_debug("thread %d: in an rseq critical section at 0x%lx, sent to its abort handler 0x%" PRIx64, th->tid, ip,
		 cs.abort_ip);
	th->regs.rip = cs.abort_ip;
	th->regs.orig_rax = -1; /* an abort ends any restart */
	if (ptrace(PTRACE_SETREGS, th->tid, 0, &th->regs) < 0)
		return oc_error_errno(-errno, "thread %d: cannot move it to its rseq abort handler", th->tid);
	return 0;
}

/* Take task @i, which has no children in the tree, out of it. */
static void remove_task(struct oc_seized_tree *tree, size_t i)
{
	free(tree->tasks[i].threads);
	memmove(&tree->tasks[i], &tree->tasks[i + 1], (tree->n_tasks - i - 1) * sizeof(tree->tasks[0]));
	tree->n_tasks--;
	for (size_t j = i; j < tree->n_tasks; j++)
		if (tree->tasks[j].parent > i)
			tree->tasks[j].parent--;
}

/*
 * A child whose parent ignores SIGCHLD shows as a zombie for an instant
 * before the kernel reaps it; a real zombie stays while its parent is
 * frozen.  So the zombies found are looked at once more, at the end.
 */
static void drop_vanished_zombies(struct oc_seized_tree *tree)
{
	char path[64];

	for (size_t i = tree->n_tasks; i-- > 1;) {
		if (tree->tasks[i].state != OC_TASK_DEAD)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", tree->tasks[i].pid);
		if (access(path, F_OK) == 0 || errno != ENOENT)
			continue;
		pr_debug("task %d was a zombie for an instant, and is gone", tree->tasks[i].pid);
		remove_task(tree, i);
	}
}

/*
 * Task @i exited before any of its threads could be seized (a child of a
 * frozen parent forked just before the freeze, say): it is a zombie now,
 * dumped as one (1), or, reaped at once (SIGCHLD ignored), no longer
 * there, and taken out of the tree (0).  Not seized, it has no children
 * in the tree yet.
 */
static int task_exited(struct oc_seized_tree *tree, size_t i)
{
	_cleanup_free_ char *stat_text = NULL;
	struct oc_proc_stat st;
	pid_t pid = tree->tasks[i].pid;
	int r;

	if (i == 0)
		return oc_error(-ESRCH, "task %d exited while being frozen", pid);
	r = oc_proc_read(pid, "stat", &stat_text, NULL);
	if (r == -ENOENT || r == -ESRCH) {
		pr_debug("task %d exited and was reaped while being frozen", pid);
		remove_task(tree, i);
		return 0;
	}
	if (r < 0)
		return r;
	r = oc_proc_parse_stat(stat_text, &st);
	if (r < 0)
		return r;
	if (st.state != 'Z' || st.num_threads > 1)
		return oc_error(-ESRCH, "task %d exited while being frozen", pid);
	pr_debug("task %d exited while being frozen: dumped as a zombie", pid);
	tree->tasks[i].state = OC_TASK_DEAD;
	tree->tasks[i].exit_status = st.exit_code;
	return 1;
}

int oc_seize_tree(pid_t root, bool tree_walk, struct oc_seized_tree *ret_tree)
{
	struct oc_seized_tree tree = {};
	bool changed;
	int r;

	if (root <= 0)
		return oc_error(-EINVAL, "invalid pid %d", root);
	r = add_task(&tree, root, 0);
	if (r < 0) {
		oc_seized_tree_free(&tree);
		return r == -ENOENT ? oc_error(-ESRCH, "no process with pid %d", root) : r;
	}
	if (tree.tasks[0].state == OC_TASK_DEAD) {
		oc_seized_tree_free(&tree);
		return oc_error(-ESRCH, "process %d is a zombie", root);
	}

	/* Repeat until a pass over the tree finds nothing new. */
	do {
		changed = false;
		for (size_t i = 0; i < tree.n_tasks; i++) {
			if (tree.tasks[i].state != OC_TASK_DEAD) {
				r = seize_threads(&tree.tasks[i], &changed);
				if (r < 0)
					goto fail;
				if (tree.tasks[i].n_threads == 0) {
					r = task_exited(&tree, i);
					if (r < 0)
						goto fail;
					if (r == 0) {
						i--; /* the next task moved into its place */
						continue;
					}
				}
			}
			if (tree_walk && tree.tasks[i].state != OC_TASK_DEAD) {
				r = add_children(&tree, i, &changed);
				if (r < 0)
					goto fail;
			}
		}
	} while (changed);
	drop_vanished_zombies(&tree);

	for (size_t i = 0; i < tree.n_tasks; i++)
		for (size_t j = 0; j < tree.tasks[i].n_threads; j++) {
			struct oc_seized_thread *th = &tree.tasks[i].threads[j];
			if (ptrace(PTRACE_GETREGS, th->tid, 0, &th->regs) < 0) {
				r = oc_error_errno(-errno, "cannot read registers of thread %d", th->tid);
				goto fail;
			}
			r = abort_rseq_cs(th);
			if (r < 0)
				goto fail;
		}

	*ret_tree = tree;
	return 0;
fail:
	oc_release_tree(&tree, OC_RELEASE_RESUME);
	oc_seized_tree_free(&tree);
	return r;
}

struct oc_seized_thread *oc_seized_find_thread(struct oc_seized_tree *tree, pid_t tid)
{
	for (size_t i = 0; i < tree->n_tasks; i++)
		for (size_t j = 0; j < tree->tasks[i].n_threads; j++)
			if (tree->tasks[i].threads[j].tid == tid)
				return &tree->tasks[i].threads[j];
	return NULL;
}

/*
 * Tasks killed while we trace them stay ours to collect: each thread's end
 * is reported to us, and until we take it the thread stays a zombie, its
 * process cannot be reaped by its parent, and a pid namespace's init (which
 * waits for all the others) cannot die.  So take every end, in rounds (an
 * init ends last), for a bounded time.  A process that is our own child is
 * only looked at (WNOWAIT): its exit status is the caller's to wait for.
 */
static void collect_killed(struct oc_seized_tree *tree)
{
	uint64_t deadline = oc_now_us() + KILLED_WAIT_US;
	size_t left;
	pid_t self = getpid();

	do {
		left = 0;
		for (size_t i = 0; i < tree->n_tasks; i++)
			for (size_t j = 0; j < tree->tasks[i].n_threads; j++) {
				struct oc_seized_thread *th = &tree->tasks[i].threads[j];
				bool own = th->tid == tree->tasks[i].pid && tree->tasks[i].ppid == self;
				siginfo_t si = {};

				if (!th->dying)
					continue;
				int w = waitid(P_PID, th->tid, &si, WEXITED | WNOHANG | __WALL | (own ? WNOWAIT : 0));

				if (w < 0 && errno == EINTR)
					left++;
				else if (w < 0 || si.si_pid == th->tid)
					th->dying = false; /* ended, or not ours (ECHILD) */
				else
					left++;
			}
		if (left)
			nanosleep(&(struct timespec){ .tv_nsec = 2 * 1000 * 1000 }, NULL);
	} while (left && oc_now_us() < deadline);
	if (left)
		pr_warn("%zu killed thread(s) of the tree still not gone after %d s", left, KILLED_WAIT_US / 1000000);
}

void oc_release_tree(struct oc_seized_tree *tree, enum oc_release_mode mode)
{
	if (mode == OC_RELEASE_KILL || mode == OC_RELEASE_STOP)
		for (size_t i = 0; i < tree->n_tasks; i++)
			if (tree->tasks[i].state != OC_TASK_DEAD)
				kill(tree->tasks[i].pid, mode == OC_RELEASE_KILL ? SIGKILL : SIGSTOP);

	for (size_t i = 0; i < tree->n_tasks; i++)
		for (size_t j = 0; j < tree->tasks[i].n_threads; j++) {
			struct oc_seized_thread *th = &tree->tasks[i].threads[j];
			if (!th->seized)
				continue;
			/* A stop signal sent while we held the thread takes
			 * effect now, as it would have without us. */
			if (th->stops_held && mode != OC_RELEASE_KILL &&
			    syscall(SYS_tgkill, tree->tasks[i].pid, th->tid, SIGSTOP) < 0)
				pr_warn("cannot stop thread %d again: %m", th->tid);
			th->stops_held = 0;
			if (ptrace(PTRACE_DETACH, th->tid, 0, 0) < 0 && errno != ESRCH)
				pr_warn("cannot detach from thread %d: %m", th->tid);
			th->seized = false;
			th->dying = mode == OC_RELEASE_KILL;
		}
	if (mode == OC_RELEASE_KILL)
		collect_killed(tree);
}

void oc_seized_tree_free(struct oc_seized_tree *tree)
{
	for (size_t i = 0; i < tree->n_tasks; i++)
		free(tree->tasks[i].threads);
	free(tree->tasks);
	tree->tasks = NULL;
	tree->n_tasks = 0;
}
