// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /proc/PID/status: "Key:\tvalue" lines (fs/proc/array.c).  The fields we
 * keep are described by one table; the rest are skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proc/proc.h"
#include "proc/scan.h"
#include "core/cleanup.h"
#include "core/error.h"

#define KIND "status"

enum field_type {
	F_NAME,	  /* the task name, escaped */
	F_STATE,  /* "S (sleeping)" */
	F_PID,	  /* one decimal pid_t */
	F_U32,	  /* one decimal unsigned */
	F_OCT,	  /* one octal unsigned (Umask) */
	F_BOOL,	  /* 0 or 1 */
	F_HEX64,  /* a signal or capability mask */
	F_IDS4,	  /* four decimal uids or gids */
	F_GROUPS, /* any number of decimal gids */
	F_NSPIDS, /* one pid per pid namespace level */
	F_SIGQ,	  /* "queued/limit" */
};

#define NO_HAS ((size_t)-1)
#define HAS(f) offsetof(struct oc_proc_status, f)
#define VAL(f) offsetof(struct oc_proc_status, f)

static const struct status_field {
	const char *key;
	enum field_type type;
	size_t val;   /* offset of the value */
	size_t has;   /* offset of its has_ flag, or NO_HAS when required */
	size_t count; /* offset of the count, for arrays */
} fields[] = {
	{ "Name", F_NAME, VAL(name), NO_HAS, 0 },
	{ "Umask", F_OCT, VAL(umask), HAS(has_umask), 0 },
	{ "State", F_STATE, VAL(state), NO_HAS, 0 },
	{ "Tgid", F_PID, VAL(tgid), NO_HAS, 0 },
	{ "Pid", F_PID, VAL(pid), NO_HAS, 0 },
	{ "PPid", F_PID, VAL(ppid), NO_HAS, 0 },
	{ "TracerPid", F_PID, VAL(tracer_pid), HAS(has_tracer_pid), 0 },
	{ "Uid", F_IDS4, VAL(uid), NO_HAS, 0 },
	{ "Gid", F_IDS4, VAL(gid), NO_HAS, 0 },
	{ "Groups", F_GROUPS, VAL(groups), HAS(has_groups), VAL(n_groups) },
	{ "NStgid", F_NSPIDS, VAL(nstgid), HAS(has_nstgid), VAL(n_nstgid) },
	{ "NSpid", F_NSPIDS, VAL(nspid), HAS(has_nspid), VAL(n_nspid) },
	{ "NSpgid", F_NSPIDS, VAL(nspgid), HAS(has_nspgid), VAL(n_nspgid) },
	{ "NSsid", F_NSPIDS, VAL(nssid), HAS(has_nssid), VAL(n_nssid) },
	{ "Threads", F_U32, VAL(threads), HAS(has_threads), 0 },
	{ "SigQ", F_SIGQ, 0, HAS(has_sigq), 0 },
	{ "SigPnd", F_HEX64, VAL(sigpnd), HAS(has_sigpnd), 0 },
	{ "ShdPnd", F_HEX64, VAL(shdpnd), HAS(has_shdpnd), 0 },
	{ "SigBlk", F_HEX64, VAL(sigblk), HAS(has_sigblk), 0 },
	{ "SigIgn", F_HEX64, VAL(sigign), HAS(has_sigign), 0 },
	{ "SigCgt", F_HEX64, VAL(sigcgt), HAS(has_sigcgt), 0 },
	{ "CapInh", F_HEX64, VAL(cap_inh), HAS(has_cap_inh), 0 },
	{ "CapPrm", F_HEX64, VAL(cap_prm), HAS(has_cap_prm), 0 },
	{ "CapEff", F_HEX64, VAL(cap_eff), HAS(has_cap_eff), 0 },
	{ "CapBnd", F_HEX64, VAL(cap_bnd), HAS(has_cap_bnd), 0 },
	{ "CapAmb", F_HEX64, VAL(cap_amb), HAS(has_cap_amb), 0 },
	{ "NoNewPrivs", F_BOOL, VAL(no_new_privs), HAS(has_no_new_privs), 0 },
	{ "Seccomp", F_U32, VAL(seccomp), HAS(has_seccomp), 0 },
	{ "Seccomp_filters", F_U32, VAL(seccomp_filters), HAS(has_seccomp_filters), 0 },
};

/*
 * The kernel escapes '\n' as "\n" and '\\' as "\\" in Name (proc_task_name()
 * with ESCAPE_SPACE | ESCAPE_SPECIAL limited to "\n\\"); nothing else.
 */
static int parse_name(struct oc_scan *s, char *name)
{
	size_t n = 0;
	const char *p;

	/* Only the blank after "Name:" was skipped; the name may start with more. */
	for (p = s->p; p < s->end; p++) {
		char c = *p;

		if (c == '\\') {
			if (p + 1 >= s->end || (p[1] != 'n' && p[1] != '\\'))
				return oc_scan_bad(s, KIND, "bad escape in Name");
			c = p[1] == 'n' ? '\n' : '\\';
			p++;
		}
		if (n + 1 >= OC_PROC_COMM_MAX)
			return oc_scan_bad(s, KIND, "Name too long");
		name[n++] = c;
	}
	name[n] = '\0';
	s->p = s->end;
	return 0;
}

