// SPDX-License-Identifier: GPL-2.0-or-later
/* CRIU's command line: option forms, -v, refused options, config files, the engine mapping. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "oci/criu/opts.h"
#include "core/error.h"

#define ARGV(...)	     ((char *[]){ "criu", __VA_ARGS__, NULL })
#define ARGC(...)	     ((int)(sizeof((char *[]){ "criu", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, first, ...) criu_parse_args(o, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), first)

static void test_long_short_and_joined_forms(void **state)
{
	struct criu_opts o;
	int first;

	(void)state;
	criu_opts_init(&o);
	assert_int_equal(PARSE(&o, &first, "dump", "--tree=42", "-D", "/img", "--work-dir=/w", "-o", "d.log",
			       "--pidfile", "/p", "-j", "--file-locks", "-R", "--timeout=3", "--action-script", "/a",
			       "--action-script=/b"),
			 0);
	assert_int_equal(o.tree, 42);
	assert_string_equal(o.images_dir, "/img");
	assert_string_equal(o.work_dir, "/w");
	assert_string_equal(o.log_file, "d.log");
	assert_string_equal(o.pidfile, "/p");
	assert_true(o.shell_job);
	assert_true(o.file_locks);
	assert_int_equal(o.final_state, CRIU_FINAL_ALIVE);
	assert_int_equal(o.timeout, 3);
	assert_int_equal(o.action_scripts.n, 2);
	assert_string_equal(o.action_scripts.v[1], "/b");
	/* The action is left as the first operand. */
	assert_int_equal(first, ARGC("dump", "--tree=42", "-D", "/img", "--work-dir=/w", "-o", "d.log", "--pidfile",
				     "/p", "-j", "--file-locks", "-R", "--timeout=3", "--action-script", "/a",
				     "--action-script=/b") -
					1);
	criu_opts_fini(&o);

	/* Short options with attached values, options after the action, the
	 * last of -R and -s wins, --no- forms clear. */
	criu_opts_init(&o);
	assert_int_equal(
		PARSE(&o, &first, "restore", "-D/x", "-t7", "-R", "-s", "-dS", "--shell-job", "--no-shell-job"), 0);
	assert_string_equal(o.images_dir, "/x");
	assert_int_equal(o.tree, 7);
	assert_int_equal(o.final_state, CRIU_FINAL_STOPPED);
	assert_true(o.restore_detached);
	assert_true(o.restore_sibling);
	assert_false(o.shell_job);
	criu_opts_fini(&o);
}

