// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Established TCP connections through TCP_REPAIR (see sk_tcp.h).
 *
 * In repair mode the kernel lets us read and set what a connection is:
 * the next sequence number of each queue (TCP_QUEUE_SEQ), the queues'
 * bytes (peeked, and written back as if sent or received), the options
 * the handshake agreed (TCP_REPAIR_OPTIONS), the timestamp clock and the
 * windows; connect() then makes it established without a handshake.
 * The image is CRIU's tcp_stream_entry, the receive queue's bytes then
 * the send queue's after it.  Half-closed connections: see restore_fins().
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "res/fd/sk_inet.h"
#include "res/fd/sk_tcp.h"
#include "res/net/netlock.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "tcp-stream.pb-c.h"

/* What a dump or a restore holds of its connections. */
struct oc_tcp_state {
	struct oc_netlock *lock;
	struct repaired {
		int fd;	       /* our copy of a socket in repair mode */
		int reuseaddr; /* its SO_REUSEADDR, which repair mode overrides */
	} * socks;
	size_t n_socks;
};

static const char *const state_names[] = {
	[TCP_ESTABLISHED] = "established",
	[TCP_SYN_SENT] = "SYN-SENT",
	[TCP_SYN_RECV] = "SYN-RECV",
	[TCP_FIN_WAIT1] = "FIN-WAIT-1",
	[TCP_FIN_WAIT2] = "FIN-WAIT-2",
	[TCP_TIME_WAIT] = "TIME-WAIT",
	[TCP_CLOSE] = "closed",
	[TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[TCP_LAST_ACK] = "LAST-ACK",
	[TCP_LISTEN] = "listening",
	[TCP_CLOSING] = "CLOSING",
};

const char *oc_tcp_state_name(uint32_t state)
{
	return state < ARRAY_SIZE(state_names) && state_names[state] ? state_names[state] : "?";
}

bool oc_tcp_is_connection(uint32_t state)
{
	return state != TCP_LISTEN && state != TCP_CLOSE;
}

/*
 * A half-closed connection is restored as an established one whose FINs
 * are then put back: ours by a shutdown in repair mode, the peer's by a
 * FIN made up as if it came from the peer.  Which of them a state has,
 * and in which order they are put back (the states CRIU restores):
 */
#define STATE_BIT(s) (1u << (s))
/* our FIN, before the peer's (FIN-WAIT-1 -> CLOSING) */
#define SENT_FIN_FIRST (STATE_BIT(TCP_FIN_WAIT1) | STATE_BIT(TCP_FIN_WAIT2) | STATE_BIT(TCP_CLOSING))
/* our FIN, after the peer's (CLOSE-WAIT -> LAST-ACK); a closed connection
 * (one that was reset, with bytes to read) comes back as one that ended
 * with both FINs, as CRIU restores it */
#define SENT_FIN_SECOND (STATE_BIT(TCP_LAST_ACK) | STATE_BIT(TCP_CLOSE))
/* the peer has acknowledged our FIN */
#define SENT_FIN_ACKED (STATE_BIT(TCP_FIN_WAIT2) | STATE_BIT(TCP_CLOSE))
/* the peer's FIN was received */
#define RECEIVED_FIN \
	(STATE_BIT(TCP_CLOSE_WAIT) | STATE_BIT(TCP_LAST_ACK) | STATE_BIT(TCP_CLOSING) | STATE_BIT(TCP_CLOSE))
#define RESTORABLE_STATES \
	(STATE_BIT(TCP_ESTABLISHED) | STATE_BIT(TCP_SYN_SENT) | SENT_FIN_FIRST | SENT_FIN_SECOND | RECEIVED_FIN)

static bool state_has(uint32_t state, uint32_t mask)
{
	return state < 32 && (STATE_BIT(state) & mask);
}

bool oc_tcp_can_restore(uint32_t state)
{
	return state_has(state, RESTORABLE_STATES);
}

static const char *conn_name(const InetSkEntry *ie, char *buf, size_t size)
{
	char s[64], d[64];

	snprintf(buf, size, "%s->%s", oc_inet_endpoint(ie->src_addr, ie->n_src_addr, ie->src_port, s, sizeof(s)),
		 oc_inet_endpoint(ie->dst_addr, ie->n_dst_addr, ie->dst_port, d, sizeof(d)));
	return buf;
}

static int set_int(int sk, int opt, int v)
{
	return setsockopt(sk, SOL_TCP, opt, &v, sizeof(v)) < 0 ? -errno : 0;
}

static int get_int(int sk, int opt, uint32_t *v)
{
	int x = 0;
	socklen_t len = sizeof(x);

	if (getsockopt(sk, SOL_TCP, opt, &x, &len) < 0)
		return -errno;
	*v = x;
	return 0;
}

/* Keep a copy of @sk to take it out of repair mode later. */
static int state_keep(struct oc_tcp_state *st, int sk, int min_fd, int reuseaddr)
{
	struct repaired *socks = realloc(st->socks, (st->n_socks + 1) * sizeof(*socks));
	int fd;

	if (!socks)
		return -ENOMEM;
	st->socks = socks;
	fd = fcntl(sk, F_DUPFD_CLOEXEC, min_fd);
	if (fd < 0)
		return oc_error_errno(-errno, "dup of a TCP socket");
	st->socks[st->n_socks++] = (struct repaired){ fd, reuseaddr };
	return 0;
}

/* Out of repair mode, with SO_REUSEADDR as it was (leaving repair mode
 * clears it). */
static int repair_off(const struct repaired *rs)
{
	int r = set_int(rs->fd, TCP_REPAIR, TCP_REPAIR_OFF);

	if (r == 0 && setsockopt(rs->fd, SOL_SOCKET, SO_REUSEADDR, &rs->reuseaddr, sizeof(int)) < 0)
		r = -errno;
	return r;
}

/* Leave repair mode on every kept socket (@off), close them, drop the
 * lock unless @keep_lock. */
static void state_free(struct oc_tcp_state *st, bool off, bool keep_lock)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_socks; i++) {
		if (off && repair_off(&st->socks[i]) < 0)
			pr_warn("a TCP socket stays in repair mode: %s", strerror(errno));
		close(st->socks[i].fd);
	}
	if (keep_lock && oc_netlock_keep(st->lock) < 0)
		pr_warn("the network lock is lost: %s", oc_error_message());
	oc_netlock_free(st->lock); /* a kept one stays */
	free(st->socks);
	free(st);
}

