/*
 * explain.c - `mcpgc explain KEY` (see explain.h).
 *
 * The key is resolved one segment at a time, walking the schema's types and
 * the merged tree side by side.  Where the tree has no value, the walk
 * follows the default of the nearest field that has one (a list default
 * such as observability.logs.sinks holds whole records), so the effective
 * value of a key below it can still be shown.  Unions follow validate.c's
 * layout: the tag key, then the variant's keys beside it or under nest_key.
 * Then one printer per kind of position: a leaf, a struct, a union, a tag.
 */
#include "explain.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "dump.h"
#include "interp.h"
#include "validate.h"

/* Collections longer than this are cut in value lines. */
#define SUMMARY_MAX 200
/* Output width, and the column where values start after a label. */
#define WIDTH 79
#define LABEL 15

struct ex {
	const struct mcpg_schema *s;
	struct mcc_diag *d;
	FILE *out;
};

/* Where the walk stands after some segments of the key. */
struct pos {
	uint16_t type;                /* declared type here (optional wrappers kept) */
	const struct mcpg_field *f;   /* the field that declares this slot; NULL at root */
	int elem;                     /* an element of f's list or map, not f itself */
	const char *path;             /* the key so far, normalised */
	const struct mcc_node *node;  /* the tree's value; NULL when not set */
	const struct mcc_node *dnode; /* the value inside a default, when node is NULL */
	const char *dfrom;            /* the key whose default dnode belongs to */
	int schema_only;              /* went through [] */
	const char *missing;          /* why node is NULL, besides "not set" */
	/* At a union: */
	int in_body;                  /* stepped into its nest_key */
	const struct mcc_node *unode; /* the union's mapping in the tree, and in a default */
	const struct mcc_node *udnode;
	const char *upath;            /* the union's key */
	/* After a variant key: */
	const char *variant;          /* "kind: redis", or the variants that have the key */
	const char *not_applicable;   /* the tree selects a variant without the key */
	/* At a union's tag key: */
	int is_tag;
	uint16_t tag_union;
};

static const char *const format_names[MCPG_FMT__COUNT] = {
	"", "socket_addr", "url", "abs_path", "file_path", "cidr", "host",
};

static const struct mcpg_type *
T(const struct ex *x, uint16_t type)
{
	return &x->s->types[type];
}

/* The type below an optional wrapper. */
static uint16_t
unwrap(const struct ex *x, uint16_t type)
{
	return T(x, type)->kind == MCPG_K_OPTIONAL ? T(x, type)->elem : type;
}

static const struct mcc_node *
child(const struct mcc_node *n, const char *key)
{
	return n && n->kind == MCC_N_MAP ? mcc_node_get(n, key) : NULL;
}

static int
is_set(const struct mcc_node *n)
{
	return n && !mcc_node_is_null(n);
}

/* ---- Text pieces ----------------------------------------------------------- */

static const char *
roots_text(unsigned roots)
{
	const char *s = "";

	if (!roots)
		roots = MCPG_ROOT_ENV;
	if (roots & MCPG_ROOT_ENV)
		s = "env";
	if (roots & MCPG_ROOT_ARGUMENTS)
		s = mcc_printf("%s%sarguments", s, *s ? ", " : "");
	if (roots & MCPG_ROOT_IDENTITY)
		s = mcc_printf("%s%sidentity", s, *s ? ", " : "");
	return s;
}

static const char *
choices(const struct ex *x, const struct mcpg_type *t)
{
	const char *s = "";

	for (uint16_t i = 0; i < t->count; i++) {
		const char *v = t->kind == MCPG_K_ENUM ? x->s->values[t->first + i].text
						       : x->s->variants[t->first + i].text;

		s = mcc_printf("%s%s%s", s, i ? " | " : "", v);
	}
	return s;
}

