/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checkpoint inspection (public part: ocicr.h): what the engine keeps. */
#ifndef OCICR_IMG_CKPT_H
#define OCICR_IMG_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "ocicr.h"
#include "pagemap.pb-c.h"

/*
 * Turn pagemap entries (without the head) into runs with their offsets.
 * Refuses runs that are misaligned, overlap, go backwards or wrap (-EINVAL,
 * with @what, e.g. "pagemap-1.img", in the message).
 */
int oc_pagemap_build(PagemapEntry *const *entries, size_t n, const char *what, struct oc_pm_run **ret_runs,
		     size_t *ret_n, uint64_t *ret_present);

#endif
