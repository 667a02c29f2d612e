// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Netlink sockets across a checkpoint.  Before:
 *  - hub: NETLINK_USERSOCK bound to a port id of its choosing and to
 *    multicast group 3, with SO_PASSCRED;
 *  - to_hub: NETLINK_USERSOCK, port id given by the kernel, connected to
 *    hub's port id;
 *  - to_group: NETLINK_USERSOCK connected to group 3;
 *  - route: NETLINK_ROUTE, never bound.
 * After SIGUSR1: hub has its port id, group and SO_PASSCRED, a message from to_hub
 * and one to the group both reach it, and route answers a link dump.
 */
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>

#include "fdsock_wl.h"

#define HUB_PORT 0x6f630001u
#define GROUP	 3

static int hub, to_hub, to_group, route;

static int nl_socket(int proto)
{
	int sk = socket(AF_NETLINK, SOCK_RAW, proto);

	WL_SETUP(sk >= 0, "netlink socket");
	return sk;
}

static void setup(void)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_pid = HUB_PORT, .nl_groups = 1u << (GROUP - 1) };

	hub = nl_socket(NETLINK_USERSOCK);
	WL_SETUP(bind(hub, (void *)&a, sizeof(a)) == 0, "bind hub");
	WL_SETUP(setsockopt(hub, SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int)) == 0, "SO_PASSCRED");
	to_hub = nl_socket(NETLINK_USERSOCK);
	a = (struct sockaddr_nl){ .nl_family = AF_NETLINK, .nl_pid = HUB_PORT };
	WL_SETUP(connect(to_hub, (void *)&a, sizeof(a)) == 0, "connect to hub");
	to_group = nl_socket(NETLINK_USERSOCK);
	a = (struct sockaddr_nl){ .nl_family = AF_NETLINK, .nl_groups = 1u << (GROUP - 1) };
	WL_SETUP(connect(to_group, (void *)&a, sizeof(a)) == 0, "connect to group");
	route = nl_socket(NETLINK_ROUTE);
}

static bool hub_gets(int from, uint16_t type, const char *name)
{
	struct nlmsghdr h = { .nlmsg_len = sizeof(h), .nlmsg_type = type };
	struct pollfd p = { .fd = hub, .events = POLLIN };
	struct nlmsghdr got = {};

	/* A group message also goes to port id 0, which has no kernel socket
	 * for NETLINK_USERSOCK outside the first namespace: the send says
	 * ECONNREFUSED, and the group got it all the same. */
	if (send(from, &h, sizeof(h), 0) != sizeof(h) && !(from == to_group && errno == ECONNREFUSED)) {
		wl_fail("%s: send: %s", name, strerror(errno));
		return false;
	}
	if (poll(&p, 1, 2000) != 1 || recv(hub, &got, sizeof(got), 0) != sizeof(got) || got.nlmsg_type != type) {
		wl_fail("%s: the hub got nothing", name);
		return false;
	}
	return true;
}

static void check_route(void)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.i = { .ifi_family = AF_UNSPEC }
	};
	char buf[8192];
	ssize_t n;
	int proto = 0;
	socklen_t len = sizeof(proto);

	WL_CHECK(getsockopt(route, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 && proto == NETLINK_ROUTE,
		 "route: protocol %d", proto);
	WL_CHECK(send(route, &req, sizeof(req), 0) == sizeof(req), "route: send: %s", strerror(errno));
	n = recv(route, buf, sizeof(buf), 0);
	WL_CHECK(n >= (ssize_t)sizeof(struct nlmsghdr) && ((struct nlmsghdr *)buf)->nlmsg_type == RTM_NEWLINK,
		 "route: no link in the answer (%zd)", n);
}

int main(int argc, char **argv)
{
	struct sockaddr_nl a = {};
	socklen_t len = sizeof(a);
	int pass = 0;

	wl_init(argc, argv);
	setup();
	wl_ready(argv);
	wl_wait_usr1();
	WL_CHECK(getsockname(hub, (void *)&a, &len) == 0 && a.nl_pid == HUB_PORT && a.nl_groups == 1u << (GROUP - 1),
		 "hub: port id 0x%x groups 0x%x", a.nl_pid, a.nl_groups);
	len = sizeof(a);
	WL_CHECK(getpeername(to_hub, (void *)&a, &len) == 0 && a.nl_pid == HUB_PORT, "to_hub: peer 0x%x", a.nl_pid);
	len = sizeof(int);
	WL_CHECK(getsockopt(hub, SOL_SOCKET, SO_PASSCRED, &pass, &len) == 0 && pass == 1, "hub: SO_PASSCRED off");
	hub_gets(to_hub, 0x2001, "to_hub");
	hub_gets(to_group, 0x2002, "to_group");
	check_route();
	return wl_finish();
}
