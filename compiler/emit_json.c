/*
 * emit_json.c - generated/mcpg-config.schema.json: a JSON Schema (draft-07)
 * of the YAML configuration, for editors (yaml-language-server reads it from
 * a `# yaml-language-server: $schema=...` line).
 *
 * One definition per struct, union and enum, in schema order.  Structs are
 * closed (additionalProperties: false), as mcpgc rejects unknown keys.
 * Unions are a oneOf of closed objects, each pinned by `const` on the tag key
 * (for a union `in KEY`, the variant's keys sit in the object under KEY).
 * Strings that may hold ${env.NAME} accept any string containing "${env."
 * besides the constrained form, because the value is only known at boot.
 *
 * Layers: a struct reached from the root through mappings alone may be split
 * across layers (base.yaml sets some keys, override.yaml others), so its
 * definition lists no `required` keys; a file that sets only some of them is
 * valid.  Structs inside list and map elements are always written whole by
 * one layer (sequences are replaced, not merged), so theirs are listed.  A
 * union's tag key is always required: it is what picks the variant.
 *
 * Written by hand (no JSON library: the bootstrap generator needs only libc
 * and libcrypto), with two-space indentation and keys in a fixed order.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "emit.h"

/* ---------------------------------------------------------------------------
 * A small pretty-printing JSON writer
 */

#define JW_MAX_DEPTH 64

struct jw {
	struct mcc_out *o;
	int depth;
	int count[JW_MAX_DEPTH];
};

static void
json_string(struct mcc_out *o, const char *s)
{
	mcc_out_putc(o, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': mcc_out_puts(o, "\\\""); break;
		case '\\': mcc_out_puts(o, "\\\\"); break;
		case '\n': mcc_out_puts(o, "\\n"); break;
		case '\t': mcc_out_puts(o, "\\t"); break;
		case '\r': mcc_out_puts(o, "\\r"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				mcc_out_printf(o, "\\u%04x", *p);
			else
				mcc_out_putc(o, *p);
		}
	}
	mcc_out_putc(o, '"');
}

/* Start a member (object, with key) or an element (array, key NULL). */
static void
jw_member(struct jw *w, const char *key)
{
	if (w->depth > 0) {
		mcc_out_puts(w->o, w->count[w->depth] ? ",\n" : "\n");
		for (int i = 0; i < w->depth; i++)
			mcc_out_puts(w->o, "  ");
		w->count[w->depth]++;
	}
	if (key) {
		json_string(w->o, key);
		mcc_out_puts(w->o, ": ");
	}
}

static void
jw_open(struct jw *w, const char *key, char c)
{
	jw_member(w, key);
	mcc_out_putc(w->o, c);
	if (w->depth + 1 < JW_MAX_DEPTH)
		w->depth++;
	w->count[w->depth] = 0;
}

static void
jw_close(struct jw *w, char c)
{
	if (w->count[w->depth]) {
		mcc_out_putc(w->o, '\n');
		for (int i = 1; i < w->depth; i++)
			mcc_out_puts(w->o, "  ");
	}
	mcc_out_putc(w->o, c);
	w->depth--;
}

static void
jw_str(struct jw *w, const char *key, const char *val)
{
	jw_member(w, key);
	json_string(w->o, val);
}

/* A value that is already JSON text (numbers, true, a default). */
static void
jw_raw(struct jw *w, const char *key, const char *json)
{
	jw_member(w, key);
	mcc_out_puts(w->o, json);
}

/* ---------------------------------------------------------------------------
 * POSIX extended regular expressions as ECMA-262 patterns
 */

static const struct {
	const char *name, *ecma;
} classes[] = {
	{ "alpha", "A-Za-z" },      { "digit", "0-9" },
	{ "alnum", "A-Za-z0-9" },   { "upper", "A-Z" },
	{ "lower", "a-z" },         { "space", " \\t\\n\\r\\f\\v" },
	{ "blank", " \\t" },        { "xdigit", "0-9A-Fa-f" },
	{ "punct", "!-\\/:-@\\[-`{-~" }, { "print", " -~" },
	{ "graph", "!-~" },         { "cntrl", "\\x00-\\x1f\\x7f" },
};

static int
is_syntax_char(int c)
{
	return c && strchr("^$\\.*+?()[]{}|/", c) != NULL;
}

