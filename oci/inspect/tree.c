// SPDX-License-Identifier: GPL-2.0-or-later
/* Text reports as a tree (see tree.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "oci/inspect/tree.h"

struct oci_tree {
	char *text;
	struct oci_tree *root;
	struct oci_tree *first, *last, *next;
	bool failed; /* root only: some node could not be added */
};

static struct oci_tree *node_new(struct oci_tree *parent, char *text)
{
	struct oci_tree *t;

	if (!text) {
		if (parent)
			parent->root->failed = true;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		free(text);
		if (parent)
			parent->root->failed = true;
		return NULL;
	}
	t->text = text;
	if (parent) {
		t->root = parent->root;
		if (parent->last)
			parent->last->next = t;
		else
			parent->first = t;
		parent->last = t;
	} else {
		t->root = t;
	}
	return t;
}

struct oci_tree *oci_tree_new(const char *fmt, ...)
{
	char *text;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	return node_new(NULL, text);
}

struct oci_tree *oci_tree_add(struct oci_tree *parent, const char *fmt, ...)
{
	char *text;
	va_list ap;

	if (!parent)
		return NULL;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	return node_new(parent, text);
}

struct oci_tree *oci_tree_add_text(struct oci_tree *parent, const char *text)
{
	if (!parent)
		return NULL;
	return node_new(parent, strdup(text ? text : ""));
}

int oci_tree_has_children(const struct oci_tree *t)
{
	return t && t->first;
}

/* Length of a valid UTF-8 sequence at @s, 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong 3- and 4-byte forms, surrogates, above U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) || (s[0] == 0xf0 && s[1] < 0x90) ||
	    (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

void oci_text_escape(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			size_t j = i;
			while (j < len && p[j] >= 0x20 && p[j] < 0x7f)
				j++;
			fwrite(p + i, 1, j - i, out);
			i = j;
			continue;
		}
		size_t n = p[i] >= 0x80 ? utf8_len(p + i, len - i) : 0;
		/* C1 controls (U+0080..U+009F) act on terminals too. */
		if (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)
			n = 0;
		if (n) {
			fwrite(p + i, 1, n, out);
			i += n;
		} else {
			fprintf(out, "\\x%02x", p[i]);
			i++;
		}
	}
}

static void print_node(const struct oci_tree *t, FILE *out, char *prefix, size_t plen, size_t cap)
{
	for (const struct oci_tree *c = t->first; c; c = c->next) {
		bool last = !c->next;
		const char *branch = last ? "└── " : "├── ";
		const char *cont = last ? "    " : "│   ";
		size_t clen = strlen(cont);

		fwrite(prefix, 1, plen, out);
		fputs(branch, out);
		oci_text_escape(out, c->text, strlen(c->text));
		fputc('\n', out);
		if (c->first && plen + clen < cap) {
			memcpy(prefix + plen, cont, clen);
			print_node(c, out, prefix, plen + clen, cap);
		}
	}
}

int oci_tree_print(const struct oci_tree *root, FILE *out)
{
	char prefix[4096];

	if (!root || root->failed)
		return oc_error(-ENOMEM, "out of memory while building the report");
	oci_text_escape(out, root->text, strlen(root->text));
	fputc('\n', out);
	print_node(root, out, prefix, 0, sizeof(prefix));
	if (fflush(out) != 0 || ferror(out))
		return oc_error_errno(-(errno ? errno : EIO), "cannot write the report");
	return 0;
}

void oci_tree_free(struct oci_tree *root)
{
	struct oci_tree *c, *n;

	if (!root)
		return;
	for (c = root->first; c; c = n) {
		n = c->next;
		oci_tree_free(c);
	}
	free(root->text);
	free(root);
}
