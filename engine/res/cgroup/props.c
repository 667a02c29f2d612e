// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cgroups: which properties are saved, the parsing of /proc/PID/cgroup and
 * of the options, and private mounts of hierarchies (see cgroup.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "res/cgroup/cgroup.h"
#include "core/cleanup.h"
#include "core/error.h"

/*
 * The property files saved per controller: the names CRIU 4.2 saves (its
 * images list them in this order), then the cgroup v2 names of the same
 * limits, which exist only in a v2 directory that has the controller.
 */
static const char *const cpu_props[] = { "cpu.shares",	      "cpu.cfs_period_us",
					 "cpu.cfs_quota_us",  "cpu.rt_period_us",
					 "cpu.rt_runtime_us", "cpu.weight",
					 "cpu.max",	      NULL };
static const char *const memory_props[] = { "memory.limit_in_bytes",
					    "memory.memsw.limit_in_bytes",
					    "memory.swappiness",
					    "memory.soft_limit_in_bytes",
					    "memory.move_charge_at_immigrate",
					    "memory.oom_control",
					    "memory.use_hierarchy",
					    "memory.kmem.limit_in_bytes",
					    "memory.kmem.tcp.limit_in_bytes",
					    "memory.min",
					    "memory.low",
					    "memory.high",
					    "memory.max",
					    "memory.swap.max",
					    NULL };
static const char *const cpuset_props[] = { "cpuset.cpus",
					    "cpuset.mems",
					    "cpuset.memory_migrate",
					    "cpuset.cpu_exclusive",
					    "cpuset.mem_exclusive",
					    "cpuset.mem_hardwall",
					    "cpuset.memory_spread_page",
					    "cpuset.memory_spread_slab",
					    "cpuset.sched_load_balance",
					    "cpuset.sched_relax_domain_level",
					    NULL };
static const char *const blkio_props[] = { "blkio.weight", "blkio.bfq.weight", NULL };
static const char *const io_props[] = { "io.weight", "io.bfq.weight", NULL };
static const char *const net_cls_props[] = { "net_cls.classid", NULL };
static const char *const net_prio_props[] = { "net_prio.ifpriomap", NULL };
static const char *const pids_props[] = { "pids.max", NULL };
static const char *const devices_props[] = { "devices.list", NULL };

const char *const oc_cg_props_v1_common[] = { "cgroup.clone_children", "notify_on_release", "cgroup.procs", "tasks",
					      NULL };
const char *const oc_cg_props_v2_common[] = {
	"cgroup.subtree_control", "cgroup.max.descendants", "cgroup.max.depth", "cgroup.freeze", "cgroup.type", NULL
};

static const struct {
	const char *ctrl;
	const char *const *props;
} ctrl_props[] = {
	{ "cpu", cpu_props },		{ "memory", memory_props }, { "cpuset", cpuset_props },
	{ "blkio", blkio_props },	{ "io", io_props },	    { "net_cls", net_cls_props },
	{ "net_prio", net_prio_props }, { "pids", pids_props },	    { "devices", devices_props },
};

const char *const *oc_cg_props_of(const char *ctrl)
{
	for (size_t i = 0; i < ARRAY_SIZE(ctrl_props); i++)
		if (!strcmp(ctrl_props[i].ctrl, ctrl))
			return ctrl_props[i].props;
	return NULL;
}

/* ---- --cgroup-props -------------------------------------------------- */

struct props_lexer {
	const char *s;
	const char *origin;
	unsigned line;
};

/* The next token: a quoted string (in *@ret_str, the caller's), one of
 * ":-[],", or '\0' at the end. */
static int next_token(struct props_lexer *lx, char *ret_kind, char **ret_str)
{
	*ret_str = NULL;
	for (; *lx->s && strchr(" \t\r\n", *lx->s); lx->s++)
		lx->line += *lx->s == '\n';
	*ret_kind = *lx->s;
	if (!*lx->s)
		return 0;
	if (*lx->s == '"') {
		size_t len = strcspn(lx->s + 1, "\"\n");
		if (lx->s[1 + len] != '"')
			return oc_error(-EINVAL, "%s: line %u: a string without its closing quote", lx->origin,
					lx->line);
		*ret_str = strndup(lx->s + 1, len);
		lx->s += len + 2;
		return *ret_str ? 0 : -ENOMEM;
	}
	if (!strchr(":-[],", *lx->s))
		return oc_error(-EINVAL, "%s: line %u: unexpected '%c'", lx->origin, lx->line, *lx->s);
	lx->s++;
	return 0;
}

/* Token @want next (a string: '"', and with @word that word). */
static int expect(struct props_lexer *lx, char want, const char *word, char **ret_str)
{
	_cleanup_free_ char *str = NULL;
	char kind;
	int r = next_token(lx, &kind, &str);

	if (r < 0)
		return r;
	if (kind != want || (word && strcmp(str, word)))
		return oc_error(-EINVAL, "%s: line %u: expected %s%s%c%s", lx->origin, lx->line, word ? "\"" : "'",
				word ? word : "", word ? '"' : want, word ? "" : "'");
	if (ret_str)
		*ret_str = TAKE_PTR(str);
	return 0;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int strv_add(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return 0;
	char **g = realloc(*v, (*n + 2) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	*v = g;
	g[*n] = strdup(s);
	if (!g[*n])
		return -ENOMEM;
	g[++*n] = NULL;
	return 0;
}

/* The properties of @ctrl become @names, or with @merge its list and
 * @names. */
static int props_apply(struct oc_cg_props *p, const char *ctrl, char **names, bool merge)
{
	struct oc_cg_props_ctrl *c = NULL;
	char **v = NULL;
	size_t n = 0;
	int r = 0;

	for (size_t i = 0; i < p->n && !c; i++)
		if (!strcmp(p->v[i].ctrl, ctrl))
			c = &p->v[i];
	if (merge)
		for (const char *const *b = oc_cg_props_get(p, ctrl); b && *b && r >= 0; b++)
			r = strv_add(&v, &n, *b);
	for (size_t i = 0; names && names[i] && r >= 0; i++)
		r = strv_add(&v, &n, names[i]);
	if (r >= 0 && !v && !(v = calloc(1, sizeof(*v))))
		r = -ENOMEM;
	if (r >= 0 && !c) {
		struct oc_cg_props_ctrl *g = realloc(p->v, (p->n + 1) * sizeof(*g));
		if (g) {
			p->v = g;
			c = &g[p->n];
			*c = (struct oc_cg_props_ctrl){ .ctrl = strdup(ctrl) };
			if (c->ctrl)
				p->n++;
		}
		if (!g || !c->ctrl)
			r = -ENOMEM;
	}
	if (r < 0) {
		strv_free(v);
		return r;
	}
	strv_free(c->props);
	c->props = v;
	return 0;
}

/* An item of a controller's list: - "KEY": */
static int expect_item(struct props_lexer *lx, const char *key)
{
	int r = expect(lx, '-', NULL, NULL);

	if (r >= 0)
		r = expect(lx, '"', key, NULL);
	return r < 0 ? r : expect(lx, ':', NULL, NULL);
}

/* After the controller's name: its strategy and its properties. */
static int parse_ctrl(struct props_lexer *lx, const char *ctrl, struct oc_cg_props *p)
{
	_cleanup_free_ char *strategy = NULL;
	char **names = NULL, kind;
	size_t n = 0;
	int r = expect(lx, ':', NULL, NULL);

	if (r >= 0)
		r = expect_item(lx, "strategy");
	if (r >= 0)
		r = expect(lx, '"', NULL, &strategy);
	if (r >= 0 && strcmp(strategy, "merge") && strcmp(strategy, "replace"))
		r = oc_error(-EINVAL, "%s: line %u: controller \"%s\": unknown strategy \"%s\" (merge or replace)",
			     lx->origin, lx->line, ctrl, strategy);
	if (r >= 0)
		r = expect_item(lx, "properties");
	if (r >= 0)
		r = expect(lx, '[', NULL, NULL);
	for (bool first = true; r >= 0; first = false) {
		_cleanup_free_ char *name = NULL, *after = NULL;
		r = next_token(lx, &kind, &name);
		if (r >= 0 && kind == ']' && first)
			break;
		if (r >= 0 && kind != '"')
			r = oc_error(-EINVAL, "%s: line %u: controller \"%s\": expected a property's name", lx->origin,
				     lx->line, ctrl);
		if (r >= 0)
			r = strv_add(&names, &n, name);
		if (r >= 0)
			r = next_token(lx, &kind, &after);
		if (r >= 0 && kind == ']')
			break;
		if (r >= 0 && kind != ',')
			r = oc_error(-EINVAL, "%s: line %u: controller \"%s\": expected ',' or ']'", lx->origin,
				     lx->line, ctrl);
	}
	if (r >= 0)
		r = props_apply(p, ctrl, names, !strcmp(strategy, "merge"));
	strv_free(names);
	return r;
}

int oc_cg_props_parse(struct oc_cg_props *p, const char *text, const char *origin)
{
	struct props_lexer lx = { .s = text, .origin = origin, .line = 1 };

	for (;;) {
		_cleanup_free_ char *ctrl = NULL;
		char kind;
		int r = next_token(&lx, &kind, &ctrl);
		if (r < 0 || !kind)
			return r;
		if (kind != '"')
			return oc_error(-EINVAL, "%s: line %u: expected a controller's name", origin, lx.line);
		r = parse_ctrl(&lx, ctrl, p);
		if (r < 0)
			return r;
	}
}

const char *const *oc_cg_props_get(const struct oc_cg_props *p, const char *ctrl)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (!strcmp(p->v[i].ctrl, ctrl))
			return (const char *const *)p->v[i].props;
	return oc_cg_props_of(ctrl);
}

void oc_cg_props_free(struct oc_cg_props *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].ctrl);
		strv_free(p->v[i].props);
	}
	free(p->v);
	*p = (struct oc_cg_props){};
}

