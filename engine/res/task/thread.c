// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-thread state: registers and FPU (arch/), TLS, clear_tid address,
 * robust futex list, rseq, sigaltstack, blocked mask, scheduling, parent
 * death signal, name and credentials.
 */
#include <inttypes.h>
#include <sys/ptrace.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "res/kind.h"
#include "res/ns/ns.h"
#include "res/task/lsm.h"
#include "arch/arch.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "creds.pb-c.h"
#include "rseq.pb-c.h"

/* PTRACE_GET_RSEQ_CONFIGURATION's answer (Linux 5.13+). */
#define OC_PTRACE_GET_RSEQ_CONFIGURATION 0x420f
struct oc_rseq_conf {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

/* prctl/sigaltstack results the kernel writes through a pointer. */
static int remote_get(struct oc_remote *rs, long nr, unsigned long a1, void *out, size_t len, long *ret_res)
{
	long res;
	int r;

	r = oc_remote_syscall(rs, nr, &res, a1, rs->scratch, 0, 0, 0, 0);
	if (r < 0)
		return r;
	*ret_res = res;
	if (res < 0)
		return 0;
	return oc_remote_peek(rs, 0, out, len);
}

static uint32_t *cap_words(struct oc_arena *a, uint64_t caps)
{
	uint32_t *w = OC_ARENA_ARRAY(a, uint32_t, 2);
	if (w) {
		w[0] = (uint32_t)caps;
		w[1] = (uint32_t)(caps >> 32);
	}
	return w;
}

static int dump_creds(struct oc_dump_thread *th, struct oc_arena *a, const struct oc_proc_status *st, CredsEntry **ret)
{
	CredsEntry *c = OC_ARENA_MSG(a, CredsEntry, CREDS_ENTRY__INIT);
	long secbits;

	if (!c)
		return -ENOMEM;
	c->uid = st->uid[0];
	c->euid = st->uid[1];
	c->suid = st->uid[2];
	c->fsuid = st->uid[3];
	c->gid = st->gid[0];
	c->egid = st->gid[1];
	c->sgid = st->gid[2];
	c->fsgid = st->gid[3];
	c->n_cap_inh = c->n_cap_prm = c->n_cap_eff = c->n_cap_bnd = c->n_cap_amb = 2;
	c->cap_inh = cap_words(a, st->cap_inh);
	c->cap_prm = cap_words(a, st->cap_prm);
	c->cap_eff = cap_words(a, st->cap_eff);
	c->cap_bnd = cap_words(a, st->cap_bnd);
	c->cap_amb = cap_words(a, st->cap_amb);
	if (!c->cap_inh || !c->cap_prm || !c->cap_eff || !c->cap_bnd || !c->cap_amb)
		return -ENOMEM;
	c->n_groups = st->n_groups;
	c->groups = OC_ARENA_ARRAY(a, uint32_t, st->n_groups);
	if (!c->groups)
		return -ENOMEM;
	for (size_t i = 0; i < st->n_groups; i++)
		c->groups[i] = st->groups[i];
	c->has_no_new_privs = true;
	c->no_new_privs = st->no_new_privs;

	secbits = oc_remote_call(&th->rs, "prctl(PR_GET_SECUREBITS)", SYS_prctl, PR_GET_SECUREBITS, 0, 0, 0);
	if (secbits < 0)
		return secbits;
	c->secbits = secbits;
	*ret = c;
	return oc_lsm_dump_thread(a, th->seized->tid, c);
}

static int dump_rseq(struct oc_dump_thread *th, struct oc_arena *a, RseqEntry **ret)
{
	struct oc_rseq_conf conf = {};
	pid_t tid = th->seized->tid;

	*ret = NULL;
	if (ptrace(OC_PTRACE_GET_RSEQ_CONFIGURATION, tid, sizeof(conf), &conf) < 0) {
		if (errno == EIO || errno == EINVAL)
			return 0; /* kernel without rseq */
		return oc_error_errno(-errno, "thread %d: cannot read rseq configuration", tid);
	}
	if (!conf.rseq_abi_pointer)
		return 0;
	RseqEntry *e = OC_ARENA_MSG(a, RseqEntry, RSEQ_ENTRY__INIT);
	if (!e)
		return -ENOMEM;
	e->rseq_abi_pointer = conf.rseq_abi_pointer;
	e->rseq_abi_size = conf.rseq_abi_size;
	e->signature = conf.signature;

	/* A thread frozen inside a critical section: keep rseq_cs. */
	uint64_t cs = 0;
	struct iovec local = { &cs, sizeof(cs) };
	struct iovec remote = { (void *)(uintptr_t)(conf.rseq_abi_pointer + 8), sizeof(cs) };
	if (process_vm_readv(tid, &local, 1, &remote, 1, 0) == sizeof(cs) && cs) {
		e->has_rseq_cs_pointer = true;
		e->rseq_cs_pointer = cs;
	}
	*ret = e;
	return 0;
}

static int dump_one_thread(struct oc_dump_task *t, struct oc_dump_thread *th, bool leader)
{
	struct oc_arena *a = t->ctx->arena;
	pid_t tid = th->seized->tid;
	CoreEntry *core = th->core;
	ThreadCoreEntry *tcore = OC_ARENA_MSG(a, ThreadCoreEntry, THREAD_CORE_ENTRY__INIT);
	struct oc_proc_status st = {};
	_cleanup_free_ char *status_text = NULL, *comm = NULL;
	char name[64];
	long res;
	int r;

	if (!tcore)
		return -ENOMEM;
	core->thread_core = tcore;

	r = oc_arch_dump_thread_info(a, tid, &th->rs.saved, &core->thread_info);
	if (r < 0)
		return r;

	uint64_t tid_addr = 0;
	r = remote_get(&th->rs, SYS_prctl, PR_GET_TID_ADDRESS, &tid_addr, sizeof(tid_addr), &res);
	if (r < 0)
		return r;
	core->thread_info->clear_tid_addr = tid_addr;

	/* Robust futex list, read from outside. */
	uint64_t head = 0;
	size_t len = 0;
	if (syscall(SYS_get_robust_list, tid, &head, &len) < 0)
		return oc_error_errno(-errno, "thread %d: get_robust_list", tid);
	tcore->futex_rla = head;
	tcore->futex_rla_len = len;

	/* Scheduling. */
	struct sched_param sp = {};
	int policy = sched_getscheduler(tid);
	if (policy < 0 || sched_getparam(tid, &sp) < 0)
		return oc_error_errno(-errno, "thread %d: cannot read its scheduling policy", tid);
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, tid);
	if (errno)
		return oc_error_errno(-errno, "thread %d: getpriority", tid);
	/* With its reset-on-fork flag, as CRIU keeps it. */
	tcore->has_sched_policy = true;
	tcore->sched_policy = policy;
	tcore->has_sched_nice = true;
	tcore->sched_nice = nice;
	policy &= ~SCHED_RESET_ON_FORK;
	if (policy == SCHED_FIFO || policy == SCHED_RR) {
		tcore->has_sched_prio = true;
		tcore->sched_prio = sp.sched_priority;
	}

