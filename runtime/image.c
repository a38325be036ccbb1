/*
 * image.c - the config image verifier and reader.
 *
 * mcpg maps the image at boot and verifies it here once; mcpgc links this
 * file too and verifies every image it writes.  The checks run in file
 * order, so a damaged field is reported as itself and not as a symptom
 * further on:
 *
 *   1. header fields, one error code each (image.h);
 *   2. the section table, row by row: flags, alignment, bounds, order,
 *      overlap, duplicates, unknown required ids; then required sections;
 *   3. every byte outside header, table and sections is zero;
 *   4. the SHA-256 digest;
 *   5. the string pool, walked once into a bitmap of entry starts, so each
 *      strref is checked in O(1);
 *   6. SEGS, IPOL, TMPL, EXPR, TOKS and KEYS;
 *   7. DATA, from the root record, walking the schema's descriptor tables.
 *
 * Offsets in the file are untrusted, so every bounds check has the
 * overflow-safe shape `off > size || size - off < len`.  Bytes are read
 * with mcpg_le*() until a range is known good.  The record walk charges
 * each out-of-line record and array to a budget of the DATA size (the
 * writer never shares), so a crafted image cannot make the walk slower than
 * linear, and its depth is capped at MCPG_VERIFY_MAX_DEPTH.
 */
#include "image.h"

#include "expr.h"
#include "hex.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The digest uses OpenSSL's low-level SHA-256 calls, deprecated in 3.0 but
 * the same code (SHA-NI or AVX2 as the CPU allows): EVP_sha256() would
 * first load the default provider and read openssl.cnf, about 1 ms of a
 * boot budget of 5 ms and several hundred KiB of resident libcrypto pages
 * in a runtime that may never speak TLS.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

static const char *const code_text[] = {
#define X(name, text) text,
	MCPG_VERIFY_ERROR_LIST(X)
#undef X
};

static const char *const code_name[] = {
#define X(name, text) #name,
	MCPG_VERIFY_ERROR_LIST(X)
#undef X
};

const char *
mcpg_verify_strerror(enum mcpg_verify_code code)
{
	if ((unsigned)code >= MCPG_VERR__COUNT)
		return "unknown error";
	return code_text[code];
}

const char *
mcpg_verify_code_name(enum mcpg_verify_code code)
{
	if ((unsigned)code >= MCPG_VERR__COUNT)
		return "UNKNOWN";
	return code_name[code];
}

/* Section ids this reader knows. */
static int
known_section(uint32_t id)
{
	switch (id) {
#define X(name, id, desc) case id:
		MCPG_SECTION_LIST(X)
#undef X
		return 1;
	}
	return 0;
}

static const char *
section_name(uint32_t id)
{
	switch (id) {
#define X(name, id, desc) case id: return #name;
		MCPG_SECTION_LIST(X)
#undef X
	}
	return NULL;
}

/* Where the record walk is, for messages: field names and list indexes. */
struct path_elem {
	const char *name; /* field name, or NULL for an element */
	uint32_t index;
};

#define PATH_MAX_ELEMS (2 * MCPG_VERIFY_MAX_DEPTH + 8)

struct vctx {
	const unsigned char *buf;
	size_t len;
	const struct mcpg_schema *schema;
	struct mcpg_verify_error *err;
	struct mcpg_image *img;
	const unsigned char *hashed;  /* the caller's digest of buf, or NULL */

	uint64_t strs_off, data_off;  /* file offsets of STRS and DATA */
	unsigned char *strbits;       /* bit i: a pool entry starts at 4 * i */
	uint32_t *seg_bad;            /* prefix counts of non-IPOL segment kinds */
	uint64_t budget;              /* DATA bytes the record walk may still visit */

	struct path_elem path[PATH_MAX_ELEMS];
	int npath;                    /* may exceed PATH_MAX_ELEMS; extra is not kept */
};

static void
path_push(struct vctx *v, const char *name, uint32_t index)
{
	if (v->npath < PATH_MAX_ELEMS)
		v->path[v->npath] = (struct path_elem){ name, index };
	v->npath++;
}

static void
path_pop(struct vctx *v)
{
	v->npath--;
}

/* printf into buf at *n, keeping *n < size (truncating quietly). */
__attribute__((format(printf, 4, 0))) static void
vappend(char *buf, size_t size, size_t *n, const char *fmt, va_list ap)
{
	int k;

	if (*n + 1 >= size)
		return;
	k = vsnprintf(buf + *n, size - *n, fmt, ap);
	if (k > 0)
		*n = *n + (size_t)k < size ? *n + (size_t)k : size - 1;
}

__attribute__((format(printf, 4, 5))) static void
append(char *buf, size_t size, size_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vappend(buf, size, n, fmt, ap);
	va_end(ap);
}

/*
 * Record the failure: "<what failed>: <detail> at 'a.b[3].c' (offset N)".
 * The path is there when the walk is inside DATA.  `off` is a file offset;
 * UINT64_MAX when no byte is to blame.
 */
static int
report(struct vctx *v, enum mcpg_verify_code code, uint64_t off, const char *detail)
{
	struct mcpg_verify_error *e = v->err;
	int k = v->npath < PATH_MAX_ELEMS ? v->npath : PATH_MAX_ELEMS;
	size_t n = 0, size = sizeof(e->msg);

	if (!e)
		return -1;
	e->code = code;
	e->offset = off == UINT64_MAX ? 0 : off;
	append(e->msg, size, &n, "%s", code_text[code]);
	if (detail)
		append(e->msg, size, &n, ": %s", detail);
	if (k) {
		append(e->msg, size, &n, " at '");
		for (int i = 0; i < k; i++) {
			const struct path_elem *p = &v->path[i];

			if (p->name)
				append(e->msg, size, &n, "%s%s", i ? "." : "", p->name);
			else
				append(e->msg, size, &n, "[%" PRIu32 "]", p->index);
		}
		append(e->msg, size, &n, "%s'", k < v->npath ? "..." : "");
	}
	if (off != UINT64_MAX)
		append(e->msg, size, &n, " (offset %" PRIu64 ")", off);
	return -1;
}

__attribute__((format(printf, 4, 5))) static int
fail(struct vctx *v, enum mcpg_verify_code code, uint64_t off, const char *fmt, ...)
{
	char detail[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return report(v, code, off, detail);
}

/* The same without detail: the code's text says it all. */
static int
fail0(struct vctx *v, enum mcpg_verify_code code, uint64_t off)
{
	return report(v, code, off, NULL);
}

int
mcpg_sha256(const void *buf, size_t len, unsigned char out[32])
{
	/* Not SHA256(): in OpenSSL 3 that one goes through EVP_Q_digest(). */
	SHA256_CTX c;

	return SHA256_Init(&c) && SHA256_Update(&c, buf, len) && SHA256_Final(out, &c) ? 0 : -1;
}

int
mcpg_image_digest(const unsigned char *buf, size_t len, unsigned char out[32])
{
	static const unsigned char zero[MCPG_HDR_DIGEST_LEN];
	SHA256_CTX c;
	int ok;

	ok = SHA256_Init(&c) && SHA256_Update(&c, buf, MCPG_HDR_DIGEST) &&
	     SHA256_Update(&c, zero, sizeof(zero)) &&
	     SHA256_Update(&c, buf + MCPG_HDR_DIGEST + MCPG_HDR_DIGEST_LEN,
			   len - MCPG_HDR_DIGEST - MCPG_HDR_DIGEST_LEN) &&
	     SHA256_Final(out, &c);
	return ok ? 0 : -1;
}

/* The first non-zero byte in [from, to), or UINT64_MAX. */
static uint64_t
nonzero_at(const unsigned char *buf, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++)
		if (buf[i])
			return i;
	return UINT64_MAX;
}

