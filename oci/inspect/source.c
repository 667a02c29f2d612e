// SPDX-License-Identifier: GPL-2.0-or-later
/* Checkpoint archives and directories, unpacked safely (see source.h). */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ocicr.h"
#include "oci/inspect/limits.h"
#include "oci/inspect/source.h"
#include "oci/inspect/vm.h"
#include "ocicr/cleanup.h"

/* Names in the rootfs-diff.tar listing are cut at this length. */
#define ROOTFS_NAME_MAX 1024

static const char *const kind_names[_OCI_TARGET_KIND_MAX] = {
	[OCI_TARGET_ARCHIVE] = "archive",
	[OCI_TARGET_CHECKPOINT_DIR] = "checkpoint directory",
	[OCI_TARGET_IMAGES_DIR] = "images directory",
};
_Static_assert(ARRAY_SIZE(kind_names) == _OCI_TARGET_KIND_MAX, "a name for each target kind");

const char *oci_target_kind_name(enum oci_target_kind kind)
{
	return kind >= 0 && kind < _OCI_TARGET_KIND_MAX ? kind_names[kind] : "?";
}

/* Top-level members that are read, and extracted. */
static const char *const meta_members[] = {
	OCI_CONFIG_DUMP, OCI_SPEC_DUMP, OCI_NETWORK_STATUS, OCI_STATS_DUMP, OCI_DELETED_FILES, OCI_BIND_MOUNTS,
};

int oci_archive_clean_path(const char *name, char *buf, size_t size)
{
	size_t len = 0;

	if (!name || !*name)
		return oc_error(-EINVAL, "an archive member has an empty name");
	if (name[0] == '/')
		return -EINVAL;
	for (const char *p = name; *p;) {
		const char *slash = strchr(p, '/');
		size_t clen = slash ? (size_t)(slash - p) : strlen(p);

		if (clen == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		if (clen && !(clen == 1 && p[0] == '.')) {
			if (len + !!len + clen + 1 > size)
				return -ENAMETOOLONG;
			if (len)
				buf[len++] = '/';
			memcpy(buf + len, p, clen);
			len += clen;
		}
		p += clen;
		while (*p == '/')
			p++;
	}
	if (size == 0)
		return -ENAMETOOLONG;
	buf[len] = '\0';
	return 0;
}

/* ---- temporary directories -------------------------------------------- */

/* The extraction directories alive in this process, for signal handlers. */
#define MAX_TMPDIRS 4
static char tmpdir_slots[MAX_TMPDIRS][PATH_MAX];
static volatile sig_atomic_t tmpdir_used[MAX_TMPDIRS];

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/*
 * Remove the contents of directory @dfd, @depth levels at most, with
 * system calls only (async-signal safe).  The extraction directories hold
 * only directories and regular files that ocicr itself made.
 */
static void rm_contents(int dfd, int depth)
{
	char buf[4096] __attribute__((aligned(8)));
	long n;

	while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		bool removed = false;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			off += d->d_reclen;
			if (d->d_name[0] == '.' && (!d->d_name[1] || (d->d_name[1] == '.' && !d->d_name[2])))
				continue;
			if (d->d_type == DT_DIR && depth > 0) {
				int sub = openat(dfd, d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sub >= 0) {
					rm_contents(sub, depth - 1);
					close(sub);
				}
				unlinkat(dfd, d->d_name, AT_REMOVEDIR);
			} else {
				unlinkat(dfd, d->d_name, 0);
			}
			removed = true;
		}
		/* Entries moved under us: read the directory again from the start. */
		if (removed)
			lseek(dfd, 0, SEEK_SET);
	}
}

static void tmpdir_remove(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0) {
		rm_contents(fd, 3);
		close(fd);
	}
	rmdir(path);
}

void oci_source_emergency_cleanup(void)
{
	for (int i = 0; i < MAX_TMPDIRS; i++)
		if (tmpdir_used[i]) {
			tmpdir_remove(tmpdir_slots[i]);
			tmpdir_used[i] = 0;
		}
}

