/*
 * jsonparse.c - a one-pass JSON parser that builds jansson values.
 *
 * A recursive descent over the bytes: every value is parsed where it starts,
 * strings without escapes become values straight from the input (one copy,
 * made by jansson), strings with escapes are decoded into a scratch buffer
 * first.  Depth is counted per value exactly as jansson counts it, so the
 * two agree on which inputs are too deep (tests/fuzz/fuzz_json.c).
 */
#include "jsonparse.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

struct jp {
	const unsigned char *s;
	size_t len, i;
	size_t flags;
	json_error_t *err;
	/* scratch for strings with escapes */
	char *buf;
	size_t cap;
	char small[256];
};

static void
fail(struct jp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fail(struct jp *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->err || p->err->text[0])
		return; /* keep the first error */
	va_start(ap, fmt);
	vsnprintf(p->err->text, sizeof(p->err->text), fmt, ap);
	va_end(ap);
	p->err->position = (int)(p->i > INT_MAX ? INT_MAX : p->i);
	p->err->line = -1;
	p->err->column = -1;
	snprintf(p->err->source, sizeof(p->err->source), "<buffer>");
}

static void
fail_here(struct jp *p, const char *what)
{
	if (p->i >= p->len)
		fail(p, "%s: premature end of input at byte %zu", what, p->i);
	else if (p->s[p->i] >= 0x20 && p->s[p->i] < 0x7f)
		fail(p, "%s: unexpected '%c' at byte %zu", what, p->s[p->i], p->i);
	else
		fail(p, "%s: unexpected byte 0x%02x at byte %zu", what, p->s[p->i], p->i);
}

static inline void
skip_ws(struct jp *p)
{
	while (p->i < p->len) {
		unsigned char c = p->s[p->i];

		if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
			break;
		p->i++;
	}
}

static int
hex4(const unsigned char *s, unsigned *out)
{
	unsigned v = 0;

	for (int k = 0; k < 4; k++) {
		unsigned c = s[k], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static int
scratch(struct jp *p, size_t need)
{
	char *nb;
	size_t ncap;

	if (need <= p->cap)
		return 0;
	ncap = p->cap * 2 > need ? p->cap * 2 : need;
	if (p->buf == p->small) {
		nb = malloc(ncap);
		if (nb)
			memcpy(nb, p->small, p->cap);
	} else {
		nb = realloc(p->buf, ncap);
	}
	if (!nb) {
		fail(p, "out of memory");
		return -1;
	}
	p->buf = nb;
	p->cap = ncap;
	return 0;
}

/* Append code point `cp` as UTF-8 at p->buf[*n]. */
static int
put_utf8(struct jp *p, size_t *n, unsigned cp)
{
	unsigned char *o;

	if (scratch(p, *n + 4) < 0)
		return -1;
	o = (unsigned char *)p->buf + *n;
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		*n += 1;
	} else if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		*n += 2;
	} else if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		*n += 3;
	} else {
		o[0] = (unsigned char)(0xf0 | cp >> 18);
		o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		o[3] = (unsigned char)(0x80 | (cp & 0x3f));
		*n += 4;
	}
	return 0;
}

/*
 * The string starting at the quote p->s[p->i].  Sets *out / *outlen to its
 * decoded bytes: the input itself when it has no escapes, else p->buf.
 * *nul is set when it holds U+0000.  Returns 0 or -1.
 */
