/*
 * fuzz_config.c - libFuzzer target for the whole compile pipeline:
 * bytes as one YAML layer (yaml.c) -> merged over a small fixed base layer
 * (merge.c) -> validated and lowered against mcpg's real schema
 * (validate.c, generated/mcpg_schema.c) -> laid out (image_write.c) ->
 * verified by the runtime's verifier (runtime/image.c) -> cross-field rules
 * (rules.c) -> decoded again (dump.c).  Diagnostics go nowhere (a sink
 * with no FILE).
 *
 * Besides the sanitizers, it aborts, so that libFuzzer records a crash,
 * when the pipeline breaks one of its own contracts:
 *   - a loader or walk that fails reports at least one error, and one that
 *     succeeds reports none (validate.h);
 *   - an accepted config always lays out (mcc_image_serialize) and the
 *     verifier accepts what the writer wrote: check and build must agree;
 *   - the same layers give the same bytes a second time, after the arena
 *     has been emptied (no state leaks from one compile into the next);
 *   - with FUZZ_CONFIG_ROUNDTRIP=1 in the environment, also the lockstep
 *     property: build -> dump -> build gives the same bytes, for configs
 *     without literal sensitive values (those dump as "<redacted>").
 *
 * Every input ends with mcc_arena_free_all(), as a long-running caller of
 * the compiler would.
 *
 *   make fuzz && tests/fuzz/run fuzz_config 60
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "diag.h"
#include "dump.h"
#include "image.h"
#include "image_write.h"
#include "merge.h"
#include "node.h"
#include "rules.h"
#include "schema_desc.h"
#include "validate.h"
#include "yaml.h"

#include "libfyaml_leak.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The base layer: a valid config small enough to leave most of the work
 * to the input, which overrides it key by key (lists are replaced whole).
 */
static const char base_yaml[] =
	"gateway:\n"
	"  server:\n"
	"    bind_address: \"127.0.0.1:8787\"\n"
	"cluster:\n"
	"  kind: single_node\n"
	"mcp:\n"
	"  capabilities:\n"
	"    tools:\n"
	"      - name: base.echo\n"
	"        description: Fixed answer.\n"
	"        governance:\n"
	"          minimum_trust: unauthenticated\n"
	"        backend:\n"
	"          kind: mock\n"
	"          response: {ok: true}\n";

static int roundtrip;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *e = getenv("FUZZ_CONFIG_ROUNDTRIP");

	(void)argc;
	(void)argv;
	roundtrip = e && *e == '1';
	return 0;
}

static void
fail(const char *what, const struct mcc_diag *d)
{
	fprintf(stderr, "fuzz_config: %s\n", what);
	for (size_t i = 0; d && i < d->nr; i++)
		fprintf(stderr, "  %s:%d:%d: %s\n", d->v[i].loc.file ? d->v[i].loc.file : "-",
			d->v[i].loc.line, d->v[i].loc.col, d->v[i].msg);
	abort();
}

/*
 * Validate `tree`, lay it out and verify it.  Returns the image bytes
 * (malloc) and fills *view, or NULL when the config is invalid.
 */
static unsigned char *
build(const struct mcpg_schema *s, const struct mcc_node *tree, struct mcc_diag *d,
      size_t *len, struct mcpg_image *view)
{
	struct mcc_image *img = mcc_image_new();
	struct mcpg_verify_error verr;
	unsigned char *bytes = NULL;
	int before = d->nerrors, rc;

	rc = mcc_validate(s, tree, img, MCC_V_NO_RULES, d);

	if (rc == 0 && d->nerrors != before)
		fail("mcc_validate() accepted a config it reported errors on", d);
	if (rc != 0 && d->nerrors == before && !d->stopped)
		fail("mcc_validate() refused a config without reporting an error", d);
	if (rc != 0) {
		mcc_image_free(img);
		return NULL;
	}
	if (mcc_image_serialize(img, s->hash, &bytes, len)) {
		fprintf(stderr, "fuzz_config: %s\n",
			mcc_image_error(img) ? mcc_image_error(img) : "(no reason)");
		fail("a validated config does not lay out", d);
	}
	mcc_image_free(img);
	if (mcpg_image_verify(view, bytes, *len, s, &verr)) {
		fprintf(stderr, "fuzz_config: verifier: %s (%s) at offset %llu\n", verr.msg,
			mcpg_verify_code_name(verr.code), (unsigned long long)verr.offset);
		fail("the verifier refuses what the writer wrote", d);
	}
	return bytes;
}

