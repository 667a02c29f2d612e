// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The addresses and routes of a network namespace, kept as CRIU keeps
 * them: the binary rtnetlink dumps iproute2 writes with `ip addr save`
 * (ifaddr-ID.img), `ip route save` (route-ID.img, IPv4) and
 * `ip -6 route save` (route6-ID.img) and `ip rule save` (rule-ID.img,
 * IPv4), in raw images, given back to `ip ... restore`.  ocicr runs
 * inside the namespace; `ip` inherits it.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "img/image.h"
#include "res/ns/net.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

extern char **environ;

/* The contents of @fd (a memfd, read from its start) in *@ret. */
static int memfd_slurp(int fd, uint8_t **ret, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf;

	if (fstat(fd, &st) < 0)
		return -errno;
	buf = malloc(st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	if (pread(fd, buf, st.st_size, 0) != st.st_size) {
		free(buf);
		return -EIO;
	}
	buf[st.st_size] = '\0';
	*ret = buf;
	*ret_len = st.st_size;
	return 0;
}

/*
 * Run `ip` with @args, @in_fd (-1: nothing) on its stdin, its stdout in
 * *@out (NULL: dropped).  Memfds, not pipes: nothing to pump both ways.
 */
static int ip_run(const char *const args[], int in_fd, uint8_t **out, size_t *out_len)
{
	_cleanup_close_ int fin = in_fd >= 0 ? -1 : memfd_create("ocicr-ip-in", MFD_CLOEXEC);
	_cleanup_close_ int fout = memfd_create("ocicr-ip-out", MFD_CLOEXEC);
	_cleanup_close_ int ferr = memfd_create("ocicr-ip-err", MFD_CLOEXEC);
	_cleanup_free_ uint8_t *err = NULL;
	char *argv[8] = { "ip" };
	posix_spawn_file_actions_t fa;
	size_t n = 1, err_len = 0;
	int st, r;
	pid_t pid;

	if ((in_fd < 0 && fin < 0) || fout < 0 || ferr < 0)
		return oc_error_errno(-errno, "memfd_create");
	for (; args[n - 1] && n < 7; n++)
		argv[n] = (char *)args[n - 1];
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_fd >= 0 ? in_fd : fin, 0);
	posix_spawn_file_actions_adddup2(&fa, fout, 1);
	posix_spawn_file_actions_adddup2(&fa, ferr, 2);
	r = posix_spawnp(&pid, "ip", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return oc_error_errno(-r, "cannot run ip (iproute2)");
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return oc_error_errno(-errno, "waitpid(ip)");
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		memfd_slurp(ferr, &err, &err_len);
		return oc_error(-EIO, "ip %s %s failed: %.*s", args[0], args[1] ? args[1] : "",
				err ? (int)strcspn((char *)err, "\n") : 0, err ? (char *)err : "");
	}
	if (!out)
		return 0;
	r = memfd_slurp(fout, out, out_len);
	return r < 0 ? oc_error_errno(r, "cannot read the output of ip %s", args[0]) : 0;
}

int oc_net_raw_save(struct oc_imgdir *dir, enum oc_img_kind kind, uint32_t id, const void *data, size_t len)
{
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	int r = oc_img_create(dir, kind, id, &img);

	if (r >= 0 && len)
		r = oc_img_write_raw(img, data, len);
	if (r >= 0)
		r = oc_img_commit(img);
	return r;
}

/* The outputs of `ip @args` into raw image @kind of namespace @id. */
static int ip_save(struct oc_imgdir *dir, enum oc_img_kind kind, uint32_t id, const char *const args[])
{
	_cleanup_free_ uint8_t *data = NULL;
	size_t len = 0;
	int r;

	r = ip_run(args, -1, &data, &len);
	return r < 0 ? r : oc_net_raw_save(dir, kind, id, data, len);
}

int oc_net_ip_dump(struct oc_imgdir *dir, uint32_t id)
{
	int r;

	r = ip_save(dir, OC_IMG_IFADDR, id, (const char *const[]){ "addr", "save", NULL });
	if (r >= 0)
		r = ip_save(dir, OC_IMG_ROUTE, id, (const char *const[]){ "route", "save", NULL });
	if (r >= 0)
		r = ip_save(dir, OC_IMG_ROUTE6, id, (const char *const[]){ "-6", "route", "save", NULL });
	if (r >= 0)
		r = ip_save(dir, OC_IMG_RULE, id, (const char *const[]){ "rule", "save", NULL });
	return r;
}

int oc_net_raw_open(struct oc_imgdir *dir, const char *name, uint32_t id, int *ret_fd, size_t *ret_size)
{
	struct stat st;
	char file[64];
	int fd;

	*ret_fd = -1;
	*ret_size = 0;
	snprintf(file, sizeof(file), "%s-%u.img", name, id);
	fd = openat(oc_imgdir_fd(dir), file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int r = oc_error_errno(-errno, "%s", file);
		if (fd >= 0)
			close(fd);
		return r;
	}
	if (!st.st_size) {
		close(fd);
		return 0;
	}
	*ret_fd = fd;
	*ret_size = st.st_size;
	return 0;
}

/* Raw image @name of @dir given to `ip @args` (the file itself as its
 * stdin); a missing or empty one is nothing to restore. */
static int ip_load(struct oc_imgdir *dir, const char *name, uint32_t id, const char *const args[])
{
	_cleanup_close_ int fd = -1;
	size_t size;
	int r;

	r = oc_net_raw_open(dir, name, id, &fd, &size);
	if (r < 0 || fd < 0)
		return r;
	r = ip_run(args, fd, NULL, NULL);
	return r < 0 ? oc_error_wrap(r, "%s-%u.img", name, id) : 0;
}

static bool rules_saved(struct oc_imgdir *dir, uint32_t id)
{
	char file[64];
	struct stat st;

	snprintf(file, sizeof(file), "rule-%u.img", id);
	return fstatat(oc_imgdir_fd(dir), file, &st, 0) == 0 && st.st_size > 0;
}

int oc_net_ip_restore_addrs(struct oc_imgdir *dir, uint32_t id)
{
	return ip_load(dir, "ifaddr", id, (const char *const[]){ "addr", "restore", NULL });
}

int oc_net_ip_restore_routes(struct oc_imgdir *dir, uint32_t id)
{
	int r;

	r = ip_load(dir, "route", id, (const char *const[]){ "route", "restore", NULL });
	if (r >= 0)
		r = ip_load(dir, "route6", id, (const char *const[]){ "route", "restore", NULL });
	if (r < 0 || !rules_saved(dir, id))
		return r;
	/* the image holds the kernel's default rules too: none twice */
	r = ip_run((const char *const[]){ "rule", "flush", NULL }, -1, NULL, NULL);
	if (r >= 0)
		r = ip_run((const char *const[]){ "rule", "delete", "table", "local", NULL }, -1, NULL, NULL);
	if (r >= 0)
		r = ip_load(dir, "rule", id, (const char *const[]){ "rule", "restore", NULL });
	return r;
}