static void test_verbosity_as_criu(void **state)
{
	struct {
		const char *arg;
		int level;
	} cases[] = {
		{ "-v", 3 },
		{ "-vv", 4 },
		{ "-vvv", 5 },
		{ "-v0", 0 },
		{ "-v4", 4 },
		{ "--verbosity=1", 1 },
		{ "--verbosity", 3 },
		/* zdtm's spelling: -v with the argument "erbosity=0", read as 0 */
		{ "-verbosity=0", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct criu_opts o;
		criu_opts_init(&o);
		assert_int_equal(o.verbosity, CRIU_DEFAULT_VERBOSITY);
		assert_int_equal(PARSE(&o, NULL, (char *)cases[i].arg), 0);
		assert_int_equal(o.verbosity, cases[i].level);
		criu_opts_fini(&o);
	}
}

static void test_unsupported_refused_by_name(void **state)
{
	struct criu_opts o;
	struct oc_dump_opts d = OC_OPTS(oc_dump_opts);

	(void)state;
	criu_opts_init(&o);
	/* Parsed (with values), then refused by their own names, the first first. */
	assert_int_equal(PARSE(&o, NULL, "-t", "1", "--external=mnt[/x]:y", "--page-server", "-x", "--root", "/r",
			       "--no-link-remap"),
			 0);
	/* -x (--ext-unix-sk) is ocicr's now. */
	assert_int_equal(o.unsupported.n, 1);
	assert_true(o.ext_unix_sk);
	assert_int_equal(criu_opts_to_dump(&o, &d), -EOPNOTSUPP);
	assert_string_equal(oc_error_message(), "not supported by ocicr yet: --page-server (the page server)");
	criu_opts_fini(&o);

	/* Externals: mnt[] ones (and --ext-mount-map's) reach the engine;
	 * other kinds are refused by kind when the dump would need them. */
	criu_opts_init(&o);
	assert_int_equal(PARSE(&o, NULL, "-t", "1", "--external=mnt[/x]:y", "-M", "/a:b", "--root", "/r"), 0);
	d = OC_OPTS(oc_dump_opts);
	assert_int_equal(criu_opts_to_dump(&o, &d), 0);
	assert_int_equal(d.n_externals, 2);
	assert_string_equal(d.externals[0], "mnt[/x]:y");
	assert_string_equal(d.externals[1], "mnt[/a]:b");
	criu_opts_fini(&o);
	/* A pid namespace, as runc names one given by path. */
	criu_opts_init(&o);
	assert_int_equal(PARSE(&o, NULL, "-t", "1", "--external=pid[4026532238]:extRootPidNS"), 0);
	d = OC_OPTS(oc_dump_opts);
	assert_int_equal(criu_opts_to_dump(&o, &d), 0);
	assert_int_equal(d.n_externals, 1);
	assert_string_equal(d.externals[0], "pid[4026532238]:extRootPidNS");
	criu_opts_fini(&o);
	criu_opts_init(&o);
	assert_int_equal(PARSE(&o, NULL, "-t", "1", "--external=dev[1/2]:x"), 0);
	d = OC_OPTS(oc_dump_opts);
	assert_int_equal(criu_opts_to_dump(&o, &d), -EOPNOTSUPP);
	assert_string_equal(oc_error_message(),
			    "not supported by ocicr yet: --external dev[1/2]:x (external resources of this kind)");
	assert_int_equal(PARSE(&o, NULL, "--external=mnt[nobrackets"), -EINVAL);
	assert_int_equal(PARSE(&o, NULL, "--external=pid[4026532238]"), -EINVAL);
	assert_int_equal(PARSE(&o, NULL, "--ext-mount-map=nocolon"), -EINVAL);
	criu_opts_fini(&o);
	/* --ext-unix-sk=INODE, a stream socket by inode, is refused. */
	criu_opts_init(&o);
	assert_int_equal(PARSE(&o, NULL, "--ext-unix-sk=77"), -EOPNOTSUPP);
	assert_non_null(strstr(oc_error_message(), "not supported by ocicr yet: --ext-unix-sk=77"));
	criu_opts_fini(&o);

	const char *refused[] = { "--stream", "--track-mem", "--prev-images-dir=../p", "--lazy-pages", "-L/lib" };
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		criu_opts_init(&o);
		assert_int_equal(PARSE(&o, NULL, (char *)refused[i]), 0);
		assert_int_equal(criu_opts_refuse(&o), -EOPNOTSUPP);
		assert_non_null(strstr(oc_error_message(), "not supported by ocicr yet: --"));
		criu_opts_fini(&o);
	}
}

