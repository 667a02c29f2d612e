// SPDX-License-Identifier: GPL-2.0-or-later
/* `ocicr inspect`: the report, as a text tree or as JSON (docs/inspect.md). */
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

/* Bumped when a key changes meaning or goes away (adding keys does not). */
#define SCHEMA_VERSION 1

#define PROCESS_DETAILS \
	(OCI_SHOW_CMDLINE | OCI_SHOW_ENV | OCI_SHOW_FILES | OCI_SHOW_SOCKETS | OCI_SHOW_STATS | OCI_SHOW_METADATA)

static bool show_processes(unsigned show)
{
	return !show || show & (OCI_SHOW_PS_TREE | PROCESS_DETAILS);
}

static bool is_root_task(const struct oc_ckpt *c, const struct oc_ckpt_task *t)
{
	return !t->ppid || !oc_ckpt_find_task(c, t->ppid) || t->ppid == t->pid;
}

/* ---- text ---------------------------------------------------------------- */

static void text_identity(struct oci_tree *root, const struct oci_view *v)
{
	const struct oci_meta *m = v->meta;
	const struct oci_source *s = v->src;
	char buf[256], sz1[32], sz2[32];

	oci_describe_source(v, buf, sizeof(buf));
	oci_tree_add(root, "Source: %s (%s)", strcmp(s->target, "-") ? s->target : "standard input", buf);
	if (s->container) {
		const char *full = ij_get_string(m->config, "name");
		if (m->engine)
			oci_tree_add(root, "Engine: %s", m->engine);
		if (m->name)
			oci_tree_add(root, "Name: %s%s%s%s", m->name, full && strcmp(full, m->name) ? " (" : "",
				     full && strcmp(full, m->name) ? full : "",
				     full && strcmp(full, m->name) ? ")" : "");
		if (m->id)
			oci_tree_add(root, "ID: %s", m->id);
		if (m->pod_name)
			oci_tree_add(root, "Pod: %s%s%s", m->pod_name, m->pod_namespace ? " in namespace " : "",
				     m->pod_namespace ?: "");
		if (m->image)
			oci_tree_add(root, "Image: %s", m->image);
		if (m->image_id)
			oci_tree_add(root, "Image ID: %s", m->image_id);
		if (m->runtime)
			oci_tree_add(root, "Runtime: %s", m->runtime);
		if (m->created)
			oci_tree_add(root, "Created: %s", m->created);
	}
	if (m->checkpointed)
		oci_tree_add(root, "Checkpointed: %s%s", m->checkpointed,
			     !strcmp(m->checkpointed_from, "inventory.img") ? " (time stamp of inventory.img)" : "");
	for (size_t i = 0; i < m->n_ips; i++) {
		const struct oci_ip *ip = &m->ips[i];
		struct oci_tree *n =
			oci_tree_add(root, "IP: %s%s%s", ip->address, ip->interface ? " on " : "", ip->interface ?: "");
		if (ip->network)
			oci_tree_add(n, "Network: %s", ip->network);
		if (ip->gateway)
			oci_tree_add(n, "Gateway: %s", ip->gateway);
		if (ip->mac)
			oci_tree_add(n, "MAC: %s", ip->mac);
	}
	const char *host = m->hostname ?: v->ckpt->hostname;
	if (host)
		oci_tree_add(root, "Hostname: %s", host);
	oci_fmt_size(s->images_size, sz1, sizeof(sz1));
	oci_fmt_size(s->pages_size, sz2, sizeof(sz2));
	oci_tree_add(root, "Checkpoint size: %s in %" PRIu64 " images (memory pages: %s)", sz1, s->n_images, sz2);
	if (s->rootfs_diff_size >= 0) {
		oci_fmt_size(s->rootfs_diff_size, sz1, sizeof(sz1));
		oci_tree_add(root, "Root filesystem diff: %s", sz1);
	}
}

static void text_strings_list(struct oci_tree *parent, const char *title, char **v, size_t n, const char *err)
{
	if (err) {
		oci_tree_add(parent, "%s: (not available: %s)", title, err);
		return;
	}
	if (!n) {
		oci_tree_add(parent, "%s: (empty)", title);
		return;
	}
	struct oci_tree *t = oci_tree_add(parent, "%s", title);
	for (size_t i = 0; i < n; i++)
		oci_tree_add_text(t, v[i]);
}

