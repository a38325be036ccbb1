/*
 * u-gen.c - `mcpgc gen` against the schema it was generated from.
 *
 * The descriptor tables linked into every program (generated/mcpg_schema.c)
 * must equal, entry by entry and field by field, what the DSL front end
 * makes of schema/mcpg.schema today; if they differ, generated/ is stale or
 * an emitter lost something.  The other cases check the emitters' own
 * promises: stable output, files rewritten only when they change, C names
 * checked, and every key path in mcpg-config(5), found by a walk written
 * here independently of emit_man.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utime.h>

#include "arena.h"
#include "diag.h"
#include "dsl.h"
#include "emit.h"
#include "gen.h"
#include "schema_desc.h"
#include "test.h"

static const struct mcpg_schema *parsed;
static const char *schema_path;

static int
str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

#define SAME_NUM(what, i, a, b)                                                   \
	do {                                                                      \
		if ((a) != (b)) {                                                 \
			test_failed_now = 1;                                      \
			printf("    %s[%u].%s: parsed %lld, generated %lld\n", what, \
			       (unsigned)(i), #a + 3, (long long)(a), (long long)(b)); \
		}                                                                 \
	} while (0)

#define SAME_STR(what, i, a, b)                                                   \
	do {                                                                      \
		if (!str_eq((a), (b))) {                                          \
			test_failed_now = 1;                                      \
			printf("    %s[%u].%s: parsed '%s', generated '%s'\n", what,  \
			       (unsigned)(i), #a + 3, (a) ? (a) : "(null)",       \
			       (b) ? (b) : "(null)");                             \
		}                                                                 \
	} while (0)

static void
tables_match(void)
{
	const struct mcpg_schema *p = parsed, *g = &mcpg_schema;

	if (!p) {
		CHECK(p != NULL);
		return;
	}
	SAME_NUM("schema", 0, p->ntypes, g->ntypes);
	SAME_NUM("schema", 0, p->nfields, g->nfields);
	SAME_NUM("schema", 0, p->nvalues, g->nvalues);
	SAME_NUM("schema", 0, p->nvariants, g->nvariants);
	SAME_NUM("schema", 0, p->nunions, g->nunions);
	SAME_NUM("schema", 0, p->nrules, g->nrules);
	if (test_failed_now)
		return; /* the counts differ: entries would not line up */
	SAME_NUM("schema", 0, p->root, g->root);
	SAME_STR("schema", 0, p->hash_hex, g->hash_hex);
	CHECK(p->hash == g->hash);

	for (uint32_t i = 0; i < p->ntypes; i++) {
		const struct mcpg_type *a = &p->types[i], *b = &g->types[i];

		SAME_STR("types", i, a->name, b->name);
		SAME_NUM("types", i, a->kind, b->kind);
		SAME_NUM("types", i, a->align, b->align);
		SAME_NUM("types", i, a->first, b->first);
		SAME_NUM("types", i, a->count, b->count);
		SAME_NUM("types", i, a->elem, b->elem);
		SAME_NUM("types", i, a->size, b->size);
		SAME_NUM("types", i, a->set_words, b->set_words);
		SAME_STR("types", i, a->doc, b->doc);
	}
	for (uint32_t i = 0; i < p->nfields; i++) {
		const struct mcpg_field *a = &p->fields[i], *b = &g->fields[i];

		SAME_STR("fields", i, a->name, b->name);
		SAME_NUM("fields", i, a->type, b->type);
		SAME_NUM("fields", i, a->flags, b->flags);
		SAME_NUM("fields", i, a->offset, b->offset);
		SAME_NUM("fields", i, a->set_bit, b->set_bit);
		SAME_NUM("fields", i, a->format, b->format);
		SAME_NUM("fields", i, a->roots, b->roots);
		SAME_NUM("fields", i, a->min, b->min);
		SAME_NUM("fields", i, a->max, b->max);
		SAME_NUM("fields", i, a->items_min, b->items_min);
		SAME_NUM("fields", i, a->items_max, b->items_max);
		SAME_STR("fields", i, a->pattern, b->pattern);
		SAME_STR("fields", i, a->schemes, b->schemes);
		SAME_STR("fields", i, a->unique_field, b->unique_field);
		SAME_STR("fields", i, a->dflt, b->dflt);
		SAME_STR("fields", i, a->deprecated, b->deprecated);
		SAME_STR("fields", i, a->doc, b->doc);
		SAME_NUM("fields", i, a->line, b->line);
	}
	for (uint32_t i = 0; i < p->nvalues; i++) {
		const struct mcpg_enum_value *a = &p->values[i], *b = &g->values[i];

		SAME_STR("values", i, a->name, b->name);
		SAME_STR("values", i, a->text, b->text);
		SAME_STR("values", i, a->doc, b->doc);
	}
	for (uint32_t i = 0; i < p->nvariants; i++) {
		const struct mcpg_variant *a = &p->variants[i], *b = &g->variants[i];

		SAME_STR("variants", i, a->name, b->name);
		SAME_STR("variants", i, a->text, b->text);
		SAME_NUM("variants", i, a->type, b->type);
		SAME_STR("variants", i, a->doc, b->doc);
	}
	for (uint32_t i = 0; i < p->nunions; i++) {
		const struct mcpg_union_info *a = &p->unions[i], *b = &g->unions[i];

		SAME_NUM("unions", i, a->type, b->type);
		SAME_STR("unions", i, a->tag_key, b->tag_key);
		SAME_STR("unions", i, a->nest_key, b->nest_key);
	}
	for (uint32_t i = 0; i < p->nrules; i++) {
		SAME_STR("rules", i, p->rules[i].name, g->rules[i].name);
		SAME_STR("rules", i, p->rules[i].doc, g->rules[i].doc);
	}
}

