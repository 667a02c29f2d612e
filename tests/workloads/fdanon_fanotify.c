/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fanotify groups (needs CAP_SYS_ADMIN), at fixed numbers, on files under
 * ./fa (the workload's directory is its cwd):
 *
 *   10  FAN_CLASS_NOTIF, FAN_NONBLOCK, close-on-exec, marks:
 *         fa/f      FAN_OPEN | FAN_MODIFY | FAN_CLOSE_WRITE
 *         fa/       FAN_CLOSE_WRITE | FAN_EVENT_ON_CHILD
 *         fa/quiet  ignored FAN_CLOSE_WRITE, surviving modification
 *   11  FAN_CLASS_NOTIF, blocking: a mark on the mount of .
 *       (FAN_MARK_MOUNT), FAN_CLOSE_WRITE
 *   12  fa/f, open for reading (the restore opens it again: no event may
 *       come of that)
 *   13  FAN_CLASS_CONTENT, FAN_NONBLOCK: FAN_OPEN_PERM on fa/perm, which
 *       14 holds open (the restore must not wait on its own open)
 *
 * After restore: the groups' flags and marks read the same in fdinfo; no
 * event is queued in 10 or 13; writing fa/f is reported (modify and close) by 10, writing fa/loud is
 * reported through the directory's mark and fa/quiet is not; 11 reports
 * our write of fa/f through the mount mark.
 */
#include <limits.h>
#include <poll.h>
#include <sys/fanotify.h>
#include <sys/stat.h>

#include "fdanon_wl.h"

static char cwd[PATH_MAX];

static void write_file(const char *name)
{
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, "x", 1) != 1)
		wl_fail("write %s: %s", name, strerror(errno));
	close(fd);
}

/* The "fanotify" lines of fdinfo, sorted, one string. */
static void marks(int fd, char *out, size_t len)
{
	char path[64], line[512], *lines[64];
	size_t n = 0, at = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		wl_fail("open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) && n < 64)
		if (!strncmp(line, "fanotify", 8))
			lines[n++] = strdup(line);
	fclose(f);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(lines[i], lines[j]) > 0) {
				char *t = lines[i];
				lines[i] = lines[j];
				lines[j] = t;
			}
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		at += snprintf(out + at, at < len ? len - at : 0, "%s", lines[i]);
		free(lines[i]);
	}
}

/*
 * Wait up to @ms for events from us with all of @mask (in one event or
 * more) on file @name (under cwd); others (other tasks, other files) are
 * skipped.  True if seen.
 */
static bool seen(int g, const char *name, uint64_t mask, int ms)
{
	char want[PATH_MAX + 64], buf[8192] __attribute__((aligned(8)));
	long long end = wl_now_ms(CLOCK_MONOTONIC) + ms;
	uint64_t got = 0;

	snprintf(want, sizeof(want), "%s/%s", cwd, name);
	while ((got & mask) != mask) {
		long long left = end - wl_now_ms(CLOCK_MONOTONIC);
		struct pollfd p = { .fd = g, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, left) != 1)
			break;
		ssize_t n = read(g, buf, sizeof(buf));
		if (n <= 0)
			continue;
		for (struct fanotify_event_metadata *m = (void *)buf; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			char proc[64], path[PATH_MAX] = "";
			if (m->fd >= 0) {
				snprintf(proc, sizeof(proc), "/proc/self/fd/%d", m->fd);
				ssize_t l = readlink(proc, path, sizeof(path) - 1);
				path[l > 0 ? l : 0] = '\0';
				close(m->fd);
			}
			if (m->pid == getpid() && !strcmp(path, want))
				got |= m->mask;
		}
	}
	return (got & mask) == mask;
}

static void mark(int g, unsigned int flags, uint64_t mask, const char *path)
{
	if (fanotify_mark(g, FAN_MARK_ADD | flags, mask, AT_FDCWD, path) < 0)
		wl_fail("fanotify_mark %s: %s", path, strerror(errno));
}

int main(int argc, char **argv)
{
	char before10[4096], before11[4096], before13[4096], after[4096], buf[4096];

	wl_init(argc, argv);
	if (!getcwd(cwd, sizeof(cwd)))
		wl_fail("getcwd: %s", strerror(errno));
	if (mkdir("fa", 0755) < 0 && errno != EEXIST)
		wl_fail("mkdir fa: %s", strerror(errno));
	write_file("fa/f");
	write_file("fa/quiet");
	write_file("fa/loud");
	write_file("fa/perm");
	wl_at(WL_SYS(open("fa/f", O_RDONLY)), 12);
	wl_at(WL_SYS(open("fa/perm", O_RDONLY)), 14);
	int g = wl_at(WL_SYS(fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK | FAN_CLOEXEC, O_RDONLY | O_CLOEXEC)), 10);
	mark(g, 0, FAN_OPEN | FAN_MODIFY | FAN_CLOSE_WRITE, "fa/f");
	mark(g, 0, FAN_CLOSE_WRITE | FAN_EVENT_ON_CHILD, "fa");
	mark(g, FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY, FAN_CLOSE_WRITE, "fa/quiet");
	int m = wl_at(WL_SYS(fanotify_init(FAN_CLASS_NOTIF, O_RDONLY)), 11);
	mark(m, FAN_MARK_MOUNT, FAN_CLOSE_WRITE, ".");
	int p = wl_at(WL_SYS(fanotify_init(FAN_CLASS_CONTENT | FAN_NONBLOCK, O_RDONLY)), 13);
	mark(p, 0, FAN_OPEN_PERM, "fa/perm");
	marks(10, before10, sizeof(before10));
	marks(11, before11, sizeof(before11));
	marks(13, before13, sizeof(before13));

	wl_ready(argv[1]);
	wl_wait();

	WL_CHECK(fcntl(10, F_GETFL) & O_NONBLOCK, "fd 10 lost O_NONBLOCK");
	WL_CHECK(fcntl(10, F_GETFD) & FD_CLOEXEC, "fd 10 lost close-on-exec");
	WL_CHECK(!(fcntl(11, F_GETFL) & O_NONBLOCK), "fd 11 became O_NONBLOCK");
	marks(10, after, sizeof(after));
	WL_CHECK(!strcmp(after, before10), "fd 10 fdinfo:\n%swas:\n%s", after, before10);
	marks(11, after, sizeof(after));
	WL_CHECK(!strcmp(after, before11), "fd 11 fdinfo:\n%swas:\n%s", after, before11);
	marks(13, after, sizeof(after));
	WL_CHECK(!strcmp(after, before13), "fd 13 fdinfo:\n%swas:\n%s", after, before13);
	WL_CHECK(read(10, buf, sizeof(buf)) < 0 && errno == EAGAIN, "fd 10: events queued after restore");
	WL_CHECK(read(13, buf, sizeof(buf)) < 0 && errno == EAGAIN, "fd 13: events queued after restore");

	write_file("fa/f");
	WL_CHECK(seen(10, "fa/f", FAN_OPEN | FAN_MODIFY | FAN_CLOSE_WRITE, 2000), "fd 10: no events for writing fa/f");
	WL_CHECK(seen(11, "fa/f", FAN_CLOSE_WRITE, 2000), "fd 11: no event for writing fa/f (mount mark)");
	write_file("fa/quiet");
	WL_CHECK(!seen(10, "fa/quiet", FAN_CLOSE_WRITE, 200), "fd 10: fa/quiet reported (ignored mask lost)");
	write_file("fa/loud");
	WL_CHECK(seen(10, "fa/loud", FAN_CLOSE_WRITE, 2000), "fd 10: no event for fa/loud (directory mark)");
	wl_pass();
}
