// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

#define ERROR_MSG_MAX 4096

static __thread char error_msg[ERROR_MSG_MAX];

static void error_vset(int err, bool with_errno, const char *fmt, va_list ap)
{
	int n = vsnprintf(error_msg, sizeof(error_msg), fmt, ap);

	if (with_errno && n >= 0 && (size_t)n < sizeof(error_msg))
		snprintf(error_msg + n, sizeof(error_msg) - n, ": %s", strerror(-err));
}

OC_API int oc_error(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, false, fmt, ap);
	va_end(ap);
	return err;
}

OC_API int oc_error_errno(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(err, true, fmt, ap);
	va_end(ap);
	return err;
}

OC_API int oc_error_wrap(int err, const char *fmt, ...)
{
	char prev[ERROR_MSG_MAX];
	va_list ap;

	if (error_msg[0])
		memcpy(prev, error_msg, sizeof(prev));
	else
		snprintf(prev, sizeof(prev), "%s", strerror(-err));

	va_start(ap, fmt);
	int n = vsnprintf(error_msg, sizeof(error_msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(error_msg))
		snprintf(error_msg + n, sizeof(error_msg) - n, ": %s", prev);
	return err;
}

OC_API const char *oc_error_message(void)
{
	return error_msg;
}

void oc_error_clear(void)
{
	error_msg[0] = '\0';
}
