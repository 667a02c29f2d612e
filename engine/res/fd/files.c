// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The fd table: one fdinfo entry per descriptor, pointing at a file entry
 * in files.img.  Descriptors that share one open file description (dup,
 * fork) share one file entry, found with kcmp(KCMP_FILE).
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "res/fd/files.h"
#include "res/kind.h"
#include "res/ns/ns.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

/* In order: the first kind whose match() accepts an fd dumps it. */
const struct oc_fd_kind *const oc_fd_kinds[] = {
	&oc_fd_kind_pipe,      &oc_fd_kind_fifo,     &oc_fd_kind_unix,	  &oc_fd_kind_inet,    &oc_fd_kind_packet,
	&oc_fd_kind_netlink,   &oc_fd_kind_socket,   &oc_fd_kind_tty,	  &oc_fd_kind_memfd,   &oc_fd_kind_eventfd,
	&oc_fd_kind_eventpoll, &oc_fd_kind_signalfd, &oc_fd_kind_timerfd, &oc_fd_kind_inotify, &oc_fd_kind_fanotify,
	&oc_fd_kind_pidfd,     &oc_fd_kind_nsfs,     &oc_fd_kind_reg,
};
const size_t oc_n_fd_kinds = ARRAY_SIZE(oc_fd_kinds);

const struct oc_fd_kind *oc_fd_kind_of(FdTypes type)
{
	for (size_t i = 0; i < oc_n_fd_kinds; i++)
		if (oc_fd_kinds[i]->type == type)
			return oc_fd_kinds[i];
	return NULL;
}

void oc_fd_kinds_fini(struct oc_rst_files *files)
{
	for (size_t i = 0; i < oc_n_fd_kinds; i++)
		if (oc_fd_kinds[i]->fini)
			oc_fd_kinds[i]->fini(files);
}

bool oc_fd_is_anon(const struct oc_dump_fd *fd, const char *name)
{
	static const char prefix[] = "anon_inode:";

	return !strncmp(fd->link, prefix, sizeof(prefix) - 1) && !strcmp(fd->link + sizeof(prefix) - 1, name);
}

/* The status flags F_SETFL changes (fs/fcntl.c SETFL_MASK). */
#define SETFL_FLAGS (O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME | O_NONBLOCK)

int oc_rst_set_status_flags(int fd, uint32_t flags)
{
	int cur = fcntl(fd, F_GETFL);

	if (cur < 0)
		return oc_error_errno(-errno, "F_GETFL");
	if ((cur & SETFL_FLAGS) == (int)(flags & SETFL_FLAGS))
		return 0;
	if (fcntl(fd, F_SETFL, (cur & ~SETFL_FLAGS) | (flags & SETFL_FLAGS)) < 0)
		return oc_error_errno(-errno, "cannot set file status flags 0%o", flags & SETFL_FLAGS);
	return 0;
}

#ifndef F_GETOWNER_UIDS
#define F_GETOWNER_UIDS 17
#endif

/* @pid, of our pid namespace, as its own innermost one sees it (the last
 * of its NSpid line): the tree's, for a task of the tree. */
static pid_t own_ns_pid(pid_t pid)
{
	_cleanup_free_ char *text = NULL;

	if (oc_proc_read(pid, "status", &text, NULL) < 0)
		return pid;
	const char *line = strstr(text, "\nNSpid:");
	if (!line)
		return pid;
	line += strlen("\nNSpid:");
	pid_t last = pid;
	for (char *end; *line && *line != '\n'; line = end) {
		long v = strtol(line, &end, 10);
		if (end == line)
			break;
		last = v;
	}
	return last;
}

