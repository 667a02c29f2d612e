// SPDX-License-Identifier: GPL-2.0-or-later
/* ocicr dump: checkpoint a process tree (CRIU's option names). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "ocicr.h"
#include "oci/cli.h"

static void dump_usage(FILE *out)
{
	fprintf(out,
		"Usage: ocicr dump -t PID -D DIR [OPTIONS]\n\n"
		"Checkpoint the process tree rooted at PID into the images directory DIR.\n"
		"By default the tree is killed once the dump succeeded.\n\n"
		"  -t, --tree PID          root of the tree to dump\n"
		"  -D, --images-dir DIR    where to write the images (created if missing)\n"
		"  -R, --leave-running     let the tree run on after the dump; its memory is then\n"
		"                          read from a copy-on-write snapshot after it resumed\n"
		"      --no-snapshot       with -R: read memory while the tree is frozen instead\n"
		"  -j, --shell-job         the tree belongs to a shell job (controlling tty)\n"
		"  -l, --file-locks        dump file locks\n"
		"  -o, --log-file FILE     log file, relative to DIR (default dump.log; - for stderr)\n"
		"  -v[0-4]                 log verbosity (default 3); -v, -vv... raise it by one a v\n"
		"  -h, --help              this help\n");
}

int cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tree", required_argument, NULL, 't' },
		{ "images-dir", required_argument, NULL, 'D' },
		{ "leave-running", no_argument, NULL, 'R' },
		{ "no-snapshot", no_argument, NULL, 'S' },
		{ "shell-job", no_argument, NULL, 'j' },
		{ "file-locks", no_argument, NULL, 'l' },
		{ "log-file", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct oc_dump_opts o = OC_OPTS(oc_dump_opts);
	struct cli_log_opts log = { .name = "dump.log", .verbosity = OC_LOG_INFO };
	long pid;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:D:Rjlo:v::h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (cli_parse_number(optarg, INT_MAX, &pid) < 0 || pid == 0)
				return cli_usage_error("dump", "-t: '%s' is not a pid", optarg);
			o.pid = (pid_t)pid;
			break;
		case 'D':
			o.images_dir = optarg;
			break;
		case 'R':
			o.leave_running = true;
			break;
		case 'S':
			o.no_snapshot = true;
			break;
		case 'j':
			o.shell_job = true;
			break;
		case 'l':
			o.file_locks = true;
			break;
		case 'h':
			dump_usage(stdout);
			return EXIT_OK;
		default:
			r = cli_log_option(&log, "dump", c, optarg);
			if (r <= 0)
				return r < 0 ? EXIT_USAGE : cli_usage_error("dump", "bad option");
		}
	}
	if (optind != argc)
		return cli_usage_error("dump", "unexpected argument '%s'", argv[optind]);
	if (o.pid <= 0)
		return cli_usage_error("dump", "-t PID is required");
	if (!o.images_dir)
		return cli_usage_error("dump", "-D DIR is required");

	if (mkdir(o.images_dir, 0700) < 0 && errno != EEXIST)
		return cli_fail(-errno, "cannot create %s", o.images_dir);
	if (cli_log_open(o.images_dir, &log) < 0)
		return EXIT_FAIL;
	cli_hold_signals();
	o.interrupted = cli_held_signal;
	r = cli_log_close(oc_dump(&o));
	if (r < 0)
		return cli_fail(r, "dump of %d failed", o.pid);
	return EXIT_OK;
}
