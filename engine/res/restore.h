/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a resource module sees of a restore: the loaded images of every
 * task (struct oc_rst_ctx), lookups in them, the files the coordinator
 * opens for the tree (struct oc_rst_files) and the agent preparing one
 * task (struct oc_rst_agent).  The driver's own interface is
 * restore/restore.h.
 */
#ifndef OCICR_RES_RESTORE_H
#define OCICR_RES_RESTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ocicr.h"
#include "img/image.h"
#include "img/imgset.h"
#include "res/plan.h"
#include "arch/arch.h"

#include "core.pb-c.h"
#include "fdinfo.pb-c.h"
#include "fs.pb-c.h"
#include "inventory.pb-c.h"
#include "memfd.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pipe-data.pb-c.h"
#include "pstree.pb-c.h"
#include "remap-file-path.pb-c.h"
#include "seccomp.pb-c.h"

/*
 * The task as the image-set loader gave it (img/imgset.h: pstree, pid,
 * zombie, cores, ids, mm, fs, fds, pagemap, pages_id, owned by the set),
 * embedded without a name so its fields read as the restore task's own
 * (t->mm); then what restoring it needs.
 */
/* Images of the whole tree one kind may declare it reads (res/kind.h,
 * res/fd/files.h). */
#define OC_KIND_MAX_IMAGES 2

struct oc_rst_task {
	struct oc_imgset_task;	     /* first: restore/load.c copies it in whole */
	const SeccompEntry *seccomp; /* the tree's filters (seccomp.img), NULL if none */

	/* Opened by the coordinator (restore/files.c), inherited. */
	int *vma_fds; /* per VMA, -1 for anonymous memory */
	int exe_fd;
	int pages_fd;
	int aio_null_fd;     /* /dev/null for its AIO rings (mem/aio.c), or -1 */
	int status_fd;	     /* the agent's end of its socket */
	int session_done_fd; /* written once its session is made, or -1 */

	/* Copy-on-write sharing with the parent (restore_cow.c). */
	uint8_t *vma_cow;    /* per VMA: OC_COW_* bits, NULL for a zombie */
	uint64_t *premap_at; /* per VMA: where the agent premapped it, 0 if not */
};

enum {
	OC_COW_PREMAP = 1 << 0,	 /* mapped and filled before the children are made */
	OC_COW_INHERIT = 1 << 1, /* starts as the parent's premapped copy */
};

struct oc_rst_ctx {
	const struct oc_restore_opts *opts;
	struct oc_imgdir *dir;
	InventoryEntry *inventory;
	SeccompEntry *seccomp;	      /* seccomp.img, NULL if absent */
	struct oc_rst_ns *ns;	      /* namespaces to create (res/ns/) */
	struct oc_cg_restore *cgroup; /* the tasks' cgroups (res/cgroup/cgroup.c), NULL: left alone */
	struct oc_rst_task *tasks;    /* pstree order: parents first */
	size_t n_tasks;
	FileEntry **files;
	size_t n_files;
	/* optional multi-entry images shared by the tree, loaded up front */
	struct oc_rst_image {
		bool loaded;
		ProtobufCMessage **msgs;
		uint8_t **payloads; /* raw payloads, for images that have them */
		size_t n;
	} images[_OC_IMG_KIND_MAX];

	struct oc_plan plan;

	/* the loaded image set: every message, the tree, the file index */
	struct oc_imgset set;

	bool *inherit_used;	  /* per opts->inherit_fds: taken by something */
	int orphan_pts_master;	  /* the new master of a pty slave whose master
				 * was outside the tree, for the notify; -1 */
	uint32_t orphan_pts_info; /* its tty-info id */
	/* processes with the pids of gone tasks whose /proc files the tree
	 * opens (res/fd/file_reg.c), until every task has entered its cwd */
	pid_t *proc_helpers;
	size_t n_proc_helpers;
	/* ptys made before any file opens, for a bind mount of their slave
	 * (a container's /dev/console); each master waits for the tree's
	 * file of that pty (res/fd/tty.c), -1 once taken */
	struct oc_rst_pty {
		dev_t dev; /* the devpts instance's device at dump */
		int index;
		int master;
	} * premade_ptys;
	size_t n_premade_ptys;
	/* TCP connections in repair mode and their lock (res/fd/sk_tcp.c) */
	struct oc_tcp_state *tcp;
};

/*
 * The caller's descriptor standing in for external resource @key
 * (opts->inherit_fds, CRIU's --inherit-fd), or -ENOENT.  The fd stays the
 * caller's: take a dup.  Call it in the coordinator (before the tree runs):
 * it records that the key was taken, and one never taken fails the restore.
 */
int oc_rst_inherited_fd(struct oc_rst_ctx *ctx, const char *key);

/*
 * Make pty @index of the devpts instance whose slaves are next to
 * @slave_path (the instance was device @dev at dump), unless @slave_path
 * exists: a bind mount of that slave needs it before the tree's files
 * open, as CRIU does.  The master is kept for the tree's file of that
 * terminal (res/fd/tty.c); ctx's cleanup closes one nothing took.
 */