static int
string(struct jp *p, const char **out, size_t *outlen, int *nul)
{
	const unsigned char *s = p->s;
	size_t i = p->i + 1, start = i, n = 0;
	int escaped = 0; /* from the first backslash on, the text is decoded into p->buf */

	*nul = 0;
	for (;;) {
		size_t run = i;
		unsigned c, cp;

		/* The common run: printable ASCII, then maybe one UTF-8 sequence. */
		while (i < p->len && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
			i++;
		if (i >= p->len) {
			p->i = i;
			fail_here(p, "unterminated string");
			return -1;
		}
		c = s[i];
		if (c >= 0x80) {
			size_t k = mcc_utf8_seq(s, i, p->len, &cp);

			if (!k) {
				p->i = i;
				fail(p, "invalid UTF-8 in string at byte %zu", i);
				return -1;
			}
			i += k;
		}
		if (escaped && i > run) {
			if (scratch(p, n + (i - run)) < 0)
				return -1;
			memcpy(p->buf + n, s + run, i - run);
			n += i - run;
		}
		if (c >= 0x80)
			continue;
		if (c == '"')
			break;
		if (c < 0x20) {
			p->i = i;
			fail_here(p, "control character in string");
			return -1;
		}
		/* A backslash. */
		if (!escaped) {
			escaped = 1;
			n = i - start;
			if (scratch(p, n + 16) < 0)
				return -1;
			memcpy(p->buf, s + start, n);
		}
		if (i + 1 >= p->len) {
			p->i = i + 1;
			fail_here(p, "unterminated string");
			return -1;
		}
		c = s[i + 1];
		if (c == 'u') {
			unsigned lo;

			if (i + 6 > p->len || hex4(s + i + 2, &cp) < 0) {
				p->i = i;
				fail(p, "invalid \\u escape at byte %zu", i);
				return -1;
			}
			i += 6;
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				p->i = i - 6;
				fail(p, "lone low surrogate \\u%04X at byte %zu", cp, i - 6);
				return -1;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (i + 6 > p->len || s[i] != '\\' || s[i + 1] != 'u' ||
				    hex4(s + i + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) {
					p->i = i - 6;
					fail(p, "high surrogate \\u%04X without a low one at byte %zu",
					     cp, i - 6);
					return -1;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
			if (cp == 0)
				*nul = 1;
			if (put_utf8(p, &n, cp) < 0)
				return -1;
			continue;
		}
		switch (c) {
		case '"': case '\\': case '/': break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		default:
			p->i = i;
			fail(p, "invalid escape '\\%c' at byte %zu", c >= 0x20 && c < 0x7f ? c : '?', i);
			return -1;
		}
		if (scratch(p, n + 1) < 0)
			return -1;
		p->buf[n++] = (char)c;
		i += 2;
	}
	*out = escaped ? p->buf : (const char *)s + start;
	*outlen = escaped ? n : i - start;
	p->i = i + 1;
	return 0;
}

static json_t *
number(struct jp *p)
{
	const unsigned char *s = p->s;
	size_t i = p->i, start = i;
	int real = 0;
	char tmp[64], *t = tmp;
	json_t *v;

	if (s[i] == '-')
		i++;
	if (i < p->len && s[i] == '0') {
		i++;
	} else if (i < p->len && s[i] >= '1' && s[i] <= '9') {
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
	} else {
		p->i = i;
		fail_here(p, "invalid number");
		return NULL;
	}
	if (i < p->len && s[i] == '.') {
		real = 1;
		i++;
		if (i >= p->len || s[i] < '0' || s[i] > '9') {
			p->i = i;
			fail_here(p, "invalid number");
			return NULL;
		}
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
		real = 1;
		i++;
		if (i < p->len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= p->len || s[i] < '0' || s[i] > '9') {
			p->i = i;
			fail_here(p, "invalid number");
			return NULL;
		}
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	p->i = i;
	if (!real && i - start <= 18) {
		/* Fits without overflow: up to 18 digits (and a sign). */
		long long x = 0;
		size_t k = start + (s[start] == '-');

		for (; k < i; k++)
			x = x * 10 + (s[k] - '0');
		v = json_integer(s[start] == '-' ? -x : x);
		goto done;
	}
	if (i - start >= sizeof(tmp) && !(t = malloc(i - start + 1))) {
		fail(p, "out of memory");
		return NULL;
	}
	memcpy(t, s + start, i - start);
	t[i - start] = '\0';
	errno = 0;
	if (!real) {
		long long x = strtoll(t, NULL, 10);

		if (errno == ERANGE) {
			p->i = start;
			fail(p, "integer out of range at byte %zu", start);
			v = NULL;
		} else {
			v = json_integer(x);
		}
	} else {
		double d = strtod(t, NULL);

		if (errno == ERANGE && (d > 1.0 || d < -1.0)) {
			p->i = start;
			fail(p, "real number overflow at byte %zu", start);
			v = NULL;
		} else {
			v = json_real(d);
		}
	}
	if (t != tmp)
		free(t);
done:
	if (!v && p->err && !p->err->text[0])
		fail(p, "out of memory");
	return v;
}

static json_t *value(struct jp *p, int depth);

/* After a member of an object or array: 1 on ',', 0 on `close`, else -1. */
static int
next_member(struct jp *p, char close)
{
	skip_ws(p);
	if (p->i < p->len && p->s[p->i] == ',') {
		p->i++;
		skip_ws(p);
		return 1;
	}
	if (p->i < p->len && p->s[p->i] == (unsigned char)close) {
		p->i++;
		return 0;
	}
	fail_here(p, close == '}' ? "',' or '}' expected" : "',' or ']' expected");
	return -1;
}

static json_t *
object(struct jp *p, int depth)
{
	json_t *o = json_object();

	if (!o) {
		fail(p, "out of memory");
		return NULL;
	}
	p->i++; /* { */
	skip_ws(p);
	if (p->i < p->len && p->s[p->i] == '}') {
		p->i++;
		return o;
	}
	for (;;) {
		const char *k;
		size_t klen;
		int nul;
		char kbuf[128], *key;
		json_t *v;

		if (p->i >= p->len || p->s[p->i] != '"') {
			fail_here(p, "object key expected");
			goto bad;
		}
		if (string(p, &k, &klen, &nul) < 0)
			goto bad;
		if (nul) {
			fail(p, "NUL byte in object key at byte %zu", p->i);
			goto bad;
		}
		/* The key may live in p->buf, which the value may reuse. */
		key = klen < sizeof(kbuf) ? kbuf : malloc(klen + 1);
		if (!key) {
			fail(p, "out of memory");
			goto bad;
		}
		memcpy(key, k, klen);
		key[klen] = '\0';
		skip_ws(p);
		if (p->i >= p->len || p->s[p->i] != ':') {
			fail_here(p, "':' expected");
			if (key != kbuf)
				free(key);
			goto bad;
		}
		p->i++;
		skip_ws(p);
		v = value(p, depth + 1);
		if (!v || json_object_setn_new_nocheck(o, key, klen, v) < 0) {
			if (v)
				fail(p, "out of memory");
			if (key != kbuf)
				free(key);
			goto bad;
		}
		if (key != kbuf)
			free(key);
		switch (next_member(p, '}')) {
		case 1:
			continue;
		case 0:
			return o;
		default:
			goto bad;
		}
	}
bad:
	json_decref(o);
	return NULL;
}

static json_t *
array(struct jp *p, int depth)
{
	json_t *a = json_array();

	if (!a) {
		fail(p, "out of memory");
		return NULL;
	}
	p->i++; /* [ */
	skip_ws(p);
	if (p->i < p->len && p->s[p->i] == ']') {
		p->i++;
		return a;
	}
	for (;;) {
		json_t *v = value(p, depth + 1);

		if (!v || json_array_append_new(a, v) < 0) {
			if (v)
				fail(p, "out of memory");
			json_decref(a);
			return NULL;
		}
		switch (next_member(p, ']')) {
		case 1:
			continue;
		case 0:
			return a;
		default:
			json_decref(a);
			return NULL;
		}
	}
}

static json_t *
literal(struct jp *p, const char *word, size_t n, json_t *v)
{
	if (p->len - p->i < n || memcmp(p->s + p->i, word, n)) {
		fail_here(p, "invalid token");
		return NULL;
	}
	p->i += n;
	return v;
}

static json_t *
value(struct jp *p, int depth)
{
	json_t *v;

	if (depth > JSON_PARSER_MAX_DEPTH) {
		fail(p, "maximum nesting depth (%d) reached at byte %zu", JSON_PARSER_MAX_DEPTH,
		     p->i);
		return NULL;
	}
	if (p->i >= p->len) {
		fail_here(p, "value expected");
		return NULL;
	}
	switch (p->s[p->i]) {
	case '{':
		return object(p, depth);
	case '[':
		return array(p, depth);
	case '"': {
		const char *str;
		size_t n;
		int nul;

		if (string(p, &str, &n, &nul) < 0)
			return NULL;
		if (nul && !(p->flags & JSON_ALLOW_NUL)) {
			fail(p, "\\u0000 in a string at byte %zu", p->i);
			return NULL;
		}
		v = json_stringn_nocheck(str, n);
		if (!v)
			fail(p, "out of memory");
		return v;
	}
	case 't':
		return literal(p, "true", 4, json_true());
	case 'f':
		return literal(p, "false", 5, json_false());
	case 'n':
		return literal(p, "null", 4, json_null());
	default:
		if (p->s[p->i] == '-' || (p->s[p->i] >= '0' && p->s[p->i] <= '9'))
			return number(p);
		fail_here(p, "invalid token");
		return NULL;
	}
}

json_t *
mcpg_json_load(const char *buf, size_t len, size_t flags, json_error_t *err)
{
	struct jp p;
	json_t *v;

	memset(&p, 0, offsetof(struct jp, small));
	p.s = (const unsigned char *)buf;
	p.len = len;
	p.flags = flags;
	p.err = err;
	p.buf = p.small;
	p.cap = sizeof(p.small);
	if (err)
		err->text[0] = '\0';
	skip_ws(&p);
	if (!(flags & JSON_DECODE_ANY) &&
	    (p.i >= len || (p.s[p.i] != '{' && p.s[p.i] != '['))) {
		fail_here(&p, "'[' or '{' expected");
		v = NULL;
	} else {
		v = value(&p, 1);
	}
	if (v) {
		skip_ws(&p);
		if (p.i < len) {
			fail_here(&p, "end of input expected");
			json_decref(v);
			v = NULL;
		}
	}
	if (p.buf != p.small)
		free(p.buf);
	return v;
}
