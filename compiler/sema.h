/*
 * sema.h - internals of the schema DSL front end, shared by the lexer
 * (lex.re), the grammar (parse.y), the driver (dsl.c) and sema.c.  Nothing
 * outside those four files includes it; the public API is dsl.h.
 *
 * The grammar builds a small syntax tree from arena memory, with one call
 * into sema.c per action.  All checks and the layout run afterwards in
 * mcc_sema_resolve(), once the whole file has parsed.
 */
#ifndef MCC_SEMA_H
#define MCC_SEMA_H

#include <stddef.h>

struct mcc_diag;
struct mcpg_schema;

/* A token: its bytes in the input and its 1-based place (columns in bytes). */
struct mcc_tok {
	const char *s;
	int len;
	int line, col;
};

#define MCC_NOTOK ((struct mcc_tok){ 0, 0, 0, 0 })

/* Adjacent string literals, decoded and joined. */
struct mcc_str {
	struct mcc_tok at; /* the first literal */
	char *s;           /* NUL-terminated */
	size_t len, alloc;
};

/* A type expression as written. */
enum mcc_texpr_kind { MCC_TE_NAME, MCC_TE_LIST, MCC_TE_MAP, MCC_TE_OPT };

struct mcc_ident {
	struct mcc_tok tok;
	struct mcc_ident *next, *last; /* `last` is valid in the head */
};

struct mcc_texpr {
	enum mcc_texpr_kind kind;
	struct mcc_tok at;      /* the name, '[', '{' or '?' */
	int has_args;           /* NAME written with parentheses */
	struct mcc_ident *args; /* template(env, arguments) */
	struct mcc_texpr *sub;  /* LIST, MAP, OPT */
};

/* An argument of an attribute: range(1..5), unique(name), pattern("x"). */
enum mcc_arg_kind { MCC_ARG_INT, MCC_ARG_STR, MCC_ARG_IDENT, MCC_ARG_RANGE };

struct mcc_arg {
	enum mcc_arg_kind kind;
	struct mcc_tok at;
	struct mcc_tok lo, hi; /* RANGE: the bounds, len 0 when open; INT: lo */
	struct mcc_str *str;   /* STR */
	struct mcc_arg *next, *last;
};

/* A literal: defaults and the elements of list and map defaults. */
enum mcc_lit_kind {
	MCC_L_INT, MCC_L_STR, MCC_L_TRUE, MCC_L_FALSE, MCC_L_NULL, MCC_L_IDENT,
	MCC_L_LIST, MCC_L_MAP
};

struct mcc_lit {
	enum mcc_lit_kind kind;
	struct mcc_tok at;
	struct mcc_str *str;    /* STR */
	struct mcc_lit *items;  /* LIST, MAP: elements (map entries carry a key) */
	struct mcc_tok key;     /* map entry: the key token (len 0: not an entry) */
	struct mcc_str *skey;   /* map entry: the key when written as a string */
	struct mcc_lit *next, *last;
};

/* An attribute of a field: `= LITERAL`, `required`, `range(1..5)`. */
struct mcc_attr {
	struct mcc_tok name; /* for a default: the '=' */
	int is_default;
	int has_args;
	struct mcc_arg *args;
	struct mcc_lit *lit; /* the default */
	struct mcc_attr *next, *last;
};

/*
 * A member of a body: a struct field, an enum value or a union variant.
 * The grammar accepts one shape for all three (NAME [= "TEXT"] [: TYPE
 * ATTRIBUTES] DOC;) and sema.c says what each body allows, which gives
 * better messages than a syntax error.
 */
struct mcc_member {
	struct mcc_tok name;
	struct mcc_str *spelling; /* = "TEXT", or NULL */
	struct mcc_texpr *type;   /* or NULL */
	struct mcc_attr *attrs;
	struct mcc_str *doc;      /* or NULL */
	struct mcc_member *next, *last;
};

enum mcc_decl_kind { MCC_D_ENUM, MCC_D_STRUCT, MCC_D_UNION, MCC_D_ROOT, MCC_D_RULE };

struct mcc_decl {
	enum mcc_decl_kind kind;
	struct mcc_tok name;
	struct mcc_tok tag, nest;  /* union: `on TAG in NEST` (nest.len 0: none) */
	struct mcc_str *doc;
	struct mcc_member *members;
	int type;                  /* sema: index in the type table, 0 if none */
	struct mcc_decl *next;
};

