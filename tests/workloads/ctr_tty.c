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
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>

#include "wl.h"

#define ROWS	   41
#define COLS	   99
#define VKILL_CHAR 0x0b

static void say(int fd, const char *text)
{
	size_t len = strlen(text);

	WL_CHECK(write(fd, text, len) == (ssize_t)len, "write to the terminal: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	struct winsize ws = { .ws_row = ROWS, .ws_col = COLS };
	struct stat in, out, console;
	struct termios tio;
	int fd;

	wl_init(argc, argv);
	WL_SETUP(getpid() == 1, "not pid 1 of a container");
	WL_SETUP(isatty(0) && tcgetsid(0) == getpid(), "a pty as controlling terminal");
	WL_SETUP(tcgetattr(0, &tio) == 0, "tcgetattr");
	tio.c_lflag &= ~(ECHO | ECHOE | ECHOK);
	tio.c_cc[VKILL] = VKILL_CHAR;
	WL_SETUP(tcsetattr(0, TCSANOW, &tio) == 0, "tcsetattr");
	WL_SETUP(ioctl(0, TIOCSWINSZ, &ws) == 0, "TIOCSWINSZ");
	say(1, "tty ready\n");
	wl_ready();
	wl_wait();

	WL_CHECK(getpid() == 1, "pid %d, not 1", (int)getpid());
	WL_CHECK(isatty(0) && isatty(1) && isatty(2), "stdio is no terminal after restore");
	WL_CHECK(fstat(0, &in) == 0 && fstat(1, &out) == 0 && in.st_rdev == out.st_rdev, "stdin and stdout differ");
	WL_CHECK(tcgetsid(0) == getpid(), "the terminal's session is %d, not ours", tcgetsid(0));
	WL_CHECK(tcgetpgrp(0) == getpgrp(), "foreground group %d, ours %d", tcgetpgrp(0), getpgrp());
	fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	WL_CHECK(fd >= 0, "no controlling terminal: /dev/tty: %s", strerror(errno));
	close(fd);
	WL_CHECK(tcgetattr(0, &tio) == 0, "tcgetattr after restore");
	WL_CHECK(!(tio.c_lflag & ECHO), "ECHO is back on");
	WL_CHECK(tio.c_cc[VKILL] == VKILL_CHAR, "VKILL is 0x%x", tio.c_cc[VKILL]);
	memset(&ws, 0, sizeof(ws));
	WL_CHECK(ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row == ROWS && ws.ws_col == COLS, "window %ux%u", ws.ws_row,
		 ws.ws_col);

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
