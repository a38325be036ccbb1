/*
 * u-yaml.c - the YAML loader (compiler/yaml.c): positions, typing, JSON,
 * and the diagnostics for broken files.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "diag.h"
#include "node.h"
#include "yaml.h"

#include "test.h"

/* A diagnostic sink whose text output the test can read. */
struct sink {
	struct mcc_diag d;
	char *buf;
	size_t len;
	FILE *fp;
};

static void
sink_init(struct sink *s)
{
	s->buf = NULL;
	s->len = 0;
	s->fp = open_memstream(&s->buf, &s->len);
	mcc_diag_init(&s->d, s->fp, MCC_DIAG_TEXT);
}

/* Everything reported so far; the sink is finished. */
static const char *
sink_text(struct sink *s)
{
	fclose(s->fp);
	s->fp = NULL;
	char *r = mcc_strndup(s->buf ? s->buf : "", s->len);
	free(s->buf);
	mcc_diag_release(&s->d);
	return r;
}

static struct mcc_node *
load(struct sink *s, const char *text)
{
	sink_init(s);
	return mcc_yaml_load_string("t.yaml", text, strlen(text), 0, &s->d);
}

/* Load `text` and expect exactly the diagnostics `want` and no tree. */
static void
expect_fail(const char *text, const char *want)
{
	struct sink s;
	struct mcc_node *root = load(&s, text);

	CHECK(root == NULL);
	CHECK_STR(sink_text(&s), want);
}

/* Load `text` and expect no diagnostics. */
static struct mcc_node *
load_ok(const char *text)
{
	struct sink s;
	struct mcc_node *root = load(&s, text);

	CHECK(root != NULL);
	CHECK_STR(sink_text(&s), "");
	return root;
}

static char *
loc_str(const struct mcc_node *n)
{
	if (!n)
		return "(no node)";
	return mcc_printf("%s:%d:%d", n->loc.file ? n->loc.file : "-", n->loc.line, n->loc.col);
}

#define CHECK_LOC(n, want) CHECK_STR(loc_str(n), want)

static const struct mcc_node *
at(const struct mcc_node *root, const char *path)
{
	const struct mcc_node *n = mcc_node_at(root, path);

	if (!n)
		printf("    no node at '%s'\n", path);
	return n;
}

