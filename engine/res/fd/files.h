/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * File descriptors.  The fd table walk (res/files.c) hands each fd to the
 * module of its kind, found through one table; each kind module has its
 * dump and restore side by side.
 */
#ifndef OCICR_RES_FILES_H
#define OCICR_RES_FILES_H

#include <sys/stat.h>

#include "res/dump.h"
#include "res/restore.h"

#include "fdinfo.pb-c.h"
#include "fown.pb-c.h"

/* One fd of a task being dumped. */
struct oc_dump_fd {
	int num;	/* fd number in the task */
	int local;	/* our copy of it (pidfd_getfd) */
	char *link;	/* readlink of /proc/PID/fd/N */
	bool in_flight; /* passed on a unix socket: num is ours (local), not the task's */
	struct stat st;
	struct oc_proc_fdinfo info;
};

struct oc_fd_kind {
	const char *name;
	FdTypes type;
	/* Does this kind handle the fd?  Checked in table order. */
	bool (*match)(const struct oc_dump_fd *fd);
	/* Add the file entry for the fd to files.img; set *ret_id. */
	int (*dump)(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id);
	/*
	 * Restore, in the coordinator before the tree exists: open the file
	 * entry once, returning its fd; the tasks inherit it (restore.h).
	 */
	int (*open)(struct oc_rst_files *files, FileEntry *fe, int *ret_fd);
	/*
	 * Restore, optional, in a task once its fds are installed: what needs
	 * the task's own fd numbers (epoll watches) or the task itself (POSIX
	 * locks).  Runs once per file entry, in its owner: the lowest pid among
	 * the tasks holding it.  @fd is one of that task's fds for the entry.
	 */
	int (*setup)(struct oc_rst_agent *ag, FileEntry *fe, int fd);
	/* What setup does, in a few words, for the plan printer. */
	const char *setup_what;
	/*
	 * Restore, optional, for a kind whose files are made together (unix
	 * sockets connect to each other): stages the coordinator runs in
	 * order, each a plan step, before it opens any file of the kind; then
	 * every file of the kind is found opened.  fini drops what the stages
	 * hold if the restore stops before their end.
	 */
	const char *const *stages;
	size_t n_stages;
	int (*run_stage)(struct oc_rst_files *files, size_t stage);
	void (*fini)(struct oc_rst_files *files);
	/*
	 * Restore: the images of the whole tree the kind reads (oc_rst_image()),
	 * loaded and checked by restore/load.c before anything is made.
	 */
	enum oc_img_kind images[OC_KIND_MAX_IMAGES];
	size_t n_images;
};

/* Every fd kind, in the order their match is tried (res/fd/files.c). */
extern const struct oc_fd_kind *const oc_fd_kinds[];
extern const size_t oc_n_fd_kinds;

/* The kind module for a file entry type, or NULL. */
const struct oc_fd_kind *oc_fd_kind_of(FdTypes type);

/* Let every fd kind drop what its restore stages still hold. */
void oc_fd_kinds_fini(struct oc_rst_files *files);

/* The fd numbers of task @pid, ascending (malloc'ed). */
int oc_dump_list_fds(pid_t pid, int **ret_fds, size_t *ret_n);

/*
 * A file in flight (passed with SCM_RIGHTS, still queued on a unix socket),
 * which we hold as @local (taken): its file entry, a new one or that of a
 * task's fd sharing it, with no fd of its own.  New ones stay open until
 * the dump ends (oc_dump_inflight_release()), so that fds sharing them find them.
 */
int oc_dump_inflight_file(struct oc_dump_task *t, int local, uint32_t *ret_id);

/* The fown of an open file, read through our copy of it; its uids as the
 * tree's user namespace sees them (the owner sets them again inside). */
int oc_dump_fown(struct oc_dump_ctx *ctx, int local_fd, FownEntry **ret);

/*
 * Restore, in the task once fd @fd of file entry @fe is installed: the
 * signal and owner (F_SETSIG, F_SETOWN_EX) its fown gives, if any.
 */
int oc_rst_fown(struct oc_rst_ctx *ctx, FileEntry *fe, int fd);

/*
 * What the entry of every kind of anonymous-inode file starts with: a
 * FileEntry of @type for it to hang on, with a fresh id (also put in
 * *@id), @fd's flags less O_CLOEXEC in *@flags, and @fd's fown.  The kind
 * fills in the rest and its member of the FileEntry, then ends with
 * oc_dump_file_end(): into files.img, and its id to the fd.
 */
