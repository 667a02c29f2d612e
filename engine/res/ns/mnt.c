// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Mount namespace: the mount tree of the root's namespace, from its
 * mountinfo, in CRIU's mountpoints-ID.img (one mnt_entry a mount, the last
 * mounted first, as CRIU writes them), with the contents of each tmpfs in
 * tmpfs-dev-KDEV.tar.gz.img (mnt_tmpfs.c).
 *
 * Dump.  Every mount is one that a restore can make again: a file system
 * ocicr mounts anew (proc, sysfs, tmpfs, devpts, mqueue, cgroup...), a bind
 * of another mount of the tree (same device, a root below that one's), or
 * an external mount named with --external mnt[MOUNTPOINT]:KEY (its key is
 * kept, the host path comes at restore).  The root mount is the root given
 * at restore (--root).  Anything else (overlay, ext4 below the root...) is
 * refused naming the mount.
 *
 * Restore, in two steps, because files must open inside the tree before
 * the root task exists, while proc, sysfs, mqueue and cgroup mounts belong
 * to namespaces that exist only with it:
 *  - before any file is opened (oc_mnt_rst_enter): ocicr makes a new mount
 *    namespace, binds --root onto itself, mounts the tree below it but the
 *    mounts of the root's namespaces ("late" ones; ocicr's own /proc stands
 *    in at /proc meanwhile), pivots into it and stays there until the root
 *    task is cloned into it (oc_mnt_rst_leave);
 *  - when the root's namespaces are filled (fill): a helper in the new pid,
 *    net, ipc and cgroup namespaces mounts the late mounts.
 * Nothing of it is visible outside: the namespace is private from the
 * start, and dies with its last task if the restore fails.
 */
#include <errno.h>
#include <linux/mount.h>
#include <fcntl.h>
#include <libmount/libmount.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "res/dump.h"
#include "res/restore.h"
#include "res/ns/mnt.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "mnt.pb-c.h"

/* clang-format off */
static const struct {
	const char *name;
	Fstype type;
	bool late; /* belongs to a namespace of the mounter's */
} fs_types[] = {
	{ "proc",	 FSTYPE__PROC,	      true },
	{ "sysfs",	 FSTYPE__SYSFS,	      true },
	{ "devtmpfs",	 FSTYPE__DEVTMPFS,    false },
	{ "binfmt_misc", FSTYPE__BINFMT_MISC, false },
	{ "tmpfs",	 FSTYPE__TMPFS,	      false },
	{ "devpts",	 FSTYPE__DEVPTS,      false },
	{ "pstore",	 FSTYPE__PSTORE,      false },
	{ "securityfs",	 FSTYPE__SECURITYFS,  false },
	{ "fusectl",	 FSTYPE__FUSECTL,     false },
	{ "debugfs",	 FSTYPE__DEBUGFS,     false },
	{ "cgroup",	 FSTYPE__CGROUP,      true },
	{ "mqueue",	 FSTYPE__MQUEUE,      true },
	{ "tracefs",	 FSTYPE__TRACEFS,     false },
	{ "cgroup2",	 FSTYPE__CGROUP2,     true },
	/* Named, so the image says what they were; never made anew. */
	{ "overlay",	 FSTYPE__OVERLAYFS,   false },
	{ "fuse",	 FSTYPE__FUSE,	      false },
	{ "autofs",	 FSTYPE__AUTOFS,      false },
};
/* clang-format on */

static int fs_index(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(fs_types); i++)
		if (!strcmp(fs_types[i].name, name))
			return (int)i;
	return -1;
}

/* A file system ocicr can mount anew. */
static bool fs_mountable(uint32_t type)
{
	return type != FSTYPE__UNSUPPORTED && type != FSTYPE__OVERLAYFS && type != FSTYPE__FUSE &&
	       type != FSTYPE__AUTOFS && type != FSTYPE__AUTO;
}

static const char *fs_name(const MntEntry *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(fs_types); i++)
		if ((uint32_t)fs_types[i].type == e->fstype)
			return fs_types[i].name;
	return e->fsname ? e->fsname : "unknown";
}

static bool fs_late(uint32_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(fs_types); i++)
		if ((uint32_t)fs_types[i].type == type)
			return fs_types[i].late;
	return false;
}

/* Is @root (a path in a file system) @base or below it? */
static bool path_below(const char *root, const char *base)
{
	size_t n = strlen(base);

	if (!strcmp(base, "/"))
		return true;
	return !strncmp(root, base, n) && (root[n] == '\0' || root[n] == '/');
}

const char *oc_mnt_external(const char *const *ext, size_t n_ext, const char *kind, const char *name)
{
	size_t kl = strlen(kind), nl = strlen(name);

	for (size_t i = 0; i < n_ext; i++) {
		const char *s = ext[i];
		if (strncmp(s, kind, kl) || s[kl] != '[' || strncmp(s + kl + 1, name, nl) ||
		    strncmp(s + kl + 1 + nl, "]:", 2))
			continue;
		return s + kl + 1 + nl + 2;
	}
	return NULL;
}

/* ---- dump --------------------------------------------------------------- */

