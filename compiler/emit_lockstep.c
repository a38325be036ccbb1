/*
 * emit_lockstep.c - generated/lockstep.cases: the rejecting cases of the
 * lockstep suite, one per constraint of every key of the schema.
 *
 * Part of `mcpgc gen` (gen.c drives it like the other emitters).  The walk
 * is the one mcpg-config(5) makes (emit_man.c): every key path, with `[]`
 * for list elements and a "(kind: X)" suffix for the keys of a union
 * variant.  For each key it prints where the value sits and, for each
 * constraint the tables give it (required, type, range, items, unique,
 * nonempty, pattern, format, schemes, literal, template roots, enum values,
 * union tags), a bad value and the one diagnostic compiler/validate.c must
 * report for it, worded exactly as validate.c, format.c and interp.c word
 * it.  tests/unit/u-lockstep.c plants each bad value into a template or
 * coverage fixture that sets the key and holds the validator to it, so the
 * schema, the validator's wording and the configs we ship move in lockstep.
 * The file format is described in the comment block this emitter prints
 * at the top of the file.
 *
 * Bad values are chosen here, not written by hand: a pattern gets the first
 * of a few candidates that POSIX regexec() really rejects; an enum value or
 * union kind is checked with mcc_closest() so the did-you-mean part of the
 * message is predicted exactly.  When no value can be made (a pattern that
 * accepts every candidate), the case says `none` and the test fails.
 */
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "emit.h"

/* Deepest struct nesting the walk follows (as emit_man.c). */
#define MAX_DEPTH 32

/* The environment variable the literal cases refer to. */
#define LK_ENV_REF "${env.MCPG_LOCKSTEP}"

struct walk {
	struct mcc_out *o;
	const struct mcpg_schema *s;
	uint32_t stack[MAX_DEPTH];
	int depth;
	unsigned nkeys, ncases, nnone;
};

/*
 * Where a scalar constraint applies: the key's own value, the first element
 * of a list, or one entry of a map.
 */
enum target_kind { TG_VALUE, TG_LIST_ELEM, TG_MAP_ENTRY };

struct target {
	const char *cpath; /* concrete path of the key: every [] read as [0] */
	enum target_kind kind;
};

/* ---------------------------------------------------------------------------
 * Small helpers
 */

static const struct mcpg_type *
T(const struct walk *w, uint32_t t)
{
	return mcc_type(w->s, t);
}

/* The type under any optional wrappers. */
static uint16_t
strip(const struct walk *w, uint16_t t)
{
	while (T(w, t)->kind == MCPG_K_OPTIONAL)
		t = T(w, t)->elem;
	return t;
}

static int
is_scalar_kind(int kind)
{
	return kind != MCPG_K_STRUCT && kind != MCPG_K_UNION && kind != MCPG_K_LIST &&
	       kind != MCPG_K_MAP && kind != MCPG_K_OPTIONAL;
}

/* `path` with every "[]" read as "[0]": the element a case changes. */
static const char *
concrete(const char *path)
{
	struct mcc_out o = MCC_OUT_INIT;
	char *r;

	for (const char *p = path; *p; p++) {
		if (p[0] == '[' && p[1] == ']') {
			mcc_out_puts(&o, "[0]");
			p++;
		} else {
			mcc_out_putc(&o, *p);
		}
	}
	r = mcc_strdup(o.buf ? o.buf : "");
	mcc_out_release(&o);
	return r;
}

/* The mapping that holds the last key of a concrete path ("." for the root). */
static const char *
parent_of(const char *cpath)
{
	const char *dot = strrchr(cpath, '.');

	return dot ? mcc_strndup(cpath, (size_t)(dot - cpath)) : ".";
}

/* A YAML double-quoted scalar holding `s` (JSON escapes are YAML escapes). */
static const char *
quoted(const char *s)
{
	struct mcc_out o = MCC_OUT_INIT;
	char *r;

	mcc_out_putc(&o, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			mcc_out_printf(&o, "\\%c", c);
		else if (c < 0x20)
			mcc_out_printf(&o, "\\x%02x", c);
		else
			mcc_out_putc(&o, c);
	}
	mcc_out_putc(&o, '"');
	r = mcc_strdup(o.buf);
	mcc_out_release(&o);
	return r;
}

