// SPDX-License-Identifier: LGPL-2.1-or-later
/* cgroups: /proc/PID/cgroup, namespace prefixes, --cgroup-root, modes, properties. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "res/cgroup/cgroup.h"
#include "oci/criu/opts.h"
#include "core/error.h"

static void test_parse_proc_hybrid(void **state)
{
	struct oc_cg_member *m;
	size_t n;

	(void)state;
	assert_int_equal(oc_cg_parse_proc("13:net_prio:/\n9:name=systemd:/a\n4:cpu,cpuacct:/a/b\n1:pids:/a/b\n"
					  "0::/a\n",
					  &m, &n),
			 0);
	assert_int_equal(n, 5);
	/* Sorted by name, as CRIU writes a set: v2's "" first. */
	assert_string_equal(m[0].name, "");
	assert_string_equal(m[0].path, "/a");
	assert_string_equal(m[1].name, "cpu,cpuacct");
	assert_string_equal(m[1].path, "/a/b");
	assert_string_equal(m[2].name, "name=systemd");
	assert_string_equal(m[3].name, "net_prio");
	assert_string_equal(m[4].name, "pids");
	oc_cg_members_free(m, n);

	/* A path may hold ':' (the hierarchy id and name may not). */
	assert_int_equal(oc_cg_parse_proc("0::/x:y", &m, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].path, "/x:y");
	oc_cg_members_free(m, n);
}

static void test_parse_proc_bad(void **state)
{
	struct oc_cg_member *m;
	size_t n;

	(void)state;
	assert_int_equal(oc_cg_parse_proc("4:cpu\n", &m, &n), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "bad line in /proc/PID/cgroup"));
	assert_int_equal(oc_cg_parse_proc("4:cpu:relative\n", &m, &n), -EINVAL);
	assert_int_equal(oc_cg_parse_proc("4:cpu:/a\n5:cpu:/b\n", &m, &n), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "'cpu' twice"));
	assert_int_equal(oc_cg_parse_proc("", &m, &n), 0);
	assert_int_equal(n, 0);
	oc_cg_members_free(m, n);
}

static void test_ns_prefix(void **state)
{
	(void)state;
	/* The namespace's root itself: all of the path is the prefix. */
	assert_int_equal(oc_cg_ns_prefix("/ct/one", "/"), 7);
	assert_int_equal(oc_cg_ns_prefix("/", "/"), 0);
	/* Below the root: the part outside. */
	assert_int_equal(oc_cg_ns_prefix("/ct/one/sub", "/sub"), 7);
	/* Not in the namespace's subtree, or not matching: none. */
	assert_int_equal(oc_cg_ns_prefix("/other", "/../other"), 0);
	assert_int_equal(oc_cg_ns_prefix("/ct/one", "/two"), 0);
}

