/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mount namespaces (mnt.c), internal to res/ns: the parts shared with the
 * tmpfs contents (mnt_tmpfs.c) and the external names (mnt_ext.c).
 */
#ifndef OCICR_RES_NS_MNT_H
#define OCICR_RES_NS_MNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "img/image.h"

/* The kernel's device encoding CRIU keeps in root_dev and the tmpfs image
 * names (major in the high 12 bits, minor in the low 20). */
#define OC_MNT_KDEV(ma, mi) (((uint32_t)(ma) << 20) | (uint32_t)(mi))

struct oc_userns_maps;

/* A detached copy of the one mount at @mountpoint (a path in ocicr's
 * current mount namespace), without what is mounted below it. */
int oc_mnt_tmpfs_open(const char *mountpoint, int *ret_fd);

/* Save the files of @tree (from oc_mnt_tmpfs_open(), mounted at
 * @mountpoint) as tmpfs-dev-@kdev.tar.gz.img; with @maps (the tree's
 * user namespace), their owners as seen inside. */
int oc_mnt_tmpfs_dump(struct oc_imgdir *dir, int tree, const char *mountpoint, uint32_t kdev,
		      const struct oc_userns_maps *maps);

/* Unpack tmpfs-dev-@kdev.tar.gz.img into the directory @path (a fresh
 * tmpfs); a missing image leaves it empty; with @maps, owners seen inside
 * are given as ids outside. */
int oc_mnt_tmpfs_restore(struct oc_imgdir *dir, uint32_t kdev, const char *path, const struct oc_userns_maps *maps);

/* The value of external @kind[@name]:VALUE among @ext (CRIU's --external
 * strings), or NULL. */
const char *oc_mnt_external(const char *const *ext, size_t n_ext, const char *kind, const char *name);

#endif
