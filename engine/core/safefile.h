/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Opening files where others may have planted something: an images
 * directory can be shared, an archive or image set can be hostile.
 *
 *  - What ocicr reads as data (images, config.dump) must be a regular file,
 *    opened without blocking (a FIFO would hang the reader forever).
 *  - What ocicr creates (logs, pid files, memory dumps) is made fresh with
 *    O_EXCL and O_NOFOLLOW, mode 0600 whatever the umask, so a planted
 *    symlink or an old file's mode is never followed or kept.
 */
#ifndef OCICR_CORE_SAFEFILE_H
#define OCICR_CORE_SAFEFILE_H

#include <stdbool.h>

/*
 * Open @name (relative to @dirfd, or AT_FDCWD) read-only; anything but a
 * regular file is refused with -EINVAL.  @shown names it in messages; a
 * missing file gives -ENOENT ("@shown: missing").  Returns the fd.
 * With @nofollow a symlink is refused too.
 */
int oc_open_regular(int dirfd, const char *name, const char *shown, bool nofollow);

/*
 * Create @name under @dirfd for writing: a new regular file of mode 0600,
 * never through a symlink.  With @replace, an existing non-directory entry
 * of that name is removed first (not followed); without, an existing name
 * is an error (-EEXIST).  Returns the fd.
 */
int oc_create_private(int dirfd, const char *name, const char *shown, bool replace);

/* The same for a path: its directory is opened, then oc_create_private(). */
int oc_create_private_path(const char *path, bool replace);

/* Warn (log) when directory @dirfd is writable by others than its owner
 * (group or world, sticky or not): they could plant files in it. */
void oc_warn_if_shared_dir(int dirfd, const char *path);

#endif
