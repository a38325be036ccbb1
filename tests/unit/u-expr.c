/*
 * u-expr.c - allow_if expressions: compile (compiler/allow_if.c), verify and
 * evaluate (runtime/expr.c).
 *
 * Error cases check the exact message and column; round trips compile,
 * verify and evaluate over three identities; the verifier is fed
 * hand-written, truncated and garbled bytecode.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "../../compiler/arena.h"
#include "../../compiler/diag.h"
#include "allow_if.h"
#include "expr.h"
#include "../../runtime/image_format.h"

/* ------------------------------------------------------------------------
 * A string pool laid out like STRS: u32 len, bytes, NUL, pad to 4.
 */

static struct pool {
	unsigned char buf[1 << 16];
	size_t len;
	int ninterns;
} pool;

static void
pool_reset(void)
{
	memset(&pool, 0, sizeof(pool));
	pool.len = 4;
}

static uint32_t
intern(void *ctx, const char *s, size_t len)
{
	struct pool *p = ctx;
	uint32_t ref = (uint32_t)p->len;

	mcpg_put_le32(p->buf + ref, (uint32_t)len);
	memcpy(p->buf + ref + 4, s, len);
	p->buf[ref + 4 + len] = 0;
	p->len = (ref + 4 + len + 1 + 3) & ~(size_t)3;
	p->ninterns++;
	return ref;
}

static const char *
str(void *ctx, uint32_t ref)
{
	struct pool *p = ctx;
	size_t r = ref, n;

	if (r < 4 || r % 4 || r + 5 > p->len)
		return NULL;
	n = mcpg_le32(p->buf + r);
	if (n > p->len - r - 5 || p->buf[r + 4 + n])
		return NULL;
	return (const char *)p->buf + r + 4;
}

/* ------------------------------------------------------------------------
 * Helpers
 */

/* A case name on one line: control characters as \xNN. */
static const char *
case_name(const char *prefix, const char *src)
{
	char *out = mcc_alloc(strlen(prefix) + 4 * strlen(src) + 1), *o = out;

	o += sprintf(o, "%s", prefix);
	if (!*src)
		o += sprintf(o, "(empty)");
	for (; *src; src++)
		if ((unsigned char)*src < 0x20)
			o += sprintf(o, "\\x%02x", (unsigned char)*src);
		else
			*o++ = *src;
	*o = '\0';
	return out;
}

static struct mcc_diag d;
#define LOC ((struct mcc_loc){ "t.yaml", 3, 10 })

static int
compile_key(const char *src, size_t len, const char *key, struct mcc_bytes *code)
{
	mcc_diag_release(&d);
	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	return mcc_expr_compile(src, len, key, LOC, &d, code, intern, &pool);
}

static int
compile(const char *src, struct mcc_bytes *code)
{
	return compile_key(src, strlen(src), NULL, code);
}

static const char *const alice_groups[] = { "tenant_admins", "dev" };
static const char *const alice_scopes[] = { "read", "write" };
static const char *const bob_groups[] = { "dev" };
static const char *const bob_scopes[] = { "read" };

static const struct mcpg_identity_view alice = {
	.subject_id = "alice", .tenant = "acme", .issuer = "https://idp",
	.auth_provider = "jwks", .trust_level = MCPG_TRUST_VERIFIED,
	.groups = alice_groups, .ngroups = 2, .scopes = alice_scopes, .nscopes = 2,
};
static const struct mcpg_identity_view bob = {
	.subject_id = "bob", .tenant = "globex", .auth_provider = "header",
	.trust_level = MCPG_TRUST_HEADER_ASSERTED,
	.groups = bob_groups, .ngroups = 1, .scopes = bob_scopes, .nscopes = 1,
};

/* ------------------------------------------------------------------------
 * Round trips: compile -> verify -> eval for alice, bob, anonymous.
 */

