// SPDX-License-Identifier: GPL-2.0-or-later
/* CRIU's action scripts, run at the engine's notify points. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hooks/action_script.h"

int action_scripts_init(struct action_scripts *as, char *const *paths, size_t n, const char *images_dir, int out_fd)
{
	*as = (struct action_scripts){ .paths = paths, .n = n, .images_dir_fd = -1, .out_fd = out_fd };
	if (!n)
		return 0;
	as->images_dir_fd = open(images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (as->images_dir_fd < 0)
		return oc_error_errno(-errno, "action scripts: cannot open %s", images_dir);
	return 0;
}

void action_scripts_fini(struct action_scripts *as)
{
	if (as->images_dir_fd >= 0)
		close(as->images_dir_fd);
	as->images_dir_fd = -1;
}

/* In the child: the environment and descriptors CRIU gives a script. */
static __attribute__((noreturn)) void exec_script(const struct action_scripts *as, const char *path, const char *action)
{
	char buf[64];
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL); /* a dump's worker ignores it */
	setenv("CRTOOLS_SCRIPT_ACTION", action, 1);
	snprintf(buf, sizeof(buf), "/proc/%d/fd/%d", (int)getppid(), as->images_dir_fd);
	setenv("CRTOOLS_IMAGE_DIR", buf, 1);
	if (as->init_pid > 0) {
		snprintf(buf, sizeof(buf), "%d", (int)as->init_pid);
		setenv("CRTOOLS_INIT_PID", buf, 1);
	}
	if (as->out_fd >= 0 && (dup2(as->out_fd, STDOUT_FILENO) < 0 || dup2(as->out_fd, STDERR_FILENO) < 0))
		_exit(127);
	close(STDIN_FILENO);
	execl(path, path, (char *)NULL);
	dprintf(STDERR_FILENO, "cannot run action script %s: %m\n", path);
	_exit(127);
}

static int run_one(const struct action_scripts *as, const char *path, const char *action)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return oc_error_errno(-errno, "cannot start action script %s", path);
	if (pid == 0)
		exec_script(as, path, action);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return oc_error_errno(-errno, "waiting for action script %s", path);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		return oc_error(-ECANCELED, "action script %s exited with status %d", path, WEXITSTATUS(st));
	return oc_error(-ECANCELED, "action script %s was killed by signal %d", path, WTERMSIG(st));
}

int action_scripts_notify(const struct oc_notify *n, void *data)
{
	struct action_scripts *as = data;
	int r = 0;

	/* Once known, the root's pid stays in the environment, as with CRIU. */
	if (n->pid > 0)
		as->init_pid = n->pid;
	oc_log(OC_LOG_DEBUG, "running %zu action script(s) for %s", as->n, n->action);
	/* Every script runs; the last one given goes first, as in CRIU. */
	for (size_t i = as->n; i-- > 0;) {
		int one = run_one(as, as->paths[i], n->action);
		if (one < 0) {
			oc_log(OC_LOG_ERROR, "%s", oc_error_message());
			if (!r)
				r = one;
		}
	}
	return r;
}
