/*
 * u-dump.c - `mcpgc dump` and `mcpgc explain` against a small hand-written
 * schema.  dump: YAML and JSON output, build -> dump -> build gives the
 * same bytes, escapes, "$${", json fields, unions beside and under
 * nest_key, optional values, and redaction of sensitive literals.
 * explain: provenance across two layers, null resets, defaults of an
 * enclosing key, union variant keys, redaction, and the key errors.
 *
 * The schema covers every slot kind the walk handles; its layout follows
 * schema/README.md (set mask first, fields placed by alignment, sizes
 * rounded to 8), written out by hand like tests/images/sample_schema.h.
 *
 *   root (144, set mask)     0 mask   8 srv: srv   64 cluster: clus?
 *     72 backs: [back]  80 labels: {string}  88 limits: {uint}
 *     96 extra: json? (bit 0)  100 allow: expr? (bit 1)  104 tls: tlss?
 *     108 secret_json: json sensitive  112 empty: emptys
 *     128 matrix: [[string]]  136 dollar: string
 *   srv (56, set mask)       8 port: uint = 8080  16 limit: uint? (bit 0)
 *     24 delta: int = -3  32 addr: string = "127.0.0.1:1"
 *     36 pass: string? sensitive (bit 1)  40 nick: string? (bit 2)
 *     44 tags: [string] = ["a", "b"]  52 mode: mode = fail_closed
 *     53 on: bool = true
 *   mockb (8)   0 resp: json = null
 *   httpb (16)  0 url: template(env, arguments) required
 *               4 headers: {template(env, arguments, identity)} sensitive
 *   redisc (16, set mask)  8 url: string required
 *               12 password: string? sensitive (bit 0)
 *   tlss (8)    0 cert: string required
 *   emptys (16, set mask)  8 note: string? (bit 0)
 *   back: union on kind in config { mock: mockb; http: httpb; none }
 *   clus: union on kind { redis: redisc; single }
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "diag.h"
#include "dump.h"
#include "explain.h"
#include "image.h"
#include "image_write.h"
#include "merge.h"
#include "test.h"
#include "validate.h"
#include "yaml.h"

enum {
	T_NONE, T_BOOL, T_INT, T_UINT, T_STRING, T_JSON, T_TMPL, T_EXPR, T_MODE,
	T_STRING_OPT, T_UINT_OPT, T_STRING_LIST, T_SRV, T_MOCKB, T_TMPL_MAP, T_HTTPB,
	T_BACK, T_REDISC, T_CLUS, T_CLUS_OPT, T_TLSS, T_TLSS_OPT, T_EMPTYS,
	T_STRLIST_LIST, T_BACK_LIST, T_STRING_MAP, T_UINT_MAP, T_JSON_OPT, T_EXPR_OPT,
	T_ROOT, T__COUNT
};

/* First field of each struct in ds_fields[]. */
enum { F_SRV = 0, F_MOCKB = 9, F_HTTPB = 10, F_REDISC = 12, F_TLSS = 14, F_EMPTYS = 15,
       F_ROOT = 16 };

#define TY(n, k, a, sz) .name = n, .kind = k, .align = a, .size = sz

