/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libocicr: the public interface of the ocicr checkpoint/restore engine.
 *
 * Every function returns 0 (or a non-negative count) on success and a
 * negative errno on failure; oc_error_message() then describes the failure.
 * The library never prints on its own: log lines go to the sink set with
 * oc_set_log() (stderr by default).
 */
#ifndef OCICR_H
#define OCICR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OC_API __attribute__((visibility("default")))

/* CRIU's -v scale: -v0 .. -v4. */
enum oc_log_level {
	OC_LOG_MSG = 0,
	OC_LOG_ERROR = 1,
	OC_LOG_WARN = 2,
	OC_LOG_INFO = 3,
	OC_LOG_DEBUG = 4,
};

/* Called once per log line (no trailing newline); must not call back into
 * the library. */
typedef void (*oc_log_fn)(enum oc_log_level level, const char *line, void *userdata);

OC_API void oc_set_log(oc_log_fn fn, void *userdata, enum oc_log_level level);

/* Description of the last failure in this thread. */
OC_API const char *oc_error_message(void);

OC_API const char *oc_version(void);

/* ---- images: crit's job, built in ---------------------------------- */

enum oc_json_flags {
	OC_JSON_PRETTY = 1 << 0, /* crit --pretty: hex, flag names, indentation */
	OC_JSON_NOPAYLOAD = 1 << 1, /* summarise raw payloads instead of base64 */
};

/* Decode one image file to crit-compatible JSON written to @out. */
OC_API int oc_image_decode(const char *path, FILE *out, unsigned flags);

/* Encode crit-style JSON read from @in into the image file @path. */
OC_API int oc_image_encode(FILE *in, const char *path);

/* Print a human summary of an image directory. */
OC_API int oc_image_show(const char *dir, FILE *out);

#ifdef __cplusplus
}
#endif

#endif
