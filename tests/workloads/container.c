/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The inside of a container, started by `unshare --uts --ipc [--pid
 * --fork]`: it must own its uts and ipc namespaces (and may be pid 1 of
 * its own pid namespace).
 *
 * It sets its host and domain name and a few ipc sysctls, and makes
 * System V objects: segment A (a key, attached here and in child C, with
 * a pattern), segment B (IPC_PRIVATE, attached nowhere, another pattern),
 * segment D (attached read-only here, removed: only the attachment keeps
 * it), a semaphore set with values, a message queue with three messages.
 * Child C (and, as pid 1, grandchild G under C) waits; the task then
 * installs a seccomp filter (getpriority fails with ENOMSG).
 *
 * After restore: the names, sysctls, every object's id, key, mode, size
 * and contents, the queue's messages in order; A still shared with C (a
 * write on either side shows on the other); the filter; and, as pid 1:
 * getpid() is 1, C and G have their pids, C's parent is 1, and an orphan
 * (G, once C exits) is reaped by us.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "sysv_wl.h"

#define KEY_A	   0x0c1c0a01
#define KEY_SEM	   0x0c1c0a02
#define KEY_MSG	   0x0c1c0a03
#define HOSTNAME   "ocicr-ctr"
#define DOMAINNAME "ocicr.test"

static int id_a, id_b, id_d, id_sem, id_msg;
static unsigned char *at_a;
static const unsigned char *at_d;
static char scratch[256];

static void put_sysctl(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	WL_SETUP(fd >= 0 && write(fd, v, strlen(v)) == (ssize_t)strlen(v), path);
	close(fd);
}

static void check_sysctl(const char *path, const char *v)
{
	WL_CHECK(wl_read_file(path, scratch, sizeof(scratch)) > 0, "cannot read %s", path);
	scratch[strcspn(scratch, "\n")] = '\0';
	WL_CHECK(!strcmp(scratch, v), "%s is '%s', not '%s'", path, scratch, v);
}

static struct sock_filter filter[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getpriority, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOMSG),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

/* Child C: shares A; on SIGUSR1 checks it, marks it, and exits once told. */
static __attribute__((noreturn)) void child_c(pid_t expect_pid, int report)
{
	pid_t g = 0;

	if (expect_pid) {
		/* As pid 1's grandchild-to-be, G only waits to be orphaned. */
		g = fork();
		WL_SETUP(g >= 0, "fork G");
		if (g == 0)
			for (;;)
				pause();
	}
	if (write(report, &g, sizeof(g)) != sizeof(g))
		_exit(3);
	while (!wl_usr1_seen)
		wl_sleep_us(10000);
	int bad = 0;
	if (expect_pid && (getpid() != expect_pid || getppid() != 1))
		bad = 1;
	for (size_t i = 0; i < SYSV_SHM_SIZE && !bad; i++)
		if (at_a[i] != sysv_pattern(1, i))
			bad = 2;
	at_a[0] = 0xc1; /* for the parent to see */
	_exit(bad);
}

int main(int argc, char **argv)
{
	struct utsname u;
	int report[2];

	wl_init(argc, argv);
	bool init = getpid() == 1;

	WL_SETUP(sethostname(HOSTNAME, strlen(HOSTNAME)) == 0, "sethostname (needs its own uts namespace)");
	WL_SETUP(setdomainname(DOMAINNAME, strlen(DOMAINNAME)) == 0, "setdomainname");
	put_sysctl("/proc/sys/kernel/msgmax", "4000");
	put_sysctl("/proc/sys/kernel/sem", "250\t32000\t40\t100");
	put_sysctl("/proc/sys/fs/mqueue/msg_max", "20");

	/* A few objects first, so the ids are not all 0. */
	for (int i = 0; i < 3; i++)
		WL_SETUP(shmctl(shmget(IPC_PRIVATE, 4096, 0600), IPC_RMID, NULL) == 0, "shm churn");
	id_a = sysv_shm_make(KEY_A, 0640, 1, &at_a);
	id_b = sysv_shm_make(IPC_PRIVATE, 0604, 2, NULL);
	id_d = sysv_shm_make(IPC_PRIVATE, 0600, 4, NULL);
	at_d = shmat(id_d, NULL, SHM_RDONLY);
	WL_SETUP(at_d != (void *)-1 && shmctl(id_d, IPC_RMID, NULL) == 0, "segment D");
	id_sem = sysv_sem_make(KEY_SEM);
	id_msg = sysv_msg_make(KEY_MSG);

	WL_SETUP(pipe(report) == 0, "pipe");
	pid_t c = fork();
	WL_SETUP(c >= 0, "fork C");
	if (c == 0)
		child_c(init ? getpid() : 0, report[1]);
	pid_t g;
	WL_SETUP(read(report[0], &g, sizeof(g)) == sizeof(g), "C reports");

	struct sock_fprog prog = { sizeof(filter) / sizeof(filter[0]), filter };
	WL_SETUP(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
			 syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0,
		 "seccomp");

	wl_ready();
	wl_wait();

	WL_CHECK(uname(&u) == 0 && !strcmp(u.nodename, HOSTNAME), "hostname is '%s'", u.nodename);
	WL_CHECK(!strcmp(u.domainname, DOMAINNAME), "domain name is '%s'", u.domainname);
	check_sysctl("/proc/sys/kernel/msgmax", "4000");
	check_sysctl("/proc/sys/kernel/sem", "250\t32000\t40\t100");
	check_sysctl("/proc/sys/fs/mqueue/msg_max", "20");

	sysv_shm_check(id_a, KEY_A, 0640, 1, at_a);
	sysv_shm_check(id_b, IPC_PRIVATE, 0604, 2, NULL);
	/* Here, C and (inheriting C's) G. */
	sysv_shm_check_nattch(id_a, init ? 3 : 2);
	for (size_t i = 0; i < SYSV_SHM_SIZE; i++)
		WL_CHECK(at_d[i] == sysv_pattern(4, i), "removed segment D byte %zu is %u", i, at_d[i]);
	struct shmid_ds ds;
	WL_CHECK(shmctl(id_d, IPC_STAT, &ds) == 0 && (ds.shm_perm.mode & SHM_DEST),
		 "segment D is no longer marked removed (mode 0%o)", ds.shm_perm.mode);

	sysv_sem_check(id_sem, KEY_SEM);
	sysv_msg_check(id_msg, KEY_MSG);

	WL_CHECK(syscall(SYS_getpriority, PRIO_PROCESS, 0) == -1 && errno == ENOMSG, "the seccomp rule is gone");

	if (init) {
		WL_CHECK(getpid() == 1, "pid is %d, not 1", getpid());
		WL_CHECK(g > 0 && kill(g, 0) == 0, "grandchild %d is gone", g);
	}
	int st;
	WL_CHECK(kill(c, SIGUSR1) == 0, "child %d is gone", c);
	WL_CHECK(waitpid(c, &st, 0) == c, "waitpid(%d): %s", c, strerror(errno));
	WL_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child C: %s (status 0x%x)",
		 WEXITSTATUS(st) == 1 ? "wrong pid or parent" : "segment A is not as it was", st);
	WL_CHECK(at_a[0] == 0xc1, "segment A no longer shared with C");
	if (init) {
		/* G is an orphan now: ours to reap, as init. */
		WL_CHECK(kill(g, SIGKILL) == 0, "kill %d", g);
		WL_CHECK(waitpid(g, &st, 0) == g && WIFSIGNALED(st), "orphan %d is not ours to reap", g);
	}
	shmctl(id_a, IPC_RMID, NULL);
	wl_pass();
}
