// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Task identity: the pstree entry, the task-wide core (state, comm, flags,
 * loginuid, oom score, subreaper) and the kernel-object / namespace ids.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kcmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "res/kind.h"
#include "res/restore.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

static int kcmp(pid_t a, pid_t b, int type)
{
	return syscall(SYS_kcmp, a, b, type, 0, 0);
}

/*
 * Kernel-object ids: CRIU numbers each kind from 1 with the dumper itself
 * first, so tasks start at 2.  Two tasks share an id when kcmp() says they
 * share the object.  kcmp() also orders objects, so each kind keeps one
 * task per object seen, sorted, and a task costs log(n) calls, not n: a
 * tree of a few hundred tasks would spend longer frozen in kcmp() than in
 * anything else.
 */
static int kobj_id(struct oc_dump_task *t, struct oc_kobj_index *ix, int kcmp_type, uint32_t *ret_id)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = kcmp(ix->reps[mid].pid, t->pid, kcmp_type);
		if (r == 0) {
			*ret_id = ix->reps[mid].id;
			return 0;
		}
		if (r == 1)
			lo = mid + 1; /* that object sorts before ours */
		else if (r == 2)
			hi = mid;
		else if (r < 0)
			return oc_error_errno(-errno, "task %d: kcmp(%d)", t->pid, kcmp_type);
		else
			return oc_error(-EINVAL, "task %d: kcmp(%d) gives no order of objects", t->pid, kcmp_type);
	}
	struct oc_kobj_rep *reps = reallocarray(ix->reps, ix->n + 1, sizeof(*reps));
	if (!reps)
		return -ENOMEM;
	memmove(reps + lo + 1, reps + lo, (ix->n - lo) * sizeof(*reps));
	ix->reps = reps;
	ix->n++;
	ix->last_id = MAX(ix->last_id, 1u) + 1;
	reps[lo] = (struct oc_kobj_rep){ .pid = t->pid, .id = ix->last_id };
	*ret_id = ix->last_id;
	return 0;
}

static int read_proc_u32(pid_t pid, const char *name, int base, uint32_t *ret, bool *ret_has)
{
	_cleanup_free_ char *text = NULL;
	int r = oc_proc_read(pid, name, &text, NULL);

	*ret_has = false;
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, base);
	if (errno || end == text)
		return oc_error(-EINVAL, "/proc/%d/%s: cannot parse '%s'", pid, name, text);
	*ret = (uint32_t)v;
	*ret_has = true;
	return 0;
}

static int dump_pstree(struct oc_dump_task *t)
{
	/* As CRIU: a session or group led from outside the tree is a shell
	 * job, restorable only into the restorer's session. */
	if (t == t->ctx->tasks && !t->ctx->opts->shell_job && t->seized->state != OC_TASK_DEAD &&
	    (t->stat.session != t->pid || (t->stat.pgrp != t->pid && t->stat.pgrp != t->stat.session)))
		return oc_error(-EPERM,
				"task %d belongs to session %d and group %d led from outside the tree: "
				"dump it as a shell job with --shell-job, or start it with setsid",
				t->pid, t->stat.session, t->stat.pgrp);
	struct oc_arena *a = t->ctx->arena;
	PstreeEntry *pe = OC_ARENA_MSG(a, PstreeEntry, PSTREE_ENTRY__INIT);

	if (!pe)
		return -ENOMEM;
	/* Pids as the tree sees them (res/ns/pid.c). */
	pe->pid = t->vpid;
	pe->ppid = t == t->ctx->tasks ? 0 : oc_dump_vpid(t->ctx, t->stat.ppid);
	pe->pgid = oc_dump_vpid(t->ctx, t->stat.pgrp);
	pe->sid = oc_dump_vpid(t->ctx, t->stat.session);
	if (!pe->pgid || !pe->sid)
		return oc_error(-EOPNOTSUPP,
				"task %d is in session %d and group %d, led from outside its pid "
				"namespace",
				t->pid, t->stat.session, t->stat.pgrp);
	if (t->seized->state == OC_TASK_DEAD) {
		pe->n_threads = 1;
		pe->threads = OC_ARENA_ARRAY(a, uint32_t, 1); /* [0] */
	} else {
		pe->n_threads = t->n_threads;
		pe->threads = OC_ARENA_ARRAY(a, uint32_t, t->n_threads);
		if (pe->threads)
			for (size_t i = 0; i < t->n_threads; i++)
				pe->threads[i] = t->threads[i].vtid;
	}
	if (!pe->threads)
		return -ENOMEM;
	if (t->n_ns_pids) {
		pe->n_ns_pids = t->n_ns_pids;
		pe->ns_pids = OC_ARENA_ARRAY(a, uint32_t, t->n_ns_pids);
		if (!pe->ns_pids)
			return -ENOMEM;
		for (size_t i = 0; i < t->n_ns_pids; i++)
			pe->ns_pids[i] = t->ns_pids[i];
		/* and the other threads' */
		if (pe->n_threads > 1) {
			pe->n_ns_tids = (pe->n_threads - 1) * t->n_ns_pids;
			pe->ns_tids = OC_ARENA_ARRAY(a, uint32_t, pe->n_ns_tids);
			if (!pe->ns_tids)
				return -ENOMEM;
			for (size_t j = 1; j < pe->n_threads; j++)
				for (size_t k = 0; k < t->n_ns_pids; k++)
					pe->ns_tids[(j - 1) * t->n_ns_pids + k] = t->threads[j].ns_tids[k];
		}
	}
	t->pstree = pe;
	return 0;
}

