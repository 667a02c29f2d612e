// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fanotify groups: the fanotify_init() flags and event flags, and every
 * mark with its mask, ignored mask and mark flags, inside the file entry
 * as in CRIU 4.2.
 *
 * CRIU 4.2 knows two kinds of mark: on an inode (named by file handle and,
 * as with inotify, the path it reaches: res/fhandle.h) and on a mount
 * (its mount id and mount point).  Marks on a whole filesystem or a mount
 * namespace have no place in its images, so they fail the dump.  The
 * restore adds the marks in the owner task once its fds are installed,
 * after the coordinator opened every file of the tree.  Events
 * queued at dump time are lost, as in CRIU; permission events waiting for
 * an answer would leave their tasks blocked, so they are warned about too.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "res/fd/fhandle.h"
#include "res/fd/files.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "fsnotify.pb-c.h"

#ifndef FAN_MARK_EVICTABLE
#define FAN_MARK_EVICTABLE 0x00000200
#endif
#ifndef FAN_MARK_IGNORE
#define FAN_MARK_IGNORE 0x00000400
#endif

/* Mark flags fdinfo shows (fanotify_mark_user_flags()) that a new mark takes. */
#define MARK_FLAGS (FAN_MARK_IGNORED_SURV_MODIFY | FAN_MARK_EVICTABLE)

static bool fanotify_match(const struct oc_dump_fd *fd)
{
	return oc_fd_is_anon(fd, "[fanotify]");
}

/* The mount point and device (kernel dev_t) of mount @mnt_id of @pid. */
static int find_mount(struct oc_arena *a, pid_t pid, uint32_t mnt_id, char **ret_path, uint32_t *ret_kdev)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = oc_proc_read(pid, "mountinfo", &text, NULL);
	if (r < 0)
		return r;
	for (char *line = text, *next; line && *line; line = next) {
		unsigned id, maj, min;
		char mnt[PATH_MAX];
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (sscanf(line, "%u %*u %u:%u %*s %4095s", &id, &maj, &min, mnt) != 4 || id != mnt_id)
			continue;
		oc_mountinfo_unescape(mnt);
		*ret_path = oc_arena_strdup(a, mnt);
		*ret_kdev = maj << 20 | min;
		return *ret_path ? 0 : -ENOMEM;
	}
	return oc_error(-ENOENT, "no mount %u in /proc/%d/mountinfo", mnt_id, pid);
}

static int dump_mark(struct oc_dump_task *t, const struct oc_proc_fanotify_mark *m, uint32_t id,
		     FanotifyMarkEntry **ret)
{
	struct oc_arena *a = t->ctx->arena;
	FanotifyMarkEntry *me = OC_ARENA_MSG(a, FanotifyMarkEntry, FANOTIFY_MARK_ENTRY__INIT);
	int r;

	if (!me)
		return -ENOMEM;
	me->id = id;
	me->mflags = m->mflags;
	me->mask = m->mask;
	me->ignored_mask = m->ignored_mask;

	switch (m->kind) {
	case OC_FANOTIFY_MARK_INODE: {
		FanotifyInodeMarkEntry *ie = OC_ARENA_MSG(a, FanotifyInodeMarkEntry, FANOTIFY_INODE_MARK_ENTRY__INIT);
		char *path = NULL;
		if (!ie)
			return -ENOMEM;
		r = oc_fhandle_path(a, m->sdev, &m->fhandle, false, &path);
		if (r < 0)
			return oc_error_wrap(r, "mark on inode %" PRIu64, m->ino);
		ie->i_ino = m->ino;
		ie->f_handle = oc_fhandle_entry(a, &m->fhandle, path);
		if (!ie->f_handle)
			return -ENOMEM;
		me->type = MARK_TYPE__INODE;
		me->s_dev = m->sdev;
		me->ie = ie;
		break;
	}
	case OC_FANOTIFY_MARK_MOUNT: {
		FanotifyMountMarkEntry *mme = OC_ARENA_MSG(a, FanotifyMountMarkEntry, FANOTIFY_MOUNT_MARK_ENTRY__INIT);
		if (!mme)
			return -ENOMEM;
		r = find_mount(a, t->pid, m->mnt_id, &mme->path, &me->s_dev);
		if (r < 0)
			return oc_error_wrap(r, "mark on mount %u", m->mnt_id);
		mme->mnt_id = m->mnt_id;
		me->type = MARK_TYPE__MOUNT;
		me->me = mme;
		break;
	}
	case OC_FANOTIFY_MARK_SB:
		return oc_error(-EOPNOTSUPP,
				"a mark on a whole filesystem (FAN_MARK_FILESYSTEM, device %u:%u) has no "
				"place in CRIU 4.2 images",
				m->sdev >> 20, m->sdev & 0xfffff);
	default:
		return oc_error(-EOPNOTSUPP, "a mark on a mount namespace (FAN_MARK_MNTNS) has no place in CRIU "
					     "4.2 images");
	}
	*ret = me;
	return 0;
}

