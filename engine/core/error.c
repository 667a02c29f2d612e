// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

#define ERROR_MSG_MAX 4096

static __thread char error_msg[ERROR_MSG_MAX];

/* Length of the valid UTF-8 sequence at @s (1 to 4), 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;

	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

size_t oc_escape_ctl(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	if (!size)
		return 0;
	while (*s && o + 1 < size) {
		size_t n = *s >= 0x80 ? utf8_len(s) : 1;
		char esc[8];
		/* C0 and C1 controls, DEL and broken UTF-8 are shown escaped */
		bool ctl = *s < 0x20 || *s == 0x7f || n == 0 || (n == 2 && s[0] == 0xc2 && s[1] < 0xa0);
		if (!ctl) {
			if (o + n >= size)
				break;
			memcpy(dst + o, s, n);
			o += n;
			s += n;
			continue;
		}
		if (*s == '\n' || *s == '\t' || *s == '\r')
			snprintf(esc, sizeof(esc), "\\%c", *s == '\n' ? 'n' : *s == '\t' ? 't' : 'r');
		else if (n == 2)
			snprintf(esc, sizeof(esc), "\\u%04x", s[1]);
		else
			snprintf(esc, sizeof(esc), "\\x%02x", *s);
		size_t l = strlen(esc);
		if (o + l >= size)
			break;
		memcpy(dst + o, esc, l);
		o += l;
		s += n ? n : 1;
	}
	dst[o] = '\0';
	return o;
}

/* Strings from images end up in messages: escape them where they land. */
static void error_store(const char *msg)
{
	oc_escape_ctl(error_msg, sizeof(error_msg), msg);
}

static void error_vset(int err, bool with_errno, const char *fmt, va_list ap)
{
	char raw[ERROR_MSG_MAX];
	int n = vsnprintf(raw, sizeof(raw), fmt, ap);

	if (with_errno && n >= 0 && (size_t)n < sizeof(raw))
		snprintf(raw + n, sizeof(raw) - n, ": %s", strerror(-err));
	error_store(raw);
}

OC_API int oc_error(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, false, fmt, ap);
	va_end(ap);
	return err;
}

OC_API int oc_error_errno(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, true, fmt, ap);
	va_end(ap);
	return err;
}

OC_API int oc_error_wrap(int err, const char *fmt, ...)
{
	char prev[ERROR_MSG_MAX];
	va_list ap;

	if (error_msg[0])
		memcpy(prev, error_msg, sizeof(prev));
	else
		snprintf(prev, sizeof(prev), "%s", strerror(-err));

	char raw[ERROR_MSG_MAX];
	va_start(ap, fmt);
	int n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(raw))
		snprintf(raw + n, sizeof(raw) - n, ": %s", prev);
	error_store(raw);
	return err;
}

OC_API const char *oc_error_message(void)
{
	return error_msg;
}

void oc_error_clear(void)
{
	error_msg[0] = '\0';
}
