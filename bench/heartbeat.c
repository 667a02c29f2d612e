/*
 * Benchmark workload: SIZE MiB of patterned private memory that it keeps
 * touching, and a heartbeat (CLOCK_MONOTONIC in ns) written into a shared
 * file page every 50 us.  The harness reads the heartbeat to see, from
 * outside, how long the process was frozen.
 *
 * usage: heartbeat SIZE_MIB HEARTBEAT_FILE [CHILDREN]
 * With CHILDREN > 0 the process forks that many small children first (the
 * "tree" workload); only the root beats.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s SIZE_MIB HEARTBEAT_FILE [CHILDREN]\n", argv[0]);
		return 2;
	}
	size_t size = strtoull(argv[1], NULL, 10) << 20;
	int children = argc > 3 ? atoi(argv[3]) : 0;

	for (int i = 0; i < children; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			/* A small process: a bit of memory of its own. */
			char *mem = malloc(256 << 10);
			for (size_t j = 0; mem && j < (256 << 10); j += 4096)
				mem[j] = (char)j;
			for (;;)
				pause();
		}
	}

	int fd = open(argv[2], O_RDWR | O_CREAT, 0644);
	if (fd < 0 || ftruncate(fd, 4096) < 0)
		return 1;
	volatile uint64_t *beat = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	uint64_t *mem = size ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : NULL;
	if (beat == MAP_FAILED || mem == MAP_FAILED)
		return 1;
	/* Every page written: the memory is present and warm. */
	for (size_t i = 0; i < size / 8; i++)
		mem[i] = i * 0x9E3779B97F4A7C15ull;
	beat[1] = 1; /* ready */

	struct timespec tick = { 0, 50 * 1000 };
	for (uint64_t n = 0;; n++) {
		beat[0] = now_ns();
		if (size) {
			/* keep touching memory, one page per beat */
			size_t page = (n * 7919) % (size / 4096);
			mem[page * 512] += 1;
		}
		nanosleep(&tick, NULL);
	}
}
