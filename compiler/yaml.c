/*
 * yaml.c - load one YAML file into a node tree (node.h), and the node
 * helpers the later phases share: scalar typing, a string map (the JSON
 * writer is in json.c).
 *
 * First phase of mcpgc (DESIGN.md section 2).  We read the file ourselves,
 * let libfyaml's parser turn it into events and build our tree from them,
 * rather than asking libfyaml for a document: the events carry a position
 * for every collection (libfyaml 0.7.12 has no start mark for a document's
 * mapping or sequence nodes), and building the tree ourselves lets us
 * report every duplicate key with a note at the first one, where the
 * document builder stops at the first with a message of its own.  So
 * anchors, aliases and `<<` merge keys are resolved here too.
 *
 * libfyaml's diagnostics go to a collecting fy_diag and come out through
 * diag.c.  libfyaml counts columns in characters and puts the mark of a
 * quoted scalar inside the quotes; diag.c wants bytes and the token's first
 * character, so positions are recomputed from the input.
 */
#include "yaml.h"

#include <errno.h>
#include <libfyaml.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arena.h"
#include "yaml_fast.h"
#include "utf8.h"

/*
 * Aliases are shallow copies, so an alias bomb costs no memory here, but
 * every later walk (merge, validation, JSON) sees the expanded tree.  We
 * allow this many nodes reached through aliases, plus 16 per node written.
 */
#define ALIAS_BUDGET (1u << 20)

/* Transient arrays are malloc'd; like the arena, running out aborts. */
static void
oom(void)
{
	fprintf(stderr, "mcpgc: fatal: out of memory\n");
	abort();
}

static void *
xrealloc(void *p, size_t nr, size_t elem)
{
	if (elem && nr > SIZE_MAX / elem)
		oom();
	p = realloc(p, nr * elem);
	if (!p)
		oom();
	return p;
}

#define GROW(v, nr, alloc)                                                   \
	do {                                                                 \
		if ((nr) >= (alloc)) {                                       \
			(alloc) = (alloc) ? 2 * (alloc) : 16;                \
			(v) = xrealloc((v), (alloc), sizeof(*(v)));          \
		}                                                            \
	} while (0)

/* ---- String map --------------------------------------------------------- */

struct mcc_strmap_slot {
	const char *key; /* NULL: empty */
	size_t len;
	size_t hash;
	void *val;
};

static size_t
hash_bytes(const char *s, size_t len)
{
	size_t h = 14695981039346656037u; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

void
mcc_strmap_init(struct mcc_strmap *m)
{
	m->slots = NULL;
	m->nr = m->alloc = 0;
}

void
mcc_strmap_release(struct mcc_strmap *m)
{
	free(m->slots);
	mcc_strmap_init(m);
}

static struct mcc_strmap_slot *
strmap_find(const struct mcc_strmap *m, const char *key, size_t len, size_t h)
{
	size_t mask = m->alloc - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct mcc_strmap_slot *s = &m->slots[i];

		if (!s->key || (s->hash == h && s->len == len && !memcmp(s->key, key, len)))
			return s;
	}
}

void *
mcc_strmap_get(const struct mcc_strmap *m, const char *key, size_t len)
{
	if (!m->alloc)
		return NULL;
	struct mcc_strmap_slot *s = strmap_find(m, key, len, hash_bytes(key, len));

	return s->key ? s->val : NULL;
}

void *
mcc_strmap_put(struct mcc_strmap *m, const char *key, size_t len, void *val)
{
	size_t h = hash_bytes(key, len);
	struct mcc_strmap_slot *s;

	if (2 * (m->nr + 1) > m->alloc) {
		struct mcc_strmap old = *m;

		m->alloc = old.alloc ? 2 * old.alloc : 16;
		m->slots = calloc(m->alloc, sizeof(*m->slots));
		if (!m->slots)
			oom();
		for (size_t i = 0; i < old.alloc; i++)
			if (old.slots[i].key)
				*strmap_find(m, old.slots[i].key, old.slots[i].len,
					     old.slots[i].hash) = old.slots[i];
		free(old.slots);
	}
	s = strmap_find(m, key, len, h);
	if (s->key)
		return s->val;
	*s = (struct mcc_strmap_slot){ key, len, h, val };
	m->nr++;
	return NULL;
}

/* ---- Core-schema typing -------------------------------------------------- */

static int
is_digits(const char *s, size_t len, int base)
{
	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int ok = base == 16 ? ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
				       (c >= 'A' && c <= 'F'))
				    : (c >= '0' && c <= '0' + base - 1);

		if (!ok)
			return 0;
	}
	return 1;
}

static int
is_int(const char *s, size_t len)
{
	if (len > 2 && s[0] == '0' && s[1] == 'o')
		return is_digits(s + 2, len - 2, 8);
	if (len > 2 && s[0] == '0' && s[1] == 'x')
		return is_digits(s + 2, len - 2, 16);
	if (len && (s[0] == '-' || s[0] == '+'))
		s++, len--;
	return is_digits(s, len, 10);
}

static int
is_special_float(const char *s, size_t len)
{
	static const char *const inf[] = { ".inf", ".Inf", ".INF" };
	static const char *const nan[] = { ".nan", ".NaN", ".NAN" };

	if (len == 5 && (s[0] == '-' || s[0] == '+'))
		s++, len--;
	else if (len == 4)
		for (size_t i = 0; i < 3; i++)
			if (!memcmp(s, nan[i], 4))
				return 1;
	if (len == 4)
		for (size_t i = 0; i < 3; i++)
			if (!memcmp(s, inf[i], 4))
				return 1;
	return 0;
}

static int
is_float(const char *s, size_t len)
{
	size_t i = 0, d1 = 0, d2 = 0;

	if (is_special_float(s, len))
		return 1;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, d1++;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, d2++;
		/* "1." is a float, "." is not, ".5" needs its digits */
		if (!d1 && !d2)
			return 0;
	} else if (!d1) {
		return 0;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t de = 0;

		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, de++;
		if (!de)
			return 0;
	}
	return i == len;
}

