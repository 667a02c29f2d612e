/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libocicr: the public interface of the ocicr checkpoint/restore engine.
 *
 * Every function returns 0 (or a non-negative count) on success and a
 * negative errno on failure; oc_error_message() then describes the failure.
 * The library never prints on its own: log lines go to the sink set with
 * oc_set_log() (stderr by default).
 */
#ifndef OCICR_H
#define OCICR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OC_API __attribute__((visibility("default")))

/* CRIU's -v scale: -v0 .. -v4. */
enum oc_log_level {
	OC_LOG_MSG = 0,
	OC_LOG_ERROR = 1,
	OC_LOG_WARN = 2,
	OC_LOG_INFO = 3,
	OC_LOG_DEBUG = 4,
};

/* Called once per log line (no trailing newline); must not call back into
 * the library. */
typedef void (*oc_log_fn)(enum oc_log_level level, const char *line, void *userdata);

OC_API void oc_set_log(oc_log_fn fn, void *userdata, enum oc_log_level level);

/* Send one line to the log sink (for front-ends that share the log). */
OC_API void oc_log_line(enum oc_log_level level, const char *line);

/* Description of the last failure in this thread. */
OC_API const char *oc_error_message(void);

/*
 * For front ends built on the library (the CLI, the RPC service, hooks):
 * record a failure as the library does, so oc_error_message() describes
 * it, and return @err (a negative errno).  _errno appends strerror(-err);
 * _wrap prefixes the message already recorded with context.
 */