	if (!leader) {
		tcore->has_blk_sigset = true;
		tcore->blk_sigset = th->rs.saved_sigmask;
	}

	/* sigaltstack: struct { void *sp; int flags; size_t size; } */
	struct {
		uint64_t sp;
		int32_t flags;
		int32_t pad;
		uint64_t size;
	} ss = {};
	r = oc_remote_call(&th->rs, "sigaltstack", SYS_sigaltstack, 0, th->rs.scratch, 0, 0);
	if (r < 0)
		return r;
	r = oc_remote_peek(&th->rs, 0, &ss, sizeof(ss));
	if (r < 0)
		return r;
	tcore->sas = OC_ARENA_MSG(a, ThreadSasEntry, THREAD_SAS_ENTRY__INIT);
	if (!tcore->sas)
		return -ENOMEM;
	tcore->sas->ss_sp = ss.sp;
	tcore->sas->ss_size = ss.size;
	tcore->sas->ss_flags = ss.flags;

	int pdeath = 0;
	r = remote_get(&th->rs, SYS_prctl, PR_GET_PDEATHSIG, &pdeath, sizeof(pdeath), &res);
	if (r < 0)
		return r;
	if (pdeath) {
		tcore->has_pdeath_sig = true;
		tcore->pdeath_sig = pdeath;
	}

