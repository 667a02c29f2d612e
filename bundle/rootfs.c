// SPDX-License-Identifier: GPL-2.0-or-later
/* Root filesystem changes: found, written, applied (see rootfs.h). */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ocicr.h"
#include "bundle/archive.h"
#include "bundle/rootfs.h"
#include "oci/inspect/json.h"
#include "oci/inspect/source.h"
#include "ocicr/cleanup.h"

#define WH	   ".wh."
#define WH_OPAQUE  ".wh..wh..opq"
#define COPY_CHUNK (256 * 1024)

DEFINE_CLEANUP_FUNC(ij_node *, ij_free)

static void list_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void oci_rootfs_changes_fini(struct oci_rootfs_changes *c)
{
	list_free(c->changed, c->n_changed);
	list_free(c->deleted, c->n_deleted);
	*c = (struct oci_rootfs_changes){};
}

static int list_add(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(char *));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

/* ---- finding changes ---- */

int oci_rootfs_overlay_upper(const char *rootfs, char **ret_upper)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	char real[PATH_MAX];
	size_t cap = 0;
	int r = -ENOENT;

	if (!realpath(rootfs, real))
		return oc_error_errno(-errno, "%s", rootfs);
	if (!f)
		return oc_error_errno(-errno, "cannot read /proc/self/mountinfo");
	/* "ID PARENT M:N ROOT MOUNTPOINT OPTS [TAGS] - FSTYPE SOURCE SUPEROPTS"; the last match wins. */
	while (getline(&line, &cap, f) > 0) {
		char mnt[PATH_MAX], fstype[64];
		const char *sep = strstr(line, " - ");
		const char *upper;

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 || strcmp(mnt, real))
			continue;
		if (sscanf(sep + 3, "%63s", fstype) != 1 || strcmp(fstype, "overlay")) {
			r = -ENOENT;
			continue;
		}
		upper = strstr(sep, "upperdir=");
		if (!upper)
			continue;
		upper += 9;
		free(*ret_upper);
		*ret_upper = strndup(upper, strcspn(upper, ", \n"));
		if (!*ret_upper)
			return -ENOMEM;
		r = 0;
	}
	return r;
}

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* Walk @dir (relative path @rel under the walk's root), calling @fn for
 * each entry in name order; @fn returns 1 to descend into a directory. */
typedef int (*walk_fn)(const char *path, const char *rel, const struct stat *st, void *data);

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int oci_dir_names(const char *dir, char ***ret_names, size_t *ret_n)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;

	if (!d)
		return oc_error_errno(-errno, "cannot read %s", dir);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && list_add(&names, &n, de->d_name) < 0) {
			list_free(names, n);
			return -ENOMEM;
		}
	if (n)
		qsort(names, n, sizeof(char *), name_cmp);
	*ret_names = names;
	*ret_n = n;
	return 0;
}

void oci_names_free(char **names, size_t n)
{
	list_free(names, n);
}

static int walk(const char *dir, const char *rel, walk_fn fn, void *data, int depth)
{
	char **names = NULL;
	size_t n = 0;
	int r;

	if (depth > 256)
		return oc_error(-ELOOP, "%s: directories nest too deep", dir);
	r = oci_dir_names(dir, &names, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		_cleanup_free_ char *path = NULL, *sub = NULL;
		struct stat st;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0 ||
		    asprintf(&sub, "%s%s%s", rel, *rel ? "/" : "", names[i]) < 0) {
			r = -ENOMEM;
			break;
		}
		if (lstat(path, &st) < 0) {
			r = oc_error_errno(-errno, "cannot stat %s", path);
			break;
		}
		r = fn(path, sub, &st, data);
		if (r > 0 && S_ISDIR(st.st_mode))
			r = walk(path, sub, fn, data, depth + 1);
	}
	list_free(names, n);
	return r < 0 ? r : 0;
}

static int upper_entry(const char *path, const char *rel, const struct stat *st, void *data)
{
	struct oci_rootfs_changes *c = data;

	if (is_whiteout(st))
		return list_add(&c->deleted, &c->n_deleted, rel);
	if (list_add(&c->changed, &c->n_changed, rel) < 0)
		return -ENOMEM;
	return 1;
}

