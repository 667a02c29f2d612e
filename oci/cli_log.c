// SPDX-License-Identifier: GPL-2.0-or-later
/* Log sinks for dump and restore: a log file in the images directory. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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
	fprintf(log_file, "(%02ld.%06ld) %s%s%s\n", (long)d.tv_sec, (long)d.tv_usec, tags[level],
		level ? ": " : "", line);
	fflush(log_file);
	/* Warnings also reach the terminal; the CLI prints the final error. */
	if (level == OC_LOG_WARN && userdata)
		fprintf(stderr, "ocicr: %s: %s\n", tags[level], line);
}

int cli_log_open(const char *images_dir, const char *name, int verbosity)
{
	char path[4096];

	gettimeofday(&log_start, NULL);
	if (!strcmp(name, "-")) {
		oc_set_log(NULL, NULL, verbosity);
		return 0;
	}
	if (name[0] == '/' || !images_dir)
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", images_dir, name);
	log_file = fopen(path, "we");
	if (!log_file) {
		fprintf(stderr, "ocicr: cannot open log file %s: %m\n", path);
		return -1;
	}
	oc_set_log(file_sink, (void *)1, verbosity);
	return 0;
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

int cli_parse_verbosity(const char *arg)
{
	if (!arg || !*arg)
		return OC_LOG_DEBUG;
	if (arg[0] >= '0' && arg[0] <= '4' && !arg[1])
		return arg[0] - '0';
	/* -vvv counts letters */
	int n = 1;
	for (const char *p = arg; *p == 'v'; p++)
		n++;
	return n > 4 ? 4 : n;
}