struct word {
	const char *text;
	size_t len;
};

#define WORD(s) { s, sizeof(s) - 1 }

static int
is_word(const char *s, size_t len, const struct word *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (words[i].len == len && !memcmp(s, words[i].text, len))
			return 1;
	return 0;
}

static const struct word null_words[] = { WORD("~"), WORD("null"), WORD("Null"), WORD("NULL") };
static const struct word bool_words[] = { WORD("true"), WORD("True"), WORD("TRUE"),
					  WORD("false"), WORD("False"), WORD("FALSE") };

enum mcc_scalar_type
mcc_plain_type(const char *text, size_t len)
{
	/* Most scalars are words: settle them by their first character. */
	if (len) {
		char c = text[0];

		if (!(c >= '0' && c <= '9') && c != '-' && c != '+' && c != '.' && c != '~' &&
		    c != 'n' && c != 'N' && c != 't' && c != 'T' && c != 'f' && c != 'F')
			return MCC_T_STR;
	}
	if (!len || is_word(text, len, null_words, 4))
		return MCC_T_NULL;
	if (is_word(text, len, bool_words, 6))
		return MCC_T_BOOL;
	if (is_int(text, len))
		return MCC_T_INT;
	if (is_float(text, len))
		return MCC_T_FLOAT;
	return MCC_T_STR;
}

/* The magnitude of an integer's text; -1 on overflow. */
static int
int_magnitude(const char *s, size_t len, int *neg, uint64_t *mag)
{
	unsigned base = 10;
	uint64_t v = 0;

	*neg = 0;
	if (len > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
		base = s[1] == 'o' ? 8 : 16;
		s += 2, len -= 2;
	} else if (len && (s[0] == '-' || s[0] == '+')) {
		*neg = s[0] == '-';
		s++, len--;
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		unsigned dv = c >= 'a' ? (unsigned)(c - 'a' + 10)
			    : c >= 'A' ? (unsigned)(c - 'A' + 10) : (unsigned)(c - '0');

		if (v > (UINT64_MAX - dv) / base)
			return -1;
		v = v * base + dv;
	}
	*mag = v;
	return 0;
}

int
mcc_node_is_null(const struct mcc_node *n)
{
	return !n || n->kind == MCC_N_NULL;
}

int
mcc_scalar_as_bool(const struct mcc_node *n, int *out)
{
	if (!n || n->kind != MCC_N_SCALAR || n->type != MCC_T_BOOL)
		return MCC_SCALAR_WRONG_TYPE;
	*out = n->text[0] == 't' || n->text[0] == 'T';
	return MCC_SCALAR_OK;
}

int
mcc_scalar_as_int(const struct mcc_node *n, int64_t *out)
{
	uint64_t mag;
	int neg;

	if (!n || n->kind != MCC_N_SCALAR || n->type != MCC_T_INT)
		return MCC_SCALAR_WRONG_TYPE;
	if (int_magnitude(n->text, n->len, &neg, &mag) < 0)
		return MCC_SCALAR_RANGE;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return MCC_SCALAR_RANGE;
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return MCC_SCALAR_RANGE;
		*out = (int64_t)mag;
	}
	return MCC_SCALAR_OK;
}

int
mcc_scalar_as_uint(const struct mcc_node *n, uint64_t *out)
{
	uint64_t mag;
	int neg;

	if (!n || n->kind != MCC_N_SCALAR || n->type != MCC_T_INT)
		return MCC_SCALAR_WRONG_TYPE;
	if (int_magnitude(n->text, n->len, &neg, &mag) < 0 || (neg && mag))
		return MCC_SCALAR_RANGE;
	*out = mag;
	return MCC_SCALAR_OK;
}

int
mcc_scalar_as_double(const struct mcc_node *n, double *out)
{
	const char *s;
	double v;

	if (!n || n->kind != MCC_N_SCALAR || (n->type != MCC_T_INT && n->type != MCC_T_FLOAT))
		return MCC_SCALAR_WRONG_TYPE;
	s = n->text;
	if (is_special_float(s, n->len)) {
		int neg = s[0] == '-';

		if (s[0] == '-' || s[0] == '+')
			s++;
		v = s[1] == 'i' || s[1] == 'I' ? INFINITY : NAN;
		*out = neg ? -v : v;
		return MCC_SCALAR_OK;
	}
	if (n->type == MCC_T_INT && n->len > 2 && s[0] == '0' && s[1] == 'o') {
		/* strtod knows no octal */
		v = 0;
		for (size_t i = 2; i < n->len; i++)
			v = v * 8 + (s[i] - '0');
	} else {
		errno = 0;
		v = strtod(s, NULL);
		if (errno == ERANGE && isinf(v))
			return MCC_SCALAR_RANGE;
	}
	if (isinf(v))
		return MCC_SCALAR_RANGE;
	*out = v;
	return MCC_SCALAR_OK;
}

const char *
mcc_node_kind_name(const struct mcc_node *n)
{
	if (!n)
		return "null";
	switch (n->kind) {
	case MCC_N_NULL:
		return "null";
	case MCC_N_SEQ:
		return "sequence";
	case MCC_N_MAP:
		return "mapping";
	case MCC_N_SCALAR:
		break;
	}
	switch (n->type) {
	case MCC_T_INT:
		return "integer";
	case MCC_T_FLOAT:
		return "float";
	case MCC_T_BOOL:
		return "boolean";
	case MCC_T_NULL:
		return "null";
	case MCC_T_STR:
		break;
	}
	return "string";
}

/* "a mapping", "an integer": for messages. */
static const char *
a_kind(const struct mcc_node *n)
{
	const char *k = mcc_node_kind_name(n);

	return mcc_printf("%s %s", strchr("aeiou", k[0]) ? "an" : "a", k);
}

/* ---- The loader ---------------------------------------------------------- */

