/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Terminals opened through device nodes the workload made itself: a
 * console (5:1, read-only) and a virtual console (4:5, read-write).
 * After the restore each fd is the same device through the same node,
 * opened the same way.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "wl.h"

struct node {
	const char *name;
	unsigned major, minor;
	int flags;
	char path[4096];
	int fd;
};

static void check(const struct node *n)
{
	char proc[64], link[4096];
	struct stat st;
	ssize_t len;

	WL_CHECK(fstat(n->fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(n->major, n->minor),
		 "%s: fd %d is device %u:%u", n->name, n->fd, major(st.st_rdev), minor(st.st_rdev));
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", n->fd);
	len = readlink(proc, link, sizeof(link) - 1);
	WL_CHECK(len > 0, "readlink %s", proc);
	link[len] = 0;
	WL_CHECK(!strcmp(link, n->path), "%s: fd %d is %s, not %s", n->name, n->fd, link, n->path);
	WL_CHECK((fcntl(n->fd, F_GETFL) & O_ACCMODE) == n->flags, "%s: access mode 0%o", n->name,
		 fcntl(n->fd, F_GETFL) & O_ACCMODE);
}

int main(int argc, char **argv)
{
	struct node nodes[] = {
		{ .name = "console", .major = 5, .minor = 1, .flags = O_RDONLY },
		{ .name = "vt", .major = 4, .minor = 5, .flags = O_RDWR },
	};

	wl_init(argc, argv);
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		struct node *n = &nodes[i];
		wl_path(n->path, sizeof(n->path), n->name);
		unlink(n->path);
		WL_SETUP(mknod(n->path, S_IFCHR | 0600, makedev(n->major, n->minor)) == 0, "mknod");
		n->fd = open(n->path, n->flags | O_NOCTTY);
		WL_SETUP(n->fd >= 0, n->name);
	}
	wl_ready();
	wl_wait();
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
		check(&nodes[i]);
	wl_pass();
}
