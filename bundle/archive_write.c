// SPDX-License-Identifier: GPL-2.0-or-later
/* Writing checkpoint archives in podman's, CRI-O's and containerd's layouts (see archive.h). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocicr.h"
#include "bundle/archive.h"
#include "bundle/rootfs.h"
#include "bundle/sha256.h"
#include "oci/inspect/json.h"
#include "oci/inspect/source.h"
#include "ocicr/cleanup.h"

#define CHUNK (1024 * 1024)

static const char *const layout_names[_OCI_LAYOUT_MAX] = {
	[OCI_LAYOUT_PODMAN] = "podman",
	[OCI_LAYOUT_CRIO] = "crio",
	[OCI_LAYOUT_CONTAINERD] = "containerd",
	[OCI_LAYOUT_OCICR] = "ocicr",
};

const char *oci_layout_name(enum oci_layout l)
{
	return l >= 0 && l < _OCI_LAYOUT_MAX ? layout_names[l] : "?";
}

enum oci_layout oci_layout_from_name(const char *s)
{
	for (int i = 0; i < _OCI_LAYOUT_MAX; i++)
		if (!strcmp(s, layout_names[i]))
			return i;
	if (!strcmp(s, "cri-o"))
		return OCI_LAYOUT_CRIO;
	return _OCI_LAYOUT_INVALID;
}

enum oci_compress oci_compress_from_name(const char *s)
{
	static const char *const names[_OCI_COMPRESS_MAX] = { "none", "gzip", "zstd" };

	for (int i = 0; i < _OCI_COMPRESS_MAX; i++)
		if (!strcmp(s, names[i]))
			return i;
	return _OCI_COMPRESS_INVALID;
}

enum oci_compress oci_layout_default_compress(enum oci_layout l)
{
	return l == OCI_LAYOUT_PODMAN ? OCI_COMPRESS_ZSTD : OCI_COMPRESS_NONE;
}

struct writer {
	struct archive *a;
	const char *target; /* for messages */
	time_t mtime;
};

static int ar_fail(struct writer *w)
{
	const char *msg = archive_error_string(w->a);

	return oc_error(-EIO, "writing %s: %s", w->target, msg ? msg : "libarchive error");
}

static int add_header(struct writer *w, const char *name, mode_t type, mode_t perm, int64_t size)
{
	struct archive_entry *e = archive_entry_new();
	int r = 0;

	if (!e)
		return -ENOMEM;
	archive_entry_copy_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_size(e, size);
	archive_entry_set_mtime(e, w->mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	if (archive_write_header(w->a, e) != ARCHIVE_OK)
		r = ar_fail(w);
	archive_entry_free(e);
	return r;
}

static int add_dir(struct writer *w, const char *name, mode_t perm)
{
	return add_header(w, name, AE_IFDIR, perm, 0);
}

static int add_text(struct writer *w, const char *name, const char *text, mode_t perm)
{
	size_t len = strlen(text);
	int r = add_header(w, name, AE_IFREG, perm, (int64_t)len);

	if (r >= 0 && len && archive_write_data(w->a, text, len) != (la_ssize_t)len)
		r = ar_fail(w);
	return r;
}

/* The open file @fd as member @name, streamed in chunks. */
static int add_fd(struct writer *w, const char *name, int fd, const char *what, mode_t perm)
{
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	off_t left;
	int r;

	if (fstat(fd, &st) < 0)
		return oc_error_errno(-errno, "cannot stat %s", what);
	if (!S_ISREG(st.st_mode))
		return oc_error(-EINVAL, "%s is not a regular file", what);
	r = add_header(w, name, AE_IFREG, perm, st.st_size);
	if (r < 0)
		return r;
	buf = malloc(CHUNK);
	if (!buf)
		return -ENOMEM;
	/* Exactly the size announced in the header, even if the file grows. */
	for (left = st.st_size; left > 0;) {
		ssize_t n = pread(fd, buf, left < CHUNK ? (size_t)left : CHUNK, st.st_size - left);
		if (n < 0)
			return oc_error_errno(-errno, "cannot read %s", what);
		if (n == 0)
			return oc_error(-EIO, "%s shrank while it was archived", what);
		if (archive_write_data(w->a, buf, n) != n)
			return ar_fail(w);
		left -= n;
	}
	return 0;
}

static int add_file(struct writer *w, const char *name, const char *path, mode_t perm, bool optional)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (optional && errno == ENOENT)
			return 0;
		return oc_error_errno(-errno, "cannot open %s", path);
	}
	return add_fd(w, name, fd, path, perm);
}

