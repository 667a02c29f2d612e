// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ipc namespace: its sysctls (ipcns-var-ID.img) and its System V objects
 * with their ids, keys, owners and modes: shared memory segments with
 * their contents (ipcns-shm-ID.img), semaphore sets with their values
 * (ipcns-sem-ID.img), message queues with their messages
 * (ipcns-msg-ID.img).
 *
 * Dump, from inside the namespace: the objects are listed by index with
 * *_STAT; segments are read through a read-only attach, messages are
 * copied without being received (MSG_COPY).  Restore, from inside the new
 * namespace before any task runs: each object is created with its old id
 * (kernel.*_next_id), filled, and given its owner and mode; the sysctls
 * last, so the limits cannot refuse the objects being made.  A segment
 * that was removed while attached is removed again once the tasks have
 * attached it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include "res/dump.h"
#include "res/restore.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "ipc-msg.pb-c.h"
#include "ipc-sem.pb-c.h"
#include "ipc-shm.pb-c.h"
#include "ipc-var.pb-c.h"

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

#define round_up(x, a) (((x) + (a)-1) / (a) * (a))

/* ---- sysctls ---------------------------------------------------------- */

static int read_sysctl(const char *name, uint64_t *vals, size_t n)
{
	_cleanup_free_ char *text = NULL;
	char path[96];
	int r;

	snprintf(path, sizeof(path), "../sys/%s", name);
	r = oc_proc_read(0, path, &text, NULL);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	return oc_proc_parse_sysctl(text, path, vals, n);
}

static int write_sysctl(const char *name, const char *text)
{
	char path[96];
	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return oc_error_errno(-errno, "cannot write '%s' to %s", text, path);
	return 0;
}

static int write_sysctl_u64(const char *name, uint64_t v)
{
	char text[32];
	snprintf(text, sizeof(text), "%" PRIu64, v);
	return write_sysctl(name, text);
}

/* The scalar sysctls of ipc_var_entry, by field. */
#define VAR(f, path, opt)                                                          \
	{                                                                          \
		path, offsetof(IpcVarEntry, f), sizeof(((IpcVarEntry *)0)->f), opt \
	}
static const struct {
	const char *path;
	size_t off, size;
	int optional; /* 1: absent on newer kernels (0 then); 2: an optional field */
} var_sysctls[] = {
	VAR(msg_ctlmax, "kernel/msgmax", 0),
	VAR(msg_ctlmnb, "kernel/msgmnb", 0),
	VAR(msg_ctlmni, "kernel/msgmni", 0),
	VAR(auto_msgmni, "kernel/auto_msgmni", 1),
	VAR(shm_ctlmax, "kernel/shmmax", 0),
	VAR(shm_ctlall, "kernel/shmall", 0),
	VAR(shm_ctlmni, "kernel/shmmni", 0),
	VAR(shm_rmid_forced, "kernel/shm_rmid_forced", 0),
	VAR(mq_queues_max, "fs/mqueue/queues_max", 0),
	VAR(mq_msg_max, "fs/mqueue/msg_max", 0),
	VAR(mq_msgsize_max, "fs/mqueue/msgsize_max", 0),
	VAR(mq_msg_default, "fs/mqueue/msg_default", 2),
	VAR(mq_msgsize_default, "fs/mqueue/msgsize_default", 2),
};
#undef VAR

static void *var_field(IpcVarEntry *e, size_t i)
{
	return (char *)e + var_sysctls[i].off;
}

/* The has_ flag of an optional field sits just before it in protobuf-c's struct. */
static protobuf_c_boolean *var_has(IpcVarEntry *e, size_t i)
{
	if (var_sysctls[i].off == offsetof(IpcVarEntry, mq_msg_default))
		return &e->has_mq_msg_default;
	return &e->has_mq_msgsize_default;
}