static const struct {
	const char *src;
	int want[3];
} rt[] = {
	{ "\"tenant_admins\" in identity.groups", { 1, 0, 0 } },
	{ "identity.tenant == \"acme\" && \"write\" in identity.scopes", { 1, 0, 0 } },
	{ "identity.trust_level >= \"header_asserted\"", { 1, 1, 0 } },
	{ "identity.trust_level > \"header_asserted\"", { 1, 0, 0 } },
	{ "identity.trust_level < \"verified\"", { 0, 1, 1 } },
	{ "identity.trust_level <= \"unauthenticated\"", { 0, 0, 1 } },
	{ "identity.trust_level != \"verified\"", { 0, 1, 1 } },
	{ "\"verified\" == identity.trust_level", { 1, 0, 0 } },
	{ "identity.trust_level == identity.trust_level", { 1, 1, 1 } },
	{ "!(\"dev\" in identity.groups)", { 0, 0, 1 } },
	{ "!!(\"dev\" in identity.groups)", { 1, 1, 0 } },
	{ "identity.tenant in [\"acme\", \"globex\",]", { 1, 1, 0 } },
	{ "identity.tenant in []", { 0, 0, 0 } },
	{ "identity.subject_id == \"\"", { 0, 0, 1 } },
	{ "identity.subject_id != identity.tenant", { 1, 1, 0 } },
	{ "identity.issuer == \"https://idp\" || identity.auth_provider == \"header\"",
	  { 1, 1, 0 } },
	{ "identity.tenant == 'acme' || identity.tenant == 'globex'", { 1, 1, 0 } },
	{ "identity.tenant ==\n  \"acme\"", { 1, 0, 0 } },
	{ "identity.subject_id in identity.groups", { 0, 0, 0 } },
	{ "\"read\" in identity.scopes && !(\"write\" in identity.scopes)", { 0, 1, 0 } },
	{ "true", { 1, 1, 1 } },
	{ "false || !true", { 0, 0, 0 } },
	{ "(true == false) == false", { 1, 1, 1 } },
	{ "true != false && false == false", { 1, 1, 1 } },
	{ "1 < 2 && -5 <= -5 && 3 > 2 && 3 >= 3 && 7 != 8 && 9 == 9", { 1, 1, 1 } },
	{ "-9223372036854775808 < 9223372036854775807", { 1, 1, 1 } },
	{ "'it\\'s' == \"it's\" && \"a\\\"b\\\\\" == 'a\"b\\\\'", { 1, 1, 1 } },
	{ "\"\\u00e9\\u20ac\" == \"\xc3\xa9\xe2\x82\xac\"", { 1, 1, 1 } },
	{ "\"\\n\\t\\r\" == '\\n\\t\\r'", { 1, 1, 1 } },
	{ "((((identity.tenant == \"acme\"))))", { 1, 0, 0 } },
	{ "identity.tenant == \"acme\" || identity.tenant == \"globex\" && false",
	  { 1, 0, 0 } },
};

static void
round_trip(size_t i)
{
	const struct mcpg_identity_view *ids[3] = { &alice, &bob, NULL };
	struct mcc_bytes code = { 0 };
	size_t off = 99;

	pool_reset();
	CHECK(compile(rt[i].src, &code) == 0);
	CHECK(d.nr == 0);
	if (d.nr)
		printf("    %s\n", d.v[0].msg);
	CHECK(mcpg_expr_verify(code.buf, code.len, str, &pool, &off) == 0);
	for (int k = 0; k < 3; k++) {
		int r = mcpg_expr_eval(code.buf, code.len, ids[k], str, &pool);

		if (r != rt[i].want[k]) {
			printf("    identity %d: got %d, want %d\n", k, r, rt[i].want[k]);
			test_failed_now = 1;
		}
	}
}

/* The bytecode itself, for a few expressions. */
static void
disasm_is(const char *src, const char *want)
{
	struct mcc_bytes code = { 0 };
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	pool_reset();
	CHECK(compile(src, &code) == 0);
	CHECK(mcpg_expr_disasm(code.buf, code.len, str, &pool, f) == 0);
	fclose(f);
	CHECK_STR(buf, want);
	free(buf);
}

