// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * `ocicr image show DIR`: what a person wants to know about a checkpoint,
 * in one screen: the process tree, each task's files, memory map and page
 * count, and the images with their sizes.
 *
 * Fields are read by name through the descriptors, like the JSON codec, so
 * this file does not depend on the layout of the generated structs.  Images
 * are read through the image-set loader's readers (img/imgset.h), one image
 * at a time and without loading the set as a whole: only inventory.img and
 * pstree.img are required; a task image that is missing or damaged is
 * reported in its place and the summary goes on.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "img/image.h"
#include "img/imgset.h"
#include "img/json.h"
#include "img/vma.h"
#include "core/cleanup.h"
#include "core/error.h"

#define PAGE_SIZE_4K 4096u

/* Entries of one image; the messages belong to the set. */
struct msg_list {
	ProtobufCMessage **msgs;
	size_t n;
};

struct show {
	struct oc_imgdir *dir;
	struct oc_imgset set; /* its readers only: nothing is loaded as a whole */
	FILE *out;
	struct msg_list files;	/* files.img */
	struct msg_list memfds; /* memfd.img */
	uint64_t pages_total;
	uint64_t pages_stored;
};

/* ---- generic field access ------------------------------------------------ */

static const ProtobufCFieldDescriptor *field_of(const ProtobufCMessage *m, const char *name)
{
	return m ? protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name) : NULL;
}

static bool has(const ProtobufCMessage *m, const char *name)
{
	const ProtobufCFieldDescriptor *fd = field_of(m, name);
	const uint8_t *base = (const uint8_t *)m;

	if (!fd)
		return false;
	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + fd->quantifier_offset) > 0;
	if (fd->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE) {
		const void *p = *(const void *const *)(base + fd->offset);
		return p && p != fd->default_value;
	}
	return *(const protobuf_c_boolean *)(base + fd->quantifier_offset);
}

static uint64_t u(const ProtobufCMessage *m, const char *name)
{
	return m ? oc_pb_get_uint(m, name) : 0;
}

static const char *str(const ProtobufCMessage *m, const char *name)
{
	const ProtobufCFieldDescriptor *fd = field_of(m, name);

	if (!fd || fd->type != PROTOBUF_C_TYPE_STRING || fd->label == PROTOBUF_C_LABEL_REPEATED || !has(m, name))
		return NULL;
	return *(const char *const *)((const uint8_t *)m + fd->offset);
}

static const ProtobufCMessage *sub(const ProtobufCMessage *m, const char *name)
{
	const ProtobufCFieldDescriptor *fd = field_of(m, name);

	if (!fd || fd->type != PROTOBUF_C_TYPE_MESSAGE || fd->label == PROTOBUF_C_LABEL_REPEATED || !has(m, name))
		return NULL;
	return *(const ProtobufCMessage *const *)((const uint8_t *)m + fd->offset);
}

/* A repeated field: its element array and count. */
static size_t rep(const ProtobufCMessage *m, const char *name, const void **ret_arr)
{
	const ProtobufCFieldDescriptor *fd = field_of(m, name);
	const uint8_t *base = (const uint8_t *)m;

	*ret_arr = NULL;
	if (!fd || fd->label != PROTOBUF_C_LABEL_REPEATED)
		return 0;
	*ret_arr = *(const void *const *)(base + fd->offset);
	return *(const size_t *)(base + fd->quantifier_offset);
}

static const char *enum_name(const ProtobufCMessage *m, const char *name)
{
	const ProtobufCFieldDescriptor *fd = field_of(m, name);
	const ProtobufCEnumValue *ev;

	if (!fd || fd->type != PROTOBUF_C_TYPE_ENUM)
		return "?";
	ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, (int)u(m, name));
	return ev ? ev->name : "?";
}

/* ---- loading ---------------------------------------------------------------- */

static void list_free(struct msg_list *l)
{
	free(l->msgs);
	l->msgs = NULL;
	l->n = 0;
}

