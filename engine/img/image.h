/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CRIU-compatible image files.
 *
 * An image file is: [head magic] magic { u32 size, protobuf message,
 * [raw payload] } until EOF; pages-N.img is raw.  Everything in ocicr reads
 * and writes image files only through this module.
 */
#ifndef OCICR_IMG_IMAGE_H
#define OCICR_IMG_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <protobuf-c/protobuf-c.h>

#define OC_IMG_MAGIC_COMMON  0x54564319u
#define OC_IMG_MAGIC_SERVICE 0x55105940u
#define OC_IMG_VERSION	     2

/* Refuse entries larger than this: no CRIU message comes near it. */
#define OC_IMG_ENTRY_MAX (64u << 20)

enum oc_img_kind {
	OC_IMG_INVENTORY,
	OC_IMG_PSTREE,
	OC_IMG_CORE,
	OC_IMG_IDS,
	OC_IMG_MM,
	OC_IMG_PAGEMAP,
	OC_IMG_SHMEM_PAGEMAP,
	OC_IMG_PAGES,
	OC_IMG_FS,
	OC_IMG_FDINFO,
	OC_IMG_FILES,
	OC_IMG_PIPES_DATA,
	OC_IMG_FIFO_DATA,
	OC_IMG_MEMFD_INODE,
	OC_IMG_SECCOMP,
	OC_IMG_TIMENS,
	OC_IMG_TTY_INFO,
	OC_IMG_TTY_DATA,
	OC_IMG_CGROUP,
	OC_IMG_REMAP_FPATH,
	OC_IMG_GHOST_FILE,
	OC_IMG_FILE_LOCKS,
	OC_IMG_CPUINFO,
	OC_IMG_STATS_DUMP,
	OC_IMG_STATS_RESTORE,
	OC_IMG_IRMAP_CACHE,
	OC_IMG_UTSNS,
	OC_IMG_IPC_VAR,
	OC_IMG_IPCNS_SHM,
	OC_IMG_IPCNS_MSG,
	OC_IMG_IPCNS_SEM,
	OC_IMG_MNTS,
	OC_IMG_NETNS,
	OC_IMG_NETDEV,
	OC_IMG_USERNS,
	OC_IMG_PIDNS,
	OC_IMG_SK_QUEUES,
	OC_IMG_TCP_STREAM,
	OC_IMG_BPFMAP_DATA,
	OC_IMG_APPARMOR,
	OC_IMG_BINFMT_MISC,
	OC_IMG_AUTOFS,
	/* legacy per-type and per-task images: read, never written */
	OC_IMG_REG_FILES,
	OC_IMG_EXT_FILES,
	OC_IMG_NS_FILES,
	OC_IMG_PIPES,
	OC_IMG_FIFO,
	OC_IMG_UNIXSK,
	OC_IMG_INETSK,
	OC_IMG_PACKETSK,
	OC_IMG_NETLINK_SK,
	OC_IMG_EVENTFD_FILE,
	OC_IMG_EVENTPOLL_FILE,
	OC_IMG_EVENTPOLL_TFD,
	OC_IMG_SIGNALFD,
	OC_IMG_INOTIFY_FILE,
	OC_IMG_INOTIFY_WD,
	OC_IMG_FANOTIFY_FILE,
	OC_IMG_FANOTIFY_MARK,
	OC_IMG_TIMERFD,
	OC_IMG_TUNFILE,
	OC_IMG_TTY_FILES,
	OC_IMG_BPFMAP_FILE,
	OC_IMG_PIDFD,
	OC_IMG_VMAS,
	OC_IMG_CREDS,
	OC_IMG_SIGACT,
	OC_IMG_ITIMERS,
	OC_IMG_POSIX_TIMERS,
	OC_IMG_RLIMIT,
	OC_IMG_SIGNAL,
	OC_IMG_PSIGNAL,
	/* raw images: no magic, no framing */
	OC_IMG_IFADDR,
	OC_IMG_ROUTE,
	OC_IMG_ROUTE6,
	OC_IMG_RULE,
	OC_IMG_NEIGH,	 /* ocicr's own: permanent neighbours */
	OC_IMG_LINKINFO, /* ocicr's own: links' settings beside netdev */
	OC_IMG_IPTABLES,
	OC_IMG_IP6TABLES,
	OC_IMG_NFTABLES,
	OC_IMG_NETNF_CT,
	OC_IMG_NETNF_EXP,
	OC_IMG_TMPFS,
	OC_IMG_TMPFS_DEV,
	_OC_IMG_KIND_MAX,
	_OC_IMG_KIND_INVALID = -1,
};

