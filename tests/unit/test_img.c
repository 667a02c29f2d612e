// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Image files: framing, magics, and every way an image can be damaged,
 * each of which must fail with a message that names the file and the
 * offset or field; then whole images through oc_image_decode/encode,
 * including the payload kinds the fixtures do not have.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocicr.h"
#include "img/image.h"
#include "img/json.h"
#include "core/error.h"
#include "inventory.pb-c.h"

#define COMMON		 OC_IMG_MAGIC_COMMON
#define SERVICE		 OC_IMG_MAGIC_SERVICE
#define FS_MAGIC	 0x51403912u
#define MM_MAGIC	 0x57492820u
#define CORE_MAGIC	 0x55053847u
#define PIPES_DATA_MAGIC 0x56453709u
#define INVENTORY_MAGIC	 0x58313116u

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2, WT_FIXED32 = 5 };

static char tmpdir[PATH_MAX];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/ocicr-test-img.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	char path[PATH_MAX + 256];

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name);
		unlink(path);
	}
	closedir(d);
	return rmdir(tmpdir);
}

/* ---- building images byte by byte ----------------------------------------- */

struct bytes {
	uint8_t b[8192];
	size_t n;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->b));
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void u32(struct bytes *b, uint32_t v)
{
	put(b, &v, 4);
}

static void varint(struct bytes *b, uint64_t v)
{
	do {
		uint8_t c = v & 0x7f;
		v >>= 7;
		if (v)
			c |= 0x80;
		put(b, &c, 1);
	} while (v);
}

static void key(struct bytes *b, unsigned field, unsigned wt)
{
	varint(b, field << 3 | wt);
}

/* A length-prefixed image entry holding @msg. */
static void entry(struct bytes *img, const struct bytes *msg)
{
	u32(img, msg->n);
	put(img, msg->b, msg->n);
}

static void head(struct bytes *img, uint32_t head_magic, uint32_t magic)
{
	img->n = 0;
	if (head_magic)
		u32(img, head_magic);
	u32(img, magic);
}

/* fs_entry{cwd_id, root_id} */
static void fs_msg(struct bytes *m, uint32_t cwd, uint32_t root)
{
	m->n = 0;
	key(m, 1, WT_VARINT);
	varint(m, cwd);
	key(m, 2, WT_VARINT);
	varint(m, root);
}

static char *path_of(const char *name)
{
	static char path[PATH_MAX + 256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static char *write_img(const char *name, const struct bytes *img)
{
	char *path = path_of(name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, img->b, img->n), (ssize_t)img->n);
	close(fd);
	return path;
}

/* Decode @name; returns the result, the text in *ret_text (malloc'd). */
static int decode(const char *name, unsigned flags, char **ret_text)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	assert_non_null(f);
	oc_error_clear();
	r = oc_image_decode(path_of(name), f, flags);
	fclose(f);
	if (ret_text)
		*ret_text = text;
	else
		free(text);
	return r;
}

/* Decoding @name must fail, with all of @needles in the message. */
static void expect_decode_error(const char *name, int err, ...)
{
	va_list ap;
	const char *needle;
	int r = decode(name, 0, NULL);

	if (r >= 0)
		fail_msg("%s decoded, expected an error", name);
	if (err && r != err)
		fail_msg("%s: error %d, expected %d (%s)", name, r, err, oc_error_message());
	if (!strstr(oc_error_message(), name))
		fail_msg("\"%s\" does not name the file %s", oc_error_message(), name);
	va_start(ap, err);
	while ((needle = va_arg(ap, const char *)))
		if (!strstr(oc_error_message(), needle))
			fail_msg("\"%s\" lacks \"%s\"", oc_error_message(), needle);
	va_end(ap);
}

/* Encode JSON text into @name. */
static int encode(const char *json, const char *name)
{
	FILE *f = fmemopen((void *)json, strlen(json), "r");
	int r;

	assert_non_null(f);
	oc_error_clear();
	r = oc_image_encode(f, path_of(name));
	fclose(f);
	return r;
}

