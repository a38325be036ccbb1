/*
 * validate.c - the schema-driven walk: check every value of the merged
 * config tree and lower it to image records (see validate.h).
 *
 * Each schema type kind has one handler (nginx's *_slot setters).  A handler
 * gets the field being set (for its constraints and flags), the node holding
 * the value (NULL when no layer set it) and `at`, the DATA offset of the
 * slot to fill.  Records are allocated as the walk goes: an inline struct
 * lives inside its parent's record, everything else in a fresh allocation,
 * so the writer never shares records (runtime/image_format.h).
 *
 * Errors never stop the walk: a bad value leaves its slot zero and the
 * walk goes on to the next key, so one run reports everything.
 */
#include "validate.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "allow_if.h"
#include "format.h"
#include "image_write.h"
#include "interp.h"
#include "json.h"
#include "strbuf.h"
#include "yaml.h"

struct ctx {
	const struct mcpg_schema *s;
	struct mcc_diag *d;
	struct mcc_image *img;
	unsigned flags;
	regex_t **regex; /* per field, compiled on first use */
	struct mcc_pattern **pattern; /* the same, for mcc_pattern_match() */
	size_t *name_len; /* strlen() of each field's name */
	struct strbuf json; /* `json` values are written here, then interned */
};

/*
 * The dotted key path of the value being lowered ("mcp.tools[3].name"),
 * as a chain of frames on the C stack: a key below its parent, or an index
 * into it; NULL is the root, whose path is "".  Most values never need the
 * text, so it is only rendered (ptext()) for a message or for the IPOL,
 * TMPL and EXPR entries that store it.
 */
struct kpath {
	const struct kpath *up;
	const char *key;  /* NULL: `index` */
	size_t index;
};

static void lower_value(struct ctx *c, const struct mcpg_field *f, uint16_t type,
			const struct mcc_node *n, const struct kpath *kp, uint32_t at,
			uint32_t rec, struct mcc_loc where);
static void lower_struct(struct ctx *c, uint16_t type, const struct mcc_node *n,
			 const struct kpath *kp, uint32_t at, const char *skip1,
			 const char *skip2, struct mcc_loc where);

/* ---- Small helpers ------------------------------------------------------ */

static const struct mcpg_type *
T(const struct ctx *c, uint16_t type)
{
	return &c->s->types[type];
}

static void
put8(struct ctx *c, uint32_t at, uint8_t v)
{
	*mcc_image_at(c->img, at) = v;
}

static void
put32(struct ctx *c, uint32_t at, uint32_t v)
{
	mcpg_put_le32(mcc_image_at(c->img, at), v);
}

static void
put64(struct ctx *c, uint32_t at, uint64_t v)
{
	mcpg_put_le64(mcc_image_at(c->img, at), v);
}

static void
set_bit(struct ctx *c, uint32_t rec, int bit)
{
	unsigned char *p = mcc_image_at(c->img, rec);
	uint64_t mask = mcpg_le64(p);

	mcpg_put_le64(p, mask | ((uint64_t)1 << bit));
}

/*
 * Write path `p` at `out` (NULL: only count) and return its length.  The
 * text is what mcc_path_key() and mcc_path_index() build step by step: a
 * key after an empty path has no dot in front.
 */
static size_t
put_path(char *out, const struct kpath *p)
{
	char num[32];
	size_t n, l;

	if (!p)
		return 0;
	n = put_path(out, p->up);
	if (p->key) {
		l = strlen(p->key);
		if (n) {
			if (out)
				out[n] = '.';
			n++;
		}
		if (out)
			memcpy(out + n, p->key, l);
		return n + l;
	}
	/* "[index]", the digits written backwards from the end of num */
	char *d = num + sizeof(num);
	size_t i = p->index;

	*--d = ']';
	do
		*--d = (char)('0' + i % 10);
	while (i /= 10);
	*--d = '[';
	l = (size_t)(num + sizeof(num) - d);
	if (out)
		memcpy(out + n, d, l);
	return n + l;
}

/* Path `p` as text, in the arena. */
static const char *
ptext(const struct kpath *p)
{
	size_t n = put_path(NULL, p);
	char *s = mcc_alloc(n + 1);

	put_path(s, p);
	return s;
}

static const char *
shown_path(const char *path)
{
	return path && *path ? path : "(root)";
}

const struct mcpg_field *
mcc_schema_field(const struct mcpg_schema *s, uint16_t type, const char *key, size_t len)
{
	const struct mcpg_type *t = &s->types[type];

	for (uint16_t i = 0; i < t->count; i++) {
		const struct mcpg_field *f = &s->fields[t->first + i];

		if (strlen(f->name) == len && !memcmp(f->name, key, len))
			return f;
	}
	return NULL;
}

/*
 * The index in struct `t` of its field named `key` (`len` bytes), or -1:
 * mcc_schema_field() with the name lengths measured once.
 */
static int
field_index(const struct ctx *c, const struct mcpg_type *t, const char *key, size_t len)
{
	for (uint16_t i = 0; i < t->count; i++) {
		uint32_t fi = t->first + i;

		if (c->name_len[fi] == len && !memcmp(c->s->fields[fi].name, key, len))
			return i;
	}
	return -1;
}

const char *
mcc_type_phrase(const struct mcpg_schema *s, uint16_t type)
{
	const struct mcpg_type *t = &s->types[type];

	switch (t->kind) {
	case MCPG_K_BOOL:
		return "a boolean";
	case MCPG_K_INT:
		return "an integer";
	case MCPG_K_UINT:
		return "a non-negative integer";
	case MCPG_K_STRING:
	case MCPG_K_TEMPLATE:
	case MCPG_K_EXPR:
		return "a string";
	case MCPG_K_JSON:
		return "a value";
	case MCPG_K_ENUM:
		return "a string";
	case MCPG_K_STRUCT:
	case MCPG_K_UNION:
	case MCPG_K_MAP:
		return "a mapping";
	case MCPG_K_LIST:
		return "a sequence";
	case MCPG_K_OPTIONAL:
		return mcc_type_phrase(s, t->elem);
	}
	return "a value";
}

