// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the archive and text side of `ocicr inspect`: sanitising
 * archive member names, refusing hostile archives without writing outside
 * the private directory, metadata from config.dump / spec.dump /
 * network.status in their several shapes, and the text helpers (escaping
 * checkpoint text for a terminal, quoting argv, open flags, UTF-8 for JSON).
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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/inspect/json.h"
#include "oci/inspect/meta.h"
#include "oci/inspect/model.h"
#include "oci/inspect/source.h"
#include "oci/inspect/tree.h"
#include "oci/inspect/view.h"
#include "core/cleanup.h"
#include "core/error.h"

static char tmp[PATH_MAX];

static int make_tmp(void **state)
{
	snprintf(tmp, sizeof(tmp), "/tmp/test-inspect-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	/* the extraction directories go here too */
	setenv("TMPDIR", tmp, 1);
	return 0;
}

static int remove_tmp(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd);
}

static int entries_in(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	return n;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A tar at @path with the members named in @names (NULL-terminated), each
 * holding a few bytes. */
static void make_tar(const char *path, const char *const *names, int filter)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	archive_write_set_format_pax_restricted(a);
	if (filter == ARCHIVE_FILTER_GZIP)
		archive_write_add_filter_gzip(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (const char *const *n = names; *n; n++) {
		archive_entry_clear(e);
		archive_entry_set_pathname(e, *n);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, 2);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		assert_int_equal(archive_write_data(a, "{}", 2), 2);
	}
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
}

/* ---- member names ------------------------------------------------------------ */

static void check_clean(const char *name, int want_r, const char *want)
{
	char buf[64];
	int r = oci_archive_clean_path(name, buf, sizeof(buf));

	assert_int_equal(r, want_r);
	if (!r)
		assert_string_equal(buf, want);
}

static void test_clean_path(void **state)
{
	check_clean("checkpoint/core-1.img", 0, "checkpoint/core-1.img");
	check_clean("./checkpoint/core-1.img", 0, "checkpoint/core-1.img");
	check_clean("././checkpoint//core-1.img", 0, "checkpoint/core-1.img");
	check_clean("checkpoint/", 0, "checkpoint");
	check_clean("a/./b/", 0, "a/b");
	check_clean("./", 0, "");
	check_clean(".", 0, "");
	/* names that only look like "..": allowed */
	check_clean("..x", 0, "..x");
	check_clean("x..", 0, "x..");
	check_clean("...", 0, "...");
	check_clean("a/.../b", 0, "a/.../b");
	/* refused */
	check_clean("../x", -EINVAL, NULL);
	check_clean("..", -EINVAL, NULL);
	check_clean("a/..", -EINVAL, NULL);
	check_clean("a/../b", -EINVAL, NULL);
	check_clean("checkpoint/../../etc/passwd", -EINVAL, NULL);
	check_clean("./../x", -EINVAL, NULL);
	check_clean("/etc/passwd", -EINVAL, NULL);
	check_clean("/", -EINVAL, NULL);
	check_clean("", -EINVAL, NULL);
	check_clean(NULL, -EINVAL, NULL);
	check_clean("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", -ENAMETOOLONG,
		    NULL);
}

/* Hostile archives are refused before anything is written outside. */
static void test_hostile_archives(void **state)
{
	const char *const *cases[] = {
		(const char *const[]){ "config.dump", "../x", NULL },
		(const char *const[]){ "checkpoint/../../x", NULL },
		(const char *const[]){ "/tmp/abs-x", NULL },
		(const char *const[]){ "spec.dump", "./../x", NULL },
	};
	struct oci_source_opts o = { .sz = sizeof(o) };
	char path[PATH_MAX + 32], x[PATH_MAX + 32];

	snprintf(x, sizeof(x), "%s/x", tmp);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct oci_source *src = NULL;
		snprintf(path, sizeof(path), "%s/hostile-%zu.tar", tmp, i);
		make_tar(path, cases[i], ARCHIVE_FILTER_NONE);
		assert_int_equal(oci_source_open(path, &o, &src), -EINVAL);
		assert_null(src);
		assert_non_null(strstr(oc_error_message(), "unsafe archive member"));
		assert_int_equal(access(x, F_OK), -1);
		unlink(path);
	}
	/* only this test's files were ever in tmp: no extraction directory is left */
	assert_int_equal(entries_in(tmp), 0);
}

