// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /proc/PID/maps and /proc/PID/smaps.  A VMA header line is
 *
 *	START-END PERM PGOFF MAJ:MIN INODE [padding NAME]
 *
 * (fs/proc/task_mmu.c show_vma_header_prefix(): all numbers hex but the
 * inode).  smaps follows each header with "Key:  value kB" lines and a
 * "VmFlags: rd wr ..." line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "proc/proc.h"
#include "proc/scan.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#define KIND "maps"

static const char *const vmflag_codes[] = {
	[0] = "rd",  [1] = "wr",  [2] = "ex",  [3] = "sh",  [4] = "mr",	 [5] = "mw",  [6] = "me",
	[7] = "ms",  [8] = "gd",  [9] = "pf",  [10] = "dw", [11] = "lo", [12] = "io", [13] = "sr",
	[14] = "rr", [15] = "dc", [16] = "de", [17] = "ac", [18] = "nr", [19] = "ht", [20] = "sf",
	[21] = "nl", [22] = "ar", [23] = "wf", [24] = "dd", [25] = "sd", [26] = "mm", [27] = "hg",
	[28] = "nh", [29] = "mg", [30] = "um", [31] = "uw", [32] = "ui", [33] = "ss", [34] = "sl",
	[35] = "lf", [36] = "dp", [37] = "gu", [38] = "bt", [39] = "mt", [40] = "mp",
};

uint64_t oc_vmflag_from_code(const char *code, size_t len)
{
	size_t i;

	if (len != 2)
		return 0;
	for (i = 0; i < ARRAY_SIZE(vmflag_codes); i++)
		if (vmflag_codes[i] && vmflag_codes[i][0] == code[0] && vmflag_codes[i][1] == code[1])
			return 1ULL << i;
	return 0;
}

const char *oc_vmflag_code(uint64_t flag)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vmflag_codes); i++)
		if (flag == 1ULL << i)
			return vmflag_codes[i];
	return NULL;
}

static const struct {
	const char *name;
	enum oc_vma_kind kind;
} special_names[] = {
	{ "[heap]", OC_VMA_HEAP },
	{ "[stack]", OC_VMA_STACK },
	{ "[vdso]", OC_VMA_VDSO },
	{ "[vvar]", OC_VMA_VVAR },
	{ "[vvar_vclock]", OC_VMA_VVAR_VCLOCK },
	{ "[vsyscall]", OC_VMA_VSYSCALL },
	{ "[uprobes]", OC_VMA_UPROBES },
};

#define DELETED_SUFFIX " (deleted)"

static enum oc_vma_kind classify(const char *name, size_t len)
{
	size_t i;

	if (len == 0)
		return OC_VMA_ANON;
	if (name[0] == '/')
		return OC_VMA_FILE;
	if (name[0] != '[' || name[len - 1] != ']')
		return OC_VMA_OTHER;

	for (i = 0; i < ARRAY_SIZE(special_names); i++)
		if (oc_word_is(name, len, special_names[i].name))
			return special_names[i].kind;
	if (len > strlen("[anon:]") && strncmp(name, "[anon:", 6) == 0)
		return OC_VMA_ANON_NAMED;
	if (len > strlen("[anon_shmem:]") && strncmp(name, "[anon_shmem:", 12) == 0)
		return OC_VMA_ANON_SHMEM_NAMED;
	return OC_VMA_SPECIAL;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A header starts with hex digits and a '-'; a field line with "Key:". */
static bool is_header(const struct oc_scan *line)
{
	const char *p = line->p;

	while (p < line->end && is_hex(*p))
		p++;
	return p != line->p && p < line->end && *p == '-';
}

static int parse_perms(struct oc_scan *s, struct oc_proc_vma *vma)
{
	const char *p = s->p;

	if (s->end - p < 4)
		return -EINVAL;
	if ((p[0] != 'r' && p[0] != '-') || (p[1] != 'w' && p[1] != '-') || (p[2] != 'x' && p[2] != '-') ||
	    (p[3] != 's' && p[3] != 'p'))
		return -EINVAL;

	vma->prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) | (p[2] == 'x' ? PROT_EXEC : 0);
	vma->shared = p[3] == 's';
	s->p += 4;
	return 0;
}

static int parse_header(struct oc_scan *s, struct oc_proc_vma *vma)
{
	uint32_t maj, min;
	size_t len;

	if (!oc_scan_u64(s, 16, &vma->start) || !oc_scan_char(s, '-') || !oc_scan_u64(s, 16, &vma->end) ||
	    !oc_scan_blank(s))
		return oc_scan_bad(s, KIND, "bad address range");
	if (vma->start >= vma->end)
		return oc_scan_bad(s, KIND, "empty or reversed address range");
	if (parse_perms(s, vma) < 0 || !oc_scan_blank(s))
		return oc_scan_bad(s, KIND, "bad permissions");
	if (!oc_scan_u64(s, 16, &vma->pgoff) || !oc_scan_blank(s))
		return oc_scan_bad(s, KIND, "bad offset");
	if (!oc_scan_u32(s, 16, &maj) || !oc_scan_char(s, ':') || !oc_scan_u32(s, 16, &min) || !oc_scan_blank(s))
		return oc_scan_bad(s, KIND, "bad device");
	vma->dev_major = maj;
	vma->dev_minor = min;
	if (!oc_scan_u64(s, 10, &vma->inode))
		return oc_scan_bad(s, KIND, "bad inode");

	/* The name, after the padding; none for anonymous memory. */
	if (!oc_scan_eol(s) && !oc_scan_blank(s))
		return oc_scan_bad(s, KIND, "bad inode");
	len = (size_t)(s->end - s->p);
	vma->kind = classify(s->p, len);
	if ((vma->kind == OC_VMA_FILE || vma->kind == OC_VMA_OTHER) && len > strlen(DELETED_SUFFIX) &&
	    memcmp(s->end - strlen(DELETED_SUFFIX), DELETED_SUFFIX, strlen(DELETED_SUFFIX)) == 0) {
		vma->deleted = true;
		len -= strlen(DELETED_SUFFIX);
	}
	vma->path = oc_strndup(s->p, len);
	if (!vma->path)
		return oc_error(-ENOMEM, KIND ": out of memory");
	return 0;
}

