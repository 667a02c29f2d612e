/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Namespaces (engine/res/ns/): ids, and the contents of the namespaces a
 * tree's root has of its own.
 *
 * Every namespace a task is in gets an id (ids-PID.img), one counter for
 * all kinds, ocicr's own namespaces first (the inventory's root_ids).  A
 * kind with a module here (struct oc_ns_ops) is dumped when the root's
 * namespace of that kind is not ocicr's: its contents go to images named
 * by its id, and the restore creates the root in a new namespace of that
 * kind (clone3 flags) and fills it before any task runs.  A kind without
 * a module is restored into the restorer's namespace, as before: the
 * inventory then names the root's namespace as the restorer's own.
 *
 * Each module dumps and fills its namespace from inside it: the caller
 * enters it with setns() and leaves it again.
 */
#ifndef OCICR_RES_NS_H
#define OCICR_RES_NS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"

struct oc_dump_ctx;
struct oc_dump_task;
struct oc_rst_ctx;
struct oc_rst_task;

enum oc_ns_kind {
	OC_NS_PID,
	OC_NS_NET,
	OC_NS_IPC,
	OC_NS_UTS,
	OC_NS_TIME,
	OC_NS_MNT,
	OC_NS_USER,
	OC_NS_CGROUP,
	_OC_NS_KIND_MAX,
};

/* What a module of one namespace kind does; any hook may be NULL. */
struct oc_ns_ops {
	/* Dump the contents of namespace @id; ocicr is inside it, unless
	 * @dump_outside (the module enters it where it needs to). */
	int (*dump)(struct oc_dump_ctx *ctx, uint32_t id);
	bool dump_outside;
	/* Restore: was namespace @id external at dump?  0 if not; 1 with
	 * *@ret_fd (ours) the namespace given for it, which the root joins. */
	int (*external)(struct oc_rst_ctx *ctx, uint32_t id, int *ret_fd);
	/* Read and check the images of namespace @id into *@ret_state. */
	int (*load)(struct oc_rst_ctx *ctx, uint32_t id, void **ret_state);
	/* Fill the new namespace; ocicr is inside it, no task runs yet,
	 * unless @fill_outside (a user namespace's maps are written from
	 * its parent, before any other namespace is filled). */
	int (*fill)(struct oc_rst_ctx *ctx, void *state);
	bool fill_outside;
	/* Every task is in place, none runs yet; ocicr is inside. */
	int (*finish)(struct oc_rst_ctx *ctx, void *state);
	void (*free_state)(void *state);
	/* Made by its module, not by a clone flag of the root: a cgroup
	 * namespace is rooted where its maker is (res/cgroup/cgroup.c). */
	bool task_made;
};

extern const struct oc_ns_ops oc_ns_uts_ops;	/* uts.c */
extern const struct oc_ns_ops oc_ns_ipc_ops;	/* ipc.c */
extern const struct oc_ns_ops oc_ns_pid_ops;	/* pid.c */
extern const struct oc_ns_ops oc_ns_mnt_ops;	/* mnt.c */
extern const struct oc_ns_ops oc_ns_net_ops;	/* net.c */
extern const struct oc_ns_ops oc_ns_time_ops;	/* time.c */
extern const struct oc_ns_ops oc_ns_cgroup_ops; /* res/cgroup.c */
extern const struct oc_ns_ops oc_ns_user_ops;	/* userns.c */

/*
 * User namespace (userns.c): the maps of the tree's, as in userns-ID.img
 * and /proc/PID/uid_map: inside id @first is @lower_first in the parent.
 */
struct oc_id_extent {
	uint32_t first, lower_first, count;
};
struct oc_id_map {
	size_t n;
	struct oc_id_extent e[340];
};
struct oc_userns_maps {
	struct oc_id_map uid, gid;
};
#define OC_USERNS_UNMAPPED UINT32_MAX
/* An id seen from ocicr's user namespace as the tree sees it, and back;
 * a NULL map is the identity, an id outside it OC_USERNS_UNMAPPED. */
uint32_t oc_userns_inside(const struct oc_id_map *m, uint32_t host_id);
uint32_t oc_userns_host(const struct oc_id_map *m, uint32_t inside_id);
/* Parse the text of /proc/PID/uid_map (or gid_map) into @m. */
int oc_userns_parse_map(const char *text, struct oc_id_map *m);
/* Mount options @in with their uid= and gid= seen from the other side
 * (@to_inside: as CRIU saves them), in a new string *@ret. */
