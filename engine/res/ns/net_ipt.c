// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The legacy iptables rules of a network namespace, kept as CRIU keeps
 * them: the text of iptables-save (iptables-ID.img) and ip6tables-save
 * (ip6tables-ID.img) in raw images, of the tools that speak the legacy
 * API (iptables-legacy-save where iptables is the nftables one: those
 * rules are in the nftables ruleset), given back to their -restore.
 * ocicr runs inside the namespace; the tools inherit it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/image.h"
#include "res/net/xtables.h"
#include "res/ns/net.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"

static int ipt_save(struct oc_imgdir *dir, bool v6, uint32_t id)
{
	const char *tool = oc_xtables_legacy(v6, false);
	_cleanup_(oc_img_closep) struct oc_img *img = NULL;
	_cleanup_free_ char *rules = NULL;
	char *argv[] = { (char *)tool, NULL };
	int r;

	if (!tool) {
		pr_info("no legacy %s here: its rules are not saved", v6 ? "ip6tables" : "iptables");
		return 0;
	}
	r = oc_xtables_run(argv, -1, &rules, false);
	if (r < 0)
		return r;
	r = oc_img_create(dir, v6 ? OC_IMG_IP6TABLES : OC_IMG_IPTABLES, id, &img);
	if (r >= 0 && *rules)
		r = oc_img_write_raw(img, rules, strlen(rules));
	return r < 0 ? r : oc_img_commit(img);
}

int oc_net_ipt_dump(struct oc_imgdir *dir, uint32_t id)
{
	int r = ipt_save(dir, false, id);

	return r < 0 || !oc_xtables_ipv6() ? r : ipt_save(dir, true, id);
}

static int ipt_load(struct oc_imgdir *dir, bool v6, uint32_t id)
{
	const char *name = v6 ? "ip6tables" : "iptables";
	_cleanup_close_ int fd = -1;
	const char *tool;
	char file[64];
	size_t size;
	int r;

	snprintf(file, sizeof(file), "%s-%u.img", name, id);
	r = oc_net_raw_open(dir, name, id, &fd, &size);
	if (r < 0 || fd < 0)
		return r;
	tool = oc_xtables_legacy(v6, true);
	if (!tool)
		return oc_error(-ENOENT, "%s: no legacy %s-restore here (iptables-legacy) to restore its rules", file,
				v6 ? "ip6tables" : "iptables");
	char *argv[] = { (char *)tool, "-w", NULL };
	r = oc_xtables_run(argv, fd, NULL, false);
	return r < 0 ? oc_error_wrap(r, "%s", file) : 0;
}

int oc_net_ipt_restore(struct oc_imgdir *dir, uint32_t id)
{
	int r = ipt_load(dir, false, id);

	return r < 0 ? r : ipt_load(dir, true, id);
}
