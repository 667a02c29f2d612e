// SPDX-License-Identifier: GPL-2.0-or-later
/* JSON reading and writing over yajl (see json.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "oci/inspect/json.h"
#include "oci/inspect/limits.h"
#include "core/cleanup.h"
#include "core/error.h"

#define NODE(n) ((yajl_val)(n))

/* Arrays and objects nested deeper than the limit are refused before yajl
 * builds a tree of them (a megabyte of '[' would take a gigabyte). */
static int check_depth(const char *text, const char *what)
{
	unsigned depth = 0;
	bool in_string = false;

	for (const char *p = text; *p; p++) {
		if (in_string) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				in_string = false;
		} else if (*p == '"') {
			in_string = true;
		} else if (*p == '[' || *p == '{') {
			if (++depth > oci_limits.max_json_depth)
				return oc_error(-EINVAL, "%s: JSON nested deeper than %u levels: refused", what,
						oci_limits.max_json_depth);
		} else if ((*p == ']' || *p == '}') && depth) {
			depth--;
		}
	}
	return 0;
}

int ij_parse_text(const char *text, const char *what, ij_node **ret_root)
{
	char err[256] = "";
	int r = check_depth(text, what);

	if (r < 0)
		return r;
	yajl_val v = yajl_tree_parse(text, err, sizeof(err));

	if (!v) {
		/* yajl's message spans lines; keep the first. */
		err[strcspn(err, "\n")] = '\0';
		return oc_error(-EINVAL, "%s: not valid JSON: %s", what, *err ? err : "parse error");
	}
	*ret_root = (ij_node *)v;
	return 0;
}

int ij_parse_file(const char *path, size_t max_size, ij_node **ret_root)
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
	return ij_parse_text(buf, path, ret_root);
}

void ij_free(ij_node *root)
{
	yajl_tree_free(NODE(root));
}

const ij_node *ij_get(const ij_node *obj, const char *key)
{
	yajl_val v = NODE(obj);

	if (!v || !YAJL_IS_OBJECT(v))
		return NULL;
	for (size_t i = 0; i < v->u.object.len; i++)
		if (!strcmp(v->u.object.keys[i], key))
			return (const ij_node *)v->u.object.values[i];
	return NULL;
}

const ij_node *ij_path(const ij_node *obj, ...)
{
	const char *key;
	va_list ap;

	va_start(ap, obj);
	while (obj && (key = va_arg(ap, const char *)))
		obj = ij_get(obj, key);
	va_end(ap);
	return obj;
}

const char *ij_string(const ij_node *n)
{
	return n && YAJL_IS_STRING(NODE(n)) ? NODE(n)->u.string : NULL;
}

const char *ij_get_string(const ij_node *obj, const char *key)
{
	return ij_string(ij_get(obj, key));
}

bool ij_is_true(const ij_node *n)
{
	return n && YAJL_IS_TRUE(NODE(n));
}

bool ij_is_number(const ij_node *n)
{
	return n && YAJL_IS_NUMBER(NODE(n));
}

int64_t ij_integer(const ij_node *n, int64_t dflt)
{
	if (!n || !YAJL_IS_INTEGER(NODE(n)))
		return dflt;
	return YAJL_GET_INTEGER(NODE(n));
}

bool ij_is_array(const ij_node *n)
{
	return n && YAJL_IS_ARRAY(NODE(n));
}

bool ij_is_object(const ij_node *n)
{
	return n && YAJL_IS_OBJECT(NODE(n));
}

size_t ij_len(const ij_node *n)
{
	if (ij_is_array(n))
		return NODE(n)->u.array.len;
	if (ij_is_object(n))
		return NODE(n)->u.object.len;
	return 0;
}

const ij_node *ij_at(const ij_node *n, size_t i)
{
	if (i >= ij_len(n))
		return NULL;
	if (ij_is_array(n))
		return (const ij_node *)NODE(n)->u.array.values[i];
	return (const ij_node *)NODE(n)->u.object.values[i];
}

const char *ij_key_at(const ij_node *n, size_t i)
{
	if (!ij_is_object(n) || i >= ij_len(n))
		return NULL;
	return NODE(n)->u.object.keys[i];
}

/* ---- UTF-8 ------------------------------------------------------------ */

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

char *ij_utf8_clean(const char *s, size_t len, size_t *ret_len)
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

/* ---- writing ---------------------------------------------------------- */

struct ij_writer {
	yajl_gen gen;
	FILE *out;
	int err;
};

static void print_cb(void *ctx, const char *str, size_t len)
{
	struct ij_writer *w = ctx;

	if (!w->err && fwrite(str, 1, len, w->out) != len)
		w->err = oc_error_errno(-(errno ? errno : EIO), "cannot write the JSON output");
}

