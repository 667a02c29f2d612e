// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * File locks: flock, POSIX (fcntl) record locks and OFD locks, in
 * filelocks.img as CRIU writes them: kind (FL_*), type (F_RDLCK, F_WRLCK),
 * the task that takes the lock back at restore, the fd it takes it through,
 * and the range (len 0: to the end of the file).
 *
 * Dump reads each fd's fdinfo "lock:" lines.  The kernel lists a lock there
 * when it was taken through that open file description and belongs to it
 * (flock, OFD) or to the task's fd table (POSIX), so a flock or OFD lock
 * shows on every fd sharing the description, in every task: it is saved
 * once, for the first task and fd found.  A POSIX lock shows only in the
 * task that holds it.  Without --file-locks a lock fails the dump, as in
 * CRIU.
 *
 * A lease (F_SETLEASE) belongs to its open file description too.  As CRIU
 * writes it, its type is the lease's (F_RDLCK, F_WRLCK); a lease being
 * broken (a conflicting open waits for it) has the type it is broken to,
 * F_GETLEASE's answer (F_RDLCK or F_UNLCK), with LEASE_BREAKING added.
 *
 * Restore takes each lock in its task, once the task's fds are installed.
 * A lease being broken is taken as it was before and broken again by an
 * open of ours that does not wait (the opener that waited is gone).
 * A POSIX lock is dropped when its process closes any fd of the file, and
 * the restorer closes every helper fd at its end: the helper copies of a
 * POSIX-locked file are put out of the way first.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "core/cleanup.h"
#include "core/error.h"

#include "file-lock.pb-c.h"

/* CRIU's lock kinds (criu/include/file-lock.h). */
enum {
	FL_POSIX = 1,
	FL_FLOCK = 2,
	FL_OFD = 4,
	FL_LEASE = 8,
};

/* In a lease's type: it is being broken (criu/include/file-lock.h). */
#define LEASE_BREAKING 4

static const uint32_t lock_flags[OC_LOCK_KIND_MAX] = {
	[OC_LOCK_POSIX] = FL_POSIX,
	[OC_LOCK_FLOCK] = FL_FLOCK,
	[OC_LOCK_OFD] = FL_OFD,
	[OC_LOCK_LEASE] = FL_LEASE,
};

static const char *const lock_names[OC_LOCK_KIND_MAX] = {
	[OC_LOCK_POSIX] = "POSIX",     [OC_LOCK_FLOCK] = "flock",      [OC_LOCK_OFD] = "OFD",
	[OC_LOCK_LEASE] = "lease",     [OC_LOCK_DELEG] = "delegation", [OC_LOCK_ACCESS] = "access",
	[OC_LOCK_UNKNOWN] = "unknown",
};

/* The type of a lease as CRIU saves it (see above). */
static int lease_type(const struct oc_dump_fd *fd, const struct oc_proc_lock *l, uint32_t *ret)
{
	if (l->mode == OC_LOCK_ACTIVE && l->type != OC_LOCK_UNLCK) {
		*ret = l->type == OC_LOCK_WRITE ? F_WRLCK : F_RDLCK;
		return 0;
	}
	if (l->mode != OC_LOCK_BREAKING)
		return oc_error(-EOPNOTSUPP, "holds a lease in a state ocicr cannot dump");
	int target = fcntl(fd->local, F_GETLEASE);
	if (target < 0)
		return oc_error_errno(-errno, "cannot read the type of the lease being broken");
	*ret = target | LEASE_BREAKING;
	return 0;
}

/* The file id of fd @fd of dumped task @pid, or 0. */
static uint32_t file_of(struct oc_dump_ctx *ctx, pid_t pid, int fd)
{
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct oc_dump_task *t = &ctx->tasks[i];
		if (t->pid != pid)
			continue;
		for (size_t j = 0; j < t->n_fds; j++)
			if (t->fds[j]->fd == (uint32_t)fd)
				return t->fds[j]->id;
	}
	return 0;
}

