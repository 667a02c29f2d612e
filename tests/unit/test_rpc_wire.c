// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The RPC wire of ocicr swrk: datagram framing, reply size, and the NOTIFY
 * relay the engine's notify points go through (name, pid, attached fd, the
 * client's acknowledgement or refusal).  The client is the other end of a
 * SOCK_SEQPACKET socketpair; its acknowledgement is queued before the relay
 * runs, so one thread plays both sides.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "oci/criu/rpc.h"

struct pair {
	struct rpc_conn conn; /* ocicr's end */
	int client;
};

static int pair_setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	int sk[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sk), 0);
	p->conn.sk = sk[0];
	p->conn.peer = getpid();
	p->client = sk[1];
	*state = p;
	return 0;
}

static int pair_teardown(void **state)
{
	struct pair *p = *state;

	close(p->conn.sk);
	if (p->client >= 0)
		close(p->client);
	free(p);
	return 0;
}

static void client_send(struct pair *p, const CriuReq *req)
{
	size_t len = criu_req__get_packed_size(req);
	uint8_t *buf = malloc(len ? len : 1);

	criu_req__pack(req, buf);
	assert_int_equal(send(p->client, buf, len, 0), (ssize_t)len);
	free(buf);
}

static void client_ack(struct pair *p, bool ok)
{
	CriuReq ack = CRIU_REQ__INIT;

	ack.type = CRIU_REQ_TYPE__NOTIFY;
	ack.has_notify_success = true;
	ack.notify_success = ok;
	client_send(p, &ack);
}

/* The next message the client gets, and the fd that came with it. */
static CriuResp *client_recv(struct pair *p, int *ret_fd)
{
	uint8_t buf[RPC_REPLY_MAX];
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	ssize_t n = recvmsg(p->client, &mh, MSG_DONTWAIT);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	assert_true(n > 0);
	*ret_fd = -1;
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(ret_fd, CMSG_DATA(cm), sizeof(int));
	return criu_resp__unpack(NULL, n, buf);
}

static void test_notify_acknowledged(void **state)
{
	struct pair *p = *state;
	struct oc_notify n = { .action = "pre-dump", .pid = 1234, .fd = -1 };
	CriuResp *m;
	int fd;

	client_ack(p, true);
	assert_int_equal(rpc_notify_relay(&n, &p->conn), 0);
	m = client_recv(p, &fd);
	assert_non_null(m);
	assert_int_equal(m->type, CRIU_REQ_TYPE__NOTIFY);
	assert_true(m->success);
	assert_non_null(m->notify);
	assert_string_equal(m->notify->script, "pre-dump");
	/* CRIU names a pid only with setup-namespaces and post-restore. */
	assert_false(m->notify->has_pid);
	assert_int_equal(fd, -1);
	criu_resp__free_unpacked(m, NULL);
}

static void test_post_restore_carries_pid(void **state)
{
	struct pair *p = *state;
	struct oc_notify n = { .action = "post-restore", .pid = 4321, .fd = -1 };
	CriuResp *m;
	int fd;

	client_ack(p, true);
	assert_int_equal(rpc_notify_relay(&n, &p->conn), 0);
	m = client_recv(p, &fd);
	assert_string_equal(m->notify->script, "post-restore");
	assert_true(m->notify->has_pid);
	assert_int_equal(m->notify->pid, 4321);
	criu_resp__free_unpacked(m, NULL);
}

static void test_orphan_pts_master_passes_fd(void **state)
{
	struct pair *p = *state;
	int sent = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct oc_notify n = { .action = "orphan-pts-master", .fd = sent };
	struct stat a, b;
	CriuResp *m;
	int got;

	client_ack(p, true);
	assert_int_equal(rpc_notify_relay(&n, &p->conn), 0);
	m = client_recv(p, &got);
	assert_string_equal(m->notify->script, "orphan-pts-master");
	assert_true(got >= 0);
	assert_int_equal(fstat(sent, &a), 0);
	assert_int_equal(fstat(got, &b), 0);
	assert_true(a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_rdev == b.st_rdev);
	close(sent);
	close(got);
	criu_resp__free_unpacked(m, NULL);
}

static void test_notify_refused(void **state)
{
	struct pair *p = *state;
	struct oc_notify n = { .action = "post-dump", .fd = -1 };

	client_ack(p, false);
	assert_int_not_equal(rpc_notify_relay(&n, &p->conn), 0);
	assert_string_equal(p->conn.notify_error, "the client refused notification post-dump");
}

static void test_notify_answered_with_another_type(void **state)
{
	struct pair *p = *state;
	struct oc_notify n = { .action = "pre-restore", .fd = -1 };
	CriuReq other = CRIU_REQ__INIT;

	other.type = CRIU_REQ_TYPE__VERSION;
	client_send(p, &other);
	assert_int_not_equal(rpc_notify_relay(&n, &p->conn), 0);
	assert_string_equal(p->conn.notify_error, "the client refused notification pre-restore");
}

static void test_notify_client_gone(void **state)
{
	struct pair *p = *state;
	struct oc_notify n = { .action = "network-lock", .fd = -1 };

	shutdown(p->client, SHUT_WR);
	assert_int_not_equal(rpc_notify_relay(&n, &p->conn), 0);
	assert_string_equal(p->conn.notify_error, "the client hung up after notification network-lock");
}

static void test_recv_malformed_and_large(void **state)
{
	struct pair *p = *state;
	CriuOpts opts = CRIU_OPTS__INIT;
	CriuReq req = CRIU_REQ__INIT, *got = NULL;
	char big[20000];
	size_t len;

	/* A field number of 0 is never valid protobuf. */
	assert_int_equal(send(p->client, "\x00\x01\x02", 3, 0), 3);
	assert_int_equal(rpc_recv(&p->conn, &got, &len), -EBADMSG);
	assert_int_equal(len, 3);

	/* Larger than any fixed buffer: read whole after peeking its size. */
	memset(big, 'r', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	opts.root = big;
	req.type = CRIU_REQ_TYPE__DUMP;
	req.opts = &opts;
	client_send(p, &req);
	assert_int_equal(rpc_recv(&p->conn, &got, &len), 1);
	assert_true(len > sizeof(big));
	assert_int_equal(strlen(got->opts->root), sizeof(big) - 1);
	criu_req__free_unpacked(got, NULL);

	/* An empty datagram is the client's end. */
	assert_int_equal(send(p->client, "", 0, 0), 0);
	assert_int_equal(rpc_recv(&p->conn, &got, &len), 0);
}

static void test_send_refuses_oversized_reply(void **state)
{
	struct pair *p = *state;
	CriuResp resp = CRIU_RESP__INIT;
	char msg[RPC_REPLY_MAX];

	memset(msg, 'e', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = 0;
	resp.type = CRIU_REQ_TYPE__DUMP;
	resp.cr_errmsg = msg;
	assert_int_equal(rpc_send(&p->conn, &resp, -1), -EMSGSIZE);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, pair_setup, pair_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_notify_acknowledged),
		T(test_post_restore_carries_pid),
		T(test_orphan_pts_master_passes_fd),
		T(test_notify_refused),
		T(test_notify_answered_with_another_type),
		T(test_notify_client_gone),
		T(test_recv_malformed_and_large),
		T(test_send_refuses_oversized_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
