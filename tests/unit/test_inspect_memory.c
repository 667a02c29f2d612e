// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the memory side of `ocicr inspect` (oci/inspect/vm.c):
 * turning a pagemap into runs with their pages-file offsets, finding an
 * address in them, reading bytes through them, splitting argv and the
 * environment, and searching memory in bounded windows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "img/ckpt.h"
#include "oci/inspect/vm.h"
#include "core/cleanup.h"
#include "core/error.h"

#define PG OCI_PAGE_SIZE

/* ---- helpers ------------------------------------------------------------ */

static PagemapEntry pe(uint64_t vaddr, uint64_t pages, uint32_t flags)
{
	PagemapEntry e = PAGEMAP_ENTRY__INIT;

	e.vaddr = vaddr;
	e.has_nr_pages = true;
	e.nr_pages = pages;
	e.has_flags = true;
	e.flags = flags;
	return e;
}

static int build(PagemapEntry *e, size_t n, struct oc_pm_run **runs, size_t *nr, uint64_t *present)
{
	PagemapEntry *ptrs[16];

	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++)
		ptrs[i] = &e[i];
	return oc_pagemap_build(ptrs, n, "pagemap-1.img", runs, nr, present);
}

/* A "pages file" in memory for the search tests. */
struct membuf {
	const uint8_t *data;
	size_t len;
	int reads;
};

static int membuf_read(void *userdata, uint64_t off, void *buf, size_t len)
{
	struct membuf *m = userdata;

	m->reads++;
	if (off + len > m->len)
		return -EIO;
	memcpy(buf, m->data + off, len);
	return 0;
}

struct hits {
	uint64_t addr[64];
	char text[64][128];
	size_t n;
	int stop_after; /* return an error after this many, 0: never */
};

static int collect(const struct oci_match *m, void *userdata)
{
	struct hits *h = userdata;

	if (h->n < 64) {
		h->addr[h->n] = m->addr;
		snprintf(h->text[h->n], sizeof(h->text[0]), "%.*s[%.*s]%.*s", (int)m->before_len,
			 (const char *)m->before, (int)m->len, (const char *)m->bytes, (int)m->after_len,
			 (const char *)m->after);
	}
	h->n++;
	if (h->stop_after && (int)h->n >= h->stop_after)
		return -ECANCELED;
	return 0;
}

/* ---- pagemap ---------------------------------------------------------------- */

static void test_pagemap_offsets(void **state)
{
	/* present, lazy+present, absent (parent), present */
	PagemapEntry e[] = {
		pe(0x400000, 1, OC_PM_PRESENT),
		pe(0x401000, 2, OC_PM_PRESENT | OC_PM_LAZY),
		pe(0x500000, 3, OC_PM_PARENT),
		pe(0x7ffd0000, 4, OC_PM_PRESENT),
	};
	_cleanup_free_ struct oc_pm_run *runs = NULL;
	size_t n;
	uint64_t present;

	assert_int_equal(build(e, 4, &runs, &n, &present), 0);
	assert_int_equal(n, 4);
	assert_int_equal(present, 7);
	assert_int_equal(runs[0].off, 0);
	assert_int_equal(runs[1].off, PG);
	/* the parent run takes no room in the file */
	assert_int_equal(runs[3].off, 3 * PG);
}

static void test_pagemap_compat_fields(void **state)
{
	/* CRIU before 4.2: the count in compat_nr_pages, no flags (present),
	 * in_parent for pages of a pre-dump. */
	PagemapEntry e[2] = { PAGEMAP_ENTRY__INIT, PAGEMAP_ENTRY__INIT };
	_cleanup_free_ struct oc_pm_run *runs = NULL;
	size_t n;
	uint64_t present;

	e[0].vaddr = 0x1000;
	e[0].compat_nr_pages = 2;
	e[1].vaddr = 0x10000;
	e[1].compat_nr_pages = 5;
	e[1].has_in_parent = e[1].in_parent = true;
	assert_int_equal(build(e, 2, &runs, &n, &present), 0);
	assert_int_equal(present, 2);
	assert_true(runs[0].flags & OC_PM_PRESENT);
	assert_false(runs[1].flags & OC_PM_PRESENT);
	assert_true(runs[1].flags & OC_PM_PARENT);
}

