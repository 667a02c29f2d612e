// SPDX-License-Identifier: GPL-2.0-or-later
/* An OCI runtime config read into struct oci_spec (see spec.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ocicr.h"
#include "bundle/spec.h"
#include "ocicr/cleanup.h"

static const char *const ns_names[_OCI_NS_MAX] = {
	[OCI_NS_PID] = "pid", [OCI_NS_NETWORK] = "network", [OCI_NS_MOUNT] = "mount",	[OCI_NS_IPC] = "ipc",
	[OCI_NS_UTS] = "uts", [OCI_NS_USER] = "user",	    [OCI_NS_CGROUP] = "cgroup", [OCI_NS_TIME] = "time",
};

const char *oci_ns_name(enum oci_ns ns)
{
	return ns >= 0 && ns < _OCI_NS_MAX ? ns_names[ns] : "?";
}

static void str_array_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void oci_spec_free(struct oci_spec *spec)
{
	if (!spec)
		return;
	ij_free(spec->doc);
	free(spec->root_path);
	for (size_t i = 0; i < spec->n_mounts; i++) {
		free(spec->mounts[i].destination);
		free(spec->mounts[i].source);
		free(spec->mounts[i].type);
	}
	free(spec->mounts);
	str_array_free(spec->masked_paths, spec->n_masked);
	str_array_free(spec->readonly_paths, spec->n_readonly);
	str_array_free(spec->device_paths, spec->n_devices);
	for (int i = 0; i < _OCI_NS_MAX; i++)
		free(spec->ns_path[i]);
	free(spec->cgroups_path);
	free(spec);
}

static int dup_or_null(const char *s, char **ret)
{
	*ret = NULL;
	if (s && !(*ret = strdup(s)))
		return -ENOMEM;
	return 0;
}

/* An array of strings at @n (absent: empty); -EINVAL for another shape. */
static int read_strings(const ij_node *n, const char *what, char ***ret_v, size_t *ret_n)
{
	size_t len = ij_len(n);

	*ret_v = NULL;
	*ret_n = 0;
	if (!n)
		return 0;
	if (!ij_is_array(n))
		return oc_error(-EINVAL, "%s is not an array", what);
	*ret_v = calloc(len ? len : 1, sizeof(char *));
	if (!*ret_v)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		const char *s = ij_string(ij_at(n, i));
		if (!s)
			return oc_error(-EINVAL, "%s[%zu] is not a string", what, i);
		if (!((*ret_v)[i] = strdup(s)))
			return -ENOMEM;
		(*ret_n)++;
	}
	return 0;
}

static bool has_bind_option(const ij_node *options)
{
	for (size_t i = 0; i < ij_len(options); i++) {
		const char *o = ij_string(ij_at(options, i));
		if (o && (!strcmp(o, "bind") || !strcmp(o, "rbind")))
			return true;
	}
	return false;
}

static int read_mounts(struct oci_spec *spec, const ij_node *mounts)
{
	size_t n = ij_len(mounts);

	if (!mounts)
		return 0;
	if (!ij_is_array(mounts))
		return oc_error(-EINVAL, "mounts is not an array");
	spec->mounts = calloc(n ? n : 1, sizeof(*spec->mounts));
	if (!spec->mounts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const ij_node *m = ij_at(mounts, i);
		struct oci_mount *om = &spec->mounts[spec->n_mounts];
		const char *dest = ij_get_string(m, "destination");
		const char *type = ij_get_string(m, "type");

		if (!dest || dest[0] != '/')
			return oc_error(-EINVAL, "mounts[%zu] has no absolute destination", i);
		spec->n_mounts++;
		if (dup_or_null(dest, &om->destination) < 0 ||
		    dup_or_null(ij_get_string(m, "source"), &om->source) < 0 || dup_or_null(type, &om->type) < 0)
			return -ENOMEM;
		om->bind = (type && !strcmp(type, "bind")) || has_bind_option(ij_get(m, "options"));
		if (om->bind && (!om->source || !*om->source))
			return oc_error(-EINVAL, "bind mount %s has no source", dest);
	}
	return 0;
}

