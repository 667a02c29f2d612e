// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * criu_opts (rpc.proto) to the engine's options, through CRIU's option
 * table shared with the `criu` front end (oci/criu/opts.h): each field the
 * service implements is set as the command line option it is, then
 * criu_opts_to_dump()/_to_restore() map them.  Every field is looked at
 * through the message's descriptor: one present with anything but its
 * default value that is not in rpc_fields[], or whose option ocicr does not
 * implement, fails the request naming it.  Clients send their defaults
 * explicitly (runc writes every boolean, false ones too): those pass.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/cli.h"
#include "oci/criu/opts.h"
#include "oci/criu/rpc.h"
#include "ocicr/cleanup.h"

#define FOR_ALL (RPC_JOB_DUMP | RPC_JOB_RESTORE | RPC_JOB_CHECK)
#define FOR_CR	(RPC_JOB_DUMP | RPC_JOB_RESTORE)

/* The criu_opts fields the service takes, for which requests, and the
 * command line option each one is (NULL: the service's own business). */
static const struct rpc_field {
	const char *field;
	const char *option;
	unsigned kinds;
} rpc_fields[] = {
	{ "images_dir_fd", NULL, FOR_ALL },
	{ "images_dir", NULL, FOR_ALL },
	{ "work_dir_fd", NULL, FOR_ALL },
	{ "config_file", NULL, FOR_ALL },
	{ "notify_scripts", NULL, FOR_CR },
	{ "status_fd", NULL, FOR_CR },
	{ "log_file", "log-file", FOR_ALL },
	{ "log_level", "verbosity", FOR_ALL },
	{ "pid", "tree", RPC_JOB_DUMP },
	{ "leave_running", "leave-running", RPC_JOB_DUMP },
	{ "leave_stopped", "leave-stopped", FOR_CR },
	{ "timeout", "timeout", RPC_JOB_DUMP },
	{ "shell_job", "shell-job", FOR_CR },
	/* Restore takes back whatever locks the images hold. */
	{ "file_locks", "file-locks", FOR_CR },
	{ "rst_sibling", "restore-sibling", RPC_JOB_RESTORE },
	{ "ext_unix_sk", "ext-unix-sk", FOR_CR },
	{ "link_remap", "link-remap", FOR_CR },
	{ "force_irmap", "force-irmap", RPC_JOB_DUMP },
	{ "root", "root", FOR_CR },
	{ "manage_cgroups", "manage-cgroups", FOR_CR },
	{ "manage_cgroups_mode", "manage-cgroups", FOR_CR },
	{ "cg_root", "cgroup-root", RPC_JOB_RESTORE },
	{ "freeze_cgroup", "freeze-cgroup", RPC_JOB_DUMP },
	{ "cgroup_dump_controller", "cgroup-dump-controller", RPC_JOB_DUMP },
	{ "cgroup_props", "cgroup-props", RPC_JOB_DUMP },
	{ "cgroup_props_file", "cgroup-props-file", RPC_JOB_DUMP },
	/* Numbers in our own fd table: the client passed them to us. */
	{ "inherit_fd", "inherit-fd", RPC_JOB_RESTORE },
	{ "external", "external", FOR_CR },
	{ "orphan_pts_master", NULL, FOR_CR },
	{ "ext_mnt", "ext-mount-map", FOR_CR },
	{ "join_ns", "join-ns", RPC_JOB_RESTORE },
	/* CLONE_NEWNET only (empty_ns_check() refuses the rest): the tree's
	 * network namespace is not to be restored with devices, addresses or
	 * routes.  ocicr does not check it: the namespace is external (runc
	 * sends --external net[...] for a path) and joined again, or it is
	 * the tree's own and made anew with what it held (loopback alone for
	 * runc's, which is CRIU's empty namespace; veths need their peers
	 * named, which a runc restore does not do). */
	{ "empty_ns", NULL, FOR_CR },
	/* CRIU: a device file whose path now names another device is opened
	 * through any node of the dumped device.  ocicr opens a device file by
	 * its dumped path again (runc makes /dev's nodes anew at restore), so
	 * there is nothing to relax. */
	{ "evasive_devices", NULL, FOR_CR },
	{ "tcp_established", "tcp-established", FOR_CR },
	{ "tcp_skip_in_flight", "skip-in-flight", RPC_JOB_DUMP },
	{ "tcp_close", "tcp-close", FOR_CR },
	{ "network_lock", "network-lock", RPC_JOB_DUMP },
};

