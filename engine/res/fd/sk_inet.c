// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IPv4 and IPv6 sockets (inet_sk_entry): TCP sockets that listen, are
 * bound and idle or are connected (the connection's state through
 * res/fd/sk_tcp.c, with --tcp-established; refused by name without), and
 * UDP, UDP-lite and ICMP echo ("ping") sockets, bound or connected, with
 * their options and shutdowns, and raw sockets of any protocol with theirs.
 *
 * Addresses are stored as CRIU does: the address bytes in network order
 * copied into 1 (IPv4) or 4 (IPv6) host words.  Restore opens the socket
 * in the coordinator, with the options that bind() depends on set first.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/sockios.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "res/fd/sk_inet.h"
#include "res/fd/sk_opts.h"
#include "res/fd/sk_tcp.h"
#include "res/net/sk_diag.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "sk-inet.pb-c.h"

static bool inet_match(const struct oc_dump_fd *fd)
{
	int domain;

	if (!S_ISSOCK(fd->st.st_mode))
		return false;
	domain = oc_sk_domain(fd->local);
	return domain == AF_INET || domain == AF_INET6;
}

static int sol_int(int sk, int level, int opt, int *v)
{
	socklen_t len = sizeof(*v);

	*v = 0;
	return getsockopt(sk, level, opt, v, &len) < 0 ? -errno : 0;
}

/* Datagram protocols taken besides TCP: UDP, UDP-lite, ICMP echo ("ping"). */
static bool is_dgram_proto(uint32_t type, uint32_t proto)
{
	return type == SOCK_DGRAM &&
	       (proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE || proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6);
}

static bool is_udp(const InetSkEntry *ie)
{
	return ie->type == SOCK_DGRAM && (ie->proto == IPPROTO_UDP || ie->proto == IPPROTO_UDPLITE);
}

/* A TCP socket proper; a raw socket may carry any protocol number. */
static bool is_tcp(const InetSkEntry *ie)
{
	return ie->type == SOCK_STREAM && ie->proto == IPPROTO_TCP;
}

static const char *proto_name(const InetSkEntry *ie)
{
	if (ie->type == SOCK_RAW)
		return "raw";
	switch (ie->proto) {
	case IPPROTO_TCP:
		return "TCP";
	case IPPROTO_UDP:
		return "UDP";
	case IPPROTO_UDPLITE:
		return "UDP-lite";
	default:
		return "ICMP (ping)";
	}
}

/* A TCP connection that has ended (closed both ways, or reset): the
 * kernel keeps its peer's address, and its shutdowns are both set. */
static bool is_closed_connection(const InetSkEntry *ie)
{
	return is_tcp(ie) && ie->state == TCP_CLOSE && ie->dst_port;
}

/* A closed connection with bytes still to read (one that was reset):
 * dumped in repair mode as CRIU dumps it, its bytes kept. */
static bool is_closed_with_data(int sk, const InetSkEntry *ie)
{
	int unread = 0;

	return is_closed_connection(ie) && ioctl(sk, SIOCINQ, &unread) == 0 && unread > 0;
}

size_t oc_inet_addr_words(const struct sockaddr_storage *ss, uint32_t words[4], uint32_t *port)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		memcpy(words, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
		return 4;
	}
	const struct sockaddr_in *s4 = (const void *)ss;
	memcpy(words, &s4->sin_addr, 4);
	*port = ntohs(s4->sin_port);
	return 1;
}

const char *oc_inet_endpoint(const uint32_t *words, size_t n, uint32_t port, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(n == 4 ? AF_INET6 : AF_INET, words, a, sizeof(a));
	snprintf(buf, size, n == 4 ? "[%s]:%u" : "%s:%u", a, port);
	return buf;
}

