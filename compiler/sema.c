/*
 * sema.c - the schema DSL's semantic phase: checks, type resolution, record
 * layout and the schema hash.
 *
 * Pipeline: lex.re -> parse.y (grammar actions call the tree builders at
 * the top of this file) -> mcc_sema_resolve(), which runs once the whole
 * file has parsed without error and turns the tree into the descriptor
 * tables of runtime/schema_desc.h:
 *
 *   1. declare: give every enum, struct and union a type index (schema
 *      order, after the none entry and the primitives); duplicate names,
 *      root and rule declarations
 *   2. members: enum values, union variants and struct fields, in schema
 *      order; field types are resolved here, so derived types ([T], {T},
 *      T?) get their indices in order of first use; attributes and defaults
 *   3. layout: record offsets and sizes, cycles through inline structs
 *   4. root, table limits, then the tables and their hash
 *
 * Every error is reported with its place and checking goes on; the result
 * is NULL when anything was reported.
 *
 * LAYOUT (runtime/image_format.h has the slot table)
 *
 *   slot              size align
 *   bool, enum           1     1
 *   int, uint            8     8
 *   string, json,        4     4   u32 strref; template, expr: u32 index+1
 *   template, expr
 *   struct           record    8   inline record
 *   union                8     4   u32 tag (0 absent, else 1 + variant), u32 ref
 *   [T], {T}             8     4   u32 ref, u32 count
 *   S? (S a struct)      4     4   u32 record ref, 0 = absent
 *   U? (U a union)       8     4   the union slot; tag 0 = absent
 *   X? (X a scalar)   as X         bool, int, uint, enum: plus a bit in the
 *                                  record's set mask; strings and the like:
 *                                  0 = absent, set_bit -1
 *
 *   A struct record starts with a u64 set mask (set_words = 1) when it has
 *   optional bool, int, uint or enum fields; their set bits are numbered in
 *   schema order.  Then come the fields with 8-byte slots, then those with
 *   4-byte slots, then 1-byte slots, each class in schema order.  Inside a
 *   class every slot size is a multiple of the alignment, so there is no
 *   padding between fields.  The record size is rounded up to 8 and a
 *   struct type's alignment is 8.
 *
 *   List elements are slots of the element type (types[].elem), one after
 *   the other with stride = roundup(elem size, elem align).
 *
 *   Map entries: u32 key strref at 0, the value slot at
 *   value_off = roundup(4, value align) (4, or 8 for 8-aligned values), and
 *   stride = roundup(value_off + value size, max(4, value align)).
 *   For example {string}: value at 4, stride 8; {int}: value at 8, stride
 *   16; {bool}: value at 4, stride 8; {S} with a 24-byte record: value at
 *   8, stride 32.
 */
#include <inttypes.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "arena.h"
#include "diag.h"
#include "schema_desc.h"
#include "sema.h"

/* ------------------------------------------------------------------------
 * Diagnostics
 */

static struct mcc_loc
loc_of(const struct mcc_pctx *ctx, const struct mcc_tok *t)
{
	struct mcc_loc l = { ctx->file, t ? t->line : 1, t ? t->col : 1 };

	return l;
}

void
mcc_sema_error(struct mcc_pctx *ctx, const struct mcc_tok *t, const char *fmt, ...)
{
	va_list ap;

	ctx->nerrors++;
	va_start(ap, fmt);
	mcc_vreport(ctx->d, MCC_SEV_ERROR, loc_of(ctx, t), fmt, ap);
	va_end(ap);
}

void
mcc_sema_note(struct mcc_pctx *ctx, const struct mcc_tok *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mcc_vreport(ctx->d, MCC_SEV_NOTE, loc_of(ctx, t), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------
 * Tree builders (grammar actions)
 */

struct mcc_str *
mcc_str_add(struct mcc_pctx *ctx, struct mcc_str *s, const struct mcc_tok *t)
{
	/* The token includes its quotes; the lexer has checked the escapes. */
	const char *p = t->s + 1, *end = t->s + t->len - 1;
	size_t need;

	(void)ctx;
	if (!s) {
		s = mcc_alloc(sizeof(*s));
		s->at = *t;
	}
	need = s->len + (size_t)(end - p) + 1;
	if (need > s->alloc) {
		size_t n = s->alloc ? s->alloc * 2 : 32;

		while (n < need)
			n *= 2;
		s->s = mcc_grow(s->s, s->alloc, n, 1);
		s->alloc = n;
	}
	while (p < end) {
		char c = *p++;

		if (c == '\\' && p < end) {
			c = *p++;
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
		}
		s->s[s->len++] = c;
	}
	s->s[s->len] = '\0';
	return s;
}

struct mcc_ident *
mcc_ident_add(struct mcc_pctx *ctx, struct mcc_ident *l, const struct mcc_tok *t)
{
	struct mcc_ident *x = mcc_alloc(sizeof(*x));

	(void)ctx;
	x->tok = *t;
	x->last = x;
	if (!l)
		return x;
	l->last->next = x;
	l->last = x;
	return l;
}

struct mcc_texpr *
mcc_texpr_name(struct mcc_pctx *ctx, const struct mcc_tok *name, int has_args,
	       struct mcc_ident *args)
{
	struct mcc_texpr *te = mcc_alloc(sizeof(*te));

	(void)ctx;
	te->kind = MCC_TE_NAME;
	te->at = *name;
	te->has_args = has_args;
	te->args = args;
	return te;
}

struct mcc_texpr *
mcc_texpr_wrap(struct mcc_pctx *ctx, enum mcc_texpr_kind kind, const struct mcc_tok *at,
	       struct mcc_texpr *sub)
{
	struct mcc_texpr *te = mcc_alloc(sizeof(*te));

	(void)ctx;
	te->kind = kind;
	te->at = *at;
	te->sub = sub;
	return te;
}

struct mcc_arg *
mcc_arg_new(struct mcc_pctx *ctx, enum mcc_arg_kind kind, const struct mcc_tok *lo,
	    const struct mcc_tok *hi, struct mcc_str *str)
{
	struct mcc_arg *a = mcc_alloc(sizeof(*a));

	(void)ctx;
	a->kind = kind;
	a->at = *lo;
	a->str = str;
	if (kind == MCC_ARG_RANGE) {
		/* An open end is passed as the '..' token: keep len 0 for it. */
		if (lo->len != 2 || memcmp(lo->s, "..", 2))
			a->lo = *lo;
		if (hi->len != 2 || memcmp(hi->s, "..", 2))
			a->hi = *hi;
	} else if (kind == MCC_ARG_INT || kind == MCC_ARG_IDENT) {
		a->lo = *lo;
	}
	return a;
}

struct mcc_arg *
mcc_arg_add(struct mcc_arg *l, struct mcc_arg *a)
{
	a->last = a;
	if (!l)
		return a;
	l->last->next = a;
	l->last = a;
	return l;
}

struct mcc_lit *
mcc_lit_new(struct mcc_pctx *ctx, enum mcc_lit_kind kind, const struct mcc_tok *at,
	    struct mcc_lit *items)
{
	struct mcc_lit *x = mcc_alloc(sizeof(*x));

	x->kind = kind;
	x->at = *at;
	x->items = items;
	if (kind == MCC_L_STR)
		x->str = mcc_str_add(ctx, NULL, at);
	return x;
}

struct mcc_lit *
mcc_lit_entry(struct mcc_pctx *ctx, const struct mcc_tok *key, int key_is_str,
	      struct mcc_lit *value)
{
	value->key = *key;
	if (key_is_str)
		value->skey = mcc_str_add(ctx, NULL, key);
	return value;
}

struct mcc_lit *
mcc_lit_add(struct mcc_lit *l, struct mcc_lit *x)
{
	x->last = x;
	if (!l)
		return x;
	l->last->next = x;
	l->last = x;
	return l;
}

struct mcc_attr *
mcc_attr_new(struct mcc_pctx *ctx, const struct mcc_tok *name, int has_args,
	     struct mcc_arg *args)
{
	struct mcc_attr *a = mcc_alloc(sizeof(*a));

	(void)ctx;
	a->name = *name;
	a->has_args = has_args;
	a->args = args;
	return a;
}

struct mcc_attr *
mcc_attr_default(struct mcc_pctx *ctx, const struct mcc_tok *eq, struct mcc_lit *lit)
{
	struct mcc_attr *a = mcc_attr_new(ctx, eq, 0, NULL);

	a->is_default = 1;
	a->lit = lit;
	return a;
}

struct mcc_attr *
mcc_attr_add(struct mcc_attr *l, struct mcc_attr *a)
{
	a->last = a;
	if (!l)
		return a;
	l->last->next = a;
	l->last = a;
	return l;
}

struct mcc_member *
mcc_member_new(struct mcc_pctx *ctx, const struct mcc_tok *name, struct mcc_str *spelling,
	       struct mcc_texpr *type, struct mcc_attr *attrs, struct mcc_str *doc)
{
	struct mcc_member *m = mcc_alloc(sizeof(*m));

	(void)ctx;
	m->name = *name;
	m->spelling = spelling;
	m->type = type;
	m->attrs = attrs;
	m->doc = doc;
	return m;
}

struct mcc_member *
mcc_member_add(struct mcc_member *l, struct mcc_member *m)
{
	if (!m) /* a member skipped by error recovery */
		return l;
	m->last = m;
	if (!l)
		return m;
	l->last->next = m;
	l->last = m;
	return l;
}

void
mcc_sema_decl(struct mcc_pctx *ctx, enum mcc_decl_kind kind, const struct mcc_tok *name,
	      const struct mcc_tok *tag, const struct mcc_tok *nest, struct mcc_str *doc,
	      struct mcc_member *members)
{
	struct mcc_decl *d = mcc_alloc(sizeof(*d));

	d->kind = kind;
	d->name = *name;
	if (tag)
		d->tag = *tag;
	if (nest)
		d->nest = *nest;
	d->doc = doc;
	d->members = members;
	if (ctx->decls_last)
		ctx->decls_last->next = d;
	else
		ctx->decls = d;
	ctx->decls_last = d;
}

/* ------------------------------------------------------------------------
 * Helpers
 */

/* A growable byte buffer in the arena. */
struct buf {
	char *s;
	size_t len, alloc;
};

static void
buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->alloc) {
		size_t a = b->alloc ? b->alloc * 2 : 256;

		while (a < b->len + n + 1)
			a *= 2;
		b->s = mcc_grow(b->s, b->alloc, a, 1);
		b->alloc = a;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < (int)sizeof(tmp)) {
		buf_add(b, tmp, (size_t)n);
		return;
	}
	char *big = mcc_alloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf_add(b, big, (size_t)n);
}

