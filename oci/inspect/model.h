/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A checkpoint as an inspection sees it: the engine's model (ocicr.h,
 * "checkpoint inspection", oc_ckpt_load()), the source it came from, its
 * metadata and its memory.  Reports (report.c) and diffs (diff.c) are
 * made from these.
 */
#ifndef OCICR_INSPECT_MODEL_H
#define OCICR_INSPECT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ocicr.h"
#include "oci/inspect/meta.h"
#include "oci/inspect/source.h"
#include "oci/inspect/vm.h"

#endif