static const struct mcpg_type ds_types[T__COUNT] = {
	[T_NONE] = { .name = "" },
	[T_BOOL] = { TY("bool", MCPG_K_BOOL, 1, 1) },
	[T_INT] = { TY("int", MCPG_K_INT, 8, 8) },
	[T_UINT] = { TY("uint", MCPG_K_UINT, 8, 8) },
	[T_STRING] = { TY("string", MCPG_K_STRING, 4, 4) },
	[T_JSON] = { TY("json", MCPG_K_JSON, 4, 4) },
	[T_TMPL] = { TY("template", MCPG_K_TEMPLATE, 4, 4) },
	[T_EXPR] = { TY("expr", MCPG_K_EXPR, 4, 4) },
	[T_MODE] = { TY("mode", MCPG_K_ENUM, 1, 1), .first = 0, .count = 2 },
	[T_STRING_OPT] = { TY("string?", MCPG_K_OPTIONAL, 4, 4), .elem = T_STRING },
	[T_UINT_OPT] = { TY("uint?", MCPG_K_OPTIONAL, 8, 8), .elem = T_UINT },
	[T_STRING_LIST] = { TY("[string]", MCPG_K_LIST, 4, 8), .elem = T_STRING },
	[T_SRV] = { TY("srv", MCPG_K_STRUCT, 8, 56), .first = F_SRV, .count = 9,
		    .set_words = 1 },
	[T_MOCKB] = { TY("mockb", MCPG_K_STRUCT, 8, 8), .first = F_MOCKB, .count = 1 },
	[T_TMPL_MAP] = { TY("{template}", MCPG_K_MAP, 4, 8), .elem = T_TMPL },
	[T_HTTPB] = { TY("httpb", MCPG_K_STRUCT, 8, 16), .first = F_HTTPB, .count = 2 },
	[T_BACK] = { TY("back", MCPG_K_UNION, 4, 8), .first = 0, .count = 3 },
	[T_REDISC] = { TY("redisc", MCPG_K_STRUCT, 8, 16), .first = F_REDISC, .count = 2,
		       .set_words = 1 },
	[T_CLUS] = { TY("clus", MCPG_K_UNION, 4, 8), .first = 3, .count = 2 },
	[T_CLUS_OPT] = { TY("clus?", MCPG_K_OPTIONAL, 4, 8), .elem = T_CLUS },
	[T_TLSS] = { TY("tlss", MCPG_K_STRUCT, 8, 8), .first = F_TLSS, .count = 1 },
	[T_TLSS_OPT] = { TY("tlss?", MCPG_K_OPTIONAL, 4, 4), .elem = T_TLSS },
	[T_EMPTYS] = { TY("emptys", MCPG_K_STRUCT, 8, 16), .first = F_EMPTYS, .count = 1,
		       .set_words = 1 },
	[T_STRLIST_LIST] = { TY("[[string]]", MCPG_K_LIST, 4, 8), .elem = T_STRING_LIST },
	[T_BACK_LIST] = { TY("[back]", MCPG_K_LIST, 4, 8), .elem = T_BACK },
	[T_STRING_MAP] = { TY("{string}", MCPG_K_MAP, 4, 8), .elem = T_STRING },
	[T_UINT_MAP] = { TY("{uint}", MCPG_K_MAP, 4, 8), .elem = T_UINT },
	[T_JSON_OPT] = { TY("json?", MCPG_K_OPTIONAL, 4, 4), .elem = T_JSON },
	[T_EXPR_OPT] = { TY("expr?", MCPG_K_OPTIONAL, 4, 4), .elem = T_EXPR },
	[T_ROOT] = { TY("root", MCPG_K_STRUCT, 8, 144), .first = F_ROOT, .count = 12,
		     .set_words = 1 },
};

#undef TY

#define FD(n, t, off) .name = n, .type = t, .offset = off, .set_bit = -1
#define DEFAULT(text) .flags = MCPG_F_HAS_DEFAULT, .dflt = text
#define ENV_ARGS (MCPG_ROOT_ENV | MCPG_ROOT_ARGUMENTS)

