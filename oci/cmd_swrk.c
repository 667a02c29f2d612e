// SPDX-License-Identifier: GPL-2.0-or-later
/* ocicr swrk FD: serve CRIU's RPC protocol on an inherited socket. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ocicr.h"
#include "oci/cli.h"
#include "oci/criu/rpc.h"

static void swrk_usage(FILE *out)
{
	fprintf(out, "Usage: ocicr swrk FD\n\n"
		     "Serve CRIU's RPC protocol (CRIU 4.2's rpc.proto) on FD, a SOCK_SEQPACKET\n"
		     "socket inherited from the client, as 'criu swrk FD' does for runc, podman\n"
		     "and libcriu: one request per datagram, NOTIFY exchanges with notify_scripts,\n"
		     "further requests only after one with keep_open.  Exit status 0 when the\n"
		     "last request succeeded, 1 when it failed or the client broke off.\n\n"
		     "  -h, --help   this help\n");
}

int cmd_swrk(int argc, char **argv)
{
	int type = 0;
	socklen_t len = sizeof(type);
	long fd;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		swrk_usage(stdout);
		return EXIT_OK;
	}
	if (argc < 2)
		return cli_usage_error("swrk", "FD is required");
	if (argc > 2)
		return cli_usage_error("swrk", "unexpected argument '%s'", argv[2]);
	if (cli_parse_number(argv[1], INT_MAX, &fd) < 0)
		return cli_usage_error("swrk", "'%s' is not a file descriptor number", argv[1]);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET)
		return cli_usage_error("swrk", "fd %ld is not a SOCK_SEQPACKET socket", fd);
	/* Restored and forked tasks must not inherit the client's socket. */
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return rpc_serve(fd);
}
