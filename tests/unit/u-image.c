/*
 * u-image.c - the image writer (compiler/image_write.c) and the verifier
 * and reader (runtime/image.c), against the hand-written sample schema in
 * tests/images/sample_schema.h (no generated/ needed).
 *
 * Round trip, reproducibility, every single-bit flip in the header and the
 * section table, truncation, a foreign schema hash, and one targeted
 * corruption per check, each expecting one specific error code.  A
 * corruption behind the digest is followed by fix_digest() so that the
 * check under test, not the digest, catches it.
 */
#include "image.h"
#include "image_write.h"
#include "test.h"

#include "../images/sample_schema.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Helpers
 */

struct sample {
	unsigned char *buf;
	size_t len;
};

static struct sample
serialize(struct mcc_image *img)
{
	struct sample s = { NULL, 0 };

	if (mcc_image_serialize(img, SAMPLE_SCHEMA_HASH, &s.buf, &s.len) < 0)
		printf("    serialize failed: %s\n", mcc_image_error(img));
	return s;
}

static struct sample
make_sample(void)
{
	struct mcc_image *img = mcc_image_new();
	struct sample s;

	sample_build(img);
	s = serialize(img);
	mcc_image_free(img);
	return s;
}

static void
fix_digest(struct sample *s)
{
	mcpg_image_digest(s->buf, s->len, s->buf + MCPG_HDR_DIGEST);
}

/* Verify; print the error when the outcome is not the expected one. */
static enum mcpg_verify_code
verify(const struct sample *s, struct mcpg_image *img, struct mcpg_verify_error *err)
{
	if (mcpg_image_verify(img, s->buf, s->len, &sample_schema, err) == 0)
		return MCPG_VERR_OK;
	return err->code;
}

static void
expect_code(const struct sample *s, enum mcpg_verify_code want, const char *in_msg)
{
	struct mcpg_verify_error err;
	struct mcpg_image img;
	enum mcpg_verify_code got = verify(s, &img, &err);

	if (got != want) {
		test_failed_now = 1;
		printf("    expected %s, got %s: %s\n", mcpg_verify_code_name(want),
		       mcpg_verify_code_name(got), got ? err.msg : "(accepted)");
		return;
	}
	if (want != MCPG_VERR_OK) {
		CHECK(!strncmp(err.msg, mcpg_verify_strerror(want),
			       strlen(mcpg_verify_strerror(want))));
		CHECK(err.offset < s->len);
		if (in_msg && !strstr(err.msg, in_msg)) {
			test_failed_now = 1;
			printf("    '%s' not in '%s'\n", in_msg, err.msg);
		}
	}
}

/* File offset of a section's start, from the table of a good image. */
static uint64_t
section_off(const struct sample *s, uint32_t id, unsigned *row)
{
	uint32_t n = mcpg_le32(s->buf + MCPG_HDR_SECTION_COUNT);

	for (unsigned i = 0; i < n; i++) {
		const unsigned char *r = s->buf + MCPG_IMG_HEADER_SIZE +
					 i * MCPG_IMG_SECTION_ENTRY_SIZE;

		if (mcpg_le32(r) == id) {
			if (row)
				*row = i;
			return mcpg_le64(r + 8);
		}
	}
	printf("    no section %u\n", id);
	return 0;
}

static unsigned char *
row_at(const struct sample *s, unsigned row)
{
	return s->buf + MCPG_IMG_HEADER_SIZE + row * MCPG_IMG_SECTION_ENTRY_SIZE;
}

/* Pointer to DATA at a DATA offset. */
static unsigned char *
data_at(const struct sample *s, uint32_t ref)
{
	return s->buf + section_off(s, MCPG_SEC_DATA, NULL) + ref;
}

static uint32_t
root32(const struct sample *s, uint32_t field)
{
	return mcpg_le32(data_at(s, MCPG_IMG_ROOT_REF + field));
}

static void
put_root32(struct sample *s, uint32_t field, uint32_t v)
{
	mcpg_put_le32(data_at(s, MCPG_IMG_ROOT_REF + field), v);
}

/* Pool offset of the entry holding `text` (the sample has no duplicates). */
static uint32_t
pool_find(const struct sample *s, const char *text)
{
	const unsigned char *p = s->buf + section_off(s, MCPG_SEC_STRS, NULL);
	uint32_t n = (uint32_t)mcpg_le64(row_at(s, 0) + 16);

	for (uint32_t off = 4; off < n;) {
		uint32_t len = mcpg_le32(p + off);

		if (len == strlen(text) && !memcmp(p + off + 4, text, len))
			return off;
		off = (off + 4 + len + 1 + 3) & ~3u;
	}
	printf("    '%s' not in the pool\n", text);
	return 0;
}

/* ------------------------------------------------------------------------
 * Builder and round trip
 */

static void
builder_basics(void)
{
	struct mcc_image *img = mcc_image_new();
	uint32_t a, b, e, r1, r2;

	CHECK(mcc_image_count(img, MCPG_SEC_STRS) == 4);
	CHECK(mcc_image_count(img, MCPG_SEC_DATA) == 8);
	a = mcc_image_cstr(img, "hello");
	b = mcc_image_str(img, "hello world", 5);
	e = mcc_image_cstr(img, "");
	CHECK(a == 4);
	CHECK(a == b);
	CHECK(e != 0 && e != a);
	CHECK(e == 4 + 12); /* u32 len + "hello" + NUL + 2 pad */
	CHECK(mcc_image_cstr(img, NULL) == 0);
	CHECK(mcc_image_count(img, MCPG_SEC_STRS) == 4 + 12 + 8);

	r1 = mcc_image_alloc(img, 13);
	r2 = mcc_image_alloc(img, 1);
	CHECK(r1 == MCPG_IMG_ROOT_REF);
	CHECK(r2 == 8 + 16);
	CHECK(mcc_image_count(img, MCPG_SEC_DATA) == 8 + 16 + 8);
	for (int i = 0; i < 16; i++)
		CHECK(mcc_image_at(img, r1)[i] == 0);

	CHECK(mcc_image_add_seg(img, MCPG_SEG_LIT, a) == 0);
	CHECK(mcc_image_add_seg(img, MCPG_SEG_ENV, a) == 1);
	CHECK(mcc_image_add_tmpl(img, a, 0, 0, 2) == 0);
	CHECK(mcc_image_add_code(img, "abc", 3) == 0);
	CHECK(mcc_image_add_code(img, "de", 2) == 3);
	CHECK(mcc_image_count(img, MCPG_SEC_SEGS) == 2);
	CHECK(mcc_image_count(img, MCPG_SEC_CODE) == 5);
	CHECK(mcc_image_error(img) == NULL);
	mcc_image_free(img);
}

