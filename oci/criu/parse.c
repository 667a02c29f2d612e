// SPDX-License-Identifier: GPL-2.0-or-later
/* CRIU's command line and configuration files, read into struct criu_opts. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/criu/opts.h"
#include "ocicr/cleanup.h"

#define GLOBAL_CONFIG "/etc/criu/default.conf"
#define USER_CONFIG   ".criu/default.conf" /* under $HOME */

/* getopt's val for the table's entry i, and for its --no- form. */
#define VAL_LONG    1000
#define VAL_NEGATED 2000

static struct option long_opts[2 * 128 + 1];
static char short_opts[64];

/* The getopt tables, made once from criu_opt_table. */
static void build_getopt_tables(void)
{
	static char no_names[128][40];
	size_t n = 0, s = 0;

	if (long_opts[0].name)
		return;
	for (int i = 0; criu_opt_table[i].name; i++) {
		const struct criu_opt_desc *d = &criu_opt_table[i];
		int has_arg = d->arg == CRIU_ARG_NONE	    ? no_argument
			      : d->arg == CRIU_ARG_REQUIRED ? required_argument
							    : optional_argument;

		long_opts[n++] = (struct option){ d->name, has_arg, NULL, VAL_LONG + i };
		if (d->negatable) {
			snprintf(no_names[i], sizeof(no_names[i]), "no-%s", d->name);
			long_opts[n++] = (struct option){ no_names[i], no_argument, NULL, VAL_NEGATED + i };
		}
		if (d->short_name) {
			short_opts[s++] = d->short_name;
			if (d->arg != CRIU_ARG_NONE)
				short_opts[s++] = ':';
			if (d->arg == CRIU_ARG_OPTIONAL)
				short_opts[s++] = ':';
		}
	}
}

/* Run getopt over @argv (@where names it in errors), setting options in @o. */
static int parse_words(struct criu_opts *o, int argc, char **argv, const char *where, int *ret_first)
{
	char name[48];
	int c, r;

	build_getopt_tables();
	optind = 0; /* a full reset: argv changes between calls */
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		const struct criu_opt_desc *d;
		bool negated = false;

		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			if (optopt && optopt < VAL_LONG)
				return oc_error(-EINVAL, "%s: bad or incomplete option -%c", where, optopt);
			return oc_error(-EINVAL, "%s: unknown option or missing argument: %s", where, bad);
		}
		if (c >= VAL_NEGATED) {
			d = &criu_opt_table[c - VAL_NEGATED];
			negated = true;
		} else if (c >= VAL_LONG) {
			d = &criu_opt_table[c - VAL_LONG];
		} else {
			d = criu_opt_find_short((char)c);
		}
		snprintf(name, sizeof(name), "%s%s", negated ? "no-" : "", d->name);
		r = criu_opts_set(o, name, optarg);
		if (r < 0)
			return oc_error_wrap(r, "%s", where);
	}
	if (ret_first)
		*ret_first = optind;
	else if (optind < argc)
		return oc_error(-EINVAL, "%s: unexpected '%s'", where, argv[optind]);
	return 0;
}

struct words {
	char **v;
	int n;
};

static void words_free(struct words *w)
{
	for (int i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
}

static int words_add(struct words *w, char *s)
{
	char **v;

	if (!s)
		return -ENOMEM;
	v = realloc(w->v, (w->n + 2) * sizeof(*v));
	if (!v) {
		free(s);
		return -ENOMEM;
	}
	w->v = v;
	v[w->n++] = s;
	v[w->n] = NULL;
	return 0;
}

/* The rest of a line after a value: only blanks or a comment. */
static bool only_comment(const char *p)
{
	p += strspn(p, " \t\r");
	return !*p || *p == '#';
}

/*
 * A quoted value from @p (just past the opening quote) into @out, \" for a
 * quote; returns the position after the closing quote, or NULL.
 */
static const char *unquote(const char *p, char *out)
{
	for (; *p; p++) {
		if (*p == '\\' && p[1] == '"') {
			*out++ = '"';
			p++;
		} else if (*p == '"') {
			*out = '\0';
			return p + 1;
		} else {
			*out++ = *p;
		}
	}
	return NULL;
}

/* One "name [value]" line as the single word "--name[=value]". */
static int config_line(struct words *w, const char *line, const char *path, int lineno)
{
	const char *p = line + strspn(line, " \t\r");
	size_t name_len = strcspn(p, " \t\r#");
	_cleanup_free_ char *value = NULL;
	char *word;

	if (!*p || *p == '#')
		return 0;
	const char *v = p + name_len;
	v += strspn(v, " \t\r");
	if (!only_comment(v)) {
		value = calloc(1, strlen(v) + 1);
		if (!value)
			return -ENOMEM;
		if (*v == '"') {
			v = unquote(v + 1, value);
			if (!v)
				return oc_error(-EINVAL, "%s:%d: no closing quote", path, lineno);
		} else {
			size_t n = strcspn(v, " \t\r#");
			memcpy(value, v, n);
			v += n;
		}
		if (!only_comment(v))
			return oc_error(-EINVAL, "%s:%d: one option and one value a line", path, lineno);
	}
	if (value ? asprintf(&word, "--%.*s=%s", (int)name_len, p, value) < 0
		  : asprintf(&word, "--%.*s", (int)name_len, p) < 0)
		return -ENOMEM;
	return words_add(w, word);
}

int criu_opts_apply_config(struct criu_opts *o, const char *path, bool missing_ok)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	struct words w = {};
	size_t cap = 0;
	int lineno = 0, r;

	if (!f) {
		if (errno == ENOENT && missing_ok)
			return 0;
		return oc_error_errno(-errno, "cannot read configuration file %s", path);
	}
	r = words_add(&w, strdup("criu"));
	while (r >= 0 && getline(&line, &cap, f) >= 0) {
		line[strcspn(line, "\n")] = '\0';
		r = config_line(&w, line, path, ++lineno);
	}
	if (r >= 0)
		r = parse_words(o, w.n, w.v, path, NULL);
	words_free(&w);
	return r;
}

/* What must be known before any option is read: which files to read. */
static void pre_scan(int argc, char **argv, bool *no_default, const char **config)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) /* operands only from here on */
			break;
		if (!strcmp(argv[i], "--no-default-config")) {
			*no_default = true;
		} else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			*config = argv[++i];
			*no_default = true;
		} else if (!strncmp(argv[i], "--config=", 9)) {
			*config = argv[i] + 9;
			*no_default = true;
		}
	}
}

int criu_parse_args(struct criu_opts *o, int argc, char **argv, int *ret_first)
{
	return parse_words(o, argc, argv, "command line", ret_first);
}

int criu_parse(struct criu_opts *o, int argc, char **argv, int *ret_first)
{
	bool no_default = false;
	const char *config = NULL, *env, *home;
	int r;

	pre_scan(argc, argv, &no_default, &config);
	if (!no_default) {
		r = criu_opts_apply_config(o, GLOBAL_CONFIG, true);
		if (r >= 0 && (home = getenv("HOME"))) {
			_cleanup_free_ char *user = NULL;
			if (asprintf(&user, "%s/%s", home, USER_CONFIG) < 0)
				return -ENOMEM;
			r = criu_opts_apply_config(o, user, true);
		}
		if (r < 0)
			return r;
	}
	env = getenv("CRIU_CONFIG_FILE");
	if (env && *env && (r = criu_opts_apply_config(o, env, true)) < 0)
		return r;
	if (config && (r = criu_opts_apply_config(o, config, false)) < 0)
		return r;
	return parse_words(o, argc, argv, "command line", ret_first);
}
