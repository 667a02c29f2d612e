// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Socket pairs of every type, with data queued in both directions at
 * checkpoint time: stream bytes in order, datagram and seqpacket message
 * boundaries (an empty datagram included), a pair shut down one way, a
 * socket whose peer closed with data still queued, an abstract name bound
 * on a datagram pair's end, file flags, socket options and a dup; and
 * sockets never connected, one of them bound.
 */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fdsock_wl.h"

#define BIG (100 * 1024)

static int sp[2], dp[2], qp[2], hp[2], cp[2], spdup, lone, bound;
static char abstract[64], abstract_bound[64];
static unsigned char big[BIG];

static void check_stream(int fd, const char *want, const char *what)
{
	size_t len = strlen(want);
	char buf[256] = "";

	WL_CHECK(wl_read_all(fd, buf, len) && !memcmp(buf, want, len), "%s: read '%.*s', want '%s'", what, (int)len,
		 buf, want);
}

static void check_msgs(int fd, const char *const *want, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		char buf[256];
		ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		size_t len = strlen(want[i]);
		WL_CHECK(got == (ssize_t)len && !memcmp(buf, want[i], len),
			 "%s: message %zu is %zd bytes '%.*s', want '%s'", what, i, got, got > 0 ? (int)got : 0, buf,
			 want[i]);
	}
	char buf[16];
	WL_CHECK(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN, "%s: more messages than sent", what);
}

