/*
 * u-interp.c - ${...} interpolation: parsing (compiler/interp.c), env
 * resolution for `check --env`, and rendering (runtime/template.c).
 *
 * Error cases check the exact message and column; rendering cases go
 * through the same path as an image: parse, intern the segments into a
 * string pool, render from struct mcpg_img_seg.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "test.h"
#include "../../compiler/arena.h"
#include "../../compiler/diag.h"
#include "../../compiler/interp.h"
#include "../../runtime/expr.h"
#include "../../runtime/image_format.h"
#include "../../runtime/schema_desc.h"
#include "../../runtime/strbuf.h"
#include "../../runtime/template.h"

#define ALL (MCPG_ROOT_ENV | MCPG_ROOT_ARGUMENTS | MCPG_ROOT_IDENTITY)
#define LOC ((struct mcc_loc){ "t.yaml", 7, 20 })

static struct mcc_diag d;

static int
parse_key(const char *s, unsigned roots, const char *key, struct mcc_segs *out)
{
	mcc_diag_release(&d);
	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	return mcc_interp_parse(s, strlen(s), roots, key, LOC, &d, out);
}

static int
parse(const char *s, unsigned roots, struct mcc_segs *out)
{
	return parse_key(s, roots, NULL, out);
}

/* A case name on one line. */
static const char *
case_name(const char *prefix, const char *src)
{
	char *out = mcc_alloc(strlen(prefix) + 4 * strlen(src) + 8), *o = out;

	o += sprintf(o, "%s", prefix);
	for (; *src; src++)
		if ((unsigned char)*src < 0x20)
			o += sprintf(o, "\\x%02x", (unsigned char)*src);
		else
			*o++ = *src;
	*o = '\0';
	return out;
}

/* "L:text|E:NAME|A:path|I:field" for a segment list. */
static const char *
segs_text(const struct mcc_segs *s)
{
	static const char kinds[] = "LEAI";
	char *out = mcc_alloc(4096), *o = out;

	for (size_t i = 0; i < s->nr; i++)
		o += snprintf(o, 64 + s->v[i].len, "%s%c:%s@%zu", i ? "|" : "",
			      kinds[s->v[i].kind], s->v[i].text, s->v[i].off);
	*o = '\0';
	return out;
}

/* ------------------------------------------------------------------------
 * Parsing
 */

static const struct {
	const char *src;
	unsigned roots;
	const char *want;
} good[] = {
	{ "", ALL, "" },
	{ "hello", MCPG_ROOT_ENV, "L:hello@0" },
	{ "$${env.X}", MCPG_ROOT_ENV, "L:${env.X}@0" },
	{ "$${env.X}", 0, "L:${env.X}@0" },
	{ "a$b$$c$", 0, "L:a$b$$c$@0" },
	{ "$$${env.A}", MCPG_ROOT_ENV, "L:$${env.A}@0" },
	{ "cost: $5 {x}", 0, "L:cost: $5 {x}@0" },
	{ "x${env.HOME}y", MCPG_ROOT_ENV, "L:x@0|E:HOME@1|L:y@12" },
	{ "${env.A}${env._b9}", MCPG_ROOT_ENV, "E:A@0|E:_b9@8" },
	{ "$${x}${env.A}$${y}", MCPG_ROOT_ENV, "L:${x}@0|E:A@5|L:${y}@13" },
	{ "${arguments.a.b}", ALL, "A:a.b@0" },
	{ "${arguments}", MCPG_ROOT_ARGUMENTS, "A:@0" },
	{ "https://h/t/${identity.subject_id}/x", ALL,
	  "L:https://h/t/@0|I:subject_id@12|L:/x@34" },
	{ "${identity.groups}${identity.trust_level}", MCPG_ROOT_IDENTITY,
	  "I:groups@0|I:trust_level@18" },
};

static void
parse_ok(size_t i)
{
	struct mcc_segs s = { 0 };

	CHECK(parse(good[i].src, good[i].roots, &s) == 0);
	CHECK(d.nr == 0);
	if (d.nr)
		printf("    %s\n", d.v[0].msg);
	CHECK_STR(segs_text(&s), good[i].want);
}