/* Fields named unlike their command line option, for the reason a refusal
 * gives (the rest differ only in '_' for '-'). */
static const char *const option_aliases[][2] = {
	{ "ext_mnt", "ext-mount-map" },
	{ "auto_ext_mnt", "ext-mount-map" },
	{ "cg_root", "cgroup-root" },
	{ "manage_cgroups_mode", "manage-cgroups" },
	{ "parent_img", "prev-images-dir" },
	{ "tcp_skip_in_flight", "skip-in-flight" },
	{ "ps", "page-server" },
	{ "veths", "veth-pair" },
	{ "unix_sk_ino", "ext-unix-sk" },
	{ "irmap_scan_paths", "irmap-scan-path" },
	{ "ext_sharing", "enable-external-sharing" },
	{ "ext_masters", "enable-external-masters" },
};

static const struct rpc_field *find_field(const char *name)
{
	for (size_t i = 0; i < sizeof(rpc_fields) / sizeof(rpc_fields[0]); i++)
		if (!strcmp(rpc_fields[i].field, name))
			return &rpc_fields[i];
	return NULL;
}

/* What the shared table says is missing for field @name, or NULL. */
static const char *missing_feature(const char *name)
{
	const struct criu_opt_desc *d;
	char option[64];

	snprintf(option, sizeof(option), "%s", name);
	for (char *p = option; *p; p++)
		if (*p == '_')
			*p = '-';
	for (size_t i = 0; i < sizeof(option_aliases) / sizeof(option_aliases[0]); i++)
		if (!strcmp(option_aliases[i][0], name))
			snprintf(option, sizeof(option), "%s", option_aliases[i][1]);
	d = criu_opt_find(option, NULL);
	return d && !d->supported ? d->why : NULL;
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

/* The field's value as its command line option takes it (NULL: a flag). */
static const char *field_value(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, char *buf, size_t size)
{
	const char *base = (const char *)m;
	int32_t v;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return *(const char *const *)(base + f->offset);
	case PROTOBUF_C_TYPE_BOOL:
		return NULL; /* set only when true (field_is_set) */
	case PROTOBUF_C_TYPE_UINT32:
		memcpy(&v, base + f->offset, sizeof(v));
		snprintf(buf, size, "%u", (uint32_t)v);
		return buf;
	default:
		memcpy(&v, base + f->offset, sizeof(v));
		snprintf(buf, size, "%d", v);
		return buf;
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

/* What the fields of a request ask for, in the shared table's terms. */
struct rpc_settings {
	struct criu_opts co;
	char unsupported[512]; /* fields, and config file options, refused */
	char misplaced[256];   /* fields that do not apply to this request */
};

/* A refusal the shared table recorded since @before, under @what's name. */
static void note_refused(struct rpc_settings *s, size_t before, const char *what)
{
	for (size_t i = before; i < s->co.unsupported.n; i++) {
		const struct criu_opt_desc *d = criu_opt_find(s->co.unsupported.v[i], NULL);
		const char *why = d ? d->why : NULL;

		if (what)
			list_add(s->unsupported, sizeof(s->unsupported), "%s%s%s%s", what, why ? " (" : "",
				 why ? why : "", why ? ")" : "");
		else
			list_add(s->unsupported, sizeof(s->unsupported), "--%s from config_file", d ? d->name : "?");
	}
}

/* A repeated field: its option once per element (inherit_fd, ext_mnt and
 * join_ns as CRIU's command line spells them: fd[N]:KEY, KEY:VAL, NS:PATH;
 * runc's cg_root, one {ctrl, path} per hierarchy, "" for v2, as CTRL:PATH,
 * or PATH for every hierarchy). */
static int set_repeated(struct rpc_settings *s, const CriuOpts *o, const ProtobufCFieldDescriptor *f,
			const char *option)
{
	char buf[8192];
	int r = 0;

	if (!strcmp(f->name, "inherit_fd")) {
		for (size_t i = 0; i < o->n_inherit_fd && r >= 0; i++) {
			snprintf(buf, sizeof(buf), "fd[%d]:%s", o->inherit_fd[i]->fd, o->inherit_fd[i]->key);
			r = criu_opts_set(&s->co, option, buf);
		}
	} else if (!strcmp(f->name, "ext_mnt")) {
		for (size_t i = 0; i < o->n_ext_mnt && r >= 0; i++) {
			snprintf(buf, sizeof(buf), "%s:%s", o->ext_mnt[i]->key, o->ext_mnt[i]->val);
			r = criu_opts_set(&s->co, option, buf);
		}
	} else if (!strcmp(f->name, "join_ns")) {
		for (size_t i = 0; i < o->n_join_ns && r >= 0; i++) {
			const JoinNamespace *j = o->join_ns[i];
			snprintf(buf, sizeof(buf), "%s:%s%s%s", j->ns, j->ns_file, j->extra_opt ? "," : "",
				 j->extra_opt ? j->extra_opt : "");
			r = criu_opts_set(&s->co, option, buf);
		}
	} else if (!strcmp(f->name, "cg_root")) {
		for (size_t i = 0; i < o->n_cg_root && r >= 0; i++) {
			const CgroupRoot *cr = o->cg_root[i];
			snprintf(buf, sizeof(buf), "%s%s%s", cr->ctrl ? cr->ctrl : "", cr->ctrl ? ":" : "", cr->path);
			r = criu_opts_set(&s->co, option, buf);
		}
	} else if (f->type == PROTOBUF_C_TYPE_STRING) {
		const char *const *v = *(const char *const *const *)((const char *)o + f->offset);
		size_t n = *(const size_t *)((const char *)o + f->quantifier_offset);

		for (size_t i = 0; i < n && r >= 0; i++)
			r = criu_opts_set(&s->co, option, v[i]);
	} else {
		r = oc_error(-EINVAL, "a list the service cannot take");
	}
	return r;
}

/* empty_ns may ask for an empty network namespace only, as in CRIU. */
static void empty_ns_check(struct rpc_settings *s, const CriuOpts *o)
{
	static const struct {
		uint32_t flag;
		const char *name;
	} other[] = {
		{ CLONE_NEWNS, "mnt" },	   { CLONE_NEWUTS, "uts" }, { CLONE_NEWIPC, "ipc" },
		{ CLONE_NEWUSER, "user" }, { CLONE_NEWPID, "pid" }, { CLONE_NEWCGROUP, "cgroup" },
		{ CLONE_NEWTIME, "time" },
	};
	uint32_t rest = o->empty_ns & ~(uint32_t)CLONE_NEWNET;
	char names[128] = "";

	if (!o->has_empty_ns || !rest)
		return;
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (rest & other[i].flag) {
			list_add(names, sizeof(names), "%s", other[i].name);
			rest &= ~other[i].flag;
		}
	if (rest)
		list_add(names, sizeof(names), "0x%x", rest);
	list_add(s->unsupported, sizeof(s->unsupported), "empty_ns %s (only net can be made empty)", names);
}

/* Set the command line option of each field @o sets; refusals are noted. */
static int set_fields(struct rpc_job *job, struct rpc_settings *s, const CriuOpts *o)
{
	const ProtobufCMessageDescriptor *d = &criu_opts__descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const struct rpc_field *rf;
		const char *why, *value;
		size_t before = s->co.unsupported.n;
		char buf[16];

		if (!field_is_set(&o->base, f))
			continue;
		rf = find_field(f->name);
		if (!rf) {
			why = missing_feature(f->name);
			list_add(s->unsupported, sizeof(s->unsupported), "%s%s%s%s", f->name, why ? " (" : "",
				 why ? why : "", why ? ")" : "");
			continue;
		}
		if (!(rf->kinds & job->kind)) {
			list_add(s->misplaced, sizeof(s->misplaced), "%s", f->name);
			continue;
		}
		/* "/" is where ocicr's trees live already. */
		if (!rf->option || (!strcmp(f->name, "root") && !strcmp(o->root, "/")))
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			if (set_repeated(s, o, f, rf->option) < 0)
				return rpc_job_fail(job, -EINVAL, "option %s: %s", f->name, oc_error_message());
			note_refused(s, before, f->name);
			continue;
		}
		value = field_value(&o->base, f, buf, sizeof(buf));
		if (criu_opts_set(&s->co, rf->option, value) < 0)
			return rpc_job_fail(job, -EINVAL, "option %s: %s", f->name, oc_error_message());
		note_refused(s, before, f->name);
	}
	s->co.orphan_pts_master = o->has_orphan_pts_master && o->orphan_pts_master;
	empty_ns_check(s, o);
	/* CRIU lets the configuration file override what the request says. */
	if (o->config_file) {
		size_t before = s->co.unsupported.n;

		if (criu_opts_apply_config(&s->co, o->config_file, true) < 0)
			return rpc_job_fail(job, -EINVAL, "config_file: %s", oc_error_message());
		note_refused(s, before, NULL);
	}
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

/* A file the client names by one of its own fds (CRIU's rule: the number
 * is in the client's table, reached through /proc). */
static int open_client_fd(struct rpc_job *job, struct rpc_conn *c, const char *what, int fd, int flags)
{
	char path[64];
	int dfd;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", c->peer, fd);
	dfd = open(path, flags | O_CLOEXEC);
	if (dfd < 0)
		return rpc_job_fail(job, -errno, "%s %d: cannot open the client's fd (%s): %m", what, fd, path);
	return dfd;
}

/* The path @fd has now, absolute, for the engine and its messages. */
static void dir_path(int fd, char *buf, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	if (n <= 0 || buf[0] != '/' || n == (ssize_t)size - 1)
		snprintf(buf, size, "%s", link);
	else
		buf[n] = 0;
}

static int open_dirs(struct rpc_job *job, struct rpc_conn *c, const CriuOpts *o)
{
	if (o->images_dir_fd >= 0) {
		job->images_fd = open_client_fd(job, c, "images_dir_fd", o->images_dir_fd, O_RDONLY | O_DIRECTORY);
	} else if (o->images_dir) {
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
	if (job->images_fd >= 0)
		dir_path(job->images_fd, job->images_dir, sizeof(job->images_dir));

	if (o->has_work_dir_fd && o->work_dir_fd >= 0) {
		job->work_fd = open_client_fd(job, c, "work_dir_fd", o->work_dir_fd, O_RDONLY | O_DIRECTORY);
		if (job->work_fd < 0)
			return job->err;
	}
	/* CRIU writes to status_fd only when a lazy-pages or page server is
	 * ready, which ocicr refuses; like CRIU, it must still be writable. */
	if (o->has_status_fd && job->kind != RPC_JOB_CHECK) {
		int sfd = open_client_fd(job, c, "status_fd", o->status_fd, O_WRONLY);

		if (sfd < 0)
			return job->err;
		close(sfd);
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

static int open_log(struct rpc_job *job, const struct criu_opts *co)
{
	struct cli_log_opts lo = { .name = co->log_file, .verbosity = co->verbosity, .quiet = true };

	/* Nothing of ours on stdio: after a restore it is the tree's. */
	if (!co->log_file) {
		oc_set_log(silent_log, NULL, OC_LOG_MSG);
		return 0;
	}
	if (strchr(co->log_file, '/'))
		return rpc_job_fail(job, -EINVAL,
				    "log_file %s: a bare file name is needed: it is made in the work directory",
				    co->log_file);
	if (lo.verbosity > OC_LOG_DEBUG)
		lo.verbosity = OC_LOG_DEBUG;
	if (cli_log_open(NULL, &lo) < 0)
		return rpc_job_fail(job, -errno, "log_file %s: cannot open it in the work directory: %m", co->log_file);
	job->log_open = true;
	return 0;
}

/* The engine's options from the shared mapping, plus the service's own. */
static int fill_engine_opts(struct rpc_job *job, struct rpc_conn *c, struct criu_opts *co, const CriuOpts *o)
{
	bool notify = o->has_notify_scripts && o->notify_scripts;
	int r = 0;

	/* The directories are the request's, whatever a config file says. */
	r = criu_opts_set(co, "images-dir", job->images_dir);
	if (r >= 0 && co->tree <= 0)
		co->tree = c->peer;  /* CRIU's default: the client itself */
	co->restore_detached = true; /* the service never waits for a tree */
	if (r >= 0 && job->kind == RPC_JOB_DUMP) {
		job->dump = OC_OPTS(oc_dump_opts);
		r = criu_opts_to_dump(co, &job->dump);
		job->dump.images_dir = job->images_dir;
		/* At post-dump CRIU's tree is still frozen: no snapshot first. */
		job->dump.no_snapshot |= notify;
		job->dump.interrupted = cli_held_signal;
		job->dump.notify = notify ? rpc_notify_relay : NULL;
		job->dump.notify_data = c;
	} else if (r >= 0 && job->kind == RPC_JOB_RESTORE) {
		job->restore = OC_OPTS(oc_restore_opts);
		r = criu_opts_to_restore(co, &job->restore);
		job->restore.images_dir = job->images_dir;
		job->restore.interrupted = cli_held_signal;
		job->restore.notify = notify ? rpc_notify_relay : NULL;
		job->restore.notify_data = c;
	}
	return r < 0 ? rpc_job_fail(job, r, "%s", oc_error_message()) : 0;
}

int rpc_job_prepare(struct rpc_job *job, struct rpc_conn *c, const CriuOpts *o)
{
	CriuOpts none = CRIU_OPTS__INIT;
	struct rpc_settings s = {};
	int r;

	job->images_fd = job->work_fd = -1;
	if (!o)
		o = &none;
	criu_opts_init(&s.co);
	r = open_dirs(job, c, o);
	if (r >= 0)
		r = set_fields(job, &s, o);
	if (r >= 0)
		r = open_log(job, &s.co);
	if (r >= 0 && s.unsupported[0])
		r = rpc_job_fail(job, -EOPNOTSUPP, "options not supported by ocicr yet: %s%s%s", s.unsupported,
				 s.misplaced[0] ? "; not for this request: " : "", s.misplaced);
	if (r >= 0 && s.misplaced[0])
		r = rpc_job_fail(job, -EINVAL, "options that do not apply to %s: %s", kind_name(job->kind),
				 s.misplaced);
	if (r >= 0)
		r = fill_engine_opts(job, c, &s.co, o);
	/* The engine's options point into them: they live as long as @job. */
	job->settings = s.co;
	return r;
}

/* Copy @name from the images directory into the work directory: a
 * temporary name first, so no half-written file bears the final one. */
static int copy_to_work_dir(struct rpc_job *job, const char *name)
{
	_cleanup_close_ int in = openat(job->images_fd, name, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	char tmp[64];
	struct stat st;

	if (in < 0 || fstat(in, &st) < 0)
		return -errno;
	snprintf(tmp, sizeof(tmp), ".%s.%d", name, getpid());
	out = openat(job->work_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return -errno;
	for (off_t done = 0; done < st.st_size;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, st.st_size - done, 0);

		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;

			unlinkat(job->work_fd, tmp, 0);
			return err;
		}
		done += n;
	}
	if (renameat(job->work_fd, tmp, job->work_fd, name) < 0) {
		int err = -errno;

		unlinkat(job->work_fd, tmp, 0);
		return err;
	}
	return 0;
}

void rpc_job_publish_stats(struct rpc_job *job)
{
	const char *name = job->kind == RPC_JOB_DUMP ? "stats-dump" : "stats-restore";
	struct stat images, work;
	char line[160];
	int r;

	if (job->images_fd < 0 || job->work_fd < 0 || fstat(job->images_fd, &images) < 0 ||
	    fstat(job->work_fd, &work) < 0 || (images.st_dev == work.st_dev && images.st_ino == work.st_ino))
		return;
	r = copy_to_work_dir(job, name);
	if (r < 0) {
		/* The tree is dumped or restored: the statistics are no reason
		 * to fail the request now. */
		snprintf(line, sizeof(line), "cannot copy %s into the work directory: %s", name, strerror(-r));
		oc_log_line(OC_LOG_WARN, line);
	}
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
	criu_opts_fini(&job->settings);
}