/* validate.c's mcc_type_phrase(), for "expected X" in type errors. */
static const char *
type_phrase(const struct walk *w, uint16_t t)
{
	switch (T(w, t)->kind) {
	case MCPG_K_BOOL:
		return "a boolean";
	case MCPG_K_INT:
		return "an integer";
	case MCPG_K_UINT:
		return "a non-negative integer";
	case MCPG_K_STRUCT:
	case MCPG_K_UNION:
	case MCPG_K_MAP:
		return "a mapping";
	case MCPG_K_LIST:
		return "a sequence";
	case MCPG_K_OPTIONAL:
		return type_phrase(w, T(w, t)->elem);
	case MCPG_K_JSON:
		return "a value";
	default:
		return "a string";
	}
}

/* The path a scalar constraint reports, and the bad value wrapped to fit. */
static const char *
target_path(const struct target *tg)
{
	switch (tg->kind) {
	case TG_LIST_ELEM:
		return mcc_printf("%s[0]", tg->cpath);
	case TG_MAP_ENTRY:
		return mcc_printf("%s.x", tg->cpath);
	default:
		return tg->cpath;
	}
}

static const char *
target_value(const struct target *tg, const char *yaml)
{
	switch (tg->kind) {
	case TG_LIST_ELEM:
		return mcc_printf("[%s]", yaml);
	case TG_MAP_ENTRY:
		return mcc_printf("{x: %s}", yaml);
	default:
		return yaml;
	}
}

/* 1 when the POSIX ERE `pattern` accepts `s` (0 also when it cannot compile). */
static int
pattern_accepts(const char *pattern, const char *s)
{
	regex_t re;
	int ok;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB))
		return 0;
	ok = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* 1 when `scheme` is in the space-separated list (format.c compares like this). */
static int
scheme_listed(const char *schemes, const char *scheme)
{
	size_t n = strlen(scheme);

	for (const char *p = schemes; *p;) {
		size_t len;

		while (*p == ' ')
			p++;
		len = strcspn(p, " ");
		if (len == n && !strncasecmp(p, scheme, n))
			return 1;
		p += len;
	}
	return 0;
}

/* ---------------------------------------------------------------------------
 * Records
 */

static void
begin_key(struct walk *w, const char *display, const char *path, const char *whens,
	  int leaf)
{
	mcc_out_printf(w->o, "\nkey %s\n  path %s\n%s", display, path, whens);
	if (leaf)
		mcc_out_puts(w->o, "  leaf\n");
	w->nkeys++;
}

/* One case; `set` NULL means the key is removed.  `col` is the offset into `at`. */
static void
emit_case(struct walk *w, const char *name, const char *set, const char *error,
	  const char *at, int col)
{
	mcc_out_printf(w->o, "case %s\n", name);
	if (set)
		mcc_out_printf(w->o, "  set %s\n", set);
	else
		mcc_out_puts(w->o, "  remove\n");
	mcc_out_printf(w->o, "  error %s\n", error);
	if (col)
		mcc_out_printf(w->o, "  at %s +%d\n", at, col);
	else
		mcc_out_printf(w->o, "  at %s\n", at);
	w->ncases++;
}

static void
emit_none(struct walk *w, const char *name, const char *why)
{
	mcc_out_printf(w->o, "case %s\n  none %s\n", name, why);
	w->ncases++;
	w->nnone++;
}

/* ---------------------------------------------------------------------------
 * Valid values, for the items of a duplicate-item case
 */

static const char *synth(struct walk *w, const struct mcpg_field *f, uint16_t t,
			 const char **text);

/* A string `f` accepts, or NULL. */
static const char *
synth_string(const struct mcpg_field *f)
{
	static const char *const cands[] = { "a", "a:b", "https://a", "A", "a1" };
	const char *s = NULL;

	switch (f->format) {
	case MCPG_FMT_SOCKET_ADDR:
		return "127.0.0.1:8080";
	case MCPG_FMT_URL:
		if (f->schemes) {
			size_t n = strcspn(f->schemes, " ");

			return mcc_printf("%.*s://localhost", (int)n, f->schemes);
		}
		return "https://localhost";
	case MCPG_FMT_ABS_PATH:
		return "/a";
	case MCPG_FMT_FILE_PATH:
		return "a";
	case MCPG_FMT_CIDR:
		return "10.0.0.0/8";
	case MCPG_FMT_HOST:
		return "localhost";
	default:
		break;
	}
	if (!f->pattern)
		s = "a";
	for (size_t i = 0; !s && i < sizeof(cands) / sizeof(cands[0]); i++)
		if (pattern_accepts(f->pattern, cands[i]))
			s = cands[i];
	if (s && (f->flags & MCPG_F_HAS_RANGE) && (int64_t)strlen(s) < f->min)
		return NULL;
	return s;
}