struct anchor {
	const char *name;
	size_t len;
	struct mcc_node *node; /* NULL while its collection is being built */
	size_t weight;         /* nodes in it, aliases expanded */
};

/* A mapping or sequence being built. */
struct frame {
	struct mcc_node *node;
	size_t base;           /* its first child on the value stack */
	size_t weight;
	size_t anchor;         /* index + 1 into anchors, or 0 */
	char flow;             /* '{' or '[' for a flow collection, else 0 */
	struct mcc_node *key;  /* a mapping's key still waiting for its value */
	int skip;              /* drop that key's value (duplicate, bad key) */
	int has_merge;         /* a `<<` key was seen */
	struct mcc_strmap keys; /* the keys so far, once there are many */
};

/* Below this many keys, a linear scan finds duplicates faster than a hash. */
#define FEW_KEYS 8

struct loader {
	struct mcc_diag *d;
	const char *file;
	int layer;
	const char *buf;
	size_t len;
	struct mcc_node **vals; /* children of the open collections */
	size_t nvals, avals;
	struct frame *frames;
	size_t nframes, aframes;
	struct anchor *anchors;
	size_t nanchors, aanchors;
	struct mcc_strmap keytext; /* key texts, stored once */
	struct mcc_node *root;
	int ndocs;
	int failed;             /* no tree will come out of this */
	size_t nwritten;        /* nodes written in the text */
	size_t expanded;        /* nodes reached through aliases */
	struct fy_mark last;    /* end of the previous event */
	size_t cache_pos, cache_line_start;
};

static int
is_break(char c)
{
	return c == '\n' || c == '\r';
}

/*
 * The location of byte `pos` on 0-based line `line0` (libfyaml counts the
 * lines; we count the columns, in bytes).  Marks mostly come in order, so
 * the scan back to the line start resumes from the previous answer.
 */
static struct mcc_loc
loc_at(struct loader *L, size_t pos, int line0)
{
	size_t i, ls;

	if (pos > L->len)
		pos = L->len;
	if (pos >= L->cache_pos) {
		for (i = pos; i > L->cache_pos && !is_break(L->buf[i - 1]); i--)
			;
		ls = i > L->cache_pos ? i : L->cache_line_start;
	} else {
		for (i = pos; i > 0 && !is_break(L->buf[i - 1]); i--)
			;
		ls = i;
	}
	if (ls == 0 && L->len >= 3 && !memcmp(L->buf, "\xef\xbb\xbf", 3) && pos >= 3)
		ls = 3; /* a byte order mark is not a column */
	L->cache_pos = pos;
	L->cache_line_start = ls;
	return (struct mcc_loc){ L->file, line0 + 1,
				 pos - ls < INT_MAX ? (int)(pos - ls) + 1 : INT_MAX };
}

/* Line breaks in buf[a, b), a CR LF counting once. */
static int
breaks_between(const struct loader *L, size_t a, size_t b)
{
	int n = 0;

	for (size_t i = a; i < b && i < L->len; i++)
		if (L->buf[i] == '\n' || (L->buf[i] == '\r' &&
					  (i + 1 >= L->len || L->buf[i + 1] != '\n')))
			n++;
	return n;
}

/* The location of byte `pos`, given a mark `m` near it. */
static struct mcc_loc
loc_near(struct loader *L, const struct fy_mark *m, size_t pos)
{
	int line = m->line;

	if (pos < m->input_pos)
		line -= breaks_between(L, pos, m->input_pos);
	else
		line += breaks_between(L, m->input_pos, pos);
	return loc_at(L, pos, line);
}

static struct mcc_loc
mark_loc(struct loader *L, const struct fy_mark *m)
{
	return loc_at(L, m->input_pos, m->line);
}

/*
 * The first byte at or after `pos` that is not blank, a comment or one of
 * the indicators that can precede a value (`:`, `-`, `?`); `limit` if none.
 */
static size_t
skip_to_value(const struct loader *L, size_t pos, size_t limit)
{
	while (pos < limit) {
		char c = L->buf[pos];

		if (c == '#') {
			while (pos < limit && !is_break(L->buf[pos]))
				pos++;
		} else if (c == ' ' || c == '\t' || is_break(c) || c == ':' || c == '-' ||
			   c == '?') {
			pos++;
		} else {
			break;
		}
	}
	return pos;
}

static size_t
token_end(struct fy_token *t)
{
	const struct fy_mark *m = t ? fy_token_end_mark(t) : NULL;

	return m ? m->input_pos : 0;
}

static struct frame *
top(struct loader *L)
{
	return L->nframes ? &L->frames[L->nframes - 1] : NULL;
}

/* Where a scalar starts: see the comment on mcc_node.loc. */
static struct mcc_loc
scalar_loc(struct loader *L, struct fy_event *ev, enum mcc_scalar_style style)
{
	const struct fy_mark *m = fy_token_start_mark(ev->scalar.value);
	struct frame *f = top(L);
	size_t pos;

	if (!m || (ev->scalar.value && fy_token_get_text_length(ev->scalar.value) == 0 &&
		   style == MCC_STYLE_PLAIN)) {
		/* An empty value: point at its key, or at the `-` of its item. */
		if (f && f->node->kind == MCC_N_MAP && f->key)
			return f->key->loc;
		pos = L->last.input_pos;
		while (pos < L->len && (L->buf[pos] == ' ' || L->buf[pos] == '\t' ||
					is_break(L->buf[pos])))
			pos++;
		if (pos >= L->len || L->buf[pos] != '-')
			pos = L->last.input_pos;
		struct mcc_loc loc = loc_near(L, &L->last, pos);

		/* so that the next empty item finds the next `-` */
		L->last.input_pos = pos < L->len ? pos + 1 : pos;
		L->last.line = loc.line - 1;
		return loc;
	}
	pos = m->input_pos;
	switch (style) {
	case MCC_STYLE_SINGLE_QUOTED:
	case MCC_STYLE_DOUBLE_QUOTED:
		if (pos > 0 && L->buf[pos - 1] == (style == MCC_STYLE_SINGLE_QUOTED ? '\'' : '"'))
			pos--;
		break;
	case MCC_STYLE_LITERAL:
	case MCC_STYLE_FOLDED: {
		/* libfyaml marks the content; we want the | or > indicator. */
		size_t from = L->last.input_pos, e;

		if ((e = token_end(ev->scalar.anchor)) > from)
			from = e;
		if ((e = token_end(ev->scalar.tag)) > from)
			from = e;
		from = skip_to_value(L, from, pos);
		if (from < pos && (L->buf[from] == '|' || L->buf[from] == '>'))
			pos = from;
		break;
	}
	case MCC_STYLE_PLAIN:
		break;
	}
	return pos == m->input_pos ? mark_loc(L, m) : loc_near(L, m, pos);
}

