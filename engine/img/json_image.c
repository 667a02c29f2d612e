// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Whole images as crit's JSON (CRIU's lib/pycriu/images/images.py):
 *
 *	{"magic": "NAME", "entries": [ENTRY, ...]}
 *
 * where an ENTRY is the message's fields, plus "extra" for what follows the
 * message on disk: base64 of the raw bytes (pipes-data, fifo-data,
 * sk-queues, bpfmap-data, ipcns-shm), {"inq", "outq"} (tcp-stream), a list
 * of semaphore values (ipcns-sem), or a list alternating message and
 * base64 data (ipcns-msg).  A pagemap is a pagemap_head then pagemap_entry
 * entries; a ghost file is its ghost_file_entry with the contents as
 * "extra", or, when "chunks" is set, followed by ghost_chunk_entry entries
 * each with its data.  OC_JSON_NOPAYLOAD writes "... <SIZE>" instead of the
 * data, as crit's --nopl does (and leaves ghost contents out).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "img/image.h"
#include "img/json.h"
#include "core/cleanup.h"
#include "core/error.h"

extern const ProtobufCMessageDescriptor pagemap_head__descriptor;
extern const ProtobufCMessageDescriptor ghost_chunk_entry__descriptor;
extern const ProtobufCMessageDescriptor ipc_msg__descriptor;

/* Refuse JSON documents larger than this (a 64 MiB payload in base64). */
#define JSON_INPUT_MAX (128u << 20)

static void message_free(ProtobufCMessage *msg)
{
	if (msg)
		protobuf_c_message_free_unpacked(msg, NULL);
}

DEFINE_CLEANUP_FUNC(ProtobufCMessage *, message_free)
DEFINE_CLEANUP_FUNC(struct oc_json_writer *, oc_json_writer_free)
DEFINE_CLEANUP_FUNC(struct oc_json *, oc_json_free)

/* Rounded up to a multiple of @to; saturates, so a length from a damaged
 * image still fails the bounds checks instead of wrapping to zero. */
static uint64_t round_up(uint64_t v, uint64_t to)
{
	if (v > UINT64_MAX - (to - 1))
		return UINT64_MAX;
	return (v + to - 1) / to * to;
}

/* ---- decoding ---------------------------------------------------------------- */

static int write_base64(struct oc_json_writer *w, const uint8_t *data, size_t len)
{
	_cleanup_free_ char *s = NULL;
	size_t n;

	s = oc_base64_encode(data, len, &n);
	if (!s)
		return -ENOMEM;
	return oc_json_string(w, s, n);
}

static int write_nopl(struct oc_json_writer *w, uint64_t size)
{
	char human[32], buf[48];

	oc_human_size(size, human, sizeof(human));
	snprintf(buf, sizeof(buf), "... <%s>", human);
	return oc_json_cstring(w, buf);
}

/* Read @len bytes of payload and write them as base64. */
static int read_base64(struct oc_img *img, struct oc_json_writer *w, uint64_t len)
{
	_cleanup_free_ uint8_t *data = NULL;
	int r;

	r = oc_img_read_alloc(img, len, &data);
	if (r < 0)
		return r;
	return write_base64(w, data, len);
}

/* Bytes of raw data after an entry, and the alignment they are padded to. */
static void blob_layout(const struct oc_img_desc *desc, const ProtobufCMessage *msg, uint64_t *ret_len,
			uint64_t *ret_align)
{
	*ret_align = 1;
	switch (desc->payload) {
	case OC_PAYLOAD_PIPE_DATA:
		*ret_len = oc_pb_get_uint(msg, "bytes");
		break;
	case OC_PAYLOAD_SK_QUEUE:
		*ret_len = oc_pb_get_uint(msg, "length");
		break;
	case OC_PAYLOAD_BPFMAP:
		*ret_len = oc_pb_get_uint(msg, "keys_bytes") + oc_pb_get_uint(msg, "values_bytes");
		break;
	case OC_PAYLOAD_IPC_SHM:
		/* CRIU 4.x keeps the contents in pagemap-shmem-ID.img instead. */
		*ret_len = oc_pb_get_uint(msg, "in_pagemaps") ? 0 : oc_pb_get_uint(msg, "size");
		*ret_align = 4;
		break;
	default:
		*ret_len = 0;
	}
}

