// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The restore plan: what the executor will do, in order, task by task.
 * `ocicr restore --plan-only` prints it.
 */
#include <inttypes.h>
#include <stdio.h>

#include "restore.h"
#include "res/files.h"
#include "res/mm.h"

static const char *fd_type_name(FdTypes t)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&fd_types__descriptor, t);
	return v ? v->name : "?";
}

static void describe_file(struct oc_rst_ctx *ctx, uint32_t id, FILE *out)
{
	FileEntry *fe = oc_rst_find_file(ctx, id);

	if (!fe) {
		fprintf(out, "missing file %u", id);
		return;
	}
	switch (fe->type) {
	case FD_TYPES__REG:
		fprintf(out, "%s%s", fe->reg->name, oc_rst_find_remap(ctx, id) ? " (unlinked, from ghost image)" : "");
		if (fe->reg->pos)
			fprintf(out, " @%" PRIu64, fe->reg->pos);
		break;
	case FD_TYPES__PIPE:
		fprintf(out, "pipe %u (%s end)", fe->pipe->pipe_id,
			(fe->pipe->flags & 3) == 1 ? "write" : "read");
		break;
	case FD_TYPES__MEMFD: {
		MemfdInodeEntry *ie = oc_rst_find_memfd(ctx, fe->memfd->inode_id);
		fprintf(out, "memfd %s", ie ? ie->name : "?");
		break;
	}
	default:
		fprintf(out, "%s %u", fd_type_name(fe->type), id);
	}
}

int oc_restore_print_plan(struct oc_rst_ctx *ctx, FILE *out)
{
	int step = 1;

	fprintf(out, "Restore plan for %zu task(s):\n", ctx->n_tasks);
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct oc_rst_task *t = &ctx->tasks[i];
		PstreeEntry *pe = t->pstree;

		fprintf(out, "%3d. create task %d (parent %d, pgid %d, sid %d)%s\n", step++, t->pid, pe->ppid,
			pe->pgid, pe->sid, t->zombie ? " as a zombie" : "");
		if (t->zombie)
			continue;
		for (size_t j = 0; j < t->n_fds; j++) {
			fprintf(out, "%3d.   task %d: fd %u <- ", step++, t->pid, t->fds[j]->fd);
			describe_file(ctx, t->fds[j]->id, out);
			fputc('\n', out);
		}
		/* The per-file setup the owner does once its fds are in
		 * (restore_agent.c install_fds). */
		for (size_t j = 0; j < t->n_fds; j++) {
			FileEntry *fe = oc_rst_find_file(ctx, t->fds[j]->id);
			const struct oc_fd_kind *kind = fe ? oc_fd_kind_of(fe->type) : NULL;
			bool first = true;
			for (size_t k = 0; k < j; k++)
				first &= t->fds[k]->id != t->fds[j]->id;
			if (!kind || !kind->setup || !first || oc_rst_file_owner(ctx, fe->id) != t->pid)
				continue;
			fprintf(out, "%3d.   task %d: fd %u (%s, owner): %s\n", step++, t->pid, t->fds[j]->fd, kind->name,
				kind->setup_what ? kind->setup_what : "set up");
		}
		fprintf(out, "%3d.   task %d: cwd ", step++, t->pid);
		describe_file(ctx, t->fs->cwd_id, out);
		fprintf(out, ", root ");
		describe_file(ctx, t->fs->root_id, out);
		fputc('\n', out);
		uint64_t pages = 0;
		for (size_t j = 0; j < t->n_pagemap; j++)
			pages += t->pagemap[j]->has_nr_pages ? t->pagemap[j]->nr_pages : t->pagemap[j]->compat_nr_pages;
		fprintf(out, "%3d.   task %d: memory: %zu VMAs, %" PRIu64 " pages from pages-%u.img\n", step++,
			t->pid, t->mm->n_vmas, pages, t->pages_id);
		fprintf(out, "%3d.   task %d: signal handlers, %zu POSIX timer(s), resource limits\n", step++, t->pid,
			t->cores[0]->tc->timers->n_posix);
		fprintf(out, "%3d.   task %d: %zu thread(s):", step++, t->pid, t->n_cores);
		for (size_t j = 0; j < t->n_cores; j++)
			fprintf(out, " %u", pe->threads[j]);
		fprintf(out, "; credentials last\n");
		fprintf(out, "%3d.   task %d: load registers and resume\n", step++, t->pid);
	}
	return 0;
}