static int parse_value(struct oc_scan *s, const struct status_field *f, struct oc_proc_status *st)
{
	char *val = (char *)st + f->val;
	uint32_t u;
	uint64_t x;
	int32_t i;
	size_t k;

	switch (f->type) {
	case F_NAME:
		return parse_name(s, val);
	case F_STATE:
		if (oc_scan_at_end(s) || *s->p == ' ' || *s->p == '\t')
			return oc_scan_bad(s, KIND, "bad State");
		*val = *s->p++;
		/* " (description)" follows; not needed. */
		if (!oc_scan_eol(s) && !oc_scan_blank(s))
			return oc_scan_bad(s, KIND, "bad State");
		s->p = s->end;
		return 0;
	case F_PID:
		if (!oc_scan_s32(s, 10, &i) || !oc_scan_eol(s))
			break;
		*(pid_t *)val = i;
		return 0;
	case F_U32:
	case F_OCT:
		if (!oc_scan_u32(s, f->type == F_OCT ? 8 : 10, &u) || !oc_scan_eol(s))
			break;
		if (f->type == F_OCT)
			*(mode_t *)val = u;
		else
			*(unsigned int *)val = u;
		return 0;
	case F_BOOL:
		if (!oc_scan_u32(s, 10, &u) || u > 1 || !oc_scan_eol(s))
			break;
		*(bool *)val = u;
		return 0;
	case F_HEX64:
		if (!oc_scan_u64(s, 16, &x) || !oc_scan_eol(s))
			break;
		*(uint64_t *)val = x;
		return 0;
	case F_IDS4:
		for (k = 0; k < 4; k++) {
			if (!oc_scan_u32(s, 10, &u))
				return oc_scan_bad(s, KIND, "expected 4 ids");
			((uint32_t *)val)[k] = u;
		}
		if (!oc_scan_eol(s))
			return oc_scan_bad(s, KIND, "expected 4 ids");
		return 0;
	case F_GROUPS: {
		gid_t *groups = NULL, *ng;
		size_t n = 0, cap = 0;

		while (!oc_scan_eol(s)) {
			if (!oc_scan_u32(s, 10, &u) || (!oc_scan_eol(s) && !oc_scan_blank(s))) {
				free(groups);
				return oc_scan_bad(s, KIND, "bad Groups");
			}
			ng = oc_grow(groups, &cap, n, sizeof(*groups));
			if (!ng) {
				free(groups);
				return oc_error(-ENOMEM, KIND ": out of memory");
			}
			groups = ng;
			groups[n++] = u;
		}
		*(gid_t **)val = groups;
		*(size_t *)((char *)st + f->count) = n;
		return 0;
	}
	case F_NSPIDS: {
		size_t n = 0;

		while (!oc_scan_eol(s)) {
			if (n >= OC_PROC_NS_LEVELS_MAX)
				return oc_scan_bad(s, KIND, "too many pid namespace levels");
			if (!oc_scan_s32(s, 10, &i) || (!oc_scan_eol(s) && !oc_scan_blank(s)))
				return oc_scan_bad(s, KIND, "bad pid list");
			((pid_t *)val)[n++] = i;
		}
		if (n == 0)
			return oc_scan_bad(s, KIND, "empty pid list");
		*(size_t *)((char *)st + f->count) = n;
		return 0;
	}
	case F_SIGQ:
		if (!oc_scan_u64(s, 10, &st->sigq_queued) || !oc_scan_char(s, '/') ||
		    !oc_scan_u64(s, 10, &st->sigq_limit) || !oc_scan_eol(s))
			break;
		return 0;
	}
	return oc_scan_bad(s, KIND, "bad value");
}

void oc_proc_status_clear(struct oc_proc_status *st)
{
	if (!st)
		return;
	free(st->groups);
	memset(st, 0, sizeof(*st));
}

int oc_proc_parse_status(const char *text, struct oc_proc_status *ret)
{
	struct oc_proc_status st = {};
	uint64_t seen = 0;
	struct oc_lines it;
	struct oc_scan line;
	size_t i;
	int r;

	if (!text)
		return oc_error(-EINVAL, KIND ": no text");

	oc_lines_init(&it, text);
	while (oc_lines_next(&it, &line)) {
		const char *colon;

		if (oc_scan_eol(&line))
			continue;
		colon = memchr(line.p, ':', (size_t)(line.end - line.p));
		if (!colon || colon == line.p) {
			r = oc_scan_bad(&line, KIND, "not a \"Key: value\" line");
			goto fail;
		}

		for (i = 0; i < ARRAY_SIZE(fields); i++) {
			if (!oc_word_is(line.p, (size_t)(colon - line.p), fields[i].key))
				continue;
			if (seen & (1ULL << i)) {
				r = oc_scan_bad(&line, KIND, "duplicate line");
				goto fail;
			}
			seen |= 1ULL << i;
			line.p = colon + 1;
			/* A name may itself start with blanks: skip only the tab. */
			if (fields[i].type == F_NAME)
				oc_scan_char(&line, '\t');
			else
				oc_scan_blank(&line);
			r = parse_value(&line, &fields[i], &st);
			if (r < 0)
				goto fail;
			if (fields[i].has != NO_HAS)
				*(bool *)((char *)&st + fields[i].has) = true;
			break;
		}
	}

	for (i = 0; i < ARRAY_SIZE(fields); i++)
		if (fields[i].has == NO_HAS && !(seen & (1ULL << i))) {
			r = oc_error(-EINVAL, KIND ": missing \"%s:\" line", fields[i].key);
			goto fail;
		}

	*ret = st;
	return 0;

fail:
	oc_proc_status_clear(&st);
	return r;
}
