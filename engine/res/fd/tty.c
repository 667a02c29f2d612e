// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Terminals of a shell job (--shell-job).  A job's terminal belongs to the
 * shell, not to the tree: the dump records which fds were the terminal, its
 * settings and its session and group; the restore hands those fds the
 * terminal of the restoring shell, as CRIU does.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "core/cleanup.h"
#include "core/error.h"

#include "regfile.pb-c.h"
#include "tty.pb-c.h"

#define PTS_MAJOR 136

bool oc_is_tty_dev(const struct stat *st)
{
	unsigned maj = major(st->st_rdev);
	/* pts slaves, /dev/tty and the console, and the virtual consoles */
	return S_ISCHR(st->st_mode) && (maj == PTS_MAJOR || maj == 5 || maj == 4);
}

static bool tty_match(const struct oc_dump_fd *fd)
{
	return oc_is_tty_dev(&fd->st);
}

static TermiosEntry *dump_termios(struct oc_arena *a, const struct termios *t)
{
	TermiosEntry *e = OC_ARENA_MSG(a, TermiosEntry, TERMIOS_ENTRY__INIT);
	/* CRIU's layout: the c_cc bytes packed into words, 19 words at least. */
	uint32_t *cc = OC_ARENA_ARRAY(a, uint32_t, 19);

	if (!e || !cc)
		return NULL;
	e->c_iflag = t->c_iflag;
	e->c_oflag = t->c_oflag;
	e->c_cflag = t->c_cflag;
	e->c_lflag = t->c_lflag;
	e->c_line = t->c_line;
	e->c_ispeed = cfgetispeed(t);
	e->c_ospeed = cfgetospeed(t);
	memcpy(cc, t->c_cc, MIN(sizeof(t->c_cc), 19 * sizeof(uint32_t)));
	e->n_c_cc = 19;
	e->c_cc = cc;
	return e;
}

static int tty_dump(struct oc_dump_task *t, struct oc_dump_fd *fd, uint32_t *ret_id)
{
	struct oc_dump_ctx *ctx = t->ctx;
	struct oc_arena *a = ctx->arena;
	unsigned maj = major(fd->st.st_rdev), min = minor(fd->st.st_rdev);
	int r;

	if (!ctx->opts->shell_job)
		return oc_error(-EPERM, "a terminal: dump a shell job with --shell-job");
	if (maj != PTS_MAJOR)
		return oc_error(-EOPNOTSUPP, "only pseudo-terminals are supported");

	uint32_t info_id = min * 2; /* CRIU's id: index * 2 + is_master */
	bool have_info = false;
	ProtobufCMessage **infos;
	size_t n_infos = oc_dump_queued(ctx, OC_IMG_TTY_INFO, &infos);
	for (size_t i = 0; i < n_infos; i++)
		have_info |= ((TtyInfoEntry *)infos[i])->id == info_id;
	if (!have_info) {
		TtyInfoEntry *ti = OC_ARENA_MSG(a, TtyInfoEntry, TTY_INFO_ENTRY__INIT);
		TtyPtyEntry *pty = OC_ARENA_MSG(a, TtyPtyEntry, TTY_PTY_ENTRY__INIT);
		WinsizeEntry *ws = OC_ARENA_MSG(a, WinsizeEntry, WINSIZE_ENTRY__INIT);
		struct termios tio;
		struct winsize w = {};
		pid_t sid = 0, pgrp = 0;

		if (!ti || !pty || !ws)
			return -ENOMEM;
		if (tcgetattr(fd->local, &tio) < 0)
			return oc_error_errno(-errno, "tcgetattr on %s", fd->link);
		ioctl(fd->local, TIOCGWINSZ, &w);
		ioctl(fd->local, TIOCGSID, &sid);
		ioctl(fd->local, TIOCGPGRP, &pgrp);
		ti->id = info_id;
		ti->type = TTY_TYPE__PTY;
		ti->sid = sid;
		ti->pgrp = pgrp;
		ti->rdev = fd->st.st_rdev;
		ti->termios = dump_termios(a, &tio);
		if (!ti->termios)
			return -ENOMEM;
		ws->ws_row = w.ws_row;
		ws->ws_col = w.ws_col;
		ws->ws_xpixel = w.ws_xpixel;
		ws->ws_ypixel = w.ws_ypixel;
		ti->winsize = ws;
		pty->index = min;
		ti->pty = pty;
		ti->has_uid = ti->has_gid = true;
		ti->uid = fd->st.st_uid;
		ti->gid = fd->st.st_gid;
		r = oc_dump_queue(ctx, OC_IMG_TTY_INFO, &ti->base, NULL);
		if (r < 0)
			return r;
	}

	/* The path of the terminal, as a REG entry the TTY entry names. */
	FileEntry *rfe = OC_ARENA_MSG(a, FileEntry, FILE_ENTRY__INIT);
	RegFileEntry *rf = OC_ARENA_MSG(a, RegFileEntry, REG_FILE_ENTRY__INIT);
	FownEntry *rfown = OC_ARENA_MSG(a, FownEntry, FOWN_ENTRY__INIT);
	FileEntry *fe = OC_ARENA_MSG(a, FileEntry, FILE_ENTRY__INIT);
	TtyFileEntry *tf = OC_ARENA_MSG(a, TtyFileEntry, TTY_FILE_ENTRY__INIT);
	if (!rfe || !rf || !rfown || !fe || !tf)
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

	fe->type = FD_TYPES__TTY;
	fe->id = tf->id = oc_dump_new_file_id(ctx);
	tf->tty_info_id = info_id;
	tf->flags = fd->info.flags & ~O_CLOEXEC;
	tf->has_regf_id = true;
	tf->regf_id = rfe->id;
	r = oc_dump_fown(a, fd->local, &tf->fown);
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

static int tty_open(struct oc_rst_files *files, FileEntry *fe, int *ret_fd)
{
	char proc[64];
	int fd;

	if (!fe->tty)
		return oc_error(-EINVAL, "files.img: file %u has no tty entry", fe->id);
	if (files->ctty_fd < 0)
		return oc_error(-EPERM,
				"the image holds a terminal (file %u): restore it as a shell job with "
				"--shell-job from a terminal",
				fe->id);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", files->ctty_fd);
	fd = open(proc, (fe->tty->flags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return oc_error_errno(-errno, "cannot reopen the terminal for file %u", fe->id);
	*ret_fd = fd;
	return 0;
}

const struct oc_fd_kind oc_fd_kind_tty = {
	.name = "terminal",
	.type = FD_TYPES__TTY,
	.match = tty_match,
	.dump = tty_dump,
	.open = tty_open,
};