int oci_rootfs_diff_upper(const char *upper, struct oci_rootfs_changes *ret)
{
	int r;

	*ret = (struct oci_rootfs_changes){};
	r = walk(upper, "", upper_entry, ret, 0);
	if (r < 0)
		oci_rootfs_changes_fini(ret);
	return r;
}

struct base_walk {
	const char *other; /* the tree compared against */
	struct oci_rootfs_changes *c;
};

static bool same_link(const char *a, const char *b)
{
	char ta[PATH_MAX], tb[PATH_MAX];
	ssize_t na = readlink(a, ta, sizeof(ta)), nb = readlink(b, tb, sizeof(tb));

	return na >= 0 && na == nb && !memcmp(ta, tb, na);
}

/* An entry of the root: new or changed against the base? */
static int root_entry(const char *path, const char *rel, const struct stat *st, void *data)
{
	struct base_walk *w = data;
	_cleanup_free_ char *other = NULL;
	struct stat ost;
	bool changed;

	if (asprintf(&other, "%s/%s", w->other, rel) < 0)
		return -ENOMEM;
	if (lstat(other, &ost) < 0) {
		/* new: it and everything under it */
		return list_add(&w->c->changed, &w->c->n_changed, rel) < 0 ? -ENOMEM : 1;
	}
	changed = (st->st_mode & S_IFMT) != (ost.st_mode & S_IFMT);
	if (!changed && S_ISDIR(st->st_mode))
		return 1; /* the same directory: look inside */
	changed = changed || st->st_mode != ost.st_mode || st->st_uid != ost.st_uid || st->st_gid != ost.st_gid ||
		  (S_ISREG(st->st_mode) && (st->st_size != ost.st_size || st->st_mtim.tv_sec != ost.st_mtim.tv_sec ||
					    st->st_mtim.tv_nsec != ost.st_mtim.tv_nsec)) ||
		  (S_ISLNK(st->st_mode) && !same_link(path, other)) ||
		  ((S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) && st->st_rdev != ost.st_rdev);
	if (changed && list_add(&w->c->changed, &w->c->n_changed, rel) < 0)
		return -ENOMEM;
	return S_ISDIR(st->st_mode) ? 1 : 0;
}

/* An entry of the base: still in the root? */
static int base_entry(const char *path, const char *rel, const struct stat *st, void *data)
{
	struct base_walk *w = data;
	_cleanup_free_ char *other = NULL;
	struct stat ost;

	if (asprintf(&other, "%s/%s", w->other, rel) < 0)
		return -ENOMEM;
	if (lstat(other, &ost) < 0)
		return list_add(&w->c->deleted, &w->c->n_deleted, rel) < 0 ? -ENOMEM : 0;
	/* a directory replaced by another kind was listed as changed */
	return S_ISDIR(ost.st_mode) ? 1 : 0;
}

int oci_rootfs_diff_base(const char *rootfs, const char *base, struct oci_rootfs_changes *ret)
{
	struct base_walk w = { .other = base, .c = ret };
	int r;

	*ret = (struct oci_rootfs_changes){};
	r = walk(rootfs, "", root_entry, &w, 0);
	if (r >= 0) {
		w.other = rootfs;
		r = walk(base, "", base_entry, &w, 0);
	}
	if (r < 0)
		oci_rootfs_changes_fini(ret);
	return r;
}

/* ---- writing ---- */

static int ar_fail(struct archive *a, int err, const char *what)
{
	const char *msg = archive_error_string(a);

	return oc_error(err, "%s: %s", what, msg ? msg : "libarchive error");
}

/* One entry of @src as @rel, its contents streamed. */
static bool overlay_xattr(const char *name)
{
	return !strncmp(name, "trusted.overlay.", 16) || !strncmp(name, "user.overlay.", 13);
}

/* overlayfs's own attributes on an upper file describe the layer, not the
 * file: another overlay would misread them, and one refuses them. */