/* ------------------------------------------------------------------------
 * Header and section table
 */

struct row {
	uint32_t id, flags;
	uint64_t off, size;
};

static int
check_header(struct vctx *v, uint32_t *nsec, uint64_t *table_off)
{
	const unsigned char *b = v->buf;
	uint64_t hsize, fsize, toff, tend;
	uint32_t count;
	uint16_t major;

	if (v->len < MCPG_IMG_HEADER_SIZE)
		return fail(v, MCPG_VERR_TOO_SMALL, UINT64_MAX,
			    "%zu bytes, the header alone is %d", v->len,
			    MCPG_IMG_HEADER_SIZE);
	if (memcmp(b + MCPG_HDR_MAGIC, MCPG_IMG_MAGIC, MCPG_IMG_MAGIC_LEN))
		return fail0(v, MCPG_VERR_MAGIC, MCPG_HDR_MAGIC);
	major = mcpg_le16(b + MCPG_HDR_MAJOR);
	if (major != MCPG_IMG_MAJOR)
		return fail(v, MCPG_VERR_MAJOR, MCPG_HDR_MAJOR,
			    "image is format %u.%u, this reader reads format %d",
			    major, mcpg_le16(b + MCPG_HDR_MINOR), MCPG_IMG_MAJOR);
	fsize = mcpg_le64(b + MCPG_HDR_FILE_SIZE);
	if (fsize != v->len)
		return fail(v, MCPG_VERR_FILE_SIZE, MCPG_HDR_FILE_SIZE,
			    "header says %" PRIu64 " bytes, file has %zu "
			    "(truncated or extended)", fsize, v->len);
	toff = mcpg_le64(b + MCPG_HDR_TABLE_OFFSET);
	if (toff % MCPG_IMG_ALIGN || toff < MCPG_IMG_HEADER_SIZE || toff > v->len)
		return fail(v, MCPG_VERR_TABLE_OFFSET, MCPG_HDR_TABLE_OFFSET,
			    "%" PRIu64, toff);
	hsize = mcpg_le32(b + MCPG_HDR_HEADER_SIZE);
	if (hsize < MCPG_IMG_HEADER_SIZE || hsize % MCPG_IMG_ALIGN || hsize > toff)
		return fail(v, MCPG_VERR_HEADER_SIZE, MCPG_HDR_HEADER_SIZE,
			    "%" PRIu64 " (section table at %" PRIu64 ")", hsize, toff);
	if (toff != hsize)
		return fail(v, MCPG_VERR_TABLE_OFFSET, MCPG_HDR_TABLE_OFFSET,
			    "%" PRIu64 ", not right after the %" PRIu64 "-byte header",
			    toff, hsize);
	if (mcpg_le64(b + MCPG_HDR_FLAGS))
		return fail(v, MCPG_VERR_FLAGS, MCPG_HDR_FLAGS, "0x%" PRIx64,
			    mcpg_le64(b + MCPG_HDR_FLAGS));
	if (mcpg_le32(b + MCPG_HDR_RESERVED1))
		return fail0(v, MCPG_VERR_RESERVED, MCPG_HDR_RESERVED1);
	{
		uint64_t at = nonzero_at(b, MCPG_HDR_RESERVED2, MCPG_IMG_HEADER_SIZE);

		if (at != UINT64_MAX)
			return fail0(v, MCPG_VERR_RESERVED, at);
	}
	v->img->schema_hash = mcpg_le64(b + MCPG_HDR_SCHEMA_HASH);
	if (v->img->schema_hash != v->schema->hash)
		return fail(v, MCPG_VERR_SCHEMA_HASH, MCPG_HDR_SCHEMA_HASH,
			    "image 0x%016" PRIx64 ", runtime 0x%016" PRIx64
			    " (rebuild the image with this mcpgc)",
			    v->img->schema_hash, v->schema->hash);
	count = mcpg_le32(b + MCPG_HDR_SECTION_COUNT);
	if (count > MCPG_IMG_MAX_SECTIONS)
		return fail(v, MCPG_VERR_SECTION_COUNT, MCPG_HDR_SECTION_COUNT,
			    "%" PRIu32 " sections, at most %d", count,
			    MCPG_IMG_MAX_SECTIONS);
	tend = (uint64_t)count * MCPG_IMG_SECTION_ENTRY_SIZE;
	if (v->len - toff < tend)
		return fail(v, MCPG_VERR_SECTION_COUNT, MCPG_HDR_SECTION_COUNT,
			    "%" PRIu32 " sections do not fit in the file", count);
	v->img->major = major;
	v->img->minor = mcpg_le16(b + MCPG_HDR_MINOR);
	*nsec = count;
	*table_off = toff;
	return 0;
}

/* Point img at a known section, after its row has been checked. */
static int
take_section(struct vctx *v, const struct row *r, uint64_t row_off)
{
	struct mcpg_image *img = v->img;
	const unsigned char *p = v->buf + r->off;
	uint32_t n = (uint32_t)r->size;
	uint32_t esize = 1;

	switch (r->id) {
	case MCPG_SEC_IPOL:
		esize = sizeof(struct mcpg_img_ipol);
		break;
	case MCPG_SEC_TMPL:
		esize = sizeof(struct mcpg_img_tmpl);
		break;
	case MCPG_SEC_SEGS:
		esize = sizeof(struct mcpg_img_seg);
		break;
	case MCPG_SEC_EXPR:
		esize = sizeof(struct mcpg_img_expr);
		break;
	case MCPG_SEC_TOKS:
		esize = MCPG_IMG_TOK_SIZE;
		break;
	}
	if (n % esize)
		return fail(v, MCPG_VERR_SECTION_SIZE, row_off + 16,
			    "%s is %" PRIu32 " bytes, not a multiple of %" PRIu32,
			    section_name(r->id), n, esize);
	switch (r->id) {
	case MCPG_SEC_STRS:
		img->strs = p;
		img->strs_len = n;
		v->strs_off = r->off;
		break;
	case MCPG_SEC_DATA:
		img->data = p;
		img->data_len = n;
		v->data_off = r->off;
		break;
	case MCPG_SEC_IPOL:
		img->ipol = (const struct mcpg_img_ipol *)(const void *)p;
		img->ipol_nr = n / esize;
		break;
	case MCPG_SEC_TMPL:
		img->tmpl = (const struct mcpg_img_tmpl *)(const void *)p;
		img->tmpl_nr = n / esize;
		break;
	case MCPG_SEC_SEGS:
		img->segs = (const struct mcpg_img_seg *)(const void *)p;
		img->segs_nr = n / esize;
		break;
	case MCPG_SEC_EXPR:
		img->expr = (const struct mcpg_img_expr *)(const void *)p;
		img->expr_nr = n / esize;
		break;
	case MCPG_SEC_CODE:
		img->code = p;
		img->code_len = n;
		break;
	case MCPG_SEC_TOKS:
		img->toks = (const struct mcpg_img_tok *)(const void *)p;
		img->toks_nr = n / esize;
		break;
	case MCPG_SEC_KEYS:
		img->keys = (const char *)p;
		img->keys_len = n;
		break;
	}
	return 0;
}