/* What must be in place before a task enters or a child cgroup is made:
 * an empty cpuset takes no task, and v1 memory refuses some once it has
 * children; devices rules are inherited by children when they are made. */
bool oc_cg_prop_is_early(const char *prop)
{
	static const char *const early[] = {
		"cpuset.cpus",	     "cpuset.mems",	   "devices.list",	   "memory.kmem.limit_in_bytes",
		"memory.swappiness", "memory.oom_control", "memory.use_hierarchy", "cgroup.type",
	};
	for (size_t i = 0; i < ARRAY_SIZE(early); i++)
		if (!strcmp(early[i], prop))
			return true;
	return false;
}

void oc_cg_members_free(struct oc_cg_member *m, size_t n)
{
	for (size_t i = 0; m && i < n; i++) {
		free(m[i].name);
		free(m[i].path);
	}
	free(m);
}

static int member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct oc_cg_member *)a)->name, ((const struct oc_cg_member *)b)->name);
}

int oc_cg_parse_proc(const char *text, struct oc_cg_member **ret, size_t *ret_n)
{
	struct oc_cg_member *m = NULL;
	size_t n = 0;

	for (const char *line = text; line && *line;) {
		const char *eol = strchrnul(line, '\n');
		const char *c1 = memchr(line, ':', eol - line);
		const char *c2 = c1 ? memchr(c1 + 1, ':', eol - c1 - 1) : NULL;

		if (!c2 || c2[1] != '/') {
			oc_cg_members_free(m, n);
			return oc_error(-EINVAL, "bad line in /proc/PID/cgroup: '%.*s'", (int)(eol - line), line);
		}
		struct oc_cg_member *g = realloc(m, (n + 1) * sizeof(*m));
		if (!g) {
			oc_cg_members_free(m, n);
			return -ENOMEM;
		}
		m = g;
		m[n].name = strndup(c1 + 1, c2 - c1 - 1);
		m[n].path = strndup(c2 + 1, eol - c2 - 1);
		n++;
		if (!m[n - 1].name || !m[n - 1].path) {
			oc_cg_members_free(m, n);
			return -ENOMEM;
		}
		line = *eol ? eol + 1 : eol;
	}
	qsort(m, n, sizeof(*m), member_cmp);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(m[i].name, m[i - 1].name)) {
			int r = oc_error(-EINVAL, "/proc/PID/cgroup names hierarchy '%s' twice", m[i].name);
			oc_cg_members_free(m, n);
			return r;
		}
	*ret = m;
	*ret_n = n;
	return 0;
}