static const struct {
	const char *src;
	unsigned roots;
	int off;
	const char *msg;
} bad[] = {
	{ "abc${env.X", ALL, 3, "unterminated '${'" },
	{ "${", ALL, 0, "unterminated '${'" },
	{ "a${}", ALL, 1, "empty '${}'" },
	{ "${identiy.subject_id}", ALL, 2,
	  "unknown template root 'identiy' (did you mean 'identity'?)" },
	{ "${foo.x}", ALL, 2,
	  "unknown template root 'foo' (expected env, arguments or identity)" },
	{ "${args.x}", ALL, 2, "unknown template root 'args' (did you mean 'arguments'?)" },
	{ "${context.principal_id}", ALL, 2,
	  "unknown template root 'context' (did you mean 'identity'?)" },
	{ "${ENV.X}", ALL, 2, "unknown template root 'ENV' (did you mean 'env'?)" },
	{ "x ${arguments.x}", MCPG_ROOT_ENV, 4,
	  "'arguments' is not available here; only ${env.*} is" },
	{ "${env.X}", 0, 2,
	  "'env' is not available here; this value is taken as written (write "
	  "'$${' for a literal '${')" },
	{ "${identity.tenant}", MCPG_ROOT_ENV | MCPG_ROOT_ARGUMENTS, 2,
	  "'identity' is not available here; only ${env.*} and ${arguments.*} are" },
	{ "${env}", ALL, 0, "'${env}' needs a variable name, as in ${env.NAME}" },
	{ "${env.}", ALL, 6, "empty name after '.' in '${env.}'" },
	{ "${env.A.B}", ALL, 7, "unexpected '.' in '${env.A.B}'" },
	{ "${env.A-B}", ALL, 7, "unexpected '-' in '${env.A-B}'" },
	{ "${env.X:-d}", ALL, 7,
	  "unexpected ':' in '${env.X:-d}' (there is no default syntax)" },
	{ "${ env.X}", ALL, 2, "unexpected ' ' in '${ env.X}'" },
	{ "${env.1X}", ALL, 6, "unexpected '1' in '${env.1X}'" },
	{ "${$env.X}", ALL, 2, "unexpected '$' in '${$env.X}'" },
	{ "${env.A\n}", ALL, 7, "unexpected '\\x0a' in '${env.A\\x0a}'" },
	{ "${identity.subjectid}", ALL, 11,
	  "unknown identity field 'subjectid' (did you mean 'subject_id'?)" },
	{ "${identity.principal_id}", ALL, 11,
	  "unknown identity field 'principal_id' (did you mean 'subject_id'?)" },
	{ "${identity.roles}", ALL, 11,
	  "unknown identity field 'roles' (expected subject_id, tenant, issuer, "
	  "auth_provider, trust_level, groups or scopes)" },
	{ "${identity}", ALL, 0,
	  "'${identity}' needs a field, as in ${identity.subject_id}" },
	{ "${identity.groups.x}", ALL, 17, "unexpected '.' in '${identity.groups.x}'" },
	{ "${arguments..a}", ALL, 12, "empty name after '.' in '${arguments..a}'" },
	{ "${arguments.a.}", ALL, 14, "empty name after '.' in '${arguments.a.}'" },
	{ "${arguments.a-b}", ALL, 13, "unexpected '-' in '${arguments.a-b}'" },
	{ "${env.${X}}", ALL, 6, "unexpected '$' in '${env.${X}'" },
};

static void
parse_error(size_t i)
{
	struct mcc_segs s = { 0 };

	CHECK(parse(bad[i].src, bad[i].roots, &s) == -1);
	CHECK(d.nerrors == 1);
	if (d.nr < 1)
		return;
	CHECK_STR(d.v[0].msg, bad[i].msg);
	CHECK(d.v[0].loc.line == 7);
	CHECK(d.v[0].loc.col == 20 + bad[i].off);
	if (d.v[0].loc.col != 20 + bad[i].off)
		printf("    column %d, want %d\n", d.v[0].loc.col, 20 + bad[i].off);
}

