// SPDX-License-Identifier: GPL-2.0-or-later
/* CRIU's options: the table, setting one by name, and the engine mapping. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/criu/opts.h"
#include "ocicr/cleanup.h"

#define OPT(n, s, a)                                                               \
	{                                                                          \
		.name = n, .short_name = s, .arg = CRIU_ARG_##a, .supported = true \
	}
#define BOOL(n, s)                                                               \
	{                                                                        \
		.name = n, .short_name = s, .negatable = true, .supported = true \
	}
/* Refused for now; @w names the missing feature (or NULL). */
#define NOPT(n, s, a, w)                                                  \
	{                                                                 \
		.name = n, .short_name = s, .arg = CRIU_ARG_##a, .why = w \
	}
#define NBOOL(n, w)                                    \
	{                                              \
		.name = n, .negatable = true, .why = w \
	}

const struct criu_opt_desc criu_opt_table[] = {
	/* What ocicr implements. */
	OPT("tree", 't', REQUIRED),
	OPT("leave-stopped", 's', NONE),
	OPT("leave-running", 'R', NONE),
	BOOL("restore-detached", 'd'),
	BOOL("restore-sibling", 'S'),
	BOOL("daemon", 0),
	OPT("images-dir", 'D', REQUIRED),
	OPT("work-dir", 'W', REQUIRED),
	OPT("log-file", 'o', REQUIRED),
	OPT("verbosity", 'v', OPTIONAL),
	OPT("help", 'h', NONE),
	OPT("version", 'V', NONE),
	OPT("pidfile", 0, REQUIRED),
	OPT("action-script", 0, REQUIRED),
	BOOL("shell-job", 'j'),
	BOOL("file-locks", 'l'),
	OPT("timeout", 0, REQUIRED),
	OPT("ghost-limit", 0, REQUIRED),
	/* How a pre-dump reads memory; a dump has no pre-dump stage, so it
	 * is checked and changes nothing (zdtm passes it on every dump). */
	OPT("pre-dump-mode", 0, REQUIRED),
	OPT("status-fd", 0, REQUIRED),
	OPT("manage-cgroups", 0, OPTIONAL),
	OPT("cgroup-root", 0, REQUIRED),
	OPT("freeze-cgroup", 0, REQUIRED),
	OPT("cgroup-yard", 0, REQUIRED),
	OPT("cgroup-dump-controller", 0, REQUIRED),
	OPT("cgroup-props", 0, REQUIRED),
	OPT("cgroup-props-file", 0, REQUIRED),
	BOOL("display-stats", 0),
	OPT("close", 0, REQUIRED),
	OPT("config", 0, REQUIRED),
	OPT("no-default-config", 0, NONE),
	OPT("feature", 0, REQUIRED),
	BOOL("extra", 0),
	BOOL("experimental", 0),
	OPT("all", 0, NONE),
	OPT("root", 'r', REQUIRED),
	OPT("inherit-fd", 0, REQUIRED),
	OPT("external", 0, REQUIRED),
	OPT("ext-mount-map", 'M', REQUIRED),
	OPT("veth-pair", 0, REQUIRED),
	OPT("join-ns", 'J', REQUIRED),
	/* Without a value: datagram sockets connected to named ones outside. */
	OPT("ext-unix-sk", 'x', OPTIONAL),
	/* A watched inode's path comes from its file handle, always. */
	BOOL("force-irmap", 0),
	OPT("irmap-scan-path", 0, REQUIRED),
	/* A ghost file's holes are found with SEEK_DATA/SEEK_HOLE, either way. */
	BOOL("ghost-fiemap", 0),
	/* A file open by a removed name that has another: linked to a temporary name. */
	BOOL("link-remap", 0),
	/* TCP connections (engine/res/fd/sk_tcp.c) and their lock. */
	BOOL("tcp-established", 0),
	BOOL("skip-in-flight", 0),
	BOOL("tcp-close", 0),
	OPT("network-lock", 0, REQUIRED),
	/* ocicr's own, for `ocicr dump` and `ocicr restore`. */
	{ .name = "no-snapshot", .supported = true, .ocicr_only = true },
	{ .name = "plan-only", .supported = true, .ocicr_only = true },
	/* Refused by name until their feature exists. */
	NBOOL("log-pid", NULL),
	NBOOL("evasive-devices", NULL),
	NBOOL("page-server", "the page server"),
	NOPT("address", 0, REQUIRED, "the page server"),
	NOPT("port", 0, REQUIRED, "the page server"),
	NOPT("prev-images-dir", 0, REQUIRED, "pre-dump"),
	NOPT("ms", 0, NONE, "deprecated in CRIU too"),
	NBOOL("track-mem", "pre-dump and memory tracking"),
	NBOOL("auto-dedup", "pre-dump"),
	NOPT("libdir", 'L', REQUIRED, "plugins"),
	NOPT("cpu-cap", 0, OPTIONAL, "cpuinfo images"),
	NOPT("exec-cmd", 0, NONE, NULL),
	NOPT("skip-mnt", 0, REQUIRED, "mount namespaces"),
	NOPT("enable-fs", 0, REQUIRED, "mount namespaces"),
	NOPT("enable-external-sharing", 0, NONE, "mount namespaces"),
	NOPT("enable-external-masters", 0, NONE, "mount namespaces"),
	NOPT("lsm-profile", 0, REQUIRED, "LSM profiles"),
	NOPT("empty-ns", 0, REQUIRED, "network namespaces"),
	NOPT("lazy-pages", 0, NONE, "lazy pages"),
	NBOOL("deprecated", NULL),
	NBOOL("weak-sysctls", "network namespaces"),
	NOPT("ps-socket", 0, REQUIRED, "the page server"),
	NBOOL("stream", "image streaming"),
	NOPT("tls-cacert", 0, REQUIRED, "the page server"),
	NOPT("tls-cacrl", 0, REQUIRED, "the page server"),
	NOPT("tls-cert", 0, REQUIRED, "the page server"),
	NOPT("tls-key", 0, REQUIRED, "the page server"),
	NBOOL("tls", "the page server"),
	NOPT("tls-no-cn-verify", 0, NONE, "the page server"),
	NOPT("file-validation", 0, REQUIRED, NULL),
	NBOOL("skip-file-rwx-check", NULL),
	NOPT("lsm-mount-context", 0, REQUIRED, "LSM profiles"),
	NBOOL("mntns-compat-mode", "mount namespaces"),
	NBOOL("unprivileged", NULL),
	NBOOL("allow-uprobes", NULL),
	{},
};

