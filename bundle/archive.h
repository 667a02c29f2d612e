/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Checkpoint archives in the layouts container engines read and write
 * (../shared/docs/runtime-integration.md, sections 3 and 4):
 *
 *   podman      checkpoint/ spec.dump config.dump (libpod's ContainerConfig)
 *               network.status stats-dump dump.log rootfs-diff.tar
 *               deleted.files; zstd by default
 *   crio        the same with CRI-O's small config.dump, bind.mounts and
 *               the log as io.kubernetes.cri-o.LogPath; plain tar
 *   containerd  status status.dump config.dump spec.dump stats-dump
 *               container.log checkpoint/ and rootfs-diff.tar as a gzip
 *               layer with whiteouts; plain tar
 *   ocicr       (read only) a tar of an images directory, with spec.dump
 *               and config.dump beside the images if it has them
 *
 * Writing streams every member (the images are never copied whole), to a
 * file of mode 0600 created under a temporary name in the target's
 * directory and renamed over the target only once complete.
 */
#ifndef OCICR_BUNDLE_ARCHIVE_H
#define OCICR_BUNDLE_ARCHIVE_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "bundle/spec.h"

enum oci_layout {
	OCI_LAYOUT_PODMAN,
	OCI_LAYOUT_CRIO,
	OCI_LAYOUT_CONTAINERD,
	OCI_LAYOUT_OCICR,
	_OCI_LAYOUT_MAX,
	_OCI_LAYOUT_INVALID = -1,
};

enum oci_compress {
	OCI_COMPRESS_NONE,
	OCI_COMPRESS_GZIP,
	OCI_COMPRESS_ZSTD,
	_OCI_COMPRESS_MAX,
	_OCI_COMPRESS_INVALID = -1,
};

const char *oci_layout_name(enum oci_layout l);
enum oci_layout oci_layout_from_name(const char *s);
enum oci_compress oci_compress_from_name(const char *s);
/* What the layout's engine writes when not told. */
enum oci_compress oci_layout_default_compress(enum oci_layout l);

/* The member names (beside OCI_* of oci/inspect/source.h). */
#define OCI_CHECKPOINT_DIR   "checkpoint"
#define OCI_DUMP_LOG	     "dump.log"
#define OCI_CTR_LOG	     "ctr.log"
#define OCI_CRIO_LOG	     "io.kubernetes.cri-o.LogPath"
#define OCI_CONTAINERD_LOG   "container.log"
#define OCI_STATUS	     "status"
#define OCI_STATUS_DUMP	     "status.dump"
#define OCI_DESCRIPTORS_JSON "descriptors.json"

/* What one archive holds. */
struct oci_archive_in {
	enum oci_layout layout;
	enum oci_compress compress;
	const char *images_dir;	     /* -> checkpoint/ */
	const char *work_dir;	     /* dump.log and stats-dump, if there */
	const char *spec_path;	     /* the container's config.json -> spec.dump */
	const struct oci_spec *spec; /* the same, parsed (bind.mounts, network fields) */
	const char *id;
	const char *name;	/* NULL: the id */
	const char *runtime;	/* "runc", "crun" */
	const char *image_name; /* the image the root came from, or NULL */
	const char *image_id;
	const char *created; /* RFC 3339, or NULL */
	time_t checkpointed;
	pid_t pid;
	const char *rootfs_diff;  /* a rootfs-diff.tar file, or NULL */
	int rootfs_diff_fd;	  /* or an open one (-1: none) */
	const char *deleted_json; /* deleted.files text, or NULL */
	const char *log_path;	  /* the container's log, or NULL */
};

/* Write the archive @path; on failure nothing is left under @path or
 * beside it, and an archive already there is untouched. */
int oci_archive_write(const char *path, const struct oci_archive_in *in);

/* ---- reading: restore --import ---- */

struct oci_import {
	enum oci_layout layout;
	const char *compression; /* "none", "gzip", "zstd"... */
	char *images_dir;	 /* <dest>/checkpoint */
	char *meta_dir;		 /* <dest>/.import: the other members */
	bool has_spec, has_config, has_rootfs_diff, has_deleted, has_bind_mounts, has_status_dump;
	unsigned long long n_members;
};

void oci_import_fini(struct oci_import *imp);

/*
 * What an import may write (bounded extraction): the free space of the
 * destination's filesystem less a tenth of its size, which an archive
 * never fills, however small it is compressed.  Each file costs its size
 * rounded up to 4 KiB, plus 4 KiB (its inode, a directory entry).
 */
struct oci_budget {
	unsigned long long left;
	const char *where; /* for messages */
};

int oci_budget_init(struct oci_budget *b, const char *dir);
/* Take @size bytes for @member of @what; -EFBIG with a message when they are not there. */
int oci_budget_take(struct oci_budget *b, long long size, const char *what, const char *member);

/*
 * Unpack the checkpoint archive @archive into @dest (an existing, empty
 * directory): the images to <dest>/checkpoint, the metadata members to
 * <dest>/.import.  Refused, with a message naming the member: names that
 * are absolute or hold "..", members other than regular files and
 * directories (symlinks, hard links, devices), a damaged or truncated
 * archive, a layout that is no checkpoint.  On failure the caller removes
 * @dest's contents.
 */
int oci_archive_import(const char *archive, const char *dest, struct oci_import *ret);

#endif