static int
is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * The two dialects agree outside bracket expressions, except that ECMA's
 * unicode mode refuses identity escapes of ordinary punctuation (`\-`).
 * Inside brackets POSIX has no escapes (`\` is literal), allows `]` first,
 * and has [:class:] names, which ECMA spells as ranges.
 */
static char *
ere_to_ecma(const char *re)
{
	struct mcc_out o = MCC_OUT_INIT;
	char *r;

	for (const char *p = re; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			if (!is_syntax_char(*p) && !is_alnum(*p))
				mcc_out_putc(&o, *p);
			else
				mcc_out_printf(&o, "\\%c", *p);
			continue;
		}
		if (*p != '[') {
			mcc_out_putc(&o, *p);
			continue;
		}
		mcc_out_putc(&o, '[');
		p++;
		if (*p == '^')
			mcc_out_putc(&o, *p++);
		if (*p == ']')
			mcc_out_puts(&o, "\\]"), p++;
		for (; *p && *p != ']'; p++) {
			if (p[0] == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
				char delim = p[1];
				const char *end = p + 2;

				while (*end && !(end[0] == delim && end[1] == ']'))
					end++;
				if (!*end)
					break;
				size_t len = (size_t)(end - (p + 2));
				if (delim == ':') {
					for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
						if (strlen(classes[i].name) == len &&
						    !strncmp(classes[i].name, p + 2, len))
							mcc_out_puts(&o, classes[i].ecma);
				} else {
					for (const char *q = p + 2; q < end; q++)
						mcc_out_printf(&o, is_alnum(*q) ? "%c" : "\\%c", *q);
				}
				p = end + 1;
				continue;
			}
			if (*p == '\\' || *p == '[')
				mcc_out_putc(&o, '\\');
			mcc_out_putc(&o, *p);
		}
		if (*p == ']')
			mcc_out_putc(&o, ']');
		else
			break;
	}
	mcc_out_add(&o, "", 0);
	r = mcc_strdup(o.buf);
	mcc_out_release(&o);
	return r;
}

/* An ECMA pattern matching a URL with one of the space-separated schemes. */
static char *
schemes_pattern(const char *schemes)
{
	struct mcc_out o = MCC_OUT_INIT;
	char *r;
	int first = 1;

	mcc_out_puts(&o, "^(");
	for (const char *p = schemes; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		if (!first)
			mcc_out_putc(&o, '|');
		first = 0;
		for (; *p && *p != ' ' && *p != ','; p++) {
			if (is_syntax_char(*p))
				mcc_out_putc(&o, '\\');
			mcc_out_putc(&o, *p);
		}
	}
	mcc_out_puts(&o, ")://");
	r = mcc_strdup(o.buf);
	mcc_out_release(&o);
	return r;
}

/* ---------------------------------------------------------------------------
 * Schemas of types and fields
 */

struct ctx {
	struct jw w;
	const struct mcpg_schema *s;
	char *merged; /* per type: reachable from the root through mappings only */
};

static const struct mcpg_type *
ty(const struct ctx *c, uint32_t t)
{
	return mcc_type(c->s, t);
}

static void
mark_merged(struct ctx *c, uint32_t t)
{
	const struct mcpg_type *tt = ty(c, t);

	if (tt->kind == MCPG_K_OPTIONAL) {
		mark_merged(c, tt->elem);
		return;
	}
	if ((tt->kind != MCPG_K_STRUCT && tt->kind != MCPG_K_UNION) || c->merged[t])
		return;
	c->merged[t] = 1;
	for (uint32_t i = tt->first; i < (uint32_t)tt->first + tt->count; i++) {
		if (tt->kind == MCPG_K_STRUCT)
			mark_merged(c, c->s->fields[i].type);
		else if (c->s->variants[i].type)
			mark_merged(c, c->s->variants[i].type);
	}
}

static void
jw_int(struct jw *w, const char *key, int64_t v)
{
	jw_raw(w, key, mcc_printf("%" PRId64, v));
}

static void
ref_members(struct ctx *c, const char *name, int siblings)
{
	const char *ref = mcc_printf("#/definitions/%s", name);

	if (!siblings) {
		jw_str(&c->w, "$ref", ref);
		return;
	}
	/* Draft-07 ignores the siblings of $ref: keep them out of its object. */
	jw_open(&c->w, "allOf", '[');
	jw_open(&c->w, NULL, '{');
	jw_str(&c->w, "$ref", ref);
	jw_close(&c->w, '}');
	jw_close(&c->w, ']');
}

static void
string_members(struct ctx *c, const struct mcpg_field *f)
{
	const char *pats[4];
	int npat = 0;
	int64_t minlen = 0, maxlen = -1;
	int url = 0;

	if (f) {
		if (f->flags & MCPG_F_HAS_RANGE) {
			if (f->min > 0)
				minlen = f->min;
			if (f->max != INT64_MAX && f->max >= 0)
				maxlen = f->max;
		}
		if ((f->flags & MCPG_F_NONEMPTY) && minlen < 1)
			minlen = 1;
		if (f->pattern)
			pats[npat++] = ere_to_ecma(f->pattern);
		url = f->format == MCPG_FMT_URL;
		if (url && f->schemes && !f->pattern)
			pats[npat++] = schemes_pattern(f->schemes);
		if (f->format == MCPG_FMT_ABS_PATH && !f->pattern)
			pats[npat++] = "^/";
		if ((f->flags & MCPG_F_NONEMPTY) && !npat)
			pats[npat++] = "\\S";
	}
	if (!minlen && maxlen < 0 && !npat && !url) {
		jw_str(&c->w, "type", "string");
		return;
	}
	int env = f && !(f->flags & MCPG_F_LITERAL);
	if (env) {
		jw_open(&c->w, "anyOf", '[');
		jw_open(&c->w, NULL, '{');
	}
	jw_str(&c->w, "type", "string");
	if (minlen)
		jw_int(&c->w, "minLength", minlen);
	if (maxlen >= 0)
		jw_int(&c->w, "maxLength", maxlen);
	if (url)
		jw_str(&c->w, "format", "uri");
	if (npat == 1) {
		jw_str(&c->w, "pattern", pats[0]);
	} else if (npat > 1) {
		jw_open(&c->w, "allOf", '[');
		for (int i = 0; i < npat; i++) {
			jw_open(&c->w, NULL, '{');
			jw_str(&c->w, "pattern", pats[i]);
			jw_close(&c->w, '}');
		}
		jw_close(&c->w, ']');
	}
	if (env) {
		jw_close(&c->w, '}');
		jw_open(&c->w, NULL, '{');
		jw_str(&c->w, "type", "string");
		jw_str(&c->w, "pattern", "\\$\\{env\\.");
		jw_close(&c->w, '}');
		jw_close(&c->w, ']');
	}
}

/*
 * The members of the schema of type t, written into the object that is open.
 * `f` is the field the type belongs to (its constraints apply to the scalar,
 * or to each element of a list or map), or NULL.  `siblings`: the object
 * also holds description/default, so a $ref must be wrapped.
 */
static void
type_members(struct ctx *c, uint32_t t, const struct mcpg_field *f, int siblings)
{
	const struct mcpg_type *tt = ty(c, t);
	int range = f && (f->flags & MCPG_F_HAS_RANGE);
	int items = f && (f->flags & MCPG_F_HAS_ITEMS);

	switch (tt->kind) {
	case MCPG_K_BOOL:
		jw_str(&c->w, "type", "boolean");
		break;
	case MCPG_K_INT:
	case MCPG_K_UINT: {
		int64_t min = range ? f->min : INT64_MIN, max = range ? f->max : INT64_MAX;

		if (tt->kind == MCPG_K_UINT && min < 0)
			min = 0;
		jw_str(&c->w, "type", "integer");
		if (min != INT64_MIN)
			jw_int(&c->w, "minimum", min);
		if (max != INT64_MAX)
			jw_int(&c->w, "maximum", max);
		break;
	}
	case MCPG_K_STRING:
		string_members(c, f);
		break;
	case MCPG_K_JSON:
		break; /* any JSON value */
	case MCPG_K_TEMPLATE:
	case MCPG_K_EXPR:
		jw_str(&c->w, "type", "string");
		break;
	case MCPG_K_ENUM:
	case MCPG_K_STRUCT:
	case MCPG_K_UNION:
		ref_members(c, tt->name, siblings);
		break;
	case MCPG_K_LIST: {
		const struct mcpg_type *et = ty(c, tt->elem);

		jw_str(&c->w, "type", "array");
		jw_open(&c->w, "items", '{');
		type_members(c, tt->elem, f, 0);
		jw_close(&c->w, '}');
		if (items && f->items_min)
			jw_int(&c->w, "minItems", f->items_min);
		if (items && f->items_max)
			jw_int(&c->w, "maxItems", f->items_max);
		if (f && (f->flags & MCPG_F_UNIQUE) && !f->unique_field &&
		    et->kind != MCPG_K_STRUCT && et->kind != MCPG_K_UNION)
			jw_raw(&c->w, "uniqueItems", "true");
		break;
	}
	case MCPG_K_MAP:
		jw_str(&c->w, "type", "object");
		jw_open(&c->w, "additionalProperties", '{');
		type_members(c, tt->elem, f, 0);
		jw_close(&c->w, '}');
		if (items && f->items_min)
			jw_int(&c->w, "minProperties", f->items_min);
		if (items && f->items_max)
			jw_int(&c->w, "maxProperties", f->items_max);
		break;
	case MCPG_K_OPTIONAL:
		jw_open(&c->w, "anyOf", '[');
		jw_open(&c->w, NULL, '{');
		type_members(c, tt->elem, f, 0);
		jw_close(&c->w, '}');
		jw_open(&c->w, NULL, '{');
		jw_str(&c->w, "type", "null");
		jw_close(&c->w, '}');
		jw_close(&c->w, ']');
		break;
	default:
		break;
	}
}

static const char *
field_description(const struct mcpg_field *f)
{
	const char *doc = f->doc ? f->doc : "";

	if (f->flags & MCPG_F_DEPRECATED) {
		const char *why = f->deprecated ? f->deprecated : "";
		size_t n = strlen(why);

		return mcc_printf("%s%sDeprecated%s%s%s", doc, *doc ? " " : "",
				  n ? ": " : ".", why, n && !strchr(".?!", why[n - 1]) ? "." : "");
	}
	return doc;
}

static void
field_schema(struct ctx *c, const struct mcpg_field *f)
{
	jw_open(&c->w, f->name, '{');
	jw_str(&c->w, "description", field_description(f));
	if ((f->flags & MCPG_F_HAS_DEFAULT) && f->dflt)
		jw_raw(&c->w, "default", f->dflt);
	if (f->flags & MCPG_F_SENSITIVE)
		jw_raw(&c->w, "writeOnly", "true");
	if (f->flags & MCPG_F_DEPRECATED)
		jw_raw(&c->w, "deprecated", "true");
	type_members(c, f->type, f, 1);
	jw_close(&c->w, '}');
}

/* "required": [...] of the struct's required keys, when it has any. */
static void
required_list(struct ctx *c, const struct mcpg_type *st, const char *also)
{
	int n = also ? 1 : 0;

	for (uint32_t i = st ? st->first : 0; st && i < (uint32_t)st->first + st->count; i++)
		n += (c->s->fields[i].flags & MCPG_F_REQUIRED) != 0;
	if (!n)
		return;
	jw_open(&c->w, "required", '[');
	if (also)
		jw_str(&c->w, NULL, also);
	for (uint32_t i = st ? st->first : 0; st && i < (uint32_t)st->first + st->count; i++)
		if (c->s->fields[i].flags & MCPG_F_REQUIRED)
			jw_str(&c->w, NULL, c->s->fields[i].name);
	jw_close(&c->w, ']');
}

static void
struct_def(struct ctx *c, uint32_t t)
{
	const struct mcpg_type *st = ty(c, t);

	jw_open(&c->w, st->name, '{');
	if (st->doc)
		jw_str(&c->w, "description", st->doc);
	jw_str(&c->w, "type", "object");
	jw_open(&c->w, "properties", '{');
	for (uint32_t i = st->first; i < (uint32_t)st->first + st->count; i++)
		field_schema(c, &c->s->fields[i]);
	jw_close(&c->w, '}');
	if (!c->merged[t])
		required_list(c, st, NULL);
	jw_raw(&c->w, "additionalProperties", "false");
	jw_close(&c->w, '}');
}

/* A YAML spelling that a YAML 1.2 reader sees as a number or a boolean. */
static int
is_json_scalar(const char *s)
{
	const char *p = s;

	if (!strcmp(s, "true") || !strcmp(s, "false"))
		return 1;
	if (*p == '-')
		p++;
	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return 0;
	if (*p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static void
enum_def(struct ctx *c, uint32_t t)
{
	const struct mcpg_type *et = ty(c, t);

	jw_open(&c->w, et->name, '{');
	if (et->doc)
		jw_str(&c->w, "description", et->doc);
	jw_open(&c->w, "enum", '[');
	for (uint32_t i = et->first; i < (uint32_t)et->first + et->count; i++) {
		const char *text = c->s->values[i].text;

		jw_str(&c->w, NULL, text);
		/* `min_version: 1.2` unquoted is a number to the editor. */
		if (is_json_scalar(text))
			jw_raw(&c->w, NULL, text);
	}
	jw_close(&c->w, ']');
	jw_close(&c->w, '}');
}

/* The properties of a variant's struct, by reference to its definition. */
static void
variant_properties(struct ctx *c, const struct mcpg_type *vt)
{
	for (uint32_t i = vt->first; i < (uint32_t)vt->first + vt->count; i++) {
		const char *name = c->s->fields[i].name;

		jw_open(&c->w, name, '{');
		jw_str(&c->w, "$ref", mcc_printf("#/definitions/%s/properties/%s", vt->name, name));
		jw_close(&c->w, '}');
	}
}

static void
union_def(struct ctx *c, uint32_t t)
{
	const struct mcpg_type *ut = ty(c, t);
	const struct mcpg_union_info *ui = mcpg_schema_union(c->s, (uint16_t)t);
	const char *tag = ui && ui->tag_key ? ui->tag_key : "kind";
	const char *nest = ui ? ui->nest_key : NULL;
	int complete = !c->merged[t];

	jw_open(&c->w, ut->name, '{');
	if (ut->doc)
		jw_str(&c->w, "description", ut->doc);
	jw_str(&c->w, "type", "object");
	jw_open(&c->w, "required", '[');
	jw_str(&c->w, NULL, tag);
	jw_close(&c->w, ']');
	/* For completion: the tag's values and the nest key, before a variant is picked. */
	jw_open(&c->w, "properties", '{');
	jw_open(&c->w, tag, '{');
	jw_str(&c->w, "description", mcc_printf("Selects the kind of %s.", ut->name));
	jw_open(&c->w, "enum", '[');
	for (uint32_t i = ut->first; i < (uint32_t)ut->first + ut->count; i++)
		jw_str(&c->w, NULL, c->s->variants[i].text);
	jw_close(&c->w, ']');
	jw_close(&c->w, '}');
	if (nest) {
		jw_open(&c->w, nest, '{');
		jw_str(&c->w, "description", mcc_printf("The settings of the selected %s.", tag));
		jw_str(&c->w, "type", "object");
		jw_close(&c->w, '}');
	}
	jw_close(&c->w, '}');

	jw_open(&c->w, "oneOf", '[');
	for (uint32_t i = ut->first; i < (uint32_t)ut->first + ut->count; i++) {
		const struct mcpg_variant *v = &c->s->variants[i];
		const struct mcpg_type *vt = v->type ? ty(c, v->type) : NULL;

		jw_open(&c->w, NULL, '{');
		if (v->doc)
			jw_str(&c->w, "description", v->doc);
		jw_open(&c->w, "properties", '{');
		jw_open(&c->w, tag, '{');
		jw_str(&c->w, "const", v->text);
		jw_close(&c->w, '}');
		if (nest) {
			jw_open(&c->w, nest, '{');
			jw_str(&c->w, "type", "object");
			jw_open(&c->w, "properties", '{');
			if (vt)
				variant_properties(c, vt);
			jw_close(&c->w, '}');
			if (complete)
				required_list(c, vt, NULL);
			jw_raw(&c->w, "additionalProperties", "false");
			jw_close(&c->w, '}');
		} else if (vt) {
			variant_properties(c, vt);
		}
		jw_close(&c->w, '}');
		required_list(c, complete && !nest ? vt : NULL, tag);
		jw_raw(&c->w, "additionalProperties", "false");
		jw_close(&c->w, '}');
	}
	jw_close(&c->w, ']');
	jw_close(&c->w, '}');
}

void
mcc_emit_json_schema(struct mcc_out *o, const struct mcpg_schema *s, const char *schema_path)
{
	struct ctx c = { .w = { .o = o }, .s = s };
	const struct mcpg_type *root = s->root < s->ntypes ? mcc_type(s, s->root) : NULL;

	c.merged = mcc_alloc(s->ntypes + 1);
	if (root)
		mark_merged(&c, s->root);

	jw_open(&c.w, NULL, '{');
	jw_str(&c.w, "$comment", mcc_printf(MCC_GEN_BANNER, schema_path));
	jw_str(&c.w, "$schema", "http://json-schema.org/draft-07/schema#");
	jw_str(&c.w, "title", "mcpg configuration");
	if (root && root->doc)
		jw_str(&c.w, "description", root->doc);
	if (root) {
		jw_open(&c.w, "allOf", '[');
		jw_open(&c.w, NULL, '{');
		jw_str(&c.w, "$ref", mcc_printf("#/definitions/%s", root->name));
		jw_close(&c.w, '}');
		jw_close(&c.w, ']');
	}
	jw_open(&c.w, "definitions", '{');
	for (uint32_t t = 0; t < s->ntypes; t++) {
		switch (mcc_type(s, t)->kind) {
		case MCPG_K_STRUCT: struct_def(&c, t); break;
		case MCPG_K_UNION: union_def(&c, t); break;
		case MCPG_K_ENUM: enum_def(&c, t); break;
		default: break;
		}
	}
	jw_close(&c.w, '}');
	jw_close(&c.w, '}');
	mcc_out_putc(o, '\n');
}
