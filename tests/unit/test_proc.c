// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the /proc parsers (engine/proc).  Most feed text captured on
 * Linux 6.18 (tests/unit/data/proc/, made by small programs that created
 * each kind of VMA, fd, timer and lock); a few read the running process's
 * own /proc; the rest check that malformed text fails with -EINVAL and a
 * message, without crashing or leaking (run under valgrind too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

#include "proc/proc.h"
#include "core/cleanup.h"
#include "core/error.h"

/* ---- helpers ---------------------------------------------------------- */

/* The kernel's O_LARGEFILE on x86_64; glibc defines O_LARGEFILE as 0 there. */
#define K_O_LARGEFILE 0100000

static char data_dir[PATH_MAX];

/* tests/unit/data/proc from the repository root, or next to the binary. */
static int find_data_dir(void **state)
{
	char exe[PATH_MAX];
	ssize_t n;
	int i;

	if (access("tests/unit/data/proc/status-groups.txt", R_OK) == 0) {
		snprintf(data_dir, sizeof(data_dir), "tests/unit/data/proc");
		return 0;
	}
	/* build/tests/test_proc -> ../../tests/unit/data/proc */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -1;
	exe[n] = '\0';
	for (i = 0; i < 3; i++) {
		char *slash = strrchr(exe, '/');

		if (!slash)
			return -1;
		*slash = '\0';
	}
	snprintf(data_dir, sizeof(data_dir), "%.*s/tests/unit/data/proc", PATH_MAX - 64, exe);
	return 0;
}

static char *load(const char *name)
{
	char path[PATH_MAX + 64];
	char *buf;
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	f = fopen(path, "re");
	if (!f)
		fail_msg("cannot open sample %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* The failure was described, naming the file kind. */
static void assert_error_names(const char *kind)
{
	const char *msg = oc_error_message();

	if (strncmp(msg, kind, strlen(kind)) != 0)
		fail_msg("error message \"%s\" does not start with \"%s\"", msg, kind);
}

/* ---- maps / smaps ----------------------------------------------------- */

static const struct oc_proc_vma *find_vma(const struct oc_proc_vma *v, size_t n, uint64_t start)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].start == start)
			return &v[i];
	fail_msg("no VMA at %#llx", (unsigned long long)start);
	return NULL;
}

static void check_cap_layout(const struct oc_proc_vma *v, size_t n, bool smaps)
{
	const struct oc_proc_vma *m;

	assert_int_equal(n, 33);

	/* The executable's text: a private file mapping. */
	m = &v[1];
	assert_int_equal(m->start, 0x563114b62000ULL);
	assert_int_equal(m->end, 0x563114b63000ULL);
	assert_int_equal(m->prot, PROT_READ | PROT_EXEC);
	assert_false(m->shared);
	assert_int_equal(m->pgoff, 0x1000);
	assert_int_equal(m->dev_major, 0xfe);
	assert_int_equal(m->dev_minor, 0);
	assert_int_equal(m->inode, 10953185);
	assert_int_equal(m->kind, OC_VMA_FILE);
	assert_string_equal(m->path, "/tmp/cap/cap");
	assert_false(m->deleted);

	m = &v[5];
	assert_int_equal(m->kind, OC_VMA_HEAP);
	assert_string_equal(m->path, "[heap]");
	assert_int_equal(m->prot, PROT_READ | PROT_WRITE);

	/* A deleted file whose name has a space, mapped shared. */
	m = &v[6];
	assert_int_equal(m->kind, OC_VMA_FILE);
	assert_string_equal(m->path, "/tmp/cap/del me");
	assert_true(m->deleted);
	assert_true(m->shared);
	assert_int_equal(m->prot, PROT_READ);
	assert_int_equal(m->inode, 10953202);

	/* Anonymous memory: no name at all. */
	m = &v[7];
	assert_int_equal(m->kind, OC_VMA_ANON);
	assert_string_equal(m->path, "");
	assert_int_equal(m->dev_major, 0);
	assert_int_equal(m->inode, 0);
	assert_int_equal(m->end - m->start, 0x4000);

	m = &v[8];
	assert_int_equal(m->prot, PROT_READ | PROT_WRITE | PROT_EXEC);

	/* memfd and shared anonymous memory are deleted shmem files. */
	m = &v[18];
	assert_string_equal(m->path, "/memfd:mymem");
	assert_true(m->deleted);
	assert_true(m->shared);
	assert_int_equal(m->dev_major, 0);
	assert_int_equal(m->dev_minor, 1);
	assert_int_equal(m->inode, 1025);
	m = &v[21];
	assert_string_equal(m->path, "/dev/zero");
	assert_true(m->deleted);
	assert_true(m->shared);
	assert_int_equal(m->prot, PROT_READ | PROT_WRITE);

	/* A PROT_NONE reservation. */
	m = &v[20];
	assert_int_equal(m->prot, 0);
	assert_int_equal(m->kind, OC_VMA_ANON);

	/* Both vvar areas of 6.13+, then the vdso. */
	assert_int_equal(v[23].kind, OC_VMA_VVAR);
	assert_string_equal(v[23].path, "[vvar]");
	assert_int_equal(v[24].kind, OC_VMA_VVAR_VCLOCK);
	assert_string_equal(v[24].path, "[vvar_vclock]");
	assert_int_equal(v[25].kind, OC_VMA_VDSO);
	assert_int_equal(v[25].prot, PROT_READ | PROT_EXEC);

	m = &v[31];
	assert_int_equal(m->kind, OC_VMA_STACK);
	assert_int_equal(m->start, 0x7ffffee31000ULL);
	assert_int_equal(m->end, 0x7ffffee52000ULL);

	m = &v[32];
	assert_int_equal(m->kind, OC_VMA_VSYSCALL);
	assert_int_equal(m->start, 0xffffffffff600000ULL);
	assert_int_equal(m->end, 0xffffffffff601000ULL);
	assert_int_equal(m->prot, PROT_EXEC);

	for (size_t i = 0; i < n; i++) {
		assert_int_equal(v[i].has_smaps, smaps);
		assert_int_equal(v[i].has_vmflags, smaps);
	}
}

static void test_maps_captured(void **state)
{
	_cleanup_free_ char *text = load("maps.txt");
	struct oc_proc_vma *v;
	size_t n;

	assert_int_equal(oc_proc_parse_maps(text, &v, &n), 0);
	check_cap_layout(v, n, false);
	assert_int_equal(v[7].vmflags, 0);
	oc_proc_vmas_free(v, n);
}

static void test_smaps_captured(void **state)
{
	_cleanup_free_ char *text = load("smaps.txt");
	const struct oc_proc_vma *m;
	struct oc_proc_vma *v;
	size_t n;

	assert_int_equal(oc_proc_parse_maps(text, &v, &n), 0);
	check_cap_layout(v, n, true);

	m = &v[1];
	assert_int_equal(m->vmflags, OC_VMF_RD | OC_VMF_EX | OC_VMF_MR | OC_VMF_MW | OC_VMF_ME);
	assert_int_equal(m->size_kb, 4);
	assert_int_equal(m->kernel_page_size_kb, 4);
	assert_int_equal(m->mmu_page_size_kb, 4);
	assert_int_equal(m->rss_kb, 4);
	assert_int_equal(m->anonymous_kb, 0);

	m = &v[5]; /* heap */
	assert_int_equal(m->size_kb, 132);
	assert_int_equal(m->rss_kb, 8);
	assert_int_equal(m->anonymous_kb, 8);

	m = &v[6]; /* shared file */
	assert_int_equal(m->vmflags, OC_VMF_RD | OC_VMF_SH | OC_VMF_MR | OC_VMF_MW | OC_VMF_ME | OC_VMF_MS);

	m = &v[7]; /* MADV_GUARD_INSTALL */
	assert_true(m->vmflags & OC_VMF_GU);

	m = &v[8]; /* MADV_DONTFORK + MADV_HUGEPAGE */
	assert_true(m->vmflags & OC_VMF_DC);
	assert_true(m->vmflags & OC_VMF_HG);
	assert_true(m->vmflags & OC_VMF_EX);

	assert_true(v[16].vmflags & OC_VMF_WF); /* MADV_WIPEONFORK */

	m = &v[17]; /* MAP_LOCKED */
	assert_true(m->vmflags & OC_VMF_LO);
	assert_int_equal(m->locked_kb, 4);

	assert_int_equal(v[20].vmflags, OC_VMF_MR | OC_VMF_MW | OC_VMF_ME | OC_VMF_NR);
	assert_int_equal(v[23].vmflags, OC_VMF_RD | OC_VMF_MR | OC_VMF_PF | OC_VMF_IO | OC_VMF_DE | OC_VMF_DD);
	assert_int_equal(v[25].vmflags, OC_VMF_RD | OC_VMF_EX | OC_VMF_MR | OC_VMF_MW | OC_VMF_ME | OC_VMF_DE);

	m = &v[31]; /* stack */
	assert_true(m->vmflags & OC_VMF_GD);
	assert_int_equal(m->rss_kb, 48);
	assert_int_equal(m->anonymous_kb, 48);
	assert_int_equal(m->swap_kb, 0);
	assert_int_equal(m->anon_huge_pages_kb, 0);

	assert_int_equal(v[32].vmflags, OC_VMF_EX);
	oc_proc_vmas_free(v, n);
}

static void test_smaps_flags_captured(void **state)
{
	_cleanup_free_ char *text = load("smaps-flags.txt");
	struct oc_proc_vma *v;
	size_t n;

	assert_int_equal(oc_proc_parse_maps(text, &v, &n), 0);
	assert_int_equal(n, 45);

	assert_true(find_vma(v, n, 0x7f3937537000ULL)->vmflags & OC_VMF_SR);
	assert_true(find_vma(v, n, 0x7f3937539000ULL)->vmflags & OC_VMF_RR);
	assert_true(find_vma(v, n, 0x7f393753b000ULL)->vmflags & OC_VMF_DD);
	assert_true(find_vma(v, n, 0x7f393753d000ULL)->vmflags & OC_VMF_NH);
	assert_true(find_vma(v, n, 0x7f3937540000ULL)->vmflags & OC_VMF_MG);
	assert_int_equal(find_vma(v, n, 0x7f3937542000ULL)->vmflags,
			 OC_VMF_RD | OC_VMF_WR | OC_VMF_MR | OC_VMF_MW | OC_VMF_ME | OC_VMF_LO | OC_VMF_LF | OC_VMF_AC);
	assert_true(find_vma(v, n, 0x7f3937544000ULL)->vmflags & OC_VMF_SL);
	/* MAP_GROWSDOWN */
	assert_true(find_vma(v, n, 0x7f3937f32000ULL)->vmflags & OC_VMF_GD);
	/* userfaultfd registered MISSING | WP */
	assert_int_equal(find_vma(v, n, 0x7f3937f34000ULL)->vmflags & (OC_VMF_UM | OC_VMF_UW), OC_VMF_UM | OC_VMF_UW);
	/* A thread stack's guard page */
	assert_int_equal(find_vma(v, n, 0x7f3937547000ULL)->prot, 0);
	oc_proc_vmas_free(v, n);
}