static int tmpdir_make(char **ret_path)
{
	const char *base = getenv("TMPDIR");
	_cleanup_free_ char *path = NULL;
	int slot = -1;

	for (int i = 0; i < MAX_TMPDIRS && slot < 0; i++)
		if (!tmpdir_used[i])
			slot = i;
	if (slot < 0)
		return oc_error(-EMFILE, "too many checkpoints open at once");
	if (!base || !*base)
		base = "/tmp";
	if (asprintf(&path, "%s/ocicr-inspect-XXXXXX", base) < 0)
		return -ENOMEM;
	if (strlen(path) >= PATH_MAX)
		return oc_error(-ENAMETOOLONG, "TMPDIR is too long");
	if (!mkdtemp(path))
		return oc_error_errno(-errno, "cannot create a temporary directory in %s", base);
	strcpy(tmpdir_slots[slot], path);
	tmpdir_used[slot] = 1;
	*ret_path = TAKE_PTR(path);
	return 0;
}

static void tmpdir_release(const char *path)
{
	for (int i = 0; i < MAX_TMPDIRS; i++)
		if (tmpdir_used[i] && !strcmp(tmpdir_slots[i], path)) {
			tmpdir_remove(path);
			tmpdir_used[i] = 0;
			return;
		}
	tmpdir_remove(path);
}

/* ---- archives ----------------------------------------------------------- */

/* Printable copy of a member name for messages (names can hold anything). */
const char *oci_archive_shown_name(const char *name, char *buf, size_t size)
{
	size_t i = 0;

	for (; name && name[i] && i + 1 < size; i++)
		buf[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
	buf[i] = '\0';
	return buf;
}

static bool is_meta_member(const char *rel)
{
	for (size_t i = 0; i < ARRAY_SIZE(meta_members); i++)
		if (!strcmp(rel, meta_members[i]))
			return true;
	return false;
}

/* Images an inspection reads; the others (tmpfs contents, netfilter...)
 * stay in the archive. */
static bool needed_image(const char *base)
{
	switch (oc_image_role(base)) {
	case OC_IMAGE_READ:
	case OC_IMAGE_PAGES:
	case OC_IMAGE_MM:
	case OC_IMAGE_PAGEMAP:
		return true;
	default:
		return false;
	}
}

/* What the members read so far say about one process's memory. */
struct pm_info {
	unsigned long pid;
	bool shmem; /* a shared memory object's pagemap, no process */
	bool has_pagemap, has_mm;
	uint32_t pages_id;
	struct oc_pm_run *runs;
	size_t n_runs;
	uint64_t str[2][2]; /* argv and environment: [start, end) addresses */
};

/* A byte range of a member to write. */
struct range {
	uint64_t start, end;
};

struct unpack {
	struct oci_source *src;
	const struct oci_source_opts *opts;
	struct archive *a;
	int dirfd;
	bool has_checkpoint_dir; /* some member under checkpoint/ */
	bool top_images;	 /* images at the top level */
	bool regular;		 /* the archive is a regular file (not a pipe) */
	struct pm_info *pms;
	size_t n_pms;
	uint64_t extracted; /* bytes written to tmpdir (holes not counted) */
};

/* argv and the environment are read up to this size each (model.c agrees). */
#define STRINGS_MAX (16u << 20)

static int archive_fail(struct unpack *u, const char *what)
{
	const char *msg = archive_error_string(u->a);
	char name[256];

	return oc_error(-EINVAL, "damaged or truncated archive (at %s): %s",
			oci_archive_shown_name(what, name, sizeof(name)), msg ? msg : "read error");
}

static int extract_limit(struct unpack *u, const char *rel)
{
	char name[256];

	return oc_error(-EFBIG,
			"extracting %s would write more than %llu MiB to disk: refusing the archive (raise "
			"the limit with --max-extract SIZE)",
			oci_archive_shown_name(rel, name, sizeof(name)),
			(unsigned long long)(oci_limits.max_extract >> 20));
}

/* Write the current member's data to @rel under the extraction directory:
 * all of it, or only @ranges (sorted) with holes elsewhere. */
static int extract_ranges(struct unpack *u, struct archive_entry *e, const char *rel, const struct range *ranges,
			  size_t n_ranges, uint64_t *ret_written)
{
	_cleanup_close_ int fd = -1;
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	fd = openat(u->dirfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		char name[256];
		return oc_error(-EINVAL, "the archive holds %s twice", oci_archive_shown_name(rel, name, sizeof(name)));
	}
	if (fd < 0)
		return oc_error_errno(-errno, "cannot create %s in %s", rel, u->src->tmpdir);
	while ((r = archive_read_data_block(u->a, &buf, &len, &off)) == ARCHIVE_OK) {
		struct range all = { 0, UINT64_MAX };
		int tr = oci_time_check();
		if (tr < 0)
			return tr;
		const struct range *rg = ranges ? ranges : &all;
		for (size_t i = 0; i < (ranges ? n_ranges : 1); i++) {
			uint64_t from = MAX((uint64_t)off, rg[i].start), to = MIN((uint64_t)off + len, rg[i].end);
			if (to > from && u->extracted + (to - from) > oci_limits.max_extract)
				return extract_limit(u, rel);
			for (uint64_t at = from; at < to;) {
				ssize_t n = pwrite(fd, (const char *)buf + (at - off), to - at, at);
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0)
					return oc_error_errno(-errno, "cannot write %s in %s", rel, u->src->tmpdir);
				at += n;
				u->extracted += n;
				if (ret_written)
					*ret_written += n;
			}
		}
	}
	if (r != ARCHIVE_EOF)
		return archive_fail(u, archive_entry_pathname(e));
	/* A sparse member may end in a hole. */
	if (archive_entry_size_is_set(e) && ftruncate(fd, archive_entry_size(e)) < 0)
		return oc_error_errno(-errno, "cannot write %s in %s", rel, u->src->tmpdir);
	return 0;
}

