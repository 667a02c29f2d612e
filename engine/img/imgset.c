// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One loader for an image set, with the checks every user of it needs
 * (see imgset.h).  Messages name the image and the entry, the same for
 * restore and inspect.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "img/imgset.h"
#include "img/vma.h"
#include "core/cleanup.h"
#include "core/error.h"

static int keep_msg(struct oc_imgset *set, ProtobufCMessage *m)
{
	if (set->n_msgs == set->cap_msgs) {
		size_t cap = set->cap_msgs ? set->cap_msgs * 2 : 256;
		ProtobufCMessage **n = realloc(set->msgs, cap * sizeof(*n));
		if (!n) {
			protobuf_c_message_free_unpacked(m, NULL);
			return -ENOMEM;
		}
		set->msgs = n;
		set->cap_msgs = cap;
	}
	set->msgs[set->n_msgs++] = m;
	return 0;
}

int oc_imgset_read_one(struct oc_imgset *set, enum oc_img_kind kind, uint64_t id, bool optional, void *ret_msg)
{
	ProtobufCMessage *m;
	int r = oc_img_read_one(set->dir, kind, id, &m);

	*(ProtobufCMessage **)ret_msg = NULL;
	if (r == -ENOENT && optional) {
		oc_error_clear();
		return 0;
	}
	if (r < 0)
		return r;
	r = keep_msg(set, m);
	if (r < 0)
		return r;
	*(ProtobufCMessage **)ret_msg = m;
	return 0;
}

static void free_payloads(uint8_t **payloads, size_t n)
{
	if (payloads)
		for (size_t i = 0; i < n; i++)
			free(payloads[i]);
	free(payloads);
}

/* Grow @arr by one slot of @size bytes; NULL when out of memory. */
static void *grow(void *arr, size_t n, size_t size)
{
	return realloc(arr, (n + 1) * size);
}

int oc_imgset_read_all(struct oc_imgset *set, enum oc_img_kind kind, uint64_t id, bool optional, void *ret_array,
		       size_t *ret_n, uint8_t ***ret_payloads)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	_cleanup_free_ ProtobufCMessage **arr = NULL;
	uint8_t **payloads = NULL;
	size_t n = 0;
	int r;

	*(void **)ret_array = NULL;
	*ret_n = 0;
	if (ret_payloads)
		*ret_payloads = NULL;
	r = oc_img_open(set->dir, kind, id, &img);
	if (r == -ENOENT && optional) {
		oc_error_clear();
		return 0;
	}
	if (r < 0)
		return r;
	for (;;) {
		ProtobufCMessage *m;
		r = oc_img_read_entry(img, NULL, &m);
		if (r <= 0)
			break;
		r = keep_msg(set, m);
		if (r < 0)
			break;
		ProtobufCMessage **na = grow(arr, n, sizeof(*arr));
		if (!na) {
			r = -ENOMEM;
			break;
		}
		arr = na;
		arr[n] = m;
		if (ret_payloads) {
			uint64_t len;
			uint8_t **np = grow(payloads, n, sizeof(*payloads));
			if (!np) {
				r = -ENOMEM;
				break;
			}
			payloads = np;
			payloads[n] = NULL;
			r = oc_img_payload_size(oc_img_get_desc(img), m, &len);
			if (r >= 0)
				r = oc_img_read_alloc(img, len, &payloads[n]);
			if (r < 0) {
				n++;
				break;
			}
		}
		n++;
	}
	if (r < 0) {
		free_payloads(payloads, n);
		return r;
	}
	*(void **)ret_array = TAKE_PTR(arr);
	*ret_n = n;
	if (ret_payloads)
		*ret_payloads = payloads;
	return 0;
}

