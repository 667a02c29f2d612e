/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A bundle on this host from a checkpoint archive (`ocicr restore
 * --import`): the images in <bundle>/checkpoint, the root filesystem as
 * base + rootfs-diff.tar - deleted.files in <bundle>/rootfs, and a
 * config.json made from spec.dump with this host's paths.  Nothing in the
 * archive is assumed about this host: a bind mount's source that does not
 * exist here is an error naming it unless it is mapped (--volume), and the
 * root's base must be given.  A failed preparation leaves nothing behind.
 */
#ifndef OCICR_BUNDLE_PREPARE_H
#define OCICR_BUNDLE_PREPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "bundle/archive.h"
#include "bundle/spec.h"

/* A bind mount's source on this host: --volume SRC:DEST, --external mnt[DEST]:SRC. */
struct oci_volume {
	const char *source;
	const char *destination;
};

struct oci_prepare_opts {
	const char *archive;
	const char *bundle;	 /* created; or an existing empty directory */
	const char *name;	 /* the new container id; NULL: config.dump's name, else its id */
	const char *rootfs_base; /* the root's lower layers as a directory */
	const struct oci_volume *volumes;
	size_t n_volumes;
	const char *netns;	   /* the network namespace to join here (a path); NULL: as the config says */
	const char *cgroup_parent; /* linux.cgroupsPath becomes <cgroup_parent>/<id>; NULL: the old id replaced */
};

struct oci_prepared {
	struct oci_import imp;
	char *bundle; /* absolute */
	char *id;
	char *config_path;
	char *rootfs;
	struct oci_spec *spec; /* the new config.json, parsed */
	bool bundle_created;   /* the directory itself is ours to remove */
};

void oci_prepared_fini(struct oci_prepared *p);

/* Prepare the bundle; on failure everything made is removed. */
int oci_bundle_prepare(const struct oci_prepare_opts *o, struct oci_prepared *ret);

/* Remove a prepared bundle (after a failed restore): its contents, and the
 * directory if the preparation created it. */
void oci_bundle_discard(const struct oci_prepared *p);

/*
 * Parse a --volume SRC:DEST or --external mnt[DEST]:SRC argument into @v
 * (pointing into @arg, which is modified).  -EINVAL with a message.
 */
int oci_volume_parse(char *arg, bool external, struct oci_volume *v);

#endif
