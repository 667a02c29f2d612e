/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unusual memory layouts.  Inside one PROT_NONE reservation, with a
 * PROT_NONE guard page around each, sit: patterned anonymous memory, a
 * sparse region where only some pages were touched, a region moved there
 * with mremap, and a MADV_DONTFORK region.  Elsewhere: MAP_SHARED anonymous
 * memory, a private file mapping the task wrote to (copy-on-write pages), a
 * MAP_SHARED file mapping, heap grown with sbrk, and a big stack array.
 *
 * After restore every byte must be as it was, untouched pages must still
 * be absent, the guard pages must still fault, the madvise flags must be
 * in place, and /proc/self/maps, the mm bounds in /proc/self/stat, auxv
 * and the executable must read as they did before the dump.
 */
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "wl.h"

#define PG  4096ul
#define MiB (1ul << 20)

#define RESERVE	  (64 * MiB)
#define A_LEN	  (8 * MiB)  /* patterned */
#define S_LEN	  (16 * MiB) /* sparse */
#define S_STEP	  7	     /* every 7th page touched */
#define M_LEN	  (2 * MiB)  /* moved by mremap */
#define D_LEN	  (1 * MiB)  /* MADV_DONTFORK */
#define SH_LEN	  (1 * MiB)  /* MAP_SHARED|MAP_ANONYMOUS, first half written */
#define FP_PAGES  16	     /* private file mapping */
#define FS_PAGES  8	     /* shared file mapping */
#define HEAP_LEN  (256 * 1024)
#define STACK_LEN (1 * MiB)

enum { SEED_A = 1, SEED_S, SEED_M, SEED_D, SEED_SH, SEED_FILE, SEED_COW, SEED_FS, SEED_HEAP, SEED_STACK };

static uint8_t *reserve, *A, *S, *M, *D, *SH, *FP, *FS, *heap;
static char fp_path[PATH_MAX], fs_path[PATH_MAX];
static char maps_before[256 * 1024], maps_after[256 * 1024];
static char smaps[2 * 1024 * 1024];
static char auxv_before[4096], auxv_after[4096], exe_before[PATH_MAX], exe_after[PATH_MAX];
static ssize_t auxv_len;
static unsigned long mm_before[10], mm_after[10];
static char scratch[FP_PAGES * PG];
static sigjmp_buf segv_jmp;

/*
 * /proc/self/maps, one space between fields, with the inode of shmem
 * objects blanked: shared anonymous memory is a new object after restore,
 * with a new inode number (and so other padding).
 */
static void read_maps(char *out, size_t len)
{
	static char raw[256 * 1024];
	size_t o = 0;

	WL_SETUP(wl_read_file("/proc/self/maps", raw, sizeof(raw)) > 0, "read /proc/self/maps");
	for (char *line = raw, *nl; *line; line = nl + 1) {
		char range[64], perms[8], off[32], dev[16];
		unsigned long ino;
		int path_at = 0;

		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (sscanf(line, "%63s %7s %31s %15s %lu %n", range, perms, off, dev, &ino, &path_at) != 5)
			wl_fail("setup: cannot parse maps line '%s'", line);
		const char *path = path_at ? line + path_at : "";
		if (strstr(path, "/dev/zero (deleted)") || !strncmp(path, "/memfd:", 7))
			ino = 0;
		o += snprintf(out + o, len - o, "%s %s %s %s %lu %s\n", range, perms, off, dev, ino, path);
	}
}

/* The VmFlags line of the smaps entry that starts at @addr. */
static const char *vmflags_of(const void *addr)
{
	char head[32];
	static char flags[256];

	WL_SETUP(wl_read_file("/proc/self/smaps", smaps, sizeof(smaps)) > 0, "read /proc/self/smaps");
	snprintf(head, sizeof(head), "%lx-", (unsigned long)addr);
	for (char *line = smaps; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, head, strlen(head)))
			continue;
		char *vf = strstr(line, "VmFlags:");
		if (!vf)
			return "";
		char *nl = strchr(vf, '\n');
		snprintf(flags, sizeof(flags), "%.*s ", nl ? (int)(nl - vf) : (int)strlen(vf), vf);
		return flags;
	}
	return NULL;
}

/*
 * The mm bounds in /proc/self/stat: start_code, end_code, start_stack
 * (fields 26-28) and start_data .. env_end (45-51).
 */