static void expect_encode_error(const char *json, const char *name, const char *needle)
{
	struct stat st;

	if (encode(json, name) >= 0)
		fail_msg("%s encoded, expected an error", json);
	if (!strstr(oc_error_message(), needle))
		fail_msg("\"%s\" lacks \"%s\"", oc_error_message(), needle);
	/* and nothing is left behind */
	assert_int_equal(stat(path_of(name), &st), -1);
}

static void read_file(const char *name, struct bytes *b)
{
	int fd = open(path_of(name), O_RDONLY);

	assert_true(fd >= 0);
	ssize_t n = read(fd, b->b, sizeof(b->b));
	assert_true(n >= 0);
	b->n = n;
	close(fd);
}

/* ---- framing -------------------------------------------------------------- */

static void test_write_read(void **state)
{
	const struct oc_img_desc *desc = &oc_img_descs[OC_IMG_FS];
	struct oc_img *img;
	ProtobufCMessage *m;
	struct bytes msg, on_disk;

	/* write through the library... */
	fs_msg(&msg, 12, 13);
	m = protobuf_c_message_unpack(desc->pb, NULL, msg.n, msg.b);
	assert_non_null(m);
	assert_int_equal(oc_img_create_file(path_of("fs-7.img"), desc, &img), 0);
	assert_int_equal(oc_img_write_entry(img, m), 0);
	/* not visible until committed */
	assert_int_equal(access(path_of("fs-7.img"), F_OK), -1);
	assert_int_equal(oc_img_commit(img), 0);
	oc_img_close(img);
	protobuf_c_message_free_unpacked(m, NULL);

	/* ...the bytes are CRIU's layout... */
	read_file("fs-7.img", &on_disk);
	assert_int_equal(on_disk.n, 16);
	uint32_t w[3];
	memcpy(w, on_disk.b, sizeof(w));
	assert_int_equal(w[0], COMMON);
	assert_int_equal(w[1], FS_MAGIC);
	assert_int_equal(w[2], 4);

	/* ...and read back */
	assert_int_equal(oc_img_open_file(path_of("fs-7.img"), &img), 0);
	assert_string_equal(oc_img_get_desc(img)->name, "FS");
	assert_int_equal(oc_img_read_entry(img, NULL, &m), 1);
	assert_int_equal(oc_pb_get_uint(m, "cwd_id"), 12);
	assert_int_equal(oc_pb_get_uint(m, "root_id"), 13);
	protobuf_c_message_free_unpacked(m, NULL);
	assert_int_equal(oc_img_read_entry(img, NULL, &m), 0);
	oc_img_close(img);

	/* an uncommitted image leaves nothing behind */
	assert_int_equal(oc_img_create_file(path_of("fs-8.img"), desc, &img), 0);
	oc_img_close(img);
	assert_int_equal(access(path_of("fs-8.img"), F_OK), -1);
}

static void test_head_magics(void **state)
{
	struct bytes img;
	char *t;

	/* inventory has no head magic, stats a service one */
	head(&img, 0, INVENTORY_MAGIC);
	struct bytes msg = {};
	key(&msg, 1, WT_VARINT);
	varint(&msg, 2);
	entry(&img, &msg);
	write_img("inventory.img", &img);
	assert_int_equal(decode("inventory.img", 0, &t), 0);
	assert_string_equal(t, "{\"magic\": \"INVENTORY\", \"entries\": [{\"img_version\": 2}]}\n");
	free(t);

	head(&img, SERVICE, 0x57093306);
	write_img("stats-dump", &img);
	assert_int_equal(decode("stats-dump", 0, &t), 0);
	assert_string_equal(t, "{\"magic\": \"STATS\", \"entries\": []}\n");
	free(t);
	/* and encode writes them back the same way */
	assert_int_equal(encode("{\"magic\": \"STATS\", \"entries\": []}", "stats-restore"), 0);
	struct bytes back;
	read_file("stats-restore", &back);
	assert_int_equal(back.n, 8);
	assert_memory_equal(back.b, img.b, 8);
	assert_int_equal(encode("{\"magic\": \"INVENTORY\", \"entries\": [{\"img_version\": 2}]}", "inv2"), 0);
	read_file("inv2", &back);
	head(&img, 0, INVENTORY_MAGIC);
	entry(&img, &msg);
	assert_int_equal(back.n, img.n);
	assert_memory_equal(back.b, img.b, img.n);
}

