/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An OCI runtime config (config.json, podman's spec.dump) read with yajl
 * (through oci/inspect/json.h), and the one mapping from it to the
 * engine's options.  The options come out as CRIU option names and values
 * (struct oci_engine_opts), applied to a struct criu_opts with
 * criu_opts_set(): the same model the `criu` front end and the RPC service
 * fill, so `ocicr checkpoint` and a runc-driven dump meet in one place,
 * and an option the engine does not implement yet is refused by name there.
 */
#ifndef OCICR_BUNDLE_SPEC_H
#define OCICR_BUNDLE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "oci/criu/opts.h"
#include "oci/inspect/json.h"

/* The largest config.json or spec.dump read (podman's are ~25 KiB). */
#define OCI_SPEC_MAX_SIZE (4u << 20)

struct oci_mount {
	char *destination;
	char *source; /* NULL for mounts with none */
	char *type;   /* NULL when not given */
	bool bind;    /* options hold "bind" or "rbind" */
};

/* The namespace kinds of a config, as the spec names them. */
enum oci_ns {
	OCI_NS_PID,
	OCI_NS_NETWORK,
	OCI_NS_MOUNT,
	OCI_NS_IPC,
	OCI_NS_UTS,
	OCI_NS_USER,
	OCI_NS_CGROUP,
	OCI_NS_TIME,
	_OCI_NS_MAX,
};

struct oci_spec {
	ij_node *doc;	    /* the whole document, for what is not below */
	char *root_path;    /* root.path as written (relative to the bundle, or absolute) */
	bool root_readonly; /* root.readonly */
	bool terminal;	    /* process.terminal */
	struct oci_mount *mounts;
	size_t n_mounts;
	char **masked_paths;
	size_t n_masked;
	char **readonly_paths;
	size_t n_readonly;
	char **device_paths; /* linux.devices[].path */
	size_t n_devices;
	bool has_ns[_OCI_NS_MAX];
	char *ns_path[_OCI_NS_MAX]; /* NULL: a new namespace */
	char *cgroups_path;	    /* linux.cgroupsPath, or NULL */
};

/* The spec's name of a namespace kind ("network"...). */
const char *oci_ns_name(enum oci_ns ns);

/*
 * Parse the config @text (@what names it in messages).  -EINVAL with a
 * message for bad JSON or a config without root.path or with fields of
 * the wrong type.
 */
int oci_spec_parse(const char *text, const char *what, struct oci_spec **ret_spec);
/* The same for the file @path (at most OCI_SPEC_MAX_SIZE bytes). */
int oci_spec_load(const char *path, struct oci_spec **ret_spec);
void oci_spec_free(struct oci_spec *spec);

static inline void oci_spec_freep(struct oci_spec **spec)
{
	oci_spec_free(*spec);
}

/* Engine options as CRIU option names and values, in the order set. */
struct oci_engine_opt {
	char *name;  /* a long name of criu_opt_table, without "--" */
	char *value; /* NULL for an option without one */
};

struct oci_engine_opts {
	struct oci_engine_opt *v;
	size_t n;
};

void oci_engine_opts_fini(struct oci_engine_opts *eo);
int oci_engine_opts_add(struct oci_engine_opts *eo, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The value of the first option @name whose value starts with @prefix
 * (NULL: any), or NULL; for tests and callers that look one up. */
const char *oci_engine_opts_find(const struct oci_engine_opts *eo, const char *name, const char *prefix);

/* What a container's dump needs beyond its config: from the runtime's state. */
struct oci_dump_ctx {
	const char *rootfs;	   /* absolute path of the container's root */
	const char *freeze_cgroup; /* the freezer (v1) or unified (v2) cgroup directory, or NULL */
	pid_t pid;		   /* the container's init; 0: unknown (tests) */
};

/*
 * The dump's options for a container with config @spec, as runc maps them:
 * root; every bind mount external by its destination ("mnt[DEST]:DEST");
 * masked files bound from /dev/null ("mnt[PATH]:/dev/null"); device nodes;
 * network and pid namespaces given by path external by inode
 * ("net[INO]:extRootNetNS", "pid[INO]:extRootPidNS", an empty network
 * namespace otherwise); cgroups managed softly and frozen at
 * freeze_cgroup; a terminal's master outside (orphan-pts-master).
 * Errors name the problem (a namespace path that cannot be read...).
 */
int oci_map_dump(const struct oci_spec *spec, const struct oci_dump_ctx *ctx, struct oci_engine_opts *ret_eo);

/* What a restore on this host needs: where the bundle is now. */
struct oci_restore_ctx {
	const char *rootfs;	 /* absolute path of the prepared root */
	const char *cgroup_root; /* where the container's cgroups go, or NULL */
};

/*
 * The restore's options for a container with config @spec (already
 * rewritten for this host): root; each bind mount's key bound to its
 * source ("mnt[DEST]:SOURCE"); /dev/null for masked files; namespaces
 * given by path joined (--join-ns); cgroups under cgroup_root.
 */
int oci_map_restore(const struct oci_spec *spec, const struct oci_restore_ctx *ctx, struct oci_engine_opts *ret_eo);

/*
 * Set every option of @eo in @o with criu_opts_set().  An option ocicr
 * does not implement yet is recorded there and refused by name when the
 * dump or restore starts (criu_opts_refuse()).
 */
int oci_engine_opts_apply(const struct oci_engine_opts *eo, struct criu_opts *o);

#endif
