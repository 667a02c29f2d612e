// SPDX-License-Identifier: GPL-2.0-or-later
/* Opening a checkpoint for a report; small formatting helpers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci/inspect/inspect.h"
#include "oci/inspect/json.h"
#include "oci/inspect/view.h"
#include "ocicr.h"

int oci_view_open(const char *target, const struct oci_view_opts *opts, struct oci_view *ret_view)
{
	struct oci_source_opts so = {
		.sz = sizeof(so),
		.pages = opts->pages_pid ? OCI_PAGES_PID
			 : opts->memory	 ? OCI_PAGES_STRINGS
					 : OCI_PAGES_NONE,
		.pages_pid = opts->pages_pid,
		.want_rootfs_list = opts->rootfs_list,
	};
	struct oc_ckpt_opts co = { .sz = sizeof(co), .memory_strings = opts->memory };
	struct oci_view v = {};
	int r;

	r = oci_source_open(target, &so, &v.src);
	if (r < 0)
		return r;
	r = oci_meta_load(v.src, &v.meta);
	if (r < 0)
		goto fail;
	r = oc_ckpt_load(v.src->images_dir, v.src->stats_path, &co, &v.ckpt);
	if (r < 0)
		goto fail;
	*ret_view = v;
	return 0;
fail:
	r = oci_source_fix_error(v.src, r);
	oci_view_close(&v);
	return r;
}

void oci_view_close(struct oci_view *v)
{
	oc_ckpt_free(v->ckpt);
	oci_meta_free(v->meta);
	oci_source_close(v->src);
	*v = (struct oci_view){};
}

void oci_inspect_emergency_cleanup(void)
{
	oci_source_emergency_cleanup();
}

enum oci_format oci_format_from_string(const char *s)
{
	if (!strcmp(s, "text"))
		return OCI_FORMAT_TEXT;
	if (!strcmp(s, "json"))
		return OCI_FORMAT_JSON;
	return _OCI_FORMAT_INVALID;
}

void oci_fmt_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, size, "%llu B", (unsigned long long)bytes);
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", v, units[u]);
}

static bool plain_word(const char *s)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%", *p))
			return false;
	return true;
}

char *oci_join_argv(char *const *argv, size_t n)
{
	size_t len = 1;
	char *out, *o;

	for (size_t i = 0; i < n; i++)
		len += strlen(argv[i]) * 4 + 3;
	out = o = malloc(len);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (i)
			*o++ = ' ';
		if (plain_word(argv[i])) {
			o = stpcpy(o, argv[i]);
			continue;
		}
		*o++ = '\'';
		for (const char *p = argv[i]; *p; p++) {
			if (*p == '\'')
				o = stpcpy(o, "'\\''");
			else
				*o++ = *p;
		}
		*o++ = '\'';
	}
	*o = '\0';
	return out;
}

void oci_describe_source(const struct oci_view *v, char *buf, size_t size)
{
	const struct oci_source *s = v->src;
	const char *engine = v->meta && v->meta->engine ? v->meta->engine : NULL;
	const char *what = s->container ? "container checkpoint" : "checkpoint";

	if (s->kind == OCI_TARGET_ARCHIVE) {
		const char *c = s->compression ? s->compression : "none";
		if (!strcmp(c, "none"))
			snprintf(buf, size, "%s%s%s archive (tar)", engine ? engine : "", engine ? " " : "", what);
		else
			snprintf(buf, size, "%s%s%s archive (tar, %s)", engine ? engine : "", engine ? " " : "", what,
				 c);
	} else {
		snprintf(buf, size, "%s%s%s", engine ? engine : "", engine ? " " : "", oci_target_kind_name(s->kind));
	}
}

static void json_kv_u64_or_null(struct ij_writer *w, const char *key, bool has, uint64_t v)
{
	ij_key(w, key);
	if (has)
		ij_u64(w, v);
	else
		ij_null(w);
}

void oci_json_fd(struct ij_writer *w, const struct oc_ckpt_fd *f, bool with_size)
{
	char flags[256];

	ij_obj_open(w);
	ij_kv_u64(w, "fd", f->fd);
	ij_kv_str(w, "type", f->type);
	ij_kv_str(w, "path", f->path);
	ij_key(w, "flags");
	if (f->has_flags) {
		oc_format_oflags(f->flags, flags, sizeof(flags));
		ij_str(w, flags);
	} else {
		ij_null(w);
	}
	json_kv_u64_or_null(w, "pos", f->has_pos, f->pos);
	if (with_size)
		json_kv_u64_or_null(w, "size", f->has_size, f->size);
	ij_kv_bool(w, "cloexec", f->cloexec);
	ij_obj_close(w);
}