static char *
tmpfile_with(const char *text)
{
	char *path = mcc_printf("%s/u-yaml-XXXXXX", getenv("T") ? getenv("T") : "/tmp");
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		printf("    cannot write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return path;
}

/* ---- Positions ------------------------------------------------------------ */

static void
positions_scalars_and_nested_maps(void)
{
	struct mcc_node *r = load_ok("gateway:\n"
				     "  server:\n"
				     "    port: 8080\n"
				     "    bind_address: 127.0.0.1:8787\n"
				     "  name: x   # comment\n");

	CHECK_LOC(r, "t.yaml:1:1");
	CHECK_LOC(at(r, "gateway"), "t.yaml:2:3");
	CHECK_LOC(at(r, "gateway.server"), "t.yaml:3:5");
	CHECK_LOC(at(r, "gateway.server.port"), "t.yaml:3:11");
	CHECK_LOC(at(r, "gateway.server.bind_address"), "t.yaml:4:19");
	CHECK_LOC(at(r, "gateway.name"), "t.yaml:5:9");
	/* key locations */
	CHECK_LOC(r->pairs[0].key, "t.yaml:1:1");
	CHECK_LOC(mcc_node_get_pair(at(r, "gateway.server"), "bind_address")->key, "t.yaml:4:5");
}

static void
positions_sequences(void)
{
	struct mcc_node *r = load_ok("tools:\n"
				     "  - name: a\n"
				     "    kind: mock\n"
				     "  - plain\n"
				     "  -\n"
				     "  - [x, {y: 1}, []]\n"
				     "flat:\n"
				     "- 1\n"
				     "- 2\n");

	CHECK_LOC(at(r, "tools"), "t.yaml:2:3");
	CHECK_LOC(at(r, "tools[0]"), "t.yaml:2:5");
	CHECK_LOC(at(r, "tools[0].kind"), "t.yaml:3:11");
	CHECK_LOC(at(r, "tools[1]"), "t.yaml:4:5");
	/* an empty item: its `-` */
	CHECK_LOC(at(r, "tools[2]"), "t.yaml:5:3");
	CHECK(mcc_node_is_null(at(r, "tools[2]")));
	CHECK_LOC(at(r, "tools[3]"), "t.yaml:6:5");
	CHECK_LOC(at(r, "tools[3][0]"), "t.yaml:6:6");
	CHECK_LOC(at(r, "tools[3][1]"), "t.yaml:6:9");
	CHECK_LOC(at(r, "tools[3][1].y"), "t.yaml:6:13");
	CHECK_LOC(at(r, "tools[3][2]"), "t.yaml:6:17");
	CHECK_LOC(at(r, "flat"), "t.yaml:8:1");
	CHECK_LOC(at(r, "flat[1]"), "t.yaml:9:3");
}

static void
positions_quoted_and_block_scalars(void)
{
	struct mcc_node *r = load_ok("a: \"double\"\n"
				     "b:   'single'\n"
				     "\"c\": x\n"
				     "d: |\n"
				     "  literal\n"
				     "e: >-  # folded\n"
				     "  folded\n"
				     "f: &anc |\n"
				     "  x\n"
				     "g:\n"
				     "  - |\n"
				     "    y\n");

	CHECK_LOC(at(r, "a"), "t.yaml:1:4");
	CHECK_LOC(at(r, "b"), "t.yaml:2:6");
	CHECK_LOC(r->pairs[2].key, "t.yaml:3:1");
	CHECK_LOC(at(r, "c"), "t.yaml:3:6");
	CHECK_LOC(at(r, "d"), "t.yaml:4:4");
	CHECK_STR(at(r, "d")->text, "literal\n");
	CHECK_LOC(at(r, "e"), "t.yaml:6:4");
	CHECK_STR(at(r, "e")->text, "folded");
	CHECK_LOC(at(r, "f"), "t.yaml:8:9");
	CHECK_LOC(at(r, "g[0]"), "t.yaml:11:5");
	CHECK(at(r, "a")->style == MCC_STYLE_DOUBLE_QUOTED);
	CHECK(at(r, "b")->style == MCC_STYLE_SINGLE_QUOTED);
	CHECK(at(r, "d")->style == MCC_STYLE_LITERAL);
	CHECK(at(r, "e")->style == MCC_STYLE_FOLDED);
}

static void
positions_flow_and_empty_collections(void)
{
	struct mcc_node *r = load_ok("m: {a: 1, b: {}}\n"
				     "s: [ ]\n"
				     "e:\n"
				     "n: ~\n");

	CHECK_LOC(at(r, "m"), "t.yaml:1:4");
	CHECK_LOC(at(r, "m.a"), "t.yaml:1:8");
	CHECK_LOC(at(r, "m.b"), "t.yaml:1:14");
	CHECK(at(r, "m.b")->kind == MCC_N_MAP && at(r, "m.b")->nr == 0);
	CHECK_LOC(at(r, "s"), "t.yaml:2:4");
	CHECK(at(r, "s")->kind == MCC_N_SEQ && at(r, "s")->nr == 0);
	/* an empty value is placed at its key */
	CHECK_LOC(at(r, "e"), "t.yaml:3:1");
	CHECK(at(r, "e")->kind == MCC_N_NULL);
	CHECK_LOC(at(r, "n"), "t.yaml:4:4");
}

static void
positions_count_bytes(void)
{
	/* é is two bytes; a tab is one column; a BOM is none */
	struct mcc_node *r = load_ok("\xef\xbb\xbf"
				     "é: x\n"
				     "b: [1,\t\"é\", y]\n");

	CHECK_LOC(r->pairs[0].key, "t.yaml:1:1");
	CHECK_LOC(at(r, "é"), "t.yaml:1:5");
	CHECK_LOC(at(r, "b[1]"), "t.yaml:2:8");
	CHECK_LOC(at(r, "b[2]"), "t.yaml:2:14");
}

static void
positions_name_and_layer(void)
{
	struct sink s;
	struct mcc_node *r;

	sink_init(&s);
	r = mcc_yaml_load_string("etc/prod.yaml", "a:\n  b: [1]\n", 12, 3, &s.d);
	CHECK_STR(sink_text(&s), "");
	CHECK(r && r->layer == 3);
	CHECK(r && at(r, "a")->layer == 3 && at(r, "a.b[0]")->layer == 3);
	CHECK(r && r->pairs[0].key->layer == 3);
	CHECK_LOC(at(r, "a.b[0]"), "etc/prod.yaml:2:7");
}

/* ---- Typing --------------------------------------------------------------- */

static void
typing_plain_scalars(void)
{
	static const struct {
		const char *text;
		enum mcc_scalar_type type;
	} cases[] = {
		{ "8080", MCC_T_INT }, { "-12", MCC_T_INT }, { "+3", MCC_T_INT },
		{ "0", MCC_T_INT }, { "007", MCC_T_INT }, { "0x1F", MCC_T_INT },
		{ "0xff", MCC_T_INT }, { "0o17", MCC_T_INT }, { "0x", MCC_T_STR },
		{ "0o8", MCC_T_STR }, { "-0x1", MCC_T_STR }, { "1_000", MCC_T_STR },
		{ "0b101", MCC_T_STR }, { "12:30", MCC_T_STR }, { "1.5", MCC_T_FLOAT },
		{ ".5", MCC_T_FLOAT }, { "1.", MCC_T_FLOAT }, { "-1.5e-3", MCC_T_FLOAT },
		{ "1e3", MCC_T_FLOAT }, { "1e", MCC_T_STR }, { ".", MCC_T_STR },
		{ "-.inf", MCC_T_FLOAT }, { ".Inf", MCC_T_FLOAT }, { ".NaN", MCC_T_FLOAT },
		{ "-.nan", MCC_T_STR }, { ".nAn", MCC_T_STR }, { "true", MCC_T_BOOL },
		{ "True", MCC_T_BOOL }, { "TRUE", MCC_T_BOOL }, { "false", MCC_T_BOOL },
		{ "FALSE", MCC_T_BOOL }, { "tRUE", MCC_T_STR }, { "yes", MCC_T_STR },
		{ "off", MCC_T_STR }, { "null", MCC_T_NULL }, { "Null", MCC_T_NULL },
		{ "NULL", MCC_T_NULL }, { "~", MCC_T_NULL }, { "", MCC_T_NULL },
		{ "nULL", MCC_T_STR }, { "127.0.0.1", MCC_T_STR }, { "8080a", MCC_T_STR },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum mcc_scalar_type t = mcc_plain_type(cases[i].text, strlen(cases[i].text));

		if (t != cases[i].type) {
			printf("    '%s': type %d, wanted %d\n", cases[i].text, t, cases[i].type);
			test_failed_now = 1;
		}
	}
}

static void
typing_by_style(void)
{
	struct mcc_node *r = load_ok("i: 8080\n"
				     "q: \"8080\"\n"
				     "s: '8080'\n"
				     "l: |-\n  8080\n"
				     "b: true\n"
				     "qb: \"true\"\n"
				     "n: null\n"
				     "qn: 'null'\n"
				     "e:\n"
				     "t: ~\n"
				     "f: 2.5\n"
				     "str: hello world\n");

	CHECK_STR(mcc_node_kind_name(at(r, "i")), "integer");
	CHECK_STR(mcc_node_kind_name(at(r, "q")), "string");
	CHECK_STR(mcc_node_kind_name(at(r, "s")), "string");
	CHECK_STR(mcc_node_kind_name(at(r, "l")), "string");
	CHECK_STR(mcc_node_kind_name(at(r, "b")), "boolean");
	CHECK_STR(mcc_node_kind_name(at(r, "qb")), "string");
	CHECK_STR(mcc_node_kind_name(at(r, "n")), "null");
	CHECK_STR(mcc_node_kind_name(at(r, "qn")), "string");
	CHECK_STR(mcc_node_kind_name(at(r, "e")), "null");
	CHECK_STR(mcc_node_kind_name(at(r, "t")), "null");
	CHECK_STR(mcc_node_kind_name(at(r, "f")), "float");
	CHECK_STR(mcc_node_kind_name(at(r, "str")), "string");
	CHECK_STR(mcc_node_kind_name(r), "mapping");
	CHECK(at(r, "n")->kind == MCC_N_NULL && mcc_node_is_null(at(r, "n")));
	CHECK_STR(at(r, "n")->text, "null");
	CHECK(at(r, "qn")->kind == MCC_N_SCALAR && !mcc_node_is_null(at(r, "qn")));
	CHECK(mcc_node_is_null(NULL));
}

static void
typing_tags(void)
{
	struct mcc_node *r = load_ok("a: !!str 8080\n"
				     "b: !!int \"42\"\n"
				     "c: !!float 1\n"
				     "d: ! 8080\n"
				     "e: !!null ''\n"
				     "f: !!bool \"false\"\n"
				     "m: !!map {x: 1}\n"
				     "s: !!seq [1]\n");
	int64_t i;

	CHECK_STR(mcc_node_kind_name(at(r, "a")), "string");
	CHECK(mcc_scalar_as_int(at(r, "b"), &i) == MCC_SCALAR_OK && i == 42);
	CHECK_STR(mcc_node_kind_name(at(r, "c")), "float");
	CHECK_STR(mcc_node_kind_name(at(r, "d")), "string");
	CHECK(at(r, "e")->kind == MCC_N_NULL);
	CHECK_STR(mcc_node_kind_name(at(r, "f")), "boolean");
}

static void
typing_bad_tags(void)
{
	struct sink s;
	struct mcc_node *r = load(&s, "password: !!int hunter2\n"
				      "x: !foo 1\n"
				      "m: !!map [1]\n"
				      "y: !!binary aGk=\n");

	/* the tree survives; the value is not quoted (it may be a secret) */
	CHECK(r != NULL);
	CHECK_STR(sink_text(&s),
		  "t.yaml:1:17: error: value is not a valid !!int\n"
		  "t.yaml:2:4: error: tag '!foo' is not supported\n"
		  "t.yaml:3:4: error: tag '!!map' on a sequence is not supported\n"
		  "t.yaml:4:4: error: tag '!!binary' is not supported\n");
}

static void
scalar_as_int(void)
{
	struct mcc_node *r = load_ok("max: 9223372036854775807\n"
				     "over: 9223372036854775808\n"
				     "min: -9223372036854775808\n"
				     "under: -9223372036854775809\n"
				     "hex: 0x7FFFFFFFFFFFFFFF\n"
				     "hexbig: 0xFFFFFFFFFFFFFFFF\n"
				     "hexover: 0x10000000000000000\n"
				     "oct: 0o777\n"
				     "neg: -1\n"
				     "negzero: -0\n"
				     "plus: +17\n"
				     "quoted: \"12\"\n"
				     "float: 1.0\n");
	int64_t i = 0;
	uint64_t u = 0;

	CHECK(mcc_scalar_as_int(at(r, "max"), &i) == MCC_SCALAR_OK && i == INT64_MAX);
	CHECK(mcc_scalar_as_int(at(r, "over"), &i) == MCC_SCALAR_RANGE);
	CHECK(mcc_scalar_as_uint(at(r, "over"), &u) == MCC_SCALAR_OK &&
	      u == (uint64_t)INT64_MAX + 1);
	CHECK(mcc_scalar_as_int(at(r, "min"), &i) == MCC_SCALAR_OK && i == INT64_MIN);
	CHECK(mcc_scalar_as_int(at(r, "under"), &i) == MCC_SCALAR_RANGE);
	CHECK(mcc_scalar_as_int(at(r, "hex"), &i) == MCC_SCALAR_OK && i == INT64_MAX);
	CHECK(mcc_scalar_as_int(at(r, "hexbig"), &i) == MCC_SCALAR_RANGE);
	CHECK(mcc_scalar_as_uint(at(r, "hexbig"), &u) == MCC_SCALAR_OK && u == UINT64_MAX);
	CHECK(mcc_scalar_as_uint(at(r, "hexover"), &u) == MCC_SCALAR_RANGE);
	CHECK(mcc_scalar_as_int(at(r, "oct"), &i) == MCC_SCALAR_OK && i == 511);
	CHECK(mcc_scalar_as_int(at(r, "neg"), &i) == MCC_SCALAR_OK && i == -1);
	CHECK(mcc_scalar_as_uint(at(r, "neg"), &u) == MCC_SCALAR_RANGE);
	CHECK(mcc_scalar_as_uint(at(r, "negzero"), &u) == MCC_SCALAR_OK && u == 0);
	CHECK(mcc_scalar_as_int(at(r, "plus"), &i) == MCC_SCALAR_OK && i == 17);
	CHECK(mcc_scalar_as_int(at(r, "quoted"), &i) == MCC_SCALAR_WRONG_TYPE);
	CHECK(mcc_scalar_as_int(at(r, "float"), &i) == MCC_SCALAR_WRONG_TYPE);
	CHECK(mcc_scalar_as_int(r, &i) == MCC_SCALAR_WRONG_TYPE);
	CHECK(mcc_scalar_as_int(NULL, &i) == MCC_SCALAR_WRONG_TYPE);
}

static void
scalar_as_bool_and_double(void)
{
	struct mcc_node *r = load_ok("t: True\nf: FALSE\ns: yes\n"
				     "d: -2.5e2\ni: 0o17\ninf: -.inf\nnan: .NaN\nhuge: 1e400\n");
	int b = -1;
	double v = 0;

	CHECK(mcc_scalar_as_bool(at(r, "t"), &b) == MCC_SCALAR_OK && b == 1);
	CHECK(mcc_scalar_as_bool(at(r, "f"), &b) == MCC_SCALAR_OK && b == 0);
	CHECK(mcc_scalar_as_bool(at(r, "s"), &b) == MCC_SCALAR_WRONG_TYPE);
	CHECK(mcc_scalar_as_double(at(r, "d"), &v) == MCC_SCALAR_OK && v == -250.0);
	CHECK(mcc_scalar_as_double(at(r, "i"), &v) == MCC_SCALAR_OK && v == 15.0);
	CHECK(mcc_scalar_as_double(at(r, "inf"), &v) == MCC_SCALAR_OK && isinf(v) && v < 0);
	CHECK(mcc_scalar_as_double(at(r, "nan"), &v) == MCC_SCALAR_OK && isnan(v));
	CHECK(mcc_scalar_as_double(at(r, "huge"), &v) == MCC_SCALAR_RANGE);
	CHECK(mcc_scalar_as_double(at(r, "s"), &v) == MCC_SCALAR_WRONG_TYPE);
}

/* ---- JSON ----------------------------------------------------------------- */

static void
json_typing_and_order(void)
{
	struct mcc_node *r = load_ok("z: 1\n"
				     "a: \"1\"\n"
				     "f: 0.1\n"
				     "g: 2.50\n"
				     "b: [true, false, null, ~, '']\n"
				     "h: 0x10\n"
				     "inf: .inf\n"
				     "u: \"é \\\" \\n\"\n"
				     "m: {y: 1, x: {}}\n"
				     "yes: yes\n");

	CHECK_STR(mcc_node_to_json(r, 0),
		  "{\"z\":1,\"a\":\"1\",\"f\":0.1,\"g\":2.5,"
		  "\"b\":[true,false,null,null,\"\"],\"h\":16,\"inf\":\".inf\","
		  "\"u\":\"é \\\" \\n\",\"m\":{\"y\":1,\"x\":{}},\"yes\":\"yes\"}");
	CHECK_STR(mcc_node_to_json(at(r, "m"), 1), "{\"x\":{},\"y\":1}");
	CHECK_STR(mcc_node_to_json(at(r, "b"), 0), "[true,false,null,null,\"\"]");
	CHECK_STR(mcc_node_to_json(at(r, "a"), 0), "\"1\"");
	CHECK(mcc_node_to_json(NULL, 0) == NULL);
}

static void
json_float_precision(void)
{
	struct mcc_node *r = load_ok("a: [0.1, 1.0, 1e300, -0.5, 0.30000000000000004]\n"
				     "big: 18446744073709551616\n");

	/*
	 * Floats are written with the fewest digits that read every float of
	 * the document back exactly: 0.1 alone is 0.1, next to a float that
	 * needs 17 digits it is 0.10000000000000001 (jansson has one
	 * precision per dump).
	 */
	CHECK_STR(mcc_node_to_json(at(r, "a[0]"), 0), "0.1");
	CHECK_STR(mcc_node_to_json(at(r, "a[1]"), 0), "1.0");
	CHECK_STR(mcc_node_to_json(at(r, "a[2]"), 0), "1e300");
	CHECK_STR(mcc_node_to_json(at(r, "a"), 0),
		  "[0.10000000000000001,1.0,1.0000000000000001e300,-0.5,0.30000000000000004]");
	/* an integer beyond 64 bits becomes a float */
	CHECK_STR(mcc_node_to_json(at(r, "big"), 0), "1.8446744073709552e19");
}

/* ---- Broken files --------------------------------------------------------- */

static void
duplicate_key(void)
{
	struct sink s;
	struct mcc_node *r = load(&s, "server:\n"
				      "  port: 1\n"
				      "  host: h\n"
				      "  port: 2\n"
				      "server2: {a: 1, a: 2}\n"
				      "server: x\n");

	CHECK_STR(sink_text(&s),
		  "t.yaml:4:3: error: duplicate key 'port'\n"
		  "t.yaml:2:3: note: 'port' was first set here\n"
		  "t.yaml:5:17: error: duplicate key 'a'\n"
		  "t.yaml:5:11: note: 'a' was first set here\n"
		  "t.yaml:6:1: error: duplicate key 'server'\n"
		  "t.yaml:1:1: note: 'server' was first set here\n");
	/* the tree is still there, with the first value of each key */
	CHECK(r != NULL);
	CHECK(r && r->nr == 2);
	CHECK_STR(at(r, "server.port")->text, "1");
	CHECK(at(r, "server")->nr == 2);
	CHECK_STR(at(r, "server2.a")->text, "1");
}

static void
duplicate_key_in_large_mapping(void)
{
	char text[4096] = "";
	struct sink s;
	struct mcc_node *r;

	for (int i = 0; i < 40; i++)
		sprintf(text + strlen(text), "k%d: %d\n", i, i);
	strcat(text, "k7: again\nk39: again\n");
	r = load(&s, text);
	CHECK_STR(sink_text(&s),
		  "t.yaml:41:1: error: duplicate key 'k7'\n"
		  "t.yaml:8:1: note: 'k7' was first set here\n"
		  "t.yaml:42:1: error: duplicate key 'k39'\n"
		  "t.yaml:40:1: note: 'k39' was first set here\n");
	CHECK(r && r->nr == 40);
}

static void
syntax_unterminated_quote(void)
{
	expect_fail("a: \"unterminated\nb: 2\n",
		    "t.yaml:1:4: error: double-quoted scalar without closing quote\n");
	expect_fail("a: 1\nb: 'open",
		    "t.yaml:2:4: error: single-quoted scalar without closing quote\n");
	expect_fail("é: \"abc",
		    "t.yaml:1:5: error: double-quoted scalar without closing quote\n");
}

static void
syntax_bad_indentation(void)
{
	expect_fail("a:\n  b: 1\n c: 2\n",
		    "t.yaml:3:2: error: invalid indentation in mapping\n");
	expect_fail("a:\n  - x\n - y\n",
		    "t.yaml:3:2: error: wrong indentation in sequence while in mapping\n");
	expect_fail("a: b: c\n",
		    "t.yaml:1:5: error: invalid nested block mapping on the same line\n");
}

static void
syntax_missing_closing_bracket(void)
{
	expect_fail("a: [1, 2\nb: 3\n",
		    "t.yaml:3:1: error: flow sequence without a closing bracket\n"
		    "t.yaml:1:4: note: to match this '['\n");
	expect_fail("a: {x: 1",
		    "t.yaml:1:9: error: flow mapping without a closing brace\n"
		    "t.yaml:1:4: note: to match this '{'\n");
	expect_fail("a: {x: 1, y: [1, 2}\n",
		    "t.yaml:1:19: error: mismatched flow mapping end\n"
		    "t.yaml:1:14: note: to match this '['\n");
}

static void
syntax_tab_indentation(void)
{
	expect_fail("a:\n\tb: 1\n",
		    "t.yaml:2:1: error: tab character may not be used as indentation\n");
}

static void
syntax_other(void)
{
	expect_fail("a: \"x\\qy\"\n",
		    "t.yaml:1:6: error: invalid escape 'q' in double-quoted string\n");
	expect_fail("a: @x\n", "t.yaml:1:4: error: plain scalar cannot start with '@'\n");
	expect_fail("a: b\n- c\n", "t.yaml:2:1: error: did not find expected key\n");
}

/* Found by fuzzing: libfyaml corrupts its parser here (see destroy_parser()). */
static void
syntax_error_that_breaks_libfyaml(void)
{
	expect_fail("? o:\t?", "t.yaml:1:5: error: cannot use tab for indentation of block entry\n");
	expect_fail("? o:\t?", "t.yaml:1:5: error: cannot use tab for indentation of block entry\n");
	load_ok("a: 1\n");
}

static void
bad_bytes(void)
{
	expect_fail("a: \xff\n", "t.yaml:1:4: error: invalid UTF-8 (byte 0xff)\n");
	expect_fail("a: 1\nb: \xc3\x28\n", "t.yaml:2:4: error: invalid UTF-8 (byte 0xc3)\n");
	expect_fail("a: b\x01\n", "t.yaml:1:5: error: control character 0x01 is not allowed\n");

	struct sink s;

	sink_init(&s);
	CHECK(mcc_yaml_load_string("t.yaml", "a: x\0y\n", 7, 0, &s.d) == NULL);
	CHECK_STR(sink_text(&s), "t.yaml:1:5: error: control character 0x00 is not allowed\n");

	/* a NUL written as an escape reaches the scalar: it cannot be a string */
	sink_init(&s);
	struct mcc_node *r = mcc_yaml_load_string("t.yaml", "a: \"x\\0y\"\n", 10, 0, &s.d);

	CHECK_STR(sink_text(&s), "t.yaml:1:4: error: value contains a NUL byte\n");
	/* the value is cut there, so text and len agree */
	CHECK(r && at(r, "a")->len == 1);
	CHECK_STR(r ? at(r, "a")->text : NULL, "x");
}

static void
missing_file(void)
{
	struct sink s;

	sink_init(&s);
	CHECK(mcc_yaml_load_file("no/such/file.yaml", 0, &s.d) == NULL);
	CHECK_STR(sink_text(&s),
		  "mcpgc: error: cannot open 'no/such/file.yaml': No such file or directory\n");
	sink_init(&s);
	CHECK(mcc_yaml_load_file(".", 0, &s.d) == NULL);
	CHECK_STR(sink_text(&s), "mcpgc: error: cannot read '.': Is a directory\n");
}

static void
file_loads(void)
{
	char *path = tmpfile_with("a:\n  b: 2\n");
	struct sink s;
	struct mcc_node *r;

	sink_init(&s);
	r = mcc_yaml_load_file(path, 1, &s.d);
	CHECK_STR(sink_text(&s), "");
	CHECK_LOC(at(r, "a.b"), mcc_printf("%s:2:6", path));
	CHECK(r && r->layer == 1);
	unlink(path);
}

static void
empty_layers(void)
{
	static const char *const texts[] = { "", "# only a comment\n", "---\n", "~\n",
					     "\n\n", "--- # c\n...\n" };

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct mcc_node *r = load_ok(texts[i]);

		CHECK(r && r->kind == MCC_N_MAP && r->nr == 0);
		CHECK_LOC(r, "t.yaml:0:0");
	}

	char *path = tmpfile_with("");
	struct sink s;
	struct mcc_node *r;

	sink_init(&s);
	r = mcc_yaml_load_file(path, 0, &s.d);
	CHECK_STR(sink_text(&s), "");
	CHECK(r && r->kind == MCC_N_MAP && r->nr == 0);
	unlink(path);
}

