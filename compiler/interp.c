/*
 * interp.c - parse ${...} references in string values (see interp.h).
 *
 * Runs during validation, once per string value that contains "${".  The
 * scanner is a single left-to-right pass: literal bytes accumulate until a
 * "${", whose reference runs to the next '}'.  A malformed reference is
 * reported and skipped, so one value can yield several errors.
 */
#include "interp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "schema_desc.h"
/* The runtime's expr.h: identity fields. */
#include "expr.h"

static const struct root {
	const char *name;
	unsigned bit; /* enum mcpg_roots */
	enum mcpg_seg_kind kind;
} roots[] = {
	{ "env", MCPG_ROOT_ENV, MCPG_SEG_ENV },
	{ "arguments", MCPG_ROOT_ARGUMENTS, MCPG_SEG_ARG },
	{ "identity", MCPG_ROOT_IDENTITY, MCPG_SEG_IDENTITY },
};
#define NROOTS (sizeof(roots) / sizeof(roots[0]))

/* Spellings from other engines (MCPG's CEL) that deserve a suggestion. */
static const char *const root_aliases[][2] = {
	{ "args", "arguments" },
	{ "arg", "arguments" },
	{ "context", "identity" },
	{ "environment", "env" },
};

static const char *const field_aliases[][2] = {
	{ "principal_id", "subject_id" },
	{ "sub", "subject_id" },
	{ "subject", "subject_id" },
	{ "iss", "issuer" },
	{ "trust", "trust_level" },
	{ "provider", "auth_provider" },
	{ "tenant_id", "tenant" },
};

struct scan {
	const char *s;
	size_t len;
	const char *key;
	struct mcc_loc loc;
	struct mcc_diag *d;
	int nerr;
};

static void err_at(struct scan *c, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
err_at(struct scan *c, size_t off, const char *fmt, ...)
{
	struct mcc_loc loc = c->loc;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = mcc_vprintf(fmt, ap);
	va_end(ap);
	if (loc.col > 0)
		loc.col += (int)off;
	if (c->key)
		mcc_error(c->d, loc, "'%s': %s", c->key, msg);
	else
		mcc_error(c->d, loc, "%s", msg);
	c->nerr++;
}

/* `n` bytes of `p` for a message: at most `cap`, non-printables as \xNN. */
static char *
show(const char *p, size_t n, size_t cap)
{
	char *out = mcc_alloc(4 * (n < cap ? n : cap) + 4), *o = out;

	for (size_t i = 0; i < n && i < cap; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch < 0x20 || ch >= 0x7f)
			o += sprintf(o, "\\x%02x", ch);
		else
			*o++ = (char)ch;
	}
	if (n > cap)
		o += sprintf(o, "...");
	*o = '\0';
	return out;
}