static int state_get(struct oc_tcp_state **slot, enum oc_net_lock method, const char *run_id, int netns)
{
	struct oc_tcp_state *st;
	int r;

	if (*slot)
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	r = oc_netlock_new(method, run_id, netns, &st->lock);
	if (r < 0) {
		free(st);
		return r;
	}
	*slot = st;
	return 0;
}

/* ---- dump -------------------------------------------------------------- */

/* The dump's lock, in the root's network namespace when it is not ours. */
static int dump_state_get(struct oc_dump_ctx *ctx)
{
	const struct oc_dump_task *root = &ctx->tasks[0];
	_cleanup_close_ int netns = -1;
	char path[64];

	if (ctx->tcp)
		return 0;
	if (root->ids && root->ids->has_net_ns_id && root->ids->net_ns_id != ctx->own_ns_ids[OC_NS_NET]) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", root->pid);
		netns = open(path, O_RDONLY | O_CLOEXEC);
		if (netns < 0)
			return oc_error_errno(-errno, "cannot open %s", path);
		pr_info("network lock: in the network namespace of task %d", root->pid);
	}
	return state_get(&ctx->tcp, ctx->opts->network_lock, ctx->run_id, netns);
}

int oc_tcp_dump_lock_netns(struct oc_dump_ctx *ctx)
{
	_cleanup_close_ int netns = -1;
	char path[64];
	int r;

	if (ctx->opts->network_lock == OC_NET_LOCK_SKIP || !oc_ns_not_ours(ctx->opts->pid, OC_NS_NET))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", ctx->opts->pid);
	netns = open(path, O_RDONLY | O_CLOEXEC);
	if (netns < 0)
		return oc_error_errno(-errno, "cannot open %s", path);
	r = state_get(&ctx->tcp, ctx->opts->network_lock, ctx->run_id, netns);
	return r < 0 ? r : oc_netlock_whole_ns(ctx->tcp->lock);
}

