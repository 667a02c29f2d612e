// SPDX-License-Identifier: GPL-2.0-or-later
/* ocicr dump: checkpoint a process tree (CRIU's options, ocicr's defaults). */
#include <stdio.h>

#include "ocicr.h"
#include "oci/cli.h"
#include "oci/criu/criu.h"

static void dump_usage(FILE *out)
{
	fprintf(out, "Usage: ocicr dump -t PID -D DIR [OPTIONS]\n\n"
		     "Checkpoint the process tree rooted at PID into the images directory DIR.\n"
		     "By default the tree is killed once the dump succeeded.\n\n"
		     "  -t, --tree PID          root of the tree to dump\n"
		     "  -D, --images-dir DIR    where to write the images (created if missing)\n"
		     "  -R, --leave-running     let the tree run on after the dump; its memory is then\n"
		     "                          read from a copy-on-write snapshot after it resumed\n"
		     "      --no-snapshot       with -R: read memory while the tree is frozen instead\n"
		     "  -s, --leave-stopped     leave the tree stopped (SIGSTOP) after the dump\n"
		     "  -j, --shell-job         the tree belongs to a shell job (controlling tty)\n"
		     "      --external tty[RDEV:DEV]  a terminal outside the tree (hex numbers, as\n"
		     "                          stat shows them); restore it with --inherit-fd\n"
		     "  -l, --file-locks        dump file locks\n"
		     "      --timeout N         seconds a task may take to freeze (default 10)\n"
		     "      --ghost-limit SIZE  largest unlinked file saved (default 64M)\n"
		     "      --freeze-cgroup DIR freeze through this freezer cgroup (v1 freezer or v2)\n"
		     "      --manage-cgroups=ignore  save the tasks' cgroup sets, no cgroup's properties\n"
		     "      --cgroup-root [CTRL:]PATH  save a cgroup under PATH with PATH and all below it\n"
		     "      --cgroup-yard DIR   the cgroup hierarchies are mounted in DIR (as CRIU names\n"
		     "                          them): use those instead of mounting them\n"
		     "      --tcp-established   dump established TCP connections (TCP_REPAIR)\n"
		     "      --tcp-close         dump them to be restored closed\n"
		     "      --skip-in-flight    leave out connections not yet accepted\n"
		     "      --network-lock M    nftables (default), iptables or skip: how the\n"
		     "                          connections are kept quiet until the restore\n"
		     "      --action-script F   run F at CRIU's notify points (pre-dump, post-dump)\n"
		     "      --external mnt[MOUNTPOINT]:KEY\n"
		     "                          the tree's mount at MOUNTPOINT is external: not saved,\n"
		     "                          given again by KEY at restore (-M MOUNTPOINT:KEY too)\n"
		     "      --external net[INODE]:KEY\n"
		     "                          the network namespace INODE is external (not saved)\n"
		     "      --external pid[INODE]:KEY\n"
		     "                          the pid namespace INODE is external: joined again at\n"
		     "                          restore (--inherit-fd fd[N]:KEY), the root need not be\n"
		     "                          its init\n"
		     "  -r, --root DIR          the tree's root file system (taken, as CRIU takes it)\n"
		     "  -W, --work-dir DIR      where a relative log file goes (default: DIR)\n"
		     "  -o, --log-file FILE     log file, relative to DIR (default dump.log; - for stderr)\n"
		     "  -v[0-4]                 log verbosity (default 3); -v, -vv... raise it by one a v\n"
		     "      --display-stats     print the dump statistics\n"
		     "  -h, --help              this help\n\n"
		     "Every other option of CRIU 4.2 is recognised too; one ocicr does not implement\n"
		     "yet fails with \"not supported by ocicr yet: --OPTION\".  See ocicr(1).\n");
}

int cmd_dump(int argc, char **argv)
{
	struct criu_opts o;
	int r;

	/* r >= 0: answered already (help, or a usage error). */
	r = criu_ocicr_parse(&o, "dump", argc, argv, dump_usage);
	if (r < 0 && o.tree <= 0)
		r = cli_usage_error("dump", "-t PID is required");
	if (r < 0 && !o.images_dir)
		r = cli_usage_error("dump", "-D DIR is required");
	if (r < 0)
		r = criu_run_dump(&o);
	criu_opts_fini(&o);
	return r;
}