static void
top_level_not_a_mapping(void)
{
	expect_fail("- a\n- b\n", "t.yaml:1:1: error: the top level must be a mapping, not a sequence\n");
	expect_fail("just text\n", "t.yaml:1:1: error: the top level must be a mapping, not a string\n");
	expect_fail("  42\n", "t.yaml:1:3: error: the top level must be a mapping, not an integer\n");
}

static void
multiple_documents(void)
{
	expect_fail("a: 1\n---\nb: 2\n",
		    "t.yaml:2:1: error: a config file must hold one YAML document, not several\n");
	expect_fail("---\na: 1\n...\n---\nb: 1\n",
		    "t.yaml:4:1: error: a config file must hold one YAML document, not several\n");
	/* one explicit document is fine */
	struct mcc_node *r = load_ok("%YAML 1.2\n---\na: 1\n...\n");

	CHECK(r && r->nr == 1);
}

static void
complex_key(void)
{
	struct sink s;
	struct mcc_node *r = load(&s, "? [a, b]\n: 1\nc: 2\n");

	CHECK_STR(sink_text(&s),
		  "t.yaml:1:3: error: a mapping key must be a scalar, not a sequence\n");
	CHECK(r && r->nr == 1);
	CHECK_STR(at(r, "c")->text, "2");
}