/* "string (format url)", "list of tool", "enum: fail_closed | fail_open". */
static const char *
phrase(const struct ex *x, uint16_t type, const struct mcpg_field *f, int top)
{
	const struct mcpg_type *t = T(x, type);
	const char *fmt = "";

	if (f && f->format && f->format < MCPG_FMT__COUNT)
		fmt = mcc_printf(" (format %s)", format_names[f->format]);
	switch (t->kind) {
	case MCPG_K_BOOL:
		return "boolean";
	case MCPG_K_INT:
		return "integer";
	case MCPG_K_UINT:
		return "non-negative integer";
	case MCPG_K_STRING:
		return mcc_printf("string%s", fmt);
	case MCPG_K_JSON:
		return "JSON value";
	case MCPG_K_TEMPLATE:
		return mcc_printf("template over %s%s", roots_text(f ? f->roots : 0), fmt);
	case MCPG_K_EXPR:
		return mcc_printf("expression over %s",
				  roots_text(f && f->roots ? f->roots : MCPG_ROOT_IDENTITY));
	case MCPG_K_ENUM:
		return mcc_printf("enum: %s", choices(x, t));
	case MCPG_K_STRUCT:
		return top ? mcc_printf("struct %s", t->name) : t->name;
	case MCPG_K_UNION: {
		const struct mcpg_union_info *u = mcpg_schema_union(x->s, type);

		return mcc_printf("union %s (%s: %s)", t->name, u ? u->tag_key : "kind",
				  choices(x, t));
	}
	case MCPG_K_LIST:
		return mcc_printf("list of %s", phrase(x, t->elem, f, 0));
	case MCPG_K_MAP:
		return mcc_printf("map of string to %s", phrase(x, t->elem, f, 0));
	case MCPG_K_OPTIONAL:
		if (top)
			return mcc_printf("%s, optional", phrase(x, t->elem, f, 1));
		return mcc_printf("optional %s", phrase(x, t->elem, f, 0));
	}
	return t->name;
}

static const char *
flags_text(const struct mcpg_field *f)
{
	const char *s = "";

	if (f->flags & MCPG_F_REQUIRED)
		s = "required";
	if (f->flags & MCPG_F_SENSITIVE)
		s = mcc_printf("%s%ssensitive", s, *s ? ", " : "");
	if (f->flags & MCPG_F_RESTART)
		s = mcc_printf("%s%srestart", s, *s ? ", " : "");
	if (f->flags & MCPG_F_DEPRECATED)
		s = mcc_printf("%s%sdeprecated%s%s", s, *s ? ", " : "",
			       f->deprecated ? ": " : "", f->deprecated ? f->deprecated : "");
	return s;
}

static const char *
bound(int64_t v, int64_t none)
{
	return v == none ? "" : mcc_printf("%" PRId64, v);
}

/* `elem`: for one element of f's list or map, without the list's own. */
static const char *
constraints_text(const struct ex *x, const struct mcpg_field *f, int elem)
{
	uint16_t leaf = f->type;
	const char *s = "";

	/* The range of a list of numbers applies to each; of strings, to lengths. */
	while (T(x, leaf)->elem && T(x, leaf)->kind != MCPG_K_STRUCT)
		leaf = T(x, leaf)->elem;
	if (f->flags & MCPG_F_HAS_RANGE)
		s = mcc_printf("%s %s..%s",
			       T(x, leaf)->kind == MCPG_K_STRING ? "length" : "range",
			       bound(f->min, INT64_MIN), bound(f->max, INT64_MAX));
	if ((f->flags & MCPG_F_HAS_ITEMS) && !elem)
		s = mcc_printf("%s%sitems %u..%s", s, *s ? ", " : "", f->items_min,
			       f->items_max ? mcc_printf("%u", f->items_max) : "");
	if (f->flags & MCPG_F_NONEMPTY)
		s = mcc_printf("%s%snon-empty", s, *s ? ", " : "");
	if (f->flags & MCPG_F_LITERAL)
		s = mcc_printf("%s%sno ${...} references", s, *s ? ", " : "");
	if (f->pattern)
		s = mcc_printf("%s%spattern %s", s, *s ? ", " : "", f->pattern);
	if (f->schemes)
		s = mcc_printf("%s%sschemes %s", s, *s ? ", " : "", f->schemes);
	if ((f->flags & MCPG_F_UNIQUE) && !elem)
		s = mcc_printf("%s%sunique%s%s", s, *s ? ", " : "",
			       f->unique_field ? " by " : "",
			       f->unique_field ? f->unique_field : "");
	return s;
}

/* ---- Values ---------------------------------------------------------------- */

