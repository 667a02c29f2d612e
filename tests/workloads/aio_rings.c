/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * AIO contexts (io_setup): a fresh one, one with completed events waiting
 * between its head and tail, and one whose ring wrapped (its tail behind
 * its head) with events waiting across the wrap.  Each ring is the
 * context's id and lives at that address.
 *
 * After restore each ring must be at the same address, an AIO ring still,
 * with the same size, head and tail; io_getevents() must hand back exactly
 * the events that waited, in order, each with its request's own data; a
 * new request must complete at the next slot; and io_destroy() must take
 * every context.
 */
#include <linux/aio_abi.h>
#include <sys/syscall.h>

#include "wl.h"

struct ring_head {
	uint32_t id, nr, head, tail;
	uint32_t magic, compat_features, incompat_features, header_length;
};

struct ctx {
	const char *what;
	unsigned setup_nr; /* io_setup()'s argument */
	unsigned rounds;   /* requests submitted, each completing at once */
	unsigned reaped;   /* of which reaped before the checkpoint */
	aio_context_t id;
	struct ring_head before;
	uint64_t next_data; /* aio_data of the first request not reaped */
};

static struct ctx ctxs[] = {
	{ "fresh", 1, 0, 0 },
	{ "waiting events", 8, 20, 7 },
	{ "wrapped ring", 32, 0, 0 }, /* rounds set once its size is known */
};

#define N_CTXS (sizeof(ctxs) / sizeof(ctxs[0]))

static int null_fd;
static char one_byte;

static long submit(struct ctx *c, uint64_t data)
{
	struct iocb cb = {
		.aio_data = data,
		.aio_lio_opcode = IOCB_CMD_PWRITE,
		.aio_fildes = (uint32_t)null_fd,
		.aio_buf = (uintptr_t)&one_byte,
		.aio_nbytes = 1,
	};
	struct iocb *cbs[1] = { &cb };

	return syscall(SYS_io_submit, c->id, 1, cbs);
}

/* Reap @n events, which must carry consecutive data from c->next_data. */
static void reap(struct ctx *c, unsigned n, const char *when)
{
	struct io_event ev[64];

	while (n) {
		long got = syscall(SYS_io_getevents, c->id, 0, n < 64 ? n : 64, ev, NULL);
		WL_CHECK(got > 0, "%s: %s: io_getevents: %ld (%s)", c->what, when, got, strerror(errno));
		for (long i = 0; i < got; i++) {
			WL_CHECK(ev[i].data == c->next_data && ev[i].res == 1,
				 "%s: %s: event with data %llu res %lld, "
				 "expected data %llu res 1",
				 c->what, when, (unsigned long long)ev[i].data, (long long)ev[i].res,
				 (unsigned long long)c->next_data);
			c->next_data++;
		}
		n -= got;
	}
}

static const volatile struct ring_head *ring(const struct ctx *c)
{
	return (const volatile struct ring_head *)c->id;
}

/* Whether /proc/self/maps shows an AIO ring of @len bytes at @at. */
static bool maps_has_ring(uint64_t at, uint64_t len)
{
	static char maps[256 * 1024];
	char want[64];

	snprintf(want, sizeof(want), "\n%lx-%lx rw-s ", (unsigned long)at, (unsigned long)(at + len));
	WL_SETUP(wl_read_file("/proc/self/maps", maps + 1, sizeof(maps) - 1) > 0, "read maps");
	maps[0] = '\n';
	const char *line = strstr(maps, want);
	if (!line)
		return false;
	const char *eol = strchr(line + 1, '\n');
	const char *name = strstr(line, "/[aio]");
	return name && (!eol || name < eol);
}

static uint64_t ring_len(const struct ring_head *h)
{
	return (sizeof(*h) + (uint64_t)h->nr * sizeof(struct io_event) + 4095) & ~4095ull;
}

static void setup(struct ctx *c, uint64_t data_base)
{
	WL_SETUP(syscall(SYS_io_setup, c->setup_nr, &c->id) == 0, "io_setup");
	/* Past the end once, then stop a third of the way round: the tail
	 * is behind the head, with the events between waiting. */
	if (!strcmp(c->what, "wrapped ring")) {
		c->rounds = ring(c)->nr + ring(c)->nr / 3;
		c->reaped = c->rounds - ring(c)->nr / 2;
	}
	c->next_data = data_base;
	for (unsigned i = 0; i < c->rounds; i++) {
		WL_SETUP(submit(c, data_base + i) == 1, "io_submit");
		/* Reap as we go, but keep the ring from filling. */
		if (i + 1 - (c->next_data - data_base) > ring(c)->nr / 2 && c->next_data - data_base < c->reaped)
			reap(c, 1, "before");
	}
	reap(c, c->reaped - (unsigned)(c->next_data - data_base), "before");
	memcpy(&c->before, (const void *)ring(c), sizeof(c->before));
}

int main(int argc, char **argv)
{
	wl_init(argc, argv);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	WL_SETUP(null_fd >= 0, "open /dev/null");
	for (size_t i = 0; i < N_CTXS; i++)
		setup(&ctxs[i], (i + 1) * 1000000);
	WL_SETUP(ctxs[2].before.tail < ctxs[2].before.head, "the wrapped ring's tail is behind its head");
	WL_SETUP(ctxs[1].before.tail > ctxs[1].before.head, "events wait in the second ring");

	wl_ready();
	wl_wait();

	for (size_t i = 0; i < N_CTXS; i++) {
		struct ctx *c = &ctxs[i];
		const struct ring_head *b = &c->before;
		struct ring_head now;
		memcpy(&now, (const void *)ring(c), sizeof(now));
		WL_CHECK(maps_has_ring(c->id, ring_len(b)), "%s: no AIO ring of %lu bytes at %#lx in maps", c->what,
			 (unsigned long)ring_len(b), (unsigned long)c->id);
		WL_CHECK(now.nr == b->nr && now.head == b->head && now.tail == b->tail && now.magic == b->magic &&
				 now.header_length == b->header_length,
			 "%s: ring nr/head/tail %u/%u/%u became %u/%u/%u", c->what, b->nr, b->head, b->tail, now.nr,
			 now.head, now.tail);
		unsigned waiting = (b->tail + b->nr - b->head) % b->nr;
		WL_CHECK(waiting == c->rounds - c->reaped, "%s: %u events in the ring, %u expected", c->what, waiting,
			 c->rounds - c->reaped);
		reap(c, waiting, "after restore");
		struct io_event ev;
		struct timespec zero = { 0, 0 };
		long more = syscall(SYS_io_getevents, c->id, 0, 1, &ev, &zero);
		WL_CHECK(more == 0, "%s: io_getevents found %ld more events than there were", c->what, more);
		WL_CHECK(submit(c, c->next_data) == 1, "%s: io_submit after restore: %s", c->what, strerror(errno));
		WL_CHECK(ring(c)->tail == (b->tail + 1) % b->nr, "%s: a new request completed at %u, not %u", c->what,
			 ring(c)->tail, (b->tail + 1) % b->nr);
		reap(c, 1, "after restore");
	}
	for (size_t i = 0; i < N_CTXS; i++)
		WL_CHECK(syscall(SYS_io_destroy, ctxs[i].id) == 0, "%s: io_destroy: %s", ctxs[i].what, strerror(errno));
	wl_pass();
}