int oc_userns_mount_options(const char *in, const struct oc_userns_maps *maps, bool to_inside, char **ret);
/* Restore: this thread acts as root of the tree's user namespace (its
 * effective ids become those of its root), for what only that root may
 * write (its namespaces' sysctls); and back.  Nothing without one. */
int oc_userns_become_root(const struct oc_rst_ctx *ctx);
void oc_userns_become_self(const struct oc_rst_ctx *ctx);
/* Restore: the maps of the user namespace made for the tree, or NULL. */
const struct oc_userns_maps *oc_userns_rst_maps(const struct oc_rst_ctx *ctx);
/*
 * The owner of a file or object of the tree (ghost file, memfd, bound
 * socket, terminal), as CRIU's images carry it: seen from the tree's user
 * namespace.  Dump: from ocicr's ids (an id the namespace cannot see is
 * OC_USERNS_UNMAPPED, as CRIU saves it); restore: back to ocicr's, for
 * what ocicr makes itself (an unmapped one stays -1: chown leaves it).
 * Identities without a user namespace of the tree's own.
 */
uint32_t oc_dump_uid(const struct oc_dump_ctx *ctx, uint32_t host_uid);
uint32_t oc_dump_gid(const struct oc_dump_ctx *ctx, uint32_t host_gid);
uint32_t oc_rst_uid(const struct oc_rst_ctx *ctx, uint32_t uid);
uint32_t oc_rst_gid(const struct oc_rst_ctx *ctx, uint32_t gid);
/* Dump, before the tasks are collected: the maps of the root's user
 * namespace in ctx->userns where it is not ocicr's (checked by the dump
 * of the namespace itself), for the owners above. */
int oc_userns_dump_prepare(struct oc_dump_ctx *ctx);

/* The restore's namespace state (struct oc_rst_ctx.ns). */
struct oc_rst_ns {
	uint64_t clone_flags;	      /* of the root: CLONE_NEW* */
	void *state[_OC_NS_KIND_MAX]; /* each created kind's images */
	pid_t root_pid;		      /* once it exists, in ocicr's pid namespace */
	int join_fd[_OC_NS_KIND_MAX]; /* --join-ns: joined, not made; -1: none */
	size_t top_level;	      /* NSpid index of the tree's pid namespace */
};

/* Restore: around the root's clone, ocicr is in the namespaces to join
 * (--join-ns), so the root starts in them; @saved keeps ocicr's own. */
int oc_ns_join_enter(struct oc_rst_ctx *ctx, int saved[_OC_NS_KIND_MAX]);
void oc_ns_join_leave(struct oc_rst_ctx *ctx, int saved[_OC_NS_KIND_MAX]);

/*
 * Restore, mount namespace (mnt.c): the root's mount namespace is built
 * before any file of the tree is opened, and ocicr works inside it from
 * oc_mnt_rst_enter() until the root task is cloned (into it, without
 * CLONE_NEWNS), then oc_mnt_rst_leave().  Both do nothing without one.
 */
int oc_mnt_rst_enter(struct oc_rst_ctx *ctx);
void oc_mnt_rst_leave(struct oc_rst_ctx *ctx);
/* Right before the root's clone: with a new user namespace, the root
 * takes a copy of the tree (CLONE_NEWNS), which must hold no stand-in. */
int oc_mnt_rst_before_clone(struct oc_rst_ctx *ctx);

/* Dump: the namespace ids of task @t (ids-PID.img fields 5-12). */
int oc_ns_dump_ids(struct oc_dump_task *t, TaskKobjIdsEntry *ids);
/* Dump: once every task is collected, the namespaces of the root. */
int oc_ns_dump(struct oc_dump_ctx *ctx);
/* Dump: the inventory's root_ids namespace fields. */
void oc_ns_inventory_ids(const struct oc_dump_ctx *ctx, TaskKobjIdsEntry *root_ids);
/* Is task @pid in another namespace of @kind than ocicr? */
bool oc_ns_not_ours(pid_t pid, enum oc_ns_kind kind);
/* Restore: did the images' root have a namespace of @kind other than its
 * dumper's (made, joined or external)? */
bool oc_ns_rst_not_ours(const struct oc_rst_ctx *ctx, enum oc_ns_kind kind);
/* Restore: are the tree's pids those of another pid namespace than
 * ocicr's, one made for it or one joined (external)? */