static int dump_addrs(struct oc_arena *a, int sk, InetSkEntry *ie)
{
	struct sockaddr_storage ss = {};
	socklen_t len = sizeof(ss);
	uint32_t w[4] = {};

	if (getsockname(sk, (struct sockaddr *)&ss, &len) < 0)
		return oc_error_errno(-errno, "getsockname");
	ie->n_src_addr = ie->n_dst_addr = oc_inet_addr_words(&ss, w, &ie->src_port);
	ie->src_addr = oc_arena_memdup(a, w, sizeof(w));
	memset(w, 0, sizeof(w));
	/* SO_PEERNAME, unlike getpeername(), names the peer of a TCP
	 * connection that has closed since, as CRIU's images have it; it
	 * takes no more room than the family's address needs. */
	len = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (getsockopt(sk, SOL_SOCKET, SO_PEERNAME, &ss, &len) == 0)
		oc_inet_addr_words(&ss, w, &ie->dst_port);
	ie->dst_addr = oc_arena_memdup(a, w, sizeof(w));
	return ie->src_addr && ie->dst_addr ? 0 : -ENOMEM;
}

static bool has_peer(int sk)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	return getpeername(sk, (struct sockaddr *)&ss, &len) == 0;
}

/*
 * A raw socket's own options: header included, no defragmenting (IPv4),
 * and the ICMP type filter of an ICMP or ICMPv6 one, a bitmap of 1 or 8
 * words.
 */
static int dump_raw_opts(struct oc_arena *a, int sk, InetSkEntry *ie, IpOptsEntry *ip)
{
	IpOptsRawEntry *raw = OC_ARENA_MSG(a, IpOptsRawEntry, IP_OPTS_RAW_ENTRY__INIT);
	bool v6 = ie->family == AF_INET6;
	uint32_t filter[8] = {};
	socklen_t len = v6 ? sizeof(filter) : sizeof(filter[0]);
	int v;

	if (!raw)
		return -ENOMEM;
	if (sol_int(sk, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_HDRINCL : IP_HDRINCL, &v) == 0 && v)
		raw->has_hdrincl = raw->hdrincl = true;
	if (!v6 && sol_int(sk, SOL_IP, IP_NODEFRAG, &v) == 0 && v)
		raw->has_nodefrag = raw->nodefrag = true;
	if (ie->proto == (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) &&
	    getsockopt(sk, v6 ? SOL_ICMPV6 : SOL_RAW, v6 ? ICMP6_FILTER : ICMP_FILTER, filter, &len) == 0) {
		raw->n_icmpv_filter = len / sizeof(filter[0]);
		raw->icmpv_filter = oc_arena_memdup(a, filter, len);
		if (!raw->icmpv_filter)
			return -ENOMEM;
	}
	ip->raw = raw;
	return 0;
}

static int dump_ip_opts(struct oc_arena *a, int sk, InetSkEntry *ie)
{
	IpOptsEntry *ip = OC_ARENA_MSG(a, IpOptsEntry, IP_OPTS_ENTRY__INIT);
	bool v6 = ie->family == AF_INET6;
	int v;

	if (!ip)
		return -ENOMEM;
	if (sol_int(sk, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_FREEBIND : IP_FREEBIND, &v) == 0 && v)
		ip->has_freebind = ip->freebind = true;
	if (sol_int(sk, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_RECVPKTINFO : IP_PKTINFO, &v) == 0 && v)
		ip->has_pktinfo = ip->pktinfo = true;
	if (ie->type == SOCK_RAW && dump_raw_opts(a, sk, ie, ip) < 0)
		return -ENOMEM;
	if (!v6 && sol_int(sk, SOL_IP, IP_TOS, &v) == 0 && v) {
		ip->has_tos = true;
		ip->tos = v;
	}
	if (!v6 && sol_int(sk, SOL_IP, IP_TTL, &v) == 0) {
		ip->has_ttl = true;
		ip->ttl = v;
	}
	if (v6) {
		if (sol_int(sk, SOL_IPV6, IPV6_V6ONLY, &v) < 0)
			return oc_error_errno(-errno, "IPV6_V6ONLY");
		ie->has_v6only = true;
		ie->v6only = v;
	}
	ie->ip_opts = ip;
	return 0;
}

