// SPDX-License-Identifier: GPL-2.0-or-later
/* A bundle on this host from a checkpoint archive (see prepare.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocicr.h"
#include "bundle/prepare.h"
#include "bundle/rootfs.h"
#include "oci/inspect/json.h"
#include "oci/inspect/source.h"
#include "ocicr/cleanup.h"

DEFINE_CLEANUP_FUNC(ij_node *, ij_free)

#define MANAGED_DIR "ocicr-managed"

void oci_prepared_fini(struct oci_prepared *p)
{
	oci_import_fini(&p->imp);
	free(p->bundle);
	free(p->id);
	free(p->config_path);
	free(p->rootfs);
	oci_spec_free(p->spec);
	*p = (struct oci_prepared){};
}

int oci_volume_parse(char *arg, bool external, struct oci_volume *v)
{
	char *sep;

	if (external) {
		/* mnt[DEST]:SRC */
		sep = strstr(arg, "]:");
		if (strncmp(arg, "mnt[", 4) || !sep || sep == arg + 4 || !sep[2])
			return oc_error(-EINVAL, "--external %s: expected mnt[DEST]:SRC", arg);
		*sep = '\0';
		v->destination = arg + 4;
		v->source = sep + 2;
	} else {
		sep = strchr(arg, ':');
		if (!sep || sep == arg || !sep[1])
			return oc_error(-EINVAL, "--volume %s: expected SRC:DEST", arg);
		*sep = '\0';
		v->source = arg;
		v->destination = sep + 1;
		/* podman's SRC:DEST:OPTIONS */
		sep = strchr(sep + 1, ':');
		if (sep)
			*sep = '\0';
	}
	if (v->destination[0] != '/' || v->source[0] != '/')
		return oc_error(-EINVAL, "%s: both paths must be absolute", external ? "--external" : "--volume");
	return 0;
}

void oci_bundle_discard(const struct oci_prepared *p)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (!p->bundle)
		return;
	if (p->bundle_created) {
		oci_rm_tree(p->bundle);
		return;
	}
	d = opendir(p->bundle);
	while (d && (de = readdir(d))) {
		_cleanup_free_ char *path = NULL;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (asprintf(&path, "%s/%s", p->bundle, de->d_name) >= 0)
			oci_rm_tree(path);
	}
}

/* The bundle directory: made, or an existing empty one. */
static int bundle_dir(const char *bundle, struct oci_prepared *p)
{
	char real[PATH_MAX];

	if (mkdir(bundle, 0700) == 0) {
		p->bundle_created = true;
	} else if (errno == EEXIST) {
		_cleanup_closedir_ DIR *d = opendir(bundle);
		struct dirent *de;
		if (!d)
			return oc_error_errno(-errno, "the bundle %s", bundle);
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				return oc_error(-EEXIST, "the bundle directory %s is not empty", bundle);
	} else {
		return oc_error_errno(-errno, "cannot create the bundle directory %s", bundle);
	}
	if (!realpath(bundle, real) || !(p->bundle = strdup(real)))
		return oc_error_errno(errno ? -errno : -ENOMEM, "the bundle %s", bundle);
	return 0;
}

/* The id the container had: config.dump's name, else its id. */
static int read_identity(const struct oci_prepared *p, char **ret_name, char **ret_id)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_(ij_freep) ij_node *doc = NULL;
	const char *name, *id;
	int r;

	*ret_name = *ret_id = NULL;
	if (!p->imp.has_config)
		return 0;
	if (asprintf(&path, "%s/" OCI_CONFIG_DUMP, p->imp.meta_dir) < 0)
		return -ENOMEM;
	r = ij_parse_file(path, 16u << 20, &doc);
	if (r < 0)
		return oc_error_wrap(r, "the archive's config.dump");
	name = ij_get_string(doc, "name");
	id = ij_get_string(doc, "id");
	if ((name && *name && !(*ret_name = strdup(name))) || (id && *id && !(*ret_id = strdup(id))))
		return -ENOMEM;
	return 0;
}

static bool valid_id(const char *id)
{
	return *id && strlen(id) < 256 && !strchr(id, '/') && strcmp(id, ".") && strcmp(id, "..") &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.") == strlen(id);
}