/* Names this kernel could not produce here (no CONFIG_ANON_VMA_NAME). */
static void test_maps_special_names(void **state)
{
	const char *text = "00400000-00401000 r-xp 00000000 103:1f 42 /opt/my app/bin (x) (deleted)\n"
			   "00401000-00402000 rw-p 00000000 00:00 0                          [anon:my buffer]\n"
			   "00402000-00403000 rw-s 00000000 00:01 7                          [anon_shmem:shm]\n"
			   "00403000-00404000 r-xp 00000000 00:00 0                          [uprobes]\n"
			   "00404000-00405000 rw-s 00000000 00:0f 1055                       anon_inode:[perf_event]\n"
			   "00405000-00406000 r--p 00000000 00:00 0                          [stack:1234]\n"
			   "00406000-00407000 r--p 00000000 00:00 0                          [vsyscall]  x\n"
			   "7ffd00000000-7ffd00001000 r-xp 00000000 00:00 0                  [vdso]\n";
	struct oc_proc_vma *v;
	size_t n;

	assert_int_equal(oc_proc_parse_maps(text, &v, &n), 0);
	assert_int_equal(n, 8);
	assert_int_equal(v[0].kind, OC_VMA_FILE);
	assert_string_equal(v[0].path, "/opt/my app/bin (x)");
	assert_true(v[0].deleted);
	assert_int_equal(v[0].dev_major, 0x103);
	assert_int_equal(v[0].dev_minor, 0x1f);
	assert_int_equal(v[1].kind, OC_VMA_ANON_NAMED);
	assert_string_equal(v[1].path, "[anon:my buffer]");
	assert_false(v[1].deleted);
	assert_int_equal(v[2].kind, OC_VMA_ANON_SHMEM_NAMED);
	assert_string_equal(v[2].path, "[anon_shmem:shm]");
	assert_int_equal(v[3].kind, OC_VMA_UPROBES);
	assert_int_equal(v[4].kind, OC_VMA_OTHER);
	assert_string_equal(v[4].path, "anon_inode:[perf_event]");
	assert_int_equal(v[5].kind, OC_VMA_SPECIAL);
	assert_int_equal(v[6].kind, OC_VMA_OTHER);
	assert_int_equal(v[7].kind, OC_VMA_VDSO);
	for (size_t i = 0; i < n; i++)
		assert_false(v[i].has_smaps);
	oc_proc_vmas_free(v, n);
}

static void test_smaps_fields(void **state)
{
	/* No vvar at all (it may be absent), hugetlb, THP, swap, codes we do not know. */
	const char *text = "7f0000000000-7f0000200000 rw-s 00000000 00:10 99 /anon_hugepage (deleted)\n"
			   "Size:               2048 kB\n"
			   "KernelPageSize:     2048 kB\n"
			   "MMUPageSize:        2048 kB\n"
			   "Rss:                   0 kB\n"
			   "FutureField:        what ever\n"
			   "VmFlags: rd wr sh mr mw me ms de ht zz xyz \n"
			   "7f0000200000-7f0000600000 rw-p 00000000 00:00 0\n"
			   "Rss:                2060 kB\n"
			   "Anonymous:          2060 kB\n"
			   "AnonHugePages:      2048 kB\n"
			   "Swap:                 12 kB\n"
			   "THPeligible:    1\n"
			   "ProtectionKey:         0\n"
			   "VmFlags: rd wr mr mw me ac hg ss\n"
			   "\n";
	struct oc_proc_vma *v;
	size_t n;

	assert_int_equal(oc_proc_parse_maps(text, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].kernel_page_size_kb, 2048);
	assert_int_equal(v[0].vmflags, OC_VMF_RD | OC_VMF_WR | OC_VMF_SH | OC_VMF_MR | OC_VMF_MW | OC_VMF_ME |
					       OC_VMF_MS | OC_VMF_DE | OC_VMF_HT);
	assert_string_equal(v[0].path, "/anon_hugepage");
	assert_true(v[0].deleted);
	assert_int_equal(v[1].kind, OC_VMA_ANON);
	assert_int_equal(v[1].rss_kb, 2060);
	assert_int_equal(v[1].anonymous_kb, 2060);
	assert_int_equal(v[1].anon_huge_pages_kb, 2048);
	assert_int_equal(v[1].swap_kb, 12);
	assert_int_equal(v[1].size_kb, 0); /* no Size line */
	assert_int_equal(v[1].vmflags,
			 OC_VMF_RD | OC_VMF_WR | OC_VMF_MR | OC_VMF_MW | OC_VMF_ME | OC_VMF_AC | OC_VMF_HG | OC_VMF_SS);
	oc_proc_vmas_free(v, n);
}

static void test_maps_empty(void **state)
{
	struct oc_proc_vma *v = (void *)0x1;
	size_t n = 99;

	/* A zombie or a kernel thread has no VMAs. */
	assert_int_equal(oc_proc_parse_maps("", &v, &n), 0);
	assert_null(v);
	assert_int_equal(n, 0);
}

static void test_vmflag_codes(void **state)
{
	const char *all[] = { "rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "pf", "dw", "lo", "io", "sr",
			      "rr", "dc", "de", "ac", "nr", "ht", "sf", "nl", "ar", "wf", "dd", "sd", "mm", "hg",
			      "nh", "mg", "um", "uw", "ui", "ss", "sl", "lf", "dp", "gu", "bt", "mt", "mp" };
	uint64_t seen = 0;

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		uint64_t f = oc_vmflag_from_code(all[i], 2);

		assert_int_not_equal(f, 0);
		assert_int_equal(f & seen, 0);
		seen |= f;
		assert_string_equal(oc_vmflag_code(f), all[i]);
	}
	assert_int_equal(oc_vmflag_from_code("gd", 2), OC_VMF_GD);
	assert_int_equal(oc_vmflag_from_code("zz", 2), 0);
	assert_int_equal(oc_vmflag_from_code("rdx", 3), 0);
	assert_int_equal(oc_vmflag_from_code("r", 1), 0);
	assert_null(oc_vmflag_code(OC_VMF_RD | OC_VMF_WR));
	assert_null(oc_vmflag_code(0));
}

static void test_maps_malformed(void **state)
{
	static const char *const bad[] = {
		"563114b61000-563114b62000 r--p 00000000 fe:00\n", /* truncated */
		"563114b61000-563114b62000 r--p 00000000 fe\n",
		"563114b61000-563114b62000 r--p\n",
		"563114b61000-\n",
		"563114b61000-563114b6200g r--p 00000000 fe:00 1 /x\n", /* garbage */
		"563114b61000-563114b62000 r--p 0000000z fe:00 1 /x\n",
		"563114b61000-563114b62000 r--p 00000000 fe:00 12x /x\n",
		"563114b61000-563114b62000 r--p 00000000 fe-00 1 /x\n",
		"563114b61000-563114b62000 rw?p 00000000 fe:00 1 /x\n",
		"563114b61000-563114b62000 rw-x 00000000 fe:00 1 /x\n",
		"563114b61000-563114b62000 rw- 00000000 fe:00 1 /x\n",
		"563114b62000-563114b61000 r--p 00000000 fe:00 1 /x\n",		      /* reversed */
		"563114b61000-563114b61000 r--p 00000000 fe:00 1 /x\n",		      /* empty */
		"10000000000000000-10000000000001000 r--p 00000000 00:00 0\n",	      /* > 64 bits */
		"1000-2000 r--p 00000000 00:00 0\n1800-3000 r--p 00000000 00:00 0\n", /* overlap */
		"Rss:                   4 kB\n",				      /* field first */
		"1000-2000 r--p 00000000 00:00 0\nRss:  x kB\n",
		"1000-2000 r--p 00000000 00:00 0\nRss:  4 MB\n",
		"1000-2000 r--p 00000000 00:00 0\nRss:  -4 kB\n",
		"1000-2000 r--p 00000000 00:00 0\nRss:\n",
		"1000-2000 r--p 00000000 00:00 0\nVmFlags: rd\nVmFlags: wr\n",
		"1000-2000 r--p 00000000 00:00 0\nthis is not a field\n",
		"garbage\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct oc_proc_vma *v = (void *)0x1;
		size_t n = 12345;

		oc_error_clear();
		if (oc_proc_parse_maps(bad[i], &v, &n) != -EINVAL)
			fail_msg("accepted malformed maps #%zu: %s", i, bad[i]);
		assert_error_names("maps: line ");
		/* Outputs untouched on failure. */
		assert_ptr_equal(v, (void *)0x1);
		assert_int_equal(n, 12345);
	}
}

/* Our own smaps: the stack holds a local, the text holds this function. */
static void test_smaps_live(void **state)
{
	_cleanup_free_ char *text = NULL;
	struct oc_proc_vma *v;
	uintptr_t local = (uintptr_t)&text, code = (uintptr_t)test_smaps_live;
	bool found_stack = false, found_code = false;
	size_t n;

	assert_int_equal(oc_proc_read(0, "smaps", &text, NULL), 0);
	assert_int_equal(oc_proc_parse_maps(text, &v, &n), 0);
	assert_true(n > 5);
	for (size_t i = 0; i < n; i++) {
		assert_true(v[i].has_vmflags);
		if (local >= v[i].start && local < v[i].end) {
			/* [stack], or plain anonymous memory under valgrind */
			assert_true(v[i].kind == OC_VMA_STACK || v[i].kind == OC_VMA_ANON);
			assert_true(v[i].prot & PROT_WRITE);
			found_stack = true;
		}
		if (code >= v[i].start && code < v[i].end) {
			assert_int_equal(v[i].kind, OC_VMA_FILE);
			assert_true(v[i].prot & PROT_EXEC);
			assert_true(v[i].vmflags & OC_VMF_EX);
			found_code = true;
		}
	}
	assert_true(found_stack);
	assert_true(found_code);
	oc_proc_vmas_free(v, n);
}

