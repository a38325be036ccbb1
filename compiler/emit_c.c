/*
 * emit_c.c - the C half of `mcpgc gen`: generated/mcpg_config.h (record
 * layouts, enums, accessors, MCPG_SCHEMA_HASH) and generated/mcpg_schema.c
 * (the descriptor tables).
 *
 * The layout is not computed here: sema.c has already placed every field
 * (runtime/image_format.h gives the rules) and recorded offsets and sizes in
 * the tables.  This file only prints them, with explicit padding members and
 * a _Static_assert for every offset, so a disagreement between the tables
 * and the C compiler's view of a record fails the build instead of reading
 * the wrong bytes.
 *
 * Naming in mcpg_config.h (mcpg_ for everything, as the runtime API):
 *   struct mcpg_S                   record of struct S
 *   enum mcpg_E, MCPG_E_V           enum E, value V (schema order, from 0)
 *   enum mcpg_U_tag, MCPG_U_V       union U's tag: MCPG_U_NONE = 0, variants from 1
 *   MCPG_E__COUNT, MCPG_U__COUNT    one past the highest value
 *   struct mcpg_T_entry             entry of a map {T}: u32 key, then the value
 *   mcpg_S_F(img, rec[, &n])        accessor of field F of S
 *   mcpg_S_has_F(img, rec)          optional scalar F was set
 *   mcpg_U_tag(img, slot)           tag of a union slot
 *   mcpg_U_V(img, slot)             the record of variant V, or NULL
 *   mcpg_cfg(img)                   the root record, typed (image.h's
 *                                   mcpg_root() gives it as const void *)
 * A member whose name is a C keyword (or `set`) gets a trailing underscore;
 * accessor names keep the schema name.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "emit.h"

/* Width the trailing comments of records and enums try to stay within. */
#define LINE_MAX_COLS 120

static const char *const kind_names[] = {
	[MCPG_K_BOOL] = "MCPG_K_BOOL",         [MCPG_K_INT] = "MCPG_K_INT",
	[MCPG_K_UINT] = "MCPG_K_UINT",         [MCPG_K_STRING] = "MCPG_K_STRING",
	[MCPG_K_JSON] = "MCPG_K_JSON",         [MCPG_K_TEMPLATE] = "MCPG_K_TEMPLATE",
	[MCPG_K_EXPR] = "MCPG_K_EXPR",         [MCPG_K_ENUM] = "MCPG_K_ENUM",
	[MCPG_K_STRUCT] = "MCPG_K_STRUCT",     [MCPG_K_UNION] = "MCPG_K_UNION",
	[MCPG_K_LIST] = "MCPG_K_LIST",         [MCPG_K_MAP] = "MCPG_K_MAP",
	[MCPG_K_OPTIONAL] = "MCPG_K_OPTIONAL",
};

static const char *const flag_names[] = {
	"MCPG_F_REQUIRED", "MCPG_F_SENSITIVE", "MCPG_F_RESTART",
	"MCPG_F_DEPRECATED", "MCPG_F_LITERAL", "MCPG_F_NONEMPTY",
	"MCPG_F_UNIQUE", "MCPG_F_HAS_RANGE", "MCPG_F_HAS_ITEMS",
	"MCPG_F_HAS_DEFAULT",
};

static const char *const format_names[] = {
	[MCPG_FMT_NONE] = "MCPG_FMT_NONE",
	[MCPG_FMT_SOCKET_ADDR] = "MCPG_FMT_SOCKET_ADDR",
	[MCPG_FMT_URL] = "MCPG_FMT_URL",
	[MCPG_FMT_ABS_PATH] = "MCPG_FMT_ABS_PATH",
	[MCPG_FMT_FILE_PATH] = "MCPG_FMT_FILE_PATH",
	[MCPG_FMT_CIDR] = "MCPG_FMT_CIDR",
	[MCPG_FMT_HOST] = "MCPG_FMT_HOST",
};

static const char *const root_names[] = {
	"MCPG_ROOT_ENV", "MCPG_ROOT_ARGUMENTS", "MCPG_ROOT_IDENTITY",
};

/*
 * Member names that cannot be used as they are: C11 keywords, the macros of
 * the headers mcpg_config.h includes, names some compilers predefine, and
 * `set`, the record's set mask.
 */
static const char *const c_reserved[] = {
	"_Alignas", "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic",
	"_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local",
	"alignas", "alignof", "asm", "auto", "bool", "break", "case", "char",
	"complex", "const", "continue", "default", "do", "double", "else", "enum",
	"errno", "extern", "false", "float", "for", "goto", "i386", "if",
	"imaginary", "inline", "int", "linux", "long", "noreturn", "offsetof",
	"register", "restrict", "return", "set", "short", "signed", "sizeof",
	"static", "static_assert", "struct", "switch", "true", "typedef",
	"typeof", "union", "unix", "unsigned", "void", "volatile", "while",
};

static int
is_c_reserved(const char *name)
{
	for (size_t i = 0; i < sizeof(c_reserved) / sizeof(c_reserved[0]); i++)
		if (!strcmp(name, c_reserved[i]))
			return 1;
	return 0;
}

/* The record member for a field name. */
static const char *
member(const char *name)
{
	return is_c_reserved(name) ? mcc_printf("%s_", name) : name;
}

static char *
upper(const char *s)
{
	char *p = mcc_strdup(s);

	for (char *q = p; *q; q++)
		if (*q >= 'a' && *q <= 'z')
			*q = (char)(*q - 'a' + 'A');
	return p;
}