static void
push_val(struct loader *L, struct mcc_node *n)
{
	GROW(L->vals, L->nvals, L->avals);
	L->vals[L->nvals++] = n;
}

static int
utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0, n;
	unsigned cp;

	while (i < len) {
		if (s[i] < 0x80)
			n = 1;
		else if (!(n = mcc_utf8_seq(s, i, len, &cp)))
			return 0;
		i += n;
	}
	return 1;
}

/* Anchors may be redefined; an alias means the latest definition. */
static struct anchor *
find_anchor(struct loader *L, const char *name, size_t len)
{
	for (size_t i = L->nanchors; i-- > 0;)
		if (L->anchors[i].len == len && !memcmp(L->anchors[i].name, name, len))
			return &L->anchors[i];
	return NULL;
}

static size_t
add_anchor(struct loader *L, struct fy_token *t, struct mcc_node *n)
{
	size_t len;
	const char *name;

	if (!t || !(name = fy_token_get_text(t, &len)))
		return 0;
	GROW(L->anchors, L->nanchors, L->aanchors);
	L->anchors[L->nanchors] = (struct anchor){ mcc_strndup(name, len), len, n, 1 };
	return ++L->nanchors;
}

#define CORE_TAG "tag:yaml.org,2002:"

/* A tag for messages: the core schema's as !!name. */
static const char *
tag_name(const char *tag, size_t len)
{
	size_t pl = strlen(CORE_TAG);

	if (len > pl && !memcmp(tag, CORE_TAG, pl))
		return mcc_printf("!!%.*s", (int)(len - pl), tag + pl);
	return mcc_strndup(tag, len);
}

static int
is_core_tag(const char *tag, size_t len, const char *name)
{
	size_t pl = strlen(CORE_TAG), nl = strlen(name);

	return len == pl + nl && !memcmp(tag, CORE_TAG, pl) && !memcmp(tag + pl, name, nl);
}

/*
 * Check the tag `t` of node `n` (a collection, or a scalar typed `type`
 * so far) and return the scalar's type under it.
 */
static enum mcc_scalar_type
apply_tag(struct loader *L, struct fy_token *t, struct mcc_node *n, enum mcc_scalar_type type)
{
	static const struct {
		const char *name;
		enum mcc_scalar_type type;
	} scalar_tags[] = {
		{ "str", MCC_T_STR }, { "int", MCC_T_INT }, { "float", MCC_T_FLOAT },
		{ "bool", MCC_T_BOOL }, { "null", MCC_T_NULL },
	};
	size_t len;
	const char *tag = t ? fy_token_get_text(t, &len) : NULL;
	const struct fy_mark *m;
	struct mcc_loc tag_loc;

	if (!tag)
		return type;
	m = fy_token_start_mark(t);
	tag_loc = m ? mark_loc(L, m) : n->loc;
	if (n->kind == MCC_N_MAP || n->kind == MCC_N_SEQ) {
		const char *want = n->kind == MCC_N_MAP ? "map" : "seq";

		if (!is_core_tag(tag, len, want) && !(len == 1 && tag[0] == '!'))
			mcc_error(L->d, tag_loc, "tag '%s' on %s is not supported",
				  tag_name(tag, len), a_kind(n));
		return type;
	}
	if (len == 1 && tag[0] == '!')
		return MCC_T_STR; /* the non-specific tag: not typed by its text */
	for (size_t i = 0; i < sizeof(scalar_tags) / sizeof(scalar_tags[0]); i++) {
		enum mcc_scalar_type want = scalar_tags[i].type, got;

		if (!is_core_tag(tag, len, scalar_tags[i].name))
			continue;
		if (want == MCC_T_STR)
			return MCC_T_STR;
		got = mcc_plain_type(n->text, n->len);
		if (got == want || (want == MCC_T_FLOAT && got == MCC_T_INT))
			return want;
		/* The text is not quoted: it may be a secret. */
		mcc_error(L->d, n->loc, "value is not a valid %s", tag_name(tag, len));
		return type;
	}
	mcc_error(L->d, tag_loc, "tag '%s' is not supported", tag_name(tag, len));
	return type;
}

static int
is_merge_key(const struct mcc_node *k)
{
	return k->style == MCC_STYLE_PLAIN && k->len == 2 && !memcmp(k->text, "<<", 2);
}

/* The earlier key in frame `f` with the same text as `k`, or NULL; adds `k`. */
static struct mcc_node *
seen_key(struct frame *f, struct loader *L, struct mcc_node *k)
{
	size_t nkeys = (L->nvals - f->base) / 2;

	if (!f->keys.alloc && nkeys < FEW_KEYS) {
		for (size_t i = f->base; i < L->nvals; i += 2) {
			struct mcc_node *o = L->vals[i];

			if (o->len == k->len && !memcmp(o->text, k->text, k->len))
				return o;
		}
		return NULL;
	}
	if (!f->keys.alloc)
		for (size_t i = f->base; i < L->nvals; i += 2)
			mcc_strmap_put(&f->keys, L->vals[i]->text, L->vals[i]->len, L->vals[i]);
	return mcc_strmap_put(&f->keys, k->text, k->len, k);
}