/* Whether a string scalar holds ${...} references (which are no secret). */
static int
holds_refs(const struct mcc_node *n)
{
	struct mcc_diag quiet;
	struct mcc_segs segs = { 0 };
	int r;

	if (n->kind != MCC_N_SCALAR || !mcc_interp_needs_parse(n->text, n->len))
		return 0;
	mcc_diag_init(&quiet, NULL, MCC_DIAG_TEXT);
	r = !mcc_interp_parse(n->text, n->len,
			      MCPG_ROOT_ENV | MCPG_ROOT_ARGUMENTS | MCPG_ROOT_IDENTITY, NULL,
			      n->loc, &quiet, &segs) &&
	    mcc_interp_has_refs(&segs);
	mcc_diag_release(&quiet);
	return r;
}

/* A mapping key that YAML reads back as the same string without quotes. */
static int
plain_key(const struct mcc_node *k)
{
	if (!k->len || mcc_plain_type(k->text, k->len) != MCC_T_STR)
		return 0;
	for (size_t i = 0; i < k->len; i++) {
		unsigned char c = (unsigned char)k->text[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && !strchr("_-./", c))
			return 0;
	}
	return 1;
}

/* `n` as YAML flow; stops early once past SUMMARY_MAX bytes. */
static void
flow(FILE *o, const struct mcc_node *n, int secret)
{
	switch (n->kind) {
	case MCC_N_NULL:
		fputs("null", o);
		break;
	case MCC_N_SCALAR:
		if (secret && !holds_refs(n))
			fputs("<redacted>", o);
		else if (n->type == MCC_T_STR)
			mcc_dump_quoted(o, n->text, n->len);
		else
			fwrite(n->text, 1, n->len, o);
		break;
	case MCC_N_SEQ:
		putc('[', o);
		for (size_t i = 0; i < n->nr && ftell(o) <= SUMMARY_MAX; i++) {
			if (i)
				fputs(", ", o);
			flow(o, n->items[i], secret);
		}
		putc(']', o);
		break;
	case MCC_N_MAP:
		putc('{', o);
		for (size_t i = 0; i < n->nr && ftell(o) <= SUMMARY_MAX; i++) {
			const struct mcc_node *k = n->pairs[i].key;

			if (i)
				fputs(", ", o);
			if (plain_key(k))
				fwrite(k->text, 1, k->len, o);
			else
				mcc_dump_quoted(o, k->text, k->len);
			fputs(": ", o);
			flow(o, n->pairs[i].value, secret);
		}
		putc('}', o);
		break;
	}
}

/* The one-line summary of a value, in the arena. */
static const char *
summary(const struct mcc_node *n, int secret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	const char *r;

	if (!o)
		return "?";
	flow(o, n, secret);
	fclose(o);
	if (len > SUMMARY_MAX) {
		size_t cut = SUMMARY_MAX - 3;

		/* Do not cut a UTF-8 sequence in two. */
		while (cut && ((unsigned char)buf[cut] & 0xc0) == 0x80)
			cut--;
		r = mcc_printf("%.*s...", (int)cut, buf);
	} else {
		r = mcc_strdup(buf);
	}
	free(buf);
	return r;
}

/* Compact JSON (a default) as dump writes it, in the arena. */
static const char *
json_text(const char *json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	const char *r;

	if (!o)
		return json;
	mcc_dump_json_text(o, json);
	fclose(o);
	r = mcc_strdup(buf);
	free(buf);
	return r;
}

static const char *
where(const struct mcc_node *n)
{
	const struct mcc_loc *l = &n->loc;

	if (!l->file)
		return "an unknown place";
	if (l->line <= 0)
		return l->file;
	if (l->col <= 0)
		return mcc_printf("%s:%d", l->file, l->line);
	return mcc_printf("%s:%d:%d", l->file, l->line, l->col);
}

/* ---- Output lines ---------------------------------------------------------- */

/* "  label:      text"; a NULL label continues the previous one. */
static void
line(struct ex *x, const char *label, const char *text)
{
	fprintf(x->out, "  %-*s%s\n", LABEL - 2, label ? label : "", text);
}

