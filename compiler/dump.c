/*
 * dump.c - `mcpgc dump`: a verified image back to YAML or JSON (see dump.h).
 *
 * Two halves.  The walker reads records from the root with the descriptor
 * tables, as the verifier does, and mirrors validate.c's lowering in reverse:
 * the same slot kinds, list strides, map entry layout and union layout
 * (tag, then the variant's keys beside it or under nest_key).  It reports
 * what it finds as events (open a mapping or a list, a key, an item, a
 * scalar, close) to the emitter, which turns them into YAML block style or
 * indented JSON.  The emitter opens a YAML collection lazily, on its first
 * entry, so an empty one can still be written as {} or [] on its key's line.
 *
 * The image is verified, so nothing here checks offsets ("verify once, then
 * trust"); every read goes through mcpg_le*() because records are not cast
 * to structs.
 */
#include "dump.h"

#include <inttypes.h>
#include <string.h>

#include "image.h"

/* Where the YAML output stands, for the next thing written. */
enum cursor {
	AT_LINE,    /* at the start of a line */
	AFTER_KEY,  /* after "key:" */
	AFTER_DASH, /* after "- ", at the column of the item's content */
};

/* An open mapping or list. */
struct frame {
	struct frame *up;
	char kind;   /* '{' or '[' */
	int indent;  /* column of its entries */
	size_t n;    /* entries so far */
};

struct dumper {
	const struct mcpg_image *img;
	const struct mcpg_schema *s;
	FILE *out;
	int json;
	enum cursor cur;
	struct frame *top;
};

static void value(struct dumper *d, const struct mcpg_field *f, uint16_t type, uint32_t at);

/* ---- Escaping ------------------------------------------------------------ */

/*
 * Write the character at p (`left` bytes remain) inside a double-quoted
 * string; returns the bytes consumed.  JSON escapes for '"', '\' and control
 * characters; \u escapes also for DEL and for the characters YAML does not
 * take as printable or treats as line breaks or a BOM (C1 controls, U+2028,
 * U+2029, U+FEFF), so that YAML and JSON both read back the same bytes.
 */
static size_t
esc_one(FILE *out, const unsigned char *p, size_t left)
{
	unsigned c = p[0];

	switch (c) {
	case '"':
		fputs("\\\"", out);
		return 1;
	case '\\':
		fputs("\\\\", out);
		return 1;
	case '\n':
		fputs("\\n", out);
		return 1;
	case '\t':
		fputs("\\t", out);
		return 1;
	case '\r':
		fputs("\\r", out);
		return 1;
	case '\b':
		fputs("\\b", out);
		return 1;
	case '\f':
		fputs("\\f", out);
		return 1;
	}
	if (c < 0x20 || c == 0x7f) {
		fprintf(out, "\\u%04x", c);
		return 1;
	}
	if (c == 0xc2 && left >= 2 && p[1] >= 0x80 && p[1] <= 0x9f) {
		fprintf(out, "\\u%04x", p[1]);
		return 2;
	}
	if (c == 0xe2 && left >= 3 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
		fprintf(out, "\\u20%02x", p[2] & 0x3f);
		return 3;
	}
	if (c == 0xef && left >= 3 && p[1] == 0xbb && p[2] == 0xbf) {
		fputs("\\ufeff", out);
		return 3;
	}
	putc((int)c, out);
	return 1;
}

/*
 * A double-quoted string.  With `dollar`, each "${" is written "$${": the
 * text is a literal config string, which the loader would otherwise parse
 * as a reference (validate.c stores "$${" unescaped).
 */
static void
quoted(FILE *out, const char *s, size_t len, int dollar)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	putc('"', out);
	while (i < len) {
		if (dollar && p[i] == '$' && i + 1 < len && p[i + 1] == '{')
			putc('$', out);
		i += esc_one(out, p + i, len - i);
	}
	putc('"', out);
}

void
mcc_dump_quoted(FILE *out, const char *s, size_t len)
{
	quoted(out, s, len, 0);
}

void
mcc_dump_json_text(FILE *out, const char *json)
{
	const unsigned char *p = (const unsigned char *)json;
	size_t len = strlen(json), i = 0;
	int in_str = 0;

	while (i < len) {
		unsigned c = p[i];

		if (!in_str) {
			putc((int)c, out);
			if (c == ':' || c == ',')
				putc(' ', out);
			in_str = c == '"';
			i++;
		} else if (c == '\\' && i + 1 < len) {
			/* An escape the JSON writer chose: keep it as it is. */
			putc('\\', out);
			putc(p[i + 1], out);
			i += 2;
		} else if (c == '"') {
			putc('"', out);
			in_str = 0;
			i++;
		} else {
			i += esc_one(out, p + i, len - i);
		}
	}
}

