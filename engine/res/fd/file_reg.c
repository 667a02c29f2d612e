// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Files reached by path: regular files, directories, device nodes (other
 * than terminals), symbolic links (O_PATH | O_NOFOLLOW fds) and memfds,
 * whether open as fds, mapped, the executable, the cwd or the root.  A file that was unlinked while open keeps its
 * contents in a ghost-file image so restore can recreate it.
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <limits.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/sched.h>
#include <signal.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/elf.h"
#include "core/error.h"
#include "core/log.h"

#include "fdinfo.pb-c.h"
#include "ghost-file.pb-c.h"
#include "regfile.pb-c.h"
#include "remap-file-path.pb-c.h"

#define DELETED_SUFFIX " (deleted)"
/* A ghost whose old name is taken again gets this name beside it. */
#define GHOST_SUFFIX ".ocicr-ghost-"
/* Unlinked files larger than this are refused rather than copied. */
#define GHOST_LIMIT (64ull << 20)

static bool strip_deleted(char *path)
{
	size_t len = strlen(path), slen = strlen(DELETED_SUFFIX);

	if (len > slen && !strcmp(path + len - slen, DELETED_SUFFIX)) {
		path[len - slen] = '\0';
		return true;
	}
	return false;
}

/* Copy @len bytes of @fd from @off into @img. */
static int ghost_copy_out(struct oc_img *img, int fd, off_t off, uint64_t len)
{
	char buf[65536];

	while (len) {
		ssize_t n = pread(fd, buf, MIN(len, sizeof(buf)), off);
		if (n < 0)
			return oc_error_errno(-errno, "cannot read unlinked file");
		if (n == 0)
			return oc_error(-EIO, "unlinked file: %" PRIu64 " bytes short at %lld (shrunk?)", len,
					(long long)off);
		int r = oc_img_write_raw(img, buf, n);
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * A sparse file's data runs, each a ghost_chunk_entry and its bytes, as
 * CRIU writes them: its holes stay holes (and a large file with little
 * data in it fits a ghost limit).
 */
static int ghost_copy_chunks(struct oc_img *img, int fd, off_t size)
{
	for (off_t off = 0; off < size;) {
		off_t data = lseek(fd, off, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0)
			return oc_error_errno(-errno, "unlinked file: SEEK_DATA");
		if (data >= size)
			break;
		off_t hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			return oc_error_errno(-errno, "unlinked file: SEEK_HOLE");
		hole = MIN(hole, size);
		GhostChunkEntry ce = GHOST_CHUNK_ENTRY__INIT;
		ce.off = data;
		ce.len = hole - data;
		int r = oc_img_write_entry(img, &ce.base);
		if (r < 0)
			return r;
		r = ghost_copy_out(img, fd, data, ce.len);
		if (r < 0)
			return r;
		off = hole;
	}
	return 0;
}

/* Save the contents of an unlinked file and map its id to the ghost. */
/* The task's offset in a file we share its open file with, put back. */
struct saved_pos {
	int fd;
	off_t pos;
};

static void saved_pos_restore(struct saved_pos *p)
{
	if (p->pos >= 0)
		lseek(p->fd, p->pos, SEEK_SET);
}

/* O_PATH fds cannot be read. */
static bool fd_readable(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl >= 0 && !(fl & O_PATH) && (fl & O_ACCMODE) != O_WRONLY;
}

/* known_files entries of ghosts: (dev, ino) -> remap id, marked so. */
#define GHOST_MARK (-2)

/* File @file_id is reached through @remap_id (a ghost, a pid, a link). */
static int queue_remap(struct oc_dump_ctx *ctx, uint32_t file_id, uint32_t remap_id, RemapType type)
{
	RemapFilePathEntry *rm = OC_ARENA_MSG(ctx->arena, RemapFilePathEntry, REMAP_FILE_PATH_ENTRY__INIT);

	if (!rm)
		return -ENOMEM;
	rm->orig_id = file_id;
	rm->remap_id = remap_id;
	rm->has_remap_type = true;
	rm->remap_type = type;
	return oc_dump_queue(ctx, OC_IMG_REMAP_FPATH, &rm->base, NULL);
}

static int remap_to_ghost(struct oc_dump_ctx *ctx, uint32_t file_id, uint32_t remap_id)
{
	return queue_remap(ctx, file_id, remap_id, REMAP_TYPE__GHOST);
}

int oc_dump_ghost(struct oc_dump_ctx *ctx, uint32_t file_id, int fd, const struct stat *st)
{
	/* SEEK_HOLE and SEEK_DATA move the offset the task sees. */
	_cleanup_(saved_pos_restore) struct saved_pos pos = { fd, lseek(fd, 0, SEEK_CUR) };
	GhostFileEntry ge = GHOST_FILE_ENTRY__INIT;
	Timeval atim = TIMEVAL__INIT, mtim = TIMEVAL__INIT;
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	int r;

	/* One ghost per inode: names of one file (hard links) share it. */
	for (size_t i = 0; i < ctx->n_known_files; i++) {
		const struct oc_dump_file *k = &ctx->known_files[i];
		if (k->fd == GHOST_MARK && k->dev == st->st_dev && k->ino == st->st_ino)
			return remap_to_ghost(ctx, file_id, k->id);
	}
	uint32_t remap_id = oc_dump_new_file_id(ctx);

	/* A FIFO, a directory or a device node is only its name, mode (and
	 * device number): a ghost without contents (a removed directory is
	 * empty). */
	if (S_ISSOCK(st->st_mode))
		return oc_error(-EOPNOTSUPP, "unlinked sockets are not supported");
	struct statfs sfs;
	if (fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC)
		return oc_error(-EOPNOTSUPP, "a removed file in /proc cannot be made again");
	/* What it holds counts, as with CRIU: not the holes of a sparse one. */
	uint64_t limit = ctx->opts->ghost_limit ? ctx->opts->ghost_limit : GHOST_LIMIT;
	uint64_t held = MIN((uint64_t)st->st_size, (uint64_t)st->st_blocks * 512);
	if (held > limit)
		return oc_error(-EFBIG,
				"unlinked file of %" PRIu64 " bytes is over the ghost limit of %" PRIu64
				" bytes (--ghost-limit raises it)",
				held, limit);
	/* A file open for writing only is read through a reader of our own
	 * (its magic link opens it, unlinked or not). */
	_cleanup_close_ int reader = -1;
	if (S_ISREG(st->st_mode) && !fd_readable(fd)) {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		reader = open(proc, O_RDONLY | O_CLOEXEC);
		if (reader < 0)
			return oc_error_errno(-errno, "cannot open the unlinked file for reading");
		fd = reader;
	}
	off_t first_hole = S_ISREG(st->st_mode) ? lseek(fd, 0, SEEK_HOLE) : -1;
	bool sparse = first_hole >= 0 && first_hole < st->st_size;

	ge.uid = oc_dump_uid(ctx, st->st_uid);
	ge.gid = oc_dump_gid(ctx, st->st_gid);
	ge.mode = st->st_mode;
	ge.has_dev = true;
	ge.dev = st->st_dev;
	ge.has_ino = true;
	ge.ino = st->st_ino;
	atim.tv_sec = st->st_atim.tv_sec;
	atim.tv_usec = st->st_atim.tv_nsec / 1000;
	mtim.tv_sec = st->st_mtim.tv_sec;
	mtim.tv_usec = st->st_mtim.tv_nsec / 1000;
	ge.atim = &atim;
	ge.mtim = &mtim;
	ge.has_size = true;
	ge.size = st->st_size;
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		/* dev_t as CRIU writes it: truncated to 32 bits */
		ge.has_rdev = true;
		ge.rdev = (uint32_t)st->st_rdev;
	}
	ge.has_chunks = sparse;
	ge.chunks = sparse;
	/* A symbolic link (held by an O_PATH fd) is its target. */
	char target[PATH_MAX];
	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
		if (n < 0)
			return oc_error_errno(-errno, "cannot read the removed symbolic link");
		target[n] = '\0';
		ge.symlnk_target = target;
	}

	r = oc_img_create(ctx->dir, OC_IMG_GHOST_FILE, remap_id, &img);
	if (r < 0)
		return r;
	r = oc_img_write_entry(img, &ge.base);
	if (r < 0)
		return r;
	r = sparse		   ? ghost_copy_chunks(img, fd, st->st_size)
	    : S_ISREG(st->st_mode) ? ghost_copy_out(img, fd, 0, st->st_size)
				   : 0;
	if (r < 0)
		return r;
	r = oc_img_commit(img);
	if (r < 0)
		return r;

	struct oc_dump_file *k = realloc(ctx->known_files, (ctx->n_known_files + 1) * sizeof(*k));
	if (!k)
		return -ENOMEM;
	ctx->known_files = k;
	ctx->known_files[ctx->n_known_files++] =
		(struct oc_dump_file){ .id = remap_id, .fd = GHOST_MARK, .dev = st->st_dev, .ino = st->st_ino };
	return remap_to_ghost(ctx, file_id, remap_id);
}