static void setup(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int v;

	WL_SETUP(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0, "stream pair");
	WL_SETUP(socketpair(AF_UNIX, SOCK_DGRAM, 0, dp) == 0, "datagram pair");
	WL_SETUP(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, qp) == 0, "seqpacket pair");
	WL_SETUP(socketpair(AF_UNIX, SOCK_STREAM, 0, hp) == 0, "half-shut pair");
	WL_SETUP(socketpair(AF_UNIX, SOCK_STREAM, 0, cp) == 0, "closing pair");

	/* stream: both ways, and a big block one way */
	for (size_t i = 0; i < BIG; i++)
		big[i] = (i * 7 + i / 251) & 0xff;
	WL_SETUP(write(sp[0], "hello ", 6) == 6 && write(sp[0], "world", 5) == 5, "stream write");
	WL_SETUP(wl_write_all(sp[0], big, BIG), "stream big write");
	WL_SETUP(write(sp[1], "back", 4) == 4, "stream write back");
	WL_SETUP(fcntl(sp[0], F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK");
	v = 96 * 1024;
	WL_SETUP(setsockopt(sp[1], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) == 0, "SO_SNDBUF");
	spdup = dup(sp[0]);
	WL_SETUP(spdup >= 0, "dup");

	/* datagrams: boundaries, an empty one, both ways */
	WL_SETUP(send(dp[0], "d1", 2, 0) == 2 && send(dp[0], "", 0, 0) == 0 && send(dp[0], "d333", 4, 0) == 4,
		 "datagram send");
	WL_SETUP(send(dp[1], "e1", 2, 0) == 2 && send(dp[1], "e22", 3, 0) == 3, "datagram send back");
	snprintf(abstract, sizeof(abstract), "fdsock-pair-%d", getpid());
	memcpy(sa.sun_path + 1, abstract, strlen(abstract));
	WL_SETUP(bind(dp[1], (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) + 1 + strlen(abstract)) ==
			 0,
		 "bind datagram end");
	v = 1;
	WL_SETUP(setsockopt(dp[0], SOL_SOCKET, SO_PASSCRED, &v, sizeof(v)) == 0, "SO_PASSCRED");

	/* seqpacket */
	WL_SETUP(send(qp[0], "q1", 2, 0) == 2 && send(qp[0], "q22", 3, 0) == 3 && send(qp[0], "q333", 4, 0) == 4,
		 "seqpacket send");
	WL_SETUP(send(qp[1], "r1", 2, 0) == 2, "seqpacket send back");

	/* one way shut, data before the shutdown */
	WL_SETUP(write(hp[0], "tail", 4) == 4, "half-shut write");
	WL_SETUP(shutdown(hp[0], SHUT_WR) == 0, "shutdown");
	WL_SETUP(write(hp[1], "up", 2) == 2, "half-shut write back");

	/* the peer closes with data queued */
	WL_SETUP(write(cp[0], "bye", 3) == 3, "closing write");
	close(cp[0]);

	/* never connected: one bare, one bound (not listening) */
	lone = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	bound = socket(AF_UNIX, SOCK_STREAM, 0);
	WL_SETUP(lone >= 0 && bound >= 0, "unconnected sockets");
	snprintf(abstract_bound, sizeof(abstract_bound), "fdsock-bound-%d", getpid());
	memcpy(sa.sun_path + 1, abstract_bound, strlen(abstract_bound));
	WL_SETUP(bind(bound, (struct sockaddr *)&sa,
		      offsetof(struct sockaddr_un, sun_path) + 1 + strlen(abstract_bound)) == 0,
		 "bind unconnected");
}

static void check_type(int fd, int want, const char *what)
{
	int type = -1;
	socklen_t len = sizeof(type);

	WL_CHECK(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == want, "%s: type %d, want %d", what,
		 type, want);
}

static void check(void)
{
	struct sockaddr_un sa;
	socklen_t len;
	struct stat a, b;
	char buf[BIG];
	int v;

	/* stream */
	check_stream(sp[1], "hello world", "stream");
	WL_CHECK(wl_read_all(sp[1], buf, BIG) && !memcmp(buf, big, BIG), "stream: the big block differs");
	check_stream(sp[0], "back", "stream back");
	WL_CHECK(fcntl(sp[0], F_GETFL) & O_NONBLOCK, "stream: O_NONBLOCK lost");
	WL_CHECK(!(fcntl(sp[1], F_GETFL) & O_NONBLOCK), "stream: O_NONBLOCK gained");
	WL_CHECK(read(sp[0], buf, 1) < 0 && errno == EAGAIN, "stream: a non-blocking read did not say EAGAIN");
	len = sizeof(v);
	WL_CHECK(getsockopt(sp[1], SOL_SOCKET, SO_SNDBUF, &v, &len) == 0 && v == 2 * 96 * 1024,
		 "stream: SO_SNDBUF is %d, want %d", v, 2 * 96 * 1024);
	WL_CHECK(fstat(sp[0], &a) == 0 && fstat(spdup, &b) == 0 && a.st_ino == b.st_ino, "dup: not the same socket");
	len = sizeof(sa);
	WL_CHECK(getsockname(sp[0], (struct sockaddr *)&sa, &len) == 0 && len == sizeof(sa_family_t),
		 "stream: an unnamed end has a name (%u bytes)", len);
	WL_CHECK(write(sp[0], "again", 5) == 5, "stream: cannot write after restore");
	check_stream(sp[1], "again", "stream after restore");
	WL_CHECK(write(spdup, "dup", 3) == 3, "dup: cannot write");
	check_stream(sp[1], "dup", "stream through the dup");

	/* datagrams */
	static const char *const d_fwd[] = { "d1", "", "d333" }, *const d_back[] = { "e1", "e22" };
	check_msgs(dp[1], d_fwd, 3, "datagram");
	check_msgs(dp[0], d_back, 2, "datagram back");
	len = sizeof(sa);
	WL_CHECK(getsockname(dp[1], (struct sockaddr *)&sa, &len) == 0 &&
			 len == offsetof(struct sockaddr_un, sun_path) + 1 + strlen(abstract) && !sa.sun_path[0] &&
			 !memcmp(sa.sun_path + 1, abstract, strlen(abstract)),
		 "datagram: the bound end lost its abstract name");
	len = sizeof(sa);
	WL_CHECK(getpeername(dp[0], (struct sockaddr *)&sa, &len) == 0 &&
			 len == offsetof(struct sockaddr_un, sun_path) + 1 + strlen(abstract) &&
			 !memcmp(sa.sun_path + 1, abstract, strlen(abstract)),
		 "datagram: the peer's name is wrong");
	len = sizeof(v);
	WL_CHECK(getsockopt(dp[0], SOL_SOCKET, SO_PASSCRED, &v, &len) == 0 && v, "datagram: SO_PASSCRED lost");
	WL_CHECK(send(dp[1], "new", 3, 0) == 3, "datagram: cannot send after restore");
	static const char *const d_new[] = { "new" };
	check_msgs(dp[0], d_new, 1, "datagram after restore");

	/* seqpacket */
	static const char *const q_fwd[] = { "q1", "q22", "q333" }, *const q_back[] = { "r1" };
	check_msgs(qp[1], q_fwd, 3, "seqpacket");
	check_msgs(qp[0], q_back, 1, "seqpacket back");

	/* half shut: the data, then the end */
	check_stream(hp[1], "tail", "half-shut");
	WL_CHECK(read(hp[1], buf, 1) == 0, "half-shut: no end of file after the data");
	WL_CHECK(write(hp[0], "x", 1) < 0 && errno == EPIPE, "half-shut: the shut end can still write");
	check_stream(hp[0], "up", "half-shut back");
	WL_CHECK(write(hp[1], "ok", 2) == 2, "half-shut: the open way is closed");
	check_stream(hp[0], "ok", "half-shut open way");

	/* the closed peer: its last words, then the end */
	check_stream(cp[1], "bye", "closed peer");
	WL_CHECK(read(cp[1], buf, 1) == 0, "closed peer: no end of file after the data");
	WL_CHECK(write(cp[1], "x", 1) < 0 && errno == EPIPE, "closed peer: writing did not fail with EPIPE");

	/* types, and the sockets never connected */
	check_type(sp[0], SOCK_STREAM, "stream");
	check_type(dp[0], SOCK_DGRAM, "datagram");
	check_type(qp[1], SOCK_SEQPACKET, "seqpacket");
	check_type(lone, SOCK_SEQPACKET, "unconnected");
	check_type(bound, SOCK_STREAM, "bound");
	len = sizeof(sa);
	WL_CHECK(getsockname(lone, (struct sockaddr *)&sa, &len) == 0 && len == sizeof(sa_family_t),
		 "unconnected: has a name");
	WL_CHECK(getpeername(lone, (struct sockaddr *)&sa, &len) < 0 && errno == ENOTCONN, "unconnected: has a peer");
	len = sizeof(sa);
	WL_CHECK(getsockname(bound, (struct sockaddr *)&sa, &len) == 0 && !sa.sun_path[0] &&
			 !memcmp(sa.sun_path + 1, abstract_bound, strlen(abstract_bound)),
		 "bound: lost its name");
	WL_CHECK(listen(bound, 1) == 0, "bound: cannot listen after restore: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	setup();
	wl_ready(argv);
	wl_wait_usr1();
	check();
	return wl_finish();
}
