// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * eventfd(2) files: the counter and the flags.  The counter comes from
 * fdinfo (reading the eventfd would consume it).
 *
 * CRIU 4.2's eventfd_file_entry has no place for EFD_SEMAPHORE, so CRIU
 * loses it.  We keep it in bit 0 of flags: an eventfd is always O_RDWR,
 * so that bit (O_WRONLY) never means an access mode here, and CRIU, which
 * applies flags with F_SETFL, ignores it.  Images without the bit (CRIU's)
 * give a plain counter, as CRIU itself restores them.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "core/error.h"

#include "eventfd.pb-c.h"

/* EFD_SEMAPHORE as stored in eventfd_file_entry.flags. */
#define IMG_EFD_SEMAPHORE 01u

static bool eventfd_match(const struct oc_dump_fd *fd)
{
	return oc_fd_is_anon(fd, "[eventfd]");
}

static int eventfd_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	EventfdFileEntry *e = OC_ARENA_MSG(t->ctx->arena, EventfdFileEntry, EVENTFD_FILE_ENTRY__INIT);
	FileEntry *fe;
	int r;

	if (!e)
		return -ENOMEM;
	if (!fd->info.has_eventfd)
		return oc_error(-EINVAL, "its fdinfo has no eventfd-count line");
	r = oc_dump_file_begin(t, fd, FD_TYPES__EVENTFD, &e->id, &e->flags, &e->fown, &fe);
	if (r < 0)
		return r;
	/* Always read-write; kernels before 6.5 do not say whether it counts
	 * as a semaphore, and the flag is then lost (as in CRIU). */
	e->flags = (e->flags & ~O_ACCMODE) | O_RDWR;
	if (fd->info.has_eventfd_semaphore && fd->info.eventfd_semaphore)
		e->flags |= IMG_EFD_SEMAPHORE;
	e->counter = fd->info.eventfd_count;
	fe->efd = e;
	return oc_dump_file_end(t, fe, ret_id);
}

/* ---- restore ------------------------------------------------------------ */

static int eventfd_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	EventfdFileEntry *e = fe->efd;
	int flags = EFD_CLOEXEC, fd, r;

	if (!e)
		return oc_error(-EINVAL, "files.img: file %u has no eventfd entry", fe->id);
	if (e->flags & IMG_EFD_SEMAPHORE)
		flags |= EFD_SEMAPHORE;
	fd = eventfd(0, flags | EFD_NONBLOCK);
	if (fd < 0)
		return oc_error_errno(-errno, "eventfd");
	/* Written, not passed to eventfd() (an unsigned int): all 64 bits. */
	if (e->counter && eventfd_write(fd, e->counter) < 0) {
		r = oc_error_errno(-errno, "eventfd %u: cannot set the counter to %" PRIu64, fe->id, e->counter);
		close(fd);
		return r;
	}
	r = oc_rst_set_status_flags(fd, e->flags);
	if (r < 0) {
		close(fd);
		return oc_error_wrap(r, "eventfd %u", fe->id);
	}
	*ret_fd = fd;
	return 0;
}

const struct oc_fd_kind oc_fd_kind_eventfd = {
	.name = "eventfd",
	.type = FD_TYPES__EVENTFD,
	.match = eventfd_match,
	.dump = eventfd_dump,
	.open = eventfd_open,
};