static int extra_blob_decode(struct oc_img *img, const ProtobufCMessage *msg, struct oc_json_writer *w, unsigned flags)
{
	uint64_t len, align;
	int r;

	blob_layout(oc_img_get_desc(img), msg, &len, &align);
	if (flags & OC_JSON_NOPAYLOAD) {
		r = oc_img_skip_raw(img, round_up(len, align));
		return r < 0 ? r : write_nopl(w, len);
	}
	r = read_base64(img, w, len);
	if (r < 0)
		return r;
	return oc_img_skip_raw(img, round_up(len, align) - len);
}

static int extra_tcp_decode(struct oc_img *img, const ProtobufCMessage *msg, struct oc_json_writer *w, unsigned flags)
{
	uint64_t inq = oc_pb_get_uint(msg, "inq_len"), outq = oc_pb_get_uint(msg, "outq_len");
	int r;

	if (flags & OC_JSON_NOPAYLOAD) {
		r = oc_img_skip_raw(img, inq + outq);
		return r < 0 ? r : write_nopl(w, inq + outq);
	}
	if ((r = oc_json_map_open(w)) < 0 || (r = oc_json_key(w, "inq")) < 0 || (r = read_base64(img, w, inq)) < 0 ||
	    (r = oc_json_key(w, "outq")) < 0 || (r = read_base64(img, w, outq)) < 0)
		return r;
	return oc_json_map_close(w);
}

/* ipcns-sem: nsems u16 values, padded to 8 bytes; shown as a list. */
static int extra_sem_decode(struct oc_img *img, const ProtobufCMessage *msg, struct oc_json_writer *w, unsigned flags)
{
	_cleanup_free_ uint8_t *data = NULL;
	uint64_t size = oc_pb_get_uint(msg, "nsems") * 2;
	int r;

	if (flags & OC_JSON_NOPAYLOAD) {
		r = oc_img_skip_raw(img, round_up(size, 8));
		return r < 0 ? r : write_nopl(w, size);
	}
	r = oc_img_read_alloc(img, size, &data);
	if (r < 0)
		return r;
	r = oc_json_array_open(w);
	if (r < 0)
		return r;
	for (uint64_t i = 0; i < size; i += 2) {
		uint16_t v;
		memcpy(&v, data + i, sizeof(v));
		r = oc_json_uint(w, v);
		if (r < 0)
			return r;
	}
	r = oc_json_array_close(w);
	if (r < 0)
		return r;
	return oc_img_skip_raw(img, round_up(size, 8) - size);
}

/*
 * ipcns-msg: qnum messages, each an ipc_msg entry then msize bytes padded
 * to 8.  crit lists them as [message, base64, message, base64, ...], the
 * messages always in plain form; with --nopl it counts each message's
 * protobuf size plus msize.
 */
static int extra_msg_decode(struct oc_img *img, const ProtobufCMessage *msg, struct oc_json_writer *w, unsigned flags)
{
	uint64_t qnum = oc_pb_get_uint(msg, "qnum"), total = 0;
	int r;

	if (!(flags & OC_JSON_NOPAYLOAD)) {
		r = oc_json_array_open(w);
		if (r < 0)
			return r;
	}
	for (uint64_t i = 0; i < qnum; i++) {
		_cleanup_(message_freep) ProtobufCMessage *m = NULL;
		uint64_t at = oc_img_offset(img);

		r = oc_img_read_entry(img, &ipc_msg__descriptor, &m);
		if (r < 0)
			return r;
		if (r == 0) /* crit stops quietly; CRIU would fail to restore */
			return oc_error(-EIO,
					"%s: truncated: qnum announces %" PRIu64 " messages, the image "
					"ends after %" PRIu64,
					oc_img_name(img), qnum, i);
		uint64_t msize = oc_pb_get_uint(m, "msize");
		total += oc_img_offset(img) - at - sizeof(uint32_t) + msize;
		if (flags & OC_JSON_NOPAYLOAD) {
			r = oc_img_skip_raw(img, round_up(msize, 8));
			if (r < 0)
				return r;
			continue;
		}
		r = oc_json_write_message(w, m, flags & ~OC_JSON_PRETTY);
		if (r < 0)
			return r;
		r = read_base64(img, w, msize);
		if (r < 0)
			return r;
		r = oc_img_skip_raw(img, round_up(msize, 8) - msize);
		if (r < 0)
			return r;
	}
	if (flags & OC_JSON_NOPAYLOAD)
		return write_nopl(w, total);
	return oc_json_array_close(w);
}

