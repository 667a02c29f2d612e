// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Established TCP connections with a checked stream flowing both ways.
 * Each direction of each connection carries the bytes of one sequence
 * (byte i is a hash of i and of the direction), so a byte lost, repeated
 * or reordered shows at the first wrong one.  Each side writes faster than
 * the other reads, so both queues of every connection hold data at any
 * time (sent and unacknowledged, and received and unread): a checkpoint
 * catches them full.
 *
 * TCP_ROLE (environment) says what this process is:
 *   pair    (default) a listener and TCP_CONNS (1) connections to itself,
 *           the server ends in the root, the clients in a child;
 *   server  TCP_CONNS connections accepted from outside (the listener
 *           stays open; later clients are never accepted);
 *   client  TCP_CONNS connections to a server outside (retried 20 s).
 * TCP_ADDR (127.0.0.1; an IPv6 address makes it IPv6) and TCP_PORT (47400)
 * say where the server listens.  After SIGUSR1, within 30 s, every byte
 * in flight must arrive as expected (in a pair, all the other end had
 * sent; with the peer outside, 16 MiB more each way); a
 * server or client then goes on until killed, for its peer's check.
 */
#include "wl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define MAX_CONNS 8
/* More than both queues of a connection can hold: with the peer outside,
 * every byte in flight at the checkpoint is then checked by one end. */
#define MORE (16u << 20)

struct conn {
	int fd;
	uint8_t dir_out, dir_in; /* which sequence each way carries */
	uint64_t sent, got;
};

/* Shared with the child in pair mode: its verdict. */
struct shared {
	volatile int bad;
	char why[256];
	/* [c]: connection c here; [n_conns + c]: its other end in the child */
	volatile uint64_t got[2 * MAX_CONNS], sent[2 * MAX_CONNS];
};

static struct conn conns[MAX_CONNS];
static int n_conns = 1;
static int slot_base; /* where our counters go in shared[] */
static struct shared *shared;

static uint8_t stream_byte(uint8_t dir, uint64_t i)
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)dir << 56);

	x ^= x >> 29;
	return (uint8_t)(x ^ (x >> 17) ^ (i >> 8));
}

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
	va_list ap;

	if (shared->bad)
		return;
	va_start(ap, fmt);
	vsnprintf(shared->why, sizeof(shared->why), fmt, ap);
	va_end(ap);
	shared->bad = 1;
}

/* One step of every connection: write some, read a little less. */
static void pump(void)
{
	static uint8_t buf[16384];

	for (int c = 0; c < n_conns; c++) {
		struct conn *k = &conns[c];
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = stream_byte(k->dir_out, k->sent + i);
		ssize_t n = send(k->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			k->sent += n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			report("connection %d: send: %s", c, strerror(errno));
		n = recv(k->fd, buf, sizeof(buf) / 2, MSG_DONTWAIT);
		if (n == 0)
			report("connection %d: closed by the peer after %llu bytes", c, (unsigned long long)k->got);
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			report("connection %d: recv: %s", c, strerror(errno));
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != stream_byte(k->dir_in, k->got + i)) {
				report("connection %d: byte %llu is 0x%02x, expected 0x%02x", c,
				       (unsigned long long)(k->got + i), buf[i], stream_byte(k->dir_in, k->got + i));
				break;
			}
		if (n > 0)
			k->got += n;
		shared->got[slot_base + c] = k->got;
		shared->sent[slot_base + c] = k->sent;
	}
}

static void pump_slowly(void)
{
	pump();
	wl_sleep_us(2000);
}

/*
 * After SIGUSR1, how far each way must get: in a pair, each end must have
 * read (and checked) all the other had sent by then, and a bit more; with
 * the peer outside, MORE bytes.
 */
static uint64_t want_sent[MAX_CONNS], want_got[MAX_CONNS], peer_wants[MAX_CONNS];

static bool moved_on(bool pair)
{
	for (int c = 0; c < n_conns; c++)
		if (conns[c].sent < want_sent[c] || conns[c].got < want_got[c] ||
		    (pair && shared->got[n_conns + c] < peer_wants[c]))
			return false;
	return true;
}