/* The bytes of one queue, peeked in repair mode; *@seq its next number. */
static int peek_queue(int sk, int queue, uint32_t len, uint32_t *seq, uint8_t **ret)
{
	_cleanup_free_ uint8_t *buf = NULL;
	int r = set_int(sk, TCP_REPAIR_QUEUE, queue);

	if (r == 0)
		r = get_int(sk, TCP_QUEUE_SEQ, seq);
	if (r < 0)
		return oc_error_errno(r, "TCP_QUEUE_SEQ");
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	if (len) {
		ssize_t n = recv(sk, buf, len, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0)
			return oc_error_errno(-errno, "peeking at the %s queue",
					      queue == TCP_SEND_QUEUE ? "send" : "receive");
		if ((uint32_t)n != len)
			return oc_error(-EIO, "the %s queue gave %zd of its %u bytes",
					queue == TCP_SEND_QUEUE ? "send" : "receive", n, len);
	}
	*ret = TAKE_PTR(buf);
	return 0;
}

static int read_stream(int sk, uint32_t state, TcpStreamEntry *e, uint8_t **inq, uint8_t **outq)
{
	struct tcp_info ti = {};
	struct tcp_repair_window w = {};
	socklen_t len = sizeof(ti);
	int outq_len, unsq_len, inq_len, r;

	if (getsockopt(sk, SOL_TCP, TCP_INFO, &ti, &len) < 0)
		return oc_error_errno(-errno, "TCP_INFO");
	if (ioctl(sk, SIOCOUTQ, &outq_len) < 0 || ioctl(sk, SIOCOUTQNSD, &unsq_len) < 0 ||
	    ioctl(sk, SIOCINQ, &inq_len) < 0)
		return oc_error_errno(-errno, "the sizes of its queues");
	e->outq_len = outq_len;
	e->has_unsq_len = true;
	e->unsq_len = unsq_len;
	e->inq_len = inq_len;
	/* A reset connection's unacknowledged bytes can never be read. */
	if (state == TCP_CLOSE)
		e->outq_len = e->unsq_len = 0;
	/* Our FIN takes a sequence number in the send queue but is no data:
	 * the image holds the bytes only (and the sequence with the FIN). */
	if (state_has(state, SENT_FIN_FIRST | SENT_FIN_SECOND)) {
		e->outq_len -= e->outq_len ? 1 : 0;
		e->unsq_len -= e->unsq_len ? 1 : 0;
	}
	r = peek_queue(sk, TCP_RECV_QUEUE, e->inq_len, &e->inq_seq, inq);
	if (r >= 0)
		r = peek_queue(sk, TCP_SEND_QUEUE, e->outq_len, &e->outq_seq, outq);
	if (r < 0)
		return r;
	r = get_int(sk, TCP_MAXSEG, &e->mss_clamp);
	if (r < 0)
		return oc_error_errno(r, "TCP_MAXSEG");
	e->opt_mask = ti.tcpi_options;
	if (e->opt_mask & TCPI_OPT_WSCALE) {
		e->snd_wscale = ti.tcpi_snd_wscale;
		e->has_rcv_wscale = true;
		e->rcv_wscale = ti.tcpi_rcv_wscale;
	}
	if (e->opt_mask & TCPI_OPT_TIMESTAMPS) {
		r = get_int(sk, TCP_TIMESTAMP, &e->timestamp);
		if (r < 0)
			return oc_error_errno(r, "TCP_TIMESTAMP");
		e->has_timestamp = true;
	}
	len = sizeof(w);
	if (getsockopt(sk, SOL_TCP, TCP_REPAIR_WINDOW, &w, &len) < 0)
		return oc_error_errno(-errno, "TCP_REPAIR_WINDOW");
	e->has_snd_wl1 = e->has_snd_wnd = e->has_max_window = e->has_rcv_wnd = e->has_rcv_wup = true;
	e->snd_wl1 = w.snd_wl1;
	e->snd_wnd = w.snd_wnd;
	e->max_window = w.max_window;
	e->rcv_wnd = w.rcv_wnd;
	e->rcv_wup = w.rcv_wup;
	return 0;
}

static int write_stream(struct oc_dump_ctx *ctx, uint32_t ino, const TcpStreamEntry *e, const uint8_t *inq,
			const uint8_t *outq)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	int r = oc_img_create(ctx->dir, OC_IMG_TCP_STREAM, ino, &img);

	if (r >= 0)
		r = oc_img_write_entry(img, &e->base);
	if (r >= 0)
		r = oc_img_write_raw(img, inq, e->inq_len);
	if (r >= 0)
		r = oc_img_write_raw(img, outq, e->outq_len);
	return r < 0 ? r : oc_img_commit(img);
}

