/*
 * allow_if.c - compile allow_if expressions (language in allow_if.h, bytecode in
 * runtime/expr.h).
 *
 * Three passes over one expression: a recursive-descent parser builds a
 * small tree in the arena (the first syntax error stops it), the checker
 * assigns types and reports every type error, and the emitter writes the
 * bytecode, once without interning to measure stack depth and size, then
 * for real.
 */
#include "allow_if.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "interp.h"
/* The runtime's expr.h: bytecode and identity fields. */
#include "expr.h"

/* ------------------------------------------------------------------------
 * Tokens
 */

enum tok {
	T_END, T_STR, T_INT, T_IDENT,
	T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA, T_DOT,
	T_NOT, T_AND, T_OR, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
	T_IN, T_TRUE, T_FALSE,
};

struct token {
	enum tok t;
	size_t off, len;  /* the source text */
	const char *s;    /* T_STR: the decoded value */
	size_t slen;
	int64_t i;        /* T_INT */
};

/* ------------------------------------------------------------------------
 * Tree
 */

enum node_kind {
	N_ERR,   /* a name already reported; its type is T_ERR */
	N_BOOL, N_INT, N_STR, N_TRUST, N_FIELD, N_LIST,
	N_NOT, N_AND, N_OR, N_EQ, N_NE, N_LT, N_LE, N_GT, N_GE, N_IN,
};

/* Types.  TY_ERR marks a subtree that already has an error. */
enum { TY_ERR, TY_BOOL, TY_INT, TY_STR, TY_LIST, TY_TRUST };

static const char *const type_name[] = {
	"?", "bool", "int", "string", "list<string>", "trust level",
};

struct node {
	enum node_kind kind;
	size_t off;           /* the operator, or the first byte of a leaf */
	struct node *a, *b;
	int64_t i;            /* N_BOOL, N_INT, N_TRUST */
	const char *s;        /* N_STR */
	size_t slen;
	int field;            /* N_FIELD */
	struct node **items;  /* N_LIST: N_STR nodes */
	size_t nitems;
	int optype;           /* comparisons: the operand type */
	unsigned paren : 1;   /* written in parentheses */
	unsigned rel_left : 1; /* N_NOT that is the left operand of a comparison */
};

struct parser {
	const char *src;
	size_t len, pos;
	const char *key;
	struct mcc_loc loc;
	struct mcc_diag *d;
	struct token tok, prev;
	int depth;
	int failed; /* a syntax error: stop parsing */
	int nerr;
};

static struct mcc_loc
loc_at(const struct parser *p, size_t off)
{
	struct mcc_loc loc = p->loc;

	if (loc.col > 0)
		loc.col += (int)off;
	return loc;
}

static void err_at(struct parser *p, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
err_at(struct parser *p, size_t off, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = mcc_vprintf(fmt, ap);
	va_end(ap);
	if (p->key)
		mcc_error(p->d, loc_at(p, off), "'%s': %s", p->key, msg);
	else
		mcc_error(p->d, loc_at(p, off), "%s", msg);
	p->nerr++;
}

/* A syntax error: report it and stop. */
#define SYNTAX(p, off, ...)                          \
	do {                                         \
		err_at((p), (off), __VA_ARGS__);     \
		(p)->failed = 1;                     \
	} while (0)

/* `n` bytes of `s` for a message: at most `cap`, non-printables as \xNN. */
static char *
show(const char *s, size_t n, size_t cap)
{
	char *out = mcc_alloc(4 * (n < cap ? n : cap) + 4), *o = out;

	for (size_t i = 0; i < n && i < cap; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch >= 0x7f)
			o += sprintf(o, "\\x%02x", ch);
		else
			*o++ = (char)ch;
	}
	if (n > cap)
		o += sprintf(o, "...");
	*o = '\0';
	return out;
}

/* How a token is named in a message: "'&&'", "end of expression". */
static const char *
tok_desc(const struct parser *p, const struct token *t)
{
	if (t->t == T_END)
		return "end of expression";
	return mcc_printf("'%s'", show(p->src + t->off, t->len, 32));
}

