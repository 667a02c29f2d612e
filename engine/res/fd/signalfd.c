// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * signalfd(2) files: the mask of signals read through it and the flags.
 * A signalfd reads the signals of whichever task reads it, so it is bound
 * to no task and is made whole by the coordinator.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "core/error.h"

#include "signalfd.pb-c.h"

static bool signalfd_match(const struct oc_dump_fd *fd)
{
	return oc_fd_is_anon(fd, "[signalfd]");
}

static int signalfd_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	SignalfdEntry *e = OC_ARENA_MSG(t->ctx->arena, SignalfdEntry, SIGNALFD_ENTRY__INIT);
	FileEntry *fe;
	int r;

	if (!e)
		return -ENOMEM;
	if (!fd->info.has_signalfd)
		return oc_error(-EINVAL, "its fdinfo has no sigmask line");
	r = oc_dump_file_begin(t, fd, FD_TYPES__SIGNALFD, &e->id, &e->flags, &e->fown, &fe);
	if (r < 0)
		return r;
	e->sigmask = fd->info.signalfd_sigmask;
	fe->sgfd = e;
	return oc_dump_file_end(t, fe, ret_id);
}

/* ---- restore ------------------------------------------------------------ */

static int signalfd_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	SignalfdEntry *e = fe->sgfd;
	sigset_t mask;
	int fd, r;

	if (!e)
		return oc_error(-EINVAL, "files.img: file %u has no signalfd entry", fe->id);
	/* Bit N - 1 is signal N, as in the first word of a sigset_t (which
	 * sigaddset() would not fill: glibc refuses its own signals 32, 33). */
	memset(&mask, 0, sizeof(mask));
	memcpy(&mask, &e->sigmask, sizeof(e->sigmask));
	fd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "signalfd %u: signalfd(mask 0x%" PRIx64 ")", fe->id, e->sigmask);
	r = oc_rst_set_status_flags(fd, e->flags);
	if (r < 0) {
		close(fd);
		return oc_error_wrap(r, "signalfd %u", fe->id);
	}
	*ret_fd = fd;
	return 0;
}

const struct oc_fd_kind oc_fd_kind_signalfd = {
	.name = "signalfd",
	.type = FD_TYPES__SIGNALFD,
	.match = signalfd_match,
	.dump = signalfd_dump,
	.open = signalfd_open,
};
