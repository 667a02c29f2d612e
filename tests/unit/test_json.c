// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The JSON codec against crit's rules (CRIU's pb2dict.py, Python's json,
 * base64, quopri and ipaddress modules): exact text for each rule, the
 * encoder's acceptance of every form the decoder writes, its errors, and a
 * round trip of every message type in the registry with extreme values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "img/image.h"
#include "img/json.h"
#include "core/error.h"

extern const ProtobufCMessageDescriptor *const oc_pb_registry[];
extern const size_t oc_pb_registry_len;

/* ---- helpers ------------------------------------------------------------- */

static const ProtobufCMessageDescriptor *pb(const char *name)
{
	const ProtobufCMessageDescriptor *d = oc_pb_find_message(name);

	if (!d)
		fail_msg("no message %s", name);
	return d;
}

/* Parse @json and build a message of type @name; fails the test on error. */
static ProtobufCMessage *msg_from(const char *name, const char *json)
{
	struct oc_json *doc = NULL;
	ProtobufCMessage *m = NULL;
	int r;

	r = oc_json_parse(json, strlen(json), "test", &doc);
	if (r < 0)
		fail_msg("parse: %s", oc_error_message());
	r = oc_json_to_message(doc, pb(name), NULL, "", &m);
	if (r < 0)
		fail_msg("%s: %s", json, oc_error_message());
	oc_json_free(doc);
	return m;
}

/* The JSON text of @m, malloc'd. */
static char *text_of(const ProtobufCMessage *m, unsigned flags)
{
	struct oc_json_writer *w;
	const char *t;
	char *s;

	assert_int_equal(oc_json_writer_new(flags, &w), 0);
	assert_int_equal(oc_json_write_message(w, m, flags), 0);
	t = oc_json_writer_text(w, NULL);
	s = strdup(t);
	oc_json_writer_free(w);
	return s;
}

