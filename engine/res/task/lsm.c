// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * LSM labels.  Dump: under the host's LSM, each thread's label as CRIU
 * saves it (AppArmor: its profile, from attr/apparmor/current; SELinux:
 * its context and its socket-creation context), and the LSM in the
 * inventory, so that CRIU restores the images confined as they were.
 *
 * Restore: ocicr cannot put a label back yet.  Rather than bring a
 * confined tree back unconfined, an image whose threads carry a label is
 * refused before anything is made, naming the label and saying whether
 * this host has that LSM at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "res/task/lsm.h"
#include "res/restore.h"
#include "core/arena.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"
#include "proc/proc.h"

#include "core.pb-c.h"

/* A label attribute of @pid ("self" for 0) that reads: the LSM answers
 * for it.  Without the LSM the kernel refuses the read (EINVAL). */
static int read_attr(pid_t tid, const char *name, char **ret)
{
	char path[64];

	snprintf(path, sizeof(path), "attr/%s", name);
	return oc_proc_read(tid, path, ret, NULL);
}

static Lsmtype find_host_lsm(void)
{
	_cleanup_free_ char *text = NULL;

	/* AppArmor's own attribute (Linux 5.1+), which answers only where
	 * AppArmor is active; securityfs need not be mounted here. */
	if (read_attr(0, "apparmor/current", &text) >= 0 || access("/sys/kernel/security/apparmor", F_OK) == 0)
		return LSMTYPE__APPARMOR;
	if (access("/sys/fs/selinux/enforce", F_OK) == 0)
		return LSMTYPE__SELINUX;
	return LSMTYPE__NO_LSM;
}

Lsmtype oc_lsm_host(void)
{
	static int host = -1;

	if (host < 0)
		host = find_host_lsm();
	return host;
}

const char *oc_lsm_name(Lsmtype type)
{
	switch (type) {
	case LSMTYPE__APPARMOR:
		return "AppArmor";
	case LSMTYPE__SELINUX:
		return "SELinux";
	case LSMTYPE__NO_LSM:
		return "no LSM";
	default:
		return "an unknown LSM";
	}
}

int oc_lsm_parse_label(Lsmtype type, const char *text, char **ret)
{
	size_t len = strcspn(text, type == LSMTYPE__APPARMOR ? " \n" : "\n");

	*ret = NULL;
	/* SELinux's context may end with its NUL. */
	while (len && text[len - 1] == '\0')
		len--;
	if (!len || (type == LSMTYPE__APPARMOR && len == strlen("unconfined") && !strncmp(text, "unconfined", len)))
		return 0;
	*ret = strndup(text, len);
	return *ret ? 0 : -ENOMEM;
}

static int dump_attr(struct oc_arena *a, pid_t tid, const char *name, char **field)
{
	_cleanup_free_ char *text = NULL, *label = NULL;
	int r = read_attr(tid, name, &text);

	/* AppArmor before Linux 5.1: the shared attribute. */
	if (r == -ENOENT && !strcmp(name, "apparmor/current"))
		r = read_attr(tid, "current", &text);
	if (r < 0)
		return oc_error_wrap(r, "thread %d: cannot read its %s label (attr/%s)", tid,
				     oc_lsm_name(oc_lsm_host()), name);
	r = oc_lsm_parse_label(oc_lsm_host(), text, &label);
	if (r < 0 || !label)
		return r;
	*field = oc_arena_strdup(a, label);
	if (!*field)
		return -ENOMEM;
	pr_info("thread %d: %s label %s: %s", tid, oc_lsm_name(oc_lsm_host()), name, label);
	return 0;
}

int oc_lsm_dump_thread(struct oc_arena *a, pid_t tid, CredsEntry *c)
{
	int r;

	switch (oc_lsm_host()) {
	case LSMTYPE__APPARMOR:
		return dump_attr(a, tid, "apparmor/current", &c->lsm_profile);
	case LSMTYPE__SELINUX:
		r = dump_attr(a, tid, "current", &c->lsm_profile);
		return r < 0 ? r : dump_attr(a, tid, "sockcreate", &c->lsm_sockcreate);
	default:
		return 0;
	}
}

int oc_rst_lsm_check(const struct oc_rst_ctx *ctx, const struct oc_rst_task *t)
{
	const InventoryEntry *inv = ctx->inventory;
	Lsmtype image = inv->has_lsmtype ? inv->lsmtype : LSMTYPE__NO_LSM, host = oc_lsm_host();

	for (size_t i = 0; i < t->n_cores; i++) {
		const ThreadCoreEntry *tc = t->cores[i]->thread_core;
		const CredsEntry *c = tc ? tc->creds : NULL;
		const char *label = c ? (c->lsm_profile ? c->lsm_profile : c->lsm_sockcreate) : NULL;

		if (!label)
			continue;
		if (image != host)
			return oc_error(-EOPNOTSUPP,
					"thread %u was confined by %s label '%s', but this host has %s: it cannot "
					"come back confined so (the tree is not restored unconfined)",
					t->pstree->threads[i], oc_lsm_name(image), label,
					host == LSMTYPE__NO_LSM ? "no AppArmor and no SELinux" : oc_lsm_name(host));
		return oc_error(-EOPNOTSUPP,
				"not supported by ocicr yet: thread %u was confined by %s label '%s', which ocicr "
				"cannot restore (the tree is not restored unconfined)",
				t->pstree->threads[i], oc_lsm_name(image), label);
	}
	return 0;
}
