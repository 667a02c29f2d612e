// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cgroups: each thread's cgroup set and the cgroups' properties
 * (cgroup.img), dump and restore side by side; see cgroup.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "res/cgroup/cgroup.h"
#include "res/dump.h"
#include "res/kind.h"
#include "res/restore.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"
#include "core/watchdog.h"
#include "seize/seize.h"

#include "cgroup.pb-c.h"

/* ---- small file helpers ------------------------------------------------ */

/* The contents of @name under @dirfd, without the last newline. */
static int read_at(int dirfd, const char *name, char **ret)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 256;
	char *buf;

	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			free(buf);
			return e;
		}
		if (n == 0)
			break;
		len += n;
		if (len + 1 == cap) {
			char *g = realloc(buf, cap *= 2);
			if (!g) {
				free(buf);
				return -ENOMEM;
			}
			buf = g;
		}
	}
	if (len && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	*ret = buf;
	return 0;
}

static int write_at(int dirfd, const char *name, const char *value)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);

	if (fd < 0)
		return -errno;
	if (write(fd, value, len ? len : 1) < 0)
		return -errno;
	return 0;
}

/* "." for the root of a hierarchy, else the path without its first '/'. */
static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

/* ---- dump ------------------------------------------------------------- */

struct cg_hier {
	char *name; /* as in /proc/PID/cgroup */
	int mnt_fd;
	CgControllerEntry *ce;
	const struct oc_cg_props *props; /* --cgroup-props, or NULL */
};

struct cg_set {
	uint32_t id;
	struct oc_cg_member *m;
	uint32_t *prefix; /* per member: its cgroup namespace root's length */
	size_t n;
};

struct oc_cg_dump {
	struct cg_set *sets; /* [0]: ocicr's own, id 1 */
	size_t n_sets;
	struct cg_hier *hiers;
	size_t n_hiers;
	CgroupEntry *entry; /* queued for cgroup.img at the first set of the tree */
};

/* Append @p to the malloc'ed array *@v of *@n pointers. */
static int push(void ***v, size_t *n, void *p)
{
	void **g = realloc(*v, (*n + 1) * sizeof(*g));

	if (!g)
		return -ENOMEM;
	g[(*n)++] = p;
	*v = g;
	return 0;
}

static CgroupPerms *perms_of(struct oc_arena *a, const struct stat *st)
{
	CgroupPerms *p = oc_arena_alloc(a, sizeof(*p));

	if (!p)
		return NULL;
	*p = (CgroupPerms)CGROUP_PERMS__INIT;
	p->mode = st->st_mode;
	p->uid = st->st_uid;
	p->gid = st->st_gid;
	return p;
}