static int read_namespaces(struct oci_spec *spec, const ij_node *nss)
{
	if (!nss)
		return 0;
	if (!ij_is_array(nss))
		return oc_error(-EINVAL, "linux.namespaces is not an array");
	for (size_t i = 0; i < ij_len(nss); i++) {
		const char *type = ij_get_string(ij_at(nss, i), "type");
		const char *path = ij_get_string(ij_at(nss, i), "path");
		int k;

		for (k = 0; k < _OCI_NS_MAX; k++)
			if (type && !strcmp(type, ns_names[k]))
				break;
		if (k == _OCI_NS_MAX)
			return oc_error(-EINVAL, "linux.namespaces[%zu]: unknown type '%s'", i, type ? type : "(none)");
		spec->has_ns[k] = true;
		free(spec->ns_path[k]);
		spec->ns_path[k] = NULL;
		if (path && *path && dup_or_null(path, &spec->ns_path[k]) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int read_devices(struct oci_spec *spec, const ij_node *devs)
{
	if (!devs)
		return 0;
	if (!ij_is_array(devs))
		return oc_error(-EINVAL, "linux.devices is not an array");
	spec->device_paths = calloc(ij_len(devs) + 1, sizeof(char *));
	if (!spec->device_paths)
		return -ENOMEM;
	for (size_t i = 0; i < ij_len(devs); i++) {
		const char *p = ij_get_string(ij_at(devs, i), "path");
		if (!p || p[0] != '/')
			return oc_error(-EINVAL, "linux.devices[%zu] has no absolute path", i);
		if (!(spec->device_paths[spec->n_devices++] = strdup(p)))
			return -ENOMEM;
	}
	return 0;
}

static int spec_fill(struct oci_spec *spec)
{
	const ij_node *doc = spec->doc, *linux_ = ij_get(doc, "linux");
	const char *root = ij_string(ij_path(doc, "root", "path", NULL));
	int r;

	if (!ij_is_object(doc))
		return oc_error(-EINVAL, "not an OCI runtime config (not a JSON object)");
	if (!root || !*root)
		return oc_error(-EINVAL, "not an OCI runtime config: no root.path");
	if (dup_or_null(root, &spec->root_path) < 0)
		return -ENOMEM;
	spec->root_readonly = ij_is_true(ij_path(doc, "root", "readonly", NULL));
	spec->terminal = ij_is_true(ij_path(doc, "process", "terminal", NULL));
	r = read_mounts(spec, ij_get(doc, "mounts"));
	if (r < 0)
		return r;
	r = read_namespaces(spec, ij_get(linux_, "namespaces"));
	if (r < 0)
		return r;
	r = read_devices(spec, ij_get(linux_, "devices"));
	if (r < 0)
		return r;
	r = read_strings(ij_get(linux_, "maskedPaths"), "linux.maskedPaths", &spec->masked_paths, &spec->n_masked);
	if (r < 0)
		return r;
	r = read_strings(ij_get(linux_, "readonlyPaths"), "linux.readonlyPaths", &spec->readonly_paths,
			 &spec->n_readonly);
	if (r < 0)
		return r;
	return dup_or_null(ij_get_string(linux_, "cgroupsPath"), &spec->cgroups_path);
}

static int spec_finish(ij_node *doc, const char *what, struct oci_spec **ret_spec)
{
	_cleanup_(oci_spec_freep) struct oci_spec *spec = calloc(1, sizeof(*spec));
	int r;

	if (!spec) {
		ij_free(doc);
		return -ENOMEM;
	}
	spec->doc = doc;
	r = spec_fill(spec);
	if (r < 0)
		return oc_error_wrap(r, "%s", what);
	*ret_spec = TAKE_PTR(spec);
	return 0;
}

int oci_spec_parse(const char *text, const char *what, struct oci_spec **ret_spec)
{
	ij_node *doc = NULL;
	int r = ij_parse_text(text, what, &doc);

	if (r < 0)
		return r;
	return spec_finish(doc, what, ret_spec);
}

int oci_spec_load(const char *path, struct oci_spec **ret_spec)
{
	ij_node *doc = NULL;
	int r = ij_parse_file(path, OCI_SPEC_MAX_SIZE, &doc);

	if (r < 0)
		return r;
	return spec_finish(doc, path, ret_spec);
}
