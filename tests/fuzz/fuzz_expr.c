/*
 * fuzz_expr.c - libFuzzer target for allow_if expressions and ${...}
 * templates.
 *
 * The first byte picks what the rest is:
 *   0  expression source: compile -> verify -> eval for three identities;
 *      whatever compiles must verify and evaluate to 0 or 1
 *   1  bytecode: verify -> eval; eval must fail (-1) exactly when the
 *      verifier refuses, and never crash
 *   2  template source: parse with every root allowed -> render in raw, URL
 *      and header mode -> resolve env; an error leaves the output as it was
 * A broken invariant aborts, so libFuzzer records it as a crash.
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Iruntime -Icompiler \
 *     tests/fuzz/fuzz_expr.c compiler/{diag,arena,interp,expr}.c \
 *     runtime/{expr,template,strbuf}.c -ljansson -o build/fuzz/fuzz_expr
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../compiler/arena.h"
#include "../../compiler/diag.h"
#include "allow_if.h"
#include "../../compiler/interp.h"
#include "expr.h"
#include "../../runtime/image_format.h"
#include "../../runtime/schema_desc.h"
#include "../../runtime/strbuf.h"
#include "../../runtime/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_expr: %s:%d: %s\n", __FILE__,  \
				__LINE__, #cond);                            \
			abort();                                             \
		}                                                            \
	} while (0)

/* A string pool laid out like STRS, with a few strings bytecode can use. */
static struct {
	unsigned char buf[1 << 17];
	size_t len, base;
} pool;

static uint32_t
intern(void *ctx, const char *s, size_t len)
{
	uint32_t ref = (uint32_t)pool.len;

	(void)ctx;
	CHECK(len < sizeof(pool.buf) - pool.len - 8);
	mcpg_put_le32(pool.buf + ref, (uint32_t)len);
	memcpy(pool.buf + ref + 4, s, len);
	pool.buf[ref + 4 + len] = 0;
	pool.len = (ref + 4 + len + 1 + 3) & ~(size_t)3;
	return ref;
}

static const char *
str(void *ctx, uint32_t ref)
{
	size_t r = ref, n;

	(void)ctx;
	if (r < 4 || r % 4 || r + 5 > pool.len)
		return NULL;
	n = mcpg_le32(pool.buf + r);
	if (n > pool.len - r - 5 || pool.buf[r + 4 + n])
		return NULL;
	return (const char *)pool.buf + r + 4;
}

static const char *
env(void *ctx, const char *name)
{
	(void)ctx;
	return name[0] && name[0] < 'N' ? "value" : NULL;
}

static const char *const groups[] = { "a", "admins", "" };
static const char *const scopes[] = { "read", "write" };
static const struct mcpg_identity_view alice = {
	"alice", "acme", "https://idp", "jwks", MCPG_TRUST_VERIFIED,
	groups, 3, scopes, 2,
};
static const struct mcpg_identity_view odd = {
	"..", "a\r\nb", NULL, NULL, 7, NULL, 0, NULL, 0,
};
static const struct mcpg_identity_view *const ids[] = { &alice, &odd, NULL };

static json_t *args;
static FILE *devnull;

static void
setup(void)
{
	pool.len = 4;
	/* strrefs 4, 12, 20, ...: "a", "acme", "admins", "read", "" */
	intern(NULL, "a", 1);
	intern(NULL, "acme", 4);
	intern(NULL, "admins", 6);
	intern(NULL, "read", 4);
	intern(NULL, "", 0);
	pool.base = pool.len;
	args = json_loads("{\"a\": \"x/y\", \"b\": {\"c\": [1, 2.5, null, true]},"
			  " \"d\": \"..\", \"e\": \"a\\r\\nb\", \"n\": \"a\\u0000b\"}",
			  JSON_ALLOW_NUL, NULL);
	CHECK(args);
	devnull = fopen("/dev/null", "w");
	CHECK(devnull);
}

