/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dump: freeze the tree, collect every resource of every task into
 * CRIU-format messages, write the images, then let the tree go.
 *
 * The messages of a dump live in one arena; a resource module fills its
 * part of a task's messages from /proc, ptrace and (rarely) remote system
 * calls.  Memory contents stream to their images while collecting; the
 * other images are written once every task is collected, the inventory
 * last.  Every image written is removed again if a later step fails.
 *
 * This header is what a resource module sees of a dump; the driver is
 * dump/dump.c.
 */
#ifndef OCICR_RES_DUMP_H
#define OCICR_RES_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "ocicr.h"
#include "seize/seize.h"
#include "arch/arch.h"
#include "img/image.h"
#include "proc/proc.h"
#include "core/arena.h"

#include "core.pb-c.h"
#include "fdinfo.pb-c.h"
#include "fs.pb-c.h"
#include "mm.pb-c.h"
#include "pstree.pb-c.h"

struct oc_dump_ctx;

struct oc_dump_thread {
	struct oc_seized_thread *seized;
	CoreEntry *core;
	struct oc_remote rs;		      /* remote session, while collecting */
	pid_t vtid;			      /* its tid in the tree's pid namespace */
	pid_t ns_tids[OC_PROC_NS_LEVELS_MAX]; /* and below it, as the task's ns_pids */
	unsigned int seccomp_mode;	      /* SECCOMP_MODE_* (res/task/seccomp.c) */
};

struct oc_dump_task {
	struct oc_dump_ctx *ctx;
	struct oc_seized_task *seized;
	pid_t pid;  /* in ocicr's pid namespace */
	pid_t vpid; /* in the tree's: what the images say */
	/* In the pid namespaces below the tree's it is in, outermost first
	 * (the last is its pid in its own); none in the tree's. */
	pid_t ns_pids[OC_PROC_NS_LEVELS_MAX];
	size_t n_ns_pids;
	struct oc_proc_stat stat;
	struct oc_proc_status status;
	struct oc_proc_vma *vmas;
	size_t n_vmas;
	int pidfd;
	unsigned long syscall_ip;
	bool seccomp_suspended; /* traced with PTRACE_O_SUSPEND_SECCOMP */

	struct oc_dump_thread *threads; /* [0] is the leader */
	size_t n_threads;

	PstreeEntry *pstree;
	TaskKobjIdsEntry *ids;
	MmEntry *mm;
	FsEntry *fs;
	FdinfoEntry **fds;
	size_t n_fds;
	uint32_t pages_id;

	/* Snapshot dumps (res/pages.c): the copy-on-write twin, and a copy
	 * of the memory it does not share, indexed by address. */
	pid_t twin;
	int twin_adopter; /* the task that adopted it (index), or -1 */
	pid_t twin_vpid;  /* the twin's pid as its adopter sees it */
	int frozen_fd;
	struct {
		uint64_t vaddr, n_pages;
	} * frozen_runs;
	size_t n_frozen_runs;
};

/* One open file description already given an id in files.img. */
struct oc_dump_file {
	uint32_t id;
	pid_t pid; /* a task holding it, for kcmp */
	int fd;	   /* its fd number there, or -1 for mapped/cwd files */
	dev_t dev;
	ino_t ino;
	int type; /* FdTypes */
};

struct oc_dump_ctx {
	const struct oc_dump_opts *opts;
	struct oc_arena *arena;
	struct oc_imgdir *dir;
	struct oc_seized_tree tree;
	bool cow;			/* pages come from twins after release */
	struct oc_proc_vma *early_vmas; /* the root's smaps, read before the freeze */
	size_t n_early_vmas;
	struct oc_dump_task *tasks;
	size_t n_tasks;

	/* files.img, in discovery order */
	struct FileEntry **files;
	size_t n_files, cap_files;
	struct oc_dump_file *known_files;
	size_t n_known_files;
	uint32_t next_file_id;
	uint32_t next_pages_id;
	int64_t page_cache_budget; /* see oc_pages_cache_budget() */
	/* res/pages.c's buffers, one set for every writer and scan of the
	 * dump: fresh memory is slow to touch, and a tree has many tasks */
	uint8_t *page_bufs[2];
	uint64_t *scan_words;
	uint32_t next_memfd_inode_id;

	/* entries of multi-entry images shared by the tree (pipes-data,
	 * memfd, tty-info, sk-queues, ...), written at the end */
	struct oc_dump_queue {
		ProtobufCMessage **msgs;
		uint8_t **payloads;
		size_t n, cap;
	} queues[_OC_IMG_KIND_MAX];

	/* unix sockets of the system and of the tree (res/sk_unix.c),
	 * read on first use */
	struct oc_unix_dump *unix_sk;

	/* per kcmp kind (KCMP_VM, _FILES, _FS, _SIGHAND): one task for each
	 * object seen, sorted by kcmp's order of the objects (res/task.c) */
	struct oc_kobj_index {
		struct oc_kobj_rep {
			pid_t pid;
			uint32_t id;
		} * reps;
		size_t n;
		uint32_t last_id;
	} kobjs[4];