/* ------------------------------------------------------------------------
 * Lexer
 */

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
hexval(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
lex_string(struct parser *p, struct token *t)
{
	const char *s = p->src;
	char q = s[p->pos];
	size_t n = 0, i = p->pos + 1, end = i;
	char *buf;

	/* Escapes only shrink, so the raw length bounds the value. */
	while (end < p->len && s[end] != q)
		end += s[end] == '\\' ? 2 : 1;
	buf = mcc_alloc((end < p->len ? end : p->len) - p->pos + 1);

	for (;;) {
		if (i >= p->len) {
			SYNTAX(p, t->off, "unterminated string");
			return;
		}
		unsigned char c = (unsigned char)s[i];

		if (c == (unsigned char)q)
			break;
		if (c < 0x20 || c == 0x7f) {
			SYNTAX(p, i, "control character '%s' in string (write \\n, "
				     "\\t or \\uXXXX)", show(s + i, 1, 1));
			return;
		}
		if (c != '\\') {
			buf[n++] = (char)c;
			i++;
			continue;
		}
		if (i + 1 >= p->len) {
			SYNTAX(p, t->off, "unterminated string");
			return;
		}
		switch (s[i + 1]) {
		case '"': case '\'': case '\\':
			buf[n++] = s[i + 1];
			i += 2;
			continue;
		case 'n': buf[n++] = '\n'; i += 2; continue;
		case 'r': buf[n++] = '\r'; i += 2; continue;
		case 't': buf[n++] = '\t'; i += 2; continue;
		case 'u':
			break;
		default:
			SYNTAX(p, i, "unknown escape '\\%s' in string",
			       show(s + i + 1, 1, 1));
			return;
		}
		unsigned cp = 0;

		for (size_t k = 2; k < 6; k++) {
			int h = i + k < p->len ? hexval((unsigned char)s[i + k]) : -1;

			if (h < 0) {
				SYNTAX(p, i, "'\\u' needs four hex digits");
				return;
			}
			cp = cp * 16 + (unsigned)h;
		}
		if (cp == 0) {
			SYNTAX(p, i, "'\\u0000' is not allowed in a string");
			return;
		}
		if (cp >= 0xd800 && cp <= 0xdfff) {
			SYNTAX(p, i, "surrogate '\\u%.4s' is not allowed in a string",
			       s + i + 2);
			return;
		}
		if (cp < 0x80) {
			buf[n++] = (char)cp;
		} else if (cp < 0x800) {
			buf[n++] = (char)(0xc0 | (cp >> 6));
			buf[n++] = (char)(0x80 | (cp & 0x3f));
		} else {
			buf[n++] = (char)(0xe0 | (cp >> 12));
			buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			buf[n++] = (char)(0x80 | (cp & 0x3f));
		}
		i += 6;
	}
	buf[n] = '\0';
	t->t = T_STR;
	t->s = buf;
	t->slen = n;
	p->pos = i + 1;
}

static void
lex_int(struct parser *p, struct token *t)
{
	const char *s = p->src;
	size_t i = p->pos;
	int neg = s[i] == '-';
	uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	int over = 0;

	if (neg)
		i++;
	for (; i < p->len && is_digit((unsigned char)s[i]); i++) {
		unsigned dgt = (unsigned)(s[i] - '0');

		if (v > (limit - dgt) / 10)
			over = 1;
		else
			v = v * 10 + dgt;
	}
	if (over) {
		SYNTAX(p, t->off, "integer '%s' is out of range",
		       show(s + t->off, i - t->off, 32));
		return;
	}
	t->t = T_INT;
	t->i = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v)
		   : (int64_t)v;
	p->pos = i;
}

