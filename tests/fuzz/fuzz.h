/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the fuzz targets share: a private scratch directory, a silent log,
 * and writing each input to a file (ocicr reads files, not buffers). */
#ifndef OCICR_FUZZ_H
#define OCICR_FUZZ_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocicr.h"

static void fuzz_quiet(enum oc_log_level level, const char *line, void *userdata)
{
}

/* Make the scratch directory @dir (under $TMPDIR) and silence the log. */
static inline void fuzz_setup(char *dir, size_t size)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, size, "%s/ocicr-fuzz.XXXXXX", tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	oc_set_log(fuzz_quiet, NULL, OC_LOG_DEBUG);
}

static inline void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
}

#endif
