/*
 * jsonparse.h - parse JSON text into jansson values, in one pass.
 *
 * jansson's own json_loadb() reads its input one character at a time
 * through a stream callback, copies every token into a growing buffer and
 * checks each string's UTF-8 a second time when it makes the value.  On the
 * request path that was the largest single cost of a tools/call (about 1.3
 * us of a 100-byte body).  This parser walks the bytes once, checks UTF-8 as
 * it goes and makes strings and keys with jansson's *_nocheck constructors.
 *
 * It accepts exactly RFC 8259 JSON, as json_loadb() does with the same
 * flags: a top-level object or array unless JSON_DECODE_ANY; no "\u0000"
 * unless JSON_ALLOW_NUL; no lone surrogates; integers that do not fit
 * json_int_t and reals that overflow a double are errors; a repeated key
 * keeps its last value; nesting deeper than JSON_PARSER_MAX_DEPTH is an
 * error.  tests/fuzz/fuzz_json.c compares the two parsers on every input.
 */
#ifndef MCPG_JSONPARSE_H
#define MCPG_JSONPARSE_H

#include <stddef.h>

#include <jansson.h>

/*
 * Parse `len` bytes at `buf`.  `flags` may hold JSON_DECODE_ANY and
 * JSON_ALLOW_NUL.  Returns a new reference, or NULL with `err` (may be NULL)
 * holding a one-line message and the byte offset.
 */
json_t *mcpg_json_load(const char *buf, size_t len, size_t flags, json_error_t *err);

#endif /* MCPG_JSONPARSE_H */