static const struct mcpg_field ds_fields[] = {
	/* srv, in schema order (not offset order) */
	{ FD("addr", T_STRING, 32), DEFAULT("\"127.0.0.1:1\"") },
	{ FD("port", T_UINT, 8), DEFAULT("8080") },
	{ FD("delta", T_INT, 24), DEFAULT("-3") },
	{ FD("on", T_BOOL, 53), DEFAULT("true") },
	{ FD("mode", T_MODE, 52), DEFAULT("\"fail_closed\"") },
	{ FD("tags", T_STRING_LIST, 44), DEFAULT("[\"a\",\"b\"]") },
	{ .name = "pass", .type = T_STRING_OPT, .offset = 36, .set_bit = 1,
	  .flags = MCPG_F_SENSITIVE },
	{ .name = "nick", .type = T_STRING_OPT, .offset = 40, .set_bit = 2 },
	{ .name = "limit", .type = T_UINT_OPT, .offset = 16, .set_bit = 0 },
	/* mockb */
	{ FD("resp", T_JSON, 0), DEFAULT("null") },
	/* httpb */
	{ FD("url", T_TMPL, 0), .flags = MCPG_F_REQUIRED, .roots = ENV_ARGS },
	{ FD("headers", T_TMPL_MAP, 4), .flags = MCPG_F_SENSITIVE,
	  .roots = ENV_ARGS | MCPG_ROOT_IDENTITY },
	/* redisc */
	{ FD("url", T_STRING, 8), .flags = MCPG_F_REQUIRED },
	{ .name = "password", .type = T_STRING_OPT, .offset = 12, .set_bit = 0,
	  .flags = MCPG_F_SENSITIVE },
	/* tlss */
	{ FD("cert", T_STRING, 0), .flags = MCPG_F_REQUIRED },
	/* emptys */
	{ .name = "note", .type = T_STRING_OPT, .offset = 8, .set_bit = 0 },
	/* root */
	{ FD("srv", T_SRV, 8) },
	{ FD("cluster", T_CLUS_OPT, 64) },
	{ FD("backs", T_BACK_LIST, 72) },
	{ FD("labels", T_STRING_MAP, 80) },
	{ FD("limits", T_UINT_MAP, 88) },
	{ .name = "extra", .type = T_JSON_OPT, .offset = 96, .set_bit = 0 },
	{ .name = "allow", .type = T_EXPR_OPT, .offset = 100, .set_bit = 1,
	  .roots = MCPG_ROOT_IDENTITY },
	{ FD("tls", T_TLSS_OPT, 104) },
	{ FD("secret_json", T_JSON, 108), .flags = MCPG_F_SENSITIVE },
	{ FD("empty", T_EMPTYS, 112) },
	{ FD("matrix", T_STRLIST_LIST, 128) },
	{ FD("dollar", T_STRING, 136) },
};

#undef FD
#undef DEFAULT
#undef ENV_ARGS

static const struct mcpg_enum_value ds_values[] = {
	{ "fail_closed", "fail_closed", NULL },
	{ "fail_open", "fail_open", NULL },
};

static const struct mcpg_variant ds_variants[] = {
	{ "mock", "mock", T_MOCKB, NULL },
	{ "http", "http", T_HTTPB, NULL },
	{ "none", "none", 0, NULL },
	{ "redis", "redis", T_REDISC, NULL },
	{ "single", "single", 0, NULL },
};

static const struct mcpg_union_info ds_unions[] = {
	{ T_BACK, "kind", "config" },
	{ T_CLUS, "kind", NULL },
};

#define DS_HASH 0x00d0d0d0d0d0d0d0ull

static const struct mcpg_schema ds_schema = {
	.types = ds_types,
	.ntypes = T__COUNT,
	.fields = ds_fields,
	.nfields = sizeof(ds_fields) / sizeof(ds_fields[0]),
	.values = ds_values,
	.nvalues = 2,
	.variants = ds_variants,
	.nvariants = 5,
	.unions = ds_unions,
	.nunions = 2,
	.root = T_ROOT,
	.hash = DS_HASH,
	.hash_hex = "00d0d0d0d0d0d0d0",
};

/* ---- Helpers ------------------------------------------------------------- */

struct built {
	unsigned char *buf;
	size_t len;
};

/* YAML text -> image bytes (free .buf); .buf NULL, errors printed, on failure. */
static struct built
build(const char *yaml)
{
	struct built b = { NULL, 0 };
	struct mcc_diag d;
	struct mcc_image *img = mcc_image_new();
	struct mcc_node *root;

	mcc_diag_init(&d, stdout, MCC_DIAG_TEXT);
	root = mcc_yaml_load_string("t.yaml", yaml, strlen(yaml), 0, &d);
	if (root && !d.nerrors && !mcc_validate(&ds_schema, root, img, MCC_V_NO_RULES, &d) &&
	    mcc_image_serialize(img, DS_HASH, &b.buf, &b.len)) {
		printf("    serialize: %s\n", mcc_image_error(img));
		b.buf = NULL;
	}
	mcc_image_free(img);
	mcc_diag_release(&d);
	return b;
}

/* The dump of image bytes (malloc'd), or NULL when they do not verify. */
static char *
dump(const struct built *b, int json)
{
	struct mcpg_image img;
	struct mcpg_verify_error err;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (!b->buf || mcpg_image_verify(&img, b->buf, b->len, &ds_schema, &err)) {
		printf("    verify: %s\n", b->buf ? err.msg : "no image");
		return NULL;
	}
	f = open_memstream(&out, &len);
	CHECK(mcc_dump(&img, f, json) == 0);
	fclose(f);
	return out;
}

