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
 *   - UTF-8 text with LF line breaks: no byte order mark, no C0 control
 *     characters but tab and LF, no DEL, no C1 controls, no U+2028,
 *     U+2029 or U+FEFF; at most INT_MAX / 2 bytes;
 *   - one document, optionally opened by `---` alone on its line; comments
 *     and blank lines anywhere; no directives, no `...`;
 *   - block mappings and block sequences indented with spaces, including
 *     `- key: v` compact mappings, `- - x` compact sequences, an item on
 *     the line after its `-`, and a sequence at its key's indentation;
 *     the top level is a mapping (block or flow);
 *   - plain scalars on one line (not starting with an indicator, but `-`
 *     followed by a character, as in -1); single- and double-quoted
 *     scalars on one line, with every escape but line continuations and
 *     escapes of U+0000, of surrogates and beyond U+10FFFF;
 *   - flow sequences and mappings, over several lines too (each more
 *     indented than the enclosing block collection), a trailing comma
 *     allowed; a flow mapping holds `key: value` pairs, a key and its `:`
 *     on one line (`"k":v` is fine after a quoted key);
 *   - literal and folded block scalars (| or >, then - or +, no
 *     indentation digit) after a key's `:` or a `-`, whose first line is
 *     the least indented, with no more-indented line in a folded scalar,
 *     no line of blanks only beyond the content's indentation, and a line
 *     break after the last line;
 *   - `key:` with nothing after it (a null) in a block mapping.
 * It declines anchors, aliases, tags, `?` keys, `<<` merge keys, empty
 * sequence items, multi-line plain or quoted scalars, tabs outside quoted
 * scalars, block scalar content and comments, duplicate keys, keys longer
 * than 1000 bytes, nesting deeper than 200 levels, and any syntax error.
 * It also declines two things where yaml.c, which sets the standard, does
 * not follow YAML or node.h: a block scalar right after a quoted scalar
 * (yaml.c places it on its first content line, not at its indicator), and
 * two '' escapes in a row in a single-quoted scalar (libfyaml 0.7.12 gets
 * the text wrong: 'a''''b' gives a''' instead of a''b).
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