/* Is @le already saved (the same lock seen through another fd)? */
static bool already_saved(struct oc_dump_task *t, const FileLockEntry *le, uint32_t file_id)
{
	ProtobufCMessage **queued;
	size_t n = oc_dump_queued(t->ctx, OC_IMG_FILE_LOCKS, &queued);

	for (size_t i = 0; i < n; i++) {
		const FileLockEntry *o = (const FileLockEntry *)queued[i];
		if (o->flag != le->flag || o->type != le->type || o->start != le->start || o->len != le->len)
			continue;
		/* A POSIX lock belongs to a task; the others to a description. */
		if (le->flag == FL_POSIX && o->pid != le->pid)
			continue;
		uint32_t o_file = o->pid == t->pid ? (o->fd == le->fd ? file_id : file_of(t->ctx, o->pid, o->fd))
						   : file_of(t->ctx, o->pid, o->fd);
		if (o_file == file_id)
			return true;
	}
	return false;
}

int oc_dump_fd_locks(struct oc_dump_task *t, const struct oc_dump_fd *fd, uint32_t file_id)
{
	struct oc_arena *a = t->ctx->arena;
	int r;

	for (size_t i = 0; i < fd->info.n_locks; i++) {
		_cleanup_free_ struct oc_proc_lock *locks = NULL;
		size_t n = 0;

		r = oc_proc_parse_locks(fd->info.locks[i], &locks, &n);
		if (r < 0)
			return r;
		for (size_t j = 0; j < n; j++) {
			const struct oc_proc_lock *l = &locks[j];
			const char *what = lock_names[l->kind];

			if (!lock_flags[l->kind])
				return oc_error(-EOPNOTSUPP, "holds a %s lock, a kind ocicr cannot dump yet", what);
			if (!t->ctx->opts->file_locks)
				return oc_error(-EPERM, "holds a %s lock: dump file locks with --file-locks (-l)",
						what);
			if (l->kind != OC_LOCK_LEASE && (l->type == OC_LOCK_UNLCK || l->mode != OC_LOCK_ADVISORY))
				return oc_error(-EOPNOTSUPP, "holds a %s lock in a state ocicr cannot dump (%s)", what,
						fd->info.locks[i]);

			FileLockEntry *le = OC_ARENA_MSG(a, FileLockEntry, FILE_LOCK_ENTRY__INIT);
			if (!le)
				return -ENOMEM;
			le->flag = lock_flags[l->kind];
			le->type = l->type == OC_LOCK_WRITE ? F_WRLCK : F_RDLCK;
			if (l->kind == OC_LOCK_LEASE && (r = lease_type(fd, l, &le->type)) < 0)
				return oc_error_wrap(r, "%s", fd->info.locks[i]);
			le->pid = t->vpid;
			le->fd = fd->num;
			le->start = l->start;
			le->len = l->end < 0 ? 0 : l->end - l->start + 1;
			if (already_saved(t, le, file_id))
				continue;
			r = oc_dump_queue(t->ctx, OC_IMG_FILE_LOCKS, &le->base, NULL);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ---- restore ------------------------------------------------------------ */

/* Is @fd one the restorer still needs (a mapping's source, the exe)? */
static bool needed_later(const struct oc_rst_task *t, int fd)
{
	if (fd == t->exe_fd || fd == t->pages_fd || fd == t->status_fd)
		return true;
	for (size_t i = 0; t->vma_fds && i < t->mm->n_vmas; i++)
		if (t->vma_fds[i] == fd)
			return true;
	return false;
}

/*
 * Before a POSIX lock on the file of @fd: point every helper fd of the same
 * file at /dev/null, so that the restorer closing them keeps the lock.
 */
static int park_helper_copies(struct oc_rst_agent *ag, int fd)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_close_ int null = -1;
	struct stat st, hst;
	struct dirent *de;

	if (fstat(fd, &st) < 0)
		return oc_error_errno(-errno, "fd %d: fstat", fd);
	d = opendir("/proc/self/fd");
	if (!d)
		return oc_error_errno(-errno, "cannot list /proc/self/fd");
	while ((de = readdir(d))) {
		int h = atoi(de->d_name);
		if (de->d_name[0] == '.' || h < ag->files->helper_base || h == dirfd(d) || h == null)
			continue;
		if (fstat(h, &hst) < 0 || hst.st_dev != st.st_dev || hst.st_ino != st.st_ino)
			continue;
		if (needed_later(ag->task, h))
			return oc_error(-EOPNOTSUPP,
					"fd %d: a POSIX lock on a file the task also maps is not "
					"supported yet",
					fd);
		if (null < 0) {
			null = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (null < 0)
				return oc_error_errno(-errno, "cannot open /dev/null");
		}
		if (dup3(null, h, O_CLOEXEC) < 0)
			return oc_error_errno(-errno, "cannot replace helper fd %d", h);
	}
	return 0;
}

/*
 * Break the lease on @fd again: take it as it was before, then open its
 * file without waiting, for reading if it is broken to a read lease, for
 * writing if to none.  The lease's signal, sent to us, is taken.
 */
static int break_lease_again(int fd, uint32_t target)
{
	int fl = fcntl(fd, F_GETFL), sig = fcntl(fd, F_GETSIG);
	char path[64];
	sigset_t set, was;
	int r = 0;

	if (fl < 0 || sig < 0)
		return oc_error_errno(-errno, "fd %d: F_GETFL", fd);
	if (fcntl(fd, F_SETLEASE, (fl & O_ACCMODE) == O_RDONLY ? F_RDLCK : F_WRLCK) < 0)
		return oc_error_errno(-errno, "fd %d: cannot take its lease back before breaking it", fd);
	sigemptyset(&set);
	sigaddset(&set, sig ? sig : SIGIO);
	sigprocmask(SIG_BLOCK, &set, &was);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int breaker = open(path, (target == F_RDLCK ? O_RDONLY : O_WRONLY) | O_NONBLOCK | O_CLOEXEC);
	if (breaker >= 0) {
		close(breaker);
		r = oc_error(-EIO, "fd %d: opening its file did not break its lease", fd);
	} else if (errno != EWOULDBLOCK) {
		r = oc_error_errno(-errno, "fd %d: cannot break its lease", fd);
	}
	const struct timespec now = {};
	sigtimedwait(&set, NULL, &now);
	sigprocmask(SIG_SETMASK, &was, NULL);
	return r;
}

static int take_lock(struct oc_rst_agent *ag, const FileLockEntry *le)
{
	struct flock fl = {
		.l_type = le->type,
		.l_whence = SEEK_SET,
		.l_start = le->start,
		.l_len = le->len,
	};
	int r;

	if (le->flag == FL_LEASE) {
		uint32_t target = le->type & ~LEASE_BREAKING;
		if (le->type & LEASE_BREAKING)
			return target == F_RDLCK || target == F_UNLCK
				       ? break_lease_again(le->fd, target)
				       : oc_error(-EINVAL, "filelocks.img: lease on fd %d has type %u", le->fd,
						  le->type);
		if (le->type != F_RDLCK && le->type != F_WRLCK)
			return oc_error(-EINVAL, "filelocks.img: lease on fd %d has type %u", le->fd, le->type);
		if (fcntl(le->fd, F_SETLEASE, le->type) < 0)
			return oc_error_errno(-errno, "fd %d: cannot take its lease back", le->fd);
		return 0;
	}
	if (le->type != F_RDLCK && le->type != F_WRLCK)
		return oc_error(-EINVAL, "filelocks.img: lock on fd %d has type %u", le->fd, le->type);
	switch (le->flag) {
	case FL_FLOCK:
		if (flock(le->fd, (le->type == F_WRLCK ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0)
			return oc_error_errno(-errno, "fd %d: cannot take its flock lock back", le->fd);
		return 0;
	case FL_OFD:
		if (fcntl(le->fd, F_OFD_SETLK, &fl) < 0)
			return oc_error_errno(-errno, "fd %d: cannot take its OFD lock back", le->fd);
		return 0;
	case FL_POSIX:
		r = park_helper_copies(ag, le->fd);
		if (r < 0)
			return r;
		if (fcntl(le->fd, F_SETLK, &fl) < 0)
			return oc_error_errno(-errno, "fd %d: cannot take its POSIX lock back", le->fd);
		return 0;
	default:
		return oc_error(-EOPNOTSUPP, "filelocks.img: lock kind %u on fd %d is not supported", le->flag, le->fd);
	}
}

int oc_rst_file_locks(struct oc_rst_agent *ag)
{
	const struct oc_rst_image *im = oc_rst_image(ag->ctx, OC_IMG_FILE_LOCKS);
	int r;

	for (size_t i = 0; i < im->n; i++) {
		const FileLockEntry *le = (const FileLockEntry *)im->msgs[i];
		if (le->pid != ag->task->pid)
			continue;
		r = take_lock(ag, le);
		if (r < 0)
			return oc_error_wrap(r, "task %d", ag->task->pid);
	}
	return 0;
}