/* Everything one parse needs: the lexer's cursor and the syntax tree. */
struct mcc_pctx {
	struct mcc_diag *d;
	const char *file;
	int nerrors;     /* errors this parse reported */
	int stop;        /* stack overflow or the diag cap: stop feeding tokens */

	/* lexer (lex.re) */
	const unsigned char *cur, *mar, *lim, *tok, *bol;
	int line;
	int semi_next;       /* return a ';' next (after an unterminated string) */
	struct mcc_tok last; /* the token being fed to the parser */

	/* The parser's state stack just before the current token, so a syntax
	 * error can say which tokens would have been accepted (parse.y). */
	unsigned short snap[128];
	int nsnap;       /* -1: the stack was deeper than snap */

	struct mcc_decl *decls, *decls_last; /* in schema order */
};

/* lex.re: the next token into *t; returns its TK_ code, 0 at the end.  A
 * lexical error is reported and returned as TK_ILLEGAL. */
int mcc_lex(struct mcc_pctx *ctx, struct mcc_tok *t);

/* parse.c (lemon) */
void *mcc_parserAlloc(void *(*alloc)(size_t));
void mcc_parserFree(void *p, void (*release)(void *));
void mcc_parser(void *p, int major, struct mcc_tok minor, struct mcc_pctx *ctx);
void mcc_parser_snapshot(void *p, struct mcc_pctx *ctx);
int mcc_parser_accepts(const struct mcc_pctx *ctx, int major);

/* Errors: counted in ctx->nerrors; t gives the place. */
void mcc_sema_error(struct mcc_pctx *ctx, const struct mcc_tok *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mcc_sema_note(struct mcc_pctx *ctx, const struct mcc_tok *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* dsl.c: the message for a syntax error at token `major`. */
void mcc_sema_syntax_error(struct mcc_pctx *ctx, int major, const struct mcc_tok *t);
void mcc_sema_overflow(struct mcc_pctx *ctx);

/* sema.c: grammar actions.  They only build the tree. */
struct mcc_str *mcc_str_add(struct mcc_pctx *ctx, struct mcc_str *s, const struct mcc_tok *t);
struct mcc_ident *mcc_ident_add(struct mcc_pctx *ctx, struct mcc_ident *l, const struct mcc_tok *t);
struct mcc_texpr *mcc_texpr_name(struct mcc_pctx *ctx, const struct mcc_tok *name,
				 int has_args, struct mcc_ident *args);
struct mcc_texpr *mcc_texpr_wrap(struct mcc_pctx *ctx, enum mcc_texpr_kind kind,
				 const struct mcc_tok *at, struct mcc_texpr *sub);
struct mcc_arg *mcc_arg_new(struct mcc_pctx *ctx, enum mcc_arg_kind kind,
			    const struct mcc_tok *lo, const struct mcc_tok *hi, struct mcc_str *str);
struct mcc_arg *mcc_arg_add(struct mcc_arg *l, struct mcc_arg *a);
struct mcc_lit *mcc_lit_new(struct mcc_pctx *ctx, enum mcc_lit_kind kind,
			    const struct mcc_tok *at, struct mcc_lit *items);
struct mcc_lit *mcc_lit_entry(struct mcc_pctx *ctx, const struct mcc_tok *key,
			      int key_is_str, struct mcc_lit *value);
struct mcc_lit *mcc_lit_add(struct mcc_lit *l, struct mcc_lit *x);
struct mcc_attr *mcc_attr_new(struct mcc_pctx *ctx, const struct mcc_tok *name,
			      int has_args, struct mcc_arg *args);
struct mcc_attr *mcc_attr_default(struct mcc_pctx *ctx, const struct mcc_tok *eq,
				  struct mcc_lit *lit);
struct mcc_attr *mcc_attr_add(struct mcc_attr *l, struct mcc_attr *a);
struct mcc_member *mcc_member_new(struct mcc_pctx *ctx, const struct mcc_tok *name,
				  struct mcc_str *spelling, struct mcc_texpr *type,
				  struct mcc_attr *attrs, struct mcc_str *doc);
struct mcc_member *mcc_member_add(struct mcc_member *l, struct mcc_member *m);
void mcc_sema_decl(struct mcc_pctx *ctx, enum mcc_decl_kind kind, const struct mcc_tok *name,
		   const struct mcc_tok *tag, const struct mcc_tok *nest,
		   struct mcc_str *doc, struct mcc_member *members);

/* sema.c: check the tree and build the tables; NULL after errors. */
const struct mcpg_schema *mcc_sema_resolve(struct mcc_pctx *ctx);

#endif /* MCC_SEMA_H */
