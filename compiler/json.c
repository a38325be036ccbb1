/*
 * json.c - compact JSON written straight from a node tree (see json.h and
 * mcc_node_to_json() in node.h).
 *
 * Part of the lowering (validate.c stores `json` values this way).  The
 * output is byte for byte what an earlier version produced by building a
 * jansson tree and calling json_dumps(JSON_COMPACT | JSON_ENCODE_ANY, with
 * JSON_PRESERVE_ORDER or JSON_SORT_KEYS): images, and so their digests,
 * stay the same.  That fixes these details:
 *
 *   strings   UTF-8 unescaped; '"' and '\' escaped with a backslash; \b \f
 *             \n \r \t; other bytes below 0x20 as \u00XX (upper-case hex);
 *             '/' and DEL as themselves.  A string or key that is not
 *             valid UTF-8 (overlong forms, surrogates, past U+10FFFF) makes
 *             the whole value unrepresentable.
 *   integers  decimal, as int64_t: 0x10 is 16, +5 is 5, -0 is 0.
 *   floats    "%.*g", then ".0" appended when there is neither '.' nor
 *             'e', and the exponent without '+' or leading zeros (1e300,
 *             1e-5).  The precision is one per value written: the fewest
 *             digits that read back every float of the value exactly (so
 *             0.1 next to 0.30000000000000004 is 0.10000000000000001).
 *             Per-float shortest output would read better, but would
 *             change the bytes, and the digest, of existing images; it is
 *             a one-line change in add_value() if that is ever wanted.
 *   mappings  document order, or sorted by bytes (memcmp, then length).
 *
 * Mappings never hold a key twice (the loader drops and reports
 * duplicates, merge.c replaces by key), so keys are written as they come.
 */
#include "json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "utf8.h"

struct writer {
	struct strbuf *sb;
	int sorted;
	int prec;              /* 0: each float its own precision; else this one */
	int minprec, maxprec;  /* over the floats written so far */
};

/* Room for `n` more bytes; returns where they go. */
static char *
room(struct strbuf *sb, size_t n)
{
	if (sb->alloc - sb->len <= n)
		strbuf_grow(sb, n);
	return sb->buf + sb->len;
}

