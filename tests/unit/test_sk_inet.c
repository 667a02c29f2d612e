// SPDX-License-Identifier: LGPL-2.1-or-later
/* Inet socket addresses between sockaddrs and the image's words, and the
 * check of an inet_sk_entry before restore (engine/res/fd/sk_inet.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/error.h"
#include "res/fd/sk_inet.h"

static void test_ipv4_words(void **state)
{
	struct sockaddr_storage ss = {}, back;
	struct sockaddr_in *s4 = (void *)&ss;
	uint32_t w[4] = {}, port = 0;
	char buf[64];

	(void)state;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(47123);
	inet_pton(AF_INET, "127.0.0.1", &s4->sin_addr);
	assert_int_equal(oc_inet_addr_words(&ss, w, &port), 1);
	assert_int_equal(port, 47123);
	/* As CRIU stores it (and crit prints "127.0.0.1" from it): the
	 * network-order bytes in a host word, 0x0100007f on x86_64. */
	assert_int_equal(w[0], 0x0100007f);
	assert_string_equal(oc_inet_endpoint(w, 1, port, buf, sizeof(buf)), "127.0.0.1:47123");
	assert_int_equal(oc_inet_sockaddr(AF_INET, w, 1, port, &back), sizeof(struct sockaddr_in));
	assert_memory_equal(&back, &ss, sizeof(struct sockaddr_in));
}

static void test_ipv6_words(void **state)
{
	struct sockaddr_storage ss = {}, back;
	struct sockaddr_in6 *s6 = (void *)&ss;
	uint32_t w[4] = {}, port = 0;
	char buf[64];

	(void)state;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(80);
	inet_pton(AF_INET6, "fd00::1:2", &s6->sin6_addr);
	assert_int_equal(oc_inet_addr_words(&ss, w, &port), 4);
	assert_int_equal(port, 80);
	assert_string_equal(oc_inet_endpoint(w, 4, port, buf, sizeof(buf)), "[fd00::1:2]:80");
	assert_int_equal(oc_inet_sockaddr(AF_INET6, w, 4, port, &back), sizeof(struct sockaddr_in6));
	assert_memory_equal(&back, &ss, sizeof(struct sockaddr_in6));
	/* No words: the any address. */
	oc_inet_sockaddr(AF_INET6, NULL, 0, 9, &back);
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&back)->sin6_addr));
}

/* A listening IPv4 TCP socket, as the dump writes one. */
static void fill_listener(InetSkEntry *ie, SkOptsEntry *opts, uint32_t *src, uint32_t *dst)
{
	inet_sk_entry__init(ie);
	sk_opts_entry__init(opts);
	ie->opts = opts;
	ie->family = AF_INET;
	ie->type = SOCK_STREAM;
	ie->proto = IPPROTO_TCP;
	ie->state = TCP_LISTEN;
	ie->src_port = 80;
	src[0] = htonl(INADDR_LOOPBACK);
	dst[0] = 0;
	ie->src_addr = src;
	ie->dst_addr = dst;
	ie->n_src_addr = ie->n_dst_addr = 1;
}

static void expect_refused(const InetSkEntry *ie, int err, const char *words)
{
	oc_error_clear();
	assert_int_equal(oc_inet_check_entry(ie, 7), err);
	if (!strstr(oc_error_message(), words))
		fail_msg("\"%s\" does not say \"%s\"", oc_error_message(), words);
}

static void test_check_entry(void **state)
{
	uint32_t src[4], dst[4];
	SkOptsEntry opts;
	InetSkEntry ie;

	(void)state;
	fill_listener(&ie, &opts, src, dst);
	assert_int_equal(oc_inet_check_entry(&ie, 7), 0);
	ie.state = TCP_CLOSE; /* bound, idle */
	assert_int_equal(oc_inet_check_entry(&ie, 7), 0);
	ie.state = TCP_ESTABLISHED; /* restored through TCP_REPAIR */
	assert_int_equal(oc_inet_check_entry(&ie, 7), 0);
	/* half-closed, as CRIU restores them */
	for (int st = TCP_FIN_WAIT1; st <= TCP_CLOSING; st++) {
		ie.state = st;
		if (st != TCP_TIME_WAIT && st != TCP_CLOSE && st != TCP_LISTEN)
			assert_int_equal(oc_inet_check_entry(&ie, 7), 0);
	}
	ie.state = TCP_SYN_SENT; /* connects again */
	assert_int_equal(oc_inet_check_entry(&ie, 7), 0);
	ie.state = TCP_SYN_RECV;
	expect_refused(&ie, -EOPNOTSUPP, "127.0.0.1:80 (file 7): a connection in state SYN-RECV");
	ie.state = TCP_TIME_WAIT;
	expect_refused(&ie, -EOPNOTSUPP, "127.0.0.1:80 (file 7): a connection in state TIME-WAIT");
	ie.state = TCP_ESTABLISHED;
	ie.type = SOCK_DGRAM;
	ie.proto = IPPROTO_UDP; /* a connected UDP socket is fine */
	assert_int_equal(oc_inet_check_entry(&ie, 7), 0);
	ie.type = SOCK_RAW; /* raw sockets of any protocol, ping and UDP-lite too */
	ie.proto = IPPROTO_ICMP;
	assert_int_equal(oc_inet_check_entry(&ie, 7), 0);
	ie.type = SOCK_DGRAM;
	assert_int_equal(oc_inet_check_entry(&ie, 7), 0);
	ie.proto = IPPROTO_UDPLITE;
	assert_int_equal(oc_inet_check_entry(&ie, 7), 0);
	ie.proto = IPPROTO_SCTP;
	expect_refused(&ie, -EOPNOTSUPP, "type 2 protocol 132 is not supported");
	ie.type = SOCK_SEQPACKET;
	expect_refused(&ie, -EOPNOTSUPP, "type 5 protocol 132 is not supported");

	fill_listener(&ie, &opts, src, dst);
	ie.n_src_addr = 4; /* IPv4 with IPv6's words */
	expect_refused(&ie, -EINVAL, "family 2 with 4/1 address words");
	fill_listener(&ie, &opts, src, dst);
	ie.family = AF_UNIX;
	expect_refused(&ie, -EINVAL, "family 1");
	fill_listener(&ie, &opts, src, dst);
	ie.opts = NULL; /* a required field: a broken entry */
	expect_refused(&ie, -EINVAL, "file 7 has no inet socket entry");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_words),
		cmocka_unit_test(test_ipv6_words),
		cmocka_unit_test(test_check_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