static void test_bad_magic(void **state)
{
	struct bytes img;

	head(&img, COMMON, 0x12345678);
	write_img("fs-1.img", &img);
	expect_decode_error("fs-1.img", -EINVAL, "bad magic 0x12345678 at offset 4", NULL);

	write_img("mystery.img", &img);
	expect_decode_error("mystery.img", -EINVAL, "unknown image magic 0x12345678 at offset 4", NULL);
}

static void test_wrong_head_magic(void **state)
{
	struct bytes img;

	head(&img, SERVICE, FS_MAGIC);
	write_img("fs-2.img", &img);
	expect_decode_error("fs-2.img", -EINVAL, "wrong head magic 0x55105940", NULL);

	head(&img, COMMON, 0x57093306);
	write_img("stats-dump", &img);
	expect_decode_error("stats-dump", -EINVAL, "wrong head magic 0x54564319", NULL);
}

static void test_wrong_image_for_name(void **state)
{
	struct bytes img;

	head(&img, COMMON, MM_MAGIC);
	write_img("core-1.img", &img);
	expect_decode_error("core-1.img", -EINVAL, "holds a MM image", "CORE", NULL);
}

static void test_empty_and_short(void **state)
{
	struct bytes img = {};

	write_img("fs-3.img", &img);
	expect_decode_error("fs-3.img", -EIO, "empty or truncated", NULL);

	u32(&img, COMMON);
	write_img("fs-4.img", &img);
	expect_decode_error("fs-4.img", -EIO, "truncated after the head magic", NULL);

	/* magics only: a valid image with no entries */
	head(&img, COMMON, FS_MAGIC);
	write_img("fs-5.img", &img);
	char *t;
	assert_int_equal(decode("fs-5.img", 0, &t), 0);
	assert_string_equal(t, "{\"magic\": \"FS\", \"entries\": []}\n");
	free(t);
	assert_int_equal(decode("fs-5.img", OC_JSON_PRETTY, &t), 0);
	assert_string_equal(t, "{\n    \"magic\": \"FS\",\n    \"entries\": []\n}\n");
	free(t);
}

static void test_truncated_header(void **state)
{
	struct bytes img;
	uint8_t two[2] = { 4, 0 };

	head(&img, COMMON, FS_MAGIC);
	put(&img, two, 2);
	write_img("fs-6.img", &img);
	expect_decode_error("fs-6.img", -EIO, "truncated entry header at offset 8", NULL);
}

static void test_truncated_entry(void **state)
{
	struct bytes img, msg;

	fs_msg(&msg, 1, 2);
	head(&img, COMMON, FS_MAGIC);
	entry(&img, &msg);
	u32(&img, 10);
	put(&img, msg.b, 3);
	write_img("fs-9.img", &img);
	expect_decode_error("fs-9.img", -EIO, "entry 1 at offset 16 claims 10 bytes but only 3 remain", NULL);
}

static void test_absurd_size(void **state)
{
	struct bytes img;

	head(&img, COMMON, FS_MAGIC);
	u32(&img, 0xfffffff0u);
	write_img("fs-10.img", &img);
	expect_decode_error("fs-10.img", -EINVAL, "entry 0 at offset 8 has absurd size 4294967280", NULL);
}

static void test_payload_past_eof(void **state)
{
	struct bytes img, msg = {};

	key(&msg, 1, WT_VARINT);
	varint(&msg, 7);
	key(&msg, 2, WT_VARINT);
	varint(&msg, 100000); /* bytes of pipe data announced */
	head(&img, COMMON, PIPES_DATA_MAGIC);
	entry(&img, &msg);
	put(&img, "abc", 3);
	write_img("pipes-data.img", &img);
	expect_decode_error("pipes-data.img", -EIO, "payload of 100000 bytes at offset", "past the end", NULL);

	/* with --nopl it is skipped, and still found short */
	assert_true(decode("pipes-data.img", OC_JSON_NOPAYLOAD, NULL) < 0);
	assert_non_null(strstr(oc_error_message(), "pipes-data.img"));
	assert_non_null(strstr(oc_error_message(), "runs past the end"));
}