static void
several_errors_key_and_col0(void)
{
	struct mcc_segs s = { 0 };

	CHECK(parse_key("${x} ${env.} ok ${env.Y", ALL, "backend.url", &s) == -1);
	CHECK(d.nerrors == 3);
	if (d.nr == 3) {
		CHECK_STR(d.v[0].msg, "'backend.url': unknown template root 'x' "
				      "(expected env, arguments or identity)");
		CHECK_STR(d.v[1].msg, "'backend.url': empty name after '.' in '${env.}'");
		CHECK_STR(d.v[2].msg, "'backend.url': unterminated '${'");
		CHECK(d.v[0].loc.col == 22 && d.v[1].loc.col == 31 &&
		      d.v[2].loc.col == 36);
	}
	/* The good parts still come out. */
	CHECK_STR(segs_text(&s), "L: @4|L: ok @12");

	mcc_diag_release(&d);
	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	CHECK(mcc_interp_parse("${x}", 4, ALL, NULL, (struct mcc_loc){ "f", 2, 0 },
			       &d, &s) == -1);
	CHECK(d.nr == 1 && d.v[0].loc.line == 2 && d.v[0].loc.col == 0);

	/* Only len bytes are read. */
	CHECK(parse("x", ALL, &s) == 0);
	mcc_diag_release(&d);
	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	CHECK(mcc_interp_parse("${env.A}${", 8, ALL, NULL, LOC, &d, &s) == 0);
	CHECK_STR(segs_text(&s), "E:A@0");
	/* A reused list is emptied first. */
	CHECK(parse("", ALL, &s) == 0 && s.nr == 0);
}

static void
helpers(void)
{
	struct mcc_segs s = { 0 };
	size_t len = 99;

	CHECK(mcc_interp_needs_parse("a${b", 4));
	CHECK(mcc_interp_needs_parse("$${", 3));
	CHECK(!mcc_interp_needs_parse("a$b{c}", 6));
	CHECK(!mcc_interp_needs_parse("a${", 2));

	CHECK(parse("$${lit}", ALL, &s) == 0);
	CHECK(!mcc_interp_has_refs(&s));
	CHECK(mcc_interp_roots(&s) == 0);
	CHECK_STR(mcc_interp_literal(&s, &len), "${lit}");
	CHECK(len == 6);

	CHECK(parse("", ALL, &s) == 0);
	CHECK_STR(mcc_interp_literal(&s, &len), "");
	CHECK(len == 0);

	CHECK(parse("${env.A}/${identity.tenant}", ALL, &s) == 0);
	CHECK(mcc_interp_has_refs(&s));
	CHECK(mcc_interp_roots(&s) == (MCPG_ROOT_ENV | MCPG_ROOT_IDENTITY));
	CHECK(mcc_interp_literal(&s, &len) == NULL);
	CHECK(parse("${arguments}", ALL, &s) == 0);
	CHECK(mcc_interp_roots(&s) == MCPG_ROOT_ARGUMENTS);
}

static void
resolve_env(void)
{
	struct mcc_segs s = { 0 };
	const char *missing = "x";
	char *out = NULL;

	setenv("MCPG_T_A", "1", 1);
	setenv("MCPG_T_E", "", 1);
	unsetenv("MCPG_T_B");
	unsetenv("MCPG_T_C");
	CHECK(parse("a${env.MCPG_T_A}b${env.MCPG_T_B}${arguments.x}$${"
		    "${env.MCPG_T_C}${identity.tenant}${arguments}[${env.MCPG_T_E}]",
		    ALL, &s) == 0);
	CHECK(mcc_interp_resolve_env(&s, &out, &missing) == 2);
	CHECK_STR(missing, "MCPG_T_B");
	CHECK_STR(out, "a1b${arguments.x}${${identity.tenant}${arguments}[]");

	CHECK(parse("${env.MCPG_T_A}", ALL, &s) == 0);
	CHECK(mcc_interp_resolve_env(&s, &out, &missing) == 0);
	CHECK(missing == NULL);
	CHECK_STR(out, "1");
	CHECK(mcc_interp_resolve_env(&s, &out, NULL) == 0);
}

/* ------------------------------------------------------------------------
 * Rendering
 */

static struct pool {
	unsigned char buf[1 << 16];
	size_t len;
} pool = { .len = 4 };

static uint32_t
intern(const char *s, size_t len)
{
	uint32_t ref = (uint32_t)pool.len;

	mcpg_put_le32(pool.buf + ref, (uint32_t)len);
	memcpy(pool.buf + ref + 4, s, len);
	pool.buf[ref + 4 + len] = 0;
	pool.len = (ref + 4 + len + 1 + 3) & ~(size_t)3;
	return ref;
}

