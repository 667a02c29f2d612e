// SPDX-License-Identifier: LGPL-2.1-or-later
#include <asm/ldt.h>
#include <cpuid.h>
#include <elf.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "arch/x86_64/regs.h"
#include "core/cleanup.h"
#include "core/error.h"

/* Kernel syscall-restart codes (include/linux/errno.h, not exported). */
#define ERESTARTSYS	      512
#define ERESTARTNOINTR	      513
#define ERESTARTNOHAND	      514
#define ERESTART_RESTARTBLOCK 516

#define GDT_ENTRY_TLS_MIN     12
#define GDT_ENTRY_TLS_ENTRIES 3

#define XSAVE_HDR_OFFSET 512
#define FXSAVE_SIZE	 512

/* The xsave components CRIU's image carries, with their array sizes. */
enum xfeature {
	XF_YMM = 2,
	XF_BNDREGS = 3,
	XF_BNDCSR = 4,
	XF_OPMASK = 5,
	XF_ZMM_HI256 = 6,
	XF_HI16_ZMM = 7,
	XF_PKRU = 9,
};

struct xcomponent {
	enum xfeature bit;
	size_t size; /* bytes */
	size_t offset;
};

static uint64_t xcr0(void)
{
	uint32_t eax, edx;
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return 0x3; /* x87 + SSE only */
	__asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
	return ((uint64_t)edx << 32) | eax;
}

static size_t xcomponent_offset(enum xfeature bit)
{
	unsigned a, b, c, d;

	__cpuid_count(0xd, bit, a, b, c, d);
	return b;
}

size_t oc_arch_xstate_size(void)
{
	unsigned a, b, c, d;

	if (xcr0() == 0x3)
		return FXSAVE_SIZE + 64;
	__cpuid_count(0xd, 0, a, b, c, d);
	return b;
}

static void fixup_syscall_restart(struct user_regs_struct *r)
{
	if ((long)r->orig_rax < 0)
		return;
	switch ((long)r->rax) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
		/* Re-execute the system call on resume. */
		r->rax = r->orig_rax;
		r->rip -= 2;
		break;
	case -ERESTART_RESTARTBLOCK:
		/* The restart block cannot be carried over: report EINTR. */
		r->rax = -EINTR;
		break;
	}
}

static uint64_t *dup_u64(struct oc_arena *a, const void *src, size_t n)
{
	return oc_arena_memdup(a, src, n * sizeof(uint64_t));
}

static uint32_t *dup_u32(struct oc_arena *a, const void *src, size_t n)
{
	return oc_arena_memdup(a, src, n * sizeof(uint32_t));
}

static int dump_fpu(struct oc_arena *a, pid_t tid, UserX86FpregsEntry **ret_fp)
{
	size_t size = oc_arch_xstate_size();
	uint8_t *buf = oc_arena_alloc(a, size);
	struct iovec iov = { buf, size };
	UserX86FpregsEntry *fp;
	UserX86XsaveEntry *xs;
	uint64_t enabled = xcr0();

	fp = OC_ARENA_MSG(a, UserX86FpregsEntry, USER_X86_FPREGS_ENTRY__INIT);
	if (!buf || !fp)
		return -ENOMEM;
	if (ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) < 0) {
		iov.iov_len = sizeof(struct user_fpregs_struct);
		if (ptrace(PTRACE_GETREGSET, tid, NT_PRFPREG, &iov) < 0)
			return oc_error_errno(-errno, "thread %d: cannot read FPU state", tid);
		enabled = 0x3;
	}

	const struct user_fpregs_struct *fx = (const void *)buf;
	fp->cwd = fx->cwd;
	fp->swd = fx->swd;
	fp->twd = fx->ftw;
	fp->fop = fx->fop;
	fp->rip = fx->rip;
	fp->rdp = fx->rdp;
	fp->mxcsr = fx->mxcsr;
	fp->mxcsr_mask = fx->mxcr_mask;
	fp->n_st_space = 32;
	fp->st_space = dup_u32(a, fx->st_space, 32);
	fp->n_xmm_space = 64;
	fp->xmm_space = dup_u32(a, fx->xmm_space, 64);
	if (!fp->st_space || !fp->xmm_space)
		return -ENOMEM;

	if (enabled != 0x3 && iov.iov_len > XSAVE_HDR_OFFSET) {
		xs = OC_ARENA_MSG(a, UserX86XsaveEntry, USER_X86_XSAVE_ENTRY__INIT);
		if (!xs)
			return -ENOMEM;
		memcpy(&xs->xstate_bv, buf + XSAVE_HDR_OFFSET, sizeof(uint64_t));

		/* Every component this CPU enables goes in, as CRIU does. */
#define COMPONENT(bit, field, words, dup)                                \
	if (enabled & (1ull << (bit))) {                                 \
		size_t off = xcomponent_offset(bit);                     \
		if (off + (words) * sizeof(*xs->field) <= iov.iov_len) { \
			xs->n_##field = (words);                         \
			xs->field = dup(a, buf + off, (words));          \
			if (!xs->field)                                  \
				return -ENOMEM;                          \
		}                                                        \
	}
		COMPONENT(XF_YMM, ymmh_space, 64, dup_u32);
		COMPONENT(XF_BNDREGS, bndreg_state, 8, dup_u64);
		COMPONENT(XF_BNDCSR, bndcsr_state, 2, dup_u64);
		COMPONENT(XF_OPMASK, opmask_reg, 8, dup_u64);
		COMPONENT(XF_ZMM_HI256, zmm_upper, 64, dup_u64);
		COMPONENT(XF_HI16_ZMM, hi16_zmm, 128, dup_u64);
		COMPONENT(XF_PKRU, pkru, 2, dup_u32);
#undef COMPONENT
		fp->xsave = xs;
	}
	*ret_fp = fp;
	return 0;
}