static int drop_overlay_xattrs(struct archive_entry *e)
{
	struct archive_entry *keep = archive_entry_new();
	const char *name;
	const void *value;
	size_t size;

	if (!keep)
		return -ENOMEM;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
		if (!overlay_xattr(name))
			archive_entry_xattr_add_entry(keep, name, value, size);
	archive_entry_xattr_clear(e);
	archive_entry_xattr_reset(keep);
	while (archive_entry_xattr_next(keep, &name, &value, &size) == ARCHIVE_OK)
		archive_entry_xattr_add_entry(e, name, value, size);
	archive_entry_free(keep);
	return 0;
}

static int write_entry(struct archive *out, struct archive *disk, const char *src, const char *rel)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	struct archive_entry *e;
	struct stat st;
	int r = 0;

	if (asprintf(&path, "%s/%s", src, rel) < 0)
		return -ENOMEM;
	if (lstat(path, &st) < 0)
		return oc_error_errno(-errno, "cannot stat %s", path);
	if (S_ISREG(st.st_mode)) {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return oc_error_errno(-errno, "cannot open %s", path);
	}
	e = archive_entry_new();
	if (!e)
		return -ENOMEM;
	/* the real path while it is read (a link's target), then its name */
	archive_entry_copy_pathname(e, path);
	if (archive_read_disk_entry_from_file(disk, e, fd, &st) != ARCHIVE_OK) {
		r = ar_fail(disk, -EIO, path);
		goto out;
	}
	archive_entry_copy_pathname(e, rel);
	r = drop_overlay_xattrs(e);
	if (r < 0)
		goto out;
	if (archive_write_header(out, e) != ARCHIVE_OK) {
		r = ar_fail(out, -EIO, "rootfs-diff.tar");
		goto out;
	}
	if (fd >= 0) {
		_cleanup_free_ char *buf = malloc(COPY_CHUNK);
		ssize_t n;

		if (!buf) {
			r = -ENOMEM;
			goto out;
		}
		while ((n = read(fd, buf, COPY_CHUNK)) > 0)
			if (archive_write_data(out, buf, n) != n) {
				r = ar_fail(out, -EIO, "rootfs-diff.tar");
				goto out;
			}
		if (n < 0)
			r = oc_error_errno(-errno, "cannot read %s", path);
	}
out:
	archive_entry_free(e);
	return r;
}

static int write_whiteout(struct archive *out, const char *rel)
{
	_cleanup_free_ char *name = NULL;
	const char *slash = strrchr(rel, '/');
	struct archive_entry *e = archive_entry_new();
	int r = 0;

	if (!e)
		return -ENOMEM;
	if (slash ? asprintf(&name, "%.*s/" WH "%s", (int)(slash - rel), rel, slash + 1) < 0
		  : asprintf(&name, WH "%s", rel) < 0) {
		archive_entry_free(e);
		return -ENOMEM;
	}
	archive_entry_copy_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 0);
	if (archive_write_header(out, e) != ARCHIVE_OK)
		r = ar_fail(out, -EIO, "rootfs-diff.tar");
	archive_entry_free(e);
	return r;
}

int oci_rootfs_diff_write(int fd, const char *src, const struct oci_rootfs_changes *c, bool whiteouts)
{
	struct archive *out = archive_write_new(), *disk = archive_read_disk_new();
	int r = 0;

	if (!out || !disk) {
		r = -ENOMEM;
		goto out;
	}
	archive_read_disk_set_standard_lookup(disk);
	/* pax keeps sub-second times, so a restored file is the same file */
	archive_write_set_format_pax(out);
	if (whiteouts)
		archive_write_add_filter_gzip(out);
	if (archive_write_open_fd(out, fd) != ARCHIVE_OK) {
		r = ar_fail(out, -EIO, "rootfs-diff.tar");
		goto out;
	}
	for (size_t i = 0; r >= 0 && i < c->n_changed; i++)
		r = write_entry(out, disk, src, c->changed[i]);
	for (size_t i = 0; r >= 0 && whiteouts && i < c->n_deleted; i++)
		r = write_whiteout(out, c->deleted[i]);
	if (r >= 0 && archive_write_close(out) != ARCHIVE_OK)
		r = ar_fail(out, -EIO, "rootfs-diff.tar");
out:
	if (out)
		archive_write_free(out);
	if (disk)
		archive_read_free(disk);
	return r;
}

