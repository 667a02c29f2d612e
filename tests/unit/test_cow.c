// SPDX-License-Identifier: LGPL-2.1-or-later
/* Copy-on-write matching between parent and child, and page runs cut
 * around premapped VMAs (engine/restore_cow.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "restore/restore.h"
#include "mem/mm.h"

#define PG   4096ull
#define ANON (VMA_AREA_REGULAR | VMA_ANON_PRIVATE)

struct fake_task {
	struct oc_rst_task t;
	PstreeEntry ps;
	MmEntry mm;
	VmaEntry vma[8];
	VmaEntry *vmas[8];
	PagemapEntry pe[8];
	PagemapEntry *pes[8];
};

static void task_init(struct fake_task *f, pid_t pid, pid_t ppid)
{
	memset(f, 0, sizeof(*f));
	f->ps.pid = pid;
	f->ps.ppid = ppid;
	f->t.pid = pid;
	f->t.pstree = &f->ps;
	f->t.mm = &f->mm;
	f->mm.vmas = f->vmas;
	f->t.pagemap = f->pes;
}

static void add_vma(struct fake_task *f, uint64_t start, uint64_t end, uint32_t status, uint32_t flags)
{
	size_t i = f->mm.n_vmas++;
	f->vma[i] = (VmaEntry){ .start = start, .end = end, .status = status, .flags = flags, .prot = 3 };
	f->vmas[i] = &f->vma[i];
}

static void add_pages(struct fake_task *f, uint64_t vaddr, uint64_t n)
{
	size_t i = f->t.n_pagemap++;
	f->pe[i] = (PagemapEntry){
		.vaddr = vaddr, .has_nr_pages = true, .nr_pages = n, .has_flags = true, .flags = PE_PRESENT
	};
	f->pes[i] = &f->pe[i];
}

static void free_cow(struct oc_rst_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		free(ctx->tasks[i].vma_cow);
		free(ctx->tasks[i].premap_at);
	}
}

static const uint32_t PRIV = MAP_PRIVATE | MAP_ANONYMOUS;

static void test_match_same_range_with_pages(void **state)
{
	struct fake_task f[2];
	struct oc_rst_task tasks[2];
	struct oc_rst_ctx ctx = { .tasks = tasks, .n_tasks = 2 };

	task_init(&f[0], 10, 0);
	task_init(&f[1], 11, 10);
	/* shared: same range, both with pages */
	add_vma(&f[0], 0x10000, 0x20000, ANON, PRIV);
	add_vma(&f[1], 0x10000, 0x20000, ANON, PRIV);
	/* not: the child's is a different range (split by mprotect) */
	add_vma(&f[0], 0x30000, 0x40000, ANON, PRIV);
	add_vma(&f[1], 0x30000, 0x38000, ANON, PRIV);
	/* not: a stack grows down, mremap cannot keep that */
	add_vma(&f[0], 0x50000, 0x60000, ANON | VMA_AREA_STACK, PRIV | MAP_GROWSDOWN);
	add_vma(&f[1], 0x50000, 0x60000, ANON | VMA_AREA_STACK, PRIV | MAP_GROWSDOWN);
	/* not: the parent has no pages there */
	add_vma(&f[0], 0x70000, 0x80000, ANON, PRIV);
	add_vma(&f[1], 0x70000, 0x80000, ANON, PRIV);
	for (int k = 0; k < 2; k++) {
		add_pages(&f[k], 0x10000, 2);
		add_pages(&f[k], 0x30000, 1);
		add_pages(&f[k], 0x50000, 1);
	}
	add_pages(&f[1], 0x70000, 1);
	tasks[0] = f[0].t;
	tasks[1] = f[1].t;

	assert_int_equal(oc_rst_cow_match(&ctx), 0);
	assert_int_equal(tasks[0].vma_cow[0], OC_COW_PREMAP);
	assert_int_equal(tasks[1].vma_cow[0], OC_COW_PREMAP | OC_COW_INHERIT);
	for (int i = 1; i < 4; i++) {
		assert_int_equal(tasks[0].vma_cow[i], 0);
		assert_int_equal(tasks[1].vma_cow[i], 0);
	}
	assert_true(oc_rst_cow_premaps(&tasks[0]));
	assert_false(oc_rst_cow_inherits(&tasks[0]));
	assert_true(oc_rst_cow_inherits(&tasks[1]));
	free_cow(&ctx);
}

/* A private file mapping is inherited only as the same file at the same
 * offset; shared file memory and zombies never are. */