/* Every entry of image @kind/@id; -ENOENT if it is missing. */
static int load_all(struct show *s, enum oc_img_kind kind, uint64_t id, struct msg_list *ret)
{
	return oc_imgset_read_all(&s->set, kind, id, false, &ret->msgs, &ret->n, NULL);
}

static const ProtobufCMessage *file_by_id(const struct show *s, uint64_t id)
{
	for (size_t i = 0; i < s->files.n; i++)
		if (u(s->files.msgs[i], "id") == id)
			return s->files.msgs[i];
	return NULL;
}

static const char *memfd_name(const struct show *s, uint64_t inode_id)
{
	for (size_t i = 0; i < s->memfds.n; i++)
		if (u(s->memfds.msgs[i], "inode_id") == inode_id)
			return str(s->memfds.msgs[i], "name");
	return NULL;
}

/* ---- describing files -------------------------------------------------------- */

static void print_inet(FILE *out, const ProtobufCMessage *isk)
{
	const void *src, *dst;
	size_t ns = rep(isk, "src_addr", &src), nd = rep(isk, "dst_addr", &dst);
	char a[64] = "?", b[64] = "?";

	if (ns == 1 || ns == 4)
		oc_ipaddr_format(src, ns, a, sizeof(a));
	if (nd == 1 || nd == 4)
		oc_ipaddr_format(dst, nd, b, sizeof(b));
	fprintf(out, "%s %s:%" PRIu64 " -> %s:%" PRIu64 " (proto %" PRIu64 ", state %" PRIu64 ")",
		u(isk, "family") == 10 ? "inet6" : "inet", a, u(isk, "src_port"), b, u(isk, "dst_port"),
		u(isk, "proto"), u(isk, "state"));
}

/* "REG  /path", "PIPE pipe:[123]", ... for file id @id. */
static void print_file(const struct show *s, uint64_t id)
{
	const ProtobufCMessage *f = file_by_id(s, id), *m;
	FILE *out = s->out;

	if (!f) {
		fprintf(out, "?        file id %" PRIu64 " not in files.img", id);
		return;
	}
	fprintf(out, "%-8s ", enum_name(f, "type"));
	if ((m = sub(f, "reg"))) {
		fprintf(out, "%s", str(m, "name") ? str(m, "name") : "?");
		if (u(m, "pos"))
			fprintf(out, " (pos %" PRIu64 ")", u(m, "pos"));
	} else if ((m = sub(f, "pipe"))) {
		fprintf(out, "pipe:[%" PRIu64 "]%s", u(m, "pipe_id"), u(m, "flags") & 3 ? " write end" : " read end");
	} else if ((m = sub(f, "fifo"))) {
		fprintf(out, "fifo:[%" PRIu64 "]", u(m, "pipe_id"));
	} else if ((m = sub(f, "usk"))) {
		const ProtobufCFieldDescriptor *fd = field_of(m, "name");
		const ProtobufCBinaryData *name = NULL;

		if (fd && fd->type == PROTOBUF_C_TYPE_BYTES && fd->label != PROTOBUF_C_LABEL_REPEATED)
			name = (const void *)((const uint8_t *)m + fd->offset);
		fprintf(out, "socket:[%" PRIu64 "] peer %" PRIu64, u(m, "ino"), u(m, "peer"));
		if (name && name->len) {
			/* abstract names start with NUL: show it as '@' */
			fputc(' ', out);
			for (size_t i = 0; i < name->len; i++)
				fputc(name->data[i] >= 0x20 && name->data[i] < 0x7f ? name->data[i] : '@', out);
		}
	} else if ((m = sub(f, "isk"))) {
		print_inet(out, m);
	} else if ((m = sub(f, "memfd"))) {
		const char *name = memfd_name(s, u(m, "inode_id"));
		fprintf(out, "memfd:%s", name ? name : "?");
	} else if ((m = sub(f, "tty"))) {
		fprintf(out, "tty info %" PRIu64, u(m, "tty_info_id"));
	} else {
		fprintf(out, "id %" PRIu64, id);
	}
}