static int build_rootfs(const struct oci_prepare_opts *o, struct oci_prepared *p)
{
	_cleanup_free_ char *diff = NULL, *deleted = NULL;
	struct stat st;
	int r;

	if (!o->rootfs_base)
		return oc_error(-EINVAL, "the archive holds only the root filesystem's changes: give its base with "
					 "--rootfs-base DIR (the image's root, unpacked)");
	if (stat(o->rootfs_base, &st) < 0 || !S_ISDIR(st.st_mode))
		return oc_error(-ENOENT, "the root filesystem base %s is missing (or not a directory)", o->rootfs_base);
	if (asprintf(&p->rootfs, "%s/rootfs", p->bundle) < 0 ||
	    asprintf(&diff, "%s/" OCI_ROOTFS_DIFF, p->imp.meta_dir) < 0 ||
	    asprintf(&deleted, "%s/" OCI_DELETED_FILES, p->imp.meta_dir) < 0)
		return -ENOMEM;
	r = oci_rootfs_copy_base(o->rootfs_base, p->rootfs);
	if (r < 0)
		return oc_error_wrap(r, "copying the root filesystem base");
	if (p->imp.has_rootfs_diff) {
		r = oci_rootfs_apply_diff(p->rootfs, diff);
		if (r < 0)
			return r;
	}
	if (p->imp.has_deleted)
		return oci_rootfs_apply_deleted(p->rootfs, deleted);
	return 0;
}

/* What the engine that wrote the archive makes itself for each container:
 * ocicr makes them anew in the bundle. */
static bool engine_managed(const char *dest, bool *ret_dir)
{
	static const char *const files[] = { "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run/.containerenv" };

	*ret_dir = !strcmp(dest, "/dev/shm");
	if (*ret_dir)
		return true;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (!strcmp(dest, files[i]))
			return true;
	return false;
}

static int make_managed(struct oci_prepared *p, const char *dest, bool dir, char **ret_src)
{
	_cleanup_free_ char *base = NULL;
	const char *leaf = strrchr(dest, '/') + 1;
	int fd;

	if (asprintf(&base, "%s/" MANAGED_DIR, p->bundle) < 0 || asprintf(ret_src, "%s/%s", base, leaf) < 0)
		return -ENOMEM;
	if (mkdir(base, 0755) < 0 && errno != EEXIST)
		return oc_error_errno(-errno, "cannot create %s", base);
	if (dir) {
		if ((mkdir(*ret_src, 0700) < 0 && errno != EEXIST) || chmod(*ret_src, 01777) < 0)
			return oc_error_errno(-errno, "cannot create %s", *ret_src);
		return 0;
	}
	fd = open(*ret_src, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot create %s", *ret_src);
	/* the container's own name for itself, where the config has one */
	if (!strcmp(leaf, "hostname")) {
		const char *h = ij_get_string(p->spec->doc, "hostname");
		if (h && dprintf(fd, "%s\n", h) < 0) {
			close(fd);
			return oc_error_errno(-errno, "cannot write %s", *ret_src);
		}
	}
	close(fd);
	return 0;
}

/* New sources for every bind mount; the missing ones named all at once. */
static int map_mounts(const struct oci_prepare_opts *o, struct oci_prepared *p, char **src)
{
	_cleanup_free_ char *missing = NULL;
	size_t mlen = 0;
	FILE *m = open_memstream(&missing, &mlen);
	int r = 0;

	if (!m)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i < p->spec->n_mounts; i++) {
		const struct oci_mount *om = &p->spec->mounts[i];
		bool dir;
		struct stat st;

		if (!om->bind)
			continue;
		for (size_t v = 0; v < o->n_volumes && !src[i]; v++)
			if (!strcmp(o->volumes[v].destination, om->destination) &&
			    !(src[i] = strdup(o->volumes[v].source)))
				r = -ENOMEM;
		if (src[i] || r < 0)
			continue;
		if (engine_managed(om->destination, &dir))
			r = make_managed(p, om->destination, dir, &src[i]);
		else if (stat(om->source, &st) < 0)
			fprintf(m, "%s%s (at %s)", ftell(m) ? ", " : "", om->source, om->destination);
	}
	fclose(m);
	if (r < 0)
		return r;
	if (mlen)
		return oc_error(-ENOENT,
				"bind mount sources missing on this host: %s; map each with --volume SRC:DEST "
				"(or --external mnt[DEST]:SRC)",
				missing);
	for (size_t v = 0; v < o->n_volumes; v++) {
		struct stat st;
		if (stat(o->volumes[v].source, &st) < 0)
			return oc_error_errno(-errno, "the volume source %s", o->volumes[v].source);
	}
	return 0;
}

struct rewrite {
	char **src;		   /* per mount: the new source, or NULL */
	bool drop_ns[_OCI_NS_MAX]; /* a path that does not exist here */
	const char *netns;	   /* --netns: the network namespace's new path */
	const char *old_ids[2];	   /* config.dump's id and name, as they may stand in cgroupsPath */
	const char *new_id;
	const char *cgroup_parent;
};