/* The mount our fd @fd is on (its fdinfo's mnt_id), or -1. */
static int local_mnt_id(int fd)
{
	_cleanup_free_ char *text = NULL;
	struct oc_proc_fdinfo fi = {};
	char name[32];
	int mnt_id = -1;

	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	if (oc_proc_read(getpid(), name, &text, NULL) < 0 || oc_proc_parse_fdinfo(text, &fi) < 0)
		return -1;
	if (fi.has_mnt_id)
		mnt_id = fi.mnt_id;
	oc_proc_fdinfo_clear(&fi);
	return mnt_id;
}

/*
 * A file under /proc/PID of a process that is gone (a working directory
 * there, say): as CRIU, a PROCFS remap naming PID, for which the restore
 * makes a process while it opens the file.  1 if @path is one, 0 if not.
 */
static int dump_dead_proc(struct oc_dump_ctx *ctx, uint32_t file_id, const char *path, bool deleted, int fd)
{
	struct statfs sfs;
	char dir[64];
	int pid, end = 0;

	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
		return 0;
	if (sscanf(path, "/proc/%d%n", &pid, &end) != 1 || pid <= 0 || (path[end] && path[end] != '/'))
		return 0;
	/* /proc/PID itself reads "(deleted)", a file in it does not. */
	snprintf(dir, sizeof(dir), "/proc/%d", pid);
	if (!deleted && access(dir, F_OK) == 0)
		return 0;
	int r = queue_remap(ctx, file_id, pid, REMAP_TYPE__PROCFS);
	return r < 0 ? r : 1;
}

