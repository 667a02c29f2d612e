/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Container identity from what the engine saved beside the images:
 * config.dump (podman's ContainerConfig, or CRI-O's small one), spec.dump
 * (the OCI runtime spec) and network.status (podman).  The engine is told
 * by the io.container.manager annotation, as checkpointctl does.
 */
#ifndef OCICR_INSPECT_META_H
#define OCICR_INSPECT_META_H

#include <stddef.h>

#include "oci/inspect/json.h"
#include "oci/inspect/source.h"

struct oci_ip {
	char *network;	 /* podman network name, or NULL */
	char *interface; /* eth0, or NULL */
	char *address;	 /* 10.88.0.10/16 */
	char *gateway;
	char *mac;
};

struct oci_mount {
	char *destination;
	char *type;
	char *source;
	char **options; /* NULL-terminated */
};

struct oci_meta {
	const char *engine; /* "Podman", "CRI-O", "containerd", or NULL */
	char *name;
	char *id;
	char *image;
	char *image_id;
	char *runtime;
	char *created;		       /* RFC 3339, or NULL */
	char *checkpointed;	       /* RFC 3339, or NULL */
	const char *checkpointed_from; /* "config.dump" or "inventory.img" (its time stamp) */
	char *pod_name;
	char *pod_namespace;
	char *hostname;
	struct oci_ip *ips;
	size_t n_ips;
	struct oci_mount *mounts; /* spec.dump's */
	size_t n_mounts;
	char **deleted_files; /* deleted.files, or NULL */
	size_t n_deleted_files;
	ij_node *config; /* the parsed documents, for --metadata */
	ij_node *spec;
	ij_node *network;
};

/*
 * Read the metadata of @src.  A source without metadata (an images
 * directory) gives an empty oci_meta, with the checkpoint time taken from
 * inventory.img if known.  Bad JSON gives -EINVAL naming the file.
 */
int oci_meta_load(const struct oci_source *src, struct oci_meta **ret_meta);
void oci_meta_free(struct oci_meta *m);

/* Format @t as RFC 3339 UTC into @buf. */
void oci_format_time(time_t t, char *buf, size_t size);

#endif
