/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CRIU 4.2's options, as one table shared by the `criu` front end, `ocicr
 * dump`/`ocicr restore` and the RPC service: a struct criu_opts holds every
 * option as set, criu_opts_set() takes one by its long name, and
 * criu_opts_to_dump()/_to_restore() map them onto the engine's options,
 * refusing by name any option ocicr does not implement yet.
 */
#ifndef OCICR_CRIU_OPTS_H
#define OCICR_CRIU_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ocicr.h"

/* The CRIU release whose command line and images ocicr speaks. */
#define CRIU_COMPAT_MAJOR   4
#define CRIU_COMPAT_MINOR   2
#define CRIU_COMPAT_VERSION "4.2"

/* CRIU's defaults. */
#define CRIU_DEFAULT_VERBOSITY	 2	      /* warnings */
#define CRIU_DEFAULT_TIMEOUT	 10	      /* seconds to freeze the tree */
#define CRIU_DEFAULT_GHOST_LIMIT (1ull << 20) /* bytes of an unlinked file's data */

enum criu_arg {
	CRIU_ARG_NONE,
	CRIU_ARG_REQUIRED,
	CRIU_ARG_OPTIONAL,
};

/* One CRIU option: its names and where ocicr stands. */
struct criu_opt_desc {
	const char *name; /* long name, without "--" */
	char short_name;  /* 0: none */
	enum criu_arg arg;
	bool negatable;	 /* CRIU also takes --no-NAME */
	bool supported;	 /* false: refused with "not supported by ocicr yet" */
	const char *why; /* for some refused ones: what is missing */
	bool ocicr_only; /* `ocicr dump/restore` only, unknown to `criu` */
};

/* Every CRIU 4.2 option, terminated by a NULL name. */
extern const struct criu_opt_desc criu_opt_table[];

/* The option called @name ("tree", "no-shell-job"...); NULL when unknown.
 * @ret_negated (may be NULL) says whether it was the --no- form. */
const struct criu_opt_desc *criu_opt_find(const char *name, bool *ret_negated);
/* The option with short name @c, or NULL. */
const struct criu_opt_desc *criu_opt_find_short(char c);

struct criu_str_list {
	char **v;
	size_t n;
};

enum criu_final_state {
	CRIU_FINAL_DEAD,    /* dump: kill the tree (CRIU's default) */
	CRIU_FINAL_ALIVE,   /* --leave-running */
	CRIU_FINAL_STOPPED, /* --leave-stopped */
};

/* Every option as set; criu_opts_init() gives CRIU's defaults. */
struct criu_opts {
	pid_t tree;	  /* -t */
	char *images_dir; /* -D; NULL: "." */
	char *work_dir;	  /* -W; NULL: the images directory */
	char *log_file;	  /* -o, relative to the work dir; NULL: stderr */
	int verbosity;	  /* -v: 0..4 (higher values count as 4) */
	char *pidfile;	  /* restore: the root's pid goes there */
	enum criu_final_state final_state;
	bool restore_detached; /* -d */
	bool restore_sibling;  /* -S */
	bool shell_job;	       /* -j */
	bool file_locks;       /* -l */
	bool link_remap;       /* --link-remap */
	bool display_stats;
	bool tcp_established, tcp_close, skip_in_flight;
	enum oc_net_lock network_lock;	   /* --network-lock; 0: nftables */
	unsigned timeout;		   /* seconds to freeze the tree */
	unsigned timeout_ms;		   /* --timeout as given, for a restore; 0: not given */
	uint64_t ghost_limit;		   /* bytes; 0: CRIU's, CRIU_DEFAULT_GHOST_LIMIT */
	int status_fd;			   /* -1: none */
	bool ext_unix_sk;		   /* --ext-unix-sk without a value */
	struct oc_inherit_fd *inherit_fds; /* --inherit-fd fd[N]:KEY, keys malloc'ed */
	size_t n_inherit_fds;
	/* --external as given, and --ext-mount-map A:B as "mnt[A]:B" */
	struct criu_str_list externals;
	bool orphan_pts_master;			      /* RPC's orphan_pts_master (no option) */
	struct criu_str_list action_scripts;	      /* in the order given */
	char *root;				      /* --root: the tree's root file system */
	struct criu_str_list join_ns;		      /* --join-ns, as NS:PATH */
	enum oc_cgroup_mode manage_cgroups;	      /* --manage-cgroups (CRIU's default: soft) */
	struct criu_str_list cgroup_roots;	      /* --cgroup-root [CTRL:]PATH, in order */
	struct criu_str_list cgroup_dump_controllers; /* --cgroup-dump-controller */
	char *freeze_cgroup;			      /* --freeze-cgroup */
	char *cgroup_yard;			      /* --cgroup-yard */
	char *cgroup_props;			      /* --cgroup-props (dump; restore ignores it, as CRIU) */
	char *cgroup_props_file;		      /* --cgroup-props-file (likewise) */
	/* check */
	struct criu_str_list features;
	bool check_extra, check_experimental;
	bool help, version; /* -h, -V: the front end answers them */
	/* `ocicr dump/restore`: ocicr's conventions and its own options. */
	bool ocicr;
	bool no_snapshot; /* --no-snapshot */
	bool plan_only;	  /* --plan-only */
	/* Given options ocicr refuses, by long name, in the order given. */
	struct criu_str_list unsupported;
};

void criu_opts_init(struct criu_opts *o);
void criu_opts_fini(struct criu_opts *o);

/*
 * Set option @name (a long name, or "no-NAME" for a negatable one) to
 * @value (NULL for one without an argument, or an optional argument left
 * out), as CRIU's command line would.  An option ocicr does not implement
 * is recorded in o->unsupported (criu_opts_refuse() then names it); the
 * --no- form of one is taken (it asks for what ocicr does anyway).
 * Returns 0, or -EINVAL (unknown option, bad or missing value) with a
 * message naming the option.  --close acts at once, as in CRIU; --config
 * and --no-default-config do nothing here (criu_parse() reads the files
 * first; the RPC service calls criu_opts_apply_config() for config_file).
 */
int criu_opts_set(struct criu_opts *o, const char *name, const char *value);

/* -EOPNOTSUPP with "not supported by ocicr yet: --NAME" for the first
 * refused option set, else 0. */
int criu_opts_refuse(const struct criu_opts *o);

/* The images directory, the work directory (CRIU's defaults applied). */
const char *criu_opts_images_dir(const struct criu_opts *o);
const char *criu_opts_work_dir(const struct criu_opts *o);

/*
 * Fill @d (an OC_OPTS(oc_dump_opts)) from @o; strings point into @o.  The
 * log, notify and interruption fields are left for the caller.  Refuses
 * unsupported options (criu_opts_refuse()) and a missing -t.
 */
int criu_opts_to_dump(const struct criu_opts *o, struct oc_dump_opts *d);
/* The same for a restore (detach from -d; the caller may wait instead). */
int criu_opts_to_restore(const struct criu_opts *o, struct oc_restore_opts *r);

/* ---- parsing (parse.c) ---- */

/*
 * Apply the options of the CRIU configuration file @path (one "name value"
 * a line, '#' comments, "quoted values" with \" inside).  A file that does
 * not exist is skipped when @missing_ok (the RPC service's config_file),
 * an error otherwise.
 */
int criu_opts_apply_config(struct criu_opts *o, const char *path, bool missing_ok);

/*
 * Parse CRIU's command line @argv (argv[0] is the program) as CRIU does:
 * /etc/criu/default.conf and $HOME/.criu/default.conf (unless
 * --no-default-config or --config), $CRIU_CONFIG_FILE, --config FILE, then
 * @argv itself; later settings win, lists add up.  Options and operands may
 * mix; the operands (the action and its arguments) are left, in order, in
 * argv[*ret_first..argc-1] (argv is permuted).  -EINVAL with a message for
 * a bad option.
 */
int criu_parse(struct criu_opts *o, int argc, char **argv, int *ret_first);

/* The same for @argv alone, no configuration file (`ocicr dump/restore`). */
int criu_parse_args(struct criu_opts *o, int argc, char **argv, int *ret_first);

#endif
