// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Image files: framing, magics, buffered entry I/O and atomic creation.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/image.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"
#include "core/safefile.h"
#include "core/testpoint.h"

extern const ProtobufCMessageDescriptor pagemap_head__descriptor;

#define IMG_BUF_SIZE (256u << 10)

struct oc_imgdir {
	int fd;
	char *path;
	bool recording;
	bool inventory_gone; /* recording: an older inventory.img is removed */
	char **committed;
	size_t n_committed;
};

struct oc_img {
	const struct oc_img_desc *desc;
	struct oc_imgdir *dir; /* NULL for standalone files */
	int dirfd;	       /* where the final name goes (writing) */
	int fd;
	char *name;	  /* file name as shown in messages */
	char *final_name; /* name relative to dirfd (writing) */
	bool writing;
	bool tmp_named; /* no O_TMPFILE: data sits in ".NAME.part" */
	bool owns_dirfd;
	bool to_stdout;	    /* "-": data sits in a memfd until commit */
	uint64_t off;	    /* logical offset: bytes consumed or produced */
	uint64_t size;	    /* file size (reading) */
	uint64_t n_entries; /* entries read or written so far */
	uint8_t *buf;
	size_t buf_cap; /* IMG_BUF_SIZE, or less for reading a small file */
	size_t buf_len; /* bytes valid (reading) or pending (writing) */
	size_t buf_pos; /* next byte to consume (reading) */
};

/* ---- image directories --------------------------------------------- */

int oc_imgdir_open(const char *path, bool create, struct oc_imgdir **ret_dir)
{
	_cleanup_free_ struct oc_imgdir *dir = NULL;

	if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
		return oc_error_errno(-errno, "cannot create image directory %s", path);

	dir = calloc(1, sizeof(*dir));
	if (!dir)
		return -ENOMEM;
	dir->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir->fd < 0)
		return oc_error_errno(-errno, "cannot open image directory %s", path);
	oc_warn_if_shared_dir(dir->fd, path);
	dir->path = strdup(path);
	if (!dir->path) {
		close(dir->fd);
		return -ENOMEM;
	}
	dir->recording = create;
	*ret_dir = TAKE_PTR(dir);
	return 0;
}

int oc_imgdir_fd(const struct oc_imgdir *dir)
{
	return dir->fd;
}

int oc_imgdir_move_fd(struct oc_imgdir *dir, int min_fd)
{
	int fd = fcntl(dir->fd, F_DUPFD_CLOEXEC, min_fd);

	if (fd < 0)
		return oc_error_errno(-errno, "cannot move the image directory fd");
	close(dir->fd);
	dir->fd = fd;
	return 0;
}

const char *oc_imgdir_path(const struct oc_imgdir *dir)
{
	return dir->path;
}