/* Mount and superblock flags of a mountinfo line, as CRIU keeps them. */
static int parse_flags(struct oc_arena *a, struct libmnt_fs *fs, MntEntry *e)
{
	const struct libmnt_optmap *map = mnt_get_builtin_optmap(MNT_LINUX_MAP);
	unsigned long fl = 0;
	_cleanup_free_ char *opts = NULL;
	const char *fso = mnt_fs_get_fs_options(fs);

	if (mnt_optstr_get_flags(mnt_fs_get_vfs_options(fs), &fl, map) < 0)
		return oc_error(-EINVAL, "mount %d: cannot parse its options", mnt_fs_get_id(fs));
	/* mountinfo names no atime option for strictatime. */
	if (!(fl & (MS_NOATIME | MS_RELATIME)))
		fl |= MS_STRICTATIME;
	e->flags = (uint32_t)fl;
	fl = 0;
	opts = strdup(fso ? fso : "");
	if (!opts)
		return -ENOMEM;
	if (mnt_optstr_get_flags(opts, &fl, map) < 0)
		return oc_error(-EINVAL, "mount %d: cannot parse its file system options", mnt_fs_get_id(fs));
	e->has_sb_flags = true;
	e->sb_flags = (uint32_t)(fl & (MS_RDONLY | MS_SYNCHRONOUS | MS_MANDLOCK | MS_DIRSYNC | MS_LAZYTIME));
	/* What the flags say, or the kernel adds, is not an option to pass. */
	static const char *const drop[] = { "rw", "ro", "sync", "dirsync", "mand", "lazytime", "seclabel" };
	for (size_t i = 0; i < ARRAY_SIZE(drop); i++)
		while (mnt_optstr_remove_option(&opts, drop[i]) == 0)
			;
	/* A devpts mount of a container is its own instance. */
	if (e->fstype == FSTYPE__DEVPTS && mnt_optstr_append_option(&opts, "newinstance", NULL) < 0)
		return -ENOMEM;
	e->options = oc_arena_strdup(a, opts ? opts : "");
	return e->options ? 0 : -ENOMEM;
}

/* shared:N and master:N of the optional fields. */
static void parse_propagation(struct libmnt_fs *fs, MntEntry *e)
{
	const char *opt = mnt_fs_get_optional_fields(fs);
	const char *p;

	e->has_shared_id = e->has_master_id = true;
	e->shared_id = e->master_id = 0;
	if (!opt)
		return;
	/* As CRIU: the flags say it too. */
	if ((p = strstr(opt, "shared:"))) {
		e->shared_id = (uint32_t)strtoul(p + 7, NULL, 10);
		e->flags |= MS_SHARED;
	}
	if ((p = strstr(opt, "master:"))) {
		e->master_id = (uint32_t)strtoul(p + 7, NULL, 10);
		e->flags |= MS_SLAVE;
	}
}

/* The file system type of each mount, by index, for messages (the image
 * names only those it knows, as CRIU's does). */
struct dump_mounts {
	MntEntry **m;
	const char **types;
	size_t n;
};

static int entry_of(struct oc_arena *a, struct libmnt_fs *fs, MntEntry *e)
{
	const char *type = mnt_fs_get_fstype(fs), *src = mnt_fs_get_source(fs);
	dev_t dev = mnt_fs_get_devno(fs);
	int i = fs_index(type ? type : "");

	mnt_entry__init(e);
	e->fstype = i >= 0 ? fs_types[i].type : FSTYPE__UNSUPPORTED;
	e->mnt_id = (uint32_t)mnt_fs_get_id(fs);
	e->parent_mnt_id = (uint32_t)mnt_fs_get_parent_id(fs);
	e->root_dev = OC_MNT_KDEV(major(dev), minor(dev));
	e->root = oc_arena_strdup(a, mnt_fs_get_root(fs) ? mnt_fs_get_root(fs) : "/");
	e->mountpoint = oc_arena_strdup(a, mnt_fs_get_target(fs) ? mnt_fs_get_target(fs) : "");
	e->source = oc_arena_strdup(a, src ? src : "none");
	if (!e->root || !e->mountpoint || !e->source)
		return -ENOMEM;
	int r = parse_flags(a, fs, e);
	if (r >= 0)
		parse_propagation(fs, e);
	return r;
}

/* The mount of @m[0..n) that @e binds: same device, @e's root below its. */
static const MntEntry *bind_source(MntEntry *const *m, size_t n, const MntEntry *e)
{
	const MntEntry *best = NULL;

	for (size_t i = 0; i < n; i++) {
		if (m[i] == e || m[i]->root_dev != e->root_dev || !path_below(e->root, m[i]->root))
			continue;
		if (!best || strlen(m[i]->root) < strlen(best->root))
			best = m[i];
	}
	return best;
}

