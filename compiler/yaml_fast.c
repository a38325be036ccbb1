/*
 * yaml_fast.c - the fast path of the YAML loader (see yaml_fast.h).
 *
 * First phase of mcpgc, in front of yaml.c's libfyaml loader: configs are
 * written in a small part of YAML, and parsing that part directly is
 * several times faster than going through libfyaml's events.  Whatever
 * falls outside it, and every syntax error, is declined, and yaml.c runs
 * the libfyaml loader, which also gives the diagnostics.  So this file
 * never reports anything, and on what it accepts it must build exactly
 * the tree yaml.c builds; u-yaml-fast and the differential fuzzer
 * (tests/fuzz/fuzz_yaml_diff.c) check that.
 *
 * One pass, recursive descent.  A block collection is parsed knowing its
 * column; every block-level parse ends with the cursor on the first
 * content character of the next line that holds any (blank and comment
 * lines skipped), and the caller compares that line's column with its
 * own: less ends the collection, equal is its next entry, more is a
 * continuation line, which we decline (it is a multi-line scalar or an
 * error).  Before that, one vectorised pass checks that the text is UTF-8
 * without control characters, so the scanners below can look only for
 * the few ASCII bytes that matter to them.  The text always ends with a
 * line break (a copy gets one when it lacks it), so a scan that stops at
 * '\n' cannot run off its end.
 *
 * Memory: nodes come from the arena in slabs, scalar texts are packed
 * into arena chunks, key texts are stored once per file (node.h), and the
 * children of the open collections sit on one malloc'd stack until their
 * collection is complete and gets an array of exactly its size.
 */
#include "yaml_fast.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "arena.h"
#include "utf8.h"

#define MAX_DEPTH 200    /* yaml.c stops at MCC_NODE_MAX_DEPTH */
#define MAX_KEY 1000     /* bytes; YAML limits implicit keys to 1024 characters */
#define SLAB 128         /* nodes per arena allocation */
#define CHUNK 16384      /* bytes of scalar text per arena allocation */
#define FEW_KEYS 16      /* below this, find duplicate keys by a scan */

/* A scalar read but not yet made a node. */
struct tok {
	const char *s;       /* its text: in the input or in the scratch buffer */
	size_t len;
	const char *at;      /* its first character (a quoted one's quote) */
	unsigned char style; /* enum mcc_scalar_style */
};

/* The key texts of the file, each stored once, and their types. */
struct key_slot {
	const char *text;    /* NULL: empty */
	uint64_t head, tail; /* see intern() */
	uint32_t len, hash;
	unsigned char type;  /* of the text as a plain scalar */
};

struct fast {
	const char *p;       /* the cursor */
	const char *end;     /* end of the text; end[-1] is '\n' */
	const char *ls;      /* start of the cursor's line */
	int line;            /* the cursor's line, 1-based */
	int added_break;     /* end[-1] was added: the text lacked it */
	int depth;           /* open collections */
	int prev_quoted;     /* the last node started or ended is a quoted scalar */
	const char *file;
	int layer;
	struct mcc_node **stk; /* children of the open collections */
	size_t nstk, astk;
	struct mcc_node *slab; /* unused nodes */
	size_t nslab;
	char *chunk;         /* unused text bytes */
	size_t nchunk;
	struct key_slot *keys;
	size_t nkeys, akeys;
	char *scratch;       /* decoded quoted scalars */
	size_t ascratch;
	struct {             /* types of short plain values, by their text */
		uint64_t text;
		unsigned char len1, type; /* len1: length + 1; 0: empty */
	} types[256];
};

/* What next_content() found. */
enum { AT_END, AT_CONTENT, DECLINE = -1 };

/* What precedes a block node on its line. */
enum { AFTER_KEY, AFTER_DASH, OWN_LINE };

/* Like the arena, running out of memory aborts. */
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
	if (!(p = realloc(p, nr * elem)))
		oom();
	return p;
}

/* ---- Checking the text ---------------------------------------------------- */

/*
 * The first index from `i` whose byte is not printable ASCII, tab or LF.
 * With SSE2 (every x86-64), sixteen bytes at a time.
 */
static size_t
skip_ascii(const unsigned char *s, size_t i, size_t len)
{
#ifdef __SSE2__
	const __m128i blank = _mm_set1_epi8(0x20), lf = _mm_set1_epi8('\n'),
		      tab = _mm_set1_epi8('\t'), del = _mm_set1_epi8(0x7f);

	while (i + 16 <= len) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		/* signed: below 0x20 or from 0x80 */
		int odd = _mm_movemask_epi8(_mm_or_si128(_mm_cmplt_epi8(v, blank),
							 _mm_cmpeq_epi8(v, del)));

		if (odd) {
			odd &= ~_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, lf),
							       _mm_cmpeq_epi8(v, tab)));
			if (odd)
				return i + (size_t)__builtin_ctz((unsigned)odd);
		}
		i += 16;
	}
#endif
	while (i < len && ((s[i] >= 0x20 && s[i] < 0x7f) || s[i] == '\n' || s[i] == '\t'))
		i++;
	return i;
}

