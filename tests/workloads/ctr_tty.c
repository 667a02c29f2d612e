/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The init of a container with a terminal (`podman run -t`, runc's
 * process.terminal): its stdio and controlling terminal are the console,
 * a pty slave of the container's own devpts whose master the runtime gave
 * to its console socket (conmon, or ptyhold console), and /dev/console is
 * a bind mount of that slave.  It changes the terminal's termios and
 * window size and says "tty ready" on it.
 *
 * After restore: pid 1, stdio one pty, its controlling terminal with its
 * group in the foreground and the same settings, /dev/console the same
 * pty and usable; then it writes "restored tty greets" on /dev/console,
 * which the test finds in what the master's holder read (podman logs).
 */
#include <sys/stat.h>

#include "tty_wl.h"

static void say(int fd, const char *text)
{
	size_t len = strlen(text);

	WL_CHECK(write(fd, text, len) == (ssize_t)len, "write to the terminal: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	struct stat in, out, console;
	int fd;

	wl_init(argc, argv);
	WL_SETUP(getpid() == 1, "not pid 1 of a container");
	WL_SETUP(isatty(0) && tcgetsid(0) == getpid(), "a pty as controlling terminal");
	tty_wl_change();
	say(1, "tty ready\n");
	wl_ready();
	wl_wait();

	WL_CHECK(getpid() == 1, "pid %d, not 1", (int)getpid());
	WL_CHECK(isatty(2), "stderr is no terminal after restore");
	WL_CHECK(fstat(0, &in) == 0 && fstat(1, &out) == 0 && in.st_rdev == out.st_rdev, "stdin and stdout differ");
	tty_wl_check();

	/* The console is a bind of that same slave, in this devpts. */
	WL_CHECK(stat("/dev/console", &console) == 0, "/dev/console: %s", strerror(errno));
	WL_CHECK(console.st_rdev == in.st_rdev, "/dev/console is %llx, the terminal %llx",
		 (unsigned long long)console.st_rdev, (unsigned long long)in.st_rdev);
	fd = open("/dev/console", O_WRONLY | O_NOCTTY);
	WL_CHECK(fd >= 0, "cannot open /dev/console: %s", strerror(errno));
	say(fd, "restored tty greets\n");
	close(fd);
	wl_pass();
}
