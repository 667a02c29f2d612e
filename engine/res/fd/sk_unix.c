// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unix sockets: stream, datagram and seqpacket; socket pairs, bound and
 * listening sockets (path or abstract names), connections inside the tree,
 * accepted or still waiting in a listener's queue, and the bytes queued on
 * every socket.  One unix_sk_entry per socket in files.img, as CRIU writes
 * it (peer is the inode of the other end; an unaccepted connection names
 * its listener), and sk-queues.img for the queued data.
 *
 * Dump asks the kernel (NETLINK_SOCK_DIAG) for every unix socket once:
 * peers, names, states, queue sizes, and each listener's waiting
 * connections.  A socket whose other end is outside the tree and other
 * families fail the dump.  The queued data is read with MSG_PEEK and
 * SO_PEEK_OFF on our copy of the fd, so it stays where it is; the socket's
 * own peek offset is put back.  Files passed with SCM_RIGHTS and not yet
 * received come with the peek: each is dumped as a file entry of its kind
 * (without an fd) that the message's scm_entry names, as CRIU does, and
 * restore sends them with the message again.  A unix socket whose only
 * reference is in flight belongs to the tree: when a peer is not held, the
 * queues are walked for such sockets.  (A stream peek glues the
 * bytes written before a write with files to it: they come back with the
 * files, as with CRIU.)
 *
 * Restore makes every unix socket of the image at once, in the coordinator,
 * when the first is opened (the tree inherits them):
 *
 *   1. listeners: bound (a stale socket file at the path is replaced) and
 *      listening;
 *   2. the rest, made and bound.  A connected stream pair whose end bears a
 *      listener's name is made the way it was: the other end connects to
 *      that listener (a stand-in one if it is gone) and the named end is
 *      what accept() returns, so both names read back as before.  Other
 *      pairs are socketpair()s, each end then bound to its own name.  A
 *      socket whose peer closed is made as half of a pair whose other half
 *      sends its queue and closes;
 *   3. datagram sockets connected one way are connected to their peer;
 *   4. unaccepted connections connect to their listener, in file order,
 *      after every accepted one;
 *   5. queued data is sent into each socket by its peer (or a stand-in),
 *      with the files it passes, opened here if no task holds them;
 *   6. shutdown state, socket options and file flags; stand-ins close, and
 *      names that were unlinked at dump time are unlinked again.
 *
 * Not kept: the sender address of a queued datagram (CRIU's image has no
 * room for it) and peer credentials (SO_PEERCRED reads the restorer's).
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/unix_diag.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "res/fd/sk_opts.h"
#include "res/net/sk_diag.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "sk-opts.pb-c.h"
#include "sk-packet.pb-c.h"
#include "sk-unix.pb-c.h"

/* CRIU's unix_sk_entry.uflags (criu/sk-unix.c). */
#define USK_EXTERN   (1 << 0)
#define USK_SERVICE  (1 << 1)
#define USK_CALLBACK (1 << 2)
#define USK_INHERIT  (1 << 3)

/* TCP-style states the kernel gives unix sockets. */
#define SK_ESTABLISHED 1
#define SK_CLOSE       7
#define SK_LISTEN      10

/* sk_shutdown bits (RCV_SHUTDOWN, SEND_SHUTDOWN), as sk_shutdown READ, WRITE */
#define SK_SHUT_RD   1
#define SK_SHUT_BOTH 3

#ifndef SIOCUNIXFILE
#define SIOCUNIXFILE (SIOCPROTOPRIVATE + 0) /* the bound node, opened O_PATH */
#endif

#define DELETED_SUFFIX " (deleted)"
#define PEEK_CHUNK     (256u << 10)

static const char *type_name(unsigned type)
{
	switch (type) {
	case SOCK_STREAM:
		return "stream";
	case SOCK_DGRAM:
		return "datagram";
	case SOCK_SEQPACKET:
		return "seqpacket";
	default:
		return "unknown";
	}
}

/* A name for messages: "@abstract", "/path" or "unnamed". */
static const char *name_str(const uint8_t *name, size_t len, char *buf, size_t size)
{
	if (!len)
		return "unnamed";
	if (name[0] == '\0')
		snprintf(buf, size, "@%.*s", (int)len - 1, (const char *)name + 1);
	else
		snprintf(buf, size, "%.*s", (int)strnlen((const char *)name, len), (const char *)name);
	return buf;
}

/* ---- dump: what the kernel says of every unix socket ------------------- */

struct sk_diag {
	uint32_t ino;
	uint32_t peer;	 /* inode of the other end, 0 if none */
	uint32_t rqlen;	 /* listener: waiting connections; else queued bytes */
	uint32_t wqlen;	 /* listener: backlog; else bytes not yet read by the peer */
	uint32_t *icons; /* listener: the client socket of each waiting connection */
	uint32_t n_icons;
	uint8_t type, state, shutdown;
	uint8_t *name; /* sun_path bytes; an abstract name starts with NUL */
	uint32_t namelen;
};

struct oc_unix_dump {
	struct sk_diag *sks; /* sorted by inode */
	size_t n;
	uint32_t *held; /* inodes of the sockets the tree holds, sorted */
	size_t n_held;
	uint32_t *in_flight; /* and of those only in flight on their queues */
	size_t n_in_flight;
	bool scanned;	     /* in_flight is known */
	uint32_t dumping[8]; /* the sockets being dumped, outermost first */
	size_t n_dumping;
	uint32_t *external; /* outside peers given an entry (--ext-unix-sk) */
	size_t n_external;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_diag(const void *a, const void *b)
{
	return cmp_u32(&((const struct sk_diag *)a)->ino, &((const struct sk_diag *)b)->ino);
}

static const struct sk_diag *find_diag(const struct oc_unix_dump *u, uint32_t ino)
{
	struct sk_diag key = { .ino = ino };
	return ino ? bsearch(&key, u->sks, u->n, sizeof(*u->sks), cmp_diag) : NULL;
}

static bool in_list(const uint32_t *list, size_t n, uint32_t ino)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == ino)
			return true;
	return false;
}

/* Held in an fd by a task of the tree, or in flight to one. */
static bool held(const struct oc_unix_dump *u, uint32_t ino)
{
	return ino && (bsearch(&ino, u->held, u->n_held, sizeof(*u->held), cmp_u32) ||
		       in_list(u->in_flight, u->n_in_flight, ino));
}

/* The listener a waiting connection from client @ino is queued on. */
static const struct sk_diag *listener_of(const struct oc_unix_dump *u, uint32_t ino)
{
	for (size_t i = 0; i < u->n; i++)
		for (uint32_t j = 0; j < u->sks[i].n_icons; j++)
			if (u->sks[i].state == SK_LISTEN && u->sks[i].icons[j] == ino)
				return &u->sks[i];
	return NULL;
}

static int parse_diag(struct oc_arena *a, const struct nlmsghdr *h, struct sk_diag *d)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));

	if (len < 0)
		return oc_error(-EIO, "sock_diag: short message");
	*d = (struct sk_diag){ .ino = m->udiag_ino, .type = m->udiag_type, .state = m->udiag_state };
	for (struct rtattr *at = (struct rtattr *)(m + 1); RTA_OK(at, len); at = RTA_NEXT(at, len)) {
		void *data = RTA_DATA(at);
		size_t n = RTA_PAYLOAD(at);
		switch (at->rta_type) {
		case UNIX_DIAG_NAME:
			d->name = oc_arena_memdup(a, data, n ? n : 1);
			d->namelen = n;
			if (!d->name)
				return -ENOMEM;
			break;
		case UNIX_DIAG_PEER:
			if (n >= sizeof(uint32_t))
				memcpy(&d->peer, data, sizeof(uint32_t));
			break;
		case UNIX_DIAG_ICONS:
			d->n_icons = n / sizeof(uint32_t);
			d->icons = oc_arena_memdup(a, data, n ? n : 1);
			if (!d->icons)
				return -ENOMEM;
			break;
		case UNIX_DIAG_RQLEN:
			if (n >= sizeof(struct unix_diag_rqlen)) {
				const struct unix_diag_rqlen *q = data;
				d->rqlen = q->udiag_rqueue;
				d->wqlen = q->udiag_wqueue;
			}
			break;
		case UNIX_DIAG_SHUTDOWN:
			if (n >= 1)
				d->shutdown = *(uint8_t *)data;
			break;
		}
	}
	return 0;
}

/* Every unix socket of our network namespace. */
/* Every unix socket of the network namespace of socket @sk (a tree's own
 * is not ocicr's), sorted by inode. */
