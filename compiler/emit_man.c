/*
 * emit_man.c - generated/mcpg-config.5, the key-by-key reference, in mdoc.
 *
 * Every key appears as a dotted path from the root of the YAML document:
 *   gateway.server.bind_address     a key of a mapping
 *   mcp.tools[].name                a key of each element of a list
 *   upstreams.<name>.url            a key of each entry of a map
 *   mcp.tools[].backend.url (kind: http)
 *                                   a key that exists for one variant of a union
 * with its type, default, constraints, flags and doc string.  One subsection
 * per key of the root struct.  The same walk (walk_struct) also lists the
 * paths alone for `mcpgc-gen --keys` and the tests that check every key is
 * documented.
 *
 * Output must pass `mandoc -Tlint -W warning`: text lines never start with
 * '.' or '\'', carry no tabs or trailing blanks, and user text is escaped.
 */
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "emit.h"

/* Deeper than any sane schema; guards against a recursive type. */
#define MAX_DEPTH 32

struct walk {
	struct mcc_out *o;
	const struct mcpg_schema *s;
	int man;                 /* 1: the man page; 0: paths only */
	uint32_t stack[MAX_DEPTH];
	int depth;
};

/* ---------------------------------------------------------------------------
 * roff text
 */

/* Escape for roff: backslashes, and (in quoted macro arguments) quotes. */
static void
roff_escaped(struct mcc_out *o, const char *s, int quoted)
{
	for (; *s; s++) {
		if (*s == '\\')
			mcc_out_puts(o, "\\e");
		else if (quoted && *s == '"')
			mcc_out_puts(o, "\\(dq");
		else if (*s == '\t' || *s == '\n' || *s == '\r')
			mcc_out_putc(o, ' ');
		else
			mcc_out_putc(o, *s);
	}
}

/* A quoted macro argument: never taken for a macro name. */
static void
roff_arg(struct mcc_out *o, const char *s)
{
	mcc_out_putc(o, '"');
	roff_escaped(o, s, 1);
	mcc_out_putc(o, '"');
}

/*
 * Free text as text lines: white space collapsed, one sentence per line
 * (mdoc's rule; it also keeps roff's sentence spacing right), no line that
 * starts with a control character.
 */
static void
roff_text(struct mcc_out *o, const char *text)
{
	size_t n = strlen(text), len = 0;
	char *line = mcc_alloc(n + 1);

	for (size_t i = 0; i <= n; i++) {
		char c = text[i];
		int space = c == ' ' || c == '\t' || c == '\n' || c == '\r';

		if (c && !space) {
			line[len++] = c;
			continue;
		}
		/* End of a word. */
		int end = !c;
		if (!end && len && strchr(".?!", line[len - 1]) &&
		    !(len >= 4 && (!strncmp(line + len - 4, "e.g.", 4) ||
				   !strncmp(line + len - 4, "i.e.", 4))))
			end = 1;
		if (end) {
			if (len) {
				line[len] = '\0';
				if (line[0] == '.' || line[0] == '\'')
					mcc_out_puts(o, "\\&");
				roff_escaped(o, line, 0);
				mcc_out_putc(o, '\n');
			}
			len = 0;
		} else if (len && line[len - 1] != ' ') {
			line[len++] = ' ';
		}
	}
}

/* ---------------------------------------------------------------------------
 * Describing a key
 */

static const char *
roots_text(unsigned roots)
{
	static const char *const names[] = { "env", "arguments", "identity" };
	char *t = NULL;

	for (unsigned i = 0; i < 3; i++)
		if (roots & (1u << i))
			t = t ? mcc_printf("%s, %s", t, names[i]) : mcc_strdup(names[i]);
	return t ? t : "none";
}

