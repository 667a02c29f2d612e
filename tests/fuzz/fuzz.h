/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the fuzz targets share: a private scratch directory (in memory
 * where /dev/shm is), a silent log, and each input in a memfd that ocicr
 * reads by a path (/proc/self/fd/N): it reads files, not buffers, and
 * creating, writing and removing a file per input cost more than the
 * parsing. */
#ifndef OCICR_FUZZ_H
#define OCICR_FUZZ_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocicr.h"

static void fuzz_quiet(enum oc_log_level level, const char *line, void *userdata)
{
}

/* Make the scratch directory @dir (under $TMPDIR, or /dev/shm, or /tmp)
 * and silence the log. */
static inline void fuzz_setup(char *dir, size_t size)
{
	const char *tmp = getenv("TMPDIR");

	if (!tmp || strlen(tmp) >= 32)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, size, "%s/ocicr-fuzz.XXXXXX", tmp);
	if (!mkdtemp(dir))
		abort();
	oc_set_log(fuzz_quiet, NULL, OC_LOG_DEBUG);
}

/* The memfd each input goes to; its path is written to @path. */
static inline int fuzz_input_open(char *path, size_t size)
{
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	snprintf(path, size, "/proc/self/fd/%d", fd);
	return fd;
}

/* Make the input file @fd hold exactly @data. */
static inline void fuzz_set_input(int fd, const uint8_t *data, size_t size)
{
	if (ftruncate(fd, size) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
}

/* The input's fd must outlive every step: a step that closed it (a
 * double close elsewhere) is named, not blamed on the next. */
static inline void fuzz_check_input(int fd, const char *target, const char *step)
{
	if (fcntl(fd, F_GETFD) < 0) {
		fprintf(stderr, "%s: the input's fd %d was closed during %s\n", target, fd, step);
		abort();
	}
}

/* And its path must lead to it: a /proc mounted over ours (by a test in a
 * pid namespace of its own, seen once) fails every input quietly. */
static inline void fuzz_check_input_path(const char *path, const char *target)
{
	if (access(path, R_OK) < 0) {
		fprintf(stderr, "%s: %s cannot be reached though the fd is open: is /proc this process's?\n", target,
			path);
		abort();
	}
}

#endif
