// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * File locks of every kind, held across a checkpoint (dump with
 * --file-locks):
 *
 *  - the parent: flock(LOCK_EX) on one file, flock(LOCK_SH) on another,
 *    POSIX write and read locks on ranges of a third (one to the end of
 *    the file), an OFD write lock on a fourth;
 *  - the child: a POSIX lock on a range of a file whose open file it shares
 *    with the parent (inherited across fork), so the lock is the child's;
 *    and the flock on the shared description, taken by the parent, is seen
 *    by the child as its own.
 *
 * After restore a fresh process (forked then) probes each lock with
 * F_GETLK, F_OFD_GETLK and flock(LOCK_NB) and reports what it sees.
 */
#include <libgen.h>
#include <limits.h>
#include <sys/file.h>

#include "fdsock_wl.h"

static char p_ex[PATH_MAX + 32], p_sh[PATH_MAX + 32], p_posix[PATH_MAX + 32], p_ofd[PATH_MAX + 32],
	p_child[PATH_MAX + 32];
static int f_ex, f_sh, f_posix, f_ofd, f_child;

static int make_file(char *path, const char *dir, const char *name)
{
	snprintf(path, PATH_MAX + 32, "%s/lock-%s-%d", dir, name, getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	WL_SETUP(fd >= 0, path);
	WL_SETUP(write(fd, "0123456789abcdefghijklmnopqrstuvwxyz", 36) == 36, "fill");
	return fd;
}

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	return fcntl(fd, cmd, &fl);
}

/* What a lock of @type on [start, start+len) would run into, by @cmd. */
static struct flock probe(const char *path, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	int fd = open(path, O_RDWR);

	if (fd < 0 || fcntl(fd, cmd, &fl) < 0)
		fl.l_type = -1;
	if (fd >= 0)
		close(fd);
	return fl;
}