static int imgdir_record(struct oc_imgdir *dir, const char *name)
{
	if (!dir || !dir->recording)
		return 0;
	for (size_t i = 0; i < dir->n_committed; i++)
		if (strcmp(dir->committed[i], name) == 0)
			return 0;

	char **n = realloc(dir->committed, (dir->n_committed + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	dir->committed = n;
	dir->committed[dir->n_committed] = strdup(name);
	if (!dir->committed[dir->n_committed])
		return -ENOMEM;
	dir->n_committed++;
	return 0;
}

void oc_imgdir_rollback(struct oc_imgdir *dir)
{
	for (size_t i = 0; i < dir->n_committed; i++) {
		if (unlinkat(dir->fd, dir->committed[i], 0) < 0 && errno != ENOENT)
			pr_warn("cannot remove %s/%s: %m", dir->path, dir->committed[i]);
		free(dir->committed[i]);
	}
	dir->n_committed = 0;
}

#define INVENTORY_NAME "inventory.img"

/*
 * Before a dump puts its first image in place: an inventory left by an
 * earlier dump would make a mix of old and new images look complete.
 */
static int imgdir_drop_inventory(struct oc_imgdir *dir)
{
	if (!dir || !dir->recording || dir->inventory_gone)
		return 0;
	if (unlinkat(dir->fd, INVENTORY_NAME, 0) < 0 && errno != ENOENT)
		return oc_error_errno(-errno, "%s: cannot remove the earlier dump's %s", dir->path, INVENTORY_NAME);
	dir->inventory_gone = true;
	return 0;
}

static bool imgdir_committed(const struct oc_imgdir *dir, const char *name)
{
	for (size_t i = 0; i < dir->n_committed; i++)
		if (!strcmp(dir->committed[i], name))
			return true;
	return false;
}

/* An image's name, or its temporary ".NAME.part". */
static bool image_file_name(const char *name)
{
	char base[NAME_MAX + 1];
	size_t len = strlen(name);

	if (name[0] == '.' && len > 6 && len - 6 <= NAME_MAX && !strcmp(name + len - 5, ".part")) {
		memcpy(base, name + 1, len - 6);
		base[len - 6] = '\0';
		return oc_img_desc_by_filename(base) != NULL;
	}
	return oc_img_desc_by_filename(name) != NULL;
}

int oc_imgdir_prune(struct oc_imgdir *dir)
{
	int fd = openat(dir->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot read image directory %s", dir->path);
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return oc_error_errno(-errno, "cannot read image directory %s", dir->path);
	}
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		if (!image_file_name(de->d_name) || imgdir_committed(dir, de->d_name))
			continue;
		pr_debug("%s/%s: left by an earlier dump; removed", dir->path, de->d_name);
		if (unlinkat(dir->fd, de->d_name, 0) < 0 && errno != ENOENT)
			return oc_error_errno(-errno, "cannot remove %s/%s, left by an earlier dump", dir->path,
					      de->d_name);
	}
	return 0;
}

int oc_images_check_finished(int dirfd, const char *path)
{
	struct stat st;

	if (fstatat(dirfd, INVENTORY_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return 0;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	for (struct dirent *de; (de = readdir(d));)
		if (image_file_name(de->d_name))
			return oc_error(-ENOENT,
					"%s holds an interrupted dump: images but no %s (a dump writes it last); "
					"dump again into it, or remove it",
					path, INVENTORY_NAME);
	return 0;
}

int oc_img_read_inventory(struct oc_imgdir *dir, ProtobufCMessage **ret_msg)
{
	int r = oc_img_read_one(dir, OC_IMG_INVENTORY, 0, ret_msg);

	if (r != -ENOENT)
		return r;
	r = oc_images_check_finished(dir->fd, dir->path);
	return r < 0 ? r : oc_error(-ENOENT, "%s: no %s: not a CRIU image directory", dir->path, INVENTORY_NAME);
}

void oc_imgdir_close(struct oc_imgdir *dir)
{
	if (!dir)
		return;
	for (size_t i = 0; i < dir->n_committed; i++)
		free(dir->committed[i]);
	free(dir->committed);
	free(dir->path);
	if (dir->fd >= 0)
		close(dir->fd);
	free(dir);
}

/* ---- naming ---------------------------------------------------------- */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int img_file_name(const struct oc_img_desc *desc, uint64_t id, char *buf, size_t len)
{
	int n = snprintf(buf, len, desc->file_fmt, (unsigned long)id);
	if (n < 0 || (size_t)n >= len)
		return oc_error(-ENAMETOOLONG, "image name for %s too long", desc->name);
	return 0;
}
#pragma GCC diagnostic pop

/* ---- low-level reading ------------------------------------------------ */

static void img_free(struct oc_img *img)
{
	if (!img)
		return;
	/* An uncommitted image is dropped: its data never got its name. */
	if (img->writing && img->tmp_named && img->fd >= 0) {
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof(tmp), ".%s.part", img->final_name);
		unlinkat(img->dirfd, tmp, 0);
	}
	if (img->fd >= 0)
		close(img->fd);
	if (img->owns_dirfd && img->dirfd >= 0)
		close(img->dirfd);
	free(img->buf);
	free(img->name);
	free(img->final_name);
	free(img);
}

DEFINE_CLEANUP_FUNC(struct oc_img *, img_free)

/* Read up to @len bytes; returns the count read (short only at EOF). */
static ssize_t img_read_some(struct oc_img *img, void *dst, size_t len)
{
	uint8_t *out = dst;
	size_t done = 0;

	while (done < len) {
		if (img->buf_pos == img->buf_len) {
			/* Large reads bypass the buffer. */
			if (len - done >= img->buf_cap) {
				ssize_t n = read(img->fd, out + done, len - done);
				if (n < 0) {
					if (errno == EINTR)
						continue;
					return oc_error_errno(-errno, "%s: read failed at offset %" PRIu64, img->name,
							      img->off);
				}
				if (n == 0)
					break;
				done += n;
				img->off += n;
				continue;
			}
			ssize_t n = read(img->fd, img->buf, img->buf_cap);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return oc_error_errno(-errno, "%s: read failed at offset %" PRIu64, img->name,
						      img->off);
			}
			if (n == 0)
				break;
			img->buf_len = n;
			img->buf_pos = 0;
		}
		size_t chunk = MIN(len - done, img->buf_len - img->buf_pos);
		memcpy(out + done, img->buf + img->buf_pos, chunk);
		img->buf_pos += chunk;
		img->off += chunk;
		done += chunk;
	}
	return done;
}

int oc_img_read_raw(struct oc_img *img, void *buf, size_t len)
{
	uint64_t at = img->off;
	ssize_t n = img_read_some(img, buf, len);

	if (n < 0)
		return n;
	if ((size_t)n != len)
		return oc_error(-EIO, "%s: truncated: payload of %zu bytes at offset %" PRIu64 " ends after %zd bytes",
				img->name, len, at, n);
	return 0;
}

int oc_img_read_alloc(struct oc_img *img, uint64_t len, uint8_t **ret_buf)
{
	_cleanup_free_ uint8_t *buf = NULL;
	int r;

	/* check before allocating: the length comes from the image */
	if (len > img->size - MIN(img->off, img->size))
		return oc_error(-EIO,
				"%s: truncated: payload of %" PRIu64 " bytes at offset %" PRIu64
				" runs past the end of the file (%" PRIu64 " bytes)",
				img->name, len, img->off, img->size);
	buf = malloc(len ? len : 1);
	if (!buf)
		return oc_error(-ENOMEM, "%s: no memory for a payload of %" PRIu64 " bytes", img->name, len);
	r = oc_img_read_raw(img, buf, len);
	if (r < 0)
		return r;
	*ret_buf = TAKE_PTR(buf);
	return 0;
}

int oc_img_skip_raw(struct oc_img *img, uint64_t len)
{
	uint64_t in_buf = img->buf_len - img->buf_pos;

	if (len > img->size - img->off)
		return oc_error(-EIO,
				"%s: truncated: payload of %" PRIu64 " bytes at offset %" PRIu64
				" runs past the end of the file (%" PRIu64 " bytes)",
				img->name, len, img->off, img->size);
	if (len <= in_buf) {
		img->buf_pos += len;
		img->off += len;
		return 0;
	}
	img->off += len;
	img->buf_pos = img->buf_len = 0;
	if (lseek(img->fd, img->off, SEEK_SET) < 0)
		return oc_error_errno(-errno, "%s: cannot seek", img->name);
	return 0;
}

static int img_read_magics(struct oc_img *img, uint32_t *ret_head, uint32_t *ret_magic)
{
	uint32_t m[2];
	ssize_t n = img_read_some(img, m, sizeof(m[0]));

	if (n < 0)
		return n;
	if (n != sizeof(m[0]))
		return oc_error(-EIO, "%s: file is empty or truncated: no magic", img->name);
	if (m[0] != OC_IMG_MAGIC_COMMON && m[0] != OC_IMG_MAGIC_SERVICE) {
		/* inventory, or a version-1 image without head magic */
		*ret_head = 0;
		*ret_magic = m[0];
		return 0;
	}
	n = img_read_some(img, &m[1], sizeof(m[1]));
	if (n < 0)
		return n;
	if (n != sizeof(m[1]))
		return oc_error(-EIO, "%s: truncated after the head magic", img->name);
	*ret_head = m[0];
	*ret_magic = m[1];
	return 0;
}

/* Check the magics against @desc, the kind the caller or the name expects. */
static int img_check_magics(struct oc_img *img, const struct oc_img_desc *desc, uint32_t head, uint32_t magic)
{
	if (magic != desc->magic) {
		const struct oc_img_desc *found = oc_img_desc_by_magic(magic);
		if (found)
			return oc_error(-EINVAL,
					"%s: holds a %s image (magic 0x%08x) but a %s image "
					"(magic 0x%08x) was expected",
					img->name, found->name, magic, desc->name, desc->magic);
		return oc_error(-EINVAL, "%s: bad magic 0x%08x at offset %u (expected 0x%08x, %s)", img->name, magic,
				head ? 4 : 0, desc->magic, desc->name);
	}
	if (head && head != desc->head_magic)
		return oc_error(-EINVAL, "%s: wrong head magic 0x%08x (expected 0x%08x)", img->name, head,
				desc->head_magic ? desc->head_magic : OC_IMG_MAGIC_COMMON);
	return 0;
}

/* @buf_cap: IMG_BUF_SIZE, or the size of a small file to read (most
 * images are a few hundred bytes, and inspect opens hundreds). */
static int img_alloc(const char *name, int fd, size_t buf_cap, struct oc_img **ret)
{
	struct oc_img *img = calloc(1, sizeof(*img));

	if (!img)
		return -ENOMEM;
	img->fd = fd;
	img->dirfd = -1;
	img->name = strdup(name);
	img->buf_cap = buf_cap < 4096 ? 4096 : MIN(buf_cap, IMG_BUF_SIZE);
	img->buf = malloc(img->buf_cap);
	if (!img->name || !img->buf) {
		img->fd = -1;
		img_free(img);
		return -ENOMEM;
	}
	*ret = img;
	return 0;
}

/*
 * @expect: the kind the caller wants, or NULL to take it from the magic;
 * @hint: with @expect NULL, the kind the file name suggests, named in the
 * message when the magic is unknown.
 */
static int img_open_fd(int fd, const char *name, const struct oc_img_desc *expect, const struct oc_img_desc *hint,
		       struct oc_img **ret_img)
{
	_cleanup_(img_freep) struct oc_img *img = NULL;
	struct stat st;
	uint32_t head = 0, magic = 0;
	int r;

	if (fstat(fd, &st) < 0) {
		r = oc_error_errno(-errno, "%s: cannot stat", name);
		close(fd);
		return r;
	}
	r = img_alloc(name, fd, st.st_size, &img);
	if (r < 0) {
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode))
		return oc_error(-EINVAL, "%s: not a regular file", name);
	img->size = st.st_size;

	if (expect && !expect->magic) {
		img->desc = expect; /* raw: no magic */
		*ret_img = TAKE_PTR(img);
		return 0;
	}

	r = img_read_magics(img, &head, &magic);
	if (r < 0)
		return r;

	if (!expect) {
		expect = oc_img_desc_by_magic(magic);
		if (!expect && hint && hint->magic)
			expect = hint; /* reported as a bad magic for that kind */
		if (!expect)
			return oc_error(-EINVAL,
					"%s: unknown image magic 0x%08x at offset %u (not a CRIU "
					"image, or a raw one such as pages-N.img)",
					name, magic, head ? 4 : 0);
	}
	r = img_check_magics(img, expect, head, magic);
	if (r < 0)
		return r;
	img->desc = expect;
	*ret_img = TAKE_PTR(img);
	return 0;
}