/* ---- status ----------------------------------------------------------- */

static void test_status_groups(void **state)
{
	_cleanup_free_ char *text = load("status-groups.txt");
	struct oc_proc_status st;
	static const gid_t groups[] = { 4, 24, 27, 100, 65534 };

	assert_int_equal(oc_proc_parse_status(text, &st), 0);
	assert_string_equal(st.name, "a) (b c)");
	assert_true(st.has_umask);
	assert_int_equal(st.umask, 027);
	assert_int_equal(st.state, 'R');
	assert_int_equal(st.tgid, 8735);
	assert_int_equal(st.pid, 8735);
	assert_int_equal(st.ppid, 8734);
	assert_true(st.has_tracer_pid);
	assert_int_equal(st.tracer_pid, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(st.uid[i], 0);
	assert_int_equal(st.gid[0], 0);
	assert_int_equal(st.gid[1], 10);
	assert_int_equal(st.gid[2], 100);
	assert_int_equal(st.gid[3], 10);

	assert_true(st.has_groups);
	assert_int_equal(st.n_groups, ARRAY_SIZE(groups));
	assert_memory_equal(st.groups, groups, sizeof(groups));

	/* In a child pid namespace: two levels. */
	assert_true(st.has_nstgid);
	assert_int_equal(st.n_nstgid, 2);
	assert_int_equal(st.nstgid[0], 8735);
	assert_int_equal(st.nstgid[1], 1);
	assert_int_equal(st.n_nspid, 2);
	assert_int_equal(st.nspid[0], 8735);
	assert_int_equal(st.nspid[1], 1);
	assert_int_equal(st.n_nspgid, 2);
	assert_int_equal(st.nspgid[0], 8725);
	assert_int_equal(st.nspgid[1], 0);
	assert_int_equal(st.n_nssid, 2);
	assert_int_equal(st.nssid[0], 6946);
	assert_int_equal(st.nssid[1], 0);

	assert_true(st.has_threads);
	assert_int_equal(st.threads, 2);
	assert_true(st.has_sigq);
	assert_int_equal(st.sigq_queued, 1);
	assert_int_equal(st.sigq_limit, 96365);
	/* SIGUSR2 pending and blocked, SIGRTMIN+3 blocked, SIGPIPE ignored,
	 * SIGHUP and SIGINT caught (+ SIGRTMIN-ish bit 32 from glibc). */
	assert_int_equal(st.sigpnd, 1ULL << (SIGUSR2 - 1));
	assert_int_equal(st.shdpnd, 0);
	assert_int_equal(st.sigblk, (1ULL << (SIGUSR2 - 1)) | (1ULL << 36));
	assert_int_equal(st.sigign, 1ULL << (SIGPIPE - 1));
	assert_int_equal(st.sigcgt, (1ULL << (SIGHUP - 1)) | (1ULL << (SIGINT - 1)) | (1ULL << 32));
	assert_true(st.has_sigpnd && st.has_shdpnd && st.has_sigblk && st.has_sigign && st.has_sigcgt);

	assert_true(st.has_cap_inh && st.has_cap_prm && st.has_cap_eff && st.has_cap_bnd && st.has_cap_amb);
	assert_int_equal(st.cap_inh, 0);
	assert_int_equal(st.cap_prm, 0x000001fffeffffffULL);
	assert_int_equal(st.cap_eff, 0x000001fffeffffffULL);
	assert_int_equal(st.cap_bnd, 0x000001fffeffffffULL);
	assert_int_equal(st.cap_amb, 0);

	assert_true(st.has_no_new_privs);
	assert_true(st.no_new_privs);
	assert_true(st.has_seccomp);
	assert_int_equal(st.seccomp, 2);
	assert_true(st.has_seccomp_filters);
	assert_int_equal(st.seccomp_filters, 2);

	oc_proc_status_clear(&st);
	assert_null(st.groups);
	assert_int_equal(st.n_groups, 0);
	oc_proc_status_clear(NULL);
}

static void test_status_thread_and_escape(void **state)
{
	_cleanup_free_ char *thread = load("status-thread.txt");
	_cleanup_free_ char *escape = load("status-escape.txt");
	_cleanup_free_ char *nogroups = load("status-nogroups.txt");
	struct oc_proc_status st;

	assert_int_equal(oc_proc_parse_status(thread, &st), 0);
	assert_string_equal(st.name, "worker (x)");
	assert_int_equal(st.tgid, 8735);
	assert_int_equal(st.pid, 8736);
	assert_int_equal(st.n_nspid, 2);
	assert_int_equal(st.nspid[1], 2);
	assert_int_equal(st.nstgid[1], 1);
	oc_proc_status_clear(&st);

	/* The kernel escapes '\\' and '\n' in Name, and nothing else. */
	assert_int_equal(oc_proc_parse_status(escape, &st), 0);
	assert_string_equal(st.name, "tab\there\\n\nx");
	oc_proc_status_clear(&st);

	assert_int_equal(oc_proc_parse_status(nogroups, &st), 0);
	assert_string_equal(st.name, "cap");
	assert_true(st.has_groups);
	assert_int_equal(st.n_groups, 0);
	assert_null(st.groups);
	assert_int_equal(st.n_nspid, 1);
	assert_int_equal(st.nspid[0], 7518);
	assert_int_equal(st.umask, 022);
	assert_false(st.no_new_privs);
	assert_int_equal(st.seccomp, 0);
	oc_proc_status_clear(&st);
}

static void test_status_minimal(void **state)
{
	/* Only the required lines: every has_ flag false. */
	const char *text = "Name:\t  lead\n"
			   "State:\tS (sleeping)\n"
			   "Tgid:\t5\n"
			   "Pid:\t6\n"
			   "PPid:\t1\n"
			   "Uid:\t1000\t1001\t1002\t1003\n"
			   "Gid:\t4294967294\t1\t2\t3";
	struct oc_proc_status st;

	assert_int_equal(oc_proc_parse_status(text, &st), 0);
	assert_string_equal(st.name, "  lead");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.uid[3], 1003);
	assert_int_equal(st.gid[0], 4294967294u);
	assert_false(st.has_umask || st.has_tracer_pid || st.has_groups || st.has_nstgid || st.has_nspid ||
		     st.has_nspgid || st.has_nssid || st.has_threads || st.has_sigq || st.has_sigpnd || st.has_shdpnd ||
		     st.has_sigblk || st.has_sigign || st.has_sigcgt || st.has_cap_inh || st.has_cap_prm ||
		     st.has_cap_eff || st.has_cap_bnd || st.has_cap_amb || st.has_no_new_privs || st.has_seccomp ||
		     st.has_seccomp_filters);
	oc_proc_status_clear(&st);
}

#define STATUS_HEAD "Name:\tx\nState:\tR (running)\nTgid:\t1\nPid:\t1\nPPid:\t0\n"
#define STATUS_IDS  "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"

static void test_status_malformed(void **state)
{
	static const char *const bad[] = {
		"", /* empty */
		"\n\n",
		STATUS_HEAD, /* no Uid/Gid */
		STATUS_HEAD "Uid:\t0\t0\n"
			    "Gid:\t0\t0\t0\t0\n", /* truncated */
		STATUS_HEAD "Uid:\t0\t0\t0\t0\t0\n"
			    "Gid:\t0\t0\t0\t0\n",
		STATUS_HEAD "Uid:\t0\t0\t0\tx\n"
			    "Gid:\t0\t0\t0\t0\n",
		"Name:\tx\nState:\tR\nTgid:\t1\nPid:\t12a\nPPid:\t0\n" STATUS_IDS, /* garbage */
		"Name:\tx\nState:\tR\nTgid:\t1\nPid:\t\nPPid:\t0\n" STATUS_IDS,
		"Name:\tx\nState:\t\nTgid:\t1\nPid:\t1\nPPid:\t0\n" STATUS_IDS,
		"Name:\tx\nState:\tRS\nTgid:\t1\nPid:\t1\nPPid:\t0\n" STATUS_IDS,
		"Name:\tx\nState:\tR\nTgid:\t99999999999\nPid:\t1\nPPid:\t0\n" STATUS_IDS,
		STATUS_HEAD STATUS_IDS "Pid:\t1\n", /* duplicate */
		STATUS_HEAD STATUS_IDS "no colon here\n",
		STATUS_HEAD STATUS_IDS ":\tempty key\n",
		"Name:\ta\\qb\nState:\tR\nTgid:\t1\nPid:\t1\nPPid:\t0\n" STATUS_IDS, /* bad escape */
		"Name:\ta\\\nState:\tR\nTgid:\t1\nPid:\t1\nPPid:\t0\n" STATUS_IDS,
		"Name:\t0123456789012345678901234567890123456789012345678901234567890123\n"
		"State:\tR\nTgid:\t1\nPid:\t1\nPPid:\t0\n" STATUS_IDS, /* 64 bytes */
		STATUS_HEAD STATUS_IDS "Groups:\t1 2 x\n",
		STATUS_HEAD STATUS_IDS "Groups:\t1 -2\n",
		STATUS_HEAD STATUS_IDS "NSpid:\t\n",
		STATUS_HEAD STATUS_IDS "NSpid:\t1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 "
				       "22 23 24 25 26 27 28 29 30 31 32 33\n", /* > 32 levels */
		STATUS_HEAD STATUS_IDS "SigQ:\t4-96365\n",
		STATUS_HEAD STATUS_IDS "SigQ:\t4/\n",
		STATUS_HEAD STATUS_IDS "CapEff:\tzz\n",
		STATUS_HEAD STATUS_IDS "CapEff:\t10000000000000000\n", /* 65 bits */
		STATUS_HEAD STATUS_IDS "SigBlk:\t0x1\n",
		STATUS_HEAD STATUS_IDS "Umask:\t0029\n",
		STATUS_HEAD STATUS_IDS "NoNewPrivs:\t2\n",
		STATUS_HEAD STATUS_IDS "Threads:\t-1\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct oc_proc_status st = { .pid = 4242 };

		oc_error_clear();
		if (oc_proc_parse_status(bad[i], &st) != -EINVAL)
			fail_msg("accepted malformed status #%zu: %s", i, bad[i]);
		assert_error_names("status: ");
		assert_int_equal(st.pid, 4242);
	}
}

