/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * In a time namespace of its own, started by `unshare --time --fork
 * --monotonic S --boottime S` with offsets of S seconds (S given as
 * TIMENS_OFFSET in its environment): it checks that its monotonic and
 * boot-time clocks run at least S seconds ahead, and after restore that
 * they went on from where they were (neither back, nor by S).
 */
#include <time.h>

#include "wl.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;

	WL_SETUP(clock_gettime(id, &ts) == 0, "clock_gettime");
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *offset = getenv("TIMENS_OFFSET");
	double s = offset ? atof(offset) : 0, mono, boot, mono_now, boot_now;

	wl_init(argc, argv);
	WL_SETUP(s > 0, "TIMENS_OFFSET is not set");
	mono = clock_s(CLOCK_MONOTONIC);
	boot = clock_s(CLOCK_BOOTTIME);
	WL_SETUP(mono >= s && boot >= s, "not in a time namespace with the offsets");
	wl_ready();
	wl_wait();

	mono_now = clock_s(CLOCK_MONOTONIC);
	boot_now = clock_s(CLOCK_BOOTTIME);
	/* Dump and restore take seconds, not the offset's hours. */
	WL_CHECK(mono_now >= mono && mono_now - mono < s / 2, "monotonic clock went from %.3f to %.3f s", mono,
		 mono_now);
	WL_CHECK(boot_now >= boot && boot_now - boot < s / 2, "boot-time clock went from %.3f to %.3f s", boot,
		 boot_now);
	wl_pass();
}
