// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /proc/PID/fdinfo/FD.  Every file has "pos:", "flags:", "mnt_id:" and
 * "ino:" (fs/proc/fd.c); some kinds add lines of their own:
 *
 *	eventfd-count:             1239	(fs/eventfd.c, %16llx)
 *	eventfd-id: 1
 *	eventfd-semaphore: 1
 *	tfd:        4 events: 80000019 data:     deadbeefcafe  pos:0 ino:1a sdev:10
 *	sigmask:	0000000800004200	(fs/signalfd.c)
 *	inotify wd:2 ino:35d sdev:fe00000 mask:80000002 ignored_mask:0
 *		fhandle-bytes:8 fhandle-type:1 f_handle:5d03000000000000
 *	fanotify flags:3 event-flags:8000
 *	fanotify ino:2dd sdev:fe00000 mflags:40 mask:0 ignored_mask:2 [fhandle]
 *	fanotify mnt_id:1a mflags:0 mask:20 ignored_mask:0
 *	fanotify sdev:fe00000 mflags:0 mask:40000300 ignored_mask:0
 *	fanotify mnt_ns:4026531832 mflags:0 mask:3000000 ignored_mask:0
 *	("mnt_ns_id:ID" instead of "mnt_ns:INUM" in later kernels)
 *	clockid: 1			(fs/timerfd.c)
 *	ticks: 0
 *	settime flags: 03
 *	it_value: (99, 999998026)
 *	it_interval: (2, 500000000)
 *	Pid:	7518			(pidfd, kernel/pid.c)
 *	NSpid:	8686	1
 *	lock:	1: POSIX  ADVISORY  WRITE 7518 fe:00:10953193 0 9
 *
 * Lines of other kinds (io_uring, userfaultfd, drm, tty, ...) are skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proc/proc.h"
#include "proc/scan.h"
#include "core/cleanup.h"
#include "core/error.h"

#define KIND "fdinfo"

/* "key:NUMBER" in the middle of a line, after optional blanks. */
static bool kv_u64(struct oc_scan *s, const char *key, unsigned base, uint64_t *ret)
{
	const char *p0 = s->p;

	oc_scan_blank(s);
	if (oc_scan_key(s, key) && oc_scan_u64(s, base, ret))
		return true;
	s->p = p0;
	return false;
}

static bool kv_s64(struct oc_scan *s, const char *key, unsigned base, int64_t *ret)
{
	const char *p0 = s->p;

	oc_scan_blank(s);
	if (oc_scan_key(s, key) && oc_scan_s64(s, base, ret))
		return true;
	s->p = p0;
	return false;
}

