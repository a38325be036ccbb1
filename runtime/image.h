/*
 * image.h - verify and read an mcpg config image.
 *
 * The runtime maps the image at boot and calls mcpg_image_verify() once
 * (through mcpg_image_open()); mcpgc calls the same verifier on every image
 * it writes.  Verification checks the header, the section table, the
 * padding, the SHA-256 digest, the string pool, the IPOL/TMPL/SEGS/EXPR
 * arrays and every record reachable from the root, walking the schema's
 * descriptor tables.  After it succeeds the accessors below do no checks:
 * "verify once, then trust".  The layout itself is in image_format.h.
 */
#ifndef MCPG_IMAGE_H
#define MCPG_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "image_format.h"
#include "schema_desc.h"

/*
 * Verifier errors: one list gives the enum and the strings.  A code names
 * the check that failed; err->msg says what was found, and err->offset the
 * file offset of the byte that failed.  Codes are part of the test suite's
 * expectations, so add new ones at the end of a group, never renumber.
 */
#define MCPG_VERIFY_ERROR_LIST(X)                                              \
	X(OK, "no error")                                                      \
	X(IO, "cannot read image")                                             \
	X(NOMEM, "out of memory")                                              \
	X(BUF_ALIGN, "image buffer not 8-aligned")                             \
	X(TOO_SMALL, "file shorter than the header")                           \
	X(MAGIC, "not an mcpg image (bad magic)")                              \
	X(MAJOR, "unsupported format major version")                           \
	X(HEADER_SIZE, "bad header size")                                      \
	X(FILE_SIZE, "file size does not match the header")                    \
	X(FLAGS, "unknown header flags")                                       \
	X(RESERVED, "reserved header field not zero")                          \
	X(SCHEMA_HASH, "schema hash mismatch")                                 \
	X(SECTION_COUNT, "bad section count")                                  \
	X(TABLE_OFFSET, "bad section table offset")                            \
	X(SECTION_FLAGS, "unknown section flags")                              \
	X(SECTION_ALIGN, "section not 8-aligned")                              \
	X(SECTION_BOUNDS, "section out of bounds")                             \
	X(SECTION_ORDER, "section out of order")                               \
	X(SECTION_OVERLAP, "sections overlap")                                 \
	X(SECTION_DUPLICATE, "duplicate section")                              \
	X(SECTION_UNKNOWN, "unknown required section")                         \
	X(SECTION_MISSING, "required section missing")                         \
	X(SECTION_SIZE, "bad section size")                                    \
	X(PADDING, "padding not zero")                                         \
	X(DIGEST, "checksum mismatch")                                         \
	X(STR_ENTRY, "malformed string pool entry")                            \
	X(STR_UNTERMINATED, "string not terminated inside the pool")           \
	X(STR_NUL, "NUL byte inside a string")                                 \
	X(STRREF, "bad string reference")                                      \
	X(SEG_KIND, "bad template segment kind")                               \
	X(SEG_RANGE, "template segments out of bounds")                        \
	X(CODE_RANGE, "expression bytecode out of bounds")                     \
	X(DATA_HEAD, "records section does not start with 8 zero bytes")       \
	X(BOOL, "bool not 0 or 1")                                             \
	X(ENUM, "enum value out of range")                                     \
	X(TMPL_REF, "template reference out of range")                         \
	X(EXPR_REF, "expression reference out of range")                       \
	X(RECORD_REF, "bad record reference")                                  \
	X(UNION_TAG, "union tag out of range")                                 \
	X(UNION_REF, "union reference does not match its tag")                 \
	X(LIST_BOUNDS, "list or map out of bounds")                            \
	X(SET_MASK, "set bit for a field that is not optional")                \
	X(WORK, "records exceed the records section (shared or overlapping)")  \
	X(DEPTH, "records nested too deeply")                                  \
	X(CODE, "malformed expression bytecode")                               \
	X(TOK_ORDER, "API tokens not sorted by digest")                        \
	X(KEYS_NUL, "NUL byte inside the key set")