/* Text wrapped at word boundaries into the value column. */
static void
wrapped(struct ex *x, const char *label, const char *text)
{
	size_t room = WIDTH - LABEL;

	while (*text == ' ')
		text++;
	while (*text) {
		size_t n = strlen(text);

		if (n > room) {
			size_t cut = room;

			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (cut == 0) /* one long word: break at the next space */
				cut = strcspn(text, " ");
			n = cut;
		}
		line(x, label, mcc_strndup(text, n));
		label = NULL;
		text += n;
		while (*text == ' ')
			text++;
	}
}

/* The first sentence of a doc string, cut to `room` bytes. */
static const char *
brief(const char *doc, size_t room)
{
	const char *dot;
	size_t n;

	if (!doc)
		return "";
	dot = strstr(doc, ". ");
	n = dot ? (size_t)(dot - doc) + 1 : strlen(doc);
	if (n <= room)
		return mcc_strndup(doc, n);
	n = room > 3 ? room - 3 : 0;
	while (n > 0 && doc[n] != ' ')
		n--;
	return mcc_printf("%.*s...", (int)n, doc);
}

/* Keys (or variants) one per line: "    name   first sentence of doc". */
static void
key_list(struct ex *x, const char *const *names, const char *const *docs, size_t nr,
	 int mark)
{
	size_t w = 0;

	for (size_t i = 0; i < nr; i++)
		if (strlen(names[i]) > w)
			w = strlen(names[i]);
	for (size_t i = 0; i < nr; i++) {
		size_t room = WIDTH > 6 + w ? WIDTH - 6 - w : 20;

		const char *b = brief(docs[i], room);

		if (*b)
			fprintf(x->out, "  %s %-*s  %s\n", mark == (int)i ? "*" : " ", (int)w,
				names[i], b);
		else
			fprintf(x->out, "  %s %s\n", mark == (int)i ? "*" : " ", names[i]);
	}
}

/* The struct's keys, one per line. */
static void
struct_keys(struct ex *x, uint16_t type)
{
	const struct mcpg_type *t = T(x, type);
	const char **names = mcc_alloc((t->count + 1) * sizeof(*names));
	const char **docs = mcc_alloc((t->count + 1) * sizeof(*docs));

	for (uint16_t i = 0; i < t->count; i++) {
		names[i] = x->s->fields[t->first + i].name;
		docs[i] = x->s->fields[t->first + i].doc;
	}
	if (!t->count)
		fputs("    (none)\n", x->out);
	key_list(x, names, docs, t->count, -1);
}

/* ---- The value section ------------------------------------------------------ */

static void
provenance(struct ex *x, const struct mcc_node *n, int secret)
{
	line(x, NULL, mcc_printf("set at %s (layer %d: %s)", where(n), n->layer + 1,
				 n->loc.file ? n->loc.file : "?"));
	for (const struct mcc_node *o = n->overrode; o; o = o->overrode)
		line(x, NULL, mcc_printf("overrode %s at %s", summary(o, secret), where(o)));
}

/* "value:" and what follows, for a position whose value is `p->node`. */
static void
value_section(struct ex *x, const struct pos *p, int secret)
{
	const struct mcc_node *n = p->node;
	const char *dflt;

	if (p->schema_only)
		return;
	if (p->not_applicable) {
		line(x, "value:", mcc_printf("not applicable: %s", p->not_applicable));
		return;
	}
	if (n && (is_set(n) || T(x, unwrap(x, p->type))->kind == MCPG_K_JSON)) {
		line(x, "value:", summary(n, secret));
		provenance(x, n, secret);
		return;
	}
	if (!p->dnode)
		dflt = "no default";
	else if (p->dfrom && strcmp(p->dfrom, p->path))
		dflt = mcc_printf("default %s (from the default of '%s')",
				  summary(p->dnode, secret), p->dfrom);
	else
		dflt = mcc_printf("default %s", summary(p->dnode, secret));
	if (n) {
		/* `key: null` in a layer resets the key to its default. */
		line(x, "value:", p->dnode ? mcc_printf("null: reset to the %s", dflt)
					   : "null: reset; there is no default, so it is left out");
		provenance(x, n, secret);
	} else if (p->missing) {
		line(x, "value:", mcc_printf("not set (%s); %s", p->missing, dflt));
	} else {
		line(x, "value:", mcc_printf("not set; %s", dflt));
	}
}