/* A one-entry fs image holding @msg; decoding must fail with @needle. */
static void bad_fs_entry(const char *name, const struct bytes *msg, const char *needle)
{
	struct bytes img;

	head(&img, COMMON, FS_MAGIC);
	entry(&img, msg);
	write_img(name, &img);
	expect_decode_error(name, -EINVAL, "entry 0 at offset 8 (fs_entry)", needle, NULL);
}

static void test_malformed_protobuf(void **state)
{
	struct bytes m;

	/* field number 0 */
	fs_msg(&m, 1, 2);
	key(&m, 0, WT_VARINT);
	varint(&m, 1);
	bad_fs_entry("fs-11.img", &m, "invalid field number 0 at byte 4");

	/* a varint field sent as length-delimited */
	m.n = 0;
	key(&m, 1, WT_LEN);
	varint(&m, 1);
	varint(&m, 1);
	key(&m, 2, WT_VARINT);
	varint(&m, 2);
	bad_fs_entry("fs-12.img", &m, "field 'cwd_id' (#1) at byte 0 is length-delimited, expected varint");

	/* wire type 7 does not exist */
	fs_msg(&m, 1, 2);
	key(&m, 3, 7);
	bad_fs_entry("fs-13.img", &m, "unsupported wire type invalid(7)");

	/* required root_id missing */
	m.n = 0;
	key(&m, 1, WT_VARINT);
	varint(&m, 1);
	bad_fs_entry("fs-14.img", &m, "missing required field 'root_id' (#2)");

	/* an eleven-byte varint */
	m.n = 0;
	key(&m, 1, WT_VARINT);
	for (int i = 0; i < 10; i++)
		put(&m, "\x80", 1);
	put(&m, "\x01", 1);
	bad_fs_entry("fs-15.img", &m, "truncated or overlong varint for field 1 at byte 1");

	/* a varint cut by the end of the entry */
	fs_msg(&m, 1, 2);
	key(&m, 3, WT_VARINT);
	put(&m, "\xff", 1);
	bad_fs_entry("fs-16.img", &m, "varint for field 3 at byte 5");

	/* a length running past the entry */
	fs_msg(&m, 1, 2);
	key(&m, 9, WT_LEN);
	varint(&m, 50);
	bad_fs_entry("fs-17.img", &m, "field 9 at byte 5 claims 50 bytes but only 0 remain");

	/* a fixed32 cut short */
	fs_msg(&m, 1, 2);
	key(&m, 9, WT_FIXED32);
	put(&m, "\1\2", 2);
	bad_fs_entry("fs-18.img", &m, "truncated fixed32 field 9 at byte 5");
}

static void test_nested_truncated(void **state)
{
	struct bytes img, m = {}, tc = {};

	/* core_entry{mtype = X86_64, tc = task_core_entry{task_state = <cut>}} */
	key(&tc, 1, WT_VARINT);
	put(&tc, "\x81", 1);
	key(&m, 1, WT_VARINT);
	varint(&m, 1);
	key(&m, 3, WT_LEN);
	varint(&m, tc.n);
	put(&m, tc.b, tc.n);
	head(&img, COMMON, CORE_MAGIC);
	entry(&img, &m);
	write_img("core-5.img", &img);
	expect_decode_error("core-5.img", -EINVAL, "entry 0 at offset 8 (core_entry)", "core_entry.tc",
			    "task_core_entry: truncated or overlong varint for field 1 at byte 5", NULL);

	/* a complete nested message lacking a required field */
	tc.n = 0;
	key(&tc, 1, WT_VARINT);
	varint(&tc, 1);
	m.n = 0;
	key(&m, 1, WT_VARINT);
	varint(&m, 1);
	key(&m, 3, WT_LEN);
	varint(&m, tc.n);
	put(&m, tc.b, tc.n);
	head(&img, COMMON, CORE_MAGIC);
	entry(&img, &m);
	write_img("core-6.img", &img);
	expect_decode_error("core-6.img", -EINVAL, "core_entry.tc",
			    "task_core_entry: missing required field 'exit_code'", NULL);
}