/* A name for a type expression usable inside a C identifier. */
static const char *
tname(const struct mcpg_schema *s, uint32_t t)
{
	const struct mcpg_type *ty = mcc_type(s, t);

	switch (ty->kind) {
	case MCPG_K_BOOL: return "bool";
	case MCPG_K_INT: return "int";
	case MCPG_K_UINT: return "uint";
	case MCPG_K_STRING: return "string";
	case MCPG_K_JSON: return "json";
	case MCPG_K_TEMPLATE: return "template";
	case MCPG_K_EXPR: return "expr";
	case MCPG_K_LIST: return mcc_printf("%s_list", tname(s, ty->elem));
	case MCPG_K_MAP: return mcc_printf("%s_map", tname(s, ty->elem));
	case MCPG_K_OPTIONAL: return mcc_printf("%s_opt", tname(s, ty->elem));
	default: return ty->name ? ty->name : "unnamed";
	}
}

/* The C type of a slot of type t (a record member or an array element). */
static const char *
slot_ctype(const struct mcpg_schema *s, uint32_t t)
{
	const struct mcpg_type *ty = mcc_type(s, t);

	switch (ty->kind) {
	case MCPG_K_BOOL:
	case MCPG_K_ENUM: return "uint8_t";
	case MCPG_K_INT: return "int64_t";
	case MCPG_K_UINT: return "uint64_t";
	case MCPG_K_STRING:
	case MCPG_K_JSON:
	case MCPG_K_TEMPLATE:
	case MCPG_K_EXPR: return "uint32_t";
	case MCPG_K_STRUCT: return mcc_printf("struct mcpg_%s", ty->name);
	case MCPG_K_UNION: return "struct mcpg_union_slot";
	case MCPG_K_LIST:
	case MCPG_K_MAP: return "struct mcpg_list";
	case MCPG_K_OPTIONAL:
		if (mcc_type(s, ty->elem)->kind == MCPG_K_STRUCT)
			return "uint32_t";
		return slot_ctype(s, ty->elem);
	default: return "uint8_t";
	}
}

/*
 * Size and alignment of a slot, from the tables (sema.c's layout).  The
 * static asserts in mcpg_config.h check that the C types agree.
 */
static uint32_t
slot_size(const struct mcpg_schema *s, uint32_t t)
{
	return mcc_type(s, t)->size;
}

static uint32_t
slot_align(const struct mcpg_schema *s, uint32_t t)
{
	uint32_t a = mcc_type(s, t)->align;

	return a ? a : 1;
}

static uint32_t
round_up(uint32_t v, uint32_t a)
{
	return (v + a - 1) / a * a;
}

/* ---------------------------------------------------------------------------
 * C string literals
 */

static void
c_string(struct mcc_out *o, const char *str)
{
	if (!str) {
		mcc_out_puts(o, "NULL");
		return;
	}
	mcc_out_putc(o, '"');
	for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
		switch (*p) {
		case '"': mcc_out_puts(o, "\\\""); break;
		case '\\': mcc_out_puts(o, "\\\\"); break;
		case '\n': mcc_out_puts(o, "\\n"); break;
		case '\t': mcc_out_puts(o, "\\t"); break;
		case '?':
			/* -std=c11 has trigraphs: never print "??". */
			mcc_out_puts(o, p[1] == '?' ? "?\\" : "?");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				mcc_out_printf(o, "\\%03o", *p);
			else
				mcc_out_putc(o, *p);
		}
	}
	mcc_out_putc(o, '"');
}

/* A comment's text: no end of comment, no trigraph. */
static const char *
comment_text(const char *text)
{
	char *p = mcc_strdup(text);

	for (char *q = p; (q = strstr(q, "*/")); q++)
		q[1] = '|';
	for (char *q = p; (q = strstr(q, "??")); q++)
		q[1] = '!';
	return p;
}

static const char *
i64_literal(int64_t v)
{
	if (v == INT64_MIN)
		return "INT64_MIN";
	if (v == INT64_MAX)
		return "INT64_MAX";
	return mcc_printf("%" PRId64, v);
}

static const char *
u32_literal(uint32_t v)
{
	if (v == UINT32_MAX)
		return "UINT32_MAX";
	return mcc_printf(v > INT32_MAX ? "%" PRIu32 "u" : "%" PRIu32, v);
}

static const char *
flags_expr(unsigned flags)
{
	char *e = NULL;

	for (unsigned i = 0; i < 16; i++) {
		if (!(flags & (1u << i)))
			continue;
		const char *n = i < sizeof(flag_names) / sizeof(flag_names[0])
			? flag_names[i] : mcc_printf("(1 << %u)", i);
		e = e ? mcc_printf("%s | %s", e, n) : mcc_strdup(n);
	}
	return e ? e : "0";
}

static const char *
roots_expr(unsigned roots)
{
	char *e = NULL;

	for (unsigned i = 0; i < 8; i++) {
		if (!(roots & (1u << i)))
			continue;
		const char *n = i < 3 ? root_names[i] : mcc_printf("(1 << %u)", i);
		e = e ? mcc_printf("%s | %s", e, n) : mcc_strdup(n);
	}
	return e ? e : "0";
}

static const char *
kind_expr(unsigned kind)
{
	if (kind < sizeof(kind_names) / sizeof(kind_names[0]) && kind_names[kind])
		return kind_names[kind];
	return mcc_printf("%u", kind);
}

static const char *
format_expr(unsigned fmt)
{
	if (fmt < MCPG_FMT__COUNT)
		return format_names[fmt];
	return mcc_printf("%u", fmt);
}

