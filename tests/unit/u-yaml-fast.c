/*
 * u-yaml-fast.c - the YAML fast path (compiler/yaml_fast.c) against the
 * libfyaml loader (mcc_yaml_load_string_slow() in compiler/yaml.c).
 *
 * Whatever the fast path accepts, the libfyaml loader must accept without
 * a diagnostic and load to the same tree, node by node: kind, type,
 * style, text, location, layer, order (mcc_node_diff()).  The cases: every
 * YAML file of the repository (templates and fixtures must be accepted),
 * many snippets that must be accepted, variants of the templates cut and
 * spliced at many places (either way, but the same tree when accepted),
 * and snippets outside the subset, which must be declined.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "diag.h"
#include "node.h"
#include "yaml.h"
#include "yaml_fast.h"

#include "test.h"

static FILE *devnull;
static const char *top = ".";

enum { EITHER, ACCEPT, DECLINE };

/*
 * Load `text` both ways as layer 2.  `want`: ACCEPT, DECLINE or EITHER.
 * Returns 1 when the fast path accepted.
 */
static int
compare(const char *name, const char *text, size_t len, int want)
{
	struct mcc_node *fast = mcc_yaml_fast_load(name, text, len, 2), *slow;
	struct mcc_diag d;
	const char *diff;

	if (!fast) {
		if (want == ACCEPT) {
			printf("    %s: declined\n", name);
			test_failed_now = 1;
		}
		return 0;
	}
	if (want == DECLINE) {
		printf("    %s: accepted, but should be declined\n", name);
		test_failed_now = 1;
	}
	mcc_diag_init(&d, devnull, MCC_DIAG_TEXT);
	slow = mcc_yaml_load_string_slow(name, text, len, 2, &d);
	if (!slow || d.nr) {
		printf("    %s: accepted, but libfyaml says: %s\n", name,
		       d.nr ? d.v[0].msg : "(nothing)");
		test_failed_now = 1;
	} else if ((diff = mcc_node_diff(fast, slow))) {
		printf("    %s: %s\n", name, diff);
		test_failed_now = 1;
	}
	mcc_diag_release(&d);
	return 1;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t alloc = 0, n;

	*len = 0;
	if (!f)
		return NULL;
	do {
		if (*len == alloc)
			buf = mcc_grow(buf, *len, alloc = alloc ? 2 * alloc : 4096, 1);
		n = fread(buf + *len, 1, alloc - *len, f);
		*len += n;
	} while (n > 0);
	fclose(f);
	return buf;
}

/* The files matching `pattern` under the top of the tree, sorted. */
static glob_t
files(const char *pattern)
{
	glob_t g;

	if (glob(mcc_printf("%s/%s", top, pattern), 0, NULL, &g))
		g.gl_pathc = 0;
	return g;
}

/* ---- Files ----------------------------------------------------------------- */

static void
file_loads_the_same(const char *path, int want)
{
	size_t len;
	char *text = slurp(path, &len);

	CHECK(text != NULL);
	if (text)
		compare(path, text, len, want);
}

/*
 * The config-errors layers: those libfyaml loads without a word must be
 * loaded the same; those it reports on must be declined.
 */
static void
error_layers(void)
{
	glob_t g = files("tests/config-errors/*/*.yaml");
	size_t ok = 0, accepted = 0;

	CHECK(g.gl_pathc > 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		size_t len;
		char *text = slurp(g.gl_pathv[i], &len);
		struct mcc_diag d;
		int clean;

		mcc_diag_init(&d, devnull, MCC_DIAG_TEXT);
		clean = mcc_yaml_load_string_slow(g.gl_pathv[i], text, len, 2, &d) && !d.nr;
		mcc_diag_release(&d);
		ok += clean;
		accepted += compare(g.gl_pathv[i], text, len, clean ? ACCEPT : DECLINE);
	}
	printf("# %zu config-errors layers, %zu load cleanly, the fast path took %zu\n",
	       g.gl_pathc, ok, accepted);
	globfree(&g);
}

/*
 * Variants of the templates: cut after every line and at every 7th byte,
 * a byte dropped at every 11th, and characters that matter to the syntax
 * put in at every 53rd.  The fast path may decline them, but what it
 * accepts must load the same.
 */
