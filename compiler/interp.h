/*
 * interp.h - split string values into ${...} interpolation segments.
 *
 * Validation calls mcc_interp_parse() on every string value that may hold
 * references; lowering turns the segments into SEGS entries of an IPOL
 * (${env.*} only, resolved at boot) or TMPL (request time) record of the
 * image (runtime/image_format.h).  `mcpgc check --env` resolves ${env.*}
 * with mcc_interp_resolve_env().  runtime/template.c renders the segments.
 *
 * SYNTAX
 *
 *   ${env.NAME}          an environment variable; NAME = [A-Za-z_][A-Za-z0-9_]*
 *   ${arguments.a.b}     a value in the tools/call arguments: a dotted path of
 *                        names [A-Za-z_][A-Za-z0-9_]*
 *   ${arguments}         the whole arguments object, as compact JSON
 *   ${identity.FIELD}    a field of the caller's identity (runtime/expr.h:
 *                        subject_id, tenant, issuer, auth_provider,
 *                        trust_level, groups, scopes)
 *   $${                  a literal "${" (leftmost match: "$$${" is "$" "${")
 *
 * Anything else is literal text, including a lone '$' and "$$" not before
 * '{'.  Inside ${...} there are no blanks, no default syntax (${env.X:-d})
 * and no nesting.  Which roots a value may use is the schema's business
 * (struct mcpg_field.roots, enum mcpg_roots): plain strings get
 * MCPG_ROOT_ENV, request-time templates more.
 */
#ifndef MCC_INTERP_H
#define MCC_INTERP_H

#include <stddef.h>

#include "diag.h"
#include "image_format.h"

struct mcc_seg {
	enum mcpg_seg_kind kind;
	/*
	 * MCPG_SEG_LIT: the text, "$${" already turned into "${";
	 * MCPG_SEG_ENV: the variable name; MCPG_SEG_ARG: the path below
	 * "arguments" ("" for the whole object); MCPG_SEG_IDENTITY: the field
	 * name.  NUL-terminated, in the arena.
	 */
	const char *text;
	size_t len;
	size_t off; /* byte offset of the segment in the source */
};

/* A segment list in the arena.  {0} is empty. */
struct mcc_segs {
	struct mcc_seg *v;
	size_t nr, alloc;
};

/*
 * Split `s` (`len` bytes) into `out`, which is emptied first.  Adjacent
 * literal text is merged into one segment, so a value without references
 * gives at most one MCPG_SEG_LIT segment; an empty value gives none.
 *
 * `allowed_roots` (enum mcpg_roots) says which roots the value may use.
 * `key` is the dotted key path put in front of every message ("'a.b': ..."),
 * or NULL.  `loc` is where s[0] is; an error is reported at loc.col plus its
 * byte offset in `s`, which is exact for a plain or quoted scalar on one line
 * without escapes.  A caller that cannot map bytes to columns (block
 * scalars, escapes, folded lines) passes the value's own location, or col 0
 * for the line only.
 *
 * Reports every malformed reference (the messages are in interp.c) and
 * returns -1, or returns 0.  Allocates from the arena.
 */
int mcc_interp_parse(const char *s, size_t len, unsigned allowed_roots,
		     const char *key, struct mcc_loc loc, struct mcc_diag *d,
		     struct mcc_segs *out);

/* Whether `s` contains "${" at all, i.e. needs mcc_interp_parse(). */
int mcc_interp_needs_parse(const char *s, size_t len);

/* The roots the segments use (enum mcpg_roots); 0 for pure text. */
unsigned mcc_interp_roots(const struct mcc_segs *segs);

/* Whether any segment is a reference (mcc_interp_roots() != 0). */
int mcc_interp_has_refs(const struct mcc_segs *segs);

/*
 * The text of a value without references ("$${" unescaped), with its length
 * in *len; NULL when the segments hold a reference.
 */
const char *mcc_interp_literal(const struct mcc_segs *segs, size_t *len);

/*
 * Resolve ${env.*} with getenv(), for `mcpgc check --env`.  Sets *out to the
 * resulting text (arena; ${arguments.*} and ${identity.*} are copied back as
 * written, since they are only known per request).  Returns the number of
 * unset variables, 0 when all are set; *missing (when not NULL) is then the
 * first unset name, else NULL.  An empty value counts as set.  The output
 * may hold secrets: print it only for keys that are not sensitive.
 */
int mcc_interp_resolve_env(const struct mcc_segs *segs, char **out,
			   const char **missing);

/*
 * The tail of an "unknown identity field" message for `name` (`len` bytes):
 * " (did you mean 'groups'?)", or the list of fields when nothing is close.
 * Shared by interp.c and expr.c so both say the same thing.
 */
const char *mcc_identity_field_hint(const char *name, size_t len);

#endif /* MCC_INTERP_H */