static void text_fd(struct oci_tree *parent, const struct oc_ckpt_fd *f)
{
	char flags[256] = "", extra[128] = "";
	size_t len = 0;

	if (f->has_flags)
		oc_format_oflags(f->flags, flags, sizeof(flags));
	if (f->has_pos)
		len += snprintf(extra + len, sizeof(extra) - len, ", offset %" PRIu64, f->pos);
	if (f->cloexec && len < sizeof(extra))
		snprintf(extra + len, sizeof(extra) - len, ", close-on-exec");
	oci_tree_add(parent, "%u: %s (%s%s%s%s)", f->fd, f->path, f->type, *flags ? ", " : "", flags, extra);
}

static void text_socket(struct oci_tree *parent, const struct oc_ckpt_socket *s)
{
	char peer[48] = "";

	if (s->peer_ino)
		snprintf(peer, sizeof(peer), ", peer socket:[%u]", s->peer_ino);
	oci_tree_add(parent, "%u: %s %s %s %s%s%s%s", s->fd, s->kind, s->type, s->state,
		     *s->local ? s->local : "(unnamed)", s->remote ? " -> " : "", s->remote ?: "", peer);
}

static void text_task(struct oci_tree *parent, const struct oci_view *v, const struct oc_ckpt_task *t, unsigned show,
		      int depth)
{
	const struct oc_ckpt *c = v->ckpt;
	char extra[96] = "";
	size_t len = 0;

	if (strcmp(t->state, "alive"))
		len += snprintf(extra + len, sizeof(extra) - len, ", %s", t->state);
	if (!strcmp(t->state, "zombie"))
		len += snprintf(extra + len, sizeof(extra) - len, ", exit code %u", t->exit_code);
	if (t->n_threads > 1)
		snprintf(extra + len, sizeof(extra) - len, ", %zu threads", t->n_threads);
	struct oci_tree *n = oci_tree_add(parent, "[%d] %s%s%s%s", t->pid, t->comm, *extra ? " (" : "",
					  *extra ? extra + 2 : "", *extra ? ")" : "");

	if (show & OCI_SHOW_CMDLINE && t->has_mm) {
		if (t->argv_error) {
			oci_tree_add(n, "Command line: (not available: %s)", t->argv_error);
		} else {
			_cleanup_free_ char *line = oci_join_argv(t->argv, t->argc);
			oci_tree_add(n, "Command line: %s", line ?: "?");
		}
	}
	if (show & OCI_SHOW_ENV && t->has_mm)
		text_strings_list(n, "Environment", t->env, t->envc, t->env_error);
	if (show & OCI_SHOW_FILES) {
		if (t->exe)
			oci_tree_add(n, "Executable: %s", t->exe);
		if (t->cwd)
			oci_tree_add(n, "Working directory: %s", t->cwd);
		if (t->root)
			oci_tree_add(n, "Root: %s", t->root);
		if (t->n_fds) {
			struct oci_tree *f = oci_tree_add(n, "Open files");
			for (size_t i = 0; i < t->n_fds; i++)
				text_fd(f, &t->fds[i]);
		} else if (strcmp(t->state, "zombie")) {
			oci_tree_add(n, "Open files: none");
		}
	}
	if (show & OCI_SHOW_SOCKETS) {
		if (t->n_socks) {
			struct oci_tree *s = oci_tree_add(n, "Sockets");
			for (size_t i = 0; i < t->n_socks; i++)
				text_socket(s, &t->socks[i]);
		} else if (strcmp(t->state, "zombie")) {
			oci_tree_add(n, "Sockets: none");
		}
	}
	if (show & OCI_SHOW_STATS && t->has_mm) {
		char mapped[32], dumped[32];
		oci_fmt_size(t->vma_size, mapped, sizeof(mapped));
		oci_fmt_size(t->pm.present_pages * OCI_PAGE_SIZE, dumped, sizeof(dumped));
		oci_tree_add(n, "Memory: %s in %zu mappings, %s dumped (%" PRIu64 " pages)", mapped, t->n_vmas, dumped,
			     t->pm.present_pages);
	}
	if (show & OCI_SHOW_METADATA && t->has_creds)
		oci_tree_add(n, "Credentials: uid %u, gid %u, euid %u, egid %u", t->uid, t->gid, t->euid, t->egid);

	/* A cycle in ppids cannot recurse forever: depth is bounded by the tree size. */
	if ((size_t)depth >= c->n_tasks)
		return;
	for (size_t i = 0; i < c->n_tasks; i++)
		if (c->tasks[i].ppid == t->pid && c->tasks[i].pid != t->pid)
			text_task(n, v, &c->tasks[i], show, depth + 1);
}

