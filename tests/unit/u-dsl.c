/*
 * u-dsl.c - the schema DSL front end (compiler/lex.re, parse.y, sema.c,
 * dsl.c): the tables it builds for a small valid schema (type order,
 * record layout, set bits, defaults, unions) and the schema hash (stable,
 * blind to doc strings and line numbers, sensitive to everything else).
 * Error messages are covered by the goldens in tests/schema-errors/.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "diag.h"
#include "dsl.h"
#include "schema_desc.h"
#include "test.h"

static FILE *sink;

static const char small[] =
	"# a small schema\n"
	"root config;\n"
	"\n"
	"enum level \"Log level.\" {\n"
	"    debug \"Everything.\";\n"
	"    warn_only = \"warn\" \"Warnings.\";\n"
	"}\n"
	"\n"
	"struct tls \"TLS files.\" {\n"
	"    cert: string required format(file_path) \"Certificate.\";\n"
	"    key: string required sensitive \"Key.\";\n"
	"}\n"
	"\n"
	"struct server \"The listener.\" {\n"
	"    bind: string = \"127.0.0.1:8787\" format(socket_addr) restart \"Bind.\";\n"
	"    tls: tls? \"TLS.\";\n"
	"    port: uint = 8787 range(1..65535) \"Port.\";\n"
	"    verbose: bool? \"Verbose.\";\n"
	"    level: level = warn_only \"Level.\";\n"
	"    tags: [string] = [\"a\", \"b\\\"c\"] items(..8) unique \"Tags.\";\n"
	"    headers: {template(arguments, identity)} = {x: \"${arguments.y}\"} \"Headers.\";\n"
	"    retries: int? \"Retries.\";\n"
	"    debug: bool = false \"Debug.\";\n"
	"}\n"
	"\n"
	"struct mock \"Mock backend.\" {\n"
	"    response: json = {a: [1, -2, null], \"b\": true} \"Response.\";\n"
	"}\n"
	"\n"
	"union backend on kind in config \"A backend.\" {\n"
	"    mock: mock \"Canned.\";\n"
	"    local = \"local-file\": mock \"Local.\";\n"
	"    none \"Nothing.\";\n"
	"}\n"
	"\n"
	"struct config \"Root.\" {\n"
	"    server: server \"Server.\";\n"
	"    backend: backend required \"Backend.\";\n"
	"    servers: [server] unique(bind) \"More servers.\";\n"
	"    allow_if: expr(identity)? \"Condition.\";\n"
	"    url: string = \"http://x\" format(url) schemes(\"http\", \"https\") pattern(\"^h\") \"URL.\";\n"
	"}\n"
	"\n"
	"rule one \"First rule.\";\n"
	"rule two \"Second rule.\";\n";

static const struct mcpg_schema *
parse(const char *text)
{
	struct mcc_diag d;
	const struct mcpg_schema *s;

	mcc_diag_init(&d, sink, MCC_DIAG_TEXT);
	s = mcc_schema_parse("u-dsl.mcs", text, strlen(text), &d);
	if (d.nerrors)
		s = NULL;
	mcc_diag_release(&d);
	return s;
}

static int
type_index(const struct mcpg_schema *s, const char *name)
{
	for (uint32_t i = 0; i < s->ntypes; i++)
		if (!strcmp(s->types[i].name, name))
			return (int)i;
	return -1;
}

static const struct mcpg_field *
field(const struct mcpg_schema *s, const char *type, const char *name)
{
	int t = type_index(s, type);

	if (t < 0)
		return NULL;
	for (uint32_t i = s->types[t].first; i < (uint32_t)s->types[t].first + s->types[t].count; i++)
		if (!strcmp(s->fields[i].name, name))
			return &s->fields[i];
	return NULL;
}

static void
type_order(void)
{
	static const char *const want[] = {
		"none", "bool", "int", "uint", "string", "json", "template", "expr",
		"level", "tls", "server", "mock", "backend", "config",
		"tls?", "bool?", "[string]", "{template}", "int?", "[server]", "expr?",
	};
	const struct mcpg_schema *s = parse(small);

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(s->ntypes == sizeof(want) / sizeof(want[0]));
	for (uint32_t i = 0; i < s->ntypes && i < sizeof(want) / sizeof(want[0]); i++)
		CHECK_STR(s->types[i].name, want[i]);
	CHECK(s->root == type_index(s, "config"));
	CHECK(s->types[0].kind == 0);
	CHECK(s->types[type_index(s, "[server]")].kind == MCPG_K_LIST);
	CHECK(s->types[type_index(s, "[server]")].elem == type_index(s, "server"));
	CHECK(s->types[type_index(s, "{template}")].kind == MCPG_K_MAP);
	CHECK(s->types[type_index(s, "tls?")].kind == MCPG_K_OPTIONAL);
	CHECK(s->types[type_index(s, "tls?")].elem == type_index(s, "tls"));
	CHECK(s->nrules == 2);
	CHECK_STR(s->rules[0].name, "one");
	CHECK_STR(s->rules[1].doc, "Second rule.");
}

static void
slot_sizes(void)
{
	const struct mcpg_schema *s = parse(small);
	static const struct { const char *name; unsigned size, align; } want[] = {
		{ "bool", 1, 1 }, { "int", 8, 8 }, { "uint", 8, 8 }, { "string", 4, 4 },
		{ "json", 4, 4 }, { "template", 4, 4 }, { "expr", 4, 4 }, { "level", 1, 1 },
		{ "backend", 8, 4 }, { "tls?", 4, 4 }, { "bool?", 1, 1 }, { "int?", 8, 8 },
		{ "[string]", 8, 4 }, { "{template}", 8, 4 }, { "expr?", 4, 4 },
		{ "tls", 8, 8 }, { "server", 56, 8 }, { "mock", 8, 8 }, { "config", 80, 8 },
	};

	if (!s)
		return;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int t = type_index(s, want[i].name);

		CHECK(t > 0);
		if (t <= 0)
			continue;
		if (s->types[t].size != want[i].size || s->types[t].align != want[i].align)
			printf("    %s: size %u align %u, want %u %u\n", want[i].name,
			       (unsigned)s->types[t].size, s->types[t].align, want[i].size,
			       want[i].align);
		CHECK(s->types[t].size == want[i].size);
		CHECK(s->types[t].align == want[i].align);
	}
}

static void
record_layout(void)
{
	const struct mcpg_schema *s = parse(small);
	/* server: set mask 0..8; 8-byte slots port, retries; 4-byte slots bind,
	 * tls, tags, headers; 1-byte slots verbose, level, debug; 51 -> 56. */
	static const struct { const char *type, *name; unsigned off; int bit; } want[] = {
		{ "server", "port", 8, -1 }, { "server", "retries", 16, 1 },
		{ "server", "bind", 24, -1 }, { "server", "tls", 28, -1 },
		{ "server", "tags", 32, -1 }, { "server", "headers", 40, -1 },
		{ "server", "verbose", 48, 0 }, { "server", "level", 49, -1 },
		{ "server", "debug", 50, -1 },
		{ "tls", "cert", 0, -1 }, { "tls", "key", 4, -1 },
		/* config: inline server (8-aligned) first, then 4-byte slots */
		{ "config", "server", 0, -1 }, { "config", "backend", 56, -1 },
		{ "config", "servers", 64, -1 }, { "config", "allow_if", 72, -1 },
		{ "config", "url", 76, -1 },
	};

	if (!s)
		return;
	CHECK(s->types[type_index(s, "server")].set_words == 1);
	CHECK(s->types[type_index(s, "config")].set_words == 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct mcpg_field *f = field(s, want[i].type, want[i].name);

		CHECK(f != NULL);
		if (!f)
			continue;
		if (f->offset != want[i].off || f->set_bit != want[i].bit)
			printf("    %s.%s: offset %u bit %d, want %u %d\n", want[i].type,
			       want[i].name, (unsigned)f->offset, f->set_bit, want[i].off,
			       want[i].bit);
		CHECK(f->offset == want[i].off);
		CHECK(f->set_bit == want[i].bit);
	}
	/* fields[] keep schema order */
	CHECK_STR(s->fields[s->types[type_index(s, "server")].first].name, "bind");
}

