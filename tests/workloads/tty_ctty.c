/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /dev/tty held open: the root leads a session whose controlling terminal
 * is a pty it holds only the master of (the slave's fd is closed), and it
 * keeps /dev/tty open.  Before the checkpoint the master writes a line
 * that /dev/tty reads; its echo stays queued for the master; echo off,
 * a second line is left for /dev/tty (not carried).  After the
 * restore /dev/tty is still the controlling terminal of our session with
 * its window size; the master reads the echo, once; a line the master
 * writes reaches /dev/tty and what /dev/tty writes the master; no SIGHUP
 * came, and
 * closing the master hangs the session up (one SIGHUP).
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include "wl.h"

#define ROWS 29
#define COLS 83

/* Has @fd something to read within 5 s? */
static bool readable(int fd)
{
	int avail = 0;

	return WL_WAIT_FOR(ioctl(fd, FIONREAD, &avail) == 0 && avail > 0, 5000);
}

/* Read up to @len bytes from @fd, waiting up to 5 s for the first. */
static ssize_t read_some(int fd, char *buf, size_t len)
{
	return readable(fd) ? read(fd, buf, len) : -1;
}

static volatile sig_atomic_t hups;

/* Read exactly @len bytes from @fd, within 5 s a chunk, and compare. */
static void expect(int fd, const char *what, const char *want, ssize_t len)
{
	char buf[64];
	ssize_t n = 0;

	while (n < len) {
		ssize_t got = read_some(fd, buf + n, sizeof(buf) - n);
		if (got <= 0)
			break;
		n += got;
	}
	WL_CHECK(n == len && !memcmp(buf, want, len), "%s read %zd bytes: %.*s", what, n, (int)n, buf);
}

static void on_hup(int sig)
{
	(void)sig;
	hups++;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_hup };
	struct winsize ws = { .ws_row = ROWS, .ws_col = COLS };
	struct termios tio;
	struct stat st;
	char buf[64];
	int master, slave, tty, master2, slave2;
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
	WL_SETUP(read_some(tty, buf, sizeof(buf)) == 5, "read the line from /dev/tty");
	/* A line left for the slave, which only /dev/tty reaches: CRIU's
	 * images cannot carry it (no file of the slave), so it is dropped. */
	WL_SETUP(tcgetattr(tty, &tio) == 0, "tcgetattr on /dev/tty");
	tio.c_lflag &= ~ECHO;
	WL_SETUP(tcsetattr(tty, TCSANOW, &tio) == 0, "tcsetattr on /dev/tty");
	WL_SETUP(write(master, "left\n", 5) == 5, "write to the master");
	WL_SETUP(readable(tty), "the left line reaches /dev/tty");
	master2 = posix_openpt(O_RDWR | O_NOCTTY);
	WL_SETUP(master2 >= 0 && grantpt(master2) == 0 && unlockpt(master2) == 0, "posix_openpt");
	slave2 = open(ptsname(master2), O_RDWR | O_NOCTTY);
	WL_SETUP(slave2 >= 0 && write(master2, "hi\n", 3) == 3, "a second pty");
	wl_ready();
	wl_wait();

	WL_CHECK(fstat(tty, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(5, 0),
		 "fd %d is no longer /dev/tty (rdev %u:%u)", tty, major(st.st_rdev), minor(st.st_rdev));
	WL_CHECK(tcgetsid(tty) == getpid(), "/dev/tty's session is %d, not ours", tcgetsid(tty));
	WL_CHECK(tcgetpgrp(tty) == getpgrp(), "foreground group %d, not ours", tcgetpgrp(tty));
	memset(&ws, 0, sizeof(ws));
	WL_CHECK(ioctl(tty, TIOCGWINSZ, &ws) == 0 && ws.ws_row == ROWS && ws.ws_col == COLS, "window size %ux%u",
		 ws.ws_row, ws.ws_col);
	expect(master, "the master", "ping\r\n", 6);
	expect(slave2, "the second slave", "hi\n", 3);
	expect(master2, "the second master", "hi\r\n", 4);
	WL_CHECK(tcflush(tty, TCIFLUSH) == 0, "tcflush on /dev/tty");
	WL_CHECK(write(master, "pong\n", 5) == 5, "write to the master: %s", strerror(errno));
	n = read_some(tty, buf, sizeof(buf));
	WL_CHECK(n == 5 && !memcmp(buf, "pong\n", 5), "/dev/tty read %zd bytes, not the master's line", n);
	WL_CHECK(write(tty, "back", 4) == 4, "write to /dev/tty: %s", strerror(errno));
	n = read_some(master, buf, sizeof(buf));
	WL_CHECK(n == 4 && !memcmp(buf, "back", 4), "the master read %zd bytes, not what /dev/tty wrote", n);
	WL_CHECK(hups == 0, "%d SIGHUP before the master was closed", (int)hups);
	close(master);
	WL_WAIT_FOR(hups > 0, 2000);
	WL_CHECK(hups == 1, "%d SIGHUP after the master was closed, not 1", (int)hups);
	close(tty);
	wl_pass();
}
