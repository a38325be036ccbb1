/*
 * node.h - the config tree mcpgc works on.
 *
 * yaml.c builds it from one YAML file (one layer), merge.c folds the
 * layers into one tree, and the validator walks the result.  It does not
 * depend on libfyaml: the YAML document is gone once a file is loaded, and
 * everything here lives in the arena (arena.h), so there is no free.
 *
 * Every node carries its provenance: the file:line:col of its value, the
 * layer that set it and, after a merge, the node it replaced (`overrode`,
 * a chain back through the layers, for `mcpgc explain`).
 *
 * Trees may share subtrees: an alias (`*name`) is a shallow copy of the
 * anchored node that keeps the alias's own location, and its children are
 * the anchored node's children.  Treat nodes as read-only once built.
 */
#ifndef MCC_NODE_H
#define MCC_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

enum mcc_node_kind {
	MCC_N_NULL,   /* plain null, Null, NULL, ~ or nothing; `!!null` */
	MCC_N_SCALAR, /* everything else that is not a collection */
	MCC_N_SEQ,
	MCC_N_MAP,
};

/* How a scalar was written; only MCC_STYLE_PLAIN scalars get typed. */
enum mcc_scalar_style {
	MCC_STYLE_PLAIN,
	MCC_STYLE_SINGLE_QUOTED,
	MCC_STYLE_DOUBLE_QUOTED,
	MCC_STYLE_LITERAL,        /* | */
	MCC_STYLE_FOLDED,         /* > */
};

/*
 * What a scalar means, by the YAML 1.2 core schema, resolved once by the
 * loader.  A plain scalar is typed by its text:
 *
 *   MCC_T_NULL   null Null NULL ~ and the empty scalar
 *   MCC_T_BOOL   true True TRUE false False FALSE
 *   MCC_T_INT    [-+]?[0-9]+  0o[0-7]+  0x[0-9a-fA-F]+
 *   MCC_T_FLOAT  [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
 *                [-+]?(\.inf|\.Inf|\.INF)  \.nan|\.NaN|\.NAN
 *   MCC_T_STR    anything else
 *
 * Quoted, literal and folded scalars are always MCC_T_STR: "8080" is a
 * string, 8080 an integer.  The tags !!str and ! force a string; !!int,
 * !!float, !!bool and !!null force that type and must match its form (the
 * loader reports an error otherwise).  Other tags are errors.  `yes`, `no`,
 * `on`, `off` are strings (YAML 1.1 booleans are not honoured).
 */
enum mcc_scalar_type {
	MCC_T_STR,
	MCC_T_INT,
	MCC_T_FLOAT,
	MCC_T_BOOL,
	MCC_T_NULL,
};

struct mcc_node;

/* One entry of a mapping: the key is always an MCC_N_SCALAR node. */
struct mcc_pair {
	struct mcc_node *key;
	struct mcc_node *value;
};

struct mcc_node {
	/*
	 * The three enums are kept in a byte each, so that a node takes 64
	 * bytes: a config with 100,000 tools has millions of nodes.
	 */
	unsigned char kind;          /* enum mcc_node_kind */
	unsigned char type;          /* enum mcc_scalar_type: MCC_N_SCALAR;
					MCC_T_NULL for MCC_N_NULL */
	unsigned char style;         /* enum mcc_scalar_style: MCC_N_SCALAR, MCC_N_NULL */
	int layer;                   /* index of the file layer that set it */
	/*
	 * Where the value is written, 1-based, columns in bytes:
	 *   scalar   its first character; for a quoted scalar the opening
	 *            quote, for a literal or folded one the | or > indicator;
	 *   empty    (`key:` with nothing after it) the key;
	 *   mapping  a block mapping: its first key; a flow one: the `{`;
	 *   sequence a block sequence: its first `-`; a flow one: the `[`;
	 *   alias    the `*` of the alias, not the anchored node.
	 * Values pulled in by a `<<` merge key keep the place where they are
	 * written (under the anchor).  An empty file's root has line 0.
	 */
	struct mcc_loc loc;
	/*
	 * Scalars and nulls: the text, NUL-terminated, `len` bytes (the loader
	 * rejects NUL bytes and invalid UTF-8).  A null keeps what was written
	 * ("~", "null", ""), so messages can quote it.  "" for collections.
	 * Equal key texts of one file share their string.
	 */
	const char *text;
	size_t len;
	/* MCC_N_SEQ: items[nr]; MCC_N_MAP: pairs[nr], in document order. */
	size_t nr;
	union {
		struct mcc_node **items;
		struct mcc_pair *pairs;
	};
	/*
	 * Set by mcc_merge() when this value replaced one from an earlier
	 * layer: that node, which may itself have overridden another.
	 */
	const struct mcc_node *overrode;
};