/* Every mount must be one a restore can make; the root is --root's. */
static int check_mounts(struct oc_dump_ctx *ctx, const struct dump_mounts *dm, size_t root)
{
	MntEntry **m = dm->m;
	size_t n = dm->n;

	const struct oc_dump_opts *o = ctx->opts;

	for (size_t i = 0; i < n; i++) {
		const char *key = oc_mnt_external(o->externals, o->n_externals, "mnt", m[i]->mountpoint);
		const MntEntry *src;

		if (key) {
			m[i]->ext_key = oc_arena_strdup(ctx->arena, key);
			if (!m[i]->ext_key)
				return -ENOMEM;
			pr_info("mount %u at %s is external: %s", m[i]->mnt_id, m[i]->mountpoint, key);
			continue;
		}
		if (i == root || fs_mountable(m[i]->fstype))
			continue;
		src = bind_source(m, n, m[i]);
		if (src && (src == m[root] || fs_mountable(src->fstype)))
			continue;
		return oc_error(-EOPNOTSUPP,
				"mount %u at %s: a %s file system (source %s) cannot be made again at restore; "
				"name it external with --external mnt[%s]:KEY",
				m[i]->mnt_id, m[i]->mountpoint, dm->types[i], m[i]->source, m[i]->mountpoint);
	}
	return 0;
}

static int read_mounts(struct oc_dump_ctx *ctx, pid_t pid, struct dump_mounts *dm)
{
	struct libmnt_table *tb = mnt_new_table();
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;
	MntEntry **m = NULL;
	size_t n = 0;
	char path[64];
	int own_cgns, r = 0;

	if (!tb || !it) {
		r = -ENOMEM;
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
	/* A cgroup mount's root is shown relative to the reader's cgroup
	 * namespace: read as the task would, so it is the path a mount made
	 * in the restored namespace has (as CRIU writes it). */
	r = oc_ns_enter(pid, "cgroup", &own_cgns);
	if (r < 0)
		goto out;
	r = mnt_table_parse_file(tb, path);
	oc_ns_leave("cgroup", own_cgns);
	if (r < 0) {
		r = oc_error(-EIO, "cannot read %s", path);
		goto out;
	}
	m = OC_ARENA_ARRAY(ctx->arena, MntEntry *, mnt_table_get_nents(tb));
	dm->types = OC_ARENA_ARRAY(ctx->arena, const char *, mnt_table_get_nents(tb));
	while (m && dm->types && mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *type = mnt_fs_get_fstype(fs);
		m[n] = oc_arena_alloc(ctx->arena, sizeof(MntEntry));
		dm->types[n] = oc_arena_strdup(ctx->arena, type ? type : "unknown");
		if (!m[n] || !dm->types[n]) {
			r = -ENOMEM;
			goto out;
		}
		r = entry_of(ctx->arena, fs, m[n++]);
		if (r < 0)
			goto out;
	}
	if (!m || !dm->types)
		r = -ENOMEM;
out:
	mnt_free_iter(it);
	mnt_unref_table(tb);
	dm->m = m;
	dm->n = n;
	return r;
}

/* Is @m[i] the first mount of its tmpfs with the file system's own root? */
static bool tmpfs_to_save(MntEntry **m, size_t i)
{
	if (m[i]->fstype != FSTYPE__TMPFS || m[i]->ext_key || strcmp(m[i]->root, "/"))
		return false;
	for (size_t j = 0; j < i; j++)
		if (m[j]->root_dev == m[i]->root_dev && !strcmp(m[j]->root, "/"))
			return false;
	return true;
}

/* The contents of each tmpfs: the mounts are taken from inside the
 * namespace, their files read (and images written) from outside. */
static int dump_tmpfs_all(struct oc_dump_ctx *ctx, pid_t pid, MntEntry **m, size_t n)
{
	_cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ int *fds = calloc(n ? n : 1, sizeof(int));
	int own_fd, r = 0;
	bool any = false;

	if (!fds)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		fds[i] = -1;
		any |= tmpfs_to_save(m, i);
	}
	if (!any)
		return 0;
	if (cwd < 0)
		return oc_error_errno(-errno, "cannot open the working directory");
	r = oc_ns_enter(pid, "mnt", &own_fd);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++)
		if (tmpfs_to_save(m, i))
			r = oc_mnt_tmpfs_open(m[i]->mountpoint, &fds[i]);
	oc_ns_leave("mnt", own_fd);
	if (fchdir(cwd) < 0 && r >= 0)
		r = oc_error_errno(-errno, "cannot go back to the working directory");
	for (size_t i = 0; i < n && r >= 0; i++)
		if (fds[i] >= 0)
			r = oc_mnt_tmpfs_dump(ctx->dir, fds[i], m[i]->mountpoint, m[i]->root_dev, ctx->userns);
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}