static int
over_budget(struct loader *L)
{
	if (L->expanded <= ALIAS_BUDGET + 16 * L->nwritten)
		return 0;
	if (!L->failed)
		mcc_error(L->d, (struct mcc_loc){ L->file, 0, 0 },
			  "aliases expand to more than %u nodes", ALIAS_BUDGET);
	L->failed = 1;
	return 1;
}

/* Give a finished node to the collection being built, or make it the root. */
static void
add_node(struct loader *L, struct mcc_node *n, size_t weight)
{
	struct frame *f = top(L);

	if (!f) {
		L->root = n;
		return;
	}
	f->weight += weight;
	if (f->node->kind == MCC_N_SEQ) {
		push_val(L, n);
		return;
	}
	if (f->key) {
		if (!f->skip) {
			push_val(L, f->key);
			push_val(L, n);
		}
		f->key = NULL;
		f->skip = 0;
		return;
	}
	/* `n` is a key. */
	f->key = n;
	if (n->kind == MCC_N_SEQ || n->kind == MCC_N_MAP) {
		mcc_error(L->d, n->loc, "a mapping key must be a scalar, not %s",
			  a_kind(n));
		f->skip = 1;
		return;
	}
	n->kind = MCC_N_SCALAR;
	struct mcc_node *prev = seen_key(f, L, n);

	if (prev) {
		mcc_error(L->d, n->loc, "duplicate key '%s'", n->text);
		mcc_note(L->d, prev->loc, "'%s' was first set here", n->text);
		f->skip = 1;
	} else if (is_merge_key(n)) {
		f->has_merge = 1;
	}
}

static struct mcc_node *
new_node(struct loader *L, enum mcc_node_kind kind)
{
	struct mcc_node *n = mcc_alloc(sizeof(*n));

	n->kind = kind;
	n->layer = L->layer;
	n->text = "";
	L->nwritten++;
	return n;
}

static void
on_scalar(struct loader *L, struct fy_event *ev)
{
	static const enum mcc_scalar_style styles[] = {
		[FYSS_PLAIN] = MCC_STYLE_PLAIN,
		[FYSS_SINGLE_QUOTED] = MCC_STYLE_SINGLE_QUOTED,
		[FYSS_DOUBLE_QUOTED] = MCC_STYLE_DOUBLE_QUOTED,
		[FYSS_LITERAL] = MCC_STYLE_LITERAL,
		[FYSS_FOLDED] = MCC_STYLE_FOLDED,
	};
	struct mcc_node *n = new_node(L, MCC_N_SCALAR);
	enum fy_scalar_style fs = fy_token_scalar_style(ev->scalar.value);
	size_t len = 0;
	const char *text = fy_token_get_text(ev->scalar.value, &len);
	struct frame *f = top(L);

	n->style = fs >= FYSS_PLAIN && fs < FYSS_MAX ? styles[fs] : MCC_STYLE_PLAIN;
	if (!text)
		text = "", len = 0;
	if (f && f->node->kind == MCC_N_MAP && !f->key) {
		/* A key: configs repeat a few key names many times. */
		if (!(n->text = mcc_strmap_get(&L->keytext, text, len))) {
			n->text = mcc_strndup(text, len);
			mcc_strmap_put(&L->keytext, n->text, len, (void *)n->text);
		}
	} else {
		n->text = mcc_strndup(text, len);
	}
	n->len = len;
	n->loc = scalar_loc(L, ev, n->style);
	/* Reported, then cut, so text and len always agree. */
	if (memchr(n->text, '\0', len)) {
		mcc_error(L->d, n->loc, "value contains a NUL byte");
		n->len = len = strlen(n->text);
	} else if (!utf8_valid((const unsigned char *)n->text, len)) {
		mcc_error(L->d, n->loc, "value is not valid UTF-8");
		n->text = "";
		n->len = len = 0;
	}
	n->type = n->style == MCC_STYLE_PLAIN ? mcc_plain_type(n->text, len) : MCC_T_STR;
	n->type = apply_tag(L, ev->scalar.tag, n, n->type);
	if (n->type == MCC_T_NULL)
		n->kind = MCC_N_NULL;
	add_anchor(L, ev->scalar.anchor, n);
	add_node(L, n, 1);
}

static struct mcc_node *
null_node(struct loader *L, struct mcc_loc loc)
{
	struct mcc_node *n = new_node(L, MCC_N_NULL);

	n->type = MCC_T_NULL;
	n->loc = loc;
	return n;
}

static void
on_alias(struct loader *L, struct fy_event *ev)
{
	const struct fy_mark *m = fy_token_start_mark(ev->alias.anchor);
	size_t len = 0;
	const char *name = fy_token_get_text(ev->alias.anchor, &len);
	struct mcc_loc loc = { L->file, 0, 0 };
	struct anchor *a;

	if (!name)
		name = "", len = 0;
	if (m) {
		size_t pos = m->input_pos;

		if (pos > 0 && L->buf[pos - 1] == '*')
			pos--;
		loc = loc_near(L, m, pos);
	}
	a = find_anchor(L, name, len);
	if (!a || !a->node) {
		if (!a)
			mcc_error(L->d, loc, "undefined anchor '%.*s'", (int)len, name);
		else
			mcc_error(L->d, loc, "alias '*%.*s' is inside the node it names",
				  (int)len, name);
		add_node(L, null_node(L, loc), 1);
		return;
	}
	struct mcc_node *n = mcc_alloc(sizeof(*n));

	*n = *a->node;
	n->loc = loc;
	L->expanded += a->weight;
	if (over_budget(L))
		return;
	add_node(L, n, a->weight);
}

