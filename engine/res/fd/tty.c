// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Terminals: Unix98 pseudo-terminals, as CRIU images them (one tty-info
 * entry per terminal, id index * 2 + is_master; a TTY file entry per open
 * file, naming the terminal's path through a REG entry).
 *
 *  - A pair both of whose ends are in the tree comes back as a new pair,
 *    at the same index where the devpts instance has it free.
 *  - A slave whose master is outside the tree (a shell job's terminal, a
 *    container's console) is either given by the caller
 *    (--inherit-fd fd[N]:tty[RDEV:DEV]), or, for --shell-job, the
 *    restoring shell's terminal, or (RPC orphan_pts_master) a new pty
 *    whose master goes to the caller at the orphan-pts-master notify
 *    point.  Dumped with --external tty[RDEV:DEV] it is an EXT_TTY entry
 *    that only an inherited fd can restore.
 *
 * /dev/tty, the console and the virtual consoles come back by opening the
 * device node the file named (/dev/tty from inside its session).
 *
 * Settings come back with the terminal: termios (and the locked ones),
 * the window size, packet mode, the slave lock, and the session that
 * has it as controlling terminal (taken by the session's leader right
 * after its setsid(), so the tasks it makes inherit it) with its
 * foreground process group.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

#include "regfile.pb-c.h"
#include "tty.pb-c.h"

#define PTS_MAJOR     136 /* to 143: Unix98 pty slaves */
#define PTS_MAJORS    8
#define TTYAUX_MAJOR  5 /* /dev/tty 0, /dev/console 1, /dev/ptmx 2 */
#define CTTY_MINOR    0
#define CONSOLE_MINOR 1
#define PTMX_MINOR    2
#define VT_MAJOR      4 /* minors 1 to 63: the virtual consoles */
#define VT_MINOR_MAX  63
/* CRIU's indexes of the terminals that are not ptys (one each) */
#define CONSOLE_INDEX	  1002
#define VT_INDEX	  1004
#define CTTY_INDEX	  1006
#define EXT_INDEX	  1012 /* and up: external terminals */
#define MAX_PTY_INDEX	  1000
#define TERMIOS_NCC	  19 /* CRIU's c_cc words */
#define tty_is_master(id) ((id)&1)
#define tty_index_of(id)  ((id) >> 1)

bool oc_is_tty_dev(const struct stat *st)
{
	unsigned maj = major(st->st_rdev);
	/* pts slaves, /dev/tty, the console, ptmx, and the virtual consoles */
	return S_ISCHR(st->st_mode) && ((maj >= PTS_MAJOR && maj < PTS_MAJOR + PTS_MAJORS) || maj == 5 || maj == 4);
}

static bool tty_match(const struct oc_dump_fd *fd)
{
	return oc_is_tty_dev(&fd->st);
}

static bool is_pts(dev_t rdev)
{
	return major(rdev) >= PTS_MAJOR && major(rdev) < PTS_MAJOR + PTS_MAJORS;
}

static bool is_ptmx(dev_t rdev)
{
	return major(rdev) == TTYAUX_MAJOR && minor(rdev) == PTMX_MINOR;
}

/* CRIU's name of a terminal, for --external and --inherit-fd. */
static void tty_key(char *buf, size_t size, uint64_t rdev, uint64_t dev)
{
	snprintf(buf, size, "tty[%" PRIx64 ":%" PRIx64 "]", rdev, dev);
}

static TermiosEntry *dump_termios(struct oc_arena *a, const struct termios *t)
{
	TermiosEntry *e = OC_ARENA_MSG(a, TermiosEntry, TERMIOS_ENTRY__INIT);
	uint32_t *cc = OC_ARENA_ARRAY(a, uint32_t, TERMIOS_NCC);

	if (!e || !cc)
		return NULL;
	e->c_iflag = t->c_iflag;
	e->c_oflag = t->c_oflag;
	e->c_cflag = t->c_cflag;
	e->c_lflag = t->c_lflag;
	e->c_line = t->c_line;
	e->c_ispeed = cfgetispeed(t);
	e->c_ospeed = cfgetospeed(t);
	/* One c_cc byte per word, as CRIU writes them. */
	for (int i = 0; i < TERMIOS_NCC; i++)
		cc[i] = i < NCCS ? t->c_cc[i] : 0;
	e->n_c_cc = TERMIOS_NCC;
	e->c_cc = cc;
	return e;
}

static void load_termios(const TermiosEntry *e, struct termios *t)
{
	memset(t, 0, sizeof(*t));
	t->c_iflag = e->c_iflag;
	t->c_oflag = e->c_oflag;
	t->c_cflag = e->c_cflag;
	t->c_lflag = e->c_lflag;
	t->c_line = e->c_line;
	for (size_t i = 0; i < e->n_c_cc && i < NCCS; i++)
		t->c_cc[i] = e->c_cc[i];
	cfsetispeed(t, e->c_ispeed);
	cfsetospeed(t, e->c_ospeed);
}

/*
 * The session whose controlling terminal @rdev is, and its foreground
 * group, in the tree's pid namespace: from a task of the tree that has it
 * as controlling terminal (/proc/PID/stat; TIOCGSID answers only a member
 * of that session).  0 and 0 when none has.
 */
static void tty_session(struct oc_dump_task *holder, dev_t rdev, uint32_t *ret_sid, uint32_t *ret_pgrp)
{
	struct oc_dump_ctx *ctx = holder->ctx;

	*ret_sid = *ret_pgrp = 0;
	for (size_t i = 0; i <= ctx->n_tasks; i++) {
		const struct oc_proc_stat *st = i < ctx->n_tasks ? &ctx->tasks[i].stat : &holder->stat;
		unsigned nr = (unsigned)st->tty_nr;

		if (!st->pid || !nr || major(rdev) != ((nr >> 8) & 0xfff) ||
		    minor(rdev) != ((nr & 0xff) | ((nr >> 12) & 0xfff00)))
			continue;
		*ret_sid = oc_dump_vpid(ctx, st->session);
		*ret_pgrp = st->tpgid > 0 ? oc_dump_vpid(ctx, st->tpgid) : 0;
		return;
	}
}

/* Does a task of the tree hold the master of pty @index (a ptmx fd whose
 * fdinfo says tty-index: @index)? */
static bool tree_holds_master(struct oc_dump_ctx *ctx, int index)
{
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		char dir[64], path[320], link[64], buf[512];
		_cleanup_(closedirp) DIR *d = NULL;
		struct dirent *e;

		snprintf(dir, sizeof(dir), "/proc/%d/fd", ctx->tasks[i].pid);
		d = opendir(dir);
		while (d && (e = readdir(d))) {
			ssize_t n;
			int fd;

			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = 0;
			if (strcmp(link, "/dev/ptmx") && !strstr(link, "/ptmx"))
				continue;
			snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", ctx->tasks[i].pid, e->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
			if (fd >= 0)
				close(fd);
			if (n <= 0)
				continue;
			buf[n] = 0;
			const char *ti = strstr(buf, "tty-index:");
			if (ti && atoi(ti + 10) == index)
				return true;
		}
	}
	return false;
}

