/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Finding a running container in the state its runtime keeps: runc's
 * <root>/<id>/state.json (default root /run/runc), crun's
 * <root>/<id>/status (default /run/crun).  A container is named by its id,
 * or by its bundle directory, matched against each container's recorded
 * bundle.
 */
#ifndef OCICR_BUNDLE_STATE_H
#define OCICR_BUNDLE_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#define OCI_RUNC_ROOT "/run/runc"
#define OCI_CRUN_ROOT "/run/crun"

struct oci_ctr_state {
	char *runtime;	  /* "runc" or "crun" */
	char *state_root; /* the runtime's state root it was found under */
	char *id;
	pid_t pid;	     /* the container's init */
	char *bundle;	     /* absolute */
	char *rootfs;	     /* absolute */
	char *config_path;   /* the config the runtime runs it with */
	char *freeze_cgroup; /* freezer (v1) or unified (v2) directory, or NULL */
	char *created;	     /* RFC 3339, as the runtime recorded it, or NULL */
};

void oci_ctr_state_free(struct oci_ctr_state *st);

static inline void oci_ctr_state_freep(struct oci_ctr_state **st)
{
	oci_ctr_state_free(*st);
}

/*
 * Find the container @target (an id, or a bundle directory: anything with
 * a '/' in it, or "." ) under @runtime_root (one state root of runc or
 * crun, the kind found from its contents), or under both default roots
 * when NULL.  Its init must be running (its start time checked where the
 * runtime records it).  -ENOENT with a message naming what was searched;
 * -ESRCH when the container is known but not running.
 */
int oci_state_find(const char *runtime_root, const char *target, struct oci_ctr_state **ret_st);

/* Read the one container @id under @state_root (runc or crun). */
int oci_state_read(const char *state_root, const char *id, struct oci_ctr_state **ret_st);

#endif