/* build -> dump -> build must give the same bytes (the lockstep property). */
static void
check_roundtrip(const struct mcpg_schema *s, const struct mcpg_image *view,
		const unsigned char *bytes, size_t len)
{
	struct mcc_diag d;
	struct mcpg_image view2;
	struct mcc_node *tree;
	unsigned char *again;
	char *text = NULL;
	size_t tlen = 0, len2 = 0;
	FILE *f = open_memstream(&text, &tlen);

	if (!f)
		abort();
	if (mcc_dump(view, f, 0) || fclose(f))
		fail("mcc_dump() failed on a verified image", NULL);
	if (memmem(text, tlen, "<redacted>", 10)) {
		free(text);
		return;
	}
	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	tree = mcc_yaml_load_string("dump.yaml", text, tlen, 0, &d);
	if (!tree || d.nerrors) {
		fprintf(stderr, "fuzz_config: dump:\n%s\n", text);
		fail("the dump of a valid image does not load", &d);
	}
	again = build(s, tree, &d, &len2, &view2);
	if (!again) {
		fprintf(stderr, "fuzz_config: dump:\n%s\n", text);
		fail("the dump of a valid image does not validate", &d);
	}
	if (len2 != len || memcmp(again, bytes, len)) {
		fprintf(stderr, "fuzz_config: dump:\n%s\n", text);
		fail("build -> dump -> build changed the image", &d);
	}
	free(again);
	free(text);
	mcc_diag_release(&d);
}

/*
 * One compile of base + input.  Returns the image bytes (malloc) of a
 * valid config, or NULL.  Everything else is in the arena.
 */
static unsigned char *
compile(const struct mcpg_schema *s, const uint8_t *data, size_t size, size_t *len,
	int is_first)
{
	struct mcc_diag d;
	struct mcc_node *base, *layer, *tree;
	struct mcpg_image view;
	unsigned char *bytes;

	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	base = mcc_yaml_load_string("base.yaml", base_yaml, sizeof(base_yaml) - 1, 0, &d);
	if (!base || d.nerrors)
		fail("the base layer does not load", &d);
	layer = mcc_yaml_load_string("fuzz.yaml", (const char *)data, size, 1, &d);
	if (!layer && !d.nerrors)
		fail("mcc_yaml_load_string() gave no tree and no error", &d);
	if (!layer || d.nerrors) {
		mcc_diag_release(&d);
		return NULL;
	}
	tree = mcc_merge(base, layer);
	bytes = build(s, tree, &d, len, &view);
	if (!bytes) {
		mcc_diag_release(&d);
		return NULL;
	}
	if (is_first) {
		/* Rules and the summary read the verified view; errors are fine. */
		mcc_rules_run(&view, tree, 0, &d);
		mcc_config_summary(&view);
		if (roundtrip)
			check_roundtrip(s, &view, bytes, *len);
	}
	mcpg_image_close(&view);
	mcc_diag_release(&d);
	return bytes;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *first, *second;
	size_t len = 0, len2 = 0;

	first = compile(&mcpg_schema, data, size, &len, 1);
	mcc_arena_free_all();
	if (!first)
		return 0;
	/* Again from an empty arena: the same layers give the same bytes. */
	second = compile(&mcpg_schema, data, size, &len2, 0);
	mcc_arena_free_all();
	if (!second || len2 != len || memcmp(first, second, len))
		fail("the same config compiled twice gives different images", NULL);
	free(first);
	free(second);
	return 0;
}