static void fill_deleted(struct ij_writer *w, const void *arg)
{
	const struct oci_rootfs_changes *c = arg;

	ij_arr_open(w);
	for (size_t i = 0; i < c->n_deleted; i++) {
		char abs[PATH_MAX + 2];
		snprintf(abs, sizeof(abs), "/%s", c->deleted[i]);
		ij_str(w, abs);
	}
	ij_arr_close(w);
}

int oci_rootfs_deleted_json(const struct oci_rootfs_changes *c, char **ret_text)
{
	return ij_text(false, fill_deleted, c, ret_text);
}

/* ---- restore ---- */

static int disk_writer(struct archive **ret)
{
	struct archive *a = archive_write_disk_new();

	if (!a)
		return -ENOMEM;
	/* Paths are made absolute under a root without symlinks (realpath),
	 * from names already refused when absolute or with "..". */
	archive_write_disk_set_options(a, ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						  ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_OWNER |
						  ARCHIVE_EXTRACT_XATTR);
	archive_write_disk_set_standard_lookup(a);
	*ret = a;
	return 0;
}

static int copy_data(struct archive *in, struct archive *out, const char *what)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(out, buf, size, off) != ARCHIVE_OK)
			return ar_fail(out, -EIO, what);
	if (r != ARCHIVE_EOF)
		return ar_fail(in, -EIO, what);
	return 0;
}

int oci_rootfs_copy_base(const char *base, const char *dest)
{
	struct archive *disk = archive_read_disk_new(), *out = NULL;
	char real[PATH_MAX];
	size_t blen;
	int r;

	if (!disk)
		return -ENOMEM;
	if (!realpath(base, real)) {
		archive_read_free(disk);
		return oc_error_errno(-errno, "the root filesystem base %s", base);
	}
	blen = strlen(real);
	r = disk_writer(&out);
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_standard_lookup(disk);
	if (r >= 0 && archive_read_disk_open(disk, real) != ARCHIVE_OK)
		r = ar_fail(disk, -EIO, real);
	while (r >= 0) {
		struct archive_entry *e;
		_cleanup_free_ char *to = NULL;
		int h = archive_read_next_header(disk, &e);

		if (h == ARCHIVE_EOF)
			break;
		if (h != ARCHIVE_OK && h != ARCHIVE_WARN) {
			r = ar_fail(disk, -EIO, real);
			break;
		}
		archive_read_disk_descend(disk);
		if (asprintf(&to, "%s%s", dest, archive_entry_pathname(e) + blen) < 0) {
			r = -ENOMEM;
			break;
		}
		archive_entry_copy_pathname(e, to);
		if (archive_entry_hardlink(e)) {
			_cleanup_free_ char *link = NULL;
			if (asprintf(&link, "%s%s", dest, archive_entry_hardlink(e) + blen) < 0) {
				r = -ENOMEM;
				break;
			}
			archive_entry_copy_hardlink(e, link);
		}
		if (archive_write_header(out, e) != ARCHIVE_OK) {
			r = ar_fail(out, -EIO, to);
			break;
		}
		if (archive_entry_size(e) > 0 && !archive_entry_hardlink(e))
			r = copy_data(disk, out, to);
	}
	if (r >= 0 && archive_write_close(out) != ARCHIVE_OK)
		r = ar_fail(out, -EIO, dest);
	if (out)
		archive_write_free(out);
	archive_read_free(disk);
	return r;
}

/* Open the directory @rel's parent under @root_fd, never through a
 * symlink; *ret_base gets the last component. */
