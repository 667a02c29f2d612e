// SPDX-License-Identifier: LGPL-2.1-or-later
/* The fs struct: working directory, root and umask. */
#include <stdio.h>

#include "res/kind.h"
#include "core/error.h"

int oc_dump_fs(struct oc_dump_task *t)
{
	FsEntry *fs = OC_ARENA_MSG(t->ctx->arena, FsEntry, FS_ENTRY__INIT);
	char path[64];
	int r;

	if (!fs)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/cwd", t->pid);
	r = oc_dump_path_file(t, path, -1, &fs->cwd_id);
	if (r < 0)
		return oc_error_wrap(r, "working directory");
	snprintf(path, sizeof(path), "/proc/%d/root", t->pid);
	r = oc_dump_path_file(t, path, -1, &fs->root_id);
	if (r < 0)
		return oc_error_wrap(r, "root directory");
	if (t->status.has_umask) {
		fs->has_umask = true;
		fs->umask = t->status.umask;
	}
	t->fs = fs;
	return 0;
}

/* Restored by the agent's fs step (restore/agent.c), not the blob. */
const struct oc_task_kind oc_task_kind_fs = {
	.name = "cwd and root",
	.dump = oc_dump_fs,
	.plan_steps = OC_STEP_BIT(OC_STEP_FS),
	.plan_task = oc_fs_plan,
};