static void test_unknown_fields(void **state)
{
	struct bytes img, m;
	char *t;

	/* fields CRIU may add later are skipped, of every wire type */
	fs_msg(&m, 1, 2);
	key(&m, 99, WT_VARINT);
	varint(&m, 123456);
	key(&m, 100, WT_LEN);
	varint(&m, 3);
	put(&m, "abc", 3);
	key(&m, 101, WT_FIXED64);
	put(&m, "12345678", 8);
	key(&m, 102, WT_FIXED32);
	put(&m, "1234", 4);
	head(&img, COMMON, FS_MAGIC);
	entry(&img, &m);
	write_img("fs-19.img", &img);
	assert_int_equal(decode("fs-19.img", 0, &t), 0);
	assert_string_equal(t, "{\"magic\": \"FS\", \"entries\": [{\"cwd_id\": 1, \"root_id\": 2}]}\n");
	free(t);
}

static void test_raw_image(void **state)
{
	struct bytes img = {};

	put(&img, "raw page data", 13);
	write_img("pages-1.img", &img);
	expect_decode_error("pages-1.img", -EINVAL, "PAGES image is raw data", NULL);
}

static void test_read_alloc_bounds(void **state)
{
	struct bytes img, msg;
	struct oc_img *h;
	ProtobufCMessage *m;
	uint8_t *buf = NULL;

	fs_msg(&msg, 1, 2);
	head(&img, COMMON, FS_MAGIC);
	entry(&img, &msg);
	put(&img, "xyz", 3);
	write_img("fs-20.img", &img);
	assert_int_equal(oc_img_open_file(path_of("fs-20.img"), &h), 0);
	assert_int_equal(oc_img_read_entry(h, NULL, &m), 1);
	protobuf_c_message_free_unpacked(m, NULL);
	/* a huge length from a damaged image allocates nothing */
	assert_int_equal(oc_img_read_alloc(h, UINT64_MAX / 2, &buf), -EIO);
	assert_non_null(strstr(oc_error_message(), "fs-20.img: truncated: payload of"));
	assert_int_equal(oc_img_read_alloc(h, 3, &buf), 0);
	assert_memory_equal(buf, "xyz", 3);
	free(buf);
	oc_img_close(h);
}

/* ---- payload images through JSON ------------------------------------------ */

/* Encode @json to @name, decode it back: the text must be @json. */
static void round_trip(const char *json, const char *name, unsigned flags)
{
	char *t;

	if (encode(json, name) < 0)
		fail_msg("%s: %s", name, oc_error_message());
	if (decode(name, flags, &t) < 0)
		fail_msg("%s: %s", name, oc_error_message());
	size_t n = strlen(json);
	assert_true(strlen(t) == n + 1 && t[n] == '\n');
	t[n] = '\0';
	assert_string_equal(t, json);
	free(t);
}

