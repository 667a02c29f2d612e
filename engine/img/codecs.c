// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The text conversions crit applies to image fields, reproduced byte for
 * byte: base64 in base64.encodebytes() layout, quoted-printable as
 * quopri.encodestring() writes it, IP addresses as the ipaddress module
 * prints them, integers as int(s, 0) reads them, and --nopl sizes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img/json.h"

/* ---- base64 ------------------------------------------------------------ */

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* encodebytes() encodes 57 input bytes per 76-character line. */
#define B64_LINE_IN 57

char *oc_base64_encode(const void *data, size_t len, size_t *ret_len)
{
	const uint8_t *in = data;
	size_t groups = (len + 2) / 3, lines = (len + B64_LINE_IN - 1) / B64_LINE_IN;
	char *out, *p;

	if (groups > (SIZE_MAX - lines - 1) / 4)
		return NULL;
	out = malloc(groups * 4 + lines + 1);
	if (!out)
		return NULL;
	p = out;
	for (size_t line = 0; line < len; line += B64_LINE_IN) {
		size_t end = line + B64_LINE_IN < len ? line + B64_LINE_IN : len;
		for (size_t i = line; i < end; i += 3) {
			uint32_t v = (uint32_t)in[i] << 16;
			size_t n = end - i;
			if (n > 1)
				v |= (uint32_t)in[i + 1] << 8;
			if (n > 2)
				v |= in[i + 2];
			*p++ = b64_alphabet[(v >> 18) & 63];
			*p++ = b64_alphabet[(v >> 12) & 63];
			*p++ = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
			*p++ = n > 2 ? b64_alphabet[v & 63] : '=';
		}
		*p++ = '\n';
	}
	*p = '\0';
	if (ret_len)
		*ret_len = p - out;
	return out;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int oc_base64_decode(const char *s, size_t len, uint8_t **ret_data, size_t *ret_len)
{
	uint8_t *out = malloc(len / 4 * 3 + 3);
	size_t n = 0, quad = 0, pad = 0;
	uint32_t acc = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (is_space(s[i]))
			continue;
		if (s[i] == '=') {
			if (quad == 0)
				continue; /* excess padding after a full quad */
			if (quad == 1) {
				free(out);
				return -EINVAL;
			}
			/* padding completes a quad of 2 or 3 characters */
			if (quad + ++pad == 4) {
				if (quad == 2) {
					out[n++] = acc >> 4;
				} else {
					out[n++] = acc >> 10;
					out[n++] = acc >> 2;
				}
				quad = pad = 0;
				acc = 0;
			}
			continue;
		}
		int v = b64_value(s[i]);
		if (v < 0 || pad) {
			free(out);
			return -EINVAL;
		}
		acc = acc << 6 | v;
		if (++quad == 4) {
			out[n++] = acc >> 16;
			out[n++] = acc >> 8;
			out[n++] = acc;
			quad = 0;
			acc = 0;
		}
	}
	if (quad || pad) {
		free(out);
		return -EINVAL; /* "Incorrect padding" */
	}
	*ret_data = out;
	*ret_len = n;
	return 0;
}

/* ---- quoted-printable ------------------------------------------------------ */

#define QP_LINE_MAX 76

static const char hex_upper[] = "0123456789ABCDEF";

/* Does byte @i of @in need quoting, given the current output line length? */
static bool qp_must_quote(const uint8_t *in, size_t len, size_t i, size_t line)
{
	uint8_t c = in[i];

	if (c > 126 || c == '=')
		return true;
	/* a lone "." on a line means end-of-message to some mailers */
	if (c == '.' && line == 0 && (i + 1 == len || in[i + 1] == '\n' || in[i + 1] == '\r' || in[i + 1] == 0))
		return true;
	/* trailing blanks of the data would be lost */
	if ((c == ' ' || c == '\t') && i + 1 == len)
		return true;
	return c < 33 && c != '\r' && c != '\n' && c != ' ' && c != '\t';
}

