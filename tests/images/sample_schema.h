/*
 * sample_schema.h - a small hand-written schema and a sample image for the
 * image writer and verifier tests (tests/unit/u-image.c) and the verifier
 * fuzz target (tests/fuzz/fuzz_verify.c).
 *
 * It does not depend on generated/: it exercises every slot kind (bool,
 * enum, int, uint, string, json, template, expr, inline struct, optional
 * scalar with a set bit, optional struct, union with and without a record,
 * list of structs, strings and unions, map of strings and of u64, and a
 * recursive type for the depth limit).  The layout follows the rules in
 * schema/README.md: fields sorted by alignment, set mask first, size
 * rounded to 8.  Include it in exactly one translation unit.
 *
 *   config (root, 120 bytes, set mask):
 *        0 set mask            8 retries: uint       16 limit: uint? (bit 0)
 *       24 delta: int         32 server: tls         40 name: string
 *       44 nick: string? (bit 1)                     48 tls: tls?
 *       52 backend: backend   60 items: [item]       68 tags: [string]
 *       76 labels: {string}   84 limits: {uint}      92 backends: [backend]
 *      100 url: template     104 allow: expr        108 chain: node?
 *      112 extra: json       116 debug: bool        117 color: color
 *   tls (8): 0 cert: string, 4 verify: bool
 *   mock (8): 0 body: json            http (16): 0 timeout: uint, 8 url: template
 *   item (32, set mask): 8 port: uint? (bit 0), 16 name: string,
 *                        20 backend: backend, 28 enabled: bool
 *   node (16): 0 val: uint, 8 next: node?
 *   backend: union on kind { mock: mock; http: http; stdin }
 */
#ifndef MCPG_TEST_SAMPLE_SCHEMA_H
#define MCPG_TEST_SAMPLE_SCHEMA_H

#include <string.h>

#include "image_write.h"
#include "schema_desc.h"

enum {
	ST_NONE, ST_BOOL, ST_UINT, ST_INT, ST_STRING, ST_JSON, ST_TEMPLATE, ST_EXPR,
	ST_COLOR, ST_TLS, ST_TLS_OPT, ST_STRING_OPT, ST_UINT_OPT, ST_MOCK, ST_HTTP,
	ST_BACKEND, ST_ITEM, ST_ITEM_LIST, ST_STRING_LIST, ST_STRING_MAP, ST_NODE,
	ST_NODE_OPT, ST_UINT_MAP, ST_BACKEND_LIST, ST_CONFIG, ST__COUNT
};

/* First field of each struct in sample_fields[]. */
enum { SF_TLS = 0, SF_MOCK = 2, SF_HTTP = 3, SF_ITEM = 5, SF_NODE = 9, SF_CONFIG = 11 };

/* Root record offsets. */
enum {
	R_MASK = 0, R_RETRIES = 8, R_LIMIT = 16, R_DELTA = 24, R_SERVER = 32,
	R_NAME = 40, R_NICK = 44, R_TLS = 48, R_BACKEND = 52, R_ITEMS = 60,
	R_TAGS = 68, R_LABELS = 76, R_LIMITS = 84, R_BACKENDS = 92, R_URL = 100,
	R_ALLOW = 104, R_CHAIN = 108, R_EXTRA = 112, R_DEBUG = 116, R_COLOR = 117,
	R_SIZE = 120
};

#define SAMPLE_SCHEMA_HASH 0x0123456789abcdefull

