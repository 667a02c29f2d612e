// SPDX-License-Identifier: GPL-2.0-or-later
/* Running containers found in runc's and crun's state roots (see state.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "ocicr.h"
#include "bundle/state.h"
#include "oci/inspect/json.h"
#include "ocicr/cleanup.h"

#define STATE_MAX_SIZE (8u << 20)

DEFINE_CLEANUP_FUNC(ij_node *, ij_free)

void oci_ctr_state_free(struct oci_ctr_state *st)
{
	if (!st)
		return;
	free(st->runtime);
	free(st->state_root);
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->config_path);
	free(st->freeze_cgroup);
	free(st->created);
	free(st);
}

static int set_str(char **slot, const char *s)
{
	free(*slot);
	*slot = s ? strdup(s) : NULL;
	return s && !*slot ? -ENOMEM : 0;
}

/* Field 22 of /proc/PID/stat: the start time in clock ticks; 0 if gone. */
static unsigned long long proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long t = 0;
	_cleanup_fclose_ FILE *f = NULL;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f))
		return 0;
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &t) != 1)
		return 0;
	return t;
}

static bool cgroup2_unified(void)
{
	struct statfs s;

	return statfs("/sys/fs/cgroup", &s) == 0 && s.f_type == 0x63677270; /* CGROUP2_SUPER_MAGIC */
}

/* runc: state.json holds the pid, start time, rootfs, bundle label, cgroups. */
static int read_runc(const char *dir, struct oci_ctr_state *st)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_(ij_freep) ij_node *doc = NULL;
	const ij_node *labels;
	const char *freezer;
	int r;

	if (asprintf(&path, "%s/state.json", dir) < 0)
		return -ENOMEM;
	r = ij_parse_file(path, STATE_MAX_SIZE, &doc);
	if (r < 0)
		return r;
	st->pid = (pid_t)ij_integer(ij_get(doc, "init_process_pid"), 0);
	if (st->pid <= 0 || !ij_string(ij_path(doc, "config", "rootfs", NULL)))
		return oc_error(-EINVAL, "%s: not a runc state (no init_process_pid or config.rootfs)", path);
	if (set_str(&st->rootfs, ij_string(ij_path(doc, "config", "rootfs", NULL))) < 0 ||
	    set_str(&st->created, ij_get_string(doc, "created")) < 0 || set_str(&st->runtime, "runc") < 0)
		return -ENOMEM;
	labels = ij_path(doc, "config", "labels", NULL);
	for (size_t i = 0; i < ij_len(labels); i++) {
		const char *l = ij_string(ij_at(labels, i));
		if (l && !strncmp(l, "bundle=", 7) && set_str(&st->bundle, l + 7) < 0)
			return -ENOMEM;
	}
	if (!st->bundle)
		return oc_error(-EINVAL, "%s: the container's bundle is not recorded", path);
	freezer = ij_string(ij_path(doc, "cgroup_paths", "freezer", NULL));
	if (!freezer)
		freezer = ij_string(ij_path(doc, "cgroup_paths", "", NULL));
	if (set_str(&st->freeze_cgroup, freezer) < 0)
		return -ENOMEM;
	if (asprintf(&st->config_path, "%s/config.json", st->bundle) < 0)
		return -ENOMEM;
	/* The pid is this container's init, not a later process with its number. */
	int64_t start = ij_integer(ij_get(doc, "init_process_start"), -1);
	if (start >= 0 && proc_start_time(st->pid) != (unsigned long long)start)
		return oc_error(-ESRCH, "container %s is not running (its init %d is gone)", st->id, (int)st->pid);
	return 0;
}

/* crun: status holds the pid, bundle, rootfs and cgroup path; the config
 * it runs with is copied beside it. */