int oc_imgset_read_pagemap(struct oc_imgset *set, enum oc_img_kind kind, uint64_t id, PagemapEntry ***ret_entries,
			   size_t *ret_n, uint32_t *ret_pages_id)
{
	char name[64];
	ProtobufCMessage **all;
	uint64_t prev_end = 0;
	size_t n;
	int r;

	snprintf(name, sizeof(name),
		 kind == OC_IMG_PAGEMAP ? "pagemap-%" PRIu64 ".img" : "pagemap-shmem-%" PRIu64 ".img", id);
	r = oc_imgset_read_all(set, kind, id, false, &all, &n, NULL);
	if (r < 0)
		return r;
	if (n == 0) {
		free(all);
		return oc_error(-EINVAL, "%s/%s: empty pagemap, a pagemap_head was expected", oc_imgdir_path(set->dir),
				name);
	}
	*ret_pages_id = ((PagemapHead *)all[0])->pages_id;
	memmove(all, all + 1, (n - 1) * sizeof(*all));
	n--;
	for (size_t i = 0; i < n; i++) {
		const PagemapEntry *pe = (PagemapEntry *)all[i];
		uint64_t pages = oc_pagemap_entry_pages(pe);
		uint64_t end = pe->vaddr + pages * OC_PAGE_SIZE;

		if (pages == 0) {
			free(all);
			return oc_error(-EINVAL, "%s: entry %zu (0x%" PRIx64 ") has no pages", name, i, pe->vaddr);
		}
		if (pe->vaddr % OC_PAGE_SIZE || pe->vaddr < prev_end || pages > OC_TASK_SIZE / OC_PAGE_SIZE ||
		    end < pe->vaddr) {
			free(all);
			return oc_error(-EINVAL, "%s: entry %zu (0x%" PRIx64 ") is out of order or misaligned", name, i,
					pe->vaddr);
		}
		prev_end = end;
	}
	*ret_entries = (PagemapEntry **)all;
	*ret_n = n;
	return 0;
}

