// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The OCI layer: configs made by `runc spec` (tests/unit/data/oci/) and
 * edited, mapped onto the engine's options for a dump and a restore;
 * runc's and crun's state; archives written in each layout, read back and
 * their layout detected; hostile archives and root filesystem diffs
 * refused without writing outside their target.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/archive.h"
#include "bundle/image.h"
#include "bundle/sha256.h"
#include "bundle/prepare.h"
#include "bundle/rootfs.h"
#include "bundle/spec.h"
#include "bundle/state.h"
#include "bundle/storage.h"
#include "core/cleanup.h"
#include "core/error.h"

/* Test paths are short; the fixed buffers are ample. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define RUNC_SPEC "tests/unit/data/oci/runc-spec.json"

static char tmp[128];

static int make_tmp(void **state)
{
	snprintf(tmp, sizeof(tmp), "/tmp/test-oci-XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int remove_tmp(void **state)
{
	return oci_rm_tree(tmp);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0;

	assert_non_null(f);
	assert_true(getdelim(&buf, &n, '\0', f) > 0);
	fclose(f);
	return buf;
}

static void spew(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* runc's spec with @from replaced by @to (once). */
static char *edited_spec(const char *from, const char *to)
{
	char *text = slurp(RUNC_SPEC), *at = strstr(text, from), *out = NULL;

	assert_non_null(at);
	assert_true(asprintf(&out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)) > 0);
	free(text);
	return out;
}

static struct oci_spec *parse_text(const char *text)
{
	struct oci_spec *spec = NULL;

	assert_int_equal(oci_spec_parse(text, "config.json", &spec), 0);
	return spec;
}

static void test_runc_spec_parsed(void **state)
{
	_cleanup_(oci_spec_freep) struct oci_spec *spec = NULL;

	assert_int_equal(oci_spec_load(RUNC_SPEC, &spec), 0);
	assert_string_equal(spec->root_path, "rootfs");
	assert_true(spec->root_readonly);
	assert_true(spec->terminal);
	assert_int_equal(spec->n_mounts, 7);
	for (size_t i = 0; i < spec->n_mounts; i++)
		assert_false(spec->mounts[i].bind);
	assert_true(spec->has_ns[OCI_NS_PID] && spec->has_ns[OCI_NS_NETWORK] && spec->has_ns[OCI_NS_MOUNT]);
	assert_false(spec->has_ns[OCI_NS_USER]);
	assert_null(spec->ns_path[OCI_NS_NETWORK]);
	assert_int_equal(spec->n_masked, 10);
	assert_string_equal(spec->masked_paths[3], "/proc/keys");
	assert_int_equal(spec->n_readonly, 5);
}

static void test_bad_configs_refused(void **state)
{
	struct oci_spec *spec = NULL;
	_cleanup_free_ char *noroot = edited_spec("\"root\": {", "\"notroot\": {");
	_cleanup_free_ char *badns = edited_spec("\"type\": \"pid\"", "\"type\": \"bogus\"");
	_cleanup_free_ char *nosrc = edited_spec("\"mounts\": [", "\"mounts\": [{\"destination\": \"/data\", "
								  "\"type\": \"bind\", \"options\": [\"rbind\"]},");

	assert_int_equal(oci_spec_parse("{ not json", "config.json", &spec), -EINVAL);
	assert_int_equal(oci_spec_parse("[1, 2]", "config.json", &spec), -EINVAL);
	assert_int_equal(oci_spec_parse(noroot, "config.json", &spec), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "root.path"));
	assert_int_equal(oci_spec_parse(badns, "config.json", &spec), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "bogus"));
	assert_int_equal(oci_spec_parse(nosrc, "config.json", &spec), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "/data has no source"));
	assert_null(spec);
}

/* runc spec, a bind mount and a network namespace by path added, no terminal. */
static struct oci_spec *container_spec(const char *netns)
{
	_cleanup_free_ char *a = edited_spec("\"mounts\": [", "\"mounts\": [{\"destination\": \"/data\", \"type\": "
							      "\"bind\", \"source\": \"/srv/data\", \"options\": "
							      "[\"rbind\", \"rw\"]},");
	_cleanup_free_ char *b = NULL, *c = NULL;
	char *at = strstr(a, "\"type\": \"network\"");

	assert_non_null(at);
	assert_true(asprintf(&b, "%.*s\"type\": \"network\", \"path\": \"%s\"%s", (int)(at - a), a, netns,
			     at + strlen("\"type\": \"network\"")) > 0);
	at = strstr(b, "\"terminal\": true");
	assert_non_null(at);
	assert_true(asprintf(&c, "%.*s\"terminal\": false%s", (int)(at - b), b, at + strlen("\"terminal\": true")) > 0);
	return parse_text(c);
}