/* The article form of what a node holds: "a string", "an integer". */
static const char *
got_phrase(const struct mcc_node *n)
{
	const char *k = mcc_node_kind_name(n);

	if (!strcmp(k, "integer"))
		return "an integer";
	return mcc_printf("a %s", k);
}

static void
wrong_type(struct ctx *c, const struct kpath *kp, uint16_t type, const struct mcc_node *n)
{
	mcc_error(c->d, n->loc, "'%s': expected %s, got %s", shown_path(ptext(kp)),
		  mcc_type_phrase(c->s, type), got_phrase(n));
}

/*
 * Cache of parsed defaults, one slot per field of the schema in use.  The
 * nodes live in the arena, so the cache is only good for the arena
 * generation that filled it.
 */
static const struct mcpg_schema *dflt_schema;
static unsigned long dflt_generation;
static const struct mcc_node **dflt_nodes;

const struct mcc_node *
mcc_field_default(const struct mcpg_schema *s, const struct mcpg_field *f)
{
	size_t i = (size_t)(f - s->fields);

	if (!f->dflt)
		return NULL;
	if (dflt_schema != s || dflt_generation != mcc_arena_generation() || !dflt_nodes) {
		dflt_nodes = mcc_alloc(s->nfields * sizeof(*dflt_nodes));
		dflt_schema = s;
		dflt_generation = mcc_arena_generation();
	}
	if (!dflt_nodes[i]) {
		/* Defaults are JSON, which is YAML flow syntax; wrap it so
		 * the loader sees a mapping. */
		char *text = mcc_printf("{\"v\": %s}", f->dflt);
		struct mcc_diag quiet;
		struct mcc_node *root;

		mcc_diag_init(&quiet, NULL, MCC_DIAG_TEXT);
		root = mcc_yaml_load_string("<default>", text, strlen(text), -1, &quiet);
		mcc_diag_release(&quiet);
		dflt_nodes[i] = root ? mcc_node_get(root, "v") : NULL;
	}
	return dflt_nodes[i];
}

/* ---- Scalars ------------------------------------------------------------ */

/*
 * The text of a scalar meant as a string.  Numbers are taken by their text
 * (a plain 1.2 is the string "1.2"); booleans, nulls and collections are
 * type errors.
 */
static const char *
string_text(struct ctx *c, const struct kpath *kp, uint16_t type, const struct mcc_node *n,
	    size_t *len)
{
	if (n->kind != MCC_N_SCALAR || n->type == MCC_T_BOOL) {
		wrong_type(c, kp, type, n);
		return NULL;
	}
	*len = n->len;
	return n->text;
}

static int
is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return 0;
	return 1;
}

static void
range_error(struct ctx *c, const struct mcpg_field *f, struct mcc_loc loc,
	    const char *path, const char *what)
{
	if (f->min != INT64_MIN && f->max != INT64_MAX)
		mcc_error(c->d, loc, "'%s': %s is out of range %" PRId64 "..%" PRId64,
			  path, what, f->min, f->max);
	else if (f->min != INT64_MIN)
		mcc_error(c->d, loc, "'%s': %s is below the minimum %" PRId64, path,
			  what, f->min);
	else
		mcc_error(c->d, loc, "'%s': %s is above the maximum %" PRId64, path,
			  what, f->max);
}

static regex_t *
field_regex(struct ctx *c, const struct mcpg_field *f)
{
	size_t i = (size_t)(f - c->s->fields);

	if (!c->regex[i]) {
		regex_t *re = mcc_alloc(sizeof(*re));

		/* The DSL front end checked that the pattern compiles. */
		if (regcomp(re, f->pattern, REG_EXTENDED | REG_NOSUB))
			return NULL;
		c->regex[i] = re;
	}
	return c->regex[i];
}

/* ---- Simple patterns ---------------------------------------------------- */

static void
set_add(unsigned char *set, unsigned c)
{
	set[c >> 3] |= (unsigned char)(1u << (c & 7));
}

static int
set_has(const unsigned char *set, unsigned c)
{
	return set[c >> 3] >> (c & 7) & 1;
}

/* A [:name:] class, by the C locale's <ctype.h>; -1 for an unknown name. */
static int
add_class(unsigned char *set, const char *name, size_t len)
{
	static const struct {
		const char *name;
		int (*is)(int);
	} classes[] = {
		{ "alpha", isalpha }, { "digit", isdigit }, { "alnum", isalnum },
		{ "upper", isupper }, { "lower", islower }, { "space", isspace },
		{ "blank", isblank }, { "punct", ispunct }, { "xdigit", isxdigit },
		{ "cntrl", iscntrl }, { "print", isprint }, { "graph", isgraph },
	};

	for (size_t i = 0; i < sizeof(classes) / sizeof(*classes); i++) {
		if (strlen(classes[i].name) != len || memcmp(classes[i].name, name, len))
			continue;
		for (unsigned c = 1; c < 256; c++)
			if (classes[i].is((int)c))
				set_add(set, c);
		return 0;
	}
	return -1;
}

/*
 * A bracket expression at `*pp` (just past the '['), into `set`; moves *pp
 * past the ']'.  Only the plain forms: no ']' or '[' as a member, no
 * collating elements or equivalence classes, no backslash (a literal in
 * POSIX brackets, but rare enough to leave to regcomp), no bytes past
 * ASCII.
 */