static int read_diag(struct oc_arena *a, int sk, struct sk_diag **ret, size_t *ret_n)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = {
		.h = { .nlmsg_len = sizeof(req),
		       .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		       .nlmsg_seq = 1 },
		.r = { .sdiag_family = AF_UNIX,
		       .udiag_states = -1,
		       .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN },
	};
	_cleanup_close_ int nl = -1;
	_cleanup_free_ struct sk_diag *sks = NULL;
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, cap = 0;
	const size_t buf_len = 64 << 10;
	int r;

	nl = oc_sk_diag_socket(sk);
	if (nl < 0)
		return nl;
	if (send(nl, &req, sizeof(req), 0) != sizeof(req))
		return oc_error_errno(-errno, "sock_diag: cannot ask for the unix sockets");
	buf = malloc(buf_len);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t got = recv(nl, buf, buf_len, 0);
		if (got < 0)
			return oc_error_errno(-errno, "sock_diag: cannot read the unix sockets");
		if (got == 0)
			return oc_error(-EIO, "sock_diag: the answer ended early");
		int left = got;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_DONE)
				goto done;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				return oc_error(e->error ? e->error : -EIO, "sock_diag: %s (is unix_diag loaded?)",
						strerror(-e->error));
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				struct sk_diag *ns = realloc(sks, cap * sizeof(*ns));
				if (!ns)
					return -ENOMEM;
				sks = ns;
			}
			r = parse_diag(a, h, &sks[n]);
			if (r < 0)
				return r;
			n++;
		}
	}
done:
	*ret = NULL;
	*ret_n = n;
	if (!n)
		return 0;
	qsort(sks, n, sizeof(*sks), cmp_diag);
	*ret = oc_arena_memdup(a, sks, n * sizeof(*sks));
	return *ret ? 0 : -ENOMEM;
}

static int scan_in_flight(struct oc_dump_ctx *ctx, struct oc_unix_dump *u, int pidfd, int num, uint32_t ino);

/*
 * The inodes of every socket some task of the tree holds in an fd; with
 * @scan, also of the unix sockets in flight on their queues (at any depth).
 */
static int read_held(struct oc_dump_ctx *ctx, struct oc_unix_dump *u, bool scan)
{
	_cleanup_free_ uint32_t *inos = NULL;
	size_t n = 0, cap = 0;
	int r;

	for (size_t i = 0; i < ctx->n_tasks; i++) {
		char path[64], link[64];
		_cleanup_closedir_ DIR *d = NULL;
		struct dirent *de;

		if (ctx->tasks[i].seized->state == OC_TASK_DEAD)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", ctx->tasks[i].pid);
		d = opendir(path);
		if (!d)
			return oc_error_errno(-errno, "cannot list %s", path);
		while ((de = readdir(d))) {
			unsigned ino;
			ssize_t len = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
			if (len <= 0)
				continue;
			link[len] = '\0';
			if (sscanf(link, "socket:[%u]", &ino) != 1)
				continue;
			if (scan && !in_list(inos, n, ino)) {
				r = scan_in_flight(ctx, u, ctx->tasks[i].pidfd, atoi(de->d_name), ino);
				if (r < 0)
					return r;
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				uint32_t *ni = realloc(inos, cap * sizeof(*ni));
				if (!ni)
					return -ENOMEM;
				inos = ni;
			}
			inos[n++] = ino;
		}
	}
	qsort(inos, n, sizeof(*inos), cmp_u32);
	u->held = oc_arena_memdup(ctx->arena, inos, n ? n * sizeof(*inos) : 1);
	if (!u->held)
		return -ENOMEM;
	u->n_held = n;
	return 0;
}

/* The unix sockets of the network namespace of @sk, the first one
 * dumped: the tree's. */
static int unix_state(struct oc_dump_ctx *ctx, int sk, struct oc_unix_dump **ret)
{
	int r;

	if (!ctx->unix_sk) {
		struct oc_unix_dump *u = oc_arena_alloc(ctx->arena, sizeof(*u));
		if (!u)
			return -ENOMEM;
		r = read_diag(ctx->arena, sk, &u->sks, &u->n);
		if (r < 0)
			return r;
		r = read_held(ctx, u, false);
		if (r < 0)
			return r;
		ctx->unix_sk = u;
	}
	*ret = ctx->unix_sk;
	return 0;
}

/* ---- dump: one socket ------------------------------------------------- */

static bool unix_match(const struct oc_dump_fd *fd)
{
	return S_ISSOCK(fd->st.st_mode) && oc_sk_domain(fd->local) == AF_UNIX;
}

static int getint(int sk, int opt, int *val)
{
	socklen_t len = sizeof(*val);

	*val = 0;
	return getsockopt(sk, SOL_SOCKET, opt, val, &len) < 0 ? -errno : 0;
}

/* The fds of an SCM_RIGHTS control message, or NULL for another kind. */
static int *rights_of(struct cmsghdr *c, size_t *ret_n)
{
	if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return NULL;
	*ret_n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	return (int *)CMSG_DATA(c);
}

/* The SCM_RIGHTS control message after @c (the first if NULL), its fds. */
static struct cmsghdr *next_rights(struct msghdr *msg, struct cmsghdr *c, int **ret_fds, size_t *ret_n)
{
	for (c = c ? CMSG_NXTHDR(msg, c) : CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c))
		if ((*ret_fds = rights_of(c, ret_n)))
			return c;
	return NULL;
}

/* Close the fds of SCM_RIGHTS messages from @c on, in our table by the peek. */
static void close_rights(struct msghdr *msg, struct cmsghdr *c)
{
	for (; c; c = CMSG_NXTHDR(msg, c)) {
		size_t n;
		int *fds = rights_of(c, &n);
		if (!fds)
			continue;
		for (size_t i = 0; i < n; i++)
			if (fds[i] >= 0)
				close(fds[i]);
	}
}

/*
 * The files a peeked message passes (SCM_RIGHTS), which the peek put in
 * our table: each gets its file entry, and the message an scm_entry
 * naming them in order.  The fds are taken.
 */
static int dump_rights(struct oc_dump_task *t, struct msghdr *msg, SkPacketEntry *pe)
{
	struct oc_arena *a = t->ctx->arena;
	size_t n;
	int *fds, r = 0;

	for (struct cmsghdr *c = NULL; (c = next_rights(msg, c, &fds, &n));) {
		ScmEntry *se = OC_ARENA_MSG(a, ScmEntry, SCM_ENTRY__INIT);
		ScmEntry **scm = oc_arena_alloc(a, (pe->n_scm + 1) * sizeof(*scm));
		uint32_t *rights = oc_arena_alloc(a, (n ? n : 1) * sizeof(*rights));
		if (!se || !scm || !rights) {
			close_rights(msg, c);
			return -ENOMEM;
		}
		se->type = SCM_RIGHTS;
		se->rights = rights;
		for (size_t i = 0; i < n; i++) {
			if (r < 0) {
				close(fds[i]);
				continue;
			}
			r = oc_dump_inflight_file(t, fds[i], &se->rights[i]);
		}
		if (r < 0) {
			close_rights(msg, CMSG_NXTHDR(msg, c));
			return r;
		}
		se->n_rights = n;
		memcpy(scm, pe->scm, pe->n_scm * sizeof(*scm));
		scm[pe->n_scm++] = se;
		pe->scm = scm;
	}
	return 0;
}

/* What to do with each queued message: its files are in our table, taken. */
typedef int (*queued_fn)(void *arg, struct msghdr *msg, const uint8_t *data, size_t len);

/*
 * Hand every message waiting on @sk to @fn in order, peeking from
 * offset 0 upwards.  A datagram longer than the buffer is peeked again,
 * from its own offset, into a larger one.  A peeked empty message is
 * skipped by the next peek, so empty datagrams are kept; but a seqpacket
 * socket shut for reading answers every peek past its queue with 0 too
 * (end of file), so there 0 ends the queue, as it does for a stream.
 */
static int peek_queue(int sk, const struct sk_diag *d, queued_fn fn, void *arg)
{
	bool stream = d->type == SOCK_STREAM;
	bool zero_ends = stream || (d->type == SOCK_SEQPACKET && (d->shutdown & SK_SHUT_RD));
	size_t cap = PEEK_CHUNK;
	_cleanup_free_ uint8_t *buf = malloc(cap);
	int off = 0;
	int r;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int) * 253) + CMSG_SPACE(sizeof(struct ucred)) + 256];
		} cbuf;
		struct iovec iov = { buf, cap };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &cbuf, .msg_controllen = sizeof(cbuf)
		};
		int flags = MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC | (stream ? 0 : MSG_TRUNC);
		ssize_t n = recvmsg(sk, &msg, flags);

		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return oc_error_errno(-errno, "cannot read the queued data");
		if (msg.msg_flags & MSG_CTRUNC) {
			close_rights(&msg, CMSG_FIRSTHDR(&msg));
			return oc_error(-EOPNOTSUPP, "a queued message carries ancillary data ocicr cannot dump");
		}
		if (zero_ends && n == 0) {
			close_rights(&msg, CMSG_FIRSTHDR(&msg));
			return 0; /* shut down for reading: end of the queue */
		}
		if (!stream && (size_t)n > cap) {
			/* Truncated: peek this message again, whole. */
			close_rights(&msg, CMSG_FIRSTHDR(&msg));
			uint8_t *nb = realloc(buf, n);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap = n;
			if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)) < 0)
				return oc_error_errno(-errno, "SO_PEEK_OFF");
			continue;
		}

		r = fn(arg, &msg, buf, n);
		if (r < 0)
			return r;
		off += n;
	}
}