/* ---- per task ------------------------------------------------------------------ */

static void print_problem(const struct show *s, const char *what, int r)
{
	const char *msg = oc_error_message();

	fprintf(s->out, "  %s: %s\n", what, msg && *msg ? msg : strerror(-r));
	oc_error_clear();
}

static void show_fds(struct show *s, uint64_t pid)
{
	ProtobufCMessage *ids = NULL, *fs = NULL;
	struct msg_list fds = {};
	int r;

	r = oc_imgset_read_one(&s->set, OC_IMG_IDS, pid, false, &ids);
	if (r < 0) {
		print_problem(s, "files", r);
		return;
	}
	uint64_t files_id = u(ids, "files_id");

	r = load_all(s, OC_IMG_FDINFO, files_id, &fds);
	if (r == -ENOENT) {
		oc_error_clear();
		fprintf(s->out, "  files: none (no fdinfo-%" PRIu64 ".img)\n", files_id);
	} else if (r < 0) {
		print_problem(s, "files", r);
	} else {
		fprintf(s->out, "  files (fdinfo-%" PRIu64 ".img):\n", files_id);
		for (size_t i = 0; i < fds.n; i++) {
			fprintf(s->out, "    %6" PRIu64 "  ", u(fds.msgs[i], "fd"));
			print_file(s, u(fds.msgs[i], "id"));
			fputc('\n', s->out);
		}
		list_free(&fds);
	}

	r = oc_imgset_read_one(&s->set, OC_IMG_FS, pid, false, &fs);
	if (r < 0) {
		print_problem(s, "cwd/root", r);
		return;
	}
	fprintf(s->out, "    %6s  ", "cwd");
	print_file(s, u(fs, "cwd_id"));
	fprintf(s->out, "\n    %6s  ", "root");
	print_file(s, u(fs, "root_id"));
	fputc('\n', s->out);
}

static const char *vma_kind(uint64_t status)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} kinds[] = {
		{ VMA_AREA_STACK, "stack" },   { VMA_AREA_VSYSCALL, "vsyscall" }, { VMA_AREA_VDSO, "vdso" },
		{ VMA_AREA_VVAR, "vvar" },     { VMA_AREA_HEAP, "heap" },	  { VMA_AREA_SYSVIPC, "sysv-shm" },
		{ VMA_AREA_SOCKET, "packet" }, { VMA_AREA_AIORING, "aio" },	  { VMA_AREA_MEMFD, "memfd" },
		{ VMA_AREA_SHSTK, "shstk" },   { VMA_AREA_UPROBES, "uprobes" },	  { VMA_AREA_GUARD, "guard" },
		{ VMA_FILE_SHARED, "file" },   { VMA_FILE_PRIVATE, "file" },	  { VMA_ANON_SHARED, "shmem" },
		{ VMA_ANON_PRIVATE, "anon" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (status & kinds[i].bit)
			return kinds[i].name;
	return "?";
}

static void show_vma(const struct show *s, const ProtobufCMessage *vma)
{
	uint64_t prot = u(vma, "prot"), status = u(vma, "status");
	const char *name = NULL;
	char extra[48] = "";

	if (status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED | VMA_AREA_MEMFD)) {
		const ProtobufCMessage *f = file_by_id(s, u(vma, "shmid")), *m;
		if ((m = sub(f, "reg")))
			name = str(m, "name");
		else if ((m = sub(f, "memfd")))
			name = memfd_name(s, u(m, "inode_id"));
		if (!name)
			name = "?";
		if (u(vma, "pgoff"))
			snprintf(extra, sizeof(extra), " +0x%" PRIx64, u(vma, "pgoff"));
	} else if (status & VMA_AREA_SOCKET) {
		snprintf(extra, sizeof(extra), "file %" PRIu64, u(vma, "shmid"));
		name = "";
	} else if (status & (VMA_ANON_SHARED | VMA_AREA_SYSVIPC)) {
		snprintf(extra, sizeof(extra), "id %" PRIu64, u(vma, "shmid"));
		name = "";
	}
	fprintf(s->out, "    %016" PRIx64 "-%016" PRIx64 " %c%c%c%c  ", u(vma, "start"), u(vma, "end"),
		prot & 1 ? 'r' : '-', prot & 2 ? 'w' : '-', prot & 4 ? 'x' : '-', u(vma, "flags") & 1 ? 's' : 'p');
	const char *kind = vma_kind(status);
	if (!strcmp(kind, "anon") && (u(vma, "flags") & OC_MAP_GROWSDOWN))
		kind = "stack"; /* a thread's stack grows down, too */
	if (name)
		fprintf(s->out, "%-8s %s%s", kind, name, extra);
	else
		fputs(kind, s->out);
	if (!(status & (VMA_AREA_REGULAR | VMA_AREA_AIORING | VMA_AREA_GUARD)))
		fputs(" (not restored)", s->out);
	fputc('\n', s->out);
}

