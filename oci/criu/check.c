// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `criu check`: CRIU's feature names, answered for what ocicr supports on
 * this kernel.  A feature ocicr has no code for is "not supported" however
 * new the kernel; one it has is probed as `ocicr check` probes it.
 */
#include <stdio.h>
#include <string.h>

#include "oci/cli.h"
#include "oci/criu/criu.h"

/* A CRIU feature: the ocicr probe that decides it, or NULL: ocicr lacks it. */
struct criu_feature {
	const char *name;
	const char *probe;
};

#define HAS "" /* always there where ocicr runs at all */

static const struct criu_feature features[] = {
	{ "mnt_id", HAS },
	{ "mem_dirty_track", NULL }, /* no pre-dump */
	{ "aio_remap", "AIO rings moved with mremap" },
	{ "timerfd", "TFD_IOC_SET_TICKS" },
	{ "tun", NULL },
	{ "tun_ns", NULL },
	{ "userns", NULL },
	{ "fdinfo_lock", HAS },
	{ "seccomp_suspend", "PTRACE_O_SUSPEND_SECCOMP" },
	{ "seccomp_filters", "PTRACE_SECCOMP_GET_FILTER" }, /* dumped with suspension */
	{ "loginuid", "audit loginuid (/proc/PID/loginuid)" },
	{ "cgroupns", "cgroup namespaces" },
	{ "autofs", NULL },
	{ "tcp_half_closed", HAS }, /* half-closed connections (sk_tcp.c) */
	{ "compat_cr", NULL },
	{ "uffd", NULL }, /* no lazy pages */
	{ "uffd-noncoop", NULL },
	{ "can_map_vdso", "ARCH_MAP_VDSO_64 (CONFIG_CHECKPOINT_RESTORE)" },
	{ "sk_ns", NULL },
	{ "sk_unix_file", NULL },
	{ "net_diag_raw", HAS }, /* raw sockets: read with getsockopt, no diag needed */
	{ "nsid", NULL },
	{ "link_nsid", NULL },
	{ "kcmp_epoll", "kcmp KCMP_EPOLL_TFD" },
	{ "timens", "time namespaces" },
	{ "external_net_ns", NULL },
	{ "clone3_set_tid", "clone3 with set_tid" },
	{ "newifindex", NULL },
	{ "nftables", HAS }, /* a namespace's ruleset: nftables-ID.img (res/ns/net_nft.c) */
	{ "has_ipt_legacy", "legacy iptables (iptables-legacy-save)" },
	{ "pidfd_store", NULL },
	{ "ns_pid", "NSpid in /proc/PID/status" },
	{ "apparmor_stacking", NULL },
	{ "network_lock_nftables", HAS },
	{ "sockopt_buf_lock", HAS },
	{ "memfd_hugetlb", "memfd_create with MFD_HUGETLB" },
	{ "move_mount_set_group", NULL },
	{ "openat2", NULL },
	{ "get_rseq_conf", "PTRACE_GET_RSEQ_CONFIGURATION" },
	{ "ipv6_freebind", HAS },
	{ "pagemap_scan", "PAGEMAP_SCAN" },
	{ "timer_cr_ids", "PR_TIMER_CREATE_RESTORE_IDS" },
	{ "overlayfs_maps", NULL },
	{ "breakpoints", NULL },
	{ "pagemap_scan_guard_pages", "PAGEMAP_SCAN with PAGE_IS_GUARD" },
};

enum feature_answer {
	FEATURE_UNKNOWN = -1, /* no feature of CRIU's by that name */
	FEATURE_NOT_IN_OCICR,
	FEATURE_SUPPORTED,
	FEATURE_NOT_HERE, /* its probe said no: the kernel, or our privileges */
};

static enum feature_answer feature_supported(const char *name)
{
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		const struct criu_feature *f = &features[i];
		bool has = false;

		if (strcmp(f->name, name))
			continue;
		if (!f->probe)
			return FEATURE_NOT_IN_OCICR;
		if (!*f->probe)
			return FEATURE_SUPPORTED;
		return oc_check_probe(f->probe, &has) == 0 && has ? FEATURE_SUPPORTED : FEATURE_NOT_HERE;
	}
	return FEATURE_UNKNOWN;
}

/* Most probes trace or change a task as a dump would: without root's
 * capabilities they say no whatever the kernel has. */
static bool has_root_caps(void)
{
	bool has = false;

	return oc_check_probe("root capabilities (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE)", &has) == 0 && has;
}

int criu_check(const struct criu_opts *o)
{
	bool ok = false;
	int ret = EXIT_OK;

	for (size_t i = 0; i < o->features.n; i++) {
		const char *name = o->features.v[i];
		switch (feature_supported(name)) {
		case FEATURE_UNKNOWN:
			fprintf(stderr, "Error: unknown feature %s\n", name);
			return EXIT_FAIL;
		case FEATURE_SUPPORTED:
			printf("%s is supported\n", name);
			continue;
		case FEATURE_NOT_IN_OCICR:
			fprintf(stderr, "%s is not supported by ocicr\n", name);
			break;
		case FEATURE_NOT_HERE:
			fprintf(stderr, "%s is not supported here: this kernel lacks it%s\n", name,
				has_root_caps() ? "" : ", or this process lacks CAP_SYS_ADMIN to use it (run as root)");
			break;
		}
		ret = EXIT_FAIL;
	}
	if (o->features.n)
		return ret;
	/* ocicr's probes; their required ones are CRIU's category 1. */
	oc_check(stdout, &ok);
	if (!ok)
		return EXIT_FAIL;
	printf("Looks good.\n");
	return EXIT_OK;
}
