/*
 * parse.y - the grammar of the schema DSL (lemon).
 *
 * lex.re feeds tokens; each action is one call into sema.c that builds the
 * syntax tree.  Checking happens later, in mcc_sema_resolve().  The language
 * is described in schema/README.md and man/mcpg-schema.5.
 *
 * Bodies of structs, enums and unions share one member shape
 *     NAME [= "TEXT"] [: TYPE ATTRIBUTES] DOC ;
 * and sema.c says what each kind of body allows, with a better message than
 * a syntax error could give.  Attributes are parsed generically too
 * (NAME, NAME(ARGS) or = LITERAL), so attribute words are not keywords.
 *
 * Error recovery: a bad member is skipped up to its ';', a bad body is
 * closed at its '}', and a bad declaration is skipped up to a ';' or to the
 * '{' of its body, whose members are then checked.  After such a skip the
 * parser reports errors again at once (lemon would otherwise stay quiet for
 * three tokens), so one bad field does not hide an error in the next.  The
 * lexer ends the member after an unterminated string (see lex.re).
 */

%name mcc_parser
%token_prefix TK_
%token_type { struct mcc_tok }
%extra_argument { struct mcc_pctx *ctx }

%include {
#include <stddef.h>
#include "sema.h"

struct yyParser;
static void recovered(struct yyParser *p);
}

%syntax_error { mcc_sema_syntax_error(ctx, yymajor, &yyminor); }
%stack_overflow { mcc_sema_overflow(ctx); }

/* Returned by the lexer after it reported a lexical error. */
%token ILLEGAL.

/* Keywords are also names wherever a keyword cannot stand (SQLite's trick):
 * a field may be called `root` or `in`. */
%fallback IDENT ROOT ENUM STRUCT UNION RULE ON IN TRUE FALSE NULL.

/* ------------------------------------------------------------------------
 * Declarations
 */

file ::= decls.

decls ::= decls decl.
decls ::= .

decl ::= ROOT IDENT(N) SEMI.                { mcc_sema_decl(ctx, MCC_D_ROOT, &N, NULL, NULL, NULL, NULL); }
decl ::= RULE IDENT(N) doc(D) SEMI.         { mcc_sema_decl(ctx, MCC_D_RULE, &N, NULL, NULL, D, NULL); }
decl ::= ENUM IDENT(N) doc(D) body(B).      { mcc_sema_decl(ctx, MCC_D_ENUM, &N, NULL, NULL, D, B); }
decl ::= STRUCT IDENT(N) doc(D) body(B).    { mcc_sema_decl(ctx, MCC_D_STRUCT, &N, NULL, NULL, D, B); }
decl ::= UNION IDENT(N) ON IDENT(T) nest(K) doc(D) body(B). { mcc_sema_decl(ctx, MCC_D_UNION, &N, &T, &K, D, B); }
decl ::= error SEMI.
decl ::= error LBRACE recovered members RBRACE.
decl ::= error LBRACE recovered members error RBRACE.

/* Past a bad declaration's header: the body is checked afresh. */
recovered ::= .                             { recovered(yypParser); }

%type nest { struct mcc_tok }
nest(A) ::= .                               { A = MCC_NOTOK; }
nest(A) ::= IN IDENT(K).                    { A = K; }

/* ------------------------------------------------------------------------
 * Bodies and members
 */

%type body { struct mcc_member * }
body(A) ::= LBRACE members(M) RBRACE.       { A = M; }
body(A) ::= LBRACE members(M) error RBRACE. { A = M; }

%type members { struct mcc_member * }
members(A) ::= .                            { A = NULL; }
members(A) ::= members(L) member(M).        { A = mcc_member_add(L, M); }

%type member { struct mcc_member * }
member(A) ::= IDENT(N) spell(S) doc(D) SEMI. { A = mcc_member_new(ctx, &N, S, NULL, NULL, D); }
member(A) ::= IDENT(N) spell(S) COLON type(T) attrs(R) doc(D) SEMI. { A = mcc_member_new(ctx, &N, S, T, R, D); }
member(A) ::= error SEMI.                   { A = NULL; recovered(yypParser); }

%type spell { struct mcc_str * }
spell(A) ::= .                              { A = NULL; }
spell(A) ::= EQ STRING(S).                  { A = mcc_str_add(ctx, NULL, &S); }

