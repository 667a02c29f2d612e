// SPDX-License-Identifier: GPL-2.0-or-later
/* ocicr restore: bring a checkpointed tree back (CRIU's option names). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ocicr.h"
#include "oci/cli.h"
#include "core/cleanup.h"

static void restore_usage(FILE *out)
{
	fprintf(out,
		"Usage: ocicr restore -D DIR [OPTIONS]\n\n"
		"Restore the process tree checkpointed in DIR, with its original pids.\n"
		"Without -d, wait for the restored tree's root to exit and exit with its status.\n\n"
		"  -D, --images-dir DIR       the images directory\n"
		"  -d, --restore-detached     return once the tree runs\n"
		"      --pidfile FILE         write the root's pid to FILE\n"
		"  -j, --shell-job            the tree was a shell job\n"
		"      --plan-only            print the restore plan and restore nothing\n"
		"  -o, --log-file FILE        log file, relative to DIR (default restore.log; - for stderr)\n"
		"  -v[0-4]                    log verbosity (default 3); -v, -vv... raise it by one a v\n"
		"  -h, --help                 this help\n");
}

enum { OPT_PIDFILE = 256, OPT_PLAN_ONLY };

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
	pf->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	pf->created = pf->fd >= 0;
	if (pf->fd < 0 && errno == EEXIST)
		pf->fd = open(path, O_WRONLY | O_CLOEXEC);
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
	if (pf->created)
		unlink(pf->path);
}

int cmd_restore(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "images-dir", required_argument, NULL, 'D' },
		{ "restore-detached", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "shell-job", no_argument, NULL, 'j' },
		{ "plan-only", no_argument, NULL, OPT_PLAN_ONLY },
		{ "log-file", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct oc_restore_opts o = OC_OPTS(oc_restore_opts);
	struct cli_log_opts log = { .name = "restore.log", .verbosity = OC_LOG_INFO };
	_cleanup_(pidfile_abandon) struct pidfile pf = { .fd = -1 };
	const char *pidfile = NULL;
	struct stat st;
	bool wait_root;
	int st_root;
	int c, r;
	pid_t root = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "D:djo:v::h", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			o.images_dir = optarg;
			break;
		case 'd':
			o.detach = true;
			break;
		case OPT_PIDFILE:
			pidfile = optarg;
			break;
		case 'j':
			o.shell_job = true;
			break;
		case OPT_PLAN_ONLY:
			o.plan_only = true;
			o.plan_out = stdout;
			break;
		case 'h':
			restore_usage(stdout);
			return EXIT_OK;
		default:
			r = cli_log_option(&log, "restore", c, optarg);
			if (r <= 0)
				return r < 0 ? EXIT_USAGE : cli_usage_error("restore", "bad option");
		}
	}
	if (optind != argc)
		return cli_usage_error("restore", "unexpected argument '%s'", argv[optind]);
	if (!o.images_dir)
		return cli_usage_error("restore", "-D DIR is required");
	/* Before the log, which would otherwise be what fails to open. */
	if (stat(o.images_dir, &st) < 0)
		return cli_fail(-errno, "images directory %s", o.images_dir);
	if (!S_ISDIR(st.st_mode))
		return cli_fail(-ENOTDIR, "images directory %s", o.images_dir);

	if (pidfile && !o.plan_only) {
		r = pidfile_open(&pf, pidfile);
		if (r < 0)
			return cli_fail(r, "cannot open pid file %s", pidfile);
	}
	if (!o.plan_only && cli_log_open(o.images_dir, &log) < 0)
		return EXIT_FAIL;
	/* The engine returns once the tree runs; the root is our child, and
	 * waiting for it here lets Ctrl-C end ocicr again meanwhile. */
	wait_root = !o.detach;
	o.detach = true;
	cli_hold_signals();
	o.interrupted = cli_held_signal;
	r = cli_log_close(oc_restore(&o, &root));
	if (r < 0)
		return cli_fail(r, "restore from %s failed", o.images_dir);
	if (o.plan_only)
		return EXIT_OK;
	/* A failure here is reported, not undone: the tree runs. */
	if (pf.fd >= 0 && (r = pidfile_commit(&pf, root)) < 0)
		fprintf(stderr, "ocicr: warning: cannot write pid %d to %s: %s\n", root, pidfile, strerror(-r));
	if (!wait_root)
		return EXIT_OK;
	/* Waiting stops at a signal, held or new, as it always would. */
	cli_release_signals(false);
	while (waitpid(root, &st_root, 0) < 0)
		if (errno != EINTR)
			return cli_fail(-errno, "waiting for the restored task %d", root);
	/* The root's exit, as a shell reports it. */
	if (WIFEXITED(st_root))
		return WEXITSTATUS(st_root);
	return 128 + WTERMSIG(st_root);
}