/* ---- stat ------------------------------------------------------------- */

static void check_cap2_stat(const struct oc_proc_stat *st)
{
	assert_int_equal(st->state, 'R');
	assert_int_equal(st->ppid, 8734);
	assert_int_equal(st->pgrp, 8725);
	assert_int_equal(st->session, 6946);
	assert_int_equal(st->tty_nr, 0);
	assert_int_equal(st->tpgid, -1);
	assert_int_equal(st->priority, 20);
	assert_int_equal(st->nice, 0);
	assert_int_equal(st->num_threads, 2);
	assert_int_equal(st->starttime, 50396);
	assert_int_equal(st->rss, 247);
	assert_int_equal(st->rsslim, UINT64_MAX);
	assert_int_equal(st->start_code, 94636604391424ULL);
	assert_int_equal(st->end_code, 94636604394217ULL);
	assert_int_equal(st->start_stack, 140722814781936ULL);
	assert_int_equal(st->kstkesp, 0);
	assert_int_equal(st->kstkeip, 0);
	assert_int_equal(st->wchan, 0);
	assert_int_equal(st->rt_priority, 0);
	assert_int_equal(st->policy, 0);
	assert_true(st->has_mm_layout);
	assert_int_equal(st->start_data, 94636604403152ULL);
	assert_int_equal(st->end_data, 94636604404016ULL);
	assert_int_equal(st->start_brk, 94636645380096ULL);
	assert_int_equal(st->arg_start, 140722814786007ULL);
	assert_int_equal(st->arg_end, 140722814786014ULL);
	assert_int_equal(st->env_start, 140722814786014ULL);
	assert_int_equal(st->env_end, 140722814787569ULL);
	assert_true(st->has_exit_code);
	assert_int_equal(st->exit_code, 0);
}

static void test_stat_paren(void **state)
{
	_cleanup_free_ char *text = load("stat-paren.txt");
	struct oc_proc_stat st;

	assert_int_equal(oc_proc_parse_stat(text, &st), 0);
	assert_int_equal(st.pid, 8735);
	assert_string_equal(st.comm, "a) (b c)");
	check_cap2_stat(&st);
	assert_int_equal(st.flags, 4194624);
	assert_int_equal(st.minflt, 42);
	assert_int_equal(st.utime, 0);
	assert_int_equal(st.stime, 0);
	assert_int_equal(st.vsize, 79085568);
	assert_int_equal(st.exit_signal, SIGCHLD);
	assert_int_equal(st.processor, 1);
}

static void test_stat_thread_and_escape(void **state)
{
	_cleanup_free_ char *thread = load("stat-thread.txt");
	_cleanup_free_ char *escape = load("stat-escape.txt");
	struct oc_proc_stat st;

	assert_int_equal(oc_proc_parse_stat(thread, &st), 0);
	assert_int_equal(st.pid, 8736);
	assert_string_equal(st.comm, "worker (x)");
	check_cap2_stat(&st);
	assert_int_equal(st.exit_signal, -1); /* a thread */
	assert_int_equal(st.processor, 0);
	assert_int_equal(st.flags, 4194368);

	/* comm is raw in stat: a real newline. */
	assert_int_equal(oc_proc_parse_stat(escape, &st), 0);
	assert_string_equal(st.comm, "tab\there\\n\nx");
	check_cap2_stat(&st);
}

static void test_stat_old_kernel(void **state)
{
	/* 44 fields (before Linux 3.3), negative nice and RT priority. */
	const char *text = "1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 -2 -20 1 0 3 4 5 "
			   "18446744073709551615 1 2 3 4 5 0 0 0 0 0 0 0 17 3 1 1 9 10 -11\n";
	struct oc_proc_stat st;

	assert_int_equal(oc_proc_parse_stat(text, &st), 0);
	assert_string_equal(st.comm, "init");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.cmajflt, 4);
	assert_int_equal(st.utime, 5);
	assert_int_equal(st.stime, 6);
	assert_int_equal(st.cutime, 7);
	assert_int_equal(st.cstime, 8);
	assert_int_equal(st.priority, -2);
	assert_int_equal(st.nice, -20);
	assert_int_equal(st.rt_priority, 1);
	assert_int_equal(st.policy, 1);
	assert_int_equal(st.delayacct_blkio_ticks, 9);
	assert_int_equal(st.guest_time, 10);
	assert_int_equal(st.cguest_time, -11);
	assert_false(st.has_mm_layout);
	assert_false(st.has_exit_code);
}

/* Fields 3-44 of a valid line, split to be spliced around bad values. */
#define STAT_A	  " R 1 2 3 0 -1 0 "
#define STAT_B	  "0 0 0 0 0 0 0 20 0 1 0 5 6 7 8 9 10 11 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 "
#define STAT_TAIL STAT_A "0 " STAT_B "0"

static void test_stat_malformed(void **state)
{
	static const char *const bad[] = {
		"", /* empty */
		"\n",
		"123 (abc" STAT_TAIL, /* no ')' */
		"123 abc)" STAT_TAIL, /* no '(' */
		"123 )abc(" STAT_TAIL,
		"abc (x)" STAT_TAIL, /* bad pid */
		"-5 (x)" STAT_TAIL,
		"123(x)" STAT_TAIL,
		"123 (x)R 1 2 3",
		"123 (x)",
		"123 (x) ",
		"123 (x) R 1 2 3 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 6", /* truncated */
		"123 (x)" STAT_A "x " STAT_B "0",		       /* garbage */
		"123 (x)" STAT_A "0 " STAT_B "0x",
		"123 (x)" STAT_A "0 " STAT_B "",
		"123 (x)" STAT_A "99999999999999999999999 " STAT_B "0", /* overflow */
		"123 (x)" STAT_A "-1 " STAT_B "0",			/* negative minflt */
		"123 (0123456789012345678901234567890123456789012345678901234567890123)" STAT_TAIL,
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct oc_proc_stat st = { .pid = 4242 };

		oc_error_clear();
		if (oc_proc_parse_stat(bad[i], &st) != -EINVAL)
			fail_msg("accepted malformed stat #%zu: %s", i, bad[i]);
		assert_error_names("stat: ");
		assert_int_equal(st.pid, 4242);
	}

	/* The largest comm the kernel prints (63 bytes) fits. */
	{
		struct oc_proc_stat st;

		assert_int_equal(oc_proc_parse_stat("123 (012345678901234567890123456789012345678901234567890"
						    "123456789012)" STAT_TAIL,
						    &st),
				 0);
		assert_int_equal(strlen(st.comm), 63);
	}
}

/* ---- fdinfo ----------------------------------------------------------- */

static void parse_fdinfo_sample(const char *name, struct oc_proc_fdinfo *fi)
{
	_cleanup_free_ char *text = load(name);

	if (oc_proc_parse_fdinfo(text, fi) != 0)
		fail_msg("%s: %s", name, oc_error_message());
}

static void test_fdinfo_plain(void **state)
{
	struct oc_proc_fdinfo fi;

	parse_fdinfo_sample("fdinfo-regular.txt", &fi);
	assert_int_equal(fi.pos, 7);
	assert_int_equal(fi.flags, O_RDONLY | O_CLOEXEC | K_O_LARGEFILE);
	assert_true(fi.has_mnt_id);
	assert_int_equal(fi.mnt_id, 26);
	assert_true(fi.has_ino);
	assert_int_equal(fi.ino, 861);
	assert_false(fi.has_eventfd || fi.has_signalfd || fi.has_fanotify || fi.has_timerfd || fi.has_pidfd);
	assert_int_equal(fi.n_epoll_tfds + fi.n_inotify_wds + fi.n_fanotify_marks + fi.n_locks, 0);
	oc_proc_fdinfo_clear(&fi);

	parse_fdinfo_sample("fdinfo-pipe.txt", &fi);
	assert_int_equal(fi.flags, O_WRONLY);
	assert_int_equal(fi.mnt_id, 16);
	assert_int_equal(fi.ino, 27760);
	oc_proc_fdinfo_clear(&fi);

	parse_fdinfo_sample("fdinfo-memfd.txt", &fi);
	assert_int_equal(fi.flags, O_RDWR | O_CLOEXEC | K_O_LARGEFILE);
	assert_int_equal(fi.mnt_id, 0);
	assert_int_equal(fi.ino, 1025);
	oc_proc_fdinfo_clear(&fi);

	/* userfaultfd's own lines are skipped. */
	parse_fdinfo_sample("fdinfo-userfaultfd.txt", &fi);
	assert_int_equal(fi.flags, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	assert_int_equal(fi.ino, 28613);
	oc_proc_fdinfo_clear(&fi);
}

static void test_fdinfo_eventfd_signalfd(void **state)
{
	struct oc_proc_fdinfo fi;

	parse_fdinfo_sample("fdinfo-eventfd.txt", &fi);
	assert_int_equal(fi.flags, O_RDWR | O_NONBLOCK);
	assert_true(fi.has_eventfd);
	assert_int_equal(fi.eventfd_count, 0x1239);
	assert_true(fi.has_eventfd_id);
	assert_int_equal(fi.eventfd_id, 1);
	assert_true(fi.has_eventfd_semaphore);
	assert_true(fi.eventfd_semaphore);
	assert_false(fi.has_signalfd);
	oc_proc_fdinfo_clear(&fi);

	parse_fdinfo_sample("fdinfo-signalfd.txt", &fi);
	assert_true(fi.has_signalfd);
	assert_int_equal(fi.signalfd_sigmask,
			 (1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGTERM - 1)) | (1ULL << (34 + 2 - 1)));
	assert_false(fi.has_eventfd);
	oc_proc_fdinfo_clear(&fi);
}

