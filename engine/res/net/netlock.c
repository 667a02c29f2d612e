// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The network lock (see netlock.h): nftables through libnftables, in
 * process; iptables through iptables/ip6tables, as CRIU does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <nftables/libnftables.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "res/net/netlock.h"
#include "res/net/xtables.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/log.h"
#include "proc/proc.h"

/* What CRIU's own tools mark their packets with: they pass the lock. */
#define LOCK_MARK    "0xc114"
#define OWNER_PREFIX "ocicr-owner-"

struct oc_netlock {
	enum oc_net_lock method;
	char table[32];	 /* nftables: "inet CRIU-<run id>" */
	char owner[64];	 /* OWNER_PREFIX "PID-START" */
	bool made, kept; /* nftables: the table is ours to remove */
	bool whole;	 /* every packet of the namespace is held */
	bool ipt_chain;	 /* iptables, whole: chain CRIU and its jumps are ours to remove */
	int netns;	 /* the tree's network namespace, or -1: ocicr's */
	struct nft_ctx *nft;
	/* iptables: the rules we inserted, as "-I CHAIN ..." argument strings */
	struct iptables_rule {
		bool v6;
		char args[256];
	} * rules;
	size_t n_rules;
};

static uint64_t start_time_of(pid_t pid)
{
	char path[64], text[1024];
	struct oc_proc_stat st = {};
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	return oc_proc_parse_stat(text, &st) < 0 ? 0 : st.starttime;
}

/* Is the ocicr that wrote owner mark @mark ("PID-START...") gone? */
static bool owner_gone(const char *mark)
{
	unsigned long long start;
	int pid;

	if (sscanf(mark, "%d-%llu", &pid, &start) != 2 || pid <= 0)
		return false;
	return start_time_of(pid) != start;
}

/*
 * The lock lives in the tree's network namespace: nftables' netlink
 * socket and iptables' process are made there.  Enter it (*@own keeps
 * ours, -1 if there is nothing to enter).
 */
static int netns_enter(int netns, int *own)
{
	*own = -1;
	if (netns < 0)
		return 0;
	*own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*own < 0)
		return oc_error_errno(-errno, "cannot open our network namespace");
	if (setns(netns, CLONE_NEWNET) < 0) {
		int r = oc_error_errno(-errno, "cannot enter the tree's network namespace for its lock");
		close(*own);
		*own = -1;
		return r;
	}
	return 0;
}

static void netns_leave(int *own)
{
	if (*own < 0)
		return;
	/* Staying in the tree's namespace would be worse than failing. */
	if (setns(*own, CLONE_NEWNET) < 0)
		abort();
	close(*own);
	*own = -1;
}

#define _cleanup_netns_ __attribute__((cleanup(netns_leave)))

/* ---- nftables ---------------------------------------------------------- */

static int nft_run(struct nft_ctx *nft, const char *fmt, ...) OC_PRINTF(2, 3);
static int nft_run(struct nft_ctx *nft, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	pr_debug("nft: %s", cmd);
	if (nft_run_cmd_from_buffer(nft, cmd) == 0)
		return 0;
	const char *err = nft_ctx_get_error_buffer(nft);
	return oc_error(-EIO, "nft '%s' failed: %.*s", cmd, err ? (int)strcspn(err, "\n") : 0, err ? err : "");
}

static struct nft_ctx *nft_open(void)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!nft)
		return NULL;
	if (nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft)) {
		nft_ctx_free(nft);
		return NULL;
	}
	return nft;
}