/* The required keys of struct `t` (and `also`, when not NULL) as flow text. */
static const char *
synth_struct(struct walk *w, uint16_t t, const char *lead, const char *also,
	     const char **also_text)
{
	const struct mcpg_type *st = T(w, t);
	const char *out = lead ? lead : "";
	int n = lead != NULL;

	for (uint32_t i = st->first; i < (uint32_t)st->first + st->count; i++) {
		const struct mcpg_field *f = &w->s->fields[i];
		int want = (f->flags & MCPG_F_REQUIRED) || (also && !strcmp(f->name, also));
		const char *text = NULL, *v;

		if (!want)
			continue;
		v = synth(w, f, f->type, &text);
		if (!v)
			return NULL;
		if (also && !strcmp(f->name, also) && also_text)
			*also_text = text;
		out = mcc_printf("%s%s%s: %s", out, n++ ? ", " : "", f->name, v);
	}
	return mcc_printf("{%s}", out);
}

/*
 * A value of type `t` that field `f` accepts, as YAML flow text, or NULL
 * when none can be made.  *text gets a scalar's text as validate.c quotes it.
 */
static const char *
synth(struct walk *w, const struct mcpg_field *f, uint16_t t, const char **text)
{
	const struct mcpg_type *ty = T(w, strip(w, t));

	switch (ty->kind) {
	case MCPG_K_BOOL:
		*text = "false";
		return *text;
	case MCPG_K_INT:
	case MCPG_K_UINT: {
		int64_t v = 0;

		if ((f->flags & MCPG_F_HAS_RANGE) && v < f->min)
			v = f->min;
		if ((f->flags & MCPG_F_HAS_RANGE) && v > f->max)
			v = f->max;
		*text = mcc_printf("%" PRId64, v);
		return *text;
	}
	case MCPG_K_STRING:
	case MCPG_K_TEMPLATE:
		*text = synth_string(f);
		return *text ? quoted(*text) : NULL;
	case MCPG_K_ENUM:
		if (!ty->count)
			return NULL;
		*text = w->s->values[ty->first].text;
		return quoted(*text);
	case MCPG_K_JSON:
		*text = "null";
		return *text;
	case MCPG_K_STRUCT:
		return synth_struct(w, strip(w, t), NULL, NULL, NULL);
	case MCPG_K_UNION: {
		const struct mcpg_union_info *u = mcpg_schema_union(w->s, strip(w, t));
		const struct mcpg_variant *v;
		const char *lead, *body;

		if (!u || !ty->count)
			return NULL;
		v = &w->s->variants[ty->first];
		lead = mcc_printf("%s: %s", u->tag_key, quoted(v->text));
		if (!v->type)
			return mcc_printf("{%s}", lead);
		if (!u->nest_key)
			return synth_struct(w, v->type, lead, NULL, NULL);
		body = synth_struct(w, v->type, NULL, NULL, NULL);
		return body ? mcc_printf("{%s, %s: %s}", lead, u->nest_key, body) : NULL;
	}
	case MCPG_K_LIST:
		return "[]";
	case MCPG_K_MAP:
		return "{}";
	default:
		return NULL; /* expressions: nothing needs one */
	}
}

/* ---------------------------------------------------------------------------
 * Cases
 */

