/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * inotify, at fixed numbers, on files under ./w (the workload's directory
 * is its cwd):
 *
 *   10  O_NONBLOCK, watches with a gap in their numbers:
 *         wd 1  w/            IN_CREATE | IN_DELETE
 *         (wd 2 on w/gone was added and removed)
 *         wd 3  w/c           IN_MODIFY | IN_OPEN
 *         wd 4  w/a           IN_OPEN | IN_ONESHOT
 *         wd 5  "w/sp ace"    IN_ATTRIB
 *   11  blocking, close-on-exec, its wd 1 on w/c IN_CLOSE_WRITE
 *         wd 2 on w/u IN_MODIFY | IN_CLOSE_WRITE: w/u was unlinked
 *   12  w/c, open for reading (the restore opens it again: no event may
 *       come of that)
 *   13  w/u, open for writing, unlinked
 *
 * After restore: no event is queued; creating w/new, writing w/c, opening
 * w/a (once: one-shot) and chmod of "w/sp ace" are reported with the same
 * wds and names; 11 sees w/c closed after writing, and the unlinked w/u
 * written and closed through fd 13; a new watch gets a
 * number none of the old ones has.
 */
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "fdanon_wl.h"

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		wl_fail("create %s: %s", path, strerror(errno));
	close(fd);
}

static int watch(int ifd, const char *path, uint32_t mask, int want)
{
	int wd = inotify_add_watch(ifd, path, mask);

	if (wd != want)
		wl_fail("setup: watch on %s got wd %d, not %d (%s)", path, wd, want, strerror(errno));
	return wd;
}

/* The next event: its wd, mask and name (empty when none). */
static void next_event(int ifd, int *wd, uint32_t *mask, char *name, size_t len, const char *what)
{
	static char buf[4096] __attribute__((aligned(8)));
	static ssize_t have, at;
	struct pollfd p = { .fd = ifd, .events = POLLIN };

	if (at >= have) {
		WL_CHECK(poll(&p, 1, 2000) == 1, "%s: no event within 2 s", what);
		have = read(ifd, buf, sizeof(buf));
		WL_CHECK(have > 0, "%s: read: %s", what, strerror(errno));
		at = 0;
	}
	struct inotify_event *ev = (struct inotify_event *)(buf + at);
	*wd = ev->wd;
	*mask = ev->mask;
	snprintf(name, len, "%s", ev->len ? ev->name : "");
	at += sizeof(*ev) + ev->len;
}

static void expect(int ifd, int wd, uint32_t mask, const char *name, const char *what)
{
	char got_name[256];
	uint32_t got_mask;
	int got_wd;

	next_event(ifd, &got_wd, &got_mask, got_name, sizeof(got_name), what);
	WL_CHECK(got_wd == wd && (got_mask & mask) == mask && !strcmp(got_name, name),
		 "%s: event wd %d mask 0x%x name \"%s\", not wd %d mask 0x%x name \"%s\"", what, got_wd, got_mask,
		 got_name, wd, mask, name);
}

