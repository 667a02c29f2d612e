/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cleanup attributes are public (oci/, bundle/ and hooks/ use them): one
 * copy, in engine/include/ocicr/cleanup.h. */
#ifndef OCICR_CORE_CLEANUP_H
#define OCICR_CORE_CLEANUP_H

#include "ocicr/cleanup.h"

#endif
