/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A container's root filesystem changes against its lower layers, as
 * checkpoint archives carry them: rootfs-diff.tar (files added or changed)
 * and deleted.files (a JSON array of absolute paths removed), or, in
 * containerd's layout, one gzip layer whose deletions are overlay
 * whiteouts (".wh.NAME").  Found from an overlay root's upper directory or
 * by comparing the root with a base directory; applied on restore to a
 * copy of the base, refusing members that would land outside the root.
 */
#ifndef OCICR_BUNDLE_ROOTFS_H
#define OCICR_BUNDLE_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>

/* Paths relative to the root, without a leading '/', parents before children. */
struct oci_rootfs_changes {
	char **changed; /* added or changed: files, links, and directories */
	size_t n_changed;
	char **deleted;
	size_t n_deleted;
};

void oci_rootfs_changes_fini(struct oci_rootfs_changes *c);

/* The overlay upper directory of the overlay mounted at @rootfs; -ENOENT
 * when @rootfs is not an overlay mount point. */
int oci_rootfs_overlay_upper(const char *rootfs, char **ret_upper);

/* Changes recorded in an overlay upper directory: whiteouts (0/0 character
 * devices) are deletions, everything else is added or changed. */
int oci_rootfs_diff_upper(const char *upper, struct oci_rootfs_changes *ret);

/* Changes of @rootfs against @base: entries new or differing in type,
 * mode, owner, size, modification time or link target; entries of @base
 * missing from @rootfs are deleted. */
int oci_rootfs_diff_base(const char *rootfs, const char *base, struct oci_rootfs_changes *ret);

/*
 * Write the changed entries of @c, read from @src (the upper directory or
 * the root), as a tar to @fd: plain (podman, CRI-O), or with @whiteouts a
 * gzip layer that also holds a ".wh.NAME" entry for each deletion
 * (containerd).  File contents are streamed.
 */
int oci_rootfs_diff_write(int fd, const char *src, const struct oci_rootfs_changes *c, bool whiteouts);

/* deleted.files: a JSON array of the deleted paths, each with a leading '/'. */
int oci_rootfs_deleted_json(const struct oci_rootfs_changes *c, char **ret_text);

/* The names in directory @dir but "." and "..", sorted; free with
 * oci_names_free().  -errno with a message when @dir cannot be read. */
int oci_dir_names(const char *dir, char ***ret_names, size_t *ret_n);
void oci_names_free(char **names, size_t n);

/* ---- restore ---- */

/* Copy the directory tree @base (owners, modes, times, links) to @dest. */
int oci_rootfs_copy_base(const char *base, const char *dest);

/*
 * Extract the tar @tar_path (plain or compressed) into @rootfs.  A member
 * that is absolute, has "..", or would be written through a symlink, and
 * a hard link pointing out, make the whole diff refused (what was written
 * stays for the caller to remove with the root).  ".wh." whiteouts delete
 * what they name.
 */
int oci_rootfs_apply_diff(const char *rootfs, const char *tar_path);

/* Remove the paths the JSON array in @json_path names from @rootfs, never
 * through a symlink; names that do not exist are skipped. */
int oci_rootfs_apply_deleted(const char *rootfs, const char *json_path);

/* Remove the tree at @path (not following symlinks); -ENOENT is success. */
int oci_rm_tree(const char *path);

#endif
