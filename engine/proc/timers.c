// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /proc/PID/timers (fs/proc/base.c show_timer()): one block per POSIX
 * timer, newest first:
 *
 *	ID: 1
 *	signal: 35/0000000000000055
 *	notify: signal/tid.7518
 *	ClockID: 0
 *
 * "notify:" is signal, none or thread, then "tid." with SIGEV_THREAD_ID or
 * "pid." otherwise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proc/proc.h"
#include "proc/scan.h"
#include "core/cleanup.h"
#include "core/error.h"

#define KIND "timers"

enum {
	HAVE_ID = 1 << 0,
	HAVE_SIGNAL = 1 << 1,
	HAVE_NOTIFY = 1 << 2,
	HAVE_CLOCK = 1 << 3,
	HAVE_ALL = HAVE_ID | HAVE_SIGNAL | HAVE_NOTIFY | HAVE_CLOCK,
};

static const char *const notify_names[OC_TIMER_NOTIFY_MAX] = {
	[OC_TIMER_NOTIFY_SIGNAL] = "signal",
	[OC_TIMER_NOTIFY_NONE] = "none",
	[OC_TIMER_NOTIFY_THREAD] = "thread",
};

static int parse_id(struct oc_scan *s, struct oc_proc_posix_timer *t)
{
	int32_t v;

	if (!oc_scan_s32(s, 10, &v) || !oc_scan_eol(s))
		return -EINVAL;
	t->id = v;
	return 0;
}

static int parse_signal(struct oc_scan *s, struct oc_proc_posix_timer *t)
{
	int32_t signo;

	if (!oc_scan_s32(s, 10, &signo) || !oc_scan_char(s, '/') || !oc_scan_u64(s, 16, &t->sigval) || !oc_scan_eol(s))
		return -EINVAL;
	t->signo = signo;
	return 0;
}

static int parse_notify(struct oc_scan *s, struct oc_proc_posix_timer *t)
{
	const char *slash = memchr(s->p, '/', (size_t)(s->end - s->p));
	int32_t pid;
	size_t i;

	if (!slash)
		return -EINVAL;
	for (i = 0; i < OC_TIMER_NOTIFY_MAX; i++)
		if (oc_word_is(s->p, (size_t)(slash - s->p), notify_names[i]))
			break;
	if (i == OC_TIMER_NOTIFY_MAX)
		return -EINVAL;
	t->notify = (enum oc_timer_notify)i;

	s->p = slash + 1;
	if (oc_scan_lit(s, "tid."))
		t->thread_id = true;
	else if (oc_scan_lit(s, "pid."))
		t->thread_id = false;
	else
		return -EINVAL;
	if (!oc_scan_s32(s, 10, &pid) || !oc_scan_eol(s))
		return -EINVAL;
	t->notify_pid = pid;
	return 0;
}

static int parse_clock(struct oc_scan *s, struct oc_proc_posix_timer *t)
{
	int32_t v;

	if (!oc_scan_s32(s, 10, &v) || !oc_scan_eol(s))
		return -EINVAL;
	t->clock_id = v;
	return 0;
}

static const struct {
	const char *key;
	unsigned int bit;
	int (*parse)(struct oc_scan *s, struct oc_proc_posix_timer *t);
} keys[] = {
	{ "ID", HAVE_ID, parse_id },
	{ "signal", HAVE_SIGNAL, parse_signal },
	{ "notify", HAVE_NOTIFY, parse_notify },
	{ "ClockID", HAVE_CLOCK, parse_clock },
};

int oc_proc_parse_timers(const char *text, struct oc_proc_posix_timer **ret, size_t *ret_n)
{
	_cleanup_free_ struct oc_proc_posix_timer *timers = NULL;
	struct oc_proc_posix_timer *cur = NULL;
	size_t n = 0, cap = 0, i;
	unsigned int have = 0;
	struct oc_lines it;
	struct oc_scan line;

	if (!text)
		return oc_error(-EINVAL, KIND ": no text");

	oc_lines_init(&it, text);
	while (oc_lines_next(&it, &line)) {
		const char *colon;

		if (oc_scan_eol(&line))
			continue;
		colon = memchr(line.p, ':', (size_t)(line.end - line.p));
		if (!colon)
			return oc_scan_bad(&line, KIND, "not a \"Key: value\" line");
		for (i = 0; i < ARRAY_SIZE(keys); i++)
			if (oc_word_is(line.p, (size_t)(colon - line.p), keys[i].key))
				break;
		if (i == ARRAY_SIZE(keys))
			continue;

		if (keys[i].bit == HAVE_ID) {
			struct oc_proc_posix_timer *nt;

			if (cur && have != HAVE_ALL)
				return oc_scan_bad(&line, KIND, "timer before this one is incomplete");
			nt = oc_grow(timers, &cap, n, sizeof(*timers));
			if (!nt)
				return oc_error(-ENOMEM, KIND ": out of memory");
			timers = nt;
			cur = &timers[n++];
			memset(cur, 0, sizeof(*cur));
			have = 0;
		} else if (!cur) {
			return oc_scan_bad(&line, KIND, "line before the first \"ID:\"");
		} else if (have & keys[i].bit) {
			return oc_scan_bad(&line, KIND, "duplicate line");
		}

		line.p = colon + 1;
		oc_scan_blank(&line);
		if (keys[i].parse(&line, cur) < 0)
			return oc_scan_bad(&line, KIND, "malformed line");
		have |= keys[i].bit;
	}
	if (cur && have != HAVE_ALL)
		return oc_error(-EINVAL, KIND ": last timer is incomplete");

	*ret = n ? TAKE_PTR(timers) : NULL;
	*ret_n = n;
	return 0;
}
