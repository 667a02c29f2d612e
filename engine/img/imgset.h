/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An image set loaded once, indexed and checked: the process tree, each
 * task's cores, ids, mm, fs, fds and pagemap, the file objects by id.
 * Restore (restore_load.c) and inspect (oci/inspect/model.c) both load
 * through it, so a bad image set gets the same answer from both, before
 * anything else looks at it.
 *
 * What is checked here holds for any use of the images: the tree's shape
 * (one root listed first, parents before children, no cycle, no pid or
 * tid twice, no task without threads), task_state values and their
 * agreement with pstree.img, VMAs (not reversed, in order), pagemap
 * entries (aligned, in order, not empty, inside private VMAs), fds (no
 * number twice, every file object present and of the same type), file
 * objects (no id twice, absolute paths).  What only restore cannot do
 * (legacy layouts, incremental dumps, other architectures) is refused by
 * restore itself.
 */
#ifndef OCICR_IMG_IMGSET_H
#define OCICR_IMG_IMGSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "img/image.h"

#include "core.pb-c.h"
#include "fdinfo.pb-c.h"
#include "fs.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

/* CRIU's task_state values (core.proto's TaskCoreEntry). */
enum {
	OC_TASK_STATE_ALIVE = 1,
	OC_TASK_STATE_DEAD = 2, /* a zombie */
	OC_TASK_STATE_STOPPED = 3,
};

struct oc_imgset_task {
	PstreeEntry *pstree;
	pid_t pid;
	size_t parent;	   /* index in tasks[], SIZE_MAX for the root */
	uint32_t state;	   /* OC_TASK_STATE_* */
	bool zombie;	   /* nothing below but cores[0] for a zombie */
	CoreEntry **cores; /* one per thread, [0] the leader */
	size_t n_cores;
	TaskKobjIdsEntry *ids;
	MmEntry *mm;
	FsEntry *fs;
	FdinfoEntry **fds;
	size_t n_fds;
	PagemapEntry **pagemap; /* the entries after the head */
	size_t n_pagemap;
	uint32_t pages_id;
};

struct oc_imgset {
	struct oc_imgdir *dir; /* borrowed */
	InventoryEntry *inventory;
	struct oc_imgset_task *tasks; /* pstree order: parents first */
	size_t n_tasks;
	FileEntry **files;	 /* in files.img order */
	FileEntry **files_by_id; /* the same, sorted by id */
	size_t n_files;
	/* every unpacked message, freed by oc_imgset_fini() */
	ProtobufCMessage **msgs;
	size_t n_msgs, cap_msgs;
};

/* Load and check the image set in @dir (kept, not closed). */
int oc_imgset_load(struct oc_imgdir *dir, struct oc_imgset *set);
void oc_imgset_fini(struct oc_imgset *set);

/* The file object with id @id, or NULL. */
FileEntry *oc_imgset_file(const struct oc_imgset *set, uint32_t id);

/*
 * Read every entry of image @kind/@id into a new array (free() it; the
 * messages belong to the set).  A missing image is an empty one when
 * @optional.  With @ret_payloads, each entry's raw payload too (each and
 * the array free()d by the caller).
 */
int oc_imgset_read_all(struct oc_imgset *set, enum oc_img_kind kind, uint64_t id, bool optional, void *ret_array,
		       size_t *ret_n, uint8_t ***ret_payloads);

/* Read a single-entry image; with @optional a missing one gives 0 and NULL. */
int oc_imgset_read_one(struct oc_imgset *set, enum oc_img_kind kind, uint64_t id, bool optional, void *ret_msg);

/* Read a pagemap image: its pages_id and its entries after the head,
 * checked (aligned, in order, none empty). */
int oc_imgset_read_pagemap(struct oc_imgset *set, enum oc_img_kind kind, uint64_t id, PagemapEntry ***ret_entries,
			   size_t *ret_n, uint32_t *ret_pages_id);

/* Pages in pagemap entry @pe. */
static inline uint64_t oc_pagemap_entry_pages(const PagemapEntry *pe)
{
	return pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
}

#endif