/* Property @name of the directory @dfd, if the file exists. */
static int dump_prop(struct oc_arena *a, int dfd, const char *name, CgroupDirEntry *de)
{
	_cleanup_free_ char *value = NULL;
	struct stat st;
	int r;

	if (fstatat(dfd, name, &st, 0) < 0)
		return errno == ENOENT ? 0 : oc_error_errno(-errno, "cgroup property %s", name);
	/* Only their permissions: the tasks are restored one by one. */
	if (strcmp(name, "cgroup.procs") && strcmp(name, "tasks")) {
		r = read_at(dfd, name, &value);
		/* Not readable here, or gone with its cgroup meanwhile. */
		if (r == -EOPNOTSUPP || r == -EINVAL || r == -EACCES || r == -EPERM || r == -ENOENT || r == -ENODEV)
			return 0;
		if (r < 0)
			return oc_error_errno(r, "cannot read cgroup property %s", name);
		/* Saved as CRIU saves it: whether the OOM killer is off. */
		if (!strcmp(name, "memory.oom_control")) {
			char *v = strstr(value, "oom_kill_disable ");
			memmove(value, v ? v + 17 : "0", 2);
			value[strspn(value, "01")] = '\0';
		}
	}
	CgroupPropEntry *p = oc_arena_alloc(a, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = (CgroupPropEntry)CGROUP_PROP_ENTRY__INIT;
	p->name = oc_arena_strdup(a, name);
	p->value = oc_arena_strdup(a, value ? value : "");
	p->perms = perms_of(a, &st);
	if (!p->name || !p->value || !p->perms)
		return -ENOMEM;
	return push((void ***)&de->properties, &de->n_properties, p);
}

static int dump_props(struct oc_arena *a, const struct cg_hier *h, int dfd, CgroupDirEntry *de)
{
	const char *const *common = *h->name ? oc_cg_props_v1_common : oc_cg_props_v2_common;
	_cleanup_free_ char *names = NULL;
	char *save = NULL;
	int r;

	/* v1: the hierarchy's controllers; v2: those enabled here. */
	if (*h->name)
		names = strdup(h->name);
	else if (read_at(dfd, "cgroup.controllers", &names) < 0)
		names = strdup("");
	if (!names)
		return -ENOMEM;
	for (char *c = strtok_r(names, *h->name ? "," : " ", &save); c; c = strtok_r(NULL, *h->name ? "," : " ", &save))
		for (const char *const *p = oc_cg_props_get(h->props, c); p && *p; p++)
			if ((r = dump_prop(a, dfd, *p, de)) < 0)
				return r;
	for (const char *const *p = common; *p; p++)
		if ((r = dump_prop(a, dfd, *p, de)) < 0)
			return r;
	return 0;
}

/* Directory @path of hierarchy @h, named @name, with its whole subtree. */
static int dump_dir(struct oc_arena *a, const struct cg_hier *h, const char *path, const char *name,
		    CgroupDirEntry **ret)
{
	_cleanup_close_ int dfd = openat(h->mnt_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	int r;

	if (dfd < 0 || fstat(dfd, &st) < 0)
		return oc_error_errno(-errno, "cannot open cgroup %s of hierarchy '%s'", path, h->name);
	CgroupDirEntry *de = oc_arena_alloc(a, sizeof(*de));
	if (!de)
		return -ENOMEM;
	*de = (CgroupDirEntry)CGROUP_DIR_ENTRY__INIT;
	de->dir_name = oc_arena_strdup(a, name);
	de->dir_perms = perms_of(a, &st);
	if (!de->dir_name || !de->dir_perms)
		return -ENOMEM;
	*ret = de;
	r = dump_props(a, h, dfd, de);
	if (r < 0)
		return r;

	int dup_fd = dup(dfd);
	_cleanup_closedir_ DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d)
		return oc_error_errno(-errno, "cannot list cgroup %s", path);
	for (struct dirent *e; (e = readdir(d));) {
		_cleanup_free_ char *sub = NULL;
		CgroupDirEntry *child;
		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (asprintf(&sub, "%s/%s", strcmp(path, "/") ? path : "", e->d_name) < 0)
			return -ENOMEM;
		r = dump_dir(a, h, sub, e->d_name, &child);
		if (r == -ENOENT) {
			oc_error_clear();
			continue; /* removed meanwhile */
		}
		if (r >= 0)
			r = push((void ***)&de->children, &de->n_children, child);
		if (r < 0)
			return r;
	}
	return 0;
}

static int get_hier(struct oc_dump_ctx *ctx, const char *name, struct cg_hier **ret)
{
	struct oc_cg_dump *cg = ctx->cgroup;
	_cleanup_free_ char *names = NULL;
	char *save = NULL;
	int r;

	for (size_t i = 0; i < cg->n_hiers; i++)
		if (!strcmp(cg->hiers[i].name, name)) {
			*ret = &cg->hiers[i];
			return 0;
		}
	struct cg_hier *g = realloc(cg->hiers, (cg->n_hiers + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	cg->hiers = g;
	struct cg_hier *h = &g[cg->n_hiers];
	*h = (struct cg_hier){ .mnt_fd = -1, .props = ctx->cg_props };
	h->name = oc_arena_strdup(ctx->arena, name);
	h->ce = oc_arena_alloc(ctx->arena, sizeof(*h->ce));
	names = strdup(name);
	if (!h->name || !h->ce || !names)
		return -ENOMEM;
	cg->n_hiers++;
	*h->ce = (CgControllerEntry)CG_CONTROLLER_ENTRY__INIT;
	/* As CRIU says it: a v1 hierarchy may hold a task's threads apart. */
	h->ce->has_is_threaded = true;
	h->ce->is_threaded = *name != '\0';
	for (char *c = strtok_r(names, ",", &save); c || !h->ce->n_cnames; c = strtok_r(NULL, ",", &save)) {
		char *cn = oc_arena_strdup(ctx->arena, c ? c : "");
		if (!cn || (r = push((void ***)&h->ce->cnames, &h->ce->n_cnames, cn)) < 0)
			return -ENOMEM;
		if (!c)
			break;
	}
	r = push((void ***)&cg->entry->controllers, &cg->entry->n_controllers, h->ce);
	if (r < 0)
		return r;
	if (ctx->opts->manage_cgroups != OC_CGROUP_IGNORE) {
		r = oc_cg_mount_hierarchy(ctx->opts->cgroup_yard, name, &h->mnt_fd);
		if (r < 0)
			return r;
	}
	*ret = h;
	return 0;
}

/* The cgroups of member @m of a new set, unless an earlier set's cover it. */
static int collect_member(struct oc_dump_ctx *ctx, const struct oc_cg_member *m)
{
	struct cg_hier *h;
	CgroupDirEntry *de;
	int r = get_hier(ctx, m->name, &h);

	if (r < 0 || ctx->opts->manage_cgroups == OC_CGROUP_IGNORE)
		return r;
	for (size_t i = 0; i < h->ce->n_dirs; i++) {
		_cleanup_free_ char *top = NULL;
		if (asprintf(&top, "/%s", h->ce->dirs[i]->dir_name) < 0)
			return -ENOMEM;
		_cleanup_free_ char *under = oc_cg_rebase(m->path, top, "/");
		if (under)
			return 0;
	}
	/* A --cgroup-root above the member is saved whole, as CRIU does:
	 * the restore makes it again with its permissions. */
	_cleanup_free_ char *buf = NULL;
	const char *root, *top = m->path;
	r = oc_cg_root_for(ctx->opts->cgroup_roots, ctx->opts->n_cgroup_roots, m->name, &buf, &root);
	if (r < 0)
		return r;
	_cleanup_free_ char *under_root = root ? oc_cg_rebase(m->path, root, "/") : NULL;
	if (under_root)
		top = root;
	r = dump_dir(ctx->arena, h, top, rel(top)[0] == '.' ? "" : rel(top), &de);
	if (r < 0)
		return oc_error_wrap(r, "cgroup %s of hierarchy '%s'", top, *m->name ? m->name : "(v2)");
	return push((void ***)&h->ce->dirs, &h->ce->n_dirs, de);
}

static bool same_set(const struct cg_set *s, const struct oc_cg_member *m, const uint32_t *prefix, size_t n)
{
	if (s->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->m[i].name, m[i].name) || strcmp(s->m[i].path, m[i].path) ||
		    (prefix ? prefix[i] : 0) != (s->prefix ? s->prefix[i] : 0))
			return false;
	return true;
}

static int add_set_entry(struct oc_dump_ctx *ctx, const struct cg_set *s)
{
	struct oc_cg_dump *cg = ctx->cgroup;
	CgSetEntry *se = oc_arena_alloc(ctx->arena, sizeof(*se));
	int r;

	if (!se)
		return -ENOMEM;
	*se = (CgSetEntry)CG_SET_ENTRY__INIT;
	se->id = s->id;
	for (size_t i = 0; i < s->n; i++) {
		CgMemberEntry *me = oc_arena_alloc(ctx->arena, sizeof(*me));
		if (!me)
			return -ENOMEM;
		*me = (CgMemberEntry)CG_MEMBER_ENTRY__INIT;
		me->name = oc_arena_strdup(ctx->arena, s->m[i].name);
		me->path = oc_arena_strdup(ctx->arena, s->m[i].path);
		me->has_cgns_prefix = s->prefix && s->prefix[i];
		me->cgns_prefix = s->prefix ? s->prefix[i] : 0;
		if (!me->name || !me->path || (r = push((void ***)&se->ctls, &se->n_ctls, me)) < 0)
			return -ENOMEM;
	}
	r = push((void ***)&cg->entry->sets, &cg->entry->n_sets, se);
	for (size_t i = 0; r >= 0 && i < s->n; i++)
		r = collect_member(ctx, &s->m[i]);
	return r;
}

/* The id of the set (@m, @prefix: taken), made and collected if new. */
static int set_id(struct oc_dump_ctx *ctx, struct oc_cg_member *m, uint32_t *prefix, size_t n, uint32_t *ret_id)
{
	struct oc_cg_dump *cg = ctx->cgroup;
	int r;

	for (size_t i = 0; i < cg->n_sets; i++)
		if (same_set(&cg->sets[i], m, prefix, n)) {
			*ret_id = cg->sets[i].id;
			oc_cg_members_free(m, n);
			free(prefix);
			return 0;
		}
	struct cg_set *g = realloc(cg->sets, (cg->n_sets + 1) * sizeof(*g));
	if (!g) {
		oc_cg_members_free(m, n);
		free(prefix);
		return -ENOMEM;
	}
	cg->sets = g;
	g[cg->n_sets] = (struct cg_set){ .id = cg->n_sets + 1, .m = m, .prefix = prefix, .n = n };
	*ret_id = g[cg->n_sets].id;
	cg->n_sets++;
	if (cg->n_sets == 1)
		return 0; /* ocicr's own */
	if (!cg->entry->n_sets && (r = oc_dump_queue(ctx, OC_IMG_CGROUP, &cg->entry->base, NULL)) < 0)
		return r;
	return add_set_entry(ctx, &g[cg->n_sets - 1]);
}

/* --cgroup-dump-controller: the hierarchies not named leave the set. */
static void keep_dumped_hierarchies(const struct oc_dump_opts *o, struct oc_cg_member *m, size_t *n)
{
	size_t k = 0;

	if (!o->n_cgroup_dump_controllers)
		return;
	for (size_t i = 0; i < *n; i++) {
		bool keep = false;
		for (size_t j = 0; j < o->n_cgroup_dump_controllers && !keep; j++)
			keep = !strcmp(m[i].name, o->cgroup_dump_controllers[j]);
		if (keep) {
			m[k++] = m[i];
		} else {
			free(m[i].name);
			free(m[i].path);
		}
	}
	*n = k;
}

static int dump_state(struct oc_dump_ctx *ctx, struct oc_cg_dump **ret)
{
	_cleanup_free_ char *text = NULL;
	struct oc_cg_member *m;
	size_t n;
	uint32_t id;
	int r;

	if (ctx->cgroup) {
		*ret = ctx->cgroup;
		return 0;
	}
	ctx->cgroup = calloc(1, sizeof(*ctx->cgroup));
	if (!ctx->cgroup)
		return -ENOMEM;
	ctx->cgroup->entry = oc_arena_alloc(ctx->arena, sizeof(CgroupEntry));
	if (!ctx->cgroup->entry)
		return -ENOMEM;
	*ctx->cgroup->entry = (CgroupEntry)CGROUP_ENTRY__INIT;
	r = oc_proc_read(0, "cgroup", &text, NULL);
	if (r >= 0)
		r = oc_cg_parse_proc(text, &m, &n);
	if (r >= 0) {
		keep_dumped_hierarchies(ctx->opts, m, &n);
		r = set_id(ctx, m, NULL, n, &id);
	}
	if (r < 0)
		return oc_error_wrap(r, "ocicr's own cgroups");
	*ret = ctx->cgroup;
	return 0;
}

/* The cgroups of @pid as its own cgroup namespace shows them, or none if
 * it is in ocicr's. */
static int read_inner_view(struct oc_dump_task *t, struct oc_cg_member **ret, size_t *ret_n)
{
	_cleanup_free_ char *text = NULL;
	int own_fd, r;

	*ret = NULL;
	*ret_n = 0;
	if (!t->ids || !t->ids->has_cgroup_ns_id || t->ids->cgroup_ns_id == t->ctx->own_ns_ids[OC_NS_CGROUP])
		return 0;
	r = oc_ns_enter(t->pid, "cgroup", &own_fd);
	if (r < 0)
		return r;
	/* The kernel shows paths relative to the reader's namespace. */
	r = oc_proc_read(t->pid, "cgroup", &text, NULL);
	oc_ns_leave("cgroup", own_fd);
	if (r < 0)
		return r;
	return oc_cg_parse_proc(text, ret, ret_n);
}

static int cgroup_dump(struct oc_dump_task *t)
{
	struct oc_cg_member *inner = NULL;
	size_t n_inner = 0;
	struct oc_cg_dump *cg;
	int r = dump_state(t->ctx, &cg);

	if (r >= 0)
		r = read_inner_view(t, &inner, &n_inner);
	for (size_t i = 0; r >= 0 && i < t->n_threads; i++) {
		_cleanup_free_ char *text = NULL;
		struct oc_cg_member *m;
		uint32_t *prefix = NULL;
		char name[64];
		size_t n;

		snprintf(name, sizeof(name), "task/%d/cgroup", t->threads[i].seized->tid);
		r = oc_proc_read(t->pid, name, &text, NULL);
		if (r < 0 || (r = oc_cg_parse_proc(text, &m, &n)) < 0)
			break;
		keep_dumped_hierarchies(t->ctx->opts, m, &n);
		if (n_inner && !(prefix = calloc(n, sizeof(*prefix)))) {
			oc_cg_members_free(m, n);
			r = -ENOMEM;
			break;
		}
		for (size_t j = 0; prefix && j < n; j++)
			for (size_t k = 0; k < n_inner; k++)
				if (!strcmp(inner[k].name, m[j].name))
					prefix[j] = oc_cg_ns_prefix(m[j].path, inner[k].path);
		ThreadCoreEntry *tc = t->threads[i].core->thread_core;
		r = set_id(t->ctx, m, prefix, n, &tc->cg_set);
		tc->has_cg_set = true;
	}
	oc_cg_members_free(inner, n_inner);
	return r;
}

static void free_dir(CgroupDirEntry *de)
{
	for (size_t i = 0; i < de->n_children; i++)
		free_dir(de->children[i]);
	free(de->children);
	free(de->properties);
}

int oc_cgroup_dump_props(struct oc_dump_ctx *ctx)
{
	const struct oc_dump_opts *o = ctx->opts;
	_cleanup_free_ char *text = NULL;
	int r = 0;

	if (!o->cgroup_props && !o->cgroup_props_file)
		return 0;
	ctx->cg_props = calloc(1, sizeof(*ctx->cg_props));
	if (!ctx->cg_props)
		return -ENOMEM;
	/* As CRIU: the text over the built-in lists, then the file. */
	if (o->cgroup_props)
		r = oc_cg_props_parse(ctx->cg_props, o->cgroup_props, "--cgroup-props");
	if (r >= 0 && o->cgroup_props_file) {
		r = read_at(AT_FDCWD, o->cgroup_props_file, &text);
		if (r < 0)
			return oc_error_errno(r, "--cgroup-props-file: cannot read %s", o->cgroup_props_file);
		r = oc_cg_props_parse(ctx->cg_props, text, o->cgroup_props_file);
	}
	return r;
}

void oc_cgroup_dump_free(struct oc_dump_ctx *ctx)
{
	struct oc_cg_dump *cg = ctx->cgroup;

	if (ctx->cg_props) {
		oc_cg_props_free(ctx->cg_props);
		free(ctx->cg_props);
		ctx->cg_props = NULL;
	}
	if (!cg)
		return;
	for (size_t i = 0; i < cg->n_sets; i++) {
		oc_cg_members_free(cg->sets[i].m, cg->sets[i].n);
		free(cg->sets[i].prefix);
	}
	free(cg->sets);
	for (size_t i = 0; i < cg->n_hiers; i++) {
		CgControllerEntry *ce = cg->hiers[i].ce;
		if (cg->hiers[i].mnt_fd >= 0)
			close(cg->hiers[i].mnt_fd);
		for (size_t j = 0; j < ce->n_dirs; j++)
			free_dir(ce->dirs[j]);
		free(ce->dirs);
		free(ce->cnames);
	}
	free(cg->hiers);
	for (size_t i = 0; i < cg->entry->n_sets; i++)
		free(cg->entry->sets[i]->ctls);
	free(cg->entry->sets);
	free(cg->entry->controllers);
	free(cg);
	ctx->cgroup = NULL;
}

const struct oc_task_kind oc_task_kind_cgroup = {
	.name = "cgroups",
	.dump = cgroup_dump,
};

/* ---- freezing through the freezer cgroup -------------------------------- */

struct freezer {
	int dfd;
	bool v1; /* freezer.state; else v2's cgroup.freeze */
};

static int freezer_set(const struct freezer *f, bool frozen)
{
	int r = f->v1 ? write_at(f->dfd, "freezer.state", frozen ? "FROZEN" : "THAWED")
		      : write_at(f->dfd, "cgroup.freeze", frozen ? "1" : "0");

	return r < 0 ? oc_error_errno(r, "cannot %s the freezer cgroup", frozen ? "freeze" : "thaw") : 0;
}

static bool freezer_is_frozen(const struct freezer *f)
{
	_cleanup_free_ char *s = NULL;

	if (f->v1)
		return read_at(f->dfd, "freezer.state", &s) >= 0 && !strcmp(s, "FROZEN");
	return read_at(f->dfd, "cgroup.events", &s) >= 0 && strstr(s, "frozen 1");
}

/*
 * Every thread in the cgroup @dfd and below, seized and interrupted, but
 * those in a group stop: attached while frozen, they would make the
 * attach wait for a move they cannot make until thawed (seize/seize.h).
 * They stay stopped through the thaw and are seized after it.
 */
static int seize_frozen(int dfd, bool v1, struct oc_watchdog *wd, pid_t **tids, size_t *n)
{
	_cleanup_free_ char *list = NULL;
	int r = read_at(dfd, v1 ? "tasks" : "cgroup.threads", &list);

	if (r < 0)
		return oc_error_errno(r, "cannot list the tasks of the freezer cgroup");
	for (char *p = list, *end; *p; p = end) {
		long tid = strtol(p, &end, 10);
		if (end == p)
			break;
		pid_t *g = realloc(*tids, (*n + 1) * sizeof(*g));
		if (!g)
			return -ENOMEM;
		*tids = g;
		oc_watchdog_feed(wd);
		if (oc_seize_wait_of(tid) != OC_SEIZE_AT_ONCE) {
			pr_debug("thread %ld is stopped: seized once the cgroup is thawed", tid);
			continue;
		}
		if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACESYSGOOD) < 0) {
			if (errno == ESRCH)
				continue;
			return oc_error_errno(-errno, "cannot seize thread %ld of the frozen cgroup", tid);
		}
		g[(*n)++] = tid;
		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
			return oc_error_errno(-errno, "PTRACE_INTERRUPT of thread %ld", tid);
	}
	int dup_fd = dup(dfd);
	_cleanup_closedir_ DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d)
		return oc_error_errno(-errno, "cannot list the freezer cgroup");
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		_cleanup_close_ int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub >= 0 && (r = seize_frozen(sub, v1, wd, tids, n)) < 0)
			return r;
	}
	return 0;
}

