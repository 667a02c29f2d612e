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
#include <unistd.h>

#include "ocicr.h"
#include "bundle/checkpoint.h"
#include "bundle/rootfs.h"
#include "oci/cli.h"
#include "oci/criu/criu.h"
#include "ocicr/cleanup.h"

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
		     "      --create-image REF   the checkpoint as an OCI image podman, CRI-O and containerd\n"
		     "                           know: oci:DIR[:TAG] writes an image layout, a name puts\n"
		     "                           it in podman's store\n"
		     "      --format FORMAT      archive layout: podman (default), crio, containerd\n"
		     "  -c, --compress ALGO      zstd, gzip or none (default: zstd for podman, none otherwise)\n"
		     "      --rootfs-base DIR    find the root's changes against DIR when it is no overlay\n"
		     "      --rootfs-image NAME  the image the root came from (default: containers/storage's\n"
		     "                           record, else the config's org.opencontainers.image.ref.name)\n"
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
	OPT_CREATE_IMAGE,
	OPT_ROOTFS_IMAGE,
};

struct ck_args {
	const char *target, *export_path, *image_path, *rootfs_base, *runtime_root, *create_image, *rootfs_image;
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
		{ "create-image", required_argument, NULL, OPT_CREATE_IMAGE },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "compress", required_argument, NULL, 'c' },
		{ "rootfs-base", required_argument, NULL, OPT_ROOTFS_BASE },
		{ "rootfs-image", required_argument, NULL, OPT_ROOTFS_IMAGE },
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
		case OPT_CREATE_IMAGE:
			a->create_image = optarg;
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
		case OPT_ROOTFS_IMAGE:
			a->rootfs_image = optarg;
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

/* Where the outputs go: the archive, the image (a layout, maybe for
 * podman), the images; temporaries beside them. */
struct outputs {
	char *export_path; /* NULL: no archive */
	char *layout_dir;  /* NULL: no image */
	char *layout_tag;
	const char *podman_ref; /* the layout is pulled into podman's store as this */
	char *tmp_images;	/* images made here, removed at the end */
	const char *images;
};

static void outputs_fini(struct outputs *out)
{
	if (out->tmp_images)
		oci_rm_tree(out->tmp_images);
	if (out->podman_ref && out->layout_dir)
		oci_rm_tree(out->layout_dir);
	free(out->tmp_images);
	free(out->export_path);
	free(out->layout_dir);
	free(out->layout_tag);
}

/* REF: oci:DIR[:TAG] (an image layout) or a name for podman's store. */
static int image_target(const char *ref, struct outputs *out)
{
	const char *tmp = getenv("TMPDIR");

	if (!strncmp(ref, "oci:", 4)) {
		const char *colon = strrchr(ref + 4, ':');
		if (colon && !strchr(colon, '/')) {
			out->layout_dir = strndup(ref + 4, colon - ref - 4);
			out->layout_tag = strdup(colon + 1);
		} else {
			out->layout_dir = strdup(ref + 4);
			out->layout_tag = strdup("latest");
		}
		return out->layout_dir && out->layout_tag && *out->layout_dir ? 0 : -EINVAL;
	}
	if (access("/usr/bin/podman", X_OK) < 0)
		return oc_error(-ENOENT, "--create-image %s needs podman; oci:DIR[:TAG] writes an OCI image layout",
				ref);
	out->podman_ref = ref;
	out->layout_tag = strdup("latest");
	/* podman names what it pulls after the path: lower case only */
	if (asprintf(&out->layout_dir, "%s/ocicr-image-%d", tmp && *tmp ? tmp : "/var/tmp", (int)getpid()) < 0)
		return -ENOMEM;
	if (mkdir(out->layout_dir, 0700) < 0) {
		int err = oc_error_errno(-errno, "cannot create %s for the image", out->layout_dir);
		free(out->layout_dir);
		out->layout_dir = NULL;
		return err;
	}
	return out->layout_tag ? 0 : -ENOMEM;
}

static int plan_outputs(const struct ck_args *a, const struct oci_checkpoint *ck, struct outputs *out)
{
	const char *anchor;
	_cleanup_free_ char *dir = NULL;
	char *slash;
	int r;

	if (a->create_image && (r = image_target(a->create_image, out)) < 0)
		return r == -EINVAL ? oc_error(r, "--create-image %s: no directory", a->create_image) : r;
	if (a->export_path)
		out->export_path = strdup(a->export_path);
	else if (!a->image_path && !a->create_image &&
		 asprintf(&out->export_path, "checkpoint-%s.tar%s", ck->state->id,
			  a->compress == OCI_COMPRESS_ZSTD   ? ".zst"
			  : a->compress == OCI_COMPRESS_GZIP ? ".gz"
							     : "") < 0)
		out->export_path = NULL;
	if ((a->export_path || (!a->image_path && !a->create_image)) && !out->export_path)
		return -ENOMEM;
	if (a->image_path) {
		out->images = a->image_path;
		if (mkdir(a->image_path, 0700) < 0 && errno != EEXIST)
			return oc_error_errno(-errno, "--image-path %s", a->image_path);
		return 0;
	}
	/* Images beside the archive or image, gone once it is written. */
	anchor = out->export_path ? out->export_path : out->layout_dir;
	dir = strdup(anchor);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (asprintf(&out->tmp_images, "%s/.ocicr-images-XXXXXX", slash ? (*slash = '\0', *dir ? dir : "/") : ".") < 0)
		return -ENOMEM;
	if (!mkdtemp(out->tmp_images)) {
		free(out->tmp_images);
		out->tmp_images = NULL;
		return oc_error_errno(-errno, "cannot create a directory for the images");
	}
	out->images = out->tmp_images;
	return 0;
}