int oc_img_open(struct oc_imgdir *dir, enum oc_img_kind kind, uint64_t id, struct oc_img **ret_img)
{
	const struct oc_img_desc *desc = &oc_img_descs[kind];
	char name[PATH_MAX], shown[PATH_MAX + 64];
	int fd, r;

	r = img_file_name(desc, id, name, sizeof(name));
	if (r < 0)
		return r;
	snprintf(shown, sizeof(shown), "%s/%s", dir->path, name);
	fd = oc_open_regular(dir->fd, name, shown, false);
	if (fd == -ENOENT)
		return oc_error(-ENOENT, "%s: missing image", shown);
	if (fd < 0)
		return fd;
	return img_open_fd(fd, shown, desc, NULL, ret_img);
}

/* Standard input may be a pipe: keep a copy so it can be sized and seeked. */
static int stdin_copy(void)
{
	_cleanup_close_ int fd = memfd_create("ocicr-stdin", MFD_CLOEXEC);
	char buf[64 << 10];

	if (fd < 0)
		return oc_error_errno(-errno, "stdin: cannot create a memory file");
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return oc_error_errno(-errno, "stdin: read failed");
		if (n == 0)
			break;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(fd, buf + done, n - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return oc_error_errno(-errno, "stdin: cannot keep a copy");
			done += w;
		}
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		return oc_error_errno(-errno, "stdin: cannot rewind the copy");
	return TAKE_FD(fd);
}

