/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgroups (engine/res/cgroup/): every task's membership in every cgroup
 * hierarchy (v1 controllers, named v1 hierarchies, v2) and the properties
 * of the cgroups the tree is in, in CRIU's cgroup.img.
 *
 * A cgroup set is the list of (hierarchy, path) pairs of one thread, as
 * /proc/PID/task/TID/cgroup shows it from the root cgroup namespace; set 1
 * is ocicr's own (the inventory's root_cg_set), the others are written to
 * cgroup.img with, per hierarchy, every cgroup a set names and its subtree.
 *
 * Hierarchies are reached through mounts of their own (fsmount(), attached
 * nowhere), so neither a dump nor a restore depends on where, or whether,
 * the host mounted them.
 */
#ifndef OCICR_RES_CGROUP_H
#define OCICR_RES_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ocicr.h"

struct oc_dump_ctx;
struct oc_rst_ctx;
struct oc_rst_files;
struct oc_rst_task;

/* One line of /proc/PID/cgroup: the hierarchy ("cpu,cpuacct",
 * "name=systemd", "" for v2) and the path in it. */
struct oc_cg_member {
	char *name;
	char *path;
};

/* ---- parsing (props.c; unit tested) ---- */

/* /proc/PID/cgroup into members sorted by name (as CRIU orders a set). */
int oc_cg_parse_proc(const char *text, struct oc_cg_member **ret, size_t *ret_n);
void oc_cg_members_free(struct oc_cg_member *m, size_t n);

/* The length of the cgroup namespace root in @full, the path seen from
 * the root namespace, given @inner, the same cgroup seen from inside the
 * task's namespace; 0 if they do not fit together. */
uint32_t oc_cg_ns_prefix(const char *full, const char *inner);

/* CRIU's --manage-cgroups argument (NULL: soft). */
int oc_cg_parse_mode(const char *arg, enum oc_cgroup_mode *ret);
const char *oc_cg_mode_name(enum oc_cgroup_mode mode);

/* --cgroup-root [CONTROLLER:]PATH: *@ret_ctrl is NULL for every
 * controller; the path must be absolute.  Both point into a copy the
 * caller frees through *@ret_ctrl or *@ret_path (whichever is first). */
int oc_cg_parse_root(const char *arg, char **ret_buf, const char **ret_ctrl, const char **ret_path);

/* Of @roots (--cgroup-root arguments), the root of hierarchy @hier: the
 * one naming one of its controllers, else the first without one; *@ret_root
 * (NULL: none) points into *@ret_buf, which the caller frees. */
int oc_cg_root_for(const char *const *roots, size_t n_roots, const char *hier, char **ret_buf, const char **ret_root);

/* Does hierarchy @name ("cpu,cpuacct") hold controller @ctrl? */
bool oc_cg_has_controller(const char *name, const char *ctrl);

/* The path @path (absolute) with its leading @old_root replaced by
 * @new_root; NULL (and no error) if @path is not under @old_root. */
char *oc_cg_rebase(const char *path, const char *old_root, const char *new_root);

/* The properties CRIU saves for controller @ctrl (NULL-terminated), or
 * NULL for one it saves none of. */
const char *const *oc_cg_props_of(const char *ctrl);
/*
 * CRIU's --cgroup-props: controllers whose saved properties differ from
 * the built-in lists.  Its text, in CRIU's format, one controller after
 * another:
 *     "cpu":
 *      - "strategy": "replace"
 *      - "properties": ["cpu.shares", "cpu.cfs_quota_us"]
 * "merge" adds the properties to the controller's list, "replace" puts
 * them in its place.  oc_cg_props_parse() applies @text over what @p holds
 * already (@origin names it in errors); oc_cg_props_get() is @ctrl's list.
 */
struct oc_cg_props {
	struct oc_cg_props_ctrl {
		char *ctrl;
		char **props; /* NULL-terminated */
	} * v;
	size_t n;
};
int oc_cg_props_parse(struct oc_cg_props *p, const char *text, const char *origin);
const char *const *oc_cg_props_get(const struct oc_cg_props *p, const char *ctrl);
void oc_cg_props_free(struct oc_cg_props *p);
/* The properties of every v1 hierarchy, and of v2 directories. */
extern const char *const oc_cg_props_v1_common[];
extern const char *const oc_cg_props_v2_common[];
/* Set before the others, and before any task enters. */
bool oc_cg_prop_is_early(const char *prop);

/* A mount of hierarchy @name attached nowhere (an O_PATH directory fd), or
 * with @yard (CRIU's --cgroup-yard) its directory there. */
int oc_cg_mount_hierarchy(const char *yard, const char *name, int *ret_fd);

/* ---- dump ---- */

/* The freezer cgroup @path (v1 freezer directory, or a v2 cgroup), frozen
 * while every task in it is seized, then thawed: the seize stops them
 * before they can fork.  Whatever fails, the cgroup is left thawed;
 * *@ret_was_frozen says whether it was frozen before (a paused container):
 * oc_cgroup_refreeze() puts it back once the dump let the tree go. */
int oc_cgroup_freeze_and_seize(const char *path, unsigned timeout_s, pid_t **ret_tids, size_t *ret_n,
			       bool *ret_was_frozen);
void oc_cgroup_refreeze(const char *path);
/* Dump, first: --cgroup-props and --cgroup-props-file parsed into
 * ctx->cg_props, a bad one failing before the tree is touched. */
int oc_cgroup_dump_props(struct oc_dump_ctx *ctx);
void oc_cgroup_dump_free(struct oc_dump_ctx *ctx);

/* ---- restore ---- */

/* Read cgroup.img and work out every task's cgroups (no change yet). */
int oc_cgroup_load(struct oc_rst_ctx *ctx);
/* Create and fill the cgroups, as the mode says; before any task exists. */
int oc_cgroup_prepare(struct oc_rst_ctx *ctx, struct oc_rst_files *files);
/* The tree's own cgroup namespace (made by prepare, rooted where the tree's
 * was), or -1: for cgroup mounts made inside the tree's mount namespace
 * before any task runs (setns() into it, then mount).  Valid in the
 * coordinator until the root is created and its fills are done. */
int oc_cgroup_ns_fd(const struct oc_rst_ctx *ctx);
/* The coordinator is in the tree's cgroup namespace (if it has one) while
 * it clones the root, which is then born in it. */
int oc_cgroup_ns_enter(struct oc_rst_ctx *ctx, int *ret_own_fd);
void oc_cgroup_ns_leave(int own_fd);
/* In the task itself, before it runs anything: enter its cgroups. */
int oc_cgroup_enter(struct oc_rst_ctx *ctx, struct oc_rst_task *t);
/* The coordinator, once thread @idx of @t (@tid, ours) exists and waits:
 * into its own cgroups where they are not its leader's. */
int oc_cgroup_enter_thread(struct oc_rst_ctx *ctx, const struct oc_rst_task *t, size_t idx, pid_t tid);
/* A failed restore, once its tasks are gone: remove what prepare made. */
void oc_cgroup_abort(struct oc_rst_ctx *ctx);
void oc_cgroup_free(struct oc_rst_ctx *ctx);

#endif