/* What follows each protobuf entry of an image, if anything. */
enum oc_img_payload {
	OC_PAYLOAD_NONE,
	OC_PAYLOAD_PIPE_DATA,  /* pipe_data_entry.bytes raw bytes */
	OC_PAYLOAD_SK_QUEUE,   /* sk_packet_entry.length */
	OC_PAYLOAD_TCP_STREAM, /* inq_len + outq_len */
	OC_PAYLOAD_BPFMAP,     /* keys_bytes + values_bytes */
	OC_PAYLOAD_IPC_SHM,    /* size, padded to 4 */
	OC_PAYLOAD_IPC_SEM,    /* nsems u16s, padded to 8 */
	OC_PAYLOAD_IPC_MSG,    /* qnum x (ipc_msg, msize bytes padded to 8) */
	OC_PAYLOAD_GHOST,      /* file contents, or chunk entries + data */
	OC_PAYLOAD_PAGEMAP,    /* first entry pagemap_head, then pagemap_entry */
	_OC_PAYLOAD_MAX,
};

struct oc_img_desc {
	enum oc_img_kind kind;
	const char *name;     /* crit's magic name, e.g. "CORE" */
	const char *file_fmt; /* printf pattern of the file name */
	uint32_t magic;	      /* 0: raw image */
	uint32_t head_magic;  /* OC_IMG_MAGIC_COMMON/SERVICE, 0 for inventory */
	const ProtobufCMessageDescriptor *pb;
	enum oc_img_payload payload;
	bool single; /* exactly one entry */
};

extern const struct oc_img_desc oc_img_descs[_OC_IMG_KIND_MAX];

/* The image kind crit shows for @magic (the first of kinds sharing it). */
const struct oc_img_desc *oc_img_desc_by_magic(uint32_t magic);

/* The image kind whose file name pattern @name matches, or NULL. */
const struct oc_img_desc *oc_img_desc_by_filename(const char *name);

const ProtobufCMessageDescriptor *oc_pb_find_message(const char *name);

/* ---- image directories --------------------------------------------- */

struct oc_imgdir;

/*
 * Open an image directory.  With @create the directory is made if missing
 * and the handle records each image committed through it, so a failed dump
 * can take them all back with oc_imgdir_rollback().
 */
int oc_imgdir_open(const char *path, bool create, struct oc_imgdir **ret_dir);
int oc_imgdir_fd(const struct oc_imgdir *dir);
/* Renumber the directory's fd to @min_fd or above (restore agents). */
int oc_imgdir_move_fd(struct oc_imgdir *dir, int min_fd);
const char *oc_imgdir_path(const struct oc_imgdir *dir);
void oc_imgdir_rollback(struct oc_imgdir *dir);
void oc_imgdir_close(struct oc_imgdir *dir);

/*
 * A dump replaces what the directory held: before its first image goes in
 * place, an earlier inventory.img is removed (so that a dump killed midway
 * leaves no complete-looking mix); before its inventory, this removes
 * every image file (and temporary ".NAME.part") it did not write itself.
 */
int oc_imgdir_prune(struct oc_imgdir *dir);

/* ---- reading --------------------------------------------------------- */

struct oc_img;

/*
 * Open image @kind with id @id (ignored for names without a number).
 * A missing file gives -ENOENT with a message naming it; callers for whom
 * the image is optional check for that.  The magics are verified.
 */
int oc_img_open(struct oc_imgdir *dir, enum oc_img_kind kind, uint64_t id, struct oc_img **ret_img);

/* Open an image file by path; its kind is taken from its magic, and must
 * agree with the kind its file name implies, if any.  "-" reads standard
 * input (a copy of it is kept in memory). */
