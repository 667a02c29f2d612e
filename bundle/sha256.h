/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SHA-256, for the content digests of OCI image layouts. */
#ifndef OCICR_BUNDLE_SHA256_H
#define OCICR_BUNDLE_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct oci_sha256 {
	uint32_t h[8];
	uint8_t buf[64];
	size_t used;
	uint64_t total;
};

void oci_sha256_init(struct oci_sha256 *s);
void oci_sha256_update(struct oci_sha256 *s, const void *data, size_t len);
/* Finish: 64 hex digits and a NUL in @out. */
void oci_sha256_hex(struct oci_sha256 *s, char out[65]);
/* The digest of a whole file, and its size. */
int oci_sha256_file(const char *path, char out[65], uint64_t *ret_size);

#endif
