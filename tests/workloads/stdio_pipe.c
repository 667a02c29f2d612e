/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A task whose stdout is a pipe read outside the tree (a container's
 * stdio, as conmon's pipes are).  Restored with the pipe given by the
 * caller (--inherit-fd fd[N]:pipe:[INODE]), fd 1 must be a pipe again,
 * writable, with the flags it had: the line written after the restore
 * reaches the caller's reader.
 */
#include <sys/stat.h>

#include "wl.h"

int main(int argc, char **argv)
{
	static const char line[] = "stdout after restore\n";
	struct stat st;
	int flags;

	wl_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	WL_SETUP(fstat(1, &st) == 0 && S_ISFIFO(st.st_mode), "stdout is a pipe");
	wl_ready();
	wl_wait();

	WL_CHECK(fstat(1, &st) == 0 && S_ISFIFO(st.st_mode), "stdout is no pipe after restore");
	flags = fcntl(1, F_GETFL);
	WL_CHECK(flags >= 0 && (flags & O_ACCMODE) == O_WRONLY, "stdout is not write-only: 0%o", flags);
	WL_CHECK(write(1, line, sizeof(line) - 1) == sizeof(line) - 1, "write to stdout: %s", strerror(errno));
	wl_pass();
}
