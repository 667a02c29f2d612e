// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pidfds (pidfd_open(2)) of tasks of the tree, in CRIU 4.2's pidfd_entry:
 * the task's pid as the tree sees it, and the file's flags.
 *
 * fdinfo's Pid line names the task in our pid namespace, NSpid in each
 * namespace down to the task's own.  A pidfd of a task outside the tree
 * could name another process after the restore: it fails the dump by name.
 * One of a process that has exited (Pid -1) is saved as CRIU does, with
 * nspid -1 and the pidfs inode, which tells which such pidfds named one
 * process.
 *
 * The restore opens a live one with pidfd_open() in the task that holds
 * it, as it installs its fds (restore/plan.c), once the task it names
 * exists: the coordinator opens files before any task is made.  Dead ones
 * are opened by the coordinator on a helper child it kills and reaps
 * right after: all pidfds of one dead process come from one helper, so
 * that they still name one process (one inode) between them.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "core/cleanup.h"
#include "core/error.h"

#include "pidfd.pb-c.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
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
	/* As CRIU: a pidfd of one thread would name the whole process. */
	if (fd->info.flags & PIDFD_THREAD)
		return oc_error(-EOPNOTSUPP, "a pidfd of a thread (PIDFD_THREAD), which ocicr cannot dump yet");
	const struct oc_dump_task *of = NULL;
	for (size_t i = 0; i < ctx->n_tasks && !of && pid != -1; i++)
		if (ctx->tasks[i].pid == pid)
			of = &ctx->tasks[i];
	if (!of && pid != -1)
		return oc_error(-EOPNOTSUPP, "a pidfd of process %d, which is not in the dumped tree", pid);
	r = oc_dump_file_begin(t, fd, FD_TYPES__PIDFD, &e->id, &e->flags, &e->fown, &fe);
	if (r < 0)
		return r;
	/* As CRIU: no access mode (its restore hands the flags to pidfd_open()). */
	e->flags &= ~O_ACCMODE;
	e->ino = fd->st.st_ino;
	e->nspid = of ? of->vpid : -1;
	fe->pidfd = e;
	return oc_dump_file_end(t, fe, ret_id);
}

/* ---- restore ------------------------------------------------------------ */

/* A pidfd of @pid with the flags of @e. */
static int open_pidfd(const PidfdEntry *e, pid_t pid, int *ret_fd)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, e->flags & PIDFD_NONBLOCK);

	if (fd < 0)
		return oc_error_errno(-errno, "pidfd_open(%d)", pid);
	int r = oc_rst_set_status_flags(fd, e->flags);
	if (r < 0) {
		close(fd);
		return oc_error_wrap(r, "pidfd %u", e->id);
	}
	*ret_fd = fd;
	return 0;
}

/* A child that only waits to be killed. */
static void helper_kill(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGKILL);
	while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/*
 * Every pidfd of the dead process @e names: opened on one helper child,
 * which is then killed and reaped.  The other entries' pidfds are handed
 * to the files opened, @fe's is returned.
 */
static int open_dead(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	struct oc_rst_ctx *ctx = files->ctx;
	_cleanup_(helper_kill) pid_t helper = fork();
	int r;

	if (helper < 0)
		return oc_error_errno(-errno, "cannot fork a process to make the pidfd of a dead one from");
	if (helper == 0)
		for (;;)
			pause();
	for (size_t i = 0; i < ctx->n_files; i++) {
		FileEntry *o = ctx->files[i];
		int fd;
		if (o == fe || o->type != FD_TYPES__PIDFD || !o->pidfd || o->pidfd->nspid != -1 ||
		    o->pidfd->ino != fe->pidfd->ino)
			continue;
		r = open_pidfd(o->pidfd, helper, &fd);
		if (r >= 0)
			r = oc_rst_file_opened(files, o->id, fd, NULL);
		if (r < 0)
			return r;
	}
	return open_pidfd(fe->pidfd, helper, ret_fd);
}

static int pidfd_open_file(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	PidfdEntry *e = fe->pidfd;

	if (!e)
		return oc_error(-EINVAL, "files.img: file %u has no pidfd entry", fe->id);
	if (e->nspid == -1)
		return open_dead(files, fe, ret_fd);
	if (e->nspid <= 0)
		return oc_error(-EOPNOTSUPP, "pidfd %u names pid %d, which ocicr cannot restore", fe->id, e->nspid);
	return open_pidfd(e, e->nspid, ret_fd);
}

const struct oc_fd_kind oc_fd_kind_pidfd = {
	.name = "pidfd",
	.type = FD_TYPES__PIDFD,
	.match = pidfd_match,
	.dump = pidfd_dump,
	.open = pidfd_open_file,
};