/* Rendering twice gives the same bytes, and the banner comes first. */
static void
render_is_stable(void)
{
	static const char *const names[] = {
		MCC_GEN_CONFIG_H, MCC_GEN_SCHEMA_C, MCC_GEN_JSON_SCHEMA, MCC_GEN_MAN,
	};
	static const char *const lead[] = { "/* Generated by", "/* Generated by",
					    "{\n  \"$comment\": \"Generated by", ".\\\" Generated by" };

	if (!parsed) {
		CHECK(parsed != NULL);
		return;
	}
	for (size_t i = 0; i < 4; i++) {
		size_t n1, n2;
		char *a = mcc_gen_render(parsed, "schema/mcpg.schema", names[i], &n1);
		char *b = mcc_gen_render(parsed, "schema/mcpg.schema", names[i], &n2);

		CHECK(a && b && n1 == n2 && !memcmp(a, b, n1));
		CHECK(a && !strncmp(a, lead[i], strlen(lead[i])));
		CHECK(a && strstr(a, "from schema/mcpg.schema -- do not edit; run 'make regen'."));
		CHECK(a && !strchr(a, '\r'));
		free(a);
		free(b);
	}
	CHECK(mcc_gen_render(parsed, "x", "no-such-file", NULL) == NULL);
}

/* ---------------------------------------------------------------------------
 * Every key path is documented: an independent walk over the parsed tables.
 */

struct keys {
	char **v;
	size_t nr, alloc;
};

static void
key_add(struct keys *k, char *path)
{
	if (k->nr == k->alloc) {
		k->alloc = k->alloc ? 2 * k->alloc : 256;
		k->v = mcc_grow(k->v, k->nr, k->alloc, sizeof(*k->v));
	}
	k->v[k->nr++] = path;
}

static void walk(const struct mcpg_schema *s, uint32_t t, const char *path, const char *cond,
		 struct keys *k, int depth);

static void
walk_fields(const struct mcpg_schema *s, uint32_t st, const char *prefix, const char *cond,
	    struct keys *k, int depth)
{
	const struct mcpg_type *ty = &s->types[st];

	for (uint32_t i = ty->first; i < (uint32_t)ty->first + ty->count; i++) {
		const char *path = *prefix ? mcc_printf("%s.%s", prefix, s->fields[i].name)
					   : s->fields[i].name;

		key_add(k, mcc_printf("%s%s", path, cond));
		walk(s, s->fields[i].type, path, cond, k, depth + 1);
	}
}

static void
walk(const struct mcpg_schema *s, uint32_t t, const char *path, const char *cond,
     struct keys *k, int depth)
{
	const struct mcpg_type *ty = &s->types[t];