static void test_dump_mapping(void **state)
{
	_cleanup_(oci_spec_freep) struct oci_spec *spec = container_spec("/proc/self/ns/net");
	char rootfs[256], want[PATH_MAX];
	struct oci_engine_opts eo = {};
	struct stat st;

	/* /proc/acpi a directory in the root (a tmpfs mask), the rest files */
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmp);
	assert_int_equal(mkdir(rootfs, 0755), 0);
	snprintf(want, sizeof(want), "%s/proc", rootfs);
	assert_int_equal(mkdir(want, 0755), 0);
	snprintf(want, sizeof(want), "%s/proc/acpi", rootfs);
	assert_int_equal(mkdir(want, 0755), 0);

	struct oci_dump_ctx ctx = { .rootfs = rootfs, .freeze_cgroup = "/sys/fs/cgroup/freezer/c1" };
	assert_int_equal(oci_map_dump(spec, &ctx, &eo), 0);
	assert_string_equal(oci_engine_opts_find(&eo, "root", NULL), rootfs);
	assert_non_null(oci_engine_opts_find(&eo, "external", "mnt[/data]:/data"));
	assert_null(oci_engine_opts_find(&eo, "external", "mnt[/proc]"));
	assert_non_null(oci_engine_opts_find(&eo, "external", "mnt[/proc/keys]:/dev/null"));
	assert_null(oci_engine_opts_find(&eo, "external", "mnt[/proc/acpi]"));
	assert_int_equal(stat("/proc/self/ns/net", &st), 0);
	snprintf(want, sizeof(want), "net[%llu]:extRootNetNS", (unsigned long long)st.st_ino);
	assert_string_equal(oci_engine_opts_find(&eo, "external", "net["), want);
	/* the engine keeps a namespace of the container's own itself */
	assert_null(oci_engine_opts_find(&eo, "empty-ns", NULL));
	assert_non_null(oci_engine_opts_find(&eo, "external", "mnt[/dev/null]:/dev/null"));
	assert_string_equal(oci_engine_opts_find(&eo, "manage-cgroups", NULL), "soft");
	assert_string_equal(oci_engine_opts_find(&eo, "freeze-cgroup", NULL), "/sys/fs/cgroup/freezer/c1");
	assert_null(oci_engine_opts_find(&eo, "orphan-pts-master", NULL));
	oci_engine_opts_fini(&eo);
}

static void test_dump_mapping_errors(void **state)
{
	_cleanup_(oci_spec_freep) struct oci_spec *spec = container_spec("/run/netns/no-such-ns");
	_cleanup_(oci_spec_freep) struct oci_spec *tty = NULL;
	struct oci_engine_opts eo = {};
	struct oci_dump_ctx ctx = { .rootfs = "/nonexistent-root" };

	assert_int_equal(oci_map_dump(spec, &ctx, &eo), -ENOENT);
	assert_non_null(strstr(oc_error_message(), "/run/netns/no-such-ns"));
	assert_int_equal(eo.n, 0);
	ctx.rootfs = "relative/root";
	assert_int_equal(oci_map_dump(spec, &ctx, &eo), -EINVAL);

	/* runc spec as made: a terminal, whose master is outside */
	assert_int_equal(oci_spec_load(RUNC_SPEC, &tty), 0);
	ctx.rootfs = "/nonexistent-root";
	assert_int_equal(oci_map_dump(tty, &ctx, &eo), 0);
	assert_non_null(oci_engine_opts_find(&eo, "orphan-pts-master", NULL));
	assert_null(oci_engine_opts_find(&eo, "external", "net["));
	oci_engine_opts_fini(&eo);
}

static void test_restore_mapping(void **state)
{
	_cleanup_(oci_spec_freep) struct oci_spec *spec = container_spec("/run/netns/new-ns");
	struct oci_engine_opts eo = {};
	struct oci_restore_ctx ctx = { .rootfs = "/b/rootfs", .cgroup_root = "/ocicr/new" };

	assert_int_equal(oci_map_restore(spec, &ctx, &eo), 0);
	assert_string_equal(oci_engine_opts_find(&eo, "root", NULL), "/b/rootfs");
	assert_non_null(oci_engine_opts_find(&eo, "external", "mnt[/data]:/srv/data"));
	assert_non_null(oci_engine_opts_find(&eo, "external", "mnt[/dev/null]:/dev/null"));
	assert_string_equal(oci_engine_opts_find(&eo, "join-ns", NULL), "net:/run/netns/new-ns");
	assert_string_equal(oci_engine_opts_find(&eo, "cgroup-root", NULL), "/ocicr/new");
	oci_engine_opts_fini(&eo);
}

