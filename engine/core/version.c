// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ocicr.h"

const char *oc_version(void)
{
	return OCICR_VERSION;
}