/*
 * A file open by a removed name that has another (--link-remap): as CRIU,
 * a hard link to it named link_remap.ID beside the removed name (or in
 * the nearest directory above that is still there), a file entry of that
 * name, and a LINKED remap to it.  The restore opens the file through it
 * and removes it.
 */
static int dump_linked(struct oc_dump_ctx *ctx, uint32_t file_id, const char *path, int fd)
{
	_cleanup_free_ char *link_path = NULL;
	char proc[64];
	uint32_t id = oc_dump_new_file_id(ctx);

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	_cleanup_free_ char *dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	for (;;) {
		char *slash = strrchr(dir, '/');
		if (!slash)
			return oc_error(-ENOENT, "no directory above %s is left to link the file in", path);
		*slash = '\0';
		free(link_path);
		if (asprintf(&link_path, "%s/link_remap.%u", dir, id) < 0) {
			link_path = NULL;
			return -ENOMEM;
		}
		if (linkat(AT_FDCWD, proc, AT_FDCWD, link_path, AT_SYMLINK_FOLLOW) == 0)
			break;
		if (errno != ENOENT || !dir[0])
			return oc_error_errno(-errno, "cannot link the file to %s", link_path);
	}
	FileEntry *fe = OC_ARENA_MSG(ctx->arena, FileEntry, FILE_ENTRY__INIT);
	RegFileEntry *rf = OC_ARENA_MSG(ctx->arena, RegFileEntry, REG_FILE_ENTRY__INIT);
	FownEntry *fown = OC_ARENA_MSG(ctx->arena, FownEntry, FOWN_ENTRY__INIT);
	if (!fe || !rf || !fown || !(rf->name = oc_arena_strdup(ctx->arena, link_path))) {
		unlink(link_path);
		return -ENOMEM;
	}
	pr_info("%s: linked to %s (--link-remap)", path, link_path);
	fe->type = FD_TYPES__REG;
	fe->id = rf->id = id;
	rf->fown = fown;
	fe->reg = rf;
	int r = oc_dump_add_file(ctx, fe);
	if (r >= 0)
		r = queue_remap(ctx, file_id, id, REMAP_TYPE__LINKED);
	if (r < 0)
		unlink(link_path);
	return r;
}

void oc_dump_link_remaps_undo(struct oc_dump_ctx *ctx)
{
	ProtobufCMessage **queued;
	size_t n = oc_dump_queued(ctx, OC_IMG_REMAP_FPATH, &queued);

	for (size_t i = 0; i < n; i++) {
		const RemapFilePathEntry *rm = (const RemapFilePathEntry *)queued[i];
		if (!rm->has_remap_type || rm->remap_type != REMAP_TYPE__LINKED)
			continue;
		for (size_t f = 0; f < ctx->n_files; f++)
			if (ctx->files[f]->id == rm->remap_id && ctx->files[f]->reg)
				unlink(ctx->files[f]->reg->name);
	}
}

/* Build and add a REG entry; @path may carry " (deleted)".  @mnt_id is the
 * mount it is on (-1: unknown). */
