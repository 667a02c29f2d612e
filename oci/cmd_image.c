// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ocicr image decode|encode|show: crit's job, built in.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ocicr.h"
#include "oci/cli.h"

static void image_usage(FILE *out)
{
	fprintf(out, "Usage: ocicr image COMMAND [OPTIONS]\n\n"
		     "Read and write CRIU-format image files, as crit does.\n\n"
		     "Commands:\n"
		     "  decode     convert an image to JSON\n"
		     "  encode     convert JSON back to an image\n"
		     "  show       summarise an image directory\n\n"
		     "Run 'ocicr image COMMAND --help' for a command's options.\n");
}

static void decode_usage(FILE *out)
{
	fprintf(out, "Usage: ocicr image decode [-i IMAGE] [-o JSON] [--pretty] [--nopl]\n\n"
		     "Convert a CRIU image file to JSON, as 'crit decode' prints it.\n\n"
		     "  -i, --in IMAGE    image file to read ('-' or omitted: standard input)\n"
		     "  -o, --out JSON    where to write the JSON ('-' or omitted: standard output)\n"
		     "      --pretty      indent, and show fields in their natural form (hex\n"
		     "                    addresses, flag names, major:minor, IP addresses)\n"
		     "      --nopl        summarise raw payloads (\"... <9B>\") instead of base64\n"
		     "  -h, --help        show this help\n");
}

static void encode_usage(FILE *out)
{
	fprintf(out, "Usage: ocicr image encode [-i JSON] [-o IMAGE]\n\n"
		     "Convert JSON (plain or --pretty, as decode writes it) back to a CRIU image\n"
		     "file, as 'crit encode' does.  The image appears only once it is complete.\n\n"
		     "  -i, --in JSON     JSON to read ('-' or omitted: standard input)\n"
		     "  -o, --out IMAGE   image file to write ('-' or omitted: standard output)\n"
		     "  -h, --help        show this help\n");
}

static void show_usage(FILE *out)
{
	fprintf(out, "Usage: ocicr image show DIR\n\n"
		     "Summarise the checkpoint in image directory DIR: its images, the process\n"
		     "tree, and per task its files, memory map and page count.\n\n"
		     "  -h, --help        show this help\n");
}

enum { OPT_PRETTY = 0x100, OPT_NOPL };

struct image_opts {
	const char *in, *out;
	unsigned flags;
	int help;
};

/*
 * Parse @argv (argv[0] is the subcommand) into @o.  @allowed lists the
 * long options the subcommand takes.  Returns -1 to go on, or an exit code.
 */
static int parse_opts(const char *cmd, int argc, char **argv, const struct option *longopts, const char *shortopts,
		      struct image_opts *o)
{
	int c;

	opterr = 0;
	optind = 0; /* full re-initialisation of getopt */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->in = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case OPT_PRETTY:
			o->flags |= OC_JSON_PRETTY;
			break;
		case OPT_NOPL:
			o->flags |= OC_JSON_NOPAYLOAD;
			break;
		case 'h':
			o->help = 1;
			return EXIT_OK;
		case ':':
			if (strncmp(argv[optind - 1], "--", 2) != 0 && optopt > 0 && optopt < 0x100)
				return cli_usage_error(cmd, "option '-%c' needs an argument", optopt);
			return cli_usage_error(cmd, "option '%s' needs an argument", argv[optind - 1]);
		default:
			if (strncmp(argv[optind - 1], "--", 2) != 0 && optopt > 0 && optopt < 0x100)
				return cli_usage_error(cmd, "unknown option '-%c'", optopt);
			return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	return -1;
}