/* ---- The emitter --------------------------------------------------------- */

static void
spaces(struct dumper *d, int n)
{
	while (n-- > 0)
		putc(' ', d->out);
}

/* Start a mapping or a list as the value at the cursor. */
static void
open_c(struct dumper *d, struct frame *fr, char kind)
{
	fr->up = d->top;
	fr->kind = kind;
	fr->n = 0;
	if (d->json) {
		fr->indent = (d->top ? d->top->indent : 0) + 2;
		putc(kind, d->out);
	} else {
		fr->indent = d->top ? d->top->indent + 2 : 0;
	}
	d->top = fr;
}

static void
close_c(struct dumper *d, struct frame *fr)
{
	d->top = fr->up;
	if (d->json) {
		if (fr->n) {
			putc('\n', d->out);
			spaces(d, fr->indent - 2);
		}
		putc(fr->kind == '{' ? '}' : ']', d->out);
		if (!d->top)
			putc('\n', d->out);
		return;
	}
	if (fr->n)
		return; /* its last entry ended the line */
	if (d->cur == AFTER_KEY)
		putc(' ', d->out);
	fputs(fr->kind == '{' ? "{}\n" : "[]\n", d->out);
	d->cur = AT_LINE;
}

/* Start the next entry of the innermost collection. */
static void
entry(struct dumper *d)
{
	struct frame *fr = d->top;

	if (d->json) {
		if (fr->n)
			putc(',', d->out);
		putc('\n', d->out);
		spaces(d, fr->indent);
	} else if (d->cur == AFTER_DASH) {
		/* first entry of an item: it goes on the dash's line */
	} else {
		if (d->cur == AFTER_KEY)
			putc('\n', d->out);
		spaces(d, fr->indent);
	}
	fr->n++;
}

/* A key of the innermost mapping; map keys (`is_data`) are always quoted. */
static void
key(struct dumper *d, const char *name, size_t len, int is_data)
{
	entry(d);
	if (d->json || is_data)
		quoted(d->out, name, len, 0);
	else
		fwrite(name, 1, len, d->out);
	fputs(d->json ? ": " : ":", d->out);
	d->cur = AFTER_KEY;
}

static void
item(struct dumper *d)
{
	entry(d);
	if (!d->json)
		fputs("- ", d->out);
	d->cur = AFTER_DASH;
}

/* Scalars: scalar_begin(), the text, scalar_end(). */
static void
scalar_begin(struct dumper *d)
{
	if (!d->json && d->cur == AFTER_KEY)
		putc(' ', d->out);
}

static void
scalar_end(struct dumper *d)
{
	if (!d->json)
		putc('\n', d->out);
	d->cur = AT_LINE;
}

static void
raw(struct dumper *d, const char *text)
{
	scalar_begin(d);
	fputs(text, d->out);
	scalar_end(d);
}

static void
string(struct dumper *d, const char *s, size_t len, int dollar)
{
	scalar_begin(d);
	quoted(d->out, s, len, dollar);
	scalar_end(d);
}

static void
redacted(struct dumper *d)
{
	string(d, "<redacted>", 10, 0);
}

/* ---- Reading the image --------------------------------------------------- */

static uint8_t
rd8(const struct dumper *d, uint32_t at)
{
	return d->img->data[at];
}

static uint32_t
rd32(const struct dumper *d, uint32_t at)
{
	return mcpg_le32(d->img->data + at);
}

static uint64_t
rd64(const struct dumper *d, uint32_t at)
{
	return mcpg_le64(d->img->data + at);
}

static const struct mcpg_type *
T(const struct dumper *d, uint16_t type)
{
	return &d->s->types[type];
}

/* A pool string (never an IPOL ref) and its length. */
static const char *
pool(const struct dumper *d, uint32_t ref, size_t *len)
{
	*len = mcpg_le32(d->img->strs + ref);
	return (const char *)d->img->strs + ref + 4;
}

/* Whether segments [first, first + n) hold a reference. */
static int
segs_have_refs(const struct dumper *d, uint32_t first, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (d->img->segs[first + i].kind != MCPG_SEG_LIT)
			return 1;
	return 0;
}

