// SPDX-License-Identifier: GPL-2.0-or-later
/* ocicr check: what this kernel supports, and a verdict. */
#include <stdio.h>
#include <string.h>

#include "ocicr.h"
#include "oci/cli.h"

int cmd_check(int argc, char **argv)
{
	bool ok = false;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: ocicr check\n\nProbe the kernel interfaces ocicr needs and say whether checkpoint\n"
		       "and restore can work here.  Exit status 0 when they can, 1 when not.\n");
		return EXIT_OK;
	}
	if (argc > 1)
		return cli_usage_error("check", "unexpected argument '%s'", argv[1]);
	oc_check(stdout, &ok);
	return ok ? EXIT_OK : EXIT_FAIL;
}