/* Many strings: the intern table grows and still dedupes. */
static void
builder_many_strings(void)
{
	struct mcc_image *img = mcc_image_new();
	uint32_t refs[5000];
	char s[32];

	for (int i = 0; i < 5000; i++) {
		snprintf(s, sizeof(s), "key-%d", i);
		refs[i] = mcc_image_cstr(img, s);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(s, sizeof(s), "key-%d", i);
		CHECK(mcc_image_cstr(img, s) == refs[i]);
	}
	CHECK(refs[4999] > refs[0]);
	mcc_image_free(img);
}

static void
builder_sticky_error(void)
{
	struct mcc_image *img = mcc_image_new();
	unsigned char *buf = (unsigned char *)"x";
	size_t len = 1;

	CHECK(mcc_image_str(img, "a\0b", 3) == 0);
	CHECK(mcc_image_error(img) != NULL);
	CHECK(mcc_image_cstr(img, "fine") == 0);
	CHECK(mcc_image_serialize(img, 1, &buf, &len) == -1);
	CHECK(buf == NULL && len == 0);
	mcc_image_free(img);

	img = mcc_image_new();
	CHECK(mcc_image_add_section(img, MCPG_SEC_CODE, 0, "x", 1) == -1);
	CHECK(mcc_image_error(img) != NULL);
	mcc_image_free(img);
}

static void
roundtrip(void)
{
	struct sample s = make_sample();
	struct mcpg_verify_error err;
	struct mcpg_image img;
	const unsigned char *root, *rec, *arr;
	const char *resolved[1] = { "bob" };

	if (verify(&s, &img, &err) != MCPG_VERR_OK) {
		test_failed_now = 1;
		printf("    %s\n", err.msg);
		free(s.buf);
		return;
	}
	CHECK(img.major == 1 && img.minor == 0);
	CHECK(img.schema_hash == SAMPLE_SCHEMA_HASH);
	CHECK(strlen(img.digest_hex) == 64);
	CHECK(!memcmp(img.digest, s.buf + MCPG_HDR_DIGEST, 32));
	CHECK(img.ipol_nr == 1 && img.tmpl_nr == 2 && img.segs_nr == 4);
	CHECK(img.expr_nr == 1 && img.code_len == 5 && img.toks_nr == 1);
	CHECK(!memcmp(img.toks[0].hash, sample_tok, 32));
	CHECK(s.len % 8 == 0);
	CHECK(mcpg_le32(s.buf + MCPG_HDR_SECTION_COUNT) == 8);

	root = mcpg_root(&img);
	CHECK(mcpg_le64(root + R_MASK) == 3);
	CHECK(mcpg_le64(root + R_RETRIES) == 3);
	CHECK(mcpg_le64(root + R_LIMIT) == 100);
	CHECK((int64_t)mcpg_le64(root + R_DELTA) == -5);
	CHECK_STR(mcpg_str(&img, mcpg_le32(root + R_SERVER)), "cert.pem");
	CHECK(root[R_SERVER + 4] == 1);
	CHECK_STR(mcpg_str(&img, mcpg_le32(root + R_NAME)), "gw");
	CHECK(mcpg_str_len(&img, mcpg_le32(root + R_NAME)) == 2);

	/* IPOL: raw text until the runtime resolves it. */
	CHECK(mcpg_le32(root + R_NICK) == MCPG_STRREF_IPOL);
	CHECK_STR(mcpg_str(&img, mcpg_le32(root + R_NICK)), "${env.NICK}");
	CHECK(mcpg_str_len(&img, mcpg_le32(root + R_NICK)) == 11);
	CHECK_STR(mcpg_str(&img, img.ipol[0].key), "nick");
	CHECK(img.segs[img.ipol[0].seg_off].kind == MCPG_SEG_ENV);
	CHECK_STR(mcpg_str(&img, img.segs[img.ipol[0].seg_off].str), "NICK");
	img.ipol_resolved = resolved;
	CHECK_STR(mcpg_str(&img, mcpg_le32(root + R_NICK)), "bob");
	CHECK(mcpg_str_len(&img, mcpg_le32(root + R_NICK)) == 3);
	img.ipol_resolved = NULL;

	rec = mcpg_rec(&img, mcpg_le32(root + R_TLS));
	CHECK(rec != NULL);
	if (rec) {
		CHECK_STR(mcpg_str(&img, mcpg_le32(rec)), "tls.pem");
		CHECK(rec[4] == 0);
	}
	CHECK(mcpg_rec(&img, 0) == NULL);
	CHECK(mcpg_str(&img, 0) == NULL);

	CHECK(mcpg_le32(root + R_BACKEND) == TAG_HTTP);
	rec = mcpg_rec(&img, mcpg_le32(root + R_BACKEND + 4));
	CHECK(mcpg_le64(rec) == 30);
	CHECK(mcpg_le32(rec + 8) == 2);
	CHECK_STR(mcpg_str(&img, img.tmpl[1].src), "http://127.0.0.1/");
	CHECK_STR(mcpg_str(&img, img.tmpl[1].key), "backend.url");

	CHECK(mcpg_le32(root + R_ITEMS + 4) == 2);
	arr = mcpg_rec(&img, mcpg_le32(root + R_ITEMS));
	CHECK(mcpg_le64(arr) == 1 && mcpg_le64(arr + 8) == 8080);
	CHECK_STR(mcpg_str(&img, mcpg_le32(arr + 16)), "a");
	CHECK(mcpg_le32(arr + 20) == TAG_MOCK && arr[28] == 1);
	rec = mcpg_rec(&img, mcpg_le32(arr + 24));
	CHECK_STR(mcpg_str(&img, mcpg_le32(rec)), "{\"ok\":true}");
	CHECK(mcpg_le64(arr + 32) == 0);
	CHECK_STR(mcpg_str(&img, mcpg_le32(arr + 48)), "b");
	CHECK(mcpg_le32(arr + 52) == TAG_STDIN && mcpg_le32(arr + 56) == 0);

	CHECK(mcpg_le32(root + R_TAGS + 4) == 3);
	arr = mcpg_rec(&img, mcpg_le32(root + R_TAGS));
	CHECK_STR(mcpg_str(&img, mcpg_le32(arr)), "x");
	CHECK_STR(mcpg_str(&img, mcpg_le32(arr + 4)), "y");
	CHECK(mcpg_le32(arr + 8) == mcpg_le32(root + R_NAME)); /* deduped */

	CHECK(mcpg_le32(root + R_LABELS + 4) == 2);
	arr = mcpg_rec(&img, mcpg_le32(root + R_LABELS));
	CHECK_STR(mcpg_str(&img, mcpg_le32(arr)), "team");
	CHECK_STR(mcpg_str(&img, mcpg_le32(arr + 4)), "core");
	CHECK_STR(mcpg_str(&img, mcpg_le32(arr + 8)), "env");
	CHECK_STR(mcpg_str(&img, mcpg_le32(arr + 12)), "dev");

	arr = mcpg_rec(&img, mcpg_le32(root + R_LIMITS));
	CHECK_STR(mcpg_str(&img, mcpg_le32(arr)), "rps");
	CHECK(mcpg_le64(arr + 8) == 50);

	arr = mcpg_rec(&img, mcpg_le32(root + R_BACKENDS));
	CHECK(mcpg_le32(arr) == TAG_MOCK);
	CHECK_STR(mcpg_str(&img, mcpg_le32((const unsigned char *)mcpg_rec(&img, mcpg_le32(arr + 4)))),
		  "null");
	CHECK(mcpg_le32(arr + 8) == TAG_STDIN && mcpg_le32(arr + 12) == 0);

	CHECK(mcpg_le32(root + R_URL) == 1);
	CHECK_STR(mcpg_str(&img, img.tmpl[0].src), "https://api/${arguments.id}");
	CHECK(img.tmpl[0].seg_n == 2);
	CHECK(img.segs[img.tmpl[0].seg_off + 1].kind == MCPG_SEG_ARG);
	CHECK(mcpg_le32(root + R_ALLOW) == 1);
	CHECK(img.expr[0].code_len == 5 && !memcmp(img.code + img.expr[0].code_off, sample_code, 5));
	CHECK_STR(mcpg_str(&img, img.expr[0].src), "\"admins\" in identity.groups");

	rec = mcpg_rec(&img, mcpg_le32(root + R_CHAIN));
	CHECK(mcpg_le64(rec) == 1);
	rec = mcpg_rec(&img, mcpg_le32(rec + 8));
	CHECK(mcpg_le64(rec) == 2 && mcpg_le32(rec + 8) == 0);

	CHECK_STR(mcpg_str(&img, mcpg_le32(root + R_EXTRA)), "{\"a\":1}");
	CHECK(root[R_DEBUG] == 1 && root[R_COLOR] == 2);
	mcpg_image_close(&img);
	CHECK(img.base == NULL);
	free(s.buf);
}

