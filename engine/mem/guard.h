/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guard regions (madvise MADV_GUARD_INSTALL): part of the memory map. */
#ifndef OCICR_MEM_GUARD_H
#define OCICR_MEM_GUARD_H

#include "res/kind.h"

/* Append the guard regions of @t to @mm's VMAs, as VMA_AREA_GUARD entries. */
int oc_dump_guards(struct oc_dump_task *t, MmEntry *mm);

/* The guard entries of @mm: they come after every real VMA. */
size_t oc_mm_first_guard(const MmEntry *mm);

void oc_rst_guards_reserve(const struct oc_rst_task *t, struct oc_rst_area_counts *c);
void oc_rst_guards_fill(const struct oc_rst_task *t, struct oc_rst_args *a);

#endif