const struct criu_opt_desc *criu_opt_find(const char *name, bool *ret_negated)
{
	bool negated = false;

	for (int pass = 0; pass < 2; pass++) {
		for (const struct criu_opt_desc *d = criu_opt_table; d->name; d++)
			if (!strcmp(d->name, name) && (!negated || d->negatable)) {
				if (ret_negated)
					*ret_negated = negated;
				return d;
			}
		/* "no-default-config" is a name of its own, found above. */
		if (strncmp(name, "no-", 3))
			break;
		name += 3;
		negated = true;
	}
	return NULL;
}

const struct criu_opt_desc *criu_opt_find_short(char c)
{
	for (const struct criu_opt_desc *d = criu_opt_table; d->name; d++)
		if (c && d->short_name == c)
			return d;
	return NULL;
}

void criu_opts_init(struct criu_opts *o)
{
	*o = (struct criu_opts){
		.verbosity = CRIU_DEFAULT_VERBOSITY,
		.timeout = CRIU_DEFAULT_TIMEOUT,
		.status_fd = -1,
	};
}

static void str_list_free(struct criu_str_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct criu_str_list){};
}

void criu_opts_fini(struct criu_opts *o)
{
	free(o->images_dir);
	free(o->work_dir);
	free(o->log_file);
	free(o->pidfile);
	free(o->freeze_cgroup);
	free(o->cgroup_yard);
	free(o->cgroup_props);
	free(o->cgroup_props_file);
	str_list_free(&o->cgroup_roots);
	str_list_free(&o->cgroup_dump_controllers);
	str_list_free(&o->action_scripts);
	free(o->root);
	str_list_free(&o->join_ns);
	str_list_free(&o->features);
	str_list_free(&o->unsupported);
	str_list_free(&o->externals);
	for (size_t i = 0; i < o->n_inherit_fds; i++)
		free((char *)o->inherit_fds[i].key);
	free(o->inherit_fds);
	criu_opts_init(o);
}