static void out_mounts(struct ij_writer *w, const ij_node *mounts, const struct rewrite *rw)
{
	ij_arr_open(w);
	for (size_t i = 0; i < ij_len(mounts); i++) {
		const ij_node *m = ij_at(mounts, i);
		ij_obj_open(w);
		for (size_t k = 0; k < ij_len(m); k++) {
			ij_key(w, ij_key_at(m, k));
			if (!strcmp(ij_key_at(m, k), "source") && rw->src[i])
				ij_str(w, rw->src[i]);
			else
				ij_node_out(w, ij_at(m, k));
		}
		ij_obj_close(w);
	}
	ij_arr_close(w);
}

/* @word in @s where it stands alone (not inside a longer name: "c" is not
 * found in "/machine/cpu"), or NULL. */
static const char *find_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (const char *at = strstr(s, word); at; at = strstr(at + 1, word))
		if ((at == s || !isalnum((unsigned char)at[-1])) && !isalnum((unsigned char)at[n]))
			return at;
	return NULL;
}

static void out_cgroups_path(struct ij_writer *w, const char *path, const struct rewrite *rw)
{
	_cleanup_free_ char *s = NULL;

	if (rw->cgroup_parent) {
		size_t n = strlen(rw->cgroup_parent);
		if (asprintf(&s, "%s%s%s", rw->cgroup_parent, n && rw->cgroup_parent[n - 1] == '/' ? "" : "/",
			     rw->new_id) < 0)
			s = NULL;
		ij_str(w, s ? s : path);
		return;
	}
	for (int i = 0; i < 2; i++) {
		const char *old = rw->old_ids[i], *at = old && *old ? find_word(path, old) : NULL;
		if (at && asprintf(&s, "%.*s%s%s", (int)(at - path), path, rw->new_id, at + strlen(old)) >= 0) {
			ij_str(w, s);
			return;
		}
	}
	ij_str(w, path);
}

static void out_linux(struct ij_writer *w, const ij_node *lx, const struct rewrite *rw)
{
	ij_obj_open(w);
	if (rw->cgroup_parent && !ij_get(lx, "cgroupsPath")) {
		ij_key(w, "cgroupsPath");
		out_cgroups_path(w, "", rw);
	}
	for (size_t k = 0; k < ij_len(lx); k++) {
		const char *key = ij_key_at(lx, k);
		const ij_node *v = ij_at(lx, k);

		ij_key(w, key);
		if (!strcmp(key, "cgroupsPath") && ij_string(v)) {
			out_cgroups_path(w, ij_string(v), rw);
		} else if (!strcmp(key, "namespaces") && ij_is_array(v)) {
			ij_arr_open(w);
			for (size_t i = 0; i < ij_len(v); i++) {
				const ij_node *ns = ij_at(v, i);
				const char *type = ij_get_string(ns, "type");
				bool net = type && !strcmp(type, "network") && rw->netns, drop = net;
				ij_obj_open(w);
				for (int t = 0; t < _OCI_NS_MAX; t++)
					drop |= rw->drop_ns[t] && type && !strcmp(type, oci_ns_name(t));
				for (size_t j = 0; j < ij_len(ns); j++) {
					if (drop && !strcmp(ij_key_at(ns, j), "path"))
						continue;
					ij_key(w, ij_key_at(ns, j));
					ij_node_out(w, ij_at(ns, j));
				}
				if (net)
					ij_kv_str(w, "path", rw->netns);
				ij_obj_close(w);
			}
			ij_arr_close(w);
		} else {
			ij_node_out(w, v);
		}
	}
	ij_obj_close(w);
}

static int write_config(struct oci_prepared *p, const struct rewrite *rw)
{
	const ij_node *doc = p->spec->doc;
	_cleanup_close_ int fd = -1;
	FILE *f;
	struct ij_writer *w = NULL;
	int r;

	if (asprintf(&p->config_path, "%s/config.json", p->bundle) < 0)
		return -ENOMEM;
	fd = oc_create_private_file(p->config_path, false);
	if (fd < 0)
		return fd;
	f = fdopen(TAKE_FD(fd), "w");
	if (!f)
		return -ENOMEM;
	r = ij_writer_new(f, true, &w);
	if (r >= 0) {
		ij_obj_open(w);
		for (size_t k = 0; k < ij_len(doc); k++) {
			const char *key = ij_key_at(doc, k);
			ij_key(w, key);
			if (!strcmp(key, "root")) {
				ij_obj_open(w);
				ij_kv_str(w, "path", "rootfs");
				ij_kv_bool(w, "readonly", p->spec->root_readonly);
				ij_obj_close(w);
			} else if (!strcmp(key, "mounts")) {
				out_mounts(w, ij_at(doc, k), rw);
			} else if (!strcmp(key, "linux")) {
				out_linux(w, ij_at(doc, k), rw);
			} else {
				ij_node_out(w, ij_at(doc, k));
			}
		}
		ij_obj_close(w);
		r = ij_writer_finish(w);
		ij_writer_free(w);
	}
	if (fclose(f) != 0 && r >= 0)
		r = oc_error_errno(-errno, "cannot write %s", p->config_path);
	return r;
}

