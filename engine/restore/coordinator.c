// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The restore coordinator: load the images, check that the pids are free,
 * create each task with its pid, follow its agent and blob under ptrace,
 * and finish each thread by loading its registers, FPU state and signal
 * mask.  Any failure kills every task it created.
 */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "restore/restore.h"
#include "res/fd/files.h"
#include "res/fd/sk_tcp.h"
#include "arch/arch.h"
#include "core/notify.h"
#include "core/cleanup.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "proc/proc.h"
#include "res/cgroup/cgroup.h"
#include "res/ns/ns.h"
#include "res/task/seccomp.h"

#include "stats.pb-c.h"

struct rst_thread_state {
	pid_t tid;
	bool done; /* stopped at the blob's final trap */
};

/* What the coordinator knows of one task while it is being restored.  Its
 * pid and tids are ours: in a new pid namespace they differ from the
 * images' and are learnt as the tasks appear (0 until then). */
struct rst_live {
	struct oc_rst_task *task;
	pid_t pid;
	int sock; /* the coordinator's end */
	struct rst_thread_state *threads;
	size_t n_threads;
	size_t n_done;
	bool exited; /* a zombie-to-be that has exited */
	struct oc_agent_msg jump;
	bool jumped;
	int helper_base;
};

static int check_pid_free(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (access(path, F_OK) < 0)
		return 0;
	_cleanup_free_ char *comm = NULL;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	FILE *f = fopen(path, "re");
	char name[64] = "?";
	if (f) {
		if (fgets(name, sizeof(name), f))
			name[strcspn(name, "\n")] = '\0';
		fclose(f);
	}
	return oc_error(-EEXIST, "pid %d is taken (by '%s'); it must be free to restore the task", pid, name);
}

/*
 * clone3() said @pid is taken though no task has it: a group or session
 * of that id still has members (zombies that wait for their reaper, say,
 * such as the twins of a snapshot dump just made).  Name one.
 */
static int pid_in_use_error(pid_t pid)
{
	_cleanup_closedir_ DIR *proc = opendir("/proc");
	struct dirent *de;

	while (proc && (de = readdir(proc))) {
		_cleanup_free_ char *text = NULL;
		struct oc_proc_stat st;
		char *end;
		long other = strtol(de->d_name, &end, 10);
		if (other <= 0 || *end || oc_proc_read(other, "stat", &text, NULL) < 0 ||
		    oc_proc_parse_stat(text, &st) < 0 || (st.pgrp != pid && st.session != pid))
			continue;
		return oc_error(-EEXIST,
				"pid %d is taken: it is still the %s id of process %ld ('%s', state %c)%s; it must be "
				"free to restore the task",
				pid, st.session == pid ? "session" : "process group", other, st.comm, st.state,
				st.state == 'Z' ? ", a zombie its parent has not reaped yet" : "");
	}
	return oc_error(-EEXIST, "pid %d is taken; it must be free to restore the task", pid);
}

static int check_pids(struct oc_rst_ctx *ctx)
{
	if (oc_ns_rst_other_pidns(ctx))
		return 0; /* a new one has every pid free; a joined one says so at clone */
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		PstreeEntry *pe = ctx->tasks[i].pstree;
		int r = check_pid_free(pe->pid);
		if (r < 0)
			return r;
		for (size_t j = 0; j < pe->n_threads; j++)
			if (pe->threads[j] && (r = check_pid_free(pe->threads[j])) < 0)
				return r;
	}
	return 0;
}

/* Only tasks we created are ours to kill: they are traced by us. */
static bool is_traced_by_us(pid_t pid)
{
	_cleanup_free_ char *text = NULL;
	struct oc_proc_status st = {};
	bool ours = false;

	if (oc_proc_read(pid, "status", &text, NULL) < 0 || oc_proc_parse_status(text, &st) < 0)
		return false;
	ours = st.has_tracer_pid && st.tracer_pid == getpid();
	oc_proc_status_clear(&st);
	return ours;
}

/* Every task still traced by us dies: those whose pid we never learned
 * too (one made in a pid namespace below the tree's, say, before its first
 * stop reached us).  Only a failed restore calls this. */
static void kill_our_tracees(void)
{
	_cleanup_closedir_ DIR *proc = opendir("/proc");
	struct dirent *de;

	if (!proc)
		return;
	while ((de = readdir(proc))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (pid > 0 && !*end && pid != getpid() && is_traced_by_us(pid))
			kill(pid, SIGKILL);
	}
}

/* A child with pid @set_tid[0] in its own pid namespace, [1] in the one
 * above, and so on for @n levels; with CLONE_PIDFD its pidfd in *@pidfd. */
static pid_t clone_with_pids(const pid_t *set_tid, size_t n, uint64_t flags, int *pidfd)
{
	struct clone_args ca = {
		.flags = flags,
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		/* A CLONE_PARENT child signals as we do to our parent; clone3
		 * wants no exit signal of its own then. */
		.exit_signal = flags & CLONE_PARENT ? 0 : SIGCHLD,
		.set_tid = (uint64_t)(uintptr_t)set_tid,
		.set_tid_size = n,
	};
	return syscall(SYS_clone3, &ca, sizeof(ca));
}

static pid_t clone_with_pid(pid_t pid, uint64_t flags)
{
	return clone_with_pids(&pid, 1, flags, NULL);
}

static void silent_log(enum oc_log_level level, const char *line, void *userdata)
{
}

static __attribute__((noreturn)) void agent_fail(struct oc_rst_task *t, int r)
{
	struct oc_agent_msg msg = { .type = OC_AGENT_FAILED, .err = r };

	snprintf(msg.text, sizeof(msg.text), "%s", oc_error_message());
	send(t->status_fd, &msg, sizeof(msg), MSG_NOSIGNAL);
	_exit(1);
}

static __attribute__((noreturn)) void run_task(struct oc_rst_ctx *ctx, struct oc_rst_files *files,
					       struct oc_rst_task *t);

