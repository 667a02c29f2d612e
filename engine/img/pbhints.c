// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * crit's presentation hints for CRIU 4.2 images: which fields it prints
 * in hex, as flag names, as device numbers, as IP addresses or through a
 * value dictionary.  The (message, field) pairs mirror the custom options
 * of CRIU's .proto files; the flag tables and dictionaries mirror crit's
 * own, names and order included, so that our JSON matches crit's.
 */
#include "img/pbhints.h"
#include "img/vma.h"
#include "core/cleanup.h"

#define HEX(m, f)                          \
	{                                  \
		m, f, OC_PB_HINT_HEX, NULL \
	}
#define FLAGS(m, f, t)                    \
	{                                 \
		m, f, OC_PB_HINT_FLAGS, t \
	}
#define DEV(m, f)                          \
	{                                  \
		m, f, OC_PB_HINT_DEV, NULL \
	}
#define ODEV(m, f)                          \
	{                                   \
		m, f, OC_PB_HINT_ODEV, NULL \
	}
#define IPADD(m, f)                          \
	{                                    \
		m, f, OC_PB_HINT_IPADD, NULL \
	}
#define DICT(m, f, d)                    \
	{                                \
		m, f, OC_PB_HINT_DICT, d \
	}
#define CONV(m, f, c)                    \
	{                                \
		m, f, OC_PB_HINT_CONV, c \
	}

/* Grouped by the .proto file that defines the message. */
const struct oc_pb_hint oc_pb_hints[] = {
	/* bpfmap-file.proto */
	FLAGS("bpfmap_file_entry", "flags", "rfile.flags"),

	/* core-aarch64.proto */
	HEX("thread_info_aarch64", "clear_tid_addr"),
	HEX("thread_info_aarch64", "gpregs"),

	/* core-arm.proto */
	HEX("thread_info_arm", "clear_tid_addr"),
	HEX("thread_info_arm", "gpregs"),

	/* core-loongarch64.proto */
	HEX("thread_info_loongarch64", "clear_tid_addr"),
	HEX("thread_info_loongarch64", "gpregs"),
	HEX("thread_info_loongarch64", "fpregs"),

	/* core-mips.proto */
	HEX("thread_info_mips", "clear_tid_addr"),
	HEX("thread_info_mips", "gpregs"),
	HEX("thread_info_mips", "fpregs"),

	/* core-ppc64.proto */
	HEX("thread_info_ppc64", "clear_tid_addr"),
	HEX("thread_info_ppc64", "gpregs"),

	/* core-riscv64.proto */
	HEX("thread_info_riscv64", "clear_tid_addr"),
	HEX("thread_info_riscv64", "gpregs"),

	/* core-s390.proto */
	HEX("thread_info_s390", "clear_tid_addr"),
	HEX("thread_info_s390", "gpregs"),
	HEX("thread_info_s390", "fpregs"),
	HEX("thread_info_s390", "vxrs_low"),
	HEX("thread_info_s390", "vxrs_high"),
	HEX("thread_info_s390", "gs_cb"),
	HEX("thread_info_s390", "gs_bc"),
	HEX("thread_info_s390", "ri_cb"),

	/* core-x86.proto */
	HEX("user_x86_cet_entry", "cet"),
	HEX("user_x86_cet_entry", "ssp"),
	HEX("thread_info_x86", "clear_tid_addr"),
	HEX("thread_info_x86", "gpregs"),

	/* core.proto */
	DICT("task_core_entry", "task_state", "gen"),
	HEX("task_core_entry", "blk_sigset"),
	HEX("task_core_entry", "blk_sigset_extended"),
	HEX("task_core_entry", "membarrier_registration_mask"),

	/* fh.proto */
	DEV("irmap_cache_entry", "dev"),
	ODEV("irmap_cache_entry", "dev"),

	/* fsnotify.proto */
	HEX("inotify_wd_entry", "mask"),
	HEX("inotify_wd_entry", "ignored_mask"),
	DEV("inotify_wd_entry", "s_dev"),
	HEX("inotify_file_entry", "flags"),
	HEX("fanotify_mark_entry", "mflags"),
	HEX("fanotify_mark_entry", "mask"),
	HEX("fanotify_mark_entry", "ignored_mask"),
	DEV("fanotify_mark_entry", "s_dev"),
	HEX("fanotify_file_entry", "flags"),
	HEX("fanotify_file_entry", "faflags"),
	HEX("fanotify_file_entry", "evflags"),

	/* ghost-file.proto */
	DEV("ghost_file_entry", "dev"),
	DEV("ghost_file_entry", "rdev"),
	ODEV("ghost_file_entry", "rdev"),

	/* memfd.proto */
	FLAGS("memfd_file_entry", "flags", "rfile.flags"),
	FLAGS("memfd_inode_entry", "seals", "seals.flags"),

	/* mm.proto */
	HEX("mm_entry", "mm_start_code"),
	HEX("mm_entry", "mm_end_code"),
	HEX("mm_entry", "mm_start_data"),
	HEX("mm_entry", "mm_end_data"),
	HEX("mm_entry", "mm_start_stack"),
	HEX("mm_entry", "mm_start_brk"),
	HEX("mm_entry", "mm_brk"),
	HEX("mm_entry", "mm_arg_start"),
	HEX("mm_entry", "mm_arg_end"),
	HEX("mm_entry", "mm_env_start"),
	HEX("mm_entry", "mm_env_end"),

	/* mnt.proto */
	DEV("mnt_entry", "root_dev"),
	HEX("mnt_entry", "flags"),
	HEX("mnt_entry", "sb_flags"),

	/* netdev.proto */
	HEX("net_device_entry", "flags"),

	/* packet-sock.proto */
	HEX("packet_sock_entry", "flags"),

	/* pagemap.proto */
	HEX("pagemap_entry", "vaddr"),
	FLAGS("pagemap_entry", "flags", "pmap.flags"),

	/* pipe.proto */
	HEX("pipe_entry", "flags"),

	/* regfile.proto */
	FLAGS("reg_file_entry", "flags", "rfile.flags"),

	/* sa.proto */
	HEX("sa_entry", "sigaction"),
	HEX("sa_entry", "flags"),
	HEX("sa_entry", "restorer"),
	HEX("sa_entry", "mask"),
	HEX("sa_entry", "mask_extended"),

	/* signalfd.proto */
	HEX("signalfd_entry", "flags"),
	HEX("signalfd_entry", "sigmask"),

	/* sit.proto */
	IPADD("sit_entry", "local"),
	IPADD("sit_entry", "remote"),
	IPADD("sit_entry", "rd_prefix"),
	IPADD("sit_entry", "relay_prefix"),

	/* sk-inet.proto */
	DICT("inet_sk_entry", "family", "sk"),
	DICT("inet_sk_entry", "type", "sk"),
	DICT("inet_sk_entry", "proto", "sk"),
	DICT("inet_sk_entry", "state", "sk"),
	HEX("inet_sk_entry", "flags"),
	IPADD("inet_sk_entry", "src_addr"),
	IPADD("inet_sk_entry", "dst_addr"),

	/* sk-netlink.proto */
	HEX("netlink_sk_entry", "flags"),

	/* sk-unix.proto */
	DICT("unix_sk_entry", "type", "sk"),
	DICT("unix_sk_entry", "state", "sk"),
	HEX("unix_sk_entry", "flags"),
	HEX("unix_sk_entry", "uflags"),
	CONV("unix_sk_entry", "name", "unix_name"),

	/* tcp-stream.proto */
	HEX("tcp_stream_entry", "opt_mask"),

	/* timerfd.proto */
	HEX("timerfd_entry", "flags"),
	HEX("timerfd_entry", "settime_flags"),

	/* tty.proto */
	HEX("tty_file_entry", "flags"),

	/* tun.proto */
	HEX("tun_link_entry", "flags"),

	/* vma.proto */
	HEX("vma_entry", "start"),
	HEX("vma_entry", "end"),
	FLAGS("vma_entry", "prot", "mmap.prot"),
	FLAGS("vma_entry", "flags", "mmap.flags"),
	FLAGS("vma_entry", "status", "mmap.status"),
	HEX("vma_entry", "madv"),
	HEX("vma_entry", "fdflags"),
};
const size_t oc_pb_n_hints = ARRAY_SIZE(oc_pb_hints);