	snprintf(name, sizeof(name), "task/%d/status", tid);
	r = oc_proc_read(t->pid, name, &status_text, NULL);
	if (r < 0)
		return r;
	r = oc_proc_parse_status(status_text, &st);
	if (r < 0)
		return r;
	r = dump_creds(th, a, &st, &tcore->creds);
	oc_proc_status_clear(&st);
	if (r < 0)
		return r;
	/* cgroup set 1 is the dumper's own (inventory root_cg_set). */
	tcore->has_cg_set = true;
	tcore->cg_set = 1;

	snprintf(name, sizeof(name), "task/%d/comm", tid);
	r = oc_proc_read(t->pid, name, &comm, NULL);
	if (r < 0)
		return r;
	comm[strcspn(comm, "\n")] = '\0';
	tcore->comm = oc_arena_strdup(a, comm);
	if (!tcore->comm)
		return -ENOMEM;

	return dump_rseq(th, a, &tcore->rseq_entry);
}

int oc_dump_threads(struct oc_dump_task *t)
{
	for (size_t i = 0; i < t->n_threads; i++) {
		int r = dump_one_thread(t, &t->threads[i], i == 0);
		if (r < 0)
			return oc_error_wrap(r, "thread %d", t->threads[i].seized->tid);
	}
	return 0;
}

/* ---- restore ------------------------------------------------------------- */

int oc_rst_thread_sched(const ThreadCoreEntry *tc, pid_t tid)
{
	if (!tc)
		return 0;
	/* The nice value first: it is the normal policies' own, and an
	 * unprivileged real-time task could not lower it afterwards. */
	if (tc->has_sched_nice && setpriority(PRIO_PROCESS, tid, tc->sched_nice) < 0)
		return oc_error_errno(-errno, "thread %d: cannot set nice %d", tid, tc->sched_nice);
	if (tc->has_sched_policy) {
		unsigned policy = tc->sched_policy & ~(unsigned)SCHED_RESET_ON_FORK;
		bool rt = policy == SCHED_FIFO || policy == SCHED_RR;
		struct sched_param sp = { .sched_priority = rt && tc->has_sched_prio ? (int)tc->sched_prio : 0 };
		if (sched_setscheduler(tid, (int)tc->sched_policy, &sp) < 0)
			return oc_error_errno(-errno, "thread %d: cannot set scheduling policy %u (priority %d)", tid,
					      tc->sched_policy, sp.sched_priority);
	}
	return 0;
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

static void threads_reserve(const struct oc_rst_task *t, struct oc_rst_area_counts *c)
{
	c->threads += t->n_cores;
}

/* Threads, each with a stack in the area (the first stack is the blob's). */
static int threads_fill(struct oc_rst_agent *ag, struct oc_rst_area *area)
{
	struct oc_rst_task *t = ag->task;
	struct oc_rst_args *a = area->args;

	a->n_threads = t->n_cores;
	for (size_t i = 0; i < t->n_cores; i++) {
		pid_t set_tid[OC_PROC_NS_LEVELS_MAX];
		size_t n_set_tid = oc_rst_thread_set_tid(t, i, set_tid);
		fill_thread(&a->threads[i], t->cores[i], i == 0 ? t->cores[0]->tc : NULL, oc_rst_own_tid(t, i));
		/* Up to the tree's namespace: in another one (a new one, or
		 * one joined) the levels above it are the kernel's to pick. */
		a->threads[i].n_set_tid = n_set_tid;
		memcpy(a->threads[i].set_tid, set_tid, n_set_tid * sizeof(pid_t));
		a->threads[i].stack_top = area->stacks + (i + 2) * OC_RST_STACK_SIZE - 64;
	}
	return 0;
}

const struct oc_task_kind oc_task_kind_threads = {
	.name = "threads",
	.dump = oc_dump_threads,
	.reserve = threads_reserve,
	.fill = threads_fill,
	.plan_steps = OC_STEP_BIT(OC_STEP_THREADS),
	.plan_task = oc_threads_plan,
};