static const struct mcpg_type sample_types[ST__COUNT] = {
	[ST_NONE] = { .name = "" },
	[ST_BOOL] = { .name = "bool", .kind = MCPG_K_BOOL, .align = 1, .size = 1 },
	[ST_UINT] = { .name = "uint", .kind = MCPG_K_UINT, .align = 8, .size = 8 },
	[ST_INT] = { .name = "int", .kind = MCPG_K_INT, .align = 8, .size = 8 },
	[ST_STRING] = { .name = "string", .kind = MCPG_K_STRING, .align = 4, .size = 4 },
	[ST_JSON] = { .name = "json", .kind = MCPG_K_JSON, .align = 4, .size = 4 },
	[ST_TEMPLATE] = { .name = "template", .kind = MCPG_K_TEMPLATE, .align = 4, .size = 4 },
	[ST_EXPR] = { .name = "expr", .kind = MCPG_K_EXPR, .align = 4, .size = 4 },
	[ST_COLOR] = { .name = "color", .kind = MCPG_K_ENUM, .align = 1, .size = 1,
		       .first = 0, .count = 3 },
	[ST_TLS] = { .name = "tls", .kind = MCPG_K_STRUCT, .align = 8, .size = 8,
		     .first = SF_TLS, .count = 2 },
	[ST_TLS_OPT] = { .name = "tls?", .kind = MCPG_K_OPTIONAL, .align = 4, .size = 4,
			 .elem = ST_TLS },
	[ST_STRING_OPT] = { .name = "string?", .kind = MCPG_K_OPTIONAL, .align = 4,
			    .size = 4, .elem = ST_STRING },
	[ST_UINT_OPT] = { .name = "uint?", .kind = MCPG_K_OPTIONAL, .align = 8, .size = 8,
			  .elem = ST_UINT },
	[ST_MOCK] = { .name = "mock", .kind = MCPG_K_STRUCT, .align = 8, .size = 8,
		      .first = SF_MOCK, .count = 1 },
	[ST_HTTP] = { .name = "http", .kind = MCPG_K_STRUCT, .align = 8, .size = 16,
		      .first = SF_HTTP, .count = 2 },
	[ST_BACKEND] = { .name = "backend", .kind = MCPG_K_UNION, .align = 4, .size = 8,
			 .first = 0, .count = 3 },
	[ST_ITEM] = { .name = "item", .kind = MCPG_K_STRUCT, .align = 8, .size = 32,
		      .first = SF_ITEM, .count = 4, .set_words = 1 },
	[ST_ITEM_LIST] = { .name = "[item]", .kind = MCPG_K_LIST, .align = 4, .size = 8,
			   .elem = ST_ITEM },
	[ST_STRING_LIST] = { .name = "[string]", .kind = MCPG_K_LIST, .align = 4,
			     .size = 8, .elem = ST_STRING },
	[ST_STRING_MAP] = { .name = "{string}", .kind = MCPG_K_MAP, .align = 4, .size = 8,
			    .elem = ST_STRING },
	[ST_NODE] = { .name = "node", .kind = MCPG_K_STRUCT, .align = 8, .size = 16,
		      .first = SF_NODE, .count = 2 },
	[ST_NODE_OPT] = { .name = "node?", .kind = MCPG_K_OPTIONAL, .align = 4, .size = 4,
			  .elem = ST_NODE },
	[ST_UINT_MAP] = { .name = "{uint}", .kind = MCPG_K_MAP, .align = 4, .size = 8,
			  .elem = ST_UINT },
	[ST_BACKEND_LIST] = { .name = "[backend]", .kind = MCPG_K_LIST, .align = 4,
			      .size = 8, .elem = ST_BACKEND },
	[ST_CONFIG] = { .name = "config", .kind = MCPG_K_STRUCT, .align = 8, .size = R_SIZE,
			.first = SF_CONFIG, .count = 19, .set_words = 1 },
};

#define SF(n, t, off) { .name = n, .type = t, .offset = off, .set_bit = -1 }
#define SFO(n, t, off, bit) { .name = n, .type = t, .offset = off, .set_bit = bit }

static const struct mcpg_field sample_fields[] = {
	/* tls */
	SF("cert", ST_STRING, 0),
	SF("verify", ST_BOOL, 4),
	/* mock */
	SF("body", ST_JSON, 0),
	/* http */
	SF("timeout", ST_UINT, 0),
	SF("url", ST_TEMPLATE, 8),
	/* item */
	SFO("port", ST_UINT_OPT, 8, 0),
	SF("name", ST_STRING, 16),
	SF("backend", ST_BACKEND, 20),
	SF("enabled", ST_BOOL, 28),
	/* node */
	SF("val", ST_UINT, 0),
	SF("next", ST_NODE_OPT, 8),
	/* config */
	SF("retries", ST_UINT, R_RETRIES),
	SFO("limit", ST_UINT_OPT, R_LIMIT, 0),
	SF("delta", ST_INT, R_DELTA),
	SF("server", ST_TLS, R_SERVER),
	SF("name", ST_STRING, R_NAME),
	SFO("nick", ST_STRING_OPT, R_NICK, 1),
	SF("tls", ST_TLS_OPT, R_TLS),
	SF("backend", ST_BACKEND, R_BACKEND),
	SF("items", ST_ITEM_LIST, R_ITEMS),
	SF("tags", ST_STRING_LIST, R_TAGS),
	SF("labels", ST_STRING_MAP, R_LABELS),
	SF("limits", ST_UINT_MAP, R_LIMITS),
	SF("backends", ST_BACKEND_LIST, R_BACKENDS),
	SF("url", ST_TEMPLATE, R_URL),
	SF("allow", ST_EXPR, R_ALLOW),
	SF("chain", ST_NODE_OPT, R_CHAIN),
	SF("extra", ST_JSON, R_EXTRA),
	SF("debug", ST_BOOL, R_DEBUG),
	SF("color", ST_COLOR, R_COLOR),
	/* (19 config fields: retries .. color) */
};

