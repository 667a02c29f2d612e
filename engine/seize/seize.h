/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Freezing a process tree with ptrace and letting it go again.
 *
 * Every thread of every task under the root is PTRACE_SEIZEd and
 * PTRACE_INTERRUPTed; the walk repeats until a pass finds no new task or
 * thread, so tasks forked or threads cloned while freezing are caught.
 */
#ifndef OCICR_SEIZE_H
#define OCICR_SEIZE_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/user.h>

enum oc_task_state {
	OC_TASK_ALIVE = 1, /* CRIU's TASK_ALIVE */
	OC_TASK_DEAD = 2,  /* zombie */
	OC_TASK_STOPPED = 3,
};

struct oc_seized_thread {
	pid_t tid;
	bool seized;
	bool dying; /* killed by the release: its end is ours to take */
	/* SIGSTOPs our remote calls held back: sent again on release. */
	unsigned stops_held;
	/* Registers as found at the stop, before any syscall fixup. */
	struct user_regs_struct regs;
};

struct oc_seized_task {
	pid_t pid;
	pid_t ppid;
	enum oc_task_state state;
	int stop_signo;	 /* for OC_TASK_STOPPED: the signal that stopped it */
	int exit_status; /* for OC_TASK_DEAD: wait status */
	struct oc_seized_thread *threads;
	size_t n_threads;
	size_t parent; /* index of the parent in the tree (root: itself) */
};

struct oc_seized_tree {
	struct oc_seized_task *tasks; /* parents before children; [0] is the root */
	size_t n_tasks;
};

/* Freeze the tree rooted at @root (with @tree_walk false, only its threads). */
int oc_seize_tree(pid_t root, bool tree_walk, struct oc_seized_tree *ret_tree);

/* Which thread of which task, or NULL. */
struct oc_seized_thread *oc_seized_find_thread(struct oc_seized_tree *tree, pid_t tid);

enum oc_release_mode {
	OC_RELEASE_RESUME, /* detach: every task runs on as it was */
	OC_RELEASE_KILL,   /* SIGKILL every task, detach, and take their ends */
	OC_RELEASE_STOP,   /* SIGSTOP every task, then detach: it stays stopped */
};

/* Let the tree go; safe to call on a partly seized tree. */
void oc_release_tree(struct oc_seized_tree *tree, enum oc_release_mode mode);

void oc_seized_tree_free(struct oc_seized_tree *tree);

/*
 * Where thread @tid stands for PTRACE_SEIZE.  Attached in a group stop
 * (SIGSTOP...), a thread is kicked to move to a ptrace stop and the attach
 * waits in the kernel, killable only, until it has: frozen by a v1
 * freezer cgroup, it never does, and the attach never returns.
 */
enum oc_seize_wait {
	OC_SEIZE_AT_ONCE,	 /* running, sleeping, or gone */
	OC_SEIZE_STOPPED,	 /* in a group stop: the attach waits for it to move */
	OC_SEIZE_STOPPED_FROZEN, /* and frozen: the attach would wait until thawed */
};
enum oc_seize_wait oc_seize_wait_of(pid_t tid);

/* Wait for @tid to report its ptrace stop; returns the wait status. */
int oc_wait_stop(pid_t tid, int *ret_status);

/*
 * Bound the waits of oc_wait_stop() in this thread to @seconds from now
 * (CRIU's --timeout on freezing); 0 lifts the bound.
 */
void oc_seize_set_timeout(unsigned seconds);

/*
 * Threads this thread already seized and interrupted (through the freezer
 * cgroup, res/cgroup/cgroup.c): oc_seize_tree() takes them as they are, waiting
 * for their stop.  NULL lifts it; the array must outlive the seize.
 */
void oc_seize_set_preseized(const pid_t *tids, size_t n);

#endif
