/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * For workloads whose stdio and controlling terminal is a pty slave whose
 * master is outside the tree (tty_pty, ctr_tty): the settings they change
 * on it before the checkpoint, and the checks after the restore.
 */
#ifndef OCICR_TESTS_TTY_WL_H
#define OCICR_TESTS_TTY_WL_H

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "wl.h"

#define TTY_WL_ROWS	  37
#define TTY_WL_COLS	  101
#define TTY_WL_VINTR_CHAR 0x07

/* No echo, another interrupt character, a window size. */
static inline void tty_wl_change(void)
{
	struct winsize ws = { .ws_row = TTY_WL_ROWS, .ws_col = TTY_WL_COLS };
	struct termios tio;

	WL_SETUP(tcgetattr(0, &tio) == 0, "tcgetattr");
	tio.c_lflag &= ~(ECHO | ECHOE | ECHOK);
	tio.c_cc[VINTR] = TTY_WL_VINTR_CHAR;
	WL_SETUP(tcsetattr(0, TCSANOW, &tio) == 0, "tcsetattr");
	WL_SETUP(ioctl(0, TIOCSWINSZ, &ws) == 0, "TIOCSWINSZ");
}

/* After restore: the controlling terminal, our group in its foreground,
 * the settings tty_wl_change() made. */
static inline void tty_wl_check(void)
{
	struct winsize ws = {};
	struct termios tio;
	int fd;

	WL_CHECK(isatty(0) && isatty(1), "stdio is no terminal after restore");
	WL_CHECK(tcgetsid(0) == getpid(), "the terminal's session is %d, not ours (%d)", tcgetsid(0), getpid());
	WL_CHECK(tcgetpgrp(0) == getpgrp(), "foreground group %d, ours %d", tcgetpgrp(0), getpgrp());
	fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	WL_CHECK(fd >= 0, "no controlling terminal: /dev/tty: %s", strerror(errno));
	close(fd);
	WL_CHECK(tcgetattr(0, &tio) == 0, "tcgetattr after restore");
	WL_CHECK(!(tio.c_lflag & ECHO), "ECHO is back on");
	WL_CHECK(tio.c_cc[VINTR] == TTY_WL_VINTR_CHAR, "VINTR is 0x%x", tio.c_cc[VINTR]);
	WL_CHECK(ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row == TTY_WL_ROWS && ws.ws_col == TTY_WL_COLS, "window %ux%u",
		 ws.ws_row, ws.ws_col);
}

#endif
