// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ocicr called as `criu`: CRIU 4.2's command line (actions, options,
 * configuration files), run by ocicr.  Exit codes are CRIU's: 0, or 1 for
 * any failure including a bad command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocicr.h"
#include "oci/cli.h"
#include "oci/criu/criu.h"

static void criu_usage(FILE *out)
{
	fprintf(out,
		"Usage:\n"
		"  criu dump -t PID [<options>]\n"
		"  criu restore [<options>]\n"
		"  criu check [--feature FEAT] [--extra] [--experimental] [--all]\n"
		"  criu swrk FD\n"
		"  criu --version\n"
		"\n"
		"ocicr %s speaking CRIU %s's command line.  Actions:\n"
		"  dump           checkpoint the process tree rooted at PID\n"
		"  restore        restore a process tree\n"
		"  check          say what ocicr supports on this kernel\n"
		"  swrk FD        serve CRIU's RPC on the socket FD (runc, podman, libcriu)\n"
		"  pre-dump, page-server, lazy-pages, cpuinfo dump|check, service, dedup:\n"
		"                 not supported by ocicr yet\n"
		"\n"
		"Main options (every CRIU 4.2 option is recognised; the ones ocicr does not\n"
		"implement yet fail with \"not supported by ocicr yet: --OPTION\"):\n"
		"  -t|--tree PID            the root of the tree to dump\n"
		"  -D|--images-dir DIR      images directory (default .)\n"
		"  -W|--work-dir DIR        where logs and pid files go (default: DIR)\n"
		"  -o|--log-file FILE       log file, in the work dir (default: stderr)\n"
		"  -v[0-4]|--verbosity=N    log level (default 2); -v, -vv raise it\n"
		"  -R|--leave-running       dump: let the tree run on\n"
		"  -s|--leave-stopped       dump and restore: leave the tree stopped\n"
		"  -d|--restore-detached    restore: return once the tree runs\n"
		"  -S|--restore-sibling     restore: the root becomes our parent's child (needs -d)\n"
		"  --pidfile FILE           restore: write the root's pid to FILE\n"
		"  -j|--shell-job           the tree is a shell job\n"
		"  --external tty[RDEV:DEV] dump: a terminal outside the tree (hex)\n"
		"  --inherit-fd fd[N]:KEY   restore: our fd N stands in for KEY (pipe:[INODE],\n"
		"                           tty[RDEV:DEV], a file's path, a namespace key)\n"
		"  -l|--file-locks          dump file locks\n"
		"  --timeout N              dump: seconds a task may take to freeze (default 10)\n"
		"  --ghost-limit SIZE       dump: largest unlinked file saved (default 64M)\n"
		"  -x|--ext-unix-sk         datagram sockets connected to named ones outside the tree\n"
		"  --link-remap             a file open by a removed name that has another keeps its inode\n"
		"  --freeze-cgroup DIR      dump: freeze through this freezer cgroup\n"
		"  --manage-cgroups[=MODE]  none, props, soft (default), full, strict, ignore\n"
		"  --cgroup-root [CTRL:]PATH  restore: the tree's cgroups go under PATH\n"
		"  --tcp-established        dump and restore established TCP connections\n"
		"  --tcp-close              restore TCP connections closed\n"
		"  --skip-in-flight         dump: leave out connections not yet accepted\n"
		"  --network-lock METHOD    dump: nftables (default), iptables or skip\n"
		"  --action-script FILE     run FILE at each notify point (CRTOOLS_SCRIPT_ACTION)\n"
		"  --display-stats          print the dump or restore statistics\n"
		"  --config FILE            read options from FILE (instead of the default files)\n"
		"  --no-default-config      skip /etc/criu/default.conf and ~/.criu/default.conf\n"
		"  -V|--version             print the version\n"
		"  -h|--help                this help\n"
		"\nSee ocicr(1), section CRIU-COMPATIBLE COMMAND LINE.\n",
		oc_version(), CRIU_COMPAT_VERSION);
}

static int not_yet(const char *what)
{
	fprintf(stderr, "Error: not supported by ocicr yet: %s\n", what);
	return EXIT_FAIL;
}

/* swrk is the RPC service's: `ocicr swrk FD` where it exists. */
static int criu_swrk(int argc, char **argv)
{
	const struct cli_command *swrk = cli_command_find("swrk");

	if (argc != 2) {
		fprintf(stderr, "Usage: criu swrk <fd>\n");
		return EXIT_FAIL;
	}
	if (!swrk)
		return not_yet("swrk (the RPC service)");
	return swrk->run(argc, argv);
}

static int run_action(const struct criu_opts *o, int argc, char **argv)
{
	const char *action = argv[0];

	if (!strcmp(action, "cpuinfo")) {
		if (argc != 2 || (strcmp(argv[1], "dump") && strcmp(argv[1], "check"))) {
			fprintf(stderr, "Error: cpuinfo requires an action: dump or check\n");
			return EXIT_FAIL;
		}
		return not_yet(!strcmp(argv[1], "dump") ? "cpuinfo dump" : "cpuinfo check");
	}
	if (argc > 1) {
		fprintf(stderr, "Error: excessive parameters for command %s\n", action);
		return EXIT_FAIL;
	}
	if (!strcmp(action, "dump"))
		return criu_run_dump(o);
	if (!strcmp(action, "restore"))
		return criu_run_restore(o);
	if (!strcmp(action, "check"))
		return criu_check(o);
	if (!strcmp(action, "pre-dump"))
		return not_yet("pre-dump (no memory tracking)");
	if (!strcmp(action, "page-server") || !strcmp(action, "lazy-pages") || !strcmp(action, "service") ||
	    !strcmp(action, "dedup"))
		return not_yet(action);
	if (!strcmp(action, "exec") || !strcmp(action, "show")) {
		fprintf(stderr, "Error: the \"%s\" action is deprecated (CRIU dropped it too)\n", action);
		return EXIT_FAIL;
	}
	fprintf(stderr, "Error: unknown command: %s\n", action);
	criu_usage(stderr);
	return EXIT_FAIL;
}

int criu_main(int argc, char **argv)
{
	struct criu_opts o;
	int first, r;

	if (argc < 2) {
		criu_usage(stderr);
		return EXIT_FAIL;
	}
	/* swrk takes no options: its fd is all (runc runs `criu swrk 3`). */
	if (!strcmp(argv[1], "swrk"))
		return criu_swrk(argc - 1, argv + 1);
	/* -h anywhere wins, even over a broken configuration file. */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			criu_usage(stdout);
			return EXIT_OK;
		}

	criu_opts_init(&o);
	r = criu_parse(&o, argc, argv, &first);
	if (r < 0) {
		fprintf(stderr, "Error: %s\n", oc_error_message());
		criu_opts_fini(&o);
		return EXIT_FAIL;
	}
	if (o.version) {
		/* CRIU's two lines; the GitID says which ocicr it is. */
		printf("Version: %s\nGitID: ocicr-%s\n", CRIU_COMPAT_VERSION, oc_version());
		r = EXIT_OK;
	} else if (o.help) {
		criu_usage(stdout);
		r = EXIT_OK;
	} else if (first >= argc) {
		fprintf(stderr, "Error: command is required\n");
		criu_usage(stderr);
		r = EXIT_FAIL;
	} else {
		r = run_action(&o, argc - first, argv + first);
	}
	criu_opts_fini(&o);
	return r;
}
