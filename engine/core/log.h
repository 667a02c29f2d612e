/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One replaceable log sink for the whole library.  Levels follow CRIU's -v
 * scale so `-v4` means the same to users of both tools.
 */
#ifndef OCICR_UTIL_LOG_H
#define OCICR_UTIL_LOG_H

#include "ocicr.h"
#include "core/error.h"

void oc_log(enum oc_log_level level, const char *fmt, ...) OC_PRINTF(2, 3);
bool oc_log_enabled(enum oc_log_level level);

#define pr_err(fmt, ...)   oc_log(OC_LOG_ERROR, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)  oc_log(OC_LOG_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)  oc_log(OC_LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) oc_log(OC_LOG_DEBUG, fmt, ##__VA_ARGS__)

#endif
