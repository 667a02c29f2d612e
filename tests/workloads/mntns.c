/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A container's mount tree, made as a runtime makes it: started as pid 1
 * of `unshare --pid --mount --uts --ipc --fork` from DIR/rootfs/mntns
 * (DIR is the folder of RESULT), it mounts below DIR/rootfs: tmpfs /tmp
 * with files, proc, sysfs read-only, tmpfs /dev with a null node, devpts
 * (a new instance with its options), /dev/shm with a file, mqueue, DIR
 * bound at /wl (the external host folder), DIR/hosts bound over /etc/hosts
 * and /tmp/hostname over /etc/hostname (single files), /dev/null over
 * /proc/timer_list and an empty read-only tmpfs over /sys/firmware (masked
 * paths), /proc/sys bound read-only, and a shared tmpfs /sha with its peer
 * /shb; then it pivots into DIR/rootfs, sets its host name and starts a
 * child.  READY and RESULT are then used through /wl.
 *
 * After restore: the mount table (mount point, options, type, source and
 * superblock options of every mount) is the same set as before, the files
 * of the tmpfs mounts are there with their modes, the masked paths stay
 * masked and read-only, a mount below /sha shows below /shb, /proc is the
 * pid namespace's own (we are 1 there), the host name and the child.
 *
 * With MNTNS_MODE=runc in its environment it is the process of a runc
 * container instead (tests/integration/container_runc.bats): runc made the
 * tree (and /wl); it adds files to /dev and /dev/shm, makes SysV objects
 * (a keyed segment attached here and in the child, a private one attached
 * nowhere, semaphores, a queue with messages) and checks the same, and
 * more: the objects, that runc's seccomp filter still fails getpriority
 * with ENOMSG, the capability, no_new_privs and seccomp lines of
 * /proc/self/status, /proc/self/cgroup (its cgroup namespace's view), and
 * with MNTNS_PIDS_MAX=N that its pids cgroup's pids.max (seen from
 * inside) is N.
 */
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "sysv_wl.h"

#define HOSTNAME "ocicr-mnt"
#define TMP_TEXT "tmpfs file contents\n"
#define SHM_TEXT "shm file contents\n"
#define KEY_SHM	 0x0c1c0b01
#define KEY_SEM	 0x0c1c0b02
#define KEY_MSG	 0x0c1c0b03

static char root[PATH_MAX - 64], mounts_before[16384], mounts_now[16384], scratch[4096];
static char ready_in[PATH_MAX], result_in[PATH_MAX];

static void at(char *buf, const char *path)
{
	if (snprintf(buf, PATH_MAX, "%s%s", root, path) >= PATH_MAX)
		wl_fail("setup: %s%s is too long", root, path);
}

static void do_mount(const char *src, const char *path, const char *type, unsigned long flags, const char *data)
{
	char p[PATH_MAX];

	at(p, path);
	if (mount(src, p, type, flags, data) < 0)
		wl_fail("setup: mount %s at %s: %s", type ? type : src, path, strerror(errno));
}

static void do_bind(const char *src_in_root, const char *path, bool ro)
{
	char s[PATH_MAX], p[PATH_MAX];

	at(s, src_in_root);
	at(p, path);
	WL_SETUP(mount(s, p, NULL, MS_BIND, NULL) == 0, path);
	if (ro)
		WL_SETUP(mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0, path);
}

static void put(const char *path, const char *text, mode_t mode)
{
	char p[PATH_MAX];

	at(p, path);
	wl_put_file(p, text, strlen(text));
	WL_SETUP(chmod(p, mode) == 0, path);
}

/* Every mount as "mountpoint vfs-options type source super-options",
 * sorted, one a line: what must be the same after restore. */
static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool runc_mode;

/* A masked file is a bind of some /dev/null: runc's is the container's at
 * first, the host's once restored (the external key /dev/null, as CRIU
 * does it); only that it masks counts, not its options (CRIU 4.2 leaves
 * the second of two such binds with the host's). */
static bool masked_file(const char *mountpoint)
{
	struct stat st;

	return runc_mode && !strncmp(mountpoint, "/proc/", 6) && stat(mountpoint, &st) == 0 && S_ISCHR(st.st_mode) &&
	       st.st_rdev == makedev(1, 3);
}

