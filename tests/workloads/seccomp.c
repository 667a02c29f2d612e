/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Seccomp, per thread and per task.  Before any filter, child S enters
 * strict mode and echoes bytes from one pipe to another (all strict mode
 * allows).  The task then sets no_new_privs, starts a worker thread and
 * installs filter A on both threads at once (TSYNC: one shared filter):
 * getpriority() fails with ENOMSG, acct() kills the process; close_range()
 * fails and sigaltstack() kills, both of which ocicr calls inside the task
 * (the dump's remote calls, the restore's last clean-up).  The worker
 * alone stacks filter B: getcpu() fails with ERANGE.  Child F, forked
 * after, inherits A.
 *
 * After restore: each thread's and child's Seccomp, Seccomp_filters and
 * NoNewPrivs status lines are as before; the rules still hold in the main
 * thread, the worker (A and B) and F; a new child calling acct() dies of
 * SIGSYS; S still echoes.
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "wl.h"

static char scratch[4096];
static volatile pid_t worker_tid;
static volatile int worker_go, worker_done;
static volatile int worker_prio_errno, worker_getcpu_errno;

#define RULE_ERRNO(nr, err) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err))

static struct sock_filter filter_a[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	RULE_ERRNO(__NR_getpriority, ENOMSG),
	/* Calls the dumper and the restorer make from inside the task:
	 * they must pass while ocicr works (PTRACE_O_SUSPEND_SECCOMP). */
	RULE_ERRNO(__NR_close_range, EPERM),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sigaltstack, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_acct, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

static struct sock_filter filter_b[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	RULE_ERRNO(__NR_getcpu, ERANGE),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

static void install(struct sock_filter *f, size_t n, unsigned int flags)
{
	struct sock_fprog prog = { (unsigned short)n, f };

	WL_SETUP(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) == 0, "seccomp filter");
}

/* The seccomp lines of a task's or thread's /proc status. */
static void seccomp_lines(const char *path, char *out, size_t len)
{
	static const char *const keys[] = { "Seccomp:", "Seccomp_filters:", "NoNewPrivs:" };
	size_t o = 0;

	WL_SETUP(wl_read_file(path, scratch, sizeof(scratch)) > 0, path);
	out[0] = '\0';
	for (char *line = scratch; *line;) {
		char *nl = strchr(line, '\n');
		size_t l = nl ? (size_t)(nl - line) : strlen(line);
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strncmp(line, keys[k], strlen(keys[k])))
				o += snprintf(out + o, len - o, "%.*s; ", (int)l, line);
		line += l + (nl ? 1 : 0);
	}
}

static int errno_of(long r)
{
	return r < 0 ? errno : 0;
}

static void *worker(void *arg)
{
	worker_tid = syscall(SYS_gettid);
	while (!worker_go)
		wl_sleep_us(1000);
	install(filter_b, sizeof(filter_b) / sizeof(filter_b[0]), 0);
	worker_go = 0;
	worker_done = 1;
	for (;;) {
		while (!worker_go)
			wl_sleep_us(1000);
		worker_prio_errno = errno_of(syscall(SYS_getpriority, PRIO_PROCESS, 0));
		worker_getcpu_errno = errno_of(syscall(SYS_getcpu, NULL, NULL, NULL));
		worker_go = 0;
		worker_done = 1;
	}
	return NULL;
}

/* Strict mode: read, write and exit only. */
static __attribute__((noreturn)) void strict_echo(int in, int out)
{
	unsigned char c;

	WL_SETUP(prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) == 0, "strict mode");
	for (;;) {
		if (syscall(SYS_read, in, &c, 1) != 1)
			syscall(SYS_exit, 1);
		c++;
		syscall(SYS_write, out, &c, 1);
	}
}

/* Child F: wait for SIGUSR1 from the parent, then check its rule. */
static __attribute__((noreturn)) void filtered_child(void)
{
	while (!wl_usr1_seen)
		wl_sleep_us(10000);
	_exit(syscall(SYS_getpriority, PRIO_PROCESS, 0) == -1 && errno == ENOMSG ? 0 : 1);
}