static int
check_table(struct vctx *v, uint32_t nsec, uint64_t toff)
{
	const unsigned char *b = v->buf;
	uint64_t tend = toff + (uint64_t)nsec * MCPG_IMG_SECTION_ENTRY_SIZE;
	uint64_t prev_off = 0, prev_end = tend, at;
	struct row rows[MCPG_IMG_MAX_SECTIONS];
	int have_strs = 0, have_data = 0;

	for (uint32_t i = 0; i < nsec; i++) {
		uint64_t ro = toff + (uint64_t)i * MCPG_IMG_SECTION_ENTRY_SIZE;
		struct row *r = &rows[i];
		const char *name;

		r->id = mcpg_le32(b + ro);
		r->flags = mcpg_le32(b + ro + 4);
		r->off = mcpg_le64(b + ro + 8);
		r->size = mcpg_le64(b + ro + 16);
		name = section_name(r->id);
		if (r->flags & ~MCPG_SECF_REQUIRED)
			return fail(v, MCPG_VERR_SECTION_FLAGS, ro + 4,
				    "section %" PRIu32 ": 0x%" PRIx32, r->id, r->flags);
		if (r->off % MCPG_IMG_ALIGN)
			return fail(v, MCPG_VERR_SECTION_ALIGN, ro + 8,
				    "section %" PRIu32 " at %" PRIu64, r->id, r->off);
		if (r->off > v->len || v->len - r->off < r->size)
			return fail(v, MCPG_VERR_SECTION_BOUNDS, ro + 8,
				    "section %" PRIu32 ": %" PRIu64 " bytes at %" PRIu64
				    " in a %zu-byte file", r->id, r->size, r->off, v->len);
		if (r->off < tend)
			return fail(v, MCPG_VERR_SECTION_OVERLAP, ro + 8,
				    "section %" PRIu32 " at %" PRIu64
				    " overlaps the header or section table", r->id, r->off);
		if (i && r->off < prev_off)
			return fail(v, MCPG_VERR_SECTION_ORDER, ro + 8,
				    "section %" PRIu32 " at %" PRIu64 " comes before "
				    "the section in the row above", r->id, r->off);
		if (r->off < prev_end)
			return fail(v, MCPG_VERR_SECTION_OVERLAP, ro + 8,
				    "section %" PRIu32 " at %" PRIu64 " starts before "
				    "the previous one ends at %" PRIu64, r->id, r->off,
				    prev_end);
		for (uint32_t j = 0; j < i; j++)
			if (rows[j].id == r->id)
				return fail(v, MCPG_VERR_SECTION_DUPLICATE, ro,
					    "section %" PRIu32 " (%s) in rows %" PRIu32
					    " and %" PRIu32, r->id, name ? name : "unknown",
					    j, i);
		if (!known_section(r->id) && (r->flags & MCPG_SECF_REQUIRED))
			return fail(v, MCPG_VERR_SECTION_UNKNOWN, ro,
				    "id %" PRIu32 " (written by a newer mcpgc?)", r->id);
		if (r->size > MCPG_IMG_MAX_SECTION_SIZE)
			return fail(v, MCPG_VERR_SECTION_SIZE, ro + 16,
				    "section %" PRIu32 ": %" PRIu64 " bytes", r->id,
				    r->size);
		prev_off = r->off;
		prev_end = r->off + r->size;
		if (known_section(r->id) && take_section(v, r, ro) < 0)
			return -1;
		have_strs |= r->id == MCPG_SEC_STRS;
		have_data |= r->id == MCPG_SEC_DATA;
	}
	if (!have_strs || !have_data)
		return fail(v, MCPG_VERR_SECTION_MISSING, MCPG_HDR_SECTION_COUNT,
			    "%s", !have_strs ? "STRS" : "DATA");

	/* Everything between the pieces is zero padding. */
	at = nonzero_at(b, tend, nsec ? rows[0].off : v->len);
	for (uint32_t i = 0; at == UINT64_MAX && i < nsec; i++)
		at = nonzero_at(b, rows[i].off + rows[i].size,
				i + 1 < nsec ? rows[i + 1].off : v->len);
	if (at != UINT64_MAX)
		return fail0(v, MCPG_VERR_PADDING, at);
	return 0;
}

static int
check_digest(struct vctx *v)
{
	struct mcpg_image *img = v->img;
	const unsigned char *want = v->buf + MCPG_HDR_DIGEST;
	char h1[17], h2[17];

	if (v->hashed)
		memcpy(img->digest, v->hashed, 32);
	else if (mcpg_image_digest(v->buf, v->len, img->digest) < 0)
		return fail(v, MCPG_VERR_NOMEM, UINT64_MAX, "computing SHA-256");
	if (memcmp(img->digest, want, 32)) {
		mcpg_hex(h1, want, 8);
		mcpg_hex(h2, img->digest, 8);
		return fail(v, MCPG_VERR_DIGEST, MCPG_HDR_DIGEST,
			    "header %s..., computed %s...", h1, h2);
	}
	mcpg_hex(img->digest_hex, img->digest, 32);
	return 0;
}

/* ------------------------------------------------------------------------
 * String pool, template and expression tables
 */

static int
check_strs(struct vctx *v)
{
	const unsigned char *p = v->img->strs;
	uint32_t n = v->img->strs_len, off;

	if (n < 4 || n % 4 || mcpg_le32(p))
		return fail(v, MCPG_VERR_STR_ENTRY, v->strs_off,
			    "the pool must start with 4 zero bytes and be a "
			    "multiple of 4 bytes (%" PRIu32 ")", n);
	/* Zeroed by writing: a read-modify-write of fresh calloc'd pages is
	 * a copy-on-write fault each, with a TLB flush of the hashing CPU
	 * (rt.c's build_bindings says more). */
	v->strbits = malloc((size_t)n / 32 + 1);
	if (!v->strbits)
		return fail0(v, MCPG_VERR_NOMEM, UINT64_MAX);
	memset(v->strbits, 0, (size_t)n / 32 + 1);
	for (off = 4; off < n;) {
		/* n and off are multiples of 4, so the len field is inside. */
		uint32_t slen = mcpg_le32(p + off), end;
		const unsigned char *s = p + off + 4;
		const unsigned char *nul;

		if (slen >= n - off - 4)
			return fail(v, MCPG_VERR_STR_UNTERMINATED, v->strs_off + off,
				    "length %" PRIu32 " runs past the end of the pool",
				    slen);
		nul = memchr(s, 0, slen);
		if (nul)
			return fail(v, MCPG_VERR_STR_NUL, v->strs_off + (uint64_t)(nul - p),
				    "in the string at pool offset %" PRIu32, off);
		if (s[slen])
			return fail(v, MCPG_VERR_STR_UNTERMINATED,
				    v->strs_off + off + 4 + slen,
				    "the string at pool offset %" PRIu32, off);
		end = off + 4 + slen + 1;
		for (; end % 4; end++)
			if (p[end])
				return fail(v, MCPG_VERR_STR_ENTRY, v->strs_off + end,
					    "padding after the string at pool offset %"
					    PRIu32 " is not zero", off);
		v->strbits[off / 32] |= (unsigned char)(1u << (off / 4 % 8));
		off = end;
	}
	return 0;
}

static int
is_pool_ref(const struct vctx *v, uint32_t ref)
{
	return ref && ref % 4 == 0 && ref < v->img->strs_len &&
	       (v->strbits[ref / 32] >> (ref / 4 % 8) & 1);
}

