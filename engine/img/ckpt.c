// SPDX-License-Identifier: LGPL-2.1-or-later
/* A checkpoint's processes, files and sockets, read light (ocicr.h,
 * "checkpoint inspection"): the image-set loader, then plain structures. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core.pb-c.h"
#include "fdinfo.pb-c.h"
#include "fs.pb-c.h"
#include "img/ckpt.h"
#include "img/image.h"
#include "img/imgset.h"
#include "img/vma.h"
#include "inventory.pb-c.h"
#include "memfd.pb-c.h"
#include "mm.pb-c.h"
#include "mnt.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "stats.pb-c.h"
#include "tty.pb-c.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/safefile.h"
#include "utsns.pb-c.h"

/* argv and the environment are read up to this size each. */
#define STRINGS_MAX (16u << 20)

static void msg_free(void *p)
{
	ProtobufCMessage **m = p;

	if (*m)
		protobuf_c_message_free_unpacked(*m, NULL);
}
#define _cleanup_msg_ _cleanup_(msg_free)

/* The image set, loaded and checked as restore loads it (img/imgset.h);
 * its messages are freed together at the end of loading. */
struct loader {
	struct oc_imgset set;
	const struct oc_ckpt_opts *opts;
	MemfdInodeEntry **memfds;
	size_t n_memfds;
};

static const FileEntry *find_file(const struct loader *l, uint32_t id)
{
	return oc_imgset_file(&l->set, id);
}

static char *reg_path(const struct loader *l, uint32_t id)
{
	const FileEntry *f = find_file(l, id);

	if (f && f->reg && f->reg->name)
		return strdup(f->reg->name);
	return NULL;
}

/* ---- names ---------------------------------------------------------------- */

void oc_format_oflags(uint32_t flags, char *buf, size_t size)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} bits[] = {
		{ 00000100, "O_CREAT" },     { 00000200, "O_EXCL" },	  { 00000400, "O_NOCTTY" },
		{ 00001000, "O_TRUNC" },     { 00002000, "O_APPEND" },	  { 00004000, "O_NONBLOCK" },
		{ 00010000, "O_DSYNC" },     { 00020000, "O_ASYNC" },	  { 00040000, "O_DIRECT" },
		{ 00100000, "O_LARGEFILE" }, { 00200000, "O_DIRECTORY" }, { 00400000, "O_NOFOLLOW" },
		{ 01000000, "O_NOATIME" },   { 02000000, "O_CLOEXEC" },	  { 04000000, "O_SYNC" },
		{ 010000000, "O_PATH" },     { 020000000, "O_TMPFILE" },
	};
	static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
	size_t len = snprintf(buf, size, "%s", acc[flags & 3]);

	flags &= ~3u;
	for (size_t i = 0; i < ARRAY_SIZE(bits) && len < size; i++)
		if (flags & bits[i].bit) {
			len += snprintf(buf + len, size - len, "|%s", bits[i].name);
			flags &= ~bits[i].bit;
		}
	if (flags && len < size)
		snprintf(buf + len, size - len, "|0%o", flags);
}

static const char *task_state_name(uint32_t st)
{
	switch (st) {
	case OC_TASK_STATE_ALIVE:
		return "alive";
	case OC_TASK_STATE_DEAD:
		return "zombie";
	case OC_TASK_STATE_STOPPED:
		return "stopped";
	default:
		return "unknown"; /* the loader refuses any other */
	}
}

static const char *fd_type_name(int type)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&fd_types__descriptor, type);

	return v ? v->name : "UNKNOWN";
}

static const char *sock_type_name(uint32_t type)
{
	switch (type) {
	case SOCK_STREAM:
		return "stream";
	case SOCK_DGRAM:
		return "dgram";
	case SOCK_RAW:
		return "raw";
	case SOCK_SEQPACKET:
		return "seqpacket";
	default:
		return "other";
	}
}

static const char *tcp_state_name(uint32_t st)
{
	static const char *const names[] = {
		[1] = "ESTABLISHED", [2] = "SYN_SENT",	[3] = "SYN_RECV", [4] = "FIN_WAIT1",
		[5] = "FIN_WAIT2",   [6] = "TIME_WAIT", [7] = "CLOSE",	  [8] = "CLOSE_WAIT",
		[9] = "LAST_ACK",    [10] = "LISTEN",	[11] = "CLOSING",
	};

	return st < ARRAY_SIZE(names) && names[st] ? names[st] : "UNKNOWN";
}