/* build(yaml), dump, build the dump: the same bytes.  Returns the dump. */
static char *
roundtrip(const char *yaml, int json)
{
	struct built a = build(yaml), b;
	char *text = dump(&a, json);

	if (!text) {
		free(a.buf);
		CHECK(!"first build and dump");
		return NULL;
	}
	b = build(text);
	CHECK(b.buf && a.len == b.len && !memcmp(a.buf, b.buf, a.len));
	if (!b.buf || a.len != b.len || memcmp(a.buf, b.buf, a.len))
		printf("    dump that did not rebuild the same:\n%s", text);
	free(a.buf);
	free(b.buf);
	return text;
}

/* The dump without its first line (the digest changes with the schema). */
static const char *
body(const char *text)
{
	const char *nl = text ? strchr(text, '\n') : NULL;

	return nl ? nl + 1 : "";
}

/* ---- Cases --------------------------------------------------------------- */

static const char rich[] =
	"srv:\n"
	"  addr: \"0.0.0.0:9\"\n"
	"  limit: 5\n"
	"  pass: hunter2\n"
	"  nick: '${env.NICK}'\n"
	"  mode: fail_open\n"
	"  tags: []\n"
	"cluster: {kind: redis, url: 'redis://${env.HOST}:6379', password: '${env.PW}'}\n"
	"backs:\n"
	"  - kind: mock\n"
	"    config:\n"
	"      resp: {a: [1, 2.5, \"x\\ny\"], b: {}, c: null, d: '8080'}\n"
	"  - kind: http\n"
	"    config:\n"
	"      url: https://h/${arguments.id}\n"
	"      headers: {X-Key: literal-secret, Authorization: 'Bearer ${env.T}'}\n"
	"  - kind: none\n"
	"  - kind: mock\n"
	"labels: {b: \"two\", a: one}\n"
	"limits: {rps: 50}\n"
	"extra: [true, \"s\"]\n"
	"allow: '\"admins\" in identity.groups'\n"
	"tls: {cert: c.pem}\n"
	"secret_json: {a: 1}\n"
	"matrix: [[a, b], [], [c]]\n"
	"dollar: 'pre$${x}post $$${y}'\n";

static void
yaml_golden(void)
{
	struct built a = build(rich);
	char *text = dump(&a, 0);

	CHECK(text && !strncmp(text, "# mcpg image sha256 ", 20));
	CHECK(text && strstr(text, ", schema 00d0d0d0d0d0d0d0\n"));
	CHECK_STR(body(text),
		  "srv:\n"
		  "  addr: \"0.0.0.0:9\"\n"
		  "  port: 8080\n"
		  "  delta: -3\n"
		  "  on: true\n"
		  "  mode: \"fail_open\"\n"
		  "  tags: []\n"
		  "  pass: \"<redacted>\"\n"
		  "  nick: \"${env.NICK}\"\n"
		  "  limit: 5\n"
		  "cluster:\n"
		  "  kind: \"redis\"\n"
		  "  url: \"redis://${env.HOST}:6379\"\n"
		  "  password: \"${env.PW}\"\n"
		  "backs:\n"
		  "  - kind: \"mock\"\n"
		  "    config:\n"
		  "      resp: {\"a\": [1, 2.5, \"x\\ny\"], \"b\": {}, \"c\": null, \"d\": \"8080\"}\n"
		  "  - kind: \"http\"\n"
		  "    config:\n"
		  "      url: \"https://h/${arguments.id}\"\n"
		  "      headers:\n"
		  "        \"X-Key\": \"<redacted>\"\n"
		  "        \"Authorization\": \"Bearer ${env.T}\"\n"
		  "  - kind: \"none\"\n"
		  "  - kind: \"mock\"\n"
		  "    config:\n"
		  "      resp: null\n"
		  "labels:\n"
		  "  \"b\": \"two\"\n"
		  "  \"a\": \"one\"\n"
		  "limits:\n"
		  "  \"rps\": 50\n"
		  "extra: [true, \"s\"]\n"
		  "allow: \"\\\"admins\\\" in identity.groups\"\n"
		  "tls:\n"
		  "  cert: \"c.pem\"\n"
		  "secret_json: \"<redacted>\"\n"
		  "empty: {}\n"
		  "matrix:\n"
		  "  - - \"a\"\n"
		  "    - \"b\"\n"
		  "  - []\n"
		  "  - - \"c\"\n"
		  "dollar: \"pre$${x}post $$${y}\"\n");
	free(text);
	free(a.buf);
}