static void
field_details(void)
{
	const struct mcpg_schema *s = parse(small);
	const struct mcpg_field *f;

	if (!s)
		return;
	f = field(s, "server", "port");
	CHECK(f && f->min == 1 && f->max == 65535);
	CHECK(f && f->flags == (MCPG_F_HAS_RANGE | MCPG_F_HAS_DEFAULT));
	CHECK_STR(f ? f->dflt : NULL, "8787");
	CHECK(f && f->line == 17);
	f = field(s, "server", "bind");
	CHECK(f && f->format == MCPG_FMT_SOCKET_ADDR);
	CHECK(f && (f->flags & MCPG_F_RESTART));
	CHECK_STR(f ? f->dflt : NULL, "\"127.0.0.1:8787\"");
	f = field(s, "server", "level");
	CHECK_STR(f ? f->dflt : NULL, "\"warn\"");
	f = field(s, "server", "tags");
	CHECK_STR(f ? f->dflt : NULL, "[\"a\",\"b\\\"c\"]");
	CHECK(f && f->items_min == 0 && f->items_max == 8);
	CHECK(f && (f->flags & MCPG_F_UNIQUE) && (f->flags & MCPG_F_HAS_ITEMS));
	f = field(s, "server", "headers");
	CHECK(f && f->roots == (MCPG_ROOT_ARGUMENTS | MCPG_ROOT_IDENTITY));
	CHECK_STR(f ? f->dflt : NULL, "{\"x\":\"${arguments.y}\"}");
	f = field(s, "server", "debug");
	CHECK_STR(f ? f->dflt : NULL, "false");
	f = field(s, "server", "verbose");
	CHECK(f && f->dflt == NULL && !(f->flags & MCPG_F_HAS_DEFAULT));
	f = field(s, "mock", "response");
	CHECK_STR(f ? f->dflt : NULL, "{\"a\":[1,-2,null],\"b\":true}");
	f = field(s, "tls", "key");
	CHECK(f && f->flags == (MCPG_F_REQUIRED | MCPG_F_SENSITIVE));
	f = field(s, "config", "servers");
	CHECK_STR(f ? f->unique_field : NULL, "bind");
	f = field(s, "config", "allow_if");
	CHECK(f && f->roots == MCPG_ROOT_IDENTITY);
	f = field(s, "config", "url");
	CHECK_STR(f ? f->schemes : NULL, "http https");
	CHECK_STR(f ? f->pattern : NULL, "^h");
	CHECK(f && (f->flags & MCPG_F_LITERAL));
	CHECK_STR(f ? f->doc : NULL, "URL.");
}