/*
 * UTF-8 (no overlong forms, surrogates or code points beyond U+10FFFF,
 * as yaml.c checks) without C0 controls but tab and LF, DEL or C1
 * controls, and without the characters libfyaml may take for a line
 * break (U+2028, U+2029; U+0085 is a C1 control) or a byte order mark.
 */
static int
text_ok(const unsigned char *s, size_t len)
{
	size_t i = 0, n;
	unsigned cp;

	while ((i = skip_ascii(s, i, len)) < len) {
		n = mcc_utf8_seq(s, i, len, &cp);
		if (!n || cp <= 0x9f || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff ||
		    cp == 0xfffe || cp == 0xffff)
			return 0;
		i += n;
	}
	return 1;
}

/* ---- Memory ---------------------------------------------------------------- */

static inline struct mcc_node *
new_node(struct fast *F, enum mcc_node_kind kind, const char *at)
{
	struct mcc_node *n;

	if (!F->nslab) {
		F->slab = mcc_alloc(SLAB * sizeof(*F->slab));
		F->nslab = SLAB;
	}
	n = F->slab++;
	F->nslab--;
	F->prev_quoted = 0;
	n->kind = kind;
	n->layer = F->layer;
	n->text = "";
	n->loc = (struct mcc_loc){ F->file, F->line, (int)(at - F->ls) + 1 };
	return n;
}

/* A NUL-terminated copy of s[0, len) in the arena. */
static const char *
text_copy(struct fast *F, const char *s, size_t len)
{
	char *t;

	if (len >= CHUNK / 4)
		return mcc_strndup(s, len);
	if (F->nchunk <= len) {
		F->chunk = mcc_alloc(CHUNK);
		F->nchunk = CHUNK;
	}
	t = F->chunk;
	memcpy(t, s, len);
	t[len] = '\0';
	F->chunk += len + 1;
	F->nchunk -= len + 1;
	return t;
}

static char *
scratch(struct fast *F, size_t size)
{
	if (size > F->ascratch) {
		F->ascratch = size > 2 * F->ascratch ? size : 2 * F->ascratch;
		F->scratch = xrealloc(F->scratch, F->ascratch, 1);
	}
	return F->scratch;
}

static void
grow_stack(struct fast *F)
{
	F->astk = F->astk ? 2 * F->astk : 256;
	F->stk = xrealloc(F->stk, F->astk, sizeof(*F->stk));
}

static inline void
push(struct fast *F, struct mcc_node *n)
{
	if (F->nstk == F->astk)
		grow_stack(F);
	F->stk[F->nstk++] = n;
}

static inline uint64_t
load64(const char *s)
{
	uint64_t w;

	memcpy(&w, s, 8);
	return w;
}

static inline uint32_t
load32(const char *s)
{
	uint32_t w;

	memcpy(&w, s, 4);
	return w;
}

/*
 * The last eight bytes of s[0, len), len > 0, as a number, or all of them
 * when there are fewer: two strings of one length up to 8 are equal when
 * these are.  Read with loads that may overlap but never leave the
 * string (a byte-wise copy into a word would stall the load after it).
 */
static inline uint64_t
tail64(const char *s, size_t len)
{
	if (len >= 8)
		return load64(s + len - 8);
	if (len >= 4)
		return (uint64_t)load32(s) << 32 | load32(s + len - 4);
	return (uint64_t)(unsigned char)s[0] << 16 | (uint64_t)(unsigned char)s[len / 2] << 8 |
	       (unsigned char)s[len - 1];
}

/*
 * The stored copy of key text s[0, len), made on first sight.  A slot
 * keeps the first and the last eight bytes of its key, which tell apart
 * any two keys of up to 16 bytes of one length: most keys are compared
 * without reading their text.
 */
static struct key_slot *
intern(struct fast *F, const char *s, size_t len)
{
	uint64_t head = len > 8 ? load64(s) : 0, tail = len ? tail64(s, len) : 0, x;
	uint32_t h;
	size_t mask;

	x = (head * 0x9e3779b97f4a7c15u ^ tail) * 0xff51afd7ed558ccdu ^ len;
	for (size_t i = 8; i + 8 < len; i += 8)
		x = (x ^ load64(s + i)) * 0xc4ceb9fe1a85ec53u;
	h = (uint32_t)((x ^ x >> 29) * 0x9e3779b97f4a7c15u >> 32);
	if (2 * (F->nkeys + 1) > F->akeys) {
		struct key_slot *old = F->keys;
		size_t aold = F->akeys;

		F->akeys = aold ? 2 * aold : 256;
		F->keys = calloc(F->akeys, sizeof(*F->keys));
		if (!F->keys)
			oom();
		mask = F->akeys - 1;
		for (size_t i = 0; i < aold; i++) {
			size_t j;

			if (!old[i].text)
				continue;
			for (j = old[i].hash & mask; F->keys[j].text; j = (j + 1) & mask)
				;
			F->keys[j] = old[i];
		}
		free(old);
	}
	mask = F->akeys - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct key_slot *k = &F->keys[i];

		if (!k->text) {
			k->text = text_copy(F, s, len);
			k->head = head;
			k->tail = tail;
			k->len = (uint32_t)len;
			k->hash = h;
			k->type = (unsigned char)mcc_plain_type(k->text, len);
			F->nkeys++;
			return k;
		}
		if (k->hash == h && k->len == len && k->head == head && k->tail == tail &&
		    (len <= 16 || !memcmp(k->text + 8, s + 8, len - 16)))
			return k;
	}
}

