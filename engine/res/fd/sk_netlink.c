// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Netlink sockets (netlink_sk_entry): protocol, port id, multicast groups
 * (the first 32, as CRIU keeps them) and the peer a socket is connected
 * to, as netlink_diag shows them; a socket never bound is not listed there
 * and has only its protocol.  A socket with messages waiting to be read is
 * refused: they are not in the image.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/netlink_diag.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "res/fd/sk_inet.h"
#include "res/fd/sk_opts.h"
#include "res/net/sk_diag.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "sk-netlink.pb-c.h"

/* netlink_diag's socket states (net/netlink/af_netlink.h). */
#define NL_CONNECTED 1

static bool netlink_match(const struct oc_dump_fd *fd)
{
	return S_ISSOCK(fd->st.st_mode) && oc_sk_domain(fd->local) == AF_NETLINK;
}

/* The group bitmap in 32-bit words, the empty last word of a 64-bit long
 * left out; more than 32 groups cannot be restored (bind takes 32). */
static int dump_groups(struct oc_arena *a, const struct nlmsghdr *m, NetlinkSkEntry *ne)
{
	const uint32_t *g;
	size_t n = 0;

	g = oc_sk_diag_attr(m, sizeof(struct netlink_diag_msg), NETLINK_DIAG_GROUPS, &n);
	n = g ? n / sizeof(*g) : 0;
	while (n && g[n - 1] == 0)
		n--;
	if (n > 1)
		return oc_error(-EOPNOTSUPP, "netlink socket %u is in multicast groups above 32", ne->ino);
	if (n && !ne->portid)
		return oc_error(-EOPNOTSUPP, "netlink socket %u is in multicast groups without a port id", ne->ino);
	ne->n_groups = n;
	ne->groups = oc_arena_memdup(a, g ? g : (const uint32_t[]){ 0 }, sizeof(*g));
	return ne->groups ? 0 : -ENOMEM;
}

static int netlink_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	struct oc_arena *a = t->ctx->arena;
	NetlinkSkEntry *ne = OC_ARENA_MSG(a, NetlinkSkEntry, NETLINK_SK_ENTRY__INIT);
	struct {
		struct nlmsghdr h;
		struct netlink_diag_req r;
	} req = {
		.r = { .sdiag_family = AF_NETLINK, .sdiag_protocol = NDIAG_PROTO_ALL, .ndiag_show = NDIAG_SHOW_GROUPS }
	};
	_cleanup_free_ struct nlmsghdr *m = NULL;
	struct pollfd pfd = { .fd = fd->local, .events = POLLIN };
	socklen_t len = sizeof(int);
	FileEntry *fe;
	int proto = 0, r;

	if (!ne)
		return -ENOMEM;
	ne->ino = fd->st.st_ino;
	if (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN))
		return oc_error(-EOPNOTSUPP, "netlink socket %u has messages waiting to be read", ne->ino);
	r = oc_sk_diag_find(fd->local, &req, sizeof(req), offsetof(struct netlink_diag_msg, ndiag_ino), ne->ino, &m);
	if (r < 0)
		return oc_error_wrap(r, "netlink socket %u (is netlink_diag loaded?)", ne->ino);
	if (m) {
		const struct netlink_diag_msg *dm = NLMSG_DATA(m);
		ne->protocol = dm->ndiag_protocol;
		ne->portid = dm->ndiag_portid;
		ne->state = dm->ndiag_state;
		ne->dst_portid = dm->ndiag_dst_portid;
		ne->dst_group = dm->ndiag_dst_group;
		r = dump_groups(a, m, ne);
	} else if (getsockopt(fd->local, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0) {
		r = oc_error_errno(-errno, "netlink socket %u: SO_PROTOCOL", ne->ino);
	} else {
		ne->protocol = proto;
	}
	if (r == 0)
		r = oc_dump_file_begin(t, fd, FD_TYPES__NETLINKSK, &ne->id, &ne->flags, &ne->fown, &fe);
	if (r == 0)
		r = oc_sk_dump_opts(a, fd->local, true, &ne->opts); /* SO_PASSCRED too, as for unix */
	if (r < 0)
		return r;
	if (t->ids && t->ids->has_net_ns_id) {
		ne->has_ns_id = true;
		ne->ns_id = t->ids->net_ns_id;
	}
	fe->nlsk = ne;
	return oc_dump_file_end(t, fe, ret_id);
}

/* ---- restore ------------------------------------------------------------ */

/* The port id it had; another socket may hold it by now (a port id is
 * often a pid, given out first come first served): then a new one. */
static int restore_bind(int sk, const NetlinkSkEntry *ne, const char *what)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_pid = ne->portid };

	if (!ne->portid)
		return 0;
	if (ne->n_groups > 1)
		return oc_error(-EOPNOTSUPP, "%s: multicast groups above 32", what);
	if (ne->n_groups)
		sa.nl_groups = ne->groups[0];
	if (bind(sk, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	if (errno != EADDRINUSE)
		return oc_error_errno(-errno, "%s: cannot bind to port id %u", what, ne->portid);
	pr_warn("%s: port id %u is taken, the socket gets another", what, ne->portid);
	sa.nl_pid = 0;
	if (bind(sk, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return oc_error_errno(-errno, "%s: cannot bind", what);
	return 0;
}

static int netlink_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	const NetlinkSkEntry *ne = fe->nlsk;
	_cleanup_close_ int sk = -1;
	char what[96];
	int r;

	if (!ne || !ne->opts)
		return oc_error(-EINVAL, "files.img: file %u has no netlink socket entry", fe->id);
	snprintf(what, sizeof(what), "netlink socket (file %u, protocol %u, port id %u)", fe->id, ne->protocol,
		 ne->portid);
	if (ne->dst_group > 32)
		return oc_error(-EINVAL, "%s: destination group %u", what, ne->dst_group);
	r = oc_sk_rst_socket(files->ctx, AF_NETLINK, SOCK_RAW, ne->protocol, what, &sk);
	if (r == 0)
		r = restore_bind(sk, ne, what);
	if (r == 0 && ne->state == NL_CONNECTED) {
		struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
					  .nl_pid = ne->dst_portid,
					  .nl_groups = ne->dst_group ? 1u << (ne->dst_group - 1) : 0 };
		if (connect(sk, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			r = oc_error_errno(-errno, "%s: cannot connect to port id %u", what, ne->dst_portid);
	}
	if (r == 0)
		r = oc_sk_restore_opts(sk, ne->opts, what);
	if (r == 0)
		r = oc_rst_set_status_flags(sk, ne->flags);
	if (r < 0)
		return r;
	*ret_fd = TAKE_FD(sk);
	return 0;
}

const struct oc_fd_kind oc_fd_kind_netlink = {
	.name = "netlink socket",
	.type = FD_TYPES__NETLINKSK,
	.match = netlink_match,
	.dump = netlink_dump,
	.open = netlink_open,
};