static char *inet_sk_addr(uint32_t family, const uint32_t *words, size_t n, uint32_t port)
{
	char ip[INET6_ADDRSTRLEN] = "";
	char *out;

	if (family == AF_INET && n >= 1)
		inet_ntop(AF_INET, words, ip, sizeof(ip));
	else if (family == AF_INET6 && n >= 4)
		inet_ntop(AF_INET6, words, ip, sizeof(ip));
	else
		snprintf(ip, sizeof(ip), "?");
	if (asprintf(&out, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port) < 0)
		return NULL;
	return out;
}

/* A unix socket's name: a path, "@name" for an abstract one, "" unnamed. */
static char *unix_name(const UnixSkEntry *u)
{
	const uint8_t *d = u->name.data;
	size_t len = u->name.len;
	char *out;

	if (!len)
		return strdup("");
	if (d[0] == '\0') {
		out = malloc(len + 1);
		if (!out)
			return NULL;
		out[0] = '@';
		/* NULs inside an abstract name are shown as '@' too, like ss(8). */
		for (size_t i = 1; i < len; i++)
			out[i] = d[i] ? (char)d[i] : '@';
		out[len] = '\0';
		return out;
	}
	size_t l = strnlen((const char *)d, len);
	if (u->name_dir && d[0] != '/') {
		if (asprintf(&out, "%s/%.*s", u->name_dir, (int)l, (const char *)d) < 0)
			return NULL;
		return out;
	}
	return strndup((const char *)d, l);
}

static int add_socket(struct oc_ckpt_task *t, struct oc_ckpt_fd *fd, const FileEntry *f)
{
	struct oc_ckpt_socket s = { .fd = fd->fd };
	struct oc_ckpt_socket *n;

	if (f->isk) {
		const InetSkEntry *i = f->isk;
		bool v6 = i->family == AF_INET6;
		switch (i->proto) {
		case IPPROTO_TCP:
			s.kind = v6 ? "tcp6" : "tcp";
			break;
		case IPPROTO_UDP:
			s.kind = v6 ? "udp6" : "udp";
			break;
		case IPPROTO_UDPLITE:
			s.kind = v6 ? "udplite6" : "udplite";
			break;
		default:
			s.kind = i->type == SOCK_RAW ? (v6 ? "raw6" : "raw") : (v6 ? "inet6" : "inet");
		}
		s.type = sock_type_name(i->type);
		s.state = tcp_state_name(i->state);
		s.ino = i->ino;
		s.local = inet_sk_addr(i->family, i->src_addr, i->n_src_addr, i->src_port);
		if (!s.local)
			return -ENOMEM;
		bool peer = i->dst_port != 0;
		for (size_t k = 0; k < i->n_dst_addr; k++)
			peer |= i->dst_addr[k] != 0;
		/* a listening or unconnected socket has no remote end */
		if (i->state != 10 && peer) {
			s.remote = inet_sk_addr(i->family, i->dst_addr, i->n_dst_addr, i->dst_port);
			if (!s.remote) {
				free(s.local);
				return -ENOMEM;
			}
		}
	} else if (f->usk) {
		const UnixSkEntry *u = f->usk;
		s.kind = "unix";
		s.type = sock_type_name(u->type);
		s.state = tcp_state_name(u->state);
		s.ino = u->ino;
		s.peer_ino = u->peer;
		s.local = unix_name(u);
		if (!s.local)
			return -ENOMEM;
	} else if (f->psk) {
		s.kind = "packet";
		s.type = sock_type_name(f->psk->type);
		s.state = "UNCONNECTED";
		if (asprintf(&s.local, "ifindex %u, protocol 0x%04x", f->psk->ifindex,
			     ntohs((uint16_t)f->psk->protocol)) < 0)
			return -ENOMEM;
	} else if (f->nlsk) {
		s.kind = "netlink";
		s.type = "raw";
		s.state = f->nlsk->dst_portid ? "CONNECTED" : "UNCONNECTED";
		s.ino = f->nlsk->ino;
		if (asprintf(&s.local, "protocol %u, port %u", f->nlsk->protocol, f->nlsk->portid) < 0)
			return -ENOMEM;
	} else {
		return 0;
	}
	n = realloc(t->socks, (t->n_socks + 1) * sizeof(*n));
	if (!n) {
		free(s.local);
		free(s.remote);
		return -ENOMEM;
	}
	t->socks = n;
	n[t->n_socks] = s;
	fd->sock = t->n_socks++;
	return 0;
}