int oc_img_open_file(const char *path, struct oc_img **ret_img)
{
	const struct oc_img_desc *by_name = NULL;
	_cleanup_(img_freep) struct oc_img *img = NULL;
	int fd, r;

	if (strcmp(path, "-") == 0) {
		fd = stdin_copy();
		if (fd < 0)
			return fd;
		return img_open_fd(fd, "stdin", NULL, NULL, ret_img);
	}

	by_name = oc_img_desc_by_filename(path);
	fd = oc_open_regular(AT_FDCWD, path, path, false);
	if (fd == -ENOENT)
		return oc_error(-ENOENT, "%s: no such image file", path);
	if (fd < 0)
		return fd;
	/* Take the kind from the magic; the name only has to agree. */
	r = img_open_fd(fd, path, by_name && !by_name->magic ? by_name : NULL, by_name, &img);
	if (r < 0)
		return r;
	if (by_name && by_name->magic != img->desc->magic)
		return oc_error(-EINVAL,
				"%s: holds a %s image (magic 0x%08x), but its name is that of a %s "
				"image",
				path, img->desc->name, img->desc->magic, by_name->name);
	if (by_name)
		img->desc = by_name; /* e.g. SHMEM_PAGEMAP rather than PAGEMAP */
	*ret_img = TAKE_PTR(img);
	return 0;
}