/* ---- Printers ------------------------------------------------------------- */

static void
field_lines(struct ex *x, const struct pos *p, int show_default)
{
	const struct mcpg_field *f = p->f;
	const char *s;

	if (!f)
		return;
	if (*(s = flags_text(f)))
		line(x, "flags:", p->elem ? mcc_printf("%s (of '%s')", s, f->name) : s);
	if (show_default)
		line(x, "default:", f->dflt ? json_text(f->dflt) : "none");
	if (*(s = constraints_text(x, f, p->elem)))
		wrapped(x, "constraints:", s);
}

static const char *
doc_of(const struct ex *x, const struct pos *p, uint16_t type)
{
	if (p->f && p->f->doc && !p->elem)
		return p->f->doc;
	if (T(x, type)->doc)
		return T(x, type)->doc;
	return p->f && p->f->doc ? p->f->doc : "";
}

static void
print_leaf(struct ex *x, const struct pos *p)
{
	int secret = p->f && (p->f->flags & MCPG_F_SENSITIVE);

	if (p->variant)
		line(x, "variant:", p->variant);
	wrapped(x, "type:", phrase(x, p->type, p->f, 1));
	field_lines(x, p, !p->elem);
	wrapped(x, "doc:", doc_of(x, p, p->type));
	value_section(x, p, secret);
}

static void
print_struct(struct ex *x, const struct pos *p)
{
	uint16_t type = unwrap(x, p->type);

	if (p->variant)
		line(x, "variant:", p->variant);
	wrapped(x, "type:", phrase(x, p->type, p->f, 1));
	field_lines(x, p, 0);
	wrapped(x, "doc:", doc_of(x, p, type));
	/* Only an optional record can be absent; an inline one always exists. */
	if (T(x, p->type)->kind == MCPG_K_OPTIONAL && !p->schema_only) {
		if (is_set(p->node))
			line(x, "value:", mcc_printf("set at %s (layer %d: %s)", where(p->node),
						     p->node->layer + 1, p->node->loc.file));
		else
			line(x, "value:", p->dnode ? "not set; present in the default"
						   : "not set; absent");
	}
	fputs("  keys:\n", x->out);
	struct_keys(x, type);
}

/* The variant the tree (or a default) selects for union `utype`, or -1. */
static int
selected(const struct ex *x, uint16_t utype, const struct mcc_node *un)
{
	const struct mcpg_type *t = T(x, utype);
	const struct mcpg_union_info *u = mcpg_schema_union(x->s, utype);
	const struct mcc_node *tag = u ? child(un, u->tag_key) : NULL;

	if (!tag || tag->kind != MCC_N_SCALAR)
		return -1;
	for (uint16_t i = 0; i < t->count; i++)
		if (!strcmp(x->s->variants[t->first + i].text, tag->text))
			return i;
	return -1;
}

static int
selected_at(const struct ex *x, uint16_t utype, const struct pos *p)
{
	if (p->unode)
		return selected(x, utype, p->unode);
	return selected(x, utype, p->udnode);
}

