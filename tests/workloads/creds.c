/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Credentials, which Linux keeps per thread.  Started as root, the task
 * takes supplementary groups 100 and 200, gids 300/301/302, uids
 * 1000/1001/1002 and drops CAP_SYS_BOOT from its bounding set.  The main
 * thread keeps its capabilities across the uid change (SECBIT_KEEP_CAPS)
 * and ends with a few: CAP_DAC_OVERRIDE (to write RESULT), CAP_CHOWN and
 * CAP_NET_BIND_SERVICE, the latter also inheritable and ambient.  The
 * second thread, without KEEP_CAPS, loses them all.
 *
 * After restore the Uid, Gid, Groups, Cap* and NoNewPrivs lines of each
 * thread's /proc status, the securebits, the dumpable flag and the
 * parent-death signal (both set again after the uid change, which clears
 * them) must be as they were.
 */
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "wl.h"

static char main_before[2048], worker_before[2048], scratch[4096];
static volatile pid_t worker_tid;
static volatile int worker_secbits = -1;
static volatile int check_worker;

/* The credential lines of a thread's /proc status. */
static void cred_lines(pid_t tid, char *out, size_t len)
{
	static const char *const keys[] = { "Uid:",    "Gid:",	  "Groups:", "CapInh:",	   "CapPrm:",
					    "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:" };
	char path[64];
	size_t o = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	WL_SETUP(wl_read_file(path, scratch, sizeof(scratch)) > 0, path);
	for (char *line = scratch; *line;) {
		char *nl = strchr(line, '\n');
		size_t l = nl ? (size_t)(nl - line) : strlen(line);
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strncmp(line, keys[k], strlen(keys[k])))
				o += snprintf(out + o, len - o, "%.*s\n", (int)l, line);
		line += l + (nl ? 1 : 0);
	}
}

static void *worker(void *arg)
{
	worker_tid = syscall(SYS_gettid);
	while (!check_worker)
		wl_sleep_us(1000);
	worker_secbits = prctl(PR_GET_SECUREBITS);
	check_worker = 2;
	for (;;)
		pause();
	return NULL;
}

static void set_caps(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
	};

	WL_SETUP(syscall(SYS_capset, &hdr, data) == 0, "capset");
}

#define BIT(c) (1ull << (c))

int main(int argc, char **argv)
{
	static char main_after[2048], worker_after[2048];
	gid_t groups[] = { 100, 200 };
	pthread_t th;

	wl_init(argc, argv);
	WL_SETUP(getuid() == 0, "must start as root");
	WL_SETUP(pthread_create(&th, NULL, worker, NULL) == 0, "pthread_create");
	WL_SETUP(WL_WAIT_FOR(worker_tid != 0, 10000), "worker start");

	/* glibc applies set*id() to every thread; prctl and capset are per thread. */
	WL_SETUP(setgroups(2, groups) == 0, "setgroups");
	WL_SETUP(prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT) == 0, "PR_CAPBSET_DROP");
	WL_SETUP(prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS) == 0, "PR_SET_SECUREBITS");
	WL_SETUP(setresgid(300, 301, 302) == 0, "setresgid");
	WL_SETUP(setresuid(1000, 1001, 1002) == 0, "setresuid");
	uint64_t keep = BIT(CAP_DAC_OVERRIDE) | BIT(CAP_CHOWN) | BIT(CAP_NET_BIND_SERVICE);
	set_caps(keep, keep, BIT(CAP_CHOWN) | BIT(CAP_NET_BIND_SERVICE));
	WL_SETUP(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) == 0, "ambient raise");

	cred_lines(syscall(SYS_gettid), main_before, sizeof(main_before));
	cred_lines(worker_tid, worker_before, sizeof(worker_before));
	WL_SETUP(strcmp(main_before, worker_before), "the two threads should differ");
	int secbits = prctl(PR_GET_SECUREBITS);
	/* The uid change cleared it; a restore's uid change must not. */
	WL_SETUP(prctl(PR_SET_DUMPABLE, 1) == 0, "PR_SET_DUMPABLE");
	WL_SETUP(prctl(PR_SET_PDEATHSIG, SIGWINCH) == 0, "PR_SET_PDEATHSIG");

	wl_ready();
	wl_wait();

	cred_lines(syscall(SYS_gettid), main_after, sizeof(main_after));
	WL_CHECK(!strcmp(main_before, main_after), "main thread credentials were\n%s, are\n%s", main_before,
		 main_after);
	cred_lines(worker_tid, worker_after, sizeof(worker_after));
	WL_CHECK(!strcmp(worker_before, worker_after), "second thread credentials were\n%s, are\n%s", worker_before,
		 worker_after);
	WL_CHECK(prctl(PR_GET_SECUREBITS) == secbits, "main thread securebits 0x%x, were 0x%x",
		 prctl(PR_GET_SECUREBITS), secbits);
	check_worker = 1;
	WL_CHECK(prctl(PR_GET_DUMPABLE) == 1, "dumpable is %d, was 1", prctl(PR_GET_DUMPABLE));
	int pdeath = 0;
	WL_CHECK(prctl(PR_GET_PDEATHSIG, &pdeath) == 0 && pdeath == SIGWINCH, "parent-death signal %d, was SIGWINCH",
		 pdeath);
	WL_CHECK(WL_WAIT_FOR(check_worker == 2, 10000), "second thread does not answer");
	WL_CHECK(worker_secbits == 0, "second thread securebits 0x%x, were 0", worker_secbits);
	wl_pass();
}