static int extract(struct unpack *u, struct archive_entry *e, const char *rel)
{
	return extract_ranges(u, e, rel, NULL, 0, NULL);
}

/* ---- reading only the pages that are needed --------------------------------- */

static struct pm_info *pm_get(struct unpack *u, unsigned long pid, bool shmem)
{
	struct pm_info *n;

	for (size_t i = 0; i < u->n_pms; i++)
		if (u->pms[i].pid == pid && u->pms[i].shmem == shmem)
			return &u->pms[i];
	n = realloc(u->pms, (u->n_pms + 1) * sizeof(*n));
	if (!n)
		return NULL;
	u->pms = n;
	n[u->n_pms] = (struct pm_info){ .pid = pid, .shmem = shmem };
	return &n[u->n_pms++];
}

static void pms_free(struct unpack *u)
{
	for (size_t i = 0; i < u->n_pms; i++)
		free(u->pms[i].runs);
	free(u->pms);
}

/*
 * Note what an extracted mm or pagemap image says.  A bad image is not an
 * error here: the pages are then extracted whole, and the loader reports
 * the image properly.
 */
static int note_image(struct unpack *u, enum oc_image_role role, const char *base, const char *dest)
{
	_cleanup_free_ char *path = NULL;
	unsigned long pid;
	struct pm_info *pm;
	uint64_t present;
	int r;

	if (role == OC_IMAGE_MM	       ? sscanf(base, "mm-%lu.img", &pid) != 1
	    : role == OC_IMAGE_PAGEMAP ? sscanf(base, "pagemap-%lu.img", &pid) != 1
				       : sscanf(base, "pagemap-shmem-%lu.img", &pid) != 1)
		return 0;
	pm = pm_get(u, pid, role == OC_IMAGE_SHMEM_PM);
	if (!pm)
		return -ENOMEM;
	if (asprintf(&path, "%s/%s", u->src->tmpdir, dest) < 0)
		return -ENOMEM;
	if (role == OC_IMAGE_MM) {
		r = oc_image_mm_strings(path, pm->str);
		pm->has_mm = r >= 0;
	} else {
		r = oc_image_pagemap_runs(path, base, &pm->pages_id, &pm->runs, &pm->n_runs, &present);
		pm->has_pagemap = r >= 0;
	}
	if (r == -ENOMEM)
		return r;
	oc_error_clear();
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The byte ranges of @pm's pages file that hold its argv and environment. */
static int string_ranges(const struct pm_info *pm, struct range **ret, size_t *ret_n)
{
	struct range *rg = NULL;
	size_t n = 0;

	for (int k = 0; k < 2; k++) {
		uint64_t a = pm->str[k][0], end = pm->str[k][1];
		if (end <= a)
			continue;
		end = MIN(end, a + STRINGS_MAX);
		while (a < end) {
			uint64_t off, avail;
			if (oc_pagemap_locate(pm->runs, pm->n_runs, a, &off, &avail) < 0)
				break;
			uint64_t len = MIN(avail, end - a);
			struct range *nr = realloc(rg, (n + 1) * sizeof(*nr));
			if (!nr) {
				free(rg);
				return -ENOMEM;
			}
			rg = nr;
			rg[n++] = (struct range){ off, off + len };
			a += len;
		}
	}
	if (n)
		qsort(rg, n, sizeof(*rg), range_cmp);
	*ret = rg;
	*ret_n = n;
	return 0;
}

/* pages-N.img: extract what the inspection reads of it, or all of it when
 * the members before did not say. */
static int extract_pages(struct unpack *u, struct archive_entry *e, const char *base, const char *dest)
{
	const struct pm_info *owner = NULL, *target = NULL;
	_cleanup_free_ struct range *rg = NULL;
	size_t n_rg = 0;
	unsigned long id;
	int r;

	if (u->opts->pages == OCI_PAGES_NONE)
		return 0;
	if (sscanf(base, "pages-%lu.img", &id) != 1)
		return 0;
	for (size_t i = 0; i < u->n_pms; i++) {
		if (u->pms[i].has_pagemap && u->pms[i].pages_id == id)
			owner = &u->pms[i];
		if (!u->pms[i].shmem && u->pms[i].pid == (unsigned long)u->opts->pages_pid)
			target = &u->pms[i];
	}
	switch (u->opts->pages) {
	case OCI_PAGES_PID:
		/* another process's pages, or a shared memory object's */
		if ((target && target->has_pagemap && target->pages_id != id) || (owner && owner != target))
			return 0;
		break;
	case OCI_PAGES_STRINGS:
		if (owner && owner->shmem)
			return 0;
		if (owner && owner->has_mm) {
			r = string_ranges(owner, &rg, &n_rg);
			if (r < 0)
				return r;
			return extract_ranges(u, e, dest, rg, n_rg, &u->src->pages_extracted);
		}
		break;
	default:
		break;
	}
	return extract_ranges(u, e, dest, NULL, 0, &u->src->pages_extracted);
}
/* rootfs-diff.tar is itself a tar, read from inside the outer one. */
struct nested {
	struct archive *outer;
	char buf[64 * 1024];
};

static la_ssize_t nested_read(struct archive *inner, void *userdata, const void **ret_buf)
{
	struct nested *n = userdata;
	la_ssize_t r = archive_read_data(n->outer, n->buf, sizeof(n->buf));

	if (r < 0)
		archive_set_error(inner, EIO, "the outer archive: %s", archive_error_string(n->outer));
	*ret_buf = n->buf;
	return r;
}

static int list_rootfs_diff(struct unpack *u)
{
	struct oci_source *src = u->src;
	_cleanup_free_ struct nested *n = calloc(1, sizeof(*n));
	struct archive *in = archive_read_new();
	struct archive_entry *e;
	size_t cap = 0;
	int r;

	if (!n || !in) {
		archive_read_free(in);
		return -ENOMEM;
	}
	n->outer = u->a;
	archive_read_support_format_tar(in);
	if (archive_read_open(in, n, NULL, nested_read, NULL) != ARCHIVE_OK)
		goto bad;
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		char clean[PATH_MAX];
		const char *name = archive_entry_pathname(e);
		if (!name || oci_archive_clean_path(name, clean, sizeof(clean)) < 0)
			snprintf(clean, sizeof(clean), "%s", name ? name : "?");
		if (!*clean)
			continue;
		if (oci_time_check() < 0) {
			if (asprintf(&src->rootfs_list_error, "stopped after %zu entries: %s", src->n_rootfs_changes,
				     oc_error_message()) < 0)
				src->rootfs_list_error = NULL;
			oc_error_clear();
			break;
		}
		if (src->n_rootfs_changes == oci_limits.max_names) {
			if (asprintf(&src->rootfs_list_error,
				     "more than %zu entries; the rest are not listed (raise "
				     "the limit with --max-names N)",
				     oci_limits.max_names) < 0)
				src->rootfs_list_error = NULL;
			break;
		}
		if (src->n_rootfs_changes == cap) {
			cap = cap ? cap * 2 : 64;
			struct oci_rootfs_change *nc = realloc(src->rootfs_changes, cap * sizeof(*nc));
			if (!nc) {
				archive_read_free(in);
				return -ENOMEM;
			}
			src->rootfs_changes = nc;
		}
		struct oci_rootfs_change *c = &src->rootfs_changes[src->n_rootfs_changes];
		/* hostile names can be long: cut, marked with "..." */
		c->path = strlen(clean) > ROOTFS_NAME_MAX ? NULL : strdup(clean);
		if (!c->path && strlen(clean) > ROOTFS_NAME_MAX &&
		    asprintf(&c->path, "%.*s...", ROOTFS_NAME_MAX, clean) < 0)
			c->path = NULL;
		if (!c->path) {
			archive_read_free(in);
			return -ENOMEM;
		}
		c->size = archive_entry_size(e);
		c->type = archive_entry_hardlink(e)		  ? 'h'
			  : archive_entry_filetype(e) == AE_IFREG ? 'f'
			  : archive_entry_filetype(e) == AE_IFDIR ? 'd'
			  : archive_entry_filetype(e) == AE_IFLNK ? 'l'
								  : 'o';
		src->n_rootfs_changes++;
	}
	if (r == ARCHIVE_EOF || src->rootfs_list_error) {
		archive_read_free(in);
		return 0;
	}
bad:
	/* A bad inner tar is reported, not fatal; a bad outer one is found
	 * by the next header read. */
	if (!src->rootfs_list_error &&
	    asprintf(&src->rootfs_list_error, "%s", archive_error_string(in) ?: "unreadable") < 0)
		src->rootfs_list_error = NULL;
	archive_read_free(in);
	return 0;
}