/* The options reach CRIU's option model, refused by name until the engine has them. */
static void test_apply_sets_criu_opts(void **state)
{
	_cleanup_(oci_spec_freep) struct oci_spec *spec = container_spec("/proc/self/ns/net");
	_cleanup_(oci_spec_freep) struct oci_spec *tty = NULL;
	struct oci_engine_opts eo = {};
	struct oci_dump_ctx ctx = { .rootfs = "/r", .freeze_cgroup = "/sys/fs/cgroup/freezer/c1" };
	struct criu_opts o;

	assert_int_equal(oci_map_dump(spec, &ctx, &eo), 0);
	criu_opts_init(&o);
	assert_int_equal(oci_engine_opts_apply(&eo, &o), 0);
	assert_int_equal(o.unsupported.n, 0);
	assert_string_equal(o.root, "/r");
	assert_string_equal(o.freeze_cgroup, "/sys/fs/cgroup/freezer/c1");
	bool data = false;
	for (size_t i = 0; i < o.externals.n; i++)
		data |= !strcmp(o.externals.v[i], "mnt[/data]:/data");
	assert_true(data);
	assert_false(o.orphan_pts_master);
	criu_opts_fini(&o);
	oci_engine_opts_fini(&eo);

	/* a terminal: RPC's orphan_pts_master, which has no command line name */
	assert_int_equal(oci_spec_load(RUNC_SPEC, &tty), 0);
	assert_int_equal(oci_map_dump(tty, &ctx, &eo), 0);
	criu_opts_init(&o);
	assert_int_equal(oci_engine_opts_apply(&eo, &o), 0);
	assert_true(o.orphan_pts_master);
	criu_opts_fini(&o);
	oci_engine_opts_fini(&eo);

	/* an option the model does not know is refused by name */
	assert_int_equal(oci_engine_opts_add(&eo, "no-such-option", NULL), 0);
	criu_opts_init(&o);
	assert_int_equal(oci_engine_opts_apply(&eo, &o), -EOPNOTSUPP);
	assert_non_null(strstr(oc_error_message(), "no-such-option"));
	criu_opts_fini(&o);
	oci_engine_opts_fini(&eo);

	/* a process in the host's root: no root to name */
	_cleanup_(oci_spec_freep) struct oci_spec *plain = parse_text("{\"root\": {\"path\": \"/\"}}");
	ctx.rootfs = "/";
	ctx.freeze_cgroup = NULL;
	assert_int_equal(oci_map_dump(plain, &ctx, &eo), 0);
	assert_null(oci_engine_opts_find(&eo, "root", NULL));
	oci_engine_opts_fini(&eo);
}

static void test_runc_state(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], bundle[PATH_MAX];
	struct oci_ctr_state *st = NULL;
	char *json = NULL;

	snprintf(dir, sizeof(dir), "%s/runc/c1", tmp);
	snprintf(bundle, sizeof(bundle), "%s/bundle", tmp);
	assert_int_equal(mkdir(bundle, 0755), 0);
	snprintf(path, sizeof(path), "%s/runc", tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	assert_true(asprintf(&json,
			     "{\"id\": \"c1\", \"init_process_pid\": %d, \"created\": \"2026-01-01T00:00:00Z\", "
			     "\"config\": {\"rootfs\": \"%s/rootfs\", \"labels\": [\"x=y\", \"bundle=%s\"]}, "
			     "\"cgroup_paths\": {\"freezer\": \"/sys/fs/cgroup/freezer/c1\"}}",
			     (int)getpid(), bundle, bundle) > 0);
	spew(path, json);
	free(json);
	snprintf(path, sizeof(path), "%s/runc", tmp);

	assert_int_equal(oci_state_find(path, "c1", &st), 0);
	assert_string_equal(st->runtime, "runc");
	assert_int_equal(st->pid, getpid());
	assert_string_equal(st->bundle, bundle);
	assert_string_equal(st->freeze_cgroup, "/sys/fs/cgroup/freezer/c1");
	oci_ctr_state_free(st);
	st = NULL;
	/* by bundle, as a path */
	assert_int_equal(oci_state_find(path, bundle, &st), 0);
	assert_string_equal(st->id, "c1");
	oci_ctr_state_free(st);
	st = NULL;
	assert_int_equal(oci_state_find(path, "c2", &st), -ENOENT);
	assert_non_null(strstr(oc_error_message(), "no container 'c2'"));
	assert_int_equal(oci_state_find(path, "/", &st), -ENOENT);
	assert_non_null(strstr(oc_error_message(), "no running container has bundle /"));
	assert_int_equal(oci_state_find(path, "../c1", &st), -ENOENT);
	assert_null(st);
}