/* A wrong-type value for type `t`, with what validate.c calls it ("a string"). */
static const char *
wrong_value(const struct walk *w, uint16_t t, const char **got)
{
	switch (T(w, strip(w, t))->kind) {
	case MCPG_K_BOOL:
		*got = "a string"; /* YAML 1.1's yes is a string here */
		return "yes";
	case MCPG_K_INT:
	case MCPG_K_UINT:
		*got = "a string";
		return "\"10\"";
	case MCPG_K_STRING:
	case MCPG_K_TEMPLATE:
	case MCPG_K_EXPR:
	case MCPG_K_ENUM:
		*got = "a boolean";
		return "true";
	case MCPG_K_LIST:
		*got = "a string";
		return "\"a\"";
	case MCPG_K_STRUCT:
	case MCPG_K_UNION:
	case MCPG_K_MAP:
		*got = "a sequence";
		return "[]";
	default:
		return NULL; /* json takes any value */
	}
}

static void
type_case(struct walk *w, uint16_t t, const char *cpath)
{
	const char *got, *v = wrong_value(w, t, &got);

	if (v)
		emit_case(w, "type", v,
			  mcc_printf("'%s': expected %s, got %s", cpath, type_phrase(w, t), got),
			  cpath, 0);
}

/* validate.c's range_error() wording for `what` (the value or "length N"). */
static const char *
range_message(const struct mcpg_field *f, const char *path, const char *what)
{
	if (f->min != INT64_MIN && f->max != INT64_MAX)
		return mcc_printf("'%s': %s is out of range %" PRId64 "..%" PRId64, path, what,
				  f->min, f->max);
	if (f->min != INT64_MIN)
		return mcc_printf("'%s': %s is below the minimum %" PRId64, path, what, f->min);
	return mcc_printf("'%s': %s is above the maximum %" PRId64, path, what, f->max);
}

static void
int_cases(struct walk *w, const struct mcpg_field *f, int is_uint, const struct target *tg)
{
	const char *p = target_path(tg);

	if (!(f->flags & MCPG_F_HAS_RANGE))
		return;
	/* Below the minimum; for uint a 0 minimum has nothing below it but
	 * negatives, which are a type error ("is negative"), not a range one. */
	if (f->min != INT64_MIN && (!is_uint || f->min > 0)) {
		const char *v = mcc_printf("%" PRId64, f->min - 1);

		emit_case(w, "range-min", target_value(tg, v), range_message(f, p, v), p, 0);
	}
	if (f->max != INT64_MAX) {
		const char *v = mcc_printf("%" PRId64, f->max + 1);

		emit_case(w, "range-max", target_value(tg, v), range_message(f, p, v), p, 0);
	}
}

/* The message check_string() gives for a format failure. */
static const char *
format_message(const struct mcpg_field *f, const char *path, const char *value,
	       const char *why)
{
	static const char *const words[MCPG_FMT__COUNT] = {
		[MCPG_FMT_SOCKET_ADDR] = "socket address (host:port)",
		[MCPG_FMT_URL] = "URL",
		[MCPG_FMT_ABS_PATH] = "route path",
		[MCPG_FMT_FILE_PATH] = "file path",
		[MCPG_FMT_CIDR] = "CIDR",
		[MCPG_FMT_HOST] = "host",
	};
	const char *what = f->format < MCPG_FMT__COUNT && words[f->format] ? words[f->format]
									 : "value";

	if (f->flags & MCPG_F_SENSITIVE)
		return mcc_printf("'%s': not a valid %s: %s", path, what, why);
	return mcc_printf("'%s': '%s' is not a valid %s: %s", path, value, what, why);
}

/* "only ${env.*} is" ... as interp.c's allowed_text() says it. */
static const char *
allowed_text(unsigned roots)
{
	static const char *const names[] = { "env", "arguments", "identity" };
	const char *v[3];
	size_t n = 0;

	for (size_t i = 0; i < 3; i++)
		if (roots & (1u << i))
			v[n++] = mcc_printf("${%s.*}", names[i]);
	if (n == 0)
		return "this value is taken as written (write '$${' for a literal '${')";
	if (n == 1)
		return mcc_printf("only %s is", v[0]);
	if (n == 2)
		return mcc_printf("only %s and %s are", v[0], v[1]);
	return mcc_printf("only %s, %s and %s are", v[0], v[1], v[2]);
}