/* Read the next token into p->tok; on a lexical error set p->failed. */
static void
next(struct parser *p)
{
	const char *s = p->src;
	struct token *t = &p->tok;

	p->prev = *t;
	while (p->pos < p->len && is_blank((unsigned char)s[p->pos]))
		p->pos++;
	memset(t, 0, sizeof(*t));
	t->off = p->pos;
	if (p->pos >= p->len) {
		t->t = T_END;
		return;
	}

	char c = s[p->pos], c2 = p->pos + 1 < p->len ? s[p->pos + 1] : '\0';
	size_t two = 0; /* 1 or 2: a punctuation token of that length */

	switch (c) {
	case '(': t->t = T_LPAREN; two = 1; break;
	case ')': t->t = T_RPAREN; two = 1; break;
	case '[': t->t = T_LBRACK; two = 1; break;
	case ']': t->t = T_RBRACK; two = 1; break;
	case ',': t->t = T_COMMA; two = 1; break;
	case '.': t->t = T_DOT; two = 1; break;
	case '!':
		t->t = c2 == '=' ? T_NE : T_NOT;
		two = c2 == '=' ? 2 : 1;
		break;
	case '<':
		t->t = c2 == '=' ? T_LE : T_LT;
		two = c2 == '=' ? 2 : 1;
		break;
	case '>':
		t->t = c2 == '=' ? T_GE : T_GT;
		two = c2 == '=' ? 2 : 1;
		break;
	case '&':
	case '|':
	case '=':
		if (c2 != c) {
			SYNTAX(p, p->pos, "unexpected '%c' (did you mean '%c%c'?)", c, c, c);
			return;
		}
		t->t = c == '&' ? T_AND : c == '|' ? T_OR : T_EQ;
		two = 2;
		break;
	}
	if (two) {
		p->pos += two;
		t->len = two;
		return;
	}
	if (c == '"' || c == '\'') {
		lex_string(p, t);
	} else if (is_digit((unsigned char)c) ||
		   (c == '-' && is_digit((unsigned char)c2))) {
		lex_int(p, t);
	} else if (is_start((unsigned char)c)) {
		size_t i = p->pos;

		while (i < p->len && (is_start((unsigned char)s[i]) ||
				      is_digit((unsigned char)s[i])))
			i++;
		t->t = T_IDENT;
		t->len = i - p->pos;
		if (t->len == 2 && !memcmp(s + p->pos, "in", 2))
			t->t = T_IN;
		else if (t->len == 4 && !memcmp(s + p->pos, "true", 4))
			t->t = T_TRUE;
		else if (t->len == 5 && !memcmp(s + p->pos, "false", 5))
			t->t = T_FALSE;
		p->pos = i;
		return;
	} else {
		SYNTAX(p, p->pos, "unexpected character '%s'", show(s + p->pos, 1, 1));
		return;
	}
	t->len = p->pos - t->off;
}

/* ------------------------------------------------------------------------
 * Parser
 */

static struct node *
new_node(enum node_kind kind, size_t off)
{
	struct node *n = mcc_alloc(sizeof(*n));

	n->kind = kind;
	n->off = off;
	return n;
}

static struct node *parse_or(struct parser *p);

static int
enter(struct parser *p, size_t off)
{
	if (++p->depth > MCC_EXPR_MAX_DEPTH) {
		SYNTAX(p, off, "expression nests too deeply (more than %d levels)",
		       MCC_EXPR_MAX_DEPTH);
		return -1;
	}
	return 0;
}

/* "expected an expression" in the words that fit the current token. */
static void
expected_expr(struct parser *p)
{
	if (p->tok.t == T_END && p->prev.len)
		SYNTAX(p, p->tok.off, "expected an expression after %s",
		       tok_desc(p, &p->prev));
	else
		SYNTAX(p, p->tok.off, "expected an expression, found %s",
		       tok_desc(p, &p->tok));
}

/* A bare name that is not a keyword: report it in the most helpful way. */
static void
unknown_name(struct parser *p, const char *name, size_t off)
{
	static const char *const ops[][2] = {
		{ "and", "&&" }, { "or", "||" }, { "not", "!" },
	};
	static const char *const not_here[] = {
		"arguments", "args", "env", "context", "tool_name",
	};
	static const char *const words[] = { "identity", "true", "false", "in" };
	const char *pick;

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(name, ops[i][0])) {
			err_at(p, off, "unknown name '%s' (did you mean '%s'?)", name,
			       ops[i][1]);
			return;
		}
	for (size_t i = 0; i < sizeof(not_here) / sizeof(not_here[0]); i++)
		if (!strcmp(name, not_here[i])) {
			err_at(p, off, "'%s' is not available in allow_if; only "
				       "identity.* is", name);
			return;
		}
	if (mcpg_identity_field_lookup(name, strlen(name)) >= 0) {
		err_at(p, off, "unknown name '%s' (did you mean 'identity.%s'?)",
		       name, name);
		return;
	}
	if (!strcmp(name, "principal_id")) {
		err_at(p, off, "unknown name '%s' (did you mean "
			       "'identity.subject_id'?)", name);
		return;
	}
	pick = mcc_closest(name, words, sizeof(words) / sizeof(words[0]));
	if (pick)
		err_at(p, off, "unknown name '%s' (did you mean '%s'?)", name, pick);
	else
		err_at(p, off, "unknown name '%s'", show(name, strlen(name), 64));
}

