/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef OCICR_NOTIFY_H
#define OCICR_NOTIFY_H

#include "ocicr.h"

/*
 * Call @fn (if any) for notify point @action with the tree's root @pid;
 * 0, or a negative errno with "ACTION notification: why" recorded.
 */
int oc_notify_point(oc_notify_fn fn, void *data, const char *action, pid_t pid);

/* The same with descriptor @fd handed over (orphan-pts-master). */
int oc_notify_point_fd(oc_notify_fn fn, void *data, const char *action, pid_t pid, int fd);

/* The same where a failure cannot stop anything (CRIU only logs it). */
void oc_notify_point_logged(oc_notify_fn fn, void *data, const char *action, pid_t pid);

#endif
