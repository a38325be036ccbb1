/*
 * image_write.c - the image builder and the atomic writer (image_write.h).
 *
 * Each section grows in its own heap buffer while the lowering runs; strings
 * are interned through an open-addressing hash table of strrefs, so STRS
 * holds each distinct string once.  mcc_image_serialize() places the
 * sections in id order behind the header and table, and mcc_image_write()
 * publishes the bytes git-lockfile style: write PATH.tmp, fsync, verify
 * with the runtime's verifier, rename, fsync the directory.
 *
 * Nothing here depends on hash-table order or on addresses, so equal
 * inputs give equal bytes and an equal digest.
 */
#include "image_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"

struct buf {
	unsigned char *p;
	size_t len, alloc;
};

struct raw_section {
	uint32_t id, flags;
	struct buf b;
};

struct mcc_image {
	struct buf strs, data, ipol, tmpl, segs, expr, code, toks, keys;
	uint32_t *str_slots;    /* strrefs, 0 = empty slot */
	size_t str_nslots, str_used;
	struct raw_section *raw;
	size_t raw_nr;
	const char *error;      /* first input the format cannot hold */
};

static void *
xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);

	if (!q) {
		fprintf(stderr, "mcpgc: fatal: out of memory (%zu bytes)\n", size);
		abort();
	}
	return q;
}

static void
set_error(struct mcc_image *img, const char *why)
{
	if (!img->error)
		img->error = why;
}

/*
 * Room for `n` more zeroed bytes at the end of `b`; returns their offset.
 * Sections are addressed with u32 offsets, so they stop at 2 GiB.
 */
static int
buf_grow(struct mcc_image *img, struct buf *b, size_t n, size_t *off)
{
	if (img->error)
		return -1;
	if (n > MCPG_IMG_MAX_SECTION_SIZE - b->len) {
		set_error(img, "a section would pass 2 GiB");
		return -1;
	}
	if (n == 0) {
		*off = b->len;
		return 0;
	}
	if (b->len + n > b->alloc) {
		size_t a = b->alloc ? b->alloc : 256;

		while (a < b->len + n)
			a *= 2;
		b->p = xrealloc(b->p, a);
		b->alloc = a;
	}
	memset(b->p + b->len, 0, n);
	*off = b->len;
	b->len += n;
	return 0;
}

static uint32_t
buf_add(struct mcc_image *img, struct buf *b, const void *p, size_t n)
{
	size_t off;

	if (buf_grow(img, b, n, &off) < 0)
		return 0;
	if (n)
		memcpy(b->p + off, p, n);
	return (uint32_t)off;
}

struct mcc_image *
mcc_image_new(void)
{
	struct mcc_image *img = xrealloc(NULL, sizeof(*img));
	size_t off;

	memset(img, 0, sizeof(*img));
	buf_grow(img, &img->strs, 4, &off);
	buf_grow(img, &img->data, MCPG_IMG_ROOT_REF, &off);
	return img;
}

static void
buf_release(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
mcc_image_free(struct mcc_image *img)
{
	if (!img)
		return;
	buf_release(&img->strs);
	buf_release(&img->data);
	buf_release(&img->ipol);
	buf_release(&img->tmpl);
	buf_release(&img->segs);
	buf_release(&img->expr);
	buf_release(&img->code);
	buf_release(&img->toks);
	buf_release(&img->keys);
	for (size_t i = 0; i < img->raw_nr; i++)
		buf_release(&img->raw[i].b);
	free(img->raw);
	free(img->str_slots);
	free(img);
}

const char *
mcc_image_error(const struct mcc_image *img)
{
	return img->error;
}

/* ------------------------------------------------------------------------
 * Strings
 */

/* FNV-1a; any fixed function will do, only lookups depend on it. */
static uint32_t
str_hash(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15u ^ len;

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 32;
		s += 8, len -= 8;
	}
	if (len) {
		uint64_t w = 0;

		memcpy(&w, s, len);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
	}
	h ^= h >> 29;
	h *= 0xc4ceb9fe1a85ec53u;
	h ^= h >> 32;
	return (uint32_t)h;
}