static void
every_error_is_kept(void)
{
	struct sink s;

	load(&s, "a: 1\na: 2\nb: *nope\nc: !!int x\nd:\n  e: 1\n  e: 2\n");
	CHECK_STR(sink_text(&s),
		  "t.yaml:2:1: error: duplicate key 'a'\n"
		  "t.yaml:1:1: note: 'a' was first set here\n"
		  "t.yaml:3:4: error: undefined anchor 'nope'\n"
		  "t.yaml:4:10: error: value is not a valid !!int\n"
		  "t.yaml:7:3: error: duplicate key 'e'\n"
		  "t.yaml:6:3: note: 'e' was first set here\n");
}

static void
nesting_limit(void)
{
	char *text = mcc_alloc(3 * 300 + 16);

	strcpy(text, "a: ");
	for (int i = 0; i < 300; i++)
		strcat(text, "[");
	for (int i = 0; i < 300; i++)
		strcat(text, "]");
	strcat(text, "\n");
	expect_fail(text, "t.yaml:1:259: error: nesting is deeper than 256 levels\n");
}

/* ---- Anchors, aliases, merge keys ------------------------------------------ */

static void
anchors_and_aliases(void)
{
	struct mcc_node *r = load_ok("defs:\n"
				     "  port: &p 8080\n"
				     "  backend: &b {kind: mock, x: [1, 2]}\n"
				     "use:\n"
				     "  port: *p\n"
				     "  backend: *b\n"
				     "again: &p 9\n"
				     "later: *p\n");
	int64_t i;

	CHECK(mcc_scalar_as_int(at(r, "use.port"), &i) == MCC_SCALAR_OK && i == 8080);
	/* an alias is placed at its `*`; what it shares keeps its own place */
	CHECK_LOC(at(r, "use.port"), "t.yaml:5:9");
	CHECK_LOC(at(r, "use.backend"), "t.yaml:6:12");
	CHECK_LOC(at(r, "use.backend.x[1]"), "t.yaml:3:35");
	CHECK_STR(mcc_node_to_json(at(r, "use.backend"), 0), "{\"kind\":\"mock\",\"x\":[1,2]}");
	/* a redefined anchor: later aliases mean the new one */
	CHECK(mcc_scalar_as_int(at(r, "later"), &i) == MCC_SCALAR_OK && i == 9);
}