/* How long seizing a frozen cgroup may go without seizing a thread. */
#define SEIZE_FROZEN_QUIET_MS 2000

static void thaw_from_watchdog(void *arg)
{
	const struct freezer *f = arg;

	/* No error to report from here: the seize goes on either way. */
	(void)(f->v1 ? write_at(f->dfd, "freezer.state", "THAWED") : write_at(f->dfd, "cgroup.freeze", "0"));
}

int oc_cgroup_freeze_and_seize(const char *path, unsigned timeout_s, pid_t **ret_tids, size_t *ret_n,
			       bool *ret_was_frozen)
{
	_cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct freezer f = { .dfd = dfd };
	struct timespec pause = { 0, 1000000 };
	pid_t *tids = NULL;
	size_t n = 0;
	int r;

	if (dfd < 0)
		return oc_error_errno(-errno, "--freeze-cgroup %s", path);
	f.v1 = faccessat(dfd, "freezer.state", F_OK, 0) == 0;
	if (!f.v1 && faccessat(dfd, "cgroup.freeze", F_OK, 0) < 0)
		return oc_error(-EINVAL,
				"--freeze-cgroup %s: neither a v1 freezer cgroup nor a v2 cgroup below the root", path);
	bool was_frozen = freezer_is_frozen(&f);
	if (!was_frozen && (r = freezer_set(&f, true)) < 0)
		return r;
	*ret_was_frozen = false;
	/* FREEZING until every task got there; bounded like the seize. */
	for (unsigned long waited_ms = 0; !freezer_is_frozen(&f); waited_ms++) {
		if (waited_ms >= (timeout_s ? timeout_s : 10) * 1000ul) {
			freezer_set(&f, false);
			return oc_error(-ETIMEDOUT, "the freezer cgroup %s did not freeze within %u s", path,
					timeout_s ? timeout_s : 10);
		}
		nanosleep(&pause, NULL);
	}
	/* A thread that became stopped after it was looked at would hang its
	 * attach: the watchdog thaws the cgroup, which lets the attach end. */
	struct oc_watchdog *wd = NULL;
	r = oc_watchdog_start(SEIZE_FROZEN_QUIET_MS, thaw_from_watchdog, &f, &wd);
	if (r >= 0)
		r = seize_frozen(dfd, f.v1, wd, &tids, &n);
	if (oc_watchdog_stop(wd))
		pr_warn("seizing the frozen cgroup %s made no progress for %u ms: thawed it early", path,
			SEIZE_FROZEN_QUIET_MS);
	/* Thawed, each seized task stops at its interrupt before it runs a
	 * single instruction of its own: it cannot fork any more. */
	int e = freezer_set(&f, false);
	if (r >= 0)
		r = e;
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			ptrace(PTRACE_DETACH, tids[i], 0, 0);
		free(tids);
		return r;
	}
	pr_info("Froze cgroup %s: %zu thread(s) seized%s", path, n, was_frozen ? " (it was frozen already)" : "");
	*ret_was_frozen = was_frozen;
	*ret_tids = tids;
	*ret_n = n;
	return 0;
}

