// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /proc/locks (fs/locks.c lock_get_status()):
 *
 *	1: POSIX  ADVISORY  WRITE 7518 fe:00:10953193 0 9
 *	2: FLOCK  ADVISORY  WRITE 7518 fe:00:10953194 0 EOF
 *	2: -> FLOCK  ADVISORY  WRITE 7520 fe:00:10953194 0 EOF
 *	3: OFDLCK ADVISORY  READ -1 fe:00:10953193 20 EOF
 *	4: LEASE  ACTIVE    READ 7518 fe:00:10953195 0 EOF
 *	5: POSIX  *NOINODE* WRITE 42 <none>:0 0 EOF
 *
 * A blocked waiter repeats the id of the lock it waits for and has "->"
 * (indented by its depth) before the kind.  fdinfo "lock:" lines have the
 * same format.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proc/proc.h"
#include "proc/scan.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#define KIND "locks"

static const char *const kind_names[OC_LOCK_KIND_MAX] = {
	[OC_LOCK_POSIX] = "POSIX",     [OC_LOCK_FLOCK] = "FLOCK", [OC_LOCK_OFD] = "OFDLCK",
	[OC_LOCK_LEASE] = "LEASE",     [OC_LOCK_DELEG] = "DELEG", [OC_LOCK_ACCESS] = "ACCESS",
	[OC_LOCK_UNKNOWN] = "UNKNOWN",
};

static const char *const mode_names[OC_LOCK_MODE_MAX] = {
	[OC_LOCK_ADVISORY] = "ADVISORY",    [OC_LOCK_MANDATORY] = "MANDATORY", [OC_LOCK_NOINODE] = "*NOINODE*",
	[OC_LOCK_ACTIVE] = "ACTIVE",	    [OC_LOCK_BREAKING] = "BREAKING",   [OC_LOCK_BREAKER] = "BREAKER",
	[OC_LOCK_MODE_UNKNOWN] = "UNKNOWN",
};

static const char *const type_names[OC_LOCK_TYPE_MAX] = {
	[OC_LOCK_READ] = "READ",
	[OC_LOCK_WRITE] = "WRITE",
	[OC_LOCK_UNLCK] = "UNLCK",
};

/* The index of the next word in @names, or -1. */
static int scan_name(struct oc_scan *s, const char *const *names, size_t n)
{
	const char *w;
	size_t len, i;

	if (!oc_scan_word(s, &w, &len))
		return -1;
	for (i = 0; i < n; i++)
		if (names[i] && oc_word_is(w, len, names[i]))
			return (int)i;
	return -1;
}

/* 1 for a lock, 0 for a blocked waiter, -EINVAL when malformed. */
static int parse_lock(struct oc_scan *s, struct oc_proc_lock *l)
{
	int kind, mode, type;
	int32_t pid;
	uint32_t maj, min;

	if (!oc_scan_u64(s, 10, &l->id) || !oc_scan_char(s, ':') || !oc_scan_blank(s))
		return -EINVAL;
	if (oc_scan_lit(s, "->"))
		return 0;

	kind = scan_name(s, kind_names, OC_LOCK_KIND_MAX);
	mode = scan_name(s, mode_names, OC_LOCK_MODE_MAX);
	type = scan_name(s, type_names, OC_LOCK_TYPE_MAX);
	if (kind < 0 || mode < 0 || type < 0)
		return -EINVAL;
	l->kind = (enum oc_lock_kind)kind;
	l->mode = (enum oc_lock_mode)mode;
	l->type = (enum oc_lock_type)type;

	if (!oc_scan_s32(s, 10, &pid) || !oc_scan_blank(s))
		return -EINVAL;
	l->pid = pid;

	if (oc_scan_lit(s, "<none>:0")) {
		l->has_inode = false;
	} else {
		if (!oc_scan_u32(s, 16, &maj) || !oc_scan_char(s, ':') || !oc_scan_u32(s, 16, &min) ||
		    !oc_scan_char(s, ':') || !oc_scan_u64(s, 10, &l->inode))
			return -EINVAL;
		l->dev_major = maj;
		l->dev_minor = min;
		l->has_inode = true;
	}
	if (!oc_scan_blank(s) || !oc_scan_s64(s, 10, &l->start) || !oc_scan_blank(s))
		return -EINVAL;
	if (oc_scan_lit(s, "EOF"))
		l->end = -1;
	else if (!oc_scan_s64(s, 10, &l->end))
		return -EINVAL;
	if (!oc_scan_eol(s))
		return -EINVAL;
	return 1;
}

int oc_proc_parse_locks(const char *text, struct oc_proc_lock **ret, size_t *ret_n)
{
	_cleanup_free_ struct oc_proc_lock *locks = NULL;
	size_t n = 0, cap = 0, waiters = 0;
	struct oc_lines it;
	struct oc_scan line;

	if (!text)
		return oc_error(-EINVAL, KIND ": no text");

	oc_lines_init(&it, text);
	while (oc_lines_next(&it, &line)) {
		struct oc_proc_lock l = {}, *nl;
		int r;

		if (oc_scan_eol(&line))
			continue;
		r = parse_lock(&line, &l);
		if (r < 0)
			return oc_scan_bad(&line, KIND, "malformed line");
		if (r == 0) {
			waiters++;
			continue;
		}
		nl = oc_grow(locks, &cap, n, sizeof(*locks));
		if (!nl)
			return oc_error(-ENOMEM, KIND ": out of memory");
		locks = nl;
		locks[n++] = l;
	}
	pr_debug("locks: %zu locks, %zu blocked waiters skipped", n, waiters);
	*ret = n ? TAKE_PTR(locks) : NULL;
	*ret_n = n;
	return 0;
}
