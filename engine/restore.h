/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restore runs load -> plan -> execute.
 *
 *  - load: read every image into messages (struct oc_rst_ctx); nothing on
 *    the system changes.
 *  - plan: order the work (engine/plan.c); --plan-only prints it.
 *  - execute: the coordinator (this process) creates each task with its
 *    pid; the task runs the agent (ocicr code) which opens files, installs
 *    fds, sets cwd/root, prepares memory sources and enters the restorer
 *    blob; the coordinator, tracing the task, finishes each thread's
 *    registers and lets it go.  The agent reports a failure over a socket
 *    with a message; the coordinator then kills what it created.
 */
#ifndef OCICR_RESTORE_H
#define OCICR_RESTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ocicr.h"
#include "img/image.h"
#include "arch/x86_64/restorer/restorer.h"

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

struct oc_rst_task {
	PstreeEntry *pstree;
	CoreEntry **cores;           /* one per thread, [0] the leader */
	size_t n_cores;
	TaskKobjIdsEntry *ids;
	MmEntry *mm;
	FsEntry *fs;
	FdinfoEntry **fds;
	size_t n_fds;
	PagemapEntry **pagemap;
	size_t n_pagemap;
	uint32_t pages_id;
	pid_t pid;
	bool zombie;
};

struct oc_rst_ctx {
	const struct oc_restore_opts *opts;
	struct oc_imgdir *dir;
	InventoryEntry *inventory;
	struct oc_rst_task *tasks;   /* pstree order: parents first */
	size_t n_tasks;
	FileEntry **files;
	size_t n_files;
	PipeDataEntry **pipe_data;
	uint8_t **pipe_payloads;
	size_t n_pipe_data;
	MemfdInodeEntry **memfds;
	size_t n_memfds;
	RemapFilePathEntry **remaps;
	size_t n_remaps;

	/* every unpacked message, freed at the end */
	ProtobufCMessage **msgs;
	size_t n_msgs, cap_msgs;
};

int oc_restore_load(struct oc_rst_ctx *ctx);
void oc_restore_ctx_fini(struct oc_rst_ctx *ctx);

FileEntry *oc_rst_find_file(struct oc_rst_ctx *ctx, uint32_t id);
MemfdInodeEntry *oc_rst_find_memfd(struct oc_rst_ctx *ctx, uint64_t inode_id);
RemapFilePathEntry *oc_rst_find_remap(struct oc_rst_ctx *ctx, uint32_t orig_id);

/* Read the pagemap of a shared memory object (pagemap-shmem-SHMID.img). */
int oc_rst_read_shmem_pagemap(struct oc_rst_ctx *ctx, uint64_t shmid, PagemapEntry ***ret_entries,
			      size_t *ret_n, uint32_t *ret_pages_id);

/* Print the plan of a loaded image set. */
int oc_restore_print_plan(struct oc_rst_ctx *ctx, FILE *out);

/* Messages from an agent to the coordinator (SOCK_SEQPACKET). */
enum oc_agent_msg_type {
	OC_AGENT_FAILED = 1, /* text says why */
	OC_AGENT_JUMPING,    /* entering the blob; area_start/area_len set */
};

struct oc_agent_msg {
	int32_t type;
	int32_t err;
	uint64_t area_start;
	uint64_t area_len;
	uint64_t syscall_ip; /* a syscall instruction inside the area */
	char text[3072];
};

/* State of the agent while it prepares one task. */
struct oc_rst_agent {
	struct oc_rst_ctx *ctx;
	struct oc_rst_task *task;
	int status_fd;
	int helper_base;        /* fds >= this are the agent's own */
	struct {
		uint32_t file_id;
		int fd;
	} *opened;              /* file entries opened so far */
	size_t n_opened;
	struct {
		uint32_t pipe_id;
		int fds[2];
		bool handed_out[2]; /* end given to an fd as it is */
	} *pipes;
	size_t n_pipes;
	struct {
		uint64_t inode_id;
		int fd;
	} *shmem;
	size_t n_shmem;
	char **ghost_paths;     /* unlinked once every user opened them */
	size_t n_ghost_paths;
	struct oc_rst_seal late_seals[OC_RST_MAX_LATE_SEALS]; /* for the blob */
	size_t n_late_seals;
};

/* Move @fd to a number >= the helper base (closing the original). */
int oc_agent_high_fd(struct oc_rst_agent *ag, int fd);

/* Open file entry @id (any kind) once; the fd belongs to the agent. */
int oc_agent_open_file(struct oc_rst_agent *ag, uint32_t id, int *ret_fd);

/* Open a REG entry for mapping with @flags (O_RDONLY / O_RDWR). */
int oc_agent_open_reg(struct oc_rst_agent *ag, FileEntry *fe, int flags, int *ret_fd);

/* The shmem object of a memfd inode (created and filled on first use). */
int oc_agent_shmem_fd(struct oc_rst_agent *ag, uint64_t inode_id, int *ret_fd);

/* Run in the new task: returns only on failure (with a message set). */
int oc_restore_agent(struct oc_rst_ctx *ctx, struct oc_rst_task *t, int status_fd);

#endif
