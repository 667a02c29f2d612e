// SPDX-License-Identifier: GPL-2.0-or-later
/* Container identity from config.dump, spec.dump and network.status. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oci/inspect/limits.h"
#include "oci/inspect/meta.h"
#include "ocicr/cleanup.h"
#include "ocicr.h"

void oci_format_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "@%lld", (long long)t);
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

/* Go's zero time, which CRI-O writes for times it never set. */
static char *dup_time(const char *s)
{
	if (!s || !*s || !strncmp(s, "0001-01-01T00:00:00", 19))
		return NULL;
	return strdup(s);
}

static int parse_optional(const struct oci_source *src, const char *name, ij_node **ret)
{
	char path[PATH_MAX];
	int r = oci_source_meta_path(src, name, path, sizeof(path));

	*ret = NULL;
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	r = ij_parse_file(path, oci_limits.max_json, ret);
	if (r == -ENOENT) {
		oc_error_clear();
		return 0;
	}
	return r;
}

static int add_ip(struct oci_meta *m, const char *network, const char *iface, const char *addr, const char *gw,
		  const char *mac)
{
	struct oci_ip *n;

	if (!addr || !*addr)
		return 0;
	n = realloc(m->ips, (m->n_ips + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	m->ips = n;
	n[m->n_ips] = (struct oci_ip){
		.network = dup_or_null(network),
		.interface = dup_or_null(iface),
		.address = strdup(addr),
		.gateway = dup_or_null(gw),
		.mac = dup_or_null(mac),
	};
	m->n_ips++;
	return n[m->n_ips - 1].address ? 0 : -ENOMEM;
}

/*
 * network.status comes in two shapes: netavark's map of networks
 * { "podman": { "interfaces": { "eth0": { "subnets": [ { "ipnet", "gateway" } ],
 * "mac_address" } } } } and CNI's list of results
 * [ { "interfaces": [ { "name", "mac" } ], "ips": [ { "address", "gateway", "interface" } ] } ].
 */
static int parse_network(struct oci_meta *m, const ij_node *net)
{
	int r;

	if (ij_is_object(net)) {
		for (size_t i = 0; i < ij_len(net); i++) {
			const ij_node *ifs = ij_get(ij_at(net, i), "interfaces");
			for (size_t j = 0; j < ij_len(ifs) && ij_is_object(ifs); j++) {
				const ij_node *iface = ij_at(ifs, j), *subnets = ij_get(iface, "subnets");
				const char *mac = ij_get_string(iface, "mac_address");
				for (size_t k = 0; k < ij_len(subnets) && ij_is_array(subnets); k++) {
					const ij_node *sn = ij_at(subnets, k);
					r = add_ip(m, ij_key_at(net, i), ij_key_at(ifs, j), ij_get_string(sn, "ipnet"),
						   ij_get_string(sn, "gateway"), mac);
					if (r < 0)
						return r;
				}
			}
		}
	} else if (ij_is_array(net)) {
		for (size_t i = 0; i < ij_len(net); i++) {
			const ij_node *res = ij_at(net, i), *ifs = ij_get(res, "interfaces"), *ips = ij_get(res, "ips");
			for (size_t k = 0; k < ij_len(ips) && ij_is_array(ips); k++) {
				const ij_node *ip = ij_at(ips, k);
				int64_t idx = ij_integer(ij_get(ip, "interface"), -1);
				const ij_node *iface = idx >= 0 ? ij_at(ifs, idx) : NULL;
				r = add_ip(m, NULL, ij_get_string(iface, "name"), ij_get_string(ip, "address"),
					   ij_get_string(ip, "gateway"), ij_get_string(iface, "mac"));
				if (r < 0)
					return r;
			}
		}
	}
	return 0;
}

static int parse_mounts(struct oci_meta *m, const ij_node *mounts)
{
	size_t n = ij_is_array(mounts) ? ij_len(mounts) : 0;

	if (!n)
		return 0;
	m->mounts = calloc(n, sizeof(*m->mounts));
	if (!m->mounts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const ij_node *mt = ij_at(mounts, i), *opts = ij_get(mt, "options");
		struct oci_mount *o = &m->mounts[m->n_mounts++];
		size_t no = ij_is_array(opts) ? ij_len(opts) : 0;

		o->destination = dup_or_null(ij_get_string(mt, "destination"));
		o->type = dup_or_null(ij_get_string(mt, "type"));
		o->source = dup_or_null(ij_get_string(mt, "source"));
		o->options = calloc(no + 1, sizeof(char *));
		if (!o->options)
			return -ENOMEM;
		for (size_t j = 0, k = 0; j < no; j++) {
			const char *s = ij_string(ij_at(opts, j));
			if (s && !(o->options[k++] = strdup(s)))
				return -ENOMEM;
		}
	}
	return 0;
}

static int parse_deleted(struct oci_meta *m, const struct oci_source *src)
{
	ij_node *root = NULL;
	int r = parse_optional(src, OCI_DELETED_FILES, &root);

	if (r < 0 || !root)
		return r;
	size_t n = ij_is_array(root) ? ij_len(root) : 0;
	m->deleted_files = calloc(n + 1, sizeof(char *));
	if (!m->deleted_files) {
		ij_free(root);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const char *s = ij_string(ij_at(root, i));
		if (s && !(m->deleted_files[m->n_deleted_files++] = strdup(s))) {
			ij_free(root);
			return -ENOMEM;
		}
	}
	ij_free(root);
	return 0;
}

static int identity(struct oci_meta *m)
{
	const ij_node *ann = ij_get(m->spec, "annotations");
	const char *manager = ij_get_string(ann, "io.container.manager");
	const ij_node *c = m->config;
	int r;

	if (manager && !strcmp(manager, "libpod"))
		m->engine = "Podman";
	else if (manager && !strcmp(manager, "cri-o"))
		m->engine = "CRI-O";
	else if (ij_get_string(ann, "io.kubernetes.cri.container-name"))
		m->engine = "containerd";

	m->id = dup_or_null(ij_get_string(c, "id"));
	m->runtime = dup_or_null(ij_get_string(c, "runtime"));
	m->created = dup_time(ij_get_string(c, "createdTime"));
	if (!m->created)
		m->created = dup_time(ij_get_string(ann, "io.kubernetes.cri-o.Created"));
	m->checkpointed = dup_time(ij_get_string(c, "checkpointedTime"));
	if (m->checkpointed)
		m->checkpointed_from = "config.dump";
	m->image = dup_or_null(ij_get_string(c, "rootfsImageName"));
	if (!m->image)
		m->image = dup_or_null(ij_get_string(c, "rootfsImage"));
	if (!m->image)
		m->image = dup_or_null(ij_get_string(c, "RawImageName"));
	m->image_id = dup_or_null(ij_get_string(c, "rootfsImageID"));
	if (!m->image_id)
		m->image_id = dup_or_null(ij_get_string(c, "rootfsImageRef"));
	m->hostname = dup_or_null(ij_get_string(m->spec, "hostname"));

	if (m->engine && !strcmp(m->engine, "CRI-O")) {
		/* The container's own name is in the metadata annotation;
		 * config.dump has the k8s_... full name. */
		const char *md = ij_get_string(ann, "io.kubernetes.cri-o.Metadata");
		ij_node *mdn = NULL;
		if (md && ij_parse_text(md, "io.kubernetes.cri-o.Metadata", &mdn) == 0) {
			m->name = dup_or_null(ij_get_string(mdn, "name"));
			ij_free(mdn);
		}
		oc_error_clear();
		m->pod_name = dup_or_null(ij_get_string(ann, "io.kubernetes.pod.name"));
		m->pod_namespace = dup_or_null(ij_get_string(ann, "io.kubernetes.pod.namespace"));
		for (int i = 0;; i++) {
			char key[64];
			snprintf(key, sizeof(key), "io.kubernetes.cri-o.IP.%d", i);
			const char *ip = ij_get_string(ann, key);
			if (!ip)
				break;
			r = add_ip(m, NULL, NULL, ip, NULL, NULL);
			if (r < 0)
				return r;
		}
	} else if (m->engine && !strcmp(m->engine, "containerd")) {
		m->name = dup_or_null(ij_get_string(ann, "io.kubernetes.cri.container-name"));
		m->pod_name = dup_or_null(ij_get_string(ann, "io.kubernetes.cri.sandbox-name"));
		m->pod_namespace = dup_or_null(ij_get_string(ann, "io.kubernetes.cri.sandbox-namespace"));
	}
	if (!m->name)
		m->name = dup_or_null(ij_get_string(c, "name"));
	if (m->network)
		return parse_network(m, m->network);
	return 0;
}

int oci_meta_load(const struct oci_source *src, struct oci_meta **ret_meta)
{
	struct oci_meta *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	if (src->meta_dir) {
		r = parse_optional(src, OCI_CONFIG_DUMP, &m->config);
		if (r >= 0)
			r = parse_optional(src, OCI_SPEC_DUMP, &m->spec);
		if (r >= 0)
			r = parse_optional(src, OCI_NETWORK_STATUS, &m->network);
		if (r >= 0 && src->container && (!ij_is_object(m->config) || !ij_is_object(m->spec)))
			r = oc_error(-EINVAL, "%s is not a JSON object",
				     !ij_is_object(m->config) ? OCI_CONFIG_DUMP : OCI_SPEC_DUMP);
		if (r >= 0)
			r = identity(m);
		if (r >= 0)
			r = parse_mounts(m, ij_get(m->spec, "mounts"));
		if (r >= 0)
			r = parse_deleted(m, src);
		if (r < 0) {
			oci_meta_free(m);
			return r;
		}
	}
	if (!m->checkpointed && src->inventory_mtime > 0) {
		char buf[64];
		oci_format_time(src->inventory_mtime, buf, sizeof(buf));
		m->checkpointed = strdup(buf);
		m->checkpointed_from = "inventory.img";
		if (!m->checkpointed) {
			oci_meta_free(m);
			return -ENOMEM;
		}
	}
	*ret_meta = m;
	return 0;
}

void oci_meta_free(struct oci_meta *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_ips; i++) {
		free(m->ips[i].network);
		free(m->ips[i].interface);
		free(m->ips[i].address);
		free(m->ips[i].gateway);
		free(m->ips[i].mac);
	}
	free(m->ips);
	for (size_t i = 0; i < m->n_mounts; i++) {
		free(m->mounts[i].destination);
		free(m->mounts[i].type);
		free(m->mounts[i].source);
		if (m->mounts[i].options)
			for (char **o = m->mounts[i].options; *o; o++)
				free(*o);
		free(m->mounts[i].options);
	}
	free(m->mounts);
	if (m->deleted_files)
		for (size_t i = 0; i < m->n_deleted_files; i++)
			free(m->deleted_files[i]);
	free(m->deleted_files);
	free(m->name);
	free(m->id);
	free(m->image);
	free(m->image_id);
	free(m->runtime);
	free(m->created);
	free(m->checkpointed);
	free(m->pod_name);
	free(m->pod_namespace);
	free(m->hostname);
	ij_free(m->config);
	ij_free(m->spec);
	ij_free(m->network);
	free(m);
}