#undef SF
#undef SFO

static const struct mcpg_enum_value sample_values[] = {
	{ "red", "red", NULL }, { "green", "green", NULL }, { "blue", "blue", NULL },
};

static const struct mcpg_variant sample_variants[] = {
	{ "mock", "mock", ST_MOCK, NULL },
	{ "http", "http", ST_HTTP, NULL },
	{ "stdin", "stdin", 0, NULL },
};

static const struct mcpg_union_info sample_unions[] = {
	{ ST_BACKEND, "kind", NULL },
};

static const struct mcpg_schema sample_schema = {
	.types = sample_types,
	.ntypes = ST__COUNT,
	.fields = sample_fields,
	.nfields = sizeof(sample_fields) / sizeof(sample_fields[0]),
	.values = sample_values,
	.nvalues = 3,
	.variants = sample_variants,
	.nvariants = 3,
	.unions = sample_unions,
	.nunions = 1,
	.root = ST_CONFIG,
	.hash = SAMPLE_SCHEMA_HASH,
	.hash_hex = "0123456789abcdef",
};

/* Variant tags as stored: 1 + variant index. */
enum { TAG_MOCK = 1, TAG_HTTP = 2, TAG_STDIN = 3 };

/* (true || false) && true as bytecode: TRUE FALSE OR TRUE AND (runtime/expr.h) */
static const unsigned char sample_code[5] = { 0x01, 0x02, 0x08, 0x01, 0x07 };
static const unsigned char sample_tok[32] = { 0xaa, 0xbb, [31] = 0xcc };

static uint32_t
sample_str(struct mcc_image *img, const char *s)
{
	return mcc_image_cstr(img, s);
}

/* A list of `n` slots of `stride` bytes; writes ref and count into `slot`. */
static uint32_t
sample_list(struct mcc_image *img, uint32_t slot, uint32_t n, uint32_t stride)
{
	uint32_t ref = mcc_image_alloc(img, (size_t)n * stride);

	mcc_image_put32(img, slot, ref);
	mcc_image_put32(img, slot + 4, n);
	return ref;
}

/*
 * The sample image (values in u-image.c's roundtrip case).  Every record
 * and array is allocated once and referenced once, as the lowering must.
 */