static void mount_set(char *out, size_t len)
{
	static char text[16384];
	char *lines[128], *save;
	size_t n = 0, o = 0;

	WL_SETUP(wl_read_file("/proc/self/mountinfo", text, sizeof(text)) > 0, "mountinfo");
	for (char *l = strtok_r(text, "\n", &save); l && n < 128; l = strtok_r(NULL, "\n", &save)) {
		/* id parent dev root mountpoint opts [optional...] - type source superopts */
		char *f[6], *dash = strstr(l, " - ");
		int k = 0;
		if (!dash)
			continue;
		*dash = '\0';
		for (char *t = strtok(l, " "); t && k < 6; t = strtok(NULL, " "))
			f[k++] = t;
		char *type = strtok(dash + 3, " "), *src = strtok(NULL, " "), *sopts = strtok(NULL, " ");
		static char buf[128][256];
		if (masked_file(f[4]))
			snprintf(buf[n], sizeof(buf[n]), "%s masked by /dev/null", f[4]);
		else
			snprintf(buf[n], sizeof(buf[n]), "%s %s %s %s %s", f[4], f[5], type, src, sopts ? sopts : "");
		lines[n] = buf[n];
		n++;
	}
	qsort(lines, n, sizeof(lines[0]), cmp_lines);
	out[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++)
		o += snprintf(out + o, len - o, "%s\n", lines[i]);
}

/* Append to @out, marked with @mark, the lines of @a that @b lacks. */
static void lines_missing(const char *a, const char *b, char mark, char *out, size_t len, size_t *o)
{
	char line[256];

	for (const char *l = a; *l && *o < len;) {
		size_t n = strcspn(l, "\n");
		snprintf(line, sizeof(line), "\n%.*s\n", (int)n, l);
		/* @b's lines, each between newlines. */
		bool found = (!strncmp(b, line + 1, n + 1)) || strstr(b, line);
		if (!found)
			*o += snprintf(out + *o, len - *o, "%c%.*s\n", mark, (int)n, l);
		l += n + (l[n] == '\n');
	}
}

static void build_tree(void)
{
	char p[PATH_MAX], q[PATH_MAX + 8];

	WL_SETUP(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "make / private");
	WL_SETUP(mount(root, root, NULL, MS_BIND, NULL) == 0, "bind the root");
	do_mount("tmpfs", "/tmp", "tmpfs", 0, "size=1m,mode=1777");
	put("/tmp/file", TMP_TEXT, 0640);
	at(p, "/tmp/dir");
	WL_SETUP(mkdir(p, 0700) == 0, "mkdir /tmp/dir");
	put("/tmp/dir/inner", "inner\n", 0600);
	at(p, "/tmp/link");
	WL_SETUP(symlink("dir/inner", p) == 0, "symlink");
	put("/tmp/hostname", HOSTNAME "\n", 0644);
	do_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	do_mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	do_mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
	at(p, "/dev/null");
	WL_SETUP(mknod(p, S_IFCHR | 0666, makedev(1, 3)) == 0 && chmod(p, 0666) == 0, "mknod /dev/null");
	for (const char *d = "/dev/pts\0/dev/shm\0/dev/mqueue\0"; *d; d += strlen(d) + 1) {
		at(p, d);
		WL_SETUP(mkdir(p, 0755) == 0, d);
	}
	do_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5");
	do_mount("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
	put("/dev/shm/segment", SHM_TEXT, 0600);
	do_mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	at(p, "/wl");
	WL_SETUP(mount(wl_dir, p, NULL, MS_BIND, NULL) == 0, "bind /wl");
	snprintf(q, sizeof(q), "%s/hosts", wl_dir);
	at(p, "/etc/hosts");
	WL_SETUP(mount(q, p, NULL, MS_BIND, NULL) == 0, "bind /etc/hosts");
	do_bind("/tmp/hostname", "/etc/hostname", false);
	do_bind("/dev/null", "/proc/timer_list", false);
	do_mount("tmpfs", "/sys/firmware", "tmpfs", MS_RDONLY, NULL);
	do_bind("/proc/sys", "/proc/sys", true);
	do_mount("tmpfs", "/sha", "tmpfs", 0, "size=64k");
	at(p, "/sha");
	WL_SETUP(mount(NULL, p, NULL, MS_SHARED, NULL) == 0, "make /sha shared");
	do_bind("/sha", "/shb", false);
	WL_SETUP(chdir(root) == 0 && syscall(SYS_pivot_root, ".", ".") == 0, "pivot_root");
	WL_SETUP(umount2(".", MNT_DETACH) == 0 && chdir("/") == 0, "let the old root go");
}

static void check_file(const char *path, const char *text, mode_t mode)
{
	struct stat st;

	WL_CHECK(wl_read_file(path, scratch, sizeof(scratch)) >= 0, "cannot read %s: %s", path, strerror(errno));
	WL_CHECK(!strcmp(scratch, text), "%s holds '%s'", path, scratch);
	WL_CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == mode, "%s has mode %o", path, st.st_mode & 07777);
}

