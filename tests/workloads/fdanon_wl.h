/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The protocol of the fd_anon workloads (the same as ../shared/fixtures):
 * a workload runs as `prog READY RESULT`, sets up its state, writes
 * "ready" to READY and waits for SIGUSR1; then it checks that its state
 * survived and writes "PASS" or "FAIL: why" to RESULT, exiting 0 on PASS.
 * A workload that cannot set up writes "FAIL: ..." to RESULT and exits.
 */
#ifndef FDANON_WL_H
#define FDANON_WL_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t wl_go;
static const char *wl_result;

static void wl_on_usr1(int sig)
{
	(void)sig;
	wl_go = 1;
}

/* Write @text to @path atomically (a reader never sees half of it). */
static void wl_write(const char *path, const char *text)
{
	char tmp[4096];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		exit(3);
	if (write(fd, text, strlen(text)) < 0)
		exit(3);
	close(fd);
	rename(tmp, path);
}

static void wl_init(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = wl_on_usr1 };

	if (argc < 3) {
		fprintf(stderr, "usage: %s READY RESULT\n", argv[0]);
		exit(2);
	}
	wl_result = argv[2];
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

static void wl_ready(const char *ready)
{
	wl_write(ready, "ready\n");
}

/* Wait until SIGUSR1, waking every 10 ms. */
static void wl_wait(void)
{
	while (!wl_go)
		usleep(10000);
}

static void wl_pass(void)
{
	wl_write(wl_result, "PASS\n");
	exit(0);
}

static void __attribute__((format(printf, 1, 2), noreturn)) wl_fail(const char *fmt, ...)
{
	char why[1024], buf[1100];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(buf, sizeof(buf), "FAIL: %s\n", why);
	wl_write(wl_result, buf);
	exit(1);
}

#define WL_CHECK(cond, ...)                   \
	do {                                  \
		if (!(cond))                  \
			wl_fail(__VA_ARGS__); \
	} while (0)

/* Die on a setup step that failed, with errno's text. */
#define WL_SYS(expr)                                                                          \
	({                                                                                    \
		__typeof__(expr) _r = (expr);                                                 \
		if (_r < 0)                                                                   \
			wl_fail("%s:%d: %s: %s", __FILE__, __LINE__, #expr, strerror(errno)); \
		_r;                                                                           \
	})

/* Move @fd to number @num (closing the old one) so checks can name it. */
static __attribute__((unused)) int wl_at(int fd, int num)
{
	if (fd == num)
		return fd;
	if (dup3(fd, num, fcntl(fd, F_GETFD) & FD_CLOEXEC ? O_CLOEXEC : 0) < 0)
		wl_fail("dup3 %d -> %d: %s", fd, num, strerror(errno));
	close(fd);
	return num;
}

/* The value of "KEY:" in /proc/self/fdinfo/FD, copied to @buf ("" if none). */
static __attribute__((unused)) char *wl_fdinfo(int fd, const char *key, char *buf, size_t len)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	buf[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return buf;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') {
			char *v = line + strlen(key) + 1;
			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(buf, len, "%s", v);
			break;
		}
	fclose(f);
	return buf;
}

static __attribute__((unused)) long long wl_now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

#endif