static void
bytecode_shapes(void)
{
	disasm_is("\"tenant_admins\" in identity.groups",
		  "0000 STR \"tenant_admins\"\n"
		  "0005 IN_FIELD groups\n");
	disasm_is("identity.tenant != \"a\"",
		  "0000 FIELD tenant\n"
		  "0002 STR \"a\"\n"
		  "0007 EQ_STR\n"
		  "0008 NOT\n");
	disasm_is("identity.trust_level > \"header_asserted\"",
		  "0000 INT 1\n"
		  "0009 FIELD trust_level\n"
		  "000b LT_INT\n");
	disasm_is("identity.tenant in ['a', \"b\"] || true",
		  "0000 FIELD tenant\n"
		  "0002 IN_STRS 2 \"a\" \"b\"\n"
		  "000d TRUE\n"
		  "000e OR\n");
	disasm_is("!(true == false)",
		  "0000 TRUE\n0001 FALSE\n0002 EQ_BOOL\n0003 NOT\n");
}

/* ------------------------------------------------------------------------
 * Compile errors: message and column (LOC.col is 10, so col = 10 + offset).
 */

static const struct {
	const char *src;
	int off;
	const char *msg;
	int nerr; /* errors expected */
} bad[] = {
	{ "", 0, "empty expression", 1 },
	{ "   ", 0, "empty expression", 1 },
	{ "\"a\" in identity.grups", 16,
	  "unknown identity field 'grups' (did you mean 'groups'?)", 1 },
	{ "\"a\" in identiy.groups", 7,
	  "unknown name 'identiy' (did you mean 'identity'?)", 1 },
	{ "identity.roles == \"x\"", 9,
	  "unknown identity field 'roles' (expected subject_id, tenant, issuer, "
	  "auth_provider, trust_level, groups or scopes)", 1 },
	{ "identity.principal_id == \"x\"", 9,
	  "unknown identity field 'principal_id' (did you mean 'subject_id'?)", 1 },
	{ "principal_id == \"x\"", 0,
	  "unknown name 'principal_id' (did you mean 'identity.subject_id'?)", 1 },
	{ "\"g\" in groups", 7, "unknown name 'groups' (did you mean 'identity.groups'?)", 1 },
	{ "arguments.x == \"a\"", 0,
	  "'arguments' is not available in allow_if; only identity.* is", 1 },
	{ "true and false", 5,
	  "unexpected 'and' after the expression (did you mean '&&'?)", 1 },
	{ "true or false", 5,
	  "unexpected 'or' after the expression (did you mean '||'?)", 1 },
	{ "not true", 0, "unknown name 'not' (did you mean '!'?)", 2 },
	{ "a == b", 0, "unknown name 'a'", 2 },
	{ "identity", 0, "'identity' needs a field, as in identity.subject_id", 1 },
	{ "identity.", 9,
	  "expected a field name after 'identity.', found end of expression", 1 },
	{ "identity.groups", 0, "expression must be a bool, found list<string>", 1 },
	{ "  identity.tenant", 2, "expression must be a bool, found string", 1 },
	{ "42", 0, "expression must be a bool, found int", 1 },
	{ "identity.groups == \"a\"", 16,
	  "'==' cannot compare lists; use 'in' to test membership", 1 },
	{ "\"a\" in identity.tenant", 4,
	  "'in' needs a list on the right (identity.groups, identity.scopes or "
	  "[...]), found string", 1 },
	{ "1 in identity.groups", 2, "'in' needs a string on the left, found int", 1 },
	{ "identity.tenant == 1", 16, "'==' cannot compare string with int", 1 },
	{ "identity.tenant != true", 16, "'!=' cannot compare string with bool", 1 },
	{ "identity.tenant < \"b\"", 16, "'<' needs ints or trust levels, found string", 1 },
	{ "true >= false", 5, "'>=' needs ints or trust levels, found bool", 1 },
	{ "identity.trust_level == \"verifed\"", 24,
	  "'verifed' is not a trust level (did you mean 'verified'?)", 1 },
	{ "\"admin\" <= identity.trust_level", 0,
	  "'admin' is not a trust level (expected unauthenticated, "
	  "header_asserted or verified)", 1 },
	{ "identity.trust_level == 2", 21,
	  "'==' cannot compare trust level with int", 1 },
	{ "identity.trust_level == identity.tenant", 21,
	  "'==' cannot compare trust level with string", 1 },
	{ "!\"a\" in identity.groups", 0,
	  "'!' needs a bool, found string (write !(a in b) to negate a comparison)", 1 },
	{ "!identity.tenant", 0, "'!' needs a bool, found string", 1 },
	{ "true && \"x\"", 5, "'&&' needs bool operands, found string on the right", 1 },
	{ "\"x\" || true", 4, "'||' needs bool operands, found string on the left", 1 },
	{ "1 == \"a\" && 2 == true", 2, "'==' cannot compare int with string", 2 },
	{ "true &&", 7, "expected an expression after '&&'", 1 },
	{ "&& true", 0, "expected an expression, found '&&'", 1 },
	{ "in", 0, "expected an expression, found 'in'", 1 },
	{ "(true", 5, "expected ')', found end of expression", 1 },
	{ "true)", 4, "unexpected ')' after the expression", 1 },
	{ "1 == 1 == 1", 7, "comparison operators do not chain; add parentheses", 1 },
	{ "true & false", 5, "unexpected '&' (did you mean '&&'?)", 1 },
	{ "true | false", 5, "unexpected '|' (did you mean '||'?)", 1 },
	{ "identity.tenant = \"a\"", 16, "unexpected '=' (did you mean '=='?)", 1 },
	{ "\"abc", 0, "unterminated string", 1 },
	{ "'abc\\'", 0, "unterminated string", 1 },
	{ "\"a\\qb\" == \"x\"", 2, "unknown escape '\\q' in string", 1 },
	{ "\"\\u12\" == \"\"", 1, "'\\u' needs four hex digits", 1 },
	{ "\"\\u0000\" == \"\"", 1, "'\\u0000' is not allowed in a string", 1 },
	{ "\"\\ud800\" == \"\"", 1, "surrogate '\\ud800' is not allowed in a string", 1 },
	{ "\"a\tb\" == \"\"", 2,
	  "control character '\\x09' in string (write \\n, \\t or \\uXXXX)", 1 },
	{ "99999999999999999999 == 1", 0,
	  "integer '99999999999999999999' is out of range", 1 },
	{ "-9223372036854775809 == 1", 0,
	  "integer '-9223372036854775809' is out of range", 1 },
	{ "true @", 5, "unexpected character '@'", 1 },
	{ "true \xc3\xa9", 5, "unexpected character '\\xc3'", 1 },
	{ "- 1 == 1", 0, "unexpected character '-'", 1 },
	{ "identity.tenant in [1]", 20,
	  "list elements must be string literals, found '1'", 1 },
	{ "identity.tenant in [\"a\" \"b\"]", 24, "expected ',' or ']', found '\"b\"'", 1 },
	{ "identity.tenant in [\"a\"", 23, "expected ']', found end of expression", 1 },
	{ "identity.tenant in [", 20, "expected ']', found end of expression", 1 },
	{ "identity.subject_id.startsWith(\"a\")", 19,
	  "unexpected '.' after the expression", 1 },
	{ "[\"a\"] == [\"a\"]", 6,
	  "'==' cannot compare lists; use 'in' to test membership", 1 },
};

