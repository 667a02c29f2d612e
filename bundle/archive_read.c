// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unpacking a checkpoint archive for restore (see archive.h).  Unlike
 * `ocicr inspect`, which extracts only what it shows into a temporary
 * directory, a restore needs every image, so the whole archive is unpacked
 * into the new bundle; member names are cleaned by the same rule
 * (oci_archive_clean_path()), and only plain files and directories are
 * written, with openat() under the destination, never through a link.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ocicr.h"
#include "bundle/archive.h"
#include "oci/inspect/source.h"
#include "ocicr/cleanup.h"

#define META_DIR ".import"

/* Top-level members kept for the restore; the rest (logs, artifacts/,
 * devshm-checkpoint.tar, volumes/...) is not needed and skipped. */
static const char *const meta_members[] = {
	OCI_CONFIG_DUMP, OCI_SPEC_DUMP,	  OCI_NETWORK_STATUS, OCI_STATS_DUMP, OCI_DELETED_FILES,
	OCI_BIND_MOUNTS, OCI_ROOTFS_DIFF, OCI_STATUS_DUMP,    OCI_STATUS,
};

void oci_import_fini(struct oci_import *imp)
{
	free(imp->images_dir);
	free(imp->meta_dir);
	*imp = (struct oci_import){};
}

int oci_budget_init(struct oci_budget *b, const char *dir)
{
	struct statvfs st;
	unsigned long long avail, reserve;

	if (statvfs(dir, &st) < 0)
		return oc_error_errno(-errno, "cannot see how much room %s has", dir);
	avail = (unsigned long long)st.f_bavail * st.f_frsize;
	reserve = (unsigned long long)st.f_blocks * st.f_frsize / 10;
	b->left = avail > reserve ? avail - reserve : 0;
	b->where = dir;
	return 0;
}

int oci_budget_take(struct oci_budget *b, long long size, const char *what, const char *member)
{
	unsigned long long cost = ((unsigned long long)(size > 0 ? size : 0) + 8191) / 4096 * 4096;

	if (cost > b->left)
		return oc_error(-EFBIG,
				"%s: member %s (%lld bytes) does not fit: the archive unpacks to more than %s can "
				"hold (a tenth of its filesystem stays free)",
				what, member, size, b->where);
	b->left -= cost;
	return 0;
}

struct unpack {
	struct archive *a;
	struct oci_budget budget;
	const char *archive;
	int meta_fd, images_fd;
	bool top_images; /* images at the top level: ocicr's own layout */
	bool has_checkpoint_dir;
	bool crio_log;
	struct oci_import *imp;
};

static int read_fail(struct unpack *u, const char *what)
{
	const char *msg = archive_error_string(u->a);

	return oc_error(-EINVAL, "%s: damaged or truncated archive (%s): %s", u->archive, what,
			msg ? msg : "unexpected end");
}

/* Write the current member's data to a new file @name in @dfd. */
static int write_member(struct unpack *u, int dfd, const char *name, const char *rel, int64_t total)
{
	_cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	if (fd < 0)
		return oc_error_errno(-errno, "%s: member %s cannot be written%s", u->archive, rel,
				      errno == EEXIST ? " (it is in the archive twice)" : "");
	r = oci_budget_take(&u->budget, total, u->archive, rel);
	if (r < 0)
		return r;
	while ((r = archive_read_data_block(u->a, &buf, &size, &off)) == ARCHIVE_OK) {
		const char *p = buf;
		while (size > 0) {
			ssize_t n = pwrite(fd, p, size, off);
			if (n < 0)
				return oc_error_errno(-errno, "cannot write %s", rel);
			p += n;
			off += n;
			size -= n;
		}
	}
	if (r != ARCHIVE_EOF)
		return read_fail(u, rel);
	/* a sparse member may end in a hole */
	if (total > 0 && ftruncate(fd, total) < 0)
		return oc_error_errno(-errno, "cannot write %s", rel);
	return 0;
}

static bool is_meta(const char *rel)
{
	for (size_t i = 0; i < sizeof(meta_members) / sizeof(meta_members[0]); i++)
		if (!strcmp(rel, meta_members[i]))
			return true;
	return false;
}

