// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The one mapping from an OCI config to the engine's options, for a dump
 * and for a restore on this host (see spec.h).  It follows what runc hands
 * CRIU (../shared/docs/runtime-integration.md, section 5), so archives
 * written by ocicr and by runc + CRIU carry the same external keys.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocicr.h"
#include "bundle/spec.h"
#include "ocicr/cleanup.h"

void oci_engine_opts_fini(struct oci_engine_opts *eo)
{
	for (size_t i = 0; i < eo->n; i++) {
		free(eo->v[i].name);
		free(eo->v[i].value);
	}
	free(eo->v);
	*eo = (struct oci_engine_opts){};
}

int oci_engine_opts_add(struct oci_engine_opts *eo, const char *name, const char *fmt, ...)
{
	struct oci_engine_opt *v = realloc(eo->v, (eo->n + 1) * sizeof(*v));
	char *value = NULL;
	va_list ap;

	if (!v)
		return -ENOMEM;
	eo->v = v;
	if (fmt) {
		va_start(ap, fmt);
		int n = vasprintf(&value, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -ENOMEM;
	}
	v[eo->n].name = strdup(name);
	if (!v[eo->n].name) {
		free(value);
		return -ENOMEM;
	}
	v[eo->n].value = value;
	eo->n++;
	return 0;
}

const char *oci_engine_opts_find(const struct oci_engine_opts *eo, const char *name, const char *prefix)
{
	for (size_t i = 0; i < eo->n; i++)
		if (!strcmp(eo->v[i].name, name) &&
		    (!prefix || (eo->v[i].value && !strncmp(eo->v[i].value, prefix, strlen(prefix)))))
			return eo->v[i].value ? eo->v[i].value : "";
	return NULL;
}

/* Is @path (in the container) a directory?  Read through the container's
 * own root when its init is known, else under @rootfs. */
static bool container_is_dir(const struct oci_dump_ctx *ctx, const char *path)
{
	char buf[4096];
	struct stat st;

	if (ctx->pid > 0)
		snprintf(buf, sizeof(buf), "/proc/%d/root%s", (int)ctx->pid, path);
	else
		snprintf(buf, sizeof(buf), "%s%s", ctx->rootfs, path);
	return stat(buf, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A namespace given by path is external: the dump names it by inode. */
static int ns_external(struct oci_engine_opts *eo, const char *kind, const char *key, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return oc_error_errno(-errno, "the container's %s namespace %s cannot be read", kind, path);
	return oci_engine_opts_add(eo, "external", "%s[%llu]:%s", kind, (unsigned long long)st.st_ino, key);
}

/* The device nodes runc always gives a container, and the config's own:
 * bound from the host where they are binds (rootless), mknod'ed otherwise. */
static int map_devices(const struct oci_spec *spec, struct oci_engine_opts *eo)
{
	static const char *const always[] = { "/dev/null", "/dev/random", "/dev/full",
					      "/dev/tty",  "/dev/zero",	  "/dev/urandom" };
	int r = 0;

	for (size_t i = 0; r >= 0 && i < sizeof(always) / sizeof(always[0]); i++)
		r = oci_engine_opts_add(eo, "external", "mnt[%s]:%s", always[i], always[i]);
	for (size_t i = 0; r >= 0 && i < spec->n_devices; i++) {
		bool dup = false;
		for (size_t j = 0; j < sizeof(always) / sizeof(always[0]); j++)
			dup |= !strcmp(spec->device_paths[i], always[j]);
		if (!dup)
			r = oci_engine_opts_add(eo, "external", "mnt[%s]:%s", spec->device_paths[i],
						spec->device_paths[i]);
	}
	return r;
}

/* Without a cgroup namespace, runc binds each cgroup v1 hierarchy (and the
 * v2 one) from the host: external, keyed by their mount points. */
static int cgroup_v1_binds(pid_t pid, struct oci_engine_opts *eo)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	char path[64];
	size_t cap = 0;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return oc_error_errno(-errno, "cannot read %s", path);
	while (r >= 0 && getline(&line, &cap, f) > 0) {
		char mp[4096], fstype[64];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1 || sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if (!strcmp(fstype, "cgroup") || !strcmp(fstype, "cgroup2"))
			r = oci_engine_opts_add(eo, "external", "mnt[%s]:%s", mp, mp);
	}
	return r;
}

static int map_dump(const struct oci_spec *spec, const struct oci_dump_ctx *ctx, struct oci_engine_opts *eo)
{
	int r;

	if (!ctx->rootfs || ctx->rootfs[0] != '/')
		return oc_error(-EINVAL, "the container's root must be an absolute path");
	/* A process in the host's root is dumped as it is (no root to name). */
	r = strcmp(ctx->rootfs, "/") ? oci_engine_opts_add(eo, "root", "%s", ctx->rootfs) : 0;
	for (size_t i = 0; r >= 0 && i < spec->n_mounts; i++)
		if (spec->mounts[i].bind)
			r = oci_engine_opts_add(eo, "external", "mnt[%s]:%s", spec->mounts[i].destination,
						spec->mounts[i].destination);
	/* Masked directories are tmpfs mounts, dumped; masked files are
	 * /dev/null bound over them. */
	for (size_t i = 0; r >= 0 && i < spec->n_masked; i++)
		if (!container_is_dir(ctx, spec->masked_paths[i]))
			r = oci_engine_opts_add(eo, "external", "mnt[%s]:/dev/null", spec->masked_paths[i]);
	r = r < 0 ? r : map_devices(spec, eo);
	if (r >= 0 && ctx->pid > 0 && !spec->has_ns[OCI_NS_CGROUP])
		r = cgroup_v1_binds(ctx->pid, eo);
	/* A network namespace given by path is its maker's: not dumped.  One
	 * of the container's own is the engine's (loopback only), so CRIU's
	 * --empty-ns, which runc sends, is not needed. */
	if (r >= 0 && spec->ns_path[OCI_NS_NETWORK])
		r = ns_external(eo, "net", "extRootNetNS", spec->ns_path[OCI_NS_NETWORK]);
	if (r >= 0 && spec->ns_path[OCI_NS_PID])
		r = ns_external(eo, "pid", "extRootPidNS", spec->ns_path[OCI_NS_PID]);
	/* Cgroups are the runtime's: kept as they are (soft), frozen whole. */
	if (r >= 0 && ctx->freeze_cgroup)
		r = oci_engine_opts_add(eo, "manage-cgroups", "soft");
	if (r >= 0 && ctx->freeze_cgroup)
		r = oci_engine_opts_add(eo, "freeze-cgroup", "%s", ctx->freeze_cgroup);
	if (r >= 0 && spec->terminal)
		r = oci_engine_opts_add(eo, "orphan-pts-master", NULL);
	return r;
}

int oci_map_dump(const struct oci_spec *spec, const struct oci_dump_ctx *ctx, struct oci_engine_opts *ret_eo)
{
	struct oci_engine_opts eo = {};
	int r = map_dump(spec, ctx, &eo);

	if (r < 0) {
		oci_engine_opts_fini(&eo);
		return r;
	}
	*ret_eo = eo;
	return 0;
}

/* CRIU's name of a namespace kind for --join-ns. */
static const char *join_ns_name(enum oci_ns ns)
{
	switch (ns) {
	case OCI_NS_NETWORK:
		return "net";
	case OCI_NS_MOUNT:
		return "mnt";
	default:
		return oci_ns_name(ns);
	}
}

static int map_restore(const struct oci_spec *spec, const struct oci_restore_ctx *ctx, struct oci_engine_opts *eo)
{
	bool masked = spec->n_masked > 0;
	int r;

	if (!ctx->rootfs || ctx->rootfs[0] != '/')
		return oc_error(-EINVAL, "the container's root must be an absolute path");
	r = oci_engine_opts_add(eo, "root", "%s", ctx->rootfs);
	for (size_t i = 0; r >= 0 && i < spec->n_mounts; i++)
		if (spec->mounts[i].bind)
			r = oci_engine_opts_add(eo, "external", "mnt[%s]:%s", spec->mounts[i].destination,
						spec->mounts[i].source);
	if (r >= 0 && masked)
		r = oci_engine_opts_add(eo, "external", "mnt[/dev/null]:/dev/null");
	r = r < 0 ? r : map_devices(spec, eo);
	/* the cgroup hierarchies bound in at dump: the same host paths */
	if (r >= 0 && !spec->has_ns[OCI_NS_CGROUP])
		r = cgroup_v1_binds(getpid(), eo);
	/* The dump's external namespaces and any other given by path are
	 * joined; a cgroup namespace by path is runc's refusal too. */
	for (int k = 0; r >= 0 && k < _OCI_NS_MAX; k++) {
		if (!spec->ns_path[k])
			continue;
		if (k == OCI_NS_CGROUP)
			return oc_error(-EOPNOTSUPP, "a cgroup namespace given by path (%s) cannot be restored into",
					spec->ns_path[k]);
		r = oci_engine_opts_add(eo, "join-ns", "%s:%s", join_ns_name(k), spec->ns_path[k]);
	}
	if (r >= 0)
		r = oci_engine_opts_add(eo, "manage-cgroups", "soft");
	if (r >= 0 && ctx->cgroup_root)
		r = oci_engine_opts_add(eo, "cgroup-root", "%s", ctx->cgroup_root);
	if (r >= 0 && spec->terminal)
		r = oci_engine_opts_add(eo, "orphan-pts-master", NULL);
	return r;
}

int oci_map_restore(const struct oci_spec *spec, const struct oci_restore_ctx *ctx, struct oci_engine_opts *ret_eo)
{
	struct oci_engine_opts eo = {};
	int r = map_restore(spec, ctx, &eo);

	if (r < 0) {
		oci_engine_opts_fini(&eo);
		return r;
	}
	*ret_eo = eo;
	return 0;
}

int oci_engine_opts_apply(const struct oci_engine_opts *eo, struct criu_opts *o)
{
	for (size_t i = 0; i < eo->n; i++) {
		const struct oci_engine_opt *e = &eo->v[i];
		int r;

		/* RPC's orphan_pts_master has no command line name */
		if (!strcmp(e->name, "orphan-pts-master")) {
			o->orphan_pts_master = true;
			continue;
		}
		if (!criu_opt_find(e->name, NULL))
			return oc_error(-EOPNOTSUPP, "not supported by ocicr yet: %s (the container needs it)",
					e->name);
		r = criu_opts_set(o, e->name, e->value);
		if (r < 0)
			return oc_error_wrap(r, "the container's engine options");
	}
	return 0;
}
