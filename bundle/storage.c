// SPDX-License-Identifier: GPL-2.0-or-later
/* containers/storage's records of containers and images (see storage.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocicr.h"
#include "bundle/storage.h"
#include "oci/inspect/json.h"
#include "ocicr/cleanup.h"

/* the store's record files grow with the containers and images in it */
#define RECORDS_MAX_SIZE (64u << 20)

DEFINE_CLEANUP_FUNC(ij_node *, ij_free)

void oci_storage_ctr_fini(struct oci_storage_ctr *c)
{
	free(c->name);
	free(c->image_name);
	free(c->image_id);
	*c = (struct oci_storage_ctr){};
}

static int dup_or_null(const char *s, char **ret)
{
	*ret = s && *s ? strdup(s) : NULL;
	return s && *s && !*ret ? -ENOMEM : 0;
}

/* The record of @id in @records (an array of objects with an "id"), or NULL. */
static const ij_node *find_record(const ij_node *records, const char *id)
{
	for (size_t i = 0; ij_is_array(records) && i < ij_len(records); i++) {
		const char *rid = ij_get_string(ij_at(records, i), "id");
		if (rid && !strcmp(rid, id))
			return ij_at(records, i);
	}
	return NULL;
}

int oci_storage_container(const char *bundle, const char *id, struct oci_storage_ctr *ret)
{
	_cleanup_(ij_freep) ij_node *records = NULL, *meta = NULL;
	_cleanup_free_ char *path = NULL;
	char suffix[PATH_MAX];
	const ij_node *rec, *names;
	const char *meta_text;
	size_t blen = strlen(bundle), slen;
	int r;

	*ret = (struct oci_storage_ctr){};
	/* <graphroot>/overlay-containers/<id>/userdata: the store's records are two up */
	slen = (size_t)snprintf(suffix, sizeof(suffix), "/overlay-containers/%s/userdata", id);
	if (slen >= sizeof(suffix) || blen <= slen || strcmp(bundle + blen - slen, suffix))
		return 0;
	if (asprintf(&path, "%.*s/overlay-containers/containers.json", (int)(blen - slen), bundle) < 0)
		return -ENOMEM;
	r = ij_parse_file(path, RECORDS_MAX_SIZE, &records);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	rec = find_record(records, id);
	if (!rec)
		return 0;
	names = ij_get(rec, "names");
	r = dup_or_null(ij_string(ij_at(names, 0)), &ret->name);
	meta_text = ij_get_string(rec, "metadata");
	if (r >= 0 && meta_text && ij_parse_text(meta_text, path, &meta) >= 0) {
		r = dup_or_null(ij_get_string(meta, "image-name"), &ret->image_name);
		if (r >= 0)
			r = dup_or_null(ij_get_string(meta, "image-id"), &ret->image_id);
	}
	if (r >= 0 && !ret->image_id)
		r = dup_or_null(ij_get_string(rec, "image"), &ret->image_id);
	if (r < 0)
		oci_storage_ctr_fini(ret);
	return r;
}

static bool has_name(const ij_node *image, const char *name)
{
	const ij_node *names = ij_get(image, "names");

	for (size_t i = 0; ij_is_array(names) && i < ij_len(names); i++) {
		const char *n = ij_string(ij_at(names, i));
		if (n && !strcmp(n, name))
			return true;
	}
	return false;
}

/* @name as podman stores it: a domain ("localhost/" when none) and a tag. */
static char *full_name(const char *name)
{
	const char *slash = strchr(name, '/');
	const char *last = strrchr(name, '/');
	bool domain = slash && (memchr(name, '.', slash - name) || memchr(name, ':', slash - name) ||
				!strncmp(name, "localhost/", 10));
	bool tag = strchr(last ? last : name, ':') || strchr(name, '@');
	char *s;

	if (asprintf(&s, "%s%s%s", domain ? "" : "localhost/", name, tag ? "" : ":latest") < 0)
		return NULL;
	return s;
}

int oci_storage_image_id(const char *graphroot, const char *name, char **ret_id)
{
	static const char *const drivers[] = { "overlay", "vfs" };
	_cleanup_free_ char *full = full_name(name);

	*ret_id = NULL;
	if (!full)
		return -ENOMEM;
	for (size_t d = 0; d < sizeof(drivers) / sizeof(drivers[0]); d++) {
		_cleanup_(ij_freep) ij_node *images = NULL;
		_cleanup_free_ char *path = NULL;
		int r;

		if (asprintf(&path, "%s/%s-images/images.json", graphroot, drivers[d]) < 0)
			return -ENOMEM;
		if (access(path, F_OK) < 0)
			continue;
		r = ij_parse_file(path, RECORDS_MAX_SIZE, &images);
		if (r < 0)
			return r;
		for (size_t i = 0; ij_is_array(images) && i < ij_len(images); i++) {
			const ij_node *img = ij_at(images, i);
			const char *id = ij_get_string(img, "id");

			if (id && (has_name(img, name) || has_name(img, full)))
				return dup_or_null(id, ret_id);
		}
	}
	return -ENOENT;
}