int oc_tcp_dump_conn(struct oc_dump_ctx *ctx, int sk, const InetSkEntry *ie)
{
	TcpStreamEntry e = TCP_STREAM_ENTRY__INIT;
	_cleanup_free_ uint8_t *inq = NULL, *outq = NULL;
	char name[128];
	int r;

	conn_name(ie, name, sizeof(name));
	if (!oc_tcp_can_restore(ie->state))
		return oc_error(-EOPNOTSUPP, "TCP connection %s is %s: a connection in this state cannot be dumped",
				name, oc_tcp_state_name(ie->state));
	r = dump_state_get(ctx);
	if (r >= 0)
		r = oc_netlock_add(ctx->tcp->lock, ie->family, ie->src_addr, ie->src_port, ie->dst_addr, ie->dst_port);
	/* Kept before repair goes on, so that whatever happens next it
	 * comes off again if the tree runs on. */
	if (r >= 0)
		r = state_keep(ctx->tcp, sk, 3, ie->opts->reuseaddr);
	if (r < 0)
		return oc_error_wrap(r, "TCP connection %s", name);
	r = set_int(sk, TCP_REPAIR, TCP_REPAIR_ON);
	if (r < 0)
		return oc_error_errno(r, "TCP connection %s: cannot turn repair mode on", name);
	r = read_stream(sk, ie->state, &e, &inq, &outq);
	if (r >= 0)
		r = write_stream(ctx, ie->ino, &e, inq, outq);
	if (r < 0)
		return oc_error_wrap(r, "TCP connection %s", name);
	pr_info("TCP connection %s: %u bytes to receive, %u to send (%u not sent yet)", name, e.inq_len, e.outq_len,
		e.unsq_len);
	return 0;
}

void oc_tcp_dump_release(struct oc_dump_ctx *ctx, bool tree_gone)
{
	state_free(ctx->tcp, !tree_gone, tree_gone);
	ctx->tcp = NULL;
}

/* ---- restore ----------------------------------------------------------- */

static int read_stream_image(struct oc_rst_ctx *ctx, uint32_t ino, TcpStreamEntry **ret, uint8_t **inq, uint8_t **outq)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	ProtobufCMessage *msg = NULL;
	int r = oc_img_open(ctx->dir, OC_IMG_TCP_STREAM, ino, &img);

	if (r < 0)
		return r;
	r = oc_img_read_entry(img, NULL, &msg);
	if (r == 0)
		r = oc_error(-EINVAL, "%s: no entry", oc_img_name(img));
	if (r < 0)
		return r;
	*ret = (TcpStreamEntry *)msg;
	r = oc_img_read_alloc(img, (*ret)->inq_len, inq);
	if (r >= 0)
		r = oc_img_read_alloc(img, (*ret)->outq_len, outq);
	if (r >= 0 && (*ret)->has_unsq_len && (*ret)->unsq_len > (*ret)->outq_len)
		r = oc_error(-EINVAL, "%s: %u unsent bytes of %u queued", oc_img_name(img), (*ret)->unsq_len,
			     (*ret)->outq_len);
	return r;
}