void oc_cgroup_refreeze(const char *path)
{
	_cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct freezer f = { .dfd = dfd, .v1 = dfd >= 0 && faccessat(dfd, "freezer.state", F_OK, 0) == 0 };

	if (dfd < 0 || freezer_set(&f, true) < 0)
		pr_warn("the freezer cgroup %s was frozen before the dump and cannot be frozen again: %s", path,
			dfd < 0 ? strerror(errno) : oc_error_message());
}

/* ---- restore ------------------------------------------------------------ */

struct cg_rst_hier {
	char *name; /* the controllers' names joined, as in /proc/PID/cgroup */
	int mnt_fd;
	CgControllerEntry *ce;
	/* Per dir: it was the hierarchy's root, whose subtree and properties
	 * are the host's, never the tree's to make or change. */
	bool *host_root;
};

struct cg_rst_member {
	size_t hier;
	char *path;    /* where the task goes */
	char *ns_root; /* the root of its cgroup namespace, or NULL */
};

struct cg_rst_set {
	uint32_t id;
	struct cg_rst_member *m;
	size_t n;
};

struct oc_cg_restore {
	enum oc_cgroup_mode mode;
	CgroupEntry *ce; /* cgroup.img, NULL if none */
	struct cg_rst_hier *hiers;
	size_t n_hiers;
	struct cg_rst_set *sets;
	size_t n_sets;
	uint32_t root_set; /* the restorer's own (inventory root_cg_set) */
	bool new_cgns;	   /* the tree has a cgroup namespace of its own */
	int ns_fd;	   /* it, once made (helper fd range), or -1 */
	struct {
		size_t hier;
		char *path;
	} * created; /* in the order made */
	size_t n_created;
	int *own_mnt; /* the coordinator's mounts, per hierarchy, once needed */
};

static char *join_cnames(const CgControllerEntry *ce)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < ce->n_cnames; i++)
		len += strlen(ce->cnames[i]) + 1;
	s = calloc(1, len);
	for (size_t i = 0; s && i < ce->n_cnames; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, ce->cnames[i]);
	}
	return s;
}

static int rst_hier_of(struct oc_cg_restore *cg, const char *name, size_t *ret)
{
	for (size_t i = 0; i < cg->n_hiers; i++)
		if (!strcmp(cg->hiers[i].name, name)) {
			*ret = i;
			return 0;
		}
	return oc_error(-EINVAL, "cgroup.img: a set names hierarchy '%s', which has no controller entry", name);
}