	if (depth > 24)
		return;
	switch (ty->kind) {
	case MCPG_K_STRUCT:
		walk_fields(s, t, path, cond, k, depth);
		break;
	case MCPG_K_OPTIONAL:
		walk(s, ty->elem, path, cond, k, depth);
		break;
	case MCPG_K_LIST:
		walk(s, ty->elem, mcc_printf("%s[]", path), cond, k, depth);
		break;
	case MCPG_K_MAP:
		walk(s, ty->elem, mcc_printf("%s.<name>", path), cond, k, depth);
		break;
	case MCPG_K_UNION: {
		const struct mcpg_union_info *u = mcpg_schema_union(s, (uint16_t)t);

		key_add(k, mcc_printf("%s.%s%s", path, u->tag_key, cond));
		if (u->nest_key)
			key_add(k, mcc_printf("%s.%s%s", path, u->nest_key, cond));
		for (uint32_t i = ty->first; i < (uint32_t)ty->first + ty->count; i++) {
			const struct mcpg_variant *v = &s->variants[i];
			size_t n = strlen(cond);
			const char *c2 = n ? mcc_printf("%.*s, %s: %s)", (int)(n - 1), cond,
							u->tag_key, v->text)
					   : mcc_printf(" (%s: %s)", u->tag_key, v->text);

			if (v->type)
				walk_fields(s, v->type,
					    u->nest_key ? mcc_printf("%s.%s", path, u->nest_key) : path,
					    c2, k, depth);
		}
		break;
	}
	default:
		break;
	}
}

static void
every_key_in_man(void)
{
	struct keys k = { 0 };
	char *man;

	if (!parsed) {
		CHECK(parsed != NULL);
		return;
	}
	walk(parsed, parsed->root, "", "", &k, 0);
	CHECK(k.nr >= parsed->nfields / 2);
	man = mcc_gen_render(parsed, "schema/mcpg.schema", MCC_GEN_MAN, NULL);
	for (size_t i = 0; man && i < k.nr; i++) {
		const char *line = mcc_printf("\n.It Li \"%s\"\n", k.v[i]);

		if (!strstr(man, line)) {
			test_failed_now = 1;
			printf("    key '%s' is not in mcpg-config.5\n", k.v[i]);
		}
	}
	/* And each field of every struct shows up under some path. */
	for (uint32_t i = 0; i < parsed->nfields; i++) {
		int owner = mcc_field_owner(parsed, i);
		int found = 0;

		for (size_t j = 0; j < k.nr && !found; j++) {
			const char *p = k.v[j], *name = parsed->fields[i].name;
			const char *end = strstr(p, " (");
			size_t plen = end ? (size_t)(end - p) : strlen(p), n = strlen(name);

			found = plen >= n && !strncmp(p + plen - n, name, n) &&
				(plen == n || p[plen - n - 1] == '.');
		}
		if (!found && owner >= 0) {
			test_failed_now = 1;
			printf("    field '%s.%s' is reachable under no key path\n",
			       parsed->types[owner].name, parsed->fields[i].name);
		}
	}
	free(man);
}

/* ---------------------------------------------------------------------------
 * Writing: only what changed is replaced.
 */

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, alloc = 0, r;

	if (!f)
		return NULL;
	do {
		if (n + 4096 > alloc) {
			alloc = alloc ? 2 * alloc : 65536;
			buf = realloc(buf, alloc);
		}
		r = fread(buf + n, 1, alloc - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*len = n;
	return buf;
}

static void
writes_only_changes(void)
{
	struct mcc_diag d;
	const char *dir = "gen-out/nested";
	const char *h = "gen-out/nested/" MCC_GEN_CONFIG_H;
	const char *m = "gen-out/nested/" MCC_GEN_MAN;
	struct utimbuf old = { 1000000000, 1000000000 };
	struct stat st;
	size_t len, glen;
	char *buf, *want;

	if (!parsed) {
		CHECK(parsed != NULL);
		return;
	}
	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT); /* collected, not printed */
	CHECK(mcc_gen(parsed, "schema/mcpg.schema", dir, &d) == 0);
	CHECK(stat(h, &st) == 0);
	want = mcc_gen_render(parsed, "schema/mcpg.schema", MCC_GEN_CONFIG_H, &glen);
	buf = slurp(h, &len);
	CHECK(buf && len == glen && !memcmp(buf, want, len));
	free(buf);

	/* Unchanged: left alone (the old mtime stays). */
	CHECK(utime(h, &old) == 0);
	CHECK(mcc_gen(parsed, "schema/mcpg.schema", dir, &d) == 0);
	CHECK(stat(h, &st) == 0 && st.st_mtime == old.modtime);

	/* Changed: replaced whole, and no temp file left behind. */
	FILE *f = fopen(m, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("stale\n", f);
		fclose(f);
	}
	CHECK(mcc_gen(parsed, "schema/mcpg.schema", dir, &d) == 0);
	free(want);
	want = mcc_gen_render(parsed, "schema/mcpg.schema", MCC_GEN_MAN, &glen);
	buf = slurp(m, &len);
	CHECK(buf && len == glen && !memcmp(buf, want, len));
	CHECK(stat("gen-out/nested/." MCC_GEN_MAN ".tmp", &st) < 0 && errno == ENOENT);
	free(buf);
	free(want);

	/* An output path that is a file: an I/O error (2), reported. */
	CHECK(mcc_gen(parsed, "schema/mcpg.schema", h, &d) == 2);
	CHECK(d.nerrors > 0);
	mcc_diag_release(&d);
}

