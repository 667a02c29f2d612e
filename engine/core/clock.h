/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Monotonic time for the statistics images (stats-dump, stats-restore). */
#ifndef OCICR_CORE_CLOCK_H
#define OCICR_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t oc_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

#endif
