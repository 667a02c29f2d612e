// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The restore coordinator: load the images, check that the pids are free,
 * create each task with its pid, follow its agent and blob under ptrace,
 * and finish each thread by loading its registers, FPU state and signal
 * mask.  Any failure kills every task it created.
 */
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

#include "restore.h"
#include "arch/x86_64/regs.h"
#include "arch/x86_64/remote.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/log.h"

#include "stats.pb-c.h"

struct rst_thread_state {
	pid_t tid;
	bool attached; /* seen by the coordinator */
	bool done;     /* stopped at the blob's final trap */
};

struct rst_live {
	pid_t pid;
	int sock;
	struct rst_thread_state *threads;
	size_t n_threads;
	struct oc_agent_msg jump;
	bool jumped;
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

static int check_pids(struct oc_rst_ctx *ctx)
{
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

static pid_t clone_with_pid(pid_t pid)
{
	struct clone_args ca = {
		.exit_signal = SIGCHLD,
		.set_tid = (uint64_t)(uintptr_t)&pid,
		.set_tid_size = 1,
	};
	return syscall(SYS_clone3, &ca, sizeof(ca));
}

static void silent_log(enum oc_log_level level, const char *line, void *userdata)
{
}

static __attribute__((noreturn)) void run_agent(struct oc_rst_ctx *ctx, struct oc_rst_task *t, int sock)
{
	struct oc_agent_msg msg = { .type = OC_AGENT_FAILED };
	char go;
	int r;

	/* The log fd may become one of the task's fds: log nothing here. */
	oc_set_log(silent_log, NULL, OC_LOG_MSG);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(sock, &go, 1) != 1)
		_exit(2);
	r = oc_restore_agent(ctx, t, sock);
	msg.err = r;
	snprintf(msg.text, sizeof(msg.text), "%s", oc_error_message());
	/* The agent may have moved its socket: find it again. */
	for (int fd = 0; fd < 65536; fd++) {
		int type;
		socklen_t len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET) {
			send(fd, &msg, sizeof(msg), MSG_NOSIGNAL);
			break;
		}
	}
	_exit(1);
}

static const char *const step_names[];

