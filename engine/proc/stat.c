// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /proc/PID/stat and /proc/PID/task/TID/stat: one line of space-separated
 * fields (fs/proc/array.c do_task_stat()), the second being "(comm)".  The
 * comm is raw, so it is taken between the first '(' and the last ')'.
 */
#include <errno.h>
#include <string.h>

#include "proc/proc.h"
#include "proc/scan.h"
#include "core/cleanup.h"
#include "core/error.h"

#define KIND "stat"

/* Fields 1-44 exist since Linux 2.6.24, 45-51 since 3.3, 52 since 3.5. */
#define FIELDS_REQUIRED 44
#define FIELD_MM_LAST	51
#define FIELD_EXIT_CODE 52

enum field_type {
	F_NONE = 0, /* parsed as a number, not kept */
	F_S32,
	F_U32,
	F_S64,
	F_U64,
};

#define F(n, t, m) [n] = { t, offsetof(struct oc_proc_stat, m) }

/* Indexed by field number; 1-3 are parsed by hand. */
static const struct stat_field {
	enum field_type type;
	size_t offset;
} fields[FIELD_EXIT_CODE + 1] = {
	F(4, F_S32, ppid),
	F(5, F_S32, pgrp),
	F(6, F_S32, session),
	F(7, F_S32, tty_nr),
	F(8, F_S32, tpgid),
	F(9, F_U32, flags),
	F(10, F_U64, minflt),
	F(11, F_U64, cminflt),
	F(12, F_U64, majflt),
	F(13, F_U64, cmajflt),
	F(14, F_U64, utime),
	F(15, F_U64, stime),
	F(16, F_S64, cutime),
	F(17, F_S64, cstime),
	F(18, F_S64, priority),
	F(19, F_S64, nice),
	F(20, F_S64, num_threads),
	/* 21: itrealvalue, always 0 */
	F(22, F_U64, starttime),
	F(23, F_U64, vsize),
	F(24, F_S64, rss),
	F(25, F_U64, rsslim),
	F(26, F_U64, start_code),
	F(27, F_U64, end_code),
	F(28, F_U64, start_stack),
	F(29, F_U64, kstkesp),
	F(30, F_U64, kstkeip),
	/* 31-34: signal, blocked, sigignore, sigcatch; obsolete, see status */
	F(35, F_U64, wchan),
	/* 36-37: nswap, cnswap, always 0 */
	F(38, F_S32, exit_signal),
	F(39, F_S32, processor),
	F(40, F_U32, rt_priority),
	F(41, F_U32, policy),
	F(42, F_U64, delayacct_blkio_ticks),
	F(43, F_U64, guest_time),
	F(44, F_S64, cguest_time),
	F(45, F_U64, start_data),
	F(46, F_U64, end_data),
	F(47, F_U64, start_brk),
	F(48, F_U64, arg_start),
	F(49, F_U64, arg_end),
	F(50, F_U64, env_start),
	F(51, F_U64, env_end),
	F(52, F_S32, exit_code),
};

static bool parse_field(struct oc_scan *s, unsigned n, struct oc_proc_stat *st)
{
	const struct stat_field *f = n < ARRAY_SIZE(fields) ? &fields[n] : &fields[0];
	void *val = (char *)st + f->offset;
	uint64_t u;
	int64_t i;

	switch (f->type) {
	case F_NONE:
		return oc_scan_s64(s, 10, &i) || oc_scan_u64(s, 10, &u);
	case F_S32:
		return oc_scan_s32(s, 10, (int32_t *)val);
	case F_U32:
		return oc_scan_u32(s, 10, (uint32_t *)val);
	case F_S64:
		return oc_scan_s64(s, 10, (int64_t *)val);
	case F_U64:
		return oc_scan_u64(s, 10, (uint64_t *)val);
	}
	return false;
}

int oc_proc_parse_stat(const char *text, struct oc_proc_stat *ret)
{
	struct oc_proc_stat st = {};
	const char *lparen, *rparen, *nl;
	struct oc_scan s;
	int32_t pid;
	unsigned n;
	size_t len;

	if (!text)
		return oc_error(-EINVAL, KIND ": no text");
	oc_scan_init(&s, text);
	if (oc_scan_eol(&s))
		return oc_error(-EINVAL, KIND ": empty");

	lparen = strchr(text, '(');
	rparen = strrchr(text, ')');
	if (!lparen || !rparen || rparen < lparen)
		return oc_scan_bad(&s, KIND, "no \"(comm)\"");

	/* "PID (" */
	s.end = lparen;
	if (!oc_scan_s32(&s, 10, &pid) || pid < 0 || !oc_scan_lit(&s, " ") || !oc_scan_at_end(&s))
		return oc_scan_bad(&s, KIND, "bad pid");
	st.pid = pid;

	len = (size_t)(rparen - lparen - 1);
	if (len >= sizeof(st.comm))
		return oc_scan_bad(&s, KIND, "comm too long");
	memcpy(st.comm, lparen + 1, len);
	st.comm[len] = '\0';

	/* The rest of the line after ") ". */
	nl = strchr(rparen, '\n');
	s.p = rparen + 1;
	s.end = nl ? nl : rparen + strlen(rparen);
	if (!oc_scan_lit(&s, " ") || oc_scan_at_end(&s) || *s.p == ' ')
		return oc_scan_bad(&s, KIND, "bad state");
	st.state = *s.p++;

	for (n = 4; !oc_scan_eol(&s); n++) {
		if (!oc_scan_lit(&s, " ") || !parse_field(&s, n, &st) || (!oc_scan_at_end(&s) && *s.p != ' ')) {
			const char *tok = s.p;
			size_t tlen = 0;

			while (tok + tlen < s.end && tok[tlen] != ' ' && tlen < 32)
				tlen++;
			return oc_error(-EINVAL, KIND ": field %u is not a number: \"%.*s\"", n, (int)tlen, tok);
		}
	}
	n--; /* the number of fields */

	if (n < FIELDS_REQUIRED)
		return oc_error(-EINVAL, KIND ": only %u fields, expected at least %u", n, FIELDS_REQUIRED);
	st.has_mm_layout = n >= FIELD_MM_LAST;
	st.has_exit_code = n >= FIELD_EXIT_CODE;

	*ret = st;
	return 0;
}