static int
parse_bracket(const char **pp, unsigned char *set)
{
	const unsigned char *p = (const unsigned char *)*pp;
	int negate = 0;

	if (*p == '^')
		negate = 1, p++;
	if (*p == ']')
		return -1;
	while (*p != ']') {
		unsigned lo = *p, hi;

		if (!lo || lo == '\\' || lo >= 0x80)
			return -1;
		if (lo == '[') {
			const char *end;

			if (p[1] != ':')
				return -1;
			end = strstr((const char *)p + 2, ":]");
			if (!end || add_class(set, (const char *)p + 2,
					      (size_t)(end - (const char *)p - 2)))
				return -1;
			p = (const unsigned char *)end + 2;
			continue;
		}
		if (p[1] == '-' && p[2] != ']') {
			hi = p[2];
			/* A '-' that is neither first nor last, or a range
			 * that ends in a class, is for regcomp to judge. */
			if (lo == '-' || !hi || hi == '[' || hi == '\\' || hi == '-' || hi >= 0x80 ||
			    hi < lo)
				return -1;
			for (unsigned c = lo; c <= hi; c++)
				set_add(set, c);
			p += 3;
			continue;
		}
		if (lo == '-' && p != (const unsigned char *)*pp + negate && p[1] != ']')
			return -1;
		set_add(set, lo);
		p++;
	}
	if (negate) {
		for (unsigned i = 0; i < 32; i++)
			set[i] = (unsigned char)~set[i];
	}
	set[0] &= (unsigned char)~1u; /* NUL ends the string */
	*pp = (const char *)p + 1;
	return 0;
}

/* A decimal count at *pp, at most RE_DUP_MAX; -1 when there is none. */
static long
parse_count(const char **pp)
{
	const char *p = *pp;
	long v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (*p++ - '0');
		if (v > RE_DUP_MAX)
			return -1;
	}
	*pp = p;
	return v;
}

/* Whether the C locale is in force: bytes are characters, ranges bytes. */
static int
is_c_locale(void)
{
	const char *l = setlocale(LC_ALL, NULL);

	return l && (!strcmp(l, "C") || !strcmp(l, "POSIX"));
}

int
mcc_pattern_compile(struct mcc_pattern *pat, const char *ere)
{
	size_t len = strlen(ere);
	const char *p = ere + 1, *end = ere + len - 1;
	int nr = 0;

	memset(pat, 0, sizeof(*pat));
	pat->nr = -1;
	if (len < 2 || ere[0] != '^' || *end != '$' || !is_c_locale())
		return -1;
	while (p < end) {
		struct mcc_pattern_atom *a;

		if (nr == MCC_PATTERN_MAX_ATOMS)
			return -1;
		a = &pat->atom[nr++];
		if (*p == '[') {
			p++;
			if (parse_bracket(&p, a->set) || p > end)
				return -1;
		} else if (strchr(".[]()|*+?{}^$\\", *p) || (unsigned char)*p >= 0x80) {
			return -1;
		} else {
			set_add(a->set, (unsigned char)*p++);
		}
		a->min = a->max = 1;
		if (p == end)
			break;
		switch (*p) {
		case '?':
			a->min = 0;
			p++;
			break;
		case '*':
			a->min = 0, a->max = UINT_MAX;
			p++;
			break;
		case '+':
			a->max = UINT_MAX;
			p++;
			break;
		case '{': {
			long m, n;

			p++;
			if ((m = parse_count(&p)) < 0)
				return -1;
			n = m;
			if (*p == ',') {
				p++;
				n = *p == '}' ? -1 : parse_count(&p);
				if (*p != '}' || (n >= 0 && n < m) || (n < 0 && p[-1] != ','))
					return -1;
			}
			if (*p != '}')
				return -1;
			p++;
			a->min = (unsigned)m;
			a->max = n < 0 ? UINT_MAX : (unsigned)n;
			break;
		}
		default:
			continue;
		}
		/* Stacked repetitions (a+*, a{2}?) are for regcomp to judge. */
		if (p < end && strchr("?*+{", *p))
			return -1;
	}
	if (p != end)
		return -1;
	pat->nr = nr;
	return 0;
}

/*
 * Whether s[pos..len) matches atoms i.. of `p`.  Counts are tried longest
 * first; `failed` (one bit per atom and position) remembers dead ends, so
 * the work is bounded by atoms x positions x run length.
 */
static int
match_from(const struct mcc_pattern *p, int i, const unsigned char *s, size_t pos,
	   size_t len, unsigned char *failed)
{
	const struct mcc_pattern_atom *a;
	size_t run = 0, bit;

	if (i == p->nr)
		return pos == len;
	bit = (size_t)i * (len + 1) + pos;
	if (failed[bit >> 3] >> (bit & 7) & 1)
		return 0;
	a = &p->atom[i];
	while (pos + run < len && run < a->max && set_has(a->set, s[pos + run]))
		run++;
	for (size_t n = run + 1; n-- > a->min;)
		if (match_from(p, i + 1, s, pos + n, len, failed))
			return 1;
	failed[bit >> 3] |= (unsigned char)(1u << (bit & 7));
	return 0;
}

int
mcc_pattern_match(const struct mcc_pattern *p, const char *s)
{
	unsigned char failed[1024];
	size_t len = strlen(s), bits;

	if (p->nr < 0)
		return -1;
	bits = (size_t)p->nr * (len + 1);
	if (bits > 8 * sizeof(failed))
		return -1;
	memset(failed, 0, (bits + 7) / 8);
	return match_from(p, 0, (const unsigned char *)s, 0, len, failed);
}