/* Checks on the text of a string or template (validate.c: check_string()). */
static void
string_cases(struct walk *w, const struct mcpg_field *f, int is_template,
	     const struct target *tg)
{
	const char *p = target_path(tg);
	int secret = f->flags & MCPG_F_SENSITIVE;
	int nonempty = f->flags & MCPG_F_NONEMPTY;

	if (nonempty)
		emit_case(w, "nonempty", target_value(tg, "\" \""),
			  mcc_printf("'%s' must not be empty", p), p, 0);
	if (f->flags & MCPG_F_HAS_RANGE) {
		if (f->min != INT64_MIN && f->min > 0 && !(nonempty && f->min == 1) &&
		    f->min <= 4096) {
			char *s = mcc_alloc((size_t)f->min);

			memset(s, 'a', (size_t)f->min - 1);
			emit_case(w, "length-min", target_value(tg, quoted(s)),
				  range_message(f, p, mcc_printf("length %" PRId64, f->min - 1)),
				  p, 0);
		}
		if (f->max != INT64_MAX && f->max >= 0 && f->max < 4096) {
			char *s = mcc_alloc((size_t)f->max + 2);

			memset(s, 'a', (size_t)f->max + 1);
			emit_case(w, "length-max", target_value(tg, quoted(s)),
				  range_message(f, p, mcc_printf("length %" PRId64, f->max + 1)),
				  p, 0);
		}
	}
	if (f->pattern) {
		static const char *const bad[] = { "bad value!", "!", "a b", "-" };
		const char *pick = NULL;

		for (size_t i = 0; !pick && i < sizeof(bad) / sizeof(bad[0]); i++)
			if (!pattern_accepts(f->pattern, bad[i]))
				pick = bad[i];
		if (!pick)
			emit_none(w, "pattern", "every candidate bad value matches the pattern");
		else if (secret)
			emit_case(w, "pattern", target_value(tg, quoted(pick)),
				  mcc_printf("'%s': value does not match %s", p, f->pattern), p, 0);
		else
			emit_case(w, "pattern", target_value(tg, quoted(pick)),
				  mcc_printf("'%s': '%s' does not match %s", p, pick, f->pattern),
				  p, 0);
	}
	if (f->format) {
		const char *v = NULL, *why = NULL;

		switch (f->format) {
		case MCPG_FMT_SOCKET_ADDR:
			v = "nope", why = "missing port";
			break;
		case MCPG_FMT_URL:
			v = "not a url", why = "expected SCHEME://HOST";
			break;
		case MCPG_FMT_ABS_PATH:
			v = "relative", why = "must begin with '/'";
			break;
		case MCPG_FMT_FILE_PATH:
			/* Blank is the only bad file path; nonempty says so first. */
			if (!nonempty)
				v = "", why = "must not be empty";
			break;
		case MCPG_FMT_CIDR:
			v = "10.0.0.0/99", why = "prefix length must be 0..32";
			break;
		case MCPG_FMT_HOST:
			v = "bad host!", why = "bad host name";
			break;
		default:
			break;
		}
		if (v)
			emit_case(w, "format", target_value(tg, quoted(v)),
				  format_message(f, p, v, why), p, 0);
		if (f->format == MCPG_FMT_URL && f->schemes) {
			const char *scheme = scheme_listed(f->schemes, "ftp") ? "gopher" : "ftp";

			v = mcc_printf("%s://example.com", scheme);
			emit_case(w, "schemes", target_value(tg, quoted(v)),
				  format_message(f, p, v,
						 mcc_printf("scheme not allowed (use %s)",
							    f->schemes)),
				  p, 0);
		}
	}
	if (!is_template && (f->flags & MCPG_F_LITERAL))
		emit_case(w, "literal", target_value(tg, quoted(LK_ENV_REF)),
			  mcc_printf("'%s' does not take ${...} references", p), p, 0);
	if (is_template) {
		static const char *const refs[] = { LK_ENV_REF, "${arguments.x}",
						    "${identity.subject_id}" };
		static const char *const names[] = { "env", "arguments", "identity" };
		unsigned roots = f->roots ? f->roots : MCPG_ROOT_ENV;

		for (unsigned i = 0; i < 3; i++) {
			if (roots & (1u << i))
				continue;
			/* Reported at the root name: past the quote and "${". */
			emit_case(w, "roots", target_value(tg, quoted(refs[i])),
				  mcc_printf("'%s': '%s' is not available here; %s", p, names[i],
					     allowed_text(roots)),
				  p, 3);
			break;
		}
	}
}