static void test_pagemap_malformed(void **state)
{
	struct oc_pm_run *runs = NULL;
	size_t n;
	uint64_t present;
	PagemapEntry misaligned[] = { pe(0x400010, 1, OC_PM_PRESENT) };
	PagemapEntry overlap[] = { pe(0x400000, 2, OC_PM_PRESENT), pe(0x401000, 1, OC_PM_PRESENT) };
	PagemapEntry backwards[] = { pe(0x500000, 1, OC_PM_PRESENT), pe(0x400000, 1, OC_PM_PRESENT) };
	PagemapEntry wraps[] = { pe(0xfffffffffffff000ull, 2, OC_PM_PRESENT) };

	assert_int_equal(build(misaligned, 1, &runs, &n, &present), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "pagemap-1.img: entry 0"));
	assert_int_equal(build(overlap, 2, &runs, &n, &present), -EINVAL);
	assert_non_null(strstr(oc_error_message(), "entry 1"));
	assert_int_equal(build(backwards, 2, &runs, &n, &present), -EINVAL);
	assert_int_equal(build(wraps, 1, &runs, &n, &present), -EINVAL);
	assert_null(runs);
	/* nothing at all is fine */
	assert_int_equal(build(NULL, 0, &runs, &n, &present), 0);
	assert_int_equal(n, 0);
	assert_int_equal(present, 0);
	free(runs);
}

static void test_pagemap_locate(void **state)
{
	PagemapEntry e[] = {
		pe(0x400000, 1, OC_PM_PRESENT),
		pe(0x401000, 2, OC_PM_PRESENT),
		pe(0x600000, 1, OC_PM_PARENT),
		pe(0x7ffd0000, 4, OC_PM_PRESENT),
	};
	_cleanup_free_ struct oc_pm_run *runs = NULL;
	size_t n;
	uint64_t present, off, avail;

	assert_int_equal(build(e, 4, &runs, &n, &present), 0);

	assert_int_equal(oc_pagemap_locate(runs, n, 0x400000, &off, &avail), 0);
	assert_int_equal(off, 0);
	assert_int_equal(avail, PG);
	assert_int_equal(oc_pagemap_locate(runs, n, 0x400fff, &off, &avail), 0);
	assert_int_equal(off, PG - 1);
	assert_int_equal(avail, 1);
	assert_int_equal(oc_pagemap_locate(runs, n, 0x402abc, &off, &avail), 0);
	assert_int_equal(off, PG + PG + 0xabc);
	assert_int_equal(avail, PG - 0xabc);
	assert_int_equal(oc_pagemap_locate(runs, n, 0x7ffd3fff, &off, &avail), 0);
	assert_int_equal(off, 3 * PG + 4 * PG - 1);

	/* before, between, after the runs, and in a page left in a parent */
	assert_int_equal(oc_pagemap_locate(runs, n, 0x3fffff, &off, &avail), -ENOENT);
	assert_int_equal(oc_pagemap_locate(runs, n, 0x403000, &off, &avail), -ENOENT);
	assert_int_equal(oc_pagemap_locate(runs, n, 0x7ffd4000, &off, &avail), -ENOENT);
	assert_int_equal(oc_pagemap_locate(runs, n, 0x600800, &off, &avail), -ENOENT);
	assert_non_null(oc_pagemap_find(runs, n, 0x600800));
	assert_null(oc_pagemap_find(runs, n, 0));
	assert_null(oc_pagemap_find(NULL, 0, 0x400000));
}

