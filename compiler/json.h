/*
 * json.h - compact JSON written straight from a node tree.
 *
 * The validator stores `json` values (mock responses, input schemas) as
 * pre-serialised JSON in the image; it writes them with
 * mcc_json_add_node() into one reused buffer, so no copy lands in the
 * arena.  mcc_node_to_json() (node.h) is the arena-returning form of the
 * same writer.  The typing and the bytes are described there.
 */
#ifndef MCC_JSON_H
#define MCC_JSON_H

#include "node.h"
#include "strbuf.h"

/*
 * Append `n` as compact JSON to `sb`, the bytes mcc_node_to_json() returns.
 * Returns 0, or -1 when `n` is NULL or JSON cannot represent it (see
 * mcc_node_to_json()); then `sb` is as it was.  Aborts on out of memory.
 */
int mcc_json_add_node(struct strbuf *sb, const struct mcc_node *n, int sorted_keys);

#endif /* MCC_JSON_H */