static void
enums_and_unions(void)
{
	const struct mcpg_schema *s = parse(small);
	const struct mcpg_type *t;

	if (!s)
		return;
	t = &s->types[type_index(s, "level")];
	CHECK(t->count == 2);
	CHECK_STR(s->values[t->first].name, "debug");
	CHECK_STR(s->values[t->first].text, "debug");
	CHECK_STR(s->values[t->first + 1].name, "warn_only");
	CHECK_STR(s->values[t->first + 1].text, "warn");
	t = &s->types[type_index(s, "backend")];
	CHECK(t->count == 3);
	CHECK_STR(s->variants[t->first + 1].text, "local-file");
	CHECK(s->variants[t->first].type == type_index(s, "mock"));
	CHECK(s->variants[t->first + 2].type == 0);
	CHECK(s->nunions == 1);
	CHECK(s->unions[0].type == type_index(s, "backend"));
	CHECK_STR(s->unions[0].tag_key, "kind");
	CHECK_STR(s->unions[0].nest_key, "config");
	CHECK(mcpg_schema_union(s, (uint16_t)type_index(s, "backend")) == &s->unions[0]);
}

/* Replace the first `from` in `text` by `to`. */
static char *
edit(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);

	if (!p)
		return mcc_strdup("");
	return mcc_printf("%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
}