static int
pattern_matches(struct ctx *c, const struct mcpg_field *f, const char *s)
{
	size_t i = (size_t)(f - c->s->fields);
	regex_t *re;
	int m;

	if (!c->pattern[i]) {
		c->pattern[i] = mcc_alloc(sizeof(*c->pattern[i]));
		mcc_pattern_compile(c->pattern[i], f->pattern);
	}
	m = mcc_pattern_match(c->pattern[i], s);
	if (m >= 0)
		return m;
	re = field_regex(c, f);
	return !re || !regexec(re, s, 0, NULL, 0);
}

/*
 * Checks that apply to the text of a string (also each string of a list):
 * non-empty, length, pattern, format.  `resolved` is 0 when the text still
 * holds ${env.*} references, whose value is only known at boot: the runtime
 * checks the format again then.
 */
static void
check_string(struct ctx *c, const struct mcpg_field *f, const struct kpath *kp,
	     const char *s, size_t len, struct mcc_loc loc, int resolved)
{
	int secret = f->flags & MCPG_F_SENSITIVE;

	if ((f->flags & MCPG_F_NONEMPTY) && is_blank(s, len)) {
		mcc_error(c->d, loc, "'%s' must not be empty", ptext(kp));
		return;
	}
	if (!resolved)
		return;
	if ((f->flags & MCPG_F_HAS_RANGE) &&
	    ((int64_t)len < f->min || (f->max != INT64_MAX && (int64_t)len > f->max)))
		range_error(c, f, loc, ptext(kp), mcc_printf("length %zu", len));
	if (f->pattern && !pattern_matches(c, f, s)) {
		if (secret)
			mcc_error(c->d, loc, "'%s': value does not match %s", ptext(kp),
				  f->pattern);
		else
			mcc_error(c->d, loc, "'%s': '%s' does not match %s", ptext(kp), s,
				  f->pattern);
	}
	if (f->format) {
		const char *why = NULL;

		if (mcpg_format_check((enum mcpg_format)f->format, s, f->schemes, &why)) {
			const char *path = ptext(kp);
			static const char *const words[MCPG_FMT__COUNT] = {
				[MCPG_FMT_SOCKET_ADDR] = "socket address (host:port)",
				[MCPG_FMT_URL] = "URL",
				[MCPG_FMT_ABS_PATH] = "route path",
				[MCPG_FMT_FILE_PATH] = "file path",
				[MCPG_FMT_CIDR] = "CIDR",
				[MCPG_FMT_HOST] = "host",
			};
			const char *what = f->format < MCPG_FMT__COUNT && words[f->format]
						   ? words[f->format] : "value";

			if (!why)
				why = "not valid here";
			if (f->schemes && !strcmp(why, "scheme not allowed here"))
				why = mcc_printf("scheme not allowed (use %s)", f->schemes);
			if (secret)
				mcc_error(c->d, loc, "'%s': not a valid %s: %s", path, what, why);
			else
				mcc_error(c->d, loc, "'%s': '%s' is not a valid %s: %s", path, s,
					  what, why);
		}
	}
}

/*
 * Where the first byte of a scalar's text is, for messages that point
 * inside the value: one past the opening quote of a quoted scalar; only the
 * line for block scalars, whose text starts on a later line.
 */
static struct mcc_loc
text_loc(const struct mcc_node *n)
{
	struct mcc_loc l = n->loc;

	if (n->style == MCC_STYLE_SINGLE_QUOTED || n->style == MCC_STYLE_DOUBLE_QUOTED)
		l.col++;
	else if (n->style == MCC_STYLE_LITERAL || n->style == MCC_STYLE_FOLDED)
		l.col = 0;
	return l;
}

/* Store segments in SEGS; returns the index of the first. */
static uint32_t
store_segs(struct ctx *c, const struct mcc_segs *segs)
{
	uint32_t first = 0;

	for (size_t i = 0; i < segs->nr; i++) {
		uint32_t str = mcc_image_str(c->img, segs->v[i].text, segs->v[i].len);
		uint32_t idx = mcc_image_add_seg(c->img, segs->v[i].kind, str);

		if (i == 0)
			first = idx;
	}
	return first;
}

/*
 * `mcpgc check --env`: the value with ${env.*} resolved, or NULL after
 * reporting the first unset variable.
 */
static const char *
resolve_env(struct ctx *c, const struct mcc_segs *segs, const char *path,
	    const struct mcc_node *n)
{
	char *out;
	const char *missing;

	if (mcc_interp_resolve_env(segs, &out, &missing)) {
		mcc_error(c->d, n->loc, "'%s': environment variable '%s' is not set", path,
			  missing);
		return NULL;
	}
	return out;
}

/*
 * Store the segments of `s` and the IPOL or TMPL entry that names them
 * (`add` is mcc_image_add_ipol or mcc_image_add_tmpl); returns its index.
 */
static uint32_t
store_interp(struct ctx *c, const struct mcc_segs *segs, const char *s, size_t len,
	     const char *path,
	     uint32_t (*add)(struct mcc_image *, uint32_t, uint32_t, uint32_t, uint32_t))
{
	uint32_t first = store_segs(c, segs);

	return add(c->img, mcc_image_str(c->img, s, len),
		   mcc_image_str(c->img, path, strlen(path)), first, (uint32_t)segs->nr);
}