/* PROT_* */
static const struct oc_pb_flag mmap_prot[] = {
	{ "PROT_READ", 0x1 },
	{ "PROT_WRITE", 0x2 },
	{ "PROT_EXEC", 0x4 },
};

/* MAP_*; crit spells MAP_ANONYMOUS as MAP_ANON. */
static const struct oc_pb_flag mmap_flags[] = {
	{ "MAP_SHARED", 0x1 }, { "MAP_PRIVATE", 0x2 },	   { "MAP_DROPPABLE", 0x8 },
	{ "MAP_ANON", 0x20 },  { "MAP_GROWSDOWN", 0x100 },
};

/*
 * The dumper's VMA_* status bits.  The zero-valued first entry never
 * matches a bit; crit lists it all the same.
 */
static const struct oc_pb_flag mmap_status[] = {
	{ "VMA_AREA_NONE", 0 },
	{ "VMA_AREA_REGULAR", VMA_AREA_REGULAR },
	{ "VMA_AREA_STACK", VMA_AREA_STACK },
	{ "VMA_AREA_VSYSCALL", VMA_AREA_VSYSCALL },
	{ "VMA_AREA_VDSO", VMA_AREA_VDSO },
	{ "VMA_AREA_HEAP", VMA_AREA_HEAP },
	{ "VMA_FILE_PRIVATE", VMA_FILE_PRIVATE },
	{ "VMA_FILE_SHARED", VMA_FILE_SHARED },
	{ "VMA_ANON_SHARED", VMA_ANON_SHARED },
	{ "VMA_ANON_PRIVATE", VMA_ANON_PRIVATE },
	{ "VMA_AREA_SYSVIPC", VMA_AREA_SYSVIPC },
	{ "VMA_AREA_SOCKET", VMA_AREA_SOCKET },
	{ "VMA_AREA_VVAR", VMA_AREA_VVAR },
	{ "VMA_AREA_AIORING", VMA_AREA_AIORING },
	{ "VMA_AREA_MEMFD", VMA_AREA_MEMFD },
	{ "VMA_AREA_SHSTK", VMA_AREA_SHSTK },
	{ "VMA_AREA_UPROBES", VMA_AREA_UPROBES },
	{ "VMA_UNSUPP", VMA_UNSUPP },
};

