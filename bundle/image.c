// SPDX-License-Identifier: GPL-2.0-or-later
/* A checkpoint as an OCI image layout (see image.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "ocicr.h"
#include "bundle/image.h"
#include "bundle/rootfs.h"
#include "bundle/sha256.h"
#include "oci/inspect/json.h"
#include "ocicr/cleanup.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG   "application/vnd.oci.image.config.v1+json"
#define MT_LAYER    "application/vnd.oci.image.layer.v1.tar"

struct blob {
	char digest[65];
	uint64_t size;
};

/* Write @text as a blob of @dir, named by its digest. */
static int put_blob(const char *dir, const char *text, struct blob *b)
{
	_cleanup_free_ char *path = NULL;
	struct oci_sha256 s;
	size_t len = strlen(text);
	int fd, r = 0;

	oci_sha256_init(&s);
	oci_sha256_update(&s, text, len);
	oci_sha256_hex(&s, b->digest);
	b->size = len;
	if (asprintf(&path, "%s/blobs/sha256/%s", dir, b->digest) < 0)
		return -ENOMEM;
	fd = oc_create_private_file(path, true);
	if (fd < 0)
		return fd;
	if (fchmod(fd, 0644) < 0 || write(fd, text, len) != (ssize_t)len)
		r = oc_error_errno(errno ? -errno : -EIO, "cannot write %s", path);
	close(fd);
	return r;
}

/* The archive as the one layer: written under a temporary name, then named by its digest. */
static int put_layer(const char *dir, const struct oci_archive_in *in, struct blob *b)
{
	_cleanup_free_ char *tmp = NULL, *path = NULL;
	struct oci_archive_in layer = *in;
	int r;

	layer.layout = OCI_LAYOUT_PODMAN;
	layer.compress = OCI_COMPRESS_NONE; /* the digest is then also the diff id */
	if (asprintf(&tmp, "%s/blobs/sha256/layer", dir) < 0)
		return -ENOMEM;
	r = oci_archive_write(tmp, &layer);
	if (r >= 0)
		r = oci_sha256_file(tmp, b->digest, &b->size);
	if (r >= 0 && asprintf(&path, "%s/blobs/sha256/%s", dir, b->digest) < 0)
		r = -ENOMEM;
	if (r >= 0 && (chmod(tmp, 0644) < 0 || rename(tmp, path) < 0))
		r = oc_error_errno(-errno, "cannot name the layer %s", path ? path : tmp);
	if (r < 0)
		unlink(tmp);
	return r;
}

static void descriptor(struct ij_writer *w, const char *media_type, const struct blob *b)
{
	char digest[80];

	snprintf(digest, sizeof(digest), "sha256:%s", b->digest);
	ij_kv_str(w, "mediaType", media_type);
	ij_kv_str(w, "digest", digest);
	ij_kv_u64(w, "size", b->size);
}

static void fill_config(struct ij_writer *w, const void *arg)
{
	const struct blob *layer = arg;
	char diff_id[80];

	snprintf(diff_id, sizeof(diff_id), "sha256:%s", layer->digest);
	ij_obj_open(w);
	ij_kv_str(w, "architecture", "amd64");
	ij_kv_str(w, "os", "linux");
	ij_key(w, "config");
	ij_obj_open(w);
	ij_obj_close(w);
	ij_key(w, "rootfs");
	ij_obj_open(w);
	ij_kv_str(w, "type", "layers");
	ij_key(w, "diff_ids");
	ij_arr_open(w);
	ij_str(w, diff_id);
	ij_arr_close(w);
	ij_obj_close(w);
	ij_obj_close(w);
}

struct manifest_arg {
	const struct blob *config, *layer;
	const struct oci_archive_in *in;
};