static int open_parent(int root_fd, char *rel, int *ret_fd, const char **ret_base)
{
	char *slash = strrchr(rel, '/');
	int fd;

	*ret_base = slash ? slash + 1 : rel;
	if (!slash) {
		fd = dup(root_fd);
		if (fd < 0)
			return -errno;
		*ret_fd = fd;
		return 0;
	}
	*slash = '\0';
	fd = dup(root_fd);
	if (fd < 0)
		return -errno;
	for (char *p = rel, *next; p; p = next) {
		next = strchr(p, '/');
		if (next)
			*next++ = '\0';
		int sub = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			struct stat st;
			int err = -errno;
			if (fstatat(fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
				err = -ELOOP;
			close(fd);
			return err;
		}
		close(fd);
		fd = sub;
	}
	*ret_fd = fd;
	return 0;
}

static int rm_at(int dfd, const char *name, int depth);

static int rm_contents_at(int fd, int depth)
{
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		close(fd);
		return -errno;
	}
	if (depth > 256)
		return -ELOOP;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			int e = rm_at(dirfd(d), de->d_name, depth + 1);
			if (e < 0 && e != -ENOENT && !r)
				r = e;
		}
	return r;
}

/* Remove @name in @dfd and all under it, never following a symlink. */
static int rm_at(int dfd, const char *name, int depth)
{
	struct stat st;
	int r;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		r = rm_contents_at(fd, depth);
		if (r < 0)
			return r;
		return unlinkat(dfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
	}
	return unlinkat(dfd, name, 0) < 0 ? -errno : 0;
}

int oci_rm_tree(const char *path)
{
	int r = rm_at(AT_FDCWD, path, 0);

	return r == -ENOENT ? 0 : r;
}

/* Remove @name (relative to @root_fd, cleaned) if it exists. */
static int remove_rel(int root_fd, const char *name, bool contents_only)
{
	char rel[PATH_MAX];
	const char *base;
	_cleanup_close_ int pfd = -1;
	int r = oci_archive_clean_path(name, rel, sizeof(rel));

	if (r < 0 || !*rel)
		return oc_error(-EINVAL, "refusing to remove '%s' (outside the root, or the root itself)", name);
	r = open_parent(root_fd, rel, &pfd, &base);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r == -ELOOP)
		return oc_error(-EINVAL, "refusing to remove '%s': a symlink on its way", name);
	if (r < 0)
		return oc_error_errno(r, "cannot remove %s", name);
	if (contents_only) {
		int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		r = fd < 0 ? -errno : rm_contents_at(fd, 0);
	} else {
		r = rm_at(pfd, base, 0);
	}
	if (r < 0 && r != -ENOENT)
		return oc_error_errno(r, "cannot remove %s", name);
	return 0;
}

/* A ".wh." whiteout: what it deletes (an empty name: the directory's contents). */
static bool whiteout_target(const char *rel, char *buf, size_t size, bool *ret_opaque)
{
	const char *slash = strrchr(rel, '/'), *base = slash ? slash + 1 : rel;
	int dlen = slash ? (int)(slash - rel) : 0;

	if (strncmp(base, WH, 4))
		return false;
	*ret_opaque = !strcmp(base, WH_OPAQUE);
	if (*ret_opaque)
		snprintf(buf, size, "%.*s", dlen, rel);
	else
		snprintf(buf, size, "%.*s%s%s", dlen, rel, slash ? "/" : "", base + 4);
	return true;
}

