// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unix socket names that are gone, across a checkpoint (in the directory
 * of READY):
 *
 *   two datagram sockets bound one after the other to one name in a
 *     directory, each with a client connected to it, the name unlinked
 *     after each, then the directory removed;
 *   a stream listener in another directory, with an accepted connection,
 *     its name and directory removed;
 *   a datagram socket bound to a name that stays and connected to itself.
 *
 * On SIGUSR1 each client's message must reach its own server, the
 * connection and the socket talking to itself must work, and the removed
 * directories must still be gone.
 */
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fdsock_wl.h"

static struct sockaddr_un addr_of(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	WL_SETUP(strlen(path) < sizeof(sa.sun_path), "a short enough socket path");
	strcpy(sa.sun_path, path);
	return sa;
}

static int bound(int type, const char *path)
{
	struct sockaddr_un sa = addr_of(path);
	int sk = socket(AF_UNIX, type, 0);

	WL_SETUP(sk >= 0 && bind(sk, (struct sockaddr *)&sa, sizeof(sa)) == 0, path);
	return sk;
}

static int connected(int type, const char *path)
{
	struct sockaddr_un sa = addr_of(path);
	int sk = socket(AF_UNIX, type, 0);

	WL_SETUP(sk >= 0 && connect(sk, (struct sockaddr *)&sa, sizeof(sa)) == 0, path);
	return sk;
}

/* Send @msg on @from and expect exactly it on @to, within 2 s. */
static void expect_passes(int from, int to, const char *msg, const char *what)
{
	struct pollfd p = { .fd = to, .events = POLLIN };
	char buf[64] = "";

	if (send(from, msg, strlen(msg), MSG_DONTWAIT) != (ssize_t)strlen(msg)) {
		wl_fail("%s: cannot send: %s", what, strerror(errno));
		return;
	}
	if (poll(&p, 1, 2000) != 1) {
		wl_fail("%s: nothing arrived", what);
		return;
	}
	ssize_t n = recv(to, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	WL_CHECK(n == (ssize_t)strlen(msg) && !memcmp(buf, msg, n), "%s: got '%s'", what, buf);
}

int main(int argc, char **argv)
{
	char dir[4096], dg_dir[4200], st_dir[4200], name[4300], self_name[4300];

	wl_init(argc, argv);
	snprintf(dir, sizeof(dir), "%s", argv[1]);
	*strrchr(dir, '/') = '\0';
	snprintf(dg_dir, sizeof(dg_dir), "%s/gn-dg", dir);
	snprintf(st_dir, sizeof(st_dir), "%s/gn-st", dir);
	WL_SETUP(mkdir(dg_dir, 0755) == 0 && mkdir(st_dir, 0755) == 0, "mkdir");

	/* One name, two servers in turn. */
	snprintf(name, sizeof(name), "%s/sk", dg_dir);
	int srv1 = bound(SOCK_DGRAM, name);
	int cli1 = connected(SOCK_DGRAM, name);
	WL_SETUP(unlink(name) == 0, "unlink");
	int srv2 = bound(SOCK_DGRAM, name);
	int cli2 = connected(SOCK_DGRAM, name);
	WL_SETUP(unlink(name) == 0 && rmdir(dg_dir) == 0, "unlink and rmdir");

	/* A listener and its connection, the directory gone. */
	snprintf(name, sizeof(name), "%s/ls", st_dir);
	int ls = bound(SOCK_STREAM, name);
	WL_SETUP(listen(ls, 4) == 0, "listen");
	int client = connected(SOCK_STREAM, name);
	int served = accept(ls, NULL, NULL);
	WL_SETUP(served >= 0, "accept");
	WL_SETUP(unlink(name) == 0 && rmdir(st_dir) == 0, "unlink and rmdir");

	/* Talking to itself. */
	snprintf(self_name, sizeof(self_name), "%s/gn-self", dir);
	int self = bound(SOCK_DGRAM, self_name);
	struct sockaddr_un sa = addr_of(self_name);
	WL_SETUP(connect(self, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect to itself");

	wl_ready(argv);
	wl_wait_usr1();

	expect_passes(cli1, srv1, "to the first", "the first client");
	expect_passes(cli2, srv2, "to the second", "the second client");
	expect_passes(client, served, "over", "the connection");
	expect_passes(served, client, "back", "the accepted end");
	expect_passes(self, self, "myself", "the socket connected to itself");
	struct stat st;
	WL_CHECK(stat(dg_dir, &st) < 0 && errno == ENOENT, "%s is back", dg_dir);
	WL_CHECK(stat(st_dir, &st) < 0 && errno == ENOENT, "%s is back", st_dir);
	WL_CHECK(stat(self_name, &st) == 0 && S_ISSOCK(st.st_mode), "%s is no longer a socket", self_name);
	unlink(self_name);
	return wl_finish();
}
