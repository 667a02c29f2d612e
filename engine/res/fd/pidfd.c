// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pidfds (pidfd_open(2)) of tasks of the tree, in CRIU 4.2's pidfd_entry:
 * the task's pid as the tree sees it, and the file's flags.
 *
 * fdinfo's Pid line names the task in our pid namespace, NSpid in each
 * namespace down to the task's own.  A pidfd of a task outside the tree
 * could name another process after the restore, and one of a task that
 * is gone needs a process to make it from: both fail the dump by name.
 *
 * The restore opens it with pidfd_open() in the task that holds it, as it
 * installs its fds (restore/plan.c), once the task it names exists: the
 * coordinator opens files before any task is made.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "core/error.h"

#include "pidfd.pb-c.h"

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

static bool pidfd_match(const struct oc_dump_fd *fd)
{
	/* anon_inode:[pidfd], or pidfd:[INO] where pidfs is the pidfds' own */
	return oc_fd_is_anon(fd, "[pidfd]") || !strncmp(fd->link, "pidfd:", 6);
}

static int pidfd_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	struct oc_dump_ctx *ctx = t->ctx;
	PidfdEntry *e = OC_ARENA_MSG(ctx->arena, PidfdEntry, PIDFD_ENTRY__INIT);
	pid_t pid = fd->info.pidfd_pid;
	FileEntry *fe;
	int r;

	if (!e)
		return -ENOMEM;
	if (!fd->info.has_pidfd)
		return oc_error(-EINVAL, "a pidfd whose fdinfo has no Pid line");
	if (pid == -1)
		return oc_error(-EOPNOTSUPP, "a pidfd of a process that has exited, which ocicr cannot restore yet");
	const struct oc_dump_task *of = NULL;
	for (size_t i = 0; i < ctx->n_tasks && !of; i++)
		if (ctx->tasks[i].pid == pid)
			of = &ctx->tasks[i];
	if (!of)
		return oc_error(-EOPNOTSUPP, "a pidfd of process %d, which is not in the dumped tree", pid);
	r = oc_dump_file_begin(t, fd, FD_TYPES__PIDFD, &e->id, &e->flags, &e->fown, &fe);
	if (r < 0)
		return r;
	e->ino = fd->st.st_ino;
	e->nspid = of->vpid;
	fe->pidfd = e;
	return oc_dump_file_end(t, fe, ret_id);
}

/* ---- restore ------------------------------------------------------------ */

static int pidfd_open_file(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	PidfdEntry *e = fe->pidfd;
	int fd, r;

	if (!e)
		return oc_error(-EINVAL, "files.img: file %u has no pidfd entry", fe->id);
	if (e->nspid <= 0)
		return oc_error(-EOPNOTSUPP, "pidfd %u names pid %d, which ocicr cannot restore", fe->id, e->nspid);
	fd = (int)syscall(SYS_pidfd_open, e->nspid, e->flags & PIDFD_NONBLOCK);
	if (fd < 0)
		return oc_error_errno(-errno, "pidfd_open(%d)", e->nspid);
	r = oc_rst_set_status_flags(fd, e->flags);
	if (r < 0) {
		close(fd);
		return oc_error_wrap(r, "pidfd %u", fe->id);
	}
	*ret_fd = fd;
	return 0;
}

const struct oc_fd_kind oc_fd_kind_pidfd = {
	.name = "pidfd",
	.type = FD_TYPES__PIDFD,
	.match = pidfd_match,
	.dump = pidfd_dump,
	.open = pidfd_open_file,
};
