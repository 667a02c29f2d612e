/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Protocol of the self-checking fdsock_* workloads:
 *
 *	prog READY RESULT
 *
 * The workload sets its state up, writes "ready" to the file READY and
 * waits for SIGUSR1.  It is checkpointed and restored meanwhile; on the
 * signal it checks its state and writes "PASS" or "FAIL: why" to RESULT,
 * then exits 0 or 1.  Children report to their parent, which writes the
 * result for the tree.
 */
#ifndef FDSOCK_WL_H
#define FDSOCK_WL_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *wl_result_path;
static char wl_why[1024];

static inline void wl_write_file(const char *path, const char *text)
{
	char tmp[4096];
	int fd;

	/* Whole or not at all: the test polls for the file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		_exit(3);
	if (write(fd, text, strlen(text)) < 0 || close(fd) < 0 || rename(tmp, path) < 0)
		_exit(3);
}

/* Record the first failure (the rest are usually its consequences). */
static inline void __attribute__((format(printf, 1, 2))) wl_fail(const char *fmt, ...)
{
	va_list ap;

	if (wl_why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(wl_why, sizeof(wl_why), fmt, ap);
	va_end(ap);
}

#define WL_CHECK(cond, ...)                   \
	do {                                  \
		if (!(cond))                  \
			wl_fail(__VA_ARGS__); \
	} while (0)

/* Setup that cannot go on: report and stop. */
#define WL_SETUP(cond, what)                                                                      \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			char _b[1200];                                                            \
			snprintf(_b, sizeof(_b), "FAIL: setup: %s: %s\n", what, strerror(errno)); \
			wl_write_file(wl_result_path, _b);                                        \
			exit(2);                                                                  \
		}                                                                                 \
	} while (0)

static inline void wl_init(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s READY RESULT\n", argv[0]);
		exit(2);
	}
	wl_result_path = argv[2];
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL); /* inherited by children */
}

/* Block until SIGUSR1 (blocked since wl_init). */
static inline void wl_wait_usr1(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	while (sigwait(&set, &sig) != 0 || sig != SIGUSR1)
		;
}

static inline void wl_ready(char **argv)
{
	wl_write_file(argv[1], "ready\n");
}

/* Write the verdict; returns the exit status. */
static inline int wl_finish(void)
{
	char buf[1200];

	if (wl_why[0])
		snprintf(buf, sizeof(buf), "FAIL: %s\n", wl_why);
	else
		snprintf(buf, sizeof(buf), "PASS\n");
	wl_write_file(wl_result_path, buf);
	return wl_why[0] ? 1 : 0;
}

/* A child's verdict travels as its exit status: 0 for pass. */
static inline void wl_child_exit(void)
{
	if (wl_why[0])
		fprintf(stderr, "child %d: %s\n", getpid(), wl_why);
	_exit(wl_why[0] ? 1 : 0);
}

/* Signal @child, wait for it, and fold its verdict into ours. */
static inline void wl_check_child(pid_t child, const char *name)
{
	int st;

	kill(child, SIGUSR1);
	if (waitpid(child, &st, 0) != child)
		wl_fail("%s: waitpid: %s", name, strerror(errno));
	else if (!WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("%s (pid %d) found its state wrong (status 0x%x; see its stderr)", name, child, st);
}

/* Read exactly @len bytes (or fail the check) from @fd. */
static inline bool wl_read_all(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n <= 0)
			return false;
		done += n;
	}
	return true;
}

static inline bool wl_write_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n <= 0)
			return false;
		done += n;
	}
	return true;
}

#endif
