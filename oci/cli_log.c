// SPDX-License-Identifier: GPL-2.0-or-later
/* Log sinks for dump and restore: a log file in the images directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ocicr.h"
#include "oci/cli.h"

static FILE *log_file;
static struct timeval log_start;

static void file_sink(enum oc_log_level level, const char *line, void *userdata)
{
	static const char *const tags[] = { "", "Error", "Warn", "Info", "Debug" };
	struct timeval now, d;

	gettimeofday(&now, NULL);
	timersub(&now, &log_start, &d);
	fprintf(log_file, "(%02ld.%06ld) %s%s%s\n", (long)d.tv_sec, (long)d.tv_usec, tags[level], level ? ": " : "",
		line);
	fflush(log_file);
	/* Warnings also reach the terminal; the CLI prints the final error. */
	if (level == OC_LOG_WARN && userdata)
		fprintf(stderr, "ocicr: %s: %s\n", tags[level], line);
}

int cli_log_open(const char *images_dir, const struct cli_log_opts *lo)
{
	const char *name = lo->name;
	char path[4096];

	gettimeofday(&log_start, NULL);
	if (!strcmp(name, "-")) {
		oc_set_log(NULL, NULL, lo->verbosity);
		return 0;
	}
	if (name[0] == '/' || !images_dir)
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", images_dir, name);
	/* A fresh 0600 file, never through a symlink someone planted in a
	 * shared images directory; but a pipe or terminal of our own that
	 * stands there is where the caller wants the log (it holds no file
	 * to overwrite). */
	struct stat st;
	int fd;
	if (lstat(path, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) && st.st_uid == geteuid()) {
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			fd = oc_error_errno(-errno, "%s: cannot open", path);
	} else {
		fd = oc_create_private_file(path, true);
	}
	log_file = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!log_file) {
		fprintf(stderr, "ocicr: cannot open log file: %s\n", fd < 0 ? oc_error_message() : strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	oc_set_log(file_sink, lo->quiet ? NULL : (void *)1, lo->verbosity);
	return 0;
}

int cli_log_fd(void)
{
	return log_file ? fileno(log_file) : -1;
}

int cli_log_close(int r)
{
	if (r < 0)
		oc_log_line(OC_LOG_ERROR, oc_error_message());
	if (log_file)
		fclose(log_file);
	log_file = NULL;
	oc_set_log(NULL, NULL, OC_LOG_WARN);
	return r;
}

/* The level after a -v option: a digit (-v3) sets it, and as with CRIU
 * each letter of -v, -vv... raises @level by one; -1 for anything else. */
static int parse_verbosity(const char *arg, int level)
{
	size_t n = arg ? strspn(arg, "v") : 0;

	if (arg && arg[0] >= '0' && arg[0] <= '4' && !arg[1])
		return arg[0] - '0';
	if (arg && arg[n])
		return -1;
	level += (int)n + 1;
	return level > OC_LOG_DEBUG ? OC_LOG_DEBUG : level;
}

int cli_log_option(struct cli_log_opts *lo, const char *cmd, int c, const char *arg)
{
	switch (c) {
	case 'o':
		lo->name = arg;
		return 1;
	case 'v':
		lo->verbosity = parse_verbosity(arg, lo->verbosity);
		if (lo->verbosity < 0) {
			cli_usage_error(cmd, "-v: '%s' is not a level (0 to 4, or more v's)", arg);
			return -EINVAL;
		}
		return 1;
	default:
		return 0;
	}
}