static int dump_tcp_opts(struct oc_arena *a, int sk, InetSkEntry *ie)
{
	TcpOptsEntry *to = OC_ARENA_MSG(a, TcpOptsEntry, TCP_OPTS_ENTRY__INIT);
	int v;

	if (!to)
		return -ENOMEM;
	if (sol_int(sk, SOL_TCP, TCP_CORK, &v) == 0 && v)
		to->has_cork = to->cork = true;
	if (sol_int(sk, SOL_TCP, TCP_NODELAY, &v) == 0 && v)
		to->has_nodelay = to->nodelay = true;
	if ((to->has_keepcnt = sol_int(sk, SOL_TCP, TCP_KEEPCNT, &v) == 0))
		to->keepcnt = v;
	if ((to->has_keepidle = sol_int(sk, SOL_TCP, TCP_KEEPIDLE, &v) == 0))
		to->keepidle = v;
	if ((to->has_keepintvl = sol_int(sk, SOL_TCP, TCP_KEEPINTVL, &v) == 0))
		to->keepintvl = v;
	ie->tcp_opts = to;
	return 0;
}

/* TCP: the state and backlog from TCP_INFO; a connection needs
 * --tcp-established (or --tcp-close). */
static int dump_tcp_state(struct oc_dump_ctx *ctx, int sk, InetSkEntry *ie)
{
	const struct oc_dump_opts *o = ctx->opts;
	struct tcp_info ti = {};
	socklen_t len = sizeof(ti);
	char src[64], dst[64];

	if (getsockopt(sk, SOL_TCP, TCP_INFO, &ti, &len) < 0)
		return oc_error_errno(-errno, "TCP_INFO");
	ie->state = ti.tcpi_state;
	oc_inet_endpoint(ie->src_addr, ie->n_src_addr, ie->src_port, src, sizeof(src));
	oc_inet_endpoint(ie->dst_addr, ie->n_dst_addr, ie->dst_port, dst, sizeof(dst));
	/* For a listener, TCP_INFO's sacked is the listen() backlog and
	 * unacked the connections waiting to be accepted: those are not in
	 * any task's fds, and are lost (--skip-in-flight) or refused. */
	if (ie->state == TCP_LISTEN && ti.tcpi_unacked && !o->skip_in_flight)
		return oc_error(-EOPNOTSUPP,
				"TCP listener %s has %u connection(s) waiting to be accepted: "
				"--skip-in-flight leaves them out",
				src, ti.tcpi_unacked);
	if (ie->state == TCP_LISTEN && ti.tcpi_unacked)
		pr_warn("TCP listener %s: %u connection(s) not yet accepted are left out", src, ti.tcpi_unacked);
	if (ie->state == TCP_LISTEN)
		ie->backlog = ti.tcpi_sacked;
	if (is_closed_with_data(sk, ie) && !o->tcp_established && !o->tcp_close)
		return oc_error(-EOPNOTSUPP,
				"closed TCP connection %s->%s has bytes to read: dumping them needs --tcp-established",
				src, dst);
	if (is_closed_connection(ie))
		return 0;
	if (!oc_tcp_is_connection(ie->state))
		return 0;
	/* As CRIU: a connection's backlog is what its send queue holds. */
	int queued = 0;
	if (ioctl(sk, SIOCOUTQ, &queued) == 0)
		ie->backlog = queued;
	if (o->tcp_close)
		return 0;
	if (!o->tcp_established)
		return oc_error(-EOPNOTSUPP, "TCP connection %s->%s (%s): dumping it needs --tcp-established", src, dst,
				oc_tcp_state_name(ie->state));
	return 0;
}

