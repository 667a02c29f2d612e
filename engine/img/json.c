// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * JSON with crit's rules.  yajl is used here and nowhere else: yajl_gen
 * produces compact JSON, which a small formatter turns into the exact text
 * Python's json.dump() prints (separators, indent=4, ensure_ascii); the
 * callback parser builds a struct oc_json tree.
 *
 * The message codec follows pb2dict()/dict2pb() of CRIU's pycriu: see the
 * comments at oc_json_write_fields() and oc_json_to_message().
 */
#include <inttypes.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "img/image.h"
#include "img/json.h"
#include "img/pbhints.h"
#include "core/cleanup.h"
#include "core/error.h"

/* ---- growable text buffer ------------------------------------------------- */

struct textbuf {
	char *data;
	size_t len, cap;
	bool oom;
};

static void tb_put(struct textbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d) {
			b->oom = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void tb_putc(struct textbuf *b, char c)
{
	tb_put(b, &c, 1);
}

/* ---- Python-style formatting of yajl's compact output ------------------- */

/*
 * yajl_gen prints compact JSON ("{"a":[1,2]}") with raw UTF-8 (and any other
 * bytes) inside strings.  This state machine, fed byte by byte, re-emits it
 * as json.dumps() would: ", "/": " or indent=4 layout, empty containers as
 * "[]"/"{}", non-ASCII as \uXXXX (surrogate pairs above U+FFFF) and bytes
 * that are not UTF-8 as \udcXX, like Python's surrogateescape.
 */
struct pyfmt {
	struct textbuf out;
	bool pretty;
	bool in_str, esc;
	unsigned hex_left; /* hex digits of a \uXXXX escape still to come */
	bool open_pending; /* pretty: "{" or "[" written, newline deferred */
	unsigned depth;
	uint8_t u8[4]; /* a UTF-8 sequence being collected */
	unsigned u8_len, u8_need;
};

static void fmt_indent(struct pyfmt *f)
{
	tb_putc(&f->out, '\n');
	for (unsigned i = 0; i < f->depth; i++)
		tb_put(&f->out, "    ", 4);
}

static void fmt_u(struct pyfmt *f, unsigned cp)
{
	char buf[16];

	if (cp >= 0x10000) {
		cp -= 0x10000;
		snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
	} else {
		snprintf(buf, sizeof(buf), "\\u%04x", cp);
	}
	tb_put(&f->out, buf, strlen(buf));
}

/* The collected bytes are no valid sequence: escape each one by itself. */
static void fmt_u8_reject(struct pyfmt *f)
{
	for (unsigned i = 0; i < f->u8_len; i++)
		fmt_u(f, 0xdc00 + f->u8[i]);
	f->u8_len = 0;
}

static void fmt_u8_byte(struct pyfmt *f, uint8_t c)
{
	if (f->u8_len == 0) {
		if (c >= 0xc2 && c <= 0xdf)
			f->u8_need = 2;
		else if (c >= 0xe0 && c <= 0xef)
			f->u8_need = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			f->u8_need = 4;
		else {
			fmt_u(f, 0xdc00 + c);
			return;
		}
		f->u8[f->u8_len++] = c;
		return;
	}

	/* the second byte narrows the range (no overlongs, no surrogates,
	 * nothing above U+10FFFF); later ones are plain continuations */
	uint8_t lo = 0x80, hi = 0xbf;
	if (f->u8_len == 1) {
		switch (f->u8[0]) {
		case 0xe0:
			lo = 0xa0;
			break;
		case 0xed:
			hi = 0x9f;
			break;
		case 0xf0:
			lo = 0x90;
			break;
		case 0xf4:
			hi = 0x8f;
			break;
		}
	}
	if (c < lo || c > hi) {
		fmt_u8_reject(f);
		fmt_u8_byte(f, c); /* may start a new sequence */
		return;
	}
	f->u8[f->u8_len++] = c;
	if (f->u8_len < f->u8_need)
		return;

	unsigned cp = f->u8[0] & (0x7f >> f->u8_need);
	for (unsigned i = 1; i < f->u8_len; i++)
		cp = cp << 6 | (f->u8[i] & 0x3f);
	f->u8_len = 0;
	fmt_u(f, cp);
}

static void fmt_byte(struct pyfmt *f, uint8_t c)
{
	if (f->in_str) {
		if (c >= 0x80) {
			fmt_u8_byte(f, c);
			return;
		}
		if (f->u8_len)
			fmt_u8_reject(f);
		if (f->hex_left) {
			/* yajl writes \u001F, Python \u001f */
			f->hex_left--;
			if (c >= 'A' && c <= 'F')
				c += 'a' - 'A';
		} else if (f->esc) {
			f->esc = false;
			if (c == 'u')
				f->hex_left = 4;
		} else if (c == '\\') {
			f->esc = true;
		} else if (c == '"') {
			f->in_str = false;
		} else if (c == 0x7f) {
			fmt_u(f, c); /* ensure_ascii escapes DEL, yajl does not */
			return;
		}
		tb_putc(&f->out, c);
		return;
	}

	if (f->open_pending) {
		f->open_pending = false;
		if (c == '}' || c == ']') {
			f->depth--;
			tb_putc(&f->out, c);
			return;
		}
		fmt_indent(f);
	}

	switch (c) {
	case '{':
	case '[':
		tb_putc(&f->out, c);
		f->depth++;
		f->open_pending = f->pretty;
		break;
	case '}':
	case ']':
		f->depth--;
		if (f->pretty)
			fmt_indent(f);
		tb_putc(&f->out, c);
		break;
	case ',':
		tb_putc(&f->out, ',');
		if (f->pretty)
			fmt_indent(f);
		else
			tb_putc(&f->out, ' ');
		break;
	case ':':
		tb_put(&f->out, ": ", 2);
		break;
	case '"':
		f->in_str = true;
		tb_putc(&f->out, c);
		break;
	default:
		tb_putc(&f->out, c);
	}
}

static void fmt_print(void *ctx, const char *s, size_t len)
{
	struct pyfmt *f = ctx;

	for (size_t i = 0; i < len; i++)
		fmt_byte(f, s[i]);
}

/* ---- writer ------------------------------------------------------------------ */

/*
 * Two layouts over the one yajl_gen: crit's (the formatter above, into a
 * text buffer) and plain (yajl's own, compact or indented by two spaces,
 * UTF-8 as it is, straight to a FILE), which reports and OCI files use.
 */
struct oc_json_writer {
	yajl_gen g;
	struct pyfmt fmt;
	FILE *out; /* plain layout */
	int err;   /* the first error, kept */
};

static struct oc_json_writer *writer_alloc(void)
{
	struct oc_json_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->g = yajl_gen_alloc(NULL);
	if (!w->g) {
		free(w);
		return NULL;
	}
	return w;
}

int oc_json_writer_new(unsigned flags, struct oc_json_writer **ret_w)
{
	struct oc_json_writer *w = writer_alloc();

	if (!w)
		return -ENOMEM;
	w->fmt.pretty = flags & OC_JSON_PRETTY;
	/* compact output, bytes passed through: the formatter does the rest */
	yajl_gen_config(w->g, yajl_gen_print_callback, fmt_print, &w->fmt);
	*ret_w = w;
	return 0;
}

static void file_print(void *ctx, const char *s, size_t len)
{
	struct oc_json_writer *w = ctx;

	if (!w->err && fwrite(s, 1, len, w->out) != len)
		w->err = oc_error_errno(-(errno ? errno : EIO), "cannot write the JSON output");
}

int oc_json_writer_new_file(FILE *out, unsigned flags, struct oc_json_writer **ret_w)
{
	struct oc_json_writer *w = writer_alloc();

	if (!w)
		return -ENOMEM;
	w->out = out;
	yajl_gen_config(w->g, yajl_gen_print_callback, file_print, w);
	if (flags & OC_JSON_PRETTY) {
		yajl_gen_config(w->g, yajl_gen_beautify, 1);
		yajl_gen_config(w->g, yajl_gen_indent_string, "  ");
	}
	*ret_w = w;
	return 0;
}

int oc_json_writer_finish(struct oc_json_writer *w)
{
	if (w->out) {
		file_print(w, "\n", 1);
		if (!w->err && fflush(w->out) != 0)
			w->err = oc_error_errno(-(errno ? errno : EIO), "cannot write the JSON output");
	}
	return w->err;
}

void oc_json_writer_free(struct oc_json_writer *w)
{
	if (!w)
		return;
	yajl_gen_free(w->g);
	free(w->fmt.out.data);
	free(w);
}

int oc_json_text(unsigned flags, void (*fill)(struct oc_json_writer *w, const void *arg), const void *arg,
		 char **ret_text)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	struct oc_json_writer *w = NULL;
	int r;

	if (!f)
		return -ENOMEM;
	r = oc_json_writer_new_file(f, flags, &w);
	if (r >= 0) {
		fill(w, arg);
		r = oc_json_writer_finish(w);
		oc_json_writer_free(w);
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

static int gen_check(struct oc_json_writer *w, yajl_gen_status st)
{
	int r = 0;

	if (w->fmt.out.oom)
		r = -ENOMEM;
	else if (st == yajl_max_depth_exceeded)
		r = oc_error(-E2BIG, "JSON output nested too deeply");
	else if (st != yajl_gen_status_ok)
		r = oc_error(-EINVAL, "internal error: JSON generator state %d", st);
	if (r < 0 && !w->err)
		w->err = r;
	return r < 0 ? r : w->err;
}

int oc_json_map_open(struct oc_json_writer *w)
{
	return gen_check(w, yajl_gen_map_open(w->g));
}

int oc_json_map_close(struct oc_json_writer *w)
{
	return gen_check(w, yajl_gen_map_close(w->g));
}

int oc_json_array_open(struct oc_json_writer *w)
{
	return gen_check(w, yajl_gen_array_open(w->g));
}

int oc_json_array_close(struct oc_json_writer *w)
{
	return gen_check(w, yajl_gen_array_close(w->g));
}

int oc_json_string(struct oc_json_writer *w, const void *s, size_t len)
{
	if (!w->out)
		return gen_check(w, yajl_gen_string(w->g, s, len));

	/* plain layout: UTF-8 as it is, what is not UTF-8 as U+FFFD */
	size_t clen;
	_cleanup_free_ char *clean = oc_utf8_clean(s, len, &clen);
	if (!clean) {
		if (!w->err)
			w->err = -ENOMEM;
		return -ENOMEM;
	}
	return gen_check(w, yajl_gen_string(w->g, (const unsigned char *)clean, clen));
}

int oc_json_cstring(struct oc_json_writer *w, const char *s)
{
	return s ? oc_json_string(w, s, strlen(s)) : oc_json_null(w);
}

int oc_json_key(struct oc_json_writer *w, const char *key)
{
	return oc_json_cstring(w, key);
}

int oc_json_uint(struct oc_json_writer *w, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

	return gen_check(w, yajl_gen_number(w->g, buf, n));
}

int oc_json_int(struct oc_json_writer *w, int64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRId64, v);

	return gen_check(w, yajl_gen_number(w->g, buf, n));
}

int oc_json_bool(struct oc_json_writer *w, bool v)
{
	return gen_check(w, yajl_gen_bool(w->g, v));
}

int oc_json_null(struct oc_json_writer *w)
{
	return gen_check(w, yajl_gen_null(w->g));
}

static int oc_json_double(struct oc_json_writer *w, double v)
{
	char buf[40];
	int n;

	if (__builtin_isnan(v) || __builtin_isinf(v)) /* Python's json writes these */
		n = snprintf(buf, sizeof(buf), "%s", __builtin_isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
	else
		n = snprintf(buf, sizeof(buf), "%.17g", v);
	return gen_check(w, yajl_gen_number(w->g, buf, n));
}

int oc_json_write_node(struct oc_json_writer *w, const struct oc_json *n)
{
	switch (n ? n->type : OC_JSON_NULL) {
	case OC_JSON_NULL:
		return oc_json_null(w);
	case OC_JSON_BOOL:
		return oc_json_bool(w, n->boolean);
	case OC_JSON_NUMBER:
		return gen_check(w, yajl_gen_number(w->g, n->number, strlen(n->number)));
	case OC_JSON_STRING:
		return oc_json_string(w, n->string.str, n->string.len);
	case OC_JSON_ARRAY:
		oc_json_array_open(w);
		for (size_t i = 0; i < n->array.n; i++)
			oc_json_write_node(w, n->array.items[i]);
		return oc_json_array_close(w);
	case OC_JSON_OBJECT:
		oc_json_map_open(w);
		for (size_t i = 0; i < n->object.n; i++) {
			oc_json_key(w, n->object.keys[i]);
			oc_json_write_node(w, n->object.values[i]);
		}
		return oc_json_map_close(w);
	}
	return 0;
}

const char *oc_json_writer_text(const struct oc_json_writer *w, size_t *ret_len)
{
	if (ret_len)
		*ret_len = w->fmt.out.len;
	return w->fmt.out.data ? w->fmt.out.data : "";
}

/* ---- parser ------------------------------------------------------------------ */

struct builder {
	struct oc_json *root;
	struct oc_json *stack[OC_JSON_MAX_DEPTH];
	unsigned depth;
	char *key; /* the pending object key */
	int err;
};

static struct oc_json *node_new(struct builder *b, enum oc_json_type t)
{
	struct oc_json *v = calloc(1, sizeof(*v));

	if (!v)
		b->err = -ENOMEM;
	else
		v->type = t;
	return v;
}

/* Attach @v to the open container (or make it the root); takes @v. */
static int node_attach(struct builder *b, struct oc_json *v)
{
	if (!v)
		return 0;
	if (b->depth == 0) {
		b->root = v;
		return 1;
	}

	struct oc_json *parent = b->stack[b->depth - 1];
	if (parent->type == OC_JSON_ARRAY) {
		struct oc_json **items = realloc(parent->array.items, (parent->array.n + 1) * sizeof(*items));
		if (!items)
			goto oom;
		parent->array.items = items;
		items[parent->array.n++] = v;
		return 1;
	}

	size_t n = parent->object.n;
	char **keys = realloc(parent->object.keys, (n + 1) * sizeof(*keys));
	if (!keys)
		goto oom;
	parent->object.keys = keys;
	struct oc_json **values = realloc(parent->object.values, (n + 1) * sizeof(*values));
	if (!values)
		goto oom;
	parent->object.values = values;
	keys[n] = TAKE_PTR(b->key);
	values[n] = v;
	parent->object.n++;
	return 1;
oom:
	oc_json_free(v);
	b->err = -ENOMEM;
	return 0;
}

static int cb_null(void *ctx)
{
	struct builder *b = ctx;

	return node_attach(b, node_new(b, OC_JSON_NULL));
}

static int cb_boolean(void *ctx, int val)
{
	struct builder *b = ctx;
	struct oc_json *v = node_new(b, OC_JSON_BOOL);

	if (v)
		v->boolean = val;
	return node_attach(b, v);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
	struct builder *b = ctx;
	struct oc_json *v = node_new(b, OC_JSON_NUMBER);

	if (!v)
		return 0;
	v->number = strndup(s, len);
	if (!v->number) {
		free(v);
		b->err = -ENOMEM;
		return 0;
	}
	return node_attach(b, v);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
	struct builder *b = ctx;
	struct oc_json *v = node_new(b, OC_JSON_STRING);

	if (!v)
		return 0;
	v->string.str = malloc(len + 1);
	if (!v->string.str) {
		free(v);
		b->err = -ENOMEM;
		return 0;
	}
	memcpy(v->string.str, s, len);
	v->string.str[len] = '\0';
	v->string.len = len;
	return node_attach(b, v);
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct builder *b = ctx;

	free(b->key);
	b->key = strndup((const char *)s, len);
	if (!b->key) {
		b->err = -ENOMEM;
		return 0;
	}
	return 1;
}

static int cb_open(struct builder *b, enum oc_json_type t)
{
	if (b->depth == OC_JSON_MAX_DEPTH) {
		b->err = -E2BIG;
		return 0;
	}
	struct oc_json *v = node_new(b, t);
	if (!node_attach(b, v))
		return 0;
	b->stack[b->depth++] = v;
	return 1;
}

static int cb_start_map(void *ctx)
{
	return cb_open(ctx, OC_JSON_OBJECT);
}

static int cb_start_array(void *ctx)
{
	return cb_open(ctx, OC_JSON_ARRAY);
}

static int cb_close(void *ctx)
{
	struct builder *b = ctx;

	b->depth--;
	return 1;
}

static const yajl_callbacks parse_callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_boolean,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_map_key,
	.yajl_end_map = cb_close,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_close,
};

static void text_position(const char *text, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* Why a parse failed, for the caller's message. */
struct parse_failure {
	int err; /* -ENOMEM, -E2BIG (too deep), -EINVAL (not JSON), -ENODATA (empty) */
	unsigned line, col;
	char msg[256]; /* yajl's, first line */
};

static int parse_tree(const char *text, size_t len, struct oc_json **ret_doc, struct parse_failure *f)
{
	struct builder b = {};
	yajl_handle h;
	yajl_status st;
	size_t i = 0;

	while (i < len && strchr(" \t\r\n", text[i]) && text[i])
		i++;
	if (i == len)
		return f->err = -ENODATA;
	h = yajl_alloc(&parse_callbacks, NULL, &b);
	if (!h)
		return f->err = -ENOMEM;
	bool at_end = false;
	st = yajl_parse(h, (const unsigned char *)text, len);
	if (st == yajl_status_ok) {
		st = yajl_complete_parse(h);
		at_end = true; /* the error, if any, is at the end of the text */
	}
	if (st == yajl_status_ok && b.root) {
		yajl_free(h);
		free(b.key);
		*ret_doc = b.root;
		return 0;
	}

	text_position(text, MIN(at_end ? len : yajl_get_bytes_consumed(h), len), &f->line, &f->col);
	if (b.err == -ENOMEM || b.err == -E2BIG) {
		f->err = b.err;
	} else if (st != yajl_status_ok) {
		unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)text, len);
		snprintf(f->msg, sizeof(f->msg), "%s", msg ? (char *)msg : "parse error");
		f->msg[strcspn(f->msg, "\n")] = '\0';
		yajl_free_error(h, msg);
		f->err = -EINVAL;
	} else {
		f->err = -ENODATA;
	}
	yajl_free(h);
	free(b.key);
	oc_json_free(b.root);
	return f->err;
}