static void
lower_string(struct ctx *c, const struct mcpg_field *f, uint16_t type,
	     const struct mcc_node *n, const struct kpath *kp, uint32_t at)
{
	size_t len;
	const char *s = string_text(c, kp, type, n, &len);
	struct mcc_segs segs = { 0 };
	const char *path;

	if (!s)
		return;
	if (!mcc_interp_needs_parse(s, len)) {
		check_string(c, f, kp, s, len, n->loc, 1);
		put32(c, at, mcc_image_str(c->img, s, len));
		return;
	}
	path = ptext(kp);
	if (f->flags & MCPG_F_LITERAL) {
		if (mcc_interp_parse(s, len, MCPG_ROOT_ENV, path, text_loc(n), c->d, &segs))
			return;
		if (mcc_interp_has_refs(&segs)) {
			mcc_error(c->d, n->loc, "'%s' does not take ${...} references", path);
			return;
		}
	} else if (mcc_interp_parse(s, len, MCPG_ROOT_ENV, path, text_loc(n), c->d, &segs)) {
		return;
	}
	if (!mcc_interp_has_refs(&segs)) {
		/* Only $${ escapes: store the unescaped text. */
		size_t l;
		const char *lit = mcc_interp_literal(&segs, &l);

		check_string(c, f, kp, lit, l, n->loc, 1);
		put32(c, at, mcc_image_str(c->img, lit, l));
		return;
	}
	check_string(c, f, kp, s, len, n->loc, 0);
	if (c->flags & MCC_V_ENV) {
		const char *out = resolve_env(c, &segs, path, n);

		if (out)
			check_string(c, f, kp, out, strlen(out), n->loc, 1);
	}
	put32(c, at, MCPG_STRREF_IPOL |
			     store_interp(c, &segs, s, len, path, mcc_image_add_ipol));
}

static void
lower_template(struct ctx *c, const struct mcpg_field *f, uint16_t type,
	       const struct mcc_node *n, const struct kpath *kp, uint32_t at)
{
	size_t len;
	const char *s = string_text(c, kp, type, n, &len);
	struct mcc_segs segs = { 0 };
	const char *path = ptext(kp);

	if (!s)
		return;
	if ((f->flags & MCPG_F_NONEMPTY) && is_blank(s, len)) {
		mcc_error(c->d, n->loc, "'%s' must not be empty", path);
		return;
	}
	if (mcc_interp_parse(s, len, f->roots ? f->roots : MCPG_ROOT_ENV, path, text_loc(n),
			     c->d, &segs))
		return;
	if (c->flags & MCC_V_ENV)
		resolve_env(c, &segs, path, n);
	if (f->format && !mcc_interp_has_refs(&segs))
		check_string(c, f, kp, s, len, n->loc, 1);
	put32(c, at, store_interp(c, &segs, s, len, path, mcc_image_add_tmpl) + 1);
}

static uint32_t
intern_cb(void *ctx, const char *s, size_t len)
{
	return mcc_image_str(ctx, s, len);
}

static void
lower_expr(struct ctx *c, const struct mcpg_field *f, uint16_t type,
	   const struct mcc_node *n, const struct kpath *kp, uint32_t at)
{
	size_t len;
	const char *s = string_text(c, kp, type, n, &len);
	struct mcc_bytes code = { 0 };
	const char *path = ptext(kp);

	if (!s)
		return;
	if (is_blank(s, len)) {
		mcc_error(c->d, n->loc, "'%s' must not be empty", path);
		return;
	}
	if (mcc_expr_compile(s, len, path, text_loc(n), c->d, &code, intern_cb, c->img))
		return;
	uint32_t off = mcc_image_add_code(c->img, code.buf, code.len);
	uint32_t idx = mcc_image_add_expr(c->img, mcc_image_str(c->img, s, len),
					  mcc_image_str(c->img, path, strlen(path)),
					  off, (uint32_t)code.len);
	put32(c, at, idx + 1);
}

static void
lower_enum(struct ctx *c, const struct mcpg_field *f, uint16_t type,
	   const struct mcc_node *n, const struct kpath *kp, uint32_t at)
{
	const struct mcpg_type *t = T(c, type);
	const char *cands[256];
	size_t len;
	const char *s = string_text(c, kp, type, n, &len);

	if (!s)
		return;
	for (uint16_t i = 0; i < t->count && i < 256; i++) {
		const char *v = c->s->values[t->first + i].text;

		if (strlen(v) == len && !memcmp(v, s, len)) {
			put8(c, at, (uint8_t)i);
			return;
		}
		cands[i] = v;
	}
	const char *near = mcc_closest(s, cands, t->count);
	const char *path = ptext(kp);

	if (near) {
		mcc_error(c->d, n->loc, "'%s': unknown value '%s' (did you mean '%s'?)",
			  path, s, near);
	} else {
		char *list = "";

		for (uint16_t i = 0; i < t->count; i++)
			list = mcc_printf("%s%s%s", list, i ? ", " : "", cands[i]);
		mcc_error(c->d, n->loc, "'%s': unknown value '%s' (expected one of: %s)",
			  path, s, list);
	}
}

static void
lower_int(struct ctx *c, const struct mcpg_field *f, uint16_t type,
	  const struct mcc_node *n, const struct kpath *kp, uint32_t at)
{
	int is_uint = T(c, type)->kind == MCPG_K_UINT;
	int64_t v = 0;
	uint64_t u = 0;
	int rc;

	if (n->kind != MCC_N_SCALAR) {
		wrong_type(c, kp, type, n);
		return;
	}
	rc = is_uint ? mcc_scalar_as_uint(n, &u) : mcc_scalar_as_int(n, &v);
	if (rc == MCC_SCALAR_WRONG_TYPE) {
		wrong_type(c, kp, type, n);
		return;
	}
	if (rc == MCC_SCALAR_RANGE) {
		if (is_uint && n->len && n->text[0] == '-')
			mcc_error(c->d, n->loc, "'%s': %s is negative", ptext(kp), n->text);
		else
			mcc_error(c->d, n->loc, "'%s': %s does not fit in 64 bits", ptext(kp),
				  n->text);
		return;
	}
	if (f->flags & MCPG_F_HAS_RANGE) {
		int bad = is_uint ? (f->min > 0 && u < (uint64_t)f->min) ||
					    (f->max != INT64_MAX && (f->max < 0 || u > (uint64_t)f->max))
				  : v < f->min || v > f->max;

		if (bad) {
			range_error(c, f, n->loc, ptext(kp), n->text);
			return;
		}
	}
	if (is_uint)
		put64(c, at, u);
	else
		put64(c, at, (uint64_t)v);
}