static void text_mounts(struct oci_tree *root, const struct oci_view *v)
{
	const struct oci_meta *m = v->meta;
	const struct oc_ckpt *c = v->ckpt;

	if (m->n_mounts) {
		struct oci_tree *t = oci_tree_add(root, "Mounts (spec.dump)");
		for (size_t i = 0; i < m->n_mounts; i++) {
			const struct oci_mount *mt = &m->mounts[i];
			_cleanup_free_ char *opts = NULL;
			size_t len = 0;
			for (char **o = mt->options; o && *o; o++)
				len += strlen(*o) + 1;
			opts = calloc(1, len + 1);
			for (char **o = mt->options; opts && o && *o; o++) {
				if (*opts)
					strcat(opts, ",");
				strcat(opts, *o);
			}
			oci_tree_add(t, "%s (%s, source %s%s%s)", mt->destination ?: "?", mt->type ?: "?",
				     mt->source ?: "?", opts && *opts ? ", " : "", opts ?: "");
		}
	} else if (c->n_mounts) {
		struct oci_tree *t = oci_tree_add(root, "Mounts (mountpoints image)");
		for (size_t i = 0; i < c->n_mounts; i++)
			oci_tree_add(t, "%s (%s, source %s%s%s)", c->mounts[i].mountpoint, c->mounts[i].fstype,
				     c->mounts[i].source, *c->mounts[i].options ? ", " : "", c->mounts[i].options);
	} else {
		oci_tree_add(root, "Mounts: none recorded");
	}
}

static void text_stats(struct oci_tree *root, const struct oc_ckpt_stats *s)
{
	if (!s->present) {
		oci_tree_add(root, "Dump statistics: not in the checkpoint");
		return;
	}
	struct oci_tree *t = oci_tree_add(root, "Dump statistics");
	oci_tree_add(t, "Freezing time: %u us", s->freezing_time);
	oci_tree_add(t, "Frozen time: %u us", s->frozen_time);
	oci_tree_add(t, "Memory dump time: %u us", s->memdump_time);
	oci_tree_add(t, "Memory write time: %u us", s->memwrite_time);
	oci_tree_add(t, "Pages scanned: %" PRIu64, s->pages_scanned);
	oci_tree_add(t, "Pages skipped (in a parent): %" PRIu64, s->pages_skipped_parent);
	oci_tree_add(t, "Pages written: %" PRIu64, s->pages_written);
	oci_tree_add(t, "Pages lazy: %" PRIu64, s->pages_lazy);
	if (s->has_irmap_resolve)
		oci_tree_add(t, "Inotify path resolution time: %u us", s->irmap_resolve);
	if (s->has_page_pipes)
		oci_tree_add(t, "Page pipes: %" PRIu64, s->page_pipes);
	if (s->has_page_pipe_bufs)
		oci_tree_add(t, "Page pipe buffers: %" PRIu64, s->page_pipe_bufs);
	if (s->has_shpages) {
		oci_tree_add(t, "Shared pages scanned: %" PRIu64, s->shpages_scanned);
		oci_tree_add(t, "Shared pages skipped (in a parent): %" PRIu64, s->shpages_skipped_parent);
		oci_tree_add(t, "Shared pages written: %" PRIu64, s->shpages_written);
	}
}