static void test_pagemap_locate_many(void **state)
{
	/* Every other page present across 16 runs: the binary search must
	 * land on each. */
	PagemapEntry e[16];
	_cleanup_free_ struct oc_pm_run *runs = NULL;
	size_t n;
	uint64_t present, off, avail;

	for (int i = 0; i < 16; i++)
		e[i] = pe(0x10000000 + i * 2 * PG, 1, OC_PM_PRESENT);
	assert_int_equal(build(e, 16, &runs, &n, &present), 0);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(oc_pagemap_locate(runs, n, 0x10000000 + i * 2 * PG + 7, &off, &avail), 0);
		assert_int_equal(off, i * PG + 7);
		assert_int_equal(oc_pagemap_locate(runs, n, 0x10000000 + (i * 2 + 1) * PG, &off, &avail), -ENOENT);
	}
}

/* Reading through the pagemap from a real file, across adjacent runs. */
static void test_vm_read(void **state)
{
	PagemapEntry e[] = {
		pe(0x7ffd0000, 1, OC_PM_PRESENT),
		pe(0x7ffd1000, 1, OC_PM_PRESENT),
		pe(0x7ffd3000, 1, OC_PM_PRESENT),
	};
	struct oc_pagemap pm = {};
	_cleanup_close_ int fd = memfd_create("pages", 0);
	uint8_t page[PG];
	char buf[64];

	assert_true(fd >= 0);
	assert_int_equal(build(e, 3, &pm.runs, &pm.n_runs, &pm.present_pages), 0);
	for (int i = 0; i < 3; i++) {
		memset(page, 'a' + i, sizeof(page));
		assert_int_equal(write(fd, page, sizeof(page)), (ssize_t)sizeof(page));
	}
	/* the last 4 bytes of page 0 and the first 4 of page 1 */
	assert_int_equal(oc_pagemap_read(&pm, fd, 0x7ffd0ffc, buf, 8), 8);
	assert_memory_equal(buf, "aaaabbbb", 8);
	/* stops at the gap at 0x7ffd2000 */
	assert_int_equal(oc_pagemap_read(&pm, fd, 0x7ffd1ffc, buf, 8), 4);
	/* not dumped at all */
	assert_int_equal(oc_pagemap_read(&pm, fd, 0x7ffd2000, buf, 8), 0);
	assert_int_equal(oc_pagemap_read(&pm, fd, 0x7ffd3000, buf, 3), 3);
	assert_memory_equal(buf, "ccc", 3);

	/* a pages file shorter than the pagemap says: an error, not garbage */
	assert_int_equal(ftruncate(fd, PG + 100), 0);
	assert_int_equal(oc_pagemap_read(&pm, fd, 0x7ffd3000, buf, 3), -EIO);
	assert_non_null(strstr(oc_error_message(), "truncated"));
	free(pm.runs);
}

/* ---- argv and environment ----------------------------------------------------- */

static void check_split(const char *buf, size_t len, size_t want_n, const char *const *want)
{
	char **v = NULL;
	size_t n = 99;

	assert_int_equal(oc_split_nul(buf, len, &v, &n), 0);
	assert_int_equal(n, want_n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i], want[i]);
	assert_null(v[n]);
	oc_strv_free(v);
}

static void test_split_nul(void **state)
{
	check_split("/bin/sh\0-c\0echo hi\0", 19, 3, (const char *const[]){ "/bin/sh", "-c", "echo hi" });
	/* an empty argument in the middle is kept */
	check_split("a\0\0b\0", 5, 3, (const char *const[]){ "a", "", "b" });
	/* no final NUL: the last string is still there */
	check_split("APP_MODE=forensic-demo\0HOME=/", 29, 2,
		    (const char *const[]){ "APP_MODE=forensic-demo", "HOME=/" });
	check_split("", 0, 0, NULL);
	check_split("\0", 1, 1, (const char *const[]){ "" });
	check_split("x", 1, 1, (const char *const[]){ "x" });
	/* bytes that are not text are kept as they are */
	check_split("\xff\x01\0", 3, 1, (const char *const[]){ "\xff\x01" });
}

