/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef OCICR_UTIL_ELF_H
#define OCICR_UTIL_ELF_H

#include <stddef.h>
#include <stdint.h>

#define OC_BUILD_ID_MAX 64

/*
 * The GNU build-id of the ELF file open at @fd, from its PT_NOTE segments.
 * Returns its length, 0 when the file is not ELF or has none, or a
 * negative errno.
 */
int oc_elf_build_id(int fd, uint8_t buf[OC_BUILD_ID_MAX]);

#endif
