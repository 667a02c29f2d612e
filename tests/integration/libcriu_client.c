// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A client of ocicr swrk through Debian's libcriu, the library crun uses:
 * libcriu forks and execs its "service binary" as `BINARY swrk FD`, so
 * ocicr itself is named as the binary.
 *
 *   libcriu_client OCICR version
 *   libcriu_client OCICR dump PID IMAGES_DIR
 *   libcriu_client OCICR restore IMAGES_DIR   (wakes the root, waits for it)
 *
 * Prints one line per result; notifications as "notify NAME [pid=N]".
 */
#include <criu/criu.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int on_notify(char *action, criu_notify_arg_t na)
{
	int pid = criu_notify_pid(na);

	if (pid)
		printf("notify %s pid=%d\n", action, pid);
	else
		printf("notify %s\n", action);
	fflush(stdout);
	return 0;
}

static int setup(const char *ocicr, const char *dir, const char *log)
{
	int fd;

	if (criu_init_opts() < 0 || criu_set_service_binary(ocicr) < 0)
		return -1;
	if (!dir)
		return 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		perror(dir);
		return -1;
	}
	criu_set_images_dir_fd(fd);
	criu_set_log_file(log);
	criu_set_log_level(4);
	criu_set_notify_cb(on_notify);
	return 0;
}

int main(int argc, char **argv)
{
	int r, st;

	if (argc < 3)
		return 2;
	if (!strcmp(argv[2], "version")) {
		if (setup(argv[1], NULL, NULL) < 0)
			return 1;
		printf("version %d\n", criu_get_version());
		printf("at least 31500 (crun): %d\n", criu_check_version(31500));
		return 0;
	}
	if (!strcmp(argv[2], "dump") && argc == 5) {
		if (setup(argv[1], argv[4], "dump.log") < 0)
			return 1;
		criu_set_pid(atoi(argv[3]));
		r = criu_dump();
		printf("dump %d\n", r);
		return r < 0;
	}
	if (!strcmp(argv[2], "restore") && argc == 4) {
		if (setup(argv[1], argv[3], "restore.log") < 0)
			return 1;
		r = criu_restore_child();
		printf("restore %d\n", r);
		if (r <= 0)
			return 1;
		/* criu_restore_child() asks for rst_sibling: the root is ours. */
		kill(r, SIGUSR1);
		if (waitpid(r, &st, 0) != r) {
			perror("waitpid");
			return 1;
		}
		printf("root %d exited=%d\n", r, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		return 0;
	}
	return 2;
}
