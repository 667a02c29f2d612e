// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * user namespace: the uid and gid maps of the tree's user namespace
 * (userns-ID.img), one level below ocicr's.
 *
 * As in CRIU's images, ids the tree's tasks and objects carry (creds,
 * loginuid, fown, SysV objects, tmpfs files, mount options, the owners of
 * ghost files, memfds, bound unix sockets and terminals) are saved as seen
 * from inside the namespace; ocicr reads them from outside and translates
 * with the maps both ways.
 *
 * Restore: the root is cloned with CLONE_NEWUSER together with its other
 * new namespaces, so the kernel makes those owned by the new user
 * namespace; the maps are written from outside (by ocicr, root of the
 * parent namespace) before any task runs, then each task takes its own
 * ids inside (res/task/thread.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libmount.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "res/dump.h"
#include "res/restore.h"
#include "res/ns/ns.h"
#include "core/arena.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"
#include "proc/proc.h"

#include "userns.pb-c.h"

/* The kernel's limit on the lines of one map (user_namespaces(7)). */
#define ID_MAP_MAX 340

uint32_t oc_userns_inside(const struct oc_id_map *m, uint32_t host_id)
{
	if (!m)
		return host_id;
	for (size_t i = 0; i < m->n; i++)
		if (host_id >= m->e[i].lower_first && host_id - m->e[i].lower_first < m->e[i].count)
			return m->e[i].first + (host_id - m->e[i].lower_first);
	return OC_USERNS_UNMAPPED;
}

uint32_t oc_userns_host(const struct oc_id_map *m, uint32_t inside_id)
{
	if (!m)
		return inside_id;
	for (size_t i = 0; i < m->n; i++)
		if (inside_id >= m->e[i].first && inside_id - m->e[i].first < m->e[i].count)
			return m->e[i].lower_first + (inside_id - m->e[i].first);
	return OC_USERNS_UNMAPPED;
}

/* Parse /proc/PID/{uid,gid}_map text ("first lower_first count" lines). */
uint32_t oc_dump_uid(const struct oc_dump_ctx *ctx, uint32_t host_uid)
{
	return oc_userns_inside(ctx->userns ? &ctx->userns->uid : NULL, host_uid);
}

uint32_t oc_dump_gid(const struct oc_dump_ctx *ctx, uint32_t host_gid)
{
	return oc_userns_inside(ctx->userns ? &ctx->userns->gid : NULL, host_gid);
}

uint32_t oc_rst_uid(const struct oc_rst_ctx *ctx, uint32_t uid)
{
	const struct oc_userns_maps *maps = oc_userns_rst_maps(ctx);

	return oc_userns_host(maps ? &maps->uid : NULL, uid);
}

uint32_t oc_rst_gid(const struct oc_rst_ctx *ctx, uint32_t gid)
{
	const struct oc_userns_maps *maps = oc_userns_rst_maps(ctx);

	return oc_userns_host(maps ? &maps->gid : NULL, gid);
}

int oc_userns_parse_map(const char *text, struct oc_id_map *m)
{
	m->n = 0;
	for (const char *p = text; *p;) {
		unsigned first, lower, count;
		int used;

		if (sscanf(p, " %u %u %u%n", &first, &lower, &count, &used) != 3)
			break;
		if (m->n == ID_MAP_MAX)
			return oc_error(-E2BIG, "more than %d lines in an id map", ID_MAP_MAX);
		m->e[m->n++] = (struct oc_id_extent){ first, lower, count };
		p += used;
		while (*p == '\n' || *p == ' ')
			p++;
	}
	return 0;
}

int oc_userns_mount_options(const char *in, const struct oc_userns_maps *maps, bool to_inside, char **ret)
{
	static const char *const keys[] = { "uid", "gid" };
	_cleanup_free_ char *opts = strdup(in ? in : "");

	if (!opts)
		return -ENOMEM;
	for (size_t i = 0; maps && i < ARRAY_SIZE(keys); i++) {
		const struct oc_id_map *m = i ? &maps->gid : &maps->uid;
		char *val, num[16];
		size_t len;
		unsigned long id;

		if (mnt_optstr_get_option(opts, keys[i], &val, &len) != 0 || !len || len >= sizeof(num))
			continue;
		memcpy(num, val, len);
		num[len] = '\0';
		id = strtoul(num, NULL, 10);
		id = to_inside ? oc_userns_inside(m, id) : oc_userns_host(m, id);
		if (id == OC_USERNS_UNMAPPED)
			return oc_error(-EINVAL, "mount option %s=%s has no id %s the user namespace", keys[i], num,
					to_inside ? "inside" : "outside");
		snprintf(num, sizeof(num), "%lu", id);
		if (mnt_optstr_set_option(&opts, keys[i], num) < 0)
			return -ENOMEM;
	}
	*ret = opts;
	opts = NULL;
	return 0;
}

/* The user namespace of @pid must be a child of ours: deeper ones would
 * need a map per level, which the image has not. */
static int check_one_level(pid_t pid)
{
	char path[64];
	struct stat own, parent;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot open %s", path);
	_cleanup_close_ int pfd = ioctl(fd, NS_GET_PARENT);
	if (pfd < 0)
		return oc_error_errno(-errno, "cannot find the parent of the user namespace of task %d", pid);
	if (fstat(pfd, &parent) < 0 || stat("/proc/self/ns/user", &own) < 0)
		return oc_error_errno(-errno, "cannot stat a user namespace");
	if (parent.st_ino != own.st_ino || parent.st_dev != own.st_dev)
		return oc_error(-EOPNOTSUPP,
				"task %d is in a user namespace nested more than one level below ocicr's: "
				"only a child of ocicr's user namespace can be saved",
				pid);
	return 0;
}

/* The namespaces the tree makes its own must be owned by its user
 * namespace: a restore makes them so. */
static int check_owned(struct oc_dump_ctx *ctx, pid_t pid)
{
	static const char *const kinds[] = { "pid", "ipc", "uts", "mnt", "time" };
	static const enum oc_ns_kind kind_of[] = { OC_NS_PID, OC_NS_IPC, OC_NS_UTS, OC_NS_MNT, OC_NS_TIME };
	char path[64];
	struct stat user;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	if (stat(path, &user) < 0)
		return oc_error_errno(-errno, "cannot stat %s", path);
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		struct stat owner;
		if (!oc_ns_not_ours(pid, kind_of[i]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, kinds[i]);
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* a kind the kernel lacks */
		_cleanup_close_ int ofd = ioctl(fd, NS_GET_USERNS);
		if (ofd < 0 || fstat(ofd, &owner) < 0)
			return oc_error_errno(-errno, "cannot find the owner of the %s namespace of task %d", kinds[i],
					      pid);
		if (owner.st_ino != user.st_ino)
			return oc_error(-EOPNOTSUPP,
					"the %s namespace of task %d was not made by its user namespace "
					"(a restore would make it so)",
					kinds[i], pid);
	}
	(void)ctx;
	return 0;
}

static int read_map(pid_t pid, const char *name, struct oc_id_map *m)
{
	_cleanup_free_ char *text = NULL;
	int r = oc_proc_read(pid, name, &text, NULL);

	if (r < 0)
		return oc_error_wrap(r, "cannot read /proc/%d/%s", pid, name);
	r = oc_userns_parse_map(text, m);
	if (r < 0)
		return oc_error_wrap(r, "/proc/%d/%s", pid, name);
	if (!m->n)
		return oc_error(-EINVAL, "task %d: its user namespace has no %s yet", pid, name);
	return 0;
}

static int translate(const struct oc_id_map *m, uint32_t *id, pid_t tid, const char *what)
{
	uint32_t in = oc_userns_inside(m, *id);

	if (in == OC_USERNS_UNMAPPED)
		return oc_error(-EINVAL, "thread %d: its %s %u has no id in its user namespace", tid, what, *id);
	*id = in;
	return 0;
}

/* The creds read from outside (/proc/PID/...), as the tree sees them. */
static int creds_inside(struct oc_dump_ctx *ctx, const struct oc_userns_maps *maps)
{
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		struct oc_dump_task *t = &ctx->tasks[i];
		for (size_t j = 0; j < t->n_threads; j++) {
			CoreEntry *core = t->threads[j].core;
			CredsEntry *c = core && core->thread_core ? core->thread_core->creds : NULL;
			pid_t tid = t->threads[j].seized->tid;
			int r = 0;

			if (!c)
				continue;
			uint32_t *uids[] = { &c->uid, &c->euid, &c->suid, &c->fsuid };
			uint32_t *gids[] = { &c->gid, &c->egid, &c->sgid, &c->fsgid };
			for (size_t k = 0; k < 4 && r >= 0; k++)
				r = translate(&maps->uid, uids[k], tid, "uid");
			for (size_t k = 0; k < 4 && r >= 0; k++)
				r = translate(&maps->gid, gids[k], tid, "gid");
			for (size_t k = 0; k < c->n_groups && r >= 0; k++)
				r = translate(&maps->gid, &c->groups[k], tid, "group");
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static UidGidExtent **extents_of(struct oc_arena *a, const struct oc_id_map *m)
{
	UidGidExtent **v = OC_ARENA_ARRAY(a, UidGidExtent *, m->n ? m->n : 1);

	for (size_t i = 0; v && i < m->n; i++) {
		v[i] = OC_ARENA_MSG(a, UidGidExtent, UID_GID_EXTENT__INIT);
		if (!v[i])
			return NULL;
		v[i]->first = m->e[i].first;
		v[i]->lower_first = m->e[i].lower_first;
		v[i]->count = m->e[i].count;
	}
	return v;
}

static int read_maps(pid_t pid, struct oc_userns_maps *maps)
{
	int r = read_map(pid, "uid_map", &maps->uid);

	return r < 0 ? r : read_map(pid, "gid_map", &maps->gid);
}

int oc_userns_dump_prepare(struct oc_dump_ctx *ctx)
{
	pid_t pid = ctx->tasks[0].pid;

	if (!oc_ns_not_ours(pid, OC_NS_USER))
		return 0;
	struct oc_userns_maps *maps = oc_arena_alloc(ctx->arena, sizeof(*maps));
	if (!maps)
		return -ENOMEM;
	int r = read_maps(pid, maps);
	if (r < 0)
		return r;
	ctx->userns = maps;
	return 0;
}

static int userns_dump(struct oc_dump_ctx *ctx, uint32_t id)
{
	pid_t pid = ctx->tasks[0].pid;
	UsernsEntry e = USERNS_ENTRY__INIT;
	int r;

	/* As userns_load() says. */
	if (ctx->n_tasks > 1 && !ctx->own_pidns)
		return oc_error(-EOPNOTSUPP,
				"task %d is in a user namespace of its own but in ocicr's pid namespace: a tree of "
				"several tasks there needs a pid namespace of its own too (its tasks could not be made "
				"again with their pids)",
				pid);
	r = check_one_level(pid);
	if (r >= 0)
		r = check_owned(ctx, pid);
	if (r < 0)
		return r;
	/* Read before the tasks were collected (oc_userns_dump_prepare()). */
	const struct oc_userns_maps *maps = ctx->userns;
	if (!maps)
		return oc_error(-EINVAL, "task %d: the maps of its user namespace were not read", pid);
	r = creds_inside(ctx, maps);
	if (r < 0)
		return r;
	e.n_uid_map = maps->uid.n;
	e.uid_map = extents_of(ctx->arena, &maps->uid);
	e.n_gid_map = maps->gid.n;
	e.gid_map = extents_of(ctx->arena, &maps->gid);
	if (!e.uid_map || !e.gid_map)
		return -ENOMEM;
	pr_info("user namespace %u: %zu uid and %zu gid map lines", id, maps->uid.n, maps->gid.n);
	return oc_img_write_one(ctx->dir, OC_IMG_USERNS, id, &e.base);
}

/* ---- restore ------------------------------------------------------------ */

static int map_from_image(const char *name, uint32_t id, UidGidExtent **v, size_t n, struct oc_id_map *m)
{
	if (!n)
		return oc_error(-EINVAL, "userns-%u.img: no %s", id, name);
	if (n > ID_MAP_MAX)
		return oc_error(-EINVAL, "userns-%u.img: %zu lines in %s, more than the kernel takes (%d)", id, n, name,
				ID_MAP_MAX);
	m->n = n;
	for (size_t i = 0; i < n; i++) {
		const UidGidExtent *x = v[i];
		if (!x->count || (uint64_t)x->first + x->count > UINT32_MAX ||
		    (uint64_t)x->lower_first + x->count > UINT32_MAX)
			return oc_error(-EINVAL, "userns-%u.img: %s line %zu (%u %u %u) is not a valid range", id, name,
					i + 1, x->first, x->lower_first, x->count);
		m->e[i] = (struct oc_id_extent){ x->first, x->lower_first, x->count };
	}
	return 0;
}

static int userns_load(struct oc_rst_ctx *ctx, uint32_t id, void **ret_state)
{
	ProtobufCMessage *msg;
	int r = oc_img_read_one(ctx->dir, OC_IMG_USERNS, id, &msg);

	if (r < 0)
		return r;
	UsernsEntry *e = (UsernsEntry *)msg;
	_cleanup_free_ struct oc_userns_maps *maps = calloc(1, sizeof(*maps));
	if (!maps)
		r = -ENOMEM;
	if (r >= 0)
		r = map_from_image("uid_map", id, e->uid_map, e->n_uid_map, &maps->uid);
	if (r >= 0)
		r = map_from_image("gid_map", id, e->gid_map, e->n_gid_map, &maps->gid);
	protobuf_c_message_free_unpacked(msg, NULL);
	if (r < 0)
		return r;
	/* Children are made with their pids (clone3 set_tid) by their parent
	 * inside: that needs a pid namespace owned by the new user namespace. */
	if (ctx->n_tasks > 1 && !oc_ns_rst_not_ours(ctx, OC_NS_PID))
		return oc_error(-EOPNOTSUPP, "the tree is in a user namespace of its own but in ocicr's pid namespace: "
					     "its tasks could not be made again with their pids");
	*ret_state = maps;
	maps = NULL;
	return 0;
}

static int write_map(pid_t pid, const char *name, const struct oc_id_map *m)
{
	char path[64], text[ID_MAP_MAX * 36];
	size_t o = 0;

	for (size_t i = 0; i < m->n; i++)
		o += snprintf(text + o, sizeof(text) - o, "%u %u %u\n", m->e[i].first, m->e[i].lower_first,
			      m->e[i].count);
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot open %s", path);
	if (write(fd, text, o) != (ssize_t)o)
		return oc_error_errno(-errno, "the host cannot give the tree's %s (%s): writing %s", name,
				      m->n == 1 ? "one line" : "several lines", path);
	return 0;
}

/* From outside: the root waits, unmapped, for its maps. */
static int userns_fill(struct oc_rst_ctx *ctx, void *state)
{
	const struct oc_userns_maps *maps = state;
	int r = write_map(ctx->ns->root_pid, "uid_map", &maps->uid);

	if (r >= 0)
		r = write_map(ctx->ns->root_pid, "gid_map", &maps->gid);
	return r;
}

int oc_userns_become_root(const struct oc_rst_ctx *ctx)
{
	const struct oc_userns_maps *maps = oc_userns_rst_maps(ctx);

	if (!maps)
		return 0;
	/* Raw calls: for this thread alone, and only the effective ids (the
	 * saved 0 takes them back). */
	if (syscall(SYS_setresgid, -1, oc_userns_host(&maps->gid, 0), -1) < 0 ||
	    syscall(SYS_setresuid, -1, oc_userns_host(&maps->uid, 0), -1) < 0) {
		int err = -errno;
		oc_userns_become_self(ctx);
		return oc_error_errno(err, "cannot act as root of the tree's user namespace");
	}
	return 0;
}

void oc_userns_become_self(const struct oc_rst_ctx *ctx)
{
	if (!oc_userns_rst_maps(ctx))
		return;
	/* Staying another user would be worse than failing. */
	if (syscall(SYS_setresuid, -1, 0, -1) < 0 || syscall(SYS_setresgid, -1, 0, -1) < 0)
		abort();
}

const struct oc_userns_maps *oc_userns_rst_maps(const struct oc_rst_ctx *ctx)
{
	return ctx->ns ? ctx->ns->state[OC_NS_USER] : NULL;
}

const struct oc_ns_ops oc_ns_user_ops = {
	.dump_outside = true,
	.dump = userns_dump,
	.load = userns_load,
	.fill_outside = true,
	.fill = userns_fill,
	.free_state = free,
};
