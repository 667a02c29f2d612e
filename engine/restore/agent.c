// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The restore agent: ocicr code running as the task being restored, with
 * its final pid.  It does what needs libc and the images -- session and
 * group, files and fds, cwd and root, memory sources -- then builds the
 * restorer area and enters the blob.  Its own fds live at or above
 * helper_base, above every fd of the target, and the blob closes them.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "restore/restore.h"
#include "res/ns/ns.h"
#include "res/kind.h"
#include "res/fd/files.h"
#include "mem/mm.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#define PAGE_ALIGN(x) (((x) + OC_PAGE_SIZE - 1) & ~(OC_PAGE_SIZE - 1))

static void agent_say(struct oc_rst_agent *ag, int type, const char *fmt, va_list ap)
{
	struct oc_agent_msg msg = { .type = type };

	vsnprintf(msg.text, sizeof(msg.text), fmt, ap);
	send(ag->status_fd, &msg, sizeof(msg), MSG_NOSIGNAL);
}

void oc_agent_warn(struct oc_rst_agent *ag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	agent_say(ag, OC_AGENT_WARNING, fmt, ap);
	va_end(ap);
}

void oc_agent_info(struct oc_rst_agent *ag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	agent_say(ag, OC_AGENT_INFO, fmt, ap);
	va_end(ap);
}

/* ---- session, files, fs ----------------------------------------------- */

#define TASK_WAIT_MS 10000

/*
 * The plan makes a task before another opens a file naming it, but each
 * task runs its own steps: one made by a third task (a grandchild whose
 * pidfd we hold) may not be there yet.  Wait for it, bounded.
 */
static int wait_task_made(struct oc_rst_agent *ag, uint32_t file_id)
{
	struct oc_rst_task *of = oc_rst_proc_file_task(ag->ctx, file_id);

	if (!of || of == ag->task)
		return 0;
	for (int ms = 0; kill(of->pid, 0) < 0 && errno == ESRCH; ms++) {
		if (ms == TASK_WAIT_MS)
			return oc_error(-ETIMEDOUT, "task %d: task %d, which file %u names, was not made in %d s",
					ag->task->pid, of->pid, file_id, TASK_WAIT_MS / 1000);
		usleep(1000);
	}
	return 0;
}

