// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * iptables' tools (see xtables.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "res/net/xtables.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

extern char **environ;

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

int oc_xtables_run(char *const argv[], int in_fd, char **out, bool quiet)
{
	posix_spawn_file_actions_t fa;
	_cleanup_close_ int rd = -1;
	_cleanup_free_ char *text = NULL;
	int p[2], st, r;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	rd = p[0];
	posix_spawn_file_actions_init(&fa);
	if (in_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r)
		return quiet ? -r : oc_error_errno(-r, "cannot run %s", argv[0]);
	text = read_all_text(rd);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return oc_error_errno(-errno, "waiting for %s", argv[0]);
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