/* ---- Lines ------------------------------------------------------------------ */

/* The first byte from `p` that is not a space (the text ends with '\n'). */
static inline const char *
skip_spaces(const char *p, const char *end)
{
	while (end - p >= 8) {
		uint64_t w = load64(p) ^ 0x2020202020202020u;

		if (w)
			return p + (__builtin_ctzll(w) >> 3);
		p += 8;
	}
	while (*p == ' ')
		p++;
	return p;
}

static int
is_blank_or_break(char c)
{
	return c == ' ' || c == '\n' || c == '\t';
}

static int
is_entry(const char *p)
{
	return p[0] == '-' && (p[1] == ' ' || p[1] == '\n');
}

/* `---` or `...` at `p`, the start of a line. */
static int
is_doc_marker(const char *p)
{
	return ((p[0] == '-' && p[1] == '-' && p[2] == '-') ||
		(p[0] == '.' && p[1] == '.' && p[2] == '.')) &&
	       is_blank_or_break(p[3]);
}

/*
 * From the start of a line, skip blank and comment lines.  AT_CONTENT:
 * the cursor is on the first content character of a line; AT_END.
 */
static int
next_content(struct fast *F)
{
	const char *p = F->p;

	for (;;) {
		const char *ls = p;

		if (p == F->end) {
			F->p = F->ls = p;
			return AT_END;
		}
		p = skip_spaces(p, F->end);
		if (*p == '#')
			p = memchr(p, '\n', (size_t)(F->end - p));
		if (*p == '\n') {
			p++;
			F->line++;
			continue;
		}
		F->ls = ls;
		F->p = p;
		if (*p == '\t' || (p == ls && is_doc_marker(p)))
			return DECLINE;
		return AT_CONTENT;
	}
}

/* After a token: blanks, perhaps a comment, and the line break. */
static int
end_line(struct fast *F)
{
	const char *p = F->p;

	while (*p == ' ')
		p++;
	if (*p == '#' && p[-1] == ' ')
		p = memchr(p, '\n', (size_t)(F->end - p));
	if (*p != '\n')
		return DECLINE;
	F->p = F->ls = p + 1;
	F->line++;
	return 0;
}

static int
finish_line(struct fast *F)
{
	return end_line(F) < 0 ? DECLINE : next_content(F);
}

/* ---- Scalars ---------------------------------------------------------------- */

/* Bytes that stop the scan of a plain scalar, in block and in flow context. */
static const unsigned char stop_block[256] = {
	['\n'] = 1, ['\t'] = 1, [':'] = 1, ['#'] = 1,
};
static const unsigned char stop_flow[256] = {
	['\n'] = 1, ['\t'] = 1, [':'] = 1, ['#'] = 1,
	[','] = 1, ['['] = 1, [']'] = 1, ['{'] = 1, ['}'] = 1,
};
/* Cannot start a plain scalar (but `-` followed by a character can). */
static const unsigned char bad_first[256] = {
	['\n'] = 1, ['\t'] = 1, [' '] = 1, ['-'] = 1, ['?'] = 1, [':'] = 1, [','] = 1,
	['['] = 1, [']'] = 1, ['{'] = 1, ['}'] = 1, ['#'] = 1, ['&'] = 1, ['*'] = 1,
	['!'] = 1, ['|'] = 1, ['>'] = 1, ['\''] = 1, ['"'] = 1, ['%'] = 1, ['@'] = 1,
	['`'] = 1,
};

/*
 * The first byte from `q` that stops a plain scalar in block context; most
 * are short, but descriptions are not.
 */
static inline const char *
block_stop(const char *q, const char *end)
{
#ifdef __SSE2__
	const __m128i lf = _mm_set1_epi8('\n'), tab = _mm_set1_epi8('\t'),
		      colon = _mm_set1_epi8(':'), hash = _mm_set1_epi8('#');

	while (end - q >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
		int m = _mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, tab)),
			_mm_or_si128(_mm_cmpeq_epi8(v, colon), _mm_cmpeq_epi8(v, hash))));

		if (m)
			return q + __builtin_ctz((unsigned)m);
		q += 16;
	}
#else
	(void)end;
#endif
	while (!stop_block[(unsigned char)*q])
		q++;
	return q;
}

/*
 * A plain scalar from the cursor to the end of its line, a comment, a `:`
 * followed by a blank (then *is_key, the cursor on the `:`) or, in flow
 * context, a flow indicator.
 */