static bool flock_free(const char *path, int how)
{
	int fd = open(path, O_RDWR);
	bool ok = fd >= 0 && flock(fd, how | LOCK_NB) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Run in a process forked after restore: it holds none of the locks. */
static void probe_all(pid_t parent, pid_t child)
{
	struct flock fl;

	WL_CHECK(!flock_free(p_ex, LOCK_SH), "flock LOCK_EX: another process can take the file");
	WL_CHECK(!flock_free(p_sh, LOCK_EX), "flock LOCK_SH: another process can lock it exclusively");
	WL_CHECK(flock_free(p_sh, LOCK_SH), "flock LOCK_SH: another process cannot share it");

	fl = probe(p_posix, F_GETLK, F_RDLCK, 12, 1);
	WL_CHECK(fl.l_type == F_WRLCK && fl.l_start == 10 && fl.l_len == 10 && fl.l_pid == parent,
		 "POSIX write lock: F_GETLK sees type %d [%ld+%ld] pid %d, want F_WRLCK [10+10] pid %d", fl.l_type,
		 (long)fl.l_start, (long)fl.l_len, fl.l_pid, parent);
	fl = probe(p_posix, F_GETLK, F_WRLCK, 0, 10);
	WL_CHECK(fl.l_type == F_UNLCK, "POSIX: the range before the lock is locked (type %d)", fl.l_type);
	fl = probe(p_posix, F_GETLK, F_WRLCK, 1000, 1);
	WL_CHECK(fl.l_type == F_RDLCK && fl.l_start == 30 && fl.l_len == 0 && fl.l_pid == parent,
		 "POSIX read lock to EOF: F_GETLK sees type %d [%ld+%ld] pid %d", fl.l_type, (long)fl.l_start,
		 (long)fl.l_len, fl.l_pid);
	fl = probe(p_posix, F_GETLK, F_RDLCK, 1000, 1);
	WL_CHECK(fl.l_type == F_UNLCK, "POSIX read lock: conflicts with another reader");

	fl = probe(p_ofd, F_OFD_GETLK, F_RDLCK, 3, 1);
	WL_CHECK(fl.l_type == F_WRLCK && fl.l_start == 0 && fl.l_len == 5 && fl.l_pid == -1,
		 "OFD lock: F_OFD_GETLK sees type %d [%ld+%ld] pid %d, want F_WRLCK [0+5] pid -1", fl.l_type,
		 (long)fl.l_start, (long)fl.l_len, fl.l_pid);

	fl = probe(p_child, F_GETLK, F_WRLCK, 0, 0);
	WL_CHECK(fl.l_type == F_WRLCK && fl.l_start == 4 && fl.l_len == 4 && fl.l_pid == child,
		 "the child's POSIX lock: F_GETLK sees type %d [%ld+%ld] pid %d, want F_WRLCK [4+4] pid %d", fl.l_type,
		 (long)fl.l_start, (long)fl.l_len, fl.l_pid, child);
	WL_CHECK(!flock_free(p_child, LOCK_EX), "the shared description's flock is gone");
}

int main(int argc, char **argv)
{
	char dir[PATH_MAX], ready[PATH_MAX];
	int sync[2];
	pid_t child, prober;

	wl_init(argc, argv);
	snprintf(ready, sizeof(ready), "%s", argv[1]);
	snprintf(dir, sizeof(dir), "%s", dirname(ready));
	f_ex = make_file(p_ex, dir, "ex");
	f_sh = make_file(p_sh, dir, "sh");
	f_posix = make_file(p_posix, dir, "posix");
	f_ofd = make_file(p_ofd, dir, "ofd");
	f_child = make_file(p_child, dir, "child");

	WL_SETUP(flock(f_ex, LOCK_EX) == 0, "flock LOCK_EX");
	WL_SETUP(flock(f_sh, LOCK_SH) == 0, "flock LOCK_SH");
	WL_SETUP(setlk(f_posix, F_SETLK, F_WRLCK, 10, 10) == 0, "POSIX write lock");
	WL_SETUP(setlk(f_posix, F_SETLK, F_RDLCK, 30, 0) == 0, "POSIX read lock");
	WL_SETUP(setlk(f_ofd, F_OFD_SETLK, F_WRLCK, 0, 5) == 0, "OFD lock");
	WL_SETUP(flock(f_child, LOCK_SH) == 0, "flock on the shared file");
	WL_SETUP(pipe(sync) == 0, "pipe");

	child = fork();
	WL_SETUP(child >= 0, "fork");
	if (child == 0) {
		close(sync[0]);
		WL_SETUP(setlk(f_child, F_SETLK, F_WRLCK, 4, 4) == 0, "child: POSIX lock");
		WL_SETUP(write(sync[1], "r", 1) == 1, "child: ready");
		close(sync[1]);
		wl_wait_usr1();
		/* Its own lock reads as free to itself; the parent's flock is shared. */
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
		WL_CHECK(fcntl(f_child, F_GETLK, &fl) == 0 && fl.l_type == F_UNLCK,
			 "child: its own lock conflicts with itself (type %d pid %d)", fl.l_type, fl.l_pid);
		wl_child_exit();
	}
	close(sync[1]);
	WL_SETUP(read(sync[0], &(char){ 0 }, 1) == 1, "child ready");
	close(sync[0]);

	wl_ready(argv);
	wl_wait_usr1();

	prober = fork();
	if (prober == 0) {
		probe_all(getppid(), child);
		wl_child_exit();
	}
	WL_CHECK(prober > 0, "fork a prober: %s", strerror(errno));
	if (prober > 0) {
		int st;
		waitpid(prober, &st, 0);
		WL_CHECK(WIFEXITED(st) && !WEXITSTATUS(st), "the prober saw the locks wrong (see its stderr)");
	}
	wl_check_child(child, "child");
	unlink(p_ex);
	unlink(p_sh);
	unlink(p_posix);
	unlink(p_ofd);
	unlink(p_child);
	return wl_finish();
}