static void test_payloads(void **state)
{
	char *t;

	round_trip("{\"magic\": \"PIPES_DATA\", \"entries\": [{\"pipe_id\": 7, \"bytes\": 3, \"extra\": \"YWJj\\n\"}, "
		   "{\"pipe_id\": 8, \"bytes\": 0, \"extra\": \"\"}]}",
		   "pipes-data.img", 0);
	assert_int_equal(decode("pipes-data.img", OC_JSON_NOPAYLOAD, &t), 0);
	assert_string_equal(t, "{\"magic\": \"PIPES_DATA\", \"entries\": [{\"pipe_id\": 7, \"bytes\": 3, \"extra\": "
			       "\"... <3B>\"}, {\"pipe_id\": 8, \"bytes\": 0, \"extra\": \"... <0B>\"}]}\n");
	free(t);

	round_trip("{\"magic\": \"FIFO_DATA\", \"entries\": [{\"pipe_id\": 7, \"bytes\": 1, \"extra\": \"YQ==\\n\"}]}",
		   "fifo-data.img", 0);
	round_trip("{\"magic\": \"SK_QUEUES\", \"entries\": [{\"id_for\": 5, \"length\": 2, \"extra\": \"aGk=\\n\"}]}",
		   "sk-queues.img", 0);
	round_trip("{\"magic\": \"TCP_STREAM\", \"entries\": [{\"inq_len\": 1, \"inq_seq\": 2, \"outq_len\": 2, "
		   "\"outq_seq\": 3, \"opt_mask\": 4, \"snd_wscale\": 5, \"mss_clamp\": 6, \"extra\": "
		   "{\"inq\": \"YQ==\\n\", \"outq\": \"YmM=\\n\"}}]}",
		   "tcp-stream-1a.img", 0);
	round_trip("{\"magic\": \"BPFMAP_DATA\", \"entries\": [{\"map_id\": 1, \"keys_bytes\": 1, \"values_bytes\": 2, "
		   "\"count\": 1, \"extra\": \"AQID\\n\"}]}",
		   "bpfmap-data.img", 0);

	static const char desc[] = "\"desc\": {\"key\": 1, \"uid\": 0, \"gid\": 0, \"cuid\": 0, \"cgid\": 0, "
				   "\"mode\": 384, \"id\": 3}";
	char json[1024];

	/* shm data is padded to 4, semaphores to 8, messages to 8 each */
	snprintf(json, sizeof(json),
		 "{\"magic\": \"IPCNS_SHM\", \"entries\": [{%s, \"size\": 5, \"extra\": \"aGVsbG8=\\n\"}]}", desc);
	round_trip(json, "ipcns-shm-9.img", 0);
	struct bytes b;
	uint32_t msg_len;
	read_file("ipcns-shm-9.img", &b);
	memcpy(&msg_len, b.b + 8, 4);
	assert_int_equal(b.n, 12 + msg_len + 8);
	assert_memory_equal(b.b + 12 + msg_len, "hello\0\0\0", 8);
	/* CRIU 4.x's segments with their contents in pagemaps carry none here:
	 * the next entry follows at once. */
	snprintf(json, sizeof(json),
		 "{\"magic\": \"IPCNS_SHM\", \"entries\": [{%s, \"size\": 12388, \"in_pagemaps\": true, "
		 "\"extra\": \"\"}, {%s, \"size\": 5, \"extra\": \"aGVsbG8=\\n\"}]}",
		 desc, desc);
	round_trip(json, "ipcns-shm-10.img", 0);
	read_file("ipcns-shm-10.img", &b);
	/* The first entry is 3 bytes longer (its size takes a byte more,
	 * in_pagemaps 2); only the second has 8 bytes of contents. */
	assert_int_equal(b.n, 8 + 2 * (4 + msg_len) + 3 + 8);

	snprintf(json, sizeof(json),
		 "{\"magic\": \"IPCNS_SEM\", \"entries\": [{%s, \"nsems\": 3, \"extra\": [1, 65535, 0]}]}", desc);
	round_trip(json, "ipcns-sem-9.img", 0);
	assert_int_equal(decode("ipcns-sem-9.img", OC_JSON_NOPAYLOAD, &t), 0);
	assert_non_null(strstr(t, "\"extra\": \"... <6B>\""));
	free(t);

	snprintf(
		json, sizeof(json),
		"{\"magic\": \"IPCNS_MSG\", \"entries\": [{%s, \"qbytes\": 16384, \"qnum\": 2, \"extra\": "
		"[{\"mtype\": 1, \"msize\": 3}, \"YWJj\\n\", {\"mtype\": 18446744073709551615, \"msize\": 0}, \"\"]}]}",
		desc);
	round_trip(json, "ipcns-msg-9.img", 0);
	/* the messages stay plain in pretty mode, like crit's */
	assert_int_equal(decode("ipcns-msg-9.img", OC_JSON_PRETTY, &t), 0);
	assert_non_null(strstr(t, "\"mtype\": 18446744073709551615"));
	free(t);
	assert_int_equal(decode("ipcns-msg-9.img", OC_JSON_NOPAYLOAD, &t), 0);
	assert_non_null(strstr(t, "\"extra\": \"... <"));
	free(t);

	/* ghost files: the contents after the entry, or chunks */
	round_trip("{\"magic\": \"GHOST_FILE\", \"entries\": [{\"uid\": 0, \"gid\": 0, \"mode\": 33188, \"size\": 5, "
		   "\"extra\": \"aGVsbG8=\\n\"}]}",
		   "ghost-file-1f.img", 0);
	assert_int_equal(decode("ghost-file-1f.img", OC_JSON_NOPAYLOAD, &t), 0);
	assert_string_equal(t, "{\"magic\": \"GHOST_FILE\", \"entries\": [{\"uid\": 0, \"gid\": 0, \"mode\": 33188, "
			       "\"size\": 5}]}\n");
	free(t);
	round_trip("{\"magic\": \"GHOST_FILE\", \"entries\": [{\"uid\": 0, \"gid\": 0, \"mode\": 33188, \"chunks\": "
		   "true, \"size\": 8192}, {\"len\": 2, \"off\": 0, \"extra\": \"aGk=\\n\"}, {\"len\": 1, \"off\": "
		   "4096, \"extra\": \"IQ==\\n\"}]}",
		   "ghost-file-2.img", 0);

	/* a pagemap starts with its head */
	round_trip(
		"{\"magic\": \"PAGEMAP\", \"entries\": [{\"pages_id\": 3}, {\"vaddr\": 4096, \"compat_nr_pages\": 0, "
		"\"flags\": 4, \"nr_pages\": 2}]}",
		"pagemap-shmem-5.img", 0);
	round_trip("{\n    \"magic\": \"PAGEMAP\",\n    \"entries\": [\n        {\n            \"pages_id\": 3\n       "
		   " },\n"
		   "        {\n            \"vaddr\": \"0x1000\",\n            \"compat_nr_pages\": 0,\n"
		   "            \"flags\": \"PE_PRESENT\",\n            \"nr_pages\": 2\n        }\n    ]\n}",
		   "pagemap-5.img", OC_JSON_PRETTY);
}

