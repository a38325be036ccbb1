/*
 * explain.h - `mcpgc explain [FILE...] KEY`: what a key is, what it is set
 * to, and which layer set it (DESIGN.md sections 4 and 8).
 *
 * Runs on the merged tree (compile.h: mcc_load_layers()), not on an image:
 * the tree still knows where every value came from and what it replaced.
 * The schema side comes from the descriptor tables.
 *
 * KEY is a dotted path with list indexes: gateway.server.bind_address,
 * mcp.capabilities.tools[0].backend.url, cluster.url.  `[]` instead of an
 * index (mcp.capabilities.tools[].name) asks about the schema only.  A union's
 * variant keys resolve through the variant the tree selects, or, when it
 * selects none, through every variant that has the key (all are listed).
 * Map entries are addressed by their key (...headers.Authorization).
 *
 * A leaf prints:
 *
 *   gateway.server.bind_address
 *     type:        string (format socket_addr)
 *     flags:       restart
 *     default:     "127.0.0.1:8787"
 *     doc:         Address and port the listener binds, as host:port or
 *                  [v6]:port. ...
 *     value:       "0.0.0.0:8787"
 *                  set at prod.yaml:3:19 (layer 2: prod.yaml)
 *                  overrode "127.0.0.1:9000" at base.yaml:3:19
 *
 * with `constraints:` (range, length, items, pattern, schemes, unique,
 * non-empty, literal) and `variant:` lines when they apply.  Layers count
 * from 1, in command-line order.  Values are scalars as written (strings
 * quoted), collections as one-line YAML flow cut at about 200 bytes;
 * sensitive values are <redacted> unless they are ${...} references.  An
 * unset key says `not set; default VALUE` or `not set; no default`.  A
 * struct or union prints its doc and its keys (or variants), one line each.
 */
#ifndef MCC_EXPLAIN_H
#define MCC_EXPLAIN_H

#include <stdio.h>

#include "diag.h"
#include "node.h"
#include "schema_desc.h"

/*
 * Explain `key` against schema `s` and merged tree `tree` (NULL: no layer
 * sets anything) on `out`.  Returns 0, or -1 after reporting to `d` a key
 * the schema does not have ("unknown key 'bind_adress' in 'gateway.server'
 * (did you mean 'bind_address'?)", naming the first bad segment) or a
 * malformed path.  Allocates from the arena.
 */
int mcc_explain(const struct mcpg_schema *s, const struct mcc_node *tree, const char *key,
		FILE *out, struct mcc_diag *d);

#endif /* MCC_EXPLAIN_H */
