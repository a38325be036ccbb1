/*
 * schema_desc.h - the descriptor tables generated from schema/mcpg.schema.
 *
 * `mcpgc gen` writes one instance of these tables into
 * generated/mcpg_schema.c.  Generic code walks them: the image verifier
 * (runtime/image.c), and in mcpgc the validator, the lowering to image
 * records, `dump`, `explain` and the JSON Schema / man page emitters' tests.
 * One handler per slot kind, as nginx and Redis do with their directive
 * tables; only rules that span fields are written by hand (compiler/rules.c).
 *
 * Every type expression in the schema has one entry in mcpg_types[]: named
 * structs, unions and enums, the primitives, and each distinct list, map and
 * optional wrapper.  Fields, enum values and union variants are stored in
 * flat arrays and referenced by (first index, count).
 */
#ifndef MCPG_SCHEMA_DESC_H
#define MCPG_SCHEMA_DESC_H

#include <stdint.h>

/* Kinds of type.  The order is part of the schema hash. */
enum mcpg_kind {
	MCPG_K_BOOL = 1,
	MCPG_K_INT,      /* i64 */
	MCPG_K_UINT,     /* u64 */
	MCPG_K_STRING,   /* u32 strref */
	MCPG_K_JSON,     /* u32 strref to compact JSON text */
	MCPG_K_TEMPLATE, /* u32, 1 + index into TMPL */
	MCPG_K_EXPR,     /* u32, 1 + index into EXPR */
	MCPG_K_ENUM,     /* u8 */
	MCPG_K_STRUCT,   /* inline record */
	MCPG_K_UNION,    /* u32 tag, u32 ref */
	MCPG_K_LIST,     /* u32 ref, u32 count */
	MCPG_K_MAP,      /* u32 ref, u32 count; entries u32 key + value */
	MCPG_K_OPTIONAL, /* of a struct: u32 ref; of a scalar: the scalar + a set bit */
};

/* Field flags. */
enum mcpg_field_flags {
	MCPG_F_REQUIRED = 1 << 0,   /* must be set by some layer */
	MCPG_F_SENSITIVE = 1 << 1,  /* never printed: dumps and messages redact it */
	MCPG_F_RESTART = 1 << 2,    /* a reload reports a change instead of applying it */
	MCPG_F_DEPRECATED = 1 << 3, /* accepted with a warning (see deprecated text) */
	MCPG_F_LITERAL = 1 << 4,    /* ${env.*} is not allowed in this string */
	MCPG_F_NONEMPTY = 1 << 5,   /* strings (each, in lists): not blank after trimming */
	MCPG_F_UNIQUE = 1 << 6,     /* list items unique (by unique_field when set) */
	MCPG_F_HAS_RANGE = 1 << 7,  /* min/max apply to the value (ints) or length (strings) */
	MCPG_F_HAS_ITEMS = 1 << 8,  /* items_min/items_max apply to the list or map */
	MCPG_F_HAS_DEFAULT = 1 << 9,
};

/* String formats checked by compiler and runtime (runtime/format.c). */
enum mcpg_format {
	MCPG_FMT_NONE = 0,
	MCPG_FMT_SOCKET_ADDR, /* host:port or [v6]:port with a numeric port */
	MCPG_FMT_URL,         /* scheme://rest, scheme from `schemes` when given */
	MCPG_FMT_ABS_PATH,    /* begins with '/' (an HTTP route) */
	MCPG_FMT_FILE_PATH,   /* a file system path: non-empty, no NUL */
	MCPG_FMT_CIDR,        /* IPv4 or IPv6 address with an optional /prefix */
	MCPG_FMT_HOST,        /* a host name or address */
	MCPG_FMT__COUNT
};

/* Roots a request-time template or an expression may refer to. */
enum mcpg_roots {
	MCPG_ROOT_ENV = 1 << 0,
	MCPG_ROOT_ARGUMENTS = 1 << 1,
	MCPG_ROOT_IDENTITY = 1 << 2,
};

struct mcpg_type {
	const char *name;   /* "server", "[string]", "{string}", "tls?" */
	uint8_t kind;       /* enum mcpg_kind */
	uint8_t align;      /* slot alignment: 1, 4 or 8 */
	uint16_t first;     /* struct: fields; enum: values; union: variants */
	uint16_t count;
	uint16_t elem;      /* list, map, optional: the element type; else 0 */
	uint32_t size;      /* slot size in bytes (struct: record size) */
	uint16_t set_words; /* struct: 1 when the record starts with a set mask */
	const char *doc;
};

struct mcpg_field {
	const char *name;        /* the YAML key */
	uint16_t type;           /* index into mcpg_types */
	uint16_t flags;          /* enum mcpg_field_flags */
	uint32_t offset;         /* byte offset in the record */
	int16_t set_bit;         /* optional scalar: bit in the record's set mask; else -1 */
	uint8_t format;          /* enum mcpg_format */
	uint8_t roots;           /* template/expr: enum mcpg_roots allowed */
	int64_t min, max;        /* MCPG_F_HAS_RANGE */
	uint32_t items_min, items_max; /* MCPG_F_HAS_ITEMS; items_max 0 = no bound */
	const char *pattern;     /* POSIX extended regex, anchored by the author, or NULL */
	const char *schemes;     /* URL schemes, space-separated, or NULL for any */
	const char *unique_field; /* MCPG_F_UNIQUE on a list of structs: key field */
	const char *dflt;        /* default as compact JSON text, or NULL */
	const char *deprecated;  /* MCPG_F_DEPRECATED: what to use instead */
	const char *doc;
	uint16_t line;           /* schema line, for generated diagnostics */
};

struct mcpg_enum_value {
	const char *name;  /* C identifier suffix */
	const char *text;  /* the YAML spelling */
	const char *doc;
};

struct mcpg_variant {
	const char *name;  /* C identifier suffix */
	const char *text;  /* the YAML spelling of the tag */
	uint16_t type;     /* struct type with the variant's fields, or 0 for none */
	const char *doc;
};

struct mcpg_union_info {
	uint16_t type;         /* the union type */
	const char *tag_key;   /* the key that selects the variant, e.g. "kind" */
	const char *nest_key;  /* NULL: variant keys sit beside the tag; else the
	                          key of the mapping that holds them ("config") */
};

struct mcpg_rule {
	const char *name;
	const char *doc;
};

struct mcpg_schema {
	const struct mcpg_type *types;
	uint32_t ntypes;
	const struct mcpg_field *fields;
	uint32_t nfields;
	const struct mcpg_enum_value *values;
	uint32_t nvalues;
	const struct mcpg_variant *variants;
	uint32_t nvariants;
	const struct mcpg_union_info *unions; /* one per union type, by type index */
	uint32_t nunions;
	const struct mcpg_rule *rules;
	uint32_t nrules;
	uint16_t root;        /* type index of the root struct */
	uint64_t hash;        /* MCPG_SCHEMA_HASH */
	const char *hash_hex; /* full SHA-256 of the canonical schema */
};

/* The schema mcpg and mcpgc were built with (generated/mcpg_schema.c). */
extern const struct mcpg_schema mcpg_schema;

/* Union info for a union type index, or NULL. */
static inline const struct mcpg_union_info *
mcpg_schema_union(const struct mcpg_schema *s, uint16_t type)
{
	for (uint32_t i = 0; i < s->nunions; i++)
		if (s->unions[i].type == type)
			return &s->unions[i];
	return 0;
}

#endif /* MCPG_SCHEMA_DESC_H */