/* The dump's log and statistics go beside checkpoint/, as CRIU's work
 * directory has them, when the images directory is the work directory. */
static bool is_work_file(const char *name)
{
	return !strcmp(name, OCI_DUMP_LOG) || !strcmp(name, OCI_STATS_DUMP) || !strcmp(name, "restore.log");
}

/* checkpoint/: every regular file of the images directory, in name order. */
static int add_images(struct writer *w, const char *dir)
{
	char **names = NULL;
	size_t n = 0;
	int r = oci_dir_names(dir, &names, &n);

	if (r < 0)
		return oc_error_wrap(r, "the images directory");
	r = add_dir(w, OCI_CHECKPOINT_DIR "/", 0700);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		_cleanup_free_ char *path = NULL, *member = NULL;
		struct stat st;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0 ||
		    asprintf(&member, OCI_CHECKPOINT_DIR "/%s", names[i]) < 0)
			r = -ENOMEM;
		else if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && !is_work_file(names[i]))
			r = add_file(w, member, path, 0600, false);
	}
	oci_names_free(names, n);
	return r;
}

/* ---- JSON members ---- */

typedef void (*json_fill)(struct ij_writer *jw, const void *arg);

static void rfc3339(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *ctr_name(const struct oci_archive_in *in)
{
	return in->name ? in->name : in->id;
}

/* podman's ids are 64 hex digits (its ps cuts them to 12): a runc id that
 * is not one stands as its SHA-256, the same for every archive of it. */
static void podman_id(const char *id, char out[65])
{
	struct oci_sha256 s;

	if (strlen(id) == 64 && strspn(id, "0123456789abcdef") == 64) {
		memcpy(out, id, 65);
		return;
	}
	oci_sha256_init(&s);
	oci_sha256_update(&s, id, strlen(id));
	oci_sha256_hex(&s, out);
}

/* podman reads the whole libpod ContainerConfig; these are the fields
 * its import needs (runtime-integration.md 3.3) and checkpointctl shows. */
static void fill_podman_config(struct ij_writer *jw, const void *arg)
{
	const struct oci_archive_in *in = arg;
	char when[64], id[65];
	bool netns = in->spec && in->spec->ns_path[OCI_NS_NETWORK];

	rfc3339(in->checkpointed, when, sizeof(when));
	podman_id(in->id, id);
	ij_obj_open(jw);
	ij_kv_str(jw, "id", id);
	ij_kv_str(jw, "name", ctr_name(in));
	ij_kv_str(jw, "rootfsImageID", in->image_id ? in->image_id : "");
	ij_kv_str(jw, "rootfsImageName", in->image_name ? in->image_name : "");
	ij_kv_str(jw, "RawImageName", in->image_name ? in->image_name : "");
	ij_kv_str(jw, "runtime", in->runtime ? in->runtime : "runc");
	ij_kv_str(jw, "createdTime", in->created ? in->created : when);
	ij_kv_str(jw, "checkpointedTime", when);
	/* A namespace by path was the engine's (podman's, CNI's): podman's
	 * import makes one anew on its default network, as it would for its own. */
	ij_kv_bool(jw, "createNetNS", netns);
	ij_kv_str(jw, "networkMode", netns ? "bridge" : "none");
	if (netns) {
		ij_key(jw, "newNetworks");
		ij_obj_open(jw);
		ij_key(jw, "podman");
		ij_obj_open(jw);
		ij_kv_str(jw, "interface_name", "eth0");
		ij_obj_close(jw);
		ij_obj_close(jw);
	}
	ij_kv_str(jw, "checkpointedBy", "ocicr " OCICR_VERSION);
	ij_obj_close(jw);
}

/* CRI-O's and checkpointctl's small ContainerConfig (also containerd's). */
static void fill_small_config(struct ij_writer *jw, const void *arg)
{
	const struct oci_archive_in *in = arg;
	char when[64];

	rfc3339(in->checkpointed, when, sizeof(when));
	ij_obj_open(jw);
	ij_kv_str(jw, "id", in->id);
	ij_kv_str(jw, "name", ctr_name(in));
	ij_kv_str(jw, "rootfsImage", in->image_name ? in->image_name : "");
	ij_kv_str(jw, "rootfsImageRef", in->image_id ? in->image_id : "");
	ij_kv_str(jw, "rootfsImageName", in->image_name ? in->image_name : "");
	ij_kv_str(jw, "runtime", in->runtime ? in->runtime : "runc");
	ij_kv_str(jw, "createdTime", in->created ? in->created : when);
	ij_kv_str(jw, "checkpointedTime", when);
	ij_kv_str(jw, "restoredTime", "0001-01-01T00:00:00Z");
	ij_kv_bool(jw, "restored", false);
	ij_obj_close(jw);
}

/* podman restores the addresses in it; ocicr knows none */
static void fill_network_status(struct ij_writer *jw, const void *arg)
{
	ij_obj_open(jw);
	ij_obj_close(jw);
}

/* Where CRI-O leaves the mounts it makes itself (bind.mounts lists the rest). */
static bool crio_own_mount(const char *dest)
{
	static const char *const own[] = { "/dev",	   "/dev/shm", "/proc", "/run", "/run/.containerenv",
					   "/run/secrets", "/sys" };

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strcmp(dest, own[i]))
			return true;
	return false;
}

