// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Inodes named by file handle (res/fhandle.h).  A handle is opened with
 * open_by_handle_at() on any mount of its device (CAP_DAC_READ_SEARCH);
 * the path comes from the link of the fd that gives.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "res/fd/fhandle.h"
#include "core/log.h"
#include "core/cleanup.h"
#include "core/error.h"

/* fh_entry holds at least this many words (FH_ENTRY_SIZES__min_entries). */
#define FH_WORDS 16
#define FH_BYTES (FH_WORDS * sizeof(uint64_t))

dev_t oc_kdev_to_dev(uint32_t kdev)
{
	return makedev(kdev >> 20, kdev & 0xfffff);
}

void oc_mountinfo_unescape(char *s)
{
	char *d = s;

	for (; *s; s++, d++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*d = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 3;
		} else
			*d = *s;
	}
	*d = '\0';
}

/* A struct file_handle with room for the largest handle (MAX_HANDLE_SZ). */
_Static_assert(OC_PROC_FHANDLE_MAX >= FH_BYTES, "handle buffer too small for an fh_entry");
union handle_buf {
	struct file_handle fh;
	char buf[sizeof(struct file_handle) + OC_PROC_FHANDLE_MAX];
};

/* Open (O_PATH) the inode of @handle through a mount of device @kdev. */
static int open_handle(uint32_t kdev, union handle_buf *h, int *ret_fd)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	dev_t dev = oc_kdev_to_dev(kdev);
	size_t cap = 0;
	int err = -ENOENT;

	if (!f)
		return oc_error_errno(-errno, "cannot read /proc/self/mountinfo");
	while (getline(&line, &cap, f) > 0) {
		unsigned maj, min;
		char mnt[PATH_MAX];
		if (sscanf(line, "%*d %*d %u:%u %*s %4095s", &maj, &min, mnt) != 3)
			continue;
		if (makedev(maj, min) != dev)
			continue;
		oc_mountinfo_unescape(mnt);
		/* Not O_PATH: open_by_handle_at() wants a real open file. */
		_cleanup_close_ int mfd = open(mnt, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (mfd < 0)
			continue;
		int fd = open_by_handle_at(mfd, &h->fh, O_PATH | O_CLOEXEC);
		if (fd >= 0) {
			*ret_fd = fd;
			return 0;
		}
		err = -errno;
	}
	return oc_error(err, "no mount of device %u:%u opens its file handle (%s)", major(dev), minor(dev),
			strerror(-err));
}

int oc_fhandle_path(struct oc_arena *a, uint32_t kdev, const struct oc_proc_fhandle *fh, bool unlinked_ok,
		    char **ret_path)
{
	union handle_buf h = {};
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *path = NULL;
	struct stat st, want;
	char proc[64];
	int r;

	if (!fh->present)
		return oc_error(-EOPNOTSUPP, "its filesystem gives no file handles");
	h.fh.handle_bytes = MIN(fh->bytes, (uint32_t)OC_PROC_FHANDLE_MAX);
	h.fh.handle_type = fh->type;
	memcpy(h.fh.f_handle, fh->handle, h.fh.handle_bytes);
	r = open_handle(kdev, &h, &fd);
	if (r < 0)
		return r;
	if (fstat(fd, &want) < 0)
		return oc_error_errno(-errno, "fstat");
	snprintf(proc, sizeof(proc), "fd/%d", fd);
	r = oc_proc_readlink(getpid(), proc, &path);
	if (r < 0)
		return r;
	size_t len = strlen(path), dlen = strlen(" (deleted)");
	if (unlinked_ok && S_ISREG(want.st_mode) && want.st_nlink == 0 && path[0] == '/' && len > dlen &&
	    !strcmp(path + len - dlen, " (deleted)")) {
		/* Its ghost will stand at its old name during the restore. */
		path[len - dlen] = '\0';
		pr_info("a watched file is unlinked: watched on its ghost at restore (%s)", path);
	} else if (path[0] != '/' || stat(path, &st) < 0 || st.st_ino != want.st_ino || st.st_dev != want.st_dev) {
		return oc_error(-EOPNOTSUPP, "no path reaches it (%s: deleted, or under another mount?)", path);
	}
	*ret_path = oc_arena_strdup(a, path);
	return *ret_path ? 0 : -ENOMEM;
}

FhEntry *oc_fhandle_entry(struct oc_arena *a, const struct oc_proc_fhandle *fh, char *path)
{
	FhEntry *e = OC_ARENA_MSG(a, FhEntry, FH_ENTRY__INIT);
	uint64_t *words = OC_ARENA_ARRAY(a, uint64_t, FH_WORDS);

	if (!e || !words)
		return NULL;
	e->bytes = fh->bytes;
	e->type = fh->type;
	memcpy(words, fh->handle, MIN(fh->bytes, (uint32_t)FH_BYTES));
	e->n_handle = FH_WORDS;
	e->handle = words;
	e->path = path;
	return e;
}

int oc_fhandle_open(const FhEntry *fh, uint32_t kdev, int *ret_fd)
{
	union handle_buf h = {};

	if (fh->path) {
		int fd = open(fh->path, O_PATH | O_CLOEXEC);
		if (fd < 0)
			return oc_error_errno(-errno, "cannot open %s", fh->path);
		*ret_fd = fd;
		return 0;
	}
	if (fh->bytes > FH_BYTES || fh->n_handle * sizeof(uint64_t) < fh->bytes)
		return oc_error(-EINVAL, "a file handle of %u bytes does not fit", fh->bytes);
	h.fh.handle_bytes = fh->bytes;
	h.fh.handle_type = fh->type;
	memcpy(h.fh.f_handle, fh->handle, fh->bytes);
	return open_handle(kdev, &h, ret_fd);
}