/* The smaps "Key: N kB" fields we keep. */
static const struct {
	const char *key;
	size_t offset;
} kb_fields[] = {
	{ "Size", offsetof(struct oc_proc_vma, size_kb) },
	{ "KernelPageSize", offsetof(struct oc_proc_vma, kernel_page_size_kb) },
	{ "MMUPageSize", offsetof(struct oc_proc_vma, mmu_page_size_kb) },
	{ "Rss", offsetof(struct oc_proc_vma, rss_kb) },
	{ "Anonymous", offsetof(struct oc_proc_vma, anonymous_kb) },
	{ "AnonHugePages", offsetof(struct oc_proc_vma, anon_huge_pages_kb) },
	{ "Swap", offsetof(struct oc_proc_vma, swap_kb) },
	{ "Locked", offsetof(struct oc_proc_vma, locked_kb) },
};

static int parse_field(struct oc_scan *s, struct oc_proc_vma *vma)
{
	const char *w;
	size_t i, len;

	if (!memchr(s->p, ':', (size_t)(s->end - s->p)))
		return oc_scan_bad(s, KIND, "neither a VMA nor a \"Key:\" line");
	if (!vma)
		return oc_scan_bad(s, KIND, "field before the first VMA");
	vma->has_smaps = true;

	if (oc_scan_key(s, "VmFlags")) {
		if (vma->has_vmflags)
			return oc_scan_bad(s, KIND, "second VmFlags line");
		vma->has_vmflags = true;
		while (oc_scan_word(s, &w, &len))
			vma->vmflags |= oc_vmflag_from_code(w, len);
		return 0;
	}

	for (i = 0; i < ARRAY_SIZE(kb_fields); i++) {
		uint64_t v;

		if (!oc_scan_key(s, kb_fields[i].key))
			continue;
		if (!oc_scan_u64(s, 10, &v) || !(oc_scan_eol(s) || (oc_scan_lit(s, " kB") && oc_scan_eol(s))))
			return oc_scan_bad(s, KIND, "bad size");
		*(uint64_t *)((char *)vma + kb_fields[i].offset) = v;
		return 0;
	}
	return 0; /* a field we do not keep */
}

void oc_proc_vmas_free(struct oc_proc_vma *vmas, size_t n)
{
	size_t i;

	if (!vmas)
		return;
	for (i = 0; i < n; i++)
		free(vmas[i].path);
	free(vmas);
}

int oc_proc_parse_maps(const char *text, struct oc_proc_vma **ret_vmas, size_t *ret_n)
{
	struct oc_proc_vma *vmas = NULL, *cur = NULL;
	size_t n = 0, cap = 0;
	struct oc_lines it;
	struct oc_scan line;
	int r;

	if (!text)
		return oc_error(-EINVAL, KIND ": no text");

	oc_lines_init(&it, text);
	while (oc_lines_next(&it, &line)) {
		if (oc_scan_eol(&line))
			continue;

		if (!is_header(&line)) {
			r = parse_field(&line, cur);
			if (r < 0)
				goto fail;
			continue;
		}

		struct oc_proc_vma *nv = oc_grow(vmas, &cap, n, sizeof(*vmas));
		if (!nv) {
			r = oc_error(-ENOMEM, KIND ": out of memory");
			goto fail;
		}
		vmas = nv;
		cur = &vmas[n];
		memset(cur, 0, sizeof(*cur));
		r = parse_header(&line, cur);
		if (r < 0) {
			free(cur->path);
			goto fail;
		}
		n++;
		if (n > 1 && cur->start < vmas[n - 2].end) {
			r = oc_scan_bad(&line, KIND, "VMA overlaps or precedes the one before");
			goto fail;
		}
	}

	pr_debug("smaps: %zu VMAs", n);
	if (n == 0) {
		free(vmas);
		vmas = NULL;
	}
	*ret_vmas = vmas;
	*ret_n = n;
	return 0;

fail:
	oc_proc_vmas_free(vmas, n);
	return r;
}

int oc_proc_read_maps(pid_t pid, struct oc_proc_vma **ret_vmas, size_t *ret_n)
{
	_cleanup_free_ char *text = NULL;
	int r = oc_proc_read(pid, "maps", &text, NULL);

	return r < 0 ? r : oc_proc_parse_maps(text, ret_vmas, ret_n);
}
