/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Error convention (docs/error-handling.md):
 *
 *  - Library functions return 0 (or a count) on success and a negative errno
 *    on failure.  They never exit and never print.
 *  - The function that first detects a failure describes it once with
 *    oc_error() / oc_error_errno(), which store the message in a
 *    thread-local slot and return the code, so the idiom is
 *
 *	return oc_error(-EINVAL, "%s: bad magic 0x%08x", name, magic);
 *
 *  - Callers on the way up may add context with oc_error_wrap(), which
 *    prefixes the stored message ("restoring task 42: core-42.img: ...").
 *  - The CLI prints oc_error_message() once, at the top.
 */
#ifndef OCICR_UTIL_ERROR_H
#define OCICR_UTIL_ERROR_H

#include <errno.h>
#include <stddef.h>

#include "ocicr.h" /* oc_error_message(), public */

#define OC_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Record a message for @err (a negative errno) and return @err. */
int oc_error(int err, const char *fmt, ...) OC_PRINTF(2, 3);

/* Like oc_error(), appending ": strerror(-err)". */
int oc_error_errno(int err, const char *fmt, ...) OC_PRINTF(2, 3);

/*
 * Prefix the stored message with context and return @err.  If nothing was
 * recorded yet, the message becomes "context: strerror(-err)".
 */
int oc_error_wrap(int err, const char *fmt, ...) OC_PRINTF(2, 3);

/*
 * Copy @src to @dst (NUL-terminated, at most @size bytes) with control
 * characters (C0, DEL, C1) and invalid UTF-8 written as \n, \t, \r,
 * \xHH or \u00HH, so a name from an image cannot forge a log line or
 * drive a terminal.  Every message and log line goes through it.  Returns
 * the length written.
 */
size_t oc_escape_ctl(char *dst, size_t size, const char *src);

#endif
