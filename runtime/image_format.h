/*
 * image_format.h - the mcpg config image, declared once.
 *
 * mcpgc writes this format (compiler/image_write.c) and mcpg maps it
 * (runtime/image.c).  Both include this header; nothing else defines the
 * layout.  man/mcpg-image.5 documents the same thing for operators, with an
 * annotated hex dump.
 *
 * All integers are little-endian and fixed width.  Every section starts on an
 * 8-byte boundary and all padding is zero, so equal inputs give equal bytes.
 *
 * FILE HEADER (offset 0, MCPG_IMG_HEADER_SIZE = 128 bytes)
 *
 *   OFFSET  SIZE  DESCRIPTION
 *        0     8  magic: 89 4d 43 50 47 0d 0a 1a  ("\x89MCPG\r\n\x1a")
 *        8     2  format major version (MCPG_IMG_MAJOR); an unknown major is refused
 *       10     2  format minor version; any minor is accepted (minors only add)
 *       12     4  header size in bytes (>= 128; the reader skips what it does not know)
 *       16     8  file size in bytes (must equal the size of the file)
 *       24     8  flags (no flag is defined; must be 0)
 *       32     8  schema hash (MCPG_SCHEMA_HASH of the schema the image was built from)
 *       40     4  section count (<= MCPG_IMG_MAX_SECTIONS)
 *       44     4  reserved, 0
 *       48     8  section table offset (8-aligned, at or after the header;
 *                 the writer puts the table right after the header and
 *                 readers of major 1 require offset == header size)
 *       56    32  SHA-256 of the whole file, computed with these 32 bytes as zero
 *       88    40  reserved, 0
 *
 * SECTION TABLE (count entries of 24 bytes, ordered by offset)
 *
 *   OFFSET  SIZE  DESCRIPTION
 *        0     4  section id (MCPG_SEC_*)
 *        4     4  flags: bit 0 = required (a reader that does not know the id
 *                 must refuse the image); other bits 0
 *        8     8  offset of the section in the file (8-aligned)
 *       16     8  size of the section in bytes
 *
 * Sections do not overlap, lie after the table, and appear in the table in
 * file order.  Unknown optional sections are skipped.  Every byte of the file
 * that is not header, table or a section is padding and must be zero; the
 * writer ends the file on an 8-byte boundary.  The writer emits STRS and
 * DATA always and the other sections only when they are not empty, in id
 * order, all flagged required.
 *
 * STRS: the string pool.  A sequence of entries, each
 *        u32 len, len bytes (no NUL among them), one NUL byte, zero padding
 *        to a 4-byte boundary.
 *   A string reference (strref) is the pool offset of an entry's len field.
 *   The pool begins with 4 zero bytes so that strref 0 means "absent".
 *   A strref with bit 31 set is not a pool offset: its low 31 bits index the
 *   IPOL table (a string holding ${env.NAME} references, resolved at boot).
 *
 * DATA: records.  The first 8 bytes are zero (record ref 0 means "absent");
 *   the root record starts at offset 8.  Record layouts are generated from the
 *   schema (generated/mcpg_config.h) and described by the descriptor tables
 *   (runtime/schema_desc.h) that the verifier walks.  Slots:
 *     bool           u8, 0 or 1
 *     enum           u8, index of the value in schema order
 *     int, uint      i64, u64
 *     string, json   u32 strref (json is compact, pre-serialised JSON text)
 *     template, expr u32: 0 = absent, else 1 + index into TMPL / EXPR
 *     struct         inline record (always present)
 *     struct?        u32 record ref into DATA (0 = absent)
 *     union          u32 tag (0 = absent, else 1 + variant index), u32 record ref
 *     list           u32 ref into DATA, u32 count; elements are slots of the
 *                    element type, stride = its size rounded to its alignment
 *     map            like list; each entry is u32 key strref then the value
 *                    slot, stride rounded to the entry alignment
 *                    (the value starts at 4 when its alignment is 1 or 4,
 *                    at 8 when it is 8; keys are pool strrefs, never 0)
 *   An empty list or map has ref 0; a non-empty one points at an 8-aligned
 *   array of count * stride bytes inside DATA.
 *   A record with optional scalar fields begins with a u64 "set" bitmask.
 *   Every record starts on an 8-byte boundary; its size is a multiple of 8.
 *   The writer never shares a record or array between two references, so the
 *   verifier can bound its work by the size of DATA.
 *
 * IPOL: interpolated strings, an array of struct mcpg_img_ipol.
 * TMPL: request-time templates, an array of struct mcpg_img_tmpl.
 * SEGS: template segments, an array of struct mcpg_img_seg.
 * EXPR: compiled allow_if expressions, an array of struct mcpg_img_expr.
 * CODE: expression bytecode, referenced by EXPR entries.
 * TOKS: API tokens (governance.access.api_tokens.file), an array of struct
 *       mcpg_img_tok sorted by digest, strictly ascending (no duplicates), so
 *       the runtime finds a token by binary search.
 * KEYS: the static JWK Set read from governance.access.jwks.keys_file, as
 *       the JSON text of the file (no NUL); the runtime parses it at load.
 *
 * In IPOL, TMPL and SEGS every strref is a pool strref (bit 31 clear); the
 * src of IPOL/TMPL/EXPR and the str of a segment are never 0.  IPOL segments
 * are MCPG_SEG_LIT or MCPG_SEG_ENV only.
 */