static void test_inherit_fd_and_external_tty(void **state)
{
	struct criu_opts o;
	struct oc_dump_opts d = OC_OPTS(oc_dump_opts);
	struct oc_restore_opts r = OC_OPTS(oc_restore_opts);

	(void)state;
	criu_opts_init(&o);
	assert_int_equal(PARSE(&o, NULL, "--inherit-fd", "fd[0]:pipe:[123]", "--inherit-fd=fd[7]:tty[8800:1a]",
			       "--inherit-fd", "fd[4]:extRootNetNS"),
			 0);
	assert_int_equal(criu_opts_to_restore(&o, &r), 0);
	assert_int_equal(r.n_inherit_fds, 3);
	assert_int_equal(r.inherit_fds[0].fd, 0);
	assert_string_equal(r.inherit_fds[0].key, "pipe:[123]");
	assert_int_equal(r.inherit_fds[1].fd, 7);
	assert_string_equal(r.inherit_fds[1].key, "tty[8800:1a]");
	assert_string_equal(r.inherit_fds[2].key, "extRootNetNS");
	/* CRIU: a restore-only option. */
	o.tree = 1;
	assert_int_equal(criu_opts_to_dump(&o, &d), -EINVAL);
	assert_string_equal(oc_error_message(), "--inherit-fd is for a restore only");
	criu_opts_fini(&o);

	const char *bad[] = { "fd[1]", "fd[]:k", "fd[x]:k", "1:k", "fd[1]:", "fd[-1]:k", "fd[1]x:k" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		criu_opts_init(&o);
		assert_int_equal(criu_opts_set(&o, "inherit-fd", bad[i]), -EINVAL);
		assert_non_null(strstr(oc_error_message(), "--inherit-fd"));
		criu_opts_fini(&o);
	}

	criu_opts_init(&o);
	assert_int_equal(PARSE(&o, NULL, "-t", "5", "--external", "tty[8801:1a]"), 0);
	d = OC_OPTS(oc_dump_opts);
	assert_int_equal(criu_opts_to_dump(&o, &d), 0);
	assert_int_equal(d.n_externals, 1);
	assert_string_equal(d.externals[0], "tty[8801:1a]");
	assert_int_equal(PARSE(&o, NULL, "--external", "tty[88:zz]"), 0);
	assert_int_equal(criu_opts_to_dump(&o, &d), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "tty[RDEV:DEV]"));
	criu_opts_fini(&o);

	/* --veth-pair IN=OUT[@BRIDGE] is the external veth[IN]:OUT[@BRIDGE]. */
	criu_opts_init(&o);
	r = OC_OPTS(oc_restore_opts);
	assert_int_equal(PARSE(&o, NULL, "--veth-pair", "v0=h0@br0", "--external", "veth[v1]:h1", "--external",
			       "macvlan[mv0]:eth0"),
			 0);
	assert_int_equal(criu_opts_to_restore(&o, &r), 0);
	assert_int_equal(r.n_externals, 3);
	assert_string_equal(r.externals[0], "veth[v0]:h0@br0");
	assert_string_equal(r.externals[1], "veth[v1]:h1");
	/* a macvlan's lower device outside, as CRIU's macvlan[NAME]:OUTSIDE */
	assert_string_equal(r.externals[2], "macvlan[mv0]:eth0");
	criu_opts_fini(&o);
	/* a device to move in (CRIU's netdev[...]) is not taken yet */
	criu_opts_init(&o);
	r = OC_OPTS(oc_restore_opts);
	assert_int_equal(PARSE(&o, NULL, "--external", "netdev[v0]:h0"), 0);
	assert_int_equal(criu_opts_to_restore(&o, &r), -EOPNOTSUPP);
	criu_opts_fini(&o);
	const char *bad_pairs[] = { "v0", "=h0", "v0=" };
	for (size_t i = 0; i < sizeof(bad_pairs) / sizeof(bad_pairs[0]); i++) {
		criu_opts_init(&o);
		assert_int_equal(criu_opts_set(&o, "veth-pair", bad_pairs[i]), -EINVAL);
		assert_non_null(strstr(oc_error_message(), "IN=OUT[@BRIDGE]"));
		criu_opts_fini(&o);
	}
}

static void test_bad_options(void **state)
{
	struct criu_opts o;

	(void)state;
	criu_opts_init(&o);
	assert_int_equal(PARSE(&o, NULL, "--frobnicate"), -EINVAL);
	assert_int_equal(PARSE(&o, NULL, "-t", "0"), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "invalid argument for --tree: 0"));
	assert_int_equal(PARSE(&o, NULL, "--timeout=soon"), -EINVAL);
	/* Sizes: bytes, K, M, G; nothing else. */
	assert_int_equal(PARSE(&o, NULL, "--ghost-limit=4096"), 0);
	assert_int_equal(o.ghost_limit, 4096);
	assert_int_equal(PARSE(&o, NULL, "--ghost-limit", "9K"), 0);
	assert_int_equal(o.ghost_limit, 9 << 10);
	assert_int_equal(PARSE(&o, NULL, "--ghost-limit=1G"), 0);
	assert_int_equal(o.ghost_limit, 1ull << 30);
	assert_int_equal(PARSE(&o, NULL, "--ghost-limit=2MB"), -EINVAL);
	assert_int_equal(PARSE(&o, NULL, "--ghost-limit=-1"), -EINVAL);
	assert_int_equal(PARSE(&o, NULL, "--ghost-limit=M"), -EINVAL);
	assert_int_equal(PARSE(&o, NULL, "--shell-job=yes"), -EINVAL);
	assert_int_equal(PARSE(&o, NULL, "--tree"), -EINVAL);
	/* ocicr's own options are unknown to criu. */
	assert_int_equal(PARSE(&o, NULL, "--no-snapshot"), -EINVAL);
	criu_opts_fini(&o);
	/* Set by name, as the RPC service does. */
	criu_opts_init(&o);
	assert_int_equal(criu_opts_set(&o, "images-dir", "/i"), 0);
	assert_int_equal(criu_opts_set(&o, "no-restore-sibling", NULL), 0);
	assert_int_equal(criu_opts_set(&o, "tree", NULL), -EINVAL);
	assert_int_equal(criu_opts_set(&o, "nonesuch", NULL), -EINVAL);
	assert_string_equal(o.images_dir, "/i");
	criu_opts_fini(&o);
}