/* Which sockets we take: TCP, UDP, UDP-lite, ping; others refused by name. */
static int check_kind(int sk, InetSkEntry *ie)
{
	const char *fam = ie->family == AF_INET6 ? "IPv6" : "IPv4";
	int type, proto;

	if (sol_int(sk, SOL_SOCKET, SO_TYPE, &type) < 0 || sol_int(sk, SOL_SOCKET, SO_PROTOCOL, &proto) < 0)
		return oc_error_errno(-errno, "SO_TYPE");
	ie->type = type;
	ie->proto = proto;
	if ((type == SOCK_STREAM && proto == IPPROTO_TCP) || is_dgram_proto(type, proto) || type == SOCK_RAW)
		return 0;
	return oc_error(-EOPNOTSUPP, "an %s socket of type %d, protocol %d: not supported yet", fam, type, proto);
}

/*
 * A UDP socket: its shutdown, which only sock_diag shows (the kernel lists
 * bound sockets; one never bound has none to show), and no cork: what a
 * corked socket holds back is not in the image, so it is refused as CRIU
 * refuses it.
 */
static int dump_udp_state(int sk, InetSkEntry *ie)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = { .r = { .sdiag_family = ie->family, .sdiag_protocol = ie->proto, .idiag_states = ~0u } };
	_cleanup_free_ struct nlmsghdr *m = NULL;
	char src[64];
	int cork = 0, queued = 0, r;
	const uint8_t *how;
	size_t n;

	oc_inet_endpoint(ie->src_addr, ie->n_src_addr, ie->src_port, src, sizeof(src));
	if (sol_int(sk, SOL_UDP, UDP_CORK, &cork) == 0 && cork) {
		ioctl(sk, SIOCOUTQ, &queued);
		return oc_error(-EOPNOTSUPP, "%s socket %s is corked (UDP_CORK)%s: cannot dump it", proto_name(ie), src,
				queued > 0 ? " with data held back" : "");
	}
	r = oc_sk_diag_find(sk, &req, sizeof(req), offsetof(struct inet_diag_msg, idiag_inode), ie->ino, &m);
	if (r < 0) {
		pr_warn("%s socket %s: its shutdown state is unknown (no udp_diag?): %s", proto_name(ie), src,
			strerror(-r));
		return 0;
	}
	how = m ? oc_sk_diag_attr(m, sizeof(struct inet_diag_msg), INET_DIAG_SHUTDOWN, &n) : NULL;
	ie->shutdown = how && n ? (*how & SK_SHUTDOWN__BOTH) : SK_SHUTDOWN__NONE;
	/* Only when there is one: CRIU's restore takes "none" for a bad value. */
	ie->has_shutdown = ie->shutdown != SK_SHUTDOWN__NONE;
	return 0;
}

static int inet_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	struct oc_arena *a = t->ctx->arena;
	InetSkEntry *ie = OC_ARENA_MSG(a, InetSkEntry, INET_SK_ENTRY__INIT);
	FileEntry *fe;
	int r;

	if (!ie)
		return -ENOMEM;
	ie->family = oc_sk_domain(fd->local);
	ie->ino = fd->st.st_ino;
	r = check_kind(fd->local, ie);
	if (r == 0)
		r = dump_addrs(a, fd->local, ie);
	if (r == 0 && is_tcp(ie))
		r = dump_tcp_state(t->ctx, fd->local, ie);
	else if (r == 0)
		ie->state = has_peer(fd->local) ? TCP_ESTABLISHED : TCP_CLOSE; /* as sock_diag shows them */
	if (r == 0 && is_udp(ie))
		r = dump_udp_state(fd->local, ie);
	if (r == 0)
		r = oc_dump_file_begin(t, fd, FD_TYPES__INETSK, &ie->id, &ie->flags, &ie->fown, &fe);
	if (r == 0)
		r = oc_sk_dump_opts(a, fd->local, false, &ie->opts);
	if (r == 0)
		r = dump_ip_opts(a, fd->local, ie);
	if (r == 0 && is_tcp(ie))
		r = dump_tcp_opts(a, fd->local, ie);
	/* Last: repair mode changes what SO_REUSEADDR reads. */
	if (r == 0 && is_tcp(ie) && (oc_tcp_is_connection(ie->state) || is_closed_with_data(fd->local, ie)) &&
	    !t->ctx->opts->tcp_close)
		r = oc_tcp_dump_conn(t->ctx, fd->local, ie);
	if (r < 0)
		return r;
	if (t->ids && t->ids->has_net_ns_id) {
		ie->has_ns_id = true;
		ie->ns_id = t->ids->net_ns_id;
	}
	fe->isk = ie;
	return oc_dump_file_end(t, fe, ret_id);
}