static int
str_equal(const struct mcc_image *img, uint32_t ref, const char *s, size_t len)
{
	return mcpg_le32(img->strs.p + ref) == len &&
	       !memcmp(img->strs.p + ref + 4, s, len);
}

static void
str_rehash(struct mcc_image *img)
{
	size_t n = img->str_nslots ? img->str_nslots * 2 : 1024;
	uint32_t *slots = xrealloc(NULL, n * sizeof(*slots));

	memset(slots, 0, n * sizeof(*slots));
	for (size_t i = 0; i < img->str_nslots; i++) {
		uint32_t ref = img->str_slots[i];
		size_t j;

		if (!ref)
			continue;
		j = str_hash((const char *)img->strs.p + ref + 4,
			     mcpg_le32(img->strs.p + ref)) & (n - 1);
		while (slots[j])
			j = (j + 1) & (n - 1);
		slots[j] = ref;
	}
	free(img->str_slots);
	img->str_slots = slots;
	img->str_nslots = n;
}

uint32_t
mcc_image_str(struct mcc_image *img, const char *s, size_t len)
{
	size_t j, off, entry;

	if (img->error)
		return 0;
	if (memchr(s, 0, len)) {
		set_error(img, "a string holds a NUL byte");
		return 0;
	}
	if (len > MCPG_IMG_MAX_SECTION_SIZE) {
		set_error(img, "a section would pass 2 GiB");
		return 0;
	}
	if (2 * (img->str_used + 1) > img->str_nslots)
		str_rehash(img);
	j = str_hash(s, len) & (img->str_nslots - 1);
	for (; img->str_slots[j]; j = (j + 1) & (img->str_nslots - 1))
		if (str_equal(img, img->str_slots[j], s, len))
			return img->str_slots[j];
	entry = (4 + len + 1 + 3) & ~(size_t)3;
	if (buf_grow(img, &img->strs, entry, &off) < 0)
		return 0;
	mcpg_put_le32(img->strs.p + off, (uint32_t)len);
	memcpy(img->strs.p + off + 4, s, len);
	img->str_slots[j] = (uint32_t)off;
	img->str_used++;
	return (uint32_t)off;
}

uint32_t
mcc_image_cstr(struct mcc_image *img, const char *s)
{
	return s ? mcc_image_str(img, s, strlen(s)) : 0;
}

/* ------------------------------------------------------------------------
 * Records and tables
 */

uint32_t
mcc_image_alloc(struct mcc_image *img, size_t size)
{
	size_t off;

	if (size > MCPG_IMG_MAX_SECTION_SIZE) {
		set_error(img, "a section would pass 2 GiB");
		return 0;
	}
	/* DATA's length is always a multiple of 8, so off is 8-aligned. */
	if (buf_grow(img, &img->data, (size + 7) & ~(size_t)7, &off) < 0)
		return 0;
	return (uint32_t)off;
}

unsigned char *
mcc_image_at(struct mcc_image *img, uint32_t ref)
{
	return img->data.p + ref;
}

void
mcc_image_put8(struct mcc_image *img, uint32_t ref, uint8_t v)
{
	img->data.p[ref] = v;
}

void
mcc_image_put32(struct mcc_image *img, uint32_t ref, uint32_t v)
{
	mcpg_put_le32(img->data.p + ref, v);
}

void
mcc_image_put64(struct mcc_image *img, uint32_t ref, uint64_t v)
{
	mcpg_put_le64(img->data.p + ref, v);
}

static uint32_t
add_entry(struct mcc_image *img, struct buf *b, const void *e, size_t size)
{
	return buf_add(img, b, e, size) / (uint32_t)size;
}

