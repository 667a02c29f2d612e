/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Removed directories still in use: the working directory, one held open
 * by a descriptor, and one held open inside a directory removed too, all
 * removed (rmdir) after we entered or opened them.  After restore the
 * working directory is the removed one again (/proc/self/cwd reads its
 * old name, " (deleted)"), the descriptors are directories with no link
 * and their old modes, and no name exists again.
 */
#include <sys/stat.h>

#include "wl.h"

int main(int argc, char **argv)
{
	char cwd_path[PATH_MAX], dir_path[PATH_MAX], outer_path[PATH_MAX], inner_path[PATH_MAX + 8],
		link_before[PATH_MAX + 16] = "", link_after[PATH_MAX + 16] = "";
	struct stat st;
	int fd, inner;

	wl_init(argc, argv);
	wl_path(cwd_path, sizeof(cwd_path), "cwd-gone");
	wl_path(dir_path, sizeof(dir_path), "dir-gone");
	WL_SETUP(mkdir(cwd_path, 0711) == 0 && chmod(cwd_path, 0711) == 0, "mkdir cwd-gone");
	WL_SETUP(mkdir(dir_path, 0750) == 0 && chmod(dir_path, 0750) == 0, "mkdir dir-gone");
	fd = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	WL_SETUP(fd >= 0, "open dir-gone");
	wl_path(outer_path, sizeof(outer_path), "outer-gone");
	snprintf(inner_path, sizeof(inner_path), "%s/inner", outer_path);
	WL_SETUP(mkdir(outer_path, 0755) == 0 && mkdir(inner_path, 0700) == 0, "mkdir outer-gone/inner");
	inner = open(inner_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	WL_SETUP(inner >= 0, "open outer-gone/inner");
	WL_SETUP(chdir(cwd_path) == 0, "chdir cwd-gone");
	WL_SETUP(rmdir(cwd_path) == 0 && rmdir(dir_path) == 0 && rmdir(inner_path) == 0 && rmdir(outer_path) == 0,
		 "rmdir");
	WL_SETUP(readlink("/proc/self/cwd", link_before, sizeof(link_before) - 1) > 0, "readlink cwd");

	wl_ready();
	wl_wait();

	WL_CHECK(readlink("/proc/self/cwd", link_after, sizeof(link_after) - 1) > 0, "readlink cwd: %s",
		 strerror(errno));
	WL_CHECK(!strcmp(link_before, link_after), "the working directory is %s, was %s", link_after, link_before);
	WL_CHECK(stat(".", &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink == 0 && (st.st_mode & 07777) == 0711,
		 "the working directory: mode %o, %lu link(s); was 0711, removed", st.st_mode,
		 (unsigned long)st.st_nlink);
	WL_CHECK(fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink == 0 && (st.st_mode & 07777) == 0750,
		 "the open directory: mode %o, %lu link(s); was 0750, removed", st.st_mode, (unsigned long)st.st_nlink);
	WL_CHECK(fstat(inner, &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink == 0 && (st.st_mode & 07777) == 0700,
		 "the open directory in a removed one: mode %o, %lu link(s); was 0700, removed", st.st_mode,
		 (unsigned long)st.st_nlink);
	WL_CHECK(access(cwd_path, F_OK) < 0 && access(dir_path, F_OK) < 0 && access(outer_path, F_OK) < 0,
		 "a removed directory is back by name");
	wl_pass();
}