int oc_agent_install(struct oc_rst_agent *ag)
{
	struct oc_rst_task *t = ag->task;
	int r;

	/* Below the helper range there must be only what the task will have:
	 * one call, not one close() per possible fd (a few hundred per task). */
	if (ag->files->helper_base > 0 && close_range(0, ag->files->helper_base - 1, 0) < 0)
		return oc_error_errno(-errno, "cannot close fds below %d", ag->files->helper_base);

	for (size_t i = 0; i < t->n_fds; i++) {
		FdinfoEntry *e = t->fds[i];
		int fd;
		r = wait_task_made(ag, e->id);
		if (r < 0)
			return r;
		/* Opened by the coordinator already: this only looks it up. */
		r = oc_rst_open_file(ag->files, e->id, &fd);
		if (r < 0)
			return r;
		if (dup3(fd, e->fd, (e->flags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
			return oc_error_errno(-errno, "cannot install fd %u", e->fd);
	}

	/* POSIX locks belong to the process: taken here, by the task. */
	r = oc_rst_file_locks(ag); /* res/file_lock.c */
	/* Owners last: taking a lease makes its taker the owner. */
	for (size_t i = 0; r >= 0 && i < t->n_fds; i++) {
		r = oc_rst_fown(ag->ctx, oc_rst_find_file(ag->ctx, t->fds[i]->id), t->fds[i]->fd); /* res/fd/files.c */
		if (r < 0)
			r = oc_error_wrap(r, "task %d fd %u", t->pid, t->fds[i]->fd);
	}
	return r;
}

int oc_agent_setup_file(struct oc_rst_agent *ag, uint32_t id)
{
	struct oc_rst_task *t = ag->task;
	FileEntry *fe = oc_rst_find_file(ag->ctx, id);
	const struct oc_fd_kind *kind = fe ? oc_fd_kind_of(fe->type) : NULL;

	if (!kind || !kind->setup)
		return 0;
	for (size_t i = 0; i < t->n_fds; i++)
		if (t->fds[i]->id == id) {
			int r = kind->setup(ag, fe, t->fds[i]->fd);
			return r < 0 ? oc_error_wrap(r, "fd %u (%s)", t->fds[i]->fd, kind->name) : 0;
		}
	/* In flight on a socket it owns: the coordinator's fd, inherited. */
	if (!oc_rst_file_owner(ag->ctx, id)) {
		int fd, r = oc_rst_open_file(ag->files, id, &fd);
		if (r >= 0)
			r = kind->setup(ag, fe, fd);
		return r < 0 ? oc_error_wrap(r, "a file in flight (%s)", kind->name) : 0;
	}
	return oc_error(-EINVAL, "task %d holds no fd for file %u it owns", t->pid, id);
}

/* Personality flags Linux defines (the low byte is the execution domain). */
#define KNOWN_PERSONALITY_FLAGS 0x0ff20000u

static int restore_task_misc(struct oc_rst_agent *ag)
{
	TaskCoreEntry *tc = ag->task->cores[0]->tc;

	/* CRIU 4.2 writes a misparsed value here: apply only sane ones. */
	if (tc->personality & ~KNOWN_PERSONALITY_FLAGS)
		oc_agent_warn(ag, "task %d: personality 0x%x in the image is not valid, left as is", ag->task->pid,
			      tc->personality);
	else if (personality(tc->personality) < 0)
		return oc_error_errno(-errno, "personality(0x%x)", tc->personality);

	if (tc->has_oom_score_adj) {
		char v[16];
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		snprintf(v, sizeof(v), "%d", tc->oom_score_adj);
		if (fd < 0 || write(fd, v, strlen(v)) < 0)
			oc_agent_warn(ag, "task %d: cannot set oom_score_adj %d: %s", ag->task->pid, tc->oom_score_adj,
				      strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	int r = oc_rst_loginuid(ag);
	if (r < 0)
		return r;
	if (tc->has_child_subreaper && tc->child_subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return oc_error_errno(-errno, "PR_SET_CHILD_SUBREAPER");
	if (tc->comm && prctl(PR_SET_NAME, tc->comm) < 0)
		return oc_error_errno(-errno, "PR_SET_NAME");
	return 0;
}

static int restore_fs(struct oc_rst_agent *ag)
{
	FsEntry *fs = ag->task->fs;
	FileEntry *root = oc_rst_find_file(ag->ctx, fs->root_id);
	FileEntry *cwd = oc_rst_find_file(ag->ctx, fs->cwd_id);

	if (!root || !root->reg || !cwd || !cwd->reg)
		return oc_error(-EINVAL, "fs-%d.img: cwd or root is not a path", ag->task->pid);
	/* Both are named from our root, and the cwd may be outside the
	 * task's root: enter it now, change root last (enter_root()). */
	/* A removed one: its ghost, gone by now but for our fd of it. */
	int ghost = oc_rst_find_remap(ag->ctx, cwd->id) ? oc_rst_ghost_find(ag->files, cwd->reg->name) : -1;
	if (ghost >= 0 ? fchdir(ag->files->ghost_fds[ghost]) < 0 : chdir(cwd->reg->name) < 0)
		return oc_error_errno(-errno, "cannot enter the working directory %s", cwd->reg->name);
	if (fs->has_umask)
		umask(fs->umask);
	return 0;
}

/*
 * The task's root, changed last, once everything this agent opens by our
 * root's names is open: the chroot leaves the working directory alone.
 */
static int enter_root(struct oc_rst_agent *ag)
{
	FsEntry *fs = ag->task->fs;
	FileEntry *root = fs ? oc_rst_find_file(ag->ctx, fs->root_id) : NULL;

	if (!root || !root->reg || !strcmp(root->reg->name, "/"))
		return 0;
	if (chroot(root->reg->name) < 0)
		return oc_error_errno(-errno, "cannot chroot to %s", root->reg->name);
	return 0;
}

/* ---- memory -------------------------------------------------------------- */

struct area_layout {
	size_t blob, args, vmas, runs, guards, aio_rings, timers, siginfos, threads, seccomp, stacks, total;
};

int oc_agent_find_area(struct oc_rst_task *t, size_t len, uint64_t *ret)
{
	struct oc_proc_vma *own = NULL;
	size_t n_own = 0;
	int r;

	r = oc_proc_read_maps(0, &own, &n_own);
	if (r < 0)
		return r;

	/* Try below each mapped region, from the top down. */
	uint64_t cand = OC_TASK_SIZE - len - (1ul << 30);
	bool found = false;
	for (int tries = 0; tries < 100000 && !found; tries++) {
		uint64_t lo = cand, hi = cand + len;
		uint64_t clash = 0;
		for (size_t i = 0; i < n_own; i++)
			if (own[i].start < hi + OC_PAGE_SIZE && own[i].end + OC_PAGE_SIZE > lo)
				clash = clash ? MIN(clash, own[i].start) : own[i].start;
		for (size_t i = 0; i < t->mm->n_vmas; i++) {
			const VmaEntry *v = t->mm->vmas[i];
			if (v->start < hi + OC_PAGE_SIZE && v->end + OC_PAGE_SIZE > lo)
				clash = clash ? MIN(clash, v->start) : v->start;
		}
		if (!clash) {
			found = true;
			break;
		}
		if (clash < len + (1ul << 20))
			break;
		cand = (clash - len - OC_PAGE_SIZE) & ~(OC_PAGE_SIZE - 1);
	}
	oc_proc_vmas_free(own, n_own);
	if (!found)
		return oc_error(-ENOMEM, "no room for the restorer (%zu bytes) in the target's address space", len);
	*ret = cand;
	return 0;
}

static int send_msg(int fd, const struct oc_agent_msg *m)
{
	return send(fd, m, sizeof(*m), MSG_NOSIGNAL) == sizeof(*m) ? 0 : -errno;
}

/* The area: the blob, its arguments, the arrays the kinds reserved, then
 * a stack for the blob and one for each thread. */
static void layout_area(const struct oc_rst_task *t, struct area_layout *L)
{
	struct oc_rst_area_counts c = {};

	for (size_t i = 0; i < oc_n_task_kinds; i++)
		if (oc_task_kinds[i]->reserve)
			oc_task_kinds[i]->reserve(t, &c);
	L->blob = PAGE_ALIGN(oc_restorer_blob_end - oc_restorer_blob);
	L->args = L->blob;
	L->vmas = L->args + sizeof(struct oc_rst_args);
	L->runs = L->vmas + c.vmas * sizeof(struct oc_rst_vma);
	L->guards = L->runs + c.runs * sizeof(struct oc_rst_run);
	L->aio_rings = L->guards + c.guards * sizeof(struct oc_rst_range);
	L->timers = L->aio_rings + c.aio_rings * sizeof(struct oc_rst_aio_ring);
	L->siginfos = L->timers + c.timers * sizeof(struct oc_rst_posix_timer);
	L->threads = L->siginfos + c.siginfos * sizeof(struct oc_rst_siginfo);
	L->seccomp = L->threads + c.threads * sizeof(struct oc_rst_thread);
	L->stacks = PAGE_ALIGN(L->seccomp + c.seccomp_bytes);
	L->total = L->stacks + (c.threads + 1) * OC_RST_STACK_SIZE;
}

/* Map the area where it is free in both layouts, with the blob copied in
 * and the arguments' header and array pointers set. */
static int map_area(struct oc_rst_agent *ag, const struct area_layout *L, struct oc_rst_area *ret)
{
	struct oc_rst_task *t = ag->task;
	uint64_t area = 0;
	int r;

	r = oc_agent_find_area(t, L->total, &area);
	if (r < 0)
		return r;
	uint8_t *base = mmap((void *)area, L->total, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (base == MAP_FAILED)
		return oc_error_errno(-errno, "cannot map the restorer area at 0x%" PRIx64, area);
	memcpy(base, oc_restorer_blob, oc_restorer_blob_end - oc_restorer_blob);

	struct oc_rst_args *a = (void *)(base + L->args);
	a->magic = OC_RST_MAGIC;
	a->area_start = area;
	a->area_end = area + L->total;
	a->task_size = OC_TASK_SIZE;
	a->pid = oc_rst_own_pid(t); /* as the task sees itself */
	a->status_fd = ag->status_fd;
	a->populate = !getenv("OCICR_NO_POPULATE");
	a->vmas = (void *)(base + L->vmas);
	a->runs = (void *)(base + L->runs);
	a->guards = (void *)(base + L->guards);
	a->aio_rings = (void *)(base + L->aio_rings);
	a->aio_null_fd = -1;
	a->timers = (void *)(base + L->timers);
	a->siginfos = (void *)(base + L->siginfos);
	a->threads = (void *)(base + L->threads);
	*ret = (struct oc_rst_area){
		.args = a, .start = area, .stacks = area + L->stacks, .seccomp = area + L->seccomp
	};
	return 0;
}

static int build_and_jump(struct oc_rst_agent *ag)
{
	struct area_layout L = {};
	struct oc_rst_area area;
	int r;

	layout_area(ag->task, &L);
	r = map_area(ag, &L, &area);
	if (r < 0)
		return r;
	for (size_t i = 0; i < oc_n_task_kinds; i++) {
		const struct oc_task_kind *kind = oc_task_kinds[i];
		if (kind->fill && (r = kind->fill(ag, &area)) < 0)
			return r;
	}

	if (mprotect((void *)area.start, L.blob, PROT_READ | PROT_EXEC) < 0)
		return oc_error_errno(-errno, "cannot make the restorer executable");
	r = enter_root(ag);
	if (r < 0)
		return r;

	/* Tell the coordinator where the area is; it unmaps it at the end. */
	struct oc_agent_msg msg = { .type = OC_AGENT_JUMPING, .area_start = area.start, .area_len = L.total };
	long at = oc_arch_syscall_offset(oc_restorer_blob, oc_restorer_blob_end - oc_restorer_blob);
	if (at >= 0)
		msg.syscall_ip = area.start + at;
	r = send_msg(ag->status_fd, &msg);
	if (r < 0)
		return oc_error_errno(r, "cannot talk to the coordinator");

	/* The clone inherited our rseq registration; the blob registers
	 * the target's, which the kernel refuses while ours is active. */
	if (__rseq_size > 0) {
		/* glibc registers a 32-byte area and reports the feature size. */
		void *rseq_area = (char *)__builtin_thread_pointer() + __rseq_offset;
		if (syscall(SYS_rseq, rseq_area, MAX(__rseq_size, 32u), RSEQ_FLAG_UNREGISTER, RSEQ_SIG) < 0 &&
		    syscall(SYS_rseq, rseq_area, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) < 0)
			return oc_error_errno(-errno, "cannot unregister the agent's rseq area");
	}

	oc_arch_jump(area.start, area.args, area.stacks + OC_RST_STACK_SIZE - 64);
}

int oc_agent_fs(struct oc_rst_agent *ag)
{
	int r = restore_fs(ag);

	return r < 0 ? r : restore_task_misc(ag);
}

int oc_agent_memory(struct oc_rst_agent *ag)
{
	return build_and_jump(ag);
}
