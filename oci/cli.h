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
	EXIT_FAIL = 1,	/* the operation failed; the message says why */
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

/* A decimal number from 0 to @max, the whole of @s; -EINVAL otherwise. */
int cli_parse_number(const char *s, long max, long *ret);

/* The log options of dump and restore: -o FILE and -v[LEVEL]. */
struct cli_log_opts {
	const char *name; /* relative to the images directory; absolute; "-" for stderr */
	int verbosity;
	bool quiet; /* warnings only to the log, not to the terminal too */
};

/*
 * Take option @c into @lo when it is 'o' or 'v': 1 when taken, 0 when it is
 * another option, -EINVAL when -v's level is bad (after printing the usage
 * error for @cmd).
 */
int cli_log_option(struct cli_log_opts *lo, const char *cmd, int c, const char *arg);
/* Log as @lo says, a relative name in IMAGES_DIR. */
int cli_log_open(const char *images_dir, const struct cli_log_opts *lo);
/* The open log file's descriptor, or -1 (the log goes to stderr). */
int cli_log_fd(void);
/* Close the log, a failed operation's error (@r < 0) its last line; returns @r. */
int cli_log_close(int r);

int cmd_image(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_swrk(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
/* `ocicr restore --import`: cmd_restore() hands such a command line over. */
int cmd_restore_import(int argc, char **argv);
void restore_import_usage(FILE *out);

/* The subcommand called @name, or NULL (for the criu front end's swrk). */
const struct cli_command *cli_command_find(const char *name);

/*
 * Hold SIGINT, SIGTERM, SIGHUP and SIGQUIT (block them) while the engine
 * works; cli_held_signal() is the engine's interruption hook (the first
 * held signal pending, or 0).  cli_release_signals() ends the hold: a held
 * signal is then delivered as it would have been, unless the work it came
 * too late to stop @completed (then it is only reported).
 */
void cli_hold_signals(void);
int cli_held_signal(void *unused);
void cli_release_signals(bool completed);

/*
 * Run @work(@arg) in a worker process that the calling one guards
 * (cli_guard.c): the dump's ptracing, so that a SIGKILL of ocicr lets the
 * worker stop cleanly instead of leaving tasks mid remote call.  Returns
 * the worker's exit code, or 128 + the signal that killed it; a held
 * signal that stopped the worker ends the caller too.  @what names the
 * work in messages.
 */
int cli_guarded(const char *what, int (*work)(void *arg), void *arg);

/* Remove inspection temporary directories when a signal ends ocicr. */
void cli_inspect_signals(void);

#endif