int oc_dump_fown(struct oc_dump_ctx *ctx, int local_fd, FownEntry **ret)
{
	FownEntry *fown = OC_ARENA_MSG(ctx->arena, FownEntry, FOWN_ENTRY__INIT);
	struct f_owner_ex owner = {};

	if (!fown)
		return -ENOMEM;
	*ret = fown;
	/* As CRIU: the signal whether or not an owner is set. */
	int fl = fcntl(local_fd, F_GETFL);
	int sig = fl >= 0 && !(fl & O_PATH) ? fcntl(local_fd, F_GETSIG) : 0;
	fown->signum = sig > 0 ? sig : 0;
	if (fcntl(local_fd, F_GETOWN_EX, &owner) < 0 || !owner.pid)
		return 0;
	/* The uids the owner was set with, which the kernel checks to
	 * send it the signal. */
	uint32_t uids[2] = { 0, 0 };
	if (fcntl(local_fd, F_GETOWNER_UIDS, uids) < 0)
		pr_debug("F_GETOWNER_UIDS: %m (a kernel without checkpoint/restore): root's then");
	fown->uid = oc_dump_uid(ctx, uids[0]);
	fown->euid = oc_dump_uid(ctx, uids[1]);
	fown->pid_type = owner.type;
	fown->pid = owner.type == F_OWNER_PGRP ? owner.pid : own_ns_pid(owner.pid);
	return 0;
}

/* The fown of a file entry, whatever its kind, or NULL. */
static const FownEntry *entry_fown(const FileEntry *fe)
{
	/* clang-format off */
	switch (fe->type) {
	case FD_TYPES__REG: return fe->reg ? fe->reg->fown : NULL;
	case FD_TYPES__INETSK: return fe->isk ? fe->isk->fown : NULL;
	case FD_TYPES__PACKETSK: return fe->psk ? fe->psk->fown : NULL;
	case FD_TYPES__NETLINKSK: return fe->nlsk ? fe->nlsk->fown : NULL;
	case FD_TYPES__EVENTFD: return fe->efd ? fe->efd->fown : NULL;
	case FD_TYPES__EVENTPOLL: return fe->epfd ? fe->epfd->fown : NULL;
	case FD_TYPES__SIGNALFD: return fe->sgfd ? fe->sgfd->fown : NULL;
	case FD_TYPES__TIMERFD: return fe->tfd ? fe->tfd->fown : NULL;
	case FD_TYPES__INOTIFY: return fe->ify ? fe->ify->fown : NULL;
	case FD_TYPES__FANOTIFY: return fe->ffy ? fe->ffy->fown : NULL;
	case FD_TYPES__UNIXSK: return fe->usk ? fe->usk->fown : NULL;
	case FD_TYPES__PIPE: return fe->pipe ? fe->pipe->fown : NULL;
	case FD_TYPES__TTY: return fe->tty ? fe->tty->fown : NULL;
	case FD_TYPES__MEMFD: return fe->memfd ? fe->memfd->fown : NULL;
	case FD_TYPES__PIDFD: return fe->pidfd ? fe->pidfd->fown : NULL;
	default: return NULL;
	}
	/* clang-format on */
}

#define OWNER_WAIT_MS 10000

/* Will the owner @fown names be made by the restore (a task or a group
 * of the tree)?  Not a thread: those come after the fds. */
static bool owner_comes(struct oc_rst_ctx *ctx, const FownEntry *fown)
{
	for (size_t i = 0; i < ctx->n_tasks; i++) {
		const PstreeEntry *pe = ctx->tasks[i].pstree;
		if (fown->pid_type == F_OWNER_PGRP ? pe->pgid == fown->pid : pe->pid == fown->pid)
			return true;
	}
	return false;
}

/* Set the owner, with the uids it was set with (the kernel keeps them
 * and checks them against the owner's before each signal). */