static void test_not_checkpoints(void **state)
{
	struct oci_source_opts o = { .sz = sizeof(o) };
	struct oci_source *src = NULL;
	char path[PATH_MAX + 32];

	/* a tar, but of something else */
	snprintf(path, sizeof(path), "%s/other.tar.gz", tmp);
	make_tar(path, (const char *const[]){ "README", "src/main.c", NULL }, ARCHIVE_FILTER_GZIP);
	assert_int_equal(oci_source_open(path, &o, &src), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "not a checkpoint"));
	unlink(path);

	/* checkpoint/ without images */
	snprintf(path, sizeof(path), "%s/partial.tar", tmp);
	make_tar(path, (const char *const[]){ "config.dump", "spec.dump", "checkpoint/descriptors.json", NULL },
		 ARCHIVE_FILTER_NONE);
	assert_int_equal(oci_source_open(path, &o, &src), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "checkpoint/ has no inventory.img"));
	unlink(path);

	/* a duplicated member */
	snprintf(path, sizeof(path), "%s/dup.tar", tmp);
	make_tar(path, (const char *const[]){ "config.dump", "./config.dump", NULL }, ARCHIVE_FILTER_NONE);
	assert_int_equal(oci_source_open(path, &o, &src), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "holds config.dump twice"));
	unlink(path);

	/* not a tar at all */
	snprintf(path, sizeof(path), "%s/junk", tmp);
	write_file(path, "this is not an archive\n");
	assert_int_equal(oci_source_open(path, &o, &src), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "neither a tar archive"));
	unlink(path);

	assert_int_equal(entries_in(tmp), 0);
}

/* ---- pages: only what is read is extracted ------------------------------------ */

/* The shared fixtures, when this checkout has them (../shared or $OCICR_SHARED). */
static const char *counter_dir(char *buf, size_t size)
{
	const char *shared = getenv("OCICR_SHARED");

	snprintf(buf, size, "%s/fixtures/criu-4.2/counter", shared ? shared : "../shared");
	return access(buf, R_OK) == 0 ? buf : NULL;
}

/* A tar of the counter images directory, in name order (mm and pagemap
 * before pages, as in podman's and CRI-O's archives). */
static void tar_counter(const char *dir, const char *out)
{
	const char *names[] = { "core-13190.img", "fdinfo-2.img",  "files.img",	   "fs-13190.img",
				"ids-13190.img",  "inventory.img", "mm-13190.img", "pagemap-13190.img",
				"pages-1.img",	  "pstree.img",	   "stats-dump" };
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	char path[PATH_MAX + 64], name[64], buf[65536];

	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, out), ARCHIVE_OK);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(name, sizeof(name), "./%s", names[i]);
		assert_int_equal(stat(path, &st), 0);
		archive_entry_clear(e);
		archive_entry_set_pathname(e, name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, st.st_size);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		FILE *f = fopen(path, "r");
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			assert_int_equal(archive_write_data(a, buf, n), (la_ssize_t)n);
		fclose(f);
	}
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
}

static void test_pages_extracted(void **state)
{
	char dir[PATH_MAX], tarpath[PATH_MAX + 32];
	struct oci_source_opts o = { .sz = sizeof(o) };
	struct oc_ckpt_opts co = { .sz = sizeof(co), .memory_strings = true };
	struct oci_source *src = NULL;
	struct oc_ckpt *c = NULL;

	if (!counter_dir(dir, sizeof(dir)))
		skip();
	snprintf(tarpath, sizeof(tarpath), "%s/counter.tar", tmp);
	tar_counter(dir, tarpath);

	/* argv and environment: a page or two of the 4 MiB, the rest a hole */
	o.pages = OCI_PAGES_STRINGS;
	assert_int_equal(oci_source_open(tarpath, &o, &src), 0);
	assert_int_equal(src->pages_size, 4259840);
	assert_true(src->pages_extracted > 0 && src->pages_extracted <= 2 * 4096);
	assert_int_equal(oc_ckpt_load(src->images_dir, src->stats_path, &co, &c), 0);
	assert_int_equal(c->n_tasks, 1);
	assert_null(c->tasks[0].argv_error);
	assert_int_equal(c->tasks[0].argc, 3);
	assert_string_equal(c->tasks[0].argv[0], "/tmp/ocicr-fixtures/counter");
	assert_string_equal(c->tasks[0].env[2], "LANG=C");
	oc_ckpt_free(c);
	oci_source_close(src);

	/* --memory PID: all of that process's pages */
	o.pages = OCI_PAGES_PID;
	o.pages_pid = 13190;
	assert_int_equal(oci_source_open(tarpath, &o, &src), 0);
	assert_int_equal(src->pages_extracted, 4259840);
	oci_source_close(src);
	/* another pid's: none */
	o.pages_pid = 4242;
	assert_int_equal(oci_source_open(tarpath, &o, &src), 0);
	assert_int_equal(src->pages_extracted, 0);
	oci_source_close(src);
	/* no memory read: none */
	o.pages = OCI_PAGES_NONE;
	assert_int_equal(oci_source_open(tarpath, &o, &src), 0);
	assert_int_equal(src->pages_extracted, 0);
	oci_source_close(src);

	unlink(tarpath);
	assert_int_equal(entries_in(tmp), 0);
}