static void
reproducible(void)
{
	struct sample a = make_sample(), b = make_sample();
	struct mcpg_image ia, ib;
	struct mcpg_verify_error err;

	CHECK(a.len == b.len && !memcmp(a.buf, b.buf, a.len));
	CHECK(verify(&a, &ia, &err) == MCPG_VERR_OK);
	CHECK(verify(&b, &ib, &err) == MCPG_VERR_OK);
	CHECK_STR(ia.digest_hex, ib.digest_hex);
	free(a.buf);
	free(b.buf);
}

/* A root of all zeros is valid for any schema: every slot kind allows 0. */
static void
zero_root_valid(void)
{
	struct mcc_image *img = mcc_image_new();
	struct sample s;

	mcc_image_alloc(img, R_SIZE);
	s = serialize(img);
	expect_code(&s, MCPG_VERR_OK, NULL);
	CHECK(mcpg_le32(s.buf + MCPG_HDR_SECTION_COUNT) == 2);
	free(s.buf);
	mcc_image_free(img);
}

static void
no_root_record(void)
{
	struct mcc_image *img = mcc_image_new();
	struct sample s = serialize(img);

	expect_code(&s, MCPG_VERR_RECORD_REF, "root record");
	free(s.buf);
	mcc_image_free(img);
}

/* ------------------------------------------------------------------------
 * Header and table: every bit flip, truncation, schema hash
 */

#define BIT(c) (1ull << MCPG_VERR_##c)
#define TABLE_CODES (BIT(SECTION_COUNT) | BIT(SECTION_FLAGS) | BIT(SECTION_ALIGN) | \
		     BIT(SECTION_BOUNDS) | BIT(SECTION_ORDER) | BIT(SECTION_OVERLAP) | \
		     BIT(SECTION_DUPLICATE) | BIT(SECTION_UNKNOWN) |                 \
		     BIT(SECTION_MISSING) | BIT(SECTION_SIZE) | BIT(PADDING))

/* The codes a flip of byte `i` of the header or table may give. */
static uint64_t
allowed_codes(size_t i, int bit)
{
	if (i < 8)
		return BIT(MAGIC);
	if (i < 10)
		return BIT(MAJOR);
	if (i < 12)
		return BIT(DIGEST); /* any minor is fine, but the digest is not */
	if (i < 16)
		return BIT(HEADER_SIZE);
	if (i < 24)
		return BIT(FILE_SIZE);
	if (i < 32)
		return BIT(FLAGS);
	if (i < 40)
		return BIT(SCHEMA_HASH);
	if (i < 44)
		return TABLE_CODES;
	if (i < 48)
		return BIT(RESERVED);
	if (i < 56)
		return BIT(TABLE_OFFSET);
	if (i < 88)
		return BIT(DIGEST);
	if (i < 128)
		return BIT(RESERVED);
	switch ((i - 128) % MCPG_IMG_SECTION_ENTRY_SIZE / 4) {
	case 0: /* id: another known id may also have the wrong entry size, or take
		 * any size (TOKS 8 -> KEYS 9), leaving only the digest */
		return BIT(SECTION_DUPLICATE) | BIT(SECTION_UNKNOWN) | BIT(SECTION_SIZE) |
		       BIT(SECTION_MISSING) | BIT(DIGEST);
	case 1: /* flags: "required" on a known section changes nothing but the digest */
		return (i - 128) % 4 == 0 && bit == 0 ? BIT(DIGEST) : BIT(SECTION_FLAGS);
	default: /* offset, size */
		return TABLE_CODES | BIT(DIGEST);
	}
}

static void
bit_flips(void)
{
	struct sample s = make_sample();
	size_t end = MCPG_IMG_HEADER_SIZE +
		     mcpg_le32(s.buf + MCPG_HDR_SECTION_COUNT) * MCPG_IMG_SECTION_ENTRY_SIZE;
	struct mcpg_verify_error err;
	struct mcpg_image img;
	int reported = 0, nflips = 0;

	for (size_t i = 0; i < end; i++) {
		for (int bit = 0; bit < 8; bit++) {
			enum mcpg_verify_code got;

			s.buf[i] ^= (unsigned char)(1u << bit);
			got = verify(&s, &img, &err);
			s.buf[i] ^= (unsigned char)(1u << bit);
			nflips++;
			if (got != MCPG_VERR_OK && (allowed_codes(i, bit) >> got & 1) &&
			    err.msg[0] && err.offset < s.len)
				continue;
			test_failed_now = 1;
			if (reported++ < 10)
				printf("    byte %zu bit %d: %s: %s\n", i, bit,
				       mcpg_verify_code_name(got), got ? err.msg : "accepted");
		}
	}
	CHECK(nflips == (int)end * 8);
	free(s.buf);
}

