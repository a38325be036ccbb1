/*
 * lex.re - the lexer of the schema DSL (re2c).
 *
 * First phase of mcc_schema_parse(): bytes in, tokens with file:line:col
 * out, fed one by one to the lemon parser (parse.y).  The input must end in
 * a NUL at text[len]; that NUL is the sentinel and `lim` bounds it, so a NUL
 * byte inside the input is an ordinary (unexpected) character and never
 * reads past the end.
 *
 * Lexical errors are reported here and returned as TK_ILLEGAL, which the
 * parser swallows through its error recovery without a second message.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "sema.h"

/* Fill in the place and length of the token that starts at ctx->tok. */
static int
tok(struct mcc_pctx *ctx, struct mcc_tok *t, int code)
{
	t->s = (const char *)ctx->tok;
	t->len = (int)(ctx->cur - ctx->tok);
	t->line = ctx->line;
	t->col = (int)(ctx->tok - ctx->bol) + 1;
	return code;
}

/* A token covering `len` bytes at p, for messages inside a token. */
static struct mcc_tok
at(struct mcc_pctx *ctx, const unsigned char *p, int len)
{
	struct mcc_tok t = { (const char *)p, len, ctx->line, (int)(p - ctx->bol) + 1 };

	return t;
}

/* Length of a valid UTF-8 sequence at p (before lim), or 0. */
static int
utf8_len(const unsigned char *p, const unsigned char *lim)
{
	int n;
	uint32_t c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	if (lim - p < n)
		return 0;
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return n;
}

/* A character for a message: itself when printable, else \xNN. */
static void
show_char(char *buf, size_t size, const unsigned char *p, int n)
{
	if (n > 1)
		snprintf(buf, size, "%.*s", n, (const char *)p);
	else if (p[0] >= 0x20 && p[0] < 0x7f)
		snprintf(buf, size, "%c", p[0]);
	else
		snprintf(buf, size, "\\x%02x", p[0]);
}

/*
 * Check the inside of a string literal: escapes are \" \\ \n \t, and the
 * bytes must be UTF-8 without NUL (the text ends up in C, JSON and man
 * output).
 */
static void
check_string(struct mcc_pctx *ctx, const unsigned char *p, const unsigned char *end)
{
	int bad_utf8 = 0;

	while (p < end) {
		if (*p == '\\' && p[1]) {
			int n = utf8_len(p + 1, end);

			if (!strchr("\"\\nt", p[1])) {
				struct mcc_tok t = at(ctx, p, 2);
				char c[8];

				show_char(c, sizeof(c), p + 1, n ? n : 1);
				mcc_sema_error(ctx, &t, "invalid escape '\\%s' in string", c);
			}
			p += 1 + (n ? n : 1);
			continue;
		}
		if (*p == '\\') /* before a NUL */
			p++;
		if (*p == '\0') {
			struct mcc_tok t = at(ctx, p, 1);

			mcc_sema_error(ctx, &t, "NUL byte in string");
			p++;
			continue;
		}
		int n = utf8_len(p, end);
		if (!n) {
			if (!bad_utf8) {
				struct mcc_tok t = at(ctx, p, 1);

				mcc_sema_error(ctx, &t, "invalid UTF-8 in string");
			}
			bad_utf8 = 1;
			n = 1;
		}
		p += n;
	}
}

int
mcc_lex(struct mcc_pctx *ctx, struct mcc_tok *t)
{
	if (ctx->semi_next) {
		/* An unterminated string ran to the end of its line, over the ';'
		 * that likely ended the member: supply it, so the parser resumes
		 * with the next line instead of skipping to the next ';'. */
		ctx->semi_next = 0;
		ctx->tok = ctx->cur;
		return tok(ctx, t, TK_SEMI);
	}
	for (;;) {
		ctx->tok = ctx->cur;
	/*!re2c
		re2c:define:YYCTYPE = "unsigned char";
		re2c:define:YYCURSOR = "ctx->cur";
		re2c:define:YYMARKER = "ctx->mar";
		re2c:define:YYLIMIT = "ctx->lim";
		re2c:yyfill:enable = 0;
		re2c:eof = 0;

		ident = [A-Za-z_][A-Za-z0-9_]*;
		schar = [^"\\\n] | [\\][^\n];

		$ {
			return tok(ctx, t, 0);
		}
		* {
			/* One character, a whole UTF-8 sequence when it is one. */
			int n = utf8_len(ctx->tok, ctx->lim);
			char c[8];

			if (n > 1)
				ctx->cur = ctx->tok + n;
			tok(ctx, t, TK_ILLEGAL);
			show_char(c, sizeof(c), ctx->tok, n ? n : 1);
			mcc_sema_error(ctx, t, "unexpected character '%s'", c);
			return TK_ILLEGAL;
		}

		[ \t\r]+          { continue; }
		"#" [^\n]*        { continue; }
		"\n"              { ctx->line++; ctx->bol = ctx->cur; continue; }

		"root"            { return tok(ctx, t, TK_ROOT); }
		"enum"            { return tok(ctx, t, TK_ENUM); }
		"struct"          { return tok(ctx, t, TK_STRUCT); }
		"union"           { return tok(ctx, t, TK_UNION); }
		"rule"            { return tok(ctx, t, TK_RULE); }
		"on"              { return tok(ctx, t, TK_ON); }
		"in"              { return tok(ctx, t, TK_IN); }
		"true"            { return tok(ctx, t, TK_TRUE); }
		"false"           { return tok(ctx, t, TK_FALSE); }
		"null"            { return tok(ctx, t, TK_NULL); }
		ident             { return tok(ctx, t, TK_IDENT); }

		"-"? [0-9]+ ("_" [0-9]+)* { return tok(ctx, t, TK_INT); }

		["] schar* ["] {
			check_string(ctx, ctx->tok + 1, ctx->cur - 1);
			return tok(ctx, t, TK_STRING);
		}
		["] schar* [\\]? {
			tok(ctx, t, TK_ILLEGAL);
			mcc_sema_error(ctx, t, "unterminated string");
			ctx->semi_next = 1;
			return TK_ILLEGAL;
		}

		"{"  { return tok(ctx, t, TK_LBRACE); }
		"}"  { return tok(ctx, t, TK_RBRACE); }
		"["  { return tok(ctx, t, TK_LBRACKET); }
		"]"  { return tok(ctx, t, TK_RBRACKET); }
		"("  { return tok(ctx, t, TK_LPAREN); }
		")"  { return tok(ctx, t, TK_RPAREN); }
		":"  { return tok(ctx, t, TK_COLON); }
		";"  { return tok(ctx, t, TK_SEMI); }
		","  { return tok(ctx, t, TK_COMMA); }
		"="  { return tok(ctx, t, TK_EQ); }
		"?"  { return tok(ctx, t, TK_QUESTION); }
		".." { return tok(ctx, t, TK_DOTDOT); }
	*/
	}
}
