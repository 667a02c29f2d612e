/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The init of an OCI container (pid 1 of a runc container, for
 * oci_archive.bats): READY and RESULT are on a bind mount (/wl).  Before it
 * is ready it changes its root filesystem the three ways a checkpoint must
 * carry: /added is new, /etc/changed gets new contents, /etc/deleted is
 * removed; it keeps /etc/held open at offset 5, patterned memory, and a
 * child in its pid namespace.
 *
 * After restore: pid 1, the child still its child with its pid, the
 * memory, the open file and its offset, and the root filesystem's three
 * changes (a restore that applied no rootfs-diff.tar or deleted.files
 * fails here).
 */
#include <fcntl.h>
#include <sys/wait.h>

#include "wl.h"

#define MEM_SIZE (1 << 20)

int main(int argc, char **argv)
{
	static char text[64];
	unsigned char *mem;
	pid_t child;
	int fd;

	wl_init(argc, argv);
	WL_SETUP(getpid() == 1, "not pid 1 of a container");
	wl_put_file("/added", "added\n", 6);
	wl_put_file("/etc/changed", "new contents\n", 13);
	WL_SETUP(unlink("/etc/deleted") == 0, "cannot delete /etc/deleted");
	fd = open("/etc/held", O_RDONLY);
	WL_SETUP(fd >= 0 && lseek(fd, 5, SEEK_SET) == 5, "cannot open /etc/held");
	mem = malloc(MEM_SIZE);
	WL_SETUP(mem, "no memory");
	for (size_t i = 0; i < MEM_SIZE; i++)
		mem[i] = (unsigned char)(i * 7 + 3);
	child = fork();
	WL_SETUP(child >= 0, "fork");
	if (child == 0) {
		for (;;)
			pause();
	}
	wl_ready();
	wl_wait();

	WL_CHECK(getpid() == 1, "pid %d, not 1", (int)getpid());
	WL_CHECK(waitpid(child, NULL, WNOHANG) == 0, "child %d is gone", (int)child);
	for (size_t i = 0; i < MEM_SIZE; i++)
		WL_CHECK(mem[i] == (unsigned char)(i * 7 + 3), "memory differs at %zu", i);
	WL_CHECK(lseek(fd, 0, SEEK_CUR) == 5, "/etc/held at offset %lld", (long long)lseek(fd, 0, SEEK_CUR));
	WL_CHECK(wl_read_file("/added", text, sizeof(text)) == 6 && !strcmp(text, "added\n"), "/added: '%s'", text);
	WL_CHECK(wl_read_file("/etc/changed", text, sizeof(text)) == 13 && !strcmp(text, "new contents\n"),
		 "/etc/changed: '%s'", text);
	WL_CHECK(access("/etc/deleted", F_OK) < 0, "/etc/deleted is back");
	kill(child, SIGKILL);
	wl_pass();
}