static int fanotify_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	struct oc_arena *a = t->ctx->arena;
	FanotifyFileEntry *e = OC_ARENA_MSG(a, FanotifyFileEntry, FANOTIFY_FILE_ENTRY__INIT);
	size_t n = fd->info.n_fanotify_marks;
	int queued = 0, r;
	FileEntry *fe;

	if (!e)
		return -ENOMEM;
	if (!fd->info.has_fanotify)
		return oc_error(-EINVAL, "its fdinfo has no fanotify flags line");
	r = oc_dump_file_begin(t, fd, FD_TYPES__FANOTIFY, &e->id, &e->flags, &e->fown, &fe);
	if (r < 0)
		return r;
	e->faflags = fd->info.fanotify_flags;
	e->evflags = fd->info.fanotify_event_flags;
	e->mark = OC_ARENA_ARRAY(a, FanotifyMarkEntry *, n);
	if (!e->mark)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r = dump_mark(t, &fd->info.fanotify_marks[i], e->id, &e->mark[i]);
		if (r < 0)
			return r;
	}
	e->n_mark = n;
	if (ioctl(fd->local, FIONREAD, &queued) == 0 && queued > 0)
		pr_warn("task %d fd %d: fanotify: %d bytes of queued events are not kept%s", t->pid, fd->num, queued,
			(e->faflags & (FAN_CLASS_CONTENT | FAN_CLASS_PRE_CONTENT)) ? " (and tasks waiting for a "
										     "permission answer stay blocked)"
										   : "");

	fe->ffy = e;
	return oc_dump_file_end(t, fe, ret_id);
}

/* ---- restore ------------------------------------------------------------ */

static int restore_mark(int gfd, const FanotifyMarkEntry *me)
{
	_cleanup_close_ int target = -1;
	unsigned int flags = FAN_MARK_ADD | (me->mflags & MARK_FLAGS);
	char proc[64];
	int r;

	switch (me->type) {
	case MARK_TYPE__INODE:
		if (!me->ie || !me->ie->f_handle)
			return oc_error(-EINVAL, "an inode mark without its inode");
		r = oc_fhandle_open(me->ie->f_handle, me->s_dev, &target);
		if (r < 0)
			return r;
		break;
	case MARK_TYPE__MOUNT:
		if (!me->me || !me->me->path)
			return oc_error(-EOPNOTSUPP, "a mount mark without a path (mount namespaces are not "
						     "supported)");
		target = open(me->me->path, O_PATH | O_CLOEXEC);
		if (target < 0)
			return oc_error_errno(-errno, "cannot open %s", me->me->path);
		flags |= FAN_MARK_MOUNT;
		break;
	default:
		return oc_error(-EINVAL, "a mark of unknown type %d", me->type);
	}
	/* Marking the magic link marks what it points to (not O_PATH fds). */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", target);
	if (me->mask && fanotify_mark(gfd, flags, me->mask, AT_FDCWD, proc) < 0)
		return oc_error_errno(-errno, "fanotify_mark(0x%x, mask 0x%x)", flags, me->mask);
	if (me->ignored_mask) {
		unsigned int ign = (me->mflags & FAN_MARK_IGNORE) ? FAN_MARK_IGNORE : FAN_MARK_IGNORED_MASK;
		if (fanotify_mark(gfd, flags | ign, me->ignored_mask, AT_FDCWD, proc) < 0)
			return oc_error_errno(-errno, "fanotify_mark(0x%x, ignored mask 0x%x)", flags | ign,
					      me->ignored_mask);
	}
	return 0;
}

static int fanotify_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	FanotifyFileEntry *e = fe->ffy;
	int fd, r;

	if (!e)
		return oc_error(-EINVAL, "files.img: file %u has no fanotify entry", fe->id);
	/* The flags as they were, FAN_CLOEXEC included or not: fdinfo shows
	 * them; the fds of the tasks get their own close-on-exec bit. */
	fd = fanotify_init(e->faflags, e->evflags);
	if (fd < 0)
		return oc_error_errno(-errno, "fanotify %u: fanotify_init(0x%x, 0x%x)", fe->id, e->faflags, e->evflags);
	r = oc_rst_set_status_flags(fd, e->flags);
	if (r < 0) {
		close(fd);
		return oc_error_wrap(r, "fanotify %u", fe->id);
	}
	*ret_fd = fd;
	return 0;
}

/*
 * The marks, in the owner task once its fds are in: after the coordinator
 * opened every file of the tree, so those opens make no events (and, for
 * a permission mark, do not wait for an answer nobody would give).
 */
static int fanotify_setup(struct oc_rst_agent *ag, FileEntry *fe, int fd)
{
	FanotifyFileEntry *e = fe->ffy;

	for (size_t i = 0; i < e->n_mark; i++) {
		const FanotifyMarkEntry *me = e->mark[i];
		int r = restore_mark(fd, me);
		if (r < 0) {
			const char *what = me->type == MARK_TYPE__MOUNT && me->me ? me->me->path
					   : me->ie && me->ie->f_handle && me->ie->f_handle->path
						   ? me->ie->f_handle->path
						   : "(a file handle)";
			return oc_error_wrap(r, "fanotify %u: mark on %s", fe->id, what);
		}
	}
	return 0;
}

const struct oc_fd_kind oc_fd_kind_fanotify = {
	.name = "fanotify",
	.type = FD_TYPES__FANOTIFY,
	.match = fanotify_match,
	.dump = fanotify_dump,
	.open = fanotify_open,
	.setup = fanotify_setup,
	.setup_what = "add its marks",
};
