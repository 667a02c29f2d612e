// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A task alone in a network namespace the test built for it (a veth whose
 * peer is outside, addresses, routes): it notes what it sees of its links
 * (name, index, MTU, up, link-layer address), addresses (IPv4 and IPv6)
 * and routes (IPv4 and IPv6, the kernel's tables without counters and
 * without link-local host routes, which wait for DAD), permanent IPv4
 * neighbours, and
 * serves TCP on port NETNS_PORT (default 7117, IPv4 and IPv6): each
 * connection gets the line "ocicr-netns".  After restore the same is seen
 * again, and it keeps serving until SIGUSR1.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "wl.h"

static char before[16384], after[16384];
static int lsn = -1;

static void put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *at)
		wl_fail("setup: the network state is too large to note");
	*at += n;
}

/* Each link: name, index, MTU, up, link-layer address. */
static void note_links(char *buf, size_t len, size_t *at)
{
	struct if_nameindex *ifs = if_nameindex();
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	WL_SETUP(ifs && sk >= 0, "if_nameindex");
	for (struct if_nameindex *i = ifs; i->if_index; i++) {
		struct ifreq ifr = {};
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->if_name);
		WL_SETUP(ioctl(sk, SIOCGIFFLAGS, &ifr) == 0, "SIOCGIFFLAGS");
		int up = !!(ifr.ifr_flags & IFF_UP);
		WL_SETUP(ioctl(sk, SIOCGIFMTU, &ifr) == 0, "SIOCGIFMTU");
		int mtu = ifr.ifr_mtu;
		WL_SETUP(ioctl(sk, SIOCGIFHWADDR, &ifr) == 0, "SIOCGIFHWADDR");
		unsigned char *m = (unsigned char *)ifr.ifr_hwaddr.sa_data;
		put(buf, len, at, "link %s %u mtu %d up %d %02x:%02x:%02x:%02x:%02x:%02x\n", i->if_name, i->if_index,
		    mtu, up, m[0], m[1], m[2], m[3], m[4], m[5]);
	}
	if_freenameindex(ifs);
	close(sk);
}

/* Each address with its prefix length (as getifaddrs lists them). */
static void note_addrs(char *buf, size_t len, size_t *at)
{
	struct ifaddrs *ifa;
	char a[INET6_ADDRSTRLEN], m[INET6_ADDRSTRLEN];

	WL_SETUP(getifaddrs(&ifa) == 0, "getifaddrs");
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		int fam = i->ifa_addr->sa_family;
		const void *addr = fam == AF_INET ? (void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
						  : (void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		const void *mask = fam == AF_INET ? (void *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr
						  : (void *)&((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr;
		inet_ntop(fam, addr, a, sizeof(a));
		inet_ntop(fam, mask, m, sizeof(m));
		put(buf, len, at, "addr %s %s/%s\n", i->ifa_name, a, m);
	}
	freeifaddrs(ifa);
}

/* The lines of route file @path, columns @keep (a bit per column) only. */
static void note_routes(char *buf, size_t len, size_t *at, const char *path, unsigned keep)
{
	static char text[16384];

	WL_SETUP(wl_read_file(path, text, sizeof(text)) >= 0, path);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		/* a link-local address's own route comes once its duplicate
		 * address detection is over: a passing state */
		if (!strncmp(line, "fe80000000000000", 16) && !strncmp(line + 33, "80", 2))
			continue;
		put(buf, len, at, "route");
		unsigned col = 0;
		for (char *save = NULL, *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
			if (keep & (1u << col++))
				put(buf, len, at, " %s", w);
		put(buf, len, at, "\n");
	}
}

/* The permanent IPv4 neighbours (/proc/net/arp, ATF_PERM): address,
 * link-layer address, device; the others come and go with traffic. */
static void note_neigh(char *buf, size_t len, size_t *at)
{
	static char text[16384];
	char ip[64], hw[64], dev[IFNAMSIZ + 1];
	unsigned type, flags;

	WL_SETUP(wl_read_file("/proc/net/arp", text, sizeof(text)) >= 0, "/proc/net/arp");
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (sscanf(line, "%63s 0x%x 0x%x %63s %*s %16s", ip, &type, &flags, hw, dev) == 5 && (flags & 0x4))
			put(buf, len, at, "neigh %s %s %s\n", ip, hw, dev);
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of @buf sorted: the kernel's listing order is no state. */
static void sort_lines(char *buf, size_t len)
{
	static char copy[16384], *lines[1024];
	size_t n = 0, at = 0;

	snprintf(copy, sizeof(copy), "%s", buf);
	for (char *l = strtok(copy, "\n"); l && n < 1024; l = strtok(NULL, "\n"))
		lines[n++] = l;
	qsort(lines, n, sizeof(lines[0]), line_cmp);
	for (size_t i = 0; i < n; i++)
		put(buf, len, &at, "%s\n", lines[i]);
}

static void note(char *buf, size_t len)
{
	size_t at = 0;

	note_links(buf, len, &at);
	note_addrs(buf, len, &at);
	/* Iface Destination Gateway Flags (RefCnt Use) Metric Mask */
	note_routes(buf, len, &at, "/proc/net/route", 0xcf);
	/* dst plen src plen next-hop metric (refcnt use) flags dev */
	note_routes(buf, len, &at, "/proc/net/ipv6_route", 0x33f);
	note_neigh(buf, len, &at);
	sort_lines(buf, len);
}

/* Answer each waiting connection. */
static void serve(void)
{
	static const char hello[] = "ocicr-netns\n";
	int c;

	while ((c = accept4(lsn, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		if (write(c, hello, sizeof(hello) - 1) < 0)
			wl_fail("write to a client: %s", strerror(errno));
		close(c);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		wl_fail("accept: %s", strerror(errno));
}

/* The first line where @a and @b differ, for the verdict. */
static const char *first_diff(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	while (a > before && a[-1] != '\n')
		a--;
	return a;
}

int main(int argc, char **argv)
{
	const char *port = getenv("NETNS_PORT");
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	int zero = 0, one = 1;

	wl_init(argc, argv);
	sa.sin6_port = htons(port ? atoi(port) : 7117);
	lsn = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	WL_SETUP(lsn >= 0, "socket");
	WL_SETUP(setsockopt(lsn, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) == 0, "IPV6_V6ONLY");
	WL_SETUP(setsockopt(lsn, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0, "SO_REUSEADDR");
	WL_SETUP(bind(lsn, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind");
	WL_SETUP(listen(lsn, 16) == 0, "listen");
	char path[PATH_MAX];

	note(before, sizeof(before));
	wl_path(path, sizeof(path), "netns-before");
	wl_put_file(path, before, strlen(before));
	wl_ready();
	wl_wait_tick(serve);
	note(after, sizeof(after));
	wl_path(path, sizeof(path), "netns-after");
	wl_put_file(path, after, strlen(after));
	WL_CHECK(!strcmp(before, after), "the namespace differs from line: %.120s", first_diff(before, after));
	wl_pass();
}