bool oc_ns_rst_other_pidns(const struct oc_rst_ctx *ctx);
/* Was the root's namespace of @kind dumped (not the dumper's)? */
bool oc_ns_dumped(const struct oc_dump_ctx *ctx, enum oc_ns_kind kind);

/* The kind of namespace named @name as in /proc/PID/ns/ ("net"), or of
 * clone flag @clone_flag; -ENOENT for none. */
int oc_ns_kind_by_name(const char *name);
int oc_ns_kind_by_flag(uint32_t clone_flag);
const char *oc_ns_kind_name(enum oc_ns_kind k);
int oc_ns_kind_flag(enum oc_ns_kind k);
/* The id @ids give the namespace of kind @k, 0 if none. */
uint32_t oc_ns_id(const TaskKobjIdsEntry *ids, enum oc_ns_kind k);

/* Restore: the namespace of @kind given for external @key (its inherited
 * fd), a copy of ours in *@ret_fd; returns 1, as ops->external. */
int oc_ns_external_fd(struct oc_rst_ctx *ctx, enum oc_ns_kind kind, const char *key, int *ret_fd);
/* Restore: which namespaces to create for the root; their images. */
int oc_ns_load(struct oc_rst_ctx *ctx);
/* Restore: the root @root_pid exists (created with the clone flags of
 * ctx->ns) and waits: fill its new namespaces. */
int oc_ns_fill(struct oc_rst_ctx *ctx, pid_t root_pid);
/* Restore: every task is in place and stopped: last touches. */
int oc_ns_finish(struct oc_rst_ctx *ctx, pid_t root_pid);
void oc_ns_free(struct oc_rst_ctx *ctx);
/* The kinds of namespace made for the root, by name ("pid ipc uts"), or "". */
void oc_ns_describe(const struct oc_rst_ctx *ctx, char *buf, size_t len);

/* Dump, before collecting: each task's and thread's pid inside the tree's
 * pid namespace (vpid, vtid), and whether that namespace is its own. */
int oc_ns_pid_prepare(struct oc_dump_ctx *ctx);
/* Dump, once every task's ids are known: a task whose children go to
 * another pid namespace (it unshared one) has made its init, in the tree. */
int oc_ns_pid_check_children(const struct oc_dump_ctx *ctx);
/* The pid the images give task or thread @pid (ocicr's), 0 if it is not
 * in the tree. */
pid_t oc_dump_vpid(const struct oc_dump_ctx *ctx, pid_t pid);

/* Restore: pid namespaces nested below the tree's (res/ns/pid.c). */
/* Each task is in its parent's pid namespace or the init of one right
 * below it, its threads' pids there too; checked on load. */
int oc_ns_pid_rst_check(const struct oc_rst_ctx *ctx);
/* In another pid namespace: the root @root_pid (ocicr's) exists, and the
 * tree's namespace's level is learnt (ctx->ns->top_level). */
int oc_ns_rst_top_level(struct oc_rst_ctx *ctx, pid_t root_pid);
/* Task @t's pids from its own namespace up to the tree's, as clone3's
 * set_tid takes them; returns how many. */
size_t oc_rst_set_tid(const struct oc_rst_task *t, pid_t *set_tid);
/* The same for its thread @j (pstree threads[j]; 0: the leader). */
size_t oc_rst_thread_set_tid(const struct oc_rst_task *t, size_t j, pid_t *set_tid);
/* Its pid in its own pid namespace (getpid() there). */
pid_t oc_rst_own_pid(const struct oc_rst_task *t);
/* Its thread @j's tid there (gettid()). */
pid_t oc_rst_own_tid(const struct oc_rst_task *t, size_t j);
/* Task or thread @top_pid (the images') as @viewer sees it, in its
 * namespace (-1 where it cannot); the pid itself for a viewer in the
 * tree's (or NULL). */
pid_t oc_rst_pid_seen_by(const struct oc_rst_ctx *ctx, const struct oc_rst_task *viewer, pid_t top_pid);

/* The pid (ocicr's) of the child of thread @parent whose pid in its own
 * namespace is @inner. */
int oc_ns_outer_child(pid_t parent, pid_t inner, pid_t *ret);

/* Enter namespace @name of @pid (setns), keeping ocicr's own in *@ret_own_fd. */
int oc_ns_enter(pid_t pid, const char *name, int *ret_own_fd);
/* Back into ocicr's own namespace (and close @own_fd). */
int oc_ns_leave(const char *name, int own_fd);

#endif