static int rewrite_config(const struct oci_prepare_opts *o, struct oci_prepared *p, const char *old_id,
			  const char *old_name)
{
	struct rewrite rw = {
		.old_ids = { old_id, old_name },
		.new_id = p->id,
		.netns = o->netns,
		.cgroup_parent = o->cgroup_parent,
	};
	struct oci_spec *spec = NULL;
	int r;

	rw.src = calloc(p->spec->n_mounts + 1, sizeof(char *));
	if (!rw.src)
		return -ENOMEM;
	r = map_mounts(o, p, rw.src);
	if (r >= 0 && o->netns && (!p->spec->has_ns[OCI_NS_NETWORK] || access(o->netns, F_OK) < 0))
		r = p->spec->has_ns[OCI_NS_NETWORK]
			    ? oc_error_errno(-errno, "--netns %s", o->netns)
			    : oc_error(-EINVAL, "--netns: the container has no network namespace of its own");
	for (int t = 0; r >= 0 && t < _OCI_NS_MAX; t++) {
		if (!p->spec->ns_path[t] || (t == OCI_NS_NETWORK && o->netns) || access(p->spec->ns_path[t], F_OK) == 0)
			continue;
		/* network and pid namespaces by path are external in the
		 * images: one must be given here */
		if (t == OCI_NS_NETWORK || t == OCI_NS_PID) {
			r = oc_error(-ENOENT, "the container's %s namespace %s does not exist here%s", oci_ns_name(t),
				     p->spec->ns_path[t], t == OCI_NS_NETWORK ? ": give one with --netns PATH" : "");
			break;
		}
		/* the checkpoint host's namespace: a new one here */
		oc_log(OC_LOG_WARN, "the %s namespace %s does not exist here: the container gets a new one",
		       oci_ns_name(t), p->spec->ns_path[t]);
		rw.drop_ns[t] = true;
	}
	if (r >= 0)
		r = write_config(p, &rw);
	for (size_t i = 0; i < p->spec->n_mounts; i++)
		free(rw.src[i]);
	free(rw.src);
	if (r < 0)
		return r;
	r = oci_spec_load(p->config_path, &spec);
	if (r < 0)
		return r;
	oci_spec_free(p->spec);
	p->spec = spec;
	return 0;
}

static int prepare(const struct oci_prepare_opts *o, struct oci_prepared *p)
{
	_cleanup_free_ char *spec_path = NULL, *old_name = NULL, *old_id = NULL, *meta = NULL;
	int r;

	r = bundle_dir(o->bundle, p);
	if (r < 0)
		return r;
	r = oci_archive_import(o->archive, p->bundle, &p->imp);
	if (r < 0)
		return r;
	if (!p->imp.has_spec)
		return oc_error(-EINVAL,
				"%s has no spec.dump (an images-only archive): restore its images with "
				"ocicr restore -D",
				o->archive);
	if (asprintf(&spec_path, "%s/" OCI_SPEC_DUMP, p->imp.meta_dir) < 0)
		return -ENOMEM;
	r = oci_spec_load(spec_path, &p->spec);
	if (r < 0)
		return oc_error_wrap(r, "the archive's spec.dump");
	r = read_identity(p, &old_name, &old_id);
	if (r < 0)
		return r;
	p->id = strdup(o->name ? o->name : old_name ? old_name : old_id ? old_id : "");
	if (!p->id)
		return -ENOMEM;
	if (!valid_id(p->id))
		return oc_error(-EINVAL, "'%s' cannot be a container id: give one with --name ID", p->id);
	r = build_rootfs(o, p);
	if (r < 0)
		return r;
	r = rewrite_config(o, p, old_id, old_name);
	if (r < 0)
		return r;
	/* The metadata has done its work; the images stay for the restore. */
	meta = strdup(p->imp.meta_dir);
	return meta ? oci_rm_tree(meta) : -ENOMEM;
}

int oci_bundle_prepare(const struct oci_prepare_opts *o, struct oci_prepared *ret)
{
	struct oci_prepared p = {};
	int r = prepare(o, &p);

	if (r < 0) {
		oci_bundle_discard(&p);
		oci_prepared_fini(&p);
		return r;
	}
	*ret = p;
	return 0;
}
