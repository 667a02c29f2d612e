/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tree to kill a dumper in the middle of: a root and KT_KIDS children
 * (default 3), each with a thread and its share of KT_MIB (default 256) MiB
 * of patterned memory, and pipes between them that hold data in flight.
 * On SIGUSR1 every task checks its memory, its memory map, both threads'
 * signal masks, that its thread still runs and that it has no child of
 * its own; the root also checks the data in the pipes, that each child
 * answers, and that its children are exactly the ones it made.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "wl.h"

#define MAX_KIDS  8
#define IN_FLIGHT 3000 /* bytes each child leaves in its data pipe */

static uint8_t *mem;
static size_t mem_len;
static uint64_t seed;
static volatile pid_t thread_tid;
static volatile uint64_t thread_ticks;
static char maps_before[64 * 1024], maps_after[64 * 1024];
static char sigblk_before[2][32];
static char msg[900];

static void *spin(void *arg)
{
	(void)arg;
	thread_tid = gettid();
	for (;;) {
		thread_ticks++;
		wl_sleep_us(1000);
	}
	return NULL;
}

/* The SigBlk line of thread @tid (into @buf); false if unreadable. */
static bool sigblk(pid_t tid, char *buf, size_t len)
{
	char path[64], status[4096];

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	if (wl_read_file(path, status, sizeof(status)) <= 0)
		return false;
	char *p = strstr(status, "SigBlk:");
	if (!p)
		return false;
	size_t n = strcspn(p, "\n");
	snprintf(buf, len, "%.*s", (int)n, p);
	return true;
}

/* The pids in the children files of both our threads, into @pids; count or -1. */
static int children(pid_t *pids, int max)
{
	pid_t tids[2] = { getpid(), thread_tid };
	int n = 0;

	for (int i = 0; i < 2; i++) {
		char path[64], buf[1024];
		snprintf(path, sizeof(path), "/proc/self/task/%d/children", tids[i]);
		if (wl_read_file(path, buf, sizeof(buf)) < 0)
			return -1;
		for (char *p = buf; *p;) {
			char *end;
			long v = strtol(p, &end, 10);
			if (end == p)
				break;
			if (n == max)
				return max + 1;
			pids[n++] = v;
			p = end;
		}
	}
	return n;
}

static void task_setup(size_t len, uint64_t s)
{
	sigset_t set;
	pthread_t th;

	mem_len = len;
	seed = s;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WL_SETUP(mem != MAP_FAILED, "mmap");
	wl_fill(mem, len, s);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	WL_SETUP(sigprocmask(SIG_BLOCK, &set, NULL) == 0, "sigprocmask");
	WL_SETUP(pthread_create(&th, NULL, spin, NULL) == 0, "pthread_create");
	WL_SETUP(WL_WAIT_FOR(thread_tid > 0, 5000), "thread start");
	WL_SETUP(sigblk(getpid(), sigblk_before[0], sizeof(sigblk_before[0])), "read SigBlk");
	WL_SETUP(sigblk(thread_tid, sigblk_before[1], sizeof(sigblk_before[1])), "read SigBlk");
	WL_SETUP(wl_read_file("/proc/self/maps", maps_before, sizeof(maps_before)) > 0, "read maps");
}

/* What every task checks of itself: NULL, or what is wrong (in msg). */
static const char *task_check(const char *who, bool may_have_children)
{
	pid_t tids[2] = { getpid(), thread_tid };
	char now[32];
	pid_t kids[4];

	ssize_t bad = wl_mismatch(mem, mem_len, seed);
	if (bad >= 0)
		return snprintf(msg, sizeof(msg), "%s: byte %zd of its memory changed", who, bad), msg;
	if (wl_read_file("/proc/self/maps", maps_after, sizeof(maps_after)) <= 0 || strcmp(maps_before, maps_after))
		return snprintf(msg, sizeof(msg), "%s: its memory map changed:\n%.800s", who, maps_after), msg;
	for (int i = 0; i < 2; i++)
		if (!sigblk(tids[i], now, sizeof(now)) || strcmp(now, sigblk_before[i]))
			return snprintf(msg, sizeof(msg), "%s: thread %d has signal mask '%s', not '%s'", who, tids[i],
					now, sigblk_before[i]),
			       msg;
	uint64_t ticks = thread_ticks;
	if (!WL_WAIT_FOR(thread_ticks != ticks, 2000))
		return snprintf(msg, sizeof(msg), "%s: its thread no longer runs", who), msg;
	if (!may_have_children && children(kids, 4) != 0)
		return snprintf(msg, sizeof(msg), "%s: it has a child %d it did not make", who, kids[0]), msg;
	return NULL;
}

