/*
 * allow_if.h - compile allow_if expressions to bytecode.
 *
 * Lowering calls mcc_expr_compile() for every allow_if value; it parses,
 * type-checks and emits the bytecode described in runtime/expr.h, which the
 * image writer stores in the CODE section.  The language is small, total
 * and side-effect free:
 *
 *   expr     = or
 *   or       = and { "||" and }
 *   and      = rel { "&&" rel }
 *   rel      = unary [ relop unary ]          comparisons do not chain
 *   relop    = "==" | "!=" | "<" | "<=" | ">" | ">=" | "in"
 *   unary    = "!" unary | primary
 *   primary  = STRING | INT | "true" | "false" | field | list | "(" expr ")"
 *   field    = "identity" "." NAME            (fields: runtime/expr.h)
 *   list     = "[" [ STRING { "," STRING } [ "," ] ] "]"
 *
 * "!" binds tighter than the comparisons, as in CEL and C.  STRING is "..." or '...' with the escapes \" \' \\ \n \r
 * \t and \uXXXX (not \u0000, not a surrogate); INT is an optional '-' and
 * decimal digits fitting in 64 bits.  Blanks (space, tab, CR, LF) separate
 * tokens.
 *
 * Types: bool, int, string, list<string>, trust level.  The whole
 * expression must be a bool.  == and != compare two values of the same
 * type (not lists); < <= > >= order ints and trust levels; a trust level
 * compares with a string literal naming a level ("verified"), checked at
 * compile time; `in` tests a string for membership of identity.groups,
 * identity.scopes or a list literal (no substring test); && || ! take
 * bools.
 *
 * Examples:
 *   "tenant_admins" in identity.groups
 *   identity.tenant == "acme" && "write" in identity.scopes
 *   identity.trust_level >= "header_asserted" || identity.tenant in ["a", "b"]
 */
#ifndef MCC_ALLOW_IF_H
#define MCC_ALLOW_IF_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* Limits, reported as errors. */
#define MCC_EXPR_MAX_LEN 4096  /* bytes of source */
#define MCC_EXPR_MAX_DEPTH 32  /* nested (), [] and ! */

/* A growable byte buffer in the arena.  {0} is an empty buffer. */
struct mcc_bytes {
	unsigned char *buf;
	size_t len, alloc;
};

/* Append `len` bytes to `b`, growing it in the arena. */
void mcc_bytes_add(struct mcc_bytes *b, const void *data, size_t len);

/*
 * Put `s` (`len` bytes, no NUL inside) into the image string pool and return
 * its strref.  The image writer provides it.
 */
typedef uint32_t mcc_intern_fn(void *ctx, const char *s, size_t len);

/*
 * Compile the expression `src` (`len` bytes; it need not be NUL-terminated)
 * and append its bytecode to `code`.  `key` is the dotted key path, put in
 * front of every message ("'mcp.capabilities.tools[1].governance.allow_if':
 * ..."); NULL for none.  `loc` is where src[0] is: errors are reported at
 * loc.col plus the byte offset of the problem, which is exact for a plain,
 * single- or double-quoted scalar on one line without escapes; callers that
 * cannot map bytes to columns (block scalars, escaped quotes) pass the
 * value's own location, or col 0 to report the line only.
 *
 * Returns 0, or -1 after reporting every error found (a syntax error stops
 * parsing; type errors are all reported).  On error `code` is unchanged and
 * `intern` has not been called.  Allocates from the arena.
 */
int mcc_expr_compile(const char *src, size_t len, const char *key,
		     struct mcc_loc loc, struct mcc_diag *d, struct mcc_bytes *code,
		     mcc_intern_fn *intern, void *ctx);

#endif /* MCC_ALLOW_IF_H */