static void read_mm_fields(unsigned long *out)
{
	static char stat[4096];
	int field = 3, n = 0;

	WL_SETUP(wl_read_file("/proc/self/stat", stat, sizeof(stat)) > 0, "read /proc/self/stat");
	char *p = strrchr(stat, ')');
	WL_SETUP(p != NULL, "parse /proc/self/stat");
	for (p += 2; *p && n < 10; field++) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		if ((field >= 26 && field <= 28) || (field >= 45 && field <= 51))
			out[n++] = v;
		p = *end ? end + 1 : end;
	}
	WL_SETUP(n == 10, "parse /proc/self/stat");
}

static bool has_vmflag(const void *addr, const char *flag)
{
	const char *f = vmflags_of(addr);
	char want[8];

	snprintf(want, sizeof(want), " %s ", flag);
	return f && strstr(f, want);
}

static void on_segv(int sig)
{
	siglongjmp(segv_jmp, 1);
}

static bool faults(volatile uint8_t *p)
{
	struct sigaction sa = { .sa_handler = on_segv }, old;
	bool faulted = false;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(segv_jmp, 1) == 0)
		(void)*p;
	else
		faulted = true;
	sigaction(SIGSEGV, &old, NULL);
	return faulted;
}

static bool resident(const void *p)
{
	unsigned char v = 0;

	WL_SETUP(mincore((void *)p, PG, &v) == 0, "mincore");
	return v & 1;
}

/* Touch the stack this deep now, so checking later does not grow [stack]. */
static __attribute__((noinline)) void prefault_stack(void)
{
	volatile char pad[128 * 1024];

	for (size_t i = 0; i < sizeof(pad); i += PG)
		pad[i] = 1;
}

static int make_file(const char *path, size_t len, uint64_t seed)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	WL_SETUP(fd >= 0, path);
	wl_fill(scratch, len, seed);
	WL_SETUP(write(fd, scratch, len) == (ssize_t)len, "write file");
	return fd;
}