static void test_fdinfo_epoll(void **state)
{
	struct oc_proc_fdinfo fi;

	parse_fdinfo_sample("fdinfo-epoll.txt", &fi);
	assert_int_equal(fi.flags, O_RDWR | O_CLOEXEC);
	assert_int_equal(fi.n_epoll_tfds, 2);
	assert_int_equal(fi.epoll_tfds[0].tfd, 4);
	assert_int_equal(fi.epoll_tfds[0].events, 0x80000019);
	assert_int_equal(fi.epoll_tfds[0].data, 0xdeadbeefcafeULL);
	assert_int_equal(fi.epoll_tfds[0].pos, 0);
	assert_int_equal(fi.epoll_tfds[0].ino, 0x1a);
	assert_int_equal(fi.epoll_tfds[0].sdev, 0x10);
	assert_int_equal(fi.epoll_tfds[1].tfd, 6);
	assert_int_equal(fi.epoll_tfds[1].events, 0x19);
	assert_int_equal(fi.epoll_tfds[1].data, 0x2a);
	assert_int_equal(fi.epoll_tfds[1].ino, 0x6c70);
	assert_int_equal(fi.epoll_tfds[1].sdev, 0xf);
	oc_proc_fdinfo_clear(&fi);
	assert_null(fi.epoll_tfds);
	assert_int_equal(fi.n_epoll_tfds, 0);
}

static void test_fdinfo_inotify(void **state)
{
	static const uint8_t fh0[] = { 0x5d, 0x03, 0, 0, 0, 0, 0, 0 };
	static const uint8_t fh1[] = { 0x1a, 0xc5, 0x03, 0, 0, 0, 0, 0 };
	struct oc_proc_fdinfo fi;

	parse_fdinfo_sample("fdinfo-inotify.txt", &fi);
	assert_int_equal(fi.flags, O_NONBLOCK);
	assert_int_equal(fi.n_inotify_wds, 2);
	assert_int_equal(fi.inotify_wds[0].wd, 2);
	assert_int_equal(fi.inotify_wds[0].ino, 0x35d);
	assert_int_equal(fi.inotify_wds[0].sdev, 0xfe00000);
	assert_int_equal(fi.inotify_wds[0].mask, 0x80000002);
	assert_int_equal(fi.inotify_wds[0].ignored_mask, 0);
	assert_true(fi.inotify_wds[0].fhandle.present);
	assert_int_equal(fi.inotify_wds[0].fhandle.bytes, 8);
	assert_int_equal(fi.inotify_wds[0].fhandle.type, 1);
	assert_memory_equal(fi.inotify_wds[0].fhandle.handle, fh0, 8);
	assert_int_equal(fi.inotify_wds[1].wd, 1);
	assert_int_equal(fi.inotify_wds[1].ino, 0x3c51a);
	assert_int_equal(fi.inotify_wds[1].mask, 0x300);
	assert_memory_equal(fi.inotify_wds[1].fhandle.handle, fh1, 8);
	oc_proc_fdinfo_clear(&fi);

	/* A watch on a file system without file handles. */
	assert_int_equal(oc_proc_parse_fdinfo("pos:\t0\nflags:\t00\n"
					      "inotify wd:3 ino:1 sdev:5 mask:2 ignored_mask:0 \n",
					      &fi),
			 0);
	assert_int_equal(fi.n_inotify_wds, 1);
	assert_false(fi.inotify_wds[0].fhandle.present);
	assert_false(fi.has_mnt_id);
	assert_false(fi.has_ino);
	oc_proc_fdinfo_clear(&fi);
}

static void test_fdinfo_fanotify(void **state)
{
	static const uint8_t fh[] = { 0xdd, 0x02, 0, 0, 0, 0, 0, 0 };
	struct oc_proc_fdinfo fi;
	const struct oc_proc_fanotify_mark *m;

	parse_fdinfo_sample("fdinfo-fanotify.txt", &fi);
	assert_true(fi.has_fanotify);
	assert_int_equal(fi.fanotify_flags, 0x3);
	assert_int_equal(fi.fanotify_event_flags, 0x8000);
	assert_int_equal(fi.n_fanotify_marks, 3);
	m = &fi.fanotify_marks[0];
	assert_int_equal(m->kind, OC_FANOTIFY_MARK_INODE);
	assert_int_equal(m->ino, 0x2dd);
	assert_int_equal(m->sdev, 0xfe00000);
	assert_int_equal(m->mflags, 0x40);
	assert_int_equal(m->mask, 0);
	assert_int_equal(m->ignored_mask, 2);
	assert_true(m->fhandle.present);
	assert_memory_equal(m->fhandle.handle, fh, 8);
	m = &fi.fanotify_marks[1];
	assert_int_equal(m->kind, OC_FANOTIFY_MARK_MOUNT);
	assert_int_equal(m->mnt_id, 0x1a);
	assert_int_equal(m->mask, 0x20);
	assert_false(m->fhandle.present);
	m = &fi.fanotify_marks[2];
	assert_int_equal(m->kind, OC_FANOTIFY_MARK_INODE);
	assert_int_equal(m->mask, 0xa);
	oc_proc_fdinfo_clear(&fi);

	parse_fdinfo_sample("fdinfo-fanotify-sb.txt", &fi);
	assert_int_equal(fi.fanotify_flags, 0x200);
	assert_int_equal(fi.n_fanotify_marks, 2);
	assert_int_equal(fi.fanotify_marks[0].kind, OC_FANOTIFY_MARK_INODE);
	assert_int_equal(fi.fanotify_marks[0].ino, 0x13);
	m = &fi.fanotify_marks[1];
	assert_int_equal(m->kind, OC_FANOTIFY_MARK_SB);
	assert_int_equal(m->sdev, 0xfe00000);
	assert_int_equal(m->mask, 0x40000300);
	oc_proc_fdinfo_clear(&fi);

	parse_fdinfo_sample("fdinfo-fanotify-mntns.txt", &fi);
	assert_int_equal(fi.fanotify_flags, 0x4000);
	assert_int_equal(fi.n_fanotify_marks, 1);
	m = &fi.fanotify_marks[0];
	assert_int_equal(m->kind, OC_FANOTIFY_MARK_MNTNS);
	assert_int_equal(m->mnt_ns, 4026531832ULL);
	assert_int_equal(m->mask, 0x3000000);
	oc_proc_fdinfo_clear(&fi);

	/* The later "mnt_ns_id:" spelling. */
	assert_int_equal(oc_proc_parse_fdinfo("pos:\t0\nflags:\t02\n"
					      "fanotify mnt_ns_id:12884901889 mflags:0 mask:1000000 "
					      "ignored_mask:0\n",
					      &fi),
			 0);
	assert_int_equal(fi.fanotify_marks[0].kind, OC_FANOTIFY_MARK_MNTNS);
	assert_int_equal(fi.fanotify_marks[0].mnt_ns_id, 12884901889ULL);
	assert_int_equal(fi.fanotify_marks[0].mnt_ns, 0);
	assert_false(fi.has_fanotify);
	oc_proc_fdinfo_clear(&fi);
}

static void test_fdinfo_timerfd(void **state)
{
	struct oc_proc_fdinfo fi;

	parse_fdinfo_sample("fdinfo-timerfd.txt", &fi);
	assert_true(fi.has_timerfd);
	assert_int_equal(fi.timerfd_clockid, CLOCK_MONOTONIC);
	assert_int_equal(fi.timerfd_ticks, 0);
	assert_int_equal(fi.timerfd_settime_flags, 0);
	assert_int_equal(fi.timerfd_value_sec, 99);
	assert_int_equal(fi.timerfd_value_nsec, 999998026);
	assert_int_equal(fi.timerfd_interval_sec, 2);
	assert_int_equal(fi.timerfd_interval_nsec, 500000000);
	oc_proc_fdinfo_clear(&fi);

	parse_fdinfo_sample("fdinfo-timerfd-abs.txt", &fi);
	assert_true(fi.has_timerfd);
	assert_int_equal(fi.timerfd_clockid, CLOCK_REALTIME);
	assert_int_equal(fi.timerfd_settime_flags, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET);
	assert_int_equal(fi.timerfd_value_sec, 999);
	assert_int_equal(fi.timerfd_value_nsec, 151041251);
	assert_int_equal(fi.timerfd_interval_sec, 0);
	assert_int_equal(fi.timerfd_interval_nsec, 0);
	oc_proc_fdinfo_clear(&fi);
}

static void test_fdinfo_pidfd(void **state)
{
	struct oc_proc_fdinfo fi;

	parse_fdinfo_sample("fdinfo-pidfd.txt", &fi);
	assert_true(fi.has_pidfd);
	assert_int_equal(fi.pidfd_pid, 7518);
	assert_true(fi.has_pidfd_nspid);
	assert_int_equal(fi.n_pidfd_nspid, 1);
	assert_int_equal(fi.pidfd_nspid[0], 7518);
	assert_int_equal(fi.mnt_id, 4);
	assert_int_equal(fi.ino, 7519);
	oc_proc_fdinfo_clear(&fi);

	parse_fdinfo_sample("fdinfo-pidfd-nested.txt", &fi);
	assert_int_equal(fi.pidfd_pid, 8735);
	assert_int_equal(fi.n_pidfd_nspid, 2);
	assert_int_equal(fi.pidfd_nspid[0], 8735);
	assert_int_equal(fi.pidfd_nspid[1], 1);
	oc_proc_fdinfo_clear(&fi);

	parse_fdinfo_sample("fdinfo-pidfd-dead.txt", &fi);
	assert_int_equal(fi.pidfd_pid, -1);
	assert_int_equal(fi.n_pidfd_nspid, 1);
	assert_int_equal(fi.pidfd_nspid[0], -1);
	oc_proc_fdinfo_clear(&fi);
}

