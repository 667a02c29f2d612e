/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fanotify mark ocicr cannot dump: fd 10 marks the whole filesystem of
 * . (FAN_MARK_FILESYSTEM), which CRIU 4.2 images cannot hold.  The dump
 * must refuse, naming the task, the fd and its kind, and leave the task
 * running.
 *
 * On SIGUSR1 (after the failed dump): writing a file is still reported.
 */
#include <limits.h>
#include <poll.h>
#include <sys/fanotify.h>

#include "fdanon_wl.h"

int main(int argc, char **argv)
{
	char buf[4096] __attribute__((aligned(8)));

	wl_init(argc, argv);
	int g = wl_at(WL_SYS(fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY)), 10);
	WL_SYS(fanotify_mark(g, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_CLOSE_WRITE, AT_FDCWD, "."));

	wl_ready(argv[1]);
	wl_wait();

	/* Drop what queued meanwhile, then expect our own write. */
	while (read(g, buf, sizeof(buf)) > 0)
		;
	int fd = WL_SYS(open("written", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	close(fd);
	long long end = wl_now_ms(CLOCK_MONOTONIC) + 2000;
	for (;;) {
		struct pollfd p = { .fd = g, .events = POLLIN };
		long long left = end - wl_now_ms(CLOCK_MONOTONIC);
		WL_CHECK(left > 0 && poll(&p, 1, left) == 1, "no event for our write within 2 s");
		ssize_t n = read(g, buf, sizeof(buf));
		for (struct fanotify_event_metadata *m = (void *)buf; n > 0 && FAN_EVENT_OK(m, n);
		     m = FAN_EVENT_NEXT(m, n)) {
			if (m->fd >= 0)
				close(m->fd);
			if (m->pid == getpid() && (m->mask & FAN_CLOSE_WRITE))
				wl_pass();
		}
	}
}
