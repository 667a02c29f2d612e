/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vDSO of another kernel.  A task dumped on one kernel calls into that
 * kernel's vDSO at addresses it resolved when it started.  When this
 * kernel's vDSO is not byte for byte the same, the image's copy is restored
 * as ordinary memory at its old place and each of its exported functions is
 * made to jump to the same function of this kernel's vDSO, mapped somewhere
 * else ("proxy").  This module reads the functions out of vDSO images and
 * pairs them up; it touches no process.
 */
#ifndef OCICR_MEM_VDSO_H
#define OCICR_MEM_VDSO_H

#include <stddef.h>
#include <stdint.h>

#define OC_VDSO_NAME_MAX 48

struct oc_vdso_func {
	char name[OC_VDSO_NAME_MAX];
	uint64_t offset; /* from the start of the image */
	uint64_t size;
};

/*
 * The functions a vDSO image of @len bytes exports (its dynamic symbol
 * table), at most @max of them.  Returns how many, or -EINVAL naming what is
 * wrong with the image (it may come from a hostile checkpoint).
 */
int oc_vdso_funcs(const uint8_t *img, size_t len, struct oc_vdso_func *out, size_t max);

/* One function of the old vDSO redirected to the new one. */
struct oc_vdso_patch {
	uint64_t addr;	 /* the old function's entry */
	uint64_t target; /* the new function's entry */
};

/*
 * Pair every function of the old vDSO image (restored at @old_base) with
 * the function of the same name in the new one (mapped at @new_base).
 * Functions sharing an entry are patched once.  A function of the old vDSO
 * that the new one lacks, or one too short to hold a jump of
 * @min_patch_len bytes, fails with -EOPNOTSUPP naming it.  Returns the
 * number of patches written to @out (at most @max).
 */
int oc_vdso_proxy_patches(const uint8_t *old_img, size_t old_len, uint64_t old_base, const uint8_t *new_img,
			  size_t new_len, uint64_t new_base, size_t min_patch_len, struct oc_vdso_patch *out,
			  size_t max);

#endif
