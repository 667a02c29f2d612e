// SPDX-License-Identifier: GPL-2.0-or-later
/* ocicr restore: bring a checkpointed tree back (CRIU's options, ocicr's defaults). */
#include <stdio.h>
#include <string.h>

#include "ocicr.h"
#include "oci/cli.h"
#include "oci/criu/criu.h"

static void restore_usage(FILE *out)
{
	fprintf(out, "Usage: ocicr restore -D DIR [OPTIONS]\n\n"
		     "Restore the process tree checkpointed in DIR, with its original pids.\n"
		     "Without -d, wait for the restored tree's root to exit and exit with its status.\n\n"
		     "  -D, --images-dir DIR       the images directory\n"
		     "  -d, --restore-detached     return once the tree runs\n"
		     "  -S, --restore-sibling      with -d: the root becomes a child of ocicr's parent\n"
		     "      --pidfile FILE         write the root's pid to FILE\n"
		     "  -j, --shell-job            the tree was a shell job\n"
		     "      --inherit-fd fd[N]:KEY our fd N stands in for KEY, a resource outside the\n"
		     "                             tree at dump: pipe:[INODE], tty[RDEV:DEV], a file's\n"
		     "                             path, a namespace key\n"
		     "  -s, --leave-stopped        leave the restored tree stopped (SIGSTOP)\n"
		     "      --tcp-established      restore established TCP connections\n"
		     "      --tcp-close            restore them closed instead\n"
		     "      --action-script F      run F at CRIU's notify points (pre-restore ... post-resume)\n"
		     "      --plan-only            print the restore plan and restore nothing\n"
		     "  -r, --root DIR             the root file system of a tree with a mount namespace\n"
		     "      --external mnt[KEY]:PATH\n"
		     "                             host path of the external mount KEY (-M KEY:PATH too)\n"
		     "      --external veth[NAME]:OUTSIDE[@BRIDGE]\n"
		     "                             the peer of the tree's veth NAME is made as OUTSIDE\n"
		     "                             in our namespace (in BRIDGE); --veth-pair NAME=OUTSIDE\n"
		     "      --external macvlan[NAME]:OUTSIDE\n"
		     "                             the tree's macvlan NAME is made over our device OUTSIDE\n"
		     "  -J, --join-ns NS:PATH      join the namespace at PATH (net, ipc, uts, cgroup, time)\n"
		     "                             instead of making one\n"
		     "      --manage-cgroups[=MODE] none, props, soft (default), full, strict or ignore\n"
		     "      --cgroup-root [CTRL:]PATH  move the tree's cgroups under PATH\n"
		     "      --cgroup-yard DIR      the cgroup hierarchies are mounted in DIR (as CRIU\n"
		     "                             names them): use those instead of mounting them\n"
		     "      --timeout SECONDS      fail (and undo) if the tree is not restored within this\n"
		     "                             (default 120; fractions allowed)\n"
		     "  -W, --work-dir DIR         where a relative log file goes (default: DIR)\n"
		     "  -o, --log-file FILE        log file, relative to DIR (default restore.log; - for stderr)\n"
		     "  -v[0-4]                    log verbosity (default 3); -v, -vv... raise it by one a v\n"
		     "      --display-stats        print the restore statistics\n"
		     "  -h, --help                 this help\n\n"
		     "Every other option of CRIU 4.2 is recognised too; one ocicr does not implement\n"
		     "yet fails with \"not supported by ocicr yet: --OPTION\".  See ocicr(1).\n\n");
	restore_import_usage(out);
}

/* A container from an archive: --import ARCHIVE, -i ARCHIVE. */
static bool wants_import(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--import") || !strncmp(argv[i], "--import=", 9) || !strncmp(argv[i], "-i", 2))
			return true;
	return false;
}

int cmd_restore(int argc, char **argv)
{
	struct criu_opts o;
	int r;

	if (wants_import(argc, argv))
		return cmd_restore_import(argc, argv);
	/* r >= 0: answered already (help, or a usage error). */
	r = criu_ocicr_parse(&o, "restore", argc, argv, restore_usage);
	if (r < 0 && !o.images_dir)
		r = cli_usage_error("restore", "-D DIR is required");
	if (r < 0)
		r = criu_run_restore(&o);
	criu_opts_fini(&o);
	return r;
}
