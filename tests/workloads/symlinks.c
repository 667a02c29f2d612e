// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Symbolic links held open themselves (O_PATH | O_NOFOLLOW): fd 10 on
 * sym-kept, which points to a file beside it; fd 11 on sym-gone, a
 * dangling link to an absolute path, removed after it was opened.  After
 * restore both fds are still on symbolic links with their targets; the
 * removed one is still removed (no name on disk, no link count).
 */
#include <sys/stat.h>

#include "wl.h"

static void check_link(int fd, const char *target)
{
	char buf[PATH_MAX];
	struct stat st;

	WL_CHECK(fstat(fd, &st) == 0 && S_ISLNK(st.st_mode), "fd %d is not on a symbolic link (mode %o)", fd,
		 st.st_mode);
	ssize_t n = readlinkat(fd, "", buf, sizeof(buf) - 1);
	WL_CHECK(n >= 0, "readlinkat fd %d: %s", fd, strerror(errno));
	buf[n] = '\0';
	WL_CHECK(!strcmp(buf, target), "fd %d points to '%s', not '%s'", fd, buf, target);
}

int main(int argc, char **argv)
{
	char kept[PATH_MAX], gone[PATH_MAX], file[PATH_MAX];

	wl_init(argc, argv);
	wl_path(kept, sizeof(kept), "sym-kept");
	wl_path(gone, sizeof(gone), "sym-gone");
	wl_path(file, sizeof(file), "sym-target");
	int fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	WL_SETUP(fd >= 0, "the target file");
	close(fd);
	WL_SETUP(symlink("sym-target", kept) == 0, "symlink");
	WL_SETUP(symlink("/nonexistent/ocicr-symlink-target", gone) == 0, "symlink");
	fd = open(kept, O_PATH | O_NOFOLLOW);
	WL_SETUP(fd >= 0 && dup2(fd, 10) == 10, "O_PATH fd of sym-kept");
	close(fd);
	fd = open(gone, O_PATH | O_NOFOLLOW);
	WL_SETUP(fd >= 0 && dup2(fd, 11) == 11, "O_PATH fd of sym-gone");
	close(fd);
	WL_SETUP(unlink(gone) == 0, "unlink sym-gone");

	wl_ready();
	wl_wait();

	check_link(10, "sym-target");
	check_link(11, "/nonexistent/ocicr-symlink-target");
	struct stat st;
	WL_CHECK(fstat(11, &st) == 0 && st.st_nlink == 0, "fd 11 has %lu links, not 0", (unsigned long)st.st_nlink);
	WL_CHECK(lstat(gone, &st) < 0 && errno == ENOENT, "sym-gone is on disk again");
	WL_CHECK(fcntl(10, F_GETFL) & O_PATH, "fd 10 is no longer O_PATH");
	wl_pass();
}