uint32_t oc_cg_ns_prefix(const char *full, const char *inner)
{
	size_t lf = strlen(full), li = strlen(inner);

	/* The namespace's root itself reads "/" inside; the hierarchy's root
	 * has no prefix (as CRIU writes it). */
	if (!strcmp(inner, "/"))
		return strcmp(full, "/") ? lf : 0;
	if (inner[0] != '/' || li > lf || strcmp(full + lf - li, inner))
		return 0;
	/* Outside the namespace's root the kernel shows "/.." paths. */
	if (!strncmp(inner, "/..", 3))
		return 0;
	return lf - li;
}

static const char *const mode_names[] = {
	[OC_CGROUP_SOFT] = "soft", [OC_CGROUP_NONE] = "none",	  [OC_CGROUP_PROPS] = "props",
	[OC_CGROUP_FULL] = "full", [OC_CGROUP_STRICT] = "strict", [OC_CGROUP_IGNORE] = "ignore",
};

int oc_cg_parse_mode(const char *arg, enum oc_cgroup_mode *ret)
{
	if (!arg || !*arg) {
		*ret = OC_CGROUP_SOFT;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (!strcmp(arg, mode_names[i])) {
			*ret = i;
			return 0;
		}
	return oc_error(-EINVAL,
			"invalid argument for --manage-cgroups: %s (none, props, soft, full, strict or ignore)", arg);
}

const char *oc_cg_mode_name(enum oc_cgroup_mode mode)
{
	return (size_t)mode < ARRAY_SIZE(mode_names) ? mode_names[mode] : "?";
}

/* A ".." component would climb out of the root given. */
static bool has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (!p[2] || p[2] == '/'))
			return true;
	return false;
}