int oc_dump_task_core(struct oc_dump_task *t)
{
	struct oc_arena *a = t->ctx->arena;
	TaskCoreEntry *tc = OC_ARENA_MSG(a, TaskCoreEntry, TASK_CORE_ENTRY__INIT);
	bool zombie = t->seized->state == OC_TASK_DEAD;
	int r;

	if (!tc)
		return -ENOMEM;
	r = dump_pstree(t);
	if (r < 0)
		return r;

	/* Cores: one per thread, the leader's carrying the task-wide part. */
	size_t n_cores = zombie ? 1 : t->n_threads;
	if (zombie) {
		t->threads = OC_ARENA_ARRAY(a, struct oc_dump_thread, 1);
		if (!t->threads)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n_cores; i++) {
		CoreEntry *core = OC_ARENA_MSG(a, CoreEntry, CORE_ENTRY__INIT);
		if (!core)
			return -ENOMEM;
		core->mtype = CORE_ENTRY__MARCH__X86_64;
		t->threads[i].core = core;
	}
	t->threads[0].core->tc = tc;

	tc->task_state = t->seized->state;
	tc->exit_code = zombie ? t->seized->exit_status : 0;
	tc->flags = t->stat.flags;
	tc->comm = oc_arena_strdup(a, t->stat.comm);
	if (!tc->comm)
		return -ENOMEM;
	if (zombie)
		return 0;

	if (t->seized->state == OC_TASK_STOPPED) {
		tc->has_stop_signo = true;
		tc->stop_signo = t->seized->stop_signo;
	}
	tc->blk_sigset = t->threads[0].rs.saved_sigmask;

	uint32_t v;
	bool has;
	r = read_proc_u32(t->pid, "personality", 16, &tc->personality, &has);
	if (r < 0)
		return r;
	r = read_proc_u32(t->pid, "loginuid", 10, &tc->loginuid, &has);
	if (r < 0)
		return r;
	tc->has_loginuid = has;
	/* As CRIU saves it: seen from the tree's user namespace. */
	if (has)
		tc->loginuid = oc_dump_uid(t->ctx, tc->loginuid);
	r = read_proc_u32(t->pid, "oom_score_adj", 10, &v, &has);
	if (r < 0)
		return r;
	tc->has_oom_score_adj = has;
	tc->oom_score_adj = (int32_t)v;

	long res;
	r = oc_remote_syscall(&t->threads[0].rs, SYS_prctl, &res, PR_GET_CHILD_SUBREAPER, t->threads[0].rs.scratch, 0,
			      0, 0, 0);
	if (r < 0)
		return r;
	int subreaper = 0;
	if (res == 0) {
		r = oc_remote_peek(&t->threads[0].rs, 0, &subreaper, sizeof(subreaper));
		if (r < 0)
			return r;
	}
	tc->has_child_subreaper = true;
	tc->child_subreaper = subreaper != 0;

	/* ids */
	TaskKobjIdsEntry *ids = OC_ARENA_MSG(a, TaskKobjIdsEntry, TASK_KOBJ_IDS_ENTRY__INIT);
	if (!ids)
		return -ENOMEM;
	struct oc_kobj_index *ix = t->ctx->kobjs;
	_Static_assert(ARRAY_SIZE(t->ctx->kobjs) == 4, "one index per kind");
	r = kobj_id(t, &ix[0], KCMP_VM, &ids->vm_id);
	if (r >= 0)
		r = kobj_id(t, &ix[1], KCMP_FILES, &ids->files_id);
	if (r >= 0)
		r = kobj_id(t, &ix[2], KCMP_FS, &ids->fs_id);
	if (r >= 0)
		r = kobj_id(t, &ix[3], KCMP_SIGHAND, &ids->sighand_id);
	if (r < 0)
		return r;
	r = oc_ns_dump_ids(t, ids);
	if (r < 0)
		return r;
	t->ids = ids;
	return 0;
}

