/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The `criu` front end, and dump and restore from struct criu_opts for
 * `criu` and `ocicr` alike. */
#ifndef OCICR_CRIU_CRIU_H
#define OCICR_CRIU_CRIU_H

#include <stdio.h>

#include "oci/criu/opts.h"

/*
 * `ocicr dump|restore` (@cmd): init @o with ocicr's conventions and parse
 * @argv into it.  -1 to go on; else the exit code of an answer given
 * (--help, or a usage error printed).
 */
int criu_ocicr_parse(struct criu_opts *o, const char *cmd, int argc, char **argv, void (*usage)(FILE *out));

/* Run the dump or restore @o asks for; an exit code, the error printed. */
int criu_run_dump(const struct criu_opts *o);
int criu_run_restore(const struct criu_opts *o);

/* `criu check`: ocicr's probes, or CRIU's --feature names. */
int criu_check(const struct criu_opts *o);

/* The `criu` front end: ocicr was called as "criu". */
int criu_main(int argc, char **argv);

#endif