static void fill_bind_mounts(struct ij_writer *jw, const void *arg)
{
	const struct oci_archive_in *in = arg;
	ij_arr_open(jw);
	for (size_t i = 0; in->spec && i < in->spec->n_mounts; i++) {
		const struct oci_mount *m = &in->spec->mounts[i];
		struct stat st;

		if (!m->bind || crio_own_mount(m->destination))
			continue;
		bool ok = stat(m->source, &st) == 0;
		ij_obj_open(jw);
		ij_kv_str(jw, "source", m->source);
		ij_kv_str(jw, "destination", m->destination);
		ij_kv_str(jw, "file_type", ok && !S_ISDIR(st.st_mode) ? "file" : "directory");
		ij_kv_u64(jw, "permissions", ok ? (st.st_mode & 07777) : 0755);
		ij_obj_close(jw);
	}
	ij_arr_close(jw);
}

/* The CRI ContainerStatus containerd's restore requires. */
static void fill_status_dump(struct ij_writer *jw, const void *arg)
{
	const struct oci_archive_in *in = arg;
	ij_obj_open(jw);
	ij_kv_str(jw, "id", in->id);
	ij_key(jw, "metadata");
	ij_obj_open(jw);
	ij_kv_str(jw, "name", ctr_name(in));
	ij_kv_u64(jw, "attempt", 0);
	ij_obj_close(jw);
	ij_kv_str(jw, "state", "CONTAINER_RUNNING");
	ij_kv_str(jw, "created_at", in->created ? in->created : "");
	ij_key(jw, "image");
	ij_obj_open(jw);
	ij_kv_str(jw, "image", in->image_name ? in->image_name : "");
	ij_obj_close(jw);
	ij_kv_str(jw, "image_ref", in->image_id ? in->image_id : "");
	ij_kv_str(jw, "log_path", "");
	ij_obj_close(jw);
}

/* containerd's own record of the container, as far as ocicr knows it. */
static void fill_status(struct ij_writer *jw, const void *arg)
{
	const struct oci_archive_in *in = arg;
	ij_obj_open(jw);
	ij_kv_str(jw, "id", in->id);
	ij_kv_i64(jw, "pid", in->pid);
	ij_kv_str(jw, "status", "running");
	ij_kv_str(jw, "created", in->created ? in->created : "");
	ij_kv_str(jw, "runtime", in->runtime ? in->runtime : "runc");
	ij_obj_close(jw);
}

static void fill_node(struct ij_writer *jw, const void *arg)
{
	if (arg) {
		ij_node_out(jw, arg);
		return;
	}
	ij_obj_open(jw);
	ij_obj_close(jw);
}