static void check_after_signal(bool pair)
{
	uint64_t end = wl_now_ms() + 30000;

	for (int c = 0; c < n_conns; c++) {
		want_sent[c] = conns[c].sent + (pair ? 65536 : MORE);
		want_got[c] = pair ? shared->sent[n_conns + c] + 65536 : conns[c].got + MORE;
		peer_wants[c] = conns[c].sent;
	}
	while (!shared->bad && !moved_on(pair) && wl_now_ms() < end)
		pump_slowly();
	WL_CHECK(!shared->bad, "%s", shared->why);
	WL_CHECK(moved_on(pair),
		 "the connections stalled: connection 0 sent %llu and got %llu bytes (wanted %llu, %llu)",
		 (unsigned long long)conns[0].sent, (unsigned long long)conns[0].got, (unsigned long long)want_sent[0],
		 (unsigned long long)want_got[0]);
}

static socklen_t server_addr(struct sockaddr_storage *ss)
{
	const char *addr = getenv("TCP_ADDR") ?: "127.0.0.1";
	int port = atoi(getenv("TCP_PORT") ?: "47400");

	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (void *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		WL_SETUP(inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1, "TCP_ADDR");
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (void *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	WL_SETUP(inet_pton(AF_INET, addr, &s4->sin_addr) == 1, "TCP_ADDR");
	return sizeof(*s4);
}

static int listen_on(void)
{
	struct sockaddr_storage ss;
	socklen_t len = server_addr(&ss);
	int one = 1, l = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	WL_SETUP(l >= 0, "socket");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	WL_SETUP(bind(l, (struct sockaddr *)&ss, len) == 0, "bind");
	WL_SETUP(listen(l, MAX_CONNS) == 0, "listen");
	return l;
}

static void accept_all(int l)
{
	for (int c = 0; c < n_conns; c++) {
		conns[c].fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		WL_SETUP(conns[c].fd >= 0, "accept");
		conns[c] = (struct conn){ .fd = conns[c].fd, .dir_out = 2 * c + 1, .dir_in = 2 * c };
	}
	/* Different settings each way, to be kept. */
	int one = 1;
	setsockopt(conns[0].fd, SOL_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void connect_all(void)
{
	struct sockaddr_storage ss;
	socklen_t len = server_addr(&ss);
	uint64_t end = wl_now_ms() + 20000;

	for (int c = 0; c < n_conns; c++) {
		int fd;
		for (;;) {
			fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
			WL_SETUP(fd >= 0, "socket");
			if (connect(fd, (struct sockaddr *)&ss, len) == 0)
				break;
			close(fd);
			WL_SETUP(wl_now_ms() < end, "connect");
			wl_sleep_us(50000);
		}
		conns[c] = (struct conn){ .fd = fd, .dir_out = 2 * c, .dir_in = 2 * c + 1 };
		int idle = 600;
		setsockopt(fd, SOL_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	}
}

int main(int argc, char **argv)
{
	const char *role = getenv("TCP_ROLE") ?: "pair";

	wl_init(argc, argv);
	n_conns = atoi(getenv("TCP_CONNS") ?: "1");
	WL_SETUP(n_conns > 0 && n_conns <= MAX_CONNS, "TCP_CONNS");
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	WL_SETUP(shared != MAP_FAILED, "mmap");
	signal(SIGPIPE, SIG_IGN);

	if (!strcmp(role, "client")) {
		connect_all();
	} else if (!strcmp(role, "server")) {
		/* The listener stays: more clients wait there, never accepted. */
		accept_all(listen_on());
	} else {
		int l = listen_on();
		pid_t child = fork();
		WL_SETUP(child >= 0, "fork");
		if (child == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			slot_base = n_conns;
			close(l);
			connect_all();
			/* The child pumps until the parent is done with it. */
			for (;;)
				pump_slowly();
		}
		accept_all(l);
		close(l);
	}
	/* Some data in flight both ways before anyone looks. */
	while (!shared->bad && (conns[0].got < 65536 || conns[0].sent < 65536))
		pump_slowly();
	wl_ready();
	wl_wait_tick(pump);
	check_after_signal(!strcmp(role, "pair"));
	if (!strcmp(role, "pair"))
		wl_pass();
	/* The other end may still be checking: keep it fed until killed. */
	wl_put_file(wl_result_path, "PASS\n", 5);
	for (;;)
		pump_slowly();
}