int oc_img_open_file(const char *path, struct oc_img **ret_img);

const struct oc_img_desc *oc_img_get_desc(const struct oc_img *img);
const char *oc_img_name(const struct oc_img *img);
uint64_t oc_img_offset(const struct oc_img *img);
uint64_t oc_img_size(const struct oc_img *img);

/*
 * Read the next entry as a message of type @pb (NULL: the image's own type).
 * Returns 1 with *ret_msg set, 0 at a clean end of file, or a negative
 * errno with a message naming file, entry and offset.  Free the message with
 * protobuf_c_message_free_unpacked(msg, NULL).
 */
int oc_img_read_entry(struct oc_img *img, const ProtobufCMessageDescriptor *pb, ProtobufCMessage **ret_msg);

/* Read exactly @len raw bytes (an entry's payload). */
int oc_img_read_raw(struct oc_img *img, void *buf, size_t len);
/* Allocate and read a payload of @len bytes; a length that runs past the
 * end of the file is refused before anything is allocated. */
int oc_img_read_alloc(struct oc_img *img, uint64_t len, uint8_t **ret_buf);
int oc_img_skip_raw(struct oc_img *img, uint64_t len);

/* Read the single entry of a single-entry image (EOF is an error). */
int oc_img_read_one(struct oc_imgdir *dir, enum oc_img_kind kind, uint64_t id, ProtobufCMessage **ret_msg);

/* oc_images_check_finished(): public (ocicr.h). */

/*
 * inventory.img.  Missing, -ENOENT that says why: an interrupted dump
 * (other images are there) or not an image directory at all.
 */
int oc_img_read_inventory(struct oc_imgdir *dir, ProtobufCMessage **ret_msg);

/* The raw fd of an opened image (pages images are read with preadv). */
int oc_img_fd(const struct oc_img *img);

void oc_img_close(struct oc_img *img);

static inline void oc_img_closep(struct oc_img **img)
{
	oc_img_close(*img);
}

/* ---- writing --------------------------------------------------------- */

/*
 * Create image @kind/@id.  Data goes to an unnamed file; the image appears
 * under its final name only at oc_img_commit(), so a failure never leaves a
 * half-written image behind.
 */
int oc_img_create(struct oc_imgdir *dir, enum oc_img_kind kind, uint64_t id, struct oc_img **ret_img);

/* Create a standalone image file at @path (for `ocicr image encode`); "-"
 * writes the image to standard output at oc_img_commit(). */
int oc_img_create_file(const char *path, const struct oc_img_desc *desc, struct oc_img **ret_img);

int oc_img_write_entry(struct oc_img *img, const ProtobufCMessage *msg);
int oc_img_write_raw(struct oc_img *img, const void *buf, size_t len);

/*
 * Flush, and return in *ret_off the file offset where the next @len bytes
 * go; the caller fills them in by other means (pwrite from another
 * process) and the image moves past them.
 */
int oc_img_reserve(struct oc_img *img, size_t len, uint64_t *ret_off);

/* Flush and give the image its final name. */
int oc_img_commit(struct oc_img *img);

/* Write a single-entry image in one call. */
int oc_img_write_one(struct oc_imgdir *dir, enum oc_img_kind kind, uint64_t id, const ProtobufCMessage *msg);

/* ---- message helpers --------------------------------------------------- */

/*
 * Check that @buf is a well-formed encoding of @pb: tags, wire types,
 * lengths, nested messages and required fields.  On failure returns -EINVAL
 * with a message describing the first problem (field, byte offset within
 * the entry).  Unknown fields are counted in *ret_unknown, not refused.
 */
int oc_pb_check(const ProtobufCMessageDescriptor *pb, const uint8_t *buf, size_t len, unsigned *ret_unknown);

/* Read an unsigned integer field by name (0 when absent or not integral). */
uint64_t oc_pb_get_uint(const ProtobufCMessage *msg, const char *field);

/* Number of payload bytes that follow entry @msg of @desc. */
int oc_img_payload_size(const struct oc_img_desc *desc, const ProtobufCMessage *msg, uint64_t *ret_size);

#endif