static int mnt_dump(struct oc_dump_ctx *ctx, uint32_t id)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	pid_t pid = ctx->tasks[0].pid;
	struct dump_mounts dm = {};
	size_t root = SIZE_MAX;
	int r = read_mounts(ctx, pid, &dm);
	MntEntry **m = dm.m;
	size_t n = dm.n;

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		bool has_parent = false;
		for (size_t j = 0; j < n; j++)
			has_parent |= m[j]->mnt_id == m[i]->parent_mnt_id && j != i;
		if (has_parent)
			continue;
		if (root != SIZE_MAX || strcmp(m[i]->mountpoint, "/"))
			return oc_error(-EOPNOTSUPP,
					"/proc/%d/mountinfo: mount %u at %s has no parent in the tree: only one root "
					"mount at / is supported",
					pid, m[i]->mnt_id, m[i]->mountpoint);
		root = i;
	}
	if (root == SIZE_MAX)
		return oc_error(-EINVAL, "/proc/%d/mountinfo: no root mount", pid);
	for (size_t i = 0; ctx->userns && i < n; i++) {
		_cleanup_free_ char *opts = NULL;
		r = oc_userns_mount_options(m[i]->options, ctx->userns, true, &opts);
		if (r < 0)
			return oc_error_wrap(r, "mount %u at %s", m[i]->mnt_id, m[i]->mountpoint);
		m[i]->options = oc_arena_strdup(ctx->arena, opts);
		if (!m[i]->options)
			return -ENOMEM;
	}
	r = check_mounts(ctx, &dm, root);
	if (r >= 0)
		r = dump_tmpfs_all(ctx, pid, m, n);
	if (r >= 0)
		r = oc_img_create(ctx->dir, OC_IMG_MNTS, id, &img);
	for (size_t i = n; i-- > 0 && r >= 0;)
		r = oc_img_write_entry(img, &m[i]->base);
	if (r >= 0)
		r = oc_img_commit(img);
	if (r >= 0)
		pr_info("%zu mounts saved in mountpoints-%u.img", n, id);
	return r;
}

/* ---- restore ------------------------------------------------------------ */

struct rst_mount {
	MntEntry *e;
	struct rst_mount *parent;
	struct rst_mount *bind_of; /* whose file system it binds; NULL: a new one */
	const char *host;	   /* external or root: the host path to bind */
	bool late;		   /* mounted from inside the root's namespaces */
	bool stand_in;		   /* ocicr's /proc is there until it is mounted */
	bool done;
};

struct rst_mnt_state {
	struct rst_mount *m; /* in mount order: parents first */
	size_t n;
	struct rst_mount *root;
	char root_path[PATH_MAX]; /* --root, resolved */
	int *tree_fds;		  /* per mount: a late external, taken early */
	int own_ns_fd, own_cwd_fd, new_ns_fd;
	bool inside; /* ocicr is in the new namespace */
	/* The late mounter, in a user namespace's mount namespace: the root
	 * (mount_detached()); -1 otherwise. */
	int late_root_pidfd;
};

static struct rst_mount *find_mount(struct rst_mnt_state *s, uint32_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->m[i].e->mnt_id == id)
			return &s->m[i];
	return NULL;
}

/* Order @s->m parents first, keeping the image's (reversed) mount order
 * among the rest. */