/* CRIU's table, and our owner chain in it (the table made if missing). */
static int nft_lock_table(struct oc_netlock *nl)
{
	static const char *const setup[][2] = {
		{ "add chain", "output { type filter hook output priority 0; }" },
		{ "add rule", "output meta mark " LOCK_MARK " accept" },
		{ "add chain", "input { type filter hook input priority 0; }" },
		{ "add rule", "input meta mark " LOCK_MARK " accept" },
		{ "add set", "conns4 { type ipv4_addr . inet_service . ipv4_addr . inet_service; }" },
		{ "add rule", "output ip saddr . tcp sport . ip daddr . tcp dport @conns4 drop" },
		{ "add rule", "input ip saddr . tcp sport . ip daddr . tcp dport @conns4 drop" },
		{ "add set", "conns6 { type ipv6_addr . inet_service . ipv6_addr . inet_service; }" },
		{ "add rule", "output ip6 saddr . tcp sport . ip6 daddr . tcp dport @conns6 drop" },
		{ "add rule", "input ip6 saddr . tcp sport . ip6 daddr . tcp dport @conns6 drop" },
	};
	/* CRIU's lock of a whole namespace: all but its own tools' packets. */
	static const char *const whole[][2] = {
		{ "add chain", "output { type filter hook output priority 0; policy drop; }" },
		{ "add rule", "output meta mark " LOCK_MARK " accept" },
		{ "add chain", "input { type filter hook input priority 0; policy drop; }" },
		{ "add rule", "input meta mark " LOCK_MARK " accept" },
	};
	size_t n = nl->whole ? ARRAY_SIZE(whole) : ARRAY_SIZE(setup);
	char probe[64];
	int r;

	/* The dump's lock, still there for this restore: join it. */
	snprintf(probe, sizeof(probe), "list table %s", nl->table);
	if (nft_run_cmd_from_buffer(nl->nft, probe) == 0) {
		pr_info("network lock: table %s is there already", nl->table);
	} else {
		r = nft_run(nl->nft, "create table %s", nl->table);
		if (r < 0)
			return oc_error_wrap(r, "cannot make the network lock");
		nl->made = true;
		for (size_t i = 0; i < n; i++) {
			const char *const *step = nl->whole ? whole[i] : setup[i];
			r = nft_run(nl->nft, "%s %s %s", step[0], nl->table, step[1]);
			if (r < 0)
				return oc_error_wrap(r, "cannot make the network lock");
		}
	}
	nl->made = true;
	r = nft_run(nl->nft, "add chain %s %s", nl->table, nl->owner);
	return r < 0 ? oc_error_wrap(r, "cannot mark the network lock as ours") : 0;
}

static int nft_add(struct oc_netlock *nl, int family, const char *a, uint32_t ap, const char *b, uint32_t bp)
{
	return nft_run(nl->nft, "add element %s conns%c { %s . %u . %s . %u }", nl->table,
		       family == AF_INET ? '4' : '6', a, ap, b, bp);
}

/* The names of the tables "inet CRIU-*" that hold an owner chain of an
 * ocicr that is gone; removes them. */
static int nft_clean_stale(struct nft_ctx *nft)
{
	_cleanup_free_ char *tables = NULL;
	int removed = 0;

	if (nft_run(nft, "list tables inet") < 0)
		return 0; /* no nftables here: nothing can be stale */
	tables = strdup(nft_ctx_get_output_buffer(nft) ?: "");
	if (!tables)
		return -ENOMEM;
	for (char *line = strtok(tables, "\n"); line; line = strtok(NULL, "\n")) {
		char name[64];
		if (sscanf(line, "table inet %63s", name) != 1 || strncmp(name, "CRIU-", 5))
			continue;
		if (nft_run(nft, "list table inet %s", name) < 0)
			continue;
		const char *out = nft_ctx_get_output_buffer(nft);
		const char *mark = out ? strstr(out, "chain " OWNER_PREFIX) : NULL;
		if (!mark || !owner_gone(mark + strlen("chain " OWNER_PREFIX)))
			continue;
		if (nft_run(nft, "delete table inet %s", name) < 0) {
			pr_warn("cannot remove the stale network lock table inet %s: %s", name, oc_error_message());
			continue;
		}
		pr_warn("removed a stale network lock: nftables table inet %s, left by ocicr %.*s", name,
			(int)strcspn(mark + strlen("chain " OWNER_PREFIX), "-"), mark + strlen("chain " OWNER_PREFIX));
		removed++;
	}
	return removed;
}

/* ---- iptables ---------------------------------------------------------- */

