// SPDX-License-Identifier: GPL-2.0-or-later
/* ocicr checkpoint: a running runc or crun container into an archive (or images). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ocicr.h"
#include "bundle/checkpoint.h"
#include "bundle/rootfs.h"
#include "oci/cli.h"
#include "oci/criu/criu.h"
#include "core/cleanup.h"

static void checkpoint_usage(FILE *out)
{
	fprintf(out, "Usage: ocicr checkpoint [OPTIONS] BUNDLE|CONTAINER-ID\n\n"
		     "Checkpoint a running container: find it in the state runc or crun keep, map its\n"
		     "config.json onto the engine's options (root, bind mounts and masked files as external\n"
		     "mounts, namespaces given by path, cgroups, terminal) and dump it, then write a\n"
		     "checkpoint archive podman, CRI-O, containerd and ocicr restore.  No runtime is called.\n"
		     "A BUNDLE (any argument with a '/', or '.') is matched against each container's bundle.\n\n"
		     "  -e, --export FILE        the archive (mode 0600; default ./checkpoint-ID.tar[.zst])\n"
		     "      --image-path DIR     write the images to DIR; without --export, no archive\n"
		     "      --format FORMAT      archive layout: podman (default), crio, containerd\n"
		     "  -c, --compress ALGO      zstd, gzip or none (default: zstd for podman, none otherwise)\n"
		     "      --rootfs-base DIR    find the root's changes against DIR when it is no overlay\n"
		     "  -R, --leave-running      let the container run on after the dump\n"
		     "  -l, --file-locks         dump file locks\n"
		     "      --tcp-established    dump established TCP connections\n"
		     "      --runtime-root DIR   the runtime's state root (default: /run/runc, then /run/crun)\n"
		     "      --print-stats        print the dump statistics\n"
		     "  -v[0-4]                  log verbosity of dump.log (default 3)\n"
		     "  -h, --help               this help\n");
}

enum {
	OPT_IMAGE_PATH = 0x100,
	OPT_FORMAT,
	OPT_ROOTFS_BASE,
	OPT_TCP,
	OPT_RUNTIME_ROOT,
	OPT_PRINT_STATS,
};

struct ck_args {
	const char *target, *export_path, *image_path, *rootfs_base, *runtime_root;
	enum oci_layout layout;
	enum oci_compress compress;
	bool leave_running, file_locks, tcp, stats;
	int verbosity;
};

static int parse(int argc, char **argv, struct ck_args *a)
{
	static const struct option opts[] = {
		{ "export", required_argument, NULL, 'e' },
		{ "image-path", required_argument, NULL, OPT_IMAGE_PATH },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "compress", required_argument, NULL, 'c' },
		{ "rootfs-base", required_argument, NULL, OPT_ROOTFS_BASE },
		{ "leave-running", no_argument, NULL, 'R' },
		{ "file-locks", no_argument, NULL, 'l' },
		{ "tcp-established", no_argument, NULL, OPT_TCP },
		{ "runtime-root", required_argument, NULL, OPT_RUNTIME_ROOT },
		{ "print-stats", no_argument, NULL, OPT_PRINT_STATS },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	*a = (struct ck_args){ .layout = OCI_LAYOUT_PODMAN, .compress = _OCI_COMPRESS_INVALID, .verbosity = 3 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "e:c:Rlv::h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			a->export_path = optarg;
			break;
		case OPT_IMAGE_PATH:
			a->image_path = optarg;
			break;
		case OPT_FORMAT:
			a->layout = oci_layout_from_name(optarg);
			if (a->layout < 0 || a->layout == OCI_LAYOUT_OCICR)
				return cli_usage_error("checkpoint", "--format: podman, crio or containerd, not '%s'",
						       optarg);
			break;
		case 'c':
			a->compress = oci_compress_from_name(optarg);
			if (a->compress < 0)
				return cli_usage_error("checkpoint", "--compress: zstd, gzip or none, not '%s'",
						       optarg);
			break;
		case OPT_ROOTFS_BASE:
			a->rootfs_base = optarg;
			break;
		case 'R':
			a->leave_running = true;
			break;
		case 'l':
			a->file_locks = true;
			break;
		case OPT_TCP:
			a->tcp = true;
			break;
		case OPT_RUNTIME_ROOT:
			a->runtime_root = optarg;
			break;
		case OPT_PRINT_STATS:
			a->stats = true;
			break;
		case 'v':
			a->verbosity =
				optarg ? (optarg[0] >= '0' && optarg[0] <= '4' && !optarg[1] ? optarg[0] - '0' : -1)
				       : 4;
			if (a->verbosity < 0)
				return cli_usage_error("checkpoint", "-v: a level from 0 to 4");
			break;
		case 'h':
			checkpoint_usage(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("checkpoint", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("checkpoint", optind == argc
							     ? "which container? BUNDLE or CONTAINER-ID is required"
							     : "one container at a time");
	a->target = argv[optind];
	if (a->compress < 0)
		a->compress = oci_layout_default_compress(a->layout);
	return -1;
}

/* The engine's options: ours, then the container's (mapped from its config). */
static int dump_opts(const struct ck_args *a, const struct oci_checkpoint *ck, const char *images, struct criu_opts *o)
{
	int r = 0;

	criu_opts_init(o);
	o->ocicr = true;
	o->verbosity = a->verbosity;
	o->tree = ck->state->pid;
	o->images_dir = strdup(images);
	o->file_locks = a->file_locks;
	o->display_stats = a->stats;
	o->final_state = a->leave_running ? CRIU_FINAL_ALIVE : CRIU_FINAL_DEAD;
	if (!o->images_dir)
		return -ENOMEM;
	if (a->tcp)
		r = criu_opts_set(o, "tcp-established", NULL);
	if (r >= 0)
		r = oci_engine_opts_apply(&ck->eo, o);
	return r;
}

