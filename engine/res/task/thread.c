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

#include "dump/dump.h"
#include "arch/x86_64/regs.h"
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

static int dump_creds(struct oc_dump_thread *th, struct oc_arena *a, const struct oc_proc_status *st,
		      CredsEntry **ret)
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
	return 0;
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
	tcore->has_sched_policy = true;
	tcore->sched_policy = policy & ~SCHED_RESET_ON_FORK;
	tcore->has_sched_nice = true;
	tcore->sched_nice = nice;
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
	bool seccomp = st.has_seccomp && st.seccomp != 0;
	oc_proc_status_clear(&st);
	if (r < 0)
		return r;
	if (seccomp)
		return oc_error(-EOPNOTSUPP, "thread %d runs under seccomp, which ocicr does not dump yet", tid);
	tcore->has_seccomp_mode = true;
	tcore->seccomp_mode = SECCOMP_MODE__disabled;
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
