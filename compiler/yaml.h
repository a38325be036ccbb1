/*
 * yaml.h - load one YAML file (one config layer) into a node tree.
 *
 * First phase of mcpgc: YAML layers -> node trees with file:line:col
 * (node.h) -> merge.c -> validation.  libfyaml does the scanning and
 * parsing; its diagnostics are collected, never printed, and reported
 * through diag.c with 1-based positions (columns in bytes).
 */
#ifndef MCC_YAML_H
#define MCC_YAML_H

#include <stddef.h>

#include "diag.h"
#include "node.h"

/*
 * Load `path` as layer `layer`.  Every node of the tree gets `layer` and
 * locations naming `path` (copied into the arena).
 *
 * Returns the root, always an MCC_N_MAP (an empty file, or one holding
 * only comments, `---` or `~`, is an empty mapping whose location has
 * line 0), or NULL when the file gave nothing usable: it cannot be read
 * (`cannot open 'PATH': REASON`, with no location), has a YAML syntax
 * error, holds more than one document, is nested deeper than
 * MCC_NODE_MAX_DEPTH, expands its aliases beyond reason, or its top level
 * is not a mapping.
 *
 * Some errors leave a usable tree, so the caller can go on and report
 * more; it must check d->nerrors, not only the return value:
 *   duplicate key 'K'      (at the second key; a note at the first:
 *                           'K' was first set here) - the first is kept
 *   undefined alias '*A'   the value becomes a null
 *   bad '<<' merge value, unsupported or mismatched tag, NUL byte or
 *   invalid UTF-8 in a scalar, non-scalar mapping key (the pair is
 *   dropped).
 * Stops early when the diagnostic sink says so (d->stopped).
 */
struct mcc_node *mcc_yaml_load_file(const char *path, int layer, struct mcc_diag *d);

/*
 * The same for `len` bytes of `text` (need not be NUL-terminated), named
 * `name` in locations (copied into the arena).
 */
struct mcc_node *mcc_yaml_load_string(const char *name, const char *text, size_t len,
				      int layer, struct mcc_diag *d);

#endif /* MCC_YAML_H */