/* ---- metadata ------------------------------------------------------------------ */

static void test_meta_cni_and_crio(void **state)
{
	char dir[PATH_MAX + 32], p[PATH_MAX + 64];
	struct oci_source src = { .meta_dir = dir, .container = true, .rootfs_diff_size = -1 };
	struct oci_meta *m = NULL;

	snprintf(dir, sizeof(dir), "%s/meta", tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(p, sizeof(p), "%s/config.dump", dir);
	write_file(p, "{\"id\":\"abc\",\"name\":\"k8s_app_pod_ns_uid_0\",\"rootfsImage\":\"quay.io/x:1\","
		      "\"rootfsImageRef\":\"sha256:1\",\"runtime\":\"crun\",\"createdTime\":\"2026-01-01T00:00:00Z\","
		      "\"checkpointedTime\":\"0001-01-01T00:00:00Z\"}");
	snprintf(p, sizeof(p), "%s/spec.dump", dir);
	write_file(p,
		   "{\"annotations\":{\"io.container.manager\":\"cri-o\","
		   "\"io.kubernetes.cri-o.Metadata\":\"{\\\"name\\\":\\\"app\\\"}\","
		   "\"io.kubernetes.pod.name\":\"pod\",\"io.kubernetes.pod.namespace\":\"ns\","
		   "\"io.kubernetes.cri-o.IP.0\":\"10.0.0.2\",\"io.kubernetes.cri-o.IP.1\":\"fd00::2\"},"
		   "\"mounts\":[{\"destination\":\"/d\",\"type\":\"bind\",\"source\":\"/s\",\"options\":[\"ro\"]}]}");
	/* CNI's list shape of network.status (podman 3) */
	snprintf(p, sizeof(p), "%s/network.status", dir);
	write_file(p, "[{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:dd:ee:ff\"}],"
		      "\"ips\":[{\"version\":\"4\",\"interface\":0,\"address\":\"10.88.0.7/16\","
		      "\"gateway\":\"10.88.0.1\"}]}]");

	assert_int_equal(oci_meta_load(&src, &m), 0);
	assert_string_equal(m->engine, "CRI-O");
	assert_string_equal(m->name, "app");
	assert_string_equal(m->image, "quay.io/x:1");
	assert_string_equal(m->image_id, "sha256:1");
	assert_string_equal(m->runtime, "crun");
	assert_string_equal(m->pod_name, "pod");
	assert_string_equal(m->pod_namespace, "ns");
	/* Go's zero time is no time */
	assert_null(m->checkpointed);
	assert_int_equal(m->n_ips, 3);
	assert_string_equal(m->ips[0].address, "10.0.0.2");
	assert_string_equal(m->ips[1].address, "fd00::2");
	assert_string_equal(m->ips[2].address, "10.88.0.7/16");
	assert_string_equal(m->ips[2].interface, "eth0");
	assert_string_equal(m->ips[2].mac, "aa:bb:cc:dd:ee:ff");
	assert_int_equal(m->n_mounts, 1);
	assert_string_equal(m->mounts[0].options[0], "ro");
	assert_null(m->mounts[0].options[1]);
	oci_meta_free(m);

	/* bad JSON names the file */
	snprintf(p, sizeof(p), "%s/spec.dump", dir);
	write_file(p, "{\"annotations\": [");
	assert_int_equal(oci_meta_load(&src, &m), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "spec.dump: not valid JSON"));
	/* JSON, but not an object */
	write_file(p, "[1, 2]");
	assert_int_equal(oci_meta_load(&src, &m), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "spec.dump is not a JSON object"));
}

/* ---- text ---------------------------------------------------------------------- */

static char *escaped(const char *s, size_t len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	oci_text_escape(f, s, len);
	fclose(f);
	return buf;
}

static void test_text_escape(void **state)
{
	_cleanup_free_ char *a = escaped("plain /bin/sh -c 'x'", 20);
	_cleanup_free_ char *b = escaped("\x1b]0;owned\x07", 10);
	_cleanup_free_ char *c = escaped("caf\xc3\xa9 \xe2\x94\x80", 9);
	_cleanup_free_ char *d = escaped("bad \xff\xc3 utf8", 11);
	_cleanup_free_ char *e = escaped("\xc2\x9b"
					 "31m",
					 5);
	_cleanup_free_ char *f = escaped("nul\0in", 6);

	assert_string_equal(a, "plain /bin/sh -c 'x'");
	/* an escape sequence from a checkpoint never reaches the terminal */
	assert_string_equal(b, "\\x1b]0;owned\\x07");
	assert_string_equal(c, "caf\xc3\xa9 \xe2\x94\x80");
	assert_string_equal(d, "bad \\xff\\xc3 utf8");
	/* nor does a C1 control (CSI) */
	assert_string_equal(e, "\\xc2\\x9b31m");
	assert_string_equal(f, "nul\\x00in");
}

