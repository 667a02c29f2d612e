// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A parent and a child talking over sockets and FIFOs, with data queued in
 * both directions at checkpoint time:
 *
 *  - a stream socket pair and a datagram socket pair, one end each;
 *  - two FIFOs, one each way (the parent writes one, the child the other);
 *  - a listener in the parent: one connection from the child accepted
 *    (data queued both ways) and one still waiting.
 *
 * After restore each side checks what it receives; then they talk anew,
 * and the parent accepts the child's waiting connection.
 */
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fdsock_wl.h"

static int sv[2], dv[2], lsn;
static char fifo_pc[PATH_MAX], fifo_cp[PATH_MAX];
static struct sockaddr_un a_lsn;
static socklen_t l_lsn;

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
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	WL_CHECK(n == (ssize_t)strlen(want) && !memcmp(buf, want, n), "%s: message '%.*s' (%zd), want '%s'", what,
		 n > 0 ? (int)n : 0, buf, n, want);
}

static void check_peer(int fd, const char *what)
{
	struct sockaddr_un sa = {};
	socklen_t len = sizeof(sa);

	WL_CHECK(getpeername(fd, (struct sockaddr *)&sa, &len) == 0 && !strcmp(sa.sun_path, a_lsn.sun_path),
		 "%s: peer name '%s', want '%s'", what, sa.sun_path, a_lsn.sun_path);
}

/* The child: the other ends, a connection accepted and one waiting. */
static void child(int sync)
{
	int from_parent, to_parent, conn, waiting;

	close(sv[0]);
	close(dv[0]);
	close(lsn);
	from_parent = open(fifo_pc, O_RDONLY);
	to_parent = open(fifo_cp, O_WRONLY);
	WL_SETUP(from_parent >= 0 && to_parent >= 0, "child: open FIFOs");
	conn = socket(AF_UNIX, SOCK_STREAM, 0);
	WL_SETUP(conn >= 0 && connect(conn, (struct sockaddr *)&a_lsn, l_lsn) == 0, "child: connect");
	WL_SETUP(write(conn, "hello parent", 12) == 12, "child: write connection");
	/* The parent accepts the first connection only. */
	WL_SETUP(write(sync, "c", 1) == 1, "child: sync");
	WL_SETUP(read(sync, &(char){ 0 }, 1) == 1, "child: sync back");
	waiting = socket(AF_UNIX, SOCK_STREAM, 0);
	WL_SETUP(waiting >= 0 && connect(waiting, (struct sockaddr *)&a_lsn, l_lsn) == 0, "child: connect waiting");
	WL_SETUP(write(sv[1], "child stream", 12) == 12, "child: stream");
	WL_SETUP(send(dv[1], "cd1", 3, 0) == 3 && send(dv[1], "cd22", 4, 0) == 4, "child: datagrams");
	WL_SETUP(write(to_parent, "child fifo", 10) == 10, "child: FIFO");
	WL_SETUP(write(sync, "r", 1) == 1, "child: ready");
	close(sync);

	wl_wait_usr1();
	check_read(sv[1], "parent stream", "child stream");
	check_msg(dv[1], "pd1", "child datagram");
	check_msg(dv[1], "pd22", "child datagram");
	check_read(from_parent, "parent fifo", "child FIFO");
	check_read(conn, "hello child", "child connection");
	check_peer(conn, "child connection");
	check_peer(waiting, "child waiting connection");

	/* Talk anew; the parent checks what arrives. */
	WL_CHECK(write(sv[1], "after", 5) == 5, "child: stream after restore");
	WL_CHECK(send(dv[1], "dg-after", 8, 0) == 8, "child: datagram after restore");
	WL_CHECK(write(to_parent, "fifo-after", 10) == 10, "child: FIFO after restore");
	WL_CHECK(write(conn, "conn-after", 10) == 10, "child: connection after restore");
	WL_CHECK(write(waiting, "late", 4) == 4, "child: waiting connection after restore");
	wl_child_exit();
}

