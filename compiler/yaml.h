/*
 * yaml.h - load one YAML file (one config layer) into a node tree.
 *
 * First phase of mcpgc: YAML layers -> node trees with file:line:col
 * (node.h) -> merge.c -> validation.  A fast loader (yaml_fast.c) takes the
 * subset configs use; anything else, and every syntax error, goes to
 * libfyaml, whose diagnostics are collected, never printed, and reported
 * through diag.c with 1-based positions (columns in bytes).  Both give the
 * same tree for what the fast loader accepts (fuzz_yaml_diff checks it).
 */
#ifndef MCC_YAML_H
#define MCC_YAML_H

#include <stddef.h>

#include "diag.h"
#include "node.h"

/*
 * Load `path` as layer `layer`.  Every node of the tree gets `layer` and
 * locations naming `path` (copied into the arena).  The file is read
 * whole and may be removed once this returns.
 *
 * Returns the root, always an MCC_N_MAP (an empty file, or one holding
 * only comments, `---` or `~`, is an empty mapping whose location has
 * line 0), or NULL when the file gave nothing usable, after reporting why:
 *   cannot open 'PATH': No such file or directory    (no location)
 *   cannot read 'PATH': Is a directory               (no location)
 *   a YAML syntax error, with libfyaml's message at the right place (and
 *     "note: to match this '['" inside an unclosed flow collection)
 *   invalid UTF-8 (byte 0xNN) / control character 0xNN is not allowed
 *   a config file must hold one YAML document, not several
 *   nesting is deeper than 256 levels
 *   aliases expand to more than 1048576 nodes
 *   the top level must be a mapping, not a sequence
 *
 * Other errors leave a usable tree, so the caller can go on and report
 * more; it must check d->nerrors, not only the return value:
 *   duplicate key 'K'          at the second key, with a note at the first
 *                              ('K' was first set here); the first is kept
 *   undefined anchor 'A'       the alias becomes a null
 *   alias '*A' is inside the node it names      (the same)
 *   '<<' merges a mapping or a sequence of mappings, not an integer
 *   tag '!foo' is not supported / value is not a valid !!int
 *   a mapping key must be a scalar, not a sequence   (the pair is dropped)
 *   value contains a NUL byte  (a "\0" escape; the text is cut there)
 * No message quotes a value, which may be a secret; keys are quoted.
 * Stops early, returning NULL, when the sink says so (d->stopped).
 */
struct mcc_node *mcc_yaml_load_file(const char *path, int layer, struct mcc_diag *d);

/*
 * The same for `len` bytes of `text` (need not be NUL-terminated), named
 * `name` in locations (copied into the arena).
 */
struct mcc_node *mcc_yaml_load_string(const char *name, const char *text, size_t len,
				      int layer, struct mcc_diag *d);

#endif /* MCC_YAML_H */
