/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `ocicr checkpoint`: a running container found in its runtime's state,
 * its config mapped onto the engine's options (spec.h), and once the
 * engine has written the images, the archive (archive.h) with the root
 * filesystem's changes (rootfs.h).  No runtime is called.
 */
#ifndef OCICR_BUNDLE_CHECKPOINT_H
#define OCICR_BUNDLE_CHECKPOINT_H

#include <stdbool.h>

#include "bundle/archive.h"
#include "bundle/spec.h"
#include "bundle/state.h"
#include "bundle/storage.h"

struct oci_checkpoint {
	struct oci_ctr_state *state;
	struct oci_spec *spec;
	struct oci_engine_opts eo; /* the dump's options, from the config */
};

void oci_checkpoint_fini(struct oci_checkpoint *ck);

/* Find @target (id or bundle) under @runtime_root (NULL: runc's and
 * crun's defaults), read its config and map it. */
int oci_checkpoint_open(const char *runtime_root, const char *target, struct oci_checkpoint *ck);

/* runc's descriptors.json in @images_dir: what the init's fds 0-2 are
 * (runc and crun need it to restore). */
int oci_checkpoint_descriptors(const struct oci_checkpoint *ck, const char *images_dir);

struct oci_export_opts {
	const char *path;      /* the archive; NULL: none */
	const char *image_dir; /* an OCI image layout of the checkpoint; NULL: none */
	const char *image_tag;
	enum oci_layout layout;
	enum oci_compress compress;
	const char *rootfs_base; /* compare the root with it when it is no overlay; NULL: none */
	const char *images_dir;
	const char *work_dir;			/* dump.log, stats-dump; NULL: images_dir */
	const struct oci_storage_ctr *identity; /* name and image; NULL: the id, no image */
};

/*
 * The container's name and image for the archive: containers/storage's
 * record when a store made its bundle (podman), else @image_name (NULL:
 * the config's org.opencontainers.image.ref.name annotation) with its ID
 * from the default store when it has that image.
 */
int oci_checkpoint_identity(const struct oci_checkpoint *ck, const char *image_name, struct oci_storage_ctr *ret);

/* Write the archive (and/or image layout) of a dumped container;
 * *ret_changes (may be NULL) says whether root filesystem changes went in. */
int oci_checkpoint_export(const struct oci_checkpoint *ck, const struct oci_export_opts *eo, bool *ret_changes);

#endif
