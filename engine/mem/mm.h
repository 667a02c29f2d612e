/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The memory map's constants; the image's own bits are in img/vma.h. */
#ifndef OCICR_RES_MM_H
#define OCICR_RES_MM_H

/* OC_PAGE_SIZE, OC_TASK_SIZE and oc_vma_private() are in img/vma.h: the
 * image set loader checks pagemaps against them too. */
#include "img/vma.h"

/* The MAP_HUGE_* (and MFD_HUGE_*) page size bits of the object open as
 * @fd when it lives on hugetlbfs, else 0. */
uint32_t oc_hugetlb_size_bits(int fd);

#endif