/* Write @len bytes into @queue as if they had been sent or received. */
static int fill_queue(int sk, int queue, const uint8_t *buf, uint32_t len)
{
	size_t chunk = 64 << 10;
	int r = queue == TCP_NO_QUEUE ? 0 : set_int(sk, TCP_REPAIR_QUEUE, queue);

	if (r < 0)
		return oc_error_errno(r, "TCP_REPAIR_QUEUE");
	while (len) {
		ssize_t n = send(sk, buf, MIN(chunk, (size_t)len), MSG_DONTWAIT);
		if (n < 0 && errno == ENOMEM && chunk > 1024) {
			chunk /= 2; /* the receive queue takes what memory allows */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return oc_error_errno(n < 0 ? -errno : -EIO, "refilling the %s queue",
					      queue == TCP_SEND_QUEUE ? "send" : "receive");
		buf += n;
		len -= n;
	}
	return 0;
}

static int set_options(int sk, const TcpStreamEntry *e)
{
	struct tcp_repair_opt opts[4];
	size_t n = 0;

	opts[n++] = (struct tcp_repair_opt){ TCPOPT_MAXSEG, e->mss_clamp };
	if (e->opt_mask & TCPI_OPT_SACK)
		opts[n++] = (struct tcp_repair_opt){ TCPOPT_SACK_PERMITTED, 0 };
	if (e->opt_mask & TCPI_OPT_WSCALE)
		opts[n++] = (struct tcp_repair_opt){ TCPOPT_WINDOW, e->snd_wscale | (e->rcv_wscale << 16) };
	if (e->opt_mask & TCPI_OPT_TIMESTAMPS)
		opts[n++] = (struct tcp_repair_opt){ TCPOPT_TIMESTAMP, 0 };
	if (setsockopt(sk, SOL_TCP, TCP_REPAIR_OPTIONS, opts, n * sizeof(opts[0])) < 0)
		return oc_error_errno(-errno, "TCP_REPAIR_OPTIONS");
	if (e->has_timestamp && set_int(sk, TCP_TIMESTAMP, (int)e->timestamp) < 0)
		return oc_error_errno(-errno, "TCP_TIMESTAMP");
	return 0;
}

/*
 * A connection that was still SYN-SENT connects again, out of repair mode
 * and without waiting: its SYN (with the sequence number it had) is held by
 * the lock and sent again once the tree runs; the handshake agrees the
 * options then.
 */
static int connect_again(int sk, const struct sockaddr *sa, socklen_t len)
{
	int flags = fcntl(sk, F_GETFL), r = set_int(sk, TCP_REPAIR, TCP_REPAIR_OFF);

	if (r == 0 && (flags < 0 || fcntl(sk, F_SETFL, flags | O_NONBLOCK) < 0))
		r = -errno;
	if (r == 0 && connect(sk, sa, len) < 0 && errno != EINPROGRESS)
		r = -errno;
	if (flags >= 0)
		fcntl(sk, F_SETFL, flags);
	if (r < 0)
		return oc_error_errno(r, "connect (SYN-SENT)");
	r = set_int(sk, TCP_REPAIR, TCP_REPAIR_ON);
	return r < 0 ? oc_error_errno(r, "repair mode after connect") : 0;
}

static int restore_queues(int sk, const InetSkEntry *ie, const TcpStreamEntry *e, const uint8_t *inq,
			  const uint8_t *outq)
{
	struct sockaddr_storage ss;
	socklen_t len;
	uint32_t unsent = e->has_unsq_len ? e->unsq_len : 0;
	int r;

	bool syn_sent = ie->state == TCP_SYN_SENT;

	r = set_int(sk, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE);
	if (r >= 0)
		r = set_int(sk, TCP_QUEUE_SEQ, (int)(e->inq_seq - e->inq_len));
	if (r >= 0)
		r = set_int(sk, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE);
	/* A SYN-SENT connection's next number is past its SYN, sent again. */
	if (r >= 0)
		r = set_int(sk, TCP_QUEUE_SEQ, (int)(e->outq_seq - e->outq_len - syn_sent));
	if (r < 0)
		return oc_error_errno(r, "setting the sequence numbers");
	len = oc_inet_sockaddr(ie->family, ie->dst_addr, ie->n_dst_addr, ie->dst_port, &ss);
	if (syn_sent)
		return connect_again(sk, (struct sockaddr *)&ss, len);
	if (connect(sk, (struct sockaddr *)&ss, len) < 0)
		return oc_error_errno(-errno, "connect in repair mode");
	r = set_options(sk, e);
	if (r >= 0)
		r = fill_queue(sk, TCP_RECV_QUEUE, inq, e->inq_len);
	/* What the peer may have seen goes in as sent, in repair mode... */
	if (r >= 0)
		r = fill_queue(sk, TCP_SEND_QUEUE, outq, e->outq_len - unsent);
	if (r < 0)
		return r;
	if (e->has_snd_wl1) {
		struct tcp_repair_window w = {
			.snd_wl1 = e->snd_wl1,
			.snd_wnd = e->snd_wnd,
			.max_window = e->max_window,
			.rcv_wnd = e->rcv_wnd,
			.rcv_wup = e->rcv_wup,
		};
		if (setsockopt(sk, SOL_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w)) < 0)
			return oc_error_errno(-errno, "TCP_REPAIR_WINDOW");
	}
	/* ...what it cannot have seen is simply sent (the lock holds it). */
	if (unsent) {
		r = set_int(sk, TCP_REPAIR, TCP_REPAIR_OFF);
		if (r >= 0)
			r = fill_queue(sk, TCP_NO_QUEUE, outq + e->outq_len - unsent, unsent);
		if (r >= 0)
			r = set_int(sk, TCP_REPAIR, TCP_REPAIR_ON);
		if (r < 0)
			return oc_error_errno(r, "queueing the unsent bytes");
	}
	return 0;
}