static void show_mm(struct show *s, uint64_t pid)
{
	ProtobufCMessage *mm = NULL;
	const void *arr;
	int r;

	r = oc_imgset_read_one(&s->set, OC_IMG_MM, pid, false, &mm);
	if (r < 0) {
		print_problem(s, "memory", r);
		return;
	}
	size_t n = rep(mm, "vmas", &arr);
	const ProtobufCMessage *const *vmas = arr;
	fprintf(s->out, "  exe: ");
	print_file(s, u(mm, "exe_file_id"));
	fprintf(s->out, "\n  memory (mm-%" PRIu64 ".img, %zu mappings):\n", pid, n);
	for (size_t i = 0; i < n; i++)
		show_vma(s, vmas[i]);
}

/* Sum a pagemap: all pages it describes, and those stored in its pages file. */
static int count_pages(struct show *s, enum oc_img_kind kind, uint64_t id, uint64_t *ret_total, uint64_t *ret_stored,
		       uint32_t *ret_pages_id)
{
	_cleanup_free_ PagemapEntry **pes = NULL;
	uint64_t total = 0, stored = 0;
	size_t n;
	int r = oc_imgset_read_pagemap(&s->set, kind, id, &pes, &n, ret_pages_id);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const ProtobufCMessage *m = &pes[i]->base;
		uint64_t pages = oc_pagemap_entry_pages(pes[i]);
		uint64_t flags = has(m, "flags") ? u(m, "flags") : PE_PRESENT;
		if (u(m, "in_parent"))
			flags |= PE_PARENT;
		total += pages;
		if (flags & PE_PRESENT)
			stored += pages;
	}
	*ret_total = total;
	*ret_stored = stored;
	return 0;
}

