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
	if (kind && ((size_t)(colon - link) != strlen(kind) || memcmp(link, kind, (size_t)(colon - link)) != 0))
		return oc_scan_bad(&s, "ns link", "unexpected namespace kind");

	s.p = colon + 1;
	if (!oc_scan_char(&s, '[') || s.p >= s.end || *s.p < '0' || *s.p > '9' || !oc_scan_u64(&s, 10, &ino) ||
	    !oc_scan_char(&s, ']') || !oc_scan_at_end(&s))
		return oc_scan_bad(&s, "ns link", "expected KIND:[INODE]");

	*ret_ino = ino;
	return 0;
}

/* A sysctl's values: "250\t32000\t40\t100\n", "-1\n", "18446744073692774399\n". */
int oc_proc_parse_sysctl(const char *text, const char *name, uint64_t *vals, size_t n)
{
	struct oc_lines it;
	struct oc_scan line;

	oc_lines_init(&it, text ? text : "");
	if (!oc_lines_next(&it, &line))
		return oc_error(-EINVAL, "%s: empty", name);
	for (size_t i = 0; i < n; i++) {
		int64_t v;
		oc_scan_blank(&line);
		if (line.p < line.end && *line.p == '-') {
			line.p++;
			if (!oc_scan_u64(&line, 10, (uint64_t *)&v))
				return oc_scan_bad(&line, name, "expected a number");
			vals[i] = (uint64_t)-v;
		} else if (!oc_scan_u64(&line, 10, &vals[i])) {
			return oc_scan_bad(&line, name, n > 1 ? "expected more numbers" : "expected a number");
		}
	}
	if (!oc_scan_eol(&line))
		return oc_scan_bad(&line, name, "trailing text");
	return 0;
}