/* Fill @o from fdinfo entry @fi and the file object it names. */
static int describe_fd(const struct loader *l, struct oc_ckpt_task *t, const FdinfoEntry *fi, struct oc_ckpt_fd *o)
{
	const FileEntry *f = find_file(l, fi->id);
	char *path = NULL;

	o->fd = fi->fd;
	o->cloexec = fi->flags & FD_CLOEXEC;
	o->type = fd_type_name(fi->type);
	o->sock = -1;
	if (!f) {
		if (asprintf(&path, "?(file %u not in files.img)", fi->id) < 0)
			return -ENOMEM;
		o->path = path;
		return 0;
	}
	if (f->reg) {
		path = strdup(f->reg->name ? f->reg->name : "?");
		o->has_pos = o->has_flags = true;
		o->pos = f->reg->pos;
		o->flags = f->reg->flags;
		o->has_size = f->reg->has_size;
		o->size = f->reg->size;
	} else if (f->pipe) {
		if (asprintf(&path, "pipe:[%u]", f->pipe->pipe_id) < 0)
			path = NULL;
		o->has_flags = true;
		o->flags = f->pipe->flags;
	} else if (f->fifo) {
		path = f->fifo->has_regf_id ? reg_path(l, f->fifo->regf_id) : NULL;
		if (!path && asprintf(&path, "fifo:[%u]", f->fifo->pipe_id) < 0)
			path = NULL;
	} else if (f->isk || f->usk || f->psk || f->nlsk) {
		uint32_t ino = f->isk ? f->isk->ino : f->usk ? f->usk->ino : f->nlsk ? f->nlsk->ino : 0;
		if (asprintf(&path, "socket:[%u]", ino) < 0)
			path = NULL;
		o->has_flags = true;
		o->flags = f->isk ? f->isk->flags : f->usk ? f->usk->flags : f->psk ? f->psk->flags : f->nlsk->flags;
		if (path) {
			int r = add_socket(t, o, f);
			if (r < 0) {
				free(path);
				return r;
			}
		}
	} else if (f->tty) {
		path = f->tty->has_regf_id ? reg_path(l, f->tty->regf_id) : NULL;
		if (!path)
			path = strdup("tty");
		o->has_flags = true;
		o->flags = f->tty->flags;
	} else if (f->memfd) {
		const char *name = "?";
		for (size_t i = 0; i < l->n_memfds; i++)
			if (l->memfds[i]->inode_id == f->memfd->inode_id)
				name = l->memfds[i]->name;
		if (asprintf(&path, "/memfd:%s (deleted)", name) < 0)
			path = NULL;
		o->has_pos = o->has_flags = true;
		o->pos = f->memfd->pos;
		o->flags = f->memfd->flags;
	} else if (f->nsf) {
		if (asprintf(&path, "ns:[%u]", f->nsf->ns_id) < 0)
			path = NULL;
	} else {
		static const struct {
			int type;
			const char *name;
		} anon[] = {
			{ FD_TYPES__EVENTFD, "anon_inode:[eventfd]" },
			{ FD_TYPES__EVENTPOLL, "anon_inode:[eventpoll]" },
			{ FD_TYPES__INOTIFY, "anon_inode:inotify" },
			{ FD_TYPES__SIGNALFD, "anon_inode:[signalfd]" },
			{ FD_TYPES__FANOTIFY, "anon_inode:[fanotify]" },
			{ FD_TYPES__TIMERFD, "anon_inode:[timerfd]" },
			{ FD_TYPES__PIDFD, "anon_inode:[pidfd]" },
			{ FD_TYPES__BPFMAP, "anon_inode:bpf-map" },
			{ FD_TYPES__TUNF, "/dev/net/tun" },
			{ FD_TYPES__EXT, "external" },
		};
		for (size_t i = 0; i < ARRAY_SIZE(anon) && !path; i++)
			if (anon[i].type == (int)f->type)
				path = strdup(anon[i].name);
		if (!path)
			path = strdup(fd_type_name(f->type));
	}
	if (!path)
		return -ENOMEM;
	o->path = path;
	return 0;
}