FileEntry *oc_imgset_file(const struct oc_imgset *set, uint32_t id)
{
	size_t lo = 0, hi = set->n_files;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (set->files_by_id[mid]->id == id)
			return set->files_by_id[mid];
		if (set->files_by_id[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int file_id_cmp(const void *a, const void *b)
{
	const FileEntry *x = *(FileEntry *const *)a, *y = *(FileEntry *const *)b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* File objects: indexed by id, no id twice, paths absolute (a relative one
 * would be resolved against whatever directory ocicr runs in). */
static int load_files(struct oc_imgset *set)
{
	int r = oc_imgset_read_all(set, OC_IMG_FILES, 0, true, &set->files, &set->n_files, NULL);

	if (r < 0)
		return r;
	set->files_by_id = malloc((set->n_files ? set->n_files : 1) * sizeof(*set->files_by_id));
	if (!set->files_by_id)
		return -ENOMEM;
	if (set->n_files) {
		memcpy(set->files_by_id, set->files, set->n_files * sizeof(*set->files));
		qsort(set->files_by_id, set->n_files, sizeof(*set->files), file_id_cmp);
	}
	for (size_t i = 0; i < set->n_files; i++) {
		const FileEntry *f = set->files_by_id[i];
		if (i && set->files_by_id[i - 1]->id == f->id)
			return oc_error(-EINVAL, "files.img: file id %u appears twice", f->id);
		if (f->reg && (!f->reg->name || f->reg->name[0] != '/'))
			return oc_error(-EINVAL,
					"files.img: file %u has the relative path '%s' (paths in images are "
					"absolute)",
					f->id, f->reg->name ? f->reg->name : "");
	}
	return 0;
}

static ssize_t task_index(const struct oc_imgset *set, size_t n, uint32_t pid)
{
	for (size_t i = 0; i < n; i++)
		if ((uint32_t)set->tasks[i].pid == pid)
			return i;
	return -1;
}

struct tid_owner {
	uint32_t tid, pid;
};

static int tid_cmp(const void *a, const void *b)
{
	const struct tid_owner *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* No thread id twice in the tree (a leader's tid is its pid). */
static int check_tids(const struct oc_imgset *set)
{
	_cleanup_free_ struct tid_owner *all = NULL;
	size_t n = 0;

	for (size_t i = 0; i < set->n_tasks; i++)
		n += set->tasks[i].pstree->n_threads;
	all = calloc(n ? n : 1, sizeof(*all));
	if (!all)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < set->n_tasks; i++) {
		const PstreeEntry *pe = set->tasks[i].pstree;
		bool zombie_list = pe->n_threads == 1 && pe->threads[0] == 0;
		if (!zombie_list && pe->threads[0] != pe->pid)
			return oc_error(-EINVAL,
					"pstree.img: task %u lists thread %u first; the leader (tid = pid) "
					"comes first",
					pe->pid, pe->threads[0]);
		for (size_t j = 0; j < pe->n_threads && !zombie_list; j++)
			all[n++] = (struct tid_owner){ pe->threads[j], pe->pid };
	}
	qsort(all, n, sizeof(*all), tid_cmp);
	for (size_t i = 1; i < n; i++)
		if (all[i].tid == all[i - 1].tid)
			return oc_error(-EINVAL, "pstree.img: thread id %u appears twice (in tasks %u and %u)",
					all[i].tid, all[i - 1].pid, all[i].pid);
	return 0;
}

/* One root, listed first; every parent in the tree and listed before its
 * children; no cycle; no pid twice; no task without threads. */
static int check_tree(struct oc_imgset *set)
{
	size_t n = set->n_tasks;

	for (size_t i = 0; i < n; i++) {
		const PstreeEntry *pe = set->tasks[i].pstree;
		ssize_t first = task_index(set, i, pe->pid);
		if (first >= 0)
			return oc_error(-EINVAL, "pstree.img: pid %u appears twice", pe->pid);
		if (pe->n_threads == 0)
			return oc_error(-EINVAL, "pstree.img: task %u has an empty threads list", pe->pid);
	}
	if (set->tasks[0].pstree->ppid != 0)
		return oc_error(-EINVAL, "pstree.img: the first task (%u) has a parent (%u); the root comes first",
				set->tasks[0].pstree->pid, set->tasks[0].pstree->ppid);
	set->tasks[0].parent = SIZE_MAX;
	for (size_t i = 1; i < n; i++) {
		const PstreeEntry *pe = set->tasks[i].pstree;
		if (pe->ppid == 0)
			return oc_error(-EINVAL, "pstree.img: tasks %u and %u both have no parent; a tree has one root",
					set->tasks[0].pstree->pid, pe->pid);
		ssize_t p = task_index(set, n, pe->ppid);
		if (p < 0)
			return oc_error(-EINVAL, "pstree.img: the parent %u of task %u is not in the tree", pe->ppid,
					pe->pid);
		set->tasks[i].parent = p;
	}
	/* Follow each task's parents up to the root: at most n steps. */
	for (size_t i = 1; i < n; i++) {
		size_t at = i, steps = 0;
		while (at != 0 && steps++ <= n)
			at = set->tasks[at].parent;
		if (at != 0)
			return oc_error(-EINVAL,
					"pstree.img: task %u is its own ancestor (the parent links make a "
					"cycle)",
					set->tasks[i].pid);
		if (set->tasks[i].parent > i)
			return oc_error(-EINVAL, "pstree.img: task %u is listed before its parent %u",
					set->tasks[i].pid, set->tasks[set->tasks[i].parent].pid);
	}
	return check_tids(set);
}

/* The leader's core says what the task is; pstree.img must agree. */
static int load_cores(struct oc_imgset *set, struct oc_imgset_task *t)
{
	const PstreeEntry *pe = t->pstree;
	bool zombie_list = pe->n_threads == 1 && pe->threads[0] == 0;
	CoreEntry *core;
	int r;

	r = oc_imgset_read_one(set, OC_IMG_CORE, t->pid, false, &core);
	if (r < 0)
		return r;
	if (!core->tc)
		return oc_error(-EINVAL, "core-%d.img: the task's core lacks its task part (tc)", t->pid);
	t->state = core->tc->task_state;
	if (t->state != OC_TASK_STATE_ALIVE && t->state != OC_TASK_STATE_DEAD && t->state != OC_TASK_STATE_STOPPED)
		return oc_error(-EINVAL, "core-%d.img: task_state %u is not a task's (1 alive, 2 zombie, 3 stopped)",
				t->pid, t->state);
	t->zombie = t->state == OC_TASK_STATE_DEAD;
	if (t->zombie != zombie_list)
		return oc_error(-EINVAL, "core-%d.img: task_state %u (%s) but pstree.img lists %s for it", t->pid,
				t->state, t->zombie ? "zombie" : "not a zombie",
				zombie_list ? "no threads (a zombie's [0])" : "threads");
	t->n_cores = t->zombie ? 1 : pe->n_threads;
	t->cores = calloc(t->n_cores, sizeof(*t->cores));
	if (!t->cores)
		return -ENOMEM;
	t->cores[0] = core;
	for (size_t i = 1; i < t->n_cores; i++) {
		r = oc_imgset_read_one(set, OC_IMG_CORE, pe->threads[i], false, &t->cores[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Each AIO ring entry names an AIO ring VMA of its length, and each such
 * VMA has one. */
static int check_aio_rings(const struct oc_imgset_task *t)
{
	const MmEntry *mm = t->mm;
	size_t rings = 0;

	for (size_t i = 0; i < mm->n_vmas; i++)
		rings += (mm->vmas[i]->status & VMA_AREA_AIORING) ? 1 : 0;
	if (rings != mm->n_aios)
		return oc_error(-EINVAL, "mm-%d.img: %zu AIO ring VMAs but %zu aio entries", t->pid, rings, mm->n_aios);
	for (size_t k = 0; k < mm->n_aios; k++) {
		const AioRingEntry *re = mm->aios[k];
		bool found = false;
		for (size_t i = 0; i < mm->n_vmas && !found; i++)
			found = (mm->vmas[i]->status & VMA_AREA_AIORING) && mm->vmas[i]->start == re->id &&
				mm->vmas[i]->end - mm->vmas[i]->start == re->ring_len;
		if (!found || !re->nr_req)
			return oc_error(-EINVAL,
					"mm-%d.img: aio entry %zu (0x%" PRIx64 ", %u bytes, %u requests) matches no "
					"AIO ring VMA",
					t->pid, k, re->id, re->ring_len, re->nr_req);
	}
	return 0;
}

/* VMAs: none empty or reversed, in order, not overlapping (guard pages
 * aside). */
static int check_vmas(const struct oc_imgset_task *t)
{
	const MmEntry *mm = t->mm;

	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];
		if (v->end <= v->start || v->start % OC_PAGE_SIZE || v->end % OC_PAGE_SIZE)
			return oc_error(-EINVAL,
					"mm-%d.img: VMA %zu (0x%" PRIx64 "-0x%" PRIx64 ") is empty, reversed or "
					"misaligned",
					t->pid, i, v->start, v->end);
		if (i && v->start < mm->vmas[i - 1]->end && !(v->status & VMA_AREA_GUARD))
			return oc_error(-EINVAL, "mm-%d.img: VMAs %zu and %zu overlap or are out of order", t->pid,
					i - 1, i);
		/* Guard regions are listed after every real VMA. */
		if (i && (mm->vmas[i - 1]->status & VMA_AREA_GUARD) && !(v->status & VMA_AREA_GUARD))
			return oc_error(-EINVAL, "mm-%d.img: VMA %zu comes after a guard region", t->pid, i);
	}
	return check_aio_rings(t);
}

/* Every page of the pagemap inside some private VMA (runs may span VMAs). */
static int check_pagemap_vmas(const struct oc_imgset_task *t)
{
	const MmEntry *mm = t->mm;
	size_t v = 0;

	for (size_t i = 0; i < t->n_pagemap; i++) {
		const PagemapEntry *pe = t->pagemap[i];
		uint64_t end = pe->vaddr + oc_pagemap_entry_pages(pe) * OC_PAGE_SIZE;
		for (uint64_t a = pe->vaddr; a < end;) {
			while (v < mm->n_vmas && mm->vmas[v]->end <= a)
				v++;
			if (v == mm->n_vmas || mm->vmas[v]->start > a ||
			    !oc_vma_private(mm->vmas[v]->status, mm->vmas[v]->end))
				return oc_error(-EINVAL,
						"pagemap-%d.img: page 0x%" PRIx64 " is outside any private VMA", t->pid,
						a);
			a = MIN(end, mm->vmas[v]->end);
		}
	}
	return 0;
}

/* fds: no number twice; each names a file object of its own type. */
static int check_fds(const struct oc_imgset *set, const struct oc_imgset_task *t, uint64_t fdinfo_id)
{
	for (size_t i = 0; i < t->n_fds; i++) {
		const FdinfoEntry *fd = t->fds[i];
		for (size_t j = 0; j < i; j++)
			if (t->fds[j]->fd == fd->fd)
				return oc_error(-EINVAL, "fdinfo-%" PRIu64 ".img: fd %u appears twice", fdinfo_id,
						fd->fd);
		const FileEntry *fe = oc_imgset_file(set, fd->id);
		if (!fe)
			return oc_error(-EINVAL,
					"fdinfo-%" PRIu64 ".img: fd %u refers to file %u, which files.img lacks",
					fdinfo_id, fd->fd, fd->id);
		if (fe->type != fd->type)
			return oc_error(-EINVAL, "fdinfo-%" PRIu64 ".img: fd %u has type %d but file %u is of type %d",
					fdinfo_id, fd->fd, fd->type, fe->id, fe->type);
	}
	return 0;
}

/* The exe, cwd, root and file mappings name file objects that exist. */
static int check_refs(const struct oc_imgset *set, const struct oc_imgset_task *t)
{
	if (!oc_imgset_file(set, t->mm->exe_file_id))
		return oc_error(-EINVAL, "mm-%d.img: executable file %u not in files.img", t->pid, t->mm->exe_file_id);
	if (!oc_imgset_file(set, t->fs->cwd_id) || !oc_imgset_file(set, t->fs->root_id))
		return oc_error(-EINVAL, "fs-%d.img: cwd or root not in files.img", t->pid);
	for (size_t i = 0; i < t->mm->n_vmas; i++) {
		const VmaEntry *v = t->mm->vmas[i];
		if ((v->status & VMA_AREA_REGULAR) &&
		    (v->status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED | VMA_AREA_SOCKET)) &&
		    !oc_imgset_file(set, v->shmid))
			return oc_error(-EINVAL, "mm-%d.img: VMA %zu maps file %" PRIu64 ", not in files.img", t->pid,
					i, v->shmid);
	}
	return 0;
}

static int load_task(struct oc_imgset *set, struct oc_imgset_task *t)
{
	int r = load_cores(set, t);

	if (r < 0 || t->zombie)
		return r;
	r = oc_imgset_read_one(set, OC_IMG_IDS, t->pid, false, &t->ids);
	if (r >= 0)
		r = oc_imgset_read_one(set, OC_IMG_MM, t->pid, false, &t->mm);
	if (r >= 0)
		r = oc_imgset_read_one(set, OC_IMG_FS, t->pid, false, &t->fs);
	if (r < 0)
		return r;
	r = check_vmas(t);
	if (r < 0)
		return r;
	/* fdinfo images are per file table since CRIU 3.x, per pid before */
	uint64_t fdinfo_id = set->inventory->has_fdinfo_per_id && set->inventory->fdinfo_per_id ? t->ids->files_id
												: (uint64_t)t->pid;
	r = oc_imgset_read_all(set, OC_IMG_FDINFO, fdinfo_id, true, &t->fds, &t->n_fds, NULL);
	if (r < 0)
		return r;
	r = check_fds(set, t, fdinfo_id);
	if (r < 0)
		return r;
	r = check_refs(set, t);
	if (r < 0)
		return r;
	r = oc_imgset_read_pagemap(set, OC_IMG_PAGEMAP, t->pid, &t->pagemap, &t->n_pagemap, &t->pages_id);
	if (r < 0)
		return r;
	return check_pagemap_vmas(t);
}

int oc_imgset_load(struct oc_imgdir *dir, struct oc_imgset *set)
{
	_cleanup_free_ PstreeEntry **pstree = NULL;
	size_t n;
	int r;

	*set = (struct oc_imgset){ .dir = dir };
	/* Without an inventory, a dump may have been cut short: say so. */
	ProtobufCMessage *inv;
	r = oc_img_read_inventory(dir, &inv);
	if (r >= 0)
		r = keep_msg(set, inv);
	if (r < 0)
		return r;
	set->inventory = (InventoryEntry *)inv;
	r = oc_imgset_read_all(set, OC_IMG_PSTREE, 0, false, &pstree, &n, NULL);
	if (r < 0)
		return r;
	if (n == 0)
		return oc_error(-EINVAL, "pstree.img: no tasks");
	set->tasks = calloc(n, sizeof(*set->tasks));
	if (!set->tasks)
		return -ENOMEM;
	set->n_tasks = n;
	for (size_t i = 0; i < n; i++) {
		set->tasks[i].pstree = pstree[i];
		set->tasks[i].pid = pstree[i]->pid;
	}
	r = check_tree(set);
	if (r < 0)
		return r;
	r = load_files(set);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = load_task(set, &set->tasks[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

void oc_imgset_fini(struct oc_imgset *set)
{
	for (size_t i = 0; i < set->n_tasks; i++) {
		free(set->tasks[i].cores);
		free(set->tasks[i].fds);
		free(set->tasks[i].pagemap);
	}
	free(set->tasks);
	free(set->files);
	free(set->files_by_id);
	for (size_t i = 0; i < set->n_msgs; i++)
		protobuf_c_message_free_unpacked(set->msgs[i], NULL);
	free(set->msgs);
	*set = (struct oc_imgset){ 0 };
}