/* Whether a slot of this kind holds a value (0 means absent for these). */
static int
slot_present(const struct dumper *d, uint8_t kind, uint32_t at)
{
	switch (kind) {
	case MCPG_K_STRING:
	case MCPG_K_JSON:
	case MCPG_K_TEMPLATE:
	case MCPG_K_EXPR:
	case MCPG_K_UNION:
		return rd32(d, at) != 0;
	}
	return 1;
}

/* Whether field `f` of the record at `rec` is printed. */
static int
present(const struct dumper *d, const struct mcpg_field *f, uint32_t rec)
{
	const struct mcpg_type *t = T(d, f->type);
	uint32_t at = rec + f->offset;

	if (t->kind != MCPG_K_OPTIONAL)
		return slot_present(d, t->kind, at);

	const struct mcpg_type *e = T(d, t->elem);

	if (e->kind == MCPG_K_STRUCT)
		return rd32(d, at) != 0;
	if (f->set_bit >= 0)
		return (rd64(d, rec) >> f->set_bit) & 1;
	return slot_present(d, e->kind, at);
}

/* ---- The walk ------------------------------------------------------------ */

/* The fields of struct `type` whose record is at `rec`, into the open mapping. */
static void
fields(struct dumper *d, uint16_t type, uint32_t rec)
{
	const struct mcpg_type *t = T(d, type);

	for (uint16_t i = 0; i < t->count; i++) {
		const struct mcpg_field *f = &d->s->fields[t->first + i];

		if (!present(d, f, rec))
			continue;
		key(d, f->name, strlen(f->name), 0);
		value(d, f, f->type, rec + f->offset);
	}
}

static void
record(struct dumper *d, uint16_t type, uint32_t rec)
{
	struct frame fr;

	open_c(d, &fr, '{');
	fields(d, type, rec);
	close_c(d, &fr);
}

static void
union_value(struct dumper *d, uint16_t type, uint32_t at)
{
	const struct mcpg_type *t = T(d, type);
	const struct mcpg_union_info *u = mcpg_schema_union(d->s, type);
	uint32_t tag = rd32(d, at), ref = rd32(d, at + 4);
	const struct mcpg_variant *v;
	struct frame fr;

	if (!tag || !u) {
		raw(d, "null");
		return;
	}
	v = &d->s->variants[t->first + tag - 1];
	open_c(d, &fr, '{');
	key(d, u->tag_key, strlen(u->tag_key), 0);
	string(d, v->text, strlen(v->text), 0);
	if (v->type && u->nest_key) {
		key(d, u->nest_key, strlen(u->nest_key), 0);
		record(d, v->type, ref);
	} else if (v->type) {
		fields(d, v->type, ref);
	}
	close_c(d, &fr);
}

static uint32_t
stride_of(const struct mcpg_type *t)
{
	uint32_t a = t->align ? t->align : 1;

	return (t->size + a - 1) / a * a;
}

static void
list_value(struct dumper *d, const struct mcpg_field *f, uint16_t type, uint32_t at)
{
	const struct mcpg_type *t = T(d, type);
	uint32_t ref = rd32(d, at), n = rd32(d, at + 4);
	uint32_t stride = stride_of(T(d, t->elem));
	struct frame fr;

	open_c(d, &fr, '[');
	for (uint32_t i = 0; ref && i < n; i++) {
		item(d);
		value(d, f, t->elem, ref + i * stride);
	}
	close_c(d, &fr);
}

static void
map_value(struct dumper *d, const struct mcpg_field *f, uint16_t type, uint32_t at)
{
	const struct mcpg_type *t = T(d, type);
	const struct mcpg_type *e = T(d, t->elem);
	uint32_t ref = rd32(d, at), n = rd32(d, at + 4);
	/* The entry layout of validate.c's lower_map(). */
	uint32_t voff = e->align == 8 ? 8 : 4;
	uint32_t ealign = e->align > 4 ? e->align : 4;
	uint32_t stride = (voff + e->size + ealign - 1) / ealign * ealign;
	struct frame fr;

	open_c(d, &fr, '{');
	for (uint32_t i = 0; ref && i < n; i++) {
		uint32_t ent = ref + i * stride;
		size_t len;
		const char *k = pool(d, rd32(d, ent), &len);

		key(d, k, len, 1);
		value(d, f, t->elem, ent + voff);
	}
	close_c(d, &fr);
}

