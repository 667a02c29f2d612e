/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CRIU's RPC service ("criu swrk FD"): one criu_req per SOCK_SEQPACKET
 * datagram, answered with one criu_resp; NOTIFY exchanges in between.
 * rpc_service.c serves the socket, rpc_opts.c turns criu_opts into the
 * engine's options, rpc_wire.c frames the messages and relays the
 * engine's notify points.
 */
#ifndef OCICR_CRIU_RPC_H
#define OCICR_CRIU_RPC_H

#include <stdbool.h>
#include <sys/types.h>

#include "ocicr.h"
#include "oci/criu/opts.h"
#include "rpc.pb-c.h"

/* CRIU's RPC interface version that ocicr speaks (VERSION's answer). */
#define RPC_CRIU_MAJOR 4
#define RPC_CRIU_MINOR 2

/* go-criu reads replies into 8192 bytes: every reply stays below. */
#define RPC_REPLY_MAX 8192
/* cr_errmsg is cut to this many bytes to keep a reply well below it. */
#define RPC_ERRMSG_MAX 1024

/* The client's socket and who is on its other end. */
struct rpc_conn {
	int sk;
	pid_t peer;		/* SO_PEERCRED: whose fd table images_dir_fd & co. index */
	char notify_error[256]; /* why the client broke off a NOTIFY, if it did */
};

/* ---- rpc_service.c ---- */

/* Serve requests until the client is done; the exit status for ocicr. */
int rpc_serve(int sk);

/* ---- rpc_opts.c ---- */

/* Which request an option set is checked for. */
enum rpc_job_kind {
	RPC_JOB_DUMP = 1 << 0,
	RPC_JOB_RESTORE = 1 << 1,
	RPC_JOB_CHECK = 1 << 2, /* CHECK, CPUINFO_*: only directories and the log */
};

/* One DUMP, RESTORE or CHECK request made ready for the engine. */
struct rpc_job {
	enum rpc_job_kind kind;
	int images_fd;	       /* ours, or -1 */
	int work_fd;	       /* ours, or -1 */
	char images_dir[4096]; /* its path for the engine and its messages */
	bool log_open;
	struct oc_dump_opts dump;
	struct oc_restore_opts restore;
	/* The settings the engine's options point into (root, externals,
	 * inherited fds, cgroups...), kept until rpc_job_finish(). */
	struct criu_opts settings;
	int err; /* negative errno of the failure */
	char errmsg[RPC_ERRMSG_MAX];
};

/*
 * Check @opts for @job->kind, open the client's directories, enter the work
 * directory, open the log and fill the engine's options.  An option that
 * ocicr does not implement, set to anything but its default, fails by name.
 * Negative errno with job->errmsg set on failure.
 */
int rpc_job_prepare(struct rpc_job *job, struct rpc_conn *c, const CriuOpts *opts);

/* Record a failure in @job (message, errno) and log it; returns @err. */
int rpc_job_fail(struct rpc_job *job, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* After a successful DUMP or RESTORE: CRIU writes stats-dump and
 * stats-restore into the work directory (podman's --print-stats reads them
 * there); the engine wrote them with the images, so copy them over when the
 * two directories differ.  A failure is only logged. */
void rpc_job_publish_stats(struct rpc_job *job);

/* Close what rpc_job_prepare() opened; the log's last line is the error. */
void rpc_job_finish(struct rpc_job *job);

/* ---- rpc_wire.c ---- */

/* Receive one datagram as a criu_req: 1 and *ret, 0 at the client's end
 * (an empty datagram or EOF), -EBADMSG for one that is not a criu_req. */
int rpc_recv(struct rpc_conn *c, CriuReq **ret, size_t *ret_len);

/* Send @resp, optionally with @fd attached (SCM_RIGHTS); -errno. */
int rpc_send(struct rpc_conn *c, const CriuResp *resp, int fd);

/* The engine's notify callback (@data: struct rpc_conn): a NOTIFY message,
 * then the client's acknowledgement; nonzero when the client refuses. */
int rpc_notify_relay(const struct oc_notify *n, void *data);

#endif