static void
hash_stable(void)
{
	const struct mcpg_schema *a = parse(small), *b = parse(small);
	char hex[17];

	CHECK(a && b);
	if (!a || !b)
		return;
	CHECK(a->hash == b->hash);
	CHECK_STR(a->hash_hex, b->hash_hex);
	CHECK(strlen(a->hash_hex) == 64);
	snprintf(hex, sizeof(hex), "%016" PRIx64, a->hash);
	CHECK(!strncmp(hex, a->hash_hex, 16));
}

static void
hash_ignores_docs(void)
{
	const struct mcpg_schema *a = parse(small);
	const char *const docs[][2] = {
		{ "\"Port.\"", "\"The TCP port \" \"to listen on.\"" },
		{ "\"Log level.\"", "\"How much to log.\"" },
		{ "\"Canned.\"", "\"Canned responses.\"" },
		{ "\"First rule.\"", "\"Another doc.\"" },
		{ "# a small schema\n", "# a small schema\n\n\n# moved down\n" },
	};

	for (size_t i = 0; a && i < sizeof(docs) / sizeof(docs[0]); i++) {
		const struct mcpg_schema *b = parse(edit(small, docs[i][0], docs[i][1]));

		CHECK(b != NULL);
		if (b && b->hash != a->hash)
			printf("    doc edit %zu changed the hash\n", i);
		CHECK(b && b->hash == a->hash);
	}
}

static void
hash_sees_fields(void)
{
	const struct mcpg_schema *a = parse(small);
	const char *const edits[][2] = {
		{ "port: uint = 8787", "port: uint = 8788" },
		{ "port: uint", "porT: uint" },
		{ "range(1..65535)", "range(1..65534)" },
		{ "key: string required sensitive", "key: string required" },
		{ "warn_only = \"warn\"", "warn_only = \"warning\"" },
		{ "on kind in config", "on kind" },
		{ "rule two", "rule three" },
		{ "retries: int?", "retries: uint?" },
		{ "debug: bool = false \"Debug.\";\n", "" },
		{ "format(socket_addr)", "format(host)" },
	};

	for (size_t i = 0; a && i < sizeof(edits) / sizeof(edits[0]); i++) {
		const struct mcpg_schema *b = parse(edit(small, edits[i][0], edits[i][1]));

		CHECK(b != NULL);
		if (b && b->hash == a->hash)
			printf("    edit %zu kept the hash\n", i);
		CHECK(b && b->hash != a->hash);
	}
}

static void
errors_give_null(void)
{
	struct mcc_diag d;

	mcc_diag_init(&d, sink, MCC_DIAG_TEXT);
	CHECK(mcc_schema_parse("bad.mcs", "root x;", 7, &d) == NULL);
	CHECK(d.nerrors == 1);
	mcc_diag_release(&d);

	mcc_diag_init(&d, sink, MCC_DIAG_TEXT);
	CHECK(mcc_schema_parse("nul.mcs", "root\0x;", 7, &d) == NULL);
	CHECK(d.nerrors >= 1);
	mcc_diag_release(&d);

	mcc_diag_init(&d, sink, MCC_DIAG_TEXT);
	CHECK(mcc_schema_load("/nonexistent/x.mcs", &d) == NULL);
	CHECK(d.nerrors == 1);
	CHECK(d.nr >= 1 && d.v[0].loc.file == NULL);
	CHECK(d.nr >= 1 && strstr(d.v[0].msg, "cannot open '/nonexistent/x.mcs': ") == d.v[0].msg);
	mcc_diag_release(&d);
}

int
main(void)
{
	sink = fopen("/dev/null", "w");
	if (!sink)
		sink = stderr;
	TEST(type_order);
	TEST(slot_sizes);
	TEST(record_layout);
	TEST(field_details);
	TEST(enums_and_unions);
	TEST(hash_stable);
	TEST(hash_ignores_docs);
	TEST(hash_sees_fields);
	TEST(errors_give_null);
	mcc_arena_free_all();
	return test_done();
}