/* A JSON string literal for n bytes of UTF-8 (checked by the lexer). */
static void
buf_json_str(struct buf *b, const char *s, size_t n)
{
	buf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			buf_add(b, e, 2);
		} else if (c == '\n') {
			buf_add(b, "\\n", 2);
		} else if (c == '\t') {
			buf_add(b, "\\t", 2);
		} else if (c < 0x20) {
			buf_printf(b, "\\u%04x", c);
		} else {
			buf_add(b, (const char *)&s[i], 1);
		}
	}
	buf_add(b, "\"", 1);
}

static char *
tokdup(const struct mcc_tok *t)
{
	return mcc_strndup(t->s, (size_t)t->len);
}

static int
tokeq(const struct mcc_tok *t, const char *s)
{
	return (size_t)t->len == strlen(s) && !memcmp(t->s, s, (size_t)t->len);
}

static uint32_t
roundup(uint32_t x, uint32_t a)
{
	return (x + a - 1) / a * a;
}

/*
 * An integer token (optional '-', digits, '_' separators) as sign and
 * magnitude.  Returns 0, or -1 when the magnitude does not fit in 64 bits.
 */
static int
parse_int(const struct mcc_tok *t, int *neg, uint64_t *mag)
{
	uint64_t v = 0;
	int i = 0;

	*neg = t->len > 0 && t->s[0] == '-';
	if (*neg)
		i = 1;
	for (; i < t->len; i++) {
		unsigned d;

		if (t->s[i] == '_')
			continue;
		d = (unsigned)(t->s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*mag = v;
	return 0;
}

/* An integer token as int64_t; -1 when it does not fit. */
static int
tok_i64(const struct mcc_tok *t, int64_t *out)
{
	int neg;
	uint64_t mag;

	if (parse_int(t, &neg, &mag) < 0)
		return -1;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return -1;
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return -1;
		*out = (int64_t)mag;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The tables being built
 */

struct stype {
	struct mcpg_type t;
	struct mcc_decl *decl; /* named types */
	int state;             /* layout: 0 to do, 1 in progress, 2 done */
};

struct sfield {
	struct mcpg_field f;
	struct mcc_member *m;
};

struct sitem { /* an enum value or a union variant */
	struct mcpg_enum_value v;
	struct mcpg_variant var;
	struct mcc_member *m;
};

struct frame {
	uint16_t type;
	uint32_t field;
};

struct sema {
	struct mcc_pctx *ctx;
	struct stype *types;
	uint32_t ntypes, atypes, nnamed;
	struct sfield *fields;
	uint32_t nfields, afields;
	struct sitem *values;
	uint32_t nvalues, avalues;
	struct sitem *variants;
	uint32_t nvariants, avariants;
	struct mcpg_union_info *unions;
	uint32_t nunions, aunions;
	struct mcpg_rule *rules;
	uint32_t nrules, arules;
	struct frame *frames; /* layout: the path of inline struct fields */
	uint32_t nframes, aframes;
	uint16_t root;
	struct mcc_decl *root_decl;
};

static void
grow(void **p, uint32_t *alloc, uint32_t need, size_t elem)
{
	uint32_t n;

	if (need <= *alloc)
		return;
	n = *alloc ? *alloc * 2 : 16;
	while (n < need)
		n *= 2;
	*p = mcc_grow(*p, *alloc, n, elem);
	*alloc = n;
}

/* Append a zeroed element to S->arr and return it. */
#define PUSH(S, arr, n, a) \
	(grow((void **)&(S)->arr, &(S)->a, (S)->n + 1, sizeof(*(S)->arr)), &(S)->arr[(S)->n++])

/* ------------------------------------------------------------------------
 * Types
 */

static const struct {
	const char *name;
	uint8_t kind, size, align;
	const char *doc;
} primitives[] = {
	{ "bool", MCPG_K_BOOL, 1, 1, "True or false." },
	{ "int", MCPG_K_INT, 8, 8, "A signed 64-bit integer." },
	{ "uint", MCPG_K_UINT, 8, 8, "An unsigned 64-bit integer." },
	{ "string", MCPG_K_STRING, 4, 4, "A string; ${env.NAME} is resolved at boot." },
	{ "json", MCPG_K_JSON, 4, 4, "Any value, stored as compact JSON text." },
	{ "template", MCPG_K_TEMPLATE, 4, 4, "A string with request-time ${...} references." },
	{ "expr", MCPG_K_EXPR, 4, 4, "An allow_if expression." },
};

#define NPRIM (sizeof(primitives) / sizeof(primitives[0]))
#define T_JSON 5 /* the type index of json: after none, bool, int, uint, string */

static int
is_scalar(int kind)
{
	return kind >= MCPG_K_BOOL && kind <= MCPG_K_ENUM;
}

static const struct mcpg_type *
ty(const struct sema *S, uint32_t i)
{
	return &S->types[i].t;
}

/* The type under an optional wrapper. */
static uint16_t
strip_opt(const struct sema *S, uint16_t t)
{
	return ty(S, t)->kind == MCPG_K_OPTIONAL ? ty(S, t)->elem : t;
}

/* A named type (primitive, enum, struct, union) by name, or 0. */
static uint16_t
find_named(const struct sema *S, const struct mcc_tok *name)
{
	for (uint32_t i = 1; i <= S->nnamed && i < S->ntypes; i++)
		if (tokeq(name, S->types[i].t.name))
			return (uint16_t)i;
	return 0;
}

static void
suggest(struct sema *S, const struct mcc_tok *at, const char *word,
	const char *const *cands, size_t n)
{
	const char *c = mcc_closest(word, cands, n);

	if (c)
		mcc_sema_note(S->ctx, at, "did you mean '%s'?", c);
}

static void
unknown_type(struct sema *S, const struct mcc_tok *name)
{
	const char **cands = mcc_alloc(sizeof(*cands) * (S->nnamed + 1));
	char *word = tokdup(name);

	mcc_sema_error(S->ctx, name, "unknown type '%s'", word);
	for (uint32_t i = 1; i <= S->nnamed; i++)
		cands[i - 1] = S->types[i].t.name;
	suggest(S, name, word, cands, S->nnamed);
}

/* The index of the derived type (kind, elem), interned on first use. */
static uint16_t
intern(struct sema *S, uint8_t kind, uint16_t elem)
{
	struct mcpg_type e = *ty(S, elem); /* a copy: PUSH may move the types */
	struct stype *st;
	const char *name;

	for (uint32_t i = S->nnamed + 1; i < S->ntypes; i++)
		if (S->types[i].t.kind == kind && S->types[i].t.elem == elem)
			return (uint16_t)i;
	if (kind == MCPG_K_LIST)
		name = mcc_printf("[%s]", e.name);
	else if (kind == MCPG_K_MAP)
		name = mcc_printf("{%s}", e.name);
	else
		name = mcc_printf("%s?", e.name);
	st = PUSH(S, types, ntypes, atypes);
	st->t.name = name;
	st->t.kind = kind;
	st->t.elem = elem;
	if (kind == MCPG_K_LIST || kind == MCPG_K_MAP || e.kind == MCPG_K_UNION) {
		st->t.size = 8;
		st->t.align = 4;
	} else if (e.kind == MCPG_K_STRUCT) {
		st->t.size = 4;
		st->t.align = 4;
	} else {
		st->t.size = e.size;
		st->t.align = e.align;
	}
	return (uint16_t)(S->ntypes - 1);
}

static const char *const root_names[] = { "env", "arguments", "identity" };

/*
 * Resolve a field's type expression to a type index (0 after an error).
 * `top` is set for the outermost expression, the only place '?' may be.
 * Roots of template(...) and expr(...) go to *roots.
 */
static uint16_t
resolve(struct sema *S, const struct mcc_texpr *te, int top, uint8_t *roots)
{
	uint16_t t, sub;

	switch (te->kind) {
	case MCC_TE_NAME:
		t = find_named(S, &te->at);
		if (!t) {
			unknown_type(S, &te->at);
			return 0;
		}
		if (ty(S, t)->kind == MCPG_K_TEMPLATE || ty(S, t)->kind == MCPG_K_EXPR) {
			if (!te->has_args) {
				mcc_sema_error(S->ctx, &te->at,
					       "type '%s' needs its roots, as in %s(env)",
					       ty(S, t)->name, ty(S, t)->name);
				return 0;
			}
			*roots = 0;
			for (const struct mcc_ident *a = te->args; a; a = a->next) {
				unsigned i;

				for (i = 0; i < 3 && !tokeq(&a->tok, root_names[i]); i++)
					;
				if (i == 3) {
					mcc_sema_error(S->ctx, &a->tok,
						       "unknown root '%.*s' (use env, arguments or identity)",
						       a->tok.len, a->tok.s);
					return 0;
				}
				if (*roots & (1u << i)) {
					mcc_sema_error(S->ctx, &a->tok, "duplicate root '%s'",
						       root_names[i]);
					return 0;
				}
				*roots |= (uint8_t)(1u << i);
			}
		} else if (te->has_args) {
			mcc_sema_error(S->ctx, &te->at, "type '%s' takes no arguments",
				       ty(S, t)->name);
			return 0;
		}
		return t;
	case MCC_TE_LIST:
	case MCC_TE_MAP:
		sub = resolve(S, te->sub, 0, roots);
		if (!sub)
			return 0;
		return intern(S, te->kind == MCC_TE_LIST ? MCPG_K_LIST : MCPG_K_MAP, sub);
	case MCC_TE_OPT:
		if (!top) {
			mcc_sema_error(S->ctx, &te->at,
				       "'?' is only allowed once, at the end of a field's type");
			return 0;
		}
		sub = resolve(S, te->sub, 0, roots);
		if (!sub)
			return 0;
		if (ty(S, sub)->kind == MCPG_K_LIST || ty(S, sub)->kind == MCPG_K_MAP) {
			mcc_sema_error(S->ctx, &te->at,
				       "'%s' cannot be optional: an absent list or map is empty",
				       ty(S, sub)->name);
			return 0;
		}
		return intern(S, MCPG_K_OPTIONAL, sub);
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Pass 1: declarations
 */

static const char *const decl_words[] = { "enum", "struct", "union", "root", "rule" };

static void
declare(struct sema *S)
{
	struct mcc_pctx *ctx = S->ctx;
	struct mcc_decl *root = NULL;

	for (struct mcc_decl *d = ctx->decls; d; d = d->next) {
		const char *name = tokdup(&d->name);

		if (d->kind == MCC_D_ROOT) {
			if (root) {
				mcc_sema_error(ctx, &d->name, "duplicate 'root' declaration");
				mcc_sema_note(ctx, &root->name, "'root' was first declared here");
			} else {
				root = d;
			}
			continue;
		}
		if (!d->doc)
			mcc_sema_error(ctx, &d->name, "%s '%s' has no doc string",
				       decl_words[d->kind], name);
		if (d->kind == MCC_D_RULE) {
			struct mcpg_rule *r;
			uint32_t i;

			for (i = 0; i < S->nrules && strcmp(S->rules[i].name, name); i++)
				;
			if (i < S->nrules) {
				mcc_sema_error(ctx, &d->name, "duplicate rule '%s'", name);
				for (struct mcc_decl *e = ctx->decls; e != d; e = e->next)
					if (e->kind == MCC_D_RULE && tokeq(&e->name, name)) {
						mcc_sema_note(ctx, &e->name,
							      "'%s' was first declared here", name);
						break;
					}
				continue;
			}
			r = PUSH(S, rules, nrules, arules);
			r->name = name;
			r->doc = d->doc ? d->doc->s : NULL;
			continue;
		}

		uint16_t prev = find_named(S, &d->name);
		if (prev && prev <= NPRIM) {
			mcc_sema_error(ctx, &d->name, "'%s' is a built-in type", name);
			continue;
		}
		if (prev) {
			mcc_sema_error(ctx, &d->name, "duplicate type '%s'", name);
			mcc_sema_note(ctx, &S->types[prev].decl->name,
				      "'%s' was first declared here", name);
			continue;
		}
		struct stype *st = PUSH(S, types, ntypes, atypes);
		st->t.name = name;
		st->t.kind = d->kind == MCC_D_ENUM ? MCPG_K_ENUM
			   : d->kind == MCC_D_STRUCT ? MCPG_K_STRUCT : MCPG_K_UNION;
		st->t.doc = d->doc ? d->doc->s : NULL;
		if (st->t.kind == MCPG_K_ENUM) {
			st->t.size = 1;
			st->t.align = 1;
		} else if (st->t.kind == MCPG_K_UNION) {
			st->t.size = 8;
			st->t.align = 4;
		} else {
			st->t.align = 8; /* size: layout() */
		}
		st->decl = d;
		d->type = (int)(S->ntypes - 1);
		S->nnamed = S->ntypes - 1;
	}
	S->root_decl = root;
}

/* ------------------------------------------------------------------------
 * Pass 2: enum values and union variants
 */

static const char *
spelling_of(const struct mcc_member *m)
{
	return m->spelling ? m->spelling->s : tokdup(&m->name);
}

/*
 * Values and variants share their checks: names and spellings unique in
 * the body, a doc string, a non-empty spelling.  `what` is "value" or
 * "variant"; items[first..] are this body's items so far.
 */
static void
check_item(struct sema *S, const char *what, const struct mcc_decl *d,
	   struct sitem *items, uint32_t first, uint32_t n, struct mcc_member *m,
	   const char *name, const char *text)
{
	struct mcc_pctx *ctx = S->ctx;
	const char *owner = decl_words[d->kind];

	for (uint32_t i = first; i < n; i++) {
		if (!strcmp(items[i].v.name, name)) {
			mcc_sema_error(ctx, &m->name, "duplicate %s '%s' in %s '%s'", what,
				       name, owner, ty(S, (uint32_t)d->type)->name);
			mcc_sema_note(ctx, &items[i].m->name, "'%s' was first declared here",
				      name);
			break;
		}
		if (!strcmp(items[i].v.text, text)) {
			const struct mcc_tok *at = m->spelling ? &m->spelling->at : &m->name;
			const struct mcc_tok *first_at = items[i].m->spelling
				? &items[i].m->spelling->at : &items[i].m->name;

			mcc_sema_error(ctx, at, "duplicate spelling '%s' in %s '%s'", text,
				       owner, ty(S, (uint32_t)d->type)->name);
			mcc_sema_note(ctx, first_at, "'%s' was first used here", text);
			break;
		}
	}
	if (!*text)
		mcc_sema_error(ctx, &m->spelling->at, "empty spelling for %s %s '%s'", owner,
			       what, name);
	if (!m->doc)
		mcc_sema_error(ctx, &m->name, "%s %s '%s' has no doc string", owner, what,
			       name);
}

static void
do_enum(struct sema *S, struct mcc_decl *d)
{
	struct stype *st = &S->types[d->type];
	uint32_t first = S->nvalues;

	for (struct mcc_member *m = d->members; m; m = m->next) {
		const char *name = tokdup(&m->name), *text = spelling_of(m);

		check_item(S, "value", d, S->values, first, S->nvalues, m, name, text);
		if (m->type)
			mcc_sema_error(S->ctx, &m->type->at, "enum value '%s' cannot have a type",
				       name);
		struct sitem *it = PUSH(S, values, nvalues, avalues);
		it->v.name = name;
		it->v.text = text;
		it->v.doc = m->doc ? m->doc->s : NULL;
		it->m = m;
	}
	if (S->nvalues == first)
		mcc_sema_error(S->ctx, &d->name, "enum '%s' has no values", st->t.name);
	if (S->nvalues - first > 256)
		mcc_sema_error(S->ctx, &d->name, "enum '%s' has more than 256 values",
			       st->t.name);
	st->t.first = (uint16_t)first;
	st->t.count = (uint16_t)(S->nvalues - first);
}

/* The member called `name` of a struct's declaration, or NULL. */
static struct mcc_member *
find_member(const struct mcc_decl *d, const char *name)
{
	for (struct mcc_member *m = d->members; m; m = m->next)
		if (tokeq(&m->name, name))
			return m;
	return NULL;
}

static void
do_union(struct sema *S, struct mcc_decl *d)
{
	struct mcc_pctx *ctx = S->ctx;
	struct stype *st = &S->types[d->type];
	uint32_t first = S->nvariants;
	struct mcpg_union_info *u = PUSH(S, unions, nunions, aunions);
	const char *tag = tokdup(&d->tag);

	u->type = (uint16_t)d->type;
	u->tag_key = tag;
	u->nest_key = d->nest.len ? tokdup(&d->nest) : NULL;
	if (u->nest_key && !strcmp(u->nest_key, tag))
		mcc_sema_error(ctx, &d->nest, "union '%s' uses '%s' as both tag key and nest key",
			       st->t.name, tag);

	for (struct mcc_member *m = d->members; m; m = m->next) {
		const char *name = tokdup(&m->name), *text = spelling_of(m);
		uint16_t vt = 0;

		/* Variant and value names share the check; store the name in .v. */
		check_item(S, "variant", d, S->variants, first, S->nvariants, m, name, text);
		if (m->attrs)
			mcc_sema_error(ctx, &m->attrs->name, "variant '%s' cannot have attributes",
				       name);
		if (m->type && (m->type->kind != MCC_TE_NAME || m->type->has_args)) {
			mcc_sema_error(ctx, &m->type->at, "variant '%s' needs a struct type", name);
		} else if (m->type) {
			vt = find_named(S, &m->type->at);
			if (!vt) {
				unknown_type(S, &m->type->at);
			} else if (ty(S, vt)->kind != MCPG_K_STRUCT) {
				mcc_sema_error(ctx, &m->type->at,
					       "variant '%s' needs a struct type, not '%s'", name,
					       ty(S, vt)->name);
				vt = 0;
			} else if (!u->nest_key) {
				/* The variant's keys sit beside the tag: they must not
				 * use its name. */
				struct mcc_member *f = find_member(S->types[vt].decl, tag);

				if (f) {
					mcc_sema_error(ctx, &m->name,
						       "tag key '%s' of union '%s' collides with a field of variant '%s'",
						       tag, st->t.name, name);
					mcc_sema_note(ctx, &f->name, "'%s' is declared here", tag);
				}
			}
		}
		struct sitem *it = PUSH(S, variants, nvariants, avariants);
		it->v.name = name;
		it->v.text = text;
		it->var.name = name;
		it->var.text = text;
		it->var.type = vt;
		it->var.doc = m->doc ? m->doc->s : NULL;
		it->m = m;
	}
	if (S->nvariants == first)
		mcc_sema_error(ctx, &d->name, "union '%s' has no variants", st->t.name);
	st->t.first = (uint16_t)first;
	st->t.count = (uint16_t)(S->nvariants - first);
}

/* ------------------------------------------------------------------------
 * Pass 2: struct fields, attributes and defaults
 */

enum attr_id {
	A_REQUIRED, A_SENSITIVE, A_RESTART, A_DEPRECATED, A_LITERAL, A_NONEMPTY,
	A_RANGE, A_ITEMS, A_UNIQUE, A_PATTERN, A_FORMAT, A_SCHEMES, A__COUNT
};

static const char *const attr_names[A__COUNT] = {
	"required", "sensitive", "restart", "deprecated", "literal", "nonempty",
	"range", "items", "unique", "pattern", "format", "schemes",
};

/* How each attribute is written, for messages about its arguments. */
static const char *const attr_usage[A__COUNT] = {
	"required", "sensitive", "restart", "deprecated(\"use X\")", "literal", "nonempty",
	"range(MIN..MAX), range(MIN..) or range(..MAX)",
	"items(MIN..MAX), items(MIN..) or items(..MAX)", "unique or unique(FIELD)",
	"pattern(\"ERE\")", "format(NAME)", "schemes(\"SCHEME\", ...)",
};

/* Indexed by enum mcpg_format. */
static const char *const format_names[MCPG_FMT__COUNT] = {
	"", "socket_addr", "url", "abs_path", "file_path", "cidr", "host",
};

/* Are the arguments of attribute `id` written the right way? */
static int
args_ok(enum attr_id id, const struct mcc_attr *a)
{
	const struct mcc_arg *x = a->args;
	int n = 0;

	for (; x; x = x->next)
		n++;
	x = a->args;
	switch (id) {
	case A_REQUIRED:
	case A_SENSITIVE:
	case A_RESTART:
	case A_LITERAL:
	case A_NONEMPTY:
		return !a->has_args;
	case A_DEPRECATED:
	case A_PATTERN:
		return n == 1 && x->kind == MCC_ARG_STR;
	case A_RANGE:
	case A_ITEMS:
		return n == 1 && x->kind == MCC_ARG_RANGE;
	case A_UNIQUE:
		return !a->has_args || (n == 1 && x->kind == MCC_ARG_IDENT);
	case A_FORMAT:
		return n == 1 && x->kind == MCC_ARG_IDENT;
	case A_SCHEMES:
		for (; x; x = x->next)
			if (x->kind != MCC_ARG_STR)
				return 0;
		return n > 0;
	case A__COUNT:
		break;
	}
	return 0;
}

struct fctx { /* one field being checked */
	struct sema *S;
	struct sfield *sf;
	const char *name;
	uint16_t type;           /* 0 when the type did not resolve */
	struct mcc_attr *attr[A__COUNT];
	struct mcc_attr *dflt;
	regex_t re;
	int has_re;
};

static void
does_not_apply(struct fctx *F, enum attr_id id)
{
	mcc_sema_error(F->S->ctx, &F->attr[id]->name,
		       "'%s' does not apply to field '%s' of type '%s'", attr_names[id], F->name,
		       ty(F->S, F->type)->name);
	F->attr[id] = NULL;
}

/* The kind of a field's values: optional stripped, then one list or map. */
static int
leaf_kind(const struct sema *S, uint16_t t)
{
	t = strip_opt(S, t);
	if (ty(S, t)->kind == MCPG_K_LIST || ty(S, t)->kind == MCPG_K_MAP)
		t = ty(S, t)->elem;
	return ty(S, t)->kind;
}

/* A range argument's bounds; returns -1 after an error. */
static int
range_bounds(struct fctx *F, const struct mcc_arg *a, int64_t *lo, int64_t *hi)
{
	struct mcc_pctx *ctx = F->S->ctx;

	*lo = INT64_MIN;
	*hi = INT64_MAX;
	if (a->lo.len && tok_i64(&a->lo, lo) < 0) {
		mcc_sema_error(ctx, &a->lo, "integer '%.*s' does not fit in 64 bits", a->lo.len,
			       a->lo.s);
		return -1;
	}
	if (a->hi.len && tok_i64(&a->hi, hi) < 0) {
		mcc_sema_error(ctx, &a->hi, "integer '%.*s' does not fit in 64 bits", a->hi.len,
			       a->hi.s);
		return -1;
	}
	if (*lo > *hi) {
		mcc_sema_error(ctx, &a->at, "empty range %" PRId64 "..%" PRId64 " for field '%s'",
			       *lo, *hi, F->name);
		return -1;
	}
	return 0;
}

/*
 * unique(KEY) on a list of struct `elem`: KEY must be a scalar field of it.
 * The struct may come later in the schema, so this looks at its
 * declaration rather than at its fields in the tables.
 */
static int
unique_key(struct fctx *F, uint16_t elem, const struct mcc_tok *key)
{
	struct sema *S = F->S;
	const struct mcc_member *m = find_member(S->types[elem].decl, tokdup(key));
	const struct mcc_texpr *te = m ? m->type : NULL;
	uint16_t t;

	if (!m) {
		mcc_sema_error(S->ctx, key, "unknown field '%.*s' in unique(%.*s)", key->len,
			       key->s, key->len, key->s);
		return -1;
	}
	if (te && te->kind == MCC_TE_OPT)
		te = te->sub;
	t = te && te->kind == MCC_TE_NAME ? find_named(S, &te->at) : 0;
	if (!is_scalar(ty(S, t)->kind) || ty(S, t)->kind == MCPG_K_JSON) {
		mcc_sema_error(S->ctx, key, "field '%.*s' in unique(%.*s) is not a scalar",
			       key->len, key->s, key->len, key->s);
		return -1;
	}
	F->sf->f.unique_field = tokdup(key);
	return 0;
}

static void
attributes(struct fctx *F)
{
	struct sema *S = F->S;
	struct mcc_pctx *ctx = S->ctx;
	struct mcpg_field *f = &F->sf->f;

	/* What was written, and how: names, repeats, argument shapes. */
	for (struct mcc_attr *a = F->sf->m->attrs; a; a = a->next) {
		enum attr_id id;

		if (a->is_default) {
			if (F->dflt)
				mcc_sema_error(ctx, &a->name, "duplicate default for field '%s'",
					       F->name);
			else
				F->dflt = a;
			continue;
		}
		for (id = 0; id < A__COUNT && !tokeq(&a->name, attr_names[id]); id++)
			;
		if (id == A__COUNT) {
			char *w = tokdup(&a->name);

			mcc_sema_error(ctx, &a->name, "unknown attribute '%s'", w);
			suggest(S, &a->name, w, attr_names, A__COUNT);
			continue;
		}
		if (F->attr[id]) {
			mcc_sema_error(ctx, &a->name, "duplicate attribute '%s' on field '%s'",
				       attr_names[id], F->name);
			continue;
		}
		if (!args_ok(id, a)) {
			if (!strchr(attr_usage[id], '('))
				mcc_sema_error(ctx, &a->name, "'%s' takes no arguments",
					       attr_names[id]);
			else
				mcc_sema_error(ctx, &a->name, "invalid arguments for '%s': write %s",
					       attr_names[id], attr_usage[id]);
			continue;
		}
		F->attr[id] = a;
	}
	if (!F->type)
		return;

	/* What they mean for this type. */
	uint16_t t = F->type, base = strip_opt(S, t);
	int opt = base != t, kind = ty(S, base)->kind, leaf = leaf_kind(S, t);
	int string_like = leaf == MCPG_K_STRING;
	int text_like = string_like || leaf == MCPG_K_TEMPLATE;
	int64_t lo, hi;

	if (F->attr[A_REQUIRED]) {
		if (opt) {
			mcc_sema_error(ctx, &F->attr[A_REQUIRED]->name,
				       "optional field '%s' cannot be 'required'", F->name);
		}
		f->flags |= MCPG_F_REQUIRED;
	}
	if (F->attr[A_SENSITIVE])
		f->flags |= MCPG_F_SENSITIVE;
	if (F->attr[A_RESTART])
		f->flags |= MCPG_F_RESTART;
	if (F->attr[A_DEPRECATED]) {
		f->flags |= MCPG_F_DEPRECATED;
		f->deprecated = F->attr[A_DEPRECATED]->args->str->s;
	}
	if (F->attr[A_LITERAL]) {
		if (!string_like)
			does_not_apply(F, A_LITERAL);
		else
			f->flags |= MCPG_F_LITERAL;
	}
	if (F->attr[A_NONEMPTY]) {
		if (!text_like)
			does_not_apply(F, A_NONEMPTY);
		else
			f->flags |= MCPG_F_NONEMPTY;
	}
	if (F->attr[A_RANGE]) {
		const struct mcc_arg *a = F->attr[A_RANGE]->args;

		if (kind != MCPG_K_INT && kind != MCPG_K_UINT && kind != MCPG_K_STRING) {
			does_not_apply(F, A_RANGE);
		} else if (range_bounds(F, a, &lo, &hi) == 0) {
			if (kind != MCPG_K_INT && ((a->lo.len && lo < 0) || (a->hi.len && hi < 0)))
				mcc_sema_error(ctx, &a->at,
					       "range of field '%s' cannot be negative", F->name);
			f->flags |= MCPG_F_HAS_RANGE;
			f->min = lo;
			f->max = hi;
		}
	}
	if (F->attr[A_ITEMS]) {
		const struct mcc_arg *a = F->attr[A_ITEMS]->args;

		if (kind != MCPG_K_LIST && kind != MCPG_K_MAP) {
			does_not_apply(F, A_ITEMS);
		} else if (range_bounds(F, a, &lo, &hi) == 0) {
			if ((a->lo.len && (lo < 0 || lo > UINT32_MAX)) ||
			    (a->hi.len && (hi < 0 || hi > UINT32_MAX))) {
				mcc_sema_error(ctx, &a->at,
					       "'items' bounds of field '%s' must be in 0..4294967295",
					       F->name);
			} else if (a->hi.len && hi == 0) {
				mcc_sema_error(ctx, &a->at,
					       "'items' upper bound of field '%s' must be at least 1",
					       F->name);
			} else {
				f->flags |= MCPG_F_HAS_ITEMS;
				f->items_min = a->lo.len ? (uint32_t)lo : 0;
				f->items_max = a->hi.len ? (uint32_t)hi : 0;
			}
		}
	}
	if (F->attr[A_UNIQUE]) {
		const struct mcc_arg *a = F->attr[A_UNIQUE]->args;
		int ek = kind == MCPG_K_LIST ? ty(S, ty(S, base)->elem)->kind : 0;

		if (kind != MCPG_K_LIST) {
			does_not_apply(F, A_UNIQUE);
		} else if (a && ek != MCPG_K_STRUCT) {
			mcc_sema_error(ctx, &a->at, "unique(%.*s) needs a list of structs, not '%s'",
				       a->lo.len, a->lo.s, ty(S, t)->name);
		} else if (!a && ek == MCPG_K_STRUCT) {
			mcc_sema_error(ctx, &F->attr[A_UNIQUE]->name,
				       "'unique' on a list of structs needs a key field, as in unique(name)");
		} else if (!a && !is_scalar(ek)) {
			does_not_apply(F, A_UNIQUE);
		} else if (!a || unique_key(F, ty(S, base)->elem, &a->lo) == 0) {
			f->flags |= MCPG_F_UNIQUE;
		}
	}
	if (F->attr[A_PATTERN]) {
		const char *re = F->attr[A_PATTERN]->args->str->s;
		int rc;

		if (!string_like) {
			does_not_apply(F, A_PATTERN);
		} else if ((rc = regcomp(&F->re, re, REG_EXTENDED | REG_NOSUB)) != 0) {
			char msg[256];

			regerror(rc, &F->re, msg, sizeof(msg));
			mcc_sema_error(ctx, &F->attr[A_PATTERN]->args->at,
				       "invalid pattern for '%s': %s", F->name, msg);
		} else {
			F->has_re = 1;
			f->pattern = re;
			f->flags |= MCPG_F_LITERAL;
		}
	}
	if (F->attr[A_FORMAT]) {
		const struct mcc_arg *a = F->attr[A_FORMAT]->args;
		int i;

		for (i = 1; i < MCPG_FMT__COUNT && !tokeq(&a->lo, format_names[i]); i++)
			;
		if (!text_like) {
			does_not_apply(F, A_FORMAT);
		} else if (i == MCPG_FMT__COUNT) {
			char *w = tokdup(&a->lo);

			mcc_sema_error(ctx, &a->lo, "unknown format '%s'", w);
			suggest(S, &a->lo, w, format_names + 1, MCPG_FMT__COUNT - 1);
		} else {
			f->format = (uint8_t)i;
		}
	}
	if (F->attr[A_SCHEMES]) {
		struct buf b = { 0 };

		if (f->format != MCPG_FMT_URL) {
			mcc_sema_error(ctx, &F->attr[A_SCHEMES]->name, "'schemes' needs format(url)");
		} else {
			for (const struct mcc_arg *a = F->attr[A_SCHEMES]->args; a; a = a->next) {
				const char *s = a->str->s;
				size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+.-");

				if (!(*s >= 'a' && *s <= 'z') || s[n]) {
					mcc_sema_error(ctx, &a->at, "invalid URL scheme '%s'", s);
					continue;
				}
				if (b.len)
					buf_add(&b, " ", 1);
				buf_str(&b, s);
			}
			f->schemes = b.s;
		}
	}
}

/* "a uint", for "default for 'x' is not a uint". */
static const char *
kind_noun(int kind)
{
	switch (kind) {
	case MCPG_K_BOOL: return "a bool";
	case MCPG_K_INT: return "an int";
	case MCPG_K_UINT: return "a uint";
	case MCPG_K_LIST: return "a list";
	case MCPG_K_MAP: return "a map";
	case MCPG_K_JSON: return "a json value";
	default: return "a string";
	}
}

/* Map keys of a literal: the text of an identifier or of a string. */
static const char *
lit_key(const struct mcc_lit *x)
{
	return x->skey ? x->skey->s : tokdup(&x->key);
}

/* The decimal form of an integer literal, or NULL when it does not fit. */
static const char *
lit_int_text(const struct mcc_lit *x, int kind, int *not_uint)
{
	int neg;
	uint64_t mag;
	int64_t v;

	*not_uint = 0;
	if (parse_int(&x->at, &neg, &mag) < 0)
		return NULL;
	if (kind == MCPG_K_UINT || (kind == MCPG_K_JSON && !neg)) {
		if (neg && mag) {
			*not_uint = 1;
			return NULL;
		}
		return mcc_printf("%" PRIu64, neg ? 0 : mag);
	}
	if (tok_i64(&x->at, &v) < 0)
		return NULL;
	return mcc_printf("%" PRId64, v);
}

/*
 * Append the default `x` for a value of type t to b as compact JSON.
 * Returns -1 after reporting an error.
 */
static int
lit_json(struct fctx *F, uint16_t t, const struct mcc_lit *x, struct buf *b)
{
	struct sema *S = F->S;
	struct mcc_pctx *ctx = S->ctx;
	int kind = ty(S, t)->kind, rc = 0, not_uint;
	const char *s;

	switch (x->kind) {
	case MCC_L_INT:
		if (kind != MCPG_K_INT && kind != MCPG_K_UINT && kind != MCPG_K_JSON)
			break;
		s = lit_int_text(x, kind, &not_uint);
		if (not_uint)
			break;
		if (!s) {
			mcc_sema_error(ctx, &x->at, "default for '%s' does not fit in %s",
				       F->name, kind_noun(kind));
			return -1;
		}
		buf_str(b, s);
		return 0;
	case MCC_L_STR:
		if (kind == MCPG_K_ENUM) {
			const struct mcc_member *m;

			for (m = S->types[t].decl->members; m; m = m->next)
				if (!strcmp(spelling_of(m), x->str->s))
					break;
			if (!m) {
				mcc_sema_error(ctx, &x->at, "'%s' is not a value of enum '%s'",
					       x->str->s, ty(S, t)->name);
				return -1;
			}
		} else if (kind != MCPG_K_STRING && kind != MCPG_K_TEMPLATE &&
			   kind != MCPG_K_EXPR && kind != MCPG_K_JSON) {
			break;
		}
		buf_json_str(b, x->str->s, x->str->len);
		return 0;
	case MCC_L_TRUE:
	case MCC_L_FALSE:
		if (kind != MCPG_K_BOOL && kind != MCPG_K_JSON)
			break;
		buf_str(b, x->kind == MCC_L_TRUE ? "true" : "false");
		return 0;
	case MCC_L_NULL:
		if (kind != MCPG_K_JSON)
			break;
		buf_str(b, "null");
		return 0;
	case MCC_L_IDENT: {
		const struct mcc_member *m;

		if (kind != MCPG_K_ENUM)
			break;
		m = find_member(S->types[t].decl, tokdup(&x->at));
		if (!m) {
			mcc_sema_error(ctx, &x->at, "'%.*s' is not a value of enum '%s'",
				       x->at.len, x->at.s, ty(S, t)->name);
			return -1;
		}
		s = spelling_of(m);
		buf_json_str(b, s, strlen(s));
		return 0;
	}
	case MCC_L_LIST:
		if (kind != MCPG_K_LIST && kind != MCPG_K_JSON)
			break;
		buf_add(b, "[", 1);
		for (const struct mcc_lit *e = x->items; e; e = e->next) {
			if (e != x->items)
				buf_add(b, ",", 1);
			if (lit_json(F, kind == MCPG_K_JSON ? t : ty(S, t)->elem, e, b) < 0)
				rc = -1;
		}
		buf_add(b, "]", 1);
		return rc;
	case MCC_L_MAP:
		/*
		 * A struct or union element of a list default ([{kind: ...}]) is
		 * kept as JSON here; the validator checks it like any value
		 * whenever the default is used.
		 */
		if (kind == MCPG_K_STRUCT || kind == MCPG_K_UNION) {
			t = T_JSON;
			kind = MCPG_K_JSON;
		}
		if (kind != MCPG_K_MAP && kind != MCPG_K_JSON)
			break;
		buf_add(b, "{", 1);
		for (const struct mcc_lit *e = x->items; e; e = e->next) {
			const char *k = lit_key(e);

			for (const struct mcc_lit *p = x->items; p != e; p = p->next)
				if (!strcmp(lit_key(p), k)) {
					mcc_sema_error(ctx, &e->key,
						       "duplicate key '%s' in default for '%s'", k,
						       F->name);
					rc = -1;
					break;
				}
			if (e != x->items)
				buf_add(b, ",", 1);
			buf_json_str(b, k, strlen(k));
			buf_add(b, ":", 1);
			if (lit_json(F, kind == MCPG_K_JSON ? t : ty(S, t)->elem, e, b) < 0)
				rc = -1;
		}
		buf_add(b, "}", 1);
		return rc;
	}
	if (kind == MCPG_K_ENUM)
		mcc_sema_error(ctx, &x->at, "default for '%s' is not a value of enum '%s'",
			       F->name, ty(S, t)->name);
	else
		mcc_sema_error(ctx, &x->at, "default for '%s' is not %s", F->name,
			       kind_noun(kind));
	return -1;
}

static void
print_range(char *out, size_t size, int64_t lo, int64_t hi)
{
	char a[24] = "", b[24] = "";

	if (lo != INT64_MIN)
		snprintf(a, sizeof(a), "%" PRId64, lo);
	if (hi != INT64_MAX)
		snprintf(b, sizeof(b), "%" PRId64, hi);
	snprintf(out, size, "%s..%s", a, b);
}

/* Does the default satisfy the field's own constraints? */
static void
check_default_value(struct fctx *F, const struct mcc_lit *x)
{
	struct mcc_pctx *ctx = F->S->ctx;
	const struct mcpg_field *f = &F->sf->f;
	int kind = ty(F->S, F->type)->kind;
	char r[64];

	if ((f->flags & MCPG_F_HAS_RANGE) && (kind == MCPG_K_INT || kind == MCPG_K_UINT)) {
		int neg, out;
		uint64_t mag;
		int64_t v;

		/* lit_json() has checked that the value fits its type. */
		parse_int(&x->at, &neg, &mag);
		if (kind == MCPG_K_INT) {
			tok_i64(&x->at, &v);
			out = v < f->min || v > f->max;
		} else {
			out = (f->min > 0 && mag < (uint64_t)f->min) || f->max < 0 ||
			      mag > (uint64_t)f->max;
		}
		if (out) {
			print_range(r, sizeof(r), f->min, f->max);
			mcc_sema_error(ctx, &x->at, "default for '%s' is out of range %s", F->name,
				       r);
		}
	}
	if ((f->flags & MCPG_F_HAS_ITEMS) && (x->kind == MCC_L_LIST || x->kind == MCC_L_MAP)) {
		uint32_t n = 0;

		for (const struct mcc_lit *e = x->items; e; e = e->next)
			n++;
		if (n < f->items_min || (f->items_max && n > f->items_max)) {
			print_range(r, sizeof(r), f->items_min,
				    f->items_max ? (int64_t)f->items_max : INT64_MAX);
			mcc_sema_error(ctx, &x->at, "default for '%s' has %" PRIu32
				       " items, out of range %s", F->name, n, r);
		}
	}
	if (x->kind == MCC_L_STR && kind == MCPG_K_STRING) {
		const char *s = x->str->s;

		if (F->has_re && regexec(&F->re, s, 0, NULL, 0) != 0)
			mcc_sema_error(ctx, &x->at, "default for '%s' does not match its pattern",
				       F->name);
		if ((f->flags & MCPG_F_NONEMPTY) && !s[strspn(s, " \t\r\n")])
			mcc_sema_error(ctx, &x->at, "default for '%s' is blank", F->name);
	}
}

static void
defaults(struct fctx *F)
{
	struct sema *S = F->S;
	struct mcc_pctx *ctx = S->ctx;
	struct mcpg_field *f = &F->sf->f;
	uint16_t t = F->type;
	int kind = ty(S, t)->kind;
	const struct mcc_lit *x = F->dflt ? F->dflt->lit : NULL;
	struct buf b = { 0 };

	if (x && (f->flags & MCPG_F_REQUIRED)) {
		mcc_sema_error(ctx, &F->dflt->name,
			       "field '%s' cannot have both 'required' and a default", F->name);
		return;
	}
	if (kind == MCPG_K_OPTIONAL) {
		if (x && x->kind != MCC_L_NULL) {
			mcc_sema_error(ctx, &x->at, "optional field '%s' can only default to null",
				       F->name);
			return;
		}
		if (x) {
			f->dflt = "null";
			f->flags |= MCPG_F_HAS_DEFAULT;
		}
		return;
	}
	if (kind == MCPG_K_STRUCT || kind == MCPG_K_UNION) {
		if (x)
			mcc_sema_error(ctx, &F->dflt->name,
				       "field '%s' of type '%s' cannot have a default", F->name,
				       ty(S, t)->name);
		else if (kind == MCPG_K_UNION && !(f->flags & MCPG_F_REQUIRED))
			mcc_sema_error(ctx, &F->sf->m->name,
				       "union field '%s' must be required or optional", F->name);
		return;
	}
	if (!x) {
		if (is_scalar(kind) && !(f->flags & MCPG_F_REQUIRED))
			mcc_sema_error(ctx, &F->sf->m->name,
				       "non-optional scalar field '%s' needs a default or 'required'",
				       F->name);
		return;
	}
	if (lit_json(F, t, x, &b) < 0)
		return;
	check_default_value(F, x);
	f->dflt = b.s;
	f->flags |= MCPG_F_HAS_DEFAULT;
}

static void
do_struct(struct sema *S, struct mcc_decl *d)
{
	struct mcc_pctx *ctx = S->ctx;
	struct stype *st = &S->types[d->type];
	uint32_t first = S->nfields;

	for (struct mcc_member *m = d->members; m; m = m->next) {
		struct fctx F;
		struct sfield *sf = PUSH(S, fields, nfields, afields);
		uint8_t roots = 0;

		memset(&F, 0, sizeof(F));
		F.S = S;
		F.sf = sf;
		F.name = tokdup(&m->name);
		sf->m = m;
		sf->f.name = F.name;
		sf->f.doc = m->doc ? m->doc->s : NULL;
		sf->f.line = (uint16_t)(m->name.line > UINT16_MAX ? UINT16_MAX : m->name.line);
		sf->f.set_bit = -1;
		for (uint32_t i = first; i + 1 < S->nfields; i++)
			if (!strcmp(S->fields[i].f.name, F.name)) {
				mcc_sema_error(ctx, &m->name, "duplicate field '%s' in struct '%s'",
					       F.name, ty(S, (uint32_t)d->type)->name);
				mcc_sema_note(ctx, &S->fields[i].m->name,
					      "'%s' was first declared here", F.name);
				break;
			}
		if (m->spelling)
			mcc_sema_error(ctx, &m->spelling->at,
				       "field '%s' cannot have a spelling (only enum values and union variants can)",
				       F.name);
		if (!m->doc)
			mcc_sema_error(ctx, &m->name, "field '%s' has no doc string", F.name);
		if (!m->type) {
			mcc_sema_error(ctx, &m->name, "field '%s' has no type", F.name);
			continue;
		}
		F.type = resolve(S, m->type, 1, &roots);
		sf->f.type = F.type;
		sf->f.roots = roots;
		attributes(&F);
		if (F.type)
			defaults(&F);
		if (F.has_re)
			regfree(&F.re);
	}
	st = &S->types[d->type]; /* resolve() may have moved the types */
	if (S->nfields == first)
		mcc_sema_error(ctx, &d->name, "struct '%s' has no fields", st->t.name);
	st->t.first = (uint16_t)first;
	st->t.count = (uint16_t)(S->nfields - first);
}

/* ------------------------------------------------------------------------
 * Pass 3: layout
 */

static void layout(struct sema *S, uint16_t t);

#define MAX_INLINE_DEPTH 1000

/* Size and alignment of a field's slot. */
static void
slot(struct sema *S, const struct mcpg_field *f, uint32_t *size, uint32_t *align)
{
	const struct mcpg_type *t = ty(S, f->type);

	*size = t->size;
	*align = t->align ? t->align : 1;
	if (t->kind == MCPG_K_STRUCT)
		*align = 8;
}

static void
report_cycle(struct sema *S, uint16_t t)
{
	struct buf path = { 0 };
	uint32_t j;

	for (j = 0; j < S->nframes && S->frames[j].type != t; j++)
		;
	buf_str(&path, ty(S, t)->name);
	for (uint32_t k = j; k < S->nframes; k++) {
		buf_add(&path, ".", 1);
		buf_str(&path, S->fields[S->frames[k].field].f.name);
	}
	mcc_sema_error(S->ctx, &S->fields[S->frames[j].field].m->name,
		       "struct '%s' contains itself through '%s'", ty(S, t)->name, path.s);
}

static void
layout(struct sema *S, uint16_t t)
{
	struct stype *st = &S->types[t];
	uint32_t first = st->t.first, n = st->t.count, off, nbits = 0;
	static const uint32_t classes[] = { 8, 4, 1 };

	if (st->state)
		return;
	st->state = 1;
	for (uint32_t i = first; i < first + n; i++) {
		uint16_t ft = S->fields[i].f.type;
		struct frame *fr;

		if (!ft || ty(S, ft)->kind != MCPG_K_STRUCT)
			continue;
		fr = PUSH(S, frames, nframes, aframes);
		fr->type = t;
		fr->field = i;
		if (S->types[ft].state == 1) {
			report_cycle(S, ft);
		} else if (S->nframes > MAX_INLINE_DEPTH) {
			/* Bounds the recursion; no real schema comes close. */
			mcc_sema_error(S->ctx, &S->fields[i].m->name,
				       "structs are nested inline more than %d deep",
				       MAX_INLINE_DEPTH);
			S->types[ft].state = 2;
		} else {
			layout(S, ft);
		}
		S->nframes--;
	}

	for (uint32_t i = first; i < first + n; i++) {
		struct mcpg_field *f = &S->fields[i].f;
		int k;

		if (!f->type || ty(S, f->type)->kind != MCPG_K_OPTIONAL)
			continue;
		k = ty(S, ty(S, f->type)->elem)->kind;
		if (k == MCPG_K_BOOL || k == MCPG_K_INT || k == MCPG_K_UINT || k == MCPG_K_ENUM) {
			if (nbits == 64) {
				mcc_sema_error(S->ctx, &S->fields[i].m->name,
					       "struct '%s' has more than 64 optional bool, int, uint or enum fields",
					       st->t.name);
			}
			f->set_bit = (int16_t)(nbits < 64 ? nbits : 63);
			nbits++;
		}
	}
	st->t.set_words = nbits ? 1 : 0;
	off = nbits ? 8 : 0;
	for (unsigned c = 0; c < 3; c++) {
		for (uint32_t i = first; i < first + n; i++) {
			struct mcpg_field *f = &S->fields[i].f;
			uint32_t size, align;

			if (!f->type)
				continue;
			slot(S, f, &size, &align);
			if (align != classes[c])
				continue;
			off = roundup(off, align);
			f->offset = off;
			if (size > UINT32_MAX - off) {
				mcc_sema_error(S->ctx, &S->fields[i].m->name,
					       "struct '%s' is too large", st->t.name);
				size = 0;
			}
			off += size;
		}
	}
	if (off > UINT32_MAX - 8)
		off = UINT32_MAX - 8;
	st->t.size = roundup(off, 8);
	st->t.align = 8;
	st->state = 2;
}

/* ------------------------------------------------------------------------
 * The schema hash
 *
 * CANONICAL FORM.  The hash covers what the runtime and the image depend
 * on: every table entry, with doc strings and line numbers left out, so
 * that rewording a doc string keeps MCPG_SCHEMA_HASH and images valid.  The
 * text is a sequence of lines, each ending in "\n", fields separated by one
 * space:
 *
 *   mcpg-schema 1
 *   root T
 *   type I NAME KIND ALIGN SIZE FIRST COUNT ELEM SET_WORDS    (all types)
 *   field I NAME TYPE FLAGS OFFSET SET_BIT FORMAT ROOTS MIN MAX ITEMS_MIN
 *         ITEMS_MAX PATTERN SCHEMES UNIQUE_FIELD DFLT DEPRECATED
 *   value I NAME TEXT
 *   variant I NAME TEXT TYPE
 *   union TYPE TAG_KEY NEST_KEY
 *   rule NAME
 *
 * (a field line is one line).  Records appear in table order, each table
 * after the previous one.  Numbers are decimal (signed for set_bit, min and
 * max); strings are written as LEN:BYTES with LEN in decimal, so any byte may
 * appear in them; a NULL string is "-".  hash_hex is the SHA-256 of this
 * text; hash is its first 8 bytes read big-endian.
 */

static void
canon_str(struct buf *b, const char *s)
{
	if (!s) {
		buf_str(b, " -");
		return;
	}
	buf_printf(b, " %zu:", strlen(s));
	buf_str(b, s);
}

static void
schema_hash(const struct mcpg_schema *s, uint64_t *hash, char **hex)
{
	struct buf b = { 0 };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *h;

	buf_printf(&b, "mcpg-schema 1\nroot %u\n", s->root);
	for (uint32_t i = 0; i < s->ntypes; i++) {
		const struct mcpg_type *t = &s->types[i];

		buf_printf(&b, "type %" PRIu32, i);
		canon_str(&b, t->name);
		buf_printf(&b, " %u %u %u %u %u %u %u\n", t->kind, t->align, t->first, t->count,
			   t->elem, (unsigned)t->size, t->set_words);
	}
	for (uint32_t i = 0; i < s->nfields; i++) {
		const struct mcpg_field *f = &s->fields[i];

		buf_printf(&b, "field %" PRIu32, i);
		canon_str(&b, f->name);
		buf_printf(&b, " %u %u %" PRIu32 " %d %u %u %" PRId64 " %" PRId64 " %" PRIu32
			   " %" PRIu32, f->type, f->flags, f->offset, f->set_bit, f->format,
			   f->roots, f->min, f->max, f->items_min, f->items_max);
		canon_str(&b, f->pattern);
		canon_str(&b, f->schemes);
		canon_str(&b, f->unique_field);
		canon_str(&b, f->dflt);
		canon_str(&b, f->deprecated);
		buf_add(&b, "\n", 1);
	}
	for (uint32_t i = 0; i < s->nvalues; i++) {
		buf_printf(&b, "value %" PRIu32, i);
		canon_str(&b, s->values[i].name);
		canon_str(&b, s->values[i].text);
		buf_add(&b, "\n", 1);
	}
	for (uint32_t i = 0; i < s->nvariants; i++) {
		buf_printf(&b, "variant %" PRIu32, i);
		canon_str(&b, s->variants[i].name);
		canon_str(&b, s->variants[i].text);
		buf_printf(&b, " %u\n", s->variants[i].type);
	}
	for (uint32_t i = 0; i < s->nunions; i++) {
		buf_printf(&b, "union %u", s->unions[i].type);
		canon_str(&b, s->unions[i].tag_key);
		canon_str(&b, s->unions[i].nest_key);
		buf_add(&b, "\n", 1);
	}
	for (uint32_t i = 0; i < s->nrules; i++) {
		buf_str(&b, "rule");
		canon_str(&b, s->rules[i].name);
		buf_add(&b, "\n", 1);
	}

	if (!EVP_Digest(b.s, b.len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		memset(md, 0, sizeof(md)); /* cannot happen with a working libcrypto */
	*hash = 0;
	for (int i = 0; i < 8; i++)
		*hash = (*hash << 8) | md[i];
	h = mcc_alloc(65);
	for (int i = 0; i < 32; i++)
		snprintf(h + 2 * i, 3, "%02x", md[i]);
	*hex = h;
}

/* ------------------------------------------------------------------------
 * Driver
 */

const struct mcpg_schema *
mcc_sema_resolve(struct mcc_pctx *ctx)
{
	struct sema S;
	struct mcc_tok start = { NULL, 0, 1, 1 };

	memset(&S, 0, sizeof(S));
	S.ctx = ctx;
	PUSH(&S, types, ntypes, atypes)->t.name = "none";
	S.types[0].t.align = 1;
	for (unsigned i = 0; i < NPRIM; i++) {
		struct stype *st = PUSH(&S, types, ntypes, atypes);

		st->t.name = primitives[i].name;
		st->t.kind = primitives[i].kind;
		st->t.size = primitives[i].size;
		st->t.align = primitives[i].align;
		st->t.doc = primitives[i].doc;
	}
	S.nnamed = NPRIM;

	declare(&S);
	for (struct mcc_decl *d = ctx->decls; d && !ctx->d->stopped; d = d->next) {
		if (!d->type)
			continue;
		if (d->kind == MCC_D_ENUM)
			do_enum(&S, d);
		else if (d->kind == MCC_D_UNION)
			do_union(&S, d);
		else if (d->kind == MCC_D_STRUCT)
			do_struct(&S, d);
	}
	for (uint32_t i = 1; i < S.ntypes && !ctx->d->stopped; i++)
		if (S.types[i].t.kind == MCPG_K_STRUCT)
			layout(&S, (uint16_t)i);

	if (!S.root_decl) {
		mcc_sema_error(ctx, &start, "no 'root' declaration");
	} else {
		const struct mcc_tok *n = &S.root_decl->name;
		uint16_t r = find_named(&S, n);

		if (!r)
			unknown_type(&S, n);
		else if (ty(&S, r)->kind != MCPG_K_STRUCT)
			mcc_sema_error(ctx, n, "root '%.*s' is not a struct", n->len, n->s);
		else
			S.root = r;
	}
	if (S.ntypes > UINT16_MAX || S.nfields > UINT16_MAX || S.nvalues > UINT16_MAX ||
	    S.nvariants > UINT16_MAX)
		mcc_sema_error(ctx, &start,
			       "schema is too large (%" PRIu32 " types, %" PRIu32 " fields; at most 65535 each)",
			       S.ntypes, S.nfields);
	if (ctx->nerrors)
		return NULL;

	/* Copy out into the public tables. */
	struct mcpg_schema *s = mcc_alloc(sizeof(*s));
	struct mcpg_type *types = mcc_alloc(sizeof(*types) * S.ntypes);
	struct mcpg_field *fields = mcc_alloc(sizeof(*fields) * (S.nfields + 1));
	struct mcpg_enum_value *values = mcc_alloc(sizeof(*values) * (S.nvalues + 1));
	struct mcpg_variant *variants = mcc_alloc(sizeof(*variants) * (S.nvariants + 1));
	struct mcpg_union_info *unions = mcc_alloc(sizeof(*unions) * (S.nunions + 1));
	struct mcpg_rule *rules = mcc_alloc(sizeof(*rules) * (S.nrules + 1));
	char *hex;

	for (uint32_t i = 0; i < S.ntypes; i++)
		types[i] = S.types[i].t;
	for (uint32_t i = 0; i < S.nfields; i++)
		fields[i] = S.fields[i].f;
	for (uint32_t i = 0; i < S.nvalues; i++)
		values[i] = S.values[i].v;
	for (uint32_t i = 0; i < S.nvariants; i++)
		variants[i] = S.variants[i].var;
	for (uint32_t i = 0; i < S.nunions; i++)
		unions[i] = S.unions[i];
	for (uint32_t i = 0; i < S.nrules; i++)
		rules[i] = S.rules[i];
	s->types = types;
	s->ntypes = S.ntypes;
	s->fields = fields;
	s->nfields = S.nfields;
	s->values = values;
	s->nvalues = S.nvalues;
	s->variants = variants;
	s->nvariants = S.nvariants;
	s->unions = unions;
	s->nunions = S.nunions;
	s->rules = rules;
	s->nrules = S.nrules;
	s->root = S.root;
	schema_hash(s, &s->hash, &hex);
	s->hash_hex = hex;
	return s;
}
