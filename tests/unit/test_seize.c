// SPDX-License-Identifier: LGPL-2.1-or-later
/* Freezing and letting go of a real tree: one that is killed is collected
 * by the release itself, so no task of it stays a zombie traced by us
 * (its parent could not reap it, a pid namespace's init could not die). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "seize/seize.h"

static pid_t thread_tid;

static void *idle(void *arg)
{
	(void)arg;
	thread_tid = syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

/* Our child: a thread and a child of its own, whose ids it sends on @fd. */
static void __attribute__((noreturn)) tree_root(int fd)
{
	pthread_t t;
	pid_t ids[2];

	if (pthread_create(&t, NULL, idle, NULL) != 0)
		_exit(1);
	while (!__atomic_load_n(&thread_tid, __ATOMIC_SEQ_CST))
		usleep(1000);
	ids[0] = thread_tid;
	ids[1] = fork();
	if (ids[1] == 0)
		for (;;)
			pause();
	if (write(fd, ids, sizeof(ids)) != sizeof(ids))
		_exit(1);
	for (;;)
		pause();
}

/* The TracerPid of @tid, 0 if it has none, -1 if it is gone. */
static int tracer_of(pid_t tid)
{
	char path[64], line[128];
	int tracer = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	if (f)
		fclose(f);
	return tracer;
}

static void test_killed_tree_is_collected(void **state)
{
	struct oc_seized_tree tree;
	pid_t ids[2], root;
	int fds[2], st;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	root = fork();
	assert_true(root >= 0);
	if (root == 0)
		tree_root(fds[1]);
	assert_int_equal(read(fds[0], ids, sizeof(ids)), sizeof(ids));
	close(fds[0]);
	close(fds[1]);

	assert_int_equal(oc_seize_tree(root, true, &tree), 0);
	assert_int_equal(tree.n_tasks, 2);
	oc_release_tree(&tree, OC_RELEASE_KILL);
	/* the thread and the grandchild are no zombies of ours */
	assert_true(tracer_of(ids[0]) <= 0);
	assert_true(tracer_of(ids[1]) <= 0);
	/* our own child is left for us to wait for, killed */
	assert_int_equal(waitpid(root, &st, WNOHANG), root);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	oc_seized_tree_free(&tree);
}

/* A task in a group stop is one the attach waits for; a sleeping one is not. */
static void test_stopped_task_is_told_apart(void **state)
{
	pid_t sleeper, stopper;
	int st;

	(void)state;
	sleeper = fork();
	assert_true(sleeper >= 0);
	if (sleeper == 0)
		for (;;)
			pause();
	stopper = fork();
	assert_true(stopper >= 0);
	if (stopper == 0) {
		raise(SIGSTOP);
		_exit(0);
	}
	assert_int_equal(waitpid(stopper, &st, WUNTRACED), stopper);
	assert_true(WIFSTOPPED(st));
	assert_int_equal(oc_seize_wait_of(stopper), OC_SEIZE_STOPPED);
	for (int i = 0; i < 2000 && oc_seize_wait_of(sleeper) != OC_SEIZE_AT_ONCE; i++)
		usleep(1000);
	assert_int_equal(oc_seize_wait_of(sleeper), OC_SEIZE_AT_ONCE);
	kill(sleeper, SIGKILL);
	kill(stopper, SIGKILL);
	assert_int_equal(waitpid(sleeper, NULL, 0), sleeper);
	assert_int_equal(waitpid(stopper, NULL, 0), stopper);
	/* gone: nothing to wait for */
	assert_int_equal(oc_seize_wait_of(stopper), OC_SEIZE_AT_ONCE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_killed_tree_is_collected),
		cmocka_unit_test(test_stopped_task_is_told_apart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
