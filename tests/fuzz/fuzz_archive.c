// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for what `ocicr inspect` reads from an archive: the tar
 * and compression layers (libarchive), member names and kinds, the image
 * set loader and its checks, config.dump and spec.dump, rootfs-diff.tar.
 *
 * Each input is put in a memfd and inspected with every view, as text
 * and as JSON; any of these may fail, none may crash, leak a temporary
 * directory or run past the limits set here.
 *
 *	make fuzz FUZZ_TARGET=fuzz_archive FUZZ_SECONDS=600
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocicr.h"
#include "oci/inspect/inspect.h"
#include "oci/inspect/limits.h"
#include "tests/fuzz/fuzz.h"

static char dir[64];
static char in_path[96];
static int in_fd;
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_setup(dir, sizeof(dir));
	in_fd = fuzz_input_open(in_path, sizeof(in_path));
	/* inspections extract under $TMPDIR: ours, to see that they clean up */
	setenv("TMPDIR", dir, 1);
	devnull = fopen("/dev/null", "we");
	if (!devnull)
		abort();
	/* small caps: an input is at most a few hundred kilobytes */
	oci_limits.max_extract = 64u << 20;
	oci_limits.max_json = 1u << 20;
	oci_limits.max_names = 1000;
	oci_limits.time_limit_s = 20;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum oci_format formats[] = { OCI_FORMAT_TEXT, OCI_FORMAT_JSON };

	fuzz_set_input(in_fd, data, size);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct oci_inspect_opts o = {
			.sz = sizeof(o),
			.target = in_path,
			.show = OCI_SHOW_ALL,
			.format = formats[i],
			.out = devnull,
		};
		oci_limits_start();
		oci_inspect(&o);
		fuzz_check_input(in_fd, "fuzz_archive", "inspect");
	}
	fuzz_check_input_path(in_path, "fuzz_archive");
	/* nothing may be left */
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		abort();
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			fprintf(stderr, "fuzz_archive: %s left in %s\n", e->d_name, dir);
			abort();
		}
	closedir(d);
	return 0;
}
