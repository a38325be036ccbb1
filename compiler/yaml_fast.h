/*
 * yaml_fast.h - a fast loader for the YAML subset that configs use.
 *
 * mcc_yaml_load_string() (yaml.c) tries this first and falls back on the
 * libfyaml loader whenever it declines.  It builds exactly the tree the
 * libfyaml loader would (node.h: kinds, styles, typing, text, locations,
 * layer, order), or nothing at all: it never reports a diagnostic, so
 * every message, for a syntax error or anything else, still comes from
 * the libfyaml loader.
 *
 * The subset (anything else is declined):
 *   - UTF-8 text with LF line breaks, no byte order mark, no C0 or C1
 *     control characters but tab and LF, no U+2028, U+2029 or U+FEFF;
 *   - one document, optionally opened by `---` on a line of its own;
 *     comments and blank lines anywhere; no directives, no `...`;
 *   - block mappings and block sequences indented with spaces, including
 *     `- key: v` compact mappings, `- - x` compact sequences and a
 *     sequence written at its key's indentation;
 *   - plain scalars on one line; single- and double-quoted scalars on one
 *     line (every escape but \0 and escapes of surrogates, U+0000 or
 *     beyond U+10FFFF);
 *   - flow sequences and mappings, also over several lines (each line more
 *     indented than the enclosing block collection), with a trailing
 *     comma allowed; a flow mapping's entries are `key: value` pairs;
 *   - literal and folded block scalars (| > with - or +, no indentation
 *     digit) after a key or a `-`, whose first line is the least indented,
 *     with no more-indented lines in a folded scalar, no line holding only
 *     spaces beyond the content's indentation, and a line break after the
 *     last line;
 *   - empty values (`key:` with nothing after it) in block mappings.
 * It declines on anchors, aliases, tags, `?` keys, `<<` merge keys,
 * multi-line plain or quoted scalars, empty sequence items, tabs outside
 * quoted scalars, block scalar content and comments, duplicate keys,
 * nesting deeper than 200 levels, keys longer than 1000 bytes, a top
 * level that is not a mapping, and any syntax error.
 */
#ifndef MCC_YAML_FAST_H
#define MCC_YAML_FAST_H

#include <stddef.h>

#include "diag.h"
#include "node.h"

/*
 * Load `len` bytes of `text` (need not be NUL-terminated) as layer
 * `layer`, naming `name` ("<string>" if NULL) in locations.  Returns the
 * root, always an MCC_N_MAP (an empty one with line 0 when the text holds
 * nothing but comments, blank lines and `---`), or NULL when the text is
 * outside the subset.  Nothing is reported either way.  Nodes and texts
 * come from the arena; a declined text may leave some garbage there.
 */
struct mcc_node *mcc_yaml_fast_load(const char *name, const char *text, size_t len, int layer);

/*
 * The libfyaml loader alone, without the fast path: the same contract as
 * mcc_yaml_load_string().  For tests that compare the two (yaml.c).
 */
struct mcc_node *mcc_yaml_load_string_slow(const char *name, const char *text, size_t len,
					   int layer, struct mcc_diag *d);

/*
 * For tests: NULL when the trees `a` and `b` are the same (kinds, types,
 * styles, texts, lengths, layers, locations including file names, keys and
 * children in order), else a description of the first difference, in the
 * arena.  Either may be NULL.  Recursion is bounded by the depth of the
 * trees (at most MCC_NODE_MAX_DEPTH + 1 for loader output).
 */
const char *mcc_node_diff(const struct mcc_node *a, const struct mcc_node *b);

#endif /* MCC_YAML_FAST_H */