static void test_crun_state(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	struct oci_ctr_state *st = NULL;
	char *json = NULL;

	snprintf(path, sizeof(path), "%s/crun", tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/crun/k1", tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/status", dir);
	assert_true(asprintf(&json,
			     "{\"pid\": %d, \"bundle\": \"/b/k1\", \"rootfs\": \"rootfs\", "
			     "\"cgroup-path\": \"/k1\", \"created\": \"2026-01-01T00:00:00Z\"}",
			     (int)getpid()) > 0);
	spew(path, json);
	free(json);
	snprintf(path, sizeof(path), "%s/crun", tmp);
	assert_int_equal(oci_state_read(path, "k1", &st), 0);
	assert_string_equal(st->runtime, "crun");
	assert_string_equal(st->rootfs, "/b/k1/rootfs");
	assert_non_null(strstr(st->freeze_cgroup, "/k1"));
	assert_non_null(strstr(st->config_path, "/crun/k1/config.json"));
	oci_ctr_state_free(st);
}

/* ---- archives ---- */

static void make_images(const char *dir)
{
	char path[PATH_MAX + 32];

	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/inventory.img", dir);
	spew(path, "inventory-bytes");
	snprintf(path, sizeof(path), "%s/pages-1.img", dir);
	spew(path, "page-bytes");
	snprintf(path, sizeof(path), "%s/stats-dump", dir);
	spew(path, "stats");
	snprintf(path, sizeof(path), "%s/dump.log", dir);
	spew(path, "log");
}

static int entries_in(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.' || (de->d_name[1] && (de->d_name[1] != '.' || de->d_name[2]));
	return n;
}