static void
alias_errors(void)
{
	struct sink s;
	struct mcc_node *r = load(&s, "a: *nope\nb: &r [1, *r]\n");

	CHECK_STR(sink_text(&s),
		  "t.yaml:1:4: error: undefined anchor 'nope'\n"
		  "t.yaml:2:11: error: alias '*r' is inside the node it names\n");
	CHECK(r && at(r, "a") && at(r, "a")->kind == MCC_N_NULL);
}

static void
alias_bomb(void)
{
	const char *text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
			   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
			   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
			   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";

	expect_fail(text, "t.yaml: error: aliases expand to more than 1048576 nodes\n");
}

static void
merge_keys(void)
{
	struct mcc_node *r = load_ok("base: &base\n"
				     "  port: 1\n"
				     "  host: h\n"
				     "extra: &extra\n"
				     "  port: 3\n"
				     "  tls: true\n"
				     "one:\n"
				     "  port: 2\n"
				     "  <<: *base\n"
				     "  name: one\n"
				     "two:\n"
				     "  <<: [*extra, *base]\n");

	CHECK_STR(mcc_node_to_json(at(r, "one"), 0),
		  "{\"port\":2,\"host\":\"h\",\"name\":\"one\"}");
	/* a merged value keeps the place where it is written */
	CHECK_LOC(at(r, "one.host"), "t.yaml:3:9");
	/* in a list of merges, the earlier mapping wins */
	CHECK_STR(mcc_node_to_json(at(r, "two"), 0),
		  "{\"port\":3,\"tls\":true,\"host\":\"h\"}");
	CHECK(mcc_node_get(at(r, "one"), "<<") == NULL);
}