int oc_rst_tty_premake(struct oc_rst_ctx *ctx, const char *slave_path, dev_t dev, int index);

/* The entries of an optional multi-entry image (empty if absent). */
const struct oc_rst_image *oc_rst_image(struct oc_rst_ctx *ctx, enum oc_img_kind kind);

FileEntry *oc_rst_find_file(struct oc_rst_ctx *ctx, uint32_t id);

/* The task with pid @pid, NULL if none (restore/coordinator.c). */
struct oc_rst_task *oc_rst_task_by_pid(struct oc_rst_ctx *ctx, pid_t pid);

/* The task that creates @t (its parent in the tree), NULL for the root. */
struct oc_rst_task *oc_rst_parent_of(struct oc_rst_ctx *ctx, const struct oc_rst_task *t);

/* Does @t share its fd table (CLONE_FILES) or fs struct (CLONE_FS) with
 * its parent? */
bool oc_rst_shares_files(struct oc_rst_ctx *ctx, const struct oc_rst_task *t);
bool oc_rst_shares_fs(struct oc_rst_ctx *ctx, const struct oc_rst_task *t);

/* Does @t premap private memory shared copy-on-write / start from its
 * parent's copies (restore/cow.c)? */
bool oc_rst_cow_premaps(const struct oc_rst_task *t);
bool oc_rst_cow_inherits(const struct oc_rst_task *t);

/*
 * One-byte messages, for the waits that carry nothing else: the
 * coordinator starts each agent once the tree is traced (on the agent's
 * socket), a new session leader tells its parent it made its session, and
 * a short-lived helper tells its maker it is ready (on pipes).  Each side
 * names the byte it sends or expects (restore/coordinator.c).
 */
enum oc_rst_byte_msg {
	OC_MSG_START = 'g',	   /* coordinator -> agent: run your steps */
	OC_MSG_SESSION_MADE = 's', /* child -> parent: session and group made */
	OC_MSG_HELPER_READY = 'k', /* helper -> its maker: its namespace or group is made */
};

int oc_rst_send_byte(int fd, enum oc_rst_byte_msg msg);
/* 0 once @msg came; -EIO if the other end closed or sent something else. */
int oc_rst_recv_byte(int fd, enum oc_rst_byte_msg msg);

/* The task that owns file entry @id: the lowest pid holding it in an fd. */
pid_t oc_rst_file_owner(struct oc_rst_ctx *ctx, uint32_t id);
MemfdInodeEntry *oc_rst_find_memfd(struct oc_rst_ctx *ctx, uint64_t inode_id);
RemapFilePathEntry *oc_rst_find_remap(struct oc_rst_ctx *ctx, uint32_t orig_id);

/* Read the pagemap of a shared memory object (pagemap-shmem-SHMID.img). */
/* Copy the saved pages of shared memory object @shmid into @map (@size bytes). */
int oc_rst_fill_shmem(struct oc_rst_ctx *ctx, uint64_t shmid, uint8_t *map, uint64_t size);
int oc_rst_read_shmem_pagemap(struct oc_rst_ctx *ctx, uint64_t shmid, PagemapEntry ***ret_entries, size_t *ret_n,
			      uint32_t *ret_pages_id);

/*
 * Every file object of the tree, opened once by the coordinator before the
 * tree is created, at fd numbers >= helper_base (above every fd of every
 * task).  The tasks inherit them by fork, so an open file shared by tasks
 * is one file description, as it was; each agent installs its fds from
 * them, and each blob closes the whole helper range at its end.
 */
struct oc_rst_files {
	struct oc_rst_ctx *ctx;
	int helper_base;
	int ctty_fd; /* the restoring shell's terminal (--shell-job), or -1 */
	struct {
		uint32_t file_id;
		int fd;
	} * opened; /* file entries opened so far */
	size_t n_opened;
	struct {
		uint32_t pipe_id;
		int fds[2];
		bool handed_out[2]; /* end given to an fd as it is */
	} * pipes;
	size_t n_pipes;
	struct {
		uint64_t inode_id;
		int fd;
		bool handed_out; /* given to an fd as it is (oc_rst_memfd_dup) */
	} * shmem;
	size_t n_shmem;
	char **ghost_paths; /* unlinked once every user opened them */
	int *ghost_fds;	    /* O_PATH, for the agents (an inotify watch) */
	size_t n_ghost_paths;
	char **ghost_parents; /* directories made for ghosts, outermost first */
	size_t n_ghost_parents;
	/* The mount namespace they were made in (under --root, the tree's,
	 * which ocicr leaves before they are removed): fd + 1, 0 if none. */
	int ghost_mntns_fd1;
	int *fds; /* every fd made by oc_rst_high_fd() */
	size_t n_fds;
	struct oc_rst_seal late_seals[OC_RST_MAX_LATE_SEALS]; /* for the blob */
	struct rst_unix *unix_sk;			      /* unix sockets between their stages (res/fd/sk_unix.c) */
	size_t n_late_seals;
};

