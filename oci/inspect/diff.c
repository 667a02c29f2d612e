// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `ocicr diff A B`: what changed between two checkpoints.  Processes are
 * matched by pid (a container keeps its pids), files by fd number.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "oci/inspect/inspect.h"
#include "oci/inspect/json.h"
#include "oci/inspect/tree.h"
#include "oci/inspect/view.h"
#include "ocicr/cleanup.h"
#include "ocicr.h"

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool strv_eq(char **a, size_t na, char **b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

static bool strv_has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static const struct oc_ckpt_fd *find_fd(const struct oc_ckpt_task *t, uint32_t fd)
{
	for (size_t i = 0; i < t->n_fds; i++)
		if (t->fds[i].fd == fd)
			return &t->fds[i];
	return NULL;
}

static bool fd_changed(const struct oc_ckpt_fd *a, const struct oc_ckpt_fd *b)
{
	return strcmp(a->type, b->type) || strcmp(a->path, b->path) || a->has_pos != b->has_pos || a->pos != b->pos ||
	       a->has_flags != b->has_flags || a->flags != b->flags || a->cloexec != b->cloexec;
}

static bool memory_ok(const struct oc_ckpt_task *t)
{
	return t->has_mm && !t->argv_error;
}

static bool env_ok(const struct oc_ckpt_task *t)
{
	return t->has_mm && !t->env_error;
}

/* Everything compared about a process present in both. */
static bool task_changed(const struct oc_ckpt_task *a, const struct oc_ckpt_task *b)
{
	if (strcmp(a->comm, b->comm) || a->ppid != b->ppid || strcmp(a->state, b->state) ||
	    a->n_threads != b->n_threads || !str_eq(a->exe, b->exe) || !str_eq(a->cwd, b->cwd) ||
	    !str_eq(a->root, b->root))
		return true;
	if (memory_ok(a) && memory_ok(b) && !strv_eq(a->argv, a->argc, b->argv, b->argc))
		return true;
	if (env_ok(a) && env_ok(b) && !strv_eq(a->env, a->envc, b->env, b->envc))
		return true;
	if (a->vma_size != b->vma_size || a->n_vmas != b->n_vmas || a->pm.present_pages != b->pm.present_pages)
		return true;
	if (a->n_fds != b->n_fds)
		return true;
	for (size_t i = 0; i < a->n_fds; i++) {
		const struct oc_ckpt_fd *fb = find_fd(b, a->fds[i].fd);
		if (!fb || fd_changed(&a->fds[i], fb))
			return true;
	}
	return false;
}

struct meta_field {
	const char *key;
	const char *label;
	size_t off; /* of the char * in struct oci_meta */
};

static const struct meta_field meta_fields[] = {
	{ "name", "Name", offsetof(struct oci_meta, name) },
	{ "id", "ID", offsetof(struct oci_meta, id) },
	{ "image", "Image", offsetof(struct oci_meta, image) },
	{ "image_id", "Image ID", offsetof(struct oci_meta, image_id) },
	{ "runtime", "Runtime", offsetof(struct oci_meta, runtime) },
	{ "created", "Created", offsetof(struct oci_meta, created) },
	{ "checkpointed", "Checkpointed", offsetof(struct oci_meta, checkpointed) },
	{ "hostname", "Hostname", offsetof(struct oci_meta, hostname) },
};

static const char *meta_get(const struct oci_meta *m, const struct meta_field *f)
{
	return *(char *const *)((const char *)m + f->off);
}

/* ---- text ------------------------------------------------------------------- */

static void text_fd(struct oci_tree *parent, const char *sign, const struct oc_ckpt_fd *f)
{
	char flags[256] = "";

	if (f->has_flags)
		oc_format_oflags(f->flags, flags, sizeof(flags));
	if (f->has_pos)
		oci_tree_add(parent, "%s fd %u: %s (%s, %s, offset %" PRIu64 ")", sign, f->fd, f->path, f->type, flags,
			     f->pos);
	else
		oci_tree_add(parent, "%s fd %u: %s (%s%s%s)", sign, f->fd, f->path, f->type, *flags ? ", " : "", flags);
}

static void text_changed_task(struct oci_tree *parent, const struct oc_ckpt_task *a, const struct oc_ckpt_task *b)
{
	struct oci_tree *n = oci_tree_add(parent, "~ [%d] %s", b->pid, b->comm);
	char s1[32], s2[32];

	if (strcmp(a->comm, b->comm))
		oci_tree_add(n, "comm: %s -> %s", a->comm, b->comm);
	if (a->ppid != b->ppid)
		oci_tree_add(n, "parent: %d -> %d", a->ppid, b->ppid);
	if (strcmp(a->state, b->state))
		oci_tree_add(n, "state: %s -> %s", a->state, b->state);
	if (a->n_threads != b->n_threads)
		oci_tree_add(n, "threads: %zu -> %zu", a->n_threads, b->n_threads);
	if (!str_eq(a->exe, b->exe))
		oci_tree_add(n, "executable: %s -> %s", a->exe ?: "-", b->exe ?: "-");
	if (!str_eq(a->cwd, b->cwd))
		oci_tree_add(n, "working directory: %s -> %s", a->cwd ?: "-", b->cwd ?: "-");
	if (!str_eq(a->root, b->root))
		oci_tree_add(n, "root: %s -> %s", a->root ?: "-", b->root ?: "-");
	if (memory_ok(a) && memory_ok(b) && !strv_eq(a->argv, a->argc, b->argv, b->argc)) {
		_cleanup_free_ char *la = oci_join_argv(a->argv, a->argc);
		_cleanup_free_ char *lb = oci_join_argv(b->argv, b->argc);
		struct oci_tree *c = oci_tree_add(n, "command line changed");
		oci_tree_add(c, "- %s", la ?: "?");
		oci_tree_add(c, "+ %s", lb ?: "?");
	}
	if (env_ok(a) && env_ok(b) && !strv_eq(a->env, a->envc, b->env, b->envc)) {
		struct oci_tree *c = oci_tree_add(n, "environment changed");
		for (size_t i = 0; i < a->envc; i++)
			if (!strv_has(b->env, b->envc, a->env[i]))
				oci_tree_add(c, "- %s", a->env[i]);
		for (size_t i = 0; i < b->envc; i++)
			if (!strv_has(a->env, a->envc, b->env[i]))
				oci_tree_add(c, "+ %s", b->env[i]);
	}
	for (size_t i = 0; i < a->n_fds; i++)
		if (!find_fd(b, a->fds[i].fd))
			text_fd(n, "- closed", &a->fds[i]);
	for (size_t i = 0; i < b->n_fds; i++) {
		const struct oc_ckpt_fd *fa = find_fd(a, b->fds[i].fd), *fb = &b->fds[i];
		if (!fa) {
			text_fd(n, "+ opened", fb);
			continue;
		}
		if (!fd_changed(fa, fb))
			continue;
		if (strcmp(fa->path, fb->path) || strcmp(fa->type, fb->type)) {
			text_fd(n, "- closed", fa);
			text_fd(n, "+ opened", fb);
		} else if (fa->pos != fb->pos && fa->flags == fb->flags && fa->cloexec == fb->cloexec) {
			oci_tree_add(n, "fd %u: %s offset %" PRIu64 " -> %" PRIu64, fb->fd, fb->path, fa->pos, fb->pos);
		} else {
			char f1[256] = "", f2[256] = "";
			oc_format_oflags(fa->flags, f1, sizeof(f1));
			oc_format_oflags(fb->flags, f2, sizeof(f2));
			oci_tree_add(n, "fd %u: %s flags %s%s -> %s%s, offset %" PRIu64 " -> %" PRIu64, fb->fd,
				     fb->path, f1, fa->cloexec ? " (close-on-exec)" : "", f2,
				     fb->cloexec ? " (close-on-exec)" : "", fa->pos, fb->pos);
		}
	}
	if (a->vma_size != b->vma_size || a->n_vmas != b->n_vmas) {
		oci_fmt_size(a->vma_size, s1, sizeof(s1));
		oci_fmt_size(b->vma_size, s2, sizeof(s2));
		oci_tree_add(n, "mapped memory: %s in %zu mappings -> %s in %zu mappings", s1, a->n_vmas, s2,
			     b->n_vmas);
	}
	if (a->pm.present_pages != b->pm.present_pages) {
		oci_fmt_size(a->pm.present_pages * OCI_PAGE_SIZE, s1, sizeof(s1));
		oci_fmt_size(b->pm.present_pages * OCI_PAGE_SIZE, s2, sizeof(s2));
		oci_tree_add(n, "dumped memory: %s -> %s (%" PRIu64 " -> %" PRIu64 " pages)", s1, s2,
			     a->pm.present_pages, b->pm.present_pages);
	}
}

static void text_task_line(struct oci_tree *parent, const char *sign, const struct oc_ckpt_task *t)
{
	char sz[32];

	oci_fmt_size(t->pm.present_pages * OCI_PAGE_SIZE, sz, sizeof(sz));
	if (memory_ok(t) && t->argc) {
		_cleanup_free_ char *line = oci_join_argv(t->argv, t->argc);
		oci_tree_add(parent, "%s [%d] %s: %s (%s dumped)", sign, t->pid, t->comm, line ?: "?", sz);
	} else {
		oci_tree_add(parent, "%s [%d] %s (%s dumped)", sign, t->pid, t->comm, sz);
	}
}

static int diff_text(const struct oci_view *a, const struct oci_view *b, FILE *out)
{
	const struct oc_ckpt *ca = a->ckpt, *cb = b->ckpt;
	struct oci_tree *root = oci_tree_new("Diff %s -> %s", a->src->target, b->src->target);
	size_t changes = 0;
	int r;

	if (!root)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(meta_fields); i++) {
		const char *va = meta_get(a->meta, &meta_fields[i]), *vb = meta_get(b->meta, &meta_fields[i]);
		if (str_eq(va, vb))
			continue;
		oci_tree_add(root, "%s: %s -> %s", meta_fields[i].label, va ?: "-", vb ?: "-");
		if (strcmp(meta_fields[i].key, "checkpointed"))
			changes++;
	}
	struct oci_tree *pt = oci_tree_add(root, "Processes: %zu -> %zu", ca->n_tasks, cb->n_tasks);
	for (size_t i = 0; i < ca->n_tasks; i++)
		if (!oc_ckpt_find_task(cb, ca->tasks[i].pid)) {
			text_task_line(pt, "- removed", &ca->tasks[i]);
			changes++;
		}
	for (size_t i = 0; i < cb->n_tasks; i++)
		if (!oc_ckpt_find_task(ca, cb->tasks[i].pid)) {
			text_task_line(pt, "+ added", &cb->tasks[i]);
			changes++;
		}
	for (size_t i = 0; i < cb->n_tasks; i++) {
		const struct oc_ckpt_task *ta = oc_ckpt_find_task(ca, cb->tasks[i].pid), *tb = &cb->tasks[i];
		if (!ta)
			continue;
		if (task_changed(ta, tb)) {
			text_changed_task(pt, ta, tb);
			changes++;
		} else {
			oci_tree_add(pt, "= [%d] %s (unchanged)", tb->pid, tb->comm);
		}
	}
	oci_tree_add(root, changes ? "%zu change%s" : "No changes", changes, changes == 1 ? "" : "s");
	r = oci_tree_print(root, out);
	oci_tree_free(root);
	return r;
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_strv(struct ij_writer *w, char **v, size_t n)
{
	ij_arr_open(w);
	for (size_t i = 0; i < n; i++)
		ij_str(w, v[i]);
	ij_arr_close(w);
}

static void json_memory(struct ij_writer *w, const struct oc_ckpt_task *t)
{
	ij_obj_open(w);
	ij_kv_u64(w, "mappings", t->n_vmas);
	ij_kv_u64(w, "mapped_size", t->vma_size);
	ij_kv_u64(w, "dumped_pages", t->pm.present_pages);
	ij_kv_u64(w, "dumped_size", t->pm.present_pages * OCI_PAGE_SIZE);
	ij_obj_close(w);
}

static void json_task_brief(struct ij_writer *w, const struct oc_ckpt_task *t)
{
	ij_obj_open(w);
	ij_kv_i64(w, "pid", t->pid);
	ij_kv_i64(w, "ppid", t->ppid);
	ij_kv_str(w, "comm", t->comm);
	ij_key(w, "argv");
	if (memory_ok(t))
		json_strv(w, t->argv, t->argc);
	else
		ij_null(w);
	ij_key(w, "memory");
	json_memory(w, t);
	ij_obj_close(w);
}

static void json_ab_str(struct ij_writer *w, const char *key, const char *a, const char *b)
{
	ij_key(w, key);
	ij_obj_open(w);
	ij_kv_str(w, "a", a);
	ij_kv_str(w, "b", b);
	ij_obj_close(w);
}

static void json_ab_i64(struct ij_writer *w, const char *key, int64_t a, int64_t b)
{
	ij_key(w, key);
	ij_obj_open(w);
	ij_kv_i64(w, "a", a);
	ij_kv_i64(w, "b", b);
	ij_obj_close(w);
}

static void json_changed_task(struct ij_writer *w, const struct oc_ckpt_task *a, const struct oc_ckpt_task *b)
{
	ij_obj_open(w);
	ij_kv_i64(w, "pid", b->pid);
	ij_kv_str(w, "comm", b->comm);
	ij_key(w, "changes");
	ij_obj_open(w);
	if (strcmp(a->comm, b->comm))
		json_ab_str(w, "comm", a->comm, b->comm);
	if (a->ppid != b->ppid)
		json_ab_i64(w, "ppid", a->ppid, b->ppid);
	if (strcmp(a->state, b->state))
		json_ab_str(w, "state", a->state, b->state);
	if (a->n_threads != b->n_threads)
		json_ab_i64(w, "threads", a->n_threads, b->n_threads);
	if (!str_eq(a->exe, b->exe))
		json_ab_str(w, "exe", a->exe, b->exe);
	if (!str_eq(a->cwd, b->cwd))
		json_ab_str(w, "cwd", a->cwd, b->cwd);
	if (!str_eq(a->root, b->root))
		json_ab_str(w, "root", a->root, b->root);
	if (memory_ok(a) && memory_ok(b) && !strv_eq(a->argv, a->argc, b->argv, b->argc)) {
		ij_key(w, "argv");
		ij_obj_open(w);
		ij_key(w, "a");
		json_strv(w, a->argv, a->argc);
		ij_key(w, "b");
		json_strv(w, b->argv, b->argc);
		ij_obj_close(w);
	}
	if (env_ok(a) && env_ok(b) && !strv_eq(a->env, a->envc, b->env, b->envc)) {
		ij_key(w, "env");
		ij_obj_open(w);
		ij_key(w, "removed");
		ij_arr_open(w);
		for (size_t i = 0; i < a->envc; i++)
			if (!strv_has(b->env, b->envc, a->env[i]))
				ij_str(w, a->env[i]);
		ij_arr_close(w);
		ij_key(w, "added");
		ij_arr_open(w);
		for (size_t i = 0; i < b->envc; i++)
			if (!strv_has(a->env, a->envc, b->env[i]))
				ij_str(w, b->env[i]);
		ij_arr_close(w);
		ij_obj_close(w);
	}
	ij_obj_close(w);

	ij_key(w, "files");
	ij_obj_open(w);
	ij_key(w, "opened");
	ij_arr_open(w);
	for (size_t i = 0; i < b->n_fds; i++)
		if (!find_fd(a, b->fds[i].fd))
			oci_json_fd(w, &b->fds[i], false);
	ij_arr_close(w);
	ij_key(w, "closed");
	ij_arr_open(w);
	for (size_t i = 0; i < a->n_fds; i++)
		if (!find_fd(b, a->fds[i].fd))
			oci_json_fd(w, &a->fds[i], false);
	ij_arr_close(w);
	ij_key(w, "changed");
	ij_arr_open(w);
	for (size_t i = 0; i < b->n_fds; i++) {
		const struct oc_ckpt_fd *fa = find_fd(a, b->fds[i].fd);
		if (!fa || !fd_changed(fa, &b->fds[i]))
			continue;
		ij_obj_open(w);
		ij_kv_u64(w, "fd", b->fds[i].fd);
		ij_key(w, "a");
		oci_json_fd(w, fa, false);
		ij_key(w, "b");
		oci_json_fd(w, &b->fds[i], false);
		ij_obj_close(w);
	}
	ij_arr_close(w);
	ij_obj_close(w);

	ij_key(w, "memory");
	ij_obj_open(w);
	ij_key(w, "a");
	json_memory(w, a);
	ij_key(w, "b");
	json_memory(w, b);
	ij_obj_close(w);
	ij_obj_close(w);
}

static void json_side(struct ij_writer *w, const char *key, const struct oci_view *v)
{
	ij_key(w, key);
	ij_obj_open(w);
	ij_kv_str(w, "path", v->src->target);
	ij_kv_str(w, "checkpointed", v->meta->checkpointed);
	ij_kv_u64(w, "processes", v->ckpt->n_tasks);
	ij_obj_close(w);
}

static int diff_json(const struct oci_view *a, const struct oci_view *b, FILE *out)
{
	const struct oc_ckpt *ca = a->ckpt, *cb = b->ckpt;
	struct ij_writer *w;
	bool identical = true;
	int r;

	r = ij_writer_new(out, true, &w);
	if (r < 0)
		return r;
	ij_obj_open(w);
	ij_kv_u64(w, "schema_version", 1);
	json_side(w, "a", a);
	json_side(w, "b", b);
	ij_key(w, "container");
	ij_obj_open(w);
	for (size_t i = 0; i < ARRAY_SIZE(meta_fields); i++) {
		const char *va = meta_get(a->meta, &meta_fields[i]), *vb = meta_get(b->meta, &meta_fields[i]);
		if (str_eq(va, vb))
			continue;
		json_ab_str(w, meta_fields[i].key, va, vb);
		if (strcmp(meta_fields[i].key, "checkpointed"))
			identical = false;
	}
	ij_obj_close(w);
	ij_key(w, "processes");
	ij_obj_open(w);
	ij_key(w, "added");
	ij_arr_open(w);
	for (size_t i = 0; i < cb->n_tasks; i++)
		if (!oc_ckpt_find_task(ca, cb->tasks[i].pid)) {
			json_task_brief(w, &cb->tasks[i]);
			identical = false;
		}
	ij_arr_close(w);
	ij_key(w, "removed");
	ij_arr_open(w);
	for (size_t i = 0; i < ca->n_tasks; i++)
		if (!oc_ckpt_find_task(cb, ca->tasks[i].pid)) {
			json_task_brief(w, &ca->tasks[i]);
			identical = false;
		}
	ij_arr_close(w);
	ij_key(w, "changed");
	ij_arr_open(w);
	for (size_t i = 0; i < cb->n_tasks; i++) {
		const struct oc_ckpt_task *ta = oc_ckpt_find_task(ca, cb->tasks[i].pid);
		if (ta && task_changed(ta, &cb->tasks[i])) {
			json_changed_task(w, ta, &cb->tasks[i]);
			identical = false;
		}
	}
	ij_arr_close(w);
	ij_key(w, "unchanged");
	ij_arr_open(w);
	for (size_t i = 0; i < cb->n_tasks; i++) {
		const struct oc_ckpt_task *ta = oc_ckpt_find_task(ca, cb->tasks[i].pid);
		if (ta && !task_changed(ta, &cb->tasks[i]))
			ij_i64(w, cb->tasks[i].pid);
	}
	ij_arr_close(w);
	ij_obj_close(w);
	ij_kv_bool(w, "identical", identical);
	ij_obj_close(w);
	r = ij_writer_finish(w);
	ij_writer_free(w);
	return r;
}

int oci_diff(const struct oci_diff_opts *opts)
{
	struct oci_view_opts vo = { .sz = sizeof(vo), .memory = true };
	struct oci_view a, b;
	int r;

	r = oci_view_open(opts->a, &vo, &a);
	if (r < 0)
		return oc_error_wrap(r, "%s", opts->a);
	r = oci_view_open(opts->b, &vo, &b);
	if (r < 0) {
		oci_view_close(&a);
		return oc_error_wrap(r, "%s", opts->b);
	}
	if (opts->format == OCI_FORMAT_JSON)
		r = diff_json(&a, &b, opts->out);
	else
		r = diff_text(&a, &b, opts->out);
	oci_view_close(&b);
	oci_view_close(&a);
	return r;
}