/* --cgroup-root: the cgroups of hierarchy @hi, each dumped top directory
 * and the set members under it, moved under the new root. */
static int rewrite_root(struct oc_rst_ctx *ctx, size_t hi)
{
	struct oc_cg_restore *cg = ctx->cgroup;
	CgControllerEntry *ce = cg->hiers[hi].ce;
	_cleanup_free_ char *buf = NULL;
	const char *root;
	int r = oc_cg_root_for(ctx->opts->cgroup_roots, ctx->opts->n_cgroup_roots, cg->hiers[hi].name, &buf, &root);

	if (r < 0 || !root)
		return r;
	for (size_t d = 0; d < ce->n_dirs; d++) {
		_cleanup_free_ char *old = NULL, *new_dir = NULL;
		if (asprintf(&old, "/%s", ce->dirs[d]->dir_name) < 0)
			return -ENOMEM;
		for (size_t s = 0; s < cg->n_sets; s++)
			for (size_t i = 0; i < cg->sets[s].n; i++) {
				struct cg_rst_member *m = &cg->sets[s].m[i];
				/* In a cgroup namespace its root is what moves. */
				const char *from = m->ns_root ? m->ns_root : old;
				char *p;
				if (m->hier != hi || !(p = oc_cg_rebase(m->path, old, "/")))
					continue;
				free(p);
				p = oc_cg_rebase(m->path, from, root);
				if (!p)
					continue;
				if (!new_dir)
					new_dir = oc_cg_rebase(old, from, root);
				free(m->path);
				m->path = p;
				if (m->ns_root) {
					free(m->ns_root);
					m->ns_root = strdup(root);
				}
			}
		if (!new_dir)
			new_dir = strdup(root);
		if (!new_dir)
			return -ENOMEM;
		pr_info("cgroups of '%s': %s goes to %s", cg->hiers[hi].name, old, new_dir);
		/* The entry's strings belong to the unpacked message. */
		free(ce->dirs[d]->dir_name);
		ce->dirs[d]->dir_name = strdup(rel(new_dir)[0] == '.' ? "" : rel(new_dir));
		if (!ce->dirs[d]->dir_name)
			return -ENOMEM;
	}
	return 0;
}

static int load_sets(struct oc_cg_restore *cg)
{
	cg->sets = calloc(cg->ce->n_sets, sizeof(*cg->sets));
	if (!cg->sets)
		return -ENOMEM;
	for (size_t s = 0; s < cg->ce->n_sets; s++) {
		const CgSetEntry *se = cg->ce->sets[s];
		struct cg_rst_set *rs = &cg->sets[cg->n_sets++];
		rs->id = se->id;
		rs->m = calloc(se->n_ctls, sizeof(*rs->m));
		if (!rs->m)
			return -ENOMEM;
		for (size_t i = 0; i < se->n_ctls; i++) {
			const CgMemberEntry *me = se->ctls[i];
			struct cg_rst_member *m = &rs->m[rs->n++];
			int r = rst_hier_of(cg, me->name, &m->hier);
			if (r < 0)
				return r;
			if (me->path[0] != '/' || (me->has_cgns_prefix && me->cgns_prefix > strlen(me->path)))
				return oc_error(-EINVAL, "cgroup.img: set %u: bad path '%s' of hierarchy '%s'", se->id,
						me->path, me->name);
			m->path = strdup(me->path);
			if (me->has_cgns_prefix && me->cgns_prefix)
				m->ns_root = strndup(me->path, me->cgns_prefix);
			if (!m->path || (me->has_cgns_prefix && me->cgns_prefix && !m->ns_root))
				return -ENOMEM;
		}
	}
	return 0;
}

static const struct cg_rst_set *find_set(const struct oc_cg_restore *cg, uint32_t id)
{
	for (size_t i = 0; i < cg->n_sets; i++)
		if (cg->sets[i].id == id)
			return &cg->sets[i];
	return NULL;
}

static uint32_t task_set(const struct oc_rst_task *t)
{
	const CoreEntry *c = t->n_cores ? t->cores[0] : NULL;

	if (!c)
		return 0;
	if (c->thread_core && c->thread_core->has_cg_set)
		return c->thread_core->cg_set;
	return c->tc && c->tc->has_cg_set ? c->tc->cg_set : 0;
}

static int check_task_sets(struct oc_rst_ctx *ctx)
{
	struct oc_cg_restore *cg = ctx->cgroup;

	for (size_t i = 0; i < ctx->n_tasks; i++) {
		const struct oc_rst_task *t = &ctx->tasks[i];
		uint32_t id = task_set(t);
		if (t->zombie || !id || id == cg->root_set)
			continue;
		if (!find_set(cg, id))
			return oc_error(-EINVAL, "core-%d.img: cgroup set %u is not in cgroup.img", t->pid, id);
		for (size_t j = 1; j < t->n_cores; j++) {
			const ThreadCoreEntry *tc = t->cores[j]->thread_core;
			if (tc && tc->has_cg_set && tc->cg_set != id && tc->cg_set != cg->root_set &&
			    !find_set(cg, tc->cg_set))
				return oc_error(-EINVAL, "core-%d.img: cgroup set %u is not in cgroup.img",
						t->pstree->threads[j], tc->cg_set);
		}
	}
	return 0;
}

int oc_cgroup_load(struct oc_rst_ctx *ctx)
{
	const TaskKobjIdsEntry *root = ctx->tasks[0].ids, *inv = ctx->inventory->root_ids;
	ProtobufCMessage *m = NULL;
	struct oc_cg_restore *cg;
	int r;

	if (ctx->opts->manage_cgroups == OC_CGROUP_IGNORE)
		return 0;
	cg = ctx->cgroup = calloc(1, sizeof(*cg));
	if (!cg)
		return -ENOMEM;
	cg->mode = ctx->opts->manage_cgroups;
	cg->root_set = ctx->inventory->has_root_cg_set ? ctx->inventory->root_cg_set : 0;
	cg->ns_fd = -1;
	/* --join-ns cgroup:PATH gives it; else it is made anew. */
	cg->new_cgns = ctx->ns->join_fd[OC_NS_CGROUP] < 0 && root && inv && root->has_cgroup_ns_id &&
		       inv->has_cgroup_ns_id && root->cgroup_ns_id != inv->cgroup_ns_id;
	r = oc_img_read_one(ctx->dir, OC_IMG_CGROUP, 0, &m);
	if (r == -ENOENT) {
		oc_error_clear();
		return 0;
	}
	if (r < 0)
		return r;
	cg->ce = (CgroupEntry *)m;
	cg->hiers = calloc(cg->ce->n_controllers, sizeof(*cg->hiers));
	if (!cg->hiers)
		return -ENOMEM;
	for (size_t i = 0; i < cg->ce->n_controllers; i++) {
		struct cg_rst_hier *h = &cg->hiers[cg->n_hiers++];
		h->mnt_fd = -1;
		h->ce = cg->ce->controllers[i];
		h->name = join_cnames(h->ce);
		if (!h->name)
			return -ENOMEM;
		if (!h->ce->n_cnames)
			return oc_error(-EINVAL, "cgroup.img: a controller entry names no controller");
		h->host_root = calloc(h->ce->n_dirs + 1, sizeof(bool));
		if (!h->host_root)
			return -ENOMEM;
		for (size_t d = 0; d < h->ce->n_dirs; d++)
			h->host_root[d] = !h->ce->dirs[d]->dir_name[0];
	}
	r = load_sets(cg);
	for (size_t i = 0; r >= 0 && i < cg->n_hiers; i++)
		r = rewrite_root(ctx, i);
	if (r >= 0)
		r = check_task_sets(ctx);
	if (r < 0)
		return r;
	pr_info("cgroups: %zu set(s) in %zu hierarchies, --manage-cgroups %s", cg->n_sets, cg->n_hiers,
		oc_cg_mode_name(cg->mode));
	return 0;
}

