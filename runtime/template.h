/*
 * template.h - render request-time templates.
 *
 * mcpgc parses ${...} templates at compile time (compiler/interp.c) and
 * stores them as segment lists (SEGS, referenced by TMPL or IPOL entries,
 * runtime/image_format.h).  Per request, a backend renders a template into
 * a buffer: this file only concatenates, it never parses.
 *
 * What each segment becomes:
 *
 *   literal             the text, unchanged
 *   ${env.NAME}         the value resolved at boot, unchanged (operator
 *                       controlled: it may hold a base URL)
 *   ${arguments.a.b}    a string argument as is; any other JSON value as
 *                       compact JSON (numbers in their shortest exact form,
 *                       true, false, null, objects and arrays); a missing
 *                       argument, or a path through a non-object, fails the
 *                       call with MCPG_TMPL_E_ARGUMENT (JSON-RPC -32602)
 *                       naming the argument
 *   ${arguments}        the whole arguments object as compact JSON ({} when
 *                       the call has none)
 *   ${identity.F}       string fields as is, trust_level as its name, groups
 *                       and scopes as a compact JSON array of strings.  An
 *                       empty or absent string field fails the call with
 *                       MCPG_TMPL_E_IDENTITY: "https://x/tenants/${identity.
 *                       subject_id}" must not become ".../tenants/" for an
 *                       anonymous caller.
 *
 * Request values (arguments and identity) are data and are checked for the
 * place they go to:
 *
 *   every mode          a NUL byte is refused
 *   MCPG_TMPL_URL       percent-encoded: every byte outside the RFC 3986
 *                       unreserved set (A-Z a-z 0-9 - . _ ~) becomes %XX, so
 *                       '/', '?', '#' and '&' cannot change the URL's shape;
 *                       a value that is exactly "." or ".." is refused (it
 *                       would climb the path)
 *   MCPG_TMPL_HEADER    control characters (CR, LF, other C0 bytes except
 *                       tab, and DEL) are refused, so a value cannot add a
 *                       header
 *
 * Environment values are trusted and inserted raw, but in header mode they
 * are refused too when they hold a control character.
 */
#ifndef MCPG_TEMPLATE_H
#define MCPG_TEMPLATE_H

#include <stddef.h>

#include <jansson.h>

#include "expr.h"
#include "image_format.h"
#include "strbuf.h"

enum mcpg_tmpl_flags {
	MCPG_TMPL_URL = 1 << 0,
	MCPG_TMPL_HEADER = 1 << 1,
};

enum mcpg_tmpl_status {
	MCPG_TMPL_OK = 0,
	MCPG_TMPL_E_ARGUMENT = -1, /* the caller's arguments: JSON-RPC -32602 */
	MCPG_TMPL_E_IDENTITY = -2, /* the caller's identity cannot fill it: refuse */
	MCPG_TMPL_E_ENV = -3,      /* unset or unusable variable: a config error */
	MCPG_TMPL_E_IMAGE = -4,    /* bad segment kind or strref: unverified image */
};

/* What a template is rendered from.  Everything is borrowed. */
struct mcpg_tmpl_in {
	mcpg_expr_str_fn *str; /* strref -> text (the image string pool) */
	/* The value of an environment variable resolved at boot, or NULL. */
	const char *(*env)(void *ctx, const char *name);
	void *ctx;                          /* passed to str and env */
	const json_t *arguments;            /* tools/call arguments, or NULL */
	const struct mcpg_identity_view *id; /* NULL: anonymous */
};

/*
 * Append the rendering of segments segs[0..n) to `out`.  `flags` is a set of
 * enum mcpg_tmpl_flags.  Returns MCPG_TMPL_OK, or a negative
 * enum mcpg_tmpl_status with `out` restored to its length on entry and a
 * one-line message appended to `err` (lowercase, no key path: the caller
 * knows which template it rendered), for example
 * "missing argument 'tenant_id'".
 */
int mcpg_template_render(const struct mcpg_img_seg *segs, size_t n,
			 const struct mcpg_tmpl_in *in, unsigned flags,
			 struct strbuf *out, struct strbuf *err);

/*
 * Append `v` to `sb` as compact JSON (the form ${arguments.x} uses for
 * non-strings).  `v` NULL appends "null".
 */
void mcpg_json_compact(struct strbuf *sb, const json_t *v);

#endif /* MCPG_TEMPLATE_H */
