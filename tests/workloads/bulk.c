/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A task with a lot of patterned memory (BULK_MIB, default 256 MiB) that
 * keeps running: long enough a dump to stop in the middle of.  On SIGUSR1
 * it checks that every word is as written, that its memory map reads as
 * before and that it has no child (a dump's snapshot twin was reaped).
 */
#include <sys/mman.h>

#include "wl.h"

static uint64_t *bulk;
static size_t bulk_words;
static volatile uint64_t ticks;
static char maps_before[64 * 1024], maps_after[64 * 1024];

static uint64_t word(size_t i)
{
	return (i + 1) * 0x9e3779b97f4a7c15ull;
}

static void tick(void)
{
	ticks++;
}

/* Every thread's children list is empty. */
static bool childless(void)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", getpid());
	return wl_read_file(path, buf, sizeof(buf)) == 0;
}

int main(int argc, char **argv)
{
	const char *env = getenv("BULK_MIB");
	size_t mib = env ? strtoul(env, NULL, 10) : 256;

	wl_init(argc, argv);
	WL_SETUP(mib > 0, "BULK_MIB");
	bulk_words = mib << 17;
	bulk = mmap(NULL, bulk_words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WL_SETUP(bulk != MAP_FAILED, "mmap");
	for (size_t i = 0; i < bulk_words; i++)
		bulk[i] = word(i);
	WL_SETUP(wl_read_file("/proc/self/maps", maps_before, sizeof(maps_before)) > 0, "read maps");
	wl_ready();
	wl_wait_tick(tick);

	for (size_t i = 0; i < bulk_words; i++)
		WL_CHECK(bulk[i] == word(i), "word %zu of the bulk memory is 0x%llx", i, (unsigned long long)bulk[i]);
	WL_CHECK(wl_read_file("/proc/self/maps", maps_after, sizeof(maps_after)) > 0, "cannot read maps");
	WL_CHECK(!strcmp(maps_before, maps_after), "the memory map changed:\n%s\nwas:\n%s", maps_after, maps_before);
	WL_CHECK(childless(), "the task has a child (a snapshot twin left behind?)");
	WL_CHECK(ticks > 0, "the task never ran");
	wl_pass();
}
