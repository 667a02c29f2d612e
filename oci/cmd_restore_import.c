// SPDX-License-Identifier: GPL-2.0-or-later
/* ocicr restore --import: a checkpoint archive restored as a container on this host. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ocicr.h"
#include "bundle/image.h"
#include "bundle/prepare.h"
#include "oci/cli.h"
#include "oci/criu/criu.h"
#include "ocicr/cleanup.h"

#define MAX_VOLUMES 256

void restore_import_usage(FILE *out)
{
	fprintf(out, "Usage: ocicr restore --import ARCHIVE --bundle DIR [OPTIONS]\n\n"
		     "Restore a container from a checkpoint archive (podman's, CRI-O's/kubelet's,\n"
		     "containerd's or ocicr's; plain, gzip or zstd; the layout is found from the content).\n"
		     "The bundle is prepared on this host first: DIR/checkpoint (the images), DIR/rootfs\n"
		     "(the base + rootfs-diff.tar - deleted.files) and DIR/config.json (spec.dump with the\n"
		     "new id and this host's paths).  A failed restore leaves nothing behind.\n\n"
		     "  -i, --import ARCHIVE     the checkpoint archive, or oci:DIR[:TAG], a checkpoint image\n"
		     "                           (ocicr checkpoint --create-image) in an OCI image layout\n"
		     "  -b, --bundle DIR         the new bundle (created, or an empty directory)\n"
		     "  -n, --name ID            the restored container's id (default: the archive's name)\n"
		     "      --rootfs-base DIR    the root filesystem the changes apply to (the image's root)\n"
		     "      --volume SRC:DEST    the source on this host of the bind mount at DEST\n"
		     "      --external mnt[DEST]:SRC  the same, in CRIU's words\n"
		     "      --netns PATH         join this network namespace (e.g. /run/netns/NAME)\n"
		     "      --cgroup-parent CG   the container's cgroups go to CG/ID (default: the archive's\n"
		     "                           path with the new id)\n"
		     "      --runtime RUNTIME    none (default: ocicr restores it directly), runc or crun\n"
		     "                           (`RUNTIME restore` with ocicr as its criu; the runtime owns\n"
		     "                           the container afterwards)\n"
		     "      --runtime-root DIR   the runtime's state root\n"
		     "  -d, --detach             return once the container runs\n"
		     "      --pid-file FILE      write the container's init pid to FILE\n"
		     "      --prepare-only       prepare the bundle, restore nothing\n"
		     "  -v[0-4]                  log verbosity (default 3)\n"
		     "  -h, --help               this help\n");
}

enum {
	OPT_ROOTFS_BASE = 0x100,
	OPT_VOLUME,
	OPT_EXTERNAL,
	OPT_RUNTIME,
	OPT_RUNTIME_ROOT,
	OPT_PID_FILE,
	OPT_PREPARE_ONLY,
	OPT_NETNS,
	OPT_CGROUP_PARENT,
};

struct ri_args {
	struct oci_prepare_opts prep;
	struct oci_volume volumes[MAX_VOLUMES];
	const char *runtime, *runtime_root, *pid_file;
	bool detach, prepare_only;
	int verbosity;
};

static int parse(int argc, char **argv, struct ri_args *a)
{
	static const struct option opts[] = {
		{ "import", required_argument, NULL, 'i' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "name", required_argument, NULL, 'n' },
		{ "rootfs-base", required_argument, NULL, OPT_ROOTFS_BASE },
		{ "volume", required_argument, NULL, OPT_VOLUME },
		{ "external", required_argument, NULL, OPT_EXTERNAL },
		{ "runtime", required_argument, NULL, OPT_RUNTIME },
		{ "runtime-root", required_argument, NULL, OPT_RUNTIME_ROOT },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, OPT_PID_FILE },
		{ "pidfile", required_argument, NULL, OPT_PID_FILE },
		{ "prepare-only", no_argument, NULL, OPT_PREPARE_ONLY },
		{ "netns", required_argument, NULL, OPT_NETNS },
		{ "cgroup-parent", required_argument, NULL, OPT_CGROUP_PARENT },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->runtime = "none";
	a->verbosity = 3;
	a->prep.volumes = a->volumes;
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:b:n:dv::h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			a->prep.archive = optarg;
			break;
		case 'b':
			a->prep.bundle = optarg;
			break;
		case 'n':
			a->prep.name = optarg;
			break;
		case OPT_ROOTFS_BASE:
			a->prep.rootfs_base = optarg;
			break;
		case OPT_VOLUME:
		case OPT_EXTERNAL:
			if (a->prep.n_volumes == MAX_VOLUMES)
				return cli_usage_error("restore", "too many volumes");
			if (oci_volume_parse(optarg, c == OPT_EXTERNAL, &a->volumes[a->prep.n_volumes]) < 0)
				return cli_usage_error("restore", "%s", oc_error_message());
			a->prep.n_volumes++;
			break;
		case OPT_RUNTIME:
			a->runtime = optarg;
			if (strcmp(optarg, "none") && strcmp(optarg, "runc") && strcmp(optarg, "crun"))
				return cli_usage_error("restore", "--runtime: runc, crun or none, not '%s'", optarg);
			break;
		case OPT_RUNTIME_ROOT:
			a->runtime_root = optarg;
			break;
		case 'd':
			a->detach = true;
			break;
		case OPT_PID_FILE:
			a->pid_file = optarg;
			break;
		case OPT_PREPARE_ONLY:
			a->prepare_only = true;
			break;
		case OPT_NETNS:
			a->prep.netns = optarg;
			break;
		case OPT_CGROUP_PARENT:
			if (optarg[0] != '/')
				return cli_usage_error("restore", "--cgroup-parent: an absolute cgroup path, not '%s'",
						       optarg);
			a->prep.cgroup_parent = optarg;
			break;
		case 'v':
			a->verbosity =
				optarg && optarg[0] >= '0' && optarg[0] <= '4' && !optarg[1] ? optarg[0] - '0' : 4;
			break;
		case 'h':
			restore_import_usage(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("restore", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("restore", "unexpected argument '%s'", argv[optind]);
	if (!a->prep.archive)
		return cli_usage_error("restore", "--import ARCHIVE is required");
	if (!a->prep.bundle)
		return cli_usage_error("restore", "--import needs --bundle DIR (where the container's bundle goes)");
	return -1;
}

/* Directly through the engine, with the config's options. */
static int restore_none(const struct ri_args *a, const struct oci_prepared *p)
{
	struct oci_restore_ctx ctx = { .rootfs = p->rootfs };
	_cleanup_free_ char *cg = NULL;

	/* the container's cgroups under its own path here (runc's default: /ID) */
	if (p->spec->cgroups_path && p->spec->cgroups_path[0] == '/')
		ctx.cgroup_root = p->spec->cgroups_path;
	else if (!p->spec->cgroups_path && asprintf(&cg, "/%s", p->id) >= 0)
		ctx.cgroup_root = cg;
	struct oci_engine_opts eo = {};
	struct criu_opts o;
	int r;

	criu_opts_init(&o);
	o.ocicr = true;
	o.verbosity = a->verbosity;
	o.restore_detached = a->detach;
	o.images_dir = strdup(p->imp.images_dir);
	o.pidfile = a->pid_file ? strdup(a->pid_file) : NULL;
	r = !o.images_dir || (a->pid_file && !o.pidfile) ? -ENOMEM : 0;
	if (r >= 0)
		r = oci_map_restore(p->spec, &ctx, &eo);
	if (r >= 0)
		r = oci_engine_opts_apply(&eo, &o);
	oci_engine_opts_fini(&eo);
	if (r < 0)
		r = cli_fail(r, "restore %s", p->id);
	else
		r = criu_run_restore(&o);
	criu_opts_fini(&o);
	return r;
}