struct oc_rst_task *oc_rst_task_by_pid(struct oc_rst_ctx *ctx, pid_t pid)
{
	for (size_t i = 0; i < ctx->n_tasks; i++)
		if (ctx->tasks[i].pid == pid)
			return &ctx->tasks[i];
	return NULL;
}

/*
 * A group whose leader is gone (not in the tree, and not made yet): a
 * short-lived helper of ours takes the leader's pid and makes the group, so
 * that the child can join it; it stays until the caller is done with it
 * (closes *@ret_hold).  Untraced: it is no task of the tree.
 */
static int orphan_group_helper(pid_t pgid, pid_t *ret_pid, int *ret_hold)
{
	int ready[2], hold[2];
	char byte;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return oc_error_errno(-errno, "pipe2");
	if (pipe2(hold, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return oc_error_errno(-errno, "pipe2");
	}
	pid_t pid = clone_with_pid(pgid, CLONE_UNTRACED);
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		if (setpgid(0, 0) < 0 || oc_rst_send_byte(ready[1], OC_MSG_HELPER_READY) < 0)
			_exit(1);
		while (read(hold[0], &byte, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	int saved = errno;
	close(ready[1]);
	close(hold[0]);
	if (pid < 0 || oc_rst_recv_byte(ready[0], OC_MSG_HELPER_READY) < 0) {
		close(ready[0]);
		close(hold[1]);
		if (pid > 0)
			waitpid(pid, NULL, __WALL);
		return pid < 0 ? oc_error(-saved, "cannot make a helper for process group %d, whose leader is gone: %s",
					  pgid, strerror(saved))
			       : oc_error(-EIO, "the helper for process group %d failed", pgid);
	}
	close(ready[0]);
	*ret_pid = pid;
	*ret_hold = hold[1];
	return 0;
}

struct orphan_helper {
	pid_t pid;
	int hold;
};

/* Let the helper go, once the child is in its group, and reap it. */
static void orphan_helper_cleanup(struct orphan_helper *oh)
{
	if (oh->pid <= 0)
		return;
	close(oh->hold);
	while (waitpid(oh->pid, NULL, __WALL) < 0 && errno == EINTR)
		;
}

/* Whether process group @pgid has a member yet (in our pid namespace). */
static bool group_exists(pid_t pgid)
{
	return kill(-pgid, 0) == 0 || errno == EPERM;
}

/*
 * OC_STEP_CREATE done by a parent: fork the child with its pid.  A child
 * that leads or joins another process group gets it from us at once,
 * before any later step could need it; a session leader makes its session
 * itself.
 */
static int create_child(struct oc_rst_ctx *ctx, struct oc_rst_files *files, struct oc_rst_task *parent,
			struct oc_rst_task *c, int *ret_pidns_fd)
{
	PstreeEntry *pe = c->pstree;
	int done[2] = { -1, -1 };
	uint64_t share = (oc_rst_shares_files(ctx, c) ? CLONE_FILES : 0) | (oc_rst_shares_fs(ctx, c) ? CLONE_FS : 0);
	/* Its pid in every pid namespace from its own up to the tree's; the
	 * init of one below its parent's makes it. */
	pid_t set_tid[OC_PROC_NS_LEVELS_MAX];
	size_t n_set_tid = oc_rst_set_tid(c, set_tid);
	bool new_pidns = pe->n_ns_pids > parent->pstree->n_ns_pids;
	int pidfd = -1;
	if (new_pidns)
		share |= CLONE_NEWPID | (parent->ids && parent->ids->has_pid_for_children_ns_id ? CLONE_PIDFD : 0);

	/* A session leader makes its session itself; later steps may need
	 * it (a sibling joining its group), so wait until it has.  (Not
	 * through a table we share: closing our end would close its.) */
	if (pe->sid == pe->pid && !(share & CLONE_FILES) && pipe2(done, O_CLOEXEC) < 0)
		return oc_error_errno(-errno, "pipe2");
	c->session_done_fd = done[1];
	/* A group whose leader died before the dump (not in the tree); not
	 * a session leader's child, so no done pipe for the helper to hold. */
	pid_t helper = 0;
	int hold = -1;
	if (!pe->n_ns_pids && pe->sid != pe->pid && pe->pgid != pe->pid && pe->pgid != parent->pstree->pgid &&
	    !oc_rst_task_by_pid(ctx, pe->pgid) && !group_exists(pe->pgid)) {
		int r = orphan_group_helper(pe->pgid, &helper, &hold);
		if (r < 0) {
			close(done[0]);
			close(done[1]);
			return r;
		}
	}
	_cleanup_(orphan_helper_cleanup) struct orphan_helper oh = { helper, hold };
	pid_t pid = clone_with_pids(set_tid, n_set_tid, share, &pidfd);
	if (pid < 0) {
		close(done[0]);
		close(done[1]);
		return errno == EEXIST && !pe->n_ns_pids ? pid_in_use_error(c->pid)
							 : oc_error_errno(-errno, "cannot create task %d", c->pid);
	}
	if (pid == 0) {
		close(done[0]);
		if (oh.pid > 0)
			close(oh.hold);
		run_task(ctx, files, c);
	}
	/* The namespace the parent made by unshare: its children go there. */
	if (pidfd >= 0 && parent->ids->pid_for_children_ns_id == c->ids->pid_ns_id)
		*ret_pidns_fd = pidfd;
	else if (pidfd >= 0)
		close(pidfd);
	if (done[0] >= 0) {
		close(done[1]);
		int r = oc_rst_recv_byte(done[0], OC_MSG_SESSION_MADE);
		close(done[0]);
		if (r < 0)
			return oc_error(-EIO, "task %d failed before making its session", c->pid);
	}
	if (pe->sid != pe->pid && pe->pgid != parent->pstree->pgid &&
	    setpgid(pid, oc_rst_pid_seen_by(ctx, parent, pe->pgid)) < 0)
		return oc_error_errno(-errno, "cannot put task %d in process group %d", pid, pe->pgid);
	return 0;
}

int oc_rst_send_byte(int fd, enum oc_rst_byte_msg msg)
{
	char byte = (char)msg;

	return write(fd, &byte, 1) == 1 ? 0 : errno ? -errno : -EIO;
}

int oc_rst_recv_byte(int fd, enum oc_rst_byte_msg msg)
{
	char byte;

	return read(fd, &byte, 1) == 1 && byte == (char)msg ? 0 : -EIO;
}

static int do_session(struct oc_rst_ctx *ctx, struct oc_rst_files *files, struct oc_rst_task *t)
{
	PstreeEntry *pe = t->pstree;
	bool root = t == ctx->tasks;

	if (pe->sid == pe->pid && !(root && ctx->opts->shell_job)) {
		if (setsid() < 0)
			return oc_error_errno(-errno, "task %d: setsid", t->pid);
	} else if (pe->n_ns_pids && pe->pgid == ctx->tasks[t->parent].pstree->pgid) {
		/* Its parent's group, led maybe from outside its namespace:
		 * inherited, nothing to join. */
	} else if (oc_rst_pid_seen_by(ctx, t, pe->pgid) != getpgrp() && (!root || pe->pgid == pe->pid) &&
		   setpgid(0, oc_rst_pid_seen_by(ctx, t, pe->pgid)) < 0) {
		/* Our parent sets our group too, right after creating us; we
		 * do it as well, before making children that inherit it. */
		return oc_error_errno(-errno, "task %d: cannot join process group %u", t->pid, pe->pgid);
	}
	int r = oc_rst_tty_session(files, t);
	if (r < 0)
		return r;
	if (t->session_done_fd >= 0) {
		r = oc_rst_send_byte(t->session_done_fd, OC_MSG_SESSION_MADE);
		if (r < 0)
			return oc_error_errno(r, "task %d: cannot report its session", t->pid);
		close(t->session_done_fd);
		t->session_done_fd = -1;
	}
	return 0;
}

static __attribute__((noreturn)) void become_zombie(struct oc_rst_task *t)
{
	int status = t->cores[0]->tc->exit_code;

	if (WIFSIGNALED(status)) {
		sigset_t sig;

		/* Created by a restorer that may hold signals blocked. */
		sigemptyset(&sig);
		sigaddset(&sig, WTERMSIG(status));
		sigprocmask(SIG_UNBLOCK, &sig, NULL);
		signal(WTERMSIG(status), SIG_DFL);
		prctl(PR_SET_DUMPABLE, 0); /* no core dump */
		kill(getpid(), WTERMSIG(status));
	}
	_exit(WEXITSTATUS(status));
}

/* Does @actor create another child after step @k of @plan? */
static bool creates_more(const struct oc_plan *plan, size_t k, pid_t actor)
{
	for (size_t l = k + 1; l < plan->n_steps; l++) {
		const struct oc_plan_step *s = &plan->steps[plan->order[l]];
		if (s->actor == actor && s->kind == OC_STEP_CREATE)
			return true;
	}
	return false;
}

/* A task that had unshared a pid namespace made its children there, as
 * it will from now on: the namespace its init was made in (@pidfd). */
static int children_pidns(struct oc_rst_task *t, int *pidfd)
{
	int r = syscall(SYS_setns, *pidfd, CLONE_NEWPID) < 0 ? -errno : 0;

	close(*pidfd);
	*pidfd = -1;
	return r < 0 ? oc_error_errno(r, "task %d: cannot make its children in the pid namespace it made", t->pid) : 0;
}

/* A task's agent: carry out this task's steps of the plan, in order. */
static void run_task(struct oc_rst_ctx *ctx, struct oc_rst_files *files, struct oc_rst_task *t)
{
	struct oc_rst_agent ag = { .ctx = ctx, .task = t, .files = files, .status_fd = t->status_fd };
	const struct oc_plan *plan = &ctx->plan;
	int pidns_fd = -1; /* the pid namespace its children went to, once all are made */
	int r = 0;

	/* The log fd may become one of the task's fds: log nothing here. */
	oc_set_log(silent_log, NULL, OC_LOG_MSG);
	if (oc_rst_recv_byte(t->status_fd, OC_MSG_START) < 0)
		_exit(2);
	/* Into its cgroups before it makes a child or maps its memory. */
	r = oc_cgroup_enter(ctx, t);

	for (size_t k = 0; k < plan->n_steps && r >= 0; k++) {
		const struct oc_plan_step *s = &plan->steps[plan->order[k]];
		if (s->actor != t->pid)
			continue;
		switch (s->kind) {
		case OC_STEP_CREATE:
			r = create_child(ctx, files, t, oc_rst_task_by_pid(ctx, s->task), &pidns_fd);
			if (r >= 0 && pidns_fd >= 0 && !creates_more(plan, k, t->pid))
				r = children_pidns(t, &pidns_fd);
			break;
		case OC_STEP_SESSION:
			r = do_session(ctx, files, t);
			break;
		case OC_STEP_PREMAP:
			r = oc_agent_premap(&ag);
			break;
		case OC_STEP_ZOMBIE:
			become_zombie(t);
		case OC_STEP_INSTALL:
			r = oc_agent_install(&ag);
			break;
		case OC_STEP_SETUP:
			r = oc_agent_setup_file(&ag, s->object);
			break;
		case OC_STEP_FS:
			r = oc_agent_fs(&ag);
			break;
		case OC_STEP_MEMORY:
			r = oc_agent_memory(&ag); /* returns only on failure */
			if (r >= 0)
				r = -EIO;
			break;
		case OC_STEP_THREADS: /* the blob's, after the memory step */
		case OC_STEP_OPEN:    /* the coordinator's */
		case OC_STEP_STAGE:
		case OC_STEP_RESUME:
		case _OC_STEP_KIND_MAX:
			break;
		}
	}
	agent_fail(t, r < 0 ? r : oc_error(-EIO, "task %d: the plan ended before its memory step", t->pid));
}

static const char *const step_names[];

/* Read what the agent or the blob said, without blocking. */
static void read_agent_msgs(struct rst_live *lv, char *why, size_t why_len)
{
	struct oc_agent_msg msg;
	ssize_t n;

	while ((n = recv(lv->sock, &msg, sizeof(msg), MSG_DONTWAIT)) > 0) {
		if (n >= (ssize_t)sizeof(int32_t) && msg.type == OC_BLOB_FAILED) {
			struct oc_rst_report rep;
			if (n != sizeof(rep) || !why)
				continue;
			memcpy(&rep, &msg, sizeof(rep));
			snprintf(why, why_len, "the restorer failed while %s (item %d, thread %d): %s",
				 rep.step > 0 && rep.step < _OC_RST_STEP_MAX ? step_names[rep.step] : "?", rep.index,
				 rep.tid, strerror(rep.err));
			continue;
		}
		if (n != sizeof(msg))
			continue;
		msg.text[sizeof(msg.text) - 1] = '\0';
		if (msg.type == OC_AGENT_FAILED && why)
			snprintf(why, why_len, "%s", msg.text);
		else if (msg.type == OC_AGENT_WARNING)
			pr_warn("%s", msg.text);
		else if (msg.type == OC_AGENT_INFO)
			pr_info("%s", msg.text);
		else if (msg.type == OC_AGENT_JUMPING) {
			lv->jump = msg;
			lv->jumped = true;
		}
	}
}

static const char *const step_names[_OC_RST_STEP_MAX] = {
	[OC_RST_STEP_NONE] = "?",
	[OC_RST_STEP_UNMAP] = "unmapping the old layout",
	[OC_RST_STEP_VDSO] = "mapping the vDSO",
	[OC_RST_STEP_MMAP] = "mapping a VMA",
	[OC_RST_STEP_PAGES] = "reading pages",
	[OC_RST_STEP_MPROTECT] = "setting protections",
	[OC_RST_STEP_MM] = "setting mm fields (PR_SET_MM_MAP)",
	[OC_RST_STEP_SIGACTION] = "signal handlers",
	[OC_RST_STEP_ITIMER] = "interval timers",
	[OC_RST_STEP_TIMER] = "POSIX timers",
	[OC_RST_STEP_RLIMIT] = "resource limits",
	[OC_RST_STEP_CLONE] = "creating threads",
	[OC_RST_STEP_THREAD] = "per-thread state",
	[OC_RST_STEP_CREDS] = "credentials",
	[OC_RST_STEP_SIGQUEUE] = "queueing pending signals",
	[OC_RST_STEP_SEALS] = "sealing memfds",
	[OC_RST_STEP_SECCOMP] = "entering seccomp",
	[OC_RST_STEP_AIO] = "making an AIO ring again",
	[OC_RST_STEP_GUARD] = "installing guard regions",
};

static struct rst_live *live_task(struct rst_live *live, size_t n, pid_t tid, struct rst_thread_state **ret_th)
{
	for (size_t i = 0; i < n; i++) {
		if (live[i].pid == tid && ret_th)
			*ret_th = live[i].n_threads ? &live[i].threads[0] : NULL;
		for (size_t j = 0; j < live[i].n_threads; j++)
			if (live[i].threads[j].tid == tid) {
				if (ret_th)
					*ret_th = &live[i].threads[j];
				return &live[i];
			}
		if (live[i].pid == tid)
			return &live[i];
	}
	return NULL;
}

/*
 * A task or thread @w we do not know yet, in a new pid namespace: its pid
 * and tgid in the tree's (NSpid, NStgid at index @top) say which it is.
 */
static struct rst_live *learn_pid(struct rst_live *live, size_t n, size_t top, pid_t w,
				  struct rst_thread_state **ret_th)
{
	_cleanup_free_ char *text = NULL;
	struct oc_proc_status st = {};
	struct rst_live *found = NULL;

	if (oc_proc_read(w, "status", &text, NULL) < 0 || oc_proc_parse_status(text, &st) < 0)
		return NULL;
	/* Its pid in the tree's namespace, whichever below that it is in. */
	if (st.has_nspid && st.has_nstgid && st.n_nspid > top && st.n_nstgid > top) {
		pid_t tid = st.nspid[top], tgid = st.nstgid[top];
		for (size_t i = 0; i < n && !found; i++) {
			struct oc_rst_task *t = live[i].task;
			if (t->pid != tgid)
				continue;
			found = &live[i];
			if (tid == tgid)
				live[i].pid = w;
			for (size_t j = 0; j < live[i].n_threads; j++)
				if (t->pstree->threads[j] == (uint32_t)tid) {
					live[i].threads[j].tid = w;
					*ret_th = &live[i].threads[j];
				}
		}
	}
	oc_proc_status_clear(&st);
	return found;
}

/*
 * A zombie-to-be kills itself with its own signal (kill(), so a user
 * signal): let it through, even a SIGSEGV, which from the kernel would be a
 * crash of ours (a crash never comes as a user's signal; its pid would be
 * one of a new pid namespace, so the code is what tells).
 */
static bool zombie_own_signal(const struct rst_live *lv, int sig, const siginfo_t *si)
{
	if (!lv->task->zombie)
		return false;
	if (sig != SIGSEGV && sig != SIGBUS && sig != SIGILL && sig != SIGFPE)
		return true;
	return si->si_code == SI_USER || si->si_code == SI_TKILL;
}

/*
 * The next state change of a task we trace, into *st: its pid, or -errno;
 * -ETIMEDOUT at @deadline (oc_now_us() time).  Meanwhile (pages are
 * loading: seconds for GiBs) a stop request is looked at every 100 ms;
 * SIGCHLD, blocked by the caller, wakes us.
 */
static pid_t wait_tree_event(const sigset_t *chld, int *st, uint64_t deadline)
{
	for (;;) {
		pid_t w = waitpid(-1, st, __WALL | WNOHANG);
		if (w > 0)
			return w;
		if (w < 0 && errno != EINTR)
			return oc_error_errno(-errno, "waiting for the tree");
		int r = oc_interrupt_check();
		if (r < 0)
			return r;
		uint64_t now = oc_now_us();
		if (now >= deadline)
			return -ETIMEDOUT;
		uint64_t us = MIN(deadline - now, 100 * 1000ull);
		const struct timespec tick = { 0, (long)us * 1000 };
		if (w == 0 && sigtimedwait(chld, NULL, &tick) < 0 && errno != EAGAIN && errno != EINTR)
			return oc_error_errno(-errno, "waiting for the tree");
	}
}

/* The first task still short of its restorer, for a timeout's message. */
static int timeout_error(struct rst_live *live, size_t n, unsigned timeout_ms)
{
	for (size_t i = 0; i < n; i++) {
		bool pending = live[i].task->zombie && !live[i].exited;
		for (size_t j = 0; j < live[i].n_threads && !pending; j++)
			pending = !live[i].threads[j].done;
		if (pending)
			return oc_error(-ETIMEDOUT,
					"restore timed out after %u.%03u s: task %d has not reached its "
					"restorer (raise the limit with --timeout)",
					timeout_ms / 1000, timeout_ms % 1000, live[i].pid);
	}
	return oc_error(-ETIMEDOUT, "restore timed out after %u.%03u s", timeout_ms / 1000, timeout_ms % 1000);
}

/* Follow the tree until every thread sits at its blob's final trap and
 * every zombie-to-be has exited, for at most @timeout_ms. */
static int follow_tree(struct rst_live *live, size_t n, unsigned timeout_ms, bool other_pidns, size_t top,
		       const sigset_t *chld)
{
	uint64_t deadline = oc_now_us() + timeout_ms * 1000ull;
	size_t waiting = 0;
	char why[3072] = "";

	for (size_t i = 0; i < n; i++)
		waiting += live[i].task->zombie ? 1 : live[i].n_threads;

	while (waiting) {
		int st;
		pid_t w = wait_tree_event(chld, &st, deadline);
		if (w == -ETIMEDOUT)
			return timeout_error(live, n, timeout_ms);
		if (w < 0)
			return oc_error_wrap(w, "restoring the tree");
		struct rst_thread_state *th = NULL;
		struct rst_live *lv = live_task(live, n, w, &th);
		if (!lv && other_pidns && WIFSTOPPED(st))
			lv = learn_pid(live, n, top, w, &th);
		if (!lv)
			continue;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (lv->task->zombie && w == lv->pid && !lv->exited) {
				lv->exited = true;
				waiting--;
				continue;
			}
			if (w != lv->pid)
				continue;
			read_agent_msgs(lv, why, sizeof(why));
			if (why[0])
				return oc_error(-EIO, "restoring task %d: %s", lv->task->pid, why);
			/* Killed because another failed (a nested pid
			 * namespace's init, whose death kills the namespace):
			 * that one's reason is the one to give. */
			for (size_t k = 0; k < n && !why[0]; k++) {
				read_agent_msgs(&live[k], why, sizeof(why));
				if (why[0])
					return oc_error(-EIO, "restoring task %d: %s", live[k].task->pid, why);
			}
			return oc_error(-EIO, "task %d died during restore (%s %d)", lv->pid,
					WIFEXITED(st) ? "exit status" : "signal",
					WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		}
		if (!WIFSTOPPED(st))
			continue;
		int event = st >> 16, sig = WSTOPSIG(st);
		if (event) {
			/* fork/clone reports and new tasks' first stops */
			ptrace(PTRACE_CONT, w, 0, 0);
			continue;
		}
		if (sig == SIGTRAP && th && !th->done && !lv->task->zombie) {
			th->done = true;
			waiting--;
			continue;
		}
		siginfo_t si = {};
		ptrace(PTRACE_GETSIGINFO, w, 0, &si);
		if (sig == SIGCHLD || sig == SIGPIPE || zombie_own_signal(lv, sig, &si)) {
			ptrace(PTRACE_CONT, w, 0, lv->task->zombie ? sig : 0);
			continue;
		}
		struct user_regs_struct regs = {};
		ptrace(PTRACE_GETREGS, w, 0, &regs);
		read_agent_msgs(lv, NULL, 0);
		uint64_t base = lv->jumped ? lv->jump.area_start : 0;
		return oc_error(-EIO,
				"thread %d of task %d got signal %d (%s) during restore at ip 0x%llx "
				"(restorer+0x%llx), address %p",
				w, lv->pid, sig, strsignal(sig), (unsigned long long)regs.rip,
				(unsigned long long)(regs.rip - base), si.si_addr);
	}
	for (size_t i = 0; i < n; i++) {
		if (live[i].task->zombie)
			continue;
		read_agent_msgs(&live[i], NULL, 0);
		if (!live[i].jumped)
			return oc_error(-EIO, "task %d reached the end without entering the restorer", live[i].pid);
	}
	return 0;
}

/*
 * The restorer's final int3, taken with every signal blocked, made the
 * kernel force SIGTRAP through: it unblocked it and reset a caught or
 * ignored SIGTRAP to SIG_DFL.  Put the image's disposition back.
 */
static int put_back_sigtrap(struct oc_rst_task *t, struct oc_remote *rs)
{
	TaskCoreEntry *tc = t->cores[0]->tc;
	const size_t index = SIGTRAP - 1; /* below SIGKILL: no gap before it */

	if (tc->n_sigactions <= index || tc->sigactions[index]->sigaction == (uintptr_t)SIG_DFL)
		return 0;
	const SaEntry *sa = tc->sigactions[index];
	struct oc_rst_sigaction ka = { sa->sigaction, sa->flags, sa->restorer, sa->mask };
	int r = oc_remote_poke(rs, 0, &ka, sizeof(ka));
	if (r < 0)
		return r;
	r = oc_remote_call(rs, "rt_sigaction(SIGTRAP)", SYS_rt_sigaction, SIGTRAP, rs->scratch, 0, sizeof(uint64_t));
	return r < 0 ? r : 0;
}

/* Unmap the restorer area, load each thread's registers and let go. */
static int finish_task(struct oc_rst_task *t, struct rst_live *lv, bool leave_stopped)
{
	struct oc_remote rs;
	size_t xlen = oc_arch_xstate_size();
	_cleanup_free_ uint8_t *xbuf = malloc(xlen);
	int r;

	if (!xbuf)
		return -ENOMEM;
	r = oc_remote_begin(lv->pid, lv->jump.syscall_ip, sizeof(struct oc_rst_sigaction), &rs);
	if (r < 0)
		return r;
	r = put_back_sigtrap(t, &rs);
	if (r < 0)
		return r;
	/* Our fds go from its table (shared or not, every task is done). */
	r = oc_remote_call(&rs, "close_range of the restorer's fds", SYS_close_range, lv->helper_base, ~0u, 0, 0);
	if (r < 0)
		return r;
	r = oc_remote_call(&rs, "munmap of the restorer area", SYS_munmap, lv->jump.area_start, lv->jump.area_len, 0,
			   0);
	if (r < 0)
		return r;

	for (size_t i = 0; i < t->n_cores; i++) {
		CoreEntry *core = t->cores[i];
		pid_t tid = lv->threads[i].tid;
		struct user_regs_struct regs;
		uint64_t mask = i == 0 ? t->cores[0]->tc->blk_sigset
				       : (core->thread_core->has_blk_sigset ? core->thread_core->blk_sigset : 0);

		r = oc_arch_regs_from_image(core->thread_info->gpregs, &regs);
		if (r < 0)
			return oc_error_wrap(r, "thread %d", tid);
		r = oc_arch_xstate_from_image(core->thread_info->fpregs, xbuf, xlen);
		if (r < 0)
			return oc_error_wrap(r, "thread %d", tid);
		struct iovec iov = { xbuf, xlen };
		if (ptrace(PTRACE_SETREGSET, tid, NT_X86_XSTATE, &iov) < 0)
			return oc_error_errno(-errno, "thread %d: cannot load FPU state", tid);
		if (ptrace(PTRACE_SETREGS, tid, 0, &regs) < 0)
			return oc_error_errno(-errno, "thread %d: cannot load registers", tid);
		mask &= ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
		if (ptrace(PTRACE_SETSIGMASK, tid, sizeof(mask), &mask) < 0)
			return oc_error_errno(-errno, "thread %d: cannot set the signal mask", tid);
		r = oc_rst_thread_sched(core->thread_core, tid);
		if (r < 0)
			return r;
	}
	/* Pending before the first instruction: the task stops at once, a
	 * task dumped stopped before it can run on (a read whose data came
	 * while it was stopped would return). */
	TaskCoreEntry *tc = t->cores[0]->tc;
	if (leave_stopped)
		kill(lv->pid, SIGSTOP);
	else if (tc->task_state == 3)
		kill(lv->pid, tc->has_stop_signo ? (int)tc->stop_signo : SIGSTOP);
	for (size_t i = 0; i < t->n_cores; i++) {
		pid_t tid = lv->threads[i].tid;
		if (ptrace(PTRACE_DETACH, tid, 0, 0) < 0)
			return oc_error_errno(-errno, "cannot let thread %d go", tid);
	}
	return 0;
}

static int notify(struct oc_rst_ctx *ctx, const char *action, pid_t pid)
{
	return oc_notify_point(ctx->opts->notify, ctx->opts->notify_data, action, pid);
}

/* A socket to each task's agent, and what the coordinator follows of it. */
static int prepare_live(struct oc_rst_ctx *ctx, struct oc_rst_files *files, struct rst_live *live)
{
	bool other_pidns = oc_ns_rst_other_pidns(ctx);

	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct oc_rst_task *t = &ctx->tasks[i];
		int sv[2];

		live[i].task = t;
		live[i].helper_base = files->helper_base;
		t->session_done_fd = -1;
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			return oc_error_errno(-errno, "socketpair");
		live[i].sock = sv[0];
		/* The agent's end lives in the helper range: every blob closes it. */
		t->status_fd = oc_rst_high_fd(files, sv[1]);
		if (t->status_fd < 0)
			return t->status_fd;
		live[i].pid = other_pidns ? 0 : t->pid;
		live[i].n_threads = t->zombie ? 0 : t->n_cores;
		live[i].threads = calloc(t->n_cores, sizeof(*live[i].threads));
		if (!live[i].threads)
			return -ENOMEM;
		for (size_t j = 0; j < t->n_cores && !t->zombie; j++)
			live[i].threads[j].tid = other_pidns ? 0 : t->pstree->threads[j];
	}
	return 0;
}

/* The root's CREATE step: once every file is open, make the root with its
 * pid, trace it, and start every agent. */
static int create_root(struct oc_rst_ctx *ctx, struct oc_rst_files *files, struct rst_live *live)
{
	bool other_pidns = oc_ns_rst_other_pidns(ctx);
	int r;

	r = oc_rst_open_sources(files);
	if (r >= 0)
		r = prepare_live(ctx, files, live);
	if (r < 0)
		return r;
	/* In a new pid namespace the root is its pid 1 (the image says so)
	 * and has another pid outside.  A sibling root is the caller's
	 * parent's child: that one waits for it. */
	/* A new mount namespace is the one ocicr is in now (res/ns/mnt.c),
	 * as are those to join. */
	int own_ns[_OC_NS_KIND_MAX], own_cgns = -1;
	r = oc_ns_join_enter(ctx, own_ns);
	if (r >= 0)
		r = oc_cgroup_ns_enter(ctx, &own_cgns);
	if (r >= 0)
		r = oc_mnt_rst_before_clone(ctx);
	/* With a new user namespace, the root takes a copy of the mount tree
	 * built here, owned by that namespace (its root may mount). */
	uint64_t flags = ctx->ns->clone_flags;
	if (!(flags & CLONE_NEWUSER))
		flags &= ~(uint64_t)CLONE_NEWNS;
	uint32_t own_loginuid;
	bool loginuid_unset = r >= 0 && oc_rst_loginuid_unset_own(&own_loginuid);
	pid_t pid =
		r < 0 ? -1 : clone_with_pid(ctx->tasks[0].pid, flags | (ctx->opts->restore_sibling ? CLONE_PARENT : 0));
	int clone_err = errno;
	if (pid != 0 && loginuid_unset)
		oc_rst_loginuid_reset_own(own_loginuid);
	if (pid != 0) {
		oc_cgroup_ns_leave(own_cgns);
		oc_ns_join_leave(ctx, own_ns);
		oc_mnt_rst_leave(ctx);
	}
	if (r < 0)
		return r;
	if (pid < 0)
		return clone_err == EEXIST && !other_pidns
			       ? pid_in_use_error(ctx->tasks[0].pid)
			       : oc_error_errno(-clone_err, "cannot create task %d", ctx->tasks[0].pid);
	if (pid == 0)
		run_task(ctx, files, &ctx->tasks[0]);
	if (other_pidns) {
		live[0].pid = live[0].threads[0].tid = pid;
		pr_info("task %d of the tree's pid namespace is %d", ctx->tasks[0].pid, pid);
		r = oc_ns_rst_top_level(ctx, pid);
		if (r < 0)
			return r;
	} else if (pid != ctx->tasks[0].pid) {
		return oc_error(-EEXIST, "task got pid %d instead of %d", pid, ctx->tasks[0].pid);
	}

	/* Filters the blobs install must not stop our remote calls. */
	long suspend = oc_rst_seccomp_used(ctx) ? PTRACE_O_SUSPEND_SECCOMP : 0;
	if (ptrace(PTRACE_SEIZE, pid, 0,
		   PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | suspend) < 0)
		return oc_error_errno(-errno, "cannot trace task %d%s", pid,
				      suspend ? " with its seccomp filters suspended (needs CAP_SYS_ADMIN)" : "");
	/* Its namespaces are filled before it (or any task) runs. */
	r = oc_ns_fill(ctx, pid);
	if (r >= 0)
		r = oc_rst_inherit_check_used(ctx);
	if (r < 0)
		return r;
	/* The tree has every file now; ours would only keep pipes open. */
	oc_rst_files_fini(files);
	/* The root's namespaces exist and are filled: both points now. */
	r = notify(ctx, "setup-namespaces", pid);
	if (r >= 0)
		r = notify(ctx, "post-setup-namespaces", pid);
	if (r >= 0 && ctx->orphan_pts_master >= 0) {
		/* As CRIU: the new master goes to the caller, who keeps it. */
		r = oc_notify_point_fd(ctx->opts->notify, ctx->opts->notify_data, "orphan-pts-master", pid,
				       ctx->orphan_pts_master);
		close(ctx->orphan_pts_master);
		ctx->orphan_pts_master = -1;
	}
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->n_tasks; i++)
		if ((r = oc_rst_send_byte(live[i].sock, OC_MSG_START)) < 0)
			return oc_error_errno(r, "cannot start task %d", live[i].pid);
	return 0;
}

/* The RESUME step: follow the tree until every thread waits at its final
 * trap, then let the whole tree go at once. */
static int resume_tree(struct oc_rst_ctx *ctx, struct rst_live *live)
{
	pid_t pid = live[0].pid; /* outside a new pid namespace, its pid there */
	sigset_t chld, was;
	int r;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, &was);
	r = follow_tree(live, ctx->n_tasks, ctx->opts->timeout_ms ? ctx->opts->timeout_ms : OC_RESTORE_TIMEOUT_MS,
			oc_ns_rst_other_pidns(ctx), ctx->ns->top_level, &chld);
	pthread_sigmask(SIG_SETMASK, &was, NULL);
	/* Every task is in its cwd: stand-ins for gone tasks go (res/fd/file_reg.c). */
	oc_rst_proc_helpers_stop(ctx);
	/* Threads in other cgroups than their leader: now that they exist. */
	for (size_t i = 0; r >= 0 && i < ctx->n_tasks; i++)
		for (size_t j = 1; r >= 0 && j < live[i].n_threads; j++)
			r = oc_cgroup_enter_thread(ctx, &ctx->tasks[i], j, live[i].threads[j].tid);
	if (r >= 0)
		r = oc_ns_finish(ctx, live[0].pid);
	if (r >= 0)
		r = notify(ctx, "post-restore", pid);
	if (r >= 0)
		r = oc_interrupt_check(); /* the last chance: nothing ran yet */
	if (r < 0)
		return r;
	/* As CRIU, for a tree with a net namespace of its own: only logged. */
	if (oc_ns_rst_not_ours(ctx, OC_NS_NET))
		oc_notify_point_logged(ctx->opts->notify, ctx->opts->notify_data, "network-unlock", pid);
	oc_notify_point_logged(ctx->opts->notify, ctx->opts->notify_data, "pre-resume", pid);
	/* The very last: connections leave repair mode, the lock goes. */
	r = oc_tcp_restore_resume(ctx);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		if (ctx->tasks[i].zombie)
			continue;
		r = finish_task(&ctx->tasks[i], &live[i], ctx->opts->leave_stopped);
		if (r < 0)
			return oc_error_wrap(r, "restoring task %d", ctx->tasks[i].pid);
	}
	return 0;
}

