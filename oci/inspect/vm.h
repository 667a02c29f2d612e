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

#include "ocicr.h"

#define OCI_PAGE_SIZE 4096u

/* ---- searching memory ----------------------------------------------------- */

/* Where the bytes of a memory come from (a pages file, or a test buffer). */
struct oci_memsrc {
	const struct oc_pm_run *runs; /* sorted; only PRESENT runs are searched */
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
int oci_mem_segments(const struct oc_pm_run *runs, size_t n,
		     int (*fn)(uint64_t start, uint64_t end, uint64_t off, void *userdata), void *userdata);

#endif