static int dump_var(struct oc_dump_ctx *ctx, uint32_t id)
{
	IpcVarEntry e = IPC_VAR_ENTRY__INIT;
	uint64_t sem[4], v;
	uint32_t sem32[4];
	int r;

	r = read_sysctl("kernel/sem", sem, 4);
	if (r < 0)
		return r;
	for (int i = 0; i < 4; i++)
		sem32[i] = sem[i];
	e.sem_ctls = sem32;
	e.n_sem_ctls = 4;
	for (size_t i = 0; i < ARRAY_SIZE(var_sysctls); i++) {
		r = read_sysctl(var_sysctls[i].path, &v, 1);
		if (r == -ENOENT && var_sysctls[i].optional)
			continue;
		if (r < 0)
			return r;
		if (var_sysctls[i].size == 8)
			*(uint64_t *)var_field(&e, i) = v;
		else
			*(uint32_t *)var_field(&e, i) = v;
		if (var_sysctls[i].optional == 2)
			*var_has(&e, i) = true;
	}
	return oc_img_write_one(ctx->dir, OC_IMG_IPC_VAR, id, &e.base);
}

static int fill_var(const IpcVarEntry *e)
{
	char sem[96];
	int r;

	if (e->n_sem_ctls != 4)
		return oc_error(-EINVAL, "ipcns-var: %zu kernel.sem values, not 4", e->n_sem_ctls);
	snprintf(sem, sizeof(sem), "%u %u %u %u", e->sem_ctls[0], e->sem_ctls[1], e->sem_ctls[2], e->sem_ctls[3]);
	r = write_sysctl("kernel/sem", sem);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(var_sysctls); i++) {
		IpcVarEntry *m = (IpcVarEntry *)e;
		if (var_sysctls[i].optional == 1)
			continue; /* auto_msgmni: gone from the kernel, CRIU writes 0 */
		if (var_sysctls[i].optional == 2 && !*var_has(m, i))
			continue;
		uint64_t v = var_sysctls[i].size == 8 ? *(uint64_t *)var_field(m, i) : *(uint32_t *)var_field(m, i);
		r = write_sysctl_u64(var_sysctls[i].path, v);
	}
	return r;
}

/* ---- objects: dump ---------------------------------------------------- */

/* Owners as the tree's user namespace sees them, as CRIU saves them. */
static IpcDescEntry *desc_of(struct oc_dump_ctx *ctx, const struct ipc_perm *p, int id)
{
	IpcDescEntry *d = OC_ARENA_MSG(ctx->arena, IpcDescEntry, IPC_DESC_ENTRY__INIT);
	const struct oc_id_map *uids = ctx->userns ? &ctx->userns->uid : NULL;
	const struct oc_id_map *gids = ctx->userns ? &ctx->userns->gid : NULL;

	if (d) {
		d->key = p->__key;
		d->uid = oc_userns_inside(uids, p->uid);
		d->gid = oc_userns_inside(gids, p->gid);
		d->cuid = oc_userns_inside(uids, p->cuid);
		d->cgid = oc_userns_inside(gids, p->cgid);
		d->mode = p->mode;
		d->id = id;
	}
	return d;
}

static const uint8_t zeros[8];

static int write_padded(struct oc_img *img, const void *data, size_t len, size_t align)
{
	int r = oc_img_write_raw(img, data, len);

	if (r >= 0 && round_up(len, align) > len)
		r = oc_img_write_raw(img, zeros, round_up(len, align) - len);
	return r;
}

static int dump_shm(struct oc_dump_ctx *ctx, uint32_t id)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	struct shmid_ds ds;
	struct shm_info info;
	int max = shmctl(0, SHM_INFO, (struct shmid_ds *)&info), r;

	if (max < 0)
		return oc_error_errno(-errno, "shmctl(SHM_INFO)");
	if (!info.used_ids)
		return 0;
	r = oc_img_create(ctx->dir, OC_IMG_IPCNS_SHM, id, &img);
	if (r < 0)
		return r;
	for (int i = 0; i <= max; i++) {
		IpcShmEntry e = IPC_SHM_ENTRY__INIT;
		int shmid = shmctl(i, SHM_STAT, &ds);
		if (shmid < 0)
			continue; /* a free slot */
		e.desc = desc_of(ctx, &ds.shm_perm, shmid);
		if (!e.desc)
			return -ENOMEM;
		e.size = ds.shm_segsz;
		e.has_in_pagemaps = true;
		e.in_pagemaps = false;
		void *p = shmat(shmid, NULL, SHM_RDONLY);
		if (p == (void *)-1)
			return oc_error_errno(-errno, "cannot attach SysV shared memory %d to read it", shmid);
		r = oc_img_write_entry(img, &e.base);
		if (r >= 0)
			r = write_padded(img, p, e.size, 4);
		shmdt(p);
		if (r < 0)
			return r;
		pr_debug("SysV shared memory %d (key 0x%x): %" PRIu64 " bytes", shmid, e.desc->key, e.size);
	}
	return oc_img_commit(img);
}