static void write_layout(enum oci_layout layout, enum oci_compress c, const char *out)
{
	char images[PATH_MAX], spec[PATH_MAX];
	struct stat st;

	snprintf(images, sizeof(images), "%s/images-%d", tmp, layout);
	snprintf(spec, sizeof(spec), "%s/config-%d.json", tmp, layout);
	make_images(images);
	spew(spec, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}}");
	struct oci_archive_in in = {
		.layout = layout,
		.compress = c,
		.images_dir = images,
		.spec_path = spec,
		.id = "c1",
		.runtime = "runc",
		.checkpointed = 1700000000,
		.rootfs_diff_fd = -1,
		.deleted_json = "[\"/bin/ls\"]",
	};
	assert_int_equal(oci_archive_write(out, &in), 0);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_layouts_round_trip(void **state)
{
	static const struct {
		enum oci_layout layout;
		enum oci_compress c;
		const char *compression;
	} cases[] = {
		{ OCI_LAYOUT_PODMAN, OCI_COMPRESS_ZSTD, "zstd" },
		{ OCI_LAYOUT_CRIO, OCI_COMPRESS_NONE, "none" },
		{ OCI_LAYOUT_CONTAINERD, OCI_COMPRESS_GZIP, "gzip" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[PATH_MAX], dest[PATH_MAX], path[PATH_MAX + 32];
		struct oci_import imp;

		snprintf(out, sizeof(out), "%s/a-%zu.tar", tmp, i);
		snprintf(dest, sizeof(dest), "%s/dest-%zu", tmp, i);
		write_layout(cases[i].layout, cases[i].c, out);
		assert_int_equal(mkdir(dest, 0700), 0);
		assert_int_equal(oci_archive_import(out, dest, &imp), 0);
		assert_int_equal(imp.layout, cases[i].layout);
		assert_string_equal(imp.compression, cases[i].compression);
		assert_true(imp.has_spec && imp.has_config);
		assert_int_equal(imp.has_deleted, cases[i].layout != OCI_LAYOUT_CONTAINERD);
		snprintf(path, sizeof(path), "%s/inventory.img", imp.images_dir);
		assert_int_equal(access(path, R_OK), 0);
		/* the work files are beside checkpoint/, not in it */
		snprintf(path, sizeof(path), "%s/dump.log", imp.images_dir);
		assert_int_equal(access(path, F_OK), -1);
		oci_import_fini(&imp);
	}
}

/* A write that fails leaves no archive and no temporary file. */
static void test_failed_write_leaves_nothing(void **state)
{
	char out[PATH_MAX], dir[PATH_MAX];
	struct oci_archive_in in = {
		.layout = OCI_LAYOUT_PODMAN,
		.images_dir = "/nonexistent-images",
		.spec_path = RUNC_SPEC,
		.id = "c1",
		.rootfs_diff_fd = -1,
	};

	snprintf(dir, sizeof(dir), "%s/out", tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(out, sizeof(out), "%s/x.tar", dir);
	assert_true(oci_archive_write(out, &in) < 0);
	assert_int_equal(entries_in(dir), 0);
	/* an archive already there stays as it was */
	spew(out, "old");
	assert_true(oci_archive_write(out, &in) < 0);
	_cleanup_free_ char *old = slurp(out);
	assert_string_equal(old, "old");
	assert_int_equal(entries_in(dir), 1);
}

/* A tar whose members are given as (name, type, link target). */
struct member {
	const char *name;
	mode_t type;
	const char *link;
};

static void make_tar(const char *path, const struct member *m, size_t n, bool gzip)
{
	struct archive *a = archive_write_new();

	archive_write_set_format_pax_restricted(a);
	if (gzip)
		archive_write_add_filter_gzip(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_copy_pathname(e, m[i].name);
		archive_entry_set_filetype(e, m[i].type);
		archive_entry_set_perm(e, m[i].type == AE_IFDIR ? 0755 : 0644);
		if (m[i].type == AE_IFLNK)
			archive_entry_copy_symlink(e, m[i].link);
		else if (m[i].link)
			archive_entry_copy_hardlink(e, m[i].link);
		archive_entry_set_size(e, m[i].type == AE_IFREG && !m[i].link ? 4 : 0);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (m[i].type == AE_IFREG && !m[i].link)
			assert_int_equal(archive_write_data(a, "data", 4), 4);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
}

static int import_members(const struct member *m, size_t n, const char *tag)
{
	char out[PATH_MAX], dest[PATH_MAX];
	struct oci_import imp;
	int r;

	snprintf(out, sizeof(out), "%s/h-%s.tar", tmp, tag);
	snprintf(dest, sizeof(dest), "%s/hd-%s", tmp, tag);
	make_tar(out, m, n, false);
	assert_int_equal(mkdir(dest, 0700), 0);
	r = oci_archive_import(out, dest, &imp);
	if (r == 0)
		oci_import_fini(&imp);
	return r;
}

static void test_hostile_archives(void **state)
{
	const struct member dotdot[] = { { "checkpoint/../../escape.img", AE_IFREG } };
	const struct member absolute[] = { { "/tmp/escape.img", AE_IFREG } };
	const struct member symlink[] = { { "checkpoint/", AE_IFDIR },
					  { "checkpoint/inventory.img", AE_IFLNK, "/etc/passwd" } };
	const struct member hardlink[] = { { "spec.dump", AE_IFREG, "/etc/passwd" } };
	const struct member nockpt[] = { { "spec.dump", AE_IFREG }, { "config.dump", AE_IFREG } };
	const struct member noinv[] = { { "checkpoint/", AE_IFDIR }, { "checkpoint/pages-1.img", AE_IFREG } };
	const struct member nometa[] = { { "checkpoint/", AE_IFDIR }, { "checkpoint/inventory.img", AE_IFREG } };
	const struct member twice[] = { { "checkpoint/inventory.img", AE_IFREG },
					{ "checkpoint/inventory.img", AE_IFREG } };

	assert_int_equal(import_members(dotdot, 1, "dotdot"), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "unsafe member"));
	assert_int_equal(import_members(absolute, 1, "abs"), -EINVAL);
	assert_int_equal(import_members(symlink, 2, "sym"), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "is a symlink"));
	assert_int_equal(import_members(hardlink, 1, "hard"), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "hard link"));
	assert_int_equal(import_members(nockpt, 2, "nockpt"), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "wrong layout"));
	assert_int_equal(import_members(noinv, 2, "noinv"), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "no inventory.img"));
	assert_int_equal(import_members(nometa, 2, "nometa"), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "without spec.dump"));
	assert_int_equal(import_members(twice, 2, "twice"), -EEXIST);
	assert_int_equal(access("/tmp/escape.img", F_OK), -1);
}

static void test_truncated_archive(void **state)
{
	char out[PATH_MAX], dest[PATH_MAX];
	struct oci_import imp;
	struct stat st;

	snprintf(out, sizeof(out), "%s/t.tar.zst", tmp);
	write_layout(OCI_LAYOUT_PODMAN, OCI_COMPRESS_ZSTD, out);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(truncate(out, st.st_size / 2), 0);
	snprintf(dest, sizeof(dest), "%s/tdest", tmp);
	assert_int_equal(mkdir(dest, 0700), 0);
	assert_int_equal(oci_archive_import(out, dest, &imp), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "truncated"));
}

/* ---- root filesystem changes ---- */

static void mkfile(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	spew(path, text);
}