/* ---- restore ------------------------------------------------------------ */

socklen_t oc_inet_sockaddr(uint32_t family, const uint32_t *words, size_t n, uint32_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (void *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (n == 4)
			memcpy(&s6->sin6_addr, words, 16);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (void *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	if (n == 1)
		memcpy(&s4->sin_addr, words, 4);
	return sizeof(*s4);
}

static bool any_set(const uint32_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (w[i])
			return true;
	return false;
}

static int restore_raw_opts(int sk, const InetSkEntry *ie, const IpOptsRawEntry *raw, const char *what)
{
	bool v6 = ie->family == AF_INET6;
	int one = 1;

	if (raw->has_hdrincl && raw->hdrincl &&
	    setsockopt(sk, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_HDRINCL : IP_HDRINCL, &one, sizeof(one)) < 0)
		return oc_error_errno(-errno, "%s: IP_HDRINCL", what);
	if (!v6 && raw->has_nodefrag && raw->nodefrag && setsockopt(sk, SOL_IP, IP_NODEFRAG, &one, sizeof(one)) < 0)
		return oc_error_errno(-errno, "%s: IP_NODEFRAG", what);
	if (raw->n_icmpv_filter && ie->proto == (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) &&
	    setsockopt(sk, v6 ? SOL_ICMPV6 : SOL_RAW, v6 ? ICMP6_FILTER : ICMP_FILTER, raw->icmpv_filter,
		       raw->n_icmpv_filter * sizeof(*raw->icmpv_filter)) < 0)
		return oc_error_errno(-errno, "%s: ICMP type filter", what);
	return 0;
}

/* What must be in place before bind(): v6only, freebind, then the rest. */
static int restore_opts(int sk, const InetSkEntry *ie, const char *what)
{
	const IpOptsEntry *ip = ie->ip_opts;
	const TcpOptsEntry *to = ie->tcp_opts;
	bool v6 = ie->family == AF_INET6;
	int one = 1, v;

	/* A raw socket has its protocol for port: the kernel then takes no
	 * IPV6_V6ONLY, which it gave it from net.ipv6.bindv6only. */
	if (v6 && ie->has_v6only && ie->type != SOCK_RAW &&
	    (v = ie->v6only, setsockopt(sk, SOL_IPV6, IPV6_V6ONLY, &v, sizeof(v)) < 0))
		return oc_error_errno(-errno, "%s: IPV6_V6ONLY", what);
	if (ip && ip->has_freebind && ip->freebind &&
	    setsockopt(sk, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_FREEBIND : IP_FREEBIND, &one, sizeof(one)) < 0)
		return oc_error_errno(-errno, "%s: IP_FREEBIND", what);
	if (ip && ip->has_pktinfo && ip->pktinfo &&
	    setsockopt(sk, v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_RECVPKTINFO : IP_PKTINFO, &one, sizeof(one)) < 0)
		return oc_error_errno(-errno, "%s: IP_PKTINFO", what);
	if (ip && ip->raw && ie->type == SOCK_RAW) {
		int r = restore_raw_opts(sk, ie, ip->raw, what);
		if (r < 0)
			return r;
	}
	if (!v6 && ip && ip->has_tos && (v = ip->tos, setsockopt(sk, SOL_IP, IP_TOS, &v, sizeof(v)) < 0))
		return oc_error_errno(-errno, "%s: IP_TOS %u", what, ip->tos);
	if (!v6 && ip && ip->has_ttl && (v = ip->ttl, setsockopt(sk, SOL_IP, IP_TTL, &v, sizeof(v)) < 0))
		return oc_error_errno(-errno, "%s: IP_TTL %u", what, ip->ttl);
	if (to && is_tcp(ie)) {
		const struct {
			protobuf_c_boolean has;
			int opt;
			int val;
		} tcp[] = {
			{ to->has_cork && to->cork, TCP_CORK, 1 },
			{ to->has_nodelay && to->nodelay, TCP_NODELAY, 1 },
			{ to->has_keepcnt, TCP_KEEPCNT, (int)to->keepcnt },
			{ to->has_keepidle, TCP_KEEPIDLE, (int)to->keepidle },
			{ to->has_keepintvl, TCP_KEEPINTVL, (int)to->keepintvl },
		};
		for (size_t i = 0; i < ARRAY_SIZE(tcp); i++)
			if (tcp[i].has && setsockopt(sk, SOL_TCP, tcp[i].opt, &tcp[i].val, sizeof(int)) < 0)
				return oc_error_errno(-errno, "%s: TCP option %d = %d", what, tcp[i].opt, tcp[i].val);
	}
	return oc_sk_restore_opts(sk, ie->opts, what);
}

/* SO_REUSEADDR and SO_REUSEPORT as the image has them (on or off). */
static int set_reuse(int sk, int addr, int port, const char *what)
{
	if (setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &addr, sizeof(addr)) < 0 ||
	    setsockopt(sk, SOL_SOCKET, SO_REUSEPORT, &port, sizeof(port)) < 0)
		return oc_error_errno(-errno, "%s: SO_REUSEADDR/SO_REUSEPORT", what);
	return 0;
}

/*
 * An IPv6 address may be tentative yet, or gone: the bind is made with
 * IP_FREEBIND on, as CRIU's is, then the option is given its own value.
 */
static int bind_any(int sk, const InetSkEntry *ie, const struct sockaddr_storage *ss, socklen_t len, const char *what)
{
	bool keep = ie->ip_opts && ie->ip_opts->has_freebind && ie->ip_opts->freebind;
	bool v6 = ie->family == AF_INET6;
	int on = 1, off = 0;

	v6 = v6 && ie->type != SOCK_RAW; /* as CRIU: raw sockets bind as they are */
	if (v6 && !keep && setsockopt(sk, SOL_IP, IP_FREEBIND, &on, sizeof(on)) < 0)
		return oc_error_errno(-errno, "%s: IP_FREEBIND", what);
	if (bind(sk, (const struct sockaddr *)ss, len) < 0)
		return oc_error_errno(-errno, "cannot bind %s", what);
	if (v6 && !keep && setsockopt(sk, SOL_IP, IP_FREEBIND, &off, sizeof(off)) < 0)
		return oc_error_errno(-errno, "%s: IP_FREEBIND", what);
	return 0;
}

static int restore_socket(int sk, const InetSkEntry *ie, const char *what)
{
	const SkOptsEntry *o = ie->opts;
	struct sockaddr_storage ss;
	socklen_t len;
	int r = restore_opts(sk, ie, what);

	if (r < 0)
		return r;
	/* Sockets that shared their address with these options on may have
	 * turned them off since: they are on until the socket has its address
	 * and listens, as they were then. */
	if (ie->src_port || any_set(ie->src_addr, ie->n_src_addr)) {
		len = oc_inet_sockaddr(ie->family, ie->src_addr, ie->n_src_addr, ie->src_port, &ss);
		r = set_reuse(sk, 1, 1, what);
		if (r < 0)
			return r;
		r = bind_any(sk, ie, &ss, len, what);
		if (r < 0)
			return r;
	}
	if (!is_tcp(ie) && ie->state == TCP_ESTABLISHED) {
		len = oc_inet_sockaddr(ie->family, ie->dst_addr, ie->n_dst_addr, ie->dst_port, &ss);
		if (connect(sk, (struct sockaddr *)&ss, len) < 0)
			return oc_error_errno(-errno, "cannot connect %s", what);
	}
	/* An unconnected socket says ENOTCONN, yet takes the shutdown. */
	if (is_udp(ie) && ie->has_shutdown && ie->shutdown && shutdown(sk, ie->shutdown - 1) < 0 && errno != ENOTCONN)
		return oc_error_errno(-errno, "%s: cannot shut it down (%u)", what, ie->shutdown);
	if (is_tcp(ie) && ie->state == TCP_LISTEN && listen(sk, ie->backlog) < 0)
		return oc_error_errno(-errno, "cannot listen on %s", what);
	r = set_reuse(sk, o && o->has_reuseaddr && o->reuseaddr, o && o->has_so_reuseport && o->so_reuseport, what);
	return r < 0 ? r : oc_rst_set_status_flags(sk, ie->flags);
}

/*
 * A connection that had ended: a socket shut down both ways, not bound
 * (its port went with the connection, or to a TIME_WAIT that holds it),
 * as CRIU restores one; reads see the end, writes fail.
 */
static int restore_closed(int sk, const InetSkEntry *ie, const char *what)
{
	const SkOptsEntry *o = ie->opts;
	int r = restore_opts(sk, ie, what);

	if (r < 0)
		return r;
	/* It is not connected, yet the kernel takes the shutdown. */
	if (shutdown(sk, SHUT_RDWR) < 0 && errno != ENOTCONN)
		return oc_error_errno(-errno, "%s: cannot shut it down", what);
	r = set_reuse(sk, o && o->has_reuseaddr && o->reuseaddr, o && o->has_so_reuseport && o->so_reuseport, what);
	return r < 0 ? r : oc_rst_set_status_flags(sk, ie->flags);
}

/*
 * A connection: with --tcp-close a socket that is closed (CRIU's), with
 * --tcp-established the connection as it was (sk_tcp.c).
 */
static int restore_connection(struct oc_rst_files *files, int sk, const InetSkEntry *ie, const char *what)
{
	const struct oc_restore_opts *o = files->ctx->opts;
	const InventoryEntry *inv = files->ctx->inventory;
	char dst[64];
	int r = oc_tcp_restore_adopt_lock(files->ctx);

	if (r >= 0)
		r = restore_opts(sk, ie, what);
	if (r < 0)
		return r;
	if (o->tcp_close || (inv->has_tcp_close && inv->tcp_close)) {
		if (inv->has_tcp_close && inv->tcp_close && !o->tcp_close)
			return oc_error(-EINVAL,
					"the images were dumped with --tcp-close: restore them with --tcp-close");
		shutdown(sk, SHUT_RDWR);
		return oc_rst_set_status_flags(sk, ie->flags);
	}
	if (!o->tcp_established)
		return oc_error(-EOPNOTSUPP, "%s: connected to %s (%s): restoring it needs --tcp-established", what,
				oc_inet_endpoint(ie->dst_addr, ie->n_dst_addr, ie->dst_port, dst, sizeof(dst)),
				oc_tcp_state_name(ie->state));
	r = oc_tcp_restore_conn(files, sk, ie, what);
	return r < 0 ? r : oc_rst_set_status_flags(sk, ie->flags);
}

int oc_inet_check_entry(const InetSkEntry *ie, uint32_t id)
{
	char src[64];

	if (!ie || !ie->opts)
		return oc_error(-EINVAL, "files.img: file %u has no inet socket entry", id);
	if ((ie->family != AF_INET && ie->family != AF_INET6) || ie->n_src_addr != (ie->family == AF_INET6 ? 4u : 1u) ||
	    ie->n_dst_addr != ie->n_src_addr)
		return oc_error(-EINVAL, "files.img: inet socket %u: family %u with %zu/%zu address words", id,
				ie->family, ie->n_src_addr, ie->n_dst_addr);
	if (!((ie->type == SOCK_STREAM && ie->proto == IPPROTO_TCP) || is_dgram_proto(ie->type, ie->proto) ||
	      ie->type == SOCK_RAW))
		return oc_error(-EOPNOTSUPP, "files.img: inet socket %u: type %u protocol %u is not supported", id,
				ie->type, ie->proto);
	if (is_tcp(ie) && ie->state != TCP_LISTEN && ie->state != TCP_CLOSE && !oc_tcp_can_restore(ie->state))
		return oc_error(-EOPNOTSUPP, "TCP socket %s (file %u): a connection in state %s cannot be restored yet",
				oc_inet_endpoint(ie->src_addr, ie->n_src_addr, ie->src_port, src, sizeof(src)), id,
				oc_tcp_state_name(ie->state));
	return 0;
}

int oc_inet_rst_netns(const struct oc_rst_ctx *ctx)
{
	return ctx->ns ? ctx->ns->join_fd[OC_NS_NET] : -1;
}

/*
 * The socket, made in the tree's network namespace: a socket belongs to
 * the one it was made in, whatever binds or connects it later.
 */
int oc_sk_rst_socket(const struct oc_rst_ctx *ctx, int family, int type, int proto, const char *what, int *ret)
{
	int netns = oc_inet_rst_netns(ctx), own = -1;

	if (netns < 0 && ctx->ns && (ctx->ns->clone_flags & CLONE_NEWNET))
		return oc_error(-EOPNOTSUPP,
				"%s: the tree's network namespace is made anew in its user namespace, and "
				"sockets cannot be restored into that yet: give it (--join-ns net:PATH)",
				what);
	if (netns >= 0) {
		own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (own < 0 || setns(netns, CLONE_NEWNET) < 0) {
			int r = oc_error_errno(-errno, "%s: cannot enter the tree's network namespace", what);
			if (own >= 0)
				close(own);
			return r;
		}
	}
	*ret = socket(family, type | SOCK_CLOEXEC, proto);
	int err = errno;
	if (own >= 0) {
		/* Staying in the tree's namespace would be worse than failing. */
		if (setns(own, CLONE_NEWNET) < 0)
			abort();
		close(own);
	}
	return *ret < 0 ? oc_error_errno(-err, "%s: socket", what) : 0;
}

static int inet_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	const InetSkEntry *ie = fe->isk;
	char what[128], src[64];
	_cleanup_close_ int sk = -1;
	int r;

	r = oc_inet_check_entry(ie, fe->id);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "%s socket %s (file %u)", proto_name(ie),
		 oc_inet_endpoint(ie->src_addr, ie->n_src_addr, ie->src_port, src, sizeof(src)), fe->id);
	r = oc_sk_rst_socket(files->ctx, ie->family, ie->type, ie->proto, what, &sk);
	if (r < 0)
		return r;
	if (is_tcp(ie) && (oc_tcp_is_connection(ie->state) ||
			   (is_closed_connection(ie) && oc_tcp_closed_has_data(files->ctx, ie->ino))))
		r = restore_connection(files, sk, ie, what);
	else if (is_closed_connection(ie))
		r = restore_closed(sk, ie, what);
	else
		r = restore_socket(sk, ie, what);
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(sk);
	return 0;
}

const struct oc_fd_kind oc_fd_kind_inet = {
	.name = "inet socket",
	.type = FD_TYPES__INETSK,
	.match = inet_match,
	.dump = inet_dump,
	.open = inet_open,
};
