/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Text reports as a tree:
 *
 *	Container fx1
 *	├── Image: localhost/bb:latest
 *	└── Processes
 *	    └── [1] sh
 *
 * Build the tree with oci_tree_add(), print it once.  Adding never fails
 * for the caller: an allocation failure is remembered in the root and
 * reported by oci_tree_print(), and adding under a NULL parent does nothing.
 * Text taken from a checkpoint (paths, argv, memory) may hold anything, so
 * printing escapes control characters and invalid UTF-8 as \xNN: a report
 * never sends a terminal escape sequence that came from the checkpoint.
 */
#ifndef OCICR_INSPECT_TREE_H
#define OCICR_INSPECT_TREE_H

#include <stdio.h>

#include "ocicr.h"

struct oci_tree;

struct oci_tree *oci_tree_new(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
struct oci_tree *oci_tree_add(struct oci_tree *parent, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like oci_tree_add(), the text taken as is (no format). */
struct oci_tree *oci_tree_add_text(struct oci_tree *parent, const char *text);
/* Whether @t has children. */
int oci_tree_has_children(const struct oci_tree *t);
int oci_tree_print(const struct oci_tree *root, FILE *out);
void oci_tree_free(struct oci_tree *root);

/* Write @s[0..len) to @out with control characters and invalid UTF-8
 * escaped as \xNN. */
void oci_text_escape(FILE *out, const char *s, size_t len);

#endif