/* ---- Access ----------------------------------------------------------- */

/* 1 for a null node (MCC_N_NULL), else 0; NULL counts as null too. */
int mcc_node_is_null(const struct mcc_node *n);

/*
 * The value of `key` in mapping `map`, or NULL when `map` is not a mapping
 * or has no such key.  Linear in the number of keys.
 */
const struct mcc_node *mcc_node_get(const struct mcc_node *map, const char *key);
/* The same, giving the pair, so the caller also has the key's location. */
const struct mcc_pair *mcc_node_get_pair(const struct mcc_node *map, const char *key);

/*
 * Follow a path like "gateway.server.bind_address" or "mcp.tools[2].name"
 * (a leading "[0]" indexes a root sequence) from `root`.  NULL when a step
 * is missing, the path is malformed or an index is out of range.  Keys
 * containing '.' or '[' cannot be addressed.
 */
const struct mcc_node *mcc_node_at(const struct mcc_node *root, const char *path);

/*
 * Dotted key paths for messages, in the arena: mcc_path_key("gateway",
 * "server") is "gateway.server" (a NULL or empty parent gives just the
 * key), mcc_path_index("mcp.tools", 3) is "mcp.tools[3]".
 */
char *mcc_path_key(const char *parent, const char *key);
char *mcc_path_index(const char *parent, size_t index);

/* ---- Typing ----------------------------------------------------------- */

/* Return values of the mcc_scalar_as_*() functions. */
enum {
	MCC_SCALAR_OK = 0,
	MCC_SCALAR_WRONG_TYPE = -1, /* not that type (see enum mcc_scalar_type) */
	MCC_SCALAR_RANGE = -2,      /* the right type, but does not fit */
};

/* A boolean scalar; *out is 0 or 1.  *out is untouched on failure. */
int mcc_scalar_as_bool(const struct mcc_node *n, int *out);
/* An MCC_T_INT scalar that fits in int64_t (decimal, 0x hex or 0o octal). */
int mcc_scalar_as_int(const struct mcc_node *n, int64_t *out);
/* An MCC_T_INT scalar in 0..UINT64_MAX; a negative one is MCC_SCALAR_RANGE. */
int mcc_scalar_as_uint(const struct mcc_node *n, uint64_t *out);
/*
 * An MCC_T_FLOAT or MCC_T_INT scalar as a double (.inf and .nan included;
 * an integer too large for a double is MCC_SCALAR_RANGE).
 */
int mcc_scalar_as_double(const struct mcc_node *n, double *out);

/*
 * What a node holds, for messages ("expected a mapping, got a sequence"):
 * "mapping", "sequence", "string", "integer", "float", "boolean", "null".
 */
const char *mcc_node_kind_name(const struct mcc_node *n);

/* The type of the text of a plain scalar by the core schema (table above). */
enum mcc_scalar_type mcc_plain_type(const char *text, size_t len);

/* ---- JSON ------------------------------------------------------------- */

/*
 * `n` as compact JSON (no spaces, UTF-8 not escaped) in the arena, typed
 * by the core schema: integers and floats become numbers (integers beyond
 * int64_t and floats are written with the fewest digits that read back
 * the same double), booleans and nulls themselves, everything else a
 * string; .inf and .nan, which JSON cannot hold, stay strings.  Mapping
 * keys keep document order, or are sorted bytewise with `sorted_keys`.
 * NULL on a node JSON cannot represent (a string that is not UTF-8, nesting
 * deeper than MCC_NODE_MAX_DEPTH) or when `n` is NULL.
 */
char *mcc_node_to_json(const struct mcc_node *n, int sorted_keys);

#define MCC_NODE_MAX_DEPTH 256

/* ---- A string-keyed hash map ------------------------------------------ */

/*
 * A transient map from byte strings to pointers (malloc'd, not arena), for
 * duplicate checks on large mappings and lists, e.g. binding names.  Keys
 * are not copied: they must outlive the map.
 */
struct mcc_strmap {
	struct mcc_strmap_slot *slots;
	size_t nr, alloc;
};

#define MCC_STRMAP_INIT { NULL, 0, 0 }

void mcc_strmap_init(struct mcc_strmap *m);
void mcc_strmap_release(struct mcc_strmap *m);
/*
 * Add key -> val unless the key is there: returns NULL when added, else the
 * value already stored (which is kept).  `val` must not be NULL.
 */
void *mcc_strmap_put(struct mcc_strmap *m, const char *key, size_t len, void *val);
void *mcc_strmap_get(const struct mcc_strmap *m, const char *key, size_t len);

#endif /* MCC_NODE_H */