static bool mode_sets_props(enum oc_cgroup_mode mode, bool created)
{
	return mode == OC_CGROUP_PROPS || mode == OC_CGROUP_FULL || mode == OC_CGROUP_STRICT ||
	       (mode == OC_CGROUP_SOFT && created);
}

/* v1 devices rules: deny everything, then allow each saved rule. */
static int restore_devices(int dfd, const char *path, const char *list)
{
	_cleanup_free_ char *now = NULL, *copy = strdup(list);
	char *save = NULL;
	int r;

	if (!copy)
		return -ENOMEM;
	if (read_at(dfd, "devices.list", &now) >= 0 && !strcmp(now, list))
		return 0;
	r = write_at(dfd, "devices.deny", "a");
	for (char *line = strtok_r(copy, "\n", &save); r >= 0 && line; line = strtok_r(NULL, "\n", &save))
		r = write_at(dfd, "devices.allow", !strcmp(line, "a *:* rwm") ? "a" : line);
	return r < 0 ? oc_error_errno(r, "cgroup %s: cannot restore its devices rules", path) : 0;
}

/* v2's "memory pids" is written "+memory +pids". */
static int restore_subtree_control(int dfd, const char *path, const char *value)
{
	_cleanup_free_ char *copy = strdup(value);
	char *save = NULL, buf[64];

	if (!copy)
		return -ENOMEM;
	for (char *c = strtok_r(copy, " ", &save); c; c = strtok_r(NULL, " ", &save)) {
		snprintf(buf, sizeof(buf), "+%s", c);
		int r = write_at(dfd, "cgroup.subtree_control", buf);
		if (r < 0)
			return oc_error_errno(r, "cgroup %s: cannot enable controller %s", path, c);
	}
	return 0;
}

static int restore_prop(int dfd, const char *path, const CgroupPropEntry *p)
{
	_cleanup_free_ char *now = NULL;
	int r;

	/* Tasks come one by one; a frozen cgroup would stop the restore. */
	if (!strcmp(p->name, "cgroup.procs") || !strcmp(p->name, "tasks") || !strcmp(p->name, "cgroup.freeze") ||
	    !strcmp(p->name, "cgroup.threads") || !p->value)
		return 0;
	if (!strcmp(p->name, "devices.list"))
		return restore_devices(dfd, path, p->value);
	r = read_at(dfd, p->name, &now);
	if (r == -ENOENT) {
		pr_warn("cgroup %s: no property %s here; not restored", path, p->name);
		return 0;
	}
	if (r >= 0 && !strcmp(p->name, "memory.oom_control")) {
		char *v = strstr(now, "oom_kill_disable ");
		if (v)
			memmove(now, v + 17, 2);
		now[strspn(now, "01")] = '\0';
	}
	if (r >= 0 && !strcmp(now, p->value))
		return 0;
	if (!strcmp(p->name, "cgroup.subtree_control"))
		return restore_subtree_control(dfd, path, p->value);
	/* Only "threaded" can be written; "domain" is where a cgroup starts. */
	if (!strcmp(p->name, "cgroup.type") && strcmp(p->value, "threaded"))
		return 0;
	r = write_at(dfd, p->name, p->value);
	if (r == -EOPNOTSUPP) {
		pr_warn("cgroup %s: %s cannot be set on this kernel; not restored", path, p->name);
		return 0;
	}
	return r < 0 ? oc_error_errno(r, "cgroup %s: cannot set %s to '%s'", path, p->name, p->value) : 0;
}

/* The early properties first (cpuset, devices...), then the others. */
static int restore_props(int dfd, const char *path, const CgroupDirEntry *de, bool own_perms)
{
	int r;

	for (int early = 1; early >= 0; early--)
		for (size_t i = 0; i < de->n_properties; i++) {
			const CgroupPropEntry *p = de->properties[i];
			if (oc_cg_prop_is_early(p->name) != early)
				continue;
			r = restore_prop(dfd, path, p);
			if (r < 0)
				return r;
			if (own_perms && p->perms &&
			    (fchmodat(dfd, p->name, p->perms->mode & 07777, 0) < 0 ||
			     fchownat(dfd, p->name, p->perms->uid, p->perms->gid, 0) < 0) &&
			    errno != ENOENT)
				return oc_error_errno(-errno, "cgroup %s: permissions of %s", path, p->name);
		}
	return 0;
}

/* A new v1 cpuset takes no task until it has CPUs and memory nodes: its
 * parent's, until (and unless) the image's are set. */
static int init_cpuset(int mnt, const char *path)
{
	_cleanup_free_ char *parent = strdup(rel(path));
	char *slash = parent ? strrchr(parent, '/') : NULL;

	if (!parent)
		return -ENOMEM;
	if (slash)
		*slash = '\0';
	_cleanup_close_ int pfd = openat(mnt, slash ? parent : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int dfd = openat(mnt, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0 || dfd < 0)
		return oc_error_errno(-errno, "cgroup %s of the cpuset hierarchy", path);
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "cpuset.mems" : "cpuset.cpus";
		_cleanup_free_ char *value = NULL;
		int r = read_at(pfd, name, &value);
		if (r == -ENOENT)
			return 0; /* v2, or a v1 cpuset of another kind */
		if (r >= 0)
			r = write_at(dfd, name, value);
		if (r < 0)
			return oc_error_errno(r, "cgroup %s: cannot give it its parent's %s", path, name);
	}
	return 0;
}

/* mkdir @path of hierarchy @hi as the mode allows; *@ret_created. */
static int make_dir(struct oc_cg_restore *cg, size_t hi, const char *path, bool must_exist, bool *ret_created)
{
	int mnt = cg->hiers[hi].mnt_fd;
	bool may_create = cg->mode != OC_CGROUP_NONE && cg->mode != OC_CGROUP_PROPS;

	*ret_created = false;
	if (!strcmp(rel(path), "."))
		return 0;
	if (faccessat(mnt, rel(path), F_OK, 0) == 0) {
		if (cg->mode == OC_CGROUP_STRICT)
			return oc_error(-EEXIST, "cgroup %s of hierarchy '%s' exists (--manage-cgroups strict)", path,
					cg->hiers[hi].name);
		return 0;
	}
	if (!may_create)
		return must_exist ? oc_error(-ENOENT,
					     "cgroup %s of hierarchy '%s' does not exist (--manage-cgroups %s "
					     "creates none)",
					     path, cg->hiers[hi].name, oc_cg_mode_name(cg->mode))
				  : 0;
	if (mkdirat(mnt, rel(path), 0755) < 0)
		return oc_error_errno(-errno, "cannot create cgroup %s of hierarchy '%s'", path, cg->hiers[hi].name);
	void *g = realloc(cg->created, (cg->n_created + 1) * sizeof(*cg->created));
	char *copy = strdup(path);
	if (!g || !copy) {
		free(g ? NULL : copy);
		unlinkat(mnt, rel(path), AT_REMOVEDIR);
		return -ENOMEM;
	}
	cg->created = g;
	cg->created[cg->n_created].hier = hi;
	cg->created[cg->n_created++].path = copy;
	*ret_created = true;
	return oc_cg_has_controller(cg->hiers[hi].name, "cpuset") ? init_cpuset(mnt, path) : 0;
}