static int order_mounts(struct rst_mnt_state *s, MntEntry **img, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		s->m[i].e = img[n - 1 - i];
	s->n = n;
	for (size_t i = 0; i < n; i++) {
		s->m[i].parent = find_mount(s, s->m[i].e->parent_mnt_id);
		if (s->m[i].parent == &s->m[i])
			s->m[i].parent = NULL;
		if (s->m[i].parent)
			continue;
		if (s->root)
			return oc_error(-EINVAL, "mounts %u and %u both have no parent", s->root->e->mnt_id,
					s->m[i].e->mnt_id);
		s->root = &s->m[i];
	}
	if (!s->root)
		return oc_error(-EINVAL, "no root mount");
	/* Parents first: a stable selection, repeated until all are placed. */
	struct rst_mount *sorted = calloc(n, sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	while (k < n) {
		size_t before = k;
		for (size_t i = 0; i < n; i++) {
			struct rst_mount *p = s->m[i].parent;
			if (s->m[i].done || (p && !p->done))
				continue;
			s->m[i].done = true;
			sorted[k++] = s->m[i];
		}
		if (k == before) {
			free(sorted);
			return oc_error(-EINVAL, "the mounts' parents make a loop");
		}
	}
	/* Pointers into the old array move to the sorted one. */
	for (size_t i = 0; i < n; i++) {
		sorted[i].done = false;
		for (size_t j = 0; j < n; j++) {
			if (sorted[i].parent && sorted[i].parent->e == sorted[j].e)
				sorted[i].parent = &sorted[j];
		}
		if (sorted[i].e == s->root->e)
			s->root = &sorted[i];
	}
	free(s->m);
	s->m = sorted;
	return 0;
}

/* Where each mount comes from, checked before anything is made. */
static int resolve_mounts(struct oc_rst_ctx *ctx, struct rst_mnt_state *s)
{
	const struct oc_restore_opts *o = ctx->opts;

	for (size_t i = 0; i < s->n; i++) {
		struct rst_mount *rm = &s->m[i];
		MntEntry *e = rm->e;

		if (rm == s->root) {
			rm->host = s->root_path;
		} else if (e->ext_key) {
			rm->host = oc_mnt_external(o->externals, o->n_externals, "mnt", e->ext_key);
			if (!rm->host)
				return oc_error(-ENOENT,
						"external mount %s (at %s) is not given: --external mnt[%s]:PATH or "
						"--ext-mount-map %s:PATH",
						e->ext_key, e->mountpoint, e->ext_key, e->ext_key);
		} else {
			/* The first mount of a file system makes it, the rest bind it. */
			for (size_t j = 0; j < i && !rm->bind_of; j++)
				if (s->m[j].e->root_dev == e->root_dev && !s->m[j].host &&
				    path_below(e->root, s->m[j].e->root))
					rm->bind_of = &s->m[j];
			if (!rm->bind_of && s->root->e->root_dev == e->root_dev &&
			    path_below(e->root, s->root->e->root))
				rm->bind_of = s->root;
			if (!rm->bind_of && !fs_mountable(e->fstype))
				return oc_error(-EOPNOTSUPP, "mount %u at %s: a %s file system cannot be made again",
						e->mnt_id, e->mountpoint, fs_name(e));
			if (!rm->bind_of && strcmp(e->root, "/"))
				return oc_error(-EOPNOTSUPP,
						"mount %u at %s: only part (%s) of a %s file system is mounted, "
						"which ocicr cannot make yet",
						e->mnt_id, e->mountpoint, e->root, fs_name(e));
		}
		rm->late = rm != s->root && ((!rm->host && !rm->bind_of && fs_late(e->fstype)) ||
					     (rm->bind_of && rm->bind_of->late) || (rm->parent && rm->parent->late));
	}
	return 0;
}

static void leave_state(struct rst_mnt_state *s);

static void mnt_free(void *state)
{
	struct rst_mnt_state *s = state;

	if (!s)
		return;
	leave_state(s);
	for (size_t i = 0; s->tree_fds && i < s->n; i++)
		if (s->tree_fds[i] >= 0)
			close(s->tree_fds[i]);
	free(s->tree_fds);
	if (s->own_ns_fd >= 0)
		close(s->own_ns_fd);
	if (s->own_cwd_fd >= 0)
		close(s->own_cwd_fd);
	if (s->new_ns_fd >= 0)
		close(s->new_ns_fd);
	free(s->m);
	free(s);
}

static int mnt_load(struct oc_rst_ctx *ctx, uint32_t id, void **ret_state)
{
	struct rst_mnt_state *s = calloc(1, sizeof(*s));
	_cleanup_free_ MntEntry **img = NULL;
	size_t n;
	int r;

	if (!s)
		return -ENOMEM;
	s->own_ns_fd = s->own_cwd_fd = s->new_ns_fd = s->late_root_pidfd = -1;
	*ret_state = s;
	r = oc_imgset_read_all(&ctx->set, OC_IMG_MNTS, id, false, &img, &n, NULL);
	if (r < 0)
		return r;
	if (!n)
		return oc_error(-EINVAL, "mountpoints-%u.img has no mount", id);
	if (!ctx->opts->root)
		return oc_error(-EINVAL, "the tree had a mount namespace of its own: give its root file system with "
					 "--root DIR");
	if (!realpath(ctx->opts->root, s->root_path))
		return oc_error_errno(-errno, "--root %s", ctx->opts->root);
	struct stat st;
	if (stat(s->root_path, &st) < 0 || !S_ISDIR(st.st_mode))
		return oc_error(-ENOTDIR, "--root %s is not a directory", ctx->opts->root);
	s->m = calloc(n, sizeof(*s->m));
	s->tree_fds = malloc(n * sizeof(*s->tree_fds));
	if (!s->m || !s->tree_fds)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		s->tree_fds[i] = -1;
	r = order_mounts(s, img, n);
	if (r < 0)
		return oc_error_wrap(r, "mountpoints-%u.img", id);
	return resolve_mounts(ctx, s);
}

#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif

#define MNT_PER_MOUNT_FLAGS                                                                                         \
	(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | \
	 MS_NOSYMFOLLOW)

/* The path of @rm under @base ("" once pivoted), and of what @rm binds. */
static void mount_path(const struct rst_mount *rm, const char *base, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", base, strcmp(rm->e->mountpoint, "/") ? rm->e->mountpoint : "");
	if (!buf[0])
		snprintf(buf, len, "/");
}

static int bind_source_path(const struct rst_mount *rm, const char *base, char *buf, size_t len)
{
	const struct rst_mount *b = rm->bind_of;
	const char *rel = rm->e->root + (strcmp(b->e->root, "/") ? strlen(b->e->root) : 0);
	char bp[PATH_MAX];

	mount_path(b, base, bp, sizeof(bp));
	if ((size_t)snprintf(buf, len, "%s%s%s", strcmp(bp, "/") ? bp : "", *rel == '/' ? "" : "/", rel) >= len)
		return oc_error(-ENAMETOOLONG, "mount %u: path too long", rm->e->mnt_id);
	return 0;
}

/* Make @path exist, as a directory or (when @src is not one) a file. */
static int make_mountpoint(const char *path, const char *src)
{
	struct stat st;
	bool dir = true;
	char tmp[PATH_MAX];

	if (lstat(path, &st) == 0)
		return 0;
	if (src && stat(src, &st) == 0 && !S_ISDIR(st.st_mode))
		dir = false;
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return oc_error_errno(-errno, "cannot make the mount point %s", tmp);
		*p = '/';
	}
	if (dir ? mkdir(path, 0755) < 0 && errno != EEXIST : mknod(path, S_IFREG | 0644, 0) < 0 && errno != EEXIST)
		return oc_error_errno(-errno, "cannot make the mount point %s", path);
	return 0;
}

/* A bind of one pty slave of a devpts instance of the tree (runc's
 * /dev/console): a new instance has no pty yet, so that one is made now,
 * as CRIU does. */