static const char *
str(void *ctx, uint32_t ref)
{
	size_t r = ref;

	(void)ctx;
	if (r < 4 || r % 4 || r + 5 > pool.len)
		return NULL;
	return (const char *)pool.buf + r + 4;
}

static const char *
env(void *ctx, const char *name)
{
	(void)ctx;
	if (!strcmp(name, "BASE"))
		return "https://api.example.com/v1";
	if (!strcmp(name, "TOKEN"))
		return "s3cret";
	if (!strcmp(name, "BAD"))
		return "a\r\nb";
	return NULL;
}

static const char *const groups[] = { "admins", "a\"b" };
static const char *const scopes[] = { "read" };
static const struct mcpg_identity_view alice = {
	.subject_id = "alice@example.com", .tenant = "acme", .issuer = "https://idp",
	.auth_provider = "jwks", .trust_level = MCPG_TRUST_VERIFIED,
	.groups = groups, .ngroups = 2, .scopes = scopes, .nscopes = 1,
};
static const struct mcpg_identity_view evil = {
	.subject_id = "..", .tenant = "x\r\nSet-Cookie: a=b",
	.trust_level = MCPG_TRUST_HEADER_ASSERTED,
};

static const char *args_json =
	"{\"id\": \"a/b c\", \"q\": \"x&y=z#f\", \"dots\": \"..\", \"dot\": \".\","
	" \"n\": 1.5, \"i\": -3, \"t\": true, \"f\": false, \"z\": null, \"r\": 0.1,"
	" \"big\": 1e300, \"three\": 3.0,"
	" \"o\": {\"k\": [1, \"x\\\"y\", {\"u\": \"\\u00e9\\n\"}]}, \"arr\": [],"
	" \"crlf\": \"a\\r\\nX-Evil: 1\", \"tab\": \"a\\tb\", \"nul\": \"a\\u0000b\","
	" \"a\": {\"b\": {\"c\": \"deep\"}, \"s\": \"str\"}, \"uni\": \"\\u00e9\"}";