static void expect_rebase(const char *path, const char *old, const char *new, const char *want)
{
	char *s = oc_cg_rebase(path, old, new);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void test_cgroup_root_and_rebase(void **state)
{
	const char *ctrl, *path;
	char *buf;

	(void)state;
	assert_int_equal(oc_cg_parse_root("/new", &buf, &ctrl, &path), 0);
	assert_null(ctrl);
	assert_string_equal(path, "/new");
	free(buf);
	assert_int_equal(oc_cg_parse_root("cpu,cpuacct:/n/x", &buf, &ctrl, &path), 0);
	assert_string_equal(ctrl, "cpu,cpuacct");
	assert_string_equal(path, "/n/x");
	free(buf);
	/* runc's v2 entry has an empty controller name. */
	assert_int_equal(oc_cg_parse_root(":/v2", &buf, &ctrl, &path), 0);
	assert_string_equal(ctrl, "");
	free(buf);
	assert_int_equal(oc_cg_parse_root("cpu:rel", &buf, &ctrl, &path), -EINVAL);
	assert_int_equal(oc_cg_parse_root("/a/../b", &buf, &ctrl, &path), -EINVAL);
	assert_int_equal(oc_cg_parse_root("/a/..", &buf, &ctrl, &path), -EINVAL);
	assert_int_equal(oc_cg_parse_root("/a..b", &buf, &ctrl, &path), 0);
	free(buf);

	assert_true(oc_cg_has_controller("cpu,cpuacct", "cpuacct"));
	assert_true(oc_cg_has_controller("cpu,cpuacct", "cpu"));
	assert_false(oc_cg_has_controller("cpuacct", "cpu"));
	assert_false(oc_cg_has_controller("cpuset", "cpu"));

	expect_rebase("/old/ct/sub", "/old/ct", "/new", "/new/sub");
	expect_rebase("/old/ct", "/old/ct", "/new", "/new");
	expect_rebase("/a", "/", "/new", "/new/a");
	expect_rebase("/", "/", "/new", "/new");
	expect_rebase("/old/ct/x", "/old/ct", "/", "/x");
	/* "/old/ctx" is not under "/old/ct". */
	assert_null(oc_cg_rebase("/old/ctx", "/old/ct", "/new"));
}

static void test_modes_and_props(void **state)
{
	enum oc_cgroup_mode mode;

	(void)state;
	assert_int_equal(oc_cg_parse_mode(NULL, &mode), 0);
	assert_int_equal(mode, OC_CGROUP_SOFT);
	assert_int_equal(oc_cg_parse_mode("strict", &mode), 0);
	assert_int_equal(mode, OC_CGROUP_STRICT);
	assert_string_equal(oc_cg_mode_name(OC_CGROUP_IGNORE), "ignore");
	assert_int_equal(oc_cg_parse_mode("hard", &mode), -EINVAL);

	/* CRIU's lists, in its order, first. */
	const char *const *p = oc_cg_props_of("cpu");
	assert_string_equal(p[0], "cpu.shares");
	assert_string_equal(p[2], "cpu.cfs_quota_us");
	assert_string_equal(oc_cg_props_of("pids")[0], "pids.max");
	assert_string_equal(oc_cg_props_of("devices")[0], "devices.list");
	assert_null(oc_cg_props_of("freezer"));
	assert_true(oc_cg_prop_is_early("cpuset.mems"));
	assert_true(oc_cg_prop_is_early("devices.list"));
	assert_false(oc_cg_prop_is_early("pids.max"));
}

/* The names of @v, comma-separated, for one comparison. */
static const char *joined(const char *const *v)
{
	static char buf[1024];
	size_t o = 0;

	buf[0] = '\0';
	for (; v && *v; v++)
		o += snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? "," : "", *v);
	return buf;
}

/* CRIU's --cgroup-props format: replace and merge, over the built-in
 * lists and over each other; errors name the line. */
static void test_cgroup_props(void **state)
{
	struct oc_cg_props p = {};

	(void)state;
	assert_int_equal(oc_cg_props_parse(&p,
					   "\"cpu\":\n"
					   " - \"strategy\": \"replace\"\n"
					   " - \"properties\": [\"cpu.shares\", \"cpu.cfs_quota_us\"]\n"
					   "\"pids\":\n"
					   " - \"strategy\": \"merge\"\n"
					   " - \"properties\": [\"pids.max\", \"pids.extra\"]\n"
					   "\"rdma\":\n"
					   " - \"strategy\": \"replace\"\n"
					   " - \"properties\": []\n",
					   "--cgroup-props"),
			 0);
	assert_string_equal(joined(oc_cg_props_get(&p, "cpu")), "cpu.shares,cpu.cfs_quota_us");
	assert_string_equal(joined(oc_cg_props_get(&p, "pids")), "pids.max,pids.extra");
	assert_string_equal(joined(oc_cg_props_get(&p, "rdma")), "");
	/* Untouched: the built-in list. */
	assert_ptr_equal(oc_cg_props_get(&p, "memory"), oc_cg_props_of("memory"));
	/* A second text (the file) over the first. */
	assert_int_equal(oc_cg_props_parse(&p, "\"cpu\": - \"strategy\": \"merge\" - \"properties\": [\"cpu.weight\"]",
					   "props.txt"),
			 0);
	assert_string_equal(joined(oc_cg_props_get(&p, "cpu")), "cpu.shares,cpu.cfs_quota_us,cpu.weight");
	assert_int_equal(oc_cg_props_parse(&p, "", "empty"), 0);

	assert_int_equal(oc_cg_props_parse(&p, "\"cpu\":\n - \"strategy\": \"sideways\"\n", "--cgroup-props"), -EINVAL);
	assert_non_null(strstr(oc_error_message(),
			       "--cgroup-props: line 2: controller \"cpu\": unknown strategy \"sideways\""));
	assert_int_equal(oc_cg_props_parse(&p, "\"cpu\":\n - \"strategy\": \"merge\"\n - \"props\": []", "f"), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "f: line 3: expected \"properties\""));
	assert_int_equal(
		oc_cg_props_parse(&p, "\"cpu\": - \"strategy\": \"merge\" - \"properties\": [\"a\" \"b\"]", "f"),
		-EINVAL);
	assert_non_null(strstr(oc_error_message(), "expected ',' or ']'"));
	assert_int_equal(oc_cg_props_parse(&p, "\"cpu", "f"), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "closing quote"));
	assert_int_equal(oc_cg_props_parse(&p, "cpu:", "f"), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "f: line 1: unexpected 'c'"));
	/* What failed changed nothing. */
	assert_string_equal(joined(oc_cg_props_get(&p, "cpu")), "cpu.shares,cpu.cfs_quota_us,cpu.weight");
	oc_cg_props_free(&p);
}

