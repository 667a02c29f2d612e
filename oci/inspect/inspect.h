/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Forensic inspection of checkpoints: what `ocicr inspect` and `ocicr diff`
 * call.  Each entry point opens its targets (archives are unpacked into a
 * private temporary directory and removed afterwards), writes its report to
 * opts->out and returns 0, or a negative errno with a message
 * (oc_error_message()).  The JSON output is described in docs/inspect.md.
 */
#ifndef OCICR_INSPECT_INSPECT_H
#define OCICR_INSPECT_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

enum oci_format {
	OCI_FORMAT_TEXT,
	OCI_FORMAT_JSON,
	_OCI_FORMAT_MAX,
	_OCI_FORMAT_INVALID = -1,
};

/* Parse "text" or "json". */
enum oci_format oci_format_from_string(const char *s);

/* What a report shows besides the container's identity. */
enum {
	OCI_SHOW_PS_TREE = 1u << 0,  /* processes with pids and comm */
	OCI_SHOW_CMDLINE = 1u << 1,  /* argv, from memory */
	OCI_SHOW_ENV = 1u << 2,	     /* environment, from memory */
	OCI_SHOW_FILES = 1u << 3,    /* open files, cwd, root, executable */
	OCI_SHOW_SOCKETS = 1u << 4,  /* sockets */
	OCI_SHOW_MOUNTS = 1u << 5,   /* mounts (spec.dump, else the images) */
	OCI_SHOW_STATS = 1u << 6,    /* dump statistics, memory sizes */
	OCI_SHOW_METADATA = 1u << 7, /* annotations, archive layout, rootfs changes */
	OCI_SHOW_ALL = (1u << 8) - 1,
};

struct oci_inspect_opts {
	size_t sz;
	const char *target;
	unsigned show; /* OCI_SHOW_*; the process tree is shown when 0 */
	enum oci_format format;
	FILE *out;
};

int oci_inspect(const struct oci_inspect_opts *opts);

struct oci_memory_opts {
	size_t sz;
	const char *target;
	pid_t pid;
	const char *search;	  /* a string to find, or NULL */
	const char *search_regex; /* an extended regex to find, or NULL */
	size_t context;		  /* bytes shown around each match */
	const char *output;	  /* write the dump here instead of opts->out */
	bool raw;		  /* the dump as raw bytes (needs output); the map goes to out */
	enum oci_format format;
	FILE *out;
};

/* Dump or search one process's memory (checkpointctl memparse). */
int oci_inspect_memory(const struct oci_memory_opts *opts);

struct oci_diff_opts {
	size_t sz;
	const char *a, *b;
	enum oci_format format;
	FILE *out;
};

/* What changed from checkpoint @a to checkpoint @b. */
int oci_diff(const struct oci_diff_opts *opts);

/* Remove the temporary directories of inspections in progress (async-signal safe). */
void oci_inspect_emergency_cleanup(void);

#endif
