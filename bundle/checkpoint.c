// SPDX-License-Identifier: GPL-2.0-or-later
/* A container's checkpoint around the engine's dump (see checkpoint.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ocicr.h"
#include "bundle/checkpoint.h"
#include "bundle/image.h"
#include "bundle/rootfs.h"
#include "oci/inspect/json.h"
#include "ocicr/cleanup.h"

void oci_checkpoint_fini(struct oci_checkpoint *ck)
{
	oci_ctr_state_free(ck->state);
	oci_spec_free(ck->spec);
	oci_engine_opts_fini(&ck->eo);
	*ck = (struct oci_checkpoint){};
}

int oci_checkpoint_open(const char *runtime_root, const char *target, struct oci_checkpoint *ck)
{
	struct oci_dump_ctx ctx;
	int r;

	*ck = (struct oci_checkpoint){};
	r = oci_state_find(runtime_root, target, &ck->state);
	if (r >= 0)
		r = oci_spec_load(ck->state->config_path, &ck->spec);
	if (r >= 0) {
		ctx = (struct oci_dump_ctx){
			.rootfs = ck->state->rootfs,
			.freeze_cgroup = ck->state->freeze_cgroup,
			.pid = ck->state->pid,
		};
		r = oci_map_dump(ck->spec, &ctx, &ck->eo);
	}
	if (r < 0)
		oci_checkpoint_fini(ck);
	return r;
}

static void fill_descriptors(struct ij_writer *w, const void *arg)
{
	const struct oci_checkpoint *ck = arg;

	ij_arr_open(w);
	for (int i = 0; i < 3; i++) {
		char link[64], target[PATH_MAX];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)ck->state->pid, i);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		ij_str(w, n > 0 ? target : "/dev/null");
	}
	ij_arr_close(w);
}

int oci_checkpoint_descriptors(const struct oci_checkpoint *ck, const char *images_dir)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	int r = ij_text(false, fill_descriptors, ck, &text);
	int fd;

	if (r < 0)
		return r;
	if (asprintf(&path, "%s/descriptors.json", images_dir) < 0)
		return -ENOMEM;
	fd = oc_create_private_file(path, true);
	if (fd < 0)
		return fd;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		r = oc_error_errno(errno ? -errno : -EIO, "cannot write %s", path);
	close(fd);
	return r;
}

/* An unnamed file in @dir for the rootfs diff, gone when closed. */
static int diff_tmpfile(const char *dir)
{
	char tmpl[PATH_MAX];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd >= 0 ? fd : oc_error_errno(-errno, "cannot create a temporary file in %s", dir);
	snprintf(tmpl, sizeof(tmpl), "%s/.ocicr-rootfs-XXXXXX", dir);
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot create a temporary file in %s", dir);
	unlink(tmpl);
	return fd;
}

/* The root's changes into @fd and *ret_deleted; 0 with nothing when there
 * is nothing to compare against (the host's root, no overlay, no base). */
static int rootfs_changes(const struct oci_checkpoint *ck, const struct oci_export_opts *eo, int fd, char **ret_deleted,
			  bool *ret_found)
{
	_cleanup_free_ char *upper = NULL;
	struct oci_rootfs_changes c = {};
	const char *src;
	int r;

	*ret_found = false;
	if (!strcmp(ck->state->rootfs, "/"))
		return 0;
	r = oci_rootfs_overlay_upper(ck->state->rootfs, &upper);
	if (r == 0) {
		src = upper;
		r = oci_rootfs_diff_upper(upper, &c);
	} else if (r == -ENOENT && eo->rootfs_base) {
		src = ck->state->rootfs;
		r = oci_rootfs_diff_base(ck->state->rootfs, eo->rootfs_base, &c);
	} else {
		return r == -ENOENT ? 0 : r;
	}
	if (r >= 0)
		r = oci_rootfs_diff_write(fd, src, &c, eo->layout == OCI_LAYOUT_CONTAINERD);
	if (r >= 0 && eo->layout != OCI_LAYOUT_CONTAINERD && c.n_deleted)
		r = oci_rootfs_deleted_json(&c, ret_deleted);
	oci_rootfs_changes_fini(&c);
	*ret_found = r >= 0;
	return r;
}

int oci_checkpoint_identity(const struct oci_checkpoint *ck, const char *image_name, struct oci_storage_ctr *ret)
{
	int r = oci_storage_container(ck->state->bundle, ck->state->id, ret);

	if (r < 0 || (ret->image_name && !image_name))
		return r;
	if (!image_name)
		image_name = ij_get_string(ij_get(ck->spec->doc, "annotations"), "org.opencontainers.image.ref.name");
	if (!image_name)
		return 0;
	free(ret->image_name);
	free(ret->image_id);
	ret->image_id = NULL;
	ret->image_name = strdup(image_name);
	if (!ret->image_name)
		return -ENOMEM;
	r = oci_storage_image_id(OCI_STORAGE_ROOT, image_name, &ret->image_id);
	return r == -ENOENT ? 0 : r;
}

int oci_checkpoint_export(const struct oci_checkpoint *ck, const struct oci_export_opts *eo, bool *ret_changes)
{
	_cleanup_free_ char *dcopy = strdup(eo->path ? eo->path : eo->image_dir), *deleted = NULL;
	_cleanup_close_ int fd = -1;
	bool found = false;
	int r;

	if (!dcopy)
		return -ENOMEM;
	fd = diff_tmpfile(dirname(dcopy));
	if (fd < 0)
		return fd;
	r = rootfs_changes(ck, eo, fd, &deleted, &found);
	if (r < 0)
		return oc_error_wrap(r, "the root filesystem's changes");
	struct oci_archive_in in = {
		.layout = eo->layout,
		.compress = eo->compress,
		.images_dir = eo->images_dir,
		.work_dir = eo->work_dir,
		.spec_path = ck->state->config_path,
		.spec = ck->spec,
		.id = ck->state->id,
		.name = eo->identity ? eo->identity->name : NULL,
		.runtime = ck->state->runtime,
		.image_name = eo->identity ? eo->identity->image_name : NULL,
		.image_id = eo->identity ? eo->identity->image_id : NULL,
		.created = ck->state->created,
		.checkpointed = time(NULL),
		.pid = ck->state->pid,
		.rootfs_diff_fd = found ? fd : -1,
		.deleted_json = deleted,
	};
	r = eo->path ? oci_archive_write(eo->path, &in) : 0;
	if (r >= 0 && eo->image_dir)
		r = oci_image_layout_write(eo->image_dir, eo->image_tag ? eo->image_tag : "latest", &in);
	if (r >= 0 && ret_changes)
		*ret_changes = found;
	return r;
}
