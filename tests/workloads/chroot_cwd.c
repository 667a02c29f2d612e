// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A child whose root is a directory below its working directory: it
 * chroot()s into "jail" and stays where it was, outside its new root, with
 * a file of the jail open.  After restore its root and working directory
 * must be the same directories, "/inner" must still name the file it holds
 * open, and that file its contents.  The child answers over a pipe.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include "wl.h"

#define CONTENTS "inside the jail"

static bool same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static void child(int ask, int answer)
{
	struct stat jail, here, st, fst;
	char msg[256] = "ok", buf[64] = "";
	char c;
	int fd;

	if (stat("jail", &jail) < 0 || stat(".", &here) < 0 || chroot("jail") < 0)
		_exit(3);
	fd = open("/inner", O_RDWR);
	if (fd < 0 || write(answer, "r", 1) != 1)
		_exit(3);
	if (read(ask, &c, 1) != 1)
		_exit(4);

	if (stat("/", &st) < 0 || !same(&st, &jail))
		snprintf(msg, sizeof(msg), "the root is no longer the jail");
	else if (stat(".", &st) < 0 || !same(&st, &here))
		snprintf(msg, sizeof(msg), "the working directory is no longer the one outside the jail");
	else if (stat("/inner", &st) < 0 || fstat(fd, &fst) < 0 || !same(&st, &fst))
		snprintf(msg, sizeof(msg), "/inner is not the file held open");
	else if (pread(fd, buf, sizeof(buf) - 1, 0) != (ssize_t)strlen(CONTENTS) || strcmp(buf, CONTENTS))
		snprintf(msg, sizeof(msg), "the open file holds '%s'", buf);
	if (write(answer, msg, strlen(msg)) < 0)
		_exit(5);
	_exit(0);
}

int main(int argc, char **argv)
{
	int ask[2], answer[2];
	char msg[256] = "";
	char path[PATH_MAX];
	char c;

	wl_init(argc, argv);
	wl_path(path, sizeof(path), "jail");
	WL_SETUP(mkdir(path, 0700) == 0 || errno == EEXIST, "mkdir jail");
	wl_path(path, sizeof(path), "jail/inner");
	wl_put_file(path, CONTENTS, strlen(CONTENTS));
	WL_SETUP(chdir(wl_dir) == 0, "chdir");
	WL_SETUP(pipe(ask) == 0 && pipe(answer) == 0, "pipe");
	pid_t pid = fork();
	WL_SETUP(pid >= 0, "fork");
	if (pid == 0)
		child(ask[0], answer[1]);
	close(ask[0]);
	close(answer[1]);
	WL_SETUP(read(answer[0], &c, 1) == 1, "the child chroots");

	wl_ready();
	wl_wait();

	WL_CHECK(write(ask[1], "?", 1) == 1, "cannot ask the child");
	ssize_t n = read(answer[0], msg, sizeof(msg) - 1);
	WL_CHECK(n > 0, "the child did not answer");
	msg[n] = '\0';
	WL_CHECK(!strcmp(msg, "ok"), "child: %s", msg);
	int status;
	WL_CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "the child ended with 0x%x", status);
	wl_pass();
}
