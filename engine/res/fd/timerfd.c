// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * timerfd_create(2) files: the clock, the time left until the next
 * expiration, the interval, the settime flags and the expirations not read
 * yet (ticks).  As in CRIU, the image holds the time left even for a timer
 * armed with TFD_TIMER_ABSTIME; the restore adds the clock's time then.
 *
 * A periodic timer that expired and was not read stops in the kernel until
 * someone reads it or asks its time: fdinfo then shows 1 tick and no time
 * left, though the timer is still armed.  The dump asks the time through
 * its own copy of the file first (timerfd_gettime, as the task itself
 * could), which counts the missed periods into the ticks and re-arms the
 * timer, and then reads fdinfo.
 *
 * The restore creates the timer with the coordinator and arms it in its
 * owner task, as late as the agent allows, then puts the ticks back with
 * TFD_IOC_SET_TICKS (CONFIG_CHECKPOINT_RESTORE).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "core/cleanup.h"
#include "core/error.h"

#include "timerfd.pb-c.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

#define NSEC_PER_SEC 1000000000ull

static bool timerfd_match(const struct oc_dump_fd *fd)
{
	return oc_fd_is_anon(fd, "[timerfd]");
}

/* Settle an expired periodic timer, then read its state afresh. */
static int read_timer(int local, struct oc_proc_fdinfo *ret)
{
	_cleanup_free_ char *text = NULL;
	struct itimerspec cur;
	char name[32];
	int r;

	if (timerfd_gettime(local, &cur) < 0)
		return oc_error_errno(-errno, "timerfd_gettime");
	snprintf(name, sizeof(name), "fdinfo/%d", local);
	r = oc_proc_read(getpid(), name, &text, NULL);
	if (r < 0)
		return r;
	r = oc_proc_parse_fdinfo(text, ret);
	if (r < 0)
		return r;
	if (!ret->has_timerfd) {
		oc_proc_fdinfo_clear(ret);
		return oc_error(-EINVAL, "its fdinfo has no timerfd lines");
	}
	return 0;
}

static int timerfd_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	TimerfdEntry *e = OC_ARENA_MSG(t->ctx->arena, TimerfdEntry, TIMERFD_ENTRY__INIT);
	struct oc_proc_fdinfo now = {};
	FileEntry *fe;
	int r;

	if (!e)
		return -ENOMEM;
	r = read_timer(fd->local, &now);
	if (r < 0)
		return r;
	r = oc_dump_file_begin(t, fd, FD_TYPES__TIMERFD, &e->id, &e->flags, &e->fown, &fe);
	if (r < 0) {
		oc_proc_fdinfo_clear(&now);
		return r;
	}
	e->clockid = now.timerfd_clockid;
	e->ticks = now.timerfd_ticks;
	e->settime_flags = now.timerfd_settime_flags;
	e->vsec = now.timerfd_value_sec;
	e->vnsec = now.timerfd_value_nsec;
	e->isec = now.timerfd_interval_sec;
	e->insec = now.timerfd_interval_nsec;
	oc_proc_fdinfo_clear(&now);
	/* It expired again between the two reads (a short period): its
	 * ticks count that, and the next expiration is a period away. */
	if (!e->vsec && !e->vnsec && (e->isec || e->insec)) {
		e->vsec = e->isec;
		e->vnsec = e->insec;
	}
	fe->tfd = e;
	return oc_dump_file_end(t, fe, ret_id);
}

/* ---- restore ------------------------------------------------------------ */

static int timerfd_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	TimerfdEntry *e = fe->tfd;
	int fd, r;

	if (!e)
		return oc_error(-EINVAL, "files.img: file %u has no timerfd entry", fe->id);
	if (e->vnsec >= NSEC_PER_SEC || e->insec >= NSEC_PER_SEC)
		return oc_error(-EINVAL, "files.img: timerfd %u: nanoseconds out of range", fe->id);
	fd = timerfd_create(e->clockid, TFD_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "timerfd %u: timerfd_create(clock %u)", fe->id, e->clockid);
	r = oc_rst_set_status_flags(fd, e->flags);
	if (r < 0) {
		close(fd);
		return oc_error_wrap(r, "timerfd %u", fe->id);
	}
	*ret_fd = fd;
	return 0;
}

/* Arm it and give back its ticks, in the owner task, late. */
static int timerfd_setup(struct oc_rst_agent *ag, FileEntry *fe, int fd)
{
	TimerfdEntry *e = fe->tfd;
	struct itimerspec its = {
		.it_value = { .tv_sec = e->vsec, .tv_nsec = e->vnsec },
		.it_interval = { .tv_sec = e->isec, .tv_nsec = e->insec },
	};
	bool armed = e->vsec || e->vnsec;

	if (armed && (e->settime_flags & TFD_TIMER_ABSTIME)) {
		struct timespec now;
		if (clock_gettime(e->clockid, &now) < 0)
			return oc_error_errno(-errno, "timerfd %u: clock %u", fe->id, e->clockid);
		its.it_value.tv_sec += now.tv_sec;
		its.it_value.tv_nsec += now.tv_nsec;
		if ((uint64_t)its.it_value.tv_nsec >= NSEC_PER_SEC) {
			its.it_value.tv_sec++;
			its.it_value.tv_nsec -= NSEC_PER_SEC;
		}
	}
	if ((armed || e->isec || e->insec) && timerfd_settime(fd, e->settime_flags, &its, NULL) < 0)
		return oc_error_errno(-errno, "timerfd %u: timerfd_settime", fe->id);
	if (e->ticks && ioctl(fd, TFD_IOC_SET_TICKS, &e->ticks) < 0) {
		if (errno == ENOTTY)
			return oc_error(-EOPNOTSUPP,
					"timerfd %u: %" PRIu64 " expirations were not read yet, and "
					"this kernel cannot set them (no CONFIG_CHECKPOINT_RESTORE)",
					fe->id, e->ticks);
		return oc_error_errno(-errno, "timerfd %u: cannot set %" PRIu64 " ticks", fe->id, e->ticks);
	}
	return 0;
}

const struct oc_fd_kind oc_fd_kind_timerfd = {
	.name = "timerfd",
	.type = FD_TYPES__TIMERFD,
	.match = timerfd_match,
	.dump = timerfd_dump,
	.open = timerfd_open,
	.setup = timerfd_setup,
	.setup_what = "arm the timer, put its unread ticks back",
};
