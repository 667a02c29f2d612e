// SPDX-License-Identifier: GPL-2.0-or-later
/* ocicr diff: what changed between two checkpoints. */
#include <getopt.h>
#include <stdio.h>

#include "ocicr.h"
#include "oci/cli.h"
#include "oci/inspect/inspect.h"

static void diff_usage(FILE *out)
{
	fprintf(out, "Usage: ocicr diff [--format text|json] A B\n\n"
		     "Show what changed from checkpoint A to checkpoint B (archives or directories, as for\n"
		     "ocicr inspect): processes added and removed, changed names, command lines,\n"
		     "environments, working directories, files opened, closed or moved, and memory sizes.\n"
		     "Processes are matched by pid, files by descriptor number.\n\n"
		     "      --format FORMAT     text (a tree, default) or json (see docs/inspect.md)\n"
		     "  -h, --help              this help\n");
}

int cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	struct oci_diff_opts o = { .sz = sizeof(o), .out = stdout };
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o.format = oci_format_from_string(optarg);
			if (o.format == _OCI_FORMAT_INVALID)
				return cli_usage_error("diff", "--format is text or json, not '%s'", optarg);
			break;
		case 'h':
			diff_usage(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("diff", "bad option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("diff", "two checkpoints, A and B, are required");
	o.a = argv[optind];
	o.b = argv[optind + 1];
	cli_inspect_signals();
	r = oci_diff(&o);
	if (r < 0)
		return cli_fail(r, "diff");
	return EXIT_OK;
}
