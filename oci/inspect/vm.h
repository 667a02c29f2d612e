/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A dumped process's memory, read the way the pagemap describes it.
 *
 * pagemap-PID.img lists runs of pages { vaddr, nr_pages, flags } in address
 * order; the runs with PE_PRESENT have their bytes in pages-N.img, one after
 * the other in the same order.  A run's offset in the pages file is the sum
 * of the present runs before it, so finding an address is a binary search
 * over the runs and reading it a pread() of just those bytes: nothing loads
 * a process's whole memory.
 */
#ifndef OCICR_INSPECT_VM_H
#define OCICR_INSPECT_VM_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pagemap.pb-c.h"

#define OCI_PAGE_SIZE 4096u

/* pagemap_entry.flags */
#define OCI_PE_PARENT  (1u << 0)
#define OCI_PE_LAZY    (1u << 1)
#define OCI_PE_PRESENT (1u << 2)

struct oci_pm_run {
	uint64_t vaddr;
	uint64_t nr_pages;
	uint32_t flags;
	uint64_t off; /* offset of the run's bytes in the pages file (present runs) */
};

struct oci_pagemap {
	uint32_t pages_id;
	struct oci_pm_run *runs;
	size_t n_runs;
	uint64_t present_pages; /* pages stored in pages-<pages_id>.img */
	uint64_t parent_pages;	/* pages left in a parent (pre-dump) image */
	uint64_t lazy_pages;	/* pages listed as lazy and not stored */
};

/*
 * Turn pagemap entries (without the head) into runs with their offsets.
 * Refuses runs that are misaligned, overlap, go backwards or wrap (-EINVAL,
 * with @what, e.g. "pagemap-1.img", in the message).
 */
int oci_pagemap_build(PagemapEntry *const *entries, size_t n, const char *what, struct oci_pm_run **ret_runs,
		      size_t *ret_n, uint64_t *ret_present);

/* The run that holds @addr, or NULL (binary search; @runs sorted). */
const struct oci_pm_run *oci_pagemap_find(const struct oci_pm_run *runs, size_t n, uint64_t addr);

/*
 * Where the byte at @addr is in the pages file: 0 with *ret_off and
 * *ret_avail (bytes from there to the end of the run) set, or -ENOENT when
 * the page was not dumped (unmapped, never touched, or in a parent image).
 */
int oci_pagemap_locate(const struct oci_pm_run *runs, size_t n, uint64_t addr, uint64_t *ret_off, uint64_t *ret_avail);

/*
 * Read up to @len bytes at @addr from pages file @pages_fd; stops at the
 * first byte that was not dumped.  Returns the count read (0: @addr itself
 * was not dumped) or a negative errno.
 */
ssize_t oci_vm_read(const struct oci_pagemap *pm, int pages_fd, uint64_t addr, void *buf, size_t len);

/*
 * Split a NUL-separated block (argv or environment as the kernel laid them
 * out) into strings.  A final NUL ends the last string; a last string
 * without one is kept.  *ret_v is NULL-terminated; free it with
 * oci_strv_free().
 */
int oci_split_nul(const char *buf, size_t len, char ***ret_v, size_t *ret_n);
void oci_strv_free(char **v);

/* ---- searching memory ----------------------------------------------------- */

/* Where the bytes of a memory come from (a pages file, or a test buffer). */
struct oci_memsrc {
	const struct oci_pm_run *runs; /* sorted; only PRESENT runs are searched */
	size_t n_runs;
	/* Read exactly @len bytes at offset @off of the pages file. */
	int (*read)(void *userdata, uint64_t off, void *buf, size_t len);
	void *userdata;
};

struct oci_search {
	const char *needle; /* a byte string ... */
	size_t needle_len;
	const regex_t *re; /* ... or an extended regular expression */
	size_t context;	   /* bytes of context to give each side */
	size_t chunk;	   /* bytes searched at a time (0: 1 MiB) */
	size_t max_match;  /* longest regex match found whole (0: 4096) */
};

struct oci_match {
	uint64_t addr;
	const uint8_t *bytes; /* the match itself */
	size_t len;
	const uint8_t *before; /* up to context bytes before it, contiguous */
	size_t before_len;
	const uint8_t *after;
	size_t after_len;
};

/* Called for each match in address order; a negative return stops the search. */
typedef int (*oci_match_fn)(const struct oci_match *m, void *userdata);

/*
 * Search the dumped memory for @q.  Matches may cross page and run
 * boundaries where the addresses are contiguous; a regex match longer than
 * q->max_match may be cut short.  Returns the number of matches or a
 * negative errno.  Memory use is bounded by the chunk size.
 */
long oci_mem_search(const struct oci_memsrc *src, const struct oci_search *q, oci_match_fn fn, void *userdata);

/*
 * Contiguous stretches of dumped memory: calls @fn for each maximal range
 * of PRESENT runs with adjacent addresses.
 */
int oci_mem_segments(const struct oci_pm_run *runs, size_t n,
		     int (*fn)(uint64_t start, uint64_t end, uint64_t off, void *userdata), void *userdata);

#endif
