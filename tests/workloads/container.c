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
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <sys/utsname.h>

#include "wl.h"

#define KEY_A	   0x0c1c0a01
#define KEY_SEM	   0x0c1c0a02
#define KEY_MSG	   0x0c1c0a03
#define SHM_SIZE   (3 * 4096 + 100)
#define HOSTNAME   "ocicr-ctr"
#define DOMAINNAME "ocicr.test"

static int id_a, id_b, id_d, id_sem, id_msg;
static unsigned char *at_a;
static const unsigned char *at_d;
static char scratch[256];

static unsigned char pattern(int seg, size_t i)
{
	return (unsigned char)(seg * 31 + i * 7 + (i >> 12));
}

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

static void check_shm(int id, int key, int mode, int seg, const unsigned char *at)
{
	struct shmid_ds ds;

	WL_CHECK(shmctl(id, IPC_STAT, &ds) == 0, "segment %d is gone: %s", id, strerror(errno));
	WL_CHECK(ds.shm_perm.__key == key, "segment %d has key 0x%x, not 0x%x", id, ds.shm_perm.__key, key);
	WL_CHECK((ds.shm_perm.mode & 0777) == mode, "segment %d has mode 0%o", id, ds.shm_perm.mode & 0777);
	WL_CHECK(ds.shm_segsz == SHM_SIZE, "segment %d has %zu bytes", id, (size_t)ds.shm_segsz);
	const unsigned char *p = at ? at : shmat(id, NULL, SHM_RDONLY);
	WL_CHECK(p != (void *)-1, "cannot attach segment %d: %s", id, strerror(errno));
	for (size_t i = 0; i < SHM_SIZE; i++)
		WL_CHECK(p[i] == pattern(seg, i), "segment %d byte %zu is %u", id, i, p[i]);
	if (!at)
		shmdt(p);
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
	for (size_t i = 0; i < SHM_SIZE && !bad; i++)
		if (at_a[i] != pattern(1, i))
			bad = 2;
	at_a[0] = 0xc1; /* for the parent to see */
	_exit(bad);
}

int main(int argc, char **argv)
{
	struct utsname u;
	unsigned short semvals[4] = { 1, 2, 300, 32767 }, got[4];
	struct {
		long mtype;
		char text[64];
	} msg;
	static const char *const texts[3] = { "first", "second message", "" };
	static const long types[3] = { 7, 3, 7 };
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
	id_a = shmget(KEY_A, SHM_SIZE, IPC_CREAT | IPC_EXCL | 0640);
	id_b = shmget(IPC_PRIVATE, SHM_SIZE, 0604);
	id_d = shmget(IPC_PRIVATE, SHM_SIZE, 0600);
	WL_SETUP(id_a >= 0 && id_b >= 0 && id_d >= 0, "shmget (needs its own ipc namespace)");
	at_a = shmat(id_a, NULL, 0);
	unsigned char *b = shmat(id_b, NULL, 0), *d = shmat(id_d, NULL, 0);
	WL_SETUP(at_a != (void *)-1 && b != (void *)-1 && d != (void *)-1, "shmat");
	for (size_t i = 0; i < SHM_SIZE; i++) {
		at_a[i] = pattern(1, i);
		b[i] = pattern(2, i);
		d[i] = pattern(4, i);
	}
	shmdt(b);
	shmdt(d);
	at_d = shmat(id_d, NULL, SHM_RDONLY);
	WL_SETUP(at_d != (void *)-1 && shmctl(id_d, IPC_RMID, NULL) == 0, "segment D");

	id_sem = semget(KEY_SEM, 4, IPC_CREAT | IPC_EXCL | 0660);
	WL_SETUP(id_sem >= 0 && semctl(id_sem, 0, SETALL, semvals) == 0, "semaphores");
	id_msg = msgget(KEY_MSG, IPC_CREAT | IPC_EXCL | 0620);
	WL_SETUP(id_msg >= 0, "msgget");
	for (int i = 0; i < 3; i++) {
		msg.mtype = types[i];
		strcpy(msg.text, texts[i]);
		WL_SETUP(msgsnd(id_msg, &msg, strlen(texts[i]), 0) == 0, "msgsnd");
	}

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

	check_shm(id_a, KEY_A, 0640, 1, at_a);
	check_shm(id_b, IPC_PRIVATE, 0604, 2, NULL);
	struct shmid_ds ds;
	/* Here, C and (inheriting C's) G. */
	int nattch = init ? 3 : 2;
	WL_CHECK(shmctl(id_a, IPC_STAT, &ds) == 0 && (int)ds.shm_nattch == nattch,
		 "segment A attached %d times, "
		 "not %d",
		 (int)ds.shm_nattch, nattch);
	for (size_t i = 0; i < SHM_SIZE; i++)
		WL_CHECK(at_d[i] == pattern(4, i), "removed segment D byte %zu is %u", i, at_d[i]);
	WL_CHECK(shmctl(id_d, IPC_STAT, &ds) == 0 && (ds.shm_perm.mode & SHM_DEST),
		 "segment D is no longer marked removed (mode 0%o)", ds.shm_perm.mode);

	WL_CHECK(semctl(id_sem, 0, GETALL, got) == 0, "semaphore set %d is gone: %s", id_sem, strerror(errno));
	for (int i = 0; i < 4; i++)
		WL_CHECK(got[i] == semvals[i], "semaphore %d is %u, not %u", i, got[i], semvals[i]);
	WL_CHECK(semget(KEY_SEM, 0, 0) == id_sem, "the semaphore key finds another set");
	WL_CHECK(msgget(KEY_MSG, 0) == id_msg, "the queue key finds another queue");
	for (int i = 0; i < 3; i++) {
		ssize_t n = msgrcv(id_msg, &msg, sizeof(msg.text), 0, IPC_NOWAIT);
		WL_CHECK(n == (ssize_t)strlen(texts[i]), "message %d has %zd bytes (%s)", i, n, strerror(errno));
		WL_CHECK(msg.mtype == types[i] && !memcmp(msg.text, texts[i], n), "message %d is wrong", i);
	}
	WL_CHECK(msgrcv(id_msg, &msg, sizeof(msg.text), 0, IPC_NOWAIT) < 0, "a fourth message");

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