static int
plain(struct fast *F, struct tok *t, int *is_key, int flow)
{
	const unsigned char *stop = flow ? stop_flow : stop_block;
	const char *s = F->p, *q = s + 1, *e;

	if (bad_first[(unsigned char)*s] &&
	    !(*s == '-' && !stop[(unsigned char)s[1]] && s[1] != ' '))
		return DECLINE;
	*is_key = 0;
	for (;;) {
		if (flow)
			while (!stop_flow[(unsigned char)*q])
				q++;
		else
			q = block_stop(q, F->end);
		if (*q == ':') {
			if (q[1] == ' ' || q[1] == '\n') {
				*is_key = 1;
				break;
			}
			if (stop[(unsigned char)q[1]] && q[1] != ':' && q[1] != '#')
				return DECLINE;
			q++;
		} else if (*q == '#') {
			if (q[-1] == ' ')
				break;
			q++;
		} else if (*q == '\n' || (flow && (*q == ',' || *q == ']' || *q == '}'))) {
			break;
		} else {
			return DECLINE; /* a tab, or `[` `{` in a flow scalar */
		}
	}
	for (e = q; e[-1] == ' '; e--)
		;
	t->s = s;
	t->len = (size_t)(e - s);
	t->at = s;
	t->style = MCC_STYLE_PLAIN;
	F->p = q;
	return 0;
}