static int add_reg_file(struct oc_dump_task *t, char *path, int fd, const struct stat *st, uint32_t flags, uint64_t pos,
			int mnt_id, FownEntry *fown, uint32_t *ret_id)
{
	struct oc_dump_ctx *ctx = t->ctx;
	struct oc_arena *a = ctx->arena;
	FileEntry *fe = OC_ARENA_MSG(a, FileEntry, FILE_ENTRY__INIT);
	RegFileEntry *rf = OC_ARENA_MSG(a, RegFileEntry, REG_FILE_ENTRY__INIT);
	bool deleted = strip_deleted(path);
	int r;

	if (!fe || !rf)
		return -ENOMEM;
	if (!fown) {
		fown = OC_ARENA_MSG(a, FownEntry, FOWN_ENTRY__INIT);
		if (!fown)
			return -ENOMEM;
	}
	fe->type = FD_TYPES__REG;
	fe->id = rf->id = oc_dump_new_file_id(ctx);
	rf->flags = flags;
	rf->pos = pos;
	rf->fown = fown;
	rf->name = oc_arena_strdup(a, path);
	if (!rf->name)
		return -ENOMEM;
	rf->has_mode = true;
	rf->mode = st->st_mode;
	/* As CRIU: the mount, one of the tree's, where it has a mount namespace
	 * of its own (CRIU finds a ghost's mount by it). */
	if (mnt_id >= 0 && t->ids && t->ids->mnt_ns_id != ctx->own_ns_ids[OC_NS_MNT]) {
		rf->has_mnt_id = true;
		rf->mnt_id = mnt_id;
	}
	/* Restore checks the size, so not for files that others append to. */
	if (S_ISREG(st->st_mode) && (flags & (O_ACCMODE | O_APPEND)) != (O_WRONLY | O_APPEND)) {
		rf->has_size = true;
		rf->size = st->st_size;
	}
	fe->reg = rf;

	/* ELF files carry their build-id, which restore checks (as CRIU). */
	if (S_ISREG(st->st_mode)) {
		uint8_t id[OC_BUILD_ID_MAX];
		int len = fd_readable(fd) ? oc_elf_build_id(fd, id) : 0;
		if (len > 0) {
			size_t words = (len + 3) / 4;
			rf->build_id = OC_ARENA_ARRAY(a, uint32_t, words);
			if (!rf->build_id)
				return -ENOMEM;
			memcpy(rf->build_id, id, len);
			rf->n_build_id = words;
		}
	}

	r = dump_dead_proc(ctx, fe->id, path, deleted, fd);
	if (r < 0)
		return r;
	if (!r && deleted && st->st_nlink > 0 && !S_ISDIR(st->st_mode) && ctx->opts->link_remap) {
		r = dump_linked(ctx, fe->id, path, fd);
		if (r < 0)
			return oc_error_wrap(r, "%s", path);
	} else if (!r && (deleted || (S_ISREG(st->st_mode) && st->st_nlink == 0))) {
		r = oc_dump_ghost(ctx, fe->id, fd, st);
		if (r < 0)
			return oc_error_wrap(r, "%s", path);
	}
	r = oc_dump_add_file(ctx, fe);
	if (r < 0)
		return r;
	*ret_id = fe->id;
	return 0;
}

/* Mapped files, the exe, cwd and root share an entry per inode. */
static uint32_t known_path_file(const struct oc_dump_ctx *ctx, const struct stat *st)
{
	for (size_t i = 0; i < ctx->n_known_files; i++) {
		const struct oc_dump_file *k = &ctx->known_files[i];
		if (k->fd == -1 && k->dev == st->st_dev && k->ino == st->st_ino)
			return k->id;
	}
	return 0;
}

int oc_dump_path_file(struct oc_dump_task *t, const char *path, int fd_unused, uint32_t *ret_id)
{
	struct oc_dump_ctx *ctx = t->ctx;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *target = NULL;
	struct stat st;
	int r;

	/* Most are known already (every task maps the same libraries): one
	 * stat() then, rather than opening the file twice while frozen. */
	if (stat(path, &st) == 0 && (*ret_id = known_path_file(ctx, &st)))
		return 0;
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot open %s", path);
	if (fstat(fd, &st) < 0)
		return oc_error_errno(-errno, "cannot stat %s", path);
	if (S_ISREG(st.st_mode)) {
		/* Readable, for the build-id or an unlinked file's contents. */
		int rfd = open(path, O_RDONLY | O_CLOEXEC);
		if (rfd >= 0) {
			close(fd);
			fd = rfd;
		}
	}

	*ret_id = known_path_file(ctx, &st);
	if (*ret_id)
		return 0;

	target = malloc(PATH_MAX);
	if (!target)
		return -ENOMEM;
	ssize_t n = readlink(path, target, PATH_MAX - 1);
	if (n < 0)
		return oc_error_errno(-errno, "cannot read link %s", path);
	target[n] = '\0';

	r = add_reg_file(t, target, fd, &st, 0, 0, local_mnt_id(fd), NULL, ret_id);
	if (r < 0)
		return r;

	struct oc_dump_file *k = realloc(ctx->known_files, (ctx->n_known_files + 1) * sizeof(*k));
	if (!k)
		return -ENOMEM;
	ctx->known_files = k;
	ctx->known_files[ctx->n_known_files++] = (struct oc_dump_file){
		.id = *ret_id,
		.pid = t->pid,
		.fd = -1,
		.dev = st.st_dev,
		.ino = st.st_ino,
		.type = FD_TYPES__REG,
	};
	return 0;
}

/* ---- fds ---------------------------------------------------------------- */

static bool reg_match(const struct oc_dump_fd *fd)
{
	mode_t m = fd->st.st_mode;

	if (fd->link[0] != '/')
		return false;
	/* (a symbolic link: an O_PATH | O_NOFOLLOW fd of it) */
	return S_ISREG(m) || S_ISDIR(m) || S_ISBLK(m) || S_ISLNK(m) || (S_ISCHR(m) && !oc_is_tty_dev(&fd->st));
}

static int reg_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	FownEntry *fown;
	int r;

	r = oc_dump_fown(t->ctx, fd->local, &fown);
	if (r < 0)
		return r;
	return add_reg_file(t, fd->link, fd->local, &fd->st, fd->info.flags & ~O_CLOEXEC, fd->info.pos,
			    fd->info.has_mnt_id ? fd->info.mnt_id : -1, fown, ret_id);
}

static int reg_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd);