static void text_metadata(struct oci_tree *root, const struct oci_view *v)
{
	const struct oci_meta *m = v->meta;
	const struct oci_source *s = v->src;
	struct oci_tree *t = oci_tree_add(root, "Metadata");
	const ij_node *ann = ij_get(m->spec, "annotations");
	const ij_node *args = ij_path(m->spec, "process", "args", NULL);

	if (s->kind == OCI_TARGET_ARCHIVE)
		oci_tree_add(t, "Archive: %" PRIu64 " members, compression %s", s->n_members, s->compression ?: "none");
	oci_tree_add(t, "Image format version: %u", v->ckpt->img_version);
	if (ij_len(args)) {
		_cleanup_free_ char **av = calloc(ij_len(args) + 1, sizeof(char *));
		size_t n = 0;
		for (size_t i = 0; av && i < ij_len(args); i++)
			if (ij_string(ij_at(args, i)))
				av[n++] = (char *)ij_string(ij_at(args, i));
		_cleanup_free_ char *line = av ? oci_join_argv(av, n) : NULL;
		oci_tree_add(t, "Container command (spec.dump): %s", line ?: "?");
	}
	if (ij_len(ann)) {
		struct oci_tree *a = oci_tree_add(t, "Annotations");
		for (size_t i = 0; i < ij_len(ann); i++)
			oci_tree_add(a, "%s=%s", ij_key_at(ann, i), ij_string(ij_at(ann, i)) ?: "(not a string)");
	}
	if (ij_is_true(ij_get(m->config, "restored")))
		oci_tree_add(t, "Restored: yes");
	if (m->deleted_files) {
		struct oci_tree *d = oci_tree_add(t, "Deleted files: %zu", m->n_deleted_files);
		for (size_t i = 0; i < m->n_deleted_files; i++)
			oci_tree_add_text(d, m->deleted_files[i]);
	}
	if (s->rootfs_diff_size >= 0 && (s->n_rootfs_changes || s->rootfs_list_error)) {
		struct oci_tree *d =
			oci_tree_add(t, "Root filesystem changes (rootfs-diff.tar): %zu", s->n_rootfs_changes);
		for (size_t i = 0; i < s->n_rootfs_changes; i++) {
			const struct oci_rootfs_change *ch = &s->rootfs_changes[i];
			if (ch->type == 'f')
				oci_tree_add(d, "%s (%" PRIu64 " bytes)", ch->path, ch->size);
			else
				oci_tree_add(d, "%s%s", ch->path,
					     ch->type == 'd'   ? "/"
					     : ch->type == 'l' ? " (link)"
							       : "");
		}
		if (s->rootfs_list_error)
			oci_tree_add(d, "(listing incomplete: %s)", s->rootfs_list_error);
	}
}