static void
on_start(struct loader *L, struct fy_event *ev, enum mcc_node_kind kind)
{
	const struct fy_mark *m = fy_event_start_mark(ev);
	struct mcc_node *n = new_node(L, kind);
	struct fy_token *anchor, *tag;
	struct frame *f;

	if (kind == MCC_N_MAP)
		anchor = ev->mapping_start.anchor, tag = ev->mapping_start.tag;
	else
		anchor = ev->sequence_start.anchor, tag = ev->sequence_start.tag;
	n->loc = m ? mark_loc(L, m) : (struct mcc_loc){ L->file, 0, 0 };
	if (L->nframes >= MCC_NODE_MAX_DEPTH) {
		mcc_error(L->d, n->loc, "nesting is deeper than %d levels", MCC_NODE_MAX_DEPTH);
		L->failed = 1;
		return;
	}
	apply_tag(L, tag, n, MCC_T_STR);
	GROW(L->frames, L->nframes, L->aframes);
	f = &L->frames[L->nframes++];
	memset(f, 0, sizeof(*f));
	f->node = n;
	f->base = L->nvals;
	f->anchor = add_anchor(L, anchor, NULL);
	if (m && m->input_pos < L->len &&
	    (L->buf[m->input_pos] == '{' || L->buf[m->input_pos] == '['))
		f->flow = L->buf[m->input_pos];
}

/*
 * Resolve `<<` merge keys (YAML 1.1 merge, which libfyaml's document
 * builder also does): the keys of the merged mappings are inserted where
 * the `<<` stands, unless the mapping sets them itself; with a sequence of
 * mappings, an earlier one wins.  Values are shared, not copied, and keep
 * the place where they are written.
 */
static size_t
resolve_merges(struct loader *L, struct frame *f, struct mcc_pair **out)
{
	struct mcc_node **v = L->vals + f->base;
	size_t nv = L->nvals - f->base, nr = 0, alloc = 0;
	struct mcc_pair *pairs = NULL, *r;
	struct mcc_strmap seen = MCC_STRMAP_INIT;

	for (size_t i = 0; i < nv; i += 2)
		if (!is_merge_key(v[i]))
			mcc_strmap_put(&seen, v[i]->text, v[i]->len, v[i]);
	for (size_t i = 0; i < nv; i += 2) {
		const struct mcc_node *val = v[i + 1];
		struct mcc_node *const *src = (struct mcc_node *const *)&v[i + 1];
		size_t nsrc = 1;

		if (!is_merge_key(v[i])) {
			GROW(pairs, nr, alloc);
			pairs[nr++] = (struct mcc_pair){ v[i], v[i + 1] };
			continue;
		}
		if (val->kind == MCC_N_SEQ) {
			src = val->items;
			nsrc = val->nr;
		}
		for (size_t s = 0; s < nsrc; s++) {
			if (src[s]->kind != MCC_N_MAP) {
				mcc_error(L->d, src[s]->loc,
					  "'<<' merges a mapping or a sequence of mappings, not %s",
					  a_kind(src[s]));
				continue;
			}
			for (size_t k = 0; k < src[s]->nr; k++) {
				struct mcc_pair *p = &src[s]->pairs[k];

				if (mcc_strmap_put(&seen, p->key->text, p->key->len, p->key))
					continue;
				GROW(pairs, nr, alloc);
				pairs[nr++] = *p;
			}
		}
	}
	mcc_strmap_release(&seen);
	r = mcc_alloc(nr * sizeof(*r));
	if (nr)
		memcpy(r, pairs, nr * sizeof(*r));
	free(pairs);
	*out = r;
	return nr;
}

static void
on_end(struct loader *L)
{
	struct frame *f = top(L);
	struct mcc_node *n = f->node;
	size_t nv = L->nvals - f->base, weight = f->weight + 1;

	if (n->kind == MCC_N_SEQ) {
		n->items = mcc_alloc(nv * sizeof(*n->items));
		if (nv)
			memcpy(n->items, L->vals + f->base, nv * sizeof(*n->items));
		n->nr = nv;
	} else if (f->has_merge) {
		n->nr = resolve_merges(L, f, &n->pairs);
	} else {
		n->nr = nv / 2;
		n->pairs = mcc_alloc(n->nr * sizeof(*n->pairs));
		for (size_t i = 0; i < n->nr; i++)
			n->pairs[i] = (struct mcc_pair){ L->vals[f->base + 2 * i],
							 L->vals[f->base + 2 * i + 1] };
	}
	L->nvals = f->base;
	if (f->anchor) {
		L->anchors[f->anchor - 1].node = n;
		L->anchors[f->anchor - 1].weight = weight;
	}
	mcc_strmap_release(&f->keys);
	L->nframes--;
	add_node(L, n, weight);
}

static void
on_event(struct loader *L, struct fy_event *ev)
{
	const struct fy_mark *m;

	switch (ev->type) {
	case FYET_DOCUMENT_START:
		if (++L->ndocs > 1) {
			m = fy_event_start_mark(ev);
			mcc_error(L->d, m ? mark_loc(L, m) : (struct mcc_loc){ L->file, 0, 0 },
				  "a config file must hold one YAML document, not several");
			L->failed = 1;
		}
		break;
	case FYET_SCALAR:
		on_scalar(L, ev);
		break;
	case FYET_ALIAS:
		on_alias(L, ev);
		break;
	case FYET_MAPPING_START:
		on_start(L, ev, MCC_N_MAP);
		break;
	case FYET_SEQUENCE_START:
		on_start(L, ev, MCC_N_SEQ);
		break;
	case FYET_MAPPING_END:
	case FYET_SEQUENCE_END:
		on_end(L);
		break;
	default:
		break;
	}
	if ((m = fy_event_end_mark(ev)))
		L->last = *m;
}

/*
 * A libfyaml diagnostic gives a 1-based line and a 1-based column counted
 * in characters; find the byte.
 */