/* Does a task of the tree hold pty slave @rdev of devpts instance @dev
 * (by its name: /dev/tty does not count)? */
static bool tree_holds_slave(struct oc_dump_ctx *ctx, dev_t rdev, dev_t dev)
{
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		char dir[64], path[320];
		_cleanup_(closedirp) DIR *d = NULL;
		struct dirent *e;
		struct stat st;

		snprintf(dir, sizeof(dir), "/proc/%d/fd", ctx->tasks[i].pid);
		d = opendir(dir);
		while (d && (e = readdir(d))) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (e->d_name[0] != '.' && stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == rdev &&
			    st.st_dev == dev)
				return true;
		}
	}
	return false;
}

/* The tty-info entry queued under @id, or NULL. */
static TtyInfoEntry *queued_info(struct oc_dump_ctx *ctx, uint32_t id)
{
	ProtobufCMessage **infos;
	size_t n = oc_dump_queued(ctx, OC_IMG_TTY_INFO, &infos);

	for (size_t i = 0; i < n; i++)
		if (((TtyInfoEntry *)infos[i])->id == id)
			return (TtyInfoEntry *)infos[i];
	return NULL;
}

/* Which terminal @fd is: its info id and type; refuses what cannot be
 * restored. */
static int classify(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id, TtyType *ret_type)
{
	struct oc_dump_ctx *ctx = t->ctx;
	const struct oc_dump_opts *o = ctx->opts;
	char key[48];
	int index;

	tty_key(key, sizeof(key), fd->st.st_rdev, fd->st.st_dev);
	for (size_t i = 0; i < o->n_externals; i++) {
		if (strcmp(o->externals[i], key))
			continue;
		/* One entry per external terminal, at CRIU's indexes. */
		ProtobufCMessage **infos;
		size_t n = oc_dump_queued(ctx, OC_IMG_TTY_INFO, &infos), n_ext = 0;
		for (size_t j = 0; j < n; j++) {
			TtyInfoEntry *ti = (TtyInfoEntry *)infos[j];
			if (ti->type != TTY_TYPE__EXT_TTY)
				continue;
			if (ti->rdev == (uint32_t)fd->st.st_rdev && ti->dev == (uint32_t)fd->st.st_dev) {
				*ret_id = ti->id;
				*ret_type = TTY_TYPE__EXT_TTY;
				return 0;
			}
			n_ext++;
		}
		*ret_id = (EXT_INDEX + 1 + n_ext) << 1;
		*ret_type = TTY_TYPE__EXT_TTY;
		return 0;
	}
	unsigned maj = major(fd->st.st_rdev), min = minor(fd->st.st_rdev);
	/* One entry each for /dev/tty, the console and the virtual consoles,
	 * as CRIU: each file's path says which device node it opened. */
	if (maj == TTYAUX_MAJOR && (min == CTTY_MINOR || min == CONSOLE_MINOR)) {
		*ret_type = min == CTTY_MINOR ? TTY_TYPE__CTTY : TTY_TYPE__CONSOLE;
		*ret_id = (min == CTTY_MINOR ? CTTY_INDEX : CONSOLE_INDEX) << 1 | 1;
		return 0;
	}
	if (maj == VT_MAJOR && min >= 1 && min <= VT_MINOR_MAX) {
		/* A shell job's own virtual console is its "slave" in CRIU's ids. */
		*ret_type = TTY_TYPE__VT;
		*ret_id = VT_INDEX << 1 | !o->shell_job;
		return 0;
	}
	*ret_type = TTY_TYPE__PTY;
	if (is_ptmx(fd->st.st_rdev)) {
		if (ioctl(fd->local, TIOCGPTN, &index) < 0)
			return oc_error_errno(-errno, "TIOCGPTN on %s", fd->link);
		*ret_id = index << 1 | 1;
		return 0;
	}
	if (!is_pts(fd->st.st_rdev))
		return oc_error(-EOPNOTSUPP,
				"%s: terminal device %u:%u is not supported (only pseudo-terminals, /dev/tty, the "
				"console and the virtual consoles are)",
				fd->link, maj, min);
	index = (major(fd->st.st_rdev) - PTS_MAJOR) * 256 + minor(fd->st.st_rdev);
	if (index >= MAX_PTY_INDEX)
		return oc_error(-EOPNOTSUPP, "%s: pty index %d is too big", fd->link, index);
	*ret_id = index << 1;
	/* A hung-up slave (its master closed) comes back hung up: no master
	 * is needed for it. */
	struct termios tio;
	bool hung_up = tcgetattr(fd->local, &tio) < 0 && errno == EIO;
	if (!hung_up && !o->shell_job && !o->orphan_pts_master && !tree_holds_master(ctx, index))
		return oc_error(-EPERM,
				"%s: a pty whose master is outside the tree: dump with --external %s (then "
				"restore with --inherit-fd fd[N]:%s) or with --shell-job",
				fd->link, key, key);
	return 0;
}