static void annotations(struct ij_writer *w, const struct oci_archive_in *in)
{
	const char *name = in->name ? in->name : in->id, *image = in->image_name ? in->image_name : "";
	const char *runtime = in->runtime ? in->runtime : "runc";
	struct utsname u;

	uname(&u);
	ij_key(w, "annotations");
	ij_obj_open(w);
	ij_kv_str(w, "io.podman.annotations.checkpoint.name", name);
	ij_kv_str(w, "io.podman.annotations.checkpoint.rootfsImageName", image);
	ij_kv_str(w, "io.podman.annotations.checkpoint.runtime.name", runtime);
	ij_kv_str(w, "io.kubernetes.cri-o.annotations.checkpoint.name", name);
	ij_kv_str(w, "io.kubernetes.cri-o.annotations.checkpoint.rootfsImageName", image);
	ij_kv_str(w, "org.criu.checkpoint.container.name", name);
	ij_kv_str(w, "org.criu.checkpoint.engine.name", "ocicr");
	ij_kv_str(w, "org.criu.checkpoint.engine.version", OCICR_VERSION);
	ij_kv_str(w, "org.criu.checkpoint.rootfsImageName", image);
	ij_kv_str(w, "org.criu.checkpoint.runtime.name", runtime);
	ij_kv_str(w, "org.criu.checkpoint.host.arch", u.machine);
	ij_kv_str(w, "org.criu.checkpoint.host.kernel", u.release);
	ij_obj_close(w);
}

static void fill_manifest(struct ij_writer *w, const void *arg)
{
	const struct manifest_arg *m = arg;

	ij_obj_open(w);
	ij_kv_u64(w, "schemaVersion", 2);
	ij_kv_str(w, "mediaType", MT_MANIFEST);
	ij_key(w, "config");
	ij_obj_open(w);
	descriptor(w, MT_CONFIG, m->config);
	ij_obj_close(w);
	ij_key(w, "layers");
	ij_arr_open(w);
	ij_obj_open(w);
	descriptor(w, MT_LAYER, m->layer);
	ij_obj_close(w);
	ij_arr_close(w);
	annotations(w, m->in);
	ij_obj_close(w);
}

struct index_arg {
	const struct blob *manifest;
	const char *tag;
};

static void fill_index(struct ij_writer *w, const void *arg)
{
	const struct index_arg *x = arg;

	ij_obj_open(w);
	ij_kv_u64(w, "schemaVersion", 2);
	ij_key(w, "manifests");
	ij_arr_open(w);
	ij_obj_open(w);
	descriptor(w, MT_MANIFEST, x->manifest);
	ij_key(w, "annotations");
	ij_obj_open(w);
	ij_kv_str(w, "org.opencontainers.image.ref.name", x->tag);
	ij_obj_close(w);
	ij_obj_close(w);
	ij_arr_close(w);
	ij_obj_close(w);
}

