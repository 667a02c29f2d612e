/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A program run from a memfd with execveat(AT_EMPTY_PATH).  The kernel
 * refuses to execute a file that something holds open for writing
 * (ETXTBSY), but the memfd's own fd, the one memfd_create() returned,
 * does not count as such.  The memfd holds a shell script; besides its
 * read-write fd the task holds a read-only reopen of it, maps it private
 * through that one and shared through the first.  After restore a child
 * must still be able to execute it, and the mappings must hold its bytes.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "wl.h"

static const char script[] = "#!/bin/sh\nexit 7\n";

/* Run the memfd in a child: its exit status, or 100 + errno of execveat. */
static int run_memfd(int fd)
{
	pid_t pid = fork();
	int st;

	WL_SETUP(pid >= 0, "fork");
	if (!pid) {
		char *const argv[] = { "script", NULL }, *const envp[] = { NULL };
		syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
		_exit(100 + errno);
	}
	WL_SETUP(waitpid(pid, &st, 0) == pid, "waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);

	int fd = memfd_create("script", 0);
	WL_SETUP(fd >= 0, "memfd_create");
	WL_SETUP(write(fd, script, sizeof(script) - 1) == (ssize_t)sizeof(script) - 1, "write the script");
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int rofd = open(proc, O_RDONLY);
	WL_SETUP(rofd >= 0, "reopen the memfd read-only");
	char *priv = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, rofd, 0);
	char *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	WL_SETUP(priv != MAP_FAILED && shared != MAP_FAILED, "map the memfd");
	int before = run_memfd(fd);
	WL_SETUP(before == 7, "the script does not run before the dump");

	wl_ready();
	wl_wait();

	int after = run_memfd(fd);
	WL_CHECK(after != 100 + ETXTBSY, "execveat of the memfd: text file busy (a writer besides its own fd)");
	WL_CHECK(after == 7, "the memfd's script exited %d (100 + errno: execveat failed)", after);
	WL_CHECK(!memcmp(priv, script, sizeof(script) - 1), "the private mapping of the memfd differs");
	WL_CHECK(!memcmp(shared, script, sizeof(script) - 1), "the shared mapping of the memfd differs");
	WL_CHECK(fcntl(rofd, F_GETFL) >= 0 && (fcntl(rofd, F_GETFL) & O_ACCMODE) == O_RDONLY,
		 "the read-only reopen is not read-only");
	wl_pass();
}
