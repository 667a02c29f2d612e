// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The table of every image kind: file name, magics, entry type and payload.
 * Values are CRIU 4.2's (docs/image-format.md in the shared notes).
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "img/image.h"
#include "core/cleanup.h"

/* The declarations and the table read best as laid out by hand. */
/* clang-format off */
#define PB(msg) extern const ProtobufCMessageDescriptor msg##__descriptor;
PB(inventory_entry) PB(pstree_entry) PB(core_entry) PB(task_kobj_ids_entry)
PB(mm_entry) PB(pagemap_entry) PB(fs_entry) PB(fdinfo_entry) PB(file_entry)
PB(pipe_data_entry) PB(memfd_inode_entry) PB(seccomp_entry) PB(timens_entry)
PB(tty_info_entry) PB(tty_data_entry) PB(cgroup_entry)
PB(remap_file_path_entry) PB(ghost_file_entry) PB(file_lock_entry)
PB(cpuinfo_entry) PB(stats_entry) PB(irmap_cache_entry) PB(utsns_entry)
PB(ipc_var_entry) PB(ipc_shm_entry) PB(ipc_msg_entry) PB(ipc_sem_entry)
PB(mnt_entry) PB(netns_entry) PB(net_device_entry) PB(userns_entry)
PB(pidns_entry) PB(sk_packet_entry) PB(tcp_stream_entry)
PB(bpfmap_data_entry) PB(apparmor_entry) PB(binfmt_misc_entry)
PB(autofs_entry) PB(reg_file_entry) PB(ext_file_entry) PB(ns_file_entry)
PB(pipe_entry) PB(fifo_entry) PB(unix_sk_entry) PB(inet_sk_entry)
PB(packet_sock_entry) PB(netlink_sk_entry) PB(eventfd_file_entry)
PB(eventpoll_file_entry) PB(eventpoll_tfd_entry) PB(signalfd_entry)
PB(inotify_file_entry) PB(inotify_wd_entry) PB(fanotify_file_entry)
PB(fanotify_mark_entry) PB(timerfd_entry) PB(tunfile_entry)
PB(tty_file_entry) PB(bpfmap_file_entry) PB(pidfd_entry) PB(vma_entry)
PB(creds_entry) PB(sa_entry) PB(itimer_entry) PB(posix_timer_entry)
PB(rlimit_entry) PB(siginfo_entry)
#undef PB

#define COMMON OC_IMG_MAGIC_COMMON
#define SERVICE OC_IMG_MAGIC_SERVICE

#define IMG(k, nm, fmt, mg, hd, msg, ...)                                      \
	[OC_IMG_##k] = { .kind = OC_IMG_##k, .name = nm, .file_fmt = fmt,      \
			 .magic = mg, .head_magic = hd, .pb = &msg##__descriptor, \
			 __VA_ARGS__ }
#define RAW(k, nm, fmt) [OC_IMG_##k] = { .kind = OC_IMG_##k, .name = nm, .file_fmt = fmt }

