// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * iptables' tools (see xtables.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "res/net/xtables.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

/* All of @fd until its end, in a malloc'ed string (NULL: no memory). */
static char *read_all_text(int fd)
{
	char *buf = NULL;
	size_t len = 0;

	for (;;) {
		char *nb = realloc(buf, len + 4097);
		if (!nb) {
			free(buf);
			return NULL;
		}
		buf = nb;
		ssize_t n = read(fd, buf + len, 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	return buf;
}

/*
 * ocicr's own mount namespace, where the tools are: a restore runs some
 * of them while the coordinator is inside the tree's mount tree (a
 * container's root, without iptables), so each tool is started there.
 * Taken at the first call, which a dump or restore makes before it
 * enters any mount namespace of a tree (the lock comes first).
 */
static int home_mntns(void)
{
	static int fd = -1;

	if (fd < 0)
		fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	return fd;
}

/* The child of oc_xtables_run(): only async-signal-safe calls. */
static _Noreturn void exec_tool(char *const argv[], int in_fd, int out_fd, int mntns)
{
	int null = in_fd < 0 ? open("/dev/null", O_RDONLY) : -1;

	if ((mntns >= 0 && (setns(mntns, CLONE_NEWNS) < 0 || chdir("/") < 0)) ||
	    dup2(in_fd >= 0 ? in_fd : null, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(127);
	execvp(argv[0], argv);
	_exit(errno == ENOENT ? 126 : 127);
}

int oc_xtables_run(char *const argv[], int in_fd, char **out, bool quiet)
{
	_cleanup_close_ int rd = -1;
	_cleanup_free_ char *text = NULL;
	int p[2], st, mntns = home_mntns();
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	rd = p[0];
	pid = fork();
	if (pid == 0)
		exec_tool(argv, in_fd, p[1], mntns);
	close(p[1]);
	if (pid < 0)
		return quiet ? -errno : oc_error_errno(-errno, "cannot run %s", argv[0]);
	text = read_all_text(rd);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return oc_error_errno(-errno, "waiting for %s", argv[0]);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 126)
		return quiet ? -ENOENT : oc_error(-ENOENT, "cannot run %s: not found", argv[0]);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		if (quiet)
			return -EIO;
		return oc_error(-EIO, "%s %s failed: %.*s", argv[0], argv[1] ? argv[1] : "",
				text ? (int)strcspn(text, "\n") : 0, text ? text : "");
	}
	if (out)
		*out = TAKE_PTR(text);
	return 0;
}

/* 1: @tool is there and speaks the legacy API, 0: the nftables one, -1:
 * not there. */
static int tool_is_legacy(const char *tool)
{
	_cleanup_free_ char *version = NULL;
	char *argv[] = { (char *)tool, "-V", NULL };

	if (oc_xtables_run(argv, -1, &version, true) < 0)
		return -1;
	/* "iptables vX (nf_tables)" or "(legacy)"; old ones say neither. */
	return strstr(version, "nf_tables") ? 0 : 1;
}

const char *oc_xtables_legacy(bool v6, bool restore)
{
	static const char *const tools[2][2][2] = {
		{ { "iptables-save", "iptables-legacy-save" }, { "iptables-restore", "iptables-legacy-restore" } },
		{ { "ip6tables-save", "ip6tables-legacy-save" }, { "ip6tables-restore", "ip6tables-legacy-restore" } },
	};
	static int found[2][2] = { { -1, -1 }, { -1, -1 } }; /* -1: not looked yet, 2: none */
	int *f = &found[v6][restore];

	if (*f < 0) {
		*f = 2;
		for (int i = 0; i < 2 && *f == 2; i++)
			if (tool_is_legacy(tools[v6][restore][i]) == 1)
				*f = i;
		pr_debug("legacy %s: %s", tools[v6][restore][0], *f == 2 ? "none" : tools[v6][restore][*f]);
	}
	return *f == 2 ? NULL : tools[v6][restore][*f];
}

bool oc_xtables_ipv6(void)
{
	int sk = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (sk < 0)
		return false;
	close(sk);
	return true;
}

bool oc_xtables_has_legacy(void)
{
	return oc_xtables_legacy(false, false) && (!oc_xtables_ipv6() || oc_xtables_legacy(true, false));
}
