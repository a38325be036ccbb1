/*
 * jsonw.h - small helpers to write JSON text into a strbuf, for the
 * runtime's pre-serialised lists and hand-built responses (rt.c, mcp.c,
 * http.c).  jansson builds what is not known in advance.
 */
#ifndef MCPG_JSONW_H
#define MCPG_JSONW_H

#include <stddef.h>

#include <jansson.h>

#include "strbuf.h"

/* Append s[0..len) as a JSON string, quotes included. */
void mcpg_jsonw_str(struct strbuf *sb, const char *s, size_t len);

/* The same for a NUL-terminated string; NULL appends null. */
void mcpg_jsonw_cstr(struct strbuf *sb, const char *s);

/* Append `,"key":` (with the comma unless `first`). */
void mcpg_jsonw_key(struct strbuf *sb, const char *key, int first);

/* Append `v` as compact JSON through jansson's dump callback (no copy). */
void mcpg_jsonw_value(struct strbuf *sb, const json_t *v);

#endif /* MCPG_JSONW_H */
