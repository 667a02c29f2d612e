/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A parent and a child in cgroups the test made, each reading its own
 * limits as a task in a container does: through the paths its
 * /proc/self/cgroup shows, on a mount of each hierarchy made from inside
 * its cgroup namespace (whose root is then the mount's root).  The child
 * first enters the cgroups whose cgroup.procs files CHILD_CG (in the
 * workload's folder, optional) lists, one a line.  With THREAD_CG (v1
 * "tasks" files), a thread of the parent enters those cgroups alone and
 * checks its own view too.
 *
 * After restore both must see the same cgroups with the same limits
 * (pids.max, memory.limit_in_bytes, cpu.shares, v2's
 * cgroup.max.descendants).  With CG_ROOT ("OLD NEW") in the folder, the
 * paths that began with OLD must begin with NEW (--cgroup-root).
 */
#include <linux/mount.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "wl.h"

#define VIEW_MAX 4096

/* The limit file read for a hierarchy, NULL for none. */
static const char *limit_file(const char *name)
{
	if (!strcmp(name, "pids"))
		return "pids.max";
	if (!strcmp(name, "memory"))
		return "memory.limit_in_bytes";
	if (!strcmp(name, "cpu"))
		return "cpu.shares";
	if (!name[0])
		return "cgroup.max.descendants";
	return NULL;
}

/* A mount of hierarchy @name attached nowhere, rooted at our cgroup
 * namespace's root; -1 if it cannot be made. */
static int mount_hierarchy(const char *name)
{
	int fs = syscall(SYS_fsopen, name[0] ? "cgroup" : "cgroup2", FSOPEN_CLOEXEC);
	int mfd = -1;

	if (fs < 0)
		return -1;
	if ((!name[0] || syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, name, NULL, 0) == 0) &&
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mfd = syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
	close(fs);
	return mfd;
}

/* "NAME:PATH=LIMIT\n" for each line of our cgroup file (the process's,
 * or this thread's: /proc/thread-self/cgroup) with a limit. */
static void read_view(const char *file_name, char *out, size_t len)
{
	char cg[VIEW_MAX];
	ssize_t n = wl_read_file(file_name, cg, sizeof(cg) - 1);
	size_t o = 0;

	if (n <= 0)
		wl_fail("cannot read /proc/self/cgroup");
	cg[n] = '\0';
	out[0] = '\0';
	for (char *line = cg, *next; *line; line = next) {
		char *eol = strchr(line, '\n');
		next = eol ? eol + 1 : line + strlen(line);
		if (eol)
			*eol = '\0';
		char *name = strchr(line, ':');
		char *path = name ? strchr(name + 1, ':') : NULL;
		if (!path)
			continue;
		*path++ = '\0';
		name++;
		const char *file = limit_file(name);
		if (!file)
			continue;
		char rel[1024], value[256] = "?";
		snprintf(rel, sizeof(rel), "%s%s/%s", path[1] ? "." : "", path[1] ? path : "", file);
		int mfd = mount_hierarchy(name);
		if (mfd < 0)
			wl_fail("cannot mount the cgroup hierarchy '%s': %s", name, strerror(errno));
		int fd = openat(mfd, rel[0] == '/' ? rel + 1 : rel, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t k = read(fd, value, sizeof(value) - 1);
			value[k > 0 ? k : 0] = '\0';
			value[strcspn(value, "\n")] = '\0';
			close(fd);
		}
		close(mfd);
		o += snprintf(out + o, len - o, "%s:%s=%s\n", name, path, value);
		if (o >= len)
			wl_fail("too many cgroups");
	}
}

/* @view with every path that began with OLD beginning with NEW. */
static void rebase_view(char *view, size_t len, const char *old, const char *new)
{
	char out[VIEW_MAX];
	size_t o = 0, lo = strlen(old);

	for (char *line = view, *next; *line; line = next) {
		char *eol = strchr(line, '\n');
		next = eol ? eol + 1 : line + strlen(line);
		char *path = strchr(line, ':');
		if (path && !strncmp(path + 1, old, lo) && (path[1 + lo] == '/' || path[1 + lo] == '='))
			o += snprintf(out + o, sizeof(out) - o, "%.*s:%s%.*s", (int)(path - line), line, new,
				      (int)(next - path - 1 - lo), path + 1 + lo);
		else
			o += snprintf(out + o, sizeof(out) - o, "%.*s", (int)(next - line), line);
	}
	snprintf(view, len, "%s", out);
}

/* Our view now must be @before (moved by CG_ROOT, if given); else a
 * message saying how it differs. */
static const char *check_view(const char *file_name, char *before, const char *who)
{
	static char msg[3 * VIEW_MAX];
	char now[VIEW_MAX], cfg[1024], path[PATH_MAX], old[512], new[512];

	wl_path(path, sizeof(path), "CG_ROOT");
	ssize_t n = wl_read_file(path, cfg, sizeof(cfg) - 1);
	if (n > 0) {
		cfg[n] = '\0';
		if (sscanf(cfg, "%511s %511s", old, new) != 2)
			wl_fail("bad CG_ROOT: %s", cfg);
		rebase_view(before, VIEW_MAX, old, new);
	}
	read_view(file_name, now, sizeof(now));
	if (!strcmp(now, before))
		return NULL;
	snprintf(msg, sizeof(msg), "%s sees other cgroups or limits: before [%s] now [%s]", who, before, now);
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return msg;
}

/* Write "0" (ourselves) into each file @name lists; false if none. */
static bool enter_cgroups(const char *name)
{
	char path[PATH_MAX], list[4096];

	wl_path(path, sizeof(path), name);
	ssize_t n = wl_read_file(path, list, sizeof(list) - 1);
	if (n <= 0)
		return false;
	list[n] = '\0';
	for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
		int fd = open(line, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			wl_fail("setup: cannot enter %s: %s", line, strerror(errno));
		close(fd);
	}
	return true;
}

static volatile int thread_state; /* 1 ready, 2 go, 3 checked */
static const char *thread_why;

static void *cgroup_thread(void *arg)
{
	static char thread_view[VIEW_MAX];

	(void)arg;
	enter_cgroups("THREAD_CG");
	read_view("/proc/thread-self/cgroup", thread_view, sizeof(thread_view));
	thread_state = 1;
	while (thread_state != 2)
		wl_sleep_us(1000);
	thread_why = check_view("/proc/thread-self/cgroup", thread_view, "the thread");
	thread_state = 3;
	return NULL;
}

int main(int argc, char **argv)
{
	static char view[VIEW_MAX], child_view[VIEW_MAX];
	int to_child[2], from_child[2];

	wl_init(argc, argv);
	WL_SETUP(pipe(to_child) == 0 && pipe(from_child) == 0, "pipes");
	pid_t child = fork();
	WL_SETUP(child >= 0, "fork");
	if (child == 0) {
		char go;
		enter_cgroups("CHILD_CG");
		read_view("/proc/self/cgroup", child_view, sizeof(child_view));
		if (write(from_child[1], "r", 1) != 1)
			_exit(3);
		while (read(to_child[0], &go, 1) < 0 && errno == EINTR)
			;
		const char *why = check_view("/proc/self/cgroup", child_view, "the child");
		if (write(from_child[1], why ? why : "P", why ? strlen(why) : 1) < 0)
			_exit(3);
		_exit(0);
	}
	char ready;
	WL_SETUP(read(from_child[0], &ready, 1) == 1, "the child's start");
	read_view("/proc/self/cgroup", view, sizeof(view));
	char thread_cg[PATH_MAX];
	pthread_t th;
	wl_path(thread_cg, sizeof(thread_cg), "THREAD_CG");
	bool with_thread = access(thread_cg, F_OK) == 0;
	if (with_thread) {
		WL_SETUP(pthread_create(&th, NULL, cgroup_thread, NULL) == 0, "thread");
		while (thread_state != 1)
			wl_sleep_us(1000);
	}
	wl_ready();
	wl_wait();

	const char *why = check_view("/proc/self/cgroup", view, "the parent");
	WL_CHECK(!why, "%s", why);
	if (with_thread) {
		thread_state = 2;
		while (thread_state != 3)
			wl_sleep_us(1000);
		WL_CHECK(!thread_why, "%s", thread_why);
	}
	WL_CHECK(write(to_child[1], "g", 1) == 1, "cannot wake the child");
	static char answer[3 * VIEW_MAX];
	ssize_t n;
	while ((n = read(from_child[0], answer, sizeof(answer) - 1)) < 0 && errno == EINTR)
		;
	WL_CHECK(n > 0, "no answer from the child");
	answer[n] = '\0';
	WL_CHECK(!strcmp(answer, "P"), "%s", answer);
	waitpid(child, NULL, 0);
	wl_pass();
}
