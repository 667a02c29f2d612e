// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Seqpacket socket pairs at the ends of their lives: one end shut for
 * reading with messages queued the other way, one shut both ways after
 * sending, one whose peer closed with messages queued, and empty messages
 * between others.  A seqpacket socket shut for reading reads end of file
 * (0) once its queue is empty, which an empty message also reads: the
 * dump must tell the two apart and end (an endless peek hung it).
 */
#include <sys/socket.h>

#include "fdsock_wl.h"

static int rd[2], both[2], gone[2], empty[2];

static void check_msgs(int fd, const char *const *want, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++) {
		char buf[64] = "";
		ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		size_t len = strlen(want[i]);
		WL_CHECK(got == (ssize_t)len && !memcmp(buf, want[i], len),
			 "%s: message %zu is %zd bytes '%.*s', want '%s' (%s)", what, i, got, got > 0 ? (int)got : 0,
			 buf, want[i], got < 0 ? strerror(errno) : "");
	}
}

static void check_eof(int fd, const char *what)
{
	char buf[16];
	ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	WL_CHECK(got == 0, "%s: read %zd (%s), want end of file", what, got, got < 0 ? strerror(errno) : "data");
}

static void check_empty(int fd, const char *what)
{
	char buf[16];
	ssize_t got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	WL_CHECK(got < 0 && errno == EAGAIN, "%s: read %zd, want nothing queued", what, got);
}

static void check_epipe(int fd, const char *what)
{
	WL_CHECK(send(fd, "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE, "%s: a send did not fail with EPIPE", what);
}

static void setup(void)
{
	WL_SETUP(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, rd) == 0 && socketpair(AF_UNIX, SOCK_SEQPACKET, 0, both) == 0 &&
			 socketpair(AF_UNIX, SOCK_SEQPACKET, 0, gone) == 0 &&
			 socketpair(AF_UNIX, SOCK_SEQPACKET, 0, empty) == 0,
		 "seqpacket pairs");

	/* rd[0] reads no more; it still sends */
	WL_SETUP(send(rd[0], "a1", 2, 0) == 2 && send(rd[0], "a22", 3, 0) == 3, "send on the read-shut end");
	WL_SETUP(shutdown(rd[0], SHUT_RD) == 0, "shutdown(SHUT_RD)");

	/* both[0] sent, then shut both ways */
	WL_SETUP(send(both[0], "last", 4, 0) == 4, "send before SHUT_RDWR");
	WL_SETUP(shutdown(both[0], SHUT_RDWR) == 0, "shutdown(SHUT_RDWR)");

	/* gone[0] sent and closed */
	WL_SETUP(send(gone[0], "m1", 2, 0) == 2 && send(gone[0], "m22", 3, 0) == 3, "send before close");
	close(gone[0]);

	/* empty messages first, between and last */
	WL_SETUP(send(empty[0], "", 0, 0) == 0 && send(empty[0], "z1", 2, 0) == 2 && send(empty[0], "", 0, 0) == 0 &&
			 send(empty[0], "z22", 3, 0) == 3 && send(empty[0], "", 0, 0) == 0,
		 "empty messages");
}

static void check(void)
{
	static const char *const a[] = { "a1", "a22" }, *const last[] = { "last" }, *const m[] = { "m1", "m22" },
				 *const z[] = { "", "z1", "", "z22", "" };

	check_eof(rd[0], "read-shut end");
	check_msgs(rd[1], a, 2, "read-shut end's peer");
	check_empty(rd[1], "read-shut end's peer");
	WL_CHECK(send(rd[0], "more", 4, 0) == 4, "read-shut end: cannot send after restore");
	static const char *const more[] = { "more" };
	check_msgs(rd[1], more, 1, "read-shut end's peer after restore");
	check_epipe(rd[1], "read-shut end's peer");

	check_eof(both[0], "end shut both ways");
	check_epipe(both[0], "end shut both ways");
	check_msgs(both[1], last, 1, "peer of the end shut both ways");
	check_eof(both[1], "peer of the end shut both ways");

	check_msgs(gone[1], m, 2, "socket whose peer closed");
	check_eof(gone[1], "socket whose peer closed");
	check_epipe(gone[1], "socket whose peer closed");

	check_msgs(empty[1], z, 5, "empty messages");
	check_empty(empty[1], "empty messages");
	WL_CHECK(send(empty[1], "back", 4, 0) == 4, "empty messages: cannot send back");
	static const char *const back[] = { "back" };
	check_msgs(empty[0], back, 1, "empty messages, sent back");
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);
	setup();
	wl_ready(argv);
	wl_wait_usr1();
	check();
	return wl_finish();
}