/* Read what the agent or the blob said, without blocking. */
static void read_agent_msgs(struct rst_live *lv, char *why, size_t why_len)
{
	struct oc_agent_msg msg;
	ssize_t n;

	while ((n = recv(lv->sock, &msg, sizeof(msg), MSG_DONTWAIT)) > 0) {
		if (n == sizeof(struct oc_rst_report) && why) {
			struct oc_rst_report rep;
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
		else if (msg.type == OC_AGENT_JUMPING) {
			lv->jump = msg;
			lv->jumped = true;
		}
	}
}

static struct rst_thread_state *live_thread(struct rst_live *lv, pid_t tid)
{
	for (size_t i = 0; i < lv->n_threads; i++)
		if (lv->threads[i].tid == tid)
			return &lv->threads[i];
	return NULL;
}

static const char *const step_names[_OC_RST_STEP_MAX] = {
	[OC_RST_STEP_NONE] = "?", [OC_RST_STEP_UNMAP] = "unmapping the old layout",
	[OC_RST_STEP_VDSO] = "mapping the vDSO", [OC_RST_STEP_MMAP] = "mapping a VMA",
	[OC_RST_STEP_PAGES] = "reading pages", [OC_RST_STEP_MPROTECT] = "setting protections",
	[OC_RST_STEP_MM] = "setting mm fields (PR_SET_MM_MAP)", [OC_RST_STEP_SIGACTION] = "signal handlers",
	[OC_RST_STEP_ITIMER] = "interval timers", [OC_RST_STEP_TIMER] = "POSIX timers",
	[OC_RST_STEP_RLIMIT] = "resource limits", [OC_RST_STEP_CLONE] = "creating threads",
	[OC_RST_STEP_THREAD] = "per-thread state", [OC_RST_STEP_CREDS] = "credentials",
	[OC_RST_STEP_SIGQUEUE] = "queueing pending signals", [OC_RST_STEP_SEALS] = "sealing memfds",
};

/* Follow the task until every thread sits at the blob's final trap. */
static int follow_task(struct rst_live *lv)
{
	size_t done = 0;
	char why[3072] = "";

	while (done < lv->n_threads) {
		int st;
		pid_t w = waitpid(-1, &st, __WALL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return oc_error_errno(-errno, "waiting for task %d", lv->pid);
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (w != lv->pid)
				continue;
			read_agent_msgs(lv, why, sizeof(why));
			if (why[0])
				return oc_error(-EIO, "%s", why);
			if (WIFEXITED(st) && WEXITSTATUS(st) >= 100) {
				int step = WEXITSTATUS(st) - 100;
				return oc_error(-EIO, "the restorer failed while %s",
						step < _OC_RST_STEP_MAX ? step_names[step] : "?");
			}
			return oc_error(-EIO, "task %d died during restore (%s %d)", lv->pid,
					WIFEXITED(st) ? "exit status" : "signal",
					WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		}
		if (!WIFSTOPPED(st))
			continue;
		int event = st >> 16, sig = WSTOPSIG(st);
		struct rst_thread_state *th = live_thread(lv, w);
		if (event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_STOP) {
			if (th)
				th->attached = true;
			ptrace(PTRACE_CONT, w, 0, 0);
			continue;
		}
		if (sig == SIGTRAP && th && !th->done) {
			th->done = true;
			done++;
			continue;
		}
		if (sig == SIGCHLD || sig == SIGPIPE) {
			ptrace(PTRACE_CONT, w, 0, 0);
			continue;
		}
		struct user_regs_struct regs = {};
		siginfo_t si = {};
		ptrace(PTRACE_GETREGS, w, 0, &regs);
		ptrace(PTRACE_GETSIGINFO, w, 0, &si);
		read_agent_msgs(lv, NULL, 0);
		uint64_t base = lv->jumped ? lv->jump.area_start : 0;
		return oc_error(-EIO, "thread %d of task %d got signal %d (%s) during restore at ip 0x%llx "
				"(restorer+0x%llx), address %p", w, lv->pid, sig, strsignal(sig),
				(unsigned long long)regs.rip, (unsigned long long)(regs.rip - base), si.si_addr);
	}
	read_agent_msgs(lv, NULL, 0);
	if (!lv->jumped)
		return oc_error(-EIO, "task %d reached the end without entering the restorer", lv->pid);
	return 0;
}

/* Unmap the restorer area, load each thread's registers and let go. */
static int finish_task(struct oc_rst_task *t, struct rst_live *lv)
{
	struct oc_remote rs;
	size_t xlen = oc_arch_xstate_size();
	_cleanup_free_ uint8_t *xbuf = malloc(xlen);
	long res;
	int r;

	if (!xbuf)
		return -ENOMEM;
	r = oc_remote_begin(lv->pid, lv->jump.syscall_ip, 0, &rs);
	if (r < 0)
		return r;
	r = oc_remote_syscall(&rs, SYS_munmap, &res, lv->jump.area_start, lv->jump.area_len, 0, 0, 0, 0);
	if (r < 0)
		return r;
	if (res < 0)
		return oc_error(res, "cannot unmap the restorer area of task %d", t->pid);

	for (size_t i = 0; i < t->n_cores; i++) {
		CoreEntry *core = t->cores[i];
		pid_t tid = t->pstree->threads[i];
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
	}
	for (size_t i = 0; i < t->n_cores; i++) {
		pid_t tid = t->pstree->threads[i];
		if (ptrace(PTRACE_DETACH, tid, 0, 0) < 0)
			return oc_error_errno(-errno, "cannot let thread %d go", tid);
	}
	TaskCoreEntry *tc = t->cores[0]->tc;
	if (tc->task_state == 3)
		kill(t->pid, tc->has_stop_signo ? (int)tc->stop_signo : SIGSTOP);
	return 0;
}

static int restore_task(struct oc_rst_ctx *ctx, struct oc_rst_task *t, struct rst_live *lv)
{
	int sv[2], r;

	if (t->zombie)
		return oc_error(-EOPNOTSUPP, "zombie task %d: restoring zombies is not supported yet", t->pid);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return oc_error_errno(-errno, "socketpair");

	lv->n_threads = t->n_cores;
	lv->threads = calloc(t->n_cores, sizeof(*lv->threads));
	if (!lv->threads) {
		close(sv[0]);
		close(sv[1]);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n_cores; i++)
		lv->threads[i].tid = t->pstree->threads[i];

	pid_t pid = clone_with_pid(t->pid);
	if (pid < 0) {
		r = oc_error_errno(-errno, "cannot create task %d", t->pid);
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (pid == 0) {
		close(sv[0]);
		run_agent(ctx, t, sv[1]);
	}
	close(sv[1]);
	lv->pid = pid;
	lv->sock = sv[0];
	if (pid != t->pid)
		return oc_error(-EEXIST, "task got pid %d instead of %d", pid, t->pid);

	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD) < 0)
		return oc_error_errno(-errno, "cannot trace task %d", pid);
	lv->threads[0].attached = true;
	if (write(lv->sock, "g", 1) != 1)
		return oc_error_errno(-errno, "cannot start task %d", pid);

	r = follow_task(lv);
	if (r < 0)
		return oc_error_wrap(r, "restoring task %d", t->pid);
	r = finish_task(t, lv);
	if (r < 0)
		return oc_error_wrap(r, "restoring task %d", t->pid);
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
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
	struct oc_rst_ctx ctx = { .opts = opts };
	struct rst_live *live = NULL;
	uint64_t t0 = now_us();
	int r;

	if (!opts || opts->sz < sizeof(*opts))
		return oc_error(-EINVAL, "restore options: bad size");
	if (!opts->images_dir)
		return oc_error(-EINVAL, "no images directory given");

	r = oc_imgdir_open(opts->images_dir, false, &ctx.dir);
	if (r < 0)
		return r;
	r = oc_restore_load(&ctx);
	if (r < 0)
		goto out;
	if (opts->plan_only) {
		r = oc_restore_print_plan(&ctx, opts->plan_out ? opts->plan_out : stdout);
		goto out;
	}
	if (ctx.n_tasks > 1) {
		r = oc_error(-EOPNOTSUPP, "the image holds %zu tasks; restoring process trees is not supported "
			     "yet", ctx.n_tasks);
		goto out;
	}
	r = check_pids(&ctx);
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
	for (size_t i = 0; i < ctx.n_tasks && r >= 0; i++)
		r = restore_task(&ctx, &ctx.tasks[i], &live[i]);
	if (r < 0) {
		/* Leave nothing behind. */
		for (size_t i = 0; i < ctx.n_tasks; i++)
			if (live[i].pid > 0) {
				kill(live[i].pid, SIGKILL);
				waitpid(live[i].pid, NULL, __WALL);
			}
		goto out;
	}
	uint64_t took = now_us() - t0;
	pr_info("Restored task %d in %" PRIu64 " us", ctx.tasks[0].pid, took);
	if (write_restore_stats(&ctx, took) < 0)
		pr_warn("cannot write stats-restore: %s", oc_error_message());
	if (ret_root_pid)
		*ret_root_pid = ctx.tasks[0].pid;

	if (!opts->detach) {
		int st;
		while (waitpid(ctx.tasks[0].pid, &st, 0) < 0 && errno == EINTR)
			;
		r = st;
	}
out:
	if (live)
		for (size_t i = 0; i < ctx.n_tasks; i++) {
			if (live[i].sock >= 0)
				close(live[i].sock);
			free(live[i].threads);
		}
	free(live);
	oc_restore_ctx_fini(&ctx);
	return r;
}