char *oc_quopri_encode(const void *data, size_t len, size_t *ret_len)
{
	const uint8_t *in = data;
	/* an empty protobuf bytes field has data NULL: no memchr on it */
	const uint8_t *nl = len ? memchr(in, '\n', len) : NULL;
	bool crlf = nl && nl > in && nl[-1] == '\r';
	/* worst case per byte: "=\r\n" soft break plus "=XX" */
	char *out = malloc(len * 6 + 1);
	size_t o = 0, line = 0, i = 0;

	if (!out)
		return NULL;
	while (i < len) {
		if (qp_must_quote(in, len, i, line)) {
			if (line + 3 >= QP_LINE_MAX) {
				out[o++] = '=';
				if (crlf)
					out[o++] = '\r';
				out[o++] = '\n';
				line = 0;
			}
			out[o++] = '=';
			out[o++] = hex_upper[in[i] >> 4];
			out[o++] = hex_upper[in[i] & 15];
			line += 3;
			i++;
		} else if (in[i] == '\n' || (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')) {
			/* a hard line break; blanks before it get quoted */
			line = 0;
			if (o && (out[o - 1] == ' ' || out[o - 1] == '\t')) {
				uint8_t c = out[o - 1];
				out[o - 1] = '=';
				out[o++] = hex_upper[c >> 4];
				out[o++] = hex_upper[c & 15];
			}
			if (crlf)
				out[o++] = '\r';
			out[o++] = '\n';
			i += in[i] == '\r' ? 2 : 1;
		} else {
			if (i + 1 != len && in[i + 1] != '\n' && line + 1 >= QP_LINE_MAX) {
				out[o++] = '=';
				if (crlf)
					out[o++] = '\r';
				out[o++] = '\n';
				line = 0;
			}
			line++;
			out[o++] = in[i++];
		}
	}
	out[o] = '\0';
	if (ret_len)
		*ret_len = o;
	return out;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int oc_quopri_decode(const char *s, size_t len, uint8_t **ret_data, size_t *ret_len)
{
	uint8_t *out = malloc(len + 1);
	size_t o = 0, i = 0;

	if (!out)
		return -ENOMEM;
	while (i < len) {
		if (s[i] != '=') {
			out[o++] = s[i++];
			continue;
		}
		i++;
		if (i >= len)
			break; /* a final "=" is dropped */
		if (s[i] == '\n' || s[i] == '\r') {
			/* soft line break: skip to and past the newline */
			while (i < len && s[i] != '\n')
				i++;
			if (i < len)
				i++;
		} else if (s[i] == '=') {
			out[o++] = '=';
			i++;
		} else if (i + 1 < len && hex_value(s[i]) >= 0 && hex_value(s[i + 1]) >= 0) {
			out[o++] = hex_value(s[i]) << 4 | hex_value(s[i + 1]);
			i += 2;
		} else {
			out[o++] = '=';
		}
	}
	*ret_data = out;
	*ret_len = o;
	return 0;
}

/* ---- IP addresses ---------------------------------------------------------- */

int oc_ipaddr_format(const uint32_t *words, size_t n, char *buf, size_t len)
{
	uint8_t b[16];
	unsigned h[8];
	int best = -1, best_len = 0, run = -1, run_len = 0;
	size_t o = 0;

	if (n == 1) {
		memcpy(b, words, 4);
		return snprintf(buf, len, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]) < (int)len ? 0 : -ENOSPC;
	}
	if (n != 4)
		return -EINVAL;
	memcpy(b, words, 16);
	for (int i = 0; i < 8; i++) {
		h[i] = b[2 * i] << 8 | b[2 * i + 1];
		if (h[i] == 0) {
			if (run < 0)
				run = i, run_len = 0;
			if (++run_len > best_len)
				best = run, best_len = run_len;
		} else {
			run = -1;
		}
	}
	/* Like ipaddress: the first longest run of two or more zero groups
	 * becomes "::"; no dotted IPv4 tail. */
	if (best_len < 2)
		best = -1;
	if (len < 40)
		return -ENOSPC;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			o += sprintf(buf + o, i == 0 ? "::" : ":");
			i += best_len - 1;
			continue;
		}
		o += sprintf(buf + o, "%x%s", h[i], i < 7 ? ":" : "");
	}
	buf[o] = '\0';
	return 0;
}

int oc_ipaddr_parse(const char *s, uint32_t words[4])
{
	uint8_t b[16];

	if (inet_pton(AF_INET, s, b) == 1) {
		memcpy(words, b, 4);
		return 1;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		memcpy(words, b, 16);
		return 4;
	}
	return -EINVAL;
}

/* ---- integers ------------------------------------------------------------- */

static int digit_value(char c, unsigned base)
{
	int v = hex_value(c);
	return v >= 0 && (unsigned)v < base ? v : -1;
}

int oc_parse_int(const char *s, size_t len, int base, bool *ret_negative, uint64_t *ret_magnitude)
{
	const char *p = s, *end = s + len;
	bool neg = false, any = false, underscore_ok = false;
	unsigned b = 10;
	uint64_t v = 0;
	int r;

	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';

	if (base == 0 && end - p >= 2 && p[0] == '0' && strchr("xXoObB", p[1])) {
		b = p[1] == 'x' || p[1] == 'X' ? 16 : p[1] == 'o' || p[1] == 'O' ? 8 : 2;
		p += 2;
		/* crit writes negative hex as "0x-5" ("0x%x" % -5) */
		if (b == 16 && !neg && p < end && *p == '-') {
			neg = true;
			p++;
		} else {
			underscore_ok = true; /* "0x_1f" is valid */
		}
	} else if (base == 0 && end - p >= 2 && p[0] == '0') {
		/* int("010", 0) is refused; "00" and "0_0" are fine */
		for (const char *q = p; q < end; q++)
			if (*q != '0' && *q != '_')
				return -EINVAL;
	}

	for (; p < end; p++) {
		if (*p == '_') {
			if (!underscore_ok || p + 1 == end)
				return -EINVAL;
			underscore_ok = false;
			continue;
		}
		r = digit_value(*p, b);
		if (r < 0)
			return -EINVAL;
		if (v > (UINT64_MAX - r) / b)
			return -ERANGE;
		v = v * b + r;
		any = true;
		underscore_ok = true;
	}
	if (!any)
		return -EINVAL;
	*ret_negative = neg && v != 0;
	*ret_magnitude = v;
	return 0;
}

/* ---- sizes ------------------------------------------------------------------ */

void oc_human_size(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "", "K", "M", "G", "T", "P", "E", "Z" };
	double v = n;

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (v < 1024.0) {
			if ((double)(uint64_t)v == v)
				snprintf(buf, len, "%llu%sB", (unsigned long long)v, units[i]);
			else
				snprintf(buf, len, "%.1f%sB", v, units[i]);
			return;
		}
		v /= 1024.0;
	}
	snprintf(buf, len, "%.1fYB", v);
}