static void
add(struct strbuf *sb, const char *s, size_t len)
{
	memcpy(room(sb, len), s, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

/*
 * Whether any of the 8 bytes in `x` needs a look: below 0x20, '"', '\\' or
 * past ASCII (the classic "has a zero byte" bit tricks, exact as tests).
 */
static int
needs_look(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

	return ((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | x) &
		highs) != 0;
}

/* A JSON string; -1 (nothing usable written) when `s` is not UTF-8. */
static int
add_string(struct strbuf *sb, const char *str, size_t len)
{
	static const char hexd[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str;
	/* Worst case: every byte a \u00XX escape, plus the quotes. */
	char *o = room(sb, 6 * len + 2), *start = o;
	size_t i = 0;

	*o++ = '"';
	while (i < len) {
		unsigned c;
		uint64_t x;

		/* Most text needs no escaping: copy it 8 bytes at a time. */
		if (len - i >= 8 && (memcpy(&x, s + i, 8), !needs_look(x))) {
			memcpy(o, &x, 8);
			o += 8;
			i += 8;
			continue;
		}
		c = s[i];

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			*o++ = (char)c;
			i++;
			continue;
		}
		if (c >= 0x80) {
			unsigned cp;
			size_t n = mcc_utf8_seq(s, i, len, &cp);

			if (!n)
				return -1;
			memcpy(o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '"':
			*o++ = '"';
			break;
		case '\\':
			*o++ = '\\';
			break;
		case '\b':
			*o++ = 'b';
			break;
		case '\f':
			*o++ = 'f';
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hexd[c >> 4];
			*o++ = hexd[c & 15];
			break;
		}
		i++;
	}
	*o++ = '"';
	sb->len += (size_t)(o - start);
	sb->buf[sb->len] = '\0';
	return 0;
}

/* The fewest significant digits that read back as exactly `v`. */
static int
shortest_precision(double v)
{
	char buf[40];

	for (int p = 1; p < 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return p;
	}
	return 17;
}

/* A finite double with `prec` significant digits, in the form above. */
static void
add_real(struct strbuf *sb, double v, int prec)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%.*g", prec, v);
	char *e;

	if (n < 0 || (size_t)n >= sizeof(buf) - 2)
		n = 0; /* cannot happen: at most 17 digits and an exponent */
	buf[n] = '\0';
	e = strchr(buf, 'e');
	if (!e && !strchr(buf, '.')) {
		buf[n++] = '.';
		buf[n++] = '0';
		buf[n] = '\0';
	}
	if (e) {
		/* e+05 -> e5, e-05 -> e-5 */
		char *from = e + 1, *to = e + 1;

		if (*from == '+')
			from++;
		else if (*from == '-')
			from++, to++;
		while (*from == '0')
			from++;
		memmove(to, from, strlen(from) + 1);
		n = (int)strlen(buf);
	}
	add(sb, buf, (size_t)n);
}

/* An int64_t in decimal. */
static void
add_int(struct strbuf *sb, int64_t i)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = i < 0 ? -(uint64_t)i : (uint64_t)i;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (i < 0)
		*--p = '-';
	add(sb, p, (size_t)(buf + sizeof(buf) - p));
}

/*
 * Whether an integer's text is already its decimal form: no sign, no
 * leading zero, no base prefix, and short enough to fit int64_t.
 */
static int
is_plain_decimal(const char *s, size_t len)
{
	if (!len || len > 18 || (s[0] == '0' && len > 1))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int add_value(struct writer *w, const struct mcc_node *n, int depth);

/* Keys in byte order: memcmp over the shorter, then the shorter first. */
static int
cmp_pairs(const void *a, const void *b)
{
	const struct mcc_node *x = (*(const struct mcc_pair *const *)a)->key;
	const struct mcc_node *y = (*(const struct mcc_pair *const *)b)->key;
	int r = memcmp(x->text, y->text, x->len < y->len ? x->len : y->len);

	if (r)
		return r;
	return x->len < y->len ? -1 : x->len > y->len;
}

static int
add_pair(struct writer *w, const struct mcc_pair *p, int first, int depth)
{
	if (!first)
		add(w->sb, ",", 1);
	if (add_string(w->sb, p->key->text, p->key->len) < 0)
		return -1;
	add(w->sb, ":", 1);
	return add_value(w, p->value, depth);
}

static int
add_map(struct writer *w, const struct mcc_node *n, int depth)
{
	add(w->sb, "{", 1);
	if (!w->sorted || n->nr < 2) {
		for (size_t k = 0; k < n->nr; k++)
			if (add_pair(w, &n->pairs[k], k == 0, depth) < 0)
				return -1;
	} else {
		const struct mcc_pair *few[16], **order = few;
		int rc = 0;

		if (n->nr > sizeof(few) / sizeof(*few)) {
			order = malloc(n->nr * sizeof(*order));
			if (!order) {
				fprintf(stderr, "mcpgc: fatal: out of memory\n");
				abort();
			}
		}
		for (size_t k = 0; k < n->nr; k++)
			order[k] = &n->pairs[k];
		qsort(order, n->nr, sizeof(*order), cmp_pairs);
		for (size_t k = 0; k < n->nr && !rc; k++)
			rc = add_pair(w, order[k], k == 0, depth);
		if (order != few)
			free(order);
		if (rc)
			return -1;
	}
	add(w->sb, "}", 1);
	return 0;
}

/* A number scalar as a JSON float; -1 when it is not a finite double. */
static int
add_float(struct writer *w, const struct mcc_node *n)
{
	double v;
	int p = w->prec;

	if (mcc_scalar_as_double(n, &v) != MCC_SCALAR_OK || !isfinite(v))
		return -1;
	if (!p) {
		p = shortest_precision(v);
		if (!w->maxprec || p > w->maxprec)
			w->maxprec = p;
		if (!w->minprec || p < w->minprec)
			w->minprec = p;
	}
	add_real(w->sb, v, p);
	return 0;
}

static int
add_value(struct writer *w, const struct mcc_node *n, int depth)
{
	int64_t i;

	if (depth > MCC_NODE_MAX_DEPTH)
		return -1;
	switch (n->kind) {
	case MCC_N_NULL:
		add(w->sb, "null", 4);
		return 0;
	case MCC_N_SEQ:
		add(w->sb, "[", 1);
		for (size_t k = 0; k < n->nr; k++) {
			if (k)
				add(w->sb, ",", 1);
			if (add_value(w, n->items[k], depth + 1) < 0)
				return -1;
		}
		add(w->sb, "]", 1);
		return 0;
	case MCC_N_MAP:
		return add_map(w, n, depth + 1);
	case MCC_N_SCALAR:
		break;
	}
	/* The order of the tests is the typing of node.h: bool, int, float. */
	switch (n->type) {
	case MCC_T_BOOL:
		if (n->text[0] == 't' || n->text[0] == 'T')
			add(w->sb, "true", 4);
		else
			add(w->sb, "false", 5);
		return 0;
	case MCC_T_INT:
		if (is_plain_decimal(n->text, n->len)) {
			add(w->sb, n->text, n->len);
			return 0;
		}
		if (mcc_scalar_as_int(n, &i) == MCC_SCALAR_OK) {
			add_int(w->sb, i);
			return 0;
		}
		/* Beyond int64_t: a float, if a double holds it. */
		if (add_float(w, n) == 0)
			return 0;
		break;
	case MCC_T_FLOAT:
		if (add_float(w, n) == 0)
			return 0;
		break;
	case MCC_T_NULL:
		add(w->sb, "null", 4);
		return 0;
	case MCC_T_STR:
		break;
	}
	return add_string(w->sb, n->text, n->len);
}

int
mcc_json_add_node(struct strbuf *sb, const struct mcc_node *n, int sorted_keys)
{
	struct writer w = { sb, sorted_keys, 0, 0, 0 };
	size_t start = sb->len;

	if (!n)
		return -1;
	if (add_value(&w, n, 0) < 0) {
		strbuf_setlen(sb, start);
		return -1;
	}
	if (w.minprec != w.maxprec) {
		/*
		 * Floats that need different precisions: write the value again
		 * with the largest for all of them (see the top of the file).
		 */
		strbuf_setlen(sb, start);
		w.prec = w.maxprec;
		add_value(&w, n, 0);
	}
	return 0;
}

char *
mcc_node_to_json(const struct mcc_node *n, int sorted_keys)
{
	struct strbuf sb = STRBUF_INIT;
	char *r = NULL;

	if (mcc_json_add_node(&sb, n, sorted_keys) == 0)
		r = mcc_strndup(sb.buf, sb.len);
	strbuf_release(&sb);
	return r;
}