/* Decide what to do with one member, and do it. */
static int unpack_member(struct unpack *u, struct archive_entry *e)
{
	struct oci_source *src = u->src;
	const char *name = archive_entry_pathname(e);
	char rel[PATH_MAX], shown_name[256], dest[PATH_MAX + 16];
	bool regular = archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e);
	const char *slash, *base;
	int r;

	if (!name)
		return oc_error(-EINVAL, "an archive member has no usable name");
	r = oci_archive_clean_path(name, rel, sizeof(rel));
	if (r == -EINVAL)
		return oc_error(-EINVAL,
				"unsafe archive member '%s' (absolute, or with '..'): refusing the "
				"archive",
				oci_archive_shown_name(name, shown_name, sizeof(shown_name)));
	if (r < 0)
		return oc_error(r, "archive member name too long: '%.64s...'",
				oci_archive_shown_name(name, shown_name, sizeof(shown_name)));
	if (!*rel)
		return 0;

	slash = strchr(rel, '/');
	if (!slash) {
		if (!strcmp(rel, "checkpoint")) {
			u->has_checkpoint_dir = true;
			return 0;
		}
		if (is_meta_member(rel)) {
			if (!regular)
				return oc_error(-EINVAL, "member %s is not a regular file", rel);
			if ((uint64_t)archive_entry_size(e) > oci_limits.max_json)
				return oc_error(-EFBIG,
						"member %s is %lld bytes, more than the %llu it may have (raise "
						"the limit with --max-json SIZE)",
						rel, (long long)archive_entry_size(e),
						(unsigned long long)oci_limits.max_json);
			return extract(u, e, rel);
		}
		if (!strcmp(rel, OCI_ROOTFS_DIFF)) {
			src->rootfs_diff_size = archive_entry_size(e);
			if (regular && u->opts->want_rootfs_list)
				return list_rootfs_diff(u);
			return 0;
		}
		/* A tar of an images directory: images at the top level. */
		if (oc_image_role(rel) == OC_IMAGE_NONE)
			return 0;
		u->top_images = true;
		base = rel;
		snprintf(dest, sizeof(dest), "imgroot/%s", rel);
	} else {
		if (strncmp(rel, "checkpoint/", 11) != 0)
			return 0;
		u->has_checkpoint_dir = true;
		base = rel + 11;
		if (strchr(base, '/'))
			return 0; /* nothing deeper is read */
		if (oc_image_role(base) == OC_IMAGE_NONE)
			return 0; /* descriptors.json and the like */
		snprintf(dest, sizeof(dest), "checkpoint/%s", base);
	}

	/* An image. */
	enum oc_image_role role = oc_image_role(base);
	if (!regular) {
		if (needed_image(base))
			return oc_error(-EINVAL, "image %s is not a regular file in the archive",
					oci_archive_shown_name(rel, shown_name, sizeof(shown_name)));
		return 0;
	}
	src->n_images++;
	src->images_size += archive_entry_size(e);
	if (!strcmp(base, "inventory.img"))
		src->inventory_mtime = archive_entry_mtime(e);
	if (role == OC_IMAGE_PAGES) {
		src->pages_size += archive_entry_size(e);
		return extract_pages(u, e, base, dest);
	}
	/* shared memory pagemaps only to know whose pages-N.img is whose */
	bool shmem = role == OC_IMAGE_SHMEM_PM && u->opts->pages != OCI_PAGES_NONE;
	if (!needed_image(base) && !shmem)
		return 0;
	/* Images other than pages are read whole: refuse one too big before
	 * writing anything of it (a zstd bomb is small in the archive). */
	if ((uint64_t)archive_entry_size(e) > oci_limits.max_extract - MIN(u->extracted, oci_limits.max_extract))
		return extract_limit(u, rel);
	r = extract(u, e, dest);
	if (r < 0)
		return r;
	if (u->opts->pages == OCI_PAGES_NONE || u->opts->pages == OCI_PAGES_ALL)
		return 0;
	if (role == OC_IMAGE_MM || role == OC_IMAGE_PAGEMAP || shmem)
		return note_image(u, role, base, dest);
	return 0;
}

