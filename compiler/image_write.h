/*
 * image_write.h - build a config image and write it atomically.
 *
 * The last phase of mcpgc build: the lowering (emit_image.c) walks the
 * merged, validated config and fills a struct mcc_image with records,
 * strings, templates and expressions; mcc_image_write() lays the sections
 * out as runtime/image_format.h describes, computes the digest, writes
 * PATH.tmp, verifies it with the runtime's own verifier and renames it into
 * place.  The same calls in the same order give the same bytes.
 *
 * The builder keeps one growable buffer per section on the heap (not in the
 * arena: a long-running caller can free it with mcc_image_free()).  Memory
 * exhaustion aborts, as the arena does.  Inputs the format cannot hold (a
 * section past 2 GiB, a NUL inside a string, a clashing raw section) make
 * the builder remember the first such error, return 0 from then on, and
 * fail in mcc_image_serialize(); mcc_image_error() says why.
 */
#ifndef MCC_IMAGE_WRITE_H
#define MCC_IMAGE_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "image_format.h"
#include "schema_desc.h"

struct mcc_image;

/* An empty image: STRS holds its 4 zero bytes and DATA its 8. */
struct mcc_image *mcc_image_new(void);
/* Free everything; NULL is fine. */
void mcc_image_free(struct mcc_image *img);

/*
 * Intern `len` bytes at `s` (no NUL among them) into STRS and return the
 * strref.  Equal strings get the same strref.  The empty string is a real
 * entry (not 0).  mcc_image_cstr(img, NULL) is 0, "absent".
 */
uint32_t mcc_image_str(struct mcc_image *img, const char *s, size_t len);
uint32_t mcc_image_cstr(struct mcc_image *img, const char *s);

/*
 * `size` zeroed bytes in DATA, 8-aligned, size rounded up to 8; returns the
 * DATA ref.  The first call (the root record) returns MCPG_IMG_ROOT_REF.
 * Each record or array must be allocated once and referenced once: the
 * verifier's work bound counts on it.
 */
uint32_t mcc_image_alloc(struct mcc_image *img, size_t size);
/* Pointer to DATA at `ref`; valid until the next mcc_image_alloc(). */
unsigned char *mcc_image_at(struct mcc_image *img, uint32_t ref);
/* Little-endian stores into DATA at `ref` (a record ref plus a field offset). */
void mcc_image_put8(struct mcc_image *img, uint32_t ref, uint8_t v);
void mcc_image_put32(struct mcc_image *img, uint32_t ref, uint32_t v);
void mcc_image_put64(struct mcc_image *img, uint32_t ref, uint64_t v);

/*
 * Table appenders; each returns the new entry's index.  A record stores an
 * IPOL entry as the strref MCPG_STRREF_IPOL | index, and a template or an
 * expression as 1 + index (0 is "absent").  Segments of one template are
 * appended in order before it; seg_off is the index of the first.
 */
uint32_t mcc_image_add_seg(struct mcc_image *img, enum mcpg_seg_kind kind, uint32_t str);
uint32_t mcc_image_add_ipol(struct mcc_image *img, uint32_t src, uint32_t key,
			    uint32_t seg_off, uint32_t seg_n);
uint32_t mcc_image_add_tmpl(struct mcc_image *img, uint32_t src, uint32_t key,
			    uint32_t seg_off, uint32_t seg_n);
uint32_t mcc_image_add_expr(struct mcc_image *img, uint32_t src, uint32_t key,
			    uint32_t code_off, uint32_t code_len);
/* Append bytecode to CODE; returns its byte offset (code_off above). */
uint32_t mcc_image_add_code(struct mcc_image *img, const void *code, size_t len);
/* Append one API token to TOKS (the caller appends them sorted by hash). */
uint32_t mcc_image_add_tok(struct mcc_image *img, const struct mcpg_img_tok *tok);

/* Set KEYS to `len` bytes of JWK Set text (no NUL); once.  0, or -1 (sticky error). */
int mcc_image_set_keys(struct mcc_image *img, const char *text, size_t len);

/*
 * Entries in a section so far: IPOL, TMPL, SEGS, EXPR, TOKS count entries;
 * STRS, DATA, CODE and KEYS count bytes.
 */
uint32_t mcc_image_count(const struct mcc_image *img, enum mcpg_section_id id);

/*
 * A section this builder has no appender for, copied as is: future optional
 * sections, and tests of unknown-section handling.  The id must not be a
 * known one nor added twice.  Returns 0, or -1 (and the sticky error).
 */
int mcc_image_add_section(struct mcc_image *img, uint32_t id, uint32_t flags,
			  const void *p, size_t len);

/* The first input the builder could not hold, or NULL. */
const char *mcc_image_error(const struct mcc_image *img);

/*
 * Lay the image out: header, section table (STRS, DATA, then every other
 * non-empty section, in id order), sections on 8-byte boundaries, zero
 * padding, the file ending on an 8-byte boundary, and the SHA-256 digest.
 * On success *buf is malloc'ed (the caller frees it) and 0 is returned;
 * -1 on a sticky error.
 */
int mcc_image_serialize(struct mcc_image *img, uint64_t schema_hash,
			unsigned char **buf, size_t *len);

/*
 * Write the image to `path` atomically: PATH.tmp in the same directory,
 * fsync, verify the file with mcpg_image_open() against `schema`, rename
 * over PATH, fsync the directory.  On success copies the digest to `digest`
 * (may be NULL) and returns 0.  On failure reports one error to `d`
 * ("cannot write 'PATH': strerror", or an internal error when the image
 * does not verify), removes PATH.tmp, leaves PATH as it was and returns -1.
 */
int mcc_image_write(struct mcc_image *img, const char *path,
		    const struct mcpg_schema *schema, struct mcc_diag *d,
		    unsigned char digest[32]);

/*
 * The same for an image already laid out by mcc_image_serialize() (`len`
 * bytes at `buf`, which stay the caller's), such as mcc_compile()'s
 * cfg->bytes: written, then verified from the file in full, as above.
 */
int mcc_image_write_buf(const unsigned char *buf, size_t len, const char *path,
			const struct mcpg_schema *schema, struct mcc_diag *d,
			unsigned char digest[32]);

#endif /* MCC_IMAGE_WRITE_H */