int oc_dump_file_begin(struct oc_dump_task *t, const struct oc_dump_fd *fd, FdTypes type, uint32_t *id, uint32_t *flags,
		       FownEntry **fown, FileEntry **ret_fe);
int oc_dump_file_end(struct oc_dump_task *t, FileEntry *fe, uint32_t *ret_id);

/* Kind modules. */
extern const struct oc_fd_kind oc_fd_kind_reg;
extern const struct oc_fd_kind oc_fd_kind_memfd;
extern const struct oc_fd_kind oc_fd_kind_pipe;
extern const struct oc_fd_kind oc_fd_kind_tty;
extern const struct oc_fd_kind oc_fd_kind_fifo;
extern const struct oc_fd_kind oc_fd_kind_unix;
extern const struct oc_fd_kind oc_fd_kind_inet;	   /* TCP, UDP, UDP-lite, ping */
extern const struct oc_fd_kind oc_fd_kind_packet;  /* res/fd/sk_packet.c */
extern const struct oc_fd_kind oc_fd_kind_netlink; /* res/fd/sk_netlink.c */
extern const struct oc_fd_kind oc_fd_kind_socket;  /* other families: refused */
extern const struct oc_fd_kind oc_fd_kind_eventfd;
extern const struct oc_fd_kind oc_fd_kind_eventpoll;
extern const struct oc_fd_kind oc_fd_kind_signalfd;
extern const struct oc_fd_kind oc_fd_kind_timerfd;
extern const struct oc_fd_kind oc_fd_kind_inotify;
extern const struct oc_fd_kind oc_fd_kind_fanotify;
extern const struct oc_fd_kind oc_fd_kind_pidfd;
extern const struct oc_fd_kind oc_fd_kind_nsfs;

/*
 * Is @fd an anonymous-inode file of kind @name, as its link names it
 * ("[eventfd]", "inotify": the text after "anon_inode:")?
 */
bool oc_fd_is_anon(const struct oc_dump_fd *fd, const char *name);

/*
 * Restore: give a file made anew the status flags of its image (the
 * O_NONBLOCK, O_ASYNC... part of @flags; the access mode is the kind's).
 */
int oc_rst_set_status_flags(int fd, uint32_t flags);

/*
 * Restore (res/fd/sk_unix.c): the unix socket whose queue passes file @id
 * in a message (SCM_RIGHTS), or 0.  A file only in flight that needs a
 * setup gets it in the task owning that socket, as CRIU does.
 */
uint32_t oc_rst_unix_in_flight_holder(struct oc_rst_ctx *ctx, uint32_t id);

/*
 * res/fd/sk_packet.c, for packet rings mapped into memory.  At dump, once
 * the task's fds are dumped: each VMA_AREA_SOCKET VMA of its memory map
 * (mem/mm.c, with the socket's inode in shmid) gets the file id of the
 * packet socket, which one of its fds must hold, and must map all of its
 * rings.  At restore: a new fd of that socket, rings set, to map it from.
 */
struct VmaEntry;
int oc_packet_dump_maps(struct oc_dump_task *t);
int oc_packet_rst_map_fd(struct oc_rst_files *files, const struct VmaEntry *ve, int *ret_fd);

/* Is this a terminal device (handled by res/tty.c)? */
bool oc_is_tty_dev(const struct stat *st);

/* In task @t, once its session and group are made (res/fd/tty.c): a
 * session leader takes the terminal the images give its session as
 * controlling terminal, before it makes any task (they inherit it); a group
 * leader whose group had the terminal's foreground takes it again. */
int oc_rst_tty_session(struct oc_rst_files *files, const struct oc_rst_task *t);

/*
 * res/pipe.c, for pipes and FIFOs: queue the unread bytes of the pipe that
 * @rd reads from as a pipe_data_entry of image @kind, once per @pipe_id;
 * at restore, write them back into @wr.
 */
int oc_dump_pipe_data(struct oc_dump_ctx *ctx, enum oc_img_kind kind, int rd, uint32_t pipe_id);
int oc_rst_fill_pipe(struct oc_rst_ctx *ctx, enum oc_img_kind kind, uint32_t pipe_id, int wr);

/*
 * res/file_lock.c.  At dump, for each fd (after its file has id
 * @file_id): the locks its fdinfo shows, queued for filelocks.img, or a
 * refusal without --file-locks.  At restore, in the agent once the task's
 * fds are installed: the locks the task held.
 */
int oc_dump_fd_locks(struct oc_dump_task *t, const struct oc_dump_fd *fd, uint32_t file_id);
int oc_rst_file_locks(struct oc_rst_agent *ag);

#endif