static void
enum_case(struct walk *w, uint16_t t, const struct target *tg)
{
	const struct mcpg_type *et = T(w, t);
	const char *cands[256], *list = "", *near;
	const char *p = target_path(tg), *bad = "no-such-value";
	uint16_t n = et->count < 256 ? et->count : 256;

	for (uint16_t i = 0; i < n; i++) {
		cands[i] = w->s->values[et->first + i].text;
		list = mcc_printf("%s%s%s", list, i ? ", " : "", cands[i]);
	}
	near = mcc_closest(bad, cands, n);
	emit_case(w, "enum", target_value(tg, quoted(bad)),
		  near ? mcc_printf("'%s': unknown value '%s' (did you mean '%s'?)", p, bad, near)
		       : mcc_printf("'%s': unknown value '%s' (expected one of: %s)", p, bad,
				    list),
		  p, 0);
}

/* Constraints on a scalar: the value itself, or each element of a list or map. */
static void
scalar_cases(struct walk *w, const struct mcpg_field *f, uint16_t t, const struct target *tg)
{
	switch (T(w, t)->kind) {
	case MCPG_K_INT:
		int_cases(w, f, 0, tg);
		break;
	case MCPG_K_UINT:
		int_cases(w, f, 1, tg);
		break;
	case MCPG_K_STRING:
		string_cases(w, f, 0, tg);
		break;
	case MCPG_K_TEMPLATE:
		string_cases(w, f, 1, tg);
		break;
	case MCPG_K_ENUM:
		enum_case(w, t, tg);
		break;
	default:
		break;
	}
}

static void
items_cases(struct walk *w, const struct mcpg_field *f, int is_map, const char *c)
{
	if (!(f->flags & MCPG_F_HAS_ITEMS))
		return;
	/* Items are not looked at once the count is wrong, so any will do. */
	if (f->items_min > 0) {
		uint32_t n = f->items_min - 1;
		const char *v = "";

		for (uint32_t i = 0; i < n; i++)
			v = is_map ? mcc_printf("%s%si%u: 0", v, i ? ", " : "", i)
				   : mcc_printf("%s%s0", v, i ? ", " : "");
		emit_case(w, "items-min", mcc_printf(is_map ? "{%s}" : "[%s]", v),
			  mcc_printf("'%s' has %u item%s; at least %u required", c, n,
				     n == 1 ? "" : "s", f->items_min),
			  c, 0);
	}
	if (f->items_max) {
		uint32_t n = f->items_max + 1;
		const char *v = "";

		for (uint32_t i = 0; i < n; i++)
			v = is_map ? mcc_printf("%s%si%u: 0", v, i ? ", " : "", i)
				   : mcc_printf("%s%s0", v, i ? ", " : "");
		emit_case(w, "items-max", mcc_printf(is_map ? "{%s}" : "[%s]", v),
			  mcc_printf("'%s' has %u items; at most %u allowed", c, n,
				     f->items_max),
			  c, 0);
	}
}

static void
unique_case(struct walk *w, const struct mcpg_field *f, uint16_t elem, const char *c)
{
	const char *by = f->unique_field, *text = NULL, *item;

	if (by && T(w, elem)->kind == MCPG_K_STRUCT)
		item = synth_struct(w, elem, NULL, by, &text);
	else if (!by && is_scalar_kind(T(w, elem)->kind))
		item = synth(w, f, elem, &text);
	else
		item = NULL;
	if (!item || !text) {
		emit_none(w, "unique", "no valid item could be made for the duplicate");
		return;
	}
	/* The second item is the duplicate; a note points at the first. */
	if (by)
		emit_case(w, "unique", mcc_printf("[%s, %s]", item, item),
			  mcc_printf("'%s': duplicate %s '%s'", c, by, text),
			  mcc_printf("%s[1].%s", c, by), 0);
	else
		emit_case(w, "unique", mcc_printf("[%s, %s]", item, item),
			  mcc_printf("'%s': duplicate item '%s'", c, text),
			  mcc_printf("%s[1]", c), 0);
}