const struct oc_img_desc *oc_img_get_desc(const struct oc_img *img)
{
	return img->desc;
}

const char *oc_img_name(const struct oc_img *img)
{
	return img->name;
}

uint64_t oc_img_offset(const struct oc_img *img)
{
	return img->off;
}

uint64_t oc_img_size(const struct oc_img *img)
{
	return img->size;
}

int oc_img_fd(const struct oc_img *img)
{
	return img->fd;
}

int oc_img_read_entry(struct oc_img *img, const ProtobufCMessageDescriptor *pb, ProtobufCMessage **ret_msg)
{
	_cleanup_free_ uint8_t *buf = NULL;
	uint64_t at = img->off;
	uint32_t size;
	unsigned unknown = 0;
	ssize_t n;
	int r;

	if (!pb) {
		pb = img->desc->pb;
		if (img->desc->payload == OC_PAYLOAD_PAGEMAP && img->n_entries == 0)
			pb = &pagemap_head__descriptor;
	}
	if (!pb)
		return oc_error(-EINVAL, "%s: raw image has no entries", img->name);

	n = img_read_some(img, &size, sizeof(size));
	if (n < 0)
		return n;
	if (n == 0)
		return 0;
	if (n != sizeof(size))
		return oc_error(-EIO, "%s: truncated entry header at offset %" PRIu64, img->name, at);
	if (size > OC_IMG_ENTRY_MAX)
		return oc_error(-EINVAL, "%s: entry %" PRIu64 " at offset %" PRIu64 " has absurd size %u (limit %u)",
				img->name, img->n_entries, at, size, OC_IMG_ENTRY_MAX);
	if (size > img->size - img->off)
		return oc_error(-EIO,
				"%s: truncated: entry %" PRIu64 " at offset %" PRIu64
				" claims %u bytes but only %" PRIu64 " remain",
				img->name, img->n_entries, at, size, img->size - img->off);

	buf = malloc(size ? size : 1);
	if (!buf)
		return -ENOMEM;
	r = oc_img_read_raw(img, buf, size);
	if (r < 0)
		return r;

	r = oc_pb_check(pb, buf, size, &unknown);
	if (r < 0)
		return oc_error_wrap(r, "%s: entry %" PRIu64 " at offset %" PRIu64 " (%s)", img->name, img->n_entries,
				     at, pb->name);
	if (unknown)
		pr_info("%s: entry %" PRIu64 " at offset %" PRIu64 ": %u unknown field(s) ignored", img->name,
			img->n_entries, at, unknown);

	ProtobufCMessage *msg = protobuf_c_message_unpack(pb, NULL, size, buf);
	if (!msg)
		return oc_error(-EINVAL, "%s: entry %" PRIu64 " at offset %" PRIu64 ": cannot unpack %s", img->name,
				img->n_entries, at, pb->name);
	img->n_entries++;
	*ret_msg = msg;
	return 1;
}

