// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reading small JSON documents (OCI configs, podman's config.dump and
 * spec.dump, runtime state files) through the one parser of json.c: the
 * accessors take NULL and the wrong type alike and answer "absent", so a
 * caller walks a document without checking every step.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/json.h"
#include "core/cleanup.h"
#include "core/error.h"

int oc_json_parse_file(const char *path, size_t max_size, unsigned max_depth, struct oc_json **ret_doc)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t got = 0;

	if (fd < 0)
		return oc_error_errno(-errno, "cannot open %s", path);
	if (fstat(fd, &st) < 0)
		return oc_error_errno(-errno, "cannot stat %s", path);
	if (!S_ISREG(st.st_mode))
		return oc_error(-EINVAL, "%s: not a regular file", path);
	if ((uint64_t)st.st_size > max_size)
		return oc_error(-EFBIG,
				"%s: %lld bytes, more than the %zu a JSON document may have (raise the "
				"limit with --max-json SIZE)",
				path, (long long)st.st_size, max_size);
	buf = malloc(st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return oc_error_errno(-errno, "cannot read %s", path);
		if (n == 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	if (memchr(buf, '\0', got))
		return oc_error(-EINVAL, "%s: not valid JSON: it holds NUL bytes", path);
	return oc_json_parse_text(buf, path, max_depth, ret_doc);
}

const struct oc_json *oc_json_path(const struct oc_json *obj, ...)
{
	const char *key;
	va_list ap;

	va_start(ap, obj);
	while (obj && (key = va_arg(ap, const char *)))
		obj = oc_json_get(obj, key);
	va_end(ap);
	return obj;
}

const char *oc_json_str(const struct oc_json *n)
{
	return n && n->type == OC_JSON_STRING ? n->string.str : NULL;
}

const char *oc_json_get_str(const struct oc_json *obj, const char *key)
{
	return oc_json_str(oc_json_get(obj, key));
}

bool oc_json_is_true(const struct oc_json *n)
{
	return n && n->type == OC_JSON_BOOL && n->boolean;
}

bool oc_json_is_number(const struct oc_json *n)
{
	return n && n->type == OC_JSON_NUMBER;
}

int64_t oc_json_integer(const struct oc_json *n, int64_t dflt)
{
	char *end;
	long long v;

	/* an integer literal that fits; "1.5", "1e3" and overflows are not */
	if (!oc_json_is_number(n) || strpbrk(n->number, ".eE"))
		return dflt;
	errno = 0;
	v = strtoll(n->number, &end, 10);
	if (errno || *end)
		return dflt;
	return v;
}

bool oc_json_is_array(const struct oc_json *n)
{
	return n && n->type == OC_JSON_ARRAY;
}

bool oc_json_is_object(const struct oc_json *n)
{
	return n && n->type == OC_JSON_OBJECT;
}

size_t oc_json_len(const struct oc_json *n)
{
	if (oc_json_is_array(n))
		return n->array.n;
	if (oc_json_is_object(n))
		return n->object.n;
	return 0;
}

const struct oc_json *oc_json_at(const struct oc_json *n, size_t i)
{
	if (i >= oc_json_len(n))
		return NULL;
	return oc_json_is_array(n) ? n->array.items[i] : n->object.values[i];
}

const char *oc_json_key_at(const struct oc_json *n, size_t i)
{
	return oc_json_is_object(n) && i < n->object.n ? n->object.keys[i] : NULL;
}

/* Length of the valid UTF-8 sequence at @s (at most @len bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *oc_utf8_clean(const char *s, size_t len, size_t *ret_len)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = malloc(len * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(p + i, len - i);
		if (n) {
			memcpy(o, p + i, n);
			o += n;
			i += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	*o = '\0';
	if (ret_len)
		*ret_len = o - out;
	return out;
}