/* ---- memory ----------------------------------------------------------------- */

static int read_strings(const struct oc_ckpt_task *t, int pages_fd, uint64_t start, uint64_t end, char ***ret_v,
			size_t *ret_n, char **ret_err)
{
	_cleanup_free_ char *buf = NULL;
	uint64_t len;
	ssize_t n;
	int r;

	*ret_err = NULL;
	if (end < start) {
		return asprintf(ret_err, "the saved bounds are reversed (0x%" PRIx64 "-0x%" PRIx64 ")", start, end) < 0
			       ? -ENOMEM
			       : 0;
	}
	len = MIN(end - start, (uint64_t)STRINGS_MAX);
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	n = oc_pagemap_read(&t->pm, pages_fd, start, buf, len);
	if (n < 0)
		return n;
	if ((uint64_t)n < len) {
		/* The page holding it was not dumped: say so, do not guess. */
		if (asprintf(ret_err, "not in the dump (0x%" PRIx64 " was not saved)", start + n) < 0)
			return -ENOMEM;
		return 0;
	}
	r = oc_split_nul(buf, len, ret_v, ret_n);
	return r;
}

int oc_ckpt_open_pages(const struct oc_ckpt *c, const struct oc_ckpt_task *t, int *ret_fd)
{
	_cleanup_free_ char *path = NULL;
	int fd;

	if (asprintf(&path, "%s/pages-%u.img", c->images_dir, t->pm.pages_id) < 0)
		return -ENOMEM;
	char shown[64];
	snprintf(shown, sizeof(shown), "pages-%u.img of process %d", t->pm.pages_id, t->pid);
	/* a regular file, opened without blocking: a FIFO is refused */
	fd = oc_open_regular(AT_FDCWD, path, shown, true);
	if (fd == -ENOENT && t->pm.present_pages == 0) {
		oc_error_clear();
		return -ENOENT;
	}
	if (fd < 0)
		return fd;
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < 0 || (uint64_t)size < t->pm.present_pages * OC_PAGE_SIZE) {
		close(fd);
		return oc_error(-EINVAL,
				"pages-%u.img: %lld bytes, but pagemap-%d.img lists %" PRIu64 " pages: "
				"truncated or corrupt",
				t->pm.pages_id, (long long)size, t->pid, t->pm.present_pages);
	}
	*ret_fd = fd;
	return 0;
}

static int load_memory(struct oc_ckpt *c, struct oc_ckpt_task *t)
{
	_cleanup_close_ int fd = -1;
	int r;

	r = oc_ckpt_open_pages(c, t, &fd);
	if (r == -ENOENT) {
		t->argv_error = strdup("no pages were dumped");
		t->env_error = strdup("no pages were dumped");
		return t->argv_error && t->env_error ? 0 : -ENOMEM;
	}
	if (r < 0)
		return r;
	r = read_strings(t, fd, t->arg_start, t->arg_end, &t->argv, &t->argc, &t->argv_error);
	if (r < 0)
		return r;
	return read_strings(t, fd, t->env_start, t->env_end, &t->env, &t->envc, &t->env_error);
}

static int load_pagemap(const struct oc_imgset_task *it, struct oc_ckpt_task *t)
{
	char what[64];
	int r;

	snprintf(what, sizeof(what), "pagemap-%d.img", t->pid);
	t->pm.pages_id = it->pages_id;
	r = oc_pagemap_build(it->pagemap, it->n_pagemap, what, &t->pm.runs, &t->pm.n_runs, &t->pm.present_pages);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->pm.n_runs; i++) {
		if (t->pm.runs[i].flags & OC_PM_PARENT)
			t->pm.parent_pages += t->pm.runs[i].nr_pages;
		else if (!(t->pm.runs[i].flags & OC_PM_PRESENT))
			t->pm.lazy_pages += t->pm.runs[i].nr_pages;
	}
	return 0;
}

/* ---- tasks ------------------------------------------------------------------ */