static void
template_variants(void)
{
	static const char *const bits[] = { " ", "\t", ":", ": ", "#", " #", "-", "- ", "\"",
					    "'", "[", "]", "{", "}", ",", "|", ">", "\n",
					    "\n  ", "&", "*", "!", "?", "~", "\\", "---\n" };
	glob_t g = files("templates/*.yaml");
	size_t tried = 0, accepted = 0;

	CHECK(g.gl_pathc > 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		size_t len;
		char *text = slurp(g.gl_pathv[i], &len), *buf;

		if (!text)
			continue;
		buf = mcc_alloc(len + 16);
		for (size_t at = 0; at < len; at++) {
			if (text[at] == '\n' || at % 7 == 0) {
				accepted += compare(g.gl_pathv[i], text, at + (text[at] == '\n'), EITHER);
				tried++;
			}
			if (at % 11 == 0) {
				memcpy(buf, text, at);
				memcpy(buf + at, text + at + 1, len - at - 1);
				accepted += compare(g.gl_pathv[i], buf, len - 1, EITHER);
				tried++;
			}
			if (at % 53 == 0) {
				for (size_t b = 0; b < sizeof(bits) / sizeof(bits[0]); b++) {
					size_t bl = strlen(bits[b]);

					memcpy(buf, text, at);
					memcpy(buf + at, bits[b], bl);
					memcpy(buf + at + bl, text + at, len - at);
					accepted += compare(g.gl_pathv[i], buf, len + bl, EITHER);
					tried++;
				}
			}
			if (test_failed_now)
				break;
		}
		mcc_arena_free_all();
	}
	printf("# %zu template variants, the fast path took %zu\n", tried, accepted);
	globfree(&g);
}

/* ---- Snippets -------------------------------------------------------------- */

static const char *const accepted[] = {
	/* block collections */
	"a: 1\n",
	"a: 1",
	"a:\n  b: 1\n  c: 2\nd: 3\n",
	"  a: 1\n  b:\n    c: 2\n",
	"a:\n- 1\n- 2\nb: 3\n",
	"a:\n  - x\n  - y: 1\n    z: 2\n  - - n\n    - m\n  - w\n",
	"a:\n  -   b: 1\n      c: 2\n  - d\n",
	"a:\n  -\n    b: 1\n  - # comment\n    c\n",
	"a:\n  - b:\n    - c\n    d: 1\n",
	"a:\n\n  b: 1\n\n\nc: 2\n\n",
	"a:\n  b:\n    c:\n      d:\n        e: [[[1]]]\n",
	"a:\nb:\nc: ~\n",
	"a:\n  b:\nc: 1\n",
	"a:\n  - b:\n  - c\n",
	"a:   # comment\n  b: 1\n",
	"a:\n  \"x\"\nb:\n  [1]\nc:\n  d\n",
	/* plain scalars */
	"a: b c d\n",
	"a: b#c\n",
	"a: b # c\n",
	"a:    b    \n",
	"a b: c\n",
	"a  : c\n",
	"-a: 1\n--b: 2\n",
	"a: -1\nb: -x\nc: --- x\nd: ...\n",
	"a: b:c\nb: x::y\n",
	"a: http://x:80/y?z=1#f\n",
	"a: ${arguments.id}/x{y}[z],w\n",
	"a: it's \"so\"\n",
	"a: x, y\n",
	"a: b]c}d\n",
	"1: int\ntrue: bool\nnull: null key\n~: tilde\n1.5: float\n",
	"a: ~\nb: null\nc: Null\nd: NULL\ne:\n",
	"a: 0x1F\nb: 0o17\nc: 1e3\nd: .inf\ne: -.Inf\nf: .NaN\ng: +1\nh: 1.\ni: 007\n",
	"a: true\nb: False\nc: yes\nd: off\n",
	"é: ü\n\"ö\": 'ä'\nx: \xf0\x9f\x98\x80 \xe4\xb8\xad\n",
	"a: x\xc2\xa0y\n",
	"a: ...\nb: ---\nc: '---'\n",
	/* quoted scalars */
	"a: 'single'\nb: \"double\"\n'c': 1\n\"d\": 2\n\"e\" : 3\n",
	"a: 'it''s'\nb: 'x''y''z'\nc: ''''\n",
	"a: '  spaced  '\nb: \"  spaced  \"\n",
	"a: \"\"\nb: ''\nc: \"null\"\nd: '1'\n",
	"a: \"q \\\" \\\\ \\/ \\t \\n \\r \\e \\a \\b \\v \\f \\  \\N \\_ \\L \\P\"\n",
	"a: \"\\x41\\xe9\\x80 \\u00e9\\uFFFE \\U0001F600\\U0010FFFF\"\n",
	"a: \"tab\there\"\nb: 'tab\there'\nc: \"\\\t\"\n",
	"a: \"# not a comment\" # a comment\n",
	"\"a b\": 1\n'c: d': 2\n\"\": 3\n",
	"a: 'x' \nb: \"y\"   # c\n",
	"a: 'x\t'\nb: \"\ty\t\"\n",
	/* flow collections */
	"a: [1, 2, 3]\nb: []\nc: [ ]\nd: {}\ne: { }\n",
	"a: {b: 1, c: [x, y], d: {e: f}}\n",
	"a: [a:b, c#d, 'q', \"w\", -1, -x]\n",
	"a: {\"b\":1, 'c': 2, d: 3, \"e\":[1]}\n",
	"a: [1, 2,]\nb: {c: 1,}\nc: [[],{},]\n",
	"a: [\n    1,\n    2\n  ]\n",
	"a: {\n    b: 1, # c\n    c: 2\n  }\n",
	"a: [  # c\n    x\n    , y\n\n    ,z ]\n",
	"a:\n  b: [\n      1\n   ]\n",
	"{a: 1, b: [2]}\n",
	"{\na: 1\n}\n",
	"a: [x]   # c\nb: {y: z}\n",
	"a:\n  - [1, {b: c}]\n  - {d: [e]}\n",
	"a: {b: 1}\n\n",
	/* block scalars */
	"a: |\n  x\n  y\n",
	"a: |-\n  x\n\n",
	"a: |+\n  x\n\n\nb: 1\n",
	"a: >\n  x\n  y\n\n  z\n",
	"a: >-\n  x\n  y  \n\n\n  z\n",
	"a: >+\n  x\n\n",
	"a: |\n\n  x\n",
	"a: >\n\n\n  x\n  y\n",
	"a: |  # comment\n  x\n",
	"a: |\n  x\n    more\n  \ty\n  z\n",
	"a: |\n  x\n# comment\nb: 1\n",
	"a: |\n    x\n  # comment\nb: |\n  y\n",
	"a:\n  - |\n    x\n  - >-\n    y\n  - z\n",
	"a:\n  b: |\n    x\n  c: 1\n",
	"a:\n  - b: |\n      x\n    c: >\n      y\n",
	"a: |\n  x\n \n  \n  y\n",
	"a: >\n  trailing spaces   \n  kept\n",
	"a: 1\nb: |\n  x\n",
	"a:\n  - x\n  - |\n    y\n",
	"a:\n  - |\n    # not a comment\n  - [b]\n  - |\n    y\n  - c:\n  - >\n    z\n",
	/* documents, comments, blank lines */
	"---\na: 1\n",
	"--- # c\na: 1\n",
	"# c\n---\n\na: 1\n",
	"\n\n# only\n  # comments\na: 1 # c\n   # c\n\n",
	"",
	"# c\n",
	"---\n",
	"\n\n",
	"--- # c\n# d\n",
};

