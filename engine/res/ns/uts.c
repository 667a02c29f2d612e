// SPDX-License-Identifier: LGPL-2.1-or-later
/* uts namespace: host and domain name (utsns-ID.img). */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "res/dump.h"
#include "res/restore.h"
#include "res/ns/ns.h"
#include "core/error.h"

#include "utsns.pb-c.h"

static int uts_dump(struct oc_dump_ctx *ctx, uint32_t id)
{
	UtsnsEntry e = UTSNS_ENTRY__INIT;
	struct utsname u;

	if (uname(&u) < 0)
		return oc_error_errno(-errno, "uname");
	e.nodename = u.nodename;
	e.domainname = u.domainname;
	return oc_img_write_one(ctx->dir, OC_IMG_UTSNS, id, &e.base);
}

static int uts_load(struct oc_rst_ctx *ctx, uint32_t id, void **ret_state)
{
	ProtobufCMessage *m;
	int r = oc_img_read_one(ctx->dir, OC_IMG_UTSNS, id, &m);

	if (r < 0)
		return r;
	UtsnsEntry *e = (UtsnsEntry *)m;
	if (strlen(e->nodename) >= sizeof(((struct utsname *)0)->nodename) ||
	    strlen(e->domainname) >= sizeof(((struct utsname *)0)->domainname)) {
		protobuf_c_message_free_unpacked(m, NULL);
		return oc_error(-EINVAL, "utsns-%u.img: host or domain name too long", id);
	}
	*ret_state = m;
	return 0;
}

static int uts_fill(struct oc_rst_ctx *ctx, void *state)
{
	UtsnsEntry *e = state;

	if (sethostname(e->nodename, strlen(e->nodename)) < 0)
		return oc_error_errno(-errno, "sethostname(%s)", e->nodename);
	if (setdomainname(e->domainname, strlen(e->domainname)) < 0)
		return oc_error_errno(-errno, "setdomainname(%s)", e->domainname);
	return 0;
}

static void uts_free(void *state)
{
	protobuf_c_message_free_unpacked(state, NULL);
}

const struct oc_ns_ops oc_ns_uts_ops = {
	.dump = uts_dump,
	.load = uts_load,
	.fill = uts_fill,
	.free_state = uts_free,
};