/* ---- Collections -------------------------------------------------------- */

static int
check_items(struct ctx *c, const struct mcpg_field *f, const struct mcc_node *n,
	    const struct kpath *kp)
{
	if (!(f->flags & MCPG_F_HAS_ITEMS))
		return 0;
	if (n->nr < f->items_min) {
		mcc_error(c->d, n->loc, "'%s' has %zu item%s; at least %u required", ptext(kp),
			  n->nr, n->nr == 1 ? "" : "s", f->items_min);
		return -1;
	}
	if (f->items_max && n->nr > f->items_max) {
		mcc_error(c->d, n->loc, "'%s' has %zu items; at most %u allowed", ptext(kp),
			  n->nr, f->items_max);
		return -1;
	}
	return 0;
}

/* Uniqueness of list items: by text for scalars, by one field for structs. */
static void
check_unique(struct ctx *c, const struct mcpg_field *f, const struct mcc_node *n,
	     const struct kpath *kp)
{
	struct mcc_strmap seen = MCC_STRMAP_INIT;
	const char *by = f->unique_field;

	for (size_t i = 0; i < n->nr; i++) {
		const struct mcc_node *v = n->items[i];

		if (by)
			v = mcc_node_get(v, by);
		if (!v || v->kind != MCC_N_SCALAR)
			continue;
		const struct mcc_node *first = mcc_strmap_put(&seen, v->text, v->len, (void *)v);

		if (!first)
			continue;
		if (by)
			mcc_error(c->d, v->loc, "'%s': duplicate %s '%s'", ptext(kp), by,
				  v->text);
		else
			mcc_error(c->d, v->loc, "'%s': duplicate item '%s'", ptext(kp), v->text);
		mcc_note(c->d, first->loc, "'%s' was first used here", first->text);
	}
	mcc_strmap_release(&seen);
}

static uint32_t
stride_of(const struct mcpg_type *t)
{
	uint32_t a = t->align ? t->align : 1;

	return (t->size + a - 1) / a * a;
}

static void
lower_list(struct ctx *c, const struct mcpg_field *f, uint16_t type,
	   const struct mcc_node *n, const struct kpath *kp, uint32_t at)
{
	const struct mcpg_type *t = T(c, type);
	const struct mcpg_type *e = T(c, t->elem);
	uint32_t stride = stride_of(e), arr;

	if (n->kind != MCC_N_SEQ) {
		wrong_type(c, kp, type, n);
		return;
	}
	if (check_items(c, f, n, kp))
		return;
	if (f->flags & MCPG_F_UNIQUE)
		check_unique(c, f, n, kp);
	if (n->nr == 0)
		return;
	arr = mcc_image_alloc(c->img, (size_t)stride * n->nr);
	put32(c, at, arr);
	put32(c, at + 4, (uint32_t)n->nr);
	for (size_t i = 0; i < n->nr && !c->d->stopped; i++) {
		struct kpath item = { kp, NULL, i };

		lower_value(c, f, t->elem, n->items[i], &item, arr + (uint32_t)i * stride, 0,
			    n->items[i]->loc);
	}
}

static void
lower_map(struct ctx *c, const struct mcpg_field *f, uint16_t type,
	  const struct mcc_node *n, const struct kpath *kp, uint32_t at)
{
	const struct mcpg_type *t = T(c, type);
	const struct mcpg_type *e = T(c, t->elem);
	uint32_t voff = e->align == 8 ? 8 : 4;
	uint32_t ealign = e->align > 4 ? e->align : 4;
	uint32_t stride = (voff + e->size + ealign - 1) / ealign * ealign, arr;

	if (n->kind != MCC_N_MAP) {
		wrong_type(c, kp, type, n);
		return;
	}
	if (check_items(c, f, n, kp) || n->nr == 0)
		return;
	arr = mcc_image_alloc(c->img, (size_t)stride * n->nr);
	put32(c, at, arr);
	put32(c, at + 4, (uint32_t)n->nr);
	for (size_t i = 0; i < n->nr && !c->d->stopped; i++) {
		const struct mcc_pair *p = &n->pairs[i];
		uint32_t ent = arr + (uint32_t)i * stride;
		struct kpath key = { kp, p->key->text, 0 };

		put32(c, ent, mcc_image_str(c->img, p->key->text, p->key->len));
		lower_value(c, f, t->elem, p->value, &key, ent + voff, 0, p->key->loc);
	}
}