static void test_encode_errors(void **state)
{
	expect_encode_error("{\"magic\": \"PIPES_DATA\", \"entries\": [{\"pipe_id\": 7, \"bytes\": 4, \"extra\": "
			    "\"YWJj\\n\"}]}",
			    "pipes-data.img",
			    "pipes-data.img: entries[0].extra: holds 3 bytes but the entry announces 4");
	expect_encode_error("{\"magic\": \"PIPES_DATA\", \"entries\": [{\"pipe_id\": 7, \"bytes\": 3, \"extra\": "
			    "\"... <3B>\"}]}",
			    "pipes-data.img", "left out (decoded with --nopl)");
	expect_encode_error("{\"magic\": \"PIPES_DATA\", \"entries\": [{\"pipe_id\": 7, \"bytes\": 3}]}",
			    "pipes-data.img", "entries[0].extra: missing");
	expect_encode_error("{\"magic\": \"FS\", \"entries\": [{\"cwd_id\": 1, \"root_id\": 2, \"extra\": \"\"}]}",
			    "fs-1.img", "fs-1.img: entries[0]: \"extra\": fs_entry has no such field");
	expect_encode_error("{\"magic\": \"FS\", \"entries\": [{\"cwd_id\": 1}]}", "fs-1.img",
			    "fs-1.img: entries[0]: fs_entry: missing required field 'root_id'");
	expect_encode_error("{\"magic\": \"NOPE\", \"entries\": []}", "x.img", "unknown image magic \"NOPE\"");
	expect_encode_error("{\"magic\": \"PAGES\", \"entries\": []}", "x.img", "raw data");
	expect_encode_error("{\"magic\": \"FS\", \"entries\": []}", "core-1.img",
			    "the JSON holds a FS image, but the file name is that of a CORE image");
	expect_encode_error("{\"magic\": \"FS\"}", "fs-1.img", "\"entries\" must be a list");
	expect_encode_error("{\"magic\": \"FS\", \"entries\": [], \"x\": 1}", "fs-1.img", "unexpected member \"x\"");
	expect_encode_error("{\"magic\": \"FS\", \"entries\": [}", "fs-1.img", "JSON input: line 1, column");
	expect_encode_error("\x19\x43\x56\x54 binary", "fs-1.img", "not valid JSON");
	expect_encode_error("", "fs-1.img", "empty");
	expect_encode_error("{\"magic\": \"IPCNS_SEM\", \"entries\": [{\"desc\": {\"key\": 1, \"uid\": 0, \"gid\": 0, "
			    "\"cuid\": 0, \"cgid\": 0, \"mode\": 384, \"id\": 3}, \"nsems\": 2, \"extra\": [1]}]}",
			    "ipcns-sem-1.img", "entries[0].extra: 1 semaphore values for nsems 2");
	expect_encode_error("{\"magic\": \"GHOST_FILE\", \"entries\": [{\"uid\": 0, \"gid\": 0, \"mode\": 0}, {}]}",
			    "ghost-file-3.img", "a ghost file without chunks has one entry");
}