/* ---------------------------------------------------------------------------
 * C names and doc summaries, on a small schema made here.
 */

static void
c_name_collisions(void)
{
	static const struct mcpg_type types[] = {
		{ "none", 0, 0, 0, 0, 0, 0, 0, NULL },
		{ "bool", MCPG_K_BOOL, 1, 0, 0, 0, 1, 0, NULL },
		{ "a", MCPG_K_STRUCT, 8, 0, 3, 0, 8, 0, "A." },
		{ "a_b", MCPG_K_STRUCT, 8, 3, 1, 0, 8, 0, "A b." },
		{ "image", MCPG_K_STRUCT, 8, 4, 0, 0, 8, 0, "Clashes with the runtime." },
	};
	static const struct mcpg_field fields[] = {
		{ .name = "b_c", .type = 1, .offset = 0, .set_bit = -1, .line = 3 },
		{ .name = "int", .type = 1, .offset = 1, .set_bit = -1, .line = 4 },
		{ .name = "int_", .type = 1, .offset = 2, .set_bit = -1, .line = 5 },
		{ .name = "c", .type = 1, .offset = 0, .set_bit = -1, .line = 7 },
	};
	static const struct mcpg_schema s = {
		.types = types, .ntypes = 5, .fields = fields, .nfields = 4, .root = 2,
	};
	struct mcc_diag d;
	int found[3] = { 0 };

	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	CHECK(mcc_check_c_names(&s, "t.schema", &d) == 3);
	for (size_t i = 0; i < d.nr; i++) {
		const char *msg = d.v[i].msg;

		found[0] |= strstr(msg, "'mcpg_a_b_c'") != NULL;
		found[1] |= strstr(msg, "C member 'int_'") != NULL;
		found[2] |= strstr(msg, "'struct/enum mcpg_image'") != NULL;
		CHECK_STR(d.v[i].loc.file, "t.schema");
	}
	CHECK(found[0] && found[1] && found[2]);
	CHECK(mcc_gen(&s, "t.schema", "never-created", &d) == 1);
	struct stat st;
	CHECK(stat("never-created", &st) < 0);
	mcc_diag_release(&d);
}

static void
doc_summaries(void)
{
	CHECK_STR(mcc_doc_summary("One. Two.", 80), "One.");
	CHECK_STR(mcc_doc_summary("  Spaced\n  out\ttext  ", 80), "Spaced out text");
	CHECK_STR(mcc_doc_summary("Use e.g. this one. Then more.", 80), "Use e.g. this one.");
	CHECK_STR(mcc_doc_summary("Version 1.2 only", 80), "Version 1.2 only");
	CHECK_STR(mcc_doc_summary("a very long sentence that goes on and on", 20),
		  "a very long...");
	CHECK_STR(mcc_doc_summary(NULL, 20), "");
}

int
main(void)
{
	const char *top = getenv("TOP");
	struct mcc_diag d;

	schema_path = top ? mcc_printf("%s/schema/mcpg.schema", top) : "schema/mcpg.schema";
	mcc_diag_init(&d, stdout, MCC_DIAG_TEXT);
	parsed = mcc_schema_load(schema_path, &d);
	if (!parsed || d.nerrors)
		printf("    cannot load %s\n", schema_path);
	if (d.nerrors)
		parsed = NULL;

	TEST(tables_match);
	TEST(render_is_stable);
	TEST(every_key_in_man);
	TEST(writes_only_changes);
	TEST(c_name_collisions);
	TEST(doc_summaries);
	mcc_diag_release(&d);
	mcc_arena_free_all();
	return test_done();
}