/* What the first bytes of @path say it is, if anything we know. */
static const char *sniff(const char *path)
{
	static const struct {
		size_t off;
		const char *magic;
		size_t len;
		const char *name;
	} magics[] = {
		{ 0, "\x28\xb5\x2f\xfd", 4, "zstd" },
		{ 0, "\x1f\x8b", 2, "gzip" },
		{ 0,
		  "\xfd"
		  "7zXZ\0",
		  6, "xz" },
		{ 0, "BZh", 3, "bzip2" },
		{ 257, "ustar", 5, "tar" },
	};
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char buf[262];
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = pread(fd, buf, sizeof(buf), 0);
	for (size_t i = 0; i < ARRAY_SIZE(magics); i++)
		if (n >= (ssize_t)(magics[i].off + magics[i].len) &&
		    !memcmp(buf + magics[i].off, magics[i].magic, magics[i].len))
			return magics[i].name;
	return NULL;
}

/*
 * The first header could not be read.  If the content is a compression or
 * tar we know, the archive is damaged; otherwise it is no archive at all.
 */
static int not_archive(struct unpack *u)
{
	const char *msg = archive_error_string(u->a) ?: "unreadable";
	/* (a stream cannot be read twice) */
	const char *kind = u->regular ? sniff(u->src->target) : NULL;

	if (kind)
		return oc_error(-EINVAL, "damaged or truncated archive (%s data): %s", kind, msg);
	return oc_error(-EINVAL,
			"not a checkpoint: neither a tar archive (plain, gzip or zstd) nor an images "
			"directory (%s)",
			msg);
}

