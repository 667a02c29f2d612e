/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A task without a vDSO: the child unmaps its [vdso] and [vvar] (as a
 * kernel booted with vdso=0 would leave it) and keeps running on plain
 * system calls, sleeping until SIGUSR1.  A dump cannot run system calls
 * in it from its vDSO; it must find a `syscall` instruction elsewhere in
 * its code.  After restore the child must still have no vDSO (none put
 * back) and still run: it answers over a pipe, and its parent checks its
 * maps too.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "wl.h"

static char maps[64 * 1024];

/* Does the maps of @pid name a vDSO or vvar mapping?  Unmaps them when
 * @unmap (the caller's own). */
static bool has_vdso(pid_t pid, bool unmap)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (wl_read_file(path, maps, sizeof(maps)) <= 0)
		return true; /* cannot tell: count as wrong */
	bool found = false;
	for (char *line = maps, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (!strstr(line, "[vdso]") && !strstr(line, "[vvar"))
			continue;
		found = true;
		unsigned long start, end;
		if (unmap && sscanf(line, "%lx-%lx", &start, &end) == 2)
			syscall(SYS_munmap, start, end - start);
	}
	return found;
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);

	int to_child[2], from_child[2];
	WL_SETUP(pipe(to_child) == 0 && pipe(from_child) == 0, "pipe");
	pid_t child = fork();
	WL_SETUP(child >= 0, "fork");
	if (!child) {
		/* From here on: no clock_gettime() and friends, they live in
		 * the vDSO; read() and write() are plain system calls. */
		has_vdso(getpid(), true);
		char c = has_vdso(getpid(), false) ? 'v' : 'r';
		if (write(from_child[1], &c, 1) != 1)
			_exit(10);
		if (read(to_child[0], &c, 1) != 1)
			_exit(11);
		c = has_vdso(getpid(), false) ? 'v' : 'k';
		_exit(write(from_child[1], &c, 1) == 1 && c == 'k' ? 0 : 12);
	}
	char c;
	WL_SETUP(read(from_child[0], &c, 1) == 1 && c == 'r', "the child could not unmap its vDSO");
	WL_SETUP(!has_vdso(child, false), "the child still has a vDSO");

	wl_ready();
	wl_wait();

	WL_CHECK(!has_vdso(child, false), "the restored child has a vDSO again");
	WL_CHECK(write(to_child[1], "g", 1) == 1, "cannot wake the child");
	WL_CHECK(read(from_child[0], &c, 1) == 1, "the restored child did not answer");
	WL_CHECK(c == 'k', "the restored child finds a vDSO in its maps");
	int st;
	WL_CHECK(waitpid(child, &st, 0) == child, "waitpid: %s", strerror(errno));
	WL_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child without a vDSO: status 0x%x", st);
	wl_pass();
}
