/*
 * main.c - the mcpgc command line.
 *
 *   mcpgc check   [FILE...] [--env] [--format=text|json]
 *   mcpgc build   [FILE...] -o IMAGE [--env] [--format=text|json]
 *   mcpgc init    --template T [--output F] [--force] | --list
 *   mcpgc dump    IMAGE [--format yaml|json]
 *   mcpgc explain [FILE...] KEY
 *   mcpgc schema  [--json-schema]
 *   mcpgc gen     -o DIR [SCHEMA]
 *   mcpgc audit-verify FILE...
 *
 * Files come from the command line or, when none are given, from
 * MCPG_CONFIG (':'-separated, left to right).  Exit status: 0 ok, 1 the
 * input had errors, 2 usage, I/O or internal error.  The same program
 * answers as mcpg-config-check and mcpg-config-init (argv[0]).
 *
 * This is the only file that decides exit codes and talks to the user
 * directly; everything below reports through diag.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "audit_verify.h"
#include "compile.h"
#include "diag.h"
#include "dsl.h"
#include "dump.h"
#include "embed.h"
#include "explain.h"
#include "gen.h"
#include "image.h"
#include "image_write.h"
#include "rules.h"
#include "token.h"
#include "validate.h"

#define EXIT_INVALID 1
#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: mcpgc check   [FILE...] [--env] [--format=text|json]\n"
	"       mcpgc build   [FILE...] -o IMAGE [--env] [--format=text|json]\n"
	"       mcpgc init    --template T [--output F] [--force] | --list\n"
	"       mcpgc dump    IMAGE [--format yaml|json]\n"
	"       mcpgc explain [FILE...] KEY\n"
	"       mcpgc schema  [--json-schema]\n"
	"       mcpgc gen     -o DIR [SCHEMA]\n"
	"       mcpgc token   add|list|remove [--file F | --config C] [--note N] [--expiry E] [ID]\n"
	"       mcpgc audit-verify FILE...\n"
	"       mcpgc --help | --version\n";

static const char help_text[] =
	"\n"
	"Compile layered YAML configuration into a checked mcpg config image.\n"
	"\n"
	"commands:\n"
	"  check     validate the merged layers; exit 0 valid, 1 invalid, 2 usage or I/O\n"
	"  build     check, then write the image atomically and print its digest\n"
	"  init      write one of the deployment templates\n"
	"  dump      decode an image to YAML or JSON (secrets redacted)\n"
	"  explain   show a key's effective value, where each layer set it, and its doc\n"
	"  schema    print the config schema (or its JSON Schema)\n"
	"  gen       generate generated/ from the schema (make regen)\n"
	"  token     add (mint, print once, store the hash), list or remove API tokens\n"
	"  audit-verify  check an audit ledger's hash chain (rotated files first);\n"
	"            exit 1 and the first broken FILE:LINE when it is broken\n"
	"\n"
	"FILE... default to $MCPG_CONFIG, a ':'-separated list, left to right;\n"
	"later layers override earlier ones key by key.\n"
	"  --env             also resolve ${env.NAME} now and report unset variables\n"
	"  --format=json     print diagnostics as one JSON array on stdout\n";

/* The six templates, in the order `init --list` and the menu show them. */
static const struct {
	const char *name, *summary;
} templates[] = {
	{ "dev-single-node", "laptop dev, anonymous on loopback, mock and http tools" },
	{ "production-single-redis", "one replica, Redis state, OIDC, TLS at the listener" },
	{ "production-redis-cluster", "N replicas behind a load balancer, Redis coordinator" },
	{ "production-nats-cluster", "N replicas, NATS JetStream coordinator" },
	{ "air-gapped", "zero outbound calls, pre-staged JWKS file, file logs" },
	{ "multi-tenant", "per-tenant session cap, group-gated admin tool" },
};
#define NTEMPLATES (sizeof(templates) / sizeof(templates[0]))

static int __attribute__((format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mcpgc: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage_text);
	return EXIT_USAGE;
}

/* ---- Files ------------------------------------------------------------- */

struct files {
	const char **v;
	size_t nr;
};

static void
files_add(struct files *f, const char *path)
{
	f->v = mcc_grow(f->v, f->nr, f->nr + 1, sizeof(*f->v));
	f->v[f->nr++] = path;
}

