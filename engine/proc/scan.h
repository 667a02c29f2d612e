/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal helpers shared by the /proc parsers: a line iterator over a
 * NUL-terminated buffer, a cursor over one line, strict number scanners and
 * one way to report a bad line.  Not part of the proc.h interface.
 *
 * The scanners never read past the end of the line, never skip a newline,
 * and leave the cursor untouched when they fail.
 */
#ifndef OCICR_PROC_SCAN_H
#define OCICR_PROC_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One line: [start, end), without its '\n'; p is the cursor. */
struct oc_scan {
	const char *start;
	const char *p;
	const char *end;
	unsigned lineno; /* 1-based */
};

struct oc_lines {
	const char *next;
	unsigned lineno;
};

static inline void oc_lines_init(struct oc_lines *it, const char *text)
{
	it->next = text;
	it->lineno = 0;
}

/* Fill @line with the next line; false at the end of the text. */
bool oc_lines_next(struct oc_lines *it, struct oc_scan *line);

/* Make a cursor over a whole NUL-terminated string (one "line"). */
void oc_scan_init(struct oc_scan *s, const char *str);

static inline bool oc_scan_at_end(const struct oc_scan *s)
{
	return s->p >= s->end;
}

/* Skip spaces and tabs; returns true if at least one was skipped. */
bool oc_scan_blank(struct oc_scan *s);

/* True if only blanks remain (and skips them). */
bool oc_scan_eol(struct oc_scan *s);

/* Match the literal @lit at the cursor and step over it. */
bool oc_scan_lit(struct oc_scan *s, const char *lit);

/* Match one character. */
bool oc_scan_char(struct oc_scan *s, char c);

/*
 * "KEY:" at the start of the line: match @key followed by ':' and step over
 * both and the blanks after them.
 */
bool oc_scan_key(struct oc_scan *s, const char *key);

/*
 * Numbers.  Leading blanks are skipped; then at least one digit of @base
 * (8, 10 or 16; no "0x" prefix, no sign for the unsigned kinds) must follow.
 * Values out of range fail.  The cursor stops at the first non-digit: the
 * caller checks what follows.
 */
bool oc_scan_u64(struct oc_scan *s, unsigned base, uint64_t *ret);
bool oc_scan_s64(struct oc_scan *s, unsigned base, int64_t *ret);
bool oc_scan_u32(struct oc_scan *s, unsigned base, uint32_t *ret);
bool oc_scan_s32(struct oc_scan *s, unsigned base, int32_t *ret);

/* A run of non-blank characters (after skipping blanks); false if empty. */
bool oc_scan_word(struct oc_scan *s, const char **ret_word, size_t *ret_len);

static inline bool oc_word_is(const char *w, size_t len, const char *lit)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (lit[i] != w[i] || lit[i] == '\0')
			return false;
	return lit[len] == '\0';
}

/*
 * Record "@kind: line N: @what: "LINE"" as the error (the line is cut and
 * made printable) and return -EINVAL.
 */
int oc_scan_bad(const struct oc_scan *line, const char *kind, const char *what);

/*
 * Make room for element @n of a growing array of @size-byte elements with
 * room for *@cap: returns @arr itself when it has room, else a larger copy
 * (updating *@cap), or NULL when out of memory (@arr is then left as is).
 */
void *oc_grow(void *arr, size_t *cap, size_t n, size_t size);

/* Copy [p, p + len) into a new NUL-terminated string. */
char *oc_strndup(const char *p, size_t len);

#endif