static void test_file_memory_and_zombies(void **state)
{
	const uint32_t FILE_PRIV = VMA_AREA_REGULAR | VMA_FILE_PRIVATE;
	struct fake_task f[3];
	struct oc_rst_task tasks[3];
	struct oc_rst_ctx ctx = { .tasks = tasks, .n_tasks = 3 };

	task_init(&f[0], 10, 0);
	task_init(&f[1], 11, 10);
	task_init(&f[2], 12, 10);
	/* same file, same offset: shared */
	add_vma(&f[0], 0x10000, 0x20000, FILE_PRIV, MAP_PRIVATE);
	add_vma(&f[1], 0x10000, 0x20000, FILE_PRIV, MAP_PRIVATE);
	/* another file */
	add_vma(&f[0], 0x30000, 0x40000, FILE_PRIV, MAP_PRIVATE);
	add_vma(&f[1], 0x30000, 0x40000, FILE_PRIV, MAP_PRIVATE);
	f[1].vma[1].shmid = 7;
	/* same file, another offset */
	add_vma(&f[0], 0x50000, 0x60000, FILE_PRIV, MAP_PRIVATE);
	add_vma(&f[1], 0x50000, 0x60000, FILE_PRIV, MAP_PRIVATE);
	f[1].vma[2].pgoff = 0x1000;
	/* shared file memory */
	add_vma(&f[0], 0x70000, 0x80000, VMA_AREA_REGULAR | VMA_FILE_SHARED, MAP_SHARED);
	add_vma(&f[1], 0x70000, 0x80000, VMA_AREA_REGULAR | VMA_FILE_SHARED, MAP_SHARED);
	for (uint64_t at = 0x10000; at < 0x80000; at += 0x20000) {
		add_pages(&f[0], at, 1);
		add_pages(&f[1], at, 1);
	}
	f[2].t.zombie = true;
	for (int k = 0; k < 3; k++)
		tasks[k] = f[k].t;

	assert_int_equal(oc_rst_cow_match(&ctx), 0);
	assert_int_equal(tasks[0].vma_cow[0], OC_COW_PREMAP);
	assert_int_equal(tasks[1].vma_cow[0], OC_COW_PREMAP | OC_COW_INHERIT);
	for (int i = 1; i < 4; i++) {
		assert_int_equal(tasks[0].vma_cow[i], 0);
		assert_int_equal(tasks[1].vma_cow[i], 0);
	}
	assert_null(tasks[2].vma_cow);
	free_cow(&ctx);
}

struct seen {
	uint64_t vaddr[8], n[8], off[8];
	int count;
};

static int record(void *data, uint64_t vaddr, uint64_t n_pages, uint64_t off)
{
	struct seen *s = data;
	s->vaddr[s->count] = vaddr;
	s->n[s->count] = n_pages;
	s->off[s->count++] = off;
	return 0;
}

static void test_runs_are_clipped_with_offsets(void **state)
{
	struct fake_task f;
	struct seen s = {};

	task_init(&f, 10, 0);
	add_pages(&f, 0x10000, 4); /* offsets 0..4 pages */
	f.pe[f.t.n_pagemap] = (PagemapEntry){
		.vaddr = 0x18000, .has_nr_pages = true, .nr_pages = 2, .has_flags = true, .flags = 0
	}; /* not present: no offset */
	f.pes[f.t.n_pagemap] = &f.pe[f.t.n_pagemap];
	f.t.n_pagemap++;
	add_pages(&f, 0x20000, 3); /* offsets 4..7 pages */

	assert_int_equal(oc_rst_for_each_run(&f.t, 0x12000, 0x21000, record, &s), 0);
	assert_int_equal(s.count, 2);
	assert_int_equal(s.vaddr[0], 0x12000);
	assert_int_equal(s.n[0], 2);
	assert_int_equal(s.off[0], 2 * PG);
	assert_int_equal(s.vaddr[1], 0x20000);
	assert_int_equal(s.n[1], 1);
	assert_int_equal(s.off[1], 4 * PG);
}

static void test_pieces_around_premapped_vmas(void **state)
{
	struct fake_task f;
	uint8_t cow[3] = { 0, OC_COW_PREMAP, 0 };
	bool premapped;

	task_init(&f, 10, 0);
	add_vma(&f, 0x10000, 0x20000, ANON, PRIV);
	add_vma(&f, 0x20000, 0x30000, ANON, PRIV);
	add_vma(&f, 0x30000, 0x40000, ANON, PRIV);
	f.t.vma_cow = cow;

	/* a run over all three: before, inside, after the premapped one */
	assert_int_equal(oc_rst_cow_piece(&f.t, 0x18000, 0x38000, &premapped), 0x20000);
	assert_false(premapped);
	assert_int_equal(oc_rst_cow_piece(&f.t, 0x20000, 0x38000, &premapped), 0x30000);
	assert_true(premapped);
	assert_int_equal(oc_rst_cow_piece(&f.t, 0x30000, 0x38000, &premapped), 0x38000);
	assert_false(premapped);
	/* a run inside the premapped VMA ends where the run ends */
	assert_int_equal(oc_rst_cow_piece(&f.t, 0x22000, 0x24000, &premapped), 0x24000);
	assert_true(premapped);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_same_range_with_pages),
		cmocka_unit_test(test_file_memory_and_zombies),
		cmocka_unit_test(test_runs_are_clipped_with_offsets),
		cmocka_unit_test(test_pieces_around_premapped_vmas),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