static void
truncation(void)
{
	struct sample s = make_sample();
	struct mcpg_verify_error err;
	struct mcpg_image img;
	size_t full = s.len;

	for (size_t cut = 0; cut < full; cut += 64) {
		enum mcpg_verify_code got;

		s.len = cut;
		got = verify(&s, &img, &err);
		if (cut < MCPG_IMG_HEADER_SIZE)
			CHECK(got == MCPG_VERR_TOO_SMALL);
		else
			CHECK(got == MCPG_VERR_FILE_SIZE);
	}
	s.len = full - 1;
	expect_code(&s, MCPG_VERR_FILE_SIZE, "truncated");
	free(s.buf);
}

/* A truncated file whose header was made to agree: the table catches it. */
static void
truncation_consistent(void)
{
	struct sample s = make_sample();
	uint64_t first = section_off(&s, MCPG_SEC_STRS, NULL);
	size_t full = s.len;

	for (size_t cut = (first + 64) & ~(size_t)63; cut < full; cut += 64) {
		s.len = cut;
		mcpg_put_le64(s.buf + MCPG_HDR_FILE_SIZE, cut);
		fix_digest(&s);
		expect_code(&s, MCPG_VERR_SECTION_BOUNDS, NULL);
	}
	free(s.buf);
}

static void
schema_hash_mismatch(void)
{
	struct sample s = make_sample();
	struct mcpg_schema other = sample_schema;
	struct mcpg_verify_error err;
	struct mcpg_image img;

	other.hash = 0xfedcba9876543210ull;
	CHECK(mcpg_image_verify(&img, s.buf, s.len, &other, &err) == -1);
	CHECK(err.code == MCPG_VERR_SCHEMA_HASH);
	CHECK(strstr(err.msg, "image 0x0123456789abcdef") != NULL);
	CHECK(strstr(err.msg, "runtime 0xfedcba9876543210") != NULL);
	CHECK(!strncmp(err.msg, "schema hash mismatch: ", 22));
	CHECK(err.offset == MCPG_HDR_SCHEMA_HASH);
	free(s.buf);
}

/* ------------------------------------------------------------------------
 * Targeted corruptions: one damage, one expected code
 */

typedef void corrupt_fn(struct sample *s);

/*
 * Given the digest of the bytes as they are, mcpg_image_verify_hashed()
 * (mcpgc's check right after laying an image out) must judge every image
 * as mcpg_image_verify() does, down to the message.
 */
static void
expect_same_hashed(const struct sample *s)
{
	struct mcpg_verify_error e1, e2;
	struct mcpg_image i1, i2;
	unsigned char digest[32];
	int r1, r2;

	if (s->len < MCPG_IMG_HEADER_SIZE || mcpg_image_digest(s->buf, s->len, digest))
		return;
	r1 = mcpg_image_verify(&i1, s->buf, s->len, &sample_schema, &e1);
	r2 = mcpg_image_verify_hashed(&i2, s->buf, s->len, &sample_schema, digest, &e2);
	CHECK(r1 == r2);
	CHECK(e1.code == e2.code && e1.offset == e2.offset);
	CHECK_STR(e1.msg, e2.msg);
	CHECK(!memcmp(&i1, &i2, sizeof(i1)));
}

static void
corrupt_case(corrupt_fn *fn, enum mcpg_verify_code want, const char *in_msg)
{
	struct sample s = make_sample();

	fn(&s);
	expect_code(&s, want, in_msg);
	expect_same_hashed(&s);
	free(s.buf);
}

#define CORRUPT(name, want, in_msg) TEST_NAMED("corrupt_" #name, corrupt_case, name, want, in_msg)

static void
too_small(struct sample *s)
{
	s->len = 100;
}

static void
bad_major(struct sample *s)
{
	mcpg_put_le16(s->buf + MCPG_HDR_MAJOR, 2);
}

static void
header_size(struct sample *s)
{
	mcpg_put_le32(s->buf + MCPG_HDR_HEADER_SIZE, 136);
}

static void
table_offset(struct sample *s)
{
	mcpg_put_le64(s->buf + MCPG_HDR_TABLE_OFFSET, 136);
}

static void
section_count(struct sample *s)
{
	mcpg_put_le32(s->buf + MCPG_HDR_SECTION_COUNT, 65);
}

static void
overlapping_sections(struct sample *s)
{
	unsigned row;
	uint64_t strs = section_off(s, MCPG_SEC_STRS, NULL);

	section_off(s, MCPG_SEC_DATA, &row);
	mcpg_put_le64(row_at(s, row) + 8, strs + 8);
}

static void
section_order(struct sample *s)
{
	unsigned row;
	uint64_t strs = section_off(s, MCPG_SEC_STRS, NULL);

	section_off(s, MCPG_SEC_IPOL, &row);
	mcpg_put_le64(row_at(s, row) + 8, strs);
}

static void
section_unaligned(struct sample *s)
{
	unsigned row;

	section_off(s, MCPG_SEC_TOKS, &row);
	mcpg_put_le64(row_at(s, row) + 8, mcpg_le64(row_at(s, row) + 8) + 4);
}

static void
section_past_end(struct sample *s)
{
	unsigned row;

	section_off(s, MCPG_SEC_TOKS, &row);
	mcpg_put_le64(row_at(s, row) + 16, UINT64_MAX - 4);
}

static void
duplicate_section(struct sample *s)
{
	unsigned row;

	section_off(s, MCPG_SEC_IPOL, &row);
	mcpg_put_le32(row_at(s, row), MCPG_SEC_STRS);
}

static void
missing_section(struct sample *s)
{
	unsigned row;

	section_off(s, MCPG_SEC_DATA, &row);
	mcpg_put_le32(row_at(s, row), 0x200);
	mcpg_put_le32(row_at(s, row) + 4, 0); /* now an unknown optional one */
}

static void
section_flags(struct sample *s)
{
	mcpg_put_le32(row_at(s, 1) + 4, MCPG_SECF_REQUIRED | 4);
}