/* ---- search ----------------------------------------------------------------- */

/* Memory: 0x1000-0x3000 (two adjacent runs), a gap, 0x8000-0x9000. */
static uint8_t mem[3 * PG];
static struct oc_pm_run *search_runs;
static size_t search_n;

static int setup_memory(void **state)
{
	PagemapEntry e[] = {
		pe(0x1000, 1, OC_PM_PRESENT),
		pe(0x2000, 1, OC_PM_PRESENT),
		pe(0x3000, 4, OC_PM_PARENT),
		pe(0x8000, 1, OC_PM_PRESENT),
	};
	uint64_t present;

	memset(mem, 0, sizeof(mem));
	/* across the boundary of the two adjacent runs */
	memcpy(mem + PG - 5, "SECRET=across", 13);
	/* at the very end of the contiguous stretch: "SPLIT" is cut by the gap */
	memcpy(mem + 2 * PG - 3, "SPL", 3);
	memcpy(mem + 2 * PG, "IT", 2);
	/* in the last run, between NUL bytes, twice */
	memcpy(mem + 2 * PG + 100, "PATH=/bin\0APP_MODE=forensic-demo\0APP_MODE=x", 43);
	memcpy(mem + 3 * PG - 4, "aaaa", 4);
	return build(e, 4, &search_runs, &search_n, &present);
}

static int teardown_memory(void **state)
{
	free(search_runs);
	return 0;
}

static long search(const char *needle, const char *re_text, size_t context, size_t chunk, struct hits *h,
		   struct membuf *mb)
{
	struct oci_memsrc src = { .runs = search_runs, .n_runs = search_n, .read = membuf_read, .userdata = mb };
	struct oci_search q = { .context = context, .chunk = chunk };
	regex_t re;
	long n;

	mb->data = mem;
	mb->len = sizeof(mem);
	if (re_text) {
		assert_int_equal(regcomp(&re, re_text, REG_EXTENDED), 0);
		q.re = &re;
	} else {
		q.needle = needle;
		q.needle_len = strlen(needle);
	}
	n = oci_mem_search(&src, &q, collect, h);
	if (re_text)
		regfree(&re);
	return n;
}

static void test_search_string(void **state)
{
	size_t chunks[] = { 0, 4096, 64, 7 };

	/* The same matches whatever the window size. */
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct hits h = {};
		struct membuf mb = {};
		assert_int_equal(search("APP_MODE=", NULL, 0, chunks[c], &h, &mb), 2);
		assert_int_equal(h.addr[0], 0x8000 + 110);
		assert_int_equal(h.addr[1], 0x8000 + 133);

		memset(&h, 0, sizeof(h));
		assert_int_equal(search("SECRET=across", NULL, 0, chunks[c], &h, &mb), 1);
		assert_int_equal(h.addr[0], 0x1000 + PG - 5);

		/* the gap between 0x3000 and 0x8000 breaks a match */
		memset(&h, 0, sizeof(h));
		assert_int_equal(search("SPLIT", NULL, 0, chunks[c], &h, &mb), 0);

		/* matches do not overlap: "aaaa" holds "aa" twice */
		memset(&h, 0, sizeof(h));
		assert_int_equal(search("aa", NULL, 0, chunks[c], &h, &mb), 2);
		assert_int_equal(h.addr[1], 0x9000 - 2);
	}
}

static void test_search_context(void **state)
{
	struct hits h = {};
	struct membuf mb = {};

	assert_int_equal(search("APP_MODE=forensic", NULL, 5, 0, &h, &mb), 1);
	/* (the NUL before "APP_MODE" ends the printed context) */
	assert_string_equal(h.text[0], "/bin[APP_MODE=forensic]-demo");
	/* context is clamped at the edges of the dumped stretch */
	memset(&h, 0, sizeof(h));
	assert_int_equal(search("aaaa", NULL, 16, 0, &h, &mb), 1);
	assert_string_equal(h.text[0] + strlen(h.text[0]) - 6, "[aaaa]");
	memset(&h, 0, sizeof(h));
	assert_int_equal(search("SECRET", NULL, 4096, 0, &h, &mb), 1);
}