typedef int (*extra_decode_fn)(struct oc_img *img, const ProtobufCMessage *msg, struct oc_json_writer *w,
			       unsigned flags);

static const extra_decode_fn extra_decoders[_OC_PAYLOAD_MAX] = {
	[OC_PAYLOAD_PIPE_DATA] = extra_blob_decode, [OC_PAYLOAD_SK_QUEUE] = extra_blob_decode,
	[OC_PAYLOAD_BPFMAP] = extra_blob_decode,    [OC_PAYLOAD_IPC_SHM] = extra_blob_decode,
	[OC_PAYLOAD_TCP_STREAM] = extra_tcp_decode, [OC_PAYLOAD_IPC_SEM] = extra_sem_decode,
	[OC_PAYLOAD_IPC_MSG] = extra_msg_decode,
};

/* One entry of type @pb (NULL: the image's own) with its "extra"; 0 at EOF. */
static int decode_entry(struct oc_img *img, const ProtobufCMessageDescriptor *pb, extra_decode_fn extra,
			struct oc_json_writer *w, unsigned flags, ProtobufCMessage **ret_msg)
{
	_cleanup_(message_freep) ProtobufCMessage *msg = NULL;
	int r;

	r = oc_img_read_entry(img, pb, &msg);
	if (r <= 0)
		return r;
	if ((r = oc_json_map_open(w)) < 0 || (r = oc_json_write_fields(w, msg, flags)) < 0)
		return r;
	if (extra) {
		uint64_t at = oc_img_offset(img);
		if ((r = oc_json_key(w, "extra")) < 0)
			return r;
		r = extra(img, msg, w, flags);
		if (r < 0)
			return oc_error_wrap(r, "%s: payload at offset %" PRIu64, oc_img_name(img), at);
	}
	r = oc_json_map_close(w);
	if (r < 0)
		return r;
	if (ret_msg)
		*ret_msg = TAKE_PTR(msg);
	return 1;
}

static int decode_ghost(struct oc_img *img, struct oc_json_writer *w, unsigned flags)
{
	_cleanup_(message_freep) ProtobufCMessage *gf = NULL;
	int r;

	r = oc_img_read_entry(img, NULL, &gf);
	if (r < 0)
		return r;
	if (r == 0)
		return oc_error(-EIO, "%s: empty ghost file image, a ghost_file_entry was expected", oc_img_name(img));
	if ((r = oc_json_map_open(w)) < 0 || (r = oc_json_write_fields(w, gf, flags)) < 0)
		return r;

	if (!oc_pb_get_uint(gf, "chunks")) {
		/* the rest of the image is the file's contents */
		uint64_t rest = oc_img_size(img) - oc_img_offset(img);
		if (flags & OC_JSON_NOPAYLOAD) {
			r = oc_img_skip_raw(img, rest);
		} else {
			r = oc_json_key(w, "extra");
			if (r >= 0)
				r = read_base64(img, w, rest);
		}
		if (r < 0)
			return r;
		return oc_json_map_close(w);
	}

	r = oc_json_map_close(w);
	if (r < 0)
		return r;
	for (;;) {
		_cleanup_(message_freep) ProtobufCMessage *gc = NULL;

		r = oc_img_read_entry(img, &ghost_chunk_entry__descriptor, &gc);
		if (r <= 0)
			return r;
		uint64_t len = oc_pb_get_uint(gc, "len");
		if ((r = oc_json_map_open(w)) < 0 || (r = oc_json_write_fields(w, gc, flags)) < 0)
			return r;
		if (flags & OC_JSON_NOPAYLOAD) {
			r = oc_img_skip_raw(img, len);
		} else {
			r = oc_json_key(w, "extra");
			if (r >= 0)
				r = read_base64(img, w, len);
		}
		if (r < 0)
			return r;
		r = oc_json_map_close(w);
		if (r < 0)
			return r;
	}
}

static int decode_entries(struct oc_img *img, struct oc_json_writer *w, unsigned flags)
{
	const struct oc_img_desc *desc = oc_img_get_desc(img);
	extra_decode_fn extra = extra_decoders[desc->payload];
	int r;

	if (desc->payload == OC_PAYLOAD_GHOST)
		return decode_ghost(img, w, flags);
	/* oc_img_read_entry() reads a pagemap's first entry as its head */
	while ((r = decode_entry(img, NULL, extra, w, flags, NULL)) > 0)
		;
	return r;
}