int oc_json_parse(const char *text, size_t len, const char *name, struct oc_json **ret_doc)
{
	struct parse_failure f = {};
	int r = parse_tree(text, len, ret_doc, &f);

	switch (r) {
	case 0:
	case -ENOMEM:
		return r;
	case -ENODATA:
		return oc_error(-EINVAL, "%s: empty, a JSON document was expected", name);
	case -E2BIG:
		return oc_error(-EINVAL, "%s: line %u, column %u: nested deeper than %d levels", name, f.line, f.col,
				OC_JSON_MAX_DEPTH);
	default:
		return oc_error(-EINVAL, "%s: line %u, column %u: not valid JSON: %s", name, f.line, f.col, f.msg);
	}
}

/* Arrays and objects nested deeper than the limit are refused before
 * anything is built (a megabyte of '[' would take a gigabyte). */
static int check_depth(const char *text, const char *what, unsigned max_depth)
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
			if (++depth > max_depth)
				return oc_error(-EINVAL, "%s: JSON nested deeper than %u levels: refused", what,
						max_depth);
		} else if ((*p == ']' || *p == '}') && depth) {
			depth--;
		}
	}
	return 0;
}

int oc_json_parse_text(const char *text, const char *what, unsigned max_depth, struct oc_json **ret_doc)
{
	struct parse_failure f = {};
	int r = check_depth(text, what, MIN(max_depth, (unsigned)OC_JSON_MAX_DEPTH));

	if (r < 0)
		return r;
	r = parse_tree(text, strlen(text), ret_doc, &f);
	if (r == 0 || r == -ENOMEM)
		return r;
	return oc_error(-EINVAL, "%s: not valid JSON: %s", what, r == -ENODATA ? "empty document" : f.msg);
}

