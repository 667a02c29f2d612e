/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A checkpoint as an inspection sees it: the process tree, each process's
 * identity, files, sockets and memory sizes, read from the CRIU images with
 * a light loader (no restore checks, nothing of the memory but what is
 * asked for).  Reports (report.c) and diffs (diff.c) are made from this.
 */
#ifndef OCICR_INSPECT_MODEL_H
#define OCICR_INSPECT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "oci/inspect/meta.h"
#include "oci/inspect/source.h"
#include "oci/inspect/vm.h"

/* One open file of a process (an fdinfo entry and its files.img object). */
struct oci_fd {
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

struct oci_socket {
	uint32_t fd;
	const char *kind;  /* "tcp", "tcp6", "udp", "udp6", "raw", "unix", "packet", "netlink" */
	const char *type;  /* "stream", "dgram", "seqpacket", "raw" */
	const char *state; /* "LISTEN", "ESTABLISHED", ... */
	char *local;	   /* "10.88.0.10:8080", "/run/x.sock", "@abstract", "" */
	char *remote;	   /* peer address, or NULL */
	uint32_t ino;
	uint32_t peer_ino; /* unix: the peer socket's inode, 0 if none */
};

struct oci_task {
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
	uint64_t vma_size;     /* bytes of all mappings */
	struct oci_pagemap pm; /* dumped pages */
	char **argv;	       /* from memory, with memory_strings */
	size_t argc;
	char *argv_error; /* why argv could not be read, or NULL */
	char **env;
	size_t envc;
	char *env_error;
	struct oci_fd *fds;
	size_t n_fds;
	struct oci_socket *socks;
	size_t n_socks;
};

struct oci_img_mount {
	uint32_t mnt_id, parent_mnt_id;
	char *mountpoint;
	char *fstype;
	char *source;
	char *options;
};

struct oci_dump_stats {
	bool present;
	uint32_t freezing_time, frozen_time, memdump_time, memwrite_time; /* microseconds */
	uint64_t pages_scanned, pages_skipped_parent, pages_written, pages_lazy;
	bool has_irmap_resolve, has_page_pipes, has_page_pipe_bufs;
	uint32_t irmap_resolve;
	uint64_t page_pipes, page_pipe_bufs;
	bool has_shpages;
	uint64_t shpages_scanned, shpages_skipped_parent, shpages_written;
};

struct oci_ckpt {
	char *images_dir;
	uint32_t img_version;
	char *hostname;		/* the UTS namespace's nodename, from the images */
	struct oci_task *tasks; /* pstree order: parents before children */
	size_t n_tasks;
	struct oci_img_mount *mounts; /* the root task's mount namespace */
	size_t n_mounts;
	struct oci_dump_stats stats;
	bool memory_read; /* argv and env were read */
};

struct oci_ckpt_opts {
	size_t sz;
	bool memory_strings; /* read argv and env from the pages (needs the pages images) */
};

int oci_ckpt_load(const struct oci_source *src, const struct oci_ckpt_opts *opts, struct oci_ckpt **ret_ckpt);
void oci_ckpt_free(struct oci_ckpt *c);

const struct oci_task *oci_ckpt_find_task(const struct oci_ckpt *c, pid_t pid);

/* Open pages-<pm.pages_id>.img of @t (for --memory); the fd is the caller's. */
int oci_ckpt_open_pages(const struct oci_ckpt *c, const struct oci_task *t, int *ret_fd);

/* "O_RDWR|O_APPEND|O_LARGEFILE": x86_64 kernel values, any rest in octal. */
void oci_format_oflags(uint32_t flags, char *buf, size_t size);

#endif