/* The coordinator's own steps of the plan (actor 0), in plan order; the
 * tasks carry out theirs (run_task). */
static int restore_tree(struct oc_rst_ctx *ctx, struct oc_rst_files *files, struct rst_live *live)
{
	const struct oc_plan *plan = &ctx->plan;
	/* Its network is held until it runs, from before its sockets exist;
	 * locked from ocicr's mount namespace, where the lock's tools are. */
	int r = oc_tcp_restore_lock_netns(ctx);

	/* The tree's files open inside its mount tree. */
	if (r >= 0)
		r = oc_mnt_rst_enter(ctx);
	if (r >= 0)
		r = oc_rst_files_begin(files);

	if (r >= 0)
		r = oc_cgroup_prepare(ctx, files);
	for (size_t k = 0; k < plan->n_steps && r >= 0; k++) {
		const struct oc_plan_step *s = &plan->steps[plan->order[k]];
		if (s->actor != 0)
			continue;
		switch (s->kind) {
		case OC_STEP_OPEN:
			r = oc_rst_open_fd_file(files, s->object);
			break;
		case OC_STEP_STAGE:
			r = oc_fd_kind_of(s->object)->run_stage(files, s->stage);
			break;
		case OC_STEP_CREATE:
			r = create_root(ctx, files, live);
			break;
		case OC_STEP_RESUME:
			r = resume_tree(ctx, live);
			break;
		default: {
			char what[128];
			oc_plan_describe(plan, plan->order[k], what, sizeof(what));
			r = oc_error(-EINVAL, "the plan gives the coordinator a step it cannot do: %s", what);
		}
		}
	}
	oc_mnt_rst_leave(ctx);
	return r;
}