/* Adjacent strings are one doc string. */
%type doc { struct mcc_str * }
doc(A) ::= .                                { A = NULL; }
doc(A) ::= doc(L) STRING(S).                { A = mcc_str_add(ctx, L, &S); }

/* ------------------------------------------------------------------------
 * Types: NAME, NAME(ROOTS), [T], {T}, T?
 */

%type type { struct mcc_texpr * }
type(A) ::= IDENT(N).                       { A = mcc_texpr_name(ctx, &N, 0, NULL); }
type(A) ::= IDENT(N) LPAREN idents(L) RPAREN. { A = mcc_texpr_name(ctx, &N, 1, L); }
type(A) ::= LBRACKET(B) type(T) RBRACKET.   { A = mcc_texpr_wrap(ctx, MCC_TE_LIST, &B, T); }
type(A) ::= LBRACE(B) type(T) RBRACE.       { A = mcc_texpr_wrap(ctx, MCC_TE_MAP, &B, T); }
type(A) ::= type(T) QUESTION(Q).            { A = mcc_texpr_wrap(ctx, MCC_TE_OPT, &Q, T); }

%type idents { struct mcc_ident * }
idents(A) ::= IDENT(N).                     { A = mcc_ident_add(ctx, NULL, &N); }
idents(A) ::= idents(L) COMMA IDENT(N).     { A = mcc_ident_add(ctx, L, &N); }

/* ------------------------------------------------------------------------
 * Attributes: = LITERAL, NAME, NAME(ARG, ...)
 */

%type attrs { struct mcc_attr * }
attrs(A) ::= .                              { A = NULL; }
attrs(A) ::= attrs(L) attr(X).              { A = mcc_attr_add(L, X); }

%type attr { struct mcc_attr * }
attr(A) ::= EQ(E) lit(L).                   { A = mcc_attr_default(ctx, &E, L); }
attr(A) ::= IDENT(N).                       { A = mcc_attr_new(ctx, &N, 0, NULL); }
attr(A) ::= IDENT(N) LPAREN args(L) RPAREN. { A = mcc_attr_new(ctx, &N, 1, L); }

%type args { struct mcc_arg * }
args(A) ::= arg(X).                         { A = mcc_arg_add(NULL, X); }
args(A) ::= args(L) COMMA arg(X).           { A = mcc_arg_add(L, X); }

%type arg { struct mcc_arg * }
arg(A) ::= INT(I).                          { A = mcc_arg_new(ctx, MCC_ARG_INT, &I, NULL, NULL); }
arg(A) ::= IDENT(I).                        { A = mcc_arg_new(ctx, MCC_ARG_IDENT, &I, NULL, NULL); }
arg(A) ::= strs(S).                         { A = mcc_arg_new(ctx, MCC_ARG_STR, &S->at, NULL, S); }
arg(A) ::= INT(L) DOTDOT INT(H).            { A = mcc_arg_new(ctx, MCC_ARG_RANGE, &L, &H, NULL); }
arg(A) ::= INT(L) DOTDOT(D).                { A = mcc_arg_new(ctx, MCC_ARG_RANGE, &L, &D, NULL); }
arg(A) ::= DOTDOT(D) INT(H).                { A = mcc_arg_new(ctx, MCC_ARG_RANGE, &D, &H, NULL); }

%type strs { struct mcc_str * }
strs(A) ::= STRING(S).                      { A = mcc_str_add(ctx, NULL, &S); }
strs(A) ::= strs(L) STRING(S).              { A = mcc_str_add(ctx, L, &S); }

/* ------------------------------------------------------------------------
 * Literals (defaults)
 */