static void
sample_build(struct mcc_image *img)
{
	uint32_t root = mcc_image_alloc(img, R_SIZE), r, a, seg, t, e, code;

	/* Strings first, in a fixed order, so the pool layout is stable. */
	mcc_image_put64(img, root + R_MASK, (1u << 0) | (1u << 1));
	mcc_image_put64(img, root + R_RETRIES, 3);
	mcc_image_put64(img, root + R_LIMIT, 100);
	mcc_image_put64(img, root + R_DELTA, (uint64_t)-5);
	mcc_image_put32(img, root + R_SERVER + 0, sample_str(img, "cert.pem"));
	mcc_image_put8(img, root + R_SERVER + 4, 1);
	mcc_image_put32(img, root + R_NAME, sample_str(img, "gw"));

	/* nick: "${env.NICK}", an IPOL string. */
	seg = mcc_image_add_seg(img, MCPG_SEG_ENV, sample_str(img, "NICK"));
	a = mcc_image_add_ipol(img, sample_str(img, "${env.NICK}"),
			       sample_str(img, "nick"), seg, 1);
	mcc_image_put32(img, root + R_NICK, MCPG_STRREF_IPOL | a);

	r = mcc_image_alloc(img, 8);
	mcc_image_put32(img, root + R_TLS, r);
	mcc_image_put32(img, r + 0, sample_str(img, "tls.pem"));

	/* url: a template "https://api/${arguments.id}". */
	seg = mcc_image_add_seg(img, MCPG_SEG_LIT, sample_str(img, "https://api/"));
	mcc_image_add_seg(img, MCPG_SEG_ARG, sample_str(img, "id"));
	t = mcc_image_add_tmpl(img, sample_str(img, "https://api/${arguments.id}"),
			       sample_str(img, "url"), seg, 2);
	mcc_image_put32(img, root + R_URL, 1 + t);

	/* backend: http { timeout: 30, url: the same template text, own entry } */
	mcc_image_put32(img, root + R_BACKEND, TAG_HTTP);
	r = mcc_image_alloc(img, 16);
	mcc_image_put32(img, root + R_BACKEND + 4, r);
	mcc_image_put64(img, r + 0, 30);
	seg = mcc_image_add_seg(img, MCPG_SEG_LIT, sample_str(img, "http://127.0.0.1/"));
	t = mcc_image_add_tmpl(img, sample_str(img, "http://127.0.0.1/"),
			       sample_str(img, "backend.url"), seg, 1);
	mcc_image_put32(img, r + 8, 1 + t);

	/* items: [{port: 8080, name: a, backend: mock, enabled}, {name: b, stdin}] */
	a = sample_list(img, root + R_ITEMS, 2, 32);
	mcc_image_put64(img, a + 0, 1);
	mcc_image_put64(img, a + 8, 8080);
	mcc_image_put32(img, a + 16, sample_str(img, "a"));
	mcc_image_put32(img, a + 20, TAG_MOCK);
	mcc_image_put8(img, a + 28, 1);
	r = mcc_image_alloc(img, 8);
	mcc_image_put32(img, a + 24, r);
	mcc_image_put32(img, r, sample_str(img, "{\"ok\":true}"));
	mcc_image_put32(img, a + 32 + 16, sample_str(img, "b"));
	mcc_image_put32(img, a + 32 + 20, TAG_STDIN);

	/* tags: [x, y, gw] (gw is shared with name in the pool) */
	a = sample_list(img, root + R_TAGS, 3, 4);
	mcc_image_put32(img, a + 0, sample_str(img, "x"));
	mcc_image_put32(img, a + 4, sample_str(img, "y"));
	mcc_image_put32(img, a + 8, sample_str(img, "gw"));

	/* labels: {team: core, env: dev} */
	a = sample_list(img, root + R_LABELS, 2, 8);
	mcc_image_put32(img, a + 0, sample_str(img, "team"));
	mcc_image_put32(img, a + 4, sample_str(img, "core"));
	mcc_image_put32(img, a + 8, sample_str(img, "env"));
	mcc_image_put32(img, a + 12, sample_str(img, "dev"));

	/* limits: {rps: 50} (u64 values: key at 0, value at 8, stride 16) */
	a = sample_list(img, root + R_LIMITS, 1, 16);
	mcc_image_put32(img, a + 0, sample_str(img, "rps"));
	mcc_image_put64(img, a + 8, 50);

	/* backends: [mock {body: null}, stdin] */
	a = sample_list(img, root + R_BACKENDS, 2, 8);
	r = mcc_image_alloc(img, 8);
	mcc_image_put32(img, r, sample_str(img, "null"));
	mcc_image_put32(img, a + 0, TAG_MOCK);
	mcc_image_put32(img, a + 4, r);
	mcc_image_put32(img, a + 8, TAG_STDIN);

	/* allow: an expression with 5 bytes of bytecode */
	code = mcc_image_add_code(img, sample_code, sizeof(sample_code));
	e = mcc_image_add_expr(img, sample_str(img, "\"admins\" in identity.groups"),
			       sample_str(img, "allow"), code, sizeof(sample_code));
	mcc_image_put32(img, root + R_ALLOW, 1 + e);

	/* chain: node {val: 1, next: node {val: 2}} */
	r = mcc_image_alloc(img, 16);
	mcc_image_put32(img, root + R_CHAIN, r);
	mcc_image_put64(img, r, 1);
	a = mcc_image_alloc(img, 16);
	mcc_image_put32(img, r + 8, a);
	mcc_image_put64(img, a, 2);

	mcc_image_put32(img, root + R_EXTRA, sample_str(img, "{\"a\":1}"));
	mcc_image_put8(img, root + R_DEBUG, 1);
	mcc_image_put8(img, root + R_COLOR, 2);

	{
		struct mcpg_img_tok tok = { .expires_at = 0 };

		memcpy(tok.hash, sample_tok, sizeof(tok.hash));
		tok.id = mcc_image_cstr(img, "token-1");
		mcc_image_add_tok(img, &tok);
	}
}

#endif /* MCPG_TEST_SAMPLE_SCHEMA_H */