static void test_join_argv(void **state)
{
	char *v1[] = { "/bin/sh", "-c", "echo $i > /data/count; sleep 1", NULL };
	char *v2[] = { "it's", "", "a=b", NULL };
	_cleanup_free_ char *a = oci_join_argv(v1, 3);
	_cleanup_free_ char *b = oci_join_argv(v2, 3);
	_cleanup_free_ char *c = oci_join_argv(v1, 0);

	assert_string_equal(a, "/bin/sh -c 'echo $i > /data/count; sleep 1'");
	assert_string_equal(b, "'it'\\''s' '' a=b");
	assert_string_equal(c, "");
}

static void test_oflags(void **state)
{
	char buf[256];

	oc_format_oflags(0100002, buf, sizeof(buf));
	assert_string_equal(buf, "O_RDWR|O_LARGEFILE");
	oc_format_oflags(0, buf, sizeof(buf));
	assert_string_equal(buf, "O_RDONLY");
	oc_format_oflags(02004001, buf, sizeof(buf));
	assert_string_equal(buf, "O_WRONLY|O_NONBLOCK|O_CLOEXEC");
	/* bits without a name are shown in octal */
	oc_format_oflags(0100000000 | 1, buf, sizeof(buf));
	assert_string_equal(buf, "O_WRONLY|0100000000");
	/* a small buffer truncates, never overflows */
	oc_format_oflags(0177777777, buf, 12);
	assert_int_equal(strlen(buf), 11);
}

static void test_utf8_clean(void **state)
{
	size_t len;
	_cleanup_free_ char *a = ij_utf8_clean("ok \xc3\xa9", 5, &len);
	_cleanup_free_ char *b = ij_utf8_clean("\xff"
					       "a\xc0\xaf"
					       "b\xed\xa0\x80",
					       8, &len);

	assert_string_equal(a, "ok \xc3\xa9");
	/* a stray byte, an overlong '/', a surrogate: each becomes U+FFFD */
	assert_string_equal(b, "\xef\xbf\xbd"
			       "a\xef\xbf\xbd\xef\xbf\xbd"
			       "b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

static void test_fmt_size(void **state)
{
	char buf[32];

	oci_fmt_size(0, buf, sizeof(buf));
	assert_string_equal(buf, "0 B");
	oci_fmt_size(1023, buf, sizeof(buf));
	assert_string_equal(buf, "1023 B");
	oci_fmt_size(77824, buf, sizeof(buf));
	assert_string_equal(buf, "76.0 KiB");
	oci_fmt_size(4259840, buf, sizeof(buf));
	assert_string_equal(buf, "4.1 MiB");
}

static void test_tree(void **state)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	struct oci_tree *root = oci_tree_new("Container %s", "fx1");
	struct oci_tree *p = oci_tree_add(root, "Processes");
	struct oci_tree *sh = oci_tree_add(p, "[1] sh");

	oci_tree_add(sh, "Command line: %s", "sh");
	oci_tree_add(p, "[2] \x1b[2Jx");
	oci_tree_add(root, "Image: bb");
	assert_null(oci_tree_add(NULL, "ignored"));
	assert_int_equal(oci_tree_print(root, f), 0);
	fclose(f);
	assert_string_equal(buf, "Container fx1\n"
				 "├── Processes\n"
				 "│   ├── [1] sh\n"
				 "│   │   └── Command line: sh\n"
				 "│   └── [2] \\x1b[2Jx\n"
				 "└── Image: bb\n");
	free(buf);
	oci_tree_free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_path),
		cmocka_unit_test(test_hostile_archives),
		cmocka_unit_test(test_not_checkpoints),
		cmocka_unit_test(test_pages_extracted),
		cmocka_unit_test(test_meta_cni_and_crio),
		cmocka_unit_test(test_text_escape),
		cmocka_unit_test(test_join_argv),
		cmocka_unit_test(test_oflags),
		cmocka_unit_test(test_utf8_clean),
		cmocka_unit_test(test_fmt_size),
		cmocka_unit_test(test_tree),
	};

	return cmocka_run_group_tests_name("inspect-archive", tests, make_tmp, remove_tmp);
}
