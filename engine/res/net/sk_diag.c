// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One socket's entry in the kernel's socket diagnostics.  The kernel
 * answers for the network namespace the asking netlink socket was made
 * in, so that socket is made in the namespace of the socket asked about
 * (SIOCGSKNS), whatever namespace ocicr runs in.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "res/net/sk_diag.h"
#include "core/cleanup.h"
#include "core/error.h"

int oc_sk_diag_socket(int sk)
{
	_cleanup_close_ int ns = ioctl(sk, SIOCGSKNS);
	_cleanup_close_ int own = -1;
	struct stat a, b;
	int nl, err;

	if (ns < 0 || fstat(ns, &a) < 0 || stat("/proc/thread-self/ns/net", &b) < 0 ||
	    (a.st_ino == b.st_ino && a.st_dev == b.st_dev)) {
		nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
		return nl < 0 ? oc_error_errno(-errno, "cannot open a sock_diag socket") : nl;
	}
	own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (own < 0 || setns(ns, CLONE_NEWNET) < 0)
		return oc_error_errno(-errno, "cannot enter a socket's network namespace");
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	err = errno;
	/* Staying in the tree's namespace would be worse than failing. */
	if (setns(own, CLONE_NEWNET) < 0)
		abort();
	return nl < 0 ? oc_error_errno(-err, "cannot open a sock_diag socket") : nl;
}

static int take_match(const struct nlmsghdr *h, size_t ino_off, uint32_t ino, struct nlmsghdr **ret)
{
	uint32_t got;

	if (h->nlmsg_len < NLMSG_LENGTH(ino_off + sizeof(got)))
		return 0;
	memcpy(&got, (const char *)NLMSG_DATA(h) + ino_off, sizeof(got));
	if (got != ino || *ret)
		return 0;
	*ret = malloc(h->nlmsg_len);
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, h, h->nlmsg_len);
	return 0;
}

int oc_sk_diag_find(int sk, void *req, size_t len, size_t ino_off, uint32_t ino, struct nlmsghdr **ret)
{
	struct nlmsghdr *rh = req;
	_cleanup_close_ int nl = oc_sk_diag_socket(sk);
	_cleanup_free_ char *buf = NULL;
	struct nlmsghdr *found = NULL;
	const size_t buf_len = 32 << 10;
	int r = 0;

	*ret = NULL;
	if (nl < 0)
		return nl;
	*rh = (struct nlmsghdr){ .nlmsg_len = len,
				 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
				 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
				 .nlmsg_seq = 1 };
	if (send(nl, req, len, 0) != (ssize_t)len)
		return oc_error_errno(-errno, "sock_diag: cannot send the request");
	buf = malloc(buf_len);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t got = recv(nl, buf, buf_len, 0);
		int left = got;
		if (got <= 0) {
			r = got < 0 ? oc_error_errno(-errno, "sock_diag: cannot read the answer")
				    : oc_error(-EIO, "sock_diag: the answer ended early");
			break;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; r == 0 && NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				*ret = found;
				return 0;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				r = oc_error(e->error ? e->error : -EIO, "sock_diag: %s", strerror(-e->error));
			} else if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
				r = take_match(h, ino_off, ino, &found);
			}
		}
		if (r < 0)
			break;
	}
	free(found);
	return r;
}

const void *oc_sk_diag_attr(const struct nlmsghdr *h, size_t hdr_len, int type, size_t *n)
{
	int len = h->nlmsg_len - NLMSG_LENGTH(hdr_len);
	const struct rtattr *at = (const struct rtattr *)((const char *)NLMSG_DATA(h) + NLMSG_ALIGN(hdr_len));

	for (; len > 0 && RTA_OK(at, len); at = RTA_NEXT(at, len))
		if (at->rta_type == type) {
			*n = RTA_PAYLOAD(at);
			return RTA_DATA(at);
		}
	return NULL;
}