#define QUEUED_MAX 16384 /* CRIU's bound on a pty's queued bytes */

/* Read what is queued for @fd to read (whole lines in canonical mode, as
 * a read gets them), at most QUEUED_MAX bytes.  A master in packet mode
 * puts a status byte before each read's data: dropped. */
static ssize_t read_queued(int fd, uint8_t *buf, bool packet)
{
	size_t len = 0;
	int avail;

	while (len < QUEUED_MAX && ioctl(fd, FIONREAD, &avail) == 0 && avail > 0) {
		size_t want = MIN((size_t)avail, QUEUED_MAX - len);
		ssize_t n = read(fd, buf + len, want + packet);
		if (n <= 0)
			break;
		if (packet) {
			if (buf[len] != 0) /* TIOCPKT_DATA: else status only */
				continue;
			memmove(buf + len, buf + len + 1, n - 1);
			n--;
		}
		len += n;
	}
	return len;
}

/* Write @len bytes into @fd (an end of a pty, whose other end is
 * @reader) with the terminal's processing that would change them off:
 * output processing, echo and signals; the termios is put back after. */
static void write_raw(int fd, int reader, int any_end, const uint8_t *data, size_t len)
{
	struct pollfd flush = { .fd = reader, .events = POLLIN };
	struct termios was, raw;
	bool changed = tcgetattr(any_end, &was) == 0;

	if (changed) {
		raw = was;
		raw.c_oflag &= ~OPOST;
		raw.c_lflag &= ~(ECHO | ECHOE | ECHOK | ECHONL | ECHOCTL | ECHOKE | ISIG);
		changed = tcsetattr(any_end, TCSANOW, &raw) == 0;
	}
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, data + done, len - done);
		if (n <= 0)
			break;
		done += n;
	}
	/* The reader's line discipline takes the bytes in later, in a
	 * kernel worker, with the termios of then: a poll of the reader,
	 * which finds nothing to read yet, has it done now. */
	poll(&flush, 1, 0);
	if (changed)
		tcsetattr(any_end, TCSANOW, &was);
}

/*
 * The bytes queued in a pty pair whose master is in the tree (CRIU's
 * tty-data.img: each entry names the end that was to read them).  Read
 * from each end and written back at once through the other, so the tree
 * finds them where they were whatever becomes of the dump.  The slave's
 * only where the tree holds the slave: CRIU refuses bytes for a terminal
 * it has no file of.
 */
