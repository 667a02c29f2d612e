// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Time namespace: the monotonic and boot-time clocks as the tree sees them
 * (timens-ID.img, CRIU's TimensEntry).
 *
 * Dump: ocicr's clocks plus the offsets of the tree's namespace
 * (/proc/PID/timens_offsets), read together.
 *
 * Restore: a new time namespace whose offsets make its clocks go on from
 * the saved values.  Offsets can be set only before a task enters, so a
 * short-lived child unshares it (for its children), sets them, and the
 * root is cloned into it as into a namespace given with --join-ns.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "res/dump.h"
#include "res/restore.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"
#include "proc/proc.h"

#include "timens.pb-c.h"

#define NSEC_PER_SEC ((int64_t)1000000000)

static int64_t ts_ns(const struct timespec *ts)
{
	return ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

/* The offsets of @pid's time namespace, in nanoseconds. */
static int read_offsets(pid_t pid, int64_t *ret_mono, int64_t *ret_boot)
{
	_cleanup_free_ char *text = NULL;
	char *save = NULL;
	int r = oc_proc_read(pid, "timens_offsets", &text, NULL);

	if (r < 0)
		return r;
	*ret_mono = *ret_boot = 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[32];
		long long sec;
		long nsec;
		if (sscanf(l, "%31s %lld %ld", name, &sec, &nsec) != 3)
			return oc_error(-EINVAL, "/proc/%d/timens_offsets: cannot parse '%s'", pid, l);
		if (!strcmp(name, "monotonic"))
			*ret_mono = sec * NSEC_PER_SEC + nsec;
		else if (!strcmp(name, "boottime"))
			*ret_boot = sec * NSEC_PER_SEC + nsec;
	}
	return 0;
}

static void set_ts(Timespec *t, int64_t ns)
{
	t->tv_sec = (uint64_t)(ns / NSEC_PER_SEC);
	t->tv_nsec = (uint64_t)(ns % NSEC_PER_SEC);
}

static int time_dump(struct oc_dump_ctx *ctx, uint32_t id)
{
	TimensEntry e = TIMENS_ENTRY__INIT;
	Timespec mono = TIMESPEC__INIT, boot = TIMESPEC__INIT;
	struct timespec m, b;
	int64_t mono_off, boot_off;
	int r = read_offsets(ctx->tasks[0].pid, &mono_off, &boot_off);

	if (r < 0)
		return r;
	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_BOOTTIME, &b);
	set_ts(&mono, ts_ns(&m) + mono_off);
	set_ts(&boot, ts_ns(&b) + boot_off);
	e.monotonic = &mono;
	e.boottime = &boot;
	return oc_img_write_one(ctx->dir, OC_IMG_TIMENS, id, &e.base);
}

/* In a child: a time namespace for its children with the offsets that
 * make its clocks read @e's now; then wait to be killed. */
static __attribute__((noreturn)) void make_timens(const TimensEntry *e, int ready_fd)
{
	struct timespec m, b;
	char buf[128];

	if (unshare(CLONE_NEWTIME) < 0)
		_exit(1);
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_BOOTTIME, &b);
	int64_t mono = (int64_t)(e->monotonic->tv_sec * NSEC_PER_SEC + e->monotonic->tv_nsec) - ts_ns(&m);
	int64_t boot = (int64_t)(e->boottime->tv_sec * NSEC_PER_SEC + e->boottime->tv_nsec) - ts_ns(&b);
	/* Floor division, so the nanoseconds stay in 0..1e9-1. */
	int64_t ms = mono / NSEC_PER_SEC - (mono % NSEC_PER_SEC < 0),
		bs = boot / NSEC_PER_SEC - (boot % NSEC_PER_SEC < 0);
	int n = snprintf(buf, sizeof(buf), "%d %" PRId64 " %" PRId64 "\n%d %" PRId64 " %" PRId64 "\n", CLOCK_MONOTONIC,
			 ms, mono - ms * NSEC_PER_SEC, CLOCK_BOOTTIME, bs, boot - bs * NSEC_PER_SEC);
	if (fd < 0 || write(fd, buf, n) != n)
		_exit(2);
	if (oc_rst_send_byte(ready_fd, OC_MSG_HELPER_READY) < 0)
		_exit(3);
	for (;;)
		pause();
}

/* The namespace (its fd) whose clocks read @e's from now on. */
static int new_timens(const TimensEntry *e, int *ret_fd)
{
	int ready[2], st;
	char path[64];

	if (pipe2(ready, O_CLOEXEC) < 0)
		return oc_error_errno(-errno, "pipe2");
	pid_t pid = fork();
	if (pid == 0) {
		close(ready[0]);
		make_timens(e, ready[1]);
	}
	close(ready[1]);
	int n = pid > 0 && oc_rst_recv_byte(ready[0], OC_MSG_HELPER_READY) == 0 ? 1 : -1;
	close(ready[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/time_for_children", pid);
	int fd = n == 1 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	int err = pid < 0 ? -errno : n != 1 ? -EIO : -errno;
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (fd < 0)
		return oc_error_errno(err, "cannot make a time namespace with its clocks");
	*ret_fd = fd;
	return 0;
}

static int time_load(struct oc_rst_ctx *ctx, uint32_t id, void **ret_state)
{
	ProtobufCMessage *m;
	int r;

	(void)ret_state;
	r = oc_img_read_one(ctx->dir, OC_IMG_TIMENS, id, &m);
	if (r < 0)
		return r;
	const TimensEntry *e = (const TimensEntry *)m;
	if (!e->monotonic || !e->boottime)
		r = oc_error(-EINVAL, "timens-%u.img: no monotonic or boot-time clock", id);
	else
		r = new_timens(e, &ctx->ns->join_fd[OC_NS_TIME]);
	if (r >= 0)
		pr_info("time namespace %u: monotonic %" PRIu64 ".%09" PRIu64 " s, boot time %" PRIu64 ".%09" PRIu64
			" s; the root is cloned into it as into one given to join",
			id, e->monotonic->tv_sec, e->monotonic->tv_nsec, e->boottime->tv_sec, e->boottime->tv_nsec);
	protobuf_c_message_free_unpacked(m, NULL);
	return r < 0 ? oc_error_wrap(r, "timens-%u.img", id) : 0;
}

const struct oc_ns_ops oc_ns_time_ops = {
	.dump = time_dump,
	.dump_outside = true,
	.load = time_load,
	.task_made = true,
};
