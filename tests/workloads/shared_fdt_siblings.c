/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Two children share their parent's fd table (CLONE_FILES), with a child
 * of its own table made between them, and the table holds a file made
 * with O_TMPFILE (never linked anywhere).  The first sharer has children
 * of its own: one sharing the table as well, one with a copy.  After
 * restore the parent's table is still the sharers' and not the others',
 * and the O_TMPFILE file still has its contents.
 */
#include <sched.h>
#include <sys/stat.h>

#include "wl.h"

#define TMP_LEN 5000

static char stacks[3][64 * 1024];
static int kids_pipe[2];

static int child_main(void *arg)
{
	for (;;)
		pause();
	return 0;
}

/* The first sharer's own children: one sharing the table too, one with a
 * copy of its own (holding fd 30, as the table had it then). */
static int sharer_main(void *arg)
{
	pid_t kids[2];

	kids[0] = clone(child_main, stacks[2] + sizeof(stacks[2]), CLONE_FILES | SIGCHLD, NULL);
	kids[1] = fork();
	if (kids[1] == 0)
		child_main(NULL);
	if (write(kids_pipe[1], kids, sizeof(kids)) != sizeof(kids))
		_exit(3);
	return child_main(NULL);
}

static pid_t make_child(int i, int flags)
{
	return clone(child_main, stacks[i] + sizeof(stacks[i]), flags | SIGCHLD, NULL);
}

static bool has_fd(pid_t pid, int fd)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	return access(path, F_OK) == 0;
}

int main(int argc, char **argv)
{
	char buf[TMP_LEN];

	wl_init(argc, argv);
	WL_SETUP(pipe(kids_pipe) == 0 && dup2(kids_pipe[0], 30) == 30, "pipe");
	pid_t first = clone(sharer_main, stacks[0] + sizeof(stacks[0]), CLONE_FILES | SIGCHLD, NULL);
	WL_SETUP(first > 0, "clone the first sharer");
	pid_t own = fork();
	if (own == 0)
		child_main(NULL);
	WL_SETUP(own > 0, "fork");
	int tmp = open(wl_dir, O_TMPFILE | O_RDWR, 0600);
	WL_SETUP(tmp >= 0, "O_TMPFILE");
	wl_fill(buf, TMP_LEN, 7);
	WL_SETUP(write(tmp, buf, TMP_LEN) == TMP_LEN, "write the O_TMPFILE file");
	pid_t second = make_child(1, CLONE_FILES);
	WL_SETUP(second > 0, "clone the second sharer");

	pid_t grandkids[2];
	WL_SETUP(read(kids_pipe[0], grandkids, sizeof(grandkids)) == sizeof(grandkids), "the grandchildren");

	wl_ready();
	wl_wait();

	int fd = open("/dev/null", O_RDONLY);
	WL_CHECK(fd >= 0, "open /dev/null");
	WL_CHECK(has_fd(first, fd), "the first child no longer shares our fd table");
	WL_CHECK(has_fd(second, fd), "the second child no longer shares our fd table");
	WL_CHECK(!has_fd(own, fd) && !has_fd(own, tmp), "the child with its own table shares ours");
	WL_CHECK(has_fd(grandkids[0], fd), "the grandchild no longer shares our fd table");
	WL_CHECK(!has_fd(grandkids[1], fd), "the grandchild with its own table shares ours");
	close(30);
	WL_CHECK(has_fd(grandkids[1], 30) && !has_fd(grandkids[0], 30),
		 "fd 30 is not the own-table grandchild's alone (it had a copy)");
	struct stat st;
	WL_CHECK(fstat(tmp, &st) == 0 && st.st_nlink == 0 && st.st_size == TMP_LEN,
		 "the O_TMPFILE file has %ld bytes and %lu links", (long)st.st_size, (unsigned long)st.st_nlink);
	WL_CHECK(pread(tmp, buf, TMP_LEN, 0) == TMP_LEN && wl_mismatch(buf, TMP_LEN, 7) < 0,
		 "the O_TMPFILE file's contents differ");
	kill(first, SIGKILL);
	kill(second, SIGKILL);
	kill(own, SIGKILL);
	kill(grandkids[0], SIGKILL);
	kill(grandkids[1], SIGKILL);
	wl_pass();
}