void oc_json_free(struct oc_json *v)
{
	if (!v)
		return;
	switch (v->type) {
	case OC_JSON_NUMBER:
		free(v->number);
		break;
	case OC_JSON_STRING:
		free(v->string.str);
		break;
	case OC_JSON_ARRAY:
		for (size_t i = 0; i < v->array.n; i++)
			oc_json_free(v->array.items[i]);
		free(v->array.items);
		break;
	case OC_JSON_OBJECT:
		for (size_t i = 0; i < v->object.n; i++) {
			free(v->object.keys[i]);
			oc_json_free(v->object.values[i]);
		}
		free(v->object.keys);
		free(v->object.values);
		break;
	default:
		break;
	}
	free(v);
}

const struct oc_json *oc_json_get(const struct oc_json *obj, const char *key)
{
	if (!obj || obj->type != OC_JSON_OBJECT)
		return NULL;
	for (size_t i = obj->object.n; i-- > 0;)
		if (strcmp(obj->object.keys[i], key) == 0)
			return obj->object.values[i];
	return NULL;
}

const char *oc_json_type_name(enum oc_json_type t)
{
	static const char *const names[] = {
		[OC_JSON_NULL] = "null",       [OC_JSON_BOOL] = "a boolean", [OC_JSON_NUMBER] = "a number",
		[OC_JSON_STRING] = "a string", [OC_JSON_ARRAY] = "a list",   [OC_JSON_OBJECT] = "an object",
	};
	return t < ARRAY_SIZE(names) ? names[t] : "?";
}