static int run(const struct ck_args *a, struct oci_checkpoint *ck, const char *images, const char *export_path)
{
	struct criu_opts o;
	bool changes = false;
	int r;

	r = oci_checkpoint_descriptors(ck, images);
	if (r < 0)
		return cli_fail(r, "checkpoint %s", ck->state->id);
	r = dump_opts(a, ck, images, &o);
	if (r < 0) {
		criu_opts_fini(&o);
		return cli_fail(r, "checkpoint %s", ck->state->id);
	}
	/* The engine's own error when it cannot dump this container. */
	r = criu_run_dump(&o);
	criu_opts_fini(&o);
	if (r != EXIT_OK || !export_path)
		return r;
	struct oci_export_opts eo = {
		.path = export_path,
		.layout = a->layout,
		.compress = a->compress,
		.rootfs_base = a->rootfs_base,
		.images_dir = images,
	};
	r = oci_checkpoint_export(ck, &eo, &changes);
	if (r < 0)
		return cli_fail(r, "checkpoint %s: the archive", ck->state->id);
	printf("%s\n", export_path);
	if (!changes)
		fprintf(stderr, "ocicr: note: no root filesystem changes in the archive (the root is no overlay; "
				"--rootfs-base DIR compares it with a base)\n");
	return EXIT_OK;
}

int cmd_checkpoint(int argc, char **argv)
{
	struct ck_args a;
	struct oci_checkpoint ck;
	_cleanup_free_ char *export_path = NULL, *tmp_images = NULL;
	int r = parse(argc, argv, &a);

	if (r >= 0)
		return r;
	r = oci_checkpoint_open(a.runtime_root, a.target, &ck);
	if (r < 0)
		return cli_fail(r, "checkpoint %s", a.target);
	if (a.export_path) {
		export_path = strdup(a.export_path);
	} else if (!a.image_path) {
		r = asprintf(&export_path, "checkpoint-%s.tar%s", ck.state->id,
			     a.compress == OCI_COMPRESS_ZSTD   ? ".zst"
			     : a.compress == OCI_COMPRESS_GZIP ? ".gz"
							       : "");
		if (r < 0)
			export_path = NULL;
	}
	if ((a.export_path || !a.image_path) && !export_path) {
		oci_checkpoint_fini(&ck);
		return cli_fail(-ENOMEM, "checkpoint");
	}
	if (!a.image_path) {
		/* Images beside the archive, gone once it is written. */
		_cleanup_free_ char *dir = strdup(export_path);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		if (dir && asprintf(&tmp_images, "%s/.ocicr-images-XXXXXX", slash ? (*slash = '\0', dir) : ".") < 0)
			tmp_images = NULL;
		if (!tmp_images || !mkdtemp(tmp_images)) {
			oci_checkpoint_fini(&ck);
			return cli_fail(tmp_images ? -errno : -ENOMEM, "checkpoint: a directory for the images");
		}
	} else if (mkdir(a.image_path, 0700) < 0 && errno != EEXIST) {
		oci_checkpoint_fini(&ck);
		return cli_fail(-errno, "checkpoint: --image-path %s", a.image_path);
	}
	r = run(&a, &ck, a.image_path ? a.image_path : tmp_images, export_path);
	if (tmp_images)
		oci_rm_tree(tmp_images);
	oci_checkpoint_fini(&ck);
	return r;
}