const struct oc_img_desc oc_img_descs[_OC_IMG_KIND_MAX] = {
	IMG(INVENTORY, "INVENTORY", "inventory.img", 0x58313116, 0, inventory_entry, .single = true),
	IMG(PSTREE, "PSTREE", "pstree.img", 0x50273030, COMMON, pstree_entry),
	IMG(CORE, "CORE", "core-%lu.img", 0x55053847, COMMON, core_entry, .single = true),
	IMG(IDS, "IDS", "ids-%lu.img", 0x54432030, COMMON, task_kobj_ids_entry, .single = true),
	IMG(MM, "MM", "mm-%lu.img", 0x57492820, COMMON, mm_entry, .single = true),
	IMG(PAGEMAP, "PAGEMAP", "pagemap-%lu.img", 0x56084025, COMMON, pagemap_entry,
	    .payload = OC_PAYLOAD_PAGEMAP),
	IMG(SHMEM_PAGEMAP, "PAGEMAP", "pagemap-shmem-%lu.img", 0x56084025, COMMON, pagemap_entry,
	    .payload = OC_PAYLOAD_PAGEMAP),
	RAW(PAGES, "PAGES", "pages-%lu.img"),
	IMG(FS, "FS", "fs-%lu.img", 0x51403912, COMMON, fs_entry, .single = true),
	IMG(FDINFO, "FDINFO", "fdinfo-%lu.img", 0x56213732, COMMON, fdinfo_entry),
	IMG(FILES, "FILES", "files.img", 0x56303138, COMMON, file_entry),
	IMG(PIPES_DATA, "PIPES_DATA", "pipes-data.img", 0x56453709, COMMON, pipe_data_entry,
	    .payload = OC_PAYLOAD_PIPE_DATA),
	IMG(FIFO_DATA, "FIFO_DATA", "fifo-data.img", 0x59333054, COMMON, pipe_data_entry,
	    .payload = OC_PAYLOAD_PIPE_DATA),
	IMG(MEMFD_INODE, "MEMFD_INODE", "memfd.img", 0x48453499, COMMON, memfd_inode_entry),
	IMG(SECCOMP, "SECCOMP", "seccomp.img", 0x64413049, COMMON, seccomp_entry, .single = true),
	IMG(TIMENS, "TIMENS", "timens-%lu.img", 0x43114433, COMMON, timens_entry, .single = true),
	IMG(TTY_INFO, "TTY_INFO", "tty-info.img", 0x59453036, COMMON, tty_info_entry),
	IMG(TTY_DATA, "TTY_DATA", "tty-data.img", 0x59413026, COMMON, tty_data_entry),
	IMG(CGROUP, "CGROUP", "cgroup.img", 0x59383330, COMMON, cgroup_entry, .single = true),
	IMG(REMAP_FPATH, "REMAP_FPATH", "remap-fpath.img", 0x59133954, COMMON, remap_file_path_entry),
	IMG(GHOST_FILE, "GHOST_FILE", "ghost-file-%lx.img", 0x52583605, COMMON, ghost_file_entry,
	    .payload = OC_PAYLOAD_GHOST),
	IMG(FILE_LOCKS, "FILE_LOCKS", "filelocks.img", 0x54323616, COMMON, file_lock_entry),
	IMG(CPUINFO, "CPUINFO", "cpuinfo.img", 0x61404013, COMMON, cpuinfo_entry, .single = true),
	IMG(STATS_DUMP, "STATS", "stats-dump", 0x57093306, SERVICE, stats_entry, .single = true),
	IMG(STATS_RESTORE, "STATS", "stats-restore", 0x57093306, SERVICE, stats_entry, .single = true),
	IMG(IRMAP_CACHE, "IRMAP_CACHE", "irmap-cache", 0x57004059, SERVICE, irmap_cache_entry),
	IMG(UTSNS, "UTSNS", "utsns-%lu.img", 0x54473203, COMMON, utsns_entry, .single = true),
	IMG(IPC_VAR, "IPC_VAR", "ipcns-var-%lu.img", 0x53115007, COMMON, ipc_var_entry, .single = true),
	IMG(IPCNS_SHM, "IPCNS_SHM", "ipcns-shm-%lu.img", 0x46283044, COMMON, ipc_shm_entry,
	    .payload = OC_PAYLOAD_IPC_SHM),
	IMG(IPCNS_MSG, "IPCNS_MSG", "ipcns-msg-%lu.img", 0x55453737, COMMON, ipc_msg_entry,
	    .payload = OC_PAYLOAD_IPC_MSG),
	IMG(IPCNS_SEM, "IPCNS_SEM", "ipcns-sem-%lu.img", 0x59573019, COMMON, ipc_sem_entry,
	    .payload = OC_PAYLOAD_IPC_SEM),
	IMG(MNTS, "MNTS", "mountpoints-%lu.img", 0x55563928, COMMON, mnt_entry),
	IMG(NETNS, "NETNS", "netns-%lu.img", 0x55933752, COMMON, netns_entry, .single = true),
	IMG(NETDEV, "NETDEV", "netdev-%lu.img", 0x57373951, COMMON, net_device_entry),
	IMG(USERNS, "USERNS", "userns-%lu.img", 0x55474906, COMMON, userns_entry, .single = true),
	IMG(PIDNS, "PIDNS", "pidns-%lu.img", 0x61157326, COMMON, pidns_entry, .single = true),
	IMG(SK_QUEUES, "SK_QUEUES", "sk-queues.img", 0x56264026, COMMON, sk_packet_entry,
	    .payload = OC_PAYLOAD_SK_QUEUE),
	IMG(TCP_STREAM, "TCP_STREAM", "tcp-stream-%lx.img", 0x51465506, COMMON, tcp_stream_entry,
	    .payload = OC_PAYLOAD_TCP_STREAM),
	IMG(BPFMAP_DATA, "BPFMAP_DATA", "bpfmap-data.img", 0x64324033, COMMON, bpfmap_data_entry,
	    .payload = OC_PAYLOAD_BPFMAP),
	IMG(APPARMOR, "APPARMOR", "apparmor.img", 0x59423047, COMMON, apparmor_entry),
	IMG(BINFMT_MISC, "BINFMT_MISC", "binfmt-misc.img", 0x67343323, COMMON, binfmt_misc_entry),
	IMG(AUTOFS, "AUTOFS", "autofs-%lu.img", 0x49353943, COMMON, autofs_entry),
	IMG(REG_FILES, "REG_FILES", "reg-files.img", 0x50363636, COMMON, reg_file_entry),
	IMG(EXT_FILES, "EXT_FILES", "ext-files.img", 0x59255641, COMMON, ext_file_entry),
	IMG(NS_FILES, "NS_FILES", "ns-files.img", 0x61394011, COMMON, ns_file_entry),
	IMG(PIPES, "PIPES", "pipes.img", 0x56513555, COMMON, pipe_entry),
	IMG(FIFO, "FIFO", "fifo.img", 0x58364939, COMMON, fifo_entry),
	IMG(UNIXSK, "UNIXSK", "unixsk.img", 0x54373943, COMMON, unix_sk_entry),
	IMG(INETSK, "INETSK", "inetsk.img", 0x56443851, COMMON, inet_sk_entry),
	IMG(PACKETSK, "PACKETSK", "packetsk.img", 0x60454618, COMMON, packet_sock_entry),
	IMG(NETLINK_SK, "NETLINK_SK", "netlinksk.img", 0x58005614, COMMON, netlink_sk_entry),
	IMG(EVENTFD_FILE, "EVENTFD_FILE", "eventfd.img", 0x44523722, COMMON, eventfd_file_entry),
	IMG(EVENTPOLL_FILE, "EVENTPOLL_FILE", "eventpoll.img", 0x45023858, COMMON, eventpoll_file_entry),
	IMG(EVENTPOLL_TFD, "EVENTPOLL_TFD", "eventpoll-tfd.img", 0x44433746, COMMON, eventpoll_tfd_entry),
	IMG(SIGNALFD, "SIGNALFD", "signalfd.img", 0x57323820, COMMON, signalfd_entry),
	IMG(INOTIFY_FILE, "INOTIFY_FILE", "inotify.img", 0x48424431, COMMON, inotify_file_entry),
	IMG(INOTIFY_WD, "INOTIFY_WD", "inotify-wd.img", 0x54562009, COMMON, inotify_wd_entry),
	IMG(FANOTIFY_FILE, "FANOTIFY_FILE", "fanotify.img", 0x55096122, COMMON, fanotify_file_entry),
	IMG(FANOTIFY_MARK, "FANOTIFY_MARK", "fanotify-mark.img", 0x56506035, COMMON, fanotify_mark_entry),
	IMG(TIMERFD, "TIMERFD", "timerfd.img", 0x50493712, COMMON, timerfd_entry),
	IMG(TUNFILE, "TUNFILE", "tunfile.img", 0x57143751, COMMON, tunfile_entry),
	IMG(TTY_FILES, "TTY_FILES", "tty.img", 0x59433025, COMMON, tty_file_entry),
	IMG(BPFMAP_FILE, "BPFMAP_FILE", "bpfmap-file.img", 0x57506142, COMMON, bpfmap_file_entry),
	IMG(PIDFD, "PIDFD", "pidfd.img", 0x54435556, COMMON, pidfd_entry),
	IMG(VMAS, "VMAS", "vmas-%lu.img", 0x54123737, COMMON, vma_entry),
	IMG(CREDS, "CREDS", "creds-%lu.img", 0x54023547, COMMON, creds_entry, .single = true),
	IMG(SIGACT, "SIGACT", "sigacts-%lu.img", 0x55344201, COMMON, sa_entry),
	IMG(ITIMERS, "ITIMERS", "itimers-%lu.img", 0x57464056, COMMON, itimer_entry),
	IMG(POSIX_TIMERS, "POSIX_TIMERS", "posix-timers-%lu.img", 0x52603957, COMMON, posix_timer_entry),
	IMG(RLIMIT, "RLIMIT", "rlimit-%lu.img", 0x57113925, COMMON, rlimit_entry),
	IMG(SIGNAL, "SIGNAL", "signal-s-%lu.img", 0x59255647, COMMON, siginfo_entry),
	IMG(PSIGNAL, "SIGNAL", "signal-p-%lu.img", 0x59255647, COMMON, siginfo_entry),
	RAW(IFADDR, "IFADDR", "ifaddr-%lu.img"),
	RAW(ROUTE, "ROUTE", "route-%lu.img"),
	RAW(ROUTE6, "ROUTE6", "route6-%lu.img"),
	RAW(RULE, "RULE", "rule-%lu.img"),
	RAW(NEIGH, "NEIGH", "ocicr-neigh-%lu.img"),
	RAW(LINKINFO, "LINKINFO", "ocicr-linkinfo-%lu.img"),
	RAW(IPTABLES, "IPTABLES", "iptables-%lu.img"),
	RAW(IP6TABLES, "IP6TABLES", "ip6tables-%lu.img"),
	RAW(NFTABLES, "NFTABLES", "nftables-%lu.img"),
	RAW(NETNF_CT, "NETNF_CT", "netns-ct-%lu.img"),
	RAW(NETNF_EXP, "NETNF_EXP", "netns-exp-%lu.img"),
	RAW(TMPFS, "TMPFS_IMG", "tmpfs-%lu.tar.gz.img"),
	RAW(TMPFS_DEV, "TMPFS_DEV", "tmpfs-dev-%lu.tar.gz.img"),
};
/* clang-format on */