static void
lower_union(struct ctx *c, const struct mcpg_field *f, uint16_t type,
	    const struct mcc_node *n, const struct kpath *kp, uint32_t at)
{
	const struct mcpg_type *t = T(c, type);
	const struct mcpg_union_info *u = mcpg_schema_union(c->s, type);
	const struct mcc_node *tag;
	const char *cands[256];
	uint16_t vi;

	if (n->kind != MCC_N_MAP) {
		wrong_type(c, kp, type, n);
		return;
	}
	tag = mcc_node_get(n, u->tag_key);
	if (!tag || mcc_node_is_null(tag)) {
		mcc_error(c->d, n->loc, "'%s' needs '%s'", ptext(kp), u->tag_key);
		return;
	}
	if (tag->kind != MCC_N_SCALAR || tag->type == MCC_T_BOOL) {
		mcc_error(c->d, tag->loc, "'%s.%s': expected a string, got %s", ptext(kp),
			  u->tag_key, got_phrase(tag));
		return;
	}
	for (vi = 0; vi < t->count && vi < 256; vi++) {
		cands[vi] = c->s->variants[t->first + vi].text;
		if (!strcmp(cands[vi], tag->text))
			break;
	}
	if (vi == t->count) {
		const char *near = mcc_closest(tag->text, cands, t->count);
		const char *path = ptext(kp);
		char *list = "";

		for (uint16_t i = 0; i < t->count; i++)
			list = mcc_printf("%s%s%s", list, i ? ", " : "", cands[i]);
		if (near)
			mcc_error(c->d, tag->loc, "'%s.%s': unknown kind '%s' (did you mean '%s'?)",
				  path, u->tag_key, tag->text, near);
		else
			mcc_error(c->d, tag->loc,
				  "'%s.%s': unknown kind '%s' (expected one of: %s)", path,
				  u->tag_key, tag->text, list);
		return;
	}

	const struct mcpg_variant *v = &c->s->variants[t->first + vi];
	struct kpath nest = { kp, u->nest_key, 0 };
	const struct kpath *vkp = kp;
	const struct mcc_node *body = n;
	const char *skip2 = NULL;

	put32(c, at, (uint32_t)vi + 1);
	if (u->nest_key) {
		/* Variant keys sit under nest_key; only tag and nest_key here. */
		for (size_t i = 0; i < n->nr; i++) {
			const char *k = n->pairs[i].key->text;

			if (strcmp(k, u->tag_key) && strcmp(k, u->nest_key)) {
				const char *cand[2] = { u->tag_key, u->nest_key };
				const char *near = mcc_closest(k, cand, 2);

				if (near)
					mcc_error(c->d, n->pairs[i].key->loc,
						  "unknown key '%s' in '%s' (did you mean '%s'?)",
						  k, ptext(kp), near);
				else
					mcc_error(c->d, n->pairs[i].key->loc,
						  "unknown key '%s' in '%s' (kind: %s)", k, ptext(kp),
						  v->text);
			}
		}
		body = mcc_node_get(n, u->nest_key);
		vkp = &nest;
		if (body && mcc_node_is_null(body))
			body = NULL;
		if (body && body->kind != MCC_N_MAP) {
			mcc_error(c->d, body->loc, "'%s': expected a mapping, got %s", ptext(vkp),
				  got_phrase(body));
			return;
		}
	} else {
		skip2 = u->tag_key;
	}
	if (!v->type) {
		if (body && body->nr > (skip2 ? 1u : 0u)) {
			for (size_t i = 0; i < body->nr; i++) {
				const char *k = body->pairs[i].key->text;

				if (skip2 && !strcmp(k, skip2))
					continue;
				mcc_error(c->d, body->pairs[i].key->loc,
					  "unknown key '%s' in '%s' (kind '%s' takes no keys)", k,
					  ptext(vkp), v->text);
			}
		}
		return;
	}
	uint32_t rec = mcc_image_alloc(c->img, T(c, v->type)->size);

	put32(c, at + 4, rec);
	lower_struct(c, v->type, body, vkp, rec, skip2, NULL,
		     body ? body->loc : n->loc);
}

/* ---- The dispatcher ----------------------------------------------------- */

/*
 * Lower node `n` (never NULL, never a null node: the caller resolved those)
 * of type `type` into the slot at `at`.  `rec` is the DATA offset of the
 * record that holds the slot, for set bits; 0 inside lists and maps.
 */
static void
lower_value(struct ctx *c, const struct mcpg_field *f, uint16_t type,
	    const struct mcc_node *n, const struct kpath *kp, uint32_t at, uint32_t rec,
	    struct mcc_loc where)
{
	const struct mcpg_type *t = T(c, type);

	if (mcc_node_is_null(n) && t->kind != MCPG_K_JSON) {
		mcc_error(c->d, n->loc, "'%s': expected %s, got null", ptext(kp),
			  mcc_type_phrase(c->s, type));
		return;
	}
	switch (t->kind) {
	case MCPG_K_BOOL: {
		int b;

		if (n->kind != MCC_N_SCALAR || mcc_scalar_as_bool(n, &b))
			wrong_type(c, kp, type, n);
		else
			put8(c, at, (uint8_t)b);
		break;
	}
	case MCPG_K_INT:
	case MCPG_K_UINT:
		lower_int(c, f, type, n, kp, at);
		break;
	case MCPG_K_STRING:
		lower_string(c, f, type, n, kp, at);
		break;
	case MCPG_K_JSON:
		strbuf_reset(&c->json);
		if (mcc_json_add_node(&c->json, n, 0))
			mcc_error(c->d, n->loc, "'%s': value cannot be stored as JSON",
				  ptext(kp));
		else
			put32(c, at, mcc_image_str(c->img, c->json.buf, c->json.len));
		break;
	case MCPG_K_TEMPLATE:
		lower_template(c, f, type, n, kp, at);
		break;
	case MCPG_K_EXPR:
		lower_expr(c, f, type, n, kp, at);
		break;
	case MCPG_K_ENUM:
		lower_enum(c, f, type, n, kp, at);
		break;
	case MCPG_K_STRUCT:
		if (n->kind != MCC_N_MAP)
			wrong_type(c, kp, type, n);
		else
			lower_struct(c, type, n, kp, at, NULL, NULL, n->loc);
		break;
	case MCPG_K_UNION:
		lower_union(c, f, type, n, kp, at);
		break;
	case MCPG_K_LIST:
		lower_list(c, f, type, n, kp, at);
		break;
	case MCPG_K_MAP:
		lower_map(c, f, type, n, kp, at);
		break;
	case MCPG_K_OPTIONAL: {
		const struct mcpg_type *e = T(c, t->elem);

		if (e->kind == MCPG_K_STRUCT) {
			if (n->kind != MCC_N_MAP) {
				wrong_type(c, kp, t->elem, n);
				break;
			}
			uint32_t r = mcc_image_alloc(c->img, e->size);

			put32(c, at, r);
			lower_struct(c, t->elem, n, kp, r, NULL, NULL, n->loc);
		} else {
			int before = c->d->nerrors;

			lower_value(c, f, t->elem, n, kp, at, rec, where);
			if (f->set_bit >= 0 && rec && c->d->nerrors == before)
				set_bit(c, rec, f->set_bit);
		}
		break;
	}
	}
}

