// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The RPC wire: one protobuf message per SOCK_SEQPACKET datagram, no length
 * prefix; and notify_scripts over it: at each of the engine's notify points
 * the client gets a NOTIFY message with CRIU's name for it and must
 * acknowledge it with a NOTIFY request saying notify_success=true before
 * the work goes on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "oci/criu/rpc.h"
#include "ocicr/cleanup.h"

int rpc_recv(struct rpc_conn *c, CriuReq **ret, size_t *ret_len)
{
	_cleanup_free_ uint8_t *buf = NULL;
	ssize_t len, n;

	/* The datagram's size first, so any length is read whole. */
	do
		len = recv(c->sk, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (len < 0 && errno == EINTR);
	if (len < 0)
		return errno == ECONNRESET ? 0 : -errno;
	*ret_len = len;
	if (len == 0) {
		/* Consume the empty datagram; EOF looks the same. */
		(void)recv(c->sk, NULL, 0, 0);
		return 0;
	}
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	do
		n = recv(c->sk, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	*ret = criu_req__unpack(NULL, n, buf);
	return *ret ? 1 : -EBADMSG;
}

int rpc_send(struct rpc_conn *c, const CriuResp *resp, int fd)
{
	size_t len = criu_resp__get_packed_size(resp);
	_cleanup_free_ uint8_t *buf = NULL;
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl = {};
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (len >= RPC_REPLY_MAX)
		return -EMSGSIZE;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	criu_resp__pack(resp, buf);
	iov = (struct iovec){ .iov_base = buf, .iov_len = len };
	if (fd >= 0) {
		struct cmsghdr *cm;

		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do
		n = sendmsg(c->sk, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

/* CRIU gives the root's pid with these two only; runc reads it from the
 * second one to learn the restored tree's pid. */
static bool carries_pid(const char *action)
{
	return !strcmp(action, "setup-namespaces") || !strcmp(action, "post-restore");
}

int rpc_notify_relay(const struct oc_notify *n, void *data)
{
	struct rpc_conn *c = data;
	CriuResp resp = CRIU_RESP__INIT;
	CriuNotify cn = CRIU_NOTIFY__INIT;
	CriuReq *ack = NULL;
	size_t len;
	int r;

	cn.script = (char *)n->action;
	if (n->pid > 0 && carries_pid(n->action)) {
		cn.has_pid = true;
		cn.pid = n->pid;
	}
	resp.type = CRIU_REQ_TYPE__NOTIFY;
	resp.success = true;
	resp.notify = &cn;
	r = rpc_send(c, &resp, n->fd);
	if (r < 0) {
		snprintf(c->notify_error, sizeof(c->notify_error), "cannot send notification %s: %s", n->action,
			 strerror(-r));
		return -1;
	}
	r = rpc_recv(c, &ack, &len);
	if (r <= 0) {
		snprintf(c->notify_error, sizeof(c->notify_error), "the client %s after notification %s",
			 r == 0 ? "hung up" : "sent no acknowledgement", n->action);
		return -1;
	}
	bool ok = ack->type == CRIU_REQ_TYPE__NOTIFY && ack->has_notify_success && ack->notify_success;
	if (!ok)
		snprintf(c->notify_error, sizeof(c->notify_error), "the client refused notification %s", n->action);
	criu_req__free_unpacked(ack, NULL);
	return ok ? 0 : -1;
}