/* A strref in a record: 0, a pool entry, or an IPOL index. */
static int
is_strref(const struct vctx *v, uint32_t ref)
{
	if (ref & MCPG_STRREF_IPOL)
		return (ref & ~MCPG_STRREF_IPOL) < v->img->ipol_nr;
	return ref == 0 || is_pool_ref(v, ref);
}

static uint64_t
file_off(const struct vctx *v, const void *p)
{
	return (uint64_t)((const unsigned char *)p - v->buf);
}

/* src (never 0) and key (0 allowed) of an IPOL, TMPL or EXPR entry. */
static int
check_src_key(struct vctx *v, const char *what, uint32_t i, const unsigned char *e)
{
	if (!is_pool_ref(v, mcpg_le32(e)))
		return fail(v, MCPG_VERR_STRREF, file_off(v, e),
			    "%s entry %" PRIu32 ": source 0x%" PRIx32, what, i,
			    mcpg_le32(e));
	if (mcpg_le32(e + 4) && !is_pool_ref(v, mcpg_le32(e + 4)))
		return fail(v, MCPG_VERR_STRREF, file_off(v, e + 4),
			    "%s entry %" PRIu32 ": key 0x%" PRIx32, what, i,
			    mcpg_le32(e + 4));
	return 0;
}

static int
check_seg_range(struct vctx *v, const char *what, uint32_t i, const unsigned char *e)
{
	uint32_t off = mcpg_le32(e + 8), n = mcpg_le32(e + 12);

	if (off > v->img->segs_nr || v->img->segs_nr - off < n)
		return fail(v, MCPG_VERR_SEG_RANGE, file_off(v, e + 8),
			    "%s entry %" PRIu32 ": segments %" PRIu32 "+%" PRIu32
			    " of %" PRIu32, what, i, off, n, v->img->segs_nr);
	return 0;
}

/* Strref check for the bytecode verifier: a pool entry's text, or NULL. */
static const char *
code_str(void *ctx, uint32_t ref)
{
	const struct vctx *v = ctx;

	return is_pool_ref(v, ref) ? (const char *)v->img->strs + ref + 4 : NULL;
}

static int
check_tables(struct vctx *v)
{
	const struct mcpg_image *img = v->img;
	const unsigned char *e;

	/* One pass over SEGS, and prefix counts of kinds an IPOL may not use,
	 * so that each IPOL range is checked in O(1). */
	v->seg_bad = calloc((size_t)img->segs_nr + 1, sizeof(uint32_t));
	if (!v->seg_bad)
		return fail0(v, MCPG_VERR_NOMEM, UINT64_MAX);
	for (uint32_t i = 0; i < img->segs_nr; i++) {
		e = (const unsigned char *)&img->segs[i];
		if (e[0] >= MCPG_SEG__COUNT || e[1] || e[2] || e[3])
			return fail(v, MCPG_VERR_SEG_KIND, file_off(v, e),
				    "segment %" PRIu32 ": kind %u", i, e[0]);
		if (!is_pool_ref(v, mcpg_le32(e + 4)))
			return fail(v, MCPG_VERR_STRREF, file_off(v, e + 4),
				    "segment %" PRIu32 ": 0x%" PRIx32, i,
				    mcpg_le32(e + 4));
		v->seg_bad[i + 1] = v->seg_bad[i] + (e[0] > MCPG_SEG_ENV);
	}
	for (uint32_t i = 0; i < img->ipol_nr; i++) {
		e = (const unsigned char *)&img->ipol[i];
		if (check_src_key(v, "IPOL", i, e) < 0 ||
		    check_seg_range(v, "IPOL", i, e) < 0)
			return -1;
		{
			uint32_t off = mcpg_le32(e + 8), n = mcpg_le32(e + 12);

			if (v->seg_bad[off + n] != v->seg_bad[off])
				return fail(v, MCPG_VERR_SEG_KIND, file_off(v, e + 8),
					    "IPOL entry %" PRIu32 " uses a segment "
					    "that is not text or ${env.*}", i);
		}
	}
	for (uint32_t i = 0; i < img->tmpl_nr; i++) {
		e = (const unsigned char *)&img->tmpl[i];
		if (check_src_key(v, "TMPL", i, e) < 0 ||
		    check_seg_range(v, "TMPL", i, e) < 0)
			return -1;
	}
	for (uint32_t i = 0; i < img->expr_nr; i++) {
		uint32_t off, n;

		e = (const unsigned char *)&img->expr[i];
		if (check_src_key(v, "EXPR", i, e) < 0)
			return -1;
		off = mcpg_le32(e + 8);
		n = mcpg_le32(e + 12);
		if (off > img->code_len || img->code_len - off < n)
			return fail(v, MCPG_VERR_CODE_RANGE, file_off(v, e + 8),
				    "EXPR entry %" PRIu32 ": bytes %" PRIu32 "+%" PRIu32
				    " of %" PRIu32, i, off, n, img->code_len);
		{
			size_t bad = 0;
			int rc = mcpg_expr_verify(img->code + off, n, code_str, v, &bad);

			if (rc)
				return fail(v, MCPG_VERR_CODE, file_off(v, img->code + off + bad),
					    "EXPR entry %" PRIu32 ": %s", i,
					    mcpg_expr_strerror(rc));
		}
	}
	/* Sorted, so the runtime's binary search finds every token. */
	for (uint32_t i = 0; i < img->toks_nr; i++) {
		const struct mcpg_img_tok *t = &img->toks[i];

		e = (const unsigned char *)t;
		if (i && memcmp(img->toks[i - 1].hash, t->hash, sizeof(t->hash)) >= 0)
			return fail(v, MCPG_VERR_TOK_ORDER, file_off(v, e),
				    "TOKS entry %" PRIu32 " does not sort after entry %" PRIu32,
				    i, i - 1);
		if (!is_pool_ref(v, mcpg_le32(e + 40)))
			return fail(v, MCPG_VERR_STRREF, file_off(v, e + 40),
				    "TOKS entry %" PRIu32 ": id 0x%" PRIx32, i, mcpg_le32(e + 40));
		if (mcpg_le32(e + 44) && !is_pool_ref(v, mcpg_le32(e + 44)))
			return fail(v, MCPG_VERR_STRREF, file_off(v, e + 44),
				    "TOKS entry %" PRIu32 ": note 0x%" PRIx32, i,
				    mcpg_le32(e + 44));
	}
	if (img->keys && memchr(img->keys, 0, img->keys_len))
		return fail0(v, MCPG_VERR_KEYS_NUL,
			     file_off(v, memchr(img->keys, 0, img->keys_len)));
	return 0;
}

/* ------------------------------------------------------------------------
 * Records
 */

static uint32_t
round_up(uint32_t n, uint32_t a)
{
	return a > 1 ? (n + a - 1) / a * a : n;
}

static uint64_t
data_file_off(const struct vctx *v, uint64_t at)
{
	return v->data_off + at;
}

/* Take `bytes` (rounded to 8: allocations are 8-aligned) from the budget. */
static int
charge(struct vctx *v, uint64_t bytes, uint32_t at)
{
	bytes = (bytes + 7) & ~(uint64_t)7;
	if (bytes > v->budget)
		return fail(v, MCPG_VERR_WORK, data_file_off(v, at),
			    "%" PRIu64 " more bytes at DATA offset %" PRIu32, bytes, at);
	v->budget -= bytes;
	return 0;
}

static int verify_struct(struct vctx *v, uint16_t t, uint32_t at, int depth);

