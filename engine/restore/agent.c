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
#include "res/fd/files.h"
#include "mem/mm.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

extern const uint8_t oc_restorer_blob[], oc_restorer_blob_end[];
void oc_arch_jump(uint64_t entry, void *args, uint64_t stack_top) __attribute__((noreturn));

#define RST_STACK_SIZE (64u << 10)
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

int oc_agent_install(struct oc_rst_agent *ag)
{
	struct oc_rst_task *t = ag->task;
	int r;

	/* Below the helper range there must be only what the task will have. */
	for (int fd = 0; fd < ag->files->helper_base; fd++)
		close(fd);

	for (size_t i = 0; i < t->n_fds; i++) {
		FdinfoEntry *e = t->fds[i];
		int fd;
		/* Opened by the coordinator already: this only looks it up. */
		r = oc_rst_open_file(ag->files, e->id, &fd);
		if (r < 0)
			return r;
		if (dup3(fd, e->fd, (e->flags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
			return oc_error_errno(-errno, "cannot install fd %u", e->fd);
	}

	/* POSIX locks belong to the process: taken here, by the task. */
	return oc_rst_file_locks(ag); /* res/file_lock.c */
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
	return oc_error(-EINVAL, "task %d holds no fd for file %u it owns", t->pid, id);
}

/* Personality flags Linux defines (the low byte is the execution domain). */
#define KNOWN_PERSONALITY_FLAGS 0x0ff20000u

static int restore_task_misc(struct oc_rst_agent *ag)
{
	TaskCoreEntry *tc = ag->task->cores[0]->tc;

	/* CRIU 4.2 writes a misparsed value here: apply only sane ones. */
	if (tc->personality & ~KNOWN_PERSONALITY_FLAGS)
		oc_agent_warn(ag, "task %d: personality 0x%x in the image is not valid, left as is",
			      ag->task->pid, tc->personality);
	else if (personality(tc->personality) < 0)
		return oc_error_errno(-errno, "personality(0x%x)", tc->personality);

	if (tc->has_oom_score_adj) {
		char v[16];
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		snprintf(v, sizeof(v), "%d", tc->oom_score_adj);
		if (fd < 0 || write(fd, v, strlen(v)) < 0)
			oc_agent_warn(ag, "task %d: cannot set oom_score_adj %d: %s", ag->task->pid,
				      tc->oom_score_adj, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
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
	if (strcmp(root->reg->name, "/") && chroot(root->reg->name) < 0)
		return oc_error_errno(-errno, "cannot chroot to %s", root->reg->name);
	if (chdir(cwd->reg->name) < 0)
		return oc_error_errno(-errno, "cannot enter the working directory %s", cwd->reg->name);
	if (fs->has_umask)
		umask(fs->umask);
	return 0;
}

/* ---- memory -------------------------------------------------------------- */

struct area_layout {
	size_t blob, args, vmas, runs, timers, siginfos, threads, stacks, total;
};

int oc_agent_find_area(struct oc_rst_task *t, size_t len, uint64_t *ret)
{
	_cleanup_free_ char *text = NULL;
	struct oc_proc_vma *own = NULL;
	size_t n_own = 0;
	int r;

	r = oc_proc_read(0, "maps", &text, NULL);
	if (r < 0)
		return r;
	r = oc_proc_parse_maps(text, &own, &n_own);
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
	rv->flags = v->flags & ~MAP_LOCKED;
	rv->fd = fd;
	if (fd >= 0)
		rv->flags &= ~MAP_ANONYMOUS;
	rv->madv = v->has_madv ? v->madv : 0;
}

static void fill_creds(struct oc_rst_creds *c, const CredsEntry *ce)
{
	struct oc_rst_creds cur = {};
	uid_t r, e, s;
	gid_t gr, ge, gs;

	memset(c, 0, sizeof(*c));
	if (!ce) {
		c->skip = 1;
		return;
	}
	c->uid = ce->uid;
	c->euid = ce->euid;
	c->suid = ce->suid;
	c->fsuid = ce->fsuid;
	c->gid = ce->gid;
	c->egid = ce->egid;
	c->sgid = ce->sgid;
	c->fsgid = ce->fsgid;
#define CAPS(f) (ce->n_##f >= 2 ? ((uint64_t)ce->f[1] << 32) | ce->f[0] : ce->n_##f ? ce->f[0] : 0)
	c->cap_inh = CAPS(cap_inh);
	c->cap_prm = CAPS(cap_prm);
	c->cap_eff = CAPS(cap_eff);
	c->cap_bnd = CAPS(cap_bnd);
	c->cap_amb = CAPS(cap_amb);
#undef CAPS
	c->secbits = ce->secbits;
	c->no_new_privs = ce->has_no_new_privs && ce->no_new_privs;
	c->n_groups = MIN(ce->n_groups, ARRAY_SIZE(c->groups));
	for (size_t i = 0; i < c->n_groups; i++)
		c->groups[i] = ce->groups[i];

	_cleanup_free_ char *lc = NULL;
	c->last_cap = 40;
	if (oc_proc_read(0, "../sys/kernel/cap_last_cap", &lc, NULL) == 0)
		c->last_cap = atoi(lc);
	uint64_t mask = c->last_cap >= 63 ? ~0ull : (1ull << (c->last_cap + 1)) - 1;
	c->cap_inh &= mask;
	c->cap_prm &= mask;
	c->cap_eff &= mask;
	c->cap_bnd &= mask;
	c->cap_amb &= mask;

	/* Nothing to do when the thread is to be what we are already. */
	struct oc_proc_status st = {};
	_cleanup_free_ char *text = NULL;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	if (oc_proc_read(0, "status", &text, NULL) == 0 && oc_proc_parse_status(text, &st) == 0) {
		gid_t groups[64];
		int ng = getgroups(64, groups);
		bool same_groups = ng == (int)c->n_groups;
		for (int i = 0; same_groups && i < ng; i++)
			same_groups = groups[i] == c->groups[i];
		cur.skip = r == c->uid && e == c->euid && s == c->suid && gr == c->gid && ge == c->egid &&
			   gs == c->sgid && st.uid[3] == c->fsuid && st.gid[3] == c->fsgid &&
			   st.cap_inh == c->cap_inh && st.cap_prm == c->cap_prm && st.cap_eff == c->cap_eff &&
			   st.cap_bnd == c->cap_bnd && st.cap_amb == c->cap_amb && same_groups &&
			   (uint32_t)prctl(PR_GET_SECUREBITS) == c->secbits && !c->no_new_privs;
		oc_proc_status_clear(&st);
	}
	c->skip = cur.skip;
}

static void fill_thread(struct oc_rst_thread *rt, const CoreEntry *core, const TaskCoreEntry *task, pid_t tid)
{
	const ThreadCoreEntry *tc = core->thread_core;
	/* The thread's own name; CRIU leaves it out for the main thread. */
	const char *comm = tc->comm ? tc->comm : task ? task->comm : NULL;

	rt->tid = tid;
	rt->clear_tid_addr = core->thread_info->clear_tid_addr;
	rt->robust_list = tc->futex_rla;
	rt->robust_list_len = tc->futex_rla_len;
	if (tc->rseq_entry) {
		rt->rseq_addr = tc->rseq_entry->rseq_abi_pointer;
		rt->rseq_len = tc->rseq_entry->rseq_abi_size;
		rt->rseq_sig = tc->rseq_entry->signature;
	}
	if (tc->sas) {
		rt->sas_sp = tc->sas->ss_sp;
		rt->sas_size = tc->sas->ss_size;
		rt->sas_flags = tc->sas->ss_flags;
	} else {
		rt->sas_flags = SS_DISABLE;
	}
	rt->pdeath_sig = tc->has_pdeath_sig ? tc->pdeath_sig : 0;
	if (comm)
		snprintf(rt->comm, sizeof(rt->comm), "%s", comm);
	fill_creds(&rt->creds, tc->creds);
}

static int send_msg(int fd, const struct oc_agent_msg *m)
{
	return send(fd, m, sizeof(*m), MSG_NOSIGNAL) == sizeof(*m) ? 0 : -errno;
}

static int build_and_jump(struct oc_rst_agent *ag)
{
	struct oc_rst_task *t = ag->task;
	MmEntry *mm = t->mm;
	TaskCoreEntry *tc = t->cores[0]->tc;
	size_t n_runs = 0, n_sig = 0;
	int r;

	/* A run may be cut in pieces by premapped VMAs: at most one more
	 * piece per premapped VMA. */
	for (size_t i = 0; i < t->n_pagemap; i++)
		if (!t->pagemap[i]->has_flags || (t->pagemap[i]->flags & PE_PRESENT))
			n_runs++;
	for (size_t i = 0; t->vma_cow && i < mm->n_vmas; i++)
		n_runs += t->vma_cow[i] ? 1 : 0;
	if (tc->signals_s)
		n_sig += tc->signals_s->n_signals;
	for (size_t i = 0; i < t->n_cores; i++)
		if (t->cores[i]->thread_core->signals_p)
			n_sig += t->cores[i]->thread_core->signals_p->n_signals;

	struct area_layout L = {};
	L.blob = PAGE_ALIGN(oc_restorer_blob_end - oc_restorer_blob);
	L.args = L.blob;
	L.vmas = L.args + sizeof(struct oc_rst_args);
	L.runs = L.vmas + mm->n_vmas * sizeof(struct oc_rst_vma);
	L.timers = L.runs + n_runs * sizeof(struct oc_rst_run);
	L.siginfos = L.timers + tc->timers->n_posix * sizeof(struct oc_rst_posix_timer);
	L.threads = L.siginfos + n_sig * sizeof(struct oc_rst_siginfo);
	L.stacks = PAGE_ALIGN(L.threads + t->n_cores * sizeof(struct oc_rst_thread));
	L.total = L.stacks + (t->n_cores + 1) * RST_STACK_SIZE;

	uint64_t area = 0;
	r = oc_agent_find_area(t, L.total, &area);
	if (r < 0)
		return r;
	uint8_t *base = mmap((void *)area, L.total, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (base == MAP_FAILED)
		return oc_error_errno(-errno, "cannot map the restorer area at 0x%" PRIx64, area);
	memcpy(base, oc_restorer_blob, oc_restorer_blob_end - oc_restorer_blob);

	struct oc_rst_args *a = (void *)(base + L.args);
	a->magic = OC_RST_MAGIC;
	a->area_start = area;
	a->area_end = area + L.total;
	a->task_size = OC_TASK_SIZE;
	a->pid = t->pid;
	a->status_fd = ag->status_fd;
	a->populate = !getenv("OCICR_NO_POPULATE");
	a->vmas = (void *)(base + L.vmas);
	a->runs = (void *)(base + L.runs);
	a->timers = (void *)(base + L.timers);
	a->siginfos = (void *)(base + L.siginfos);
	a->threads = (void *)(base + L.threads);

	_cleanup_(oc_rst_vdso_done) struct oc_rst_vdso vd = {};
	r = oc_rst_vdso_prepare(ag, &vd);
	if (r < 0)
		return r;

	/* Pages: runs in pagemap order are consecutive in the pages file. */
	if (n_runs && t->pages_fd < 0)
		return oc_error(-ENOENT, "pages-%u.img: missing", t->pages_id);
	a->pages_fd = t->pages_fd;
	uint64_t off = 0;
	for (size_t i = 0; i < t->n_pagemap; i++) {
		PagemapEntry *pe = t->pagemap[i];
		if (pe->has_flags && !(pe->flags & PE_PRESENT))
			continue;
		uint64_t np = pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		if (!oc_rst_vdso_has_page(&vd, pe->vaddr)) {
			/* Pages of premapped VMAs are in place already. */
			uint64_t end = pe->vaddr + np * OC_PAGE_SIZE;
			for (uint64_t at = pe->vaddr, next; at < end; at = next) {
				bool premapped;
				next = oc_rst_cow_piece(t, at, end, &premapped);
				if (!premapped)
					a->runs[a->n_runs++] = (struct oc_rst_run){
						at, (next - at) / OC_PAGE_SIZE, off + (at - pe->vaddr) };
			}
		}
		off += np * OC_PAGE_SIZE;
	}

	/* VMAs; the vDSO and [vvar] come from this kernel where they are its own. */
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];
		if (oc_rst_vdso_is_kernels(&vd, v))
			continue;
		if (!(v->status & VMA_AREA_REGULAR) || v->end > OC_TASK_SIZE)
			continue; /* vsyscall and friends: the kernel's */
		if (v->status & (VMA_AREA_AIORING | VMA_AREA_SYSVIPC | VMA_AREA_SOCKET | VMA_AREA_UPROBES))
			return oc_error(-EOPNOTSUPP, "VMA 0x%" PRIx64 " is of a kind (status 0x%x) not supported "
					"yet", v->start, v->status);
		struct oc_rst_vma *rv = &a->vmas[a->n_vmas];
		prepare_vma(v, t->vma_fds[i], rv);
		rv->premap_at = t->premap_at ? t->premap_at[i] : 0;
		rv->has_pages = rv->premap_at || runs_touch(a->runs, a->n_runs, v->start, v->end);
		a->n_vmas++;
	}
	r = oc_rst_vdso_place(ag, &vd, a);
	if (r < 0)
		return r;

	/* mm */
	int exe_fd = t->exe_fd;
	a->mm = (struct oc_rst_mm){
		.start_code = mm->mm_start_code, .end_code = mm->mm_end_code,
		.start_data = mm->mm_start_data, .end_data = mm->mm_end_data,
		.start_brk = mm->mm_start_brk, .brk = mm->mm_brk, .start_stack = mm->mm_start_stack,
		.arg_start = mm->mm_arg_start, .arg_end = mm->mm_arg_end,
		.env_start = mm->mm_env_start, .env_end = mm->mm_env_end,
		.exe_fd = exe_fd, .dumpable = mm->has_dumpable ? mm->dumpable : 1,
		.thp_disabled = mm->has_thp_disabled && mm->thp_disabled,
	};
	a->mm.auxv_words = MIN(mm->n_mm_saved_auxv, ARRAY_SIZE(a->mm.auxv));
	memcpy(a->mm.auxv, mm->mm_saved_auxv, a->mm.auxv_words * sizeof(uint64_t));

	a->personality = tc->personality;
	a->n_late_seals = ag->files->n_late_seals;
	memcpy(a->late_seals, ag->files->late_seals, ag->files->n_late_seals * sizeof(a->late_seals[0]));

	/* Signal handlers, timers, limits. */
	for (size_t i = 0, sig = 1; i < tc->n_sigactions; i++, sig++) {
		if (sig == 9 || sig == 19)
			sig++;
		SaEntry *sa = tc->sigactions[i];
		a->sigactions[sig - 1] = (struct oc_rst_sigaction){ sa->sigaction, sa->flags, sa->restorer, sa->mask };
	}
	ItimerEntry *its[3] = { tc->timers->real, tc->timers->virt, tc->timers->prof };
	for (int i = 0; i < 3; i++)
		if (its[i])
			a->itimers[i] = (struct oc_rst_itimer){ its[i]->isec, its[i]->iusec, its[i]->vsec, its[i]->vusec };
	for (size_t i = 0; i < tc->timers->n_posix; i++) {
		PosixTimerEntry *p = tc->timers->posix[i];
		a->timers[a->n_timers++] = (struct oc_rst_posix_timer){
			.id = p->it_id, .clock_id = p->clock_id, .signo = p->si_signo, .notify = p->it_sigev_notify,
			.notify_tid = p->has_notify_thread_id ? p->notify_thread_id : 0, .sival = p->sival_ptr,
			.isec = p->isec, .insec = p->insec, .vsec = p->vsec, .vnsec = p->vnsec,
		};
	}
	a->n_rlimits = MIN(tc->rlimits->n_rlimits, ARRAY_SIZE(a->rlimits));
	for (uint32_t i = 0; i < a->n_rlimits; i++) {
		struct rlimit cur;
		RlimitEntry *e = tc->rlimits->rlimits[i];
		a->rlimits[i] = (struct oc_rst_rlimit){ e->cur, e->max };
		/* Without CAP_SYS_RESOURCE a hard limit cannot be raised. */
		if (getrlimit(i, &cur) == 0 && e->max > cur.rlim_max) {
			struct rlimit want = { e->cur, e->max };
			if (prlimit(0, i, &want, NULL) < 0) {
				a->rlimits[i].max = cur.rlim_max;
				a->rlimits[i].cur = MIN(e->cur, cur.rlim_max);
				oc_agent_warn(ag, "task %d: resource limit %u (%" PRIu64 "/%" PRIu64 ") clamped to %"
					      PRIu64 "/%" PRIu64 ": raising a hard limit needs CAP_SYS_RESOURCE", t->pid,
					      i, e->cur, e->max, a->rlimits[i].cur, a->rlimits[i].max);
			}
		}
	}

	/* Pending signals. */
	SignalQueueEntry *queues[1 + t->n_cores];
	queues[0] = tc->signals_s;
	for (size_t i = 0; i < t->n_cores; i++)
		queues[1 + i] = t->cores[i]->thread_core->signals_p;
	for (size_t q = 0; q <= t->n_cores; q++) {
		if (!queues[q])
			continue;
		for (size_t i = 0; i < queues[q]->n_signals; i++) {
			SiginfoEntry *se = queues[q]->signals[i];
			struct oc_rst_siginfo *si = &a->siginfos[a->n_siginfos++];
			if (se->siginfo.len != sizeof(si->info))
				return oc_error(-EINVAL, "core-%d.img: siginfo of %zu bytes", t->pid, se->siginfo.len);
			memcpy(si->info, se->siginfo.data, sizeof(si->info));
			memcpy(&si->signo, si->info, sizeof(int32_t));
			si->tid = q ? t->pstree->threads[q - 1] : 0;
		}
	}

	/* Threads, each with a stack in the area. */
	a->n_threads = t->n_cores;
	for (size_t i = 0; i < t->n_cores; i++) {
		fill_thread(&a->threads[i], t->cores[i], i == 0 ? tc : NULL, t->pstree->threads[i]);
		a->threads[i].stack_top = area + L.stacks + (i + 2) * RST_STACK_SIZE - 64;
	}

	a->first_helper_fd = ag->files->helper_base;

	if (mprotect(base, L.blob, PROT_READ | PROT_EXEC) < 0)
		return oc_error_errno(-errno, "cannot make the restorer executable");

	/* Tell the coordinator where the area is; it unmaps it at the end. */
	struct oc_agent_msg msg = { .type = OC_AGENT_JUMPING, .area_start = area, .area_len = L.total };
	for (size_t i = 0; i + 1 < (size_t)(oc_restorer_blob_end - oc_restorer_blob); i++)
		if (oc_restorer_blob[i] == 0x0f && oc_restorer_blob[i + 1] == 0x05) {
			msg.syscall_ip = area + i;
			break;
		}
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

	oc_arch_jump(area, a, area + L.stacks + RST_STACK_SIZE - 64);
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