	/* seccomp.img: every filter of the tree, oldest of a chain first */
	struct oc_seccomp_table {
		struct SeccompFilter **filters;
		size_t n, cap;
	} seccomp;

	/* namespace inode -> id, one counter for all kinds (res/ns/) */
	struct {
		uint64_t ino;
		uint32_t id;
	} ns_seen[64];
	size_t n_ns_seen;
	uint32_t own_ns_ids[8]; /* ocicr's own, by enum oc_ns_kind */
	bool own_ns_numbered;
	uint32_t ns_dumped;	   /* 1 << kind: the root's, dumped */
	bool own_pidns;		   /* the tree's pids are those of a pid namespace below ocicr's */
	const char *pidns_ext_key; /* that namespace is external (--external pid[INODE]:KEY) */
	/* the maps of the tree's user namespace (res/ns/userns.c), or NULL */
	const struct oc_userns_maps *userns;
	/* this dump's id (a UUID: names its network lock, in the inventory) */
	char run_id[40];
	/* TCP connections in repair mode and their lock (res/fd/sk_tcp.c) */
	struct oc_tcp_state *tcp;

	/* cgroup sets and cgroup.img (res/cgroup/cgroup.c), made on first use */
	struct oc_cg_dump *cgroup;
	/* --cgroup-props and --cgroup-props-file, or NULL */
	struct oc_cg_props *cg_props;
	bool freezer_was_frozen; /* --freeze-cgroup: frozen before the dump */

	/* stats */
	uint64_t pages_scanned, pages_written, shpages_written;
	uint64_t freezing_us, frozen_us, memdump_us, memwrite_us;
};

/*
 * Queue an entry (and its raw payload, sized by oc_img_payload_size(), or
 * NULL) for image @kind, written once every task is collected.
 */
int oc_dump_queue(struct oc_dump_ctx *ctx, enum oc_img_kind kind, ProtobufCMessage *msg, const void *payload);

/* The entries queued so far for @kind. */
static inline size_t oc_dump_queued(struct oc_dump_ctx *ctx, enum oc_img_kind kind, ProtobufCMessage ***ret)
{
	*ret = ctx->queues[kind].msgs;
	return ctx->queues[kind].n;
}

/* Add @fe to files.img with a fresh id (set in fe->id and its sub-message). */
uint32_t oc_dump_new_file_id(struct oc_dump_ctx *ctx);
int oc_dump_add_file(struct oc_dump_ctx *ctx, struct FileEntry *fe);

/*
 * Resource modules.  Each fills its part of a task's messages; they run in
 * this order for every task, parents first.
 */
int oc_dump_task_core(struct oc_dump_task *t);	/* res/task.c: tc, ids */
int oc_dump_threads(struct oc_dump_task *t);	/* res/thread.c */
int oc_dump_sigactions(struct oc_dump_task *t); /* res/sigact.c */
int oc_dump_timers(struct oc_dump_task *t);	/* res/timer.c */
int oc_dump_rlimits(struct oc_dump_task *t);	/* res/rlimit.c */
int oc_dump_signals(struct oc_dump_task *t);	/* res/signal.c */
int oc_dump_mm(struct oc_dump_task *t);		/* res/mm.c */
int oc_dump_pages(struct oc_dump_task *t);	/* res/pages.c */
/* After the tree was released: write the pages of a snapshot dump. */
int oc_dump_pages_from_twin(struct oc_dump_task *t);
int oc_dump_fs(struct oc_dump_task *t);	   /* res/fs.c */
int oc_dump_files(struct oc_dump_task *t); /* res/files.c */
/* Close our copies of the files in flight on unix sockets (res/fd/files.c). */
void oc_dump_inflight_release(struct oc_dump_ctx *ctx);

/*
 * Files of any kind referenced by path (exe, mapped files, cwd, root): the
 * id of a REG entry for @path opened by @t, shared when (dev, ino) repeats.
 */
int oc_dump_path_file(struct oc_dump_task *t, const char *path, int fd, uint32_t *ret_id);

/* The contents of the unlinked file (or FIFO) open as @fd, in a ghost
 * image, and file @file_id remapped to it. */
int oc_dump_ghost(struct oc_dump_ctx *ctx, uint32_t file_id, int fd, const struct stat *st);
/* A dump that failed: remove the link_remap names it made (--link-remap). */
void oc_dump_link_remaps_undo(struct oc_dump_ctx *ctx);

/* res/shmem.c: shared anonymous memory and memfds */
struct VmaEntry;
int oc_dump_shmem_vma(struct oc_dump_task *t, const struct oc_proc_vma *v, struct VmaEntry *ve);
int oc_dump_shmem_file(struct oc_dump_task *t, int fd, const char *name, uint32_t flags, uint64_t pos,
		       uint32_t *ret_file_id);

#endif
