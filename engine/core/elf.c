// SPDX-License-Identifier: LGPL-2.1-or-later
/* Just enough ELF to read a build-id, which CRIU uses to check files. */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/elf.h"

#define NOTES_MAX 4096

int oc_elf_build_id(int fd, uint8_t buf[OC_BUILD_ID_MAX])
{
	Elf64_Ehdr eh;

	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 256)
		return 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint8_t notes[NOTES_MAX];

		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) != sizeof(ph))
			return -EIO;
		if (ph.p_type != PT_NOTE || ph.p_filesz > sizeof(notes))
			continue;
		ssize_t n = pread(fd, notes, ph.p_filesz, ph.p_offset);
		if (n != (ssize_t)ph.p_filesz)
			return -EIO;
		for (size_t off = 0; off + sizeof(Elf64_Nhdr) <= (size_t)n;) {
			Elf64_Nhdr nh;
			memcpy(&nh, notes + off, sizeof(nh));
			size_t name_at = off + sizeof(nh);
			size_t desc_at = name_at + ((nh.n_namesz + 3) & ~3u);
			size_t next = desc_at + ((nh.n_descsz + 3) & ~3u);
			if (next > (size_t)n || next <= off)
				break;
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && !memcmp(notes + name_at, "GNU", 4) &&
			    nh.n_descsz && nh.n_descsz <= OC_BUILD_ID_MAX) {
				memcpy(buf, notes + desc_at, nh.n_descsz);
				return nh.n_descsz;
			}
			off = next;
		}
	}
	return 0;
}