const struct oc_fd_kind oc_fd_kind_reg = {
	.name = "file",
	.type = FD_TYPES__REG,
	.match = reg_match,
	.dump = reg_dump,
	.open = reg_open,
	.images = { OC_IMG_REMAP_FPATH },
	.n_images = 1,
};

static bool memfd_match(const struct oc_dump_fd *fd)
{
	return S_ISREG(fd->st.st_mode) && !strncmp(fd->link, "/memfd:", 7);
}

static int memfd_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	_cleanup_free_ char *name = strdup(fd->link + 7);

	if (!name)
		return -ENOMEM;
	strip_deleted(name);
	return oc_dump_shmem_file(t, fd->local, name, fd->info.flags & ~O_CLOEXEC, fd->info.pos, ret_id);
}

static int memfd_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd);

const struct oc_fd_kind oc_fd_kind_memfd = {
	.name = "memfd",
	.type = FD_TYPES__MEMFD,
	.match = memfd_match,
	.dump = memfd_dump,
	.open = memfd_open,
	.images = { OC_IMG_MEMFD_INODE },
	.n_images = 1,
};

/* ---- restore ------------------------------------------------------------ */

/* Copy @len bytes of @img to @fd at @off. */
static int ghost_copy_in(struct oc_img *img, int fd, uint64_t off, uint64_t len, const char *path)
{
	char buf[65536];

	while (len) {
		size_t n = MIN(len, (uint64_t)sizeof(buf));
		int r = oc_img_read_raw(img, buf, n);
		if (r < 0)
			return r;
		if (pwrite(fd, buf, n, off) != (ssize_t)n)
			return oc_error_errno(-errno, "cannot write %s", path);
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * The contents: runs of data with holes between them (chunks), or all of
 * it, of the given size or (CRIU's images without one) to the image's end.
 */
static int ghost_fill(struct oc_img *img, const GhostFileEntry *ge, int fd, const char *path)
{
	if (!(ge->has_chunks && ge->chunks)) {
		uint64_t size = ge->has_size ? ge->size : oc_img_size(img) - oc_img_offset(img);
		return ghost_copy_in(img, fd, 0, size, path);
	}
	uint64_t size = ge->has_size ? ge->size : 0;
	for (;;) {
		ProtobufCMessage *m = NULL;
		int r = oc_img_read_entry(img, &ghost_chunk_entry__descriptor, &m);
		if (r <= 0)
			return r < 0 ? r : ftruncate(fd, size) < 0 ? oc_error_errno(-errno, "cannot size %s", path) : 0;
		GhostChunkEntry *ce = (GhostChunkEntry *)m;
		uint64_t off = ce->off, len = ce->len;
		protobuf_c_message_free_unpacked(m, NULL);
		if (off > UINT64_MAX - len || (ge->has_size && off + len > size) ||
		    len > oc_img_size(img) - oc_img_offset(img))
			return oc_error(-EINVAL, "%s: a chunk of %" PRIu64 " bytes at %" PRIu64 " is out of bounds",
					oc_img_name(img), len, off);
		r = ghost_copy_in(img, fd, off, len, path);
		if (r < 0)
			return r;
		size = MAX(size, off + len);
	}
}

/* Make @path anew as @ge says: a FIFO, a directory, a device node, a
 * symbolic link or a file opened to fill.  The fd is an O_PATH one but for
 * a file (opening a FIFO would wait for a peer). */
static int make_ghost_node(const char *path, const GhostFileEntry *ge)
{
	mode_t mode = ge->mode;
	int r;

	if (S_ISREG(mode))
		return open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode & 07777);
	if (S_ISLNK(mode)) {
		if (!ge->symlnk_target) {
			errno = EINVAL;
			return -1;
		}
		r = symlink(ge->symlnk_target, path);
	} else {
		r = S_ISDIR(mode) ? mkdir(path, mode & 07777)
				  : mknod(path, mode, S_ISFIFO(mode) || !ge->has_rdev ? 0 : (dev_t)ge->rdev);
	}
	if (r < 0)
		return -1;
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		oc_rst_ghost_remove(path);
	return fd;
}

void oc_rst_ghost_remove(const char *path)
{
	/* The files of a dead task's /proc/PID are not ours to remove. */
	if (!strncmp(path, "/proc/", 6))
		return;
	if (unlink(path) < 0 && errno == EISDIR)
		rmdir(path);
}

/* Ghosts are removed where they were made: note the mount namespace
 * ocicr is in now, at the first. */
static int note_ghost_mntns(struct oc_rst_files *files)
{
	if (files->ghost_mntns_fd1)
		return 0;
	int fd = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot open /proc/thread-self/ns/mnt");
	files->ghost_mntns_fd1 = fd + 1;
	return 0;
}

/* Make the directories above @path that are gone (a removed directory in
 * a removed directory), remembered to be removed after the ghosts. */
static int make_ghost_parents(struct oc_rst_files *files, const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	int r = note_ghost_mntns(files);

	if (r < 0)
		return r;
	if (!dir)
		return -ENOMEM;
	for (char *slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(dir, 0700) == 0) {
			char **n = realloc(files->ghost_parents, (files->n_ghost_parents + 1) * sizeof(*n));
			char *copy = n ? strdup(dir) : NULL;
			if (n)
				files->ghost_parents = n;
			if (!copy) {
				rmdir(dir);
				return -ENOMEM;
			}
			n[files->n_ghost_parents++] = copy;
		} else if (errno != EEXIST) {
			return oc_error_errno(-errno, "cannot make directory %s for a removed file in it", dir);
		}
		*slash = '/';
	}
	return 0;
}

/* Recreate an unlinked file from its ghost image; *ret_path is its name. */
static int create_ghost(struct oc_rst_files *files, const char *name, uint32_t remap_id, char **ret_path)
{
	struct oc_rst_ctx *ctx = files->ctx;
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	ProtobufCMessage *m = NULL;
	int r;

	r = oc_img_open(ctx->dir, OC_IMG_GHOST_FILE, remap_id, &img);
	if (r < 0)
		return r;
	r = oc_img_read_entry(img, NULL, &m);
	if (r <= 0)
		return r < 0 ? r : oc_error(-EINVAL, "%s: empty ghost image", oc_img_name(img));
	GhostFileEntry *ge = (GhostFileEntry *)m;
	uint64_t size = ge->has_size ? ge->size : 0;

	/* Refuse short contents before a file appears anywhere. */
	if (S_ISREG(ge->mode) && !(ge->has_chunks && ge->chunks) && size > oc_img_size(img) - oc_img_offset(img)) {
		r = oc_error(-EINVAL,
			     "%s: the file is %" PRIu64 " bytes but only %" PRIu64 " follow: truncated or "
			     "corrupt ghost image",
			     oc_img_name(img), size, oc_img_size(img) - oc_img_offset(img));
		goto out;
	}
	/* Its old name if free, else a name beside it. */
	if (asprintf(&path, "%s", name) < 0)
		path = NULL;
	if (!path) {
		r = -ENOMEM;
		goto out;
	}
	fd = make_ghost_node(path, ge);
	if (fd < 0 && errno == ENOENT) {
		r = make_ghost_parents(files, path);
		if (r < 0)
			goto out;
		fd = make_ghost_node(path, ge);
	}
	if (fd < 0 && errno == EEXIST) {
		free(path);
		if (asprintf(&path, "%s" GHOST_SUFFIX "%u", name, remap_id) < 0) {
			path = NULL;
			r = -ENOMEM;
			goto out;
		}
		fd = make_ghost_node(path, ge);
	}
	if (fd < 0) {
		r = oc_error_errno(-errno, "cannot recreate unlinked file %s", name);
		goto out;
	}
	r = S_ISREG(ge->mode) ? ghost_fill(img, ge, fd, path) : 0;
	if (r < 0)
		goto out;
	/* By path: an O_PATH fd (a FIFO's) takes no chown, chmod or times. */
	if (lchown(path, oc_rst_uid(files->ctx, ge->uid), oc_rst_gid(files->ctx, ge->gid)) < 0)
		pr_debug("ghost %s: chown: %m", path);
	/* After the owner: chown clears the set-id bits, and open's mode
	 * went through our umask.  (A symbolic link has no mode of its own.) */
	if (!S_ISLNK(ge->mode) && chmod(path, ge->mode & 07777) < 0) {
		r = oc_error_errno(-errno, "cannot set the mode of %s", path);
		goto out;
	}
	/* Last: the writes above set the modification time. */
	if (ge->atim || ge->mtim) {
		struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
		if (ge->atim)
			ts[0] = (struct timespec){ ge->atim->tv_sec, (long)ge->atim->tv_usec * 1000 };
		if (ge->mtim)
			ts[1] = (struct timespec){ ge->mtim->tv_sec, (long)ge->mtim->tv_usec * 1000 };
		if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0) {
			r = oc_error_errno(-errno, "cannot set the times of %s", path);
			goto out;
		}
	}
	*ret_path = TAKE_PTR(path);
	r = 0;
out:
	/* a failed restore leaves no half-made file behind */
	if (r < 0 && fd >= 0)
		oc_rst_ghost_remove(path);
	protobuf_c_message_free_unpacked(m, NULL);
	return r;
}