static int premake_pty(struct oc_rst_ctx *ctx, const struct rst_mount *rm, const char *src)
{
	uint32_t kdev = rm->bind_of->e->root_dev;
	int index;
	char end;

	if (rm->bind_of->e->fstype != FSTYPE__DEVPTS || sscanf(rm->e->root, "/%d%c", &index, &end) != 1)
		return 0;
	return oc_rst_tty_premake(ctx, src, makedev(kdev >> 20, kdev & 0xfffff), index);
}

/* Mount @rm (not its flags) at its place under @base. */
static int mount_one(struct oc_rst_ctx *ctx, struct rst_mount *rm, int tree_fd, const char *base)
{
	MntEntry *e = rm->e;
	char path[PATH_MAX], src[PATH_MAX];
	int r;

	mount_path(rm, base, path, sizeof(path));
	if (rm->bind_of) {
		r = bind_source_path(rm, base, src, sizeof(src));
		if (r >= 0)
			r = premake_pty(ctx, rm, src);
		if (r < 0)
			return r;
	} else {
		snprintf(src, sizeof(src), "%s", rm->host ? rm->host : e->source);
	}
	r = make_mountpoint(path, rm->host || rm->bind_of ? src : NULL);
	if (r < 0)
		return r;
	if (tree_fd >= 0) {
		if (syscall(SYS_move_mount, tree_fd, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			return oc_error_errno(-errno, "cannot mount %s (%s%s) at %s", rm->host ?: fs_name(e),
					      rm->host ? "external " : "new", rm->host ? e->ext_key : "",
					      e->mountpoint);
	} else if (rm->host || rm->bind_of) {
		if (mount(src, path, NULL, MS_BIND, NULL) < 0)
			return oc_error_errno(-errno, "cannot bind %s at %s", src, e->mountpoint);
	} else {
		unsigned long sb = e->sb_flags & ~(unsigned long)MS_RDONLY;
		if (e->fstype != FSTYPE__TMPFS)
			sb = e->sb_flags;
		if (mount(e->source, path, fs_name(e), sb, e->options) < 0)
			return oc_error_errno(-errno, "cannot mount %s (%s, options '%s') at %s", fs_name(e), e->source,
					      e->options, e->mountpoint);
		if (e->fstype == FSTYPE__TMPFS) {
			r = oc_mnt_tmpfs_restore(ctx->dir, e->root_dev, path, oc_userns_rst_maps(ctx));
			if (r < 0)
				return r;
		}
	}
	pr_debug("mounted %u at %s", e->mnt_id, e->mountpoint);
	/* Peers are bound from a shared mount; a slave keeps its master. */
	if (e->master_id && mount(NULL, path, NULL, MS_SLAVE, NULL) < 0)
		return oc_error_errno(-errno, "cannot make %s a slave mount", e->mountpoint);
	if (e->shared_id && mount(NULL, path, NULL, MS_SHARED, NULL) < 0)
		return oc_error_errno(-errno, "cannot make %s a shared mount", e->mountpoint);
	return 0;
}

/* The flags of @rm, once everything below it is mounted. */
static int set_flags(struct rst_mount *rm, const char *base)
{
	MntEntry *e = rm->e;
	char path[PATH_MAX];

	mount_path(rm, base, path, sizeof(path));
	if (!rm->host && !rm->bind_of && e->fstype == FSTYPE__TMPFS && (e->sb_flags & MS_RDONLY) &&
	    mount(NULL, path, NULL, MS_REMOUNT | e->sb_flags, e->options) < 0)
		return oc_error_errno(-errno, "cannot make the tmpfs at %s read-only", e->mountpoint);
	if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | (e->flags & MNT_PER_MOUNT_FLAGS), NULL) < 0)
		return oc_error_errno(-errno, "cannot set the flags 0x%x of %s", e->flags, e->mountpoint);
	return 0;
}

/* Mount those of @s's mounts whose lateness is @late, parents first. */
/*
 * A new file system for a late mount in a mount namespace of the tree's
 * user namespace: there the kernel refuses a new proc or sysfs unless one
 * is fully in sight already, so those are made while ocicr's own mount
 * namespace is current (fsmount) and then moved into the root's.
 */
