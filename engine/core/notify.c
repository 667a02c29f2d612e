// SPDX-License-Identifier: LGPL-2.1-or-later
/* CRIU's notify points: tell the caller's callback where a dump or restore is. */
#include <stdio.h>

#include "notify.h"
#include "core/error.h"
#include "core/log.h"

int oc_notify_point(oc_notify_fn fn, void *data, const char *action, pid_t pid)
{
	return oc_notify_point_fd(fn, data, action, pid, -1);
}

int oc_notify_point_fd(oc_notify_fn fn, void *data, const char *action, pid_t pid, int fd)
{
	struct oc_notify n = { .action = action, .pid = pid, .fd = fd };
	int r;

	if (!fn)
		return 0;
	pr_debug("notify: %s (pid %d)", action, pid);
	oc_error_clear();
	r = fn(&n, data);
	if (!r)
		return 0;
	return oc_error_wrap(r < 0 ? r : -ECANCELED, "%s notification", action);
}

void oc_notify_point_logged(oc_notify_fn fn, void *data, const char *action, pid_t pid)
{
	char failure[4096];

	/* A failed dump unlocks the network: its reason stays the one told. */
	snprintf(failure, sizeof(failure), "%s", oc_error_message());
	if (oc_notify_point(fn, data, action, pid) < 0)
		pr_err("%s", oc_error_message());
	oc_error(0, "%s", failure);
}