static void
compile_error(size_t i)
{
	struct mcc_bytes code = { 0 };
	int want = bad[i].nerr;

	pool_reset();
	CHECK(compile(bad[i].src, &code) == -1);
	CHECK(code.len == 0);
	CHECK(pool.ninterns == 0);
	CHECK(d.nerrors == want);
	if (d.nerrors != want)
		printf("    %d errors, want %d\n", d.nerrors, want);
	CHECK(d.nr >= 1);
	if (d.nr < 1)
		return;
	CHECK_STR(d.v[0].msg, bad[i].msg);
	CHECK(d.v[0].loc.line == 3);
	CHECK(d.v[0].loc.col == 10 + bad[i].off);
	if (d.v[0].loc.col != 10 + bad[i].off)
		printf("    column %d, want %d\n", d.v[0].loc.col, 10 + bad[i].off);
}

static void
error_note_and_key(void)
{
	struct mcc_bytes code = { 0 };
	const char *key = "mcp.capabilities.tools[0].governance.allow_if";

	pool_reset();
	CHECK(compile_key("(true && (false", 15, key, &code) == -1);
	CHECK(d.nr == 2);
	if (d.nr != 2)
		return;
	CHECK_STR(d.v[0].msg, "'mcp.capabilities.tools[0].governance.allow_if': "
			      "expected ')', found end of expression");
	CHECK(d.v[0].loc.col == 25);
	CHECK(d.v[1].sev == MCC_SEV_NOTE);
	CHECK_STR(d.v[1].msg, "to match this '('");
	CHECK(d.v[1].loc.col == 19);

	/* Column 0 (unknown) stays 0; the line is kept. */
	mcc_diag_release(&d);
	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	CHECK(mcc_expr_compile("true &&", 7, NULL, (struct mcc_loc){ "t.yaml", 4, 0 },
			       &d, &code, intern, &pool) == -1);
	CHECK(d.nr == 1 && d.v[0].loc.line == 4 && d.v[0].loc.col == 0);

	/* Not NUL-terminated: only len bytes are read. */
	CHECK(compile_key("true && garbage", 4, NULL, &code) == 0);
	CHECK(code.len == 1 && code.buf[0] == MCPG_OP_TRUE);
}