static void
section_size(struct sample *s)
{
	unsigned row;

	/* 16-byte entries; 12 bytes fits in the file but is no whole entry */
	section_off(s, MCPG_SEC_EXPR, &row);
	mcpg_put_le64(row_at(s, row) + 16, 12);
}

static void
padding_nonzero(struct sample *s)
{
	unsigned row;
	uint64_t code = section_off(s, MCPG_SEC_CODE, &row);

	/* CODE is 5 bytes: 3 bytes of padding follow it. */
	s->buf[code + 6] = 0x5a;
}

static void
header_reserved(struct sample *s)
{
	s->buf[MCPG_HDR_RESERVED2 + 3] = 1;
	fix_digest(s);
}

static void
digest_mismatch(struct sample *s)
{
	data_at(s, MCPG_IMG_ROOT_REF + R_RETRIES)[0] ^= 1;
}

static void
unknown_required_section(struct sample *s)
{
	struct mcc_image *img = mcc_image_new();

	sample_build(img);
	mcc_image_add_section(img, 99, MCPG_SECF_REQUIRED, "future", 6);
	free(s->buf);
	*s = serialize(img);
	mcc_image_free(img);
}

static void
unknown_optional_section(struct sample *s)
{
	struct mcc_image *img = mcc_image_new();

	sample_build(img);
	mcc_image_add_section(img, 99, 0, "future", 6);
	mcc_image_add_section(img, 100, 0, "", 0);
	free(s->buf);
	*s = serialize(img);
	mcc_image_free(img);
}

static void
pool_head(struct sample *s)
{
	s->buf[section_off(s, MCPG_SEC_STRS, NULL)] = 1;
	fix_digest(s);
}

static void
unterminated_string(struct sample *s)
{
	uint32_t off = pool_find(s, "cert.pem");

	/* "cert.pem" is 8 bytes: its NUL is at +12, then 3 bytes of padding */
	s->buf[section_off(s, MCPG_SEC_STRS, NULL) + off + 4 + 8] = 'x';
	fix_digest(s);
}

static void
string_past_pool(struct sample *s)
{
	uint32_t off = pool_find(s, "cert.pem");

	mcpg_put_le32(s->buf + section_off(s, MCPG_SEC_STRS, NULL) + off, 0x7ffffff0);
	fix_digest(s);
}

static void
nul_in_string(struct sample *s)
{
	uint32_t off = pool_find(s, "cert.pem");

	s->buf[section_off(s, MCPG_SEC_STRS, NULL) + off + 4 + 2] = 0;
	fix_digest(s);
}

static void
pool_padding(struct sample *s)
{
	uint32_t off = pool_find(s, "cert.pem");

	s->buf[section_off(s, MCPG_SEC_STRS, NULL) + off + 4 + 9] = 1;
	fix_digest(s);
}

static void
bad_strref(struct sample *s)
{
	put_root32(s, R_NAME, root32(s, R_NAME) + 4);
	fix_digest(s);
}

static void
strref_past_pool(struct sample *s)
{
	put_root32(s, R_NAME, 0x40000000);
	fix_digest(s);
}

static void
strref_ipol_index(struct sample *s)
{
	put_root32(s, R_NAME, MCPG_STRREF_IPOL | 1);
	fix_digest(s);
}

static void
seg_kind(struct sample *s)
{
	s->buf[section_off(s, MCPG_SEC_SEGS, NULL) + 8] = MCPG_SEG__COUNT;
	fix_digest(s);
}

static void
ipol_seg_kind(struct sample *s)
{
	/* segment 0 is the ENV segment of the IPOL entry */
	s->buf[section_off(s, MCPG_SEC_SEGS, NULL)] = MCPG_SEG_ARG;
	fix_digest(s);
}

static void
seg_range(struct sample *s)
{
	mcpg_put_le32(s->buf + section_off(s, MCPG_SEC_TMPL, NULL) + 12, 100);
	fix_digest(s);
}

static void
seg_range_overflow(struct sample *s)
{
	unsigned char *e = s->buf + section_off(s, MCPG_SEC_TMPL, NULL);

	mcpg_put_le32(e + 8, 2);
	mcpg_put_le32(e + 12, UINT32_MAX);
	fix_digest(s);
}

static void
ipol_src_bad(struct sample *s)
{
	mcpg_put_le32(s->buf + section_off(s, MCPG_SEC_IPOL, NULL), 0);
	fix_digest(s);
}

/* An opcode byte that is not an instruction: the bytecode verifier runs. */
static void
code_bad_opcode(struct sample *s)
{
	s->buf[section_off(s, MCPG_SEC_CODE, NULL)] = 0xee;
	fix_digest(s);
}

/* A valid program that leaves two values on the stack. */
static void
code_two_results(struct sample *s)
{
	s->buf[section_off(s, MCPG_SEC_CODE, NULL) + 4] = 0x01;
	fix_digest(s);
}

static void
code_range(struct sample *s)
{
	mcpg_put_le32(s->buf + section_off(s, MCPG_SEC_EXPR, NULL) + 12, 1000);
	fix_digest(s);
}

static void
data_head(struct sample *s)
{
	data_at(s, 3)[0] = 1;
	fix_digest(s);
}

static void
bool_value(struct sample *s)
{
	data_at(s, MCPG_IMG_ROOT_REF + R_DEBUG)[0] = 2;
	fix_digest(s);
}

static void
enum_out_of_range(struct sample *s)
{
	data_at(s, MCPG_IMG_ROOT_REF + R_COLOR)[0] = 3;
	fix_digest(s);
}

static void
template_index(struct sample *s)
{
	put_root32(s, R_URL, 3);
	fix_digest(s);
}

static void
expr_index(struct sample *s)
{
	put_root32(s, R_ALLOW, 2);
	fix_digest(s);
}

static void
set_mask(struct sample *s)
{
	data_at(s, MCPG_IMG_ROOT_REF + R_MASK)[0] |= 1 << 5;
	fix_digest(s);
}

static void
record_ref_bounds(struct sample *s)
{
	put_root32(s, R_TLS, (uint32_t)mcpg_le64(row_at(s, 1) + 16));
	fix_digest(s);
}

static void
record_ref_unaligned(struct sample *s)
{
	put_root32(s, R_TLS, root32(s, R_TLS) + 4);
	fix_digest(s);
}

static void
union_tag(struct sample *s)
{
	put_root32(s, R_BACKEND, 4);
	fix_digest(s);
}

static void
union_ref_keyless(struct sample *s)
{
	uint32_t arr = root32(s, R_BACKENDS);

	/* backends[1] is stdin: a record is not allowed */
	mcpg_put_le32(data_at(s, arr + 12), root32(s, R_TLS));
	fix_digest(s);
}