static void fill_crio_metadata(struct ij_writer *jw, const void *arg)
{
	ij_obj_open(jw);
	ij_kv_str(jw, "name", ctr_name(arg));
	ij_kv_u64(jw, "attempt", 0);
	ij_obj_close(jw);
}

/* The config's annotations, and those a config CRI-O did not make lacks:
 * CRI-O's restore reads the original annotations from one (a JSON
 * string), checkpointctl the container's metadata from another. */
static void out_crio_annotations(struct ij_writer *jw, const struct oci_archive_in *in, const ij_node *ann)
{
	_cleanup_free_ char *orig = NULL, *meta = NULL;

	ij_obj_open(jw);
	for (size_t i = 0; ij_is_object(ann) && i < ij_len(ann); i++) {
		ij_key(jw, ij_key_at(ann, i));
		ij_node_out(jw, ij_at(ann, i));
	}
	if (!ij_get(ann, "io.container.manager"))
		ij_kv_str(jw, "io.container.manager", "cri-o");
	if (!ij_get(ann, "io.kubernetes.cri-o.Annotations") &&
	    ij_text(false, fill_node, ij_is_object(ann) ? ann : NULL, &orig) >= 0)
		ij_kv_str(jw, "io.kubernetes.cri-o.Annotations", orig);
	if (!ij_get(ann, "io.kubernetes.cri-o.Metadata") && ij_text(false, fill_crio_metadata, in, &meta) >= 0)
		ij_kv_str(jw, "io.kubernetes.cri-o.Metadata", meta);
	if (!ij_get(ann, "io.kubernetes.cri-o.Created") && in->created)
		ij_kv_str(jw, "io.kubernetes.cri-o.Created", in->created);
	ij_obj_close(jw);
}

/* spec.dump in CRI-O's layout: the config with CRI-O's annotations. */
static void fill_crio_spec(struct ij_writer *jw, const void *arg)
{
	const struct oci_archive_in *in = arg;
	const ij_node *doc = in->spec->doc;

	ij_obj_open(jw);
	for (size_t k = 0; k < ij_len(doc); k++) {
		ij_key(jw, ij_key_at(doc, k));
		if (!strcmp(ij_key_at(doc, k), "annotations"))
			out_crio_annotations(jw, in, ij_at(doc, k));
		else
			ij_node_out(jw, ij_at(doc, k));
	}
	if (!ij_get(doc, "annotations")) {
		ij_key(jw, "annotations");
		out_crio_annotations(jw, in, NULL);
	}
	ij_obj_close(jw);
}

static int add_json(struct writer *w, const char *name, json_fill fill, const struct oci_archive_in *in)
{
	_cleanup_free_ char *text = NULL;
	int r = ij_text(true, fill, in, &text);

	return r < 0 ? r : add_text(w, name, text, 0600);
}

/* ---- layouts ---- */

static int add_work_files(struct writer *w, const struct oci_archive_in *in, bool with_log)
{
	const char *work = in->work_dir ? in->work_dir : in->images_dir;
	_cleanup_free_ char *stats = NULL, *log = NULL;
	int r;

	if (asprintf(&stats, "%s/stats-dump", work) < 0 || asprintf(&log, "%s/" OCI_DUMP_LOG, work) < 0)
		return -ENOMEM;
	r = add_file(w, OCI_STATS_DUMP, stats, 0644, true);
	if (r >= 0 && with_log)
		r = add_file(w, OCI_DUMP_LOG, log, 0600, true);
	return r;
}

static int add_rootfs(struct writer *w, const struct oci_archive_in *in, bool deleted)
{
	int r = 0;

	if (in->rootfs_diff_fd >= 0)
		r = add_fd(w, OCI_ROOTFS_DIFF, in->rootfs_diff_fd, OCI_ROOTFS_DIFF, 0644);
	else if (in->rootfs_diff)
		r = add_file(w, OCI_ROOTFS_DIFF, in->rootfs_diff, 0644, false);
	if (r >= 0 && deleted && in->deleted_json)
		r = add_text(w, OCI_DELETED_FILES, in->deleted_json, 0600);
	return r;
}