static const char *
type_text(const struct mcpg_schema *s, uint32_t t, const struct mcpg_field *f)
{
	const struct mcpg_type *ty = mcc_type(s, t);

	switch (ty->kind) {
	case MCPG_K_BOOL: return "boolean";
	case MCPG_K_INT: return "integer";
	case MCPG_K_UINT: return "unsigned integer";
	case MCPG_K_STRING: return "string";
	case MCPG_K_JSON: return "any value (stored as JSON)";
	case MCPG_K_TEMPLATE:
		return mcc_printf("request-time template (roots: %s)", roots_text(f ? f->roots : 0));
	case MCPG_K_EXPR:
		return mcc_printf("expression (roots: %s)", roots_text(f ? f->roots : 0));
	case MCPG_K_ENUM: return mcc_printf("%s (values below)", ty->name);
	case MCPG_K_STRUCT: return mcc_printf("mapping (%s)", ty->name);
	case MCPG_K_UNION: {
		const struct mcpg_union_info *ui = mcpg_schema_union(s, (uint16_t)t);

		return mcc_printf("mapping (%s, selected by %s)", ty->name,
				  ui && ui->tag_key ? ui->tag_key : "its tag");
	}
	case MCPG_K_LIST: return mcc_printf("list of %s", type_text(s, ty->elem, f));
	case MCPG_K_MAP:
		return mcc_printf("mapping from names to %s", type_text(s, ty->elem, f));
	case MCPG_K_OPTIONAL: return mcc_printf("%s, optional", type_text(s, ty->elem, f));
	default: return "unknown";
	}
}

static const char *const format_text[] = {
	[MCPG_FMT_NONE] = NULL,
	[MCPG_FMT_SOCKET_ADDR] = "a socket address (host:port or [v6]:port)",
	[MCPG_FMT_URL] = "a URL",
	[MCPG_FMT_ABS_PATH] = "an absolute path beginning with /",
	[MCPG_FMT_FILE_PATH] = "a file system path",
	[MCPG_FMT_CIDR] = "an IP address with an optional /prefix",
	[MCPG_FMT_HOST] = "a host name or address",
};

/* The default as the user writes it: a JSON string without its quotes. */
static const char *
default_text(const char *dflt)
{
	size_t n = strlen(dflt);

	if (n < 2 || dflt[0] != '"' || dflt[n - 1] != '"')
		return dflt;
	struct mcc_out o = MCC_OUT_INIT;
	for (size_t i = 1; i + 1 < n; i++) {
		if (dflt[i] == '\\' && i + 2 < n) {
			i++;
			switch (dflt[i]) {
			case 'n': mcc_out_putc(&o, '\n'); break;
			case 't': mcc_out_putc(&o, '\t'); break;
			case 'u': mcc_out_puts(&o, "\\u"); break; /* kept as written */
			default: mcc_out_putc(&o, dflt[i]); break;
			}
			continue;
		}
		mcc_out_putc(&o, dflt[i]);
	}
	mcc_out_add(&o, "", 0);
	char *r = mcc_strdup(o.buf);
	mcc_out_release(&o);
	return r;
}

/* ".Ql" with an argument, closing punctuation after it. */
static void
ql(struct mcc_out *o, const char *lead, const char *value, const char *punct)
{
	mcc_out_printf(o, "%s\n.Ql ", lead);
	if (*value)
		roff_arg(o, value);
	else
		mcc_out_puts(o, "\\&");
	mcc_out_printf(o, " %s\n", punct);
}

static const char *
range_text(int64_t min, int64_t max)
{
	if (min == INT64_MIN && max == INT64_MAX)
		return "any";
	if (max == INT64_MAX)
		return mcc_printf("%lld or more", (long long)min);
	if (min == INT64_MIN)
		return mcc_printf("at most %lld", (long long)max);
	return mcc_printf("%lld to %lld", (long long)min, (long long)max);
}

/* Text that ends a sentence: a full stop added when it has none. */
static const char *
sentence(const char *text)
{
	size_t n = strlen(text);

	if (n && strchr(".?!", text[n - 1]))
		return text;
	return mcc_printf("%s.", text);
}