/* ---- the FINs of a half-closed connection ------------------------------ */

/* What the network lock lets through (CRIU marks its packets so too). */
#define PASS_LOCK_MARK 0xC114
#define TCP_FLAG_FIN   0x01
#define TCP_FLAG_ACK   0x10

static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An IPv4 address in an IPv6 one (a dual-stack socket's IPv4 peer). */
static bool is_v4_mapped(const uint32_t *w)
{
	return w[0] == 0 && w[1] == 0 && w[2] == htonl(0xffff);
}

/*
 * A segment as the peer of @ie would send it (@flags, sequence @seq,
 * acknowledging @ack, window @win), to @ie's socket through a raw socket
 * in its namespace, marked to pass the lock: the socket takes it as it
 * took the real one before the dump.
 */
static int send_as_peer(const struct oc_rst_ctx *ctx, const InetSkEntry *ie, uint32_t seq, uint32_t ack, uint8_t flags,
			uint16_t win)
{
	bool v4 = ie->family == AF_INET || is_v4_mapped(ie->dst_addr);
	const void *peer = v4 ? &ie->dst_addr[ie->n_dst_addr - 1] : ie->dst_addr;
	const void *self = v4 ? &ie->src_addr[ie->n_src_addr - 1] : ie->src_addr;
	size_t alen = v4 ? 4 : 16, hlen = v4 ? sizeof(struct iphdr) : sizeof(struct ip6_hdr);
	uint8_t pkt[sizeof(struct ip6_hdr) + 20] = {}, *tcp = pkt + hlen;
	uint8_t pseudo_tail[4] = { 0, IPPROTO_TCP, 0, 20 };
	struct sockaddr_storage to = {};
	socklen_t tolen;
	_cleanup_close_ int raw = -1;
	int mark = PASS_LOCK_MARK, r;
	uint32_t sum;

	*(uint16_t *)(tcp + 0) = htons(ie->dst_port);
	*(uint16_t *)(tcp + 2) = htons(ie->src_port);
	*(uint32_t *)(tcp + 4) = htonl(seq);
	*(uint32_t *)(tcp + 8) = htonl(ack);
	tcp[12] = 5 << 4; /* header of 5 words, no options */
	tcp[13] = flags;
	*(uint16_t *)(tcp + 14) = htons(win);
	sum = csum_add(csum_add(csum_add(0, peer, alen), self, alen), pseudo_tail, sizeof(pseudo_tail));
	*(uint16_t *)(tcp + 16) = htons(csum_fold(csum_add(sum, tcp, 20)));
	if (v4) {
		struct iphdr *ip = (struct iphdr *)pkt;
		struct sockaddr_in *sin = (struct sockaddr_in *)&to;
		*ip = (struct iphdr){
			.ihl = 5, .version = 4, .tot_len = htons(hlen + 20), .ttl = 64, .protocol = IPPROTO_TCP
		};
		memcpy(&ip->saddr, peer, 4);
		memcpy(&ip->daddr, self, 4);
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, self, 4);
		tolen = sizeof(*sin);
	} else {
		struct ip6_hdr *ip6 = (struct ip6_hdr *)pkt;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&to;
		ip6->ip6_flow = htonl(6u << 28);
		ip6->ip6_plen = htons(20);
		ip6->ip6_nxt = IPPROTO_TCP;
		ip6->ip6_hops = 64;
		memcpy(&ip6->ip6_src, peer, 16);
		memcpy(&ip6->ip6_dst, self, 16);
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, self, 16);
		tolen = sizeof(*sin6);
	}
	/* IPPROTO_RAW: we write the IP header ourselves (its source is the peer). */
	r = oc_sk_rst_socket(ctx, v4 ? AF_INET : AF_INET6, SOCK_RAW, IPPROTO_RAW, "a raw socket", &raw);
	if (r < 0)
		return r;
	if (setsockopt(raw, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0)
		return oc_error_errno(-errno, "SO_MARK on a raw socket");
	if (sendto(raw, pkt, hlen + 20, 0, (struct sockaddr *)&to, tolen) < 0)
		return oc_error_errno(-errno, "sending the peer's %s", flags & TCP_FLAG_FIN ? "FIN" : "ACK");
	return 0;
}

