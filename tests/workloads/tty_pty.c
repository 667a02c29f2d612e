/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A session leader whose stdio and controlling terminal is a pty slave
 * whose master is outside the tree (a container's console, `podman run
 * -t`; started by ptyhold), plus a pty pair of its own (both ends in the
 * tree, the master in packet mode).  It changes the terminal's termios
 * and window size and writes the terminal's name (tty[RDEV:DEV]) to
 * "ttykey" in its folder.  After the restore: the terminal is its
 * controlling terminal again with its group in the foreground, with the
 * same settings; the inner pair is connected, at the same index, still in
 * packet mode, with the bytes that were queued at each end.  Then it greets the master's holder and waits for "ping".
 */
#include <poll.h>
#include <sys/stat.h>

#include "tty_wl.h"

static bool pty_said(int fd, const char *want)
{
	char buf[256];
	size_t len = 0;

	while (len < sizeof(buf) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 10000) <= 0)
			break;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		/* Packet mode puts a status byte (0 for data) first. */
		for (ssize_t i = 0; i < n; i++)
			if (!buf[len + i])
				buf[len + i] = '.';
		len += n;
		buf[len] = 0;
		if (strstr(buf, want))
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	static const char hello[] = "hello from the restored tree\n";
	struct termios tio;
	char key[64], path[PATH_MAX], inner_name[64];
	struct stat st;
	int m, s, pkt = 1, index = -1, index_after = -1;

	wl_init(argc, argv);
	WL_SETUP(isatty(0) && getsid(0) == getpid() && tcgetsid(0) == getpid(), "a pty as controlling terminal");
	tty_wl_change();
	WL_SETUP(fstat(0, &st) == 0, "fstat");
	snprintf(key, sizeof(key), "tty[%llx:%llx]\n", (unsigned long long)st.st_rdev, (unsigned long long)st.st_dev);
	wl_path(path, sizeof(path), "ttykey");
	wl_put_file(path, key, strlen(key));

	/* A pair of its own: raw, so nothing echoes back. */
	m = posix_openpt(O_RDWR | O_NOCTTY);
	WL_SETUP(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0, "posix_openpt");
	WL_SETUP(ioctl(m, TIOCGPTN, &index) == 0, "TIOCGPTN");
	snprintf(inner_name, sizeof(inner_name), "%s", ptsname(m));
	s = open(inner_name, O_RDWR | O_NOCTTY);
	WL_SETUP(s >= 0, "open the inner slave");
	WL_SETUP(tcgetattr(s, &tio) == 0, "tcgetattr inner");
	cfmakeraw(&tio);
	WL_SETUP(tcsetattr(s, TCSANOW, &tio) == 0, "tcsetattr inner");
	WL_SETUP(ioctl(m, TIOCPKT, &pkt) == 0, "TIOCPKT");
	/* Bytes left unread at either end. */
	WL_SETUP(write(m, "queued-m2s", 10) == 10 && write(s, "queued-s2m", 10) == 10, "write queued bytes");
	wl_ready();
	wl_wait();

	/* The terminal outside: controlling, foreground, same settings. */
	tty_wl_check();

	/* The inner pair: same index, connected, packet mode. */
	WL_CHECK(ioctl(m, TIOCGPTN, &index_after) == 0 && index_after == index, "inner pty %d is %d now", index,
		 index_after);
	WL_CHECK(!strcmp(ptsname(m), inner_name), "inner slave %s is %s now", inner_name, ptsname(m));
	pkt = 0;
	WL_CHECK(ioctl(m, TIOCGPKT, &pkt) == 0 && pkt, "packet mode lost");
	WL_CHECK(pty_said(s, "queued-m2s"), "the bytes queued for the inner slave are lost");
	WL_CHECK(pty_said(m, "queued-s2m"), "the bytes queued for the inner master are lost");
	WL_CHECK(write(m, "abc", 3) == 3, "write to the inner master: %s", strerror(errno));
	WL_CHECK(pty_said(s, "abc"), "the inner slave did not get what its master wrote");
	WL_CHECK(write(s, "xyz", 3) == 3, "write to the inner slave: %s", strerror(errno));
	WL_CHECK(pty_said(m, "xyz"), "the inner master did not get what its slave wrote");

	/* Talk to whoever holds the master outside. */
	WL_CHECK(write(1, hello, sizeof(hello) - 1) == sizeof(hello) - 1, "write to the terminal: %s", strerror(errno));
	WL_CHECK(pty_said(0, "ping"), "no ping from the terminal's master");
	wl_pass();
}