static void
appends_to_code(void)
{
	struct mcc_bytes code = { 0 };

	pool_reset();
	CHECK(compile("true", &code) == 0);
	CHECK(compile("false", &code) == 0);
	CHECK(code.len == 2);
	CHECK(code.buf[0] == MCPG_OP_TRUE && code.buf[1] == MCPG_OP_FALSE);
	CHECK(compile("\"a\" in identity.x", &code) == -1);
	CHECK(code.len == 2);
	CHECK(mcpg_expr_verify(code.buf + 1, 1, str, &pool, NULL) == 0);
}

static void
limits(void)
{
	struct mcc_bytes code = { 0 };
	char src[8192];
	int n;

	/* 32 nested levels are fine, 33 are not. */
	n = 0;
	for (int i = 0; i < 32; i++)
		src[n++] = '(';
	n += sprintf(src + n, "true");
	for (int i = 0; i < 32; i++)
		src[n++] = ')';
	src[n] = '\0';
	pool_reset();
	CHECK(compile(src, &code) == 0);

	n = 0;
	for (int i = 0; i < 33; i++)
		src[n++] = '(';
	n += sprintf(src + n, "true");
	for (int i = 0; i < 33; i++)
		src[n++] = ')';
	src[n] = '\0';
	CHECK(compile(src, &code) == -1);
	CHECK(d.nr == 1);
	CHECK_STR(d.nr ? d.v[0].msg : NULL,
		  "expression nests too deeply (more than 32 levels)");
	CHECK(d.nr && d.v[0].loc.col == 10 + 32);

	memset(src, '!', 40);
	strcpy(src + 40, "true");
	CHECK(compile(src, &code) == -1);
	CHECK(d.nr && d.v[0].loc.col == 10 + 32);

	/* Right-nested && needs one stack slot per level: within limits. */
	n = 0;
	for (int i = 0; i < 31; i++)
		n += sprintf(src + n, "true && (");
	n += sprintf(src + n, "true");
	for (int i = 0; i < 31; i++)
		src[n++] = ')';
	src[n] = '\0';
	code.len = 0;
	CHECK(compile(src, &code) == 0);
	CHECK(mcpg_expr_verify(code.buf, code.len, str, &pool, NULL) == 0);
	CHECK(mcpg_expr_eval(code.buf, code.len, NULL, str, &pool) == 1);

	/* A long flat chain is fine: the stack stays at two. */
	n = 0;
	for (int i = 0; i < 400; i++)
		n += sprintf(src + n, "true && ");
	n += sprintf(src + n, "false");
	code.len = 0;
	CHECK(compile(src, &code) == 0);
	CHECK(mcpg_expr_eval(code.buf, code.len, NULL, str, &pool) == 0);

	/* Too long. */
	memset(src, ' ', 4097);
	memcpy(src, "true", 4);
	src[4097] = '\0';
	CHECK(compile(src, &code) == -1);
	CHECK_STR(d.nr ? d.v[0].msg : NULL, "expression is longer than 4096 bytes");
	src[4096] = '\0';
	CHECK(compile(src, &code) == 0);
}