/* ---------------------------------------------------------------------------
 * C name checks
 */

struct cname {
	char *name;       /* "tag mcpg_x" for struct/enum tags, else the identifier */
	const char *what; /* where it comes from, for the message */
	int line;         /* schema line, or 0 */
	uint32_t seq;     /* insertion order: ties sort stably */
};

struct cnames {
	struct cname *v;
	size_t nr, alloc;
};

static void
cname_add(struct cnames *c, char *name, const char *what, int line)
{
	if (c->nr == c->alloc) {
		size_t n = c->alloc ? 2 * c->alloc : 256;

		c->v = mcc_grow(c->v, c->nr, n, sizeof(*c->v));
		c->alloc = n;
	}
	c->v[c->nr] = (struct cname){ name, what, line, (uint32_t)c->nr };
	c->nr++;
}

static int
cname_cmp(const void *a, const void *b)
{
	const struct cname *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Tags and identifiers the runtime headers declare. */
static const char *const runtime_names[] = {
	"tag mcpg_type", "tag mcpg_field", "tag mcpg_enum_value",
	"tag mcpg_variant", "tag mcpg_union_info", "tag mcpg_rule",
	"tag mcpg_schema", "tag mcpg_image", "tag mcpg_list",
	"tag mcpg_union_slot", "tag mcpg_img_ipol", "tag mcpg_img_tmpl",
	"tag mcpg_img_seg", "tag mcpg_img_expr", "tag mcpg_kind",
	"tag mcpg_field_flags", "tag mcpg_format", "tag mcpg_roots",
	"tag mcpg_section_id", "tag mcpg_seg_kind",
	"mcpg_str", "mcpg_rec", "mcpg_le16", "mcpg_le32", "mcpg_le64",
	"mcpg_put_le16", "mcpg_put_le32", "mcpg_put_le64", "mcpg_schema",
	"mcpg_schema_union", "MCPG_SCHEMA_HASH", "MCPG_SCHEMA_HASH_HEX",
	"mcpg_root", "mcpg_str_len", "tag mcpg_verify_error", "tag mcpg_verify_code",
	"mcpg_verify_strerror", "mcpg_verify_code_name",
};

/* Enum and union names whose constants would land in a runtime prefix. */
static const char *const runtime_prefixes[] = {
	"k", "f", "fmt", "root", "sec", "secf", "seg", "img", "hdr", "schema",
	"section", "kind", "verr", "verify", "strref",
};

int
mcc_check_c_names(const struct mcpg_schema *s, const char *schema_path,
		  struct mcc_diag *d)
{
	struct cnames c = { 0 };
	int nerr = 0;

	for (size_t i = 0; i < sizeof(runtime_names) / sizeof(runtime_names[0]); i++)
		cname_add(&c, mcc_strdup(runtime_names[i]), "the runtime", 0);
	cname_add(&c, mcc_strdup("mcpg_cfg"), "the root accessor", 0);

	for (uint32_t t = 0; t < s->ntypes; t++) {
		const struct mcpg_type *ty = mcc_type(s, t);
		const char *n = ty->name;

		switch (ty->kind) {
		case MCPG_K_ENUM:
		case MCPG_K_UNION: {
			const char *what = mcc_printf("%s '%s'",
				ty->kind == MCPG_K_ENUM ? "enum" : "union", n);
			char *un = upper(n);

			for (size_t i = 0; i < sizeof(runtime_prefixes) / sizeof(runtime_prefixes[0]); i++)
				if (!strcmp(n, runtime_prefixes[i])) {
					mcc_error(d, (struct mcc_loc){ schema_path, 0, 0 },
						  "%s: constants MCPG_%s_* would clash with the runtime's",
						  what, un);
					nerr++;
				}
			cname_add(&c, mcc_printf(ty->kind == MCPG_K_ENUM ? "tag mcpg_%s"
						 : "tag mcpg_%s_tag", n), what, 0);
			cname_add(&c, mcc_printf("MCPG_%s__COUNT", un), what, 0);
			if (ty->kind == MCPG_K_ENUM) {
				for (uint32_t v = ty->first; v < (uint32_t)ty->first + ty->count; v++)
					cname_add(&c, mcc_printf("MCPG_%s_%s", un, upper(s->values[v].name)),
						  mcc_printf("value '%s' of enum '%s'", s->values[v].name, n), 0);
				break;
			}
			cname_add(&c, mcc_printf("MCPG_%s_NONE", un), what, 0);
			cname_add(&c, mcc_printf("mcpg_%s_tag", n), what, 0);
			for (uint32_t v = ty->first; v < (uint32_t)ty->first + ty->count; v++) {
				const struct mcpg_variant *va = &s->variants[v];
				const char *vw = mcc_printf("variant '%s' of union '%s'", va->name, n);

				cname_add(&c, mcc_printf("MCPG_%s_%s", un, upper(va->name)), vw, 0);
				if (va->type)
					cname_add(&c, mcc_printf("mcpg_%s_%s", n, va->name), vw, 0);
			}
			break;
		}
		case MCPG_K_STRUCT: {
			const char *what = mcc_printf("struct '%s'", n);
			struct cnames m = { 0 };

			cname_add(&c, mcc_printf("tag mcpg_%s", n), what, 0);
			if (ty->set_words)
				cname_add(&m, mcc_strdup("set"), "the set mask", 0);
			for (uint32_t f = ty->first; f < (uint32_t)ty->first + ty->count; f++) {
				const struct mcpg_field *fd = &s->fields[f];
				const char *fw = mcc_printf("field '%s.%s'", n, fd->name);

				cname_add(&c, mcc_printf("mcpg_%s_%s", n, fd->name), fw, fd->line);
				if (fd->set_bit >= 0)
					cname_add(&c, mcc_printf("mcpg_%s_has_%s", n, fd->name), fw,
						  fd->line);
				cname_add(&m, mcc_strdup(member(fd->name)), fw, fd->line);
			}
			/* Members: distinct, and clear of the _padN names. */
			if (m.nr)
				qsort(m.v, m.nr, sizeof(*m.v), cname_cmp);
			for (size_t i = 0; i < m.nr; i++) {
				if (!strncmp(m.v[i].name, "_pad", 4)) {
					mcc_error(d, (struct mcc_loc){ schema_path, m.v[i].line, 0 },
						  "%s: names beginning with '_pad' are reserved for padding",
						  m.v[i].what);
					nerr++;
				}
				if (i && !strcmp(m.v[i].name, m.v[i - 1].name)) {
					mcc_error(d, (struct mcc_loc){ schema_path, m.v[i].line, 0 },
						  "%s: C member '%s' is already used by %s",
						  m.v[i].what, m.v[i].name, m.v[i - 1].what);
					nerr++;
				}
			}
			break;
		}
		case MCPG_K_MAP:
			cname_add(&c, mcc_printf("tag mcpg_%s_entry", tname(s, ty->elem)),
				  mcc_printf("map type '%s'", n ? n : "?"), 0);
			break;
		default:
			break;
		}
	}
	if (c.nr)
		qsort(c.v, c.nr, sizeof(*c.v), cname_cmp);
	for (size_t i = 1; i < c.nr; i++) {
		if (strcmp(c.v[i].name, c.v[i - 1].name))
			continue;
		const char *id = c.v[i].name;
		int is_tag = !strncmp(id, "tag ", 4);

		mcc_error(d, (struct mcc_loc){ schema_path, c.v[i].line, 0 },
			  "%s: C name '%s%s' is already used by %s", c.v[i].what,
			  is_tag ? "struct/enum " : "", is_tag ? id + 4 : id,
			  c.v[i - 1].what);
		nerr++;
	}
	return nerr;
}

/* ---------------------------------------------------------------------------
 * mcpg_config.h
 */

/* Append a trailing-comment line "\tDECL; /" "* COMMENT *" "/" at a column. */
static void
decl_line(struct mcc_out *o, const char *decl, int width, const char *comment)
{
	if (!comment || !*comment) {
		mcc_out_printf(o, "\t%s\n", decl);
		return;
	}
	mcc_out_printf(o, "\t%-*s /* %s */\n", width, decl, comment);
}

/* The comment of a record member: "TYPE: first sentence of the doc". */
static const char *
field_comment(const struct mcpg_schema *s, const struct mcpg_field *f, int width)
{
	const struct mcpg_type *ft = mcc_type(s, f->type);
	const char *hint = ft->name ? ft->name : "";
	int room;

	if (f->set_bit >= 0)
		hint = mcc_printf("%s, set bit %d", hint, f->set_bit);
	room = LINE_MAX_COLS - 8 - width - 1 - 6 - (int)strlen(hint) - 2;

	if (room < 40)
		room = 40;
	return comment_text(mcc_printf("%s: %s", hint, mcc_doc_summary(f->doc, (size_t)room)));
}

/* Emit struct t after the inline structs it contains; done[] marks emitted ones. */
static void emit_record(struct mcc_out *o, const struct mcpg_schema *s, uint32_t t,
			char *done);

static void
emit_record_deps(struct mcc_out *o, const struct mcpg_schema *s, uint32_t t,
		 char *done)
{
	const struct mcpg_type *ty = mcc_type(s, t);

	for (uint32_t f = ty->first; f < (uint32_t)ty->first + ty->count; f++) {
		uint32_t ft = s->fields[f].type;

		if (mcc_type(s, ft)->kind == MCPG_K_STRUCT)
			emit_record(o, s, ft, done);
	}
}

/* Field a sorts before field b: by offset, then schema order. */
static int
before(const struct mcpg_schema *s, uint32_t a, uint32_t b)
{
	if (s->fields[a].offset != s->fields[b].offset)
		return s->fields[a].offset < s->fields[b].offset;
	return a < b;
}

/* Insertion sort of field indexes: records are small. */
static void
sort_fields(uint32_t *idx, uint32_t n, const struct mcpg_schema *s)
{
	for (uint32_t i = 1; i < n; i++) {
		uint32_t v = idx[i], j = i;

		while (j > 0 && before(s, v, idx[j - 1])) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
}

struct member {
	const char *decl;               /* "uint32_t tls;", or a #error line */
	const struct mcpg_field *field; /* NULL for padding and the set mask */
	const char *comment;
};

static void
emit_record(struct mcc_out *o, const struct mcpg_schema *s, uint32_t t, char *done)
{
	const struct mcpg_type *ty = mcc_type(s, t);
	uint32_t n = ty->count, cur = 0, npad = 0;
	uint32_t *idx;
	struct member *mv;
	size_t nm = 0;
	int width = 0;

	if (done[t])
		return;
	done[t] = 1;
	emit_record_deps(o, s, t, done);

	idx = mcc_alloc((n + 1) * sizeof(*idx));
	mv = mcc_alloc((2 * n + 3) * sizeof(*mv));
	for (uint32_t i = 0; i < n; i++)
		idx[i] = ty->first + i;
	sort_fields(idx, n, s);

	if (ty->set_words) {
		mv[nm++] = (struct member){ "uint64_t set;", NULL,
					    "1 << set bit: that optional scalar was set" };
		cur = 8;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct mcpg_field *f = &s->fields[idx[i]];

		if (f->offset > cur)
			mv[nm++] = (struct member){
				mcc_printf("uint8_t _pad%u[%u];", npad++, f->offset - cur), NULL, NULL };
		if (f->offset < cur)
			/* The tables are inconsistent: make the build fail loudly. */
			mv[nm++] = (struct member){
				mcc_printf("#error \"mcpgc: field %s.%s overlaps\"", ty->name,
					   f->name), NULL, NULL };
		mv[nm++] = (struct member){
			mcc_printf("%s %s;", slot_ctype(s, f->type), member(f->name)), f, NULL };
		cur = f->offset + slot_size(s, f->type);
	}
	if (ty->size > cur)
		mv[nm++] = (struct member){
			mcc_printf("uint8_t _pad%u[%u];", npad++, ty->size - cur), NULL, NULL };
	for (size_t i = 0; i < nm; i++) {
		int w = (int)strlen(mv[i].decl);

		if (mv[i].decl[0] != '#' && w > width)
			width = w;
	}
	if (width > 40)
		width = 40;

	if (ty->doc)
		mcc_out_printf(o, "/* %s */\n",
			       comment_text(mcc_doc_summary(ty->doc, LINE_MAX_COLS - 6)));
	mcc_out_printf(o, "struct mcpg_%s {\n", ty->name);
	if (!nm) /* ISO C has no empty structs; the size assert says what is wrong */
		mcc_out_puts(o, "\tuint8_t _pad0[1];\n");
	for (size_t i = 0; i < nm; i++) {
		if (mv[i].decl[0] == '#')
			mcc_out_printf(o, "%s\n", mv[i].decl);
		else
			decl_line(o, mv[i].decl, width,
				  mv[i].field ? field_comment(s, mv[i].field, width)
					      : mv[i].comment);
	}
	mcc_out_puts(o, "};\n");
	mcc_out_printf(o, "_Static_assert(sizeof(struct mcpg_%s) == %u, \"struct mcpg_%s\");\n",
		       ty->name, ty->size, ty->name);
	for (uint32_t i = 0; i < n; i++) {
		const struct mcpg_field *f = &s->fields[idx[i]];

		mcc_out_printf(o, "_Static_assert(offsetof(struct mcpg_%s, %s) == %u, \"%s.%s\");\n",
			       ty->name, member(f->name), f->offset, ty->name, f->name);
	}
	mcc_out_putc(o, '\n');
}

/* struct mcpg_T_entry for map type t. */
static void
emit_map_entry(struct mcc_out *o, const struct mcpg_schema *s, uint32_t t)
{
	uint32_t e = mcc_type(s, t)->elem;
	uint32_t al = slot_align(s, e), ea = al > 4 ? al : 4;
	uint32_t voff = round_up(4, al), end = voff + slot_size(s, e);
	uint32_t stride = round_up(end, ea);
	const char *name = mcc_printf("%s_entry", tname(s, e));
	const char *ty = mcc_type(s, t)->name;

	mcc_out_printf(o, "/* An entry of a map %s: the key, then the value. */\n",
		       comment_text(ty ? ty : "?"));
	mcc_out_printf(o, "struct mcpg_%s {\n\tuint32_t key; /* strref */\n", name);
	if (voff > 4)
		mcc_out_printf(o, "\tuint8_t _pad0[%u];\n", voff - 4);
	mcc_out_printf(o, "\t%s value;\n", slot_ctype(s, e));
	if (stride > end)
		mcc_out_printf(o, "\tuint8_t _pad%u[%u];\n", voff > 4 ? 1 : 0, stride - end);
	mcc_out_puts(o, "};\n");
	mcc_out_printf(o, "_Static_assert(sizeof(struct mcpg_%s) == %u, \"struct mcpg_%s\");\n",
		       name, stride, name);
	mcc_out_printf(o, "_Static_assert(offsetof(struct mcpg_%s, value) == %u, \"%s value\");\n\n",
		       name, voff, name);
}

/* Return type and body of the accessor for field f. */
static void
emit_accessor(struct mcc_out *o, const struct mcpg_schema *s, const char *sname,
	      const struct mcpg_field *f)
{
	const struct mcpg_type *ft = mcc_type(s, f->type);
	const char *m = member(f->name);
	const char *params = mcc_printf("const struct mcpg_image *img, const struct mcpg_%s *rec",
					sname);
	const char *ret = NULL, *body = NULL;
	uint32_t vt = f->type;

	/* Optional scalars read like the scalar; has_ says whether it was set. */
	if (ft->kind == MCPG_K_OPTIONAL && mcc_type(s, ft->elem)->kind != MCPG_K_STRUCT)
		vt = ft->elem;

	const struct mcpg_type *vty = mcc_type(s, vt);
	switch (vty->kind) {
	case MCPG_K_BOOL:
		ret = "bool";
		body = mcc_printf("(void)img; return rec->%s != 0;", m);
		break;
	case MCPG_K_INT:
		ret = "int64_t";
		body = mcc_printf("(void)img; return rec->%s;", m);
		break;
	case MCPG_K_UINT:
		ret = "uint64_t";
		body = mcc_printf("(void)img; return rec->%s;", m);
		break;
	case MCPG_K_STRING:
	case MCPG_K_JSON:
		ret = "const char *";
		body = mcc_printf("return mcpg_str(img, rec->%s);", m);
		break;
	case MCPG_K_TEMPLATE:
	case MCPG_K_EXPR:
		ret = "uint32_t";
		body = mcc_printf("(void)img; return rec->%s; /* 0 or 1 + index into %s */", m,
				  vty->kind == MCPG_K_TEMPLATE ? "TMPL" : "EXPR");
		break;
	case MCPG_K_ENUM:
		ret = mcc_printf("enum mcpg_%s", vty->name);
		body = mcc_printf("(void)img; return (enum mcpg_%s)rec->%s;", vty->name, m);
		break;
	case MCPG_K_STRUCT:
		ret = mcc_printf("const struct mcpg_%s *", vty->name);
		body = mcc_printf("(void)img; return &rec->%s;", m);
		break;
	case MCPG_K_UNION:
		ret = "const struct mcpg_union_slot *";
		body = mcc_printf("(void)img; return &rec->%s;", m);
		break;
	case MCPG_K_OPTIONAL: {
		const char *et = mcc_type(s, vty->elem)->name;

		ret = mcc_printf("const struct mcpg_%s *", et);
		body = mcc_printf("return rec->%s ? mcpg_rec(img, rec->%s) : NULL;", m, m);
		break;
	}
	case MCPG_K_LIST:
	case MCPG_K_MAP: {
		uint32_t e = vty->elem;

		if (vty->kind == MCPG_K_MAP)
			ret = mcc_printf("const struct mcpg_%s_entry *", tname(s, e));
		else
			ret = mcc_printf("const %s *", slot_ctype(s, e));
		params = mcc_printf("%s, uint32_t *n", params);
		body = mcc_printf("*n = rec->%s.n; return *n ? mcpg_rec(img, rec->%s.ref) : NULL;",
				  m, m);
		break;
	}
	default:
		return;
	}
	mcc_out_printf(o, "static inline %s\nmcpg_%s_%s(%s)\n{ %s }\n", ret, sname, f->name,
		       params, body);
	if (f->set_bit >= 0)
		mcc_out_printf(o, "static inline bool\nmcpg_%s_has_%s(const struct mcpg_image *img, "
			       "const struct mcpg_%s *rec)\n{ (void)img; return (rec->set >> %d & 1) != 0; }\n",
			       sname, f->name, sname, f->set_bit);
}

void
mcc_emit_config_h(struct mcc_out *o, const struct mcpg_schema *s, const char *schema_path)
{
	char *done = mcc_alloc(s->ntypes + 1);

	mcc_out_printf(o, "/* " MCC_GEN_BANNER " */\n", schema_path);
	mcc_out_puts(o,
		"/*\n"
		" * mcpg_config.h - the config image's records, enums and accessors.\n"
		" *\n"
		" * Every record of the DATA section (runtime/image_format.h) as a C struct\n"
		" * with explicit padding, checked against the schema's offsets at compile\n"
		" * time.  Accessors take the verified image and a record; they do no checks\n"
		" * (verify once, then trust) and return borrowed pointers into the mapping.\n"
		" * Lists and maps return their first element and the count through `n`.\n"
		" */\n"
		"#ifndef MCPG_CONFIG_H\n"
		"#define MCPG_CONFIG_H\n"
		"\n"
		"#include <stdbool.h>\n"
		"#include <stddef.h>\n"
		"#include <stdint.h>\n"
		"\n"
		"#include \"image.h\"\n"
		"\n");
	mcc_out_printf(o, "#define MCPG_SCHEMA_HASH 0x%016" PRIx64 "ULL\n", s->hash);
	mcc_out_puts(o, "#define MCPG_SCHEMA_HASH_HEX ");
	c_string(o, s->hash_hex ? s->hash_hex : "");
	mcc_out_puts(o, "\n\n"
		"/* A list or map slot: `n` elements at DATA offset `ref` (0 when n is 0). */\n"
		"struct mcpg_list {\n\tuint32_t ref, n;\n};\n\n"
		"/* A union slot: tag 0 = absent, else 1 + variant index; `ref` is the\n"
		"   variant's record in DATA (0 for a variant without keys). */\n"
		"struct mcpg_union_slot {\n\tuint32_t tag, ref;\n};\n\n");

	/* Enums, then union tags, in schema order. */
	for (uint32_t t = 0; t < s->ntypes; t++) {
		const struct mcpg_type *ty = mcc_type(s, t);
		char *un;

		if (ty->kind != MCPG_K_ENUM && ty->kind != MCPG_K_UNION)
			continue;
		un = upper(ty->name);
		if (ty->doc)
			mcc_out_printf(o, "/* %s */\n",
				       comment_text(mcc_doc_summary(ty->doc, LINE_MAX_COLS - 6)));
		if (ty->kind == MCPG_K_ENUM) {
			mcc_out_printf(o, "enum mcpg_%s {\n", ty->name);
			for (uint32_t i = 0; i < ty->count; i++) {
				const struct mcpg_enum_value *v = &s->values[ty->first + i];

				const char *decl = mcc_printf("MCPG_%s_%s = %u,", un,
							      upper(v->name), i);
				int room = LINE_MAX_COLS - 8 - (int)strlen(decl) - 1 - 6 -
					   (int)strlen(v->text) - 4;

				mcc_out_printf(o, "\t%s /* \"%s\"", decl, comment_text(v->text));
				if (v->doc && *v->doc)
					mcc_out_printf(o, ": %s", comment_text(mcc_doc_summary(
						v->doc, (size_t)(room < 24 ? 24 : room))));
				mcc_out_puts(o, " */\n");
			}
			mcc_out_printf(o, "\tMCPG_%s__COUNT = %u\n};\n\n", un, ty->count);
		} else {
			const struct mcpg_union_info *ui = mcpg_schema_union(s, (uint16_t)t);

			mcc_out_printf(o, "enum mcpg_%s_tag {\n\tMCPG_%s_NONE = 0,\n", ty->name, un);
			for (uint32_t i = 0; i < ty->count; i++) {
				const struct mcpg_variant *v = &s->variants[ty->first + i];

				mcc_out_printf(o, "\tMCPG_%s_%s = %u, /* %s: \"%s\"", un,
					       upper(v->name), i + 1,
					       ui ? ui->tag_key : "tag", comment_text(v->text));
				if (v->type)
					mcc_out_printf(o, ", struct mcpg_%s",
						       mcc_type(s, v->type)->name);
				mcc_out_puts(o, " */\n");
			}
			mcc_out_printf(o, "\tMCPG_%s__COUNT = %u\n};\n\n", un, ty->count + 1);
		}
	}

	/* Records: schema order, each after the records it holds inline. */
	for (uint32_t t = 0; t < s->ntypes; t++)
		if (mcc_type(s, t)->kind == MCPG_K_STRUCT)
			emit_record(o, s, t, done);
	for (uint32_t t = 0; t < s->ntypes; t++)
		if (mcc_type(s, t)->kind == MCPG_K_MAP)
			emit_map_entry(o, s, t);

	/* Accessors. */
	if (s->root < s->ntypes && mcc_type(s, s->root)->kind == MCPG_K_STRUCT)
		mcc_out_printf(o, "/* The root record (DATA offset MCPG_IMG_ROOT_REF). */\n"
			       "static inline const struct mcpg_%s *\nmcpg_cfg(const struct mcpg_image *img)\n"
			       "{ return mcpg_root(img); }\n\n", mcc_type(s, s->root)->name);
	for (uint32_t t = 0; t < s->ntypes; t++) {
		const struct mcpg_type *ty = mcc_type(s, t);

		if (ty->kind == MCPG_K_STRUCT) {
			if (!ty->count)
				continue;
			mcc_out_printf(o, "/* struct %s */\n", ty->name);
			for (uint32_t i = 0; i < ty->count; i++)
				emit_accessor(o, s, ty->name, &s->fields[ty->first + i]);
			mcc_out_putc(o, '\n');
		} else if (ty->kind == MCPG_K_UNION) {
			char *un = upper(ty->name);

			mcc_out_printf(o, "/* union %s */\n", ty->name);
			mcc_out_printf(o, "static inline enum mcpg_%s_tag\nmcpg_%s_tag(const struct mcpg_image *img, "
				       "const struct mcpg_union_slot *u)\n{ (void)img; return (enum mcpg_%s_tag)u->tag; }\n",
				       ty->name, ty->name, ty->name);
			for (uint32_t i = 0; i < ty->count; i++) {
				const struct mcpg_variant *v = &s->variants[ty->first + i];

				if (!v->type)
					continue;
				mcc_out_printf(o, "static inline const struct mcpg_%s *\n"
					       "mcpg_%s_%s(const struct mcpg_image *img, const struct mcpg_union_slot *u)\n"
					       "{ return u->tag == MCPG_%s_%s ? mcpg_rec(img, u->ref) : NULL; }\n",
					       mcc_type(s, v->type)->name, ty->name, v->name, un,
					       upper(v->name));
			}
			mcc_out_putc(o, '\n');
		}
	}
	mcc_out_puts(o, "#endif /* MCPG_CONFIG_H */\n");
}

/* ---------------------------------------------------------------------------
 * mcpg_schema.c
 */

/* ", .name = VALUE" for a member that is not zero or NULL. */
static void
member_str(struct mcc_out *o, const char *name, const char *value)
{
	if (!value)
		return;
	mcc_out_printf(o, "\n\t  .%s = ", name);
	c_string(o, value);
	mcc_out_putc(o, ',');
}

static void
member_raw(struct mcc_out *o, const char *name, const char *value)
{
	mcc_out_printf(o, " .%s = %s,", name, value);
}

void
mcc_emit_schema_c(struct mcc_out *o, const struct mcpg_schema *s, const char *schema_path)
{
	mcc_out_printf(o, "/* " MCC_GEN_BANNER " */\n", schema_path);
	mcc_out_printf(o,
		"/*\n"
		" * mcpg_schema.c - the descriptor tables of %s\n"
		" * (runtime/schema_desc.h): what the validator, the image writer and the\n"
		" * image verifier walk.  Printed back from the tables the DSL front end\n"
		" * resolved, entry for entry.\n"
		" */\n"
		"#include <stddef.h>\n"
		"#include <stdint.h>\n"
		"\n"
		"#include \"schema_desc.h\"\n"
		"\n", comment_text(schema_path));

	if (s->ntypes) {
		mcc_out_puts(o, "/* name, kind, align, first, count, elem, size, set_words, doc */\n"
			     "static const struct mcpg_type types[] = {\n");
		for (uint32_t i = 0; i < s->ntypes; i++) {
			const struct mcpg_type *t = &s->types[i];

			mcc_out_printf(o, "\t/* %u */ { ", i);
			c_string(o, t->name);
			mcc_out_printf(o, ", %s, %u, %u, %u, %u, %" PRIu32 ", %u,%s",
				       kind_expr(t->kind), t->align, t->first, t->count,
				       t->elem, t->size, t->set_words, t->doc ? "\n\t\t" : " ");
			c_string(o, t->doc);
			mcc_out_puts(o, " },\n");
		}
		mcc_out_puts(o, "};\n\n");
	}

	if (s->nfields) {
		mcc_out_puts(o, "static const struct mcpg_field fields[] = {\n");
		for (uint32_t i = 0; i < s->nfields; i++) {
			const struct mcpg_field *f = &s->fields[i];
			int owner = mcc_field_owner(s, i);

			mcc_out_printf(o, "\t/* %u: %s.%s */ {", i,
				       owner >= 0 ? comment_text(s->types[owner].name) : "?",
				       comment_text(f->name ? f->name : "?"));
			member_str(o, "name", f->name);
			mcc_out_puts(o, "\n\t ");
			member_raw(o, "type", mcc_printf("%u", f->type));
			member_raw(o, "offset", mcc_printf("%" PRIu32, f->offset));
			member_raw(o, "set_bit", mcc_printf("%d", f->set_bit));
			member_raw(o, "line", mcc_printf("%u", f->line));
			if (f->flags) {
				mcc_out_puts(o, "\n\t ");
				member_raw(o, "flags", flags_expr(f->flags));
			}
			if (f->format || f->roots) {
				mcc_out_puts(o, "\n\t ");
				if (f->format)
					member_raw(o, "format", format_expr(f->format));
				if (f->roots)
					member_raw(o, "roots", roots_expr(f->roots));
			}
			if (f->min || f->max) {
				mcc_out_puts(o, "\n\t ");
				member_raw(o, "min", i64_literal(f->min));
				member_raw(o, "max", i64_literal(f->max));
			}
			if (f->items_min || f->items_max) {
				mcc_out_puts(o, "\n\t ");
				member_raw(o, "items_min", u32_literal(f->items_min));
				member_raw(o, "items_max", u32_literal(f->items_max));
			}
			member_str(o, "pattern", f->pattern);
			member_str(o, "schemes", f->schemes);
			member_str(o, "unique_field", f->unique_field);
			member_str(o, "dflt", f->dflt);
			member_str(o, "deprecated", f->deprecated);
			member_str(o, "doc", f->doc);
			mcc_out_puts(o, " },\n");
		}
		mcc_out_puts(o, "};\n\n");
	}

	if (s->nvalues) {
		mcc_out_puts(o, "/* name, text, doc */\n"
			     "static const struct mcpg_enum_value values[] = {\n");
		for (uint32_t i = 0; i < s->nvalues; i++) {
			const struct mcpg_enum_value *v = &s->values[i];

			mcc_out_printf(o, "\t/* %u */ { ", i);
			c_string(o, v->name);
			mcc_out_puts(o, ", ");
			c_string(o, v->text);
			mcc_out_puts(o, ",\n\t\t");
			c_string(o, v->doc);
			mcc_out_puts(o, " },\n");
		}
		mcc_out_puts(o, "};\n\n");
	}

	if (s->nvariants) {
		mcc_out_puts(o, "/* name, text, type, doc */\n"
			     "static const struct mcpg_variant variants[] = {\n");
		for (uint32_t i = 0; i < s->nvariants; i++) {
			const struct mcpg_variant *v = &s->variants[i];

			mcc_out_printf(o, "\t/* %u */ { ", i);
			c_string(o, v->name);
			mcc_out_puts(o, ", ");
			c_string(o, v->text);
			mcc_out_printf(o, ", %u,\n\t\t", v->type);
			c_string(o, v->doc);
			mcc_out_puts(o, " },\n");
		}
		mcc_out_puts(o, "};\n\n");
	}

	if (s->nunions) {
		mcc_out_puts(o, "/* type, tag_key, nest_key */\n"
			     "static const struct mcpg_union_info unions[] = {\n");
		for (uint32_t i = 0; i < s->nunions; i++) {
			const struct mcpg_union_info *u = &s->unions[i];

			mcc_out_printf(o, "\t{ %u, ", u->type);
			c_string(o, u->tag_key);
			mcc_out_puts(o, ", ");
			c_string(o, u->nest_key);
			mcc_out_puts(o, " },\n");
		}
		mcc_out_puts(o, "};\n\n");
	}

	if (s->nrules) {
		mcc_out_puts(o, "/* name, doc: implemented in compiler/rules.c */\n"
			     "static const struct mcpg_rule rules[] = {\n");
		for (uint32_t i = 0; i < s->nrules; i++) {
			mcc_out_puts(o, "\t{ ");
			c_string(o, s->rules[i].name);
			mcc_out_puts(o, ",\n\t\t");
			c_string(o, s->rules[i].doc);
			mcc_out_puts(o, " },\n");
		}
		mcc_out_puts(o, "};\n\n");
	}

	mcc_out_puts(o, "const struct mcpg_schema mcpg_schema = {\n");
#define TABLE(arr, n)                                                              \
	mcc_out_printf(o, "\t." #arr " = %s, ." #n " = %" PRIu32 ",\n",           \
		       s->n ? #arr : "NULL", s->n)
	TABLE(types, ntypes);
	TABLE(fields, nfields);
	TABLE(values, nvalues);
	TABLE(variants, nvariants);
	TABLE(unions, nunions);
	TABLE(rules, nrules);
#undef TABLE
	mcc_out_printf(o, "\t.root = %u,\n", s->root);
	mcc_out_printf(o, "\t.hash = 0x%016" PRIx64 "ULL,\n", s->hash);
	mcc_out_puts(o, "\t.hash_hex = ");
	c_string(o, s->hash_hex);
	mcc_out_puts(o, ",\n};\n");
}