static void setup(void)
{
	/* The reservation and the regions carved out of it. */
	reserve = mmap(NULL, RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	WL_SETUP(reserve != MAP_FAILED, "reserve");
	uint8_t *at = reserve + PG;
	A = mmap(at, A_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	WL_SETUP(A == at, "map A");
	at += A_LEN + PG;
	S = mmap(at, S_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	WL_SETUP(S == at, "map S");
	at += S_LEN + PG;
	M = at;
	at += M_LEN + PG;
	D = mmap(at, D_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	WL_SETUP(D == at, "map D");

	wl_fill(A, A_LEN, SEED_A);
	/* One huge page would make the whole sparse region present. */
	WL_SETUP(madvise(S, S_LEN, MADV_NOHUGEPAGE) == 0, "MADV_NOHUGEPAGE");
	for (size_t pg = 0; pg < S_LEN / PG; pg += S_STEP)
		wl_fill(S + pg * PG, PG, SEED_S + pg);
	wl_fill(D, D_LEN, SEED_D);
	WL_SETUP(madvise(D, D_LEN, MADV_DONTFORK) == 0, "MADV_DONTFORK");

	/* Filled elsewhere, then moved into its slot. */
	uint8_t *src = mmap(NULL, M_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WL_SETUP(src != MAP_FAILED, "map mremap source");
	wl_fill(src, M_LEN, SEED_M);
	WL_SETUP(mremap(src, M_LEN, M_LEN, MREMAP_MAYMOVE | MREMAP_FIXED, M) == M, "mremap");

	SH = mmap(NULL, SH_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	WL_SETUP(SH != MAP_FAILED, "map shared anonymous");
	wl_fill(SH, SH_LEN / 2, SEED_SH);

	/* Private file mapping: read everything, write pages 3-5. */
	wl_path(fp_path, sizeof(fp_path), "memory-private.dat");
	int fd = make_file(fp_path, FP_PAGES * PG, SEED_FILE);
	FP = mmap(NULL, FP_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	WL_SETUP(FP != MAP_FAILED, "map private file");
	close(fd);
	WL_SETUP(wl_mismatch(FP, FP_PAGES * PG, SEED_FILE) < 0, "private file contents");
	wl_fill(FP + 3 * PG, 3 * PG, SEED_COW);

	/* Shared file mapping: the data lives in the file. */
	wl_path(fs_path, sizeof(fs_path), "memory-shared.dat");
	fd = make_file(fs_path, FS_PAGES * PG, SEED_FILE);
	FS = mmap(NULL, FS_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	WL_SETUP(FS != MAP_FAILED, "map shared file");
	close(fd);
	wl_fill(FS, FS_PAGES * PG, SEED_FS);
	WL_SETUP(msync(FS, FS_PAGES * PG, MS_SYNC) == 0, "msync");

	heap = sbrk(HEAP_LEN);
	WL_SETUP(heap != (void *)-1, "sbrk");
	wl_fill(heap, HEAP_LEN, SEED_HEAP);
}

static void check(void)
{
	ssize_t bad;

	/* The layout first, before anything below can change it. */
	read_maps(maps_after, sizeof(maps_after));
	if (strcmp(maps_before, maps_after)) {
		char *b = maps_before, *a = maps_after;
		while (*b && *b == *a)
			b++, a++;
		while (b > maps_before && b[-1] != '\n')
			b--, a--;
		wl_fail("/proc/self/maps changed: was '%.*s', now '%.*s'", (int)strcspn(b, "\n"), b,
			(int)strcspn(a, "\n"), a);
	}

	/* mm fields: code/data/brk/stack/arg/env bounds, auxv, executable. */
	static const char *const mm_names[10] = { "start_code", "end_code",  "start_stack", "start_data", "end_data",
						  "start_brk",	"arg_start", "arg_end",	    "env_start",  "env_end" };
	read_mm_fields(mm_after);
	for (int i = 0; i < 10; i++)
		WL_CHECK(mm_after[i] == mm_before[i], "%s is 0x%lx, was 0x%lx", mm_names[i], mm_after[i], mm_before[i]);
	WL_CHECK(wl_read_file("/proc/self/auxv", auxv_after, sizeof(auxv_after)) == auxv_len &&
			 !memcmp(auxv_before, auxv_after, auxv_len),
		 "/proc/self/auxv changed");
	ssize_t n = readlink("/proc/self/exe", exe_after, sizeof(exe_after) - 1);
	WL_CHECK(n > 0, "no /proc/self/exe");
	exe_after[n] = '\0';
	WL_CHECK(!strcmp(exe_after, exe_before), "/proc/self/exe is %s, was %s", exe_after, exe_before);

	bad = wl_mismatch(A, A_LEN, SEED_A);
	WL_CHECK(bad < 0, "anonymous memory differs at offset %zd", bad);

	/* Sparse: the touched pages back, the others still absent. */
	for (size_t pg = 0; pg < S_LEN / PG; pg++) {
		if (pg % S_STEP) {
			WL_CHECK(!resident(S + pg * PG), "sparse page %zu became present", pg);
			continue;
		}
		WL_CHECK(resident(S + pg * PG), "sparse page %zu is no longer present", pg);
		bad = wl_mismatch(S + pg * PG, PG, SEED_S + pg);
		WL_CHECK(bad < 0, "sparse page %zu differs at %zd", pg, bad);
	}
	for (size_t pg = 1; pg < S_LEN / PG; pg += S_STEP)
		for (size_t i = 0; i < PG; i++)
			WL_CHECK(S[pg * PG + i] == 0, "untouched sparse page %zu is not zero", pg);
	WL_CHECK(has_vmflag(S, "nh"), "MADV_NOHUGEPAGE lost on the sparse region");

	bad = wl_mismatch(M, M_LEN, SEED_M);
	WL_CHECK(bad < 0, "mremap'd region differs at %zd", bad);
	bad = wl_mismatch(D, D_LEN, SEED_D);
	WL_CHECK(bad < 0, "MADV_DONTFORK region differs at %zd", bad);
	WL_CHECK(has_vmflag(D, "dc"), "MADV_DONTFORK lost (no 'dc' in VmFlags)");

	/* Guard pages still guard. */
	WL_CHECK(faults(reserve), "guard page at the start of the reservation is accessible");
	WL_CHECK(faults(A - PG), "guard page before the patterned region is accessible");
	WL_CHECK(faults(S - PG), "guard page before the sparse region is accessible");
	WL_CHECK(faults(M + M_LEN), "guard page after the moved region is accessible");
	WL_CHECK(faults(D + D_LEN), "guard page after the DONTFORK region is accessible");

	bad = wl_mismatch(SH, SH_LEN / 2, SEED_SH);
	WL_CHECK(bad < 0, "shared anonymous memory differs at %zd", bad);
	for (size_t i = SH_LEN / 2; i < SH_LEN; i++)
		WL_CHECK(SH[i] == 0, "unwritten shared anonymous memory not zero at %zu", i);

	/* Copy-on-write pages are the task's, the rest still the file's. */
	bad = wl_mismatch(FP + 3 * PG, 3 * PG, SEED_COW);
	WL_CHECK(bad < 0, "written pages of the private file mapping differ at %zd", bad);
	for (int pg = 0; pg < FP_PAGES; pg++) {
		if (pg >= 3 && pg < 6)
			continue;
		int fd = open(fp_path, O_RDONLY | O_CLOEXEC);
		WL_SETUP(fd >= 0, fp_path);
		WL_SETUP(pread(fd, scratch, PG, pg * PG) == PG, "pread private file");
		close(fd);
		WL_CHECK(!memcmp(FP + pg * PG, scratch, PG),
			 "untouched page %d of the private file mapping "
			 "differs from the file",
			 pg);
	}
	int fd = open(fp_path, O_RDONLY | O_CLOEXEC);
	WL_SETUP(fd >= 0, fp_path);
	WL_SETUP(read(fd, scratch, FP_PAGES * PG) == FP_PAGES * PG, "read private file");
	close(fd);
	bad = wl_mismatch(scratch, FP_PAGES * PG, SEED_FILE);
	WL_CHECK(bad < 0, "the privately mapped file itself changed at %zd", bad);

	/* Shared file mapping: same bytes in memory and in the file, still shared. */
	bad = wl_mismatch(FS, FS_PAGES * PG, SEED_FS);
	WL_CHECK(bad < 0, "shared file mapping differs at %zd", bad);
	fd = open(fs_path, O_RDONLY | O_CLOEXEC);
	WL_SETUP(fd >= 0, fs_path);
	WL_SETUP(pread(fd, scratch, FS_PAGES * PG, 0) == FS_PAGES * PG, "read shared file");
	bad = wl_mismatch(scratch, FS_PAGES * PG, SEED_FS);
	WL_CHECK(bad < 0, "shared file differs at %zd", bad);
	FS[100] ^= 0xff;
	WL_SETUP(pread(fd, scratch, 1, 100) == 1, "pread shared file");
	WL_CHECK((uint8_t)scratch[0] == FS[100], "a write to the shared file mapping does not reach the file");
	close(fd);

	bad = wl_mismatch(heap, HEAP_LEN, SEED_HEAP);
	WL_CHECK(bad < 0, "heap differs at %zd", bad);
	WL_CHECK(sbrk(0) == heap + HEAP_LEN, "program break moved: %p, was %p", sbrk(0), heap + HEAP_LEN);

	/* A child sees the shared memory as shared and lacks the DONTFORK region. */
	pid_t child = fork();
	WL_SETUP(child >= 0, "fork");
	if (child == 0) {
		static char maps[256 * 1024];
		char head[32];
		SH[SH_LEN - 1] = 0x5a;
		snprintf(head, sizeof(head), "\n%lx-", (unsigned long)D);
		if (wl_read_file("/proc/self/maps", maps, sizeof(maps)) < 0)
			_exit(3);
		_exit(strstr(maps, head) ? 4 : 0);
	}
	int st;
	WL_SETUP(waitpid(child, &st, 0) == child, "waitpid");
	WL_CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 4, "a forked child still has the MADV_DONTFORK region");
	WL_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "forked child failed (status 0x%x)", st);
	WL_CHECK(SH[SH_LEN - 1] == 0x5a, "shared anonymous memory is not shared with a child any more");

	/* The break still moves. */
	uint8_t *more = sbrk(64 * 1024);
	WL_CHECK(more == heap + HEAP_LEN, "sbrk after restore returned %p, expected %p", more, heap + HEAP_LEN);
	memset(more, 0x77, 64 * 1024);
}

int main(int argc, char **argv)
{
	volatile uint8_t stack_buf[STACK_LEN];

	wl_init(argc, argv);
	setup();
	for (size_t i = 0; i < STACK_LEN; i++)
		stack_buf[i] = wl_pattern(SEED_STACK, i);

	prefault_stack();
	read_mm_fields(mm_before);
	auxv_len = wl_read_file("/proc/self/auxv", auxv_before, sizeof(auxv_before));
	WL_SETUP(auxv_len > 0, "read /proc/self/auxv");
	ssize_t n = readlink("/proc/self/exe", exe_before, sizeof(exe_before) - 1);
	WL_SETUP(n > 0, "readlink /proc/self/exe");
	exe_before[n] = '\0';
	read_maps(maps_before, sizeof(maps_before));
	wl_ready();
	wl_wait();

	check();
	for (size_t i = 0; i < STACK_LEN; i++)
		WL_CHECK(stack_buf[i] == wl_pattern(SEED_STACK, i), "stack array differs at %zu", i);
	wl_pass();
}
