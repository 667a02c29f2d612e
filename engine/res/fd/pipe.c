// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Pipes: one PIPE file entry per open end, both ends sharing the pipe's
 * inode number as pipe_id, and the unread bytes of each pipe whose read end
 * is in the tree.  The bytes are copied with tee(), so they stay queued in
 * the task's pipe.  FIFOs (res/fifo.c) keep their bytes the same way.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "core/cleanup.h"
#include "core/error.h"

#include "fdinfo.pb-c.h"
#include "pipe-data.pb-c.h"
#include "pipe.pb-c.h"

static bool pipe_match(const struct oc_dump_fd *fd)
{
	return S_ISFIFO(fd->st.st_mode) && !strncmp(fd->link, "pipe:[", 6);
}

int oc_dump_pipe_data(struct oc_dump_ctx *ctx, enum oc_img_kind kind, int rd, uint32_t pipe_id)
{
	_cleanup_close_ int p0 = -1, p1 = -1;
	int p[2], size;
	ssize_t n;

	ProtobufCMessage **queued;
	size_t n_queued = oc_dump_queued(ctx, kind, &queued);
	for (size_t i = 0; i < n_queued; i++)
		if (((PipeDataEntry *)queued[i])->pipe_id == pipe_id)
			return 0;

	size = fcntl(rd, F_GETPIPE_SZ);
	if (size < 0)
		return oc_error_errno(-errno, "F_GETPIPE_SZ");
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return oc_error_errno(-errno, "pipe2");
	p0 = p[0];
	p1 = p[1];
	if (fcntl(p1, F_SETPIPE_SZ, size) < 0)
		return oc_error_errno(-errno, "F_SETPIPE_SZ %d", size);

	n = tee(rd, p1, INT_MAX, SPLICE_F_NONBLOCK);
	if (n < 0 && errno != EAGAIN)
		return oc_error_errno(-errno, "cannot copy the data queued in the pipe");
	if (n < 0)
		n = 0;

	uint8_t *buf = oc_arena_alloc(ctx->arena, n ? n : 1);
	if (!buf)
		return -ENOMEM;
	for (ssize_t done = 0; done < n;) {
		ssize_t m = read(p0, buf + done, n - done);
		if (m <= 0)
			return oc_error_errno(m < 0 ? -errno : -EIO, "reading copied pipe data");
		done += m;
	}

	PipeDataEntry *pd = OC_ARENA_MSG(ctx->arena, PipeDataEntry, PIPE_DATA_ENTRY__INIT);
	if (!pd)
		return -ENOMEM;
	pd->pipe_id = pipe_id;
	pd->bytes = n;
	pd->has_size = true;
	pd->size = size;

	return oc_dump_queue(ctx, kind, &pd->base, buf);
}

static int pipe_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	struct oc_arena *a = t->ctx->arena;
	FileEntry *fe = OC_ARENA_MSG(a, FileEntry, FILE_ENTRY__INIT);
	PipeEntry *pe = OC_ARENA_MSG(a, PipeEntry, PIPE_ENTRY__INIT);
	int r;

	if (!fe || !pe)
		return -ENOMEM;
	fe->type = FD_TYPES__PIPE;
	fe->id = pe->id = oc_dump_new_file_id(t->ctx);
	pe->pipe_id = fd->st.st_ino;
	pe->flags = fd->info.flags & ~O_CLOEXEC;
	r = oc_dump_fown(t->ctx, fd->local, &pe->fown);
	if (r < 0)
		return r;
	fe->pipe = pe;

	if ((pe->flags & O_ACCMODE) == O_RDONLY) {
		r = oc_dump_pipe_data(t->ctx, OC_IMG_PIPES_DATA, fd->local, pe->pipe_id);
		if (r < 0)
			return r;
	}
	r = oc_dump_add_file(t->ctx, fe);
	if (r < 0)
		return r;
	*ret_id = fe->id;
	return 0;
}

static int pipe_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd);

const struct oc_fd_kind oc_fd_kind_pipe = {
	.name = "pipe",
	.type = FD_TYPES__PIPE,
	.match = pipe_match,
	.dump = pipe_dump,
	.open = pipe_open,
	.images = { OC_IMG_PIPES_DATA },
	.n_images = 1,
};

/* ---- restore ------------------------------------------------------------ */