/* Our FIN goes into the send queue; @acked: as already sent (and then
 * acknowledged by send_as_peer()). */
static int shut_write(int sk, bool acked)
{
	int r = acked ? set_int(sk, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE) : 0;

	if (r == 0 && shutdown(sk, SHUT_WR) < 0)
		r = -errno;
	if (r == 0 && acked)
		r = set_int(sk, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
	return r < 0 ? oc_error_errno(r, "shutting the connection down for writing") : 0;
}

/*
 * The image counts the FINs in the sequence numbers; the connection is
 * made without them (restore_fins() puts them back).
 */
static void seq_without_fins(uint32_t state, TcpStreamEntry *e)
{
	if (state_has(state, RECEIVED_FIN)) {
		e->inq_seq--;
		if (e->has_snd_wl1) { /* the window was last moved past the FIN */
			e->rcv_wup--;
			e->rcv_wnd++;
		}
	}
	if (state_has(state, SENT_FIN_FIRST | SENT_FIN_SECOND))
		e->outq_seq--;
}

/* The established connection @sk goes to @ie's half-closed state. */
static int restore_fins(const struct oc_rst_ctx *ctx, int sk, const InetSkEntry *ie, const TcpStreamEntry *e)
{
	uint32_t st = ie->state, una = e->outq_seq - e->outq_len;
	uint32_t win = e->has_snd_wl1 ? e->snd_wnd >> ((e->opt_mask & TCPI_OPT_WSCALE) ? e->snd_wscale : 0) : 0xffff;
	int r = 0;

	win = MIN(win, 0xffffu);
	if (state_has(st, SENT_FIN_FIRST))
		r = shut_write(sk, state_has(st, SENT_FIN_ACKED));
	if (r >= 0 && state_has(st, RECEIVED_FIN))
		r = send_as_peer(ctx, ie, e->inq_seq, una, TCP_FLAG_FIN | TCP_FLAG_ACK, win);
	if (r >= 0 && state_has(st, SENT_FIN_SECOND))
		r = shut_write(sk, false);
	if (r >= 0 && state_has(st, SENT_FIN_ACKED))
		r = send_as_peer(ctx, ie, e->inq_seq, una + 1, TCP_FLAG_ACK, win);
	return r;
}

/*
 * The queues go back in other pieces than they were built of, which may
 * take more memory: the buffers are made large enough while they are
 * refilled, and set as the image has them after.
 */
static int set_buffers(int sk, int snd, int rcv)
{
	if (setsockopt(sk, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0 ||
	    setsockopt(sk, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		return oc_error_errno(-errno, "setting the socket buffers");
	return 0;
}

static int restore_stream(int sk, const InetSkEntry *ie, const TcpStreamEntry *e, const uint8_t *inq,
			  const uint8_t *outq)
{
	int r = set_buffers(sk, MAX(ie->opts->so_sndbuf / 2, e->outq_len * 2 + (1 << 20)),
			    MAX(ie->opts->so_rcvbuf / 2, e->inq_len * 2 + (1 << 20)));

	if (r >= 0)
		r = restore_queues(sk, ie, e, inq, outq);
	return r < 0 ? r : set_buffers(sk, ie->opts->so_sndbuf / 2, ie->opts->so_rcvbuf / 2);
}

int oc_tcp_restore_conn(struct oc_rst_files *files, int sk, const InetSkEntry *ie, const char *what)
{
	struct oc_rst_ctx *ctx = files->ctx;
	TcpStreamEntry *e = NULL;
	_cleanup_free_ uint8_t *inq = NULL, *outq = NULL;
	struct sockaddr_storage ss;
	socklen_t len;
	char name[128];
	int r;

	conn_name(ie, name, sizeof(name));
	if (!oc_tcp_can_restore(ie->state))
		return oc_error(-EOPNOTSUPP,
				"%s: TCP connection %s is %s: a connection in this state cannot be restored", what,
				name, oc_tcp_state_name(ie->state));
	r = oc_tcp_restore_adopt_lock(ctx);
	if (r >= 0)
		r = oc_netlock_add(ctx->tcp->lock, ie->family, ie->src_addr, ie->src_port, ie->dst_addr, ie->dst_port);
	if (r >= 0)
		r = read_stream_image(ctx, ie->ino, &e, &inq, &outq);
	if (r < 0)
		goto out;
	r = set_int(sk, TCP_REPAIR, TCP_REPAIR_ON);
	if (r < 0) {
		r = oc_error_errno(r, "cannot turn repair mode on");
		goto out;
	}
	/* Repair mode lets it share the port with our listener; leaving it
	 * puts the image's SO_REUSEADDR back (repair_off()). */
	len = oc_inet_sockaddr(ie->family, ie->src_addr, ie->n_src_addr, ie->src_port, &ss);
	if (bind(sk, (struct sockaddr *)&ss, len) < 0) {
		r = oc_error_errno(-errno, "cannot bind");
		goto out;
	}
	seq_without_fins(ie->state, e);
	r = restore_stream(sk, ie, e, inq, outq);
	if (r >= 0)
		r = restore_fins(ctx, sk, ie, e);
	if (r >= 0)
		r = state_keep(ctx->tcp, sk, files->helper_base, ie->opts->reuseaddr);
	if (r >= 0)
		pr_info("TCP connection %s: restored in repair mode, %u bytes to read, %u to send", name, e->inq_len,
			e->outq_len);
out:
	if (e)
		protobuf_c_message_free_unpacked(&e->base, NULL);
	return r < 0 ? oc_error_wrap(r, "%s: TCP connection %s", what, name) : 0;
}

bool oc_tcp_closed_has_data(struct oc_rst_ctx *ctx, uint32_t ino)
{
	TcpStreamEntry *e = NULL;
	_cleanup_free_ uint8_t *inq = NULL, *outq = NULL;
	bool has;

	/* CRIU writes one for every closed connection; ocicr for those with
	 * bytes to read.  Without them a closed socket is all there is. */
	if (read_stream_image(ctx, ino, &e, &inq, &outq) < 0)
		return false;
	has = e->inq_len > 0;
	protobuf_c_message_free_unpacked(&e->base, NULL);
	return has;
}

int oc_tcp_restore_adopt_lock(struct oc_rst_ctx *ctx)
{
	const InventoryEntry *inv = ctx->inventory;
	int r;

	if (ctx->tcp)
		return 0;
	/* In the namespace the sockets are made in (sk_inet.c). */
	r = state_get(&ctx->tcp, oc_netlock_from_image(inv->has_network_lock_method, inv->network_lock_method),
		      inv->dump_criu_run_id ? inv->dump_criu_run_id : "", oc_inet_rst_netns(ctx));
	if (r >= 0)
		r = oc_netlock_adopt(ctx->tcp->lock);
	if (r >= 0 && oc_ns_rst_not_ours(ctx, OC_NS_NET))
		r = oc_netlock_whole_ns(ctx->tcp->lock);
	return r;
}

int oc_tcp_restore_lock_netns(struct oc_rst_ctx *ctx)
{
	if (!oc_ns_rst_not_ours(ctx, OC_NS_NET) || oc_inet_rst_netns(ctx) < 0)
		return 0;
	return oc_tcp_restore_adopt_lock(ctx);
}

int oc_tcp_restore_resume(struct oc_rst_ctx *ctx)
{
	struct oc_tcp_state *st = ctx->tcp;

	if (!st)
		return 0;
	/* The lock goes first.  Every connection's socket exists now, so no
	 * packet of a peer meets a reset any more; and what leaving repair
	 * mode sends (a window probe, the queued segments) must reach the
	 * peer: dropped, a connection whose windows were shut waits for its
	 * persist or retransmit timer, backed off to tens of seconds. */
	oc_netlock_free(st->lock);
	st->lock = NULL;
	for (size_t i = 0; i < st->n_socks; i++) {
		int r = repair_off(&st->socks[i]);
		if (r < 0)
			return oc_error_errno(r, "a restored TCP connection cannot leave repair mode");
	}
	pr_info("%zu TCP connection(s) out of repair mode", st->n_socks);
	state_free(st, false, false);
	ctx->tcp = NULL;
	return 0;
}

void oc_tcp_restore_fini(struct oc_rst_ctx *ctx)
{
	/* The sockets die with the tree in repair mode: the peer sees nothing. */
	state_free(ctx->tcp, false, false);
	ctx->tcp = NULL;
}
