// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * epoll instances: the watched set, one eventpoll_tfd_entry per target
 * with its events and data, inside the file entry as in CRIU 4.2.
 *
 * The kernel keys a watch by (file, fd number): the number the target had
 * when it was added.  The restore adds every watch again with
 * epoll_ctl(EPOLL_CTL_ADD) in the owner task of the epoll (the lowest pid
 * holding it), once that task's fds are installed, so each target must be
 * open at that number in that task.  The dump checks exactly that with
 * kcmp(KCMP_EPOLL_TFD); a target closed there but open at another number
 * (dup, then close) is recorded at that number, as CRIU does; a target no
 * longer open in the owner at all (only another task, or a message in
 * flight, holds it) fails the dump.  Targets may be of any kind ocicr
 * dumps, other epolls included.
 */
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "core/cleanup.h"
#include "core/error.h"

#include "eventpoll.pb-c.h"

/* The slot argument of kcmp(KCMP_EPOLL_TFD) (linux/kcmp.h, 4.13+). */
struct epoll_slot {
	uint32_t efd;
	uint32_t tfd;
	uint32_t toff;
};

static bool eventpoll_match(const struct oc_dump_fd *fd)
{
	return oc_fd_is_anon(fd, "[eventpoll]");
}

static int kcmp_file(pid_t p1, pid_t p2, int fd1, int fd2)
{
	return syscall(SYS_kcmp, p1, p2, KCMP_FILE, fd1, fd2);
}

/*
 * Is fd @fd of @pid the file watched in slot @slot of the epoll of
 * @epoll_pid (slot->efd there)?  1 if so,
 * 0 if not (or @fd is not open), a negative errno if the kernel cannot say
 * (no KCMP_EPOLL_TFD without CONFIG_CHECKPOINT_RESTORE).
 */
static int is_target(pid_t pid, int fd, pid_t epoll_pid, const struct epoll_slot *slot)
{
	long r = syscall(SYS_kcmp, pid, epoll_pid, KCMP_EPOLL_TFD, fd, (unsigned long)slot);

	if (r == 0)
		return 1;
	if (r > 0 || errno == EBADF)
		return 0;
	return oc_error_errno(-errno, "kcmp(KCMP_EPOLL_TFD) cannot check the watch on fd %u", slot->tfd);
}

/*
 * The task that will own the epoll at restore: the lowest pid holding it
 * in an fd (restore's oc_rst_file_owner()), and its fd number there.
 */
static int find_owner(struct oc_dump_task *t, const struct oc_dump_fd *fd, pid_t *ret_pid, int *ret_fd)
{
	struct oc_dump_ctx *ctx = t->ctx;
	pid_t owner = t->pid;
	int owner_fd = fd->num;

	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct oc_dump_task *u = &ctx->tasks[i];
		_cleanup_free_ int *fds = NULL;
		size_t n;
		int r;

		if (u->pid >= owner || u->seized->state == OC_TASK_DEAD)
			continue;
		r = oc_dump_list_fds(u->pid, &fds, &n);
		if (r < 0)
			return r;
		for (size_t j = 0; j < n; j++)
			if (kcmp_file(u->pid, t->pid, fds[j], fd->num) == 0) {
				owner = u->pid;
				owner_fd = fds[j];
				break;
			}
	}
	*ret_pid = owner;
	*ret_fd = owner_fd;
	return 0;
}

/*
 * Check the targets against the owner's fd table; a target found at
 * another number than it was added with gets that number.
 */
