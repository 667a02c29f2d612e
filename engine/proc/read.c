// SPDX-License-Identifier: LGPL-2.1-or-later
/* Reading /proc files and links whole, for the parsers. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc/proc.h"
#include "core/cleanup.h"
#include "core/error.h"

/* Enough for "/proc/" + a pid + "/" + any name a caller builds. */
#define PROC_PATH_MAX (PATH_MAX + 32)

static int proc_path(char *buf, size_t size, pid_t pid, const char *name)
{
	int n;

	if (pid < 0 || !name || !*name || name[0] == '/')
		return oc_error(-EINVAL, "proc: bad file %d/%s", (int)pid, name ? name : "(null)");

	if (pid == 0)
		n = snprintf(buf, size, "/proc/self/%s", name);
	else
		n = snprintf(buf, size, "/proc/%d/%s", (int)pid, name);
	if (n < 0 || (size_t)n >= size)
		return oc_error(-ENAMETOOLONG, "proc: name too long: %.64s...", name);
	return 0;
}

int oc_proc_read(pid_t pid, const char *name, char **ret_buf, size_t *ret_len)
{
	char path[PROC_PATH_MAX];
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t cap = 4096, len = 0;
	int r;

	r = proc_path(path, sizeof(path), pid, name);
	if (r < 0)
		return r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return oc_error_errno(-errno, "open %s", path);

	buf = malloc(cap);
	if (!buf)
		return oc_error(-ENOMEM, "read %s: out of memory", path);

	for (;;) {
		ssize_t n;

		/* Keep one byte for the NUL. */
		if (cap - len < 2) {
			char *nbuf;

			if (cap >= OC_PROC_READ_MAX)
				return oc_error(-EFBIG, "read %s: larger than %u bytes", path, OC_PROC_READ_MAX);
			nbuf = realloc(buf, cap * 2);
			if (!nbuf)
				return oc_error(-ENOMEM, "read %s: out of memory", path);
			buf = nbuf;
			cap *= 2;
		}

		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return oc_error_errno(-errno, "read %s", path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';

	*ret_buf = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

int oc_proc_readlink(pid_t pid, const char *name, char **ret)
{
	char path[PROC_PATH_MAX];
	size_t size = 256;
	int r;

	r = proc_path(path, sizeof(path), pid, name);
	if (r < 0)
		return r;

	/* PATH_MAX plus " (deleted)" and the like; never more than 64 KiB. */
	for (; size <= 65536; size *= 2) {
		_cleanup_free_ char *buf = malloc(size);
		ssize_t n;

		if (!buf)
			return oc_error(-ENOMEM, "readlink %s: out of memory", path);
		n = readlink(path, buf, size);
		if (n < 0)
			return oc_error_errno(-errno, "readlink %s", path);
		if ((size_t)n < size) {
			buf[n] = '\0';
			*ret = TAKE_PTR(buf);
			return 0;
		}
	}
	return oc_error(-ENAMETOOLONG, "readlink %s: target longer than 64 KiB", path);
}

int oc_proc_read_thread_status(pid_t pid, pid_t tid, struct oc_proc_status *ret)
{
	_cleanup_free_ char *text = NULL;
	char name[48];
	int r;

	snprintf(name, sizeof(name), "task/%d/status", tid);
	r = oc_proc_read(pid, name, &text, NULL);
	if (r < 0)
		return r;
	return oc_proc_parse_status(text, ret);
}