/* A dump with secrets redacted rebuilds, but not to the same bytes. */
static void
redacted_not_roundtrip(void)
{
	struct built a = build(rich), b;
	char *text = dump(&a, 0);

	CHECK(text && !strstr(text, "hunter2") && !strstr(text, "literal-secret"));
	b = build(text);
	CHECK(b.buf && (a.len != b.len || memcmp(a.buf, b.buf, a.len)));
	free(a.buf);
	free(b.buf);
	free(text);
}

/* Without the literal secrets the dump gives back the same image. */
static const char rich_no_secrets[] =
	"srv: {pass: '${env.P}', nick: \"\", limit: 0, on: false, delta: -9223372036854775808,"
	" port: 18446744073709551615}\n"
	"backs:\n"
	"  - kind: http\n"
	"    config:\n"
	"      url: https://h/\n"
	"      headers: {A: 'x${identity.subject_id}'}\n"
	"extra: {\"k\": 1e+100, \"u\": 18446744073709551615, \"f\": 0.1, \"n\": -0.0}\n"
	"empty: {note: \"quote \\\" backslash \\\\ tab \\t nl \\n nel \\u0085 "
	"ls \\u2028 bom \\ufeff del \\x7f bell \\a e \\u00e9 \\U0001F600\"}\n";

static void
scalars_roundtrip(void)
{
	struct built a = build(rich_no_secrets);
	char *text = dump(&a, 0), *again;
	struct built b;

	CHECK(text != NULL);
	b = build(text ? text : "");
	CHECK(b.buf && a.len == b.len && !memcmp(a.buf, b.buf, a.len));
	CHECK(text && strstr(text, "  pass: \"${env.P}\"\n  nick: \"\"\n  limit: 0\n"));
	CHECK(text && strstr(text, "delta: -9223372036854775808\n"));
	CHECK(text && strstr(text, "port: 18446744073709551615\n"));
	CHECK(text && strstr(text, "note: \"quote \\\" backslash \\\\ tab \\t nl \\n nel "
				   "\\u0085 ls \\u2028 bom \\ufeff del \\u007f bell \\u0007 "
				   "e \xc3\xa9 \xf0\x9f\x98\x80\"\n"));
	/* Stable: the dump of the rebuilt image is the same text. */
	again = dump(&b, 0);
	CHECK(text && again && !strcmp(text, again));
	free(again);
	free(a.buf);
	free(b.buf);
	free(text);
}

/* Nothing set: every default, and a config that rebuilds the same. */
static void
defaults_only(void)
{
	char *text = roundtrip("", 0);

	CHECK_STR(body(text),
		  "srv:\n"
		  "  addr: \"127.0.0.1:1\"\n"
		  "  port: 8080\n"
		  "  delta: -3\n"
		  "  on: true\n"
		  "  mode: \"fail_closed\"\n"
		  "  tags:\n"
		  "    - \"a\"\n"
		  "    - \"b\"\n"
		  "backs: []\n"
		  "labels: {}\n"
		  "limits: {}\n"
		  "empty: {}\n"
		  "matrix: []\n");
	free(text);
}

static void
json_format(void)
{
	char *text = roundtrip(rich_no_secrets, 1);
	json_error_t err;
	/* (a u64 beyond INT64_MAX is valid JSON, but too big for jansson's ints) */
	json_t *j = text ? json_loads(text, JSON_DECODE_INT_AS_REAL, &err) : NULL;

	CHECK(j != NULL);
	if (!j && text)
		printf("    %s at line %d\n%s", err.text, err.line, text);
	/* json fields are values, not strings; keys keep schema order. */
	CHECK(j && json_is_object(json_object_get(j, "extra")));
	CHECK(j && json_is_number(json_object_get(json_object_get(j, "srv"), "delta")));
	CHECK(text && strstr(text, "{\n  \"srv\": {\n    \"addr\": \"127.0.0.1:1\",\n"
				   "    \"port\": 18446744073709551615,\n"));
	CHECK(text && strstr(text, "  \"labels\": {},\n"));
	CHECK(text && text[strlen(text) - 1] == '\n' && text[strlen(text) - 2] == '}');
	json_decref(j);
	free(text);

	/* Redacted values and nested lists are JSON too. */
	struct built a = build(rich);

	text = dump(&a, 1);
	j = text ? json_loads(text, 0, &err) : NULL;
	CHECK(j && json_is_array(json_object_get(j, "matrix")));
	CHECK(j && json_is_string(json_object_get(j, "secret_json")));
	json_decref(j);
	free(text);
	free(a.buf);
}

