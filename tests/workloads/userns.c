/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tree in a user namespace of its own, as a container runtime makes one:
 * started as root, the workload clones its root task with new user, pid,
 * uts and ipc namespaces and writes the maps from outside (inside 0-65535
 * is 100000-165535 outside, uids and gids alike); the root takes uid and
 * gid 0 inside.  It makes a file it gives to 1000:1000, a SysV shared
 * memory segment owned by 1000:1000, and a child that becomes uid 1000,
 * gid 1000 with the groups 5 and 1000 and so loses its capabilities.
 *
 * After restore the root checks its maps, its ids, the owners of the file
 * and the segment as it sees them, and that it can still do what root of
 * its namespace can (set the host name, give the file away again); the
 * child checks its ids and groups and that it cannot set the host name.
 * The integration test checks the same ids seen from outside.
 */
#include <grp.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "wl.h"

#define OUTER_BASE 100000
#define RANGE	   65536
#define SHM_KEY	   0x5e7a

static char scratch[4096];

static int map_is_ours(const char *name)
{
	unsigned first, lower, count;
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/%s", name);
	if (wl_read_file(path, scratch, sizeof(scratch)) <= 0)
		return 0;
	return sscanf(scratch, " %u %u %u", &first, &lower, &count) == 3 && first == 0 && lower == OUTER_BASE &&
	       count == RANGE && !strchr(strchr(scratch, '\n') + 1, '\n');
}

static void put_map(pid_t pid, const char *name)
{
	char path[64], line[64];
	int n = snprintf(line, sizeof(line), "0 %d %d\n", OUTER_BASE, RANGE);

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	int fd = open(path, O_WRONLY);
	WL_SETUP(fd >= 0 && write(fd, line, n) == n, path);
	close(fd);
}

static int put_loginuid(unsigned v)
{
	char text[16];
	int len = snprintf(text, sizeof(text), "%u", v);
	int fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
	int ok = fd >= 0 && write(fd, text, len) == len;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* The child: an ordinary user of the namespace. */
static void run_user(void)
{
	gid_t groups[] = { 5, 1000 }, got[8];
	uid_t r, e, s;

	WL_SETUP(setgroups(2, groups) == 0, "setgroups");
	WL_SETUP(setresgid(1000, 1000, 1000) == 0, "setresgid(1000)");
	WL_SETUP(setresuid(1000, 1000, 1000) == 0, "setresuid(1000)");
	wl_wait();
	if (getresuid(&r, &e, &s) < 0 || r != 1000 || e != 1000 || s != 1000)
		_exit(10);
	if (getresgid(&r, &e, &s) < 0 || r != 1000 || e != 1000 || s != 1000)
		_exit(11);
	if (getgroups(8, got) != 2 || got[0] != 5 || got[1] != 1000)
		_exit(12);
	if (sethostname("user", 4) == 0 || errno != EPERM)
		_exit(13);
	_exit(0);
}

static void run_root(int go)
{
	char file[PATH_MAX], c;
	struct shmid_ds ds;
	struct stat st;

	WL_SETUP(setsid() > 0, "setsid");
	WL_SETUP(read(go, &c, 1) == 1, "waiting for the maps");
	close(go);
	WL_SETUP(setresgid(0, 0, 0) == 0 && setgroups(0, NULL) == 0 && setresuid(0, 0, 0) == 0, "becoming root");
	/* As after the exec of a runtime's init: the id change made us not
	 * dumpable (our /proc files root's outside). */
	WL_SETUP(prctl(PR_SET_DUMPABLE, 1) == 0, "PR_SET_DUMPABLE");
	WL_SETUP(sethostname("userns-wl", 9) == 0, "sethostname");
	/* Unset when started (the test sees to it), the login uid may be set
	 * once from inside: 1000 here, 101000 outside. */
	bool audit = access("/proc/self/loginuid", F_OK) == 0;
	WL_SETUP(!audit || put_loginuid(1000) == 0, "loginuid 1000");
	wl_path(file, sizeof(file), "owned");
	int fd = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	WL_SETUP(fd >= 0 && fchown(fd, 1000, 1000) == 0, "a file given to 1000:1000");
	close(fd);
	int shm = shmget(SHM_KEY, 4096, IPC_CREAT | IPC_EXCL | 0600);
	WL_SETUP(shm >= 0 && shmctl(shm, IPC_STAT, &ds) == 0, "shmget");
	ds.shm_perm.uid = 1000;
	ds.shm_perm.gid = 1000;
	WL_SETUP(shmctl(shm, IPC_SET, &ds) == 0, "shmctl(IPC_SET) to 1000:1000");
	pid_t user = fork();
	WL_SETUP(user >= 0, "fork");
	if (user == 0)
		run_user();
	wl_ready();
	wl_wait();

	WL_CHECK(map_is_ours("uid_map"), "uid_map is not 0 %d %d: %s", OUTER_BASE, RANGE, scratch);
	WL_CHECK(map_is_ours("gid_map"), "gid_map is not 0 %d %d: %s", OUTER_BASE, RANGE, scratch);
	WL_CHECK(getuid() == 0 && geteuid() == 0 && getgid() == 0 && getegid() == 0, "root is %d/%d %d/%d", getuid(),
		 geteuid(), getgid(), getegid());
	WL_CHECK(getpid() == 1, "the root is %d, not 1 of its pid namespace", getpid());
	WL_CHECK(!audit || wl_read_file("/proc/self/loginuid", scratch, sizeof(scratch)) > 0, "read loginuid");
	WL_CHECK(!audit || atoi(scratch) == 1000, "loginuid is %s, not 1000", scratch);
	WL_CHECK(stat(file, &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000, "the file is %d:%d", (int)st.st_uid,
		 (int)st.st_gid);
	WL_CHECK(shmctl(shm, IPC_STAT, &ds) == 0 && ds.shm_perm.uid == 1000 && ds.shm_perm.gid == 1000 &&
			 ds.shm_perm.cuid == 0,
		 "the segment's owner is %d:%d (creator %d)", (int)ds.shm_perm.uid, (int)ds.shm_perm.gid,
		 (int)ds.shm_perm.cuid);
	/* What root of the namespace can do. */
	WL_CHECK(sethostname("userns-after", 12) == 0, "sethostname after restore: %s", strerror(errno));
	WL_CHECK(chown(file, 2000, 2000) == 0, "chown to 2000 after restore: %s", strerror(errno));
	WL_CHECK(chown(file, 70000, 0) < 0 && errno == EINVAL, "chown to an unmapped uid worked");
	int status;
	kill(user, SIGUSR1);
	WL_CHECK(waitpid(user, &status, 0) == user && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "the user child failed its check (status 0x%x)", status);
	wl_pass();
}

int main(int argc, char **argv)
{
	int go[2];

	wl_init(argc, argv);
	/* The root writes its verdict where it is root no more. */
	WL_SETUP(chown(wl_dir, OUTER_BASE, OUTER_BASE) == 0, "chown of the workload's folder");
	WL_SETUP(pipe(go) == 0, "pipe");
	pid_t root =
		syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD, 0, 0, 0, 0);
	WL_SETUP(root >= 0, "clone with new user, pid, uts and ipc namespaces");
	if (root == 0) {
		close(go[1]);
		run_root(go[0]);
	}
	close(go[0]);
	put_map(root, "uid_map");
	put_map(root, "gid_map");
	WL_SETUP(write(go[1], "g", 1) == 1, "starting the root");
	waitpid(root, NULL, 0);
	return 0;
}