static const char *filter_name(struct archive *a)
{
	switch (archive_filter_code(a, 0)) {
	case ARCHIVE_FILTER_NONE:
		return "none";
	case ARCHIVE_FILTER_GZIP:
		return "gzip";
	case ARCHIVE_FILTER_ZSTD:
		return "zstd";
	case ARCHIVE_FILTER_XZ:
		return "xz";
	case ARCHIVE_FILTER_BZIP2:
		return "bzip2";
	case ARCHIVE_FILTER_LZ4:
		return "lz4";
	default:
		return "other";
	}
}

static bool exists_at(int dirfd, const char *path)
{
	struct stat st;

	return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static int set_dirs(struct oci_source *src, const char *images, const char *meta)
{
	if (images && asprintf(&src->images_dir, "%s", images) < 0) {
		src->images_dir = NULL;
		return -ENOMEM;
	}
	if (meta && asprintf(&src->meta_dir, "%s", meta) < 0) {
		src->meta_dir = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* A container checkpoint needs both JSON files: name the one missing. */
static int require_meta(struct oci_source *src, int dirfd)
{
	bool config = exists_at(dirfd, OCI_CONFIG_DUMP), spec = exists_at(dirfd, OCI_SPEC_DUMP);

	if (!config && !spec)
		return oc_error(-EINVAL, "the checkpoint has no config.dump and no spec.dump (the container's "
					 "configuration)");
	if (!config || !spec)
		return oc_error(-EINVAL, "the checkpoint has no %s (the container's %s)",
				config ? OCI_SPEC_DUMP : OCI_CONFIG_DUMP,
				config ? "OCI runtime spec" : "engine configuration");
	src->container = true;
	return 0;
}

static int open_archive(struct oci_source *src, const struct oci_source_opts *opts, bool regular, bool is_stdin)
{
	struct unpack u = { .src = src, .opts = opts, .dirfd = -1, .regular = regular };
	struct archive_entry *e;
	int r;

	r = tmpdir_make(&src->tmpdir);
	if (r < 0)
		return r;
	u.dirfd = open(src->tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (u.dirfd < 0)
		return oc_error_errno(-errno, "cannot open %s", src->tmpdir);
	if (mkdirat(u.dirfd, "checkpoint", 0700) < 0 || mkdirat(u.dirfd, "imgroot", 0700) < 0) {
		r = oc_error_errno(-errno, "cannot create directories in %s", src->tmpdir);
		goto out;
	}

	u.a = archive_read_new();
	if (!u.a) {
		r = -ENOMEM;
		goto out;
	}
	/* Only tar, with the compressions container engines write. */
	archive_read_support_format_tar(u.a);
	archive_read_support_filter_gzip(u.a);
	archive_read_support_filter_zstd(u.a);
	archive_read_support_filter_xz(u.a);
	archive_read_support_filter_bzip2(u.a);
	if ((is_stdin ? archive_read_open_fd(u.a, STDIN_FILENO, 64 * 1024)
		      : archive_read_open_filename(u.a, src->target, 64 * 1024)) != ARCHIVE_OK) {
		r = not_archive(&u);
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(u.a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			if (src->n_members == 0)
				r = not_archive(&u);
			else
				r = archive_fail(&u, "after the last good member");
			goto out;
		}
		if (src->n_members == 0)
			src->compression = filter_name(u.a);
		src->n_members++;
		r = oci_time_check();
		if (r < 0)
			goto out;
		r = unpack_member(&u, e);
		if (r < 0)
			goto out;
	}
	if (!src->compression)
		src->compression = filter_name(u.a);

	char images[PATH_MAX];
	if (exists_at(u.dirfd, "checkpoint/inventory.img")) {
		r = require_meta(src, u.dirfd);
		if (r < 0)
			goto out;
		snprintf(images, sizeof(images), "%s/checkpoint", src->tmpdir);
		r = set_dirs(src, images, src->tmpdir);
	} else if (exists_at(u.dirfd, "imgroot/inventory.img") && !u.has_checkpoint_dir) {
		/* A tar of an images directory; container metadata if it has any. */
		snprintf(images, sizeof(images), "%s/imgroot", src->tmpdir);
		bool meta = exists_at(u.dirfd, OCI_CONFIG_DUMP) && exists_at(u.dirfd, OCI_SPEC_DUMP);
		src->container = meta;
		r = set_dirs(src, images, meta ? src->tmpdir : NULL);
	} else if (u.has_checkpoint_dir) {
		r = oc_error(-EINVAL, "the archive's checkpoint/ has no inventory.img: not a complete "
				      "checkpoint");
	} else if (src->n_members == 0) {
		r = oc_error(-EINVAL, "an empty archive");
	} else {
		r = oc_error(-EINVAL, "a tar archive, but not a checkpoint: it has no checkpoint/inventory.img "
				      "and no inventory.img");
	}
out:
	pms_free(&u);
	if (u.a)
		archive_read_free(u.a);
	if (u.dirfd >= 0)
		close(u.dirfd);
	return r;
}

/* ---- directories -------------------------------------------------------- */

static void size_images(struct oci_source *src)
{
	_cleanup_closedir_ DIR *d = opendir(src->images_dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		enum oc_image_role role = oc_image_role(de->d_name);
		struct stat st;
		if (role == OC_IMAGE_NONE || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		src->n_images++;
		src->images_size += st.st_size;
		if (role == OC_IMAGE_PAGES)
			src->pages_size += st.st_size;
		if (!strcmp(de->d_name, "inventory.img"))
			src->inventory_mtime = st.st_mtime;
	}
}

static int open_dir(struct oci_source *src)
{
	_cleanup_close_ int fd = open(src->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char images[PATH_MAX];
	struct stat st;
	int r;

	if (fd < 0)
		return oc_error_errno(-errno, "cannot open the directory");
	if (exists_at(fd, "inventory.img")) {
		src->kind = OCI_TARGET_IMAGES_DIR;
		r = set_dirs(src, src->target, NULL);
	} else if (exists_at(fd, "checkpoint/inventory.img")) {
		src->kind = OCI_TARGET_CHECKPOINT_DIR;
		r = require_meta(src, fd);
		if (r < 0)
			return r;
		snprintf(images, sizeof(images), "%s/checkpoint", src->target);
		r = set_dirs(src, images, src->target);
	} else {
		r = oc_images_check_finished(fd, src->target);
		if (r < 0)
			return r;
		return oc_error(-EINVAL, "a directory, but not a checkpoint: it has no inventory.img and no "
					 "checkpoint/inventory.img");
	}
	if (r < 0)
		return r;
	size_images(src);
	if (src->meta_dir && fstatat(fd, OCI_ROOTFS_DIFF, &st, 0) == 0)
		src->rootfs_diff_size = st.st_size;
	return 0;
}

/* ---- the source ----------------------------------------------------------- */

/* stats-dump: CRIU leaves it in its work directory (the top of a podman or
 * CRI-O archive) or with the images. */
static int find_stats(struct oci_source *src)
{
	const char *dirs[] = { src->images_dir, src->meta_dir, src->tmpdir };
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *p = NULL;
		if (!dirs[i])
			continue;
		if (asprintf(&p, "%s/%s", dirs[i], OCI_STATS_DUMP) < 0)
			return -ENOMEM;
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			src->stats_path = TAKE_PTR(p);
			return 0;
		}
	}
	return 0;
}

int oci_source_open(const char *target, const struct oci_source_opts *opts, struct oci_source **ret_src)
{
	_cleanup_(oci_source_closep) struct oci_source *src = NULL;
	struct stat st;
	int r;

	bool is_stdin = !strcmp(target, "-");

	if (is_stdin) {
		if (fstat(STDIN_FILENO, &st) < 0)
			return oc_error_errno(-errno, "cannot read standard input");
		if (S_ISDIR(st.st_mode))
			return oc_error(-EINVAL, "standard input is a directory");
	} else if (stat(target, &st) < 0) {
		return oc_error_errno(-errno, "cannot open");
	}
	src = calloc(1, sizeof(*src));
	if (!src)
		return -ENOMEM;
	src->rootfs_diff_size = -1;
	src->target = strdup(target);
	if (!src->target)
		return -ENOMEM;
	if (S_ISDIR(st.st_mode)) {
		r = open_dir(src);
	} else if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || is_stdin) {
		/* a file, or a stream (a pipe, "-"): read once, front to back */
		src->kind = OCI_TARGET_ARCHIVE;
		r = open_archive(src, opts, S_ISREG(st.st_mode), is_stdin);
	} else {
		r = oc_error(-EINVAL, "neither a file, a pipe nor a directory");
	}
	if (r < 0)
		return r;
	r = find_stats(src);
	if (r < 0)
		return r;
	*ret_src = TAKE_PTR(src);
	return 0;
}

void oci_source_close(struct oci_source *src)
{
	if (!src)
		return;
	if (src->tmpdir)
		tmpdir_release(src->tmpdir);
	for (size_t i = 0; i < src->n_rootfs_changes; i++)
		free(src->rootfs_changes[i].path);
	free(src->rootfs_changes);
	free(src->rootfs_list_error);
	free(src->tmpdir);
	free(src->images_dir);
	free(src->meta_dir);
	free(src->stats_path);
	free(src->target);
	free(src);
}

int oci_source_fix_error(const struct oci_source *src, int err)
{
	const char *msg = oc_error_message();
	_cleanup_free_ char *prefix = NULL, *out = NULL;
	size_t plen, len = 0;

	if (!src || !src->tmpdir || !msg || asprintf(&prefix, "%s/", src->tmpdir) < 0)
		return err;
	plen = strlen(prefix);
	if (!strstr(msg, prefix))
		return err;
	out = malloc(strlen(msg) + 1);
	if (!out)
		return err;
	for (const char *p = msg; *p;) {
		const char *hit = strstr(p, prefix);
		if (!hit) {
			strcpy(out + len, p);
			len += strlen(p);
			break;
		}
		memcpy(out + len, p, hit - p);
		len += hit - p;
		p = hit + plen;
		/* a tar of an images directory: its images are at the top */
		if (!strncmp(p, "imgroot/", 8))
			p += 8;
	}
	out[len] = '\0';
	return oc_error(err, "%s", out);
}

int oci_source_meta_path(const struct oci_source *src, const char *name, char *buf, size_t size)
{
	if (!src->meta_dir)
		return -ENOENT;
	if ((size_t)snprintf(buf, size, "%s/%s", src->meta_dir, name) >= size)
		return -ENAMETOOLONG;
	return 0;
}