/* ---- loginuid ----------------------------------------------------------- */

int oc_loginuid_own(uint32_t *ret)
{
	bool has;
	int r = read_proc_u32(getpid(), "loginuid", 10, ret, &has);

	return r < 0 ? r : has ? 0 : -ENOENT;
}

int oc_loginuid_set_own(uint32_t value)
{
	_cleanup_close_ int fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
	char text[16];
	int len = snprintf(text, sizeof(text), "%u", value);

	/* The kernel takes one whole write (no partial ones). */
	if (fd < 0 || write(fd, text, len) != len)
		return -errno;
	return 0;
}

bool oc_rst_loginuid_unset_own(uint32_t *ret_saved)
{
	if (oc_loginuid_own(ret_saved) < 0 || *ret_saved == OC_LOGINUID_UNSET)
		return false;
	int r = oc_loginuid_set_own(OC_LOGINUID_UNSET);
	if (r < 0)
		pr_debug("cannot unset our loginuid %u (%s): the tree inherits it", *ret_saved, strerror(-r));
	return r == 0;
}

void oc_rst_loginuid_reset_own(uint32_t saved)
{
	int r = oc_loginuid_set_own(saved);

	if (r < 0)
		pr_warn("cannot set our loginuid back to %u: %s", saved, strerror(-r));
}

int oc_rst_loginuid(struct oc_rst_agent *ag)
{
	const TaskCoreEntry *tc = ag->task->cores[0]->tc;
	uint32_t now;

	if (!tc->has_loginuid)
		return 0;
	int r = oc_loginuid_own(&now);
	if (r == -ENOENT) {
		if (tc->loginuid != OC_LOGINUID_UNSET)
			oc_agent_warn(ag, "task %d: loginuid %u not restored: this kernel has no audit loginuid",
				      ag->task->pid, tc->loginuid);
		return 0;
	}
	if (r < 0 || now == tc->loginuid)
		return r;
	r = oc_loginuid_set_own(tc->loginuid);
	if (r < 0)
		return oc_error_errno(r,
				      "task %d: cannot set its loginuid to %u (it has %u; changing a set one needs "
				      "CAP_AUDIT_CONTROL)",
				      ag->task->pid, tc->loginuid, now);
	return 0;
}

static int task_fill(struct oc_rst_agent *ag, struct oc_rst_area *area)
{
	area->args->personality = ag->task->cores[0]->tc->personality;
	return 0;
}

const struct oc_task_kind oc_task_kind_task = {
	.name = "task",
	.zombie = true,
	.dump = oc_dump_task_core,
	.fill = task_fill,
	.plan_steps = OC_STEP_BIT(OC_STEP_CREATE) | OC_STEP_BIT(OC_STEP_SESSION) | OC_STEP_BIT(OC_STEP_ZOMBIE),
	.plan_task = oc_task_plan,
};
