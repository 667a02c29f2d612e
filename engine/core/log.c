// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "core/log.h"

static oc_log_fn log_fn;
static void *log_userdata;
static enum oc_log_level log_level = OC_LOG_WARN;

static const char *const level_names[] = {
	[OC_LOG_MSG] = "",  [OC_LOG_ERROR] = "Error: ", [OC_LOG_WARN] = "Warn: ",
	[OC_LOG_INFO] = "", [OC_LOG_DEBUG] = "",
};

void oc_set_log(oc_log_fn fn, void *userdata, enum oc_log_level level)
{
	log_fn = fn;
	log_userdata = userdata;
	log_level = level;
}

bool oc_log_enabled(enum oc_log_level level)
{
	return level <= log_level;
}

OC_API void oc_log(enum oc_log_level level, const char *fmt, ...)
{
	char raw[2048], line[2048];
	va_list ap;

	if (!oc_log_enabled(level))
		return;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	oc_escape_ctl(line, sizeof(line), raw);

	if (log_fn) {
		log_fn(level, line, log_userdata);
		return;
	}
	fprintf(stderr, "%s%s\n", level_names[level], line);
}

void oc_log_line(enum oc_log_level level, const char *line)
{
	oc_log(level, "%s", line);
}