enum mcpg_verify_code {
#define X(name, text) MCPG_VERR_##name,
	MCPG_VERIFY_ERROR_LIST(X)
#undef X
	MCPG_VERR__COUNT
};

/* Deepest record nesting the verifier follows (inline structs count too). */
#define MCPG_VERIFY_MAX_DEPTH 64

struct mcpg_verify_error {
	enum mcpg_verify_code code;
	uint64_t offset; /* file offset of the failing byte; 0 when none applies */
	/*
	 * One line, lowercase, no trailing full stop, never the file name (the
	 * caller prints "PATH: msg"), never a value: only offsets, sizes, ids,
	 * codes and key paths, so sensitive values cannot leak.
	 */
	char msg[256];
};

/* "checksum mismatch" etc. for a code; "unknown error" when out of range. */
const char *mcpg_verify_strerror(enum mcpg_verify_code code);
/* "DIGEST" etc., the code's name in the list above (for tests and logs). */
const char *mcpg_verify_code_name(enum mcpg_verify_code code);

/*
 * A verified image.  Everything points into the caller's buffer or the
 * mapping; nothing is copied.  Sections the image does not have are NULL
 * with a count of 0.
 */
struct mcpg_image {
	const unsigned char *base; /* the whole file */
	size_t size;
	int is_mapped;             /* mcpg_image_open(): close() unmaps base */

	uint16_t major, minor;
	uint64_t schema_hash;
	unsigned char digest[32];  /* SHA-256 over the file, digest field zero */
	char digest_hex[65];       /* the same, lowercase hex, NUL-terminated */
	const struct mcpg_schema *schema;

	const unsigned char *strs; /* STRS */
	uint32_t strs_len;
	const unsigned char *data; /* DATA; the root record is data + 8 */
	uint32_t data_len;
	const struct mcpg_img_ipol *ipol;
	uint32_t ipol_nr;
	const struct mcpg_img_tmpl *tmpl;
	uint32_t tmpl_nr;
	const struct mcpg_img_seg *segs;
	uint32_t segs_nr;
	const struct mcpg_img_expr *expr;
	uint32_t expr_nr;
	const unsigned char *code; /* CODE: bytes */
	uint32_t code_len;
	const struct mcpg_img_tok *toks; /* TOKS: sorted by hash */
	uint32_t toks_nr;
	const char *keys;          /* KEYS: JWK Set text (not NUL-terminated), or NULL */
	uint32_t keys_len;

	/*
	 * Resolved ${env.*} strings, ipol_nr entries, filled at boot by the
	 * runtime (NULL until then, and NULL entries until resolved).  Owned
	 * by whoever sets it: mcpg_image_close() does not free it.
	 */
	const char **ipol_resolved;
};

/*
 * Verify `len` bytes at `buf` (8-aligned: mmap and malloc give that) against
 * `schema` and fill `img` (overwritten, not released first) to point into
 * them.  Returns 0, or -1 with `err` (which may be NULL) filled and `img`
 * zeroed.  Never reads outside [buf, buf + len), whatever the bytes are;
 * the work done is linear in len.  `buf` must stay unchanged and alive
 * while `img` is used.
 */
int mcpg_image_verify(struct mcpg_image *img, const unsigned char *buf, size_t len,
		      const struct mcpg_schema *schema, struct mcpg_verify_error *err);

/*
 * mcpg_image_verify() for bytes the caller has just laid out and hashed
 * itself: mcpgc, right after mcc_image_serialize(), so a config is not
 * hashed twice in a row.  `digest` is the SHA-256 the caller computed over
 * exactly these bytes (digest field as zero); it is compared with the
 * header instead of hashing `buf` again.  Every other check is the same.
 * Never for bytes read from a file or received: the runtime, and mcpgc on
 * the file it wrote, use mcpg_image_verify() or mcpg_image_open().
 */
int mcpg_image_verify_hashed(struct mcpg_image *img, const unsigned char *buf, size_t len,
			     const struct mcpg_schema *schema, const unsigned char digest[32],
			     struct mcpg_verify_error *err);