/* Move @fd to a number >= the helper base (closing the original). */
int oc_rst_high_fd(struct oc_rst_files *files, int fd);

/* Open file entry @id (any kind) once. */
int oc_rst_open_file(struct oc_rst_files *files, uint32_t id, int *ret_fd);

/*
 * Record @fd (taking it) as the open file of entry @id, for a kind that
 * makes several entries at once (both ends of a socket pair): later opens
 * of @id find it.  *ret_fd, if given, is where it ends up.
 */
int oc_rst_file_opened(struct oc_rst_files *files, uint32_t id, int fd, int *ret_fd);

/* The recreated ghost of the unlinked file that was @name: its index in
 * files->ghost_paths, or -1. */
int oc_rst_ghost_find(const struct oc_rst_files *files, const char *name);

/* The path to open a REG entry at: its name, or its ghost, made on first
 * use, when it was unlinked. */
int oc_rst_reg_path(struct oc_rst_files *files, FileEntry *fe, const char **ret_path);

/* Remove a recreated ghost: a file, a FIFO or a directory. */
void oc_rst_ghost_remove(const char *path);
/* Kill and reap the processes that stood in for gone tasks while the
 * tree opened their /proc files and entered its working directories. */
void oc_rst_proc_helpers_stop(struct oc_rst_ctx *ctx);

/* Open a REG entry anew with @flags (for mappings and the exe). */
int oc_rst_open_reg(struct oc_rst_files *files, FileEntry *fe, int flags, int *ret_fd);

/* The shmem object of a memfd inode (created and filled on first use). */
int oc_rst_shmem_fd(struct oc_rst_files *files, uint64_t inode_id, int *ret_fd);

/*
 * A read-write fd of memfd inode @inode_id: the first one gets a dup of
 * the object's own file description (with @flags' status flags), the one
 * memfd_create() made, and so not counted as a writer: execveat() of a
 * memfd fails with ETXTBSY while any other writable open exists.  Others
 * (and fds not opened O_RDWR) get -ENOENT and open it anew.
 */
int oc_rst_memfd_dup(struct oc_rst_files *files, uint64_t inode_id, int flags, int *ret_fd);

/* State of the agent while it prepares one task. */
struct oc_rst_agent {
	struct oc_rst_ctx *ctx;
	struct oc_rst_task *task;
	struct oc_rst_files *files;
	int status_fd;
};

/* Send a warning to the coordinator, which logs it (the agent cannot). */
void oc_agent_warn(struct oc_rst_agent *ag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void oc_agent_info(struct oc_rst_agent *ag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Memory shared copy-on-write with the parent (restore/cow.c): from @addr
 * below @end, the end of the piece that is all premapped or all not;
 * *ret_premapped says which. */
uint64_t oc_rst_cow_piece(const struct oc_rst_task *t, uint64_t addr, uint64_t end, bool *ret_premapped);

/* The task's vDSO: this kernel's at the old place, or the old one as memory
 * redirected to this kernel's (restore/vdso.c). */
struct oc_rst_vdso {
	uint64_t img_vdso, img_vdso_end; /* the image's [vdso]; 0: none */
	uint64_t img_vvar;		 /* the image's [vvar]; 0: not saved */
	uint64_t own_vdso, own_len, own_vvar_len;
	bool proxy;	   /* the image's is not this kernel's */
	uint8_t *img_copy; /* its saved bytes */
};

/* A thread's scheduling policy, priority and nice value (res/task/thread.c),
 * set from outside by the coordinator as the thread is finished. */
int oc_rst_thread_sched(const ThreadCoreEntry *tc, pid_t tid);

/* The audit loginuid (res/task/task.c); -ENOENT: a kernel without audit. */
#define OC_LOGINUID_UNSET UINT32_MAX
int oc_loginuid_own(uint32_t *ret);
int oc_loginuid_set_own(uint32_t value);
/* The coordinator's own, unset while it makes the root so that every task
 * inherits none and may set its own once; true when it was unset and must
 * be set back with oc_rst_loginuid_reset_own(). */
bool oc_rst_loginuid_unset_own(uint32_t *ret_saved);
void oc_rst_loginuid_reset_own(uint32_t saved);
/* The agent: the task's loginuid from its image, before its creds. */
int oc_rst_loginuid(struct oc_rst_agent *ag);

void oc_rst_vdso_done(struct oc_rst_vdso *vd);
/* Decide how, reading the saved vDSO pages; before the runs are laid out. */
int oc_rst_vdso_prepare(struct oc_rst_agent *ag, struct oc_rst_vdso *vd);
/* The VMA, or the page at @addr, is the kernel's to map (not restored). */
bool oc_rst_vdso_is_kernels(const struct oc_rst_vdso *vd, const VmaEntry *v);
bool oc_rst_vdso_has_page(const struct oc_rst_vdso *vd, uint64_t addr);
/* Fill the blob's vDSO address and jumps; after the restorer area is mapped. */
int oc_rst_vdso_place(struct oc_rst_agent *ag, const struct oc_rst_vdso *vd, struct oc_rst_args *a);

#endif
