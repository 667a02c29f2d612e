/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The short names oci/inspect and bundle/ use for the engine's JSON reader
 * and writer (ocicr.h, "JSON"), which is the one place yajl is called:
 * each is the public call of the same meaning, with the nesting limit of
 * oci_limits where a document is read.
 */
#ifndef OCICR_INSPECT_JSON_H
#define OCICR_INSPECT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ocicr.h"
#include "oci/inspect/limits.h"

/* ---- reading ---------------------------------------------------------- */

typedef struct oc_json ij_node;

static inline int ij_parse_file(const char *path, size_t max_size, ij_node **ret_root)
{
	return oc_json_parse_file(path, max_size, oci_limits.max_json_depth, ret_root);
}

static inline int ij_parse_text(const char *text, const char *what, ij_node **ret_root)
{
	return oc_json_parse_text(text, what, oci_limits.max_json_depth, ret_root);
}

#define ij_free	      oc_json_free
#define ij_get	      oc_json_get
#define ij_path	      oc_json_path
#define ij_string     oc_json_str
#define ij_get_string oc_json_get_str
#define ij_is_true    oc_json_is_true
#define ij_is_number  oc_json_is_number
#define ij_integer    oc_json_integer
#define ij_is_array   oc_json_is_array
#define ij_is_object  oc_json_is_object
#define ij_len	      oc_json_len
#define ij_at	      oc_json_at
#define ij_key_at     oc_json_key_at

/* ---- writing: errors are kept in the writer for ij_writer_finish() ---- */

#define ij_writer oc_json_writer

static inline int ij_writer_new(FILE *out, bool pretty, struct oc_json_writer **ret_w)
{
	return oc_json_writer_new_file(out, pretty ? OC_JSON_PRETTY : 0, ret_w);
}

static inline int ij_text(bool pretty, void (*fill)(struct oc_json_writer *w, const void *arg), const void *arg,
			  char **ret_text)
{
	return oc_json_text(pretty ? OC_JSON_PRETTY : 0, fill, arg, ret_text);
}

#define ij_writer_finish oc_json_writer_finish
#define ij_writer_free	 oc_json_writer_free
#define ij_utf8_clean	 oc_utf8_clean

static inline void ij_obj_open(struct oc_json_writer *w)
{
	oc_json_map_open(w);
}

static inline void ij_obj_close(struct oc_json_writer *w)
{
	oc_json_map_close(w);
}

static inline void ij_arr_open(struct oc_json_writer *w)
{
	oc_json_array_open(w);
}

static inline void ij_arr_close(struct oc_json_writer *w)
{
	oc_json_array_close(w);
}

static inline void ij_key(struct oc_json_writer *w, const char *key)
{
	oc_json_key(w, key);
}

/* NULL writes null */
static inline void ij_str(struct oc_json_writer *w, const char *s)
{
	oc_json_cstring(w, s);
}

static inline void ij_strn(struct oc_json_writer *w, const char *s, size_t len)
{
	oc_json_string(w, s, len);
}

static inline void ij_u64(struct oc_json_writer *w, uint64_t v)
{
	oc_json_uint(w, v);
}

static inline void ij_i64(struct oc_json_writer *w, int64_t v)
{
	oc_json_int(w, v);
}

static inline void ij_bool(struct oc_json_writer *w, bool v)
{
	oc_json_bool(w, v);
}

static inline void ij_null(struct oc_json_writer *w)
{
	oc_json_null(w);
}

static inline void ij_node_out(struct oc_json_writer *w, const ij_node *n)
{
	oc_json_write_node(w, n);
}

/* key and value in one call */
static inline void ij_kv_str(struct oc_json_writer *w, const char *key, const char *s)
{
	oc_json_key(w, key);
	oc_json_cstring(w, s);
}

static inline void ij_kv_u64(struct oc_json_writer *w, const char *key, uint64_t v)
{
	oc_json_key(w, key);
	oc_json_uint(w, v);
}

static inline void ij_kv_i64(struct oc_json_writer *w, const char *key, int64_t v)
{
	oc_json_key(w, key);
	oc_json_int(w, v);
}

static inline void ij_kv_bool(struct oc_json_writer *w, const char *key, bool v)
{
	oc_json_key(w, key);
	oc_json_bool(w, v);
}

#endif
