// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A thread that spends nearly all its time inside a long rseq critical
 * section (glibc's rseq registration, our own section descriptor).  Each
 * pass either ends at its abort handler (preempted, signalled, or sent
 * there by the dumper) or runs to its end, where it reads its rseq_cs back:
 * a section that ran to the end with rseq_cs no longer pointing at its
 * descriptor ran unprotected, which is what a dump that leaves the thread
 * inside the section while the kernel clears rseq_cs behind it causes.
 * After restore: no such pass, and rseq still registered at the same place.
 */
#include <pthread.h>
#include <sys/rseq.h>
#include <sys/syscall.h>

#include "wl.h"

#define WL_RSEQ_SIG 0x53053053 /* glibc's signature on x86_64 */
#define SPINS	    2000000

static volatile int stop;
static volatile long passes, aborts, unprotected;

static __thread struct rseq own_rseq __attribute__((aligned(32)));

/* This thread's rseq area: glibc's, or one we register when it has none. */
static struct rseq *my_rseq(void)
{
	char *tp;

	if (!__rseq_size)
		return &own_rseq;
	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return (struct rseq *)(tp + __rseq_offset);
}

static size_t my_rseq_len(void)
{
	return __rseq_size ? (__rseq_size < 32 ? 32 : __rseq_size) : sizeof(own_rseq);
}

static bool register_rseq(void)
{
	return __rseq_size || syscall(SYS_rseq, &own_rseq, sizeof(own_rseq), 0, WL_RSEQ_SIG) == 0;
}

/* One pass; returns the rseq_cs value seen at the end, or 1 if aborted. */
static __attribute__((noinline)) uint64_t one_pass(struct rseq *rs)
{
	uint64_t seen = 0;

	/* clang-format off */
	__asm__ __volatile__ goto(
		".pushsection .data.wl_rseq, \"aw\"\n\t"
		".balign 32\n\t"
		"wl_rseq_desc:\n\t"
		".long 0, 0\n\t"
		".quad 10f, (20f - 10f), 30f\n\t"
		".popsection\n\t"
		"leaq wl_rseq_desc(%%rip), %%rax\n\t"
		"movq %%rax, %[cs]\n\t"
		"10:\n\t"
		"movq %[spins], %%rcx\n\t"
		"11:\n\t"
		"pause\n\t"
		"decq %%rcx\n\t"
		"jnz 11b\n\t"
		"movq %[cs], %%rax\n\t"
		"movq %%rax, %[seen]\n\t"
		"20:\n\t"
		".pushsection .text.wl_rseq_abort, \"ax\"\n\t"
		".byte 0x0f, 0xb9, 0x3d\n\t"
		".long 0x53053053\n\t"
		"30:\n\t"
		"jmp %l[aborted]\n\t"
		".popsection\n\t"
		:
		: [cs] "m"(rs->rseq_cs), [seen] "m"(seen), [spins] "i"(SPINS)
		: "memory", "cc", "rax", "rcx"
		: aborted);
	/* clang-format on */
	return seen;
aborted:
	return 1;
}

static void *spinner(void *arg)
{
	struct rseq *rs = my_rseq();

	(void)arg;
	if (!register_rseq()) {
		unprotected = -1;
		return NULL;
	}
	while (!stop) {
		uint64_t seen = one_pass(rs);
		if (seen == 1)
			aborts++;
		else if (seen == 0)
			unprotected++;
		passes++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	wl_init(argc, argv);
	WL_SETUP(register_rseq(), "rseq");
	WL_SETUP((errno = pthread_create(&t, NULL, spinner, NULL)) == 0, "pthread_create");
	WL_SETUP(WL_WAIT_FOR(passes > 2 || unprotected < 0, 10000) && unprotected >= 0, "the spinner runs");
	WL_SETUP(unprotected == 0 || (errno = EPROTO, 0), "sections protected before the dump");

	wl_ready();
	wl_wait();

	long before = passes;
	WL_CHECK(WL_WAIT_FOR(passes > before + 2, 10000), "the spinner no longer runs");
	stop = 1;
	WL_CHECK(pthread_join(t, NULL) == 0, "pthread_join");
	WL_CHECK(unprotected == 0, "%ld of %ld section(s) ran to the end with rseq_cs cleared (%ld aborted)",
		 (long)unprotected, (long)passes, (long)aborts);
	long r = syscall(SYS_rseq, my_rseq(), my_rseq_len(), 0, WL_RSEQ_SIG);
	WL_CHECK(r < 0 && errno == EBUSY, "rseq is not registered as before (%ld, %s)", r, strerror(errno));
	wl_pass();
}
