/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VMA status bits and pagemap flags as CRIU images store them: the one
 * definition the dump, the restore and the image printers share. */
#ifndef OCICR_IMG_VMA_H
#define OCICR_IMG_VMA_H

#include <stdbool.h>

#include "ocicr.h"

#define VMA_AREA_REGULAR  (1u << 0)
#define VMA_AREA_STACK	  (1u << 1)
#define VMA_AREA_VSYSCALL (1u << 2)
#define VMA_AREA_VDSO	  (1u << 3)
#define VMA_AREA_HEAP	  (1u << 5)
#define VMA_FILE_PRIVATE  (1u << 6)
#define VMA_FILE_SHARED	  (1u << 7)
#define VMA_ANON_SHARED	  (1u << 8)
#define VMA_ANON_PRIVATE  (1u << 9)
#define VMA_AREA_SYSVIPC  (1u << 10)
#define VMA_AREA_SOCKET	  (1u << 11)
#define VMA_AREA_VVAR	  (1u << 12)
#define VMA_AREA_AIORING  (1u << 13)
#define VMA_AREA_MEMFD	  (1u << 14)
#define VMA_AREA_SHSTK	  (1u << 15)
#define VMA_AREA_GUARD	  (1u << 16)
#define VMA_AREA_UPROBES  (1u << 17)
#define VMA_UNSUPP	  (1u << 31)

/* pagemap_entry.flags */
#define PE_PARENT  OC_PM_PARENT
#define PE_LAZY	   OC_PM_LAZY
#define PE_PRESENT OC_PM_PRESENT

/* mmap's MAP_GROWSDOWN as images store it (x86_64's value). */
#define OC_MAP_GROWSDOWN 0x100
/* mmap's MAP_DROPPABLE (a mapping type, like MAP_PRIVATE; Linux 6.11). */
#define OC_MAP_DROPPABLE 0x08

#define OC_PAGE_SIZE 4096ul
#define OC_TASK_SIZE 0x7ffffffff000ul

/* A VMA whose memory lives in the task's own pages image (an AIO ring's
 * too: its events and head). */
static inline bool oc_vma_private(unsigned status, unsigned long end)
{
	return ((status & VMA_AREA_REGULAR) && (status & (VMA_ANON_PRIVATE | VMA_FILE_PRIVATE)) &&
		end <= OC_TASK_SIZE) ||
	       (status & VMA_AREA_AIORING);
}

#endif
