// SPDX-License-Identifier: LGPL-2.1-or-later
/* Opening and creating files safely (see safefile.h). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/log.h"
#include "core/safefile.h"

static const char *file_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFDIR:
		return "a directory";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symlink";
	default:
		return "not a regular file";
	}
}

int oc_open_regular(int dirfd, const char *name, const char *shown, bool nofollow)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	_cleanup_close_ int fd =
		openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0));
	struct stat st;

	if (fd < 0 && errno == ENOENT)
		return oc_error(-ENOENT, "%s: missing", shown);
	if (fd < 0 && errno == ELOOP && nofollow)
		return oc_error(-EINVAL, "%s: is a symlink, refused", shown);
	if (fd < 0)
		return oc_error_errno(-errno, "%s: cannot open", shown);
	if (fstat(fd, &st) < 0)
		return oc_error_errno(-errno, "%s: cannot stat", shown);
	if (!S_ISREG(st.st_mode))
		return oc_error(-EINVAL, "%s: is %s, only regular files are read", shown, file_type_name(st.st_mode));
	if (fcntl(fd, F_SETFL, 0) < 0)
		return oc_error_errno(-errno, "%s: cannot make it blocking", shown);
	return TAKE_FD(fd);
}

int oc_create_private(int dirfd, const char *name, const char *shown, bool replace)
{
	int fd;

	if (replace && unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return oc_error_errno(-errno, "%s: cannot replace", shown);
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0 && errno == EEXIST)
		return oc_error(-EEXIST, "%s: exists (or appeared while it was being replaced), not overwritten",
				shown);
	if (fd < 0)
		return oc_error_errno(-errno, "%s: cannot create", shown);
	/* the umask may have taken bits away: 0600 exactly */
	if (fchmod(fd, 0600) < 0) {
		int r = oc_error_errno(-errno, "%s: cannot set its mode", shown);
		close(fd);
		return r;
	}
	return fd;
}

int oc_create_private_path(const char *path, bool replace)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	_cleanup_close_ int dirfd = -1;

	if (!*base)
		return oc_error(-EISDIR, "%s: names a directory, a file was expected", path);
	if (slash) {
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
		dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			return oc_error_errno(-errno, "%s: cannot open its directory", path);
	}
	return oc_create_private(slash ? dirfd : AT_FDCWD, base, path, replace);
}

int oc_create_private_file(const char *path, bool replace)
{
	return oc_create_private_path(path, replace);
}

void oc_warn_if_shared_dir(int dirfd, const char *path)
{
	struct stat st;

	if (fstat(dirfd, &st) < 0 || !(st.st_mode & (S_IWGRP | S_IWOTH)))
		return;
	pr_warn("%s is writable by %s: others can plant files in it; use a directory only its owner can write", path,
		st.st_mode & S_IWOTH ? "everyone" : "its group");
}