static int decode_image(struct oc_img *img, struct oc_json_writer *w, unsigned flags)
{
	const struct oc_img_desc *desc = oc_img_get_desc(img);
	int r;

	if (!desc->magic || !desc->pb)
		return oc_error(-EINVAL,
				"%s: a %s image is raw data without entries; only protobuf images can be "
				"decoded",
				oc_img_name(img), desc->name);
	if ((r = oc_json_map_open(w)) < 0 || (r = oc_json_key(w, "magic")) < 0 ||
	    (r = oc_json_cstring(w, desc->name)) < 0 || (r = oc_json_key(w, "entries")) < 0 ||
	    (r = oc_json_array_open(w)) < 0)
		return r;
	r = decode_entries(img, w, flags);
	if (r < 0)
		return r;
	if ((r = oc_json_array_close(w)) < 0)
		return r;
	return oc_json_map_close(w);
}

OC_API int oc_image_decode(const char *path, FILE *out, unsigned flags)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	_cleanup_(oc_json_writer_freep) struct oc_json_writer *w = NULL;
	const char *text;
	size_t len;
	int r;

	oc_error_clear();
	r = oc_img_open_file(path, &img);
	if (r < 0)
		return r;
	r = oc_json_writer_new(flags, &w);
	if (r < 0)
		return r;
	r = decode_image(img, w, flags);
	if (r == -ENOMEM)
		return oc_error(r, "%s: out of memory", oc_img_name(img));
	if (r < 0)
		return r;

	/* all or nothing: the text is written only once it is complete */
	text = oc_json_writer_text(w, &len);
	if (fwrite(text, 1, len, out) != len || fputc('\n', out) == EOF || fflush(out) == EOF)
		return oc_error_errno(errno ? -errno : -EIO, "%s: cannot write the JSON output", path);
	return 0;
}

/* ---- encoding ---------------------------------------------------------------- */

struct encoder {
	struct oc_img *img;
	const char *name; /* the output, for messages */
};

/* A base64 "extra" of exactly @len bytes. */
static int extra_bytes(const struct encoder *e, const struct oc_json *extra, const char *at, uint64_t len,
		       uint8_t **ret_data)
{
	uint8_t *data;
	size_t n;
	int r;

	if (!extra) {
		if (len == 0) {
			*ret_data = NULL;
			return 0;
		}
		return oc_error(-EINVAL, "%s: %s: missing, the entry announces %" PRIu64 " bytes of payload", e->name,
				at, len);
	}
	if (extra->type != OC_JSON_STRING)
		return oc_error(-EINVAL, "%s: %s: expected a base64 string, found %s", e->name, at,
				oc_json_type_name(extra->type));
	if (strncmp(extra->string.str, "... <", 5) == 0)
		return oc_error(-EINVAL,
				"%s: %s: the payload was left out (decoded with --nopl), so the image "
				"cannot be rebuilt",
				e->name, at);
	r = oc_base64_decode(extra->string.str, extra->string.len, &data, &n);
	if (r == -EINVAL)
		return oc_error(r, "%s: %s: not valid base64", e->name, at);
	if (r < 0)
		return r;
	if (n != len) {
		free(data);
		return oc_error(-EINVAL, "%s: %s: holds %zu bytes but the entry announces %" PRIu64, e->name, at, n,
				len);
	}
	*ret_data = data;
	return 0;
}

static int write_padded(const struct encoder *e, const uint8_t *data, uint64_t len, uint64_t align)
{
	static const uint8_t zeros[8];
	int r = len ? oc_img_write_raw(e->img, data, len) : 0;

	if (r < 0)
		return r;
	return oc_img_write_raw(e->img, zeros, round_up(len, align) - len);
}

static int extra_blob_encode(const struct encoder *e, const ProtobufCMessage *msg, const struct oc_json *extra,
			     const char *at)
{
	_cleanup_free_ uint8_t *data = NULL;
	uint64_t len, align;
	int r;

	blob_layout(oc_img_get_desc(e->img), msg, &len, &align);
	r = extra_bytes(e, extra, at, len, &data);
	if (r < 0)
		return r;
	return write_padded(e, data, len, align);
}