static int
single_quoted(struct fast *F, struct tok *t)
{
	const char *s = F->p + 1, *q = s;
	char *o;

	t->at = F->p;
	t->style = MCC_STYLE_SINGLE_QUOTED;
	while (*q != '\'' && *q != '\n')
		q++;
	if (*q == '\n')
		return DECLINE;
	if (q[1] != '\'') {
		t->s = s;
		t->len = (size_t)(q - s);
		F->p = q + 1;
		return 0;
	}
	/*
	 * '' stands for '.  libfyaml 0.7.12 gets two in a row wrong ('a''''b'
	 * gives a''' rather than a''b): leave those to it.
	 */
	for (;; q++) {
		if (*q == '\n')
			return DECLINE;
		if (*q == '\'') {
			if (q[1] != '\'')
				break;
			if (q[2] == '\'' && q[3] == '\'')
				return DECLINE;
			q++;
		}
	}
	t->s = o = scratch(F, (size_t)(q - s));
	for (const char *i = s; i < q; i++) {
		*o++ = *i;
		i += *i == '\'';
	}
	t->len = (size_t)(o - t->s);
	F->p = q + 1;
	return 0;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A double-quoted scalar on one line.  Escapes of U+0000 (the text would
 * be cut there), surrogates and beyond U+10FFFF (libfyaml rejects them)
 * are declined, as is a line continuation.
 */
static int
double_quoted(struct fast *F, struct tok *t)
{
	const char *s = F->p + 1, *q = s, *e;
	char *o;

	t->at = F->p;
	t->style = MCC_STYLE_DOUBLE_QUOTED;
	while (*q != '"' && *q != '\\' && *q != '\n')
		q++;
	if (*q == '"') {
		t->s = s;
		t->len = (size_t)(q - s);
		F->p = q + 1;
		return 0;
	}
	if (*q == '\n')
		return DECLINE;
	for (e = q; *e != '"'; e++) {
		if (*e == '\n' || (*e == '\\' && *++e == '\n'))
			return DECLINE;
	}
	/* An escape makes at most 3 bytes of 2 (\L, \P). */
	o = scratch(F, (size_t)(e - s) * 3 / 2 + 8);
	t->s = o;
	memcpy(o, s, (size_t)(q - s));
	o += q - s;
	while (*q != '"') {
		uint32_t cp = 0;
		int digits = 0;
		char c = *q;

		if (c == '\n')
			return DECLINE;
		if (c != '\\') {
			*o++ = c;
			q++;
			continue;
		}
		switch (q[1]) {
		case 'a': c = '\a'; break;
		case 'b': c = '\b'; break;
		case 't': case '\t': c = '\t'; break;
		case 'n': c = '\n'; break;
		case 'v': c = '\v'; break;
		case 'f': c = '\f'; break;
		case 'r': c = '\r'; break;
		case 'e': c = 0x1b; break;
		case ' ': case '"': case '/': case '\\': c = q[1]; break;
		case 'N': cp = 0x85; break;
		case '_': cp = 0xa0; break;
		case 'L': cp = 0x2028; break;
		case 'P': cp = 0x2029; break;
		case 'x': digits = 2; break;
		case 'u': digits = 4; break;
		case 'U': digits = 8; break;
		default: return DECLINE;
		}
		if (!cp && !digits) {
			*o++ = c;
			q += 2;
			continue;
		}
		for (int i = 0; i < digits; i++) {
			int h = hex_digit(q[2 + i]);

			if (h < 0)
				return DECLINE;
			cp = cp << 4 | (uint32_t)h;
		}
		if (!cp || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return DECLINE;
		q += 2 + digits;
		if (cp < 0x80) {
			*o++ = (char)cp;
		} else if (cp < 0x800) {
			*o++ = (char)(0xc0 | cp >> 6);
			*o++ = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			*o++ = (char)(0xe0 | cp >> 12);
			*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
			*o++ = (char)(0x80 | (cp & 0x3f));
		} else {
			*o++ = (char)(0xf0 | cp >> 18);
			*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
			*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
			*o++ = (char)(0x80 | (cp & 0x3f));
		}
	}
	t->len = (size_t)(o - t->s);
	F->p = q + 1;
	return 0;
}

/*
 * A scalar at the cursor and, when a `:` follows it on its line as an
 * indicator, *is_key with the cursor past the `:`.  In block context that
 * `:` must be followed by a blank; after a quoted key in flow context it
 * need not (`{"a":1}`).
 */
static int
scalar_tok(struct fast *F, struct tok *t, int *is_key, int flow)
{
	char c = *F->p;

	if (c == '"' || c == '\'') {
		const char *p;

		*is_key = 0;
		if ((c == '"' ? double_quoted(F, t) : single_quoted(F, t)) < 0)
			return DECLINE;
		for (p = F->p; *p == ' '; p++)
			;
		if (*p == ':' && (flow || p[1] == ' ' || p[1] == '\n')) {
			*is_key = 1;
			F->p = p;
		}
	} else if (plain(F, t, is_key, flow) < 0) {
		return DECLINE;
	}
	if (*is_key) {
		/* a key as written, up to its `:` */
		if (F->p - t->at > MAX_KEY)
			return DECLINE;
		F->p++;
	}
	return 0;
}

/*
 * mcc_plain_type() of a plain value, remembered for values of up to eight
 * bytes: numbers, booleans and the like repeat.
 */
static inline enum mcc_scalar_type
plain_type(struct fast *F, const char *s, size_t len)
{
	uint64_t w;
	size_t i;

	if (len > 8)
		return mcc_plain_type(s, len);
	w = tail64(s, len);
	i = (size_t)((w * 0x9e3779b97f4a7c15u) >> 56);
	if (F->types[i].len1 != len + 1 || F->types[i].text != w) {
		F->types[i].text = w;
		F->types[i].len1 = (unsigned char)(len + 1);
		F->types[i].type = (unsigned char)mcc_plain_type(s, len);
	}
	return F->types[i].type;
}

static struct mcc_node *
scalar_node(struct fast *F, const struct tok *t)
{
	struct mcc_node *n = new_node(F, MCC_N_SCALAR, t->at);

	n->style = t->style;
	F->prev_quoted = t->style != MCC_STYLE_PLAIN;
	n->text = text_copy(F, t->s, t->len);
	n->len = t->len;
	if (t->style == MCC_STYLE_PLAIN &&
	    (n->type = plain_type(F, t->s, t->len)) == MCC_T_NULL)
		n->kind = MCC_N_NULL;
	return n;
}

/* A mapping key: always MCC_N_SCALAR, even when typed null.  No `<<`. */
static struct mcc_node *
key_node(struct fast *F, const struct tok *t)
{
	struct mcc_node *k;
	struct key_slot *slot;

	if (t->style == MCC_STYLE_PLAIN && t->len == 2 && t->s[0] == '<' && t->s[1] == '<')
		return NULL;
	if (t->len > UINT32_MAX)
		return NULL;
	slot = intern(F, t->s, t->len);
	k = new_node(F, MCC_N_SCALAR, t->at);
	k->style = t->style;
	F->prev_quoted = t->style != MCC_STYLE_PLAIN;
	k->text = slot->text;
	k->len = t->len;
	if (t->style == MCC_STYLE_PLAIN)
		k->type = slot->type;
	return k;
}

/*
 * Whether key `k` is already in the mapping whose children start at
 * stk[base].  Key texts are interned, so equal texts are equal pointers.
 */
static int
is_dup(struct fast *F, size_t base, struct mcc_node *k, struct mcc_strmap *seen)
{
	if (!seen->alloc && F->nstk - base < 2 * FEW_KEYS) {
		for (size_t i = base; i < F->nstk; i += 2)
			if (F->stk[i]->text == k->text)
				return 1;
		return 0;
	}
	if (!seen->alloc)
		for (size_t i = base; i < F->nstk; i += 2)
			mcc_strmap_put(seen, F->stk[i]->text, F->stk[i]->len, F->stk[i]);
	return mcc_strmap_put(seen, k->text, k->len, k) != NULL;
}

/* Give collection `n` its children, stk[base...], and pop them. */
static struct mcc_node *
finish(struct fast *F, struct mcc_node *n, size_t base)
{
	size_t nv = F->nstk - base;

	if (n->kind == MCC_N_SEQ) {
		n->items = mcc_alloc(nv * sizeof(*n->items));
		if (nv)
			memcpy(n->items, F->stk + base, nv * sizeof(*n->items));
		n->nr = nv;
	} else {
		n->nr = nv / 2;
		n->pairs = mcc_alloc(n->nr * sizeof(*n->pairs));
		for (size_t i = 0; i < n->nr; i++)
			n->pairs[i] = (struct mcc_pair){ F->stk[base + 2 * i], F->stk[base + 2 * i + 1] };
	}
	F->nstk = base;
	F->depth--;
	F->prev_quoted = 0;
	return n;
}

/*
 * A literal or folded block scalar, the cursor on its indicator, inside a
 * block collection at column `parent`.  The content's indentation is that
 * of its first line, which must be the least indented.
 */
static struct mcc_node *
block_scalar(struct fast *F, int parent)
{
	struct mcc_node *n;
	int literal = *F->p == '|', chomp = 0, lead = 0, breaks = 0, first = 1;
	const char *p, *ls;
	size_t indent, most = 0, nout = 0;
	char *out;

	/*
	 * yaml.c finds the indicator from the end of the node before, and
	 * misses it after a quoted scalar (`"k": |` is placed on the next
	 * line): leave those to it.
	 */
	if (F->prev_quoted)
		return NULL;
	n = new_node(F, MCC_N_SCALAR, F->p);
	n->style = literal ? MCC_STYLE_LITERAL : MCC_STYLE_FOLDED;
	F->p++;
	if (*F->p == '-' || *F->p == '+')
		chomp = *F->p++;
	if (end_line(F) < 0)
		return NULL;
	/* leading empty lines, then the indentation */
	for (p = F->p;; p++, lead++) {
		if (p == F->end)
			return NULL;
		for (ls = p; *p == ' '; p++)
			;
		if (*p != '\n')
			break;
		if ((size_t)(p - ls) > most)
			most = (size_t)(p - ls);
	}
	indent = (size_t)(p - ls);
	if (*p == '\t' || (int)indent <= parent || most > indent)
		return NULL;
	out = scratch(F, (size_t)lead + 1);
	memset(out, '\n', (size_t)lead);
	nout = (size_t)lead;
	F->line += lead;
	for (;;) {
		const char *c = ls + indent, *nl;

		if (*p == '\n') {
			/* an empty line */
			if ((size_t)(p - ls) > indent)
				return NULL;
			breaks++;
		} else if ((size_t)(p - ls) < indent) {
			break;
		} else {
			nl = memchr(c, '\n', (size_t)(F->end - c));
			if (*c == ' ' || *c == '\t') {
				/* more indented: folded scalars keep these lines apart */
				const char *q = c;

				while (*q == ' ' || *q == '\t')
					q++;
				if (!literal || q == nl)
					return NULL;
			}
			out = scratch(F, nout + (size_t)breaks + (size_t)(nl - c) + 1);
			if (!first) {
				if (literal)
					out[nout++] = '\n';
				else if (!breaks)
					out[nout++] = ' ';
			}
			memset(out + nout, '\n', (size_t)breaks);
			nout += (size_t)breaks;
			memcpy(out + nout, c, (size_t)(nl - c));
			nout += (size_t)(nl - c);
			first = 0;
			breaks = 0;
			p = nl;
		}
		/* p is on a line break */
		p++;
		F->line++;
		if (p == F->end) {
			if (F->added_break)
				return NULL;
			ls = p;
			break;
		}
		for (ls = p; *p == ' '; p++)
			;
	}
	out = scratch(F, nout + (size_t)breaks + 1);
	if (chomp != '-')
		out[nout++] = '\n';
	if (chomp == '+') {
		memset(out + nout, '\n', (size_t)breaks);
		nout += (size_t)breaks;
	}
	n->text = text_copy(F, out, nout);
	n->len = nout;
	F->p = F->ls = ls;
	return next_content(F) < 0 ? NULL : n;
}

/* ---- Collections ------------------------------------------------------------ */

static struct mcc_node *block_node(struct fast *F, int parent, int where);

/*
 * Blanks, line breaks and comments inside a flow collection; its lines
 * must be more indented than the block collection at column `parent`.
 */
static int
flow_blanks(struct fast *F, int parent)
{
	const char *p = F->p;

	for (;;) {
		if (*p == ' ') {
			p++;
			continue;
		}
		if (*p == '#' && (p[-1] == ' ' || p == F->ls))
			p = memchr(p, '\n', (size_t)(F->end - p));
		if (*p != '\n')
			break;
		F->ls = ++p;
		F->line++;
		if (p == F->end)
			return DECLINE;
		while (*p == ' ')
			p++;
		if (*p != '\n' && ((int)(p - F->ls) <= parent || (p == F->ls && is_doc_marker(p))))
			return DECLINE;
	}
	F->p = p;
	return *p == '\t' ? DECLINE : 0;
}

static struct mcc_node *flow_node(struct fast *F, int parent);

static struct mcc_node *
flow_value(struct fast *F, int parent)
{
	struct tok t;
	int is_key;

	if (*F->p == '[' || *F->p == '{')
		return flow_node(F, parent);
	if (scalar_tok(F, &t, &is_key, 1) < 0 || is_key)
		return NULL; /* `[a: b]` is a mapping in a sequence */
	return scalar_node(F, &t);
}

/*
 * A flow sequence or mapping, the cursor on its bracket, inside a block
 * collection at column `parent`.  Leaves the cursor past its end.
 */
static struct mcc_node *
flow_node(struct fast *F, int parent)
{
	char close = *F->p == '[' ? ']' : '}';
	struct mcc_node *n = new_node(F, close == ']' ? MCC_N_SEQ : MCC_N_MAP, F->p);
	struct mcc_strmap seen = MCC_STRMAP_INIT;
	size_t base = F->nstk;

	if (++F->depth > MAX_DEPTH)
		return NULL;
	F->p++;
	if (flow_blanks(F, parent) < 0)
		goto decline;
	while (*F->p != close) {
		struct mcc_node *v;

		if (close == '}') {
			struct mcc_node *k;
			struct tok t;
			int is_key;

			/* `key: value`, the key and its `:` on one line */
			if (scalar_tok(F, &t, &is_key, 1) < 0 || !is_key ||
			    !(k = key_node(F, &t)) || is_dup(F, base, k, &seen))
				goto decline;
			push(F, k);
			if (flow_blanks(F, parent) < 0 || *F->p == ',' || *F->p == '}')
				goto decline;
		}
		if (!(v = flow_value(F, parent)))
			goto decline;
		push(F, v);
		if (flow_blanks(F, parent) < 0)
			goto decline;
		if (*F->p == ',') {
			F->p++;
			if (flow_blanks(F, parent) < 0)
				goto decline;
		} else if (*F->p != close) {
			goto decline;
		}
	}
	F->p++;
	if (seen.alloc)
		mcc_strmap_release(&seen);
	return finish(F, n, base);
decline:
	mcc_strmap_release(&seen);
	return NULL;
}

/* `key:` with nothing after it: a null placed at its key. */
static struct mcc_node *
empty_value(struct fast *F, const struct mcc_node *key)
{
	struct mcc_node *n = new_node(F, MCC_N_NULL, F->p);

	n->type = MCC_T_NULL;
	n->loc = key->loc;
	return n;
}

/* The value after a key's `:` in a block mapping at column `col`. */
static struct mcc_node *
map_value(struct fast *F, int col, const struct mcc_node *key)
{
	const char *p = F->p;
	int r;

	while (*p == ' ')
		p++;
	F->p = p;
	if (*p != '\n' && *p != '#')
		return *p == '\t' ? NULL : block_node(F, col, AFTER_KEY);
	if ((r = finish_line(F)) < 0)
		return NULL;
	if (r == AT_CONTENT) {
		int nc = (int)(F->p - F->ls);

		if (nc > col)
			return block_node(F, col, OWN_LINE);
		/* a sequence may sit at its key's indentation */
		if (nc == col && is_entry(F->p))
			return block_node(F, col, OWN_LINE);
	}
	return empty_value(F, key);
}

/* A block mapping whose first key `t` has been read, with its `:`. */
static struct mcc_node *
block_map(struct fast *F, struct tok *t)
{
	int col = (int)(t->at - F->ls), is_key;
	struct mcc_node *m = new_node(F, MCC_N_MAP, t->at);
	struct mcc_strmap seen = MCC_STRMAP_INIT;
	size_t base = F->nstk;

	if (++F->depth > MAX_DEPTH)
		return NULL;
	for (;;) {
		struct mcc_node *k = key_node(F, t), *v;

		if (!k || is_dup(F, base, k, &seen))
			goto decline;
		push(F, k);
		if (!(v = map_value(F, col, k)))
			goto decline;
		push(F, v);
		if (F->p == F->end || F->p - F->ls < col)
			break;
		if (F->p - F->ls > col || is_entry(F->p) ||
		    scalar_tok(F, t, &is_key, 0) < 0 || !is_key)
			goto decline;
	}
	if (seen.alloc)
		mcc_strmap_release(&seen);
	return finish(F, m, base);
decline:
	mcc_strmap_release(&seen);
	return NULL;
}

/* A block sequence, the cursor on its first `-`. */
static struct mcc_node *
block_seq(struct fast *F)
{
	int col = (int)(F->p - F->ls);
	struct mcc_node *s = new_node(F, MCC_N_SEQ, F->p);
	size_t base = F->nstk;

	if (++F->depth > MAX_DEPTH)
		return NULL;
	for (;;) {
		struct mcc_node *v;
		const char *p = F->p + 1;

		while (*p == ' ')
			p++;
		F->p = p;
		if (*p == '\n' || *p == '#') {
			/* the item on the next line; an empty item is declined */
			if (finish_line(F) != AT_CONTENT || F->p - F->ls <= col)
				return NULL;
			v = block_node(F, col, OWN_LINE);
		} else {
			v = *p == '\t' ? NULL : block_node(F, col, AFTER_DASH);
		}
		if (!v)
			return NULL;
		push(F, v);
		if (F->p == F->end || F->p - F->ls < col)
			break;
		if (F->p - F->ls > col)
			return NULL;
		if (!is_entry(F->p))
			break;
	}
	return finish(F, s, base);
}

/*
 * The node at the cursor in block context, inside a block collection at
 * column `parent` (-1: none); `where` says what precedes it on its line.
 * Leaves the cursor on the next content, like every block-level parse.
 */
static struct mcc_node *
block_node(struct fast *F, int parent, int where)
{
	struct mcc_node *n;
	struct tok t;
	int is_key;

	switch (*F->p) {
	case '-':
		if (is_entry(F->p))
			return where == AFTER_KEY ? NULL : block_seq(F);
		break;
	case '[':
	case '{':
		n = flow_node(F, parent);
		return n && finish_line(F) >= 0 ? n : NULL;
	case '|':
	case '>':
		return where == OWN_LINE ? NULL : block_scalar(F, parent);
	}
	if (scalar_tok(F, &t, &is_key, 0) < 0)
		return NULL;
	if (is_key)
		return where == AFTER_KEY ? NULL : block_map(F, &t);
	n = scalar_node(F, &t);
	return finish_line(F) >= 0 ? n : NULL;
}

/* ---- Entry point -------------------------------------------------------------- */

struct mcc_node *
mcc_yaml_fast_load(const char *name, const char *text, size_t len, int layer)
{
	struct fast F = { 0 };
	struct mcc_node *root = NULL;
	char *copy = NULL;
	int r;

	/* lines and columns must fit in an int */
	if (len > INT_MAX / 2 || !text_ok((const unsigned char *)text, len))
		return NULL;
	if (len && text[len - 1] != '\n') {
		copy = xrealloc(NULL, len + 1, 1);
		memcpy(copy, text, len);
		copy[len++] = '\n';
		text = copy;
		F.added_break = 1;
	}
	F.p = F.ls = text;
	F.end = text + len;
	F.line = 1;
	F.file = mcc_strdup(name ? name : "<string>");
	F.layer = layer;

	r = next_content(&F);
	if (r == DECLINE && F.p == F.ls && F.p[0] == '-' && is_doc_marker(F.p)) {
		/* `---` opening the document, alone on its line */
		F.p += 3;
		r = finish_line(&F);
	}
	if (r == AT_END) {
		root = new_node(&F, MCC_N_MAP, F.p);
		root->loc = (struct mcc_loc){ F.file, 0, 0 };
	} else if (r == AT_CONTENT) {
		root = block_node(&F, -1, OWN_LINE);
		if (root && (F.p != F.end || root->kind != MCC_N_MAP))
			root = NULL;
	}
	free(copy);
	free(F.stk);
	free(F.keys);
	free(F.scratch);
	return root;
}

/* ---- Comparing trees ---------------------------------------------------------- */

static const char *
loc_text(const struct mcc_node *n)
{
	return mcc_printf("%s:%d:%d", n->loc.file ? n->loc.file : "(none)", n->loc.line,
			  n->loc.col);
}

static const char *
diff(const struct mcc_node *a, const struct mcc_node *b, int depth)
{
	const char *d;

	if (!a || !b)
		return a == b ? NULL : mcc_printf("%s tree has no node", a ? "second" : "first");
	if (depth > MCC_NODE_MAX_DEPTH + 8)
		return "trees too deep to compare";
	if (a->kind != b->kind || a->type != b->type || a->style != b->style)
		return mcc_printf("kind/type/style %d/%d/%d vs %d/%d/%d at %s", a->kind, a->type,
				  a->style, b->kind, b->type, b->style, loc_text(a));
	if (a->loc.line != b->loc.line || a->loc.col != b->loc.col ||
	    !a->loc.file != !b->loc.file || (a->loc.file && strcmp(a->loc.file, b->loc.file)))
		return mcc_printf("location %s vs %s", loc_text(a), loc_text(b));
	if (a->layer != b->layer)
		return mcc_printf("layer %d vs %d at %s", a->layer, b->layer, loc_text(a));
	if (!a->overrode != !b->overrode)
		return mcc_printf("overrode differs at %s", loc_text(a));
	if (!a->text || !b->text || a->len != b->len || memcmp(a->text, b->text, a->len) ||
	    a->text[a->len] || b->text[b->len])
		return mcc_printf("text '%s' (%zu) vs '%s' (%zu) at %s", a->text ? a->text : "(null)",
				  a->len, b->text ? b->text : "(null)", b->len, loc_text(a));
	if (a->kind != MCC_N_MAP && a->kind != MCC_N_SEQ)
		return NULL;
	if (a->nr != b->nr)
		return mcc_printf("%zu vs %zu children at %s", a->nr, b->nr, loc_text(a));
	for (size_t i = 0; i < a->nr; i++) {
		if (a->kind == MCC_N_SEQ) {
			if ((d = diff(a->items[i], b->items[i], depth + 1)))
				return mcc_printf("[%zu]: %s", i, d);
			continue;
		}
		if ((d = diff(a->pairs[i].key, b->pairs[i].key, depth + 1)))
			return mcc_printf("key %zu: %s", i, d);
		if ((d = diff(a->pairs[i].value, b->pairs[i].value, depth + 1)))
			return mcc_printf(".%s: %s", a->pairs[i].key->text, d);
	}
	return NULL;
}

const char *
mcc_node_diff(const struct mcc_node *a, const struct mcc_node *b)
{
	return diff(a, b, 0);
}
