/*
 * dsl.h - the schema DSL front end: schema text in, resolved descriptor
 * tables out.
 *
 * The lexer (lex.re) and the grammar (parse.y) build a syntax tree; sema.c
 * checks it and lays out the records; dsl.c drives both and reads files.
 * The result is a struct mcpg_schema (runtime/schema_desc.h) exactly as the
 * generated tables hold it, so the emitters (emit_*.c) print it and the
 * image writer and verifier walk it.  man/mcpg-schema.5 and schema/README.md
 * describe the language.
 *
 * Shape of the result, for code that walks it:
 *   types[0] is a dummy "none" entry (kind 0), so an elem or variant type of
 *   0 means none.  types[1..7] are the primitives bool, int, uint, string,
 *   json, template, expr.  Then the named enums, structs and unions in
 *   schema order, then the derived types ("[T]", "{T}", "T?") in the order
 *   of first use while walking fields in schema order.  The none entry and
 *   the derived types have a NULL doc.
 *   fields[] of a struct are in schema order (not offset order); offsets
 *   follow the layout rules in sema.c.
 *   unions[] has one entry per union type, in type order.
 *   Strings are in the arena (arena.h) and live until mcc_arena_free_all().
 */
#ifndef MCC_DSL_H
#define MCC_DSL_H

#include <stddef.h>

struct mcc_diag; struct mcpg_schema;
/* Parse and resolve schema text; `text[len]` must be 0.  Returns a schema in the arena, or NULL after reporting every error (file:line:col) to d. */
const struct mcpg_schema *mcc_schema_parse(const char *file, const char *text, size_t len, struct mcc_diag *d);
/* Read `path` and parse it; an I/O error is reported as "cannot open 'PATH': strerror" with no location. */
const struct mcpg_schema *mcc_schema_load(const char *path, struct mcc_diag *d);

#endif /* MCC_DSL_H */