static bool kv_u32(struct oc_scan *s, const char *key, unsigned base, uint32_t *ret)
{
	uint64_t v;

	if (!kv_u64(s, key, base, &v) || v > UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

/* Optional " fhandle-bytes:HEX fhandle-type:HEX f_handle:HEX" */
static int parse_fhandle(struct oc_scan *s, struct oc_proc_fhandle *fh)
{
	uint32_t type;
	size_t i;

	if (oc_scan_eol(s))
		return 0;
	if (!kv_u32(s, "fhandle-bytes", 16, &fh->bytes) || !kv_u32(s, "fhandle-type", 16, &type))
		return -EINVAL;
	if (fh->bytes > OC_PROC_FHANDLE_MAX)
		return -EINVAL;
	fh->type = (int32_t)type;

	oc_scan_blank(s);
	if (!oc_scan_lit(s, "f_handle:") || (size_t)(s->end - s->p) < 2 * (size_t)fh->bytes)
		return -EINVAL;
	for (i = 0; i < fh->bytes; i++) {
		struct oc_scan b = { s->start, s->p, s->p + 2, s->lineno };
		uint64_t v;

		if (*s->p == ' ' || *s->p == '\t' || !oc_scan_u64(&b, 16, &v) || !oc_scan_at_end(&b))
			return -EINVAL;
		fh->handle[i] = (uint8_t)v;
		s->p += 2;
	}
	if (!oc_scan_eol(s))
		return -EINVAL;
	fh->present = true;
	return 0;
}

/* The result being built, with the room in each of its arrays. */
struct ctx {
	struct oc_proc_fdinfo fi;
	size_t cap_tfds;
	size_t cap_wds;
	size_t cap_marks;
	size_t cap_locks;
};

/* Bits of the singular lines, to catch duplicates. */
enum {
	SEEN_POS = 1 << 0,
	SEEN_FLAGS = 1 << 1,
	SEEN_MNT_ID = 1 << 2,
	SEEN_INO = 1 << 3,
	SEEN_EVENTFD_COUNT = 1 << 4,
	SEEN_EVENTFD_ID = 1 << 5,
	SEEN_EVENTFD_SEM = 1 << 6,
	SEEN_SIGMASK = 1 << 7,
	SEEN_FANOTIFY = 1 << 8,
	SEEN_CLOCKID = 1 << 9,
	SEEN_TICKS = 1 << 10,
	SEEN_SETTIME = 1 << 11,
	SEEN_IT_VALUE = 1 << 12,
	SEEN_IT_INTERVAL = 1 << 13,
	SEEN_PID = 1 << 14,
	SEEN_NSPID = 1 << 15,
	SEEN_TIMERFD_ALL = SEEN_CLOCKID | SEEN_TICKS | SEEN_SETTIME | SEEN_IT_VALUE | SEEN_IT_INTERVAL,
};

static int p_pos(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;

	return oc_scan_s64(s, 10, &fi->pos) && oc_scan_eol(s) ? 0 : -EINVAL;
}

static int p_flags(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;
	uint32_t v;

	if (!oc_scan_u32(s, 8, &v) || !oc_scan_eol(s))
		return -EINVAL;
	fi->flags = v;
	return 0;
}

static int p_mnt_id(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;
	int32_t v;

	if (!oc_scan_s32(s, 10, &v) || !oc_scan_eol(s))
		return -EINVAL;
	fi->mnt_id = v;
	fi->has_mnt_id = true;
	return 0;
}

static int p_ino(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;

	if (!oc_scan_u64(s, 10, &fi->ino) || !oc_scan_eol(s))
		return -EINVAL;
	fi->has_ino = true;
	return 0;
}

static int p_eventfd_count(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;

	if (!oc_scan_u64(s, 16, &fi->eventfd_count) || !oc_scan_eol(s))
		return -EINVAL;
	fi->has_eventfd = true;
	return 0;
}

static int p_eventfd_id(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;
	uint32_t v;

	if (!oc_scan_u32(s, 10, &v) || !oc_scan_eol(s))
		return -EINVAL;
	fi->eventfd_id = v;
	fi->has_eventfd_id = true;
	return 0;
}

static int p_eventfd_sem(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;
	uint32_t v;

	if (!oc_scan_u32(s, 10, &v) || v > 1 || !oc_scan_eol(s))
		return -EINVAL;
	fi->eventfd_semaphore = v;
	fi->has_eventfd_semaphore = true;
	return 0;
}

static int p_tfd(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;
	struct oc_proc_epoll_tfd t = {}, *nt;
	int32_t tfd;

	if (!oc_scan_s32(s, 10, &tfd) || !kv_u32(s, "events", 16, &t.events) || !kv_u64(s, "data", 16, &t.data) ||
	    !kv_s64(s, "pos", 10, &t.pos) || !kv_u64(s, "ino", 16, &t.ino) || !kv_u32(s, "sdev", 16, &t.sdev) ||
	    !oc_scan_eol(s))
		return -EINVAL;
	t.tfd = tfd;

	nt = oc_grow(fi->epoll_tfds, &c->cap_tfds, fi->n_epoll_tfds, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	fi->epoll_tfds = nt;
	nt[fi->n_epoll_tfds++] = t;
	return 0;
}

static int p_sigmask(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;

	if (!oc_scan_u64(s, 16, &fi->signalfd_sigmask) || !oc_scan_eol(s))
		return -EINVAL;
	fi->has_signalfd = true;
	return 0;
}

static int p_inotify(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;
	struct oc_proc_inotify_wd w = {}, *nw;
	uint32_t wd;
	int r;

	/* The cursor is past "inotify wd:". */
	if (!oc_scan_u32(s, 16, &wd) || wd > INT32_MAX || !kv_u64(s, "ino", 16, &w.ino) ||
	    !kv_u32(s, "sdev", 16, &w.sdev) || !kv_u32(s, "mask", 16, &w.mask) ||
	    !kv_u32(s, "ignored_mask", 16, &w.ignored_mask))
		return -EINVAL;
	w.wd = (int)wd;
	r = parse_fhandle(s, &w.fhandle);
	if (r < 0)
		return r;

	nw = oc_grow(fi->inotify_wds, &c->cap_wds, fi->n_inotify_wds, sizeof(*nw));
	if (!nw)
		return -ENOMEM;
	fi->inotify_wds = nw;
	nw[fi->n_inotify_wds++] = w;
	return 0;
}

static int p_fanotify_group(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;

	if (!oc_scan_u32(s, 16, &fi->fanotify_flags) || !kv_u32(s, "event-flags", 16, &fi->fanotify_event_flags) ||
	    !oc_scan_eol(s))
		return -EINVAL;
	fi->has_fanotify = true;
	return 0;
}

static int fanotify_mark(struct oc_scan *s, struct ctx *c, enum oc_fanotify_mark_kind kind, bool id)
{
	struct oc_proc_fdinfo *fi = &c->fi;
	struct oc_proc_fanotify_mark m = { .kind = kind }, *nm;
	int r;

	/* The cursor is past the first key: read its value. */
	switch (kind) {
	case OC_FANOTIFY_MARK_INODE:
		if (!oc_scan_u64(s, 16, &m.ino) || !kv_u32(s, "sdev", 16, &m.sdev))
			return -EINVAL;
		break;
	case OC_FANOTIFY_MARK_MOUNT:
		if (!oc_scan_u32(s, 16, &m.mnt_id))
			return -EINVAL;
		break;
	case OC_FANOTIFY_MARK_SB:
		if (!oc_scan_u32(s, 16, &m.sdev))
			return -EINVAL;
		break;
	case OC_FANOTIFY_MARK_MNTNS:
		if (!oc_scan_u64(s, 10, id ? &m.mnt_ns_id : &m.mnt_ns))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (!kv_u32(s, "mflags", 16, &m.mflags) || !kv_u32(s, "mask", 16, &m.mask) ||
	    !kv_u32(s, "ignored_mask", 16, &m.ignored_mask))
		return -EINVAL;
	if (kind == OC_FANOTIFY_MARK_INODE) {
		r = parse_fhandle(s, &m.fhandle);
		if (r < 0)
			return r;
	} else if (!oc_scan_eol(s)) {
		return -EINVAL;
	}

	nm = oc_grow(fi->fanotify_marks, &c->cap_marks, fi->n_fanotify_marks, sizeof(*nm));
	if (!nm)
		return -ENOMEM;
	fi->fanotify_marks = nm;
	nm[fi->n_fanotify_marks++] = m;
	return 0;
}

static int p_fanotify_inode(struct oc_scan *s, struct ctx *c)
{
	return fanotify_mark(s, c, OC_FANOTIFY_MARK_INODE, false);
}

static int p_fanotify_mount(struct oc_scan *s, struct ctx *c)
{
	return fanotify_mark(s, c, OC_FANOTIFY_MARK_MOUNT, false);
}

static int p_fanotify_sb(struct oc_scan *s, struct ctx *c)
{
	return fanotify_mark(s, c, OC_FANOTIFY_MARK_SB, false);
}

static int p_fanotify_mntns(struct oc_scan *s, struct ctx *c)
{
	return fanotify_mark(s, c, OC_FANOTIFY_MARK_MNTNS, false);
}

static int p_fanotify_mntns_id(struct oc_scan *s, struct ctx *c)
{
	return fanotify_mark(s, c, OC_FANOTIFY_MARK_MNTNS, true);
}

static int p_clockid(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;
	int32_t v;

	if (!oc_scan_s32(s, 10, &v) || !oc_scan_eol(s))
		return -EINVAL;
	fi->timerfd_clockid = v;
	return 0;
}

static int p_ticks(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;

	return oc_scan_u64(s, 10, &fi->timerfd_ticks) && oc_scan_eol(s) ? 0 : -EINVAL;
}

static int p_settime(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;
	uint32_t v;

	if (!oc_scan_u32(s, 8, &v) || !oc_scan_eol(s))
		return -EINVAL;
	fi->timerfd_settime_flags = v;
	return 0;
}

/* "(SEC, NSEC)" */
static int timespec_pair(struct oc_scan *s, uint64_t *sec, uint64_t *nsec)
{
	if (!oc_scan_char(s, '(') || !oc_scan_u64(s, 10, sec) || !oc_scan_char(s, ',') || !oc_scan_u64(s, 10, nsec) ||
	    !oc_scan_char(s, ')') || !oc_scan_eol(s))
		return -EINVAL;
	return 0;
}

static int p_it_value(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;

	return timespec_pair(s, &fi->timerfd_value_sec, &fi->timerfd_value_nsec);
}

static int p_it_interval(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;

	return timespec_pair(s, &fi->timerfd_interval_sec, &fi->timerfd_interval_nsec);
}

static int p_pid(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;
	int32_t v;

	if (!oc_scan_s32(s, 10, &v) || !oc_scan_eol(s))
		return -EINVAL;
	fi->pidfd_pid = v;
	fi->has_pidfd = true;
	return 0;
}

static int p_nspid(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;
	size_t n = 0;
	int32_t v;

	while (!oc_scan_eol(s)) {
		if (n >= OC_PROC_NS_LEVELS_MAX || !oc_scan_s32(s, 10, &v) || (!oc_scan_eol(s) && !oc_scan_blank(s)))
			return -EINVAL;
		fi->pidfd_nspid[n++] = v;
	}
	if (n == 0)
		return -EINVAL;
	fi->n_pidfd_nspid = n;
	fi->has_pidfd_nspid = true;
	return 0;
}

static int p_lock(struct oc_scan *s, struct ctx *c)
{
	struct oc_proc_fdinfo *fi = &c->fi;
	char **nl, *l;

	if (oc_scan_eol(s))
		return -EINVAL;
	l = oc_strndup(s->p, (size_t)(s->end - s->p));
	if (!l)
		return -ENOMEM;
	nl = oc_grow(fi->locks, &c->cap_locks, fi->n_locks, sizeof(*nl));
	if (!nl) {
		free(l);
		return -ENOMEM;
	}
	fi->locks = nl;
	nl[fi->n_locks++] = l;
	return 0;
}

/*
 * Dispatch on the text before the first ':'.  Repeating lines (seen = 0)
 * append to an array; the others may appear once.
 */
static const struct fdinfo_line {
	const char *key;
	int (*parse)(struct oc_scan *s, struct ctx *c);
	unsigned int seen;
} lines[] = {
	{ "pos", p_pos, SEEN_POS },
	{ "flags", p_flags, SEEN_FLAGS },
	{ "mnt_id", p_mnt_id, SEEN_MNT_ID },
	{ "ino", p_ino, SEEN_INO },
	{ "eventfd-count", p_eventfd_count, SEEN_EVENTFD_COUNT },
	{ "eventfd-id", p_eventfd_id, SEEN_EVENTFD_ID },
	{ "eventfd-semaphore", p_eventfd_sem, SEEN_EVENTFD_SEM },
	{ "tfd", p_tfd, 0 },
	{ "sigmask", p_sigmask, SEEN_SIGMASK },
	{ "inotify wd", p_inotify, 0 },
	{ "fanotify flags", p_fanotify_group, SEEN_FANOTIFY },
	{ "fanotify ino", p_fanotify_inode, 0 },
	{ "fanotify mnt_id", p_fanotify_mount, 0 },
	{ "fanotify sdev", p_fanotify_sb, 0 },
	{ "fanotify mnt_ns", p_fanotify_mntns, 0 },
	{ "fanotify mnt_ns_id", p_fanotify_mntns_id, 0 },
	{ "clockid", p_clockid, SEEN_CLOCKID },
	{ "ticks", p_ticks, SEEN_TICKS },
	{ "settime flags", p_settime, SEEN_SETTIME },
	{ "it_value", p_it_value, SEEN_IT_VALUE },
	{ "it_interval", p_it_interval, SEEN_IT_INTERVAL },
	{ "Pid", p_pid, SEEN_PID },
	{ "NSpid", p_nspid, SEEN_NSPID },
	{ "lock", p_lock, 0 },
};

void oc_proc_fdinfo_clear(struct oc_proc_fdinfo *fi)
{
	size_t i;

	if (!fi)
		return;
	free(fi->epoll_tfds);
	free(fi->inotify_wds);
	free(fi->fanotify_marks);
	for (i = 0; i < fi->n_locks; i++)
		free(fi->locks[i]);
	free(fi->locks);
	memset(fi, 0, sizeof(*fi));
}

int oc_proc_parse_fdinfo(const char *text, struct oc_proc_fdinfo *ret)
{
	struct ctx c = {};
	unsigned int seen = 0;
	struct oc_lines it;
	struct oc_scan line;
	size_t i;
	int r;

	if (!text)
		return oc_error(-EINVAL, KIND ": no text");

	oc_lines_init(&it, text);
	while (oc_lines_next(&it, &line)) {
		const char *colon = memchr(line.p, ':', (size_t)(line.end - line.p));

		if (!colon)
			continue;
		for (i = 0; i < ARRAY_SIZE(lines); i++)
			if (oc_word_is(line.p, (size_t)(colon - line.p), lines[i].key))
				break;
		if (i == ARRAY_SIZE(lines))
			continue; /* another kind's line */

		if (seen & lines[i].seen) {
			r = oc_scan_bad(&line, KIND, "duplicate line");
			goto fail;
		}
		seen |= lines[i].seen;

		line.p = colon + 1;
		oc_scan_blank(&line);
		r = lines[i].parse(&line, &c);
		if (r == -ENOMEM) {
			r = oc_error(-ENOMEM, KIND ": out of memory");
			goto fail;
		}
		if (r < 0) {
			r = oc_scan_bad(&line, KIND, "malformed line");
			goto fail;
		}
	}

	if (!(seen & SEEN_POS) || !(seen & SEEN_FLAGS)) {
		r = oc_error(-EINVAL, KIND ": missing \"%s:\" line", !(seen & SEEN_POS) ? "pos" : "flags");
		goto fail;
	}
	if ((seen & SEEN_TIMERFD_ALL) && (seen & SEEN_TIMERFD_ALL) != SEEN_TIMERFD_ALL) {
		r = oc_error(-EINVAL, KIND ": incomplete timerfd lines");
		goto fail;
	}
	c.fi.has_timerfd = (seen & SEEN_TIMERFD_ALL) == SEEN_TIMERFD_ALL;

	*ret = c.fi;
	return 0;

fail:
	oc_proc_fdinfo_clear(&c.fi);
	return r;
}