static int dump_tls(struct oc_arena *a, pid_t tid, ThreadInfoX86 *ti)
{
	ti->tls = OC_ARENA_ARRAY(a, UserDescT *, GDT_ENTRY_TLS_ENTRIES);
	if (!ti->tls)
		return -ENOMEM;
	for (int i = 0; i < GDT_ENTRY_TLS_ENTRIES; i++) {
		struct user_desc d = { .entry_number = GDT_ENTRY_TLS_MIN + i };
		UserDescT *u = OC_ARENA_MSG(a, UserDescT, USER_DESC_T__INIT);

		if (!u)
			return -ENOMEM;
		if (ptrace(PTRACE_GET_THREAD_AREA, tid, GDT_ENTRY_TLS_MIN + i, &d) < 0) {
			/* An empty slot: what the kernel reports for unused TLS. */
			memset(&d, 0, sizeof(d));
			d.read_exec_only = 1;
			d.seg_not_present = 1;
		}
		u->entry_number = GDT_ENTRY_TLS_MIN + i;
		u->base_addr = d.base_addr;
		u->limit = d.limit;
		u->seg_32bit = d.seg_32bit;
		u->contents_h = (d.contents >> 1) & 1;
		u->contents_l = d.contents & 1;
		u->read_exec_only = d.read_exec_only;
		u->limit_in_pages = d.limit_in_pages;
		u->seg_not_present = d.seg_not_present;
		u->usable = d.useable;
		ti->tls[ti->n_tls++] = u;
	}
	return 0;
}

int oc_arch_dump_thread_info(struct oc_arena *a, pid_t tid, const struct user_regs_struct *regs, ThreadInfoX86 **ret_ti)
{
	struct user_regs_struct r = *regs;
	ThreadInfoX86 *ti = OC_ARENA_MSG(a, ThreadInfoX86, THREAD_INFO_X86__INIT);
	UserX86RegsEntry *g = OC_ARENA_MSG(a, UserX86RegsEntry, USER_X86_REGS_ENTRY__INIT);
	int ret;

	if (!ti || !g)
		return -ENOMEM;
	if (r.cs != 0x33)
		return oc_error(-EOPNOTSUPP, "thread %d runs in 32-bit mode (cs 0x%llx), which is not supported", tid,
				(unsigned long long)r.cs);
	fixup_syscall_restart(&r);

	g->r15 = r.r15;
	g->r14 = r.r14;
	g->r13 = r.r13;
	g->r12 = r.r12;
	g->bp = r.rbp;
	g->bx = r.rbx;
	g->r11 = r.r11;
	g->r10 = r.r10;
	g->r9 = r.r9;
	g->r8 = r.r8;
	g->ax = r.rax;
	g->cx = r.rcx;
	g->dx = r.rdx;
	g->si = r.rsi;
	g->di = r.rdi;
	g->orig_ax = r.orig_rax;
	g->ip = r.rip;
	g->cs = r.cs;
	g->flags = r.eflags;
	g->sp = r.rsp;
	g->ss = r.ss;
	g->fs_base = r.fs_base;
	g->gs_base = r.gs_base;
	g->ds = r.ds;
	g->es = r.es;
	g->fs = r.fs;
	g->gs = r.gs;
	g->has_mode = true;
	g->mode = USER_X86_REGS_MODE__NATIVE;
	ti->gpregs = g;

	ret = dump_fpu(a, tid, &ti->fpregs);
	if (ret < 0)
		return ret;
	ret = dump_tls(a, tid, ti);
	if (ret < 0)
		return ret;
	*ret_ti = ti;
	return 0;
}

