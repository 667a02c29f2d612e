/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How crit presents fields in --pretty JSON.  CRIU marks these with custom
 * field options in its .proto files; protobuf-c drops custom options from
 * the generated descriptors, so we keep them in one table here.  A unit test
 * checks that every (message, field) named below exists.
 */
#ifndef OCICR_IMG_PBHINTS_H
#define OCICR_IMG_PBHINTS_H

#include <stdint.h>
#include <stddef.h>

enum oc_pb_hint_kind {
	OC_PB_HINT_HEX = 1, /* "0x%x"; on a message field: all its integers */
	OC_PB_HINT_FLAGS,   /* "A | B | 0x..", table named by .arg */
	OC_PB_HINT_DEV,	    /* "major:minor", kernel (20-bit minor) encoding */
	OC_PB_HINT_ODEV,    /* "major:minor", old (glibc makedev) encoding */
	OC_PB_HINT_IPADD,   /* repeated u32 in network order: one IPv4/IPv6 */
	OC_PB_HINT_DICT,    /* value names from the dict named by .arg */
	OC_PB_HINT_CONV,    /* bytes with a custom conversion named by .arg */
};

struct oc_pb_hint {
	const char *message; /* protobuf message name, e.g. "vma_entry" */
	const char *field;   /* field name, e.g. "prot" */
	enum oc_pb_hint_kind kind;
	const char *arg; /* flags table / dict / conversion name */
};

struct oc_pb_flag {
	const char *name;
	uint64_t value;
};

/* A named flags table, e.g. "mmap.prot"; bits listed in crit's order. */
struct oc_pb_flags_table {
	const char *name;
	const struct oc_pb_flag *flags;
	size_t n_flags;
};

/* A named value dictionary: dict "gen" field "task_state" 1 -> "Alive". */
struct oc_pb_dict_value {
	const char *dict;
	const char *field;
	uint64_t value;
	const char *name;
};

extern const struct oc_pb_hint oc_pb_hints[];
extern const size_t oc_pb_n_hints;
extern const struct oc_pb_flags_table oc_pb_flags_tables[];
extern const size_t oc_pb_n_flags_tables;
extern const struct oc_pb_dict_value oc_pb_dict_values[];
extern const size_t oc_pb_n_dict_values;

#endif