static int dump_queued(struct oc_dump_ctx *ctx, int master, uint32_t master_id, bool packet)
{
	_cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct {
		int from, to;
		uint32_t id;
	} ends[2] = { { master, slave, master_id }, { slave, master, master_id & ~1u } };
	struct stat st;
	int n_ends = 2;

	if (slave < 0)
		return 0; /* a locked pty: nothing can have been written */
	if (fstat(slave, &st) < 0 || !tree_holds_slave(ctx, st.st_rdev, st.st_dev))
		n_ends = 1;
	for (int e = 0; e < n_ends; e++) {
		uint8_t *buf = oc_arena_alloc(ctx->arena, QUEUED_MAX);
		ssize_t len;

		if (!buf)
			return -ENOMEM;
		len = read_queued(ends[e].from, buf, packet && e == 0);
		if (len <= 0)
			continue;
		write_raw(ends[e].to, ends[e].from, slave, buf, len);
		TtyDataEntry *td = OC_ARENA_MSG(ctx->arena, TtyDataEntry, TTY_DATA_ENTRY__INIT);
		if (!td)
			return -ENOMEM;
		td->tty_id = ends[e].id;
		td->data.data = buf;
		td->data.len = len;
		int r = oc_dump_queue(ctx, OC_IMG_TTY_DATA, &td->base, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

static int dump_info(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t id, TtyType type)
{
	struct oc_dump_ctx *ctx = t->ctx;
	struct oc_arena *a = ctx->arena;
	TtyInfoEntry *ti = OC_ARENA_MSG(a, TtyInfoEntry, TTY_INFO_ENTRY__INIT);
	WinsizeEntry *ws = OC_ARENA_MSG(a, WinsizeEntry, WINSIZE_ENTRY__INIT);
	struct termios tio, locked;
	struct winsize w = {};
	int flag = 0;

	if (!ti || !ws)
		return -ENOMEM;
	ti->id = id;
	ti->type = type;
	ti->rdev = fd->st.st_rdev;
	ti->has_dev = true;
	ti->dev = fd->st.st_dev;
	ti->has_uid = ti->has_gid = true;
	ti->uid = oc_dump_uid(ctx, fd->st.st_uid);
	ti->gid = oc_dump_gid(ctx, fd->st.st_gid);
	if (type == TTY_TYPE__PTY) {
		ti->pty = OC_ARENA_MSG(a, TtyPtyEntry, TTY_PTY_ENTRY__INIT);
		if (!ti->pty)
			return -ENOMEM;
		ti->pty->index = tty_index_of(id);
	}
	/* A hung-up terminal has no settings left: its entry says so. */
	if (tcgetattr(fd->local, &tio) < 0) {
		if (errno != EIO)
			return oc_error_errno(-errno, "tcgetattr on %s", fd->link);
		return oc_dump_queue(ctx, OC_IMG_TTY_INFO, &ti->base, NULL);
	}
	if (type == TTY_TYPE__CTTY) {
		/* /dev/tty is its opener's controlling terminal. */
		ti->sid = t->stat.tty_nr ? oc_dump_vpid(ctx, t->stat.session) : 0;
		ti->pgrp = t->stat.tty_nr && t->stat.tpgid > 0 ? oc_dump_vpid(ctx, t->stat.tpgid) : 0;
	} else if (type != TTY_TYPE__PTY || !tty_is_master(id)) {
		tty_session(t, fd->st.st_rdev, &ti->sid, &ti->pgrp);
	} else {
		/* Through a master anyone may ask for the slave's session. */
		pid_t sid = 0, pgrp = 0;
		if (ioctl(fd->local, TIOCGSID, &sid) == 0 && sid > 0)
			ti->sid = oc_dump_vpid(ctx, sid);
		if (ioctl(fd->local, TIOCGPGRP, &pgrp) == 0 && pgrp > 0)
			ti->pgrp = oc_dump_vpid(ctx, pgrp);
	}
	if (type == TTY_TYPE__PTY && tty_is_master(id)) {
		ti->locked = ioctl(fd->local, TIOCGPTLCK, &flag) == 0 && flag;
		ti->packet_mode = ioctl(fd->local, TIOCGPKT, &flag) == 0 && flag;
	}
	ti->exclusive = ioctl(fd->local, TIOCGEXCL, &flag) == 0 && flag;
	ti->termios = dump_termios(a, &tio);
	if (ioctl(fd->local, TIOCGLCKTRMIOS, &locked) < 0)
		memset(&locked, 0, sizeof(locked));
	ti->termios_locked = dump_termios(a, &locked);
	if (!ti->termios || !ti->termios_locked)
		return -ENOMEM;
	ioctl(fd->local, TIOCGWINSZ, &w);
	ws->ws_row = w.ws_row;
	ws->ws_col = w.ws_col;
	ws->ws_xpixel = w.ws_xpixel;
	ws->ws_ypixel = w.ws_ypixel;
	ti->winsize = ws;
	if (type == TTY_TYPE__PTY && tty_is_master(id)) {
		int r = dump_queued(ctx, fd->local, id, ti->packet_mode);
		if (r < 0)
			return r;
	}
	return oc_dump_queue(ctx, OC_IMG_TTY_INFO, &ti->base, NULL);
}

static int tty_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	struct oc_dump_ctx *ctx = t->ctx;
	struct oc_arena *a = ctx->arena;
	uint32_t info_id = 0;
	TtyType type = TTY_TYPE__UNKNOWN;
	int r;

	r = classify(t, fd, &info_id, &type);
	if (r < 0)
		return r;
	if (!queued_info(ctx, info_id) && (r = dump_info(t, fd, info_id, type)) < 0)
		return r;

	FileEntry *fe = OC_ARENA_MSG(a, FileEntry, FILE_ENTRY__INIT);
	TtyFileEntry *tf = OC_ARENA_MSG(a, TtyFileEntry, TTY_FILE_ENTRY__INIT);
	if (!fe || !tf)
		return -ENOMEM;
	if (type != TTY_TYPE__EXT_TTY) {
		/* The path of the terminal, as a REG entry the TTY entry names. */
		FileEntry *rfe = OC_ARENA_MSG(a, FileEntry, FILE_ENTRY__INIT);
		RegFileEntry *rf = OC_ARENA_MSG(a, RegFileEntry, REG_FILE_ENTRY__INIT);
		FownEntry *rfown = OC_ARENA_MSG(a, FownEntry, FOWN_ENTRY__INIT);
		if (!rfe || !rf || !rfown)
			return -ENOMEM;
		rfe->type = FD_TYPES__REG;
		rfe->id = rf->id = oc_dump_new_file_id(ctx);
		rf->flags = fd->info.flags & ~O_CLOEXEC;
		rf->fown = rfown;
		rf->name = oc_arena_strdup(a, fd->link);
		rf->has_mode = true;
		rf->mode = fd->st.st_mode;
		rfe->reg = rf;
		r = oc_dump_add_file(ctx, rfe);
		if (r < 0)
			return r;
		tf->has_regf_id = true;
		tf->regf_id = rfe->id;
	}
	fe->type = FD_TYPES__TTY;
	fe->id = tf->id = oc_dump_new_file_id(ctx);
	tf->tty_info_id = info_id;
	tf->flags = fd->info.flags & ~O_CLOEXEC;
	r = oc_dump_fown(t->ctx, fd->local, &tf->fown);
	if (r < 0)
		return r;
	fe->tty = tf;
	r = oc_dump_add_file(ctx, fe);
	if (r < 0)
		return r;
	*ret_id = fe->id;
	return 0;
}

/* ---- restore ------------------------------------------------------------ */

static TtyInfoEntry *find_info(struct oc_rst_ctx *ctx, uint32_t id)
{
	const struct oc_rst_image *im = oc_rst_image(ctx, OC_IMG_TTY_INFO);

	for (size_t i = 0; i < im->n; i++)
		if (((TtyInfoEntry *)im->msgs[i])->id == id)
			return (TtyInfoEntry *)im->msgs[i];
	return NULL;
}

/* A TTY file entry of terminal @info_id, or NULL. */
static FileEntry *file_of_info(struct oc_rst_ctx *ctx, uint32_t info_id)
{
	for (size_t i = 0; i < ctx->n_files; i++)
		if (ctx->files[i]->type == FD_TYPES__TTY && ctx->files[i]->tty &&
		    ctx->files[i]->tty->tty_info_id == info_id)
			return ctx->files[i];
	return NULL;
}

/* The path a TTY entry names (its REG entry), or NULL. */
static const char *tty_path(struct oc_rst_ctx *ctx, const TtyFileEntry *tf)
{
	FileEntry *rfe = tf->has_regf_id ? oc_rst_find_file(ctx, tf->regf_id) : NULL;

	return rfe && rfe->reg ? rfe->reg->name : NULL;
}

/* termios, locked termios (needs CAP_SYS_ADMIN: best effort), window size,
 * and for a device node we opened (a pty slave of ours, the console, a
 * virtual console) its owner. */
static int restore_settings(struct oc_rst_ctx *ctx, int fd, const TtyInfoEntry *ti, bool own_slave)
{
	struct termios tio;

	if (own_slave && ti->has_uid && ti->has_gid &&
	    fchown(fd, oc_rst_uid(ctx, ti->uid), oc_rst_gid(ctx, ti->gid)) < 0)
		return oc_error_errno(-errno, "cannot give the terminal to %u:%u", ti->uid, ti->gid);

	if (ti->termios) {
		load_termios(ti->termios, &tio);
		if (ioctl(fd, TCSETS, &tio) < 0)
			return oc_error_errno(-errno, "cannot set the terminal's termios");
	}
	if (ti->termios_locked) {
		load_termios(ti->termios_locked, &tio);
		if (ioctl(fd, TIOCSLCKTRMIOS, &tio) < 0)
			pr_warn("terminal %u: cannot lock its termios: %m", ti->id);
	}
	if (ti->winsize) {
		struct winsize w = { ti->winsize->ws_row, ti->winsize->ws_col, ti->winsize->ws_xpixel,
				     ti->winsize->ws_ypixel };
		if (ioctl(fd, TIOCSWINSZ, &w) < 0)
			return oc_error_errno(-errno, "cannot set the terminal's window size");
	}
	return 0;
}

/* A new master in the devpts instance of @slave_path (its ptmx, else
 * /dev/ptmx), at @index if the instance has it free: masters are opened
 * until one gets it or passes it.  Unlocked. */
static int open_master(const char *slave_path, int index, int flags, int *ret_index)
{
	char ptmx[4096];
	const char *slash = slave_path ? strrchr(slave_path, '/') : NULL;
	int held[64], n_held = 0, fd = -1, got = -1, unlock = 0;

	if (slash && slash - slave_path + 6 < (ptrdiff_t)sizeof(ptmx))
		snprintf(ptmx, sizeof(ptmx), "%.*s/ptmx", (int)(slash - slave_path), slave_path);
	else
		snprintf(ptmx, sizeof(ptmx), "/dev/ptmx");
	for (;;) {
		fd = open(ptmx, (flags & O_ACCMODE) | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 && strcmp(ptmx, "/dev/ptmx")) {
			snprintf(ptmx, sizeof(ptmx), "/dev/ptmx");
			continue;
		}
		if (fd < 0) {
			fd = oc_error_errno(-errno, "cannot open %s", ptmx);
			break;
		}
		if (ioctl(fd, TIOCGPTN, &got) < 0) {
			close(fd);
			fd = oc_error_errno(-errno, "TIOCGPTN on a new master");
			break;
		}
		/* Lower indexes are free: hold them until ours comes. */
		if (got >= index || n_held == (int)(sizeof(held) / sizeof(held[0])))
			break;
		held[n_held++] = fd;
	}
	if (fd >= 0 && got != index && n_held) {
		/* Taken: the first one will do. */
		close(fd);
		fd = held[0];
		held[0] = -1;
		ioctl(fd, TIOCGPTN, &got);
	}
	while (n_held--)
		if (held[n_held] >= 0)
			close(held[n_held]);
	if (fd >= 0 && ioctl(fd, TIOCSPTLCK, &unlock) < 0) {
		close(fd);
		return oc_error_errno(-errno, "cannot unlock a new pty");
	}
	*ret_index = got;
	return fd;
}

/* The slave of @master as the entry wants it: by its path where the
 * index is the same, else through the master (another index). */
static int open_slave(int master, const char *path, int want, int got, uint32_t flags)
{
	int fd;

	flags = (flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY | O_CLOEXEC;
	if (want == got && path) {
		fd = open(path, flags);
		if (fd >= 0)
			return fd;
	}
	if (want != got)
		pr_warn("pty %d comes back as pty %d: that index is taken", want, got);
	fd = ioctl(master, TIOCGPTPEER, flags);
	return fd < 0 ? oc_error_errno(-errno, "cannot open the slave of pty %d", got) : fd;
}

int oc_rst_tty_premake(struct oc_rst_ctx *ctx, const char *slave_path, dev_t dev, int index)
{
	struct oc_rst_pty *p;
	struct stat st;
	int got, master;

	if (stat(slave_path, &st) == 0)
		return 0;
	master = open_master(slave_path, index, O_RDWR, &got);
	if (master < 0)
		return oc_error_wrap(master, "pty %d for a bind mount of %s", index, slave_path);
	/* open_master falls back to /dev/ptmx: the slave must be there now. */
	if (got != index || stat(slave_path, &st) < 0) {
		close(master);
		return oc_error(-EBUSY, "cannot make pty %d of the devpts instance of %s for a bind mount of it", index,
				slave_path);
	}
	p = realloc(ctx->premade_ptys, (ctx->n_premade_ptys + 1) * sizeof(*p));
	if (!p) {
		close(master);
		return -ENOMEM;
	}
	ctx->premade_ptys = p;
	ctx->premade_ptys[ctx->n_premade_ptys++] = (struct oc_rst_pty){ .dev = dev, .index = index, .master = master };
	pr_debug("made pty %d at %s for a bind mount of it", index, slave_path);
	return 0;
}

/* The master made early for terminal @ti's pty (oc_rst_tty_premake), now
 * the caller's, or -1. */
static int take_premade(struct oc_rst_ctx *ctx, const TtyInfoEntry *ti)
{
	for (size_t i = 0; ti->pty && ti->has_dev && i < ctx->n_premade_ptys; i++) {
		struct oc_rst_pty *p = &ctx->premade_ptys[i];
		if (p->master < 0 || p->dev != (dev_t)ti->dev || p->index != (int)ti->pty->index)
			continue;
		int fd = p->master;
		p->master = -1;
		return fd;
	}
	return -1;
}

/* A slave whose master is not in the tree, with no inherited fd. */
static int open_orphan_slave(struct oc_rst_files *files, FileEntry *fe, const TtyInfoEntry *ti, int *ret_fd)
{
	struct oc_rst_ctx *ctx = files->ctx;
	int index = ti->pty ? (int)ti->pty->index : 0, got, master, fd;
	const char *path = tty_path(ctx, fe->tty);

	if (ctx->opts->orphan_pts_master) {
		if (ctx->orphan_pts_master >= 0) {
			/* Another open file of the same slave. */
			if (ctx->orphan_pts_info != ti->id)
				return oc_error(-EOPNOTSUPP,
						"more than one pty slave whose master is outside the tree");
			if (ioctl(ctx->orphan_pts_master, TIOCGPTN, &got) < 0)
				return oc_error_errno(-errno, "TIOCGPTN");
			fd = open_slave(ctx->orphan_pts_master, path, index, got, fe->tty->flags);
		} else {
			master = take_premade(ctx, ti);
			if (master >= 0 && ioctl(master, TIOCGPTN, &got) < 0) {
				close(master);
				return oc_error_errno(-errno, "TIOCGPTN");
			}
			if (master < 0)
				master = open_master(path, index, O_RDWR, &got);
			if (master < 0)
				return master;
			fd = open_slave(master, path, index, got, fe->tty->flags);
			if (fd < 0) {
				close(master);
				return fd;
			}
			ctx->orphan_pts_master = master;
			ctx->orphan_pts_info = ti->id;
		}
		if (fd < 0)
			return fd;
		*ret_fd = fd;
		return 0;
	}
	if (files->ctty_fd < 0) {
		char key[48];
		tty_key(key, sizeof(key), ti->rdev, ti->dev);
		return oc_error(-EPERM,
				"the image holds a terminal (file %u) whose other end was outside the tree: give "
				"one with --inherit-fd fd[N]:%s, or restore a shell job with --shell-job from a "
				"terminal",
				fe->id, key);
	}
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", files->ctty_fd);
	fd = open(proc, (fe->tty->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot reopen the terminal for file %u", fe->id);
	*ret_fd = fd;
	return 0;
}

/* Both ends in the tree: the master first, the slave through it. */
static int open_pair_end(struct oc_rst_files *files, FileEntry *fe, const TtyInfoEntry *ti, int *ret_fd)
{
	struct oc_rst_ctx *ctx = files->ctx;
	int index = ti->pty ? (int)ti->pty->index : 0, got, fd, r;

	if (tty_is_master(ti->id)) {
		const char *path = tty_path(ctx, fe->tty);
		fd = take_premade(ctx, ti);
		got = index;
		if (fd < 0)
			fd = open_master(path && strstr(path, "/ptmx") ? path : NULL, index, fe->tty->flags, &got);
		if (fd < 0)
			return fd;
		if (got != index)
			pr_warn("pty %d comes back as pty %d: that index is taken", index, got);
		r = oc_rst_set_status_flags(fd, fe->tty->flags);
		if (r < 0) {
			close(fd);
			return r;
		}
		int pkt = ti->packet_mode;
		if (pkt && ioctl(fd, TIOCPKT, &pkt) < 0) {
			r = oc_error_errno(-errno, "pty %d: cannot set packet mode", index);
			close(fd);
			return r;
		}
		*ret_fd = fd;
		return 0;
	}
	FileEntry *mfe = file_of_info(ctx, ti->id | 1);
	int master;
	r = oc_rst_open_file(files, mfe->id, &master);
	if (r < 0)
		return r;
	if (ioctl(master, TIOCGPTN, &got) < 0)
		return oc_error_errno(-errno, "TIOCGPTN");
	fd = open_slave(master, tty_path(ctx, fe->tty), index, got, fe->tty->flags);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

/* A slave that was hung up: one of a new pty whose master is closed. */
static int open_hung_up(FileEntry *fe, int *ret_fd)
{
	int got, master = open_master(NULL, 0, O_RDWR, &got), fd;

	if (master < 0)
		return master;
	fd = ioctl(master, TIOCGPTPEER, (fe->tty->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		fd = oc_error_errno(-errno, "cannot open the slave of a new pty");
	close(master);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

/* The console or a virtual console: the device node the file names, as
 * CRIU restores them. */
static int open_device(struct oc_rst_ctx *ctx, FileEntry *fe, int *ret_fd)
{
	const char *path = tty_path(ctx, fe->tty);
	int fd;

	if (!path)
		return oc_error(-EINVAL, "files.img: terminal file %u names no device node", fe->id);
	fd = open(path, (fe->tty->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot open terminal %s (file %u)", path, fe->id);
	*ret_fd = fd;
	return 0;
}

/* An fd of terminal @ti among the files opened for the tree, or -1. */
static int tree_fd_of(struct oc_rst_files *files, const TtyInfoEntry *ti)
{
	FileEntry *fe = file_of_info(files->ctx, ti->id);
	int fd;

	return fe && oc_rst_open_file(files, fe->id, &fd) == 0 ? fd : -1;
}

/* Does a task of the tree lead session @sid, and make it at restore (a
 * shell job's root stays in the restoring shell's)? */
static bool tree_makes_session(struct oc_rst_ctx *ctx, uint32_t sid)
{
	struct oc_rst_task *lt = sid ? oc_rst_task_by_pid(ctx, sid) : NULL;

	return lt && lt->pstree->sid == lt->pstree->pid && !(lt == ctx->tasks && ctx->opts->shell_job);
}

/* The terminal of the tree that session @sid has as its controlling
 * terminal, or NULL. */
static const TtyInfoEntry *session_terminal(struct oc_rst_ctx *ctx, uint32_t sid)
{
	const struct oc_rst_image *im = oc_rst_image(ctx, OC_IMG_TTY_INFO);

	for (size_t i = 0; sid && i < im->n; i++) {
		TtyInfoEntry *ti = (TtyInfoEntry *)im->msgs[i];
		if (ti->sid == sid && ti->type != TTY_TYPE__CTTY && ti->termios && file_of_info(ctx, ti->id))
			return ti;
	}
	return NULL;
}

/*
 * /dev/tty opened in session @ti->sid: a file of that session's
 * controlling terminal, which only a member of the session can open, and
 * the tree's session is not made yet.  A helper sharing our fd table
 * makes a session of its own with that terminal, opens /dev/tty into a
 * slot we hold, and gives the terminal up (TIOCNOTTY: no hangup) before
 * it exits, for the tree's session leader to take.  A session the tree
 * does not lead (a shell job's) is ours: /dev/tty as we open it.
 */
static int open_ctty(struct oc_rst_files *files, FileEntry *fe, const TtyInfoEntry *ti, int *ret_fd)
{
	struct oc_rst_ctx *ctx = files->ctx;
	const TtyInfoEntry *real = session_terminal(ctx, ti->sid);
	const char *path = tty_path(ctx, fe->tty) ?: "/dev/tty";
	int flags = (fe->tty->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY | O_CLOEXEC;
	int term, slot, status;
	pid_t pid;

	if (!tree_makes_session(ctx, ti->sid)) {
		int fd = open(path, flags);
		if (fd < 0)
			return oc_error_errno(-errno, "cannot open %s (file %u) of session %u, which is not the tree's",
					      path, fe->id, ti->sid);
		*ret_fd = fd;
		return 0;
	}
	if (!real)
		return oc_error(-ENOENT, "%s (file %u): the images hold no controlling terminal of session %u", path,
				fe->id, ti->sid);
	term = tree_fd_of(files, real);
	if (term < 0)
		return oc_error(-ENOENT, "terminal %u of session %u is not open", real->id, ti->sid);
	slot = fcntl(term, F_DUPFD_CLOEXEC, 0);
	if (slot < 0)
		return oc_error_errno(-errno, "dup");
	pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		int r = oc_error_errno(-errno, "cannot start a helper to open %s", path);
		close(slot);
		return r;
	}
	if (pid == 0) {
		sigset_t hup;
		sigemptyset(&hup);
		sigaddset(&hup, SIGHUP);
		sigaddset(&hup, SIGCONT);
		sigprocmask(SIG_BLOCK, &hup, NULL);
		/* /dev/tty opens only a terminal some file holds open: hold
		 * the slave of a master (the tree may hold none) till we exit. */
		(void)ioctl(term, TIOCGPTPEER, O_RDWR | O_NOCTTY);
		int fd = setsid() < 0 || ioctl(term, TIOCSCTTY, 0) < 0 ? -1 : open(path, flags);
		_exit(fd < 0 || dup3(fd, slot, O_CLOEXEC) < 0 || ioctl(fd, TIOCNOTTY) < 0 ? errno & 0xff : 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		int err = WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : EIO;
		close(slot);
		return oc_error_errno(-err, "cannot open %s of session %u through terminal %u", path, ti->sid,
				      real->id);
	}
	*ret_fd = slot;
	return 0;
}

static int tty_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	struct oc_rst_ctx *ctx = files->ctx;
	TtyInfoEntry *ti;
	char key[48];
	int fd, r;

	if (!fe->tty)
		return oc_error(-EINVAL, "files.img: file %u has no tty entry", fe->id);
	ti = find_info(ctx, fe->tty->tty_info_id);
	if (!ti)
		return oc_error(-EINVAL, "tty-info.img: no terminal %u (file %u)", fe->tty->tty_info_id, fe->id);
	/* As CRIU: an inherited fd stands in for any terminal of that name. */
	tty_key(key, sizeof(key), ti->rdev, ti->has_dev ? ti->dev : 0);
	fd = oc_rst_inherited_fd(ctx, key);
	bool inherited = fd >= 0;
	if (inherited) {
		fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return oc_error_errno(-errno, "cannot dup the inherited fd of %s", key);
	} else if (ti->type == TTY_TYPE__EXT_TTY) {
		return oc_error(-ENOENT, "the images hold external terminal %s: give it with --inherit-fd fd[N]:%s",
				key, key);
	} else if (ti->type == TTY_TYPE__CTTY) {
		/* Its settings are its terminal's. */
		return open_ctty(files, fe, ti, ret_fd);
	} else if (ti->type == TTY_TYPE__CONSOLE || ti->type == TTY_TYPE__VT) {
		r = open_device(ctx, fe, &fd);
		if (r < 0)
			return r;
	} else if (ti->type == TTY_TYPE__PTY && !ti->termios && !tty_is_master(ti->id)) {
		return open_hung_up(fe, ret_fd);
	} else if (ti->type == TTY_TYPE__PTY && (tty_is_master(ti->id) || file_of_info(ctx, ti->id | 1))) {
		r = open_pair_end(files, fe, ti, &fd);
		if (r < 0)
			return r;
	} else if (ti->type == TTY_TYPE__PTY || files->ctty_fd >= 0) {
		r = open_orphan_slave(files, fe, ti, &fd);
		if (r < 0)
			return r;
		/* The shell's own terminal keeps the shell's settings. */
		if (!ctx->opts->orphan_pts_master) {
			*ret_fd = fd;
			return 0;
		}
	} else {
		return oc_error(-EOPNOTSUPP, "terminal %s (file %u) is of a kind ocicr cannot restore yet", key,
				fe->id);
	}
	bool own_node = !inherited && ((ti->type == TTY_TYPE__PTY && !tty_is_master(ti->id)) ||
				       ti->type == TTY_TYPE__CONSOLE || ti->type == TTY_TYPE__VT);
	if ((r = restore_settings(ctx, fd, ti, own_node)) < 0) {
		close(fd);
		return oc_error_wrap(r, "%s", key);
	}
	*ret_fd = fd;
	return 0;
}

int oc_rst_tty_session(struct oc_rst_files *files, const struct oc_rst_task *t)
{
	struct oc_rst_ctx *ctx = files->ctx;
	const struct oc_rst_image *im = oc_rst_image(ctx, OC_IMG_TTY_INFO);
	bool leader = getsid(0) == getpid(), group_leader = getpgrp() == getpid();

	for (size_t i = 0; i < im->n; i++) {
		TtyInfoEntry *ti = (TtyInfoEntry *)im->msgs[i];
		if (!ti->termios || ti->type == TTY_TYPE__CTTY || !tree_makes_session(ctx, ti->sid))
			continue;
		int fd = tree_fd_of(files, ti);
		if (fd < 0)
			continue;
		/* A master acts for its slave in both ioctls. */
		if (leader && ti->sid == (uint32_t)t->pid) {
			if (ioctl(fd, TIOCSCTTY, 0) < 0)
				return oc_error_errno(-errno,
						      "task %d: cannot make terminal %u its controlling terminal",
						      t->pid, ti->id);
		} else if (!(group_leader && ti->pgrp == (uint32_t)t->pid && getsid(0) == (pid_t)ti->sid)) {
			continue;
		}
		if (ti->pgrp != (uint32_t)t->pid)
			continue;
		/* The foreground: a background group's member is stopped for
		 * asking, unless SIGTTOU is held off. */
		sigset_t ttou, was;
		sigemptyset(&ttou);
		sigaddset(&ttou, SIGTTOU);
		sigprocmask(SIG_BLOCK, &ttou, &was);
		int r = tcsetpgrp(fd, getpid());
		int err = errno;
		sigprocmask(SIG_SETMASK, &was, NULL);
		if (r < 0)
			return oc_error_errno(-err, "task %d: cannot make its group terminal %u's foreground", t->pid,
					      ti->id);
	}
	return 0;
}

/* The bytes that were queued in the pair of master @mi, at @master: each
 * written into the other end, for its own end to read. */
static void restore_queued(struct oc_rst_ctx *ctx, const TtyInfoEntry *mi, int master)
{
	const struct oc_rst_image *im = oc_rst_image(ctx, OC_IMG_TTY_DATA);
	_cleanup_close_ int slave = -1;

	for (size_t i = 0; i < im->n; i++) {
		TtyDataEntry *td = (TtyDataEntry *)im->msgs[i];

		if (td->tty_id != mi->id && td->tty_id != (mi->id & ~1u))
			continue;
		if (slave < 0)
			slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (slave < 0)
			return;
		bool to_master = td->tty_id == mi->id;
		write_raw(to_master ? slave : master, to_master ? master : slave, slave, td->data.data, td->data.len);
	}
}

/* In the owner, once the fds are in: what needs every end opened (queued
 * bytes, the slave lock). */
static int tty_setup(struct oc_rst_agent *ag, FileEntry *fe, int fd)
{
	TtyInfoEntry *ti = find_info(ag->ctx, fe->tty->tty_info_id);
	int one = 1;

	if (!ti)
		return 0;
	/* Once a pair: in the setup of its first master file. */
	if (ti->type == TTY_TYPE__PTY && tty_is_master(ti->id) && file_of_info(ag->ctx, ti->id) == fe)
		restore_queued(ag->ctx, ti, fd);
	if (ti->type == TTY_TYPE__PTY && tty_is_master(ti->id) && ti->locked && ioctl(fd, TIOCSPTLCK, &one) < 0)
		return oc_error_errno(-errno, "cannot lock pty %u", tty_index_of(ti->id));
	return 0;
}

const struct oc_fd_kind oc_fd_kind_tty = {
	.name = "terminal",
	.type = FD_TYPES__TTY,
	.match = tty_match,
	.dump = tty_dump,
	.open = tty_open,
	.setup = tty_setup,
	.setup_what = "queued bytes, terminal lock",
	.images = { OC_IMG_TTY_INFO, OC_IMG_TTY_DATA },
	.n_images = 2,
};