static int write_restore_stats(struct oc_rst_ctx *ctx, uint64_t restore_us)
{
	StatsEntry st = STATS_ENTRY__INIT;
	RestoreStatsEntry rs = RESTORE_STATS_ENTRY__INIT;

	rs.restore_time = restore_us;
	st.restore = &rs;
	return oc_img_write_one(ctx->dir, OC_IMG_STATS_RESTORE, 0, &st.base);
}

int oc_restore(const struct oc_restore_opts *opts, pid_t *ret_root_pid)
{
	struct oc_rst_ctx ctx = { .opts = opts, .orphan_pts_master = -1 };
	struct oc_rst_files files = {};
	struct rst_live *live = NULL;
	uint64_t t0 = oc_now_us();
	int r;

	if (!opts || opts->sz < sizeof(*opts))
		return oc_error(-EINVAL, "restore options: bad size");
	if (!opts->images_dir)
		return oc_error(-EINVAL, "no images directory given");
	if (opts->restore_sibling && !opts->detach)
		return oc_error(-EINVAL, "a sibling root is not ours to wait for: restore_sibling needs detach");

	r = oc_imgdir_open(opts->images_dir, false, &ctx.dir);
	if (r < 0)
		return r;
	oc_interrupt_set(opts->interrupted, opts->interrupted_data);
	r = oc_rst_inherit_begin(&ctx);
	if (r >= 0)
		r = oc_restore_load(&ctx);
	if (r >= 0)
		r = oc_cgroup_load(&ctx);
	if (r < 0)
		goto out;
	r = oc_plan_build(&ctx, &ctx.plan);
	if (r < 0)
		goto out;
	if (opts->plan_only) {
		oc_plan_print(&ctx.plan, &ctx, opts->plan_out ? opts->plan_out : stdout);
		goto out;
	}
	r = oc_interrupt_check();
	if (r >= 0)
		r = check_pids(&ctx);
	if (r >= 0)
		r = notify(&ctx, "pre-restore", 0);
	if (r < 0)
		goto out;

	live = calloc(ctx.n_tasks, sizeof(*live));
	if (!live) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ctx.n_tasks; i++)
		live[i].sock = -1;

	pr_info("Restoring %zu task(s) from %s", ctx.n_tasks, opts->images_dir);
	files.ctx = &ctx;
	r = restore_tree(&ctx, &files, live);
	if (r < 0) {
		/* Leave nothing behind: every task we made dies.  Looking
		 * them up may record errors of its own: keep ours. */
		char why[4096];
		snprintf(why, sizeof(why), "%s", oc_error_message());
		/* The tasks below those killed first come to us, not to
		 * init, and are reaped here: no zombie outlives the restore. */
		int was_subreaper = 0;
		prctl(PR_GET_CHILD_SUBREAPER, &was_subreaper);
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		for (size_t i = 0; i < ctx.n_tasks; i++)
			if (live[i].pid > 0 && is_traced_by_us(live[i].pid))
				kill(live[i].pid, SIGKILL);
		kill_our_tracees();
		oc_rst_proc_helpers_stop(&ctx);
		while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
			;
		prctl(PR_SET_CHILD_SUBREAPER, was_subreaper);
		oc_cgroup_abort(&ctx);
		r = oc_error(r, "%s", why);
		goto out;
	}
	uint64_t took = oc_now_us() - t0;
	pr_info("Restored task %d (%d here) in %" PRIu64 " us", ctx.tasks[0].pid, live[0].pid, took);
	if (write_restore_stats(&ctx, took) < 0)
		pr_warn("cannot write stats-restore: %s", oc_error_message());
	if (ret_root_pid)
		*ret_root_pid = live[0].pid;
	oc_notify_point_logged(opts->notify, opts->notify_data, "post-resume", live[0].pid);

	if (!opts->detach) {
		int st;
		while (waitpid(live[0].pid, &st, 0) < 0 && errno == EINTR)
			;
		r = st;
	}
out:
	oc_interrupt_set(NULL, NULL);
	oc_rst_proc_helpers_stop(&ctx);
	oc_tcp_restore_fini(&ctx);
	oc_rst_files_fini(&files);
	if (live)
		for (size_t i = 0; i < ctx.n_tasks; i++) {
			if (live[i].sock >= 0)
				close(live[i].sock);
			free(live[i].threads);
		}
	free(live);
	oc_cgroup_free(&ctx);
	oc_restore_ctx_fini(&ctx);
	return r;
}