%type lit { struct mcc_lit * }
lit(A) ::= INT(T).                          { A = mcc_lit_new(ctx, MCC_L_INT, &T, NULL); }
lit(A) ::= STRING(T).                       { A = mcc_lit_new(ctx, MCC_L_STR, &T, NULL); }
lit(A) ::= TRUE(T).                         { A = mcc_lit_new(ctx, MCC_L_TRUE, &T, NULL); }
lit(A) ::= FALSE(T).                        { A = mcc_lit_new(ctx, MCC_L_FALSE, &T, NULL); }
lit(A) ::= NULL(T).                         { A = mcc_lit_new(ctx, MCC_L_NULL, &T, NULL); }
lit(A) ::= IDENT(T).                        { A = mcc_lit_new(ctx, MCC_L_IDENT, &T, NULL); }
lit(A) ::= LBRACKET(T) RBRACKET.            { A = mcc_lit_new(ctx, MCC_L_LIST, &T, NULL); }
lit(A) ::= LBRACKET(T) lits(L) comma RBRACKET. { A = mcc_lit_new(ctx, MCC_L_LIST, &T, L); }
lit(A) ::= LBRACE(T) RBRACE.                { A = mcc_lit_new(ctx, MCC_L_MAP, &T, NULL); }
lit(A) ::= LBRACE(T) entries(L) comma RBRACE. { A = mcc_lit_new(ctx, MCC_L_MAP, &T, L); }

%type lits { struct mcc_lit * }
lits(A) ::= lit(X).                         { A = mcc_lit_add(NULL, X); }
lits(A) ::= lits(L) COMMA lit(X).           { A = mcc_lit_add(L, X); }

%type entries { struct mcc_lit * }
entries(A) ::= entry(X).                    { A = mcc_lit_add(NULL, X); }
entries(A) ::= entries(L) COMMA entry(X).   { A = mcc_lit_add(L, X); }

%type entry { struct mcc_lit * }
entry(A) ::= IDENT(K) COLON lit(V).         { A = mcc_lit_entry(ctx, &K, 0, V); }
entry(A) ::= STRING(K) COLON lit(V).        { A = mcc_lit_entry(ctx, &K, 1, V); }

comma ::= .
comma ::= COMMA.

/* ------------------------------------------------------------------------
 * Parser internals used by dsl.c: they need lemon's tables, so they live
 * here, at the end of parse.c.
 */

%code {
/* After a member was skipped up to its ';', or a declaration up to its
 * '{', report the next error at once. */
static void
recovered(struct yyParser *p)
{
	p->yyerrcnt = -1;
}

/* Remember the state stack before a token is fed (see mcc_parser_accepts). */
void
mcc_parser_snapshot(void *p, struct mcc_pctx *ctx)
{
	yyParser *yp = p;
	int n = (int)(yp->yytos - yp->yystack) + 1;

	if (n > (int)(sizeof(ctx->snap) / sizeof(ctx->snap[0]))) {
		ctx->nsnap = -1;
		return;
	}
	for (int i = 0; i < n; i++)
		ctx->snap[i] = yp->yystack[i].stateno;
	ctx->nsnap = n;
}

/*
 * Would the parser, in the state of the last snapshot, shift token `major`
 * (after any reductions)?  This runs the LALR automaton on a copy of the
 * state stack.  Using the snapshot rather than the stack at the time of the
 * error matters: lemon applies default reductions before it finds the
 * error, and those would hide tokens that were acceptable.
 */
int
mcc_parser_accepts(const struct mcc_pctx *ctx, int major)
{
	YYACTIONTYPE st[sizeof(ctx->snap) / sizeof(ctx->snap[0]) + 64];
	int n = (int)(sizeof(st) / sizeof(st[0]));
	int sp = ctx->nsnap - 1;

	if (sp < 0 || major <= 0 || major >= YYNTOKEN)
		return 0;
	for (int i = 0; i <= sp; i++)
		st[i] = (YYACTIONTYPE)ctx->snap[i];
	for (int steps = 0; steps < 10000; steps++) {
		YYACTIONTYPE act = yy_find_shift_action((YYCODETYPE)major, st[sp]);
		unsigned int rule;

		if (act <= YY_MAX_SHIFTREDUCE || act == YY_ACCEPT_ACTION)
			return 1;
		if (act < YY_MIN_REDUCE)
			return 0;
		rule = act - YY_MIN_REDUCE;
		sp += yyRuleInfoNRhs[rule];
		if (sp < 0)
			return 0;
		/* A goto is a state or a pure reduce, never a shift-reduce. */
		act = yy_find_reduce_action(st[sp], (YYCODETYPE)yyRuleInfoLhs[rule]);
		if (++sp >= n)
			return 0;
		st[sp] = act;
	}
	return 0;
}
}
