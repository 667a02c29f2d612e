/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bounds on what one inspection may cost.  Checkpoint archives come from
 * containers that may be compromised: a small archive must not expand into
 * gigabytes of temporary files, a JSON document into gigabytes of memory,
 * a listing into minutes.  The CLI raises the caps with options
 * (docs/inspect.md); a cap that is reached gives an error, or a note saying
 * what was left out, naming the option.
 */
#ifndef OCICR_INSPECT_LIMITS_H
#define OCICR_INSPECT_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct oci_limits {
	uint64_t max_extract;	 /* bytes written to the temporary directory, holes not counted */
	uint64_t max_json;	 /* bytes of config.dump, spec.dump, network.status... */
	unsigned max_json_depth; /* nesting of arrays and objects */
	size_t max_names;	 /* entries of the rootfs-diff.tar listing */
	unsigned time_limit_s;	 /* for the whole inspection; 0: none */
};

#define OCI_MAX_EXTRACT_DEFAULT (1ull << 30)
#define OCI_MAX_JSON_DEFAULT	(4ull << 20)
#define OCI_MAX_JSON_DEPTH	64
#define OCI_MAX_NAMES_DEFAULT	10000
#define OCI_TIME_LIMIT_DEFAULT	300

/* The caps in force (defaults until the CLI changes them). */
extern struct oci_limits oci_limits;

/* Start the clock of the time limit. */
void oci_limits_start(void);

/* -ETIME with a message once the time limit has passed, else 0. */
int oci_time_check(void);

/* Parse "512M", "2G", "4096" (bytes, K, M, G, T suffixes, powers of 1024). */
int oci_parse_size(const char *s, uint64_t *ret);

#endif