/* peek_queue(), the socket's own peek offset kept. */
static int walk_queue(int sk, const struct sk_diag *d, queued_fn fn, void *arg)
{
	int orig = -1, zero = 0, r;

	if (getint(sk, SO_PEEK_OFF, &orig) < 0)
		return oc_error_errno(-errno, "SO_PEEK_OFF");
	if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) < 0)
		return oc_error_errno(-errno, "SO_PEEK_OFF");
	r = peek_queue(sk, d, fn, arg);
	/* The task's own peek offset, as it was. */
	if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &orig, sizeof(orig)) < 0 && r >= 0)
		r = oc_error_errno(-errno, "cannot put the peek offset back");
	return r;
}

struct queue_dump {
	struct oc_dump_task *t;
	uint32_t id;
};

/* A queued message into sk-queues.img, with the files it passes. */
static int dump_message(void *arg, struct msghdr *msg, const uint8_t *data, size_t len)
{
	struct queue_dump *q = arg;
	struct oc_dump_ctx *ctx = q->t->ctx;
	SkPacketEntry *pe = OC_ARENA_MSG(ctx->arena, SkPacketEntry, SK_PACKET_ENTRY__INIT);
	int r;

	if (!pe) {
		close_rights(msg, CMSG_FIRSTHDR(msg));
		return -ENOMEM;
	}
	pe->id_for = q->id;
	pe->length = len;
	r = dump_rights(q->t, msg, pe);
	if (r < 0)
		return oc_error_wrap(r, "a message of %zu bytes queued with file descriptors", len);
	return oc_dump_queue(ctx, OC_IMG_SK_QUEUES, &pe->base, data);
}

static int dump_queue(struct oc_dump_task *t, int sk, uint32_t id, const struct sk_diag *d)
{
	struct queue_dump q = { t, id };

	return walk_queue(sk, d, dump_message, &q);
}

/* ---- dump: unix sockets in flight -------------------------------------- */

struct flight_scan {
	struct oc_unix_dump *u;
	uint32_t *seen; /* sockets whose queues were walked */
	size_t n_seen;
	uint32_t *found; /* unix sockets met in flight */
	size_t n_found;
};

static int add_ino(uint32_t **list, size_t *n, uint32_t ino)
{
	uint32_t *l = realloc(*list, (*n + 1) * sizeof(*l));

	if (!l)
		return -ENOMEM;
	l[(*n)++] = ino;
	*list = l;
	return 0;
}

/* Could the socket have a queue of messages to walk? */
static bool has_message_queue(const struct sk_diag *d)
{
	return d->state != SK_LISTEN && (d->type == SOCK_DGRAM || d->state == SK_ESTABLISHED);
}

static int scan_queue(struct flight_scan *sc, int sk, uint32_t ino);

/* The unix sockets a message passes: noted, and their queues walked. */
static int scan_message(void *arg, struct msghdr *msg, const uint8_t *data, size_t len)
{
	struct flight_scan *sc = arg;
	size_t n;
	int *fds, r = 0;

	for (struct cmsghdr *c = NULL; (c = next_rights(msg, c, &fds, &n));) {
		for (size_t i = 0; i < n; i++) {
			struct stat st;
			if (r >= 0 && fstat(fds[i], &st) == 0 && S_ISSOCK(st.st_mode) &&
			    oc_sk_domain(fds[i]) == AF_UNIX && !in_list(sc->found, sc->n_found, st.st_ino)) {
				r = add_ino(&sc->found, &sc->n_found, st.st_ino);
				if (r >= 0)
					r = scan_queue(sc, fds[i], st.st_ino);
			}
			close(fds[i]);
		}
	}
	return r;
}

static int scan_queue(struct flight_scan *sc, int sk, uint32_t ino)
{
	const struct sk_diag *d = find_diag(sc->u, ino);
	int r;

	if (!d || !has_message_queue(d) || in_list(sc->seen, sc->n_seen, ino))
		return 0;
	r = add_ino(&sc->seen, &sc->n_seen, ino);
	return r < 0 ? r : walk_queue(sk, d, scan_message, sc);
}

/*
 * Walk the queue of socket @ino, fd @num of the task of @pidfd, for unix
 * sockets in flight: they belong to the tree too (their peers may be
 * held), though no task holds them.
 */
static int scan_in_flight(struct oc_dump_ctx *ctx, struct oc_unix_dump *u, int pidfd, int num, uint32_t ino)
{
	struct flight_scan sc = { .u = u };
	const struct sk_diag *d = find_diag(u, ino);
	int r;

	if (!d || !has_message_queue(d) || pidfd < 0)
		return 0;
	int sk = syscall(SYS_pidfd_getfd, pidfd, num, 0);
	if (sk < 0)
		return oc_error_errno(-errno, "cannot get a copy of fd %d (unix socket %u)", num, ino);
	r = scan_queue(&sc, sk, ino);
	close(sk);
	for (size_t i = 0; r >= 0 && i < sc.n_found; i++)
		if (!in_list(u->in_flight, u->n_in_flight, sc.found[i])) {
			uint32_t *l = oc_arena_alloc(ctx->arena, (u->n_in_flight + 1) * sizeof(*l));
			if (!l) {
				r = -ENOMEM;
				break;
			}
			memcpy(l, u->in_flight, u->n_in_flight * sizeof(*l));
			l[u->n_in_flight++] = sc.found[i];
			u->in_flight = l;
		}
	free(sc.seen);
	free(sc.found);
	return r < 0 ? oc_error_wrap(r, "looking for unix sockets in flight") : 0;
}

/* For a name in the filesystem: its mode and owner, whether it was
 * unlinked, and the directory a relative name is in. */
static int resolve_name(struct oc_dump_ctx *ctx, int sk, const struct sk_diag *d, UnixSkEntry *ue)
{
	_cleanup_close_ int node = -1;
	char proc[64], path[PATH_MAX];
	struct stat st;

	if (!d->namelen || d->name[0] == '\0')
		return 0;
	node = ioctl(sk, SIOCUNIXFILE);
	if (node < 0)
		return oc_error_errno(-errno, "cannot reach the file the socket is bound to");
	if (fstat(node, &st) < 0)
		return oc_error_errno(-errno, "cannot stat the file the socket is bound to");
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", node);
	ssize_t len = readlink(proc, path, sizeof(path) - 1);
	if (len < 0)
		return oc_error_errno(-errno, "cannot read the path the socket is bound to");
	path[len] = '\0';

	FilePermsEntry *fp = OC_ARENA_MSG(ctx->arena, FilePermsEntry, FILE_PERMS_ENTRY__INIT);
	if (!fp)
		return -ENOMEM;
	fp->mode = st.st_mode;
	fp->uid = oc_dump_uid(ctx, st.st_uid);
	fp->gid = oc_dump_gid(ctx, st.st_gid);
	ue->file_perms = fp;

	size_t slen = strlen(DELETED_SUFFIX);
	if ((size_t)len > slen && !strcmp(path + len - slen, DELETED_SUFFIX)) {
		path[len -= slen] = '\0';
		ue->has_deleted = ue->deleted = true;
	}
	if (d->name[0] != '/') {
		/* A relative name: the directory is the path less the name. */
		size_t nlen = strnlen((const char *)d->name, d->namelen);
		if ((size_t)len <= nlen || strcmp(path + len - nlen, (const char *)d->name) ||
		    path[len - nlen - 1] != '/')
			return oc_error(-EOPNOTSUPP, "cannot tell which directory the relative name %.*s is in",
					(int)nlen, (const char *)d->name);
		path[len - nlen - (len - nlen > 1)] = '\0';
		ue->name_dir = oc_arena_strdup(ctx->arena, path);
		if (!ue->name_dir)
			return -ENOMEM;
	}
	return 0;
}

/*
 * --ext-unix-sk: the named datagram socket @p outside the tree, which a
 * socket of the tree is connected to, gets an entry of its own (once),
 * marked external: the restore connects to its name again.
 */
