/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * File descriptors, at fixed numbers:
 *
 *   10  /dev/null, read-write            100  dup of 10
 *   11  regular file at offset 37        15   same file, own open, O_CLOEXEC
 *   12  O_WRONLY|O_APPEND log file
 *   13  file at offset 5                 14   dup of 13 (one offset)
 *   16  pipe A read end (O_NONBLOCK)     17   pipe A write end: "hello-A" unread
 *   18  pipe B read end (O_NONBLOCK)     19   pipe B write end: 100 KiB unread,
 *                                             pipe grown to 256 KiB
 *   20  unlinked file, 10000 bytes, offset 123, owner 1234:5678, mode 06604,
 *       modified at 1000000000
 *   21  directory
 *   22  memfd "wl-memfd", 3 pages + 100 bytes, offset 5000, sealed
 *       against shrinking and growing
 *   23  memfd "wl-sealed", sealed against writes (F_SEAL_WRITE, F_SEAL_SEAL),
 *       mapped shared read-only
 *   24  memfd "wl-future", mapped shared read-write, then sealed against
 *       future writes (F_SEAL_FUTURE_WRITE, F_SEAL_SEAL)
 *
 * After restore: the same fds and no others, with the same flags and
 * close-on-exec bits, offsets, contents; shared open files still shared
 * (kcmp) and separate ones separate; the pipes still connected; the
 * unlinked file still unlinked.
 */
#include <dirent.h>
#include <linux/kcmp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "wl.h"

#define REG_LEN	    100
#define GHOST_LEN   10000
#define GHOST_MODE  06604 /* set-uid and set-gid, rw-----r-- */
#define GHOST_MTIME 1000000000
#define MEMFD_LEN   (3 * 4096 + 100)
#define PIPE_B_DATA (100 * 1024)
#define PIPE_B_SIZE (256 * 1024)

enum { SEED_REG = 11, SEED_SHARED, SEED_GHOST, SEED_MEMFD, SEED_PIPE };

struct fdstate {
	int fd;
	int fl, fdfl;
	char link[PATH_MAX];
};

static struct fdstate before[64], after[64];
static int n_before, n_after;
static char reg_path[PATH_MAX], log_path[PATH_MAX], shared_path[PATH_MAX], ghost_path[PATH_MAX], dir_path[PATH_MAX];
static uint8_t buf[PIPE_B_SIZE];
static ino_t dir_ino;
static uint8_t *sealed_map, *future_map;

/* Put a fresh fd at number @want. */
static void place(int fd, int want)
{
	WL_SETUP(fd >= 0, "open");
	if (fd == want)
		return;
	WL_SETUP(dup2(fd, want) == want, "dup2");
	close(fd);
}

static void write_file(const char *path, size_t len, uint64_t seed)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	WL_SETUP(fd >= 0, path);
	wl_fill(buf, len, seed);
	WL_SETUP(write(fd, buf, len) == (ssize_t)len, "write");
	close(fd);
}

/* Every open fd with its flags and target; pipes by kind only. */
static int snapshot(struct fdstate *out)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0, self;

	WL_SETUP(d != NULL, "opendir /proc/self/fd");
	self = dirfd(d);
	while ((de = readdir(d)) && n < 64) {
		char path[64];
		int fd = atoi(de->d_name);
		if (de->d_name[0] == '.' || fd == self)
			continue;
		out[n].fd = fd;
		out[n].fl = fcntl(fd, F_GETFL);
		out[n].fdfl = fcntl(fd, F_GETFD);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ssize_t len = readlink(path, out[n].link, sizeof(out[n].link) - 1);
		WL_SETUP(len > 0, "readlink");
		out[n].link[len] = '\0';
		if (!strncmp(out[n].link, "pipe:[", 6))
			strcpy(out[n].link, "pipe");
		n++;
	}
	closedir(d);
	/* readdir order is not promised: sort by fd. */
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (out[j].fd < out[i].fd) {
				struct fdstate t = out[i];
				out[i] = out[j];
				out[j] = t;
			}
	return n;
}

static int kcmp_files(int a, int b)
{
	return syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, a, b);
}

static off_t pos(int fd)
{
	return lseek(fd, 0, SEEK_CUR);
}