/* iptables (or ip6tables) -w followed by @args split at spaces. */
static int iptables_run(bool v6, const char *args, char **out, bool quiet)
{
	char copy[512], *argv[48];
	size_t n = 0;

	snprintf(copy, sizeof(copy), "%s", args);
	argv[n++] = v6 ? "ip6tables" : "iptables";
	argv[n++] = "-w";
	for (char *tok = strtok(copy, " "); tok && n < ARRAY_SIZE(argv) - 1; tok = strtok(NULL, " "))
		argv[n++] = tok;
	argv[n] = NULL;
	pr_debug("%s %s", argv[0], args);
	return oc_xtables_run(argv, -1, out, quiet);
}

static int iptables(bool v6, const char *args, char **out)
{
	return iptables_run(v6, args, out, false);
}

/* @op ("-I", "-D") and @rule as CRIU writes it: without our comment. */
static void ipt_plain(const struct iptables_rule *rule, const char *op, char *cmd, size_t size)
{
	snprintf(cmd, size, "%s %.*s-j DROP", op, (int)(strstr(rule->args, "-m comment") - rule->args), rule->args);
}

static int ipt_insert(struct oc_netlock *nl, bool v6, const char *chain, const char *from, uint32_t fport,
		      const char *to, uint32_t tport, const char *comment)
{
	struct iptables_rule *rules = realloc(nl->rules, (nl->n_rules + 1) * sizeof(*rules));
	struct iptables_rule *rule;
	int r;

	if (!rules)
		return -ENOMEM;
	nl->rules = rules;
	rule = &rules[nl->n_rules];
	rule->v6 = v6;
	snprintf(rule->args, sizeof(rule->args),
		 "%s -t filter --protocol tcp -m mark ! --mark " LOCK_MARK
		 " --source %s --sport %u --destination %s --dport %u -m comment --comment %s -j DROP",
		 chain, from, fport, to, tport, comment);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "-I %s", rule->args);
	r = iptables(v6, cmd, NULL);
	if (r < 0)
		return r;
	nl->n_rules++;
	return 0;
}

static int ipt_add(struct oc_netlock *nl, int family, const char *src, uint32_t sp, const char *dst, uint32_t dp)
{
	bool v6 = family == AF_INET6;
	int r = ipt_insert(nl, v6, "INPUT", dst, dp, src, sp, nl->owner);

	return r < 0 ? r : ipt_insert(nl, v6, "OUTPUT", src, sp, dst, dp, nl->owner);
}

/* Delete every rule of INPUT and OUTPUT whose comment starts with @prefix
 * and, if @stale, whose owner is gone; the count. */
