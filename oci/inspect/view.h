/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A checkpoint opened for a report: where it came from, its metadata, its processes. */
#ifndef OCICR_INSPECT_VIEW_H
#define OCICR_INSPECT_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "oci/inspect/meta.h"
#include "oci/inspect/model.h"
#include "oci/inspect/source.h"

struct oci_view {
	struct oci_source *src;
	struct oci_meta *meta;
	struct oc_ckpt *ckpt;
};

struct oci_view_opts {
	size_t sz;
	bool memory;	  /* read argv and env (from the pages images) */
	pid_t pages_pid;  /* extract all pages of this process (--memory), or 0 */
	bool rootfs_list; /* list rootfs-diff.tar */
};

int oci_view_open(const char *target, const struct oci_view_opts *opts, struct oci_view *ret_view);
void oci_view_close(struct oci_view *v);

/* "77.8 KiB" */
void oci_fmt_size(uint64_t bytes, char *buf, size_t size);

/* argv as a shell would read it back: words with odd characters in '...'. */
char *oci_join_argv(char *const *argv, size_t n);

/* What the source is, in words: "podman archive (zstd)", "images directory". */
void oci_describe_source(const struct oci_view *v, char *buf, size_t size);

struct ij_writer;
/*
 * One open file as a JSON object: fd, type, path, flags, pos (null where the
 * image has none), [size,] cloexec.  Diffs leave size out: it is not compared.
 */
void oci_json_fd(struct ij_writer *w, const struct oc_ckpt_fd *f, bool with_size);

#endif