int main(int argc, char **argv)
{
	static char main_before[256], worker_before[256], s_before[256], f_before[256], line[256];
	char path[64];
	int to_s[2], from_s[2];
	pthread_t th;

	wl_init(argc, argv);
	WL_SETUP(pipe(to_s) == 0 && pipe(from_s) == 0, "pipes");
	pid_t s = fork();
	WL_SETUP(s >= 0, "fork S");
	if (s == 0)
		strict_echo(to_s[0], from_s[1]);

	WL_SETUP(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "no_new_privs");
	WL_SETUP(pthread_create(&th, NULL, worker, NULL) == 0, "thread");
	while (!worker_tid)
		wl_sleep_us(1000);
	install(filter_a, sizeof(filter_a) / sizeof(filter_a[0]), SECCOMP_FILTER_FLAG_TSYNC);
	worker_go = 1;
	while (!worker_done)
		wl_sleep_us(1000);
	pid_t f = fork();
	WL_SETUP(f >= 0, "fork F");
	if (f == 0)
		filtered_child();

	/* S is in strict mode once it echoes. */
	unsigned char c = 41;
	WL_SETUP(write(to_s[1], &c, 1) == 1 && read(from_s[0], &c, 1) == 1 && c == 42, "strict echo");
	seccomp_lines("/proc/self/status", main_before, sizeof(main_before));
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", worker_tid);
	seccomp_lines(path, worker_before, sizeof(worker_before));
	snprintf(path, sizeof(path), "/proc/%d/status", s);
	seccomp_lines(path, s_before, sizeof(s_before));
	snprintf(path, sizeof(path), "/proc/%d/status", f);
	seccomp_lines(path, f_before, sizeof(f_before));
	WL_SETUP(strstr(main_before, "Seccomp:\t2") && strstr(main_before, "Seccomp_filters:\t1"), main_before);
	WL_SETUP(strstr(worker_before, "Seccomp_filters:\t2"), worker_before);
	WL_SETUP(strstr(s_before, "Seccomp:\t1"), s_before);

	wl_ready();
	wl_wait();

	seccomp_lines("/proc/self/status", line, sizeof(line));
	WL_CHECK(!strcmp(line, main_before), "main thread: %s, was %s", line, main_before);
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", worker_tid);
	seccomp_lines(path, line, sizeof(line));
	WL_CHECK(!strcmp(line, worker_before), "worker: %s, was %s", line, worker_before);
	snprintf(path, sizeof(path), "/proc/%d/status", s);
	seccomp_lines(path, line, sizeof(line));
	WL_CHECK(!strcmp(line, s_before), "strict child: %s, was %s", line, s_before);
	snprintf(path, sizeof(path), "/proc/%d/status", f);
	seccomp_lines(path, line, sizeof(line));
	WL_CHECK(!strcmp(line, f_before), "filtered child: %s, was %s", line, f_before);

	long r = syscall(SYS_getpriority, PRIO_PROCESS, 0);
	WL_CHECK(r == -1 && errno == ENOMSG, "main thread: getpriority gave %ld (%s), not ENOMSG", r, strerror(errno));
	r = syscall(SYS_getcpu, NULL, NULL, NULL);
	WL_CHECK(r == 0, "main thread: getcpu failed (%s): B is the worker's only", strerror(errno));
	worker_done = 0;
	worker_go = 1;
	WL_CHECK(WL_WAIT_FOR(worker_done, 10000), "worker does not answer");
	WL_CHECK(worker_prio_errno == ENOMSG, "worker: getpriority gave errno %d, not ENOMSG", worker_prio_errno);
	WL_CHECK(worker_getcpu_errno == ERANGE, "worker: getcpu gave errno %d, not ERANGE", worker_getcpu_errno);

	c = 99;
	WL_CHECK(write(to_s[1], &c, 1) == 1 && read(from_s[0], &c, 1) == 1 && c == 100, "strict child does not echo");

	int st;
	WL_CHECK(kill(f, SIGUSR1) == 0 && waitpid(f, &st, 0) == f, "filtered child is gone");
	WL_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "filtered child: its rule no longer holds (status 0x%x)", st);

	pid_t k = fork();
	WL_CHECK(k >= 0, "fork: %s", strerror(errno));
	if (k == 0) {
		syscall(SYS_acct, NULL);
		_exit(0);
	}
	WL_CHECK(waitpid(k, &st, 0) == k, "waitpid");
	WL_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "acct() did not kill the caller (status 0x%x)", st);
	WL_CHECK(syscall(SYS_close_range, 1000, 1001, 0) == -1 && errno == EPERM, "close_range is allowed again");
	kill(s, SIGKILL);
	wl_pass();
}