static int
is_start(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

static int
is_char(int ch)
{
	return is_start(ch) || (ch >= '0' && ch <= '9');
}

/* " (did you mean 'x'?)" from an alias table, then from `cands`, or NULL. */
static const char *
suggest(const char *word, const char *const (*aliases)[2], size_t naliases,
	const char *const *cands, size_t ncands)
{
	const char *pick = NULL;

	for (size_t i = 0; i < naliases && !pick; i++)
		if (!strcmp(word, aliases[i][0]))
			pick = aliases[i][1];
	for (size_t i = 0; i < ncands && !pick; i++)
		if (!strcasecmp(word, cands[i]))
			pick = cands[i];
	if (!pick)
		pick = mcc_closest(word, cands, ncands);
	return pick ? mcc_printf(" (did you mean '%s'?)", pick) : NULL;
}

const char *
mcc_identity_field_hint(const char *name, size_t len)
{
	const char *names[MCPG_ID__COUNT];
	const char *hint;

	for (int f = 0; f < MCPG_ID__COUNT; f++)
		names[f] = mcpg_identity_field_name(f);
	hint = suggest(mcc_strndup(name, len), field_aliases,
		       sizeof(field_aliases) / sizeof(field_aliases[0]), names,
		       MCPG_ID__COUNT);
	if (hint)
		return hint;
	return " (expected subject_id, tenant, issuer, auth_provider, "
	       "trust_level, groups or scopes)";
}

static const char *
root_hint(const char *name)
{
	const char *names[NROOTS];
	const char *hint;

	for (size_t i = 0; i < NROOTS; i++)
		names[i] = roots[i].name;
	hint = suggest(name, root_aliases,
		       sizeof(root_aliases) / sizeof(root_aliases[0]), names, NROOTS);
	return hint ? hint : " (expected env, arguments or identity)";
}

/* "only ${env.*} is" for the roots in `allowed`. */
static const char *
allowed_text(unsigned allowed)
{
	const char *v[NROOTS];
	size_t n = 0;

	for (size_t i = 0; i < NROOTS; i++)
		if (allowed & roots[i].bit)
			v[n++] = mcc_printf("${%s.*}", roots[i].name);
	if (n == 0)
		return "this value is taken as written (write '$${' for a literal '${')";
	if (n == 1)
		return mcc_printf("only %s is", v[0]);
	if (n == 2)
		return mcc_printf("only %s and %s are", v[0], v[1]);
	return mcc_printf("only %s, %s and %s are", v[0], v[1], v[2]);
}

static void
push(struct mcc_segs *out, enum mcpg_seg_kind kind, const char *text, size_t len,
     size_t off)
{
	if (out->nr == out->alloc) {
		size_t n = out->alloc ? 2 * out->alloc : 4;

		out->v = mcc_grow(out->v, out->nr, n, sizeof(*out->v));
		out->alloc = n;
	}
	out->v[out->nr++] = (struct mcc_seg){ kind, mcc_strndup(text, len), len, off };
}

/* A complaint about byte `at` of the reference starting at `start`. */
static void
unexpected(struct scan *c, size_t start, size_t at, size_t end,
	   const struct root *r)
{
	const char *ref = show(c->s + start, end + 1 - start, 64);
	const char *what = show(c->s + at, 1, 1);

	if (r && r->kind == MCPG_SEG_ENV && c->s[at] == ':')
		err_at(c, at, "unexpected ':' in '%s' (there is no default syntax)",
		       ref);
	else
		err_at(c, at, "unexpected '%s' in '%s'", what, ref);
}

/*
 * The reference s[start] = "${", content s[co..end), s[end] = '}'.  Adds a
 * segment, or reports and returns -1.
 */
static int
parse_ref(struct scan *c, size_t start, size_t co, size_t end, unsigned allowed,
	  struct mcc_segs *out)
{
	const char *s = c->s;
	const struct root *r = NULL;
	size_t i = co, path, ncomp = 0;
	char *name;

	if (co == end) {
		err_at(c, start, "empty '${}'");
		return -1;
	}
	if (!is_start((unsigned char)s[i])) {
		unexpected(c, start, i, end, NULL);
		return -1;
	}
	while (i < end && is_char((unsigned char)s[i]))
		i++;
	name = mcc_strndup(s + co, i - co);
	for (size_t k = 0; k < NROOTS; k++)
		if (!strcmp(name, roots[k].name))
			r = &roots[k];
	if (!r) {
		err_at(c, co, "unknown template root '%s'%s", show(name, i - co, 64),
		       root_hint(name));
		return -1;
	}
	if (!(allowed & r->bit)) {
		err_at(c, co, "'%s' is not available here; %s", r->name,
		       allowed_text(allowed));
		return -1;
	}

	/* The dotted path after the root. */
	path = i + 1;
	while (i < end) {
		if (s[i] != '.' || (ncomp == 1 && r->kind != MCPG_SEG_ARG)) {
			unexpected(c, start, i, end, r);
			return -1;
		}
		i++;
		if (i == end || s[i] == '.') {
			err_at(c, i, "empty name after '.' in '%s'",
			       show(s + start, end + 1 - start, 64));
			return -1;
		}
		if (!is_start((unsigned char)s[i])) {
			unexpected(c, start, i, end, r);
			return -1;
		}
		size_t cs = i;

		while (i < end && is_char((unsigned char)s[i]))
			i++;
		if (r->kind == MCPG_SEG_IDENTITY &&
		    mcpg_identity_field_lookup(s + cs, i - cs) < 0) {
			err_at(c, cs, "unknown identity field '%s'%s",
			       show(s + cs, i - cs, 64),
			       mcc_identity_field_hint(s + cs, i - cs));
			return -1;
		}
		ncomp++;
	}
	if (ncomp == 0 && r->kind == MCPG_SEG_ENV) {
		err_at(c, start, "'${env}' needs a variable name, as in ${env.NAME}");
		return -1;
	}
	if (ncomp == 0 && r->kind == MCPG_SEG_IDENTITY) {
		err_at(c, start,
		       "'${identity}' needs a field, as in ${identity.subject_id}");
		return -1;
	}
	if (ncomp == 0)
		push(out, r->kind, "", 0, start);
	else
		push(out, r->kind, s + path, end - path, start);
	return 0;
}

int
mcc_interp_parse(const char *s, size_t len, unsigned allowed_roots,
		 const char *key, struct mcc_loc loc, struct mcc_diag *d,
		 struct mcc_segs *out)
{
	struct scan c = { s, len, key, loc, d, 0 };
	char *lit = mcc_alloc(len + 1);
	size_t nlit = 0, lit_off = 0, i = 0;

	out->nr = 0;
	while (i < len) {
		if (s[i] == '$' && len - i >= 3 && s[i + 1] == '$' && s[i + 2] == '{') {
			if (!nlit)
				lit_off = i;
			lit[nlit++] = '$';
			lit[nlit++] = '{';
			i += 3;
			continue;
		}
		if (s[i] != '$' || len - i < 2 || s[i + 1] != '{') {
			if (!nlit)
				lit_off = i;
			lit[nlit++] = s[i++];
			continue;
		}
		const char *close = memchr(s + i + 2, '}', len - i - 2);

		if (!close) {
			err_at(&c, i, "unterminated '${'");
			break;
		}
		if (nlit)
			push(out, MCPG_SEG_LIT, lit, nlit, lit_off);
		nlit = 0;
		parse_ref(&c, i, i + 2, (size_t)(close - s), allowed_roots, out);
		i = (size_t)(close - s) + 1;
	}
	if (nlit)
		push(out, MCPG_SEG_LIT, lit, nlit, lit_off);
	return c.nerr ? -1 : 0;
}

int
mcc_interp_needs_parse(const char *s, size_t len)
{
	return memmem(s, len, "${", 2) != NULL;
}

unsigned
mcc_interp_roots(const struct mcc_segs *segs)
{
	unsigned r = 0;

	for (size_t i = 0; i < segs->nr; i++)
		for (size_t k = 0; k < NROOTS; k++)
			if (segs->v[i].kind == roots[k].kind)
				r |= roots[k].bit;
	return r;
}

int
mcc_interp_has_refs(const struct mcc_segs *segs)
{
	return mcc_interp_roots(segs) != 0;
}

const char *
mcc_interp_literal(const struct mcc_segs *segs, size_t *len)
{
	if (mcc_interp_has_refs(segs))
		return NULL;
	/* Literal text is merged, so there is at most one segment. */
	*len = segs->nr ? segs->v[0].len : 0;
	return segs->nr ? segs->v[0].text : "";
}

int
mcc_interp_resolve_env(const struct mcc_segs *segs, char **out,
		       const char **missing)
{
	const char **val = mcc_alloc((segs->nr + 1) * sizeof(*val));
	size_t *vlen = mcc_alloc((segs->nr + 1) * sizeof(*vlen));
	size_t total = 0;
	int nmissing = 0;
	char *p;

	if (missing)
		*missing = NULL;
	for (size_t i = 0; i < segs->nr; i++) {
		const struct mcc_seg *g = &segs->v[i];

		switch (g->kind) {
		case MCPG_SEG_ENV:
			val[i] = getenv(g->text);
			if (!val[i]) {
				if (!nmissing++ && missing)
					*missing = g->text;
				val[i] = "";
			}
			break;
		case MCPG_SEG_ARG:
			val[i] = g->len ? mcc_printf("${arguments.%s}", g->text)
					: "${arguments}";
			break;
		case MCPG_SEG_IDENTITY:
			val[i] = mcc_printf("${identity.%s}", g->text);
			break;
		default:
			val[i] = g->text;
			break;
		}
		vlen[i] = g->kind == MCPG_SEG_LIT ? g->len : strlen(val[i]);
		total += vlen[i];
	}
	*out = p = mcc_alloc(total + 1);
	for (size_t i = 0; i < segs->nr; i++) {
		memcpy(p, val[i], vlen[i]);
		p += vlen[i];
	}
	*p = '\0';
	return nmissing;
}
