/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mappings of huge TLB pages (MAP_HUGETLB, the default huge page size):
 * a private one and a shared one, two huge pages each, written here and
 * there; then a child is forked that shares both.  After restore each
 * mapping must still be of huge pages (smaps "ht", on the same hugetlbfs
 * device), hold its bytes in parent and child, and the shared one must
 * still be shared: what the child writes, the parent reads.  And a memfd
 * of huge pages (MFD_HUGETLB), mapped shared and private, its private
 * mapping written: its file and its private copy must both be back.
 *
 * Needs 16 free huge pages (the test reserves them).
 */
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "wl.h"

#define HUGE (2ul << 20)
#define LEN  (2 * HUGE)
#define PG   4096ul

static char smaps[1 << 20];

/* The device and VmFlags line of the mapping at @at. */
static bool mapping_of(const void *at, char *dev, size_t dev_len, char *flags, size_t flags_len)
{
	char head[32];
	int n = snprintf(head, sizeof(head), "%lx-", (unsigned long)at);

	if (wl_read_file("/proc/self/smaps", smaps, sizeof(smaps)) <= 0)
		return false;
	char *p = smaps;
	while (p && strncmp(p, head, n)) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	char addrs[64], perms[8], off[32];
	if (!p || sscanf(p, "%63s %7s %31s %31s", addrs, perms, off, dev) != 4)
		return false;
	(void)dev_len;
	char *vf = strstr(p, "\nVmFlags:");
	if (!vf)
		return false;
	vf += strlen("\nVmFlags:");
	size_t k = 0;
	while (vf[k] && vf[k] != '\n' && k + 1 < flags_len) {
		flags[k] = vf[k];
		k++;
	}
	flags[k] = '\0';
	return true;
}

/* Write @seed's pattern into the first and last 4 KiB of each huge page. */
static void mark(uint8_t *m, uint64_t seed)
{
	for (size_t h = 0; h < LEN / HUGE; h++) {
		wl_fill(m + h * HUGE, PG, seed * 100 + 2 * h);
		wl_fill(m + h * HUGE + HUGE - PG, PG, seed * 100 + 2 * h + 1);
	}
}

static bool marked(const uint8_t *m, uint64_t seed)
{
	for (size_t h = 0; h < LEN / HUGE; h++)
		if (wl_mismatch(m + h * HUGE, PG, seed * 100 + 2 * h) >= 0 ||
		    wl_mismatch(m + h * HUGE + HUGE - PG, PG, seed * 100 + 2 * h + 1) >= 0)
			return false;
	return true;
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);

	uint8_t *priv = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	WL_SETUP(priv != MAP_FAILED, "map private huge pages (are huge pages reserved?)");
	uint8_t *shared = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	WL_SETUP(shared != MAP_FAILED, "map shared huge pages (are huge pages reserved?)");
	mark(priv, 1);
	mark(shared, 2);
	/* A memfd of huge pages, mapped shared and (written) private. */
	int mfd = memfd_create("huge", MFD_HUGETLB);
	WL_SETUP(mfd >= 0 && ftruncate(mfd, HUGE) == 0, "memfd_create(MFD_HUGETLB)");
	uint8_t *mshared = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	uint8_t *mpriv = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd, 0);
	WL_SETUP(mshared != MAP_FAILED && mpriv != MAP_FAILED, "map the memfd of huge pages");
	wl_fill(mshared, PG, 41);
	wl_fill(mpriv + PG, PG, 42); /* a private copy of the huge page */
	char dev_p[32], dev_s[32], flags[256];
	WL_SETUP(mapping_of(priv, dev_p, sizeof(dev_p), flags, sizeof(flags)) && strstr(flags, " ht"),
		 "the private mapping is not of huge pages");
	WL_SETUP(mapping_of(shared, dev_s, sizeof(dev_s), flags, sizeof(flags)) && strstr(flags, " ht"),
		 "the shared mapping is not of huge pages");

	int go[2], done[2];
	WL_SETUP(pipe(go) == 0 && pipe(done) == 0, "pipe");
	pid_t child = fork();
	WL_SETUP(child >= 0, "fork");
	if (!child) {
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(10);
		if (!marked(priv, 1))
			_exit(11);
		if (!marked(shared, 2))
			_exit(12);
		mark(shared, 3); /* for the parent to see */
		_exit(write(done[1], "d", 1) == 1 ? 0 : 13);
	}

	wl_ready();
	wl_wait();

	char dev[32];
	WL_CHECK(mapping_of(priv, dev, sizeof(dev), flags, sizeof(flags)), "no private mapping after restore");
	WL_CHECK(strstr(flags, " ht"), "the private mapping is no longer of huge pages: VmFlags%s", flags);
	WL_CHECK(!strcmp(dev, dev_p), "the private mapping's device was %s, is %s", dev_p, dev);
	WL_CHECK(mapping_of(shared, dev, sizeof(dev), flags, sizeof(flags)), "no shared mapping after restore");
	WL_CHECK(strstr(flags, " ht"), "the shared mapping is no longer of huge pages: VmFlags%s", flags);
	WL_CHECK(!strcmp(dev, dev_s), "the shared mapping's device was %s, is %s", dev_s, dev);
	WL_CHECK(marked(priv, 1), "the private huge pages differ");
	WL_CHECK(wl_mismatch(mshared, PG, 41) < 0, "the memfd of huge pages lost its bytes");
	WL_CHECK(!mshared[PG], "a private write reached the memfd of huge pages");
	WL_CHECK(wl_mismatch(mpriv + PG, PG, 42) < 0, "the private copy of the memfd's huge page differs");
	WL_CHECK(mapping_of(mpriv, dev, sizeof(dev), flags, sizeof(flags)) && strstr(flags, " ht"),
		 "the private mapping of the memfd is no longer of huge pages");
	char fdpath[64], target[128];
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", mfd);
	ssize_t tn = readlink(fdpath, target, sizeof(target) - 1);
	WL_CHECK(tn > 0 && (target[tn] = '\0', strstr(target, "memfd:huge")), "the memfd's fd is gone or renamed");
	WL_CHECK(marked(shared, 2), "the shared huge pages differ");

	char c;
	WL_CHECK(write(go[1], "g", 1) == 1, "cannot wake the child");
	int st;
	WL_CHECK(waitpid(child, &st, 0) == child, "waitpid: %s", strerror(errno));
	WL_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: exit %d (11, 12: its huge pages differ)",
		 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	WL_CHECK(read(done[0], &c, 1) == 1, "the child did not finish");
	WL_CHECK(marked(shared, 3), "the child's write to the shared huge pages is not seen: no longer shared");
	wl_pass();
}
