// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A descriptor-driven walk over protobuf wire data.  protobuf-c's unpacker
 * only says "failed"; this says what and where, so a corrupt image gets an
 * error naming the field and the byte.
 */
#include <inttypes.h>
#include <string.h>

#include "img/image.h"
#include "core/cleanup.h"
#include "core/error.h"

#define PB_MAX_DEPTH 32

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_FIXED32 = 5 };

static const char *const wire_type_names[] = { "varint",    "fixed64", "length-delimited", "group start",
					       "group end", "fixed32", "invalid(6)",	   "invalid(7)" };

static int read_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *ret)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 10; i++) {
		if (*pos >= len)
			return -1;
		uint8_t b = buf[(*pos)++];
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*ret = v;
			return 0;
		}
	}
	return -2; /* more than 10 bytes */
}

static int expected_wire_type(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_BOOL:
	case PROTOBUF_C_TYPE_ENUM:
		return WT_VARINT;
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return WT_FIXED32;
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return WT_FIXED64;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return WT_LEN;
	}
	return -1;
}

static int check_message(const ProtobufCMessageDescriptor *pb, const uint8_t *buf, size_t len, size_t base,
			 unsigned depth, unsigned *unknown)
{
	_cleanup_free_ uint8_t *seen = NULL;
	size_t pos = 0;

	if (depth > PB_MAX_DEPTH)
		return oc_error(-EINVAL, "messages nested deeper than %d at byte %zu", PB_MAX_DEPTH, base);

	seen = calloc(pb->n_fields ? pb->n_fields : 1, 1);
	if (!seen)
		return -ENOMEM;

	while (pos < len) {
		size_t field_at = pos;
		uint64_t key, v;

		if (read_varint(buf, len, &pos, &key) < 0)
			return oc_error(-EINVAL, "%s: truncated or overlong field tag at byte %zu", pb->name,
					base + field_at);
		uint64_t num = key >> 3;
		unsigned wt = key & 7;
		if (num == 0 || num > 536870911)
			return oc_error(-EINVAL, "%s: invalid field number %" PRIu64 " at byte %zu", pb->name, num,
					base + field_at);

		const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field(pb, num);
		size_t payload_at = pos;
		switch (wt) {
		case WT_VARINT:
			if (read_varint(buf, len, &pos, &v) < 0)
				return oc_error(-EINVAL,
						"%s: truncated or overlong varint for field %" PRIu64 " at byte %zu",
						pb->name, num, base + payload_at);
			break;
		case WT_FIXED64:
		case WT_FIXED32: {
			size_t n = wt == WT_FIXED64 ? 8 : 4;
			if (len - pos < n)
				return oc_error(-EINVAL, "%s: truncated %s field %" PRIu64 " at byte %zu", pb->name,
						wire_type_names[wt], num, base + payload_at);
			pos += n;
			break;
		}
		case WT_LEN:
			if (read_varint(buf, len, &pos, &v) < 0)
				return oc_error(-EINVAL, "%s: truncated length of field %" PRIu64 " at byte %zu",
						pb->name, num, base + payload_at);
			if (v > len - pos)
				return oc_error(-EINVAL,
						"%s: field %" PRIu64 " at byte %zu claims %" PRIu64
						" bytes but only %zu remain",
						pb->name, num, base + payload_at, v, len - pos);
			payload_at = pos;
			pos += v;
			break;
		default:
			return oc_error(-EINVAL, "%s: field %" PRIu64 " at byte %zu has unsupported wire type %s",
					pb->name, num, base + field_at, wire_type_names[wt]);
		}

		if (!fd) {
			(*unknown)++;
			continue;
		}

		int want = expected_wire_type(fd->type);
		bool packed = wt == WT_LEN && fd->label == PROTOBUF_C_LABEL_REPEATED && want != WT_LEN;
		if (want != (int)wt && !packed)
			return oc_error(-EINVAL, "%s: field '%s' (#%u) at byte %zu is %s, expected %s", pb->name,
					fd->name, fd->id, base + field_at, wire_type_names[wt],
					wire_type_names[want < 0 ? 6 : want]);

		if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
			int r = check_message(fd->descriptor, buf + payload_at, pos - payload_at, base + payload_at,
					      depth + 1, unknown);
			if (r < 0)
				return oc_error_wrap(r, "%s.%s", pb->name, fd->name);
		}
		seen[fd - pb->fields] = 1;
	}

	for (unsigned i = 0; i < pb->n_fields; i++)
		if (pb->fields[i].label == PROTOBUF_C_LABEL_REQUIRED && !seen[i])
			return oc_error(-EINVAL, "%s: missing required field '%s' (#%u)", pb->name, pb->fields[i].name,
					pb->fields[i].id);
	return 0;
}

int oc_pb_check(const ProtobufCMessageDescriptor *pb, const uint8_t *buf, size_t len, unsigned *ret_unknown)
{
	unsigned unknown = 0;
	int r = check_message(pb, buf, len, 0, 0, &unknown);

	if (r < 0)
		return r;
	if (ret_unknown)
		*ret_unknown = unknown;
	return 0;
}

uint64_t oc_pb_get_uint(const ProtobufCMessage *msg, const char *field)
{
	const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, field);
	const uint8_t *base = (const uint8_t *)msg;

	if (!fd || fd->label == PROTOBUF_C_LABEL_REPEATED)
		return 0;
	if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->quantifier_offset &&
	    !*(const protobuf_c_boolean *)(base + fd->quantifier_offset))
		return 0;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return (uint64_t)(int64_t) * (const int32_t *)(base + fd->offset);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return *(const uint32_t *)(base + fd->offset);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)(base + fd->offset);
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)(base + fd->offset);
	default:
		return 0;
	}
}

static uint64_t round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

int oc_img_payload_size(const struct oc_img_desc *desc, const ProtobufCMessage *msg, uint64_t *ret_size)
{
	uint64_t n;

	switch (desc->payload) {
	case OC_PAYLOAD_NONE:
	case OC_PAYLOAD_PAGEMAP:
		n = 0;
		break;
	case OC_PAYLOAD_PIPE_DATA:
		n = oc_pb_get_uint(msg, "bytes");
		break;
	case OC_PAYLOAD_SK_QUEUE:
		n = oc_pb_get_uint(msg, "length");
		break;
	case OC_PAYLOAD_TCP_STREAM:
		n = oc_pb_get_uint(msg, "inq_len") + oc_pb_get_uint(msg, "outq_len");
		break;
	case OC_PAYLOAD_BPFMAP:
		n = oc_pb_get_uint(msg, "keys_bytes") + oc_pb_get_uint(msg, "values_bytes");
		break;
	case OC_PAYLOAD_IPC_SHM:
		/* CRIU 4.x keeps the contents in pagemap-shmem-ID.img instead. */
		n = oc_pb_get_uint(msg, "in_pagemaps") ? 0 : round_up(oc_pb_get_uint(msg, "size"), 4);
		break;
	case OC_PAYLOAD_IPC_SEM:
		n = round_up(oc_pb_get_uint(msg, "nsems") * 2, 8);
		break;
	default:
		return -EOPNOTSUPP; /* entries inside the payload: caller walks it */
	}
	*ret_size = n;
	return 0;
}

extern const ProtobufCMessageDescriptor *const oc_pb_registry[];
extern const size_t oc_pb_registry_len;

const ProtobufCMessageDescriptor *oc_pb_find_message(const char *name)
{
	for (size_t i = 0; i < oc_pb_registry_len; i++)
		if (strcmp(oc_pb_registry[i]->name, name) == 0)
			return oc_pb_registry[i];
	return NULL;
}