static int mount_detached(const MntEntry *e, int host_ns_fd, int root_pidfd, int *ret_fd)
{
	_cleanup_free_ char *opts = strdup(e->options ? e->options : "");
	int r = 0;

	if (!opts)
		return -ENOMEM;
	if (setns(host_ns_fd, CLONE_NEWNS) < 0)
		return oc_error_errno(-errno, "cannot go back to ocicr's mount namespace");
	_cleanup_close_ int fs = (int)syscall(SYS_fsopen, fs_name(e), FSOPEN_CLOEXEC);
	if (fs < 0)
		r = oc_error_errno(-errno, "fsopen(%s)", fs_name(e));
	if (r >= 0 && e->source && syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", e->source, 0) < 0)
		r = oc_error_errno(-errno, "%s: source %s", fs_name(e), e->source);
	char *save = NULL;
	for (char *o = strtok_r(opts, ",", &save); o && r >= 0; o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		if (eq)
			*eq = '\0';
		if (syscall(SYS_fsconfig, fs, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, o, eq ? eq + 1 : NULL, 0) <
		    0)
			r = oc_error_errno(-errno, "%s: option %s", fs_name(e), o);
	}
	if (r >= 0 && (e->sb_flags & MS_RDONLY) && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0)
		r = oc_error_errno(-errno, "%s: option ro", fs_name(e));
	if (r >= 0 && syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		r = oc_error_errno(-errno, "cannot make a new %s", fs_name(e));
	if (r >= 0 && (*ret_fd = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0)) < 0)
		r = oc_error_errno(-errno, "fsmount(%s)", fs_name(e));
	/* Staying out of the root's namespace would be worse than failing. */
	if (setns(root_pidfd, CLONE_NEWNS) < 0)
		abort();
	return r;
}

static int mount_all(struct oc_rst_ctx *ctx, struct rst_mnt_state *s, bool late, const char *base)
{
	for (size_t i = 0; i < s->n; i++) {
		struct rst_mount *rm = &s->m[i];
		if (rm == s->root || rm->late != late)
			continue;
		_cleanup_close_ int fresh = -1;
		bool visible_only = rm->e->fstype == FSTYPE__PROC || rm->e->fstype == FSTYPE__SYSFS;
		if (late && !rm->host && !rm->bind_of && visible_only && s->late_root_pidfd >= 0) {
			int r = mount_detached(rm->e, s->own_ns_fd, s->late_root_pidfd, &fresh);
			if (r < 0)
				return oc_error_wrap(r, "mount %u at %s", rm->e->mnt_id, rm->e->mountpoint);
		}
		int r = mount_one(ctx, rm, rm->late && rm->host ? s->tree_fds[i] : fresh, base);
		if (r < 0)
			return oc_error_wrap(r, "mount %u at %s", rm->e->mnt_id, rm->e->mountpoint);
	}
	return 0;
}

/* Then their flags, children first (a read-only parent last). */
static int set_all_flags(struct rst_mnt_state *s, bool late, const char *base)
{
	for (size_t i = s->n; i-- > 0;) {
		struct rst_mount *rm = &s->m[i];
		if (rm->late != late)
			continue;
		int r = set_flags(rm, base);
		if (r < 0)
			return r;
	}
	return 0;
}

static void leave_state(struct rst_mnt_state *s)
{
	if (!s->inside)
		return;
	/* Staying in the tree's namespace would be worse than failing. */
	if (setns(s->own_ns_fd, CLONE_NEWNS) < 0 || fchdir(s->own_cwd_fd) < 0)
		abort();
	s->inside = false;
}

/* Before the late mounts exist, ocicr's /proc stands in for the tree's
 * (ocicr reads /proc/self while it opens the tree's files), and their
 * mount points are made; external late mounts are taken now, while their
 * host paths are in sight. */
static int prepare_late(struct rst_mnt_state *s)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < s->n; i++) {
		struct rst_mount *rm = &s->m[i];
		if (!rm->late)
			continue;
		if (rm->host) {
			s->tree_fds[i] = (int)syscall(SYS_open_tree, AT_FDCWD, rm->host, OPEN_TREE_CLONE | O_CLOEXEC);
			if (s->tree_fds[i] < 0)
				return oc_error_errno(-errno, "external mount %s: cannot take %s", rm->e->ext_key,
						      rm->host);
		}
		if (rm->parent->late)
			continue;
		mount_path(rm, s->root_path, path, sizeof(path));
		int r = make_mountpoint(path, rm->host);
		if (r < 0)
			return r;
		if (rm->e->fstype == FSTYPE__PROC && !rm->bind_of && !rm->host && !strcmp(rm->e->mountpoint, "/proc")) {
			if (mount("/proc", path, NULL, MS_BIND, NULL) < 0)
				return oc_error_errno(-errno, "cannot bind /proc at %s for now", path);
			rm->stand_in = true;
		}
	}
	return 0;
}

static int build_tree(struct oc_rst_ctx *ctx, struct rst_mnt_state *s)
{
	int r;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return oc_error_errno(-errno, "cannot make the new mount namespace private");
	if (mount(s->root_path, s->root_path, NULL, MS_BIND, NULL) < 0)
		return oc_error_errno(-errno, "cannot bind the root %s", s->root_path);
	r = mount_all(ctx, s, false, s->root_path);
	if (r >= 0)
		r = prepare_late(s);
	if (r >= 0)
		r = set_all_flags(s, false, s->root_path);
	if (r < 0)
		return r;
	s->new_ns_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (s->new_ns_fd < 0)
		return oc_error_errno(-errno, "cannot open the new mount namespace");
	if (chdir(s->root_path) < 0)
		return oc_error_errno(-errno, "cannot enter %s", s->root_path);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return oc_error_errno(-errno, "cannot pivot into %s", s->root_path);
	if (umount2(".", MNT_DETACH) < 0)
		return oc_error_errno(-errno, "cannot let go of the old root");
	if (chdir("/") < 0)
		return oc_error_errno(-errno, "chdir /");
	if (s->root->e->shared_id && mount(NULL, "/", NULL, MS_SHARED, NULL) < 0)
		return oc_error_errno(-errno, "cannot make the root mount shared");
	return 0;
}

