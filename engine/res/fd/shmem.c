// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Shared memory objects: MAP_SHARED|MAP_ANONYMOUS regions and memfds.  Both
 * are shmem files; CRIU 4.2 saves them alike as a memfd inode (memfd.img)
 * whose contents go to pagemap-shmem-INO.img, and one MEMFD file entry that
 * mappings and fds refer to.  An object shared by several tasks is saved
 * once.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "res/dump.h"
#include "res/ns/ns.h"
#include "mem/mm.h"
#include "mem/pages.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "fdinfo.pb-c.h"
#include "fown.pb-c.h"
#include "memfd.pb-c.h"
#include "vma.pb-c.h"

static int dump_shmem_contents(struct oc_dump_ctx *ctx, int task_fd, uint64_t ino, uint64_t size)
{
	struct oc_pages_writer w;
	_cleanup_close_ int fd = -1;
	char path[64];
	int r;

	/*
	 * An open file of our own: @task_fd may be a copy of the task's fd
	 * (pidfd_getfd), whose file offset SEEK_DATA/SEEK_HOLE would move.
	 */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", task_fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "shared memory %" PRIu64 ": cannot reopen it", ino);

	r = oc_pages_writer_open(ctx, OC_IMG_SHMEM_PAGEMAP, ino, &w);
	if (r < 0)
		goto out;
	w.mem_fd = dup(fd);
	if (w.mem_fd < 0) {
		r = -errno;
		goto out;
	}
	w.zero_past_eof = true;
	/* Only the ranges that hold data: holes read back as zeros anyway. */
	for (off_t pos = 0; pos < (off_t)size;) {
		off_t data = lseek(fd, pos, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break;
			r = oc_error_errno(-errno, "shared memory %" PRIu64 ": SEEK_DATA", ino);
			goto out;
		}
		off_t hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0) {
			r = oc_error_errno(-errno, "shared memory %" PRIu64 ": SEEK_HOLE", ino);
			goto out;
		}
		data &= ~(off_t)(OC_PAGE_SIZE - 1);
		hole = MIN((uint64_t)(hole + OC_PAGE_SIZE - 1) & ~(OC_PAGE_SIZE - 1),
			   (size + OC_PAGE_SIZE - 1) & ~(OC_PAGE_SIZE - 1));
		if (hole > data) {
			r = oc_pages_writer_add(&w, data, data, (hole - data) / OC_PAGE_SIZE);
			if (r < 0)
				goto out;
		}
		pos = hole;
	}
	r = oc_pages_writer_commit(&w);
	ctx->shpages_written += w.pages_written;
out:
	oc_pages_writer_close(&w);
	return r;
}

/*
 * The MEMFD file entry for the shmem object behind @fd (opened from
 * map_files or pidfd_getfd), creating its inode entry and saving its
 * contents the first time.  @name is the memfd name ("/dev/zero" for
 * anonymous shared memory).
 */
int oc_dump_shmem_file(struct oc_dump_task *t, int fd, const char *name, uint32_t flags, uint64_t pos,
		       uint32_t *ret_file_id)
{
	struct oc_dump_ctx *ctx = t->ctx;
	struct oc_arena *a = ctx->arena;
	MemfdInodeEntry *ie = NULL;
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return oc_error_errno(-errno, "cannot stat shared memory object");
	ProtobufCMessage **inodes;
	size_t n_inodes = oc_dump_queued(ctx, OC_IMG_MEMFD_INODE, &inodes);
	for (size_t i = 0; i < n_inodes; i++)
		if (((MemfdInodeEntry *)inodes[i])->shmid == st.st_ino)
			ie = (MemfdInodeEntry *)inodes[i];

	if (!ie) {
		ie = OC_ARENA_MSG(a, MemfdInodeEntry, MEMFD_INODE_ENTRY__INIT);
		if (!ie)
			return -ENOMEM;
		ie->name = oc_arena_strdup(a, name);
		ie->uid = oc_dump_uid(ctx, st.st_uid);
		ie->gid = oc_dump_gid(ctx, st.st_gid);
		ie->size = st.st_size;
		ie->shmid = st.st_ino;
		int seals = fcntl(fd, F_GET_SEALS);
		ie->seals = seals < 0 ? F_SEAL_SEAL : seals;
		ie->inode_id = ++ctx->next_memfd_inode_id;
		ie->has_mode = true;
		ie->mode = st.st_mode;
		uint32_t huge = oc_hugetlb_size_bits(fd); /* as CRIU: for memfd_create() */
		ie->has_hugetlb_flag = huge != 0;
		ie->hugetlb_flag = huge ? huge | MFD_HUGETLB : 0;
		if (!ie->name)
			return -ENOMEM;
		r = oc_dump_queue(ctx, OC_IMG_MEMFD_INODE, &ie->base, NULL);
		if (r < 0)
			return r;
		r = dump_shmem_contents(ctx, fd, st.st_ino, st.st_size);
		if (r < 0)
			return oc_error_wrap(r, "shared memory %s (inode %" PRIu64 ")", name, (uint64_t)st.st_ino);
	}

	FileEntry *fe = OC_ARENA_MSG(a, FileEntry, FILE_ENTRY__INIT);
	MemfdFileEntry *mf = OC_ARENA_MSG(a, MemfdFileEntry, MEMFD_FILE_ENTRY__INIT);
	FownEntry *fown = OC_ARENA_MSG(a, FownEntry, FOWN_ENTRY__INIT);
	if (!fe || !mf || !fown)
		return -ENOMEM;
	fe->type = FD_TYPES__MEMFD;
	fe->id = mf->id = oc_dump_new_file_id(ctx);
	mf->flags = flags;
	mf->pos = pos;
	mf->fown = fown;
	mf->inode_id = ie->inode_id;
	fe->memfd = mf;
	r = oc_dump_add_file(ctx, fe);
	if (r < 0)
		return r;
	*ret_file_id = fe->id;
	return 0;
}

int oc_dump_shmem_vma(struct oc_dump_task *t, const struct oc_proc_vma *v, VmaEntry *ve)
{
	_cleanup_close_ int fd = -1;
	char path[96];
	const char *name = "/dev/zero";
	int r;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, t->pid, v->start, v->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot open shared mapping %" PRIx64 "-%" PRIx64, v->start, v->end);
	if (!strncmp(v->path, "/memfd:", 7))
		name = v->path + 7;
	else if (!strcmp(v->path, "/anon_hugepage")) /* of huge pages: CRIU's name */
		name = v->path;

	uint32_t id;
	r = oc_dump_shmem_file(t, fd, name, O_RDWR | O_LARGEFILE, 0, &id);
	if (r < 0)
		return r;
	ve->shmid = id;
	ve->status |= (v->shared ? VMA_FILE_SHARED : VMA_FILE_PRIVATE) | VMA_AREA_MEMFD;
	ve->flags = v->shared ? MAP_SHARED : MAP_PRIVATE;
	ve->pgoff = v->pgoff;
	ve->has_fdflags = true;
	ve->fdflags = O_RDWR;
	return 0;
}