int oc_rst_fill_pipe(struct oc_rst_ctx *ctx, enum oc_img_kind kind, uint32_t pipe_id, int wr)
{
	const struct oc_rst_image *im = oc_rst_image(ctx, kind);

	for (size_t i = 0; i < im->n; i++) {
		PipeDataEntry *pd = (PipeDataEntry *)im->msgs[i];
		if (pd->pipe_id != pipe_id)
			continue;
		if (pd->has_size && fcntl(wr, F_SETPIPE_SZ, pd->size) < 0 && pd->bytes > 65536)
			return oc_error_errno(-errno, "pipe %u: cannot grow to %u bytes", pipe_id, pd->size);
		for (uint32_t done = 0; done < pd->bytes;) {
			ssize_t n = write(wr, im->payloads[i] + done, pd->bytes - done);
			if (n < 0)
				return oc_error_errno(-errno, "pipe %u: cannot refill its %u bytes", pipe_id,
						      pd->bytes);
			done += n;
		}
	}
	return 0;
}

/* A pipe the caller gives (--inherit-fd fd[N]:pipe:[INODE]): every end of
 * it in the tree is that fd, its queued bytes are the caller's business. */
static int open_inherited(struct oc_rst_files *files, PipeEntry *pe, int *ret_fd)
{
	char key[32];
	int fd;

	snprintf(key, sizeof(key), "pipe:[%u]", pe->pipe_id);
	fd = oc_rst_inherited_fd(files->ctx, key);
	if (fd < 0)
		return fd;
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot dup the inherited fd of %s", key);
	*ret_fd = fd;
	return 0;
}

static int pipe_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	struct oc_rst_ctx *ctx = files->ctx;
	PipeEntry *pe = fe->pipe;
	int(*fds)[2] = NULL;
	bool *handed_out = NULL;
	int r;

	if (!pe)
		return oc_error(-EINVAL, "files.img: file %u has no pipe entry", fe->id);
	r = open_inherited(files, pe, ret_fd);
	if (r != -ENOENT)
		return r;
	for (size_t i = 0; i < files->n_pipes; i++)
		if (files->pipes[i].pipe_id == pe->pipe_id) {
			fds = &files->pipes[i].fds;
			handed_out = files->pipes[i].handed_out;
		}

	if (!fds) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return oc_error_errno(-errno, "pipe2");
		for (int e = 0; e < 2; e++) {
			p[e] = oc_rst_high_fd(files, p[e]);
			if (p[e] < 0)
				return p[e];
		}
		r = oc_rst_fill_pipe(ctx, OC_IMG_PIPES_DATA, pe->pipe_id, p[1]);
		if (r < 0)
			return r;
		void *n = realloc(files->pipes, (files->n_pipes + 1) * sizeof(*files->pipes));
		if (!n)
			return -ENOMEM;
		files->pipes = n;
		files->pipes[files->n_pipes].pipe_id = pe->pipe_id;
		files->pipes[files->n_pipes].fds[0] = p[0];
		files->pipes[files->n_pipes].fds[1] = p[1];
		files->pipes[files->n_pipes].handed_out[0] = files->pipes[files->n_pipes].handed_out[1] = false;
		handed_out = files->pipes[files->n_pipes].handed_out;
		fds = &files->pipes[files->n_pipes++].fds;
	}

	int end = (pe->flags & O_ACCMODE) == O_WRONLY ? 1 : 0;
	int fd;
	if (!handed_out[end]) {
		/*
		 * The end itself, with its status flags set: an end reopened
		 * through /proc is a file of its own and, opened by a 64-bit
		 * task, gains O_LARGEFILE, which pipe() does not set.
		 */
		handed_out[end] = true;
		fd = fcntl((*fds)[end], F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return oc_error_errno(-errno, "cannot dup an end of pipe %u", pe->pipe_id);
		if (fcntl(fd, F_SETFL, pe->flags & (O_NONBLOCK | O_DIRECT | O_ASYNC | O_NOATIME)) < 0) {
			r = oc_error_errno(-errno, "pipe %u: cannot set flags 0%o", pe->pipe_id, pe->flags);
			close(fd);
			return r;
		}
	} else {
		/* Another open file of the same end. */
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", (*fds)[end]);
		fd = open(proc, (pe->flags & ~O_CLOEXEC) | O_CLOEXEC);
		if (fd < 0)
			return oc_error_errno(-errno, "cannot open an end of pipe %u", pe->pipe_id);
	}
	*ret_fd = fd;
	return 0;
}