static void note_meta(struct oci_import *imp, const char *rel)
{
	imp->has_spec |= !strcmp(rel, OCI_SPEC_DUMP);
	imp->has_config |= !strcmp(rel, OCI_CONFIG_DUMP);
	imp->has_rootfs_diff |= !strcmp(rel, OCI_ROOTFS_DIFF);
	imp->has_deleted |= !strcmp(rel, OCI_DELETED_FILES);
	imp->has_bind_mounts |= !strcmp(rel, OCI_BIND_MOUNTS);
	imp->has_status_dump |= !strcmp(rel, OCI_STATUS_DUMP);
}

/* An image name: what CRIU and runc put in an images directory. */
static bool is_image_name(const char *base)
{
	size_t n = strlen(base);

	return (n > 4 && !strcmp(base + n - 4, ".img")) || !strcmp(base, OCI_DESCRIPTORS_JSON) ||
	       !strcmp(base, "stats-dump") || !strcmp(base, "stats-restore");
}

static int unpack_member(struct unpack *u, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);
	char rel[PATH_MAX], sh[256];
	mode_t type = archive_entry_filetype(e);
	const char *slash;
	int r = name ? oci_archive_clean_path(name, rel, sizeof(rel)) : -EINVAL;

	if (r == -EINVAL)
		return oc_error(-EINVAL, "%s: unsafe member '%s' (absolute, or with '..'): refusing the archive",
				u->archive, oci_archive_shown_name(name, sh, sizeof(sh)));
	if (r < 0)
		return oc_error(r, "%s: member name too long", u->archive);
	if (!*rel)
		return 0;
	if (archive_entry_hardlink(e) || (type != AE_IFREG && type != AE_IFDIR))
		return oc_error(-EINVAL, "%s: member %s is a %s, not a file or directory: refusing the archive",
				u->archive, oci_archive_shown_name(rel, sh, sizeof(sh)),
				archive_entry_hardlink(e) ? "hard link"
				: type == AE_IFLNK	  ? "symlink"
							  : "special file");
	slash = strchr(rel, '/');
	if (!strcmp(rel, OCI_CHECKPOINT_DIR) || (slash && !strncmp(rel, OCI_CHECKPOINT_DIR "/", 11))) {
		u->has_checkpoint_dir = true;
		if (!slash || type == AE_IFDIR)
			return 0;
		if (strchr(slash + 1, '/'))
			return oc_error(-EINVAL, "%s: unexpected member %s (checkpoint/ holds no directories)",
					u->archive, oci_archive_shown_name(rel, sh, sizeof(sh)));
		return write_member(u, u->images_fd, slash + 1, rel, archive_entry_size(e));
	}
	if (slash || type == AE_IFDIR)
		return 0; /* artifacts/, volumes/...: not needed */
	u->crio_log |= !strcmp(rel, OCI_CRIO_LOG);
	if (is_meta(rel)) {
		note_meta(u->imp, rel);
		return write_member(u, u->meta_fd, rel, rel, archive_entry_size(e));
	}
	if (is_image_name(rel)) {
		u->top_images = true;
		return write_member(u, u->images_fd, rel, rel, archive_entry_size(e));
	}
	return 0;
}