int main(int argc, char **argv)
{
	char dir[PATH_MAX], ready[PATH_MAX];
	int sync[2], to_child, from_child, acc, acc2;
	pid_t pid;
	char c;

	wl_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	snprintf(ready, sizeof(ready), "%s", argv[1]);
	snprintf(dir, sizeof(dir), "%s", dirname(ready));
	snprintf(fifo_pc, sizeof(fifo_pc), "%s/tree-pc-%d", dir, getpid());
	snprintf(fifo_cp, sizeof(fifo_cp), "%s/tree-cp-%d", dir, getpid());
	unlink(fifo_pc);
	unlink(fifo_cp);
	WL_SETUP(mkfifo(fifo_pc, 0600) == 0 && mkfifo(fifo_cp, 0600) == 0, "mkfifo");
	memset(&a_lsn, 0, sizeof(a_lsn));
	a_lsn.sun_family = AF_UNIX;
	snprintf(a_lsn.sun_path, sizeof(a_lsn.sun_path), "%s/tree-lsn-%d", dir, getpid());
	unlink(a_lsn.sun_path);
	l_lsn = offsetof(struct sockaddr_un, sun_path) + strlen(a_lsn.sun_path) + 1;

	WL_SETUP(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "stream pair");
	WL_SETUP(socketpair(AF_UNIX, SOCK_DGRAM, 0, dv) == 0, "datagram pair");
	WL_SETUP(socketpair(AF_UNIX, SOCK_STREAM, 0, sync) == 0, "sync pair");
	lsn = socket(AF_UNIX, SOCK_STREAM, 0);
	WL_SETUP(lsn >= 0 && bind(lsn, (struct sockaddr *)&a_lsn, l_lsn) == 0 && listen(lsn, 4) == 0, "listener");

	pid = fork();
	WL_SETUP(pid >= 0, "fork");
	if (pid == 0) {
		close(sync[0]);
		child(sync[1]);
	}
	close(sync[1]);
	close(sv[1]);
	close(dv[1]);
	to_child = open(fifo_pc, O_WRONLY);
	from_child = open(fifo_cp, O_RDONLY);
	WL_SETUP(to_child >= 0 && from_child >= 0, "parent: open FIFOs");
	WL_SETUP(read(sync[0], &c, 1) == 1, "parent: sync");
	acc = accept(lsn, NULL, NULL);
	WL_SETUP(acc >= 0, "parent: accept");
	WL_SETUP(write(sync[0], "a", 1) == 1, "parent: sync back");
	WL_SETUP(write(acc, "hello child", 11) == 11, "parent: write connection");
	WL_SETUP(write(sv[0], "parent stream", 13) == 13, "parent: stream");
	WL_SETUP(send(dv[0], "pd1", 3, 0) == 3 && send(dv[0], "pd22", 4, 0) == 4, "parent: datagrams");
	WL_SETUP(write(to_child, "parent fifo", 11) == 11, "parent: FIFO");
	WL_SETUP(read(sync[0], &c, 1) == 1, "parent: child ready");
	close(sync[0]);

	wl_ready(argv);
	wl_wait_usr1();

	check_read(sv[0], "child stream", "parent stream");
	check_msg(dv[0], "cd1", "parent datagram");
	check_msg(dv[0], "cd22", "parent datagram");
	check_read(from_child, "child fifo", "parent FIFO");
	check_read(acc, "hello parent", "parent connection");

	wl_check_child(pid, "child");
	check_read(sv[0], "after", "parent stream after restore");
	check_msg(dv[0], "dg-after", "parent datagram after restore");
	check_read(from_child, "fifo-after", "parent FIFO after restore");
	check_read(acc, "conn-after", "parent connection after restore");
	acc2 = accept(lsn, NULL, NULL);
	WL_CHECK(acc2 >= 0, "parent: cannot accept the waiting connection: %s", strerror(errno));
	if (acc2 >= 0)
		check_read(acc2, "late", "parent waiting connection");

	unlink(fifo_pc);
	unlink(fifo_cp);
	unlink(a_lsn.sun_path);
	return wl_finish();
}