#define ARGV(...) ((char *[]){ "criu", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "criu", __VA_ARGS__ }) / sizeof(char *)))

static void test_criu_options(void **state)
{
	struct criu_opts o;
	struct oc_restore_opts r = OC_OPTS(oc_restore_opts);
	struct oc_dump_opts d = OC_OPTS(oc_dump_opts);

	(void)state;
	criu_opts_init(&o);
	assert_int_equal(criu_parse_args(&o,
					 ARGC("--manage-cgroups=full", "--cgroup-root", "/a", "--cgroup-root", "cpu:/b",
					      "--freeze-cgroup", "/sys/fs/cgroup/freezer/x", "-t", "1"),
					 ARGV("--manage-cgroups=full", "--cgroup-root", "/a", "--cgroup-root", "cpu:/b",
					      "--freeze-cgroup", "/sys/fs/cgroup/freezer/x", "-t", "1"),
					 NULL),
			 0);
	assert_int_equal(criu_opts_set(&o, "cgroup-dump-controller", "pids"), 0);
	assert_int_equal(
		criu_opts_set(&o, "cgroup-props", "\"pids\": - \"strategy\": \"replace\" - \"properties\": []"), 0);
	assert_int_equal(criu_opts_set(&o, "cgroup-props-file", "/etc/props"), 0);
	assert_int_equal(criu_opts_to_restore(&o, &r), 0);
	assert_int_equal(r.manage_cgroups, OC_CGROUP_FULL);
	assert_int_equal(r.n_cgroup_roots, 2);
	assert_string_equal(r.cgroup_roots[1], "cpu:/b");
	assert_int_equal(criu_opts_to_dump(&o, &d), 0);
	assert_string_equal(d.freeze_cgroup, "/sys/fs/cgroup/freezer/x");
	assert_int_equal(d.n_cgroup_dump_controllers, 1);
	assert_string_equal(d.cgroup_dump_controllers[0], "pids");
	assert_non_null(strstr(d.cgroup_props, "replace"));
	assert_string_equal(d.cgroup_props_file, "/etc/props");
	criu_opts_fini(&o);

	/* Without a mode: soft, CRIU's default; the RPC's numbers too. */
	criu_opts_init(&o);
	assert_int_equal(criu_opts_set(&o, "manage-cgroups", NULL), 0);
	assert_int_equal(o.manage_cgroups, OC_CGROUP_SOFT);
	assert_int_equal(criu_opts_set(&o, "manage-cgroups", "5"), 0);
	assert_int_equal(o.manage_cgroups, OC_CGROUP_STRICT);
	assert_int_equal(criu_opts_set(&o, "manage-cgroups", "0"), 0);
	assert_int_equal(o.manage_cgroups, OC_CGROUP_IGNORE);
	assert_int_equal(criu_opts_set(&o, "manage-cgroups", "hard"), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "--manage-cgroups: hard"));
	assert_int_equal(criu_opts_set(&o, "cgroup-root", "cpu:relative"), -EINVAL);
	criu_opts_fini(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_proc_hybrid), cmocka_unit_test(test_parse_proc_bad),
		cmocka_unit_test(test_ns_prefix),	  cmocka_unit_test(test_cgroup_root_and_rebase),
		cmocka_unit_test(test_modes_and_props),	  cmocka_unit_test(test_criu_options),
		cmocka_unit_test(test_cgroup_props),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