int oc_cg_parse_root(const char *arg, char **ret_buf, const char **ret_ctrl, const char **ret_path)
{
	char *buf = strdup(arg), *colon;

	if (!buf)
		return -ENOMEM;
	colon = strchr(buf, ':');
	*ret_ctrl = NULL;
	*ret_path = buf;
	if (colon) {
		*colon = '\0';
		*ret_ctrl = buf;
		*ret_path = colon + 1;
	}
	if ((*ret_path)[0] != '/' || has_dotdot(*ret_path)) {
		free(buf);
		return oc_error(-EINVAL, "invalid argument for --cgroup-root: %s (an absolute path, after CONTROLLER:)",
				arg);
	}
	*ret_buf = buf;
	return 0;
}

int oc_cg_root_for(const char *const *roots, size_t n_roots, const char *hier, char **ret_buf, const char **ret_root)
{
	char *global_buf = NULL;
	const char *global = NULL;

	*ret_buf = NULL;
	*ret_root = NULL;
	for (size_t i = 0; i < n_roots; i++) {
		const char *ctrl, *path;
		char *buf;
		int r = oc_cg_parse_root(roots[i], &buf, &ctrl, &path);
		if (r < 0) {
			free(global_buf);
			return r;
		}
		if (!ctrl && !global) {
			global_buf = buf;
			global = path;
			continue;
		}
		if (ctrl && (!strcmp(ctrl, hier) || oc_cg_has_controller(hier, ctrl))) {
			free(global_buf);
			*ret_buf = buf;
			*ret_root = path;
			return 0;
		}
		free(buf);
	}
	*ret_buf = global_buf;
	*ret_root = global;
	return 0;
}

bool oc_cg_has_controller(const char *name, const char *ctrl)
{
	size_t len = strlen(ctrl);

	for (const char *p = name;; p++) {
		if (!strncmp(p, ctrl, len) && (p[len] == ',' || !p[len]))
			return true;
		p = strchr(p, ',');
		if (!p)
			return false;
	}
}

char *oc_cg_rebase(const char *path, const char *old_root, const char *new_root)
{
	size_t lo = strlen(old_root);
	const char *rest;
	char *out;

	if (!strcmp(old_root, "/"))
		lo = 0;
	if (strncmp(path, old_root, lo) || (path[lo] && path[lo] != '/'))
		return NULL;
	rest = path + lo;
	if (!strcmp(rest, "/"))
		rest = "";
	if (!strcmp(new_root, "/") && *rest)
		new_root = "";
	if (asprintf(&out, "%s%s", new_root, rest) < 0)
		return NULL;
	return out;
}

/* Hierarchy @name as mounted in CRIU's cgroup yard @yard. */
static int open_in_yard(const char *yard, const char *name, int *ret_fd)
{
	const char *dir = !*name ? "unified" : !strncmp(name, "name=", 5) ? name + 5 : name;
	_cleanup_close_ int yfd = open(yard, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (yfd < 0)
		return oc_error_errno(-errno, "cannot open the cgroup yard %s", yard);
	int fd = openat(yfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cgroup yard %s: no hierarchy '%s' in it (%s)", yard,
				      *name ? name : "(v2)", dir);
	*ret_fd = fd;
	return 0;
}

int oc_cg_mount_hierarchy(const char *yard, const char *name, int *ret_fd)
{
	if (yard)
		return open_in_yard(yard, name, ret_fd);

	bool v2 = !*name, named_only = true;
	_cleanup_close_ int fs = syscall(SYS_fsopen, v2 ? "cgroup2" : "cgroup", FSOPEN_CLOEXEC);
	_cleanup_free_ char *buf = strdup(name);
	char *save = NULL;

	if (fs < 0)
		return oc_error_errno(-errno, "fsopen(%s)", v2 ? "cgroup2" : "cgroup");
	if (!buf)
		return -ENOMEM;
	for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		int r = !strncmp(p, "name=", 5) ? syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "name", p + 5, 0)
						: syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, p, NULL, 0);
		named_only &= !strncmp(p, "name=", 5);
		if (r < 0)
			return oc_error_errno(-errno, "cgroup hierarchy '%s': option %s", name, p);
	}
	if (!v2 && named_only && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "none", NULL, 0) < 0)
		return oc_error_errno(-errno, "cgroup hierarchy '%s': option none", name);
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return oc_error_errno(-errno, "cannot mount cgroup hierarchy '%s'", v2 ? "(v2)" : name);
	int mfd = syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		return oc_error_errno(-errno, "cannot mount cgroup hierarchy '%s'", v2 ? "(v2)" : name);
	*ret_fd = mfd;
	return 0;
}
