/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The memory map's constants; the image's own bits are in img/vma.h. */
#ifndef OCICR_RES_MM_H
#define OCICR_RES_MM_H

#include <stdbool.h>

#include "img/vma.h"

#define OC_PAGE_SIZE 4096ul
#define OC_TASK_SIZE 0x7ffffffff000ul

/* A VMA whose memory lives in the task's own pages image. */
static inline bool oc_vma_private(unsigned status, unsigned long end)
{
	return (status & VMA_AREA_REGULAR) && (status & (VMA_ANON_PRIVATE | VMA_FILE_PRIVATE)) &&
	       end <= OC_TASK_SIZE;
}

#endif