const struct oc_img_desc *oc_img_desc_by_magic(uint32_t magic)
{
	if (magic == 0)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(oc_img_descs); i++)
		if (oc_img_descs[i].magic == magic)
			return &oc_img_descs[i];
	return NULL;
}

/*
 * Match @name against a printf pattern with at most one %lu or %lx.  The
 * number must be a plain decimal (or hex) run, so "core-1x.img" is not a
 * core image.
 */
static bool name_matches(const char *fmt, const char *name)
{
	const char *conv = strchr(fmt, '%');

	if (!conv)
		return strcmp(fmt, name) == 0;

	size_t prefix = conv - fmt;
	const char *suffix = conv + 3; /* "%lu" / "%lx" */
	bool hex = conv[2] == 'x';

	if (strncmp(fmt, name, prefix) != 0)
		return false;

	const char *p = name + prefix, *digits = p;
	while (*p && (hex ? strchr("0123456789abcdef", *p) != NULL : (*p >= '0' && *p <= '9')))
		p++;
	return p > digits && strcmp(p, suffix) == 0;
}

const struct oc_img_desc *oc_img_desc_by_filename(const char *name)
{
	const char *base = strrchr(name, '/');
	const struct oc_img_desc *best = NULL;

	base = base ? base + 1 : name;
	/* "pagemap-shmem-1.img" also fits no other pattern, but prefer the
	 * longest literal prefix so the most specific pattern wins. */
	for (size_t i = 0; i < ARRAY_SIZE(oc_img_descs); i++) {
		const struct oc_img_desc *d = &oc_img_descs[i];
		if (d->file_fmt && name_matches(d->file_fmt, base) &&
		    (!best || strlen(d->file_fmt) > strlen(best->file_fmt)))
			best = d;
	}
	return best;
}

static_assert(ARRAY_SIZE(oc_img_descs) == _OC_IMG_KIND_MAX, "image table covers every kind");