/* The directory of this ocicr, where its `criu` link is. */
static int own_dir(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	char *slash;

	if (n <= 0)
		return -errno;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	return 0;
}

static int run_runtime(char *const argv[], const char *dir)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		const char *path = getenv("PATH");
		_cleanup_free_ char *np = NULL;
		/* ocicr's `criu` first, for crun (libcriu) and a runc without --criu */
		if (asprintf(&np, "%s:%s", dir, path ? path : "/usr/sbin:/usr/bin:/sbin:/bin") >= 0)
			setenv("PATH", np, 1);
		execvp(argv[0], argv);
		fprintf(stderr, "ocicr: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* The end of the log the restore wrote in the bundle, which goes with it. */
static void show_log_tail(const char *dir, const char *name)
{
	_cleanup_free_ char *path = NULL, *line = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	char *lines[20] = {};
	size_t cap = 0, n = 0;

	if (asprintf(&path, "%s/%s", dir, name) < 0 || !(f = fopen(path, "re")))
		return;
	while (getline(&line, &cap, f) > 0) {
		free(lines[n % 20]);
		lines[n++ % 20] = strdup(line);
	}
	fprintf(stderr, "---- the end of %s ----\n", name);
	for (size_t i = n > 20 ? n - 20 : 0; i < n; i++) {
		fputs(lines[i % 20] ? lines[i % 20] : "", stderr);
		free(lines[i % 20]);
		lines[i % 20] = NULL;
	}
}

/* `runc restore` / `crun restore` with ocicr as their criu. */
static int restore_runtime(const struct ri_args *a, const struct oci_prepared *p)
{
	char dir[PATH_MAX], criu[PATH_MAX + 8];
	const char *argv[24];
	int n = 0, r;

	if (own_dir(dir, sizeof(dir)) < 0)
		return cli_fail(-errno, "restore: where is ocicr?");
	snprintf(criu, sizeof(criu), "%s/criu", dir);
	argv[n++] = a->runtime;
	if (a->runtime_root) {
		argv[n++] = "--root";
		argv[n++] = a->runtime_root;
	}
	if (!strcmp(a->runtime, "runc") && access(criu, X_OK) == 0) {
		argv[n++] = "--criu";
		argv[n++] = criu;
	}
	argv[n++] = "restore";
	if (a->detach)
		argv[n++] = "--detach";
	argv[n++] = "--image-path";
	argv[n++] = p->imp.images_dir;
	argv[n++] = "--work-path";
	argv[n++] = p->bundle;
	argv[n++] = "--bundle";
	argv[n++] = p->bundle;
	if (a->pid_file) {
		argv[n++] = "--pid-file";
		argv[n++] = a->pid_file;
	}
	argv[n++] = p->id;
	argv[n] = NULL;
	r = run_runtime((char *const *)argv, dir);
	if (r < 0) {
		/* whatever state the runtime kept of the failed restore */
		const char *del[] = { a->runtime, "--root", a->runtime_root, "delete", "--force", p->id, NULL };
		if (!a->runtime_root) {
			del[1] = "delete";
			del[2] = "--force";
			del[3] = p->id;
			del[4] = NULL;
		}
		run_runtime((char *const *)del, dir);
		fprintf(stderr, "ocicr: restore %s: %s restore failed\n", p->id, a->runtime);
		show_log_tail(p->bundle, "restore.log");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* --import oci:DIR[:TAG]: the archive is the image's one layer. */
static int image_archive(const char **archive, char **ret_layer)
{
	_cleanup_free_ char *dir = NULL, *tag = NULL;
	const char *ref = *archive, *colon;
	int r;

	*ret_layer = NULL;
	if (strncmp(ref, "oci:", 4))
		return 0;
	colon = strrchr(ref + 4, ':');
	if (colon && !strchr(colon, '/')) {
		dir = strndup(ref + 4, colon - ref - 4);
		tag = strdup(colon + 1);
	} else {
		dir = strdup(ref + 4);
	}
	if (!dir || (colon && !strchr(colon, '/') && !tag))
		return -ENOMEM;
	r = oci_image_layout_archive(dir, tag, ret_layer);
	if (r >= 0)
		*archive = *ret_layer;
	return r;
}

int cmd_restore_import(int argc, char **argv)
{
	_cleanup_free_ char *layer = NULL;
	struct ri_args a;
	struct oci_prepared p;
	int r = parse(argc, argv, &a);

	if (r >= 0)
		return r;
	r = image_archive(&a.prep.archive, &layer);
	if (r < 0)
		return cli_fail(r, "restore --import %s", a.prep.archive);
	/* Ctrl-C while the bundle is made: it is removed, then ocicr dies of it. */
	cli_hold_signals();
	r = oci_bundle_prepare(&a.prep, &p);
	if (r >= 0 && cli_held_signal(NULL)) {
		oci_bundle_discard(&p);
		oci_prepared_fini(&p);
		r = oc_error(-EINTR, "interrupted");
	}
	cli_release_signals(false);
	if (r < 0)
		return cli_fail(r, "restore --import %s", a.prep.archive);
	if (a.prepare_only) {
		printf("%s\n%s archive, compression %s\n", p.bundle, oci_layout_name(p.imp.layout), p.imp.compression);
		oci_prepared_fini(&p);
		return EXIT_OK;
	}
	r = !strcmp(a.runtime, "none") ? restore_none(&a, &p) : restore_runtime(&a, &p);
	/* Without -d, ocicr waited for the container: its exit status, not a failure. */
	if (r != EXIT_OK && (a.detach || strcmp(a.runtime, "none")))
		oci_bundle_discard(&p);
	oci_prepared_fini(&p);
	return r;
}