static int put_file(const char *dir, const char *name, const char *text)
{
	_cleanup_free_ char *path = NULL;
	int fd, r = 0;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	fd = oc_create_private_file(path, false);
	if (fd < 0)
		return fd;
	if (fchmod(fd, 0644) < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		r = oc_error_errno(errno ? -errno : -EIO, "cannot write %s", path);
	close(fd);
	return r;
}

static int write_layout(const char *dir, const char *tag, const struct oci_archive_in *in)
{
	_cleanup_free_ char *blobs = NULL, *sha = NULL, *config = NULL, *manifest = NULL, *index = NULL;
	struct blob layer, cfg, man;
	int r;

	if (asprintf(&blobs, "%s/blobs", dir) < 0 || asprintf(&sha, "%s/blobs/sha256", dir) < 0)
		return -ENOMEM;
	if (mkdir(blobs, 0755) < 0 || mkdir(sha, 0755) < 0)
		return oc_error_errno(-errno, "cannot create %s", sha);
	r = put_layer(dir, in, &layer);
	if (r >= 0)
		r = ij_text(false, fill_config, &layer, &config);
	if (r >= 0)
		r = put_blob(dir, config, &cfg);
	struct manifest_arg ma = { .config = &cfg, .layer = &layer, .in = in };
	if (r >= 0)
		r = ij_text(false, fill_manifest, &ma, &manifest);
	if (r >= 0)
		r = put_blob(dir, manifest, &man);
	struct index_arg ia = { .manifest = &man, .tag = tag };
	if (r >= 0)
		r = ij_text(false, fill_index, &ia, &index);
	if (r >= 0)
		r = put_file(dir, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
	/* last: a layout is complete once it has its index */
	if (r >= 0)
		r = put_file(dir, "index.json", index);
	return r;
}

int oci_image_layout_write(const char *dir, const char *tag, const struct oci_archive_in *in)
{
	bool created = mkdir(dir, 0755) == 0;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int r;

	if (!created) {
		if (errno != EEXIST)
			return oc_error_errno(-errno, "cannot create the image layout %s", dir);
		d = opendir(dir);
		if (!d)
			return oc_error_errno(-errno, "the image layout %s", dir);
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				return oc_error(-EEXIST, "the image layout directory %s is not empty", dir);
	}
	r = write_layout(dir, tag, in);
	if (r < 0) {
		static const char *const made[] = { "blobs", "oci-layout", "index.json" };
		if (created)
			oci_rm_tree(dir);
		for (size_t i = 0; !created && i < sizeof(made) / sizeof(made[0]); i++) {
			_cleanup_free_ char *path = NULL;
			if (asprintf(&path, "%s/%s", dir, made[i]) >= 0)
				oci_rm_tree(path);
		}
	}
	return r;
}

DEFINE_CLEANUP_FUNC(ij_node *, ij_free)

/* "sha256:<64 hex>" -> the hex, or NULL. */
static const char *sha256_hex(const char *digest)
{
	if (!digest || strncmp(digest, "sha256:", 7) || strlen(digest) != 71 ||
	    strspn(digest + 7, "0123456789abcdef") != 64)
		return NULL;
	return digest + 7;
}

int oci_image_layout_archive(const char *dir, const char *tag, char **ret_path)
{
	_cleanup_free_ char *index_path = NULL, *man_path = NULL;
	_cleanup_(ij_freep) ij_node *index = NULL;
	_cleanup_(ij_freep) ij_node *man = NULL;
	const ij_node *manifests, *pick = NULL;
	const char *hex;
	int r;

	if (asprintf(&index_path, "%s/index.json", dir) < 0)
		return -ENOMEM;
	r = ij_parse_file(index_path, 1u << 20, &index);
	if (r < 0)
		return oc_error_wrap(r, "the image layout %s", dir);
	manifests = ij_get(index, "manifests");
	for (size_t i = 0; i < ij_len(manifests); i++) {
		const ij_node *m = ij_at(manifests, i);
		const char *ref = ij_string(ij_path(m, "annotations", "org.opencontainers.image.ref.name", NULL));
		if (tag ? ref && !strcmp(ref, tag) : ij_len(manifests) == 1)
			pick = m;
	}
	if (!pick)
		return oc_error(-ENOENT, "the image layout %s has no image %s", dir,
				tag ? tag : "(it has several: name one with oci:DIR:TAG)");
	hex = sha256_hex(ij_get_string(pick, "digest"));
	if (!hex || asprintf(&man_path, "%s/blobs/sha256/%s", dir, hex) < 0)
		return hex ? -ENOMEM : oc_error(-EINVAL, "%s: a manifest digest that is not sha256", index_path);
	r = ij_parse_file(man_path, 1u << 20, &man);
	if (r < 0)
		return oc_error_wrap(r, "the image manifest");
	if (ij_len(ij_get(man, "layers")) != 1)
		return oc_error(-EINVAL, "%s: not a checkpoint image (it has %zu layers, not one)", dir,
				ij_len(ij_get(man, "layers")));
	hex = sha256_hex(ij_get_string(ij_at(ij_get(man, "layers"), 0), "digest"));
	if (!hex)
		return oc_error(-EINVAL, "%s: a layer digest that is not sha256", dir);
	return asprintf(ret_path, "%s/blobs/sha256/%s", dir, hex) < 0 ? -ENOMEM : 0;
}