static int extra_tcp_encode(const struct encoder *e, const ProtobufCMessage *msg, const struct oc_json *extra,
			    const char *at)
{
	_cleanup_free_ uint8_t *inq = NULL, *outq = NULL;
	uint64_t inq_len = oc_pb_get_uint(msg, "inq_len"), outq_len = oc_pb_get_uint(msg, "outq_len");
	char where[64];
	int r;

	if (!extra && inq_len + outq_len == 0)
		return 0;
	if (!extra || extra->type != OC_JSON_OBJECT)
		return oc_error(-EINVAL, "%s: %s: expected an object with \"inq\" and \"outq\"", e->name, at);
	snprintf(where, sizeof(where), "%s.inq", at);
	r = extra_bytes(e, oc_json_get(extra, "inq"), where, inq_len, &inq);
	if (r < 0)
		return r;
	snprintf(where, sizeof(where), "%s.outq", at);
	r = extra_bytes(e, oc_json_get(extra, "outq"), where, outq_len, &outq);
	if (r < 0)
		return r;
	if ((r = write_padded(e, inq, inq_len, 1)) < 0)
		return r;
	return write_padded(e, outq, outq_len, 1);
}

static int extra_sem_encode(const struct encoder *e, const ProtobufCMessage *msg, const struct oc_json *extra,
			    const char *at)
{
	uint64_t nsems = oc_pb_get_uint(msg, "nsems");
	_cleanup_free_ uint16_t *vals = NULL;

	if (!extra && nsems == 0)
		return 0;
	if (!extra || extra->type != OC_JSON_ARRAY)
		return oc_error(-EINVAL, "%s: %s: expected a list of %" PRIu64 " semaphore values", e->name, at, nsems);
	if (extra->array.n != nsems)
		return oc_error(-EINVAL, "%s: %s: %zu semaphore values for nsems %" PRIu64, e->name, at, extra->array.n,
				nsems);
	vals = calloc(nsems ? nsems : 1, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (size_t i = 0; i < nsems; i++) {
		const struct oc_json *v = extra->array.items[i];
		bool neg;
		uint64_t mag;
		if (v->type != OC_JSON_NUMBER || oc_parse_int(v->number, strlen(v->number), 10, &neg, &mag) < 0 ||
		    neg || mag > UINT16_MAX)
			return oc_error(-EINVAL, "%s: %s[%zu]: expected a semaphore value (0..65535)", e->name, at, i);
		vals[i] = mag;
	}
	return write_padded(e, (const uint8_t *)vals, nsems * 2, 8);
}

static int extra_msg_encode(const struct encoder *e, const ProtobufCMessage *msg, const struct oc_json *extra,
			    const char *at)
{
	uint64_t qnum = oc_pb_get_uint(msg, "qnum");
	char where[96];
	int r;

	if (!extra && qnum == 0)
		return 0;
	if (!extra || extra->type != OC_JSON_ARRAY)
		return oc_error(-EINVAL, "%s: %s: expected a list of messages and their data", e->name, at);
	if (extra->array.n != 2 * qnum)
		return oc_error(-EINVAL, "%s: %s: %zu items for qnum %" PRIu64 " (a message and its data each)",
				e->name, at, extra->array.n, qnum);
	for (size_t i = 0; i < extra->array.n; i += 2) {
		_cleanup_(message_freep) ProtobufCMessage *m = NULL;
		_cleanup_free_ uint8_t *data = NULL;

		snprintf(where, sizeof(where), "%s[%zu]", at, i);
		r = oc_json_to_message(extra->array.items[i], &ipc_msg__descriptor, NULL, where, &m);
		if (r < 0)
			return oc_error_wrap(r, "%s", e->name);
		r = oc_img_write_entry(e->img, m);
		if (r < 0)
			return r;
		uint64_t msize = oc_pb_get_uint(m, "msize");
		snprintf(where, sizeof(where), "%s[%zu]", at, i + 1);
		r = extra_bytes(e, extra->array.items[i + 1], where, msize, &data);
		if (r < 0)
			return r;
		r = write_padded(e, data, msize, 8);
		if (r < 0)
			return r;
	}
	return 0;
}

typedef int (*extra_encode_fn)(const struct encoder *e, const ProtobufCMessage *msg, const struct oc_json *extra,
			       const char *at);

static const extra_encode_fn extra_encoders[_OC_PAYLOAD_MAX] = {
	[OC_PAYLOAD_PIPE_DATA] = extra_blob_encode, [OC_PAYLOAD_SK_QUEUE] = extra_blob_encode,
	[OC_PAYLOAD_BPFMAP] = extra_blob_encode,    [OC_PAYLOAD_IPC_SHM] = extra_blob_encode,
	[OC_PAYLOAD_TCP_STREAM] = extra_tcp_encode, [OC_PAYLOAD_IPC_SEM] = extra_sem_encode,
	[OC_PAYLOAD_IPC_MSG] = extra_msg_encode,
};

static int encode_entry(const struct encoder *e, const struct oc_json *entry, size_t i,
			const ProtobufCMessageDescriptor *pb, bool with_extra, ProtobufCMessage **ret_msg)
{
	_cleanup_(message_freep) ProtobufCMessage *msg = NULL;
	char at[48];
	int r;

	snprintf(at, sizeof(at), "entries[%zu]", i);
	r = oc_json_to_message(entry, pb, with_extra ? "extra" : NULL, at, &msg);
	if (r < 0)
		return oc_error_wrap(r, "%s", e->name);
	r = oc_img_write_entry(e->img, msg);
	if (r < 0)
		return r;
	*ret_msg = TAKE_PTR(msg);
	return 0;
}

static int encode_ghost(const struct encoder *e, const struct oc_json *entries)
{
	_cleanup_(message_freep) ProtobufCMessage *gf = NULL;
	char at[48];
	int r;

	if (entries->array.n == 0)
		return oc_error(-EINVAL, "%s: entries: a ghost file image needs its ghost_file_entry", e->name);
	r = encode_entry(e, entries->array.items[0], 0, oc_img_get_desc(e->img)->pb, true, &gf);
	if (r < 0)
		return r;

	if (!oc_pb_get_uint(gf, "chunks")) {
		const struct oc_json *extra = oc_json_get(entries->array.items[0], "extra");
		_cleanup_free_ uint8_t *data = NULL;
		size_t n = 0;

		if (entries->array.n > 1)
			return oc_error(-EINVAL, "%s: entries[1]: a ghost file without chunks has one entry", e->name);
		if (!extra)
			return 0;
		if (extra->type != OC_JSON_STRING)
			return oc_error(-EINVAL, "%s: entries[0].extra: expected a base64 string", e->name);
		if (strncmp(extra->string.str, "... <", 5) == 0)
			return oc_error(-EINVAL,
					"%s: entries[0].extra: the payload was left out (decoded with "
					"--nopl), so the image cannot be rebuilt",
					e->name);
		r = oc_base64_decode(extra->string.str, extra->string.len, &data, &n);
		if (r == -EINVAL)
			return oc_error(r, "%s: entries[0].extra: not valid base64", e->name);
		if (r < 0)
			return r;
		return n ? oc_img_write_raw(e->img, data, n) : 0;
	}

	for (size_t i = 1; i < entries->array.n; i++) {
		_cleanup_(message_freep) ProtobufCMessage *gc = NULL;
		_cleanup_free_ uint8_t *data = NULL;

		r = encode_entry(e, entries->array.items[i], i, &ghost_chunk_entry__descriptor, true, &gc);
		if (r < 0)
			return r;
		uint64_t len = oc_pb_get_uint(gc, "len");
		snprintf(at, sizeof(at), "entries[%zu].extra", i);
		r = extra_bytes(e, oc_json_get(entries->array.items[i], "extra"), at, len, &data);
		if (r < 0)
			return r;
		r = write_padded(e, data, len, 1);
		if (r < 0)
			return r;
	}
	return 0;
}

static int encode_entries(const struct encoder *e, const struct oc_json *entries)
{
	const struct oc_img_desc *desc = oc_img_get_desc(e->img);
	extra_encode_fn extra = extra_encoders[desc->payload];
	char at[48];
	int r;

	if (desc->payload == OC_PAYLOAD_GHOST)
		return encode_ghost(e, entries);
	for (size_t i = 0; i < entries->array.n; i++) {
		_cleanup_(message_freep) ProtobufCMessage *msg = NULL;
		const ProtobufCMessageDescriptor *pb = desc->pb;

		if (desc->payload == OC_PAYLOAD_PAGEMAP && i == 0)
			pb = &pagemap_head__descriptor;
		r = encode_entry(e, entries->array.items[i], i, pb, extra != NULL, &msg);
		if (r < 0)
			return r;
		if (extra) {
			snprintf(at, sizeof(at), "entries[%zu].extra", i);
			r = extra(e, msg, oc_json_get(entries->array.items[i], "extra"), at);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The kind a JSON "magic" names; the output's file name picks among kinds
 * sharing a name (pagemap-shmem-N.img, stats-restore). */
static int encode_desc(const char *magic, const char *path, const struct oc_img_desc **ret_desc)
{
	const struct oc_img_desc *by_name = strcmp(path, "-") ? oc_img_desc_by_filename(path) : NULL;
	const struct oc_img_desc *found = NULL;

	for (size_t i = 0; i < _OC_IMG_KIND_MAX; i++) {
		if (strcmp(oc_img_descs[i].name, magic) == 0) {
			found = &oc_img_descs[i];
			break;
		}
	}
	if (!found)
		return oc_error(-EINVAL, "%s: unknown image magic \"%s\"", path, magic);
	if (!found->magic || !found->pb)
		return oc_error(-EINVAL, "%s: %s images are raw data and have no JSON form", path, magic);
	if (by_name && strcmp(by_name->name, found->name) != 0)
		return oc_error(-EINVAL, "%s: the JSON holds a %s image, but the file name is that of a %s image", path,
				found->name, by_name->name);
	*ret_desc = by_name ? by_name : found;
	return 0;
}

static int read_all(FILE *in, char **ret_buf, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		if (cap - len < 4096) {
			if (cap >= JSON_INPUT_MAX)
				return oc_error(-EFBIG, "JSON input: larger than %u MiB", JSON_INPUT_MAX >> 20);
			cap = cap ? cap * 2 : 65536;
			char *n = realloc(buf, cap + 1);
			if (!n)
				return -ENOMEM;
			buf = n;
		}
		size_t got = fread(buf + len, 1, cap - len, in);
		len += got;
		if (got == 0) {
			if (ferror(in))
				return oc_error_errno(errno ? -errno : -EIO, "JSON input: read failed");
			break;
		}
	}
	buf[len] = '\0';
	*ret_buf = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

OC_API int oc_image_encode(FILE *in, const char *path)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	_cleanup_(oc_json_freep) struct oc_json *doc = NULL;
	_cleanup_free_ char *text = NULL;
	const struct oc_json *magic, *entries;
	const struct oc_img_desc *desc = NULL;
	size_t len = 0;
	int r;

	oc_error_clear();
	r = read_all(in, &text, &len);
	if (r < 0)
		return r;
	r = oc_json_parse(text, len, "JSON input", &doc);
	if (r < 0) {
		if (len >= 4 && (uint8_t)text[0] > 0x7f)
			return oc_error_wrap(r, "encode expects JSON, this looks like a binary image");
		return r;
	}
	if (doc->type != OC_JSON_OBJECT)
		return oc_error(-EINVAL, "JSON input: expected an object with \"magic\" and \"entries\", found %s",
				oc_json_type_name(doc->type));
	magic = oc_json_get(doc, "magic");
	entries = oc_json_get(doc, "entries");
	if (!magic || magic->type != OC_JSON_STRING)
		return oc_error(-EINVAL, "JSON input: \"magic\" must be the image's name, e.g. \"CORE\"");
	if (!entries || entries->type != OC_JSON_ARRAY)
		return oc_error(-EINVAL, "JSON input: \"entries\" must be a list");
	for (size_t i = 0; i < doc->object.n; i++)
		if (strcmp(doc->object.keys[i], "magic") && strcmp(doc->object.keys[i], "entries"))
			return oc_error(-EINVAL,
					"JSON input: unexpected member \"%s\" (only \"magic\" and "
					"\"entries\")",
					doc->object.keys[i]);

	r = encode_desc(magic->string.str, path, &desc);
	if (r < 0)
		return r;
	r = oc_img_create_file(path, desc, &img);
	if (r < 0)
		return r;
	struct encoder e = { .img = img, .name = path };
	r = encode_entries(&e, entries);
	if (r == -ENOMEM)
		return oc_error(r, "%s: out of memory", path);
	if (r < 0)
		return r;
	return oc_img_commit(img);
}