static struct mcc_loc
diag_loc(struct loader *L, int line, int col, const char *msg, size_t *posp)
{
	size_t pos = 0;
	int l = 1;

	*posp = L->len;
	if (line <= 0)
		return (struct mcc_loc){ L->file, 0, 0 };
	while (l < line && pos < L->len) {
		char c = L->buf[pos++];

		if (c == '\n' || (c == '\r' && (pos >= L->len || L->buf[pos] != '\n')))
			l++;
	}
	/* libfyaml may place an error at end of input on a line after the last */
	if (l < line)
		col = INT_MAX;
	for (int c = 1; c < col && pos < L->len && !is_break(L->buf[pos]); c++) {
		pos++;
		while (pos < L->len && ((unsigned char)L->buf[pos] & 0xc0) == 0x80)
			pos++;
	}
	/* libfyaml sometimes puts a quoted scalar's error inside the quotes */
	if (strstr(msg, "quoted scalar") && pos > 0 && pos < L->len &&
	    L->buf[pos] != '"' && L->buf[pos] != '\'' &&
	    (L->buf[pos - 1] == '"' || L->buf[pos - 1] == '\''))
		pos--;
	*posp = pos;
	return loc_at(L, pos, l - 1);
}

/*
 * Whether the quoted scalar opening at `pos` closes on its own line.
 * libfyaml reports a missing closing quote as "wrongly indented" when the
 * next line is indented less than the scalar's continuation would need.
 */
static int
closes_on_line(const struct loader *L, size_t pos)
{
	char q = L->buf[pos];

	for (size_t i = pos + 1; i < L->len && !is_break(L->buf[i]); i++) {
		if (q == '"' && L->buf[i] == '\\')
			i++;
		else if (L->buf[i] == q && q == '\'' && i + 1 < L->len && L->buf[i + 1] == '\'')
			i++;
		else if (L->buf[i] == q)
			return 1;
	}
	return 0;
}

/* The innermost flow collection still open, opened by `c` (0: any). */
static struct frame *
open_flow(struct loader *L, char c)
{
	for (size_t i = L->nframes; i-- > 0;)
		if (L->frames[i].flow && (!c || L->frames[i].flow == c))
			return &L->frames[i];
	return NULL;
}

/* Nothing but blanks and comments from `pos` to the end of input. */
static int
only_trivia_after(const struct loader *L, size_t pos)
{
	while (pos < L->len) {
		char c = L->buf[pos];

		if (c == '#')
			while (pos < L->len && !is_break(L->buf[pos]))
				pos++;
		else if (c == ' ' || c == '\t' || is_break(c))
			pos++;
		else
			return 0;
	}
	return 1;
}

/*
 * Turn libfyaml's collected diagnostics into ours.  The messages are
 * libfyaml's, with its spelling fixed and three made clearer: a quoted
 * scalar that does not close on its line and is followed by a less
 * indented line is "wrongly indented" to libfyaml, and a flow mapping open
 * at the end of input lacks a comma; both really miss their closing
 * character.  An error inside a flow collection gets a note at its start.
 */
static void
report_syntax(struct loader *L, struct fy_diag *fyd)
{
	struct fy_diag_error *e;
	void *it = NULL;
	int any = 0;

	while ((e = fy_diag_errors_iterate(fyd, &it))) {
		const char *msg = e->msg;
		struct mcc_loc loc;
		struct frame *f = NULL;
		size_t pos;
		char *fixed, *w;

		if (e->type < FYET_WARNING || !msg)
			continue;
		loc = diag_loc(L, e->line, e->column, msg, &pos);
		fixed = mcc_strdup(msg);
		while ((w = strstr(fixed, "indendation")))
			memcpy(w, "indentation", 11);
		for (size_t ml = strlen(fixed); ml && (fixed[ml - 1] == '\n' || fixed[ml - 1] == '.');)
			fixed[--ml] = '\0';
		msg = fixed;

		if (!strncmp(msg, "wrongly indented ", 17) && strstr(msg, "-quoted scalar") &&
		    pos < L->len && (L->buf[pos] == '"' || L->buf[pos] == '\'') &&
		    !closes_on_line(L, pos))
			msg = L->buf[pos] == '"' ? "double-quoted scalar without closing quote"
						 : "single-quoted scalar without closing quote";
		if (strstr(msg, "mismatched"))
			f = open_flow(L, 0);
		else if (strstr(msg, "flow sequence"))
			f = open_flow(L, '[');
		else if (strstr(msg, "flow mapping"))
			f = open_flow(L, '{');
		if (f && f->flow == '{' && !strcmp(msg, "missing comma in flow mapping") &&
		    only_trivia_after(L, pos))
			msg = "flow mapping without a closing brace";

		if (e->type == FYET_WARNING) {
			mcc_warning(L->d, loc, "%s", msg);
			continue;
		}
		mcc_error(L->d, loc, "%s", msg);
		any = 1;
		if (f)
			mcc_note(L->d, f->node->loc, "to match this '%c'", f->flow);
	}
	if (!any)
		mcc_error(L->d, (struct mcc_loc){ L->file, 0, 0 }, "invalid YAML");
}

/*
 * libfyaml 0.7.12 silently ends the input at a NUL byte and drops bytes
 * that are not UTF-8, so check the input first.  YAML allows no C0
 * control characters but tab, LF and CR.
 */
static int
check_input(struct loader *L)
{
	const unsigned char *s = (const unsigned char *)L->buf;
	size_t i = 0, line_start = 0;
	int line = 0;

	while (i < L->len) {
		unsigned c = s[i];
		size_t n = 1;

		if (c >= 0x20 && c < 0x80) {
			/* printable ASCII, eight bytes at a time where possible */
			uint64_t w;

			i++;
			while (i + 8 <= L->len) {
				memcpy(&w, s + i, 8);
				if ((w & 0x8080808080808080u) ||
				    ((w - 0x2020202020202020u) & ~w & 0x8080808080808080u))
					break;
				i += 8;
			}
			continue;
		}

		if (c == '\n' || (c == '\r' && (i + 1 >= L->len || s[i + 1] != '\n'))) {
			line++;
			line_start = i + 1;
		} else if (c >= 0x80) {
			n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
			if (i + n > L->len || !utf8_valid(s + i, n))
				n = 0;
		} else if (c < 0x20 && c != '\t' && c != '\r') {
			n = 0;
		}
		if (!n) {
			struct mcc_loc loc = { L->file, line + 1, 0 };

			loc.col = i - line_start < INT_MAX ? (int)(i - line_start) + 1 : INT_MAX;
			if (c >= 0x80)
				mcc_error(L->d, loc, "invalid UTF-8 (byte 0x%02x)", c);
			else
				mcc_error(L->d, loc, "control character 0x%02x is not allowed", c);
			return -1;
		}
		i += n;
	}
	return 0;
}