static struct node *
parse_list(struct parser *p)
{
	struct node *n = new_node(N_LIST, p->tok.off);
	size_t alloc = 0;

	if (enter(p, p->tok.off))
		return NULL;
	next(p);
	while (!p->failed && p->tok.t != T_RBRACK) {
		if (p->tok.t == T_END)
			break;
		if (p->tok.t != T_STR) {
			SYNTAX(p, p->tok.off, "list elements must be string literals, "
					      "found %s", tok_desc(p, &p->tok));
			break;
		}
		if (n->nitems == 0xffff) {
			SYNTAX(p, p->tok.off, "list has more than 65535 elements");
			break;
		}
		if (n->nitems == alloc) {
			alloc = alloc ? 2 * alloc : 4;
			n->items = mcc_grow(n->items, n->nitems, alloc, sizeof(*n->items));
		}
		struct node *e = new_node(N_STR, p->tok.off);

		e->s = p->tok.s;
		e->slen = p->tok.slen;
		n->items[n->nitems++] = e;
		next(p);
		if (p->failed)
			break;
		if (p->tok.t == T_COMMA)
			next(p);
		else if (p->tok.t != T_RBRACK && p->tok.t != T_END)
			SYNTAX(p, p->tok.off, "expected ',' or ']', found %s",
			       tok_desc(p, &p->tok));
	}
	if (!p->failed && p->tok.t == T_END) {
		SYNTAX(p, p->tok.off, "expected ']', found end of expression");
		mcc_note(p->d, loc_at(p, n->off), "to match this '['");
	}
	if (p->failed)
		return NULL;
	next(p);
	p->depth--;
	return n;
}

static struct node *
parse_primary(struct parser *p)
{
	struct token t = p->tok;
	struct node *n;

	switch (t.t) {
	case T_STR:
		n = new_node(N_STR, t.off);
		n->s = t.s;
		n->slen = t.slen;
		next(p);
		return n;
	case T_INT:
		n = new_node(N_INT, t.off);
		n->i = t.i;
		next(p);
		return n;
	case T_TRUE:
	case T_FALSE:
		n = new_node(N_BOOL, t.off);
		n->i = t.t == T_TRUE;
		next(p);
		return n;
	case T_LPAREN:
		if (enter(p, t.off))
			return NULL;
		next(p);
		if (p->failed)
			return NULL;
		n = parse_or(p);
		if (p->failed)
			return NULL;
		if (p->tok.t != T_RPAREN) {
			SYNTAX(p, p->tok.off, "expected ')', found %s",
			       tok_desc(p, &p->tok));
			mcc_note(p->d, loc_at(p, t.off), "to match this '('");
			return NULL;
		}
		next(p);
		p->depth--;
		n->paren = 1;
		return n;
	case T_LBRACK:
		return parse_list(p);
	case T_IDENT:
		break;
	default:
		expected_expr(p);
		return NULL;
	}

	/* A name: identity.FIELD, or a mistake. */
	char *name = mcc_strndup(p->src + t.off, t.len);

	if (strcmp(name, "identity")) {
		unknown_name(p, name, t.off);
		/* Skip a dotted tail (arguments.x) so it is not a second error. */
		next(p);
		while (!p->failed && p->tok.t == T_DOT) {
			next(p);
			if (!p->failed && p->tok.t == T_IDENT)
				next(p);
		}
		return p->failed ? NULL : new_node(N_ERR, t.off);
	}
	next(p);
	if (p->failed)
		return NULL;
	if (p->tok.t != T_DOT) {
		SYNTAX(p, t.off, "'identity' needs a field, as in identity.subject_id");
		return NULL;
	}
	next(p);
	if (p->failed)
		return NULL;
	if (p->tok.t != T_IDENT) {
		SYNTAX(p, p->tok.off, "expected a field name after 'identity.', "
				      "found %s", tok_desc(p, &p->tok));
		return NULL;
	}
	n = new_node(N_FIELD, t.off);
	n->field = mcpg_identity_field_lookup(p->src + p->tok.off, p->tok.len);
	if (n->field < 0) {
		err_at(p, p->tok.off, "unknown identity field '%s'%s",
		       show(p->src + p->tok.off, p->tok.len, 64),
		       mcc_identity_field_hint(p->src + p->tok.off, p->tok.len));
		n->kind = N_ERR;
	}
	next(p);
	return n;
}

