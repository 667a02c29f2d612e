// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * criu_opts to the engine's options.  Every field of criu_opts is looked at
 * through the message's descriptor: one that is present with anything but
 * its default value must be in opt_rules[] for the request at hand, or the
 * request fails naming it.  Clients send their defaults explicitly (runc
 * writes every boolean, false ones too), so those pass.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/cli.h"
#include "oci/criu/rpc.h"

/* A value ocicr cannot honour yet although it knows the option: why, or NULL. */
typedef const char *(*opt_check_fn)(const CriuOpts *o);

static const char *bare_log_name(const CriuOpts *o)
{
	return strchr(o->log_file, '/') ? "a bare file name is needed: it is made in the work directory" : NULL;
}

/* "/" is where ocicr's trees live already; another root is a container's. */
static const char *root_is_slash(const CriuOpts *o)
{
	return strcmp(o->root, "/") ? "only \"/\" until containers" : NULL;
}

/*
 * CRIU reads settings from config_file (runc always names
 * /etc/criu/runc.conf).  A file that does not exist, or holds only blank and
 * comment lines, sets nothing; ocicr does not apply settings from one yet.
 */
static const char *config_sets_nothing(const CriuOpts *o)
{
	FILE *f = fopen(o->config_file, "re");
	char line[512];
	bool empty = true;

	if (!f)
		return NULL;
	while (empty && fgets(line, sizeof(line), f)) {
		const char *p = line + strspn(line, " \t\r\n");
		empty = !*p || *p == '#';
	}
	fclose(f);
	return empty ? NULL : "a file with settings in it";
}

#define FOR_ALL (RPC_JOB_DUMP | RPC_JOB_RESTORE | RPC_JOB_CHECK)
#define FOR_CR	(RPC_JOB_DUMP | RPC_JOB_RESTORE)

/* The criu_opts fields ocicr implements, and for which requests. */
static const struct opt_rule {
	const char *name;
	unsigned kinds;
	opt_check_fn check;
} opt_rules[] = {
	{ "images_dir_fd", FOR_ALL },
	{ "images_dir", FOR_ALL },
	{ "work_dir_fd", FOR_ALL },
	{ "log_file", FOR_ALL, bare_log_name },
	{ "log_level", FOR_ALL },
	{ "config_file", FOR_ALL, config_sets_nothing },
	{ "pid", RPC_JOB_DUMP },
	{ "leave_running", RPC_JOB_DUMP },
	{ "shell_job", FOR_CR },
	/* Restore takes back whatever locks the images hold. */
	{ "file_locks", FOR_CR },
	{ "notify_scripts", FOR_CR },
	{ "root", FOR_CR, root_is_slash },
	{ "rst_sibling", RPC_JOB_RESTORE },
};

static const struct opt_rule *find_rule(const char *name)
{
	for (size_t i = 0; i < sizeof(opt_rules) / sizeof(opt_rules[0]); i++)
		if (!strcmp(opt_rules[i].name, name))
			return &opt_rules[i];
	return NULL;
}

/* Present with a value other than its default (proto2 has-bits decide
 * presence; strings, messages and lists count as set when present). */
static bool field_is_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + f->quantifier_offset) > 0;
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE: {
		const void *p = *(const void *const *)(base + f->offset);
		return p && p != f->default_value;
	}
	case PROTOBUF_C_TYPE_BOOL:
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_ENUM: {
		/* All four bytes wide in protobuf-c (protobuf_c_boolean is an int). */
		int32_t v, def = 0;

		if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
		    !*(const protobuf_c_boolean *)(base + f->quantifier_offset))
			return false;
		memcpy(&v, base + f->offset, sizeof(v));
		if (f->default_value)
			memcpy(&def, f->default_value, sizeof(def));
		return v != def;
	}
	default:
		return true; /* no such field in criu_opts today: treat it as set */
	}
}

static const char *kind_name(enum rpc_job_kind kind)
{
	return kind == RPC_JOB_DUMP ? "DUMP" : kind == RPC_JOB_RESTORE ? "RESTORE" : "CHECK";
}

/* Append ", WORD" (or the first "WORD") to @buf, cut at its end. */
static void list_add(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void list_add(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len && len + 2 < size)
		strcpy(buf + len, ", "), len += 2;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* Every option @o sets that ocicr cannot honour for @job, in one failure:
 * a client learns all it has to drop at once. */
static int check_opts(struct rpc_job *job, const CriuOpts *o)
{
	const ProtobufCMessageDescriptor *d = &criu_opts__descriptor;
	char unsupported[512] = "", misplaced[256] = "";

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const struct opt_rule *rule;
		const char *why;

		if (!field_is_set(&o->base, f))
			continue;
		rule = find_rule(f->name);
		if (!rule)
			list_add(unsupported, sizeof(unsupported), "%s", f->name);
		else if (!(rule->kinds & job->kind))
			list_add(misplaced, sizeof(misplaced), "%s", f->name);
		else if (rule->check && (why = rule->check(o)))
			list_add(unsupported, sizeof(unsupported), "%s (%s)", f->name, why);
	}
	if (unsupported[0])
		return rpc_job_fail(job, -EOPNOTSUPP, "options not supported by ocicr yet: %s%s%s", unsupported,
				    misplaced[0] ? "; not for this request: " : "", misplaced);
	if (misplaced[0])
		return rpc_job_fail(job, -EINVAL, "options that do not apply to %s: %s", kind_name(job->kind),
				    misplaced);
	return 0;
}