static void test_mapping_onto_the_engine(void **state)
{
	struct criu_opts o;
	struct oc_dump_opts d = OC_OPTS(oc_dump_opts);
	struct oc_restore_opts r = OC_OPTS(oc_restore_opts);

	(void)state;
	criu_opts_init(&o);
	assert_int_equal(criu_opts_to_dump(&o, &d), -EINVAL); /* no -t */
	assert_int_equal(PARSE(&o, NULL, "-t", "5", "-s", "-l", "--action-script=/s"), 0);
	assert_int_equal(criu_opts_to_dump(&o, &d), 0);
	assert_int_equal(d.pid, 5);
	assert_string_equal(d.images_dir, ".");
	assert_true(d.leave_stopped);
	assert_false(d.leave_running);
	assert_true(d.file_locks);
	assert_int_equal(d.freeze_timeout, CRIU_DEFAULT_TIMEOUT);
	assert_true(d.no_snapshot); /* post-dump scripts see the tree frozen */
	assert_false(d.tcp_established);
	assert_int_equal(d.network_lock, OC_NET_LOCK_NFTABLES); /* the default */
	assert_int_equal(
		PARSE(&o, NULL, "--tcp-established", "--skip-in-flight", "--tcp-close", "--network-lock", "skip"), 0);
	assert_int_equal(criu_opts_to_dump(&o, &d), 0);
	assert_true(d.tcp_established && d.skip_in_flight && d.tcp_close);
	assert_int_equal(d.network_lock, OC_NET_LOCK_SKIP);
	assert_int_equal(PARSE(&o, NULL, "--network-lock=2"), 0); /* the RPC's NFTABLES */
	assert_int_equal(criu_opts_to_dump(&o, &d), 0);
	assert_int_equal(d.network_lock, OC_NET_LOCK_NFTABLES);
	assert_int_equal(PARSE(&o, NULL, "--network-lock=bpf"), -EINVAL);

	assert_int_equal(PARSE(&o, NULL, "-S"), 0);
	assert_int_equal(criu_opts_to_restore(&o, &r), -EINVAL); /* -S without -d */
	assert_int_equal(PARSE(&o, NULL, "-d", "-W", "/w"), 0);
	assert_int_equal(criu_opts_to_restore(&o, &r), 0);
	assert_true(r.detach);
	assert_true(r.restore_sibling);
	assert_true(r.leave_stopped);
	assert_true(r.tcp_established && r.tcp_close);
	assert_string_equal(criu_opts_work_dir(&o), "/w");
	criu_opts_fini(&o);
}