/* An out-of-line record of struct type t at DATA ref `ref` (not 0). */
static int
verify_ref(struct vctx *v, uint16_t t, uint32_t ref, uint64_t slot_off, int depth)
{
	uint32_t size = v->schema->types[t].size;
	uint32_t n = v->img->data_len;

	if (ref % MCPG_IMG_ALIGN || ref > n || n - ref < size)
		return fail(v, MCPG_VERR_RECORD_REF, slot_off,
			    "%s record at DATA offset %" PRIu32 " (%" PRIu32 " bytes)",
			    v->schema->types[t].name, ref, size);
	if (charge(v, size, ref) < 0)
		return -1;
	return verify_struct(v, t, ref, depth);
}

/* Where a list's or map's entries put their value, and their stride. */
static void
entry_layout(const struct mcpg_schema *S, const struct mcpg_type *ty, uint32_t *voff,
	     uint32_t *stride)
{
	const struct mcpg_type *et = &S->types[ty->elem];

	*voff = 0;
	*stride = round_up(et->size, et->align);
	if (ty->kind == MCPG_K_MAP) {
		*voff = et->align == 8 ? 8 : 4;
		*stride = round_up(*voff + et->size, et->align > 4 ? et->align : 4);
	}
}

static int
verify_slot(struct vctx *v, uint16_t t, uint32_t at, int depth)
{
	const struct mcpg_schema *S = v->schema;
	const struct mcpg_type *ty = &S->types[t];
	const unsigned char *p = v->img->data + at;
	uint64_t fo = data_file_off(v, at);
	uint32_t r;

	switch (ty->kind) {
	case MCPG_K_BOOL:
		if (p[0] > 1)
			return fail(v, MCPG_VERR_BOOL, fo, "%u", p[0]);
		return 0;
	case MCPG_K_INT:
	case MCPG_K_UINT:
		return 0;
	case MCPG_K_STRING:
	case MCPG_K_JSON:
		r = mcpg_le32(p);
		if (!is_strref(v, r))
			return fail(v, MCPG_VERR_STRREF, fo, "0x%" PRIx32, r);
		return 0;
	case MCPG_K_TEMPLATE:
		r = mcpg_le32(p);
		if (r > v->img->tmpl_nr)
			return fail(v, MCPG_VERR_TMPL_REF, fo, "%" PRIu32 " of %" PRIu32,
				    r, v->img->tmpl_nr);
		return 0;
	case MCPG_K_EXPR:
		r = mcpg_le32(p);
		if (r > v->img->expr_nr)
			return fail(v, MCPG_VERR_EXPR_REF, fo, "%" PRIu32 " of %" PRIu32,
				    r, v->img->expr_nr);
		return 0;
	case MCPG_K_ENUM:
		if (p[0] >= ty->count)
			return fail(v, MCPG_VERR_ENUM, fo, "%u, %s has %u values",
				    p[0], ty->name, ty->count);
		return 0;
	case MCPG_K_STRUCT:
		return verify_struct(v, t, at, depth + 1);
	case MCPG_K_OPTIONAL:
		if (S->types[ty->elem].kind != MCPG_K_STRUCT)
			return verify_slot(v, ty->elem, at, depth);
		r = mcpg_le32(p);
		return r ? verify_ref(v, ty->elem, r, fo, depth + 1) : 0;
	case MCPG_K_UNION: {
		uint32_t tag = mcpg_le32(p);
		const struct mcpg_variant *var;

		r = mcpg_le32(p + 4);
		if (tag > ty->count)
			return fail(v, MCPG_VERR_UNION_TAG, fo, "%" PRIu32 ", %s has %u "
				    "variants", tag, ty->name, ty->count);
		if (tag == 0) {
			if (r)
				return fail(v, MCPG_VERR_UNION_REF, fo + 4,
					    "absent union with a record");
			return 0;
		}
		var = &S->variants[ty->first + tag - 1];
		if (!var->type) {
			if (r)
				return fail(v, MCPG_VERR_UNION_REF, fo + 4,
					    "variant '%s' has no keys but a record",
					    var->text);
			return 0;
		}
		if (!r)
			return fail(v, MCPG_VERR_UNION_REF, fo + 4,
				    "variant '%s' without its record", var->text);
		return verify_ref(v, var->type, r, fo + 4, depth + 1);
	}
	case MCPG_K_LIST:
	case MCPG_K_MAP: {
		uint32_t count = mcpg_le32(p + 4), n = v->img->data_len, voff, stride;
		uint64_t bytes;

		r = mcpg_le32(p);
		entry_layout(S, ty, &voff, &stride);
		if (count == 0) {
			if (r)
				return fail(v, MCPG_VERR_LIST_BOUNDS, fo,
					    "empty %s with DATA offset %" PRIu32,
					    ty->name, r);
			return 0;
		}
		bytes = (uint64_t)count * stride;
		if (r == 0 || r % MCPG_IMG_ALIGN || r > n || n - r < bytes)
			return fail(v, MCPG_VERR_LIST_BOUNDS, fo,
				    "%" PRIu32 " x %" PRIu32 " bytes at DATA offset %"
				    PRIu32 " of %" PRIu32, count, stride, r, n);
		if (charge(v, bytes, r) < 0)
			return -1;
		if (depth + 1 > MCPG_VERIFY_MAX_DEPTH)
			return fail(v, MCPG_VERR_DEPTH, fo, "more than %d levels",
				    MCPG_VERIFY_MAX_DEPTH);
		for (uint32_t i = 0; stride && i < count; i++) {
			uint32_t e = r + i * stride;
			int rc;

			path_push(v, NULL, i);
			if (ty->kind == MCPG_K_MAP && !is_pool_ref(v, mcpg_le32(v->img->data + e))) {
				rc = fail(v, MCPG_VERR_STRREF, data_file_off(v, e),
					  "map key 0x%" PRIx32, mcpg_le32(v->img->data + e));
			} else {
				rc = verify_slot(v, ty->elem, e + voff, depth + 1);
			}
			if (rc < 0)
				return -1;
			path_pop(v);
		}
		return 0;
	}
	}
	/* The schema tables are compiled in and trusted; this is a bug. */
	return fail(v, MCPG_VERR_RECORD_REF, fo, "schema type %u has unknown kind %u",
		    t, ty->kind);
}