static int ipt_delete_marked(bool v6, const char *prefix, bool stale)
{
	_cleanup_free_ char *rules = NULL;
	int removed = 0;

	if (iptables(v6, "-t filter -S", &rules) < 0)
		return 0; /* no iptables here: nothing to remove */
	for (char *save, *line = strtok_r(rules, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *c = strstr(line, "--comment ");
		char cmd[512];
		if (strncmp(line, "-A ", 3) || !c)
			continue;
		c += strlen("--comment ");
		c += *c == '"';
		if (strncmp(c, prefix, strlen(prefix)) || (stale && !owner_gone(c + strlen(prefix))))
			continue;
		snprintf(cmd, sizeof(cmd), "-t filter -D %s", line + 3);
		/* -S quotes nothing here: our comments have no spaces. */
		if (iptables(v6, cmd, NULL) == 0)
			removed++;
		if (stale)
			pr_warn("removed a stale network lock: %s rule %s", v6 ? "ip6tables" : "iptables", line);
	}
	return removed;
}

/*
 * CRIU's lock of a whole namespace with iptables: a chain CRIU that lets
 * the marked packets pass and drops the rest, jumped to first from INPUT
 * and OUTPUT.  Written with iptables-restore --noflush (declaring the
 * chain empties it), so that all of it comes at once.
 */
static int ipt_restore(bool v6, const char *rules, bool quiet)
{
	char *argv[] = { v6 ? "ip6tables-restore" : "iptables-restore", "-w", "--noflush", NULL };
	_cleanup_close_ int in = memfd_create("ocicr-iptables", MFD_CLOEXEC);
	size_t len = strlen(rules);

	if (in < 0)
		return oc_error_errno(-errno, "memfd_create");
	if (write(in, rules, len) != (ssize_t)len || lseek(in, 0, SEEK_SET) < 0)
		return oc_error_errno(-errno, "writing the rules for %s", argv[0]);
	pr_debug("%s --noflush: %s", argv[0], rules);
	return oc_xtables_run(argv, in, NULL, quiet);
}

static int ipt_whole_lock(struct oc_netlock *nl)
{
	char rules[512];
	int r = 0;

	snprintf(rules, sizeof(rules),
		 "*filter\n:CRIU - [0:0]\n"
		 "-I INPUT -m comment --comment %s -j CRIU\n-I OUTPUT -m comment --comment %s -j CRIU\n"
		 "-A CRIU -m mark --mark " LOCK_MARK " -j ACCEPT\n-A CRIU -j DROP\nCOMMIT\n",
		 nl->owner, nl->owner);
	nl->ipt_chain = true;
	for (int v6 = 0; v6 < 1 + oc_xtables_ipv6() && r >= 0; v6++)
		r = ipt_restore(v6, rules, false);
	return r < 0 ? oc_error_wrap(r, "cannot lock the namespace with iptables (chain CRIU)") : 0;
}

/* CRIU's jumps for ours: the lock stays as CRIU's restore expects it. */
static int ipt_whole_keep(struct oc_netlock *nl)
{
	int r = 0;

	for (int v6 = 0; v6 < 1 + oc_xtables_ipv6() && r >= 0; v6++) {
		r = ipt_restore(v6, "*filter\n-I INPUT -j CRIU\n-I OUTPUT -j CRIU\nCOMMIT\n", false);
		if (r >= 0)
			ipt_delete_marked(v6, nl->owner, false);
	}
	return r;
}

/* Jumps to CRIU (ours, the dump's or CRIU's), then the chain. */
static void ipt_whole_unlock(bool v6, const char *owner)
{
	if (owner)
		ipt_delete_marked(v6, owner, false);
	while (iptables_run(v6, "-t filter -D INPUT -j CRIU", NULL, true) == 0)
		;
	while (iptables_run(v6, "-t filter -D OUTPUT -j CRIU", NULL, true) == 0)
		;
	if (ipt_restore(v6, "*filter\n:CRIU - [0:0]\n-X CRIU\nCOMMIT\n", true) == 0)
		pr_info("network lock: %s chain CRIU removed", v6 ? "ip6tables" : "iptables");
}

/* A chain CRIU nothing jumps to any more (its ocicr is gone) goes. */
static void ipt_drop_unused_chain(bool v6)
{
	if (iptables_run(v6, "-t filter -L CRIU -n", NULL, true) < 0)
		return;
	if (ipt_restore(v6, "*filter\n-X CRIU\nCOMMIT\n", true) == 0)
		pr_warn("removed a stale network lock: %s chain CRIU", v6 ? "ip6tables" : "iptables");
}

/* ---- the lock ---------------------------------------------------------- */

uint32_t oc_netlock_to_image(enum oc_net_lock method)
{
	return method == OC_NET_LOCK_IPTABLES ? 0 : method == OC_NET_LOCK_NFTABLES ? 1 : 2;
}

enum oc_net_lock oc_netlock_from_image(bool has, uint32_t v)
{
	if (!has || v == 0)
		return OC_NET_LOCK_IPTABLES;
	return v == 1 ? OC_NET_LOCK_NFTABLES : OC_NET_LOCK_SKIP;
}

static int clean_stale_here(enum oc_net_lock method)
{
	if (method == OC_NET_LOCK_IPTABLES) {
		int removed = 0;
		for (int v6 = 0; v6 < 2; v6++) {
			int n = ipt_delete_marked(v6, OWNER_PREFIX, true);
			if (n > 0)
				ipt_drop_unused_chain(v6);
			removed += n;
		}
		return removed;
	}
	if (method != OC_NET_LOCK_NFTABLES)
		return 0;
	struct nft_ctx *nft = nft_open();
	if (!nft)
		return oc_error(-ENOMEM, "cannot start libnftables");
	int r = nft_clean_stale(nft);
	nft_ctx_free(nft);
	return r;
}

int oc_netlock_clean_stale(enum oc_net_lock method, int netns)
{
	_cleanup_netns_ int own = -1;
	int r = netns_enter(netns, &own);

	return r < 0 ? r : clean_stale_here(method);
}

int oc_netlock_new(enum oc_net_lock method, const char *run_id, int netns, struct oc_netlock **ret)
{
	_cleanup_netns_ int own = -1;
	struct oc_netlock *nl = calloc(1, sizeof(*nl));
	int r;

	if (!nl)
		return -ENOMEM;
	nl->method = method;
	nl->netns = -1;
	/* CRIU's name keeps 21 characters of the run id. */
	snprintf(nl->table, sizeof(nl->table), "inet CRIU-%s", run_id);
	snprintf(nl->owner, sizeof(nl->owner), OWNER_PREFIX "%d-%" PRIu64, getpid(), start_time_of(getpid()));
	if (netns >= 0 && method != OC_NET_LOCK_SKIP) {
		nl->netns = fcntl(netns, F_DUPFD_CLOEXEC, 3);
		if (nl->netns < 0) {
			free(nl);
			return oc_error_errno(-errno, "cannot keep the tree's network namespace");
		}
	}
	r = netns_enter(nl->netns, &own);
	if (r >= 0 && method == OC_NET_LOCK_NFTABLES) {
		nl->nft = nft_open();
		if (!nl->nft)
			r = oc_error(-ENOMEM, "cannot start libnftables");
	}
	if (r >= 0)
		r = clean_stale_here(method);
	if (r < 0) {
		netns_leave(&own);
		oc_netlock_free(nl);
		return r;
	}
	*ret = nl;
	return 0;
}

static int lock_add_here(struct oc_netlock *nl, uint32_t family, const uint32_t *src, uint32_t sport,
			 const uint32_t *dst, uint32_t dport)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int r;

	if (!nl || nl->method == OC_NET_LOCK_SKIP)
		return 0;
	/* An IPv4 peer of a dual-stack socket travels as IPv4. */
	if (family == AF_INET6 && dst[0] == 0 && dst[1] == 0 && dst[2] == htonl(0xffff)) {
		family = AF_INET;
		src += 3;
		dst += 3;
	}
	inet_ntop(family, src, s, sizeof(s));
	inet_ntop(family, dst, d, sizeof(d));
	if (nl->method == OC_NET_LOCK_IPTABLES) {
		r = nl->whole ? 0 : ipt_add(nl, family, s, sport, d, dport);
	} else {
		r = nl->made ? 0 : nft_lock_table(nl);
		if (r >= 0 && !nl->whole)
			r = nft_add(nl, family, d, dport, s, sport);
		if (r >= 0 && !nl->whole)
			r = nft_add(nl, family, s, sport, d, dport);
	}
	if (r < 0)
		return oc_error_wrap(r, "cannot lock the connection %s:%u -> %s:%u", s, sport, d, dport);
	pr_info("network lock: connection %s:%u -> %s:%u locked", s, sport, d, dport);
	return 0;
}