/* ---- pretty-printing hints, indexed by field descriptor ------------------- */

struct field_hints {
	const ProtobufCFieldDescriptor *fd;
	bool hex, dev, odev, ipadd;
	bool flags_any;			       /* a flags hint, table known or not */
	const struct oc_pb_flags_table *flags; /* NULL: unknown table, "0x%x" */
	const char *dict;
	const char *conv;
};

static struct field_hints *hint_index;
static size_t hint_index_len;
static int hint_index_err;
static pthread_once_t hint_once = PTHREAD_ONCE_INIT;

static int hints_cmp(const void *a, const void *b)
{
	const struct field_hints *x = a, *y = b;

	return x->fd < y->fd ? -1 : x->fd > y->fd;
}

static const struct oc_pb_flags_table *flags_table(const char *name)
{
	for (size_t i = 0; i < oc_pb_n_flags_tables; i++)
		if (strcmp(oc_pb_flags_tables[i].name, name) == 0)
			return &oc_pb_flags_tables[i];
	return NULL;
}

static void hint_index_build(void)
{
	hint_index = calloc(oc_pb_n_hints ? oc_pb_n_hints : 1, sizeof(*hint_index));
	if (!hint_index) {
		hint_index_err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < oc_pb_n_hints; i++) {
		const struct oc_pb_hint *h = &oc_pb_hints[i];
		const ProtobufCMessageDescriptor *pb = oc_pb_find_message(h->message);
		const ProtobufCFieldDescriptor *fd =
			pb ? protobuf_c_message_descriptor_get_field_by_name(pb, h->field) : NULL;
		struct field_hints *e = NULL;

		if (!fd)
			continue; /* checked by the unit tests */
		for (size_t j = 0; j < hint_index_len; j++)
			if (hint_index[j].fd == fd)
				e = &hint_index[j];
		if (!e) {
			e = &hint_index[hint_index_len++];
			e->fd = fd;
		}
		switch (h->kind) {
		case OC_PB_HINT_HEX:
			e->hex = true;
			break;
		case OC_PB_HINT_FLAGS:
			e->flags_any = true;
			e->flags = h->arg ? flags_table(h->arg) : NULL;
			break;
		case OC_PB_HINT_ODEV:
			e->odev = true;
			/* fall through */
		case OC_PB_HINT_DEV:
			e->dev = true;
			break;
		case OC_PB_HINT_IPADD:
			e->ipadd = true;
			break;
		case OC_PB_HINT_DICT:
			e->dict = h->arg;
			break;
		case OC_PB_HINT_CONV:
			e->conv = h->arg;
			break;
		}
	}
	qsort(hint_index, hint_index_len, sizeof(*hint_index), hints_cmp);
}

/* The index lives as long as the library; hand it back at exit so leak
 * checkers see a clean heap. */
__attribute__((destructor)) static void hint_index_free(void)
{
	free(hint_index);
	hint_index = NULL;
	hint_index_len = 0;
}

static int hints_ready(void)
{
	pthread_once(&hint_once, hint_index_build);
	return hint_index_err;
}

static const struct field_hints no_hints;

static const struct field_hints *hints_for(const ProtobufCFieldDescriptor *fd)
{
	struct field_hints key = { .fd = fd };
	const struct field_hints *h = bsearch(&key, hint_index, hint_index_len, sizeof(*hint_index), hints_cmp);

	return h ? h : &no_hints;
}

static bool conv_is_unix_name(const struct field_hints *h)
{
	return h->conv && strcmp(h->conv, "unix_name") == 0;
}

static const char *dict_name(const struct field_hints *h, const char *field, uint64_t v)
{
	for (size_t i = 0; i < oc_pb_n_dict_values; i++) {
		const struct oc_pb_dict_value *d = &oc_pb_dict_values[i];
		if (d->value == v && strcmp(d->dict, h->dict) == 0 && strcmp(d->field, field) == 0)
			return d->name;
	}
	return NULL;
}

static bool dict_value(const struct field_hints *h, const char *field, const char *name, uint64_t *ret)
{
	for (size_t i = 0; i < oc_pb_n_dict_values; i++) {
		const struct oc_pb_dict_value *d = &oc_pb_dict_values[i];
		if (strcmp(d->name, name) == 0 && strcmp(d->dict, h->dict) == 0 && strcmp(d->field, field) == 0) {
			*ret = d->value;
			return true;
		}
	}
	return false;
}

/* ---- field access ------------------------------------------------------------ */

static bool type_is_signed(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return true;
	default:
		return false;
	}
}