static void check_masked(void)
{
	struct stat st;
	int fd;

	WL_CHECK(stat("/proc/timer_list", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
		 "/proc/timer_list is not masked by /dev/null");
	WL_CHECK(wl_read_file("/proc/timer_list", scratch, sizeof(scratch)) == 0, "/proc/timer_list shows data");
	fd = open("/sys/firmware/x", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	WL_CHECK(fd < 0 && errno == EROFS, "/sys/firmware is writable");
	WL_CHECK(wl_read_file("/sys/firmware/x", scratch, sizeof(scratch)) < 0, "/sys/firmware is not empty");
	fd = open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
	/* Root of a user namespace is no owner of /proc/sys files: refused
	 * before the read-only mount is looked at. */
	WL_CHECK(fd < 0 && (errno == EROFS || (getenv("MNTNS_USERNS") && errno == EACCES)), "/proc/sys is writable");
}

static void check_propagation(void)
{
	struct stat a, b;

	WL_CHECK(mkdir("/sha/sub", 0755) == 0, "mkdir /sha/sub: %s", strerror(errno));
	WL_CHECK(mount("tmpfs", "/sha/sub", "tmpfs", 0, "size=16k") == 0, "mount below /sha: %s", strerror(errno));
	WL_CHECK(stat("/sha/sub", &a) == 0 && stat("/shb/sub", &b) == 0, "stat /sh?/sub");
	WL_CHECK(a.st_dev == b.st_dev, "a mount below /sha does not show below /shb: /sha and /shb are no peers");
	WL_CHECK(umount2("/sha/sub", MNT_DETACH) == 0, "umount /sha/sub");
}

/* In a runc container: what runc gave it besides the mounts, and SysV
 * objects; RUNC_STATE holds what must be the same after restore. */
static struct {
	int shm, priv, sem, msg;
	unsigned char *at;
	char status[1024], cgroups[1024];
} runc_state;

/* The capability, no_new_privs and seccomp lines of /proc/self/status. */
static void creds_of(char *out, size_t len)
{
	static char text[4096];
	char *save;
	size_t o = 0;

	WL_SETUP(wl_read_file("/proc/self/status", text, sizeof(text)) > 0, "/proc/self/status");
	out[0] = '\0';
	for (char *l = strtok_r(text, "\n", &save); l && o < len; l = strtok_r(NULL, "\n", &save))
		if (!strncmp(l, "Cap", 3) || !strncmp(l, "NoNewPrivs:", 11) || !strncmp(l, "Seccomp", 7))
			o += snprintf(out + o, len - o, "%s\n", l);
}

static void check_runc_given(void)
{
	const char *pids_max = getenv("MNTNS_PIDS_MAX");

	WL_CHECK(syscall(SYS_getpriority, PRIO_PROCESS, 0) == -1 && errno == ENOMSG,
		 "runc's seccomp rule is gone (getpriority: %s)", strerror(errno));
	if (!pids_max)
		return;
	/* v1 (hybrid) or v2: the limit of its own cgroup, as it sees it. */
	WL_CHECK(wl_read_file("/sys/fs/cgroup/pids/pids.max", scratch, sizeof(scratch)) > 0 ||
			 wl_read_file("/sys/fs/cgroup/pids.max", scratch, sizeof(scratch)) > 0,
		 "no pids.max in /sys/fs/cgroup: %s", strerror(errno));
	scratch[strcspn(scratch, "\n")] = '\0';
	WL_CHECK(!strcmp(scratch, pids_max), "pids.max is %s, not %s", scratch, pids_max);
}

static void runc_setup(void)
{
	put("/dev/shm/segment", SHM_TEXT, 0600);
	put("/dev/devfile", TMP_TEXT, 0640);
	runc_state.shm = sysv_shm_make(KEY_SHM, 0640, 1, &runc_state.at);
	runc_state.priv = sysv_shm_make(IPC_PRIVATE, 0604, 2, NULL);
	runc_state.sem = sysv_sem_make(KEY_SEM);
	runc_state.msg = sysv_msg_make(KEY_MSG);
	creds_of(runc_state.status, sizeof(runc_state.status));
	WL_SETUP(wl_read_file("/proc/self/cgroup", runc_state.cgroups, sizeof(runc_state.cgroups)) > 0,
		 "/proc/self/cgroup");
	check_runc_given();
}

static void runc_check(void)
{
	static char now[1024];

	check_file("/dev/devfile", TMP_TEXT, 0640);
	sysv_shm_check(runc_state.shm, KEY_SHM, 0640, 1, runc_state.at);
	/* Here and in the child. */
	sysv_shm_check_nattch(runc_state.shm, 2);
	sysv_shm_check(runc_state.priv, IPC_PRIVATE, 0604, 2, NULL);
	sysv_sem_check(runc_state.sem, KEY_SEM);
	sysv_msg_check(runc_state.msg, KEY_MSG);
	check_runc_given();
	creds_of(now, sizeof(now));
	WL_CHECK(!strcmp(now, runc_state.status), "status differs:\n--- before\n%s--- now\n%s", runc_state.status, now);
	WL_CHECK(wl_read_file("/proc/self/cgroup", now, sizeof(now)) > 0 && !strcmp(now, runc_state.cgroups),
		 "cgroups differ:\n--- before\n%s--- now\n%s", runc_state.cgroups, now);
}

/* Inside the tree, run again from it, as a runtime starts a container's
 * process: its binary and stdio are the tree's, READY and RESULT in /wl. */
static void exec_inside(void)
{
	int null = open("/dev/null", O_RDWR);

	WL_SETUP(null >= 0 && dup2(null, 0) == 0 && dup2(null, 1) == 1 && dup2(null, 2) == 2, "stdio");
	WL_SETUP(syscall(SYS_close_range, 3, ~0u, 0) == 0, "close_range");
	snprintf(ready_in, sizeof(ready_in), "/wl/%s", strrchr(wl_ready_path, '/') + 1);
	snprintf(result_in, sizeof(result_in), "/wl/%s", strrchr(wl_result_path, '/') + 1);
	wl_ready_path = ready_in;
	wl_result_path = result_in;
	execl("/mntns", "/mntns", ready_in, result_in, (char *)NULL);
	wl_fail("setup: exec /mntns: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	const char *mode = getenv("MNTNS_MODE");
	bool runc = mode && !strcmp(mode, "runc");
	char self[16];
	pid_t child;
	int st;

	wl_init(argc, argv);
	WL_SETUP(getpid() == 1, "not pid 1 of a pid namespace");
	runc_mode = runc;
	if (runc) {
		runc_setup();
	} else if (strncmp(wl_result_path, "/wl/", 4)) {
		if (snprintf(root, sizeof(root), "%s/rootfs", wl_dir) >= (int)sizeof(root))
			wl_fail("setup: %s is too long", wl_dir);
		build_tree();
		exec_inside();
	}
	/* A runtime sets the host name (and drops CAP_SYS_ADMIN). */
	if (!runc)
		WL_SETUP(sethostname(HOSTNAME, strlen(HOSTNAME)) == 0, "sethostname");
	child = fork();
	WL_SETUP(child >= 0, "fork");
	if (child == 0) {
		for (;;)
			pause();
	}
	/* MNTNS_GHOST: a file of the tree's /tmp, open and removed (a ghost
	 * at restore, made and removed in the tree's mount namespace). */
	const char *ghost = getenv("MNTNS_GHOST");
	int ghost_fd = -1;
	if (ghost) {
		ghost_fd = open(ghost, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
		WL_SETUP(ghost_fd >= 0 && write(ghost_fd, "ghost\n", 6) == 6 && unlink(ghost) == 0, "ghost file");
	}
	mount_set(mounts_before, sizeof(mounts_before));
	check_masked();
	wl_ready();
	wl_wait();

	WL_CHECK(getpid() == 1, "pid %d", getpid());
	mount_set(mounts_now, sizeof(mounts_now));
	if (strcmp(mounts_before, mounts_now)) {
		static char diff[4096];
		size_t o = 0;
		lines_missing(mounts_before, mounts_now, '-', diff, sizeof(diff), &o);
		lines_missing(mounts_now, mounts_before, '+', diff, sizeof(diff), &o);
		wl_fail("mounts differ (- gone, + new):\n%s", diff);
	}
	check_file("/dev/shm/segment", SHM_TEXT, 0600);
	if (ghost_fd >= 0) {
		struct stat gst;
		WL_CHECK(fstat(ghost_fd, &gst) == 0 && gst.st_nlink == 0 && pread(ghost_fd, scratch, 6, 0) == 6 &&
				 !memcmp(scratch, "ghost\n", 6),
			 "the removed file %s is not as it was", ghost);
	}
	check_masked();
	if (runc) {
		runc_check();
	} else {
		check_file("/tmp/file", TMP_TEXT, 0640);
		check_file("/tmp/dir/inner", "inner\n", 0600);
		check_file("/tmp/link", "inner\n", 0600);
		check_file("/etc/hostname", HOSTNAME "\n", 0644);
		check_file("/etc/hosts", "127.0.0.1 ocicr-host\n", 0644);
		check_propagation();
	}
	WL_CHECK(readlink("/proc/self", self, sizeof(self)) > 0 && atoi(self) == 1,
		 "/proc is not our pid namespace's (self is %s)", self);
	WL_CHECK(gethostname(scratch, sizeof(scratch)) == 0 && !strcmp(scratch, HOSTNAME), "host name '%s'", scratch);
	WL_CHECK(kill(child, 0) == 0 && waitpid(child, &st, WNOHANG) == 0, "child %d is gone", child);
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	wl_pass();
}