int oc_rst_ghost_find(const struct oc_rst_files *files, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < files->n_ghost_paths; i++) {
		const char *g = files->ghost_paths[i];
		if (!strncmp(g, name, len) && (!g[len] || !strncmp(g + len, GHOST_SUFFIX, strlen(GHOST_SUFFIX))))
			return (int)i;
	}
	return -1;
}

/* Keep the ghost @path (taken) until the tree's files are open, and an
 * O_PATH fd of it for the agents, which run after it is unlinked. */
static int ghost_keep(struct oc_rst_files *files, char *path)
{
	int r = note_ghost_mntns(files);
	if (r < 0) {
		free(path);
		return r;
	}
	char **n = realloc(files->ghost_paths, (files->n_ghost_paths + 1) * sizeof(*n));
	if (!n) {
		free(path);
		return -ENOMEM;
	}
	files->ghost_paths = n;
	int *f = realloc(files->ghost_fds, (files->n_ghost_paths + 1) * sizeof(*f));
	if (!f) {
		free(path);
		return -ENOMEM;
	}
	files->ghost_fds = f;
	n[files->n_ghost_paths] = path;
	f[files->n_ghost_paths] = -1;
	files->n_ghost_paths++;
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot open %s", path);
	fd = oc_rst_high_fd(files, fd);
	if (fd < 0)
		return fd;
	f[files->n_ghost_paths - 1] = fd;
	return 0;
}

