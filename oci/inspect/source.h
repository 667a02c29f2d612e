/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What `ocicr inspect` looks at: a checkpoint archive (podman --export,
 * CRI-O/kubelet, a tar of an images directory; plain, gzip or zstd; a file,
 * a pipe, or "-" for standard input), an unpacked checkpoint directory or
 * an images directory.  The kind is found from the content, never from the
 * name.
 *
 * An archive is read once, member by member (libarchive, streaming).  Only
 * the members an inspection needs are written, to a private directory made
 * with mkdtemp(); a member whose name is absolute or has a ".." component
 * makes the whole archive refused.  Pages images are extracted only when
 * memory is read, and then only the bytes that are read: for argv and the
 * environment, the few pages that hold them (the rest of the file is a
 * hole), for --memory the pages of that one process.  That works because
 * a checkpoint archive lists mm-PID.img and pagemap-PID.img before
 * pages-N.img (they sort first); in an archive where they do not, the pages
 * images are extracted whole.  Nothing loads them whole into memory.
 */
#ifndef OCICR_INSPECT_SOURCE_H
#define OCICR_INSPECT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

enum oci_target_kind {
	OCI_TARGET_ARCHIVE,	   /* a tar, maybe compressed */
	OCI_TARGET_CHECKPOINT_DIR, /* checkpoint/ + config.dump + spec.dump */
	OCI_TARGET_IMAGES_DIR,	   /* CRIU images, inventory.img at the top */
	_OCI_TARGET_KIND_MAX,
	_OCI_TARGET_KIND_INVALID = -1,
};

const char *oci_target_kind_name(enum oci_target_kind kind);

/* Which bytes of the pages images an inspection reads. */
enum oci_pages_need {
	OCI_PAGES_NONE,	   /* none: pages-*.img stay in the archive */
	OCI_PAGES_STRINGS, /* argv and environment of every process */
	OCI_PAGES_PID,	   /* all of one process's pages (--memory) */
	OCI_PAGES_ALL,
	_OCI_PAGES_NEED_MAX,
};

struct oci_source_opts {
	size_t sz;
	enum oci_pages_need pages;
	pid_t pages_pid;       /* with OCI_PAGES_PID */
	bool want_rootfs_list; /* list the members of rootfs-diff.tar */
};

/* A file of rootfs-diff.tar (files the container added or changed). */
struct oci_rootfs_change {
	char *path;
	uint64_t size;
	char type; /* 'f' file, 'd' directory, 'l' symlink, 'h' hard link, 'o' other */
};

struct oci_source {
	char *target; /* as given */
	enum oci_target_kind kind;
	const char *compression; /* archives: "none", "gzip", "zstd", ... */
	char *tmpdir;		 /* archives: the private extraction directory */
	char *images_dir;	 /* where inventory.img is */
	char *meta_dir;		 /* where config.dump and spec.dump are, or NULL */
	char *stats_path;	 /* the dump statistics (stats-dump), or NULL */
	bool container;		 /* a container checkpoint (has config.dump, spec.dump) */
	uint64_t images_size;	 /* bytes of all CRIU images */
	uint64_t pages_size;	 /* bytes of pages-*.img */
	uint64_t n_images;
	int64_t rootfs_diff_size; /* -1: no rootfs-diff.tar */
	time_t inventory_mtime;	  /* when inventory.img was written (0: unknown) */
	struct oci_rootfs_change *rootfs_changes;
	size_t n_rootfs_changes;
	char *rootfs_list_error;  /* why rootfs-diff.tar could not be listed, or NULL */
	uint64_t n_members;	  /* archive members seen */
	uint64_t pages_extracted; /* bytes of pages images written to tmpdir */
};

/* The names of archive members ocicr reads, and where they live. */
#define OCI_CONFIG_DUMP	   "config.dump"
#define OCI_SPEC_DUMP	   "spec.dump"
#define OCI_NETWORK_STATUS "network.status"
#define OCI_STATS_DUMP	   "stats-dump"
#define OCI_DELETED_FILES  "deleted.files"
#define OCI_BIND_MOUNTS	   "bind.mounts"
#define OCI_ROOTFS_DIFF	   "rootfs-diff.tar"

/*
 * Open @target.  Archives are unpacked (what is needed) into a private
 * temporary directory under $TMPDIR, removed by oci_source_close().
 * Errors: -ENOENT (no such target), -EINVAL (not a checkpoint, a damaged
 * archive, an unsafe member name, config.dump or spec.dump missing), each
 * with a message.
 */
int oci_source_open(const char *target, const struct oci_source_opts *opts, struct oci_source **ret_src);
void oci_source_close(struct oci_source *src);

static inline void oci_source_closep(struct oci_source **src)
{
	oci_source_close(*src);
}

/* "<meta_dir>/<name>" in @buf, or -ENOENT if @src has no metadata. */
int oci_source_meta_path(const struct oci_source *src, const char *name, char *buf, size_t size);

/*
 * Errors met while reading extracted images name the temporary directory;
 * rewrite the recorded message so it names the member in the archive
 * ("checkpoint/core-1.img") instead.  Returns @err.
 */
int oci_source_fix_error(const struct oci_source *src, int err);

/*
 * Normalise an archive member name into a relative path in @buf: "./"
 * prefixes, "." components and repeated slashes are dropped; an absolute
 * name or a ".." component gives -EINVAL.  An empty result ("./") is
 * allowed: it names the archive's top directory.
 */
int oci_archive_clean_path(const char *name, char *buf, size_t size);

/* A printable copy of an archive member name for messages (names can
 * hold control characters): at most @size - 1 bytes, in @buf. */
const char *oci_archive_shown_name(const char *name, char *buf, size_t size);

/*
 * Remove every temporary directory this process still has (async-signal
 * safe: for a signal handler, so an interrupted inspection leaves no
 * extracted memory behind).
 */
void oci_source_emergency_cleanup(void);

#endif
