/* The demo's workload: counts, appends each count to a log, and keeps a
 * few MiB of memory whose pattern depends on the count. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MEM_WORDS (4u << 20) / 8

int main(int argc, char **argv)
{
	FILE *log = fopen(argc > 1 ? argv[1] : "/tmp/ticker.log", "a");
	uint64_t *mem = malloc(MEM_WORDS * 8);
	struct timespec tick = { 0, 100 * 1000 * 1000 };

	if (!log || !mem)
		return 1;
	setvbuf(log, NULL, _IOLBF, 0);
	for (uint64_t n = 1;; n++) {
		for (size_t i = 0; i < MEM_WORDS; i += 512)
			mem[i] = n * 0x9E3779B97F4A7C15ull + i;
		/* The memory must hold the previous round's pattern. */
		for (size_t i = 0; i < MEM_WORDS && n > 1; i += 512 * 97)
			if (mem[i] != n * 0x9E3779B97F4A7C15ull + i)
				return 2;
		fprintf(log, "tick %llu pid %d\n", (unsigned long long)n, getpid());
		nanosleep(&tick, NULL);
	}
}