static const struct {
	const char *name;
	const char *tmpl;
	unsigned flags;
	int id;       /* 0 alice, 1 anonymous, 2 evil */
	int noargs;   /* render with arguments NULL */
	int rc;
	const char *want; /* the output, or the error message */
} rcases[] = {
	{ "literal", "plain $${text}", 0, 0, 0, 0, "plain ${text}" },
	{ "url-encode", "https://h/t/${arguments.id}/x?q=${arguments.q}",
	  MCPG_TMPL_URL, 0, 0, 0, "https://h/t/a%2Fb%20c/x?q=x%26y%3Dz%23f" },
	{ "url-unicode", "/${arguments.uni}", MCPG_TMPL_URL, 0, 0, 0, "/%C3%A9" },
	{ "raw-no-encode", "${arguments.id}|${arguments.q}", 0, 0, 0, 0,
	  "a/b c|x&y=z#f" },
	{ "url-dotdot", "https://h/t/${arguments.dots}/delete", MCPG_TMPL_URL, 0,
	  0, MCPG_TMPL_E_ARGUMENT, "argument 'dots' is '..', which cannot go in a URL" },
	{ "url-dot", "/${arguments.dot}", MCPG_TMPL_URL, 0, 0, MCPG_TMPL_E_ARGUMENT,
	  "argument 'dot' is '.', which cannot go in a URL" },
	{ "raw-dotdot-ok", "${arguments.dots}", 0, 0, 0, 0, ".." },
	{ "missing", "/t/${arguments.tenant_id}", MCPG_TMPL_URL, 0, 0,
	  MCPG_TMPL_E_ARGUMENT, "missing argument 'tenant_id'" },
	{ "missing-noargs", "/t/${arguments.tenant_id}", 0, 0, 1,
	  MCPG_TMPL_E_ARGUMENT, "missing argument 'tenant_id'" },
	{ "nested", "${arguments.a.b.c}", 0, 0, 0, 0, "deep" },
	{ "nested-object", "${arguments.a.b}", 0, 0, 0, 0, "{\"c\":\"deep\"}" },
	{ "nested-missing", "${arguments.a.x.c}", 0, 0, 0, MCPG_TMPL_E_ARGUMENT,
	  "missing argument 'a.x.c'" },
	{ "not-object", "${arguments.a.s.t}", 0, 0, 0, MCPG_TMPL_E_ARGUMENT,
	  "argument 'a.s' is not an object, so 'a.s.t' cannot be read" },
	{ "scalars",
	  "${arguments.n} ${arguments.i} ${arguments.t} ${arguments.f} "
	  "${arguments.z} ${arguments.r} ${arguments.big} ${arguments.three}",
	  0, 0, 0, 0, "1.5 -3 true false null 0.1 1e+300 3" },
	{ "object", "${arguments.o}", 0, 0, 0, 0,
	  "{\"k\":[1,\"x\\\"y\",{\"u\":\"\xc3\xa9\\n\"}]}" },
	{ "object-url", "?o=${arguments.o}", MCPG_TMPL_URL, 0, 0, 0,
	  "?o=%7B%22k%22%3A%5B1%2C%22x%5C%22y%22%2C%7B%22u%22%3A%22%C3%A9%5Cn%22%7D%5D%7D" },
	{ "array", "${arguments.arr}", 0, 0, 0, 0, "[]" },
	{ "whole", "${arguments}", 0, 0, 1, 0, "{}" },
	{ "header-crlf", "Bearer ${arguments.crlf}", MCPG_TMPL_HEADER, 0, 0,
	  MCPG_TMPL_E_ARGUMENT,
	  "argument 'crlf' contains a control character, which cannot go in a header" },
	{ "header-tab-ok", "${arguments.tab}", MCPG_TMPL_HEADER, 0, 0, 0, "a\tb" },
	{ "raw-crlf-ok", "${arguments.crlf}", 0, 0, 0, 0, "a\r\nX-Evil: 1" },
	{ "nul", "${arguments.nul}", 0, 0, 0, MCPG_TMPL_E_ARGUMENT,
	  "argument 'nul' contains a NUL byte" },
	{ "header-object-escaped", "${arguments.o}", MCPG_TMPL_HEADER, 0, 0, 0,
	  "{\"k\":[1,\"x\\\"y\",{\"u\":\"\xc3\xa9\\n\"}]}" },
	{ "identity", "/t/${identity.subject_id}/${identity.tenant}", MCPG_TMPL_URL,
	  0, 0, 0, "/t/alice%40example.com/acme" },
	{ "identity-fields",
	  "${identity.issuer} ${identity.auth_provider} ${identity.trust_level} "
	  "${identity.groups} ${identity.scopes}",
	  0, 0, 0, 0, "https://idp jwks verified [\"admins\",\"a\\\"b\"] [\"read\"]" },
	{ "identity-anonymous", "https://internal/api/tenants/${identity.subject_id}",
	  MCPG_TMPL_URL, 1, 0, MCPG_TMPL_E_IDENTITY,
	  "identity field 'subject_id' is empty" },
	{ "identity-anonymous-lists", "${identity.groups}${identity.trust_level}", 0,
	  1, 0, 0, "[]unauthenticated" },
	{ "identity-dotdot", "/t/${identity.subject_id}", MCPG_TMPL_URL, 2, 0,
	  MCPG_TMPL_E_IDENTITY, "identity field 'subject_id' is '..', which cannot "
				"go in a URL" },
	{ "identity-header", "${identity.tenant}", MCPG_TMPL_HEADER, 2, 0,
	  MCPG_TMPL_E_IDENTITY, "identity field 'tenant' contains a control "
				"character, which cannot go in a header" },
	{ "env-raw-in-url", "${env.BASE}/t/${arguments.id}", MCPG_TMPL_URL, 0, 0,
	  0, "https://api.example.com/v1/t/a%2Fb%20c" },
	{ "env-header", "Bearer ${env.TOKEN}", MCPG_TMPL_HEADER, 0, 0, 0,
	  "Bearer s3cret" },
	{ "env-unset", "${env.NOPE}", 0, 0, 0, MCPG_TMPL_E_ENV,
	  "environment variable 'NOPE' is not set" },
	{ "env-header-ctl", "${env.BAD}", MCPG_TMPL_HEADER, 0, 0, MCPG_TMPL_E_ENV,
	  "environment variable 'BAD' contains a control character, which cannot "
	  "go in a header" },
};