static int dump_sem(struct oc_dump_ctx *ctx, uint32_t id)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	struct seminfo info;
	int max = semctl(0, 0, SEM_INFO, &info), r;

	if (max < 0)
		return oc_error_errno(-errno, "semctl(SEM_INFO)");
	if (!info.semusz)
		return 0;
	r = oc_img_create(ctx->dir, OC_IMG_IPCNS_SEM, id, &img);
	if (r < 0)
		return r;
	for (int i = 0; i <= max; i++) {
		IpcSemEntry e = IPC_SEM_ENTRY__INIT;
		struct semid_ds ds;
		int semid = semctl(i, 0, SEM_STAT, &ds);
		if (semid < 0)
			continue;
		e.desc = desc_of(ctx, &ds.sem_perm, semid);
		if (!e.desc)
			return -ENOMEM;
		e.nsems = ds.sem_nsems;
		_cleanup_free_ uint16_t *vals = calloc(e.nsems ? e.nsems : 1, sizeof(*vals));
		if (!vals)
			return -ENOMEM;
		if (semctl(semid, 0, GETALL, vals) < 0)
			return oc_error_errno(-errno, "cannot read the values of semaphore set %d", semid);
		r = oc_img_write_entry(img, &e.base);
		if (r >= 0)
			r = write_padded(img, vals, e.nsems * sizeof(*vals), 8);
		if (r < 0)
			return r;
	}
	return oc_img_commit(img);
}

static int dump_msg_queue(struct oc_img *img, int msqid, const struct msqid_ds *ds, size_t msgmax)
{
	_cleanup_free_ struct msgbuf *buf = malloc(sizeof(long) + msgmax);

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < ds->msg_qnum; i++) {
		IpcMsg m = IPC_MSG__INIT;
		ssize_t n = msgrcv(msqid, buf, msgmax, i, IPC_NOWAIT | MSG_COPY | MSG_NOERROR);
		if (n < 0)
			return oc_error_errno(-errno, "cannot copy message %zu of queue %d (MSG_COPY)", i, msqid);
		m.mtype = buf->mtype;
		m.msize = n;
		int r = oc_img_write_entry(img, &m.base);
		if (r >= 0)
			r = write_padded(img, buf->mtext, n, 8);
		if (r < 0)
			return r;
	}
	return 0;
}

static int dump_msg(struct oc_dump_ctx *ctx, uint32_t id)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	struct msginfo info;
	int max = msgctl(0, MSG_INFO, (struct msqid_ds *)&info), r;

	if (max < 0)
		return oc_error_errno(-errno, "msgctl(MSG_INFO)");
	if (!info.msgpool) /* the number of queues, for MSG_INFO */
		return 0;
	r = oc_img_create(ctx->dir, OC_IMG_IPCNS_MSG, id, &img);
	if (r < 0)
		return r;
	for (int i = 0; i <= max; i++) {
		IpcMsgEntry e = IPC_MSG_ENTRY__INIT;
		struct msqid_ds ds;
		int msqid = msgctl(i, MSG_STAT, &ds);
		if (msqid < 0)
			continue;
		e.desc = desc_of(ctx, &ds.msg_perm, msqid);
		if (!e.desc)
			return -ENOMEM;
		e.qbytes = ds.msg_qbytes;
		e.qnum = ds.msg_qnum;
		r = oc_img_write_entry(img, &e.base);
		if (r >= 0)
			r = dump_msg_queue(img, msqid, &ds, info.msgmax);
		if (r < 0)
			return r;
	}
	return oc_img_commit(img);
}

static int ipc_dump(struct oc_dump_ctx *ctx, uint32_t id)
{
	int r = dump_var(ctx, id);

	if (r >= 0)
		r = dump_shm(ctx, id);
	if (r >= 0)
		r = dump_sem(ctx, id);
	if (r >= 0)
		r = dump_msg(ctx, id);
	return r;
}

/* ---- restore ------------------------------------------------------------ */

/* One object: its entry and raw payload (for queues: the ipc_msg
 * entries, each followed by its text). */