static int add_external_peer(struct oc_dump_ctx *ctx, struct oc_unix_dump *u, const struct sk_diag *p)
{
	struct oc_arena *a = ctx->arena;
	char nb[128];

	for (size_t i = 0; i < u->n_external; i++)
		if (u->external[i] == p->ino)
			return 0;
	if (!p->namelen || (p->name[0] != '/' && p->name[0] != '\0'))
		return oc_error(-EOPNOTSUPP, "connected to a socket outside the tree by the relative name %s",
				name_str(p->name, p->namelen, nb, sizeof(nb)));
	FileEntry *fe = OC_ARENA_MSG(a, FileEntry, FILE_ENTRY__INIT);
	UnixSkEntry *ue = OC_ARENA_MSG(a, UnixSkEntry, UNIX_SK_ENTRY__INIT);
	FownEntry *fown = OC_ARENA_MSG(a, FownEntry, FOWN_ENTRY__INIT);
	SkOptsEntry *opts = OC_ARENA_MSG(a, SkOptsEntry, SK_OPTS_ENTRY__INIT);
	uint32_t *ext = oc_arena_alloc(a, (u->n_external + 1) * sizeof(*ext));
	if (!fe || !ue || !fown || !opts || !ext)
		return -ENOMEM;
	ue->id = oc_dump_new_file_id(ctx);
	ue->ino = p->ino;
	ue->type = p->type;
	ue->state = p->state;
	ue->uflags = USK_EXTERN;
	ue->name.data = p->name;
	ue->name.len = p->namelen;
	ue->fown = fown;
	ue->opts = opts;
	fe->type = FD_TYPES__UNIXSK;
	fe->id = ue->id;
	fe->usk = ue;
	int r = oc_dump_add_file(ctx, fe);
	if (r < 0)
		return r;
	memcpy(ext, u->external, u->n_external * sizeof(*ext));
	ext[u->n_external++] = p->ino;
	u->external = ext;
	return 0;
}

/*
 * Is socket @ino held, or in flight to the tree?  The queues are walked for
 * sockets in flight only when a peer is not held: a walk marks the empty
 * datagrams it peeks, and the next walk (the dump's) would skip them.
 */
static int held_or_in_flight(struct oc_dump_ctx *ctx, struct oc_unix_dump *u, uint32_t ino, bool *ret)
{
	*ret = held(u, ino);
	if (*ret || u->scanned)
		return 0;
	u->scanned = true;
	int r = read_held(ctx, u, true);
	*ret = held(u, ino);
	return r;
}

/* Where the other end is; a connection the tree cannot take along fails. */
static int check_peer(struct oc_dump_ctx *ctx, struct oc_unix_dump *u, const struct sk_diag *d, UnixSkEntry *ue)
{
	const struct sk_diag *p = find_diag(u, d->peer);
	bool peer_held = false;
	char nb[128];
	int r;

	if (p && (r = held_or_in_flight(ctx, u, p->ino, &peer_held)) < 0)
		return r;

	if (d->state == SK_LISTEN) {
		for (uint32_t i = 0; i < d->n_icons; i++) {
			if (!d->icons[i])
				return oc_error(-EOPNOTSUPP, "a listener with a waiting connection whose client is "
							     "closed");
			if (!held(u, d->icons[i]))
				return oc_error(-EOPNOTSUPP,
						"a listener with a waiting connection from a socket "
						"outside the dumped tree (inode %u)",
						d->icons[i]);
		}
		ue->peer = 0;
		return 0;
	}
	if (p && !peer_held && d->type == SOCK_DGRAM && ctx->opts->ext_unix_sk) {
		ue->peer = p->ino;
		return add_external_peer(ctx, u, p);
	}
	if (p) {
		if (!peer_held)
			return oc_error(-EOPNOTSUPP,
					"a %s socket connected to one outside the dumped tree (inode "
					"%u, %s)%s",
					type_name(d->type), p->ino, name_str(p->name, p->namelen, nb, sizeof(nb)),
					d->type == SOCK_DGRAM ? ": dump with --ext-unix-sk to connect to it again"
							      : "");
		if (p->peer != d->ino && (d->type != SOCK_DGRAM || !p->namelen))
			return oc_error(-EOPNOTSUPP,
					"connected to socket %u, which is connected elsewhere and "
					"has no name to reach it by",
					p->ino);
		ue->peer = p->ino;
		return 0;
	}
	/* No live peer: closed, or a connection still waiting to be accepted. */
	ue->peer = 0;
	if (d->state != SK_ESTABLISHED || d->type == SOCK_DGRAM)
		return 0;
	const struct sk_diag *l = listener_of(u, d->ino);
	if (l) {
		if (!held(u, l->ino))
			return oc_error(-EOPNOTSUPP,
					"a connection waiting on a listener outside the dumped tree "
					"(%s)",
					name_str(l->name, l->namelen, nb, sizeof(nb)));
		if (d->wqlen)
			return oc_error(-EOPNOTSUPP,
					"%u bytes were sent on a connection not yet accepted; "
					"ocicr cannot reach them",
					d->wqlen);
		ue->peer = l->ino;
		return 0;
	}
	if (d->shutdown != SK_SHUT_BOTH)
		return oc_error(-EOPNOTSUPP, "a connected %s socket without a peer", type_name(d->type));
	return 0;
}

static int unix_dump_one(struct oc_dump_task *t, struct oc_dump_fd *fd, struct oc_unix_dump *u, const struct sk_diag *d,
			 uint32_t *ret_id)
{
	struct oc_dump_ctx *ctx = t->ctx;
	struct oc_arena *a = ctx->arena;
	int r;

	if (d->type != SOCK_STREAM && d->type != SOCK_DGRAM && d->type != SOCK_SEQPACKET)
		return oc_error(-EOPNOTSUPP, "a unix socket of type %u", d->type);
	if (d->state != SK_ESTABLISHED && d->state != SK_CLOSE && d->state != SK_LISTEN)
		return oc_error(-EOPNOTSUPP, "a unix socket in state %u", d->state);

	FileEntry *fe = OC_ARENA_MSG(a, FileEntry, FILE_ENTRY__INIT);
	UnixSkEntry *ue = OC_ARENA_MSG(a, UnixSkEntry, UNIX_SK_ENTRY__INIT);
	if (!fe || !ue)
		return -ENOMEM;
	ue->id = oc_dump_new_file_id(ctx);
	ue->ino = d->ino;
	ue->type = d->type;
	ue->state = d->state;
	ue->flags = fd->info.flags & ~O_CLOEXEC;
	ue->backlog = d->wqlen;
	ue->name.data = d->name;
	ue->name.len = d->namelen;
	ue->has_shutdown = true;
	ue->shutdown = d->shutdown & SK_SHUT_BOTH;
	r = check_peer(ctx, u, d, ue);
	if (r < 0)
		return r;
	r = resolve_name(ctx, fd->local, d, ue);
	if (r < 0)
		return r;
	r = oc_dump_fown(t->ctx, fd->local, &ue->fown);
	if (r < 0)
		return r;
	r = oc_sk_dump_opts(a, fd->local, true, &ue->opts);
	if (r < 0)
		return r;
	/* Only a connected stream socket has a queue to read. */
	if (d->type == SOCK_DGRAM || d->state == SK_ESTABLISHED) {
		r = dump_queue(t, fd->local, ue->id, d);
		if (r < 0)
			return r;
	}

	fe->type = FD_TYPES__UNIXSK;
	fe->id = ue->id;
	fe->usk = ue;
	r = oc_dump_add_file(ctx, fe);
	if (r < 0)
		return r;
	*ret_id = fe->id;
	return 0;
}

static int unix_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	struct oc_unix_dump *u;
	int r;

	r = unix_state(t->ctx, fd->local, &u);
	if (r < 0)
		return r;
	const struct sk_diag *d = find_diag(u, fd->st.st_ino);
	if (!d)
		return oc_error(-EOPNOTSUPP, "the kernel does not list this unix socket (another network "
					     "namespace?)");
	/* Its queue may pass files, unix sockets among them, which are
	 * dumped from within: not itself, nor too deep. */
	if (in_list(u->dumping, u->n_dumping, d->ino))
		return oc_error(-EOPNOTSUPP,
				"unix socket %u is in flight on its own queue (or on the queue of a "
				"socket in flight on it), which ocicr cannot dump",
				d->ino);
	if (u->n_dumping == ARRAY_SIZE(u->dumping))
		return oc_error(-EOPNOTSUPP, "unix sockets in flight on each other's queues %zu deep",
				ARRAY_SIZE(u->dumping));
	u->dumping[u->n_dumping++] = d->ino;
	r = unix_dump_one(t, fd, u, d, ret_id);
	u->n_dumping--;
	return r;
}

/*
 * The stages, run by the coordinator in order (each a plan step) before
 * any socket is handed out: listeners first, so that connections find
 * them; then every other socket, made and bound, pairs connected; then
 * datagram sockets connected one way, and waiting connections; then the
 * queued data; then the rest of their state.
 */