static int extract_member(struct archive *in, struct archive *out, struct archive_entry *e, const char *root,
			  int root_fd, struct oci_budget *budget)
{
	char rel[PATH_MAX], target[PATH_MAX];
	_cleanup_free_ char *to = NULL;
	const char *name = archive_entry_pathname(e), *link = archive_entry_hardlink(e);
	bool opaque;
	int r = name ? oci_archive_clean_path(name, rel, sizeof(rel)) : -EINVAL;

	if (r < 0)
		return oc_error(-EINVAL, "rootfs-diff.tar: unsafe member '%.200s' (absolute, or with '..')",
				name ? name : "");
	if (!*rel)
		return 0;
	r = oci_budget_take(budget, link ? 0 : archive_entry_size(e), "rootfs-diff.tar", rel);
	if (r < 0)
		return r;
	if (whiteout_target(rel, target, sizeof(target), &opaque))
		return opaque && !*target ? 0 : remove_rel(root_fd, *target ? target : ".", opaque);
	if (asprintf(&to, "%s/%s", root, rel) < 0)
		return -ENOMEM;
	archive_entry_copy_pathname(e, to);
	if (link) {
		_cleanup_free_ char *lto = NULL;
		char walk[PATH_MAX];
		const char *base;
		int pfd;

		if (oci_archive_clean_path(link, target, sizeof(target)) < 0 || !*target)
			return oc_error(-EINVAL, "rootfs-diff.tar: hard link '%.200s' points out of the root", rel);
		/* link(2) follows symlinks on the target's way: none may be there */
		memcpy(walk, target, sizeof(walk));
		r = open_parent(root_fd, walk, &pfd, &base);
		if (r == -ELOOP)
			return oc_error(-EINVAL, "rootfs-diff.tar: hard link '%.200s' points through a symlink", rel);
		if (r >= 0)
			close(pfd);
		if (asprintf(&lto, "%s/%s", root, target) < 0)
			return -ENOMEM;
		archive_entry_copy_hardlink(e, lto);
	}
	if (archive_write_header(out, e) != ARCHIVE_OK)
		return ar_fail(out, -EINVAL, "rootfs-diff.tar");
	if (archive_entry_size(e) > 0 && !link)
		return copy_data(in, out, "rootfs-diff.tar");
	return 0;
}

int oci_rootfs_apply_diff(const char *rootfs, const char *tar_path)
{
	struct archive *in = archive_read_new(), *out = NULL;
	struct oci_budget budget;
	char root[PATH_MAX];
	_cleanup_close_ int root_fd = -1;
	int r;

	if (!in)
		return -ENOMEM;
	if (!realpath(rootfs, root) || (root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		archive_read_free(in);
		return oc_error_errno(-errno, "the root %s", rootfs);
	}
	archive_read_support_format_tar(in);
	archive_read_support_filter_gzip(in);
	archive_read_support_filter_zstd(in);
	r = oci_budget_init(&budget, root);
	if (r >= 0)
		r = disk_writer(&out);
	if (r >= 0 && archive_read_open_filename(in, tar_path, 64 * 1024) != ARCHIVE_OK)
		r = ar_fail(in, -EINVAL, "rootfs-diff.tar");
	while (r >= 0) {
		struct archive_entry *e;
		int h = archive_read_next_header(in, &e);

		if (h == ARCHIVE_EOF)
			break;
		if (h != ARCHIVE_OK && h != ARCHIVE_WARN) {
			r = ar_fail(in, -EINVAL, "rootfs-diff.tar (damaged or truncated)");
			break;
		}
		r = extract_member(in, out, e, root, root_fd, &budget);
	}
	if (r >= 0 && archive_write_close(out) != ARCHIVE_OK)
		r = ar_fail(out, -EIO, "rootfs-diff.tar");
	if (out)
		archive_write_free(out);
	archive_read_free(in);
	return r;
}

int oci_rootfs_apply_deleted(const char *rootfs, const char *json_path)
{
	_cleanup_(ij_freep) ij_node *doc = NULL;
	_cleanup_close_ int root_fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (root_fd < 0)
		return oc_error_errno(-errno, "the root %s", rootfs);
	r = ij_parse_file(json_path, 16u << 20, &doc);
	if (r < 0)
		return r;
	if (!ij_is_array(doc))
		return oc_error(-EINVAL, "deleted.files is not a JSON array");
	for (size_t i = 0; i < ij_len(doc); i++) {
		const char *p = ij_string(ij_at(doc, i));
		if (!p)
			return oc_error(-EINVAL, "deleted.files[%zu] is not a string", i);
		while (*p == '/')
			p++;
		r = remove_rel(root_fd, p, false);
		if (r < 0)
			return oc_error_wrap(r, "deleted.files");
	}
	return 0;
}