int oc_img_read_one(struct oc_imgdir *dir, enum oc_img_kind kind, uint64_t id, ProtobufCMessage **ret_msg)
{
	_cleanup_(img_freep) struct oc_img *img = NULL;
	ProtobufCMessage *msg;
	int r;

	r = oc_img_open(dir, kind, id, &img);
	if (r < 0)
		return r;
	r = oc_img_read_entry(img, NULL, &msg);
	if (r < 0)
		return r;
	if (r == 0)
		return oc_error(-EIO, "%s: empty image, one %s entry expected", img->name, img->desc->pb->name);
	*ret_msg = msg;
	return 0;
}

void oc_img_close(struct oc_img *img)
{
	img_free(img);
}

/* ---- writing ---------------------------------------------------------- */

static int img_flush(struct oc_img *img)
{
	size_t done = 0;

	while (done < img->buf_len) {
		ssize_t n = write(img->fd, img->buf + done, img->buf_len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return oc_error_errno(-errno, "%s: write failed", img->name);
		}
		done += n;
	}
	img->buf_len = 0;
	return 0;
}

int oc_img_write_raw(struct oc_img *img, const void *data, size_t len)
{
	const uint8_t *p = data;
	int r;

	if (len >= img->buf_cap) {
		r = img_flush(img);
		if (r < 0)
			return r;
		while (len) {
			ssize_t n = write(img->fd, p, len);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return oc_error_errno(-errno, "%s: write failed", img->name);
			}
			p += n;
			len -= n;
			img->off += n;
		}
		return 0;
	}
	if (img->buf_len + len > img->buf_cap) {
		r = img_flush(img);
		if (r < 0)
			return r;
	}
	memcpy(img->buf + img->buf_len, p, len);
	img->buf_len += len;
	img->off += len;
	return 0;
}