static int set_owner(struct oc_rst_ctx *ctx, int fd, const FownEntry *fown)
{
	struct f_owner_ex owner = { .type = fown->pid_type, .pid = fown->pid };
	uid_t ruid, euid, suid;
	int r = 0;

	if (getresuid(&ruid, &euid, &suid) < 0)
		return oc_error_errno(-errno, "getresuid");
	/* Uids this namespace cannot take: set as we are (we are root). */
	bool switch_uids = ruid != fown->uid || euid != fown->euid;
	if (switch_uids && setresuid(fown->uid, fown->euid, -1) < 0) {
		pr_debug("fd %d: cannot take uids %u/%u to set its owner: %m", fd, fown->uid, fown->euid);
		switch_uids = false;
	}
	/* The owner may be a task of the tree made by another: bounded.
	 * One that is gone, or a thread not made yet, is left unset. */
	for (int ms = 0; fcntl(fd, F_SETOWN_EX, &owner) < 0; ms++) {
		if (errno == ESRCH && !owner_comes(ctx, fown)) {
			pr_warn("fd %d: its owner %d is gone: left without one", fd, fown->pid);
			break;
		}
		if (errno != ESRCH || ms == OWNER_WAIT_MS) {
			r = oc_error_errno(-errno, "cannot make %s %d the owner of fd %d",
					   fown->pid_type == F_OWNER_PGRP ? "group" : "task", fown->pid, fd);
			break;
		}
		usleep(1000);
	}
	if (switch_uids) {
		if (setresuid(ruid, euid, suid) < 0)
			return oc_error_errno(-errno, "cannot take our uids back");
		/* A change of euid made us undumpable. */
		prctl(PR_SET_DUMPABLE, 1);
	}
	return r;
}

int oc_rst_fown(struct oc_rst_ctx *ctx, FileEntry *fe, int fd)
{
	const FownEntry *fown = fe ? entry_fown(fe) : NULL;

	if (!fown)
		return 0;
	if (fown->signum && fcntl(fd, F_SETSIG, fown->signum) < 0)
		return oc_error_errno(-errno, "cannot set signal %u of fd %d", fown->signum, fd);
	return fown->pid ? set_owner(ctx, fd, fown) : 0;
}

int oc_dump_file_begin(struct oc_dump_task *t, const struct oc_dump_fd *fd, FdTypes type, uint32_t *id, uint32_t *flags,
		       FownEntry **fown, FileEntry **ret_fe)
{
	FileEntry *fe = OC_ARENA_MSG(t->ctx->arena, FileEntry, FILE_ENTRY__INIT);

	if (!fe)
		return -ENOMEM;
	fe->type = type;
	fe->id = *id = oc_dump_new_file_id(t->ctx);
	*flags = fd->info.flags & ~O_CLOEXEC;
	*ret_fe = fe;
	return oc_dump_fown(t->ctx, fd->local, fown);
}

int oc_dump_file_end(struct oc_dump_task *t, FileEntry *fe, uint32_t *ret_id)
{
	int r = oc_dump_add_file(t->ctx, fe);

	if (r < 0)
		return r;
	*ret_id = fe->id;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int oc_dump_list_fds(pid_t pid, int **ret_fds, size_t *ret_n)
{
	char path[64];
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ int *fds = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d)
		return oc_error_errno(-errno, "cannot list %s", path);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			int *f = realloc(fds, cap * sizeof(*f));
			if (!f)
				return -ENOMEM;
			fds = f;
		}
		fds[n++] = atoi(de->d_name);
	}
	qsort(fds, n, sizeof(*fds), cmp_int);
	*ret_fds = TAKE_PTR(fds);
	*ret_n = n;
	return 0;
}

/* The id of an open file already dumped, if @fd (fd->num of @pid) shares it. */
static uint32_t find_shared_file(struct oc_dump_ctx *ctx, pid_t pid, const struct oc_dump_fd *fd)
{
	for (size_t i = 0; i < ctx->n_known_files; i++) {
		const struct oc_dump_file *k = &ctx->known_files[i];
		if (k->fd < 0 || k->dev != fd->st.st_dev || k->ino != fd->st.st_ino)
			continue;
		if (syscall(SYS_kcmp, k->pid, pid, KCMP_FILE, k->fd, fd->num) == 0)
			return k->id;
	}
	return 0;
}

