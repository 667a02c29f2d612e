// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The contents of tmpfs mounts: tmpfs-dev-KDEV.tar.gz.img, a gzip'd tar of
 * the mount's files with names "./...", numeric owners, as CRIU writes it.
 *
 * The dump reads a detached clone of the one mount (open_tree), so what is
 * mounted below it (/dev/pts over /dev) stays out, as it must.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "res/ns/mnt.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_free(*a);
}
#define _cleanup_archive_ _cleanup_(archive_freep)

static la_ssize_t img_write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
	(void)a;
	return oc_img_write_raw(data, buf, len) < 0 ? -1 : (la_ssize_t)len;
}

static int copy_entry_data(struct archive *disk, struct archive *out)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(disk, &buf, &len, &off)) == ARCHIVE_OK)
		if (archive_write_data(out, buf, len) < 0)
			return -EIO;
	return r == ARCHIVE_EOF ? 0 : -EIO;
}

/* Owners as the other side of the tree's user namespace sees them (the
 * tar holds those seen inside, as CRIU's). */
static int owners_across(struct archive_entry *e, const struct oc_userns_maps *maps, bool to_inside)
{
	uint32_t (*across)(const struct oc_id_map *, uint32_t) = to_inside ? oc_userns_inside : oc_userns_host;

	if (!maps)
		return 0;
	uint32_t uid = across(&maps->uid, (uint32_t)archive_entry_uid(e));
	uint32_t gid = across(&maps->gid, (uint32_t)archive_entry_gid(e));
	if (uid == OC_USERNS_UNMAPPED || gid == OC_USERNS_UNMAPPED)
		return oc_error(-EINVAL, "%s: its owner %lld:%lld has no id %s the user namespace",
				archive_entry_pathname(e), (long long)archive_entry_uid(e),
				(long long)archive_entry_gid(e), to_inside ? "inside" : "outside");
	archive_entry_set_uid(e, uid);
	archive_entry_set_gid(e, gid);
	return 0;
}

/* Tar the current directory ("./...") into @out. */
static int tar_cwd(struct archive *out, const char *mountpoint, const struct oc_userns_maps *maps)
{
	_cleanup_archive_ struct archive *disk = archive_read_disk_new();

	if (!disk)
		return -ENOMEM;
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	if (archive_read_disk_open(disk, ".") != ARCHIVE_OK)
		return oc_error(-EIO, "tmpfs at %s: %s", mountpoint, archive_error_string(disk));
	for (;;) {
		struct archive_entry *e = archive_entry_new();
		int r = archive_read_next_header2(disk, e);

		if (r == ARCHIVE_EOF) {
			archive_entry_free(e);
			return 0;
		}
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			archive_entry_free(e);
			return oc_error(-EIO, "tmpfs at %s: %s", mountpoint, archive_error_string(disk));
		}
		archive_read_disk_descend(disk);
		archive_entry_set_uname(e, NULL);
		archive_entry_set_gname(e, NULL);
		if (owners_across(e, maps, true) < 0) {
			archive_entry_free(e);
			return oc_error_wrap(-EINVAL, "tmpfs at %s", mountpoint);
		}
		r = archive_write_header(out, e);
		if (r == ARCHIVE_OK && archive_entry_size(e) > 0 && archive_entry_filetype(e) == AE_IFREG)
			r = copy_entry_data(disk, out) < 0 ? ARCHIVE_FATAL : ARCHIVE_OK;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			int err = oc_error(-EIO, "tmpfs at %s: %s: %s", mountpoint, archive_entry_pathname(e),
					   archive_error_string(out) ?: archive_error_string(disk));
			archive_entry_free(e);
			return err;
		}
		archive_entry_free(e);
	}
}

int oc_mnt_tmpfs_open(const char *mountpoint, int *ret_fd)
{
	*ret_fd = (int)syscall(SYS_open_tree, AT_FDCWD, mountpoint, OPEN_TREE_CLONE | O_CLOEXEC);
	if (*ret_fd < 0)
		return oc_error_errno(-errno, "cannot reach the tmpfs at %s", mountpoint);
	return 0;
}