/*
 * libfyaml 0.7.12 corrupts its parser on one syntax error: after a `:`
 * whose key is a simple key, fy_fetch_value() recycles the key, and when
 * the tab check that follows fails ("cannot use tab for indentation of
 * block entry", e.g. `? o:<TAB>?`, found by fuzzing) its error path
 * recycles it again.  fy_parser_destroy() then crashes on the broken free
 * list.  Such a parser is never destroyed; it is kept here, reachable, so
 * leak checkers stay quiet.  That costs a few kilobytes per such file.
 */
static struct fy_parser **broken_parsers;
static size_t nbroken, abroken;

static int
parser_is_broken(struct fy_diag *fyd)
{
	struct fy_diag_error *e;
	void *it = NULL;

	while ((e = fy_diag_errors_iterate(fyd, &it)))
		if (e->msg && strstr(e->msg, "cannot use tab for indentation of block entry"))
			return 1;
	return 0;
}

static void
destroy_parser(struct fy_parser *fyp, struct fy_diag *fyd)
{
	if (fy_parser_get_stream_error(fyp) && parser_is_broken(fyd)) {
		GROW(broken_parsers, nbroken, abroken);
		broken_parsers[nbroken++] = fyp;
	} else {
		fy_parser_destroy(fyp);
	}
}

static struct mcc_node *
empty_root(struct loader *L)
{
	struct mcc_node *n = new_node(L, MCC_N_MAP);

	n->loc = (struct mcc_loc){ L->file, 0, 0 };
	return n;
}

struct mcc_node *
mcc_yaml_load_string_slow(const char *name, const char *text, size_t len, int layer,
			  struct mcc_diag *d)
{
	struct loader L = { 0 };
	struct fy_diag_cfg dcfg;
	struct fy_diag *fyd;
	struct fy_parser *fyp = NULL;
	struct fy_event *ev;
	int syntax = 0;

	L.d = d;
	L.file = mcc_strdup(name ? name : "<string>");
	L.layer = layer;
	L.buf = text;
	L.len = len;
	if (!len)
		return empty_root(&L);
	if (check_input(&L) < 0)
		return NULL;

	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = NULL;
	dcfg.colorize = false;
	fyd = fy_diag_create(&dcfg);
	if (fyd) {
		fy_diag_set_collect_errors(fyd, true);
		struct fy_parse_cfg cfg = { .flags = FYPCF_QUIET, .diag = fyd };

		fyp = fy_parser_create(&cfg);
	}
	if (!fyp || fy_parser_set_string(fyp, text, len)) {
		mcc_error(d, MCC_NOLOC, "cannot parse '%s': libfyaml setup failed", L.file);
		if (fyp)
			fy_parser_destroy(fyp);
		if (fyd)
			fy_diag_destroy(fyd);
		return NULL;
	}
	while (!L.failed && !d->stopped && (ev = fy_parser_parse(fyp))) {
		on_event(&L, ev);
		fy_parser_event_free(fyp, ev);
	}
	if (fy_parser_get_stream_error(fyp)) {
		if (!L.failed && !d->stopped)
			report_syntax(&L, fyd);
		syntax = 1;
	}
	destroy_parser(fyp, fyd);
	fy_diag_destroy(fyd);
	for (size_t i = 0; i < L.nframes; i++)
		mcc_strmap_release(&L.frames[i].keys);
	free(L.frames);
	free(L.vals);
	free(L.anchors);
	mcc_strmap_release(&L.keytext);
	if (syntax || L.failed || d->stopped)
		return NULL;
	if (!L.root || L.root->kind == MCC_N_NULL)
		return empty_root(&L);
	if (L.root->kind != MCC_N_MAP) {
		mcc_error(d, L.root->loc, "the top level must be a mapping, not %s",
			  a_kind(L.root));
		return NULL;
	}
	return L.root;
}

/*
 * The fast path (yaml_fast.c) first: it takes most configs and reports
 * nothing, declining whatever it cannot load exactly as libfyaml would,
 * so every diagnostic still comes from the loader above.  Once the sink
 * has stopped, only the loader above knows what to return.
 */
struct mcc_node *
mcc_yaml_load_string(const char *name, const char *text, size_t len, int layer,
		     struct mcc_diag *d)
{
	struct mcc_node *root;

	if (!d->stopped && (root = mcc_yaml_fast_load(name, text, len, layer)))
		return root;
	return mcc_yaml_load_string_slow(name, text, len, layer, d);
}

struct mcc_node *
mcc_yaml_load_file(const char *path, int layer, struct mcc_diag *d)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, alloc = 0, n;
	struct mcc_node *root;
	struct stat st;

	if (!f) {
		mcc_error(d, MCC_NOLOC, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	/* Room for the whole file at once when its size is known. */
	if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uintmax_t)st.st_size < SIZE_MAX / 2) {
		alloc = (size_t)st.st_size + 1;
		buf = xrealloc(NULL, alloc, 1);
	}
	do {
		if (len == alloc) {
			alloc = alloc ? 2 * alloc : 65536;
			buf = xrealloc(buf, alloc, 1);
		}
		n = fread(buf + len, 1, alloc - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		mcc_error(d, MCC_NOLOC, "cannot read '%s': %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	root = mcc_yaml_load_string(path, buf, len, layer, d);
	free(buf);
	return root;
}
