// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dump and restore from parsed CRIU options, for both front ends: `criu`
 * (CRIU's conventions: work directory, log to stderr by default, restore
 * exits 0) and `ocicr dump/restore` (a log in the images directory, restore
 * exits with the root's status).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hooks/action_script.h"
#include "oci/cli.h"
#include "oci/criu/criu.h"
#include "ocicr/cleanup.h"

int criu_ocicr_parse(struct criu_opts *o, const char *cmd, int argc, char **argv, void (*usage)(FILE *out))
{
	int first;

	criu_opts_init(o);
	o->ocicr = true;
	o->verbosity = OC_LOG_INFO;
	if (criu_parse_args(o, argc, argv, &first) < 0)
		return cli_usage_error(cmd, "%s", oc_error_message());
	if (o->help) {
		usage(stdout);
		return EXIT_OK;
	}
	if (first != argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[first]);
	return -1;
}

/*
 * --pidfile opens before the restore, so that a path that cannot be written
 * fails before any task exists; until the pid is in it, a file it created
 * goes again when restore returns.
 */
struct pidfile {
	const char *path;
	int fd;
	bool created;
};

static int pidfile_open(struct pidfile *pf, const char *path)
{
	pf->path = path;
	/* never through a planted symlink; a new file is 0600 */
	pf->fd = oc_create_private_file(path, false);
	pf->created = pf->fd >= 0;
	if (pf->fd == -EEXIST) {
		struct stat st;
		pf->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
		if (pf->fd >= 0 && (fstat(pf->fd, &st) < 0 || !S_ISREG(st.st_mode))) {
			close(pf->fd);
			pf->fd = -1;
			errno = EINVAL;
		}
	}
	return pf->fd < 0 ? -errno : 0;
}

/* Write @pid and keep the file, written or not: the tree runs by now. */
static int pidfile_commit(struct pidfile *pf, pid_t pid)
{
	_cleanup_close_ int fd = pf->fd;
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d", pid);

	pf->fd = -1;
	if (ftruncate(fd, 0) < 0)
		return -errno;
	if (write(fd, buf, n) != n)
		return errno ? -errno : -EIO;
	return 0;
}

static void pidfile_abandon(struct pidfile *pf)
{
	if (pf->fd < 0)
		return;
	close(pf->fd);
	pf->fd = -1;
	if (pf->created)
		unlink(pf->path);
}

/*
 * The directories and the log, as each front end has them.  The images
 * directory becomes absolute: the criu front end then moves into the work
 * directory, as CRIU does (a relative log file and pid file are under it).
 */
struct run_env {
	char images_dir[PATH_MAX];
	struct pidfile pf;
	struct cli_log_opts log;
	struct action_scripts scripts;
};

/* A dump makes its images directory; a restore needs it there. */
static int check_images_dir(const char *images, bool create)
{
	struct stat st;

	if (create && mkdir(images, 0700) < 0 && errno != EEXIST)
		return cli_fail(-errno, "cannot create %s", images);
	/* Before the log, which would otherwise be what fails to open. */
	if (stat(images, &st) < 0)
		return cli_fail(-errno, "images directory %s", images);
	if (!S_ISDIR(st.st_mode))
		return cli_fail(-ENOTDIR, "images directory %s", images);
	return 0;
}

/* @pidfile: restore's, NULL for a dump (where CRIU ignores it too). */
static int run_env_open(struct run_env *env, const struct criu_opts *o, bool create, const char *ocicr_log,
			const char *pidfile)
{
	const char *images = criu_opts_images_dir(o), *work = criu_opts_work_dir(o);
	int r = check_images_dir(images, create);

	env->pf.fd = -1;
	if (r)
		return r;
	if (!realpath(images, env->images_dir))
		return cli_fail(-errno, "images directory %s", images);
	if (!o->ocicr && chdir(work) < 0)
		return cli_fail(-errno, "cannot change into the work directory %s", work);
	/* Before the log: a restore that cannot write its pid never begins. */
	if (pidfile && (r = pidfile_open(&env->pf, pidfile)) < 0)
		return cli_fail(r, "cannot open pid file %s", pidfile);

	env->log.verbosity = o->verbosity > OC_LOG_DEBUG ? OC_LOG_DEBUG : o->verbosity;
	env->log.name = o->log_file ? o->log_file : o->ocicr ? ocicr_log : "-";
	/* criu: a relative log is in the work dir, the cwd by now. */
	if (cli_log_open(o->ocicr ? work : NULL, &env->log) < 0) {
		pidfile_abandon(&env->pf);
		return EXIT_FAIL;
	}
	r = action_scripts_init(&env->scripts, o->action_scripts.v, o->action_scripts.n, env->images_dir, cli_log_fd());
	if (r < 0) {
		cli_log_close(r);
		pidfile_abandon(&env->pf);
		return cli_fail(r, "--action-script");
	}
	return 0;
}

static void run_env_close(struct run_env *env)
{
	action_scripts_fini(&env->scripts);
}

/*
 * Options that cannot run (refused, or missing a value) still leave the log
 * CRIU would have written, with the reason in it: callers such as zdtm read
 * that log whatever the outcome.  Best effort: the reason is what counts.
 */
static int fail_logged(int err, const struct criu_opts *o, bool create, const char *ocicr_log, const char *what)
{
	char msg[1024];
	struct run_env env = {};

	snprintf(msg, sizeof(msg), "%s", oc_error_message());
	if (run_env_open(&env, o, create, ocicr_log, NULL) == 0) {
		oc_error(err, "%s", msg);
		cli_log_close(err);
		run_env_close(&env);
	}
	oc_error(err, "%s", msg);
	return cli_fail(err, "%s", what);
}

/* --display-stats: CRIU's summary of the stats image just written. */
static void display_stats(const char *images_dir, bool restore)
{
	struct oc_dump_stats d;
	struct oc_restore_stats r;

	if (oc_stats_read(images_dir, restore, &d, &r) < 0) {
		fprintf(stderr, "ocicr: cannot read the stats image: %s\n", oc_error_message());
		return;
	}
	if (!restore) {
		printf("Displaying dump stats:\nFreezing time: %u us\nFrozen time: %u us\n"
		       "Memory dump time: %u us\nMemory write time: %u us\n",
		       d.freezing_us, d.frozen_us, d.memdump_us, d.memwrite_us);
		printf("Memory pages scanned: %" PRIu64 " (0x%" PRIx64 ")\n", d.pages_scanned, d.pages_scanned);
		printf("Memory pages skipped from parent: %" PRIu64 " (0x%" PRIx64 ")\n", d.pages_skipped_parent,
		       d.pages_skipped_parent);
		printf("Memory pages written: %" PRIu64 " (0x%" PRIx64 ")\n", d.pages_written, d.pages_written);
		printf("Lazy memory pages: %" PRIu64 " (0x%" PRIx64 ")\n", d.pages_lazy, d.pages_lazy);
	} else {
		printf("Displaying restore stats:\n");
		printf("Pages compared: %" PRIu64 " (0x%" PRIx64 ")\n", r.pages_compared, r.pages_compared);
		printf("Pages skipped COW: %" PRIu64 " (0x%" PRIx64 ")\n", r.pages_skipped_cow, r.pages_skipped_cow);
		if (r.has_pages_restored)
			printf("Pages restored: %" PRIu64 " (0x%" PRIx64 ")\n", r.pages_restored, r.pages_restored);
		printf("Restore time: %u us\nForking time: %u us\n", r.restore_us, r.forking_us);
	}
	fflush(stdout);
}

static int run_dump(void *arg)
{
	const struct criu_opts *o = arg;
	struct oc_dump_opts d = OC_OPTS(oc_dump_opts);
	struct run_env env = {};
	int r = criu_opts_to_dump(o, &d);

	if (r < 0)
		return fail_logged(r, o, true, "dump.log", "dump");
	r = run_env_open(&env, o, true, "dump.log", NULL);
	if (r)
		return r;
	d.images_dir = env.images_dir;
	d.no_snapshot = d.no_snapshot || o->no_snapshot;
	if (o->action_scripts.n) {
		d.notify = action_scripts_notify;
		d.notify_data = &env.scripts;
	}
	cli_hold_signals();
	d.interrupted = cli_held_signal;
	r = cli_log_close(oc_dump(&d));
	run_env_close(&env);
	if (r < 0)
		return cli_fail(r, "dump of %d failed", d.pid);
	if (o->display_stats)
		display_stats(env.images_dir, false);
	return EXIT_OK;
}

int criu_run_dump(const struct criu_opts *o)
{
	return cli_guarded("dump", run_dump, (void *)o);
}

/* Without -d: wait for the root, which is ours (a signal ends the wait). */
static int wait_root(const struct criu_opts *o, pid_t root)
{
	int st;

	cli_release_signals(false);
	while (waitpid(root, &st, 0) < 0)
		if (errno != EINTR)
			return cli_fail(-errno, "waiting for the restored task %d", root);
	/* CRIU exits 0 once the tree is gone; ocicr with the root's status,
	 * as a shell reports it. */
	if (!o->ocicr)
		return EXIT_OK;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

int criu_run_restore(const struct criu_opts *o)
{
	struct oc_restore_opts ro = OC_OPTS(oc_restore_opts);
	struct run_env env = {};
	pid_t root = 0;
	int r = criu_opts_to_restore(o, &ro);

	if (r < 0)
		return o->plan_only ? cli_fail(r, "restore") : fail_logged(r, o, false, "restore.log", "restore");
	if (o->plan_only) {
		if ((r = check_images_dir(ro.images_dir, false)))
			return r;
		ro.plan_only = true;
		ro.plan_out = stdout;
		r = oc_restore(&ro, NULL);
		return r < 0 ? cli_fail(r, "restore from %s failed", ro.images_dir) : EXIT_OK;
	}
	r = run_env_open(&env, o, false, "restore.log", o->pidfile);
	if (r)
		return r;
	ro.images_dir = env.images_dir;
	if (o->action_scripts.n) {
		ro.notify = action_scripts_notify;
		ro.notify_data = &env.scripts;
	}
	/* The engine returns once the tree runs: waiting for the root here
	 * lets Ctrl-C end ocicr again meanwhile. */
	ro.detach = true;
	cli_hold_signals();
	ro.interrupted = cli_held_signal;
	r = cli_log_close(oc_restore(&ro, &root));
	run_env_close(&env);
	if (r < 0) {
		pidfile_abandon(&env.pf);
		return cli_fail(r, "restore from %s failed", ro.images_dir);
	}
	/* A failure here is reported, not undone: the tree runs. */
	if (env.pf.fd >= 0 && (r = pidfile_commit(&env.pf, root)) < 0)
		fprintf(stderr, "ocicr: warning: cannot write pid %d to %s: %s\n", root, o->pidfile, strerror(-r));
	if (o->display_stats)
		display_stats(env.images_dir, true);
	if (o->restore_detached)
		return EXIT_OK;
	return wait_root(o, root);
}
