/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /dev/tty held open: the root leads a session whose controlling terminal
 * is a pty it holds only the master of (the slave's fd is closed), and it
 * keeps /dev/tty open.  Before the checkpoint the master writes a line
 * for the terminal to read.  After the restore /dev/tty is still the
 * controlling terminal of our session with its window size, reads the
 * line; the master reads the line's echo, once, then what /dev/tty
 * wrote; no SIGHUP came, and
 * closing the master hangs the session up (one SIGHUP).
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include "wl.h"

#define ROWS 29
#define COLS 83
#define ECHOED	   "ping\r\npong"
#define ECHOED_LEN 10

static volatile sig_atomic_t hups;

static void on_hup(int sig)
{
	(void)sig;
	hups++;
}

/* Read up to @len bytes from @fd, waiting up to 5 s for the first. */
static ssize_t read_some(int fd, char *buf, size_t len)
{
	int avail = 0;

	WL_WAIT_FOR(ioctl(fd, FIONREAD, &avail) == 0 && avail > 0, 5000);
	return avail > 0 ? read(fd, buf, len) : -1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_hup };
	struct winsize ws = { .ws_row = ROWS, .ws_col = COLS };
	struct stat st;
	char buf[64];
	int master, slave, tty;
	ssize_t n;

	wl_init(argc, argv);
	sigemptyset(&sa.sa_mask);
	WL_SETUP(sigaction(SIGHUP, &sa, NULL) == 0, "sigaction");
	WL_SETUP(getsid(0) == getpid(), "a session leader (start with setsid)");
	master = posix_openpt(O_RDWR | O_NOCTTY);
	WL_SETUP(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0, "posix_openpt");
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	WL_SETUP(slave >= 0 && ioctl(slave, TIOCSCTTY, 0) == 0, "the pty as controlling terminal");
	tty = open("/dev/tty", O_RDWR);
	WL_SETUP(tty >= 0, "open /dev/tty");
	close(slave);
	WL_SETUP(ioctl(tty, TIOCSWINSZ, &ws) == 0, "TIOCSWINSZ");
	WL_SETUP(write(master, "ping\n", 5) == 5, "write to the master");
	wl_ready();
	wl_wait();

	WL_CHECK(fstat(tty, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(5, 0),
		 "fd %d is no longer /dev/tty (rdev %u:%u)", tty, major(st.st_rdev), minor(st.st_rdev));
	WL_CHECK(tcgetsid(tty) == getpid(), "/dev/tty's session is %d, not ours", tcgetsid(tty));
	WL_CHECK(tcgetpgrp(tty) == getpgrp(), "foreground group %d, not ours", tcgetpgrp(tty));
	memset(&ws, 0, sizeof(ws));
	WL_CHECK(ioctl(tty, TIOCGWINSZ, &ws) == 0 && ws.ws_row == ROWS && ws.ws_col == COLS, "window size %ux%u",
		 ws.ws_row, ws.ws_col);
	n = read_some(tty, buf, sizeof(buf));
	WL_CHECK(n == 5 && !memcmp(buf, "ping\n", 5), "/dev/tty read %zd bytes, not the queued line", n);
	WL_CHECK(write(tty, "pong", 4) == 4, "write to /dev/tty: %s", strerror(errno));
	/* The echo of the line the master wrote (queued for the master since
	 * before the checkpoint), then what /dev/tty wrote. */
	n = 0;
	while (n < ECHOED_LEN) {
		ssize_t got = read_some(master, buf + n, sizeof(buf) - n);
		if (got <= 0)
			break;
		n += got;
	}
	WL_CHECK(n == ECHOED_LEN && !memcmp(buf, ECHOED, ECHOED_LEN), "the master read %zd bytes, not \"%s\": %.*s", n,
		 ECHOED, (int)n, buf);
	WL_CHECK(hups == 0, "%d SIGHUP before the master was closed", (int)hups);
	close(master);
	WL_WAIT_FOR(hups > 0, 2000);
	WL_CHECK(hups == 1, "%d SIGHUP after the master was closed, not 1", (int)hups);
	close(tty);
	wl_pass();
}