/* A string slot: literal, or an IPOL entry written as its source. */
static void
string_value(struct dumper *d, int secret, uint32_t ref)
{
	const char *s;
	size_t len;

	if (ref == 0) {
		raw(d, "null");
	} else if (ref & MCPG_STRREF_IPOL) {
		s = pool(d, d->img->ipol[ref & ~MCPG_STRREF_IPOL].src, &len);
		string(d, s, len, 0);
	} else if (secret) {
		redacted(d);
	} else {
		s = pool(d, ref, &len);
		string(d, s, len, 1);
	}
}

/*
 * A template slot (1 + TMPL index): its source as written.  A sensitive one
 * is shown only when it holds references (then it names its secret).
 */
static void
template_value(struct dumper *d, int secret, uint32_t idx)
{
	const struct mcpg_img_tmpl *tm;
	const char *s;
	size_t len;

	if (!idx) {
		raw(d, "null");
		return;
	}
	tm = &d->img->tmpl[idx - 1];
	if (secret && !segs_have_refs(d, tm->seg_off, tm->seg_n)) {
		redacted(d);
		return;
	}
	s = pool(d, tm->src, &len);
	string(d, s, len, 0);
}

/*
 * The value of type `type` in the slot at `at`.  `f` is the field that
 * declared it (for lists and maps, the list's or map's field: its flags
 * cover every element), NULL for the root.
 */
static void
value(struct dumper *d, const struct mcpg_field *f, uint16_t type, uint32_t at)
{
	const struct mcpg_type *t = T(d, type);
	int secret = f && (f->flags & MCPG_F_SENSITIVE);
	char buf[32];
	const char *s;
	size_t len;
	uint32_t i;

	switch (t->kind) {
	case MCPG_K_BOOL:
	case MCPG_K_INT:
	case MCPG_K_UINT:
	case MCPG_K_ENUM:
		if (secret) {
			redacted(d);
		} else if (t->kind == MCPG_K_BOOL) {
			raw(d, rd8(d, at) ? "true" : "false");
		} else if (t->kind == MCPG_K_ENUM) {
			s = d->s->values[t->first + rd8(d, at)].text;
			string(d, s, strlen(s), 0);
		} else {
			if (t->kind == MCPG_K_INT)
				snprintf(buf, sizeof(buf), "%" PRId64, (int64_t)rd64(d, at));
			else
				snprintf(buf, sizeof(buf), "%" PRIu64, rd64(d, at));
			raw(d, buf);
		}
		break;
	case MCPG_K_STRING:
		string_value(d, secret, rd32(d, at));
		break;
	case MCPG_K_JSON:
		i = rd32(d, at);
		if (!i) {
			raw(d, "null");
		} else if (secret) {
			redacted(d);
		} else {
			scalar_begin(d);
			mcc_dump_json_text(d->out, pool(d, i, &len));
			scalar_end(d);
		}
		break;
	case MCPG_K_TEMPLATE:
		template_value(d, secret, rd32(d, at));
		break;
	case MCPG_K_EXPR:
		i = rd32(d, at);
		if (!i) {
			raw(d, "null");
		} else if (secret) {
			redacted(d);
		} else {
			s = pool(d, d->img->expr[i - 1].src, &len);
			string(d, s, len, 0);
		}
		break;
	case MCPG_K_STRUCT:
		record(d, type, at);
		break;
	case MCPG_K_OPTIONAL:
		if (T(d, t->elem)->kind == MCPG_K_STRUCT) {
			i = rd32(d, at);
			if (i)
				record(d, t->elem, i);
			else
				raw(d, "null");
		} else {
			value(d, f, t->elem, at);
		}
		break;
	case MCPG_K_UNION:
		union_value(d, type, at);
		break;
	case MCPG_K_LIST:
		list_value(d, f, type, at);
		break;
	case MCPG_K_MAP:
		map_value(d, f, type, at);
		break;
	default:
		raw(d, "null");
		break;
	}
}

int
mcc_dump(const struct mcpg_image *img, FILE *out, int json)
{
	struct dumper d = { img, img->schema, out, json, AT_LINE, NULL };

	if (!json)
		fprintf(out, "# mcpg image sha256 %s, schema %s\n", img->digest_hex,
			img->schema->hash_hex ? img->schema->hash_hex : "");
	record(&d, img->schema->root, MCPG_IMG_ROOT_REF);
	fflush(out);
	return ferror(out) ? -1 : 0;
}
