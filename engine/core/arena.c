// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdint.h>
#include <stdlib.h>

#include "core/arena.h"

#define ARENA_CHUNK (64u << 10)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

struct oc_arena {
	struct arena_chunk *head;
};

struct oc_arena *oc_arena_new(void)
{
	return calloc(1, sizeof(struct oc_arena));
}

void oc_arena_free(struct oc_arena *a)
{
	if (!a)
		return;
	for (struct arena_chunk *c = a->head, *n; c; c = n) {
		n = c->next;
		free(c);
	}
	free(a);
}

void *oc_arena_alloc(struct oc_arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (!size)
		size = 16;
	if (!a->head || a->head->size - a->head->used < size) {
		size_t csize = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		struct arena_chunk *c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->size = csize;
		c->used = 0;
		/* Big one-off blocks go behind the current chunk so its free
		 * space is not wasted. */
		if (a->head && csize == size) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
		c->used = size;
		memset(c->data, 0, size);
		return c->data;
	}
	void *p = a->head->data + a->head->used;
	a->head->used += size;
	memset(p, 0, size);
	return p;
}

void *oc_arena_memdup(struct oc_arena *a, const void *p, size_t size)
{
	void *d = oc_arena_alloc(a, size);
	if (d && size)
		memcpy(d, p, size);
	return d;
}

char *oc_arena_strdup(struct oc_arena *a, const char *s)
{
	return s ? oc_arena_memdup(a, s, strlen(s) + 1) : NULL;
}