static void
union_ref_missing(struct sample *s)
{
	put_root32(s, R_BACKEND + 4, 0);
	fix_digest(s);
}

static void
list_out_of_bounds(struct sample *s)
{
	put_root32(s, R_ITEMS + 4, 0x10000000);
	fix_digest(s);
}

static void
list_count_overflow(struct sample *s)
{
	put_root32(s, R_ITEMS + 4, UINT32_MAX);
	fix_digest(s);
}

static void
list_unaligned(struct sample *s)
{
	put_root32(s, R_TAGS, root32(s, R_TAGS) + 4);
	fix_digest(s);
}

static void
empty_list_with_ref(struct sample *s)
{
	put_root32(s, R_TAGS + 4, 0);
	fix_digest(s);
}

static void
list_element(struct sample *s)
{
	uint32_t arr = root32(s, R_TAGS);

	mcpg_put_le32(data_at(s, arr + 8), 2);
	fix_digest(s);
}

static void
map_key(struct sample *s)
{
	uint32_t arr = root32(s, R_LABELS);

	mcpg_put_le32(data_at(s, arr + 8), 0);
	fix_digest(s);
}

static void
nested_bool(struct sample *s)
{
	uint32_t arr = root32(s, R_ITEMS);

	/* items[1].enabled */
	data_at(s, arr + 32 + 28)[0] = 7;
	fix_digest(s);
}

static void
item_set_mask(struct sample *s)
{
	uint32_t arr = root32(s, R_ITEMS);

	data_at(s, arr + 32)[0] = 2;
	fix_digest(s);
}

/* The verifier needs an 8-aligned buffer (mmap and malloc give one). */
static void
buffer_unaligned(void)
{
	struct sample s = make_sample(), moved;
	unsigned char *b = malloc(s.len + 8);

	memcpy(b + 1, s.buf, s.len);
	moved = (struct sample){ b + 1, s.len };
	expect_code(&moved, MCPG_VERR_BUF_ALIGN, NULL);
	free(b);
	free(s.buf);
}

/* The writer never shares a record; two refs to one record overrun DATA. */
static void
shared_record(struct sample *s)
{
	struct mcc_image *img = mcc_image_new();
	uint32_t root = mcc_image_alloc(img, R_SIZE), arr, rec;

	arr = sample_list(img, root + R_BACKENDS, 2, 8);
	rec = mcc_image_alloc(img, 16);
	mcc_image_put32(img, arr + 0, TAG_HTTP);
	mcc_image_put32(img, arr + 4, rec);
	mcc_image_put32(img, arr + 8, TAG_HTTP);
	mcc_image_put32(img, arr + 12, rec);
	free(s->buf);
	*s = serialize(img);
	mcc_image_free(img);
}

/* A chain of `n` nodes below the root. */
static struct sample
chain(int n)
{
	struct mcc_image *img = mcc_image_new();
	uint32_t slot = mcc_image_alloc(img, R_SIZE) + R_CHAIN;
	struct sample s;

	for (int i = 0; i < n; i++) {
		uint32_t r = mcc_image_alloc(img, 16);

		mcc_image_put32(img, slot, r);
		mcc_image_put64(img, r, (uint64_t)i);
		slot = r + 8;
	}
	s = serialize(img);
	mcc_image_free(img);
	return s;
}

static void
depth_limit(void)
{
	struct sample s = chain(MCPG_VERIFY_MAX_DEPTH);

	expect_code(&s, MCPG_VERR_OK, NULL);
	free(s.buf);
	s = chain(MCPG_VERIFY_MAX_DEPTH + 1);
	expect_code(&s, MCPG_VERR_DEPTH, "chain.next.next");
	free(s.buf);
}

/* ------------------------------------------------------------------------
 * Writing and opening files
 */

static char tmpdir[256];

static void
write_and_open(void)
{
	struct mcc_image *img = mcc_image_new();
	unsigned char digest[32];
	char path[300], tmp[310];
	struct mcpg_verify_error err;
	struct mcpg_image mi;
	struct mcc_diag d;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);

	mcc_diag_init(&d, f, MCC_DIAG_TEXT);
	snprintf(path, sizeof(path), "%s/config.img", tmpdir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	sample_build(img);
	CHECK(mcc_image_write(img, path, &sample_schema, &d, digest) == 0);
	CHECK(d.nerrors == 0);
	CHECK(access(tmp, F_OK) == -1 && errno == ENOENT);
	CHECK(mcpg_image_open(&mi, path, &sample_schema, &err) == 0);
	CHECK(mi.is_mapped == 1);
	CHECK(!memcmp(mi.digest, digest, 32));
	CHECK_STR(mcpg_str(&mi, mcpg_le32((const unsigned char *)mcpg_root(&mi) + R_NAME)), "gw");
	mcpg_image_close(&mi);
	CHECK(mi.base == NULL && mi.size == 0);

	/* Writing again replaces the file; the digest is the same. */
	{
		unsigned char again[32];

		CHECK(mcc_image_write(img, path, &sample_schema, &d, again) == 0);
		CHECK(!memcmp(again, digest, 32));
	}
	/* Bytes laid out already (mcc_compile's) are written the same way. */
	{
		struct sample s = serialize(img);
		unsigned char again[32];

		CHECK(mcc_image_write_buf(s.buf, s.len, path, &sample_schema, &d, again) == 0);
		CHECK(!memcmp(again, digest, 32));
		CHECK(access(tmp, F_OK) == -1 && errno == ENOENT);
		s.buf[s.len - 1] ^= 1; /* padding, and the digest no longer fits */
		CHECK(mcc_image_write_buf(s.buf, s.len, path, &sample_schema, &d, NULL) == -1);
		CHECK(d.nerrors == 1);
		CHECK(access(tmp, F_OK) == -1 && errno == ENOENT);
		CHECK(mcpg_image_open(&mi, path, &sample_schema, &err) == 0);
		mcpg_image_close(&mi);
		free(s.buf);
	}
	mcc_diag_release(&d);
	fclose(f);
	free(out);
	unlink(path);
	mcc_image_free(img);
}

static void
write_error_message(void)
{
	struct mcc_image *img = mcc_image_new();
	struct mcc_diag d;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);

	mcc_diag_init(&d, f, MCC_DIAG_TEXT);
	sample_build(img);
	CHECK(mcc_image_write(img, "/nonexistent-dir/x.img", &sample_schema, &d, NULL) == -1);
	CHECK(d.nerrors == 1);
	fflush(f);
	CHECK_STR(out, "mcpgc: error: cannot write '/nonexistent-dir/x.img': "
		       "No such file or directory\n");
	mcc_diag_release(&d);
	fclose(f);
	free(out);
	mcc_image_free(img);
}

