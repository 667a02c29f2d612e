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
/* Forget the recorded message (an error that was handled). */
OC_API void oc_error_clear(void);

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

/* ---- JSON ------------------------------------------------------------ */

/*
 * The one JSON reader and writer (yajl underneath, which no other part of
 * ocicr calls).  A parsed document is a tree of struct oc_json nodes owned
 * by its root; the accessors take NULL or a node of another type and then
 * answer "absent" (NULL, false, 0 or the default).
 */
struct oc_json;

/* Parse the JSON file @path (at most @max_size bytes, arrays and objects
 * nested at most @max_depth deep).  A missing file gives -ENOENT, bad JSON
 * -EINVAL, each with a message naming the file. */
OC_API int oc_json_parse_file(const char *path, size_t max_size, unsigned max_depth, struct oc_json **ret_doc);
/* The same for NUL-terminated @text; @what names it in messages. */
OC_API int oc_json_parse_text(const char *text, const char *what, unsigned max_depth, struct oc_json **ret_doc);
OC_API void oc_json_free(struct oc_json *doc);

/* Member @key of an object (the last one if repeated), or NULL. */
OC_API const struct oc_json *oc_json_get(const struct oc_json *obj, const char *key);
/* oc_json_get() along a NULL-terminated path of keys. */
OC_API const struct oc_json *oc_json_path(const struct oc_json *obj, ...) __attribute__((sentinel));
/* The string of a string node (NUL-terminated), or NULL. */
OC_API const char *oc_json_str(const struct oc_json *n);
OC_API const char *oc_json_get_str(const struct oc_json *obj, const char *key);
OC_API bool oc_json_is_true(const struct oc_json *n);
OC_API bool oc_json_is_number(const struct oc_json *n);
/* An integer that fits in 64 bits, or @dflt (not a number, a fraction). */
OC_API int64_t oc_json_integer(const struct oc_json *n, int64_t dflt);
OC_API bool oc_json_is_array(const struct oc_json *n);
OC_API bool oc_json_is_object(const struct oc_json *n);
/* Elements of an array or members of an object (0 for anything else). */
OC_API size_t oc_json_len(const struct oc_json *n);
/* Element @i of an array, or the value of member @i of an object. */
OC_API const struct oc_json *oc_json_at(const struct oc_json *n, size_t i);
OC_API const char *oc_json_key_at(const struct oc_json *n, size_t i);

/*
 * A writer to @out in yajl's layout: compact, or indented by two spaces
 * with OC_JSON_PRETTY; strings as UTF-8, bytes that are not UTF-8 as
 * U+FFFD.  Each call returns the first error the writer met (0 if none),
 * so a caller may check only oc_json_writer_finish(), which ends the
 * document with a newline and flushes @out.
 */
struct oc_json_writer;
OC_API int oc_json_writer_new_file(FILE *out, unsigned flags, struct oc_json_writer **ret_w);
OC_API int oc_json_writer_finish(struct oc_json_writer *w);
OC_API void oc_json_writer_free(struct oc_json_writer *w);
/* A whole document as text: @fill writes it with @arg; *ret_text gets it,
 * NUL-terminated, without the final newline. */
OC_API int oc_json_text(unsigned flags, void (*fill)(struct oc_json_writer *w, const void *arg), const void *arg,
			char **ret_text);

OC_API int oc_json_map_open(struct oc_json_writer *w);
OC_API int oc_json_map_close(struct oc_json_writer *w);
OC_API int oc_json_array_open(struct oc_json_writer *w);
OC_API int oc_json_array_close(struct oc_json_writer *w);
OC_API int oc_json_key(struct oc_json_writer *w, const char *key);
OC_API int oc_json_string(struct oc_json_writer *w, const void *s, size_t len);
/* NULL writes null. */
OC_API int oc_json_cstring(struct oc_json_writer *w, const char *s);
OC_API int oc_json_uint(struct oc_json_writer *w, uint64_t v);
OC_API int oc_json_int(struct oc_json_writer *w, int64_t v);
OC_API int oc_json_bool(struct oc_json_writer *w, bool v);
OC_API int oc_json_null(struct oc_json_writer *w);
/* A parsed node and everything under it. */
OC_API int oc_json_write_node(struct oc_json_writer *w, const struct oc_json *n);

/* @s[0..len) with invalid UTF-8 replaced by U+FFFD, NUL-terminated (NULs
 * inside kept); *ret_len gets its length.  NULL on ENOMEM. */
OC_API char *oc_utf8_clean(const char *s, size_t len, size_t *ret_len);

/* ---- checkpoint inspection ------------------------------------------ */

/*
 * A checkpoint as `ocicr inspect` sees it: the process tree, each process's
 * identity, files, sockets and memory sizes, read from the CRIU images by
 * the image-set loader restore uses (no restore checks beyond it, nothing
 * of the memory but what is asked for).
 */

/* A pagemap run's flags (pagemap_entry.flags in the images). */
#define OC_PM_PARENT  (1u << 0)
#define OC_PM_LAZY    (1u << 1)
#define OC_PM_PRESENT (1u << 2)