/* When no file was named, take MCPG_CONFIG.  Returns -1 when there is none. */
static int
files_default(struct files *f)
{
	const char *env = getenv("MCPG_CONFIG");
	char *copy, *tok, *save;

	if (f->nr)
		return 0;
	if (!env || !*env)
		return -1;
	copy = mcc_strdup(env);
	for (tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
		files_add(f, tok);
	return f->nr ? 0 : -1;
}

/* Every file must be readable before anything is parsed (exit 2 otherwise). */
static int
files_readable(const struct files *f)
{
	int bad = 0;

	for (size_t i = 0; i < f->nr; i++) {
		struct stat st;
		int fd = open(f->v[i], O_RDONLY);

		if (fd < 0) {
			fprintf(stderr, "mcpgc: error: cannot open '%s': %s\n", f->v[i],
				strerror(errno));
			bad = 1;
			continue;
		}
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			fprintf(stderr, "mcpgc: error: cannot read '%s': Is a directory\n",
				f->v[i]);
			bad = 1;
		}
		close(fd);
	}
	return bad ? -1 : 0;
}

static char *
files_joined(const struct files *f)
{
	char *s = "";

	for (size_t i = 0; i < f->nr; i++)
		s = mcc_printf("%s%s%s", s, i ? " + " : "", f->v[i]);
	return s;
}

/* ---- check and build ---------------------------------------------------- */

static int
cmd_check_build(int argc, char **argv, int build)
{
	struct files files = { 0 };
	const char *output = NULL;
	enum mcc_diag_format fmt = MCC_DIAG_TEXT;
	unsigned vflags = 0;
	struct mcc_diag d;
	struct mcc_config cfg;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--env")) {
			vflags |= MCC_V_ENV;
		} else if (!strcmp(a, "--format=json") || !strcmp(a, "--format=text")) {
			fmt = !strcmp(a + 9, "json") ? MCC_DIAG_JSON : MCC_DIAG_TEXT;
		} else if (!strcmp(a, "--format") && i + 1 < argc) {
			a = argv[++i];
			if (strcmp(a, "json") && strcmp(a, "text"))
				return usage_error("unknown format '%s'", a);
			fmt = !strcmp(a, "json") ? MCC_DIAG_JSON : MCC_DIAG_TEXT;
		} else if (build && (!strcmp(a, "-o") || !strcmp(a, "--output"))) {
			if (i + 1 >= argc)
				return usage_error("'%s' needs a path", a);
			output = argv[++i];
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			return 0;
		} else if (a[0] == '-' && a[1]) {
			return usage_error("unknown option '%s'", a);
		} else {
			files_add(&files, a);
		}
	}
	if (build && !output)
		return usage_error("build needs -o IMAGE");
	if (files_default(&files))
		return usage_error("no config files: name them or set MCPG_CONFIG");
	if (files_readable(&files))
		return EXIT_USAGE;

	mcc_diag_init(&d, fmt == MCC_DIAG_JSON ? stdout : stderr, fmt);
	rc = mcc_compile(&cfg, &mcpg_schema, files.v, files.nr, vflags, &d);
	if (rc == 0 && build) {
		unsigned char digest[32];

		if (mcc_image_write_buf(cfg.bytes, cfg.len, output, &mcpg_schema, &d, digest)) {
			mcc_diag_finish(&d);
			mcc_config_release(&cfg);
			mcc_diag_release(&d);
			return EXIT_USAGE;
		}
	}
	mcc_diag_finish(&d);
	if (fmt == MCC_DIAG_TEXT) {
		const char *names = files_joined(&files);

		if (rc == 0) {
			printf("\u2713 %s: valid %s\n", names, mcc_config_summary(&cfg.view));
			if (build)
				printf("wrote %s (%zu bytes, sha256 %s)\n", output, cfg.len,
				       cfg.view.digest_hex);
		} else {
			fprintf(stderr, "\u2717 %s: invalid (%d error%s)\n", names, d.nerrors,
				d.nerrors == 1 ? "" : "s");
		}
	}
	mcc_config_release(&cfg);
	mcc_diag_release(&d);
	return rc ? EXIT_INVALID : 0;
}

/* ---- init --------------------------------------------------------------- */

