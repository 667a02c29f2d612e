/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Process attributes: umask, working directory, resource limits (a lowered
 * soft RLIMIT_NOFILE and RLIMIT_CORE), name (PR_SET_NAME), personality,
 * no_new_privs, the parent-death signal, child-subreaper, the dumpable
 * flag, the scheduling policy (SCHED_BATCH) and nice value (7),
 * credentials, session and process group.  After restore each must
 * read back as it was set.
 */
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "wl.h"

#define PERSONA (PER_LINUX | ADDR_NO_RANDOMIZE)

static char cwd_path[PATH_MAX];
static struct rlimit limits_before[RLIM_NLIMITS];
static uid_t ruid, euid, suid;
static gid_t rgid, egid, sgid;

int main(int argc, char **argv)
{
	char buf[PATH_MAX];
	int v = 0;

	wl_init(argc, argv);

	wl_path(cwd_path, sizeof(cwd_path), "misc-cwd");
	WL_SETUP(mkdir(cwd_path, 0755) == 0 || errno == EEXIST, "mkdir");
	WL_SETUP(chdir(cwd_path) == 0, "chdir");
	WL_SETUP(getcwd(cwd_path, sizeof(cwd_path)) != NULL, "getcwd");
	umask(027);

	struct rlimit rl;
	WL_SETUP(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
	rl.rlim_cur = 200;
	WL_SETUP(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit NOFILE");
	WL_SETUP(getrlimit(RLIMIT_CORE, &rl) == 0, "getrlimit");
	rl.rlim_cur = 0;
	WL_SETUP(setrlimit(RLIMIT_CORE, &rl) == 0, "setrlimit CORE");
	for (int i = 0; i < RLIM_NLIMITS; i++)
		WL_SETUP(getrlimit(i, &limits_before[i]) == 0, "getrlimit");

	WL_SETUP(prctl(PR_SET_NAME, "wl-misc-comm") == 0, "PR_SET_NAME");
	WL_SETUP(personality(PERSONA) >= 0, "personality");
	WL_SETUP(personality(0xffffffff) == PERSONA, "personality read back");
	WL_SETUP(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "PR_SET_NO_NEW_PRIVS");
	WL_SETUP(prctl(PR_SET_PDEATHSIG, SIGWINCH) == 0, "PR_SET_PDEATHSIG");
	WL_SETUP(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "PR_SET_CHILD_SUBREAPER");
	WL_SETUP(prctl(PR_SET_DUMPABLE, 0) == 0, "PR_SET_DUMPABLE");
	struct sched_param sp = {};
	WL_SETUP(sched_setscheduler(0, SCHED_BATCH, &sp) == 0 && setpriority(PRIO_PROCESS, 0, 7) == 0,
		 "SCHED_BATCH, nice 7");
	getresuid(&ruid, &euid, &suid);
	getresgid(&rgid, &egid, &sgid);

	wl_ready();
	wl_wait();

	WL_CHECK(getcwd(buf, sizeof(buf)) && !strcmp(buf, cwd_path), "working directory is '%s', was '%s'", buf,
		 cwd_path);
	mode_t um = umask(0);
	WL_CHECK(um == 027, "umask is 0%o, was 027", um);
	for (int i = 0; i < RLIM_NLIMITS; i++) {
		WL_CHECK(getrlimit(i, &rl) == 0, "getrlimit(%d)", i);
		WL_CHECK(rl.rlim_cur == limits_before[i].rlim_cur && rl.rlim_max == limits_before[i].rlim_max,
			 "resource limit %d is %lu/%lu, was %lu/%lu", i, (unsigned long)rl.rlim_cur,
			 (unsigned long)rl.rlim_max, (unsigned long)limits_before[i].rlim_cur,
			 (unsigned long)limits_before[i].rlim_max);
	}
	WL_CHECK(wl_read_file("/proc/self/comm", buf, sizeof(buf)) > 0 && !strcmp(buf, "wl-misc-comm\n"),
		 "name is '%.*s', was 'wl-misc-comm'", (int)strcspn(buf, "\n"), buf);
	int p = personality(0xffffffff);
	WL_CHECK(p == PERSONA, "personality 0x%x, was 0x%x", p, PERSONA);
	WL_CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, "no_new_privs lost");
	WL_CHECK(prctl(PR_GET_PDEATHSIG, &v) == 0 && v == SIGWINCH, "parent-death signal %d, was %d", v, SIGWINCH);
	v = 0;
	WL_CHECK(prctl(PR_GET_CHILD_SUBREAPER, &v) == 0 && v == 1, "child-subreaper lost");
	WL_CHECK(prctl(PR_GET_DUMPABLE) == 0, "dumpable is %d, was 0", prctl(PR_GET_DUMPABLE));
	WL_CHECK(sched_getscheduler(0) == SCHED_BATCH, "scheduling policy %d, was SCHED_BATCH", sched_getscheduler(0));
	errno = 0;
	WL_CHECK(getpriority(PRIO_PROCESS, 0) == 7, "nice %d, was 7", getpriority(PRIO_PROCESS, 0));
	uid_t r, e, s;
	gid_t gr, ge, gs;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	WL_CHECK(r == ruid && e == euid && s == suid && gr == rgid && ge == egid && gs == sgid, "credentials changed");
	WL_CHECK(getsid(0) == getpid() && getpgid(0) == getpid(), "no longer a session leader (sid %d pgid %d)",
		 getsid(0), getpgid(0));
	wl_pass();
}
