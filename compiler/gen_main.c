/*
 * gen_main.c - build/mcpgc-gen, the bootstrap generator behind `make regen`
 * and `make check-generated`.
 *
 *   mcpgc-gen -o DIR SCHEMA     write generated files for SCHEMA into DIR
 *   mcpgc-gen --check SCHEMA    parse and resolve SCHEMA, report, write nothing
 *   mcpgc-gen --keys SCHEMA     print every key path mcpg-config(5) documents
 *
 * It links only the schema front end and the emitters (GEN_OBJS) and
 * libcrypto, never generated/, so it can rebuild generated/ from scratch.
 * Exit status: 0 ok, 1 the schema has errors, 2 usage or I/O error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "diag.h"
#include "dsl.h"
#include "gen.h"

static const char usage[] =
	"usage: mcpgc-gen -o DIR SCHEMA\n"
	"   or: mcpgc-gen --check SCHEMA\n"
	"   or: mcpgc-gen --keys SCHEMA\n";

enum mode { MODE_GEN, MODE_CHECK, MODE_KEYS };

static int
finish(struct mcc_diag *d, int rc)
{
	mcc_diag_finish(d);
	mcc_diag_release(d);
	mcc_arena_free_all();
	return rc;
}

int
main(int argc, char **argv)
{
	struct mcc_diag d;
	enum mode mode = MODE_GEN;
	const char *outdir = NULL, *schema_path = NULL;
	const struct mcpg_schema *s;
	FILE *f;
	int i;

	mcc_diag_init(&d, stderr, MCC_DIAG_TEXT);
	d.prog = "mcpgc-gen";
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return finish(&d, 0);
		} else if (!strcmp(a, "-o") && i + 1 < argc) {
			outdir = argv[++i];
		} else if (!strncmp(a, "-o", 2) && a[2]) {
			outdir = a + 2;
		} else if (!strcmp(a, "--check")) {
			mode = MODE_CHECK;
		} else if (!strcmp(a, "--keys")) {
			mode = MODE_KEYS;
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (a[0] == '-' && a[1]) {
			mcc_error(&d, MCC_NOLOC, "unknown option '%s'", a);
			fputs(usage, stderr);
			return finish(&d, 2);
		} else {
			break;
		}
	}
	if (i != argc - 1 || (mode == MODE_GEN) != (outdir != NULL)) {
		fputs(usage, stderr);
		return finish(&d, 2);
	}
	schema_path = argv[i];

	/* An unreadable schema is an I/O error (2), not a schema error (1). */
	f = fopen(schema_path, "rb");
	if (!f) {
		mcc_error(&d, MCC_NOLOC, "cannot open '%s': %s", schema_path,
			  strerror(errno));
		return finish(&d, 2);
	}
	fclose(f);

	s = mcc_schema_load(schema_path, &d);
	if (!s || d.nerrors)
		return finish(&d, 1);

	switch (mode) {
	case MODE_CHECK:
		return finish(&d, 0);
	case MODE_KEYS: {
		size_t len;
		char *keys = mcc_gen_render(s, schema_path, "keys", &len);

		fwrite(keys, 1, len, stdout);
		free(keys);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			mcc_error(&d, MCC_NOLOC, "cannot write to standard output");
			return finish(&d, 2);
		}
		return finish(&d, 0);
	}
	case MODE_GEN:
	default:
		return finish(&d, mcc_gen(s, schema_path, outdir, &d));
	}
}