static struct node *
parse_unary(struct parser *p)
{
	struct node *n;
	size_t off = p->tok.off;

	if (p->tok.t != T_NOT)
		return parse_primary(p);
	if (enter(p, off))
		return NULL;
	next(p);
	if (p->failed)
		return NULL;
	n = new_node(N_NOT, off);
	n->a = parse_unary(p);
	if (p->failed)
		return NULL;
	p->depth--;
	return n;
}

static enum node_kind
relop(enum tok t)
{
	switch (t) {
	case T_EQ: return N_EQ;
	case T_NE: return N_NE;
	case T_LT: return N_LT;
	case T_LE: return N_LE;
	case T_GT: return N_GT;
	case T_GE: return N_GE;
	case T_IN: return N_IN;
	default: return N_ERR;
	}
}

static struct node *
parse_rel(struct parser *p)
{
	struct node *l = parse_unary(p), *n;
	enum node_kind k;

	if (p->failed)
		return NULL;
	k = relop(p->tok.t);
	if (k == N_ERR)
		return l;
	n = new_node(k, p->tok.off);
	next(p);
	if (p->failed)
		return NULL;
	n->a = l;
	n->b = parse_unary(p);
	if (p->failed)
		return NULL;
	if (l->kind == N_NOT && !l->paren)
		l->rel_left = 1;
	if (relop(p->tok.t) != N_ERR) {
		SYNTAX(p, p->tok.off, "comparison operators do not chain; add "
				      "parentheses");
		return NULL;
	}
	return n;
}

static struct node *
parse_and(struct parser *p)
{
	struct node *l = parse_rel(p);

	while (!p->failed && p->tok.t == T_AND) {
		struct node *n = new_node(N_AND, p->tok.off);

		next(p);
		if (p->failed)
			return NULL;
		n->a = l;
		n->b = parse_rel(p);
		l = n;
	}
	return p->failed ? NULL : l;
}

static struct node *
parse_or(struct parser *p)
{
	struct node *l = parse_and(p);

	while (!p->failed && p->tok.t == T_OR) {
		struct node *n = new_node(N_OR, p->tok.off);

		next(p);
		if (p->failed)
			return NULL;
		n->a = l;
		n->b = parse_and(p);
		l = n;
	}
	return p->failed ? NULL : l;
}

/* ------------------------------------------------------------------------
 * Type checker
 */

static const char *
op_text(enum node_kind k)
{
	switch (k) {
	case N_EQ: return "==";
	case N_NE: return "!=";
	case N_LT: return "<";
	case N_LE: return "<=";
	case N_GT: return ">";
	case N_GE: return ">=";
	case N_IN: return "in";
	case N_AND: return "&&";
	case N_OR: return "||";
	case N_NOT: return "!";
	default: return "?";
	}
}

/*
 * A string literal compared with a trust level becomes that level, or an
 * error.  Returns the new type of the literal.
 */
static int
trust_literal(struct parser *p, struct node *n)
{
	static const char *const names[] = {
#define X(name, text) text,
		MCPG_TRUST_LIST(X)
#undef X
	};
	const char *pick;

	for (int t = 0; t < MCPG_TRUST__COUNT; t++)
		if (strlen(names[t]) == n->slen && !memcmp(names[t], n->s, n->slen)) {
			n->kind = N_TRUST;
			n->i = t;
			return TY_TRUST;
		}
	pick = mcc_closest(n->s, names, MCPG_TRUST__COUNT);
	if (pick)
		err_at(p, n->off, "'%s' is not a trust level (did you mean '%s'?)",
		       show(n->s, n->slen, 64), pick);
	else
		err_at(p, n->off, "'%s' is not a trust level (expected "
				  "unauthenticated, header_asserted or verified)",
		       show(n->s, n->slen, 64));
	return TY_ERR;
}