static int
verify_struct(struct vctx *v, uint16_t t, uint32_t at, int depth)
{
	const struct mcpg_schema *S = v->schema;
	const struct mcpg_type *ty = &S->types[t];

	if (depth > MCPG_VERIFY_MAX_DEPTH)
		return fail(v, MCPG_VERR_DEPTH, data_file_off(v, at),
			    "more than %d levels", MCPG_VERIFY_MAX_DEPTH);
	if (ty->set_words) {
		uint64_t mask = mcpg_le64(v->img->data + at), allowed = 0;

		for (uint32_t i = ty->first; i < (uint32_t)ty->first + ty->count; i++)
			if (S->fields[i].set_bit >= 0 && S->fields[i].set_bit < 64)
				allowed |= (uint64_t)1 << S->fields[i].set_bit;
		if (mask & ~allowed)
			return fail(v, MCPG_VERR_SET_MASK, data_file_off(v, at),
				    "%s mask 0x%016" PRIx64 ", allowed 0x%016" PRIx64,
				    ty->name, mask, allowed);
	}
	for (uint32_t i = ty->first; i < (uint32_t)ty->first + ty->count; i++) {
		const struct mcpg_field *f = &S->fields[i];

		path_push(v, f->name, 0);
		if (verify_slot(v, f->type, at + f->offset, depth) < 0)
			return -1;
		path_pop(v);
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * The record walk's fast path
 *
 * verify_struct() interprets the descriptor tables one slot at a time and
 * keeps the path of field names its messages need: a call, a switch and a
 * path entry per slot, integers included, and a loop over a record's
 * fields to build its allowed set mask, at every record.  On a
 * 10,000-tool image that was most of the structural check.
 *
 * The fast path first compiles each struct type into a flat list of checks
 * ("ops"): an inline struct's checks folded into its parent's, integers
 * left out (any bits are valid), the set mask computed once.  A list or
 * map type gets the ops of one entry.  Running them keeps no path and only
 * answers yes or no; on no, check_data() runs verify_struct() over the same
 * bytes to find and describe the fault.  Both charge the same work budget
 * and apply the same checks at the same depths, so they agree on every
 * image; mcpg_image_verify_crosscheck makes verify() run both and abort if
 * they do not (u-image and fuzz_verify set it).
 */

int mcpg_image_verify_crosscheck;

enum fop_code {
	FOP_BOOL,  /* u8 0 or 1 */
	FOP_STR,   /* strref: 0, a pool entry or an IPOL index */
	FOP_KEY,   /* map key: a pool entry, never 0 */
	FOP_TMPL,  /* 0 or 1 + index into TMPL */
	FOP_EXPR,  /* 0 or 1 + index into EXPR */
	FOP_ENUM,  /* u8 below arg */
	FOP_MASK,  /* u64 set mask within mask */
	FOP_REF,   /* optional struct: 0 or a record of type arg */
	FOP_UNION, /* union of type arg */
	FOP_LIST,  /* list or map of type arg */
};

struct fop {
	uint32_t off;  /* from the record (or entry) start */
	uint8_t code;  /* enum fop_code */
	uint8_t level; /* inline structs between the record and this slot */
	uint16_t arg;  /* see enum fop_code */
	uint64_t mask; /* FOP_MASK: the bits allowed; FOP_LIST: the entry stride */
};

struct fplan {
	uint32_t first, n; /* ops[first .. first + n) */
	uint8_t levels;    /* deepest inline struct below the record */
	uint8_t ok;        /* compiled; 0: the fast path gives up on this type */
};

struct fast {
	const struct mcpg_schema *S;
	struct fplan *plans; /* by type index: structs, lists and maps */
	struct fop *ops;
	uint32_t nops, cap;
};

static int
fop_add(struct fast *F, uint32_t off, uint8_t code, int level, uint16_t arg, uint64_t mask)
{
	if (F->nops == F->cap) {
		uint32_t cap = F->cap ? 2 * F->cap : 256;
		struct fop *ops = cap < (1u << 20) ? realloc(F->ops, cap * sizeof(*ops)) : NULL;

		if (!ops)
			return -1;
		F->ops = ops;
		F->cap = cap;
	}
	F->ops[F->nops++] = (struct fop){ off, code, (uint8_t)level, arg, mask };
	return 0;
}

static int fplan_struct(struct fast *F, uint16_t t, uint32_t base, int level, uint8_t *levels);

/* The ops of a slot of type t at `off`, `level` inline structs deep. */
static int
fplan_slot(struct fast *F, uint16_t t, uint32_t off, int level, uint8_t *levels)
{
	const struct mcpg_type *ty = &F->S->types[t];

	switch (ty->kind) {
	case MCPG_K_BOOL:
		return fop_add(F, off, FOP_BOOL, level, 0, 0);
	case MCPG_K_INT:
	case MCPG_K_UINT:
		return 0;
	case MCPG_K_STRING:
	case MCPG_K_JSON:
		return fop_add(F, off, FOP_STR, level, 0, 0);
	case MCPG_K_TEMPLATE:
		return fop_add(F, off, FOP_TMPL, level, 0, 0);
	case MCPG_K_EXPR:
		return fop_add(F, off, FOP_EXPR, level, 0, 0);
	case MCPG_K_ENUM:
		return fop_add(F, off, FOP_ENUM, level, ty->count, 0);
	case MCPG_K_STRUCT:
		return fplan_struct(F, t, off, level + 1, levels);
	case MCPG_K_OPTIONAL:
		if (F->S->types[ty->elem].kind != MCPG_K_STRUCT)
			return fplan_slot(F, ty->elem, off, level, levels);
		return fop_add(F, off, FOP_REF, level, ty->elem, 0);
	case MCPG_K_UNION:
		return fop_add(F, off, FOP_UNION, level, t, 0);
	case MCPG_K_LIST:
	case MCPG_K_MAP: {
		uint32_t voff, stride;

		entry_layout(F->S, ty, &voff, &stride);
		return fop_add(F, off, FOP_LIST, level, t, stride);
	}
	}
	return -1; /* verify_slot() names the unknown kind */
}

/* The ops of struct type t's record at `base`, `level` inline structs deep. */
static int
fplan_struct(struct fast *F, uint16_t t, uint32_t base, int level, uint8_t *levels)
{
	const struct mcpg_schema *S = F->S;
	const struct mcpg_type *ty = &S->types[t];

	if (level > MCPG_VERIFY_MAX_DEPTH)
		return -1;
	if (level > *levels)
		*levels = (uint8_t)level;
	if (ty->set_words) {
		uint64_t allowed = 0;

		for (uint32_t i = ty->first; i < (uint32_t)ty->first + ty->count; i++)
			if (S->fields[i].set_bit >= 0 && S->fields[i].set_bit < 64)
				allowed |= (uint64_t)1 << S->fields[i].set_bit;
		if (fop_add(F, base, FOP_MASK, level, 0, allowed) < 0)
			return -1;
	}
	for (uint32_t i = ty->first; i < (uint32_t)ty->first + ty->count; i++)
		if (fplan_slot(F, S->fields[i].type, base + S->fields[i].offset, level, levels) < 0)
			return -1;
	return 0;
}

static void
fast_free(struct fast *F)
{
	free(F->plans);
	free(F->ops);
}

/* Compile every struct, list and map type of the schema.  0 or -1. */
static int
fast_init(struct fast *F, const struct mcpg_schema *S)
{
	memset(F, 0, sizeof(*F));
	F->S = S;
	F->plans = calloc(S->ntypes ? S->ntypes : 1, sizeof(*F->plans));
	if (!F->plans)
		return -1;
	for (uint32_t t = 0; t < S->ntypes; t++) {
		const struct mcpg_type *ty = &S->types[t];
		struct fplan *p = &F->plans[t];
		uint32_t voff, stride;
		int rc;

		p->first = F->nops;
		if (ty->kind == MCPG_K_STRUCT) {
			rc = fplan_struct(F, (uint16_t)t, 0, 0, &p->levels);
		} else if (ty->kind == MCPG_K_LIST || ty->kind == MCPG_K_MAP) {
			entry_layout(S, ty, &voff, &stride);
			rc = ty->kind == MCPG_K_MAP ? fop_add(F, 0, FOP_KEY, 0, 0, 0) : 0;
			if (rc == 0)
				rc = fplan_slot(F, ty->elem, voff, 0, &p->levels);
		} else {
			continue;
		}
		if (rc < 0) {
			F->nops = p->first; /* this type stays !ok */
			p->levels = 0;
			continue;
		}
		p->n = F->nops - p->first;
		p->ok = 1;
	}
	return 0;
}

static int
fast_charge(struct vctx *v, uint64_t bytes)
{
	bytes = (bytes + 7) & ~(uint64_t)7;
	if (bytes > v->budget)
		return -1;
	v->budget -= bytes;
	return 0;
}

static int fast_run(struct vctx *v, const struct fast *F, uint16_t t, uint32_t at, int depth);

/* An out-of-line record of struct type t at `ref` (not 0), as verify_ref(). */
static int
fast_ref(struct vctx *v, const struct fast *F, uint16_t t, uint32_t ref, int depth)
{
	uint32_t size = F->S->types[t].size, n = v->img->data_len;

	if (ref % MCPG_IMG_ALIGN || ref > n || n - ref < size || fast_charge(v, size) < 0)
		return -1;
	return fast_run(v, F, t, ref, depth);
}

/*
 * Run type t's ops on the record or entry at DATA offset `at`, the record
 * being at `depth` as verify_struct() counts it (an entry's slot at the
 * depth verify_slot() gets).  0 when every check passes, else -1.
 */
static int
fast_run(struct vctx *v, const struct fast *F, uint16_t t, uint32_t at, int depth)
{
	const struct mcpg_schema *S = F->S;
	const struct fplan *pl = &F->plans[t];
	const unsigned char *data = v->img->data;

	if (!pl->ok || depth + pl->levels > MCPG_VERIFY_MAX_DEPTH)
		return -1;
	for (uint32_t i = 0; i < pl->n; i++) {
		const struct fop *op = &F->ops[pl->first + i];
		const unsigned char *p = data + at + op->off;
		int d = depth + op->level; /* the depth verify_slot() sees */
		uint32_t r = 0;

		if (op->code != FOP_BOOL && op->code != FOP_ENUM)
			r = mcpg_le32(p);
		switch (op->code) {
		case FOP_BOOL:
			if (p[0] > 1)
				return -1;
			break;
		case FOP_STR:
			if (!is_strref(v, r))
				return -1;
			break;
		case FOP_KEY:
			if (!is_pool_ref(v, r))
				return -1;
			break;
		case FOP_TMPL:
			if (r > v->img->tmpl_nr)
				return -1;
			break;
		case FOP_EXPR:
			if (r > v->img->expr_nr)
				return -1;
			break;
		case FOP_ENUM:
			if (p[0] >= op->arg)
				return -1;
			break;
		case FOP_MASK:
			if (mcpg_le64(p) & ~op->mask)
				return -1;
			break;
		case FOP_REF:
			if (r && fast_ref(v, F, op->arg, r, d + 1) < 0)
				return -1;
			break;
		case FOP_UNION: {
			const struct mcpg_type *ty = &S->types[op->arg];
			const struct mcpg_variant *var;
			uint32_t tag = r;

			r = mcpg_le32(p + 4);
			if (tag > ty->count)
				return -1;
			if (tag == 0) {
				if (r)
					return -1;
				break;
			}
			var = &S->variants[ty->first + tag - 1];
			if (!var->type ? r != 0 : !r || fast_ref(v, F, var->type, r, d + 1) < 0)
				return -1;
			break;
		}
		case FOP_LIST: {
			uint32_t count = mcpg_le32(p + 4), n = v->img->data_len;
			uint32_t stride = (uint32_t)op->mask;
			uint64_t bytes;

			if (count == 0) {
				if (r)
					return -1;
				break;
			}
			bytes = (uint64_t)count * stride;
			if (r == 0 || r % MCPG_IMG_ALIGN || r > n || n - r < bytes ||
			    fast_charge(v, bytes) < 0 || d + 1 > MCPG_VERIFY_MAX_DEPTH)
				return -1;
			for (uint32_t k = 0; stride && k < count; k++)
				if (fast_run(v, F, op->arg, r + k * stride, d + 1) < 0)
					return -1;
			break;
		}
		default:
			return -1;
		}
	}
	return 0;
}

/* The whole record walk from the root: 0 when the image passes it. */
static int
fast_walk(struct vctx *v)
{
	struct fast F;
	int rc = -1;

	if (fast_init(&F, v->schema) == 0)
		rc = fast_run(v, &F, v->schema->root, MCPG_IMG_ROOT_REF, 0);
	fast_free(&F);
	return rc;
}

static int
check_data(struct vctx *v)
{
	const struct mcpg_type *root = &v->schema->types[v->schema->root];
	uint32_t n = v->img->data_len;
	uint64_t at;

	if (n < MCPG_IMG_ROOT_REF || n % MCPG_IMG_ALIGN)
		return fail(v, MCPG_VERR_SECTION_SIZE, v->data_off,
			    "DATA is %" PRIu32 " bytes, not a multiple of 8 above 0", n);
	at = nonzero_at(v->img->data, 0, MCPG_IMG_ROOT_REF);
	if (at != UINT64_MAX)
		return fail0(v, MCPG_VERR_DATA_HEAD, v->data_off + at);
	if (root->kind != MCPG_K_STRUCT || n - MCPG_IMG_ROOT_REF < root->size)
		return fail(v, MCPG_VERR_RECORD_REF, v->data_off,
			    "root record (%" PRIu32 " bytes) runs past DATA (%"
			    PRIu32 " bytes)", root->size, n);
	v->budget = n - MCPG_IMG_ROOT_REF;
	if (charge(v, root->size, MCPG_IMG_ROOT_REF) < 0)
		return -1;
	{
		uint64_t budget = v->budget;
		int fast = fast_walk(v), slow;

		if (fast == 0 && !mcpg_image_verify_crosscheck)
			return 0;
		/* The slow walk finds and describes what the fast one refused. */
		v->budget = budget;
		slow = verify_struct(v, v->schema->root, MCPG_IMG_ROOT_REF, 0);
		if (mcpg_image_verify_crosscheck && (fast < 0) != (slow < 0)) {
			fprintf(stderr, "mcpg_image_verify: the fast record walk says %d, "
				"the slow one %d\n", fast, slow);
			abort();
		}
		return slow;
	}
}

static void
vctx_init(struct vctx *v, struct mcpg_image *img, const unsigned char *buf, size_t len,
	  const struct mcpg_schema *schema, const unsigned char *hashed,
	  struct mcpg_verify_error *err)
{
	memset(img, 0, sizeof(*img));
	memset(v, 0, sizeof(*v));
	v->buf = buf;
	v->len = len;
	v->schema = schema;
	v->err = err;
	v->img = img;
	v->hashed = hashed;
	if (err)
		memset(err, 0, sizeof(*err));
}

/* The checks before the digest: alignment, header, section table. */
static int
verify_head(struct vctx *v)
{
	uint64_t toff = 0;
	uint32_t nsec = 0;

	if ((uintptr_t)v->buf % MCPG_IMG_ALIGN)
		return fail0(v, MCPG_VERR_BUF_ALIGN, UINT64_MAX);
	if (check_header(v, &nsec, &toff) < 0 || check_table(v, nsec, toff) < 0)
		return -1;
	return 0;
}

/* The checks after it: strings, tables, records. */
static int
verify_body(struct vctx *v)
{
	return check_strs(v) < 0 || check_tables(v) < 0 || check_data(v) < 0 ? -1 : 0;
}

/* Point the image at the bytes: its accessors are safe from here on. */
static void
vctx_bind(struct vctx *v)
{
	v->img->base = v->buf;
	v->img->size = v->len;
	v->img->schema = v->schema;
}

/* Finish a verification: the image is v->img when rc is 0, else zeroed. */
static int
vctx_done(struct vctx *v, int rc)
{
	free(v->strbits);
	free(v->seg_bad);
	v->strbits = NULL;
	v->seg_bad = NULL;
	if (rc == 0)
		vctx_bind(v);
	else
		memset(v->img, 0, sizeof(*v->img));
	return rc;
}

static int
verify(struct mcpg_image *img, const unsigned char *buf, size_t len,
       const struct mcpg_schema *schema, const unsigned char *hashed,
       struct mcpg_verify_error *err)
{
	struct vctx v;

	vctx_init(&v, img, buf, len, schema, hashed, err);
	return vctx_done(&v, verify_head(&v) < 0 || check_digest(&v) < 0 ||
				     verify_body(&v) < 0 ? -1 : 0);
}

int
mcpg_image_verify(struct mcpg_image *img, const unsigned char *buf, size_t len,
		  const struct mcpg_schema *schema, struct mcpg_verify_error *err)
{
	return verify(img, buf, len, schema, NULL, err);
}

int
mcpg_image_verify_hashed(struct mcpg_image *img, const unsigned char *buf, size_t len,
			 const struct mcpg_schema *schema, const unsigned char digest[32],
			 struct mcpg_verify_error *err)
{
	return verify(img, buf, len, schema, digest, err);
}

static int
io_fail(struct mcpg_verify_error *err, const char *what, int errnum)
{
	if (err) {
		memset(err, 0, sizeof(*err));
		err->code = MCPG_VERR_IO;
		snprintf(err->msg, sizeof(err->msg), "%s: %s", what, strerror(errnum));
	}
	return -1;
}

/* Open and map `path` read-only.  0, or -1 with err filled. */
static int
map_file(const char *path, const unsigned char **buf, size_t *len,
	 struct mcpg_verify_error *err)
{
	struct stat st;
	void *map;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return io_fail(err, "cannot open", errno);
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return io_fail(err, "cannot stat", e);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return io_fail(err, "cannot map", S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
	}
	if (st.st_size < MCPG_IMG_HEADER_SIZE) {
		/* Say so without mapping: mmap refuses 0 bytes. */
		close(fd);
		if (err) {
			memset(err, 0, sizeof(*err));
			err->code = MCPG_VERR_TOO_SMALL;
			snprintf(err->msg, sizeof(err->msg), "%s: %lld bytes, the "
				 "header alone is %d", code_text[MCPG_VERR_TOO_SMALL],
				 (long long)st.st_size, MCPG_IMG_HEADER_SIZE);
		}
		return -1;
	}
	/* MAP_POPULATE: verify reads every byte (SHA-256) anyway; one call
	 * maps the whole file instead of a page fault every few pages. */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (map == MAP_FAILED) {
		int e = errno;

		close(fd);
		return io_fail(err, "cannot map", e);
	}
	close(fd);
	*buf = map;
	*len = (size_t)st.st_size;
	return 0;
}

/*
 * Images this big are hashed on the opening thread while a second one
 * checks the rest and runs the caller's preparation.  The hash (about
 * 0.6 ms per MiB with SHA-NI) is the longer of the two, so it stays on the
 * thread that is already running: a new thread can take a millisecond to
 * be scheduled on a virtual machine whose other CPU is idle, and only the
 * shorter half can afford to wait for that.
 */
#define PARALLEL_DIGEST_MIN (512 * 1024)

struct body_job {
	struct vctx v;
	struct mcpg_verify_error err;
	int (*prepare)(void *ctx);
	void *ctx;
	int body_rc, prep_rc;
	atomic_int done;
};

static void
body_run(struct body_job *j)
{
	j->body_rc = verify_body(&j->v);
	if (j->body_rc == 0 && j->prepare) {
		/* Sound: the accessors are safe; the digest may still be open. */
		vctx_bind(&j->v);
		j->prep_rc = j->prepare(j->ctx);
	}
	atomic_store_explicit(&j->done, 1, memory_order_release);
}

static void *
body_thread(void *arg)
{
	body_run(arg);
	return NULL;
}

/* Wait for the second thread, which should be about done: spin, yielding,
 * rather than sleep in pthread_join and pay a wake-up across CPUs. */
static void
body_wait(struct body_job *j, pthread_t th)
{
	int64_t spins = 0;

	while (!atomic_load_explicit(&j->done, memory_order_acquire) && spins++ < 20000)
		sched_yield();
	pthread_join(th, NULL);
}

/*
 * Start the second thread on another CPU than this one when there is one:
 * left to itself, the scheduler tends to start a new thread on its
 * parent's CPU, where the two then take turns for a millisecond or more
 * before one of them is moved to the idle CPU.
 */
static int
start_body(struct body_job *j, pthread_t *th)
{
	pthread_attr_t attr;
	cpu_set_t cpus;
	int self = sched_getcpu(), rc;

	if (pthread_attr_init(&attr))
		return -1;
	if (self >= 0 && self < CPU_SETSIZE &&
	    sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_ISSET(self, &cpus)) {
		CPU_CLR(self, &cpus);
		if (CPU_COUNT(&cpus) > 0)
			pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	}
	rc = pthread_create(th, &attr, body_thread, j);
	pthread_attr_destroy(&attr);
	return rc ? -1 : 0;
}

int
mcpg_image_open_prepared(struct mcpg_image *img, const char *path,
			 const struct mcpg_schema *schema, int (*prepare)(void *ctx),
			 void *ctx, struct mcpg_verify_error *err)
{
	const unsigned char *buf;
	unsigned char digest[32];
	struct body_job *j;
	pthread_t th;
	size_t len;
	int hashed, rc;

	memset(img, 0, sizeof(*img));
	if (map_file(path, &buf, &len, err) < 0)
		return -1;
	j = calloc(1, sizeof(*j));
	if (!j) {
		munmap((void *)(uintptr_t)buf, len);
		return io_fail(err, "cannot verify", ENOMEM);
	}
	j->prepare = prepare;
	j->ctx = ctx;
	vctx_init(&j->v, img, buf, len, schema, NULL, &j->err);
	if (verify_head(&j->v) < 0) {
		rc = -1;
		goto out;
	}
	if (len >= PARALLEL_DIGEST_MIN && start_body(j, &th) == 0) {
		hashed = mcpg_image_digest(buf, len, digest) == 0;
		body_wait(j, th);
	} else {
		/* Small, or no thread: one after the other, the digest first. */
		hashed = mcpg_image_digest(buf, len, digest) == 0;
		if (hashed && memcmp(digest, buf + MCPG_HDR_DIGEST, 32) == 0)
			body_run(j);
		else
			j->body_rc = -1;
	}
	/* A wrong digest explains whatever else failed: it is the error. */
	j->v.hashed = hashed ? digest : NULL;
	j->v.npath = 0;
	if (check_digest(&j->v) < 0 || j->body_rc < 0) {
		rc = -1;
		goto out;
	}
	rc = j->prep_rc < 0 ? -2 : 0;
out:
	if (rc == -1 && err)
		*err = j->err;
	if (vctx_done(&j->v, rc == 0 ? 0 : -1) < 0)
		munmap((void *)(uintptr_t)buf, len);
	else
		img->is_mapped = 1;
	free(j);
	return rc;
}

int
mcpg_image_open(struct mcpg_image *img, const char *path,
		const struct mcpg_schema *schema, struct mcpg_verify_error *err)
{
	return mcpg_image_open_prepared(img, path, schema, NULL, NULL, err);
}

void
mcpg_image_close(struct mcpg_image *img)
{
	if (img->is_mapped && img->base)
		munmap((void *)(uintptr_t)img->base, img->size);
	memset(img, 0, sizeof(*img));
}