/* A process of ours with pid @pid, which only waits to be killed (by
 * oc_rst_proc_helpers_stop(), once every task has entered its cwd). */
static int proc_helper(struct oc_rst_files *files, pid_t pid)
{
	struct oc_rst_ctx *ctx = files->ctx;

	for (size_t i = 0; i < ctx->n_proc_helpers; i++)
		if (ctx->proc_helpers[i] == pid)
			return 0;
	if (oc_rst_task_by_pid(ctx, pid))
		return oc_error(-EEXIST, "pid %d, of a process that was gone, is a task of the tree now", pid);
	if (oc_ns_rst_other_pidns(ctx))
		return oc_error(-EOPNOTSUPP,
				"/proc/%d of a process that was gone, in the tree's own pid namespace: "
				"not supported yet",
				pid);
	pid_t *n = realloc(ctx->proc_helpers, (ctx->n_proc_helpers + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	ctx->proc_helpers = n;
	struct clone_args ca = {
		.exit_signal = SIGCHLD,
		.set_tid = (uint64_t)(uintptr_t)&pid,
		.set_tid_size = 1,
	};
	pid_t got = syscall(SYS_clone3, &ca, sizeof(ca));
	if (got == 0)
		for (;;)
			pause();
	if (got < 0)
		return oc_error_errno(-errno,
				      "cannot make a process with pid %d, for the /proc files of a process "
				      "that was gone",
				      pid);
	ctx->proc_helpers[ctx->n_proc_helpers++] = got;
	return 0;
}

void oc_rst_proc_helpers_stop(struct oc_rst_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_proc_helpers; i++) {
		kill(ctx->proc_helpers[i], SIGKILL);
		while (waitpid(ctx->proc_helpers[i], NULL, __WALL) < 0 && errno == EINTR)
			;
	}
	free(ctx->proc_helpers);
	ctx->proc_helpers = NULL;
	ctx->n_proc_helpers = 0;
}

/*
 * A file the dump linked to a temporary name (--link-remap): linked back
 * to its name, which is removed again once the tree's files are open, as
 * is the temporary name.
 */
static int open_linked(struct oc_rst_files *files, FileEntry *fe, uint32_t link_id, const char **ret_path)
{
	FileEntry *lfe = oc_rst_find_file(files->ctx, link_id);
	const char *name = fe->reg->name;
	int made = oc_rst_ghost_find(files, name);

	if (made < 0) {
		if (!lfe || !lfe->reg || !lfe->reg->name)
			return oc_error(-EINVAL, "remap-fpath.img: file %u is linked to file %u, which is no path",
					fe->id, link_id);
		const char *tmp = lfe->reg->name;
		if (link(tmp, name) < 0)
			return oc_error_errno(-errno, "cannot link %s back to its name %s", tmp, name);
		_cleanup_free_ char *n = strdup(name), *t = strdup(tmp);
		int r = n && t ? ghost_keep(files, TAKE_PTR(n)) : -ENOMEM;
		if (r >= 0)
			made = (int)files->n_ghost_paths - 1;
		if (r >= 0 && oc_rst_ghost_find(files, tmp) < 0)
			r = ghost_keep(files, TAKE_PTR(t));
		if (r < 0) {
			if (made < 0)
				unlink(name);
			return oc_error_wrap(r, "%s", name);
		}
	}
	*ret_path = files->ghost_paths[made];
	return 0;
}

int oc_rst_reg_path(struct oc_rst_files *files, FileEntry *fe, const char **ret_path)
{
	RegFileEntry *rf = fe->reg;
	RemapFilePathEntry *remap = oc_rst_find_remap(files->ctx, fe->id);
	_cleanup_free_ char *ghost = NULL;
	int r;

	if (!rf)
		return oc_error(-EINVAL, "files.img: file %u has no reg entry", fe->id);
	*ret_path = rf->name;
	if (!remap)
		return 0;
	/* Opened while a helper has the pid: kept open (the cwd's is
	 * entered through it) once the helper is gone. */
	if (remap->has_remap_type && remap->remap_type == REMAP_TYPE__PROCFS) {
		int made = oc_rst_ghost_find(files, rf->name);
		if (made < 0) {
			_cleanup_free_ char *name = strdup(rf->name);
			if (!name)
				return -ENOMEM;
			r = proc_helper(files, remap->remap_id);
			if (r >= 0)
				r = ghost_keep(files, TAKE_PTR(name));
			if (r < 0)
				return oc_error_wrap(r, "%s", rf->name);
			made = (int)files->n_ghost_paths - 1;
		}
		*ret_path = files->ghost_paths[made];
		return 0;
	}
	if (remap->has_remap_type && remap->remap_type == REMAP_TYPE__LINKED)
		return open_linked(files, fe, remap->remap_id, ret_path);
	if (!remap->has_remap_type || remap->remap_type != REMAP_TYPE__GHOST)
		return oc_error(-EOPNOTSUPP, "file %u (%s): only ghost remaps are supported", fe->id, rf->name);
	/* Each ghost is recreated once and unlinked after the fds are in;
	 * another name of the file (a hard link) opens the same one. */
	int made = oc_rst_ghost_find(files, rf->name);
	for (size_t i = 0; made < 0 && i < files->ctx->n_files; i++) {
		FileEntry *o = files->ctx->files[i];
		RemapFilePathEntry *orm = o != fe && o->reg ? oc_rst_find_remap(files->ctx, o->id) : NULL;
		if (orm && orm->remap_id == remap->remap_id && strcmp(o->reg->name, rf->name))
			made = oc_rst_ghost_find(files, o->reg->name);
	}
	if (made < 0) {
		r = create_ghost(files, rf->name, remap->remap_id, &ghost);
		if (r < 0)
			return oc_error_wrap(r, "unlinked file %s", rf->name);
		r = ghost_keep(files, TAKE_PTR(ghost));
		if (r < 0)
			return oc_error_wrap(r, "unlinked file %s", rf->name);
		made = (int)files->n_ghost_paths - 1;
	}
	*ret_path = files->ghost_paths[made];
	return 0;
}

int oc_rst_open_reg(struct oc_rst_files *files, FileEntry *fe, int flags, int *ret_fd)
{
	RegFileEntry *rf = fe->reg;
	const char *path;
	struct stat st;
	int fd, r;

	r = oc_rst_reg_path(files, fe, &path);
	if (r < 0)
		return r;

	flags &= ~(O_CREAT | O_EXCL | O_TRUNC);
	/* A file made with O_TMPFILE keeps it (O_DIRECTORY with it) in its
	 * flags: it is opened again as the plain file it is now. */
	if ((flags & O_TMPFILE) == O_TMPFILE)
		flags &= ~O_TMPFILE;
	fd = open(path, flags | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == EISDIR)
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot open %s", rf->name);
	if (fstat(fd, &st) < 0) {
		r = oc_error_errno(-errno, "cannot stat %s", rf->name);
		close(fd);
		return r;
	}
	if (rf->has_mode && st.st_mode != rf->mode) {
		close(fd);
		return oc_error(-ESTALE, "%s changed since the dump: mode %o, was %o", rf->name, st.st_mode, rf->mode);
	}
	if (rf->has_size && S_ISREG(st.st_mode) && (uint64_t)st.st_size != rf->size) {
		close(fd);
		return oc_error(-ESTALE, "%s changed since the dump: %" PRIu64 " bytes, was %" PRIu64, rf->name,
				(uint64_t)st.st_size, rf->size);
	}
	if (rf->n_build_id && S_ISREG(st.st_mode)) {
		uint8_t id[OC_BUILD_ID_MAX];
		int len = oc_elf_build_id(fd, id);
		if (len <= 0 || (size_t)(len + 3) / 4 != rf->n_build_id || memcmp(id, rf->build_id, len)) {
			close(fd);
			return oc_error(-ESTALE, "%s changed since the dump: its ELF build-id differs", rf->name);
		}
	}
	if (rf->pos && lseek(fd, rf->pos, SEEK_SET) < 0) {
		r = oc_error_errno(-errno, "cannot seek %s to %" PRIu64, rf->name, rf->pos);
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

static int reg_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	/* A file the caller gives (--inherit-fd fd[N]:PATH). */
	int fd = fe->reg ? oc_rst_inherited_fd(files->ctx, fe->reg->name) : -ENOENT;

	if (fd >= 0) {
		*ret_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		return *ret_fd < 0 ? oc_error_errno(-errno, "cannot dup the inherited fd of %s", fe->reg->name) : 0;
	}
	return oc_rst_open_reg(files, fe, fe->reg ? fe->reg->flags : 0, ret_fd);
}

static int memfd_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	MemfdFileEntry *mf = fe->memfd;
	char proc[64];
	int shm, fd, r;

	if (!mf)
		return oc_error(-EINVAL, "files.img: file %u has no memfd entry", fe->id);
	r = oc_rst_memfd_dup(files, mf->inode_id, mf->flags, &fd);
	if (r == -ENOENT) {
		/* A file description of its own, with the fd's flags and offset. */
		r = oc_rst_shmem_fd(files, mf->inode_id, &shm);
		if (r < 0)
			return r;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", shm);
		fd = open(proc, (mf->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_CLOEXEC);
		if (fd < 0)
			return oc_error_errno(-errno, "cannot reopen memfd %u", fe->id);
	} else if (r < 0) {
		return r;
	}
	if (mf->pos && lseek(fd, mf->pos, SEEK_SET) < 0) {
		r = oc_error_errno(-errno, "cannot seek memfd %u", fe->id);
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}