struct ipc_obj {
	ProtobufCMessage *entry;
	IpcMsg **msgs;
	uint8_t **payloads; /* one per message; [0] for a segment or set */
	size_t n;
};

struct ipc_state {
	uint32_t id;
	IpcVarEntry *var;
	struct ipc_obj *objs[3]; /* shm, sem, msg */
	size_t n_objs[3];
};

enum { SHM, SEM, MSG };
static const enum oc_img_kind obj_images[3] = { OC_IMG_IPCNS_SHM, OC_IMG_IPCNS_SEM, OC_IMG_IPCNS_MSG };

static int read_payload(struct oc_img *img, size_t len, size_t align, uint8_t **ret)
{
	if (!len) {
		*ret = malloc(1);
		return *ret ? 0 : -ENOMEM;
	}
	int r = oc_img_read_alloc(img, len, ret);

	if (r >= 0 && round_up(len, align) > len)
		r = oc_img_skip_raw(img, round_up(len, align) - len);
	return r;
}

static int load_obj(struct oc_img *img, int kind, struct ipc_obj *o)
{
	int r;

	switch (kind) {
	case SHM: {
		IpcShmEntry *e = (IpcShmEntry *)o->entry;
		if (e->size > (64ull << 30))
			return oc_error(-EINVAL, "%s: segment %u of %" PRIu64 " bytes", oc_img_name(img), e->desc->id,
					e->size);
		/* CRIU 4.x keeps the contents in pagemap-shmem-ID.img. */
		if (e->in_pagemaps)
			return 0;
		o->payloads = calloc(1, sizeof(*o->payloads));
		return o->payloads ? read_payload(img, e->size, 4, &o->payloads[0]) : -ENOMEM;
	}
	case SEM: {
		IpcSemEntry *e = (IpcSemEntry *)o->entry;
		if (e->nsems > 65536)
			return oc_error(-EINVAL, "%s: set %u of %u semaphores", oc_img_name(img), e->desc->id,
					e->nsems);
		o->payloads = calloc(1, sizeof(*o->payloads));
		return o->payloads ? read_payload(img, e->nsems * 2, 8, &o->payloads[0]) : -ENOMEM;
	}
	default: {
		IpcMsgEntry *e = (IpcMsgEntry *)o->entry;
		o->msgs = calloc(e->qnum ? e->qnum : 1, sizeof(*o->msgs));
		o->payloads = calloc(e->qnum ? e->qnum : 1, sizeof(*o->payloads));
		if (!o->msgs || !o->payloads)
			return -ENOMEM;
		for (o->n = 0; o->n < e->qnum; o->n++) {
			ProtobufCMessage *m;
			r = oc_img_read_entry(img, &ipc_msg__descriptor, &m);
			if (r == 0)
				return oc_error(-EINVAL, "%s: queue %u announces %u messages, holds %zu",
						oc_img_name(img), e->desc->id, e->qnum, o->n);
			if (r < 0)
				return r;
			o->msgs[o->n] = (IpcMsg *)m;
			r = read_payload(img, o->msgs[o->n]->msize, 8, &o->payloads[o->n]);
			if (r < 0)
				return r;
		}
		return 0;
	}
	}
}

static void ipc_free(void *state)
{
	struct ipc_state *s = state;

	if (!s)
		return;
	protobuf_c_message_free_unpacked(&s->var->base, NULL);
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < s->n_objs[k]; i++) {
			struct ipc_obj *o = &s->objs[k][i];
			protobuf_c_message_free_unpacked(o->entry, NULL);
			for (size_t j = 0; j < (k == MSG ? o->n : 1); j++) {
				if (o->msgs && o->msgs[j])
					protobuf_c_message_free_unpacked(&o->msgs[j]->base, NULL);
				if (o->payloads)
					free(o->payloads[j]);
			}
			free(o->msgs);
			free(o->payloads);
		}
		free(s->objs[k]);
	}
	free(s);
}

static int load_objs(struct oc_rst_ctx *ctx, struct ipc_state *s, int kind)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	int r = oc_img_open(ctx->dir, obj_images[kind], s->id, &img);

	if (r == -ENOENT)
		return 0; /* no object of this kind */
	if (r < 0)
		return r;
	for (;;) {
		ProtobufCMessage *m;
		r = oc_img_read_entry(img, NULL, &m);
		if (r <= 0)
			return r;
		struct ipc_obj *n = reallocarray(s->objs[kind], s->n_objs[kind] + 1, sizeof(*n));
		if (!n) {
			protobuf_c_message_free_unpacked(m, NULL);
			return -ENOMEM;
		}
		s->objs[kind] = n;
		n[s->n_objs[kind]] = (struct ipc_obj){ .entry = m };
		r = load_obj(img, kind, &n[s->n_objs[kind]++]);
		if (r < 0)
			return r;
	}
}

