/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A bump allocator for the many small objects of one dump or restore
 * (protobuf messages, strings, arrays).  Everything is freed at once.
 */
#ifndef OCICR_UTIL_ARENA_H
#define OCICR_UTIL_ARENA_H

#include <stddef.h>
#include <string.h>

struct oc_arena;

struct oc_arena *oc_arena_new(void);
void oc_arena_free(struct oc_arena *a);

/* Zeroed, 16-byte aligned memory; NULL when out of memory. */
void *oc_arena_alloc(struct oc_arena *a, size_t size);
void *oc_arena_memdup(struct oc_arena *a, const void *p, size_t size);
char *oc_arena_strdup(struct oc_arena *a, const char *s);

/* Allocate a protobuf-c message and initialise it with its INIT macro. */
#define OC_ARENA_MSG(a, type, init)                           \
	({                                                    \
		type *_m = oc_arena_alloc((a), sizeof(type)); \
		if (_m) {                                     \
			type _i = init;                       \
			memcpy(_m, &_i, sizeof(type));        \
		}                                             \
		_m;                                           \
	})

#define OC_ARENA_ARRAY(a, type, n) ((type *)oc_arena_alloc((a), sizeof(type) * ((n) ? (n) : 1)))

#endif