static int restore_dir(struct oc_cg_restore *cg, size_t hi, const char *path, const CgroupDirEntry *de, bool top,
		       bool host_root)
{
	bool created;
	int r = make_dir(cg, hi, path, top, &created);

	if (r < 0 || host_root)
		return r;
	_cleanup_close_ int dfd = openat(cg->hiers[hi].mnt_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return top ? oc_error_errno(-errno, "cgroup %s of hierarchy '%s'", path, cg->hiers[hi].name) : 0;
	if (created && de->dir_perms &&
	    (fchmod(dfd, de->dir_perms->mode & 07777) < 0 || fchown(dfd, de->dir_perms->uid, de->dir_perms->gid) < 0))
		return oc_error_errno(-errno, "cgroup %s: its permissions", path);
	if (mode_sets_props(cg->mode, created) && (r = restore_props(dfd, path, de, created)) < 0)
		return r;
	for (size_t i = 0; i < de->n_children; i++) {
		_cleanup_free_ char *sub = NULL;
		if (asprintf(&sub, "%s/%s", strcmp(path, "/") ? path : "", de->children[i]->dir_name) < 0)
			return -ENOMEM;
		r = restore_dir(cg, hi, sub, de->children[i], false, false);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The ancestors of a top directory, made if missing (the properties of
 * those are the host's business). */
static int make_parents(struct oc_cg_restore *cg, size_t hi, const char *path)
{
	_cleanup_free_ char *p = strdup(path);
	bool created;

	if (!p)
		return -ENOMEM;
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		int r = make_dir(cg, hi, p, true, &created);
		*s = '/';
		if (r < 0)
			return r;
	}
	return 0;
}

static int enter_path(const struct oc_cg_restore *cg, const struct cg_rst_member *m, const char *path);

/*
 * The tree's cgroup namespace, made before any task by a short-lived child
 * standing in the namespace's root cgroups as it unshares (a namespace is
 * rooted where its maker is): the mount namespace's cgroup mounts can be
 * made in it (oc_cgroup_ns_fd()), and the root task joins it.
 */
static int make_cgns(struct oc_rst_ctx *ctx, struct oc_rst_files *files)
{
	struct oc_cg_restore *cg = ctx->cgroup;
	const struct cg_rst_set *set = cg->ce ? find_set(cg, task_set(&ctx->tasks[0])) : NULL;
	int ready[2], st;
	char path[64];

	if (pipe2(ready, O_CLOEXEC) < 0)
		return oc_error_errno(-errno, "pipe2");
	pid_t pid = fork();
	if (pid < 0) {
		close(ready[0]);
		close(ready[1]);
		return oc_error_errno(-errno, "fork");
	}
	if (pid == 0) {
		close(ready[0]);
		for (size_t i = 0; set && i < set->n; i++)
			if (set->m[i].ns_root && enter_path(cg, &set->m[i], set->m[i].ns_root) < 0)
				_exit(1);
		if (unshare(CLONE_NEWCGROUP) < 0 || oc_rst_send_byte(ready[1], OC_MSG_HELPER_READY) < 0)
			_exit(2);
		for (;;)
			pause();
	}
	close(ready[1]);
	int n = oc_rst_recv_byte(ready[0], OC_MSG_HELPER_READY) == 0 ? 1 : -1;
	close(ready[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/cgroup", pid);
	int fd = n == 1 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	int err = -errno;
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n != 1 || fd < 0)
		return oc_error_errno(n != 1 ? -EIO : err, "cannot make the tree's cgroup namespace");
	cg->ns_fd = oc_rst_high_fd(files, fd);
	return cg->ns_fd < 0 ? cg->ns_fd : 0;
}

int oc_cgroup_ns_fd(const struct oc_rst_ctx *ctx)
{
	return ctx->cgroup ? ctx->cgroup->ns_fd : -1;
}

int oc_cgroup_ns_enter(struct oc_rst_ctx *ctx, int *ret_own_fd)
{
	int fd = oc_cgroup_ns_fd(ctx);

	*ret_own_fd = -1;
	if (fd < 0)
		return 0;
	_cleanup_close_ int own = open("/proc/self/ns/cgroup", O_RDONLY | O_CLOEXEC);
	if (own < 0)
		return oc_error_errno(-errno, "cannot open /proc/self/ns/cgroup");
	if (setns(fd, CLONE_NEWCGROUP) < 0)
		return oc_error_errno(-errno, "cannot enter the tree's cgroup namespace");
	*ret_own_fd = own;
	own = -1;
	return 0;
}

void oc_cgroup_ns_leave(int own_fd)
{
	if (own_fd >= 0)
		oc_ns_leave("cgroup", own_fd);
}

int oc_cgroup_prepare(struct oc_rst_ctx *ctx, struct oc_rst_files *files)
{
	struct oc_cg_restore *cg = ctx->cgroup;
	int r;

	if (cg && !cg->ce && cg->new_cgns)
		return make_cgns(ctx, files);
	if (!cg || !cg->ce)
		return 0;
	for (size_t i = 0; i < cg->n_hiers; i++) {
		struct cg_rst_hier *h = &cg->hiers[i];
		int fd;
		r = oc_cg_mount_hierarchy(ctx->opts->cgroup_yard, h->name, &fd);
		if (r < 0)
			return r;
		/* In the helper range: the tasks' agents use it, their blobs
		 * close it. */
		h->mnt_fd = oc_rst_high_fd(files, fd);
		if (h->mnt_fd < 0)
			return h->mnt_fd;
		for (size_t d = 0; d < h->ce->n_dirs; d++) {
			_cleanup_free_ char *path = NULL;
			if (asprintf(&path, "/%s", h->ce->dirs[d]->dir_name) < 0)
				return -ENOMEM;
			r = make_parents(cg, i, path);
			if (r >= 0)
				r = restore_dir(cg, i, path, h->ce->dirs[d], true, h->host_root[d]);
			if (r < 0)
				return r;
		}
	}
	/* Every cgroup a task enters is there now. */
	for (size_t s = 0; s < cg->n_sets; s++)
		for (size_t i = 0; i < cg->sets[s].n; i++) {
			const struct cg_rst_member *m = &cg->sets[s].m[i];
			if (faccessat(cg->hiers[m->hier].mnt_fd, rel(m->path), F_OK, 0) < 0)
				return oc_error_errno(-errno, "cgroup %s of hierarchy '%s' (set %u)", m->path,
						      cg->hiers[m->hier].name, cg->sets[s].id);
		}
	if (cg->n_created)
		pr_info("cgroups: %zu created", cg->n_created);
	return cg->new_cgns ? make_cgns(ctx, files) : 0;
}

/* Frozen, a cgroup would freeze the restore's task the moment it entered. */
static bool frozen_at(int mnt_fd, const char *hier_name, const char *path)
{
	_cleanup_free_ char *state = NULL;
	char file[PATH_MAX];
	bool v2 = !hier_name[0];

	if (!v2 && !strstr(hier_name, "freezer"))
		return false;
	snprintf(file, sizeof(file), "%s/%s", rel(path), v2 ? "cgroup.freeze" : "freezer.state");
	if (read_at(mnt_fd, file, &state) < 0)
		return false;
	return v2 ? state[0] == '1' : strncmp(state, "THAWED", 6) != 0;
}

static int enter_path(const struct oc_cg_restore *cg, const struct cg_rst_member *m, const char *path)
{
	char file[PATH_MAX];

	if (frozen_at(cg->hiers[m->hier].mnt_fd, cg->hiers[m->hier].name, path))
		return oc_error(-EBUSY,
				"cgroup %s of hierarchy '%s' is frozen: the restore would freeze in it; thaw it first",
				path, cg->hiers[m->hier].name);
	snprintf(file, sizeof(file), "%s/cgroup.procs", rel(path));
	int r = write_at(cg->hiers[m->hier].mnt_fd, file, "0");
	return r < 0 ? oc_error_errno(r, "cannot enter cgroup %s of hierarchy '%s'", path, cg->hiers[m->hier].name) : 0;
}

int oc_cgroup_enter(struct oc_rst_ctx *ctx, struct oc_rst_task *t)
{
	struct oc_cg_restore *cg = ctx->cgroup;
	struct oc_rst_task *parent = oc_rst_parent_of(ctx, t);
	const struct cg_rst_set *set;
	uint32_t id = task_set(t);
	int r;

	if (!cg)
		return 0;
	set = id && id != cg->root_set && (!parent || task_set(parent) != id) ? find_set(cg, id) : NULL;
	for (size_t i = 0; set && i < set->n; i++)
		if ((r = enter_path(cg, &set->m[i], set->m[i].path)) < 0)
			return oc_error_wrap(r, "task %d", t->pid);
	return 0;
}

static const struct cg_rst_member *member_in(const struct cg_rst_set *set, size_t hier)
{
	for (size_t i = 0; set && i < set->n; i++)
		if (set->m[i].hier == hier)
			return &set->m[i];
	return NULL;
}

int oc_cgroup_enter_thread(struct oc_rst_ctx *ctx, const struct oc_rst_task *t, size_t idx, pid_t tid)
{
	struct oc_cg_restore *cg = ctx->cgroup;
	const ThreadCoreEntry *tc = idx < t->n_cores ? t->cores[idx]->thread_core : NULL;
	uint32_t leader = task_set(t);
	char tid_s[16], file[PATH_MAX];

	if (!cg || !cg->ce || !tc || !tc->has_cg_set || tc->cg_set == leader || tc->cg_set == cg->root_set)
		return 0;
	const struct cg_rst_set *set = find_set(cg, tc->cg_set), *ls = find_set(cg, leader);
	if (!cg->own_mnt) {
		cg->own_mnt = malloc(cg->n_hiers * sizeof(*cg->own_mnt));
		if (!cg->own_mnt)
			return -ENOMEM;
		for (size_t h = 0; h < cg->n_hiers; h++)
			cg->own_mnt[h] = -1;
	}
	snprintf(tid_s, sizeof(tid_s), "%d", tid);
	for (size_t i = 0; set && i < set->n; i++) {
		const struct cg_rst_member *m = &set->m[i], *lm = member_in(ls, m->hier);
		int r;
		if (lm && !strcmp(lm->path, m->path))
			continue;
		if (cg->own_mnt[m->hier] < 0 &&
		    (r = oc_cg_mount_hierarchy(ctx->opts->cgroup_yard, cg->hiers[m->hier].name,
					       &cg->own_mnt[m->hier])) < 0)
			return r;
		/* v1 moves one thread through "tasks"; v2 a threaded cgroup's. */
		snprintf(file, sizeof(file), "%s/%s", rel(m->path),
			 cg->hiers[m->hier].name[0] ? "tasks" : "cgroup.threads");
		r = write_at(cg->own_mnt[m->hier], file, tid_s);
		if (r < 0)
			return oc_error_errno(r, "thread %d of task %d: cannot enter cgroup %s of hierarchy '%s'",
					      t->pstree->threads[idx], t->pid, m->path, cg->hiers[m->hier].name);
	}
	return 0;
}

void oc_cgroup_abort(struct oc_rst_ctx *ctx)
{
	struct oc_cg_restore *cg = ctx->cgroup;
	struct timespec pause = { 0, 10 * 1000000 };

	/* The hierarchies' fds went with the tree's files: mount them anew. */
	for (size_t h = 0; cg && h < cg->n_hiers; h++) {
		_cleanup_close_ int mnt = -1;
		for (size_t i = cg->n_created; i-- > 0;) {
			const char *path = rel(cg->created[i].path);
			if (cg->created[i].hier != h ||
			    (mnt < 0 && oc_cg_mount_hierarchy(ctx->opts->cgroup_yard, cg->hiers[h].name, &mnt) < 0))
				continue;
			/* A killed task leaves its cgroup a moment after it is reaped. */
			for (int tries = 0; unlinkat(mnt, path, AT_REMOVEDIR) < 0 && errno == EBUSY && tries < 200;
			     tries++)
				nanosleep(&pause, NULL);
			if (faccessat(mnt, path, F_OK, 0) == 0)
				pr_warn("cannot remove cgroup %s of hierarchy '%s' made by the failed restore",
					cg->created[i].path, cg->hiers[h].name);
		}
	}
}

void oc_cgroup_free(struct oc_rst_ctx *ctx)
{
	struct oc_cg_restore *cg = ctx->cgroup;

	if (!cg)
		return;
	for (size_t i = 0; i < cg->n_created; i++)
		free(cg->created[i].path);
	free(cg->created);
	for (size_t s = 0; s < cg->n_sets; s++) {
		for (size_t i = 0; i < cg->sets[s].n; i++) {
			free(cg->sets[s].m[i].path);
			free(cg->sets[s].m[i].ns_root);
		}
		free(cg->sets[s].m);
	}
	free(cg->sets);
	for (size_t i = 0; i < cg->n_hiers; i++) {
		free(cg->hiers[i].name);
		free(cg->hiers[i].host_root);
		if (cg->own_mnt && cg->own_mnt[i] >= 0)
			close(cg->own_mnt[i]);
	}
	free(cg->own_mnt);
	free(cg->hiers);
	if (cg->ce)
		protobuf_c_message_free_unpacked(&cg->ce->base, NULL);
	free(cg);
	ctx->cgroup = NULL;
}

/* The root's cgroup namespace: its roots are in cgroup.img's sets (each
 * member's cgns_prefix); oc_cgroup_prepare() makes it, the root joins it. */
const struct oc_ns_ops oc_ns_cgroup_ops = {
	.task_made = true,
};
