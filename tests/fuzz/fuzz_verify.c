/*
 * fuzz_verify.c - libFuzzer target for the image verifier (runtime/image.c).
 *
 * The verifier must never read outside its buffer, crash or take more than
 * linear time, whatever the bytes.  Inputs take one of two shapes:
 *
 *   - a whole image (starts with the magic): verified as is, then again
 *     with the digest recomputed, so mutations reach the checks behind it;
 *   - anything else: a list of (u16 offset, u8 value) edits applied to a
 *     valid base image, then the digest recomputed.  This reaches the
 *     string pool and record checks without a seed corpus.
 *
 * After a successful verification every string of IPOL/TMPL/SEGS/EXPR is
 * read back through the accessors, so a verifier that lets a bad strref
 * through shows up as an ASan report.
 *
 * Seed corpus: FUZZ_VERIFY_SEED=DIR/base.img makes the target write its
 * base image there at start-up, so
 *
 *   mkdir -p corpus && FUZZ_VERIFY_SEED=corpus/base.img build/fuzz/fuzz_verify \
 *     -runs=0 corpus && build/fuzz/fuzz_verify -max_total_time=60 corpus
 *
 * starts from a valid whole image as well as from the edit lists.
 *
 * By default the target uses the real schema (mcpg_schema, generated/) with
 * a zeroed root record as the base image, and `make fuzz` builds it.  With
 * -DFUZZ_SAMPLE_SCHEMA it uses the hand-written sample schema and the rich
 * sample image of the unit tests instead, and needs no generated/:
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -DFUZZ_SAMPLE_SCHEMA -Iruntime -Icompiler tests/fuzz/fuzz_verify.c \
 *     runtime/image.c compiler/image_write.c compiler/diag.c -lcrypto
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "image_write.h"

#ifdef FUZZ_SAMPLE_SCHEMA
#include "../images/sample_schema.h"
#define FUZZ_SCHEMA sample_schema
#else
#define FUZZ_SCHEMA mcpg_schema
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char *base;
static size_t base_len;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct mcc_image *img = mcc_image_new();
	const char *seed;

	/* Both record walks on every input: they must agree. */
	mcpg_image_verify_crosscheck = 1;

#ifdef FUZZ_SAMPLE_SCHEMA
	sample_build(img);
#else
	mcc_image_alloc(img, FUZZ_SCHEMA.types[FUZZ_SCHEMA.root].size);
#endif
	if (mcc_image_serialize(img, FUZZ_SCHEMA.hash, &base, &base_len) < 0)
		abort();
	mcc_image_free(img);
	seed = getenv("FUZZ_VERIFY_SEED");
	if (seed && *seed) {
		FILE *f = fopen(seed, "wb");

		if (!f || fwrite(base, 1, base_len, f) != base_len || fclose(f))
			abort();
	}
	return 0;
}

/* Read every string the tables point at; ASan catches a bad one. */
static void
read_back(const struct mcpg_image *img)
{
	size_t sum = 0;

	for (uint32_t i = 0; i < img->ipol_nr; i++)
		sum += strlen(mcpg_str(img, img->ipol[i].src)) +
		       mcpg_str_len(img, MCPG_STRREF_IPOL | i);
	for (uint32_t i = 0; i < img->tmpl_nr; i++)
		sum += strlen(mcpg_str(img, img->tmpl[i].src));
	for (uint32_t i = 0; i < img->segs_nr; i++)
		sum += strlen(mcpg_str(img, img->segs[i].str));
	for (uint32_t i = 0; i < img->expr_nr; i++) {
		const struct mcpg_img_expr *e = &img->expr[i];

		sum += strlen(mcpg_str(img, e->src));
		if (e->code_len)
			sum += img->code[e->code_off + e->code_len - 1];
	}
	if (sum == (size_t)-1)
		abort();
}

static void
check(unsigned char *buf, size_t len)
{
	struct mcpg_verify_error err;
	struct mcpg_image img;

	if (mcpg_image_verify(&img, buf, len, &FUZZ_SCHEMA, &err) == 0) {
		read_back(&img);
		mcpg_image_close(&img);
	} else if (!err.msg[0] || err.code == MCPG_VERR_OK) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf;
	size_t len;

	if (size >= MCPG_IMG_MAGIC_LEN && !memcmp(data, MCPG_IMG_MAGIC, MCPG_IMG_MAGIC_LEN)) {
		/* malloc gives the 8-byte alignment the verifier asks for; an
		 * exact-size copy lets ASan see any read past the end. */
		len = size;
		buf = malloc(len ? len : 1);
		memcpy(buf, data, len);
		check(buf, len);
		if (len >= MCPG_IMG_HEADER_SIZE) {
			mcpg_image_digest(buf, len, buf + MCPG_HDR_DIGEST);
			check(buf, len);
		}
		free(buf);
		return 0;
	}
	len = base_len;
	buf = malloc(len);
	memcpy(buf, base, len);
	for (size_t i = 0; i + 3 <= size; i += 3) {
		size_t off = (size_t)(data[i] | data[i + 1] << 8) % len;

		buf[off] = data[i + 2];
	}
	mcpg_image_digest(buf, len, buf + MCPG_HDR_DIGEST);
	check(buf, len);
	free(buf);
	return 0;
}