static void
print_union(struct ex *x, const struct pos *p)
{
	uint16_t type = unwrap(x, p->type);
	const struct mcpg_type *t = T(x, type);
	const struct mcpg_union_info *u = mcpg_schema_union(x->s, type);
	const char **names = mcc_alloc((t->count + 1) * sizeof(*names));
	const char **docs = mcc_alloc((t->count + 1) * sizeof(*docs));
	const struct mcc_node *un = p->in_body ? p->unode : p->node;
	const struct mcc_node *udn = p->in_body ? p->udnode : p->dnode;
	int sel = selected(x, type, un ? un : udn);

	wrapped(x, "type:", phrase(x, p->type, p->f, 1));
	if (p->in_body)
		line(x, "holds:", mcc_printf("the keys of the variant that '%s.%s' selects",
					     p->upath, u->tag_key));
	field_lines(x, p, 0);
	wrapped(x, "doc:", doc_of(x, p, type));
	if (!p->schema_only) {
		const struct mcc_node *tag = child(un, u->tag_key);

		if (is_set(tag))
			line(x, "value:", mcc_printf("%s %s, set at %s (layer %d: %s)", u->tag_key,
						     summary(tag, 0), where(tag), tag->layer + 1,
						     tag->loc.file));
		else if (sel >= 0 && p->dfrom && strcmp(p->dfrom, p->path))
			line(x, "value:", mcc_printf("not set; default %s %s (from the default "
						     "of '%s')", u->tag_key,
						     x->s->variants[t->first + sel].text, p->dfrom));
		else if (sel >= 0)
			line(x, "value:", mcc_printf("not set; default %s %s", u->tag_key,
						     x->s->variants[t->first + sel].text));
		else
			line(x, "value:", "not set; no default");
	}
	for (uint16_t i = 0; i < t->count; i++) {
		names[i] = x->s->variants[t->first + i].text;
		docs[i] = x->s->variants[t->first + i].doc;
	}
	fprintf(x->out, "  variants:%s\n", sel >= 0 ? " (* selected)" : "");
	key_list(x, names, docs, t->count, sel);
	if (sel >= 0 && x->s->variants[t->first + sel].type) {
		const char *under = u->nest_key && !p->in_body
					    ? mcc_printf(", under '%s'", u->nest_key) : "";

		fprintf(x->out, "  keys of %s%s:\n", names[sel], under);
		struct_keys(x, x->s->variants[t->first + sel].type);
	}
}

static void
print_tag(struct ex *x, const struct pos *p)
{
	const struct mcpg_type *t = T(x, p->tag_union);

	wrapped(x, "type:", mcc_printf("string: %s (selects the variant)", choices(x, t)));
	line(x, "flags:", "required when the union is set");
	wrapped(x, "doc:", t->doc ? t->doc : "");
	value_section(x, p, 0);
}

/* ---- Resolving the key ------------------------------------------------------ */

static int
unknown(struct ex *x, const struct pos *p, const char *name, const char *const *cands,
	size_t n)
{
	const char *near = mcc_closest(name, cands, n);

	if (near && *p->path)
		mcc_error(x->d, MCC_NOLOC, "unknown key '%s' in '%s' (did you mean '%s'?)", name,
			  p->path, near);
	else if (near)
		mcc_error(x->d, MCC_NOLOC, "unknown key '%s' (did you mean '%s'?)", name, near);
	else if (*p->path)
		mcc_error(x->d, MCC_NOLOC, "unknown key '%s' in '%s'", name, p->path);
	else
		mcc_error(x->d, MCC_NOLOC, "unknown key '%s'", name);
	return -1;
}

/* Step into field `f` of the struct at `p`. */
static void
enter_field(struct ex *x, struct pos *p, const struct mcpg_field *f)
{
	p->path = mcc_path_key(p->path, f->name);
	p->node = child(p->node, f->name);
	p->dnode = p->node ? NULL : child(p->dnode, f->name);
	if (p->node)
		p->dfrom = NULL;
	if (!is_set(p->node) && !p->dnode && f->dflt) {
		p->dnode = mcc_field_default(x->s, f);
		p->dfrom = p->path;
	}
	p->type = f->type;
	p->f = f;
	p->elem = 0;
	p->in_body = 0;
	p->upath = NULL;
	p->unode = p->udnode = NULL;
	p->variant = p->not_applicable = NULL;
}

/* Field names of struct `type` appended to cands[*n]. */
static void
add_names(const struct ex *x, uint16_t type, const char **cands, size_t *n)
{
	const struct mcpg_type *t = T(x, type);

	for (uint16_t i = 0; i < t->count; i++)
		cands[(*n)++] = x->s->fields[t->first + i].name;
}

