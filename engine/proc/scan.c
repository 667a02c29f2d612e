// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proc/scan.h"
#include "core/error.h"

/* How much of a bad line goes into an error message. */
#define BAD_LINE_MAX 96

bool oc_lines_next(struct oc_lines *it, struct oc_scan *line)
{
	const char *nl;

	if (!it->next || *it->next == '\0')
		return false;

	nl = strchr(it->next, '\n');
	line->start = line->p = it->next;
	line->end = nl ? nl : it->next + strlen(it->next);
	line->lineno = ++it->lineno;
	it->next = nl ? nl + 1 : line->end;
	return true;
}

void oc_scan_init(struct oc_scan *s, const char *str)
{
	s->start = s->p = str;
	s->end = str + strlen(str);
	s->lineno = 1;
}

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

bool oc_scan_blank(struct oc_scan *s)
{
	const char *p0 = s->p;

	while (s->p < s->end && is_blank(*s->p))
		s->p++;
	return s->p != p0;
}

bool oc_scan_eol(struct oc_scan *s)
{
	const char *p = s->p;

	while (p < s->end && is_blank(*p))
		p++;
	if (p != s->end)
		return false;
	s->p = p;
	return true;
}

bool oc_scan_lit(struct oc_scan *s, const char *lit)
{
	size_t len = strlen(lit);

	if ((size_t)(s->end - s->p) < len || memcmp(s->p, lit, len) != 0)
		return false;
	s->p += len;
	return true;
}

bool oc_scan_char(struct oc_scan *s, char c)
{
	if (s->p >= s->end || *s->p != c)
		return false;
	s->p++;
	return true;
}

bool oc_scan_key(struct oc_scan *s, const char *key)
{
	const char *p0 = s->p;

	if (!oc_scan_lit(s, key) || !oc_scan_char(s, ':')) {
		s->p = p0;
		return false;
	}
	oc_scan_blank(s);
	return true;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* Digits only, no blanks, no sign; the cursor moves only on success. */
static bool scan_digits(struct oc_scan *s, unsigned base, uint64_t *ret)
{
	const char *p = s->p;
	uint64_t v = 0;
	int d;

	if (p >= s->end || (unsigned)digit_value(*p) >= base)
		return false;

	for (; p < s->end && (unsigned)(d = digit_value(*p)) < base; p++) {
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return false;
		v = v * base + (unsigned)d;
	}
	s->p = p;
	*ret = v;
	return true;
}

bool oc_scan_u64(struct oc_scan *s, unsigned base, uint64_t *ret)
{
	const char *p0 = s->p;

	oc_scan_blank(s);
	if (!scan_digits(s, base, ret)) {
		s->p = p0;
		return false;
	}
	return true;
}

bool oc_scan_s64(struct oc_scan *s, unsigned base, int64_t *ret)
{
	const char *p0 = s->p;
	bool neg;
	uint64_t v;

	oc_scan_blank(s);
	neg = oc_scan_char(s, '-');
	if (!scan_digits(s, base, &v))
		goto fail;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			goto fail;
		*ret = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > INT64_MAX)
			goto fail;
		*ret = (int64_t)v;
	}
	return true;
fail:
	s->p = p0;
	return false;
}

bool oc_scan_u32(struct oc_scan *s, unsigned base, uint32_t *ret)
{
	const char *p0 = s->p;
	uint64_t v;

	if (!oc_scan_u64(s, base, &v))
		return false;
	if (v > UINT32_MAX) {
		s->p = p0;
		return false;
	}
	*ret = (uint32_t)v;
	return true;
}

bool oc_scan_s32(struct oc_scan *s, unsigned base, int32_t *ret)
{
	const char *p0 = s->p;
	int64_t v;

	if (!oc_scan_s64(s, base, &v))
		return false;
	if (v < INT32_MIN || v > INT32_MAX) {
		s->p = p0;
		return false;
	}
	*ret = (int32_t)v;
	return true;
}

bool oc_scan_word(struct oc_scan *s, const char **ret_word, size_t *ret_len)
{
	const char *w;

	oc_scan_blank(s);
	w = s->p;
	while (s->p < s->end && !is_blank(*s->p))
		s->p++;
	if (s->p == w)
		return false;
	*ret_word = w;
	*ret_len = (size_t)(s->p - w);
	return true;
}

int oc_scan_bad(const struct oc_scan *line, const char *kind, const char *what)
{
	char shown[BAD_LINE_MAX + 4];
	size_t len = (size_t)(line->end - line->start), i;
	bool cut = len > BAD_LINE_MAX;

	if (cut)
		len = BAD_LINE_MAX;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line->start[i];

		shown[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	if (cut)
		memcpy(shown + len, "...", 3), len += 3;
	shown[len] = '\0';

	return oc_error(-EINVAL, "%s: line %u: %s: \"%s\"", kind, line->lineno, what, shown);
}

void *oc_grow(void *arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return arr;

	ncap = *cap ? *cap * 2 : 8;
	if (ncap <= n)
		ncap = n + 1;
	if (ncap > SIZE_MAX / size)
		return NULL;

	p = realloc(arr, ncap * size);
	if (!p)
		return NULL;
	*cap = ncap;
	return p;
}

char *oc_strndup(const char *p, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		return NULL;
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}