static void print_size(FILE *out, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = bytes;
	size_t i = 0;

	while (v >= 1024 && i + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		fprintf(out, "%" PRIu64 " B", bytes);
	else
		fprintf(out, "%.1f %s", v, units[i]);
}

static void show_pages(struct show *s, uint64_t pid)
{
	uint64_t total, stored;
	uint32_t pages_id;
	int r = count_pages(s, OC_IMG_PAGEMAP, pid, &total, &stored, &pages_id);

	if (r < 0) {
		print_problem(s, "pages", r);
		return;
	}
	fprintf(s->out, "  pages: %" PRIu64 " (", total);
	print_size(s->out, total * PAGE_SIZE_4K);
	fprintf(s->out, "), %" PRIu64 " stored in pages-%" PRIu32 ".img\n", stored, pages_id);
}

static const char *task_state(uint64_t state)
{
	switch (state) {
	case 1:
		return "alive";
	case 2:
		return "zombie";
	case 3:
		return "stopped";
	default:
		return "?";
	}
}

/* ---- process tree -------------------------------------------------------------- */

static void show_tree_node(struct show *s, const struct msg_list *tree, bool *shown, size_t i, unsigned depth)
{
	const ProtobufCMessage *p = tree->msgs[i];
	ProtobufCMessage *core = NULL;
	const void *arr;
	uint64_t pid = u(p, "pid");
	const char *comm = NULL, *state = "?";

	shown[i] = true;
	if (oc_imgset_read_one(&s->set, OC_IMG_CORE, pid, false, &core) >= 0) {
		const ProtobufCMessage *tc = sub(core, "tc");
		comm = str(tc, "comm");
		state = task_state(u(tc, "task_state"));
	}
	oc_error_clear();
	fprintf(s->out, "%8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "  %-8s %7zu  %*s%s\n", pid, u(p, "ppid"),
		u(p, "pgid"), u(p, "sid"), state, rep(p, "threads", &arr), (int)(2 * depth), "", comm ? comm : "?");

	/* children under their parent, each task once even if the tree loops */
	for (size_t j = 0; j < tree->n; j++)
		if (!shown[j] && u(tree->msgs[j], "ppid") == pid)
			show_tree_node(s, tree, shown, j, depth + 1);
}

static bool has_parent_in(const struct msg_list *tree, size_t i)
{
	uint64_t ppid = u(tree->msgs[i], "ppid");

	for (size_t j = 0; j < tree->n; j++)
		if (j != i && u(tree->msgs[j], "pid") == ppid)
			return true;
	return false;
}

static void show_task(struct show *s, const ProtobufCMessage *p)
{
	uint64_t pid = u(p, "pid");
	const void *arr;
	size_t nthreads = rep(p, "threads", &arr);
	const uint32_t *threads = arr;
	ProtobufCMessage *core = NULL;
	const char *comm = NULL;

	if (oc_imgset_read_one(&s->set, OC_IMG_CORE, pid, false, &core) >= 0)
		comm = str(sub(core, "tc"), "comm");
	oc_error_clear();
	fprintf(s->out, "\ntask %" PRIu64 " (%s)", pid, comm ? comm : "?");
	if (nthreads > 1) {
		fprintf(s->out, ", threads");
		for (size_t i = 0; i < nthreads; i++)
			fprintf(s->out, " %" PRIu32, threads[i]);
	}
	fputc('\n', s->out);

	show_fds(s, pid);
	show_mm(s, pid);
	show_pages(s, pid);
}

/* ---- the image list ----------------------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_images(struct show *s, char ***ret_names, size_t *ret_n)
{
	_cleanup_closedir_ DIR *d = NULL;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	int fd;

	fd = openat(oc_imgdir_fd(s->dir), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "%s: cannot list", oc_imgdir_path(s->dir));
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return oc_error_errno(-errno, "%s: cannot list", oc_imgdir_path(s->dir));
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(*nn));
		if (!nn || !(nn[n] = strdup(de->d_name))) {
			names = nn ? nn : names;
			for (size_t i = 0; i < n; i++)
				free(names[i]);
			free(names);
			return -ENOMEM;
		}
		names = nn;
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	*ret_names = names;
	*ret_n = n;
	return 0;
}

static void show_images(struct show *s, char **names, size_t n)
{
	uint64_t total = 0;

	fprintf(s->out, "\nimages:\n");
	for (size_t i = 0; i < n; i++) {
		const struct oc_img_desc *desc = oc_img_desc_by_filename(names[i]);
		struct stat st;

		if (fstatat(oc_imgdir_fd(s->dir), names[i], &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		total += st.st_size;
		fprintf(s->out, "  %-28s %-14s %12" PRIu64 "  ", names[i], desc ? desc->name : "-",
			(uint64_t)st.st_size);
		print_size(s->out, st.st_size);
		fputc('\n', s->out);
	}
	fprintf(s->out, "  %zu files, ", n);
	print_size(s->out, total);
	fputc('\n', s->out);
}

/* Pages over every pagemap of the directory, task and shmem ones. */
static void sum_pagemaps(struct show *s, char **names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct oc_img_desc *desc = oc_img_desc_by_filename(names[i]);
		bool shmem = desc && desc->kind == OC_IMG_SHMEM_PAGEMAP;
		uint64_t id, total, stored;
		uint32_t pages_id;

		if (!desc || desc->payload != OC_PAYLOAD_PAGEMAP)
			continue;
		if (sscanf(names[i], shmem ? "pagemap-shmem-%" SCNu64 ".img" : "pagemap-%" SCNu64 ".img", &id) != 1)
			continue;
		if (count_pages(s, desc->kind, id, &total, &stored, &pages_id) >= 0) {
			s->pages_total += total;
			s->pages_stored += stored;
		}
		oc_error_clear();
	}
}