int ij_writer_new(FILE *out, bool pretty, struct ij_writer **ret_w)
{
	struct ij_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->gen = yajl_gen_alloc(NULL);
	if (!w->gen) {
		free(w);
		return -ENOMEM;
	}
	w->out = out;
	yajl_gen_config(w->gen, yajl_gen_print_callback, print_cb, w);
	if (pretty) {
		yajl_gen_config(w->gen, yajl_gen_beautify, 1);
		yajl_gen_config(w->gen, yajl_gen_indent_string, "  ");
	}
	*ret_w = w;
	return 0;
}

int ij_text(bool pretty, void (*fill)(struct ij_writer *w, const void *arg), const void *arg, char **ret_text)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	struct ij_writer *w = NULL;
	int r;

	if (!f)
		return -ENOMEM;
	r = ij_writer_new(f, pretty, &w);
	if (r >= 0) {
		fill(w, arg);
		r = ij_writer_finish(w);
		ij_writer_free(w);
	}
	if (fclose(f) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	if (size && buf[size - 1] == '\n')
		buf[size - 1] = '\0';
	*ret_text = buf;
	return 0;
}

static void check(struct ij_writer *w, yajl_gen_status st)
{
	if (st != yajl_gen_status_ok && !w->err)
		w->err = oc_error(-EINVAL, "JSON writer: status %d (a report bug)", (int)st);
}

int ij_writer_finish(struct ij_writer *w)
{
	if (!w->err)
		print_cb(w, "\n", 1);
	if (!w->err && fflush(w->out) != 0)
		w->err = oc_error_errno(-(errno ? errno : EIO), "cannot write the JSON output");
	return w->err;
}

void ij_writer_free(struct ij_writer *w)
{
	if (!w)
		return;
	yajl_gen_free(w->gen);
	free(w);
}

void ij_obj_open(struct ij_writer *w)
{
	check(w, yajl_gen_map_open(w->gen));
}

void ij_obj_close(struct ij_writer *w)
{
	check(w, yajl_gen_map_close(w->gen));
}

void ij_arr_open(struct ij_writer *w)
{
	check(w, yajl_gen_array_open(w->gen));
}

void ij_arr_close(struct ij_writer *w)
{
	check(w, yajl_gen_array_close(w->gen));
}

void ij_strn(struct ij_writer *w, const char *s, size_t len)
{
	size_t clen;
	_cleanup_free_ char *clean = ij_utf8_clean(s, len, &clen);

	if (!clean) {
		if (!w->err)
			w->err = -ENOMEM;
		return;
	}
	check(w, yajl_gen_string(w->gen, (const unsigned char *)clean, clen));
}

void ij_str(struct ij_writer *w, const char *s)
{
	if (!s)
		ij_null(w);
	else
		ij_strn(w, s, strlen(s));
}

void ij_key(struct ij_writer *w, const char *key)
{
	ij_str(w, key);
}

void ij_u64(struct ij_writer *w, uint64_t v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);

	check(w, yajl_gen_number(w->gen, buf, n));
}

void ij_i64(struct ij_writer *w, int64_t v)
{
	check(w, yajl_gen_integer(w->gen, v));
}

void ij_bool(struct ij_writer *w, bool v)
{
	check(w, yajl_gen_bool(w->gen, v));
}

void ij_null(struct ij_writer *w)
{
	check(w, yajl_gen_null(w->gen));
}

void ij_node_out(struct ij_writer *w, const ij_node *n)
{
	yajl_val v = NODE(n);

	if (!v || YAJL_IS_NULL(v)) {
		ij_null(w);
	} else if (YAJL_IS_STRING(v)) {
		ij_str(w, v->u.string);
	} else if (YAJL_IS_NUMBER(v)) {
		check(w, yajl_gen_number(w->gen, v->u.number.r, strlen(v->u.number.r)));
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		ij_bool(w, YAJL_IS_TRUE(v));
	} else if (YAJL_IS_ARRAY(v)) {
		ij_arr_open(w);
		for (size_t i = 0; i < v->u.array.len; i++)
			ij_node_out(w, (const ij_node *)v->u.array.values[i]);
		ij_arr_close(w);
	} else if (YAJL_IS_OBJECT(v)) {
		ij_obj_open(w);
		for (size_t i = 0; i < v->u.object.len; i++) {
			ij_key(w, v->u.object.keys[i]);
			ij_node_out(w, (const ij_node *)v->u.object.values[i]);
		}
		ij_obj_close(w);
	}
}

void ij_kv_str(struct ij_writer *w, const char *key, const char *s)
{
	ij_key(w, key);
	ij_str(w, s);
}

void ij_kv_u64(struct ij_writer *w, const char *key, uint64_t v)
{
	ij_key(w, key);
	ij_u64(w, v);
}

void ij_kv_i64(struct ij_writer *w, const char *key, int64_t v)
{
	ij_key(w, key);
	ij_i64(w, v);
}

void ij_kv_bool(struct ij_writer *w, const char *key, bool v)
{
	ij_key(w, key);
	ij_bool(w, v);
}
