/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inodes named by file handle, as fdinfo names the inodes inotify and
 * fanotify watch (res/inotify.c, res/fanotify.c).  An image carries the
 * handle and, as CRIU 4.2 writes it, the path the handle reached at dump
 * time (fh_entry.path).
 */
#ifndef OCICR_RES_FHANDLE_H
#define OCICR_RES_FHANDLE_H

#include "proc/proc.h"
#include "core/arena.h"

#include "fh.pb-c.h"

/*
 * Dump: the path of the inode @fh names on device @kdev (the kernel's
 * dev_t, as fdinfo prints it), checked to reach that very inode; a copy
 * in @a.  -EOPNOTSUPP when no path reaches it (deleted, or hidden under
 * another mount); but with @unlinked_ok an unlinked regular file gives the
 * name it had (which its ghost has at restore, when the tree holds it open).
 */
int oc_fhandle_path(struct oc_arena *a, uint32_t kdev, const struct oc_proc_fhandle *fh, bool unlinked_ok,
		    char **ret_path);

/* Dump: the fh_entry of @fh (16 words at least) with @path. */
FhEntry *oc_fhandle_entry(struct oc_arena *a, const struct oc_proc_fhandle *fh, char *path);

/* Restore: open (O_PATH) the inode of @fh, by its path if it has one, else
 * by the handle on a mount of device @kdev. */
int oc_fhandle_open(const FhEntry *fh, uint32_t kdev, int *ret_fd);

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
void oc_mountinfo_unescape(char *s);

/* The kernel's dev_t, as fdinfo and mountinfo's numbers give it, to ours. */
dev_t oc_kdev_to_dev(uint32_t kdev);

#endif
