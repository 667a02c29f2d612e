/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ptys held in odd ways (CRIU's tty00, pty01, pty04):
 *  - a child leads a session whose controlling terminal is a pty slave no
 *    task holds open: only the root holds its master; its own child's
 *    group has the terminal's foreground;
 *  - the root holds a slave whose master it closed (hung up);
 *  - the root holds a slave it gave to another owner (fchown).
 * After the restore the child still has its controlling terminal (it can
 * open /dev/tty, whose session is its own, and its child's group is the
 * foreground), the hung-up slave is still
 * hung up, the owner is the same.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>

#include "wl.h"

#define UID 13333
#define GID 44444

static int new_pty(int *ret_slave)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);

	WL_SETUP(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0, "posix_openpt");
	*ret_slave = open(ptsname(m), O_RDWR | O_NOCTTY);
	WL_SETUP(*ret_slave >= 0, "open a slave");
	return m;
}

/* Leads a session on the pty, with its child's group in the foreground. */
static int child(const char *slave)
{
	pid_t fg;
	int fd, r = 0;

	if (setsid() < 0)
		return 10;
	fd = open(slave, O_RDWR);
	if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
		return 11;
	signal(SIGHUP, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	fg = fork();
	if (fg < 0)
		return 12;
	if (fg == 0) {
		close(fd); /* the master stays the only file of the pty */
		setpgid(0, 0);
		for (;;)
			pause();
	}
	if (setpgid(fg, fg) < 0 || tcsetpgrp(fd, fg) < 0)
		return 13;
	close(fd);
	while (!wl_usr1_seen)
		pause();
	fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	if (fd < 0)
		r = 1; /* no controlling terminal */
	else if (tcgetsid(fd) != getpid())
		r = 2;
	else if (tcgetpgrp(fd) != fg)
		r = 3; /* the foreground group is lost */
	kill(fg, SIGKILL);
	waitpid(fg, NULL, 0);
	return r;
}

int main(int argc, char **argv)
{
	char slave_name[64];
	struct stat st;
	int m1, s1, m2, s2, m3, s3, status;
	pid_t pid;

	wl_init(argc, argv);
	m1 = new_pty(&s1);
	snprintf(slave_name, sizeof(slave_name), "%s", ptsname(m1));
	close(s1);
	pid = fork();
	WL_SETUP(pid >= 0, "fork");
	if (pid == 0)
		_exit(child(slave_name));

	m2 = new_pty(&s2);
	close(m2); /* s2 hangs up */
	WL_SETUP(write(s2, "x", 1) < 0 && errno == EIO, "a hung-up slave");

	m3 = new_pty(&s3);
	WL_SETUP(fchown(s3, UID, GID) == 0, "fchown a slave");

	/* The child is in its session with its terminal. */
	for (int i = 0; i < 500 && tcgetsid(m1) != pid; i++)
		wl_sleep_us(10000);
	WL_SETUP(tcgetsid(m1) == pid, "the child's session");
	wl_ready();
	wl_wait();

	WL_CHECK(tcgetsid(m1) == pid, "pty 1 belongs to session %d, not the child's %d", tcgetsid(m1), pid);
	kill(pid, SIGUSR1);
	WL_CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	WL_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's terminal after restore: %s (status 0x%x)",
		 WIFEXITED(status) && WEXITSTATUS(status) == 3 ? "another foreground group" : "none", status);
	WL_CHECK(write(s2, "x", 1) < 0 && errno == EIO, "the hung-up slave is not hung up");
	WL_CHECK(fstat(s3, &st) == 0 && st.st_uid == UID && st.st_gid == GID, "slave owner %u:%u", st.st_uid,
		 st.st_gid);
	(void)m3;
	wl_pass();
}