static void
field_body(struct walk *w, const struct mcpg_field *f)
{
	struct mcc_out *o = w->o;
	const struct mcpg_schema *s = w->s;
	const struct mcpg_type *ft = mcc_type(s, f->type);
	uint32_t base = f->type;
	char *flags = NULL;

	while (mcc_type(s, base)->kind == MCPG_K_OPTIONAL ||
	       mcc_type(s, base)->kind == MCPG_K_LIST || mcc_type(s, base)->kind == MCPG_K_MAP)
		base = mcc_type(s, base)->elem;

	if (f->doc)
		roff_text(o, f->doc);
	if (f->flags & MCPG_F_DEPRECATED)
		roff_text(o, mcc_printf("Deprecated%s%s", f->deprecated ? ": " : ".",
					f->deprecated ? sentence(f->deprecated) : ""));
	mcc_out_puts(o, ".Pp\n");
	roff_text(o, mcc_printf("Type: %s.", type_text(s, f->type, f)));
	if ((f->flags & MCPG_F_HAS_DEFAULT) && f->dflt)
		ql(o, "Default:", default_text(f->dflt), ".");
	else if (ft->kind == MCPG_K_OPTIONAL)
		mcc_out_puts(o, "Default: absent.\n");
	else if (ft->kind == MCPG_K_LIST || ft->kind == MCPG_K_MAP)
		mcc_out_puts(o, "Default: empty.\n");

	/* Constraints. */
	if (f->format && f->format < MCPG_FMT__COUNT)
		mcc_out_printf(o, "Format: %s.\n", format_text[f->format]);
	if (f->schemes) {
		char *list = NULL;

		for (const char *p = f->schemes; *p;) {
			size_t n = strcspn(p, " ,");

			if (n)
				list = list ? mcc_printf("%s, %.*s", list, (int)n, p)
					    : mcc_strndup(p, n);
			p += n;
			p += strspn(p, " ,");
		}
		mcc_out_puts(o, "URL schemes:\n");
		roff_text(o, mcc_printf("%s.", list ? list : ""));
	}
	if (f->flags & MCPG_F_HAS_RANGE) {
		int is_len = mcc_type(s, base)->kind == MCPG_K_STRING;

		mcc_out_printf(o, "%s: %s.\n", is_len ? "Length" : "Range",
			       range_text(f->min, f->max));
	}
	if (f->flags & MCPG_F_HAS_ITEMS)
		mcc_out_printf(o, "%s: %s.\n", ft->kind == MCPG_K_MAP ? "Entries" : "Items",
			       range_text(f->items_min,
					  f->items_max ? (int64_t)f->items_max : INT64_MAX));
	if (f->pattern)
		ql(o, "Must match the extended regular expression", f->pattern, ".");
	if (f->flags & MCPG_F_UNIQUE) {
		if (f->unique_field)
			ql(o, "Elements are unique by", f->unique_field, ".");
		else
			mcc_out_puts(o, "Elements are unique.\n");
	}
	if (f->flags & MCPG_F_NONEMPTY)
		mcc_out_puts(o, "Must not be blank.\n");
	if (f->flags & MCPG_F_LITERAL && mcc_type(s, base)->kind == MCPG_K_STRING)
		mcc_out_puts(o, "Taken literally: no\n.Li ${env.NAME}\nreferences.\n");

	if (f->flags & MCPG_F_REQUIRED)
		flags = mcc_strdup("required");
	if (f->flags & MCPG_F_SENSITIVE)
		flags = flags ? mcc_printf("%s, sensitive", flags) : mcc_strdup("sensitive");
	if (f->flags & MCPG_F_RESTART)
		flags = flags ? mcc_printf("%s, restart", flags) : mcc_strdup("restart");
	if (f->flags & MCPG_F_DEPRECATED)
		flags = flags ? mcc_printf("%s, deprecated", flags) : mcc_strdup("deprecated");
	if (flags)
		mcc_out_printf(o, "Flags: %s.\n", flags);
	if (mcc_type(s, base)->kind == MCPG_K_ENUM) {
		const struct mcpg_type *et = mcc_type(s, base);

		mcc_out_puts(o, "Values:\n.Bl -tag -width Ds -compact\n");
		for (uint32_t i = et->first; i < (uint32_t)et->first + et->count; i++) {
			mcc_out_puts(o, ".It Li ");
			roff_arg(o, s->values[i].text);
			mcc_out_putc(o, '\n');
			roff_text(o, s->values[i].doc ? s->values[i].doc : "");
		}
		mcc_out_puts(o, ".El\n");
	}
}

/* ---------------------------------------------------------------------------
 * The walk
 */

static void walk_type(struct walk *w, uint32_t t, const char *path, const char *cond);

static void
item(struct walk *w, const char *path, const char *cond)
{
	if (!w->man) {
		mcc_out_printf(w->o, "%s%s\n", path, cond);
		return;
	}
	mcc_out_puts(w->o, ".It Li ");
	roff_arg(w->o, mcc_printf("%s%s", path, cond));
	mcc_out_putc(w->o, '\n');
}

