// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A file open by a name that was removed while it has another: fd 10 was
 * opened as lr-old, lr-new is a hard link to it, lr-old is gone, and 4 KiB
 * were written through fd 10 since.  Dumped with --link-remap, after
 * restore fd 10 is still that very inode (lr-new's), with its bytes and
 * offset, its link still reads lr-old (deleted), lr-old is still gone and
 * no temporary name is left in the folder.  With LR_FLOCK set in the
 * environment fd 10 also holds a flock lock, which fails a dump without
 * --file-locks after the temporary name was made.
 */
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "wl.h"

int main(int argc, char **argv)
{
	char old[PATH_MAX], new[PATH_MAX], target[PATH_MAX], want[PATH_MAX + 16], buf[4096];
	struct stat before, now, named;

	wl_init(argc, argv);
	wl_path(old, sizeof(old), "lr-old");
	wl_path(new, sizeof(new), "lr-new");
	int fd = open(old, O_RDWR | O_CREAT | O_TRUNC, 0640);
	WL_SETUP(fd >= 0 && dup2(fd, 10) == 10, "open lr-old");
	close(fd);
	WL_SETUP(link(old, new) == 0 && unlink(old) == 0, "link lr-new, unlink lr-old");
	memset(buf, 'r', sizeof(buf));
	WL_SETUP(write(10, buf, sizeof(buf)) == sizeof(buf), "write");
	WL_SETUP(fstat(10, &before) == 0, "fstat");
	WL_SETUP(!getenv("LR_FLOCK") || flock(10, LOCK_SH) == 0, "flock");

	wl_ready();
	wl_wait();

	WL_CHECK(fstat(10, &now) == 0 && stat(new, &named) == 0, "stat: %s", strerror(errno));
	WL_CHECK(now.st_ino == named.st_ino && now.st_dev == named.st_dev, "fd 10 is no longer lr-new's inode");
	WL_CHECK(now.st_size == sizeof(buf) && now.st_nlink == 1, "fd 10: %lld bytes, %lu links",
		 (long long)now.st_size, (unsigned long)now.st_nlink);
	WL_CHECK(lseek(10, 0, SEEK_CUR) == sizeof(buf), "offset %lld", (long long)lseek(10, 0, SEEK_CUR));
	ssize_t n = readlink("/proc/self/fd/10", target, sizeof(target) - 1);
	WL_CHECK(n > 0, "readlink: %s", strerror(errno));
	target[n] = 0;
	snprintf(want, sizeof(want), "%s (deleted)", old);
	WL_CHECK(!strcmp(target, want), "fd 10 reads '%s', not '%s'", target, want);
	WL_CHECK(access(old, F_OK) < 0 && errno == ENOENT, "lr-old is back");
	DIR *d = opendir(wl_dir);
	WL_CHECK(d, "opendir: %s", strerror(errno));
	for (struct dirent *de; (de = readdir(d));)
		WL_CHECK(strncmp(de->d_name, "link_remap", 10), "%s is left in the folder", de->d_name);
	closedir(d);
	wl_pass();
}
