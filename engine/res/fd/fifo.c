// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * FIFOs (named pipes).  As CRIU does, an open FIFO is two file entries: a
 * REG entry that only carries the path, open flags and owner, and a FIFO
 * entry naming it (regf_id) with the FIFO's inode as pipe_id.  The unread
 * bytes go to fifo-data.img once per FIFO, copied with tee() like a pipe's.
 *
 * Restore opens the path once per entry in the coordinator.  Opening a
 * FIFO for reading or writing alone waits for the other side, so a
 * read-write descriptor is opened first and held while the entry's own
 * descriptor is opened; the first entry of each FIFO refills its bytes
 * through it.  The tree's descriptors keep the pipe (and its bytes) alive.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "core/cleanup.h"
#include "core/error.h"

#include "fifo.pb-c.h"
#include "regfile.pb-c.h"

#define DELETED_SUFFIX " (deleted)"

static bool fifo_match(const struct oc_dump_fd *fd)
{
	return S_ISFIFO(fd->st.st_mode) && fd->link[0] == '/';
}

/* The bytes waiting in the FIFO, read through a reader of our own if the
 * task's descriptor only writes. */
static int dump_fifo_data(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t pipe_id)
{
	_cleanup_close_ int rd = -1;
	char proc[64];

	if ((fd->info.flags & O_ACCMODE) != O_WRONLY)
		return oc_dump_pipe_data(t->ctx, OC_IMG_FIFO_DATA, fd->local, pipe_id);
	/* A reader opened through /proc never waits: the task is a writer. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd->local);
	rd = open(proc, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (rd < 0)
		return oc_error_errno(-errno, "cannot open a reader of the FIFO to copy its bytes");
	return oc_dump_pipe_data(t->ctx, OC_IMG_FIFO_DATA, rd, pipe_id);
}

static int fifo_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	struct oc_dump_ctx *ctx = t->ctx;
	struct oc_arena *a = ctx->arena;
	FileEntry *rfe = OC_ARENA_MSG(a, FileEntry, FILE_ENTRY__INIT);
	RegFileEntry *rf = OC_ARENA_MSG(a, RegFileEntry, REG_FILE_ENTRY__INIT);
	FileEntry *fe = OC_ARENA_MSG(a, FileEntry, FILE_ENTRY__INIT);
	FifoEntry *ff = OC_ARENA_MSG(a, FifoEntry, FIFO_ENTRY__INIT);
	size_t len = strlen(fd->link), slen = strlen(DELETED_SUFFIX);
	int r;

	if (!rfe || !rf || !fe || !ff)
		return -ENOMEM;
	/* A FIFO whose name was removed is remade from a ghost at restore. */
	bool removed = len > slen && !strcmp(fd->link + len - slen, DELETED_SUFFIX);

	/* The path, flags and owner, as a REG entry no fd refers to. */
	rfe->type = FD_TYPES__REG;
	rfe->id = rf->id = oc_dump_new_file_id(ctx);
	rf->flags = fd->info.flags & ~O_CLOEXEC;
	rf->name = oc_arena_strdup(a, fd->link);
	rf->has_mode = true;
	rf->mode = fd->st.st_mode;
	if (!rf->name)
		return -ENOMEM;
	if (removed)
		rf->name[len - slen] = '\0';
	r = oc_dump_fown(t->ctx, fd->local, &rf->fown);
	if (r < 0)
		return r;
	if (removed && (r = oc_dump_ghost(ctx, rfe->id, fd->local, &fd->st)) < 0)
		return oc_error_wrap(r, "%s", rf->name);
	rfe->reg = rf;
	r = oc_dump_add_file(ctx, rfe);
	if (r < 0)
		return r;

	fe->type = FD_TYPES__FIFO;
	fe->id = ff->id = oc_dump_new_file_id(ctx);
	ff->pipe_id = fd->st.st_ino;
	ff->has_regf_id = true;
	ff->regf_id = rfe->id;
	fe->fifo = ff;
	r = dump_fifo_data(t, fd, ff->pipe_id);
	if (r < 0)
		return r;
	r = oc_dump_add_file(ctx, fe);
	if (r < 0)
		return r;
	*ret_id = fe->id;
	return 0;
}

static int fifo_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd);

const struct oc_fd_kind oc_fd_kind_fifo = {
	.name = "FIFO",
	.type = FD_TYPES__FIFO,
	.match = fifo_match,
	.dump = fifo_dump,
	.open = fifo_open,
	.images = { OC_IMG_FIFO_DATA },
	.n_images = 1,
};

/* ---- restore ------------------------------------------------------------ */

/* Does entry @fe refill the FIFO's bytes?  The first of its FIFO does. */
static bool fills_data(struct oc_rst_ctx *ctx, const FileEntry *fe)
{
	for (size_t i = 0; i < ctx->n_files; i++) {
		const FileEntry *o = ctx->files[i];
		if (o->type == FD_TYPES__FIFO && o->fifo && o->fifo->pipe_id == fe->fifo->pipe_id)
			return o == fe;
	}
	return false;
}

static int fifo_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	struct oc_rst_ctx *ctx = files->ctx;
	_cleanup_close_ int rw = -1, fd = -1;
	struct stat st;
	int r;

	if (!fe->fifo)
		return oc_error(-EINVAL, "files.img: file %u has no fifo entry", fe->id);
	FileEntry *rfe = oc_rst_find_file(ctx, fe->fifo->has_regf_id ? fe->fifo->regf_id : fe->id);
	if (!rfe || !rfe->reg)
		return oc_error(-EINVAL, "files.img: FIFO %u lacks the REG entry with its path", fe->id);
	const RegFileEntry *rf = rfe->reg;
	const char *path;

	/* Its name, or the ghost made for a FIFO whose name was removed. */
	r = oc_rst_reg_path(files, rfe, &path);
	if (r < 0)
		return r;
	if (lstat(path, &st) < 0 && errno == ENOENT) {
		/* Gone since the dump: a FIFO is only a name, make it again. */
		if (mkfifo(path, rf->has_mode ? rf->mode & 07777 : 0600) < 0)
			return oc_error_errno(-errno, "cannot recreate FIFO %s", rf->name);
	} else if (lstat(path, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		return oc_error(-ESTALE, "%s is no longer a FIFO", rf->name);
	}

	rw = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (rw < 0)
		return oc_error_errno(-errno, "cannot open FIFO %s", rf->name);
	/* With @rw open, neither a reader nor a writer waits. */
	fd = open(path, (rf->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot open FIFO %s", rf->name);
	if (!(rf->flags & O_NONBLOCK) && fcntl(fd, F_SETFL, rf->flags & ~(O_NONBLOCK | O_ACCMODE)) < 0)
		return oc_error_errno(-errno, "FIFO %s: cannot set its flags", rf->name);
	if (fills_data(ctx, fe)) {
		r = oc_rst_fill_pipe(ctx, OC_IMG_FIFO_DATA, fe->fifo->pipe_id, rw);
		if (r < 0)
			return oc_error_wrap(r, "FIFO %s", rf->name);
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}
