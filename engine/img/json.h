/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JSON for images, with crit's rules (CRIU's lib/pycriu/images/pb2dict.py).
 *
 * ocicr's one JSON library wrapper: yajl is called in json.c and nowhere
 * else, so it could be swapped without touching callers.  Three parts:
 *
 *  - a writer with two layouts: exactly what Python's json.dump() prints
 *    (", " and ": " separators, or indent=4 with "[]"/"{}" for empty
 *    containers in pretty mode, and ensure_ascii escaping), for crit's
 *    JSON; and yajl's own to a FILE, for reports and OCI files (public:
 *    ocicr.h);
 *  - a parsed tree of a JSON document (struct oc_json), with the public
 *    accessors of json_doc.c that oci/ and bundle/ read documents with;
 *  - the codec between protobuf-c messages and JSON, generic over message
 *    descriptors and steered by crit's pretty-printing hints (pbhints.h).
 *
 * The text primitives crit uses (base64.encodebytes, quopri, IP addresses,
 * "major:minor", Python's int(s, 0)) are in codecs.c, declared here too.
 */
#ifndef OCICR_IMG_JSON_H
#define OCICR_IMG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <protobuf-c/protobuf-c.h>

#include "ocicr.h"

/* Nesting limit of documents we read: room for the deepest message the
 * wire checker accepts (32 levels, each an object in a list) and more. */
#define OC_JSON_MAX_DEPTH 100

/* ---- writer ------------------------------------------------------------ */

/* A writer in crit's layout, into memory (oc_json_writer_text()); the
 * calls that write are public (ocicr.h).  @flags: OC_JSON_PRETTY selects
 * indent=4 layout. */
int oc_json_writer_new(unsigned flags, struct oc_json_writer **ret_w);

/* The text so far (complete once the top-level value is closed). */
const char *oc_json_writer_text(const struct oc_json_writer *w, size_t *ret_len);

/* ---- parsed documents ----------------------------------------------------- */

enum oc_json_type {
	OC_JSON_NULL,
	OC_JSON_BOOL,
	OC_JSON_NUMBER,
	OC_JSON_STRING,
	OC_JSON_ARRAY,
	OC_JSON_OBJECT,
};

struct oc_json {
	enum oc_json_type type;
	union {
		bool boolean;
		char *number; /* the literal as written, e.g. "18446744073709551615" */
		struct {
			char *str; /* NUL-terminated; may also hold NULs (\u0000) */
			size_t len;
		} string;
		struct {
			struct oc_json **items;
			size_t n;
		} array;
		struct {
			char **keys;
			struct oc_json **values;
			size_t n;
		} object;
	};
};

/*
 * Parse one JSON document.  @name is used in messages ("x.json: line 3,
 * column 7: ...").  Nesting deeper than OC_JSON_MAX_DEPTH is refused.
 */
int oc_json_parse(const char *text, size_t len, const char *name, struct oc_json **ret_doc);

const char *oc_json_type_name(enum oc_json_type t);

/* ---- messages ------------------------------------------------------------- */

/*
 * Write @msg as a JSON object, by crit's pb2dict(): set fields only, in
 * field-number order; OC_JSON_PRETTY applies the hints (hex, flags, dev,
 * dict, ipadd).  Enum values without a name are written as numbers.
 */
int oc_json_write_message(struct oc_json_writer *w, const ProtobufCMessage *msg, unsigned flags);

/* The same members without the enclosing braces, so the caller can add its
 * own (crit's "extra"). */
int oc_json_write_fields(struct oc_json_writer *w, const ProtobufCMessage *msg, unsigned flags);

/*
 * Build a message of type @pb from the JSON object @obj, by crit's
 * dict2pb(): accepts plain and pretty values.  Member @skip_key (e.g.
 * "extra"), if not NULL, is left alone; any other member that is no field
 * of @pb is an error.  @path names @obj in messages ("entries[2]").  Free
 * the result with protobuf_c_message_free_unpacked(msg, NULL).
 */
int oc_json_to_message(const struct oc_json *obj, const ProtobufCMessageDescriptor *pb, const char *skip_key,
		       const char *path, ProtobufCMessage **ret_msg);

/* ---- text primitives (codecs.c) ------------------------------------------ */

/* Python's base64.encodebytes(): a newline after every 76 output characters
 * and at the end; "" for no input.  Returns a malloc'd NUL-terminated string. */
char *oc_base64_encode(const void *data, size_t len, size_t *ret_len);

/* Python's base64.decodebytes(): whitespace is skipped.  Other characters
 * outside the alphabet and bad padding are refused (-EINVAL, no message). */
int oc_base64_decode(const char *s, size_t len, uint8_t **ret_data, size_t *ret_len);

/* Python's quopri.encodestring() / decodestring() (binascii.b2a_qp/a2b_qp
 * with quotetabs=False, header=False). */
char *oc_quopri_encode(const void *data, size_t len, size_t *ret_len);
int oc_quopri_decode(const char *s, size_t len, uint8_t **ret_data, size_t *ret_len);

/* The address held in @n network-order u32 words (1: IPv4, 4: IPv6), as
 * Python's ipaddress prints it (IPv6 compressed, no dotted IPv4 tail). */
int oc_ipaddr_format(const uint32_t *words, size_t n, char *buf, size_t len);
/* Parse an IPv4 or IPv6 address into network-order words; returns the count
 * (1 or 4) or -EINVAL. */
int oc_ipaddr_parse(const char *s, uint32_t words[4]);

/*
 * Python's int(s, @base) for @base 0 or 10, plus crit's "0x-5" for negative
 * hex: surrounding whitespace, a sign, with base 0 a 0x/0o/0b prefix,
 * digits with single underscores between them.  -EINVAL for bad syntax,
 * -ERANGE when the magnitude does not fit in 64 bits (no message).
 */
int oc_parse_int(const char *s, size_t len, int base, bool *ret_negative, uint64_t *ret_magnitude);

/* crit's --nopl size: "9B", "1.5KB", "64KB", ... */
void oc_human_size(uint64_t n, char *buf, size_t len);

#endif