static int
write_template(const char *name, const char *path, int force)
{
	const struct mcc_embedded *t = mcc_embedded_template(name);
	int fd;

	if (!t) {
		fprintf(stderr, "mcpgc: error: template '%s' is not built in\n", name);
		return EXIT_USAGE;
	}
	fd = open(path, O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL), 0644);
	if (fd < 0 && errno == EEXIST) {
		fprintf(stderr, "mcpgc: error: '%s' already exists; pass --force to overwrite\n",
			path);
		return EXIT_INVALID;
	}
	if (fd < 0 || write(fd, t->data, t->len) != (ssize_t)t->len || close(fd)) {
		fprintf(stderr, "mcpgc: error: cannot write '%s': %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_USAGE;
	}
	printf("\u2713 wrote %s (%s)\n", path, name);
	printf("  validate:  mcpgc check %s\n", path);
	printf("  boot:      MCPG_CONFIG=%s mcpg\n", path);
	return 0;
}

static int
cmd_init(int argc, char **argv)
{
	const char *name = NULL, *output = NULL;
	int force = 0, list = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--list") || !strcmp(a, "-l")) {
			list = 1;
		} else if (!strcmp(a, "--force") || !strcmp(a, "-f")) {
			force = 1;
		} else if (!strcmp(a, "--template") || !strcmp(a, "-t") ||
			   !strcmp(a, "--output") || !strcmp(a, "-o")) {
			if (i + 1 >= argc)
				return usage_error("'%s' needs a value", a);
			if (a[2] == 't' || a[1] == 't')
				name = argv[++i];
			else
				output = argv[++i];
		} else if (!strncmp(a, "--template=", 11)) {
			name = a + 11;
		} else if (!strncmp(a, "--output=", 9)) {
			output = a + 9;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			return 0;
		} else {
			return usage_error("unknown argument '%s'", a);
		}
	}
	if (list) {
		for (size_t i = 0; i < NTEMPLATES; i++)
			printf("%-24s \u2014 %s\n", templates[i].name, templates[i].summary);
		return 0;
	}
	if (!name) {
		/* Interactive: a numbered menu; an empty answer or EOF picks 1. */
		char line[64];
		size_t pick = 0;

		for (size_t i = 0; i < NTEMPLATES; i++)
			printf("  %zu) %-24s %s\n", i + 1, templates[i].name,
			       templates[i].summary);
		for (;;) {
			printf("Choice [1]: ");
			fflush(stdout);
			if (!fgets(line, sizeof(line), stdin) || line[0] == '\n') {
				pick = 1;
				break;
			}
			pick = strtoul(line, NULL, 10);
			if (pick >= 1 && pick <= NTEMPLATES)
				break;
		}
		name = templates[pick - 1].name;
		if (!output) {
			printf("Output path [./config.yaml]: ");
			fflush(stdout);
			if (fgets(line, sizeof(line), stdin) && line[0] != '\n') {
				line[strcspn(line, "\n")] = '\0';
				output = mcc_strdup(line);
			}
		}
	}
	size_t i;

	for (i = 0; i < NTEMPLATES; i++)
		if (!strcmp(templates[i].name, name))
			break;
	if (i == NTEMPLATES) {
		fprintf(stderr, "mcpgc: error: unknown template '%s'; the templates are:\n", name);
		for (i = 0; i < NTEMPLATES; i++)
			fprintf(stderr, "  %s\n", templates[i].name);
		return EXIT_INVALID;
	}
	return write_template(name, output ? output : "./config.yaml", force);
}

/* ---- dump, explain, schema, gen ---------------------------------------- */

static int
cmd_dump(int argc, char **argv)
{
	const char *path = NULL;
	int json = 0;
	struct mcpg_image img;
	struct mcpg_verify_error err;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--format") && i + 1 < argc) {
			a = argv[++i];
			if (strcmp(a, "yaml") && strcmp(a, "json"))
				return usage_error("unknown format '%s'", a);
			json = !strcmp(a, "json");
		} else if (!strcmp(a, "--format=json") || !strcmp(a, "--format=yaml")) {
			json = !strcmp(a + 9, "json");
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			return 0;
		} else if (a[0] == '-' && a[1]) {
			return usage_error("unknown option '%s'", a);
		} else if (path) {
			return usage_error("dump takes one image");
		} else {
			path = a;
		}
	}
	if (!path)
		return usage_error("dump needs an image");
	if (mcpg_image_open(&img, path, &mcpg_schema, &err)) {
		fprintf(stderr, "mcpgc: error: %s: %s\n", path, err.msg);
		return err.code == MCPG_VERR_IO ? EXIT_USAGE : EXIT_INVALID;
	}
	int rc = mcc_dump(&img, stdout, json) || fflush(stdout) ? EXIT_USAGE : 0;

	if (rc)
		fprintf(stderr, "mcpgc: error: cannot write the dump: %s\n", strerror(errno));
	mcpg_image_close(&img);
	return rc;
}