static int str_list_add(struct criu_str_list *l, const char *s)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	v[l->n] = strdup(s);
	if (!v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static int set_string(char **slot, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return -ENOMEM;
	free(*slot);
	*slot = s;
	return 0;
}

/* A whole decimal number from @min to INT_MAX. */
static int parse_int(const char *name, const char *value, long min, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < min || v > INT_MAX)
		return oc_error(-EINVAL, "invalid argument for --%s: %s", name, value);
	*ret = (int)v;
	return 0;
}

/*
 * Seconds, fractions allowed: whole seconds (rounded up) bound a dump's
 * freeze, as CRIU's; a restore's wait takes them in milliseconds.
 */
static int parse_timeout(const char *name, const char *value, struct criu_opts *o)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(value, &end);
	if (errno || end == value || *end || !(v >= 0) || v > INT_MAX / 1000)
		return oc_error(-EINVAL, "invalid argument for --%s: %s", name, value);
	o->timeout = (unsigned)v + (v > (unsigned)v);
	o->timeout_ms = (unsigned)(v * 1000 + 0.5);
	if (v > 0 && !o->timeout_ms)
		o->timeout_ms = 1;
	return 0;
}

/* CRIU's sizes: a number of bytes, or of KiB, MiB, GiB with K, M, G after it. */
static int parse_size(const char *name, const char *value, uint64_t *ret)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (*end == 'K' || *end == 'M' || *end == 'G')
		shift = *end == 'K' ? 10 : *end == 'M' ? 20 : 30;
	if (errno || end == value || value[0] == '-' || (*end && (!shift || end[1])) || v > (UINT64_MAX >> shift))
		return oc_error(-EINVAL, "invalid argument for --%s: %s", name, value);
	*ret = (uint64_t)v << shift;
	return 0;
}

/*
 * CRIU's -v: none raises the level by one, "vv..." (from -vvv) by one more
 * than there are letters, anything else is read as a number, leading
 * digits only (so zdtm's "-verbosity=0" is level 0).
 */
static int apply_verbosity(struct criu_opts *o, const char *value)
{
	/* ocicr's own front end takes only a level or more v's. */
	if (o->ocicr && value && !(value[0] >= '0' && value[0] <= '4' && !value[1]) && value[strspn(value, "v")])
		return oc_error(-EINVAL, "-v: '%s' is not a level (0 to 4, or more v's)", value);
	if (!value)
		o->verbosity++;
	else if (value[0] == 'v')
		o->verbosity += (int)strlen(value) + 1;
	else
		o->verbosity = atoi(value);
	if (o->verbosity < 0)
		o->verbosity = 0;
	return 0;
}

/* A mode by name, or by its number in rpc.proto's criu_cg_mode (what
 * the RPC service passes for manage_cgroups_mode). */
static int parse_cgroup_mode(const char *value, enum oc_cgroup_mode *ret)
{
	static const enum oc_cgroup_mode by_rpc_number[] = {
		OC_CGROUP_IGNORE, OC_CGROUP_NONE,   OC_CGROUP_PROPS, OC_CGROUP_SOFT,
		OC_CGROUP_FULL,	  OC_CGROUP_STRICT, OC_CGROUP_SOFT, /* DEFAULT */
	};
	static const struct {
		const char *name;
		enum oc_cgroup_mode mode;
	} by_name[] = {
		{ "none", OC_CGROUP_NONE }, { "props", OC_CGROUP_PROPS },   { "soft", OC_CGROUP_SOFT },
		{ "full", OC_CGROUP_FULL }, { "strict", OC_CGROUP_STRICT }, { "ignore", OC_CGROUP_IGNORE },
	};

	if (!value) {
		*ret = OC_CGROUP_SOFT;
		return 0;
	}
	if (value[0] >= '0' && value[0] <= '6' && !value[1]) {
		*ret = by_rpc_number[value[0] - '0'];
		return 0;
	}
	for (size_t i = 0; i < sizeof(by_name) / sizeof(by_name[0]); i++)
		if (!strcmp(value, by_name[i].name)) {
			*ret = by_name[i].mode;
			return 0;
		}
	return oc_error(-EINVAL,
			"invalid argument for --manage-cgroups: %s (none, props, soft, full, strict or ignore)", value);
}