static int lock_adopt_here(struct oc_netlock *nl)
{
	char probe[64];

	if (!nl || nl->method != OC_NET_LOCK_NFTABLES || nl->made)
		return 0;
	snprintf(probe, sizeof(probe), "list table %s", nl->table);
	if (nft_run_cmd_from_buffer(nl->nft, probe) != 0)
		return 0;
	nl->made = true;
	return nft_run(nl->nft, "add chain %s %s", nl->table, nl->owner);
}

static int lock_keep_here(struct oc_netlock *nl)
{
	if (!nl || nl->method == OC_NET_LOCK_SKIP)
		return 0;
	nl->kept = true;
	if (nl->method == OC_NET_LOCK_NFTABLES)
		return nl->made ? nft_run(nl->nft, "delete chain %s %s", nl->table, nl->owner) : 0;
	if (nl->ipt_chain)
		return ipt_whole_keep(nl);
	/* The same rules as CRIU's first (its restore deletes exactly
	 * those, and so does ours), then ours go: the connections are never
	 * open between. */
	for (size_t i = 0; i < nl->n_rules; i++) {
		char cmd[300];
		ipt_plain(&nl->rules[i], "-I", cmd, sizeof(cmd));
		int r = iptables(nl->rules[i].v6, cmd, NULL);
		if (r < 0)
			return r;
	}
	ipt_delete_marked(false, nl->owner, false);
	ipt_delete_marked(true, nl->owner, false);
	return 0;
}