/* Serialise the four u32 of an IPOL, TMPL or EXPR entry. */
static uint32_t
add_quad(struct mcc_image *img, struct buf *b, uint32_t a, uint32_t k, uint32_t c,
	 uint32_t n)
{
	unsigned char e[16];

	mcpg_put_le32(e, a);
	mcpg_put_le32(e + 4, k);
	mcpg_put_le32(e + 8, c);
	mcpg_put_le32(e + 12, n);
	return add_entry(img, b, e, sizeof(e));
}

uint32_t
mcc_image_add_seg(struct mcc_image *img, enum mcpg_seg_kind kind, uint32_t str)
{
	unsigned char e[sizeof(struct mcpg_img_seg)] = { 0 };

	e[0] = (unsigned char)kind;
	mcpg_put_le32(e + 4, str);
	return add_entry(img, &img->segs, e, sizeof(e));
}

uint32_t
mcc_image_add_ipol(struct mcc_image *img, uint32_t src, uint32_t key,
		   uint32_t seg_off, uint32_t seg_n)
{
	return add_quad(img, &img->ipol, src, key, seg_off, seg_n);
}

uint32_t
mcc_image_add_tmpl(struct mcc_image *img, uint32_t src, uint32_t key,
		   uint32_t seg_off, uint32_t seg_n)
{
	return add_quad(img, &img->tmpl, src, key, seg_off, seg_n);
}

uint32_t
mcc_image_add_expr(struct mcc_image *img, uint32_t src, uint32_t key,
		   uint32_t code_off, uint32_t code_len)
{
	return add_quad(img, &img->expr, src, key, code_off, code_len);
}

uint32_t
mcc_image_add_code(struct mcc_image *img, const void *code, size_t len)
{
	return buf_add(img, &img->code, code, len);
}

uint32_t
mcc_image_add_tok(struct mcc_image *img, const struct mcpg_img_tok *tok)
{
	unsigned char e[MCPG_IMG_TOK_SIZE];

	/* Field by field, little-endian, so the bytes do not depend on the host. */
	memcpy(e, tok->hash, 32);
	mcpg_put_le64(e + 32, (uint64_t)tok->expires_at);
	mcpg_put_le32(e + 40, tok->id);
	mcpg_put_le32(e + 44, tok->note);
	return add_entry(img, &img->toks, e, MCPG_IMG_TOK_SIZE);
}

int
mcc_image_set_keys(struct mcc_image *img, const char *text, size_t len)
{
	if (img->keys.len || memchr(text, 0, len)) {
		set_error(img, "the key set is set twice or holds a NUL byte");
		return -1;
	}
	buf_add(img, &img->keys, text, len);
	return img->error ? -1 : 0;
}

uint32_t
mcc_image_count(const struct mcc_image *img, enum mcpg_section_id id)
{
	switch (id) {
	case MCPG_SEC_STRS:
		return (uint32_t)img->strs.len;
	case MCPG_SEC_DATA:
		return (uint32_t)img->data.len;
	case MCPG_SEC_IPOL:
		return (uint32_t)(img->ipol.len / sizeof(struct mcpg_img_ipol));
	case MCPG_SEC_TMPL:
		return (uint32_t)(img->tmpl.len / sizeof(struct mcpg_img_tmpl));
	case MCPG_SEC_SEGS:
		return (uint32_t)(img->segs.len / sizeof(struct mcpg_img_seg));
	case MCPG_SEC_EXPR:
		return (uint32_t)(img->expr.len / sizeof(struct mcpg_img_expr));
	case MCPG_SEC_CODE:
		return (uint32_t)img->code.len;
	case MCPG_SEC_TOKS:
		return (uint32_t)(img->toks.len / MCPG_IMG_TOK_SIZE);
	case MCPG_SEC_KEYS:
		return (uint32_t)img->keys.len;
	}
	return 0;
}