static int image_decode(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "in", required_argument, NULL, 'i' },	     { "out", required_argument, NULL, 'o' },
		{ "pretty", no_argument, NULL, OPT_PRETTY }, { "nopl", no_argument, NULL, OPT_NOPL },
		{ "help", no_argument, NULL, 'h' },	     {},
	};
	struct image_opts o = { .in = "-", .out = "-" };
	char *text = NULL;
	size_t len = 0;
	FILE *mem, *out;
	int r;

	r = parse_opts("image decode", argc, argv, longopts, ":i:o:h", &o);
	if (o.help) {
		decode_usage(stdout);
		return EXIT_OK;
	}
	if (r >= 0)
		return r;
	if (optind < argc)
		return cli_usage_error("image decode", "unexpected argument '%s' (the image goes with -i)",
				       argv[optind]);
	if (!strcmp(o.in, "-") && isatty(STDIN_FILENO))
		return cli_usage_error("image decode", "no image given: use -i IMAGE or feed one on stdin");

	/* decode to memory first, so a failure leaves no half-written output */
	mem = open_memstream(&text, &len);
	if (!mem) {
		perror("ocicr: image decode");
		return EXIT_FAIL;
	}
	r = oc_image_decode(o.in, mem, o.flags);
	fclose(mem);
	if (r < 0) {
		free(text);
		return cli_fail(r, "image decode");
	}

	out = stdout;
	if (strcmp(o.out, "-")) {
		/* a fresh 0600 file, never written through a symlink */
		int fd = oc_create_private_file(o.out, true);
		out = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!out) {
			if (fd >= 0)
				close(fd);
			free(text);
			return cli_fail(fd < 0 ? fd : -ENOMEM, "image decode");
		}
	}
	bool failed = fwrite(text, 1, len, out) != len || fflush(out) == EOF;
	if (out != stdout && fclose(out) == EOF)
		failed = true;
	free(text);
	if (failed) {
		fprintf(stderr, "ocicr: image decode: %s: write failed: %s\n", strcmp(o.out, "-") ? o.out : "stdout",
			strerror(errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int image_encode(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct image_opts o = { .in = "-", .out = "-" };
	FILE *in;
	int r;

	r = parse_opts("image encode", argc, argv, longopts, ":i:o:h", &o);
	if (o.help) {
		encode_usage(stdout);
		return EXIT_OK;
	}
	if (r >= 0)
		return r;
	if (optind < argc)
		return cli_usage_error("image encode", "unexpected argument '%s' (the JSON goes with -i)",
				       argv[optind]);
	if (!strcmp(o.out, "-") && isatty(STDOUT_FILENO))
		return cli_usage_error("image encode", "not writing a binary image to a terminal: use -o IMAGE");

	in = strcmp(o.in, "-") ? fopen(o.in, "re") : stdin;
	if (!in) {
		fprintf(stderr, "ocicr: image encode: %s: %s\n", o.in, strerror(errno));
		return EXIT_FAIL;
	}
	r = oc_image_encode(in, o.out);
	if (in != stdin)
		fclose(in);
	if (r < 0)
		return cli_fail(r, "image encode: %s", strcmp(o.in, "-") ? o.in : "stdin");
	return EXIT_OK;
}

static int image_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct image_opts o = {};
	int r;

	r = parse_opts("image show", argc, argv, longopts, ":h", &o);
	if (o.help) {
		show_usage(stdout);
		return EXIT_OK;
	}
	if (r >= 0)
		return r;
	if (optind >= argc)
		return cli_usage_error("image show", "missing the image directory");
	if (optind + 1 < argc)
		return cli_usage_error("image show", "unexpected argument '%s'", argv[optind + 1]);

	r = oc_image_show(argv[optind], stdout);
	if (r < 0)
		return cli_fail(r, "image show");
	if (fflush(stdout) == EOF) {
		perror("ocicr: image show");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static const struct cli_command image_commands[] = {
	{ "decode", "convert an image to JSON", image_decode },
	{ "encode", "convert JSON back to an image", image_encode },
	{ "show", "summarise an image directory", image_show },
};

int cmd_image(int argc, char **argv)
{
	if (argc < 2) {
		image_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		image_usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(image_commands) / sizeof(image_commands[0]); i++)
		if (!strcmp(argv[1], image_commands[i].name))
			return image_commands[i].run(argc - 1, argv + 1);
	return cli_usage_error("image", "unknown command '%s' (decode, encode or show)", argv[1]);
}
