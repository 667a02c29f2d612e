/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test points: places in a dump where a test may have ocicr killed, chosen
 * by ocicr's own progress rather than by a delay, so that a fast or a slow
 * machine kills it at the same place.
 *
 *	OCICR_KILL_AT=NAME#N	the Nth time NAME is reached (N >= 1) ...
 *	OCICR_KILL_PID=PID	... SIGKILL goes to PID, or to "parent" (the
 *				process that guards the dump's worker, the
 *				one a user started), or (unset) to this one
 *
 * NAMEs: "remote" (inside a remote call: the thread's registers are
 * borrowed), "twin" (a snapshot twin half made: its parent exists, the twin
 * not yet), "pump" (a twin sending its pages), "image" (an image file put
 * in place).  Unset, a point costs a compare.
 */
#ifndef OCICR_CORE_TESTPOINT_H
#define OCICR_CORE_TESTPOINT_H

void oc_testpoint(const char *name);

#endif