static void lock_free_here(struct oc_netlock *nl)
{
	if (!nl)
		return;
	if (nl->method == OC_NET_LOCK_NFTABLES && nl->made && !nl->kept) {
		if (nft_run(nl->nft, "delete table %s", nl->table) < 0)
			pr_warn("cannot remove the network lock table %s: %s", nl->table, oc_error_message());
		else
			pr_info("network lock: table %s removed", nl->table);
	}
	if (nl->method == OC_NET_LOCK_IPTABLES && !nl->kept && nl->whole) {
		for (int v6 = 0; v6 < 1 + oc_xtables_ipv6(); v6++)
			ipt_whole_unlock(v6, nl->ipt_chain ? nl->owner : NULL);
	} else if (nl->method == OC_NET_LOCK_IPTABLES && !nl->kept) {
		for (int v6 = 0; v6 < 2; v6++)
			ipt_delete_marked(v6, nl->owner, false);
		/* The dump's, ocicr's or CRIU's, if there: each connection's
		 * rules were inserted once, so once deleted. */
		for (size_t i = 0; i < nl->n_rules; i++) {
			char cmd[300];
			ipt_plain(&nl->rules[i], "-D", cmd, sizeof(cmd));
			iptables_run(nl->rules[i].v6, cmd, NULL, true);
		}
	}
	if (nl->nft)
		nft_ctx_free(nl->nft);
	free(nl->rules);
	free(nl);
}

int oc_netlock_add(struct oc_netlock *nl, uint32_t family, const uint32_t *src, uint32_t sport, const uint32_t *dst,
		   uint32_t dport)
{
	_cleanup_netns_ int own = -1;
	int r = nl ? netns_enter(nl->netns, &own) : 0;

	return r < 0 ? r : lock_add_here(nl, family, src, sport, dst, dport);
}

int oc_netlock_whole_ns(struct oc_netlock *nl)
{
	_cleanup_netns_ int own = -1;
	int r;

	if (!nl || nl->method == OC_NET_LOCK_SKIP || nl->netns < 0 || nl->whole)
		return 0;
	nl->whole = true;
	r = netns_enter(nl->netns, &own);
	if (r < 0)
		return r;
	if (nl->method == OC_NET_LOCK_IPTABLES) {
		r = ipt_whole_lock(nl);
		if (r >= 0)
			pr_info("network lock: the whole namespace, iptables chain CRIU");
		return r;
	}
	if (!nl->made)
		r = nft_lock_table(nl);
	if (r >= 0)
		pr_info("network lock: the whole namespace, table %s", nl->table);
	return r;
}

int oc_netlock_adopt(struct oc_netlock *nl)
{
	_cleanup_netns_ int own = -1;
	int r = nl ? netns_enter(nl->netns, &own) : 0;

	return r < 0 ? r : lock_adopt_here(nl);
}

int oc_netlock_keep(struct oc_netlock *nl)
{
	_cleanup_netns_ int own = -1;
	int r = nl ? netns_enter(nl->netns, &own) : 0;

	return r < 0 ? r : lock_keep_here(nl);
}

void oc_netlock_free(struct oc_netlock *nl)
{
	_cleanup_netns_ int own = -1;
	int netns;

	if (!nl)
		return;
	netns = nl->netns;
	if (netns_enter(netns, &own) < 0) {
		pr_warn("the network lock in the tree's namespace stays: %s", oc_error_message());
		nl->kept = true;
	}
	lock_free_here(nl);
	netns_leave(&own);
	if (netns >= 0)
		close(netns);
}