enum unix_stage {
	UNIX_LISTENERS,
	UNIX_SOCKETS,
	UNIX_DGRAM_PEERS,
	UNIX_CONNECTIONS,
	UNIX_QUEUES,
	UNIX_OPTIONS,
	_UNIX_STAGES,
};

static const char *const unix_stages[_UNIX_STAGES] = {
	[UNIX_LISTENERS] = "listeners",	       [UNIX_SOCKETS] = "sockets and pairs",
	[UNIX_DGRAM_PEERS] = "datagram peers", [UNIX_CONNECTIONS] = "waiting connections",
	[UNIX_QUEUES] = "queued data",	       [UNIX_OPTIONS] = "options and shutdowns",
};

static int unix_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd);
static int unix_run_stage(struct oc_rst_files *files, size_t stage);
static void unix_fini(struct oc_rst_files *files);

const struct oc_fd_kind oc_fd_kind_unix = {
	.name = "unix socket",
	.type = FD_TYPES__UNIXSK,
	.match = unix_match,
	.dump = unix_dump,
	.open = unix_open,
	.stages = unix_stages,
	.n_stages = _UNIX_STAGES,
	.run_stage = unix_run_stage,
	.fini = unix_fini,
	.images = { OC_IMG_SK_QUEUES },
	.n_images = 1,
};

/* ---- other socket families: refused, by name -------------------------- */

static bool socket_match(const struct oc_dump_fd *fd)
{
	return S_ISSOCK(fd->st.st_mode);
}

static int socket_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	static const char *const families[] = {
		[AF_NETLINK] = "netlink",
		[AF_PACKET] = "packet",
		[AF_VSOCK] = "vsock",
	};
	int domain = oc_sk_domain(fd->local);
	const char *name = domain >= 0 && (size_t)domain < ARRAY_SIZE(families) ? families[domain] : NULL;

	if (name)
		return oc_error(-EOPNOTSUPP,
				"a %s socket: only unix, inet (TCP, UDP, UDP-lite, ping, raw), packet and netlink "
				"sockets can be dumped",
				name);
	return oc_error(-EOPNOTSUPP,
			"a socket of family %d: only unix, inet (TCP, UDP, UDP-lite, ping, raw), packet and netlink "
			"sockets can be dumped",
			domain);
}

const struct oc_fd_kind oc_fd_kind_socket = {
	.name = "socket",
	.type = FD_TYPES__UND,
	.match = socket_match,
	.dump = socket_dump,
};

/* ---- restore ------------------------------------------------------------ */

struct rsk {
	FileEntry *fe;
	UnixSkEntry *ue;
	struct rsk *peer; /* the entry ue->peer names */
	int fd;		  /* the socket, once made */
	bool connected;	  /* to its peer already (see connect_clients_now()) */
	int stand_in;	  /* the other half of a pair whose real peer is gone */
	bool external;	  /* outside the tree (--ext-unix-sk): only its name */
};

/* A path moved aside while we use its name, and put back at the end. */
struct parked {
	char *path;
	char *aside;	/* NULL: nothing was there */
	char *made_dir; /* the outermost directory made for it, or NULL */
};

struct rst_unix {
	struct oc_rst_ctx *ctx;
	struct oc_rst_files *files;
	struct rsk *sks;
	size_t n;
	struct {
		const UnixSkEntry *named; /* a socket bearing the name */
		int fd;
	} * stand_in_listeners;
	size_t n_stand_in_listeners;
	int *temp_fds; /* closed at the end */
	size_t n_temp_fds;
	struct parked *remove; /* names to unlink at the end */
	size_t n_remove;
};

static bool is_abstract(const UnixSkEntry *ue)
{
	return ue->name.len && ue->name.data[0] == '\0';
}

static bool is_path(const UnixSkEntry *ue)
{
	return ue->name.len && ue->name.data[0] != '\0';
}

static bool same_name(const UnixSkEntry *a, const UnixSkEntry *b)
{
	return a->name.len == b->name.len && a->name.len && !memcmp(a->name.data, b->name.data, a->name.len);
}

static const char *ue_name(const UnixSkEntry *ue, char *buf, size_t size)
{
	return name_str(ue->name.data, ue->name.len, buf, size);
}

static int sk_addr(const UnixSkEntry *ue, struct sockaddr_un *sa, socklen_t *len)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (ue->name.len > sizeof(sa->sun_path))
		return oc_error(-ENAMETOOLONG, "unix socket %u: name of %zu bytes", ue->ino, ue->name.len);
	memcpy(sa->sun_path, ue->name.data, ue->name.len);
	*len = offsetof(struct sockaddr_un, sun_path) + ue->name.len;
	return 0;
}

/* The filesystem path of a bound socket, relative names made whole. */
static int full_path(const UnixSkEntry *ue, char **ret)
{
	int n = (int)strnlen((const char *)ue->name.data, ue->name.len);

	if (ue->name.data[0] != '/' && ue->name_dir)
		return asprintf(ret, "%s/%.*s", ue->name_dir, n, (const char *)ue->name.data) < 0 ? -ENOMEM : 0;
	return asprintf(ret, "%.*s", n, (const char *)ue->name.data) < 0 ? -ENOMEM : 0;
}

/* Enter the directory a relative name is in; *ret_saved returns us. */
static int enter_name_dir(const UnixSkEntry *ue, int *ret_saved)
{
	*ret_saved = -1;
	if (!is_path(ue) || ue->name.data[0] == '/' || !ue->name_dir)
		return 0;
	int saved = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (saved < 0)
		return oc_error_errno(-errno, "cannot open the working directory");
	if (chdir(ue->name_dir) < 0) {
		int r = oc_error_errno(-errno, "cannot enter %s", ue->name_dir);
		close(saved);
		return r;
	}
	*ret_saved = saved;
	return 0;
}

static void leave_name_dir(int saved)
{
	if (saved >= 0) {
		if (fchdir(saved) < 0)
			pr_warn("cannot return to the working directory: %m");
		close(saved);
	}
}

static int keep_temp(struct rst_unix *ru, int fd)
{
	int *n = realloc(ru->temp_fds, (ru->n_temp_fds + 1) * sizeof(*n));

	if (!n) {
		close(fd);
		return -ENOMEM;
	}
	ru->temp_fds = n;
	ru->temp_fds[ru->n_temp_fds++] = fd;
	return fd;
}

/*
 * Make the directories missing above @path (a name unlinked with its
 * directory since); *ret_top is the outermost one made, or NULL.
 */
static int make_parents(const char *path, char **ret_top)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash;
	struct stat st;

	*ret_top = NULL;
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (stat(dir, &st) == 0)
		return 0;
	/* Up to the first that exists, then down again, making each. */
	size_t len = strlen(dir);
	while ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if (stat(dir, &st) == 0)
			break;
	}
	for (size_t at = strlen(dir); at < len; at = strlen(dir)) {
		dir[at] = '/';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return oc_error_errno(-errno, "cannot make the directory %s to bind in", dir);
		if (!*ret_top && !(*ret_top = strdup(dir)))
			return -ENOMEM;
	}
	return 0;
}

/* Remove the directories make_parents() made above @path, innermost first. */
static void remove_parents(const char *path, const char *top)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash;

	if (!top || !dir)
		return;
	while ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if (rmdir(dir) < 0) {
			pr_warn("cannot remove %s: %m", dir);
			return;
		}
		if (!strcmp(dir, top))
			return;
	}
}

/* Unlink @path at the end, putting back what is there now (if anything). */
static int take_path(struct rst_unix *ru, const char *path)
{
	struct parked p = { .path = strdup(path) };
	struct stat st;
	int r;

	if (!p.path)
		return -ENOMEM;
	r = make_parents(path, &p.made_dir);
	if (r < 0) {
		remove_parents(p.path, p.made_dir);
		free(p.made_dir);
		free(p.path);
		return r;
	}
	if (lstat(path, &st) == 0) {
		/* One name may be taken for several sockets. */
		int n = ru->n_remove ? asprintf(&p.aside, "%s.ocicr-parked-%zu", path, ru->n_remove)
				     : asprintf(&p.aside, "%s.ocicr-parked", path);
		if (n < 0) {
			free(p.path);
			return -ENOMEM;
		}
		if (rename(path, p.aside) < 0) {
			r = oc_error_errno(-errno, "cannot move %s aside", path);
			free(p.path);
			free(p.aside);
			return r;
		}
	}
	struct parked *n = realloc(ru->remove, (ru->n_remove + 1) * sizeof(*n));
	if (!n) {
		if (p.aside && rename(p.aside, p.path) < 0)
			pr_warn("cannot put %s back: %m", p.path);
		remove_parents(p.path, p.made_dir);
		free(p.made_dir);
		free(p.path);
		free(p.aside);
		return -ENOMEM;
	}
	ru->remove = n;
	ru->remove[ru->n_remove++] = p;
	return 0;
}