int
mcc_image_add_section(struct mcc_image *img, uint32_t id, uint32_t flags,
		      const void *p, size_t len)
{
	struct raw_section *r;
	size_t off;

	switch (id) {
#define X(name, known_id, desc) case known_id:
		MCPG_SECTION_LIST(X)
#undef X
		set_error(img, "a raw section reuses a known section id");
		return -1;
	}
	for (size_t i = 0; i < img->raw_nr; i++)
		if (img->raw[i].id == id) {
			set_error(img, "a raw section id is added twice");
			return -1;
		}
	if (img->raw_nr + 8 >= MCPG_IMG_MAX_SECTIONS) {
		set_error(img, "too many sections");
		return -1;
	}
	img->raw = xrealloc(img->raw, (img->raw_nr + 1) * sizeof(*img->raw));
	r = &img->raw[img->raw_nr];
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->flags = flags;
	if (buf_grow(img, &r->b, len, &off) < 0)
		return -1;
	if (len)
		memcpy(r->b.p, p, len);
	img->raw_nr++;
	return 0;
}

/* ------------------------------------------------------------------------
 * Layout and writing
 */

struct placed {
	uint32_t id, flags;
	const struct buf *b;
	uint64_t off;
};

static int
placed_cmp(const void *a, const void *b)
{
	const struct placed *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int
mcc_image_serialize(struct mcc_image *img, uint64_t schema_hash,
		    unsigned char **bufp, size_t *lenp)
{
	static const struct {
		uint32_t id;
		size_t field;
	} known[] = {
		{ MCPG_SEC_STRS, offsetof(struct mcc_image, strs) },
		{ MCPG_SEC_DATA, offsetof(struct mcc_image, data) },
		{ MCPG_SEC_IPOL, offsetof(struct mcc_image, ipol) },
		{ MCPG_SEC_TMPL, offsetof(struct mcc_image, tmpl) },
		{ MCPG_SEC_SEGS, offsetof(struct mcc_image, segs) },
		{ MCPG_SEC_EXPR, offsetof(struct mcc_image, expr) },
		{ MCPG_SEC_CODE, offsetof(struct mcc_image, code) },
		{ MCPG_SEC_TOKS, offsetof(struct mcc_image, toks) },
		{ MCPG_SEC_KEYS, offsetof(struct mcc_image, keys) },
	};
	struct placed sec[MCPG_IMG_MAX_SECTIONS];
	uint32_t n = 0;
	uint64_t at;
	unsigned char *buf, digest[32];

	*bufp = NULL;
	*lenp = 0;
	if (img->error)
		return -1;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const struct buf *b = (const struct buf *)(const void *)
			((const char *)img + known[i].field);

		/* STRS and DATA always; the others only when used. */
		if (b->len || i < 2)
			sec[n++] = (struct placed){ known[i].id, MCPG_SECF_REQUIRED, b, 0 };
	}
	for (size_t i = 0; i < img->raw_nr; i++)
		sec[n++] = (struct placed){ img->raw[i].id, img->raw[i].flags,
					    &img->raw[i].b, 0 };
	qsort(sec, n, sizeof(sec[0]), placed_cmp);

	at = MCPG_IMG_HEADER_SIZE + (uint64_t)n * MCPG_IMG_SECTION_ENTRY_SIZE;
	for (uint32_t i = 0; i < n; i++) {
		at = (at + MCPG_IMG_ALIGN - 1) & ~(uint64_t)(MCPG_IMG_ALIGN - 1);
		sec[i].off = at;
		at += sec[i].b->len;
	}
	at = (at + MCPG_IMG_ALIGN - 1) & ~(uint64_t)(MCPG_IMG_ALIGN - 1);

	buf = calloc(1, (size_t)at);
	if (!buf) {
		fprintf(stderr, "mcpgc: fatal: out of memory (%zu bytes)\n", (size_t)at);
		abort();
	}
	memcpy(buf + MCPG_HDR_MAGIC, MCPG_IMG_MAGIC, MCPG_IMG_MAGIC_LEN);
	mcpg_put_le16(buf + MCPG_HDR_MAJOR, MCPG_IMG_MAJOR);
	mcpg_put_le16(buf + MCPG_HDR_MINOR, MCPG_IMG_MINOR);
	mcpg_put_le32(buf + MCPG_HDR_HEADER_SIZE, MCPG_IMG_HEADER_SIZE);
	mcpg_put_le64(buf + MCPG_HDR_FILE_SIZE, at);
	mcpg_put_le64(buf + MCPG_HDR_SCHEMA_HASH, schema_hash);
	mcpg_put_le32(buf + MCPG_HDR_SECTION_COUNT, n);
	mcpg_put_le64(buf + MCPG_HDR_TABLE_OFFSET, MCPG_IMG_HEADER_SIZE);
	for (uint32_t i = 0; i < n; i++) {
		unsigned char *row = buf + MCPG_IMG_HEADER_SIZE +
				     (size_t)i * MCPG_IMG_SECTION_ENTRY_SIZE;

		mcpg_put_le32(row, sec[i].id);
		mcpg_put_le32(row + 4, sec[i].flags);
		mcpg_put_le64(row + 8, sec[i].off);
		mcpg_put_le64(row + 16, sec[i].b->len);
		if (sec[i].b->len)
			memcpy(buf + sec[i].off, sec[i].b->p, sec[i].b->len);
	}
	if (mcpg_image_digest(buf, (size_t)at, digest) < 0) {
		free(buf);
		fprintf(stderr, "mcpgc: fatal: out of memory (SHA-256 context)\n");
		abort();
	}
	memcpy(buf + MCPG_HDR_DIGEST, digest, sizeof(digest));
	*bufp = buf;
	*lenp = (size_t)at;
	return 0;
}