/* Write, then verify: an image that does not verify is never published. */
static void
write_refuses_bad_image(void)
{
	struct mcc_image *img = mcc_image_new();
	uint32_t root = mcc_image_alloc(img, R_SIZE);
	char path[300], tmp[310];
	struct mcc_diag d;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);

	mcc_diag_init(&d, f, MCC_DIAG_TEXT);
	mcc_image_put8(img, root + R_COLOR, 9);
	snprintf(path, sizeof(path), "%s/bad.img", tmpdir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK(mcc_image_write(img, path, &sample_schema, &d, NULL) == -1);
	CHECK(d.nerrors == 1);
	fflush(f);
	CHECK(out && strstr(out, "mcpgc: error: internal error: ") == out);
	CHECK(out && strstr(out, "enum value out of range") != NULL);
	CHECK(access(path, F_OK) == -1);
	CHECK(access(tmp, F_OK) == -1);
	mcc_diag_release(&d);
	fclose(f);
	free(out);
	mcc_image_free(img);
}

/* What the preparation saw, for open_prepared. */
struct prep_seen {
	int calls, fail;
	char name[16];
	struct mcpg_image *img;
};

static int
prep_cb(void *ctx)
{
	struct prep_seen *p = ctx;

	p->calls++;
	snprintf(p->name, sizeof(p->name), "%s",
		 mcpg_str(p->img, mcpg_le32((const unsigned char *)mcpg_root(p->img) + R_NAME)));
	return p->fail ? -1 : 0;
}

/* Write s to path; 0 or -1. */
static int
write_sample(const struct sample *s, const char *path)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(s->buf, 1, s->len, f) == s->len;

	return (f && fclose(f) == 0 && ok) ? 0 : -1;
}

/*
 * mcpg_image_open_prepared(), small (one thread) and big (the rest checked
 * and prepared on a second thread while this one hashes): the preparation
 * runs only on a sound structure, a wrong digest is the error reported
 * even when the records are bad too, a header fault comes before both, and
 * a failed preparation is -2 with nothing left mapped.
 */
static void
open_prepared(void)
{
	for (int big = 0; big <= 1; big++) {
		struct mcc_image *img = mcc_image_new();
		struct mcpg_verify_error err;
		struct prep_seen seen;
		struct mcpg_image mi;
		struct sample s, bad;
		char path[300], str[40];

		sample_build(img);
		/* Unreferenced pool entries make the image big enough to split. */
		for (int i = 0; big && i < 40000; i++) {
			snprintf(str, sizeof(str), "filler string number %08d", i);
			mcc_image_cstr(img, str);
		}
		s = serialize(img);
		mcc_image_free(img);
		CHECK(big ? s.len > 1024 * 1024 : s.len < 64 * 1024);
		snprintf(path, sizeof(path), "%s/prepared.img", tmpdir);

		CHECK(write_sample(&s, path) == 0);
		memset(&seen, 0, sizeof(seen));
		seen.img = &mi;
		CHECK(mcpg_image_open_prepared(&mi, path, &sample_schema, prep_cb, &seen, &err) == 0);
		CHECK(seen.calls == 1);
		CHECK_STR(seen.name, "gw");
		CHECK(mi.is_mapped == 1 && mi.size == s.len);
		CHECK(!memcmp(mi.digest, s.buf + MCPG_HDR_DIGEST, 32));
		mcpg_image_close(&mi);

		seen.fail = 1;
		seen.calls = 0;
		CHECK(mcpg_image_open_prepared(&mi, path, &sample_schema, prep_cb, &seen, &err) == -2);
		CHECK(seen.calls == 1);
		CHECK(mi.base == NULL && mi.is_mapped == 0);
		seen.fail = 0;

		/* Bad records, right digest: that fault, and no preparation. */
		bad = (struct sample){ malloc(s.len), s.len };
		memcpy(bad.buf, s.buf, s.len);
		bool_value(&bad);
		CHECK(write_sample(&bad, path) == 0);
		seen.calls = 0;
		CHECK(mcpg_image_open_prepared(&mi, path, &sample_schema, prep_cb, &seen, &err) == -1);
		CHECK(err.code == MCPG_VERR_BOOL && strstr(err.msg, "at 'debug'"));
		CHECK(seen.calls == 0 && mi.base == NULL);

		/* Bad records and a wrong digest: the digest. */
		bad.buf[bad.len - 1] ^= 1;
		CHECK(write_sample(&bad, path) == 0);
		CHECK(mcpg_image_open_prepared(&mi, path, &sample_schema, prep_cb, &seen, &err) == -1);
		CHECK(err.code == MCPG_VERR_DIGEST);
		CHECK(seen.calls == 0);

		/* Good records, wrong digest: the digest, after preparing. */
		memcpy(bad.buf, s.buf, s.len);
		bad.buf[bad.len - 1] ^= 1;
		CHECK(write_sample(&bad, path) == 0);
		CHECK(mcpg_image_open_prepared(&mi, path, &sample_schema, prep_cb, &seen, &err) == -1);
		CHECK(err.code == MCPG_VERR_DIGEST);
		CHECK(mi.base == NULL && mi.is_mapped == 0);

		/* A header fault comes first, the digest being wrong too. */
		bad_major(&bad);
		CHECK(write_sample(&bad, path) == 0);
		CHECK(mcpg_image_open_prepared(&mi, path, &sample_schema, prep_cb, &seen, &err) == -1);
		CHECK(err.code == MCPG_VERR_MAJOR);

		unlink(path);
		free(bad.buf);
		free(s.buf);
	}
}

static void
open_errors(void)
{
	struct mcpg_verify_error err;
	struct mcpg_image mi;
	char path[300];
	FILE *f;

	CHECK(mcpg_image_open(&mi, "/nonexistent-dir/x.img", &sample_schema, &err) == -1);
	CHECK(err.code == MCPG_VERR_IO);
	CHECK_STR(err.msg, "cannot open: No such file or directory");
	CHECK(mcpg_image_open(&mi, tmpdir, &sample_schema, &err) == -1);
	CHECK(err.code == MCPG_VERR_IO);

	snprintf(path, sizeof(path), "%s/empty.img", tmpdir);
	f = fopen(path, "w");
	if (f)
		fclose(f);
	CHECK(mcpg_image_open(&mi, path, &sample_schema, &err) == -1);
	CHECK(err.code == MCPG_VERR_TOO_SMALL);
	unlink(path);
}