/* Open flags (generic Linux values, octal as in <asm-generic/fcntl.h>). */
static const struct oc_pb_flag rfile_flags[] = {
	{ "O_WRONLY", 00000001 },    { "O_RDWR", 00000002 },	 { "O_CREAT", 00000100 },   { "O_EXCL", 00000200 },
	{ "O_NOCTTY", 00000400 },    { "O_TRUNC", 00001000 },	 { "O_APPEND", 00002000 },  { "O_NONBLOCK", 00004000 },
	{ "O_DSYNC", 00010000 },     { "FASYNC", 00020000 },	 { "O_DIRECT", 00040000 },  { "O_LARGEFILE", 00100000 },
	{ "O_DIRECTORY", 00200000 }, { "O_NOFOLLOW", 00400000 }, { "O_NOATIME", 01000000 }, { "O_CLOEXEC", 02000000 },
};

/* pagemap_entry PE_* bits. */
static const struct oc_pb_flag pmap_flags[] = {
	{ "PE_PARENT", 1u << 0 },
	{ "PE_LAZY", 1u << 1 },
	{ "PE_PRESENT", 1u << 2 },
};

/* memfd F_SEAL_* */
static const struct oc_pb_flag seals_flags[] = {
	{ "F_SEAL_SEAL", 0x1 },	 { "F_SEAL_SHRINK", 0x2 },	  { "F_SEAL_GROW", 0x4 },
	{ "F_SEAL_WRITE", 0x8 }, { "F_SEAL_FUTURE_WRITE", 0x10 },
};

#define FLAGS_TABLE(n, t)           \
	{                           \
		n, t, ARRAY_SIZE(t) \
	}

const struct oc_pb_flags_table oc_pb_flags_tables[] = {
	FLAGS_TABLE("mmap.prot", mmap_prot),	 FLAGS_TABLE("mmap.flags", mmap_flags),
	FLAGS_TABLE("mmap.status", mmap_status), FLAGS_TABLE("rfile.flags", rfile_flags),
	FLAGS_TABLE("pmap.flags", pmap_flags),	 FLAGS_TABLE("seals.flags", seals_flags),
};
const size_t oc_pb_n_flags_tables = ARRAY_SIZE(oc_pb_flags_tables);

const struct oc_pb_dict_value oc_pb_dict_values[] = {
	/* "gen": generic task values */
	{ "gen", "task_state", 1, "Alive" },
	{ "gen", "task_state", 3, "Zombie" },
	{ "gen", "task_state", 6, "Stopped" },

	/* "sk": socket family, type, state and protocol */
	{ "sk", "family", 1, "UNIX" },
	{ "sk", "family", 2, "INET" },
	{ "sk", "family", 10, "INET6" },
	{ "sk", "family", 16, "NETLINK" },
	{ "sk", "family", 17, "PACKET" },

	{ "sk", "type", 1, "STREAM" },
	{ "sk", "type", 2, "DGRAM" },
	{ "sk", "type", 3, "RAW" },
	{ "sk", "type", 5, "SEQPACKET" },
	{ "sk", "type", 10, "PACKET" },

	{ "sk", "state", 1, "ESTABLISHED" },
	{ "sk", "state", 2, "SYN_SENT" },
	{ "sk", "state", 3, "SYN_RECV" },
	{ "sk", "state", 4, "FIN_WAIT1" },
	{ "sk", "state", 5, "FIN_WAIT2" },
	{ "sk", "state", 6, "TIME_WAIT" },
	{ "sk", "state", 7, "CLOSE" },
	{ "sk", "state", 8, "CLOSE_WAIT" },
	{ "sk", "state", 9, "LAST_ACK" },
	{ "sk", "state", 10, "LISTEN" },

	{ "sk", "proto", 0, "IP" },
	{ "sk", "proto", 6, "TCP" },
	{ "sk", "proto", 17, "UDP" },
	{ "sk", "proto", 136, "UDPLITE" },
};
const size_t oc_pb_n_dict_values = ARRAY_SIZE(oc_pb_dict_values);
