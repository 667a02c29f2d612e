// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Listening sockets and what came of them, in one process:
 *
 *  - a stream listener bound to a path, with an accepted connection from a
 *    client bound to a path of its own (data queued both ways), and a
 *    connection not yet accepted;
 *  - a seqpacket listener on an abstract name with an accepted connection
 *    (messages queued both ways);
 *  - a stream listener whose path was unlinked;
 *  - a datagram server bound to a path, a client connected to it one way,
 *    and messages queued on the server from that client and from a socket
 *    since closed;
 *  - a datagram socket bound to a name relative to the working directory.
 *
 * After restore every name reads back as before, the waiting connection
 * is accepted first, and the listeners take new connections.
 */
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fdsock_wl.h"

static struct sockaddr_un a_srv, a_cli, a_abs, a_gone, a_dsrv;
static socklen_t l_srv, l_cli, l_abs, l_gone, l_dsrv;
static int lsn, cli, acc, pending, slsn, scli, sacc, glsn, dsrv, dcli, rel;
static char rel_name[64];

static socklen_t path_addr(struct sockaddr_un *sa, const char *dir, const char *name)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s-%d", dir, name, getpid());
	unlink(sa->sun_path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(sa->sun_path) + 1;
}

static socklen_t abstract_addr(struct sockaddr_un *sa, const char *name)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	int n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "%s-%d", name, getpid());
	return offsetof(struct sockaddr_un, sun_path) + 1 + n;
}

static int sock(int type)
{
	int fd = socket(AF_UNIX, type, 0);
	WL_SETUP(fd >= 0, "socket");
	return fd;
}

/* getsockname or getpeername of @fd is @want. */
static void check_name(int fd, bool peer, const struct sockaddr_un *want, socklen_t want_len, const char *what)
{
	struct sockaddr_un sa = {};
	socklen_t len = sizeof(sa);
	int r = peer ? getpeername(fd, (struct sockaddr *)&sa, &len) : getsockname(fd, (struct sockaddr *)&sa, &len);
	size_t n = want_len - offsetof(struct sockaddr_un, sun_path);

	/* Path names read back with or without their NUL. */
	if (r == 0 && want->sun_path[0] && len == want_len - 1)
		n--;
	WL_CHECK(r == 0 && !memcmp(sa.sun_path, want->sun_path, n), "%s: %s is '%s%s' (%u bytes), want '%s%s'", what,
		 peer ? "peer name" : "name", sa.sun_path[0] ? "" : "@", sa.sun_path[0] ? sa.sun_path : sa.sun_path + 1,
		 len, want->sun_path[0] ? "" : "@", want->sun_path[0] ? want->sun_path : want->sun_path + 1);
}

static void check_unnamed(int fd, bool peer, const char *what)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	int r = peer ? getpeername(fd, (struct sockaddr *)&sa, &len) : getsockname(fd, (struct sockaddr *)&sa, &len);

	WL_CHECK(r == 0 && len == sizeof(sa_family_t), "%s: has a %s (%u bytes)", what, peer ? "peer name" : "name",
		 len);
}

static void check_read(int fd, const char *want, const char *what)
{
	size_t len = strlen(want);
	char buf[256] = "";

	WL_CHECK(wl_read_all(fd, buf, len) && !memcmp(buf, want, len), "%s: read '%.*s', want '%s'", what, (int)len,
		 buf, want);
}

static void check_msg(int fd, const char *want, const char *what)
{
	char buf[256] = "";
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	WL_CHECK(n == (ssize_t)strlen(want) && !memcmp(buf, want, n), "%s: message '%.*s' (%zd), want '%s'", what,
		 n > 0 ? (int)n : 0, buf, n, want);
}