static void
merge_key_errors(void)
{
	struct sink s;
	struct mcc_node *r = load(&s, "a:\n  <<: 5\n  b: 1\nc:\n  <<: [{x: 1}, 2]\n"
				      "d:\n  <<: {x: 1}\n  <<: {y: 1}\n");

	CHECK_STR(sink_text(&s),
		  "t.yaml:2:7: error: '<<' merges a mapping or a sequence of mappings, not an integer\n"
		  "t.yaml:5:16: error: '<<' merges a mapping or a sequence of mappings, not an integer\n"
		  "t.yaml:8:3: error: duplicate key '<<'\n"
		  "t.yaml:7:3: note: '<<' was first set here\n");
	CHECK(r != NULL);
	CHECK_STR(mcc_node_to_json(at(r, "a"), 0), "{\"b\":1}");
	CHECK_STR(mcc_node_to_json(at(r, "c"), 0), "{\"x\":1}");
	/* a quoted "<<" is an ordinary key */
	r = load_ok("a: {\"<<\": 1}\n");
	CHECK(mcc_node_get(at(r, "a"), "<<") != NULL);
}

static void
diag_cap_stops_loading(void)
{
	char text[8192] = "";
	struct sink s;

	for (int i = 0; i < 30; i++)
		sprintf(text + strlen(text), "k: %d\n", i);
	sink_init(&s);
	CHECK(mcc_yaml_load_string("t.yaml", text, strlen(text), 0, &s.d) == NULL);
	CHECK(s.d.stopped);
	CHECK(s.d.nerrors == MCC_DIAG_MAX_ERRORS);
	sink_text(&s);
}