OC_API int oc_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
OC_API int oc_error_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
OC_API int oc_error_wrap(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A formatted line to the log sink, at @level. */
OC_API void oc_log(enum oc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

OC_API const char *oc_version(void);

/*
 * Create @path for writing as ocicr creates every file: a new regular file
 * of mode 0600 whatever the umask, never through a symlink.  With
 * @replace an existing entry of that name (a planted symlink, an old file)
 * is removed first, not followed; without, it is an error (-EEXIST).
 * Returns the fd, or a negative errno with a message.
 */
OC_API int oc_create_private_file(const char *path, bool replace);

/* ---- images: crit's job, built in ---------------------------------- */

enum oc_json_flags {
	OC_JSON_PRETTY = 1 << 0,    /* crit --pretty: hex, flag names, indentation */
	OC_JSON_NOPAYLOAD = 1 << 1, /* summarise raw payloads instead of base64 */
};

/* Decode one image file to crit-compatible JSON written to @out. */
OC_API int oc_image_decode(const char *path, FILE *out, unsigned flags);

/* Encode crit-style JSON read from @in into the image file @path. */
OC_API int oc_image_encode(FILE *in, const char *path);

/* Print a human summary of an image directory. */
OC_API int oc_image_show(const char *dir, FILE *out);

/* ---- statistics ------------------------------------------------------- */

/* What CRIU's stats-dump.img and stats-restore.img hold (times in us). */
struct oc_dump_stats {
	uint32_t freezing_us, frozen_us, memdump_us, memwrite_us;
	uint64_t pages_scanned, pages_skipped_parent, pages_written, pages_lazy;
};

struct oc_restore_stats {
	uint32_t forking_us, restore_us;
	uint64_t pages_compared, pages_skipped_cow, pages_restored;
	bool has_pages_restored;
};

/* Read the dump's (@restore false) or the restore's statistics image of
 * @images_dir into @ret_dump or @ret_restore (the other may be NULL). */
OC_API int oc_stats_read(const char *images_dir, bool restore, struct oc_dump_stats *ret_dump,
			 struct oc_restore_stats *ret_restore);

/* ---- checks ----------------------------------------------------------- */

/* Probe the kernel interfaces ocicr needs, printing one line each. */
OC_API int oc_check(FILE *out, bool *ret_ok);

/* Run the one probe oc_check() prints as @name: 0 with *ret_has, or -ENOENT. */
OC_API int oc_check_probe(const char *name, bool *ret_has);

/* ---- notifications ----------------------------------------------------- */

/*
 * A dump or restore reached one of CRIU's notify points.  @action is CRIU's
 * name for it ("pre-dump", "post-dump", "network-lock", "network-unlock",
 * "pre-restore", "setup-namespaces", "post-setup-namespaces", "pre-resume",
 * "post-resume", "post-restore", "orphan-pts-master", "status-ready"), so
 * action scripts and the RPC service pass it on unchanged.
 */
struct oc_notify {
	const char *action;
	pid_t pid; /* the tree's root where one exists (CRTOOLS_INIT_PID), else 0 */
	int fd;	   /* orphan-pts-master: the pty master; otherwise -1 */
};

/*
 * Nonzero fails the dump or restore at that point, undone like any failure;
 * as with CRIU, except at "pre-resume" and "post-resume", where it is only
 * logged (the tree is complete, or runs already).  Points in order: dump:
 * pre-dump (before freezing), post-dump (images complete; the tree still
 * frozen unless its memory is read from a snapshot); restore: pre-restore
 * (before any task exists), setup-namespaces and post-setup-namespaces (the
 * root exists), post-restore (every task in place, none running),
 * pre-resume, post-resume (the tree runs).
 */
typedef int (*oc_notify_fn)(const struct oc_notify *n, void *data);

/* ---- checkpoint ------------------------------------------------------ */

/* CRIU's --manage-cgroups modes; the default (0) is CRIU's: soft. */
enum oc_cgroup_mode {
	OC_CGROUP_SOFT = 0, /* create missing cgroups, set properties of those only */
	OC_CGROUP_NONE,	    /* cgroups must exist; no property is set */
	OC_CGROUP_PROPS,    /* cgroups must exist; every property is set */
	OC_CGROUP_FULL,	    /* create missing cgroups, set every property */
	OC_CGROUP_STRICT,   /* no cgroup may exist; create all, set all */
	OC_CGROUP_IGNORE,   /* leave cgroups alone: tasks stay in the restorer's */
};

/*
 * How packets are kept from a tree's TCP connections while it is frozen
 * and until its restore lets it run (CRIU's --network-lock): an nftables
 * table or iptables rules named after the dump, or nothing.
 */
enum oc_net_lock {
	OC_NET_LOCK_NFTABLES, /* the default */
	OC_NET_LOCK_IPTABLES,
	OC_NET_LOCK_SKIP,
};

/*
 * Options of a dump.  @sz must be sizeof(struct oc_dump_opts) so fields can
 * be added later without breaking callers (OC_OPTS() fills it).
 */
struct oc_dump_opts {
	size_t sz;
	pid_t pid;		/* root of the tree to dump */
	const char *images_dir; /* created if missing */
	bool leave_running;	/* otherwise the tree is killed after a good dump */
	bool shell_job;		/* the tree may hold a controlling terminal */
	bool file_locks;	/* dump file locks */
	bool no_snapshot;	/* with leave_running: copy memory while frozen,
				 * not from a copy-on-write twin afterwards */
	/*
	 * Asked between steps where stopping is safe: nonzero (a signal
	 * number, say) fails the call with -EINTR, undone like any failure.
	 * NULL: the call runs to its end.
	 */
	int (*interrupted)(void *data);
	void *interrupted_data;
	/* Called at CRIU's notify points; NULL: none. */
	oc_notify_fn notify;
	void *notify_data;
	bool leave_stopped;	 /* after a good dump the tree stays, stopped
				 * (SIGSTOP); wins over leave_running */
	unsigned freeze_timeout; /* seconds a thread may take to stop (CRIU's
				  * --timeout); 0: no bound */
	uint64_t ghost_limit;	 /* the largest unlinked file whose contents are
				 * saved, in bytes (CRIU's --ghost-limit);
				 * 0: 64 MiB */
	/* Freeze through this freezer cgroup (a v1 freezer or a v2 cgroup
	 * directory) instead of stopping task by task; NULL: no. */
	const char *freeze_cgroup;
	/* OC_CGROUP_IGNORE: the cgroup sets, no cgroup's properties. */
	enum oc_cgroup_mode manage_cgroups;
	/* CRIU's --cgroup-dump-controller: only these hierarchies (as
	 * /proc/PID/cgroup names them) are saved; none given: every one. */
	const char *const *cgroup_dump_controllers;
	size_t n_cgroup_dump_controllers;
	/*
	 * Resources outside the tree, as CRIU's --external names them; dumped
	 * as references, given back at restore (struct oc_inherit_fd, or for
	 * mounts the restore's own externals).  Known: "tty[RDEV:DEV]" (a
	 * terminal, numbers in hex as stat gives them), "mnt[MOUNTPOINT]:KEY"
	 * (a mount of the tree's mount namespace), "net[INODE]:KEY" (its
	 * network namespace).
	 */
	const char *const *externals;
	size_t n_externals;
	bool orphan_pts_master;	       /* a pty slave whose master is not in the tree
				 * is dumped (CRIU's RPC orphan_pts_master) */
	bool ext_unix_sk;	       /* a datagram unix socket may be connected to a
				  * named one outside the tree: connected to
				  * that name again at restore (--ext-unix-sk) */
	bool tcp_established;	       /* dump established TCP connections (TCP_REPAIR) */
	bool tcp_close;		       /* dump them to be restored closed (--tcp-close) */
	bool skip_in_flight;	       /* connections not yet accepted are left out */
	enum oc_net_lock network_lock; /* how the connections are kept quiet */
};

#define OC_OPTS(type, ...) ((struct type){ .sz = sizeof(struct type), __VA_ARGS__ })

/*
 * Checkpoint the process tree rooted at opts->pid into opts->images_dir.
 * On failure the tree runs on as before and no image is left behind.  A
 * tree that is killed after its dump (neither leave_running nor
 * leave_stopped) has ended when this returns: its tasks were collected,
 * except a root that is the caller's own child, left for its wait().
 * The tree is traced by the calling process: were it killed outright, no
 * thread is left on borrowed registers, but nothing the dump set up is
 * undone (see docs/error-handling.md, "Library callers": run it in a
 * worker process that a guardian waits for, as the ocicr CLI does).
 */
OC_API int oc_dump(const struct oc_dump_opts *opts);

/* ---- restore --------------------------------------------------------- */

/*
 * One descriptor the restored tree takes in place of a resource that was
 * outside it at dump, as CRIU's --inherit-fd fd[N]:KEY.  KEY is the name
 * CRIU gives the resource: "pipe:[INODE]" (every end of that pipe),
 * "tty[RDEV:DEV]" (a terminal, hex), the path of a file as the images
 * hold it, or a namespace's key given at dump (extRootNetNS).  The fd
 * stays the caller's; the tree gets copies.
 */
struct oc_inherit_fd {
	const char *key;
	int fd;
};

struct oc_restore_opts {
	size_t sz;
	const char *images_dir;
	bool detach; /* return once the tree runs, instead of waiting */
	bool shell_job;
	bool leave_stopped; /* the restored tree stays stopped (SIGSTOP) */
	bool plan_only;	    /* print the plan to @plan_out, restore nothing */
	FILE *plan_out;
	/*
	 * Asked between steps where stopping is safe: nonzero (a signal
	 * number, say) fails the call with -EINTR, undone like any failure.
	 * NULL: the call runs to its end.
	 */
	int (*interrupted)(void *data);
	void *interrupted_data;
	/* Called at CRIU's notify points; NULL: none. */
	oc_notify_fn notify;
	void *notify_data;
	bool restore_sibling; /* the root becomes a child of the caller's
				 * parent (CLONE_PARENT); needs detach */
	/* The tree must reach its restorer within this many milliseconds, or
	 * the restore fails and undoes itself; 0: OC_RESTORE_TIMEOUT_MS. */
	unsigned timeout_ms;
	enum oc_cgroup_mode manage_cgroups;
	/* CRIU's --cgroup-root, each "[CONTROLLER:]PATH": the cgroups the
	 * tree was in go under PATH (all controllers without one named). */
	const char *const *cgroup_roots;
	size_t n_cgroup_roots;
	/* Descriptors of the caller that stand in for resources external at
	 * dump (CRIU's --inherit-fd); each must be taken by something. */
	const struct oc_inherit_fd *inherit_fds;
	size_t n_inherit_fds;
	/* A pty slave whose master was outside the tree gets a new master,
	 * handed over at the "orphan-pts-master" notify point (its fd). */
	bool orphan_pts_master;
	/* The root file system of a tree with a mount namespace of its own
	 * (CRIU's --root); the tree's mounts are made again below it. */
	const char *root;
	/* CRIU's --external strings: "mnt[KEY]:PATH" gives the host path of
	 * the external mount KEY. */
	const char *const *externals;
	size_t n_externals;
	/* CRIU's --join-ns "NS:PATH": the root joins the namespace at PATH
	 * (net, ipc, uts, cgroup, time) instead of having one made. */
	const char *const *join_ns;
	size_t n_join_ns;
	bool tcp_established; /* restore established TCP connections */
	bool tcp_close;	      /* restore them closed instead */
};

#define OC_RESTORE_TIMEOUT_MS (120u * 1000)

/*
 * Restore the tree from opts->images_dir with its original pids.  Returns
 * the root pid (detach) or the root's exit status encoded as for wait().
 * On failure no restored process is left behind.
 */
OC_API int oc_restore(const struct oc_restore_opts *opts, pid_t *ret_root_pid);

#ifdef __cplusplus
}
#endif

#endif
