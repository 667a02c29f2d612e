// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * inotify instances: every watch with its mask and its watch descriptor
 * number, inside the file entry as in CRIU 4.2.
 *
 * fdinfo names a watched inode by device, inode number and file handle.
 * The dump opens the handle (open_by_handle_at on a mount of that device)
 * and records the path it reaches, checked to be the same inode, as CRIU
 * does in f_handle.path; a watched inode no path reaches (hidden under
 * another mount) fails the dump.  A watched regular file that was unlinked
 * keeps the name it had: the tree holds it open, so it is a ghost
 * (file_reg.c), recreated at that name, and the watch goes on the ghost.  The restore watches the path, or
 * the handle when an image has no path, in the owner task once its fds
 * are installed: by then the coordinator opened every file of the tree,
 * and those opens would otherwise show as events.
 *
 * The program keeps the wd numbers, and inotify hands them out one after
 * another (per instance).  The restore adds the watches in wd order and
 * sets each number first with INOTIFY_IOC_SETNEXTWD
 * (CONFIG_CHECKPOINT_RESTORE); without it, it adds and removes until the
 * counter reaches the number, and drops the IN_IGNORED events that makes.
 * Events queued at dump time are lost (CRIU loses them too).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "res/fd/fhandle.h"
#include "res/fd/files.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "fsnotify.pb-c.h"

#ifndef INOTIFY_IOC_SETNEXTWD
#define INOTIFY_IOC_SETNEXTWD _IOW('I', 0, int32_t)
#endif

/* What a watch mask holds beyond the events (inotify_mark_user_mask()). */
#define WATCH_MASK (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK)

/* ---- dump --------------------------------------------------------------- */

static bool inotify_match(const struct oc_dump_fd *fd)
{
	return oc_fd_is_anon(fd, "inotify");
}

static int inotify_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	struct oc_arena *a = t->ctx->arena;
	InotifyFileEntry *e = OC_ARENA_MSG(a, InotifyFileEntry, INOTIFY_FILE_ENTRY__INIT);
	size_t n = fd->info.n_inotify_wds;
	int queued = 0, r;
	FileEntry *fe;

	if (!e)
		return -ENOMEM;
	r = oc_dump_file_begin(t, fd, FD_TYPES__INOTIFY, &e->id, &e->flags, &e->fown, &fe);
	if (r < 0)
		return r;
	e->wd = OC_ARENA_ARRAY(a, InotifyWdEntry *, n);
	if (!e->wd)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct oc_proc_inotify_wd *w = &fd->info.inotify_wds[i];
		InotifyWdEntry *we = OC_ARENA_MSG(a, InotifyWdEntry, INOTIFY_WD_ENTRY__INIT);
		char *path = NULL;
		if (!we)
			return -ENOMEM;
		r = oc_fhandle_path(a, w->sdev, &w->fhandle, true, &path);
		if (r < 0)
			return oc_error_wrap(r, "watch %d on inode %" PRIu64, w->wd, w->ino);
		we->id = e->id;
		we->i_ino = w->ino;
		we->mask = w->mask;
		we->ignored_mask = w->ignored_mask;
		we->s_dev = w->sdev;
		we->wd = w->wd;
		we->f_handle = oc_fhandle_entry(a, &w->fhandle, path);
		if (!we->f_handle)
			return -ENOMEM;
		e->wd[i] = we;
	}
	e->n_wd = n;
	if (ioctl(fd->local, FIONREAD, &queued) == 0 && queued > 0)
		pr_warn("task %d fd %d: inotify: %d bytes of queued events are not kept", t->pid, fd->num, queued);

	fe->ify = e;
	return oc_dump_file_end(t, fe, ret_id);
}

/* ---- restore ------------------------------------------------------------ */