static void test_fdinfo_locks(void **state)
{
	static const struct {
		const char *file;
		const char *raw;
		enum oc_lock_kind kind;
		enum oc_lock_mode mode;
		enum oc_lock_type type;
		pid_t pid;
		uint64_t inode;
		int64_t start, end;
	} cases[] = {
		{ "fdinfo-lock-posix.txt", "1: POSIX  ADVISORY  WRITE 7518 fe:00:10953193 0 9", OC_LOCK_POSIX,
		  OC_LOCK_ADVISORY, OC_LOCK_WRITE, 7518, 10953193, 0, 9 },
		{ "fdinfo-lock-ofd.txt", "1: OFDLCK ADVISORY  READ -1 fe:00:10953193 20 EOF", OC_LOCK_OFD,
		  OC_LOCK_ADVISORY, OC_LOCK_READ, -1, 10953193, 20, -1 },
		{ "fdinfo-lock-flock.txt", "1: FLOCK  ADVISORY  WRITE 7518 fe:00:10953194 0 EOF", OC_LOCK_FLOCK,
		  OC_LOCK_ADVISORY, OC_LOCK_WRITE, 7518, 10953194, 0, -1 },
		{ "fdinfo-lock-lease.txt", "1: LEASE  ACTIVE    READ 7518 fe:00:10953195 0 EOF", OC_LOCK_LEASE,
		  OC_LOCK_ACTIVE, OC_LOCK_READ, 7518, 10953195, 0, -1 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct oc_proc_fdinfo fi;
		struct oc_proc_lock *l;
		size_t n;

		parse_fdinfo_sample(cases[i].file, &fi);
		assert_int_equal(fi.n_locks, 1);
		assert_string_equal(fi.locks[0], cases[i].raw);
		assert_int_equal(fi.flags & O_ACCMODE,
				 cases[i].type == OC_LOCK_READ && cases[i].kind == OC_LOCK_LEASE ? O_RDONLY : O_RDWR);

		/* The raw line is a /proc/locks line. */
		assert_int_equal(oc_proc_parse_locks(fi.locks[0], &l, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(l[0].id, 1);
		assert_int_equal(l[0].kind, cases[i].kind);
		assert_int_equal(l[0].mode, cases[i].mode);
		assert_int_equal(l[0].type, cases[i].type);
		assert_int_equal(l[0].pid, cases[i].pid);
		assert_true(l[0].has_inode);
		assert_int_equal(l[0].dev_major, 0xfe);
		assert_int_equal(l[0].dev_minor, 0);
		assert_int_equal(l[0].inode, cases[i].inode);
		assert_int_equal(l[0].inode, fi.ino);
		assert_int_equal(l[0].start, cases[i].start);
		assert_int_equal(l[0].end, cases[i].end);
		free(l);
		oc_proc_fdinfo_clear(&fi);
	}

	oc_proc_fdinfo_clear(NULL);
}

#define FDINFO_HEAD "pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t26\n"

static void test_fdinfo_malformed(void **state)
{
	static const char *const bad[] = {
		"",			 /* empty */
		"flags:\t02\n",		 /* no pos */
		"pos:\t0\n",		 /* no flags */
		"pos:\tx\nflags:\t02\n", /* garbage */
		"pos:\t0\nflags:\t09\n", /* not octal */
		"pos:\t0\nflags:\t\n",
		"pos:\t0 1\nflags:\t02\n",
		"pos:\t0\nflags:\t02\nmnt_id:\tx\n",
		"pos:\t0\nflags:\t02\nino:\t-1\n",
		"pos:\t0\npos:\t0\nflags:\t02\n", /* duplicate */
		FDINFO_HEAD "eventfd-count: zz\n",
		FDINFO_HEAD "eventfd-semaphore: 2\n",
		FDINFO_HEAD "tfd:        4 events: 80000019 data:     deadbeefcafe  pos:0\n", /* truncated */
		FDINFO_HEAD "tfd:        4 events: 80000019\n",
		FDINFO_HEAD "tfd:        x events: 19 data: 2a  pos:0 ino:1a sdev:10\n",
		FDINFO_HEAD "tfd:        4 events: 19 data: 2a  pos:0 ino:1a sdev:10 x\n",
		FDINFO_HEAD "sigmask:\t000000080000420g\n",
		FDINFO_HEAD "inotify wd:2 ino:35d sdev:fe00000 mask:80000002\n",
		FDINFO_HEAD "inotify wd:2 ino:35d sdev:fe00000 mask:80000002 ignored_mask:0 "
			    "fhandle-bytes:8 fhandle-type:1 f_handle:5d03\n", /* short handle */
		FDINFO_HEAD "inotify wd:2 ino:35d sdev:fe00000 mask:80000002 ignored_mask:0 "
			    "fhandle-bytes:4 fhandle-type:1 f_handle:5d030000ff\n", /* long handle */
		FDINFO_HEAD "inotify wd:2 ino:35d sdev:fe00000 mask:80000002 ignored_mask:0 "
			    "fhandle-bytes:2 fhandle-type:1 f_handle:5 03\n",
		FDINFO_HEAD "inotify wd:2 ino:35d sdev:fe00000 mask:80000002 ignored_mask:0 "
			    "fhandle-bytes:ff fhandle-type:1 f_handle:00\n", /* > MAX_HANDLE_SZ */
		FDINFO_HEAD "inotify wd:2 ino:35d sdev:fe00000 mask:80000002 ignored_mask:0 "
			    "fhandle-bytes:8\n",
		FDINFO_HEAD "fanotify flags:3\n",
		FDINFO_HEAD "fanotify ino:2dd sdev:fe00000 mflags:40 mask:0\n",
		FDINFO_HEAD "fanotify mnt_id:1a mflags:0 mask:20 ignored_mask:0 extra\n",
		FDINFO_HEAD "fanotify sdev:fe00000 mflags:0 mask:zz ignored_mask:0\n",
		FDINFO_HEAD "clockid: 1\nticks: 0\nsettime flags: 00\nit_value: (99, 9)\n", /* partial */
		FDINFO_HEAD "clockid: 1\nticks: 0\nsettime flags: 00\nit_value: (99, 9\n"
			    "it_interval: (0, 0)\n",
		FDINFO_HEAD "clockid: 1\nticks: 0\nsettime flags: 08\nit_value: (99, 9)\n"
			    "it_interval: (0, 0)\n",
		FDINFO_HEAD "clockid: 1\nticks: 0\nsettime flags: 00\nit_value: (99 9)\n"
			    "it_interval: (0, 0)\n",
		FDINFO_HEAD "clockid: 1\nticks: 0\nsettime flags: 00\nit_value: (99, -9)\n"
			    "it_interval: (0, 0)\n",
		FDINFO_HEAD "Pid:\tx\n",
		FDINFO_HEAD "Pid:\t1\nNSpid:\t\n",
		FDINFO_HEAD "Pid:\t1\nNSpid:\t1 x\n",
		FDINFO_HEAD "lock:\t\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct oc_proc_fdinfo fi = { .pos = 4242 };

		oc_error_clear();
		if (oc_proc_parse_fdinfo(bad[i], &fi) != -EINVAL)
			fail_msg("accepted malformed fdinfo #%zu: %s", i, bad[i]);
		assert_error_names("fdinfo: ");
		assert_int_equal(fi.pos, 4242);
	}
}

/* fdinfo of fds made here, on the running kernel. */
static void test_fdinfo_live(void **state)
{
	struct itimerspec its = { .it_value = { 1000, 0 }, .it_interval = { 3, 0 } };
	_cleanup_close_ int efd = eventfd(7, EFD_CLOEXEC);
	_cleanup_close_ int tfd = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC);
	_cleanup_free_ char *e = NULL, *t = NULL;
	struct oc_proc_fdinfo fi;
	char name[32];

	assert_true(efd >= 0 && tfd >= 0);
	assert_int_equal(timerfd_settime(tfd, 0, &its, NULL), 0);

	snprintf(name, sizeof(name), "fdinfo/%d", efd);
	assert_int_equal(oc_proc_read(0, name, &e, NULL), 0);
	assert_int_equal(oc_proc_parse_fdinfo(e, &fi), 0);
	assert_true(fi.has_eventfd);
	assert_int_equal(fi.eventfd_count, 7);
	assert_int_equal(fi.flags & O_ACCMODE, O_RDWR);
	oc_proc_fdinfo_clear(&fi);

	snprintf(name, sizeof(name), "fdinfo/%d", tfd);
	assert_int_equal(oc_proc_read(getpid(), name, &t, NULL), 0);
	assert_int_equal(oc_proc_parse_fdinfo(t, &fi), 0);
	assert_true(fi.has_timerfd);
	assert_int_equal(fi.timerfd_clockid, CLOCK_BOOTTIME);
	assert_int_equal(fi.timerfd_interval_sec, 3);
	assert_true(fi.timerfd_value_sec >= 990 && fi.timerfd_value_sec <= 1000);
	oc_proc_fdinfo_clear(&fi);
}

/* ---- timers ----------------------------------------------------------- */

static void test_timers_captured(void **state)
{
	_cleanup_free_ char *text = load("timers.txt");
	struct oc_proc_posix_timer *t;
	size_t n;

	assert_int_equal(oc_proc_parse_timers(text, &t, &n), 0);
	assert_int_equal(n, 4);

	/* timer_create(CLOCK_PROCESS_CPUTIME_ID, NULL): SIGALRM to the process. */
	assert_int_equal(t[0].id, 3);
	assert_int_equal(t[0].signo, SIGALRM);
	assert_int_equal(t[0].sigval, 0);
	assert_int_equal(t[0].notify, OC_TIMER_NOTIFY_SIGNAL);
	assert_false(t[0].thread_id);
	assert_int_equal(t[0].notify_pid, 7518);
	assert_int_equal(t[0].clock_id, -6);

	/* SIGEV_NONE on CLOCK_BOOTTIME */
	assert_int_equal(t[1].id, 2);
	assert_int_equal(t[1].signo, 0);
	assert_int_equal(t[1].notify, OC_TIMER_NOTIFY_NONE);
	assert_int_equal(t[1].clock_id, CLOCK_BOOTTIME);

	/* SIGEV_THREAD_ID */
	assert_int_equal(t[2].id, 1);
	assert_int_equal(t[2].signo, 35);
	assert_int_equal(t[2].sigval, 0x55);
	assert_int_equal(t[2].notify, OC_TIMER_NOTIFY_SIGNAL);
	assert_true(t[2].thread_id);
	assert_int_equal(t[2].notify_pid, 7518);
	assert_int_equal(t[2].clock_id, CLOCK_REALTIME);

	/* SIGEV_SIGNAL */
	assert_int_equal(t[3].id, 0);
	assert_int_equal(t[3].signo, SIGUSR1);
	assert_int_equal(t[3].sigval, 0x1234abcd);
	assert_false(t[3].thread_id);
	assert_int_equal(t[3].clock_id, CLOCK_MONOTONIC);
	free(t);

	/* No timers. */
	t = (void *)0x1;
	assert_int_equal(oc_proc_parse_timers("", &t, &n), 0);
	assert_null(t);
	assert_int_equal(n, 0);

	/* "thread" (SIGEV_THREAD, old kernels) and unknown lines. */
	assert_int_equal(oc_proc_parse_timers("ID: 9\nsignal: 0/0\nFuture: x\nnotify: thread/pid.1\n"
					      "ClockID: 1\n",
					      &t, &n),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(t[0].notify, OC_TIMER_NOTIFY_THREAD);
	free(t);
}

static void test_timers_live(void **state)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
	_cleanup_free_ char *text = NULL;
	struct oc_proc_posix_timer *t;
	timer_t id;
	size_t n;

	sev.sigev_value.sival_ptr = (void *)0xabcdef;
	assert_int_equal(timer_create(CLOCK_MONOTONIC, &sev, &id), 0);
	assert_int_equal(oc_proc_read(0, "timers", &text, NULL), 0);
	assert_int_equal(oc_proc_parse_timers(text, &t, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(t[0].id, (int)(intptr_t)id);
	assert_int_equal(t[0].signo, SIGUSR2);
	assert_int_equal(t[0].sigval, 0xabcdef);
	assert_int_equal(t[0].notify_pid, getpid());
	free(t);
	timer_delete(id);
}

static void test_timers_malformed(void **state)
{
	static const char *const bad[] = {
		"signal: 14/0\n",			       /* before ID */
		"ID: 3\nsignal: 14/0\nnotify: signal/pid.1\n", /* incomplete */
		("ID: 3\nsignal: 14/0\nnotify: signal/pid.1\nID: 4\nsignal: 14/0\n"
		 "notify: signal/pid.1\nClockID: 1\n"),
		"ID: x\nsignal: 14/0\nnotify: signal/pid.1\nClockID: 1\n",
		"ID: 3\nsignal: 14-0\nnotify: signal/pid.1\nClockID: 1\n",
		"ID: 3\nsignal: 14/\nnotify: signal/pid.1\nClockID: 1\n",
		"ID: 3\nsignal: 14/0\nnotify: bogus/pid.1\nClockID: 1\n",
		"ID: 3\nsignal: 14/0\nnotify: signal/xid.1\nClockID: 1\n",
		"ID: 3\nsignal: 14/0\nnotify: signal/pid.\nClockID: 1\n",
		"ID: 3\nsignal: 14/0\nnotify: signal\nClockID: 1\n",
		"ID: 3\nsignal: 14/0\nnotify: signal/pid.1\nClockID: 1x\n",
		"ID: 3\nsignal: 14/0\nsignal: 14/0\nnotify: signal/pid.1\nClockID: 1\n",
		"ID: 3\nno colon\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct oc_proc_posix_timer *t = (void *)0x1;
		size_t n = 777;

		oc_error_clear();
		if (oc_proc_parse_timers(bad[i], &t, &n) != -EINVAL)
			fail_msg("accepted malformed timers #%zu: %s", i, bad[i]);
		assert_error_names("timers: ");
		assert_ptr_equal(t, (void *)0x1);
		assert_int_equal(n, 777);
	}
}

/* ---- locks ------------------------------------------------------------ */

static void test_locks_captured(void **state)
{
	_cleanup_free_ char *text = load("locks.txt");
	_cleanup_free_ char *waiters = load("locks-waiters.txt");
	struct oc_proc_lock *l;
	size_t n;

	assert_int_equal(oc_proc_parse_locks(text, &l, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(l[0].kind, OC_LOCK_LEASE);
	assert_int_equal(l[0].mode, OC_LOCK_ACTIVE);
	assert_int_equal(l[1].kind, OC_LOCK_FLOCK);
	assert_int_equal(l[1].type, OC_LOCK_WRITE);
	assert_int_equal(l[2].kind, OC_LOCK_OFD);
	assert_int_equal(l[2].pid, -1);
	assert_int_equal(l[2].start, 20);
	assert_int_equal(l[2].end, -1);
	assert_int_equal(l[3].id, 4);
	assert_int_equal(l[3].kind, OC_LOCK_POSIX);
	assert_int_equal(l[3].inode, 10953193);
	assert_int_equal(l[3].end, 9);
	free(l);

	/* Blocked waiters, one of them nested, are skipped. */
	assert_int_equal(oc_proc_parse_locks(waiters, &l, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(l[0].id, 1);
	assert_int_equal(l[0].kind, OC_LOCK_POSIX);
	assert_int_equal(l[0].pid, 17758);
	assert_int_equal(l[0].start, 100);
	assert_int_equal(l[0].end, 199);
	assert_int_equal(l[1].id, 2);
	assert_int_equal(l[1].kind, OC_LOCK_FLOCK);
	assert_int_equal(l[1].inode, 10953475);
	free(l);
}

static void test_locks_other(void **state)
{
	const char *text = "1: DELEG  BREAKING  WRITE 0 08:01:99 0 EOF\n"
			   "2: POSIX  *NOINODE* UNLCK 42 <none>:0 5 EOF\n"
			   "3: ACCESS ADVISORY  READ 7 103:1f:12 0 EOF\n"
			   "4: UNKNOWN UNKNOWN  READ 7 00:05:12 0 EOF\n"
			   "5: POSIX  MANDATORY WRITE 9 00:05:12 9223372036854775806 9223372036854775807\n"
			   "6: LEASE  BREAKER   READ -2 00:05:13 0 EOF\n";
	struct oc_proc_lock *l;
	size_t n;

	assert_int_equal(oc_proc_parse_locks(text, &l, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(l[0].kind, OC_LOCK_DELEG);
	assert_int_equal(l[0].mode, OC_LOCK_BREAKING);
	assert_int_equal(l[0].dev_major, 8);
	assert_int_equal(l[0].dev_minor, 1);
	assert_int_equal(l[1].mode, OC_LOCK_NOINODE);
	assert_int_equal(l[1].type, OC_LOCK_UNLCK);
	assert_false(l[1].has_inode);
	assert_int_equal(l[1].start, 5);
	assert_int_equal(l[2].kind, OC_LOCK_ACCESS);
	assert_int_equal(l[2].dev_major, 0x103);
	assert_int_equal(l[2].dev_minor, 0x1f);
	assert_int_equal(l[3].kind, OC_LOCK_UNKNOWN);
	assert_int_equal(l[3].mode, OC_LOCK_MODE_UNKNOWN);
	assert_int_equal(l[4].mode, OC_LOCK_MANDATORY);
	assert_int_equal(l[4].end, INT64_MAX);
	assert_int_equal(l[5].mode, OC_LOCK_BREAKER);
	assert_int_equal(l[5].pid, -2);
	free(l);

	l = (void *)0x1;
	assert_int_equal(oc_proc_parse_locks("", &l, &n), 0);
	assert_null(l);
	assert_int_equal(n, 0);
}

static void test_locks_malformed(void **state)
{
	static const char *const bad[] = {
		"1: POSIX  ADVISORY  WRITE 1234 08:01:1234 0\n", /* truncated */
		"1: POSIX  ADVISORY  WRITE 1234 08:01:1234\n",
		"1: POSIX  ADVISORY\n",
		"1:\n",
		"1: BOGUS  ADVISORY  WRITE 1234 08:01:1234 0 EOF\n",
		"1: POSIX  BOGUS  WRITE 1234 08:01:1234 0 EOF\n",
		"1: POSIX  ADVISORY  BOTH 1234 08:01:1234 0 EOF\n",
		"x: POSIX  ADVISORY  WRITE 1234 08:01:1234 0 EOF\n",
		"1 POSIX  ADVISORY  WRITE 1234 08:01:1234 0 EOF\n",
		"1: POSIX  ADVISORY  WRITE x 08:01:1234 0 EOF\n",
		"1: POSIX  ADVISORY  WRITE 1234 08:01 0 EOF\n",
		"1: POSIX  ADVISORY  WRITE 1234 0g:01:1234 0 EOF\n",
		"1: POSIX  ADVISORY  WRITE 1234 08:01:1234 0 EOFX\n",
		"1: POSIX  ADVISORY  WRITE 1234 08:01:1234 0 9 9\n",
		"1: POSIX  ADVISORY  WRITE 1234 08:01:1234 x EOF\n",
		"1: FLOCK  ADVISORY  WRITE 1 08:01:1 0 EOF\ngarbage\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct oc_proc_lock *l = (void *)0x1;
		size_t n = 777;

		oc_error_clear();
		if (oc_proc_parse_locks(bad[i], &l, &n) != -EINVAL)
			fail_msg("accepted malformed locks #%zu: %s", i, bad[i]);
		assert_error_names("locks: line ");
		assert_ptr_equal(l, (void *)0x1);
	}
}

/* ---- ns links, reading ------------------------------------------------ */

static void test_ns_link(void **state)
{
	static const char *const bad[] = {
		"net:[]",
		"net:[12",
		"net:[12]x",
		"net:123",
		"net:[ 12]",
		"net:[-1]",
		"net[12]",
		":[12]",
		"net:[0x12]",
		"",
		"net:[99999999999999999999999]",
	};
	uint64_t ino = 5;

	assert_int_equal(oc_proc_parse_ns_link("net:[4026531840]", "net", &ino), 0);
	assert_int_equal(ino, 4026531840ULL);
	assert_int_equal(oc_proc_parse_ns_link("pid_for_children:[4026531836]", "pid_for_children", &ino), 0);
	assert_int_equal(ino, 4026531836ULL);
	assert_int_equal(oc_proc_parse_ns_link("cgroup:[4026531835]", NULL, &ino), 0);
	assert_int_equal(ino, 4026531835ULL);

	ino = 5;
	assert_int_equal(oc_proc_parse_ns_link("ipc:[4026531839]", "net", &ino), -EINVAL);
	assert_int_equal(oc_proc_parse_ns_link("net:[4026531839]", "ne", &ino), -EINVAL);
	assert_int_equal(oc_proc_parse_ns_link(NULL, "net", &ino), -EINVAL);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		oc_error_clear();
		if (oc_proc_parse_ns_link(bad[i], "net", &ino) != -EINVAL ||
		    oc_proc_parse_ns_link(bad[i], NULL, &ino) != -EINVAL)
			fail_msg("accepted malformed ns link #%zu: %s", i, bad[i]);
		assert_error_names("ns link: ");
	}
	assert_int_equal(ino, 5);
}

static void test_sysctl_values(void **state)
{
	static const char *const bad[] = {
		"", "\n", "abc\n", "1 2\n", "250\t32000\t40\n", "-\n", "12x\n", "99999999999999999999999\n"
	};
	uint64_t v[4] = { 0 };

	assert_int_equal(oc_proc_parse_sysctl("250\t32000\t40\t100\n", "kernel/sem", v, 4), 0);
	assert_int_equal(v[0], 250);
	assert_int_equal(v[3], 100);
	assert_int_equal(oc_proc_parse_sysctl("18446744073692774399\n", "kernel/shmmax", v, 1), 0);
	assert_true(v[0] == 18446744073692774399ull);
	assert_int_equal(oc_proc_parse_sysctl("-1\n", "kernel/shm_next_id", v, 1), 0);
	assert_true(v[0] == (uint64_t)-1);
	assert_int_equal(oc_proc_parse_sysctl("4000", "kernel/msgmax", v, 1), 0); /* no newline */
	assert_int_equal(v[0], 4000);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		oc_error_clear();
		size_t n = i == 4 ? 4 : 1;
		if (oc_proc_parse_sysctl(bad[i], "kernel/x", v, n) != -EINVAL)
			fail_msg("accepted malformed sysctl text #%zu: %s", i, bad[i]);
		assert_non_null(strstr(oc_error_message(), "kernel/x"));
	}
}

static void test_read_self(void **state)
{
	_cleanup_free_ char *status = NULL, *stat_text = NULL, *tstat = NULL, *link = NULL, *buf = NULL;
	struct oc_proc_status st;
	struct oc_proc_stat sst;
	struct stat sb;
	uint64_t ino;
	char name[64];
	size_t len;

	assert_int_equal(oc_proc_read(0, "status", &status, &len), 0);
	assert_int_equal(strlen(status), len);
	assert_int_equal(oc_proc_parse_status(status, &st), 0);
	assert_int_equal(st.pid, getpid());
	assert_int_equal(st.ppid, getppid());
	assert_int_equal(st.uid[0], getuid());
	assert_true(st.has_nspid);
	oc_proc_status_clear(&st);

	assert_int_equal(oc_proc_read(getpid(), "stat", &stat_text, NULL), 0);
	assert_int_equal(oc_proc_parse_stat(stat_text, &sst), 0);
	assert_int_equal(sst.pid, getpid());
	assert_int_equal(sst.ppid, getppid());
	assert_true(sst.has_exit_code);

	snprintf(name, sizeof(name), "task/%d/stat", (int)gettid());
	assert_int_equal(oc_proc_read(0, name, &tstat, NULL), 0);
	assert_int_equal(oc_proc_parse_stat(tstat, &sst), 0);
	assert_int_equal(sst.pid, gettid());

	assert_int_equal(oc_proc_readlink(0, "ns/net", &link), 0);
	assert_int_equal(oc_proc_parse_ns_link(link, "net", &ino), 0);
	assert_int_equal(stat("/proc/self/ns/net", &sb), 0);
	assert_int_equal(ino, sb.st_ino);

	/* Errors are described and leave the outputs alone. */
	oc_error_clear();
	assert_int_equal(oc_proc_read(0, "no-such-file", &buf, &len), -ENOENT);
	assert_non_null(strstr(oc_error_message(), "/proc/self/no-such-file"));
	assert_null(buf);
	assert_int_equal(oc_proc_readlink(0, "no-such-link", &buf), -ENOENT);
	assert_int_equal(oc_proc_read(0, "", &buf, NULL), -EINVAL);
	assert_int_equal(oc_proc_read(0, "/etc/passwd", &buf, NULL), -EINVAL);
	assert_int_equal(oc_proc_read(-1, "status", &buf, NULL), -EINVAL);
	assert_int_equal(oc_proc_readlink(0, "status", &buf), -EINVAL); /* not a link */
	assert_null(buf);
}

/* ---- robustness ------------------------------------------------------- */

/* Parse with the parser for @name; free what it returned.  Returns its result. */
static int parse_any(const char *name, const char *text)
{
	int r;

	if (strstr(name, "maps")) {
		struct oc_proc_vma *v;
		size_t n;

		r = oc_proc_parse_maps(text, &v, &n);
		if (r == 0)
			oc_proc_vmas_free(v, n);
	} else if (strncmp(name, "status", 6) == 0) {
		struct oc_proc_status st;

		r = oc_proc_parse_status(text, &st);
		if (r == 0)
			oc_proc_status_clear(&st);
	} else if (strncmp(name, "stat", 4) == 0) {
		struct oc_proc_stat st;

		r = oc_proc_parse_stat(text, &st);
	} else if (strncmp(name, "fdinfo", 6) == 0) {
		struct oc_proc_fdinfo fi;

		r = oc_proc_parse_fdinfo(text, &fi);
		if (r == 0)
			oc_proc_fdinfo_clear(&fi);
	} else if (strncmp(name, "timers", 6) == 0) {
		struct oc_proc_posix_timer *t;
		size_t n;

		r = oc_proc_parse_timers(text, &t, &n);
		if (r == 0)
			free(t);
	} else {
		struct oc_proc_lock *l;
		size_t n;

		r = oc_proc_parse_locks(text, &l, &n);
		if (r == 0)
			free(l);
	}
	if (r != 0 && r != -EINVAL)
		fail_msg("%s: unexpected %d", name, r);
	if (r == -EINVAL && !oc_error_message()[0])
		fail_msg("%s: -EINVAL without a message", name);
	return r;
}

static const char *const samples[] = {
	"maps.txt",
	"smaps.txt",
	"smaps-flags.txt",
	"status-groups.txt",
	"status-escape.txt",
	"status-thread.txt",
	"status-nogroups.txt",
	"stat-paren.txt",
	"stat-escape.txt",
	"stat-thread.txt",
	"fdinfo-epoll.txt",
	"fdinfo-eventfd.txt",
	"fdinfo-fanotify.txt",
	"fdinfo-fanotify-sb.txt",
	"fdinfo-fanotify-mntns.txt",
	"fdinfo-inotify.txt",
	"fdinfo-lock-flock.txt",
	"fdinfo-lock-lease.txt",
	"fdinfo-lock-ofd.txt",
	"fdinfo-lock-posix.txt",
	"fdinfo-memfd.txt",
	"fdinfo-pidfd.txt",
	"fdinfo-pidfd-dead.txt",
	"fdinfo-pidfd-nested.txt",
	"fdinfo-pipe.txt",
	"fdinfo-regular.txt",
	"fdinfo-signalfd.txt",
	"fdinfo-timerfd.txt",
	"fdinfo-timerfd-abs.txt",
	"fdinfo-userfaultfd.txt",
	"timers.txt",
	"locks.txt",
	"locks-waiters.txt",
};

/*
 * Every sample cut short (at every byte of small ones, at line ends and
 * spread offsets of big ones) and with bytes replaced: the parsers must
 * succeed or fail with -EINVAL and a message, never crash or leak.
 */
static void test_truncated_and_mutated(void **state)
{
	static const char junk[] = { '\0', '\n', ' ', ':', '(', ')', '-', 'x', '9', 'f', '\t', '/', '[', (char)0xff };
	unsigned seed = 12345;

	for (size_t s = 0; s < ARRAY_SIZE(samples); s++) {
		_cleanup_free_ char *text = load(samples[s]);
		size_t len = strlen(text), step = len > 4096 ? len / 509 + 1 : 1;
		_cleanup_free_ char *copy = malloc(len + 1);

		assert_non_null(copy);
		assert_int_equal(parse_any(samples[s], text), 0);

		for (size_t cut = 0; cut < len; cut++) {
			if (cut % step != 0 && text[cut] != '\n' && text[cut - 1] != '\n')
				continue;
			memcpy(copy, text, cut);
			copy[cut] = '\0';
			parse_any(samples[s], copy);
		}

		for (int round = 0; round < 300; round++) {
			memcpy(copy, text, len + 1);
			for (int k = 0; k < 3; k++) {
				seed = seed * 1103515245u + 12345u;
				copy[(seed >> 8) % len] = junk[(seed >> 20) % sizeof(junk)];
			}
			parse_any(samples[s], copy);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_captured),
		cmocka_unit_test(test_smaps_captured),
		cmocka_unit_test(test_smaps_flags_captured),
		cmocka_unit_test(test_maps_special_names),
		cmocka_unit_test(test_smaps_fields),
		cmocka_unit_test(test_maps_empty),
		cmocka_unit_test(test_vmflag_codes),
		cmocka_unit_test(test_maps_malformed),
		cmocka_unit_test(test_smaps_live),
		cmocka_unit_test(test_status_groups),
		cmocka_unit_test(test_status_thread_and_escape),
		cmocka_unit_test(test_status_minimal),
		cmocka_unit_test(test_status_malformed),
		cmocka_unit_test(test_stat_paren),
		cmocka_unit_test(test_stat_thread_and_escape),
		cmocka_unit_test(test_stat_old_kernel),
		cmocka_unit_test(test_stat_malformed),
		cmocka_unit_test(test_fdinfo_plain),
		cmocka_unit_test(test_fdinfo_eventfd_signalfd),
		cmocka_unit_test(test_fdinfo_epoll),
		cmocka_unit_test(test_fdinfo_inotify),
		cmocka_unit_test(test_fdinfo_fanotify),
		cmocka_unit_test(test_fdinfo_timerfd),
		cmocka_unit_test(test_fdinfo_pidfd),
		cmocka_unit_test(test_fdinfo_locks),
		cmocka_unit_test(test_fdinfo_malformed),
		cmocka_unit_test(test_fdinfo_live),
		cmocka_unit_test(test_timers_captured),
		cmocka_unit_test(test_timers_live),
		cmocka_unit_test(test_timers_malformed),
		cmocka_unit_test(test_locks_captured),
		cmocka_unit_test(test_locks_other),
		cmocka_unit_test(test_locks_malformed),
		cmocka_unit_test(test_ns_link),
		cmocka_unit_test(test_sysctl_values),
		cmocka_unit_test(test_read_self),
		cmocka_unit_test(test_truncated_and_mutated),
	};

	return cmocka_run_group_tests_name("proc", tests, find_data_dir, NULL);
}