static bool exists_at(int dfd, const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static int decide_layout(struct unpack *u)
{
	struct oci_import *imp = u->imp;

	if (!exists_at(u->images_fd, "inventory.img")) {
		if (u->has_checkpoint_dir)
			return oc_error(-EINVAL, "%s: checkpoint/ has no inventory.img: not a complete checkpoint",
					u->archive);
		if (imp->n_members == 0)
			return oc_error(-EINVAL, "%s: an empty archive", u->archive);
		return oc_error(-EINVAL,
				"%s: not a checkpoint archive (wrong layout: no checkpoint/inventory.img and no "
				"inventory.img)",
				u->archive);
	}
	if (u->top_images && u->has_checkpoint_dir)
		return oc_error(-EINVAL, "%s: images both at the top and in checkpoint/ (wrong layout)", u->archive);
	if (u->top_images)
		imp->layout = OCI_LAYOUT_OCICR;
	else if (imp->has_status_dump)
		imp->layout = OCI_LAYOUT_CONTAINERD;
	else if (imp->has_bind_mounts || u->crio_log)
		imp->layout = OCI_LAYOUT_CRIO;
	else
		imp->layout = OCI_LAYOUT_PODMAN;
	if (imp->layout != OCI_LAYOUT_OCICR && (!imp->has_spec || !imp->has_config))
		return oc_error(-EINVAL, "%s: a %s checkpoint archive without %s (wrong layout)", u->archive,
				oci_layout_name(imp->layout), imp->has_spec ? OCI_CONFIG_DUMP : OCI_SPEC_DUMP);
	return 0;
}

static const char *filter_name(struct archive *a)
{
	for (int i = 0; i < archive_filter_count(a); i++) {
		int code = archive_filter_code(a, i);
		if (code == ARCHIVE_FILTER_GZIP)
			return "gzip";
		if (code == ARCHIVE_FILTER_ZSTD)
			return "zstd";
		if (code == ARCHIVE_FILTER_XZ)
			return "xz";
		if (code == ARCHIVE_FILTER_BZIP2)
			return "bzip2";
	}
	return "none";
}

static int unpack_all(struct unpack *u)
{
	struct archive_entry *e;
	int r;

	archive_read_support_format_tar(u->a);
	archive_read_support_filter_gzip(u->a);
	archive_read_support_filter_zstd(u->a);
	archive_read_support_filter_xz(u->a);
	archive_read_support_filter_bzip2(u->a);
	if (archive_read_open_filename(u->a, u->archive, 64 * 1024) != ARCHIVE_OK)
		return oc_error(-EINVAL, "%s: damaged, truncated or not an archive: %s", u->archive,
				archive_error_string(u->a) ? archive_error_string(u->a) : "unknown format");
	for (;;) {
		r = archive_read_next_header(u->a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return u->imp->n_members ? read_fail(u, "after the last good member")
						 : oc_error(-EINVAL, "%s: not a tar archive: %s", u->archive,
							    archive_error_string(u->a) ? archive_error_string(u->a)
										       : "unknown format");
		u->imp->n_members++;
		if (u->imp->n_members == 1)
			u->imp->compression = filter_name(u->a);
		r = unpack_member(u, e);
		if (r < 0)
			return r;
	}
	return decide_layout(u);
}

int oci_archive_import(const char *archive, const char *dest, struct oci_import *ret)
{
	struct oci_import imp = {};
	struct unpack u = { .archive = archive, .meta_fd = -1, .images_fd = -1, .imp = &imp };
	_cleanup_close_ int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r;

	if (dfd < 0)
		return oc_error_errno(-errno, "cannot open %s", dest);
	if (access(archive, R_OK) < 0)
		return oc_error_errno(-errno, "the archive %s", archive);
	if (mkdirat(dfd, OCI_CHECKPOINT_DIR, 0700) < 0 || mkdirat(dfd, META_DIR, 0700) < 0)
		return oc_error_errno(-errno, "cannot create directories in %s", dest);
	u.images_fd = openat(dfd, OCI_CHECKPOINT_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	u.meta_fd = openat(dfd, META_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	u.a = archive_read_new();
	if (u.images_fd < 0 || u.meta_fd < 0 || !u.a)
		r = u.a ? oc_error_errno(-errno, "cannot open directories in %s", dest) : -ENOMEM;
	else
		r = oci_budget_init(&u.budget, dest);
	if (r >= 0)
		r = unpack_all(&u);
	if (u.a)
		archive_read_free(u.a);
	if (u.images_fd >= 0)
		close(u.images_fd);
	if (u.meta_fd >= 0)
		close(u.meta_fd);
	if (r >= 0 && (asprintf(&imp.images_dir, "%s/" OCI_CHECKPOINT_DIR, dest) < 0 ||
		       asprintf(&imp.meta_dir, "%s/" META_DIR, dest) < 0))
		r = -ENOMEM;
	if (r < 0) {
		oci_import_fini(&imp);
		return r;
	}
	*ret = imp;
	return 0;
}
