// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Namespace files (nsfs): an fd opened on /proc/PID/ns/NAME, whose link
 * reads "net:[INODE]".  CRIU's ns_file_entry names the namespace by the
 * id the tree's tasks have for it (ids-PID.img), its kind by its clone
 * flag (CLONE_NEWNET...), and keeps the file's flags.
 *
 * Only a namespace of the tree's root can be named at restore: one its
 * tasks are in.  If the restore leaves the root in the restorer's
 * namespace of that kind, the file is the restorer's own; if it joins a
 * given one (--join-ns), that one.  A namespace the restore creates only
 * exists once the root does, after the files are opened: refused for now.
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "res/ns/ns.h"
#include "core/error.h"

#include "ns.pb-c.h"

static bool nsfs_match(const struct oc_dump_fd *fd)
{
	struct statfs sfs;

	return strstr(fd->link, ":[") && fd->link[0] != '/' && fstatfs(fd->local, &sfs) == 0 &&
	       sfs.f_type == NSFS_MAGIC;
}

static int nsfs_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	struct oc_dump_ctx *ctx = t->ctx;
	char name[32];
	uint32_t ns_id = 0;

	/* "pid_for_children" and "time_for_children" read "pid:", "time:". */
	if (sscanf(fd->link, "%31[a-z]:[", name) != 1)
		return oc_error(-EINVAL, "a namespace file whose link is not NAME:[INODE]");
	int k = oc_ns_kind_by_name(name);
	if (k < 0)
		return oc_error(-EOPNOTSUPP, "a file of a %s namespace, a kind ocicr does not know", name);
	for (size_t i = 0; i < ctx->n_ns_seen && !ns_id; i++)
		if (ctx->ns_seen[i].ino == fd->st.st_ino)
			ns_id = ctx->ns_seen[i].id;
	if (!ns_id || !ctx->tasks[0].ids || ns_id != oc_ns_id(ctx->tasks[0].ids, k))
		return oc_error(-EOPNOTSUPP,
				"a file of a %s namespace the tree's root %d is not in, which ocicr cannot "
				"restore yet",
				name, ctx->tasks[0].pid);

	NsFileEntry *e = OC_ARENA_MSG(ctx->arena, NsFileEntry, NS_FILE_ENTRY__INIT);
	FileEntry *fe = OC_ARENA_MSG(ctx->arena, FileEntry, FILE_ENTRY__INIT);
	if (!e || !fe)
		return -ENOMEM;
	fe->type = FD_TYPES__NS;
	fe->id = e->id = oc_dump_new_file_id(ctx);
	e->ns_id = ns_id;
	e->ns_cflag = oc_ns_kind_flag(k);
	e->flags = fd->info.flags & ~O_CLOEXEC;
	fe->nsf = e;
	return oc_dump_file_end(t, fe, ret_id);
}

/* ---- restore ------------------------------------------------------------ */

static int nsfs_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	struct oc_rst_ctx *ctx = files->ctx;
	NsFileEntry *e = fe->nsf;
	char path[64];

	if (!e)
		return oc_error(-EINVAL, "files.img: file %u has no ns entry", fe->id);
	int k = oc_ns_kind_by_flag(e->ns_cflag);
	if (k < 0)
		return oc_error(-EINVAL, "files.img: file %u is of namespace kind 0x%x, which is none", fe->id,
				e->ns_cflag);
	const char *name = oc_ns_kind_name(k);
	if (!ctx->n_tasks || !ctx->tasks[0].ids || e->ns_id != oc_ns_id(ctx->tasks[0].ids, k))
		return oc_error(-EOPNOTSUPP, "file %u: a %s namespace (%u) the tree's root is not in", fe->id, name,
				e->ns_id);
	if (ctx->ns->join_fd[k] >= 0)
		snprintf(path, sizeof(path), "/proc/self/fd/%d", ctx->ns->join_fd[k]);
	else if (!oc_ns_rst_not_ours(ctx, k))
		snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
	else
		return oc_error(-EOPNOTSUPP, "file %u: a file of the %s namespace the restore makes: not supported yet",
				fe->id, name);
	int fd = open(path, (e->flags & O_ACCMODE) | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot open %s", path);
	*ret_fd = fd;
	return 0;
}

const struct oc_fd_kind oc_fd_kind_nsfs = {
	.name = "namespace file",
	.type = FD_TYPES__NS,
	.match = nsfs_match,
	.dump = nsfs_dump,
	.open = nsfs_open,
};
