// SPDX-License-Identifier: GPL-2.0-or-later
/* ocicr inspect: what is inside a checkpoint, without restoring it. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocicr.h"
#include "oci/cli.h"
#include "oci/inspect/limits.h"
#include "oci/inspect/inspect.h"

#define CONTEXT_MAX 65536

static void inspect_usage(FILE *out)
{
	fprintf(out, "Usage: ocicr inspect [OPTIONS] TARGET\n"
		     "       ocicr inspect --memory PID [--search STRING | --search-regex RE] [--context N]\n"
		     "                     [-o FILE [--raw]] [--format text|json] TARGET\n\n"
		     "Show what a checkpoint holds without restoring it.  TARGET is a checkpoint archive\n"
		     "(podman --export or CRI-O/kubelet; tar, plain, gzip or zstd; - for standard input),\n"
		     "an unpacked one, or an images directory; the kind is found from the content.\n"
		     "Without options: the container's identity and its process tree.\n\n"
		     "      --ps-tree           the process tree (pids, comm)\n"
		     "      --cmdline           each process's command line, read from its memory\n"
		     "      --env               each process's environment, read from its memory\n"
		     "      --files             open files (paths, offsets, flags), cwd, root, executable\n"
		     "      --sockets           sockets (kind, addresses, state)\n"
		     "      --mounts            mounts (spec.dump, or the mount images)\n"
		     "      --stats             dump statistics and memory sizes\n"
		     "      --metadata          annotations, credentials, archive layout, rootfs changes\n"
		     "  -a, --all               all of the above\n"
		     "      --format FORMAT     text (a tree, default) or json (see docs/inspect.md)\n\n"
		     "      --memory PID        dump PID's memory (hexdump-like listing), or search it:\n"
		     "      --search STRING     print each place STRING is found, with its address\n"
		     "      --search-regex RE   the same for an extended regular expression\n"
		     "      --context N         bytes shown either side of a match (default 32)\n"
		     "  -o, --output FILE       write the listing or matches to FILE (mode 0600)\n"
		     "      --raw               with -o: FILE gets the raw bytes, and the address map\n"
		     "                          (address range -> offset in FILE) is printed\n"
		     "\nLimits (archives may come from a compromised container; a cap that is reached\n"
		     "is an error, or a note saying what was left out):\n"
		     "      --max-extract SIZE  bytes written to the temporary directory (default 1G)\n"
		     "      --max-json SIZE     size of config.dump and other JSON members (default 4M)\n"
		     "      --max-names N       entries listed of rootfs-diff.tar (default 10000)\n"
		     "      --time-limit SECS   for the whole inspection, 0 for none (default 300)\n"
		     "  -h, --help              this help\n");
}

static void on_signal(int sig)
{
	/* Leave no extracted memory behind, then die of the signal. */
	oci_inspect_emergency_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

void cli_inspect_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

enum {
	OPT_PS_TREE = 0x100,
	OPT_CMDLINE,
	OPT_ENV,
	OPT_FILES,
	OPT_SOCKETS,
	OPT_MOUNTS,
	OPT_STATS,
	OPT_METADATA,
	OPT_FORMAT,
	OPT_MEMORY,
	OPT_SEARCH,
	OPT_SEARCH_REGEX,
	OPT_CONTEXT,
	OPT_RAW,
	OPT_MAX_EXTRACT,
	OPT_MAX_JSON,
	OPT_MAX_NAMES,
	OPT_TIME_LIMIT,
};

static const struct {
	int opt;
	unsigned show;
} show_opts[] = {
	{ OPT_PS_TREE, OCI_SHOW_PS_TREE }, { OPT_CMDLINE, OCI_SHOW_CMDLINE },	{ OPT_ENV, OCI_SHOW_ENV },
	{ OPT_FILES, OCI_SHOW_FILES },	   { OPT_SOCKETS, OCI_SHOW_SOCKETS },	{ OPT_MOUNTS, OCI_SHOW_MOUNTS },
	{ OPT_STATS, OCI_SHOW_STATS },	   { OPT_METADATA, OCI_SHOW_METADATA }, { 'a', OCI_SHOW_ALL },
};

int cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = { { "ps-tree", no_argument, NULL, OPT_PS_TREE },
					      { "cmdline", no_argument, NULL, OPT_CMDLINE },
					      { "env", no_argument, NULL, OPT_ENV },
					      { "files", no_argument, NULL, OPT_FILES },
					      { "sockets", no_argument, NULL, OPT_SOCKETS },
					      { "mounts", no_argument, NULL, OPT_MOUNTS },
					      { "stats", no_argument, NULL, OPT_STATS },
					      { "metadata", no_argument, NULL, OPT_METADATA },
					      { "all", no_argument, NULL, 'a' },
					      { "format", required_argument, NULL, OPT_FORMAT },
					      { "memory", required_argument, NULL, OPT_MEMORY },
					      { "search", required_argument, NULL, OPT_SEARCH },
					      { "search-regex", required_argument, NULL, OPT_SEARCH_REGEX },
					      { "context", required_argument, NULL, OPT_CONTEXT },
					      { "output", required_argument, NULL, 'o' },
					      { "raw", no_argument, NULL, OPT_RAW },
					      { "max-extract", required_argument, NULL, OPT_MAX_EXTRACT },
					      { "max-json", required_argument, NULL, OPT_MAX_JSON },
					      { "max-names", required_argument, NULL, OPT_MAX_NAMES },
					      { "time-limit", required_argument, NULL, OPT_TIME_LIMIT },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	struct oci_inspect_opts io = { .sz = sizeof(io), .out = stdout };
	struct oci_memory_opts mo = { .sz = sizeof(mo), .context = 32, .out = stdout };
	bool memory = false, context_set = false;
	long v;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ao:h", opts, NULL)) != -1) {
		bool handled = false;
		for (size_t i = 0; i < sizeof(show_opts) / sizeof(show_opts[0]); i++)
			if (c == show_opts[i].opt) {
				io.show |= show_opts[i].show;
				handled = true;
			}
		if (handled)
			continue;
		switch (c) {
		case OPT_FORMAT:
			io.format = mo.format = oci_format_from_string(optarg);
			if (io.format == _OCI_FORMAT_INVALID)
				return cli_usage_error("inspect", "--format is text or json, not '%s'", optarg);
			break;
		case OPT_MEMORY:
			if (cli_parse_number(optarg, INT_MAX, &v) < 0 || v == 0)
				return cli_usage_error("inspect", "--memory takes a pid, not '%s'", optarg);
			mo.pid = v;
			memory = true;
			break;
		case OPT_SEARCH:
			if (!*optarg)
				return cli_usage_error("inspect", "--search needs a non-empty string");
			mo.search = optarg;
			break;
		case OPT_SEARCH_REGEX:
			mo.search_regex = optarg;
			break;
		case OPT_CONTEXT:
			if (cli_parse_number(optarg, CONTEXT_MAX, &v) < 0)
				return cli_usage_error("inspect", "--context takes a number of bytes (0-%d), not '%s'",
						       CONTEXT_MAX, optarg);
			mo.context = v;
			context_set = true;
			break;
		case 'o':
			mo.output = optarg;
			break;
		case OPT_RAW:
			mo.raw = true;
			break;
		case OPT_MAX_EXTRACT:
			if (oci_parse_size(optarg, &oci_limits.max_extract) < 0)
				return cli_usage_error("inspect",
						       "--max-extract takes a size (4096, 512M, 2G), not '%s'", optarg);
			break;
		case OPT_MAX_JSON:
			if (oci_parse_size(optarg, &oci_limits.max_json) < 0 || oci_limits.max_json > (1ull << 31))
				return cli_usage_error("inspect",
						       "--max-json takes a size up to 2G (64K, 16M), not '%s'", optarg);
			break;
		case OPT_MAX_NAMES:
			if (cli_parse_number(optarg, INT_MAX, &v) < 0)
				return cli_usage_error("inspect", "--max-names takes a number, not '%s'", optarg);
			oci_limits.max_names = v;
			break;
		case OPT_TIME_LIMIT:
			if (cli_parse_number(optarg, 86400 * 365, &v) < 0)
				return cli_usage_error("inspect", "--time-limit takes seconds (0 for none), not '%s'",
						       optarg);
			oci_limits.time_limit_s = v;
			break;
		case 'h':
			inspect_usage(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("inspect", "bad option");
		}
	}
	oci_limits_start();
	if (optind == argc)
		return cli_usage_error("inspect", "a TARGET (checkpoint archive or directory) is required");
	if (argc - optind > 1)
		return cli_usage_error("inspect", "one TARGET only; unexpected '%s'", argv[optind + 1]);

	if (!memory) {
		if (mo.search || mo.search_regex || context_set || mo.output || mo.raw)
			return cli_usage_error("inspect", "--search, --search-regex, --context, -o and --raw go with "
							  "--memory PID");
		io.target = argv[optind];
		cli_inspect_signals();
		r = oci_inspect(&io);
		if (r < 0)
			return cli_fail(r, "inspect %s", io.target);
		return EXIT_OK;
	}

	if (io.show)
		return cli_usage_error("inspect", "--memory does not go with the report options");
	if (mo.search && mo.search_regex)
		return cli_usage_error("inspect", "--search or --search-regex, not both");
	if (mo.raw && !mo.output)
		return cli_usage_error("inspect", "--raw needs -o FILE");
	if (mo.raw && (mo.search || mo.search_regex))
		return cli_usage_error("inspect", "--raw is for dumps, not searches");
	if (context_set && !mo.search && !mo.search_regex)
		return cli_usage_error("inspect", "--context goes with --search or --search-regex");
	if (mo.search_regex) {
		regex_t re;
		int rc = regcomp(&re, mo.search_regex, REG_EXTENDED);
		if (rc) {
			char msg[256];
			regerror(rc, &re, msg, sizeof(msg));
			return cli_usage_error("inspect", "bad regular expression '%s': %s", mo.search_regex, msg);
		}
		regfree(&re);
	}
	mo.target = argv[optind];
	cli_inspect_signals();
	r = oci_inspect_memory(&mo);
	if (r < 0)
		return cli_fail(r, "inspect --memory %d %s", mo.pid, mo.target);
	return EXIT_OK;
}