static int ipc_load(struct oc_rst_ctx *ctx, uint32_t id, void **ret_state)
{
	struct ipc_state *s = calloc(1, sizeof(*s));
	ProtobufCMessage *m;
	int r;

	if (!s)
		return -ENOMEM;
	s->id = id;
	r = oc_img_read_one(ctx->dir, OC_IMG_IPC_VAR, id, &m);
	if (r < 0) {
		free(s);
		return r;
	}
	s->var = (IpcVarEntry *)m;
	for (int k = 0; k < 3 && r >= 0; k++)
		r = load_objs(ctx, s, k);
	if (r < 0) {
		ipc_free(s);
		return r;
	}
	*ret_state = s;
	return 0;
}

/* The next object made of a kind gets id @id. */
static int set_next_id(const char *what, uint32_t id)
{
	char name[48];

	snprintf(name, sizeof(name), "kernel/%s_next_id", what);
	return write_sysctl_u64(name, id);
}

static int check_id(const char *what, int got, const IpcDescEntry *d)
{
	if (got < 0)
		return oc_error_errno(-errno, "cannot create SysV %s %u (key 0x%x)", what, d->id, d->key);
	if ((uint32_t)got != d->id)
		return oc_error(-EEXIST, "SysV %s %u (key 0x%x) came back as %d", what, d->id, d->key, got);
	return 0;
}

/* ocicr sets them from outside the tree's user namespace. */
static void set_perm(const struct oc_rst_ctx *ctx, struct ipc_perm *perm, const IpcDescEntry *d)
{
	const struct oc_userns_maps *maps = oc_userns_rst_maps(ctx);

	perm->uid = oc_userns_host(maps ? &maps->uid : NULL, d->uid);
	perm->gid = oc_userns_host(maps ? &maps->gid : NULL, d->gid);
	perm->mode = d->mode & 0777;
}

static int fill_shm(struct oc_rst_ctx *ctx, const struct ipc_obj *o)
{
	IpcShmEntry *e = (IpcShmEntry *)o->entry;
	struct shmid_ds ds;
	int r = set_next_id("shm", e->desc->id);

	if (r < 0)
		return r;
	/* Made by root of the tree's user namespace: their creator. */
	r = oc_userns_become_root(ctx);
	if (r < 0)
		return r;
	int id = shmget(e->desc->key, e->size, IPC_CREAT | IPC_EXCL | (e->desc->mode & 0777));
	int err = errno;
	oc_userns_become_self(ctx);
	errno = err;
	r = check_id("shared memory", id, e->desc);
	if (r < 0)
		return r;
	if (e->size) {
		void *p = shmat(id, NULL, 0);
		if (p == (void *)-1)
			return oc_error_errno(-errno, "cannot attach SysV shared memory %d to fill it", id);
		r = 0;
		if (e->in_pagemaps)
			r = oc_rst_fill_shmem(ctx, e->desc->id, p, round_up(e->size, (uint64_t)sysconf(_SC_PAGESIZE)));
		else
			memcpy(p, o->payloads[0], e->size);
		shmdt(p);
		if (r < 0)
			return r;
	}
	if (shmctl(id, IPC_STAT, &ds) < 0)
		return oc_error_errno(-errno, "shmctl(%d, IPC_STAT)", id);
	set_perm(ctx, &ds.shm_perm, e->desc);
	if (shmctl(id, IPC_SET, &ds) < 0)
		return oc_error_errno(-errno, "shmctl(%d, IPC_SET)", id);
	return 0;
}