static int
check(struct parser *p, struct node *n)
{
	int ta, tb;
	const char *op = op_text(n->kind);

	switch (n->kind) {
	case N_ERR: return TY_ERR;
	case N_BOOL: return TY_BOOL;
	case N_INT: return TY_INT;
	case N_STR: return TY_STR;
	case N_TRUST: return TY_TRUST;
	case N_LIST: return TY_LIST;
	case N_FIELD:
		switch (mcpg_identity_field_type(n->field)) {
		case MCPG_IDT_STR: return TY_STR;
		case MCPG_IDT_TRUST: return TY_TRUST;
		default: return TY_LIST;
		}
	case N_NOT:
		ta = check(p, n->a);
		if (ta == TY_ERR || ta == TY_BOOL)
			return ta;
		err_at(p, n->off, "'!' needs a bool, found %s%s", type_name[ta],
		       n->rel_left ? " (write !(a in b) to negate a comparison)" : "");
		return TY_ERR;
	case N_AND:
	case N_OR:
		ta = check(p, n->a);
		tb = check(p, n->b);
		if (ta == TY_ERR || tb == TY_ERR)
			return TY_ERR;
		if (ta != TY_BOOL || tb != TY_BOOL) {
			err_at(p, n->off, "'%s' needs bool operands, found %s on the %s",
			       op, type_name[ta != TY_BOOL ? ta : tb],
			       ta != TY_BOOL ? "left" : "right");
			return TY_ERR;
		}
		return TY_BOOL;
	case N_IN:
		ta = check(p, n->a);
		tb = check(p, n->b);
		if (ta == TY_ERR || tb == TY_ERR)
			return TY_ERR;
		if (tb != TY_LIST) {
			err_at(p, n->off, "'in' needs a list on the right "
					  "(identity.groups, identity.scopes or "
					  "[...]), found %s", type_name[tb]);
			return TY_ERR;
		}
		if (ta != TY_STR) {
			err_at(p, n->off, "'in' needs a string on the left, found %s",
			       type_name[ta]);
			return TY_ERR;
		}
		return TY_BOOL;
	default:
		break;
	}

	/* == != < <= > >= */
	ta = check(p, n->a);
	tb = check(p, n->b);
	if (ta == TY_ERR || tb == TY_ERR)
		return TY_ERR;
	if (ta == TY_TRUST && tb == TY_STR && n->b->kind == N_STR)
		tb = trust_literal(p, n->b);
	else if (tb == TY_TRUST && ta == TY_STR && n->a->kind == N_STR)
		ta = trust_literal(p, n->a);
	if (ta == TY_ERR || tb == TY_ERR)
		return TY_ERR;
	if (ta == TY_LIST || tb == TY_LIST) {
		err_at(p, n->off, "'%s' cannot compare lists; use 'in' to test "
				  "membership", op);
		return TY_ERR;
	}
	if (ta != tb) {
		err_at(p, n->off, "'%s' cannot compare %s with %s", op,
		       type_name[ta], type_name[tb]);
		return TY_ERR;
	}
	if (n->kind != N_EQ && n->kind != N_NE && ta != TY_INT && ta != TY_TRUST) {
		err_at(p, n->off, "'%s' needs ints or trust levels, found %s", op,
		       type_name[ta]);
		return TY_ERR;
	}
	n->optype = ta;
	return TY_BOOL;
}

/* ------------------------------------------------------------------------
 * Emitter
 */

void
mcc_bytes_add(struct mcc_bytes *b, const void *data, size_t len)
{
	if (b->alloc - b->len < len) {
		size_t n = b->alloc ? 2 * b->alloc : 64;

		while (n - b->len < len)
			n *= 2;
		b->buf = mcc_grow(b->buf, b->len, n, 1);
		b->alloc = n;
	}
	memcpy(b->buf + b->len, data, len);
	b->len += len;
}

struct emit {
	struct mcc_bytes *out;
	int sp, max;
	mcc_intern_fn *intern; /* NULL: measuring, strrefs are 0 */
	void *ctx;
};

static void
op(struct emit *e, int opcode, int delta)
{
	unsigned char c = (unsigned char)opcode;

	mcc_bytes_add(e->out, &c, 1);
	e->sp += delta;
	if (e->sp > e->max)
		e->max = e->sp;
}

static void
u8(struct emit *e, unsigned v)
{
	unsigned char c = (unsigned char)v;

	mcc_bytes_add(e->out, &c, 1);
}

static void
strref(struct emit *e, const char *s, size_t len)
{
	unsigned char b[4];

	mcpg_put_le32(b, e->intern ? e->intern(e->ctx, s, len) : 0);
	mcc_bytes_add(e->out, b, 4);
}

