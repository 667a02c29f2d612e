/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What containers/storage (the store podman, CRI-O and buildah share)
 * records about a container and its image, read from the store's own
 * files: <graphroot>/overlay-containers/containers.json (a container's
 * name and the image it was made from) and <graphroot>/overlay-images/
 * images.json (an image's ID by name).  A podman checkpoint archive names
 * the image by both, and podman's import creates the container on it.
 */
#ifndef OCICR_BUNDLE_STORAGE_H
#define OCICR_BUNDLE_STORAGE_H

/* podman's and CRI-O's default store, when root */
#define OCI_STORAGE_ROOT "/var/lib/containers/storage"

struct oci_storage_ctr {
	char *name;
	char *image_name;
	char *image_id;
};

void oci_storage_ctr_fini(struct oci_storage_ctr *c);

/*
 * The record of container @id whose bundle is @bundle, when the bundle is
 * one a store made (<graphroot>/overlay-containers/ID/userdata).  0 with
 * every field NULL when it is not; a record that is there but unreadable
 * is an error.
 */
int oci_storage_container(const char *bundle, const char *id, struct oci_storage_ctr *ret);

/*
 * The ID of the image named @name ("localhost/x:1"; "x:1" and a name
 * without a tag are looked up as podman names them) in the store at
 * @graphroot.  -ENOENT, without a message, when the store lacks it.
 */
int oci_storage_image_id(const char *graphroot, const char *name, char **ret_id);

#endif
