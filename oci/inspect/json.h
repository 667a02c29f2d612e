/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one place that knows which JSON library ocicr uses (yajl today):
 * reading small JSON documents (config.dump, spec.dump, network.status) into
 * a tree, and writing reports.  Everything else goes through these calls, so
 * changing the library means changing json.c only.
 */
#ifndef OCICR_INSPECT_JSON_H
#define OCICR_INSPECT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- reading ---------------------------------------------------------- */

/* A node of a parsed document; owned by the document's root. */
typedef struct ij_node ij_node;

/*
 * Parse the JSON file @path (at most @max_size bytes) into *ret_root.
 * A missing file gives -ENOENT, bad JSON -EINVAL, each with a message
 * naming the file.
 */
int ij_parse_file(const char *path, size_t max_size, ij_node **ret_root);
int ij_parse_text(const char *text, const char *what, ij_node **ret_root);
void ij_free(ij_node *root);

/* Member @key of object @obj; NULL if @obj is not an object or lacks it. */
const ij_node *ij_get(const ij_node *obj, const char *key);
/* ij_get() along a NULL-terminated path of keys. */
const ij_node *ij_path(const ij_node *obj, ...) __attribute__((sentinel));

/* The string value of @n, or NULL if @n is not a string. */
const char *ij_string(const ij_node *n);
/* A string member, or NULL. */
const char *ij_get_string(const ij_node *obj, const char *key);
bool ij_is_true(const ij_node *n);
bool ij_is_number(const ij_node *n);
int64_t ij_integer(const ij_node *n, int64_t dflt);

bool ij_is_array(const ij_node *n);
bool ij_is_object(const ij_node *n);
/* Number of elements of an array or members of an object (0 otherwise). */
size_t ij_len(const ij_node *n);
/* Element @i of an array, or value of member @i of an object. */
const ij_node *ij_at(const ij_node *n, size_t i);
/* Key of member @i of an object. */
const char *ij_key_at(const ij_node *n, size_t i);

/* ---- writing ---------------------------------------------------------- */

struct ij_writer;

int ij_writer_new(FILE *out, bool pretty, struct ij_writer **ret_w);
/*
 * A whole document as text: @fill writes it (with @arg); *ret_text gets it,
 * NUL-terminated, without a final newline.
 */
int ij_text(bool pretty, void (*fill)(struct ij_writer *w, const void *arg), const void *arg, char **ret_text);

/* Finish the document; returns the first error seen while writing. */
int ij_writer_finish(struct ij_writer *w);
void ij_writer_free(struct ij_writer *w);

/*
 * Writing calls never fail on their own: the first error is kept in the
 * writer and returned by ij_writer_finish().  Strings are written as valid
 * UTF-8: bytes that are not are replaced by U+FFFD.
 */
void ij_obj_open(struct ij_writer *w);
void ij_obj_close(struct ij_writer *w);
void ij_arr_open(struct ij_writer *w);
void ij_arr_close(struct ij_writer *w);
void ij_key(struct ij_writer *w, const char *key);
void ij_str(struct ij_writer *w, const char *s); /* NULL writes null */
void ij_strn(struct ij_writer *w, const char *s, size_t len);
void ij_u64(struct ij_writer *w, uint64_t v);
void ij_i64(struct ij_writer *w, int64_t v);
void ij_bool(struct ij_writer *w, bool v);
void ij_null(struct ij_writer *w);
/* Copy a parsed node (and everything under it) into the output. */
void ij_node_out(struct ij_writer *w, const ij_node *n);

/* key + value in one call */
void ij_kv_str(struct ij_writer *w, const char *key, const char *s);
void ij_kv_u64(struct ij_writer *w, const char *key, uint64_t v);
void ij_kv_i64(struct ij_writer *w, const char *key, int64_t v);
void ij_kv_bool(struct ij_writer *w, const char *key, bool v);

/*
 * Replace invalid UTF-8 in @s[0..len) by U+FFFD; returns a new
 * NUL-terminated string (NULs inside @s are kept) or NULL on ENOMEM.
 * *ret_len gets its length.
 */
char *ij_utf8_clean(const char *s, size_t len, size_t *ret_len);

#endif
