/*
 * merge.h - fold config layers into one tree (DESIGN.md section 4).
 *
 * Second phase of mcpgc: yaml.c gives one tree per file, left to right;
 * mcc_merge() folds each over the result so far; the validator walks the
 * merged tree.
 */
#ifndef MCC_MERGE_H
#define MCC_MERGE_H

#include "node.h"

/*
 * Merge layer `over` on top of `base` and return the result, in the arena.
 * Neither input is modified; the result shares the nodes it does not
 * change with them.
 *
 *  - mapping over mapping: merged key by key, recursively.  The result's
 *    keys are base's, in base's order, then the keys only `over` has, in
 *    its order.  The merged mapping keeps base's location and layer, and
 *    each key node comes from the layer whose value won (for keys in both
 *    whose values are mappings, base's key);
 *  - anything else (scalar, sequence, null, or a mapping over a
 *    non-mapping): `over`'s node replaces base's whole.  The result is a
 *    shallow copy of `over`'s node whose `overrode` points at base's node,
 *    so chains build up across layers (prod -> staging -> base).  A null
 *    stays a null node with its own location and layer: the validator
 *    resets an optional key to its default there, and reports it on a
 *    required key;
 *  - a NULL argument: the other one is returned.
 */
struct mcc_node *mcc_merge(struct mcc_node *base, struct mcc_node *over);

#endif /* MCC_MERGE_H */
