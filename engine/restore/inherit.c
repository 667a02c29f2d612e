// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The caller's descriptors that stand in for resources external at dump
 * (CRIU's --inherit-fd fd[N]:KEY): one table of keys, looked up by every
 * module that restores something that can be external.  Each must be
 * taken by something, so a key mistyped (or an image without it) fails
 * the restore instead of leaving the descriptor unused.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "restore/restore.h"
#include "core/error.h"
#include "core/log.h"

int oc_rst_inherit_begin(struct oc_rst_ctx *ctx)
{
	const struct oc_restore_opts *o = ctx->opts;

	for (size_t i = 0; i < o->n_inherit_fds; i++) {
		const struct oc_inherit_fd *in = &o->inherit_fds[i];

		if (!in->key || !in->key[0])
			return oc_error(-EINVAL, "inherited fd %d has no key", in->fd);
		if (in->fd < 0 || fcntl(in->fd, F_GETFD) < 0)
			return oc_error(-EBADF, "inherited fd %d (%s) is not open", in->fd, in->key);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(o->inherit_fds[j].key, in->key))
				return oc_error(-EINVAL, "%s is inherited twice (fds %d and %d)", in->key,
						o->inherit_fds[j].fd, in->fd);
	}
	ctx->inherit_used = calloc(o->n_inherit_fds ? o->n_inherit_fds : 1, sizeof(bool));
	return ctx->inherit_used ? 0 : -ENOMEM;
}

int oc_rst_inherited_fd(struct oc_rst_ctx *ctx, const char *key)
{
	const struct oc_restore_opts *o = ctx->opts;

	for (size_t i = 0; i < o->n_inherit_fds; i++)
		if (!strcmp(o->inherit_fds[i].key, key)) {
			if (ctx->inherit_used)
				ctx->inherit_used[i] = true;
			pr_info("%s comes from inherited fd %d", key, o->inherit_fds[i].fd);
			return o->inherit_fds[i].fd;
		}
	return -ENOENT;
}

int oc_rst_inherit_check_used(struct oc_rst_ctx *ctx)
{
	const struct oc_restore_opts *o = ctx->opts;

	for (size_t i = 0; i < o->n_inherit_fds; i++)
		if (!ctx->inherit_used || !ctx->inherit_used[i])
			return oc_error(-ENOENT, "--inherit-fd fd[%d]:%s: nothing in the images is %s",
					o->inherit_fds[i].fd, o->inherit_fds[i].key, o->inherit_fds[i].key);
	return 0;
}