static const char *const declined[] = {
	/* outside the subset */
	"a: &x 1\n",
	"a: 1\nb: *x\n",
	"a: !!str 1\n",
	"a: !t 1\n",
	"a: !!map {b: 1}\n",
	"? a\n: 1\n",
	"<<: {a: 1}\n",
	"a: b\n  c\n",
	"a:\n  b\n  c\n",
	"- a\n  b\n",
	"a: \"b\n  c\"\n",
	"a: 'b\n  c'\n",
	"a: \"x\\\n  y\"\n",
	"a: [x\n  y]\n",
	"a: {x\n  : 1}\n",
	"a:\n\tb: 1\n",
	"a: 1\t# c\n",
	"a:\tb\n",
	"a: [1,\t2]\n",
	"a: 1\n\t\n",
	"%YAML 1.2\n---\na: 1\n",
	"a: 1\n---\nb: 2\n",
	"a: 1\n...\n",
	"--- a: 1\n",
	"---\n---\na: 1\n",
	"\xef\xbb\xbf" "a: 1\n",
	"a: 1\r\nb: 2\r\n",
	"a: x\xef\xbb\xbfy\n",
	"a: \x7f\n",
	"a: \xc2\x85\n",
	"a: \xe2\x80\xa8\n",
	"a:\n  -\n  - b\n",
	"a:\n  - \n",
	"a:\n  - # c\n",
	"a: |2\n   x\n",
	"a: >\n  x\n   more\n  y\n",
	"a: |\n  x",
	"a: |\n\n",
	"a: |\n   \n  x\n",
	"a: |\n  x\n   \n",
	"a:\n  |\n    x\n",
	"\"a\": |\n  x\n",
	"a:\n  - 'b'\n  - |\n    x\n",
	"a: 'x''''y'\n",
	"a: \"\\0\"\n",
	"a: \"\\x00\"\n",
	"a: \"\\ud800\"\n",
	"a: \"\\U00110000\"\n",
	"a: [a: 1]\n",
	"a: {b}\n",
	"a: {b: }\n",
	"a: {b:}\n",
	"a: {b:1}\n",
	"a: [-]\n",
	"a: [- x]\n",
	"a: ?x\n",
	"a: :x\n",
	"- a\n- b\n",
	"just text\n",
	"~\n",
	"[1]\n",
	"{a: 1} x\n",
	"a: 1\na: 2\n",
	"a: {b: 1, b: 2}\n",
	"\"a\": 1\na: 2\n",
	"a: 1\n'a': 2\n",
	/* errors: the libfyaml loader reports them */
	"a: [1, 2\n",
	"a: {b: 1\n",
	"a: [1, 2}\n",
	"a: [,]\n",
	"a: [1,,2]\n",
	"a: [\n1]\n",
	"a: [\n  1\n]\n",
	"a: b: c\n",
	"a: - b\n",
	"a: -\n",
	"a: @x\n",
	"a: `x\n",
	"a: %x\n",
	"a: \"x\\qy\"\n",
	"a: \"x\" y\n",
	"a: \"x\"#c\n",
	"a: [x]y\n",
	"a:\n  b: 1\n   c: 2\n",
	"a:\n  b: 1\n c: 2\n",
	"a:\n  - x\n - y\n",
	"a: b\n- c\n",
	"a: b\x01\n",
	"a: \xff\n",
	"a: \"unterminated\n",
};