static void
render_case(size_t i)
{
	const struct mcpg_identity_view *ids[] = { &alice, NULL, &evil };
	struct mcc_segs s = { 0 };
	struct mcpg_img_seg segs[32];
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	json_t *args = json_loads(args_json, JSON_ALLOW_NUL, NULL);
	struct mcpg_tmpl_in in = { str, env, NULL,
				   rcases[i].noargs ? NULL : args, ids[rcases[i].id] };
	int rc;

	CHECK(args != NULL);
	CHECK(parse(rcases[i].tmpl, ALL, &s) == 0);
	CHECK(s.nr <= 32);
	for (size_t k = 0; k < s.nr; k++) {
		segs[k] = (struct mcpg_img_seg){ (uint8_t)s.v[k].kind, { 0 }, 0 };
		segs[k].str = intern(s.v[k].text, s.v[k].len);
	}
	strbuf_addstr(&out, "prefix:");
	rc = mcpg_template_render(segs, s.nr, &in, rcases[i].flags, &out, &err);
	CHECK(rc == rcases[i].rc);
	if (rc) {
		CHECK_STR(err.buf, rcases[i].want);
		CHECK_STR(out.buf, "prefix:");
	} else {
		CHECK(err.len == 0);
		CHECK(!strncmp(out.buf, "prefix:", 7));
		CHECK_STR(out.buf + 7, rcases[i].want);
	}
	strbuf_release(&out);
	strbuf_release(&err);
	json_decref(args);
}

static void
render_bad_image(void)
{
	struct mcpg_img_seg segs[2] = { { MCPG_SEG_LIT, { 0 }, 0 } };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	struct mcpg_tmpl_in in = { str, env, NULL, NULL, NULL };

	segs[0].str = intern("x", 1);
	segs[1] = segs[0];
	segs[1].kind = 9;
	CHECK(mcpg_template_render(segs, 2, &in, 0, &out, &err) == MCPG_TMPL_E_IMAGE);
	CHECK_STR(err.buf, "segment 1: unknown kind 9");
	CHECK(out.len == 0);
	strbuf_reset(&err);
	segs[1] = segs[0];
	segs[1].str = 3;
	CHECK(mcpg_template_render(segs, 2, &in, 0, &out, &err) == MCPG_TMPL_E_IMAGE);
	CHECK_STR(err.buf, "segment 1: bad string reference");
	strbuf_reset(&err);
	segs[1].kind = MCPG_SEG_IDENTITY;
	segs[1].str = intern("nope", 4);
	CHECK(mcpg_template_render(segs, 2, &in, 0, &out, &err) == MCPG_TMPL_E_IMAGE);
	CHECK_STR(err.buf, "unknown identity field 'nope'");
	CHECK(mcpg_template_render(segs, 0, &in, 0, &out, &err) == MCPG_TMPL_OK);
	CHECK(out.len == 0);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void
strbuf_basics(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *p;
	size_t len;

	CHECK_STR(sb.buf, "");
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%d-%s", 42, "x");
	CHECK_STR(sb.buf, "42-x");
	for (int i = 0; i < 1000; i++)
		strbuf_addch(&sb, 'a' + i % 26);
	CHECK(sb.len == 1004 && sb.buf[1004] == '\0');
	strbuf_addf(&sb, "%2000s", "");
	CHECK(sb.len == 3004);
	strbuf_setlen(&sb, 2);
	CHECK_STR(sb.buf, "42");
	p = strbuf_detach(&sb, &len);
	CHECK_STR(p, "42");
	CHECK(len == 2);
	free(p);
	CHECK_STR(sb.buf, "");
	p = strbuf_detach(&sb, &len);
	CHECK_STR(p, "");
	free(p);
	strbuf_init(&sb, 10);
	CHECK(sb.alloc >= 11 && sb.len == 0);
	strbuf_addf(&sb, "%s", "");
	CHECK_STR(sb.buf, "");
	strbuf_release(&sb);
	strbuf_release(&sb);
}

int
main(void)
{
	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		TEST_NAMED(case_name("parse: ", *good[i].src ? good[i].src : "(empty)"),
			   parse_ok, i);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TEST_NAMED(case_name("parse error: ", bad[i].src), parse_error, i);
	TEST(several_errors_key_and_col0);
	TEST(helpers);
	TEST(resolve_env);
	for (size_t i = 0; i < sizeof(rcases) / sizeof(rcases[0]); i++)
		TEST_NAMED(mcc_printf("render: %s", rcases[i].name), render_case, i);
	TEST(render_bad_image);
	TEST(strbuf_basics);
	mcc_diag_release(&d);
	mcc_arena_free_all();
	return test_done();
}