static void setup(const char *dir)
{
	l_srv = path_addr(&a_srv, dir, "srv");
	l_cli = path_addr(&a_cli, dir, "cli");
	l_abs = abstract_addr(&a_abs, "fdsock-listen");
	l_gone = path_addr(&a_gone, dir, "gone");
	l_dsrv = path_addr(&a_dsrv, dir, "dgram");

	lsn = sock(SOCK_STREAM);
	WL_SETUP(bind(lsn, (struct sockaddr *)&a_srv, l_srv) == 0 && listen(lsn, 8) == 0, "stream listener");
	cli = sock(SOCK_STREAM);
	WL_SETUP(bind(cli, (struct sockaddr *)&a_cli, l_cli) == 0, "bind client");
	WL_SETUP(connect(cli, (struct sockaddr *)&a_srv, l_srv) == 0, "connect client");
	acc = accept(lsn, NULL, NULL);
	WL_SETUP(acc >= 0, "accept");
	WL_SETUP(write(cli, "to server", 9) == 9 && write(acc, "to client", 9) == 9, "stream data");
	pending = sock(SOCK_STREAM);
	WL_SETUP(connect(pending, (struct sockaddr *)&a_srv, l_srv) == 0, "connect pending");

	slsn = sock(SOCK_SEQPACKET);
	WL_SETUP(bind(slsn, (struct sockaddr *)&a_abs, l_abs) == 0 && listen(slsn, 4) == 0, "seqpacket listener");
	scli = sock(SOCK_SEQPACKET);
	WL_SETUP(connect(scli, (struct sockaddr *)&a_abs, l_abs) == 0, "connect seqpacket");
	sacc = accept(slsn, NULL, NULL);
	WL_SETUP(sacc >= 0, "accept seqpacket");
	WL_SETUP(send(scli, "s1", 2, 0) == 2 && send(scli, "s22", 3, 0) == 3 && send(sacc, "t1", 2, 0) == 2,
		 "seqpacket data");

	glsn = sock(SOCK_STREAM);
	WL_SETUP(bind(glsn, (struct sockaddr *)&a_gone, l_gone) == 0 && listen(glsn, 2) == 0, "listener to unlink");
	WL_SETUP(unlink(a_gone.sun_path) == 0, "unlink");

	dsrv = sock(SOCK_DGRAM);
	WL_SETUP(bind(dsrv, (struct sockaddr *)&a_dsrv, l_dsrv) == 0, "datagram server");
	dcli = sock(SOCK_DGRAM);
	WL_SETUP(connect(dcli, (struct sockaddr *)&a_dsrv, l_dsrv) == 0, "datagram connect");
	WL_SETUP(send(dcli, "m1", 2, 0) == 2 && send(dcli, "m22", 3, 0) == 3, "datagram send");
	int once = sock(SOCK_DGRAM);
	WL_SETUP(sendto(once, "m333", 4, 0, (struct sockaddr *)&a_dsrv, l_dsrv) == 4, "datagram sendto");
	close(once);

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(rel_name, sizeof(rel_name), "rel-%d", getpid());
	strcpy(sa.sun_path, rel_name);
	unlink(rel_name);
	rel = sock(SOCK_DGRAM);
	WL_SETUP(chdir(dir) == 0, "chdir");
	WL_SETUP(bind(rel, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind a relative name");
	WL_SETUP(sendto(dcli, "r1", 2, 0, (struct sockaddr *)&sa, sizeof(sa)) == 2, "send to the relative name");
}

static void check(void)
{
	/* the path listener and its accepted connection */
	check_name(lsn, false, &a_srv, l_srv, "listener");
	check_name(acc, false, &a_srv, l_srv, "accepted");
	check_name(acc, true, &a_cli, l_cli, "accepted");
	check_name(cli, false, &a_cli, l_cli, "client");
	check_name(cli, true, &a_srv, l_srv, "client");
	check_read(acc, "to server", "accepted");
	check_read(cli, "to client", "client");
	WL_CHECK(write(cli, "ping", 4) == 4, "client: cannot write after restore");
	check_read(acc, "ping", "accepted after restore");

	/* the waiting connection comes first, then a new one */
	int a2 = accept(lsn, NULL, NULL);
	WL_CHECK(a2 >= 0, "listener: cannot accept the waiting connection: %s", strerror(errno));
	check_name(pending, true, &a_srv, l_srv, "waiting client");
	check_unnamed(pending, false, "waiting client");
	if (a2 >= 0) {
		WL_CHECK(write(pending, "late", 4) == 4, "waiting client: cannot write");
		check_read(a2, "late", "accepted waiting client");
	}
	int nc = socket(AF_UNIX, SOCK_STREAM, 0);
	WL_CHECK(connect(nc, (struct sockaddr *)&a_srv, l_srv) == 0, "listener: a new client cannot connect: %s",
		 strerror(errno));
	int a3 = accept(lsn, NULL, NULL);
	WL_CHECK(a3 >= 0, "listener: cannot accept a new connection");
	if (a3 >= 0) {
		WL_CHECK(write(a3, "welcome", 7) == 7, "new connection: cannot write");
		check_read(nc, "welcome", "new connection");
	}

	/* seqpacket on an abstract name */
	check_name(slsn, false, &a_abs, l_abs, "seqpacket listener");
	check_name(sacc, false, &a_abs, l_abs, "seqpacket accepted");
	check_name(scli, true, &a_abs, l_abs, "seqpacket client");
	check_unnamed(scli, false, "seqpacket client");
	check_msg(sacc, "s1", "seqpacket accepted");
	check_msg(sacc, "s22", "seqpacket accepted");
	check_msg(scli, "t1", "seqpacket client");
	int sc2 = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	WL_CHECK(connect(sc2, (struct sockaddr *)&a_abs, l_abs) == 0, "seqpacket listener: cannot connect anew");
	int sa2 = accept(slsn, NULL, NULL);
	WL_CHECK(sa2 >= 0 && send(sc2, "new", 3, 0) == 3, "seqpacket listener: cannot accept anew");
	if (sa2 >= 0)
		check_msg(sa2, "new", "seqpacket new connection");

	/* the unlinked listener keeps its name, and the path stays gone */
	struct stat st;
	check_name(glsn, false, &a_gone, l_gone, "unlinked listener");
	WL_CHECK(lstat(a_gone.sun_path, &st) < 0 && errno == ENOENT, "unlinked listener: %s is back", a_gone.sun_path);

	/* the datagram server's queue, and its one-way client */
	check_msg(dsrv, "m1", "datagram server");
	check_msg(dsrv, "m22", "datagram server");
	check_msg(dsrv, "m333", "datagram server");
	char buf[8];
	WL_CHECK(recv(dsrv, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN, "datagram server: extra messages");
	check_name(dsrv, false, &a_dsrv, l_dsrv, "datagram server");
	check_name(dcli, true, &a_dsrv, l_dsrv, "datagram client");
	WL_CHECK(send(dcli, "m4", 2, 0) == 2, "datagram client: cannot send after restore");
	check_msg(dsrv, "m4", "datagram server after restore");

	/* the relative name, and its file in the working directory */
	struct sockaddr_un sa = {};
	socklen_t len = sizeof(sa);
	WL_CHECK(getsockname(rel, (struct sockaddr *)&sa, &len) == 0 && !strcmp(sa.sun_path, rel_name),
		 "relative name: reads '%s', want '%s'", sa.sun_path, rel_name);
	WL_CHECK(lstat(rel_name, &st) == 0 && S_ISSOCK(st.st_mode), "relative name: no socket file %s", rel_name);
	check_msg(rel, "r1", "relative name");
	strcpy(sa.sun_path, rel_name);
	WL_CHECK(sendto(dcli, "r2", 2, 0, (struct sockaddr *)&sa, sizeof(sa)) == 2,
		 "relative name: cannot send to it after restore");
	check_msg(rel, "r2", "relative name after restore");

	unlink(a_srv.sun_path);
	unlink(a_cli.sun_path);
	unlink(a_dsrv.sun_path);
	unlink(rel_name);
}

int main(int argc, char **argv)
{
	char dir[PATH_MAX];

	wl_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	char ready[PATH_MAX];
	snprintf(ready, sizeof(ready), "%s", argv[1]);
	snprintf(dir, sizeof(dir), "%s", dirname(ready));
	setup(dir);
	wl_ready(argv);
	wl_wait_usr1();
	check();
	return wl_finish();
}