/* " (kind: http)", nested as " (kind: http, transport: sse)". */
static const char *
add_cond(const char *cond, const char *tag, const char *text)
{
	size_t n = strlen(cond);

	if (!n)
		return mcc_printf(" (%s: %s)", tag, text);
	return mcc_printf("%.*s, %s: %s)", (int)(n - 1), cond, tag, text);
}

static int
on_stack(const struct walk *w, uint32_t t)
{
	for (int i = 0; i < w->depth; i++)
		if (w->stack[i] == t)
			return 1;
	return 0;
}

static void
walk_struct(struct walk *w, uint32_t t, const char *prefix, const char *cond)
{
	const struct mcpg_type *st = mcc_type(w->s, t);

	if (on_stack(w, t) || w->depth >= MAX_DEPTH)
		return;
	w->stack[w->depth++] = t;
	for (uint32_t i = st->first; i < (uint32_t)st->first + st->count; i++) {
		const struct mcpg_field *f = &w->s->fields[i];
		const char *path = *prefix ? mcc_printf("%s.%s", prefix, f->name) : f->name;

		item(w, path, cond);
		if (w->man)
			field_body(w, f);
		walk_type(w, f->type, path, cond);
	}
	w->depth--;
}

static void
walk_union(struct walk *w, uint32_t t, const char *path, const char *cond)
{
	const struct mcpg_schema *s = w->s;
	const struct mcpg_type *ut = mcc_type(s, t);
	const struct mcpg_union_info *ui = mcpg_schema_union(s, (uint16_t)t);
	const char *tag = ui && ui->tag_key ? ui->tag_key : "kind";
	const char *nest = ui ? ui->nest_key : NULL;

	if (on_stack(w, t) || w->depth >= MAX_DEPTH)
		return;
	w->stack[w->depth++] = t;
	item(w, mcc_printf("%s.%s", path, tag), cond);
	if (w->man) {
		roff_text(w->o, mcc_printf("Selects the kind of %s.", ut->name));
		if (ut->doc)
			roff_text(w->o, ut->doc);
		mcc_out_puts(w->o, ".Pp\nType: one of\n.Bl -tag -width Ds -compact\n");
		for (uint32_t i = ut->first; i < (uint32_t)ut->first + ut->count; i++) {
			mcc_out_puts(w->o, ".It Li ");
			roff_arg(w->o, s->variants[i].text);
			mcc_out_putc(w->o, '\n');
			roff_text(w->o, s->variants[i].doc ? s->variants[i].doc : "");
		}
		mcc_out_puts(w->o, ".El\nFlags: required.\n");
	}
	if (nest) {
		item(w, mcc_printf("%s.%s", path, nest), cond);
		if (w->man) {
			mcc_out_printf(w->o, "The settings of the selected %s; the keys below, by %s.\n",
				       ut->name, tag);
			mcc_out_puts(w->o, ".Pp\nType: mapping.\n");
		}
	}
	for (uint32_t i = ut->first; i < (uint32_t)ut->first + ut->count; i++) {
		const struct mcpg_variant *v = &s->variants[i];

		if (!v->type)
			continue;
		walk_struct(w, v->type, nest ? mcc_printf("%s.%s", path, nest) : path,
			    add_cond(cond, tag, v->text));
	}
	w->depth--;
}

