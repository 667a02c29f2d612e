// SPDX-License-Identifier: GPL-2.0-or-later
/* Bounds on one inspection (see limits.h). */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "ocicr.h"
#include "oci/inspect/limits.h"

struct oci_limits oci_limits = {
	.max_extract = OCI_MAX_EXTRACT_DEFAULT,
	.max_json = OCI_MAX_JSON_DEFAULT,
	.max_json_depth = OCI_MAX_JSON_DEPTH,
	.max_names = OCI_MAX_NAMES_DEFAULT,
	.time_limit_s = OCI_TIME_LIMIT_DEFAULT,
};

static struct timespec started;

static double since_start(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - started.tv_sec) + (now.tv_nsec - started.tv_nsec) / 1e9;
}

void oci_limits_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &started);
}

int oci_time_check(void)
{
	if (!oci_limits.time_limit_s || !started.tv_sec || since_start() < oci_limits.time_limit_s)
		return 0;
	return oc_error(-ETIME,
			"the inspection took more than %u s and was stopped (raise the limit with "
			"--time-limit SECONDS)",
			oci_limits.time_limit_s);
}

int oci_parse_size(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'T':
	case 't':
		shift += 10; /* fall through */
	case 'G':
	case 'g':
		shift += 10; /* fall through */
	case 'M':
	case 'm':
		shift += 10; /* fall through */
	case 'K':
	case 'k':
		shift += 10;
		end++;
		break;
	default:
		break;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*ret = (uint64_t)v << shift;
	return 0;
}
