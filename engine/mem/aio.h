/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* AIO rings (io_setup contexts): part of the memory map (mem/mm.c). */
#ifndef OCICR_MEM_AIO_H
#define OCICR_MEM_AIO_H

#include <stdbool.h>
#include <stdint.h>

#include "res/kind.h"

/* Whether @v of task @pid is an AIO ring. */
bool oc_vma_is_aio_ring(pid_t pid, const struct oc_proc_vma *v);

/* The events a ring of @len bytes holds, and the io_setup() size that
 * makes a ring of that length (0: no ring is that long). */
uint32_t oc_aio_ring_events(uint64_t len);
uint32_t oc_aio_nr_req(uint64_t len);

/* Check the ring at @v and save it as VMA @ve and an entry of @mm. */
int oc_dump_aio_ring(struct oc_dump_task *t, const struct oc_proc_vma *v, VmaEntry *ve, MmEntry *mm);

void oc_rst_aio_reserve(const struct oc_rst_task *t, struct oc_rst_area_counts *c);

/* The VMA @rv (the saved ring, read into anonymous memory) and the ring to
 * make again in its place, for the AIO ring VMA @v. */
int oc_rst_aio_fill(const struct oc_rst_task *t, const VmaEntry *v, struct oc_rst_args *a, struct oc_rst_vma *rv);

#endif