static int
write_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t k = write(fd, p, len);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* fsync the directory holding `path`, so the rename is durable. */
static int
sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir) {
		errno = ENOMEM;
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	/* Some file systems cannot fsync a directory; that is not a failure. */
	if (rc < 0 && (errno == EINVAL || errno == EROFS))
		rc = 0;
	if (rc < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

int
mcc_image_write(struct mcc_image *img, const char *path,
		const struct mcpg_schema *schema, struct mcc_diag *d,
		unsigned char digest[32])
{
	unsigned char *buf;
	size_t len;
	int rc;

	if (mcc_image_serialize(img, schema->hash, &buf, &len) < 0) {
		mcc_error(d, MCC_NOLOC, "cannot write '%s': the image cannot hold the "
			  "config: %s", path, img->error);
		return -1;
	}
	rc = mcc_image_write_buf(buf, len, path, schema, d, digest);
	free(buf);
	return rc;
}

int
mcc_image_write_buf(const unsigned char *buf, size_t len, const char *path,
		    const struct mcpg_schema *schema, struct mcc_diag *d,
		    unsigned char digest[32])
{
	struct mcpg_verify_error verr;
	struct mcpg_image check;
	size_t plen = strlen(path);
	char *tmp;
	int fd, e;

	tmp = xrealloc(NULL, plen + 5);
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", 5);

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		goto io_error;
	if (write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		errno = e;
		goto io_error_unlink;
	}
	if (close(fd) < 0)
		goto io_error_unlink;

	/* Write, then verify: what is on disk, with the runtime's verifier. */
	if (mcpg_image_open(&check, tmp, schema, &verr) < 0) {
		if (verr.code == MCPG_VERR_IO)
			mcc_error(d, MCC_NOLOC, "cannot write '%s': %s", path, verr.msg);
		else
			mcc_error(d, MCC_NOLOC, "internal error: the image for '%s' "
				  "does not verify: %s", path, verr.msg);
		unlink(tmp);
		goto fail;
	}
	if (digest)
		memcpy(digest, check.digest, 32);
	mcpg_image_close(&check);

	if (rename(tmp, path) < 0)
		goto io_error_unlink;
	if (sync_dir(path) < 0)
		goto io_error;
	free(tmp);
	return 0;

io_error_unlink:
	e = errno;
	unlink(tmp);
	errno = e;
io_error:
	mcc_error(d, MCC_NOLOC, "cannot write '%s': %s", path, strerror(errno));
fail:
	free(tmp);
	return -1;
}