/* A key among the variants' keys of union `utype` (beside the tag or in the body). */
static int
variant_key(struct ex *x, struct pos *p, uint16_t utype, const char *name)
{
	const struct mcpg_type *t = T(x, utype);
	const struct mcpg_union_info *u = mcpg_schema_union(x->s, utype);
	int sel = selected_at(x, utype, p);
	const struct mcpg_variant *sv = sel >= 0 ? &x->s->variants[t->first + sel] : NULL;
	const struct mcpg_field *f = NULL;
	const char *list = "";

	if (sv && sv->type)
		f = mcc_schema_field(x->s, sv->type, name, strlen(name));
	if (f) {
		const char *variant = mcc_printf("%s: %s", u->tag_key, sv->text);

		enter_field(x, p, f);
		p->variant = variant;
		return 0;
	}
	for (uint16_t i = 0; i < t->count; i++) {
		const struct mcpg_variant *v = &x->s->variants[t->first + i];
		const struct mcpg_field *g = v->type ? mcc_schema_field(x->s, v->type, name,
									 strlen(name))
						     : NULL;

		if (!g)
			continue;
		if (!f)
			f = g;
		list = mcc_printf("%s%s%s", list, *list ? ", " : "", v->text);
	}
	if (!f) {
		size_t total = 2, n = 0;
		const char **cands;

		for (uint16_t i = 0; i < t->count; i++)
			if (x->s->variants[t->first + i].type)
				total += T(x, x->s->variants[t->first + i].type)->count;
		cands = mcc_alloc(total * sizeof(*cands));
		if (!u->nest_key)
			cands[n++] = u->tag_key;
		for (uint16_t i = 0; i < t->count; i++) {
			const struct mcpg_variant *v = &x->s->variants[t->first + i];

			if (v->type && (!sv || v == sv))
				add_names(x, v->type, cands, &n);
		}
		return unknown(x, p, name, cands, n);
	}

	const char *tagkey = mcc_printf("%s.%s", p->upath, u->tag_key);
	const char *variant, *na = NULL;

	if (sv) {
		variant = mcc_printf("%s: %s (not the selected %s)", u->tag_key, list, sv->text);
		na = mcc_printf("'%s' is '%s', which has no '%s'", tagkey, sv->text, name);
	} else {
		variant = mcc_printf("%s: %s ('%s' is not set)", u->tag_key, list, tagkey);
	}
	enter_field(x, p, f);
	p->variant = variant;
	if (na) {
		p->not_applicable = na;
		p->node = p->dnode = NULL;
	}
	return 0;
}

static int
step_name(struct ex *x, struct pos *p, const char *name)
{
	uint16_t type = unwrap(x, p->type);
	const struct mcpg_type *t = T(x, type);
	const struct mcpg_field *f;

	if (p->is_tag) {
		mcc_error(x->d, MCC_NOLOC, "'%s' is a string and has no key '%s'", p->path, name);
		return -1;
	}
	switch (t->kind) {
	case MCPG_K_STRUCT: {
		const char **cands;
		size_t n = 0;

		f = mcc_schema_field(x->s, type, name, strlen(name));
		if (f) {
			enter_field(x, p, f);
			return 0;
		}
		cands = mcc_alloc((t->count + 1) * sizeof(*cands));
		add_names(x, type, cands, &n);
		return unknown(x, p, name, cands, n);
	}
	case MCPG_K_UNION: {
		const struct mcpg_union_info *u = mcpg_schema_union(x->s, type);

		if (!p->in_body) {
			if (!p->upath) {
				p->upath = p->path;
				p->unode = p->node;
				p->udnode = p->dnode;
			}
			if (!strcmp(name, u->tag_key)) {
				p->is_tag = 1;
				p->tag_union = type;
				p->path = mcc_path_key(p->path, name);
				p->node = child(p->unode, name);
				p->dnode = p->node ? NULL : child(p->udnode, name);
				p->f = NULL;
				return 0;
			}
			if (u->nest_key && !strcmp(name, u->nest_key)) {
				p->in_body = 1;
				p->path = mcc_path_key(p->path, name);
				p->node = child(p->unode, name);
				p->dnode = p->node ? NULL : child(p->udnode, name);
				return 0;
			}
			if (u->nest_key) {
				const char *cands[2] = { u->tag_key, u->nest_key };

				for (uint16_t i = 0; i < t->count; i++) {
					uint16_t vt = x->s->variants[t->first + i].type;

					if (vt && mcc_schema_field(x->s, vt, name, strlen(name))) {
						mcc_error(x->d, MCC_NOLOC,
							  "unknown key '%s' in '%s' (did you mean "
							  "'%s.%s'?)", name, p->path, u->nest_key,
							  name);
						return -1;
					}
				}
				return unknown(x, p, name, cands, 2);
			}
		}
		return variant_key(x, p, type, name);
	}
	case MCPG_K_MAP:
		p->path = mcc_path_key(p->path, name);
		p->node = child(p->node, name);
		p->dnode = p->node ? NULL : child(p->dnode, name);
		p->type = t->elem;
		p->elem = 1;
		return 0;
	case MCPG_K_LIST:
		mcc_error(x->d, MCC_NOLOC, "'%s' is a list: use '%s[N].%s' or '%s[].%s'", p->path,
			  p->path, name, p->path, name);
		return -1;
	default:
		mcc_error(x->d, MCC_NOLOC, "'%s' is %s and has no key '%s'", p->path,
			  mcc_type_phrase(x->s, type), name);
		return -1;
	}
}