/* Add one watch so that it gets number we->wd; *fell_back if by add/remove. */
static int add_watch(const struct oc_rst_files *files, int ifd, const InotifyWdEntry *we, bool *fell_back)
{
	_cleanup_close_ int target = -1;
	uint32_t mask = we->mask & WATCH_MASK;
	/* Watching the magic link watches the inode it points to. */
	char proc[64];
	int r, wd;

	if (we->wd < 1 || we->wd > INT_MAX)
		return oc_error(-EINVAL, "watch descriptor %u is out of range", we->wd);
	/* A watched file that was unlinked: on its ghost, unlinked again by
	 * now, through the fd the coordinator left us. */
	int ghost = we->f_handle->path ? oc_rst_ghost_find(files, we->f_handle->path) : -1;
	if (ghost >= 0 && files->ghost_fds[ghost] >= 0)
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", files->ghost_fds[ghost]);
	else if ((r = oc_fhandle_open(we->f_handle, we->s_dev, &target)) < 0)
		return r;
	else
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", target);

	bool set = ioctl(ifd, INOTIFY_IOC_SETNEXTWD, (unsigned long)we->wd) == 0;
	if (!set && errno != ENOTTY)
		return oc_error_errno(-errno, "INOTIFY_IOC_SETNEXTWD %u", we->wd);
	for (;;) {
		wd = inotify_add_watch(ifd, proc, mask);
		if (wd < 0)
			return oc_error_errno(-errno, "inotify_add_watch(mask 0x%x)", mask);
		if (wd == (int)we->wd)
			return 0;
		if (set || wd > (int)we->wd)
			return oc_error(-EEXIST,
					"the watch got descriptor %d, not %u (watches out of order, or "
					"one inode twice?)",
					wd, we->wd);
		inotify_rm_watch(ifd, wd);
		*fell_back = true;
	}
}

static int cmp_wd(const void *a, const void *b)
{
	uint32_t x = (*(InotifyWdEntry *const *)a)->wd, y = (*(InotifyWdEntry *const *)b)->wd;

	return x < y ? -1 : x > y;
}

static int inotify_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	InotifyFileEntry *e = fe->ify;
	int fd, r;

	if (!e)
		return oc_error(-EINVAL, "files.img: file %u has no inotify entry", fe->id);
	for (size_t i = 0; i < e->n_wd; i++)
		if (!e->wd[i]->f_handle)
			return oc_error(-EINVAL, "files.img: inotify %u: watch %u has no file handle", fe->id,
					e->wd[i]->wd);
	fd = inotify_init1(IN_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "inotify_init1");
	r = oc_rst_set_status_flags(fd, e->flags);
	if (r < 0) {
		close(fd);
		return oc_error_wrap(r, "inotify %u", fe->id);
	}
	*ret_fd = fd;
	return 0;
}

/*
 * The watches, in the owner task once its fds are in: after every file of
 * the tree was opened (by the coordinator), so those opens make no events.
 */
static int inotify_setup(struct oc_rst_agent *ag, FileEntry *fe, int fd)
{
	InotifyFileEntry *e = fe->ify;
	_cleanup_free_ InotifyWdEntry **wds = NULL;
	bool fell_back = false;
	int r;

	wds = malloc((e->n_wd ? e->n_wd : 1) * sizeof(*wds));
	if (!wds)
		return -ENOMEM;
	memcpy(wds, e->wd, e->n_wd * sizeof(*wds));
	qsort(wds, e->n_wd, sizeof(*wds), cmp_wd);
	for (size_t i = 0; i < e->n_wd; i++) {
		r = add_watch(ag->files, fd, wds[i], &fell_back);
		if (r < 0)
			return oc_error_wrap(r, "inotify %u: watch %u on %s", fe->id, wds[i]->wd,
					     wds[i]->f_handle->path ? wds[i]->f_handle->path : "(a file handle)");
	}
	if (fell_back) {
		/* The IN_IGNORED events of the watches removed on the way
		 * (the fd may be blocking: read only what is there). */
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char buf[4096];
		while (poll(&p, 1, 0) == 1 && read(fd, buf, sizeof(buf)) > 0)
			;
	}
	return 0;
}

const struct oc_fd_kind oc_fd_kind_inotify = {
	.name = "inotify",
	.type = FD_TYPES__INOTIFY,
	.match = inotify_match,
	.dump = inotify_dump,
	.open = inotify_open,
	.setup = inotify_setup,
	.setup_what = "add its watches, each with its wd number",
};
