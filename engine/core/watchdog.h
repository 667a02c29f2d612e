/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A watchdog for a step that may block where no timeout reaches (a system
 * call the kernel makes wait uninterruptibly): a thread of its own runs a
 * rescue once when the step has made no progress for a while.
 */
#ifndef OCICR_CORE_WATCHDOG_H
#define OCICR_CORE_WATCHDOG_H

#include <stdbool.h>

struct oc_watchdog;

/*
 * Watch from now on: @rescue(@arg) runs once, in the watchdog's thread, if
 * oc_watchdog_feed() is not called for @quiet_ms.  @rescue must be safe to
 * run beside the watched thread (no logging, no shared state but its own).
 */
int oc_watchdog_start(unsigned quiet_ms, void (*rescue)(void *arg), void *arg, struct oc_watchdog **ret);

/* Progress: the quiet time starts again. */
void oc_watchdog_feed(struct oc_watchdog *w);

/* Stop watching and free @w (NULL is fine); whether the rescue ran. */
bool oc_watchdog_stop(struct oc_watchdog *w);

#endif