static int read_crun(const char *dir, struct oci_ctr_state *st)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_(ij_freep) ij_node *doc = NULL;
	const char *bundle, *rootfs, *cg;
	int r;

	if (asprintf(&path, "%s/status", dir) < 0)
		return -ENOMEM;
	r = ij_parse_file(path, STATE_MAX_SIZE, &doc);
	if (r < 0)
		return r;
	st->pid = (pid_t)ij_integer(ij_get(doc, "pid"), 0);
	bundle = ij_get_string(doc, "bundle");
	rootfs = ij_get_string(doc, "rootfs");
	if (st->pid <= 0 || !bundle || bundle[0] != '/' || !rootfs)
		return oc_error(-EINVAL, "%s: not a crun status (no pid, bundle or rootfs)", path);
	if (set_str(&st->bundle, bundle) < 0 || set_str(&st->created, ij_get_string(doc, "created")) < 0 ||
	    set_str(&st->runtime, "crun") < 0)
		return -ENOMEM;
	if (rootfs[0] == '/' ? set_str(&st->rootfs, rootfs) < 0 : asprintf(&st->rootfs, "%s/%s", bundle, rootfs) < 0)
		return -ENOMEM;
	cg = ij_get_string(doc, "cgroup-path");
	if (cg && *cg &&
	    asprintf(&st->freeze_cgroup, "/sys/fs/cgroup%s%s%s", cgroup2_unified() ? "" : "/freezer",
		     cg[0] == '/' ? "" : "/", cg) < 0)
		return -ENOMEM;
	if (asprintf(&st->config_path, "%s/config.json", dir) < 0)
		return -ENOMEM;
	int64_t start = ij_integer(ij_get(doc, "process-start-time"), -1);
	if (start > 0 && proc_start_time(st->pid) != (unsigned long long)start)
		return oc_error(-ESRCH, "container %s is not running (its init %d is gone)", st->id, (int)st->pid);
	return 0;
}

int oci_state_read(const char *state_root, const char *id, struct oci_ctr_state **ret_st)
{
	_cleanup_(oci_ctr_state_freep) struct oci_ctr_state *st = calloc(1, sizeof(*st));
	_cleanup_free_ char *dir = NULL, *probe = NULL;
	int r;

	if (!st)
		return -ENOMEM;
	if (!*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, ".."))
		return oc_error(-EINVAL, "'%s' is not a container id", id);
	if (asprintf(&dir, "%s/%s", state_root, id) < 0 || asprintf(&probe, "%s/state.json", dir) < 0)
		return -ENOMEM;
	if (set_str(&st->id, id) < 0 || set_str(&st->state_root, state_root) < 0)
		return -ENOMEM;
	if (access(probe, F_OK) == 0) {
		r = read_runc(dir, st);
	} else {
		free(probe);
		if (asprintf(&probe, "%s/status", dir) < 0)
			return -ENOMEM;
		if (access(probe, F_OK) < 0)
			return oc_error(-ENOENT, "no container '%s' under %s", id, state_root);
		r = read_crun(dir, st);
	}
	if (r < 0)
		return r;
	if (kill(st->pid, 0) < 0 && errno == ESRCH)
		return oc_error(-ESRCH, "container %s is not running (its init %d is gone)", id, (int)st->pid);
	*ret_st = TAKE_PTR(st);
	return 0;
}

/* The container under @root whose recorded bundle is @bundle. */
static int find_by_bundle(const char *root, const char *bundle, struct oci_ctr_state **ret_st)
{
	_cleanup_closedir_ DIR *d = opendir(root);
	struct dirent *de;
	int found = -ENOENT;

	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		struct oci_ctr_state *st = NULL;
		char real[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		if (oci_state_read(root, de->d_name, &st) < 0)
			continue;
		if (realpath(st->bundle, real) && !strcmp(real, bundle)) {
			if (found == 0) {
				oci_ctr_state_free(st);
				oci_ctr_state_free(*ret_st);
				*ret_st = NULL;
				return oc_error(-EINVAL,
						"more than one container under %s runs bundle %s: name it by id", root,
						bundle);
			}
			*ret_st = st;
			found = 0;
		} else {
			oci_ctr_state_free(st);
		}
	}
	return found;
}

int oci_state_find(const char *runtime_root, const char *target, struct oci_ctr_state **ret_st)
{
	const char *roots[2] = { runtime_root, NULL };
	bool by_bundle = strchr(target, '/') || !strcmp(target, ".");
	char bundle[PATH_MAX];
	int r = -ENOENT;

	if (!runtime_root) {
		roots[0] = OCI_RUNC_ROOT;
		roots[1] = OCI_CRUN_ROOT;
	}
	if (by_bundle && !realpath(target, bundle))
		return oc_error_errno(-errno, "bundle %s", target);
	*ret_st = NULL;
	for (int i = 0; i < 2 && roots[i]; i++) {
		if (by_bundle) {
			r = find_by_bundle(roots[i], bundle, ret_st);
		} else {
			r = oci_state_read(roots[i], target, ret_st);
			if (r == -ENOENT)
				continue;
		}
		if (r != -ENOENT)
			return r;
	}
	if (by_bundle)
		return oc_error(-ENOENT, "no running container has bundle %s (searched %s%s%s; --runtime-root DIR)",
				bundle, roots[0], roots[1] ? " and " : "", roots[1] ? roots[1] : "");
	return oc_error(-ENOENT, "no container '%s' (searched %s%s%s; --runtime-root DIR)", target, roots[0],
			roots[1] ? " and " : "", roots[1] ? roots[1] : "");
}
