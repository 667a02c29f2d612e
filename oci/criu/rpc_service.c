// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The RPC service: read a criu_req, answer it, repeat while the client
 * keeps the connection open (keep_open, for the requests that allow it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/cli.h"
#include "oci/criu/rpc.h"
#include "ocicr/cleanup.h"

static const char *req_type_name(int type)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&criu_req_type__descriptor, type);

	return v ? v->name : "unknown";
}

/* A reply that says only success or failure, with the failure's reason. */
static int reply(struct rpc_conn *c, int type, int err, const char *msg)
{
	CriuResp resp = CRIU_RESP__INIT;

	resp.type = type;
	resp.success = err == 0;
	if (err) {
		resp.has_cr_errno = true;
		resp.cr_errno = -err;
		resp.cr_errmsg = (char *)msg;
	}
	return rpc_send(c, &resp, -1);
}

static int replyf(struct rpc_conn *c, int type, int err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int replyf(struct rpc_conn *c, int type, int err, const char *fmt, ...)
{
	char msg[RPC_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return reply(c, type, err, msg);
}

static int handle_version(struct rpc_conn *c)
{
	CriuResp resp = CRIU_RESP__INIT;
	CriuVersion v = CRIU_VERSION__INIT;
	char name[64];

	/* No gitid: clients count one as the next minor version. */
	v.major_number = RPC_CRIU_MAJOR;
	v.minor_number = RPC_CRIU_MINOR;
	snprintf(name, sizeof(name), "ocicr %s", oc_version());
	v.name = name;
	resp.type = CRIU_REQ_TYPE__VERSION;
	resp.success = true;
	resp.version = &v;
	return rpc_send(c, &resp, -1) < 0 ? -EPIPE : 0;
}

/* A kernel interface a feature needs, and whether ocicr uses it yet. */
static bool kernel_has_uffd(void)
{
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool kernel_has_pidfd_getfd(void)
{
	int pfd = syscall(SYS_pidfd_open, getpid(), 0), fd;

	if (pfd < 0)
		return false;
	fd = syscall(SYS_pidfd_getfd, pfd, 0, 0);
	close(pfd);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/*
 * FEATURE_CHECK: all three answers are always set, each true only if it
 * was asked for and ocicr can do it on this kernel.  ocicr has neither
 * memory tracking (pre-dump), lazy pages nor a pidfd store yet, so each is
 * false whatever the kernel offers; the log says which half is missing.
 */
static int handle_features(struct rpc_conn *c, const CriuReq *req)
{
	const CriuFeatures *ask = req->features;
	CriuFeatures f = CRIU_FEATURES__INIT;
	CriuResp resp = CRIU_RESP__INIT;

	f.has_mem_track = f.has_lazy_pages = f.has_pidfd_store = true;
	f.mem_track = f.lazy_pages = f.pidfd_store = false;
	if (ask && ask->has_lazy_pages && ask->lazy_pages && kernel_has_uffd())
		oc_log_line(OC_LOG_INFO, "lazy_pages: the kernel has userfaultfd; ocicr has no lazy pages yet");
	if (ask && ask->has_pidfd_store && ask->pidfd_store && kernel_has_pidfd_getfd())
		oc_log_line(OC_LOG_INFO, "pidfd_store: the kernel has pidfd_getfd; ocicr has no pidfd store yet");
	resp.type = CRIU_REQ_TYPE__FEATURE_CHECK;
	resp.success = true;
	resp.features = &f;
	return rpc_send(c, &resp, -1) < 0 ? -EPIPE : 0;
}

static int handle_wait_pid(struct rpc_conn *c, const CriuReq *req)
{
	CriuResp resp = CRIU_RESP__INIT;
	int st;

	if (!req->has_pid)
		return reply(c, CRIU_REQ_TYPE__WAIT_PID, -EINVAL, "WAIT_PID: no pid given") < 0 ? -EPIPE : -EINVAL;
	while (waitpid(req->pid, &st, 0) < 0)
		if (errno != EINTR) {
			int err = -errno;
			replyf(c, CRIU_REQ_TYPE__WAIT_PID, err, "WAIT_PID: cannot wait for %u: %s", req->pid,
			       strerror(-err));
			return err;
		}
	resp.type = CRIU_REQ_TYPE__WAIT_PID;
	resp.success = true;
	resp.has_status = true;
	resp.status = st;
	return rpc_send(c, &resp, -1) < 0 ? -EPIPE : 0;
}

/* Reply to a DUMP, RESTORE or CHECK-like request from its job's outcome. */
static int job_reply(struct rpc_conn *c, int type, struct rpc_job *job, pid_t root)
{
	CriuResp resp = CRIU_RESP__INIT;
	CriuDumpResp d = CRIU_DUMP_RESP__INIT;
	CriuRestoreResp rr = CRIU_RESTORE_RESP__INIT;

	resp.type = type;
	resp.success = job->err == 0;
	if (job->err) {
		resp.has_cr_errno = true;
		resp.cr_errno = -job->err;
		resp.cr_errmsg = job->errmsg;
	}
	if (type == CRIU_REQ_TYPE__DUMP) {
		/* Only the restored copy of a self-dump would say true. */
		d.has_restored = true;
		resp.dump = &d;
	} else if (type == CRIU_REQ_TYPE__RESTORE) {
		rr.pid = job->err ? -1 : root;
		resp.restore = &rr;
	}
	return rpc_send(c, &resp, -1) < 0 ? -EPIPE : job->err;
}

/*
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT are held while the engine works (it
 * stops cleanly at its next safe point) and let go once the client has its
 * reply: one that stopped the work then ends the service; one that came
 * too late to stop a completed request is only reported.  Outside the
 * engine they act at once, so a service waiting for its client can be
 * ended as any process.
 */
static void release_signals(const struct rpc_job *job)
{
	cli_release_signals(job->err == 0);
}

/* The worker's exit code when the client did not take its reply. */
#define DUMP_REPLY_LOST 3

struct dump_request {
	struct rpc_conn *c;
	const CriuReq *req;
};

/* In the worker (cli_guarded()): the dump and its reply. */
static int dump_and_reply(void *arg)
{
	struct dump_request *dr = arg;
	struct rpc_conn *c = dr->c;
	struct rpc_job job = { .kind = RPC_JOB_DUMP };
	int r = rpc_job_prepare(&job, c, dr->req->opts);

	if (r >= 0) {
		/* A tree that is killed is dead by the reply (oc_dump() takes
		 * its tasks' ends): runc deletes the container as soon as it
		 * has the reply, and refuses one whose init still runs. */
		cli_hold_signals();
		r = oc_dump(&job.dump);
		if (r < 0)
			rpc_job_fail(&job, r, "dump of %d failed: %s%s%s", job.dump.pid, oc_error_message(),
				     c->notify_error[0] ? ": " : "", c->notify_error);
		else
			rpc_job_publish_stats(&job);
	}
	rpc_job_finish(&job);
	r = job_reply(c, dr->req->type, &job, 0);
	release_signals(&job);
	return r == 0 ? EXIT_OK : r == -EPIPE ? DUMP_REPLY_LOST : EXIT_FAIL;
}

/* The dump runs in a worker the service guards, as the CLI's does: the
 * service's death (SIGKILL) makes it stop cleanly, not mid remote call. */
static int run_dump(struct rpc_conn *c, const CriuReq *req)
{
	struct dump_request dr = { c, req };
	int r = cli_guarded("dump", dump_and_reply, &dr);

	if (r == EXIT_OK)
		return 0;
	if (r == DUMP_REPLY_LOST)
		return -EPIPE;
	/* The worker replied with its error, or died before it could. */
	if (r != EXIT_FAIL)
		replyf(c, req->type, -EIO, "the dump's worker ended without an answer (exit code %d)", r);
	return -EIO;
}

static int run_restore(struct rpc_conn *c, const CriuReq *req)
{
	struct rpc_job job = { .kind = RPC_JOB_RESTORE };
	pid_t root = -1;
	int r = rpc_job_prepare(&job, c, req->opts);

	if (r >= 0) {
		cli_hold_signals();
		r = oc_restore(&job.restore, &root);
		if (r < 0)
			rpc_job_fail(&job, r, "restore failed: %s%s%s", oc_error_message(),
				     c->notify_error[0] ? ": " : "", c->notify_error);
		else
			rpc_job_publish_stats(&job);
	}
	rpc_job_finish(&job);
	r = job_reply(c, req->type, &job, root);
	release_signals(&job);
	return r;
}

/* CHECK: ocicr check's probes, one log line each; fails when one that
 * checkpoint/restore needs is missing. */
static int run_check(struct rpc_conn *c, const CriuReq *req)
{
	struct rpc_job job = { .kind = RPC_JOB_CHECK };
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	bool ok = false;
	int r = rpc_job_prepare(&job, c, req->opts);

	if (r >= 0) {
		FILE *out = open_memstream(&text, &len);

		if (!out) {
			rpc_job_fail(&job, -errno, "cannot run the checks: %m");
		} else {
			oc_check(out, &ok);
			fclose(out);
			for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
				oc_log_line(OC_LOG_INFO, line);
			if (!ok)
				rpc_job_fail(&job, -EOPNOTSUPP, "check: a kernel interface ocicr needs is missing");
		}
	}
	rpc_job_finish(&job);
	return job_reply(c, req->type, &job, 0);
}

/* Requests for what ocicr does not do yet: a clean refusal of the same type. */
static int refuse(struct rpc_conn *c, const CriuReq *req, const char *what)
{
	int r = replyf(c, req->type, -EOPNOTSUPP, "%s is not supported by ocicr yet (%s)", req_type_name(req->type),
		       what);
	return r < 0 ? -EPIPE : -EOPNOTSUPP;
}

/* EMPTY answers what asks for nothing ocicr can do. */
static int unknown(struct rpc_conn *c, const CriuReq *req)
{
	int r;

	if (req->type == CRIU_REQ_TYPE__EMPTY)
		r = reply(c, CRIU_REQ_TYPE__EMPTY, -EBADMSG, "an EMPTY request asks for nothing");
	else if (req->type == CRIU_REQ_TYPE__NOTIFY)
		r = reply(c, CRIU_REQ_TYPE__EMPTY, -EBADMSG, "NOTIFY outside a dump or restore");
	else
		r = replyf(c, CRIU_REQ_TYPE__EMPTY, -EBADMSG, "request type %d is not one ocicr knows", req->type);
	return r < 0 ? -EPIPE : -EBADMSG;
}

/* The types a client may keep the connection open after. */
static bool keep_open_allowed(int type)
{
	switch (type) {
	case CRIU_REQ_TYPE__VERSION:
	case CRIU_REQ_TYPE__FEATURE_CHECK:
	case CRIU_REQ_TYPE__CPUINFO_DUMP:
	case CRIU_REQ_TYPE__CPUINFO_CHECK:
	case CRIU_REQ_TYPE__PAGE_SERVER:
	case CRIU_REQ_TYPE__PAGE_SERVER_CHLD:
	case CRIU_REQ_TYPE__WAIT_PID:
		return true;
	default:
		return false;
	}
}

/* Answer one request: 0 when it succeeded, -EPIPE when the client is
 * gone, another negative errno when the reply said it failed. */
static int handle(struct rpc_conn *c, const CriuReq *req)
{
	switch (req->type) {
	case CRIU_REQ_TYPE__VERSION:
		return handle_version(c);
	case CRIU_REQ_TYPE__FEATURE_CHECK:
		return handle_features(c, req);
	case CRIU_REQ_TYPE__DUMP:
		return run_dump(c, req);
	case CRIU_REQ_TYPE__RESTORE:
		return run_restore(c, req);
	case CRIU_REQ_TYPE__CHECK:
		return run_check(c, req);
	case CRIU_REQ_TYPE__WAIT_PID:
		return handle_wait_pid(c, req);
	case CRIU_REQ_TYPE__PRE_DUMP:
	case CRIU_REQ_TYPE__SINGLE_PRE_DUMP:
		return refuse(c, req, "pre-dump and memory tracking");
	case CRIU_REQ_TYPE__PAGE_SERVER:
	case CRIU_REQ_TYPE__PAGE_SERVER_CHLD:
		return refuse(c, req, "page server");
	case CRIU_REQ_TYPE__CPUINFO_DUMP:
	case CRIU_REQ_TYPE__CPUINFO_CHECK:
		return refuse(c, req, "cpuinfo images");
	default:
		return unknown(c, req);
	}
}

int rpc_serve(int sk)
{
	struct rpc_conn c = { .sk = sk };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int last = 0;

	if (getsockopt(sk, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		fprintf(stderr, "ocicr swrk: fd %d: cannot learn the client: %m\n", sk);
		return EXIT_FAIL;
	}
	c.peer = cred.pid;
	for (;;) {
		CriuReq *req = NULL;
		size_t size = 0;
		int r = rpc_recv(&c, &req, &size);

		if (r == 0)
			break; /* the client is done */
		if (r == -EBADMSG) {
			replyf(&c, CRIU_REQ_TYPE__EMPTY, r, "malformed request: %zu bytes that are not a criu_req",
			       size);
			return EXIT_FAIL;
		}
		if (r < 0) {
			fprintf(stderr, "ocicr swrk: cannot read a request: %s\n", strerror(-r));
			return EXIT_FAIL;
		}
		if (req->has_keep_open && req->keep_open && !keep_open_allowed(req->type)) {
			replyf(&c, req->type, -EINVAL, "keep_open is not allowed with %s", req_type_name(req->type));
			criu_req__free_unpacked(req, NULL);
			return EXIT_FAIL;
		}
		c.notify_error[0] = 0;
		last = handle(&c, req);
		bool more = req->has_keep_open && req->keep_open;
		criu_req__free_unpacked(req, NULL);
		if (last == -EPIPE || !more)
			break;
	}
	return last < 0 ? EXIT_FAIL : EXIT_OK;
}
