// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * notify_scripts over RPC: at each of the engine's notify points the client
 * gets a NOTIFY message with CRIU's name for it and must acknowledge it
 * with a NOTIFY request saying notify_success=true before the work goes on.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "oci/criu/rpc.h"

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
