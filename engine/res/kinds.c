// SPDX-License-Identifier: LGPL-2.1-or-later
#include "res/kind.h"
#include "core/cleanup.h"

/*
 * The order matters only where a kind reads what an earlier one made: the
 * memory contents follow the memory map (the dump reads its VMAs).
 */
const struct oc_task_kind
	*const
		oc_task_kinds
			[] = {
				&oc_task_kind_task,    &oc_task_kind_threads,
				&oc_task_kind_seccomp, /* after threads: their credentials decide when */
				&oc_task_kind_cgroup,  /* after threads: each thread's set */
				&oc_task_kind_sigact,  &oc_task_kind_timers,
				&oc_task_kind_rlimits, &oc_task_kind_signals,
				&oc_task_kind_mm,      &oc_task_kind_pages,
				&oc_task_kind_fs,      &oc_task_kind_files,
			};

const size_t oc_n_task_kinds = ARRAY_SIZE(oc_task_kinds);