static void release_one(struct parked *p)
{
	if (unlink(p->path) < 0 && errno != ENOENT)
		pr_warn("cannot remove %s: %m", p->path);
	if (p->aside && rename(p->aside, p->path) < 0)
		pr_warn("cannot put %s back: %m", p->path);
	remove_parents(p->path, p->made_dir);
	free(p->path);
	free(p->aside);
	free(p->made_dir);
}

/* Unlink the names taken, put back what they hid. */
static void release_paths(struct rst_unix *ru)
{
	for (size_t i = ru->n_remove; i-- > 0;)
		release_one(&ru->remove[i]);
	free(ru->remove);
	ru->remove = NULL;
	ru->n_remove = 0;
}

/*
 * Is a socket still bound to the socket file at @path?  Connecting to a
 * dead one is refused; a live one of another type says so.
 */
static bool path_in_use(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int probe = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return false;
	return connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno != ECONNREFUSED;
}

/*
 * Bind @sk to the name of @ue.  A socket file left at the path by the
 * dumped tree is stale, so it is removed (one a live socket still holds is
 * not); a name that was unlinked at dump time is bound and unlinked again
 * at the end.
 */
static int bind_name(struct rst_unix *ru, int sk, const UnixSkEntry *ue)
{
	_cleanup_free_ char *path = NULL;
	struct sockaddr_un sa;
	socklen_t len;
	char nb[128];
	int saved, r;

	if (!ue->name.len)
		return 0;
	r = sk_addr(ue, &sa, &len);
	if (r < 0)
		return r;
	if (is_abstract(ue)) {
		if (bind(sk, (struct sockaddr *)&sa, len) < 0)
			return oc_error_errno(-errno, "cannot bind to %s", ue_name(ue, nb, sizeof(nb)));
		return 0;
	}

	r = full_path(ue, &path);
	if (r < 0)
		return r;
	if (ue->has_deleted && ue->deleted) {
		r = take_path(ru, path);
		if (r < 0)
			return r;
	} else {
		struct stat st;
		if (lstat(path, &st) == 0) {
			if (!S_ISSOCK(st.st_mode))
				return oc_error(-EEXIST, "cannot bind to %s: it exists and is not a socket", path);
			if (path_in_use(path))
				return oc_error(-EADDRINUSE,
						"cannot bind to %s: a live socket outside the image "
						"holds it",
						path);
			if (unlink(path) < 0)
				return oc_error_errno(-errno, "cannot remove the stale socket file %s", path);
		}
	}
	r = enter_name_dir(ue, &saved);
	if (r < 0)
		return r;
	if (bind(sk, (struct sockaddr *)&sa, len) < 0)
		r = oc_error_errno(-errno, "cannot bind to %s", path);
	leave_name_dir(saved);
	if (r < 0)
		return r;
	if (ue->file_perms) {
		if (chmod(path, ue->file_perms->mode & 07777) < 0)
			return oc_error_errno(-errno, "cannot set the mode of %s", path);
		if (lchown(path, oc_rst_uid(ru->ctx, ue->file_perms->uid), oc_rst_gid(ru->ctx, ue->file_perms->gid)) <
		    0)
			pr_debug("cannot set the owner of %s: %m", path);
	}
	return 0;
}

/* Connect @sk to the socket bound to @to's name. */
static int connect_to(int sk, const UnixSkEntry *to)
{
	struct sockaddr_un sa;
	socklen_t len;
	char nb[128];
	int saved, r;

	if (!to->name.len)
		return oc_error(-EINVAL, "socket %u has no name to connect to", to->ino);
	r = sk_addr(to, &sa, &len);
	if (r < 0)
		return r;
	r = enter_name_dir(to, &saved);
	if (r < 0)
		return r;
	if (connect(sk, (struct sockaddr *)&sa, len) < 0)
		r = oc_error_errno(-errno, "cannot connect to %s", ue_name(to, nb, sizeof(nb)));
	leave_name_dir(saved);
	return r;
}

static int new_socket(unsigned type)
{
	int sk = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	return sk < 0 ? oc_error_errno(-errno, "cannot make a unix %s socket", type_name(type)) : sk;
}

static int new_pair(unsigned type, int *a, int *b)
{
	int sv[2];

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return oc_error_errno(-errno, "cannot make a unix %s socket pair", type_name(type));
	*a = sv[0];
	*b = sv[1];
	return 0;
}

/* A live listener of the image bound to @ue's name, or NULL. */
static struct rsk *listener_named(struct rst_unix *ru, const UnixSkEntry *ue)
{
	for (size_t i = 0; i < ru->n; i++)
		if (ru->sks[i].ue->state == SK_LISTEN && ru->sks[i].ue->type == ue->type &&
		    same_name(ru->sks[i].ue, ue))
			return &ru->sks[i];
	return NULL;
}

/* A listener standing in for a closed one, to accept under its name. */
static int stand_in_listener(struct rst_unix *ru, const UnixSkEntry *named, int *ret_fd)
{
	_cleanup_free_ char *path = NULL;
	struct sockaddr_un sa;
	socklen_t len;
	char nb[128];
	int saved, r;

	for (size_t i = 0; i < ru->n_stand_in_listeners; i++)
		if (ru->stand_in_listeners[i].named->type == named->type &&
		    same_name(ru->stand_in_listeners[i].named, named)) {
			*ret_fd = ru->stand_in_listeners[i].fd;
			return 0;
		}
	int l = new_socket(named->type);
	if (l < 0)
		return l;
	l = keep_temp(ru, l);
	if (l < 0)
		return l;
	r = sk_addr(named, &sa, &len);
	if (r < 0)
		return r;
	if (is_path(named)) {
		r = full_path(named, &path);
		if (r < 0)
			return r;
		r = take_path(ru, path);
		if (r < 0)
			return r;
	}
	r = enter_name_dir(named, &saved);
	if (r < 0)
		return r;
	if (bind(l, (struct sockaddr *)&sa, len) < 0 || listen(l, 64) < 0)
		r = oc_error_errno(-errno, "cannot listen on %s to accept a connection under that name",
				   ue_name(named, nb, sizeof(nb)));
	leave_name_dir(saved);
	if (r < 0)
		return r;
	void *n = realloc(ru->stand_in_listeners, (ru->n_stand_in_listeners + 1) * sizeof(*ru->stand_in_listeners));
	if (!n)
		return -ENOMEM;
	ru->stand_in_listeners = n;
	ru->stand_in_listeners[ru->n_stand_in_listeners].named = named;
	ru->stand_in_listeners[ru->n_stand_in_listeners++].fd = l;
	*ret_fd = l;
	return 0;
}

/* @client connects to listener @l (bound to @lue's name); the accepted
 * end is the other half of the pair. */
static int connect_accept(int l, const UnixSkEntry *lue, int client, int *ret_accepted)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char nb[128];
	int r;

	r = connect_to(client, lue);
	if (r < 0)
		return r;
	int a = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (a < 0)
		return oc_error_errno(-errno, "cannot accept on %s", ue_name(lue, nb, sizeof(nb)));
	/* Ours, not a connection from outside that came first. */
	if (getsockopt(a, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid != getpid()) {
		close(a);
		return oc_error(-EBUSY, "another process connected to %s while it was being restored",
				ue_name(lue, nb, sizeof(nb)));
	}
	*ret_accepted = a;
	return 0;
}

/* How many sockets of the image bear @ue's name. */
static size_t name_users(struct rst_unix *ru, const UnixSkEntry *ue)
{
	size_t n = 0;

	for (size_t i = 0; i < ru->n; i++)
		n += same_name(ru->sks[i].ue, ue);
	return n;
}

static bool is_pair(const struct rsk *s)
{
	return s->peer && s->peer != s && s->peer->peer == s && s->ue->state != SK_LISTEN &&
	       s->peer->ue->state != SK_LISTEN;
}

/* A connected pair, both ends at once. */
static int make_pair(struct rst_unix *ru, struct rsk *s)
{
	struct rsk *p = s->peer;
	unsigned type = s->ue->type;
	int r;

	if (type == SOCK_DGRAM || (!s->ue->name.len && !p->ue->name.len)) {
		r = new_pair(type, &s->fd, &p->fd);
		if (r < 0)
			return r;
		r = bind_name(ru, s->fd, s->ue);
		return r < 0 ? r : bind_name(ru, p->fd, p->ue);
	}

	/*
	 * A named end of a stream connection was accepted under that name:
	 * accept it again, from its listener or one standing in for it.
	 */
	struct rsk *acc = NULL, *l = NULL;
	if (s->ue->name.len && (l = listener_named(ru, s->ue)))
		acc = s;
	else if (p->ue->name.len && (l = listener_named(ru, p->ue)))
		acc = p;
	else if (s->ue->name.len && p->ue->name.len)
		acc = name_users(ru, p->ue) > name_users(ru, s->ue) ? p : s;
	else
		acc = s->ue->name.len ? s : p;
	struct rsk *client = acc == s ? p : s;
	int lfd = l ? l->fd : -1;
	if (!l) {
		r = stand_in_listener(ru, acc->ue, &lfd);
		if (r < 0)
			return r;
	}
	client->fd = new_socket(type);
	if (client->fd < 0)
		return client->fd;
	r = bind_name(ru, client->fd, client->ue);
	if (r < 0)
		return r;
	return connect_accept(lfd, acc->ue, client->fd, &acc->fd);
}