static int load_task(struct loader *l, struct oc_ckpt *c, struct oc_ckpt_task *t, const struct oc_imgset_task *it)
{
	const PstreeEntry *pe = it->pstree;
	const CoreEntry *core = it->cores[0];
	int r;

	t->pid = pe->pid;
	t->ppid = pe->ppid;
	t->pgid = pe->pgid;
	t->sid = pe->sid;
	t->threads = malloc(pe->n_threads * sizeof(*t->threads));
	if (!t->threads)
		return -ENOMEM;
	memcpy(t->threads, pe->threads, pe->n_threads * sizeof(*t->threads));
	t->n_threads = pe->n_threads;

	t->comm = strdup(core->tc->comm ? core->tc->comm : "");
	if (!t->comm)
		return -ENOMEM;
	t->state = task_state_name(it->state);
	t->exit_code = core->tc->exit_code;
	if (core->thread_core && core->thread_core->creds) {
		const CredsEntry *cr = core->thread_core->creds;
		t->has_creds = true;
		t->uid = cr->uid;
		t->gid = cr->gid;
		t->euid = cr->euid;
		t->egid = cr->egid;
	}
	if (it->zombie)
		return 0; /* a zombie has nothing else */

	const MmEntry *mm = it->mm;
	t->has_mm = true;
	t->arg_start = mm->mm_arg_start;
	t->arg_end = mm->mm_arg_end;
	t->env_start = mm->mm_env_start;
	t->env_end = mm->mm_env_end;
	t->n_vmas = mm->n_vmas;
	for (size_t i = 0; i < mm->n_vmas; i++)
		t->vma_size += mm->vmas[i]->end - mm->vmas[i]->start;
	if (mm->exe_file_id)
		t->exe = reg_path(l, mm->exe_file_id);
	r = load_pagemap(it, t);
	if (r < 0)
		return r;
	t->cwd = reg_path(l, it->fs->cwd_id);
	t->root = reg_path(l, it->fs->root_id);

	if (it->n_fds) {
		t->fds = calloc(it->n_fds, sizeof(*t->fds));
		if (!t->fds)
			return -ENOMEM;
	}
	for (size_t i = 0; i < it->n_fds; i++) {
		r = describe_fd(l, t, it->fds[i], &t->fds[t->n_fds]);
		if (r < 0)
			return r;
		t->n_fds++;
	}
	if (l->opts->memory_strings)
		return load_memory(c, t);
	return 0;
}

static int load_mounts(struct loader *l, struct oc_ckpt *c, uint32_t mnt_ns_id)
{
	_cleanup_free_ MntEntry **m = NULL;
	size_t n;
	int r = oc_imgset_read_all(&l->set, OC_IMG_MNTS, mnt_ns_id, true, &m, &n, NULL);

	if (r < 0 || !n)
		return r;
	c->mounts = calloc(n, sizeof(*c->mounts));
	if (!c->mounts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct oc_ckpt_mount *o = &c->mounts[c->n_mounts++];
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&fstype__descriptor, m[i]->fstype);
		const char *fst = m[i]->fsname ? m[i]->fsname : v ? v->name : "unknown";

		o->mnt_id = m[i]->mnt_id;
		o->parent_mnt_id = m[i]->parent_mnt_id;
		o->mountpoint = strdup(m[i]->mountpoint ? m[i]->mountpoint : "");
		o->source = strdup(m[i]->source ? m[i]->source : "");
		/* read-only is a mount flag, not an option, in the image */
		if (asprintf(&o->options, "%s%s%s", m[i]->flags & MS_RDONLY ? "ro" : "",
			     m[i]->flags & MS_RDONLY && m[i]->options && *m[i]->options ? "," : "",
			     m[i]->options ? m[i]->options : "") < 0)
			o->options = NULL;
		o->fstype = strdup(fst);
		if (!o->mountpoint || !o->source || !o->options || !o->fstype)
			return -ENOMEM;
		/* fstype names are upper case in the enum, lower case in mount(8). */
		if (!m[i]->fsname)
			for (char *p = o->fstype; *p; p++)
				*p = (*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p;
	}
	return 0;
}