static void test_search_regex(void **state)
{
	size_t chunks[] = { 0, 16 };

	for (size_t c = 0; c < 2; c++) {
		struct hits h = {};
		struct membuf mb = {};
		/* NUL bytes around the text do not stop the regex */
		assert_int_equal(search(NULL, "APP_MODE=[a-z-]+", 0, chunks[c], &h, &mb), 2);
		assert_string_equal(h.text[0], "[APP_MODE=forensic-demo]");
		assert_string_equal(h.text[1], "[APP_MODE=x]");
		memset(&h, 0, sizeof(h));
		assert_int_equal(search(NULL, "SECRET=[a-z]+", 0, chunks[c], &h, &mb), 1);
		assert_string_equal(h.text[0], "[SECRET=across]");
		/* empty matches are not reported */
		memset(&h, 0, sizeof(h));
		assert_int_equal(search(NULL, "Q*", 0, chunks[c], &h, &mb), 0);
	}
}

static void test_search_errors(void **state)
{
	struct hits h = { .stop_after = 1 };
	struct membuf mb = {};
	struct oci_memsrc src = { .runs = search_runs, .n_runs = search_n, .read = membuf_read, .userdata = &mb };
	struct oci_search q = {};

	/* the callback stops the search with its error */
	assert_int_equal(search("APP_MODE=", NULL, 0, 0, &h, &mb), -ECANCELED);
	/* nothing to search for */
	assert_int_equal(oci_mem_search(&src, &q, collect, &h), -EINVAL);
	/* a read error comes back */
	mb.data = mem;
	mb.len = PG; /* shorter than the runs say */
	q.needle = "x";
	q.needle_len = 1;
	assert_int_equal(oci_mem_search(&src, &q, collect, &h), -EIO);
}

static int count_segments(uint64_t start, uint64_t end, uint64_t off, void *userdata)
{
	uint64_t(*seg)[3] = userdata;
	size_t i = 0;

	while (seg[i][1])
		i++;
	seg[i][0] = start;
	seg[i][1] = end;
	seg[i][2] = off;
	return 0;
}

static void test_segments(void **state)
{
	uint64_t seg[4][3] = {};

	assert_int_equal(oci_mem_segments(search_runs, search_n, count_segments, seg), 0);
	assert_int_equal(seg[0][0], 0x1000);
	assert_int_equal(seg[0][1], 0x3000);
	assert_int_equal(seg[0][2], 0);
	assert_int_equal(seg[1][0], 0x8000);
	assert_int_equal(seg[1][1], 0x9000);
	assert_int_equal(seg[1][2], 2 * PG);
	assert_int_equal(seg[2][1], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pagemap_offsets),
		cmocka_unit_test(test_pagemap_compat_fields),
		cmocka_unit_test(test_pagemap_malformed),
		cmocka_unit_test(test_pagemap_locate),
		cmocka_unit_test(test_pagemap_locate_many),
		cmocka_unit_test(test_vm_read),
		cmocka_unit_test(test_split_nul),
		cmocka_unit_test_setup_teardown(test_search_string, setup_memory, teardown_memory),
		cmocka_unit_test_setup_teardown(test_search_context, setup_memory, teardown_memory),
		cmocka_unit_test_setup_teardown(test_search_regex, setup_memory, teardown_memory),
		cmocka_unit_test_setup_teardown(test_search_errors, setup_memory, teardown_memory),
		cmocka_unit_test_setup_teardown(test_segments, setup_memory, teardown_memory),
	};

	return cmocka_run_group_tests_name("inspect-memory", tests, NULL, NULL);
}