static void
emit(struct emit *e, const struct node *n)
{
	unsigned char b[8];

	switch (n->kind) {
	case N_BOOL:
		op(e, n->i ? MCPG_OP_TRUE : MCPG_OP_FALSE, 1);
		return;
	case N_INT:
	case N_TRUST:
		op(e, MCPG_OP_INT, 1);
		mcpg_put_le64(b, (uint64_t)n->i);
		mcc_bytes_add(e->out, b, 8);
		return;
	case N_STR:
		op(e, MCPG_OP_STR, 1);
		strref(e, n->s, n->slen);
		return;
	case N_FIELD:
		op(e, MCPG_OP_FIELD, 1);
		u8(e, (unsigned)n->field);
		return;
	case N_NOT:
		emit(e, n->a);
		op(e, MCPG_OP_NOT, 0);
		return;
	case N_AND:
	case N_OR:
		emit(e, n->a);
		emit(e, n->b);
		op(e, n->kind == N_AND ? MCPG_OP_AND : MCPG_OP_OR, -1);
		return;
	case N_IN:
		emit(e, n->a);
		if (n->b->kind == N_FIELD) {
			op(e, MCPG_OP_IN_FIELD, 0);
			u8(e, (unsigned)n->b->field);
			return;
		}
		op(e, MCPG_OP_IN_STRS, 0);
		mcpg_put_le16(b, (uint16_t)n->b->nitems);
		mcc_bytes_add(e->out, b, 2);
		for (size_t i = 0; i < n->b->nitems; i++)
			strref(e, n->b->items[i]->s, n->b->items[i]->slen);
		return;
	case N_EQ:
	case N_NE:
		emit(e, n->a);
		emit(e, n->b);
		op(e, n->optype == TY_STR ? MCPG_OP_EQ_STR :
		      n->optype == TY_BOOL ? MCPG_OP_EQ_BOOL : MCPG_OP_EQ_INT, -1);
		if (n->kind == N_NE)
			op(e, MCPG_OP_NOT, 0);
		return;
	case N_LT:
	case N_LE:
		emit(e, n->a);
		emit(e, n->b);
		op(e, n->kind == N_LT ? MCPG_OP_LT_INT : MCPG_OP_LE_INT, -1);
		return;
	case N_GT:
	case N_GE:
		/* a > b is b < a: operands are pure, so order does not matter. */
		emit(e, n->b);
		emit(e, n->a);
		op(e, n->kind == N_GT ? MCPG_OP_LT_INT : MCPG_OP_LE_INT, -1);
		return;
	case N_ERR:
	case N_LIST:
		break;
	}
}

int
mcc_expr_compile(const char *src, size_t len, const char *key,
		 struct mcc_loc loc, struct mcc_diag *d, struct mcc_bytes *code,
		 mcc_intern_fn *intern, void *ctx)
{
	struct parser p = { .src = src, .len = len, .key = key, .loc = loc, .d = d };
	struct mcc_bytes tmp = { 0 };
	struct emit e = { &tmp, 0, 0, NULL, NULL };
	struct node *root;
	int t;

	if (len > MCC_EXPR_MAX_LEN) {
		err_at(&p, 0, "expression is longer than %d bytes", MCC_EXPR_MAX_LEN);
		return -1;
	}
	next(&p);
	if (p.failed)
		return -1;
	if (p.tok.t == T_END) {
		err_at(&p, 0, "empty expression");
		return -1;
	}
	size_t first = p.tok.off;

	root = parse_or(&p);
	if (!p.failed && p.tok.t != T_END) {
		const char *w = src + p.tok.off, *hint = "";

		if (p.tok.t == T_IDENT && p.tok.len == 3 && !memcmp(w, "and", 3))
			hint = " (did you mean '&&'?)";
		else if (p.tok.t == T_IDENT && p.tok.len == 2 && !memcmp(w, "or", 2))
			hint = " (did you mean '||'?)";
		SYNTAX(&p, p.tok.off, "unexpected %s after the expression%s",
		       tok_desc(&p, &p.tok), hint);
	}
	if (p.failed)
		return -1;
	t = check(&p, root);
	if (t != TY_ERR && t != TY_BOOL)
		err_at(&p, first, "expression must be a bool, found %s", type_name[t]);
	if (p.nerr)
		return -1;

	/* Measure, then emit for real. */
	emit(&e, root);
	if (e.max > MCPG_EXPR_MAX_STACK || tmp.len > MCPG_EXPR_MAX_CODE) {
		err_at(&p, first, "expression is too complex (%zu bytes of code, "
				  "%d stack slots; the limits are %d and %d)",
		       tmp.len, e.max, MCPG_EXPR_MAX_CODE, MCPG_EXPR_MAX_STACK);
		return -1;
	}
	e = (struct emit){ code, 0, 0, intern, ctx };
	emit(&e, root);
	return 0;
}