static int load_stats(const char *stats_path, struct oc_ckpt *c)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	_cleanup_msg_ StatsEntry *st = NULL;
	int r;

	if (!stats_path)
		return 0;
	r = oc_img_open_file(stats_path, &img);
	if (r < 0)
		return r;
	r = oc_img_read_entry(img, &stats_entry__descriptor, (ProtobufCMessage **)&st);
	if (r < 0)
		return r;
	if (r == 0)
		return oc_error(-EINVAL, "%s: empty statistics image", stats_path);
	if (!st->dump)
		return 0;
	const DumpStatsEntry *d = st->dump;
	c->stats = (struct oc_ckpt_stats){
		.present = true,
		.freezing_time = d->freezing_time,
		.frozen_time = d->frozen_time,
		.memdump_time = d->memdump_time,
		.memwrite_time = d->memwrite_time,
		.pages_scanned = d->pages_scanned,
		.pages_skipped_parent = d->pages_skipped_parent,
		.pages_written = d->pages_written,
		.pages_lazy = d->pages_lazy,
		.has_irmap_resolve = d->has_irmap_resolve,
		.irmap_resolve = d->irmap_resolve,
		.has_page_pipes = d->has_page_pipes,
		.page_pipes = d->page_pipes,
		.has_page_pipe_bufs = d->has_page_pipe_bufs,
		.page_pipe_bufs = d->page_pipe_bufs,
		.has_shpages = d->has_shpages_scanned,
		.shpages_scanned = d->shpages_scanned,
		.shpages_skipped_parent = d->shpages_skipped_parent,
		.shpages_written = d->shpages_written,
	};
	return 0;
}

static int load(struct loader *l, struct oc_ckpt *c, struct oc_imgdir *dir)
{
	int r;

	r = oc_imgset_load(dir, &l->set);
	if (r < 0)
		return r;
	c->img_version = l->set.inventory->img_version;
	r = oc_imgset_read_all(&l->set, OC_IMG_MEMFD_INODE, 0, true, &l->memfds, &l->n_memfds, NULL);
	if (r < 0)
		return r;
	c->tasks = calloc(l->set.n_tasks, sizeof(*c->tasks));
	if (!c->tasks)
		return -ENOMEM;
	for (size_t i = 0; i < l->set.n_tasks; i++) {
		r = load_task(l, c, &c->tasks[c->n_tasks], &l->set.tasks[i]);
		c->n_tasks++;
		if (r < 0)
			return oc_error_wrap(r, "process %d", l->set.tasks[i].pid);
	}

	/* The root task's namespaces: mounts and host name. */
	const TaskKobjIdsEntry *root_ids = l->set.tasks[0].ids ? l->set.tasks[0].ids : l->set.inventory->root_ids;
	if (root_ids && root_ids->has_mnt_ns_id) {
		r = load_mounts(l, c, root_ids->mnt_ns_id);
		if (r < 0)
			return r;
	}
	if (root_ids && root_ids->has_uts_ns_id) {
		UtsnsEntry *uts;
		r = oc_imgset_read_one(&l->set, OC_IMG_UTSNS, root_ids->uts_ns_id, true, &uts);
		if (r < 0)
			return r;
		if (uts && uts->nodename && !(c->hostname = strdup(uts->nodename)))
			return -ENOMEM;
	}
	return 0;
}

int oc_ckpt_load(const char *images_dir, const char *stats_path, const struct oc_ckpt_opts *opts,
		 struct oc_ckpt **ret_ckpt)
{
	struct loader l = { .opts = opts };
	struct oc_imgdir *dir = NULL;
	struct oc_ckpt *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->images_dir = strdup(images_dir);
	if (!c->images_dir) {
		free(c);
		return -ENOMEM;
	}
	c->memory_read = opts->memory_strings;
	r = oc_imgdir_open(images_dir, false, &dir);
	if (r >= 0)
		r = load(&l, c, dir);
	if (r >= 0)
		r = load_stats(stats_path, c);
	free(l.memfds);
	oc_imgset_fini(&l.set);
	if (dir)
		oc_imgdir_close(dir);
	if (r < 0) {
		oc_ckpt_free(c);
		return r;
	}
	*ret_ckpt = c;
	return 0;
}

const struct oc_ckpt_task *oc_ckpt_find_task(const struct oc_ckpt *c, pid_t pid)
{
	for (size_t i = 0; i < c->n_tasks; i++)
		if (c->tasks[i].pid == pid)
			return &c->tasks[i];
	return NULL;
}