int rpc_job_fail(struct rpc_job *job, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(job->errmsg, sizeof(job->errmsg), fmt, ap);
	va_end(ap);
	job->err = err < 0 ? err : -EINVAL;
	if (job->log_open)
		oc_log_line(OC_LOG_ERROR, job->errmsg);
	return job->err;
}

/* A directory the client names by one of its own fds (CRIU's rule: the
 * number is in the client's table, reached through /proc). */
static int open_client_dir(struct rpc_job *job, struct rpc_conn *c, const char *what, int fd)
{
	char path[64];
	int dfd;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", c->peer, fd);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return rpc_job_fail(job, -errno, "%s %d: cannot open the client's fd (%s): %m", what, fd, path);
	return dfd;
}

static int open_dirs(struct rpc_job *job, struct rpc_conn *c, const CriuOpts *o)
{
	if (o->images_dir_fd >= 0)
		job->images_fd = open_client_dir(job, c, "images_dir_fd", o->images_dir_fd);
	else if (o->images_dir) {
		if (job->kind == RPC_JOB_DUMP && mkdir(o->images_dir, 0700) < 0 && errno != EEXIST)
			return rpc_job_fail(job, -errno, "images_dir %s: cannot create it: %m", o->images_dir);
		job->images_fd = open(o->images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (job->images_fd < 0)
			return rpc_job_fail(job, -errno, "images_dir %s: %m", o->images_dir);
	} else if (job->kind != RPC_JOB_CHECK) {
		return rpc_job_fail(job, -EINVAL, "no images directory: neither images_dir_fd nor images_dir");
	}
	if (job->images_fd < 0 && job->err)
		return job->err;
	if (job->images_fd >= 0) {
		/* The path it has now, absolute (the work directory is entered
		 * below), and one the log and messages can name. */
		char link[64];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", job->images_fd);
		n = readlink(link, job->images_dir, sizeof(job->images_dir) - 1);
		if (n <= 0 || job->images_dir[0] != '/' || n == (ssize_t)sizeof(job->images_dir) - 1)
			snprintf(job->images_dir, sizeof(job->images_dir), "%s", link);
		else
			job->images_dir[n] = 0;
	}

	if (o->has_work_dir_fd && o->work_dir_fd >= 0) {
		job->work_fd = open_client_dir(job, c, "work_dir_fd", o->work_dir_fd);
		if (job->work_fd < 0)
			return job->err;
	}
	/* The log and CRIU's stats files are made in the work directory. */
	int wd = job->work_fd >= 0 ? job->work_fd : job->images_fd;
	if (wd >= 0 && fchdir(wd) < 0)
		return rpc_job_fail(job, -errno, "cannot enter the work directory: %m");
	return 0;
}

static void silent_log(enum oc_log_level level, const char *line, void *userdata)
{
}

static int open_log(struct rpc_job *job, const CriuOpts *o)
{
	struct cli_log_opts lo = { .name = o->log_file, .verbosity = o->log_level, .quiet = true };

	/* Nothing of ours on stdio: after a restore it is the tree's. */
	if (!o->log_file) {
		oc_set_log(silent_log, NULL, OC_LOG_MSG);
		return 0;
	}
	if (bare_log_name(o))
		return rpc_job_fail(job, -EINVAL, "log_file %s: %s", o->log_file, bare_log_name(o));
	if (lo.verbosity < OC_LOG_MSG)
		lo.verbosity = OC_LOG_MSG;
	if (lo.verbosity > OC_LOG_DEBUG)
		lo.verbosity = OC_LOG_DEBUG;
	if (cli_log_open(NULL, &lo) < 0)
		return rpc_job_fail(job, -errno, "log_file %s: cannot open it in the work directory: %m", o->log_file);
	job->log_open = true;
	return 0;
}

int rpc_job_prepare(struct rpc_job *job, struct rpc_conn *c, const CriuOpts *o)
{
	CriuOpts none = CRIU_OPTS__INIT;
	int r;

	job->images_fd = job->work_fd = -1;
	if (!o)
		o = &none;
	r = open_dirs(job, c, o);
	if (r >= 0)
		r = open_log(job, o);
	if (r >= 0)
		r = check_opts(job, o);
	if (r < 0)
		return r;

	bool notify = o->has_notify_scripts && o->notify_scripts;
	job->dump =
		OC_OPTS(oc_dump_opts, .pid = o->has_pid && o->pid ? o->pid : c->peer, .images_dir = job->images_dir,
			.leave_running = o->has_leave_running && o->leave_running,
			.shell_job = o->has_shell_job && o->shell_job, .file_locks = o->has_file_locks && o->file_locks,
			.interrupted = cli_held_signal, .notify = notify ? rpc_notify_relay : NULL, .notify_data = c);
	/* The engine returns once the tree runs: the service never waits. */
	job->restore = OC_OPTS(oc_restore_opts, .images_dir = job->images_dir, .detach = true,
			       .shell_job = o->has_shell_job && o->shell_job,
			       .restore_sibling = o->has_rst_sibling && o->rst_sibling, .interrupted = cli_held_signal,
			       .notify = notify ? rpc_notify_relay : NULL, .notify_data = c);
	return 0;
}

void rpc_job_finish(struct rpc_job *job)
{
	/* rpc_job_fail() logged the error: it is the log's last line. */
	if (job->log_open)
		cli_log_close(0);
	job->log_open = false;
	if (job->images_fd >= 0)
		close(job->images_fd);
	if (job->work_fd >= 0)
		close(job->work_fd);
	job->images_fd = job->work_fd = -1;
}