/* The image layout into podman's store, named @ref. */
static int podman_import(const struct outputs *out)
{
	_cleanup_free_ char *cmd = NULL;
	int status;

	/* pulled under the path's name, tagged, and the path's name dropped */
	if (asprintf(&cmd,
		     "id=$(podman pull -q 'oci:%s:%s') && podman tag \"$id\" '%s' && "
		     "{ podman untag \"$id\" 'localhost%s:%s' || true; }",
		     out->layout_dir, out->layout_tag, out->podman_ref, out->layout_dir, out->layout_tag) < 0)
		return -ENOMEM;
	if (strchr(out->podman_ref, '\'') || strchr(out->layout_dir, '\''))
		return oc_error(-EINVAL, "--create-image %s: a name with a quote", out->podman_ref);
	status = system(cmd);
	if (status != 0)
		return oc_error(-EIO, "podman could not take the image %s", out->podman_ref);
	return 0;
}

/* podman's import creates the container on the archive's image: say when it cannot. */
static void note_identity(const struct ck_args *a, const struct oci_storage_ctr *id)
{
	if (a->layout != OCI_LAYOUT_PODMAN && !a->create_image)
		return;
	if (!id->image_name)
		fprintf(stderr, "ocicr: note: the archive names no image (--rootfs-image NAME): podman cannot "
				"import it\n");
	else if (!id->image_id)
		fprintf(stderr,
			"ocicr: note: the image %s is not in containers/storage here: podman's import needs it "
			"there with the same ID\n",
			id->image_name);
}

static int run(const struct ck_args *a, struct oci_checkpoint *ck, const struct outputs *out)
{
	_cleanup_(oci_storage_ctr_fini) struct oci_storage_ctr identity = {};
	struct criu_opts o;
	bool changes = false;
	int r;

	r = oci_checkpoint_identity(ck, a->rootfs_image, &identity);
	if (r >= 0)
		r = oci_checkpoint_descriptors(ck, out->images);
	if (r < 0)
		return cli_fail(r, "checkpoint %s", ck->state->id);
	r = dump_opts(a, ck, out->images, &o);
	if (r < 0) {
		criu_opts_fini(&o);
		return cli_fail(r, "checkpoint %s", ck->state->id);
	}
	/* The engine's own error when it cannot dump this container. */
	r = criu_run_dump(&o);
	criu_opts_fini(&o);
	if (r != EXIT_OK || (!out->export_path && !out->layout_dir))
		return r;
	struct oci_export_opts eo = {
		.path = out->export_path,
		.image_dir = out->layout_dir,
		.image_tag = out->layout_tag,
		.layout = a->layout,
		.compress = a->compress,
		.rootfs_base = a->rootfs_base,
		.images_dir = out->images,
		.identity = &identity,
	};
	r = oci_checkpoint_export(ck, &eo, &changes);
	if (r >= 0 && out->podman_ref)
		r = podman_import(out);
	if (r < 0)
		return cli_fail(r, "checkpoint %s: the archive", ck->state->id);
	if (out->export_path)
		printf("%s\n", out->export_path);
	if (out->layout_dir)
		printf("%s\n", out->podman_ref ? out->podman_ref : a->create_image);
	note_identity(a, &identity);
	if (!changes)
		fprintf(stderr, "ocicr: note: no root filesystem changes in the archive (the root is no overlay; "
				"--rootfs-base DIR compares it with a base)\n");
	return EXIT_OK;
}

int cmd_checkpoint(int argc, char **argv)
{
	struct ck_args a;
	struct oci_checkpoint ck;
	struct outputs out = {};
	int r = parse(argc, argv, &a);

	if (r >= 0)
		return r;
	r = oci_checkpoint_open(a.runtime_root, a.target, &ck);
	if (r < 0)
		return cli_fail(r, "checkpoint %s", a.target);
	r = plan_outputs(&a, &ck, &out);
	if (r < 0)
		r = cli_fail(r, "checkpoint %s", a.target);
	else
		r = run(&a, &ck, &out);
	outputs_fini(&out);
	oci_checkpoint_fini(&ck);
	return r;
}