#ifndef MCPG_IMAGE_FORMAT_H
#define MCPG_IMAGE_FORMAT_H

#include <stdint.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mcpg maps its image in place and needs a little-endian host"
#endif

#define MCPG_IMG_MAGIC "\x89MCPG\r\n\x1a"
#define MCPG_IMG_MAGIC_LEN 8
#define MCPG_IMG_MAJOR 1
#define MCPG_IMG_MINOR 0
#define MCPG_IMG_HEADER_SIZE 128
#define MCPG_IMG_SECTION_ENTRY_SIZE 24
#define MCPG_IMG_MAX_SECTIONS 64
#define MCPG_IMG_ALIGN 8
/* Images are addressed with u32 offsets inside each section. */
#define MCPG_IMG_MAX_SECTION_SIZE 0x7fffffffu
/* A strref with this bit set indexes IPOL (see STRS above). */
#define MCPG_STRREF_IPOL 0x80000000u
/* DATA ref of the root record. */
#define MCPG_IMG_ROOT_REF 8
/* Size of one TOKS entry (struct mcpg_img_tok). */
#define MCPG_IMG_TOK_SIZE 48

/* Header field offsets (see the table above). */
#define MCPG_HDR_MAGIC 0
#define MCPG_HDR_MAJOR 8
#define MCPG_HDR_MINOR 10
#define MCPG_HDR_HEADER_SIZE 12
#define MCPG_HDR_FILE_SIZE 16
#define MCPG_HDR_FLAGS 24
#define MCPG_HDR_SCHEMA_HASH 32
#define MCPG_HDR_SECTION_COUNT 40
#define MCPG_HDR_RESERVED1 44
#define MCPG_HDR_TABLE_OFFSET 48
#define MCPG_HDR_DIGEST 56
#define MCPG_HDR_DIGEST_LEN 32
#define MCPG_HDR_RESERVED2 88

/* Section ids.  Ids are never reused. */
#define MCPG_SECTION_LIST(X)                                   \
	X(STRS, 1, "string pool")                              \
	X(DATA, 2, "records")                                  \
	X(IPOL, 3, "interpolated strings")                     \
	X(TMPL, 4, "request-time templates")                   \
	X(SEGS, 5, "template segments")                        \
	X(EXPR, 6, "allow_if expressions")                     \
	X(CODE, 7, "expression bytecode")                      \
	X(TOKS, 8, "API token hashes")                        \
	X(KEYS, 9, "static JWK Set")

enum mcpg_section_id {
#define X(name, id, desc) MCPG_SEC_##name = id,
	MCPG_SECTION_LIST(X)
#undef X
};

#define MCPG_SECF_REQUIRED (1u << 0)

/* IPOL entry: a string value that contains ${env.NAME}.  16 bytes. */
struct mcpg_img_ipol {
	uint32_t src;     /* strref: the text as written, references unresolved */
	uint32_t key;     /* strref: dotted key path, for boot errors */
	uint32_t seg_off; /* first segment, index into SEGS */
	uint32_t seg_n;   /* number of segments */
};

/* TMPL entry: a request-time template.  16 bytes. */
struct mcpg_img_tmpl {
	uint32_t src;     /* strref: the template as written */
	uint32_t key;     /* strref: dotted key path */
	uint32_t seg_off; /* index into SEGS */
	uint32_t seg_n;
};

/* Segment kinds. */
enum mcpg_seg_kind {
	MCPG_SEG_LIT = 0,      /* str is literal text */
	MCPG_SEG_ENV = 1,      /* str is an environment variable name */
	MCPG_SEG_ARG = 2,      /* str is a dotted path below "arguments" */
	MCPG_SEG_IDENTITY = 3, /* str is a dotted path below "identity" */
	MCPG_SEG__COUNT
};

/* SEGS entry.  8 bytes. */
struct mcpg_img_seg {
	uint8_t kind;   /* enum mcpg_seg_kind */
	uint8_t pad[3]; /* zero */
	uint32_t str;   /* strref */
};

/* EXPR entry: one compiled expression.  16 bytes. */
struct mcpg_img_expr {
	uint32_t src;      /* strref: the expression as written */
	uint32_t key;      /* strref: dotted key path */
	uint32_t code_off; /* byte offset into CODE */
	uint32_t code_len; /* bytes of bytecode */
};

/* TOKS entry: one API token.  48 bytes. */
struct mcpg_img_tok {
	unsigned char hash[32]; /* SHA-256 of the token text */
	int64_t expires_at;     /* Unix seconds; 0 = never */
	uint32_t id;            /* strref: the token id (the caller's subject); never 0 */
	uint32_t note;          /* strref: the annotation; 0 = none */
};

/*
 * Little-endian readers for the header and the section table.  They are only
 * used on bytes already known to be inside the file.
 */
static inline uint16_t
mcpg_le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
mcpg_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline uint64_t
mcpg_le64(const unsigned char *p)
{
	return (uint64_t)mcpg_le32(p) | ((uint64_t)mcpg_le32(p + 4) << 32);
}

static inline void
mcpg_put_le16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void
mcpg_put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void
mcpg_put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

#endif /* MCPG_IMAGE_FORMAT_H */