static int check_targets(struct oc_dump_task *t, const struct oc_dump_fd *fd, EventpollTfdEntry **tfds, size_t n)
{
	_cleanup_free_ int *fds = NULL;
	size_t n_fds = 0;
	pid_t owner;
	int efd, r;

	/* One in flight on a unix socket is ours; its watches are on fds of
	 * the task holding the socket, which adds them again at restore. */
	pid_t epoll_pid = fd->in_flight ? getpid() : 0;
	if (fd->in_flight) {
		owner = t->pid;
		efd = fd->local;
	} else {
		r = find_owner(t, fd, &owner, &efd);
		if (r < 0)
			return r;
		epoll_pid = owner;
	}
	for (size_t i = 0; i < n; i++) {
		struct epoll_slot slot = { .efd = efd, .tfd = tfds[i]->tfd };
		/* Watches with the same number: the toff-th in fdinfo order. */
		for (size_t j = 0; j < i; j++)
			slot.toff += fd->info.epoll_tfds[j].tfd == fd->info.epoll_tfds[i].tfd;
		r = is_target(owner, slot.tfd, epoll_pid, &slot);
		if (r < 0)
			return r;
		if (r)
			continue;

		if (!fds) {
			r = oc_dump_list_fds(owner, &fds, &n_fds);
			if (r < 0)
				return r;
		}
		size_t k;
		for (k = 0, r = 0; k < n_fds && !r; k++) {
			r = is_target(owner, fds[k], epoll_pid, &slot);
			if (r < 0)
				return r;
		}
		if (!r) {
			if (owner != t->pid)
				return oc_error(-EOPNOTSUPP,
						"it watches a file added as fd %u that task %d, which "
						"owns the epoll at restore, no longer has open",
						slot.tfd, owner);
			return oc_error(-EOPNOTSUPP,
					"it watches a file added as fd %u that is no longer open in "
					"this task (another task or an in-flight message holds it)",
					slot.tfd);
		}
		tfds[i]->tfd = fds[k - 1];
	}

	/* Two watches now at one number would be one key. */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (tfds[i]->tfd == tfds[j]->tfd)
				return oc_error(-EOPNOTSUPP, "two of its watches are on files open at fd %u now",
						tfds[i]->tfd);
	return 0;
}

static int eventpoll_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	struct oc_arena *a = t->ctx->arena;
	EventpollFileEntry *e = OC_ARENA_MSG(a, EventpollFileEntry, EVENTPOLL_FILE_ENTRY__INIT);
	size_t n = fd->info.n_epoll_tfds;
	FileEntry *fe;
	int r;

	if (!e)
		return -ENOMEM;
	r = oc_dump_file_begin(t, fd, FD_TYPES__EVENTPOLL, &e->id, &e->flags, &e->fown, &fe);
	if (r < 0)
		return r;

	e->tfd = OC_ARENA_ARRAY(a, EventpollTfdEntry *, n);
	if (!e->tfd)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct oc_proc_epoll_tfd *p = &fd->info.epoll_tfds[i];
		EventpollTfdEntry *te = OC_ARENA_MSG(a, EventpollTfdEntry, EVENTPOLL_TFD_ENTRY__INIT);
		if (!te)
			return -ENOMEM;
		te->id = e->id;
		te->tfd = p->tfd;
		te->events = p->events;
		te->data = p->data;
		te->has_dev = te->has_inode = te->has_pos = true;
		te->dev = p->sdev;
		te->inode = p->ino;
		te->pos = p->pos;
		e->tfd[i] = te;
	}
	e->n_tfd = n;
	r = check_targets(t, fd, e->tfd, n);
	if (r < 0)
		return r;

	fe->epfd = e;
	return oc_dump_file_end(t, fe, ret_id);
}

/* ---- restore ------------------------------------------------------------ */

static int eventpoll_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	int fd, r;

	if (!fe->epfd)
		return oc_error(-EINVAL, "files.img: file %u has no eventpoll entry", fe->id);
	fd = epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "epoll_create1");
	r = oc_rst_set_status_flags(fd, fe->epfd->flags);
	if (r < 0) {
		close(fd);
		return oc_error_wrap(r, "epoll %u", fe->id);
	}
	*ret_fd = fd;
	return 0;
}

/* In the owner task, its fds installed: add the watches by their numbers. */
static int eventpoll_setup(struct oc_rst_agent *ag, FileEntry *fe, int fd)
{
	EventpollFileEntry *e = fe->epfd;

	for (size_t i = 0; i < e->n_tfd; i++) {
		struct epoll_event ev = { .events = e->tfd[i]->events, .data.u64 = e->tfd[i]->data };
		if (epoll_ctl(fd, EPOLL_CTL_ADD, e->tfd[i]->tfd, &ev) < 0)
			return oc_error_errno(-errno, "epoll %u: cannot watch fd %u (events 0x%x)", fe->id,
					      e->tfd[i]->tfd, e->tfd[i]->events);
	}
	return 0;
}

const struct oc_fd_kind oc_fd_kind_eventpoll = {
	.name = "epoll",
	.type = FD_TYPES__EVENTPOLL,
	.match = eventpoll_match,
	.dump = eventpoll_dump,
	.open = eventpoll_open,
	.setup = eventpoll_setup,
	.setup_what = "add its watches by the task's fd numbers",
};