static char *write_file(const char *text)
{
	char *path = strdup("/tmp/test_criu_opts.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_config_file_syntax(void **state)
{
	struct criu_opts o;
	char *path = write_file("# a comment\n"
				"\n"
				"   tree 12   # trailing comment\n"
				"shell-job\n"
				"log-file \"my \\\"odd\\\" log\"\n"
				"verbosity 4\n"
				"images-dir\t/imgs\n"
				"tcp-established\n"
				"network-lock iptables\n"
				"page-server\n");

	(void)state;
	criu_opts_init(&o);
	assert_int_equal(criu_opts_apply_config(&o, path, false), 0);
	assert_int_equal(o.tree, 12);
	assert_true(o.shell_job);
	assert_string_equal(o.log_file, "my \"odd\" log");
	assert_int_equal(o.verbosity, 4);
	assert_string_equal(o.images_dir, "/imgs");
	assert_true(o.tcp_established);
	assert_int_equal(o.network_lock, OC_NET_LOCK_IPTABLES);
	assert_int_equal(criu_opts_refuse(&o), -EOPNOTSUPP);
	criu_opts_fini(&o);
	unlink(path);
	free(path);

	const char *bad[] = { "tree 1 2\n", "log-file \"open\n", "frobnicate\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path = write_file(bad[i]);
		criu_opts_init(&o);
		assert_int_equal(criu_opts_apply_config(&o, path, false), -EINVAL);
		assert_non_null(strstr(oc_error_message(), path));
		criu_opts_fini(&o);
		unlink(path);
		free(path);
	}
	criu_opts_init(&o);
	assert_int_equal(criu_opts_apply_config(&o, "/nonexistent/criu.conf", true), 0);
	assert_int_equal(criu_opts_apply_config(&o, "/nonexistent/criu.conf", false), -ENOENT);
	criu_opts_fini(&o);
}

/* Files in CRIU's order, the command line last; --config skips the defaults. */
static void test_config_sources_in_order(void **state)
{
	struct criu_opts o;
	char home[] = "/tmp/test_criu_home.XXXXXX";
	char dir[128], user[160];
	char *env = write_file("log-file env.log\naction-script /env\n");
	char *cfg = write_file("log-file cfg.log\naction-script /cfg\n");
	int first;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(home));
	snprintf(dir, sizeof(dir), "%s/.criu", home);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(user, sizeof(user), "%s/default.conf", dir);
	f = fopen(user, "w");
	assert_non_null(f);
	fputs("log-file user.log\naction-script /user\ntimeout 7\n", f);
	fclose(f);
	setenv("HOME", home, 1);
	unsetenv("CRIU_CONFIG_FILE");

	criu_opts_init(&o);
	assert_int_equal(criu_parse(&o, ARGC("dump"), ARGV("dump"), &first), 0);
	assert_string_equal(o.log_file, "user.log");
	assert_int_equal(o.timeout, 7);
	criu_opts_fini(&o);

	setenv("CRIU_CONFIG_FILE", env, 1);
	criu_opts_init(&o);
	assert_int_equal(criu_parse(&o, ARGC("dump", "-o", "cmd.log"), ARGV("dump", "-o", "cmd.log"), &first), 0);
	assert_string_equal(o.log_file, "cmd.log");
	assert_int_equal(o.action_scripts.n, 2); /* user, then env */
	assert_string_equal(o.action_scripts.v[0], "/user");
	assert_string_equal(o.action_scripts.v[1], "/env");
	criu_opts_fini(&o);

	/* --config: the default files are skipped, the environment's is not. */
	criu_opts_init(&o);
	assert_int_equal(criu_parse(&o, ARGC("dump", "--config", cfg), ARGV("dump", "--config", cfg), &first), 0);
	assert_string_equal(o.log_file, "cfg.log");
	assert_int_equal(o.timeout, CRIU_DEFAULT_TIMEOUT);
	assert_int_equal(o.action_scripts.n, 2);
	assert_string_equal(o.action_scripts.v[0], "/env");
	criu_opts_fini(&o);

	unsetenv("CRIU_CONFIG_FILE");
	criu_opts_init(&o);
	assert_int_equal(
		criu_parse(&o, ARGC("--no-default-config", "dump"), ARGV("--no-default-config", "dump"), &first), 0);
	assert_null(o.log_file);
	criu_opts_fini(&o);

	unlink(user);
	rmdir(dir);
	rmdir(home);
	unlink(env);
	unlink(cfg);
	free(env);
	free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_short_and_joined_forms), cmocka_unit_test(test_verbosity_as_criu),
		cmocka_unit_test(test_unsupported_refused_by_name), cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_mapping_onto_the_engine),	    cmocka_unit_test(test_config_file_syntax),
		cmocka_unit_test(test_config_sources_in_order),	    cmocka_unit_test(test_inherit_fd_and_external_tty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