static int
cmd_explain(int argc, char **argv)
{
	struct files files = { 0 };
	struct mcc_diag d;
	struct mcc_node *tree;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return usage_error("unknown option '%s'", argv[i]);
		files_add(&files, argv[i]);
	}
	if (files.nr == 0)
		return usage_error("explain needs a KEY");
	const char *key = files.v[--files.nr];

	if (files_default(&files) == 0 && files_readable(&files))
		return EXIT_USAGE;
	mcc_diag_init(&d, stderr, MCC_DIAG_TEXT);
	tree = mcc_load_layers(files.v, files.nr, &d);
	if (d.nerrors) {
		mcc_diag_release(&d);
		return EXIT_INVALID;
	}
	rc = mcc_explain(&mcpg_schema, tree, key, stdout, &d);
	mcc_diag_release(&d);
	return rc ? EXIT_INVALID : 0;
}

static int
cmd_schema(int argc, char **argv)
{
	const struct mcc_embedded *e = &mcc_embedded_schema;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json-schema"))
			e = &mcc_embedded_json_schema;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		} else
			return usage_error("unknown argument '%s'", argv[i]);
	}
	fwrite(e->data, 1, e->len, stdout);
	return 0;
}

static int
cmd_gen(int argc, char **argv)
{
	const char *out = NULL, *schema = "schema/mcpg.schema";
	const struct mcpg_schema *s;
	struct mcc_diag d;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		} else if (argv[i][0] == '-')
			return usage_error("unknown option '%s'", argv[i]);
		else
			schema = argv[i];
	}
	if (!out)
		return usage_error("gen needs -o DIR");
	mcc_diag_init(&d, stderr, MCC_DIAG_TEXT);
	s = mcc_schema_load(schema, &d);
	if (!s)
		rc = d.nerrors && d.v[0].loc.file ? EXIT_INVALID : EXIT_USAGE;
	else
		rc = mcc_gen(s, schema, out, &d); /* 0 ok, 1 schema, 2 I/O */
	mcc_diag_release(&d);
	return rc;
}

static int
cmd_audit_verify(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return usage_error("unknown option '%s'", argv[i]);
	}
	if (argc < 2)
		return usage_error("audit-verify needs a FILE");
	return mcc_audit_verify(argc - 1, argv + 1, stdout, stderr);
}

int
main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	int rc;

	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "mcpg-config-check")) {
		argv[0] = "check";
		rc = cmd_check_build(argc, argv, 0);
	} else if (!strcmp(base, "mcpg-config-init")) {
		argv[0] = "init";
		rc = cmd_init(argc, argv);
	} else if (argc < 2) {
		fputs(usage_text, stderr);
		rc = EXIT_USAGE;
	} else if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
		   !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		fputs(help_text, stdout);
		rc = 0;
	} else if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("mcpgc %s (schema %s)\n", MCPG_VERSION, mcpg_schema.hash_hex);
		rc = 0;
	} else if (!strcmp(argv[1], "check")) {
		rc = cmd_check_build(argc - 1, argv + 1, 0);
	} else if (!strcmp(argv[1], "build")) {
		rc = cmd_check_build(argc - 1, argv + 1, 1);
	} else if (!strcmp(argv[1], "init")) {
		rc = cmd_init(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "dump")) {
		rc = cmd_dump(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "explain")) {
		rc = cmd_explain(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "schema")) {
		rc = cmd_schema(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "gen")) {
		rc = cmd_gen(argc - 1, argv + 1);
	} else if (!strcmp(argv[1], "token")) {
		rc = mcc_token_main(argc - 2, argv + 2);
	} else if (!strcmp(argv[1], "audit-verify")) {
		rc = cmd_audit_verify(argc - 1, argv + 1);
	} else {
		rc = usage_error("unknown command '%s'", argv[1]);
	}
	fflush(stdout);
	mcc_arena_free_all();
	return rc;
}