/* Does sk-queues.img hold data for @s? */
static bool has_queue(struct rst_unix *ru, const struct rsk *s)
{
	const struct oc_rst_image *im = oc_rst_image(ru->ctx, OC_IMG_SK_QUEUES);

	for (size_t i = 0; i < im->n; i++)
		if (((SkPacketEntry *)im->msgs[i])->id_for == s->ue->id)
			return true;
	return false;
}

static int make_socket(struct rst_unix *ru, struct rsk *s);

/* Unlink the name taken last for @path now, putting back what it hid. */
static void release_path_now(struct rst_unix *ru, const char *path)
{
	for (size_t i = ru->n_remove; i-- > 0;) {
		struct parked *p = &ru->remove[i];
		if (strcmp(p->path, path))
			continue;
		release_one(p);
		memmove(p, p + 1, (ru->n_remove - i - 1) * sizeof(*p));
		ru->n_remove--;
		return;
	}
}

/*
 * A datagram socket bound to a name that was unlinked, and bound again by
 * another socket since: the sockets connected to it connect now, while
 * the name is its, and the name goes at once, for the next to bind.
 */
static int connect_clients_now(struct rst_unix *ru, struct rsk *s)
{
	_cleanup_free_ char *path = NULL;
	int r;

	for (size_t i = 0; i < ru->n; i++) {
		struct rsk *c = &ru->sks[i];
		if (c->peer != s || c == s || c->external || is_pair(c))
			continue;
		r = make_socket(ru, c);
		if (r < 0)
			return r;
		r = connect_to(c->fd, s->ue);
		if (r < 0)
			return oc_error_wrap(r, "unix socket %u", c->ue->ino);
		c->connected = true;
	}
	r = full_path(s->ue, &path);
	if (r < 0)
		return r;
	release_path_now(ru, path);
	return 0;
}

/* Step 2: a socket other than a listener, bound but not yet connected. */
static int make_socket(struct rst_unix *ru, struct rsk *s)
{
	const UnixSkEntry *ue = s->ue;
	bool stream = ue->type != SOCK_DGRAM;
	char nb[128];
	int r;

	if (s->fd >= 0)
		return 0;
	if (is_pair(s))
		return make_pair(ru, s);
	if (s->peer && stream && s->peer->ue->state != SK_LISTEN)
		return oc_error(-EINVAL, "stream socket %u has peer %u, which is connected elsewhere", ue->ino,
				s->peer->ue->ino);

	/*
	 * Its peer closed: half of a pair whose other half sends its queue.
	 * (A datagram socket's state says nothing: connecting one to another
	 * marks both established.)
	 */
	bool orphan = !s->peer && (stream ? ue->state == SK_ESTABLISHED : !ue->name.len && has_queue(ru, s));
	if (orphan) {
		int other;
		r = new_pair(ue->type, &s->fd, &other);
		if (r < 0)
			return r;
		s->stand_in = keep_temp(ru, other);
		if (s->stand_in < 0)
			return s->stand_in;
	} else {
		s->fd = new_socket(ue->type);
		if (s->fd < 0)
			return s->fd;
	}
	r = bind_name(ru, s->fd, ue);
	if (r < 0)
		return oc_error_wrap(r, "unix socket %s", ue_name(ue, nb, sizeof(nb)));
	if (ue->type == SOCK_DGRAM && is_path(ue) && ue->has_deleted && ue->deleted && name_users(ru, ue) > 1)
		return connect_clients_now(ru, s);
	return 0;
}

static int make_listener(struct rst_unix *ru, struct rsk *s)
{
	char nb[128];
	int r;

	s->fd = new_socket(s->ue->type);
	if (s->fd < 0)
		return s->fd;
	r = bind_name(ru, s->fd, s->ue);
	if (r < 0)
		return r;
	if (listen(s->fd, s->ue->backlog) < 0)
		return oc_error_errno(-errno, "cannot listen on %s", ue_name(s->ue, nb, sizeof(nb)));
	return 0;
}

/* Who sends the queue of @s back into it, and whether by address. */
static int queue_sender(struct rst_unix *ru, struct rsk *s, int *ret_fd, bool *ret_to_addr)
{
	char nb[128];

	*ret_to_addr = false;
	if (s->stand_in >= 0) {
		*ret_fd = s->stand_in;
		return 0;
	}
	if (s->peer && s->peer->peer == s) {
		*ret_fd = s->peer->fd;
		return 0;
	}
	if (s->ue->type != SOCK_DGRAM || !s->ue->name.len || (s->peer && s->peer->external))
		return oc_error(-EINVAL, "unix socket %u (%s) has queued data but no peer to send it", s->ue->ino,
				ue_name(s->ue, nb, sizeof(nb)));
	*ret_to_addr = true;
	if (s->peer) {
		/* Connected one way: only its peer may send to it. */
		*ret_fd = s->peer->fd;
		return 0;
	}
	int t = new_socket(SOCK_DGRAM);
	if (t < 0)
		return t;
	*ret_fd = keep_temp(ru, t);
	return *ret_fd < 0 ? *ret_fd : 0;
}

#define SCM_MAX_FDS 253 /* the kernel's SCM_MAX_FD */

/*
 * The fds of the files a queued message passes, in order: opened now (a
 * file only in flight is opened here alone), a unix socket of the image
 * as made.
 */
static int rights_fds(struct rst_unix *ru, const SkPacketEntry *pe, int *fds, size_t *ret_n)
{
	size_t n = 0;
	int r;

	for (size_t i = 0; i < pe->n_scm; i++) {
		const ScmEntry *se = pe->scm[i];
		if (se->type != SCM_RIGHTS)
			return oc_error(-EOPNOTSUPP, "sk-queues.img: a message carries ancillary data of type %u",
					se->type);
		for (size_t j = 0; j < se->n_rights; j++) {
			if (n == SCM_MAX_FDS)
				return oc_error(-EINVAL, "sk-queues.img: a message passes more than %d files",
						SCM_MAX_FDS);
			const struct rsk *sk = NULL;
			for (size_t k = 0; k < ru->n && !sk; k++)
				if (ru->sks[k].fe->id == se->rights[j] && !ru->sks[k].external)
					sk = &ru->sks[k];
			if (sk) {
				fds[n++] = sk->fd;
				continue;
			}
			r = oc_rst_open_file(ru->files, se->rights[j], &fds[n]);
			if (r < 0)
				return oc_error_wrap(r, "file %u passed in a queued message", se->rights[j]);
			n++;
		}
	}
	*ret_n = n;
	return 0;
}

/* One queued message, with the files it passes. */
static int send_one(struct rst_unix *ru, const struct rsk *s, int fd, const SkPacketEntry *pe, const void *data,
		    struct sockaddr_un *to, socklen_t to_len)
{
	char nb[128];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * SCM_MAX_FDS)];
	} cbuf;
	int fds[SCM_MAX_FDS];
	size_t n = 0;
	struct iovec iov = { (void *)data, pe->length };
	struct msghdr msg = { .msg_name = to, .msg_namelen = to ? to_len : 0, .msg_iov = &iov, .msg_iovlen = 1 };
	int r;

	r = rights_fds(ru, pe, fds, &n);
	if (r < 0)
		return r;
	if (n) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = &cbuf;
		msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	ssize_t sent = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (sent != (ssize_t)pe->length)
		return oc_error_errno(sent < 0 ? -errno : -EIO, "cannot queue %u bytes%s back on unix socket %s",
				      pe->length, n ? " and files" : "", ue_name(s->ue, nb, sizeof(nb)));
	return 0;
}