int oc_mnt_rst_enter(struct oc_rst_ctx *ctx)
{
	struct rst_mnt_state *s = ctx->ns ? ctx->ns->state[OC_NS_MNT] : NULL;
	int r;

	if (!s)
		return 0;
	/* ocicr mounts from outside the tree's user namespace. */
	for (size_t i = 0; oc_userns_rst_maps(ctx) && i < s->n; i++) {
		char *opts;
		r = oc_userns_mount_options(s->m[i].e->options, oc_userns_rst_maps(ctx), false, &opts);
		if (r < 0)
			return oc_error_wrap(r, "mount at %s", s->m[i].e->mountpoint);
		free(s->m[i].e->options);
		s->m[i].e->options = opts;
	}
	s->own_ns_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	s->own_cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->own_ns_fd < 0 || s->own_cwd_fd < 0)
		return oc_error_errno(-errno, "cannot keep ocicr's own mount namespace");
	if (unshare(CLONE_NEWNS) < 0)
		return oc_error_errno(-errno, "cannot make a new mount namespace");
	s->inside = true;
	pr_info("Building %zu mounts under %s", s->n, s->root_path);
	r = build_tree(ctx, s);
	if (r < 0) {
		leave_state(s);
		return oc_error_wrap(r, "mount namespace under %s", s->root_path);
	}
	return 0;
}

void oc_mnt_rst_leave(struct oc_rst_ctx *ctx)
{
	struct rst_mnt_state *s = ctx->ns ? ctx->ns->state[OC_NS_MNT] : NULL;

	if (s)
		leave_state(s);
}

int oc_mnt_rst_before_clone(struct oc_rst_ctx *ctx)
{
	struct rst_mnt_state *s = ctx->ns ? ctx->ns->state[OC_NS_MNT] : NULL;

	/* The root's copy of this tree belongs to its new user namespace:
	 * every mount copied is locked there, a stand-in too. */
	if (!s || !oc_userns_rst_maps(ctx))
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		if (!s->m[i].stand_in)
			continue;
		if (umount2(s->m[i].e->mountpoint, MNT_DETACH) < 0)
			return oc_error_errno(-errno, "cannot unmount the stand-in at %s", s->m[i].e->mountpoint);
		s->m[i].stand_in = false;
	}
	return 0;
}

/* In a child of the root's namespaces: the late mounts. */
static __attribute__((noreturn)) void late_mounter(struct oc_rst_ctx *ctx, struct rst_mnt_state *s, int err_fd)
{
	int r = 0;

	for (size_t i = 0; i < s->n && r >= 0; i++)
		if (s->m[i].stand_in && umount2(s->m[i].e->mountpoint, MNT_DETACH) < 0)
			r = oc_error_errno(-errno, "cannot unmount the stand-in at %s", s->m[i].e->mountpoint);
	if (r >= 0)
		r = mount_all(ctx, s, true, "");
	if (r >= 0)
		r = set_all_flags(s, true, "");
	if (r < 0) {
		const char *msg = oc_error_message();
		if (write(err_fd, msg, strlen(msg)) < 0)
			_exit(2);
		_exit(1);
	}
	_exit(0);
}

/* Wait for @pid; its message on @err_fd, if it failed. */
static int wait_mounter(pid_t pid, int err_fd)
{
	char msg[1024];
	ssize_t n;
	int st;

	while (waitpid(pid, &st, __WALL) < 0)
		if (errno != EINTR)
			return oc_error_errno(-errno, "waitpid %d", pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	n = read(err_fd, msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	return oc_error(-EIO, "late mounts: %s", n > 0 ? msg : "the helper failed");
}

/* ocicr is in the new mount namespace; the root task waits. */
static int mnt_fill(struct oc_rst_ctx *ctx, void *state)
{
	struct rst_mnt_state *s = state;
	_cleanup_close_ int root_pidfd = (int)syscall(SYS_pidfd_open, ctx->ns->root_pid, 0);
	int pipefd[2];
	pid_t pid;
	int r;

	if (root_pidfd < 0)
		return oc_error_errno(-errno, "cannot reach the root task %d", ctx->ns->root_pid);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return oc_error_errno(-errno, "pipe");
	pid = fork();
	if (pid < 0) {
		r = oc_error_errno(-errno, "fork");
		goto out;
	}
	if (pid == 0) {
		/* Into the root's namespaces; proc follows the pid namespace
		 * of the one who mounts it, so the mounter is a child there. */
		if (setns(root_pidfd, CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWPID) < 0) {
			dprintf(pipefd[1], "cannot enter the root's namespaces: %m");
			_exit(1);
		}
		pid_t q = fork();
		int st = 0;
		if (q == 0) {
			if (oc_userns_rst_maps(ctx))
				s->late_root_pidfd = root_pidfd;
			late_mounter(ctx, s, pipefd[1]);
		}
		while (q > 0 && waitpid(q, &st, 0) < 0 && errno == EINTR)
			;
		_exit(q > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : 1);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	r = wait_mounter(pid, pipefd[0]);
out:
	close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	return r;
}

const struct oc_ns_ops oc_ns_mnt_ops = {
	.dump_outside = true,
	.dump = mnt_dump,
	.load = mnt_load,
	.fill = mnt_fill,
	.free_state = mnt_free,
};