static void expect_nothing(int ifd, const char *what)
{
	char buf[4096];
	ssize_t n = read(ifd, buf, sizeof(buf));

	WL_CHECK(n < 0 && errno == EAGAIN, "%s: %zd bytes of events queued", what, n);
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);
	if (mkdir("w", 0755) < 0 && errno != EEXIST)
		wl_fail("mkdir w: %s", strerror(errno));
	touch("w/a");
	touch("w/c");
	touch("w/gone");
	touch("w/sp ace");

	int i = wl_at(WL_SYS(inotify_init1(IN_NONBLOCK)), 10);
	watch(i, "w", IN_CREATE | IN_DELETE, 1);
	watch(i, "w/gone", IN_ATTRIB, 2);
	watch(i, "w/c", IN_MODIFY | IN_OPEN, 3);
	WL_SYS(inotify_rm_watch(i, 2));
	watch(i, "w/a", IN_OPEN | IN_ONESHOT, 4);
	watch(i, "w/sp ace", IN_ATTRIB, 5);
	expect(i, 2, IN_IGNORED, "", "setup: wd 2 removed");
	expect_nothing(i, "setup");
	int j = wl_at(WL_SYS(inotify_init1(IN_CLOEXEC)), 11);
	watch(j, "w/c", IN_CLOSE_WRITE, 1);
	wl_at(WL_SYS(open("w/c", O_RDONLY)), 12);
	expect(i, 3, IN_OPEN, "", "setup: w/c opened");
	touch("w/u");
	expect(i, 1, IN_CREATE, "u", "setup: w/u created");
	wl_at(WL_SYS(open("w/u", O_WRONLY)), 13);
	watch(j, "w/u", IN_MODIFY | IN_CLOSE_WRITE, 2);
	WL_SYS(unlink("w/u"));
	expect(i, 1, IN_DELETE, "u", "setup: w/u unlinked");

	wl_ready(argv[1]);
	wl_wait();

	WL_CHECK(fcntl(10, F_GETFL) & O_NONBLOCK, "fd 10 lost O_NONBLOCK");
	WL_CHECK(!(fcntl(11, F_GETFL) & O_NONBLOCK), "fd 11 became O_NONBLOCK");
	WL_CHECK(fcntl(11, F_GETFD) & FD_CLOEXEC, "fd 11 lost close-on-exec");
	expect_nothing(i, "after restore");

	touch("w/new");
	expect(i, 1, IN_CREATE, "new", "create w/new");

	int fd = WL_SYS(open("w/c", O_WRONLY | O_CLOEXEC));
	WL_SYS(write(fd, "x", 1));
	close(fd);
	expect(i, 3, IN_OPEN, "", "open w/c");
	expect(i, 3, IN_MODIFY, "", "write w/c");
	struct pollfd p = { .fd = 11, .events = POLLIN };
	WL_CHECK(poll(&p, 1, 2000) == 1, "fd 11: no event for w/c closed");
	char buf[4096];
	WL_CHECK(read(11, buf, sizeof(buf)) > 0, "fd 11: read");
	struct inotify_event *ev = (struct inotify_event *)buf;
	WL_CHECK(ev->wd == 1 && (ev->mask & IN_CLOSE_WRITE), "fd 11: wd %d mask 0x%x", ev->wd, ev->mask);

	/* The unlinked file is still watched: written and closed. */
	WL_SYS(write(13, "y", 1));
	close(13);
	uint32_t seen = 0;
	for (int k = 0; k < 2 && poll(&p, 1, 2000) == 1; k++) {
		ssize_t n = read(11, buf, sizeof(buf));
		for (ssize_t at = 0; at < n; at += sizeof(*ev) + ev->len) {
			ev = (struct inotify_event *)(buf + at);
			WL_CHECK(ev->wd == 2, "fd 11: an event of wd %d (mask 0x%x), not of the unlinked w/u", ev->wd,
				 ev->mask);
			seen |= ev->mask;
		}
		if ((seen & (IN_MODIFY | IN_CLOSE_WRITE)) == (IN_MODIFY | IN_CLOSE_WRITE))
			break;
	}
	/* (and IN_IGNORED, the inode gone with its last fd) */
	WL_CHECK((seen & ~IN_IGNORED) == (IN_MODIFY | IN_CLOSE_WRITE),
		 "fd 11: the unlinked w/u gave events 0x%x, not 0x%x", seen, IN_MODIFY | IN_CLOSE_WRITE);

	fd = WL_SYS(open("w/a", O_RDONLY | O_CLOEXEC));
	close(fd);
	expect(i, 4, IN_OPEN, "", "open w/a");
	expect(i, 4, IN_IGNORED, "", "the one-shot watch w/a ends");
	fd = WL_SYS(open("w/a", O_RDONLY | O_CLOEXEC));
	close(fd);

	WL_SYS(chmod("w/sp ace", 0600));
	expect(i, 5, IN_ATTRIB, "", "chmod \"w/sp ace\"");
	expect_nothing(i, "in the end");

	int wd = WL_SYS(inotify_add_watch(i, "w/gone", IN_ATTRIB));
	WL_CHECK(wd != 1 && wd != 3 && wd != 5, "a new watch got wd %d, which is taken", wd);
	wl_pass();
}