/*
 * Tests and fuzzers set this: verify() then runs both of its record walks
 * (a compiled fast one, and the slow one that describes faults) on every
 * image and aborts when they disagree.
 */
extern int mcpg_image_verify_crosscheck;

/*
 * Open `path`, map it PROT_READ/MAP_PRIVATE and verify it.  Returns 0, or -1
 * with `err` filled (I/O errors as MCPG_VERR_IO with strerror in the
 * message) and nothing left mapped or open.
 */
int mcpg_image_open(struct mcpg_image *img, const char *path,
		    const struct mcpg_schema *schema, struct mcpg_verify_error *err);

/*
 * mcpg_image_open() that also runs prepare(ctx) once the image's structure
 * is verified (the accessors are then safe) but before its digest is
 * known: the runtime builds its snapshot (environment, binding index) while
 * a big image is still being hashed.  prepare runs on another thread than
 * the caller's when the image is big, and must not serve anything or use
 * img->digest.  Returns 0; -1 with `err` filled when the image is bad (a
 * wrong digest is the error reported even when other checks failed too);
 * or -2 when prepare returned < 0 (its message is its own).  On -1 and -2
 * nothing is left mapped and `img` is zeroed.
 */
int mcpg_image_open_prepared(struct mcpg_image *img, const char *path,
			     const struct mcpg_schema *schema, int (*prepare)(void *ctx),
			     void *ctx, struct mcpg_verify_error *err);

/* Unmap an image from mcpg_image_open() (no-op for verify()) and zero it. */
void mcpg_image_close(struct mcpg_image *img);

/*
 * SHA-256 of `len` bytes with the header's digest field taken as zero
 * (bytes 56..87; `len` must be at least MCPG_IMG_HEADER_SIZE).  The writer
 * uses it to fill the field and the verifier to check it.  Returns 0, or -1
 * when OpenSSL cannot allocate its context.
 */
int mcpg_image_digest(const unsigned char *buf, size_t len, unsigned char out[32]);
/*
 * SHA-256 of `len` bytes with OpenSSL's low-level code, like the image
 * digest: no provider is loaded and no openssl.cnf read (the audit chain
 * hashes every line; its first one is on the boot path).  0 or -1.
 */
int mcpg_sha256(const void *buf, size_t len, unsigned char out[32]);

/*
 * Accessors.  Valid only on a verified image; they do no checks.
 */

/* The string for a strref: NULL for 0.  An IPOL ref (bit 31) gives the
 * resolved text when the runtime has set it, else the text as written. */
static inline const char *
mcpg_str(const struct mcpg_image *img, uint32_t ref)
{
	if (ref == 0)
		return NULL;
	if (ref & MCPG_STRREF_IPOL) {
		uint32_t i = ref & ~MCPG_STRREF_IPOL;

		if (img->ipol_resolved && img->ipol_resolved[i])
			return img->ipol_resolved[i];
		ref = img->ipol[i].src;
	}
	return (const char *)img->strs + ref + 4;
}

/* Its length in bytes (0 for ref 0). */
static inline size_t
mcpg_str_len(const struct mcpg_image *img, uint32_t ref)
{
	if (ref == 0)
		return 0;
	if (ref & MCPG_STRREF_IPOL) {
		uint32_t i = ref & ~MCPG_STRREF_IPOL;

		if (img->ipol_resolved && img->ipol_resolved[i])
			return strlen(img->ipol_resolved[i]);
		ref = img->ipol[i].src;
	}
	return mcpg_le32(img->strs + ref);
}

/* The record at a DATA ref: NULL for 0.  8-aligned. */
static inline const void *
mcpg_rec(const struct mcpg_image *img, uint32_t ref)
{
	return ref ? (const void *)(img->data + ref) : NULL;
}

/* The root record. */
static inline const void *
mcpg_root(const struct mcpg_image *img)
{
	return img->data + MCPG_IMG_ROOT_REF;
}

#endif /* MCPG_IMAGE_H */