/* [index], or [] when `any`. */
static int
step_index(struct ex *x, struct pos *p, unsigned long long index, int any)
{
	uint16_t type = unwrap(x, p->type);
	const struct mcpg_type *t = T(x, type);
	const struct mcc_node *n = p->node, *dn = p->dnode;
	const char *lpath = p->path;

	if (p->is_tag || t->kind != MCPG_K_LIST) {
		if (*p->path)
			mcc_error(x->d, MCC_NOLOC, "'%s' is not a list", p->path);
		else
			mcc_error(x->d, MCC_NOLOC, "the config is a mapping, not a list");
		return -1;
	}
	p->type = t->elem;
	p->elem = 1;
	p->in_body = 0;
	p->upath = NULL;
	p->unode = p->udnode = NULL;
	p->variant = NULL;
	if (any) {
		p->path = mcc_printf("%s[]", p->path);
		p->schema_only = 1;
		p->node = p->dnode = NULL;
		return 0;
	}
	p->path = mcc_path_index(p->path, (size_t)index);
	p->node = n && n->kind == MCC_N_SEQ && index < n->nr ? n->items[index] : NULL;
	p->dnode = !p->node && dn && dn->kind == MCC_N_SEQ && index < dn->nr ? dn->items[index]
									    : NULL;
	if (!p->node && n && n->kind == MCC_N_SEQ)
		p->missing = mcc_printf("'%s' has %zu item%s", lpath, n->nr,
					n->nr == 1 ? "" : "s");
	return 0;
}

static int
malformed(struct ex *x, const char *key)
{
	mcc_error(x->d, MCC_NOLOC, "malformed key '%s'", key);
	return -1;
}

int
mcc_explain(const struct mcpg_schema *s, const struct mcc_node *tree, const char *key,
	    FILE *out, struct mcc_diag *d)
{
	struct ex x = { s, d, out };
	struct pos p = { .type = s->root, .path = "", .node = tree };
	const char *k = key;

	if (!*k)
		return malformed(&x, key);
	while (*k) {
		if (*k == '[') {
			unsigned long long i = 0;
			int any = k[1] == ']';
			char *end = (char *)k + 1;

			if (!any) {
				if (k[1] < '0' || k[1] > '9')
					return malformed(&x, key);
				i = strtoull(k + 1, &end, 10);
				if (*end != ']')
					return malformed(&x, key);
			}
			k = end + 1;
			if (*k == '.') {
				k++;
				if (!*k || *k == '.' || *k == '[')
					return malformed(&x, key);
			} else if (*k && *k != '[') {
				return malformed(&x, key);
			}
			if (step_index(&x, &p, i, any))
				return -1;
			continue;
		}
		size_t len = strcspn(k, ".[");

		if (!len)
			return malformed(&x, key);
		const char *name = mcc_strndup(k, len);

		k += len;
		if (*k == '.') {
			k++;
			if (!*k || *k == '.' || *k == '[')
				return malformed(&x, key);
		}
		if (step_name(&x, &p, name))
			return -1;
	}

	fprintf(out, "%s\n", p.path);
	if (p.is_tag) {
		print_tag(&x, &p);
		return 0;
	}
	switch (T(&x, unwrap(&x, p.type))->kind) {
	case MCPG_K_STRUCT:
		print_struct(&x, &p);
		break;
	case MCPG_K_UNION:
		print_union(&x, &p);
		break;
	default:
		print_leaf(&x, &p);
		break;
	}
	return 0;
}
