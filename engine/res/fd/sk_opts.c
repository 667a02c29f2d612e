// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SOL_SOCKET options, dumped and restored the same way for every family.
 * Flags are recorded whatever their value (the image says "off" too);
 * restore sets only those that are on, since a new socket has them off.
 */
#include <errno.h>
#include <linux/filter.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "res/fd/sk_opts.h"
#include "core/error.h"
#include "core/log.h"
#include "core/cleanup.h"

int oc_sk_domain(int fd)
{
	int domain = -1;
	socklen_t len = sizeof(domain);

	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ? -1 : domain;
}

static int getint(int sk, int opt, int *val)
{
	socklen_t len = sizeof(*val);

	*val = 0;
	return getsockopt(sk, SOL_SOCKET, opt, val, &len) < 0 ? -errno : 0;
}

/* One optional field: its has_ flag, its value, and whether it is a bool. */
struct opt_field {
	int opt;
	size_t has, val;
	bool flag;
};

#define OPT_U32(o, f)                                                              \
	{                                                                          \
		o, offsetof(SkOptsEntry, has_##f), offsetof(SkOptsEntry, f), false \
	}
#define OPT_BOOL(o, f)                                                            \
	{                                                                         \
		o, offsetof(SkOptsEntry, has_##f), offsetof(SkOptsEntry, f), true \
	}

/* In field order; the last two only for unix sockets. */
static const struct opt_field opt_fields[] = {
	OPT_BOOL(SO_REUSEADDR, reuseaddr),    OPT_U32(SO_PRIORITY, so_priority),
	OPT_U32(SO_RCVLOWAT, so_rcvlowat),    OPT_BOOL(SO_DONTROUTE, so_dontroute),
	OPT_BOOL(SO_NO_CHECK, so_no_check),   OPT_BOOL(SO_REUSEPORT, so_reuseport),
	OPT_BOOL(SO_BROADCAST, so_broadcast), OPT_BOOL(SO_KEEPALIVE, so_keepalive),
	OPT_U32(SO_OOBINLINE, so_oobinline),  OPT_U32(SO_BUF_LOCK, so_buf_lock),
	OPT_BOOL(SO_PASSCRED, so_passcred),   OPT_BOOL(SO_PASSSEC, so_passsec),
};
#define N_COMMON (ARRAY_SIZE(opt_fields) - 2)

static int dump_timeouts(int sk, SkOptsEntry *o)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	if (getsockopt(sk, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) == 0) {
		o->so_snd_tmo_sec = tv.tv_sec;
		o->so_snd_tmo_usec = tv.tv_usec;
	}
	len = sizeof(tv);
	if (getsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0) {
		o->so_rcv_tmo_sec = tv.tv_sec;
		o->so_rcv_tmo_usec = tv.tv_usec;
	}
	return 0;
}

/* SO_MARK, SO_LINGER and SO_BINDTODEVICE: recorded only when set. */
static int dump_extras(struct oc_arena *a, int sk, SkOptsEntry *o)
{
	struct linger lg = {};
	char dev[64] = "";
	socklen_t len;
	int v;

	if (getint(sk, SO_MARK, &v) == 0 && v) {
		o->has_so_mark = true;
		o->so_mark = v;
	}
	len = sizeof(lg);
	if (getsockopt(sk, SOL_SOCKET, SO_LINGER, &lg, &len) == 0 && lg.l_onoff) {
		o->has_so_linger = true;
		o->so_linger = lg.l_linger;
	}
	len = sizeof(dev) - 1;
	if (getsockopt(sk, SOL_SOCKET, SO_BINDTODEVICE, dev, &len) == 0 && dev[0]) {
		o->so_bound_dev = oc_arena_strdup(a, dev);
		if (!o->so_bound_dev)
			return -ENOMEM;
	}
	return 0;
}

/* A classic BPF filter (SO_ATTACH_FILTER), one instruction a word as in
 * CRIU's images.  SO_GET_FILTER counts instructions, not bytes. */
static int dump_filter(struct oc_arena *a, int sk, SkOptsEntry *o)
{
	struct sock_filter *insns;
	socklen_t n = 0;

	_Static_assert(sizeof(*insns) == sizeof(*o->so_filter), "a filter instruction is one word");
	if (getsockopt(sk, SOL_SOCKET, SO_GET_FILTER, NULL, &n) < 0 || n == 0)
		return 0;
	insns = oc_arena_alloc(a, n * sizeof(*insns));
	if (!insns)
		return -ENOMEM;
	if (getsockopt(sk, SOL_SOCKET, SO_GET_FILTER, insns, &n) < 0)
		return oc_error_errno(-errno, "SO_GET_FILTER");
	o->n_so_filter = n;
	o->so_filter = (uint64_t *)insns;
	return 0;
}

static int restore_filter(int sk, const SkOptsEntry *o)
{
	struct sock_fprog prog = { .len = o->n_so_filter, .filter = (struct sock_filter *)o->so_filter };

	if (!o->n_so_filter)
		return 0;
	if (o->n_so_filter > BPF_MAXINSNS)
		return oc_error(-EINVAL, "a socket filter of %zu instructions", o->n_so_filter);
	if (setsockopt(sk, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return oc_error_errno(-errno, "SO_ATTACH_FILTER (%zu instructions)", o->n_so_filter);
	return 0;
}

int oc_sk_dump_opts(struct oc_arena *a, int sk, bool passcred, SkOptsEntry **ret)
{
	SkOptsEntry *o = OC_ARENA_MSG(a, SkOptsEntry, SK_OPTS_ENTRY__INIT);
	size_t n = passcred ? ARRAY_SIZE(opt_fields) : N_COMMON;
	int v, r;

	if (!o)
		return -ENOMEM;
	if (getint(sk, SO_SNDBUF, &v) < 0)
		return oc_error_errno(-errno, "SO_SNDBUF");
	o->so_sndbuf = v;
	if (getint(sk, SO_RCVBUF, &v) < 0)
		return oc_error_errno(-errno, "SO_RCVBUF");
	o->so_rcvbuf = v;
	dump_timeouts(sk, o);
	for (size_t i = 0; i < n; i++) {
		char *base = (char *)o;
		if (getint(sk, opt_fields[i].opt, &v) < 0)
			continue;
		*(protobuf_c_boolean *)(base + opt_fields[i].has) = true;
		if (opt_fields[i].flag)
			*(protobuf_c_boolean *)(base + opt_fields[i].val) = !!v;
		else
			*(uint32_t *)(base + opt_fields[i].val) = v;
	}
	r = dump_extras(a, sk, o);
	if (r >= 0)
		r = dump_filter(a, sk, o);
	if (r < 0)
		return r;
	*ret = o;
	return 0;
}

static int restore_bufs(int sk, const SkOptsEntry *o)
{
	/* The kernel doubles what it is given; the image has the doubled. */
	int v = o->so_sndbuf / 2;

	if (setsockopt(sk, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0 &&
	    setsockopt(sk, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) < 0)
		return oc_error_errno(-errno, "SO_SNDBUF %d", v);
	v = o->so_rcvbuf / 2;
	if (setsockopt(sk, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0 &&
	    setsockopt(sk, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) < 0)
		return oc_error_errno(-errno, "SO_RCVBUF %d", v);
	if (o->so_snd_tmo_sec || o->so_snd_tmo_usec) {
		struct timeval tv = { o->so_snd_tmo_sec, o->so_snd_tmo_usec };
		if (setsockopt(sk, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
			return oc_error_errno(-errno, "SO_SNDTIMEO");
	}
	if (o->so_rcv_tmo_sec || o->so_rcv_tmo_usec) {
		struct timeval tv = { o->so_rcv_tmo_sec, o->so_rcv_tmo_usec };
		if (setsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
			return oc_error_errno(-errno, "SO_RCVTIMEO");
	}
	return 0;
}

static int restore_extras(int sk, const SkOptsEntry *o)
{
	if (o->has_so_mark && o->so_mark && setsockopt(sk, SOL_SOCKET, SO_MARK, &o->so_mark, sizeof(o->so_mark)) < 0)
		return oc_error_errno(-errno, "SO_MARK %u", o->so_mark);
	if (o->has_so_linger) {
		struct linger lg = { 1, (int)o->so_linger };
		if (setsockopt(sk, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
			return oc_error_errno(-errno, "SO_LINGER %u", o->so_linger);
	}
	if (o->so_bound_dev && o->so_bound_dev[0] &&
	    setsockopt(sk, SOL_SOCKET, SO_BINDTODEVICE, o->so_bound_dev, strlen(o->so_bound_dev)) < 0)
		return oc_error_errno(-errno, "SO_BINDTODEVICE %s", o->so_bound_dev);
	return 0;
}

int oc_sk_restore_opts(int sk, const SkOptsEntry *o, const char *what)
{
	int one = 1, r;

	if (!o)
		return 0;
	r = restore_bufs(sk, o);
	if (r == 0)
		r = restore_extras(sk, o);
	if (r == 0)
		r = restore_filter(sk, o);
	if (r < 0)
		return oc_error_wrap(r, "%s", what);
	for (size_t i = 0; i < ARRAY_SIZE(opt_fields); i++) {
		const char *base = (const char *)o;
		int v;
		if (!*(const protobuf_c_boolean *)(base + opt_fields[i].has))
			continue;
		v = opt_fields[i].flag ? *(const protobuf_c_boolean *)(base + opt_fields[i].val)
				       : (int)*(const uint32_t *)(base + opt_fields[i].val);
		if (opt_fields[i].flag && !v)
			continue;
		/* SO_RCVLOWAT 1 and the like are the defaults anyway. */
		if (setsockopt(sk, SOL_SOCKET, opt_fields[i].opt, opt_fields[i].flag ? &one : &v, sizeof(v)) < 0)
			pr_debug("%s: cannot restore socket option %d = %d: %m", what, opt_fields[i].opt, v);
	}
	return 0;
}
