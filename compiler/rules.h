/*
 * rules.h - the schema's named cross-field rules (`rule NAME "doc";`),
 * written in C, and the one-line summary `mcpgc check` prints.
 *
 * They only know mcpg's own schema (generated/mcpg_config.h); for any other
 * schema (the DSL's test schemas) they do nothing.  Every rule named in the
 * schema must have an implementation here: a unit test walks
 * mcpg_schema.rules and fails on a missing one.
 */
#ifndef MCC_RULES_H
#define MCC_RULES_H

#include "diag.h"
#include "node.h"
#include "schema_desc.h"

struct mcpg_image;

/*
 * Run every rule on `img`, the verified image of a config that passed the
 * schema walk.  `root` is the merged tree, for error locations: a rule
 * blames the node that set the offending value, and notes the layer that
 * set the other one.  `vflags` are enum mcc_validate_flags (MCC_V_ENV: the
 * environment may be read).  Returns the number of errors reported.
 */
int mcc_rules_run(const struct mcpg_image *img, const struct mcc_node *root,
		  unsigned vflags, struct mcc_diag *d);

/* Whether rule `name` has an implementation (for the coverage test). */
int mcc_rule_implemented(const char *name);

/*
 * The name of the i-th implemented rule, in the order they run; NULL past
 * the end (for the test that no implementation lacks a schema rule).
 */
const char *mcc_rule_name(size_t i);

/*
 * "(3 bindings, audit on, observability on, cluster: redis)" for a verified
 * image of mcpg's schema; "" for any other schema.  Arena string.
 */
const char *mcc_config_summary(const struct mcpg_image *img);

/*
 * A file mcpgc compiles in (keys_file, api_tokens.file): the whole of
 * `path` (arena memory, at most 16 MiB), or NULL with errno set; and a
 * path relative to the directory of the config file that set it (`loc`).
 */
char *mcc_read_small_file(const char *path, size_t *len);
const char *mcc_config_relative(struct mcc_loc loc, const char *file);

#endif /* MCC_RULES_H */