/* A dump replaces a directory's images; one killed midway is told apart. */
static void test_imgdir_replace(void **state)
{
	const struct oc_img_desc *desc = &oc_img_descs[OC_IMG_FS];
	struct oc_imgdir *dir;
	InventoryEntry inventory = INVENTORY_ENTRY__INIT;
	ProtobufCMessage *m, *inv;
	struct bytes msg;
	int fd;

	fs_msg(&msg, 1, 2);
	m = protobuf_c_message_unpack(desc->pb, NULL, msg.n, msg.b);
	assert_non_null(m);
	/* An earlier complete set: an inventory, an image, a stale temporary, a log. */
	assert_int_equal(oc_imgdir_open(tmpdir, true, &dir), 0);
	assert_int_equal(oc_img_write_one(dir, OC_IMG_FS, 5, m), 0);
	assert_int_equal(oc_img_write_one(dir, OC_IMG_INVENTORY, 0, &inventory.base), 0);
	oc_imgdir_close(dir);
	fd = open(path_of(".fs-6.img.part"), O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	fd = open(path_of("dump.log"), O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);

	/* A new dump: its first image takes the old inventory away... */
	assert_int_equal(oc_imgdir_open(tmpdir, true, &dir), 0);
	assert_int_equal(oc_img_write_one(dir, OC_IMG_FS, 7, m), 0);
	assert_int_equal(access(path_of("inventory.img"), F_OK), -1);
	/* ...so that, killed now, the directory reads as an interrupted dump. */
	assert_int_equal(oc_img_read_inventory(dir, &inv), -ENOENT);
	assert_non_null(strstr(oc_error_message(), "holds an interrupted dump"));
	/* Finishing, it removes the images it did not write, and nothing else. */
	assert_int_equal(oc_imgdir_prune(dir), 0);
	assert_int_equal(access(path_of("fs-5.img"), F_OK), -1);
	assert_int_equal(access(path_of(".fs-6.img.part"), F_OK), -1);
	assert_int_equal(access(path_of("fs-7.img"), F_OK), 0);
	assert_int_equal(access(path_of("dump.log"), F_OK), 0);
	assert_int_equal(oc_img_write_one(dir, OC_IMG_INVENTORY, 0, &inventory.base), 0);
	assert_int_equal(access(path_of("inventory.img"), F_OK), 0);
	oc_imgdir_close(dir);
	protobuf_c_message_free_unpacked(m, NULL);

	/* No image at all: not an image directory. */
	unlink(path_of("fs-7.img"));
	unlink(path_of("inventory.img"));
	assert_int_equal(oc_imgdir_open(tmpdir, false, &dir), 0);
	assert_int_equal(oc_img_read_inventory(dir, &inv), -ENOENT);
	assert_non_null(strstr(oc_error_message(), "not a CRIU image directory"));
	oc_imgdir_close(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imgdir_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_magics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_magic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_head_magic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_image_for_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absurd_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_payload_past_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_protobuf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_alloc_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_payloads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encode_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