/*
 * Lower mapping `n` (NULL: nothing set, all defaults) as struct `type` into
 * the record at `at`.  Keys `skip1`/`skip2` belong to the caller (a union's
 * tag).  `where` is the place to blame for missing keys.
 */
static void
lower_struct(struct ctx *c, uint16_t type, const struct mcc_node *n,
	     const struct kpath *kp, uint32_t at, const char *skip1, const char *skip2,
	     struct mcc_loc where)
{
	const struct mcpg_type *t = T(c, type);
	/* The pair that sets each field, found in one pass over the keys. */
	const struct mcc_pair *few[64], **set = few;

	if (n && n->kind != MCC_N_MAP) {
		wrong_type(c, kp, type, n);
		return;
	}
	if (t->count > sizeof(few) / sizeof(*few))
		set = mcc_alloc(t->count * sizeof(*set));
	else
		memset(few, 0, t->count * sizeof(*few));
	/* Unknown keys first, in document order. */
	for (size_t i = 0; n && i < n->nr; i++) {
		const struct mcc_node *k = n->pairs[i].key;
		const char *cands[512];
		uint16_t nc = 0;
		int fi = field_index(c, t, k->text, k->len);

		if (fi >= 0 && !set[fi])
			set[fi] = &n->pairs[i];
		if ((skip1 && !strcmp(k->text, skip1)) || (skip2 && !strcmp(k->text, skip2)))
			continue;
		if (fi >= 0)
			continue;
		for (uint16_t j = 0; j < t->count && nc < 512; j++)
			cands[nc++] = c->s->fields[t->first + j].name;
		const char *near = mcc_closest(k->text, cands, nc);
		const char *path = ptext(kp);

		if (near && *path)
			mcc_error(c->d, k->loc, "unknown key '%s' in '%s' (did you mean '%s'?)",
				  k->text, path, near);
		else if (near)
			mcc_error(c->d, k->loc, "unknown key '%s' (did you mean '%s'?)",
				  k->text, near);
		else if (*path)
			mcc_error(c->d, k->loc, "unknown key '%s' in '%s'", k->text, path);
		else
			mcc_error(c->d, k->loc, "unknown key '%s'", k->text);
	}
	for (uint16_t j = 0; j < t->count && !c->d->stopped; j++) {
		const struct mcpg_field *f = &c->s->fields[t->first + j];
		const struct mcpg_type *ft = T(c, f->type);
		const struct mcc_pair *p = set[j];
		const struct mcc_node *v = p ? p->value : NULL;
		struct kpath fkp = { kp, f->name, 0 };
		uint32_t slot = at + f->offset;

		if (v && (f->flags & MCPG_F_DEPRECATED))
			mcc_warning(c->d, p->key->loc, "'%s' is deprecated: %s", ptext(&fkp),
				    f->deprecated ? f->deprecated : "see the documentation");
		if (v && mcc_node_is_null(v) && ft->kind != MCPG_K_JSON) {
			if (f->flags & MCPG_F_REQUIRED) {
				const char *fpath = ptext(&fkp);

				mcc_error(c->d, v->loc, "'%s' is required and cannot be reset with null",
					  fpath);
				if (v->overrode)
					mcc_note(c->d, v->overrode->loc, "'%s' was set here", fpath);
				continue;
			}
			v = NULL; /* null resets to the default */
		}
		if (!v) {
			if (f->flags & MCPG_F_REQUIRED) {
				mcc_error(c->d, n ? n->loc : where, "missing required key '%s'",
					  ptext(&fkp));
				continue;
			}
			v = mcc_field_default(c->s, f);
			if (!v && ft->kind == MCPG_K_STRUCT) {
				lower_struct(c, f->type, NULL, &fkp, slot, NULL, NULL,
					     n ? n->loc : where);
				continue;
			}
			if (!v || (mcc_node_is_null(v) && ft->kind != MCPG_K_JSON))
				continue; /* absent optional: slot stays zero */
		}
		lower_value(c, f, f->type, v, &fkp, slot, at, p ? p->key->loc : where);
	}
}

int
mcc_validate(const struct mcpg_schema *s, const struct mcc_node *root,
	     struct mcc_image *img, unsigned flags, struct mcc_diag *d)
{
	struct ctx c = { s, d, img, flags, NULL, NULL, NULL, STRBUF_INIT };
	int before = d->nerrors;
	uint32_t at = mcc_image_alloc(img, s->types[s->root].size);

	c.regex = mcc_alloc(s->nfields * sizeof(*c.regex));
	c.pattern = mcc_alloc(s->nfields * sizeof(*c.pattern));
	c.name_len = mcc_alloc(s->nfields * sizeof(*c.name_len));
	for (uint32_t i = 0; i < s->nfields; i++)
		c.name_len[i] = strlen(s->fields[i].name);
	lower_struct(&c, s->root, root, NULL, at, NULL, NULL,
		     root ? root->loc : MCC_NOLOC);
	for (uint32_t i = 0; i < s->nfields; i++)
		if (c.regex[i])
			regfree(c.regex[i]);
	strbuf_release(&c.json);
	return d->nerrors == before ? 0 : -1;
}
