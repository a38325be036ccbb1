/*
 * validate.h - check a merged config tree against the schema and lower it
 * to image records, in one walk.
 *
 * Phase three of mcpgc (yaml.c -> merge.c -> here -> image_write.c).  The
 * walk is driven by the descriptor tables (runtime/schema_desc.h): one
 * handler per slot kind, defaults filled in from the tables, every error
 * reported with the place that caused it.  Checking and building share it,
 * so `mcpgc check` accepts exactly what `mcpgc build` can write.  Rules that
 * span fields (rules.c) run after the walk, on the verified image.
 */
#ifndef MCC_VALIDATE_H
#define MCC_VALIDATE_H

#include "diag.h"
#include "node.h"
#include "schema_desc.h"

struct mcc_image;

enum mcc_validate_flags {
	/* Resolve ${env.*} against the environment and report unset ones. */
	MCC_V_ENV = 1 << 0,
	/* Do not run the cross-field rules (mcc_compile; tests of the walk). */
	MCC_V_NO_RULES = 1 << 1,
};

/*
 * Validate `root` (the merged tree; NULL for no layers at all) against `s`
 * and write its records into `img`, which must be empty: the root record is
 * the first allocation.  Reports every error to `d`.  Returns 0 when the
 * config is valid (warnings allowed), -1 otherwise; on -1 `img` holds
 * partial records and must not be written.
 */
int mcc_validate(const struct mcpg_schema *s, const struct mcc_node *root,
		 struct mcc_image *img, unsigned flags, struct mcc_diag *d);

/*
 * The field of struct type `type` named `key` (`len` bytes), or NULL.
 */
const struct mcpg_field *mcc_schema_field(const struct mcpg_schema *s, uint16_t type,
					  const char *key, size_t len);

/*
 * A field's default as a node tree (parsed once and cached; location
 * "<default>", layer -1), or NULL when it has none.
 */
const struct mcc_node *mcc_field_default(const struct mcpg_schema *s,
					 const struct mcpg_field *f);

/* "a boolean", "an integer", "a list of strings" ... for messages. */
const char *mcc_type_phrase(const struct mcpg_schema *s, uint16_t type);

/*
 * A matcher for the simple patterns the schema uses, which regexec() would
 * spend ~14,000 instructions on per string: `^...$` around a sequence of
 * single bytes and bracket expressions, each with an optional ?, *, + or
 * {m,n}, as in ^[A-Za-z0-9_.-]{1,128}$ or ^https?://[^/[:space:]]+$.
 * It accepts exactly the strings regexec() with REG_EXTENDED accepts, in
 * the C locale (mcpgc never calls setlocale()).
 */
#define MCC_PATTERN_MAX_ATOMS 16

struct mcc_pattern {
	int nr; /* atoms; -1: not a simple pattern, or not the C locale */
	struct mcc_pattern_atom {
		unsigned char set[32]; /* the bytes it matches, a bitmap */
		unsigned min, max;     /* repetitions; max UINT_MAX: unbounded */
	} atom[MCC_PATTERN_MAX_ATOMS];
};

/* Compile ERE `ere`: 0, or -1 (p->nr = -1) when it is not simple. */
int mcc_pattern_compile(struct mcc_pattern *p, const char *ere);
/*
 * Whether `s` (up to its NUL) matches: 1 or 0; -1 when this matcher cannot
 * tell (not a simple pattern, or a long string), so use regexec().
 */
int mcc_pattern_match(const struct mcc_pattern *p, const char *s);

#endif /* MCC_VALIDATE_H */
