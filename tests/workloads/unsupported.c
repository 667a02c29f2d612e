/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A task ocicr cannot dump yet: besides ordinary state (patterned memory,
 * a pipe with unread data, a handler, a blocked signal, a thread) it holds
 * a netlink socket with an answer waiting to be read, which the dump
 * refuses (the message would be lost).  Its fds are dumped last, so the dump fails midway, after the
 * memory images were written.  The task must come out of that failed dump
 * as it went in: its check runs without any dump/restore in between.
 */
#include <pthread.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "wl.h"

#define MEM_LEN (4u << 20)

static uint8_t *mem;
static volatile int hup_seen;
static volatile uint64_t ticks;

static void on_hup(int sig)
{
	hup_seen++;
}

static void *ticker(void *arg)
{
	for (;;) {
		ticks++;
		wl_sleep_us(1000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int p[2], sk;
	pthread_t th;
	char buf[64];

	wl_init(argc, argv);
	mem = mmap(NULL, MEM_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WL_SETUP(mem != MAP_FAILED, "mmap");
	wl_fill(mem, MEM_LEN, 99);
	WL_SETUP(pipe(p) == 0 && write(p[1], "queued", 6) == 6, "pipe");

	struct sigaction sa = { .sa_handler = on_hup };
	sigemptyset(&sa.sa_mask);
	WL_SETUP(sigaction(SIGHUP, &sa, NULL) == 0, "sigaction");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	WL_SETUP(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0, "block SIGHUP");
	WL_SETUP(pthread_create(&th, NULL, ticker, NULL) == 0, "pthread_create");

	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	WL_SETUP(sk >= 0, "socket");
	WL_SETUP(bind(sk, (struct sockaddr *)&nl, sizeof(nl)) == 0, "bind");
	/* Ask for the links and leave the answer unread. */
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.g = { .rtgen_family = AF_UNSPEC }
	};
	WL_SETUP(send(sk, &req, sizeof(req), 0) == sizeof(req), "RTM_GETLINK");

	wl_ready();
	wl_wait();

	ssize_t bad = wl_mismatch(mem, MEM_LEN, 99);
	WL_CHECK(bad < 0, "memory differs at %zd", bad);
	WL_CHECK(read(p[0], buf, sizeof(buf)) == 6 && !memcmp(buf, "queued", 6), "pipe data lost");
	int proto = 0;
	socklen_t len = sizeof(proto);
	WL_CHECK(getsockopt(sk, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 && proto == NETLINK_ROUTE,
		 "the netlink socket is gone");
	sigset_t cur;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	WL_CHECK(sigismember(&cur, SIGHUP), "SIGHUP no longer blocked");
	uint64_t t0 = ticks;
	WL_CHECK(WL_WAIT_FOR(ticks > t0 + 5, 10000), "the second thread stopped");
	raise(SIGHUP);
	WL_CHECK(hup_seen == 0, "blocked SIGHUP delivered");
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	WL_CHECK(hup_seen == 1, "SIGHUP handler lost");
	wl_pass();
}