struct oc_pm_run {
	uint64_t vaddr;
	uint64_t nr_pages;
	uint32_t flags;
	uint64_t off; /* offset of the run's bytes in the pages file (present runs) */
};

struct oc_pagemap {
	uint32_t pages_id;
	struct oc_pm_run *runs;
	size_t n_runs;
	uint64_t present_pages; /* pages stored in pages-<pages_id>.img */
	uint64_t parent_pages;	/* pages left in a parent (pre-dump) image */
	uint64_t lazy_pages;	/* pages listed as lazy and not stored */
};

/* The run that holds @addr, or NULL (binary search; @runs sorted). */
OC_API const struct oc_pm_run *oc_pagemap_find(const struct oc_pm_run *runs, size_t n, uint64_t addr);

/*
 * Where the byte at @addr is in the pages file: 0 with *ret_off and
 * *ret_avail (bytes from there to the end of the run) set, or -ENOENT when
 * the page was not dumped (unmapped, never touched, or in a parent image).
 */
OC_API int oc_pagemap_locate(const struct oc_pm_run *runs, size_t n, uint64_t addr, uint64_t *ret_off,
			     uint64_t *ret_avail);

/* Read exactly @len bytes at offset @off of a pages file; a file that ends
 * before is truncated (-EIO, with a message). */
OC_API int oc_pages_pread(int fd, uint64_t off, void *buf, size_t len);
/*
 * Read up to @len bytes at @addr from pages file @pages_fd; stops at the
 * first byte that was not dumped.  Returns the count read (0: @addr itself
 * was not dumped) or a negative errno.
 */
OC_API ssize_t oc_pagemap_read(const struct oc_pagemap *pm, int pages_fd, uint64_t addr, void *buf, size_t len);

/*
 * Split a NUL-separated block (argv or environment as the kernel laid them
 * out) into strings.  A final NUL ends the last string; a last string
 * without one is kept.  *ret_v is NULL-terminated; free it with
 * oc_strv_free().
 */
OC_API int oc_split_nul(const char *buf, size_t len, char ***ret_v, size_t *ret_n);
OC_API void oc_strv_free(char **v);

/* One open file of a process (an fdinfo entry and its files.img object). */
struct oc_ckpt_fd {
	uint32_t fd;
	bool cloexec;
	const char *type; /* "REG", "PIPE", "UNIXSK", ... (fd_types) */
	char *path;	  /* a path, or "pipe:[ino]", "socket:[ino]", "anon_inode:[eventfd]" ... */
	bool has_pos;
	uint64_t pos;
	bool has_flags;
	uint32_t flags; /* O_* open flags */
	bool has_size;
	uint64_t size; /* of a regular file, at dump */
	int sock;      /* index into the task's sockets, or -1 */
};

struct oc_ckpt_socket {
	uint32_t fd;
	const char *kind;  /* "tcp", "tcp6", "udp", "udp6", "raw", "unix", "packet", "netlink" */
	const char *type;  /* "stream", "dgram", "seqpacket", "raw" */
	const char *state; /* "LISTEN", "ESTABLISHED", ... */
	char *local;	   /* "10.88.0.10:8080", "/run/x.sock", "@abstract", "" */
	char *remote;	   /* peer address, or NULL */
	uint32_t ino;
	uint32_t peer_ino; /* unix: the peer socket's inode, 0 if none */
};

struct oc_ckpt_task {
	pid_t pid, ppid, pgid, sid;
	uint32_t *threads;
	size_t n_threads;
	char *comm;
	const char *state; /* "alive", "zombie", "stopped", ... */
	uint32_t exit_code;
	bool has_creds;
	uint32_t uid, gid, euid, egid;
	char *exe; /* the executable (mm exe_file_id), or NULL */
	char *cwd;
	char *root;
	bool has_mm;
	uint64_t arg_start, arg_end, env_start, env_end;
	size_t n_vmas;
	uint64_t vma_size;    /* bytes of all mappings */
	struct oc_pagemap pm; /* dumped pages */
	char **argv;	      /* from memory, with memory_strings */
	size_t argc;
	char *argv_error; /* why argv could not be read, or NULL */
	char **env;
	size_t envc;
	char *env_error;
	struct oc_ckpt_fd *fds;
	size_t n_fds;
	struct oc_ckpt_socket *socks;
	size_t n_socks;
};

struct oc_ckpt_mount {
	uint32_t mnt_id, parent_mnt_id;
	char *mountpoint;
	char *fstype;
	char *source;
	char *options;
};

struct oc_ckpt_stats {
	bool present;
	uint32_t freezing_time, frozen_time, memdump_time, memwrite_time; /* microseconds */
	uint64_t pages_scanned, pages_skipped_parent, pages_written, pages_lazy;
	bool has_irmap_resolve, has_page_pipes, has_page_pipe_bufs;
	uint32_t irmap_resolve;
	uint64_t page_pipes, page_pipe_bufs;
	bool has_shpages;
	uint64_t shpages_scanned, shpages_skipped_parent, shpages_written;
};