static void
error_strings(void)
{
	CHECK_STR(mcpg_verify_strerror(MCPG_VERR_DIGEST), "checksum mismatch");
	CHECK_STR(mcpg_verify_code_name(MCPG_VERR_STRREF), "STRREF");
	CHECK_STR(mcpg_verify_strerror(MCPG_VERR__COUNT), "unknown error");
	for (int c = 0; c < MCPG_VERR__COUNT; c++)
		CHECK(mcpg_verify_strerror(c)[0] && mcpg_verify_code_name(c)[0]);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	/* Both record walks on every image these tests verify: they must agree. */
	mcpg_image_verify_crosscheck = 1;
	snprintf(tmpdir, sizeof(tmpdir), "%s/u-image.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}

	TEST(builder_basics);
	TEST(builder_many_strings);
	TEST(builder_sticky_error);
	TEST(roundtrip);
	TEST(reproducible);
	TEST(zero_root_valid);
	TEST(no_root_record);
	TEST(bit_flips);
	TEST(truncation);
	TEST(truncation_consistent);
	TEST(schema_hash_mismatch);

	CORRUPT(too_small, MCPG_VERR_TOO_SMALL, "100 bytes");
	CORRUPT(bad_major, MCPG_VERR_MAJOR, "format 2.0");
	CORRUPT(header_size, MCPG_VERR_HEADER_SIZE, NULL);
	CORRUPT(table_offset, MCPG_VERR_TABLE_OFFSET, NULL);
	CORRUPT(section_count, MCPG_VERR_SECTION_COUNT, NULL);
	CORRUPT(header_reserved, MCPG_VERR_RESERVED, "offset 91");
	CORRUPT(overlapping_sections, MCPG_VERR_SECTION_OVERLAP, NULL);
	CORRUPT(section_order, MCPG_VERR_SECTION_ORDER, NULL);
	CORRUPT(section_unaligned, MCPG_VERR_SECTION_ALIGN, NULL);
	CORRUPT(section_past_end, MCPG_VERR_SECTION_BOUNDS, NULL);
	CORRUPT(duplicate_section, MCPG_VERR_SECTION_DUPLICATE, NULL);
	CORRUPT(missing_section, MCPG_VERR_SECTION_MISSING, "DATA");
	CORRUPT(section_flags, MCPG_VERR_SECTION_FLAGS, NULL);
	CORRUPT(section_size, MCPG_VERR_SECTION_SIZE, "EXPR");
	CORRUPT(unknown_required_section, MCPG_VERR_SECTION_UNKNOWN, "id 99");
	CORRUPT(unknown_optional_section, MCPG_VERR_OK, NULL);
	CORRUPT(padding_nonzero, MCPG_VERR_PADDING, NULL);
	CORRUPT(digest_mismatch, MCPG_VERR_DIGEST, NULL);
	CORRUPT(pool_head, MCPG_VERR_STR_ENTRY, NULL);
	CORRUPT(unterminated_string, MCPG_VERR_STR_UNTERMINATED, NULL);
	CORRUPT(string_past_pool, MCPG_VERR_STR_UNTERMINATED, NULL);
	CORRUPT(nul_in_string, MCPG_VERR_STR_NUL, NULL);
	CORRUPT(pool_padding, MCPG_VERR_STR_ENTRY, NULL);
	CORRUPT(bad_strref, MCPG_VERR_STRREF, "at 'name'");
	CORRUPT(strref_past_pool, MCPG_VERR_STRREF, "at 'name'");
	CORRUPT(strref_ipol_index, MCPG_VERR_STRREF, "at 'name'");
	CORRUPT(seg_kind, MCPG_VERR_SEG_KIND, NULL);
	CORRUPT(ipol_seg_kind, MCPG_VERR_SEG_KIND, "IPOL entry 0");
	CORRUPT(seg_range, MCPG_VERR_SEG_RANGE, NULL);
	CORRUPT(seg_range_overflow, MCPG_VERR_SEG_RANGE, NULL);
	CORRUPT(ipol_src_bad, MCPG_VERR_STRREF, "IPOL entry 0");
	CORRUPT(code_range, MCPG_VERR_CODE_RANGE, NULL);
	CORRUPT(code_bad_opcode, MCPG_VERR_CODE, NULL);
	CORRUPT(code_two_results, MCPG_VERR_CODE, NULL);
	CORRUPT(data_head, MCPG_VERR_DATA_HEAD, NULL);
	CORRUPT(bool_value, MCPG_VERR_BOOL, "at 'debug'");
	CORRUPT(enum_out_of_range, MCPG_VERR_ENUM, "at 'color'");
	CORRUPT(template_index, MCPG_VERR_TMPL_REF, "at 'url'");
	CORRUPT(expr_index, MCPG_VERR_EXPR_REF, "at 'allow'");
	CORRUPT(set_mask, MCPG_VERR_SET_MASK, NULL);
	CORRUPT(record_ref_bounds, MCPG_VERR_RECORD_REF, "at 'tls'");
	CORRUPT(record_ref_unaligned, MCPG_VERR_RECORD_REF, "at 'tls'");
	CORRUPT(union_tag, MCPG_VERR_UNION_TAG, "at 'backend'");
	CORRUPT(union_ref_keyless, MCPG_VERR_UNION_REF, "at 'backends[1]'");
	CORRUPT(union_ref_missing, MCPG_VERR_UNION_REF, "at 'backend'");
	CORRUPT(list_out_of_bounds, MCPG_VERR_LIST_BOUNDS, "at 'items'");
	CORRUPT(list_count_overflow, MCPG_VERR_LIST_BOUNDS, "at 'items'");
	CORRUPT(list_unaligned, MCPG_VERR_LIST_BOUNDS, "at 'tags'");
	CORRUPT(empty_list_with_ref, MCPG_VERR_LIST_BOUNDS, "at 'tags'");
	CORRUPT(list_element, MCPG_VERR_STRREF, "at 'tags[2]'");
	CORRUPT(map_key, MCPG_VERR_STRREF, "at 'labels[1]'");
	CORRUPT(nested_bool, MCPG_VERR_BOOL, "at 'items[1].enabled'");
	CORRUPT(item_set_mask, MCPG_VERR_SET_MASK, "at 'items[1]'");
	CORRUPT(shared_record, MCPG_VERR_WORK, NULL);
	TEST(depth_limit);
	TEST(buffer_unaligned);

	TEST(write_and_open);
	TEST(write_error_message);
	TEST(write_refuses_bad_image);
	TEST(open_errors);
	TEST(open_prepared);
	TEST(error_strings);

	rmdir(tmpdir);
	return test_done();
}