static void
snippets_accepted(void)
{
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		compare(mcc_printf("accepted[%zu]", i), accepted[i], strlen(accepted[i]), ACCEPT);
}

static void
snippets_declined(void)
{
	for (size_t i = 0; i < sizeof(declined) / sizeof(declined[0]); i++)
		compare(mcc_printf("declined[%zu]", i), declined[i], strlen(declined[i]), DECLINE);
}

/* Texts made to measure: many keys, deep nesting, long keys, NUL bytes. */
static void
built_texts(void)
{
	char *text = mcc_alloc(1 << 17), *p;

	/* enough keys for the duplicate check to use a hash */
	p = text;
	for (int i = 0; i < 100; i++)
		p += sprintf(p, "k%d: {x%d: %d}\n", i, i % 7, i);
	compare("many keys", text, strlen(text), ACCEPT);
	strcpy(p, "k57: again\n");
	compare("a late duplicate", text, strlen(text), DECLINE);

	/* nesting: the fast path stops at 200 levels, yaml.c at 256 */
	for (int depth = 190; depth <= 300; depth += 110) {
		p = text + sprintf(text, "a: ");
		for (int i = 0; i < depth; i++)
			*p++ = '[';
		for (int i = 0; i < depth; i++)
			*p++ = ']';
		strcpy(p, "\n");
		compare(mcc_printf("%d levels", depth), text, strlen(text),
			depth < 200 ? ACCEPT : DECLINE);
	}
	p = text;
	for (int i = 0; i < 150; i++)
		p += sprintf(p, "%*sk:\n", 2 * i, "");
	compare("150 block levels", text, strlen(text), ACCEPT);

	/* keys up to 1000 bytes (YAML allows 1024 characters) */
	for (int len = 999; len <= 1001; len++) {
		memset(text, 'k', (size_t)len - 1);
		strcpy(text + len - 1, ": 1\n");
		compare(mcc_printf("a key of %d bytes", len - 1), text, strlen(text),
			len - 1 <= 1000 ? ACCEPT : DECLINE);
	}

	/* one long line of quoted scalars with escapes: linear, not quadratic */
	p = text + sprintf(text, "a: [");
	for (int i = 0; i < 4000; i++)
		p += sprintf(p, "'x''y', \"\\tz\", ");
	strcpy(p, "end]\n");
	compare("a long line", text, strlen(text), ACCEPT);

	/* a NUL byte in the text */
	compare("NUL", "a: x\0y\n", 7, DECLINE);
	compare("NUL at the end", "a: x\n\0", 6, DECLINE);
}