static size_t type_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

#define MEMBER(msg, off) ((uint8_t *)(msg) + (off))

/* Is a non-repeated field set, by the rules protobuf-c packs by? */
static bool field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd)
{
	const uint8_t *m = (const uint8_t *)msg;

	if (fd->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(m + fd->quantifier_offset) == fd->id;
	if (fd->type == PROTOBUF_C_TYPE_MESSAGE || fd->type == PROTOBUF_C_TYPE_STRING) {
		const void *p = *(const void *const *)(m + fd->offset);
		return p && p != fd->default_value;
	}
	if (fd->label == PROTOBUF_C_LABEL_OPTIONAL)
		return *(const protobuf_c_boolean *)(m + fd->quantifier_offset);
	/* proto3 implicit presence: set when not zero */
	for (size_t i = 0; i < type_size(fd->type); i++)
		if (m[fd->offset + i])
			return true;
	return false;
}

/* An integer element as 64 bits (two's complement for signed types). */
static uint64_t int_bits(const ProtobufCFieldDescriptor *fd, const void *p)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return (uint64_t)(int64_t) * (const int32_t *)p;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return *(const uint32_t *)p;
	default:
		return *(const uint64_t *)p;
	}
}

/* ---- message -> JSON ------------------------------------------------------- */

/* "0x%x" % v, as Python formats it: a negative v gives "0x-5". */
static void format_hex(char *buf, size_t len, uint64_t bits, bool is_signed)
{
	if (is_signed && (int64_t)bits < 0)
		snprintf(buf, len, "0x-%" PRIx64, -bits);
	else
		snprintf(buf, len, "0x%" PRIx64, bits);
}

static int write_flags(struct oc_json_writer *w, const struct oc_pb_flags_table *t, uint64_t bits, bool is_signed)
{
	_cleanup_free_ char *s = NULL;
	size_t len = 0, cap = 32;
	uint64_t all = 0;
	char hex[32];

	s = malloc(cap);
	if (!s)
		return -ENOMEM;
	s[0] = '\0';
	for (size_t i = 0; i < t->n_flags; i++) {
		all += t->flags[i].value;
		if (!(bits & t->flags[i].value))
			continue;
		size_t need = len + strlen(t->flags[i].name) + 4;
		if (need > cap) {
			char *n = realloc(s, cap = need * 2);
			if (!n)
				return -ENOMEM;
			s = n;
		}
		len += sprintf(s + len, "%s%s", len ? " | " : "", t->flags[i].name);
	}
	bits &= ~all;
	if (bits) {
		format_hex(hex, sizeof(hex), bits, is_signed);
		size_t need = len + strlen(hex) + 4;
		if (need > cap) {
			char *n = realloc(s, cap = need);
			if (!n)
				return -ENOMEM;
			s = n;
		}
		len += sprintf(s + len, "%s%s", len ? " | " : "", hex);
	}
	return oc_json_string(w, s, len);
}

static int write_int(struct oc_json_writer *w, const ProtobufCFieldDescriptor *fd, const struct field_hints *h,
		     uint64_t bits, unsigned flags, bool hex)
{
	bool sgn = type_is_signed(fd->type);
	char buf[64];

	if (flags & OC_JSON_PRETTY) {
		if (hex) {
			format_hex(buf, sizeof(buf), bits, sgn);
			return oc_json_cstring(w, buf);
		}
		if (h->dev) {
			if (h->odev)
				snprintf(buf, sizeof(buf), "%u:%u", major(bits), minor(bits));
			else if (sgn)
				snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64, (int64_t)bits >> 20,
					 (int64_t)(bits & 0xfffff));
			else
				snprintf(buf, sizeof(buf), "%" PRIu64 ":%" PRIu64, bits >> 20, bits & 0xfffff);
			return oc_json_cstring(w, buf);
		}
		if (h->flags_any) {
			if (!h->flags) {
				/* unknown table: crit shows hex */
				format_hex(buf, sizeof(buf), bits, sgn);
				return oc_json_cstring(w, buf);
			}
			return write_flags(w, h->flags, bits, sgn);
		}
		if (h->dict && !(sgn && (int64_t)bits < 0)) {
			const char *name = dict_name(h, fd->name, bits);
			if (name)
				return oc_json_cstring(w, name);
		}
	}
	return sgn ? oc_json_int(w, (int64_t)bits) : oc_json_uint(w, bits);
}

static int write_bytes(struct oc_json_writer *w, const struct field_hints *h, const ProtobufCBinaryData *b)
{
	_cleanup_free_ char *s = NULL;
	size_t len;

	if (conv_is_unix_name(h))
		s = oc_quopri_encode(b->data, b->len, &len);
	else
		s = oc_base64_encode(b->data, b->len, &len);
	if (!s)
		return -ENOMEM;
	return oc_json_string(w, s, len);
}

static int write_fields(struct oc_json_writer *w, const ProtobufCMessage *msg, unsigned flags, bool hex);

