// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The file objects of a restore, opened once by the coordinator before the
 * tree is created (see struct oc_rst_files): every fd's file, every mapped
 * file, every task's executable and pages image, and shared memory.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restore/restore.h"
#include "res/fd/files.h"
#include "res/ns/ns.h"
#include "mem/mm.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#define PAGE_ALIGN(x) (((x) + OC_PAGE_SIZE - 1) & ~(OC_PAGE_SIZE - 1))

int oc_rst_high_fd(struct oc_rst_files *files, int fd)
{
	if (fd < 0)
		return fd;
	if (fd < files->helper_base) {
		int n = fcntl(fd, F_DUPFD_CLOEXEC, files->helper_base);
		int saved = errno;
		close(fd);
		if (n < 0)
			return oc_error(-saved, "cannot move fd %d above %d: %s", fd, files->helper_base,
					strerror(saved));
		fd = n;
	}
	int *f = realloc(files->fds, (files->n_fds + 1) * sizeof(*f));
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	files->fds = f;
	files->fds[files->n_fds++] = fd;
	return fd;
}

int oc_rst_open_file(struct oc_rst_files *files, uint32_t id, int *ret_fd)
{
	for (size_t i = 0; i < files->n_opened; i++)
		if (files->opened[i].file_id == id) {
			*ret_fd = files->opened[i].fd;
			return 0;
		}

	FileEntry *fe = oc_rst_find_file(files->ctx, id);
	if (!fe)
		return oc_error(-EINVAL, "files.img: no file %u", id);
	const struct oc_fd_kind *kind = oc_fd_kind_of(fe->type);
	if (!kind || !kind->open)
		return oc_error(-EOPNOTSUPP, "file %u is of a kind (%d) ocicr cannot restore yet", id, fe->type);
	int fd, r = kind->open(files, fe, &fd);
	if (r < 0)
		return r;
	return oc_rst_file_opened(files, id, fd, ret_fd);
}

int oc_rst_file_opened(struct oc_rst_files *files, uint32_t id, int fd, int *ret_fd)
{
	fd = oc_rst_high_fd(files, fd);
	if (fd < 0)
		return fd;
	void *n = realloc(files->opened, (files->n_opened + 1) * sizeof(*files->opened));
	if (!n)
		return -ENOMEM; /* @fd is in files->fds: closed at the end */
	files->opened = n;
	files->opened[files->n_opened].file_id = id;
	files->opened[files->n_opened++].fd = fd;
	if (ret_fd)
		*ret_fd = fd;
	return 0;
}

int oc_rst_fill_shmem(struct oc_rst_ctx *ctx, uint64_t shmid, uint8_t *map, uint64_t size)
{
	_cleanup_(oc_img_closep) struct oc_img *pages = NULL;
	_cleanup_free_ PagemapEntry **pm = NULL;
	uint32_t pages_id;
	size_t n;
	int r;

	r = oc_rst_read_shmem_pagemap(ctx, shmid, &pm, &n, &pages_id);
	if (r < 0)
		return r;
	if (!n)
		return 0;
	r = oc_img_open(ctx->dir, OC_IMG_PAGES, pages_id, &pages);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		uint64_t len = (pm[i]->has_nr_pages ? pm[i]->nr_pages : pm[i]->compat_nr_pages) * OC_PAGE_SIZE;
		if (pm[i]->vaddr > size || len > size - pm[i]->vaddr)
			return oc_error(-EINVAL,
					"pagemap-shmem-%" PRIu64 ".img: entry %zu beyond the object's "
					"%" PRIu64 " bytes",
					shmid, i, size);
		r = oc_img_read_raw(pages, map + pm[i]->vaddr, len);
		if (r < 0)
			return r;
	}
	return 0;
}