void oc_ckpt_free(struct oc_ckpt *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_tasks; i++) {
		struct oc_ckpt_task *t = &c->tasks[i];
		free(t->threads);
		free(t->comm);
		free(t->exe);
		free(t->cwd);
		free(t->root);
		free(t->pm.runs);
		oc_strv_free(t->argv);
		oc_strv_free(t->env);
		free(t->argv_error);
		free(t->env_error);
		for (size_t j = 0; j < t->n_fds; j++)
			free(t->fds[j].path);
		free(t->fds);
		for (size_t j = 0; j < t->n_socks; j++) {
			free(t->socks[j].local);
			free(t->socks[j].remote);
		}
		free(t->socks);
	}
	free(c->tasks);
	for (size_t i = 0; i < c->n_mounts; i++) {
		free(c->mounts[i].mountpoint);
		free(c->mounts[i].fstype);
		free(c->mounts[i].source);
		free(c->mounts[i].options);
	}
	free(c->mounts);
	free(c->hostname);
	free(c->images_dir);
	free(c);
}

/* ---- what an archive's reader needs to know of the images ---------------- */

/* Images oc_ckpt_load() reads. */
static const enum oc_img_kind read_images[] = {
	OC_IMG_INVENTORY, OC_IMG_PSTREE, OC_IMG_CORE,	  OC_IMG_IDS,	      OC_IMG_MM,
	OC_IMG_PAGEMAP,	  OC_IMG_PAGES,	 OC_IMG_FS,	  OC_IMG_FDINFO,      OC_IMG_FILES,
	OC_IMG_MNTS,	  OC_IMG_UTSNS,	 OC_IMG_TTY_INFO, OC_IMG_MEMFD_INODE, OC_IMG_STATS_DUMP,
};

enum oc_image_role oc_image_role(const char *name)
{
	const struct oc_img_desc *d = oc_img_desc_by_filename(name);

	if (!d)
		return OC_IMAGE_NONE;
	switch (d->kind) {
	case OC_IMG_PAGES:
		return OC_IMAGE_PAGES;
	case OC_IMG_MM:
		return OC_IMAGE_MM;
	case OC_IMG_PAGEMAP:
		return OC_IMAGE_PAGEMAP;
	case OC_IMG_SHMEM_PAGEMAP:
		return OC_IMAGE_SHMEM_PM;
	default:
		for (size_t i = 0; i < ARRAY_SIZE(read_images); i++)
			if (d->kind == read_images[i])
				return OC_IMAGE_READ;
		return OC_IMAGE_UNREAD;
	}
}

int oc_image_mm_strings(const char *path, uint64_t ret_bounds[2][2])
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	_cleanup_msg_ MmEntry *mm = NULL;
	int r = oc_img_open_file(path, &img);

	if (r < 0)
		return r;
	r = oc_img_read_entry(img, &mm_entry__descriptor, (ProtobufCMessage **)&mm);
	if (r <= 0)
		return r < 0 ? r : oc_error(-EINVAL, "%s: no entry", path);
	ret_bounds[0][0] = mm->mm_arg_start;
	ret_bounds[0][1] = mm->mm_arg_end;
	ret_bounds[1][0] = mm->mm_env_start;
	ret_bounds[1][1] = mm->mm_env_end;
	return 0;
}

int oc_image_pagemap_runs(const char *path, const char *what, uint32_t *ret_pages_id, struct oc_pm_run **ret_runs,
			  size_t *ret_n, uint64_t *ret_present)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	_cleanup_msg_ PagemapHead *head = NULL;
	PagemapEntry **pes = NULL;
	ProtobufCMessage *m;
	size_t n = 0;
	int r = oc_img_open_file(path, &img);

	if (r < 0)
		return r;
	r = oc_img_read_entry(img, &pagemap_head__descriptor, (ProtobufCMessage **)&head);
	if (r <= 0)
		return r < 0 ? r : oc_error(-EINVAL, "%s: no head", what);
	while ((r = oc_img_read_entry(img, &pagemap_entry__descriptor, &m)) > 0) {
		PagemapEntry **np = realloc(pes, (n + 1) * sizeof(*np));
		if (!np) {
			protobuf_c_message_free_unpacked(m, NULL);
			r = -ENOMEM;
			break;
		}
		pes = np;
		pes[n++] = (PagemapEntry *)m;
	}
	if (r == 0)
		r = oc_pagemap_build(pes, n, what, ret_runs, ret_n, ret_present);
	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(&pes[i]->base, NULL);
	free(pes);
	if (r == 0)
		*ret_pages_id = head->pages_id;
	return r;
}