struct oc_ckpt {
	char *images_dir;
	uint32_t img_version;
	char *hostname;		    /* the UTS namespace's nodename, from the images */
	struct oc_ckpt_task *tasks; /* pstree order: parents before children */
	size_t n_tasks;
	struct oc_ckpt_mount *mounts; /* the root task's mount namespace */
	size_t n_mounts;
	struct oc_ckpt_stats stats;
	bool memory_read; /* argv and env were read */
};

struct oc_ckpt_opts {
	size_t sz;
	bool memory_strings; /* read argv and env from the pages (needs the pages images) */
};

/* Load the checkpoint in @images_dir (and the statistics image @stats_path,
 * or NULL): the process tree, each process's identity, files, sockets and
 * memory sizes, checked as restore loads it; with opts->memory_strings argv
 * and the environment too, from the pages images.  Errors name the image. */
OC_API int oc_ckpt_load(const char *images_dir, const char *stats_path, const struct oc_ckpt_opts *opts,
			struct oc_ckpt **ret_ckpt);
OC_API void oc_ckpt_free(struct oc_ckpt *c);

OC_API const struct oc_ckpt_task *oc_ckpt_find_task(const struct oc_ckpt *c, pid_t pid);

/* Open pages-<pm.pages_id>.img of @t (for --memory); the fd is the caller's. */
OC_API int oc_ckpt_open_pages(const struct oc_ckpt *c, const struct oc_ckpt_task *t, int *ret_fd);

/* "O_RDWR|O_APPEND|O_LARGEFILE": x86_64 kernel values, any rest in octal. */
OC_API void oc_format_oflags(uint32_t flags, char *buf, size_t size);

/* Which images oc_ckpt_load() reads: the others (tmpfs contents,
 * netfilter...) need not be extracted from an archive to inspect it. */
enum oc_image_role {
	OC_IMAGE_NONE,	   /* not a CRIU image name */
	OC_IMAGE_UNREAD,   /* an image inspection does not read */
	OC_IMAGE_READ,	   /* read by oc_ckpt_load() */
	OC_IMAGE_PAGES,	   /* pages-N.img: read only for memory */
	OC_IMAGE_MM,	   /* mm-PID.img (read) */
	OC_IMAGE_PAGEMAP,  /* pagemap-PID.img (read) */
	OC_IMAGE_SHMEM_PM, /* pagemap-shmem-ID.img (read) */
};
OC_API enum oc_image_role oc_image_role(const char *name);

/* From mm-PID.img at @path: where argv ([0]) and the environment ([1])
 * start and end. */
OC_API int oc_image_mm_strings(const char *path, uint64_t ret_bounds[2][2]);
/* From a pagemap image at @path (@what names it): its pages image and its
 * runs; free *ret_runs. */
OC_API int oc_image_pagemap_runs(const char *path, const char *what, uint32_t *ret_pages_id,
				 struct oc_pm_run **ret_runs, size_t *ret_n, uint64_t *ret_present);
/* -ENOENT with a message when the directory @dirfd (@what in the message)
 * holds images but no inventory.img: an interrupted dump.  0 otherwise. */
OC_API int oc_images_check_finished(int dirfd, const char *what);

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
 * pre-dump (before freezing), network-lock (frozen; only for a tree in a
 * net namespace of its own, as the network points), post-dump (images
 * complete; the tree still frozen unless its memory is read from a
 * snapshot), network-unlock (only logged; for a tree that runs on, or a
 * failed dump); restore: pre-restore (before any task exists),
 * setup-namespaces and post-setup-namespaces (the root exists),
 * post-restore (every task in place, none running), network-unlock (only
 * logged), pre-resume, post-resume (the tree runs).
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
	/* CRIU's --cgroup-root at dump, each "[CONTROLLER:]PATH": a task's
	 * cgroup under PATH is saved with PATH and all below it (PATH's
	 * permissions and empty cgroups included). */
	const char *const *cgroup_roots;
	size_t n_cgroup_roots;
	/* CRIU's --cgroup-yard: a directory with each cgroup hierarchy
	 * mounted in it, as CRIU names them ("unified" for v2, X for
	 * name=X, else the controllers), used instead of mounting them. */
	const char *cgroup_yard;
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
	bool link_remap;	       /* a file open by a removed name that has
				* another: linked to a temporary name
				* beside it, which restore opens and removes
				* (CRIU's --link-remap); false: its contents
				* are copied, as for one with no name left */
	/* CRIU's --cgroup-props (the text) and --cgroup-props-file (a file
	 * of it), in that order over the built-in lists: per controller, a
	 * "strategy" ("merge" or "replace") and the "properties" saved.
	 * NULL: the built-in lists alone. */
	const char *cgroup_props;
	const char *cgroup_props_file;
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
	/* CRIU's --cgroup-yard: a directory with each cgroup hierarchy
	 * mounted in it, as CRIU names them ("unified" for v2, X for
	 * name=X, else the controllers), used instead of mounting them. */
	const char *cgroup_yard;
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