int oc_rst_shmem_fd(struct oc_rst_files *files, uint64_t inode_id, int *ret_fd)
{
	for (size_t i = 0; i < files->n_shmem; i++)
		if (files->shmem[i].inode_id == inode_id) {
			*ret_fd = files->shmem[i].fd;
			return 0;
		}
	MemfdInodeEntry *ie = oc_rst_find_memfd(files->ctx, inode_id);
	if (!ie)
		return oc_error(-EINVAL, "memfd.img: no inode %" PRIu64, inode_id);

	uint64_t size = PAGE_ALIGN(ie->size);
	bool anon = !strcmp(ie->name, "/dev/zero") || (ie->has_hugetlb_flag && !strcmp(ie->name, "/anon_hugepage"));
	int fd = -1, r;
	uint8_t *map;

	/* Huge TLB pages: MFD_HUGETLB and the page size bits (MAP_HUGE_* alike). */
	uint32_t huge = ie->has_hugetlb_flag ? ie->hugetlb_flag & (MFD_HUGETLB | MAP_HUGE_MASK << MAP_HUGE_SHIFT) : 0;
	if (anon) {
		/* Anonymous shared memory: a shmem object of its own kind,
		 * reached through map_files to get an fd for it. */
		int huge_map = huge ? MAP_HUGETLB | (huge & (MAP_HUGE_MASK << MAP_HUGE_SHIFT)) : 0;
		map = mmap(NULL, size ? size : OC_PAGE_SIZE, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS | huge_map, -1, 0);
		if (map == MAP_FAILED)
			return oc_error_errno(-errno, "cannot create shared memory of %" PRIu64 " bytes", size);
		char path[96];
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)map,
			 (unsigned long)map + (size ? size : OC_PAGE_SIZE));
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			r = oc_error_errno(-errno, "cannot open %s", path);
			munmap(map, size);
			return r;
		}
	} else {
		fd = memfd_create(ie->name, MFD_CLOEXEC | MFD_ALLOW_SEALING | huge);
		if (fd < 0)
			return oc_error_errno(-errno, "memfd_create(%s)", ie->name);
		if (ftruncate(fd, ie->size) < 0) {
			r = oc_error_errno(-errno, "memfd %s: cannot size to %" PRIu64, ie->name, ie->size);
			close(fd);
			return r;
		}
		map = size ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : NULL;
		if (map == MAP_FAILED) {
			r = oc_error_errno(-errno, "cannot map memfd %s", ie->name);
			close(fd);
			return r;
		}
	}
	r = oc_rst_fill_shmem(files->ctx, ie->shmid, map, size);
	if (map)
		munmap(map, size ? size : OC_PAGE_SIZE);
	if (r < 0) {
		close(fd);
		return r;
	}
	/* A memfd's owner first: fchown clears the set-id bits. */
	if (!anon && fchown(fd, oc_rst_uid(files->ctx, ie->uid), oc_rst_gid(files->ctx, ie->gid)) < 0)
		pr_debug("memfd %s: fchown: %m", ie->name);
	if (ie->has_mode && fchmod(fd, ie->mode & 07777) < 0)
		pr_debug("memfd %s: fchmod: %m", ie->name);
	/*
	 * Seals, now that it is filled.  F_SEAL_WRITE before the blob maps
	 * the object, so that its read-only shared mappings lose VM_MAYWRITE
	 * as the task's did (and the seal would fail after them).  But
	 * F_SEAL_FUTURE_WRITE after, as it spares writable mappings made
	 * before it; the blob adds it, and F_SEAL_SEAL then comes last.
	 * (Anonymous shared memory comes sealed, with F_SEAL_SEAL.)
	 */
	uint32_t late = ie->seals & F_SEAL_FUTURE_WRITE ? ie->seals & (F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) : 0;
	uint32_t now = ie->seals & ~late;
	if (!anon && now && fcntl(fd, F_ADD_SEALS, now) < 0) {
		r = oc_error_errno(-errno, "memfd %s: cannot add seals 0x%x", ie->name, now);
		close(fd);
		return r;
	}
	fd = oc_rst_high_fd(files, fd);
	if (fd < 0)
		return fd;
	if (!anon && late) {
		if (files->n_late_seals == OC_RST_MAX_LATE_SEALS)
			return oc_error(-EOPNOTSUPP, "more than %d memfds sealed with F_SEAL_FUTURE_WRITE",
					OC_RST_MAX_LATE_SEALS);
		files->late_seals[files->n_late_seals++] = (struct oc_rst_seal){ fd, late };
	}
	void *n = realloc(files->shmem, (files->n_shmem + 1) * sizeof(*files->shmem));
	if (!n)
		return -ENOMEM;
	files->shmem = n;
	files->shmem[files->n_shmem].inode_id = inode_id;
	files->shmem[files->n_shmem].handed_out = anon; /* not a memfd */
	files->shmem[files->n_shmem++].fd = fd;
	*ret_fd = fd;
	return 0;
}