/* A child: answer each byte on @ctl with its verdict on @rep. */
static void kid_main(int idx, size_t len, int ctl, int rep, int data)
{
	uint8_t flight[IN_FLIGHT];
	char who[32], c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	wl_fill(flight, sizeof(flight), 1000 + idx);
	if (write(data, flight, sizeof(flight)) != sizeof(flight))
		_exit(3);
	task_setup(len, 100 + idx);
	snprintf(who, sizeof(who), "child %d", idx);
	if (write(rep, "r", 1) != 1)
		_exit(3);
	for (;;) {
		ssize_t n = read(ctl, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);
		const char *bad = task_check(who, false);
		if (!bad)
			bad = "ok";
		if (write(rep, bad, strlen(bad)) < 0)
			_exit(3);
	}
}

int main(int argc, char **argv)
{
	const char *env_mib = getenv("KT_MIB"), *env_kids = getenv("KT_KIDS");
	size_t mib = env_mib ? strtoul(env_mib, NULL, 10) : 256;
	int n_kids = env_kids ? atoi(env_kids) : 3;
	int ctl[MAX_KIDS], rep[MAX_KIDS], data[MAX_KIDS];
	pid_t kid[MAX_KIDS];
	uint8_t flight[IN_FLIGHT];
	char buf[512];

	wl_init(argc, argv);
	WL_SETUP(mib > 0 && n_kids > 0 && n_kids <= MAX_KIDS, "KT_MIB or KT_KIDS");
	size_t share = (mib << 20) / (n_kids + 1) & ~4095ul;
	for (int i = 0; i < n_kids; i++) {
		int c[2], r[2], d[2];
		WL_SETUP(pipe(c) == 0 && pipe(r) == 0 && pipe(d) == 0, "pipe");
		kid[i] = fork();
		WL_SETUP(kid[i] >= 0, "fork");
		if (kid[i] == 0) {
			close(c[1]);
			close(r[0]);
			close(d[0]);
			kid_main(i, share, c[0], r[1], d[1]);
		}
		close(c[0]);
		close(r[1]);
		close(d[1]);
		ctl[i] = c[1];
		rep[i] = r[0];
		data[i] = d[0];
		WL_SETUP(read(rep[i], buf, 1) == 1 && buf[0] == 'r', "child ready");
	}
	task_setup(share, 99);
	wl_ready();

	wl_wait();
	const char *bad = task_check("root", true);
	if (bad)
		wl_fail("%s", bad);
	for (int i = 0; i < n_kids; i++) {
		WL_CHECK(wl_proc_state(kid[i], NULL) != '?' && wl_proc_state(kid[i], NULL) != 'Z',
			 "child %d (%d) is gone", i, kid[i]);
		size_t got = 0;
		while (got < sizeof(flight)) {
			ssize_t n = read(data[i], flight + got, sizeof(flight) - got);
			WL_CHECK(n > 0, "child %d's pipe holds %zu bytes, not %d", i, got, IN_FLIGHT);
			got += n;
		}
		WL_CHECK(wl_mismatch(flight, sizeof(flight), 1000 + i) < 0, "child %d's pipe data changed", i);
		WL_CHECK(write(ctl[i], "c", 1) == 1, "cannot ask child %d", i);
		struct pollfd pfd = { rep[i], POLLIN, 0 };
		WL_CHECK(poll(&pfd, 1, 20000) == 1, "child %d does not answer", i);
		ssize_t n = read(rep[i], buf, sizeof(buf) - 1);
		WL_CHECK(n > 0, "child %d is gone", i);
		buf[n] = '\0';
		WL_CHECK(!strcmp(buf, "ok"), "%s", buf);
	}
	pid_t seen[MAX_KIDS + 2];
	int n_seen = children(seen, MAX_KIDS + 1);
	WL_CHECK(n_seen == n_kids, "the root has %d children, not the %d it made", n_seen, n_kids);
	for (int i = 0; i < n_seen; i++) {
		bool mine = false;
		for (int k = 0; k < n_kids; k++)
			mine |= seen[i] == kid[k];
		WL_CHECK(mine, "the root has a child %d it did not make", seen[i]);
	}
	WL_CHECK(waitpid(-1, NULL, WNOHANG | __WALL) == 0, "the root has a child that ended");
	for (int i = 0; i < n_kids; i++)
		kill(kid[i], SIGKILL);
	wl_pass();
}
