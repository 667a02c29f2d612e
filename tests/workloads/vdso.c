// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vdso READY RESULT: the clocks through the vDSO.  glibc resolves the vDSO's
 * functions once, at start; after a restore from another kernel's image
 * those pointers lead into the old vDSO, which must reach this kernel's.
 * Each vDSO call is compared with the same system call made directly:
 * time() in particular reads the kernel's data page without a fallback, so
 * an old vDSO left on its own would answer 0.
 */
#include <sched.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "wl.h"

static int64_t ns_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static void check_clock(clockid_t id, const char *name)
{
	struct timespec via_vdso, direct;

	WL_CHECK(clock_gettime(id, &via_vdso) == 0, "clock_gettime(%s): %s", name, strerror(errno));
	WL_CHECK(syscall(SYS_clock_gettime, id, &direct) == 0, "clock_gettime syscall (%s)", name);
	int64_t d = ns_of(&direct) - ns_of(&via_vdso);
	WL_CHECK(d >= 0 && d < 2000000000LL, "clock_gettime(%s) is %lld ns off the system call's", name, (long long)d);
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);
	uint64_t ehdr = getauxval(AT_SYSINFO_EHDR);
	WL_SETUP(ehdr != 0, "no vDSO in the auxiliary vector");
	check_clock(CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
	wl_ready();
	while (!wl_usr1_seen)
		pause();

	check_clock(CLOCK_REALTIME, "CLOCK_REALTIME");
	check_clock(CLOCK_MONOTONIC, "CLOCK_MONOTONIC");
	check_clock(CLOCK_BOOTTIME, "CLOCK_BOOTTIME");

	struct timeval tv;
	WL_CHECK(gettimeofday(&tv, NULL) == 0, "gettimeofday: %s", strerror(errno));
	long direct = syscall(SYS_time, NULL);
	/* time(2) reads the coarse clock: it may lag a precise one by a tick
	 * across a second's boundary. */
	WL_CHECK(labs((long)tv.tv_sec - direct) <= 2, "gettimeofday says %ld, the system call %ld", (long)tv.tv_sec,
		 direct);
	time_t t = time(NULL);
	WL_CHECK(t <= direct + 1 && direct - t <= 2, "time() says %ld, the system call %ld", (long)t, direct);

	unsigned cpu = 1u << 30;
	WL_CHECK(syscall(SYS_getcpu, &cpu, NULL, NULL) == 0 && cpu < CPU_SETSIZE, "getcpu system call");
	WL_CHECK(sched_getcpu() >= 0, "sched_getcpu: %s", strerror(errno));
	wl_pass();
}