/* --inherit-fd fd[N]:KEY: the descriptor N of ours stands in for KEY. */
static int add_inherit_fd(struct criu_opts *o, const char *value)
{
	struct oc_inherit_fd *v;
	const char *key = strstr(value, "]:");
	char num[16];
	int fd;

	if (strncmp(value, "fd[", 3) || !key || !key[2] || key - value - 3 >= (ptrdiff_t)sizeof(num))
		return oc_error(-EINVAL, "invalid argument for --inherit-fd: %s (fd[N]:KEY)", value);
	memcpy(num, value + 3, key - value - 3);
	num[key - value - 3] = 0;
	if (parse_int("inherit-fd", num, 0, &fd) < 0)
		return -EINVAL;
	v = realloc(o->inherit_fds, (o->n_inherit_fds + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	o->inherit_fds = v;
	v[o->n_inherit_fds].fd = fd;
	v[o->n_inherit_fds].key = strdup(key + 2);
	if (!v[o->n_inherit_fds].key)
		return -ENOMEM;
	o->n_inherit_fds++;
	return 0;
}

/* The kinds of --external a dump takes: "tty[RDEV:DEV]" (hex numbers),
 * "mnt[MOUNTPOINT]:KEY", "net[INODE]:KEY", "pid[INODE]:KEY". */
static int check_external(const char *value)
{
	unsigned long long rdev, dev;
	int end = 0;

	if (!strncmp(value, "mnt[", 4) || !strncmp(value, "net[", 4) || !strncmp(value, "pid[", 4))
		return 0;

	if (!strncmp(value, "tty[", 4)) {
		if (sscanf(value, "tty[%llx:%llx]%n", &rdev, &dev, &end) != 2 || value[end])
			return oc_error(-EINVAL, "invalid argument for --external: %s (tty[RDEV:DEV], hex)", value);
		return 0;
	}
	return oc_error(-EOPNOTSUPP, "not supported by ocicr yet: --external %s (external resources of this kind)",
			value);
}

/* CRIU's names, or the RPC's numbers (IPTABLES 1, NFTABLES 2, SKIP 3). */
static int parse_network_lock(const char *name, const char *value, struct criu_opts *o)
{
	static const char *const names[][2] = {
		{ "iptables", "1" },
		{ "nftables", "2" },
		{ "skip", "3" },
	};
	static const enum oc_net_lock methods[] = { OC_NET_LOCK_IPTABLES, OC_NET_LOCK_NFTABLES, OC_NET_LOCK_SKIP };

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(value, names[i][0]) || !strcmp(value, names[i][1])) {
			o->network_lock = methods[i];
			return 0;
		}
	return oc_error(-EINVAL, "invalid argument for --%s: %s (nftables, iptables or skip)", name, value);
}

/* A pure flag: the option's name sets it (or its --no- form clears it). */
static bool *flag_slot(struct criu_opts *o, const char *name)
{
	static const struct {
		const char *name;
		size_t off;
	} flags[] = {
		{ "restore-detached", offsetof(struct criu_opts, restore_detached) },
		{ "daemon", offsetof(struct criu_opts, restore_detached) },
		{ "restore-sibling", offsetof(struct criu_opts, restore_sibling) },
		{ "shell-job", offsetof(struct criu_opts, shell_job) },
		{ "file-locks", offsetof(struct criu_opts, file_locks) },
		{ "link-remap", offsetof(struct criu_opts, link_remap) },
		{ "display-stats", offsetof(struct criu_opts, display_stats) },
		{ "extra", offsetof(struct criu_opts, check_extra) },
		{ "experimental", offsetof(struct criu_opts, check_experimental) },
		{ "no-snapshot", offsetof(struct criu_opts, no_snapshot) },
		{ "plan-only", offsetof(struct criu_opts, plan_only) },
		{ "tcp-established", offsetof(struct criu_opts, tcp_established) },
		{ "skip-in-flight", offsetof(struct criu_opts, skip_in_flight) },
		{ "tcp-close", offsetof(struct criu_opts, tcp_close) },
	};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (!strcmp(flags[i].name, name))
			return (bool *)((char *)o + flags[i].off);
	return NULL;
}

/* --external as given (check_external() judges it for a dump);
 * --ext-mount-map A:B is --external mnt[A]:B, --veth-pair IN=OUT[@BRIDGE]
 * --external veth[IN]:OUT[@BRIDGE]. */
static int add_external(struct criu_opts *o, const char *name, const char *value)
{
	const char *colon = strchr(value, ':');
	_cleanup_free_ char *s = NULL;

	if (!strcmp(name, "ext-mount-map")) {
		if (!colon || colon == value || !colon[1])
			return oc_error(-EINVAL, "invalid argument for --%s: %s (KEY:VALUE)", name, value);
		if (asprintf(&s, "mnt[%.*s]:%s", (int)(colon - value), value, colon + 1) < 0)
			return -ENOMEM;
		return str_list_add(&o->externals, s);
	}
	if (!strcmp(name, "veth-pair")) {
		const char *eq = strchr(value, '=');
		if (!eq || eq == value || !eq[1])
			return oc_error(-EINVAL, "invalid argument for --%s: %s (IN=OUT[@BRIDGE])", name, value);
		if (asprintf(&s, "veth[%.*s]:%s", (int)(eq - value), value, eq + 1) < 0)
			return -ENOMEM;
		return str_list_add(&o->externals, s);
	}
	const char *close = strstr(value, "]:"), *open = strchr(value, '[');
	if ((!strncmp(value, "mnt[", 4) || !strncmp(value, "net[", 4) || !strncmp(value, "pid[", 4)) &&
	    (!close || close < open + 2 || !close[2]))
		return oc_error(-EINVAL, "invalid argument for --external: %s (KIND[NAME]:VALUE)", value);
	return str_list_add(&o->externals, value);
}

/* --join-ns NS:PATH, or NS:PID for that task's namespace; CRIU's extra
 * options after a comma are for user namespaces, which ocicr cannot join. */
static int add_join_ns(struct criu_opts *o, const char *value)
{
	const char *colon = strchr(value, ':');
	_cleanup_free_ char *s = NULL;
	char *end;

	if (!colon || colon == value || !colon[1])
		return oc_error(-EINVAL, "invalid argument for --join-ns: %s (NS:PATH)", value);
	long pid = strtol(colon + 1, &end, 10);
	if (*end == '\0' && pid > 0) {
		if (asprintf(&s, "%.*s:/proc/%ld/ns/%.*s", (int)(colon - value), value, pid, (int)(colon - value),
			     value) < 0)
			return -ENOMEM;
		return str_list_add(&o->join_ns, s);
	}
	if (strchr(colon, ','))
		return oc_error(-EOPNOTSUPP, "not supported by ocicr yet: --join-ns %s (extra options)", value);
	return str_list_add(&o->join_ns, value);
}

static int set_supported(struct criu_opts *o, const char *name, const char *value, bool negated)
{
	bool *flag = flag_slot(o, name);
	int fd;

	if (flag) {
		*flag = !negated;
		return 0;
	}
	if (!strcmp(name, "pre-dump-mode")) {
		if (strcmp(value, "splice") && strcmp(value, "read"))
			return oc_error(-EINVAL, "invalid argument for --%s: %s (splice or read)", name, value);
		return 0;
	}
	if (!strcmp(name, "tree")) {
		if (o->ocicr && parse_int(name, value, 1, &o->tree) < 0)
			return oc_error(-EINVAL, "-t: '%s' is not a pid", value);
		return parse_int(name, value, 1, &o->tree);
	}
	if (!strcmp(name, "leave-stopped") || !strcmp(name, "leave-running")) {
		o->final_state = !strcmp(name, "leave-stopped") ? CRIU_FINAL_STOPPED : CRIU_FINAL_ALIVE;
		return 0;
	}
	if (!strcmp(name, "images-dir"))
		return set_string(&o->images_dir, value);
	if (!strcmp(name, "work-dir"))
		return set_string(&o->work_dir, value);
	if (!strcmp(name, "log-file"))
		return set_string(&o->log_file, value);
	if (!strcmp(name, "pidfile"))
		return set_string(&o->pidfile, value);
	if (!strcmp(name, "verbosity"))
		return apply_verbosity(o, value);
	if (!strcmp(name, "action-script"))
		return str_list_add(&o->action_scripts, value);
	if (!strcmp(name, "inherit-fd"))
		return add_inherit_fd(o, value);
	if (!strcmp(name, "feature"))
		return str_list_add(&o->features, value);
	if (!strcmp(name, "timeout"))
		return parse_timeout(name, value, o);
	if (!strcmp(name, "ghost-limit"))
		return parse_size(name, value, &o->ghost_limit);
	if (!strcmp(name, "ext-unix-sk")) {
		/* CRIU's =INODE lets a stream socket go, to be inherited. */
		if (value)
			return oc_error(-EOPNOTSUPP,
					"not supported by ocicr yet: --ext-unix-sk=%s (a stream socket "
					"outside the tree, by inode)",
					value);
		o->ext_unix_sk = true;
		return 0;
	}
	if (!strcmp(name, "manage-cgroups"))
		return parse_cgroup_mode(value, &o->manage_cgroups);
	if (!strcmp(name, "cgroup-root")) {
		/* [CONTROLLER:]PATH; the engine checks the path further. */
		const char *colon = strchr(value, ':');
		if ((colon ? colon[1] : value[0]) != '/')
			return oc_error(-EINVAL, "invalid argument for --%s: %s ([CONTROLLER:]/PATH)", name, value);
		return str_list_add(&o->cgroup_roots, value);
	}
	if (!strcmp(name, "cgroup-dump-controller"))
		return str_list_add(&o->cgroup_dump_controllers, value);
	if (!strcmp(name, "freeze-cgroup"))
		return set_string(&o->freeze_cgroup, value);
	if (!strcmp(name, "cgroup-yard"))
		return set_string(&o->cgroup_yard, value);
	if (!strcmp(name, "cgroup-props"))
		return set_string(&o->cgroup_props, value);
	if (!strcmp(name, "cgroup-props-file"))
		return set_string(&o->cgroup_props_file, value);
	if (!strcmp(name, "network-lock"))
		return parse_network_lock(name, value, o);
	if (!strcmp(name, "status-fd"))
		return parse_int(name, value, 0, &o->status_fd);
	if (!strcmp(name, "root"))
		return set_string(&o->root, value);
	if (!strcmp(name, "external") || !strcmp(name, "ext-mount-map") || !strcmp(name, "veth-pair"))
		return add_external(o, name, value);
	if (!strcmp(name, "join-ns"))
		return add_join_ns(o, value);
	if (!strcmp(name, "all")) {
		o->check_extra = o->check_experimental = true;
		return 0;
	}
	if (!strcmp(name, "close")) {
		/* As CRIU: the descriptor goes as the option is read. */
		int r = parse_int(name, value, 0, &fd);
		if (r < 0)
			return r;
		close(fd);
		return 0;
	}
	if (!strcmp(name, "help"))
		o->help = true;
	else if (!strcmp(name, "version"))
		o->version = true;
	/* config, no-default-config: read before any option (criu_parse()). */
	return 0;
}

int criu_opts_set(struct criu_opts *o, const char *name, const char *value)
{
	bool negated;
	const struct criu_opt_desc *d = criu_opt_find(name, &negated);

	if (!d || (d->ocicr_only && !o->ocicr))
		return oc_error(-EINVAL, "unknown option --%s", name);
	if (d->arg == CRIU_ARG_REQUIRED && !value)
		return oc_error(-EINVAL, "option --%s needs an argument", name);
	if ((d->arg == CRIU_ARG_NONE || negated) && value)
		return oc_error(-EINVAL, "option --%s takes no argument", name);
	if (d->supported)
		return set_supported(o, d->name, value, negated);
	/* --no-X of a feature ocicr lacks asks for what it does anyway. */
	if (negated)
		return 0;
	for (size_t i = 0; i < o->unsupported.n; i++)
		if (!strcmp(o->unsupported.v[i], d->name))
			return 0;
	return str_list_add(&o->unsupported, d->name);
}

int criu_opts_refuse(const struct criu_opts *o)
{
	const struct criu_opt_desc *d;

	if (!o->unsupported.n)
		return 0;
	d = criu_opt_find(o->unsupported.v[0], NULL);
	if (d && d->why)
		return oc_error(-EOPNOTSUPP, "not supported by ocicr yet: --%s (%s)", d->name, d->why);
	return oc_error(-EOPNOTSUPP, "not supported by ocicr yet: --%s", o->unsupported.v[0]);
}

const char *criu_opts_images_dir(const struct criu_opts *o)
{
	return o->images_dir ? o->images_dir : ".";
}

const char *criu_opts_work_dir(const struct criu_opts *o)
{
	return o->work_dir ? o->work_dir : criu_opts_images_dir(o);
}

int criu_opts_to_dump(const struct criu_opts *o, struct oc_dump_opts *d)
{
	int r = criu_opts_refuse(o);

	if (r < 0)
		return r;
	if (o->tree <= 0)
		return oc_error(-EINVAL, "no pid to dump: -t PID is required");
	if (o->n_inherit_fds)
		return oc_error(-EINVAL, "--inherit-fd is for a restore only");
	for (size_t i = 0; i < o->externals.n; i++)
		if ((r = check_external(o->externals.v[i])) < 0)
			return r;
	d->externals = (const char *const *)o->externals.v;
	d->n_externals = o->externals.n;
	d->orphan_pts_master = o->orphan_pts_master;
	d->pid = o->tree;
	d->images_dir = criu_opts_images_dir(o);
	d->leave_running = o->final_state == CRIU_FINAL_ALIVE;
	d->leave_stopped = o->final_state == CRIU_FINAL_STOPPED;
	d->shell_job = o->shell_job;
	d->file_locks = o->file_locks;
	d->link_remap = o->link_remap;
	d->freeze_timeout = o->timeout;
	d->ghost_limit = o->ghost_limit ? o->ghost_limit : CRIU_DEFAULT_GHOST_LIMIT;
	d->ext_unix_sk = o->ext_unix_sk;
	d->freeze_cgroup = o->freeze_cgroup;
	d->manage_cgroups = o->manage_cgroups;
	d->cgroup_dump_controllers = (const char *const *)o->cgroup_dump_controllers.v;
	d->n_cgroup_dump_controllers = o->cgroup_dump_controllers.n;
	d->cgroup_roots = (const char *const *)o->cgroup_roots.v;
	d->n_cgroup_roots = o->cgroup_roots.n;
	d->cgroup_yard = o->cgroup_yard;
	d->cgroup_props = o->cgroup_props;
	d->cgroup_props_file = o->cgroup_props_file;
	d->tcp_established = o->tcp_established;
	d->tcp_close = o->tcp_close;
	d->skip_in_flight = o->skip_in_flight;
	d->network_lock = o->network_lock;
	/* CRIU's post-dump scripts see the tree still frozen (a file system
	 * snapshot, say): no copy-on-write snapshot that lets it run first. */
	d->no_snapshot = o->action_scripts.n > 0;
	return 0;
}

int criu_opts_to_restore(const struct criu_opts *o, struct oc_restore_opts *r)
{
	int err = criu_opts_refuse(o);

	if (err < 0)
		return err;
	if (o->restore_sibling && !o->restore_detached)
		return oc_error(-EINVAL, "--restore-sibling only makes sense with --restore-detached");
	r->images_dir = criu_opts_images_dir(o);
	r->detach = o->restore_detached;
	r->restore_sibling = o->restore_sibling;
	r->shell_job = o->shell_job;
	r->leave_stopped = o->final_state == CRIU_FINAL_STOPPED;
	r->timeout_ms = o->timeout_ms;
	r->root = o->root && strcmp(o->root, "/") ? o->root : NULL;
	/* At restore CRIU's --external gives mounts (mnt[KEY]:PATH), veth
	 * peers (veth[NAME]:OUTSIDE[@BRIDGE]), macvlans' lower devices
	 * (macvlan[NAME]:OUTSIDE) and devices to move in; ocicr takes the
	 * first three. */
	for (size_t i = 0; i < o->externals.n; i++)
		if (strncmp(o->externals.v[i], "mnt[", 4) && strncmp(o->externals.v[i], "veth[", 5) &&
		    strncmp(o->externals.v[i], "macvlan[", 8))
			return oc_error(-EOPNOTSUPP, "not supported by ocicr yet: --external %s at restore",
					o->externals.v[i]);
	r->externals = (const char *const *)o->externals.v;
	r->n_externals = o->externals.n;
	r->join_ns = (const char *const *)o->join_ns.v;
	r->n_join_ns = o->join_ns.n;
	r->manage_cgroups = o->manage_cgroups;
	r->cgroup_roots = (const char *const *)o->cgroup_roots.v;
	r->n_cgroup_roots = o->cgroup_roots.n;
	r->cgroup_yard = o->cgroup_yard;
	r->inherit_fds = o->inherit_fds;
	r->n_inherit_fds = o->n_inherit_fds;
	r->orphan_pts_master = o->orphan_pts_master;
	r->tcp_established = o->tcp_established;
	r->tcp_close = o->tcp_close;
	return 0;
}
