/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CRIU's action scripts (--action-script): at each notify point of a dump
 * or restore, every script runs with CRTOOLS_SCRIPT_ACTION (the point's
 * name), CRTOOLS_IMAGE_DIR (the images directory, as /proc/PID/fd/N of this
 * process, like CRIU's) and, once the tree's root is known, CRTOOLS_INIT_PID
 * in its environment; standard input closed, output to the log.  A script
 * that fails fails the point.
 */
#ifndef OCICR_HOOKS_ACTION_SCRIPT_H
#define OCICR_HOOKS_ACTION_SCRIPT_H

#include <stddef.h>
#include <sys/types.h>

#include "ocicr.h"

struct action_scripts {
	char *const *paths; /* not owned */
	size_t n;
	int images_dir_fd; /* kept open for CRTOOLS_IMAGE_DIR */
	int out_fd;	   /* the scripts' stdout and stderr; -1: ours */
	pid_t init_pid;	   /* the root, once a point has told it */
};

/*
 * Get ready to run @n scripts @paths (run last given first, as CRIU does)
 * for the images in @images_dir; @out_fd (or -1) takes their output.
 */
int action_scripts_init(struct action_scripts *as, char *const *paths, size_t n, const char *images_dir, int out_fd);
void action_scripts_fini(struct action_scripts *as);

/* The engine's notify callback (oc_notify_fn); @data: the struct action_scripts. */
int action_scripts_notify(const struct oc_notify *n, void *data);

#endif