/* Build from @json and check the plain or pretty text of the result. */
static void check_text(const char *name, const char *json, unsigned flags, const char *expect)
{
	ProtobufCMessage *m = msg_from(name, json);
	char *t = text_of(m, flags);

	assert_string_equal(t, expect);
	free(t);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* Building from @json must fail with a message containing @needle. */
static void check_error(const char *name, const char *json, const char *needle)
{
	struct oc_json *doc = NULL;
	ProtobufCMessage *m = NULL;
	int r;

	oc_error_clear();
	r = oc_json_parse(json, strlen(json), "test", &doc);
	if (r == 0) {
		r = oc_json_to_message(doc, pb(name), NULL, "entries[0]", &m);
		oc_json_free(doc);
	}
	if (r == 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		fail_msg("%s: accepted, expected an error with \"%s\"", json, needle);
	}
	if (!strstr(oc_error_message(), needle))
		fail_msg("%s: error \"%s\" lacks \"%s\"", json, oc_error_message(), needle);
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	*len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(*len + 1);
	assert_non_null(buf);
	protobuf_c_message_pack(m, buf);
	return buf;
}

static const char *const fown = "\"fown\": {\"uid\": 0, \"euid\": 0, \"signum\": 0, \"pid_type\": 0, \"pid\": 0}";

/* ---- text primitives ------------------------------------------------------ */

static void test_base64_layout(void **state)
{
	uint8_t data[200];
	size_t len;
	char *s;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = i * 7;

	s = oc_base64_encode(data, 0, &len);
	assert_string_equal(s, "");
	free(s);
	s = oc_base64_encode("in-flight", 9, &len);
	assert_string_equal(s, "aW4tZmxpZ2h0\n");
	free(s);
	s = oc_base64_encode("ab", 2, &len);
	assert_string_equal(s, "YWI=\n");
	free(s);

	/* 57 bytes fill exactly one 76-character line */
	s = oc_base64_encode(data, 57, &len);
	assert_int_equal(len, 77);
	assert_int_equal(s[76], '\n');
	free(s);
	s = oc_base64_encode(data, 58, &len);
	assert_int_equal(len, 77 + 5);
	assert_int_equal(s[76], '\n');
	assert_string_equal(s + 77, "jw==\n");
	free(s);

	/* and back, whitespace ignored */
	s = oc_base64_encode(data, sizeof(data), &len);
	uint8_t *back;
	size_t n;
	assert_int_equal(oc_base64_decode(s, len, &back, &n), 0);
	assert_int_equal(n, sizeof(data));
	assert_memory_equal(back, data, n);
	free(back);
	free(s);

	assert_int_equal(oc_base64_decode("YQ", 2, &back, &n), -EINVAL); /* padding */
	assert_int_equal(oc_base64_decode("YQ=", 3, &back, &n), -EINVAL);
	assert_int_equal(oc_base64_decode("Y$==", 4, &back, &n), -EINVAL); /* alphabet */
	assert_int_equal(oc_base64_decode("YQ==\nYg==\n", 10, &back, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(back, "ab", 2);
	free(back);
}

static void test_quopri(void **state)
{
	/* what quopri.encodestring() writes for the same bytes */
	static const char in[] = "a b \0=\xff.\n.\n"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxx ";
	static const char out[] = "a b =00=3D=FF.\n=2E\n"
				  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\n"
				  "xxxxxxxxxxxxxxxxxxxxxxxxx=20";
	size_t len, n;
	uint8_t *back;
	char *s;

	s = oc_quopri_encode(in, sizeof(in) - 1, &len);
	assert_string_equal(s, out);
	assert_int_equal(oc_quopri_decode(s, len, &back, &n), 0);
	assert_int_equal(n, sizeof(in) - 1);
	assert_memory_equal(back, in, n);
	free(back);
	free(s);

	/* trailing blank before a newline, CRLF data */
	s = oc_quopri_encode("a \r\nb", 5, &len);
	assert_string_equal(s, "a=20\r\nb");
	free(s);
	/* lenient decoding, as a2b_qp: "==" is "=", lowercase hex, a stray
	 * "=" stays, a final one goes */
	assert_int_equal(oc_quopri_decode("x==3d=4a=zz=", 12, &back, &n), 0);
	assert_int_equal(n, 8);
	assert_memory_equal(back, "x=3dJ=zz", 8);
	free(back);
}

static void test_ipaddr(void **state)
{
	uint32_t w[4];
	char buf[64];

	w[0] = htonl(0x7f000001);
	assert_int_equal(oc_ipaddr_format(w, 1, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "127.0.0.1");

	assert_int_equal(oc_ipaddr_parse("::1", w), 4);
	assert_int_equal(oc_ipaddr_format(w, 4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "::1");

	/* Python writes the IPv4 tail in hex, and compresses the first
	 * longest run of two or more zero groups */
	assert_int_equal(oc_ipaddr_parse("::ffff:1.2.3.4", w), 4);
	assert_int_equal(oc_ipaddr_format(w, 4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "::ffff:102:304");
	assert_int_equal(oc_ipaddr_parse("1:0:0:2:0:0:0:3", w), 4);
	assert_int_equal(oc_ipaddr_format(w, 4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1:0:0:2::3");
	assert_int_equal(oc_ipaddr_parse("1:0:2:0:3:0:4:0", w), 4);
	assert_int_equal(oc_ipaddr_format(w, 4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1:0:2:0:3:0:4:0");
	assert_int_equal(oc_ipaddr_parse("::", w), 4);
	assert_int_equal(oc_ipaddr_format(w, 4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "::");
	assert_int_equal(oc_ipaddr_parse("fe80::", w), 4);
	assert_int_equal(oc_ipaddr_format(w, 4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "fe80::");

	assert_int_equal(oc_ipaddr_parse("10.0.0.256", w), -EINVAL);
	assert_int_equal(oc_ipaddr_parse("1.2.3", w), -EINVAL);
}

static void test_parse_int(void **state)
{
	static const struct {
		const char *s;
		int base, r;
		bool neg;
		uint64_t v;
	} cases[] = {
		{ "0", 0, 0, false, 0 },
		{ "0x1f", 0, 0, false, 31 },
		{ "0X1F", 0, 0, false, 31 },
		{ "0o17", 0, 0, false, 15 },
		{ "0b101", 0, 0, false, 5 },
		{ "1_000", 0, 0, false, 1000 },
		{ "0x_ff", 0, 0, false, 255 },
		{ " -7 ", 0, 0, true, 7 },
		{ "0x-5", 0, 0, true, 5 }, /* crit's "0x%x" % -5 */
		{ "-0x5", 0, 0, true, 5 },
		{ "18446744073709551615", 0, 0, false, UINT64_MAX },
		{ "0xffffffffffffffff", 0, 0, false, UINT64_MAX },
		{ "18446744073709551616", 0, -ERANGE },
		{ "010", 0, -EINVAL },
		{ "010", 10, 0, false, 10 },
		{ "0x10", 10, -EINVAL },
		{ "1__0", 0, -EINVAL },
		{ "_1", 0, -EINVAL },
		{ "1_", 0, -EINVAL },
		{ "", 0, -EINVAL },
		{ "0x", 0, -EINVAL },
		{ "1 2", 0, -EINVAL },
		{ "0b2", 0, -EINVAL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool neg = false;
		uint64_t v = 0;
		int r = oc_parse_int(cases[i].s, strlen(cases[i].s), cases[i].base, &neg, &v);
		if (r != cases[i].r)
			fail_msg("\"%s\" base %d: %d, expected %d", cases[i].s, cases[i].base, r, cases[i].r);
		if (r == 0 && (neg != cases[i].neg || v != cases[i].v))
			fail_msg("\"%s\": %s%llu", cases[i].s, neg ? "-" : "", (unsigned long long)v);
	}
}

static void test_human_size(void **state)
{
	static const struct {
		uint64_t n;
		const char *s;
	} cases[] = {
		{ 0, "0B" },
		{ 9, "9B" },
		{ 1023, "1023B" },
		{ 1024, "1KB" },
		{ 1536, "1.5KB" },
		{ 65536, "64KB" },
		{ 1000000, "976.6KB" },
		{ 4259840, "4.1MB" },
		{ UINT64_MAX, "16EB" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		oc_human_size(cases[i].n, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].s);
	}
}

/* ---- writer layout --------------------------------------------------------- */

static char *write_sample(unsigned flags)
{
	struct oc_json_writer *w;
	char *s;

	assert_int_equal(oc_json_writer_new(flags, &w), 0);
	assert_int_equal(oc_json_map_open(w), 0);
	assert_int_equal(oc_json_key(w, "a"), 0);
	assert_int_equal(oc_json_uint(w, 1), 0);
	assert_int_equal(oc_json_key(w, "b"), 0);
	assert_int_equal(oc_json_array_open(w), 0);
	assert_int_equal(oc_json_int(w, -2), 0);
	assert_int_equal(oc_json_bool(w, true), 0);
	assert_int_equal(oc_json_array_close(w), 0);
	assert_int_equal(oc_json_key(w, "e"), 0);
	assert_int_equal(oc_json_array_open(w), 0);
	assert_int_equal(oc_json_array_close(w), 0);
	assert_int_equal(oc_json_key(w, "o"), 0);
	assert_int_equal(oc_json_map_open(w), 0);
	assert_int_equal(oc_json_map_close(w), 0);
	assert_int_equal(oc_json_key(w, "s"), 0);
	assert_int_equal(oc_json_cstring(w, "x"), 0);
	assert_int_equal(oc_json_map_close(w), 0);
	s = strdup(oc_json_writer_text(w, NULL));
	oc_json_writer_free(w);
	return s;
}

static void test_layout(void **state)
{
	char *s = write_sample(0);

	/* json.dumps(d) and json.dumps(d, indent=4) */
	assert_string_equal(s, "{\"a\": 1, \"b\": [-2, true], \"e\": [], \"o\": {}, \"s\": \"x\"}");
	free(s);
	s = write_sample(OC_JSON_PRETTY);
	assert_string_equal(s, "{\n"
			       "    \"a\": 1,\n"
			       "    \"b\": [\n"
			       "        -2,\n"
			       "        true\n"
			       "    ],\n"
			       "    \"e\": [],\n"
			       "    \"o\": {},\n"
			       "    \"s\": \"x\"\n"
			       "}");
	free(s);
}

static void test_escaping(void **state)
{
	/* ensure_ascii: controls, DEL and non-ASCII escaped in lowercase hex,
	 * astral characters as surrogate pairs, bytes that are no UTF-8 as
	 * \udcXX (surrogateescape) */
	static const char in[] = "q\"b\\s/\n\t\x01\x1f\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff\xe2\x82z";
	static const char out[] = "\"q\\\"b\\\\s/\\n\\t\\u0001\\u001f\\u007f\\u00e9\\u20ac\\ud83d\\ude00"
				  "\\udcff\\udce2\\udc82z\"";
	struct oc_json_writer *w;

	assert_int_equal(oc_json_writer_new(0, &w), 0);
	assert_int_equal(oc_json_string(w, in, sizeof(in) - 1), 0);
	assert_string_equal(oc_json_writer_text(w, NULL), out);
	oc_json_writer_free(w);

	/* and the protobuf string comes back byte for byte */
	char json[512];
	snprintf(json, sizeof(json), "{\"id\": 1, \"flags\": 0, \"pos\": 0, %s, \"name\": %s}", fown, out);
	ProtobufCMessage *m = msg_from("reg_file_entry", json);
	const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "name");
	const char *name = *(const char **)((const uint8_t *)m + fd->offset);
	assert_string_equal(name, in);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- parser ---------------------------------------------------------------- */

static void test_parser(void **state)
{
	struct oc_json *doc = NULL;
	char deep[2 * OC_JSON_MAX_DEPTH + 8];
	size_t n = 0;

	static const char dup[] = "{\"a\": 1, \"a\": [18446744073709551615]}";

	assert_int_equal(oc_json_parse(dup, strlen(dup), "t", &doc), 0);
	const struct oc_json *a = oc_json_get(doc, "a"); /* the last one, as Python keeps */
	assert_non_null(a);
	assert_int_equal(a->type, OC_JSON_ARRAY);
	assert_string_equal(a->array.items[0]->number, "18446744073709551615");
	oc_json_free(doc);

	static const char bad[] = "{\n  \"a\": 1,\n  \"b\": ]\n}";

	assert_int_equal(oc_json_parse(bad, strlen(bad), "x.json", &doc), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "x.json: line 3"));
	assert_int_equal(oc_json_parse("", 0, "x.json", &doc), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "x.json"));

	for (unsigned i = 0; i <= OC_JSON_MAX_DEPTH; i++)
		deep[n++] = '[';
	for (unsigned i = 0; i <= OC_JSON_MAX_DEPTH; i++)
		deep[n++] = ']';
	assert_int_equal(oc_json_parse(deep, n, "deep.json", &doc), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "nested deeper"));
}

/* ---- pretty rules ------------------------------------------------------------ */

static const char vma_fmt[] = "{\"start\": %s, \"end\": 8192, \"pgoff\": 0, \"shmid\": 0, \"prot\": %s, "
			      "\"flags\": %s, \"status\": %s, \"fd\": %s}";

static void test_flags(void **state)
{
	char json[512];

	snprintf(json, sizeof(json), vma_fmt, "4096", "23", "34", "2147483713", "-1");
	check_text("vma_entry", json, OC_JSON_PRETTY,
		   "{\n    \"start\": \"0x1000\",\n    \"end\": \"0x2000\",\n    \"pgoff\": 0,\n    \"shmid\": 0,\n"
		   "    \"prot\": \"PROT_READ | PROT_WRITE | PROT_EXEC | 0x10\",\n"
		   "    \"flags\": \"MAP_PRIVATE | MAP_ANON\",\n"
		   "    \"status\": \"VMA_AREA_REGULAR | VMA_FILE_PRIVATE | VMA_UNSUPP\",\n    \"fd\": -1\n}");
	check_text("vma_entry", json, 0,
		   "{\"start\": 4096, \"end\": 8192, \"pgoff\": 0, \"shmid\": 0, \"prot\": 23, \"flags\": 34, "
		   "\"status\": 2147483713, \"fd\": -1}");

	/* no bit set: an empty string, which reads back as 0 */
	snprintf(json, sizeof(json), vma_fmt, "0", "0", "0", "0", "0");
	check_text("vma_entry", json, OC_JSON_PRETTY,
		   "{\n    \"start\": \"0x0\",\n    \"end\": \"0x2000\",\n    \"pgoff\": 0,\n    \"shmid\": 0,\n"
		   "    \"prot\": \"\",\n    \"flags\": \"\",\n    \"status\": \"\",\n    \"fd\": 0\n}");

	/* pretty forms are read back, numbers and names mixed */
	snprintf(json, sizeof(json), vma_fmt, "\"0x1000\"", "\"PROT_READ | 0x10 | 2\"", "\"MAP_SHARED|MAP_ANON\"",
		 "\"\"", "\"-0x1\"");
	check_text("vma_entry", json, 0,
		   "{\"start\": 4096, \"end\": 8192, \"pgoff\": 0, \"shmid\": 0, \"prot\": 19, \"flags\": 33, "
		   "\"status\": 0, \"fd\": -1}");

	snprintf(json, sizeof(json), vma_fmt, "0", "\"PROT_BOGUS\"", "0", "0", "0");
	check_error("vma_entry", json, "entries[0].prot: unknown flag \"PROT_BOGUS\" (table mmap.prot)");
}

static void test_hex_propagation(void **state)
{
	/* thread_info_x86.gpregs is marked hex: every integer inside it is
	 * shown in hex; fpregs is not */
	ProtobufCMessage *m;
	char *t;
	char json[4096];
	size_t n = 0;

	n += snprintf(json + n, sizeof(json) - n, "{\"clear_tid_addr\": 0, \"gpregs\": {");
	const ProtobufCMessageDescriptor *regs = pb("user_x86_regs_entry");
	for (unsigned i = 0; i < regs->n_fields; i++)
		if (regs->fields[i].label == PROTOBUF_C_LABEL_REQUIRED)
			n += snprintf(json + n, sizeof(json) - n, "%s\"%s\": %u", i ? ", " : "", regs->fields[i].name,
				      255 + i);
	n += snprintf(json + n, sizeof(json) - n, "}, \"fpregs\": {");
	const ProtobufCMessageDescriptor *fp = pb("user_x86_fpregs_entry");
	bool first = true;
	for (unsigned i = 0; i < fp->n_fields; i++) {
		if (fp->fields[i].label != PROTOBUF_C_LABEL_REQUIRED)
			continue;
		n += snprintf(json + n, sizeof(json) - n, "%s\"%s\": %s", first ? "" : ", ", fp->fields[i].name,
			      fp->fields[i].label == PROTOBUF_C_LABEL_REPEATED ? "[]" : "255");
		first = false;
	}
	snprintf(json + n, sizeof(json) - n, "}}");

	m = msg_from("thread_info_x86", json);
	t = text_of(m, OC_JSON_PRETTY);
	assert_non_null(strstr(t, "\"clear_tid_addr\": \"0x0\""));
	assert_non_null(strstr(t, "\"r15\": \"0xff\""));
	assert_non_null(strstr(t, "\"gs\": \"0x119\""));
	assert_non_null(strstr(t, "\"cwd\": 255"));
	assert_null(strstr(t, "\"cwd\": \"0xff\""));
	free(t);
	t = text_of(m, 0);
	assert_non_null(strstr(t, "\"r15\": 255"));
	free(t);
	protobuf_c_message_free_unpacked(m, NULL);
}

static void test_dev(void **state)
{
	char json[512];
	unsigned odev = makedev(136, 5);

	/* dev: kernel encoding (20-bit minor); rdev: glibc makedev() */
	snprintf(json, sizeof(json), "{\"uid\": 0, \"gid\": 0, \"mode\": 8592, \"dev\": %u, \"rdev\": %u}",
		 (8u << 20) | 1, odev);
	check_text("ghost_file_entry", json, OC_JSON_PRETTY,
		   "{\n    \"uid\": 0,\n    \"gid\": 0,\n    \"mode\": 8592,\n    \"dev\": \"8:1\",\n"
		   "    \"rdev\": \"136:5\"\n}");
	check_text("ghost_file_entry",
		   "{\"uid\": 0, \"gid\": 0, \"mode\": 8592, \"dev\": \"8:1\", \"rdev\": \"136:5\"}", 0,
		   "{\"uid\": 0, \"gid\": 0, \"mode\": 8592, \"dev\": 8388609, \"rdev\": 34821}");
	check_error("ghost_file_entry", "{\"uid\": 0, \"gid\": 0, \"mode\": 0, \"dev\": \"8:1:2\"}",
		    "entries[0].dev: \"8:1:2\" is not a \"major:minor\"");
}

static char *inet_json(const char *family, const char *src, const char *dst)
{
	char *s;

	assert_true(asprintf(&s,
			     "{\"id\": 1, \"ino\": 2, \"family\": %s, \"type\": 1, \"proto\": 6, \"state\": 10, "
			     "\"src_port\": 80, \"dst_port\": 0, \"flags\": 2048, \"backlog\": 5, "
			     "\"src_addr\": %s, \"dst_addr\": %s, %s, \"opts\": {\"so_sndbuf\": 1, "
			     "\"so_rcvbuf\": 2, \"so_snd_tmo_sec\": 0, \"so_snd_tmo_usec\": 0, "
			     "\"so_rcv_tmo_sec\": 0, \"so_rcv_tmo_usec\": 0}}",
			     family, src, dst, fown) > 0);
	return s;
}

static void test_ipadd_dict(void **state)
{
	ProtobufCMessage *m;
	char *j, *t;
	char v4[32];

	snprintf(v4, sizeof(v4), "[%u]", htonl(0x0a000001));
	j = inet_json("2", v4, "[0, 0, 0, 16777216]");
	m = msg_from("inet_sk_entry", j);
	t = text_of(m, OC_JSON_PRETTY);
	assert_non_null(strstr(t, "\"family\": \"INET\""));
	assert_non_null(strstr(t, "\"type\": \"STREAM\""));
	assert_non_null(strstr(t, "\"proto\": \"TCP\""));
	assert_non_null(strstr(t, "\"state\": \"LISTEN\""));
	assert_non_null(strstr(t, "\"src_addr\": [\n        \"10.0.0.1\"\n    ]"));
	assert_non_null(strstr(t, "\"dst_addr\": [\n        \"::1\"\n    ]"));
	assert_non_null(strstr(t, "\"flags\": \"0x800\""));

	/* the pretty text encodes back to the same bytes */
	size_t l1, l2;
	uint8_t *b1 = pack(m, &l1);
	ProtobufCMessage *m2 = msg_from("inet_sk_entry", t);
	uint8_t *b2 = pack(m2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	free(b1);
	free(b2);
	free(t);
	protobuf_c_message_free_unpacked(m2, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
	free(j);

	/* a value without a name stays a number; an address of neither 1 nor
	 * 4 words stays a list */
	j = inet_json("99", "[1, 2]", "[]");
	m = msg_from("inet_sk_entry", j);
	t = text_of(m, OC_JSON_PRETTY);
	assert_non_null(strstr(t, "\"family\": 99"));
	assert_non_null(strstr(t, "\"src_addr\": [\n        1,\n        2\n    ]"));
	assert_null(strstr(t, "dst_addr"));
	free(t);
	protobuf_c_message_free_unpacked(m, NULL);
	free(j);

	j = inet_json("\"INET6\"", "[\"fe80::1\"]", "[\"10.1.2.3\"]");
	m = msg_from("inet_sk_entry", j);
	t = text_of(m, 0);
	assert_non_null(strstr(t, "\"family\": 10"));
	assert_non_null(strstr(t, "\"src_addr\": [33022, 0, 0, 16777216]"));
	free(t);
	protobuf_c_message_free_unpacked(m, NULL);
	free(j);

	j = inet_json("2", "[\"10.0.0.300\"]", "[]");
	check_error("inet_sk_entry", j, "entries[0].src_addr: \"10.0.0.300\" is not an IP address");
	free(j);

	check_text("task_core_entry",
		   "{\"task_state\": \"Alive\", \"exit_code\": 0, \"personality\": 0, \"flags\": 0, "
		   "\"blk_sigset\": \"0x10\", \"comm\": \"x\"}",
		   OC_JSON_PRETTY,
		   "{\n    \"task_state\": \"Alive\",\n    \"exit_code\": 0,\n    \"personality\": 0,\n"
		   "    \"flags\": 0,\n    \"blk_sigset\": \"0x10\",\n    \"comm\": \"x\"\n}");
	check_text("task_core_entry",
		   "{\"task_state\": 2, \"exit_code\": 0, \"personality\": 0, \"flags\": 0, \"blk_sigset\": 0, "
		   "\"comm\": \"x\"}",
		   OC_JSON_PRETTY,
		   "{\n    \"task_state\": 2,\n    \"exit_code\": 0,\n    \"personality\": 0,\n    \"flags\": 0,\n"
		   "    \"blk_sigset\": \"0x0\",\n    \"comm\": \"x\"\n}");
}

static void test_quopri_field(void **state)
{
	char json[1024];

	/* unix_sk_entry.name uses crit's unix_name conversion, not base64 */
	snprintf(json, sizeof(json),
		 "{\"id\": 1, \"ino\": 2, \"type\": 1, \"state\": 10, \"flags\": 0, \"uflags\": 0, \"backlog\": 0, "
		 "\"peer\": 0, %s, \"opts\": {\"so_sndbuf\": 1, \"so_rcvbuf\": 2, \"so_snd_tmo_sec\": 0, "
		 "\"so_snd_tmo_usec\": 0, \"so_rcv_tmo_sec\": 0, \"so_rcv_tmo_usec\": 0}, "
		 "\"name\": \"=00abc=3D\"}",
		 fown);
	ProtobufCMessage *m = msg_from("unix_sk_entry", json);
	const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "name");
	const ProtobufCBinaryData *b = (const void *)((const uint8_t *)m + fd->offset);
	assert_int_equal(b->len, 5);
	assert_memory_equal(b->data, "\0abc=", 5);
	char *t = text_of(m, 0);
	assert_non_null(strstr(t, "\"name\": \"=00abc=3D\""));
	free(t);
	protobuf_c_message_free_unpacked(m, NULL);
}

static void test_64bit(void **state)
{
	/* exact at both ends: no double conversion anywhere */
	check_text("pagemap_entry",
		   "{\"vaddr\": 18446744073709551615, \"compat_nr_pages\": 4294967295, \"nr_pages\": "
		   "\"0xfffffffffffffffe\"}",
		   0,
		   "{\"vaddr\": 18446744073709551615, \"compat_nr_pages\": 4294967295, \"nr_pages\": "
		   "18446744073709551614}");
	check_text("pagemap_entry", "{\"vaddr\": 18446744073709551615, \"compat_nr_pages\": 0, \"flags\": 4}",
		   OC_JSON_PRETTY,
		   "{\n    \"vaddr\": \"0xffffffffffffffff\",\n    \"compat_nr_pages\": 0,\n"
		   "    \"flags\": \"PE_PRESENT\"\n}");
	char json[512];
	snprintf(json, sizeof(json), vma_fmt, "0", "0", "0", "0", "-9223372036854775808");
	check_text("vma_entry", json, 0,
		   "{\"start\": 0, \"end\": 8192, \"pgoff\": 0, \"shmid\": 0, \"prot\": 0, \"flags\": 0, "
		   "\"status\": 0, \"fd\": -9223372036854775808}");

	check_error("pagemap_entry", "{\"vaddr\": 18446744073709551616, \"compat_nr_pages\": 0}",
		    "entries[0].vaddr: 18446744073709551616 is out of range");
	check_error("pagemap_entry", "{\"vaddr\": 0, \"compat_nr_pages\": 4294967296}",
		    "entries[0].compat_nr_pages: 4294967296 does not fit in an unsigned field");
	check_error("pagemap_entry", "{\"vaddr\": -1, \"compat_nr_pages\": 0}",
		    "entries[0].vaddr: -1 does not fit in an unsigned field");
	check_error("pagemap_entry", "{\"vaddr\": 1.5, \"compat_nr_pages\": 0}", "1.5 is not an integer");
	check_text("pagemap_entry", "{\"vaddr\": 1e3, \"compat_nr_pages\": 0}", 0,
		   "{\"vaddr\": 1000, \"compat_nr_pages\": 0}");
}

static void test_encode_errors(void **state)
{
	check_error("pagemap_head", "{}", "entries[0]: pagemap_head: missing required field 'pages_id'");
	check_error("pagemap_head", "{\"pages_id\": 1, \"bogus\": 2}",
		    "entries[0]: \"bogus\": pagemap_head has no such field");
	check_error("pagemap_head", "{\"pages_id\": null}", "entries[0].pages_id: null is not a value");
	check_error("pagemap_head", "{\"pages_id\": \"x\"}", "entries[0].pages_id: \"x\" is not an integer");
	check_error("pagemap_head", "{\"pages_id\": true}", "expected an integer, found a boolean");
	check_error("pagemap_head", "[]", "expected an object (pagemap_head), found a list");
	check_error("pagemap_entry", "{\"vaddr\": 0, \"compat_nr_pages\": 0, \"in_parent\": 1}",
		    "entries[0].in_parent: expected true or false, found a number");
	check_error("fdinfo_entry", "{\"id\": 1, \"flags\": 0, \"type\": \"NOPE\", \"fd\": 0}",
		    "entries[0].type: \"NOPE\" is no value of enum fd_types");
	check_error("pstree_entry", "{\"pid\": 1, \"ppid\": 0, \"pgid\": 1, \"sid\": 1, \"threads\": 1}",
		    "entries[0].threads: expected a list, found a number");
	check_error("pstree_entry", "{\"pid\": 1, \"ppid\": 0, \"pgid\": 1, \"sid\": 1, \"threads\": [1, \"z\"]}",
		    "entries[0].threads[1]: \"z\" is not an integer");
	check_error("tty_data_entry", "{\"tty_id\": 1, \"data\": \"!!\"}", "entries[0].data: not valid base64");
	check_error("inventory_entry", "{\"img_version\": 2, \"root_ids\": {\"vm_id\": 1}}",
		    "entries[0].root_ids: task_kobj_ids_entry: missing required field 'files_id'");
	check_error("reg_file_entry", "{\"id\": 1, \"flags\": 0, \"pos\": 0, \"name\": 5}", "missing required field");
	check_error("pagemap_head", "{\"pages_id\": \"1\\u0000\"}", "string holds a NUL character");
}

static void test_enum_numbers(void **state)
{
	/* a value with no name is written as its number and read back */
	check_text("fdinfo_entry", "{\"id\": 1, \"flags\": 0, \"type\": 77, \"fd\": 3}", 0,
		   "{\"id\": 1, \"flags\": 0, \"type\": 77, \"fd\": 3}");
	check_text("fdinfo_entry", "{\"id\": 1, \"flags\": 0, \"type\": \"PIPE\", \"fd\": 3}", 0,
		   "{\"id\": 1, \"flags\": 0, \"type\": \"PIPE\", \"fd\": 3}");
	/* an empty optional message is present: {} */
	check_text("inventory_entry", "{\"img_version\": 2, \"plugins_entry\": {}}", 0,
		   "{\"img_version\": 2, \"plugins_entry\": {}}");
	/* an empty list is no value */
	check_text("pstree_entry", "{\"pid\": 1, \"ppid\": 0, \"pgid\": 1, \"sid\": 1, \"threads\": []}", 0,
		   "{\"pid\": 1, \"ppid\": 0, \"pgid\": 1, \"sid\": 1}");
}

/* ---- every message type round-trips ------------------------------------------ */

/* Fill @fd with a value for variant @v: extremes of each type. */
static void gen_scalar(struct oc_json_writer *w, const ProtobufCFieldDescriptor *fd, unsigned v)
{
	static const uint8_t blob[] = "\0\x01\xff=\n .binary data that is long enough to wrap a base64 line "
				      "of seventy-six characters";
	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		assert_int_equal(oc_json_int(w, v == 0 ? INT32_MIN : v == 1 ? -1 : INT32_MAX), 0);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		assert_int_equal(oc_json_uint(w, v == 0 ? UINT32_MAX : v == 1 ? 0x80000023u : 4), 0);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		assert_int_equal(oc_json_int(w, v == 0 ? INT64_MIN : v == 1 ? -2 : INT64_MAX), 0);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		assert_int_equal(oc_json_uint(w, v == 0 ? UINT64_MAX : v == 1 ? 1ull << 63 : 0), 0);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		assert_int_equal(oc_json_bool(w, v != 1), 0);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = fd->descriptor;
		assert_int_equal(oc_json_cstring(w, ed->values[v % ed->n_values].name), 0);
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		assert_int_equal(oc_json_cstring(w, v == 0 ? "" : v == 1 ? "caf\xc3\xa9 \"\\\n\xff" : "/tmp/x"), 0);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		char *s = oc_base64_encode(blob, v == 0 ? 0 : v == 1 ? sizeof(blob) - 1 : 3, NULL);
		assert_int_equal(oc_json_cstring(w, s), 0);
		free(s);
		break;
	}
	default:
		fail_msg("unexpected type %d in %s", fd->type, fd->name);
	}
}

static void gen_message(struct oc_json_writer *w, const ProtobufCMessageDescriptor *d, unsigned v, unsigned depth)
{
	assert_int_equal(oc_json_map_open(w), 0);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		bool is_msg = fd->type == PROTOBUF_C_TYPE_MESSAGE;

		/* variant 2 leaves optional and repeated fields out; deep
		 * recursive schemas stop at depth 3 */
		if (fd->label != PROTOBUF_C_LABEL_REQUIRED && (v == 2 || (is_msg && depth >= 3)))
			continue;
		assert_int_equal(oc_json_key(w, fd->name), 0);
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			assert_int_equal(oc_json_array_open(w), 0);
			for (unsigned k = 0; k < (fd->type == PROTOBUF_C_TYPE_UINT32 ? 4u : 2u); k++) {
				if (is_msg)
					gen_message(w, fd->descriptor, v, depth + 1);
				else
					gen_scalar(w, fd, (v + k) % 3);
			}
			assert_int_equal(oc_json_array_close(w), 0);
		} else if (is_msg) {
			gen_message(w, fd->descriptor, v, depth + 1);
		} else {
			gen_scalar(w, fd, v);
		}
	}
	assert_int_equal(oc_json_map_close(w), 0);
}

static ProtobufCMessage *parse_msg(const ProtobufCMessageDescriptor *d, const char *text)
{
	struct oc_json *doc;
	ProtobufCMessage *m;

	if (oc_json_parse(text, strlen(text), d->name, &doc) < 0)
		fail_msg("%s", oc_error_message());
	if (oc_json_to_message(doc, d, NULL, d->name, &m) < 0)
		fail_msg("%s: %s", oc_error_message(), text);
	oc_json_free(doc);
	return m;
}

static void test_all_messages_round_trip(void **state)
{
	unsigned checked = 0;

	for (size_t i = 0; i < oc_pb_registry_len; i++) {
		const ProtobufCMessageDescriptor *d = oc_pb_registry[i];

		for (unsigned v = 0; v < 3; v++) {
			struct oc_json_writer *w;
			ProtobufCMessage *m;
			uint8_t *bytes;
			size_t len;

			assert_int_equal(oc_json_writer_new(0, &w), 0);
			gen_message(w, d, v, 0);
			m = parse_msg(d, oc_json_writer_text(w, NULL));
			oc_json_writer_free(w);
			bytes = pack(m, &len);

			for (unsigned flags = 0; flags <= OC_JSON_PRETTY; flags += OC_JSON_PRETTY) {
				char *t1 = text_of(m, flags), *t2;
				ProtobufCMessage *m2 = parse_msg(d, t1);
				size_t len2;
				uint8_t *bytes2 = pack(m2, &len2);

				if (len2 != len || memcmp(bytes, bytes2, len))
					fail_msg("%s variant %u %s: bytes differ after %s", d->name, v,
						 flags ? "pretty" : "plain", t1);
				t2 = text_of(m2, flags);
				assert_string_equal(t1, t2);
				free(t1);
				free(t2);
				free(bytes2);
				protobuf_c_message_free_unpacked(m2, NULL);
			}
			free(bytes);
			protobuf_c_message_free_unpacked(m, NULL);
			checked++;
		}
	}
	assert_true(checked >= 3 * 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_layout),
		cmocka_unit_test(test_quopri),
		cmocka_unit_test(test_ipaddr),
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_human_size),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_parser),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_hex_propagation),
		cmocka_unit_test(test_dev),
		cmocka_unit_test(test_ipadd_dict),
		cmocka_unit_test(test_quopri_field),
		cmocka_unit_test(test_64bit),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_enum_numbers),
		cmocka_unit_test(test_all_messages_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
