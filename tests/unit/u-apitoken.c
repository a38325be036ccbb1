/*
 * u-apitoken.c - API token lookup (runtime/identity.c) over the TOKS
 * section: binary search finds every token of tables of many sizes and no
 * other; the image verifier refuses unsorted or duplicate entries and bad
 * id references; KEYS with a NUL is refused.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "identity.h"
#include "image.h"
#include "image_write.h"
#include "test.h"

#include "../images/sample_schema.h"

static int
cmp_tok(const void *a, const void *b)
{
	return memcmp(((const struct mcpg_img_tok *)a)->hash, ((const struct mcpg_img_tok *)b)->hash,
		      32);
}

static void
lookup_sizes(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 7, 64, 1000 };
	char tok[32];

	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		size_t n = sizes[si];
		struct mcpg_img_tok *t = calloc(n ? n : 1, sizeof(*t));
		struct mcpg_image img;

		memset(&img, 0, sizeof(img));
		for (size_t i = 0; i < n; i++) {
			snprintf(tok, sizeof(tok), "tok-%zu", i);
			SHA256((unsigned char *)tok, strlen(tok), t[i].hash);
			t[i].id = (uint32_t)i + 1;
		}
		qsort(t, n, sizeof(*t), cmp_tok);
		img.toks = t;
		img.toks_nr = (uint32_t)n;
		for (size_t i = 0; i < n; i++) {
			const struct mcpg_img_tok *f;

			snprintf(tok, sizeof(tok), "tok-%zu", i);
			f = mcpg_apitoken_find(&img, tok, strlen(tok));
			if (!f || f->id != i + 1) {
				printf("    %zu of %zu not found\n", i, n);
				test_failed_now = 1;
				break;
			}
		}
		CHECK(!mcpg_apitoken_find(&img, "tok-x", 5));
		CHECK(!mcpg_apitoken_find(&img, "", 0));
		/* Hashes below and above every entry. */
		CHECK(!mcpg_apitoken_find(&img, "tok-1000000", 11));
		free(t);
	}
}

struct sample {
	unsigned char *buf;
	size_t len;
};

/* The sample image with TOKS entries `h0`, `h1` (in that order) and `keys`. */
static int
verify_with(unsigned char h0, unsigned char h1, int bad_id, const char *keys, size_t klen)
{
	struct mcc_image *img = mcc_image_new();
	struct mcpg_img_tok a = { .hash = { h0 } }, b = { .hash = { h1 } };
	struct mcpg_verify_error err;
	struct mcpg_image view;
	struct sample s = { NULL, 0 };
	int rc;

	sample_build(img); /* adds sample_tok (hash aa bb ..) */
	a.id = mcc_image_cstr(img, "a");
	b.id = bad_id ? 3 : mcc_image_cstr(img, "b");
	mcc_image_add_tok(img, &a);
	mcc_image_add_tok(img, &b);
	if (keys)
		mcc_image_set_keys(img, keys, klen);
	if (mcc_image_serialize(img, SAMPLE_SCHEMA_HASH, &s.buf, &s.len) < 0) {
		mcc_image_free(img);
		return -2;
	}
	rc = mcpg_image_verify(&view, s.buf, s.len, &sample_schema, &err) ? (int)err.code : 0;
	if (!rc)
		CHECK(view.toks_nr == 3 && (!keys || view.keys_len == klen));
	mcc_image_free(img);
	free(s.buf);
	return rc;
}

static void
verifier(void)
{
	CHECK(verify_with(0xb0, 0xc0, 0, NULL, 0) == 0);
	CHECK(verify_with(0xc0, 0xb0, 0, NULL, 0) == MCPG_VERR_TOK_ORDER);
	CHECK(verify_with(0xb0, 0xb0, 0, NULL, 0) == MCPG_VERR_TOK_ORDER);
	CHECK(verify_with(0x10, 0xc0, 0, NULL, 0) == MCPG_VERR_TOK_ORDER); /* before sample_tok */
	CHECK(verify_with(0xb0, 0xc0, 1, NULL, 0) == MCPG_VERR_STRREF);
	CHECK(verify_with(0xb0, 0xc0, 0, "{\"keys\":[]}", 11) == 0);
	CHECK(verify_with(0xb0, 0xc0, 0, "{\"k\0", 4) == -2); /* the builder refuses a NUL */
}

int
main(void)
{
	TEST(lookup_sizes);
	TEST(verifier);
	return test_done();
}
