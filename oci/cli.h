/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ocicr command line: one thin file per subcommand.  A subcommand parses
 * its options, makes one library call and turns a negative errno into a
 * message and an exit code.
 */
#ifndef OCICR_CLI_H
#define OCICR_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Exit codes, documented in ocicr(1). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,  /* the operation failed; the message says why */
	EXIT_USAGE = 2, /* bad command line */
};

struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* Print "ocicr: <context>: <library message>" and return EXIT_FAIL. */
int cli_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print a usage error and return EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int cmd_image(int argc, char **argv);

#endif