static void setup(void)
{
	wl_path(reg_path, sizeof(reg_path), "files-reg.dat");
	wl_path(log_path, sizeof(log_path), "files-append.log");
	wl_path(shared_path, sizeof(shared_path), "files-shared.dat");
	wl_path(ghost_path, sizeof(ghost_path), "files-ghost.dat");
	wl_path(dir_path, sizeof(dir_path), "files-dir");

	place(open("/dev/null", O_RDWR), 10);
	WL_SETUP(dup2(10, 100) == 100, "dup2 100");

	write_file(reg_path, REG_LEN, SEED_REG);
	place(open(reg_path, O_RDWR), 11);
	WL_SETUP(lseek(11, 37, SEEK_SET) == 37, "lseek");
	place(open(reg_path, O_RDONLY | O_CLOEXEC), 15);

	place(open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644), 12);
	WL_SETUP(write(12, "first\n", 6) == 6, "write log");

	write_file(shared_path, REG_LEN, SEED_SHARED);
	place(open(shared_path, O_RDONLY), 13);
	WL_SETUP(dup2(13, 14) == 14, "dup2 14");
	WL_SETUP(lseek(14, 5, SEEK_SET) == 5, "lseek");

	int p[2];
	WL_SETUP(pipe(p) == 0, "pipe A");
	place(p[0], 16);
	place(p[1], 17);
	WL_SETUP(fcntl(16, F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK");
	WL_SETUP(write(17, "hello-A", 7) == 7, "write pipe A");
	WL_SETUP(pipe(p) == 0, "pipe B");
	place(p[0], 18);
	place(p[1], 19);
	WL_SETUP(fcntl(18, F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK");
	WL_SETUP(fcntl(19, F_SETPIPE_SZ, PIPE_B_SIZE) >= PIPE_B_SIZE, "F_SETPIPE_SZ");
	wl_fill(buf, PIPE_B_DATA, SEED_PIPE);
	WL_SETUP(write(19, buf, PIPE_B_DATA) == PIPE_B_DATA, "write pipe B");

	write_file(ghost_path, GHOST_LEN, SEED_GHOST);
	place(open(ghost_path, O_RDWR), 20);
	/* Another owner and the set-id bits (which a chown would clear). */
	WL_SETUP(fchown(20, 1234, 5678) == 0 && fchmod(20, GHOST_MODE) == 0, "the unlinked file's owner and mode");
	const struct timespec ghost_times[2] = { { .tv_nsec = UTIME_OMIT }, { GHOST_MTIME, 5000 } };
	WL_SETUP(futimens(20, ghost_times) == 0, "the unlinked file's modification time");
	WL_SETUP(unlink(ghost_path) == 0, "unlink");
	WL_SETUP(lseek(20, 123, SEEK_SET) == 123, "lseek");

	char inside[PATH_MAX + 16];
	WL_SETUP(mkdir(dir_path, 0755) == 0 || errno == EEXIST, "mkdir");
	snprintf(inside, sizeof(inside), "%s/inside.txt", dir_path);
	int fd = open(inside, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	WL_SETUP(fd >= 0 && write(fd, "inside", 6) == 6, "write inside.txt");
	close(fd);
	place(open(dir_path, O_RDONLY | O_DIRECTORY), 21);
	struct stat st;
	WL_SETUP(fstat(21, &st) == 0, "fstat dir");
	dir_ino = st.st_ino;

	place(memfd_create("wl-memfd", MFD_ALLOW_SEALING), 22);
	wl_fill(buf, MEMFD_LEN, SEED_MEMFD);
	WL_SETUP(write(22, buf, MEMFD_LEN) == MEMFD_LEN, "write memfd");
	WL_SETUP(fcntl(22, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0, "F_ADD_SEALS");
	WL_SETUP(lseek(22, 5000, SEEK_SET) == 5000, "lseek memfd");

	place(memfd_create("wl-sealed", MFD_ALLOW_SEALING), 23);
	WL_SETUP(write(23, "sealed", 6) == 6 && ftruncate(23, 4096) == 0, "fill wl-sealed");
	WL_SETUP(fcntl(23, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SEAL) == 0, "F_SEAL_WRITE");
	sealed_map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, 23, 0);
	WL_SETUP(sealed_map != MAP_FAILED, "map wl-sealed");

	place(memfd_create("wl-future", MFD_ALLOW_SEALING), 24);
	WL_SETUP(ftruncate(24, 4096) == 0, "size wl-future");
	future_map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 24, 0);
	WL_SETUP(future_map != MAP_FAILED, "map wl-future");
	memcpy(future_map, "future", 6);
	WL_SETUP(fcntl(24, F_ADD_SEALS, F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) == 0, "F_SEAL_FUTURE_WRITE");
}

static void check(void)
{
	struct stat st;
	ssize_t n, bad;

	n_after = snapshot(after);
	for (int i = 0; i < n_before || i < n_after; i++) {
		WL_CHECK(i < n_after, "fd %d (%s) is gone", before[i].fd, before[i].link);
		WL_CHECK(i < n_before, "fd %d (%s) is new", after[i].fd, after[i].link);
		const struct fdstate *b = &before[i], *a = &after[i];
		WL_CHECK(a->fd == b->fd, "fd %d (%s) where fd %d (%s) was", a->fd, a->link, b->fd, b->link);
		WL_CHECK(!strcmp(a->link, b->link), "fd %d is '%s', was '%s'", a->fd, a->link, b->link);
		WL_CHECK(a->fl == b->fl, "fd %d: status flags 0%o, were 0%o", a->fd, a->fl, b->fl);
		WL_CHECK(a->fdfl == b->fdfl, "fd %d: fd flags %d (close-on-exec), were %d", a->fd, a->fdfl, b->fdfl);
	}

	/* Which fds share an open file. */
	WL_CHECK(kcmp_files(10, 100) == 0, "fds 10 and 100 no longer share their open file");
	WL_CHECK(kcmp_files(13, 14) == 0, "fds 13 and 14 no longer share their open file");
	WL_CHECK(kcmp_files(11, 15) != 0, "fds 11 and 15 now share one open file");
	WL_CHECK(kcmp_files(16, 18) != 0 && kcmp_files(16, 17) != 0, "pipe ends mixed up");

	/* /dev/null */
	WL_CHECK(write(10, "x", 1) == 1 && read(100, buf, 1) == 0, "/dev/null does not behave");

	/* Offsets and contents. */
	WL_CHECK(pos(11) == 37, "fd 11 at offset %ld, was 37", (long)pos(11));
	WL_CHECK(pos(15) == 0, "fd 15 at offset %ld, was 0", (long)pos(15));
	WL_CHECK(read(15, buf, 20) == 20, "read fd 15");
	WL_CHECK(pos(11) == 37, "reading fd 15 moved fd 11");
	WL_CHECK(read(11, buf, 10) == 10, "read fd 11");
	uint8_t want[REG_LEN];
	wl_fill(want, REG_LEN, SEED_REG);
	WL_CHECK(!memcmp(buf, want + 37, 10), "fd 11 reads other bytes at offset 37");

	WL_CHECK(write(12, "second\n", 7) == 7, "write to the O_APPEND file");
	char text[64];
	WL_CHECK(wl_read_file(log_path, text, sizeof(text)) == 13 && !strcmp(text, "first\nsecond\n"),
		 "append log reads '%s'", text);

	WL_CHECK(pos(13) == 5 && pos(14) == 5, "dup'd fds at offsets %ld/%ld, were 5", (long)pos(13), (long)pos(14));
	WL_CHECK(read(13, buf, 3) == 3, "read fd 13");
	WL_CHECK(pos(14) == 8, "reading fd 13 did not move its dup fd 14 (at %ld)", (long)pos(14));

	/* Pipes: the unread bytes, then still connected. */
	n = read(16, buf, sizeof(buf));
	WL_CHECK(n == 7 && !memcmp(buf, "hello-A", 7), "pipe A gave %zd bytes", n);
	WL_CHECK(read(16, buf, 1) < 0 && errno == EAGAIN, "pipe A has more than it had");
	WL_CHECK(write(17, "again", 5) == 5 && read(16, buf, 16) == 5 && !memcmp(buf, "again", 5),
		 "pipe A ends are not connected");
	WL_CHECK(fcntl(18, F_GETPIPE_SZ) == PIPE_B_SIZE, "pipe B holds %d bytes, was grown to %d",
		 fcntl(18, F_GETPIPE_SZ), PIPE_B_SIZE);
	size_t got = 0;
	while ((n = read(18, buf + got, sizeof(buf) - got)) > 0)
		got += n;
	WL_CHECK(got == PIPE_B_DATA, "pipe B gave %zu bytes, had %d", got, PIPE_B_DATA);
	bad = wl_mismatch(buf, PIPE_B_DATA, SEED_PIPE);
	WL_CHECK(bad < 0, "pipe B data differs at %zd", bad);
	WL_CHECK(write(19, "b", 1) == 1 && read(18, buf, 4) == 1, "pipe B ends are not connected");

	/* The unlinked file. */
	WL_CHECK(fstat(20, &st) == 0 && st.st_nlink == 0, "the unlinked file has %lu links",
		 (unsigned long)st.st_nlink);
	WL_CHECK(st.st_size == GHOST_LEN, "the unlinked file has %ld bytes, had %d", (long)st.st_size, GHOST_LEN);
	WL_CHECK(st.st_mtim.tv_sec == GHOST_MTIME, "the unlinked file was modified at %ld, not %d",
		 (long)st.st_mtim.tv_sec, GHOST_MTIME);
	WL_CHECK((st.st_mode & 07777) == GHOST_MODE && st.st_uid == 1234 && st.st_gid == 5678,
		 "the unlinked file has mode %o, owner %u:%u; was %o, 1234:5678", st.st_mode & 07777, st.st_uid,
		 st.st_gid, GHOST_MODE);
	WL_CHECK(pos(20) == 123, "unlinked file at offset %ld, was 123", (long)pos(20));
	WL_CHECK(pread(20, buf, GHOST_LEN, 0) == GHOST_LEN, "read the unlinked file");
	bad = wl_mismatch(buf, GHOST_LEN, SEED_GHOST);
	WL_CHECK(bad < 0, "unlinked file differs at %zd", bad);
	WL_CHECK(access(ghost_path, F_OK) < 0 && errno == ENOENT, "%s exists again", ghost_path);
	DIR *d = opendir(wl_dir);
	struct dirent *de;
	WL_SETUP(d != NULL, "opendir");
	while ((de = readdir(d)))
		WL_CHECK(!strstr(de->d_name, "ghost"), "left over in the folder: %s", de->d_name);
	closedir(d);

	/* The directory. */
	WL_CHECK(fstat(21, &st) == 0 && S_ISDIR(st.st_mode) && st.st_ino == dir_ino, "fd 21 is not the directory");
	int fd = openat(21, "inside.txt", O_RDONLY | O_CLOEXEC);
	WL_CHECK(fd >= 0 && read(fd, text, 16) == 6 && !memcmp(text, "inside", 6), "openat through fd 21");
	close(fd);

	/* The memfd. */
	WL_CHECK(fcntl(22, F_GET_SEALS) == (F_SEAL_SHRINK | F_SEAL_GROW), "memfd seals 0x%x, were 0x%x",
		 fcntl(22, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW);
	WL_CHECK(fstat(22, &st) == 0 && st.st_size == MEMFD_LEN, "memfd has %ld bytes, had %d", (long)st.st_size,
		 MEMFD_LEN);
	WL_CHECK(pos(22) == 5000, "memfd at offset %ld, was 5000", (long)pos(22));
	WL_CHECK(pread(22, buf, MEMFD_LEN, 0) == MEMFD_LEN, "read memfd");
	bad = wl_mismatch(buf, MEMFD_LEN, SEED_MEMFD);
	WL_CHECK(bad < 0, "memfd differs at %zd", bad);
	WL_CHECK(write(22, "x", 1) == 1, "memfd is no longer writable");

	/* Sealed against writes: no write(), and its mapping cannot become writable. */
	WL_CHECK(fcntl(23, F_GET_SEALS) == (F_SEAL_WRITE | F_SEAL_SEAL), "wl-sealed seals 0x%x, were 0x%x",
		 fcntl(23, F_GET_SEALS), F_SEAL_WRITE | F_SEAL_SEAL);
	WL_CHECK(write(23, "x", 1) < 0 && errno == EPERM, "wl-sealed takes write()");
	WL_CHECK(!memcmp(sealed_map, "sealed", 6), "wl-sealed mapping reads '%.6s'", sealed_map);
	WL_CHECK(mprotect(sealed_map, 4096, PROT_READ | PROT_WRITE) < 0, "wl-sealed mapping can be made writable");
	WL_CHECK(fcntl(23, F_ADD_SEALS, F_SEAL_GROW) < 0 && errno == EPERM, "wl-sealed lost F_SEAL_SEAL");

	/* Sealed against future writes: the old writable mapping still writes. */
	WL_CHECK(fcntl(24, F_GET_SEALS) == (F_SEAL_FUTURE_WRITE | F_SEAL_SEAL), "wl-future seals 0x%x, were 0x%x",
		 fcntl(24, F_GET_SEALS), F_SEAL_FUTURE_WRITE | F_SEAL_SEAL);
	WL_CHECK(write(24, "x", 1) < 0 && errno == EPERM, "wl-future takes write()");
	WL_CHECK(!memcmp(future_map, "future", 6), "wl-future mapping reads '%.6s'", future_map);
	memcpy(future_map, "FUTURE", 6);
	WL_CHECK(pread(24, text, 6, 0) == 6 && !memcmp(text, "FUTURE", 6),
		 "a write through the old wl-future mapping does not reach the memfd");
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 24, 0);
	WL_CHECK(m == MAP_FAILED, "wl-future can be mapped writable anew");
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);
	setup();
	n_before = snapshot(before);
	wl_ready();
	wl_wait();
	check();
	wl_pass();
}
