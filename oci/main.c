// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>
#include "ocicr.h"

int main(int argc, char **argv)
{
	printf("ocicr %s\n", oc_version());
	return 0;
}