int
main(void)
{
	TEST(positions_scalars_and_nested_maps);
	TEST(positions_sequences);
	TEST(positions_quoted_and_block_scalars);
	TEST(positions_flow_and_empty_collections);
	TEST(positions_count_bytes);
	TEST(positions_name_and_layer);
	TEST(typing_plain_scalars);
	TEST(typing_by_style);
	TEST(typing_tags);
	TEST(typing_bad_tags);
	TEST(scalar_as_int);
	TEST(scalar_as_bool_and_double);
	TEST(json_typing_and_order);
	TEST(json_float_precision);
	TEST(duplicate_key);
	TEST(duplicate_key_in_large_mapping);
	TEST(syntax_unterminated_quote);
	TEST(syntax_bad_indentation);
	TEST(syntax_missing_closing_bracket);
	TEST(syntax_tab_indentation);
	TEST(syntax_other);
	TEST(syntax_error_that_breaks_libfyaml);
	TEST(bad_bytes);
	TEST(missing_file);
	TEST(file_loads);
	TEST(empty_layers);
	TEST(top_level_not_a_mapping);
	TEST(multiple_documents);
	TEST(complex_key);
	TEST(every_error_is_kept);
	TEST(nesting_limit);
	TEST(anchors_and_aliases);
	TEST(alias_errors);
	TEST(alias_bomb);
	TEST(merge_keys);
	TEST(merge_key_errors);
	TEST(diag_cap_stops_loading);
	mcc_arena_free_all();
	return test_done();
}