static void
field_cases(struct walk *w, const struct mcpg_field *f, const char *path)
{
	const char *c = concrete(path);
	uint16_t bt = strip(w, f->type);
	int kind = T(w, bt)->kind;

	if (strstr(path, "<name>")) {
		emit_none(w, "all", "keys inside a map of structs are not generated");
		return;
	}
	if (f->flags & MCPG_F_REQUIRED) {
		emit_case(w, "required", NULL, mcc_printf("missing required key '%s'", c),
			  parent_of(c), 0);
		if (kind != MCPG_K_JSON)
			emit_case(w, "required-null", "null",
				  mcc_printf("'%s' is required and cannot be reset with null", c),
				  c, 0);
	}
	type_case(w, f->type, c);
	if (kind == MCPG_K_LIST || kind == MCPG_K_MAP) {
		uint16_t elem = strip(w, T(w, bt)->elem);
		struct target tg = { c, kind == MCPG_K_LIST ? TG_LIST_ELEM : TG_MAP_ENTRY };

		items_cases(w, f, kind == MCPG_K_MAP, c);
		if (kind == MCPG_K_LIST && (f->flags & MCPG_F_UNIQUE))
			unique_case(w, f, elem, c);
		if (is_scalar_kind(T(w, elem)->kind))
			scalar_cases(w, f, elem, &tg);
	} else if (is_scalar_kind(kind)) {
		struct target tg = { c, TG_VALUE };

		scalar_cases(w, f, bt, &tg);
	}
}

/* ---------------------------------------------------------------------------
 * The walk (emit_man.c's, with `when` lines for union variants)
 */

static void walk_type(struct walk *w, uint32_t t, const char *path, const char *cond,
		      const char *whens);