static void
walk_type(struct walk *w, uint32_t t, const char *path, const char *cond)
{
	const struct mcpg_type *ty = mcc_type(w->s, t);

	switch (ty->kind) {
	case MCPG_K_STRUCT:
		walk_struct(w, t, path, cond);
		break;
	case MCPG_K_UNION:
		walk_union(w, t, path, cond);
		break;
	case MCPG_K_OPTIONAL:
		walk_type(w, ty->elem, path, cond);
		break;
	case MCPG_K_LIST:
		walk_type(w, ty->elem, mcc_printf("%s[]", path), cond);
		break;
	case MCPG_K_MAP:
		walk_type(w, ty->elem, mcc_printf("%s.<name>", path), cond);
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------------------
 * The page
 */

void
mcc_emit_keys(struct mcc_out *o, const struct mcpg_schema *s)
{
	struct walk w = { .o = o, .s = s, .man = 0 };

	if (s->root < s->ntypes && mcc_type(s, s->root)->kind == MCPG_K_STRUCT)
		walk_struct(&w, s->root, "", "");
}

void
mcc_emit_man(struct mcc_out *o, const struct mcpg_schema *s, const char *schema_path)
{
	struct walk w = { .o = o, .s = s, .man = 1 };
	const struct mcpg_type *root = NULL;

	if (s->root < s->ntypes && mcc_type(s, s->root)->kind == MCPG_K_STRUCT)
		root = mcc_type(s, s->root);

	mcc_out_puts(o, ".\\\" ");
	roff_escaped(o, mcc_printf(MCC_GEN_BANNER, schema_path), 0);
	mcc_out_puts(o, "\n"
		".Dd $Mdocdate$\n"
		".Dt MCPG-CONFIG 5\n"
		".Os\n"
		".Sh NAME\n"
		".Nm mcpg-config\n"
		".Nd mcpg configuration keys\n"
		".Sh DESCRIPTION\n");
	if (root && root->doc) {
		roff_text(o, root->doc);
		mcc_out_puts(o, ".Pp\n");
	}
	mcc_out_puts(o,
		"The configuration of\n"
		".Xr mcpg 8\n"
		"is YAML, read and checked by\n"
		".Xr mcpgc 1 ,\n"
		"which compiles it into a config image\n"
		".Pq Xr mcpg-image 5 .\n"
		"It may be split into layers\n"
		".Pq Ev MCPG_CONFIG Ns = Ns Pa base.yaml : Ns Pa override.yaml :\n"
		"mappings merge key by key, and a later layer replaces scalars and lists\n"
		"whole.\n"
		"Setting an optional key to\n"
		".Li null\n"
		"resets it to its default.\n"
		"Unknown keys are errors.\n"
		".Pp\n"
		"This page lists every key as a dotted path from the top of the document.\n"
		"A key inside each element of a list is written\n"
		".Li list[].key ,\n"
		"a key inside each entry of a mapping with names of your choosing\n"
		".Li map.<name>.key ,\n"
		"and a key that exists for one kind of a tagged mapping is followed by\n"
		"that kind, as in\n"
		".Li backend.url (kind: http) .\n"
		".Pp\n"
		"Flags:\n"
		".Bl -tag -width deprecated -compact\n"
		".It required\n"
		"some layer must set the key; it has no default.\n"
		".It sensitive\n"
		"the value is never printed in messages or dumps.\n"
		".It restart\n"
		"a reload reports a change of this key instead of applying it; restart\n"
		".Xr mcpg 8\n"
		"to apply it.\n"
		".It deprecated\n"
		"accepted with a warning.\n"
		".El\n"
		".Sh KEYS\n");
	if (root) {
		for (uint32_t i = root->first; i < (uint32_t)root->first + root->count; i++) {
			const struct mcpg_field *f = &s->fields[i];

			mcc_out_puts(o, ".Ss ");
			roff_arg(o, f->name);
			mcc_out_puts(o, "\n.Bl -tag -width Ds\n");
			w.stack[0] = s->root;
			w.depth = 1;
			item(&w, f->name, "");
			field_body(&w, f);
			walk_type(&w, f->type, f->name, "");
			mcc_out_puts(o, ".El\n");
		}
	}
	mcc_out_puts(o,
		".Sh ENVIRONMENT\n"
		"A string value may refer to environment variables as\n"
		".Li ${env.NAME} ,\n"
		"unless its key is taken literally.\n"
		"The image stores the reference, never the value, so secrets do not enter it;\n"
		".Xr mcpg 8\n"
		"resolves references when it starts and on every reload,\n"
		"and an unset variable is an error that names the key and the variable.\n"
		".Ql $${\n"
		"writes a literal\n"
		".Ql ${ .\n"
		".Bl -tag -width MCPG_CONFIG\n"
		".It Ev MCPG_CONFIG\n"
		"The configuration files, separated by colons, merged from left to right.\n"
		".It Ev MCPG_IMAGE\n"
		"The config image\n"
		".Xr mcpg 8\n"
		"maps when no image is named on its command line.\n"
		".El\n"
		".Sh SEE ALSO\n"
		".Xr mcpgc 1 ,\n"
		".Xr mcpg-image 5 ,\n"
		".Xr mcpg-schema 5 ,\n"
		".Xr mcpg 8\n");
}
