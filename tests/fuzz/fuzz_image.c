// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target for the image reader and the JSON codec.
 *
 * Each input is put in a memfd and decoded to JSON plain, pretty and
 * with --nopl; any of these may fail, none may crash.  When the plain
 * decode succeeds, its JSON must encode, and the new image must decode to
 * the same text in both modes and re-encode to the same bytes: decoding
 * normalises (unknown fields, packed or repeated fields, overlong varints
 * go), so the invariant is decode(encode(decode(x))) == decode(x).
 *
 *	make fuzz FUZZ_SECONDS=600
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocicr.h"
#include "tests/fuzz/fuzz.h"

static char dir[64];
static char in_path[96], out_path[96], out2_path[96];
static int in_fd;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_setup(dir, sizeof(dir));
	in_fd = fuzz_input_open(in_path, sizeof(in_path));
	snprintf(out_path, sizeof(out_path), "%s/encoded", dir);
	snprintf(out2_path, sizeof(out2_path), "%s/encoded2", dir);
	return 0;
}

/* Decode @path; returns the text (malloc'd) or NULL if it did not decode. */
static char *decode(const char *path, unsigned flags, size_t *ret_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int r;

	if (!f)
		abort();
	r = oc_image_decode(path, f, flags);
	fclose(f);
	if (r < 0) {
		free(text);
		return NULL;
	}
	*ret_len = len;
	return text;
}

static int encode(const char *text, size_t len, const char *path)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int r;

	if (!f)
		abort();
	r = oc_image_encode(f, path);
	fclose(f);
	return r;
}

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0)
		abort();
	buf = malloc(n + 1);
	if (!buf || fread(buf, 1, n, f) != (size_t)n)
		abort();
	fclose(f);
	*ret_len = n;
	return buf;
}

static void must_equal(const char *what, const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen == blen && memcmp(a, b, alen) == 0)
		return;
	fprintf(stderr, "fuzz_image: %s differ\n--- first:\n%.*s\n--- second:\n%.*s\n", what,
		(int)(alen > 4000 ? 4000 : alen), a, (int)(blen > 4000 ? 4000 : blen), b);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *plain, *pretty, *nopl, *plain2, *pretty2, *img, *img2;
	size_t plain_len = 0, pretty_len = 0, nopl_len = 0, plain2_len = 0, pretty2_len = 0, img_len, img2_len;

	fuzz_set_input(in_fd, data, size);
	plain = decode(in_path, 0, &plain_len);
	fuzz_check_input(in_fd, "fuzz_image", "the plain decode");
	pretty = decode(in_path, OC_JSON_PRETTY, &pretty_len);
	fuzz_check_input(in_fd, "fuzz_image", "the pretty decode");
	nopl = decode(in_path, OC_JSON_NOPAYLOAD | OC_JSON_PRETTY, &nopl_len);
	if (!plain != !pretty) {
		fprintf(stderr, "fuzz_image: plain and pretty decoding disagree (%s): %s\n",
			plain ? "pretty failed" : "plain failed", oc_error_message());
		abort();
	}
	free(nopl);
	if (!plain) {
		fuzz_check_input_path(in_path, "fuzz_image");
		return 0;
	}

	/* what decodes must encode, from either form, to the same bytes */
	unlink(out_path);
	if (encode(plain, plain_len, out_path) < 0) {
		fprintf(stderr, "fuzz_image: cannot encode what was decoded: %s\n%s\n", oc_error_message(), plain);
		abort();
	}
	if (encode(pretty, pretty_len, out2_path) < 0) {
		fprintf(stderr, "fuzz_image: cannot encode the pretty form: %s\n%s\n", oc_error_message(), pretty);
		abort();
	}
	img = slurp(out_path, &img_len);
	img2 = slurp(out2_path, &img2_len);
	must_equal("images encoded from plain and pretty JSON", img, img_len, img2, img2_len);

	/* and decodes back to the same text */
	plain2 = decode(out_path, 0, &plain2_len);
	pretty2 = decode(out_path, OC_JSON_PRETTY, &pretty2_len);
	if (!plain2 || !pretty2) {
		fprintf(stderr, "fuzz_image: cannot decode what was encoded: %s\n", oc_error_message());
		abort();
	}
	fuzz_check_input(in_fd, "fuzz_image", "encoding and decoding again");
	must_equal("plain JSON", plain, plain_len, plain2, plain2_len);
	must_equal("pretty JSON", pretty, pretty_len, pretty2, pretty2_len);

	free(plain);
	free(pretty);
	free(plain2);
	free(pretty2);
	free(img);
	free(img2);
	return 0;
}