/* A document like bench/gen-tools.py's. */
static void
bench_document(void)
{
	char *text = mcc_alloc(1 << 20), *p = text;

	p += sprintf(p, "# 100 tools\ngateway:\n  server:\n    bind_address: \"127.0.0.1:8787\"\n"
			"    allowed_origins: []\n    trusted_proxies: [\"127.0.0.1/32\"]\n"
			"mcp:\n  capabilities:\n    tools:\n");
	for (int i = 0; i < 100; i++)
		p += sprintf(p,
			     "      - name: svc%03d.lookup_%06d\n"
			     "        description: Look up records of kind %d; returns `limit` matches.\n"
			     "        input_schema:\n"
			     "          type: object\n"
			     "          properties:\n"
			     "            query:\n"
			     "              type: string\n"
			     "            limit: {type: integer, minimum: 1, maximum: 100}\n"
			     "          required: [query]\n"
			     "        governance:\n"
			     "          allow_if: '\"svc%03d\" in identity.groups'\n"
			     "        backend:\n"
			     "          kind: mock\n"
			     "          url: \"https://x/${arguments.id}?by=${identity.subject_id}\"\n"
			     "          response:\n"
			     "            ok: true\n"
			     "            items: [{id: %d, title: \"record %d\"}]\n",
			     i / 10, i, i, i / 10, i, i);
	compare("bench document", text, (size_t)(p - text), ACCEPT);
}

/* The fast tree itself: shared key texts, layer, name, the empty root. */
static void
tree_details(void)
{
	const char *text = "a: 1\nb:\n  a: 2\n  'a b': [x]\n";
	struct mcc_node *r = mcc_yaml_fast_load("etc/x.yaml", text, strlen(text), 3), *b;

	CHECK(r != NULL);
	if (!r)
		return;
	b = r->pairs[1].value;
	/* equal key texts share their string (node.h) */
	CHECK(r->pairs[0].key->text == b->pairs[0].key->text);
	CHECK(r->layer == 3 && b->pairs[1].value->items[0]->layer == 3);
	CHECK_STR(b->pairs[1].value->items[0]->loc.file, "etc/x.yaml");
	CHECK(b->pairs[1].value->items[0]->loc.line == 4);
	CHECK(b->pairs[1].value->items[0]->loc.col == 11);

	r = mcc_yaml_fast_load(NULL, "# nothing\n", 10, 0);
	CHECK(r && r->kind == MCC_N_MAP && r->nr == 0 && r->loc.line == 0);
	CHECK_STR(r ? r->loc.file : NULL, "<string>");
	r = mcc_yaml_fast_load("t", "", 0, 0);
	CHECK(r && r->kind == MCC_N_MAP && r->nr == 0 && r->loc.line == 0);
}

/* mcc_yaml_load_string() takes the fast path and still reports errors. */
static void
entry_point(void)
{
	struct mcc_diag d;
	struct mcc_node *r;
	char *out = NULL;
	size_t outlen = 0;
	FILE *fp = open_memstream(&out, &outlen);

	mcc_diag_init(&d, fp, MCC_DIAG_TEXT);
	r = mcc_yaml_load_string("t.yaml", "a: [1, 2\n", 9, 0, &d);
	CHECK(r == NULL);
	r = mcc_yaml_load_string("t.yaml", "a: 1\na: 2\n", 10, 0, &d);
	CHECK(r != NULL && r->nr == 1);
	r = mcc_yaml_load_string("t.yaml", "a: {b: [1]}\n", 12, 0, &d);
	CHECK(r != NULL && r->nr == 1);
	fclose(fp);
	CHECK_STR(out, "t.yaml:2:1: error: flow sequence without a closing bracket\n"
		       "t.yaml:1:4: note: to match this '['\n"
		       "t.yaml:2:1: error: duplicate key 'a'\n"
		       "t.yaml:1:1: note: 'a' was first set here\n");
	free(out);
	mcc_diag_release(&d);
}

int
main(void)
{
	glob_t g;

	if (getenv("TOP") && *getenv("TOP"))
		top = getenv("TOP");
	devnull = fopen("/dev/null", "w");

	g = files("templates/*.yaml");
	for (size_t i = 0; i < g.gl_pathc; i++)
		TEST_NAMED(mcc_printf("template %s", strrchr(g.gl_pathv[i], '/') + 1),
			   file_loads_the_same, g.gl_pathv[i], ACCEPT);
	if (!g.gl_pathc)
		printf("not ok - no templates under %s\n", top), test_nfail++;
	globfree(&g);
	g = files("tests/config-fixtures/*.yaml");
	for (size_t i = 0; i < g.gl_pathc; i++)
		TEST_NAMED(mcc_printf("fixture %s", strrchr(g.gl_pathv[i], '/') + 1),
			   file_loads_the_same, g.gl_pathv[i], ACCEPT);
	globfree(&g);
	TEST(error_layers);
	TEST(snippets_accepted);
	TEST(snippets_declined);
	TEST(built_texts);
	TEST(bench_document);
	TEST(tree_details);
	TEST(entry_point);
	TEST(template_variants);
	mcc_arena_free_all();
	return test_done();
}
