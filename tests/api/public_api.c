// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Built against engine/include alone and linked with libocicr.so (make
 * check-layout): the public headers are self-contained and the shared
 * library carries what it declares.
 */
#include <ocicr.h>
#include <ocicr/cleanup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fill(struct oc_json_writer *w, const void *arg)
{
	oc_json_map_open(w);
	oc_json_key(w, "in");
	oc_json_write_node(w, arg);
	oc_json_map_close(w);
}

/* The JSON reader and writer oci/ and bundle/ use, through the .so. */
static int json_round_trip(void)
{
	struct oc_json *doc = NULL;
	_cleanup_free_ char *text = NULL; /* the public cleanup header, as oci/ uses it */
	int ok;

	if (oc_json_parse_text("{\"a\": [1, \"x\"], \"b\": true}", "test", 8, &doc) < 0)
		return 0;
	ok = oc_json_integer(oc_json_at(oc_json_get(doc, "a"), 0), -1) == 1 &&
	     strcmp(oc_json_str(oc_json_at(oc_json_path(doc, "a", NULL), 1)), "x") == 0 &&
	     oc_json_is_true(oc_json_get(doc, "b")) && oc_json_text(0, fill, doc, &text) == 0 &&
	     strcmp(text, "{\"in\":{\"a\":[1,\"x\"],\"b\":true}}") == 0;
	oc_json_free(doc);
	return ok && oc_json_parse_text("[[[", "deep", 2, &doc) < 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 || strcmp(oc_version(), argv[1]) != 0) {
		fprintf(stderr, "oc_version() is \"%s\", expected \"%s\"\n", oc_version(), argc == 2 ? argv[1] : "");
		return 1;
	}
	/* A failure comes back as a negative errno with a message. */
	if (oc_image_show("/nonexistent/ocicr-images", stdout) >= 0 || oc_error_message()[0] == '\0') {
		fprintf(stderr, "oc_image_show on a missing directory did not fail with a message\n");
		return 1;
	}
	if (!json_round_trip()) {
		fprintf(stderr, "the JSON calls do not read and write as declared: %s\n", oc_error_message());
		return 1;
	}
	return 0;
}