/* ------------------------------------------------------------------------
 * Verifier
 */

struct vcase {
	const char *name;
	unsigned char code[96];
	size_t len;
	int err;
	size_t off;
};

static void
verify_case(const struct vcase *c)
{
	size_t off = 12345;
	int err = mcpg_expr_verify(c->code, c->len, str, &pool, &off);

	if (err != c->err || (err && off != c->off)) {
		printf("    got %d (%s) at %zu, want %d (%s) at %zu\n", err,
		       mcpg_expr_strerror(err), off, c->err,
		       mcpg_expr_strerror(c->err), c->off);
		test_failed_now = 1;
	}
	/* Whatever the verdict, eval must not crash; verified code gives 0/1. */
	int r = mcpg_expr_eval(c->code, c->len, &alice, str, &pool);

	if (!err)
		CHECK(r == 0 || r == 1);
	else
		CHECK(r == -1);
}

static void
verifier(void)
{
	uint32_t a;
	enum {
		T = MCPG_OP_TRUE, F = MCPG_OP_FALSE, S = MCPG_OP_STR, I = MCPG_OP_INT,
		FL = MCPG_OP_FIELD, NOT = MCPG_OP_NOT, AND = MCPG_OP_AND,
		EQS = MCPG_OP_EQ_STR, EQI = MCPG_OP_EQ_INT, INF = MCPG_OP_IN_FIELD,
		INS = MCPG_OP_IN_STRS,
	};

	pool_reset();
	a = intern(&pool, "a", 1); /* 4 */
	CHECK(a == 4);

	const struct vcase cases[] = {
		{ "ok-true", { T }, 1, 0, 0 },
		{ "ok-in", { S, 4, 0, 0, 0, INF, MCPG_ID_GROUPS }, 7, 0, 0 },
		{ "ok-instrs", { S, 4, 0, 0, 0, INS, 2, 0, 4, 0, 0, 0, 4, 0, 0, 0 }, 16, 0, 0 },
		{ "ok-instrs-empty", { S, 4, 0, 0, 0, INS, 0, 0 }, 8, 0, 0 },
		{ "ok-trust", { FL, MCPG_ID_TRUST_LEVEL, I, 2, 0, 0, 0, 0, 0, 0, 0, EQI },
		  12, 0, 0 },
		{ "empty", { 0 }, 0, MCPG_EXPR_E_EMPTY, 0 },
		{ "opcode-0", { 0 }, 1, MCPG_EXPR_E_BAD_OPCODE, 0 },
		{ "opcode-ff", { T, 0xff }, 2, MCPG_EXPR_E_BAD_OPCODE, 1 },
		{ "str-truncated", { S, 4, 0, 0 }, 4, MCPG_EXPR_E_TRUNCATED, 0 },
		{ "int-truncated", { I, 1, 2, 3, 4, 5, 6, 7 }, 8, MCPG_EXPR_E_TRUNCATED, 0 },
		{ "field-truncated", { FL }, 1, MCPG_EXPR_E_TRUNCATED, 0 },
		{ "instrs-truncated-n", { S, 4, 0, 0, 0, INS, 1 }, 7,
		  MCPG_EXPR_E_TRUNCATED, 5 },
		{ "instrs-truncated-refs", { S, 4, 0, 0, 0, INS, 2, 0, 4, 0, 0, 0, 4, 0 },
		  14, MCPG_EXPR_E_TRUNCATED, 5 },
		{ "instrs-huge-n", { S, 4, 0, 0, 0, INS, 0xff, 0xff, 4, 0, 0, 0 }, 12,
		  MCPG_EXPR_E_TRUNCATED, 5 },
		{ "bad-strref", { S, 8, 0, 0, 0, S, 4, 0, 0, 0, EQS }, 11,
		  MCPG_EXPR_E_BAD_STRREF, 0 },
		{ "bad-strref-0", { S, 0, 0, 0, 0, S, 4, 0, 0, 0, EQS }, 11,
		  MCPG_EXPR_E_BAD_STRREF, 0 },
		{ "bad-strref-instrs", { S, 4, 0, 0, 0, INS, 1, 0, 5, 0, 0, 0 }, 12,
		  MCPG_EXPR_E_BAD_STRREF, 5 },
		{ "field-list", { FL, MCPG_ID_GROUPS, S, 4, 0, 0, 0, EQS }, 8,
		  MCPG_EXPR_E_BAD_FIELD, 0 },
		{ "field-range", { FL, 99 }, 2, MCPG_EXPR_E_BAD_FIELD, 0 },
		{ "in-field-str", { S, 4, 0, 0, 0, INF, MCPG_ID_TENANT }, 7,
		  MCPG_EXPR_E_BAD_FIELD, 5 },
		{ "underflow-not", { NOT }, 1, MCPG_EXPR_E_UNDERFLOW, 0 },
		{ "underflow-and", { T, AND }, 2, MCPG_EXPR_E_UNDERFLOW, 1 },
		{ "underflow-in", { INF, MCPG_ID_GROUPS }, 2, MCPG_EXPR_E_UNDERFLOW, 0 },
		{ "type-eqstr", { I, 0, 0, 0, 0, 0, 0, 0, 0, S, 4, 0, 0, 0, EQS }, 15,
		  MCPG_EXPR_E_TYPE, 14 },
		{ "type-and", { T, S, 4, 0, 0, 0, AND }, 7, MCPG_EXPR_E_TYPE, 6 },
		{ "type-not", { FL, MCPG_ID_TENANT, NOT }, 3, MCPG_EXPR_E_TYPE, 2 },
		{ "type-in", { T, INF, MCPG_ID_GROUPS }, 3, MCPG_EXPR_E_TYPE, 1 },
		{ "result-two", { T, F }, 2, MCPG_EXPR_E_RESULT, 2 },
		{ "result-str", { S, 4, 0, 0, 0 }, 5, MCPG_EXPR_E_RESULT, 5 },
		{ "result-int", { FL, MCPG_ID_TRUST_LEVEL }, 2, MCPG_EXPR_E_RESULT, 2 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		TEST_NAMED(mcc_printf("verify %s", cases[i].name), verify_case,
			   &cases[i]);
}

static void
verifier_limits(void)
{
	enum { T = MCPG_OP_TRUE, AND = MCPG_OP_AND, S = MCPG_OP_STR,
	       EQS = MCPG_OP_EQ_STR };

	pool_reset();
	/* Overflow: 65 pushes. */
	struct vcase deep = { "overflow", { 0 }, 0, MCPG_EXPR_E_OVERFLOW, 64 };
	unsigned char big[200];

	memset(big, T, 65);
	CHECK(mcpg_expr_verify(big, 65, str, &pool, &deep.off) ==
	      MCPG_EXPR_E_OVERFLOW);
	CHECK(deep.off == 64);
	CHECK(mcpg_expr_eval(big, 65, NULL, str, &pool) == -1);
	/* 64 pushes and 63 ANDs are fine. */
	memset(big + 64, AND, 63);
	CHECK(mcpg_expr_verify(big, 127, str, &pool, NULL) == 0);
	CHECK(mcpg_expr_eval(big, 127, NULL, str, &pool) == 1);

	/* Too long. */
	unsigned char *huge = calloc(MCPG_EXPR_MAX_CODE + 1, 1);

	memset(huge, T, MCPG_EXPR_MAX_CODE + 1);
	CHECK(mcpg_expr_verify(huge, MCPG_EXPR_MAX_CODE + 1, str, &pool, NULL) ==
	      MCPG_EXPR_E_TOO_LONG);
	free(huge);

	/* No string check when str is NULL. */
	const unsigned char s99[] = { S, 99, 0, 0, 0, S, 99, 0, 0, 0, EQS };

	CHECK(mcpg_expr_verify(s99, sizeof(s99), NULL, NULL, NULL) == 0);
	CHECK(mcpg_expr_eval(s99, sizeof(s99), NULL, str, &pool) == -1);

	CHECK_STR(mcpg_expr_strerror(MCPG_EXPR_E_TYPE), "operand of the wrong type");
	CHECK_STR(mcpg_expr_strerror(1000), "unknown error");
}

/*
 * Every truncation and every single-byte corruption of real programs:
 * verify decides, eval never crashes, and a verified program evaluates.
 */
static void
garbled(void)
{
	static const char *const srcs[] = {
		"identity.tenant in [\"acme\", \"globex\"] && identity.trust_level >= \"verified\"",
		"!(\"a\" in identity.groups) || identity.subject_id != \"x\" && -1 < 2",
	};
	const struct mcpg_identity_view *ids[3] = { &alice, &bob, NULL };

	for (size_t s = 0; s < sizeof(srcs) / sizeof(srcs[0]); s++) {
		struct mcc_bytes code = { 0 };
		unsigned char buf[256];

		pool_reset();
		CHECK(compile(srcs[s], &code) == 0);
		CHECK(code.len <= sizeof(buf));
		for (size_t n = 0; n < code.len; n++) {
			int err = mcpg_expr_verify(code.buf, n, str, &pool, NULL);
			int r = mcpg_expr_eval(code.buf, n, &alice, str, &pool);

			CHECK(err ? r == -1 : (r == 0 || r == 1));
		}
		for (size_t at = 0; at < code.len; at++)
			for (int v = 0; v < 256; v++) {
				memcpy(buf, code.buf, code.len);
				buf[at] = (unsigned char)v;
				int err = mcpg_expr_verify(buf, code.len, str, &pool, NULL);

				for (int k = 0; k < 3; k++) {
					int r = mcpg_expr_eval(buf, code.len, ids[k], str,
							       &pool);

					if (!err && r != 0 && r != 1) {
						printf("    verified but eval %d (byte %zu = %d)\n",
						       r, at, v);
						test_failed_now = 1;
					}
				}
			}
	}
}

static void
identity_edges(void)
{
	struct mcc_bytes code = { 0 };
	const char *const groups[] = { NULL, "x" };
	struct mcpg_identity_view id = { .groups = groups, .ngroups = 2,
					 .trust_level = 7 };

	pool_reset();
	CHECK(compile("\"x\" in identity.groups && identity.tenant == \"\" && "
		      "identity.trust_level > \"verified\"", &code) == 0);
	CHECK(mcpg_expr_eval(code.buf, code.len, &id, str, &pool) == 1);
	id.ngroups = 1;
	CHECK(mcpg_expr_eval(code.buf, code.len, &id, str, &pool) == 0);
	CHECK(mcpg_expr_eval(code.buf, code.len, &id, NULL, &pool) == -1);
	CHECK(mcpg_expr_eval(NULL, 0, &id, str, &pool) == -1);
}

int
main(void)
{
	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	for (size_t i = 0; i < sizeof(rt) / sizeof(rt[0]); i++)
		TEST_NAMED(case_name("round trip: ", rt[i].src), round_trip, i);
	TEST(bytecode_shapes);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TEST_NAMED(case_name("compile error: ", bad[i].src), compile_error, i);
	TEST(error_note_and_key);
	TEST(appends_to_code);
	TEST(limits);
	verifier();
	TEST(verifier_limits);
	TEST(garbled);
	TEST(identity_edges);
	mcc_diag_release(&d);
	mcc_arena_free_all();
	return test_done();
}