int oc_rst_memfd_dup(struct oc_rst_files *files, uint64_t inode_id, int flags, int *ret_fd)
{
	int shm, r = oc_rst_shmem_fd(files, inode_id, &shm);

	if (r < 0)
		return r;
	for (size_t i = 0; i < files->n_shmem; i++) {
		if (files->shmem[i].fd != shm)
			continue;
		if ((flags & O_ACCMODE) != O_RDWR || files->shmem[i].handed_out)
			return -ENOENT;
		int fd = fcntl(shm, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return oc_error_errno(-errno, "cannot dup memfd inode %" PRIu64, inode_id);
		/* Only the status flags change (O_APPEND, O_NONBLOCK...). */
		if (fcntl(fd, F_SETFL, flags) < 0) {
			r = oc_error_errno(-errno, "memfd inode %" PRIu64 ": cannot set flags 0%o", inode_id, flags);
			close(fd);
			return r;
		}
		files->shmem[i].handed_out = true;
		*ret_fd = fd;
		return 0;
	}
	return -ENOENT;
}

/* The fd to map VMA @v from, or -1 for anonymous memory. */
static int vma_source_fd(struct oc_rst_files *files, const VmaEntry *v, int *ret_fd)
{
	int fd, r;

	*ret_fd = -1;
	if (!(v->status & VMA_AREA_REGULAR) || (v->status & (VMA_AREA_VDSO | VMA_AREA_VVAR)))
		return 0;
	if (v->status & VMA_AREA_MEMFD) {
		FileEntry *fe = oc_rst_find_file(files->ctx, v->shmid);
		if (!fe || !fe->memfd)
			return oc_error(-EINVAL, "VMA %" PRIx64 ": memfd file %" PRIu64 " missing", v->start, v->shmid);
		return oc_rst_shmem_fd(files, fe->memfd->inode_id, ret_fd);
	}
	if (v->status & VMA_AREA_SOCKET)
		return oc_packet_rst_map_fd(files, v, ret_fd);
	/* Attached again by the restorer (CRIU marks it anonymous shared too). */
	if (v->status & VMA_AREA_SYSVIPC)
		return 0;
	if (v->status & VMA_ANON_SHARED)
		return oc_error(-EOPNOTSUPP,
				"VMA %" PRIx64 ": anonymous shared memory in the pre-memfd form "
				"is not supported yet",
				v->start);
	if (!(v->status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)))
		return 0;
	FileEntry *fe = oc_rst_find_file(files->ctx, v->shmid);
	if (!fe || fe->type != FD_TYPES__REG)
		return oc_error(-EINVAL, "VMA %" PRIx64 ": file %" PRIu64 " missing", v->start, v->shmid);
	int flags = v->has_fdflags ? v->fdflags
				   : ((v->status & VMA_FILE_SHARED) && (v->prot & PROT_WRITE) ? O_RDWR : O_RDONLY);
	r = oc_rst_open_reg(files, fe, flags, &fd);
	if (r < 0)
		return oc_error_wrap(r, "mapping at 0x%" PRIx64, v->start);
	fd = oc_rst_high_fd(files, fd);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

static int open_task(struct oc_rst_files *files, struct oc_rst_task *t)
{
	struct oc_rst_ctx *ctx = files->ctx;
	int fd, r;

	t->vma_fds = calloc(t->mm->n_vmas ? t->mm->n_vmas : 1, sizeof(int));
	if (!t->vma_fds)
		return -ENOMEM;
	/* AIO rings get their tails back with writes that complete at once. */
	t->aio_null_fd = -1;
	if (t->mm->n_aios) {
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return oc_error_errno(-errno, "task %d: cannot open /dev/null for its AIO rings", t->pid);
		t->aio_null_fd = oc_rst_high_fd(files, fd);
		if (t->aio_null_fd < 0)
			return t->aio_null_fd;
	}
	for (size_t i = 0; i < t->mm->n_vmas; i++) {
		r = vma_source_fd(files, t->mm->vmas[i], &t->vma_fds[i]);
		if (r < 0)
			return oc_error_wrap(r, "task %d", t->pid);
	}
	FileEntry *exe = oc_rst_find_file(ctx, t->mm->exe_file_id);
	r = oc_rst_open_reg(files, exe, O_RDONLY, &fd);
	if (r < 0)
		return oc_error_wrap(r, "executable of task %d", t->pid);
	t->exe_fd = oc_rst_high_fd(files, fd);
	if (t->exe_fd < 0)
		return t->exe_fd;
	/* A working directory that was removed is made again here, as a
	 * ghost, before it goes: the agent enters it through its fd. */
	FileEntry *cwd = oc_rst_find_file(ctx, t->fs->cwd_id);
	const char *cwd_path;
	if (cwd && cwd->reg && oc_rst_find_remap(ctx, cwd->id) && (r = oc_rst_reg_path(files, cwd, &cwd_path)) < 0)
		return oc_error_wrap(r, "working directory of task %d", t->pid);

	_cleanup_(oc_img_closep) struct oc_img *pages = NULL;
	t->pages_fd = -1;
	r = oc_img_open(ctx->dir, OC_IMG_PAGES, t->pages_id, &pages);
	if (r == -ENOENT)
		return 0; /* no pages: load checked that none are listed */
	if (r < 0)
		return r;
	t->pages_fd = oc_rst_high_fd(files, dup(oc_img_fd(pages)));
	return t->pages_fd < 0 ? t->pages_fd : 0;
}

int oc_rst_open_fd_file(struct oc_rst_files *files, uint32_t id)
{
	struct oc_rst_ctx *ctx = files->ctx;
	int fd, r;

	r = oc_rst_open_file(files, id, &fd);
	if (r >= 0)
		return 0;
	/* Name the first fd that uses it. */
	for (size_t i = 0; i < ctx->n_tasks; i++)
		for (size_t j = 0; j < ctx->tasks[i].n_fds; j++)
			if (ctx->tasks[i].fds[j]->id == id)
				return oc_error_wrap(r, "task %d fd %u", ctx->tasks[i].pid, ctx->tasks[i].fds[j]->fd);
	return r;
}

int oc_rst_open_sources(struct oc_rst_files *files)
{
	struct oc_rst_ctx *ctx = files->ctx;
	int r;

	for (size_t i = 0; i < ctx->n_tasks; i++) {
		if (ctx->tasks[i].zombie)
			continue;
		r = open_task(files, &ctx->tasks[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

int oc_rst_files_begin(struct oc_rst_files *files)
{
	struct oc_rst_ctx *ctx = files->ctx;
	struct rlimit nofile;
	uint32_t max_fd = 2;

	/* Above every fd of every task, and room for all of ours. */
	for (size_t i = 0; i < ctx->n_tasks; i++)
		for (size_t j = 0; j < ctx->tasks[i].n_fds; j++)
			max_fd = MAX(max_fd, ctx->tasks[i].fds[j]->fd);
	files->helper_base = max_fd + 1;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}

	files->ctty_fd = -1;
	if (ctx->opts->shell_job) {
		/* The job gets the terminal of the shell that restores it. */
		int tty = isatty(0) ? dup(0) : open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (tty >= 0)
			files->ctty_fd = oc_rst_high_fd(files, tty);
	}
	return 0;
}

/* Remove the ghosts and the directories made for them, in the mount
 * namespace they were made in: under --root that is the tree's, and the
 * same path in ocicr's own may be another file (the host's). */
static void remove_ghosts(struct oc_rst_files *files)
{
	_cleanup_close_ int own = -1, cwd = -1;
	int made_in = files->ghost_mntns_fd1 - 1;
	struct stat a, b;
	bool moved = false;

	if (made_in >= 0 && (fstat(made_in, &a) < 0 || stat("/proc/thread-self/ns/mnt", &b) < 0 ||
			     a.st_ino != b.st_ino || a.st_dev != b.st_dev)) {
		own = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
		cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (own < 0 || cwd < 0 || setns(made_in, CLONE_NEWNS) < 0) {
			/* It dies with the tree's last task anyway. */
			pr_warn("cannot enter the tree's mount namespace to remove %zu removed files made again: %s",
				files->n_ghost_paths, strerror(errno));
			return;
		}
		moved = true;
	}
	for (size_t i = 0; i < files->n_ghost_paths; i++)
		oc_rst_ghost_remove(files->ghost_paths[i]);
	/* Innermost first: each was empty but for the ghosts. */
	for (size_t i = files->n_ghost_parents; i-- > 0;)
		rmdir(files->ghost_parents[i]);
	/* Staying in the tree's namespace would be worse than failing. */
	if (moved && (setns(own, CLONE_NEWNS) < 0 || fchdir(cwd) < 0))
		abort();
}

void oc_rst_files_fini(struct oc_rst_files *files)
{
	oc_fd_kinds_fini(files);
	remove_ghosts(files);
	for (size_t i = 0; i < files->n_ghost_paths; i++)
		free(files->ghost_paths[i]);
	free(files->ghost_paths);
	for (size_t i = 0; i < files->n_ghost_parents; i++)
		free(files->ghost_parents[i]);
	free(files->ghost_parents);
	if (files->ghost_mntns_fd1)
		close(files->ghost_mntns_fd1 - 1);
	files->ghost_mntns_fd1 = 0;
	free(files->ghost_fds); /* closed with files->fds */
	free(files->opened);
	free(files->pipes);
	free(files->shmem);
	/* The tree has its copies; ours go. */
	for (size_t i = 0; i < files->n_fds; i++)
		close(files->fds[i]);
	free(files->fds);
	memset(files, 0, sizeof(*files));
}
