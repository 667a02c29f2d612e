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
 *
 * The root also holds files whose owners the images carry as seen inside
 * (as CRIU writes them): an unlinked file and a memfd given to 1000:1000,
 * a unix socket bound to a name given to 1000:1000, and a pty pair (its
 * slave is the root's, 0:0 inside).
 * The integration test checks the same ids seen from outside.
 */
#include <grp.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

static struct {
	int ghost, memfd, sock, master, slave;
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
} owned;

static void make_owned_files(void)
{
	char path[PATH_MAX];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	wl_path(path, sizeof(path), "ghost");
	owned.ghost = open(path, O_CREAT | O_RDWR | O_TRUNC, 0640);
	WL_SETUP(owned.ghost >= 0 && write(owned.ghost, "ghost\n", 6) == 6 && fchown(owned.ghost, 1000, 1000) == 0 &&
			 unlink(path) == 0,
		 "an unlinked file of 1000:1000");
	owned.memfd = memfd_create("owned", 0);
	WL_SETUP(owned.memfd >= 0 && fchown(owned.memfd, 1000, 1000) == 0, "a memfd of 1000:1000");
	wl_path(owned.sock_path, sizeof(owned.sock_path), "sock");
	WL_SETUP(strlen(owned.sock_path) < sizeof(sa.sun_path) - 1, "the socket's path is too long");
	strcpy(sa.sun_path, owned.sock_path);
	owned.sock = socket(AF_UNIX, SOCK_STREAM, 0);
	WL_SETUP(owned.sock >= 0 && bind(owned.sock, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
			 listen(owned.sock, 1) == 0 && chown(owned.sock_path, 1000, 1000) == 0,
		 "a unix socket bound to a name of 1000:1000");
	owned.master = posix_openpt(O_RDWR | O_NOCTTY);
	WL_SETUP(owned.master >= 0 && unlockpt(owned.master) == 0, "a pty");
	owned.slave = open(ptsname(owned.master), O_RDWR | O_NOCTTY);
	WL_SETUP(owned.slave >= 0, "the pty's slave");
}

static void check_owner(int fd, const char *what, uid_t uid, gid_t gid)
{
	struct stat st;

	WL_CHECK(fstat(fd, &st) == 0 && st.st_uid == uid && st.st_gid == gid, "%s is %d:%d, not %d:%d", what,
		 (int)st.st_uid, (int)st.st_gid, (int)uid, (int)gid);
}

static void check_owned_files(void)
{
	char text[8] = "";
	struct stat st;

	check_owner(owned.ghost, "the unlinked file", 1000, 1000);
	WL_CHECK(pread(owned.ghost, text, sizeof(text) - 1, 0) == 6 && !strcmp(text, "ghost\n"),
		 "the unlinked file holds '%s'", text);
	check_owner(owned.memfd, "the memfd", 1000, 1000);
	WL_CHECK(stat(owned.sock_path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == 1000 && st.st_gid == 1000,
		 "the socket's name is %d:%d", (int)st.st_uid, (int)st.st_gid);
	check_owner(owned.slave, "the pty's slave", 0, 0);
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
	WL_SETUP(!audit || wl_write_u32_file("/proc/self/loginuid", 1000) == 0, "loginuid 1000");
	wl_path(file, sizeof(file), "owned");
	int fd = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	WL_SETUP(fd >= 0 && fchown(fd, 1000, 1000) == 0, "a file given to 1000:1000");
	close(fd);
	make_owned_files();
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
	check_owned_files();
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