static int fill_sem(struct oc_rst_ctx *ctx, const struct ipc_obj *o)
{
	IpcSemEntry *e = (IpcSemEntry *)o->entry;
	struct semid_ds ds;
	int r = set_next_id("sem", e->desc->id);

	if (r < 0)
		return r;
	/* Made by root of the tree's user namespace: their creator. */
	r = oc_userns_become_root(ctx);
	if (r < 0)
		return r;
	int id = semget(e->desc->key, e->nsems, IPC_CREAT | IPC_EXCL | (e->desc->mode & 0777));
	int err = errno;
	oc_userns_become_self(ctx);
	errno = err;
	r = check_id("semaphore set", id, e->desc);
	if (r < 0)
		return r;
	if (e->nsems && semctl(id, 0, SETALL, o->payloads[0]) < 0)
		return oc_error_errno(-errno, "cannot set the values of semaphore set %d", id);
	if (semctl(id, 0, IPC_STAT, &ds) < 0)
		return oc_error_errno(-errno, "semctl(%d, IPC_STAT)", id);
	set_perm(ctx, &ds.sem_perm, e->desc);
	if (semctl(id, 0, IPC_SET, &ds) < 0)
		return oc_error_errno(-errno, "semctl(%d, IPC_SET)", id);
	return 0;
}

static int fill_msg(struct oc_rst_ctx *ctx, const struct ipc_obj *o)
{
	IpcMsgEntry *e = (IpcMsgEntry *)o->entry;
	struct msqid_ds ds;
	int r = set_next_id("msg", e->desc->id);

	if (r < 0)
		return r;
	/* Made by root of the tree's user namespace: their creator. */
	r = oc_userns_become_root(ctx);
	if (r < 0)
		return r;
	int id = msgget(e->desc->key, IPC_CREAT | IPC_EXCL | (e->desc->mode & 0777));
	int err = errno;
	oc_userns_become_self(ctx);
	errno = err;
	r = check_id("message queue", id, e->desc);
	if (r < 0)
		return r;
	/* Its size limit first: the messages must fit. */
	if (msgctl(id, IPC_STAT, &ds) < 0)
		return oc_error_errno(-errno, "msgctl(%d, IPC_STAT)", id);
	ds.msg_qbytes = e->qbytes;
	if (msgctl(id, IPC_SET, &ds) < 0)
		return oc_error_errno(-errno, "msgctl(%d, IPC_SET)", id);
	for (size_t i = 0; i < o->n; i++) {
		size_t len = o->msgs[i]->msize;
		_cleanup_free_ struct msgbuf *buf = malloc(sizeof(long) + (len ? len : 1));
		if (!buf)
			return -ENOMEM;
		buf->mtype = o->msgs[i]->mtype;
		memcpy(buf->mtext, o->payloads[i], len);
		if (msgsnd(id, buf, len, IPC_NOWAIT) < 0)
			return oc_error_errno(-errno, "cannot queue message %zu of queue %d", i, id);
	}
	set_perm(ctx, &ds.msg_perm, e->desc);
	if (msgctl(id, IPC_SET, &ds) < 0)
		return oc_error_errno(-errno, "msgctl(%d, IPC_SET)", id);
	return 0;
}

static int ipc_fill(struct oc_rst_ctx *ctx, void *state)
{
	static int (*const fill[3])(struct oc_rst_ctx *, const struct ipc_obj *) = { fill_shm, fill_sem, fill_msg };
	struct ipc_state *s = state;

	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < s->n_objs[k]; i++) {
			int r = fill[k](ctx, &s->objs[k][i]);
			if (r < 0)
				return r;
		}
	/* The sysctls of an ipc namespace are its user namespace's root's. */
	int r = oc_userns_become_root(ctx);
	if (r < 0)
		return r;
	r = fill_var(s->var);
	oc_userns_become_self(ctx);
	return r;
}

/* Segments removed while attached go again, now that they are attached. */
static int ipc_finish(struct oc_rst_ctx *ctx, void *state)
{
	struct ipc_state *s = state;

	for (size_t i = 0; i < s->n_objs[SHM]; i++) {
		IpcShmEntry *e = (IpcShmEntry *)s->objs[SHM][i].entry;
		if ((e->desc->mode & SHM_DEST) && shmctl(e->desc->id, IPC_RMID, NULL) < 0)
			return oc_error_errno(-errno, "cannot remove SysV shared memory %u again", e->desc->id);
	}
	return 0;
}

const struct oc_ns_ops oc_ns_ipc_ops = {
	.dump = ipc_dump,
	.load = ipc_load,
	.fill = ipc_fill,
	.finish = ipc_finish,
	.free_state = ipc_free,
};
