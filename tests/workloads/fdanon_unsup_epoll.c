/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An epoll that ocicr cannot dump: the parent's epoll (fd 20) watches a
 * pipe it added as fd 10 and then closed; only its child still has the
 * pipe.  The restore would add the watch in the parent, where fd 10 is
 * no longer that pipe, so the dump must refuse, naming the task, the fd
 * and its kind, and leave both tasks running.
 *
 * On SIGUSR1 (after the failed dump): the child writes to the pipe and
 * the parent's epoll reports it with its data; then the child is killed.
 */
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

#include "fdanon_wl.h"

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x77 };
	uint64_t v;
	int p[2], st;

	wl_init(argc, argv);
	WL_SYS(pipe2(p, O_NONBLOCK));
	int rd = wl_at(WL_SYS(fcntl(p[0], F_DUPFD, 100)), 10);
	int wr = wl_at(WL_SYS(fcntl(p[1], F_DUPFD, 100)), 11);
	close(p[0]);
	close(p[1]);
	int go = wl_at(WL_SYS(eventfd(0, EFD_NONBLOCK)), 12);
	int ep = wl_at(WL_SYS(epoll_create1(0)), 20);
	WL_SYS(epoll_ctl(ep, EPOLL_CTL_ADD, rd, &ev));

	pid_t pid = WL_SYS(fork());
	if (pid == 0) {
		while (read(go, &v, sizeof(v)) != sizeof(v))
			usleep(10000);
		if (write(wr, "z", 1) != 1)
			_exit(1);
		/* Keep the pipe open (its last holder) until killed. */
		for (;;)
			pause();
	}
	close(rd);
	close(wr);

	wl_ready(argv[1]);
	wl_wait();

	v = 1;
	WL_SYS(write(go, &v, sizeof(v)));
	WL_CHECK(epoll_wait(ep, &ev, 1, 2000) == 1 && ev.data.u64 == 0x77, "the epoll does not report the pipe");
	kill(pid, SIGKILL);
	WL_SYS(waitpid(pid, &st, 0));
	WL_CHECK(WIFSIGNALED(st), "the child failed (status 0x%x)", st);
	wl_pass();
}