int oc_arch_regs_from_image(const UserX86RegsEntry *g, struct user_regs_struct *ret_regs)
{
	struct user_regs_struct r = {};

	if (g->has_mode && g->mode != USER_X86_REGS_MODE__NATIVE)
		return oc_error(-EOPNOTSUPP, "32-bit (compat) tasks are not supported");
	r.r15 = g->r15;
	r.r14 = g->r14;
	r.r13 = g->r13;
	r.r12 = g->r12;
	r.rbp = g->bp;
	r.rbx = g->bx;
	r.r11 = g->r11;
	r.r10 = g->r10;
	r.r9 = g->r9;
	r.r8 = g->r8;
	r.rax = g->ax;
	r.rcx = g->cx;
	r.rdx = g->dx;
	r.rsi = g->si;
	r.rdi = g->di;
	/* Resume as after rt_sigreturn: never inside a system call. */
	r.orig_rax = -1;
	r.rip = g->ip;
	r.cs = 0x33;
	r.eflags = g->flags;
	r.rsp = g->sp;
	r.ss = 0x2b;
	r.fs_base = g->fs_base;
	r.gs_base = g->gs_base;
	*ret_regs = r;
	return 0;
}

static const char *xfeature_name(int bit)
{
	static const char *const names[] = { "x87",
					     "SSE",
					     "AVX",
					     "MPX bound registers",
					     "MPX CSR",
					     "AVX-512 opmask",
					     "AVX-512 ZMM_Hi256",
					     "AVX-512 Hi16_ZMM",
					     "PT",
					     "PKRU" };
	return bit < (int)ARRAY_SIZE(names) ? names[bit] : "unknown";
}

int oc_arch_xstate_from_image(const UserX86FpregsEntry *fp, void *buf, size_t len)
{
	uint64_t enabled = xcr0();
	struct user_fpregs_struct *fx = buf;

	if (len < FXSAVE_SIZE + 64)
		return oc_error(-EINVAL, "xsave buffer too small");
	if (fp->n_st_space < 32 || fp->n_xmm_space < 64)
		return oc_error(-EINVAL, "FPU state in the image is short: %zu st words, %zu xmm words", fp->n_st_space,
				fp->n_xmm_space);
	memset(buf, 0, len);
	fx->cwd = fp->cwd;
	fx->swd = fp->swd;
	fx->ftw = fp->twd;
	fx->fop = fp->fop;
	fx->rip = fp->rip;
	fx->rdp = fp->rdp;
	fx->mxcsr = fp->mxcsr;
	fx->mxcr_mask = fp->mxcsr_mask;
	memcpy(fx->st_space, fp->st_space, sizeof(fx->st_space));
	memcpy(fx->xmm_space, fp->xmm_space, sizeof(fx->xmm_space));

	uint64_t bv = 0x3; /* x87 and SSE are always in the legacy area */
	const UserX86XsaveEntry *xs = fp->xsave;
	if (xs) {
		uint64_t missing = xs->xstate_bv & ~enabled;
		for (int bit = 0; missing && bit < 64; bit++)
			if (missing & (1ull << bit))
				return oc_error(-EOPNOTSUPP,
						"the image uses CPU state '%s' (xsave component %d), "
						"which this CPU does not enable",
						xfeature_name(bit), bit);
		bv = xs->xstate_bv;
#define COMPONENT(bit, field, words)                                                      \
	if (xs->n_##field && (enabled & (1ull << (bit)))) {                               \
		size_t off = xcomponent_offset(bit), n = (words) * sizeof(*xs->field);    \
		if (xs->n_##field != (words) || off + n > len)                            \
			return oc_error(-EINVAL,                                          \
					"xsave component %d in the image has %zu words, " \
					"expected %d",                                    \
					bit, xs->n_##field, (words));                     \
		memcpy((uint8_t *)buf + off, xs->field, n);                               \
	}
		COMPONENT(XF_YMM, ymmh_space, 64);
		COMPONENT(XF_BNDREGS, bndreg_state, 8);
		COMPONENT(XF_BNDCSR, bndcsr_state, 2);
		COMPONENT(XF_OPMASK, opmask_reg, 8);
		COMPONENT(XF_ZMM_HI256, zmm_upper, 64);
		COMPONENT(XF_HI16_ZMM, hi16_zmm, 128);
		COMPONENT(XF_PKRU, pkru, 2);
#undef COMPONENT
	}
	if (len > XSAVE_HDR_OFFSET)
		memcpy((uint8_t *)buf + XSAVE_HDR_OFFSET, &bv, sizeof(bv));
	return 0;
}