int oc_img_reserve(struct oc_img *img, size_t len, uint64_t *ret_off)
{
	int r = img_flush(img);

	if (r < 0)
		return r;
	off_t at = lseek(img->fd, 0, SEEK_CUR);
	if (at < 0 || lseek(img->fd, len, SEEK_CUR) < 0)
		return oc_error_errno(-errno, "%s: cannot seek", img->name);
	img->off += len;
	*ret_off = at;
	return 0;
}

int oc_img_write_entry(struct oc_img *img, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint32_t size = len;
	int r;

	if (len > OC_IMG_ENTRY_MAX)
		return oc_error(-E2BIG, "%s: entry of %zu bytes is too large", img->name, len);
	r = oc_img_write_raw(img, &size, sizeof(size));
	if (r < 0)
		return r;
	if (len <= img->buf_cap - img->buf_len) {
		protobuf_c_message_pack(msg, img->buf + img->buf_len);
		img->buf_len += len;
		img->off += len;
	} else {
		_cleanup_free_ uint8_t *tmp = malloc(len);
		if (!tmp)
			return -ENOMEM;
		protobuf_c_message_pack(msg, tmp);
		r = oc_img_write_raw(img, tmp, len);
		if (r < 0)
			return r;
	}
	img->n_entries++;
	return 0;
}

static int img_write_magics(struct oc_img *img)
{
	const struct oc_img_desc *desc = img->desc;
	int r;

	if (!desc->magic)
		return 0;
	if (desc->head_magic) {
		r = oc_img_write_raw(img, &desc->head_magic, sizeof(uint32_t));
		if (r < 0)
			return r;
	}
	return oc_img_write_raw(img, &desc->magic, sizeof(uint32_t));
}

static int img_create_at(int dirfd, const char *final_name, const char *shown, const struct oc_img_desc *desc,
			 struct oc_img **ret_img)
{
	_cleanup_(img_freep) struct oc_img *img = NULL;
	bool named_tmp = false;
	int fd, r;

	fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof(tmp), ".%s.part", final_name);
		fd = oc_create_private(dirfd, tmp, shown, true);
		if (fd < 0)
			return fd;
		named_tmp = true;
	}
	if (fd < 0)
		return oc_error_errno(-errno, "%s: cannot create", shown);
	/* 0600 whatever the umask */
	if (fchmod(fd, 0600) < 0) {
		r = oc_error_errno(-errno, "%s: cannot set its mode", shown);
		close(fd);
		return r;
	}

	r = img_alloc(shown, fd, IMG_BUF_SIZE, &img);
	if (r < 0) {
		close(fd);
		return r;
	}
	img->final_name = strdup(final_name);
	if (!img->final_name)
		return -ENOMEM;
	img->desc = desc;
	img->writing = true;
	img->dirfd = dirfd;
	img->tmp_named = named_tmp;

	r = img_write_magics(img);
	if (r < 0)
		return r;
	*ret_img = TAKE_PTR(img);
	return 0;
}

/* "-": build the image in memory, copy it to standard output on commit. */
static int img_create_stdout(const struct oc_img_desc *desc, struct oc_img **ret_img)
{
	_cleanup_(img_freep) struct oc_img *img = NULL;
	int fd, r;

	fd = memfd_create("ocicr-image", MFD_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "stdout: cannot create a memory file");
	r = img_alloc("stdout", fd, IMG_BUF_SIZE, &img);
	if (r < 0) {
		close(fd);
		return r;
	}
	img->desc = desc;
	img->writing = true;
	img->to_stdout = true;
	r = img_write_magics(img);
	if (r < 0)
		return r;
	*ret_img = TAKE_PTR(img);
	return 0;
}

