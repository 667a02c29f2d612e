// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocicr.h"
#include "oci/cli.h"
#include "oci/criu/criu.h"

static int cmd_version(int argc, char **argv)
{
	printf("ocicr version %s\n", oc_version());
	return EXIT_OK;
}

static const struct cli_command commands[] = {
	{ "check", "check what this kernel supports", cmd_check },
	{ "checkpoint", "checkpoint a runc or crun container into an archive", cmd_checkpoint },
	{ "diff", "show what changed between two checkpoints", cmd_diff },
	{ "dump", "checkpoint a process tree into an images directory", cmd_dump },
	{ "inspect", "show what a checkpoint holds, without restoring it", cmd_inspect },
	{ "restore", "restore a process tree, or a container from an archive (--import)", cmd_restore },
	{ "image", "decode, encode and summarise CRIU-format images", cmd_image },
	{ "swrk", "serve CRIU's RPC protocol on a socket (as criu swrk)", cmd_swrk },
	{ "version", "print the version", cmd_version },
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: ocicr COMMAND [OPTIONS]\n\n"
		     "Checkpoint and restore Linux processes and containers.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'ocicr COMMAND --help' for a command's options; see ocicr(1).\n"
		     "Called as 'criu' (a link to ocicr), it takes CRIU's command line instead.\n");
}

int cli_fail(int err, const char *fmt, ...)
{
	const char *msg = oc_error_message();
	va_list ap;

	fputs("ocicr: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (msg && *msg)
		fprintf(stderr, ": %s\n", msg);
	else
		fprintf(stderr, ": %s\n", strerror(-err));
	return EXIT_FAIL;
}

int cli_parse_number(const char *s, long max, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ocicr %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'ocicr %s --help'.\n", cmd);
	return EXIT_USAGE;
}

const struct cli_command *cli_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* Called as "criu" (a link to ocicr): CRIU's command line. */
static bool called_as_criu(const char *argv0)
{
	const char *base = argv0 ? strrchr(argv0, '/') : NULL;

	base = base ? base + 1 : argv0;
	return base && !strcmp(base, "criu");
}

int main(int argc, char **argv)
{
	if (called_as_criu(argv[0])) {
		int r = criu_main(argc, argv);
		cli_release_signals(r == EXIT_OK);
		return r;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name)) {
			int r = commands[i].run(argc - 1, argv + 1);
			/* A signal held during the command, once it cleaned up. */
			cli_release_signals(r == EXIT_OK);
			return r;
		}

	fprintf(stderr, "ocicr: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
