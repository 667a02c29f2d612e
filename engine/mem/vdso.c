// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vDSO images: their exported functions, and the jumps that make an old
 * kernel's vDSO call this kernel's.  Every offset read from an image is
 * checked against its length: the old image comes from a checkpoint.
 */
#include <elf.h>
#include <stdbool.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "mem/vdso.h"
#include "core/error.h"

static bool in_image(size_t len, uint64_t off, uint64_t size)
{
	return off <= len && size <= len - off;
}

static int section(const uint8_t *img, size_t len, const Elf64_Ehdr *eh, unsigned idx, Elf64_Shdr *ret)
{
	uint64_t at = eh->e_shoff + (uint64_t)idx * eh->e_shentsize;

	if (idx >= eh->e_shnum || !in_image(len, at, sizeof(*ret)))
		return oc_error(-EINVAL, "section %u out of bounds", idx);
	memcpy(ret, img + at, sizeof(*ret));
	return 0;
}

/* The address the image is linked at: its first PT_LOAD, as a file offset 0. */
static int link_base(const uint8_t *img, size_t len, const Elf64_Ehdr *eh, uint64_t *ret)
{
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		uint64_t at = eh->e_phoff + (uint64_t)i * eh->e_phentsize;
		if (!in_image(len, at, sizeof(ph)))
			break;
		memcpy(&ph, img + at, sizeof(ph));
		if (ph.p_type == PT_LOAD) {
			*ret = ph.p_vaddr - ph.p_offset;
			return 0;
		}
	}
	return oc_error(-EINVAL, "no loadable segment");
}

static int check_header(const uint8_t *img, size_t len, Elf64_Ehdr *eh)
{
	if (len < sizeof(*eh))
		return oc_error(-EINVAL, "%zu bytes, too short for an ELF header", len);
	memcpy(eh, img, sizeof(*eh));
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64)
		return oc_error(-EINVAL, "not a 64-bit x86-64 ELF file");
	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_phentsize != sizeof(Elf64_Phdr))
		return oc_error(-EINVAL, "unexpected header entry sizes");
	return 0;
}

int oc_vdso_funcs(const uint8_t *img, size_t len, struct oc_vdso_func *out, size_t max)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sym = {}, str;
	uint64_t base = 0;
	size_t n = 0;
	int r;

	r = check_header(img, len, &eh);
	if (r < 0)
		return r;
	r = link_base(img, len, &eh, &base);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < eh.e_shnum && sym.sh_type != SHT_DYNSYM; i++) {
		r = section(img, len, &eh, i, &sym);
		if (r < 0)
			return r;
	}
	if (sym.sh_type != SHT_DYNSYM)
		return oc_error(-EINVAL, "no dynamic symbol table");
	r = section(img, len, &eh, sym.sh_link, &str);
	if (r < 0)
		return r;
	if (!in_image(len, sym.sh_offset, sym.sh_size) || !in_image(len, str.sh_offset, str.sh_size))
		return oc_error(-EINVAL, "symbol tables out of bounds");

	for (uint64_t at = 0; at + sizeof(Elf64_Sym) <= sym.sh_size; at += sizeof(Elf64_Sym)) {
		Elf64_Sym s;
		memcpy(&s, img + sym.sh_offset + at, sizeof(s));
		unsigned bind = ELF64_ST_BIND(s.st_info);
		if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_shndx == SHN_UNDEF ||
		    (bind != STB_GLOBAL && bind != STB_WEAK))
			continue;
		if (s.st_name >= str.sh_size)
			return oc_error(-EINVAL, "a symbol name out of bounds");
		const char *name = (const char *)img + str.sh_offset + s.st_name;
		size_t name_len = strnlen(name, str.sh_size - s.st_name);
		if (name_len == str.sh_size - s.st_name || name_len >= OC_VDSO_NAME_MAX)
			return oc_error(-EINVAL, "a symbol name is unterminated or too long");
		uint64_t off = s.st_value - base;
		if (!in_image(len, off, s.st_size))
			return oc_error(-EINVAL, "function %s lies outside the image", name);
		if (n == max)
			return oc_error(-E2BIG, "more than %zu functions", max);
		memcpy(out[n].name, name, name_len + 1);
		out[n].offset = off;
		out[n].size = s.st_size;
		n++;
	}
	return (int)n;
}

#define VDSO_FUNCS_MAX 64

int oc_vdso_proxy_patches(const uint8_t *old_img, size_t old_len, uint64_t old_base, const uint8_t *new_img,
			  size_t new_len, uint64_t new_base, size_t min_patch_len, struct oc_vdso_patch *out,
			  size_t max)
{
	struct oc_vdso_func old[VDSO_FUNCS_MAX], cur[VDSO_FUNCS_MAX];
	int n_old, n_cur;
	size_t n = 0;

	n_old = oc_vdso_funcs(old_img, old_len, old, VDSO_FUNCS_MAX);
	if (n_old < 0)
		return oc_error_wrap(n_old, "the image's vDSO");
	n_cur = oc_vdso_funcs(new_img, new_len, cur, VDSO_FUNCS_MAX);
	if (n_cur < 0)
		return oc_error_wrap(n_cur, "this kernel's vDSO");

	for (int i = 0; i < n_old; i++) {
		const struct oc_vdso_func *to = NULL;
		for (int j = 0; j < n_cur && !to; j++)
			if (!strcmp(old[i].name, cur[j].name))
				to = &cur[j];
		if (!to)
			return oc_error(-EOPNOTSUPP, "the image's vDSO has %s, which this kernel's lacks", old[i].name);
		bool done = false;
		for (size_t k = 0; k < n && !done; k++)
			done = out[k].addr == old_base + old[i].offset;
		if (done)
			continue;
		if (old[i].size < min_patch_len)
			return oc_error(-EOPNOTSUPP,
					"the image's vDSO function %s (%" PRIu64 " bytes) is too short to redirect",
					old[i].name, old[i].size);
		if (n == max)
			return oc_error(-E2BIG, "the image's vDSO has more than %zu functions", max);
		out[n++] = (struct oc_vdso_patch){ old_base + old[i].offset, new_base + to->offset };
	}
	return (int)n;
}