/* ---- entry point ------------------------------------------------------------------- */

OC_API int oc_image_show(const char *path, FILE *out)
{
	struct show s = { .out = out };
	struct msg_list tree = {};
	ProtobufCMessage *inv = NULL;
	_cleanup_free_ bool *shown = NULL;
	char **names = NULL;
	size_t n_names = 0, threads = 0;
	int r;

	oc_error_clear();
	r = oc_imgdir_open(path, false, &s.dir);
	if (r < 0)
		return r;
	s.set.dir = s.dir;
	r = oc_img_read_inventory(s.dir, &inv);
	if (r < 0)
		goto out;
	r = load_all(&s, OC_IMG_PSTREE, 0, &tree);
	if (r == -ENOENT)
		r = oc_error(r, "%s: no pstree.img: the directory holds no process tree", path);
	if (r < 0)
		goto out;
	if (tree.n == 0) {
		r = oc_error(-EINVAL, "%s: pstree.img holds no process", path);
		goto out;
	}
	r = list_images(&s, &names, &n_names);
	if (r < 0)
		goto out;

	/* optional: without them files show as "?" */
	if (load_all(&s, OC_IMG_FILES, 0, &s.files) < 0 || load_all(&s, OC_IMG_MEMFD_INODE, 0, &s.memfds) < 0)
		oc_error_clear();

	fprintf(out, "checkpoint %s: image version %" PRIu64, path, u(inv, "img_version"));
	if (str(inv, "dump_criu_run_id"))
		fprintf(out, ", dump run %s", str(inv, "dump_criu_run_id"));
	fprintf(out, "\n\nprocess tree:\n%8s %8s %8s %8s  %-8s %7s  %s\n", "PID", "PPID", "PGID", "SID", "STATE",
		"THREADS", "COMM");
	shown = calloc(tree.n, sizeof(*shown));
	if (!shown) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < tree.n; i++) {
		const void *arr;
		threads += rep(tree.msgs[i], "threads", &arr);
		if (!has_parent_in(&tree, i))
			show_tree_node(&s, &tree, shown, i, 0);
	}
	for (size_t i = 0; i < tree.n; i++) /* parts of a loop */
		if (!shown[i])
			show_tree_node(&s, &tree, shown, i, 0);
	for (size_t i = 0; i < tree.n; i++)
		show_task(&s, tree.msgs[i]);

	sum_pagemaps(&s, names, n_names);
	fprintf(out, "\ntotal: %zu processes, %zu threads, %" PRIu64 " pages (", tree.n, threads, s.pages_total);
	print_size(out, s.pages_total * PAGE_SIZE_4K);
	fprintf(out, "), %" PRIu64 " stored\n", s.pages_stored);
	show_images(&s, names, n_names);
	r = ferror(out) ? oc_error(-EIO, "cannot write the summary") : 0;
out:
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	list_free(&tree);
	list_free(&s.files);
	list_free(&s.memfds);
	if (inv)
		protobuf_c_message_free_unpacked(inv, NULL);
	oc_imgset_fini(&s.set);
	oc_imgdir_close(s.dir);
	return r;
}