static int report_text(const struct oci_view *v, unsigned show, FILE *out)
{
	const struct oc_ckpt *c = v->ckpt;
	struct oci_tree *root;
	int r;

	if (v->src->container && v->meta->name)
		root = oci_tree_new("Container %s", v->meta->name);
	else
		root = oci_tree_new("Checkpoint %s", v->src->target);
	if (!root)
		return -ENOMEM;
	text_identity(root, v);
	if (show_processes(show)) {
		struct oci_tree *pt =
			oci_tree_add(root, "Process tree (%zu process%s)", c->n_tasks, c->n_tasks == 1 ? "" : "es");
		for (size_t i = 0; i < c->n_tasks; i++)
			if (is_root_task(c, &c->tasks[i]))
				text_task(pt, v, &c->tasks[i], show, 0);
	}
	if (show & OCI_SHOW_MOUNTS)
		text_mounts(root, v);
	if (show & OCI_SHOW_STATS)
		text_stats(root, &c->stats);
	if (show & OCI_SHOW_METADATA)
		text_metadata(root, v);
	r = oci_tree_print(root, out);
	oci_tree_free(root);
	return r;
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_strv(struct ij_writer *w, const char *key, char **v, size_t n, bool valid)
{
	ij_key(w, key);
	if (!valid) {
		ij_null(w);
		return;
	}
	ij_arr_open(w);
	for (size_t i = 0; i < n; i++)
		ij_str(w, v[i]);
	ij_arr_close(w);
}

static void json_target(struct ij_writer *w, const struct oci_view *v)
{
	const struct oci_source *s = v->src;

	ij_key(w, "target");
	ij_obj_open(w);
	ij_kv_str(w, "path", s->target);
	ij_kv_str(w, "kind",
		  s->kind == OCI_TARGET_ARCHIVE		 ? "archive"
		  : s->kind == OCI_TARGET_CHECKPOINT_DIR ? "checkpoint-directory"
							 : "images-directory");
	ij_kv_str(w, "compression", s->kind == OCI_TARGET_ARCHIVE ? s->compression : NULL);
	ij_kv_bool(w, "container", s->container);
	ij_obj_close(w);
}

static void json_container(struct ij_writer *w, const struct oci_view *v)
{
	const struct oci_meta *m = v->meta;

	ij_key(w, "container");
	if (!v->src->container) {
		ij_null(w);
		return;
	}
	ij_obj_open(w);
	ij_kv_str(w, "engine", m->engine);
	ij_kv_str(w, "name", m->name);
	ij_kv_str(w, "id", m->id);
	ij_kv_str(w, "image", m->image);
	ij_kv_str(w, "image_id", m->image_id);
	ij_kv_str(w, "runtime", m->runtime);
	ij_kv_str(w, "created", m->created);
	ij_kv_str(w, "pod_name", m->pod_name);
	ij_kv_str(w, "pod_namespace", m->pod_namespace);
	ij_kv_str(w, "hostname", m->hostname);
	ij_key(w, "ips");
	ij_arr_open(w);
	for (size_t i = 0; i < m->n_ips; i++) {
		ij_obj_open(w);
		ij_kv_str(w, "address", m->ips[i].address);
		ij_kv_str(w, "interface", m->ips[i].interface);
		ij_kv_str(w, "network", m->ips[i].network);
		ij_kv_str(w, "gateway", m->ips[i].gateway);
		ij_kv_str(w, "mac", m->ips[i].mac);
		ij_obj_close(w);
	}
	ij_arr_close(w);
	ij_obj_close(w);
}

static void json_checkpoint(struct ij_writer *w, const struct oci_view *v)
{
	const struct oci_source *s = v->src;

	ij_key(w, "checkpoint");
	ij_obj_open(w);
	ij_kv_str(w, "checkpointed", v->meta->checkpointed);
	ij_kv_str(w, "checkpointed_from", v->meta->checkpointed ? v->meta->checkpointed_from : NULL);
	ij_kv_u64(w, "img_version", v->ckpt->img_version);
	ij_kv_str(w, "hostname", v->ckpt->hostname);
	ij_kv_u64(w, "images", s->n_images);
	ij_kv_u64(w, "images_size", s->images_size);
	ij_kv_u64(w, "pages_size", s->pages_size);
	ij_key(w, "rootfs_diff_size");
	if (s->rootfs_diff_size >= 0)
		ij_u64(w, s->rootfs_diff_size);
	else
		ij_null(w);
	ij_kv_u64(w, "processes", v->ckpt->n_tasks);
	ij_obj_close(w);
}

static void json_task(struct ij_writer *w, const struct oc_ckpt_task *t, unsigned show)
{
	ij_obj_open(w);
	ij_kv_i64(w, "pid", t->pid);
	ij_kv_i64(w, "ppid", t->ppid);
	ij_kv_i64(w, "pgid", t->pgid);
	ij_kv_i64(w, "sid", t->sid);
	ij_kv_str(w, "comm", t->comm);
	ij_kv_str(w, "state", t->state);
	ij_key(w, "exit_code");
	if (!strcmp(t->state, "zombie"))
		ij_u64(w, t->exit_code);
	else
		ij_null(w);
	ij_key(w, "threads");
	ij_arr_open(w);
	for (size_t i = 0; i < t->n_threads; i++)
		ij_u64(w, t->threads[i]);
	ij_arr_close(w);
	ij_key(w, "creds");
	if (t->has_creds) {
		ij_obj_open(w);
		ij_kv_u64(w, "uid", t->uid);
		ij_kv_u64(w, "gid", t->gid);
		ij_kv_u64(w, "euid", t->euid);
		ij_kv_u64(w, "egid", t->egid);
		ij_obj_close(w);
	} else {
		ij_null(w);
	}
	if (show & OCI_SHOW_CMDLINE) {
		json_strv(w, "argv", t->argv, t->argc, t->has_mm && !t->argv_error);
		ij_kv_str(w, "argv_error", t->has_mm ? t->argv_error : "no memory (zombie or kernel task)");
	}
	if (show & OCI_SHOW_ENV) {
		json_strv(w, "env", t->env, t->envc, t->has_mm && !t->env_error);
		ij_kv_str(w, "env_error", t->has_mm ? t->env_error : "no memory (zombie or kernel task)");
	}
	if (show & OCI_SHOW_FILES) {
		ij_kv_str(w, "exe", t->exe);
		ij_kv_str(w, "cwd", t->cwd);
		ij_kv_str(w, "root", t->root);
		ij_key(w, "files");
		ij_arr_open(w);
		for (size_t i = 0; i < t->n_fds; i++)
			oci_json_fd(w, &t->fds[i], true);
		ij_arr_close(w);
	}
	if (show & OCI_SHOW_SOCKETS) {
		ij_key(w, "sockets");
		ij_arr_open(w);
		for (size_t i = 0; i < t->n_socks; i++) {
			const struct oc_ckpt_socket *s = &t->socks[i];
			ij_obj_open(w);
			ij_kv_u64(w, "fd", s->fd);
			ij_kv_str(w, "kind", s->kind);
			ij_kv_str(w, "type", s->type);
			ij_kv_str(w, "state", s->state);
			ij_kv_str(w, "local", s->local);
			ij_kv_str(w, "remote", s->remote);
			ij_kv_u64(w, "inode", s->ino);
			ij_key(w, "peer_inode");
			if (s->peer_ino)
				ij_u64(w, s->peer_ino);
			else
				ij_null(w);
			ij_obj_close(w);
		}
		ij_arr_close(w);
	}
	if (show & OCI_SHOW_STATS) {
		ij_key(w, "memory");
		if (t->has_mm) {
			ij_obj_open(w);
			ij_kv_u64(w, "mappings", t->n_vmas);
			ij_kv_u64(w, "mapped_size", t->vma_size);
			ij_kv_u64(w, "dumped_pages", t->pm.present_pages);
			ij_kv_u64(w, "dumped_size", t->pm.present_pages * OCI_PAGE_SIZE);
			ij_kv_u64(w, "parent_pages", t->pm.parent_pages);
			ij_kv_u64(w, "lazy_pages", t->pm.lazy_pages);
			ij_obj_close(w);
		} else {
			ij_null(w);
		}
	}
	ij_obj_close(w);
}

static void json_mounts(struct ij_writer *w, const struct oci_view *v)
{
	const struct oci_meta *m = v->meta;
	const struct oc_ckpt *c = v->ckpt;

	ij_kv_str(w, "mounts_from", m->n_mounts ? "spec.dump" : c->n_mounts ? "images" : NULL);
	ij_key(w, "mounts");
	ij_arr_open(w);
	for (size_t i = 0; i < m->n_mounts; i++) {
		ij_obj_open(w);
		ij_kv_str(w, "destination", m->mounts[i].destination);
		ij_kv_str(w, "type", m->mounts[i].type);
		ij_kv_str(w, "source", m->mounts[i].source);
		ij_key(w, "options");
		ij_arr_open(w);
		for (char **o = m->mounts[i].options; o && *o; o++)
			ij_str(w, *o);
		ij_arr_close(w);
		ij_obj_close(w);
	}
	for (size_t i = 0; !m->n_mounts && i < c->n_mounts; i++) {
		ij_obj_open(w);
		ij_kv_str(w, "destination", c->mounts[i].mountpoint);
		ij_kv_str(w, "type", c->mounts[i].fstype);
		ij_kv_str(w, "source", c->mounts[i].source);
		ij_key(w, "options");
		ij_arr_open(w);
		/* one string in the image: split on commas */
		const char *o = c->mounts[i].options;
		while (o && *o) {
			size_t l = strcspn(o, ",");
			if (l)
				ij_strn(w, o, l);
			o += l + (o[l] == ',');
		}
		ij_arr_close(w);
		ij_obj_close(w);
	}
	ij_arr_close(w);
}

static void json_stats(struct ij_writer *w, const struct oc_ckpt_stats *s)
{
	ij_key(w, "stats");
	if (!s->present) {
		ij_null(w);
		return;
	}
	ij_obj_open(w);
	ij_kv_u64(w, "freezing_time", s->freezing_time);
	ij_kv_u64(w, "frozen_time", s->frozen_time);
	ij_kv_u64(w, "memdump_time", s->memdump_time);
	ij_kv_u64(w, "memwrite_time", s->memwrite_time);
	ij_kv_u64(w, "pages_scanned", s->pages_scanned);
	ij_kv_u64(w, "pages_skipped_parent", s->pages_skipped_parent);
	ij_kv_u64(w, "pages_written", s->pages_written);
	ij_kv_u64(w, "pages_lazy", s->pages_lazy);
#define OPT_U64(key, has, val)          \
	do {                            \
		ij_key(w, key);         \
		if (has)                \
			ij_u64(w, val); \
		else                    \
			ij_null(w);     \
	} while (0)
	OPT_U64("irmap_resolve", s->has_irmap_resolve, s->irmap_resolve);
	OPT_U64("page_pipes", s->has_page_pipes, s->page_pipes);
	OPT_U64("page_pipe_bufs", s->has_page_pipe_bufs, s->page_pipe_bufs);
	OPT_U64("shpages_scanned", s->has_shpages, s->shpages_scanned);
	OPT_U64("shpages_skipped_parent", s->has_shpages, s->shpages_skipped_parent);
	OPT_U64("shpages_written", s->has_shpages, s->shpages_written);
#undef OPT_U64
	ij_obj_close(w);
}

static void json_metadata(struct ij_writer *w, const struct oci_view *v)
{
	const struct oci_meta *m = v->meta;
	const struct oci_source *s = v->src;
	const ij_node *ann = ij_get(m->spec, "annotations");
	const ij_node *args = ij_path(m->spec, "process", "args", NULL);

	ij_key(w, "metadata");
	ij_obj_open(w);
	ij_key(w, "archive_members");
	if (s->kind == OCI_TARGET_ARCHIVE)
		ij_u64(w, s->n_members);
	else
		ij_null(w);
	ij_key(w, "annotations");
	ij_obj_open(w);
	for (size_t i = 0; i < ij_len(ann) && ij_is_object(ann); i++) {
		ij_key(w, ij_key_at(ann, i));
		ij_str(w, ij_string(ij_at(ann, i)));
	}
	ij_obj_close(w);
	ij_key(w, "spec_args");
	if (ij_is_array(args)) {
		ij_arr_open(w);
		for (size_t i = 0; i < ij_len(args); i++)
			ij_str(w, ij_string(ij_at(args, i)));
		ij_arr_close(w);
	} else {
		ij_null(w);
	}
	ij_kv_bool(w, "restored", ij_is_true(ij_get(m->config, "restored")));
	json_strv(w, "deleted_files", m->deleted_files, m->n_deleted_files, m->deleted_files != NULL);
	ij_key(w, "rootfs_changes");
	if (s->rootfs_diff_size >= 0 && s->kind == OCI_TARGET_ARCHIVE) {
		ij_arr_open(w);
		for (size_t i = 0; i < s->n_rootfs_changes; i++) {
			const struct oci_rootfs_change *ch = &s->rootfs_changes[i];
			char type[2] = { ch->type, 0 };
			ij_obj_open(w);
			ij_kv_str(w, "path", ch->path);
			ij_kv_str(w, "type", type);
			ij_kv_u64(w, "size", ch->size);
			ij_obj_close(w);
		}
		ij_arr_close(w);
	} else {
		ij_null(w);
	}
	ij_kv_str(w, "rootfs_changes_error", s->rootfs_list_error);
	ij_obj_close(w);
}

static int report_json(const struct oci_view *v, unsigned show, FILE *out)
{
	const struct oc_ckpt *c = v->ckpt;
	struct ij_writer *w;
	int r;

	r = ij_writer_new(out, true, &w);
	if (r < 0)
		return r;
	ij_obj_open(w);
	ij_kv_u64(w, "schema_version", SCHEMA_VERSION);
	json_target(w, v);
	json_container(w, v);
	json_checkpoint(w, v);
	if (show_processes(show)) {
		ij_key(w, "processes");
		ij_arr_open(w);
		for (size_t i = 0; i < c->n_tasks; i++)
			json_task(w, &c->tasks[i], show);
		ij_arr_close(w);
	}
	if (show & OCI_SHOW_MOUNTS)
		json_mounts(w, v);
	if (show & OCI_SHOW_STATS)
		json_stats(w, &c->stats);
	if (show & OCI_SHOW_METADATA)
		json_metadata(w, v);
	ij_obj_close(w);
	r = ij_writer_finish(w);
	ij_writer_free(w);
	return r;
}

int oci_inspect(const struct oci_inspect_opts *opts)
{
	struct oci_view_opts vo = {
		.sz = sizeof(vo),
		.memory = opts->show & (OCI_SHOW_CMDLINE | OCI_SHOW_ENV),
		.rootfs_list = opts->show & OCI_SHOW_METADATA,
	};
	struct oci_view v;
	int r;

	r = oci_view_open(opts->target, &vo, &v);
	if (r < 0)
		return r;
	if (opts->format == OCI_FORMAT_JSON)
		r = report_json(&v, opts->show, opts->out);
	else
		r = report_text(&v, opts->show, opts->out);
	oci_view_close(&v);
	return r;
}
