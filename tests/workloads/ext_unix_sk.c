// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A datagram unix socket connected to a named one outside the tree (as a
 * program's socket to /dev/log is): the peer is a grandchild that bound
 * ./ext.sock and was orphaned, so it is no task of ours (and left our
 * session; it ends after a minute at most).  After restore
 * (with --ext-unix-sk) a datagram sent on fd 10 reaches that peer, which
 * writes what it got to ./ext.got.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "wl.h"

static void peer_main(const struct sockaddr_un *sa, int ready)
{
	char buf[64], path[PATH_MAX];
	struct timeval limit = { .tv_sec = 60 };
	int sk = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	/* Out of the workload's session too, whose id is the root's pid: a
	 * restore makes that pid again.  Gone within a minute whatever comes. */
	setsid();
	if (sk < 0 || setsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) < 0 ||
	    bind(sk, (const struct sockaddr *)sa, sizeof(*sa)) < 0 || write(ready, "r", 1) != 1)
		_exit(1);
	close(ready);
	/* Only what comes after the restore: the workload sends nothing before. */
	ssize_t n = recv(sk, buf, sizeof(buf), 0);
	if (n <= 0)
		_exit(1);
	wl_path(path, sizeof(path), "ext.got");
	wl_put_file(path, buf, (size_t)n);
	_exit(0);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ready[2];
	char c;

	wl_init(argc, argv);
	wl_path(sa.sun_path, sizeof(sa.sun_path), "ext.sock");
	unlink(sa.sun_path);
	WL_SETUP(pipe(ready) == 0, "pipe");
	pid_t mid = fork();
	if (mid == 0) {
		if (fork() == 0)
			peer_main(&sa, ready[1]);
		_exit(0);
	}
	WL_SETUP(waitpid(mid, NULL, 0) == mid, "the peer's parent");
	close(ready[1]);
	WL_SETUP(read(ready[0], &c, 1) == 1, "the peer is bound");
	close(ready[0]);

	int sk = socket(AF_UNIX, SOCK_DGRAM, 0);
	WL_SETUP(sk >= 0 && dup2(sk, 10) == 10, "socket");
	close(sk);
	WL_SETUP(connect(10, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect to the outside peer");

	wl_ready();
	wl_wait();

	char path[PATH_MAX], got[64] = "";
	wl_path(path, sizeof(path), "ext.got");
	WL_CHECK(send(10, "over", 4, 0) == 4, "send to the outside peer: %s", strerror(errno));
	WL_CHECK(WL_WAIT_FOR(wl_read_file(path, got, sizeof(got) - 1) == 4, 5000), "the outside peer got nothing");
	WL_CHECK(!strcmp(got, "over"), "the outside peer got '%s', not 'over'", got);
	wl_pass();
}
