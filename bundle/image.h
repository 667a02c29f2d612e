/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A checkpoint as an OCI image (`ocicr checkpoint --create-image`): an OCI
 * image layout whose one layer is the checkpoint archive (podman's layout,
 * uncompressed), with the annotations podman, CRI-O and containerd look
 * for to know a checkpoint image and its container:
 * io.podman.annotations.checkpoint.name,
 * io.kubernetes.cri-o.annotations.checkpoint.name,
 * org.criu.checkpoint.container.name and their neighbours.
 */
#ifndef OCICR_BUNDLE_IMAGE_H
#define OCICR_BUNDLE_IMAGE_H

#include "bundle/archive.h"

/*
 * Write the OCI image layout @dir (created; or an empty directory) tagged
 * @tag, from the archive @in describes (its layout and compression are
 * set here).  On failure nothing of it is left.
 */
int oci_image_layout_write(const char *dir, const char *tag, const struct oci_archive_in *in);

/*
 * The checkpoint archive inside the image layout @dir: the one layer of
 * the manifest tagged @tag (NULL: the layout's only manifest), as a path
 * in *ret_path.  -EINVAL with a message for a layout that is none.
 */
int oci_image_layout_archive(const char *dir, const char *tag, char **ret_path);

#endif