static void
fuzz_source(const char *src, size_t len, struct mcc_diag *d)
{
	struct mcc_bytes code = { 0 };
	size_t off;
	int rc, err;

	rc = mcc_expr_compile(src, len, "k", (struct mcc_loc){ "f", 1, 1 }, d,
			      &code, intern, NULL);
	if (rc) {
		CHECK(d->nerrors > 0 && code.len == 0);
		return;
	}
	CHECK(d->nerrors == 0);
	err = mcpg_expr_verify(code.buf, code.len, str, NULL, &off);
	if (err)
		fprintf(stderr, "fuzz_expr: compiled code fails verify: %s at %zu\n",
			mcpg_expr_strerror(err), off);
	CHECK(err == MCPG_EXPR_E_OK);
	CHECK(mcpg_expr_disasm(code.buf, code.len, str, NULL, devnull) == 0);
	for (size_t i = 0; i < 3; i++) {
		int r = mcpg_expr_eval(code.buf, code.len, ids[i], str, NULL);

		CHECK(r == 0 || r == 1);
	}
}

static void
fuzz_code(const unsigned char *code, size_t len)
{
	int err = mcpg_expr_verify(code, len, str, NULL, NULL);

	mcpg_expr_disasm(code, len, str, NULL, devnull);
	for (size_t i = 0; i < 3; i++) {
		int r = mcpg_expr_eval(code, len, ids[i], str, NULL);

		CHECK(err ? r == -1 : (r == 0 || r == 1));
	}
}

static void
fuzz_template(const char *src, size_t len, struct mcc_diag *d)
{
	unsigned roots = MCPG_ROOT_ENV | MCPG_ROOT_ARGUMENTS | MCPG_ROOT_IDENTITY;
	static const unsigned modes[] = { 0, MCPG_TMPL_URL, MCPG_TMPL_HEADER };
	struct mcc_segs segs = { 0 };
	struct mcpg_img_seg *img;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	char *resolved;
	int rc;

	rc = mcc_interp_parse(src, len, roots, "k", (struct mcc_loc){ "f", 1, 1 },
			      d, &segs);
	CHECK(rc ? d->nerrors > 0 : d->nerrors == 0);
	mcc_interp_resolve_env(&segs, &resolved, NULL);
	if (rc)
		return;
	img = mcc_alloc((segs.nr + 1) * sizeof(*img));
	for (size_t i = 0; i < segs.nr; i++) {
		/* The pool cannot hold NUL (the image writer refuses it). */
		if (memchr(segs.v[i].text, '\0', segs.v[i].len))
			return;
		img[i].kind = (uint8_t)segs.v[i].kind;
		img[i].str = intern(NULL, segs.v[i].text, segs.v[i].len);
	}
	for (size_t m = 0; m < 3; m++)
		for (size_t i = 0; i < 3; i++) {
			struct mcpg_tmpl_in in = { str, env, NULL, i ? NULL : args, ids[i] };

			strbuf_addstr(&out, "p");
			strbuf_reset(&err);
			rc = mcpg_template_render(img, segs.nr, &in, modes[m], &out, &err);
			CHECK(rc <= 0 && rc >= MCPG_TMPL_E_IMAGE && rc != MCPG_TMPL_E_IMAGE);
			CHECK(rc ? out.len == 1 && err.len > 0 : err.len == 0);
			strbuf_reset(&out);
		}
	strbuf_release(&out);
	strbuf_release(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mcc_diag d;

	if (!devnull)
		setup();
	if (size < 1)
		return 0;
	pool.len = pool.base;
	mcc_diag_init(&d, NULL, MCC_DIAG_TEXT);
	switch (data[0] % 3) {
	case 0:
		fuzz_source((const char *)data + 1, size - 1, &d);
		break;
	case 1:
		fuzz_code(data + 1, size - 1);
		break;
	case 2:
		fuzz_template((const char *)data + 1, size - 1, &d);
		break;
	}
	mcc_diag_release(&d);
	mcc_arena_free_all();
	return 0;
}