static int send_queue(struct rst_unix *ru, struct rsk *s)
{
	const struct oc_rst_image *im = oc_rst_image(ru->ctx, OC_IMG_SK_QUEUES);
	struct sockaddr_un sa;
	socklen_t alen = 0;
	uint64_t total = 0;
	bool to_addr;
	int fd = -1, r;

	/* Its bytes, and one per message so that empty datagrams count. */
	for (size_t i = 0; i < im->n; i++)
		if (((SkPacketEntry *)im->msgs[i])->id_for == s->ue->id)
			total += ((SkPacketEntry *)im->msgs[i])->length + 1;
	if (!total)
		return 0;

	r = queue_sender(ru, s, &fd, &to_addr);
	if (r < 0)
		return r;
	if (to_addr) {
		r = sk_addr(s->ue, &sa, &alen);
		if (r < 0)
			return r;
	}
	/* Room for it all in the sender's buffer; its own size comes later. */
	int want = total * 2 + (256 << 10) > (1u << 30) ? (1 << 30) : (int)(total * 2 + (256 << 10));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));

	int saved = -1;
	if (to_addr) {
		r = enter_name_dir(s->ue, &saved);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < im->n && r >= 0; i++) {
		SkPacketEntry *pe = (SkPacketEntry *)im->msgs[i];
		if (pe->id_for != s->ue->id)
			continue;
		r = send_one(ru, s, fd, pe, im->payloads[i], to_addr ? &sa : NULL, alen);
	}
	leave_name_dir(saved);
	return r;
}

uint32_t oc_rst_unix_in_flight_holder(struct oc_rst_ctx *ctx, uint32_t id)
{
	const struct oc_rst_image *im = oc_rst_image(ctx, OC_IMG_SK_QUEUES);

	for (size_t i = 0; im && i < im->n; i++) {
		const SkPacketEntry *pe = (const SkPacketEntry *)im->msgs[i];
		for (size_t j = 0; j < pe->n_scm; j++)
			for (size_t k = 0; pe->scm[j]->type == SCM_RIGHTS && k < pe->scm[j]->n_rights; k++)
				if (pe->scm[j]->rights[k] == id)
					return pe->id_for;
	}
	return 0;
}

/* Step 6 for one socket: shutdown, options, file flags. */
static int finish_socket(struct rsk *s)
{
	const UnixSkEntry *ue = s->ue;
	static const int how[] = {
		[SK_SHUTDOWN__READ] = SHUT_RD, [SK_SHUTDOWN__WRITE] = SHUT_WR, [SK_SHUTDOWN__BOTH] = SHUT_RDWR
	};
	char nb[128];
	int r;

	if (ue->has_shutdown && ue->shutdown != SK_SHUTDOWN__NONE && ue->state != SK_LISTEN &&
	    (unsigned)ue->shutdown < ARRAY_SIZE(how) && shutdown(s->fd, how[ue->shutdown]) < 0 && errno != ENOTCONN)
		return oc_error_errno(-errno, "cannot shut unix socket %s down", ue_name(ue, nb, sizeof(nb)));
	r = oc_sk_restore_opts(s->fd, ue->opts, ue_name(ue, nb, sizeof(nb)));
	if (r < 0)
		return oc_error_wrap(r, "unix socket");
	if (fcntl(s->fd, F_SETFL, ue->flags & ~(O_ACCMODE | O_CLOEXEC)) < 0)
		return oc_error_errno(-errno, "unix socket %s: cannot set its flags", ue_name(ue, nb, sizeof(nb)));
	return 0;
}

static int collect(struct rst_unix *ru)
{
	char nb[128];

	for (size_t i = 0; i < ru->ctx->n_files; i++) {
		FileEntry *fe = ru->ctx->files[i];
		if (fe->type != FD_TYPES__UNIXSK)
			continue;
		if (!fe->usk)
			return oc_error(-EINVAL, "files.img: file %u has no unix socket entry", fe->id);
		void *n = realloc(ru->sks, (ru->n + 1) * sizeof(*ru->sks));
		if (!n)
			return -ENOMEM;
		ru->sks = n;
		ru->sks[ru->n++] = (struct rsk){ .fe = fe, .ue = fe->usk, .fd = -1, .stand_in = -1 };
	}
	for (size_t i = 0; i < ru->n; i++) {
		struct rsk *s = &ru->sks[i];
		const UnixSkEntry *ue = s->ue;
		if (ue->type != SOCK_STREAM && ue->type != SOCK_DGRAM && ue->type != SOCK_SEQPACKET)
			return oc_error(-EOPNOTSUPP, "unix socket %u is of type %u", ue->ino, ue->type);
		/* A named datagram socket outside the tree: connected to by name. */
		if (ue->uflags == USK_EXTERN && ue->type == SOCK_DGRAM && ue->name.len && !ue->peer) {
			s->external = true;
			continue;
		}
		if (ue->uflags & (USK_EXTERN | USK_SERVICE | USK_CALLBACK | USK_INHERIT))
			return oc_error(-EOPNOTSUPP,
					"unix socket %u (%s) is external to the image (uflags 0x%x), "
					"which ocicr cannot restore",
					ue->ino, ue_name(ue, nb, sizeof(nb)), ue->uflags);
		if (!ue->peer)
			continue;
		for (size_t j = 0; j < ru->n && !s->peer; j++)
			if (ru->sks[j].ue->ino == ue->peer)
				s->peer = &ru->sks[j];
		if (!s->peer)
			return oc_error(-EOPNOTSUPP, "unix socket %u (%s): its peer %u is not in the image", ue->ino,
					ue_name(ue, nb, sizeof(nb)), ue->peer);
	}
	return 0;
}

static void rst_unix_fini(struct rst_unix *ru, bool failed)
{
	for (size_t i = 0; i < ru->n_temp_fds; i++)
		close(ru->temp_fds[i]);
	free(ru->temp_fds);
	release_paths(ru);
	free(ru->stand_in_listeners);
	if (failed)
		for (size_t i = 0; i < ru->n; i++)
			if (ru->sks[i].fd >= 0)
				close(ru->sks[i].fd);
	free(ru->sks);
}

static int connect_peers(struct rst_unix *ru, bool to_listeners)
{
	for (size_t i = 0; i < ru->n; i++) {
		struct rsk *s = &ru->sks[i];
		if (!s->peer || s->connected || is_pair(s) ||
		    (s->peer->ue->state == SK_LISTEN && !s->peer->external) != to_listeners)
			continue;
		int r = connect_to(s->fd, s->peer->ue);
		if (r < 0)
			return oc_error_wrap(r, "unix socket %u", s->ue->ino);
	}
	return 0;
}

static int run_stage(struct rst_unix *ru, enum unix_stage stage)
{
	int r = 0;

	switch (stage) {
	case UNIX_LISTENERS:
		r = collect(ru);
		for (size_t i = 0; r >= 0 && i < ru->n; i++)
			if (ru->sks[i].ue->state == SK_LISTEN && !ru->sks[i].external)
				r = make_listener(ru, &ru->sks[i]);
		break;
	case UNIX_SOCKETS:
		for (size_t i = 0; r >= 0 && i < ru->n; i++)
			if (!ru->sks[i].external)
				r = make_socket(ru, &ru->sks[i]);
		break;
	case UNIX_DGRAM_PEERS:
		r = connect_peers(ru, false);
		break;
	case UNIX_CONNECTIONS:
		r = connect_peers(ru, true);
		break;
	case UNIX_QUEUES:
		for (size_t i = 0; r >= 0 && i < ru->n; i++)
			if (!ru->sks[i].external)
				r = send_queue(ru, &ru->sks[i]);
		break;
	case UNIX_OPTIONS:
		for (size_t i = 0; r >= 0 && i < ru->n; i++)
			if (!ru->sks[i].external)
				r = finish_socket(&ru->sks[i]);
		break;
	case _UNIX_STAGES:
		break;
	}
	return r;
}

static void unix_fini(struct oc_rst_files *files)
{
	if (!files->unix_sk)
		return;
	rst_unix_fini(files->unix_sk, true);
	free(files->unix_sk);
	files->unix_sk = NULL;
}

/* Every socket is made: record each as its file entry's open file. */
static int hand_out(struct oc_rst_files *files)
{
	struct rst_unix *ru = files->unix_sk;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < ru->n; i++)
		if (!ru->sks[i].external)
			r = oc_rst_file_opened(files, ru->sks[i].fe->id, TAKE_FD(ru->sks[i].fd), NULL);
	unix_fini(files);
	return r;
}

static int unix_run_stage(struct oc_rst_files *files, size_t stage)
{
	int r;

	if (stage == 0 && !files->unix_sk) {
		files->unix_sk = calloc(1, sizeof(*files->unix_sk));
		if (!files->unix_sk)
			return -ENOMEM;
		files->unix_sk->ctx = files->ctx;
		files->unix_sk->files = files;
	}
	if (!files->unix_sk || stage >= _UNIX_STAGES)
		return oc_error(-EINVAL, "unix sockets: stage %zu out of order", stage);
	r = run_stage(files->unix_sk, stage);
	if (r < 0) {
		unix_fini(files);
		return oc_error_wrap(r, "restoring unix sockets (%s)", unix_stages[stage]);
	}
	return stage + 1 == _UNIX_STAGES ? hand_out(files) : 0;
}

/* The stages ran (plan steps) and recorded every socket: a socket not
 * found opened was not made. */
static int unix_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	return oc_error(-EINVAL, "files.img: unix socket %u was not made", fe->id);
}
