// SPDX-License-Identifier: LGPL-2.1-or-later
/* Namespace links: "net:[4026531840]". */
#include <errno.h>
#include <string.h>

#include "proc/proc.h"
#include "proc/scan.h"
#include "core/error.h"

int oc_proc_parse_ns_link(const char *link, const char *kind, uint64_t *ret_ino)
{
	struct oc_scan s;
	const char *colon;
	uint64_t ino;

	if (!link)
		return oc_error(-EINVAL, "ns link: missing");

	oc_scan_init(&s, link);
	colon = memchr(link, ':', (size_t)(s.end - s.p));
	if (!colon || colon == link)
		return oc_scan_bad(&s, "ns link", "no \"KIND:\"");
	if (kind && ((size_t)(colon - link) != strlen(kind) ||
		     memcmp(link, kind, (size_t)(colon - link)) != 0))
		return oc_scan_bad(&s, "ns link", "unexpected namespace kind");

	s.p = colon + 1;
	if (!oc_scan_char(&s, '[') || s.p >= s.end || *s.p < '0' || *s.p > '9' ||
	    !oc_scan_u64(&s, 10, &ino) || !oc_scan_char(&s, ']') || !oc_scan_at_end(&s))
		return oc_scan_bad(&s, "ns link", "expected KIND:[INODE]");

	*ret_ino = ino;
	return 0;
}
