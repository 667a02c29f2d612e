/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A process tree of every shape restore must rebuild: a child leading its
 * own process group with a thread and a grandchild, a child that made its
 * own session, a zombie that exited with a status and one killed by a
 * signal, a stopped child, and an orphan reparented to the root (a
 * subreaper).  After restore the root checks pids, parents, groups,
 * sessions, thread counts, stop state and the zombies' statuses.
 */
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "wl.h"

enum { A, A1, B, ZEXIT, ZSIG, STOPPED, ORPHAN, N_KIDS };
static const char *const names[N_KIDS] = { "group leader",  "grandchild",    "session leader", "exited zombie",
					   "killed zombie", "stopped child", "orphan" };

struct expect {
	pid_t pid, ppid, pgid, sid;
};

static void sleep_forever(void)
{
	for (;;)
		pause();
}

static void *spin(void *arg)
{
	volatile unsigned long *n = arg;
	for (;;) {
		(*n)++;
		wl_sleep_us(1000);
	}
	return NULL;
}

static int count_threads(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	ssize_t n = wl_read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *t = strstr(buf, "Threads:");
	return t ? atoi(t + 8) : -1;
}

int main(int argc, char **argv)
{
	struct expect kid[N_KIDS];
	pid_t root = getpid();
	int sync[2];

	wl_init(argc, argv);
	WL_SETUP(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "subreaper");
	WL_SETUP(pipe(sync) == 0, "pipe");

	/* A: its own group, a thread, and a grandchild in that group. */
	pid_t a = fork();
	if (a == 0) {
		static volatile unsigned long ticks;
		pthread_t th;
		setpgid(0, 0);
		pthread_create(&th, NULL, spin, (void *)&ticks);
		pid_t a1 = fork();
		if (a1 == 0)
			sleep_forever();
		if (write(sync[1], &a1, sizeof(a1)) != sizeof(a1))
			_exit(3);
		sleep_forever();
	}
	setpgid(a, a);
	pid_t a1;
	WL_SETUP(read(sync[0], &a1, sizeof(a1)) == sizeof(a1), "grandchild pid");

	pid_t b = fork();
	if (b == 0) {
		setsid();
		sleep_forever();
	}
	pid_t zexit = fork();
	if (zexit == 0)
		_exit(7);
	pid_t zsig = fork();
	if (zsig == 0) {
		signal(SIGTERM, SIG_DFL);
		kill(getpid(), SIGTERM);
		_exit(1);
	}
	pid_t stopped = fork();
	if (stopped == 0) {
		raise(SIGSTOP);
		sleep_forever();
	}
	/* The orphan: a child whose parent exits; we adopt it. */
	pid_t mid = fork();
	if (mid == 0) {
		pid_t o = fork();
		if (o == 0)
			sleep_forever();
		if (write(sync[1], &o, sizeof(o)) != sizeof(o))
			_exit(3);
		_exit(0);
	}
	pid_t orphan;
	WL_SETUP(read(sync[0], &orphan, sizeof(orphan)) == sizeof(orphan), "orphan pid");
	WL_SETUP(waitpid(mid, NULL, 0) == mid, "reap the orphan's parent");
	close(sync[0]);
	close(sync[1]);

	/* Wait until everything is in the state to be checkpointed. */
	WL_SETUP(WL_WAIT_FOR(wl_proc_state(stopped, NULL) == 'T', 5000), "child stopped");
	WL_SETUP(WL_WAIT_FOR(wl_proc_state(zexit, NULL) == 'Z' && wl_proc_state(zsig, NULL) == 'Z', 5000), "zombies");
	WL_SETUP(WL_WAIT_FOR(getsid(b) == b && count_threads(a) == 2, 5000), "session and thread");
	pid_t pids[N_KIDS] = { a, a1, b, zexit, zsig, stopped, orphan };
	for (int i = 0; i < N_KIDS; i++) {
		kid[i].pid = pids[i];
		wl_proc_state(pids[i], &kid[i].ppid);
		kid[i].pgid = getpgid(pids[i]);
		kid[i].sid = getsid(pids[i]);
	}
	WL_SETUP(kid[ORPHAN].ppid == root, "orphan adopted");

	wl_ready();
	wl_wait();

	for (int i = 0; i < N_KIDS; i++) {
		pid_t ppid = 0;
		char st = wl_proc_state(kid[i].pid, &ppid);
		WL_CHECK(st != '?', "%s %d is gone", names[i], kid[i].pid);
		WL_CHECK(ppid == kid[i].ppid, "%s %d has parent %d, not %d", names[i], kid[i].pid, ppid, kid[i].ppid);
		WL_CHECK(getpgid(kid[i].pid) == kid[i].pgid, "%s %d is in group %d, not %d", names[i], kid[i].pid,
			 getpgid(kid[i].pid), kid[i].pgid);
		WL_CHECK(getsid(kid[i].pid) == kid[i].sid, "%s %d is in session %d, not %d", names[i], kid[i].pid,
			 getsid(kid[i].pid), kid[i].sid);
	}
	WL_CHECK(count_threads(a) == 2, "group leader has %d threads, not 2", count_threads(a));
	WL_CHECK(wl_proc_state(stopped, NULL) == 'T', "stopped child is '%c', not stopped",
		 wl_proc_state(stopped, NULL));
	WL_CHECK(wl_proc_state(zexit, NULL) == 'Z' && wl_proc_state(zsig, NULL) == 'Z',
		 "zombies are no longer zombies");

	int status;
	WL_CHECK(waitpid(zexit, &status, WNOHANG) == zexit, "cannot reap the exited zombie");
	WL_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "zombie status 0x%x, not exit 7", status);
	WL_CHECK(waitpid(zsig, &status, WNOHANG) == zsig, "cannot reap the killed zombie");
	WL_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "zombie status 0x%x, not SIGTERM", status);

	kill(stopped, SIGCONT);
	WL_CHECK(WL_WAIT_FOR(wl_proc_state(stopped, NULL) == 'S', 5000), "stopped child does not continue");

	for (int i = 0; i < N_KIDS; i++)
		kill(kid[i].pid, SIGKILL);
	wl_pass();
}