/* ---- explain ------------------------------------------------------------- */

static const char layer1[] =
	"srv:\n"
	"  port: 1\n"
	"  pass: s3cret\n"
	"cluster:\n"
	"  kind: redis\n"
	"  url: redis://x\n"
	"backs:\n"
	"  - kind: http\n"
	"    config:\n"
	"      url: https://h/\n"
	"      headers: {A: lit, B: 'x ${env.Q}'}\n"
	"  - kind: mock\n";

static const char layer2[] =
	"srv:\n"
	"  port: 2\n"
	"  pass: '${env.P}'\n"
	"  tags: null\n";

static struct mcc_node *
two_layers(void)
{
	struct mcc_diag d;
	struct mcc_node *a, *b;

	mcc_diag_init(&d, stdout, MCC_DIAG_TEXT);
	a = mcc_yaml_load_string("base.yaml", layer1, strlen(layer1), 0, &d);
	b = mcc_yaml_load_string("over.yaml", layer2, strlen(layer2), 1, &d);
	CHECK(a && b && !d.nerrors);
	mcc_diag_release(&d);
	return mcc_merge(a, b);
}

/* explain's output (malloc'd); *rc its return value, *err the diagnostics. */
static char *
explain(const struct mcc_node *tree, const char *key, int *rc, char **err)
{
	char *out = NULL, *e = NULL;
	size_t len = 0, elen = 0;
	FILE *f = open_memstream(&out, &len), *ef = open_memstream(&e, &elen);
	struct mcc_diag d;

	mcc_diag_init(&d, ef, MCC_DIAG_TEXT);
	*rc = mcc_explain(&ds_schema, tree, key, f, &d);
	mcc_diag_release(&d);
	fclose(f);
	fclose(ef);
	if (err)
		*err = e;
	else
		free(e);
	return out;
}

static void
explain_override(void)
{
	int rc;
	char *out = explain(two_layers(), "srv.port", &rc, NULL);

	CHECK(rc == 0);
	CHECK_STR(out, "srv.port\n"
		       "  type:        non-negative integer\n"
		       "  default:     8080\n"
		       "  value:       2\n"
		       "               set at over.yaml:2:9 (layer 2: over.yaml)\n"
		       "               overrode 1 at base.yaml:2:9\n");
	free(out);
}

static void
explain_redacts(void)
{
	struct mcc_node *t = two_layers();
	int rc;
	char *out = explain(t, "srv.pass", &rc, NULL);

	CHECK(out && strstr(out, "  flags:       sensitive\n"));
	CHECK(out && strstr(out, "  value:       \"${env.P}\"\n"
				 "               set at over.yaml:3:9 (layer 2: over.yaml)\n"
				 "               overrode <redacted> at base.yaml:3:9\n"));
	CHECK(out && !strstr(out, "s3cret"));
	free(out);
	out = explain(t, "backs[0].config.headers", &rc, NULL);
	CHECK(out && strstr(out, "  value:       {A: <redacted>, B: \"x ${env.Q}\"}\n"));
	free(out);
}

