/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The self-check protocol of the integration workloads.
 *
 * Every workload is started as `NAME READY RESULT`.  It builds the state
 * it is about to be checked on, then calls wl_ready(), which puts "ready"
 * into the file READY.  The test checkpoints and restores it and sends
 * SIGUSR1; wl_wait() returns once that signal came.  The workload then
 * checks that its state is what it built and ends with wl_pass() ("PASS"
 * in RESULT, exit 0) or with the first failed WL_CHECK() ("FAIL: what",
 * exit 1).  Files land under their final names with rename(), so a test
 * polling for them never sees half of one.
 *
 * Everything here avoids malloc and stdio streams: a workload that
 * compares its memory layout before and after must not grow its heap
 * while checking.
 */
#ifndef OCICR_TESTS_WL_H
#define OCICR_TESTS_WL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *wl_ready_path;
static const char *wl_result_path;
static char wl_dir[PATH_MAX]; /* folder of RESULT: scratch files go here */
static volatile sig_atomic_t wl_usr1_seen;

static inline void wl_on_usr1(int sig)
{
	(void)sig;
	wl_usr1_seen = 1;
}

/* Write @len bytes of @text to @path through a temporary name. */
static inline void wl_put_file(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX + 8];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.part", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		_exit(3);
	while (len) {
		ssize_t n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(3);
		text += n;
		len -= n;
	}
	close(fd);
	if (rename(tmp, path) < 0)
		_exit(3);
}

static inline __attribute__((noreturn, format(printf, 1, 2))) void wl_fail(const char *fmt, ...)
{
	char msg[1024];
	int n = snprintf(msg, sizeof(msg), "FAIL: ");
	va_list ap;

	va_start(ap, fmt);
	n += vsnprintf(msg + n, sizeof(msg) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(msg) - 2)
		n = sizeof(msg) - 2;
	msg[n++] = '\n';
	wl_put_file(wl_result_path, msg, n);
	_exit(1);
}

static inline __attribute__((noreturn)) void wl_pass(void)
{
	wl_put_file(wl_result_path, "PASS\n", 5);
	_exit(0);
}

/* The first failed check ends the workload, naming what was wrong. */
#define WL_CHECK(cond, ...)                   \
	do {                                  \
		if (!(cond))                  \
			wl_fail(__VA_ARGS__); \
	} while (0)

/* Set-up steps that must work, or the workload cannot be checked at all. */
#define WL_SETUP(cond, what)                                                                 \
	do {                                                                                 \
		if (!(cond))                                                                 \
			wl_fail("setup: %s: %s (line %d)", what, strerror(errno), __LINE__); \
	} while (0)

/* Take the command line and catch SIGUSR1; call first. */
static inline void wl_init(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = wl_on_usr1 };
	char *slash;

	if (argc != 3) {
		fprintf(stderr, "usage: %s READY RESULT\n", argv[0]);
		exit(2);
	}
	wl_ready_path = argv[1];
	wl_result_path = argv[2];
	snprintf(wl_dir, sizeof(wl_dir), "%s", wl_result_path);
	slash = strrchr(wl_dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(wl_dir, sizeof(wl_dir), ".");
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		exit(3);
}

/* A scratch file name inside the workload's folder. */
static inline void wl_path(char *buf, size_t len, const char *name)
{
	if (snprintf(buf, len, "%s/%s", wl_dir, name) >= (int)len)
		wl_fail("setup: path of %s too long", name);
}

static inline void wl_ready(void)
{
	wl_put_file(wl_ready_path, "ready\n", 6);
}

static inline void wl_sleep_us(long us)
{
	struct timespec left = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

/* Wait for SIGUSR1, running @tick (if any) every 10 ms meanwhile. */
static inline void wl_wait_tick(void (*tick)(void))
{
	while (!wl_usr1_seen) {
		if (tick)
			tick();
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static inline void wl_wait(void)
{
	wl_wait_tick(NULL);
}

static inline uint64_t wl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

/* Poll @cond (an expression) for up to @ms milliseconds. */
#define WL_WAIT_FOR(cond, ms)                                 \
	({                                                    \
		uint64_t _end = wl_now_ms() + (ms);           \
		bool _ok;                                     \
		while (!(_ok = (cond)) && wl_now_ms() < _end) \
			wl_sleep_us(1000);                    \
		_ok;                                          \
	})

/* Write the number @v to a /proc file such as /proc/self/loginuid (one
 * write, as the kernel wants it); -1 on error. */
static inline int wl_write_u32_file(const char *path, uint32_t v)
{
	char text[16];
	int len = snprintf(text, sizeof(text), "%u", v);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int ok = fd >= 0 && write(fd, text, len) == len;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* Read a whole small file into @buf (NUL-terminated); -1 on error. */
static inline ssize_t wl_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done + 1 < len) {
		ssize_t n = read(fd, buf + done, len - 1 - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		done += n;
	}
	close(fd);
	buf[done] = '\0';
	return done;
}

/* The state letter in /proc/PID/stat ('?' if unreadable); its parent's pid
 * in *ret_ppid when that is not NULL. */
static inline char wl_proc_state(pid_t pid, pid_t *ret_ppid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (wl_read_file(path, buf, sizeof(buf)) <= 0)
		return '?';
	char *p = strrchr(buf, ')');
	char state = '?';
	int ppid = 0;
	if (!p || sscanf(p + 2, "%c %d", &state, &ppid) != 2)
		return '?';
	if (ret_ppid)
		*ret_ppid = ppid;
	return state;
}

/* A byte pattern that differs per region (@seed) and per position. */
static inline uint8_t wl_pattern(uint64_t seed, uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ seed * 0xbf58476d1ce4e5b9ull;

	return (uint8_t)(x >> 29 ^ x >> 47);
}

static inline void wl_fill(void *p, size_t len, uint64_t seed)
{
	uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		b[i] = wl_pattern(seed, i);
}

/* Offset of the first byte that differs from the pattern, or -1. */
static inline ssize_t wl_mismatch(const void *p, size_t len, uint64_t seed)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i] != wl_pattern(seed, i))
			return i;
	return -1;
}

#endif