static void mkd(const char *root, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static bool has(const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return lstat(path, &st) == 0;
}

static void test_rootfs_diff_round_trip(void **state)
{
	char base[PATH_MAX], root[PATH_MAX], copy[PATH_MAX], diff[PATH_MAX], del[PATH_MAX];
	struct oci_rootfs_changes c;
	_cleanup_free_ char *json = NULL;
	int fd;

	snprintf(base, sizeof(base), "%s/base", tmp);
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(copy, sizeof(copy), "%s/copy", tmp);
	mkd(tmp, "base");
	mkd(base, "etc");
	mkfile(base, "etc/keep", "same");
	mkfile(base, "etc/change", "old");
	mkfile(base, "etc/gone", "x");
	mkd(base, "olddir");
	mkfile(base, "olddir/f", "x");
	assert_int_equal(oci_rootfs_copy_base(base, root), 0);
	assert_true(has(root, "olddir/f"));
	/* the container's changes */
	mkfile(root, "etc/change", "new contents");
	mkfile(root, "etc/added", "a");
	mkd(root, "newdir");
	mkfile(root, "newdir/n", "n");
	assert_int_equal(symlink("/proc/mounts", (snprintf(diff, sizeof(diff), "%s/etc/mtab", root), diff)), 0);
	assert_int_equal(unlink((snprintf(diff, sizeof(diff), "%s/etc/gone", root), diff)), 0);
	assert_int_equal(oci_rm_tree((snprintf(diff, sizeof(diff), "%s/olddir", root), diff)), 0);

	assert_int_equal(oci_rootfs_diff_base(root, base, &c), 0);
	assert_int_equal(c.n_deleted, 2);
	assert_string_equal(c.deleted[0], "etc/gone");
	assert_string_equal(c.deleted[1], "olddir");
	for (size_t i = 0; i < c.n_changed; i++)
		assert_string_not_equal(c.changed[i], "etc/keep");
	snprintf(diff, sizeof(diff), "%s/rootfs-diff.tar", tmp);
	fd = open(diff, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(oci_rootfs_diff_write(fd, root, &c, false), 0);
	close(fd);
	assert_int_equal(oci_rootfs_deleted_json(&c, &json), 0);
	assert_string_equal(json, "[\"/etc/gone\",\"/olddir\"]");
	snprintf(del, sizeof(del), "%s/deleted.files", tmp);
	spew(del, json);
	oci_rootfs_changes_fini(&c);

	/* on "another host": base + diff - deleted */
	assert_int_equal(oci_rootfs_copy_base(base, copy), 0);
	assert_int_equal(oci_rootfs_apply_diff(copy, diff), 0);
	assert_int_equal(oci_rootfs_apply_deleted(copy, del), 0);
	assert_int_equal(oci_rootfs_diff_base(copy, root, &c), 0);
	assert_int_equal(c.n_changed + c.n_deleted, 0);
	oci_rootfs_changes_fini(&c);
}

static void test_rootfs_whiteouts(void **state)
{
	char root[PATH_MAX], layer[PATH_MAX];
	const struct member m[] = {
		{ "etc/", AE_IFDIR },	 { "etc/.wh.passwd", AE_IFREG },
		{ "var/", AE_IFDIR },	 { "var/.wh..wh..opq", AE_IFREG },
		{ "var/new", AE_IFREG },
	};

	snprintf(root, sizeof(root), "%s/wroot", tmp);
	mkd(tmp, "wroot");
	mkd(root, "etc");
	mkfile(root, "etc/passwd", "root");
	mkfile(root, "etc/group", "root");
	mkd(root, "var");
	mkfile(root, "var/old", "x");
	snprintf(layer, sizeof(layer), "%s/layer.tar.gz", tmp);
	make_tar(layer, m, 5, true);
	assert_int_equal(oci_rootfs_apply_diff(root, layer), 0);
	assert_false(has(root, "etc/passwd"));
	assert_true(has(root, "etc/group"));
	assert_false(has(root, "var/old"));
	assert_true(has(root, "var/new"));
	assert_false(has(root, "etc/.wh.passwd"));
}

static void test_rootfs_hostile_diffs(void **state)
{
	char root[PATH_MAX], out[PATH_MAX], del[PATH_MAX], victim[PATH_MAX];
	const struct member dotdot[] = { { "../escaped", AE_IFREG } };
	const struct member absolute[] = { { "/escaped", AE_IFREG } };
	const struct member through_link[] = { { "evil", AE_IFLNK, "/tmp" }, { "evil/escaped-ocicr", AE_IFREG } };
	const struct member hard_out[] = { { "h", AE_IFREG, "../../etc/passwd" } };
	const struct member hard_through[] = { { "etclink", AE_IFLNK, "/etc" }, { "h", AE_IFREG, "etclink/passwd" } };
	const struct {
		const struct member *m;
		size_t n;
	} cases[] = { { dotdot, 1 }, { absolute, 1 }, { through_link, 2 }, { hard_out, 1 }, { hard_through, 2 } };

	snprintf(root, sizeof(root), "%s/hroot", tmp);
	mkd(tmp, "hroot");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(out, sizeof(out), "%s/hd-%zu.tar", tmp, i);
		make_tar(out, cases[i].m, cases[i].n, false);
		assert_true(oci_rootfs_apply_diff(root, out) < 0);
	}
	assert_int_equal(access("/tmp/escaped-ocicr", F_OK), -1);
	assert_false(has(tmp, "escaped"));
	assert_false(has(root, "h"));

	/* deleted.files may not reach out either, nor through a symlink */
	snprintf(victim, sizeof(victim), "%s/victim", tmp);
	spew(victim, "keep");
	snprintf(out, sizeof(out), "%s/hroot/lnk", tmp);
	unlink(out);
	assert_int_equal(symlink(tmp, out), 0);
	snprintf(del, sizeof(del), "%s/del.json", tmp);
	spew(del, "[\"/../victim\"]");
	assert_int_equal(oci_rootfs_apply_deleted(root, del), -EINVAL);
	spew(del, "[\"/lnk/victim\"]");
	assert_int_equal(oci_rootfs_apply_deleted(root, del), -EINVAL);
	assert_int_equal(access(victim, F_OK), 0);
	/* the symlink itself may go */
	spew(del, "[\"/lnk\", \"/not/there\"]");
	assert_int_equal(oci_rootfs_apply_deleted(root, del), 0);
	assert_false(has(root, "lnk"));
	assert_int_equal(access(victim, F_OK), 0);
}

/* containers/storage's records: a container's name and image beside its
 * bundle, an image's ID by the names podman gives it. */
static void test_storage_records(void **state)
{
	static const char id[] = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";
	char path[PATH_MAX], bundle[PATH_MAX];
	struct oci_storage_ctr c;
	char *image_id = NULL;

	snprintf(path, sizeof(path), "%s/overlay-containers", tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(bundle, sizeof(bundle), "%s/overlay-containers/%s/userdata", tmp, id);
	/* no record: nothing, no error */
	assert_int_equal(oci_storage_container(bundle, id, &c), 0);
	assert_null(c.name);
	snprintf(path, sizeof(path), "%s/overlay-containers/containers.json", tmp);
	spew(path,
	     "[{\"id\": \"other\"}, {\"id\": \"c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00\", "
	     "\"names\": [\"web\"], \"image\": \"ab12\", "
	     "\"metadata\": \"{\\\"image-name\\\":\\\"localhost/app:1\\\",\\\"image-id\\\":\\\"ab12\\\"}\"}]");
	assert_int_equal(oci_storage_container(bundle, id, &c), 0);
	assert_string_equal(c.name, "web");
	assert_string_equal(c.image_name, "localhost/app:1");
	assert_string_equal(c.image_id, "ab12");
	oci_storage_ctr_fini(&c);
	/* a bundle elsewhere is no store's */
	assert_int_equal(oci_storage_container("/srv/bundle", id, &c), 0);
	assert_null(c.name);
	/* a damaged record is an error */
	spew(path, "[{\"id\": ");
	assert_true(oci_storage_container(bundle, id, &c) < 0);

	snprintf(path, sizeof(path), "%s/overlay-images", tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/overlay-images/images.json", tmp);
	spew(path, "[{\"id\": \"ab12\", \"names\": [\"localhost/app:1\", \"localhost/app:latest\"]}, "
		   "{\"id\": \"cd34\", \"names\": [\"quay.io/x/y:2\"]}]");
	const char *const hits[][2] = { { "localhost/app:1", "ab12" },
					{ "app:1", "ab12" },
					{ "app", "ab12" },
					{ "localhost/app", "ab12" },
					{ "quay.io/x/y:2", "cd34" } };
	for (size_t i = 0; i < sizeof(hits) / sizeof(hits[0]); i++) {
		assert_int_equal(oci_storage_image_id(tmp, hits[i][0], &image_id), 0);
		assert_string_equal(image_id, hits[i][1]);
		free(image_id);
	}
	assert_int_equal(oci_storage_image_id(tmp, "app:2", &image_id), -ENOENT);
	assert_int_equal(oci_storage_image_id(tmp, "x/y:2", &image_id), -ENOENT);
	assert_null(image_id);
}

static void test_volume_arguments(void **state)
{
	char a[] = "/host/data:/data:ro", b[] = "mnt[/data]:/host/data", c[] = "data:/x", d[] = "mnt[]:/x";
	struct oci_volume v;

	assert_int_equal(oci_volume_parse(a, false, &v), 0);
	assert_string_equal(v.source, "/host/data");
	assert_string_equal(v.destination, "/data");
	assert_int_equal(oci_volume_parse(b, true, &v), 0);
	assert_string_equal(v.source, "/host/data");
	assert_string_equal(v.destination, "/data");
	assert_int_equal(oci_volume_parse(c, false, &v), -EINVAL);
	assert_int_equal(oci_volume_parse(d, true, &v), -EINVAL);
}

static void test_sha256_vectors(void **state)
{
	static const struct {
		const char *in, *hex;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	char hex[65];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct oci_sha256 s;
		oci_sha256_init(&s);
		/* in two pieces: the split must not matter */
		oci_sha256_update(&s, v[i].in, strlen(v[i].in) / 2);
		oci_sha256_update(&s, v[i].in + strlen(v[i].in) / 2, strlen(v[i].in) - strlen(v[i].in) / 2);
		oci_sha256_hex(&s, hex);
		assert_string_equal(hex, v[i].hex);
	}
	/* a million 'a's, across many blocks */
	struct oci_sha256 s;
	char chunk[1000];
	memset(chunk, 'a', sizeof(chunk));
	oci_sha256_init(&s);
	for (int i = 0; i < 1000; i++)
		oci_sha256_update(&s, chunk, sizeof(chunk));
	oci_sha256_hex(&s, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_image_layout(void **state)
{
	char images[PATH_MAX], spec[PATH_MAX], layout[PATH_MAX], dest[PATH_MAX], hex[65];
	_cleanup_free_ char *archive = NULL, *index = NULL;
	struct oci_import imp;
	uint64_t size;

	snprintf(images, sizeof(images), "%s/images", tmp);
	snprintf(spec, sizeof(spec), "%s/config.json", tmp);
	snprintf(layout, sizeof(layout), "%s/layout", tmp);
	make_images(images);
	spew(spec, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}}");
	struct oci_archive_in in = {
		.images_dir = images,
		.spec_path = spec,
		.id = "c1",
		.name = "web",
		.checkpointed = 1700000000,
		.rootfs_diff_fd = -1,
	};
	assert_int_equal(oci_image_layout_write(layout, "v1", &in), 0);
	assert_int_equal(oci_image_layout_archive(layout, "v1", &archive), 0);
	/* the blob is named by its digest */
	assert_int_equal(oci_sha256_file(archive, hex, &size), 0);
	assert_non_null(strstr(archive, hex));
	snprintf(dest, sizeof(dest), "%s/layout/index.json", tmp);
	index = slurp(dest);
	assert_non_null(strstr(index, "\"org.opencontainers.image.ref.name\":\"v1\""));
	snprintf(dest, sizeof(dest), "%s/dest", tmp);
	assert_int_equal(mkdir(dest, 0700), 0);
	assert_int_equal(oci_archive_import(archive, dest, &imp), 0);
	assert_int_equal(imp.layout, OCI_LAYOUT_PODMAN);
	oci_import_fini(&imp);
	free(archive);
	archive = NULL;
	assert_int_equal(oci_image_layout_archive(layout, "v2", &archive), -ENOENT);
	/* a layout directory in use is refused and left as it was */
	assert_int_equal(oci_image_layout_write(layout, "v1", &in), -EEXIST);
	assert_int_equal(oci_image_layout_archive(layout, NULL, &archive), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runc_spec_parsed),
		cmocka_unit_test(test_bad_configs_refused),
		cmocka_unit_test_setup_teardown(test_dump_mapping, make_tmp, remove_tmp),
		cmocka_unit_test(test_dump_mapping_errors),
		cmocka_unit_test(test_restore_mapping),
		cmocka_unit_test(test_apply_sets_criu_opts),
		cmocka_unit_test_setup_teardown(test_runc_state, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(test_crun_state, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(test_layouts_round_trip, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(test_failed_write_leaves_nothing, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(test_hostile_archives, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(test_truncated_archive, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(test_rootfs_diff_round_trip, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(test_rootfs_whiteouts, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(test_rootfs_hostile_diffs, make_tmp, remove_tmp),
		cmocka_unit_test_setup_teardown(test_storage_records, make_tmp, remove_tmp),
		cmocka_unit_test(test_volume_arguments),
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test_setup_teardown(test_image_layout, make_tmp, remove_tmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