/* One value of field @fd stored at @p. */
static int write_value(struct oc_json_writer *w, const ProtobufCFieldDescriptor *fd, const struct field_hints *h,
		       const void *p, unsigned flags, bool hex)
{
	int r;

	hex = hex || h->hex;
	switch (fd->type) {
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)p;
		r = oc_json_map_open(w);
		if (r < 0)
			return r;
		if (sub) {
			r = write_fields(w, sub, flags, hex);
			if (r < 0)
				return r;
		}
		return oc_json_map_close(w);
	}
	case PROTOBUF_C_TYPE_BYTES:
		return write_bytes(w, h, p);
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)p;
		return oc_json_cstring(w, s ? s : "");
	}
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, v);
		/* crit cannot show a value without a name; keep the number */
		return ev ? oc_json_cstring(w, ev->name) : oc_json_int(w, v);
	}
	case PROTOBUF_C_TYPE_BOOL:
		return oc_json_bool(w, *(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return oc_json_double(w, *(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return oc_json_double(w, *(const double *)p);
	default:
		return write_int(w, fd, h, int_bits(fd, p), flags, hex);
	}
}

/* crit writes an ipadd field as a list holding one address string. */
static int write_ipadd(struct oc_json_writer *w, const uint32_t *words, size_t n)
{
	char buf[64];
	int r = oc_ipaddr_format(words, n, buf, sizeof(buf));

	if (r < 0)
		return r;
	r = oc_json_array_open(w);
	if (r < 0)
		return r;
	r = oc_json_cstring(w, buf);
	if (r < 0)
		return r;
	return oc_json_array_close(w);
}

/*
 * pb2dict(): the fields that are set (required ones always, optional ones
 * when present, repeated ones when not empty), in field-number order.  With
 * OC_JSON_PRETTY integers follow the hints: hex first (and a hex message
 * field makes every integer inside it hex), then dev, flags and dict.
 */
static int write_fields(struct oc_json_writer *w, const ProtobufCMessage *msg, unsigned flags, bool hex)
{
	const ProtobufCMessageDescriptor *pb = msg->descriptor;
	int r;

	for (unsigned i = 0; i < pb->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &pb->fields[i];
		const struct field_hints *h = hints_for(fd);
		const uint8_t *m = (const uint8_t *)msg;

		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(m + fd->quantifier_offset);
			const uint8_t *arr = *(const uint8_t *const *)(m + fd->offset);
			size_t sz = type_size(fd->type);

			if (n == 0 || !arr)
				continue;
			r = oc_json_key(w, fd->name);
			if (r < 0)
				return r;
			if ((flags & OC_JSON_PRETTY) && h->ipadd && (n == 1 || n == 4) &&
			    (fd->type == PROTOBUF_C_TYPE_UINT32 || fd->type == PROTOBUF_C_TYPE_FIXED32)) {
				r = write_ipadd(w, (const uint32_t *)arr, n);
				if (r < 0)
					return r;
				continue;
			}
			r = oc_json_array_open(w);
			if (r < 0)
				return r;
			for (size_t j = 0; j < n; j++) {
				r = write_value(w, fd, h, arr + j * sz, flags, hex);
				if (r < 0)
					return r;
			}
			r = oc_json_array_close(w);
		} else {
			if (!field_present(msg, fd))
				continue;
			r = oc_json_key(w, fd->name);
			if (r < 0)
				return r;
			r = write_value(w, fd, h, m + fd->offset, flags, hex);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int oc_json_write_fields(struct oc_json_writer *w, const ProtobufCMessage *msg, unsigned flags)
{
	int r = hints_ready();

	if (r < 0)
		return r;
	return write_fields(w, msg, flags, false);
}

int oc_json_write_message(struct oc_json_writer *w, const ProtobufCMessage *msg, unsigned flags)
{
	int r = oc_json_map_open(w);

	if (r < 0)
		return r;
	r = oc_json_write_fields(w, msg, flags);
	if (r < 0)
		return r;
	return oc_json_map_close(w);
}

/* ---- JSON -> message ------------------------------------------------------- */

/* Where in the document we are, for messages: "entries[3].tc.timers". */
struct jpath {
	char buf[256];
	size_t len;
};

static size_t jpath_push(struct jpath *p, const char *fmt, ...) OC_PRINTF(2, 3);

static size_t jpath_push(struct jpath *p, const char *fmt, ...)
{
	size_t saved = p->len;
	va_list ap;

	if (p->len < sizeof(p->buf) - 1) {
		va_start(ap, fmt);
		int n = vsnprintf(p->buf + p->len, sizeof(p->buf) - p->len, fmt, ap);
		va_end(ap);
		if (n > 0)
			p->len = MIN(p->len + n, sizeof(p->buf) - 1);
	}
	return saved;
}

static void jpath_pop(struct jpath *p, size_t saved)
{
	p->len = saved;
	p->buf[saved] = '\0';
}

typedef __int128 wide_t;

static int number_value(const struct jpath *path, const char *text, wide_t *ret)
{
	bool neg;
	uint64_t mag;

	if (strpbrk(text, ".eE")) {
		/* int(1e3) == 1000, as crit would take it; no fractions */
		double d = strtod(text, NULL);
		if (d < 0 && d >= -9223372036854775808.0 && (double)(int64_t)d == d) {
			*ret = (int64_t)d;
			return 0;
		}
		if (d >= 0 && d < 18446744073709551616.0 && (double)(uint64_t)d == d) {
			*ret = (uint64_t)d;
			return 0;
		}
		return oc_error(-EINVAL, "%s: %s is not an integer in range", path->buf, text);
	}
	if (oc_parse_int(text, strlen(text), 10, &neg, &mag) < 0)
		return oc_error(-EINVAL, "%s: %s is out of range", path->buf, text);
	*ret = neg ? -(wide_t)mag : (wide_t)mag;
	return 0;
}

static int int_text(const struct jpath *path, const char *s, size_t len, int base, wide_t *ret)
{
	bool neg;
	uint64_t mag;
	int r = oc_parse_int(s, len, base, &neg, &mag);

	if (r == -ERANGE)
		return oc_error(-EINVAL, "%s: \"%.*s\" is out of range", path->buf, (int)len, s);
	if (r < 0)
		return oc_error(-EINVAL, "%s: \"%.*s\" is not an integer", path->buf, (int)len, s);
	*ret = neg ? -(wide_t)mag : (wide_t)mag;
	return 0;
}

/* "A | B | 0x10": names from the table, anything else as int(x, 0); summed
 * like crit's unmap_flags(). */
static int flags_value(const struct jpath *path, const struct oc_pb_flags_table *t, const char *s, wide_t *ret)
{
	wide_t sum = 0;

	if (*s == '\0') {
		*ret = 0;
		return 0;
	}
	for (const char *p = s;;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		const char *b = p, *e = p + len;
		bool found = false;

		while (b < e && (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
			e--;
		for (size_t i = 0; i < t->n_flags; i++) {
			if (strlen(t->flags[i].name) == (size_t)(e - b) && !memcmp(t->flags[i].name, b, e - b)) {
				sum += t->flags[i].value;
				found = true;
				break;
			}
		}
		if (!found) {
			wide_t v;
			bool neg;
			uint64_t mag;
			if (oc_parse_int(b, e - b, 0, &neg, &mag) < 0)
				return oc_error(-EINVAL, "%s: unknown flag \"%.*s\" (table %s)", path->buf,
						(int)(e - b), b, t->name);
			v = neg ? -(wide_t)mag : (wide_t)mag;
			sum += v;
		}
		if (!bar)
			break;
		p = bar + 1;
	}
	*ret = sum;
	return 0;
}

static int dev_value(const struct jpath *path, const struct field_hints *h, const char *s, wide_t *ret)
{
	const char *colon = strchr(s, ':');
	wide_t maj, min;
	int r;

	if (strchr(colon + 1, ':'))
		return oc_error(-EINVAL, "%s: \"%s\" is not a \"major:minor\" device number", path->buf, s);
	r = int_text(path, s, colon - s, 10, &maj);
	if (r < 0)
		return r;
	r = int_text(path, colon + 1, strlen(colon + 1), 10, &min);
	if (r < 0)
		return r;
	if (maj < 0 || min < 0 || maj > UINT32_MAX || min > UINT32_MAX)
		return oc_error(-EINVAL, "%s: device number \"%s\" is out of range", path->buf, s);
	if (h->odev)
		*ret = (wide_t)makedev((unsigned)maj, (unsigned)min);
	else
		*ret = maj << 20 | min;
	return 0;
}

/* dict2pb's integer casts: a number, or a string in any form pb2dict can
 * write (hex, "major:minor", flag names, dict names) or int(s, 0) reads. */
static int int_value(const struct jpath *path, const ProtobufCFieldDescriptor *fd, const struct field_hints *h,
		     const struct oc_json *v, uint64_t *ret_bits)
{
	wide_t x, lo, hi;
	int r;

	if (v->type == OC_JSON_NUMBER) {
		r = number_value(path, v->number, &x);
	} else if (v->type == OC_JSON_STRING) {
		const char *s = v->string.str;
		uint64_t dv;
		if (strlen(s) != v->string.len)
			return oc_error(-EINVAL, "%s: string holds a NUL character", path->buf);
		if (h->dev && strchr(s, ':'))
			r = dev_value(path, h, s, &x);
		else if (h->flags)
			r = flags_value(path, h->flags, s, &x);
		else if (h->dict && dict_value(h, fd->name, s, &dv)) {
			x = dv;
			r = 0;
		} else
			r = int_text(path, s, v->string.len, 0, &x);
	} else {
		return oc_error(-EINVAL, "%s: expected an integer, found %s", path->buf, oc_json_type_name(v->type));
	}
	if (r < 0)
		return r;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		lo = INT32_MIN, hi = INT32_MAX;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		lo = 0, hi = UINT32_MAX;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		lo = INT64_MIN, hi = INT64_MAX;
		break;
	default:
		lo = 0, hi = UINT64_MAX;
	}
	if (x < lo || x > hi) {
		char buf[48];
		bool neg = x < 0;
		unsigned __int128 m = neg ? -(unsigned __int128)x : (unsigned __int128)x;
		/* the magnitude fits in 65 bits at most here */
		if (m >> 64)
			snprintf(buf, sizeof(buf), "%s2^64+%" PRIu64, neg ? "-" : "", (uint64_t)m);
		else
			snprintf(buf, sizeof(buf), "%s%" PRIu64, neg ? "-" : "", (uint64_t)m);
		return oc_error(-ERANGE, "%s: %s does not fit in %s field '%s'", path->buf, buf,
				type_is_signed(fd->type) ? "a signed" : "an unsigned", fd->name);
	}
	*ret_bits = (uint64_t)x;
	return 0;
}

/* A JSON string as protobuf string bytes: \udcXX (written for bytes that
 * were not UTF-8) turns back into the byte XX. */
static int string_value(const struct jpath *path, const struct oc_json *v, char **ret)
{
	const uint8_t *s;
	char *out;
	size_t o = 0;

	if (v->type != OC_JSON_STRING)
		return oc_error(-EINVAL, "%s: expected a string, found %s", path->buf, oc_json_type_name(v->type));
	if (strlen(v->string.str) != v->string.len)
		return oc_error(-EINVAL, "%s: string holds a NUL character", path->buf);
	out = malloc(v->string.len + 1);
	if (!out)
		return -ENOMEM;
	s = (const uint8_t *)v->string.str;
	for (size_t i = 0; i < v->string.len; i++) {
		/* U+DC80..U+DCFF as (surrogate) UTF-8: ED B2 80 .. ED B3 BF */
		if (s[i] == 0xed && i + 2 < v->string.len && (s[i + 1] == 0xb2 || s[i + 1] == 0xb3) &&
		    (s[i + 2] & 0xc0) == 0x80) {
			out[o++] = (char)((s[i + 1] & 0x3) << 6 | (s[i + 2] & 0x3f));
			i += 2;
			continue;
		}
		out[o++] = s[i];
	}
	out[o] = '\0';
	*ret = out;
	return 0;
}

static int bytes_value(const struct jpath *path, const struct field_hints *h, const struct oc_json *v,
		       ProtobufCBinaryData *ret)
{
	uint8_t *data;
	size_t len;
	int r;

	if (v->type != OC_JSON_STRING)
		return oc_error(-EINVAL, "%s: expected a base64 string, found %s", path->buf,
				oc_json_type_name(v->type));
	if (conv_is_unix_name(h))
		r = oc_quopri_decode(v->string.str, v->string.len, &data, &len);
	else
		r = oc_base64_decode(v->string.str, v->string.len, &data, &len);
	if (r == -EINVAL)
		return oc_error(r, "%s: not valid base64", path->buf);
	if (r < 0)
		return r;
	ret->data = data;
	ret->len = len;
	return 0;
}

static int enum_value(const struct jpath *path, const ProtobufCFieldDescriptor *fd, const struct oc_json *v, int *ret)
{
	const ProtobufCEnumDescriptor *ed = fd->descriptor;

	if (v->type == OC_JSON_STRING) {
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(ed, v->string.str);
		if (!ev)
			return oc_error(-EINVAL, "%s: \"%s\" is no value of enum %s", path->buf, v->string.str,
					ed->name);
		*ret = ev->value;
		return 0;
	}
	if (v->type == OC_JSON_NUMBER) {
		/* we write values without a name as numbers */
		wide_t x;
		int r = number_value(path, v->number, &x);
		if (r < 0)
			return r;
		if (x < INT32_MIN || x > INT32_MAX)
			return oc_error(-ERANGE, "%s: %s is out of range for enum %s", path->buf, v->number, ed->name);
		*ret = (int)x;
		return 0;
	}
	return oc_error(-EINVAL, "%s: expected a name of enum %s, found %s", path->buf, ed->name,
			oc_json_type_name(v->type));
}

static int build_message(const struct oc_json *obj, const ProtobufCMessageDescriptor *pb, const char *skip_key,
			 struct jpath *path, unsigned depth, ProtobufCMessage **ret_msg);

/* Store one value of @fd at @p (an element slot or the member itself). */
static int set_value(struct jpath *path, const ProtobufCFieldDescriptor *fd, const struct field_hints *h,
		     const struct oc_json *v, void *p, unsigned depth)
{
	uint64_t bits = 0;
	int r;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_MESSAGE:
		return build_message(v, fd->descriptor, NULL, path, depth + 1, (ProtobufCMessage **)p);
	case PROTOBUF_C_TYPE_BYTES:
		return bytes_value(path, h, v, p);
	case PROTOBUF_C_TYPE_STRING:
		return string_value(path, v, (char **)p);
	case PROTOBUF_C_TYPE_ENUM:
		return enum_value(path, fd, v, (int *)p);
	case PROTOBUF_C_TYPE_BOOL:
		if (v->type != OC_JSON_BOOL)
			return oc_error(-EINVAL, "%s: expected true or false, found %s", path->buf,
					oc_json_type_name(v->type));
		*(protobuf_c_boolean *)p = v->boolean;
		return 0;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE: {
		if (v->type != OC_JSON_NUMBER)
			return oc_error(-EINVAL, "%s: expected a number, found %s", path->buf,
					oc_json_type_name(v->type));
		double d = strtod(v->number, NULL);
		if (fd->type == PROTOBUF_C_TYPE_FLOAT)
			*(float *)p = d;
		else
			*(double *)p = d;
		return 0;
	}
	default:
		r = int_value(path, fd, h, v, &bits);
		if (r < 0)
			return r;
		if (type_size(fd->type) == 4)
			*(uint32_t *)p = bits;
		else
			*(uint64_t *)p = bits;
		return 0;
	}
}

static int set_repeated(struct jpath *path, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd,
			const struct field_hints *h, const struct oc_json *v, unsigned depth)
{
	size_t *n = (size_t *)MEMBER(msg, fd->quantifier_offset);
	void **arr = (void **)MEMBER(msg, fd->offset);
	size_t sz = type_size(fd->type);
	int r;

	if (v->type != OC_JSON_ARRAY)
		return oc_error(-EINVAL, "%s: expected a list, found %s", path->buf, oc_json_type_name(v->type));
	if (v->array.n == 0)
		return 0;

	/* pretty ipadd: ["10.0.0.1"] or ["::1"] */
	if (h->ipadd && v->array.items[0]->type == OC_JSON_STRING && sz == 4) {
		uint32_t words[4];
		int cnt;
		if (v->array.n != 1)
			return oc_error(-EINVAL, "%s: one address string expected, found %zu items", path->buf,
					v->array.n);
		cnt = oc_ipaddr_parse(v->array.items[0]->string.str, words);
		if (cnt < 0)
			return oc_error(-EINVAL, "%s: \"%s\" is not an IP address", path->buf,
					v->array.items[0]->string.str);
		*arr = malloc(cnt * sizeof(uint32_t));
		if (!*arr)
			return -ENOMEM;
		memcpy(*arr, words, cnt * sizeof(uint32_t));
		*n = cnt;
		return 0;
	}

	*arr = calloc(v->array.n, sz);
	if (!*arr)
		return -ENOMEM;
	for (size_t i = 0; i < v->array.n; i++) {
		size_t saved = jpath_push(path, "[%zu]", i);
		r = set_value(path, fd, h, v->array.items[i], (uint8_t *)*arr + i * sz, depth);
		jpath_pop(path, saved);
		if (r < 0)
			return r;
		(*n)++; /* counted as soon as it is whole, for freeing on errors */
	}
	return 0;
}

static void message_free(ProtobufCMessage *msg)
{
	if (msg)
		protobuf_c_message_free_unpacked(msg, NULL);
}

DEFINE_CLEANUP_FUNC(ProtobufCMessage *, message_free)

/*
 * dict2pb(): every member must name a field of @pb (crit would drop unknown
 * ones silently; a typo is better reported), every required field must be
 * there, null is no value.  A member for a sub-message is an object, {} for
 * a present but empty one.
 */
static int build_message(const struct oc_json *obj, const ProtobufCMessageDescriptor *pb, const char *skip_key,
			 struct jpath *path, unsigned depth, ProtobufCMessage **ret_msg)
{
	_cleanup_(message_freep) ProtobufCMessage *msg = NULL;
	int r;

	if (depth > OC_JSON_MAX_DEPTH)
		return oc_error(-EINVAL, "%s: nested too deeply", path->buf);
	if (obj->type != OC_JSON_OBJECT)
		return oc_error(-EINVAL, "%s: expected an object (%s), found %s", path->buf[0] ? path->buf : "entry",
				pb->name, oc_json_type_name(obj->type));

	for (size_t i = 0; i < obj->object.n; i++) {
		const char *key = obj->object.keys[i];
		if ((skip_key && strcmp(key, skip_key) == 0) ||
		    protobuf_c_message_descriptor_get_field_by_name(pb, key))
			continue;
		return oc_error(-EINVAL, "%s%s\"%s\": %s has no such field", path->buf, path->len ? ": " : "", key,
				pb->name);
	}

	msg = malloc(pb->sizeof_message);
	if (!msg)
		return -ENOMEM;
	protobuf_c_message_init(pb, msg);

	for (unsigned i = 0; i < pb->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &pb->fields[i];
		const struct oc_json *v = oc_json_get(obj, fd->name);
		const struct field_hints *h = hints_for(fd);
		size_t saved;

		if (!v) {
			if (fd->label == PROTOBUF_C_LABEL_REQUIRED)
				return oc_error(-EINVAL, "%s%s%s: missing required field '%s'", path->buf,
						path->len ? ": " : "", pb->name, fd->name);
			continue;
		}
		saved = jpath_push(path, "%s%s", path->len ? "." : "", fd->name);
		if (v->type == OC_JSON_NULL) {
			r = oc_error(-EINVAL, "%s: null is not a value", path->buf);
		} else if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			r = set_repeated(path, msg, fd, h, v, depth);
		} else {
			/* mark presence first so a partial value is freed */
			if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
				*(uint32_t *)MEMBER(msg, fd->quantifier_offset) = fd->id;
			else if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->type != PROTOBUF_C_TYPE_MESSAGE &&
				 fd->type != PROTOBUF_C_TYPE_STRING)
				*(protobuf_c_boolean *)MEMBER(msg, fd->quantifier_offset) = 1;
			if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE)
				*(void **)MEMBER(msg, fd->offset) = NULL;
			if (fd->type == PROTOBUF_C_TYPE_BYTES)
				*(ProtobufCBinaryData *)MEMBER(msg, fd->offset) = (ProtobufCBinaryData){};
			r = set_value(path, fd, h, v, MEMBER(msg, fd->offset), depth);
		}
		jpath_pop(path, saved);
		if (r < 0)
			return r;
	}
	*ret_msg = TAKE_PTR(msg);
	return 0;
}

int oc_json_to_message(const struct oc_json *obj, const ProtobufCMessageDescriptor *pb, const char *skip_key,
		       const char *path, ProtobufCMessage **ret_msg)
{
	struct jpath p = {};
	int r = hints_ready();

	if (r < 0)
		return r;
	jpath_push(&p, "%s", path ? path : "");
	return build_message(obj, pb, skip_key, &p, 0, ret_msg);
}
