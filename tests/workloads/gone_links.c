/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unlinked files opened in ways a ghost must follow: one open for writing
 * only (its contents read another way at dump), one with two names (a
 * hard link), each name opened before both were removed, and a device
 * node (the null device's numbers).  After restore the write-only file
 * has its bytes, both fds of the linked one are one file again (same
 * inode, a write through one is read through the other), and the device
 * node is one still, with its numbers and no name.
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "wl.h"

int main(int argc, char **argv)
{
	char wo_path[PATH_MAX], a_path[PATH_MAX], b_path[PATH_MAX], dev_path[PATH_MAX], buf[64] = "";
	struct stat sa, sb;
	int wo, a, b, dev;

	wl_init(argc, argv);
	wl_path(wo_path, sizeof(wo_path), "gone-wo");
	wl_path(a_path, sizeof(a_path), "gone-a");
	wl_path(b_path, sizeof(b_path), "gone-b");
	wo = open(wo_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	WL_SETUP(wo >= 0 && write(wo, "write-only", 10) == 10, "write-only file");
	a = open(a_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	WL_SETUP(a >= 0 && write(a, "linked", 6) == 6, "linked file");
	WL_SETUP(link(a_path, b_path) == 0, "link");
	b = open(b_path, O_RDONLY | O_CLOEXEC);
	WL_SETUP(b >= 0, "open the second name");
	wl_path(dev_path, sizeof(dev_path), "gone-dev");
	WL_SETUP(mknod(dev_path, S_IFCHR | 0620, makedev(1, 3)) == 0 && chmod(dev_path, 0620) == 0, "mknod");
	dev = open(dev_path, O_RDWR | O_CLOEXEC);
	WL_SETUP(dev >= 0, "open the device node");
	WL_SETUP(unlink(wo_path) == 0 && unlink(a_path) == 0 && unlink(b_path) == 0 && unlink(dev_path) == 0, "unlink");

	wl_ready();
	wl_wait();

	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", wo);
	int rd = open(proc, O_RDONLY | O_CLOEXEC);
	WL_CHECK(rd >= 0 && pread(rd, buf, sizeof(buf), 0) == 10 && !memcmp(buf, "write-only", 10),
		 "the write-only file holds '%s'", buf);
	WL_CHECK(fcntl(wo, F_GETFL) & O_WRONLY, "the write-only fd is no longer write-only");
	WL_CHECK(fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev,
		 "the two names' fds are two files now");
	WL_CHECK(sa.st_nlink == 0, "the linked file has %lu link(s), had none", (unsigned long)sa.st_nlink);
	WL_CHECK(pread(b, buf, 6, 0) == 6 && !memcmp(buf, "linked", 6), "the linked file holds '%.6s'", buf);
	WL_CHECK(pwrite(a, "LINK", 4, 0) == 4 && pread(b, buf, 4, 0) == 4 && !memcmp(buf, "LINK", 4),
		 "a write through one name is not read through the other");
	WL_CHECK(fstat(dev, &sa) == 0 && sa.st_mode == (S_IFCHR | 0620) && sa.st_rdev == makedev(1, 3) &&
			 sa.st_nlink == 0,
		 "the device node: mode %o, device %u:%u, %lu link(s); was 20620, 1:3, none", sa.st_mode,
		 major(sa.st_rdev), minor(sa.st_rdev), (unsigned long)sa.st_nlink);
	WL_CHECK(write(dev, "x", 1) == 1, "the device node: cannot write: %s", strerror(errno));
	wl_pass();
}