static int
on_stack(const struct walk *w, uint32_t t)
{
	for (int i = 0; i < w->depth; i++)
		if (w->stack[i] == t)
			return 1;
	return 0;
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

/* A key holds a value (not only keys below it): a template or fixture must set it. */
static int
is_leaf(const struct walk *w, uint16_t t)
{
	uint16_t bt = strip(w, t);
	int kind = T(w, bt)->kind;

	if (kind == MCPG_K_LIST || kind == MCPG_K_MAP)
		kind = T(w, strip(w, T(w, bt)->elem))->kind;
	return kind != MCPG_K_STRUCT && kind != MCPG_K_UNION;
}

static void
walk_struct(struct walk *w, uint32_t t, const char *prefix, const char *cond,
	    const char *whens)
{
	const struct mcpg_type *st = T(w, t);

	if (on_stack(w, t) || w->depth >= MAX_DEPTH)
		return;
	w->stack[w->depth++] = t;
	for (uint32_t i = st->first; i < (uint32_t)st->first + st->count; i++) {
		const struct mcpg_field *f = &w->s->fields[i];
		const char *path = *prefix ? mcc_printf("%s.%s", prefix, f->name) : f->name;

		begin_key(w, mcc_printf("%s%s", path, cond), path, whens, is_leaf(w, f->type));
		field_cases(w, f, path);
		walk_type(w, f->type, path, cond, whens);
	}
	w->depth--;
}

static void
walk_union(struct walk *w, uint32_t t, const char *path, const char *cond,
	   const char *whens)
{
	const struct mcpg_schema *s = w->s;
	const struct mcpg_type *ut = T(w, t);
	const struct mcpg_union_info *ui = mcpg_schema_union(s, (uint16_t)t);
	const char *tag = ui && ui->tag_key ? ui->tag_key : "kind";
	const char *nest = ui ? ui->nest_key : NULL;
	const char *c = concrete(path), *cands[256], *list = "", *near;
	const char *bad = "no-such-kind";
	uint16_t n = ut->count < 256 ? ut->count : 256;

	if (on_stack(w, t) || w->depth >= MAX_DEPTH)
		return;
	w->stack[w->depth++] = t;

	/* The tag: required, a string, one of the variants. */
	begin_key(w, mcc_printf("%s.%s%s", path, tag, cond), mcc_printf("%s.%s", path, tag),
		  whens, 1);
	emit_case(w, "required", NULL, mcc_printf("'%s' needs '%s'", c, tag), c, 0);
	emit_case(w, "type", "[]",
		  mcc_printf("'%s.%s': expected a string, got a sequence", c, tag),
		  mcc_printf("%s.%s", c, tag), 0);
	for (uint16_t i = 0; i < n; i++) {
		cands[i] = s->variants[ut->first + i].text;
		list = mcc_printf("%s%s%s", list, i ? ", " : "", cands[i]);
	}
	near = mcc_closest(bad, cands, n);
	emit_case(w, "enum", quoted(bad),
		  near ? mcc_printf("'%s.%s': unknown kind '%s' (did you mean '%s'?)", c, tag,
				    bad, near)
		       : mcc_printf("'%s.%s': unknown kind '%s' (expected one of: %s)", c, tag,
				    bad, list),
		  mcc_printf("%s.%s", c, tag), 0);
	if (nest) {
		begin_key(w, mcc_printf("%s.%s%s", path, nest, cond),
			  mcc_printf("%s.%s", path, nest), whens, 0);
		emit_case(w, "type", "[]",
			  mcc_printf("'%s.%s': expected a mapping, got a sequence", c, nest),
			  mcc_printf("%s.%s", c, nest), 0);
	}
	for (uint32_t i = ut->first; i < (uint32_t)ut->first + ut->count; i++) {
		const struct mcpg_variant *v = &s->variants[i];

		if (!v->type)
			continue;
		walk_struct(w, v->type, nest ? mcc_printf("%s.%s", path, nest) : path,
			    add_cond(cond, tag, v->text),
			    mcc_printf("%s  when %s.%s %s\n", whens, path, tag, v->text));
	}
	w->depth--;
}

static void
walk_type(struct walk *w, uint32_t t, const char *path, const char *cond, const char *whens)
{
	const struct mcpg_type *ty = T(w, t);

	switch (ty->kind) {
	case MCPG_K_STRUCT:
		walk_struct(w, t, path, cond, whens);
		break;
	case MCPG_K_UNION:
		walk_union(w, t, path, cond, whens);
		break;
	case MCPG_K_OPTIONAL:
		walk_type(w, ty->elem, path, cond, whens);
		break;
	case MCPG_K_LIST:
		walk_type(w, ty->elem, mcc_printf("%s[]", path), cond, whens);
		break;
	case MCPG_K_MAP:
		walk_type(w, ty->elem, mcc_printf("%s.<name>", path), cond, whens);
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------------------
 * The file
 */

void
mcc_emit_lockstep(struct mcc_out *o, const struct mcpg_schema *s, const char *schema_path)
{
	struct walk w = { .o = o, .s = s };

	mcc_out_puts(o, "# ");
	mcc_out_printf(o, MCC_GEN_BANNER, schema_path);
	mcc_out_puts(o, "\n"
		"#\n"
		"# The lockstep cases (tests/unit/u-lockstep.c): every key of the schema, in\n"
		"# mcpg-config(5) order, and for each constraint it has a bad value with the\n"
		"# one error mcpgc must report.  The test plants each value into a template\n"
		"# or tests/config-fixtures/coverage-*.yaml config that sets the key, and\n"
		"# checks the message and the place.\n"
		"#\n"
		"# key KEY           a key as mcpg-config(5) names it; opens a record\n"
		"#   path PATH       where its value sits: dotted, [] for each list element\n"
		"#   when PATH TEXT  only where the union tag at PATH (same elements) is TEXT\n"
		"#   leaf            it holds a value: some template or fixture must set it\n"
		"# case NAME         a rejecting case for the key above\n"
		"#   set YAML        the bad value, YAML flow text, replacing the key's value\n"
		"#   remove          or: the key is removed from its mapping\n"
		"#   error MESSAGE   the one error expected, without file:line:col; [0] is\n"
		"#                   the element the case changes (moved to the front)\n"
		"#   at PATH [+N]    the node the error points at (N columns into it);\n"
		"#                   \".\" is the top of the document\n"
		"#   none REASON     no case could be made: the test fails with REASON\n");
	if (s->root < s->ntypes && T(&w, s->root)->kind == MCPG_K_STRUCT)
		walk_struct(&w, s->root, "", "", "");
	mcc_out_printf(o, "\n# %u keys, %u cases", w.nkeys, w.ncases);
	if (w.nnone)
		mcc_out_printf(o, " (%u without a value)", w.nnone);
	mcc_out_puts(o, "\n");
}
