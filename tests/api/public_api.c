// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Built against engine/include alone and linked with libocicr.so (make
 * check-layout): the public header is self-contained and the shared
 * library carries what it declares.
 */
#include <ocicr.h>
#include <stdio.h>
#include <string.h>

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
	return 0;
}