static int write_members(struct writer *w, const struct oci_archive_in *in)
{
	const char *log_name = in->layout == OCI_LAYOUT_CRIO	     ? OCI_CRIO_LOG
			       : in->layout == OCI_LAYOUT_CONTAINERD ? OCI_CONTAINERD_LOG
								     : OCI_CTR_LOG;
	int r = 0;

	if (in->layout == OCI_LAYOUT_CONTAINERD) {
		r = add_json(w, OCI_STATUS, fill_status, in);
		if (r >= 0)
			r = add_json(w, OCI_STATUS_DUMP, fill_status_dump, in);
	}
	if (r >= 0)
		r = add_json(w, OCI_CONFIG_DUMP,
			     in->layout == OCI_LAYOUT_PODMAN ? fill_podman_config : fill_small_config, in);
	if (r >= 0 && in->layout == OCI_LAYOUT_CRIO && in->spec)
		r = add_json(w, OCI_SPEC_DUMP, fill_crio_spec, in);
	else if (r >= 0)
		r = add_file(w, OCI_SPEC_DUMP, in->spec_path, 0600, false);
	if (r >= 0 && in->layout == OCI_LAYOUT_PODMAN)
		r = add_json(w, OCI_NETWORK_STATUS, fill_network_status, in);
	if (r >= 0 && in->layout == OCI_LAYOUT_CRIO)
		r = add_json(w, OCI_BIND_MOUNTS, fill_bind_mounts, in);
	if (r >= 0)
		r = add_work_files(w, in, true);
	if (r >= 0 && in->log_path)
		r = add_file(w, log_name, in->log_path, 0600, true);
	if (r >= 0)
		r = add_images(w, in->images_dir);
	if (r >= 0)
		r = add_rootfs(w, in, in->layout != OCI_LAYOUT_CONTAINERD);
	return r;
}

static int open_writer(struct writer *w, int fd, enum oci_compress c)
{
	int r = ARCHIVE_OK;

	w->a = archive_write_new();
	if (!w->a)
		return -ENOMEM;
	/* what Go's archive/tar writes, and every reader takes */
	archive_write_set_format_pax_restricted(w->a);
	if (c == OCI_COMPRESS_GZIP)
		r = archive_write_add_filter_gzip(w->a);
	else if (c == OCI_COMPRESS_ZSTD)
		r = archive_write_add_filter_zstd(w->a);
	if (r != ARCHIVE_OK)
		return ar_fail(w);
	archive_write_set_bytes_in_last_block(w->a, 1);
	if (archive_write_open_fd(w->a, fd) != ARCHIVE_OK)
		return ar_fail(w);
	return 0;
}

int oci_archive_write(const char *path, const struct oci_archive_in *in)
{
	_cleanup_free_ char *dcopy = strdup(path), *bcopy = strdup(path), *tmp = NULL;
	_cleanup_close_ int fd = -1;
	struct writer w = { .target = path, .mtime = in->checkpointed };
	int r;

	if (!dcopy || !bcopy)
		return -ENOMEM;
	if (in->layout < 0 || in->layout >= _OCI_LAYOUT_MAX || in->layout == OCI_LAYOUT_OCICR)
		return oc_error(-EINVAL, "archives are written in podman's, CRI-O's or containerd's layout");
	if (asprintf(&tmp, "%s/.%s.ocicr-XXXXXX", dirname(dcopy), basename(bcopy)) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot create a file beside %s", path);
	if (fchmod(fd, 0600) < 0) {
		r = oc_error_errno(-errno, "cannot make %s private", tmp);
		goto fail;
	}
	r = open_writer(&w, fd, in->compress);
	if (r >= 0)
		r = write_members(&w, in);
	if (r >= 0 && archive_write_close(w.a) != ARCHIVE_OK)
		r = ar_fail(&w);
	if (r >= 0 && fsync(fd) < 0)
		r = oc_error_errno(-errno, "cannot write %s", path);
	if (r >= 0 && rename(tmp, path) < 0)
		r = oc_error_errno(-errno, "cannot rename the finished archive to %s", path);
	if (r >= 0) {
		archive_write_free(w.a);
		return 0;
	}
fail:
	if (w.a)
		archive_write_free(w.a);
	unlink(tmp);
	return r;
}