static void
explain_defaults(void)
{
	struct mcc_node *t = two_layers();
	int rc;
	char *out = explain(t, "srv.tags", &rc, NULL);

	CHECK(out && strstr(out, "  value:       null: reset to the default [\"a\", \"b\"]\n"
				 "               set at over.yaml:4:9 (layer 2: over.yaml)\n"));
	free(out);
	out = explain(t, "srv.tags[1]", &rc, NULL);
	CHECK(out && strstr(out, "  value:       not set; default \"b\" (from the default of "
				 "'srv.tags')\n"));
	free(out);
	out = explain(NULL, "srv.addr", &rc, NULL);
	CHECK(out && strstr(out, "  value:       not set; default \"127.0.0.1:1\"\n"));
	free(out);
	out = explain(t, "tls.cert", &rc, NULL);
	CHECK(out && strstr(out, "  flags:       required\n  default:     none\n"
				 "  value:       not set; no default\n"));
	free(out);
	out = explain(t, "tls", &rc, NULL);
	CHECK(out && strstr(out, "  type:        struct tlss, optional\n"));
	CHECK(out && strstr(out, "  value:       not set; absent\n  keys:\n    cert\n"));
	free(out);
}

static void
explain_unions(void)
{
	struct mcc_node *t = two_layers();
	int rc;
	char *out = explain(t, "cluster.url", &rc, NULL);

	CHECK(out && strstr(out, "cluster.url\n  variant:     kind: redis\n"));
	free(out);
	out = explain(t, "backs[1].config.url", &rc, NULL);
	CHECK(out && strstr(out, "  variant:     kind: http (not the selected mock)\n"));
	CHECK(out && strstr(out, "  value:       not applicable: 'backs[1].kind' is 'mock', "
				 "which has no 'url'\n"));
	free(out);
	out = explain(t, "backs[5].config.resp", &rc, NULL);
	CHECK(out && strstr(out, "  variant:     kind: mock ('backs[5].kind' is not set)\n"));
	CHECK(out && strstr(out, "  value:       not set ('backs' has 2 items); default null\n"));
	free(out);
	out = explain(t, "backs[0].kind", &rc, NULL);
	CHECK(out && strstr(out, "  type:        string: mock | http | none (selects the "
				 "variant)\n"));
	CHECK(out && strstr(out, "  value:       \"http\"\n"));
	free(out);
	out = explain(t, "backs[].config.url", &rc, NULL);
	CHECK(rc == 0 && out && !strstr(out, "value:"));
	free(out);
	out = explain(t, "backs[0]", &rc, NULL);
	CHECK(out && strstr(out, "  variants: (* selected)\n    mock\n  * http\n    none\n"
				 "  keys of http, under 'config':\n    url\n    headers\n"));
	free(out);
}

static void
explain_errors(void)
{
	static const struct {
		const char *key, *err;
	} cases[] = {
		{ "srv.prt", "mcpgc: error: unknown key 'prt' in 'srv' (did you mean 'port'?)\n" },
		{ "srvv", "mcpgc: error: unknown key 'srvv' (did you mean 'srv'?)\n" },
		{ "cluster.pasword",
		  "mcpgc: error: unknown key 'pasword' in 'cluster' (did you mean 'password'?)\n" },
		{ "backs[0].url",
		  "mcpgc: error: unknown key 'url' in 'backs[0]' (did you mean 'config.url'?)\n" },
		{ "backs[0].config.zzz", "mcpgc: error: unknown key 'zzz' in 'backs[0].config'\n" },
		{ "backs.x", "mcpgc: error: 'backs' is a list: use 'backs[N].x' or 'backs[].x'\n" },
		{ "srv.port.x",
		  "mcpgc: error: 'srv.port' is a non-negative integer and has no key 'x'\n" },
		{ "srv[0]", "mcpgc: error: 'srv' is not a list\n" },
		{ "a..b", "mcpgc: error: malformed key 'a..b'\n" },
		{ "srv.", "mcpgc: error: malformed key 'srv.'\n" },
		{ "backs[0]x", "mcpgc: error: malformed key 'backs[0]x'\n" },
		{ "", "mcpgc: error: malformed key ''\n" },
	};
	struct mcc_node *t = two_layers();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;
		char *err, *out = explain(t, cases[i].key, &rc, &err);

		CHECK(rc == -1);
		CHECK_STR(out, "");
		CHECK_STR(err, cases[i].err);
		free(out);
		free(err);
	}
}

int
main(void)
{
	TEST(yaml_golden);
	TEST(redacted_not_roundtrip);
	TEST(scalars_roundtrip);
	TEST(defaults_only);
	TEST(json_format);
	TEST(explain_override);
	TEST(explain_redacts);
	TEST(explain_defaults);
	TEST(explain_unions);
	TEST(explain_errors);
	mcc_arena_free_all();
	return test_done();
}