static int img_copy_to_stdout(struct oc_img *img)
{
	char buf[64 << 10];

	if (lseek(img->fd, 0, SEEK_SET) < 0)
		return oc_error_errno(-errno, "%s: cannot rewind", img->name);
	for (;;) {
		ssize_t n = read(img->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return oc_error_errno(-errno, "%s: read failed", img->name);
		if (n == 0)
			return 0;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(STDOUT_FILENO, buf + done, n - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return oc_error_errno(-errno, "%s: write failed", img->name);
			done += w;
		}
	}
}

int oc_img_create(struct oc_imgdir *dir, enum oc_img_kind kind, uint64_t id, struct oc_img **ret_img)
{
	const struct oc_img_desc *desc = &oc_img_descs[kind];
	char name[PATH_MAX], shown[PATH_MAX + 64];
	struct oc_img *img;
	int r;

	r = img_file_name(desc, id, name, sizeof(name));
	if (r < 0)
		return r;
	snprintf(shown, sizeof(shown), "%s/%s", dir->path, name);
	r = img_create_at(dir->fd, name, shown, desc, &img);
	if (r < 0)
		return r;
	img->dir = dir;
	*ret_img = img;
	return 0;
}

int oc_img_create_file(const char *path, const struct oc_img_desc *desc, struct oc_img **ret_img)
{
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_close_ int dirfd = -1;
	struct oc_img *img;
	int r;

	if (!copy)
		return -ENOMEM;
	if (strcmp(path, "-") == 0)
		return img_create_stdout(desc, ret_img);
	char *slash = strrchr(copy, '/');
	const char *base = path;
	if (slash) {
		*slash = '\0';
		base = slash + 1;
		dirfd = open(copy[0] ? copy : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		dirfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (dirfd < 0)
		return oc_error_errno(-errno, "%s: cannot open its directory", path);
	r = img_create_at(dirfd, base, path, desc, &img);
	if (r < 0)
		return r;
	img->dirfd = TAKE_FD(dirfd);
	img->owns_dirfd = true;
	*ret_img = img;
	return 0;
}

int oc_img_commit(struct oc_img *img)
{
	char tmp[PATH_MAX], proc[64];
	bool named = false;
	int r;

	r = img_flush(img);
	if (r < 0)
		return r;
	if (img->to_stdout) {
		r = img_copy_to_stdout(img);
		if (r < 0)
			return r;
		close(img->fd);
		img->fd = -1;
		return 0;
	}

	if (img->desc->kind != OC_IMG_INVENTORY) {
		r = imgdir_drop_inventory(img->dir);
		if (r < 0)
			return r;
	}
	snprintf(tmp, sizeof(tmp), ".%s.part", img->final_name);
	if (!img->tmp_named) {
		/* O_TMPFILE: a complete file appears under its name at once.
		 * Where that name is taken, link it under a temporary name
		 * first and rename that over the old image, atomically too. */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", img->fd);
		named = linkat(AT_FDCWD, proc, img->dirfd, img->final_name, AT_SYMLINK_FOLLOW) == 0;
		if (!named && errno != EEXIST)
			return oc_error_errno(-errno, "%s: cannot link", img->name);
		if (!named) {
			unlinkat(img->dirfd, tmp, 0);
			if (linkat(AT_FDCWD, proc, img->dirfd, tmp, AT_SYMLINK_FOLLOW) < 0)
				return oc_error_errno(-errno, "%s: cannot link", img->name);
		}
	}
	if (!named && renameat(img->dirfd, tmp, img->dirfd, img->final_name) < 0) {
		r = oc_error_errno(-errno, "%s: cannot rename into place", img->name);
		unlinkat(img->dirfd, tmp, 0);
		return r;
	}
	img->tmp_named = false;
	r = imgdir_record(img->dir, img->final_name);
	if (r < 0)
		return r;
	oc_testpoint("image");
	close(img->fd);
	img->fd = -1;
	return 0;
}

int oc_img_write_one(struct oc_imgdir *dir, enum oc_img_kind kind, uint64_t id, const ProtobufCMessage *msg)
{
	_cleanup_(img_freep) struct oc_img *img = NULL;
	int r;

	r = oc_img_create(dir, kind, id, &img);
	if (r < 0)
		return r;
	r = oc_img_write_entry(img, msg);
	if (r < 0)
		return r;
	return oc_img_commit(img);
}