int oc_mnt_tmpfs_dump(struct oc_imgdir *dir, int tree, const char *mountpoint, uint32_t kdev,
		      const struct oc_userns_maps *maps)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	_cleanup_archive_ struct archive *out = NULL;
	_cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (cwd < 0)
		return oc_error_errno(-errno, "cannot open the working directory");
	r = oc_img_create(dir, OC_IMG_TMPFS_DEV, kdev, &img);
	if (r < 0)
		return r;
	out = archive_write_new();
	if (!out)
		return -ENOMEM;
	if (archive_write_add_filter_gzip(out) != ARCHIVE_OK || archive_write_set_format_gnutar(out) != ARCHIVE_OK ||
	    archive_write_open(out, img, NULL, img_write_cb, NULL) != ARCHIVE_OK)
		return oc_error(-EIO, "tmpfs at %s: %s", mountpoint, archive_error_string(out));
	if (fchdir(tree) < 0)
		return oc_error_errno(-errno, "cannot enter the tmpfs at %s", mountpoint);
	r = tar_cwd(out, mountpoint, maps);
	if (fchdir(cwd) < 0 && r >= 0)
		r = oc_error_errno(-errno, "cannot go back to the working directory");
	if (r < 0)
		return r;
	if (archive_write_close(out) != ARCHIVE_OK)
		return oc_error(-EIO, "tmpfs at %s: %s", mountpoint, archive_error_string(out));
	pr_debug("tmpfs at %s saved as tmpfs-dev-%u.tar.gz.img", mountpoint, kdev);
	return oc_img_commit(img);
}

/* ---- restore ------------------------------------------------------------ */

static int extract_all(struct archive *in, struct archive *disk, const char *path, const struct oc_userns_maps *maps)
{
	struct archive_entry *e;
	int r;

	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		if (owners_across(e, maps, false) < 0)
			return oc_error_wrap(-EINVAL, "tmpfs at %s", path);
		r = archive_write_header(disk, e);
		if (r == ARCHIVE_OK && archive_entry_size(e) > 0) {
			const void *buf;
			size_t len;
			la_int64_t off;
			while ((r = archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK)
				if (archive_write_data_block(disk, buf, len, off) != ARCHIVE_OK)
					break;
			r = r == ARCHIVE_EOF ? ARCHIVE_OK : ARCHIVE_FATAL;
		}
		if (r == ARCHIVE_OK)
			r = archive_write_finish_entry(disk);
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return oc_error(-EIO, "tmpfs at %s: %s: %s", path, archive_entry_pathname(e),
					archive_error_string(disk) ?: archive_error_string(in));
	}
	if (r != ARCHIVE_EOF)
		return oc_error(-EIO, "tmpfs at %s: %s", path, archive_error_string(in));
	return 0;
}

int oc_mnt_tmpfs_restore(struct oc_imgdir *dir, uint32_t kdev, const char *path, const struct oc_userns_maps *maps)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	_cleanup_archive_ struct archive *in = NULL, *disk = NULL;
	_cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = oc_img_open(dir, OC_IMG_TMPFS_DEV, kdev, &img);

	if (r == -ENOENT) {
		oc_error_clear();
		pr_info("no contents saved for the tmpfs at %s", path);
		return 0;
	}
	if (r < 0)
		return r;
	if (cwd < 0)
		return oc_error_errno(-errno, "cannot open the working directory");
	in = archive_read_new();
	disk = archive_write_disk_new();
	if (!in || !disk)
		return -ENOMEM;
	archive_read_support_filter_gzip(in);
	archive_read_support_format_tar(in);
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
						     ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						     ARCHIVE_EXTRACT_SECURE_SYMLINKS |
						     ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	if (archive_read_open_fd(in, oc_img_fd(img), 1 << 16) != ARCHIVE_OK)
		return oc_error(-EIO, "tmpfs-dev-%u.tar.gz.img: %s", kdev, archive_error_string(in));
	if (chdir(path) < 0)
		return oc_error_errno(-errno, "cannot enter %s", path);
	r = extract_all(in, disk, path, maps);
	if (fchdir(cwd) < 0 && r >= 0)
		r = oc_error_errno(-errno, "cannot go back to the working directory");
	return r < 0 ? oc_error_wrap(r, "tmpfs-dev-%u.tar.gz.img", kdev) : 0;
}
