/*
 * dsl.c - drives the schema DSL front end: reads the file, feeds the
 * lexer's tokens to the lemon parser, words syntax errors, and hands the
 * tree to sema.c.  See dsl.h for the API and sema.h for the pieces.
 *
 * Semantic checks run only when the text parsed without a lexical or
 * syntax error: after error recovery the tree has holes (a skipped
 * declaration would show up as an unknown type), and those follow-on
 * messages would only be noise.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "diag.h"
#include "dsl.h"
#include "parse.h"
#include "schema_desc.h"
#include "sema.h"

/* Our own token names (lemon's yyTokenName exists only without NDEBUG). */
static const char *const token_names[] = {
	[TK_ILLEGAL] = "invalid token",
	[TK_IDENT] = "identifier",
	[TK_ROOT] = "'root'",
	[TK_ENUM] = "'enum'",
	[TK_STRUCT] = "'struct'",
	[TK_UNION] = "'union'",
	[TK_RULE] = "'rule'",
	[TK_ON] = "'on'",
	[TK_IN] = "'in'",
	[TK_TRUE] = "'true'",
	[TK_FALSE] = "'false'",
	[TK_NULL] = "'null'",
	[TK_SEMI] = "';'",
	[TK_LBRACE] = "'{'",
	[TK_RBRACE] = "'}'",
	[TK_COLON] = "':'",
	[TK_EQ] = "'='",
	[TK_STRING] = "string",
	[TK_LPAREN] = "'('",
	[TK_RPAREN] = "')'",
	[TK_LBRACKET] = "'['",
	[TK_RBRACKET] = "']'",
	[TK_QUESTION] = "'?'",
	[TK_COMMA] = "','",
	[TK_INT] = "integer",
	[TK_DOTDOT] = "'..'",
};

#define NTOKENS ((int)(sizeof(token_names) / sizeof(token_names[0])))

/* Keywords that stand in for an identifier where one is expected. */
static int
is_keyword(int major)
{
	return major >= TK_ROOT && major <= TK_NULL;
}

/* How to name the unexpected token: its kind and its text. */
static void
describe(char *out, size_t size, int major, const struct mcc_tok *t)
{
	if (major == 0) {
		snprintf(out, size, "end of input");
	} else if (major == TK_IDENT) {
		snprintf(out, size, "identifier '%.*s'", t->len, t->s);
	} else if (major == TK_INT) {
		snprintf(out, size, "integer '%.*s'", t->len, t->s);
	} else if (major == TK_STRING) {
		int n = t->len;

		/* Long strings are cut, at a UTF-8 character boundary. */
		if (n > 32) {
			n = 28;
			while (n > 1 && ((unsigned char)t->s[n] & 0xc0) == 0x80)
				n--;
			snprintf(out, size, "string %.*s...\"", n, t->s);
		} else {
			snprintf(out, size, "string %.*s", n, t->s);
		}
	} else {
		snprintf(out, size, "'%.*s'", t->len, t->s);
	}
}

void
mcc_sema_syntax_error(struct mcc_pctx *ctx, int major, const struct mcc_tok *t)
{
	int exp[NTOKENS], n = 0;
	char what[128], list[512];
	size_t len = 0;

	if (major == TK_ILLEGAL) /* the lexer has said what is wrong */
		return;
	describe(what, sizeof(what), major, t);

	/* A keyword is listed only where it is not just a name. */
	int ident_ok = mcc_parser_accepts(ctx, TK_IDENT);
	for (int k = 1; k < NTOKENS; k++) {
		if (k == TK_ILLEGAL || (is_keyword(k) && ident_ok))
			continue;
		if (mcc_parser_accepts(ctx, k))
			exp[n++] = k;
	}
	if (n == 0 || n > 6) {
		mcc_sema_error(ctx, t, "unexpected %s", what);
		return;
	}
	list[0] = '\0';
	for (int i = 0; i < n; i++) {
		const char *sep = i == 0 ? "" : i == n - 1 ? " or " : ", ";

		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", sep,
					token_names[exp[i]]);
	}
	mcc_sema_error(ctx, t, "unexpected %s, expected %s", what, list);
}

void
mcc_sema_overflow(struct mcc_pctx *ctx)
{
	mcc_sema_error(ctx, &ctx->last, "nesting is too deep");
	ctx->stop = 1;
}

const struct mcpg_schema *
mcc_schema_parse(const char *file, const char *text, size_t len, struct mcc_diag *d)
{
	struct mcc_pctx ctx;
	struct mcc_tok t;
	void *parser;
	int major;

	memset(&ctx, 0, sizeof(ctx));
	ctx.d = d;
	ctx.file = file;
	if (len > INT_MAX / 2) {
		struct mcc_loc l = { file, 0, 0 };

		mcc_error(d, l, "schema is too large");
		return NULL;
	}
	ctx.cur = ctx.bol = (const unsigned char *)text;
	ctx.lim = ctx.cur + len;
	ctx.line = 1;

	parser = mcc_parserAlloc(malloc);
	if (!parser) {
		mcc_error(d, MCC_NOLOC, "out of memory");
		return NULL;
	}
	do {
		major = mcc_lex(&ctx, &t);
		ctx.last = t;
		mcc_parser_snapshot(parser, &ctx);
		mcc_parser(parser, major, t, &ctx);
	} while (major != 0 && !ctx.stop && !d->stopped);
	mcc_parserFree(parser, free);

	if (ctx.nerrors || d->stopped)
		return NULL;
	return mcc_sema_resolve(&ctx);
}

const struct mcpg_schema *
mcc_schema_load(const char *path, struct mcc_diag *d)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, alloc = 0, n;

	if (!f) {
		mcc_error(d, MCC_NOLOC, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (alloc - len < 4096) {
			size_t a = alloc ? alloc * 2 : 65536;

			text = mcc_grow(text, alloc, a, 1);
			alloc = a;
		}
		n = fread(text + len, 1, alloc - len - 1, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		mcc_error(d, MCC_NOLOC, "cannot read '%s': %s", path, strerror(errno));
		fclose(f);
		return NULL;
	}
	fclose(f);
	text[len] = '\0';
	return mcc_schema_parse(path, text, len, d);
}