static int remember_file(struct oc_dump_ctx *ctx, uint32_t id, pid_t pid, const struct oc_dump_fd *fd, int type)
{
	struct oc_dump_file *n = realloc(ctx->known_files, (ctx->n_known_files + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	ctx->known_files = n;
	ctx->known_files[ctx->n_known_files++] = (struct oc_dump_file){
		.id = id,
		.pid = pid,
		.fd = fd->num,
		.dev = fd->st.st_dev,
		.ino = fd->st.st_ino,
		.type = type,
	};
	return 0;
}

static const struct oc_fd_kind *kind_of_fd(const struct oc_dump_fd *fd)
{
	for (size_t i = 0; i < oc_n_fd_kinds; i++)
		if (oc_fd_kinds[i]->match(fd))
			return oc_fd_kinds[i];
	return NULL;
}

/*
 * The file entry of @fd (fd->num of @pid), of @kind: the one already
 * dumped if it shares one, else a new one.  *ret_new says which.
 */
static int dump_file_of(struct oc_dump_task *t, pid_t pid, struct oc_dump_fd *fd, const struct oc_fd_kind *kind,
			uint32_t *ret_id, bool *ret_new)
{
	int r;

	*ret_id = find_shared_file(t->ctx, pid, fd);
	if (ret_new)
		*ret_new = !*ret_id;
	if (*ret_id)
		return 0;
	r = kind->dump(t, fd, ret_id);
	if (r < 0)
		return r;
	return remember_file(t->ctx, *ret_id, pid, fd, kind->type);
}

static int dump_one_fd(struct oc_dump_task *t, int num, FdinfoEntry **ret)
{
	struct oc_dump_fd fd = { .num = num, .local = -1 };
	_cleanup_free_ char *info_text = NULL;
	char name[64];
	int r;

	snprintf(name, sizeof(name), "fd/%d", num);
	r = oc_proc_readlink(t->pid, name, &fd.link);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "fdinfo/%d", num);
	r = oc_proc_read(t->pid, name, &info_text, NULL);
	if (r >= 0)
		r = oc_proc_parse_fdinfo(info_text, &fd.info);
	if (r < 0)
		goto out;
	fd.local = syscall(SYS_pidfd_getfd, t->pidfd, num, 0);
	if (fd.local < 0) {
		r = oc_error_errno(-errno, "cannot get a copy of fd %d (%s)", num, fd.link);
		goto out;
	}
	if (fstat(fd.local, &fd.st) < 0) {
		r = oc_error_errno(-errno, "cannot stat fd %d (%s)", num, fd.link);
		goto out;
	}

	const struct oc_fd_kind *kind = kind_of_fd(&fd);
	if (!kind) {
		r = oc_error(-EOPNOTSUPP, "task %d fd %d is %s, a kind of file ocicr cannot dump yet", t->pid, num,
			     fd.link);
		goto out;
	}
	uint32_t id;
	r = dump_file_of(t, t->pid, &fd, kind, &id, NULL);
	if (r < 0) {
		r = oc_error_wrap(r, "fd %d (%s: %s)", num, kind->name, fd.link);
		goto out;
	}
	r = oc_dump_fd_locks(t, &fd, id);
	if (r < 0) {
		r = oc_error_wrap(r, "fd %d (%s)", num, fd.link);
		goto out;
	}

	FdinfoEntry *fe = OC_ARENA_MSG(t->ctx->arena, FdinfoEntry, FDINFO_ENTRY__INIT);
	if (!fe) {
		r = -ENOMEM;
		goto out;
	}
	fe->id = id;
	fe->flags = (fd.info.flags & O_CLOEXEC) ? FD_CLOEXEC : 0;
	fe->type = kind->type;
	fe->fd = num;
	*ret = fe;
out:
	if (fd.local >= 0)
		close(fd.local);
	free(fd.link);
	oc_proc_fdinfo_clear(&fd.info);
	return r;
}

int oc_dump_inflight_file(struct oc_dump_task *t, int local, uint32_t *ret_id)
{
	struct oc_dump_fd fd = { .num = local, .local = local, .in_flight = true };
	_cleanup_free_ char *info_text = NULL;
	char name[64];
	bool added = false;
	int r;

	snprintf(name, sizeof(name), "fd/%d", local);
	r = oc_proc_readlink(0, name, &fd.link);
	if (r < 0)
		goto out;
	snprintf(name, sizeof(name), "fdinfo/%d", local);
	r = oc_proc_read(0, name, &info_text, NULL);
	if (r >= 0)
		r = oc_proc_parse_fdinfo(info_text, &fd.info);
	if (r < 0)
		goto out;
	if (fstat(local, &fd.st) < 0) {
		r = oc_error_errno(-errno, "cannot stat a file in flight (%s)", fd.link);
		goto out;
	}
	const struct oc_fd_kind *kind = kind_of_fd(&fd);
	if (!kind) {
		r = oc_error(-EOPNOTSUPP, "a file in flight is %s, a kind of file ocicr cannot dump yet", fd.link);
		goto out;
	}
	r = dump_file_of(t, getpid(), &fd, kind, ret_id, &added);
	if (r < 0)
		r = oc_error_wrap(r, "a file in flight (%s: %s)", kind->name, fd.link);
out:
	/* A new entry's fd stays open, for kcmp against the fds met later. */
	if (r < 0 || !added)
		close(local);
	free(fd.link);
	oc_proc_fdinfo_clear(&fd.info);
	return r;
}

void oc_dump_inflight_release(struct oc_dump_ctx *ctx)
{
	pid_t self = getpid();

	for (size_t i = 0; i < ctx->n_known_files; i++)
		if (ctx->known_files[i].pid == self && ctx->known_files[i].fd >= 0) {
			close(ctx->known_files[i].fd);
			ctx->known_files[i].fd = -1;
		}
}

int oc_dump_files(struct oc_dump_task *t)
{
	_cleanup_free_ int *fds = NULL;
	size_t n = 0;
	int r;

	/* A task sharing its fd table with one already dumped adds nothing. */
	for (struct oc_dump_task *o = t->ctx->tasks; o < t; o++)
		if (o->ids && o->ids->files_id == t->ids->files_id) {
			t->fds = o->fds;
			t->n_fds = o->n_fds;
			return oc_packet_dump_maps(t);
		}

	r = oc_dump_list_fds(t->pid, &fds, &n);
	if (r < 0)
		return r;
	t->fds = OC_ARENA_ARRAY(t->ctx->arena, FdinfoEntry *, n);
	if (!t->fds)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r = dump_one_fd(t, fds[i], &t->fds[t->n_fds]);
		if (r < 0)
			return r;
		t->n_fds++;
	}
	return oc_packet_dump_maps(t);
}

/* The fds are installed by the agent (restore/agent.c); the blob closes
 * the coordinator's helper fds and seals what had to wait for the memory. */
static int files_fill(struct oc_rst_agent *ag, struct oc_rst_area *area)
{
	struct oc_rst_args *a = area->args;

	a->n_late_seals = ag->files->n_late_seals;
	memcpy(a->late_seals, ag->files->late_seals, ag->files->n_late_seals * sizeof(a->late_seals[0]));
	a->first_helper_fd = ag->files->helper_base;
	return 0;
}

const struct oc_task_kind oc_task_kind_files = {
	.name = "file descriptors",
	.dump = oc_dump_files,
	.fill = files_fill,
	.plan_steps = OC_STEP_BIT(OC_STEP_INSTALL),
	.plan_task = oc_files_plan,
	.plan_tree = oc_files_plan_tree,
	.images = { OC_IMG_FILE_LOCKS }, /* res/fd/file_lock.c, in the agent */
	.n_images = 1,
};
